// The state.memory store: a map from key to item, with store-wide counter ETags, first-write
// and last-write concurrency, all-or-none transactions and TTLs read from the host clock.
// Behaviour and messages match the AssemblyScript state.memory
// (components-wasm/state-memory/assembly/memory-store.ts).
use crate::ttl::{parse_ttl_seconds, ExpiryQueue, InvalidTtl};
use std::collections::BTreeMap;
use tessera_sdk::time::format_rfc3339;
use tessera_sdk::{
    clock, feature, log, Concurrency, DeleteRequest, GetRequest, GetResponse, Metadata, SetRequest, StateError,
    StateStore, TransactOperation,
};

/// A stored item: the answer to a get, ready to clone, its ETag as a number, and when it
/// expires (0: never).
pub struct Item {
    pub found: GetResponse,
    pub etag_number: u64,
    pub expires_at: u64,
}

impl Item {
    pub fn new(value: Vec<u8>, etag_number: u64, content_type: Option<String>, expires_at: u64) -> Item {
        let mut metadata = Metadata::new();
        if expires_at != 0 {
            metadata.set("ttlExpireTime", format_rfc3339(expires_at));
        }
        let found = GetResponse { value, etag: Some(etag_number.to_string()), content_type, metadata };
        Item { found, etag_number, expires_at }
    }

    pub fn etag(&self) -> &str {
        self.found.etag.as_deref().unwrap_or_default()
    }
}

fn is_decimal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

/// Whether a write (or, with `insert_only` false, a delete) may go ahead given the current
/// item's ETag. An ETag is checked in both concurrency modes; an empty one counts as none, as
/// in Dapr.
fn check_write(
    key: &str,
    current: Option<&str>,
    etag: Option<&str>,
    concurrency: Concurrency,
    insert_only: bool,
) -> Result<(), StateError> {
    match (etag.filter(|e| !e.is_empty()), current) {
        (Some(etag), _) if !is_decimal(etag) => Err(StateError::EtagInvalid(format!(
            "ETag \"{}\" for key \"{}\" is not valid: this store's ETags are decimal numbers",
            etag, key
        ))),
        (Some(etag), None) => {
            Err(StateError::EtagMismatch(format!("key \"{}\" does not exist, so ETag \"{}\" cannot match", key, etag)))
        }
        (Some(etag), Some(current)) if current != etag => Err(StateError::EtagMismatch(format!(
            "ETag \"{}\" does not match key \"{}\" (now at ETag \"{}\"): read it again and retry",
            etag, key, current
        ))),
        (None, Some(_)) if insert_only && concurrency == Concurrency::FirstWrite => Err(StateError::EtagMismatch(
            format!("key \"{}\" already exists: a first-write without an ETag only inserts a missing key", key),
        )),
        _ => Ok(()),
    }
}

fn ttl_of(req: &SetRequest) -> Result<Option<u64>, StateError> {
    let text = req.metadata.get("ttlInSeconds");
    parse_ttl_seconds(text).map_err(|InvalidTtl| {
        StateError::InvalidArgument(format!(
            "ttlInSeconds \"{}\" for key \"{}\" is not an integer from -1 to 2147483647",
            text.unwrap_or_default(),
            req.key
        ))
    })
}

#[derive(Default)]
pub struct MemoryStore {
    pub(crate) items: BTreeMap<String, Item>,
    /// The last ETag handed out: ETags are this counter, in decimal.
    pub(crate) etag_counter: u64,
    pub(crate) expiries: ExpiryQueue,
}

impl StateStore for MemoryStore {
    fn init(&mut self, config: Metadata) -> Result<(), StateError> {
        // Keys only: configuration values may hold secrets.
        let keys: Vec<&str> = config.iter().map(|(key, _)| key).collect();
        log::debug(&format!("state.memory initialised; config keys: [{}]", keys.join(", ")));
        Ok(())
    }

    fn features(&self) -> &[&str] {
        &[feature::ETAG, feature::TRANSACTIONAL, feature::TTL]
    }

