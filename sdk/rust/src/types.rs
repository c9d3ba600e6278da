// The values of the WIT interfaces `types` and `state` (abi/wit/) as Rust types: what a
// store's methods take and return. The export glue lifts them from and lowers them into the
// canonical ABI. The values of `pubsub` live beside its trait, in pubsub.rs.
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

/// The error every fallible export returns (WIT `error`). The host maps each case to a Dapr
/// error code and HTTP status; the message reaches the app, so name the key and say what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateError {
    /// The ETag given does not match the stored one (HTTP 409).
    EtagMismatch(String),
    /// The ETag given is not a valid ETag for this store (HTTP 400).
    EtagInvalid(String),
    /// The thing asked for does not exist.
    NotFound(String),
    /// The request is malformed for this component (HTTP 400).
    InvalidArgument(String),
    /// The backing engine cannot be reached right now; the call may be retried.
    Unavailable(String),
    /// Anything else.
    Internal(String),
}

impl StateError {
    pub fn message(&self) -> &str {
        match self {
            StateError::EtagMismatch(m)
            | StateError::EtagInvalid(m)
            | StateError::NotFound(m)
            | StateError::InvalidArgument(m)
            | StateError::Unavailable(m)
            | StateError::Internal(m) => m,
        }
    }

    /// The WIT case name, e.g. `etag-mismatch`.
    pub fn case(&self) -> &'static str {
        match self {
            StateError::EtagMismatch(_) => "etag-mismatch",
            StateError::EtagInvalid(_) => "etag-invalid",
            StateError::NotFound(_) => "not-found",
            StateError::InvalidArgument(_) => "invalid-argument",
            StateError::Unavailable(_) => "unavailable",
            StateError::Internal(_) => "internal",
        }
    }

    pub fn into_message(self) -> String {
        match self {
            StateError::EtagMismatch(m)
            | StateError::EtagInvalid(m)
            | StateError::NotFound(m)
            | StateError::InvalidArgument(m)
            | StateError::Unavailable(m)
            | StateError::Internal(m) => m,
        }
    }
}

/// WIT `error` under a name that fits every kind: a pub/sub broker returns it, and the `tcp`
/// host interface fails with it. The same type as [`StateError`], whose name predates the
/// other kinds.
pub type Error = StateError;

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.case(), self.message())
    }
}

/// Dapr's concurrency option. With an ETag both modes check it; without one, `LastWrite`
/// writes unconditionally and `FirstWrite` only inserts a missing key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Concurrency {
    LastWrite,
    FirstWrite,
}

/// Dapr's consistency option; a store may treat both alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consistency {
    Eventual,
    Strong,
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

/// Keys arrive already prefixed by the host (`<app-id>||<key>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetRequest {
    pub key: String,
    pub consistency: Consistency,
    pub metadata: Metadata,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetResponse {
    pub value: Vec<u8>,
    pub etag: Option<String>,
    pub content_type: Option<String>,
    /// A store with the `TTL` feature puts `ttlExpireTime` (RFC 3339, UTC) here for an
    /// item that expires.
    pub metadata: Metadata,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetRequest {
    pub key: String,
    pub value: Vec<u8>,
    pub etag: Option<String>,
    pub content_type: Option<String>,
    pub concurrency: Concurrency,
    pub consistency: Consistency,
    /// `ttlInSeconds` sets a time to live (`-1`: never expires).
    pub metadata: Metadata,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteRequest {
    pub key: String,
    pub etag: Option<String>,
    pub concurrency: Concurrency,
    pub consistency: Consistency,
    pub metadata: Metadata,
}

/// One key's answer to a bulk get: a response, nothing (the key does not exist), or the
/// message of an error reading this key (the other keys still answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkGetItem {
    pub key: String,
    pub response: Option<GetResponse>,
    pub error: Option<String>,
}

/// One operation of a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransactOperation {
    Set(SetRequest),
    Delete(DeleteRequest),
}
