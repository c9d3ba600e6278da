// One generation of a component at run time, inline on the event loop: at most one
// instance, booted with `init(config)` (and `restore` of a parked snapshot). Calls that can
// run straight away (a sync component with a live instance and nothing queued) run at once;
// the others (JSPI calls, boots, snapshots) wait in a bounded queue, one at a time, each with
// a deadline counted from when it was queued. Any throw out of the guest (a trap, a stack
// overflow, a bad pointer, an exhausted CPU budget, a deadline) fails that call with
// ERR_COMPONENT_TRAP naming the component and the function, and drops the instance; the next
// call boots a fresh one. Every call's time on the event loop is charged to the component's
// CPU share. Policy (backoff, crash loops, hibernation, generations) lives in
// host/components/component-handle.ts.
import type { Metadata, WitResult } from '../../abi/ts/types.ts';
import { TesseraError, isTesseraError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { rateLimitedLogger } from '../observability/rate-limited-logger.ts';
import { CallQueue } from './call-queue.ts';
import type { CompiledComponent } from './compiled-component.ts';
import { instantiate, type ComponentInstance } from './component-instance.ts';
import { CpuShare } from './cpu-share.ts';
import { withRefusedGrow } from './grow-watch.ts';
import type { ComponentUsage, GuestComponent, SnapshotData } from './guest-component.ts';
import { canSnapshot, restoreSnapshot, takeSnapshot, type SnapshotPort } from './snapshot-stream.ts';
import { HARD_LIMIT_FACTOR, LIFECYCLE_HARD_LIMIT_MS } from './call-meter.ts';
import { DEFAULT_CPU_SHARE, DEFAULT_CPU_SLICE_MS, DEFAULT_QUEUE_LIMIT } from './default-limits.ts';
import type { Grants } from './capabilities/capability.ts';
import { kindOf } from './kinds/index.ts';

export interface LiveComponentOptions {
  name: string;
  config: ReadonlyMap<string, string>;
  logger: Logger;
  /** Deadline of every call, counted from when it is queued; boots included. */
  callTimeoutMs?: number;
  /** Told of every trap, after the instance was dropped. */
  onTrap?: (error: TesseraError) => void;
  /** What the component's YAML grants it (tcp destinations). */
  grants?: Grants;
  /** Calls that may wait for the instance at once; more fail fast. */
  queueLimit?: number;
  /** The component's share of the event loop (a fraction of one core); 0 turns the check off. */
  cpuShare?: number;
  /** The longest a call may hold the event loop at a stretch. */
  cpuSliceMs?: number;
  /** A CPU share kept with other instances of the component (a pool's); its owner closes it. */
  cpu?: CpuShare;
  /** What capabilities share among the instances of the component (a pool's); this component's own when omitted. */
  shared?: Map<string, unknown>;
}

export const DEFAULT_CALL_TIMEOUT_MS = 5000;
/** Snapshot and restore work in proportion to the data; they get at least this long. */
const LIFECYCLE_TIMEOUT_MS = 30_000;
/**
 * The whole-snapshot exports work in proportion to the data, not to one request: they get
 * the call budget plus an allowance per byte, up to this many call budgets in all, so even
 * a large store's one-shot snapshot holds the event loop for a bounded time. (The streaming
 * `snapshot-stream` export needs no allowance: each chunk is one ordinary call.)
 */
const LIFECYCLE_FUEL_FACTOR = 5;
/**
 * A call also gets this much fuel per byte of the component's memory: a store's occasional
 * rehash or garbage collection is work in proportion to its data (measured: one set on the
 * AssemblyScript state.memory holding 300k keys took 83M units, 23 ms), so a fixed budget
 * that bounds a runaway call would make a large store fail. The price: a runaway call in a
 * component with much memory holds the loop longer (README, "Sandbox and limits").
 */
const FUEL_PER_MEMORY_BYTE = 2;
/** ... at most this many budgets more, so a budget set small stays small. */
const MEMORY_FUEL_FACTOR = 4;
/** Measured: state.memory restores at ~100 units per snapshot byte and snapshots at well under 32 per memory byte. */
const RESTORE_FUEL_PER_BYTE = 512;
const SNAPSHOT_FUEL_PER_MEMORY_BYTE = 32;

/** What went wrong inside the guest, without the layers of wrapping on the way out. */
function describeThrow(err: unknown): string {
  if (isTesseraError(err)) {
    // The canonical ABI prefixes its own label ("component.fn: "); the caller adds context.
    const message = err.message.replace(/^[^:\s]+\.[^:\s]+: /, '');
    if (err.cause !== undefined && !isTesseraError(err.cause)) {
      // Where in the call it happened, when not in the export itself ("cabi_realloc", "post-return").
      const where = /^([^:]+): the component trapped: /.exec(message)?.[1];
      return where === undefined ? describeThrow(err.cause) : `in ${where}: ${describeThrow(err.cause)}`;
    }
    return message;
  }
  if (err instanceof RangeError && /call stack/i.test(err.message)) return 'stack overflow (unbounded recursion?)';
  if (err instanceof Error && err.name === 'SuspendError') return 'it tried to suspend (sleep, tcp) where the host cannot wait for it';
  if (err instanceof Error) return `${err.constructor.name === 'RuntimeError' ? 'trap' : err.name}: ${err.message}`;
  return String(err);
}

/** What a running queued task works on: stopped from the inside if it overruns its deadline. */
interface ActiveWork {
  /** Unset while an instance is being made. */
  instance?: ComponentInstance;
  abort: AbortController;
}


export class LiveComponent implements GuestComponent {
  readonly name: string;
  readonly compiled: CompiledComponent;
  readonly config: ReadonlyMap<string, string>;
  readonly loadedAt: Date;
  readonly #options: LiveComponentOptions;
  readonly #shared: Map<string, unknown>;
  readonly #logger: Logger;
  /** Fuel per call (`tessera.dev/cpu-budget`); 0 when the module is not metered. */
  readonly #budget: number;
  /** The memory size the budget was last sized for, and that budget. */
  readonly #timeoutMs: number;
  readonly #queue: CallQueue;
  readonly #cpu: CpuShare;
  #instance: ComponentInstance | undefined;
  #active: ActiveWork | undefined;
  /** Instances stopped at a deadline: their late failure was already reported. */
  readonly #abandoned = new WeakSet<ComponentInstance>();
  #features: ReadonlySet<string> = new Set();
  /** Set once a call ran past its CPU slice: from then on calls go through JSPI, to be paused instead. */
  #pausable: boolean;
  /**
   * A component that keeps its data in its memory (it exports a snapshot) would lose it all
   * if a call that cannot pause were stopped at three slices: such a call may run up to the
   * life-cycle limit instead, once, since the component is pausable from then on.
   */
  readonly #keepsData: boolean;
  /** How long one call that cannot pause may hold the loop: a component that keeps data may need longer. */
  readonly #hardLimitMs: number;
  /** A snapshot taken when the instance was given up; restored by the next boot. */
  #parked: SnapshotData | undefined;
  #closed = false;

  private constructor(compiled: CompiledComponent, options: LiveComponentOptions) {
    this.name = options.name;
    this.compiled = compiled;
    this.config = options.config;
    this.#options = options;
    this.#shared = options.shared ?? new Map<string, unknown>();
    this.#logger = rateLimitedLogger(options.logger);
    this.#budget = compiled.cpuBudget;
    this.#timeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.#queue = new CallQueue(options.name, options.queueLimit ?? DEFAULT_QUEUE_LIMIT);
    this.#cpu = options.cpu ?? new CpuShare(options.cpuShare ?? DEFAULT_CPU_SHARE);
    this.#pausable = compiled.needsJspi;
    this.#keepsData = canSnapshot(compiled.optionalExports);
    this.#hardLimitMs = this.#keepsData ? LIFECYCLE_HARD_LIMIT_MS : (options.cpuSliceMs ?? DEFAULT_CPU_SLICE_MS) * HARD_LIMIT_FACTOR;
    this.loadedAt = new Date();
  }

  /** Instantiates, calls `init(config)` and reads `features()`, within the call timeout; refuses with ERR_COMPONENT_LOAD. */
  static async start(compiled: CompiledComponent, options: LiveComponentOptions): Promise<LiveComponent> {
    const live = new LiveComponent(compiled, options);
    try {
      await live.#queue.push('init', live.#timeoutMs, () => live.#boot(), () => live.#abandon('init'));
    } catch (err) {
      const componentError = isTesseraError(err) ? err.componentError : undefined;
      throw new TesseraError('ERR_COMPONENT_LOAD', `component "${options.name}" failed to start: ${describeThrow(err)}`, { cause: err, componentError });
    }
    return live;
  }

  get features(): ReadonlySet<string> {
    return this.#features;
  }

  get supportsSnapshot(): boolean {
    return this.#keepsData;
  }

  get idle(): boolean {
    return this.#instance === undefined;
  }

  usage(): ComponentUsage {
    const instance = this.#instance;
    if (instance === undefined) return { memoryBytes: 0, fuelConsumed: 0, instances: 0 };
    return { memoryBytes: instance.memoryBytes(), fuelConsumed: instance.meter?.fuelConsumed ?? 0, instances: 1 };
  }

  /** Boots an instance: `init`, `restore` of a parked snapshot, `features`. Runs as (part of) a queued task. */
  async #boot(): Promise<ComponentInstance> {
    const active: ActiveWork = { abort: new AbortController() };
    this.#active = active;
    const instance = await instantiate(this.compiled, {
      name: this.name,
      logger: this.#logger,
      grants: this.#options.grants,
      shared: this.#shared,
      cpuSliceMs: this.#options.cpuSliceMs ?? DEFAULT_CPU_SLICE_MS,
      signal: active.abort.signal,
    });
    active.instance = instance;
    if (instance.meter) instance.meter.memoryAllowance = () => this.#allowanceFor(instance);
    if (active.abort.signal.aborted) {
      instance.dispose();
      throw new TesseraError('ERR_COMPONENT_TRAP', 'stopped at its deadline');
    }
    const step = async (fn: string, args: unknown[], exportKey = fn): Promise<unknown> => {
      try {
        return await this.#invoke(instance, exportKey, args, undefined, true);
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
      try {
        await this.#giveSnapshot(instance, this.#parked);
      } catch (err) {
        instance.dispose();
        throw err;
      }
      this.#parked = undefined;
    }
    if (instance.calls.has('features')) this.#features = new Set((await step('features', [])) as string[]);
    const exportFeatures = kindOf(this.compiled.manifest.kind)?.exportFeatures ?? {};
    const implied = [...this.compiled.optionalExports].flatMap((name) => exportFeatures[name] ?? []);
    if (implied.some((f) => !this.#features.has(f))) this.#features = new Set([...this.#features, ...implied]);
    this.#instance = instance;
    return instance;
  }

  /**
   * One export call on an instance, with a fresh CPU budget (`fuel`, or the call budget sized
   * for its memory). A life-cycle step is called so it can be paused where the instance
   * allows, since its work grows with the data.
   */
  #invoke(instance: ComponentInstance, fn: string, args: unknown[], fuel?: number, lifecycle = false): unknown {
    const pausable = (this.#pausable || lifecycle) && instance.pausableCalls() !== undefined;
    instance.meter?.begin(fuel ?? this.#budget, fuel === undefined, pausable, lifecycle ? LIFECYCLE_HARD_LIMIT_MS : this.#hardLimitMs);
    return (pausable ? instance.pausableCalls()! : instance.calls).get(fn)!(...args);
  }

  /** What a call gets on top of its budget for the component's memory (CallMeter.memoryAllowance). */
  #allowanceFor(instance: ComponentInstance): number {
    return Math.min(instance.memoryBytes() * FUEL_PER_MEMORY_BYTE, this.#budget * MEMORY_FUEL_FACTOR);
  }

  /**
   * After a call: charges its time on the event loop to the CPU share, and makes the
   * component pausable if the call ran past its slice without a way to pause.
   */
  #after(instance: ComponentInstance, fn: string, t0: number): void {
    const meter = instance.meter;
    // A metered call that never needed a second slice of fuel was short (the share does not
    // count calls under a millisecond): the common case reads no clock.
    if (meter?.refueled === false) return;
    const now = performance.now();
    this.#cpu.charge(meter ? meter.heldMs(now) : now - t0, now);
    if (meter?.overran && !this.#pausable && instance.pausableCalls() !== undefined) {
      this.#pausable = true;
      this.#logger.warn(`component "${this.name}": ${fn} held the event loop past its CPU slice (tessera.dev/cpu-slice); from now on its calls are paused and resumed instead (through JSPI, a little slower)`);
    }
  }

  /**
   * Calls an export with lifted arguments and resolves to its lifted result. A component
   * error (`result::err`) is a value, not a throw; only a failure of the guest rejects.
   */
  call(fn: string, args: unknown[]): Promise<unknown> {
    const instance = this.#instance;
    if (instance === undefined || this.#pausable || this.#queue.length > 0) return this.#queued(fn, args);
    if (this.#cpu.exceeded()) return Promise.reject(this.#throttled(fn));
    const meter = instance.meter;
    if (meter !== undefined) {
      // The common case, kept lean: a metered call that needs no second slice of fuel is short,
      // and is not timed (the meter times one that is, from its first refuel).
      meter.begin(this.#budget, true, false, this.#hardLimitMs);
      let result: unknown;
      try {
        result = instance.calls.get(fn)!(...args);
      } catch (err) {
        this.#after(instance, fn, 0);
        return Promise.reject(this.#trapped(fn, err, instance));
      }
      if (meter.refueled) this.#after(instance, fn, 0);
      return Promise.resolve(result);
    }
    const t0 = performance.now();
    try {
      return Promise.resolve(this.#invoke(instance, fn, args));
    } catch (err) {
      return Promise.reject(this.#trapped(fn, err, instance));
    } finally {
      this.#after(instance, fn, t0);
    }
  }

  #queued(fn: string, args: unknown[]): Promise<unknown> {
    return this.#queue.push(
      fn,
      this.#timeoutMs,
      async () => {
        if (this.#cpu.exceeded()) throw this.#throttled(fn);
        // An instance that is there takes no await (a turn of the microtask queue) to get.
        const instance = this.#instance ?? (await this.#ensureInstance());
        this.#active = { instance, abort: new AbortController() };
        const t0 = instance.meter === undefined ? performance.now() : 0;
        try {
          return await this.#invoke(instance, fn, args);
        } catch (err) {
          throw this.#trapped(fn, err, instance);
        } finally {
          this.#after(instance, fn, t0);
        }
      },
      () => this.#abandon(fn),
    );
  }

  #throttled(fn: string): TesseraError {
    const used = Math.round(this.#cpu.usedMs());
    return new TesseraError(
      'ERR_COMPONENT_THROTTLED',
      `component "${this.name}" used ${used} ms of the event loop in the last second, over its CPU share of ${Math.round(this.#cpu.allowedMs)} ms (tessera.dev/cpu-share); ${fn} fails fast until its use falls`,
    );
  }

  async #ensureInstance(): Promise<ComponentInstance> {
    if (this.#instance !== undefined) return this.#instance;
    if (this.#closed) throw new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" is unloaded`);
    try {
      return await this.#boot();
    } catch (err) {
      const error = new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" could not be restarted: ${describeThrow(err)}`, { cause: err });
      // A boot stopped at its deadline was reported then.
      if (!this.#active?.abort.signal.aborted) this.#options.onTrap?.(error);
      throw error;
    }
  }

  /**
   * A suspended call cannot be interrupted from outside. Past its deadline the running task
   * fails and its instance is stopped from the inside: fuel is set negative (the next charge
   * point traps) and its capabilities are disposed (a pending sleep rejects, sockets close),
   * so the abandoned stack unwinds instead of running on. A boot is stopped the same way.
   */
  #abandon(fn: string): TesseraError {
    const active = this.#active;
    const instance = active?.instance;
    active?.abort.abort();
    if (instance !== undefined) {
      this.#abandoned.add(instance);
      instance.meter?.halt(`${fn} did not finish within its call timeout of ${this.#timeoutMs} ms`);
      instance.dispose();
      if (this.#instance === instance) this.#instance = undefined;
    }
    const message = `component "${this.name}" (${this.compiled.manifest.type}) trapped in ${fn}: ${fn} did not finish within its call timeout of ${this.#timeoutMs} ms`;
    this.#logger.error(message);
    const error = new TesseraError('ERR_COMPONENT_TRAP', message);
    this.#options.onTrap?.(error);
    return error;
  }

  #why(err: unknown, instance: ComponentInstance): string {
    if (this.#abandoned.has(instance)) return describeThrow(err);
    const stopped = instance.meter?.stopped;
    if (stopped !== undefined) return stopped;
    // A refused grow usually ends in the allocator's bare `unreachable`: the limit is the reason.
    return withRefusedGrow(describeThrow(err), instance.takeRefusedGrow(), this.compiled.memoryLimitBytes, instance.memoryBytes());
  }

  #trapped(fn: string, err: unknown, instance: ComponentInstance): TesseraError {
    if (this.#instance === instance) this.#instance = undefined;
    instance.dispose();
    const why = this.#why(err, instance);
    const message = `component "${this.name}" (${this.compiled.manifest.type}) trapped in ${fn}: ${why}`;
    const error = new TesseraError('ERR_COMPONENT_TRAP', message, { cause: err });
    // A call stopped at its deadline was reported then; its late unwinding is not a second trap.
    if (this.#abandoned.has(instance)) return error;
    this.#logger.error(message);
    this.#options.onTrap?.(error);
    return error;
  }

  /** Runs lifecycle work on the instance (after the calls already queued), with the lifecycle deadline. */
  #lifecycle<T>(label: string, work: () => Promise<T>): Promise<T> {
    return this.#queue.push(label, Math.max(this.#timeoutMs, LIFECYCLE_TIMEOUT_MS), work, () => this.#abandon(label));
  }

  /**
   * The instance's snapshot exports as host/sandbox/snapshot-stream.ts calls them: each call
   * of `snapshot-stream` is an ordinary call with the ordinary budget (a chunk is bounded);
   * the whole-snapshot exports get the allowance for the data they work through.
   */
  #snapshotPort(instance: ComponentInstance, signal: AbortSignal | undefined): SnapshotPort {
    return {
      name: this.name,
      optionalExports: this.compiled.optionalExports,
      memoryLimitBytes: this.compiled.memoryLimitBytes,
      ...(signal === undefined ? {} : { signal }),
      call: (fn, args) => {
        if (fn === 'snapshot#snapshot') {
          return this.#invoke(instance, fn, args, this.#capped(this.#budget + instance.memoryBytes() * SNAPSHOT_FUEL_PER_MEMORY_BYTE), true);
        }
        if (fn === 'snapshot#restore') {
          return this.#invoke(instance, fn, args, this.#capped(this.#budget + (args[0] as Uint8Array).byteLength * RESTORE_FUEL_PER_BYTE), true);
        }
        // Each chunk is an ordinary budget, but a life-cycle step: pausable, with the life-cycle limit where it cannot pause.
        return this.#invoke(instance, fn, args, undefined, true);
      },
    };
  }

  /** The instance's data (in chunks when it streams). A failure leaves the instance as it was (its data is not dropped) and rejects. */
  async #takeSnapshot(instance: ComponentInstance): Promise<SnapshotData> {
    const active: ActiveWork = { instance, abort: new AbortController() };
    this.#active = active;
    try {
      return await takeSnapshot(this.#snapshotPort(instance, active.abort.signal));
    } catch (err) {
      throw new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" could not take a snapshot of its data: ${this.#why(err, instance)}`, { cause: err });
    }
  }

  /** Hands `data` to a freshly booted instance (chunk by chunk when it streams); rejects if it traps or refuses. */
  async #giveSnapshot(instance: ComponentInstance, data: SnapshotData): Promise<void> {
    try {
      await restoreSnapshot(this.#snapshotPort(instance, this.#active?.abort.signal), data);
    } catch (err) {
      // The component refused it (`component "…" refused the snapshot: …`, with its error).
      if (isTesseraError(err) && err.componentError !== undefined) throw err;
      throw new TesseraError('ERR_COMPONENT_TRAP', `trapped in restore: ${this.#why(err, instance)}`, { cause: err });
    }
  }

  #capped(fuel: number): number {
    return Math.min(fuel, this.#budget * LIFECYCLE_FUEL_FACTOR);
  }

  /** The component's state from its snapshot export, after the calls already queued. */
  snapshot(): Promise<SnapshotData | undefined> {
    if (!this.supportsSnapshot) return Promise.resolve(undefined);
    return this.#lifecycle('snapshot', async () => {
      const instance = this.#instance;
      if (instance === undefined) return this.#parked;
      return this.#takeSnapshot(instance);
    });
  }

  /** Hands a snapshot to the running instance (a new generation, before it serves). */
  restore(data: SnapshotData): Promise<void> {
    return this.#lifecycle('restore', async () => {
      const instance = await this.#ensureInstance();
      this.#active = { instance, abort: new AbortController() };
      try {
        await this.#giveSnapshot(instance, data);
      } catch (err) {
        // The instance may hold half the data: it must not serve.
        if (this.#instance === instance) this.#instance = undefined;
        instance.dispose();
        throw err;
      }
    });
  }

  /**
   * Gives up the instance, keeping a snapshot when the component can take one; the next
   * call wakes it. When the snapshot fails the instance stays (with its data) and this rejects.
   */
  hibernate(): Promise<void> {
    return this.#lifecycle('hibernate', async () => {
      const instance = this.#instance;
      if (instance === undefined) return;
      if (this.supportsSnapshot) this.#parked = await this.#takeSnapshot(instance);
      this.#instance = undefined;
      instance.dispose();
    });
  }

  /** Stops booting new instances; once the calls already queued have finished (or met their deadlines), drops the instance. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#options.cpu === undefined) this.#cpu.close();
    await this.#queue.whenIdle();
    this.#instance?.dispose();
    this.#instance = undefined;
  }
}
