//! state.redis in Rust: Dapr's Redis state store, wire-compatible with it (one hash per key
//! with the fields `data` and `version`, written by Lua scripts), speaking RESP2 to a real
//! redis-server over the `redis` capability through the Redis client the bundled Redis
//! components share (components-wasm/shared/redis-client). It keeps no data of its own, so
//! it exports no snapshot and the host pools its instances, which share the connection the
//! host pipelines.
mod config;
mod script;
mod store;

// Native `cargo test` builds the pure parts (configuration, requests, script replies) without
// the exports, whose host imports exist only in wasm.
#[cfg(target_arch = "wasm32")]
tessera_sdk::export_state_store! {
    store: store::RedisStore,
    type: "state.redis",
    version: "v1",
    capabilities: [log, clock, tcp, redis],
    description: "Redis as a state store, wire-compatible with Dapr's: ETags, first-write, TTLs and all-or-none transactions, built in Rust.",
}
