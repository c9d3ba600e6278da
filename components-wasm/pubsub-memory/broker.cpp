// See broker.h.
#include "broker.h"

#include <charconv>
#include <optional>
#include <string_view>
#include <utility>

#include "snapshot_format.h"

namespace pubsub_memory {

using tessera::Error;
using tessera::Status;

namespace {

/** Longest TTL accepted: about 31 years, far below any overflow of ms since the epoch. */
constexpr std::uint64_t MAX_TTL_SECONDS = 1000000000;
/** Bounds for the config: the visibility timeout is at most a week. */
constexpr std::uint64_t MAX_VISIBILITY_TIMEOUT_MS = 7ull * 24 * 3600 * 1000;
constexpr std::uint64_t MAX_MESSAGES_PER_TOPIC_LIMIT = 100000000;

/** A whole decimal number in [1, max], or nothing. */
std::optional<std::uint64_t> parse_positive(std::string_view text, std::uint64_t max) {
  std::uint64_t value = 0;
  if (text.empty() || text.size() > 20 || text.front() < '0' || text.front() > '9') return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > max) return std::nullopt;
  return value;
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

Error no_subscription(std::uint64_t id) {
  return Error::not_found("subscription " + std::to_string(id) +
                          " does not exist (it was never made, was unsubscribed, or the broker restarted without its "
                          "snapshot): subscribe again");
}

}  // namespace

Status MemoryBroker::init(tessera::Metadata config) {
  if (const auto id = config.get("consumerID"); id && !id->empty()) consumer_id_ = std::string(*id);
  if (const auto text = config.get("visibilityTimeoutMs")) {
    const auto ms = parse_positive(*text, MAX_VISIBILITY_TIMEOUT_MS);
    if (!ms) {
      return Error::invalid_argument("pubsub.memory: visibilityTimeoutMs " + quoted(*text) +
                                     " is not a whole number of milliseconds from 1 to " + std::to_string(MAX_VISIBILITY_TIMEOUT_MS) +
                                     " (default " + std::to_string(DEFAULT_VISIBILITY_TIMEOUT_MS) + ")");
    }
    visibility_timeout_ms_ = *ms;
  }
  if (const auto text = config.get("maxMessagesPerTopic")) {
    const auto max = parse_positive(*text, MAX_MESSAGES_PER_TOPIC_LIMIT);
    if (!max) {
      return Error::invalid_argument("pubsub.memory: maxMessagesPerTopic " + quoted(*text) + " is not a whole number from 1 to " +
                                     std::to_string(MAX_MESSAGES_PER_TOPIC_LIMIT) + " (default " +
                                     std::to_string(DEFAULT_MAX_MESSAGES_PER_TOPIC) + ")");
    }
    max_messages_per_topic_ = *max;
  }
  tessera::log::debug("pubsub.memory initialised: consumerID " + quoted(consumer_id_) + ", visibilityTimeoutMs " +
                      std::to_string(visibility_timeout_ms_) + ", maxMessagesPerTopic " + std::to_string(max_messages_per_topic_));
  return {};
}

std::vector<std::string> MemoryBroker::features() { return {tessera::feature::bulk_publish, tessera::feature::message_ttl}; }

Status MemoryBroker::publish(tessera::PublishRequest req) {
  if (req.topic.empty()) return Error::invalid_argument("pubsub.memory: cannot publish to an empty topic name");
  std::uint64_t ttl_seconds = 0;
  if (const auto text = req.metadata.get("ttlInSeconds"); text && !text->empty()) {
    const auto ttl = parse_positive(*text, MAX_TTL_SECONDS);
    if (!ttl) {
      return Error::invalid_argument("ttlInSeconds " + quoted(*text) + " for topic " + quoted(req.topic) +
                                     " is not a whole number of seconds from 1 to " + std::to_string(MAX_TTL_SECONDS));
    }
    ttl_seconds = *ttl;
  }
  const std::uint64_t now = tessera::clock::now_ms();
  Topic& topic = state_.topics[req.topic];
  purge_expired(topic, now);
  if (topic.log.size() >= max_messages_per_topic_) {
    return Error::unavailable("topic " + quoted(req.topic) + " is full: " + std::to_string(topic.log.size()) +
                              " messages wait for their subscribers (maxMessagesPerTopic " + std::to_string(max_messages_per_topic_) +
                              "); retry once they have caught up, or raise maxMessagesPerTopic");
  }
  const std::uint64_t seq = topic.next_seq++;
  Stored& stored = topic.log[seq];
  stored.data = std::move(req.data);
  stored.content_type = std::move(req.content_type);
  stored.metadata = std::move(req.metadata);
  if (ttl_seconds != 0) {
    stored.expires_at = now + ttl_seconds * 1000;
    topic.expiries.emplace(stored.expires_at, seq);
  }
  return {};
}

tessera::SubscribeResult MemoryBroker::subscribe(std::string topic_name, tessera::Metadata metadata) {
  if (topic_name.empty()) return Error::invalid_argument("pubsub.memory: cannot subscribe to an empty topic name");
  std::string consumer_id = consumer_id_;
  if (const auto id = metadata.get("consumerID"); id && !id->empty()) consumer_id = std::string(*id);
  Topic& topic = state_.topics[topic_name];
  auto [group, created] = topic.groups.try_emplace(consumer_id);
  // A new group starts at the oldest message the topic still holds, so messages published
  // before anyone subscribed reach the first subscriber.
  if (created) group->second.cursor = topic.log.empty() ? topic.next_seq : topic.log.begin()->first;
  const std::uint64_t id = state_.next_subscription++;
  state_.subscriptions.emplace(id, Subscription{std::move(topic_name), std::move(consumer_id), &topic, &group->second});
  return id;
}

tessera::PullResult MemoryBroker::pull(std::uint64_t subscription, std::uint32_t max_messages, std::uint32_t timeout_ms) {
  (void)timeout_ms;  // this broker never waits: it imports no host function that can suspend
  const auto sub = state_.subscriptions.find(subscription);
  if (sub == state_.subscriptions.end()) return no_subscription(subscription);
  const std::uint64_t now = tessera::clock::now_ms();
  expire_deliveries(now);
  Topic& topic = *sub->second.topic;
  Group& group = *sub->second.group;
  purge_expired(topic, now);
  std::vector<tessera::Message> messages;
  while (messages.size() < max_messages) {
    std::map<std::uint64_t, Stored>::iterator it;
    if (!group.returned.empty()) {
      // Given back earlier: below the cursor, so before anything new.
      const std::uint64_t seq = *group.returned.begin();
      group.returned.erase(group.returned.begin());
      it = topic.log.find(seq);
      if (it == topic.log.end()) continue;
    } else {
      it = topic.log.lower_bound(group.cursor);
      if (it == topic.log.end()) break;
      group.cursor = it->first + 1;
    }
    const std::uint64_t seq = it->first;
    const std::uint64_t id = state_.next_delivery++;
    const std::uint64_t deadline = now + visibility_timeout_ms_;
    group.in_flight.insert(seq);
    state_.deliveries.emplace(id, Delivery{subscription, seq, deadline});
    state_.deadlines.emplace(deadline, id);
    const Stored& stored = it->second;
    messages.emplace_back(std::to_string(id), sub->second.topic_name, stored.data, stored.content_type, stored.metadata);
  }
  return messages;
}

Status MemoryBroker::ack(std::uint64_t subscription, std::string message_id, tessera::AckOutcome outcome) {
  const auto sub = state_.subscriptions.find(subscription);
  if (sub == state_.subscriptions.end()) return no_subscription(subscription);
  // A late ack still counts while the message has not been delivered again.
  const auto id = parse_positive(message_id, UINT64_MAX);
  const auto it = id ? state_.deliveries.find(*id) : state_.deliveries.end();
  if (it == state_.deliveries.end() || it->second.subscription != subscription) {
    return Error::not_found("message " + quoted(message_id) + " is not in flight on subscription " + std::to_string(subscription) +
                            ": it was acknowledged already, or its visibility timeout (" + std::to_string(visibility_timeout_ms_) +
                            " ms) passed and it was delivered again under a new id");
  }
  Topic& topic = *sub->second.topic;
  Group& group = *sub->second.group;
  const std::uint64_t seq = it->second.seq;
  end_delivery(it);
  if (outcome == tessera::AckOutcome::Retry) {
    give_back(topic, group, seq);
  } else {
    finish(topic, group, seq);
  }
  return {};
}

Status MemoryBroker::unsubscribe(std::uint64_t subscription) {
  const auto sub = state_.subscriptions.find(subscription);
  if (sub == state_.subscriptions.end()) return no_subscription(subscription);
  for (auto it = state_.deliveries.begin(); it != state_.deliveries.end();) {
    if (it->second.subscription != subscription) {
      ++it;
      continue;
    }
    const std::uint64_t seq = it->second.seq;
    end_delivery(it++);
    give_back(*sub->second.topic, *sub->second.group, seq);
  }
  state_.subscriptions.erase(sub);
  return {};
}

void MemoryBroker::snapshot_begin() { snapshotting_.begin(state_); }

void MemoryBroker::snapshot_chunk(tessera::SnapshotChunk& out) { snapshotting_.write(out); }

/** Reads a chunk into a state built aside; the broker itself changes only in `restore_end`. */
Status MemoryBroker::restore_chunk(const std::uint8_t* data, std::size_t size, std::size_t offset) {
  if (offset == 0) restoring_.emplace();
  if (!restoring_) {
    return tessera::Error::invalid_argument("pubsub.memory cannot restore this snapshot: a chunk at byte " + std::to_string(offset) +
                                            " arrived with no restore under way");
  }
  Status status = restoring_->chunk(data, size, offset);
  if (!status.ok()) restoring_.reset();
  return status;
}

Status MemoryBroker::restore_end() {
  if (!restoring_) restoring_.emplace();
  SnapshotDecoder decoder = std::move(*restoring_);
  restoring_.reset();
  Status status = decoder.end();
  if (!status.ok()) return status;
  state_ = std::move(decoder.state());
  std::size_t messages = 0;
  for (const auto& [name, topic] : state_.topics) messages += topic.log.size();
  tessera::log::debug("pubsub.memory restored " + std::to_string(state_.topics.size()) + " topics, " + std::to_string(messages) +
                      " messages, " + std::to_string(state_.subscriptions.size()) + " subscriptions and " +
                      std::to_string(state_.deliveries.size()) + " deliveries in flight from a snapshot of " +
                      std::to_string(decoder.length()) + " bytes");
  return {};
}

void MemoryBroker::expire_deliveries(std::uint64_t now) {
  while (!state_.deadlines.empty() && state_.deadlines.begin()->first <= now) {
    const auto it = state_.deliveries.find(state_.deadlines.begin()->second);
    if (it == state_.deliveries.end()) __builtin_trap();  // every deadline belongs to a delivery
    const Subscription& sub = state_.subscriptions.find(it->second.subscription)->second;
    const std::uint64_t seq = it->second.seq;
    end_delivery(it);
    give_back(*sub.topic, *sub.group, seq);
  }
}

void MemoryBroker::purge_expired(Topic& topic, std::uint64_t now) {
  while (!topic.expiries.empty() && topic.expiries.top().first <= now) {
    const auto [at, seq] = topic.expiries.top();
    topic.expiries.pop();
    const auto it = topic.log.find(seq);
    if (it == topic.log.end() || it->second.expires_at != at) continue;
    topic.log.erase(it);
    for (auto& [name, group] : topic.groups) group.returned.erase(seq);
  }
}

void MemoryBroker::finish(Topic& topic, Group& group, std::uint64_t seq) {
  group.in_flight.erase(seq);
  for (const auto& [name, other] : topic.groups) {
    if (other.needs(seq)) return;
  }
  topic.log.erase(seq);
}

void MemoryBroker::give_back(Topic& topic, Group& group, std::uint64_t seq) {
  group.in_flight.erase(seq);
  if (topic.log.count(seq) != 0) group.returned.insert(seq);
}

void MemoryBroker::end_delivery(std::map<std::uint64_t, Delivery>::iterator it) {
  state_.deadlines.erase({it->second.deadline, it->first});
  state_.deliveries.erase(it);
}

}  // namespace pubsub_memory
