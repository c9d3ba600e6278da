// The Rust scaffolds end to end, as a user runs them through the CLI: a state store made by
// `tessera component new state --lang rust`, built and dropped into a running sidecar, keeps
// its keys, ETags and TTLs when it is rebuilt with a visible change (its version, which
// /v1.0/metadata reports) and copied over the running one; a broker made by `tessera component
// new pubsub --lang rust` builds and passes `tessera component test`; an output binding made by
// `tessera component new binding --lang rust` builds, passes `tessera component test`, and
// echoes through the sandbox.
import assert from 'node:assert/strict';
import { copyFile, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { InvokeResponse } from '../../../abi/ts/binding.ts';
import { ABI_VERSION } from '../../../abi/ts/manifest.ts';
import type { Message } from '../../../abi/ts/pubsub.ts';
import type { WitResult } from '../../../abi/ts/types.ts';
import { silentLogger } from '../../../host/observability/logger.ts';
import { CompiledComponent } from '../../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../../host/sandbox/live-component.ts';
import { pollUntil, runTessera, startSidecar } from '../../support/sidecar-process.ts';
import { tempDir } from '../../support/temp-dir.ts';
import { needs } from '../../support/tools.ts';

/** A cold cargo build on a busy two-core machine. */
const BUILD_TIMEOUT_MS = 300_000;

let work: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  work = await tempDir('tessera-rust-scaffold-');
});
after(() => work?.remove());

