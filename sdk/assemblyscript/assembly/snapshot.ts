// Opting in to the optional WIT interfaces `snapshot` and `snapshot-stream` (world
// `snapshotting-state-store`): a store whose data lives in its own memory extends
// `SnapshottingStateStore` (the whole snapshot at once) or, better, `StreamingStateStore` (the
// same bytes in bounded chunks, and the whole snapshot derived from them), and its entry file
// re-exports "./snapshot-exports" (and "./snapshot-stream-exports"), so its data crosses a hot
// swap, a restart and hibernation. The generated `snapshot` exports call `snapshotImplementation()`.
//
// A snapshot is written and read in raw memory, not in a managed `Uint8Array`: it can be as
// big as the store, and a managed copy would linger until the collector found it — repeated
// snapshots of a large store then outgrow the host's memory cap. The writer's block goes to the
// host as is and is freed in the post-return; the reader reads the host's block in place.
import { RawBytes, releaseBlock, takeBlock } from "./memory";
import { StateStore } from "./state";
import { StateError } from "./types";

/**
 * A state store the host can snapshot and restore. The host calls `restore` on a new
 * generation of the component, right after `init`, with what `snapshot` wrote on the old one,
 * which may have been an older version of the component: start every snapshot with a format
 * version byte, and keep reading every version you ever wrote.
 */
export abstract class SnapshottingStateStore extends StateStore {
  constructor() {
    super();
    registerSnapshots(new StoreSnapshots(this));
  }

  /**
   * Writes the store's whole state into `out`, in a format of the component's own. Called
   * between any two calls, possibly more than once; it must not change the state.
   */
  abstract snapshot(out: SnapshotWriter): void;

  /**
   * Replaces the state with a snapshot taken by this or an earlier version of the component.
   * A snapshot that is truncated, corrupt or of an unknown format version answers
   * `StateError.invalidArgument(...)` (naming the versions) and leaves the state as it was.
   */
  abstract restore(data: SnapshotReader): StateError | null;
}

/**
 * What the generated `snapshot` exports call: a store's or a broker's whole snapshot, written
 * into a raw block the host reads in place, and a restore read where the host put the bytes.
 */
export abstract class Snapshots {
  abstract write(out: SnapshotWriter): void;

  abstract read(data: SnapshotReader): StateError | null;

  snapshot(): RawBytes {
    const out = new SnapshotWriter();
    this.write(out);
    return out.lend();
  }

  restore(data: RawBytes): StateError | null {
    const reader = data.length != 0 ? new SnapshotReader(data.ptr, data.ptr + data.length) : new SnapshotReader(0, 0);
    const error = this.read(reader);
    reader.detach();
    return error;
  }
}

class StoreSnapshots extends Snapshots {
  constructor(private store: SnapshottingStateStore) {
    super();
  }

  write(out: SnapshotWriter): void {
    this.store.snapshot(out);
  }

  read(data: SnapshotReader): StateError | null {
    return this.store.restore(data);
  }
}

let snapshots: Snapshots | null = null;

/** Made by the constructor of a `SnapshottingStateStore` or `SnapshottingPubSub`: one per module. */
export function registerSnapshots(implementation: Snapshots): void {
  snapshots = implementation;
}

export function snapshotImplementation(): Snapshots {
  const implementation = snapshots;
  if (implementation === null) {
    throw new Error("the entry file re-exports snapshot-exports, but its store does not extend SnapshottingStateStore (or its broker SnapshottingPubSub)");
  }
  return implementation;
}

/** Chunk size of the sizing pass of a whole snapshot taken from the stream. */
const SIZING_CHUNK: usize = 64 << 10;

/**
 * A state store whose snapshot is a sequence of records the host takes in bounded chunks
 * (WIT interface `snapshot-stream`), so a store whose data fills most of its memory never
 * needs a second copy of it. The store keeps a cursor: `snapshotBegin` rewinds it, each
 * `snapshotChunk` writes the next whole records and moves it on. Restoring is the reverse:
 * `restoreChunk` reads each chunk's records into state kept aside, `restoreEnd` checks it is
 * complete and puts it in place.
 *
 * The chunks joined are the store's snapshot format, which `snapshot` and `restore` (the
 * whole-snapshot interface, implemented here from the stream) hand over in one piece: a
 * snapshot taken either way restores either way. Re-export both "./snapshot-exports" and
 * "./snapshot-stream-exports" from the entry file.
 */
export abstract class StreamingStateStore extends SnapshottingStateStore {
  /**
   * Starts a snapshot: rewinds the cursor and fixes what the snapshot holds (the time expiries
   * are judged at, the counts a header announces). Until the snapshot ends no other call
   * comes, so the state stands still under the cursor.
   */
  abstract snapshotBegin(): void;

