// Time to live: parsing `ttlInSeconds`, formatting `ttlExpireTime`, and a queue that finds
// expired items without scanning the map.

/** `ttlInSeconds` was absent, empty, `-1` or `0`: the item never expires (as in Dapr's in-memory store). */
export const NO_TTL: i64 = 0;
/** `ttlInSeconds` was not an integer in [-1, 2147483647] (Dapr's accepted range). */
export const INVALID_TTL: i64 = -1;

/** Seconds to live from a `ttlInSeconds` value: positive, NO_TTL or INVALID_TTL. */
export function parseTtlSeconds(text: string | null): i64 {
  if (text === null || text.length == 0) return NO_TTL;
  const negative = text.charCodeAt(0) == 0x2d;
  const start = negative ? 1 : 0;
  if (text.length == start || text.length - start > 10) return INVALID_TTL;
  let n: i64 = 0;
  for (let i = start; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return INVALID_TTL;
    n = n * 10 + digit;
  }
  if (negative) return n <= 1 ? NO_TTL : INVALID_TTL;
  return n > 2147483647 ? INVALID_TTL : n;
}

/** RFC 3339 in UTC with whole seconds, e.g. `2026-11-26T07:30:00Z`. */
export function formatRfc3339(epochMs: u64): string {
  const secs = <i64>(epochMs / 1000);
  const days = secs / 86400;
  const daySecs = <i32>(secs % 86400);
  // Howard Hinnant's civil_from_days, for days since 1970-01-01 (never negative here).
  const z = days + 719468;
  const era = z / 146097;
  const doe = <i32>(z - era * 146097);
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const day = doy - (153 * mp + 2) / 5 + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = <i32>(era * 400) + yoe + (month <= 2 ? 1 : 0);
  return (
    year.toString().padStart(4, "0") + "-" + pad2(month) + "-" + pad2(day) +
    "T" + pad2(daySecs / 3600) + ":" + pad2((daySecs / 60) % 60) + ":" + pad2(daySecs % 60) + "Z"
  );
}

function pad2(n: i32): string {
  return n < 10 ? "0" + n.toString() : n.toString();
}

/** An item that will expire: the key, and the ETag it had, so a later write is not purged. */
class Expiry {
  constructor(public at: u64, public key: string, public etag: string) {}
}

/** A binary min-heap of expiries, earliest first. */
export class ExpiryQueue {
  private heap: Array<Expiry> = new Array<Expiry>();

  get isEmpty(): bool {
    return this.heap.length == 0;
  }

  push(at: u64, key: string, etag: string): void {
    const heap = this.heap;
    heap.push(new Expiry(at, key, etag));
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].at <= heap[i].at) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the earliest expiry if it is due at `now`, else null. */
  popDue(now: u64): Expiry | null {
    const heap = this.heap;
    if (heap.length == 0 || heap[0].at > now) return null;
    const due = heap[0];
    const last = heap.pop();
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < heap.length && heap[left].at < heap[least].at) least = left;
        if (right < heap.length && heap[right].at < heap[least].at) least = right;
        if (least == i) break;
        this.swap(i, least);
        i = least;
      }
    }
    return due;
  }

  private swap(a: i32, b: i32): void {
    const heap = this.heap;
    const t = heap[a];
    heap[a] = heap[b];
    heap[b] = t;
  }
}
