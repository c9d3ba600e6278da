// See snapshot_format.h.
#include "snapshot_format.h"

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace pubsub_memory {

namespace {

/** Counts the bytes a snapshot takes, so the Writer fills one array that never grows. */
class Sizer {
 public:
  void u8(std::uint8_t) { size_ += 1; }
  void u32(std::uint32_t) { size_ += 4; }
  void u64(std::uint64_t) { size_ += 8; }
  void string(std::string_view s) { size_ += 4 + s.size(); }
  void bytes(const tessera::Bytes& b) { size_ += 4 + b.size(); }
  std::size_t size() const { return size_; }

 private:
  std::size_t size_ = 0;
};

class Writer {
 public:
  explicit Writer(std::size_t size) : out_(size) {}

  void u8(std::uint8_t v) { *at_++ = v; }
  void u32(std::uint32_t v) { put(&v, 4); }
  void u64(std::uint64_t v) { put(&v, 8); }
  void string(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    put(s.data(), s.size());
  }
  void bytes(const tessera::Bytes& b) {
    u32(static_cast<std::uint32_t>(b.size()));
    put(b.data(), b.size());
  }
  tessera::Bytes finish() && { return std::move(out_); }

 private:
  void put(const void* data, std::size_t size) {
    if (size == 0) return;
    std::memcpy(at_, data, size);
    at_ += size;
  }

  tessera::Bytes out_;
  std::uint8_t* at_ = out_.data();
};

template <class Out>
void write_state(Out& out, const State& state) {
  out.u8(FORMAT_VERSION);
  out.u64(state.next_subscription);
  out.u64(state.next_delivery);
  out.u32(static_cast<std::uint32_t>(state.topics.size()));
  for (const auto& [name, topic] : state.topics) {
    out.string(name);
    out.u64(topic.next_seq);
    out.u32(static_cast<std::uint32_t>(topic.log.size()));
    for (const auto& [seq, message] : topic.log) {
      out.u64(seq);
      out.u64(message.expires_at);
      out.u8(message.content_type ? 1 : 0);
      if (message.content_type) out.string(*message.content_type);
      out.bytes(message.data);
      out.u32(static_cast<std::uint32_t>(message.metadata.size()));
      for (const auto& [key, value] : message.metadata) {
        out.string(key);
        out.string(value);
      }
    }
    out.u32(static_cast<std::uint32_t>(topic.groups.size()));
    for (const auto& [consumer_id, group] : topic.groups) {
      out.string(consumer_id);
      out.u64(group.cursor);
      out.u32(static_cast<std::uint32_t>(group.returned.size()));
      for (std::uint64_t seq : group.returned) out.u64(seq);
    }
  }
  out.u32(static_cast<std::uint32_t>(state.subscriptions.size()));
  for (const auto& [id, sub] : state.subscriptions) {
    out.u64(id);
    out.string(sub.topic_name);
    out.string(sub.consumer_id);
  }
  out.u32(static_cast<std::uint32_t>(state.deliveries.size()));
  for (const auto& [id, delivery] : state.deliveries) {
    out.u64(id);
    out.u64(delivery.subscription);
    out.u64(delivery.seq);
    out.u64(delivery.deadline);
  }
}

/**
 * Reads the format back. A read past the end returns zero (or an empty string) and marks the
 * reader truncated, which stays marked: check `truncated()` before trusting what was read.
 */
class Reader {
 public:
  explicit Reader(const tessera::Bytes& data) : start_(data.data()), at_(start_), end_(start_ + data.size()) {}

  std::size_t length() const { return static_cast<std::size_t>(end_ - start_); }
  std::size_t position() const { return static_cast<std::size_t>(at_ - start_); }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - at_); }
  bool truncated() const { return truncated_at_ >= 0; }
  std::ptrdiff_t truncated_at() const { return truncated_at_; }

  std::uint8_t u8() { return number<std::uint8_t>(); }
  std::uint32_t u32() { return number<std::uint32_t>(); }
  std::uint64_t u64() { return number<std::uint64_t>(); }

  std::string string() {
    const std::size_t size = u32();
    const std::uint8_t* at = take(size);
    return at == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(at), size);
  }

  tessera::Bytes bytes() {
    const std::size_t size = u32();
    const std::uint8_t* at = take(size);
    return at == nullptr ? tessera::Bytes() : tessera::Bytes(at, at + size);
  }

 private:
  const std::uint8_t* take(std::size_t size) {
    const std::uint8_t* at = at_;
    if (size > remaining()) {
      if (truncated_at_ < 0) truncated_at_ = at - start_;
      at_ = end_;
      return nullptr;
    }
    at_ = at + size;
    return at;
  }

  template <class T>
  T number() {
    const std::uint8_t* at = take(sizeof(T));
    T v = 0;
    if (at != nullptr) std::memcpy(&v, at, sizeof(T));
    return v;
  }

  const std::uint8_t* start_;
  const std::uint8_t* at_;
  const std::uint8_t* end_;
  std::ptrdiff_t truncated_at_ = -1;
};

