// Logs a failure once per distinct error. The folder is scanned again on every change in it,
// and a component that fails to start is retried: saying the same thing each time would bury
// the log (`echo hi > notwasm.wasm` once gave 23 identical lines). A key that recovered and
// fails again is logged again.

export class FailureLog {
  readonly #last = new Map<string, string>();
  readonly #write: (message: string) => void;

  constructor(write: (message: string) => void) {
    this.#write = write;
  }

  /** Logs `message` for `key` unless it is what was logged for `key` last; true when it was logged. */
  report(key: string, message: string): boolean {
    if (this.#last.get(key) === message) return false;
    this.#last.set(key, message);
    this.#write(message);
    return true;
  }

  /** Whether `report` would log `message` for `key`. */
  isNew(key: string, message: string): boolean {
    return this.#last.get(key) !== message;
  }

  /** `key` recovered (or is gone): its next failure is news. */
  clear(key: string): void {
    this.#last.delete(key);
  }

  /** Clears every key of `prefix` not in `failing`. */
  keepOnly(prefix: string, failing: ReadonlySet<string>): void {
    for (const key of this.#last.keys()) if (key.startsWith(prefix) && !failing.has(key)) this.#last.delete(key);
  }
}
