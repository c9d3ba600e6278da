// The canonical ABI's memory discipline in AssemblyScript (see abi/ABI.md); the generated glue
// (./generated/) lifts and lowers with it, and it knows no type's layout:
// - `cabi_realloc` hands the host blocks of the raw TLSF heap, outside the GC's view;
// - lifting copies what the host wrote into managed objects and frees the host's blocks,
//   since the callee owns its arguments;
// - lowering writes results into a per-call arena of raw memory that stays put until the
//   host has read it, and is released by the post-return function (or the next call);
// - a whole byte list (a snapshot) goes out as a raw block lent to the host until then.
// No pointer the host sees ever points into a GC-managed object: the incremental GC may
// run during any allocation, and it only knows about references held by AS code.

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
// Lifting what the host wrote. A zero-length string or list may carry any pointer (jco passes
// 1), so only non-empty ones are freed.

/** A string the host passed: decoded, then its block freed (the callee owns its arguments). */
export function liftString(ptr: usize, len: usize): string {
  if (len == 0) return "";
  const s = String.UTF8.decodeUnsafe(ptr, len);
  releaseBlock(ptr, len);
  return s;
}

/** A byte list the host passed: copied into a managed array, then its block freed. */
export function liftBytes(ptr: usize, len: usize): Uint8Array {
  const bytes = new Uint8Array(<i32>len);
  if (len != 0) {
    memory.copy(bytes.dataStart, ptr, len);
    releaseBlock(ptr, len);
  }
  return bytes;
}

/** Traps, as the canonical ABI requires, on a discriminant outside the type's cases. */
// @inline: every lifted enum and option checks one, and what runs is a comparison; the trap is out of line.
// @ts-ignore: decorator
@inline export function checkDiscriminant(value: u32, cases: u32, type: string): void {
  if (value >= cases) badDiscriminant(value, type);
}

function badDiscriminant(value: u32, type: string): void {
  throw new Error("canonical ABI: discriminant " + value.toString() + " out of range for " + type);
}

/** An option's flat discriminant: whether a value follows; traps on anything but 0 or 1. */
// @ts-ignore: decorator
@inline export function isSome(discriminant: u32): bool {
  checkDiscriminant(discriminant, 2, "option");
  return discriminant != 0;
}

/** Frees the element array of a lifted list whose elements have already been lifted. */
export function freeList(ptr: usize, len: usize): void {
  if (len != 0) heap.free(ptr);
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
 * Export calls begun so far (wrapping), counted by `beginCall`: a streamed snapshot goes on
 * only while nothing else was called since its own last call.
 */
let calls: u32 = 0;

export function callNumber(): u32 {
  return calls;
}

/** Every export starts here: counts the call and releases what the last one lowered or lent. */
// @ts-ignore: decorator
@inline export function beginCall(): void {
  calls++;
  endCall();
}

/** Every post-return: the host has read the result, so what it points to is released. */
// @ts-ignore: decorator
@inline export function endCall(): void {
  if (lent !== null) releaseLent();
  releaseArena();
}

function releaseArena(): void {
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
// Whole byte lists in raw memory: a snapshot, a chunk of one. Read in place and written in
// place, never copied into a managed array: one can be as big as the store.

/** `length` bytes at `ptr`, in a raw heap block released as `blockSize` bytes (0: it owns no block, as an empty list the host passed). */
export class RawBytes {
  constructor(public ptr: usize, public length: usize, public blockSize: usize = length) {}
}

/** The block the host is reading, released at the next `beginCall` or `endCall`. */
let lent: RawBytes | null = null;

/** Lends `bytes` to the host until the post-return. */
export function lend(bytes: RawBytes): void {
  lent = bytes;
}

function releaseLent(): void {
  releaseRawBytes(lent!);
  lent = null;
}

/** Frees a raw byte list (a block the host passed, once read); a large one may become the spare. */
export function releaseRawBytes(bytes: RawBytes): void {
  if (bytes.blockSize != 0) releaseBlock(bytes.ptr, bytes.blockSize);
}
