// The export macros: the canonical-ABI exports of a world under wit-bindgen's names, the
// allocator, the post-returns and the manifest section, for one store or broker type. The
// export names spell ABI 0.1.0, as `manifest::ABI_VERSION` does: a new ABI version changes both.

/// Exports `$store` as the component's state store (WIT world `state-store`) and writes the
/// `tessera:manifest` section. Use it once, at the top level of the crate:
///
/// ```ignore
/// tessera_sdk::export_state_store! {
///     store: KvStore,
///     type: "state.kv",
///     version: "v1",
///     capabilities: [log],
///     description: "A plain in-memory key/value store.",
/// }
/// ```
///
/// `$store` implements [`StateStore`](crate::StateStore) and `Default` (the host builds it on
/// the first call). `capabilities` are the host interfaces the component imports — exactly
/// those: the host refuses an import its manifest does not list, and the Rust builder
/// (host/toolchain/rust.ts) refuses a manifest that lists one the module does not import.
/// `type`, `version` and `capabilities` are checked against the manifest schema at compile
/// time. With the `log` capability, a panic is logged at error level before it traps.
#[macro_export]
macro_rules! export_state_store {
    (
        store: $store:ty,
        type: $type:literal,
        version: $version:literal,
        capabilities: [$($capability:ident),* $(,)?]
        $(, description: $description:literal)?
        $(,)?
    ) => {
        const _: () = {
            $crate::__tessera_export_state!($store, $type, $version, [$($capability),*], [$($description)?]);
        };
    };
}

/// [`export_state_store!`] plus the `snapshot` interface (WIT world
/// `snapshotting-state-store`): `$store` also implements [`Snapshot`](crate::Snapshot), and
/// its data crosses a hot swap. Same arguments.
#[macro_export]
macro_rules! export_snapshotting_state_store {
    (
        store: $store:ty,
        type: $type:literal,
        version: $version:literal,
        capabilities: [$($capability:ident),* $(,)?]
        $(, description: $description:literal)?
        $(,)?
    ) => {
        const _: () = {
            $crate::__tessera_export_state!($store, $type, $version, [$($capability),*], [$($description)?]);
            $crate::__tessera_export_snapshot!();
        };
    };
}

/// [`export_state_store!`] plus the interfaces `snapshot-stream` and `snapshot` (WIT world
/// `snapshotting-state-store`): `$store` also implements
/// [`SnapshotStream`](crate::SnapshotStream), whose records make both the chunks the host
/// prefers and the whole snapshot an older host asks for. Same arguments.
#[macro_export]
macro_rules! export_streaming_state_store {
    (
        store: $store:ty,
        type: $type:literal,
        version: $version:literal,
        capabilities: [$($capability:ident),* $(,)?]
        $(, description: $description:literal)?
        $(,)?
    ) => {
        const _: () = {
            $crate::__tessera_export_state!($store, $type, $version, [$($capability),*], [$($description)?]);
            $crate::__tessera_export_snapshot_stream!($store);
        };
    };
}

/// Exports `$broker` as the component's pub/sub broker (WIT world `pubsub-broker`) and writes
/// the `tessera:manifest` section (`kind` `pubsub`). Use it once, at the top level of the
/// crate:
///
/// ```ignore
/// tessera_sdk::export_pubsub! {
///     broker: RedisStreams,
///     type: "pubsub.redis",
///     version: "v1",
///     capabilities: [log, clock, random, tcp],
///     description: "Redis Streams with consumer groups.",
/// }
/// ```
///
/// `$broker` implements [`PubSub`](crate::PubSub) and `Default` (the host builds it on the
/// first call). `type` is `pubsub.<name>`; the other arguments are those of
/// [`export_state_store!`].
#[macro_export]
macro_rules! export_pubsub {
    (
        broker: $broker:ty,
        type: $type:literal,
        version: $version:literal,
        capabilities: [$($capability:ident),* $(,)?]
        $(, description: $description:literal)?
        $(,)?
    ) => {
        const _: () = {
            $crate::__tessera_export_pubsub!($broker, $type, $version, [$($capability),*], [$($description)?]);
        };
    };
}

