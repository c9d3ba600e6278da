// The tests' one in-memory `StateStore` double, for the building blocks and the API without
// the sandbox: ETags, first-write, TTL and all-or-none transactions as abi/wit/state.wit
// describes them.
import type {
  BulkGetItem,
  DeleteRequest,
  GetRequest,
  GetResponse,
  SetRequest,
  StateFeature,
  StateStore,
  TransactOperation,
} from '../../abi/ts/state.ts';
import type { ComponentErrorKind, Metadata } from '../../abi/ts/types.ts';
import { TesseraError } from '../../host/errors.ts';

interface Entry {
  value: Uint8Array;
  etag: string;
  contentType?: string;
  expiresAt?: number;
}

export interface MemoryStateStoreOptions {
  features?: StateFeature[];
  /** The clock TTLs are measured against, in milliseconds. */
  now?: () => number;
}

function componentError(tag: ComponentErrorKind, val: string): TesseraError {
  return new TesseraError('ERR_INTERNAL', `component "memory" returned ${tag}: ${val}`, { componentError: { tag, val } });
}

function ttlSeconds(metadata: Metadata): number | undefined {
  const entry = metadata.find(([name]) => name === 'ttlInSeconds');
  return entry === undefined ? undefined : Number(entry[1]);
}

export class MemoryStateStore implements StateStore {
  readonly features: ReadonlySet<StateFeature>;
  /** Every request received, in order, for tests that check what the host passed on. */
  readonly requests: Array<{ method: string; request: unknown }> = [];
  /** When set, the next call fails with this error (a trap, say). */
  failNext: Error | undefined;
  /** When true, `ping` fails. */
  unhealthy = false;
  #entries = new Map<string, Entry>();
  readonly #now: () => number;
  #version = 0;

  constructor(options: MemoryStateStoreOptions = {}) {
    this.features = new Set(options.features ?? ['ETAG', 'TRANSACTIONAL', 'TTL']);
    this.#now = options.now ?? Date.now;
  }

  /** The stored keys, as the store sees them (prefixed). */
  keys(): string[] {
    return [...this.#entries.keys()].filter((key) => this.#live(this.#entries, key) !== undefined);
  }

  #record(method: string, request: unknown): void {
    this.requests.push({ method, request });
    const failure = this.failNext;
    if (failure !== undefined) {
      this.failNext = undefined;
      throw failure;
    }
  }

  #live(entries: Map<string, Entry>, key: string): Entry | undefined {
    const entry = entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.#now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #checkEtag(entries: Map<string, Entry>, key: string, etag: string | undefined, firstWrite: boolean): void {
    const current = this.#live(entries, key);
    if (etag !== undefined) {
      if (!/^\d+$/.test(etag)) throw componentError('etag-invalid', `"${etag}" is not an etag of this store`);
      if (current?.etag !== etag) {
        throw componentError('etag-mismatch', `key ${key} has etag ${current?.etag ?? '(none: no such key)'}, not ${etag}`);
      }
    } else if (firstWrite && current !== undefined) {
      throw componentError('etag-mismatch', `key ${key} already exists and first-write was asked without an etag`);
    }
  }

  #set(entries: Map<string, Entry>, req: SetRequest): void {
    this.#checkEtag(entries, req.key, req.etag, req.concurrency === 'first-write');
    const ttl = ttlSeconds(req.metadata);
    entries.set(req.key, {
      value: req.value.slice(),
      etag: String(++this.#version),
      contentType: req.contentType,
      expiresAt: ttl !== undefined && ttl > 0 ? this.#now() + ttl * 1000 : undefined,
    });
  }

  #delete(entries: Map<string, Entry>, req: DeleteRequest): void {
    this.#checkEtag(entries, req.key, req.etag, false);
    entries.delete(req.key);
  }

  #read(key: string): GetResponse | undefined {
    const entry = this.#live(this.#entries, key);
    if (entry === undefined) return undefined;
    const metadata: Metadata = [];
    if (entry.expiresAt !== undefined) {
      metadata.push(['ttlExpireTime', new Date(entry.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z')]);
    }
    return { value: entry.value.slice(), etag: entry.etag, contentType: entry.contentType, metadata };
  }

  async get(req: GetRequest): Promise<GetResponse | undefined> {
    this.#record('get', req);
    return this.#read(req.key);
  }

  async set(req: SetRequest): Promise<void> {
    this.#record('set', req);
    this.#set(this.#entries, req);
  }

  async delete(req: DeleteRequest): Promise<void> {
    this.#record('delete', req);
    this.#delete(this.#entries, req);
  }

  async bulkGet(reqs: GetRequest[]): Promise<BulkGetItem[]> {
    this.#record('bulkGet', reqs);
    return reqs.map((req) => ({ key: req.key, response: this.#read(req.key) }));
  }

  async bulkSet(reqs: SetRequest[]): Promise<void> {
    this.#record('bulkSet', reqs);
    for (const req of reqs) this.#set(this.#entries, req);
  }

  async bulkDelete(reqs: DeleteRequest[]): Promise<void> {
    this.#record('bulkDelete', reqs);
    for (const req of reqs) this.#delete(this.#entries, req);
  }

  async transact(operations: TransactOperation[], metadata: Metadata): Promise<void> {
    this.#record('transact', { operations, metadata });
    const draft = new Map(this.#entries);
    for (const op of operations) {
      if (op.tag === 'set') this.#set(draft, op.val);
      else this.#delete(draft, op.val);
    }
    this.#entries = draft;
  }

  /** This double has no query: a store without the `query` export answers so. */
  async query(): Promise<never> {
    throw new TesseraError('ERR_STATE_STORE_NOT_SUPPORTED', 'state store does not support querying');
  }

  async ping(): Promise<void> {
    this.#record('ping', undefined);
    if (this.unhealthy) throw componentError('unavailable', 'the memory store was told to be unhealthy');
  }
}
