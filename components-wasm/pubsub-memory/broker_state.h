// What pubsub.memory holds: per topic, a log of the messages some consumer group still needs,
// and per consumer group a cursor into it, the messages it must deliver again and those in
// flight; the live subscriptions; and the deliveries awaiting an acknowledgement.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <tessera/tessera.h>

namespace pubsub_memory {

/** One published message, kept until every consumer group of its topic is done with it. */
struct Stored {
  tessera::Bytes data;
  std::optional<std::string> content_type;
  tessera::Metadata metadata;
  /** Ms since the Unix epoch; 0: never expires. */
  std::uint64_t expires_at = 0;

  bool expired(std::uint64_t now) const { return expires_at != 0 && now >= expires_at; }
};

/**
 * The subscribers of a topic that share one consumer id. Every message of the topic reaches
 * the group once (at least once): through the cursor the first time, through `returned` again
 * after a `retry`, a visibility timeout or an unsubscribe.
 */
struct Group {
  /** The next sequence number of the topic this group has not been handed yet. */
  std::uint64_t cursor = 0;
  /** Sequence numbers below the cursor to deliver again, earliest first (so order holds). */
  std::set<std::uint64_t> returned;
  /** Sequence numbers delivered to a subscriber of the group and not acknowledged yet. */
  std::set<std::uint64_t> in_flight;

  /** Whether the group has yet to finish with message `seq`. */
  bool needs(std::uint64_t seq) const { return seq >= cursor || returned.count(seq) != 0 || in_flight.count(seq) != 0; }
};

/** (expiry in ms, sequence number), earliest first. */
using Expiry = std::pair<std::uint64_t, std::uint64_t>;
using ExpiryQueue = std::priority_queue<Expiry, std::vector<Expiry>, std::greater<Expiry>>;

struct Topic {
  /** The sequence number the next message published gets; numbers start at 1. */
  std::uint64_t next_seq = 1;
  /** The messages some group still needs (or that wait for a first group), by sequence number. */
  std::map<std::uint64_t, Stored> log;
  /** Consumer groups by consumer id. A group outlives its subscriptions, like a Kafka or Redis group. */
  std::map<std::string, Group> groups;
  /** Messages with a TTL, to drop them without scanning the log. */
  ExpiryQueue expiries;
};

struct Subscription {
  std::string topic_name;
  std::string consumer_id;
  /** Into `State::topics`; topics and groups are never removed, and map nodes never move. */
  Topic* topic = nullptr;
  Group* group = nullptr;
};

/** A message handed to a subscription and not acknowledged yet. */
struct Delivery {
  std::uint64_t subscription = 0;
  std::uint64_t seq = 0;
  /** Ms since the Unix epoch after which the message goes back to its group's queue. */
  std::uint64_t deadline = 0;
};

struct State {
  std::map<std::string, Topic> topics;
  std::map<std::uint64_t, Subscription> subscriptions;
  /** By delivery id, which is also the message id a subscriber acknowledges (in decimal). */
  std::map<std::uint64_t, Delivery> deliveries;
  /** (deadline, delivery id), earliest first. */
  std::set<std::pair<std::uint64_t, std::uint64_t>> deadlines;
  std::uint64_t next_subscription = 1;
  std::uint64_t next_delivery = 1;
};

}  // namespace pubsub_memory
