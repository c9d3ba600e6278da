// What a binding is and how it starts: its manifest and exports; `init` with the metadata
// given, once per instance (bindings run in a pool, so several start side by side), then
// `ping`; and, when the run names metadata it must refuse (`--bad-metadata`), `init`
// refusing it with `invalid-argument` and a message that names it. No metadata is bad for
// every binding, so without --bad-metadata that check does not apply.
import { bindingExports } from '../../../../abi/ts/wit/binding.ts';
import { isTesseraError } from '../../../errors.ts';
import { kindOf } from '../../../sandbox/kinds/index.ts';
import { fail, noTrap, shownResult, type Check } from './harness.ts';

/** Instances started side by side, as a pool starts them. */
const POOLED = 3;

const shownPairs = (pairs: ReadonlyMap<string, string>): string => [...pairs].map(([k, v]) => `${k}=${v}`).join(' ');

export const initChecks: Check[] = [
  {
    area: 'manifest',
    name: 'kind binding, a bindings.* type, and exports binding with input, output or both',
    async run({ subject }) {
      const { manifest, optionalExports } = subject.compiled;
      const prefix = kindOf('binding')!.typePrefix;
      if (manifest.kind !== 'binding') fail(`the manifest's kind is ${JSON.stringify(manifest.kind)}, not "binding"`);
      if (!manifest.type.startsWith(prefix) || manifest.type.length === prefix.length) fail(`the manifest's type ${JSON.stringify(manifest.type)} is not ${prefix}<name>`);
      const directions = ['input', 'output'].filter((d) => optionalExports.has(d));
      if (directions.length === 0) fail('it exports neither `input` nor `output`');
      return `${manifest.type} exports binding, ${directions.join(' and ')}`;
    },
  },
  {
    area: 'init',
    name: `init accepts the metadata given on ${POOLED} instances started side by side, and each answers ping`,
    async run({ live, start }) {
      const instances = [live, ...(await Promise.all(Array.from({ length: POOLED - 1 }, () => start())))];
      for (const [i, instance] of instances.entries()) {
        const pinged = await noTrap(bindingExports((fn, args) => instance.call(fn, args)).ping(), `ping on instance ${i + 1}`);
        if (pinged.tag === 'err') fail(`ping on instance ${i + 1} of ${POOLED} answered ${shownResult(pinged)}`);
      }
    },
  },
  {
    area: 'init',
    name: 'init refuses bad metadata (--bad-metadata) with invalid-argument, naming the key or the value',
    skip: (subject) => (subject.badConfig.size > 0 ? undefined : 'no --bad-metadata given: no metadata is bad for every binding'),
    async run({ subject, start }) {
      const bad = shownPairs(subject.badConfig);
      const config = new Map([...subject.config, ...subject.badConfig]);
      try {
        await start(config);
      } catch (err) {
        const refusal = isTesseraError(err) ? err.componentError : undefined;
        if (refusal === undefined) fail(`init with ${bad} did not answer an error: ${(err as Error).message}`);
        if (refusal.tag !== 'invalid-argument') fail(`init refused ${bad} with ${refusal.tag} (${refusal.val}); a value it cannot use is invalid-argument`);
        const named = [...subject.badConfig].some(([k, v]) => refusal.val.includes(k) || (v !== '' && refusal.val.includes(v)));
        if (!named) fail(`init refused ${bad} with invalid-argument ${JSON.stringify(refusal.val)}, which names neither the key nor the value`);
        return;
      }
      fail(`init accepted ${bad}; metadata it cannot use fails init with invalid-argument`);
    },
  },
];
