// One delivery loop per subscription (pubsub + topic): subscribe on the broker, pull, route
// each message by the rules, POST it to the app, then ack. Messages of a subscription go
// one at a time, in order (DELIVERY_TIMINGS.concurrency raises that). A failed delivery is
// retried here with backoff; then it goes to the dead-letter topic if there is one (acked
// success), else it is acked `retry` and the broker redelivers it later: at least once.
// Broker errors back off and retry; nothing here throws out of the loop, and nothing spins.
import type { AckOutcome, Message, PubSub, PubSubSubscription } from '../../../abi/ts/pubsub.ts';
import type { AppChannel } from '../../app-channel/app-channel.ts';
import type { Logger } from '../../observability/logger.ts';
import { deliverToApp, prepareMessage, type AppVerdict } from './app-delivery.ts';
import { hasExpired } from './cloud-event.ts';
import { routeFor } from './route-rules.ts';
import { metadataList, type Subscription } from './subscription.ts';

export interface DeliveryTimings {
  /** Most messages one pull asks for. */
  maxMessages: number;
  /** How long a broker that can wait may hold a pull open. */
  waitMs: number;
  /** Pause after an empty pull from a broker that cannot wait; doubles up to `idleMaxMs`. */
  idleMinMs: number;
  idleMaxMs: number;
  /** Pauses before each sidecar-side redelivery of a failed message: one retry per entry. */
  retryDelaysMs: readonly number[];
  /** Pause after a broker error; doubles up to `errorMaxMs`. */
  errorMinMs: number;
  errorMaxMs: number;
  /** Messages of one subscription in flight at once; 1 keeps them in order. */
  concurrency: number;
  /** How long the app may take to answer one delivery. */
  appTimeoutMs: number;
}

export const DELIVERY_TIMINGS: DeliveryTimings = {
  maxMessages: 10,
  waitMs: 1000,
  idleMinMs: 1,
  idleMaxMs: 50,
  retryDelaysMs: [100, 200, 400],
  errorMinMs: 100,
  errorMaxMs: 5000,
  concurrency: 1,
  appTimeoutMs: 60_000,
};

export interface DeliveryLoopDeps {
  pubsub: PubSub;
  channel: AppChannel;
  logger: Logger;
  timings: DeliveryTimings;
  /** Tells the loops of a topic that a dead letter was just published to it. */
  onPublished: (pubsubName: string, topic: string) => void;
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

export class DeliveryLoop {
  #subscription: Subscription;
  readonly #deps: DeliveryLoopDeps;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #done: Promise<void>;
  #wakeup: (() => void) | undefined;
  /** A wake() that came while no pause was waiting: the next pause ends at once. */
  #woken = false;
  #lastError = '';

  constructor(subscription: Subscription, deps: DeliveryLoopDeps) {
    this.#subscription = subscription;
    this.#deps = deps;
    this.#log = deps.logger;
    this.#done = this.#run();
  }

  get subscription(): Subscription {
    return this.#subscription;
  }

  /** New rules or dead-letter topic: used from the next message on. */
  update(subscription: Subscription): void {
    this.#subscription = subscription;
  }

  /** Ends an idle pause now: something was published to the topic. */
  wake(): void {
    if (this.#wakeup) this.#wakeup();
    else this.#woken = true;
  }

  /** Stops pulling, lets the message in hand finish (its retries cut short), and closes the broker subscription. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.wake();
    await this.#done;
  }

  get #stopping(): boolean {
    return this.#abort.signal.aborted;
  }

  #where(): string {
    return `pubsub ${this.#subscription.pubsubName} topic ${this.#subscription.topic}`;
  }

  /** Waits `ms`, or less when woken or stopped. */
  #pause(ms: number): Promise<void> {
    if (this.#woken || this.#stopping) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakeup = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakeup = done;
    });
  }

