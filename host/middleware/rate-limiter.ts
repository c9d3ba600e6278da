// Dapr's `middleware.http.ratelimit`: a token bucket per client address and path (tollbooth's
// default keys), refilled at `maxRequestsPerSecond` and holding that many (at least one), as
// golang.org/x/time/rate does for tollbooth. Buckets are kept only while they matter: one that
// has refilled is the same as a new one and is dropped, so the map holds the keys seen within
// about a second (1/rate seconds when the rate is below one), and never more than MAX_KEYS.
import { TokenBucket } from '../observability/token-bucket.ts';

/** The most buckets kept: past it, the oldest go first (a flood of new keys cannot grow memory). */
const MAX_KEYS = 100_000;
/** Buckets are swept when the map has grown by this many since the last sweep. */
const SWEEP_EVERY = 1024;

interface Entry {
  bucket: TokenBucket;
  usedAt: number;
}

export class RateLimiter {
  readonly maxRequestsPerSecond: number;
  readonly #burst: number;
  /** How long an idle bucket takes to refill completely. */
  readonly #refillMs: number;
  readonly #buckets = new Map<string, Entry>();
  #sweepAt = SWEEP_EVERY;

  constructor(maxRequestsPerSecond: number) {
    this.maxRequestsPerSecond = maxRequestsPerSecond;
    this.#burst = Math.max(1, Math.floor(maxRequestsPerSecond));
    this.#refillMs = (this.#burst / maxRequestsPerSecond) * 1000;
  }

  /** Takes a token for `client` on `path`; false when the request is over the limit. */
  allow(client: string, path: string, now = Date.now()): boolean {
    const key = `${client}|${path}`;
    let entry = this.#buckets.get(key);
    if (entry === undefined) {
      if (this.#buckets.size >= this.#sweepAt) this.#sweep(now);
      entry = { bucket: new TokenBucket(this.#burst, this.maxRequestsPerSecond, now), usedAt: now };
      this.#buckets.set(key, entry);
    }
    entry.usedAt = now;
    return entry.bucket.take(now);
  }

  /** Buckets held (for tests). */
  get size(): number {
    return this.#buckets.size;
  }

  #sweep(now: number): void {
    for (const [key, entry] of this.#buckets) {
      if (now - entry.usedAt >= this.#refillMs) this.#buckets.delete(key);
    }
    // Still full of keys used just now: the oldest inserted go.
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < MAX_KEYS) break;
      this.#buckets.delete(key);
    }
    this.#sweepAt = this.#buckets.size + SWEEP_EVERY;
  }
}
