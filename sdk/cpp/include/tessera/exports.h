// The export macros: each defines, once per module, the core exports of one world under
// wit-bindgen's names (`tessera:components/state@0.1.0#get`, its
// `cabi_post_tessera:components/state@0.1.0#get`, `cabi_realloc`; likewise
// `tessera:components/pubsub@0.1.0#publish`) around one instance of the component's class,
// which is created when the host calls `_initialize`. Use exactly one of them, in exactly one
// source file, at namespace scope.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "detail/canonical.h"
#include "detail/pubsub_canonical.h"
#include "detail/snapshot_stream.h"
#include "pubsub.h"
#include "snapshot.h"
#include "state.h"
#include "types.h"

#define TESSERA_DETAIL_EXPORT_AS(name) __attribute__((export_name(name)))
#define TESSERA_DETAIL_STATE_FN(f) "tessera:components/state@" TESSERA_ABI_VERSION "#" f
#define TESSERA_DETAIL_SNAPSHOT_FN(f) "tessera:components/snapshot@" TESSERA_ABI_VERSION "#" f
#define TESSERA_DETAIL_SNAPSHOT_STREAM_FN(f) "tessera:components/snapshot-stream@" TESSERA_ABI_VERSION "#" f
#define TESSERA_DETAIL_PUBSUB_FN(f) "tessera:components/pubsub@" TESSERA_ABI_VERSION "#" f

// Every post-return releases what the last export lowered; the pointer is the return area.
#define TESSERA_DETAIL_POST_RETURN(c_name, export_name)                         \
  TESSERA_DETAIL_EXPORT_AS("cabi_post_" export_name) void c_name(std::uint8_t*) { \
    ::tessera::detail::release_results();                                       \
  }

