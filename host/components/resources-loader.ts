// Turns resources folders into the set of components that should run. Rules (README,
// "Dropping in components"):
//  - every `kind: Component` YAML is a component; its `spec.type` resolves to a `.wasm` in
//    the same folder with the same file stem, else to a `.wasm` in the folders that declares
//    that (non-bundled) type, else to the bundled type;
//  - a `.wasm` no YAML claims becomes a component named after its file stem, unconfigured;
//  - every file that cannot be used is reported with its path and the reason.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Manifest } from '../../abi/ts/manifest.ts';
import { isTesseraError } from '../errors.ts';
import { readAnyManifest } from '../sandbox/manifest.ts';
import { parseResourceFile, type ComponentSpec } from './component-yaml.ts';
import { DEFAULT_LIMITS, type ComponentLimits } from './limits.ts';
import type { ModuleRef } from './type-catalog.ts';

/** A broken `.wasm` modified this recently may still be being written. */
const SETTLE_MS = 2000;

/** Modules larger than this are refused before they are read into memory. */
export const MAX_MODULE_BYTES = 32 * 1024 * 1024;

export interface DesiredComponent {
  name: string;
  /** The file that defines it: its YAML, or the `.wasm` itself. */
  source: string;
  modulePath: string;
  bytes: Uint8Array;
  sha256: string;
  manifest: Manifest;
  config: ReadonlyMap<string, string>;
  limits: ComponentLimits;
  ignoreErrors: boolean;
}

export interface PlanFailure {
  /** The component name when known, else the file stem. */
  name: string;
  /** The component type, when the file got far enough to say. */
  type?: string;
  source: string;
  error: string;
  /**
   * The file looks half-written (empty or truncated, and modified just now): a copy in
   * progress. It is not reported yet; the caller scans again shortly.
   */
  transient?: boolean;
}

export interface ResourcePlan {
  components: DesiredComponent[];
  failures: PlanFailure[];
  /** Non-Component resource documents (Subscription, Resiliency, ...). */
  others: { kind: string; document: unknown; source: string }[];
}

interface WasmFile {
  path: string;
  dir: string;
  stem: string;
  bytes: Uint8Array;
  sha256: string;
  manifest: Manifest;
}

const stemOf = (file: string): string => basename(file, extname(file));
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const reason = (err: unknown): string => (isTesseraError(err) ? err.message : String((err as Error)?.message ?? err));

/** `source: message`, unless the message already starts with the source. */
export const prefixed = (source: string, message: string): string => (message.startsWith(source) ? message : `${source}: ${message}`);

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Reads a module file and its manifest; the bytes and hash are what will run. */
export async function readModuleFile(path: string): Promise<{ bytes: Uint8Array; sha256: string; manifest: Manifest }> {
  const info = await stat(path);
  if (info.size > MAX_MODULE_BYTES) {
    throw new Error(`the file is ${(info.size / 1048576).toFixed(1)} MiB, over the ${MAX_MODULE_BYTES / 1048576} MiB module limit`);
  }
  const bytes = new Uint8Array(await readFile(path));
  return { bytes, sha256: sha256(bytes), manifest: readAnyManifest(bytes) };
}

async function recentlyModified(path: string): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs < SETTLE_MS;
  } catch {
    return false;
  }
}

async function looksHalfWritten(path: string, err: unknown): Promise<boolean> {
  return /the file is empty|truncated|unexpected end/.test(reason(err)) && (await recentlyModified(path));
}

/** Configuration Dapr adds for a kind: a pub/sub broker's `consumerID` defaults to the app id. */
function withDefaults(manifest: Manifest, config: ReadonlyMap<string, string>, appId: string): ReadonlyMap<string, string> {
  if (manifest.kind !== 'pubsub' || config.has('consumerID')) return config;
  return new Map([...config, ['consumerID', appId]]);
}

