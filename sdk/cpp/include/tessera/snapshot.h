// The optional WIT interfaces `snapshot` and `snapshot-stream`, shared by every kind whose
// data lives in the component's own memory: worlds `snapshotting-state-store` and
// `snapshotting-pubsub-broker`.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "types.h"

namespace tessera {

/**
 * The optional WIT interface `snapshot`: a state store or pub/sub broker whose data lives in
 * its own memory derives from this too and is exported with
 * `TESSERA_EXPORT_SNAPSHOTTING_STATE_STORE` or `TESSERA_EXPORT_SNAPSHOTTING_PUBSUB`, so its data
 * crosses a hot swap, a restart after a trap, and hibernation. The host calls `restore` on a new
 * generation right after `init`, with what `snapshot` returned on the old one — possibly an
 * older version of the component: start the bytes with a format version, and keep reading
 * every version you ever wrote.
 */
class Snapshotting {
 public:
  virtual ~Snapshotting() = default;

  /**
   * The component's whole state. Called between any two calls, possibly more than once; it
   * must not change the state. The SDK lends the returned bytes to the host without copying them.
   */
  virtual Bytes snapshot() = 0;

  /**
   * Replaces the state with `data`. Check every length against `data`: a truncated, corrupt or
   * unknown snapshot answers `Error::invalid_argument(...)` and leaves the state as it was.
   */
  virtual Status restore(Bytes data) = 0;
};

/**
 * The bytes of one chunk of a streamed snapshot being written: whole records, little-endian
 * numbers. It grows only to its limit (or to exactly what a lone larger record needs), never
 * by doubling past it.
 */
class SnapshotChunk {
 public:
  /** A chunk of about `limit` bytes at most (the maximum: no limit, a whole snapshot), reserving `reserve` bytes now. */
  SnapshotChunk(std::size_t limit, std::size_t reserve) : limit_(std::max<std::size_t>(limit, 1)) { bytes_.reserve(std::min(reserve, limit_)); }

  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

  /**
   * Whether a record of `size` more bytes belongs in this chunk: when it keeps the chunk within
   * its limit, or when the chunk is still empty (a record larger than the limit comes alone).
   */
  bool fits(std::size_t size) const { return bytes_.empty() || (size <= limit_ && bytes_.size() + size <= limit_); }

  /** Makes room for `size` more bytes at once: call it with a record's size before writing it. */
  void reserve(std::size_t size) {
    if (bytes_.capacity() - bytes_.size() >= size) return;
    const std::size_t doubled = bytes_.capacity() > limit_ / 2 ? limit_ : bytes_.capacity() * 2;
    bytes_.reserve(std::max(bytes_.size() + size, doubled));
  }

  void put(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
  }
  void u8(std::uint8_t v) { bytes_.push_back(v); }
  void u16(std::uint16_t v) { put(&v, 2); }
  void u32(std::uint32_t v) { put(&v, 4); }
  void u64(std::uint64_t v) { put(&v, 8); }

  /** The SDK's: empties the chunk, keeping its buffer. */
  void clear() { bytes_.clear(); }
  /** The SDK's: the bytes written. */
  Bytes& bytes() { return bytes_; }

 private:
  Bytes bytes_;
  std::size_t limit_;
};

/**
 * The optional WIT interface `snapshot-stream`, preferred by the host: derive from this
 * instead of `Snapshotting` and export with `TESSERA_EXPORT_STREAMING_STATE_STORE` or
 * `TESSERA_EXPORT_STREAMING_PUBSUB`, so a component whose data fills most of its memory hands it
 * over in bounded chunks and never needs a second copy of it. The snapshot is a sequence of
 * records: the component keeps a cursor, `snapshot_begin` rewinds it and each `snapshot_chunk`
 * writes the next whole records. Restoring reads each chunk's records into state kept aside
 * (`restore_chunk`), then puts it in place (`restore_end`).
 *
 * The records joined are the component's snapshot format, and `snapshot()`/`restore()` (the
 * whole-snapshot interface, which the macros export too) are built from them: a snapshot taken
 * either way restores either way.
 */
class StreamingSnapshot : public Snapshotting {
 public:
  /**
   * Starts a snapshot: rewinds the cursor and fixes what the snapshot holds (the time expiries
   * are judged at, the counts a header announces). No other call comes until the snapshot ends,
   * so iterators into the state stay valid between chunks.
   */
  virtual void snapshot_begin() = 0;

  /**
   * Writes the next whole records into `out`, each only while `out.fits(size)` (the first
   * always fits, however large: it then comes alone), and moves the cursor past them. Writes
   * nothing once every record was written: that empty chunk ends the snapshot.
   */
  virtual void snapshot_chunk(SnapshotChunk& out) = 0;

  /**
   * Reads the whole records of one chunk, which starts at byte `offset` of the whole snapshot:
   * 0 for the first chunk of a restore (start over, dropping any restore left unfinished). Keep
   * what is read aside; the state changes only in `restore_end`. A chunk that is corrupt or ends
   * inside a record answers `invalid_argument`, which ends the restore (drop what was kept).
   */
  virtual Status restore_chunk(const std::uint8_t* data, std::size_t size, std::size_t offset) = 0;

  /**
   * Every chunk was read: checks the snapshot is complete (a missing tail is a truncated
   * snapshot) and replaces the state with it, or answers an error and leaves the state as it was.
   */
  virtual Status restore_end() = 0;

  /**
   * The whole snapshot, from the stream: one pass in bounded chunks to learn its size, then a
   * second into one array of exactly that size, so nothing is copied or regrown on the way.
   */
  Bytes snapshot() final {
    constexpr std::size_t sizing_chunk = 64 << 10;
    std::size_t size = 0;
    {
      SnapshotChunk sizing(sizing_chunk, sizing_chunk);
      snapshot_begin();
      for (;;) {
        snapshot_chunk(sizing);
        if (sizing.empty()) break;
        size += sizing.size();
        sizing.clear();
      }
    }
    SnapshotChunk out(std::numeric_limits<std::size_t>::max(), size);
    snapshot_begin();
    // No limit: every record fits, so one chunk is the whole snapshot; the empty chunk after it
    // ends the snapshot.
    snapshot_chunk(out);
    SnapshotChunk end(1, 0);
    snapshot_chunk(end);
    return std::move(out.bytes());
  }

  /** A whole snapshot is one chunk of whole records. */
  Status restore(Bytes data) final {
    Status status = restore_chunk(data.data(), data.size(), 0);
    if (!status.ok()) return status;
    return restore_end();
  }
};

}  // namespace tessera
