// The host interfaces of abi/wit/host.wit as a component author calls them. The imports
// themselves (canonical names, lowering, lifting) are generated (src/generated/<interface>.rs);
// these are the idiomatic wrappers. The linker imports only the functions a component calls,
// so a component's imports (and the capabilities its manifest must list) are exactly the
// interfaces it uses.

/// Structured logging into the sidecar's log, tagged with the component's name.
pub mod log {
    pub use crate::generated::log::Level;

    /// Logs `message` at `level`; the host copies it during the call.
    pub fn write(level: Level, message: &str) {
        crate::generated::log::log(level, message)
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
    /// Wall-clock time in milliseconds since the Unix epoch.
    pub fn now_ms() -> u64 {
        crate::generated::clock::now_ms()
    }

    /// Monotonic time in nanoseconds from an arbitrary origin.
    pub fn monotonic_ns() -> u64 {
        crate::generated::clock::monotonic_ns()
    }
}

/// Cryptographically secure random bytes from the host.
pub mod random {
    use alloc::vec::Vec;

    /// `len` random bytes. The host traps the call past 65536 bytes: ask in pieces.
    pub fn bytes(len: u32) -> Vec<u8> {
        crate::generated::random::get_random_bytes(len)
    }
}

/// Suspends this component, not the sidecar (JSPI). Importing it makes every call of the
/// component async on the host, so use it only where a store really must wait.
pub mod sleep {
    pub fn ms(ms: u32) {
        crate::generated::sleep::sleep_ms(ms)
    }
}

/// Outbound TCP to the `host:port` pairs the component's YAML grants
/// (`tessera.dev/allow-tcp: "127.0.0.1:6379"`). Every call suspends this component, not the
/// sidecar (JSPI), so importing it makes every call of the component async on the host.
pub mod tcp {
    use crate::generated::tcp as imports;
    use crate::generated::types::Error;
    use alloc::vec::Vec;

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
        imports::connect(host, port, timeout_ms).map(|handle| Connection { handle })
    }

    impl Connection {
        /// The host's number for the connection.
        pub fn handle(&self) -> u32 {
            self.handle
        }

        /// Writes every byte of `data`; `Err(Unavailable)` when the connection is gone (some
        /// bytes may have left already: treat the connection as broken).
        pub fn write_all(&mut self, data: &[u8]) -> Result<(), Error> {
            imports::write(self.handle, data)
        }

        /// Up to `max_bytes` bytes, waiting up to `timeout_ms` for the first one: an empty
        /// `Vec` means none came in time. `Err(Unavailable)` once the peer closed the
        /// connection or it broke.
        pub fn read(&mut self, max_bytes: u32, timeout_ms: u32) -> Result<Vec<u8>, Error> {
            imports::read(self.handle, max_bytes, timeout_ms)
        }

        /// Closes the connection now (dropping it does the same).
        pub fn close(self) {}
    }

    impl Drop for Connection {
        fn drop(&mut self) {
            imports::close(self.handle)
        }
    }
}

/// Redis commands to a server the component's YAML grants for tcp
/// (`tessera.dev/allow-tcp: "127.0.0.1:6379"`), pipelined by the host on one connection that
/// every instance of the component opening the same server, user and database shares: far
/// cheaper per command than a [`tcp`] connection each when calls overlap. Commands that keep
/// state on a connection (`MULTI`, `SELECT`, `SUBSCRIBE`, a blocking read) are refused; use
/// [`tcp`] for those. Every `execute` suspends this component, not the sidecar (JSPI).
pub mod redis {
    use crate::generated::redis as imports;
    use crate::generated::types::Error;
    use alloc::vec::Vec;

    /// A handle on the shared connection; released when dropped.
    #[derive(Debug)]
    pub struct Connection {
        handle: u32,
    }

    /// A handle on the connection to `host:port` as `username` with `password` (each empty
    /// for none) on database `db`. Nothing connects yet: the host connects (and sends `AUTH`
    /// and `SELECT`) at the first [`Connection::execute`], and again after it broke, each
    /// time waiting up to `connect_timeout_ms`. `Err(InvalidArgument)` when the component's
    /// YAML does not grant that address.
    pub fn open(host: &str, port: u16, username: &str, password: &str, db: u32, connect_timeout_ms: u32) -> Result<Connection, Error> {
        imports::open(host, port, username, password, db, connect_timeout_ms).map(|handle| Connection { handle })
    }

    impl Connection {
        /// Sends `count` commands, each encoded as RESP sends it (an array of bulk strings), and
        /// returns their replies as the server sent them, one after another, waiting up to
        /// `timeout_ms` for all; `max_reply_bytes` caps them (0: the host's default, 4 MiB).
        /// `Err(Unavailable)` when the server cannot be reached, the connection broke or the
        /// time passed; `Err(InvalidArgument)` for malformed or refused commands, or replies
        /// over the cap; `Err(Internal)` when the server refused `AUTH` or `SELECT`.
        pub fn execute(&self, commands: &[u8], count: u32, timeout_ms: u32, max_reply_bytes: u32) -> Result<Vec<u8>, Error> {
            imports::execute(self.handle, commands, count, timeout_ms, max_reply_bytes)
        }
    }

    impl Drop for Connection {
        fn drop(&mut self) {
            imports::close(self.handle)
        }
    }
}
