// The `StateStore` interface that the state building block is written against, over the
// types of `abi/wit/state.wit` (generated into `wit/state.ts`). A building block never sees a
// wasm instance.
import type { BulkGetItem, DeleteRequest, GetRequest, GetResponse, SetRequest, TransactOperation } from './wit/state.ts';
import type { Metadata } from './types.ts';
import type { QueryRequest, QueryResponse } from './wit/query.ts';

export type { FieldMatch, FieldMatches, Filter, FilterGroup, QueryItem, QueryRequest, QueryResponse, SortKey } from './wit/query.ts';
export type { BulkGetItem, Concurrency, Consistency, DeleteRequest, GetRequest, GetResponse, SetRequest, TransactOperation } from './wit/state.ts';

/** Optional features a state store may advertise, as Dapr names them. */
export type StateFeature = 'ETAG' | 'TRANSACTIONAL' | 'TTL' | 'QUERY_API' | (string & {});

/**
 * A live state store. Every method rejects with a `TesseraError` whose `componentError`
 * carries the component's typed error (etag-mismatch, not-found, ...) when the component
 * returned one, or with a trap/unavailable error when the component failed.
 */
export interface StateStore {
  /** Features advertised by the component's `features()` export at load. */
  readonly features: ReadonlySet<StateFeature>;
  get(req: GetRequest): Promise<GetResponse | undefined>;
  set(req: SetRequest): Promise<void>;
  delete(req: DeleteRequest): Promise<void>;
  bulkGet(reqs: GetRequest[]): Promise<BulkGetItem[]>;
  bulkSet(reqs: SetRequest[]): Promise<void>;
  bulkDelete(reqs: DeleteRequest[]): Promise<void>;
  transact(operations: TransactOperation[], metadata: Metadata): Promise<void>;
  /**
   * Dapr's state query, when the running generation exports `query` (it then has the feature
   * `QUERY_API`); rejects with ERR_STATE_STORE_NOT_SUPPORTED when it does not.
   */
  query(req: QueryRequest): Promise<QueryResponse>;
  ping(): Promise<void>;
}
