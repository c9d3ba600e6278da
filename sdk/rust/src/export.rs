// The public export macros and what they build on: the component's one store, the allocator
// and the manifest section, and the adapters that give the generated glue of `snapshot` and
// `snapshot-stream` its `Guest`. The export names and the `extern "C"` functions come from the
// generated macros (src/generated/macros.rs), one per WIT interface.
use crate::generated::types::Error;
use crate::generated::{snapshot, snapshot_stream};
use crate::rt::Global;
use crate::snapshot_stream::{next_chunk, whole_restore, whole_snapshot, SnapshotStream, Stream, StreamCell};
use crate::store::Snapshot;
use alloc::vec::Vec;

/// The component's one store, made with `Default::default()` on first use (the host calls
/// `init` first), after `created` runs.
pub struct StoreCell<T>(Global<Option<T>>, fn());

impl<T: Default> StoreCell<T> {
    pub const fn new(created: fn()) -> Self {
        StoreCell(Global::new(None), created)
    }

    /// # Safety
    /// Only from an export, which the host never runs concurrently or re-entrantly.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get(&self) -> &mut T {
        let cell = self.0.get();
        if cell.is_none() {
            (self.1)();
        }
        cell.get_or_insert_with(T::default)
    }
}

/// Routes panic messages to `log.error` before the trap (with the `std` feature; a no-op
/// without). The macros install it only when the manifest lists `log`, so a component without
/// the capability never imports it.
pub fn log_panics() {
    #[cfg(feature = "std")]
    std::panic::set_hook(alloc::boxed::Box::new(|info| crate::log::error(&alloc::format!("{}", info))));
}

/// The interface `snapshot` of a [`Snapshot`] store.
pub struct WholeSnapshot<'a, T>(pub &'a mut T);

impl<T: Snapshot> snapshot::Guest for WholeSnapshot<'_, T> {
    fn snapshot(&mut self) -> Vec<u8> {
        self.0.snapshot()
    }

    fn restore(&mut self, data: Vec<u8>) -> Result<(), Error> {
        self.0.restore(&data)
    }
}

/// The interfaces `snapshot` (the whole snapshot from the stream's records) and
/// `snapshot-stream` of a [`SnapshotStream`] store, with the stream kept between calls.
pub struct Streaming<'a, T: SnapshotStream>(pub &'a mut T, pub &'a StreamCell<T>);

impl<T: SnapshotStream> snapshot::Guest for Streaming<'_, T> {
    fn snapshot(&mut self) -> Vec<u8> {
        whole_snapshot(self.0)
    }

    fn restore(&mut self, data: Vec<u8>) -> Result<(), Error> {
        whole_restore(self.0, &data)
    }
}

impl<T: SnapshotStream> snapshot_stream::Guest for Streaming<'_, T> {
    fn snapshot_begin(&mut self) {
        // SAFETY (here and below): the glue calls these only from an export.
        unsafe {
            let _ = self.1.take();
            self.1.put(Stream::Snapshot(self.0.snapshot_begin()));
        }
    }

    /// Empty once the snapshot is complete, or when none is under way (another call came
    /// since the last chunk).
    fn snapshot_chunk(&mut self, max_bytes: u32) -> Vec<u8> {
        unsafe {
            match self.1.take() {
                Stream::Snapshot(mut cursor) => {
                    let chunk = next_chunk(self.0, &mut cursor, max_bytes as usize);
                    if !chunk.is_empty() {
                        self.1.put(Stream::Snapshot(cursor));
                    }
                    chunk
                }
                _ => Vec::new(),
            }
        }
    }

    /// The chunk is read where the host put it and dropped once read: one chunk at a time in
    /// memory. The first chunk of a restore (or the first after any other call) starts a new
    /// one; a refused chunk ends it.
    fn restore_chunk(&mut self, data: Vec<u8>) -> Result<(), Error> {
        unsafe {
            let (mut restoring, offset) = match self.1.take() {
                Stream::Restore(restoring, offset) => (restoring, offset),
                _ => (self.0.restore_begin(), 0),
            };
            let result = self.0.restore_chunk(&mut restoring, &data, offset);
            if result.is_ok() {
                self.1.put(Stream::Restore(restoring, offset + data.len()));
            }
            result
        }
    }

    fn restore_end(&mut self) -> Result<(), Error> {
        let restoring = match unsafe { self.1.take() } {
            Stream::Restore(restoring, _) => restoring,
            _ => self.0.restore_begin(),
        };
        self.0.restore_end(restoring)
    }
}

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
    (store: $store:ty, $($manifest:tt)*) => {
        $crate::__tessera_export!("state-store", [__tessera_export_state], none, $store, $($manifest)*);
    };
}

