// A broker's entry file re-exports this: the canonical ABI exports of interface `pubsub`,
// generated from the WIT into ./generated/ (`npm run bindgen`).
export * from "./generated/pubsub-exports";
