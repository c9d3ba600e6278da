// A pool of instances for one generation of a component whose calls can suspend (it imports
// an async capability: sleep, tcp). One instance serves one call at a time (a suspended
// instance must not be re-entered), so a store that waits 10 ms on a socket would serve the
// whole app one round trip at a time; the pool runs up to `tessera.dev/max-instances` of them
// side by side. Each member is a LiveComponent of its own, with its own instance, memory cap,
// queue, deadlines and trap handling; the pool only chooses where a call goes: to an idle
// member, to a new member while the pool may grow, else to the member with the fewest calls.
// Members share the component's CPU share and report traps to the same handle.
//
// A component that keeps its data in its own memory (it exports `snapshot`) is never pooled:
// each instance would hold a different part of the data.
import { TesseraError } from '../errors.ts';
import { rateLimitedLogger } from '../observability/rate-limited-logger.ts';
import type { Logger } from '../observability/logger.ts';
import type { CompiledComponent } from './compiled-component.ts';
import { CpuShare } from './cpu-share.ts';
import type { ComponentUsage, GuestComponent, SnapshotData } from './guest-component.ts';
import { DEFAULT_CPU_SHARE, DEFAULT_MAX_INSTANCES, DEFAULT_QUEUE_LIMIT } from './default-limits.ts';
import { LiveComponent, type LiveComponentOptions } from './live-component.ts';
import { kindOf } from './kinds/index.ts';
import { mayPool } from './kinds/kind.ts';
import { canSnapshot } from './snapshot-stream.ts';


/** Whether a generation of `compiled` may run a pool of instances: its kind allows it, and it can suspend and keeps no data in its memory. */
export function mayPoolInstances(compiled: CompiledComponent): boolean {
  const kind = kindOf(compiled.manifest.kind);
  return kind !== undefined && mayPool(kind.instances, { suspends: compiled.needsJspi, keepsData: canSnapshot(compiled.optionalExports) });
}

/** After a member failed to start, the pool does not try to grow again for this long. */
const GROW_BACKOFF_MS = 1000;

