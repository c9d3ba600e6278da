// The app callbacks as HTTP requests and answers, as daprd's HTTP postman and runtime send
// them: an event POSTed as `application/cloudevents+json` (pkg/runtime/subscription/postman/
// http/http.go), a batch as daprd's bulk envelope (pkg/runtime/pubsub/bulksubscribe_events.go),
// a binding event POSTed with its metadata as headers. The answers read as daprd reads them:
// any 2xx is success unless its JSON says RETRY, DROP or an unknown status; 404 drops (no
// such route); anything else retries. Pure functions: app-channel.ts sends what they build.
import { randomUUID } from 'node:crypto';
import { CLOUD_EVENT_CONTENT_TYPE } from '../content-type.ts';
import type { AppVerdict, BindingEventCall, BulkTopicEventCall, TopicEventCall } from './app-callbacks.ts';

// node:http as CommonJS: see app-channel.ts.
const { validateHeaderName, validateHeaderValue } = process.getBuiltinModule('node:http');

export const SUBSCRIBE_PATH = '/dapr/subscribe';
export const BULK_EVENT_TYPE = 'com.dapr.event.sent.bulk';

export function topicEventHeaders(event: Readonly<Record<string, unknown>>, pubsubName: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': CLOUD_EVENT_CONTENT_TYPE, pubsubname: pubsubName };
  const traceparent = typeof event.traceparent === 'string' && event.traceparent !== '' ? event.traceparent : event.traceid;
  if (typeof traceparent === 'string' && traceparent !== '') headers.traceparent = traceparent;
  if (typeof event.tracestate === 'string' && event.tracestate !== '') headers.tracestate = event.tracestate;
  return headers;
}

/** The JSON body, or undefined when it is not JSON. */
function jsonOf(body: Buffer): unknown {
  // Most answers have no body: no parse, and no SyntaxError to build (a few µs each).
  if (body.byteLength === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * A field of a JSON object, matched by name as Go's JSON decoder does: the exact name first,
 * else case-insensitively. (The exact name is the common case, and a lookup: a bulk answer
 * asks two fields of each of its statuses.)
 */
function fieldOf(value: unknown, field: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  if (Object.hasOwn(value, field)) return (value as Record<string, unknown>)[field];
  const wanted = field.toLowerCase();
  for (const [name, item] of Object.entries(value)) if (name.toLowerCase() === wanted) return item;
  return undefined;
}

/** What a status the app said means: SUCCESS, RETRY, DROP, anything else retries. */
export function verdictOfStatus(said: string, what: string): AppVerdict {
  if (said === 'SUCCESS') return { outcome: 'success' };
  if (said === 'RETRY') return { outcome: 'retry', reason: `the app answered RETRY${what}` };
  if (said === 'DROP') return { outcome: 'drop', reason: `the app answered DROP${what}` };
  return { outcome: 'retry', reason: `the app answered an unknown status ${JSON.stringify(said)}${what}` };
}

/** Reads the app's answer: any 2xx is success unless it says RETRY, DROP or an unknown status. */
export function verdictOf(status: number, body: Buffer): AppVerdict {
  if (status >= 200 && status <= 299) {
    const said = fieldOf(jsonOf(body), 'status');
    // No body, a body that is not an object, or a status that is not a string: success, as in daprd.
    if (typeof said !== 'string' || said === '') return { outcome: 'success' };
    return verdictOfStatus(said, '');
  }
  return failureVerdict(status, body);
}

/** A non-2xx answer: 404 (no such route) drops, anything else retries. */
function failureVerdict(status: number, body: Buffer): AppVerdict {
  const text = body.toString('utf8', 0, Math.min(body.byteLength, 200));
  if (status === 404) return { outcome: 'drop', reason: `the app answered 404 (no such route): ${text}` };
  return { outcome: 'retry', reason: `the app answered ${status}: ${text}` };
}

/** The POST of one event. */
export function topicEventRequest(call: TopicEventCall) {
  return { method: 'POST', path: call.path, headers: topicEventHeaders(call.event, call.pubsubName), body: call.body } as const;
}

/** One entry of a bulk envelope; a CloudEvent whose JSON text is at hand goes as that text, not serialized again. */
function bulkEntryJson(entry: BulkTopicEventCall['entries'][number], rawPayload: boolean): string {
  const event = rawPayload ? JSON.stringify(Buffer.from(entry.data).toString('base64')) : (entry.eventText ?? JSON.stringify(entry.event));
  return `{"entryId":${JSON.stringify(entry.entryId)},"event":${event},"metadata":${JSON.stringify(entry.metadata)},"contentType":${JSON.stringify(entry.contentType)}}`;
}

/** The POST of a batch: daprd's bulk envelope. */
export function bulkTopicEventRequest(call: BulkTopicEventCall) {
  const head = JSON.stringify({ id: randomUUID(), type: BULK_EVENT_TYPE, topic: call.topic, pubsubname: call.pubsubName, metadata: { pubsubName: call.pubsubName } });
  const body = `${head.slice(0, -1)},"entries":[${call.entries.map((entry) => bulkEntryJson(entry, call.rawPayload)).join(',')}]}`;
  return { method: 'POST', path: call.path, headers: { 'content-type': 'application/json', pubsubname: call.pubsubName }, body } as const;
}

/** The verdict for each of `entryIds` in the app's answer to a bulk POST. */
export function bulkVerdicts(status: number, body: Buffer, entryIds: readonly string[]): Map<string, AppVerdict> {
  const all = (verdict: AppVerdict): Map<string, AppVerdict> => new Map(entryIds.map((id) => [id, verdict]));
  if (status < 200 || status > 299) return all(failureVerdict(status, body));
  const statuses = fieldOf(jsonOf(body), 'statuses');
  if (!Array.isArray(statuses)) return all({ outcome: 'retry', reason: 'the answer to a bulk delivery is not {"statuses": [...]}' });
  const wanted = new Set(entryIds);
  const verdicts = new Map<string, AppVerdict>();
  for (const item of statuses) {
    const id = fieldOf(item, 'entryId');
    if (typeof id !== 'string' || !wanted.has(id) || verdicts.has(id)) continue;
    const said = fieldOf(item, 'status');
    verdicts.set(id, typeof said === 'string' && said !== '' ? verdictOfStatus(said, ` for entry ${id}`) : { outcome: 'retry', reason: `the app gave no status for entry ${id}` });
  }
  for (const id of entryIds) if (!verdicts.has(id)) verdicts.set(id, { outcome: 'retry', reason: `the app's answer does not list entry ${id}` });
  return verdicts;
}

/** The POST of a binding event: its metadata as headers, leaving out pairs that cannot be headers. */
export function bindingEventRequest(call: BindingEventCall) {
  const headers: Record<string, string> = { 'content-type': call.contentType || 'application/json' };
  for (const [name, value] of call.metadata) {
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
      if (name.toLowerCase() !== 'content-type') headers[name] = value;
    } catch {
      // Not expressible as an HTTP header: left out, as there is no other place for it.
    }
  }
  return { method: 'POST', path: call.path, headers, body: call.data } as const;
}
