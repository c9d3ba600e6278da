// See snapshot_format.h.
#include "snapshot_format.h"

#include <cstring>
#include <string_view>
#include <utility>

namespace state_memory {

namespace {

/** Version, ETag counter and item count. */
constexpr std::size_t HEADER_SIZE = 13;
/** Key length, ETag, expiry, content-type flag and value length. */
constexpr std::size_t ITEM_FIXED_SIZE = 25;

/** The code points of a UTF-8 string (which the host guarantees); a stray byte reads as U+FFFD. */
template <class Visit>
void each_code_point(std::string_view s, Visit visit) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (n == 0 || i + n > s.size()) {
      visit(0xfffd);
      i++;
      continue;
    }
    std::uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (std::size_t k = 1; k < n; k++) cp = cp << 6 | (static_cast<std::uint8_t>(s[i + k]) & 0x3f);
    visit(cp);
    i += n;
  }
}

std::size_t utf16_units(std::string_view s) {
  std::size_t units = 0;
  each_code_point(s, [&](std::uint32_t cp) { units += cp >= 0x10000 ? 2 : 1; });
  return units;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | cp >> 12);
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | cp >> 18);
    out += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

/** A string as the format lays it out: a u32 count of UTF-16 code units, then the units. */
void put_string(tessera::SnapshotChunk& out, std::string_view s) {
  out.u32(static_cast<std::uint32_t>(utf16_units(s)));
  each_code_point(s, [&](std::uint32_t cp) {
    if (cp >= 0x10000) {
      out.u16(static_cast<std::uint16_t>(0xd800 + ((cp - 0x10000) >> 10)));
      out.u16(static_cast<std::uint16_t>(0xdc00 + ((cp - 0x10000) & 0x3ff)));
    } else {
      out.u16(static_cast<std::uint16_t>(cp));
    }
  });
}

/** The bytes item `key` takes in a snapshot. */
std::size_t item_size(const std::string& key, const Item& item) {
  const auto& content_type = item.response.content_type;
  std::size_t size = ITEM_FIXED_SIZE + 2 * utf16_units(key) + item.response.value.size();
  if (content_type) size += 4 + 2 * utf16_units(*content_type);
  return size;
}

void put_item(tessera::SnapshotChunk& out, const std::string& key, const Item& item) {
  put_string(out, key);
  out.u64(item.etag_number);
  out.u64(item.expires_at);
  const auto& content_type = item.response.content_type;
  out.u8(content_type ? 1 : 0);
  if (content_type) put_string(out, *content_type);
  const tessera::Bytes& value = item.response.value;
  out.u32(static_cast<std::uint32_t>(value.size()));
  if (!value.empty()) out.put(value.data(), value.size());
}

