// pubsub.redis: Dapr's Redis Streams pub/sub. A topic is a stream; the app id (`consumerID`)
// is a consumer group, so the subscriptions of one app share a topic's messages and each
// message goes to one of them; each subscription is a consumer of its own in that group.
// A delivered message stays in the group's pending list until it is acknowledged:
// - `ack(retry)` leaves it there, and the subscription's next `pull` takes it back first
//   (`XCLAIM` with idle 0), so it comes back at once, under the same id;
// - `unsubscribe` hands what is pending for the subscription back to the group (published
//   again as a new entry, the original acknowledged, in one MULTI) and removes its consumer;
// - a message whose subscription died without an answer is taken over by another
//   subscription of the group once it has been pending `processingTimeout` (`XAUTOCLAIM`,
//   looked for every `redeliverInterval`, also while a `pull` waits).
// Acknowledgements are batched: `ack(success|drop)` only notes the id, and the subscription's
// next command (the next `pull`'s read, usually) carries one `XACK` for all of them ahead of
// it, pipelined, in one round trip. A crash between an `ack` and that flush leaves those
// messages pending in Redis: another subscription of the group takes them over after
// `processingTimeout` and the app sees them again. At least once, never lost.
use crate::config::Config;
use crate::streams::{self, XAddText};
use redis_client::resp::Value;
use std::collections::BTreeMap;
use tessera_sdk::{
    clock, feature, log, random, AckOutcome, BulkPublishEntry, BulkPublishFailure, Error, Message, Metadata, PubSub,
    PublishRequest,
};

/// The connection, with the broker's configuration.
type Redis = redis_client::Redis<Config>;

#[derive(Default)]
pub struct RedisStreams {
    /// Set by `init`, which the host calls before anything else.
    redis: Option<Redis>,
    subscriptions: BTreeMap<u64, Subscription>,
    last_subscription: u64,
}

struct Subscription {
    topic: String,
    /// The consumer group: `consumerID` of the subscription's metadata, else of the config.
    group: String,
    /// This subscription's consumer in the group: `<group>-<random hex>`.
    consumer: String,
    /// Ids acknowledged with `retry`, in order, for the next `pull` to take back.
    retry: Vec<String>,
    /// Acknowledged with `success` or `drop`, the `XACK` not yet sent.
    acks: UnsentAcks,
    /// Where the next scan of the group's pending list starts (`XAUTOCLAIM`'s cursor).
    reclaim_cursor: String,
    /// When (monotonic ns) the next scan is due; 0: at the first pull.
    reclaim_due_ns: u64,
}

const NS_PER_MS: u64 = 1_000_000;
/// The most messages one pull asks Redis for, whatever the host asks.
const MAX_BATCH: u32 = 1000;
/// Pending messages `unsubscribe` hands back per round trip, and at most in all (the rest
/// are taken over after `processingTimeout`).
const HAND_BACK_BATCH: usize = 100;
const HAND_BACK_MAX: usize = 10_000;
/// Acknowledgements a subscription holds unsent at most: the next one is sent at once, with them.
const MAX_UNSENT_ACKS: usize = 1000;

/// The connection `init` set up; a field apart, so a subscription can be borrowed beside it.
fn ready(redis: &mut Option<Redis>) -> Result<&mut Redis, Error> {
    redis.as_mut().ok_or_else(|| Error::Internal(String::from("pubsub.redis was called before init")))
}

fn check_topic(topic: &str) -> Result<(), Error> {
    if topic.is_empty() {
        return Err(Error::InvalidArgument(String::from("the topic name is empty")));
    }
    Ok(())
}

fn unknown_subscription(id: u64) -> Error {
    Error::NotFound(format!(
        "pubsub.redis has no subscription {} in this instance (unsubscribed, or the instance was restarted): subscribe again",
        id
    ))
}

