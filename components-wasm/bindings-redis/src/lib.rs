//! bindings.redis in Rust: Dapr's Redis output binding. Each invocation acts on one key
//! (`create`, `get`, `delete`, `increment`, with `ttlInSeconds`), speaking RESP2 to a real
//! redis-server over the `redis` capability through the Redis client the bundled Redis
//! components share (components-wasm/shared/redis-client).
mod binding;
mod request;

// Native `cargo test` builds the pure part (reading a request) without the exports, whose
// host imports exist only in wasm.
#[cfg(target_arch = "wasm32")]
tessera_sdk::export_output_binding! {
    binding: binding::RedisBinding,
    type: "bindings.redis",
    version: "v1",
    capabilities: [log, clock, tcp, redis],
    description: "Redis keys as an output binding, built in Rust: create (with a TTL), get, delete and increment one key.",
}
