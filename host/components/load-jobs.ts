// The jobs the load worker (load-worker.ts) runs off the event loop, and the messages that
// carry them: reading and parsing a resources file, and preparing a component's bytes.
// Each takes and returns only what can be posted between threads (a compiled
// `WebAssembly.Module` included), and each is a plain function that could run anywhere.
import { createHash } from 'node:crypto';
import type { Manifest } from '../../abi/ts/manifest.ts';
import type { ErrorCode } from '../errors.ts';
import { DEFAULT_CPU_BUDGET, DEFAULT_MEMORY_LIMIT_BYTES } from '../sandbox/default-limits.ts';
import { extensionUrls } from '../sandbox/extensions.ts';
import type { CompileOptions, PreparedComponent } from '../sandbox/compiled-component.ts';
import { parseManifest, readAnyManifest } from '../sandbox/manifest.ts';
import { isComponentBinary } from '../sandbox/wasm-binary.ts';
import { parseResourceFile, type ResourceFile } from './component-yaml.ts';
import { readCachedManifest, readPrepared, writeCachedManifest, writePrepared } from './prepared-cache.ts';
import { MODULE_LIMIT, YAML_LIMIT, readResourceFile } from './resource-file.ts';

export interface YamlFile extends ResourceFile {
  /** Nothing but white space: an editor's truncate-then-write, perhaps. */
  empty: boolean;
  mtimeMs: number;
}

/** A resources YAML, read (regular files only, at most 1 MiB) and parsed into specs. */
function readYamlFile(path: string, root: string): YamlFile {
  const { bytes, mtimeMs } = readResourceFile(path, root, YAML_LIMIT);
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === '') return { components: [], middlewares: [], others: [], empty: true, mtimeMs };
  return { ...parseResourceFile(text, path), empty: false, mtimeMs };
}

/** What a module read may prepare in the same job (`readModuleFile`): the options the module will most likely be prepared with. */
export interface PrepareAhead {
  options: CompileOptions;
  /** The hash of the file's last read: the same bytes again are not prepared again. */
  unlessSha256?: string | undefined;
}

/**
 * Core modules up to this size are prepared with their read (tens of milliseconds at most,
 * well within the read deadline); larger ones, and Component Model components (jco's
 * transpile can take seconds), in a job of their own.
 */
export const PREPARE_AHEAD_BYTES = 4 * 1024 * 1024;

export interface ModuleFile {
  /**
   * In shared memory: the bytes go from the worker that read them, through the main thread,
   * to the worker that prepares them without a copy (a 30 MB structured clone holds the
   * event loop ~100 ms). Never written after the read.
   */
  bytes: Uint8Array;
  sha256: string;
  manifest: Manifest;
  /**
   * The module prepared with `PrepareAhead.options`, when the read was asked to and the
   * bytes are new: a hot swap's module then goes to the worker once, not twice (each trip
   * waits for the worker, which runs at a low priority, to get a core).
   */
  prepared?: { options: CompileOptions; component: PreparedComponent } | undefined;
  mtimeMs: number;
}

/**
 * A `.wasm` (at most 32 MiB) with its hash and manifest; the bytes and hash are what will
 * run. With `ahead`, a new core module up to PREPARE_AHEAD_BYTES is prepared as well.
 */
async function readModuleFile(path: string, root: string, ahead?: PrepareAhead): Promise<ModuleFile> {
  const { bytes, mtimeMs } = readResourceFile(path, root, MODULE_LIMIT);
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  const file: ModuleFile = { bytes: shared, sha256: createHash('sha256').update(bytes).digest('hex'), manifest: readAnyManifest(bytes), mtimeMs };
  if (ahead === undefined || file.sha256 === ahead.unlessSha256 || bytes.length > PREPARE_AHEAD_BYTES || isComponentBinary(bytes)) return file;
  try {
    return { ...file, prepared: { options: ahead.options, component: await prepare(bytes, ahead.options) } };
  } catch {
    // Not prepared ahead: the prepare job of its own reports why, as it does for any module.
    return file;
  }
}

/** Only the manifest of a `.wasm`, for the catalog of bundled types (from the cache when this very file was read before). */
function readModuleManifest(path: string, root: string): Manifest {
  const cached = readCachedManifest(path);
  if (cached !== undefined) return cached;
  const manifest = readAnyManifest(readResourceFile(path, root, MODULE_LIMIT).bytes);
  writeCachedManifest(path, manifest);
  return manifest;
}

/**
 * `prepareComponent` on bytes of this thread's own (V8 compiles no view of shared memory); a
 * bundled module from the prepared cache when it is there (no extension loaded, which could
 * change the checks). The sandbox's code is imported on the first miss only: a worker whose
 * modules are all cached never loads the checking, metering and canonical ABI code.
 */
async function prepare(bytes: Uint8Array, options: CompileOptions): Promise<PreparedComponent> {
  const own = bytes.buffer instanceof SharedArrayBuffer ? new Uint8Array(bytes) : bytes;
  const cacheable = extensionUrls().length === 0 ? options.source : undefined;
  const limits = { memoryLimitBytes: options.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES, cpuBudget: options.cpuBudget ?? DEFAULT_CPU_BUDGET };
  const cached = await readPrepared(own, cacheable, limits);
  if (cached !== undefined) return cached;
  const { prepareComponent } = await import('../sandbox/compiled-component.ts');
  let hardened: Uint8Array | undefined;
  const prepared = await prepareComponent(own, options, (bytes) => (hardened = bytes));
  if (hardened !== undefined) writePrepared(own, cacheable, prepared.parts, hardened);
  return prepared;
}

/**
 * What a worker does when it has just started, before its first job: loads the YAML parser
 * and the readers' code, by parsing a small YAML and an empty manifest (both schemas'
 * validators are compiled ahead of time, in host/components/generated/ and
 * host/sandbox/generated/, so no ajv is loaded). A starting sidecar's worker does it while the main thread still imports
 * the host, so the first scan does not pay for it.
 */
export function warmUp(): void {
  parseResourceFile('apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: warm-up\nspec:\n  type: state.memory\n  version: v1\n', 'warm-up');
  try {
    parseManifest(new TextEncoder().encode('{}'));
  } catch {
    // Refused, as it should be: what mattered is that its code is loaded.
  }
}

export const LOAD_JOBS = { readYamlFile, readModuleFile, readModuleManifest, prepare } as const;

export type LoadJobs = typeof LOAD_JOBS;
export type LoadJobName = keyof LoadJobs;

export interface LoadRequest {
  id: number;
  job: LoadJobName;
  args: unknown[];
  /** Extension modules (kinds, capabilities) the worker must have loaded first (sandbox/extensions.ts). */
  extensions: string[];
}

/** What a load worker starts with. */
export interface LoadThreadData {
  /** Whether the sidecar serves already: a worker with no thread id to give then lowers itself at once (load-priority.ts). */
  background: boolean;
}

/** Tells a load worker with no thread id to run below the event loop's priority from now on. */
export interface LowerPriority {
  lowerPriority: true;
}

/** A job's result, or its error flattened to code and message so it survives the clone; or the worker saying it is up. */
export type LoadReply = { id: number; value: unknown } | { id: number; error: { code: ErrorCode; message: string } } | { ready: true; tid: number | undefined };
