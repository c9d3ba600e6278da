// A counting semaphore: at most `limit` holders at once, the others wait in arrival order.
// The app channel uses one for `--app-max-concurrency` (every call to the app), each
// delivery loop one for its subscription's messages in flight. The limit may change while
// held (a subscription updated): it applies as holders leave.

/** No limit: daprd's `--app-max-concurrency -1`. */
export const UNLIMITED = Number.POSITIVE_INFINITY;

interface Waiter {
  admit: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
}

export class ConcurrencyLimit {
  #limit: number;
  #active = 0;
  #waiting: Waiter[] = [];
  /**
   * The signals this limit listens for, one listener each: a delivery loop's waiters share
   * its one signal, and a listener added and removed per waiter cost more than the wait.
   */
  readonly #watched = new WeakSet<AbortSignal>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a place. */
  get waiting(): number {
    return this.#waiting.length;
  }

  set limit(limit: number) {
    this.#limit = limit;
    this.#admit();
  }

  /**
   * Resolves once a place is free; the caller must call `release()` exactly once after.
   * Rejects with the signal's reason when it aborts first (nothing to release then).
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.#limit && this.#waiting.length === 0) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((admit, reject) => {
      this.#waiting.push({ admit, reject, signal });
      if (signal !== undefined && !this.#watched.has(signal)) {
        this.#watched.add(signal);
        signal.addEventListener('abort', () => this.#abandon(signal), { once: true });
      }
    });
  }

  release(): void {
    this.#active--;
    this.#admit();
  }

  /** The waiters under `signal` leave the queue, rejected with its reason. */
  #abandon(signal: AbortSignal): void {
    const staying: Waiter[] = [];
    const leaving: Waiter[] = [];
    for (const w of this.#waiting) (w.signal === signal ? leaving : staying).push(w);
    if (leaving.length === 0) return;
    this.#waiting = staying;
    for (const w of leaving) w.reject(signal.reason);
    this.#admit();
  }

  #admit(): void {
    while (this.#active < this.#limit && this.#waiting.length > 0) {
      this.#active++;
      this.#waiting.shift()!.admit();
    }
  }
}