/** One instance that a caller keeps to itself (a pub/sub subscription's state lives in it). */
export interface LeasedInstance {
  call(fn: string, args: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

interface Member {
  /** Resolves once the member has started; rejects if it could not. */
  readonly ready: Promise<LiveComponent>;
  live: LiveComponent | undefined;
  /** Calls sent to it and not yet settled. */
  inFlight: number;
}

export class InstancePool implements GuestComponent {
  readonly name: string;
  readonly compiled: CompiledComponent;
  readonly config: ReadonlyMap<string, string>;
  readonly loadedAt: Date;
  readonly maxInstances: number;
  readonly #options: LiveComponentOptions;
  readonly #logger: Logger;
  readonly #members: Member[] = [];
  readonly #leased = new Set<LiveComponent>();
  readonly #queueLimit: number;
  #inFlight = 0;
  #noGrowUntil = 0;
  #closed = false;

  private constructor(compiled: CompiledComponent, options: LiveComponentOptions, maxInstances: number, first: LiveComponent) {
    this.name = options.name;
    this.compiled = compiled;
    this.config = options.config;
    this.loadedAt = first.loadedAt;
    this.maxInstances = maxInstances;
    this.#options = options;
    this.#logger = rateLimitedLogger(options.logger);
    this.#queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT;
    this.#members.push({ ready: Promise.resolve(first), live: first, inFlight: 0 });
  }

  /** Starts the pool with one member (its `init` runs now, so a bad config fails the load); more start as calls overlap. */
  static async start(compiled: CompiledComponent, options: LiveComponentOptions, maxInstances = DEFAULT_MAX_INSTANCES): Promise<InstancePool> {
    // One share for all members: the component, not each instance, gets its part of the loop.
    // One capability scope too: the members share connections (the redis capability's).
    const shared = { ...options, cpu: options.cpu ?? new CpuShare(options.cpuShare ?? DEFAULT_CPU_SHARE), shared: options.shared ?? new Map<string, unknown>() };
    const first = await LiveComponent.start(compiled, shared);
    return new InstancePool(compiled, shared, Math.max(1, maxInstances), first);
  }

  /** Instances started (or starting) for shared calls, and those leased. */
  get instances(): number {
    return this.#members.length + this.#leased.size;
  }

  usage(): ComponentUsage {
    const total = { memoryBytes: 0, fuelConsumed: 0, instances: 0 };
    for (const live of [...this.#members.map((m) => m.live), ...this.#leased]) {
      const u = live?.usage();
      if (u === undefined) continue;
      total.memoryBytes += u.memoryBytes;
      total.fuelConsumed += u.fuelConsumed;
      total.instances += u.instances;
    }
    return total;
  }

  get features(): ReadonlySet<string> {
    return this.#members[0]?.live?.features ?? new Set();
  }

  get supportsSnapshot(): boolean {
    return false;
  }

  get idle(): boolean {
    return this.#members.every((m) => m.live === undefined || m.live.idle) && this.#leased.size === 0;
  }

  call(fn: string, args: unknown[]): Promise<unknown> {
    if (this.#closed) return Promise.reject(new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" is unloaded`));
    if (this.#inFlight >= this.#queueLimit) {
      return Promise.reject(
        new TesseraError('ERR_COMPONENT_BUSY', `component "${this.name}" has ${this.#inFlight} calls waiting on its ${this.#members.length} instances, its limit (tessera.dev/queue-limit); ${fn} was refused`),
      );
    }
    const member = this.#choose();
    member.inFlight++;
    this.#inFlight++;
    const settle = (): void => {
      member.inFlight--;
      this.#inFlight--;
    };
    const run = member.live !== undefined ? member.live.call(fn, args) : this.#callWhenReady(member, fn, args);
    run.then(settle, settle);
    return run;
  }

  /** An idle member; else a new one while the pool may grow; else the least busy. */
  #choose(): Member {
    let least = this.#members[0]!;
    for (const m of this.#members) {
      if (m.inFlight === 0 && m.live !== undefined) return m;
      if (m.inFlight < least.inFlight) least = m;
    }
    if (least.inFlight === 0) return least;
    if (this.#members.length < this.maxInstances && performance.now() >= this.#noGrowUntil) return this.#grow();
    return least;
  }

  #grow(): Member {
    const member: Member = {
      ready: LiveComponent.start(this.compiled, this.#options).then((live) => {
        member.live = live;
        if (this.#closed) void live.close();
        return live;
      }),
      live: undefined,
      inFlight: 0,
    };
    member.ready.catch((err: Error) => {
      const at = this.#members.indexOf(member);
      if (at >= 0) this.#members.splice(at, 1);
      this.#noGrowUntil = performance.now() + GROW_BACKOFF_MS;
      this.#logger.warn(`component "${this.name}": another instance for the pool did not start (${err.message}); calls go to the ${this.#members.length} running`);
    });
    this.#members.push(member);
    return member;
  }

  /** A call sent to a member still starting: it runs there, or on the least busy member if the start fails. */
  async #callWhenReady(member: Member, fn: string, args: unknown[]): Promise<unknown> {
    let live: LiveComponent;
    try {
      live = await member.ready;
    } catch {
      const fallback = this.#members.find((m) => m.live !== undefined);
      if (fallback === undefined) throw new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" has no running instance`);
      return fallback.live!.call(fn, args);
    }
    return live.call(fn, args);
  }

  /**
   * A new instance of this generation for one caller alone, outside the shared members (it
   * does not count against max-instances: a pub/sub subscription must get one). The pool
   * closes it with the generation.
   */
  async lease(): Promise<LeasedInstance> {
    if (this.#closed) throw new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" is unloaded`);
    const live = await LiveComponent.start(this.compiled, this.#options);
    if (this.#closed) {
      void live.close();
      throw new TesseraError('ERR_COMPONENT_TRAP', `component "${this.name}" is unloaded`);
    }
    this.#leased.add(live);
    return {
      call: (fn, args) => live.call(fn, args),
      close: async () => {
        this.#leased.delete(live);
        await live.close();
      },
    };
  }

  snapshot(): Promise<SnapshotData | undefined> {
    return Promise.resolve(undefined);
  }

  restore(): Promise<void> {
    return Promise.reject(new TesseraError('ERR_COMPONENT_LOAD', `component "${this.name}" keeps no data of its own and takes no snapshot`));
  }

  /** Closes the idle members but one and gives up its instance; the next call starts it again. */
  async hibernate(): Promise<void> {
    const [first, ...rest] = this.#members;
    const idle = rest.filter((m) => m.inFlight === 0 && m.live !== undefined);
    for (const m of idle) this.#members.splice(this.#members.indexOf(m), 1);
    await Promise.all(idle.map((m) => m.live!.close()));
    await first?.live?.hibernate();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const members = this.#members.splice(0);
    const leased = [...this.#leased];
    this.#leased.clear();
    await Promise.all([
      ...members.map((m) => m.ready.then((live) => live.close(), () => undefined)),
      ...leased.map((live) => live.close()),
    ]);
    this.#options.cpu?.close();
  }
}
