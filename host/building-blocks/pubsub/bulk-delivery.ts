// One bulk delivery to the app, as daprd's postmen do it (DeliverBulk in
// pkg/runtime/subscription/postman/): the batch handed to the app channel, whose protocol
// carries it (an HTTP bulk envelope, or gRPC's OnBulkTopicEvent), each entry with its
// CloudEvent (or, for a rawPayload subscription, the broker's bytes), content type and
// metadata; the answer is a verdict per entry.
import type { Message } from '../../../abi/ts/pubsub.ts';
import type { AppCallbacks, AppVerdict } from '../../app-channel/app-callbacks.ts';
import { CLOUD_EVENT_CONTENT_TYPE } from '../../content-type.ts';
import type { PreparedMessage } from './app-delivery.ts';
import type { Subscription } from './subscription.ts';

/** One message of a batch, ready to deliver. */
export interface BulkEntry {
  /** The broker's message id: unique among the messages a subscription holds. */
  entryId: string;
  message: Message;
  prepared: PreparedMessage;
}

/** Delivers `entries` to `path` on the app as one batch; an unreachable app retries them all. */
export function deliverBulkToApp(
  channel: AppCallbacks,
  path: string,
  entries: readonly BulkEntry[],
  subscription: Subscription,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Map<string, AppVerdict>> {
  const { pubsubName, topic, rawPayload } = subscription;
  return channel.onBulkTopicEvent({
    path,
    pubsubName,
    topic,
    rawPayload,
    entries: entries.map(({ entryId, message, prepared }) => ({
      entryId,
      event: prepared.event,
      eventText: prepared.text,
      data: message.data,
      contentType: message.contentType || (rawPayload ? 'application/octet-stream' : CLOUD_EVENT_CONTENT_TYPE),
      metadata: Object.fromEntries(message.metadata),
    })),
    timeoutMs,
    signal,
  });
}
