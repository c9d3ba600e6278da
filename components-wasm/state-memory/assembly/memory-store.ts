// The state.memory store: a map from key to item, with store-wide counter ETags, first-write
// and last-write concurrency, all-or-none transactions and TTLs read from the host clock.
import {
  clock,
  Concurrency,
  DeleteRequest,
  Feature,
  GetRequest,
  GetResult,
  log,
  Metadata,
  OperationKind,
  Queryable,
  QueryCandidate,
  QueryRequest,
  QueryResult,
  runQuery,
  SetRequest,
  SnapshotReader,
  SnapshotWriter,
  StateError,
  StreamingStateStore,
  TransactOperation,
} from "../../../sdk/assemblyscript/assembly/index";
import { Item } from "./item";
import { SnapshotCursor, SnapshotDecoder } from "./snapshot-format";
import { ExpiryQueue, INVALID_TTL, parseTtlSeconds } from "./ttl";

function isDecimal(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * Whether a write (or, with `insertOnly` false, a delete) may go ahead given the current
 * item. An ETag is checked in both concurrency modes; an empty one counts as none, as in Dapr.
 */
function checkWrite(key: string, current: Item | null, etag: string | null, concurrency: Concurrency, insertOnly: bool): StateError | null {
  if (etag !== null && etag.length > 0) {
    if (!isDecimal(etag)) {
      return StateError.etagInvalid(`ETag "${etag}" for key "${key}" is not valid: this store's ETags are decimal numbers`);
    }
    if (current === null) {
      return StateError.etagMismatch(`key "${key}" does not exist, so ETag "${etag}" cannot match`);
    }
    if (current.etag != etag) {
      return StateError.etagMismatch(`ETag "${etag}" does not match key "${key}" (now at ETag "${current.etag}"): read it again and retry`);
    }
    return null;
  }
  if (insertOnly && current !== null && concurrency == Concurrency.FirstWrite) {
    return StateError.etagMismatch(`key "${key}" already exists: a first-write without an ETag only inserts a missing key`);
  }
  return null;
}

function ttlError(key: string, value: string | null): StateError {
  return StateError.invalidArgument(`ttlInSeconds "${value!}" for key "${key}" is not an integer from -1 to 2147483647`);
}

export class MemoryStore extends StreamingStateStore implements Queryable {
  private items: Map<string, Item> = new Map<string, Item>();
  /** The last ETag handed out: ETags are this counter, in decimal. */
  private etagCounter: u64 = 0;
  private expiries: ExpiryQueue = new ExpiryQueue();
  /** The snapshot being taken, between `snapshotBegin` and its last chunk. */
  private snapshotting: SnapshotCursor | null = null;
  /** The snapshot being restored, between its first chunk and `restoreEnd`. */
  private restoring: SnapshotDecoder | null = null;

  init(config: Metadata): StateError | null {
    // Keys only: configuration values may hold secrets.
    const keys = new Array<string>(config.length);
    for (let i = 0; i < config.length; i++) keys[i] = config.keyAt(i);
    log.debug(`state.memory initialised; config keys: [${keys.join(", ")}]`);
    return null;
  }

  features(): string[] {
    return [Feature.ETAG, Feature.TRANSACTIONAL, Feature.TTL];
  }

  /** Dapr's query API over the live items under the request's key prefix (see the SDK's json-query.ts). */
  query(req: QueryRequest): QueryResult {
    this.purgeExpired();
    const now = clock.nowMs();
    const prefix = req.keyPrefix;
    const candidates = new Array<QueryCandidate>();
    const keys = this.items.keys();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (!key.startsWith(prefix)) continue;
      const item = this.items.get(key);
      if (item.expiresAt != 0 && now >= item.expiresAt) continue;
      candidates.push(new QueryCandidate(key, item.stored.value, item.etag));
    }
    return runQuery(req, candidates);
  }

  get(req: GetRequest): GetResult {
    const item = this.live(req.key);
    return item !== null ? item : GetResult.notFound();
  }

  set(req: SetRequest): StateError | null {
    this.purgeExpired();
    const ttl = parseTtlSeconds(req.metadata.get("ttlInSeconds"));
    if (ttl == INVALID_TTL) return ttlError(req.key, req.metadata.get("ttlInSeconds"));
    const error = checkWrite(req.key, this.live(req.key), req.etag, req.concurrency, true);
    if (error !== null) return error;
    this.put(req.key, this.newItem(req, ++this.etagCounter, ttl));
    return null;
  }

  delete(req: DeleteRequest): StateError | null {
    this.purgeExpired();
    const current = this.live(req.key);
    const error = checkWrite(req.key, current, req.etag, req.concurrency, false);
    if (error !== null) return error;
    if (current !== null) this.items.delete(req.key);
    return null;
  }

  /** A snapshot of every live item with its ETag, content type and expiry, and the ETag counter (see snapshot-format.ts). */
  snapshotBegin(): void {
    this.snapshotting = new SnapshotCursor(this.items, this.etagCounter, clock.nowMs());
  }

  snapshotChunk(out: SnapshotWriter): void {
    const cursor = this.snapshotting;
    if (cursor === null) return;
    cursor.write(out);
    // The empty chunk ends the snapshot: let go of the cursor and its keys.
    if (out.length == 0) this.snapshotting = null;
  }

  /** Reads a chunk into a store built aside; the store itself changes only in `restoreEnd`. */
  restoreChunk(data: SnapshotReader): StateError | null {
    if (data.offset == 0) this.restoring = new SnapshotDecoder(clock.nowMs());
    const decoder = this.restoring;
    if (decoder === null) {
      return StateError.invalidArgument(`state.memory cannot restore this snapshot: a chunk at byte ${data.offset} arrived with no restore under way`);
    }
    const error = decoder.chunk(data);
    if (error !== null) this.restoring = null;
    return error;
  }

  /** Replaces the whole store with the snapshot read, or leaves it untouched when the snapshot is refused. */
  restoreEnd(): StateError | null {
    const restored = this.restoring;
    this.restoring = null;
    if (restored === null) return new SnapshotDecoder(0).end();
    const error = restored.end();
    if (error !== null) return error;
    this.items = restored.items;
    this.expiries = restored.expiries;
    // Never below what this instance handed out already: an ETag is never reused.
    if (restored.etagCounter > this.etagCounter) this.etagCounter = restored.etagCounter;
    log.debug(`state.memory restored ${restored.items.size} keys from a snapshot of ${restored.length} bytes`);
    return null;
  }

  /** Checks every operation against the store as the earlier ones leave it, then applies all or none. */
  transact(operations: TransactOperation[], metadata: Metadata): StateError | null {
    this.purgeExpired();
    const staged = new Map<string, Item | null>();
    const order = new Array<string>();
    let counter = this.etagCounter;
    for (let i = 0; i < operations.length; i++) {
      const op = operations[i];
      if (op.kind == OperationKind.Set) {
        const req = op.setRequest!;
        const ttl = parseTtlSeconds(req.metadata.get("ttlInSeconds"));
        if (ttl == INVALID_TTL) return ttlError(req.key, req.metadata.get("ttlInSeconds"));
        const error = checkWrite(req.key, this.staged(staged, req.key), req.etag, req.concurrency, true);
        if (error !== null) return error;
        if (!staged.has(req.key)) order.push(req.key);
        staged.set(req.key, this.newItem(req, ++counter, ttl));
      } else {
        const req = op.deleteRequest!;
        const error = checkWrite(req.key, this.staged(staged, req.key), req.etag, req.concurrency, false);
        if (error !== null) return error;
        if (!staged.has(req.key)) order.push(req.key);
        staged.set(req.key, null);
      }
    }
    this.etagCounter = counter;
    for (let i = 0; i < order.length; i++) {
      const key = order[i];
      const item = staged.get(key);
      if (item !== null) this.put(key, item);
      else this.items.delete(key);
    }
    return null;
  }

  /** The item under `key` as a transaction sees it: its own earlier writes first. */
  private staged(staged: Map<string, Item | null>, key: string): Item | null {
    return staged.has(key) ? staged.get(key) : this.live(key);
  }

  /** The item under `key` unless missing or expired; an expired item is dropped on the way. */
  private live(key: string): Item | null {
    const items = this.items;
    if (!items.has(key)) return null;
    const item = items.get(key);
    if (item.expiresAt != 0 && clock.nowMs() >= item.expiresAt) {
      items.delete(key);
      return null;
    }
    return item;
  }

  private newItem(req: SetRequest, etagNumber: u64, ttlSeconds: i64): Item {
    const expiresAt: u64 = ttlSeconds > 0 ? clock.nowMs() + <u64>ttlSeconds * 1000 : 0;
    return Item.create(req.value, etagNumber, req.contentType, expiresAt);
  }

  private put(key: string, item: Item): void {
    this.items.set(key, item);
    if (item.expiresAt != 0) this.expiries.push(item.expiresAt, key, item.etag);
  }

  /** Drops items whose time has come, so keys nobody reads again do not pile up. */
  private purgeExpired(): void {
    const expiries = this.expiries;
    if (expiries.isEmpty) return;
    const now = clock.nowMs();
    const items = this.items;
    for (let due = expiries.popDue(now); due !== null; due = expiries.popDue(now)) {
      if (items.has(due.key) && items.get(due.key).etag == due.etag) items.delete(due.key);
    }
  }
}
