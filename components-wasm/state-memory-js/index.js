// state.memory in JavaScript, built into a Component Model component of world `state-store`
// (narrowed to the `log` and `clock` it imports) by componentize-js: see
// host/toolchain/javascript.ts and `node components-wasm/state-memory-js/build.ts`. Behaviour
// and messages match the Rust state.memory (components-wasm/state-memory-rust/src/
// memory_store.rs): store-wide counter ETags, first-write and last-write concurrency,
// all-or-none transactions, TTLs read from the host clock. No WASI: the engine is built with
// every WASI feature disabled, so the host's `clock` and `log` are all it reaches.
import { nowMs } from 'tessera:components/clock@0.1.3';
import { log } from 'tessera:components/log@0.1.3';

/** A WIT `error` case: componentize-js turns a thrown `{ tag, val }` into `result::err`. */
const fail = (tag, val) => ({ tag, val });

/** key -> { found: get-response, etag: bigint, expiresAt: bigint (0n: never) } */
const items = new Map();
/** The last ETag handed out: ETags are this counter, in decimal. */
let etagCounter = 0n;
/** [expiresAt, key, etag], earliest first once sorted; purged lazily. */
let expiries = [];

const first = (metadata, key) => metadata.find(([k]) => k === key)?.[1];
const isDecimal = (s) => /^[0-9]+$/.test(s);
const now = () => nowMs();

/** RFC 3339 in UTC with whole seconds, e.g. `2026-11-26T07:30:00Z`. */
function formatRfc3339(epochMs) {
  return new Date(Number(epochMs / 1000n) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Seconds to live from `ttlInSeconds`: undefined when absent, empty, -1, -0 or 0; null when invalid. */
function parseTtlSeconds(text) {
  if (text === undefined || text === '') return undefined;
  const negative = text[0] === '-';
  const digits = negative ? text.slice(1) : text;
  if (digits.length === 0 || digits.length > 10 || !isDecimal(digits)) return null;
  const n = Number(digits);
  if ((negative && n <= 1) || (!negative && n === 0)) return undefined;
  if (!negative && n <= 2147483647) return BigInt(n);
  return null;
}

function ttlOf(req) {
  const text = first(req.metadata, 'ttlInSeconds');
  const ttl = parseTtlSeconds(text);
  if (ttl === null) {
    throw fail('invalid-argument', `ttlInSeconds "${text ?? ''}" for key "${req.key}" is not an integer from -1 to 2147483647`);
  }
  return ttl;
}

/** Whether a write (or, with insertOnly false, a delete) may go ahead given the current ETag. */
function checkWrite(key, current, etag, concurrency, insertOnly) {
  if (etag !== undefined && etag !== '') {
    if (!isDecimal(etag)) {
      throw fail('etag-invalid', `ETag "${etag}" for key "${key}" is not valid: this store's ETags are decimal numbers`);
    }
    if (current === undefined) throw fail('etag-mismatch', `key "${key}" does not exist, so ETag "${etag}" cannot match`);
    if (current !== etag) {
      throw fail('etag-mismatch', `ETag "${etag}" does not match key "${key}" (now at ETag "${current}"): read it again and retry`);
    }
    return;
  }
  if (current !== undefined && insertOnly && concurrency === 'first-write') {
    throw fail('etag-mismatch', `key "${key}" already exists: a first-write without an ETag only inserts a missing key`);
  }
}

function newItem(value, etag, contentType, ttlSeconds) {
  const expiresAt = ttlSeconds === undefined ? 0n : now() + ttlSeconds * 1000n;
  const metadata = expiresAt === 0n ? [] : [['ttlExpireTime', formatRfc3339(expiresAt)]];
  return { found: { value, etag: String(etag), contentType, metadata }, etag, expiresAt };
}

/** The item under `key` unless missing or expired; an expired item is dropped on the way. */
function live(key) {
  const item = items.get(key);
  if (item === undefined) return undefined;
  if (item.expiresAt !== 0n && now() >= item.expiresAt) {
    items.delete(key);
    return undefined;
  }
  return item;
}

function put(key, item) {
  if (item.expiresAt !== 0n) expiries.push([item.expiresAt, key, item.found.etag]);
  items.set(key, item);
}

/** Drops items whose time has come, so keys nobody reads again do not pile up. */
function purgeExpired() {
  if (expiries.length === 0) return;
  const t = now();
  const due = expiries.filter(([at]) => at <= t);
  if (due.length === 0) return;
  expiries = expiries.filter(([at]) => at > t);
  for (const [, key, etag] of due) if (items.get(key)?.found.etag === etag) items.delete(key);
}

const copy = (found) => ({ ...found, metadata: found.metadata.map(([k, v]) => [k, v]) });

function get(req) {
  const item = live(req.key);
  return item === undefined ? undefined : copy(item.found);
}

function set(req) {
  purgeExpired();
  const ttl = ttlOf(req);
  checkWrite(req.key, live(req.key)?.found.etag, req.etag, req.concurrency, true);
  etagCounter += 1n;
  put(req.key, newItem(req.value, etagCounter, req.contentType, ttl));
}

function del(req) {
  purgeExpired();
  const current = live(req.key)?.found.etag;
  checkWrite(req.key, current, req.etag, req.concurrency, false);
  if (current !== undefined) items.delete(req.key);
}

const messageOf = (err) => (err !== null && typeof err === 'object' && typeof err.val === 'string' ? err.val : String(err));

export const state = {
  init(config) {
    // Keys only: configuration values may hold secrets.
    log('debug', `state.memory initialised; config keys: [${config.map(([k]) => k).join(', ')}]`);
  },
  features() {
    return ['ETAG', 'TRANSACTIONAL', 'TTL'];
  },
  get,
  set,
  delete: del,
  bulkGet(reqs) {
    return reqs.map((req) => {
      try {
        return { key: req.key, response: get(req), error: undefined };
      } catch (err) {
        return { key: req.key, response: undefined, error: messageOf(err) };
      }
    });
  },
  bulkSet(reqs) {
    for (const req of reqs) set(req);
  },
  bulkDelete(reqs) {
    for (const req of reqs) del(req);
  },
  /** Checks every operation against the store as the earlier ones leave it, then applies all or none. */
  transact(operations, _metadata) {
    purgeExpired();
    const staged = new Map();
    const current = (key) => (staged.has(key) ? staged.get(key) : live(key))?.found.etag;
    let counter = etagCounter;
    for (const op of operations) {
      const req = op.val;
      if (op.tag === 'set') {
        const ttl = ttlOf(req);
        checkWrite(req.key, current(req.key), req.etag, req.concurrency, true);
        counter += 1n;
        staged.set(req.key, newItem(req.value, counter, req.contentType, ttl));
      } else {
        checkWrite(req.key, current(req.key), req.etag, req.concurrency, false);
        staged.set(req.key, undefined);
      }
    }
    etagCounter = counter;
    for (const [key, item] of staged) {
      if (item === undefined) items.delete(key);
      else put(key, item);
    }
  },
  ping() {},
};
