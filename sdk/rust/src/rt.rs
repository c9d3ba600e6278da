// The canonical ABI's memory discipline in Rust (see abi/ABI.md, "Who owns what"), which the
// generated glue (src/generated/) calls. No layout lives here: every offset, size and
// alignment comes from the generated code, which takes them from the WIT.
// - `cabi_realloc` hands the host blocks of the global allocator;
// - lifting takes ownership of what the host passed: a string or `list<u8>` becomes the
//   `String`/`Vec<u8>` over the very block (no copy), and record arrays are freed once read;
// - lowering moves each string and byte list of a result into a keep list, writes the
//   (ptr, len) the host reads, and the post-return drops the keep list.
// The generated glue uses what the WIT's types need: the rest of these helpers stay for other WITs.
#![allow(dead_code)]
use alloc::alloc::{alloc, alloc_zeroed, dealloc, handle_alloc_error, realloc, Layout};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::fmt;

/// Traps the instance, as the canonical ABI requires of the side that lifts a bad value.
/// With the `log` capability and the `std` feature, the panic hook logs why first.
#[cold]
pub fn trap(problem: fmt::Arguments<'_>) -> ! {
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

/// A static the guest mutates. Sound because a wasm32 instance is single-threaded and the
/// host never calls two exports at once nor re-enters one (abi/ABI.md, "Life cycle"), so at
/// most one `&mut` to it is live at a time.
pub struct Global<T>(UnsafeCell<T>);

unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    pub const fn new(value: T) -> Self {
        Global(UnsafeCell::new(value))
    }

    /// # Safety
    /// No other reference to the value may be live: call it only from an export's body.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get(&self) -> &mut T {
        &mut *self.0.get()
    }
}

// ---------------------------------------------------------------------------------------
// Linear memory, at addresses the generated code computes. The canonical ABI aligns every
// value it places, so these are plain aligned accesses.

#[inline(always)]
pub unsafe fn load_u8(at: usize) -> u8 {
    *(at as *const u8)
}

#[inline(always)]
pub unsafe fn load_u16(at: usize) -> u16 {
    *(at as *const u16)
}

#[inline(always)]
pub unsafe fn load_u32(at: usize) -> u32 {
    *(at as *const u32)
}

#[inline(always)]
pub unsafe fn load_u64(at: usize) -> u64 {
    *(at as *const u64)
}

#[inline(always)]
pub unsafe fn load_f32(at: usize) -> f32 {
    *(at as *const f32)
}

#[inline(always)]
pub unsafe fn load_f64(at: usize) -> f64 {
    *(at as *const f64)
}

#[inline(always)]
pub unsafe fn store_u8(at: usize, value: u8) {
    *(at as *mut u8) = value
}

#[inline(always)]
pub unsafe fn store_u16(at: usize, value: u16) {
    *(at as *mut u16) = value
}

#[inline(always)]
pub unsafe fn store_u32(at: usize, value: u32) {
    *(at as *mut u32) = value
}

#[inline(always)]
pub unsafe fn store_u64(at: usize, value: u64) {
    *(at as *mut u64) = value
}

#[inline(always)]
pub unsafe fn store_f32(at: usize, value: f32) {
    *(at as *mut f32) = value
}

#[inline(always)]
pub unsafe fn store_f64(at: usize, value: f64) {
    *(at as *mut f64) = value
}

// ---------------------------------------------------------------------------------------
// Lifting. A zero-length string or list may carry any pointer (jco passes 1): never read,
// never freed.

/// `value` when it is below `cases`, else a trap naming `type_name`.
#[inline(always)]
pub fn discriminant(value: u32, cases: u32, type_name: &str) -> u32 {
    if value >= cases {
        trap(format_args!("discriminant {} out of range for {}", value, type_name));
    }
    value
}

pub fn lift_char(value: u32) -> char {
    match char::from_u32(value) {
        Some(c) => c,
        None => trap(format_args!("{:#x} is not a Unicode scalar value", value)),
    }
}

