// What the resiliency layer tells its metrics (daprd's dapr_resiliency_* families): one meter per
// target, made when the target's policies are first looked up, so a call counts through
// objects already found (no label lookup per call); metrics off, no meter and no cost. Here,
// beside the other observers, so the resiliency layer reports down to observability and not
// the other way round.

/** A circuit breaker's state, as Dapr's (sony/gobreaker) names them. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** What the metrics read of a breaker: its state now (the gauge is read at each scrape). */
export interface ObservedBreaker {
  readonly state: BreakerState;
}

/** daprd's `flow_direction`: calls out of the sidecar (to an app, to a component) or into the app. */
export type FlowDirection = 'outbound' | 'inbound';

/** One target's policies, as daprd labels them. */
export interface MeteredTarget {
  /** daprd's `target` label: `app_b`, `Statestore_statestore`, `Pubsub_pubsub`. */
  target: string;
  direction: FlowDirection;
  /** The Resiliency document that defines each policy the target has (daprd's `name` label). */
  timeout?: string;
  retry?: string;
  breaker?: { document: string; breaker: ObservedBreaker };
}

/** Counts one target's policy executions and activations. */
export interface PolicyMeter {
  /** A run under the target's policies began: daprd counts each of its policies once (a breaker with its state). */
  executed(): void;
  /** The timeout cut an attempt. */
  timedOut(): void;
  /** A failed attempt is about to be tried again. */
  retried(): void;
  /** The target's breaker moved to `to`. */
  breakerChanged(to: BreakerState): void;
}

export interface ResiliencyObserver {
  /** The documents now in force (a load or a hot reload): daprd's `dapr_resiliency_loaded`, one per document. */
  loaded(documents: readonly string[]): void;
  /** The meter of one target's policies, made once per lookup of the target. */
  meter(target: MeteredTarget): PolicyMeter;
}
