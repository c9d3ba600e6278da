// The exports of the `pubsub-broker` world in canonical ABI form. A broker's entry file
// re-exports this module (`export * from ".../pubsub-exports"`); the build renames each
// `tessera_pubsub_<f>` to `tessera:components/pubsub@0.1.0#<f>` and each
// `cabi_post_tessera_pubsub_<f>` to `cabi_post_tessera:components/pubsub@0.1.0#<f>`, since
// AssemblyScript cannot spell those names. Offsets below are the layouts in abi/ABI.md
// (host/sandbox/abi-layout.ts).
import "./abort";
import {
  arenaAlloc,
  cabiRealloc,
  checkDiscriminant,
  freeList,
  liftBytes,
  liftMetadata,
  liftOptionString,
  liftString,
  lowerBytes,
  lowerError,
  lowerMetadata,
  lowerOptionString,
  lowerString,
  lowerStringList,
  lowerUnitResult,
  resetArena,
} from "./canonical";
import { AckOutcome, BulkPublishEntry, PublishRequest, registeredPubSub } from "./pubsub";

/**
 * Every export's results exceed MAX_FLAT_RESULTS (1), so each returns a pointer to this
 * area, which the host reads before calling the matching post-return. 24 bytes aligned 8 is
 * the largest result, `subscribe`'s `result<u64, error>`; calls are never concurrent.
 */
const RET_AREA = memory.data(24, 8);

const BULK_PUBLISH_ENTRY_SIZE: usize = 36;
const BULK_PUBLISH_FAILURE_SIZE: usize = 16;
const MESSAGE_SIZE: usize = 44;

export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  return cabiRealloc(oldPtr, oldSize, align, newSize);
}

function liftAckOutcome(value: u32): AckOutcome {
  checkDiscriminant(value, 3, "ack-outcome");
  return <AckOutcome>value;
}

/** bulk-publish-entry: size 36; entry-id 0, data 8, content-type 16, metadata 28. */
function loadBulkPublishEntry(p: usize): BulkPublishEntry {
  return new BulkPublishEntry(
    liftString(load<u32>(p), load<u32>(p, 4)),
    liftBytes(load<u32>(p, 8), load<u32>(p, 12)),
    liftOptionString(load<u8>(p, 16), load<u32>(p, 20), load<u32>(p, 24)),
    liftMetadata(load<u32>(p, 28), load<u32>(p, 32)),
  );
}

// init: func(config: metadata) -> result<_, error>
export function tessera_pubsub_init(configPtr: usize, configLen: usize): usize {
  resetArena();
  lowerUnitResult(RET_AREA, registeredPubSub().init(liftMetadata(configPtr, configLen)));
  return RET_AREA;
}

// features: func() -> list<string>
export function tessera_pubsub_features(): usize {
  resetArena();
  lowerStringList(RET_AREA, registeredPubSub().features());
  return RET_AREA;
}

// publish: func(req: publish-request) -> result<_, error>; the request arrives flat (9 values).
export function tessera_pubsub_publish(
  topicPtr: usize,
  topicLen: usize,
  dataPtr: usize,
  dataLen: usize,
  contentTypeIsSome: u32,
  contentTypePtr: usize,
  contentTypeLen: usize,
  metadataPtr: usize,
  metadataLen: usize,
): usize {
  resetArena();
  const req = new PublishRequest(
    liftString(topicPtr, topicLen),
    liftBytes(dataPtr, dataLen),
    liftOptionString(contentTypeIsSome, contentTypePtr, contentTypeLen),
    liftMetadata(metadataPtr, metadataLen),
  );
  lowerUnitResult(RET_AREA, registeredPubSub().publish(req));
  return RET_AREA;
}

// bulk-publish: func(topic: string, entries: list<bulk-publish-entry>, metadata: metadata)
//   -> result<list<bulk-publish-failure>, error>
export function tessera_pubsub_bulk_publish(
  topicPtr: usize,
  topicLen: usize,
  entriesPtr: usize,
  entriesLen: usize,
  metadataPtr: usize,
  metadataLen: usize,
): usize {
  resetArena();
  const topic = liftString(topicPtr, topicLen);
  const entries = new Array<BulkPublishEntry>(<i32>entriesLen);
  for (let i: usize = 0; i < entriesLen; i++) entries[<i32>i] = loadBulkPublishEntry(entriesPtr + i * BULK_PUBLISH_ENTRY_SIZE);
  freeList(entriesPtr, entriesLen);
  const result = registeredPubSub().bulkPublish(topic, entries, liftMetadata(metadataPtr, metadataLen));
  const error = result.error;
  if (error !== null) {
    store<u8>(RET_AREA, 1);
    lowerError(RET_AREA + 4, error);
    return RET_AREA;
  }
  // bulk-publish-failure: size 16; entry-id 0, error 8.
  const failures = result.failures;
  const count = <usize>failures.length;
  const list = arenaAlloc(count * BULK_PUBLISH_FAILURE_SIZE, 4);
  for (let i: usize = 0; i < count; i++) {
    const failure = failures[<i32>i];
    const at = list + i * BULK_PUBLISH_FAILURE_SIZE;
    lowerString(at, failure.entryId);
    lowerString(at + 8, failure.error);
  }
  store<u8>(RET_AREA, 0);
  store<u32>(RET_AREA, list, 4);
  store<u32>(RET_AREA, count, 8);
  return RET_AREA;
}

