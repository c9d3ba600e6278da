// One bulk delivery to the app, as daprd's HTTP postman does it (DeliverBulk in
// pkg/runtime/subscription/postman/http/http.go; the envelope of
// pkg/runtime/pubsub/bulksubscribe_events.go): the batch POSTed as `application/json`
//   {"id","type":"com.dapr.event.sent.bulk","topic","pubsubname","metadata",
//    "entries":[{"entryId","event","metadata","contentType"}]}
// where `event` is the CloudEvent (or, for a rawPayload subscription, the bytes in base64),
// and the answer `{"statuses":[{"entryId","status"}]}` read per entry: SUCCESS, DROP, and
// RETRY; an entry with no status (or an empty or unknown one) is retried, as in daprd. A
// 404 drops every entry, any other failure retries them all.
import { randomUUID } from 'node:crypto';
import type { Message } from '../../../abi/ts/pubsub.ts';
import type { AppChannel } from '../../app-channel/app-channel.ts';
import { failureVerdict, fieldOf, jsonOf, verdictOfStatus, type AppVerdict, type PreparedMessage } from './app-delivery.ts';
import { CLOUD_EVENT_CONTENT_TYPE } from './cloud-event.ts';
import type { Subscription } from './subscription.ts';

export const BULK_EVENT_TYPE = 'com.dapr.event.sent.bulk';

/** One message of a batch, ready to POST. */
export interface BulkEntry {
  /** The broker's message id: unique among the messages a subscription holds. */
  entryId: string;
  message: Message;
  prepared: PreparedMessage;
}

function entryOf({ entryId, message, prepared }: BulkEntry, rawPayload: boolean): Record<string, unknown> {
  return {
    entryId,
    event: rawPayload ? Buffer.from(message.data).toString('base64') : prepared.event,
    metadata: Object.fromEntries(message.metadata),
    contentType: message.contentType || (rawPayload ? 'application/octet-stream' : CLOUD_EVENT_CONTENT_TYPE),
  };
}

/** The body of the POST for `entries`. */
export function bulkEnvelope(entries: readonly BulkEntry[], subscription: Subscription): string {
  return JSON.stringify({
    id: randomUUID(),
    type: BULK_EVENT_TYPE,
    topic: subscription.topic,
    pubsubname: subscription.pubsubName,
    metadata: { pubsubName: subscription.pubsubName },
    entries: entries.map((entry) => entryOf(entry, subscription.rawPayload)),
  });
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

/** POSTs `entries` to `path` on the app as one bulk event; an unreachable app retries them all. */
export async function deliverBulkToApp(
  channel: AppChannel,
  path: string,
  entries: readonly BulkEntry[],
  subscription: Subscription,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Map<string, AppVerdict>> {
  const ids = entries.map((e) => e.entryId);
  try {
    const res = await channel.request({
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json', pubsubname: subscription.pubsubName },
      body: bulkEnvelope(entries, subscription),
      timeoutMs,
      signal,
    });
    return bulkVerdicts(res.status, res.body, ids);
  } catch (err) {
    const verdict: AppVerdict = { outcome: 'retry', reason: (err as Error).message };
    return new Map(ids.map((id) => [id, verdict]));
  }
}