tessera::Error refusal(const std::string& message) {
  return tessera::Error::invalid_argument("pubsub.memory cannot restore this snapshot: " + message);
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

tessera::Bytes encode_snapshot(const State& state) {
  Sizer sizer;
  write_state(sizer, state);
  Writer out(sizer.size());
  write_state(out, state);
  return std::move(out).finish();
}

tessera::Result<State> decode_snapshot(const tessera::Bytes& bytes) {
  Reader data(bytes);
  if (data.length() == 0) return refusal("it is empty (not even a format version byte)");
  const std::uint8_t version = data.u8();
  if (version != FORMAT_VERSION) {
    return refusal("its format version is " + std::to_string(version) + ", and this version of pubsub.memory reads format version " +
                   std::to_string(FORMAT_VERSION) + " only (was it taken by a newer pubsub.memory?)");
  }
  // Each check below stops at truncation: what was read past the end is zeros, not data.
  const auto ended = [&] {
    return refusal("it ends inside its data (" + std::to_string(data.length()) + " bytes; a read at byte " +
                   std::to_string(data.truncated_at()) + " ran past the end)");
  };
  State state;
  state.next_subscription = data.u64();
  state.next_delivery = data.u64();
  const std::uint32_t topic_count = data.u32();
  for (std::uint32_t t = 0; t < topic_count && !data.truncated(); t++) {
    std::string name = data.string();
    const std::uint64_t next_seq = data.u64();
    if (data.truncated()) break;
    auto [topic_it, inserted] = state.topics.try_emplace(name);
    if (!inserted) return refusal("it holds topic " + quoted(name) + " twice");
    Topic& topic = topic_it->second;
    topic.next_seq = next_seq;
    const std::uint32_t message_count = data.u32();
    std::uint64_t last_seq = 0;
    for (std::uint32_t m = 0; m < message_count && !data.truncated(); m++) {
      const std::uint64_t seq = data.u64();
      Stored stored;
      stored.expires_at = data.u64();
      const std::uint8_t has_content_type = data.u8();
      if (data.truncated()) break;
      if (has_content_type > 1) {
        return refusal("message " + std::to_string(seq) + " of topic " + quoted(name) + " has content-type flag " +
                       std::to_string(has_content_type) + " at byte " + std::to_string(data.position() - 1));
      }
      if (has_content_type == 1) stored.content_type = data.string();
      stored.data = data.bytes();
      const std::uint32_t pairs = data.u32();
      for (std::uint32_t p = 0; p < pairs && !data.truncated(); p++) {
        std::string key = data.string();
        stored.metadata.append(std::move(key), data.string());
      }
      if (data.truncated()) break;
      if (seq <= last_seq || seq >= next_seq) {
        return refusal("topic " + quoted(name) + " holds message " + std::to_string(seq) + " out of order (after " +
                       std::to_string(last_seq) + ", next " + std::to_string(next_seq) + ")");
      }
      last_seq = seq;
      if (stored.expires_at != 0) topic.expiries.emplace(stored.expires_at, seq);
      topic.log.emplace_hint(topic.log.end(), seq, std::move(stored));
    }
    const std::uint32_t group_count = data.u32();
    for (std::uint32_t g = 0; g < group_count && !data.truncated(); g++) {
      std::string consumer_id = data.string();
      const std::uint64_t cursor = data.u64();
      if (data.truncated()) break;
      auto [group_it, group_inserted] = topic.groups.try_emplace(consumer_id);
      if (!group_inserted) return refusal("topic " + quoted(name) + " holds consumer group " + quoted(consumer_id) + " twice");
      Group& group = group_it->second;
      group.cursor = cursor;
      if (cursor > next_seq) {
        return refusal("consumer group " + quoted(consumer_id) + " of topic " + quoted(name) + " is at message " +
                       std::to_string(cursor) + ", past the topic's end (" + std::to_string(next_seq) + ")");
      }
      const std::uint32_t returned = data.u32();
      for (std::uint32_t r = 0; r < returned && !data.truncated(); r++) {
        const std::uint64_t seq = data.u64();
        if (data.truncated()) break;
        if (seq >= cursor || !group.returned.insert(seq).second) {
          return refusal("consumer group " + quoted(consumer_id) + " of topic " + quoted(name) + " redelivers message " +
                         std::to_string(seq) + " twice or before it was delivered (cursor " + std::to_string(cursor) + ")");
        }
      }
    }
  }
  const std::uint32_t subscription_count = data.u32();
  for (std::uint32_t s = 0; s < subscription_count && !data.truncated(); s++) {
    const std::uint64_t id = data.u64();
    std::string topic_name = data.string();
    std::string consumer_id = data.string();
    if (data.truncated()) break;
    const auto topic = state.topics.find(topic_name);
    const auto group = topic == state.topics.end() ? decltype(topic->second.groups.end()){} : topic->second.groups.find(consumer_id);
    if (topic == state.topics.end() || group == topic->second.groups.end()) {
      return refusal("subscription " + std::to_string(id) + " names topic " + quoted(topic_name) + " and consumer group " +
                     quoted(consumer_id) + ", which it does not hold");
    }
    if (id == 0 || id >= state.next_subscription) {
      return refusal("subscription id " + std::to_string(id) + " is outside 1 to " + std::to_string(state.next_subscription - 1));
    }
    Subscription sub{std::move(topic_name), std::move(consumer_id), &topic->second, &group->second};
    if (!state.subscriptions.emplace(id, std::move(sub)).second) return refusal("it holds subscription " + std::to_string(id) + " twice");
  }
  const std::uint32_t delivery_count = data.u32();
  for (std::uint32_t d = 0; d < delivery_count && !data.truncated(); d++) {
    const std::uint64_t id = data.u64();
    Delivery delivery;
    delivery.subscription = data.u64();
    delivery.seq = data.u64();
    delivery.deadline = data.u64();
    if (data.truncated()) break;
    const auto sub = state.subscriptions.find(delivery.subscription);
    if (sub == state.subscriptions.end()) {
      return refusal("delivery " + std::to_string(id) + " belongs to subscription " + std::to_string(delivery.subscription) +
                     ", which it does not hold");
    }
    if (id == 0 || id >= state.next_delivery) {
      return refusal("delivery id " + std::to_string(id) + " is outside 1 to " + std::to_string(state.next_delivery - 1));
    }
    Group& group = *sub->second.group;
    if (delivery.seq >= group.cursor || group.returned.count(delivery.seq) != 0 || !group.in_flight.insert(delivery.seq).second) {
      return refusal("delivery " + std::to_string(id) + " of message " + std::to_string(delivery.seq) + " of topic " +
                     quoted(sub->second.topic_name) + " conflicts with consumer group " + quoted(sub->second.consumer_id) +
                     " (cursor " + std::to_string(group.cursor) + ")");
    }
    if (!state.deliveries.emplace(id, delivery).second) return refusal("it holds delivery " + std::to_string(id) + " twice");
    state.deadlines.emplace(delivery.deadline, id);
  }
  if (data.truncated()) return ended();
  if (data.remaining() != 0) {
    return refusal(std::to_string(data.remaining()) + " bytes follow its last delivery (it holds " + std::to_string(state.topics.size()) +
                   " topics)");
  }
  return state;
}

}  // namespace pubsub_memory
