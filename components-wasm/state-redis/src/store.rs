// state.redis: each operation is one round trip. A read is HGETALL and PTTL in one pipeline;
// every write (set, delete, transaction) is the one Lua script of script.rs, run by EVALSHA
// (loaded with SCRIPT LOAD on first use, and again after a restarted Redis answers NOSCRIPT).
// One connection per instance (the host pools instances), opened at init to fail the load
// early, and again after any failure.
use crate::config::{parse_ttl, Config, Ttl};
use crate::script::{arguments, outcome, Operation, Write, SCRIPT};
use redis_client::resp::Value;
use redis_client::{refused, Redis, Reply};
use tessera_sdk::time::format_rfc3339;
use tessera_sdk::{
    clock, feature, log, BulkGetItem, Concurrency, DeleteRequest, Error, GetRequest, GetResponse, Metadata,
    SetRequest, StateError, StateStore, TransactOperation,
};

#[derive(Default)]
pub struct RedisStore {
    /// Set by `init`, which the host calls before anything else.
    redis: Option<Redis<Config>>,
    /// The script's SHA1 as SCRIPT LOAD answered it, once loaded.
    sha: Option<String>,
}

impl RedisStore {
    fn redis(&mut self) -> Result<&mut Redis<Config>, Error> {
        self.redis.as_mut().ok_or_else(|| Error::Internal(String::from("state.redis was called before init")))
    }

    /// Runs `f` on the connection; when it fails as `unavailable` on a connection opened
    /// before (Redis restarted since), once more on a new one.
    fn with_retry<T>(&mut self, f: impl Fn(&mut Redis<Config>) -> Result<T, Error>) -> Result<T, Error> {
        let redis = self.redis()?;
        let retry = redis.config().retry && redis.is_connected();
        match f(redis) {
            Err(Error::Unavailable(_)) if retry => f(redis),
            other => other,
        }
    }

    fn call(&mut self, args: &[&[u8]]) -> Reply {
        self.with_retry(|redis| redis.call(args, 0))
    }

    /// The items under `keys`, read in one pipeline.
    fn read(&mut self, keys: &[&str]) -> Result<Vec<Result<Option<GetResponse>, Error>>, Error> {
        let commands: Vec<Vec<&[u8]>> =
            keys.iter().flat_map(|k| [vec![&b"HGETALL"[..], k.as_bytes()], vec![&b"PTTL"[..], k.as_bytes()]]).collect();
        let mut replies = self.with_retry(|redis| redis.pipeline(&commands))?.into_iter();
        let now = clock::now_ms();
        Ok(keys
            .iter()
            .map(|key| {
                let (hash, ttl) = (replies.next().unwrap_or_else(missing), replies.next().unwrap_or_else(missing));
                item(key, hash?, ttl?, now)
            })
            .collect())
    }

    /// Applies `operations` all or none.
    fn write(&mut self, operations: &[Operation], in_transaction: bool) -> Result<(), Error> {
        if operations.is_empty() {
            return Ok(());
        }
        let args = arguments(operations);
        let what = || match operations {
            [one] => format!("the state script on key {:?}", one.key),
            _ => format!("the state script on a transaction of {} operations", operations.len()),
        };
        // A restarted Redis has forgotten the script: load it again, once.
        for _ in 0..2 {
            let sha = self.script_sha()?;
            let mut command: Vec<&[u8]> = vec![b"EVALSHA", sha.as_bytes()];
            command.extend(args.iter().map(Vec::as_slice));
            match self.call(&command)? {
                Value::Error(message) if message.starts_with("NOSCRIPT") => self.sha = None,
                Value::Error(message) => return Err(refused(&what(), &message, "a hash")),
                reply => return outcome(reply, operations, in_transaction),
            }
        }
        Err(Error::Unavailable(format!("redis forgot {} as soon as it was loaded", what())))
    }

    fn script_sha(&mut self) -> Result<String, Error> {
        if let Some(sha) = &self.sha {
            return Ok(sha.clone());
        }
        let sha = match self.call(&[b"SCRIPT", b"LOAD", SCRIPT.as_bytes()])? {
            Value::Bulk(sha) => String::from_utf8_lossy(&sha).into_owned(),
            Value::Error(message) => return Err(refused("SCRIPT LOAD (the state script)", &message, "")),
            other => return Err(Error::Internal(format!("redis answered SCRIPT LOAD with {:?}", other))),
        };
        self.sha = Some(sha.clone());
        Ok(sha)
    }

    fn ttl_of(&self, key: &str, metadata: &Metadata) -> Result<Option<Ttl>, Error> {
        let default = self.redis.as_ref().and_then(|r| r.config().default_ttl);
        match parse_ttl(metadata.get("ttlInSeconds")) {
            Ok(ttl) => Ok(ttl.or(default)),
            Err(text) => Err(Error::InvalidArgument(format!(
                "ttlInSeconds {:?} for key {:?} is not a whole number of seconds up to 2147483647",
                text, key
            ))),
        }
    }

    fn set_operation(&self, req: SetRequest) -> Result<Operation, Error> {
        let ttl = self.ttl_of(&req.key, &req.metadata)?;
        let etag = checked_etag(&req.key, req.etag)?;
        let first_write = req.concurrency == Concurrency::FirstWrite;
        Ok(Operation { key: req.key, etag, write: Write::Set { data: req.value, first_write, ttl } })
    }
}

fn missing() -> Reply {
    Err(Error::Internal(String::from("redis answered fewer replies than commands")))
}

