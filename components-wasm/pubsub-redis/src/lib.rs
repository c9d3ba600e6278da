//! pubsub.redis in Rust: Dapr's Redis Streams pub/sub (consumer groups, at-least-once
//! delivery, retries, takeover of a crashed subscriber's messages), speaking RESP2 to a real
//! redis-server over the `redis` capability, and `tcp` for blocking reads and transactions.
mod broker;
mod config;
mod metadata_json;
mod streams;

// Native `cargo test` builds the pure parts (config, JSON, entries) without the
// exports, whose host imports exist only in wasm.
#[cfg(target_arch = "wasm32")]
tessera_sdk::export_pubsub! {
    broker: broker::RedisStreams,
    type: "pubsub.redis",
    version: "v1",
    capabilities: [log, clock, random, tcp, redis],
    description: "Redis Streams pub/sub with consumer groups, built in Rust: at-least-once delivery, retries, and takeover of a crashed subscriber's messages.",
}
