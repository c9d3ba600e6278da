// The host's half of CPU metering for one instance. The instrumented code (metering.ts)
// spends fuel from a global and, when it runs out, calls `refuel`: every slice of fuel the
// host looks at the clock, so a call's hold on the event loop is bounded in time, whatever
// its instructions cost. A call that runs longer than its slice is paused when it can be (a
// call made through JSPI `yield`s: the event loop serves others, then it goes on), and a call
// that cannot be paused may overrun up to a hard limit, after which it traps; either way its
// total fuel is capped by the budget. Host calls are charged by the time they take (lifting
// arguments, the capability's work, lowering the result), however they were reached:
// `call`, `call_indirect` and `return_call` all end up here.
import { TesseraError } from '../errors.ts';
import { DEFAULT_CPU_SLICE_MS } from './default-limits.ts';

/** Fuel units per nanosecond of host time: host calls are charged what they cost the loop. */
export const UNITS_PER_NS = 1;
/** The least a host call costs, whatever the clock says: about the fixed cost of crossing over. */
export const HOST_CALL_FLOOR = 1000;
/**
 * Fuel handed out between two looks at the clock: ~0.1 ms of ordinary code at V8's optimising
 * tier, ~0.5 ms at its baseline tier, ~2.4 ms in the slowest pattern measured (loads and
 * stores split across cache lines), 1 ms of host calls.
 */
export const FUEL_SLICE = 1_000_000;
/** A call that cannot be paused may overrun its slice this many times over before it traps. */
export const HARD_LIMIT_FACTOR = 3;
/**
 * What a life-cycle step that cannot be paused may hold the loop at most (instantiating a
 * Component Model component runs its start-up code inside jco's glue, which cannot pause;
 * a JavaScript engine's start-up measured 40-80 ms): once per instance, not per request.
 */
export const LIFECYCLE_HARD_LIMIT_MS = 1000;

const SLICE = BigInt(FUEL_SLICE);
/** Flat-cost host calls are charged together, this many at a time (a power of two). */
const FLAT_BATCH = 64;
const FLAT_BATCH_UNITS = BigInt(FLAT_BATCH * HOST_CALL_FLOOR);

export class CallMeter {
  /** Bound once the instance exists (imports are built before it). */
  fuel: WebAssembly.Global | undefined;
  readonly #sliceMs: number;
  /** Fuel the call may still be handed beyond what it holds now. */
  #remaining = 0;
  /** Set once the slow path ran (refuel, a pause, a timed host call, a halt): `begin` then resets. */
  #dirty = false;
  #budget = 0;
  /** Of the budget, what the call got for the component's memory (said when it runs out). */
  #allowance = 0;
  /**
   * The fuel a call gets on top of its budget for the component's memory, sized when it first
   * asks for a second slice: most calls never do, and need not read the memory's size.
   */
  memoryAllowance: (() => number) | undefined;
  #sizeForMemory = false;
  #hardLimitMs = 0;
  /**
   * When the call's current stretch on the event loop began; NaN until its first `refuel`:
   * reading the clock costs ~80 ns, more than a short call's whole metering, so a call's
   * first slice of fuel (0.1-2.4 ms) is not timed and the clock starts at its first refuel.
   */
  #stretchStart = NaN;
  #heldBefore = 0;
  /** Whether the running call can be paused (it was called through JSPI). */
  #pausable = false;
  /**
   * Whether the guest is running inside the JSPI export call itself, and not in a host frame:
   * only there can it suspend. `cabi_realloc` while the host lowers arguments, `cabi_post_*`,
   * and any guest code a host function calls back run with host frames on the stack.
   */
  #inExport = false;
  #hostDepth = 0;
  #overran = false;
  /** Whether the running call has asked for more than its first slice. */
  refueled = false;
  /**
   * Why the last call was stopped, when the meter stopped it. (A negative fuel alone says
   * nothing: it is how the code asks for the next slice.)
   */
  stopped: string | undefined;
  #halted = false;
  readonly #pending = new Set<() => void>();
  #flatCalls = 0;
  /** Fuel put into the global during the current call (the slices handed out, and what refuels absorbed). */
  #handed = 0;
  /** Fuel the calls before the current one burnt, for `tessera_component_fuel_consumed_total`. */
  #used = 0;

  constructor(sliceMs = DEFAULT_CPU_SLICE_MS) {
    this.#sliceMs = sliceMs;
  }

