// The exports of the `state-store` world in canonical ABI form. A component's entry file
// re-exports this module (`export * from ".../state-exports"`); the build renames each
// `tessera_state_<f>` to `tessera:components/state@0.1.0#<f>` and each
// `cabi_post_tessera_state_<f>` to `cabi_post_tessera:components/state@0.1.0#<f>`, since
// AssemblyScript cannot spell those names. Offsets below are the layouts in abi/ABI.md.
import "./abort";
import {
  arenaAlloc,
  cabiRealloc,
  checkDiscriminant,
  freeList,
  liftBytes,
  liftMetadata,
  liftOptionString,
  liftString,
  lowerBytes,
  lowerError,
  lowerMetadata,
  lowerOptionString,
  lowerString,
  lowerStringList,
  lowerUnitResult,
  resetArena,
} from "./canonical";
import {
  Concurrency,
  Consistency,
  DeleteRequest,
  GetRequest,
  GetResponse,
  OperationKind,
  registeredStateStore,
  SetRequest,
  TransactOperation,
} from "./state";

/**
 * Every export's results exceed MAX_FLAT_RESULTS (1), so each returns a pointer to this
 * area, which the host reads before calling the matching post-return. 48 bytes is the
 * largest result, `get`'s; calls are never concurrent, so one static area serves all.
 */
const RET_AREA = memory.data(48, 8);

const GET_REQUEST_SIZE: usize = 20;
const SET_REQUEST_SIZE: usize = 52;
const DELETE_REQUEST_SIZE: usize = 32;
const TRANSACT_OPERATION_SIZE: usize = 56;
const BULK_GET_ITEM_SIZE: usize = 64;

export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  return cabiRealloc(oldPtr, oldSize, align, newSize);
}

function liftConcurrency(value: u32): Concurrency {
  checkDiscriminant(value, 2, "concurrency");
  return <Concurrency>value;
}

function liftConsistency(value: u32): Consistency {
  checkDiscriminant(value, 2, "consistency");
  return <Consistency>value;
}

/** Lifts a list whose elements are `size` bytes apart, then frees its array. */
function liftList<T>(ptr: usize, len: usize, size: usize, loadElement: (at: usize) => T): Array<T> {
  const list = new Array<T>(<i32>len);
  for (let i: usize = 0; i < len; i++) list[<i32>i] = loadElement(ptr + i * size);
  freeList(ptr, len);
  return list;
}

/** get-request: size 20; key 0, consistency u8 8, metadata 12. */
function loadGetRequest(p: usize): GetRequest {
  return new GetRequest(
    liftString(load<u32>(p), load<u32>(p, 4)),
    liftConsistency(load<u8>(p, 8)),
    liftMetadata(load<u32>(p, 12), load<u32>(p, 16)),
  );
}

/** set-request: size 52; key 0, value 8, etag 16, content-type 28, concurrency 40, consistency 41, metadata 44. */
function loadSetRequest(p: usize): SetRequest {
  return new SetRequest(
    liftString(load<u32>(p), load<u32>(p, 4)),
    liftBytes(load<u32>(p, 8), load<u32>(p, 12)),
    liftOptionString(load<u8>(p, 16), load<u32>(p, 20), load<u32>(p, 24)),
    liftOptionString(load<u8>(p, 28), load<u32>(p, 32), load<u32>(p, 36)),
    liftConcurrency(load<u8>(p, 40)),
    liftConsistency(load<u8>(p, 41)),
    liftMetadata(load<u32>(p, 44), load<u32>(p, 48)),
  );
}

/** delete-request: size 32; key 0, etag 8, concurrency 20, consistency 21, metadata 24. */
function loadDeleteRequest(p: usize): DeleteRequest {
  return new DeleteRequest(
    liftString(load<u32>(p), load<u32>(p, 4)),
    liftOptionString(load<u8>(p, 8), load<u32>(p, 12), load<u32>(p, 16)),
    liftConcurrency(load<u8>(p, 20)),
    liftConsistency(load<u8>(p, 21)),
    liftMetadata(load<u32>(p, 24), load<u32>(p, 28)),
  );
}