async function tessera(args: string[], cwd: string): Promise<string> {
  const result = await runTessera(args, { cwd, timeoutMs: BUILD_TIMEOUT_MS });
  assert.equal(result.code, 0, `tessera ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

describe('the Rust scaffolds', { concurrency: true }, () => {
  test('a scaffolded state store swapped for its rebuild keeps its keys, ETags and TTLs', needs('rust'), async () => {
    await tessera(['component', 'new', 'state', '--lang', 'rust', 's'], work.path);
    const dir = join(work.path, 's');
    await tessera(['component', 'build'], dir);
    const sidecar = await startSidecar({ resources: { 'statestore.wasm': { copyOf: join(dir, 's.wasm') } } });
    try {
      const url = '/v1.0/state/statestore';
      const items = [
        { key: 'plain', value: { n: 1 } },
        { key: 'typed', value: 'text', metadata: { contentType: 'text/plain' } },
        { key: 'expiring', value: [1, 2, 3], metadata: { ttlInSeconds: '3600' } },
      ];
      assert.equal((await sidecar.fetch(url, { method: 'POST', body: JSON.stringify(items) })).status, 204);
      const read = async (key: string) => {
        const res = await sidecar.fetch(`${url}/${key}`);
        return { status: res.status, body: await res.text(), etag: res.headers.get('etag'), ttl: res.headers.get('metadata.ttlexpiretime') };
      };
      const before = await Promise.all(items.map((i) => read(i.key)));
      assert.ok(before.every((r) => r.status === 200 && r.etag !== null), JSON.stringify(before));
      assert.ok(before[2]!.ttl, 'the expiring item carries its expiry');

      const lib = join(dir, 'src', 'lib.rs');
      await writeFile(lib, (await readFile(lib, 'utf8')).replace('version: "v1"', 'version: "v2"'));
      await tessera(['component', 'build'], dir);
      const target = join(sidecar.resourcesDir, 'statestore.wasm');
      await copyFile(join(dir, 's.wasm'), `${target}.next`);
      await rename(`${target}.next`, target);
      await pollUntil(
        'the sidecar to report statestore at version v2',
        async () => {
          const metadata = (await (await sidecar.fetch('/v1.0/metadata')).json()) as { components: { name: string; version: string }[] };
          return metadata.components.find((c) => c.name === 'statestore')?.version === 'v2' ? true : undefined;
        },
        { timeoutMs: 20_000 },
      );
      assert.deepEqual(await Promise.all(items.map((i) => read(i.key))), before);
      const stale = await sidecar.fetch(url, { method: 'POST', body: JSON.stringify([{ key: 'plain', value: 2, etag: 'not-it' }]) });
      assert.equal(stale.status, 409, 'the restored ETags are still checked');
    } finally {
      await sidecar.stop();
    }
  });

  test('a scaffolded pub/sub broker builds and passes tessera component test', needs('rust'), async () => {
    await tessera(['component', 'new', 'pubsub', '--lang', 'rust', 'b'], work.path);
    const dir = join(work.path, 'b');
    await tessera(['component', 'build'], dir);
    const tested = await runTessera(['component', 'test', 'b.wasm'], { cwd: dir, timeoutMs: 60_000 });
    if (!/this kit checks state stores/.test(tested.stdout)) {
      assert.match(tested.stdout, /^PASS: \d+ passed, 0 failed/m, tested.stdout + tested.stderr);
      return;
    }
    // A kit without the pub/sub suite: publish, pull and ack through the sandbox here.
    const compiled = await CompiledComponent.compile(new Uint8Array(await readFile(join(dir, 'b.wasm'))));
    assert.equal(compiled.manifest.kind, 'pubsub');
    const live = await LiveComponent.start(compiled, { name: 'b', config: new Map([['consumerID', 'app']]), logger: silentLogger });
    try {
      const call = async <T>(fn: string, ...args: unknown[]): Promise<T> => {
        const result = (await live.call(fn, args)) as WitResult<T, unknown>;
        if (result.tag !== 'ok') assert.fail(`${fn} failed: ${JSON.stringify(result.val)}`);
        return result.val as T;
      };
      const sub = await call<bigint>('subscribe', 't', []);
      await call('publish', { topic: 't', data: Uint8Array.of(1, 2), contentType: 'a/b', metadata: [['k', 'v']] });
      await call('publish', { topic: 'other', data: Uint8Array.of(9), metadata: [] });
      const [first, ...rest] = await call<Message[]>('pull', sub, 10, 0);
      assert.deepEqual([first?.topic, first?.data, first?.contentType, first?.metadata, rest.length], ['t', Uint8Array.of(1, 2), 'a/b', [['k', 'v']], 0]);
      await call('ack', sub, first!.id, 'retry');
      const [again] = await call<Message[]>('pull', sub, 10, 0);
      assert.deepEqual(again?.data, Uint8Array.of(1, 2), 'retry delivers it again');
      await call('ack', sub, again!.id, 'success');
      assert.deepEqual(await call<Message[]>('pull', sub, 10, 0), []);
    } finally {
      await live.close();
    }
  });

  test('a scaffolded output binding builds, carries type bindings.<name>, echoes, and refuses what it should', needs('rust'), async () => {
    await tessera(['component', 'new', 'binding', '--lang', 'rust', 'bindings-echo'], work.path);
    const dir = join(work.path, 'bindings-echo');
    await tessera(['component', 'build'], dir);
    const compiled = await CompiledComponent.compile(new Uint8Array(await readFile(join(dir, 'bindings-echo.wasm'))));
    assert.deepEqual(compiled.manifest, {
      kind: 'binding',
      type: 'bindings.echo',
      version: 'v1',
      abi: ABI_VERSION,
      capabilities: ['log'],
      description: 'An output binding whose echo operation answers the request back.',
    });
    assert.deepEqual([...compiled.optionalExports], ['output']);
    const tested = await runTessera(['component', 'test', '--bad-metadata', 'maxBytes=lots', 'bindings-echo.wasm'], { cwd: dir, timeoutMs: 60_000 });
    assert.match(tested.stdout, /^PASS: \d+ passed, 0 failed/m, tested.stdout + tested.stderr);
    await assert.rejects(
      LiveComponent.start(compiled, { name: 'echo', config: new Map([['maxBytes', 'lots']]), logger: silentLogger }),
      /init refused the configuration: invalid-argument: maxBytes "lots" is not a whole number of bytes/,
    );
    const live = await LiveComponent.start(compiled, { name: 'echo', config: new Map([['maxBytes', '8']]), logger: silentLogger });
    try {
      const invoke = async (operation: string, data: Uint8Array) => (await live.call('output#invoke', [{ operation, data, metadata: [['k', 'v']] }])) as WitResult<InvokeResponse, { tag: string; val: string }>;
      assert.deepEqual(await live.call('output#operations', []), ['echo']);
      assert.deepEqual(await invoke('echo', Uint8Array.from([123, 125])), { tag: 'ok', val: { data: Uint8Array.from([123, 125]), metadata: [['k', 'v']], contentType: undefined } });
      assert.deepEqual(await invoke('echo', new Uint8Array(9)), { tag: 'err', val: { tag: 'invalid-argument', val: 'the data is 9 bytes, over maxBytes (8)' } });
      assert.deepEqual(await invoke('create', new Uint8Array()), {
        tag: 'err',
        val: { tag: 'invalid-argument', val: 'operation "create" is not supported by this binding; supported operations: echo' },
      });
    } finally {
      await live.close();
    }
  });
});
