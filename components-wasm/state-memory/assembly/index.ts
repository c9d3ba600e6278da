// state.memory: an in-process key/value store with ETags, transactions, TTLs and Dapr's query
// API, whose data crosses a hot swap through snapshot/restore, streamed in chunks (or whole,
// for an older host).
export * from "../../../sdk/assemblyscript/assembly/state-exports";
export * from "../../../sdk/assemblyscript/assembly/snapshot-exports";
export * from "../../../sdk/assemblyscript/assembly/snapshot-stream-exports";
export * from "../../../sdk/assemblyscript/assembly/query-exports";
import { registerQuery, registerStateStore } from "../../../sdk/assemblyscript/assembly/index";
import { MemoryStore } from "./memory-store";

const store = new MemoryStore();
registerStateStore(store);
registerQuery(store);
