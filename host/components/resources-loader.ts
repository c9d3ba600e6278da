// Turns resources folders into the set of components that should run. Rules (README,
// "Dropping in components"):
//  - every `kind: Component` YAML is a component; its `spec.type` resolves to a `.wasm` in
//    the same folder with the same file stem, else to a `.wasm` in the folders that declares
//    that (non-bundled) type, else to the bundled type;
//  - a Component of a `middleware.*` type is a host built-in (middleware/), with no `.wasm`;
//  - a `.wasm` no YAML claims becomes a component named after its file stem, unconfigured;
//  - every file that cannot be used is reported with its path and the reason.
// Two files may declare the same name: both are in the plan, in scan order, and the registry
// decides which keeps the name (duplicate-names.ts), since that depends on what runs.
// Here only the folders are listed: every file is read and parsed on the load worker
// (regular files only, size-limited while read), all of a scan's files at once.
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Manifest } from '../../abi/ts/manifest.ts';
import { isTesseraError } from '../errors.ts';
import { NO_GRANTS, type Grants } from '../sandbox/capabilities/capability.ts';
import { kindOf } from '../sandbox/kinds/index.ts';
import type { ComponentSpec } from './component-yaml.ts';
import type { MiddlewareComponent } from '../middleware/http-pipeline.ts';
import { DEFAULT_LIMITS, type ComponentLimits } from './limits.ts';
import type { PersistSettings } from './persist-settings.ts';
import type { PreparedComponent } from '../sandbox/compiled-component.ts';
import type { ModuleFile, PrepareAhead, YamlFile } from './load-jobs.ts';
import { READ_DEADLINE_MS, loadWorkers, type LoadWorkers } from './load-worker.ts';
import { heldFirst } from './resource-bounds.ts';
import type { ModuleRef } from './type-catalog.ts';

/** A broken file modified this recently may still be being written. */
const SETTLE_MS = 2000;

/** How long a component may take to start (instantiate, `init`, `features`) unless its YAML sets `spec.initTimeout`. */
export const DEFAULT_INIT_TIMEOUT_MS = 10_000;

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
  /** What its YAML grants it, by capability (none for a bare `.wasm`). */
  grants: Grants;
  /** How long starting it may take before it is given up (`spec.initTimeout`). */
  initTimeoutMs: number;
  ignoreErrors: boolean;
  /** Where its data is kept across restarts (`tessera.dev/persist`), when it is. */
  persist?: PersistSettings | undefined;
  /** The latest modification time of its files (YAML, module): a touch retries a failed start at once. */
  changedAtMs: number;
  /** The module already prepared for these limits, with its read (ScanAhead); else the registry prepares it. */
  prepared?: PreparedComponent | undefined;
}

/** What a scan may prepare as it reads the modules (load-jobs.ts, `PrepareAhead`). */
export interface ScanAhead {
  /** The limits to prepare with: a component given others is prepared apart. */
  limits: Pick<ComponentLimits, 'memoryLimitBytes' | 'cpuBudget'>;
  /** The sha256 of each module file at the last scan: bytes read before are not prepared again. */
  known: ReadonlyMap<string, string>;
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
  /** In scan order: folder order, a folder's YAML files (by name) before its bare modules (by name). Names may repeat. */
  components: DesiredComponent[];
  failures: PlanFailure[];
  /** Components of `middleware.*` types scoped to this app: host built-ins, for the HTTP pipeline. */
  middlewares: MiddlewareComponent[];
  /** Non-Component resource documents (Subscription, Resiliency, ...). */
  others: { kind: string; document: unknown; source: string }[];
}

interface WasmFile extends ModuleFile {
  path: string;
  dir: string;
  stem: string;
}

const stemOf = (file: string): string => basename(file, extname(file));
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

/** The configuration Dapr adds for the component's kind (a pub/sub broker's `consumerID`). */
function withDefaults(manifest: Manifest, config: ReadonlyMap<string, string>, appId: string): ReadonlyMap<string, string> {
  return kindOf(manifest.kind)?.withDefaults?.(config, { appId }) ?? config;
}