/** transact-operation: size 56; discriminant u8 0 (0 set, 1 delete), request 4. */
function loadTransactOperation(p: usize): TransactOperation {
  const kind = <u32>load<u8>(p);
  checkDiscriminant(kind, 2, "transact-operation");
  return kind == OperationKind.Set ? TransactOperation.set(loadSetRequest(p + 4)) : TransactOperation.delete(loadDeleteRequest(p + 4));
}

/** get-response: size 40; value 0, etag 8, content-type 20, metadata 32. */
function storeGetResponse(at: usize, response: GetResponse): void {
  lowerBytes(at, response.value);
  lowerOptionString(at + 8, response.etag);
  lowerOptionString(at + 20, response.contentType);
  lowerMetadata(at + 32, response.metadata);
}

/** option<get-response>: size 44; discriminant u8 0, get-response 4. */
function storeOptionGetResponse(at: usize, response: GetResponse | null): void {
  if (response !== null) {
    store<u8>(at, 1);
    storeGetResponse(at + 4, response);
  } else {
    store<u8>(at, 0);
  }
}

// init: func(config: metadata) -> result<_, error>
export function tessera_state_init(configPtr: usize, configLen: usize): usize {
  resetArena();
  lowerUnitResult(RET_AREA, registeredStateStore().init(liftMetadata(configPtr, configLen)));
  return RET_AREA;
}

// features: func() -> list<string>
export function tessera_state_features(): usize {
  resetArena();
  lowerStringList(RET_AREA, registeredStateStore().features());
  return RET_AREA;
}

// get: func(req: get-request) -> result<option<get-response>, error>; the request arrives flat.
export function tessera_state_get(keyPtr: usize, keyLen: usize, consistency: u32, metadataPtr: usize, metadataLen: usize): usize {
  resetArena();
  const result = registeredStateStore().get(
    new GetRequest(liftString(keyPtr, keyLen), liftConsistency(consistency), liftMetadata(metadataPtr, metadataLen)),
  );
  const error = result.error;
  if (error !== null) {
    store<u8>(RET_AREA, 1);
    lowerError(RET_AREA + 4, error);
  } else {
    store<u8>(RET_AREA, 0);
    storeOptionGetResponse(RET_AREA + 4, result.response);
  }
  return RET_AREA;
}

// set: func(req: set-request) -> result<_, error>; the request arrives flat (14 values).
export function tessera_state_set(
  keyPtr: usize,
  keyLen: usize,
  valuePtr: usize,
  valueLen: usize,
  etagIsSome: u32,
  etagPtr: usize,
  etagLen: usize,
  contentTypeIsSome: u32,
  contentTypePtr: usize,
  contentTypeLen: usize,
  concurrency: u32,
  consistency: u32,
  metadataPtr: usize,
  metadataLen: usize,
): usize {
  resetArena();
  const req = new SetRequest(
    liftString(keyPtr, keyLen),
    liftBytes(valuePtr, valueLen),
    liftOptionString(etagIsSome, etagPtr, etagLen),
    liftOptionString(contentTypeIsSome, contentTypePtr, contentTypeLen),
    liftConcurrency(concurrency),
    liftConsistency(consistency),
    liftMetadata(metadataPtr, metadataLen),
  );
  lowerUnitResult(RET_AREA, registeredStateStore().set(req));
  return RET_AREA;
}