/// Takes ownership of a `list<u8>` the host allocated with `cabi_realloc(0, 0, 1, len)`.
///
/// # Safety
/// A non-empty `(ptr, len)` must be such a block, owned by nobody else.
pub unsafe fn lift_bytes(ptr: usize, len: usize) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    Vec::from_raw_parts(ptr as *mut u8, len, len)
}

/// A string the host allocated, as [`lift_bytes`]; a trap when it is not UTF-8.
pub unsafe fn lift_string(ptr: usize, len: usize) -> String {
    match String::from_utf8(lift_bytes(ptr, len)) {
        Ok(s) => s,
        Err(e) => trap(format_args!("the string at {:#x} of {} bytes is not UTF-8: {}", ptr, len, e)),
    }
}

/// Lifts a list whose elements are `size` bytes apart, each with `load` at its address, then
/// frees the array (allocated at `align`).
pub unsafe fn lift_list<T>(
    ptr: usize,
    len: usize,
    size: usize,
    align: usize,
    mut load: impl FnMut(usize) -> T,
) -> Vec<T> {
    let mut list = Vec::with_capacity(len);
    for i in 0..len {
        list.push(load(ptr + i * size));
    }
    free(ptr, len * size, align);
    list
}

/// Frees a block the host allocated with `cabi_realloc` once its contents were lifted.
pub unsafe fn free(ptr: usize, size: usize, align: usize) {
    if size != 0 {
        dealloc(ptr as *mut u8, Layout::from_size_align_unchecked(size, align));
    }
}

// ---------------------------------------------------------------------------------------
// Lowering. Calls are never concurrent nor re-entered (abi/ABI.md, "Life cycle"), so one
// static return area (generated: its size is the WIT's) and one keep list serve every export.

/// What the return area points to, owned until the post-return: byte buffers (strings,
/// `list<u8>`) and arrays of other lists' elements.
struct Keep {
    bytes: Vec<Vec<u8>>,
    arrays: Vec<(usize, Layout)>,
}

static KEEP: Global<Keep> = Global::new(Keep { bytes: Vec::new(), arrays: Vec::new() });

/// Export calls begun so far (wrapping), so a snapshot stream can tell whether another call
/// came between two of its own.
static CALLS: Global<u32> = Global::new(0);

/// Starts an export call: drops what the last call returned (in case the host skipped the
/// post-return) and counts the call.
pub unsafe fn begin_call() {
    release();
    let calls = CALLS.get();
    *calls = calls.wrapping_add(1);
}

/// The number of the export call under way (see `begin_call`).
pub unsafe fn call_number() -> u32 {
    *CALLS.get()
}

/// The post-return of every export.
pub unsafe fn release() {
    let keep = KEEP.get();
    keep.bytes.clear();
    // Most results hold no list of records: skip the drain then (this runs twice a call).
    if !keep.arrays.is_empty() {
        for (ptr, layout) in keep.arrays.drain(..) {
            dealloc(ptr as *mut u8, layout);
        }
    }
}

/// Keeps `bytes` until the post-return and writes its (ptr, len) at `ptr_at` and `len_at`.
#[inline]
pub unsafe fn store_bytes(ptr_at: usize, len_at: usize, bytes: Vec<u8>) {
    store_u32(ptr_at, bytes.as_ptr() as u32);
    store_u32(len_at, bytes.len() as u32);
    KEEP.get().bytes.push(bytes);
}

/// A zeroed array of `len` elements of `size` bytes at `align`, kept until the post-return;
/// answers its address. Inlined for the common empty list (metadata), which owns no memory.
#[inline]
pub unsafe fn keep_array(len: usize, size: usize, align: usize) -> usize {
    if len == 0 {
        return align;
    }
    keep_new_array(len, size, align)
}

unsafe fn keep_new_array(len: usize, size: usize, align: usize) -> usize {
    let layout = match Layout::from_size_align(len * size, align) {
        Ok(layout) => layout,
        Err(_) => trap(format_args!("a list of {} elements of {} bytes is too large", len, size)),
    };
    let ptr = alloc_zeroed(layout);
    if ptr.is_null() {
        handle_alloc_error(layout)
    }
    KEEP.get().arrays.push((ptr as usize, layout));
    ptr as usize
}
