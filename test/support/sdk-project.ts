// A component project as an author writes one for `tessera component build`, for the SDK tests
// that build the same store in C++ and AssemblyScript and run it in a sidecar.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { SDK_DIRS } from '../../host/toolchain/build-support.ts';
import { runTessera } from './sidecar-process.ts';

const BUILD_TIMEOUT_MS = 180_000;

/** A C++ project: `dir/store.cpp`. */
export async function writeCppProject(dir: string, source: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'store.cpp'), source);
}

/** An AssemblyScript project: `dir/assembly/index.ts`, whose `SDK/` imports name this repository's SDK, and `dir/manifest.json`. */
export async function writeAssemblyScriptProject(dir: string, source: string, manifest: object): Promise<void> {
  await mkdir(join(dir, 'assembly'), { recursive: true });
  const sdk = relative(join(dir, 'assembly'), SDK_DIRS.as);
  await writeFile(join(dir, 'assembly', 'index.ts'), source.replaceAll('SDK/', `${sdk}/`));
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

/** Builds the project with the CLI; the path of the `.wasm` it wrote. */
export async function buildProject(dir: string): Promise<string> {
  const built = await runTessera(['component', 'build'], { cwd: dir, timeoutMs: BUILD_TIMEOUT_MS });
  assert.equal(built.code, 0, built.stderr);
  return join(dir, `${basename(dir)}.wasm`);
}