  /**
   * Writes the next whole records into `out`, each only while `out.fits(size)` says it fits
   * (the first always fits, however large: it then comes alone), and moves the cursor past
   * them. Writes nothing once every record was written: that empty chunk ends the snapshot.
   */
  abstract snapshotChunk(out: SnapshotWriter): void;

  /**
   * Reads the whole records of one chunk. `data.offset` is 0 for the first chunk of a restore
   * (start over, dropping any restore left unfinished) and counts the bytes of the earlier
   * ones. Keep what is read aside, not in the store: the state changes only in `restoreEnd`.
   * A chunk that is corrupt or ends inside a record answers `StateError.invalidArgument(...)`,
   * which ends the restore (drop what was kept aside).
   */
  abstract restoreChunk(data: SnapshotReader): StateError | null;

  /**
   * Every chunk was read: checks the snapshot is complete (a missing tail is a truncated
   * snapshot) and replaces the state with it, or answers an error and leaves the state as it was.
   */
  abstract restoreEnd(): StateError | null;

  /**
   * The whole snapshot, from the stream: one pass in bounded chunks to learn its size, then a
   * second straight into `out`, sized once, so the only copy is the one the host reads.
   */
  snapshot(out: SnapshotWriter): void {
    const sizing = new SnapshotWriter(SIZING_CHUNK);
    let size: usize = 0;
    this.snapshotBegin();
    for (;;) {
      this.snapshotChunk(sizing);
      const length = sizing.length;
      if (length == 0) break;
      size += length;
      sizing.clear();
    }
    sizing.release();
    out.reserve(size);
    this.snapshotBegin();
    // `out` has no limit: every record fits, so one chunk is the whole snapshot; the empty
    // chunk after it ends the snapshot, so the store lets go of its cursor.
    this.snapshotChunk(out);
    const end = new SnapshotWriter(1);
    this.snapshotChunk(end);
    end.release();
  }

  /** A whole snapshot is one chunk of whole records. */
  restore(data: SnapshotReader): StateError | null {
    const error = this.restoreChunk(data.asFirstChunk());
    return error !== null ? error : this.restoreEnd();
  }
}

/**
 * The bytes of a snapshot being written: a growable block of raw memory. Numbers are written
 * little-endian; `bytes` and `string` are prefixed with their length as a `u32`. A chunk of a
 * streamed snapshot is a writer with a limit, which `fits` consults; a whole snapshot has none.
 */
export class SnapshotWriter {
  private start: usize = 0;
  private end: usize = 0;
  private capacity: usize = 0;

  /** `limit`: about how many bytes this writer should hold (a chunk's `max-bytes`); none by default. */
  constructor(private limit: usize = usize.MAX_VALUE) {}

  /** Bytes written so far. */
  get length(): usize {
    return this.end - this.start;
  }

  /**
   * Whether a record of `size` more bytes belongs in this chunk: when it keeps the chunk within
   * its limit, or when the chunk is still empty (a record larger than the limit comes alone).
   */
  fits(size: usize): bool {
    const length = this.end - this.start;
    return length == 0 || (size <= this.limit && length + size <= this.limit);
  }

  /**
   * Makes room for `additional` more bytes at once; a writer that knows its size grows only
   * once. A chunk grows at most to its limit (or to exactly what a lone larger record needs),
   * never to double that.
   */
  reserve(additional: usize): void {
    const length = this.end - this.start;
    if (this.capacity - length >= additional) return;
    const needed = length + additional;
    const wanted = max(needed, min(this.capacity << 1, this.limit));
    // A chunk's block is released after each chunk, for the next one to take.
    this.start = this.start == 0 ? takeBlock(wanted) : heap.realloc(this.start, wanted);
    this.end = this.start + length;
    this.capacity = wanted;
  }

  /** The SDK's, not the store's: writes into `block` (of `capacity` bytes) from its start. */
  adopt(block: usize, capacity: usize): void {
    this.release();
    this.start = block;
    this.end = block;
    this.capacity = capacity;
  }

  /** Empties the writer, keeping its block for the next chunk. */
  clear(): void {
    this.end = this.start;
  }

  /** Frees the writer's block; it starts over empty. */
  release(): void {
    const capacity = this.capacity;
    const start = this.detach();
    if (start != 0) releaseBlock(start, capacity);
  }

  /**
   * Appends `size` bytes and returns their address, for writing with `store<T>` or
   * `memory.copy`. The address is valid until the next write to this writer.
   */
  claim(size: usize): usize {
    this.reserve(size);
    const at = this.end;
    this.end = at + size;
    return at;
  }

  u8(value: u8): void {
    store<u8>(this.claim(1), value);
  }

  u32(value: u32): void {
    store<u32>(this.claim(4), value);
  }

