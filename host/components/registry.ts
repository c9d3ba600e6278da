// The registry: component name -> the handle serving it. `apply` moves it to a new resource
// plan: unchanged components are left alone, changed ones are prepared on the load worker,
// started beside the running generation and swapped in only once they started, removed ones
// are unloaded. Every name has its own serial chain of these steps, so a component that is
// slow or hangs never holds up another, and each step is bounded: preparing by the load
// worker's deadline, starting by the component's init timeout (a start that finishes late is
// closed). A component that fails to load never replaces a running one; its error is reported
// (logged once per distinct error). One whose start failed (init refused, trapped or timed
// out: its Redis is not up yet, say) is tried again with backoff (load-retries.ts) until it
// starts, changes or is removed; calls to it meanwhile say why it is not there. Two files
// declaring one name: the one holding it keeps it (duplicate-names.ts).
// The registry knows no kind by name: each component is adapted, looked up, counted and
// reported through its kind's descriptor (host/sandbox/kinds/).
import { TesseraError, isTesseraError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { ComponentObserver } from '../observability/component-observer.ts';
import { grantProblems } from '../sandbox/capabilities/index.ts';
import { CompiledComponent } from '../sandbox/compiled-component.ts';
import type { ComponentUsage, GuestComponent } from '../sandbox/guest-component.ts';
import { InstancePool } from '../sandbox/instance-pool.ts';
import { kindOf } from '../sandbox/kinds/index.ts';
import type { AdapterHost, KindApi, KindDescriptor } from '../sandbox/kinds/kind.ts';
import { pubSubKind } from '../sandbox/kinds/pubsub-broker.ts';
import { stateStoreKind } from '../sandbox/kinds/state-store.ts';
import { startGuest } from '../sandbox/start-guest.ts';
import { ComponentHandle, type Generation } from './component-handle.ts';
import { DEFAULT_MAX_COMPONENTS, withinCount } from './component-count.ts';
import { LogBudget, MAX_FAILURES_LISTED } from './resource-bounds.ts';
import { ownersOf } from './duplicate-names.ts';
import { FailureLog } from './failure-log.ts';
import { FIRST_RETRY_MS, LoadRetries, MAX_RETRY_MS, RETRY_FACTOR, type RetryClock } from './load-retries.ts';
import { LOAD_DEADLINE_MS, loadWorkers, type LoadWorkers } from './load-worker.ts';
import { prefixed, type DesiredComponent, type PlanFailure, type ResourcePlan } from './resources-loader.ts';
import { SnapshotPersister, checkPersistable, restorePersisted, sharedPersistFiles } from './snapshot-persister.ts';
import type { ComponentDirectory, ComponentInfo, GenerationInfo, LiveComponentOf, LivePubSub, LiveStateStore, LoadFailure } from './types.ts';

export interface RegistryOptions {
  logger: Logger;
  /** Where components are prepared (checked, hardened, compiled); the shared pool unless given. */
  workers?: LoadWorkers;
  /** Told whenever a component is loaded, swapped, rolled back or unloaded. */
  onChange?: () => void;
  /** Times the retries of failed starts; the system clock unless given (tests step through the backoff). */
  clock?: RetryClock;
  /** Told of loads, failed starts, compiles and every component call, when metrics are on. */
  observer?: ComponentObserver | undefined;
  /** Most components run at once (`--max-components`); DEFAULT_MAX_COMPONENTS unless given. */
  maxComponents?: number | undefined;
}

interface Entry {
  handle: ComponentHandle;
  /** What the resources folder says now; may differ from the running generation after a rollback. */
  desired: DesiredComponent;
  fingerprint: string;
  kind: KindDescriptor;
  /** The component as its building block sees it (the kind's adapter); its config follows the running generation. */
  live: LiveComponentOf<KindApi>;
  /** The shape an older lookup (`getStateStore`, `getPubSub`) gives of `live`, made once per `live`. */
  view?: { of: LiveComponentOf<KindApi>; as: unknown };
  /** Writes its data to its `tessera.dev/persist` file, when its YAML asks for one. */
  persister?: SnapshotPersister | undefined;
}

/** One component name: what the folder asks for, what runs, and the chain of steps between. */
interface Slot {
  /** What the resources folder asks for now; undefined once it was removed. */
  target: DesiredComponent | undefined;
  entry: Entry | undefined;
  /** Why the component asked for is not running: its load failed. */
  failure: PlanFailure | undefined;
  /** The last step queued; each step waits for the one before. */
  chain: Promise<void>;
  /** Steps queued or running. */
  pending: number;
}

/** How long `close` waits for loads under way, then for each component to close. */
const CLOSE_WAIT_MS = 2_000;
/** How long `close` waits for the last writes of persisted components' data. */
const PERSIST_CLOSE_WAIT_MS = 5_000;
/** Beyond its prepare and start deadlines, how long `apply` waits for one component (a swap carrying its data). */
const SWAP_GRACE_MS = 5_000;

const fingerprintOf = (c: DesiredComponent): string =>
  JSON.stringify([c.sha256, c.manifest.type, c.manifest.version, [...c.config], c.limits, c.grants, c.initTimeoutMs, c.persist]);

/** Writes a persisted component's data one last time, then closes it. */
async function unload(entry: Entry): Promise<void> {
  await entry.persister?.close();
  await entry.handle.close();
}

const reason = (err: unknown): string => (isTesseraError(err) ? err.message : String(err));

/** What a retry waits to try again: the component, and when its files last changed (a touch retries at once). */
const retryKeyOf = (c: DesiredComponent): string => `${fingerprintOf(c)}@${c.changedAtMs}`;

const RETRY_NOTE = `; tried again after ${FIRST_RETRY_MS / 1000} s, then each wait ${RETRY_FACTOR} times longer up to ${MAX_RETRY_MS / 1000} s`;

/** How long `apply` waits for a step on a component: its deadlines, and a swap's grace. */
const stepBound = (c: DesiredComponent): number => LOAD_DEADLINE_MS + c.initTimeoutMs + SWAP_GRACE_MS;

/** Resolves when `work` settles or after `ms`, whichever comes first. */
function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([work.then(() => undefined, () => undefined), timeout]).finally(() => clearTimeout(timer));
}

