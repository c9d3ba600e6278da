// The one Lua script every write runs (a set or a delete is a transaction of one operation):
// it first checks each operation's ETag and first-write rule against the key as the operations
// before it leave it, and only when all pass applies them, so a transaction is all or none
// (Dapr's Redis store applies the operations before a failing one; Redis runs a script
// without interleaving another client's commands). The hash it writes is Dapr's: `data`,
// `version` (the ETag, counted up by HINCRBY) and, after a first-write, `first-write` 0.
use crate::config::Ttl;
use redis_client::resp::Value;
use tessera_sdk::Error;

/// KEYS: one per operation. ARGV: five per operation: `s` or `d`, the ETag (empty: none), the
/// data, `1` for first-write, the TTL (empty: leave it, >0: EXPIRE, else PERSIST). Answers 0,
/// or `{n, reason, current version}` for the first refused operation `n` (from 1).
pub const SCRIPT: &str = r#"
local seen = {}
local function current(key)
  local s = seen[key]
  if s == nil then
    local h = redis.pcall("HMGET", key, "version", "first-write")
    if h.err then
      s = { version = false, marked = false, replace = true }
    else
      s = { version = h[1], marked = h[2] ~= false, replace = false }
    end
    seen[key] = s
  end
  return s
end
for i = 1, #KEYS do
  local b = (i - 1) * 5
  local set, etag, fw = ARGV[b + 1] == "s", ARGV[b + 2], ARGV[b + 4] == "1"
  local s = current(KEYS[i])
  if etag ~= "" then
    if not s.version then return { i, "missing", "" } end
    if s.version ~= etag then return { i, "stale", s.version } end
  elseif set and s.version and fw then
    return { i, "exists", s.version }
  elseif set and s.version and s.marked then
    return { i, "marked", s.version }
  end
  if set then
    s.version = tostring((tonumber(s.version) or 0) + 1)
    s.marked = s.marked or fw
  else
    s.version = false
    s.marked = false
  end
end
for i = 1, #KEYS do
  local b = (i - 1) * 5
  local key, s = KEYS[i], seen[KEYS[i]]
  if s.replace then
    redis.call("DEL", key)
    s.replace = false
  end
  if ARGV[b + 1] == "s" then
    redis.call("HSET", key, "data", ARGV[b + 3])
    if ARGV[b + 4] == "1" then redis.call("HSET", key, "first-write", 0) end
    redis.call("HINCRBY", key, "version", 1)
    local ttl = ARGV[b + 5]
    if ttl ~= "" then
      if tonumber(ttl) > 0 then redis.call("EXPIRE", key, ttl) else redis.call("PERSIST", key) end
    end
  else
    redis.call("DEL", key)
  end
end
return 0
"#;

/// One operation of a script run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    pub key: String,
    /// A decimal ETag, or `None`.
    pub etag: Option<String>,
    pub write: Write,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    Set { data: Vec<u8>, first_write: bool, ttl: Option<Ttl> },
    Delete,
}

impl Operation {
    fn describe(&self) -> String {
        match self.write {
            Write::Set { .. } => format!("set of key {:?}", self.key),
            Write::Delete => format!("delete of key {:?}", self.key),
        }
    }
}

/// The arguments after `EVALSHA <sha>`: the number of keys, the keys, then ARGV.
pub fn arguments(operations: &[Operation]) -> Vec<Vec<u8>> {
    let mut args = Vec::with_capacity(1 + operations.len() * 6);
    args.push(operations.len().to_string().into_bytes());
    args.extend(operations.iter().map(|op| op.key.clone().into_bytes()));
    for op in operations {
        let etag = op.etag.clone().unwrap_or_default().into_bytes();
        match &op.write {
            Write::Set { data, first_write, ttl } => {
                let ttl = ttl.map(Ttl::script_arg).unwrap_or_default();
                args.extend([b"s".to_vec(), etag, data.clone(), vec![if *first_write { b'1' } else { b'0' }], ttl.into_bytes()]);
            }
            Write::Delete => args.extend([b"d".to_vec(), etag, Vec::new(), b"0".to_vec(), Vec::new()]),
        }
    }
    args
}

