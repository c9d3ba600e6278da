// A component's share of the event loop over a rolling window: every long call's time on the
// loop is charged, and a component whose use in the last window is over its share has its
// calls fail fast until it falls below, so a component that burns CPU on every call cannot
// starve the others even though each of its calls is within its limits. Short calls are not
// charged: the loop serves other work between them, so however many there are they delay no
// one much (and a store busy with many small calls is doing its job, not starving anyone).
// And a share is only enforced while another component is being called too: a component
// alone on the loop (a bulk load at night) starves nobody, and throttling it would only fail
// its callers.

/** The window the share is measured over. */
export const CPU_SHARE_WINDOW_MS = 1000;
/** Calls shorter than this on the loop are not charged. */
export const CPU_SHARE_MIN_CALL_MS = 1;

/** Every share in use, to tell whether another component is being called. */
const shares = new Set<CpuShare>();
/**
 * Counts calls to every component: a share notes the count at each call and at the start of
 * each window, which tells "called lately" apart without reading the clock on every call.
 */
let calls = 0;

export class CpuShare {
  /** Milliseconds of loop time allowed per window. */
  readonly allowedMs: number;
  #windowStart = 0;
  #current = 0;
  #previous = 0;
  #lastCall = -1;
  /** The call count when the current and the previous window began. */
  #windowCall = 0;
  #previousWindowCall = 0;

  /** `share` is a fraction of one core (0.5 = half the event loop); 0 or less turns the check off. */
  constructor(share: number) {
    this.allowedMs = share > 0 ? share * CPU_SHARE_WINDOW_MS : Infinity;
    shares.add(this);
  }

  /** Stops counting this share as a component that may be starved. */
  close(): void {
    shares.delete(this);
  }

  get enabled(): boolean {
    return this.allowedMs !== Infinity;
  }

  #roll(now: number): void {
    const elapsed = now - this.#windowStart;
    if (elapsed < CPU_SHARE_WINDOW_MS) return;
    this.#previous = elapsed < 2 * CPU_SHARE_WINDOW_MS ? this.#current : 0;
    this.#current = 0;
    this.#windowStart = now - (elapsed % CPU_SHARE_WINDOW_MS);
    this.#previousWindowCall = elapsed < 2 * CPU_SHARE_WINDOW_MS ? this.#windowCall : calls;
    this.#windowCall = calls;
  }

  /** Loop time used over the last window: the current one, plus the previous one weighted by how much of it the window still covers. */
  usedMs(now = performance.now()): number {
    this.#roll(now);
    const covered = 1 - (now - this.#windowStart) / CPU_SHARE_WINDOW_MS;
    return this.#current + this.#previous * covered;
  }

  charge(ms: number, now = performance.now()): void {
    if (ms < CPU_SHARE_MIN_CALL_MS) return;
    this.#roll(now);
    this.#current += ms;
  }

  /** At the start of every call: whether the component is over its share now, while others want the loop too. */
  exceeded(): boolean {
    this.#lastCall = ++calls;
    // The weighted use never exceeds the two windows' sum: the common case costs one comparison.
    if (this.#current + this.#previous <= this.allowedMs) return false;
    return this.usedMs(performance.now()) > this.allowedMs && this.#contended();
  }

  /** Whether another component was called in this window or the one before. */
  #contended(): boolean {
    for (const other of shares) if (other !== this && other.#lastCall > this.#previousWindowCall) return true;
    return false;
  }
}