// delete: func(req: delete-request) -> result<_, error>; the request arrives flat (9 values).
export function tessera_state_delete(
  keyPtr: usize,
  keyLen: usize,
  etagIsSome: u32,
  etagPtr: usize,
  etagLen: usize,
  concurrency: u32,
  consistency: u32,
  metadataPtr: usize,
  metadataLen: usize,
): usize {
  resetArena();
  const req = new DeleteRequest(
    liftString(keyPtr, keyLen),
    liftOptionString(etagIsSome, etagPtr, etagLen),
    liftConcurrency(concurrency),
    liftConsistency(consistency),
    liftMetadata(metadataPtr, metadataLen),
  );
  lowerUnitResult(RET_AREA, registeredStateStore().delete(req));
  return RET_AREA;
}

// bulk-get: func(reqs: list<get-request>) -> result<list<bulk-get-item>, error>
export function tessera_state_bulk_get(ptr: usize, len: usize): usize {
  resetArena();
  const result = registeredStateStore().bulkGet(liftList(ptr, len, GET_REQUEST_SIZE, loadGetRequest));
  const error = result.error;
  if (error !== null) {
    store<u8>(RET_AREA, 1);
    lowerError(RET_AREA + 4, error);
    return RET_AREA;
  }
  // bulk-get-item: size 64; key 0, response option<get-response> 8, error option<string> 52.
  const items = result.items;
  const count = <usize>items.length;
  const list = arenaAlloc(count * BULK_GET_ITEM_SIZE, 4);
  for (let i: usize = 0; i < count; i++) {
    const item = items[<i32>i];
    const at = list + i * BULK_GET_ITEM_SIZE;
    lowerString(at, item.key);
    storeOptionGetResponse(at + 8, item.response);
    lowerOptionString(at + 52, item.error);
  }
  store<u8>(RET_AREA, 0);
  store<u32>(RET_AREA, list, 4);
  store<u32>(RET_AREA, count, 8);
  return RET_AREA;
}

// bulk-set: func(reqs: list<set-request>) -> result<_, error>
export function tessera_state_bulk_set(ptr: usize, len: usize): usize {
  resetArena();
  lowerUnitResult(RET_AREA, registeredStateStore().bulkSet(liftList(ptr, len, SET_REQUEST_SIZE, loadSetRequest)));
  return RET_AREA;
}

// bulk-delete: func(reqs: list<delete-request>) -> result<_, error>
export function tessera_state_bulk_delete(ptr: usize, len: usize): usize {
  resetArena();
  lowerUnitResult(RET_AREA, registeredStateStore().bulkDelete(liftList(ptr, len, DELETE_REQUEST_SIZE, loadDeleteRequest)));
  return RET_AREA;
}

// transact: func(operations: list<transact-operation>, metadata: metadata) -> result<_, error>
export function tessera_state_transact(ptr: usize, len: usize, metadataPtr: usize, metadataLen: usize): usize {
  resetArena();
  const operations = liftList(ptr, len, TRANSACT_OPERATION_SIZE, loadTransactOperation);
  lowerUnitResult(RET_AREA, registeredStateStore().transact(operations, liftMetadata(metadataPtr, metadataLen)));
  return RET_AREA;
}

// ping: func() -> result<_, error>
export function tessera_state_ping(): usize {
  resetArena();
  lowerUnitResult(RET_AREA, registeredStateStore().ping());
  return RET_AREA;
}

/**
 * The post-return of every export: what the return area points to lives in the arena, so
 * releasing the arena frees it all. Exported once under each post-return name.
 */
function postReturn(retArea: usize): void {
  resetArena();
}

export {
  postReturn as cabi_post_tessera_state_init,
  postReturn as cabi_post_tessera_state_features,
  postReturn as cabi_post_tessera_state_get,
  postReturn as cabi_post_tessera_state_set,
  postReturn as cabi_post_tessera_state_delete,
  postReturn as cabi_post_tessera_state_bulk_get,
  postReturn as cabi_post_tessera_state_bulk_set,
  postReturn as cabi_post_tessera_state_bulk_delete,
  postReturn as cabi_post_tessera_state_transact,
  postReturn as cabi_post_tessera_state_ping,
};