/// The script's answer: `Ok` when everything was applied, else the refusal of the operation
/// that stopped it. `in_transaction` adds which operation it was and that none was applied.
pub fn outcome(reply: Value, operations: &[Operation], in_transaction: bool) -> Result<(), Error> {
    let refusal = match reply {
        Value::Integer(0) => return Ok(()),
        Value::Array(items) => items,
        other => return Err(Error::Internal(format!("the state script answered {:?}", other))),
    };
    let text = |i: usize| refusal.get(i).and_then(Value::as_bytes).map(|b| String::from_utf8_lossy(b).into_owned());
    let (index, reason, current) = match (refusal.first(), text(1), text(2)) {
        (Some(Value::Integer(n)), Some(reason), Some(current)) if *n >= 1 && (*n as usize) <= operations.len() => {
            (*n as usize - 1, reason, current)
        }
        _ => return Err(Error::Internal(format!("the state script answered {:?}", refusal))),
    };
    let op = &operations[index];
    let etag = op.etag.as_deref().unwrap_or_default();
    let message = match reason.as_str() {
        "missing" => format!("key {:?} does not exist, so ETag {:?} cannot match", op.key, etag),
        "stale" => format!(
            "ETag {:?} does not match key {:?} (now at ETag {:?}): read it again and retry",
            etag, op.key, current
        ),
        "exists" => {
            format!("key {:?} already exists: a first-write without an ETag only inserts a missing key", op.key)
        }
        "marked" => format!(
            "key {:?} was written with first-write concurrency (its hash has Dapr's first-write field): write it with its ETag",
            op.key
        ),
        other => return Err(Error::Internal(format!("the state script refused {} for {:?}", op.describe(), other))),
    };
    Err(Error::EtagMismatch(if in_transaction {
        format!("transaction operation {} ({}) refused, nothing applied: {}", index + 1, op.describe(), message)
    } else {
        message
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(key: &str, etag: Option<&str>) -> Operation {
        Operation {
            key: String::from(key),
            etag: etag.map(String::from),
            write: Write::Set { data: b"v".to_vec(), first_write: true, ttl: Some(Ttl::Expire(5)) },
        }
    }

    #[test]
    fn encodes_keys_then_five_arguments_per_operation() {
        let ops = [set("a", Some("3")), Operation { key: String::from("b"), etag: None, write: Write::Delete }];
        let args: Vec<String> = arguments(&ops).into_iter().map(|a| String::from_utf8(a).unwrap()).collect();
        assert_eq!(args, ["2", "a", "b", "s", "3", "v", "1", "5", "d", "", "", "0", ""]);
    }

    #[test]
    fn reads_the_refusal_as_an_etag_mismatch_naming_the_operation() {
        let ops = [set("a", None), set("b", Some("3"))];
        assert_eq!(outcome(Value::Integer(0), &ops, true), Ok(()));
        let reply =
            Value::Array(vec![Value::Integer(2), Value::Bulk(b"stale".to_vec()), Value::Bulk(b"4".to_vec())]);
        match outcome(reply.clone(), &ops, true) {
            Err(Error::EtagMismatch(m)) => assert_eq!(
                m,
                "transaction operation 2 (set of key \"b\") refused, nothing applied: ETag \"3\" does not match key \"b\" (now at ETag \"4\"): read it again and retry"
            ),
            other => panic!("{:?}", other),
        }
        assert!(matches!(outcome(reply, &ops, false), Err(Error::EtagMismatch(m)) if m.starts_with("ETag \"3\"")));
        assert!(matches!(outcome(Value::Array(vec![Value::Integer(9)]), &ops, false), Err(Error::Internal(_))));
    }
}
