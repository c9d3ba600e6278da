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
use crate::store::{Snapshot, StateStore};

pub use crate::abi::cabi_realloc;

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
