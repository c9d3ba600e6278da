// The optional WIT interface `snapshot-stream`: a store or broker whose data lives in its own
// memory hands it over in bounded chunks of whole records, so it never needs a second copy of
// all of it. The SDK keeps the cursor between calls and derives the whole-snapshot interface
// `snapshot` from the same records.
use crate::rt::{call_number, Global};
use crate::types::StateError;
use alloc::vec::Vec;

/// A store (or broker) whose snapshot is a sequence of records, taken and restored in bounded
/// chunks: export it with
/// [`export_streaming_state_store!`](crate::export_streaming_state_store) or
/// [`export_streaming_pubsub!`](crate::export_streaming_pubsub), which export both `snapshot`
/// (the whole snapshot, built from these records) and `snapshot-stream`.
///
/// The records joined are the snapshot format, which starts with a format version (read every
/// version you ever wrote). Each chunk holds whole records, so a whole snapshot is also a
/// valid single chunk: a snapshot taken either way restores either way.
pub trait SnapshotStream {
    /// Where a snapshot being taken has got to. The SDK keeps it between calls, so it holds
    /// positions (the last key written, a phase), not borrows of the store.
    type Cursor;
    /// A snapshot being restored: what the chunks read so far describe, kept aside from the
    /// store until [`restore_end`](SnapshotStream::restore_end).
    type Restoring;

    /// Starts a snapshot: fixes what it holds (the time expiries are judged at, the counts a
    /// header announces). No other call comes until the snapshot ends, so the state stands still.
    fn snapshot_begin(&self) -> Self::Cursor;

    /// Writes the next whole records into `out`, each only while [`SnapshotChunk::fits`] says
    /// it fits (the first always fits, however large: it then comes alone), and moves `cursor`
    /// past them. Writes nothing once every record was written: that empty chunk ends the snapshot.
    fn snapshot_chunk(&self, cursor: &mut Self::Cursor, out: &mut SnapshotChunk);

    /// Starts a restore, with nothing read yet.
    fn restore_begin(&self) -> Self::Restoring;

    /// Reads the whole records of one chunk, which starts at byte `offset` of the whole
    /// snapshot, into `restoring`. A chunk that is corrupt or ends inside a record answers
    /// `StateError::InvalidArgument`, which ends the restore.
    fn restore_chunk(&self, restoring: &mut Self::Restoring, chunk: &[u8], offset: usize) -> Result<(), StateError>;

    /// Every chunk was read: checks the snapshot is complete (a missing tail is a truncated
    /// snapshot) and replaces the state with it, or answers an error and leaves the state as it was.
    fn restore_end(&mut self, restoring: Self::Restoring) -> Result<(), StateError>;
}

/// What a chunk reserves at once: the host asks for a few hundred KiB, and a larger limit is
/// grown into only as the records need it.
const CHUNK_RESERVE: usize = 256 << 10;
/// Chunk size of the sizing pass of a whole snapshot.
const SIZING_CHUNK: usize = 64 << 10;

/// The bytes of one chunk being written: whole records, little-endian numbers. It grows only
/// to its limit (or to exactly what a lone larger record needs), never by doubling past it.
pub struct SnapshotChunk {
    bytes: Vec<u8>,
    limit: usize,
}

impl SnapshotChunk {
    /// A chunk of about `limit` bytes at most (`usize::MAX`: no limit, a whole snapshot).
    pub(crate) fn new(limit: usize, reserve: usize) -> SnapshotChunk {
        SnapshotChunk { bytes: Vec::with_capacity(reserve.min(limit)), limit: limit.max(1) }
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Whether a record of `size` more bytes belongs in this chunk: when it keeps the chunk
    /// within its limit, or when the chunk is still empty (a larger record comes alone).
    pub fn fits(&self, size: usize) -> bool {
        self.bytes.is_empty() || self.bytes.len().checked_add(size).map_or(false, |end| end <= self.limit)
    }

    /// Makes room for `size` more bytes at once: call it with a record's size before writing it.
    pub fn reserve(&mut self, size: usize) {
        let free = self.bytes.capacity() - self.bytes.len();
        if free >= size {
            return;
        }
        let wanted = (self.bytes.len() + size).max(self.bytes.capacity().saturating_mul(2).min(self.limit));
        self.bytes.reserve_exact(wanted - self.bytes.len());
    }

    pub fn put(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    pub fn put_u8(&mut self, value: u8) {
        self.bytes.push(value);
    }

    pub fn put_u16(&mut self, value: u16) {
        self.put(&value.to_le_bytes());
    }

    pub fn put_u32(&mut self, value: u32) {
        self.put(&value.to_le_bytes());
    }

    pub fn put_u64(&mut self, value: u64) {
        self.put(&value.to_le_bytes());
    }

    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Where the stream is between two of its calls, and the call that left it so: a stream
/// interrupted by any other call is over.
pub(crate) enum Stream<C, R> {
    Idle,
    Snapshot(C),
    Restore(R, usize),
}

/// The stream of the component's one store; see [`crate::__private::StoreCell`].
pub struct StreamCell<T: SnapshotStream>(Global<(Stream<T::Cursor, T::Restoring>, u32)>);

impl<T: SnapshotStream> StreamCell<T> {
    pub const fn new() -> Self {
        StreamCell(Global::new((Stream::Idle, 0)))
    }

    /// The stream as the previous call left it, or `Idle` when another call came in between;
    /// called after `begin_call`. The stream is taken: `put` it back to keep it.
    pub(crate) unsafe fn take(&self) -> Stream<T::Cursor, T::Restoring> {
        let (stream, call) = self.0.get();
        let current = core::mem::replace(stream, Stream::Idle);
        if call.wrapping_add(1) == call_number() {
            current
        } else {
            Stream::Idle
        }
    }

    pub(crate) unsafe fn put(&self, stream: Stream<T::Cursor, T::Restoring>) {
        *self.0.get() = (stream, call_number());
    }
}

impl<T: SnapshotStream> Default for StreamCell<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The next chunk of a snapshot under way, of about `limit` bytes.
pub(crate) fn next_chunk<T: SnapshotStream>(store: &T, cursor: &mut T::Cursor, limit: usize) -> Vec<u8> {
    let mut out = SnapshotChunk::new(limit, CHUNK_RESERVE);
    store.snapshot_chunk(cursor, &mut out);
    out.into_bytes()
}

/// The whole snapshot from the stream: a pass in bounded chunks to learn its size, then a
/// second into one buffer of exactly that size, so nothing is copied or regrown on the way.
pub(crate) fn whole_snapshot<T: SnapshotStream>(store: &T) -> Vec<u8> {
    let mut sizing = SnapshotChunk::new(SIZING_CHUNK, SIZING_CHUNK);
    let mut size = 0usize;
    let mut cursor = store.snapshot_begin();
    loop {
        store.snapshot_chunk(&mut cursor, &mut sizing);
        if sizing.is_empty() {
            break;
        }
        size += sizing.len();
        sizing.clear();
    }
    drop(sizing);
    let mut out = SnapshotChunk::new(usize::MAX, size);
    let mut cursor = store.snapshot_begin();
    // No limit: every record fits, so one chunk is the whole snapshot.
    store.snapshot_chunk(&mut cursor, &mut out);
    out.into_bytes()
}

/// A whole snapshot is one chunk of whole records.
pub(crate) fn whole_restore<T: SnapshotStream>(store: &mut T, data: &[u8]) -> Result<(), StateError> {
    let mut restoring = store.restore_begin();
    store.restore_chunk(&mut restoring, data, 0)?;
    store.restore_end(restoring)
}
