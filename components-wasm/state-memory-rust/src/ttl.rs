// Time to live: parsing `ttlInSeconds` and a queue that finds
// expired items without scanning the map. The same rules as the AssemblyScript state.memory
// (components-wasm/state-memory/assembly/ttl.ts).
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// `ttlInSeconds` was not an integer in [-1, 2147483647] (Dapr's accepted range).
pub struct InvalidTtl;

/// Seconds to live from a `ttlInSeconds` value: `None` when absent, empty, `-1`, `-0` or `0`
/// (the item never expires, as in Dapr's in-memory store).
pub fn parse_ttl_seconds(text: Option<&str>) -> Result<Option<u64>, InvalidTtl> {
    let text = match text {
        None | Some("") => return Ok(None),
        Some(text) => text.as_bytes(),
    };
    let negative = text[0] == b'-';
    let digits = &text[usize::from(negative)..];
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(InvalidTtl);
    }
    let n = digits.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    match (negative, n) {
        (true, 0..=1) | (false, 0) => Ok(None),
        (false, 1..=2147483647) => Ok(Some(n)),
        _ => Err(InvalidTtl),
    }
}

/// An item that will expire: the key, and the ETag it had, so a later write is not purged.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
pub struct Expiry {
    pub at: u64,
    pub key: String,
    pub etag: String,
}

/// Expiries, earliest first.
#[derive(Default)]
pub struct ExpiryQueue {
    heap: BinaryHeap<Reverse<Expiry>>,
}

impl ExpiryQueue {
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    pub fn push(&mut self, at: u64, key: String, etag: String) {
        self.heap.push(Reverse(Expiry { at, key, etag }));
    }

    /// Removes and returns the earliest expiry if it is due at `now`.
    pub fn pop_due(&mut self, now: u64) -> Option<Expiry> {
        match self.heap.peek() {
            Some(Reverse(next)) if next.at <= now => self.heap.pop().map(|Reverse(due)| due),
            _ => None,
        }
    }
}