    fn get(&mut self, req: GetRequest) -> Result<Option<GetResponse>, StateError> {
        Ok(self.live(&req.key).map(|item| item.found.clone()))
    }

    fn set(&mut self, req: SetRequest) -> Result<(), StateError> {
        self.purge_expired();
        let ttl = ttl_of(&req)?;
        let current = self.live(&req.key).map(Item::etag);
        check_write(&req.key, current, req.etag.as_deref(), req.concurrency, true)?;
        self.etag_counter += 1;
        let item = new_item(req.value, self.etag_counter, req.content_type, ttl);
        self.put(req.key, item);
        Ok(())
    }

    fn delete(&mut self, req: DeleteRequest) -> Result<(), StateError> {
        self.purge_expired();
        let current = self.live(&req.key).map(Item::etag);
        let exists = current.is_some();
        check_write(&req.key, current, req.etag.as_deref(), req.concurrency, false)?;
        if exists {
            self.items.remove(&req.key);
        }
        Ok(())
    }

    /// Checks every operation against the store as the earlier ones leave it, then applies
    /// all or none.
    fn transact(&mut self, operations: Vec<TransactOperation>, _metadata: Metadata) -> Result<(), StateError> {
        self.purge_expired();
        // Each touched key's final state: an item, or None for deleted.
        let mut staged: BTreeMap<String, Option<Item>> = BTreeMap::new();
        let mut counter = self.etag_counter;
        for operation in operations {
            match operation {
                TransactOperation::Set(req) => {
                    let ttl = ttl_of(&req)?;
                    let current = self.staged(&staged, &req.key).map(Item::etag);
                    check_write(&req.key, current, req.etag.as_deref(), req.concurrency, true)?;
                    counter += 1;
                    staged.insert(req.key, Some(new_item(req.value, counter, req.content_type, ttl)));
                }
                TransactOperation::Delete(req) => {
                    let current = self.staged(&staged, &req.key).map(Item::etag);
                    check_write(&req.key, current, req.etag.as_deref(), req.concurrency, false)?;
                    staged.insert(req.key, None);
                }
            }
        }
        self.etag_counter = counter;
        for (key, item) in staged {
            match item {
                Some(item) => self.put(key, item),
                None => {
                    self.items.remove(&key);
                }
            }
        }
        Ok(())
    }
}

/// An item with ETag `etag_number`, expiring `ttl_seconds` from now.
fn new_item(value: Vec<u8>, etag_number: u64, content_type: Option<String>, ttl_seconds: Option<u64>) -> Item {
    let expires_at = ttl_seconds.map_or(0, |ttl| clock::now_ms() + ttl * 1000);
    Item::new(value, etag_number, content_type, expires_at)
}

impl MemoryStore {
    /// The item under `key` as a transaction sees it: its own earlier writes first.
    fn staged<'a>(&'a mut self, staged: &'a BTreeMap<String, Option<Item>>, key: &str) -> Option<&'a Item> {
        match staged.get(key) {
            Some(item) => item.as_ref(),
            None => self.live(key),
        }
    }

    /// The item under `key` unless missing or expired; an expired item is dropped on the way.
    fn live(&mut self, key: &str) -> Option<&Item> {
        let expires_at = self.items.get(key)?.expires_at;
        if expires_at != 0 && clock::now_ms() >= expires_at {
            self.items.remove(key);
            return None;
        }
        self.items.get(key)
    }

    pub(crate) fn put(&mut self, key: String, item: Item) {
        if item.expires_at != 0 {
            self.expiries.push(item.expires_at, key.clone(), item.etag().to_owned());
        }
        self.items.insert(key, item);
    }

    /// Drops items whose time has come, so keys nobody reads again do not pile up.
    fn purge_expired(&mut self) {
        if self.expiries.is_empty() {
            return;
        }
        let now = clock::now_ms();
        while let Some(due) = self.expiries.pop_due(now) {
            if self.items.get(&due.key).map_or(false, |item| item.etag() == due.etag) {
                self.items.remove(&due.key);
            }
        }
    }
}
