// The canonical ABI's memory discipline in C++ (abi/ABI.md, "Who owns what"):
// - `cabi_realloc` hands the host blocks of the libc heap;
// - lifting copies what the host wrote into C++ objects and frees each block once read,
//   since the callee owns its arguments (a zero-length string or list owns no memory);
// - lowering points the return area into the result object itself, which the SDK keeps alive
//   until the export's post-return; only the arrays the ABI lays out differently from C++
//   (metadata pairs, lists of strings, bulk-get items) and repaired strings are written into a
//   per-call arena that the post-return releases.
// Anything malformed from the host traps: there is no one to report it to but the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "../state.h"
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
// Raw memory access. Offsets below are the layouts in abi/ABI.md.

inline std::uint8_t load_u8(const std::uint8_t* p) { return *p; }

inline std::uint32_t load_u32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline std::uint8_t* load_ptr(const std::uint8_t* p) {
  return reinterpret_cast<std::uint8_t*>(static_cast<std::uintptr_t>(load_u32(p)));
}

inline void store_u8(std::uint8_t* p, std::uint8_t v) { *p = v; }

inline void store_u32(std::uint8_t* p, std::uint32_t v) { std::memcpy(p, &v, 4); }

inline void store_ptr(std::uint8_t* p, const void* ptr) {
  store_u32(p, static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(ptr)));
}

// ---------------------------------------------------------------------------------------
// Lifting: from what the host wrote to C++ objects, freeing the host's blocks.

/** Traps, as the canonical ABI requires, on a discriminant outside the type's cases. */
inline std::uint32_t checked_case(std::uint32_t value, std::uint32_t cases) {
  if (value >= cases) trap();
  return value;
}

inline void free_block(std::uint8_t* ptr, std::uint32_t len) {
  if (len != 0) std::free(ptr);
}

inline std::string lift_string(std::uint8_t* ptr, std::uint32_t len) {
  if (len == 0) return {};
  std::string s(reinterpret_cast<const char*>(ptr), len);
  release_bytes(ptr, len);
  return s;
}

inline Bytes lift_bytes(std::uint8_t* ptr, std::uint32_t len) {
  if (len == 0) return {};
  Bytes bytes(ptr, ptr + len);
  release_bytes(ptr, len);
  return bytes;
}

inline std::optional<std::string> lift_option_string(std::uint32_t discriminant, std::uint8_t* ptr, std::uint32_t len) {
  if (checked_case(discriminant, 2) == 0) return std::nullopt;
  return lift_string(ptr, len);
}

/** `metadata` = list<tuple<string, string>>: elements of 16 bytes, key at 0, value at 8. */
inline Metadata lift_metadata(std::uint8_t* ptr, std::uint32_t len) {
  Metadata metadata;
  metadata.reserve(len);
  for (std::uint32_t i = 0; i < len; i++) {
    std::uint8_t* at = ptr + 16 * i;
    std::string key = lift_string(load_ptr(at), load_u32(at + 4));
    metadata.append(std::move(key), lift_string(load_ptr(at + 8), load_u32(at + 12)));
  }
  free_block(ptr, len);
  return metadata;
}

inline Concurrency lift_concurrency(std::uint32_t value) { return static_cast<Concurrency>(checked_case(value, 2)); }

inline Consistency lift_consistency(std::uint32_t value) { return static_cast<Consistency>(checked_case(value, 2)); }

/** get-request: size 20; key 0, consistency u8 8, metadata 12. */
inline GetRequest load_get_request(const std::uint8_t* p) {
  GetRequest req;
  req.key = lift_string(load_ptr(p), load_u32(p + 4));
  req.consistency = lift_consistency(load_u8(p + 8));
  req.metadata = lift_metadata(load_ptr(p + 12), load_u32(p + 16));
  return req;
}

/** set-request: size 52; key 0, value 8, etag 16, content-type 28, concurrency 40, consistency 41, metadata 44. */
inline SetRequest load_set_request(const std::uint8_t* p) {
  SetRequest req;
  req.key = lift_string(load_ptr(p), load_u32(p + 4));
  req.value = lift_bytes(load_ptr(p + 8), load_u32(p + 12));
  req.etag = lift_option_string(load_u8(p + 16), load_ptr(p + 20), load_u32(p + 24));
  req.content_type = lift_option_string(load_u8(p + 28), load_ptr(p + 32), load_u32(p + 36));
  req.concurrency = lift_concurrency(load_u8(p + 40));
  req.consistency = lift_consistency(load_u8(p + 41));
  req.metadata = lift_metadata(load_ptr(p + 44), load_u32(p + 48));
  return req;
}

