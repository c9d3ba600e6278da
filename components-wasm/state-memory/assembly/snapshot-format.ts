// The bytes of a state.memory snapshot, written and read with the SDK's SnapshotWriter and
// SnapshotReader (little-endian; a string is a u32 count of UTF-16 code units, then the code
// units; bytes are a u32 length, then the bytes). Format version 1:
//
//   u8      format version (1)
//   u64     ETag counter: the last ETag the store handed out
//   u32     number of items, then for each item:
//   string    key
//   u64       ETag (this store's ETags are its counter, in decimal)
//   u64       expiry in ms since the Unix epoch; 0: never expires
//   u8        1 if a content type follows, else 0
//   string    content type, if present
//   bytes     value
//
// Every later version of state.memory must keep reading every format version written here.
import { SnapshotReader, SnapshotWriter, StateError } from "../../../sdk/assemblyscript/assembly/index";
import { Item } from "./item";
import { ExpiryQueue } from "./ttl";

export const FORMAT_VERSION: u8 = 1;
/** Version, ETag counter and item count. */
const HEADER_SIZE: usize = 13;
/** Key length, ETag, expiry, content-type flag and value length. */
const ITEM_FIXED_SIZE: usize = 25;

function isExpired(expiresAt: u64, now: u64): bool {
  return expiresAt != 0 && now >= expiresAt;
}

function etagNumber(etag: string): u64 {
  let n: u64 = 0;
  for (let i = 0; i < etag.length; i++) n = n * 10 + <u64>(etag.charCodeAt(i) - 0x30);
  return n;
}

/** Writes every item of `items` that has not expired at `now`, and the ETag counter. */
export function encodeSnapshot(out: SnapshotWriter, items: Map<string, Item>, etagCounter: u64, now: u64): void {
  const keys = items.keys();
  const values = items.values();
  // Sized first, so the block is allocated once and never moved.
  let size = HEADER_SIZE;
  let count: u32 = 0;
  for (let i = 0; i < values.length; i++) {
    const item = values[i];
    if (isExpired(item.expiresAt, now)) continue;
    const response = item.stored;
    const contentType = response.contentType;
    size += ITEM_FIXED_SIZE + (<usize>keys[i].length << 1) + <usize>response.value.length;
    if (contentType !== null) size += 4 + (<usize>contentType.length << 1);
    count++;
  }
  out.reserve(size);
  out.u8(FORMAT_VERSION);
  out.u64(etagCounter);
  out.u32(count);
  for (let i = 0; i < values.length; i++) {
    const item = values[i];
    if (isExpired(item.expiresAt, now)) continue;
    const response = item.stored;
    out.string(keys[i]);
    out.u64(etagNumber(item.etag));
    out.u64(item.expiresAt);
    const contentType = response.contentType;
    if (contentType !== null) {
      out.u8(1);
      out.string(contentType);
    } else {
      out.u8(0);
    }
    out.bytes(response.value);
  }
}

/** What a snapshot restores to, or why it cannot be. */
export class Restored {
  items: Map<string, Item> = new Map<string, Item>();
  expiries: ExpiryQueue = new ExpiryQueue();
  etagCounter: u64 = 0;
  error: StateError | null = null;

  fail(message: string): Restored {
    this.error = StateError.invalidArgument("state.memory cannot restore this snapshot: " + message);
    return this;
  }
}

/** The store a snapshot describes, leaving out the items that have expired by `now`. */
export function decodeSnapshot(data: SnapshotReader, now: u64): Restored {
  const restored = new Restored();
  if (data.length == 0) return restored.fail("it is empty (not even a format version byte)");
  const version = data.u8();
  if (version != FORMAT_VERSION) {
    return restored.fail(
      `its format version is ${version}, and this version of state.memory reads format version ${FORMAT_VERSION} only ` +
        "(was it taken by a newer state.memory?)",
    );
  }
  let etagCounter = data.u64();
  const count = data.u32();
  const items = restored.items;
  const expiries = restored.expiries;
  let kept: i32 = 0;
  let contentType: string | null = null;
  for (let i: u32 = 0; i < count && !data.truncated; i++) {
    const key = data.string();
    const etag = data.u64();
    const expiresAt = data.u64();
    const hasContentType = data.u8();
    if (hasContentType > 1) return restored.fail(`item ${i} ("${key}") has content-type flag ${hasContentType} at byte ${data.position - 1}`);
    // Items mostly share a few content types: one string for each run of equal ones.
    if (hasContentType == 1) contentType = data.string(contentType);
    const value = data.bytes();
    if (etag > etagCounter) etagCounter = etag;
    if (isExpired(expiresAt, now) || data.truncated) continue;
    const item = Item.create(value, etag, hasContentType == 1 ? contentType : null, expiresAt);
    items.set(key, item);
    if (expiresAt != 0) expiries.push(expiresAt, key, item.etag);
    kept++;
  }
  if (data.truncated) {
    return restored.fail(`it ends inside its data (${data.length} bytes; a read at byte ${data.truncatedAtOffset} ran past the end)`);
  }
  if (data.remaining != 0) return restored.fail(`${data.remaining} bytes follow its last item (it holds ${count} items)`);
  if (items.size != kept) return restored.fail(`it holds the same key more than once (${kept} items, ${items.size} distinct keys)`);
  restored.etagCounter = etagCounter;
  return restored;
}
