// The canonical ABI's memory discipline in Rust (see abi/ABI.md, "Who owns what"):
// - `cabi_realloc` hands the host blocks of the global allocator;
// - lifting takes ownership of what the host passed: a string or `list<u8>` becomes the
//   `String`/`Vec<u8>` over the very block (no copy), and record arrays are freed once read;
// - lowering moves each string and byte list of a result into a keep list, writes the
//   (ptr, len) words the host reads, and the post-return drops the keep list.
// Offsets are the layouts in abi/ABI.md; every aggregate there has alignment 4, so results
// are built as u32 words, with a u8 discriminant in the low byte of its word (zero padding).
use crate::types::{
    BulkGetItem, Concurrency, Consistency, DeleteRequest, GetRequest, GetResponse, Metadata, SetRequest, StateError,
    TransactOperation,
};
use alloc::alloc::{alloc, dealloc, handle_alloc_error, realloc, Layout};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::fmt;

/// Traps the instance, as the canonical ABI requires of the side that lifts a bad value.
/// With the `log` capability and the `std` feature, the panic hook logs why first.
#[cold]
fn trap(problem: fmt::Arguments<'_>) -> ! {
    panic!("canonical ABI: {}", problem)
}

/// `cabi_realloc(old_ptr, old_size, align, new_size) -> ptr`, as wit-bindgen defines it.
///
/// # Safety
/// `old_ptr` must be a block this function returned for `old_size` bytes at `align`.
pub unsafe fn cabi_realloc(old_ptr: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    let layout = match Layout::from_size_align(new_size, align) {
        Ok(layout) => layout,
        Err(_) => trap(format_args!("cabi_realloc: unsupported alignment {} for {} bytes", align, new_size)),
    };
    if new_size == 0 {
        // Zero-length strings and lists own no memory: any aligned pointer will do.
        if old_size != 0 {
            dealloc(old_ptr, Layout::from_size_align_unchecked(old_size, align));
        }
        return align as *mut u8;
    }
    let ptr = if old_size == 0 {
        alloc(layout)
    } else {
        realloc(old_ptr, Layout::from_size_align_unchecked(old_size, align), new_size)
    };
    if ptr.is_null() {
        handle_alloc_error(layout)
    }
    ptr
}

// ---------------------------------------------------------------------------------------
// Lifting. A zero-length string or list may carry any pointer (jco passes 1): never read,
// never freed.

pub(crate) unsafe fn word(at: usize) -> usize {
    *(at as *const u32) as usize
}

pub(crate) unsafe fn byte(at: usize) -> u32 {
    *(at as *const u8) as u32
}

/// Takes ownership of a `list<u8>` the host allocated with `cabi_realloc(0, 0, 1, len)`.
///
/// # Safety
/// A non-empty `(ptr, len)` must be such a block, owned by nobody else.
pub(crate) unsafe fn lift_bytes(ptr: usize, len: usize) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    Vec::from_raw_parts(ptr as *mut u8, len, len)
}

pub(crate) unsafe fn lift_string(ptr: usize, len: usize) -> String {
    match String::from_utf8(lift_bytes(ptr, len)) {
        Ok(s) => s,
        Err(e) => trap(format_args!("the string at {:#x} of {} bytes is not UTF-8: {}", ptr, len, e)),
    }
}

pub(crate) fn check_discriminant(value: u32, cases: u32, type_name: &str) -> u32 {
    if value >= cases {
        trap(format_args!("discriminant {} out of range for {}", value, type_name));
    }
    value
}

pub(crate) unsafe fn lift_option_string(discriminant: u32, ptr: usize, len: usize) -> Option<String> {
    match check_discriminant(discriminant, 2, "option<string>") {
        0 => None,
        _ => Some(lift_string(ptr, len)),
    }
}

fn lift_concurrency(value: u32) -> Concurrency {
    match check_discriminant(value, 2, "concurrency") {
        0 => Concurrency::LastWrite,
        _ => Concurrency::FirstWrite,
    }
}

fn lift_consistency(value: u32) -> Consistency {
    match check_discriminant(value, 2, "consistency") {
        0 => Consistency::Eventual,
        _ => Consistency::Strong,
    }
}

