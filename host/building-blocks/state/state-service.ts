// The state building block: Dapr's state semantics (key prefixes, ETags, TTL, bulk calls,
// transactions) over whichever live `StateStore` the component registry holds for a name.
import type {
  BulkGetItem,
  DeleteRequest,
  GetRequest,
  GetResponse,
  QueryItem,
  SetRequest,
  StateStore,
  TransactOperation,
} from '../../../abi/ts/state.ts';
import type { Metadata } from '../../../abi/ts/types.ts';
import type { LiveStateStore, StateStoreLookup } from '../../components/types.ts';
// The module's, not the global: Node's global `performance` is a getter, run on every read.
import { performance } from 'node:perf_hooks';
import { observed, startingFrom, type BlockObserver, type CallReport } from '../../observability/component-observer.ts';
import { KeyPrefix, keyPrefixFor } from './key-prefix.ts';
import { metadataValue } from '../request-metadata.ts';
import {
  type BulkGetOptions,
  type DeleteOptions,
  type GetOptions,
  type KeyedRequest,
  type SaveItem,
  type TransactionOperation,
} from './requests.ts';
import { checkTtl, concurrencyOf, consistencyOf } from './state-options.ts';
import { parseQuery, queryFailed } from './query-language.ts';
import { isTesseraError, TesseraError } from '../../errors.ts';
import { outbound } from '../../resiliency/component-calls.ts';
import type { Resiliency } from '../../resiliency/resiliency.ts';
import {
  isNotFound,
  keyRequired,
  operationFailed,
  storeNotConfigured,
  storeNotFound,
  storeNotLoaded,
  transactionsNotSupported,
  unsupportedOperation,
} from './state-errors.ts';

/** A page of query results, under the user's keys. */
export interface QueryPage {
  results: QueryItem[];
  token: string | undefined;
  metadata: Metadata;
}

export interface StateServiceOptions {
  appId: string;
  /** The outbound policies of state calls (Dapr's Resiliency); none: every call runs once. */
  resiliency?: Resiliency;
  /** The namespace for the `namespace` key prefix strategy (daprd reads `NAMESPACE`). */
  namespace?: string;
  /** Told of every store call (dapr_component_state_*), when metrics are on. */
  observer?: BlockObserver | undefined;
}

const NO_BYTES = new Uint8Array(0);

function setRequest(prefix: KeyPrefix, item: KeyedRequest & { value: Uint8Array; contentType?: string }): SetRequest {
  if (item.key === '') throw keyRequired();
  checkTtl(item.metadata, item.key);
  return {
    key: prefix.apply(item.key),
    value: item.value,
    etag: item.etag || undefined,
    contentType: metadataValue(item.metadata, 'contentType') ?? item.contentType,
    concurrency: concurrencyOf(item.options?.concurrency),
    consistency: consistencyOf(item.options?.consistency),
    metadata: item.metadata,
  };
}

function deleteRequest(prefix: KeyPrefix, item: KeyedRequest): DeleteRequest {
  return {
    key: prefix.apply(item.key),
    etag: item.etag || undefined,
    concurrency: concurrencyOf(item.options?.concurrency),
    consistency: consistencyOf(item.options?.consistency),
    metadata: item.metadata,
  };
}

/** Splits the reads into `parallelism` concurrent store calls (Dapr's bulk-get parallelism). */
async function bulkGetIn(store: StateStore, reqs: GetRequest[], parallelism: number | undefined): Promise<BulkGetItem[]> {
  const batches = Math.min(parallelism ?? 1, reqs.length);
  if (batches <= 1) return store.bulkGet(reqs);
  const size = Math.ceil(reqs.length / batches);
  const calls: Promise<BulkGetItem[]>[] = [];
  for (let i = 0; i < reqs.length; i += size) calls.push(store.bulkGet(reqs.slice(i, i + size)));
  return (await Promise.all(calls)).flat();
}