  /** A pause that wake() does not cut short (between retries of one message). */
  #sleep(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      const signal = this.#abort.signal;
      function finish(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', finish);
        resolve();
      }
      signal.addEventListener('abort', finish);
    });
  }

  #brokerError(what: string, err: unknown, retryInMs: number): void {
    const message = `${what} on ${this.#where()} failed: ${(err as Error)?.message ?? String(err)}`;
    // The first of a run of identical errors is a warning; the repeats would flood the log.
    if (message !== this.#lastError) this.#log.warn(`${message}; retrying in ${retryInMs} ms`);
    else this.#log.debug(`${message}; retrying in ${retryInMs} ms`);
    this.#lastError = message;
  }

  async #run(): Promise<void> {
    const { timings } = this.#deps;
    let subscription: PubSubSubscription | undefined;
    let idle = timings.idleMinMs;
    let errorDelay = timings.errorMinMs;
    try {
      while (!this.#stopping) {
        let stage = 'subscribe';
        try {
          subscription ??= await this.#deps.pubsub.subscribe(this.#subscription.topic, metadataList(this.#subscription.metadata));
          stage = 'pull';
          this.#woken = false;
          const messages = await subscription.pull(timings.maxMessages, subscription.canWait ? timings.waitMs : 0);
          errorDelay = timings.errorMinMs;
          this.#lastError = '';
          if (messages.length === 0) {
            if (!subscription.canWait) {
              await this.#pause(idle);
              idle = Math.min(idle * 2, timings.idleMaxMs);
            }
            continue;
          }
          idle = timings.idleMinMs;
          await this.#handleBatch(subscription, messages);
        } catch (err) {
          if (this.#stopping) break;
          this.#brokerError(stage, err, errorDelay);
          await this.#pause(errorDelay);
          errorDelay = Math.min(errorDelay * 2, timings.errorMaxMs);
        }
      }
    } finally {
      await subscription?.close().catch((err: Error) => this.#log.warn(`closing the subscription to ${this.#where()} failed: ${err.message}`));
    }
  }

  /** Handles a batch `concurrency` messages at a time; when stopping, the rest go back to the broker. */
  async #handleBatch(subscription: PubSubSubscription, messages: Message[]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < messages.length) {
        const message = messages[next++]!;
        const outcome = this.#stopping ? 'retry' : await this.#process(message);
        await this.#ack(subscription, message, outcome);
      }
    };
    const workers = Math.max(1, Math.min(this.#deps.timings.concurrency, messages.length));
    await Promise.all(Array.from({ length: workers }, worker));
  }

  async #ack(subscription: PubSubSubscription, message: Message, outcome: AckOutcome): Promise<void> {
    try {
      await subscription.ack(message.id, outcome);
    } catch (err) {
      // The broker will redeliver what it did not hear about: at least once still holds.
      this.#log.warn(`ack ${outcome} of message ${message.id} on ${this.#where()} failed: ${(err as Error).message}`);
    }
  }

  /** What becomes of one message: delivered, dead-lettered, dropped, or back to the broker. */
  async #process(message: Message): Promise<AckOutcome> {
    const subscription = this.#subscription;
    const prepared = prepareMessage(message, subscription);
    if (typeof prepared === 'string') return this.#undeliverable(message, prepared);
    const id = String(prepared.event.id ?? message.id);
    if (hasExpired(prepared.event)) {
      this.#log.warn(`dropping expired event ${id} on ${this.#where()} (expired ${String(prepared.event.expiration)})`);
      return this.#deadLetterOr(message, 'drop');
    }
    let path: string | undefined;
    try {
      path = routeFor(subscription.rules, prepared.event);
    } catch (err) {
      return this.#undeliverable(message, `routing event ${id} failed: ${(err as Error).message}`);
    }
    if (path === undefined) {
      this.#log.debug(`no route matches event ${id} on ${this.#where()}; skipping it`);
      return this.#deadLetterOr(message, 'drop');
    }
    const { retryDelaysMs, appTimeoutMs } = this.#deps.timings;
    let verdict: AppVerdict = { outcome: 'retry', reason: 'not delivered' };
    for (let attempt = 0; attempt <= retryDelaysMs.length && !this.#stopping; attempt++) {
      if (attempt > 0) await this.#sleep(retryDelaysMs[attempt - 1]!);
      if (this.#stopping) break;
      verdict = await deliverToApp(this.#deps.channel, path, prepared, subscription, appTimeoutMs, this.#abort.signal);
      if (verdict.outcome !== 'retry') break;
      this.#log.debug(`delivery ${attempt + 1} of event ${id} to ${path} on ${this.#where()} failed: ${verdict.reason}`);
    }
    switch (verdict.outcome) {
      case 'success':
        return 'success';
      case 'drop':
        this.#log.warn(`event ${id} on ${this.#where()} dropped: ${verdict.reason}`);
        return verdict.deadLetter ? this.#deadLetterOr(message, 'drop') : 'drop';
      case 'retry':
        if (this.#stopping) return 'retry';
        this.#log.warn(`event ${id} on ${this.#where()} not delivered after ${retryDelaysMs.length + 1} attempts: ${verdict.reason}`);
        return this.#deadLetterOr(message, 'retry');
    }
  }

  /** A message that cannot be delivered as it is; paced like exhausted retries so a redelivered one never spins. */
  async #undeliverable(message: Message, reason: string): Promise<AckOutcome> {
    this.#log.error(`message ${message.id} on ${this.#where()} cannot be delivered: ${reason}`);
    if (this.#subscription.deadLetterTopic === '') await this.#sleep(sum(this.#deps.timings.retryDelaysMs));
    return this.#deadLetterOr(message, 'retry');
  }

  /** Publishes the message as it came to the dead-letter topic (acked success), or acks `otherwise`. */
  async #deadLetterOr(message: Message, otherwise: AckOutcome): Promise<AckOutcome> {
    const { pubsubName, deadLetterTopic } = this.#subscription;
    if (deadLetterTopic === '') return otherwise;
    try {
      await this.#deps.pubsub.publish({ topic: deadLetterTopic, data: message.data, contentType: message.contentType, metadata: [] });
    } catch (err) {
      this.#log.error(`sending message ${message.id} from ${this.#where()} to dead-letter topic ${deadLetterTopic} failed: ${(err as Error).message}`);
      return 'retry';
    }
    this.#log.info(`message ${message.id} from ${this.#where()} sent to dead-letter topic ${deadLetterTopic}`);
    this.#deps.onPublished(pubsubName, deadLetterTopic);
    return 'success';
  }
}