// The store lives for the whole instance: created by `_initialize` (static initialisation),
// never destroyed, so no exit-time machinery is linked in.
#define TESSERA_DETAIL_STATE_EXPORTS(StoreType)                                                                        \
  static_assert(std::is_base_of_v<::tessera::StateStore, StoreType>,                                                 \
                "TESSERA_EXPORT_STATE_STORE(" #StoreType "): the class must derive from tessera::StateStore");       \
  static StoreType& tessera_store_instance = *new StoreType();                                                       \
  extern "C" {                                                                                                       \
  TESSERA_DETAIL_EXPORT_AS("cabi_realloc")                                                                           \
  void* tessera_export_cabi_realloc(void* old_ptr, std::size_t old_size, std::size_t align, std::size_t new_size) {  \
    return ::tessera::detail::cabi_realloc(old_ptr, old_size, align, new_size);                                      \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_STATE_FN("init"))                                                          \
  std::uint8_t* tessera_export_state_init(std::uint8_t* ptr, std::uint32_t len) {                                    \
    return ::tessera::detail::export_init(tessera_store_instance, ptr, len);                                         \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_STATE_FN("features"))                                                      \
  std::uint8_t* tessera_export_state_features() { return ::tessera::detail::export_features(tessera_store_instance); } \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_STATE_FN("get"))                                                           \
  std::uint8_t* tessera_export_state_get(std::uint8_t* k, std::uint32_t kl, std::uint32_t c, std::uint8_t* m,        \
                                         std::uint32_t ml) {                                                         \
    return ::tessera::detail::export_get(tessera_store_instance, k, kl, c, m, ml);                                   \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_STATE_FN("set"))                                                           \
  std::uint8_t* tessera_export_state_set(std::uint8_t* k, std::uint32_t kl, std::uint8_t* v, std::uint32_t vl,       \
                                         std::uint32_t e, std::uint8_t* ep, std::uint32_t el, std::uint32_t t,       \
                                         std::uint8_t* tp, std::uint32_t tl, std::uint32_t cc, std::uint32_t cs,     \
                                         std::uint8_t* m, std::uint32_t ml) {                                        \
    return ::tessera::detail::export_set(tessera_store_instance, k, kl, v, vl, e, ep, el, t, tp, tl, cc, cs, m, ml); \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_STATE_FN("delete"))                                                        \
  std::uint8_t* tessera_export_state_delete(std::uint8_t* k, std::uint32_t kl, std::uint32_t e, std::uint8_t* ep,    \
                                            std::uint32_t el, std::uint32_t cc, std::uint32_t cs, std::uint8_t* m,   \
                                            std::uint32_t ml) {                                                      \
    return ::tessera::detail::export_delete(tessera_store_instance, k, kl, e, ep, el, cc, cs, m, ml);                \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_STATE_FN("bulk-get"))                                                      \
  std::uint8_t* tessera_export_state_bulk_get(std::uint8_t* ptr, std::uint32_t len) {                                \
    return ::tessera::detail::export_bulk_get(tessera_store_instance, ptr, len);                                     \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_STATE_FN("bulk-set"))                                                      \
  std::uint8_t* tessera_export_state_bulk_set(std::uint8_t* ptr, std::uint32_t len) {                                \
    return ::tessera::detail::export_bulk_set(tessera_store_instance, ptr, len);                                     \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_STATE_FN("bulk-delete"))                                                   \
  std::uint8_t* tessera_export_state_bulk_delete(std::uint8_t* ptr, std::uint32_t len) {                             \
    return ::tessera::detail::export_bulk_delete(tessera_store_instance, ptr, len);                                  \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_STATE_FN("transact"))                                                      \
  std::uint8_t* tessera_export_state_transact(std::uint8_t* ptr, std::uint32_t len, std::uint8_t* m,                 \
                                              std::uint32_t ml) {                                                    \
    return ::tessera::detail::export_transact(tessera_store_instance, ptr, len, m, ml);                              \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_STATE_FN("ping"))                                                          \
  std::uint8_t* tessera_export_state_ping() { return ::tessera::detail::export_ping(tessera_store_instance); }       \
  TESSERA_DETAIL_POST_RETURN(tessera_post_state_init, TESSERA_DETAIL_STATE_FN("init"))                               \
  TESSERA_DETAIL_POST_RETURN(tessera_post_state_features, TESSERA_DETAIL_STATE_FN("features"))                       \
  TESSERA_DETAIL_POST_RETURN(tessera_post_state_get, TESSERA_DETAIL_STATE_FN("get"))                                 \
  TESSERA_DETAIL_POST_RETURN(tessera_post_state_set, TESSERA_DETAIL_STATE_FN("set"))                                 \
  TESSERA_DETAIL_POST_RETURN(tessera_post_state_delete, TESSERA_DETAIL_STATE_FN("delete"))                           \
  TESSERA_DETAIL_POST_RETURN(tessera_post_state_bulk_get, TESSERA_DETAIL_STATE_FN("bulk-get"))                       \
  TESSERA_DETAIL_POST_RETURN(tessera_post_state_bulk_set, TESSERA_DETAIL_STATE_FN("bulk-set"))                       \
  TESSERA_DETAIL_POST_RETURN(tessera_post_state_bulk_delete, TESSERA_DETAIL_STATE_FN("bulk-delete"))                 \
  TESSERA_DETAIL_POST_RETURN(tessera_post_state_transact, TESSERA_DETAIL_STATE_FN("transact"))                       \
  TESSERA_DETAIL_POST_RETURN(tessera_post_state_ping, TESSERA_DETAIL_STATE_FN("ping"))                               \
  }

/**
 * Exports `StoreType` (default-constructible, derived from `tessera::StateStore`) as the
 * module's implementation of WIT world `state-store`.
 */
#define TESSERA_EXPORT_STATE_STORE(StoreType) TESSERA_DETAIL_STATE_EXPORTS(StoreType) static_assert(true, "")

/**
 * Exports `StoreType`, which also derives from `tessera::Snapshotting`, as the module's
 * implementation of WIT world `snapshotting-state-store`: the state-store exports plus
 * `tessera:components/snapshot@0.1.0#snapshot` and `#restore`.
 */
