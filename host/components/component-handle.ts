// One named component across its generations. Calls go to the current generation; a swap
// builds the next one beside it, carries the data over (`snapshot`/`restore`) and switches
// atomically, so no call fails and no write is lost: a swap whose data cannot be carried
// over is refused, and the running generation keeps serving. Also the failure policy: traps
// back off exponentially and a crash loop fails calls fast; idle components hibernate, unless
// their data cannot be kept.
// The module's, not the global: Node's global `performance` is a getter, run on every read.
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { TesseraError } from '../errors.ts';
import { callStart, type ComponentObserver } from '../observability/component-observer.ts';
import type { Logger } from '../observability/logger.ts';
import { activeTracing } from '../observability/tracing.ts';
import type { GuestComponent, SnapshotData } from '../sandbox/guest-component.ts';
import type { ComponentLimits } from './limits.ts';
import type { DesiredComponent } from './resources-loader.ts';

/** What was loaded as one generation, kept for metadata and rollback. */
export interface Generation {
  number: number;
  desired: DesiredComponent;
  live: GuestComponent;
}

export type HandleStatus = 'ready' | 'hibernating' | 'unhealthy';

/** How many earlier generations are kept for rollback. */
const HISTORY = 4;
const MAX_BACKOFF_MS = 5000;
const FIRST_BACKOFF_MS = 50;

export class ComponentHandle {
  readonly name: string;
  #current: Generation;
  #previous: Generation[] = [];
  #nextNumber: number;
  #logger: Logger;
  /** Set while a swap is in its critical section: calls wait for it, then go to the new generation. */
  #gate: Promise<void> | undefined;
  #traps: number[] = [];
  #lastTrap: string | undefined;
  /** Calls before this time take the slow path (backoff or crash loop). */
  #holdUntil = 0;
  #unhealthyUntil = 0;
  #lastCallAt = performance.now();
  #idleTimer: NodeJS.Timeout | undefined;
  /** The last call before a hibernation that failed: not tried again until another call comes. */
  #hibernateFailedAfter: number | undefined;
  #closed = false;
  #calls = 0;
  /** Told of every call, trap, swap and hibernation (the tessera_component_* metrics), when metrics are on. */
  readonly #observer: ComponentObserver | undefined;
  /** The last failed attempt to load a new generation, or a broken file, if any. */
  loadError: string | undefined;

  constructor(name: string, first: { desired: DesiredComponent; live: GuestComponent }, logger: Logger, observer?: ComponentObserver) {
    this.name = name;
    this.#logger = logger;
    this.#observer = observer;
    this.#current = { number: 1, ...first };
    this.#nextNumber = 2;
    this.#armIdleTimer();
  }

  get current(): Generation {
    return this.#current;
  }

  get previous(): readonly Generation[] {
    return this.#previous;
  }

  get limits(): ComponentLimits {
    return this.#current.desired.limits;
  }

  get features(): ReadonlySet<string> {
    return this.#current.live.features;
  }

