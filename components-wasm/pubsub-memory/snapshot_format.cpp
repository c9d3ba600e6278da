// See snapshot_format.h.
#include "snapshot_format.h"

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace pubsub_memory {

namespace {

/** Counts the bytes a record takes, so a chunk can tell whether it fits before it is written. */
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

/** Writes a record into a chunk as the format lays it out. */
class ChunkOut {
 public:
  explicit ChunkOut(tessera::SnapshotChunk& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.u8(v); }
  void u32(std::uint32_t v) { out_.u32(v); }
  void u64(std::uint64_t v) { out_.u64(v); }
  void string(std::string_view s) {
    out_.u32(static_cast<std::uint32_t>(s.size()));
    if (!s.empty()) out_.put(s.data(), s.size());
  }
  void bytes(const tessera::Bytes& b) {
    out_.u32(static_cast<std::uint32_t>(b.size()));
    if (!b.empty()) out_.put(b.data(), b.size());
  }

 private:
  tessera::SnapshotChunk& out_;
};

/**
 * Reads the format back. A read past the end returns zero (or an empty string) and marks the
 * reader truncated, which stays marked: check `truncated()` before trusting what was read.
 */
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : start_(data), at_(start_), end_(start_ + size) {}

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

// ---------------------------------------------------------------------------------------
// Writing.

void SnapshotCursor::begin(const State& state) {
  state_ = &state;
  part_ = Part::header;
}

/** The record at the cursor, into a Sizer or a ChunkOut. */
template <class Out>
void SnapshotCursor::record(Out& out) const {
  const State& state = *state_;
  switch (part_) {
    case Part::header:
      out.u8(FORMAT_VERSION);
      out.u64(state.next_subscription);
      out.u64(state.next_delivery);
      out.u32(static_cast<std::uint32_t>(state.topics.size()));
      break;
    case Part::topic:
      out.string(topic_->first);
      out.u64(topic_->second.next_seq);
      out.u32(static_cast<std::uint32_t>(topic_->second.log.size()));
      break;
    case Part::message: {
      const auto& [seq, message] = *message_;
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
      break;
    }
    case Part::group_count:
      out.u32(static_cast<std::uint32_t>(topic_->second.groups.size()));
      break;
    case Part::group: {
      const auto& [consumer_id, group] = *group_;
      out.string(consumer_id);
      out.u64(group.cursor);
      out.u32(static_cast<std::uint32_t>(group.returned.size()));
      for (std::uint64_t seq : group.returned) out.u64(seq);
      break;
    }
    case Part::subscription_count:
      out.u32(static_cast<std::uint32_t>(state.subscriptions.size()));
      break;
    case Part::subscription:
      out.u64(subscription_->first);
      out.string(subscription_->second.topic_name);
      out.string(subscription_->second.consumer_id);
      break;
    case Part::delivery_count:
      out.u32(static_cast<std::uint32_t>(state.deliveries.size()));
      break;
    case Part::delivery:
      out.u64(delivery_->first);
      out.u64(delivery_->second.subscription);
      out.u64(delivery_->second.seq);
      out.u64(delivery_->second.deadline);
      break;
    case Part::done:
      break;
  }
}

void SnapshotCursor::next_topic() {
  if (++topic_ != state_->topics.end()) {
    part_ = Part::topic;
    return;
  }
  part_ = Part::subscription_count;
}

/** Moves the cursor past the record it is at. */
void SnapshotCursor::advance() {
  const State& state = *state_;
  switch (part_) {
    case Part::header:
      topic_ = state.topics.begin();
      part_ = topic_ != state.topics.end() ? Part::topic : Part::subscription_count;
      break;
    case Part::topic:
      message_ = topic_->second.log.begin();
      part_ = message_ != topic_->second.log.end() ? Part::message : Part::group_count;
      break;
    case Part::message:
      if (++message_ == topic_->second.log.end()) part_ = Part::group_count;
      break;
    case Part::group_count:
      group_ = topic_->second.groups.begin();
      if (group_ != topic_->second.groups.end()) {
        part_ = Part::group;
      } else {
        next_topic();
      }
      break;
    case Part::group:
      if (++group_ == topic_->second.groups.end()) next_topic();
      break;
    case Part::subscription_count:
      subscription_ = state.subscriptions.begin();
      part_ = subscription_ != state.subscriptions.end() ? Part::subscription : Part::delivery_count;
      break;
    case Part::subscription:
      if (++subscription_ == state.subscriptions.end()) part_ = Part::delivery_count;
      break;
    case Part::delivery_count:
      delivery_ = state.deliveries.begin();
      part_ = delivery_ != state.deliveries.end() ? Part::delivery : Part::done;
      break;
    case Part::delivery:
      if (++delivery_ == state.deliveries.end()) part_ = Part::done;
      break;
    case Part::done:
      break;
  }
}

void SnapshotCursor::write(tessera::SnapshotChunk& out) {
  if (state_ == nullptr) return;
  ChunkOut chunk(out);
  while (part_ != Part::done) {
    Sizer sizer;
    record(sizer);
    if (!out.fits(sizer.size())) return;
    // Sized first, so the chunk's buffer grows at most once per record.
    out.reserve(sizer.size());
    record(chunk);
    advance();
  }
  // Done: the next chunk is empty, and the cursor lets go of the state.
  state_ = nullptr;
}

// ---------------------------------------------------------------------------------------
// Reading.

tessera::Status SnapshotDecoder::chunk(const std::uint8_t* bytes, std::size_t size, std::size_t offset) {
  length_ = offset + size;
  Reader data(bytes, size);
  const auto ended = [&] {
    return refusal("it ends inside its data (" + std::to_string(length_) + " bytes; a read at byte " +
                   std::to_string(offset + static_cast<std::size_t>(data.truncated_at())) + " ran past the end)");
  };
  // One record per turn; a record read past the chunk's end is a truncated snapshot.
  while (data.remaining() != 0) {
    switch (part_) {
      case Part::header: {
        const std::uint8_t version = data.u8();
        if (version != FORMAT_VERSION) {
          return refusal("its format version is " + std::to_string(version) + ", and this version of pubsub.memory reads format version " +
                         std::to_string(FORMAT_VERSION) + " only (was it taken by a newer pubsub.memory?)");
        }
        state_.next_subscription = data.u64();
        state_.next_delivery = data.u64();
        topics_left_ = data.u32();
        if (data.truncated()) return ended();
        part_ = topics_left_ != 0 ? Part::topic : Part::subscription_count;
        break;
      }
      case Part::topic: {
        std::string name = data.string();
        const std::uint64_t next_seq = data.u64();
        const std::uint32_t message_count = data.u32();
        if (data.truncated()) return ended();
        auto [topic_it, inserted] = state_.topics.try_emplace(name);
        if (!inserted) return refusal("it holds topic " + quoted(name) + " twice");
        topic_ = &topic_it->second;
        topic_->next_seq = next_seq;
        topic_name_ = std::move(name);
        last_seq_ = 0;
        topics_left_--;
        left_ = message_count;
        part_ = left_ != 0 ? Part::message : Part::group_count;
        break;
      }
      case Part::message: {
        const std::uint64_t seq = data.u64();
        Stored stored;
        stored.expires_at = data.u64();
        const std::uint8_t has_content_type = data.u8();
        if (data.truncated()) return ended();
        if (has_content_type > 1) {
          return refusal("message " + std::to_string(seq) + " of topic " + quoted(topic_name_) + " has content-type flag " +
                         std::to_string(has_content_type) + " at byte " + std::to_string(offset + data.position() - 1));
        }
        if (has_content_type == 1) stored.content_type = data.string();
        stored.data = data.bytes();
        const std::uint32_t pairs = data.u32();
        for (std::uint32_t p = 0; p < pairs && !data.truncated(); p++) {
          std::string key = data.string();
          stored.metadata.append(std::move(key), data.string());
        }
        if (data.truncated()) return ended();
        if (seq <= last_seq_ || seq >= topic_->next_seq) {
          return refusal("topic " + quoted(topic_name_) + " holds message " + std::to_string(seq) + " out of order (after " +
                         std::to_string(last_seq_) + ", next " + std::to_string(topic_->next_seq) + ")");
        }
        last_seq_ = seq;
        if (stored.expires_at != 0) topic_->expiries.emplace(stored.expires_at, seq);
        topic_->log.emplace_hint(topic_->log.end(), seq, std::move(stored));
        if (--left_ == 0) part_ = Part::group_count;
        break;
      }
      case Part::group_count:
        left_ = data.u32();
        if (data.truncated()) return ended();
        part_ = left_ != 0 ? Part::group : topics_left_ != 0 ? Part::topic : Part::subscription_count;
        break;
      case Part::group: {
        std::string consumer_id = data.string();
        const std::uint64_t cursor = data.u64();
        const std::uint32_t returned = data.u32();
        if (data.truncated()) return ended();
        auto [group_it, group_inserted] = topic_->groups.try_emplace(consumer_id);
        if (!group_inserted) return refusal("topic " + quoted(topic_name_) + " holds consumer group " + quoted(consumer_id) + " twice");
        Group& group = group_it->second;
        group.cursor = cursor;
        if (cursor > topic_->next_seq) {
          return refusal("consumer group " + quoted(consumer_id) + " of topic " + quoted(topic_name_) + " is at message " +
                         std::to_string(cursor) + ", past the topic's end (" + std::to_string(topic_->next_seq) + ")");
        }
        for (std::uint32_t r = 0; r < returned; r++) {
          const std::uint64_t seq = data.u64();
          if (data.truncated()) return ended();
          if (seq >= cursor || !group.returned.insert(seq).second) {
            return refusal("consumer group " + quoted(consumer_id) + " of topic " + quoted(topic_name_) + " redelivers message " +
                           std::to_string(seq) + " twice or before it was delivered (cursor " + std::to_string(cursor) + ")");
          }
        }
        if (--left_ == 0) part_ = topics_left_ != 0 ? Part::topic : Part::subscription_count;
        break;
      }
      case Part::subscription_count:
        left_ = data.u32();
        if (data.truncated()) return ended();
        part_ = left_ != 0 ? Part::subscription : Part::delivery_count;
        break;
      case Part::subscription: {
        const std::uint64_t id = data.u64();
        std::string topic_name = data.string();
        std::string consumer_id = data.string();
        if (data.truncated()) return ended();
        const auto topic = state_.topics.find(topic_name);
        const auto group = topic == state_.topics.end() ? decltype(topic->second.groups.end()){} : topic->second.groups.find(consumer_id);
        if (topic == state_.topics.end() || group == topic->second.groups.end()) {
          return refusal("subscription " + std::to_string(id) + " names topic " + quoted(topic_name) + " and consumer group " +
                         quoted(consumer_id) + ", which it does not hold");
        }
        if (id == 0 || id >= state_.next_subscription) {
          return refusal("subscription id " + std::to_string(id) + " is outside 1 to " + std::to_string(state_.next_subscription - 1));
        }
        Subscription sub{std::move(topic_name), std::move(consumer_id), &topic->second, &group->second};
        if (!state_.subscriptions.emplace(id, std::move(sub)).second) return refusal("it holds subscription " + std::to_string(id) + " twice");
        if (--left_ == 0) part_ = Part::delivery_count;
        break;
      }
      case Part::delivery_count:
        left_ = data.u32();
        if (data.truncated()) return ended();
        part_ = left_ != 0 ? Part::delivery : Part::done;
        break;
      case Part::delivery: {
        const std::uint64_t id = data.u64();
        Delivery delivery;
        delivery.subscription = data.u64();
        delivery.seq = data.u64();
        delivery.deadline = data.u64();
        if (data.truncated()) return ended();
        const auto sub = state_.subscriptions.find(delivery.subscription);
        if (sub == state_.subscriptions.end()) {
          return refusal("delivery " + std::to_string(id) + " belongs to subscription " + std::to_string(delivery.subscription) +
                         ", which it does not hold");
        }
        if (id == 0 || id >= state_.next_delivery) {
          return refusal("delivery id " + std::to_string(id) + " is outside 1 to " + std::to_string(state_.next_delivery - 1));
        }
        Group& group = *sub->second.group;
        if (delivery.seq >= group.cursor || group.returned.count(delivery.seq) != 0 || !group.in_flight.insert(delivery.seq).second) {
          return refusal("delivery " + std::to_string(id) + " of message " + std::to_string(delivery.seq) + " of topic " +
                         quoted(sub->second.topic_name) + " conflicts with consumer group " + quoted(sub->second.consumer_id) +
                         " (cursor " + std::to_string(group.cursor) + ")");
        }
        if (!state_.deliveries.emplace(id, delivery).second) return refusal("it holds delivery " + std::to_string(id) + " twice");
        state_.deadlines.emplace(delivery.deadline, id);
        if (--left_ == 0) part_ = Part::done;
        break;
      }
      case Part::done:
        return refusal(std::to_string(data.remaining()) + " bytes follow its last delivery (it holds " + std::to_string(state_.topics.size()) +
                       " topics)");
    }
  }
  return tessera::ok();
}

tessera::Status SnapshotDecoder::end() const {
  if (length_ == 0) return refusal("it is empty (not even a format version byte)");
  if (part_ != Part::done) {
    return refusal("it ends inside its data (" + std::to_string(length_) + " bytes; a read at byte " + std::to_string(length_) +
                   " ran past the end)");
  }
  return tessera::ok();
}

}  // namespace pubsub_memory
