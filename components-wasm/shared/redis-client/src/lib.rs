//! The Redis client of the bundled Redis components (`pubsub.redis`, `bindings.redis`): RESP2
//! ([`resp`]), commands through the host's `redis` capability and, for those that need a
//! connection of their own, one over the `tcp` capability with AUTH and SELECT ([`Redis`]), the
//! connection settings of Dapr's Redis components ([`Settings`]), and error replies as the
//! WIT's errors ([`refused`]). A library both crates depend on by path; not a component
//! (components-wasm/build.ts skips `shared/`).
mod connection;
pub mod resp;
mod settings;

pub use connection::{refused, Redis, Reply};
pub use settings::{duration, invalid, number, Settings};
