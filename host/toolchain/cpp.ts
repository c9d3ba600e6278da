// Builds a C++ component folder into a Tessera core module with Debian's clang for wasm32-wasi:
// every `*.cpp` directly in the folder, against the header-only SDK in sdk/cpp/include, with
// fixed flags, so the bytes depend only on the sources and the toolchain, never on the
// checkout path, the environment or the time. Usable as `node host/toolchain/cpp.ts <dir> <out.wasm>`.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import { isTesseraError } from '../errors.ts';
import { CompiledComponent } from '../sandbox/compiled-component.ts';
import { readManifest } from '../sandbox/manifest.ts';
import { readModuleShape } from '../sandbox/wasm-binary.ts';

const run = promisify(execFile);

export const SDK_INCLUDE_DIR = fileURLToPath(new URL('../../sdk/cpp/include', import.meta.url));

/** What Debian needs for this build; the unversioned libc++abi name does not exist. */
export const CPP_TOOLCHAIN_PACKAGES = [
  'clang', 'lld', 'wasi-libc', 'libc++-14-dev-wasm32', 'libc++abi-14-dev-wasm32', 'libclang-rt-14-dev-wasm32',
];
const INSTALL_HINT = `apt-get install ${CPP_TOOLCHAIN_PACKAGES.join(' ')}`;

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
export function cppFlags(dir: string): string[] {
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
    `-ffile-prefix-map=${SDK_INCLUDE_DIR}=${SDK_PREFIX}`,
    `-I${SDK_INCLUDE_DIR}`,
    '-Wl,--strip-all',
  ];
}

/** The host interfaces a component may import, in manifest order. */
const HOST_INTERFACES = ['log', 'clock', 'random', 'sleep'];

/** A C++ component did not build; the message says what failed and what to do. */
export class CppBuildError extends Error {
  override name = 'CppBuildError';
}

/** Only what clang needs: no CPATH, CPLUS_INCLUDE_PATH, SOURCE_DATE_EPOCH or locale to leak in. */
function toolchainEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
}

