// `tessera component`: make a component folder (`new`), build it (`build`), and run the
// conformance kit of its kind on a `.wasm` (`test`). The work is done in host/toolchain/;
// this file parses the command line and prints.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { grantsFromAnnotations, isGrantAnnotation } from '../components/grants.ts';
import { runConformance } from '../toolchain/conformance/runner.ts';
import { formatReport } from '../toolchain/conformance/table.ts';
import { shownPath } from '../toolchain/build-support.ts';
import { installCommand } from '../toolchain/build-error.ts';
import { buildComponent, languageName, toolchainPackages } from '../toolchain/index.ts';
import type { ScaffoldLanguage } from '../toolchain/scaffold.ts';
import { SCAFFOLD_KINDS, TESSERA_COMMAND, kindNoun, scaffoldComponent, type ScaffoldKind } from '../toolchain/scaffold.ts';
import { parseCount } from '../units.ts';
import { UsageError } from './run-options.ts';

export const COMPONENT_USAGE = `Usage: tessera component <command> [flags]

Scaffolds, builds and checks WebAssembly components.

Commands:
  new state|pubsub|binding --lang rust|cpp|as NAME
        creates NAME/ in the current folder, building against this checkout's SDK: a
        small in-memory state store (ETags, first-write, transactions, TTLs, snapshot and
        restore), pub/sub broker, or binding (type bindings.NAME) with an output operation
        to start from
  build [DIR]
        builds the component folder DIR (default: .) into DIR/<folder name>.wasm with its
        language's toolchain: assembly/index.ts + manifest.json is AssemblyScript, a
        Cargo.toml is Rust, *.cpp files are C++
  test [--cpu-budget N] [--metadata K=V]... [--annotation K=V]... [--bad-metadata K=V]... FILE.wasm...
        runs the conformance suite of each FILE.wasm's kind (state store, pub/sub broker
        or binding, from its manifest) through the host's sandbox and prints one line per
        check; exits 0 when every check passes, 1 otherwise.
        --cpu-budget sets the fuel per call, as tessera.dev/cpu-budget does (default 8M;
        a component with an interpreter inside, such as componentize-js's, needs ~100M).
        --metadata gives init a Component YAML metadata item (a broker gets a consumerID
        of the run's own unless one is given); --annotation a capability grant, as the
        YAML's annotation does. A broker that hands an unacknowledged message back only
        after a timeout needs it under 3 s here. For pubsub.redis:
          --metadata redisHost=127.0.0.1:6379 --annotation tessera.dev/allow-tcp=127.0.0.1:6379
        An output binding is invoked with that metadata (an error answer passes, a
        trap does not); an input binding needs metadata that makes events come within
        3 s. For bindings.http and bindings.cron:
          --metadata url=http://127.0.0.1:8080 --annotation tessera.dev/allow-http=http://127.0.0.1:8080
          --metadata 'schedule=@every 100ms'
        --bad-metadata (bindings) gives metadata items over --metadata that init must
        refuse with invalid-argument, naming the key or the value; without it, that check
        is skipped (no metadata is bad for every binding).

Flags:
  -l, --lang L   (new) as (AssemblyScript), rust or cpp
  -h, --help     show this help

Toolchains (build names a missing one with this command):
${toolchainPackages().map(([lang, packages]) => `  ${lang.padEnd(4)}  ${installCommand(packages)}${packages.folder === undefined ? '' : ` (in ${packages.folder})`}`).join('\n')}`;

const LANGUAGES = new Map<string, ScaffoldLanguage>([['as', 'as'], ['assemblyscript', 'as'], ['rust', 'rust'], ['cpp', 'cpp'], ['c++', 'cpp']]);

interface Parsed {
  positionals: string[];
  lang: string | undefined;
  cpuBudget: string | undefined;
  metadata: string[];
  annotation: string[];
  badMetadata: string[];
  help: boolean;
}

function parse(argv: string[], flag?: 'lang' | 'test'): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...(flag === 'lang' ? { lang: { type: 'string', short: 'l' } } : {}),
        ...(flag === 'test'
          ? {
              'cpu-budget': { type: 'string' },
              metadata: { type: 'string', multiple: true },
              annotation: { type: 'string', multiple: true },
              'bad-metadata': { type: 'string', multiple: true },
            }
          : {}),
      },
    });
    return {
      positionals,
      lang: values.lang as string | undefined,
      cpuBudget: values['cpu-budget'] as string | undefined,
      metadata: (values.metadata as string[] | undefined) ?? [],
      annotation: (values.annotation as string[] | undefined) ?? [],
      badMetadata: (values['bad-metadata'] as string[] | undefined) ?? [],
      help: values.help === true,
    };
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; run \`tessera component --help\``);
  }
}

