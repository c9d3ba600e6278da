// A binding's entry file re-exports this: the canonical ABI exports of interface `binding`
// (init, ping), generated from the WIT into ./generated/ (`npm run bindgen`). Beside it, an
// input binding re-exports "./input-exports", an output binding "./output-exports", one that
// is both re-exports the two.
export * from "./generated/binding-exports";