#define TESSERA_EXPORT_SNAPSHOTTING_STATE_STORE(StoreType)                                                           \
  TESSERA_DETAIL_STATE_EXPORTS(StoreType)                                                                            \
  static_assert(std::is_base_of_v<::tessera::Snapshotting, StoreType>,                                               \
                "TESSERA_EXPORT_SNAPSHOTTING_STATE_STORE(" #StoreType "): the class must also derive from "          \
                "tessera::Snapshotting");                                                                            \
  extern "C" {                                                                                                       \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_SNAPSHOT_FN("snapshot"))                                                   \
  std::uint8_t* tessera_export_snapshot_snapshot() {                                                                 \
    return ::tessera::detail::export_snapshot(static_cast<::tessera::Snapshotting&>(tessera_store_instance));        \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_SNAPSHOT_FN("restore"))                                                    \
  std::uint8_t* tessera_export_snapshot_restore(std::uint8_t* ptr, std::uint32_t len) {                              \
    return ::tessera::detail::export_restore(static_cast<::tessera::Snapshotting&>(tessera_store_instance), ptr, len); \
  }                                                                                                                  \
  TESSERA_DETAIL_POST_RETURN(tessera_post_snapshot_snapshot, TESSERA_DETAIL_SNAPSHOT_FN("snapshot"))                 \
  TESSERA_DETAIL_POST_RETURN(tessera_post_snapshot_restore, TESSERA_DETAIL_SNAPSHOT_FN("restore"))                   \
  }                                                                                                                  \
  static_assert(true, "")

// The interfaces `snapshot` and `snapshot-stream` of a component deriving from
// `tessera::StreamingSnapshot`, over `instance`; `release` is its kind's release function.
// Their post-returns release the stream's results only, so the stream goes on.
#define TESSERA_DETAIL_STREAM_POST_RETURN(c_name, export_name)                  \
  TESSERA_DETAIL_EXPORT_AS("cabi_post_" export_name) void c_name(std::uint8_t*) { \
    ::tessera::detail::release_stream_results();                                \
  }

#define TESSERA_DETAIL_STREAM_EXPORTS(instance, release)                                                             \
  extern "C" {                                                                                                       \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_SNAPSHOT_FN("snapshot"))                                                   \
  std::uint8_t* tessera_export_snapshot_snapshot() {                                                                 \
    return ::tessera::detail::export_whole_snapshot(static_cast<::tessera::StreamingSnapshot&>(instance), release);   \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_SNAPSHOT_FN("restore"))                                                    \
  std::uint8_t* tessera_export_snapshot_restore(std::uint8_t* ptr, std::uint32_t len) {                              \
    return ::tessera::detail::export_whole_restore(static_cast<::tessera::StreamingSnapshot&>(instance), ptr, len,    \
                                                   release);                                                         \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_SNAPSHOT_STREAM_FN("snapshot-begin"))                                      \
  void tessera_export_snapshot_stream_snapshot_begin() {                                                             \
    ::tessera::detail::export_snapshot_begin(static_cast<::tessera::StreamingSnapshot&>(instance), release);         \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_SNAPSHOT_STREAM_FN("snapshot-chunk"))                                      \
  std::uint8_t* tessera_export_snapshot_stream_snapshot_chunk(std::uint32_t max_bytes) {                             \
    return ::tessera::detail::export_snapshot_chunk(static_cast<::tessera::StreamingSnapshot&>(instance), max_bytes, \
                                                    release);                                                        \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_SNAPSHOT_STREAM_FN("restore-chunk"))                                       \
  std::uint8_t* tessera_export_snapshot_stream_restore_chunk(std::uint8_t* ptr, std::uint32_t len) {                 \
    return ::tessera::detail::export_restore_chunk(static_cast<::tessera::StreamingSnapshot&>(instance), ptr, len,    \
                                                   release);                                                         \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_SNAPSHOT_STREAM_FN("restore-end"))                                         \
  std::uint8_t* tessera_export_snapshot_stream_restore_end() {                                                       \
    return ::tessera::detail::export_restore_end(static_cast<::tessera::StreamingSnapshot&>(instance), release);     \
  }                                                                                                                  \
  TESSERA_DETAIL_STREAM_POST_RETURN(tessera_post_snapshot_snapshot, TESSERA_DETAIL_SNAPSHOT_FN("snapshot"))          \
  TESSERA_DETAIL_STREAM_POST_RETURN(tessera_post_snapshot_restore, TESSERA_DETAIL_SNAPSHOT_FN("restore"))            \
  TESSERA_DETAIL_STREAM_POST_RETURN(tessera_post_snapshot_stream_snapshot_chunk,                                     \
                                    TESSERA_DETAIL_SNAPSHOT_STREAM_FN("snapshot-chunk"))                             \
  TESSERA_DETAIL_STREAM_POST_RETURN(tessera_post_snapshot_stream_restore_chunk,                                      \
                                    TESSERA_DETAIL_SNAPSHOT_STREAM_FN("restore-chunk"))                              \
  TESSERA_DETAIL_STREAM_POST_RETURN(tessera_post_snapshot_stream_restore_end,                                        \
                                    TESSERA_DETAIL_SNAPSHOT_STREAM_FN("restore-end"))                                \
  }

