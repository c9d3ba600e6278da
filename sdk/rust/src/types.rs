// The hand-written values of the WIT: `metadata` as `Metadata` (a list of pairs with a map's
// API), the `Display` of `error`, and the feature names. The WIT's records, enums and variants
// are generated (src/generated/types.rs).
use crate::generated::types::Error;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Ordered key/value pairs (WIT `metadata` = `list<tuple<string, string>>`): a component's
/// configuration and the metadata that travels with a request or a response. Order and
/// duplicates survive the trip through the ABI; [`Metadata::get`] answers the first match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    pairs: Vec<(String, String)>,
}

impl Metadata {
    pub const fn new() -> Self {
        Metadata { pairs: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The value of the first pair named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Replaces the value of the first pair named `key`, or appends the pair.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        match self.pairs.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value.into(),
            None => self.pairs.push((key, value.into())),
        }
    }

    /// Appends a pair, even when `key` is already present.
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.pairs.push((key.into(), value.into()));
    }

    /// Appends each pair of `defaults` whose key is not already here (request-wide metadata
    /// under an entry's own, as a bulk publish applies it).
    pub fn add_missing(&mut self, defaults: &Metadata) {
        for (key, value) in defaults.iter() {
            if !self.contains_key(key) {
                self.push(key, value);
            }
        }
    }

    /// The pairs in order, as `(key, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The pairs, by value.
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.pairs
    }
}

impl From<Vec<(String, String)>> for Metadata {
    fn from(pairs: Vec<(String, String)>) -> Self {
        Metadata { pairs }
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Metadata {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Metadata { pairs: iter.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }
}

/// The error every fallible export returns (WIT `error`, generated as [`Error`]), under the
/// name it had before the other kinds came: the host maps each case to a Dapr error code and
/// HTTP status; the message reaches the app, so name the key and say what to do.
pub type StateError = Error;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.case(), self.message())
    }
}

/// The optional features a component advertises from `features()`, as Dapr names them.
pub mod feature {
    /// State: ETags on get, set and delete.
    pub const ETAG: &str = "ETAG";
    /// State: `transact`.
    pub const TRANSACTIONAL: &str = "TRANSACTIONAL";
    /// State: `ttlInSeconds`.
    pub const TTL: &str = "TTL";
    /// Pub/sub: `bulk_publish` does better than one `publish` per entry (batched, pipelined).
    pub const BULK_PUBLISH: &str = "BULK_PUBLISH";
    /// Pub/sub: `ttlInSeconds` on a published message.
    pub const MESSAGE_TTL: &str = "MESSAGE_TTL";
    /// Pub/sub: topics with wildcards in `subscribe`.
    pub const SUBSCRIBE_WILDCARDS: &str = "SUBSCRIBE_WILDCARDS";
}
