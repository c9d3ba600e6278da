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
// The records are the header (the first three fields) and the items: the host takes the
// snapshot in chunks of whole records (`snapshot-stream`), and the chunks joined are this format.
//
// Every later version of state.memory must keep reading every format version written here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include <tessera/tessera.h>

#include "item.h"
#include "ttl.h"

namespace state_memory {

constexpr std::uint8_t FORMAT_VERSION = 1;

using Items = std::unordered_map<std::string, Item>;

/**
 * Where a snapshot being taken has got to: the header, then every item that has not expired at
 * `now`, in the map's order. It holds an iterator into the map, which stays valid because no
 * other call comes until the snapshot ends (the SDK ends a stream that another call interrupts).
 */
class SnapshotCursor {
 public:
  /** Starts over on `items`, counting the items the header announces. */
  void begin(const Items& items, std::uint64_t etag_counter, std::uint64_t now);

  /** Writes the next whole records that fit into `out`; nothing once done. */
  void write(tessera::SnapshotChunk& out);

 private:
  const Items* items_ = nullptr;
  Items::const_iterator next_;
  std::uint64_t etag_counter_ = 0;
  std::uint64_t now_ = 0;
  std::uint32_t count_ = 0;
  bool header_written_ = false;
};

/** What a snapshot restores to. */
struct Restored {
  Items items;
  ExpiryQueue expiries;
  std::uint64_t etag_counter = 0;
};

/**
 * A snapshot being restored, chunk by chunk: the store it describes, built aside, leaving out
 * items that have expired by `now`. Every length is checked against the chunk, so a truncated or
 * corrupt snapshot is refused, never read past; a chunk ending inside a record is truncated.
 */
class SnapshotDecoder {
 public:
  explicit SnapshotDecoder(std::uint64_t now) : now_(now) {}

  /** Reads one chunk, which starts at byte `offset` of the snapshot; an error refuses the snapshot. */
  tessera::Status chunk(const std::uint8_t* data, std::size_t size, std::size_t offset);

  /** After the last chunk: whether the snapshot was complete. */
  tessera::Status end() const;

  /** Bytes read so far. */
  std::size_t length() const { return length_; }

  Restored& restored() { return restored_; }

 private:
  Restored restored_;
  std::uint64_t now_;
  std::size_t length_ = 0;
  bool started_ = false;
  std::uint32_t count_ = 0;
  std::uint32_t read_ = 0;
  /** Items read that had not expired: as many as distinct keys, unless a key comes twice. */
  std::size_t kept_ = 0;
};

}  // namespace state_memory
