// The app callbacks as gRPC messages, as daprd builds them (pkg/runtime/pubsub/subscriptions.go:
// GRPCEnvelopeFromSubscriptionMessage, FetchEntry, GetSubscriptionsGRPC; postman/grpc/grpc.go
// for the answers): a CloudEvent becomes a TopicEventRequest whose `data` is the event's data
// as bytes (base64 decoded, text as is, JSON re-encoded) and whose `extensions` are the
// fields the request has no place for; the app's status SUCCESS, RETRY or DROP is the
// verdict, an unknown one retries. Pure functions: grpc-app-channel.ts sends what they build.
import { randomUUID } from 'node:crypto';
import { isCloudEventContentType, isJsonContentType, isStringContentType } from '../content-type.ts';
import type { AppVerdict, BulkTopicEventCall, TopicEventCall } from './app-callbacks.ts';
import { BULK_EVENT_TYPE } from './http-callbacks.ts';

type Event = Readonly<Record<string, unknown>>;

/** The CloudEvent fields a TopicEventRequest carries in fields of its own; the rest go to `extensions`. */
const OWN_FIELDS = new Set(['id', 'source', 'datacontenttype', 'type', 'specversion', 'data', 'data_base64']);

/** google.protobuf.Value as proto-loader takes it. */
type ProtoValue =
  | { nullValue: 'NULL_VALUE' }
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { structValue: ProtoStruct }
  | { listValue: { values: ProtoValue[] } };
interface ProtoStruct {
  fields: Record<string, ProtoValue>;
}

function protoValue(value: unknown): ProtoValue {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(protoValue) } };
  if (typeof value === 'object') return { structValue: protoStruct(value as Record<string, unknown>) };
  // A bigint or a number JSON cannot hold: as its text, which is what JSON would carry.
  return { stringValue: String(value) };
}

function protoStruct(object: Readonly<Record<string, unknown>>): ProtoStruct {
  const fields: Record<string, ProtoValue> = {};
  for (const [name, value] of Object.entries(object)) if (value !== undefined) fields[name] = protoValue(value);
  return { fields };
}

const text = (event: Event, field: string): string => (typeof event[field] === 'string' ? (event[field] as string) : '');

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The event's data as the app receives it; a string is the reason it cannot be carried (daprd
 * retries such an event). `data_base64` must be standard base64, as Go's decoder wants it.
 */
function dataOf(event: Event, contentType: string, withBase64: boolean): Buffer | string {
  const base64 = event.data_base64;
  if (withBase64 && base64 !== undefined && base64 !== null) {
    if (typeof base64 !== 'string') return 'data_base64 is not a string';
    if (!BASE64.test(base64)) return 'data_base64 is not valid base64';
    return Buffer.from(base64, 'base64');
  }
  const data = event.data;
  if (data === undefined || data === null) return Buffer.alloc(0);
  if (isStringContentType(contentType)) return typeof data === 'string' ? Buffer.from(data) : `data is not a string, as its content type ${contentType} says`;
  if (isJsonContentType(contentType) || isCloudEventContentType(contentType)) return Buffer.from(JSON.stringify(data));
  return Buffer.alloc(0);
}

/** The CloudEvent request of one event (TopicEventRequest), or why it cannot be made. */
export function topicEventRequest(call: TopicEventCall): Record<string, unknown> | string {
  const { event } = call;
  const dataContentType = text(event, 'datacontenttype');
  const data = dataOf(event, dataContentType, true);
  if (typeof data === 'string') return `event ${text(event, 'id')} cannot be sent over gRPC: ${data}`;
  return {
    id: text(event, 'id'),
    source: text(event, 'source'),
    type: text(event, 'type'),
    specVersion: text(event, 'specversion'),
    dataContentType,
    data,
    topic: call.topic,
    pubsubName: call.pubsubName,
    path: call.path,
    extensions: extensionsOf(event),
  };
}

function extensionsOf(event: Event): ProtoStruct {
  return protoStruct(Object.fromEntries(Object.entries(event).filter(([name]) => !OWN_FIELDS.has(name))));
}