/// An error reply as the error of the call. `topic` is empty for a command on no topic.
fn refused(command: &str, topic: &str, message: &str) -> Error {
    let what = if topic.is_empty() { String::from(command) } else { format!("{} on topic {:?}", command, topic) };
    redis_client::refused(&what, message, "a stream")
}

fn expect_ok(reply: Value, command: &str, topic: &str) -> Result<Value, Error> {
    match reply {
        Value::Error(message) => Err(refused(command, topic, &message)),
        value => Ok(value),
    }
}

fn shape_error(topic: &str, why: String) -> Error {
    Error::Internal(format!("topic {:?}: {}", topic, why))
}

/// `XGROUP CREATE <topic> <group> 0 MKSTREAM`: as Dapr, a new group reads the stream from its start;
/// it may exist already.
fn ensure_group(redis: &mut Redis, topic: &str, group: &str) -> Result<(), Error> {
    let reply = redis.call(&[b"XGROUP", b"CREATE", topic.as_bytes(), group.as_bytes(), b"0", b"MKSTREAM"], 0)?;
    match reply {
        Value::Error(message) if message.starts_with("BUSYGROUP") => Ok(()),
        reply => expect_ok(reply, "XGROUP CREATE", topic).map(|_| ()),
    }
}

fn messages(topic: &str, entries: Vec<Value>) -> Vec<Message> {
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        if let Some((message, unreadable)) = streams::message(topic, entry) {
            if let Some(why) = unreadable {
                log::warn(&format!(
                    "entry {} of topic {:?} has unreadable metadata ({}): delivered without it",
                    message.id, topic, why
                ));
            }
            out.push(message);
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{:02x}", b)).collect()
}

/// Message ids acknowledged but not yet sent to Redis.
#[derive(Default)]
struct UnsentAcks {
    ids: Vec<String>,
}

impl UnsentAcks {
    /// `XACK <topic> <group> <id> ...`.
    fn xack<'a>(&'a self, topic: &'a str, group: &'a str) -> Vec<&'a [u8]> {
        let mut args: Vec<&[u8]> = vec![b"XACK", topic.as_bytes(), group.as_bytes()];
        args.extend(self.ids.iter().map(|id| id.as_bytes()));
        args
    }

    /// Forgets the ids once Redis answered their `XACK`. An error reply (the group was
    /// deleted, and its pending list with it) leaves nothing to acknowledge; a broken
    /// connection keeps them for the next command (`XACK` again is harmless).
    fn sent(&mut self, reply: Result<Value, Error>, topic: &str) {
        match reply {
            Ok(Value::Error(message)) => {
                log::warn(&format!(
                    "redis refused XACK of {} message(s) on topic {:?}: {}",
                    self.ids.len(),
                    topic,
                    message
                ));
                self.ids.clear();
            }
            Ok(_) => self.ids.clear(),
            Err(_) => {}
        }
    }
}

/// A command on a subscription's group, with the unsent acknowledgements' `XACK` pipelined
/// ahead of it (one round trip for both); if the stream or the group is gone (the key was
/// deleted), makes it again and sends the command once more. An error reply stays a reply.
fn group_call(
    redis: &mut Redis,
    (topic, group): (&str, &str),
    acks: &mut UnsentAcks,
    args: &[&[u8]],
    server_wait_ms: u32,
) -> Result<Value, Error> {
    let reply = if acks.ids.is_empty() {
        redis.call(args, server_wait_ms)?
    } else {
        let commands = [acks.xack(topic, group), args.to_vec()];
        let mut replies = redis.pipeline_waiting(&commands, server_wait_ms)?.into_iter();
        let (acked, reply) = (replies.next(), replies.next());
        acks.sent(acked.unwrap_or(Ok(Value::Nil)), topic);
        reply.unwrap_or(Ok(Value::Nil))?
    };
    match reply {
        Value::Error(message) if message.starts_with("NOGROUP") => {
            log::warn(&format!("topic {:?} or its consumer group {:?} vanished: creating it again", topic, group));
            ensure_group(redis, topic, group)?;
            redis.call(args, server_wait_ms)
        }
        reply => Ok(reply),
    }
}

