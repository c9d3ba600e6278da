// bindings.redis: Dapr's Redis output binding. One connection per instance (the host pools
// instances), opened at init to fail the load early and again after any failure; every
// operation is one command, `increment` with a TTL two (INCR, then EXPIRE once it counted).
use crate::request::{Operation, Request, OPERATIONS};
use redis_client::resp::Value;
use redis_client::{refused, Redis, Reply, Settings};
use tessera_sdk::{log, Binding, Error, InvokeResponse, Metadata, OutputBinding};

#[derive(Default)]
pub struct RedisBinding {
    /// Set by `init`, which the host calls before anything else.
    redis: Option<Redis<Settings>>,
}

impl RedisBinding {
    fn redis(&mut self) -> Result<&mut Redis<Settings>, Error> {
        self.redis.as_mut().ok_or_else(|| Error::Internal(String::from("bindings.redis was called before init")))
    }
}

/// A reply, with an error reply as the error of the call. `what` names the command and key.
fn expect_ok(reply: Reply, what: &str) -> Result<Value, Error> {
    match reply? {
        Value::Error(message) if message.contains("not an integer") || message.contains("overflow") => {
            Err(Error::InvalidArgument(format!("redis refused {}: {}", what, message)))
        }
        Value::Error(message) if message.contains("invalid expire time") => Err(Error::InvalidArgument(format!(
            "redis refused {}: {} (ttlInSeconds is too large)",
            what, message
        ))),
        Value::Error(message) => Err(refused(what, &message, "a string")),
        value => Ok(value),
    }
}

impl Binding for RedisBinding {
    fn init(&mut self, config: Metadata) -> Result<(), Error> {
        let settings = Settings::parse(&config)?;
        let address = settings.address();
        let mut redis = Redis::new(settings);
        // Fail the load now, with the reason, rather than every call later.
        expect_ok(redis.call(&[b"PING"], 0), "PING")?;
        log::debug(&format!("bindings.redis ready: redis at {}", address));
        self.redis = Some(redis);
        Ok(())
    }

    fn ping(&mut self) -> Result<(), Error> {
        expect_ok(self.redis()?.call(&[b"PING"], 0), "PING").map(|_| ())
    }
}

impl OutputBinding for RedisBinding {
    fn operations(&self) -> &[&str] {
        OPERATIONS
    }

    fn invoke(&mut self, operation: &str, data: Vec<u8>, metadata: Metadata) -> Result<InvokeResponse, Error> {
        let req = Request::parse(operation, &metadata)?;
        let key = req.key.as_bytes();
        let what = |command: &str| format!("{} on key {:?}", command, req.key);
        let redis = self.redis()?;
        match req.operation {
            Operation::Create => {
                let mut args: Vec<&[u8]> = vec![b"SET", key, &data];
                if let Some(ttl) = &req.ttl {
                    args.extend_from_slice(&[b"EX", ttl.as_bytes()]);
                }
                expect_ok(redis.call(&args, 0), &what("SET"))?;
            }
            Operation::Get => {
                let command: &[u8] = if req.delete { b"GETDEL" } else { b"GET" };
                let command_name = if req.delete { "GETDEL" } else { "GET" };
                return match expect_ok(redis.call(&[command, key], 0), &what(command_name))? {
                    // A missing key answers no data, as Dapr's binding does.
                    Value::Nil => Ok(InvokeResponse::default()),
                    Value::Bulk(value) => Ok(InvokeResponse::with_data(value)),
                    other => Err(Error::Internal(format!("redis answered {} with {:?}", what(command_name), other))),
                };
            }
            Operation::Delete => {
                expect_ok(redis.call(&[b"DEL", key], 0), &what("DEL"))?;
            }
            Operation::Increment => {
                expect_ok(redis.call(&[b"INCR", key], 0), &what("INCR"))?;
                if let Some(ttl) = &req.ttl {
                    expect_ok(redis.call(&[b"EXPIRE", key, ttl.as_bytes()], 0), &what("EXPIRE"))?;
                }
            }
        }
        Ok(InvokeResponse::default())
    }
}
