// A state store's entry file re-exports this: the canonical ABI exports of interface `state`,
// generated from the WIT into ./generated/ (`npm run bindgen`).
export * from "./generated/state-exports";
