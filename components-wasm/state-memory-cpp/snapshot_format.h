// The bytes of a state.memory snapshot: the format of the AssemblyScript build
// (components-wasm/state-memory/assembly/snapshot-format.ts), read and written alike, so a hot
// swap between the two builds of `state.memory` keeps the data. Little-endian; a string is a
// u32 count of UTF-16 code units, then the code units (UTF-16LE, as AssemblyScript holds
// strings); bytes are a u32 length, then the bytes. Format version 1:
//
//   u8      format version (1)
//   u64     ETag counter: the last ETag the store handed out
//   u32     number of items, then for each item:
//   string    key
//   u64       ETag (this store's ETags are its counter, in decimal)
//   u64       expiry in ms since the Unix epoch; 0: never expires
//   u8        1 if a content type follows, else 0
//   string    content type, if present
//   bytes     value
//
// Every later version of state.memory must keep reading every format version written here.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include <tessera/tessera.h>

#include "item.h"
#include "ttl.h"

namespace state_memory {

constexpr std::uint8_t FORMAT_VERSION = 1;

using Items = std::unordered_map<std::string, Item>;

/** Every item of `items` that has not expired at `now`, and the ETag counter. */
tessera::Bytes encode_snapshot(const Items& items, std::uint64_t etag_counter, std::uint64_t now);

/** What a snapshot restores to. */
struct Restored {
  Items items;
  ExpiryQueue expiries;
  std::uint64_t etag_counter = 0;
};

/**
 * The store a snapshot describes, leaving out items that have expired by `now`. Every length
 * is checked against the data, so a truncated or corrupt snapshot is refused, never read past.
 */
tessera::Result<Restored> decode_snapshot(const tessera::Bytes& data, std::uint64_t now);

}  // namespace state_memory