// subscribe: func(topic: string, metadata: metadata) -> result<u64, error>
// result<u64, error>: size 24 align 8; discriminant 0, ok u64 8, error 8 (case 8, message 12).
export function tessera_pubsub_subscribe(topicPtr: usize, topicLen: usize, metadataPtr: usize, metadataLen: usize): usize {
  resetArena();
  const result = registeredPubSub().subscribe(liftString(topicPtr, topicLen), liftMetadata(metadataPtr, metadataLen));
  const error = result.error;
  if (error !== null) {
    store<u8>(RET_AREA, 1);
    lowerError(RET_AREA + 8, error);
  } else {
    store<u8>(RET_AREA, 0);
    store<u64>(RET_AREA, result.id, 8);
  }
  return RET_AREA;
}

// pull: func(subscription: u64, max-messages: u32, timeout-ms: u32) -> result<list<message>, error>
export function tessera_pubsub_pull(subscription: u64, maxMessages: u32, timeoutMs: u32): usize {
  resetArena();
  const result = registeredPubSub().pull(subscription, maxMessages, timeoutMs);
  const error = result.error;
  if (error !== null) {
    store<u8>(RET_AREA, 1);
    lowerError(RET_AREA + 4, error);
    return RET_AREA;
  }
  // message: size 44; id 0, topic 8, data 16, content-type 24, metadata 36.
  const messages = result.messages;
  const count = <usize>messages.length;
  const list = arenaAlloc(count * MESSAGE_SIZE, 4);
  for (let i: usize = 0; i < count; i++) {
    const message = messages[<i32>i];
    const at = list + i * MESSAGE_SIZE;
    lowerString(at, message.id);
    lowerString(at + 8, message.topic);
    lowerBytes(at + 16, message.data);
    lowerOptionString(at + 24, message.contentType);
    lowerMetadata(at + 36, message.metadata);
  }
  store<u8>(RET_AREA, 0);
  store<u32>(RET_AREA, list, 4);
  store<u32>(RET_AREA, count, 8);
  return RET_AREA;
}

// ack: func(subscription: u64, message-id: string, outcome: ack-outcome) -> result<_, error>
export function tessera_pubsub_ack(subscription: u64, messageIdPtr: usize, messageIdLen: usize, outcome: u32): usize {
  resetArena();
  const messageId = liftString(messageIdPtr, messageIdLen);
  lowerUnitResult(RET_AREA, registeredPubSub().ack(subscription, messageId, liftAckOutcome(outcome)));
  return RET_AREA;
}

// unsubscribe: func(subscription: u64) -> result<_, error>
export function tessera_pubsub_unsubscribe(subscription: u64): usize {
  resetArena();
  lowerUnitResult(RET_AREA, registeredPubSub().unsubscribe(subscription));
  return RET_AREA;
}

// ping: func() -> result<_, error>
export function tessera_pubsub_ping(): usize {
  resetArena();
  lowerUnitResult(RET_AREA, registeredPubSub().ping());
  return RET_AREA;
}

/**
 * The post-return of every export: what the return area points to lives in the arena, so
 * releasing the arena frees it all. Exported once under each post-return name.
 */
function postReturn(retArea: usize): void {
  resetArena();
}

export {
  postReturn as cabi_post_tessera_pubsub_init,
  postReturn as cabi_post_tessera_pubsub_features,
  postReturn as cabi_post_tessera_pubsub_publish,
  postReturn as cabi_post_tessera_pubsub_bulk_publish,
  postReturn as cabi_post_tessera_pubsub_subscribe,
  postReturn as cabi_post_tessera_pubsub_pull,
  postReturn as cabi_post_tessera_pubsub_ack,
  postReturn as cabi_post_tessera_pubsub_unsubscribe,
  postReturn as cabi_post_tessera_pubsub_ping,
};
