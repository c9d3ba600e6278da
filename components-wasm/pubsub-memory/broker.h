// The pubsub.memory broker: publish appends to a topic's log; each consumer group (one per
// consumer id) walks the log in publish order; a pulled message stays invisible until it is
// acknowledged or its visibility timeout passes; snapshots carry everything across a hot swap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tessera/tessera.h>

#include "broker_state.h"
#include "snapshot_format.h"

namespace pubsub_memory {

constexpr std::uint64_t DEFAULT_VISIBILITY_TIMEOUT_MS = 60000;
constexpr std::uint64_t DEFAULT_MAX_MESSAGES_PER_TOPIC = 100000;
/** The consumer group of subscriptions when neither the config nor the subscription names one. */
constexpr const char* DEFAULT_CONSUMER_ID = "default";

class MemoryBroker final : public tessera::PubSub, public tessera::StreamingSnapshot {
 public:
  tessera::Status init(tessera::Metadata config) override;
  std::vector<std::string> features() override;
  tessera::Status publish(tessera::PublishRequest req) override;
  tessera::SubscribeResult subscribe(std::string topic, tessera::Metadata metadata) override;
  tessera::PullResult pull(std::uint64_t subscription, std::uint32_t max_messages, std::uint32_t timeout_ms) override;
  tessera::Status ack(std::uint64_t subscription, std::string message_id, tessera::AckOutcome outcome) override;
  tessera::Status unsubscribe(std::uint64_t subscription) override;
  void snapshot_begin() override;
  void snapshot_chunk(tessera::SnapshotChunk& out) override;
  tessera::Status restore_chunk(const std::uint8_t* data, std::size_t size, std::size_t offset) override;
  tessera::Status restore_end() override;

 private:
  /** Puts every delivery whose visibility timeout has passed back in its group's queue. */
  void expire_deliveries(std::uint64_t now);
  /** Drops the messages of `topic` whose TTL has run out. */
  static void purge_expired(Topic& topic, std::uint64_t now);
  /** Group `group` is done with message `seq`: drops it once no group of the topic needs it. */
  static void finish(Topic& topic, Group& group, std::uint64_t seq);
  /** Message `seq` goes back to the front of its group's queue (if it has not expired). */
  static void give_back(Topic& topic, Group& group, std::uint64_t seq);
  void end_delivery(std::map<std::uint64_t, Delivery>::iterator it);

  State state_;
  std::string consumer_id_ = DEFAULT_CONSUMER_ID;
  std::uint64_t visibility_timeout_ms_ = DEFAULT_VISIBILITY_TIMEOUT_MS;
  std::uint64_t max_messages_per_topic_ = DEFAULT_MAX_MESSAGES_PER_TOPIC;
  /** The snapshot being taken, between `snapshot_begin` and its last chunk. */
  SnapshotCursor snapshotting_;
  /** The snapshot being restored, between its first chunk and `restore_end`. */
  std::optional<SnapshotDecoder> restoring_;
};

}  // namespace pubsub_memory
