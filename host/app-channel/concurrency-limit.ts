// A counting semaphore: at most `limit` holders at once, the others wait in arrival order.
// The app channel uses one for `--app-max-concurrency` (every call to the app), each
// delivery loop one for its subscription's messages in flight. The limit may change while
// held (a subscription updated): it applies as holders leave.

/** No limit: daprd's `--app-max-concurrency -1`. */
export const UNLIMITED = Number.POSITIVE_INFINITY;

export class ConcurrencyLimit {
  #limit: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  get active(): number {
    return this.#active;
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
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.#waiting.indexOf(admit);
        if (at !== -1) this.#waiting.splice(at, 1);
        reject(signal!.reason);
      };
      const admit = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#waiting.push(admit);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    this.#active--;
    this.#admit();
  }

  #admit(): void {
    while (this.#active < this.#limit && this.#waiting.length > 0) {
      this.#active++;
      this.#waiting.shift()!();
    }
  }
}
