// Time to live: parsing `ttlInSeconds`, formatting `ttlExpireTime`, and a queue that finds
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

/// RFC 3339 in UTC with whole seconds, e.g. `2026-11-26T07:30:00Z`.
pub fn format_rfc3339(epoch_ms: u64) -> String {
    let secs = epoch_ms / 1000;
    let (days, day_secs) = (secs / 86400, secs % 86400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (never negative here).
    let z = days + 719468;
    let era = z / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = era * 400 + yoe + u64::from(month <= 2);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        year,
        month,
        day,
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60
    )
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
