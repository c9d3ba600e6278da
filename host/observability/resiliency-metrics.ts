// daprd's resiliency families (pkg/diagnostics/resiliency_monitoring.go), with its names and
// labels: `dapr_resiliency_loaded` (documents loaded), `dapr_resiliency_count` (a policy
// applied to a call: once per run for each of the target's policies, a breaker's with its
// state as `status`), `dapr_resiliency_activations_total` (a policy that acted: a timeout that
// cut a call, a retry, a breaker changing state, its new state as `status`) and
// `dapr_resiliency_cb_state` (1 for a breaker's current state, 0 for the others). Counts are
// kept from the first call, before prom-client is loaded; each target's series are found once,
// when its meter is made, so a call only adds to numbers it already holds.
import type { Registry } from 'prom-client';
import type { BreakerState, MeteredTarget, ObservedBreaker, PolicyMeter, ResiliencyObserver } from './resiliency-observer.ts';
import { SeriesCounter } from './label-series.ts';

const POLICY_LABELS = ['app_id', 'name', 'policy', 'namespace', 'flow_direction', 'target', 'status'];
/** daprd's breaker states as its gauge lists them ('unknown' is never current here). */
const CB_STATUSES = ['closed', 'half-open', 'open', 'unknown'] as const;

type Count = { value: number };

const CB_STATE = 'dapr_resiliency_cb_state';
const CB_STATE_HELP = "A resiliency policy's current ObservedBreakerState state. 0 is closed, 1 is half-open, 2 is open, and -1 is unknown.";

/** What prom-client's registry reads of a metric at a scrape (its `Metric.get()` shape). */
interface GaugeValues {
  name: string;
  help: string;
  type: 'gauge';
  aggregator: 'sum';
  values: { labels: Record<string, string>; value: number }[];
}

/** One target's counts, found once. */
class TargetMeter implements PolicyMeter {
  readonly #runs: Count[];
  readonly #timeouts: Count | undefined;
  readonly #retries: Count | undefined;
  readonly #breaker: ObservedBreaker | undefined;
  /** The breaker's series by state, found on first sight of each state. */
  readonly #breakerRuns: (state: BreakerState) => Count;
  readonly #breakerActivations: (state: BreakerState) => Count;

  constructor(families: { count: SeriesCounter; activations: SeriesCounter }, base: (policy: string, document: string) => string[], target: MeteredTarget) {
    const { count, activations } = families;
    this.#runs = [];
    if (target.timeout !== undefined) {
      this.#runs.push(count.child(...base('timeout', target.timeout), ''));
      this.#timeouts = activations.child(...base('timeout', target.timeout), '');
    }
    if (target.retry !== undefined) {
      this.#runs.push(count.child(...base('retry', target.retry), ''));
      this.#retries = activations.child(...base('retry', target.retry), '');
    }
    this.#breaker = target.breaker?.breaker;
    const breakerBase = base('circuitbreaker', target.breaker?.document ?? '');
    const byState = (family: SeriesCounter): ((state: BreakerState) => Count) => {
      const found = new Map<BreakerState, Count>();
      return (state) => {
        let series = found.get(state);
        if (series === undefined) found.set(state, (series = family.child(...breakerBase, state)));
        return series;
      };
    };
    this.#breakerRuns = byState(count);
    this.#breakerActivations = byState(activations);
  }

  executed(): void {
    for (const series of this.#runs) series.value++;
    if (this.#breaker !== undefined) this.#breakerRuns(this.#breaker.state).value++;
  }

  timedOut(): void {
    if (this.#timeouts !== undefined) this.#timeouts.value++;
  }

  retried(): void {
    if (this.#retries !== undefined) this.#retries.value++;
  }

  breakerChanged(to: BreakerState): void {
    this.#breakerActivations(to).value++;
  }
}

export class ResiliencyMetrics implements ResiliencyObserver {
  readonly #appId: string;
  readonly #namespace: string;
  readonly #loaded = new SeriesCounter(undefined, 'dapr_resiliency_loaded', 'Number of resiliency policies loaded.', ['app_id', 'name', 'namespace']);
  readonly #count = new SeriesCounter(undefined, 'dapr_resiliency_count', 'Number of times a resiliency policyKey has been applied to a building block.', POLICY_LABELS);
  readonly #activations = new SeriesCounter(
    undefined,
    'dapr_resiliency_activations_total',
    'Number of times a resiliency policyKey has been activated in a building block after a failure or after a state change.',
    POLICY_LABELS,
  );
  /** The breakers of the documents in force, by target and direction, with their gauge labels. */
  readonly #breakers = new Map<string, { labels: Record<string, string>; breaker: ObservedBreaker }>();

  constructor(appId: string, namespace: string) {
    this.#appId = appId;
    this.#namespace = namespace;
  }

  /** Puts the families on the sidecar's registry (once prom-client is loaded); what was counted meanwhile shows. */
  registerOn(registry: Registry): void {
    this.#loaded.registerOn(registry);
    this.#count.registerOn(registry);
    this.#activations.registerOn(registry);
    (registry.registerMetric as (m: object) => void)({
      name: CB_STATE,
      help: CB_STATE_HELP,
      type: 'gauge',
      aggregator: 'sum',
      get: () => this.#cbState(),
    });
  }

  loaded(documents: readonly string[]): void {
    // New documents make new breakers: the old ones' gauges go with them.
    this.#breakers.clear();
    for (const name of documents) this.#loaded.inc(1, this.#appId, name, this.#namespace);
  }

  meter(target: MeteredTarget): PolicyMeter {
    const base = (policy: string, document: string): string[] => [this.#appId, document, policy, this.#namespace, target.direction, target.target];
    if (target.breaker !== undefined) {
      const [app_id, name, policy, namespace, flow_direction, label] = base('circuitbreaker', target.breaker.document) as [string, string, string, string, string, string];
      this.#breakers.set(`${target.direction}:${target.target}`, { labels: { app_id, name, policy, namespace, flow_direction, target: label }, breaker: target.breaker.breaker });
    }
    return new TargetMeter({ count: this.#count, activations: this.#activations }, base, target);
  }

  /** The gauge read at a scrape: each breaker's state now. */
  #cbState(): GaugeValues {
    const values: GaugeValues['values'] = [];
    for (const { labels, breaker } of this.#breakers.values()) {
      const state = breaker.state;
      for (const status of CB_STATUSES) values.push({ labels: { ...labels, status }, value: status === state ? 1 : 0 });
    }
    return { name: CB_STATE, help: CB_STATE_HELP, type: 'gauge', aggregator: 'sum', values };
  }
}
