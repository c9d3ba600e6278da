// The body of every export, generic over the component's store: lift the arguments, call the
// store, lower the answer into the return area and hand the host its pointer. The export
// macros (macros.rs) wrap each in an `extern "C"` function under its canonical name.
// Safety, for every `unsafe fn` here: called only from that export, with the host's arguments.
#![allow(clippy::missing_safety_doc)]
use crate::abi::{
    begin_call, keep_bytes, lift_bytes, lift_delete_request, lift_get_request, lift_list, lift_metadata,
    lift_set_request, load_delete_request, load_get_request, load_set_request, load_transact_operation,
    lower_bulk_get_result, lower_get_result, lower_string_list, lower_unit_result, release, ret_area_ptr, Global,
    DELETE_REQUEST_SIZE, GET_REQUEST_SIZE, SET_REQUEST_SIZE, TRANSACT_OPERATION_SIZE,
};
use crate::snapshot_stream::{next_chunk, whole_restore, whole_snapshot, SnapshotStream, Stream};
use crate::store::{Snapshot, StateStore};
use alloc::vec::Vec;

pub use crate::abi::cabi_realloc;
pub use crate::snapshot_stream::StreamCell;

/// The component's one store, made with `Default::default()` on first use.
pub struct StoreCell<T>(Global<Option<T>>);

impl<T: Default> StoreCell<T> {
    pub const fn new() -> Self {
        StoreCell(Global::new(None))
    }

    /// # Safety
    /// Only from an export, which the host never runs concurrently or re-entrantly.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get(&self) -> &mut T {
        self.0.get().get_or_insert_with(T::default)
    }
}

impl<T: Default> Default for StoreCell<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The post-return of every export: drops what the return area pointed to.
pub unsafe fn post_return(_ret_area: *mut u8) {
    release();
}

/// Routes panic messages to `log.error` before the trap (with the `std` feature; a no-op
/// without). The macros call it from `init` only when the manifest lists `log`, so a
/// component without the capability never imports it.
pub fn log_panics() {
    #[cfg(feature = "std")]
    std::panic::set_hook(alloc::boxed::Box::new(|info| crate::log::error(&alloc::format!("{}", info))));
}

// init: func(config: metadata) -> result<_, error>
pub unsafe fn init<T: StateStore>(store: &mut T, config_ptr: usize, config_len: usize) -> *mut u8 {
    let ret = begin_call();
    lower_unit_result(ret, store.init(lift_metadata(config_ptr, config_len)));
    ret_area_ptr()
}

// features: func() -> list<string>
pub unsafe fn features<T: StateStore>(store: &mut T) -> *mut u8 {
    let ret = begin_call();
    lower_string_list(ret, store.features());
    ret_area_ptr()
}

// get: func(req: get-request) -> result<option<get-response>, error>; the request arrives flat.
pub unsafe fn get<T: StateStore>(
    store: &mut T,
    key_ptr: usize,
    key_len: usize,
    consistency: u32,
    metadata_ptr: usize,
    metadata_len: usize,
) -> *mut u8 {
    let ret = begin_call();
    let req = lift_get_request(key_ptr, key_len, consistency, metadata_ptr, metadata_len);
    lower_get_result(ret, store.get(req));
    ret_area_ptr()
}

// set: func(req: set-request) -> result<_, error>; the request arrives flat (14 values).
#[allow(clippy::too_many_arguments)]
pub unsafe fn set<T: StateStore>(
    store: &mut T,
    key_ptr: usize,
    key_len: usize,
    value_ptr: usize,
    value_len: usize,
    etag_is_some: u32,
    etag_ptr: usize,
    etag_len: usize,
    content_type_is_some: u32,
    content_type_ptr: usize,
    content_type_len: usize,
    concurrency: u32,
    consistency: u32,
    metadata_ptr: usize,
    metadata_len: usize,
) -> *mut u8 {
    let ret = begin_call();
    let req = lift_set_request(
        (key_ptr, key_len),
        (value_ptr, value_len),
        (etag_is_some, etag_ptr, etag_len),
        (content_type_is_some, content_type_ptr, content_type_len),
        concurrency,
        consistency,
        (metadata_ptr, metadata_len),
    );
    lower_unit_result(ret, store.set(req));
    ret_area_ptr()
}

// delete: func(req: delete-request) -> result<_, error>; the request arrives flat (9 values).
#[allow(clippy::too_many_arguments)]
pub unsafe fn delete<T: StateStore>(
    store: &mut T,
    key_ptr: usize,
    key_len: usize,
    etag_is_some: u32,
    etag_ptr: usize,
    etag_len: usize,
    concurrency: u32,
    consistency: u32,
    metadata_ptr: usize,
    metadata_len: usize,
) -> *mut u8 {
    let ret = begin_call();
    let req = lift_delete_request(
        (key_ptr, key_len),
        (etag_is_some, etag_ptr, etag_len),
        concurrency,
        consistency,
        (metadata_ptr, metadata_len),
    );
    lower_unit_result(ret, store.delete(req));
    ret_area_ptr()
}

// bulk-get: func(reqs: list<get-request>) -> result<list<bulk-get-item>, error>
pub unsafe fn bulk_get<T: StateStore>(store: &mut T, ptr: usize, len: usize) -> *mut u8 {
    let ret = begin_call();
    let reqs = lift_list(ptr, len, GET_REQUEST_SIZE, load_get_request);
    lower_bulk_get_result(ret, store.bulk_get(reqs));
    ret_area_ptr()
}