/**
 * Exports `StoreType`, which also derives from `tessera::StreamingSnapshot`, as the module's
 * implementation of WIT world `snapshotting-state-store`: the state-store exports plus
 * `tessera:components/snapshot-stream@0.1.0#snapshot-begin`, `#snapshot-chunk`,
 * `#restore-chunk` and `#restore-end`, and `tessera:components/snapshot@0.1.0#snapshot` and
 * `#restore` built from the same records (for a host that knows only those).
 */
#define TESSERA_EXPORT_STREAMING_STATE_STORE(StoreType)                                                              \
  TESSERA_DETAIL_STATE_EXPORTS(StoreType)                                                                            \
  static_assert(std::is_base_of_v<::tessera::StreamingSnapshot, StoreType>,                                          \
                "TESSERA_EXPORT_STREAMING_STATE_STORE(" #StoreType "): the class must also derive from "             \
                "tessera::StreamingSnapshot");                                                                       \
  TESSERA_DETAIL_STREAM_EXPORTS(tessera_store_instance, ::tessera::detail::release_results)                          \
  static_assert(true, "")

// ---------------------------------------------------------------------------------------
// World pubsub-broker (kind "pubsub").

#define TESSERA_DETAIL_PUBSUB_POST_RETURN(c_name, export_name)                  \
  TESSERA_DETAIL_EXPORT_AS("cabi_post_" export_name) void c_name(std::uint8_t*) { \
    ::tessera::detail::release_pubsub_results();                                \
  }

