// A circuit breaker as Dapr's (sony/gobreaker) behaves: closed, it counts calls and opens when
// the policy's `trip` holds for the counts (cleared every `interval` when one is set); open, it
// refuses every call for `timeout`; then half-open, it lets `maxRequests` calls through and
// closes after that many successes in a row, or opens again at the first failure.
import type { CircuitBreakerPolicy } from './resiliency-document.ts';
import type { BreakerCounts } from './trip-expression.ts';

import type { BreakerState } from '../observability/resiliency-observer.ts';

export type { BreakerState };

/** A call the breaker refused: it is open, or half-open with its trial calls all taken. */
export class BreakerOpenError extends Error {
  override name = 'BreakerOpenError';
  readonly breaker: string;
  readonly state: BreakerState;

  constructor(breaker: string, state: BreakerState) {
    super(state === 'open' ? `circuit breaker "${breaker}" is open` : `circuit breaker "${breaker}" is half-open and has let its trial calls through`);
    this.breaker = breaker;
    this.state = state;
  }
}

const zero = (): BreakerCounts => ({ requests: 0, totalSuccesses: 0, totalFailures: 0, consecutiveSuccesses: 0, consecutiveFailures: 0 });

export class CircuitBreaker {
  readonly name: string;
  readonly #policy: CircuitBreakerPolicy;
  readonly #now: () => number;
  readonly #onStateChange: ((from: BreakerState, to: BreakerState) => void) | undefined;
  #state: BreakerState = 'closed';
  #counts = zero();
  /** When the counts clear (closed, with an interval) or the breaker half-opens (open); 0: never. */
  #expiry = 0;
  /** Bumped at every state change and clearing: a call that started before one is not counted after it. */
  #generation = 0;

  constructor(name: string, policy: CircuitBreakerPolicy, options: { now?: () => number; onStateChange?: (from: BreakerState, to: BreakerState) => void } = {}) {
    this.name = name;
    this.#policy = policy;
    this.#now = options.now ?? Date.now;
    this.#onStateChange = options.onStateChange;
    this.#newGeneration();
  }

  get state(): BreakerState {
    this.#advance();
    return this.#state;
  }

  /** Admits a call (answering its generation, to hand back to `done`), or throws BreakerOpenError. */
  admit(): number {
    this.#advance();
    const maxRequests = Math.max(1, this.#policy.maxRequests);
    if (this.#state === 'open') throw new BreakerOpenError(this.name, 'open');
    if (this.#state === 'half-open' && this.#counts.requests >= maxRequests) throw new BreakerOpenError(this.name, 'half-open');
    this.#counts.requests++;
    return this.#generation;
  }

  /** Records how an admitted call ended. */
  done(generation: number, success: boolean): void {
    this.#advance();
    if (generation !== this.#generation) return;
    const c = this.#counts;
    if (success) {
      c.totalSuccesses++;
      c.consecutiveSuccesses++;
      c.consecutiveFailures = 0;
      if (this.#state === 'half-open' && c.consecutiveSuccesses >= Math.max(1, this.#policy.maxRequests)) this.#setState('closed');
      return;
    }
    c.totalFailures++;
    c.consecutiveFailures++;
    c.consecutiveSuccesses = 0;
    if (this.#state === 'half-open' || (this.#state === 'closed' && this.#policy.trip.trips(c))) this.#setState('open');
  }

  #advance(): void {
    const now = this.#now();
    if (this.#state === 'closed' && this.#expiry !== 0 && this.#expiry <= now) this.#newGeneration();
    else if (this.#state === 'open' && this.#expiry <= now) this.#setState('half-open');
  }

  #setState(state: BreakerState): void {
    const from = this.#state;
    this.#state = state;
    this.#newGeneration();
    this.#onStateChange?.(from, state);
  }

  #newGeneration(): void {
    this.#generation++;
    this.#counts = zero();
    const now = this.#now();
    if (this.#state === 'closed') this.#expiry = this.#policy.intervalMs > 0 ? now + this.#policy.intervalMs : 0;
    else if (this.#state === 'open') this.#expiry = now + this.#policy.timeoutMs;
    else this.#expiry = 0;
  }
}