  u64(value: u64): void {
    store<u64>(this.claim(8), value);
  }

  /** A `u32` length in bytes, then the bytes. */
  bytes(data: Uint8Array): void {
    const size = <usize>data.length;
    const at = this.claim(4 + size);
    store<u32>(at, <u32>size);
    memory.copy(at + 4, data.dataStart, size);
  }

  /** A `u32` length in UTF-16 code units, then the code units (UTF-16LE, as AssemblyScript holds strings: no transcoding, nothing lost). */
  string(s: string): void {
    const size = <usize>s.length << 1;
    const at = this.claim(4 + size);
    store<u32>(at, <u32>s.length);
    memory.copy(at + 4, changetype<usize>(s), size);
  }

  /** The SDK's, not the store's: the bytes written, lent to the host until it read them; the writer starts over empty. */
  lend(blockSize: usize = 0): RawBytes {
    const length = this.length;
    const start = this.detach();
    // blockSize 0: the writer made no block, so there is none to free.
    return new RawBytes(start, length, start == 0 ? 0 : max(max(length, blockSize), 1));
  }

  /** The SDK's, not the store's: hands over the block, which the SDK frees after the host read it; the writer starts over empty. */
  detach(): usize {
    const start = this.start;
    this.start = 0;
    this.end = 0;
    this.capacity = 0;
    return start;
  }
}

/**
 * The bytes of a snapshot being restored, read in place. A read past the end returns zero
 * (or an empty string or array) and sets `truncated`, which stays set: read on, then check
 * `truncated` before trusting what was read, and before every loop on a length read from it.
 * The bytes are valid only during `restore`; what the reader returns is a copy.
 */
export class SnapshotReader {
  private at: usize;
  private truncatedAt: isize = -1;

  /** `offset`: where these bytes start in the whole snapshot (a later chunk of a stream). */
  constructor(private start: usize, private end: usize, private base: usize = 0) {
    this.at = start;
  }

  /** Size of the bytes being read in bytes: the whole snapshot, or one chunk of it. */
  get length(): usize {
    return this.end - this.start;
  }

  /** Where these bytes start in the whole snapshot: 0 for a whole snapshot or the first chunk of a stream. */
  get offset(): usize {
    return this.base;
  }

  /** The SDK's, not the store's: the same bytes read as the first chunk of a restore. */
  asFirstChunk(): SnapshotReader {
    this.base = 0;
    return this;
  }

  /** Offset of the next byte to read. */
  get position(): usize {
    return this.at - this.start;
  }

  get remaining(): usize {
    return this.end - this.at;
  }

  /** Whether a read asked for more bytes than remained. */
  get truncated(): bool {
    return this.truncatedAt >= 0;
  }

  /** Offset of the first read that ran past the end, or -1. */
  get truncatedAtOffset(): isize {
    return this.truncatedAt;
  }

  /**
   * Consumes `size` bytes and returns their address, for reading with `load<T>` or
   * `memory.copy` during `restore`; 0, and `truncated` set, when fewer remain.
   */
  take(size: usize): usize {
    const at = this.at;
    if (<u64>size > <u64>(this.end - at)) {
      if (this.truncatedAt < 0) this.truncatedAt = <isize>(at - this.start);
      this.at = this.end;
      return 0;
    }
    this.at = at + size;
    return at;
  }

  u8(): u8 {
    const at = this.take(1);
    return at != 0 ? load<u8>(at) : 0;
  }

  u32(): u32 {
    const at = this.take(4);
    return at != 0 ? load<u32>(at) : 0;
  }

  u64(): u64 {
    const at = this.take(8);
    return at != 0 ? load<u64>(at) : 0;
  }

  /** What `SnapshotWriter.bytes` wrote, copied into a new array. */
  bytes(): Uint8Array {
    const size = <usize>this.u32();
    const at = this.take(size);
    if (at == 0) return new Uint8Array(0);
    const data = new Uint8Array(<i32>size);
    memory.copy(data.dataStart, at, size);
    return data;
  }

  /**
   * What `SnapshotWriter.string` wrote. When it equals `same`, answers `same` rather than a
   * new string: a store whose items share a few strings (content types, say) keeps one of each.
   */
  string(same: string | null = null): string {
    const size = <usize>this.u32() << 1;
    const at = this.take(size);
    if (at == 0) return "";
    if (same !== null && <usize>same.length << 1 == size && memory.compare(changetype<usize>(same), at, size) == 0) return same;
    return String.UTF16.decodeUnsafe(at, size);
  }

  /** The SDK's, not the store's: ends reading when `restore` returns, before the SDK frees the bytes. */
  detach(): void {
    this.start = 0;
    this.at = 0;
    this.end = 0;
  }
}
