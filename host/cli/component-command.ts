// `tessera component`: make a component folder (`new`), build it (`build`), and run the
// state-store conformance kit on a `.wasm` (`test`). The work is done in host/toolchain/;
// this file parses the command line and prints.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runConformance } from '../toolchain/conformance/runner.ts';
import { formatReport } from '../toolchain/conformance/table.ts';
import { shownPath } from '../toolchain/build-support.ts';
import { installCommand } from '../toolchain/build-error.ts';
import { buildComponent, languageName, toolchainPackages } from '../toolchain/index.ts';
import type { ScaffoldLanguage } from '../toolchain/scaffold.ts';
import { SCAFFOLD_KINDS, TESSERA_COMMAND, scaffoldComponent, type ScaffoldKind } from '../toolchain/scaffold.ts';
import { parseCount } from '../units.ts';
import { UsageError } from './run-options.ts';

export const COMPONENT_USAGE = `Usage: tessera component <command> [flags]

Scaffolds, builds and checks WebAssembly components.

Commands:
  new state|pubsub --lang rust|cpp|as NAME
        creates NAME/ in the current folder: a small in-memory state store (ETags,
        first-write, transactions, TTLs, snapshot and restore) or pub/sub broker that
        builds against this checkout's SDK
  build [DIR]
        builds the component folder DIR (default: .) into DIR/<folder name>.wasm with its
        language's toolchain: assembly/index.ts + manifest.json is AssemblyScript, a
        Cargo.toml is Rust, *.cpp files are C++
  test [--cpu-budget N] FILE.wasm...
        runs the state-store conformance kit on each FILE.wasm through the host's sandbox
        and prints one line per check; exits 0 when every check passes, 1 otherwise.
        --cpu-budget sets the fuel per call, as tessera.dev/cpu-budget does (default 8M;
        a component with an interpreter inside, such as componentize-js's, needs ~100M)

Flags:
  -l, --lang L   (new) as (AssemblyScript), rust or cpp
  -h, --help     show this help

Toolchains (build names a missing one with this command):
${toolchainPackages().map(([lang, packages]) => `  ${lang.padEnd(4)}  ${installCommand(packages)}${packages.folder === undefined ? '' : ` (in ${packages.folder})`}`).join('\n')}`;

const LANGUAGES = new Map<string, ScaffoldLanguage>([['as', 'as'], ['assemblyscript', 'as'], ['rust', 'rust'], ['cpp', 'cpp'], ['c++', 'cpp']]);

function parse(argv: string[], flag?: 'lang' | 'cpu-budget'): { positionals: string[]; lang: string | undefined; cpuBudget: string | undefined; help: boolean } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...(flag === 'lang' ? { lang: { type: 'string', short: 'l' } } : {}),
        ...(flag === 'cpu-budget' ? { 'cpu-budget': { type: 'string' } } : {}),
      },
    });
    return { positionals, lang: values.lang as string | undefined, cpuBudget: values['cpu-budget'] as string | undefined, help: values.help === true };
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; run \`tessera component --help\``);
  }
}

async function newCommand(argv: string[]): Promise<void> {
  const { positionals, lang, help } = parse(argv, 'lang');
  if (help) return void console.log(COMPONENT_USAGE);
  const [kind, name, ...extra] = positionals;
  if (kind === undefined || name === undefined || extra.length > 0) {
    throw new UsageError('usage: tessera component new state|pubsub --lang rust|cpp|as NAME');
  }
  if (!(SCAFFOLD_KINDS as readonly string[]).includes(kind)) throw new UsageError(`cannot make a "${kind}" component; kinds: ${SCAFFOLD_KINDS.join(', ')}`);
  if (lang === undefined) throw new UsageError('--lang is required: rust, cpp or as');
  const language = LANGUAGES.get(lang);
  if (language === undefined) throw new UsageError(`--lang must be rust, cpp or as, got "${lang}"`);
  const made = await scaffoldComponent({ kind: kind as ScaffoldKind, language, name, parentDir: process.cwd() });
  const folder = shownPath(made.dir);
  console.log(`created ${folder}/ (${languageName(language)} ${kind === 'state' ? 'state store' : 'pub/sub broker'}, type ${made.type}):`);
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

async function testCommand(argv: string[]): Promise<void> {
  const { positionals: files, help, cpuBudget: budget } = parse(argv, 'cpu-budget');
  if (help) return void console.log(COMPONENT_USAGE);
  if (files.length === 0) throw new UsageError('usage: tessera component test [--cpu-budget N] FILE.wasm...');
  let cpuBudget: number | undefined;
  try {
    cpuBudget = budget === undefined ? undefined : parseCount('--cpu-budget', budget);
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
    const report = await runConformance(bytes, { source: file, ...(cpuBudget === undefined ? {} : { cpuBudget }) });
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
