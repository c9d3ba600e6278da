// The canonical ABI's memory discipline in AssemblyScript (see abi/ABI.md):
// - `cabi_realloc` hands the host blocks of the raw TLSF heap, outside the GC's view;
// - lifting copies what the host wrote into managed objects and frees the host's blocks,
//   since the callee owns its arguments;
// - lowering writes results into a per-call arena of raw memory that stays put until the
//   host has read it, and is released by the post-return function (or the next call).
// No pointer the host sees ever points into a GC-managed object: the incremental GC may
// run during any allocation, and it only knows about references held by AS code.
import { Metadata, StateError } from "./types";

/** Alignment of every block AS's TLSF allocator returns; no canonical ABI type needs more than 8. */
const HEAP_ALIGN: usize = 16;

// ---------------------------------------------------------------------------------------
// Large transient blocks: what the host passes (a value, a snapshot chunk) and the snapshot
// chunks the SDK writes. Each lives for one call, then a block of about the same size is
// wanted again. TLSF looks for a free block one size class above what is asked (from 256
// bytes up), so a freed block of exactly that size is not reused for it: left to TLSF, every
// value a `set` passes would leave its hole, and a store filled by `set` would take twice its
// data in memory (a restore likewise, a chunk-sized hole per chunk). So the largest such block
// released is kept as the spare, and handed out for the next large block it can hold; a block
// TLSF must make is a size class larger, so that, freed, it holds the copy of the next value.

/** Blocks from this size up to SPARE_MAX become the spare (a larger one is rare, and too much to hold on to). */
const SPARE_MIN: usize = 4096;
const SPARE_MAX: usize = 512 << 10;
/** The largest large block released since it was last taken; 0 when none. */
let spare: usize = 0;

/** The usable size of a raw heap block: TLSF keeps it in the word before it (low bits are tags). */
export function blockCapacity(ptr: usize): usize {
  return load<usize>(ptr - sizeof<usize>()) & ~(<usize>3);
}

/** A raw heap block of at least `size` bytes: the spare when it holds them. */
// @inline, like releaseBlock and resetArena: they run on every call, and a call is several
// instructions more (and metered) where the inlined common case is a comparison.
// @ts-ignore: decorator
@inline export function takeBlock(size: usize): usize {
  if (size < 256) return heap.alloc(size);
  if (size >= SPARE_MIN) {
    const kept = takeSpare(size);
    if (kept != 0) return kept;
  }
  const sizeClass = <usize>1 << (<usize>(31 - clz<u32>(<u32>size)) - 4);
  return heap.alloc(size + sizeClass + HEAP_ALIGN);
}

/** The spare itself, when it holds at least `size` bytes (a chunk writer fills what it gets); else 0. */
export function takeSpare(size: usize): usize {
  const kept = spare;
  if (kept == 0 || blockCapacity(kept) < size) return 0;
  spare = 0;
  return kept;
}

/** Frees a block from `takeBlock` (or the host's `cabi_realloc`) of `size` bytes; a large one may become the spare. */
// @ts-ignore: decorator
@inline export function releaseBlock(ptr: usize, size: usize): void {
  if (size < SPARE_MIN || size > SPARE_MAX) {
    heap.free(ptr);
    return;
  }
  const kept = spare;
  if (kept != 0 && blockCapacity(kept) >= blockCapacity(ptr)) {
    heap.free(ptr);
    return;
  }
  if (kept != 0) heap.free(kept);
  spare = ptr;
}

/** `cabi_realloc(old_ptr, old_size, align, new_size) -> ptr`, as wit-bindgen defines it. */
export function cabiRealloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (align == 0 || align > HEAP_ALIGN || (align & (align - 1)) != 0) {
    throw new Error("cabi_realloc: unsupported alignment " + align.toString());
  }
  if (newSize == 0) {
    // Zero-length strings and lists own no memory: any aligned pointer will do.
    if (oldSize != 0) heap.free(oldPtr);
    return align;
  }
  if (oldSize == 0) return takeBlock(newSize);
  return heap.realloc(oldPtr, newSize);
}

// ---------------------------------------------------------------------------------------
// Lifting: from what the host wrote to managed objects. A zero-length string or list may
// carry any pointer (jco passes 1), so only non-empty ones are freed.

export function liftString(ptr: usize, len: usize): string {
  if (len == 0) return "";
  const s = String.UTF8.decodeUnsafe(ptr, len);
  releaseBlock(ptr, len);
  return s;
}

export function liftBytes(ptr: usize, len: usize): Uint8Array {
  const bytes = new Uint8Array(<i32>len);
  if (len != 0) {
    memory.copy(bytes.dataStart, ptr, len);
    releaseBlock(ptr, len);
  }
  return bytes;
}

export function liftOptionString(discriminant: u32, ptr: usize, len: usize): string | null {
  if (discriminant == 0) return null;
  checkDiscriminant(discriminant, 2, "option");
  return liftString(ptr, len);
}

