// state.memory: an in-process key/value store with ETags, transactions and TTLs.
export * from "../../../sdk/assemblyscript/assembly/state-exports";
import { registerStateStore } from "../../../sdk/assemblyscript/assembly/index";
import { MemoryStore } from "./memory-store";

registerStateStore(new MemoryStore());
