// The sidecar's resiliency: the policies of every `Resiliency` document in scope for this app,
// looked up per target as daprd looks them up. A target the documents name gets the policies it
// names; any other gets Dapr's default policies when a document defines them, most specific
// name first (`DefaultStatestoreComponentOutboundRetryPolicy`, then
// `DefaultComponentOutboundRetryPolicy`, `DefaultComponentRetryPolicy`, `DefaultRetryPolicy`);
// with none, no policy. Circuit breakers keep their state per target until the documents change.
import { CircuitBreaker, type BreakerState } from './circuit-breaker.ts';
import type { TargetPolicy } from './policy-runner.ts';
import type { MeteredTarget, ResiliencyObserver } from '../observability/resiliency-observer.ts';
import type { CircuitBreakerPolicy, ResiliencyDocument, RetryPolicy, TargetPolicies } from './resiliency-document.ts';

/** The component families Dapr's default policy names distinguish. */
export type ComponentFamily = 'Statestore' | 'Pubsub' | 'Bindings';

type Direction = 'Outbound' | 'Inbound';

type PolicyKind = 'Timeout' | 'Retry' | 'CircuitBreaker';

export interface ResiliencyOptions {
  appId: string;
  now?: () => number;
  /** Told when a breaker changes state (for logs and metrics). */
  onBreakerChange?(target: string, breaker: string, from: BreakerState, to: BreakerState): void;
  /** Counts the documents loaded and each target's policy runs (dapr_resiliency_*); none with metrics off. */
  observer?: ResiliencyObserver | undefined;
}

/**
 * daprd's names of the component types (its resiliency ComponentType): in the default policy
 * names (`DefaultBindingComponentOutboundRetryPolicy`) and the metrics' `target` label
 * (`Statestore_statestore`).
 */
const DAPR_TYPE: Record<ComponentFamily, string> = { Statestore: 'Statestore', Pubsub: 'Pubsub', Bindings: 'Binding' };

/** Dapr's default policy names for a target, most specific first. */
function defaultNames(kind: PolicyKind, scope: { app: true } | { family: ComponentFamily; direction: Direction }): string[] {
  if ('app' in scope) return [`DefaultApp${kind}Policy`, `Default${kind}Policy`];
  return [`Default${DAPR_TYPE[scope.family]}Component${scope.direction}${kind}Policy`, `DefaultComponent${scope.direction}${kind}Policy`, `DefaultComponent${kind}Policy`, `Default${kind}Policy`];
}

export class Resiliency {
  readonly #options: ResiliencyOptions;
  readonly #timeouts = new Map<string, number>();
  readonly #retries = new Map<string, RetryPolicy>();
  readonly #breakerPolicies = new Map<string, CircuitBreakerPolicy>();
  readonly #apps = new Map<string, TargetPolicies>();
  readonly #components = new Map<string, { outbound?: TargetPolicies; inbound?: TargetPolicies }>();
  /** The document that defines each policy (`retry:important`), for the metrics' `name` label. */
  readonly #origins = new Map<string, string>();
  /** Looked-up policies (with their live breaker) by target key. */
  readonly #resolved = new Map<string, TargetPolicy>();
  /** The same, of outbound component calls by component name: found per call with no key string built. */
  readonly #outbound = new Map<string, TargetPolicy>();
  #documents: readonly ResiliencyDocument[] = [];

  constructor(options: ResiliencyOptions, documents: readonly ResiliencyDocument[] = []) {
    this.#options = options;
    this.update(documents);
  }

  /** The names of the documents in force (those scoped to this app). */
  get documents(): string[] {
    return this.#documents.map((d) => d.name);
  }