impl Subscription {
    /// Sends the unsent acknowledgements now, in a round trip of their own.
    fn flush_acks(&mut self, redis: &mut Redis) -> Result<(), Error> {
        if self.acks.ids.is_empty() {
            return Ok(());
        }
        let reply = redis.call(&self.acks.xack(&self.topic, &self.group), 0);
        let failed = reply.as_ref().err().cloned();
        self.acks.sent(reply, &self.topic);
        failed.map_or(Ok(()), Err)
    }

    /// Takes back the messages acknowledged with `retry` (at most `count`).
    fn take_retries(&mut self, redis: &mut Redis, count: usize) -> Result<Vec<Message>, Error> {
        let ids: Vec<String> = self.retry.iter().take(count).cloned().collect();
        let mut args: Vec<&[u8]> =
            vec![b"XCLAIM", self.topic.as_bytes(), self.group.as_bytes(), self.consumer.as_bytes(), b"0"];
        args.extend(ids.iter().map(|id| id.as_bytes()));
        let reply = expect_ok(group_call(redis, (&self.topic, &self.group), &mut self.acks, &args, 0)?, "XCLAIM", &self.topic)?;
        let entries = streams::claim_entries(reply).map_err(|why| shape_error(&self.topic, why))?;
        // Claimed, or gone from the stream (trimmed, deleted): either way no longer to retry.
        self.retry.drain(..ids.len());
        Ok(messages(&self.topic, entries))
    }

    /// Hands every message pending for this subscription (acknowledged with `retry`, or never
    /// answered) back to the group before it goes, so another subscription gets them now
    /// rather than after `processingTimeout`. Then nothing is pending for its consumer.
    fn hand_back(&mut self, redis: &mut Redis) -> Result<(), Error> {
        let text = XAddText::new(redis.config().max_len_approx, &Metadata::new());
        let batch = HAND_BACK_BATCH.to_string();
        for _ in 0..HAND_BACK_MAX / HAND_BACK_BATCH {
            let args: [&[u8]; 7] = [
                b"XPENDING",
                self.topic.as_bytes(),
                self.group.as_bytes(),
                b"-",
                b"+",
                batch.as_bytes(),
                self.consumer.as_bytes(),
            ];
            let reply = expect_ok(redis.call(&args, 0)?, "XPENDING", &self.topic)?;
            let ids = streams::pending_ids(reply).map_err(|why| shape_error(&self.topic, why))?;
            if ids.is_empty() {
                self.retry.clear();
                return Ok(());
            }
            for id in &ids {
                self.requeue(redis, id, &text)?;
            }
        }
        Err(shape_error(&self.topic, format!("more than {} messages are pending for one subscription", HAND_BACK_MAX)))
    }

    /// Publishes entry `id` again as a new entry and acknowledges the original, atomically.
    fn requeue(&self, redis: &mut Redis, id: &str, text: &XAddText) -> Result<(), Error> {
        let range: [&[u8]; 4] = [b"XRANGE", self.topic.as_bytes(), id.as_bytes(), id.as_bytes()];
        let reply = expect_ok(redis.call(&range, 0)?, "XRANGE", &self.topic)?;
        // An entry trimmed or deleted meanwhile is only acknowledged.
        let fields = streams::range_entry_fields(reply).map_err(|why| shape_error(&self.topic, why))?;
        let mut commands: Vec<Vec<&[u8]>> = vec![vec![b"MULTI"]];
        if let Some(fields) = &fields {
            commands.push(streams::xadd_copy(&self.topic, fields, text));
        }
        commands.push(vec![b"XACK", self.topic.as_bytes(), self.group.as_bytes(), id.as_bytes()]);
        commands.push(vec![b"EXEC"]);
        let exec = redis.pipeline(&commands)?.pop().unwrap_or(Ok(Value::Nil))?;
        let failed = match expect_ok(exec, "EXEC", &self.topic)? {
            Value::Array(results) => results.into_iter().find_map(|r| match r {
                Value::Error(message) => Some(message),
                _ => None,
            }),
            _ => Some(String::from("the transaction was not run")),
        };
        match failed {
            Some(why) => Err(shape_error(&self.topic, format!("handing back entry {} failed: {}", id, why))),
            None => Ok(()),
        }
    }

