// Builds a C++ component folder into a Tessera core module with Debian's clang for wasm32-wasi:
// every `*.cpp` directly in the folder, against the header-only SDK in sdk/cpp/include, with
// fixed flags, so the bytes depend only on the sources and the toolchain, never on the
// checkout path, the environment or the time.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { ComponentBuildError, type MissingToolchain } from './build-error.ts';
import { SDK_DIRS, exists, run, toolOutput, type RunResult } from './build-support.ts';
import { checkBuiltModule } from './built-module-check.ts';

/** The compiler driver, looked up on PATH unless a path is given. */
const CLANG = 'clang++';

/** What Debian needs for this build; the unversioned libc++abi name does not exist. */
export const CPP_PACKAGES: MissingToolchain = {
  manager: 'apt',
  packages: ['clang', 'lld', 'wasi-libc', 'libc++-14-dev-wasm32', 'libc++abi-14-dev-wasm32', 'libclang-rt-14-dev-wasm32'],
};

/** Fixed prefixes the source and SDK paths are rewritten to, wherever the checkout lives. */
const SOURCE_PREFIX = '/tessera/component';
const SDK_PREFIX = '/tessera/sdk';

/**
 * Why each flag is what it is:
 * - `-Os -flto`: small and fast; LTO inlines the SDK's glue into the store across files.
 * - `-fno-exceptions`: Debian's wasm libc++ has no exception support; the SDK returns errors.
 * - `-fno-rtti -fno-threadsafe-statics`: nothing needs them (one thread, no dynamic_cast);
 *   they only add code.
 * - `-mexec-model=reactor`: exports `_initialize`, which the host calls first, so static
 *   constructors (the store itself) run under the host's call limits.
 * - `-DNDEBUG`: no `assert`, which would write to stderr and import WASI's fd_write.
 * - `-ffile-prefix-map`, relative source names, `-Werror=date-time`, a scrubbed environment:
 *   the output does not depend on where the checkout is, on CPATH and friends, or on the time.
 * - `-Wl,--strip-all`: no names or DWARF (the tessera:manifest custom section stays).
 * No `--sysroot`: Debian's clang finds its wasm32-wasi headers and libraries by default.
 */
function cppFlags(dir: string): string[] {
  return [
    '--target=wasm32-wasi',
    '-std=c++17',
    '-Os',
    '-flto',
    '-fno-exceptions',
    '-fno-rtti',
    '-fno-threadsafe-statics',
    '-mexec-model=reactor',
    '-DNDEBUG',
    '-Wall',
    '-Wextra',
    '-Werror=date-time',
    `-ffile-prefix-map=${dir}=${SOURCE_PREFIX}`,
    `-ffile-prefix-map=${SDK_DIRS.cpp}=${SDK_PREFIX}`,
    `-I${SDK_DIRS.cpp}`,
    '-Wl,--strip-all',
  ];
}

/** Only what clang needs: no CPATH, CPLUS_INCLUDE_PATH, SOURCE_DATE_EPOCH or locale to leak in. */
function toolchainEnv(): NodeJS.ProcessEnv {
  // clang runs `wasm-opt` after linking when it finds one on PATH (npm puts binaryen's in
  // node_modules/.bin under `npm test`), which changes the bytes: leave such folders out.
  const path = (process.env.PATH ?? '/usr/bin:/bin').split(delimiter).filter((dir) => dir !== '' && !existsSync(join(dir, 'wasm-opt')));
  return { PATH: path.join(delimiter), LC_ALL: 'C' };
}

function clang(clangxx: string, args: string[], cwd?: string): Promise<RunResult> {
  return run(clangxx, args, { cwd, env: toolchainEnv() });
}

/** Toolchain checks by compiler path, each run once per process. */
const toolchainChecks = new Map<string, Promise<void>>();

/**
 * Fails, naming the missing pieces and the apt packages that provide them, unless clang++,
 * wasm-ld, wasi-libc, the wasm32 libc++/libc++abi and the compiler-rt builtins are all there.
 */
