// The canonical ABI glue of the pubsub world, on the memory discipline of canonical.h: lifting
// frees the host's blocks once read; results stay parked in `pubsub_parked()` (and arrays the
// ABI lays out differently from C++ in the shared arena) until the export's post-return.
// Layouts are the Canonical ABI's, as host/sandbox/abi-layout.ts computes them:
//
//   publish-request / bulk-publish-entry  size 36: topic|entry-id 0, data 8,
//                                         content-type option<string> 16 (ptr 20, len 24), metadata 28
//   bulk-publish-failure                  size 16: entry-id 0, error 8
//   message                               size 44: id 0, topic 8, data 16,
//                                         content-type option<string> 24 (ptr 28, len 32), metadata 36
//   ack-outcome                           u8: success 0, retry 1, drop 2
//   result<u64, error>                    size 24, align 8: discriminant 0; ok u64 8; err error 8 (case 8, message 12)
//   result<list<message>, error>,
//   result<list<bulk-publish-failure>, error>  size 16: discriminant 0; ok list 4 (ptr 4, len 8); err error 4
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "../pubsub.h"
#include "../snapshot.h"
#include "../types.h"
#include "canonical.h"

namespace tessera::detail {

constexpr std::size_t BULK_PUBLISH_ENTRY_SIZE = 36;
constexpr std::size_t BULK_PUBLISH_FAILURE_SIZE = 16;
constexpr std::size_t MESSAGE_SIZE = 44;

/** The results the host is reading, parked until the post-return; one call at a time. */
struct PubSubParked {
  Status status;
  std::vector<std::string> features;
  SubscribeResult subscribe;
  PullResult pull;
  BulkPublishResult bulk_publish;
  Bytes snapshot;
};

/**
 * The parked results, built on first use in static storage and never destroyed. Not a
 * namespace-scope object: its dynamic initialiser and exit-time destructor would then be
 * linked into every module that includes the SDK, state stores too.
 */
inline PubSubParked& pubsub_parked() {
  alignas(PubSubParked) static unsigned char storage[sizeof(PubSubParked)];
  static PubSubParked* parked = nullptr;
  if (parked == nullptr) parked = new (storage) PubSubParked();
  return *parked;
}

/** Releases what the last export lowered: its post-return, and the start of every export. */
inline void release_pubsub_results() {
  call_serial++;
  for (void* block : arena_blocks) std::free(block);
  arena_blocks.clear();
  pubsub_parked() = PubSubParked{};
}

inline AckOutcome lift_ack_outcome(std::uint32_t value) { return static_cast<AckOutcome>(checked_case(value, 3)); }

/** bulk-publish-entry: size 36; entry-id 0, data 8, content-type 16, metadata 28. */
inline BulkPublishEntry load_bulk_publish_entry(const std::uint8_t* p) {
  BulkPublishEntry entry;
  entry.entry_id = lift_string(load_ptr(p), load_u32(p + 4));
  entry.data = lift_bytes(load_ptr(p + 8), load_u32(p + 12));
  entry.content_type = lift_option_string(load_u8(p + 16), load_ptr(p + 20), load_u32(p + 24));
  entry.metadata = lift_metadata(load_ptr(p + 28), load_u32(p + 32));
  return entry;
}

/** message: size 44; id 0, topic 8, data 16, content-type 24, metadata 36. */
inline void lower_message(std::uint8_t* at, const Message& message) {
  lower_string(at, message.id);
  lower_string(at + 8, message.topic);
  lower_bytes(at + 16, message.data);
  lower_option_string(at + 24, message.content_type);
  lower_metadata(at + 36, message.metadata);
}

/** bulk-publish-failure: size 16; entry-id 0, error 8. */
inline void lower_bulk_publish_failure(std::uint8_t* at, const BulkPublishFailure& failure) {
  lower_string(at, failure.entry_id);
  lower_string(at + 8, failure.error);
}

/** result<list<T>, error>: size 16; discriminant 0, list (ptr 4, len 8) or error 4. */
template <class T, class Lower>
std::uint8_t* lower_list_result(const Result<std::vector<T>>& result, std::size_t elem_size, Lower lower) {
  if (!result.ok()) {
    store_u8(ret_area, 1);
    lower_error(ret_area + 4, result.error());
    return ret_area;
  }
  const std::vector<T>& items = *result;
  std::uint8_t* list = arena_alloc(elem_size * items.size());
  for (std::size_t i = 0; i < items.size(); i++) lower(list + elem_size * i, items[i]);
  store_u8(ret_area, 0);
  store_ptr(ret_area + 4, list);
  store_u32(ret_area + 8, static_cast<std::uint32_t>(items.size()));
  return ret_area;
}

inline std::uint8_t* park_pubsub_status(Status status) {
  pubsub_parked().status = std::move(status);
  lower_status(ret_area, pubsub_parked().status);
  return ret_area;
}

// ---------------------------------------------------------------------------------------
// The exports, one per WIT function; TESSERA_EXPORT_PUBSUB gives each its canonical name.

// init: func(config: metadata) -> result<_, error>
inline std::uint8_t* pubsub_export_init(PubSub& broker, std::uint8_t* ptr, std::uint32_t len) {
  release_pubsub_results();
  return park_pubsub_status(broker.init(lift_metadata(ptr, len)));
}

// features: func() -> list<string>
inline std::uint8_t* pubsub_export_features(PubSub& broker) {
  release_pubsub_results();
  pubsub_parked().features = broker.features();
  const std::vector<std::string>& features = pubsub_parked().features;
  std::uint8_t* list = arena_alloc(8 * features.size());
  for (std::size_t i = 0; i < features.size(); i++) lower_string(list + 8 * i, features[i]);
  store_ptr(ret_area, list);
  store_u32(ret_area + 4, static_cast<std::uint32_t>(features.size()));
  return ret_area;
}

// publish: func(req: publish-request) -> result<_, error>; the request arrives flat (9 values).
inline std::uint8_t* pubsub_export_publish(PubSub& broker, std::uint8_t* topic_ptr, std::uint32_t topic_len,
                                           std::uint8_t* data_ptr, std::uint32_t data_len, std::uint32_t content_type_is_some,
                                           std::uint8_t* content_type_ptr, std::uint32_t content_type_len,
                                           std::uint8_t* metadata_ptr, std::uint32_t metadata_len) {
  release_pubsub_results();
  PublishRequest req;
  req.topic = lift_string(topic_ptr, topic_len);
  req.data = lift_bytes(data_ptr, data_len);
  req.content_type = lift_option_string(content_type_is_some, content_type_ptr, content_type_len);
  req.metadata = lift_metadata(metadata_ptr, metadata_len);
  return park_pubsub_status(broker.publish(std::move(req)));
}

// bulk-publish: func(topic: string, entries: list<bulk-publish-entry>, metadata: metadata)
//   -> result<list<bulk-publish-failure>, error>
inline std::uint8_t* pubsub_export_bulk_publish(PubSub& broker, std::uint8_t* topic_ptr, std::uint32_t topic_len,
                                                std::uint8_t* entries_ptr, std::uint32_t entries_len,
                                                std::uint8_t* metadata_ptr, std::uint32_t metadata_len) {
  release_pubsub_results();
  std::string topic = lift_string(topic_ptr, topic_len);
  std::vector<BulkPublishEntry> entries =
      lift_list<BulkPublishEntry>(entries_ptr, entries_len, BULK_PUBLISH_ENTRY_SIZE, load_bulk_publish_entry);
  Metadata metadata = lift_metadata(metadata_ptr, metadata_len);
  pubsub_parked().bulk_publish = broker.bulk_publish(std::move(topic), std::move(entries), std::move(metadata));
  return lower_list_result(pubsub_parked().bulk_publish, BULK_PUBLISH_FAILURE_SIZE, lower_bulk_publish_failure);
}

// subscribe: func(topic: string, metadata: metadata) -> result<u64, error>
inline std::uint8_t* pubsub_export_subscribe(PubSub& broker, std::uint8_t* topic_ptr, std::uint32_t topic_len,
                                             std::uint8_t* metadata_ptr, std::uint32_t metadata_len) {
  release_pubsub_results();
  std::string topic = lift_string(topic_ptr, topic_len);
  pubsub_parked().subscribe = broker.subscribe(std::move(topic), lift_metadata(metadata_ptr, metadata_len));
  const SubscribeResult& result = pubsub_parked().subscribe;
  // result<u64, error>: align 8, so the payload starts at 8 for both cases.
  store_u8(ret_area, result.ok() ? 0 : 1);
  if (result.ok()) {
    const std::uint64_t id = *result;
    std::memcpy(ret_area + 8, &id, 8);
  } else {
    lower_error(ret_area + 8, result.error());
  }
  return ret_area;
}

// pull: func(subscription: u64, max-messages: u32, timeout-ms: u32) -> result<list<message>, error>
inline std::uint8_t* pubsub_export_pull(PubSub& broker, std::uint64_t subscription, std::uint32_t max_messages,
                                        std::uint32_t timeout_ms) {
  release_pubsub_results();
  pubsub_parked().pull = broker.pull(subscription, max_messages, timeout_ms);
  return lower_list_result(pubsub_parked().pull, MESSAGE_SIZE, lower_message);
}

// ack: func(subscription: u64, message-id: string, outcome: ack-outcome) -> result<_, error>
inline std::uint8_t* pubsub_export_ack(PubSub& broker, std::uint64_t subscription, std::uint8_t* id_ptr, std::uint32_t id_len,
                                       std::uint32_t outcome) {
  release_pubsub_results();
  std::string id = lift_string(id_ptr, id_len);
  return park_pubsub_status(broker.ack(subscription, std::move(id), lift_ack_outcome(outcome)));
}

// unsubscribe: func(subscription: u64) -> result<_, error>
inline std::uint8_t* pubsub_export_unsubscribe(PubSub& broker, std::uint64_t subscription) {
  release_pubsub_results();
  return park_pubsub_status(broker.unsubscribe(subscription));
}

// ping: func() -> result<_, error>
inline std::uint8_t* pubsub_export_ping(PubSub& broker) {
  release_pubsub_results();
  return park_pubsub_status(broker.ping());
}

// snapshot: func() -> list<u8>, lent without a copy (see export_snapshot in canonical.h).
inline std::uint8_t* pubsub_export_snapshot(Snapshotting& broker) {
  release_pubsub_results();
  pubsub_parked().snapshot = broker.snapshot();
  lower_bytes(ret_area, pubsub_parked().snapshot);
  return ret_area;
}

// restore: func(data: list<u8>) -> result<_, error>
inline std::uint8_t* pubsub_export_restore(Snapshotting& broker, std::uint8_t* ptr, std::uint32_t len) {
  release_pubsub_results();
  return park_pubsub_status(broker.restore(lift_bytes(ptr, len)));
}

}  // namespace tessera::detail
