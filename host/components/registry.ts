// The registry: component name -> the live component serving it. `apply` moves it to a new
// resource plan: unchanged components are left alone, changed ones are built beside the
// running one and switched in only once they started, removed ones are unloaded. A
// component that fails to load never replaces a running one; its error is reported.
import { isTesseraError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { CompiledComponent } from '../sandbox/compiled-component.ts';
import { LiveComponent } from '../sandbox/live-component.ts';
import { bindStateStore } from '../sandbox/state-store-binding.ts';
import type { DesiredComponent, PlanFailure, ResourcePlan } from './resources-loader.ts';
import type { ComponentDirectory, ComponentInfo, LiveStateStore } from './types.ts';

export interface RegistryOptions {
  logger: Logger;
  /** Per-instance linear memory cap. */
  memoryLimitBytes?: number;
}

interface Entry {
  desired: DesiredComponent;
  fingerprint: string;
  live: LiveComponent;
  stateStore?: LiveStateStore;
  /** The last failed attempt to replace this component, if any. */
  error?: string;
}

const fingerprintOf = (c: DesiredComponent): string => JSON.stringify([c.sha256, c.manifest.type, c.manifest.version, [...c.config]]);

export class ComponentRegistry implements ComponentDirectory {
  #entries = new Map<string, Entry>();
  #failures: PlanFailure[] = [];
  #options: RegistryOptions;
  #applying: Promise<void> = Promise.resolve();

  constructor(options: RegistryOptions) {
    this.#options = options;
  }

  /** Moves the registry to `plan`. Calls are serialised: a second plan waits for the first. */
  apply(plan: ResourcePlan): Promise<void> {
    const run = this.#applying.then(() => this.#apply(plan));
    this.#applying = run.catch(() => undefined);
    return run;
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
        current.error = undefined;
        continue;
      }
      try {
        const started = Date.now();
        const compiled = await CompiledComponent.compile(desired.bytes, {
          source: desired.modulePath,
          ...(this.#options.memoryLimitBytes === undefined ? {} : { memoryLimitBytes: this.#options.memoryLimitBytes }),
        });
        const live = await LiveComponent.start(compiled, { name: desired.name, config: desired.config, logger: log.child(desired.name) });
        this.#entries.set(desired.name, { desired, fingerprint, live, ...this.#bind(live) });
        if (current) void current.live.close();
        log.info(`component "${desired.name}" ${current ? 'replaced' : 'loaded'}: ${desired.manifest.type} ${desired.manifest.version} from ${desired.modulePath}`, {
          sha256: desired.sha256.slice(0, 12),
          ms: Date.now() - started,
        });
      } catch (err) {
        const message = `${desired.source}: ${isTesseraError(err) ? err.message : String(err)}`;
        log.error(`component "${desired.name}" failed to load: ${message}`);
        if (current) current.error = message;
        else {
          failures.push({ name: desired.name, type: desired.manifest.type, source: desired.source, error: message });
        }
      }
    }

    for (const failure of plan.failures) {
      log.error(`resource ${failure.source} not loaded: ${failure.error}`);
      // A broken edit of a running component's file keeps the running generation.
      const current = [...this.#entries.values()].find((e) => e.desired.source === failure.source && !wanted.has(e.desired.name));
      if (current) {
        current.error = failure.error;
        wanted.add(current.desired.name);
      } else failures.push(failure);
    }

    for (const [name, entry] of this.#entries) {
      if (wanted.has(name)) continue;
      this.#entries.delete(name);
      void entry.live.close();
      log.info(`component "${name}" unloaded (${entry.desired.source} removed)`);
    }
    this.#failures = failures;
  }

  #bind(live: LiveComponent): { stateStore?: LiveStateStore } {
    switch (live.compiled.manifest.kind) {
      case 'state-store':
        return { stateStore: { name: live.name, config: live.config, store: bindStateStore(live) } };
    }
  }

  getStateStore(name: string): LiveStateStore | undefined {
    return this.#entries.get(name)?.stateStore;
  }

  stateStoreCount(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.stateStore) n++;
    for (const f of this.#failures) if (f.type?.startsWith('state.')) n++;
    return n;
  }

  list(): ComponentInfo[] {
    const running: ComponentInfo[] = [...this.#entries.values()].map(({ desired, live, error }) => ({
      name: desired.name,
      kind: desired.manifest.kind,
      type: desired.manifest.type,
      version: desired.manifest.version,
      capabilities: [...live.features],
      status: 'ready',
      source: desired.source,
      module: desired.modulePath,
      sha256: live.compiled.sha256,
      loadedAt: live.loadedAt.toISOString(),
      ...(error === undefined ? {} : { error }),
    }));
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
      [...this.#entries.values()].map(async ({ desired, stateStore }) => {
        try {
          await stateStore?.store.ping();
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
    await Promise.all(entries.map((e) => e.live.close()));
  }
}
