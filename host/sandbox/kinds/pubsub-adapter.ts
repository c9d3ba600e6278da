// Presents a live `pubsub` component as the typed `PubSub` the pub/sub building block uses.
// A broker that can block in `pull` (it imports an async capability such as `tcp`) gets a
// dedicated instance per subscription, so a waiting pull never holds up publishes; other
// brokers keep every subscription in their one instance and answer pulls at once. A
// subscription follows hot swaps: after a swap its next pull subscribes on the new generation.
// On a dedicated instance an ack would queue behind a waiting pull (a blocking read), so acks
// are held here and handed to the broker just ahead of the subscription's next pull (or its
// close), in one go: an ack never waits for a read, and a broker that batches them sends
// them with that read. While messages it handed out are unanswered, a pull waits in the
// broker at most ACK_HOLD_MS (a new message still ends the wait at once), so their acks
// reach it within that long. Held acks are in the sidecar's memory as the broker's unsent
// ones are in its own: a crash loses them and the broker redelivers, at least once.
import type { AckOutcome, Message, PubSub, PubSubSubscription } from '../../../abi/ts/pubsub.ts';
import type { Metadata, WitResult } from '../../../abi/ts/types.ts';
import { pubsubExports, type PubsubExports, type PubsubFunction } from '../../../abi/ts/wit/pubsub.ts';
import { TesseraError, isTesseraError } from '../../errors.ts';
import type { AdapterHost, DedicatedInstance } from './kind.ts';
import { unwrapResult } from './wit-result.ts';

/** What the broker's adapter needs of it; `blocking`: `pull` may block, so each subscription needs its own instance. */
export type PubSubHost = AdapterHost;

type Caller = (fn: string, args: unknown[]) => Promise<unknown>;

/** While messages are unanswered, the longest a pull waits in the broker: the longest an ack is held here. */
export const ACK_HOLD_MS = 20;

/** The generated, WIT-typed calls of `pubsub` over `call`, with results unwrapped (an `err` rejects naming the component). */
function unwrapped(name: string, call: Caller) {
  const calls: PubsubExports = pubsubExports(call);
  const unwrap = <T>(fn: PubsubFunction, result: Promise<WitResult<T>>): Promise<T> => result.then((r) => unwrapResult(name, fn, r));
  return {
    publish: (...a: Parameters<PubsubExports['publish']>) => unwrap('publish', calls.publish(...a)),
    bulkPublish: (...a: Parameters<PubsubExports['bulkPublish']>) => unwrap('bulk-publish', calls.bulkPublish(...a)),
    subscribe: (...a: Parameters<PubsubExports['subscribe']>) => unwrap('subscribe', calls.subscribe(...a)),
    pull: (...a: Parameters<PubsubExports['pull']>) => unwrap('pull', calls.pull(...a)),
    ack: (...a: Parameters<PubsubExports['ack']>) => unwrap('ack', calls.ack(...a)),
    unsubscribe: (...a: Parameters<PubsubExports['unsubscribe']>) => unwrap('unsubscribe', calls.unsubscribe(...a)),
    ping: () => unwrap('ping', calls.ping()),
  };
}

class Subscription implements PubSubSubscription {
  readonly topic: string;
  readonly canWait: boolean;
  readonly #host: PubSubHost;
  readonly #metadata: Metadata;
  #id = 0n;
  #generation = -1;
  #instance: DedicatedInstance | undefined;
  /** The broker's calls: on the dedicated instance when there is one, else on the running generation. */
  #calls: ReturnType<typeof unwrapped>;
  #closed = false;
  /** Messages pulled on this instance and not yet acked. */
  #unanswered = 0;
  /** Acks on the dedicated instance, for the broker ahead of the next pull or the close. */
  #held: { messageId: string; outcome: AckOutcome }[] = [];

  constructor(host: PubSubHost, topic: string, metadata: Metadata) {
    this.#host = host;
    this.topic = topic;
    this.#metadata = metadata;
    this.canWait = host.blocking;
    this.#calls = unwrapped(host.name, (fn, args) => host.call(fn, args));
  }

