// Keeps one delivery loop running for each ready input binding, following the registry:
// a binding that appears (or becomes an input binding in a new version) starts one, one that
// goes away stops its own. A swap of a running binding needs nothing here: its reader
// follows the new generation. Without an app port there is no one to deliver to.
import type { AppCallbacks } from '../../app-channel/app-callbacks.ts';
import type { ComponentLookup } from '../../components/types.ts';
import type { Logger } from '../../observability/logger.ts';
import { bindingKind } from '../../sandbox/kinds/binding.ts';
import { INPUT_TIMINGS, InputBindingLoop, routeOf, type InputTimings } from './input-delivery.ts';
import type { BlockObserver } from '../../observability/component-observer.ts';

export interface InputBindingsOptions {
  components: ComponentLookup;
  channel: AppCallbacks | undefined;
  logger: Logger;
  /** Told of every delivery, when metrics are on. */
  observer?: BlockObserver | undefined;
  timings?: InputTimings;
}

export class InputBindings {
  readonly #options: InputBindingsOptions;
  readonly #loops = new Map<string, InputBindingLoop>();
  readonly #warnedNoApp = new Set<string>();
  readonly #stopping = new Set<Promise<void>>();
  #stopped = false;
  /** False while app health checks fail: no binding is read then, as in daprd. */
  #appHealthy = true;

  constructor(options: InputBindingsOptions) {
    this.#options = options;
  }

  /** Stops every loop while the app is unhealthy (the events stay with the bindings), and starts them again when it is not. */
  setAppHealthy(healthy: boolean): void {
    if (this.#appHealthy === healthy) return;
    this.#appHealthy = healthy;
    if (healthy) return this.reconcile();
    for (const loop of this.#loops.values()) this.#stopLoop(loop);
    this.#loops.clear();
  }

  #stopLoop(loop: InputBindingLoop): void {
    const stopped = loop.stop().finally(() => this.#stopping.delete(stopped));
    this.#stopping.add(stopped);
  }

  /** Starts and stops loops to match the ready input bindings. */
  reconcile(): void {
    if (this.#stopped || !this.#appHealthy) return;
    const { components, channel, logger } = this.#options;
    const wanted = new Map<string, { binding: InputBindingLoop['binding']; config: ReadonlyMap<string, string> }>();
    for (const name of components.namesOf(bindingKind)) {
      const live = components.lookup(bindingKind, name);
      if (live?.api.input) wanted.set(name, { binding: live.api, config: live.config });
    }
    for (const [name, loop] of this.#loops) {
      const want = wanted.get(name);
      if (want === undefined || want.binding !== loop.binding || routeOf(name, want.config) !== loop.path) {
        this.#loops.delete(name);
        this.#stopLoop(loop);
      }
    }
    for (const [name, { binding, config }] of wanted) {
      if (this.#loops.has(name)) continue;
      if (channel === undefined) {
        if (!this.#warnedNoApp.has(name)) logger.info(`input binding ${name} is not delivered: the sidecar has no app port (--app-port)`);
        this.#warnedNoApp.add(name);
        continue;
      }
      this.#loops.set(name, new InputBindingLoop({ name, binding, config, channel, logger: logger.child(name), timings: this.#options.timings ?? INPUT_TIMINGS, observer: this.#options.observer }));
    }
  }

  /** Each input binding's route and whether the app listens on it (undefined: not asked yet), for metadata. */
  list(): { name: string; route: string; listening: boolean | undefined }[] {
    return [...this.#loops].map(([name, loop]) => ({ name, route: loop.path, listening: loop.listening }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const loops = [...this.#loops.values()];
    this.#loops.clear();
    await Promise.all([...loops.map((l) => l.stop()), ...this.#stopping]);
  }
}
