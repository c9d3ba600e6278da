// The AssemblyScript SDK's public API. A component imports from here; its entry file also
// re-exports "./state-exports", which holds the canonical ABI exports (and "./snapshot-exports"
// when its store extends SnapshottingStateStore, plus "./snapshot-stream-exports" when it
// extends StreamingStateStore).
export { Metadata, StateError, StateErrorKind } from "./types";
export {
  BulkGetItem,
  BulkGetResult,
  Concurrency,
  Consistency,
  DeleteRequest,
  Feature,
  GetRequest,
  GetResponse,
  GetResult,
  OperationKind,
  registerStateStore,
  SetRequest,
  StateStore,
  TransactOperation,
} from "./state";
export { SnapshotReader, SnapshottingStateStore, SnapshotWriter, StreamingStateStore } from "./snapshot";
export { clock, log, LogLevel, random, sleep } from "./host";