  /**
   * Before a call: its fuel budget, whether it gets `memoryAllowance` on top, whether it can
   * be paused, and how long it may hold the loop if it cannot.
   */
  begin(budget: number, forMemory: boolean, pausable: boolean, hardLimitMs = this.#sliceMs * HARD_LIMIT_FACTOR): void {
    this.#budget = budget;
    this.#allowance = 0;
    this.#sizeForMemory = forMemory;
    this.#hardLimitMs = hardLimitMs;
    this.#pausable = pausable;
    // Most calls never reach the slow path: only what it touched is reset.
    if (this.#dirty) this.#reset();
    // What the last call burnt: handed out, less what it left in the global (one read, no clock).
    if (this.fuel !== undefined && this.#handed !== 0) this.#used += this.#handed - Number(this.fuel.value);
    if (budget >= FUEL_SLICE) {
      this.#remaining = budget - FUEL_SLICE;
      this.#handed = FUEL_SLICE;
      if (this.fuel !== undefined) this.fuel.value = SLICE;
    } else {
      this.#remaining = 0;
      this.#handed = budget;
      if (this.fuel !== undefined) this.fuel.value = BigInt(budget);
    }
  }

  /** Fuel burnt by every call so far, the running one included (read when metrics are scraped). */
  get fuelConsumed(): number {
    if (this.fuel === undefined) return this.#used;
    return Math.max(0, this.#used + this.#handed - Number(this.fuel.value));
  }

  #reset(): void {
    this.#dirty = false;
    this.#stretchStart = NaN;
    this.#heldBefore = 0;
    this.#overran = false;
    this.refueled = false;
    this.stopped = undefined;
    this.#halted = false;
    this.#inExport = false;
    this.#hostDepth = 0;
  }

  /** Milliseconds the call has held the event loop, all stretches together. */
  heldMs(now: number): number {
    return this.#heldBefore + (Number.isNaN(this.#stretchStart) ? 0 : now - this.#stretchStart);
  }

  /** `call` is a JSPI export call, as the guest's own code runs it; the pause is possible only inside it. */
  pausing<A extends unknown[]>(call: (...args: A) => Promise<unknown>): (...args: A) => Promise<unknown> {
    return (...args) => {
      this.#dirty = true;
      this.#inExport = true;
      let running: Promise<unknown>;
      try {
        running = call(...args);
      } catch (err) {
        this.#inExport = false;
        throw err;
      }
      // Two reactions rather than `finally`, which costs this hot path two more microtasks.
      return running.then(
        (value) => {
          this.#inExport = false;
          return value;
        },
        (err: unknown) => {
          this.#inExport = false;
          throw err;
        },
      );
    };
  }

  /** Whether the last call ran past its slice without being able to pause (it should be made pausable). */
  get overran(): boolean {
    return this.#overran;
  }

  #stop(why: string): never {
    this.halt(why);
    throw new TesseraError('ERR_COMPONENT_TRAP', why);
  }

  /**
   * Stops the running call from the inside (its deadline passed, its instance is dropped):
   * the fuel goes negative, so its next charge point asks `refuel`, which now traps.
   */
  halt(why: string): void {
    this.#dirty = true;
    this.stopped = why;
    this.#halted = true;
    if (this.fuel !== undefined) this.fuel.value = -1n;
  }

  /** The `refuel` hook: the next slice, 0 to ask for a pause, or a trap. */
  readonly refuel = (current: bigint): bigint => {
    if (this.#halted) throw new TesseraError('ERR_COMPONENT_TRAP', this.stopped ?? 'stopped');
    this.#dirty = true;
    if (!this.refueled && this.#sizeForMemory && this.memoryAllowance !== undefined) {
      this.#allowance = this.memoryAllowance();
      this.#budget += this.#allowance;
      this.#remaining += this.#allowance;
    }
    this.refueled = true;
    // A bulk operation may have overdrawn the slice by its length.
    this.#remaining += Number(current);
    if (this.#remaining <= 0) this.#stop(this.#outOfBudget());
    const now = performance.now();
    if (Number.isNaN(this.#stretchStart)) this.#stretchStart = now;
    const stretch = now - this.#stretchStart;
    if (stretch > this.#sliceMs) {
      if (this.#pausable && this.#inExport && this.#hostDepth === 0) {
        this.#handed -= Number(current);
        return 0n;
      }
      this.#overran = true;
      if (stretch > this.#hardLimitMs) {
        this.#stop(`held the event loop for ${Math.round(stretch)} ms without a pause, past its CPU slice of ${this.#sliceMs} ms (tessera.dev/cpu-slice) and the ${this.#hardLimitMs} ms a call that cannot pause may take`);
      }
    }
    const next = this.#remaining < FUEL_SLICE ? this.#remaining : FUEL_SLICE;
    this.#remaining -= next;
    // The global goes from `current` (spent, maybe overdrawn) to `next`.
    this.#handed += next - Number(current);
    return next === FUEL_SLICE ? SLICE : BigInt(next);
  };

  /** The `yield` hook (suspending): lets the event loop serve others (timers, I/O), then hands out the next slice. */
  readonly yield = (): Promise<bigint> => {
    const now = performance.now();
    this.#heldBefore += now - this.#stretchStart;
    return new Promise<bigint>((resolve, reject) => {
      const cancel = (): void => reject(new TesseraError('ERR_COMPONENT_TRAP', 'stopped while paused'));
      this.#pending.add(cancel);
      // A timer, not setImmediate: the loop then goes through its I/O before the call goes on.
      setTimeout(() => {
        if (!this.#pending.delete(cancel)) return;
        if (this.#halted) return reject(new TesseraError('ERR_COMPONENT_TRAP', this.stopped ?? 'stopped'));
        this.#stretchStart = performance.now();
        const next = this.#remaining < FUEL_SLICE ? this.#remaining : FUEL_SLICE;
        if (next <= 0) {
          this.stopped = this.#outOfBudget();
          if (this.fuel !== undefined) this.fuel.value = -1n;
          return reject(new TesseraError('ERR_COMPONENT_TRAP', this.stopped));
        }
        this.#remaining -= next;
        this.#handed += next;
        resolve(BigInt(next));
      }, 0);
    });
  };

  #outOfBudget(): string {
    const budget = this.#budget - this.#allowance;
    const extra = this.#allowance > 0 ? `, plus ${this.#allowance} for its memory` : '';
    return `ran out of its CPU budget of ${budget} units (tessera.dev/cpu-budget${extra}; an endless loop?)`;
  }

  /** Rejects the pauses of a dropped instance, so its stack unwinds. */
  dispose(): void {
    for (const cancel of this.#pending) cancel();
    this.#pending.clear();
  }

  /**
   * `fn` as a host import (the compiled import: lifting, the capability, lowering): charged to
   * the fuel by the time it takes, and counted as a host frame on the guest's stack until it
   * returns or, when it returns a promise, until that settles (the host lowers the result into
   * the guest before it resumes). The promise is marked handled: the guest may not wait for it
   * (a suspension refused outside JSPI, a trap, a deadline), and its rejection must not go
   * unobserved.
   */
  wrap<F extends (...args: any[]) => unknown>(fn: F): F {
    const meter = this;
    return function metered(this: unknown, ...args: unknown[]): unknown {
      const t0 = performance.now();
      let result: unknown;
      meter.#dirty = true;
      meter.#hostDepth++;
      let pending = false;
      try {
        result = fn.apply(this, args);
        if (result instanceof Promise) {
          pending = true;
          const settled = (): void => void meter.#hostDepth--;
          result.then(settled, settled);
        }
        return result;
      } finally {
        if (!pending) meter.#hostDepth--;
        meter.#charge(performance.now() - t0);
      }
    } as F;
  }

  /**
   * `fn` as a capability's async host function: while its promise is pending the guest waits
   * suspended, off the event loop, so its stretch on the loop ends when it is called and a new
   * one starts when the promise settles (before the result is lowered into the guest).
   */
  waiting<F extends (...args: any[]) => unknown>(fn: F): F {
    const meter = this;
    return function waited(this: unknown, ...args: unknown[]): unknown {
      const result = fn.apply(this, args);
      if (!(result instanceof Promise)) return result;
      meter.#dirty = true;
      if (!Number.isNaN(meter.#stretchStart)) meter.#heldBefore += performance.now() - meter.#stretchStart;
      return result.then(
        (value) => {
          meter.#stretchStart = performance.now();
          return value;
        },
        (err: unknown) => {
          meter.#stretchStart = performance.now();
          throw err;
        },
      );
    } as F;
  }

  /**
   * `fn` as a host import of fixed, tiny cost that never calls back into the guest (`clock`):
   * charged HOST_CALL_FLOOR a call without reading the clock, in batches of FLAT_BATCH calls
   * (a loop of them still runs through its fuel, and the charge costs a counter a call).
   */
  flat<F extends (...args: any[]) => unknown>(fn: F): F {
    const meter = this;
    return function flat(this: unknown, ...args: unknown[]): unknown {
      if ((++meter.#flatCalls & (FLAT_BATCH - 1)) === 0 && meter.fuel !== undefined) meter.fuel.value = (meter.fuel.value as bigint) - FLAT_BATCH_UNITS;
      return fn.apply(this, args);
    } as F;
  }

  #charge(ms: number): void {
    const fuel = this.fuel;
    if (fuel === undefined) return;
    // At most a slice: a host call that seems to take longer was descheduled, not working,
    // and a slice is enough to send the guest to `refuel` (and the clock) at once.
    const units = Math.min(FUEL_SLICE, Math.max(HOST_CALL_FLOOR, Math.ceil(ms * 1e6 * UNITS_PER_NS)));
    fuel.value = (fuel.value as bigint) - BigInt(units);
    // Past zero the next charge point in the guest asks `refuel`, which looks at the clock.
  }
}
