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
// The records are the header (the first three fields) and the items: a streamed snapshot
// (`snapshot-stream`) comes in chunks of whole records, and the chunks joined are this format.
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

/** The bytes item `key` takes in a snapshot. */
function itemSize(key: string, item: Item): usize {
  const contentType = item.stored.contentType;
  let size = ITEM_FIXED_SIZE + (<usize>key.length << 1) + <usize>item.stored.value.length;
  if (contentType !== null) size += 4 + (<usize>contentType.length << 1);
  return size;
}

function writeItem(out: SnapshotWriter, key: string, item: Item): void {
  const response = item.stored;
  out.string(key);
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

/**
 * Where a snapshot being taken has got to: the header, then each item that has not expired
 * at `now`, in the map's order. The records are the header and the items; each chunk holds
 * whole ones. It holds the keys, not the items: the map is not copied.
 */
export class SnapshotCursor {
  private keys: string[];
  /** Index of the next key to write; -1 while the header is next. */
  private next: i32 = -1;
  private count: u32 = 0;

  constructor(private items: Map<string, Item>, private etagCounter: u64, private now: u64) {
    const keys = items.keys();
    this.keys = keys;
    for (let i = 0; i < keys.length; i++) if (!isExpired(items.get(keys[i]).expiresAt, now)) this.count++;
  }

  /** Every record was written. */
  get done(): bool {
    return this.next >= this.keys.length;
  }

  /** Writes the next whole records that fit into `out`; nothing once done. */
  write(out: SnapshotWriter): void {
    if (this.next < 0) {
      if (!out.fits(HEADER_SIZE)) return;
      out.reserve(HEADER_SIZE);
      out.u8(FORMAT_VERSION);
      out.u64(this.etagCounter);
      out.u32(this.count);
      this.next = 0;
    }
    const keys = this.keys;
    const items = this.items;
    for (let i = this.next; i < keys.length; i++) {
      const key = keys[i];
      // The host makes no other call during a snapshot; were a key deleted meanwhile, skip it.
      if (!items.has(key)) continue;
      const item = items.get(key);
      if (isExpired(item.expiresAt, this.now)) continue;
      const size = itemSize(key, item);
      if (!out.fits(size)) {
        this.next = i;
        return;
      }
      // Sized first, so the chunk's block grows at most once per record.
      out.reserve(size);
      writeItem(out, key, item);
    }
    this.next = keys.length;
  }
}

/**
 * A snapshot being restored, chunk by chunk: the store it describes, built aside, leaving out
 * the items that have expired by `now`. Each chunk holds whole records (the first begins with
 * the header), so one ending inside a record is a truncated snapshot.
 */
export class SnapshotDecoder {
  items: Map<string, Item> = new Map<string, Item>();
  expiries: ExpiryQueue = new ExpiryQueue();
  etagCounter: u64 = 0;
  /** Bytes read so far. */
  length: usize = 0;
  private started: bool = false;
  private count: u32 = 0;
  private read: u32 = 0;
  /** Items read that had not expired: as many as distinct keys, unless a key comes twice. */
  private kept: i32 = 0;
  /** Items mostly share a few content types: one string for each run of equal ones. */
  private contentType: string | null = null;

  constructor(private now: u64) {}

  /** Reads one chunk's records; an error means the snapshot is refused. */
  chunk(data: SnapshotReader): StateError | null {
    const base = data.offset;
    this.length = base + data.length;
    if (data.length == 0) return null;
    if (!this.started) {
      const version = data.u8();
      if (version != FORMAT_VERSION) {
        return refusal(
          `its format version is ${version}, and this version of state.memory reads format version ${FORMAT_VERSION} only ` +
            "(was it taken by a newer state.memory?)",
        );
      }
      this.etagCounter = data.u64();
      this.count = data.u32();
      if (data.truncated) return this.ended(data);
      this.started = true;
    }
    const items = this.items;
    while (data.remaining != 0) {
      const i = this.read;
      if (i == this.count) return refusal(`${data.remaining} bytes follow its last item (it holds ${this.count} items)`);
      const key = data.string();
      const etag = data.u64();
      const expiresAt = data.u64();
      const hasContentType = data.u8();
      if (hasContentType > 1) return refusal(`item ${i} ("${key}") has content-type flag ${hasContentType} at byte ${base + data.position - 1}`);
      if (hasContentType == 1) this.contentType = data.string(this.contentType);
      const value = data.bytes();
      if (data.truncated) return this.ended(data);
      this.read = i + 1;
      if (etag > this.etagCounter) this.etagCounter = etag;
      if (isExpired(expiresAt, this.now)) continue;
      const item = Item.create(value, etag, hasContentType == 1 ? this.contentType : null, expiresAt);
      items.set(key, item);
      if (expiresAt != 0) this.expiries.push(expiresAt, key, item.etag);
      this.kept++;
    }
    return null;
  }

  /** After the last chunk: whether the snapshot was complete. */
  end(): StateError | null {
    if (this.length == 0) return refusal("it is empty (not even a format version byte)");
    if (!this.started || this.read < this.count) {
      return refusal(`it ends inside its data (${this.length} bytes; a read at byte ${this.length} ran past the end)`);
    }
    if (this.items.size != this.kept) return refusal(`it holds the same key more than once (${this.kept} items, ${this.items.size} distinct keys)`);
    return null;
  }

  private ended(data: SnapshotReader): StateError {
    return refusal(
      `it ends inside its data (${this.length} bytes; a read at byte ${data.offset + <usize>data.truncatedAtOffset} ran past the end)`,
    );
  }
}

function refusal(message: string): StateError {
  return StateError.invalidArgument("state.memory cannot restore this snapshot: " + message);
}
