// Time to live: parsing `ttlInSeconds`, formatting `ttlExpireTime`, and a queue that finds
// expired items without scanning the map.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace state_memory {

/** `ttlInSeconds` was absent, empty, `-1` or `0`: the item never expires (as in Dapr's in-memory store). */
constexpr std::int64_t NO_TTL = 0;
/** `ttlInSeconds` was not an integer in [-1, 2147483647] (Dapr's accepted range). */
constexpr std::int64_t INVALID_TTL = -1;

/** Seconds to live from a `ttlInSeconds` value: positive, NO_TTL or INVALID_TTL. */
std::int64_t parse_ttl_seconds(std::optional<std::string_view> text);

/** RFC 3339 in UTC with whole seconds, e.g. `2026-11-26T07:30:00Z`. */
std::string format_rfc3339(std::uint64_t epoch_ms);

/** An item that will expire: the key, and the ETag it had, so a later write is not purged. */
struct Expiry {
  std::uint64_t at;
  std::string key;
  std::string etag;
};

/** A binary min-heap of expiries, earliest first. */
class ExpiryQueue {
 public:
  bool empty() const { return heap_.empty(); }
  void push(std::uint64_t at, std::string key, std::string etag);
  /** Removes and returns the earliest expiry if it is due at `now`. */
  std::optional<Expiry> pop_due(std::uint64_t now);

 private:
  std::vector<Expiry> heap_;
};

}  // namespace state_memory
