// Builds every component folder of components-wasm/ into the `.wasm` committed beside its
// sources (`<folder>/<folder>.wasm`), each with its language's builder (host/toolchain/):
// `node components-wasm/build.ts`. `shared/` is no component: it holds the libraries
// components share (built inside each component that uses them). With `--check` it rebuilds each into a temporary folder
// instead and fails naming every committed `.wasm` that is not byte for byte what its
// sources build (CI runs this).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ComponentBuildError } from '../host/toolchain/build-error.ts';
import { shownPath } from '../host/toolchain/build-support.ts';
import { buildComponent, differenceFromCommitted } from '../host/toolchain/index.ts';

const COMPONENTS_DIR = fileURLToPath(new URL('.', import.meta.url));
/** The folder of libraries the components share, such as the Redis client. */
const SHARED_DIR = 'shared';

async function componentFolders(): Promise<string[]> {
  const entries = await readdir(COMPONENTS_DIR, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && e.name !== SHARED_DIR).map((e) => join(COMPONENTS_DIR, e.name)).sort();
}

/** What went wrong with one folder, as a line to print; rethrows what is no build failure. */
function failure(err: unknown): string {
  if (err instanceof ComponentBuildError) return err.message;
  throw err;
}

/** Builds or checks every folder side by side; reports in folder order; resolves to the exit code. */
async function run(args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument ${unknown.join(' ')}; usage: node components-wasm/build.ts [--check]\n`);
    return 2;
  }
  const check = args.includes('--check');
  const folders = await componentFolders();
  const outcomes = await Promise.allSettled(
    folders.map(async (dir) => {
      if (check) {
        const difference = await differenceFromCommitted(dir);
        return difference && `${difference}: run \`npm run build:components\` and commit it`;
      }
      const { outFile, bytes } = await buildComponent(dir, { warn: (message) => process.stderr.write(`${shownPath(dir)}: warning: ${message}\n`) });
      process.stdout.write(`${shownPath(outFile)}: ${bytes.length} bytes\n`);
      return undefined;
    }),
  );
  const problems = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : failure(o.reason))).filter((p) => p !== undefined);
  for (const problem of problems) process.stderr.write(`${problem}\n`);
  if (check && problems.length === 0) process.stdout.write(`${folders.length} component(s) match their sources\n`);
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await run(process.argv.slice(2));
