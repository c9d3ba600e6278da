// TypeScript mirror of `abi/wit/state.wit`, and the `StateStore` interface that the state
// building block is written against. A building block never sees a wasm instance.
import type { Metadata } from './types.ts';

export type Concurrency = 'last-write' | 'first-write';
export type Consistency = 'eventual' | 'strong';

export interface GetRequest {
  key: string;
  consistency: Consistency;
  metadata: Metadata;
}

export interface GetResponse {
  value: Uint8Array;
  etag?: string;
  contentType?: string;
  metadata: Metadata;
}

export interface SetRequest {
  key: string;
  value: Uint8Array;
  etag?: string;
  contentType?: string;
  concurrency: Concurrency;
  consistency: Consistency;
  metadata: Metadata;
}

export interface DeleteRequest {
  key: string;
  etag?: string;
  concurrency: Concurrency;
  consistency: Consistency;
  metadata: Metadata;
}

export interface BulkGetItem {
  key: string;
  response?: GetResponse;
  error?: string;
}

export type TransactOperation = { tag: 'set'; val: SetRequest } | { tag: 'delete'; val: DeleteRequest };

/** Optional features a state store may advertise, as Dapr names them. */
export type StateFeature = 'ETAG' | 'TRANSACTIONAL' | 'TTL' | (string & {});

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
  ping(): Promise<void>;
}
