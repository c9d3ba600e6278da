// The pubsub-broker world as AssemblyScript sees it: the typed values of `abi/wit/pubsub.wit`
// (generated: ./generated/pubsub.ts), what each method answers, the `PubSub` base class a
// broker extends (`SnapshottingPubSub` for one whose messages cross a hot swap), and its
// registration. The generated glue (./generated/pubsub-exports.ts) lifts and lowers them.
//
// A broker imports everything from this module, which also re-exports the shared types and
// host functions. It is deliberately not re-exported from "./index": pulling it into a state
// store's compilation changes the store's bytes (components-wasm/build.ts --check).
import { AckOutcome, BulkPublishEntry, BulkPublishFailure, Message, PublishRequest } from "./generated/pubsub";
import { errorKindName } from "./generated/types";
import { registerSnapshots, SnapshotReader, Snapshots, SnapshotWriter } from "./snapshot";
import { Metadata, StateError, StateErrorKind } from "./types";

export { AckOutcome, BulkPublishEntry, BulkPublishFailure, Message, PublishRequest } from "./generated/pubsub";
export { Box, Metadata, StateError, StateErrorKind } from "./types";
export { SnapshotReader, SnapshotWriter } from "./snapshot";
export { clock, log, LogLevel, random, sleep } from "./host";

/** The optional features a broker can advertise from `features()`, as Dapr names them. */
export namespace PubSubFeature {
  export const BULK_PUBLISH = "BULK_PUBLISH";
  export const MESSAGE_TTL = "MESSAGE_TTL";
}

/** What `bulkPublish` answers: the entries that failed (the rest were published), or an error for the whole call. */
export class BulkPublishResult {
  constructor(public failures: BulkPublishFailure[], public error: StateError | null) {}

  static ok(failures: BulkPublishFailure[] = []): BulkPublishResult {
    return new BulkPublishResult(failures, null);
  }

  static failed(error: StateError): BulkPublishResult {
    return new BulkPublishResult([], error);
  }
}

/** What `subscribe` answers: the subscription's id, or an error. */
export class SubscribeResult {
  constructor(public id: u64, public error: StateError | null) {}

  static ok(id: u64): SubscribeResult {
    return new SubscribeResult(id, null);
  }

  static failed(error: StateError): SubscribeResult {
    return new SubscribeResult(0, error);
  }
}

/** What `pull` answers: the messages waiting (possibly none), or an error. */
export class PullResult {
  constructor(public messages: Message[], public error: StateError | null) {}

  static ok(messages: Message[]): PullResult {
    return new PullResult(messages, null);
  }

  static failed(error: StateError): PullResult {
    return new PullResult([], error);
  }
}

/** The WIT name of an error's case (`not-found`, ...), as the other SDKs print it. */
export function errorCaseName(kind: StateErrorKind): string {
  return errorKindName(kind);
}

/**
 * A publish/subscribe broker, with the semantics of Dapr's pub/sub components. Extend it,
 * implement `publish`, `subscribe`, `pull`, `ack` and `unsubscribe`, override what else the
 * broker supports, and pass an instance to `registerPubSub`.
 *
 * The host pulls the messages of each subscription and acknowledges each one once the app
 * answered, so delivery is at least once. It calls `init` first, then one method at a time
 * and never re-enters: no locking is needed. Success is `null`; failure is a `StateError`.
 */
export abstract class PubSub {
  /**
   * Called once, before any other method, with the Component YAML's `spec.metadata`, to
   * which the host adds `consumerID` (the app id unless the YAML sets it): subscriptions with
   * one consumer id share the messages of a topic, as a consumer group. An error fails the load.
   */
  init(config: Metadata): StateError | null {
    return null;
  }

  /** The optional features the broker implements (`PubSubFeature.BULK_PUBLISH`, `PubSubFeature.MESSAGE_TTL`, ...). */
  features(): string[] {
    return [];
  }

  abstract publish(req: PublishRequest): StateError | null;

  /**
   * Publishes every entry and answers the ones that failed. The default calls `publish` once
   * per entry, with the entry's metadata plus the request's keys the entry does not set; each
   * failure carries the error as `case: message`.
   */
  bulkPublish(topic: string, entries: BulkPublishEntry[], metadata: Metadata): BulkPublishResult {
    const failures = new Array<BulkPublishFailure>();
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      const entryMetadata = entry.metadata;
      for (let j = 0; j < metadata.length; j++) {
        const key = metadata.keyAt(j);
        if (!entryMetadata.has(key)) entryMetadata.append(key, metadata.valueAt(j));
      }
      const error = this.publish(new PublishRequest(topic, entry.data, entry.contentType, entryMetadata));
      if (error !== null) failures.push(new BulkPublishFailure(entry.entryId, errorCaseName(error.kind) + ": " + error.message));
    }
    return BulkPublishResult.ok(failures);
  }

  /** Starts receiving `topic`; answers an id of the broker's choosing that `pull`, `ack` and `unsubscribe` name. */
  abstract subscribe(topic: string, metadata: Metadata): SubscribeResult;

  /**
   * Up to `maxMessages` messages of the subscription. A broker that can wait (it imports
   * `sleep`) may block up to `timeoutMs` for the first one; otherwise it answers at once, and
   * an empty list means nothing is waiting.
   */
  abstract pull(subscription: u64, maxMessages: u32, timeoutMs: u32): PullResult;

  /** Settles a delivered message: `AckOutcome.Retry` must bring it back soon. */
  abstract ack(subscription: u64, messageId: string, outcome: AckOutcome): StateError | null;

  /** Stops the subscription and releases what it holds. */
  abstract unsubscribe(subscription: u64): StateError | null;

  /** Checks the broker can serve; answer `StateError.unavailable(...)` when its backend is unreachable. */
  ping(): StateError | null {
    return null;
  }
}

let registered: PubSub | null = null;

/** Makes `broker` the implementation behind the component's exports. Call it once, at top level. */
export function registerPubSub(broker: PubSub): void {
  registered = broker;
}

/**
 * A broker whose messages live in its own memory and cross a hot swap, a restart after a trap
 * and hibernation (WIT interface `snapshot`): its entry file re-exports "./snapshot-exports"
 * beside "./pubsub-exports". The host calls `restore` on a new generation right after `init`,
 * with what `snapshot` wrote on the old one (maybe an older version of the broker): start every
 * snapshot with a format version byte, and keep reading every version you ever wrote.
 */
export abstract class SnapshottingPubSub extends PubSub {
  constructor() {
    super();
    registerSnapshots(new BrokerSnapshots(this));
  }

  /** Writes every message the broker holds (and what else it must keep) into `out`; it must not change the state. */
  abstract snapshot(out: SnapshotWriter): void;

  /** Replaces the state with a snapshot; a corrupt or unknown one answers `StateError.invalidArgument(...)` and changes nothing. */
  abstract restore(data: SnapshotReader): StateError | null;
}

class BrokerSnapshots extends Snapshots {
  constructor(private broker: SnapshottingPubSub) {
    super();
  }

  write(out: SnapshotWriter): void {
    this.broker.snapshot(out);
  }

  read(data: SnapshotReader): StateError | null {
    return this.broker.restore(data);
  }
}

/** The registered broker, which the generated exports call; traps with instructions when the entry file forgot to register one. */
export function pubsubImplementation(): PubSub {
  const broker = registered;
  if (broker === null) {
    throw new Error("no PubSub registered: call registerPubSub(new MyBroker()) at the top level of the entry file");
  }
  return broker;
}
