// The state RPCs of the Dapr gRPC API over the state building block: GetState,
// GetBulkState, SaveState, DeleteState, DeleteBulkState, ExecuteStateTransaction,
// QueryStateAlpha1. Values
// are bytes both ways and stored as they come, as daprd's gRPC API does (the HTTP API
// stores the JSON text of `value`).
import type { KeyedRequest, SaveItem, TransactionOperation } from '../../building-blocks/state/requests.ts';
import type { StateService } from '../../building-blocks/state/state-service.ts';
import { concurrencyName, consistencyName, metadataOf, type ProtoMap, type ProtoStateItem } from './grpc-messages.ts';
import type { RpcTable } from './rpc-handlers.ts';

interface GetStateRequest {
  store_name: string;
  key: string;
  consistency: string;
  metadata: ProtoMap;
}

interface GetBulkStateRequest {
  store_name: string;
  keys: string[];
  parallelism: number;
  metadata: ProtoMap;
}

interface DeleteStateRequest {
  store_name: string;
  key: string;
  etag: { value: string } | null;
  options: ProtoStateItem['options'];
  metadata: ProtoMap;
}

interface StoreItemsRequest {
  store_name: string;
  states: ProtoStateItem[];
}

interface QueryStateRequest {
  store_name: string;
  query: string;
  metadata: ProtoMap;
}

interface ExecuteStateTransactionRequest {
  storeName: string;
  operations: { operationType: string; request: ProtoStateItem | null }[];
  metadata: ProtoMap;
}

const EMPTY = {};
const NO_BYTES = Buffer.alloc(0);

function keyed(item: ProtoStateItem): KeyedRequest {
  return {
    key: item.key,
    etag: item.etag?.value,
    options: { concurrency: concurrencyName(item.options?.concurrency), consistency: consistencyName(item.options?.consistency) },
    metadata: metadataOf(item.metadata),
  };
}

function saveItem(item: ProtoStateItem): SaveItem {
  return { ...keyed(item), value: item.value };
}

function bytes(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

export function stateRpcs(state: StateService): RpcTable {
  return {
    GetState: async (request: GetStateRequest) => {
      const item = await state.get(request.store_name, request.key, { consistency: consistencyName(request.consistency), metadata: metadataOf(request.metadata) });
      if (item === undefined) return EMPTY;
      return { data: bytes(item.value), etag: item.etag ?? '', metadata: Object.fromEntries(item.metadata) };
    },

    GetBulkState: async (request: GetBulkStateRequest) => {
      const items = await state.bulkGet(request.store_name, request.keys, {
        parallelism: request.parallelism > 0 ? request.parallelism : undefined,
        metadata: metadataOf(request.metadata),
      });
      return {
        items: items.map(({ key, response, error }) => ({
          key,
          data: response === undefined ? NO_BYTES : bytes(response.value),
          etag: response?.etag ?? '',
          error: error ?? '',
          metadata: response === undefined ? {} : Object.fromEntries(response.metadata),
        })),
      };
    },

    SaveState: async (request: StoreItemsRequest) => {
      await state.save(request.store_name, request.states.map(saveItem));
      return EMPTY;
    },

    DeleteState: async (request: DeleteStateRequest) => {
      const { key, etag, options, metadata } = request;
      const item = keyed({ key, value: NO_BYTES, etag, options, metadata });
      await state.delete(request.store_name, key, { etag: item.etag, ...item.options, metadata: item.metadata });
      return EMPTY;
    },

    DeleteBulkState: async (request: StoreItemsRequest) => {
      await state.bulkDelete(request.store_name, request.states.map((item) => keyed(item)));
      return EMPTY;
    },

    ExecuteStateTransaction: async (request: ExecuteStateTransactionRequest) => {
      const operations = request.operations.map(
        ({ operationType, request: item }): TransactionOperation => ({
          operation: operationType,
          request: item === null ? { key: '', metadata: [] } : saveItem(item),
        }),
      );
      await state.transact(request.storeName, operations, metadataOf(request.metadata));
      return EMPTY;
    },

    QueryStateAlpha1: async (request: QueryStateRequest) => {
      const page = await state.query(request.store_name, request.query, metadataOf(request.metadata));
      return {
        results: page.results.map(({ key, value, etag }) => ({ key, data: bytes(value), etag: etag ?? '', error: '' })),
        token: page.token ?? '',
        metadata: Object.fromEntries(page.metadata),
      };
    },
  };
}
