// The sidecar's resiliency: the policies of every `Resiliency` document in scope for this app,
// looked up per target as daprd looks them up. A target the documents name gets the policies it
// names; any other gets Dapr's default policies when a document defines them, most specific
// name first (`DefaultStatestoreComponentOutboundRetryPolicy`, then
// `DefaultComponentOutboundRetryPolicy`, `DefaultComponentRetryPolicy`, `DefaultRetryPolicy`);
// with none, no policy. Circuit breakers keep their state per target until the documents change.
import { CircuitBreaker, type BreakerState } from './circuit-breaker.ts';
import type { TargetPolicy } from './policy-runner.ts';
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
}

/** Dapr's default policy names for a target, most specific first. */
function defaultNames(kind: PolicyKind, scope: { app: true } | { family: ComponentFamily; direction: Direction }): string[] {
  if ('app' in scope) return [`DefaultApp${kind}Policy`, `Default${kind}Policy`];
  return [`Default${scope.family}Component${scope.direction}${kind}Policy`, `DefaultComponent${scope.direction}${kind}Policy`, `DefaultComponent${kind}Policy`, `Default${kind}Policy`];
}

export class Resiliency {
  readonly #options: ResiliencyOptions;
  readonly #timeouts = new Map<string, number>();
  readonly #retries = new Map<string, RetryPolicy>();
  readonly #breakerPolicies = new Map<string, CircuitBreakerPolicy>();
  readonly #apps = new Map<string, TargetPolicies>();
  readonly #components = new Map<string, { outbound?: TargetPolicies; inbound?: TargetPolicies }>();
  /** Looked-up policies (with their live breaker) by target key. */
  readonly #resolved = new Map<string, TargetPolicy>();
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
    for (const map of [this.#timeouts, this.#retries, this.#breakerPolicies, this.#apps, this.#components, this.#resolved]) map.clear();
    for (const doc of mine) {
      for (const [name, ms] of doc.timeouts) this.#timeouts.set(name, ms);
      for (const [name, policy] of doc.retries) this.#retries.set(name, policy);
      for (const [name, policy] of doc.circuitBreakers) this.#breakerPolicies.set(name, policy);
      for (const [app, target] of doc.apps) this.#apps.set(app, target);
      for (const [component, target] of doc.components) this.#components.set(component, target);
    }
  }

  /** The policies of calls to app `appId` (service invocation). */
  app(appId: string): TargetPolicy {
    return this.#resolve(`app:${appId}`, `app "${appId}"`, this.#apps.get(appId), { app: true });
  }

  /** The policies of the sidecar's calls to component `name` (state calls, publishes, output bindings). */
  componentOutbound(name: string, family: ComponentFamily): TargetPolicy {
    return this.#resolve(`out:${name}`, `component "${name}" (outbound)`, this.#components.get(name)?.outbound, { family, direction: 'Outbound' });
  }

  /** The policies of deliveries from component `name` to the app (messages, input binding events). */
  componentInbound(name: string, family: ComponentFamily): TargetPolicy {
    return this.#resolve(`in:${name}`, `component "${name}" (inbound)`, this.#components.get(name)?.inbound, { family, direction: 'Inbound' });
  }

  #resolve(key: string, target: string, named: TargetPolicies | undefined, scope: Parameters<typeof defaultNames>[1]): TargetPolicy {
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
        onStateChange: (from, to) => this.#options.onBreakerChange?.(target, name, from, to),
      });
    }
    this.#resolved.set(key, policy);
    return policy;
  }
}
