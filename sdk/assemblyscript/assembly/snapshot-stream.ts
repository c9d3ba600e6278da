// What the generated `snapshot-stream` exports call: a `StreamingStateStore`'s snapshot taken,
// and restored, in bounded chunks. The host makes no other call during a snapshot; any call
// in between ends a stream (the call count in memory.ts says whether one came), so a chunk
// asked for afterwards is empty and a restore starts over.
import { blockCapacity, callNumber, RawBytes, takeSpare } from "./memory";
import { SnapshotReader, SnapshotWriter, StreamingStateStore } from "./snapshot";
import { stateImplementation } from "./state";
import { StateError } from "./types";

/**
 * What a chunk reserves before the store writes: the host asks for chunks of a few hundred
 * KiB, and a larger `max-bytes` is grown into only as the records need it.
 */
const CHUNK_RESERVE: usize = 256 << 10;

/** What the stream is doing (nothing, a snapshot, a restore). */
const IDLE: u8 = 0;
const SNAPSHOT: u8 = 1;
const RESTORE: u8 = 2;

class SnapshotStream {
  private phase: u8 = IDLE;
  /** The call that left the stream in its phase. */
  private phaseCall: u32 = 0;
  /** Bytes of the snapshot being restored that earlier `restore-chunk` calls read. */
  private restoredBytes: usize = 0;

  /** Whether the last call into the module was the stream's own, in `what`: any other call in between ends the stream. */
  private continues(what: u8): bool {
    return this.phase == what && this.phaseCall + 1 == callNumber();
  }

  private goesOn(what: u8): void {
    this.phase = what;
    this.phaseCall = callNumber();
  }

  private store(): StreamingStateStore {
    const store = stateImplementation();
    if (!(store instanceof StreamingStateStore)) {
      throw new Error("the entry file re-exports snapshot-stream-exports, but the registered store does not extend StreamingStateStore");
    }
    return changetype<StreamingStateStore>(store);
  }

  snapshotBegin(): void {
    this.store().snapshotBegin();
    this.goesOn(SNAPSHOT);
  }

  snapshotChunk(maxBytes: u32): RawBytes {
    // No snapshot under way (none begun, or another call came since): an empty chunk.
    if (!this.continues(SNAPSHOT)) {
      this.phase = IDLE;
      return new RawBytes(0, 0, 0);
    }
    const limit = max<usize>(<usize>maxBytes, 1);
    const wanted = min(limit, CHUNK_RESERVE);
    // One block for the whole chunk, so writing it never moves it (and never holds two copies):
    // the last chunk's (or restored chunk's) when it holds half of one, the chunk then as big as it.
    const kept = takeSpare(wanted >> 1);
    let out: SnapshotWriter;
    if (kept != 0) {
      const capacity = blockCapacity(kept);
      out = new SnapshotWriter(min(limit, capacity));
      out.adopt(kept, capacity);
    } else {
      out = new SnapshotWriter(limit);
      out.reserve(wanted);
    }
    this.store().snapshotChunk(out);
    // The block goes back as the spare for the next chunk (its size decides it is large).
    const chunk = out.lend(wanted);
    if (chunk.length == 0) this.phase = IDLE;
    else this.goesOn(SNAPSHOT);
    return chunk;
  }

  restoreChunk(data: RawBytes): StateError | null {
    // The first chunk of a restore (or the first after any other call) starts a new one.
    const offset = this.continues(RESTORE) ? this.restoredBytes : 0;
    const reader = data.length != 0 ? new SnapshotReader(data.ptr, data.ptr + data.length, offset) : new SnapshotReader(0, 0, offset);
    const error = this.store().restoreChunk(reader);
    reader.detach();
    // A refused chunk ends the restore.
    if (error === null) {
      this.restoredBytes = offset + data.length;
      this.goesOn(RESTORE);
    } else {
      this.phase = IDLE;
    }
    return error;
  }

  restoreEnd(): StateError | null {
    const store = this.store();
    // With no restore under way, an empty one (an empty first chunk is always read): the store
    // refuses it as an empty snapshot.
    if (!this.continues(RESTORE)) store.restoreChunk(new SnapshotReader(0, 0, 0));
    this.phase = IDLE;
    return store.restoreEnd();
  }
}

const stream = new SnapshotStream();

export function snapshotStreamImplementation(): SnapshotStream {
  return stream;
}
