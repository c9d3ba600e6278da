// One delivery of one message to the app, as daprd's HTTP postman does it
// (pkg/runtime/subscription/postman/http/http.go): the message read as a CloudEvent (or
// wrapped, for a rawPayload subscription), routed by the rules, POSTed as
// `application/cloudevents+json` with its `traceparent`, and the app's answer read as
// success, retry or drop.
import type { Message } from '../../../abi/ts/pubsub.ts';
import type { AppChannel } from '../../app-channel/app-channel.ts';
import { metadataValue } from '../request-metadata.ts';
import { CLOUD_EVENT_CONTENT_TYPE, rawPayloadEvent, type CloudEvent } from './cloud-event.ts';
import type { Subscription } from './subscription.ts';

/** What the app's answer means for the message. */
export type AppVerdict =
  | { outcome: 'success' }
  /** `{"status":"DROP"}`: may go to the dead-letter topic. */
  | { outcome: 'drop'; deadLetter: true; reason: string }
  /** 404: the app has no such route; daprd drops it without dead-lettering. */
  | { outcome: 'drop'; deadLetter: false; reason: string }
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

/** The status field of a 2xx answer, matched case-insensitively by name as Go's JSON decoder does. */
function statusField(body: Buffer): unknown {
  let answer: unknown;
  try {
    answer = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return undefined;
  for (const [name, value] of Object.entries(answer)) if (name.toLowerCase() === 'status') return value;
  return undefined;
}

/** Reads the app's answer: any 2xx is success unless it says RETRY, DROP or an unknown status. */
export function verdictOf(status: number, body: Buffer): AppVerdict {
  if (status >= 200 && status <= 299) {
    const said = statusField(body);
    // No body, a body that is not an object, or a status that is not a string: success, as in daprd.
    if (typeof said !== 'string' || said === '' || said === 'SUCCESS') return { outcome: 'success' };
    if (said === 'RETRY') return { outcome: 'retry', reason: 'the app answered RETRY' };
    if (said === 'DROP') return { outcome: 'drop', deadLetter: true, reason: 'the app answered DROP' };
    return { outcome: 'retry', reason: `the app answered an unknown status ${JSON.stringify(said)}` };
  }
  const text = body.toString('utf8', 0, Math.min(body.byteLength, 200));
  if (status === 404) return { outcome: 'drop', deadLetter: false, reason: `the app answered 404 (no such route): ${text}` };
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
