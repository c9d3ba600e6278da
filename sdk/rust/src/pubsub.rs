// The `PubSub` trait a broker implements for the WIT interface `pubsub` (abi/wit/pubsub.wit).
// Its values are generated (src/generated/types.rs); the generated glue calls a broker through
// the interface's generated `Guest` trait, which every `PubSub` implements (below).
use crate::generated::pubsub::Guest;
use crate::generated::types::{AckOutcome, BulkPublishEntry, BulkPublishFailure, Error, Message, PublishRequest};
use crate::types::Metadata;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// A publish/subscribe broker, with the semantics of Dapr's pub/sub components. Implement
/// `publish`, `subscribe`, `pull`, `ack` and `unsubscribe`, override what else the broker
/// supports, and export it with [`export_pubsub!`](crate::export_pubsub).
///
/// The host pulls the messages of each subscription and acknowledges each one once the app
/// answered, so delivery is at least once. It makes the broker with `Default::default()`,
/// calls `init` first, then one method at a time and never re-enters: no locking is needed.
/// A broker that imports `tcp` or `sleep` may block in `pull`; the host then gives each
/// subscription an instance of its own, but a broker must still serve several.
pub trait PubSub {
    /// Called once, before any other method, with the Component YAML's `spec.metadata`, to
    /// which the host adds `consumerID` (the app id unless the YAML sets it): subscriptions
    /// with one consumer id share the messages of a topic, as a consumer group. An error
    /// fails the load.
    fn init(&mut self, config: Metadata) -> Result<(), Error> {
        let _ = config;
        Ok(())
    }

    /// The optional features the broker implements ([`feature::BULK_PUBLISH`](crate::feature::BULK_PUBLISH),
    /// [`feature::MESSAGE_TTL`](crate::feature::MESSAGE_TTL), ...).
    fn features(&self) -> &[&str] {
        &[]
    }

    fn publish(&mut self, req: PublishRequest) -> Result<(), Error>;

    /// Publishes every entry and answers the ones that failed. The default calls `publish`
    /// once per entry, with the entry's metadata plus the request's keys the entry does not
    /// set; each failure carries the error as `case: message`.
    fn bulk_publish(
        &mut self,
        topic: String,
        entries: Vec<BulkPublishEntry>,
        metadata: Metadata,
    ) -> Result<Vec<BulkPublishFailure>, Error> {
        let mut failures = Vec::new();
        for entry in entries {
            let mut entry_metadata = entry.metadata;
            entry_metadata.add_missing(&metadata);
            let req = PublishRequest {
                topic: topic.clone(),
                data: entry.data,
                content_type: entry.content_type,
                metadata: entry_metadata,
            };
            if let Err(error) = self.publish(req) {
                failures.push(BulkPublishFailure { entry_id: entry.entry_id, error: error.to_string() });
            }
        }
        Ok(failures)
    }

    /// Starts receiving `topic`; answers an id of the broker's choosing that `pull`, `ack`
    /// and `unsubscribe` name.
    fn subscribe(&mut self, topic: String, metadata: Metadata) -> Result<u64, Error>;

    /// Up to `max_messages` messages of the subscription. A broker that can wait (it imports
    /// `sleep` or `tcp`) may block up to `timeout_ms` for the first one; otherwise it answers
    /// at once, and an empty list means nothing is waiting.
    fn pull(&mut self, subscription: u64, max_messages: u32, timeout_ms: u32) -> Result<Vec<Message>, Error>;

    /// Settles a delivered message: [`AckOutcome::Retry`] must bring it back soon.
    fn ack(&mut self, subscription: u64, message_id: String, outcome: AckOutcome) -> Result<(), Error>;

    /// Stops the subscription and releases what it holds.
    fn unsubscribe(&mut self, subscription: u64) -> Result<(), Error>;

    /// Checks the broker can serve; answer [`Error::Unavailable`](crate::StateError::Unavailable)
    /// when its backend is unreachable.
    fn ping(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// The generated glue's view of a broker: the WIT's functions, each answered by the broker's method.
impl<T: PubSub> Guest for T {
    fn init(&mut self, config: Metadata) -> Result<(), Error> {
        PubSub::init(self, config)
    }

    fn features(&mut self) -> Vec<String> {
        PubSub::features(self).iter().map(|f| String::from(*f)).collect()
    }

    fn publish(&mut self, req: PublishRequest) -> Result<(), Error> {
        PubSub::publish(self, req)
    }

    fn bulk_publish(
        &mut self,
        topic: String,
        entries: Vec<BulkPublishEntry>,
        metadata: Metadata,
    ) -> Result<Vec<BulkPublishFailure>, Error> {
        PubSub::bulk_publish(self, topic, entries, metadata)
    }

    fn subscribe(&mut self, topic: String, metadata: Metadata) -> Result<u64, Error> {
        PubSub::subscribe(self, topic, metadata)
    }

    fn pull(&mut self, subscription: u64, max_messages: u32, timeout_ms: u32) -> Result<Vec<Message>, Error> {
        PubSub::pull(self, subscription, max_messages, timeout_ms)
    }

    fn ack(&mut self, subscription: u64, message_id: String, outcome: AckOutcome) -> Result<(), Error> {
        PubSub::ack(self, subscription, message_id, outcome)
    }

    fn unsubscribe(&mut self, subscription: u64) -> Result<(), Error> {
        PubSub::unsubscribe(self, subscription)
    }

    fn ping(&mut self) -> Result<(), Error> {
        PubSub::ping(self)
    }
}