  get status(): HandleStatus {
    if (this.#unhealthyUntil > performance.now()) return 'unhealthy';
    return this.#current.live.idle ? 'hibernating' : 'ready';
  }

  get lastTrap(): string | undefined {
    return this.#lastTrap;
  }

  /** Traps within the crash-loop window. */
  get recentTraps(): number {
    this.#pruneTraps(performance.now());
    return this.#traps.length;
  }

  /** Where the `onTrap` of each generation's GuestComponent should report. */
  readonly onTrap = (error: TesseraError): void => {
    const now = performance.now();
    this.#observer?.trap(this.name);
    this.#lastTrap = error.message;
    this.#pruneTraps(now);
    this.#traps.push(now);
    const { crashLoopTraps, crashLoopWindowMs } = this.limits;
    if (this.#traps.length >= crashLoopTraps) {
      this.#unhealthyUntil = now + crashLoopWindowMs;
      this.#holdUntil = this.#unhealthyUntil;
      this.#logger.error(`component "${this.name}" is in a crash loop (${this.#traps.length} traps within ${crashLoopWindowMs} ms): failing calls fast until a new version is loaded or ${new Date(performance.timeOrigin + this.#unhealthyUntil).toISOString()}`);
    } else if (this.#traps.length > 1) {
      this.#holdUntil = now + Math.min(FIRST_BACKOFF_MS * 2 ** (this.#traps.length - 2), MAX_BACKOFF_MS);
    }
  };

  #pruneTraps(now: number): void {
    const since = now - this.limits.crashLoopWindowMs;
    while (this.#traps.length > 0 && this.#traps[0]! < since) this.#traps.shift();
  }

  /**
   * Calls made so far, across generations: a persisted component whose count did not move
   * has nothing new to write (any call may have changed its data; no call, no change).
   */
  get calls(): number {
    return this.#calls;
  }

  /** The running generation's data (undefined if it cannot snapshot), after any swap under way. */
  async snapshot(): Promise<SnapshotData | undefined> {
    while (this.#gate !== undefined) await this.#gate;
    return this.#current.live.snapshot();
  }

  /**
   * Calls an export on the current generation. Every component call of every building block
   * and transport comes through here: with metrics or tracing on, it is counted, timed and
   * traced here; with both off it costs two checks.
   */
  call(fn: string, args: unknown[]): Promise<unknown> {
    const tracing = activeTracing;
    const observer = this.#observer;
    if (observer === undefined && tracing === undefined) return this.#call(fn, args, performance.now());
    // Inside an observed building-block call, its start (read a few steps up, with nothing between that waits).
    const t0 = callStart();
    const result = tracing === undefined ? this.#call(fn, args, t0) : tracing.componentCall(this.name, this.#current.number, fn, () => this.#call(fn, args, t0));
    if (observer === undefined) return result;
    return result.then(
      (value) => {
        observer.componentCall(this.name, fn, true, performance.now() - t0);
        return value;
      },
      (err: unknown) => {
        observer.componentCall(this.name, fn, false, performance.now() - t0);
        throw err;
      },
    );
  }

  #call(fn: string, args: unknown[], now: number): Promise<unknown> {
    this.#lastCallAt = now;
    this.#calls++;
    if (this.#gate !== undefined || this.#holdUntil > now) return this.#slowCall(fn, args);
    return this.#current.live.call(fn, args);
  }

  async #slowCall(fn: string, args: unknown[]): Promise<unknown> {
    while (this.#gate !== undefined) await this.#gate;
    const now = performance.now();
    if (this.#unhealthyUntil > now) {
      throw new TesseraError(
        'ERR_COMPONENT_UNHEALTHY',
        `component "${this.name}" is in a crash loop (${this.#traps.length} traps within ${this.limits.crashLoopWindowMs} ms) and fails fast for another ${Math.ceil((this.#unhealthyUntil - now) / 1000)} s, or until a new version is loaded; last trap: ${this.#lastTrap}`,
      );
    }
    if (this.#holdUntil > now) await delay(this.#holdUntil - now);
    return this.#current.live.call(fn, args);
  }

  /**
   * Switches to a new generation that has already started. Calls arriving meanwhile wait;
   * calls already queued finish on the old one; then its data (if both can snapshot and are
   * the same type) moves across. If the new one refuses the data, nothing changes.
   */
  async swap(next: { desired: DesiredComponent; live: GuestComponent }, number = this.#nextNumber++): Promise<Generation> {
    while (this.#gate !== undefined) await this.#gate;
    let release!: () => void;
    this.#gate = new Promise((resolve) => (release = resolve));
    const old = this.#current;
    try {
      if (old.live.supportsSnapshot && next.live.supportsSnapshot && old.desired.manifest.type === next.desired.manifest.type) {
        let data: SnapshotData | undefined;
        try {
          data = await old.live.snapshot();
        } catch (err) {
          throw new TesseraError(
            'ERR_COMPONENT_LOAD',
            `the running generation ${old.number} could not hand over its data, so the new version was not swapped in (generation ${old.number} keeps serving, with its data): ${(err as Error).message}`,
            { cause: err },
          );
        }
        if (data !== undefined) await next.live.restore(data);
      }
      this.#previous.push(old);
      if (this.#previous.length > HISTORY) this.#previous.shift();
      this.#current = { number, ...next };
      this.#traps = [];
      this.#holdUntil = this.#unhealthyUntil = 0;
      this.#lastTrap = undefined;
      this.loadError = undefined;
      this.#observer?.swap(this.name);
    } catch (err) {
      void next.live.close();
      throw err;
    } finally {
      this.#gate = undefined;
      release();
    }
    void old.live.close();
    // The new generation's YAML may set another hibernate-after (or turn it on).
    clearTimeout(this.#idleTimer);
    this.#armIdleTimer();
    return this.#current;
  }

  /** The generation before the current one, which `rollback` brings back. */
  rollbackTarget(): Generation | undefined {
    return this.#previous.at(-1);
  }

  /**
   * Makes the previous generation current again, from `revived` (a fresh start of its
   * module and config). The generation rolled back from leaves the history, so a second
   * rollback goes one step further back.
   */
  async rollback(revived: GuestComponent): Promise<Generation> {
    const target = this.#previous.pop();
    if (target === undefined) throw new TesseraError('ERR_COMPONENT_NOT_FOUND', `component "${this.name}" has no earlier generation to roll back to`);
    try {
      await this.swap({ desired: target.desired, live: revived }, target.number);
    } catch (err) {
      this.#previous.push(target);
      throw err;
    }
    this.#previous.pop();
    return this.#current;
  }

  /** Gives up the instance after `hibernateAfterMs` without a call. */
  #armIdleTimer(): void {
    const after = this.limits.hibernateAfterMs;
    if (after <= 0 || this.#closed) return;
    const due = this.#lastCallAt + after - performance.now();
    this.#idleTimer = setTimeout(() => {
      if (this.#closed) return;
      const idleSince = this.#lastCallAt;
      if (performance.now() - idleSince >= after && this.#gate === undefined && !this.#current.live.idle && this.#hibernateFailedAfter !== idleSince) {
        this.#current.live.hibernate().then(
          () => {
            this.#observer?.hibernation(this.name);
            this.#logger.debug(`component "${this.name}" hibernated after ${after} ms idle`);
          },
          (err: Error) => {
            this.#hibernateFailedAfter = idleSince;
            this.#logger.warn(`component "${this.name}" did not hibernate (it keeps its instance and its data): ${err.message}`);
          },
        );
      }
      this.#armIdleTimer();
    }, Math.max(due, Math.min(after, 1000)));
    this.#idleTimer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    await this.#current.live.close();
  }
}