/// [`export_pubsub!`] plus the `snapshot` interface (WIT world
/// `snapshotting-pubsub-broker`), for a broker whose messages live in its own memory:
/// `$broker` also implements [`Snapshot`](crate::Snapshot). Same arguments.
#[macro_export]
macro_rules! export_snapshotting_pubsub {
    (
        broker: $broker:ty,
        type: $type:literal,
        version: $version:literal,
        capabilities: [$($capability:ident),* $(,)?]
        $(, description: $description:literal)?
        $(,)?
    ) => {
        const _: () = {
            $crate::__tessera_export_pubsub!($broker, $type, $version, [$($capability),*], [$($description)?]);
            $crate::__tessera_export_snapshot!();
        };
    };
}

/// [`export_pubsub!`] plus the interfaces `snapshot-stream` and `snapshot` (WIT world
/// `snapshotting-pubsub-broker`): `$broker` also implements
/// [`SnapshotStream`](crate::SnapshotStream). Same arguments.
#[macro_export]
macro_rules! export_streaming_pubsub {
    (
        broker: $broker:ty,
        type: $type:literal,
        version: $version:literal,
        capabilities: [$($capability:ident),* $(,)?]
        $(, description: $description:literal)?
        $(,)?
    ) => {
        const _: () = {
            $crate::__tessera_export_pubsub!($broker, $type, $version, [$($capability),*], [$($description)?]);
            $crate::__tessera_export_snapshot_stream!($broker);
        };
    };
}

/// The allocator, the component's one store or broker, and its manifest.
#[doc(hidden)]
#[macro_export]
macro_rules! __tessera_export_common {
    ($kind:literal, $store:ty, $type:literal, $version:literal, [$($capability:ident),*], [$($description:literal)?]) => {
        static __TESSERA_STORE: $crate::__private::StoreCell<$store> = $crate::__private::StoreCell::new();

        const __TESSERA_MANIFEST_FIELDS: $crate::__private::ManifestFields<'static> = $crate::__private::ManifestFields {
            kind: $kind,
            component_type: $type,
            version: $version,
            capabilities: &[$(stringify!($capability)),*],
            description: &[$($description)?],
        };

        #[link_section = "tessera:manifest"]
        #[used]
        static __TESSERA_MANIFEST: [u8; $crate::__private::manifest_len(&__TESSERA_MANIFEST_FIELDS)] =
            $crate::__private::manifest(&__TESSERA_MANIFEST_FIELDS);

        #[export_name = "cabi_realloc"]
        unsafe extern "C" fn __tessera_cabi_realloc(old_ptr: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
            $crate::__private::cabi_realloc(old_ptr, old_size, align, new_size)
        }

        /// Called first by `init`. A constant test: without `log` the hook and the import it
        /// would pull are compiled out.
        fn __tessera_log_panics() {
            if $crate::__private::lists_capability(&__TESSERA_MANIFEST_FIELDS, "log") {
                $crate::__private::log_panics();
            }
        }
    };
}

