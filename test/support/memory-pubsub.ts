// The tests' one in-memory pub/sub double: a JS broker that honours the `PubSub` interface,
// without the sandbox: ordered per topic, consumer groups (subscriptions with one consumer id
// share a topic's messages; each group gets every message), redelivery of what is acked `retry` or
// left unacked by a closed subscription, and an optional waiting `pull`. It can be made to
// fail (down) and to refuse chosen messages, and it counts what it was asked, so tests can
// see that nothing spins.
import type { AckOutcome, BulkPublishEntry, BulkPublishFailure, Message, PublishRequest, PubSub, PubSubSubscription } from '../../abi/ts/pubsub.ts';
import type { Metadata } from '../../abi/ts/types.ts';
import { TesseraError } from '../../host/errors.ts';

interface Entry {
  seq: number;
  topic: string;
  data: Uint8Array;
  contentType?: string;
  metadata: Metadata;
}

class Group {
  /** Entries ready for delivery, in publish order. */
  readonly ready: Entry[] = [];
  readonly inflight = new Map<string, Entry>();
  readonly #waiters = new Set<() => void>();

  push(entry: Entry): void {
    const at = this.ready.findIndex((e) => e.seq > entry.seq);
    if (at === -1) this.ready.push(entry);
    else this.ready.splice(at, 0, entry);
    for (const wake of this.#waiters) wake();
  }

  waitForEntry(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }
}

export interface MemoryBrokerOptions {
  /** Whether `pull` waits for a message (a broker like Redis); false answers at once. */
  canWait?: boolean;
  /** Features advertised by every client (`BULK_PUBLISH`, `MESSAGE_TTL`, ...). */
  features?: string[];
}

/** What the broker has been asked, for assertions. */
export interface BrokerStats {
  pulls: number;
  subscribes: number;
  closes: number;
  acks: Record<AckOutcome, number>;
}

export class MemoryBroker {
  readonly canWait: boolean;
  readonly features: ReadonlySet<string>;
  readonly stats: BrokerStats = { pulls: 0, subscribes: 0, closes: 0, acks: { success: 0, retry: 0, drop: 0 } };
  /** Everything published, per topic, in order. */
  readonly published = new Map<string, Entry[]>();
  /** While true every call fails, as a broker that cannot be reached. */
  down = false;
  /** Refuses a message with the returned error (undefined: accepted). */
  refuse: ((topic: string, data: Uint8Array) => string | undefined) | undefined;
  readonly #groups = new Map<string, Group>();
  #seq = 0;
  #deliveries = 0;

  constructor(options: MemoryBrokerOptions = {}) {
    this.canWait = options.canWait ?? false;
    this.features = new Set(options.features ?? ['BULK_PUBLISH']);
  }

  /** A `PubSub` whose subscriptions join consumer group `consumerId` (the app id, as the host sets it). */
  client(consumerId: string): PubSub {
    return {
      features: this.features,
      publish: async (req) => this.#publish(req),
      bulkPublish: async (topic, entries, metadata) => this.#bulkPublish(topic, entries, metadata),
      subscribe: async (topic) => this.#subscribe(consumerId, topic),
      ping: async () => this.#check(),
    };
  }

  /** The data of every message published to `topic`, as text. */
  texts(topic: string): string[] {
    return (this.published.get(topic) ?? []).map((e) => new TextDecoder().decode(e.data));
  }

  #check(): void {
    if (this.down) throw new TesseraError('ERR_INTERNAL', 'memory broker is down', { componentError: { tag: 'unavailable', val: 'memory broker is down' } });
  }

  #publish(req: PublishRequest): void {
    this.#check();
    const refused = this.refuse?.(req.topic, req.data);
    if (refused !== undefined) throw new TesseraError('ERR_INTERNAL', refused, { componentError: { tag: 'internal', val: refused } });
    const entry: Entry = { seq: ++this.#seq, topic: req.topic, data: req.data, metadata: req.metadata };
    if (req.contentType !== undefined) entry.contentType = req.contentType;
    this.published.set(req.topic, [...(this.published.get(req.topic) ?? []), entry]);
    for (const [key, group] of this.#groups) if (key.startsWith(`${req.topic}\u0000`)) group.push(entry);
  }

  #bulkPublish(topic: string, entries: BulkPublishEntry[], metadata: Metadata): BulkPublishFailure[] {
    this.#check();
    const failures: BulkPublishFailure[] = [];
    for (const e of entries) {
      try {
        this.#publish({ topic, data: e.data, contentType: e.contentType, metadata: e.metadata.length > 0 ? e.metadata : metadata });
      } catch (err) {
        failures.push({ entryId: e.entryId, error: (err as Error).message });
      }
    }
    return failures;
  }

  #subscribe(consumerId: string, topic: string): PubSubSubscription {
    this.#check();
    this.stats.subscribes++;
    const key = `${topic}\u0000${consumerId}`;
    let group = this.#groups.get(key);
    if (group === undefined) {
      // A new group starts at the end of the topic: it gets what is published from now on.
      group = new Group();
      this.#groups.set(key, group);
    }
    const g = group;
    const mine = new Set<string>();
    let closed = false;
    const toMessage = (id: string, e: Entry): Message => {
      const message: Message = { id, topic: e.topic, data: e.data, metadata: e.metadata };
      if (e.contentType !== undefined) message.contentType = e.contentType;
      return message;
    };
    return {
      topic,
      canWait: this.canWait,
      pull: async (maxMessages, timeoutMs) => {
        this.#check();
        this.stats.pulls++;
        if (closed) throw new TesseraError('ERR_INTERNAL', 'subscription is closed');
        if (g.ready.length === 0 && this.canWait && timeoutMs > 0) await g.waitForEntry(timeoutMs);
        return g.ready.splice(0, maxMessages).map((e) => {
          const id = `d${++this.#deliveries}`;
          g.inflight.set(id, e);
          mine.add(id);
          return toMessage(id, e);
        });
      },
      ack: async (messageId, outcome) => {
        this.#check();
        const e = g.inflight.get(messageId);
        if (e === undefined) throw new TesseraError('ERR_INTERNAL', `unknown message id ${messageId}`);
        this.stats.acks[outcome]++;
        g.inflight.delete(messageId);
        mine.delete(messageId);
        if (outcome === 'retry') g.push(e);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        this.stats.closes++;
        // Unacked messages go back to the group, for the next subscriber.
        for (const id of mine) {
          const e = g.inflight.get(id);
          g.inflight.delete(id);
          if (e !== undefined) g.push(e);
        }
        mine.clear();
      },
    };
  }
}
