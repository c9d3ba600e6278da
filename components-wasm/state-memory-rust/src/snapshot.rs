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
// Every later version of state.memory must keep reading every format version written here.
use crate::memory_store::{Item, MemoryStore};
use crate::ttl::ExpiryQueue;
use std::collections::BTreeMap;
use tessera_sdk::{clock, log, Snapshot, StateError};

const FORMAT_VERSION: u8 = 1;

fn is_expired(expires_at: u64, now: u64) -> bool {
    expires_at != 0 && now >= expires_at
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.encode_utf16().count());
    for unit in s.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
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

/// The items, expiries and ETag counter a snapshot holds, leaving out what expired by `now`.
fn decode(data: &[u8], now: u64) -> Result<MemoryStore, StateError> {
    if data.is_empty() {
        return Err(refuse("it is empty (not even a format version byte)".into()));
    }
    let mut reader = Reader { data, at: 0, truncated_at: None };
    let version = reader.u8();
    if version != FORMAT_VERSION {
        return Err(refuse(format!(
            "its format version is {}, and this version of state.memory reads format version {} only \
             (was it taken by a newer state.memory?)",
            version, FORMAT_VERSION
        )));
    }
    let mut restored =
        MemoryStore { items: BTreeMap::new(), etag_counter: reader.u64(), expiries: ExpiryQueue::default() };
    let count = reader.u32();
    let mut kept = 0;
    let mut i = 0;
    while i < count && reader.truncated_at.is_none() {
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
                reader.at - 1
            )));
        }
        let content_type = if has_content_type == 1 { Some(reader.string()) } else { None };
        let value = reader.bytes();
        restored.etag_counter = restored.etag_counter.max(etag);
        i += 1;
        if is_expired(expires_at, now) || reader.truncated_at.is_some() {
            continue;
        }
        let (key, content_type) = match (key, content_type) {
            (Some(key), None) => (key, None),
            (Some(key), Some(Some(content_type))) => (key, Some(content_type)),
            _ => return Err(refuse(format!("item {} holds a string that is not UTF-16", i - 1))),
        };
        restored.put(key, Item::new(value, etag, content_type, expires_at));
        kept += 1;
    }
    if let Some(at) = reader.truncated_at {
        return Err(refuse(format!(
            "it ends inside its data ({} bytes; a read at byte {} ran past the end)",
            data.len(),
            at
        )));
    }
    if reader.at != data.len() {
        return Err(refuse(format!(
            "{} bytes follow its last item (it holds {} items)",
            data.len() - reader.at,
            count
        )));
    }
    if restored.items.len() != kept {
        return Err(refuse(format!(
            "it holds the same key more than once ({} items, {} distinct keys)",
            kept,
            restored.items.len()
        )));
    }
    Ok(restored)
}

impl Snapshot for MemoryStore {
    /// Every live item with its ETag, content type and expiry, and the ETag counter.
    fn snapshot(&self) -> Vec<u8> {
        let now = clock::now_ms();
        let live: Vec<(&String, &Item)> =
            self.items.iter().filter(|(_, item)| !is_expired(item.expires_at, now)).collect();
        let mut out = vec![FORMAT_VERSION];
        out.extend_from_slice(&self.etag_counter.to_le_bytes());
        put_u32(&mut out, live.len());
        for (key, item) in live {
            put_string(&mut out, key);
            out.extend_from_slice(&item.etag_number.to_le_bytes());
            out.extend_from_slice(&item.expires_at.to_le_bytes());
            match &item.found.content_type {
                Some(content_type) => {
                    out.push(1);
                    put_string(&mut out, content_type);
                }
                None => out.push(0),
            }
            put_u32(&mut out, item.found.value.len());
            out.extend_from_slice(&item.found.value);
        }
        out
    }

    /// Replaces the whole store with a snapshot, or leaves it untouched when the snapshot is
    /// refused.
    fn restore(&mut self, data: &[u8]) -> Result<(), StateError> {
        let mut restored = decode(data, clock::now_ms())?;
        // Never below what this instance handed out already: an ETag is never reused.
        restored.etag_counter = restored.etag_counter.max(self.etag_counter);
        *self = restored;
        log::debug(&format!("state.memory restored {} keys from a snapshot of {} bytes", self.items.len(), data.len()));
        Ok(())
    }
}
