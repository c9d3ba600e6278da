// The registry: component name -> the handle serving it. `apply` moves it to a new resource
// plan: unchanged components are left alone, changed ones are compiled and started beside
// the running generation and swapped in only once they started, removed ones are unloaded.
// A component that fails to load never replaces a running one; its error is reported.
import { TesseraError, isTesseraError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { CompiledComponent } from '../sandbox/compiled-component.ts';
import { LiveComponent } from '../sandbox/live-component.ts';
import { bindPubSub } from '../sandbox/pubsub-binding.ts';
import { bindStateStore } from '../sandbox/state-store-binding.ts';
import { ComponentHandle, type Generation } from './component-handle.ts';
import { prefixed, type DesiredComponent, type PlanFailure, type ResourcePlan } from './resources-loader.ts';
import type { ComponentDirectory, ComponentInfo, GenerationInfo, LivePubSub, LiveStateStore } from './types.ts';

export interface RegistryOptions {
  logger: Logger;
}

interface Entry {
  handle: ComponentHandle;
  /** What the resources folder says now; may differ from the running generation after a rollback. */
  desired: DesiredComponent;
  fingerprint: string;
  stateStore?: LiveStateStore;
  pubsub?: LivePubSub;
}

const fingerprintOf = (c: DesiredComponent): string =>
  JSON.stringify([c.sha256, c.manifest.type, c.manifest.version, [...c.config], c.limits]);

const reason = (err: unknown): string => (isTesseraError(err) ? err.message : String(err));

function generationInfo(g: Generation): GenerationInfo {
  return {
    generation: g.number,
    sha256: g.live.compiled.sha256,
    module: g.desired.modulePath,
    loadedAt: g.live.loadedAt.toISOString(),
  };
}

export class ComponentRegistry implements ComponentDirectory {
  #entries = new Map<string, Entry>();
  #failures: PlanFailure[] = [];
  /** The last attempt that failed to load, by component name: the same bytes and config are not tried again. */
  #lastFailed = new Map<string, { fingerprint: string; message: string }>();
  #options: RegistryOptions;
  #applying: Promise<void> = Promise.resolve();

  constructor(options: RegistryOptions) {
    this.#options = options;
  }

  /** Moves the registry to `plan`. Calls are serialised: a second plan waits for the first. */
  apply(plan: ResourcePlan): Promise<void> {
    return this.#serial(() => this.#apply(plan));
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#applying.then(task);
    this.#applying = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #start(desired: DesiredComponent, onTrap: (error: TesseraError) => void): Promise<LiveComponent> {
    const compiled = await CompiledComponent.compile(desired.bytes, {
      source: desired.modulePath,
      memoryLimitBytes: desired.limits.memoryLimitBytes,
      cpuBudget: desired.limits.cpuBudget,
    });
    return this.#startCompiled(compiled, desired, onTrap);
  }

  #startCompiled(compiled: CompiledComponent, desired: DesiredComponent, onTrap: (error: TesseraError) => void): Promise<LiveComponent> {
    return LiveComponent.start(compiled, {
      name: desired.name,
      config: desired.config,
      logger: this.#options.logger.child(desired.name),
      callTimeoutMs: desired.limits.callTimeoutMs,
      grants: { tcp: desired.limits.allowTcp },
      onTrap,
    });
  }

  async #apply(plan: ResourcePlan): Promise<void> {
    const log = this.#options.logger;
    const wanted = new Set(plan.components.map((c) => c.name));
    const failures: PlanFailure[] = [];

    for (const desired of plan.components) {
      const current = this.#entries.get(desired.name);
      const fingerprint = fingerprintOf(desired);
      if (current && current.fingerprint === fingerprint) {
        current.desired = desired;
        current.handle.loadError = undefined;
        continue;
      }
      const failedBefore = this.#lastFailed.get(desired.name);
      if (failedBefore?.fingerprint === fingerprint) {
        if (current) current.handle.loadError = failedBefore.message;
        else failures.push({ name: desired.name, type: desired.manifest.type, source: desired.source, error: failedBefore.message });
        continue;
      }
      const started = Date.now();
      try {
        if (current) {
          const live = await this.#start(desired, current.handle.onTrap);
          const generation = await current.handle.swap({ desired, live });
          current.desired = desired;
          current.fingerprint = fingerprint;
          log.info(`component "${desired.name}" swapped to generation ${generation.number}: ${desired.manifest.type} ${desired.manifest.version} from ${desired.modulePath}`, {
            sha256: desired.sha256.slice(0, 12),
            ms: Date.now() - started,
          });
        } else {
          this.#entries.set(desired.name, await this.#create(desired, fingerprint));
          log.info(`component "${desired.name}" loaded: ${desired.manifest.type} ${desired.manifest.version} from ${desired.modulePath}`, {
            sha256: desired.sha256.slice(0, 12),
            ms: Date.now() - started,
          });
        }
      } catch (err) {
        const message = prefixed(desired.source, reason(err));
        log.error(`component "${desired.name}" failed to load: ${message}${current ? ' (the running generation keeps serving)' : ''}`);
        // Trying the same bytes and config again gives the same answer, unless the component
        // said its backing engine is unavailable (then the next reload retries).
        if (!isTesseraError(err) || err.componentError?.tag !== 'unavailable') this.#lastFailed.set(desired.name, { fingerprint, message });
        if (current) current.handle.loadError = message;
        else failures.push({ name: desired.name, type: desired.manifest.type, source: desired.source, error: message });
      }
    }

    for (const failure of plan.failures) {
      // A broken edit of a running component's file keeps the running generation; a file
      // still being written is not an error yet.
      const current = [...this.#entries.values()].find((e) => e.desired.source === failure.source && !wanted.has(e.desired.name));
      if (current) wanted.add(current.desired.name);
      if (failure.transient) {
        log.debug(`resource ${failure.source} looks half-written; waiting for the rest`);
        continue;
      }
      log.error(`resource ${failure.source} not loaded: ${failure.error}`);
      if (current) current.handle.loadError = failure.error;
      else failures.push(failure);
    }

    for (const [name, entry] of this.#entries) {
      if (wanted.has(name)) continue;
      this.#entries.delete(name);
      void entry.handle.close();
      log.info(`component "${name}" unloaded (${entry.desired.source} removed)`);
    }
    this.#failures = failures;
    for (const name of this.#lastFailed.keys()) if (!plan.components.some((c) => c.name === name)) this.#lastFailed.delete(name);
  }

  async #create(desired: DesiredComponent, fingerprint: string): Promise<Entry> {
    // The handle needs its first generation, and the generation reports traps to the handle.
    let handle: ComponentHandle | undefined;
    const live = await this.#start(desired, (error) => handle?.onTrap(error));
    handle = new ComponentHandle(desired.name, { desired, live }, this.#options.logger.child(desired.name));
    const entry: Entry = { handle, desired, fingerprint };
    const bound = handle;
    switch (desired.manifest.kind) {
      case 'state-store':
        entry.stateStore = { name: desired.name, config: desired.config, store: bindStateStore(handle) };
        break;
      case 'pubsub': {
        const pubsub = bindPubSub({
          name: desired.name,
          get features() {
            return bound.features;
          },
          call: (fn, args) => bound.call(fn, args),
          get generation() {
            return bound.current.number;
          },
          get blocking() {
            return bound.current.live.compiled.needsJspi;
          },
          dedicatedInstance: () => this.#startCompiled(bound.current.live.compiled, bound.current.desired, bound.onTrap),
        });
        entry.pubsub = { name: desired.name, config: desired.config, pubsub };
        break;
      }
    }
    return entry;
  }

  /** Rolls a component back to its previous generation (admin API). */
  rollback(name: string): Promise<GenerationInfo> {
    return this.#serial(async () => {
      const entry = this.#entries.get(name);
      if (!entry) throw new TesseraError('ERR_COMPONENT_NOT_FOUND', `component "${name}" is not loaded`);
      const target = entry.handle.rollbackTarget();
      if (!target) throw new TesseraError('ERR_COMPONENT_NOT_FOUND', `component "${name}" has no earlier generation to roll back to`);
      const live = await this.#startCompiled(target.live.compiled, target.desired, entry.handle.onTrap);
      const generation = await entry.handle.rollback(live);
      this.#options.logger.info(`component "${name}" rolled back to generation ${generation.number} (${generation.desired.modulePath})`);
      return generationInfo(generation);
    });
  }

  /** The running and earlier generations of a component, newest first (admin API). */
  generations(name: string): { current: GenerationInfo; previous: GenerationInfo[] } {
    const entry = this.#entries.get(name);
    if (!entry) throw new TesseraError('ERR_COMPONENT_NOT_FOUND', `component "${name}" is not loaded`);
    return { current: generationInfo(entry.handle.current), previous: entry.handle.previous.map(generationInfo).reverse() };
  }

  getStateStore(name: string): LiveStateStore | undefined {
    const entry = this.#entries.get(name);
    if (entry?.stateStore === undefined) return undefined;
    // The config follows the running generation (it changes on a swap or a rollback).
    const config = entry.handle.current.desired.config;
    if (entry.stateStore.config !== config) entry.stateStore = { ...entry.stateStore, config };
    return entry.stateStore;
  }

  getPubSub(name: string): LivePubSub | undefined {
    const entry = this.#entries.get(name);
    if (entry?.pubsub === undefined) return undefined;
    const config = entry.handle.current.desired.config;
    if (entry.pubsub.config !== config) entry.pubsub = { ...entry.pubsub, config };
    return entry.pubsub;
  }

  pubSubCount(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.pubsub) n++;
    for (const f of this.#failures) if (f.type?.startsWith('pubsub.')) n++;
    return n;
  }

  pubSubNames(): string[] {
    return [...this.#entries.values()].filter((e) => e.pubsub).map((e) => e.desired.name);
  }

  stateStoreCount(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.stateStore) n++;
    for (const f of this.#failures) if (f.type?.startsWith('state.')) n++;
    return n;
  }

  list(): ComponentInfo[] {
    const running: ComponentInfo[] = [...this.#entries.values()].map(({ handle }) => {
      const { desired, live, number } = handle.current;
      const error = handle.loadError ?? handle.lastTrap;
      return {
        name: desired.name,
        kind: desired.manifest.kind,
        type: desired.manifest.type,
        version: desired.manifest.version,
        capabilities: [...live.features],
        status: handle.status,
        source: desired.source,
        module: desired.modulePath,
        sha256: live.compiled.sha256,
        loadedAt: live.loadedAt.toISOString(),
        generation: number,
        recentTraps: handle.recentTraps,
        ...(error === undefined ? {} : { error }),
      };
    });
    const failed: ComponentInfo[] = this.#failures.map((f) => ({
      name: f.name,
      ...(f.type === undefined ? {} : { type: f.type }),
      capabilities: [],
      status: 'failed',
      source: f.source,
      error: f.error,
    }));
    return [...running, ...failed];
  }

  async pingAll(): Promise<string[]> {
    const failing: string[] = [];
    await Promise.all(
      [...this.#entries.values()].map(async ({ desired, stateStore, pubsub }) => {
        try {
          await (stateStore?.store ?? pubsub?.pubsub)?.ping();
        } catch {
          failing.push(desired.name);
        }
      }),
    );
    return failing.sort();
  }

  /** Unloads every component. */
  async close(): Promise<void> {
    await this.#applying;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((e) => e.handle.close()));
  }
}
