// One delivery loop per subscription (pubsub + topic): subscribe on the broker, pull, route
// each message by the rules, hand it to the app channel, then ack. Up to `concurrency.limit`
// messages of a subscription are at the app at once (delivery-concurrency.ts says how many,
// and whether in order: then one at a time, each acked before the next goes); the loop pulls
// the next batch while they run, and waits for a free place before it hands a message on.
// A bulk subscription hands on whole batches instead (bulk-delivery.ts), one call each, and
// acks each entry by the app's status for it. A failed delivery is retried here with
// backoff; then it goes to the dead-letter topic if there is one (acked success), else it is
// acked `retry` and the broker redelivers it later: at least once. Broker errors back off
// and retry; nothing here throws out of the loop, and nothing spins. A stop lets what is at
// the app finish (retries cut short) and hands what was pulled but not started back.
import { hasPolicies, runWithPolicy, type TargetPolicy } from '../../resiliency/policy-runner.ts';
import { abortablePause } from '../abortable-pause.ts';
import type { AckOutcome, Message, PubSub, PubSubSubscription } from '../../../abi/ts/pubsub.ts';
import type { AppVerdict } from '../../app-channel/app-callbacks.ts';
import { ConcurrencyLimit } from '../../app-channel/concurrency-limit.ts';
import type { Logger } from '../../observability/logger.ts';
import { prepareMessage, type PreparedMessage } from './app-delivery.ts';
import type { BulkEntry } from './bulk-delivery.ts';
import { hasExpired } from './cloud-event.ts';
import type { DeliveryConcurrency } from './delivery-concurrency.ts';
import type { MessageTarget } from './message-target.ts';
import { routeFor } from './route-rules.ts';
import { metadataList, type BulkSubscribe, type Subscription } from './subscription.ts';
import type { BlockObserver } from '../../observability/component-observer.ts';

export interface DeliveryTimings {
  /** Messages one pull asks for; as many as may be in flight when that is more (up to MAX_PULL). */
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
  appTimeoutMs: 60_000,
};

export interface DeliveryLoopDeps {
  pubsub: PubSub;
  /** Where the messages go: the app (over HTTP or gRPC), or a stream the app opened. */
  target: MessageTarget;
  logger: Logger;
  timings: DeliveryTimings;
  /** Tells the loops of a topic that a dead letter was just published to it. */
  onPublished: (pubsubName: string, topic: string) => void;
  /** How many messages may be at the app at once, and whether in order. */
  concurrency: DeliveryConcurrency;
  /**
   * The Resiliency policy of deliveries from this pubsub (Dapr's `inbound` target), asked at
   * every message so an edited policy applies at once. When one applies, its timeout, retries
   * and breaker replace the loop's own retries (`retryDelaysMs`) for single deliveries.
   */
  inboundPolicy?: () => TargetPolicy | undefined;
  /** Told of every message delivered (dapr_component_pubsub_ingress_*), when metrics are on. */
  observer?: BlockObserver | undefined;
}

/** Most messages one pull asks for when the subscription allows many in flight. */
const MAX_PULL = 100;

/** Where a message goes: a path on the app, or an outcome already decided. */
type Routed = { path: string; prepared: PreparedMessage; id: string } | { settled: Promise<AckOutcome> };

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

export class DeliveryLoop {
  #subscription: Subscription;
  #concurrency: DeliveryConcurrency;
  readonly #deps: DeliveryLoopDeps;
  /** A place per message (or bulk batch) at the app. */
  readonly #slots: ConcurrencyLimit;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #done: Promise<void>;
  #wakeup: (() => void) | undefined;
  /** A wake() that came while no pause was waiting: the next pause ends at once. */
  #woken = false;
  /** The end of the waiting pause is scheduled (setImmediate). */
  #waking = false;
  #lastError = '';

