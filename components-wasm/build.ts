// Builds every bundled component from source into the `.wasm` committed beside it:
// `node components-wasm/build.ts`. With `--check` it rebuilds into a temporary directory and
// fails, naming the file, when a committed `.wasm` is not byte for byte what its sources
// build (CI runs this). See sdk/assemblyscript/README.md and abi/ABI.md.
import { main as asc } from 'assemblyscript/asc';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ABI_VERSION, MANIFEST_SECTION, type Manifest } from '../abi/ts/manifest.ts';
import { abiContract } from '../host/sandbox/abi-contract.ts';
import { readManifest } from '../host/sandbox/manifest.ts';
import { checkModule } from '../host/sandbox/module-check.ts';
import { appendCustomSection, readModuleShape, renameExports } from '../host/sandbox/wasm-binary.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMPONENTS_DIR = join(ROOT, 'components-wasm');

/**
 * Fixed compiler flags; output depends only on the sources and the pinned assemblyscript
 * (and its pinned binaryen), which is what lets `--check` compare bytes.
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
 * - `--use abort=...`: aborts are logged through the `log` import, so no `env.abort` import.
 */
const ASC_FLAGS = [
  '--optimizeLevel', '3',
  '--shrinkLevel', '0',
  '--runtime', 'incremental',
  '--exportStart', '_initialize',
  '--use', 'abort=sdk/assemblyscript/assembly/abort/tesseraAbort',
  '--noColors',
];

/** The functions of the WIT interface `state`, in WIT order. */
const STATE_FUNCTIONS = [
  'init', 'features', 'get', 'set', 'delete', 'bulk-get', 'bulk-set', 'bulk-delete', 'transact', 'ping',
];

/** The functions of the optional WIT interface `snapshot`: a module exports all or none. */
const SNAPSHOT_FUNCTIONS = ['snapshot', 'restore'];

/** The exports every module has besides its interfaces' functions. */
const RUNTIME_EXPORTS = ['memory', '_initialize', 'cabi_realloc'];

/** The host interfaces a component may import, in manifest order. */
const HOST_INTERFACES = ['log', 'clock', 'random', 'sleep'];

/** SDK export name -> canonical name: `tessera_state_bulk_get` -> `tessera:components/state@0.1.0#bulk-get`. */
function exportRenames(iface: string, functions: string[]): Map<string, string> {
  const renames = new Map<string, string>();
  for (const fn of functions) {
    const sdkName = `tessera_${iface}_${fn.replaceAll('-', '_')}`;
    const canonical = `tessera:components/${iface}@${ABI_VERSION}#${fn}`;
    renames.set(sdkName, canonical);
    renames.set(`cabi_post_${sdkName}`, `cabi_post_${canonical}`);
  }
  return renames;
}

class BuildFailure extends Error {}

