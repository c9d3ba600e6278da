// Presents a live `pubsub` component as the typed `PubSub` the pub/sub building block uses.
// A broker that can block in `pull` (it imports an async capability such as `tcp`) gets a
// dedicated instance per subscription, so a waiting pull never holds up publishes; other
// brokers keep every subscription in their one instance and answer pulls at once. A
// subscription follows hot swaps: after a swap its next pull subscribes on the new generation.
import type { AckOutcome, BulkPublishFailure, Message, PubSub, PubSubSubscription } from '../../../abi/ts/pubsub.ts';
import type { Metadata, WitResult } from '../../../abi/ts/types.ts';
import { TesseraError, isTesseraError } from '../../errors.ts';
import type { AdapterHost, DedicatedInstance } from './kind.ts';
import { unwrapResult } from './wit-result.ts';

/** What the broker's adapter needs of it; `blocking`: `pull` may block, so each subscription needs its own instance. */
export type PubSubHost = AdapterHost;

type Caller = (fn: string, args: unknown[]) => Promise<unknown>;

function unwrapper(name: string, call: Caller) {
  return async <T>(fn: string, ...args: unknown[]): Promise<T> => unwrapResult(name, fn, (await call(fn, args)) as WitResult<T>);
}

class Subscription implements PubSubSubscription {
  readonly topic: string;
  readonly canWait: boolean;
  readonly #host: PubSubHost;
  readonly #metadata: Metadata;
  #id = 0n;
  #generation = -1;
  #instance: DedicatedInstance | undefined;
  #closed = false;

  constructor(host: PubSubHost, topic: string, metadata: Metadata) {
    this.#host = host;
    this.topic = topic;
    this.#metadata = metadata;
    this.canWait = host.blocking;
  }

  get #call(): Caller {
    return this.#instance ? (fn, args) => this.#instance!.call(fn, args) : (fn, args) => this.#host.call(fn, args);
  }

  /**
   * Subscribes on the running generation (again, after a swap). A dedicated instance of the
   * old generation unsubscribes first, so the broker hands its pending messages on now
   * rather than after a processing timeout.
   */
  async open(): Promise<void> {
    const previous = this.#instance;
    if (previous) {
      await unwrapper(this.#host.name, (fn, args) => previous.call(fn, args))<void>('unsubscribe', this.#id).catch(() => undefined);
      await previous.close();
    }
    this.#instance = this.#host.blocking ? await this.#host.dedicatedInstance() : undefined;
    this.#generation = this.#host.generation;
    this.#id = await unwrapper(this.#host.name, this.#call)<bigint>('subscribe', this.topic, this.#metadata);
  }

  async pull(maxMessages: number, timeoutMs: number): Promise<Message[]> {
    if (this.#generation !== this.#host.generation && !this.#closed) await this.open();
    let messages: Message[];
    try {
      messages = await unwrapper(this.#host.name, this.#call)<Message[]>('pull', this.#id, maxMessages, timeoutMs);
    } catch (err) {
      // An instance rebuilt after a trap has forgotten its subscriptions: subscribe again.
      if (!isTesseraError(err) || err.componentError?.tag !== 'not-found' || this.#closed) throw err;
      await this.open();
      messages = await unwrapper(this.#host.name, this.#call)<Message[]>('pull', this.#id, maxMessages, timeoutMs);
    }
    // A broker is not believed past what was asked of it: the batch is refused whole (its
    // messages stay unacknowledged, so the broker hands them out again).
    if (messages.length > maxMessages) {
      throw new TesseraError('ERR_INTERNAL', `broker "${this.#host.name}" answered a pull for at most ${maxMessages} messages of topic "${this.topic}" with ${messages.length}; the batch was refused`);
    }
    return messages;
  }

  ack(messageId: string, outcome: AckOutcome): Promise<void> {
    return unwrapper(this.#host.name, this.#call)<void>('ack', this.#id, messageId, outcome);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await unwrapper(this.#host.name, this.#call)<void>('unsubscribe', this.#id);
    } finally {
      await this.#instance?.close();
    }
  }
}

export function adaptPubSub(host: PubSubHost): PubSub {
  const call = unwrapper(host.name, (fn, args) => host.call(fn, args));
  return {
    get features() {
      return host.features;
    },
    publish: (req) => call<void>('publish', req),
    bulkPublish: (topic, entries, metadata) => call<BulkPublishFailure[]>('bulk-publish', topic, entries, metadata),
    async subscribe(topic, metadata) {
      const subscription = new Subscription(host, topic, metadata);
      await subscription.open();
      return subscription;
    },
    ping: () => call<void>('ping'),
  };
}
