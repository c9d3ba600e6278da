// Snapshot and restore, in the format of the AssemblyScript state.memory
// (components-wasm/state-memory/assembly/snapshot-format.ts), so every build of state.memory
// restores what any other wrote and a hot swap may change builds. Little-endian; a string is
// a u32 count of UTF-16 code units then the code units, bytes are a u32 length then the
// bytes. Format version 1:
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
// The records are the header (the first three fields) and the items: the host takes the
// snapshot in chunks of whole records (`snapshot-stream`), and the chunks joined are this format.
//
// Every later version of state.memory must keep reading every format version written here.
use crate::memory_store::{Item, MemoryStore};
use crate::ttl::ExpiryQueue;
use std::collections::BTreeMap;
use std::ops::Bound;
use tessera_sdk::{clock, log, SnapshotChunk, SnapshotStream, StateError};

const FORMAT_VERSION: u8 = 1;

fn is_expired(expires_at: u64, now: u64) -> bool {
    expires_at != 0 && now >= expires_at
}

/// Version, ETag counter and item count.
const HEADER_SIZE: usize = 13;
/// Key length, ETag, expiry, content-type flag and value length.
const ITEM_FIXED_SIZE: usize = 25;

fn utf16_size(s: &str) -> usize {
    4 + 2 * s.encode_utf16().count()
}

fn put_string(out: &mut SnapshotChunk, s: &str) {
    out.put_u32(s.encode_utf16().count() as u32);
    for unit in s.encode_utf16() {
        out.put_u16(unit);
    }
}

/// The bytes item `key` takes in a snapshot.
fn item_size(key: &str, item: &Item) -> usize {
    ITEM_FIXED_SIZE - 4
        + utf16_size(key)
        + item.found.value.len()
        + item.found.content_type.as_deref().map_or(0, utf16_size)
}

fn put_item(out: &mut SnapshotChunk, key: &str, item: &Item) {
    put_string(out, key);
    out.put_u64(item.etag_number);
    out.put_u64(item.expires_at);
    match &item.found.content_type {
        Some(content_type) => {
            out.put_u8(1);
            put_string(out, content_type);
        }
        None => out.put_u8(0),
    }
    out.put_u32(item.found.value.len() as u32);
    out.put(&item.found.value);
}

/// Where a snapshot being taken has got to: the header, then the items that had not expired
/// at `now`, in key order, after the last key written.
pub struct Cursor {
    now: u64,
    count: u32,
    header_written: bool,
    last: Option<String>,
    done: bool,
}

/// Reads a snapshot in place. As the AssemblyScript SDK's SnapshotReader: a read past the end
/// yields zeros and sets `truncated_at`, which stays set; check it before trusting a value.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
    truncated_at: Option<usize>,
}

impl<'a> Reader<'a> {
    fn take(&mut self, size: usize) -> &'a [u8] {
        match self.data.get(self.at..).and_then(|rest| rest.get(..size)) {
            Some(bytes) => {
                self.at += size;
                bytes
            }
            None => {
                self.truncated_at.get_or_insert(self.at);
                self.at = self.data.len();
                &[]
            }
        }
    }

    fn u8(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    fn u32(&mut self) -> u32 {
        self.take(4).try_into().map_or(0, u32::from_le_bytes)
    }

    fn u64(&mut self) -> u64 {
        self.take(8).try_into().map_or(0, u64::from_le_bytes)
    }

    fn bytes(&mut self) -> Vec<u8> {
        let len = self.u32() as usize;
        self.take(len).to_vec()
    }

    /// A string, or `None` when its code units are not UTF-16 (a lone surrogate).
    fn string(&mut self) -> Option<String> {
        let units = self.u32() as usize;
        let bytes = self.take(units.saturating_mul(2));
        String::from_utf16(&bytes.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect::<Vec<_>>()).ok()
    }
}

fn refuse(message: String) -> StateError {
    StateError::InvalidArgument(format!("state.memory cannot restore this snapshot: {}", message))
}

/// A snapshot being restored, chunk by chunk: the store it describes, built aside, leaving
/// out what has expired by `now`. Each chunk holds whole records (the first begins with the
/// header), so one ending inside a record is a truncated snapshot.
pub struct Restoring {
    store: MemoryStore,
    now: u64,
    started: bool,
    count: u32,
    read: u32,
    /// Items read that had not expired: as many as distinct keys, unless a key comes twice.
    kept: usize,
    /// Bytes read so far.
    length: usize,
}

impl Restoring {
    fn ended(&self, at: usize) -> StateError {
        refuse(format!("it ends inside its data ({} bytes; a read at byte {} ran past the end)", self.length, at))
    }

