// The entry file of a store or broker whose data crosses a hot swap (SnapshottingStateStore,
// SnapshottingPubSub) re-exports this too: the canonical ABI exports of interface `snapshot`,
// generated from the WIT into ./generated/ (`npm run bindgen`).
export * from "./generated/snapshot-exports";
