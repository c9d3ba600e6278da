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
