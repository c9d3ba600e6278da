// The `PubSub` interface the pub/sub building block is written against, over the types of
// `abi/wit/pubsub.wit` (generated into `wit/pubsub.ts`). A building block never sees a wasm
// instance.
import type { AckOutcome, BulkPublishEntry, BulkPublishFailure, Message, PublishRequest } from './wit/pubsub.ts';
import type { Metadata } from './types.ts';

export type { AckOutcome, BulkPublishEntry, BulkPublishFailure, Message, PublishRequest } from './wit/pubsub.ts';

/** One live subscription to a topic. */
export interface PubSubSubscription {
  readonly topic: string;
  /**
   * Whether `pull` waits up to its timeout for a message (a broker that can block, such as
   * one speaking to Redis); otherwise it answers at once and the caller paces its polling.
   */
  readonly canWait: boolean;
  pull(maxMessages: number, timeoutMs: number): Promise<Message[]>;
  ack(messageId: string, outcome: AckOutcome): Promise<void>;
  /** Unsubscribes and releases what the subscription holds. */
  close(): Promise<void>;
}

/**
 * A live pub/sub broker. Every method rejects with a `TesseraError` whose `componentError`
 * carries the component's typed error when the component returned one.
 */
export interface PubSub {
  readonly features: ReadonlySet<string>;
  publish(req: PublishRequest): Promise<void>;
  bulkPublish(topic: string, entries: BulkPublishEntry[], metadata: Metadata): Promise<BulkPublishFailure[]>;
  subscribe(topic: string, metadata: Metadata): Promise<PubSubSubscription>;
  ping(): Promise<void>;
}
