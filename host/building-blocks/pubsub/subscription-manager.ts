// The subscribing half of the pub/sub building block: the app's subscriptions (programmatic,
// from `/dapr/subscribe` or gRPC's ListTopicSubscriptions, then declarative, from the resources) kept in step with the loaded
// brokers, one delivery loop per pubsub + topic. `reconcile` runs after every change of the
// resources: a removed Subscription or pubsub component stops its loop and closes its broker
// subscription; a hot-swapped component keeps its loop (the broker subscription follows the
// swap by itself); a component loaded later starts the loops that waited for it.
import type { Resiliency } from '../../resiliency/resiliency.ts';
import type { PubSub } from '../../../abi/ts/pubsub.ts';
import type { AppCallbacks } from '../../app-channel/app-callbacks.ts';
import type { ResourcePlan } from '../../components/resources-loader.ts';
import { LogBudget, MAX_FAILURES_LISTED, heldFirst } from '../../components/resource-bounds.ts';
import type { PubSubLookup } from '../../components/types.ts';
import { isTesseraError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { declarativeSubscriptions, type SubscriptionSet } from './declarative-subscriptions.ts';
import { deliveryConcurrency, type DeliveryConcurrency } from './delivery-concurrency.ts';
import { DELIVERY_TIMINGS, DeliveryLoop, type DeliveryTimings } from './delivery-loop.ts';
import { appTarget } from './message-target.ts';
import { APP_SUBSCRIBE_TIMINGS, fetchAppSubscriptions, type AppSubscribeTimings } from './programmatic-subscriptions.ts';
import { MAX_SUBSCRIPTIONS, subscriptionInfo, type Subscription, type SubscriptionProblem } from './subscription.ts';
import { isTopicAllowed } from './topic-scopes.ts';
import type { BlockObserver } from '../../observability/component-observer.ts';

export interface SubscriptionManagerOptions {
  appId: string;
  pubsubs: PubSubLookup;
  /** The channel to the app; without one (no `--app-port`) nothing can be delivered. */
  channel: AppCallbacks | undefined;
  logger: Logger;
  /** Told of every delivery to the app (dapr_component_pubsub_ingress_*), when metrics are on. */
  observer?: BlockObserver | undefined;
  timings?: Partial<DeliveryTimings>;
  appSubscribeTimings?: AppSubscribeTimings;
  /** Dapr's Resiliency: a pubsub's inbound policy, when one applies, replaces the loop's own retries. */
  resiliency?: Resiliency | undefined;
}

interface Running {
  loop: DeliveryLoop;
  /** The broker the loop was started on: a different object means the component was replaced. */
  pubsub: PubSub;
  metadataKey: string;
}

const EMPTY: SubscriptionSet = { subscriptions: [], problems: [] };
const keyOf = (pubsubName: string, topic: string): string => `${pubsubName}\u0000${topic}`;
const describe = (p: SubscriptionProblem): string => p.error;

interface Candidate {
  key: string;
  s: Subscription;
  concurrency: DeliveryConcurrency;
  pubsub: PubSub;
  channel: AppCallbacks;
}

export class SubscriptionManager {
  readonly #options: SubscriptionManagerOptions;
  readonly #timings: DeliveryTimings;
  readonly #log: Logger;
  readonly #running = new Map<string, Running>();
  readonly #stopping = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #declarative: SubscriptionSet = EMPTY;
  #programmatic: SubscriptionSet = EMPTY;
  #problems: SubscriptionProblem[] = [];
  #active: Subscription[] = [];
  /** False while app health checks fail: nothing is delivered then, as in daprd. */
  #appHealthy = true;

  constructor(options: SubscriptionManagerOptions) {
    this.#options = options;
    this.#timings = { ...DELIVERY_TIMINGS, ...options.timings };
    this.#log = options.logger;
  }

  /** Re-reads the declarative subscriptions from a resource plan's non-Component documents. */
  setResources(others: ResourcePlan['others']): void {
    this.#declarative = declarativeSubscriptions(others, this.#options.appId, (pubsubName, topic) => this.#running.has(keyOf(pubsubName, topic)));
    this.reconcile();
  }

  /** Asks the app for its subscriptions (once, at start-up; retried until the app answers). */
  async loadProgrammatic(): Promise<void> {
    const { channel } = this.#options;
    if (channel === undefined) return;
    const set = await fetchAppSubscriptions(channel, this.#options.appId, this.#log, this.#abort.signal, this.#options.appSubscribeTimings ?? APP_SUBSCRIBE_TIMINGS);
    if (this.#abort.signal.aborted) return;
    this.#programmatic = set;
    this.#log.info(`the app subscribed to ${set.subscriptions.length} topic(s) through ${channel.subscriptionsCall}`);
    this.reconcile();
  }

  /** Stops every delivery while the app is unhealthy (its messages stay with the broker), and starts them again when it is not. */
  setAppHealthy(healthy: boolean): void {
    if (this.#appHealthy === healthy) return;
    this.#appHealthy = healthy;
    this.reconcile();
  }

  /** Starts, updates and stops delivery loops to match the subscriptions and the loaded brokers. */
  reconcile(): void {
    if (this.#abort.signal.aborted) return;
    const { pubsubs, appId, channel } = this.#options;
    const problems: SubscriptionProblem[] = [...this.#programmatic.problems, ...this.#declarative.problems];
    const wanted = new Map<string, Subscription>();
    const candidates: Candidate[] = [];
    // Programmatic first: for a pubsub + topic declared both ways, the app's own wins.
    for (const s of [...this.#programmatic.subscriptions, ...this.#declarative.subscriptions]) {
      const key = keyOf(s.pubsubName, s.topic);
      const first = wanted.get(key);
      if (first !== undefined) {
        problems.push({ ...this.#problem(s), error: `${s.source}: pubsub ${s.pubsubName} topic ${s.topic} is already subscribed by ${first.source}; this one is ignored` });
        continue;
      }
      const live = pubsubs.getPubSub(s.pubsubName);
      if (live === undefined) {
        problems.push({ ...this.#problem(s), waiting: true, error: `${s.source}: pubsub ${s.pubsubName} is not loaded; waiting for it` });
        continue;
      }
      if (!isTopicAllowed(live.config, appId, s.topic, 'subscribe')) {
        problems.push({ ...this.#problem(s), error: `${s.source}: subscription to topic ${s.topic} on pubsub ${s.pubsubName} is not allowed for app id ${appId}` });
        continue;
      }
      if (channel === undefined) {
        problems.push({ ...this.#problem(s), error: `${s.source}: the sidecar has no --app-port, so messages of topic ${s.topic} cannot be delivered` });
        continue;
      }
      if (!this.#appHealthy) {
        problems.push({ ...this.#problem(s), waiting: true, error: `${s.source}: the app is unhealthy (its health probes fail); messages of topic ${s.topic} wait until it is healthy` });
        continue;
      }
      let concurrency: DeliveryConcurrency;
      try {
        concurrency = deliveryConcurrency(s.metadata, live.config, live.pubsub.features, `${s.source} (pubsub ${s.pubsubName}, topic ${s.topic})`);
      } catch (err) {
        problems.push({ ...this.#problem(s), error: isTesseraError(err) ? err.message : String(err) });
        continue;
      }
      wanted.set(key, s);
      candidates.push({ key, s, concurrency, pubsub: live.pubsub, channel });
    }
    // Those delivered already first, then the rest in order, up to the cap.
    const ordered = heldFirst(candidates, (c) => this.#running.has(c.key));
    for (const c of ordered.slice(0, MAX_SUBSCRIPTIONS)) this.#ensureLoop(c.key, c.s, c.concurrency, c.pubsub, c.channel);
    const over = ordered.slice(MAX_SUBSCRIPTIONS);
    for (const c of over) wanted.delete(c.key);
    if (over.length > 0) {
      const { s } = over[0]!;
      const more = over.length > 1 ? ` and ${over.length - 1} more` : '';
      problems.push({ ...this.#problem(s), error: `${s.source}: subscription to topic ${s.topic} on pubsub ${s.pubsubName}${more} not started: ${candidates.length} subscriptions, over the ${MAX_SUBSCRIPTIONS} one sidecar delivers` });
    }
    for (const [key, running] of this.#running) {
      if (!wanted.has(key)) this.#stopLoop(key, running);
    }
    this.#logNew(problems);
    this.#problems = problems.slice(0, MAX_FAILURES_LISTED);
    this.#active = candidates.filter((c) => wanted.has(c.key)).map((c) => c.s);
  }

  #problem(s: Subscription): Omit<SubscriptionProblem, 'error'> {
    return { source: s.source, type: s.type, pubsubName: s.pubsubName, topic: s.topic };
  }

  #ensureLoop(key: string, s: Subscription, concurrency: DeliveryConcurrency, pubsub: PubSub, channel: AppCallbacks): void {
    const metadataKey = JSON.stringify(s.metadata);
    const running = this.#running.get(key);
    if (running !== undefined && running.pubsub === pubsub && running.metadataKey === metadataKey) {
      running.loop.update(s, concurrency);
      return;
    }
    if (running !== undefined) this.#stopLoop(key, running);
    const loop = new DeliveryLoop(s, {
      pubsub,
      target: appTarget(channel),
      logger: this.#log.child(`${s.pubsubName}/${s.topic}`),
      timings: this.#timings,
      onPublished: (pubsubName, topic) => this.wake(pubsubName, topic),
      concurrency,
      inboundPolicy: () => this.#options.resiliency?.componentInbound(s.pubsubName, 'Pubsub'),
      observer: this.#options.observer,
    });
    this.#running.set(key, { loop, pubsub, metadataKey });
    const pace = concurrency.ordered ? 'in order, one at a time' : `up to ${concurrency.limit} at once`;
    const batches = s.bulk === undefined ? '' : `, in batches of up to ${s.bulk.maxMessagesCount}`;
    this.#log.info(`subscribed to topic ${s.topic} on pubsub ${s.pubsubName} (${s.type.toLowerCase()}, ${s.source}; ${pace}${batches})`);
  }

  #stopLoop(key: string, running: Running): void {
    this.#running.delete(key);
    const { pubsubName, topic } = running.loop.subscription;
    const stopped = running.loop.stop().finally(() => this.#stopping.delete(stopped));
    this.#stopping.add(stopped);
    this.#log.info(`unsubscribed from topic ${topic} on pubsub ${pubsubName}`);
  }

  /** Logs each problem once, when it first appears. */
  #logNew(problems: SubscriptionProblem[]): void {
    const before = new Set(this.#problems.map(describe));
    const budget = new LogBudget();
    for (const problem of problems) {
      budget.spend(!before.has(describe(problem)), () => {
        if (problem.waiting) this.#log.warn(`subscription not started: ${problem.error}`);
        else this.#log.error(`subscription not used: ${problem.error}`);
      });
    }
    const unlogged = budget.summary('subscriptions not used');
    if (unlogged !== undefined) this.#log.error(unlogged);
  }

  /** Ends the idle pause of the loop for that topic: something was just published to it. */
  wake(pubsubName: string, topic: string): void {
    this.#running.get(keyOf(pubsubName, topic))?.loop.wake();
  }

  /** The subscriptions being delivered, as `/v1.0/metadata` lists them. */
  list(): Record<string, unknown>[] {
    return this.#active.map(subscriptionInfo);
  }

  /** Subscriptions that are not delivered, and why. */
  problems(): SubscriptionProblem[] {
    return this.#problems.map((p) => ({ ...p }));
  }

  /** Stops every loop (each closes its broker subscription) and the start-up fetch. */
  async stop(): Promise<void> {
    this.#abort.abort();
    for (const [key, running] of this.#running) this.#stopLoop(key, running);
    this.#active = [];
    await Promise.all([...this.#stopping]);
  }
}
