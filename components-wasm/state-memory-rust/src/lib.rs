//! state.memory in Rust: an in-process key/value store with ETags, transactions, TTLs and
//! snapshots, behaving as the AssemblyScript state.memory does.
mod memory_store;
mod snapshot;
mod ttl;

tessera_sdk::export_streaming_state_store! {
    store: memory_store::MemoryStore,
    type: "state.memory",
    version: "v1",
    capabilities: [log, clock],
    description: "In-memory key/value state store with ETags, transactions and TTLs, built in Rust; snapshots carry its data across a hot swap.",
}