/** delete-request: size 32; key 0, etag 8, concurrency 20, consistency 21, metadata 24. */
inline DeleteRequest load_delete_request(const std::uint8_t* p) {
  DeleteRequest req;
  req.key = lift_string(load_ptr(p), load_u32(p + 4));
  req.etag = lift_option_string(load_u8(p + 8), load_ptr(p + 12), load_u32(p + 16));
  req.concurrency = lift_concurrency(load_u8(p + 20));
  req.consistency = lift_consistency(load_u8(p + 21));
  req.metadata = lift_metadata(load_ptr(p + 24), load_u32(p + 28));
  return req;
}

/** transact-operation: size 56; discriminant u8 0 (0 set, 1 delete), request 4. */
inline TransactOperation load_transact_operation(const std::uint8_t* p) {
  if (checked_case(load_u8(p), 2) == 0) return load_set_request(p + 4);
  return load_delete_request(p + 4);
}

/** Lifts a list whose elements are `size` bytes apart, then frees its array. */
template <class T, class Load>
std::vector<T> lift_list(std::uint8_t* ptr, std::uint32_t len, std::size_t size, Load load) {
  std::vector<T> list;
  list.reserve(len);
  for (std::uint32_t i = 0; i < len; i++) list.push_back(load(ptr + i * size));
  free_block(ptr, len);
  return list;
}

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

/**
 * The results the host is reading: each export parks its result here, points the return
 * area into it, and the post-return drops it. One call at a time, so one of each suffices.
 */
struct Parked {
  Status status;
  GetResult get;
  BulkGetResult bulk_get;
  std::vector<std::string> features;
  Bytes snapshot;
};

inline Parked parked;

/** Every export's results exceed MAX_FLAT_RESULTS (1): 48 bytes is the largest, `get`'s. */
alignas(8) inline std::uint8_t ret_area[48];

/**
 * Export calls begun and post-returns run so far (wrapping): a streamed snapshot goes on only
 * while nothing else has been called since its own last call (detail/snapshot_stream.h).
 */
inline std::uint32_t call_serial = 0;

/** Releases what the last export lowered: its post-return, and the start of every export. */
inline void release_results() {
  call_serial++;
  for (void* block : arena_blocks) std::free(block);
  arena_blocks.clear();
  parked = Parked{};
}

// ---------------------------------------------------------------------------------------
// Lowering: (ptr, len) pairs and discriminants written at `at`.

inline void lower_string(std::uint8_t* at, const std::string& s) {
  if (is_valid_utf8(s)) {
    store_ptr(at, s.data());
    store_u32(at + 4, static_cast<std::uint32_t>(s.size()));
    return;
  }
  const std::string repaired = repair_utf8(s);
  std::uint8_t* copy = arena_alloc(repaired.size());
  std::memcpy(copy, repaired.data(), repaired.size());
  store_ptr(at, copy);
  store_u32(at + 4, static_cast<std::uint32_t>(repaired.size()));
}

inline void lower_bytes(std::uint8_t* at, const Bytes& bytes) {
  store_ptr(at, bytes.data());
  store_u32(at + 4, static_cast<std::uint32_t>(bytes.size()));
}

/** option<string>: size 12, discriminant u8 at 0, string at 4. */
inline void lower_option_string(std::uint8_t* at, const std::optional<std::string>& s) {
  store_u8(at, s ? 1 : 0);
  if (s) lower_string(at + 4, *s);
}

inline void lower_metadata(std::uint8_t* at, const Metadata& metadata) {
  std::uint8_t* list = arena_alloc(16 * metadata.size());
  for (std::size_t i = 0; i < metadata.size(); i++) {
    lower_string(list + 16 * i, metadata[i].first);
    lower_string(list + 16 * i + 8, metadata[i].second);
  }
  store_ptr(at, list);
  store_u32(at + 4, static_cast<std::uint32_t>(metadata.size()));
}

/** error: size 12, case u8 at 0, message string at 4. */
inline void lower_error(std::uint8_t* at, const StateError& error) {
  store_u8(at, static_cast<std::uint8_t>(checked_case(static_cast<std::uint32_t>(error.kind), 6)));
  lower_string(at + 4, error.message);
}