// bulk-set: func(reqs: list<set-request>) -> result<_, error>
pub unsafe fn bulk_set<T: StateStore>(store: &mut T, ptr: usize, len: usize) -> *mut u8 {
    let ret = begin_call();
    let reqs = lift_list(ptr, len, SET_REQUEST_SIZE, load_set_request);
    lower_unit_result(ret, store.bulk_set(reqs));
    ret_area_ptr()
}

// bulk-delete: func(reqs: list<delete-request>) -> result<_, error>
pub unsafe fn bulk_delete<T: StateStore>(store: &mut T, ptr: usize, len: usize) -> *mut u8 {
    let ret = begin_call();
    let reqs = lift_list(ptr, len, DELETE_REQUEST_SIZE, load_delete_request);
    lower_unit_result(ret, store.bulk_delete(reqs));
    ret_area_ptr()
}

// transact: func(operations: list<transact-operation>, metadata: metadata) -> result<_, error>
pub unsafe fn transact<T: StateStore>(
    store: &mut T,
    ptr: usize,
    len: usize,
    metadata_ptr: usize,
    metadata_len: usize,
) -> *mut u8 {
    let ret = begin_call();
    let operations = lift_list(ptr, len, TRANSACT_OPERATION_SIZE, load_transact_operation);
    let metadata = lift_metadata(metadata_ptr, metadata_len);
    lower_unit_result(ret, store.transact(operations, metadata));
    ret_area_ptr()
}

// ping: func() -> result<_, error>
pub unsafe fn ping<T: StateStore>(store: &mut T) -> *mut u8 {
    let ret = begin_call();
    lower_unit_result(ret, store.ping());
    ret_area_ptr()
}

// snapshot: func() -> list<u8>
pub unsafe fn snapshot<T: Snapshot>(store: &mut T) -> *mut u8 {
    let ret = begin_call();
    keep_bytes(ret, store.snapshot());
    ret_area_ptr()
}

// restore: func(data: list<u8>) -> result<_, error>
pub unsafe fn restore<T: Snapshot>(store: &mut T, ptr: usize, len: usize) -> *mut u8 {
    let ret = begin_call();
    let data = lift_bytes(ptr, len);
    lower_unit_result(ret, store.restore(&data));
    ret_area_ptr()
}

// The `snapshot` interface of a streaming store: the whole snapshot, from the stream's records.
pub unsafe fn snapshot_from_stream<T: SnapshotStream>(store: &mut T) -> *mut u8 {
    let ret = begin_call();
    keep_bytes(ret, whole_snapshot(store));
    ret_area_ptr()
}

pub unsafe fn restore_from_stream<T: SnapshotStream>(store: &mut T, ptr: usize, len: usize) -> *mut u8 {
    let ret = begin_call();
    let data = lift_bytes(ptr, len);
    lower_unit_result(ret, whole_restore(store, &data));
    ret_area_ptr()
}

// snapshot-begin: func(); no result, so no post-return.
pub unsafe fn snapshot_begin<T: SnapshotStream>(store: &mut T, stream: &StreamCell<T>) {
    begin_call();
    let _ = stream.take();
    stream.put(Stream::Snapshot(store.snapshot_begin()));
}

// snapshot-chunk: func(max-bytes: u32) -> list<u8>; empty once the snapshot is complete, or
// when none is under way (another call came since the last chunk).
pub unsafe fn snapshot_chunk<T: SnapshotStream>(store: &mut T, stream: &StreamCell<T>, max_bytes: u32) -> *mut u8 {
    let ret = begin_call();
    let chunk = match stream.take() {
        Stream::Snapshot(mut cursor) => {
            let chunk = next_chunk(store, &mut cursor, max_bytes as usize);
            if !chunk.is_empty() {
                stream.put(Stream::Snapshot(cursor));
            }
            chunk
        }
        _ => Vec::new(),
    };
    keep_bytes(ret, chunk);
    ret_area_ptr()
}

// restore-chunk: func(data: list<u8>) -> result<_, error>. The chunk is read where the host put
// it and dropped once read: one chunk at a time in memory. The first chunk of a restore (or
// the first after any other call) starts a new one; a refused chunk ends it.
pub unsafe fn restore_chunk<T: SnapshotStream>(
    store: &mut T,
    stream: &StreamCell<T>,
    ptr: usize,
    len: usize,
) -> *mut u8 {
    let ret = begin_call();
    let data = lift_bytes(ptr, len);
    let (mut restoring, offset) = match stream.take() {
        Stream::Restore(restoring, offset) => (restoring, offset),
        _ => (store.restore_begin(), 0),
    };
    let result = store.restore_chunk(&mut restoring, &data, offset);
    drop(data);
    if result.is_ok() {
        stream.put(Stream::Restore(restoring, offset + len));
    }
    lower_unit_result(ret, result);
    ret_area_ptr()
}

// restore-end: func() -> result<_, error>
pub unsafe fn restore_end<T: SnapshotStream>(store: &mut T, stream: &StreamCell<T>) -> *mut u8 {
    let ret = begin_call();
    let restoring = match stream.take() {
        Stream::Restore(restoring, _) => restoring,
        _ => store.restore_begin(),
    };
    lower_unit_result(ret, store.restore_end(restoring));
    ret_area_ptr()
}