/// Lifts a list whose elements are `size` bytes apart (alignment 4), then frees its array.
pub(crate) unsafe fn lift_list<T>(ptr: usize, len: usize, size: usize, load: unsafe fn(usize) -> T) -> Vec<T> {
    let mut list = Vec::with_capacity(len);
    for i in 0..len {
        list.push(load(ptr + i * size));
    }
    if len != 0 {
        dealloc(ptr as *mut u8, Layout::from_size_align_unchecked(len * size, 4));
    }
    list
}

/// `metadata` = list<tuple<string, string>>: elements of 16 bytes, key at 0, value at 8.
///
/// # Safety
/// `(ptr, len)` must be a metadata list the host passed, owned by nobody else.
pub(crate) unsafe fn lift_metadata(ptr: usize, len: usize) -> Metadata {
    unsafe fn load_pair(p: usize) -> (String, String) {
        (lift_string(word(p), word(p + 4)), lift_string(word(p + 8), word(p + 12)))
    }
    Metadata::from(lift_list(ptr, len, 16, load_pair))
}

pub(crate) const GET_REQUEST_SIZE: usize = 20;
pub(crate) const SET_REQUEST_SIZE: usize = 52;
pub(crate) const DELETE_REQUEST_SIZE: usize = 32;
pub(crate) const TRANSACT_OPERATION_SIZE: usize = 56;

/// get-request: key 0, consistency u8 8, metadata 12.
pub(crate) unsafe fn load_get_request(p: usize) -> GetRequest {
    GetRequest {
        key: lift_string(word(p), word(p + 4)),
        consistency: lift_consistency(byte(p + 8)),
        metadata: lift_metadata(word(p + 12), word(p + 16)),
    }
}

/// set-request: key 0, value 8, etag 16, content-type 28, concurrency 40, consistency 41, metadata 44.
pub(crate) unsafe fn load_set_request(p: usize) -> SetRequest {
    SetRequest {
        key: lift_string(word(p), word(p + 4)),
        value: lift_bytes(word(p + 8), word(p + 12)),
        etag: lift_option_string(byte(p + 16), word(p + 20), word(p + 24)),
        content_type: lift_option_string(byte(p + 28), word(p + 32), word(p + 36)),
        concurrency: lift_concurrency(byte(p + 40)),
        consistency: lift_consistency(byte(p + 41)),
        metadata: lift_metadata(word(p + 44), word(p + 48)),
    }
}

/// delete-request: key 0, etag 8, concurrency 20, consistency 21, metadata 24.
pub(crate) unsafe fn load_delete_request(p: usize) -> DeleteRequest {
    DeleteRequest {
        key: lift_string(word(p), word(p + 4)),
        etag: lift_option_string(byte(p + 8), word(p + 12), word(p + 16)),
        concurrency: lift_concurrency(byte(p + 20)),
        consistency: lift_consistency(byte(p + 21)),
        metadata: lift_metadata(word(p + 24), word(p + 28)),
    }
}

/// transact-operation: discriminant u8 0 (0 set, 1 delete), request 4.
pub(crate) unsafe fn load_transact_operation(p: usize) -> TransactOperation {
    match check_discriminant(byte(p), 2, "transact-operation") {
        0 => TransactOperation::Set(load_set_request(p + 4)),
        _ => TransactOperation::Delete(load_delete_request(p + 4)),
    }
}

/// The flat form of a get-request (5 values).
pub(crate) unsafe fn lift_get_request(
    key_ptr: usize,
    key_len: usize,
    consistency: u32,
    md_ptr: usize,
    md_len: usize,
) -> GetRequest {
    GetRequest {
        key: lift_string(key_ptr, key_len),
        consistency: lift_consistency(consistency),
        metadata: lift_metadata(md_ptr, md_len),
    }
}

