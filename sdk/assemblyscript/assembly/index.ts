// The AssemblyScript SDK's public API for a state store. A component imports from here; its
// entry file also re-exports "./state-exports", the canonical ABI exports generated from the WIT
// (and "./snapshot-exports" when its store extends SnapshottingStateStore, plus
// "./snapshot-stream-exports" when it extends StreamingStateStore, plus "./query-exports" when
// it answers Dapr's query API and calls registerQuery). A broker imports "./pubsub".
export { Box, Metadata, StateError, StateErrorKind } from "./types";
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
export { Queryable, QueryItem, QueryRequest, QueryResponse, QueryResult, registerQuery } from "./query";
export { QueryCandidate, runQuery } from "./json-query";
export { clock, log, LogLevel, random, redis, sleep, tcp } from "./host";
