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
// drops them). Every later version of pubsub.memory must keep reading format version 1.
#pragma once

#include <cstdint>

#include <tessera/tessera.h>

#include "broker_state.h"

namespace pubsub_memory {

constexpr std::uint8_t FORMAT_VERSION = 1;

tessera::Bytes encode_snapshot(const State& state);

/**
 * The state a snapshot describes. Every length is checked against the data and every
 * reference between its parts is checked, so a truncated or corrupt snapshot is refused with
 * `invalid-argument`, never read past or half applied.
 */
tessera::Result<State> decode_snapshot(const tessera::Bytes& data);

}  // namespace pubsub_memory
