// The export macros: each defines, once per module, the core exports of one world (the
// generated glue of each interface it exports, generated/abi/, plus `cabi_realloc`) around one
// instance of the component's class, which is created when the host calls `_initialize`. Use
// exactly one of them, in exactly one source file, at namespace scope.
#pragma once

#include <type_traits>

#include "binding.h"
#include "detail/snapshot_stream.h"
#include "generated/abi/binding.h"
#include "generated/abi/input.h"
#include "generated/abi/output.h"
#include "generated/abi/pubsub.h"
#include "generated/abi/snapshot.h"
#include "generated/abi/snapshot_stream.h"
#include "generated/abi/state.h"
#include "generated/package.h"
#include "pubsub.h"
#include "snapshot.h"
#include "state.h"

// The component lives for the whole instance: created by `_initialize` (static initialisation),
// never destroyed, so no exit-time machinery is linked in. `EXPORT_KIND` is the generated
// export macro of the interface the kind is built on (TESSERA_DETAIL_EXPORT_STATE, ..._PUBSUB).
#define TESSERA_DETAIL_WORLD(Type, Base, EXPORT_KIND, macro)                                                                  \
  static_assert(std::is_base_of_v<::tessera::Base, Type>, macro "(" #Type "): the class must derive from tessera::" #Base); \
  static Type& tessera_component_instance = *new Type();                                                                     \
  TESSERA_DETAIL_EXPORT_CABI_REALLOC()                                                                                       \
  EXPORT_KIND(tessera_component_instance)

// The kind's exports plus `snapshot`, over a component that also derives from Snapshotting.
#define TESSERA_DETAIL_SNAPSHOTTING_WORLD(Type, Base, EXPORT_KIND, macro)                                        \
  TESSERA_DETAIL_WORLD(Type, Base, EXPORT_KIND, macro)                                                           \
  static_assert(std::is_base_of_v<::tessera::Snapshotting, Type>,                                                \
                macro "(" #Type "): the class must also derive from tessera::Snapshotting");                     \
  TESSERA_DETAIL_EXPORT_SNAPSHOT(static_cast<::tessera::Snapshotting&>(tessera_component_instance)) \
  static_assert(true, "")

// The kind's exports plus `snapshot` and `snapshot-stream` through detail::StreamExports, over a
// component that also derives from StreamingSnapshot.
#define TESSERA_DETAIL_STREAMING_WORLD(Type, Base, EXPORT_KIND, macro)                                                        \
  TESSERA_DETAIL_WORLD(Type, Base, EXPORT_KIND, macro)                                                                        \
  static_assert(std::is_base_of_v<::tessera::StreamingSnapshot, Type>,                                                        \
                macro "(" #Type "): the class must also derive from tessera::StreamingSnapshot");                             \
  TESSERA_DETAIL_EXPORT_SNAPSHOT(::tessera::detail::StreamExports(tessera_component_instance))                                \
  TESSERA_DETAIL_EXPORT_SNAPSHOT_STREAM(::tessera::detail::StreamExports(tessera_component_instance))                         \
  static_assert(true, "")

/**
 * Exports `StoreType` (default-constructible, derived from `tessera::StateStore`) as the
 * module's implementation of WIT world `state-store`.
 */
#define TESSERA_EXPORT_STATE_STORE(StoreType) \
  TESSERA_DETAIL_WORLD(StoreType, StateStore, TESSERA_DETAIL_EXPORT_STATE, "TESSERA_EXPORT_STATE_STORE") static_assert(true, "")

/**
 * Exports `StoreType`, which also derives from `tessera::Snapshotting`, as the module's
 * implementation of WIT world `snapshotting-state-store`: the state-store exports plus
 * `tessera:components/snapshot@0.1.0#snapshot` and `#restore`.
 */
#define TESSERA_EXPORT_SNAPSHOTTING_STATE_STORE(StoreType) \
  TESSERA_DETAIL_SNAPSHOTTING_WORLD(StoreType, StateStore, TESSERA_DETAIL_EXPORT_STATE, "TESSERA_EXPORT_SNAPSHOTTING_STATE_STORE")

/**
 * Exports `StoreType`, which also derives from `tessera::StreamingSnapshot`, as the module's
 * implementation of WIT world `snapshotting-state-store`: the state-store exports plus
 * `tessera:components/snapshot-stream@0.1.0#snapshot-begin`, `#snapshot-chunk`,
 * `#restore-chunk` and `#restore-end`, and `tessera:components/snapshot@0.1.0#snapshot` and
 * `#restore` built from the same records (for a host that knows only those).
 */
#define TESSERA_EXPORT_STREAMING_STATE_STORE(StoreType) \
  TESSERA_DETAIL_STREAMING_WORLD(StoreType, StateStore, TESSERA_DETAIL_EXPORT_STATE, "TESSERA_EXPORT_STREAMING_STATE_STORE")

/**
 * Exports `BrokerType` (default-constructible, derived from `tessera::PubSub`) as the module's
 * implementation of WIT world `pubsub-broker`. Pair it with `TESSERA_PUBSUB_MANIFEST`.
 */
#define TESSERA_EXPORT_PUBSUB(BrokerType) \
  TESSERA_DETAIL_WORLD(BrokerType, PubSub, TESSERA_DETAIL_EXPORT_PUBSUB, "TESSERA_EXPORT_PUBSUB") static_assert(true, "")

/**
 * Exports `BrokerType`, which also derives from `tessera::Snapshotting`, as the module's
 * implementation of WIT world `snapshotting-pubsub-broker`: the pubsub exports plus
 * `tessera:components/snapshot@0.1.0#snapshot` and `#restore`.
 */
#define TESSERA_EXPORT_SNAPSHOTTING_PUBSUB(BrokerType) \
  TESSERA_DETAIL_SNAPSHOTTING_WORLD(BrokerType, PubSub, TESSERA_DETAIL_EXPORT_PUBSUB, "TESSERA_EXPORT_SNAPSHOTTING_PUBSUB")

/**
 * Exports `BrokerType`, which also derives from `tessera::StreamingSnapshot`, as the module's
 * implementation of WIT world `snapshotting-pubsub-broker`: the pubsub exports plus the
 * `snapshot-stream` interface, and `snapshot` built from the same records.
 */
#define TESSERA_EXPORT_STREAMING_PUBSUB(BrokerType) \
  TESSERA_DETAIL_STREAMING_WORLD(BrokerType, PubSub, TESSERA_DETAIL_EXPORT_PUBSUB, "TESSERA_EXPORT_STREAMING_PUBSUB")

// The `binding` exports (init, ping) of a binding of either direction, called through its one
// `Binding` base (a virtual base, shared by both directions).
#define TESSERA_DETAIL_BINDING_WORLD(Type, Base, EXPORT_KIND, macro)                                        \
  TESSERA_DETAIL_WORLD(Type, Base, EXPORT_KIND, macro)                                                      \
  TESSERA_DETAIL_EXPORT_BINDING(static_cast<::tessera::Binding&>(tessera_component_instance))

/**
 * Exports `BindingType` (default-constructible, derived from `tessera::OutputBinding`) as the
 * module's implementation of WIT world `output-binding`. Pair it with `TESSERA_BINDING_MANIFEST`.
 */
#define TESSERA_EXPORT_OUTPUT_BINDING(BindingType)                                                                  \
  TESSERA_DETAIL_BINDING_WORLD(BindingType, OutputBinding, TESSERA_DETAIL_EXPORT_OUTPUT, "TESSERA_EXPORT_OUTPUT_BINDING") \
  static_assert(true, "")

/**
 * Exports `BindingType` (default-constructible, derived from `tessera::InputBinding`) as the
 * module's implementation of WIT world `input-binding`. Pair it with `TESSERA_BINDING_MANIFEST`.
 */
#define TESSERA_EXPORT_INPUT_BINDING(BindingType)                                                                 \
  TESSERA_DETAIL_BINDING_WORLD(BindingType, InputBinding, TESSERA_DETAIL_EXPORT_INPUT, "TESSERA_EXPORT_INPUT_BINDING") \
  static_assert(true, "")

/**
 * Exports `BindingType`, derived from both `tessera::InputBinding` and `tessera::OutputBinding`,
 * as the module's implementation of WIT world `input-output-binding` (Dapr's
 * `direction: input, output`).
 */
#define TESSERA_EXPORT_INPUT_OUTPUT_BINDING(BindingType)                                                               \
  TESSERA_DETAIL_BINDING_WORLD(BindingType, OutputBinding, TESSERA_DETAIL_EXPORT_OUTPUT,                               \
                               "TESSERA_EXPORT_INPUT_OUTPUT_BINDING")                                                   \
  static_assert(std::is_base_of_v<::tessera::InputBinding, BindingType>,                                              \
                "TESSERA_EXPORT_INPUT_OUTPUT_BINDING(" #BindingType "): the class must also derive from tessera::InputBinding"); \
  TESSERA_DETAIL_EXPORT_INPUT(tessera_component_instance)                                                              \
  static_assert(true, "")