const RESOURCE_EXTENSIONS = new Set(['.yaml', '.yml', '.wasm']);

/**
 * Resource files one scan reads, across its folders: a folder of thousands of files would
 * otherwise make every change read (and report) all of them. Past it files are not read, and
 * one failure says so; the files of running components are read first, so adding files never
 * stops a component that runs.
 */
export const MAX_RESOURCE_FILES = 256;

interface ListedFile {
  dir: string;
  file: string;
}

/**
 * Bytes of modules one scan reads: each module may be 32 MiB and each is held while its
 * component runs, so 256 of them would be 8 GiB. Sizes are what the folder says before the
 * read (the read itself still stops at each module's own limit); the modules of running
 * components are counted first.
 */
export const MAX_SCAN_MODULE_BYTES = 256 * 1024 * 1024;

const isModuleFile = (f: ListedFile): boolean => extname(f.file).toLowerCase() === '.wasm';

/** The files to read once the modules are within MAX_SCAN_MODULE_BYTES, and the failure naming the first module left out. */
async function withinModuleBytes(files: readonly ListedFile[], holding: ReadonlySet<string>): Promise<{ read: ListedFile[]; left: ListedFile[]; over: PlanFailure | undefined }> {
  const modules = files.filter(isModuleFile);
  const sizes = new Map(await Promise.all(modules.map(async (f) => [f, await stat(join(f.dir, f.file)).then((s) => s.size, () => 0)] as const)));
  let total = 0;
  for (const size of sizes.values()) total += size;
  if (total <= MAX_SCAN_MODULE_BYTES) return { read: [...files], left: [], over: undefined };
  let used = 0;
  const left = new Set<ListedFile>();
  for (const f of heldFirst(modules, (m) => holding.has(join(m.dir, m.file)))) {
    const size = sizes.get(f)!;
    if (used + size <= MAX_SCAN_MODULE_BYTES) used += size;
    else left.add(f);
  }
  const first = modules.find((m) => left.has(m))!;
  const path = join(first.dir, first.file);
  const others = left.size - 1;
  return {
    read: files.filter((f) => !left.has(f)),
    left: [...left],
    over: {
      name: stemOf(first.file),
      source: path,
      error: `${path}${others > 0 ? ` and ${others} more modules after it` : ''}: not read: the modules in the resources folders come to ${mib(total)}, over the ${mib(MAX_SCAN_MODULE_BYTES)} a scan reads`,
    },
  };
}

const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;

/** The files a scan reads, in scan order, and the failure for those it leaves, naming the first of them. */
function filesToRead(files: readonly ListedFile[], holding: ReadonlySet<string>): { read: ListedFile[]; over: PlanFailure | undefined } {
  if (files.length <= MAX_RESOURCE_FILES) return { read: [...files], over: undefined };
  const chosen = new Set(heldFirst(files, (f) => holding.has(join(f.dir, f.file))).slice(0, MAX_RESOURCE_FILES));
  const left = files.filter((f) => !chosen.has(f));
  const first = join(left[0]!.dir, left[0]!.file);
  const others = left.length - 1;
  return {
    read: files.filter((f) => chosen.has(f)),
    over: {
      name: stemOf(first),
      source: first,
      error: `${first}${others > 0 ? ` and ${others} more files after it` : ''}: not read: the resources folders hold ${files.length} resource files, over the ${MAX_RESOURCE_FILES} a sidecar reads`,
    },
  };
}

type ResourceRead = { wasm: WasmFile } | { yaml: YamlFile; source: string } | { failure: PlanFailure };

/** A Component from a YAML, with the YAML's modification time. */
type TimedSpec = ComponentSpec & { mtimeMs: number };

/** A module file read on a load worker, and prepared with the read when `ahead` asks. */
function readModule(path: string, dir: string, workers: LoadWorkers, ahead: ScanAhead | undefined): Promise<ModuleFile> {
  const prepare: PrepareAhead | undefined = ahead && { options: { source: path, ...ahead.limits }, unlessSha256: ahead.known.get(path) };
  return workers.run('readModuleFile', [path, dir, prepare], path, READ_DEADLINE_MS);
}

