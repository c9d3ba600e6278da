// A stored item of state.memory: its ETag, its expiry, and its answer to a get, prebuilt so a
// read only copies it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <tessera/tessera.h>

#include "ttl.h"

namespace state_memory {

struct Item {
  /** The ETag in decimal; this store's ETags are its counter. */
  std::string etag;
  std::uint64_t etag_number = 0;
  /** Ms since the Unix epoch; 0: never expires. */
  std::uint64_t expires_at = 0;
  tessera::GetResponse response;

  static Item create(tessera::Bytes value, std::uint64_t etag_number, std::optional<std::string> content_type,
                     std::uint64_t expires_at) {
    Item item;
    item.etag = std::to_string(etag_number);
    item.etag_number = etag_number;
    item.expires_at = expires_at;
    tessera::Metadata metadata;
    if (expires_at != 0) metadata.append("ttlExpireTime", format_rfc3339(expires_at));
    item.response = tessera::GetResponse(std::move(value), item.etag, std::move(content_type), std::move(metadata));
    return item;
  }

  bool expired(std::uint64_t now) const { return expires_at != 0 && now >= expires_at; }
};

}  // namespace state_memory
