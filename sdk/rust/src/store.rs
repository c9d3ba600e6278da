// The traits a component implements: `StateStore` for the WIT interface `state`, and the
// optional `Snapshot` for the interface `snapshot`. The generated glue calls a store through
// the interface's generated `Guest` trait, which every `StateStore` implements (below).
use crate::generated::state::Guest;
use crate::generated::types::{
    BulkGetItem, DeleteRequest, Error, GetRequest, GetResponse, SetRequest, TransactOperation,
};
use crate::types::{Metadata, StateError};
use alloc::string::String;
use alloc::vec::Vec;

/// A state store. Implement `get`, `set` and `delete`, override what else the store supports,
/// and export it with [`export_state_store!`](crate::export_state_store). The host makes one
/// instance per component instance with `Default::default()`, calls `init` first, then one
/// method at a time and never re-enters: no locking is needed.
pub trait StateStore {
    /// Called once, before any other method, with the Component YAML's `spec.metadata`.
    /// An error fails the load.
    fn init(&mut self, config: Metadata) -> Result<(), StateError> {
        let _ = config;
        Ok(())
    }

    /// The optional features the store implements ([`feature::ETAG`](crate::feature::ETAG),
    /// [`feature::TRANSACTIONAL`](crate::feature::TRANSACTIONAL), [`feature::TTL`](crate::feature::TTL)).
    fn features(&self) -> &[&str] {
        &[]
    }

    /// The item under `req.key`, or `Ok(None)` when there is none.
    fn get(&mut self, req: GetRequest) -> Result<Option<GetResponse>, StateError>;

    fn set(&mut self, req: SetRequest) -> Result<(), StateError>;

    fn delete(&mut self, req: DeleteRequest) -> Result<(), StateError>;

    /// Answers each key with `get`; a key whose `get` fails carries the error's message and
    /// the others still answer.
    fn bulk_get(&mut self, reqs: Vec<GetRequest>) -> Result<Vec<BulkGetItem>, StateError> {
        let mut items = Vec::with_capacity(reqs.len());
        for req in reqs {
            let key = req.key.clone();
            items.push(match self.get(req) {
                Ok(response) => BulkGetItem { key, response, error: None },
                Err(error) => BulkGetItem { key, response: None, error: Some(error.into_message()) },
            });
        }
        Ok(items)
    }

    /// Calls `set` for each request in order and stops at the first error (not atomic).
    fn bulk_set(&mut self, reqs: Vec<SetRequest>) -> Result<(), StateError> {
        reqs.into_iter().try_for_each(|req| self.set(req))
    }

    /// Calls `delete` for each request in order and stops at the first error (not atomic).
    fn bulk_delete(&mut self, reqs: Vec<DeleteRequest>) -> Result<(), StateError> {
        reqs.into_iter().try_for_each(|req| self.delete(req))
    }

    /// Applies every operation in order, all or none. A store that advertises
    /// `TRANSACTIONAL` overrides it; the default refuses.
    fn transact(&mut self, operations: Vec<TransactOperation>, metadata: Metadata) -> Result<(), StateError> {
        let _ = (operations, metadata);
        Err(StateError::Internal(String::from(
            "this state store does not support transactions (it does not advertise TRANSACTIONAL)",
        )))
    }

    /// Checks the store can serve; answer `StateError::Unavailable` when its backend is
    /// unreachable.
    fn ping(&mut self) -> Result<(), StateError> {
        Ok(())
    }
}

/// A store that keeps its data in its own memory implements this, and is exported with
/// [`export_snapshotting_state_store!`](crate::export_snapshotting_state_store), so its data
/// crosses a hot swap, a restart after a trap, and hibernation.
pub trait Snapshot {
    /// The store's whole state, in a format only the store reads. Put a version byte first.
    fn snapshot(&self) -> Vec<u8>;

    /// Replaces the store's state with a snapshot taken by this or an earlier version of the
    /// store. Called after `init`, before any other call.
    fn restore(&mut self, data: &[u8]) -> Result<(), StateError>;
}

/// The generated glue's view of a store: the WIT's functions, each answered by the store's method.
impl<T: StateStore> Guest for T {
    fn init(&mut self, config: Metadata) -> Result<(), Error> {
        StateStore::init(self, config)
    }

    fn features(&mut self) -> Vec<String> {
        StateStore::features(self).iter().map(|f| String::from(*f)).collect()
    }

    fn get(&mut self, req: GetRequest) -> Result<Option<GetResponse>, Error> {
        StateStore::get(self, req)
    }

    fn set(&mut self, req: SetRequest) -> Result<(), Error> {
        StateStore::set(self, req)
    }

    fn delete(&mut self, req: DeleteRequest) -> Result<(), Error> {
        StateStore::delete(self, req)
    }

    fn bulk_get(&mut self, reqs: Vec<GetRequest>) -> Result<Vec<BulkGetItem>, Error> {
        StateStore::bulk_get(self, reqs)
    }

    fn bulk_set(&mut self, reqs: Vec<SetRequest>) -> Result<(), Error> {
        StateStore::bulk_set(self, reqs)
    }

    fn bulk_delete(&mut self, reqs: Vec<DeleteRequest>) -> Result<(), Error> {
        StateStore::bulk_delete(self, reqs)
    }

    fn transact(&mut self, operations: Vec<TransactOperation>, metadata: Metadata) -> Result<(), Error> {
        StateStore::transact(self, operations, metadata)
    }

    fn ping(&mut self) -> Result<(), Error> {
        StateStore::ping(self)
    }
}