  /**
   * Subscribes on the running generation (again, after a swap). A dedicated instance of the
   * old generation unsubscribes first, so the broker hands its pending messages on now
   * rather than after a processing timeout.
   */
  async open(): Promise<void> {
    const previous = this.#instance;
    if (previous) {
      // The held acks first: the unsubscribe would hand their messages back to be delivered again.
      await this.#sendHeld().catch(() => undefined);
      await unwrapped(this.#host.name, (fn, args) => previous.call(fn, args)).unsubscribe(this.#id).catch(() => undefined);
      await previous.close();
    }
    const instance = this.#host.blocking ? await this.#host.dedicatedInstance() : undefined;
    this.#instance = instance;
    this.#calls = unwrapped(this.#host.name, instance ? (fn, args) => instance.call(fn, args) : (fn, args) => this.#host.call(fn, args));
    this.#generation = this.#host.generation;
    this.#unanswered = 0;
    this.#id = await this.#calls.subscribe(this.topic, this.#metadata);
  }

  async pull(maxMessages: number, timeoutMs: number): Promise<Message[]> {
    if (this.#generation !== this.#host.generation && !this.#closed) await this.open();
    if (this.#instance === undefined || timeoutMs === 0) return this.#pullOnce(maxMessages, timeoutMs);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = Math.max(0, Math.ceil(deadline - performance.now()));
      const messages = await this.#pullOnce(maxMessages, this.#unanswered > 0 ? Math.min(left, ACK_HOLD_MS) : left);
      if (messages.length > 0 || performance.now() >= deadline) return messages;
    }
  }

  /** Hands the held acks to the dedicated instance (queued there in order, ahead of what comes next). */
  async #sendHeld(): Promise<void> {
    if (this.#held.length === 0) return;
    const held = this.#held;
    this.#held = [];
    await Promise.all(held.map(({ messageId, outcome }) => this.#calls.ack(this.#id, messageId, outcome)));
  }

  async #pullOnce(maxMessages: number, timeoutMs: number): Promise<Message[]> {
    let messages: Message[];
    try {
      await this.#sendHeld();
      messages = await this.#calls.pull(this.#id, maxMessages, timeoutMs);
    } catch (err) {
      // An instance rebuilt after a trap has forgotten its subscriptions: subscribe again.
      if (!isTesseraError(err) || err.componentError?.tag !== 'not-found' || this.#closed) throw err;
      await this.open();
      messages = await this.#calls.pull(this.#id, maxMessages, timeoutMs);
    }
    // A broker is not believed past what was asked of it: the batch is refused whole (its
    // messages stay unacknowledged, so the broker hands them out again).
    if (messages.length > maxMessages) {
      throw new TesseraError('ERR_INTERNAL', `broker "${this.#host.name}" answered a pull for at most ${maxMessages} messages of topic "${this.topic}" with ${messages.length}; the batch was refused`);
    }
    this.#unanswered += messages.length;
    return messages;
  }

  ack(messageId: string, outcome: AckOutcome): Promise<void> {
    this.#unanswered = Math.max(0, this.#unanswered - 1);
    if (this.#instance === undefined) return this.#calls.ack(this.#id, messageId, outcome);
    this.#held.push({ messageId, outcome });
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      // The held acks first: the unsubscribe would hand their messages back to be delivered again.
      await this.#sendHeld().catch(() => undefined);
      await this.#calls.unsubscribe(this.#id);
    } finally {
      await this.#instance?.close();
    }
  }
}

export function adaptPubSub(host: PubSubHost): PubSub {
  const calls = unwrapped(host.name, (fn, args) => host.call(fn, args));
  return {
    get features() {
      return host.features;
    },
    publish: (req) => calls.publish(req),
    bulkPublish: (topic, entries, metadata) => calls.bulkPublish(topic, entries, metadata),
    async subscribe(topic, metadata) {
      const subscription = new Subscription(host, topic, metadata);
      await subscription.open();
      return subscription;
    },
    ping: () => calls.ping(),
  };
}