interface ComponentSource {
  /** Folder name under components-wasm/, e.g. `state-memory`. */
  name: string;
  /** Entry file, relative to the repository root. */
  entry: string;
  /** The committed output, relative to the repository root. */
  output: string;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Every folder of components-wasm/ with an AssemblyScript entry (`assembly/index.ts`). */
async function findComponents(): Promise<ComponentSource[]> {
  const found: ComponentSource[] = [];
  for (const entry of (await readdir(COMPONENTS_DIR, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!entry.isDirectory()) continue;
    const dir = join('components-wasm', entry.name);
    if (!(await exists(join(ROOT, dir, 'assembly', 'index.ts')))) continue;
    found.push({ name: entry.name, entry: join(dir, 'assembly', 'index.ts'), output: join(dir, `${entry.name}.wasm`) });
  }
  return found;
}

async function compile(component: ComponentSource): Promise<Uint8Array> {
  let binary: Uint8Array | undefined;
  let diagnostics = '';
  const { error } = await asc([component.entry, '--baseDir', ROOT, '--outFile', 'out.wasm', ...ASC_FLAGS], {
    writeFile(_name, contents) {
      if (typeof contents !== 'string') binary = contents;
    },
    stdout: { write: (chunk) => void (diagnostics += String(chunk)) },
    stderr: { write: (chunk) => void (diagnostics += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk)) },
  });
  if (error || !binary) {
    throw new BuildFailure(`${component.entry}: asc failed${error ? `: ${error.message}` : ''}\n${diagnostics}`);
  }
  return binary;
}

/** The manifest from `manifest.json`, checked against what the module really imports. */
async function manifestFor(component: ComponentSource, bytes: Uint8Array): Promise<Manifest> {
  const path = join('components-wasm', component.name, 'manifest.json');
  const declared = JSON.parse(await readFile(join(ROOT, path), 'utf8')) as Manifest;
  if (declared.abi !== ABI_VERSION) {
    throw new BuildFailure(`${path}: "abi" is "${declared.abi}" but the SDK builds against ${ABI_VERSION}`);
  }
  const imported = new Set<string>();
  for (const imp of readModuleShape(bytes).imports) {
    const iface = HOST_INTERFACES.find((name) => imp.module === `tessera:components/${name}@${ABI_VERSION}`);
    if (!iface) {
      throw new BuildFailure(`${component.entry}: the module imports "${imp.module}" "${imp.name}", which is no host interface of ABI ${ABI_VERSION}`);
    }
    imported.add(iface);
  }
  const used = HOST_INTERFACES.filter((name) => imported.has(name));
  const listed = [...declared.capabilities].sort((a, b) => HOST_INTERFACES.indexOf(a) - HOST_INTERFACES.indexOf(b));
  if (used.join() !== listed.join()) {
    throw new BuildFailure(
      `${path}: "capabilities" lists [${declared.capabilities.join(', ')}] but the module imports [${used.join(', ')}]: make them match`,
    );
  }
  // A fixed key order keeps the section's bytes stable.
  const manifest: Manifest = {
    kind: declared.kind,
    type: declared.type,
    version: declared.version,
    abi: declared.abi,
    capabilities: used,
  };
  if (declared.description !== undefined) manifest.description = declared.description;
  return manifest;
}

/** Compiles a component, gives its exports their canonical names and appends its manifest. */
async function build(component: ComponentSource): Promise<Uint8Array> {
  const compiled = await compile(component);
  const manifest = await manifestFor(component, compiled);
  const renames = new Map([...exportRenames('state', STATE_FUNCTIONS), ...exportRenames('snapshot', SNAPSHOT_FUNCTIONS)]);
  const exported = readModuleShape(compiled).exports.map((e) => e.name);
  const extra = exported.filter((name) => !renames.has(name) && !RUNTIME_EXPORTS.includes(name));
  if (extra.length > 0) {
    throw new BuildFailure(
      `${component.entry}: exports ${extra.map((name) => `"${name}"`).join(', ')}, which the state-store ABI does not have: ` +
        'the entry file should export nothing but `export * from ".../state-exports"` (and ".../snapshot-exports")',
    );
  }
  const renamed = renameExports(compiled, new Map([...renames].filter(([sdkName]) => exported.includes(sdkName))));
  const bytes = appendCustomSection(renamed, MANIFEST_SECTION, new TextEncoder().encode(JSON.stringify(manifest)));
  if (!WebAssembly.validate(bytes)) throw new BuildFailure(`${component.entry}: the built module does not validate`);
  // The host's own load check: every export the world needs, with the ABI's signatures, and
  // an optional interface such as `snapshot` exported whole or not at all.
  try {
    const { pkg, kind } = abiContract();
    checkModule(readModuleShape(bytes), readManifest(bytes), kind(manifest.kind), pkg, () => new Set());
  } catch (err) {
    throw new BuildFailure(`${component.entry}: the host would refuse the built module: ${(err as Error).message}`);
  }
  return bytes;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

async function check(components: ComponentSource[]): Promise<string[]> {
  const problems: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'tessera-components-'));
  try {
    for (const component of components) {
      const built = await build(component);
      await writeFile(join(dir, `${component.name}.wasm`), built);
      const committed = await readFile(join(ROOT, component.output)).catch(() => undefined);
      if (!committed) {
        problems.push(`${component.output} is missing: run \`npm run build:components\` and commit it`);
      } else if (Buffer.compare(committed, built) !== 0) {
        problems.push(
          `${component.output} differs from what its sources build (committed ${committed.length} bytes, built ${built.length}, ` +
            `first difference at byte ${firstDifference(committed, built)}): run \`npm run build:components\` and commit it`,
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return problems;
}

async function run(args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument ${unknown.join(' ')}; usage: node components-wasm/build.ts [--check]\n`);
    return 2;
  }
  const components = await findComponents();
  if (args.includes('--check')) {
    const problems = await check(components);
    for (const p of problems) process.stderr.write(`${p}\n`);
    if (problems.length === 0) process.stdout.write(`${components.length} component(s) match their sources\n`);
    return problems.length === 0 ? 0 : 1;
  }
  for (const component of components) {
    const bytes = await build(component);
    await writeFile(join(ROOT, component.output), bytes);
    process.stdout.write(`${relative(process.cwd(), join(ROOT, component.output))}: ${bytes.length} bytes\n`);
  }
  return 0;
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof BuildFailure)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
}