async function clang(args: string[], cwd?: string): Promise<{ stdout: string; stderr: string }> {
  return run('clang++', args, { cwd, env: toolchainEnv(), maxBuffer: 16 * 1024 * 1024 });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

let toolchainChecked: Promise<void> | undefined;

/**
 * Fails, naming the missing pieces and the apt packages, unless clang++, wasm-ld, wasi-libc,
 * the wasm32 libc++/libc++abi and the compiler-rt builtins are all there. Checked once.
 */
export function checkCppToolchain(): Promise<void> {
  toolchainChecked ??= (async () => {
    try {
      await clang(['--version']);
    } catch (err) {
      toolchainChecked = undefined;
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'clang++ is not on PATH' : `clang++ --version failed: ${(err as Error).message}`;
      throw new CppBuildError(`cannot build C++ components: ${why}; install the toolchain with \`${INSTALL_HINT}\``);
    }
    const pieces: [args: string[], what: string, pkg: string][] = [
      [['-print-prog-name=wasm-ld'], 'the wasm-ld linker', 'lld'],
      [['-print-file-name=libc.a'], 'wasi-libc', 'wasi-libc'],
      [['-print-file-name=crt1-reactor.o'], 'the wasi-libc reactor start file', 'wasi-libc'],
      [['-print-file-name=libc++.a'], 'the wasm32 libc++', 'libc++-14-dev-wasm32'],
      [['-print-file-name=libc++abi.a'], 'the wasm32 libc++abi', 'libc++abi-14-dev-wasm32'],
      [['-rtlib=compiler-rt', '-print-libgcc-file-name'], 'the wasm32 compiler-rt builtins', 'libclang-rt-14-dev-wasm32'],
    ];
    const missing: string[] = [];
    await Promise.all(
      pieces.map(async ([args, what, pkg]) => {
        let path = (await clang(['--target=wasm32-wasi', ...args]).catch(() => ({ stdout: '' }))).stdout.trim();
        if (path !== '' && !isAbsolute(path)) path = (await run('which', [path]).catch(() => ({ stdout: '' }))).stdout.trim();
        if (path === '' || !(await exists(path))) missing.push(`${what} (${pkg})`);
      }),
    );
    if (missing.length > 0) {
      toolchainChecked = undefined;
      throw new CppBuildError(
        `cannot build C++ components: clang++ is there but ${missing.sort().join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing; install the toolchain with \`${INSTALL_HINT}\``,
      );
    }
  })();
  return toolchainChecked;
}

/**
 * Checks a built module the way the host will load it, plus what only a build can say: the
 * manifest's capabilities are exactly the host interfaces the module imports, and it imports
 * nothing else (wasi-libc pulls WASI imports into anything that prints, reads the environment
 * or the clock, or aborts with a message).
 */
async function checkBuilt(dir: string, bytes: Uint8Array): Promise<void> {
  const imported = new Set<string>();
  for (const imp of readModuleShape(bytes).imports) {
    const iface = HOST_INTERFACES.find((name) => imp.module === `tessera:components/${name}@${ABI_VERSION}`);
    if (!iface) {
      throw new CppBuildError(
        `${dir}: the module imports "${imp.module}" "${imp.name}", which is no host interface of ABI ${ABI_VERSION}` +
          (imp.module.startsWith('wasi_') ? ': some libc call pulls it in (printf/iostream, getenv, time(), std::random_device, assert, ...); use the tessera:: host wrappers instead' : ''),
      );
    }
    imported.add(iface);
  }
  let manifest;
  try {
    manifest = readManifest(bytes);
  } catch (err) {
    throw new CppBuildError(`${dir}: ${(err as Error).message} (one TESSERA_MANIFEST(...) in one source file)`);
  }
  const used = HOST_INTERFACES.filter((name) => imported.has(name));
  const listed = [...manifest.capabilities].sort((a, b) => HOST_INTERFACES.indexOf(a) - HOST_INTERFACES.indexOf(b));
  if (used.join() !== listed.join()) {
    throw new CppBuildError(
      `${dir}: TESSERA_MANIFEST lists capabilities [${manifest.capabilities.join(', ')}] but the module imports [${used.join(', ')}]: make them match`,
    );
  }
  try {
    await CompiledComponent.compile(bytes, { source: dir });
  } catch (err) {
    if (!isTesseraError(err)) throw err;
    throw new CppBuildError(`the host would refuse the module: ${err.message}`);
  }
}

/**
 * Compiles every `*.cpp` in `dir` (in name order) into one core module at `outFile`. Writes
 * nothing unless the module builds and the host would load it.
 */
export async function buildCppComponent(dir: string, outFile: string): Promise<void> {
  const sourceDir = resolve(dir);
  const sources = (await readdir(sourceDir)).filter((name) => name.endsWith('.cpp')).sort();
  if (sources.length === 0) throw new CppBuildError(`${dir}: no .cpp files to build`);
  await checkCppToolchain();
  const scratch = await mkdtemp(join(tmpdir(), 'tessera-cpp-'));
  try {
    const built = join(scratch, 'component.wasm');
    // Relative names from the folder itself: no absolute path reaches the compiler's output.
    let stderr: string;
    try {
      ({ stderr } = await clang([...cppFlags(sourceDir), ...sources, '-o', built], sourceDir));
    } catch (err) {
      const output = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
      throw new CppBuildError(`${dir}: clang++ failed:\n${output}`);
    }
    if (stderr.trim() !== '') process.stderr.write(`${dir}: clang++ warnings:\n${stderr}`);
    const bytes = new Uint8Array(await readFile(built));
    await checkBuilt(dir, bytes);
    await writeFile(outFile, bytes);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, outFile, ...rest] = process.argv.slice(2);
  if (dir === undefined || outFile === undefined || rest.length > 0) {
    process.stderr.write('usage: node host/toolchain/cpp.ts <component dir> <out.wasm>\n');
    process.exitCode = 2;
  } else {
    try {
      await buildCppComponent(dir, outFile);
      process.stdout.write(`${outFile}: ${(await stat(outFile)).size} bytes\n`);
    } catch (err) {
      if (!(err instanceof CppBuildError)) throw err;
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
    }
  }
}
