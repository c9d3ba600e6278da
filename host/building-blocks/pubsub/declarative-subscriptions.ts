// Declarative subscriptions: the `kind: Subscription` documents of the resources folders.
// `apiVersion: dapr.io/v2alpha1` takes `spec.routes` (rules and default); any other version
// is read as v1alpha1 with a single `spec.route`, as daprd does. A document whose `scopes`
// does not name this app is not for it and is skipped.
import { heldFirst } from '../../components/resource-bounds.ts';
import type { ResourcePlan } from '../../components/resources-loader.ts';
import { MAX_SUBSCRIPTIONS, buildSubscription, problemOf, type RawSubscription, type Subscription, type SubscriptionProblem } from './subscription.ts';

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

/** ` (Subscription "<name>")` when the document has a name, for messages. */
const nameOf = (doc: SubscriptionDocument): string => (typeof doc.metadata?.name === 'string' ? ` (Subscription "${doc.metadata.name}")` : '');

function appliesTo(doc: SubscriptionDocument, appId: string): boolean {
  return !Array.isArray(doc.scopes) || doc.scopes.length === 0 || doc.scopes.includes(appId);
}

function rawOf(doc: SubscriptionDocument): RawSubscription {
  const spec = typeof doc.spec === 'object' && doc.spec !== null ? doc.spec : {};
  const common = { pubsubname: spec.pubsubname, topic: spec.topic, deadLetterTopic: spec.deadLetterTopic, metadata: spec.metadata, bulkSubscribe: spec.bulkSubscribe };
  return doc.apiVersion === V2ALPHA1 ? { ...common, routes: spec.routes } : { ...common, route: spec.route };
}

/**
 * The subscriptions of `others` (a resource plan's non-Component documents) that apply to
 * `appId`: MAX_SUBSCRIPTIONS documents at most are read (each may compile CEL), those of a
 * pubsub and topic `delivered` first; past them one problem names the first left out.
 */
export function declarativeSubscriptions(others: ResourcePlan['others'], appId: string, delivered: (pubsubName: string, topic: string) => boolean = () => false): SubscriptionSet {
  const set: SubscriptionSet = { subscriptions: [], problems: [] };
  const applicable = others.flatMap(({ kind, document, source }) => {
    if (kind !== 'Subscription') return [];
    const doc = (typeof document === 'object' && document !== null ? document : {}) as SubscriptionDocument;
    return appliesTo(doc, appId) ? [{ doc, source }] : [];
  });
  const isDelivered = ({ doc }: { doc: SubscriptionDocument }): boolean => delivered(String(doc.spec?.pubsubname), String(doc.spec?.topic));
  const ordered = applicable.length <= MAX_SUBSCRIPTIONS ? applicable : heldFirst(applicable, isDelivered);
  const read = new Set(ordered.slice(0, MAX_SUBSCRIPTIONS));
  const left = ordered.slice(MAX_SUBSCRIPTIONS);
  if (left.length > 0) {
    const first = left[0]!;
    const where = first.source + nameOf(first.doc);
    const more = left.length > 1 ? `, nor the ${left.length - 1} after it` : '';
    set.problems.push({ source: where, type: 'DECLARATIVE', error: `${where}: not read${more}: ${applicable.length} Subscription documents, over the ${MAX_SUBSCRIPTIONS} one sidecar delivers` });
  }
  for (const entry of applicable) {
    if (!read.has(entry)) continue;
    const { doc, source } = entry;
    const name = nameOf(doc);
    const raw = rawOf(doc);
    try {
      set.subscriptions.push(buildSubscription(raw, 'DECLARATIVE', source + name));
    } catch (err) {
      set.problems.push(problemOf(raw, 'DECLARATIVE', source + name, err));
    }
  }
  return set;
}