export class StateService {
  readonly #stores: StateStoreLookup;
  readonly #options: StateServiceOptions;
  /** Keyed by the live store, so a hot swap with a new `keyPrefix` gets a fresh prefix. */
  readonly #prefixes = new WeakMap<LiveStateStore, KeyPrefix>();

  constructor(stores: StateStoreLookup, options: StateServiceOptions) {
    this.#stores = stores;
    this.#options = options;
  }

  /** A call to the store under its outbound resiliency policy. */
  #call<T>(storeName: string, op: () => Promise<T>): Promise<T> {
    return outbound(this.#options.resiliency, storeName, 'Statestore', op);
  }

  #resolve(storeName: string): { store: StateStore; prefix: KeyPrefix } {
    const live = this.#stores.getStateStore(storeName);
    if (live === undefined) {
      const failure = this.#stores.stateStoreFailure(storeName);
      if (failure !== undefined) throw storeNotLoaded(storeName, failure);
      const { appId } = this.#options;
      throw this.#stores.stateStoreCount() === 0 ? storeNotConfigured(storeName, appId) : storeNotFound(storeName, appId);
    }
    let prefix = this.#prefixes.get(live);
    if (prefix === undefined) {
      prefix = keyPrefixFor(live.config, { storeName, appId: this.#options.appId, namespace: this.#options.namespace });
      this.#prefixes.set(live, prefix);
    }
    return { store: live.store, prefix };
  }

  /**
   * Throws as a call naming `storeName` would when no such store is loaded: the transports ask
   * before they read a request's body, so a bad store name is the answer whatever the body is.
   */
  checkStore(storeName: string): void {
    this.#resolve(storeName);
  }

  /** What reports a call to `storeName` as daprd's `operation`; undefined with metrics off. */
  #report(storeName: string, operation: string): CallReport | undefined {
    const observer = this.#options.observer;
    return observer && ((success, ms) => observer.stateCall(storeName, operation, success, ms));
  }

  /** The stored item, or undefined when the key does not exist. */
  async get(storeName: string, key: string, options: GetOptions): Promise<GetResponse | undefined> {
    const { store, prefix } = this.#resolve(storeName);
    const req: GetRequest = {
      key: prefix.apply(key),
      consistency: consistencyOf(options.consistency),
      metadata: options.metadata,
    };
    // Timed here rather than by `observed`: the hottest call of the API, awaited here anyway.
    const observer = this.#options.observer;
    const t0 = observer === undefined ? 0 : performance.now();
    try {
      const call = () => this.#call(storeName, () => store.get(req));
      // A key that is not there is a successful get (the store answers undefined, whether its component said none or not-found).
      const item = await (observer === undefined ? call() : startingFrom(t0, call));
      observer?.stateCall(storeName, 'get', true, performance.now() - t0);
      return item;
    } catch (err) {
      observer?.stateCall(storeName, 'get', false, performance.now() - t0);
      throw operationFailed(err, { op: 'get', storeName, key });
    }
  }