// The broker lives for the whole instance: created by `_initialize`, never destroyed.
#define TESSERA_DETAIL_PUBSUB_EXPORTS(BrokerType)                                                                      \
  static_assert(std::is_base_of_v<::tessera::PubSub, BrokerType>,                                                    \
                "TESSERA_EXPORT_PUBSUB(" #BrokerType "): the class must derive from tessera::PubSub");               \
  static BrokerType& tessera_pubsub_instance = *new BrokerType();                                                    \
  extern "C" {                                                                                                       \
  TESSERA_DETAIL_EXPORT_AS("cabi_realloc")                                                                           \
  void* tessera_export_cabi_realloc(void* old_ptr, std::size_t old_size, std::size_t align, std::size_t new_size) {  \
    return ::tessera::detail::cabi_realloc(old_ptr, old_size, align, new_size);                                      \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_PUBSUB_FN("init"))                                                         \
  std::uint8_t* tessera_export_pubsub_init(std::uint8_t* ptr, std::uint32_t len) {                                   \
    return ::tessera::detail::pubsub_export_init(tessera_pubsub_instance, ptr, len);                                 \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_PUBSUB_FN("features"))                                                     \
  std::uint8_t* tessera_export_pubsub_features() {                                                                   \
    return ::tessera::detail::pubsub_export_features(tessera_pubsub_instance);                                       \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_PUBSUB_FN("publish"))                                                      \
  std::uint8_t* tessera_export_pubsub_publish(std::uint8_t* t, std::uint32_t tl, std::uint8_t* d, std::uint32_t dl,  \
                                              std::uint32_t c, std::uint8_t* cp, std::uint32_t cl, std::uint8_t* m,  \
                                              std::uint32_t ml) {                                                    \
    return ::tessera::detail::pubsub_export_publish(tessera_pubsub_instance, t, tl, d, dl, c, cp, cl, m, ml);        \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_PUBSUB_FN("bulk-publish"))                                                 \
  std::uint8_t* tessera_export_pubsub_bulk_publish(std::uint8_t* t, std::uint32_t tl, std::uint8_t* e,               \
                                                   std::uint32_t el, std::uint8_t* m, std::uint32_t ml) {            \
    return ::tessera::detail::pubsub_export_bulk_publish(tessera_pubsub_instance, t, tl, e, el, m, ml);              \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_PUBSUB_FN("subscribe"))                                                    \
  std::uint8_t* tessera_export_pubsub_subscribe(std::uint8_t* t, std::uint32_t tl, std::uint8_t* m, std::uint32_t ml) { \
    return ::tessera::detail::pubsub_export_subscribe(tessera_pubsub_instance, t, tl, m, ml);                        \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_PUBSUB_FN("pull"))                                                         \
  std::uint8_t* tessera_export_pubsub_pull(std::uint64_t s, std::uint32_t max, std::uint32_t timeout) {              \
    return ::tessera::detail::pubsub_export_pull(tessera_pubsub_instance, s, max, timeout);                          \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_PUBSUB_FN("ack"))                                                          \
  std::uint8_t* tessera_export_pubsub_ack(std::uint64_t s, std::uint8_t* id, std::uint32_t idl, std::uint32_t o) {  \
    return ::tessera::detail::pubsub_export_ack(tessera_pubsub_instance, s, id, idl, o);                             \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_PUBSUB_FN("unsubscribe"))                                                  \
  std::uint8_t* tessera_export_pubsub_unsubscribe(std::uint64_t s) {                                                 \
    return ::tessera::detail::pubsub_export_unsubscribe(tessera_pubsub_instance, s);                                 \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_PUBSUB_FN("ping"))                                                         \
  std::uint8_t* tessera_export_pubsub_ping() { return ::tessera::detail::pubsub_export_ping(tessera_pubsub_instance); } \
  TESSERA_DETAIL_PUBSUB_POST_RETURN(tessera_post_pubsub_init, TESSERA_DETAIL_PUBSUB_FN("init"))                      \
  TESSERA_DETAIL_PUBSUB_POST_RETURN(tessera_post_pubsub_features, TESSERA_DETAIL_PUBSUB_FN("features"))              \
  TESSERA_DETAIL_PUBSUB_POST_RETURN(tessera_post_pubsub_publish, TESSERA_DETAIL_PUBSUB_FN("publish"))                \
  TESSERA_DETAIL_PUBSUB_POST_RETURN(tessera_post_pubsub_bulk_publish, TESSERA_DETAIL_PUBSUB_FN("bulk-publish"))      \
  TESSERA_DETAIL_PUBSUB_POST_RETURN(tessera_post_pubsub_subscribe, TESSERA_DETAIL_PUBSUB_FN("subscribe"))            \
  TESSERA_DETAIL_PUBSUB_POST_RETURN(tessera_post_pubsub_pull, TESSERA_DETAIL_PUBSUB_FN("pull"))                      \
  TESSERA_DETAIL_PUBSUB_POST_RETURN(tessera_post_pubsub_ack, TESSERA_DETAIL_PUBSUB_FN("ack"))                        \
  TESSERA_DETAIL_PUBSUB_POST_RETURN(tessera_post_pubsub_unsubscribe, TESSERA_DETAIL_PUBSUB_FN("unsubscribe"))        \
  TESSERA_DETAIL_PUBSUB_POST_RETURN(tessera_post_pubsub_ping, TESSERA_DETAIL_PUBSUB_FN("ping"))                      \
  }

/**
 * Exports `BrokerType` (default-constructible, derived from `tessera::PubSub`) as the module's
 * implementation of WIT world `pubsub-broker`. Pair it with `TESSERA_PUBSUB_MANIFEST`.
 */
#define TESSERA_EXPORT_PUBSUB(BrokerType) TESSERA_DETAIL_PUBSUB_EXPORTS(BrokerType) static_assert(true, "")

/**
 * Exports `BrokerType`, which also derives from `tessera::Snapshotting`, as the module's
 * implementation of WIT world `snapshotting-pubsub-broker`: the pubsub exports plus
 * `tessera:components/snapshot@0.1.0#snapshot` and `#restore`.
 */
#define TESSERA_EXPORT_SNAPSHOTTING_PUBSUB(BrokerType)                                                               \
  TESSERA_DETAIL_PUBSUB_EXPORTS(BrokerType)                                                                          \
  static_assert(std::is_base_of_v<::tessera::Snapshotting, BrokerType>,                                              \
                "TESSERA_EXPORT_SNAPSHOTTING_PUBSUB(" #BrokerType "): the class must also derive from "              \
                "tessera::Snapshotting");                                                                            \
  extern "C" {                                                                                                       \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_SNAPSHOT_FN("snapshot"))                                                   \
  std::uint8_t* tessera_export_snapshot_snapshot() {                                                                 \
    return ::tessera::detail::pubsub_export_snapshot(static_cast<::tessera::Snapshotting&>(tessera_pubsub_instance)); \
  }                                                                                                                  \
  TESSERA_DETAIL_EXPORT_AS(TESSERA_DETAIL_SNAPSHOT_FN("restore"))                                                    \
  std::uint8_t* tessera_export_snapshot_restore(std::uint8_t* ptr, std::uint32_t len) {                              \
    return ::tessera::detail::pubsub_export_restore(static_cast<::tessera::Snapshotting&>(tessera_pubsub_instance),  \
                                                    ptr, len);                                                       \
  }                                                                                                                  \
  TESSERA_DETAIL_PUBSUB_POST_RETURN(tessera_post_snapshot_snapshot, TESSERA_DETAIL_SNAPSHOT_FN("snapshot"))          \
  TESSERA_DETAIL_PUBSUB_POST_RETURN(tessera_post_snapshot_restore, TESSERA_DETAIL_SNAPSHOT_FN("restore"))            \
  }                                                                                                                  \
  static_assert(true, "")

/**
 * Exports `BrokerType`, which also derives from `tessera::StreamingSnapshot`, as the module's
 * implementation of WIT world `snapshotting-pubsub-broker`: the pubsub exports plus the
 * `snapshot-stream` interface, and `snapshot` built from the same records.
 */
#define TESSERA_EXPORT_STREAMING_PUBSUB(BrokerType)                                                                  \
  TESSERA_DETAIL_PUBSUB_EXPORTS(BrokerType)                                                                          \
  static_assert(std::is_base_of_v<::tessera::StreamingSnapshot, BrokerType>,                                         \
                "TESSERA_EXPORT_STREAMING_PUBSUB(" #BrokerType "): the class must also derive from "                 \
                "tessera::StreamingSnapshot");                                                                       \
  TESSERA_DETAIL_STREAM_EXPORTS(tessera_pubsub_instance, ::tessera::detail::release_pubsub_results)                  \
  static_assert(true, "")