/** The entry's component as `kind`'s building block sees it, with the running generation's config; undefined when it is of another kind. */
function liveOf<Api extends KindApi>(entry: Entry, kind: KindDescriptor<Api>): LiveComponentOf<Api> | undefined {
  if (entry.kind.kind !== kind.kind) return undefined;
  // The config follows the running generation (it changes on a swap or a rollback).
  const config = entry.handle.current.desired.config;
  if (entry.live.config !== config) entry.live = { ...entry.live, config };
  return entry.live as LiveComponentOf<Api>;
}

/** What a generation should be told about its grants: capabilities it imports ungranted, grants it does not use. */
const grantWarnings = (g: Generation): string[] => grantProblems(g.desired.name, g.live.compiled.importedInterfaces, g.desired.grants);

/** A component or file that failed to load, as metadata lists it. */
const failedInfo = (f: PlanFailure): ComponentInfo => ({
  name: f.name,
  ...(f.type === undefined ? {} : { type: f.type }),
  capabilities: [],
  status: 'failed',
  source: f.source,
  error: f.error,
});

function generationInfo(g: Generation): GenerationInfo {
  return {
    generation: g.number,
    sha256: g.live.compiled.sha256,
    module: g.desired.modulePath,
    loadedAt: g.live.loadedAt.toISOString(),
  };
}

/** The failures /v1.0/metadata lists: the first MAX_FAILURES_LISTED, then one saying how many more. */
function listed(failures: PlanFailure[]): PlanFailure[] {
  if (failures.length <= MAX_FAILURES_LISTED) return failures;
  const rest = failures.length - MAX_FAILURES_LISTED;
  const next = failures[MAX_FAILURES_LISTED]!;
  return [...failures.slice(0, MAX_FAILURES_LISTED), { name: next.name, source: next.source, error: `${next.error} (and ${rest - 1} more resources not loaded, not listed)` }];
}

