// The bytes of a pubsub.memory snapshot: every topic's messages, every consumer group's
// cursor and redelivery queue, the subscriptions and the deliveries in flight, so a hot swap
// loses and repeats nothing. Little-endian; a string is a u32 byte length then its UTF-8
// bytes; bytes are a u32 length then the bytes. Format version 1:
//
//   u8      format version (1)
//   u64     next subscription id
//   u64     next delivery id (message ids are delivery ids in decimal)
//   u32     number of topics, then for each topic, in name order:
//   string    name
//   u64       next sequence number
//   u32       number of messages, then for each, in sequence order:
//   u64         sequence number
//   u64         expiry in ms since the Unix epoch; 0: never expires
//   u8          1 if a content type follows, else 0
//   string      content type, if present
//   bytes       data
//   u32         number of metadata pairs, then a string key and a string value for each
//   u32       number of consumer groups, then for each, in consumer id order:
//   string      consumer id
//   u64         cursor: the next sequence number the group has not been handed
//   u32         number of messages to deliver again, then a u64 sequence number for each
//   u32     number of subscriptions, then for each: u64 id, string topic, string consumer id
//   u32     number of deliveries in flight, then for each: u64 delivery id, u64 subscription id,
//           u64 sequence number, u64 visibility deadline in ms since the Unix epoch
//
// The state is written as it is, expired messages included (the next call on their topic
// drops them). The records, each whole in a chunk of a streamed snapshot (`snapshot-stream`),
// are: the header (version, ids, topic count); per topic its head (name, next sequence
// number, message count), each message, the group count, each group; the subscription count,
// each subscription; the delivery count, each delivery. The chunks joined are this format.
// Every later version of pubsub.memory must keep reading format version 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include <tessera/tessera.h>

#include "broker_state.h"

namespace pubsub_memory {

constexpr std::uint8_t FORMAT_VERSION = 1;

/** Which record comes next, in a snapshot being written or read. */
enum class Part : std::uint8_t { header, topic, message, group_count, group, subscription_count, subscription, delivery_count, delivery, done };

/**
 * Where a snapshot being taken has got to. It holds iterators into the state, which stay valid
 * because no other call comes until the snapshot ends (the SDK ends a stream another call
 * interrupts, and `begin` starts over).
 */
class SnapshotCursor {
 public:
  void begin(const State& state);

  /** Writes the next whole records that fit into `out`; nothing once done. */
  void write(tessera::SnapshotChunk& out);

 private:
  template <class Out>
  void record(Out& out) const;
  void advance();
  void next_topic();

  const State* state_ = nullptr;
  Part part_ = Part::done;
  std::map<std::string, Topic>::const_iterator topic_;
  std::map<std::uint64_t, Stored>::const_iterator message_;
  std::map<std::string, Group>::const_iterator group_;
  std::map<std::uint64_t, Subscription>::const_iterator subscription_;
  std::map<std::uint64_t, Delivery>::const_iterator delivery_;
};

/**
 * A snapshot being restored, chunk by chunk, into a state built aside. Every length is checked
 * against the chunk and every reference between its parts is checked, so a truncated or
 * corrupt snapshot is refused with `invalid-argument`, never read past or half applied; a
 * chunk that ends inside a record is a truncated snapshot.
 */
class SnapshotDecoder {
 public:
  /** Reads one chunk, which starts at byte `offset` of the snapshot; an error refuses the snapshot. */
  tessera::Status chunk(const std::uint8_t* data, std::size_t size, std::size_t offset);

  /** After the last chunk: whether the snapshot was complete. */
  tessera::Status end() const;

  /** Bytes read so far. */
  std::size_t length() const { return length_; }

  State& state() { return state_; }

 private:
  State state_;
  Part part_ = Part::header;
  std::size_t length_ = 0;
  /** Records of the current list still to read. */
  std::uint32_t left_ = 0;
  std::uint32_t topics_left_ = 0;
  Topic* topic_ = nullptr;
  std::string topic_name_;
  std::uint64_t last_seq_ = 0;
};

}  // namespace pubsub_memory