  /** Replaces the documents (a hot reload); breakers start closed again. Documents scoped to other apps are ignored. */
  update(documents: readonly ResiliencyDocument[]): void {
    const mine = documents.filter((d) => d.scopes.length === 0 || d.scopes.includes(this.#options.appId));
    this.#documents = mine;
    for (const map of [this.#timeouts, this.#retries, this.#breakerPolicies, this.#apps, this.#components, this.#resolved, this.#outbound, this.#origins]) map.clear();
    for (const doc of mine) {
      for (const [name, ms] of doc.timeouts) this.#define('Timeout', name, doc.name, this.#timeouts, ms);
      for (const [name, policy] of doc.retries) this.#define('Retry', name, doc.name, this.#retries, policy);
      for (const [name, policy] of doc.circuitBreakers) this.#define('CircuitBreaker', name, doc.name, this.#breakerPolicies, policy);
      for (const [app, target] of doc.apps) this.#apps.set(app, target);
      for (const [component, target] of doc.components) this.#components.set(component, target);
    }
    this.#options.observer?.loaded(this.documents);
  }

  #define<T>(kind: PolicyKind, name: string, document: string, into: Map<string, T>, policy: T): void {
    into.set(name, policy);
    this.#origins.set(`${kind}:${name}`, document);
  }

  /** The policies of calls to app `appId` (service invocation). */
  app(appId: string): TargetPolicy {
    return this.#resolve(`app:${appId}`, `app "${appId}"`, this.#apps.get(appId), { app: true }, `app_${appId}`);
  }

  /** The policies of the sidecar's calls to component `name` (state calls, publishes, output bindings). */
  componentOutbound(name: string, family: ComponentFamily): TargetPolicy {
    const known = this.#outbound.get(name);
    if (known !== undefined) return known;
    const policy = this.#resolve(`out:${name}`, `component "${name}" (outbound)`, this.#components.get(name)?.outbound, { family, direction: 'Outbound' }, `${DAPR_TYPE[family]}_${name}`);
    this.#outbound.set(name, policy);
    return policy;
  }

  /** The policies of deliveries from component `name` to the app (messages, input binding events). */
  componentInbound(name: string, family: ComponentFamily): TargetPolicy {
    return this.#resolve(`in:${name}`, `component "${name}" (inbound)`, this.#components.get(name)?.inbound, { family, direction: 'Inbound' }, `${DAPR_TYPE[family]}_${name}`);
  }

  /** `metricTarget` is daprd's `target` label of these policies. */
  #resolve(key: string, target: string, named: TargetPolicies | undefined, scope: Parameters<typeof defaultNames>[1], metricTarget: string): TargetPolicy {
    const cached = this.#resolved.get(key);
    if (cached !== undefined) return cached;
    const pick = <T>(kind: PolicyKind, explicit: string | undefined, from: Map<string, T>): [string, T] | undefined => {
      const names = named !== undefined ? (explicit === undefined ? [] : [explicit]) : defaultNames(kind, scope);
      for (const name of names) {
        const found = from.get(name);
        if (found !== undefined) return [name, found];
      }
      return undefined;
    };
    const timeout = pick('Timeout', named?.timeout, this.#timeouts);
    const retry = pick('Retry', named?.retry, this.#retries);
    const breakerPolicy = pick('CircuitBreaker', named?.circuitBreaker, this.#breakerPolicies);
    const policy: TargetPolicy = { target };
    if (timeout !== undefined) policy.timeoutMs = timeout[1];
    if (retry !== undefined) policy.retry = retry[1];
    if (breakerPolicy !== undefined) {
      const [name, spec] = breakerPolicy;
      policy.breaker = new CircuitBreaker(name, spec, {
        ...(this.#options.now === undefined ? {} : { now: this.#options.now }),
        onStateChange: (from, to) => {
          this.#options.onBreakerChange?.(target, name, from, to);
          policy.meter?.breakerChanged(to);
        },
      });
    }
    const observer = this.#options.observer;
    if (observer !== undefined && (timeout !== undefined || retry !== undefined || breakerPolicy !== undefined)) {
      const metered: MeteredTarget = { target: metricTarget, direction: 'direction' in scope && scope.direction === 'Inbound' ? 'inbound' : 'outbound' };
      const origin = (kind: PolicyKind, name: string): string => this.#origins.get(`${kind}:${name}`) ?? '';
      if (timeout !== undefined) metered.timeout = origin('Timeout', timeout[0]);
      if (retry !== undefined) metered.retry = origin('Retry', retry[0]);
      if (breakerPolicy !== undefined) metered.breaker = { document: origin('CircuitBreaker', breakerPolicy[0]), breaker: policy.breaker! };
      policy.meter = observer.meter(metered);
    }
    this.#resolved.set(key, policy);
    return policy;
  }
}