/** result<_, error>: size 16, discriminant u8 at 0, error at 4. */
inline void lower_status(std::uint8_t* at, const Status& status) {
  store_u8(at, status.ok() ? 0 : 1);
  if (!status.ok()) lower_error(at + 4, status.error());
}

/** get-response: size 40; value 0, etag 8, content-type 20, metadata 32. */
inline void lower_get_response(std::uint8_t* at, const GetResponse& response) {
  lower_bytes(at, response.value);
  lower_option_string(at + 8, response.etag);
  lower_option_string(at + 20, response.content_type);
  lower_metadata(at + 32, response.metadata);
}

/** option<get-response>: size 44; discriminant u8 0, get-response 4. */
inline void lower_option_get_response(std::uint8_t* at, const std::optional<GetResponse>& response) {
  store_u8(at, response ? 1 : 0);
  if (response) lower_get_response(at + 4, *response);
}

// ---------------------------------------------------------------------------------------
// The exports, one per WIT function; TESSERA_EXPORT_STATE_STORE gives each its canonical name.

constexpr std::size_t GET_REQUEST_SIZE = 20;
constexpr std::size_t SET_REQUEST_SIZE = 52;
constexpr std::size_t DELETE_REQUEST_SIZE = 32;
constexpr std::size_t TRANSACT_OPERATION_SIZE = 56;
constexpr std::size_t BULK_GET_ITEM_SIZE = 64;

inline std::uint8_t* park_status(Status status) {
  parked.status = std::move(status);
  lower_status(ret_area, parked.status);
  return ret_area;
}

// init: func(config: metadata) -> result<_, error>
inline std::uint8_t* export_init(StateStore& store, std::uint8_t* ptr, std::uint32_t len) {
  release_results();
  return park_status(store.init(lift_metadata(ptr, len)));
}

// features: func() -> list<string>
inline std::uint8_t* export_features(StateStore& store) {
  release_results();
  parked.features = store.features();
  const std::vector<std::string>& features = parked.features;
  std::uint8_t* list = arena_alloc(8 * features.size());
  for (std::size_t i = 0; i < features.size(); i++) lower_string(list + 8 * i, features[i]);
  store_ptr(ret_area, list);
  store_u32(ret_area + 4, static_cast<std::uint32_t>(features.size()));
  return ret_area;
}

// get: func(req: get-request) -> result<option<get-response>, error>; the request arrives flat.
inline std::uint8_t* export_get(StateStore& store, std::uint8_t* key_ptr, std::uint32_t key_len, std::uint32_t consistency,
                                std::uint8_t* metadata_ptr, std::uint32_t metadata_len) {
  release_results();
  GetRequest req;
  req.key = lift_string(key_ptr, key_len);
  req.consistency = lift_consistency(consistency);
  req.metadata = lift_metadata(metadata_ptr, metadata_len);
  parked.get = store.get(std::move(req));
  const GetResult& result = parked.get;
  store_u8(ret_area, result.ok() ? 0 : 1);
  if (result.ok()) {
    lower_option_get_response(ret_area + 4, *result);
  } else {
    lower_error(ret_area + 4, result.error());
  }
  return ret_area;
}

// set: func(req: set-request) -> result<_, error>; the request arrives flat (14 values).
inline std::uint8_t* export_set(StateStore& store, std::uint8_t* key_ptr, std::uint32_t key_len, std::uint8_t* value_ptr,
                                std::uint32_t value_len, std::uint32_t etag_is_some, std::uint8_t* etag_ptr,
                                std::uint32_t etag_len, std::uint32_t content_type_is_some, std::uint8_t* content_type_ptr,
                                std::uint32_t content_type_len, std::uint32_t concurrency, std::uint32_t consistency,
                                std::uint8_t* metadata_ptr, std::uint32_t metadata_len) {
  release_results();
  SetRequest req;
  req.key = lift_string(key_ptr, key_len);
  req.value = lift_bytes(value_ptr, value_len);
  req.etag = lift_option_string(etag_is_some, etag_ptr, etag_len);
  req.content_type = lift_option_string(content_type_is_some, content_type_ptr, content_type_len);
  req.concurrency = lift_concurrency(concurrency);
  req.consistency = lift_consistency(consistency);
  req.metadata = lift_metadata(metadata_ptr, metadata_len);
  return park_status(store.set(std::move(req)));
}