/// The flat form of a set-request (14 values).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn lift_set_request(
    key: (usize, usize),
    value: (usize, usize),
    etag: (u32, usize, usize),
    content_type: (u32, usize, usize),
    concurrency: u32,
    consistency: u32,
    metadata: (usize, usize),
) -> SetRequest {
    SetRequest {
        key: lift_string(key.0, key.1),
        value: lift_bytes(value.0, value.1),
        etag: lift_option_string(etag.0, etag.1, etag.2),
        content_type: lift_option_string(content_type.0, content_type.1, content_type.2),
        concurrency: lift_concurrency(concurrency),
        consistency: lift_consistency(consistency),
        metadata: lift_metadata(metadata.0, metadata.1),
    }
}

/// The flat form of a delete-request (9 values).
pub(crate) unsafe fn lift_delete_request(
    key: (usize, usize),
    etag: (u32, usize, usize),
    concurrency: u32,
    consistency: u32,
    metadata: (usize, usize),
) -> DeleteRequest {
    DeleteRequest {
        key: lift_string(key.0, key.1),
        etag: lift_option_string(etag.0, etag.1, etag.2),
        concurrency: lift_concurrency(concurrency),
        consistency: lift_consistency(consistency),
        metadata: lift_metadata(metadata.0, metadata.1),
    }
}

// ---------------------------------------------------------------------------------------
// Lowering. Calls are never concurrent nor re-entered (abi/ABI.md, "Life cycle"), so one
// static return area and one keep list serve every export.

/// A static the guest mutates. Sound because a wasm32 instance is single-threaded and the
/// host never calls two exports at once nor re-enters one (abi/ABI.md, "Life cycle"), so at
/// most one `&mut` to it is live at a time.
pub(crate) struct Global<T>(UnsafeCell<T>);

unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    pub(crate) const fn new(value: T) -> Self {
        Global(UnsafeCell::new(value))
    }

    /// # Safety
    /// No other reference to the value may be live: call it only from an export's body.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn get(&self) -> &mut T {
        &mut *self.0.get()
    }
}

/// What the return area points to, owned until the post-return: byte buffers (strings,
/// `list<u8>`) and word arrays (lists of records).
struct Keep {
    bytes: Vec<Vec<u8>>,
    words: Vec<Vec<u32>>,
}

static KEEP: Global<Keep> = Global::new(Keep { bytes: Vec::new(), words: Vec::new() });

/// 48 bytes is the largest result, `get`'s.
#[repr(C, align(8))]
struct RetArea([u32; 12]);

static RET_AREA: Global<RetArea> = Global::new(RetArea([0; 12]));

/// Export calls begun so far (wrapping), so a snapshot stream can tell whether another call
/// came between two of its own.
static CALLS: Global<u32> = Global::new(0);

/// Starts an export call: drops what the last call returned (in case the host skipped the
/// post-return) and hands out the return area.
pub(crate) unsafe fn begin_call() -> &'static mut [u32; 12] {
    release();
    let calls = CALLS.get();
    *calls = calls.wrapping_add(1);
    &mut RET_AREA.get().0
}

/// The number of the export call under way (see `begin_call`).
pub(crate) unsafe fn call_number() -> u32 {
    *CALLS.get()
}

pub(crate) unsafe fn ret_area_ptr() -> *mut u8 {
    RET_AREA.get().0.as_mut_ptr() as *mut u8
}

/// The post-return of every export.
pub(crate) unsafe fn release() {
    let keep = KEEP.get();
    keep.bytes.clear();
    keep.words.clear();
}

pub(crate) unsafe fn keep_bytes(out: &mut [u32], bytes: Vec<u8>) {
    out[0] = bytes.as_ptr() as u32;
    out[1] = bytes.len() as u32;
    KEEP.get().bytes.push(bytes);
}

/// A record array of `len` elements; its buffer stays put when the Vec moves into the keep list.
pub(crate) unsafe fn keep_words(out: &mut [u32], words: Vec<u32>, len: usize) {
    out[0] = words.as_ptr() as u32;
    out[1] = len as u32;
    KEEP.get().words.push(words);
}

fn borrowed_str(out: &mut [u32], s: &str) {
    out[0] = s.as_ptr() as u32;
    out[1] = s.len() as u32;
}

