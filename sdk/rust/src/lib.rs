//! Write a Tessera state store or pub/sub broker in Rust. This crate is the guest side of the
//! ABI in `abi/ABI.md` (`tessera:components@0.1.0`): it lifts each request out of the
//! canonical ABI into typed values, calls your [`StateStore`] or [`PubSub`], and lowers the
//! answer back, under the export names wit-bindgen would give them; it wraps the host
//! interfaces (`log`, `clock`, `random`, `sleep`, `tcp`) in safe functions. No dependencies;
//! builds with rustc 1.63 for `wasm32-unknown-unknown`. See README.md.
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod abi;
mod exports;
mod host;
mod macros;
mod manifest;
mod pubsub;
mod pubsub_abi;
mod pubsub_exports;
mod snapshot_stream;
mod store;
mod types;

pub use host::{clock, log, random, sleep, tcp};
pub use manifest::ABI_VERSION;
pub use pubsub::{AckOutcome, BulkPublishEntry, BulkPublishFailure, Message, PubSub, PublishRequest};
pub use snapshot_stream::{SnapshotChunk, SnapshotStream};
pub use store::{Snapshot, StateStore};
pub use types::{
    feature, BulkGetItem, Concurrency, Consistency, DeleteRequest, Error, GetRequest, GetResponse, Metadata,
    SetRequest, StateError, TransactOperation,
};

/// What the export macros expand to call; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::exports::*;
    pub use crate::manifest::{lists_capability, manifest, manifest_len, ManifestFields};

    pub mod pubsub {
        pub use crate::pubsub_exports::*;
    }
}