/// The `snapshot` interface over `__TESSERA_STORE`.
#[doc(hidden)]
#[macro_export]
macro_rules! __tessera_export_snapshot {
    () => {
        #[export_name = "tessera:components/snapshot@0.1.0#snapshot"]
        unsafe extern "C" fn __tessera_snapshot() -> *mut u8 {
            $crate::__private::snapshot(__TESSERA_STORE.get())
        }
        #[export_name = "cabi_post_tessera:components/snapshot@0.1.0#snapshot"]
        unsafe extern "C" fn __tessera_post_snapshot(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/snapshot@0.1.0#restore"]
        unsafe extern "C" fn __tessera_restore(ptr: usize, len: usize) -> *mut u8 {
            $crate::__private::restore(__TESSERA_STORE.get(), ptr, len)
        }
        #[export_name = "cabi_post_tessera:components/snapshot@0.1.0#restore"]
        unsafe extern "C" fn __tessera_post_restore(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }
    };
}

/// The `snapshot-stream` interface over `__TESSERA_STORE`, and `snapshot` built from it.
#[doc(hidden)]
#[macro_export]
macro_rules! __tessera_export_snapshot_stream {
    ($store:ty) => {
        static __TESSERA_STREAM: $crate::__private::StreamCell<$store> = $crate::__private::StreamCell::new();

        #[export_name = "tessera:components/snapshot@0.1.0#snapshot"]
        unsafe extern "C" fn __tessera_snapshot() -> *mut u8 {
            $crate::__private::snapshot_from_stream(__TESSERA_STORE.get())
        }
        #[export_name = "cabi_post_tessera:components/snapshot@0.1.0#snapshot"]
        unsafe extern "C" fn __tessera_post_snapshot(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/snapshot@0.1.0#restore"]
        unsafe extern "C" fn __tessera_restore(ptr: usize, len: usize) -> *mut u8 {
            $crate::__private::restore_from_stream(__TESSERA_STORE.get(), ptr, len)
        }
        #[export_name = "cabi_post_tessera:components/snapshot@0.1.0#restore"]
        unsafe extern "C" fn __tessera_post_restore(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/snapshot-stream@0.1.0#snapshot-begin"]
        unsafe extern "C" fn __tessera_snapshot_begin() {
            $crate::__private::snapshot_begin(__TESSERA_STORE.get(), &__TESSERA_STREAM)
        }

        #[export_name = "tessera:components/snapshot-stream@0.1.0#snapshot-chunk"]
        unsafe extern "C" fn __tessera_snapshot_chunk(max_bytes: u32) -> *mut u8 {
            $crate::__private::snapshot_chunk(__TESSERA_STORE.get(), &__TESSERA_STREAM, max_bytes)
        }
        #[export_name = "cabi_post_tessera:components/snapshot-stream@0.1.0#snapshot-chunk"]
        unsafe extern "C" fn __tessera_post_snapshot_chunk(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/snapshot-stream@0.1.0#restore-chunk"]
        unsafe extern "C" fn __tessera_restore_chunk(ptr: usize, len: usize) -> *mut u8 {
            $crate::__private::restore_chunk(__TESSERA_STORE.get(), &__TESSERA_STREAM, ptr, len)
        }
        #[export_name = "cabi_post_tessera:components/snapshot-stream@0.1.0#restore-chunk"]
        unsafe extern "C" fn __tessera_post_restore_chunk(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/snapshot-stream@0.1.0#restore-end"]
        unsafe extern "C" fn __tessera_restore_end() -> *mut u8 {
            $crate::__private::restore_end(__TESSERA_STORE.get(), &__TESSERA_STREAM)
        }
        #[export_name = "cabi_post_tessera:components/snapshot-stream@0.1.0#restore-end"]
        unsafe extern "C" fn __tessera_post_restore_end(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __tessera_export_state {
    ($store:ty, $type:literal, $version:literal, [$($capability:ident),*], [$($description:literal)?]) => {
        $crate::__tessera_export_common!("state-store", $store, $type, $version, [$($capability),*], [$($description)?]);

        #[export_name = "tessera:components/state@0.1.0#init"]
        unsafe extern "C" fn __tessera_init(ptr: usize, len: usize) -> *mut u8 {
            __tessera_log_panics();
            $crate::__private::init(__TESSERA_STORE.get(), ptr, len)
        }
        #[export_name = "cabi_post_tessera:components/state@0.1.0#init"]
        unsafe extern "C" fn __tessera_post_init(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/state@0.1.0#features"]
        unsafe extern "C" fn __tessera_features() -> *mut u8 {
            $crate::__private::features(__TESSERA_STORE.get())
        }
        #[export_name = "cabi_post_tessera:components/state@0.1.0#features"]
        unsafe extern "C" fn __tessera_post_features(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/state@0.1.0#get"]
        unsafe extern "C" fn __tessera_get(
            key_ptr: usize, key_len: usize, consistency: u32, metadata_ptr: usize, metadata_len: usize,
        ) -> *mut u8 {
            $crate::__private::get(__TESSERA_STORE.get(), key_ptr, key_len, consistency, metadata_ptr, metadata_len)
        }
        #[export_name = "cabi_post_tessera:components/state@0.1.0#get"]
        unsafe extern "C" fn __tessera_post_get(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/state@0.1.0#set"]
        unsafe extern "C" fn __tessera_set(
            key_ptr: usize, key_len: usize, value_ptr: usize, value_len: usize,
            etag_is_some: u32, etag_ptr: usize, etag_len: usize,
            content_type_is_some: u32, content_type_ptr: usize, content_type_len: usize,
            concurrency: u32, consistency: u32, metadata_ptr: usize, metadata_len: usize,
        ) -> *mut u8 {
            $crate::__private::set(
                __TESSERA_STORE.get(), key_ptr, key_len, value_ptr, value_len, etag_is_some, etag_ptr, etag_len,
                content_type_is_some, content_type_ptr, content_type_len, concurrency, consistency, metadata_ptr, metadata_len,
            )
        }
        #[export_name = "cabi_post_tessera:components/state@0.1.0#set"]
        unsafe extern "C" fn __tessera_post_set(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/state@0.1.0#delete"]
        unsafe extern "C" fn __tessera_delete(
            key_ptr: usize, key_len: usize, etag_is_some: u32, etag_ptr: usize, etag_len: usize,
            concurrency: u32, consistency: u32, metadata_ptr: usize, metadata_len: usize,
        ) -> *mut u8 {
            $crate::__private::delete(
                __TESSERA_STORE.get(), key_ptr, key_len, etag_is_some, etag_ptr, etag_len, concurrency, consistency,
                metadata_ptr, metadata_len,
            )
        }
        #[export_name = "cabi_post_tessera:components/state@0.1.0#delete"]
        unsafe extern "C" fn __tessera_post_delete(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/state@0.1.0#bulk-get"]
        unsafe extern "C" fn __tessera_bulk_get(ptr: usize, len: usize) -> *mut u8 {
            $crate::__private::bulk_get(__TESSERA_STORE.get(), ptr, len)
        }
        #[export_name = "cabi_post_tessera:components/state@0.1.0#bulk-get"]
        unsafe extern "C" fn __tessera_post_bulk_get(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/state@0.1.0#bulk-set"]
        unsafe extern "C" fn __tessera_bulk_set(ptr: usize, len: usize) -> *mut u8 {
            $crate::__private::bulk_set(__TESSERA_STORE.get(), ptr, len)
        }
        #[export_name = "cabi_post_tessera:components/state@0.1.0#bulk-set"]
        unsafe extern "C" fn __tessera_post_bulk_set(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/state@0.1.0#bulk-delete"]
        unsafe extern "C" fn __tessera_bulk_delete(ptr: usize, len: usize) -> *mut u8 {
            $crate::__private::bulk_delete(__TESSERA_STORE.get(), ptr, len)
        }
        #[export_name = "cabi_post_tessera:components/state@0.1.0#bulk-delete"]
        unsafe extern "C" fn __tessera_post_bulk_delete(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/state@0.1.0#transact"]
        unsafe extern "C" fn __tessera_transact(ptr: usize, len: usize, metadata_ptr: usize, metadata_len: usize) -> *mut u8 {
            $crate::__private::transact(__TESSERA_STORE.get(), ptr, len, metadata_ptr, metadata_len)
        }
        #[export_name = "cabi_post_tessera:components/state@0.1.0#transact"]
        unsafe extern "C" fn __tessera_post_transact(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/state@0.1.0#ping"]
        unsafe extern "C" fn __tessera_ping() -> *mut u8 {
            $crate::__private::ping(__TESSERA_STORE.get())
        }
        #[export_name = "cabi_post_tessera:components/state@0.1.0#ping"]
        unsafe extern "C" fn __tessera_post_ping(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __tessera_export_pubsub {
    ($broker:ty, $type:literal, $version:literal, [$($capability:ident),*], [$($description:literal)?]) => {
        $crate::__tessera_export_common!("pubsub", $broker, $type, $version, [$($capability),*], [$($description)?]);

        #[export_name = "tessera:components/pubsub@0.1.0#init"]
        unsafe extern "C" fn __tessera_init(ptr: usize, len: usize) -> *mut u8 {
            __tessera_log_panics();
            $crate::__private::pubsub::init(__TESSERA_STORE.get(), ptr, len)
        }
        #[export_name = "cabi_post_tessera:components/pubsub@0.1.0#init"]
        unsafe extern "C" fn __tessera_post_init(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/pubsub@0.1.0#features"]
        unsafe extern "C" fn __tessera_features() -> *mut u8 {
            $crate::__private::pubsub::features(__TESSERA_STORE.get())
        }
        #[export_name = "cabi_post_tessera:components/pubsub@0.1.0#features"]
        unsafe extern "C" fn __tessera_post_features(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/pubsub@0.1.0#publish"]
        unsafe extern "C" fn __tessera_publish(
            topic_ptr: usize, topic_len: usize, data_ptr: usize, data_len: usize,
            content_type_is_some: u32, content_type_ptr: usize, content_type_len: usize,
            metadata_ptr: usize, metadata_len: usize,
        ) -> *mut u8 {
            $crate::__private::pubsub::publish(
                __TESSERA_STORE.get(), topic_ptr, topic_len, data_ptr, data_len,
                content_type_is_some, content_type_ptr, content_type_len, metadata_ptr, metadata_len,
            )
        }
        #[export_name = "cabi_post_tessera:components/pubsub@0.1.0#publish"]
        unsafe extern "C" fn __tessera_post_publish(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/pubsub@0.1.0#bulk-publish"]
        unsafe extern "C" fn __tessera_bulk_publish(
            topic_ptr: usize, topic_len: usize, entries_ptr: usize, entries_len: usize, metadata_ptr: usize, metadata_len: usize,
        ) -> *mut u8 {
            $crate::__private::pubsub::bulk_publish(
                __TESSERA_STORE.get(), topic_ptr, topic_len, entries_ptr, entries_len, metadata_ptr, metadata_len,
            )
        }
        #[export_name = "cabi_post_tessera:components/pubsub@0.1.0#bulk-publish"]
        unsafe extern "C" fn __tessera_post_bulk_publish(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/pubsub@0.1.0#subscribe"]
        unsafe extern "C" fn __tessera_subscribe(topic_ptr: usize, topic_len: usize, metadata_ptr: usize, metadata_len: usize) -> *mut u8 {
            $crate::__private::pubsub::subscribe(__TESSERA_STORE.get(), topic_ptr, topic_len, metadata_ptr, metadata_len)
        }
        #[export_name = "cabi_post_tessera:components/pubsub@0.1.0#subscribe"]
        unsafe extern "C" fn __tessera_post_subscribe(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/pubsub@0.1.0#pull"]
        unsafe extern "C" fn __tessera_pull(subscription: u64, max_messages: u32, timeout_ms: u32) -> *mut u8 {
            $crate::__private::pubsub::pull(__TESSERA_STORE.get(), subscription, max_messages, timeout_ms)
        }
        #[export_name = "cabi_post_tessera:components/pubsub@0.1.0#pull"]
        unsafe extern "C" fn __tessera_post_pull(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/pubsub@0.1.0#ack"]
        unsafe extern "C" fn __tessera_ack(subscription: u64, id_ptr: usize, id_len: usize, outcome: u32) -> *mut u8 {
            $crate::__private::pubsub::ack(__TESSERA_STORE.get(), subscription, id_ptr, id_len, outcome)
        }
        #[export_name = "cabi_post_tessera:components/pubsub@0.1.0#ack"]
        unsafe extern "C" fn __tessera_post_ack(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/pubsub@0.1.0#unsubscribe"]
        unsafe extern "C" fn __tessera_unsubscribe(subscription: u64) -> *mut u8 {
            $crate::__private::pubsub::unsubscribe(__TESSERA_STORE.get(), subscription)
        }
        #[export_name = "cabi_post_tessera:components/pubsub@0.1.0#unsubscribe"]
        unsafe extern "C" fn __tessera_post_unsubscribe(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }

        #[export_name = "tessera:components/pubsub@0.1.0#ping"]
        unsafe extern "C" fn __tessera_ping() -> *mut u8 {
            $crate::__private::pubsub::ping(__TESSERA_STORE.get())
        }
        #[export_name = "cabi_post_tessera:components/pubsub@0.1.0#ping"]
        unsafe extern "C" fn __tessera_post_ping(ret: *mut u8) {
            $crate::__private::post_return(ret)
        }
    };
}