async function newCommand(argv: string[]): Promise<void> {
  const { positionals, lang, help } = parse(argv, 'lang');
  if (help) return void console.log(COMPONENT_USAGE);
  const [kind, name, ...extra] = positionals;
  if (kind === undefined || name === undefined || extra.length > 0) {
    throw new UsageError(`usage: tessera component new ${SCAFFOLD_KINDS.join('|')} --lang rust|cpp|as NAME`);
  }
  if (!(SCAFFOLD_KINDS as readonly string[]).includes(kind)) throw new UsageError(`cannot make a "${kind}" component; kinds: ${SCAFFOLD_KINDS.join(', ')}`);
  if (lang === undefined) throw new UsageError('--lang is required: rust, cpp or as');
  const language = LANGUAGES.get(lang);
  if (language === undefined) throw new UsageError(`--lang must be rust, cpp or as, got "${lang}"`);
  const made = await scaffoldComponent({ kind: kind as ScaffoldKind, language, name, parentDir: process.cwd() });
  const folder = shownPath(made.dir);
  console.log(`created ${folder}/ (${languageName(language)} ${kindNoun(kind as ScaffoldKind)}, type ${made.type}):`);
  for (const file of made.files) console.log(`  ${file}`);
  console.log(`next: cd ${folder} && ${TESSERA_COMMAND} component build && ${TESSERA_COMMAND} component test ${name}.wasm`);
}

async function buildCommand(argv: string[]): Promise<void> {
  const { positionals, help } = parse(argv);
  if (help) return void console.log(COMPONENT_USAGE);
  if (positionals.length > 1) throw new UsageError('usage: tessera component build [DIR]');
  const built = await buildComponent(positionals[0] ?? '.', { warn: (message) => console.error(`warning: ${message}`) });
  console.log(`built ${shownPath(built.outFile)}: ${built.bytes.length} bytes (${languageName(built.language)})`);
}

/** `K=V` items of a repeatable flag, in order; a later one overrides an earlier one of the same K. */
function pairs(flag: string, items: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const item of items) {
    const at = item.indexOf('=');
    if (at <= 0) throw new UsageError(`--${flag} takes KEY=VALUE, got "${item}"`);
    map.set(item.slice(0, at), item.slice(at + 1));
  }
  return map;
}

async function testCommand(argv: string[]): Promise<void> {
  const { positionals: files, help, cpuBudget: budget, metadata, annotation, badMetadata } = parse(argv, 'test');
  if (help) return void console.log(COMPONENT_USAGE);
  if (files.length === 0) throw new UsageError('usage: tessera component test [--cpu-budget N] [--metadata K=V]... [--annotation K=V]... [--bad-metadata K=V]... FILE.wasm...');
  let cpuBudget: number | undefined;
  let grants;
  const config = pairs('metadata', metadata);
  const badConfig = pairs('bad-metadata', badMetadata);
  const annotations = pairs('annotation', annotation);
  try {
    cpuBudget = budget === undefined ? undefined : parseCount('--cpu-budget', budget);
    for (const key of annotations.keys()) if (!isGrantAnnotation(key)) throw new Error(`--annotation ${key} is no capability grant (this kit takes tessera.dev/allow-* grants)`);
    grants = grantsFromAnnotations(Object.fromEntries(annotations), 'component-under-test', '--annotation');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  for (const [i, file] of files.entries()) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(file));
    } catch (err) {
      throw new Error(`cannot read ${file}: ${(err as Error).message}`);
    }
    const report = await runConformance(bytes, {
      source: file,
      config,
      grants,
      ...(badConfig.size === 0 ? {} : { badConfig }),
      ...(cpuBudget === undefined ? {} : { cpuBudget }),
    });
    console.log(`${i > 0 ? '\n' : ''}${formatReport(report)}`);
    if (!report.passed) process.exitCode = 1;
  }
}

export async function componentCommand(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'new':
      return newCommand(rest);
    case 'build':
      return buildCommand(rest);
    case 'test':
      return testCommand(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(COMPONENT_USAGE);
      return;
    default:
      throw new UsageError(`unknown component command "${command}"; run \`tessera component --help\``);
  }
}
