// The entry file of a StreamingStateStore re-exports this too: the canonical ABI exports of
// interface `snapshot-stream`, generated from the WIT into ./generated/ (`npm run bindgen`).
export * from "./generated/snapshot-stream-exports";