    /// Takes over messages other consumers of the group left pending past `processingTimeout`.
    fn reclaim(&mut self, redis: &mut Redis, count: usize) -> Result<Vec<Message>, Error> {
        let config = redis.config();
        let (idle, interval) = (config.processing_timeout_ms.to_string(), config.redeliver_interval_ms);
        let count = count.to_string();
        let args: [&[u8]; 8] = [
            b"XAUTOCLAIM",
            self.topic.as_bytes(),
            self.group.as_bytes(),
            self.consumer.as_bytes(),
            idle.as_bytes(),
            self.reclaim_cursor.as_bytes(),
            b"COUNT",
            count.as_bytes(),
        ];
        let reply = match group_call(redis, (&self.topic, &self.group), &mut self.acks, &args, 0)? {
            Value::Error(message) if message.starts_with("ERR unknown command") => {
                log::warn(&format!(
                    "redis at {} has no XAUTOCLAIM (it needs Redis 6.2 or later): messages a crashed subscriber of topic {:?} left pending are not taken over",
                    redis.config().address(),
                    self.topic
                ));
                self.reclaim_due_ns = u64::MAX;
                return Ok(Vec::new());
            }
            reply => expect_ok(reply, "XAUTOCLAIM", &self.topic)?,
        };
        let (cursor, entries) = streams::autoclaim_entries(reply).map_err(|why| shape_error(&self.topic, why))?;
        let now = clock::monotonic_ns();
        // A scan that has not reached the end of the pending list goes on at the next chance.
        self.reclaim_due_ns = if cursor == "0-0" { now + interval * NS_PER_MS } else { now };
        self.reclaim_cursor = cursor;
        let claimed = messages(&self.topic, entries);
        if !claimed.is_empty() {
            log::info(&format!(
                "took over {} message(s) of topic {:?} left pending by another consumer",
                claimed.len(),
                self.topic
            ));
        }
        Ok(claimed)
    }

    /// New messages, waiting up to `block_ms` for the first (none: not at all).
    fn read_new(&mut self, redis: &mut Redis, count: usize, block_ms: u64) -> Result<Vec<Message>, Error> {
        let (count, block) = (count.to_string(), block_ms.to_string());
        let mut args: Vec<&[u8]> =
            vec![b"XREADGROUP", b"GROUP", self.group.as_bytes(), self.consumer.as_bytes(), b"COUNT", count.as_bytes()];
        // BLOCK 0 would wait forever.
        if block_ms > 0 {
            args.extend_from_slice(&[b"BLOCK", block.as_bytes()]);
        }
        args.extend_from_slice(&[b"STREAMS", self.topic.as_bytes(), b">"]);
        let reply = group_call(redis, (&self.topic, &self.group), &mut self.acks, &args, block_ms.min(u64::from(u32::MAX)) as u32)?;
        let reply = expect_ok(reply, "XREADGROUP", &self.topic)?;
        let entries = streams::read_group_entries(reply).map_err(|why| shape_error(&self.topic, why))?;
        Ok(messages(&self.topic, entries))
    }