/**
 * Reads the format back. A read past the end returns zero (or an empty string or array) and
 * marks the reader truncated, which stays marked: read on, then check `truncated()` before
 * trusting what was read — as the AssemblyScript SDK's SnapshotReader does.
 */
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : start_(data), at_(start_), end_(start_ + size) {}

  std::size_t length() const { return static_cast<std::size_t>(end_ - start_); }
  std::size_t position() const { return static_cast<std::size_t>(at_ - start_); }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - at_); }
  bool truncated() const { return truncated_at_ >= 0; }
  std::ptrdiff_t truncated_at() const { return truncated_at_; }

  std::uint8_t u8() { return number<std::uint8_t>(); }
  std::uint32_t u32() { return number<std::uint32_t>(); }
  std::uint64_t u64() { return number<std::uint64_t>(); }

  tessera::Bytes bytes() {
    const std::size_t size = u32();
    const std::uint8_t* at = take(size);
    return at == nullptr ? tessera::Bytes() : tessera::Bytes(at, at + size);
  }

  /** UTF-16LE to UTF-8; a lone surrogate becomes U+FFFD, as AssemblyScript hands it to the host. */
  std::string string() {
    const std::size_t units = u32();
    // 64-bit: a corrupt count must not wrap around to a short read.
    const std::uint8_t* p = take(std::uint64_t{units} * 2);
    std::string out;
    if (p == nullptr) return out;
    out.reserve(units);
    for (std::size_t i = 0; i < units; i++) {
      const std::uint32_t unit = p[2 * i] | p[2 * i + 1] << 8;
      if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < units) {
        const std::uint32_t low = p[2 * i + 2] | p[2 * i + 3] << 8;
        if (low >= 0xdc00 && low <= 0xdfff) {
          append_utf8(out, 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00));
          i++;
          continue;
        }
      }
      append_utf8(out, unit >= 0xd800 && unit <= 0xdfff ? 0xfffd : unit);
    }
    return out;
  }

 private:
  /** Consumes `size` bytes and returns where they start; nullptr, and truncated, when fewer remain. */
  const std::uint8_t* take(std::uint64_t size) {
    const std::uint8_t* at = at_;
    if (size > std::uint64_t{remaining()}) {
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

tessera::StateError refusal(const std::string& message) {
  return tessera::StateError::invalid_argument("state.memory cannot restore this snapshot: " + message);
}

}  // namespace

void SnapshotCursor::begin(const Items& items, std::uint64_t etag_counter, std::uint64_t now) {
  items_ = &items;
  next_ = items.begin();
  etag_counter_ = etag_counter;
  now_ = now;
  header_written_ = false;
  count_ = 0;
  for (const auto& [key, item] : items) {
    if (!item.expired(now)) count_++;
  }
}

void SnapshotCursor::write(tessera::SnapshotChunk& out) {
  if (items_ == nullptr) return;
  if (!header_written_) {
    if (!out.fits(HEADER_SIZE)) return;
    out.reserve(HEADER_SIZE);
    out.u8(FORMAT_VERSION);
    out.u64(etag_counter_);
    out.u32(count_);
    header_written_ = true;
  }
  for (; next_ != items_->end(); ++next_) {
    const auto& [key, item] = *next_;
    if (item.expired(now_)) continue;
    const std::size_t size = item_size(key, item);
    if (!out.fits(size)) return;
    // Sized first, so the chunk's buffer grows at most once per record.
    out.reserve(size);
    put_item(out, key, item);
  }
  // Done: the next chunk is empty, and the cursor lets go of the map.
  items_ = nullptr;
}

tessera::Status SnapshotDecoder::chunk(const std::uint8_t* bytes, std::size_t size, std::size_t offset) {
  length_ = offset + size;
  if (size == 0) return tessera::ok();
  Reader data(bytes, size);
  const auto ended = [&] {
    return refusal("it ends inside its data (" + std::to_string(length_) + " bytes; a read at byte " +
                   std::to_string(offset + static_cast<std::size_t>(data.truncated_at())) + " ran past the end)");
  };
  if (!started_) {
    const std::uint8_t version = data.u8();
    if (version != FORMAT_VERSION) {
      return refusal("its format version is " + std::to_string(version) + ", and this version of state.memory reads format version " +
                     std::to_string(FORMAT_VERSION) + " only (was it taken by a newer state.memory?)");
    }
    restored_.etag_counter = data.u64();
    count_ = data.u32();
    if (data.truncated()) return ended();
    started_ = true;
  }
  while (data.remaining() != 0) {
    const std::uint32_t i = read_;
    if (i == count_) {
      return refusal(std::to_string(data.remaining()) + " bytes follow its last item (it holds " + std::to_string(count_) + " items)");
    }
    std::string key = data.string();
    const std::uint64_t etag = data.u64();
    const std::uint64_t expires_at = data.u64();
    const std::uint8_t has_content_type = data.u8();
    if (has_content_type > 1) {
      return refusal("item " + std::to_string(i) + " (\"" + key + "\") has content-type flag " + std::to_string(has_content_type) +
                     " at byte " + std::to_string(offset + data.position() - 1));
    }
    std::optional<std::string> content_type;
    if (has_content_type == 1) content_type = data.string();
    tessera::Bytes value = data.bytes();
    if (data.truncated()) return ended();
    read_ = i + 1;
    if (etag > restored_.etag_counter) restored_.etag_counter = etag;
    if (expires_at != 0 && now_ >= expires_at) continue;
    Item item = Item::create(std::move(value), etag, std::move(content_type), expires_at);
    if (expires_at != 0) restored_.expiries.push(expires_at, key, item.etag);
    restored_.items.insert_or_assign(std::move(key), std::move(item));
    kept_++;
  }
  return tessera::ok();
}

tessera::Status SnapshotDecoder::end() const {
  if (length_ == 0) return refusal("it is empty (not even a format version byte)");
  if (!started_ || read_ < count_) {
    return refusal("it ends inside its data (" + std::to_string(length_) + " bytes; a read at byte " + std::to_string(length_) +
                   " ran past the end)");
  }
  if (restored_.items.size() != kept_) {
    return refusal("it holds the same key more than once (" + std::to_string(kept_) + " items, " + std::to_string(restored_.items.size()) +
                   " distinct keys)");
  }
  return tessera::ok();
}

}  // namespace state_memory