/// An ETag as the request gave it: none (an empty one counts as none, as in Dapr), or a
/// decimal number, as the `version` field holds.
fn checked_etag(key: &str, etag: Option<String>) -> Result<Option<String>, Error> {
    match etag.filter(|e| !e.is_empty()) {
        Some(e) if !e.bytes().all(|c| c.is_ascii_digit()) => Err(Error::EtagInvalid(format!(
            "ETag {:?} for key {:?} is not valid: this store's ETags are decimal numbers",
            e, key
        ))),
        etag => Ok(etag),
    }
}

fn delete_operation(req: DeleteRequest) -> Result<Operation, Error> {
    let etag = checked_etag(&req.key, req.etag)?;
    Ok(Operation { key: req.key, etag, write: Write::Delete })
}

/// The item HGETALL and PTTL describe: its `data`, its `version` as the ETag, and when it
/// expires as `ttlExpireTime`.
fn item(key: &str, hash: Value, ttl: Value, now_ms: u64) -> Result<Option<GetResponse>, Error> {
    let fields = match hash {
        Value::Array(fields) => fields,
        Value::Error(message) => return Err(refused(&format!("HGETALL on key {:?}", key), &message, "a hash")),
        other => return Err(Error::Internal(format!("redis answered HGETALL on key {:?} with {:?}", key, other))),
    };
    if fields.is_empty() {
        return Ok(None);
    }
    let mut found = GetResponse::default();
    for pair in fields.chunks(2) {
        match (pair[0].as_bytes(), pair.get(1)) {
            (Some(b"data"), Some(Value::Bulk(data))) => found.value = data.clone(),
            (Some(b"version"), Some(version)) => {
                found.etag = version.as_bytes().map(|v| String::from_utf8_lossy(v).into_owned())
            }
            _ => {}
        }
    }
    if let Value::Integer(ms) = ttl {
        if ms > 0 {
            found.metadata.set("ttlExpireTime", format_rfc3339(now_ms + ms as u64));
        }
    }
    Ok(Some(found))
}

impl StateStore for RedisStore {
    fn init(&mut self, config: Metadata) -> Result<(), StateError> {
        let config = Config::parse(&config)?;
        let address = config.settings.address();
        self.redis = Some(Redis::new(config));
        // Fail the load now, with the reason, rather than every call later.
        self.ping()?;
        log::debug(&format!("state.redis ready: redis at {}", address));
        Ok(())
    }

    fn features(&self) -> &[&str] {
        &[feature::ETAG, feature::TRANSACTIONAL, feature::TTL]
    }

    fn get(&mut self, req: GetRequest) -> Result<Option<GetResponse>, StateError> {
        self.read(&[&req.key])?.pop().unwrap_or(Ok(None))
    }

    fn bulk_get(&mut self, reqs: Vec<GetRequest>) -> Result<Vec<BulkGetItem>, StateError> {
        let keys: Vec<&str> = reqs.iter().map(|r| r.key.as_str()).collect();
        let items = self.read(&keys)?;
        Ok(reqs
            .into_iter()
            .zip(items)
            .map(|(req, item)| match item {
                Ok(response) => BulkGetItem { key: req.key, response, error: None },
                Err(error) => BulkGetItem { key: req.key, response: None, error: Some(error.into_message()) },
            })
            .collect())
    }

    fn set(&mut self, req: SetRequest) -> Result<(), StateError> {
        let operation = self.set_operation(req)?;
        self.write(&[operation], false)
    }

    fn delete(&mut self, req: DeleteRequest) -> Result<(), StateError> {
        let operation = delete_operation(req)?;
        self.write(&[operation], false)
    }

    fn transact(&mut self, operations: Vec<TransactOperation>, _metadata: Metadata) -> Result<(), StateError> {
        let operations = operations
            .into_iter()
            .map(|op| match op {
                TransactOperation::Set(req) => self.set_operation(req),
                TransactOperation::Delete(req) => delete_operation(req),
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.write(&operations, true)
    }

    fn ping(&mut self) -> Result<(), StateError> {
        match self.call(&[b"PING"])? {
            Value::Error(message) => Err(refused("PING", &message, "")),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::Bulk(s.as_bytes().to_vec())
    }

    #[test]
    fn reads_dapr_s_hash() {
        let hash = Value::Array(vec![bulk("data"), bulk("\"v\""), bulk("version"), bulk("7"), bulk("first-write"), bulk("0")]);
        let found = item("k", hash.clone(), Value::Integer(-1), 0).unwrap().unwrap();
        assert_eq!((found.value.as_slice(), found.etag.as_deref()), (&b"\"v\""[..], Some("7")));
        assert!(found.metadata.is_empty());
        let found = item("k", hash, Value::Integer(60_000), 1_764_000_000_000).unwrap().unwrap();
        assert_eq!(found.metadata.get("ttlExpireTime"), Some("2025-11-24T16:01:00Z"));
        assert_eq!(item("k", Value::Array(vec![]), Value::Integer(-2), 0).unwrap(), None);
        assert!(matches!(item("k", Value::Error(String::from("WRONGTYPE x")), Value::Integer(-1), 0), Err(Error::InvalidArgument(_))));
    }

    #[test]
    fn checks_etags_are_decimal() {
        assert_eq!(checked_etag("k", Some(String::new())).unwrap(), None);
        assert_eq!(checked_etag("k", Some(String::from("12"))).unwrap().as_deref(), Some("12"));
        assert!(matches!(checked_etag("k", Some(String::from("W/x"))), Err(Error::EtagInvalid(m)) if m.contains("\"W/x\"")));
    }
}