    fn pull(&mut self, redis: &mut Redis, count: usize, timeout_ms: u32) -> Result<Vec<Message>, Error> {
        if !self.retry.is_empty() {
            let retried = self.take_retries(redis, count)?;
            if !retried.is_empty() {
                return Ok(retried);
            }
        }
        let reclaims = redis.config().reclaims();
        let deadline = clock::monotonic_ns() + u64::from(timeout_ms) * NS_PER_MS;
        loop {
            if reclaims && clock::monotonic_ns() >= self.reclaim_due_ns {
                let claimed = self.reclaim(redis, count)?;
                if !claimed.is_empty() {
                    return Ok(claimed);
                }
            }
            let now = clock::monotonic_ns();
            let mut wait_ns = deadline.saturating_sub(now);
            if reclaims {
                wait_ns = wait_ns.min(self.reclaim_due_ns.saturating_sub(now));
            }
            // Round up: a wait of less than a millisecond is still a wait, not a poll.
            let fresh = self.read_new(redis, count, (wait_ns + NS_PER_MS - 1) / NS_PER_MS)?;
            if !fresh.is_empty() || clock::monotonic_ns() >= deadline {
                return Ok(fresh);
            }
        }
    }
}

impl PubSub for RedisStreams {
    fn init(&mut self, config: Metadata) -> Result<(), Error> {
        let config = Config::parse(&config)?;
        let (address, group) = (config.address(), config.consumer_id.clone());
        let mut redis = Redis::new(config);
        // Fail the load now, with the reason, rather than every call later.
        expect_ok(redis.call(&[b"PING"], 0)?, "PING", "")?;
        log::debug(&format!("pubsub.redis ready: redis at {}, consumer group {:?}", address, group));
        self.redis = Some(redis);
        Ok(())
    }

    fn features(&self) -> &[&str] {
        &[feature::BULK_PUBLISH]
    }

    fn publish(&mut self, req: PublishRequest) -> Result<(), Error> {
        check_topic(&req.topic)?;
        let redis = ready(&mut self.redis)?;
        let text = XAddText::new(redis.config().max_len_approx, &req.metadata);
        let args = streams::xadd(&req.topic, &req.data, req.content_type.as_deref(), &text);
        expect_ok(redis.call(&args, 0)?, "XADD", &req.topic).map(|_| ())
    }

    /// One pipelined `XADD` per entry: one round trip for the lot.
    fn bulk_publish(
        &mut self,
        topic: String,
        entries: Vec<BulkPublishEntry>,
        metadata: Metadata,
    ) -> Result<Vec<BulkPublishFailure>, Error> {
        check_topic(&topic)?;
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let redis = ready(&mut self.redis)?;
        let max_len = redis.config().max_len_approx;
        let texts: Vec<XAddText> = entries
            .iter()
            .map(|entry| {
                let mut entry_metadata = entry.metadata.clone();
                entry_metadata.add_missing(&metadata);
                XAddText::new(max_len, &entry_metadata)
            })
            .collect();
        let commands: Vec<Vec<&[u8]>> = entries
            .iter()
            .zip(&texts)
            .map(|(entry, text)| streams::xadd(&topic, &entry.data, entry.content_type.as_deref(), text))
            .collect();
        let replies = redis.pipeline(&commands)?;
        let mut failures = Vec::new();
        for (entry, reply) in entries.iter().zip(replies) {
            let error = match reply {
                Ok(Value::Error(message)) => refused("XADD", &topic, &message),
                Ok(_) => continue,
                Err(error) => error,
            };
            failures.push(BulkPublishFailure { entry_id: entry.entry_id.clone(), error: error.to_string() });
        }
        Ok(failures)
    }

