// The canonical ABI glue of the optional `snapshot-stream` interface (and of `snapshot` for a
// component that derives from StreamingSnapshot), for both kinds: each export first releases
// what the kind's last export lowered (`release`, which also counts the call), then parks its
// own result here until its post-return. A chunk is lent to the host as it was written, and a
// chunk to restore is read where the host put it: one chunk at a time in memory, never a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "../snapshot.h"
#include "../types.h"
#include "canonical.h"

namespace tessera::detail {

/** What a chunk reserves at once: the host asks for a few hundred KiB; a larger limit is grown into as needed. */
constexpr std::size_t CHUNK_RESERVE = 256 << 10;

enum class StreamPhase : std::uint8_t { idle, snapshot, restore };

/** Where the stream is between two of its calls, and which call left it so. */
struct StreamState {
  StreamPhase phase = StreamPhase::idle;
  /** Bytes of the snapshot being restored that earlier chunks held. */
  std::size_t restored = 0;
  std::uint32_t serial = 0;
};

inline StreamState stream_state;

/** The results the host is reading, parked until the post-return. */
struct StreamParked {
  Bytes chunk;
  Status status;
};

/** Built on first use in static storage and never destroyed (see pubsub_parked()). */
inline StreamParked& stream_parked() {
  alignas(StreamParked) static unsigned char storage[sizeof(StreamParked)];
  static StreamParked* parked = nullptr;
  if (parked == nullptr) parked = new (storage) StreamParked();
  return *parked;
}

/** The post-return of the stream's exports. It does not count as a call: the stream goes on. */
inline void release_stream_results() {
  for (void* block : arena_blocks) std::free(block);
  arena_blocks.clear();
  stream_parked() = StreamParked{};
}

/** Whether the last call into the module was the stream's own, in `phase`: any other call in between ends the stream. */
inline bool stream_continues(StreamPhase phase) { return stream_state.phase == phase && stream_state.serial + 1 == call_serial; }

inline void stream_goes_on(StreamPhase phase) {
  stream_state.phase = phase;
  stream_state.serial = call_serial;
}

inline std::uint8_t* park_stream_chunk(Bytes chunk) {
  stream_parked().chunk = std::move(chunk);
  lower_bytes(ret_area, stream_parked().chunk);
  return ret_area;
}

inline std::uint8_t* park_stream_status(Status status) {
  stream_parked().status = std::move(status);
  lower_status(ret_area, stream_parked().status);
  return ret_area;
}

/** Starts an export: `release` is the kind's (release_results, release_pubsub_results). */
inline void begin_stream_call(void (*release)()) {
  release();
  release_stream_results();
}

// snapshot-begin: func(); no result, so no post-return.
inline void export_snapshot_begin(StreamingSnapshot& component, void (*release)()) {
  begin_stream_call(release);
  component.snapshot_begin();
  stream_goes_on(StreamPhase::snapshot);
}

// snapshot-chunk: func(max-bytes: u32) -> list<u8>; empty once the snapshot is complete, or when
// none is under way (another call came since the last chunk).
inline std::uint8_t* export_snapshot_chunk(StreamingSnapshot& component, std::uint32_t max_bytes, void (*release)()) {
  begin_stream_call(release);
  if (!stream_continues(StreamPhase::snapshot)) {
    stream_state.phase = StreamPhase::idle;
    return park_stream_chunk(Bytes());
  }
  SnapshotChunk out(max_bytes, CHUNK_RESERVE);
  component.snapshot_chunk(out);
  if (out.empty()) {
    stream_state.phase = StreamPhase::idle;
  } else {
    stream_goes_on(StreamPhase::snapshot);
  }
  return park_stream_chunk(std::move(out.bytes()));
}

// restore-chunk: func(data: list<u8>) -> result<_, error>. The first chunk of a restore (or the
// first after any other call) starts a new one; a refused chunk ends it.
inline std::uint8_t* export_restore_chunk(StreamingSnapshot& component, std::uint8_t* ptr, std::uint32_t len, void (*release)()) {
  begin_stream_call(release);
  const std::size_t offset = stream_continues(StreamPhase::restore) ? stream_state.restored : 0;
  Status status = component.restore_chunk(len != 0 ? ptr : nullptr, len, offset);
  release_bytes(ptr, len);
  if (status.ok()) {
    stream_state.restored = offset + len;
    stream_goes_on(StreamPhase::restore);
  } else {
    stream_state.phase = StreamPhase::idle;
  }
  return park_stream_status(std::move(status));
}

// restore-end: func() -> result<_, error>
inline std::uint8_t* export_restore_end(StreamingSnapshot& component, void (*release)()) {
  begin_stream_call(release);
  // With no restore under way, an empty one (an empty first chunk is always read): the
  // component refuses it as an empty snapshot.
  if (!stream_continues(StreamPhase::restore)) static_cast<void>(component.restore_chunk(nullptr, 0, 0));
  stream_state.phase = StreamPhase::idle;
  return park_stream_status(component.restore_end());
}

// snapshot: func() -> list<u8>, the whole snapshot built from the stream's records.
inline std::uint8_t* export_whole_snapshot(StreamingSnapshot& component, void (*release)()) {
  begin_stream_call(release);
  stream_state.phase = StreamPhase::idle;
  return park_stream_chunk(component.snapshot());
}

// restore: func(data: list<u8>) -> result<_, error>, the whole snapshot as one chunk, read in place.
inline std::uint8_t* export_whole_restore(StreamingSnapshot& component, std::uint8_t* ptr, std::uint32_t len, void (*release)()) {
  begin_stream_call(release);
  stream_state.phase = StreamPhase::idle;
  Status status = component.restore_chunk(len != 0 ? ptr : nullptr, len, 0);
  release_bytes(ptr, len);
  if (status.ok()) status = component.restore_end();
  return park_stream_status(std::move(status));
}

}  // namespace tessera::detail
