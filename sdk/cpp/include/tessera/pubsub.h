// The pubsub world as C++ sees it: the `PubSub` base class a broker derives from, over the
// requests and messages of abi/wit/pubsub.wit (generated/pubsub.h: `PublishRequest`,
// `BulkPublishEntry`, `BulkPublishFailure`, `Message`, `AckOutcome`). A broker that keeps its
// messages in its own memory also derives from `Snapshotting` (snapshot.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "generated/pubsub.h"
#include "snapshot.h"
#include "types.h"

namespace tessera {

/** The optional features a broker can advertise from `features()`, as Dapr names them. */
namespace feature {
inline constexpr const char* bulk_publish = "BULK_PUBLISH";
inline constexpr const char* message_ttl = "MESSAGE_TTL";
}  // namespace feature

/** What `subscribe` answers: the subscription's id, or an error. */
using SubscribeResult = Result<std::uint64_t>;

/** What `pull` answers: zero or more messages, or an error. */
using PullResult = Result<std::vector<Message>>;

/** What `bulk_publish` answers: the entries that failed (the rest were published), or an error for the whole call. */
using BulkPublishResult = Result<std::vector<BulkPublishFailure>>;

/**
 * A publish/subscribe broker. Derive from it, implement `publish`, `subscribe`, `pull`, `ack`
 * and `unsubscribe`, override what else the broker supports, and name the class in
 * `TESSERA_EXPORT_PUBSUB`. The host pulls each subscription and acknowledges every message it
 * delivered once the app answered, so delivery is at least once. It calls one method at a time
 * and never re-enters: no locking. Each method owns its arguments.
 */
class PubSub {
 public:
  virtual ~PubSub() = default;

  /**
   * Called once, before any other method, with the Component YAML's `spec.metadata`. The host
   * adds `consumerID` (the app id, unless the YAML sets it): subscribers with one consumer id
   * share the messages of a topic, as a consumer group.
   */
  virtual Status init(Metadata config) {
    (void)config;
    return {};
  }

  /** The optional features the broker implements (`feature::bulk_publish`, `feature::message_ttl`, ...). */
  virtual std::vector<std::string> features() { return {}; }

  virtual Status publish(PublishRequest req) = 0;

  /**
   * Publishes every entry and answers the ones that failed. The default calls `publish` for
   * each entry in order, with the entry's metadata followed by the request metadata's keys the
   * entry does not set; an entry whose publish fails is answered with the error's message.
   */
  virtual BulkPublishResult bulk_publish(std::string topic, std::vector<BulkPublishEntry> entries, Metadata metadata) {
    std::vector<BulkPublishFailure> failures;
    for (BulkPublishEntry& entry : entries) {
      PublishRequest req;
      req.topic = topic;
      req.data = std::move(entry.data);
      req.content_type = std::move(entry.content_type);
      req.metadata = std::move(entry.metadata);
      for (const Metadata::Entry& pair : metadata) {
        if (!req.metadata.has(pair.first)) req.metadata.append(pair.first, pair.second);
      }
      Status status = publish(std::move(req));
      if (!status.ok()) failures.emplace_back(std::move(entry.entry_id), status.error().message);
    }
    return failures;
  }

  /** Starts receiving `topic`; answers an id for `pull`, `ack` and `unsubscribe`. */
  virtual SubscribeResult subscribe(std::string topic, Metadata metadata) = 0;

  /**
   * Up to `max_messages` messages of the subscription. A broker that can wait (it calls
   * `sleep::ms` or uses tcp) may block up to `timeout_ms` for the first one; otherwise it
   * answers at once, and an empty list means nothing is waiting.
   */
  virtual PullResult pull(std::uint64_t subscription, std::uint32_t max_messages, std::uint32_t timeout_ms) = 0;

  /** What became of the delivery `message_id` of the subscription. */
  virtual Status ack(std::uint64_t subscription, std::string message_id, AckOutcome outcome) = 0;

  /** Stops the subscription and releases what it holds. */
  virtual Status unsubscribe(std::uint64_t subscription) = 0;

  /** Checks the broker can serve; answer `Error::unavailable(...)` when its backend is unreachable. */
  virtual Status ping() { return {}; }
};

}  // namespace tessera
