// The state-store world as AssemblyScript sees it: typed requests and responses mirroring
// `abi/wit/state.wit`, the `StateStore` base class a component extends, and its registration.
import { Metadata, StateError } from "./types";

/** Dapr's concurrency option. With an ETag both modes check it; without one, `FirstWrite` only inserts. */
export enum Concurrency {
  LastWrite = 0,
  FirstWrite = 1,
}

/** Dapr's consistency option; a store may treat both alike. */
export enum Consistency {
  Eventual = 0,
  Strong = 1,
}

/** The optional features a store can advertise from `features()`, as Dapr names them. */
export namespace Feature {
  export const ETAG = "ETAG";
  export const TRANSACTIONAL = "TRANSACTIONAL";
  export const TTL = "TTL";
}

export class GetRequest {
  constructor(public key: string, public consistency: Consistency, public metadata: Metadata) {}
}

export class GetResponse {
  constructor(
    public value: Uint8Array,
    public etag: string | null = null,
    public contentType: string | null = null,
    /** A store with the `TTL` feature puts `ttlExpireTime` (RFC 3339, UTC) here for an expiring item. */
    public metadata: Metadata = new Metadata(),
  ) {}
}

export class SetRequest {
  constructor(
    public key: string,
    public value: Uint8Array,
    public etag: string | null,
    public contentType: string | null,
    public concurrency: Concurrency,
    public consistency: Consistency,
    /** `ttlInSeconds` sets a time to live (`-1`: never expires). */
    public metadata: Metadata,
  ) {}
}

export class DeleteRequest {
  constructor(
    public key: string,
    public etag: string | null,
    public concurrency: Concurrency,
    public consistency: Consistency,
    public metadata: Metadata,
  ) {}
}

/** One key's answer to a bulk get: a response, nothing (missing key), or an error message. */
export class BulkGetItem {
  constructor(public key: string, public response: GetResponse | null, public error: string | null = null) {}
}

export enum OperationKind {
  Set = 0,
  Delete = 1,
}

/** One operation of a transaction: `setRequest` is set when `kind` is `Set`, `deleteRequest` when `Delete`. */
export class TransactOperation {
  constructor(
    public kind: OperationKind,
    public setRequest: SetRequest | null,
    public deleteRequest: DeleteRequest | null,
  ) {}

  static set(request: SetRequest): TransactOperation {
    return new TransactOperation(OperationKind.Set, request, null);
  }

  static delete(request: DeleteRequest): TransactOperation {
    return new TransactOperation(OperationKind.Delete, null, request);
  }
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

/** The registered store; traps with instructions when the entry file forgot to register one. */
export function registeredStateStore(): StateStore {
  const store = registered;
  if (store === null) {
    throw new Error("no StateStore registered: call registerStateStore(new MyStore()) at the top level of the entry file");
  }
  return store;
}
