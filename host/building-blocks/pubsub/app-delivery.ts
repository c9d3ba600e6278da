// One delivery of one message to the app, as daprd's HTTP postman does it
// (pkg/runtime/subscription/postman/http/http.go): the message read as a CloudEvent (or
// wrapped, for a rawPayload subscription), routed by the rules, POSTed as
// `application/cloudevents+json` with its `traceparent`, and the app's answer read as
// success, retry or drop. A drop (DROP, or a 404) goes to the subscription's dead-letter
// topic when it has one: daprd 1.17 and later do so for a 404 too.
import type { Message } from '../../../abi/ts/pubsub.ts';
import type { AppChannel } from '../../app-channel/app-channel.ts';
import { metadataValue } from '../request-metadata.ts';
import { CLOUD_EVENT_CONTENT_TYPE, rawPayloadEvent, type CloudEvent } from './cloud-event.ts';
import type { Subscription } from './subscription.ts';

/** What the app's answer means for the message. */
export type AppVerdict =
  | { outcome: 'success' }
  /** `{"status":"DROP"}` or a 404 (no such route): to the dead-letter topic, if any. */
  | { outcome: 'drop'; reason: string }
  | { outcome: 'retry'; reason: string };

/** A message ready to POST. */
export interface PreparedMessage {
  event: CloudEvent;
  /** What the app receives: the broker's bytes, or the wrapping event for rawPayload. */
  body: Uint8Array;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * The CloudEvent of a message. A rawPayload subscription wraps the bytes; otherwise they
 * must be a JSON object (a CloudEvent), else the result is the reason they are not.
 */
export function prepareMessage(message: Message, subscription: Subscription): PreparedMessage | string {
  if (subscription.rawPayload) {
    const event = rawPayloadEvent(message.data, subscription.topic, subscription.pubsubName, message.metadata);
    return { event, body: encoder.encode(JSON.stringify(event)) };
  }
  let event: unknown;
  try {
    event = JSON.parse(decoder.decode(message.data));
  } catch (err) {
    return `the message is not a CloudEvent (not JSON: ${(err as Error).message})`;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return 'the message is not a CloudEvent (not a JSON object)';
  const ce = event as CloudEvent;
  // Trace fields the broker kept in metadata fill those the event lacks, as in daprd.
  const traceparent = metadataValue(message.metadata, 'traceparent');
  if (ce.traceparent === undefined && traceparent !== undefined) ce.traceparent = ce.traceid = traceparent;
  const tracestate = metadataValue(message.metadata, 'tracestate');
  if (ce.tracestate === undefined && tracestate !== undefined) ce.tracestate = tracestate;
  return { event: ce, body: message.data };
}

function headersFor(event: CloudEvent, pubsubName: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': CLOUD_EVENT_CONTENT_TYPE, pubsubname: pubsubName };
  const traceparent = typeof event.traceparent === 'string' && event.traceparent !== '' ? event.traceparent : event.traceid;
  if (typeof traceparent === 'string' && traceparent !== '') headers.traceparent = traceparent;
  if (typeof event.tracestate === 'string' && event.tracestate !== '') headers.tracestate = event.tracestate;
  return headers;
}

/** The JSON body, or undefined when it is not JSON. */
export function jsonOf(body: Buffer): unknown {
  // Most answers have no body: no parse, and no SyntaxError to build (a few µs each).
  if (body.byteLength === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A field of a JSON object, matched case-insensitively by name as Go's JSON decoder does. */
export function fieldOf(value: unknown, field: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  for (const [name, item] of Object.entries(value)) if (name.toLowerCase() === field.toLowerCase()) return item;
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
export function failureVerdict(status: number, body: Buffer): AppVerdict {
  const text = body.toString('utf8', 0, Math.min(body.byteLength, 200));
  if (status === 404) return { outcome: 'drop', reason: `the app answered 404 (no such route): ${text}` };
  return { outcome: 'retry', reason: `the app answered ${status}: ${text}` };
}

/** POSTs the message to `path` on the app and reads the answer; an unreachable app means retry. */
export async function deliverToApp(
  channel: AppChannel,
  path: string,
  message: PreparedMessage,
  subscription: Subscription,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<AppVerdict> {
  try {
    const res = await channel.request({
      method: 'POST',
      path,
      headers: headersFor(message.event, subscription.pubsubName),
      body: message.body,
      timeoutMs,
      signal,
    });
    return verdictOf(res.status, res.body);
  } catch (err) {
    return { outcome: 'retry', reason: (err as Error).message };
  }
}
