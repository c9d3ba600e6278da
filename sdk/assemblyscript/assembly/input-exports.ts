// An input binding's entry file re-exports this beside "./binding-exports": the canonical ABI
// exports of interface `input` (read, ack), generated from the WIT into ./generated/.
export * from "./generated/input-exports";