export class ComponentRegistry implements ComponentDirectory {
  readonly #slots = new Map<string, Slot>();
  /** Files of the last plan that could not be used (and belong to no running component). */
  #fileFailures: PlanFailure[] = [];
  /** The last attempt that failed to load, by component name: the same bytes and config are not tried again. */
  readonly #lastFailed = new Map<string, { fingerprint: string; message: string }>();
  /** Definitions refused because another file holds their name, by name. */
  #duplicates = new Map<string, PlanFailure[]>();
  readonly #retries: LoadRetries;
  readonly #failureLog: FailureLog;
  readonly #options: RegistryOptions;
  readonly #workers: LoadWorkers;
  #closed = false;

  constructor(options: RegistryOptions) {
    this.#options = options;
    this.#workers = options.workers ?? loadWorkers;
    this.#retries = new LoadRetries((name) => this.#retry(name), options.clock);
    this.#failureLog = new FailureLog((message) => options.logger.error(message));
  }

  /** The files (YAML and module) of every component that runs, starts or waits to retry. */
  files(): Set<string> {
    const files = new Set<string>();
    for (const slot of this.#slots.values()) {
      const desired = slot.target ?? slot.entry?.desired;
      if (desired === undefined) continue;
      files.add(desired.source);
      files.add(desired.modulePath);
    }
    return files;
  }

