// The host interfaces of abi/wit/host.wit, imported under their canonical names, with safe
// wrappers. The linker imports only the functions a component calls, so a component's
// imports (and the capabilities its manifest must list) are exactly the interfaces it uses.

/// Structured logging into the sidecar's log, tagged with the component's name.
pub mod log {
    #[link(wasm_import_module = "tessera:components/log@0.1.0")]
    extern "C" {
        #[link_name = "log"]
        fn host_log(level: u32, message_ptr: *const u8, message_len: usize);
    }

    /// WIT `log.level`, numbered as the canonical ABI numbers the enum.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Level {
        Trace = 0,
        Debug = 1,
        Info = 2,
        Warn = 3,
        Error = 4,
    }

    /// Logs `message` at `level`; the host copies it during the call.
    pub fn write(level: Level, message: &str) {
        // SAFETY: the host only reads `message_len` bytes at `message_ptr`, during the call.
        unsafe { host_log(level as u32, message.as_ptr(), message.len()) }
    }

    pub fn trace(message: &str) {
        write(Level::Trace, message)
    }

    pub fn debug(message: &str) {
        write(Level::Debug, message)
    }

    pub fn info(message: &str) {
        write(Level::Info, message)
    }

    pub fn warn(message: &str) {
        write(Level::Warn, message)
    }

    pub fn error(message: &str) {
        write(Level::Error, message)
    }
}

/// Time. A component has no other way to read a clock.
pub mod clock {
    #[link(wasm_import_module = "tessera:components/clock@0.1.0")]
    extern "C" {
        #[link_name = "now-ms"]
        fn host_now_ms() -> u64;
        #[link_name = "monotonic-ns"]
        fn host_monotonic_ns() -> u64;
    }

    /// Wall-clock time in milliseconds since the Unix epoch.
    pub fn now_ms() -> u64 {
        // SAFETY: no arguments, a plain i64 result.
        unsafe { host_now_ms() }
    }

    /// Monotonic time in nanoseconds from an arbitrary origin.
    pub fn monotonic_ns() -> u64 {
        // SAFETY: no arguments, a plain i64 result.
        unsafe { host_monotonic_ns() }
    }
}

/// Cryptographically secure random bytes from the host.
pub mod random {
    use alloc::vec::Vec;

    #[link(wasm_import_module = "tessera:components/random@0.1.0")]
    extern "C" {
        // list<u8> is two flat results, over MAX_FLAT_RESULTS: the host writes (ptr, len)
        // into the return area we pass, after allocating the bytes with our cabi_realloc.
        #[link_name = "get-random-bytes"]
        fn host_get_random_bytes(len: u32, ret_area: *mut [u32; 2]);
    }

    /// `len` random bytes. The host traps the call past 65536 bytes: ask in pieces.
    pub fn bytes(len: u32) -> Vec<u8> {
        let mut ret = [0u32; 2];
        // SAFETY: the host fills `ret` with a block it got from `cabi_realloc(0, 0, 1, len)`
        // (nothing for len 0), which becomes ours: exactly a Vec<u8>'s allocation.
        unsafe {
            host_get_random_bytes(len, &mut ret);
            crate::abi::lift_bytes(ret[0] as usize, ret[1] as usize)
        }
    }
}

/// Suspends this component, not the sidecar (JSPI). Importing it makes every call of the
/// component async on the host, so use it only where a store really must wait.
pub mod sleep {
    #[link(wasm_import_module = "tessera:components/sleep@0.1.0")]
    extern "C" {
        #[link_name = "sleep-ms"]
        fn host_sleep_ms(ms: u32);
    }

    pub fn ms(ms: u32) {
        // SAFETY: a plain i32 argument.
        unsafe { host_sleep_ms(ms) }
    }
}

/// Outbound TCP to the `host:port` pairs the component's YAML grants
/// (`tessera.dev/allow-tcp: "127.0.0.1:6379"`). Every call suspends this component, not the
/// sidecar (JSPI), so importing it makes every call of the component async on the host.
pub mod tcp {
    use crate::abi::{byte, check_discriminant, lift_bytes, lift_string, word};
    use crate::types::{Error, StateError};
    use alloc::vec::Vec;

    /// Where an import writes its `result<_, error>` (16 bytes: discriminant at 0, the
    /// payload at 4), which is over MAX_FLAT_RESULTS.
    #[repr(C, align(4))]
    struct RetArea([u8; 16]);

