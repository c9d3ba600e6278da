// The handler the generated `snapshot-stream` and `snapshot` exports call for a component that
// derives from StreamingSnapshot: it keeps where the stream is between its calls, so that any
// other call in between ends it, and reads every chunk to restore in place. A chunk is lent to
// the host as it was written: one chunk at a time in memory, never a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "../snapshot.h"
#include "../types.h"
#include "runtime.h"

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

/** The WIT functions of `snapshot` and `snapshot-stream` over a StreamingSnapshot. Each call has begun (begin_call) before it gets here. */
class StreamExports {
 public:
  explicit StreamExports(StreamingSnapshot& component) : component_(component) {}

  // snapshot-begin: func()
  void snapshot_begin() {
    component_.snapshot_begin();
    goes_on(StreamPhase::snapshot);
  }

  // snapshot-chunk: func(max-bytes: u32) -> list<u8>; empty once the snapshot is complete, or
  // when none is under way (another call came since the last chunk).
  Bytes snapshot_chunk(std::uint32_t max_bytes) {
    if (!continues(StreamPhase::snapshot)) {
      stream_state.phase = StreamPhase::idle;
      return {};
    }
    SnapshotChunk out(max_bytes, CHUNK_RESERVE);
    component_.snapshot_chunk(out);
    if (out.empty()) {
      stream_state.phase = StreamPhase::idle;
    } else {
      goes_on(StreamPhase::snapshot);
    }
    return std::move(out.bytes());
  }

  // restore-chunk: func(data: list<u8>) -> result<_, error>. The first chunk of a restore (or
  // the first after any other call) starts a new one; a refused chunk ends it.
  Status restore_chunk(HostBytes data) {
    const std::size_t offset = continues(StreamPhase::restore) ? stream_state.restored : 0;
    Status status = component_.restore_chunk(data.data(), data.size(), offset);
    if (status.ok()) {
      stream_state.restored = offset + data.size();
      goes_on(StreamPhase::restore);
    } else {
      stream_state.phase = StreamPhase::idle;
    }
    return status;
  }

  // restore-end: func() -> result<_, error>
  Status restore_end() {
    // With no restore under way, an empty one (an empty first chunk is always read): the
    // component refuses it as an empty snapshot.
    if (!continues(StreamPhase::restore)) static_cast<void>(component_.restore_chunk(nullptr, 0, 0));
    stream_state.phase = StreamPhase::idle;
    return component_.restore_end();
  }

  // snapshot: func() -> list<u8>, the whole snapshot built from the stream's records.
  Bytes snapshot() {
    stream_state.phase = StreamPhase::idle;
    return component_.snapshot();
  }

  // restore: func(data: list<u8>) -> result<_, error>, the whole snapshot as one chunk, read in place.
  Status restore(HostBytes data) {
    stream_state.phase = StreamPhase::idle;
    Status status = component_.restore_chunk(data.data(), data.size(), 0);
    data.release();  // before the state is put in place: never both in memory at once
    if (status.ok()) status = component_.restore_end();
    return status;
  }

 private:
  /** Whether the last call into the module was the stream's own, in `phase`: any other call in between ends the stream. */
  static bool continues(StreamPhase phase) { return stream_state.phase == phase && stream_state.serial + 1 == call_serial; }

  static void goes_on(StreamPhase phase) {
    stream_state.phase = phase;
    stream_state.serial = call_serial;
  }

  StreamingSnapshot& component_;
};

}  // namespace tessera::detail
