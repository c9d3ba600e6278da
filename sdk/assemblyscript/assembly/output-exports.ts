// An output binding's entry file re-exports this beside "./binding-exports": the canonical ABI
// exports of interface `output` (operations, invoke), generated from the WIT into ./generated/.
export * from "./generated/output-exports";