/// [`export_state_store!`] plus the `snapshot` interface (WIT world
/// `snapshotting-state-store`): `$store` also implements [`Snapshot`](crate::Snapshot), and
/// its data crosses a hot swap. Same arguments.
#[macro_export]
macro_rules! export_snapshotting_state_store {
    (store: $store:ty, $($manifest:tt)*) => {
        $crate::__tessera_export!("state-store", [__tessera_export_state], whole, $store, $($manifest)*);
    };
}

/// [`export_state_store!`] plus the interfaces `snapshot-stream` and `snapshot` (WIT world
/// `snapshotting-state-store`): `$store` also implements
/// [`SnapshotStream`](crate::SnapshotStream), whose records make both the chunks the host
/// prefers and the whole snapshot an older host asks for. Same arguments.
#[macro_export]
macro_rules! export_streaming_state_store {
    (store: $store:ty, $($manifest:tt)*) => {
        $crate::__tessera_export!("state-store", [__tessera_export_state], streaming, $store, $($manifest)*);
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
    (broker: $store:ty, $($manifest:tt)*) => {
        $crate::__tessera_export!("pubsub", [__tessera_export_pubsub], none, $store, $($manifest)*);
    };
}

/// [`export_pubsub!`] plus the `snapshot` interface (WIT world
/// `snapshotting-pubsub-broker`), for a broker whose messages live in its own memory:
/// `$broker` also implements [`Snapshot`](crate::Snapshot). Same arguments.
#[macro_export]
macro_rules! export_snapshotting_pubsub {
    (broker: $store:ty, $($manifest:tt)*) => {
        $crate::__tessera_export!("pubsub", [__tessera_export_pubsub], whole, $store, $($manifest)*);
    };
}

/// [`export_pubsub!`] plus the interfaces `snapshot-stream` and `snapshot` (WIT world
/// `snapshotting-pubsub-broker`): `$broker` also implements
/// [`SnapshotStream`](crate::SnapshotStream). Same arguments.
#[macro_export]
macro_rules! export_streaming_pubsub {
    (broker: $store:ty, $($manifest:tt)*) => {
        $crate::__tessera_export!("pubsub", [__tessera_export_pubsub], streaming, $store, $($manifest)*);
    };
}

/// Exports `$binding` as the component's output binding (WIT world `output-binding`) and
/// writes the `tessera:manifest` section (`kind` `binding`). Use it once, at the top level of
/// the crate:
///
/// ```ignore
/// tessera_sdk::export_output_binding! {
///     binding: RedisBinding,
///     type: "bindings.redis",
///     version: "v1",
///     capabilities: [log, clock, tcp],
///     description: "Redis keys: create, get, delete, increment.",
/// }
/// ```
///
/// `$binding` implements [`OutputBinding`](crate::OutputBinding) (and so
/// [`Binding`](crate::Binding)) and `Default` (the host builds it on the first call). `type`
/// is `bindings.<name>`; the other arguments are those of [`export_state_store!`].
#[macro_export]
macro_rules! export_output_binding {
    (binding: $binding:ty, $($manifest:tt)*) => {
        $crate::__tessera_export!("binding", [__tessera_export_binding, __tessera_export_output], none, $binding, $($manifest)*);
    };
}

/// Exports `$binding` as the component's input binding (WIT world `input-binding`): it
/// implements [`InputBinding`](crate::InputBinding) and `Default`. Same arguments as
/// [`export_output_binding!`].
#[macro_export]
macro_rules! export_input_binding {
    (binding: $binding:ty, $($manifest:tt)*) => {
        $crate::__tessera_export!("binding", [__tessera_export_binding, __tessera_export_input], none, $binding, $($manifest)*);
    };
}

/// Exports `$binding` as a binding of both directions (WIT world `input-output-binding`,
/// Dapr's `direction: input, output`): one type implements both
/// [`InputBinding`](crate::InputBinding) and [`OutputBinding`](crate::OutputBinding), with
/// one [`Binding`](crate::Binding) (`init`, `ping`). Same arguments as
/// [`export_output_binding!`].
#[macro_export]
macro_rules! export_input_output_binding {
    (binding: $binding:ty, $($manifest:tt)*) => {
        $crate::__tessera_export!(
            "binding",
            [__tessera_export_binding, __tessera_export_input, __tessera_export_output],
            none,
            $binding,
            $($manifest)*
        );
    };
}

/// What every public export macro expands to: the store, allocator and manifest, the
/// exports of the kind's interfaces (`$iface`, generated macros), and those of `snapshot`
/// and `snapshot-stream` as `$snapshot` says (`none`, `whole`: a `Snapshot` store,
/// `streaming`: a `SnapshotStream` one).
#[doc(hidden)]
#[macro_export]
macro_rules! __tessera_export {
    (
        $kind:literal, [$($iface:ident),+], $snapshot:ident, $store:ty,
        type: $type:literal,
        version: $version:literal,
        capabilities: [$($capability:ident),* $(,)?]
        $(, description: $description:literal)?
        $(,)?
    ) => {
        const _: () = {
            $crate::__tessera_export_common!($kind, $store, $type, $version, [$($capability),*], [$($description)?]);
            $($crate::$iface!(__TESSERA_STORE.get());)+
            $crate::__tessera_export_snapshots!($snapshot, $store);
        };
    };
}

/// The `snapshot` and `snapshot-stream` exports over `__TESSERA_STORE`, by mode.
#[doc(hidden)]
#[macro_export]
macro_rules! __tessera_export_snapshots {
    (none, $store:ty) => {};
    (whole, $store:ty) => {
        $crate::__tessera_export_snapshot!(&mut $crate::__private::WholeSnapshot(__TESSERA_STORE.get()));
    };
    (streaming, $store:ty) => {
        static __TESSERA_STREAM: $crate::__private::StreamCell<$store> = $crate::__private::StreamCell::new();
        $crate::__tessera_export_snapshot!(&mut $crate::__private::Streaming(__TESSERA_STORE.get(), &__TESSERA_STREAM));
        $crate::__tessera_export_snapshot_stream!(&mut $crate::__private::Streaming(
            __TESSERA_STORE.get(),
            &__TESSERA_STREAM
        ));
    };
}

/// The allocator, the component's one store, broker or binding, and its manifest.
#[doc(hidden)]
#[macro_export]
macro_rules! __tessera_export_common {
    ($kind:literal, $store:ty, $type:literal, $version:literal, [$($capability:ident),*], [$($description:literal)?]) => {
        static __TESSERA_STORE: $crate::__private::StoreCell<$store> = $crate::__private::StoreCell::new(__tessera_log_panics);

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

        /// Runs when the store is made, on the first call (`init`). A constant test: without
        /// `log` the hook and the import it would pull are compiled out.
        fn __tessera_log_panics() {
            if $crate::__private::lists_capability(&__TESSERA_MANIFEST_FIELDS, "log") {
                $crate::__private::log_panics();
            }
        }
    };
}
