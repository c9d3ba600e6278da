// Programmatic subscriptions: the app's answer to `GET /dapr/subscribe`, asked for once at
// start-up and retried with backoff until the app is up (bounded: an app that never answers
// has no programmatic subscriptions, which is logged). 404 means none, as in daprd; each
// entry that cannot be used is reported and the others kept.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppChannel } from '../../app-channel/app-channel.ts';
import type { Logger } from '../../observability/logger.ts';
import type { SubscriptionSet } from './declarative-subscriptions.ts';
import { buildSubscription, problemOf } from './subscription.ts';

export const SUBSCRIBE_PATH = '/dapr/subscribe';
const SOURCE = `the app's GET ${SUBSCRIBE_PATH}`;

export interface AppSubscribeTimings {
  /** First pause after the app could not be reached; doubles up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** How long to keep asking an app that cannot be reached. */
  deadlineMs: number;
  /** How long one request may take. */
  requestTimeoutMs: number;
}

export const APP_SUBSCRIBE_TIMINGS: AppSubscribeTimings = { firstDelayMs: 50, maxDelayMs: 1000, deadlineMs: 60_000, requestTimeoutMs: 5000 };

/** Parses the body of a 200 answer; entries that cannot be used become problems. */
export function parseAppSubscriptions(body: string): SubscriptionSet {
  const set: SubscriptionSet = { subscriptions: [], problems: [] };
  let items: unknown;
  try {
    items = JSON.parse(body);
  } catch (err) {
    set.problems.push({ source: SOURCE, type: 'PROGRAMMATIC', error: `${SOURCE}: the answer is not JSON: ${(err as Error).message}` });
    return set;
  }
  if (items === null) return set;
  if (!Array.isArray(items)) {
    set.problems.push({ source: SOURCE, type: 'PROGRAMMATIC', error: `${SOURCE}: the answer must be a JSON array of subscriptions` });
    return set;
  }
  for (const [index, item] of items.entries()) {
    const source = `${SOURCE} [${index}]`;
    try {
      const raw = typeof item === 'object' && item !== null ? item : {};
      set.subscriptions.push(buildSubscription(raw, 'PROGRAMMATIC', source));
    } catch (err) {
      set.problems.push(problemOf(item, 'PROGRAMMATIC', source, err));
    }
  }
  return set;
}

/** Asks the app for its subscriptions; resolves to none when it never answers or `signal` aborts. */
export async function fetchAppSubscriptions(
  channel: AppChannel,
  logger: Logger,
  signal: AbortSignal,
  timings: AppSubscribeTimings = APP_SUBSCRIBE_TIMINGS,
): Promise<SubscriptionSet> {
  const none: SubscriptionSet = { subscriptions: [], problems: [] };
  const deadline = Date.now() + timings.deadlineMs;
  let delay = timings.firstDelayMs;
  for (;;) {
    try {
      const res = await channel.request({
        method: 'GET',
        path: SUBSCRIBE_PATH,
        headers: { 'content-type': 'application/json' },
        timeoutMs: timings.requestTimeoutMs,
        signal,
      });
      if (res.status === 200) return parseAppSubscriptions(res.body.toString('utf8'));
      if (res.status === 404) {
        logger.debug(`the app has no ${SUBSCRIBE_PATH} (404): no programmatic subscriptions`);
      } else {
        logger.error(`the app answered ${res.status} to GET ${SUBSCRIBE_PATH}: no programmatic subscriptions`);
      }
      return none;
    } catch (err) {
      if (signal.aborted) return none;
      if (Date.now() + delay > deadline) {
        logger.warn(`the app did not answer GET ${SUBSCRIBE_PATH} within ${timings.deadlineMs} ms (${(err as Error).message}): no programmatic subscriptions`);
        return none;
      }
    }
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      return none;
    }
    delay = Math.min(delay * 2, timings.maxDelayMs);
  }
}