function checkCppToolchain(clangxx = CLANG): Promise<void> {
  let check = toolchainChecks.get(clangxx);
  if (check === undefined) {
    check = findMissingPieces(clangxx);
    toolchainChecks.set(clangxx, check);
    check.catch(() => toolchainChecks.delete(clangxx));
  }
  return check;
}

async function findMissingPieces(clangxx: string): Promise<void> {
  try {
    await clang(clangxx, ['--version']);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${clangxx} was not found` : `${clangxx} --version failed: ${(err as Error).message}`;
    throw ComponentBuildError.missingToolchain(`cannot build C++ components: ${why}`, CPP_PACKAGES);
  }
  const pieces: [args: string[], what: string, pkg: string][] = [
    [['-print-prog-name=wasm-ld'], 'the wasm-ld linker', 'lld'],
    [['-print-file-name=libc.a'], 'wasi-libc', 'wasi-libc'],
    [['-print-file-name=crt1-reactor.o'], 'the wasi-libc reactor start file', 'wasi-libc'],
    [['-print-file-name=libc++.a'], 'the wasm32 libc++', 'libc++-14-dev-wasm32'],
    [['-print-file-name=libc++abi.a'], 'the wasm32 libc++abi', 'libc++abi-14-dev-wasm32'],
    [['-rtlib=compiler-rt', '-print-libgcc-file-name'], 'the wasm32 compiler-rt builtins', 'libclang-rt-14-dev-wasm32'],
  ];
  const missing: [what: string, pkg: string][] = [];
  await Promise.all(
    pieces.map(async ([args, what, pkg]) => {
      let path = (await clang(clangxx, ['--target=wasm32-wasi', ...args]).catch(() => ({ stdout: '' }))).stdout.trim();
      if (path !== '' && !isAbsolute(path)) path = (await run('which', [path], { env: toolchainEnv() }).catch(() => ({ stdout: '' }))).stdout.trim();
      if (path === '' || !(await exists(path))) missing.push([what, pkg]);
    }),
  );
  if (missing.length > 0) {
    const pieceList = missing.map(([what, pkg]) => `${what} (${pkg})`).sort();
    throw ComponentBuildError.missingToolchain(
      `cannot build C++ components: ${clangxx} is there but ${pieceList.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing`,
      { manager: 'apt', packages: CPP_PACKAGES.packages.filter((pkg) => missing.some(([, p]) => p === pkg)) },
    );
  }
}

/**
 * Compiles every `*.cpp` in `dir` (in name order) into one core module at `outFile`. Writes
 * nothing unless the module builds and the host would load it (and imports no WASI: wasi-libc
 * pulls it into anything that prints, reads the environment or the clock, or aborts with a
 * message, and the host grants none).
 */
export async function buildCppComponent(dir: string, outFile: string, clangxx = CLANG): Promise<Uint8Array> {
  const sourceDir = resolve(dir);
  const sources = (await readdir(sourceDir)).filter((name) => name.endsWith('.cpp')).sort();
  if (sources.length === 0) throw new ComponentBuildError(`${dir}: no .cpp files to build`);
  await checkCppToolchain(clangxx);
  const scratch = await mkdtemp(join(tmpdir(), 'tessera-cpp-'));
  try {
    const built = join(scratch, 'component.wasm');
    // Relative names from the folder itself: no absolute path reaches the compiler's output.
    let stderr: string;
    try {
      ({ stderr } = await clang(clangxx, [...cppFlags(sourceDir), ...sources, '-o', built], sourceDir));
    } catch (err) {
      throw new ComponentBuildError(`${dir}: clang++ failed:\n${toolOutput(err)}`);
    }
    if (stderr.trim() !== '') process.stderr.write(`${dir}: clang++ warnings:\n${stderr}`);
    const bytes = new Uint8Array(await readFile(built));
    await checkBuiltModule(dir, bytes, 'TESSERA_MANIFEST(...) (one, in one source file)');
    await mkdir(dirname(resolve(outFile)), { recursive: true });
    await writeFile(outFile, bytes);
    return bytes;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
