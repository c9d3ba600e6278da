#!/usr/bin/env node
// The `tessera` command: dispatches subcommands and turns usage errors into one clear line.
import module from 'node:module';
import { RUNTIME_VERSION } from '../version.ts';
import { UsageError } from './run-options.ts';

const USAGE = `Tessera ${RUNTIME_VERSION}: a Dapr-compatible sidecar whose components are WebAssembly.

Usage: tessera <command> [flags]

Commands:
  run        run the sidecar (and your app); see \`tessera run --help\`
  component  scaffold (new), build and test (the conformance kit) a component;
             see \`tessera component --help\`
  bindgen    generate the ABI glue of the host and every SDK from the WIT;
             see \`tessera bindgen --help\`

Flags:
  -h, --help     show this help
  -v, --version  print the version`;

// Node's module compile cache (in os.tmpdir()/node-compile-cache unless NODE_COMPILE_CACHE
// says where; a no-op when already on): the host's TypeScript stripped of its types, and the
// code V8 compiled from it, are kept on disk keyed by each file's contents, so a start does
// not strip and compile ~100 files again. It covers every module imported from here on,
// and the load worker's (load-worker.ts).
module.enableCompileCache();

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      // Loaded only when needed, so --help and usage errors answer at once.
      return (await import('./run-command.ts')).runCommand(rest);
    case 'component':
      return (await import('./component-command.ts')).componentCommand(rest);
    case 'bindgen':
      return (await import('./bindgen-command.ts')).bindgenCommand(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return;
    case '-v':
    case '--version':
      console.log(RUNTIME_VERSION);
      return;
    default:
      throw new UsageError(`unknown command "${command}"; run \`tessera --help\``);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`tessera: ${err.message}`);
    process.exit(2);
  }
  console.error(`tessera: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
