// What the generated glue (../generated/abi/) calls to move bytes and own memory, following the
// canonical ABI's rules (abi/ABI.md, "Who owns what"); every offset and size is the glue's:
// - `cabi_realloc` hands the host blocks of the libc heap;
// - lifting copies what the host wrote into C++ objects and frees each block once read, since
//   the callee owns its arguments (a zero-length string or list owns no memory);
// - an export's result is parked until its post-return and lent to the host where it is:
//   only the arrays the ABI lays out differently from C++ (metadata pairs, lists of strings or
//   records) and repaired strings are written into a per-call arena the post-return releases.
// Anything malformed from the host traps: there is no one to report it to but the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../types.h"
#include "utf8.h"

namespace tessera::detail {

[[noreturn]] inline void trap() { __builtin_trap(); }

// Large argument blocks (a value, a snapshot chunk) live for one call, copied out and freed,
// and the next call passes one of about the same size, while the copies stay: left to malloc, a
// block of another size leaves its hole behind (a store filled by `set` with values of mixed
// sizes ends up with a sixth of its memory in holes). So the largest one freed is kept as the
// spare, and handed to the host for the next one it holds.

/** Byte blocks from this size up to SPARE_MAX become the spare (a larger one is rare, and too much to hold on to). */
constexpr std::size_t SPARE_MIN = 4096;
constexpr std::size_t SPARE_MAX = 512 << 10;

/** The spare block; nullptr when none (it is handed out as it is, and comes back freed or kept). */
inline void* spare_block = nullptr;

/** A block of at least `size` bytes for the host: the spare when it holds them. */
inline void* take_block(std::size_t size) {
  if (size >= SPARE_MIN && spare_block != nullptr && size <= malloc_usable_size(spare_block)) {
    void* block = spare_block;
    spare_block = nullptr;
    return block;
  }
  return std::malloc(size);
}

/** The block at a 32-bit address the host gave. */
inline std::uint8_t* address(std::uint32_t ptr) { return reinterpret_cast<std::uint8_t*>(static_cast<std::uintptr_t>(ptr)); }

/** Frees a byte block the host passed (and the SDK lifted): a large one may become the spare. */
inline void release_bytes(std::uint8_t* ptr, std::uint32_t len) {
  if (len == 0) return;
  const std::size_t size = malloc_usable_size(ptr);
  if (size < SPARE_MIN || size > SPARE_MAX || (spare_block != nullptr && malloc_usable_size(spare_block) >= size)) {
    std::free(ptr);
    return;
  }
  std::free(spare_block);
  spare_block = ptr;
}

/** `cabi_realloc(old_ptr, old_size, align, new_size) -> ptr`, as wit-bindgen defines it. */
inline void* cabi_realloc(void* old_ptr, std::size_t old_size, std::size_t align, std::size_t new_size) {
  // malloc's blocks are 16-aligned on wasm32; no canonical ABI type needs more than 8.
  if (align == 0 || align > 16 || (align & (align - 1)) != 0) trap();
  if (new_size == 0) {
    if (old_size != 0) std::free(old_ptr);
    return reinterpret_cast<void*>(align);
  }
  void* ptr = old_size == 0 ? take_block(new_size) : std::realloc(old_ptr, new_size);
  if (ptr == nullptr) trap();
  return ptr;
}

// ---------------------------------------------------------------------------------------
// Raw memory access, little-endian as wasm is; unaligned reads are fine.

template <class T>
T load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class T>
void store(std::uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

inline std::uint32_t load_u8(const std::uint8_t* p) { return *p; }
inline std::uint32_t load_u16(const std::uint8_t* p) { return load<std::uint16_t>(p); }
inline std::uint32_t load_u32(const std::uint8_t* p) { return load<std::uint32_t>(p); }
inline void store_u8(std::uint8_t* p, std::uint32_t v) { *p = static_cast<std::uint8_t>(v); }
inline void store_u16(std::uint8_t* p, std::uint32_t v) { store<std::uint16_t>(p, static_cast<std::uint16_t>(v)); }
inline void store_u32(std::uint8_t* p, std::uint32_t v) { store<std::uint32_t>(p, v); }

/** Traps, as the canonical ABI requires, on a discriminant outside the type's cases. */
inline std::uint32_t checked_case(std::uint32_t value, std::uint32_t cases) {
  if (value >= cases) trap();
  return value;
}

// ---------------------------------------------------------------------------------------
// Lifting: from what the host wrote to C++ objects, freeing the host's blocks.

inline void free_block(std::uint8_t* ptr, std::uint32_t len) {
  if (len != 0) std::free(ptr);
}

inline std::string lift_string(std::uint32_t ptr, std::uint32_t len) {
  if (len == 0) return {};
  std::string s(reinterpret_cast<const char*>(address(ptr)), len);
  release_bytes(address(ptr), len);
  return s;
}

inline Bytes lift_bytes(std::uint32_t ptr, std::uint32_t len) {
  if (len == 0) return {};
  Bytes bytes(address(ptr), address(ptr) + len);
  release_bytes(address(ptr), len);
  return bytes;
}

/** Lifts a list whose elements are `size` bytes apart, each with `lift`, then frees its array. */
template <class T, class Lift>
std::vector<T> lift_list(std::uint32_t ptr, std::uint32_t len, std::size_t size, Lift lift) {
  std::vector<T> list;
  list.reserve(len);
  for (std::uint32_t i = 0; i < len; i++) list.push_back(lift(address(ptr) + i * size));
  free_block(address(ptr), len);
  return list;
}

/**
 * A `list<u8>` argument of an export, lent rather than copied: read it in place (a snapshot
 * to restore may be most of the memory); it is released when it goes out of scope. Becomes
 * `Bytes` (a copy) where a method takes those.
 */
class HostBytes {
 public:
  HostBytes(std::uint32_t ptr, std::uint32_t len) : ptr_(address(ptr)), len_(len) {}
  HostBytes(const HostBytes&) = delete;
  HostBytes& operator=(const HostBytes&) = delete;
  HostBytes(HostBytes&& other) noexcept : ptr_(other.ptr_), len_(std::exchange(other.len_, 0)) {}
  ~HostBytes() { release_bytes(ptr_, len_); }

  /** nullptr when empty. */
  const std::uint8_t* data() const { return len_ != 0 ? ptr_ : nullptr; }
  std::size_t size() const { return len_; }

  /** Frees the block now rather than at the end of the call. */
  void release() { release_bytes(ptr_, std::exchange(len_, 0)); }

  operator Bytes() && {
    Bytes bytes(ptr_, ptr_ + len_);
    release_bytes(ptr_, std::exchange(len_, 0));
    return bytes;
  }

 private:
  std::uint8_t* ptr_;
  std::uint32_t len_;
};

// ---------------------------------------------------------------------------------------
// The per-call arena: blocks a result needs beyond its own objects, freed by the post-return.

inline std::vector<void*> arena_blocks;

inline std::uint8_t* arena_alloc(std::size_t size) {
  if (size == 0) return nullptr;  // a zero-length list: any aligned pointer will do
  void* block = std::malloc(size);
  if (block == nullptr) trap();
  arena_blocks.push_back(block);
  return static_cast<std::uint8_t*>(block);
}

/** A string or list as the host reads it. */
struct Lowered {
  std::uint32_t ptr;
  std::uint32_t len;
};

inline Lowered lowered(const void* ptr, std::size_t len) {
  return {static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(ptr)), static_cast<std::uint32_t>(len)};
}

/** Writes a string's or list's pointer and length where the glue says they go. */
inline void store_list(std::uint8_t* ptr_at, std::uint8_t* len_at, Lowered list) {
  store_u32(ptr_at, list.ptr);
  store_u32(len_at, list.len);
}

/** A string lent as it is, or its repaired copy in the arena when it is not valid UTF-8 (the host would trap). */
inline Lowered lower_string(const std::string& s) {
  if (is_valid_utf8(s)) return lowered(s.data(), s.size());
  const std::string repaired = repair_utf8(s);
  std::uint8_t* copy = arena_alloc(repaired.size());
  std::memcpy(copy, repaired.data(), repaired.size());
  return lowered(copy, repaired.size());
}

/** Bytes are lent, never copied: a value or a snapshot can be most of the heap. */
inline Lowered lend_bytes(const Bytes& bytes) { return lowered(bytes.data(), bytes.size()); }

/** A list lowered into a fresh arena array of elements `size` bytes apart, each with `lower`. */
template <class List, class Lower>
Lowered lower_list(const List& list, std::size_t size, Lower lower) {
  std::uint8_t* array = arena_alloc(size * list.size());
  for (std::size_t i = 0; i < list.size(); i++) lower(array + size * i, list[i]);
  return lowered(array, list.size());
}

/** A string argument of an import: lent as it is, or a repaired copy that lives as long as this. */
class LentString {
 public:
  explicit LentString(std::string_view s) : view_(s) {
    if (!is_valid_utf8(s)) {
      repaired_ = repair_utf8(s);
      view_ = repaired_;
    }
  }
  std::uint32_t ptr() const { return lowered(view_.data(), view_.size()).ptr; }
  std::uint32_t len() const { return static_cast<std::uint32_t>(view_.size()); }