  constructor(subscription: Subscription, deps: DeliveryLoopDeps) {
    this.#subscription = subscription;
    this.#concurrency = deps.concurrency;
    this.#slots = new ConcurrencyLimit(deps.concurrency.limit);
    this.#deps = deps;
    this.#log = deps.logger;
    this.#done = this.#run();
  }

  get subscription(): Subscription {
    return this.#subscription;
  }

  /** New rules, dead-letter topic, batching or concurrency: used from the next message on. */
  update(subscription: Subscription, concurrency: DeliveryConcurrency): void {
    this.#subscription = subscription;
    this.#concurrency = concurrency;
    this.#slots.limit = concurrency.limit;
  }

  /**
   * Ends an idle pause: something was published to the topic. The pause ends once the
   * event loop has run what it read in this turn, so the publishes of one turn (one per
   * publisher in flight, in a burst) come out in one pull rather than a pull (and a timer) each.
   */
  wake(): void {
    if (this.#wakeup === undefined) {
      this.#woken = true;
      return;
    }
    if (this.#waking) return;
    this.#waking = true;
    setImmediate(() => {
      this.#waking = false;
      // The pause may have ended meanwhile (its time was up): then the next one ends at once.
      if (this.#wakeup) this.#wakeup();
      else this.#woken = true;
    });
  }

  /** Stops pulling, lets the messages at the app finish (their retries cut short), and closes the broker subscription. */
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
    return abortablePause(ms, this.#abort.signal);
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
          const bulk = this.#subscription.bulk;
          const messages =
            bulk === undefined
              ? await subscription.pull(Math.max(timings.maxMessages, Math.min(this.#concurrency.limit, MAX_PULL)), subscription.canWait ? timings.waitMs : 0)
              : await this.#pullBatch(subscription, bulk);
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
          await this.#dispatch(subscription, messages, bulk !== undefined);
        } catch (err) {
          if (this.#stopping) break;
          this.#brokerError(stage, err, errorDelay);
          await this.#pause(errorDelay);
          errorDelay = Math.min(errorDelay * 2, timings.errorMaxMs);
        }
      }
    } finally {
      await Promise.all(this.#inFlight);
      await subscription?.close().catch((err: Error) => this.#log.warn(`closing the subscription to ${this.#where()} failed: ${err.message}`));
    }
  }

  /**
   * Fills a bulk batch: up to `maxMessagesCount` messages, waiting at most
   * `maxAwaitDurationMs` after the first for more. A broker error ends the wait; what is in
   * hand goes, and the next pull meets the error again.
   */
  async #pullBatch(subscription: PubSubSubscription, bulk: BulkSubscribe): Promise<Message[]> {
    const { timings } = this.#deps;
    const batch = await subscription.pull(bulk.maxMessagesCount, subscription.canWait ? timings.waitMs : 0);
    const deadline = performance.now() + bulk.maxAwaitDurationMs;
    let idle = timings.idleMinMs;
    while (batch.length > 0 && batch.length < bulk.maxMessagesCount && !this.#stopping) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      let more: Message[];
      try {
        more = await subscription.pull(bulk.maxMessagesCount - batch.length, subscription.canWait ? Math.ceil(left) : 0);
      } catch {
        break;
      }
      batch.push(...more);
      if (more.length === 0 && !subscription.canWait) {
        await this.#pause(Math.min(idle, left));
        idle = Math.min(idle * 2, timings.idleMaxMs);
      }
    }
    return batch;
  }

  /**
   * Hands each message (or the whole batch, for a bulk subscription) on as soon as a place
   * is free, without waiting for it to finish; when stopping, the rest go back to the broker.
   */
  async #dispatch(subscription: PubSubSubscription, messages: Message[], bulk: boolean): Promise<void> {
    const units = bulk ? [messages] : messages.map((message) => [message]);
    for (const [index, unit] of units.entries()) {
      const admitted = await this.#slots.acquire(this.#abort.signal).then(
        () => true,
        () => false,
      );
      if (!admitted) {
        await Promise.all(units.slice(index).flat().map((message) => this.#ack(subscription, message, 'retry')));
        return;
      }
      const work = this.#handle(subscription, unit).finally(() => {
        this.#slots.release();
        this.#inFlight.delete(work);
      });
      this.#inFlight.add(work);
    }
  }

  /** Delivers one message, or one bulk batch, and acks each message by its outcome. */
  async #handle(subscription: PubSubSubscription, messages: Message[]): Promise<void> {
    let outcomes: Map<Message, AckOutcome>;
    try {
      if (this.#stopping) outcomes = new Map();
      else if (messages.length === 1 && this.#subscription.bulk === undefined) outcomes = new Map([[messages[0]!, await this.#process(messages[0]!)]]);
      else outcomes = await this.#processBulk(messages);
    } catch (err) {
      // A bug, not the app or the broker: the messages go back rather than being lost.
      this.#log.error(`delivering ${messages.length} message(s) on ${this.#where()} failed: ${(err as Error).stack ?? String(err)}`);
      outcomes = new Map();
    }
    await Promise.all(messages.map((message) => this.#ack(subscription, message, outcomes.get(message) ?? 'retry')));
  }

  async #ack(subscription: PubSubSubscription, message: Message, outcome: AckOutcome): Promise<void> {
    try {
      await subscription.ack(message.id, outcome);
    } catch (err) {
      // The broker will redeliver what it did not hear about: at least once still holds.
      this.#log.warn(`ack ${outcome} of message ${message.id} on ${this.#where()} failed: ${(err as Error).message}`);
    }
  }

  /** Where a message goes: prepared and routed, or its outcome when it cannot or need not be delivered. */
  #route(message: Message, subscription: Subscription): Routed {
    const prepared = prepareMessage(message, subscription);
    if (typeof prepared === 'string') return { settled: this.#undeliverable(message, prepared) };
    const id = String(prepared.event.id ?? message.id);
    if (hasExpired(prepared.event)) {
      this.#log.warn(`dropping expired event ${id} on ${this.#where()} (expired ${String(prepared.event.expiration)})`);
      return { settled: this.#deadLetterOr(message, 'drop') };
    }
    let path: string | undefined;
    try {
      path = routeFor(subscription.rules, prepared.event);
    } catch (err) {
      return { settled: this.#undeliverable(message, `routing event ${id} failed: ${(err as Error).message}`) };
    }
    if (path === undefined) {
      this.#log.debug(`no route matches event ${id} on ${this.#where()}; skipping it`);
      return { settled: this.#deadLetterOr(message, 'drop') };
    }
    return { path, prepared, id };
  }

  /** What becomes of one message: delivered, dead-lettered, dropped, or back to the broker. */
  async #process(message: Message): Promise<AckOutcome> {
    const subscription = this.#subscription;
    const routed = this.#route(message, subscription);
    if ('settled' in routed) return routed.settled;
    const { path, prepared, id } = routed;
    const { retryDelaysMs, appTimeoutMs } = this.#deps.timings;
    const t0 = performance.now();
    const policy = this.#deps.inboundPolicy?.();
    if (hasPolicies(policy)) {
      const verdict = await runWithPolicy(policy, (signal) => this.#deps.target.deliver(path, prepared, subscription, appTimeoutMs, signal), {
        signal: this.#abort.signal,
        failureOf: (v) => (v.outcome === 'retry' ? {} : undefined),
      }).catch((err: unknown): AppVerdict => ({ outcome: 'retry', reason: err instanceof Error ? err.message : String(err) }));
      this.#deps.observer?.pubsubIngress(subscription.pubsubName, subscription.topic, verdict.outcome, performance.now() - t0);
      return this.#settle(message, id, verdict);
    }
    let verdict: AppVerdict = { outcome: 'retry', reason: 'not delivered' };
    for (let attempt = 0; attempt <= retryDelaysMs.length && !this.#stopping; attempt++) {
      if (attempt > 0) await this.#sleep(retryDelaysMs[attempt - 1]!);
      if (this.#stopping) break;
      verdict = await this.#deps.target.deliver(path, prepared, subscription, appTimeoutMs, this.#abort.signal);
      if (verdict.outcome !== 'retry') break;
      this.#log.debug(`delivery ${attempt + 1} of event ${id} to ${path} on ${this.#where()} failed: ${verdict.reason}`);
    }
    this.#deps.observer?.pubsubIngress(subscription.pubsubName, subscription.topic, verdict.outcome, performance.now() - t0);
    return this.#settle(message, id, verdict);
  }

  /** The messages of a bulk batch: one call per route path, then each entry retried alone until the app settles it. */
  async #processBulk(messages: Message[]): Promise<Map<Message, AckOutcome>> {
    const subscription = this.#subscription;
    const outcomes = new Map<Message, AckOutcome>();
    const byPath = new Map<string, BulkEntry[]>();
    const settled: Promise<unknown>[] = [];
    for (const message of messages) {
      const routed = this.#route(message, subscription);
      if ('settled' in routed) settled.push(routed.settled.then((outcome) => outcomes.set(message, outcome)));
      else byPath.set(routed.path, [...(byPath.get(routed.path) ?? []), { entryId: message.id, message, prepared: routed.prepared }]);
    }
    for (const [path, entries] of byPath) settled.push(this.#deliverBulk(path, entries, subscription, outcomes));
    await Promise.all(settled);
    return outcomes;
  }

  async #deliverBulk(path: string, entries: BulkEntry[], subscription: Subscription, outcomes: Map<Message, AckOutcome>): Promise<void> {
    const { retryDelaysMs, appTimeoutMs } = this.#deps.timings;
    const verdicts = new Map<string, AppVerdict>();
    const t0 = performance.now();
    let pending = entries;
    for (let attempt = 0; attempt <= retryDelaysMs.length && pending.length > 0 && !this.#stopping; attempt++) {
      if (attempt > 0) await this.#sleep(retryDelaysMs[attempt - 1]!);
      if (this.#stopping) break;
      const answer = await this.#deps.target.deliverBulk(path, pending, subscription, appTimeoutMs, this.#abort.signal);
      for (const [id, verdict] of answer) verdicts.set(id, verdict);
      pending = pending.filter((entry) => answer.get(entry.entryId)?.outcome === 'retry');
      if (pending.length > 0) this.#log.debug(`bulk delivery ${attempt + 1} to ${path} on ${this.#where()}: ${pending.length} of ${entries.length} entries to retry`);
    }
    const observer = this.#deps.observer;
    if (observer !== undefined) {
      const outcomes = { success: 0, retry: 0, drop: 0 };
      for (const { entryId } of entries) outcomes[verdicts.get(entryId)?.outcome ?? 'retry']++;
      observer.pubsubBulkIngress(subscription.pubsubName, subscription.topic, outcomes, performance.now() - t0);
    }
    await Promise.all(
      entries.map(async ({ entryId, message }) => {
        outcomes.set(message, await this.#settle(message, entryId, verdicts.get(entryId) ?? { outcome: 'retry', reason: 'not delivered' }));
      }),
    );
  }

  /** The ack for the app's last verdict on a message: a drop or exhausted retries go to the dead-letter topic, if any. */
  #settle(message: Message, id: string, verdict: AppVerdict): Promise<AckOutcome> | AckOutcome {
    switch (verdict.outcome) {
      case 'success':
        return 'success';
      case 'drop':
        this.#log.warn(`event ${id} on ${this.#where()} dropped: ${verdict.reason}`);
        return this.#deadLetterOr(message, 'drop');
      case 'retry':
        if (this.#stopping) return 'retry';
        this.#log.warn(`event ${id} on ${this.#where()} not delivered after ${this.#deps.timings.retryDelaysMs.length + 1} attempts: ${verdict.reason}`);
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
