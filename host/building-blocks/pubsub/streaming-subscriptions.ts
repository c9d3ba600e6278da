// Streaming subscriptions: an app opens one on the gRPC API (SubscribeTopicEventsAlpha1) and
// receives the topic's messages down that stream for as long as it lasts. Each is a delivery
// loop like the app's other subscriptions (routing, retries, dead letters, acks), whose
// target is the stream. The broker subscription is opened before the stream is told it is
// subscribed, so nothing published after that answer is missed; closing the stream stops
// the loop, and what was sent but not answered goes back to the broker to be redelivered.
import type { PubSub, PubSubSubscription } from '../../../abi/ts/pubsub.ts';
import type { PubSubLookup } from '../../components/types.ts';
import { isTesseraError, TesseraError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { rawPayloadFlag, rawPayloadProblem } from './cloud-event.ts';
import { deliveryConcurrency } from './delivery-concurrency.ts';
import { DELIVERY_TIMINGS, DeliveryLoop, type DeliveryTimings } from './delivery-loop.ts';
import { badRequestMetadata, pubsubNameEmpty, pubsubNotConfigured, pubsubNotFound, pubsubNotLoaded, topicEmpty } from './pubsub-errors.ts';
import { RouteRule } from './route-rules.ts';
import { StreamTarget, type SendEvent } from './stream-target.ts';
import { metadataList, subscriptionInfo, type Subscription } from './subscription.ts';
import { isTopicAllowed } from './topic-scopes.ts';

export interface StreamRequest {
  pubsubName: string;
  topic: string;
  metadata: Record<string, string>;
  /** '' for none. */
  deadLetterTopic: string;
}

export interface StreamSubscription {
  /** The app's answer for an event; false when no event of that id is waiting for one. */
  answer(id: string, status: string): boolean;
  /** The stream ended: stops delivering; unanswered events go back to the broker. */
  close(reason: string): Promise<void>;
}

export interface StreamingSubscriptionsOptions {
  appId: string;
  pubsubs: PubSubLookup;
  logger: Logger;
  timings?: Partial<DeliveryTimings>;
}

interface Open {
  loop: DeliveryLoop;
  target: StreamTarget;
  /** Tells the transport to end the stream: the sidecar is stopping. */
  onStop: () => void;
}

const keyOf = (pubsubName: string, topic: string): string => `${pubsubName}\u0000${topic}`;

/** A broker whose `subscribe` hands back the subscription already opened: the loop then uses that one. */
function opened(pubsub: PubSub, subscription: PubSubSubscription): PubSub {
  return {
    features: pubsub.features,
    publish: (req) => pubsub.publish(req),
    bulkPublish: (topic, entries, metadata) => pubsub.bulkPublish(topic, entries, metadata),
    subscribe: () => Promise.resolve(subscription),
    ping: () => pubsub.ping(),
  };
}

export class StreamingSubscriptions {
  readonly #options: StreamingSubscriptionsOptions;
  readonly #timings: DeliveryTimings;
  readonly #open = new Map<string, Set<Open>>();
  #stopped = false;

  constructor(options: StreamingSubscriptionsOptions) {
    this.#options = options;
    this.#timings = { ...DELIVERY_TIMINGS, ...options.timings };
  }

  /** The broker for a stream, after daprd's checks; throws Dapr's error for each. */
  #resolve(request: StreamRequest): { pubsub: PubSub; config: ReadonlyMap<string, string> } {
    const { pubsubs, appId } = this.#options;
    const { pubsubName, topic } = request;
    if (pubsubName === '') throw pubsubNameEmpty();
    if (topic === '') throw topicEmpty(pubsubName);
    const live = pubsubs.getPubSub(pubsubName);
    if (live === undefined) {
      if (pubsubs.pubSubCount() === 0) throw pubsubNotConfigured(pubsubName);
      const failure = pubsubs.pubSubFailure(pubsubName);
      throw failure === undefined ? pubsubNotFound(pubsubName) : pubsubNotLoaded(pubsubName, failure);
    }
    if (!isTopicAllowed(live.config, appId, topic, 'subscribe')) {
      throw new TesseraError('ERR_PUBSUB_FORBIDDEN', `subscription to topic ${topic} on pubsub ${pubsubName} is not allowed for app id ${appId}`, { metadata: { topic } });
    }
    return { pubsub: live.pubsub, config: live.config };
  }

  /**
   * Subscribes on the broker and starts delivering to `send`; rejects with Dapr's error when
   * it cannot. `onStop` is called when the sidecar stops, to end the stream.
   */
  async open(request: StreamRequest, send: SendEvent, onStop: () => void): Promise<StreamSubscription> {
    if (this.#stopped) throw new TesseraError('ERR_HEALTH_NOT_READY', 'the sidecar is shutting down: no new subscriptions');
    const { pubsub, config } = this.#resolve(request);
    const { pubsubName, topic, metadata } = request;
    const where = `streaming subscription (pubsub ${pubsubName}, topic ${topic})`;
    const concurrency = deliveryConcurrency(metadata, config, pubsub.features, where);
    const rawPayload = rawPayloadFlag(metadata.rawPayload);
    if (rawPayload === null) throw badRequestMetadata(rawPayloadProblem(metadata.rawPayload!));
    let brokerSubscription: PubSubSubscription;
    try {
      brokerSubscription = await pubsub.subscribe(topic, metadataList(metadata));
    } catch (err) {
      if (isTesseraError(err)) throw err;
      throw new TesseraError('ERR_INTERNAL', `subscribing to topic ${topic} on pubsub ${pubsubName} failed: ${(err as Error).message}`, { cause: err });
    }
    const subscription: Subscription = {
      pubsubName,
      topic,
      // One route: a stream has no paths, every message goes down it.
      rules: [new RouteRule('', '')],
      deadLetterTopic: request.deadLetterTopic,
      metadata,
      rawPayload,
      bulk: undefined,
      type: 'STREAMING',
      source: 'a gRPC stream (SubscribeTopicEventsAlpha1)',
    };
    const target = new StreamTarget(send);
    const loop = new DeliveryLoop(subscription, {
      pubsub: opened(pubsub, brokerSubscription),
      target,
      logger: this.#options.logger.child(`${pubsubName}/${topic} (stream)`),
      timings: this.#timings,
      onPublished: (name, deadLetterTopic) => this.wake(name, deadLetterTopic),
      concurrency,
    });
    const entry: Open = { loop, target, onStop };
    const key = keyOf(pubsubName, topic);
    const set = this.#open.get(key) ?? new Set<Open>();
    set.add(entry);
    this.#open.set(key, set);
    this.#options.logger.info(`the app subscribed to topic ${topic} on pubsub ${pubsubName} over a gRPC stream`);
    let closing: Promise<void> | undefined;
    return {
      answer: (id, status) => target.answer(id, status),
      close: (reason) => {
        closing ??= (async () => {
          set.delete(entry);
          if (set.size === 0 && this.#open.get(key) === set) this.#open.delete(key);
          target.close(reason);
          await loop.stop();
          this.#options.logger.info(`the gRPC stream subscribed to topic ${topic} on pubsub ${pubsubName} closed: ${reason}`);
        })();
        return closing;
      },
    };
  }

  /** Ends the idle pause of the streams of that topic: something was just published to it. */
  wake(pubsubName: string, topic: string): void {
    for (const { loop } of this.#open.get(keyOf(pubsubName, topic)) ?? []) loop.wake();
  }

  /** The open streams, as `/v1.0/metadata` lists subscriptions. */
  list(): Record<string, unknown>[] {
    return [...this.#open.values()].flatMap((set) => [...set].map(({ loop }) => subscriptionInfo(loop.subscription)));
  }

  /** Stops every stream's loop; unanswered events go back to the broker. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const all = [...this.#open.values()].flatMap((set) => [...set]);
    this.#open.clear();
    await Promise.all(
      all.map(async ({ loop, target, onStop }) => {
        target.close('the sidecar is shutting down');
        await loop.stop();
        onStop();
      }),
    );
  }
}
