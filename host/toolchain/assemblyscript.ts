// Builds an AssemblyScript component folder (`assembly/index.ts` + `manifest.json`, see
// sdk/assemblyscript/README.md) into a Tessera core module with the pinned `asc`, with fixed
// flags, so the bytes depend only on the sources, the compiler and where the folder sits
// relative to this checkout's SDK.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { MANIFEST_SECTION, type Manifest } from '../../abi/ts/manifest.ts';
import pkg from '../../package.json' with { type: 'json' };
import { isTesseraError } from '../errors.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { abiContract } from '../sandbox/abi-contract.ts';
import { exportName, postReturnName } from '../sandbox/canonical-abi.ts';
import { parseManifest } from '../sandbox/manifest.ts';
import { appendCustomSection, readModuleShape, renameExports } from '../sandbox/wasm-binary.ts';
import { asExportName } from './bindgen/assemblyscript.ts';
import { ComponentBuildError, type MissingToolchain } from './build-error.ts';
import { NPM_INSTALL_FOLDER, SDK_DIRS, commonAncestor } from './build-support.ts';
import { checkBuiltModule } from './built-module-check.ts';

/** The compiler module; tests point it elsewhere to play a machine without assemblyscript. */
const ASC_MODULE = 'assemblyscript/asc';

/**
 * Fixed compiler flags; output depends only on the sources and the pinned assemblyscript
 * (and its pinned binaryen), which is what lets `components-wasm/build.ts --check` compare bytes.
 * - `-O3` (optimize level 3, shrink level 0): speed over size. state.memory is 34 KB at -O3
 *   and 28 KB at -Oz, whose gets measured ~15% and sets ~8% slower; a sidecar pays per call,
 *   not per kilobyte, and either size instantiates in about a millisecond.
 * - asserts stay in (no `--noAssert`): they cost ~1 KB and turn heap corruption or a
 *   store's broken invariant into a trap with a message instead of silent bad data.
 * - `--runtime incremental`: a long-running store keeps a GC'd map of entries; the
 *   incremental collector runs inside allocations, so garbage is reclaimed without the host
 *   ever calling `__collect` (`minimal` would need that AS-specific glue; `stub` never frees).
 * - no `--exportRuntime`: the host never creates AS objects; the SDK lifts and lowers itself.
 * - `--exportStart _initialize`: top-level code (registerStateStore) runs when the host calls
 *   `_initialize`, not inside `WebAssembly.instantiate`, so a trap there is a call error the
 *   host can report, and it runs under the host's call limits.
 * - `--use abort=<sdk>/abort/tesseraAbort` (added per build, relative to the base folder):
 *   aborts are logged through the `log` import, so no `env.abort` import.
 */
const ASC_FLAGS = ['--optimizeLevel', '3', '--shrinkLevel', '0', '--runtime', 'incremental', '--exportStart', '_initialize', '--noColors'];

/** The exports every module has besides its interfaces' functions. */
const RUNTIME_EXPORTS = ['memory', '_initialize', 'cabi_realloc'];

type AscMain = typeof import('assemblyscript/asc').main;

/** The compiler this checkout pins (builds are byte-for-byte only with that version). */
export const AS_PACKAGES: MissingToolchain = { manager: 'npm', packages: [`assemblyscript@${pkg.devDependencies.assemblyscript}`], folder: NPM_INSTALL_FOLDER };

async function loadCompiler(specifier: string): Promise<AscMain> {
  try {
    return ((await import(specifier)) as { main: AscMain }).main;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw ComponentBuildError.missingToolchain(`cannot build AssemblyScript components: the compiler "${specifier}" is not installed`, AS_PACKAGES);
  }
}

/**
 * `manifest.json`, checked by the host's own manifest rules, with a fixed key order and the
 * capabilities in the world's import order, so the section's bytes are stable.
 */
async function readManifestJson(path: string): Promise<Manifest> {
  let declared: Manifest;
  try {
    declared = parseManifest(await readFile(path));
  } catch (err) {
    if (!isTesseraError(err)) throw new ComponentBuildError(`${path}: ${(err as Error).message}`);
    throw new ComponentBuildError(`${path}: ${err.message.replace(`the ${MANIFEST_SECTION} section`, 'it')}`);
  }
  const order = [...abiContract().kind(declared.kind).imports.keys()];
  const manifest: Manifest = {
    kind: declared.kind,
    type: declared.type,
    version: declared.version,
    abi: declared.abi,
    capabilities: [...declared.capabilities].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
  };
  if (declared.description !== undefined) manifest.description = declared.description;
  return manifest;
}

