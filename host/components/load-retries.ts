// When a component whose start failed is tried again: after 1 s, then each wait 1.5 times the
// one before, up to 30 s, for as long as the resources folder still asks for it. A start fails
// for reasons outside the component (its Redis is not up yet), so waiting for its file to
// change is not enough. 1.5 rather than 2: a try is never further from the moment the
// engine came up than a third of the time since the first failure (with doubling, Redis up
// 10 s after the sidecar would wait for the try at 15 s).
// One timer per component, replaced rather than added to; the clock is injectable so tests
// can step through the backoff without waiting for it.

/** What the retries need of time; the system's by default. */
export interface RetryClock {
  now(): number;
  /** Calls `fn` after `ms`; the handle is what `cancel` takes. Must not keep the process alive. */
  schedule(fn: () => void, ms: number): unknown;
  cancel(handle: unknown): void;
}

export const systemClock: RetryClock = {
  now: () => Date.now(),
  schedule: (fn, ms) => setTimeout(fn, ms).unref(),
  cancel: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export const FIRST_RETRY_MS = 1_000;
export const RETRY_FACTOR = 1.5;
export const MAX_RETRY_MS = 30_000;

/** The wait before the next try after `failures` failed tries in a row. */
export const retryDelay = (failures: number): number => Math.round(Math.min(FIRST_RETRY_MS * RETRY_FACTOR ** (failures - 1), MAX_RETRY_MS));

interface Pending {
  /** Failed tries in a row of what `key` stands for. */
  failures: number;
  /** What was tried (the component's fingerprint and its files' times): a change of it retries at once. */
  key: string;
  /** When the timer fires; undefined while a try is under way. */
  at: number | undefined;
  timer: unknown;
}

/** A component's retry, as `/v1.0/metadata` shows it. */
export interface RetryInfo {
  failures: number;
  /** When the next try starts; undefined while one is under way. */
  at: number | undefined;
}

export class LoadRetries {
  readonly #pending = new Map<string, Pending>();
  readonly #retry: (name: string) => void;
  readonly #clock: RetryClock;
  #closed = false;

  /** `retry` is called with the component's name when its timer fires. */
  constructor(retry: (name: string) => void, clock: RetryClock = systemClock) {
    this.#retry = retry;
    this.#clock = clock;
  }

  /** Records one more failed try of `name` (of what `key` stands for) and sets its one timer; returns the wait. */
  failed(name: string, key: string): number {
    const before = this.#pending.get(name);
    if (before?.timer !== undefined) this.#clock.cancel(before.timer);
    const failures = before?.key === key ? before.failures + 1 : 1;
    const delay = retryDelay(failures);
    if (this.#closed) return delay;
    const pending: Pending = { failures, key, at: this.#clock.now() + delay, timer: undefined };
    pending.timer = this.#clock.schedule(() => {
      pending.timer = undefined;
      pending.at = undefined;
      this.#retry(name);
    }, delay);
    this.#pending.set(name, pending);
    return delay;
  }

  /**
   * Whether `name` should be left to its timer: true when it waits to retry what `key` stands
   * for. When that changed (an edit, a touch), its timer is stopped and its backoff starts over
   * (also while a try is under way: if that one fails, the next comes after the first wait).
   */
  waitsFor(name: string, key: string): boolean {
    const pending = this.#pending.get(name);
    if (pending === undefined) return false;
    if (pending.key === key) return pending.timer !== undefined;
    this.forget(name);
    return false;
  }

  info(name: string): RetryInfo | undefined {
    const pending = this.#pending.get(name);
    return pending === undefined ? undefined : { failures: pending.failures, at: pending.at };
  }

  /** Stops retrying `name` and forgets its failures: it started, changed, or was removed. */
  forget(name: string): void {
    const pending = this.#pending.get(name);
    if (pending?.timer !== undefined) this.#clock.cancel(pending.timer);
    this.#pending.delete(name);
  }

  /** Stops every timer, for good (shutdown). */
  close(): void {
    this.#closed = true;
    for (const name of [...this.#pending.keys()]) this.forget(name);
  }
}
