// What a transport hands the state building block: user keys, values already turned into
// bytes, and options exactly as the user sent them (the building block validates them).
import type { Metadata } from '../../../abi/ts/types.ts';

export interface StateOptions {
  concurrency?: string;
  consistency?: string;
}

export interface KeyedRequest {
  key: string;
  /** An empty ETag counts as none, as in Dapr. */
  etag?: string;
  options?: StateOptions;
  metadata: Metadata;
}

export interface SaveItem extends KeyedRequest {
  value: Uint8Array;
  /** The content type to record when `metadata.contentType` does not name one. */
  contentType?: string;
}

/** One transaction step; `operation` is `upsert` or `delete` (anything else is refused). */
export interface TransactionOperation {
  operation: string;
  request: KeyedRequest & { value?: Uint8Array; contentType?: string };
}

export interface GetOptions {
  consistency?: string;
  metadata: Metadata;
}

export interface BulkGetOptions {
  /** How many store calls may run at once; unset: one call for all keys. */
  parallelism?: number;
  metadata: Metadata;
}

export interface DeleteOptions extends StateOptions {
  etag?: string;
  metadata: Metadata;
}