    /// Joins the topic's consumer group (made if need be, reading from now on): the
    /// subscription's metadata may name its own `consumerID`.
    fn subscribe(&mut self, topic: String, metadata: Metadata) -> Result<u64, Error> {
        check_topic(&topic)?;
        let redis = ready(&mut self.redis)?;
        let group = match metadata.get("consumerID").map(str::trim) {
            Some(id) if !id.is_empty() => String::from(id),
            _ => redis.config().consumer_id.clone(),
        };
        ensure_group(redis, &topic, &group)?;
        let consumer = format!("{}-{}", group, hex(&random::bytes(8)));
        log::debug(&format!("subscribed to topic {:?} as consumer {:?} of group {:?}", topic, consumer, group));
        self.last_subscription += 1;
        let subscription = Subscription {
            topic,
            group,
            consumer,
            retry: Vec::new(),
            acks: UnsentAcks::default(),
            reclaim_cursor: String::from("0-0"),
            reclaim_due_ns: 0,
        };
        self.subscriptions.insert(self.last_subscription, subscription);
        Ok(self.last_subscription)
    }

    fn pull(&mut self, subscription: u64, max_messages: u32, timeout_ms: u32) -> Result<Vec<Message>, Error> {
        let redis = ready(&mut self.redis)?;
        let sub = self.subscriptions.get_mut(&subscription).ok_or_else(|| unknown_subscription(subscription))?;
        if max_messages == 0 {
            // Asks for nothing but the unsent acknowledgements to go now.
            sub.flush_acks(redis)?;
            return Ok(Vec::new());
        }
        sub.pull(redis, max_messages.min(MAX_BATCH) as usize, timeout_ms)
    }

    fn ack(&mut self, subscription: u64, message_id: String, outcome: AckOutcome) -> Result<(), Error> {
        let redis = ready(&mut self.redis)?;
        let sub = self.subscriptions.get_mut(&subscription).ok_or_else(|| unknown_subscription(subscription))?;
        if !streams::is_entry_id(&message_id) {
            return Err(Error::InvalidArgument(format!(
                "message id {:?} is not one pubsub.redis delivered (a stream entry id, <ms>-<seq>)",
                message_id
            )));
        }
        match outcome {
            AckOutcome::Retry => {
                if !sub.retry.contains(&message_id) {
                    sub.retry.push(message_id);
                }
                Ok(())
            }
            AckOutcome::Success | AckOutcome::Drop => {
                sub.retry.retain(|id| *id != message_id);
                sub.acks.ids.push(message_id);
                if sub.acks.ids.len() < MAX_UNSENT_ACKS {
                    return Ok(());
                }
                let flushed = sub.flush_acks(redis);
                // Redis is unreachable: what is not acknowledged is redelivered (after
                // processingTimeout), rather than held here without bound.
                if flushed.is_err() {
                    sub.acks.ids.clear();
                }
                flushed
            }
        }
    }

    /// Forgets the subscription, hands what is pending for it back to its group, and removes
    /// its consumer. Answers `Ok` even when Redis is down: the subscription is gone, and what
    /// it could not hand back another subscription takes over after `processingTimeout`.
    fn unsubscribe(&mut self, subscription: u64) -> Result<(), Error> {
        let mut sub = match self.subscriptions.remove(&subscription) {
            Some(sub) => sub,
            None => return Ok(()),
        };
        let redis = ready(&mut self.redis)?;
        // Acknowledged messages are sent as such first, lest they be handed back.
        let done = sub.flush_acks(redis).and_then(|()| sub.hand_back(redis)).and_then(|()| {
            let args: [&[u8]; 5] =
                [b"XGROUP", b"DELCONSUMER", sub.topic.as_bytes(), sub.group.as_bytes(), sub.consumer.as_bytes()];
            expect_ok(redis.call(&args, 0)?, "XGROUP DELCONSUMER", &sub.topic).map(|_| ())
        });
        if let Err(error) = done {
            log::warn(&format!(
                "unsubscribed from topic {:?} but left consumer {:?} in group {:?}: {}; another subscription takes over its pending messages after processingTimeout",
                sub.topic, sub.consumer, sub.group, error
            ));
        }
        Ok(())
    }

    fn ping(&mut self) -> Result<(), Error> {
        expect_ok(ready(&mut self.redis)?.call(&[b"PING"], 0)?, "PING", "").map(|_| ())
    }
}
