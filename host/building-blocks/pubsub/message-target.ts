// Where a delivery loop hands its messages: the app over its channel, HTTP or gRPC (through
// app-delivery.ts and bulk-delivery.ts), or a gRPC stream the app opened
// (SubscribeTopicEventsAlpha1). The loop's routing, retries, dead letters and acks are the
// same whatever the target.
import type { AppCallbacks, AppVerdict } from '../../app-channel/app-callbacks.ts';
import { deliverToApp, type PreparedMessage } from './app-delivery.ts';
import { deliverBulkToApp, type BulkEntry } from './bulk-delivery.ts';
import type { Subscription } from './subscription.ts';

export interface MessageTarget {
  /** Delivers one message to `path`; resolves to the app's verdict (never rejects). */
  deliver(path: string, message: PreparedMessage, subscription: Subscription, timeoutMs: number, signal: AbortSignal): Promise<AppVerdict>;
  /** Delivers a bulk batch to `path`; resolves to a verdict per entry id (never rejects). */
  deliverBulk(path: string, entries: BulkEntry[], subscription: Subscription, timeoutMs: number, signal: AbortSignal): Promise<Map<string, AppVerdict>>;
}

/** The app, through the sidecar's app channel (HTTP or gRPC). */
export function appTarget(channel: AppCallbacks): MessageTarget {
  return {
    deliver: (path, message, subscription, timeoutMs, signal) => deliverToApp(channel, path, message, subscription, timeoutMs, signal),
    deliverBulk: (path, entries, subscription, timeoutMs, signal) => deliverBulkToApp(channel, path, entries, subscription, timeoutMs, signal),
  };
}