 private:
  std::string_view view_;
  std::string repaired_;
};

// ---------------------------------------------------------------------------------------
// Calls: the result an export returns is parked here until its post-return. The host makes one
// call at a time, so one slot suffices; it lives in static storage, never destroyed (no
// exit-time machinery linked in).

/** Export calls begun so far (wrapping): a streamed snapshot goes on only while nothing else was called (snapshot_stream.h). */
inline std::uint32_t call_serial = 0;

/** Destroys the parked result; nullptr when none. */
inline void (*parked_release)() = nullptr;

template <class T>
struct ParkedSlot {
  alignas(T) static inline unsigned char storage[sizeof(T)];
  static void release() { std::launder(reinterpret_cast<T*>(storage))->~T(); }
};

/** Keeps an export's result alive until its post-return; the glue lowers it from there. */
template <class T, class U = std::decay_t<T>>
const U& park(T&& value) {
  U* slot = new (ParkedSlot<U>::storage) U(std::forward<T>(value));
  parked_release = &ParkedSlot<U>::release;
  return *slot;
}

/** Releases what the last export lowered: the post-return does, and so does the next call if there was none. */
inline void end_call() {
  for (void* block : arena_blocks) std::free(block);
  arena_blocks.clear();
  if (parked_release != nullptr) std::exchange(parked_release, nullptr)();
}

/** Every export starts here. */
inline void begin_call() {
  call_serial++;
  end_call();
}

}  // namespace tessera::detail
