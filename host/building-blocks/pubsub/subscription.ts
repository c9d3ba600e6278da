// A subscription as the delivery loops use it, built from either of Dapr's shapes: an entry
// of the app's `/dapr/subscribe` answer or the spec of a `kind: Subscription` YAML. The
// rules follow daprd (pkg/runtime/pubsub/subscriptions.go): `routes.rules` in order, then
// `routes.default`, else the single `route`; a subscription with no route is refused.
// `bulkSubscribe: {enabled, maxMessagesCount, maxAwaitDurationMs}` asks for messages in
// batches, one POST per batch, with daprd's defaults (100 messages, 1000 ms).
import type { Metadata } from '../../../abi/ts/types.ts';
import { isTesseraError } from '../../errors.ts';
import { rawPayloadFlag, rawPayloadProblem } from './cloud-event.ts';
import { checkConcurrencyMetadata } from './delivery-concurrency.ts';
import { invalidSubscription } from './pubsub-errors.ts';
import { RouteRule } from './route-rules.ts';

/** STREAMING: opened by the app on the gRPC API (SubscribeTopicEventsAlpha1), for as long as its stream lasts. */
export type SubscriptionType = 'DECLARATIVE' | 'PROGRAMMATIC' | 'STREAMING';

/** How a bulk subscription batches its messages. */
export interface BulkSubscribe {
  /** Most messages in one POST to the app. */
  maxMessagesCount: number;
  /** How long a batch may wait to fill before it goes as it is. */
  maxAwaitDurationMs: number;
}

export const BULK_DEFAULTS: BulkSubscribe = { maxMessagesCount: 100, maxAwaitDurationMs: 1000 };

export interface Subscription {
  pubsubName: string;
  topic: string;
  /** In order; the last may be the default (no `match`). */
  rules: RouteRule[];
  /** Where messages go that the app dropped or that exhausted their retries; '' for none. */
  deadLetterTopic: string;
  /** Passed to the broker's `subscribe`; `rawPayload` is read by the sidecar too. */
  metadata: Record<string, string>;
  /** Deliver the broker's bytes wrapped as `data_base64`, instead of reading them as a CloudEvent. */
  rawPayload: boolean;
  /** Batches of messages in one POST each (daprd's bulkSubscribe); undefined for one by one. */
  bulk: BulkSubscribe | undefined;
  type: SubscriptionType;
  /** Where it was declared: a YAML file, or the app's `/dapr/subscribe`. */
  source: string;
}

/** A subscription that could not be used, for the log and `/v1.0/metadata`. */
export interface SubscriptionProblem {
  source: string;
  type: SubscriptionType;
  pubsubName?: string;
  topic?: string;
  /** Valid, but its pubsub is not loaded (yet); it starts when the pubsub does. */
  waiting?: boolean;
  error: string;
}

/** The fields both shapes share, as parsed from JSON or YAML (anything may be missing or mistyped). */
export interface RawSubscription {
  pubsubname?: unknown;
  topic?: unknown;
  route?: unknown;
  routes?: unknown;
  deadLetterTopic?: unknown;
  metadata?: unknown;
  bulkSubscribe?: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function requiredString(raw: RawSubscription, field: 'pubsubname' | 'topic', source: string): string {
  const value = raw[field];
  if (typeof value !== 'string' || value === '') throw invalidSubscription(source, `"${field}" is required and must be a non-empty string`);
  return value;
}

function optionalString(value: unknown, field: string, source: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalidSubscription(source, `"${field}" must be a string`);
  return value;
}

/** Metadata values must be scalars; numbers and booleans (as YAML writes them) become strings. */
function metadataOf(value: unknown, source: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalidSubscription(source, '"metadata" must be a map of names to strings');
  const metadata: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') {
      throw invalidSubscription(source, `metadata "${name}" must be a string`);
    }
    metadata[name] = String(item);
  }
  return metadata;
}

/**
 * Subscriptions delivered at once: each runs a delivery loop on its broker, so a resources
 * folder (or an app's /dapr/subscribe) naming thousands of topics would otherwise take the
 * sidecar's CPU and memory by count. Those delivered already keep their places; past the cap
 * the rest are one problem, naming the first of them.
 */
export const MAX_SUBSCRIPTIONS = 256;

/** Rules one subscription may give: each is CEL compiled on the event loop when it is read. */
export const MAX_ROUTE_RULES = 16;