    fn chunk(&mut self, data: &[u8], offset: usize) -> Result<(), StateError> {
        self.length = offset + data.len();
        if data.is_empty() {
            return Ok(());
        }
        let mut reader = Reader { data, at: 0, truncated_at: None };
        if !self.started {
            let version = reader.u8();
            if version != FORMAT_VERSION {
                return Err(refuse(format!(
                    "its format version is {}, and this version of state.memory reads format version {} only \
                     (was it taken by a newer state.memory?)",
                    version, FORMAT_VERSION
                )));
            }
            self.store.etag_counter = reader.u64();
            self.count = reader.u32();
            if let Some(at) = reader.truncated_at {
                return Err(self.ended(offset + at));
            }
            self.started = true;
        }
        while reader.at < data.len() {
            let i = self.read;
            if i == self.count {
                return Err(refuse(format!(
                    "{} bytes follow its last item (it holds {} items)",
                    data.len() - reader.at,
                    self.count
                )));
            }
            let key = reader.string();
            let etag = reader.u64();
            let expires_at = reader.u64();
            let has_content_type = reader.u8();
            if has_content_type > 1 {
                return Err(refuse(format!(
                    "item {} (\"{}\") has content-type flag {} at byte {}",
                    i,
                    key.unwrap_or_default(),
                    has_content_type,
                    offset + reader.at - 1
                )));
            }
            let content_type = if has_content_type == 1 { Some(reader.string()) } else { None };
            let value = reader.bytes();
            if let Some(at) = reader.truncated_at {
                return Err(self.ended(offset + at));
            }
            self.read = i + 1;
            self.store.etag_counter = self.store.etag_counter.max(etag);
            if is_expired(expires_at, self.now) {
                continue;
            }
            let (key, content_type) = match (key, content_type) {
                (Some(key), None) => (key, None),
                (Some(key), Some(Some(content_type))) => (key, Some(content_type)),
                _ => return Err(refuse(format!("item {} holds a string that is not UTF-16", i))),
            };
            self.store.put(key, Item::new(value, etag, content_type, expires_at));
            self.kept += 1;
        }
        Ok(())
    }
}

impl SnapshotStream for MemoryStore {
    type Cursor = Cursor;
    type Restoring = Restoring;

    /// Every live item with its ETag, content type and expiry, and the ETag counter.
    fn snapshot_begin(&self) -> Cursor {
        let now = clock::now_ms();
        let count = self.items.values().filter(|item| !is_expired(item.expires_at, now)).count() as u32;
        Cursor { now, count, header_written: false, last: None, done: false }
    }

    fn snapshot_chunk(&self, cursor: &mut Cursor, out: &mut SnapshotChunk) {
        if cursor.done {
            return;
        }
        if !cursor.header_written {
            if !out.fits(HEADER_SIZE) {
                return;
            }
            out.reserve(HEADER_SIZE);
            out.put_u8(FORMAT_VERSION);
            out.put_u64(self.etag_counter);
            out.put_u32(cursor.count);
            cursor.header_written = true;
        }
        // From after the last key written: a position, not a borrow, so it outlives the call.
        let from = match &cursor.last {
            Some(last) => Bound::Excluded(last.as_str()),
            None => Bound::Unbounded,
        };
        let mut last: Option<&String> = None;
        for (key, item) in self.items.range::<str, _>((from, Bound::Unbounded)) {
            if is_expired(item.expires_at, cursor.now) {
                continue;
            }
            let size = item_size(key, item);
            if !out.fits(size) {
                if let Some(last) = last {
                    cursor.last = Some(String::clone(last));
                }
                return;
            }
            out.reserve(size);
            put_item(out, key, item);
            last = Some(key);
        }
        cursor.done = true;
    }

    fn restore_begin(&self) -> Restoring {
        let store = MemoryStore { items: BTreeMap::new(), etag_counter: 0, expiries: ExpiryQueue::default() };
        Restoring { store, now: clock::now_ms(), started: false, count: 0, read: 0, kept: 0, length: 0 }
    }

    fn restore_chunk(&self, restoring: &mut Restoring, chunk: &[u8], offset: usize) -> Result<(), StateError> {
        restoring.chunk(chunk, offset)
    }

    /// Replaces the whole store with the snapshot read, or leaves it untouched when the
    /// snapshot is refused.
    fn restore_end(&mut self, restoring: Restoring) -> Result<(), StateError> {
        if restoring.length == 0 {
            return Err(refuse("it is empty (not even a format version byte)".into()));
        }
        if !restoring.started || restoring.read < restoring.count {
            return Err(restoring.ended(restoring.length));
        }
        if restoring.store.items.len() != restoring.kept {
            return Err(refuse(format!(
                "it holds the same key more than once ({} items, {} distinct keys)",
                restoring.kept,
                restoring.store.items.len()
            )));
        }
        let length = restoring.length;
        let mut restored = restoring.store;
        // Never below what this instance handed out already: an ETag is never reused.
        restored.etag_counter = restored.etag_counter.max(self.etag_counter);
        *self = restored;
        log::debug(&format!("state.memory restored {} keys from a snapshot of {} bytes", self.items.len(), length));
        Ok(())
    }
}
