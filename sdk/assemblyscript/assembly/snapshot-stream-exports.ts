// The exports of the optional `snapshot-stream` interface in canonical ABI form. The entry file
// of a store that extends `StreamingStateStore` re-exports this module beside "./state-exports"
// and "./snapshot-exports"; the build renames `tessera_snapshot_stream_<f>` to
// `tessera:components/snapshot-stream@0.1.0#<f>` and its post-return likewise.
import "./abort";
import { blockCapacity, callNumber, lowerUnitResult, releaseArena, releaseBlock, resetArena, takeSpare } from "./canonical";
import { SnapshotReader, SnapshotWriter, StreamingStateStore } from "./snapshot";
import { registeredStateStore } from "./state";

/** Return area of the exports: `list<u8>` (8 bytes) or `result<_, error>` (16). */
const RET_AREA = memory.data(16, 4);

/**
 * What a chunk reserves before the store writes: the host asks for chunks of a few hundred
 * KiB, and a larger `max-bytes` is grown into only as the records need it.
 */
const CHUNK_RESERVE: usize = 256 << 10;

/** The chunk the host is reading: lent without a copy, released by the post-return (for the next chunk). */
let lent: usize = 0;
let lentLength: usize = 0;

/** Bytes of the snapshot being restored that earlier `restore-chunk` calls read. */
let restoredBytes: usize = 0;

/** What the stream is doing (nothing, a snapshot, a restore), and the call that left it so. */
const IDLE: u8 = 0;
const SNAPSHOT: u8 = 1;
const RESTORE: u8 = 2;
let phase: u8 = IDLE;
let phaseCall: u32 = 0;

/** Whether the last call into the module was the stream's own, in `what`: any other call in between ends the stream. */
function continues(what: u8): bool {
  return phase == what && phaseCall + 1 == callNumber();
}

function goesOn(what: u8): void {
  phase = what;
  phaseCall = callNumber();
}

function registeredStreamingStore(): StreamingStateStore {
  const store = registeredStateStore();
  if (!(store instanceof StreamingStateStore)) {
    throw new Error("the entry file re-exports snapshot-stream-exports, but the registered store does not extend StreamingStateStore");
  }
  return changetype<StreamingStateStore>(store);
}

function releaseLent(): void {
  if (lent != 0) releaseBlock(lent, lentLength);
  lent = 0;
}

// snapshot-begin: func(); no result, so no post-return.
export function tessera_snapshot_stream_snapshot_begin(): void {
  resetArena();
  releaseLent();
  registeredStreamingStore().snapshotBegin();
  goesOn(SNAPSHOT);
}

// snapshot-chunk: func(max-bytes: u32) -> list<u8>; the list goes through the return area.
export function tessera_snapshot_stream_snapshot_chunk(maxBytes: u32): usize {
  resetArena();
  releaseLent();
  // No snapshot under way (none begun, or another call came since): an empty chunk.
  if (!continues(SNAPSHOT)) {
    phase = IDLE;
    store<u32>(RET_AREA, 1);
    store<u32>(RET_AREA, 0, 4);
    return RET_AREA;
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
  registeredStreamingStore().snapshotChunk(out);
  const length = out.length;
  lent = out.detach();
  // The block goes back as the spare for the next chunk (its length decides it is large).
  lentLength = max(length, wanted);
  if (length == 0) {
    releaseLent();
    phase = IDLE;
  } else {
    goesOn(SNAPSHOT);
  }
  // An empty list owns no memory; any pointer will do (see abi/ABI.md).
  store<u32>(RET_AREA, lent != 0 ? lent : 1);
  store<u32>(RET_AREA, length, 4);
  return RET_AREA;
}

export function cabi_post_tessera_snapshot_stream_snapshot_chunk(retArea: usize): void {
  releaseLent();
}

// restore-chunk: func(data: list<u8>) -> result<_, error>. The bytes are read where the host
// put them, and freed as soon as the store has read them: one chunk at a time in memory.
export function tessera_snapshot_stream_restore_chunk(ptr: usize, len: usize): usize {
  resetArena();
  releaseLent();
  // The first chunk of a restore (or the first after any other call) starts a new one.
  const offset = continues(RESTORE) ? restoredBytes : 0;
  const data = len != 0 ? new SnapshotReader(ptr, ptr + len, offset) : new SnapshotReader(0, 0, offset);
  const error = registeredStreamingStore().restoreChunk(data);
  data.detach();
  if (len != 0) releaseBlock(ptr, len);
  // A refused chunk ends the restore.
  if (error === null) {
    restoredBytes = offset + len;
    goesOn(RESTORE);
  } else {
    phase = IDLE;
  }
  lowerUnitResult(RET_AREA, error);
  return RET_AREA;
}

export function cabi_post_tessera_snapshot_stream_restore_chunk(retArea: usize): void {
  releaseArena();
}

// restore-end: func() -> result<_, error>
export function tessera_snapshot_stream_restore_end(): usize {
  resetArena();
  releaseLent();
  const store = registeredStreamingStore();
  // With no restore under way, an empty one (an empty first chunk is always read): the store
  // refuses it as an empty snapshot.
  if (!continues(RESTORE)) store.restoreChunk(new SnapshotReader(0, 0, 0));
  phase = IDLE;
  lowerUnitResult(RET_AREA, store.restoreEnd());
  return RET_AREA;
}

export function cabi_post_tessera_snapshot_stream_restore_end(retArea: usize): void {
  releaseArena();
}