function rulesOf(raw: RawSubscription, source: string): RouteRule[] {
  const rules: RouteRule[] = [];
  const route = optionalString(raw.route, 'route', source);
  if (raw.routes !== undefined && raw.routes !== null && !isObject(raw.routes)) {
    throw invalidSubscription(source, '"routes" must be an object with "rules" and/or "default"');
  }
  const routes = raw.routes ?? {};
  const listed = routes.rules ?? [];
  if (!Array.isArray(listed)) throw invalidSubscription(source, '"routes.rules" must be a list of {match, path}');
  if (listed.length > MAX_ROUTE_RULES) throw invalidSubscription(source, `"routes.rules" has ${listed.length} rules, over the ${MAX_ROUTE_RULES} a subscription may give`);
  for (const [index, rule] of listed.entries()) {
    if (!isObject(rule)) throw invalidSubscription(source, `routes.rules[${index}] must be an object with "match" and "path"`);
    const match = optionalString(rule.match, `routes.rules[${index}].match`, source);
    const path = optionalString(rule.path, `routes.rules[${index}].path`, source);
    try {
      rules.push(new RouteRule(match, path));
    } catch (err) {
      throw invalidSubscription(source, `routes.rules[${index}]: ${isTesseraError(err) ? err.message : String(err)}`);
    }
  }
  const fallback = optionalString(routes.default, 'routes.default', source) || route;
  if (fallback !== '') rules.push(new RouteRule('', fallback));
  if (rules.length === 0) throw invalidSubscription(source, 'no route: give "route", "routes.default" or "routes.rules"');
  return rules;
}

function count(value: unknown, field: string, fallback: number, least: number, source: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least) {
    throw invalidSubscription(source, `"bulkSubscribe.${field}" must be an integer of at least ${least}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function bulkOf(value: unknown, source: string): BulkSubscribe | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalidSubscription(source, '"bulkSubscribe" must be an object with "enabled", "maxMessagesCount" and "maxAwaitDurationMs"');
  if (value.enabled !== undefined && typeof value.enabled !== 'boolean') throw invalidSubscription(source, '"bulkSubscribe.enabled" must be true or false');
  if (value.enabled !== true) return undefined;
  return {
    maxMessagesCount: count(value.maxMessagesCount, 'maxMessagesCount', BULK_DEFAULTS.maxMessagesCount, 1, source),
    maxAwaitDurationMs: count(value.maxAwaitDurationMs, 'maxAwaitDurationMs', BULK_DEFAULTS.maxAwaitDurationMs, 0, source),
  };
}

/** Builds a subscription; throws ERR_COMPONENT_CONFIG naming `source` and the field when it cannot be used. */
export function buildSubscription(raw: RawSubscription, type: SubscriptionType, source: string): Subscription {
  const pubsubName = requiredString(raw, 'pubsubname', source);
  const topic = requiredString(raw, 'topic', source);
  const where = `${source} (pubsub ${pubsubName}, topic ${topic})`;
  const metadata = metadataOf(raw.metadata, where);
  const rawPayload = rawPayloadFlag(metadata.rawPayload);
  if (rawPayload === null) throw invalidSubscription(where, rawPayloadProblem(metadata.rawPayload!));
  checkConcurrencyMetadata(metadata, where);
  return {
    pubsubName,
    topic,
    rules: rulesOf(raw, where),
    deadLetterTopic: optionalString(raw.deadLetterTopic, 'deadLetterTopic', where),
    metadata,
    rawPayload,
    bulk: bulkOf(raw.bulkSubscribe, where),
    type,
    source,
  };
}

/** The problem report for a subscription `buildSubscription` refused. */
export function problemOf(raw: unknown, type: SubscriptionType, source: string, err: unknown): SubscriptionProblem {
  const fields = isObject(raw) ? raw : {};
  const problem: SubscriptionProblem = { source, type, error: isTesseraError(err) ? err.message : String(err) };
  if (typeof fields.pubsubname === 'string') problem.pubsubName = fields.pubsubname;
  if (typeof fields.topic === 'string') problem.topic = fields.topic;
  return problem;
}

export function metadataList(metadata: Record<string, string>): Metadata {
  return Object.entries(metadata);
}

/** A subscription as `/v1.0/metadata` lists it (daprd's MetadataResponsePubsubSubscription). */
export function subscriptionInfo(s: Subscription): Record<string, unknown> {
  const info: Record<string, unknown> = { pubsubname: s.pubsubName, topic: s.topic };
  if (Object.keys(s.metadata).length > 0) info.metadata = s.metadata;
  info.rules = s.rules.map((rule) => rule.toJSON());
  info.deadLetterTopic = s.deadLetterTopic;
  info.type = s.type;
  return info;
}
