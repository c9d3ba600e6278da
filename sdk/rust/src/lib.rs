//! Write a Tessera state store, pub/sub broker or binding in Rust. This crate is the guest side
//! of the ABI in `abi/ABI.md` (`tessera:components`, the version in `ABI_VERSION`): it lifts each
//! request out of the canonical ABI into typed values, calls your [`StateStore`], [`PubSub`],
//! [`OutputBinding`] or [`InputBinding`], and lowers the answer back, under the export names
//! wit-bindgen would give them; it wraps the host interfaces (`log`, `clock`, `random`,
//! `sleep`, `tcp`) in safe functions. No dependencies; builds with rustc 1.63 for
//! `wasm32-unknown-unknown`. See README.md.
//!
//! The canonical-ABI glue is generated from the WIT (`src/generated/`, by `npm run bindgen`);
//! the rest is the hand-written API.
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod binding;
mod export;
mod generated;
mod host;
mod manifest;
mod pubsub;
mod rt;
mod snapshot_stream;
mod store;
pub mod time;
mod types;

pub use binding::{unsupported_operation, Binding, InputBinding, OutputBinding};
pub use generated::types::*;
pub use host::{clock, log, random, redis, sleep, tcp};
pub use manifest::ABI_VERSION;
pub use pubsub::PubSub;
pub use snapshot_stream::{SnapshotChunk, SnapshotStream};
pub use store::{Snapshot, StateStore};
pub use types::{feature, Metadata, StateError};

/// What the export macros expand to call; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::export::{log_panics, StoreCell, Streaming, WholeSnapshot};
    pub use crate::generated::*;
    pub use crate::manifest::{lists_capability, manifest, manifest_len, ManifestFields};
    pub use crate::rt::cabi_realloc;
    pub use crate::snapshot_stream::StreamCell;
}
