// See ttl.h.
#include "ttl.h"

#include <algorithm>
#include <utility>

namespace state_memory {

std::int64_t parse_ttl_seconds(std::optional<std::string_view> text) {
  if (!text || text->empty()) return NO_TTL;
  const std::string_view s = *text;
  const bool negative = s[0] == '-';
  const std::size_t start = negative ? 1 : 0;
  if (s.size() == start || s.size() - start > 10) return INVALID_TTL;
  std::int64_t n = 0;
  for (std::size_t i = start; i < s.size(); i++) {
    if (s[i] < '0' || s[i] > '9') return INVALID_TTL;
    n = n * 10 + (s[i] - '0');
  }
  if (negative) return n <= 1 ? NO_TTL : INVALID_TTL;
  return n > 2147483647 ? INVALID_TTL : n;
}

namespace {

std::string pad(std::int64_t n, std::size_t width) {
  std::string digits = std::to_string(n);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

/** Earliest first: std::push_heap builds a max-heap, so the comparison is reversed. */
bool later(const Expiry& a, const Expiry& b) { return a.at > b.at; }

}  // namespace

std::string format_rfc3339(std::uint64_t epoch_ms) {
  const auto secs = static_cast<std::int64_t>(epoch_ms / 1000);
  const std::int64_t days = secs / 86400;
  const std::int64_t day_secs = secs % 86400;
  // Howard Hinnant's civil_from_days, for days since 1970-01-01 (never negative here).
  const std::int64_t z = days + 719468;
  const std::int64_t era = z / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = era * 400 + yoe + (month <= 2 ? 1 : 0);
  return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(day_secs / 3600, 2) + ":" +
         pad(day_secs / 60 % 60, 2) + ":" + pad(day_secs % 60, 2) + "Z";
}

void ExpiryQueue::push(std::uint64_t at, std::string key, std::string etag) {
  heap_.push_back({at, std::move(key), std::move(etag)});
  std::push_heap(heap_.begin(), heap_.end(), later);
}

std::optional<Expiry> ExpiryQueue::pop_due(std::uint64_t now) {
  if (heap_.empty() || heap_.front().at > now) return std::nullopt;
  std::pop_heap(heap_.begin(), heap_.end(), later);
  Expiry due = std::move(heap_.back());
  heap_.pop_back();
  return due;
}

}  // namespace state_memory