// delete: func(req: delete-request) -> result<_, error>; the request arrives flat (9 values).
inline std::uint8_t* export_delete(StateStore& store, std::uint8_t* key_ptr, std::uint32_t key_len, std::uint32_t etag_is_some,
                                   std::uint8_t* etag_ptr, std::uint32_t etag_len, std::uint32_t concurrency,
                                   std::uint32_t consistency, std::uint8_t* metadata_ptr, std::uint32_t metadata_len) {
  release_results();
  DeleteRequest req;
  req.key = lift_string(key_ptr, key_len);
  req.etag = lift_option_string(etag_is_some, etag_ptr, etag_len);
  req.concurrency = lift_concurrency(concurrency);
  req.consistency = lift_consistency(consistency);
  req.metadata = lift_metadata(metadata_ptr, metadata_len);
  return park_status(store.del(std::move(req)));
}

// bulk-get: func(reqs: list<get-request>) -> result<list<bulk-get-item>, error>
inline std::uint8_t* export_bulk_get(StateStore& store, std::uint8_t* ptr, std::uint32_t len) {
  release_results();
  parked.bulk_get = store.bulk_get(lift_list<GetRequest>(ptr, len, GET_REQUEST_SIZE, load_get_request));
  const BulkGetResult& result = parked.bulk_get;
  if (!result.ok()) {
    store_u8(ret_area, 1);
    lower_error(ret_area + 4, result.error());
    return ret_area;
  }
  // bulk-get-item: size 64; key 0, response option<get-response> 8, error option<string> 52.
  const std::vector<BulkGetItem>& items = *result;
  std::uint8_t* list = arena_alloc(BULK_GET_ITEM_SIZE * items.size());
  for (std::size_t i = 0; i < items.size(); i++) {
    std::uint8_t* at = list + BULK_GET_ITEM_SIZE * i;
    lower_string(at, items[i].key);
    lower_option_get_response(at + 8, items[i].response);
    lower_option_string(at + 52, items[i].error);
  }
  store_u8(ret_area, 0);
  store_ptr(ret_area + 4, list);
  store_u32(ret_area + 8, static_cast<std::uint32_t>(items.size()));
  return ret_area;
}

// bulk-set: func(reqs: list<set-request>) -> result<_, error>
inline std::uint8_t* export_bulk_set(StateStore& store, std::uint8_t* ptr, std::uint32_t len) {
  release_results();
  return park_status(store.bulk_set(lift_list<SetRequest>(ptr, len, SET_REQUEST_SIZE, load_set_request)));
}

// bulk-delete: func(reqs: list<delete-request>) -> result<_, error>
inline std::uint8_t* export_bulk_delete(StateStore& store, std::uint8_t* ptr, std::uint32_t len) {
  release_results();
  return park_status(store.bulk_delete(lift_list<DeleteRequest>(ptr, len, DELETE_REQUEST_SIZE, load_delete_request)));
}

// transact: func(operations: list<transact-operation>, metadata: metadata) -> result<_, error>
inline std::uint8_t* export_transact(StateStore& store, std::uint8_t* ptr, std::uint32_t len, std::uint8_t* metadata_ptr,
                                     std::uint32_t metadata_len) {
  release_results();
  std::vector<TransactOperation> operations =
      lift_list<TransactOperation>(ptr, len, TRANSACT_OPERATION_SIZE, load_transact_operation);
  return park_status(store.transact(std::move(operations), lift_metadata(metadata_ptr, metadata_len)));
}

// ping: func() -> result<_, error>
inline std::uint8_t* export_ping(StateStore& store) {
  release_results();
  return park_status(store.ping());
}

// snapshot: func() -> list<u8>. The bytes are lent, not copied: a snapshot can be most of the
// heap, and a copy could push a large store over its memory cap.
inline std::uint8_t* export_snapshot(Snapshotting& store) {
  release_results();
  parked.snapshot = store.snapshot();
  lower_bytes(ret_area, parked.snapshot);
  return ret_area;
}

// restore: func(data: list<u8>) -> result<_, error>
inline std::uint8_t* export_restore(Snapshotting& store, std::uint8_t* ptr, std::uint32_t len) {
  release_results();
  return park_status(store.restore(lift_bytes(ptr, len)));
}

}  // namespace tessera::detail
