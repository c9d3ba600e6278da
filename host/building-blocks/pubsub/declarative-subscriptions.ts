// Declarative subscriptions: the `kind: Subscription` documents of the resources folders.
// `apiVersion: dapr.io/v2alpha1` takes `spec.routes` (rules and default); any other version
// is read as v1alpha1 with a single `spec.route`, as daprd does. A document whose `scopes`
// does not name this app is not for it and is skipped.
import type { ResourcePlan } from '../../components/resources-loader.ts';
import { buildSubscription, problemOf, type RawSubscription, type Subscription, type SubscriptionProblem } from './subscription.ts';

const V2ALPHA1 = 'dapr.io/v2alpha1';

export interface SubscriptionSet {
  subscriptions: Subscription[];
  problems: SubscriptionProblem[];
}

interface SubscriptionDocument {
  apiVersion?: unknown;
  metadata?: { name?: unknown };
  spec?: Record<string, unknown>;
  scopes?: unknown;
}

function appliesTo(doc: SubscriptionDocument, appId: string): boolean {
  return !Array.isArray(doc.scopes) || doc.scopes.length === 0 || doc.scopes.includes(appId);
}

function rawOf(doc: SubscriptionDocument): RawSubscription {
  const spec = typeof doc.spec === 'object' && doc.spec !== null ? doc.spec : {};
  const common = { pubsubname: spec.pubsubname, topic: spec.topic, deadLetterTopic: spec.deadLetterTopic, metadata: spec.metadata, bulkSubscribe: spec.bulkSubscribe };
  return doc.apiVersion === V2ALPHA1 ? { ...common, routes: spec.routes } : { ...common, route: spec.route };
}

/** The subscriptions of `others` (a resource plan's non-Component documents) that apply to `appId`. */
export function declarativeSubscriptions(others: ResourcePlan['others'], appId: string): SubscriptionSet {
  const set: SubscriptionSet = { subscriptions: [], problems: [] };
  for (const { kind, document, source } of others) {
    if (kind !== 'Subscription') continue;
    const doc = (typeof document === 'object' && document !== null ? document : {}) as SubscriptionDocument;
    if (!appliesTo(doc, appId)) continue;
    const name = typeof doc.metadata?.name === 'string' ? ` (Subscription "${doc.metadata.name}")` : '';
    const raw = rawOf(doc);
    try {
      set.subscriptions.push(buildSubscription(raw, 'DECLARATIVE', source + name));
    } catch (err) {
      set.problems.push(problemOf(raw, 'DECLARATIVE', source + name, err));
    }
  }
  return set;
}