/// option<string>: 3 words; discriminant, then the string.
pub(crate) unsafe fn lower_option_string(out: &mut [u32], s: Option<String>) {
    match s {
        Some(s) => {
            out[0] = 1;
            keep_bytes(&mut out[1..3], s.into_bytes());
        }
        None => out[..3].fill(0),
    }
}

/// metadata: 16-byte elements, key at 0, value at 8.
pub(crate) unsafe fn lower_metadata(out: &mut [u32], metadata: Metadata) {
    let pairs = metadata.into_pairs();
    let len = pairs.len();
    let mut words = alloc::vec![0u32; 4 * len];
    for (entry, (key, value)) in words.chunks_exact_mut(4).zip(pairs) {
        keep_bytes(&mut entry[0..2], key.into_bytes());
        keep_bytes(&mut entry[2..4], value.into_bytes());
    }
    keep_words(out, words, len);
}

/// error: 3 words; case, then the message.
pub(crate) unsafe fn lower_error(out: &mut [u32], error: StateError) {
    out[0] = match error {
        StateError::EtagMismatch(_) => 0,
        StateError::EtagInvalid(_) => 1,
        StateError::NotFound(_) => 2,
        StateError::InvalidArgument(_) => 3,
        StateError::Unavailable(_) => 4,
        StateError::Internal(_) => 5,
    };
    keep_bytes(&mut out[1..3], error.into_message().into_bytes());
}

/// result<_, error>: 4 words; discriminant, then the error.
pub(crate) unsafe fn lower_unit_result(out: &mut [u32], result: Result<(), StateError>) {
    match result {
        Ok(()) => out[..4].fill(0),
        Err(error) => {
            out[0] = 1;
            lower_error(&mut out[1..4], error);
        }
    }
}

/// get-response: 10 words; value 0, etag 2, content-type 5, metadata 8.
unsafe fn lower_get_response(out: &mut [u32], response: GetResponse) {
    keep_bytes(&mut out[0..2], response.value);
    lower_option_string(&mut out[2..5], response.etag);
    lower_option_string(&mut out[5..8], response.content_type);
    lower_metadata(&mut out[8..10], response.metadata);
}

/// option<get-response>: 11 words; discriminant, then the response.
unsafe fn lower_option_get_response(out: &mut [u32], response: Option<GetResponse>) {
    match response {
        Some(response) => {
            out[0] = 1;
            lower_get_response(&mut out[1..11], response);
        }
        None => out[..11].fill(0),
    }
}

/// result<option<get-response>, error>: 12 words.
pub(crate) unsafe fn lower_get_result(out: &mut [u32], result: Result<Option<GetResponse>, StateError>) {
    match result {
        Ok(response) => {
            out[0] = 0;
            lower_option_get_response(&mut out[1..12], response);
        }
        Err(error) => {
            out[0] = 1;
            lower_error(&mut out[1..4], error);
        }
    }
}

/// result<list<bulk-get-item>, error>: 4 words; bulk-get-item is 16 words: key 0,
/// option<get-response> 2, error option<string> 13.
pub(crate) unsafe fn lower_bulk_get_result(out: &mut [u32], result: Result<Vec<BulkGetItem>, StateError>) {
    match result {
        Ok(items) => {
            out[0] = 0;
            let len = items.len();
            let mut words = alloc::vec![0u32; 16 * len];
            for (at, item) in words.chunks_exact_mut(16).zip(items) {
                keep_bytes(&mut at[0..2], item.key.into_bytes());
                lower_option_get_response(&mut at[2..13], item.response);
                lower_option_string(&mut at[13..16], item.error);
            }
            keep_words(&mut out[1..3], words, len);
        }
        Err(error) => {
            out[0] = 1;
            lower_error(&mut out[1..4], error);
        }
    }
}

/// list<string>: 2 words; elements of 8 bytes. The strings are borrowed: the store is not
/// touched again before the post-return.
pub(crate) unsafe fn lower_string_list(out: &mut [u32], list: &[&str]) {
    let mut words = alloc::vec![0u32; 2 * list.len()];
    for (at, s) in words.chunks_exact_mut(2).zip(list) {
        borrowed_str(at, s);
    }
    keep_words(out, words, list.len());
}
