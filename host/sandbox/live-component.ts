// One generation of a component at run time: at most one instance, booted with `init(config)`
// (and `restore` of a parked snapshot), called one call at a time. Any throw out of the
// guest (a trap, a stack overflow, a bad pointer, an exhausted CPU budget, a deadline) fails
// that call with ERR_COMPONENT_TRAP naming the component and the function, and drops the
// instance; the next call boots a fresh one. Policy (backoff, crash loops, hibernation,
// generations) lives in host/components/component-handle.ts.
import type { Metadata, WitError, WitResult } from '../../abi/ts/types.ts';
import { TesseraError, isTesseraError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { CompiledComponent } from './compiled-component.ts';
import { instantiate, type ComponentInstance } from './component-instance.ts';
import { fuelExhausted } from './metering.ts';
import type { Grants } from './capabilities/capability.ts';

export interface LiveComponentOptions {
  name: string;
  config: ReadonlyMap<string, string>;
  logger: Logger;
  /** Wall-clock deadline for a call suspended on a host function (JSPI components). */
  callTimeoutMs?: number;
  /** Told of every trap, after the instance was dropped. */
  onTrap?: (error: TesseraError) => void;
  /** What the component's YAML grants it (tcp destinations). */
  grants?: Grants;
}

const DEFAULT_CALL_TIMEOUT_MS = 5000;
/** Deadline errors, told apart from the fuel exhaustion the deadline itself provokes. */
const deadlineErrors = new WeakSet<TesseraError>();
/** Measured: state.memory restores at ~100 units per snapshot byte and snapshots at well under 32 per memory byte. */
const RESTORE_FUEL_PER_BYTE = 512n;
const SNAPSHOT_FUEL_PER_MEMORY_BYTE = 32n;

/** What went wrong inside the guest, without the layers of wrapping on the way out. */
function describeThrow(err: unknown): string {
  if (isTesseraError(err)) {
    if (err.cause !== undefined && !isTesseraError(err.cause)) return describeThrow(err.cause);
    // The canonical ABI prefixes its own label ("component.fn: "); the caller adds context.
    return err.message.replace(/^[^:\s]+\.[^:\s]+: /, '');
  }
  if (err instanceof RangeError && /call stack/i.test(err.message)) return 'stack overflow (unbounded recursion?)';
  if (err instanceof Error) return `${err.constructor.name === 'RuntimeError' ? 'trap' : err.name}: ${err.message}`;
  return String(err);
}

export class LiveComponent {
  readonly name: string;
  readonly compiled: CompiledComponent;
  readonly config: ReadonlyMap<string, string>;
  readonly loadedAt: Date;
  readonly #options: LiveComponentOptions;
  readonly #fuel: bigint;
  #instance: ComponentInstance | undefined;
  #features: ReadonlySet<string> = new Set();
  /** A snapshot taken when the instance was given up; restored by the next boot. */
  #parked: Uint8Array | undefined;
  /** Tail of the call queue: JSPI calls, boots and snapshots run one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(compiled: CompiledComponent, options: LiveComponentOptions) {
    this.name = options.name;
    this.compiled = compiled;
    this.config = options.config;
    this.#options = options;
    this.#fuel = BigInt(compiled.cpuBudget);
    this.loadedAt = new Date();
  }

  /** Instantiates, calls `init(config)` and reads `features()`; refuses with ERR_COMPONENT_LOAD. */
  static async start(compiled: CompiledComponent, options: LiveComponentOptions): Promise<LiveComponent> {
    const live = new LiveComponent(compiled, options);
    try {
      await live.#boot();
    } catch (err) {
      const componentError = isTesseraError(err) ? err.componentError : undefined;
      throw new TesseraError('ERR_COMPONENT_LOAD', `component "${options.name}" failed to start: ${describeThrow(err)}`, { cause: err, componentError });
    }
    return live;
  }

  /** Features the component advertised at start. */
  get features(): ReadonlySet<string> {
    return this.#features;
  }

  /** Whether the module exports the optional `snapshot` interface. */
  get supportsSnapshot(): boolean {
    return this.compiled.optionalExports.has('snapshot');
  }

  /** True while no instance is alive (hibernating, or dropped after a trap). */
  get idle(): boolean {
    return this.#instance === undefined;
  }

  async #boot(): Promise<void> {
    const instance = await instantiate(this.compiled, this.name, this.#options.logger, this.#options.grants);
    const step = async (fn: string, args: unknown[], exportKey = fn): Promise<unknown> => {
      try {
        return await this.#invoke(instance, exportKey, args, exportKey === 'snapshot#restore' ? this.#restoreFuel(args[0] as Uint8Array) : this.#fuel);
      } catch (err) {
        instance.dispose();
        throw new TesseraError('ERR_COMPONENT_TRAP', `trapped in ${fn}: ${this.#why(err, instance)}`, { cause: err });
      }
    };
    const init = (await step('init', [[...this.config] as Metadata])) as WitResult<undefined>;
    if (init.tag === 'err') {
      instance.dispose();
      throw new TesseraError('ERR_COMPONENT_LOAD', `init refused the configuration: ${init.val.tag}: ${init.val.val}`, { componentError: init.val });
    }
    if (this.#parked !== undefined) {
      const restored = (await step('restore', [this.#parked], 'snapshot#restore')) as WitResult<undefined>;
      if (restored.tag === 'err') {
        instance.dispose();
        throw new TesseraError('ERR_COMPONENT_LOAD', `restore refused the snapshot: ${restored.val.tag}: ${restored.val.val}`);
      }
      this.#parked = undefined;
    }
    if (instance.calls.has('features')) this.#features = new Set((await step('features', [])) as string[]);
    this.#instance = instance;
  }

  /** One export call on an instance, with a fresh CPU budget. */
  #invoke(instance: ComponentInstance, fn: string, args: unknown[], fuel = this.#fuel): unknown {
    if (instance.fuel !== undefined) instance.fuel.value = fuel;
    return instance.calls.get(fn)!(...args);
  }

  /**
   * Snapshot and restore work in proportion to the data, not to one request: they get the
   * call budget plus an allowance per byte of memory (snapshot) or of snapshot (restore), so
   * a large store crosses a swap while an endless loop in them still ends.
   */
  #snapshotFuel(instance: ComponentInstance): bigint {
    return this.#fuel + BigInt(instance.memory.buffer.byteLength) * SNAPSHOT_FUEL_PER_MEMORY_BYTE;
  }

  #restoreFuel(data: Uint8Array): bigint {
    return this.#fuel + BigInt(data.byteLength) * RESTORE_FUEL_PER_BYTE;
  }

  /**
   * Calls an export with lifted arguments and resolves to its lifted result. A component
   * error (`result::err`) is a value, not a throw; only a failure of the guest rejects.
   */
  call(fn: string, args: unknown[]): Promise<unknown> {
    const instance = this.#instance;
    if (instance === undefined || this.compiled.needsJspi) return this.#enqueue(() => this.#callQueued(fn, args));
    try {
      return Promise.resolve(this.#invoke(instance, fn, args));
    } catch (err) {
      return Promise.reject(this.#trapped(fn, err, instance));
    }
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #ensureInstance(): Promise<ComponentInstance> {
    if (this.#instance !== undefined) return this.#instance;
    if (this.#closed) throw new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" is unloaded`);
    try {
      await this.#boot();
    } catch (err) {
      const error = new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" could not be restarted: ${describeThrow(err)}`, { cause: err });
      this.#options.onTrap?.(error);
      throw error;
    }
    return this.#instance!;
  }

  async #callQueued(fn: string, args: unknown[]): Promise<unknown> {
    const instance = await this.#ensureInstance();
    try {
      if (!this.compiled.needsJspi) return this.#invoke(instance, fn, args);
      return await this.#withDeadline(fn, instance, this.#invoke(instance, fn, args) as Promise<unknown>);
    } catch (err) {
      throw this.#trapped(fn, err, instance);
    }
  }

  /**
   * A suspended call cannot be interrupted from outside. Past its deadline the call fails and
   * its instance is stopped from the inside: fuel is set negative (the next charge point
   * traps) and its capabilities are disposed (a pending sleep rejects, sockets close), so
   * the abandoned stack unwinds instead of running on.
   */
  #withDeadline(fn: string, instance: ComponentInstance, pending: Promise<unknown>): Promise<unknown> {
    const ms = this.#options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (instance.fuel !== undefined) instance.fuel.value = -1n;
        instance.dispose();
        const error = new TesseraError('ERR_COMPONENT_TRAP', `${fn} did not finish within its call timeout of ${ms} ms`);
        deadlineErrors.add(error);
        reject(error);
      }, ms);
    });
    pending.catch(() => undefined);
    return Promise.race([pending, deadline]).finally(() => clearTimeout(timer));
  }

  #why(err: unknown, instance: ComponentInstance): string {
    if (deadlineErrors.has(err as TesseraError)) return describeThrow(err);
    if (instance.fuel !== undefined && fuelExhausted(instance.fuel)) return `ran out of its CPU budget of ${this.compiled.cpuBudget} units (an endless loop?)`;
    return describeThrow(err);
  }

  #trapped(fn: string, err: unknown, instance: ComponentInstance): TesseraError {
    if (this.#instance === instance) this.#instance = undefined;
    instance.dispose();
    const why = this.#why(err, instance);
    const message = `component "${this.name}" (${this.compiled.manifest.type}) trapped in ${fn}: ${why}`;
    this.#options.logger.error(message);
    const error = new TesseraError('ERR_COMPONENT_TRAP', message, { cause: err });
    this.#options.onTrap?.(error);
    return error;
  }

  /** The component's state from its `snapshot` export, after the calls already queued. */
  snapshot(): Promise<Uint8Array | undefined> {
    if (!this.supportsSnapshot) return Promise.resolve(undefined);
    return this.#enqueue(async () => {
      const instance = this.#instance;
      if (instance === undefined) return this.#parked;
      try {
        return (await this.#invoke(instance, 'snapshot#snapshot', [], this.#snapshotFuel(instance))) as Uint8Array;
      } catch (err) {
        throw this.#trapped('snapshot', err, instance);
      }
    });
  }

  /** Hands a snapshot to the running instance (a new generation, before it serves). */
  restore(data: Uint8Array): Promise<void> {
    return this.#enqueue(async () => {
      const instance = await this.#ensureInstance();
      let result: WitResult<undefined>;
      try {
        result = (await this.#invoke(instance, 'snapshot#restore', [data], this.#restoreFuel(data))) as WitResult<undefined>;
      } catch (err) {
        throw this.#trapped('restore', err, instance);
      }
      if (result.tag === 'err') {
        throw new TesseraError('ERR_COMPONENT_LOAD', `component "${this.name}" refused the snapshot of the running version: ${result.val.tag}: ${result.val.val}`);
      }
    });
  }

  /** Gives up the instance (keeping a snapshot when the component can take one); the next call wakes it. */
  hibernate(): Promise<void> {
    return this.#enqueue(async () => {
      const instance = this.#instance;
      if (instance === undefined) return;
      if (this.supportsSnapshot) {
        try {
          this.#parked = (await this.#invoke(instance, 'snapshot#snapshot', [], this.#snapshotFuel(instance))) as Uint8Array;
        } catch (err) {
          throw this.#trapped('snapshot', err, instance);
        }
      }
      this.#instance = undefined;
      instance.dispose();
    });
  }

  /** Stops booting new instances; once the calls already queued have finished, drops the instance. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    this.#instance?.dispose();
    this.#instance = undefined;
  }
}

/** Unwraps a WIT `result`, turning `err` into a TesseraError carrying the component's typed error. */
export function unwrapResult<T>(component: string, fn: string, result: WitResult<T>): T {
  if (result.tag === 'ok') return result.val;
  const e: WitError = result.val;
  throw new TesseraError('ERR_INTERNAL', `component "${component}" ${fn}: ${e.tag}: ${e.val}`, { componentError: e });
}