/** The batch (TopicEventBulkRequest), and why each entry that cannot be carried was left out. */
export function bulkTopicEventRequest(call: BulkTopicEventCall): { request: Record<string, unknown>; refused: Map<string, string> } {
  const refused = new Map<string, string>();
  const entries: Record<string, unknown>[] = [];
  for (const entry of call.entries) {
    const common = { entryId: entry.entryId, contentType: entry.contentType, metadata: entry.metadata };
    if (call.rawPayload) {
      entries.push({ ...common, bytes: Buffer.from(entry.data) });
      continue;
    }
    const { event } = entry;
    const dataContentType = text(event, 'datacontenttype');
    // As daprd's FetchEntry: a bulk entry's CloudEvent carries `data` only.
    const data = dataOf(event, dataContentType, false);
    if (typeof data === 'string') {
      refused.set(entry.entryId, `entry ${entry.entryId} cannot be sent over gRPC: ${data}`);
      continue;
    }
    const cloudEvent = { id: text(event, 'id'), source: text(event, 'source'), type: text(event, 'type'), specVersion: text(event, 'specversion'), dataContentType, data, extensions: extensionsOf(event) };
    entries.push({ ...common, cloudEvent });
  }
  const request = {
    id: randomUUID(),
    entries,
    metadata: { pubsubName: call.pubsubName },
    topic: call.topic,
    pubsubName: call.pubsubName,
    type: BULK_EVENT_TYPE,
    path: call.path,
  };
  return { request, refused };
}

/** What the app's TopicEventResponse status says (proto-loader gives a known enum value by name). */
export function verdictOfStatus(status: unknown, what: string): AppVerdict {
  if (status === 'SUCCESS') return { outcome: 'success' };
  if (status === 'RETRY') return { outcome: 'retry', reason: `the app answered RETRY${what}` };
  if (status === 'DROP') return { outcome: 'drop', reason: `the app answered DROP${what}` };
  return { outcome: 'retry', reason: `the app answered an unknown status ${String(status)}${what}` };
}

/** Each entry's verdict from a TopicEventBulkResponse: ids it does not list are retried, as in daprd. */
export function bulkVerdicts(response: { statuses?: { entryId?: string; status?: unknown }[] }, entryIds: Iterable<string>): Map<string, AppVerdict> {
  const wanted = new Set(entryIds);
  const verdicts = new Map<string, AppVerdict>();
  for (const { entryId, status } of response.statuses ?? []) {
    if (entryId === undefined || !wanted.has(entryId) || verdicts.has(entryId)) continue;
    verdicts.set(entryId, verdictOfStatus(status, ` for entry ${entryId}`));
  }
  for (const id of wanted) if (!verdicts.has(id)) verdicts.set(id, { outcome: 'retry', reason: `the app's answer does not list entry ${id}` });
  return verdicts;
}

interface TopicSubscription {
  pubsubName?: string;
  topic?: string;
  metadata?: Record<string, string>;
  routes?: { rules?: { match?: string; path?: string }[]; default?: string } | null;
  deadLetterTopic?: string;
  bulkSubscribe?: { enabled?: boolean; maxMessagesCount?: number; maxAwaitDurationMs?: number } | null;
}

/** A ListTopicSubscriptionsResponse as the JSON of `/dapr/subscribe`, so both are read by one parser. */
export function subscriptionsJson(response: { subscriptions?: TopicSubscription[] }): string {
  // proto3 has no "unset" for numbers: 0 means the default, as daprd reads it.
  const orDefault = (n: number | undefined): number | undefined => (n === 0 ? undefined : n);
  return JSON.stringify(
    (response.subscriptions ?? []).map((s) => ({
      pubsubname: s.pubsubName,
      topic: s.topic,
      metadata: s.metadata,
      routes: { rules: s.routes?.rules ?? [], default: s.routes?.default ?? '' },
      deadLetterTopic: s.deadLetterTopic,
      bulkSubscribe: s.bulkSubscribe
        ? { enabled: s.bulkSubscribe.enabled, maxMessagesCount: orDefault(s.bulkSubscribe.maxMessagesCount), maxAwaitDurationMs: orDefault(s.bulkSubscribe.maxAwaitDurationMs) }
        : undefined,
    })),
  );
}
