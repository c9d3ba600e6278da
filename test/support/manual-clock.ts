// A RetryClock whose timers fire only when the test says, so a test steps through a backoff
// of seconds without waiting for it.
import type { RetryClock } from '../../host/components/load-retries.ts';

export class ManualClock implements RetryClock {
  #time = Date.parse('2026-01-01T00:00:00Z');
  #nextId = 1;
  readonly #timers = new Map<number, { fn: () => void; at: number; ms: number }>();

  now(): number {
    return this.#time;
  }

  schedule(fn: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { fn, at: this.#time + ms, ms });
    return id;
  }

  cancel(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** The delays of the timers pending now, in the order they were set. */
  get pending(): number[] {
    return [...this.#timers.values()].map((t) => t.ms);
  }

  /** Moves time to the earliest timer and fires it; returns its delay. */
  fireNext(): number {
    const [id, timer] = [...this.#timers].sort(([, a], [, b]) => a.at - b.at)[0] ?? [];
    if (id === undefined || timer === undefined) throw new Error('no timer is pending');
    this.#timers.delete(id);
    this.#time = timer.at;
    timer.fn();
    return timer.ms;
  }
}