/**
 * SDK export name -> canonical name for every function the kind's world exports, optional
 * interfaces included: `tessera_state_bulk_get` -> `tessera:components/state@0.1.0#bulk-get`,
 * `tessera_snapshot_stream_snapshot_chunk` -> `tessera:components/snapshot-stream@0.1.0#snapshot-chunk`
 * (AssemblyScript cannot spell the canonical names), and the same for each post-return.
 */
function exportRenames(manifest: Manifest): Map<string, string> {
  const { pkg, kind } = abiContract();
  const contract = kind(manifest.kind);
  const renames = new Map<string, string>();
  const interfaces = [contract.exportInterface, ...contract.optionalExports.values()];
  for (const iface of interfaces) {
    for (const fn of iface.functions) {
      const sdkName = asExportName(pkg, iface.name, fn.name);
      const canonical = exportName(pkg, iface.name, fn.name);
      renames.set(sdkName, canonical);
      renames.set(`cabi_post_${sdkName}`, postReturnName(canonical));
    }
  }
  return renames;
}

async function compile(asc: AscMain, dir: string, baseDir: string): Promise<Uint8Array> {
  const entry = relative(baseDir, join(dir, 'assembly', 'index.ts'));
  const abort = `${relative(baseDir, join(SDK_DIRS.as, 'abort'))}/tesseraAbort`;
  let binary: Uint8Array | undefined;
  let diagnostics = '';
  const { error } = await asc([entry, '--baseDir', baseDir, '--outFile', 'out.wasm', ...ASC_FLAGS, '--use', `abort=${abort}`], {
    writeFile(_name, contents) {
      if (typeof contents !== 'string') binary = contents;
    },
    stdout: { write: (chunk) => void (diagnostics += String(chunk)) },
    stderr: { write: (chunk) => void (diagnostics += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk)) },
  });
  if (error || !binary) {
    throw new ComponentBuildError(`${dir}: asc failed${error ? `: ${error.message}` : ''}\n${diagnostics.trim()}`);
  }
  return binary;
}

/**
 * Compiles `dir/assembly/index.ts`, gives its exports their canonical names, appends the
 * manifest from `dir/manifest.json`, checks the module as the host will load it, then writes
 * it to `outFile`. The compiler's base folder is the deepest one holding both the component
 * and this checkout's SDK, so a component inside the checkout builds the same bytes from
 * any checkout path, and one outside it finds the SDK by its relative imports.
 */
export async function buildAssemblyScriptComponent(dir: string, outFile: string, compiler = ASC_MODULE): Promise<Uint8Array> {
  const sourceDir = resolve(dir);
  const asc = await loadCompiler(compiler);
  const manifest = await readManifestJson(join(sourceDir, 'manifest.json'));
  const compiled = await compile(asc, sourceDir, commonAncestor([PACKAGE_ROOT, sourceDir]));

  const renames = exportRenames(manifest);
  const exported = readModuleShape(compiled).exports.map((e) => e.name);
  const extra = exported.filter((name) => !renames.has(name) && !RUNTIME_EXPORTS.includes(name));
  if (extra.length > 0) {
    throw new ComponentBuildError(
      `${dir}: assembly/index.ts exports ${extra.map((name) => `"${name}"`).join(', ')}, which the ${manifest.kind} ABI does not have: ` +
        'the entry file should export nothing but `export * from ".../state-exports"` (and ".../snapshot-exports", ".../snapshot-stream-exports")',
    );
  }
  const renamed = renameExports(compiled, new Map([...renames].filter(([sdkName]) => exported.includes(sdkName))));
  const bytes = appendCustomSection(renamed, MANIFEST_SECTION, new TextEncoder().encode(JSON.stringify(manifest)));
  await checkBuiltModule(dir, bytes, 'manifest.json');
  await mkdir(dirname(resolve(outFile)), { recursive: true });
  await writeFile(outFile, bytes);
  return bytes;
}