/** The module as prepared with its read, when that was with the limits the component gets. */
function preparedFor(module: ModuleFile, path: string, limits: ComponentLimits): PreparedComponent | undefined {
  const ahead = module.prepared;
  if (ahead === undefined || ahead.options.source !== path) return undefined;
  return ahead.options.memoryLimitBytes === limits.memoryLimitBytes && ahead.options.cpuBudget === limits.cpuBudget ? ahead.component : undefined;
}

/** One file of a folder, read and parsed on a load worker; a file that cannot be used is a failure naming it. */
async function readResource(dir: string, file: string, workers: LoadWorkers, ahead: ScanAhead | undefined): Promise<ResourceRead> {
  const path = join(dir, file);
  const isModule = extname(file).toLowerCase() === '.wasm';
  try {
    if (isModule) return { wasm: { path, dir, stem: stemOf(file), ...(await readModule(path, dir, workers, ahead)) } };
    const yaml = await workers.run('readYamlFile', [path, dir], path, READ_DEADLINE_MS);
    // An editor's truncate-then-write: keep what runs until the file has content or settles.
    if (yaml.empty && Date.now() - yaml.mtimeMs < SETTLE_MS) return { failure: { name: stemOf(file), source: path, error: `${path}: the file is empty`, transient: true } };
    return { yaml, source: path };
  } catch (err) {
    const failure: PlanFailure = { name: stemOf(file), source: path, error: prefixed(path, reason(err)) };
    if (isModule && (await looksHalfWritten(path, err))) failure.transient = true;
    return { failure };
  }
}

/**
 * The plan for `dirs`. `bundled` may still be on its way (a hot swap's scan lists the bundled
 * types while it reads the folders, not before): it is needed only once the files are read.
 * With `ahead`, new modules are prepared as they are read (the sidecar's scans). `holding`
 * names the files (YAML and modules) of the components that run: past MAX_RESOURCE_FILES
 * or MAX_SCAN_MODULE_BYTES they are read before any other.
 */