export async function scanResources(dirs: readonly string[], bundled: ReadonlyMap<string, ModuleRef>, appId: string): Promise<ResourcePlan> {
  const plan: ResourcePlan = { components: [], failures: [], others: [] };
  const specs: ComponentSpec[] = [];
  const wasm: WasmFile[] = [];

  for (const dir of dirs) {
    for (const file of await listDir(dir)) {
      const path = join(dir, file);
      const ext = extname(file).toLowerCase();
      try {
        if (ext === '.yaml' || ext === '.yml') {
          const text = await readFile(path, 'utf8');
          if (text.trim() === '' && (await recentlyModified(path))) {
            // An editor's truncate-then-write: keep what runs until the file has content or settles.
            plan.failures.push({ name: stemOf(file), source: path, error: `${path}: the file is empty`, transient: true });
            continue;
          }
          const parsed = parseResourceFile(text, path);
          specs.push(...parsed.components);
          plan.others.push(...parsed.others.map((o) => ({ ...o, source: path })));
        } else if (ext === '.wasm') {
          wasm.push({ path, dir, stem: stemOf(file), ...(await readModuleFile(path)) });
        }
      } catch (err) {
        const failure: PlanFailure = { name: stemOf(file), source: path, error: prefixed(path, reason(err)) };
        if (ext === '.wasm' && (await looksHalfWritten(path, err))) failure.transient = true;
        plan.failures.push(failure);
      }
    }
  }

  // Resource modules may add types the sidecar does not ship; they never shadow a bundled type.
  const provided = new Map<string, WasmFile>();
  for (const w of wasm) {
    if (!bundled.has(w.manifest.type) && !provided.has(w.manifest.type)) provided.set(w.manifest.type, w);
  }

  const claimed = new Set<WasmFile>();
  const named = new Map<string, string>();
  const add = (c: DesiredComponent): void => {
    const earlier = named.get(c.name);
    if (earlier !== undefined) {
      plan.failures.push({ name: c.name, type: c.manifest.type, source: c.source, error: `${c.source}: component "${c.name}" is already defined by ${earlier}` });
      return;
    }
    named.set(c.name, c.source);
    plan.components.push(c);
  };

  for (const spec of specs) {
    const paired = wasm.find((w) => w.stem === stemOf(spec.source) && spec.source.startsWith(w.dir));
    const fromFolder = paired ?? provided.get(spec.type);
    if (fromFolder) claimed.add(fromFolder);
    if (spec.scopes.length > 0 && !spec.scopes.includes(appId)) continue;
    try {
      const module = fromFolder ?? (await bundledModule(bundled, spec.type));
      if (module.manifest.type !== spec.type) {
        throw new Error(`spec.type is "${spec.type}" but ${module.path} declares type "${module.manifest.type}"`);
      }
      if (module.manifest.version !== spec.version) {
        throw new Error(`spec.version is "${spec.version}" but ${module.path} implements ${spec.type} version "${module.manifest.version}"`);
      }
      add({
        name: spec.name,
        source: spec.source,
        modulePath: module.path,
        bytes: module.bytes,
        sha256: module.sha256,
        manifest: module.manifest,
        config: withDefaults(module.manifest, spec.config, appId),
        limits: spec.limits,
        ignoreErrors: spec.ignoreErrors,
      });
    } catch (err) {
      plan.failures.push({ name: spec.name, type: spec.type, source: spec.source, error: prefixed(spec.source, reason(err)) });
    }
  }

  for (const w of wasm) {
    if (claimed.has(w)) continue;
    add({ name: w.stem, source: w.path, modulePath: w.path, bytes: w.bytes, sha256: w.sha256, manifest: w.manifest, config: withDefaults(w.manifest, new Map(), appId), limits: { ...DEFAULT_LIMITS }, ignoreErrors: false });
  }
  return plan;

  async function bundledModule(types: ReadonlyMap<string, ModuleRef>, type: string): Promise<Omit<WasmFile, 'dir' | 'stem'>> {
    const ref = types.get(type);
    if (!ref) {
      const known = [...types.keys(), ...provided.keys()].sort();
      throw new Error(`unknown component type "${type}" (known types: ${known.join(', ') || 'none'})`);
    }
    return { path: ref.path, ...(await readModuleFile(ref.path)) };
  }
}
