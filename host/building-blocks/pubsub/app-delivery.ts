// One delivery of one message to the app, as daprd's postmen do it
// (pkg/runtime/subscription/postman/): the message read as a CloudEvent (or wrapped, for a
// rawPayload subscription), routed by the rules, and handed to the app channel, which sends it
// over the app's protocol and reads its answer as success, retry or drop. A drop goes to the
// subscription's dead-letter topic when it has one: daprd 1.17 and later do so for an HTTP
// 404 too.
import type { Message } from '../../../abi/ts/pubsub.ts';
import type { AppCallbacks, AppVerdict } from '../../app-channel/app-callbacks.ts';
import { metadataValue } from '../request-metadata.ts';
import { rawPayloadEvent, type CloudEvent } from './cloud-event.ts';
import type { Subscription } from './subscription.ts';

/** A message ready to deliver. */
export interface PreparedMessage {
  event: CloudEvent;
  /** The event's JSON text, when the broker's bytes are it unchanged. */
  text?: string | undefined;
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
  const text = decoder.decode(message.data);
  try {
    event = JSON.parse(text);
  } catch (err) {
    return `the message is not a CloudEvent (not JSON: ${(err as Error).message})`;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return 'the message is not a CloudEvent (not a JSON object)';
  const ce = event as CloudEvent;
  // Trace fields the broker kept in metadata fill those the event lacks, as in daprd.
  let changed = false;
  const traceparent = metadataValue(message.metadata, 'traceparent');
  if (ce.traceparent === undefined && traceparent !== undefined) {
    ce.traceparent = ce.traceid = traceparent;
    changed = true;
  }
  const tracestate = metadataValue(message.metadata, 'tracestate');
  if (ce.tracestate === undefined && tracestate !== undefined) {
    ce.tracestate = tracestate;
    changed = true;
  }
  return { event: ce, text: changed ? undefined : text, body: message.data };
}

/** Delivers the message to `path` on the app; an unreachable app means retry. */
export function deliverToApp(
  channel: AppCallbacks,
  path: string,
  message: PreparedMessage,
  subscription: Subscription,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<AppVerdict> {
  const { pubsubName, topic } = subscription;
  return channel.onTopicEvent({ path, pubsubName, topic, event: message.event, body: message.body, timeoutMs, signal });
}