export async function scanResources(
  dirs: readonly string[],
  bundled: ReadonlyMap<string, ModuleRef> | Promise<ReadonlyMap<string, ModuleRef>>,
  appId: string,
  workers: LoadWorkers = loadWorkers,
  ahead?: ScanAhead,
  holding: ReadonlySet<string> = new Set(),
): Promise<ResourcePlan> {
  const plan: ResourcePlan = { components: [], failures: [], middlewares: [], others: [] };
  const specs: TimedSpec[] = [];
  const wasm: WasmFile[] = [];
  /** Modules left unread by MAX_SCAN_MODULE_BYTES: a YAML they pair with fails rather than fall back to a bundled type. */
  const unread: ListedFile[] = [];

  const readAll = async (): Promise<ResourceRead[]> => {
    const listed = await Promise.all(dirs.map(async (dir) => (await listDir(dir)).map((file) => ({ dir, file }))));
    const files = listed.flat().filter(({ file }) => RESOURCE_EXTENSIONS.has(extname(file).toLowerCase()));
    // All at once, on the load workers; taken in folder order.
    const counted = filesToRead(files, holding);
    const { read, left, over } = await withinModuleBytes(counted.read, holding);
    unread.push(...left);
    const reads = read.map(({ dir, file }) => readResource(dir, file, workers, ahead));
    for (const failure of [counted.over, over]) if (failure !== undefined) reads.push(Promise.resolve({ failure }));
    return Promise.all(reads);
  };
  const [reads, types] = await Promise.all([readAll(), bundled]);
  for (const read of reads) {
    if ('wasm' in read) wasm.push(read.wasm);
    else if ('failure' in read) plan.failures.push(read.failure);
    else {
      specs.push(...read.yaml.components.map((spec) => ({ ...spec, mtimeMs: read.yaml.mtimeMs })));
      for (const { scopes, ...middleware } of read.yaml.middlewares) if (scopes.length === 0 || scopes.includes(appId)) plan.middlewares.push(middleware);
      plan.others.push(...read.yaml.others.map((o) => ({ ...o, source: read.source })));
    }
  }

  // Resource modules may add types the sidecar does not ship; they never shadow a bundled type.
  const provided = new Map<string, WasmFile>();
  for (const w of wasm) {
    if (!types.has(w.manifest.type) && !provided.has(w.manifest.type)) provided.set(w.manifest.type, w);
  }

  const bundledReads = new Map<string, Promise<ModuleFile>>();
  const claimed = new Set<WasmFile>();

  for (const spec of specs) {
    const paired = wasm.find((w) => w.stem === stemOf(spec.source) && spec.source.startsWith(w.dir));
    const fromFolder = paired ?? provided.get(spec.type);
    if (fromFolder) claimed.add(fromFolder);
    if (spec.scopes.length > 0 && !spec.scopes.includes(appId)) continue;
    const pairedUnread = paired === undefined ? unread.find((f) => stemOf(f.file) === stemOf(spec.source) && spec.source.startsWith(f.dir)) : undefined;
    if (pairedUnread !== undefined) {
      plan.failures.push({ name: spec.name, type: spec.type, source: spec.source, error: `${spec.source}: its module ${join(pairedUnread.dir, pairedUnread.file)} was not read (the scan's ${mib(MAX_SCAN_MODULE_BYTES)} of modules were used up)` });
      continue;
    }
    try {
      const module = fromFolder ?? (await bundledModule(types, spec.type));
      if (module.manifest.type !== spec.type) {
        throw new Error(`spec.type is "${spec.type}" but ${module.path} declares type "${module.manifest.type}"`);
      }
      if (module.manifest.version !== spec.version) {
        throw new Error(`spec.version is "${spec.version}" but ${module.path} implements ${spec.type} version "${module.manifest.version}"`);
      }
      plan.components.push({
        name: spec.name,
        source: spec.source,
        modulePath: module.path,
        bytes: module.bytes,
        sha256: module.sha256,
        manifest: module.manifest,
        config: withDefaults(module.manifest, spec.config, appId),
        limits: spec.limits,
        grants: spec.grants,
        initTimeoutMs: spec.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS,
        ignoreErrors: spec.ignoreErrors,
        persist: spec.persist,
        changedAtMs: Math.max(spec.mtimeMs, fromFolder?.mtimeMs ?? 0),
        prepared: preparedFor(module, module.path, spec.limits),
      });
    } catch (err) {
      plan.failures.push({ name: spec.name, type: spec.type, source: spec.source, error: prefixed(spec.source, reason(err)) });
    }
  }

  for (const w of wasm) {
    if (claimed.has(w)) continue;
    plan.components.push({
      name: w.stem,
      source: w.path,
      modulePath: w.path,
      bytes: w.bytes,
      sha256: w.sha256,
      manifest: w.manifest,
      config: withDefaults(w.manifest, new Map(), appId),
      limits: { ...DEFAULT_LIMITS },
      grants: NO_GRANTS,
      initTimeoutMs: DEFAULT_INIT_TIMEOUT_MS,
      ignoreErrors: false,
      changedAtMs: w.mtimeMs,
      prepared: preparedFor(w, w.path, DEFAULT_LIMITS),
    });
  }
  return plan;

  async function bundledModule(types: ReadonlyMap<string, ModuleRef>, type: string): Promise<Omit<WasmFile, 'dir' | 'stem'>> {
    const ref = types.get(type);
    if (!ref) {
      const known = [...types.keys(), ...provided.keys()].sort();
      throw new Error(`unknown component type "${type}" (known types: ${known.join(', ') || 'none'})`);
    }
    // Read once per scan however many YAML files name the type.
    let module = bundledReads.get(ref.path);
    if (module === undefined) {
      module = readModule(ref.path, dirname(ref.path), workers, ahead);
      bundledReads.set(ref.path, module);
    }
    return { path: ref.path, ...(await module) };
  }
}
