// A store that answers Dapr's query API re-exports this from its entry file: the canonical ABI
// exports of interface `query`, generated from the WIT into ./generated/ (`npm run bindgen`).
export * from "./generated/query-exports";
