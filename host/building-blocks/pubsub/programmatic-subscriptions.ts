// Programmatic subscriptions: the app's answer to `GET /dapr/subscribe` (gRPC:
// ListTopicSubscriptions, in the same shape), asked for once at start-up and retried with
// backoff until the app is up (bounded: an app that never answers has no programmatic
// subscriptions, which is logged). 404 (UNIMPLEMENTED) means none, as in daprd; each entry
// that cannot be used is reported and the others kept.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppCallbacks } from '../../app-channel/app-callbacks.ts';
import { SUBSCRIBE_PATH } from '../../app-channel/http-callbacks.ts';
import type { Logger } from '../../observability/logger.ts';
import type { SubscriptionSet } from './declarative-subscriptions.ts';
import { MAX_SUBSCRIPTIONS, buildSubscription, problemOf } from './subscription.ts';

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

/** Parses the body of a 200 answer; entries that cannot be used become problems, each named after `from`. */
export function parseAppSubscriptions(body: string, from = SOURCE): SubscriptionSet {
  const set: SubscriptionSet = { subscriptions: [], problems: [] };
  let items: unknown;
  try {
    items = JSON.parse(body);
  } catch (err) {
    set.problems.push({ source: from, type: 'PROGRAMMATIC', error: `${from}: the answer is not JSON: ${(err as Error).message}` });
    return set;
  }
  if (items === null) return set;
  if (!Array.isArray(items)) {
    set.problems.push({ source: from, type: 'PROGRAMMATIC', error: `${from}: the answer must be a JSON array of subscriptions` });
    return set;
  }
  if (items.length > MAX_SUBSCRIPTIONS) {
    set.problems.push({ source: from, type: 'PROGRAMMATIC', error: `${from}: entries from [${MAX_SUBSCRIPTIONS}] on not read: ${items.length} subscriptions, over the ${MAX_SUBSCRIPTIONS} one sidecar delivers` });
  }
  for (const [index, item] of items.slice(0, MAX_SUBSCRIPTIONS).entries()) {
    const source = `${from} [${index}]`;
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
  channel: AppCallbacks,
  appId: string,
  logger: Logger,
  signal: AbortSignal,
  timings: AppSubscribeTimings = APP_SUBSCRIBE_TIMINGS,
): Promise<SubscriptionSet> {
  const none: SubscriptionSet = { subscriptions: [], problems: [] };
  const asked = channel.subscriptionsCall;
  const deadline = Date.now() + timings.deadlineMs;
  let delay = timings.firstDelayMs;
  for (;;) {
    try {
      const answer = await channel.listTopicSubscriptions(appId, { timeoutMs: timings.requestTimeoutMs, signal });
      if (answer.found) return parseAppSubscriptions(answer.body, `the app's ${asked}`);
      if (answer.unexpected) logger.error(`${answer.why}: no programmatic subscriptions`);
      else logger.debug(`${answer.why}: no programmatic subscriptions`);
      return none;
    } catch (err) {
      if (signal.aborted) return none;
      if (Date.now() + delay > deadline) {
        logger.warn(`the app did not answer ${asked} within ${timings.deadlineMs} ms (${(err as Error).message}): no programmatic subscriptions`);
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