    #[link(wasm_import_module = "tessera:components/tcp@0.1.0")]
    extern "C" {
        #[link_name = "connect"]
        fn host_connect(host_ptr: *const u8, host_len: usize, port: u32, timeout_ms: u32, ret: *mut RetArea);
        #[link_name = "write"]
        fn host_write(connection: u32, data_ptr: *const u8, data_len: usize, ret: *mut RetArea);
        #[link_name = "read"]
        fn host_read(connection: u32, max_bytes: u32, timeout_ms: u32, ret: *mut RetArea);
        #[link_name = "close"]
        fn host_close(connection: u32);
    }

    /// An `error` the host wrote: case at 0, message at 4, a block that becomes ours.
    unsafe fn load_error(p: usize) -> Error {
        let message = lift_string(word(p + 4), word(p + 8));
        match check_discriminant(byte(p), 6, "error") {
            0 => StateError::EtagMismatch(message),
            1 => StateError::EtagInvalid(message),
            2 => StateError::NotFound(message),
            3 => StateError::InvalidArgument(message),
            4 => StateError::Unavailable(message),
            _ => StateError::Internal(message),
        }
    }

    /// Lifts the `result<_, error>` the host wrote, handing the ok payload's address to `ok`.
    /// The discriminants are bytes: the host leaves the padding after them as it was.
    unsafe fn lift_result<T>(ret: &RetArea, ok: impl FnOnce(usize) -> T) -> Result<T, Error> {
        let at = ret.0.as_ptr() as usize;
        match check_discriminant(byte(at), 2, "result") {
            0 => Ok(ok(at + 4)),
            _ => Err(load_error(at + 4)),
        }
    }

    /// An open connection; closed when dropped.
    #[derive(Debug)]
    pub struct Connection {
        handle: u32,
    }

    /// Opens a connection to `host:port`, waiting up to `timeout_ms`.
    /// `Err(InvalidArgument)` when the component's YAML does not grant that address (the
    /// message names it and the annotation to add), `Err(Unavailable)` when it cannot be
    /// reached in time.
    pub fn connect(host: &str, port: u16, timeout_ms: u32) -> Result<Connection, Error> {
        let mut ret = RetArea([0; 16]);
        // SAFETY: the host reads `host` during the call and writes the return area, whose
        // error message (if any) it allocated with our cabi_realloc for us to own.
        unsafe {
            host_connect(host.as_ptr(), host.len(), port as u32, timeout_ms, &mut ret);
            lift_result(&ret, |p| Connection { handle: word(p) as u32 })
        }
    }

    impl Connection {
        /// The host's number for the connection.
        pub fn handle(&self) -> u32 {
            self.handle
        }

        /// Writes every byte of `data`; `Err(Unavailable)` when the connection is gone (some
        /// bytes may have left already: treat the connection as broken).
        pub fn write_all(&mut self, data: &[u8]) -> Result<(), Error> {
            let mut ret = RetArea([0; 16]);
            // SAFETY: the host reads `data` during the call and writes the return area.
            unsafe {
                host_write(self.handle, data.as_ptr(), data.len(), &mut ret);
                lift_result(&ret, |_| ())
            }
        }

        /// Up to `max_bytes` bytes, waiting up to `timeout_ms` for the first one: an empty
        /// `Vec` means none came in time. `Err(Unavailable)` once the peer closed the
        /// connection or it broke.
        pub fn read(&mut self, max_bytes: u32, timeout_ms: u32) -> Result<Vec<u8>, Error> {
            let mut ret = RetArea([0; 16]);
            // SAFETY: the host writes the return area; the bytes it points to were allocated
            // with our cabi_realloc(0, 0, 1, len) and become ours, exactly a Vec<u8>'s block.
            unsafe {
                host_read(self.handle, max_bytes, timeout_ms, &mut ret);
                lift_result(&ret, |p| lift_bytes(word(p), word(p + 4)))
            }
        }

        /// Closes the connection now (dropping it does the same).
        pub fn close(self) {}
    }

    impl Drop for Connection {
        fn drop(&mut self) {
            // SAFETY: a plain i32 argument; the handle is not used again.
            unsafe { host_close(self.handle) }
        }
    }
}