  /**
   * Moves the registry to `plan`: each component's change is queued on its own chain at
   * once, so a later plan's changes follow this one's. Resolves when every change this plan
   * asked for is done, failed, or past its deadlines.
   */
  apply(plan: ResourcePlan): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const log = this.#options.logger;
    const owned = ownersOf(plan.components, (name) => {
      const slot = this.#slots.get(name);
      return slot?.target?.source ?? slot?.entry?.desired.source;
    });
    const refused = owned.refused;
    this.#duplicates = refused;
    const { kept: persisting, refused: sharingAFile } = sharedPersistFiles(owned.components, (c) => this.#slots.get(c.name)?.entry?.persister?.settings.path === c.persist?.path);
    const counted = withinCount(persisting, this.#options.maxComponents ?? DEFAULT_MAX_COMPONENTS, (name) => {
      const slot = this.#slots.get(name);
      return slot !== undefined && (slot.target !== undefined || slot.entry !== undefined);
    });
    const components = counted.kept;
    const wanted = new Set(components.map((c) => c.name));
    const kept = new Set<string>();
    const fileFailures: PlanFailure[] = [];
    /** The failures of this plan, as the failure log keys them. */
    const failing = new Set<string>();
    const budget = new LogBudget();
    const reportFile = (f: PlanFailure): void => {
      const key = `file:${f.source}:${f.name}`;
      failing.add(key);
      const message = `resource ${f.source} not loaded: ${f.error}`;
      budget.spend(this.#failureLog.isNew(key, message), () => this.#failureLog.report(key, message));
    };
    for (const failure of [...refused.values()].flat()) reportFile(failure);
    // The slots by the file they were loaded from, looked up once per failure (there may be thousands).
    const bySource = new Map<string, [string, Slot][]>();
    for (const pair of this.#slots) {
      const source = pair[1].target?.source;
      if (source === undefined) continue;
      const same = bySource.get(source);
      if (same === undefined) bySource.set(source, [pair]);
      else same.push(pair);
    }
    for (const failure of [...plan.failures, ...sharingAFile, ...(counted.over === undefined ? [] : [counted.over])]) {
      // A broken edit of a running (or starting) component's file keeps what runs; a file
      // still being written is not an error yet.
      const owner = bySource.get(failure.source)?.find(([name, s]) => !wanted.has(name) && (s.entry !== undefined || s.failure === undefined));
      if (owner) kept.add(owner[0]);
      if (failure.transient) {
        log.debug(`resource ${failure.source} looks half-written; waiting for the rest`);
        continue;
      }
      reportFile(failure);
      const entry = owner?.[1].entry;
      if (entry) entry.handle.loadError = failure.error;
      else fileFailures.push(failure);
    }
    const unlogged = budget.summary('resources not loaded');
    if (unlogged !== undefined) log.error(unlogged);
    this.#fileFailures = listed(fileFailures);
    this.#failureLog.keepOnly('file:', failing);

    const steps: Promise<void>[] = [];
    for (const [name, slot] of this.#slots) {
      if (wanted.has(name) || kept.has(name) || slot.target === undefined) continue;
      const removed = slot.target;
      slot.target = undefined;
      slot.failure = undefined;
      this.#retries.forget(name);
      this.#failureLog.clear(`component:${name}`);
      steps.push(within(this.#queue(name, slot, () => this.#converge(name, slot)), stepBound(removed)));
    }
    for (const desired of components) {
      let slot = this.#slots.get(desired.name);
      if (slot === undefined) {
        slot = { target: undefined, entry: undefined, failure: undefined, chain: Promise.resolve(), pending: 0 };
        this.#slots.set(desired.name, slot);
      }
      const before = slot.target;
      slot.target = desired;
      // Failed to start and unchanged since: its timer tries again (a rescan for another file does not).
      if (this.#retries.waitsFor(desired.name, retryKeyOf(desired))) continue;
      // Nothing to do, when nothing is under way: answered now, so metadata is at once up to date.
      if (slot.pending === 0 && this.#settled(desired.name, slot, desired)) continue;
      // Already on its way there: this plan asks nothing new of the component, nor waits for it.
      if (slot.pending > 0 && before !== undefined && fingerprintOf(before) === fingerprintOf(desired)) continue;
      const step = this.#queue(desired.name, slot, () => this.#converge(desired.name, slot));
      steps.push(within(step, stepBound(desired)));
    }
    for (const name of this.#lastFailed.keys()) if (!wanted.has(name)) this.#lastFailed.delete(name);
    return Promise.all(steps).then(() => undefined);
  }

  /** A retry's timer fired: tries the component again, unless a step on it is under way already. */
  #retry(name: string): void {
    const slot = this.#slots.get(name);
    if (this.#closed || slot?.target === undefined || slot.pending > 0) return;
    void this.#queue(name, slot, () => this.#converge(name, slot));
  }

  /** Queues `step` on the name's chain; a slot left with nothing to do is forgotten. */
  #queue<T>(name: string, slot: Slot, step: () => Promise<T>): Promise<T> {
    slot.pending++;
    const run = slot.chain.then(step);
    slot.chain = run.then(
      () => undefined,
      () => undefined,
    );
    void slot.chain.then(() => {
      slot.pending--;
      if (slot.pending === 0 && slot.target === undefined && slot.entry === undefined && this.#slots.get(name) === slot) this.#slots.delete(name);
    });
    return run;
  }

  /**
   * Handles the cases that need no load: the component runs with this fingerprint already,
   * or the same bytes and config failed before. True when one of them applied.
   */
  #settled(name: string, slot: Slot, desired: DesiredComponent): boolean {
    const fingerprint = fingerprintOf(desired);
    const entry = slot.entry;
    if (entry?.fingerprint === fingerprint) {
      entry.desired = desired;
      entry.handle.loadError = undefined;
      slot.failure = undefined;
      return true;
    }
    const failedBefore = this.#lastFailed.get(name);
    if (failedBefore?.fingerprint !== fingerprint) return false;
    this.#report(slot, desired, failedBefore.message);
    return true;
  }

  /** A failed load: on the running component when there is one, else as a failed component. */
  #report(slot: Slot, desired: DesiredComponent, message: string): void {
    if (slot.entry) slot.entry.handle.loadError = message;
    else slot.failure = { name: desired.name, type: desired.manifest.type, source: desired.source, error: message };
  }

  /** One step of a name's chain: moves what runs to what the folder asks for now. */
  async #converge(name: string, slot: Slot): Promise<void> {
    if (this.#closed) return;
    const log = this.#options.logger;
    const desired = slot.target;
    const current = slot.entry;
    if (desired === undefined) {
      slot.failure = undefined;
      if (current === undefined) return;
      slot.entry = undefined;
      void unload(current);
      log.info(`component "${name}" unloaded (${current.desired.source} removed)`);
      this.#changed();
      return;
    }
    if (this.#settled(name, slot, desired)) return;
    const fingerprint = fingerprintOf(desired);
    const started = Date.now();
    const retried = this.#retries.info(name);
    /** Whether the failure, if any, came in starting (init): retried, unlike a module that cannot be used. */
    let starting = false;
    try {
      if (current) {
        if (desired.manifest.kind !== current.kind.kind) {
          throw new TesseraError(
            'ERR_COMPONENT_LOAD',
            `the new version is of kind "${desired.manifest.kind}", the running one of kind "${current.kind.kind}": a component keeps its kind across versions (give the new one another name)`,
          );
        }
        const compiled = await this.#prepare(desired);
        checkPersistable(desired, compiled.optionalExports);
        starting = true;
        const live = await this.#startWithin(compiled, desired, current.handle.onTrap);
        if (this.#closed) {
          void live.close();
          return;
        }
        const startMs = Date.now() - started;
        const generation = await current.handle.swap({ desired, live });
        this.#options.observer?.initialized(desired.manifest.type);
        current.desired = desired;
        current.fingerprint = fingerprint;
        this.#persist(current, false);
        if (this.#closed) void unload(current);
        // Where a swap's time went: preparing (unless the scan did with its read) and starting, then the handover of the data.
        log.info(`component "${name}" swapped to generation ${generation.number}: ${desired.manifest.type} ${desired.manifest.version} from ${desired.modulePath}`, {
          sha256: desired.sha256.slice(0, 12),
          ms: Date.now() - started,
          startMs,
          handoverMs: Date.now() - started - startMs,
          preparedWithRead: desired.prepared !== undefined,
        });
        this.#warnGrants(generation);
      } else {
        const compiled = await this.#prepare(desired);
        checkPersistable(desired, compiled.optionalExports);
        starting = true;
        const entry = await this.#create(compiled, desired, fingerprint);
        if (this.#closed) {
          void unload(entry);
          return;
        }
        slot.entry = entry;
        this.#options.observer?.initialized(desired.manifest.type);
        const after = retried === undefined ? '' : ` after ${retried.failures} failed start${retried.failures === 1 ? '' : 's'}`;
        log.info(`component "${name}" loaded${after}: ${desired.manifest.type} ${desired.manifest.version} from ${desired.modulePath}`, {
          sha256: desired.sha256.slice(0, 12),
          ms: Date.now() - started,
        });
        this.#warnGrants(entry.handle.current);
      }
      slot.failure = undefined;
      this.#retries.forget(name);
      this.#failureLog.clear(`component:${name}`);
      this.#changed();
    } catch (err) {
      if (this.#closed) return;
      const message = prefixed(desired.source, reason(err));
      const keeps = current ? ' (the running generation keeps serving)' : '';
      this.#options.observer?.initFailed(desired.manifest.type, name, starting ? 'init' : 'load');
      if (starting) {
        // What it needs may come up later (its Redis, say): tried again on a timer.
        const delay = this.#retries.failed(name, retryKeyOf(desired));
        this.#failureLog.report(`component:${name}`, `component "${name}" failed to load: ${message}${keeps}${RETRY_NOTE}`);
        log.debug(`component "${name}" is tried again in ${delay} ms`);
      } else {
        // A module that cannot be used gives the same answer with the same bytes and config.
        this.#lastFailed.set(name, { fingerprint, message });
        this.#failureLog.report(`component:${name}`, `component "${name}" failed to load: ${message}${keeps}`);
      }
      this.#report(slot, desired, message);
    }
  }

  /** Logs what the component should be told about its grants (metadata reports it too). */
  #warnGrants(generation: Generation): void {
    for (const problem of grantWarnings(generation)) this.#options.logger.warn(`component "${generation.desired.name}": ${problem}`);
  }

  #changed(): void {
    try {
      this.#options.onChange?.();
    } catch (err) {
      this.#options.logger.warn(`reacting to a component change failed: ${(err as Error).message}`);
    }
  }

  /**
   * The component prepared on the load worker (checked, hardened, compiled; bounded by its
   * deadline), unless the scan prepared it with its read.
   */
  async #prepare(desired: DesiredComponent): Promise<CompiledComponent> {
    const started = performance.now();
    const prepared =
      desired.prepared ??
      (await this.#workers.run(
        'prepare',
        [desired.bytes, { source: desired.modulePath, memoryLimitBytes: desired.limits.memoryLimitBytes, cpuBudget: desired.limits.cpuBudget }],
        desired.modulePath,
      ));
    const compiled = CompiledComponent.fromPrepared(prepared);
    this.#options.observer?.compiled(desired.name, (performance.now() - started) / 1000);
    return compiled;
  }

  /**
   * Starts a generation, giving up after the component's init timeout: the start is then
   * a failure, and what it makes if it ever finishes is closed at once.
   */
  #startWithin(compiled: CompiledComponent, desired: DesiredComponent, onTrap: (error: TesseraError) => void): Promise<GuestComponent> {
    const starting = this.#startCompiled(compiled, desired, onTrap);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void starting.then((late) => late.close(), () => undefined);
        reject(new TesseraError('ERR_COMPONENT_LOAD', `component "${desired.name}" did not start within ${desired.initTimeoutMs} ms (its init never returned?); given up`));
      }, desired.initTimeoutMs);
    });
    return Promise.race([starting, deadline]).finally(() => clearTimeout(timer));
  }

  #startCompiled(compiled: CompiledComponent, desired: DesiredComponent, onTrap: (error: TesseraError) => void): Promise<GuestComponent> {
    const options = {
      name: desired.name,
      config: desired.config,
      logger: this.#options.logger.child(desired.name),
      callTimeoutMs: desired.limits.callTimeoutMs,
      queueLimit: desired.limits.queueLimit,
      cpuShare: desired.limits.cpuShare,
      cpuSliceMs: desired.limits.cpuSliceMs,
      grants: desired.grants,
      onTrap,
    };
    return startGuest(compiled, options, desired.limits.isolation, desired.limits.maxInstances);
  }

  async #create(compiled: CompiledComponent, desired: DesiredComponent, fingerprint: string): Promise<Entry> {
    // The handle needs its first generation, and the generation reports traps to the handle.
    let handle: ComponentHandle | undefined;
    const live = await this.#startWithin(compiled, desired, (error) => handle?.onTrap(error));
    try {
      await restorePersisted(desired, live);
    } catch (err) {
      void live.close();
      throw err;
    }
    handle = new ComponentHandle(desired.name, { desired, live }, this.#options.logger.child(desired.name), this.#options.observer);
    // Known: the manifest was checked against the table of kinds when the file was read.
    const kind = kindOf(desired.manifest.kind)!;
    const api = kind.adapt(this.#adapterHost(handle));
    const entry: Entry = { handle, desired, fingerprint, kind, live: { name: desired.name, config: desired.config, api } };
    this.#persist(entry, true);
    return entry;
  }

  /**
   * Gives the entry the persister its running generation's YAML asks for. After a swap or a
   * rollback (not `restored`, its first start), a new file or interval closes the old
   * persister (a last write to the old file) and starts another that writes at its first
   * interval; the data itself crossed the swap already.
   */
  #persist(entry: Entry, restored: boolean): void {
    const wanted = entry.handle.current.desired.persist;
    const had = entry.persister;
    if (JSON.stringify(had?.settings) === JSON.stringify(wanted)) return;
    void had?.close();
    const logger = this.#options.logger.child(entry.handle.name);
    const type = entry.handle.current.desired.manifest.type;
    entry.persister = wanted === undefined ? undefined : new SnapshotPersister(entry.handle, type, wanted, logger, { unsaved: !restored });
  }

  /** What a kind's adapter sees of a component: calls to the running generation, whichever it is. */
  #adapterHost(handle: ComponentHandle): AdapterHost {
    return {
      name: handle.name,
      get features() {
        return handle.features;
      },
      call: (fn, args) => handle.call(fn, args),
      get generation() {
        return handle.current.number;
      },
      get blocking() {
        return handle.current.live.compiled.needsJspi;
      },
      get exports() {
        return handle.current.live.compiled.optionalExports;
      },
      // A pooled generation leases one of its own instances; otherwise a fresh start of it.
      dedicatedInstance: () => {
        const { live, desired } = handle.current;
        return live instanceof InstancePool ? live.lease() : this.#startCompiled(live.compiled, desired, handle.onTrap);
      },
    };
  }

  /** Rolls a component back to its previous generation (admin API), in turn with its other changes. */
  rollback(name: string): Promise<GenerationInfo> {
    const slot = this.#slots.get(name);
    if (slot?.entry === undefined) return Promise.reject(new TesseraError('ERR_COMPONENT_NOT_FOUND', `component "${name}" is not loaded`));
    return this.#queue(name, slot, async () => {
      const entry = slot.entry;
      if (!entry) throw new TesseraError('ERR_COMPONENT_NOT_FOUND', `component "${name}" is not loaded`);
      const target = entry.handle.rollbackTarget();
      if (!target) throw new TesseraError('ERR_COMPONENT_NOT_FOUND', `component "${name}" has no earlier generation to roll back to`);
      const live = await this.#startWithin(target.live.compiled, target.desired, entry.handle.onTrap);
      const generation = await entry.handle.rollback(live);
      this.#persist(entry, false);
      this.#options.logger.info(`component "${name}" rolled back to generation ${generation.number} (${generation.desired.modulePath})`);
      this.#changed();
      return generationInfo(generation);
    });
  }

  /** The running and earlier generations of a component, newest first (admin API). */
  generations(name: string): { current: GenerationInfo; previous: GenerationInfo[] } {
    const entry = this.#slots.get(name)?.entry;
    if (!entry) throw new TesseraError('ERR_COMPONENT_NOT_FOUND', `component "${name}" is not loaded`);
    return { current: generationInfo(entry.handle.current), previous: entry.handle.previous.map(generationInfo).reverse() };
  }

  #entries(): Entry[] {
    return [...this.#slots.values()].flatMap((s) => (s.entry === undefined ? [] : [s.entry]));
  }

  /** The ready component `name` of `kind`, as its building block sees it; undefined when there is none. */
  lookup<Api extends KindApi>(kind: KindDescriptor<Api>, name: string): LiveComponentOf<Api> | undefined {
    const entry = this.#slots.get(name)?.entry;
    return entry === undefined ? undefined : liveOf(entry, kind);
  }

  /** Configured components of `kind`: running, starting or failed to load, and files of its type prefix that failed. */
  countOf(kind: KindDescriptor<KindApi>): number {
    let n = 0;
    for (const s of this.#slots.values()) if ((s.entry?.desired ?? s.target)?.manifest.kind === kind.kind) n++;
    for (const f of this.#fileFailures) if (f.type?.startsWith(kind.typePrefix)) n++;
    return n;
  }

  /**
   * Why the component `name` of `kind` is not running: its load failed (and when it is tried
   * again), or its file could not be used. Undefined when it runs, is starting, or is unknown.
   */
  failureOf(kind: KindDescriptor<KindApi>, name: string): LoadFailure | undefined {
    const slot = this.#slots.get(name);
    if (slot !== undefined && slot.entry === undefined && slot.failure !== undefined) {
      if (slot.target?.manifest.kind !== kind.kind) return undefined;
      const at = this.#retries.info(name)?.at;
      return { error: slot.failure.error, ...(at === undefined ? {} : { nextRetryAt: new Date(at).toISOString() }) };
    }
    if (slot?.entry !== undefined) return undefined;
    // A file that failed before it said its type (a bare `.wasm` that is no module) may be meant as any kind.
    const file = this.#fileFailures.find((f) => f.name === name && (f.type === undefined || f.type.startsWith(kind.typePrefix)));
    return file === undefined ? undefined : { error: file.error };
  }

  /** Names of the ready components of `kind`. */
  namesOf(kind: KindDescriptor<KindApi>): string[] {
    return this.#entries()
      .filter((e) => e.kind.kind === kind.kind)
      .map((e) => e.desired.name);
  }

  /** A lookup in the shape an older interface gives it, made once per live component. */
  #view<Api extends KindApi, V>(kind: KindDescriptor<Api>, name: string, shape: (live: LiveComponentOf<Api>) => V): V | undefined {
    const entry = this.#slots.get(name)?.entry;
    const live = entry === undefined ? undefined : liveOf(entry, kind);
    if (entry === undefined || live === undefined) return undefined;
    if (entry.view?.of !== live) entry.view = { of: live, as: shape(live) };
    return entry.view.as as V;
  }

  getStateStore(name: string): LiveStateStore | undefined {
    return this.#view(stateStoreKind, name, ({ name, config, api }) => ({ name, config, store: api }));
  }

  stateStoreCount(): number {
    return this.countOf(stateStoreKind);
  }

  getPubSub(name: string): LivePubSub | undefined {
    return this.#view(pubSubKind, name, ({ name, config, api }) => ({ name, config, pubsub: api }));
  }

  pubSubCount(): number {
    return this.countOf(pubSubKind);
  }

  stateStoreFailure(name: string): LoadFailure | undefined {
    return this.failureOf(stateStoreKind, name);
  }

  pubSubFailure(name: string): LoadFailure | undefined {
    return this.failureOf(pubSubKind, name);
  }

  pubSubNames(): string[] {
    return this.namesOf(pubSubKind);
  }

  /** What `/v1.0/metadata` adds to a component's status: its retry, and the definitions of its name refused. */
  #extras(name: string): Pick<ComponentInfo, 'failedStarts' | 'nextRetryAt' | 'duplicates'> {
    const retry = this.#retries.info(name);
    const duplicates = this.#duplicates.get(name);
    return {
      ...(retry === undefined ? {} : { failedStarts: retry.failures }),
      ...(retry?.at === undefined ? {} : { nextRetryAt: new Date(retry.at).toISOString() }),
      ...(duplicates === undefined ? {} : { duplicates: duplicates.map(({ source, error }) => ({ source, error })) }),
    };
  }

  /** Each running component's generation and what its instances hold now (for the metrics gauges; read at a scrape). */
  usage(): { name: string; generation: number; usage: ComponentUsage | undefined }[] {
    return this.#entries().map(({ handle }) => ({ name: handle.name, generation: handle.current.number, usage: handle.current.live.usage?.() }));
  }

  list(): ComponentInfo[] {
    const running: ComponentInfo[] = this.#entries().map(({ handle, kind, live: { api } }) => {
      const { desired, live, number } = handle.current;
      const error = handle.loadError ?? handle.lastTrap;
      const warnings = grantWarnings(handle.current);
      const details = kind.describe?.(api);
      return {
        name: desired.name,
        kind: desired.manifest.kind,
        type: desired.manifest.type,
        version: desired.manifest.version,
        capabilities: kind.reportedCapabilities?.(live.features) ?? [...live.features],
        status: handle.status,
        source: desired.source,
        module: desired.modulePath,
        sha256: live.compiled.sha256,
        loadedAt: live.loadedAt.toISOString(),
        generation: number,
        recentTraps: handle.recentTraps,
        ...(error === undefined ? {} : { error }),
        ...(warnings.length === 0 ? {} : { warnings }),
        ...this.#extras(desired.name),
        ...(details === undefined ? {} : { details }),
      };
    });
    const loadFailures = [...this.#slots.values()].flatMap((s) =>
      s.entry === undefined && s.failure !== undefined ? [{ ...failedInfo(s.failure), ...this.#extras(s.failure.name) }] : [],
    );
    return [...running, ...loadFailures, ...this.#fileFailures.map(failedInfo)];
  }

  /**
   * Pings every ready component; resolves to the names that failed, with those configured
   * that failed to load (unless their YAML says `spec.ignoreErrors: true`).
   */
  async pingAll(): Promise<string[]> {
    const failing: string[] = [];
    for (const [name, slot] of this.#slots) {
      if (slot.entry === undefined && slot.failure !== undefined && slot.target?.ignoreErrors !== true) failing.push(name);
    }
    await Promise.all(
      this.#entries().map(async ({ desired, live }) => {
        try {
          await live.api.ping();
        } catch {
          failing.push(desired.name);
        }
      }),
    );
    return failing.sort();
  }

  /**
   * Unloads every component. Loads under way get a moment to finish; one that hangs is not
   * waited for (what it makes, if anything, is closed when it comes), nor is a component
   * that takes too long to close.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#retries.close();
    await within(Promise.all([...this.#slots.values()].map((s) => s.chain)), CLOSE_WAIT_MS);
    const entries = this.#entries();
    this.#slots.clear();
    // Persisted data is written before the components go (each write is atomic: one cut short keeps the file before it).
    await within(Promise.all(entries.map((e) => e.persister?.close())), PERSIST_CLOSE_WAIT_MS);
    await within(Promise.all(entries.map((e) => e.handle.close())), CLOSE_WAIT_MS);
  }
}