/** `metadata` = list<tuple<string, string>>: elements of 16 bytes, key at 0, value at 8. */
export function liftMetadata(ptr: usize, len: usize): Metadata {
  const metadata = new Metadata();
  for (let i: usize = 0; i < len; i++) {
    const at = ptr + i * 16;
    metadata.append(liftString(load<u32>(at), load<u32>(at, 4)), liftString(load<u32>(at, 8), load<u32>(at, 12)));
  }
  if (len != 0) heap.free(ptr);
  return metadata;
}

/** Frees the element array of a lifted list whose elements have already been lifted. */
export function freeList(ptr: usize, len: usize): void {
  if (len != 0) heap.free(ptr);
}

/** Traps, as the canonical ABI requires, on a discriminant outside the type's cases. */
export function checkDiscriminant(value: u32, cases: u32, type: string): void {
  if (value >= cases) {
    throw new Error("canonical ABI: discriminant " + value.toString() + " out of range for " + type);
  }
}

// ---------------------------------------------------------------------------------------
// The per-call arena. A bump allocator over one reused 4 KiB block, spilling into extra
// heap blocks that `resetArena` frees; lowering a result therefore costs a few pointer bumps.

const ARENA_BLOCK: usize = 4096;
/** Spill blocks start with a link to the previous one; 16 keeps the payload 16-aligned. */
const SPILL_HEADER: usize = 16;

let home: usize = 0;
let top: usize = 0;
let end: usize = 0;
let spills: usize = 0;

export function arenaAlloc(size: usize, align: usize): usize {
  let ptr = (top + align - 1) & ~(align - 1);
  if (ptr + size > end) {
    const blockSize = max(ARENA_BLOCK, size + SPILL_HEADER);
    const block = heap.alloc(blockSize);
    store<usize>(block, spills);
    spills = block;
    ptr = block + SPILL_HEADER;
    end = block + blockSize;
  }
  top = ptr + size;
  return ptr;
}

/**
 * Export calls begun and post-returns run so far (wrapping), counted by `resetArena`: a
 * streamed snapshot goes on only while nothing else was called since its own last call.
 */
let calls: u32 = 0;

export function callNumber(): u32 {
  return calls;
}

/** Releases everything lowered since the last reset; every export and post-return starts here, and counts. */
// @ts-ignore: decorator
@inline export function resetArena(): void {
  calls++;
  releaseArena();
}

/** `resetArena` without counting a call: the post-returns of a snapshot stream, which goes on. */
export function releaseArena(): void {
  while (spills != 0) {
    const next = load<usize>(spills);
    heap.free(spills);
    spills = next;
  }
  if (home == 0) home = heap.alloc(ARENA_BLOCK);
  top = home;
  end = home + ARENA_BLOCK;
}

// ---------------------------------------------------------------------------------------
// Lowering: into the arena, writing (ptr, len) pairs and discriminants at `at`.

export function lowerString(at: usize, s: string): void {
  const len = <usize>String.UTF8.byteLength(s);
  const ptr = arenaAlloc(len, 1);
  // REPLACE: an AS string may hold a lone surrogate, which is not valid UTF-8 on the wire.
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, ptr, false, String.UTF8.ErrorMode.REPLACE);
  store<u32>(at, ptr);
  store<u32>(at, len, 4);
}

export function lowerBytes(at: usize, bytes: Uint8Array): void {
  const len = <usize>bytes.length;
  const ptr = arenaAlloc(len, 1);
  memory.copy(ptr, bytes.dataStart, len);
  store<u32>(at, ptr);
  store<u32>(at, len, 4);
}

/** option<string>: size 12, discriminant u8 at 0, string at 4. */
export function lowerOptionString(at: usize, s: string | null): void {
  if (s !== null) {
    store<u8>(at, 1);
    lowerString(at + 4, s);
  } else {
    store<u8>(at, 0);
  }
}

export function lowerMetadata(at: usize, metadata: Metadata): void {
  const len = <usize>metadata.length;
  const ptr = arenaAlloc(len * 16, 4);
  for (let i: usize = 0; i < len; i++) {
    const entry = ptr + i * 16;
    lowerString(entry, metadata.keyAt(<i32>i));
    lowerString(entry + 8, metadata.valueAt(<i32>i));
  }
  store<u32>(at, ptr);
  store<u32>(at, len, 4);
}

export function lowerStringList(at: usize, list: string[]): void {
  const len = <usize>list.length;
  const ptr = arenaAlloc(len * 8, 4);
  for (let i: usize = 0; i < len; i++) lowerString(ptr + i * 8, list[<i32>i]);
  store<u32>(at, ptr);
  store<u32>(at, len, 4);
}

/** error: size 12, discriminant u8 at 0 (the case), message string at 4. */
export function lowerError(at: usize, error: StateError): void {
  store<u8>(at, <u8>error.kind);
  lowerString(at + 4, error.message);
}

/** result<_, error>: size 16, discriminant u8 at 0, error at 4. */
export function lowerUnitResult(at: usize, error: StateError | null): void {
  if (error !== null) {
    store<u8>(at, 1);
    lowerError(at + 4, error);
  } else {
    store<u8>(at, 0);
  }
}