  /** One item per key, under the user's key; a key that failed carries `error`. */
  async bulkGet(storeName: string, keys: string[], options: BulkGetOptions): Promise<BulkGetItem[]> {
    const { store, prefix } = this.#resolve(storeName);
    if (keys.length === 0) return [];
    const reqs = keys.map((key): GetRequest => ({ key: prefix.apply(key), consistency: 'eventual', metadata: options.metadata }));
    let items: BulkGetItem[];
    try {
      items = await observed(() => this.#call(storeName, () => bulkGetIn(store, reqs, options.parallelism)), this.#report(storeName, 'bulk_get'));
    } catch (err) {
      throw operationFailed(err, { op: 'bulk-get', storeName });
    }
    return items.map((item) => ({ ...item, key: prefix.strip(item.key) }));
  }

  /** Saves the items; one item is a plain set, several a bulk set, as daprd does. */
  async save(storeName: string, items: SaveItem[]): Promise<void> {
    const { store, prefix } = this.#resolve(storeName);
    if (items.length === 0) return;
    const reqs = items.map((item) => setRequest(prefix, item));
    try {
      const one = reqs.length === 1 ? reqs[0] : undefined;
      await observed(() => this.#call(storeName, () => (one !== undefined ? store.set(one) : store.bulkSet(reqs))), this.#report(storeName, 'set'));
    } catch (err) {
      throw operationFailed(err, { op: 'save', storeName });
    }
  }

  /** Deletes a key; deleting a missing key without an ETag succeeds. */
  async delete(storeName: string, key: string, options: DeleteOptions): Promise<void> {
    const { store, prefix } = this.#resolve(storeName);
    const req = deleteRequest(prefix, { key, etag: options.etag, options, metadata: options.metadata });
    try {
      await observed(() => this.#call(storeName, () => store.delete(req)), this.#report(storeName, 'delete'));
    } catch (err) {
      if (req.etag === undefined && isNotFound(err)) return;
      throw operationFailed(err, { op: 'delete', storeName, key });
    }
  }

  /** Deletes the keys in one store call (the gRPC API's DeleteBulkState). */
  async bulkDelete(storeName: string, items: KeyedRequest[]): Promise<void> {
    const { store, prefix } = this.#resolve(storeName);
    if (items.length === 0) return;
    const reqs = items.map((item) => deleteRequest(prefix, item));
    try {
      await store.bulkDelete(reqs);
    } catch (err) {
      throw operationFailed(err, { op: 'bulk-delete', storeName });
    }
  }

  /** Applies the operations in order, all or none; needs the store's TRANSACTIONAL feature. */
  async transact(storeName: string, operations: TransactionOperation[], metadata: Metadata): Promise<void> {
    const { store, prefix } = this.#resolve(storeName);
    if (!store.features.has('TRANSACTIONAL')) throw transactionsNotSupported(storeName);
    if (operations.length === 0) return;
    checkTtl(metadata);
    const ops = operations.map(({ operation, request }): TransactOperation => {
      switch (operation) {
        case 'upsert':
          return { tag: 'set', val: setRequest(prefix, { ...request, value: request.value ?? NO_BYTES }) };
        case 'delete':
          return { tag: 'delete', val: deleteRequest(prefix, request) };
        default:
          throw unsupportedOperation(operation);
      }
    });
    try {
      await observed(() => this.#call(storeName, () => store.transact(ops, metadata)), this.#report(storeName, 'transaction'));
    } catch (err) {
      throw operationFailed(err, { op: 'transaction', storeName });
    }
  }

  /**
   * Dapr's state query (`query` is the request body as the app sent it): needs a store with
   * `QUERY_API`; only the app's own keys (its key prefix) are searched.
   */
  async query(storeName: string, query: string, metadata: Metadata): Promise<QueryPage> {
    const { store, prefix } = this.#resolve(storeName);
    if (!store.features.has('QUERY_API')) {
      throw new TesseraError('ERR_STATE_STORE_NOT_SUPPORTED', `state store does not support querying: ${storeName} has no QUERY_API`, { daprReason: 'DAPR_STATE_QUERYING_NOT_SUPPORTED' });
    }
    const parsed = parseQuery(storeName, query);
    let page;
    try {
      page = await observed(() => this.#call(storeName, () => store.query({ ...parsed, keyPrefix: prefix.value, metadata })), this.#report(storeName, 'query'));
    } catch (err) {
      if (isTesseraError(err) && err.code !== 'ERR_INTERNAL') throw err;
      const componentError = isTesseraError(err) ? err.componentError : undefined;
      throw queryFailed(storeName, componentError?.val ?? (err instanceof Error ? err.message : String(err)));
    }
    return { results: page.results.map((item) => ({ ...item, key: prefix.strip(item.key) })), token: page.token, metadata: page.metadata };
  }
}
