// The state-store world as AssemblyScript sees it: the typed requests and responses of
// `abi/wit/state.wit` (generated: ./generated/state.ts), what each method answers, the
// `StateStore` base class a component extends, and its registration.
import { BulkGetItem, DeleteRequest, GetRequest, GetResponse, SetRequest, TransactOperation } from "./generated/state";
import { Metadata, StateError } from "./types";

export {
  BulkGetItem,
  Concurrency,
  Consistency,
  DeleteRequest,
  GetRequest,
  GetResponse,
  SetRequest,
  TransactOperation,
  TransactOperationKind as OperationKind,
} from "./generated/state";

/** The optional features a store can advertise from `features()`, as Dapr names them. */
export namespace Feature {
  export const ETAG = "ETAG";
  export const TRANSACTIONAL = "TRANSACTIONAL";
  export const TTL = "TTL";
}


/** What `get` answers: a response, nothing (the key does not exist), or an error. */
export class GetResult {
  constructor(public response: GetResponse | null, public error: StateError | null) {}

  static found(response: GetResponse): GetResult {
    return new GetResult(response, null);
  }

  static notFound(): GetResult {
    return NOT_FOUND;
  }

  static failed(error: StateError): GetResult {
    return new GetResult(null, error);
  }
}

const NOT_FOUND = new GetResult(null, null);

/** What `bulkGet` answers: one item per key, or an error for the whole call. */
export class BulkGetResult {
  constructor(public items: BulkGetItem[], public error: StateError | null) {}

  static ok(items: BulkGetItem[]): BulkGetResult {
    return new BulkGetResult(items, null);
  }

  static failed(error: StateError): BulkGetResult {
    return new BulkGetResult([], error);
  }
}

/**
 * A state store. Extend it, implement `get`, `set` and `delete`, override what else the store
 * supports, and pass an instance to `registerStateStore`. The host calls one method at a time
 * and never re-enters: no locking is needed. Success is `null`; failure is a `StateError`.
 */
export abstract class StateStore {
  /** Called once, before any other method, with the Component YAML's `spec.metadata`. */
  init(config: Metadata): StateError | null {
    return null;
  }

  /** The optional features the store implements (`Feature.ETAG`, `Feature.TRANSACTIONAL`, `Feature.TTL`). */
  features(): string[] {
    return [];
  }

  abstract get(req: GetRequest): GetResult;

  abstract set(req: SetRequest): StateError | null;

  abstract delete(req: DeleteRequest): StateError | null;

  /** Answers each key with `get`; a key whose get fails carries the error message, the others still answer. */
  bulkGet(reqs: GetRequest[]): BulkGetResult {
    const items = new Array<BulkGetItem>(reqs.length);
    for (let i = 0; i < reqs.length; i++) {
      const req = reqs[i];
      const result = this.get(req);
      const error = result.error;
      items[i] = new BulkGetItem(req.key, result.response, error === null ? null : error.message);
    }
    return BulkGetResult.ok(items);
  }

  /** Calls `set` for each request in order and stops at the first error (not atomic). */
  bulkSet(reqs: SetRequest[]): StateError | null {
    for (let i = 0; i < reqs.length; i++) {
      const error = this.set(reqs[i]);
      if (error !== null) return error;
    }
    return null;
  }

  /** Calls `delete` for each request in order and stops at the first error (not atomic). */
  bulkDelete(reqs: DeleteRequest[]): StateError | null {
    for (let i = 0; i < reqs.length; i++) {
      const error = this.delete(reqs[i]);
      if (error !== null) return error;
    }
    return null;
  }

  /** Applies every operation in order, all or none. A store that advertises `TRANSACTIONAL` overrides it. */
  transact(operations: TransactOperation[], metadata: Metadata): StateError | null {
    return StateError.internal("this state store does not support transactions (it does not advertise TRANSACTIONAL)");
  }

  /** Checks the store can serve; answer `StateError.unavailable(...)` when its backend is unreachable. */
  ping(): StateError | null {
    return null;
  }
}

let registered: StateStore | null = null;

/** Makes `store` the implementation behind the component's exports. Call it once, at top level. */
export function registerStateStore(store: StateStore): void {
  registered = store;
}

/** The registered store, which the generated exports call; traps with instructions when the entry file forgot to register one. */
export function stateImplementation(): StateStore {
  const store = registered;
  if (store === null) {
    throw new Error("no StateStore registered: call registerStateStore(new MyStore()) at the top level of the entry file");
  }
  return store;
}
