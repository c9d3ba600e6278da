// An invocation as Dapr's Redis binding reads it: the operation, the key it acts on
// (`metadata.key`, required), `ttlInSeconds` for `create` and `increment`, and `delete` for
// a `get` that removes the key as it reads it. A bad request is refused here, before any
// command is sent.
use tessera_sdk::{unsupported_operation, Error, Metadata};

/// The operations, as Dapr names them.
pub const OPERATIONS: &[&str] = &["create", "get", "delete", "increment"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `SET key data [EX ttl]`
    Create,
    /// `GET key`, or `GETDEL key` with `delete: "true"`
    Get,
    /// `DEL key`
    Delete,
    /// `INCR key`, then `EXPIRE key ttl`
    Increment,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub operation: Operation,
    pub key: &'a str,
    /// Seconds, as the command takes them.
    pub ttl: Option<String>,
    /// A `get` that deletes the key it read.
    pub delete: bool,
}

impl<'a> Request<'a> {
    pub fn parse(operation: &str, metadata: &'a Metadata) -> Result<Request<'a>, Error> {
        let operation = match operation {
            "create" => Operation::Create,
            "get" => Operation::Get,
            "delete" => Operation::Delete,
            "increment" => Operation::Increment,
            other => return Err(unsupported_operation(other, OPERATIONS)),
        };
        let key = metadata.get("key").filter(|k| !k.is_empty()).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "operation {:?} needs the request metadata \"key\": the Redis key it acts on (e.g. \"metadata\": {{\"key\": \"orders-42\"}})",
                name(operation)
            ))
        })?;
        let ttl = match operation {
            Operation::Create | Operation::Increment => ttl_seconds(metadata)?,
            Operation::Get | Operation::Delete => None,
        };
        let delete = operation == Operation::Get && metadata.get("delete") == Some("true");
        Ok(Request { operation, key, ttl, delete })
    }
}

pub fn name(operation: Operation) -> &'static str {
    match operation {
        Operation::Create => "create",
        Operation::Get => "get",
        Operation::Delete => "delete",
        Operation::Increment => "increment",
    }
}

/// `ttlInSeconds`, as Dapr reads it: absent or empty for none, else a whole number above zero.
fn ttl_seconds(metadata: &Metadata) -> Result<Option<String>, Error> {
    let text = match metadata.get("ttlInSeconds").map(str::trim) {
        None | Some("") => return Ok(None),
        Some(text) => text,
    };
    match text.parse::<i64>() {
        Ok(seconds) if seconds > 0 => Ok(Some(seconds.to_string())),
        Ok(_) => Err(Error::InvalidArgument(format!("ttlInSeconds {:?} must be above zero", text))),
        Err(_) => Err(Error::InvalidArgument(format!("ttlInSeconds {:?} is not a whole number of seconds", text))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(pairs: &[(&str, &str)]) -> Metadata {
        pairs.iter().copied().collect()
    }

    #[test]
    fn reads_the_key_ttl_and_delete() {
        let m = md(&[("key", "k"), ("ttlInSeconds", " 30 ")]);
        assert_eq!(
            Request::parse("create", &m).unwrap(),
            Request { operation: Operation::Create, key: "k", ttl: Some(String::from("30")), delete: false }
        );
        assert_eq!(Request::parse("increment", &m).unwrap().ttl.as_deref(), Some("30"));
        assert_eq!(Request::parse("get", &m).unwrap().ttl, None, "get ignores ttlInSeconds, as Dapr does");
        assert_eq!(Request::parse("delete", &m).unwrap().operation, Operation::Delete);
        assert!(Request::parse("get", &md(&[("key", "k"), ("delete", "true")])).unwrap().delete);
        assert!(!Request::parse("get", &md(&[("key", "k"), ("delete", "no")])).unwrap().delete);
        assert_eq!(Request::parse("create", &md(&[("key", "k"), ("ttlInSeconds", "")])).unwrap().ttl, None);
    }

    #[test]
    fn refuses_a_missing_key_a_bad_ttl_and_an_unknown_operation_naming_them() {
        for (operation, pairs, needle) in [
            ("create", &[][..], "needs the request metadata \"key\""),
            ("get", &[("key", "")][..], "operation \"get\" needs the request metadata \"key\""),
            ("create", &[("key", "k"), ("ttlInSeconds", "0")][..], "ttlInSeconds \"0\" must be above zero"),
            ("increment", &[("key", "k"), ("ttlInSeconds", "-5")][..], "ttlInSeconds \"-5\" must be above zero"),
            ("create", &[("key", "k"), ("ttlInSeconds", "1h")][..], "ttlInSeconds \"1h\" is not a whole number"),
            (
                "list",
                &[("key", "k")][..],
                "operation \"list\" is not supported by this binding; supported operations: create, get, delete, increment",
            ),
        ] {
            match Request::parse(operation, &md(pairs)) {
                Err(Error::InvalidArgument(m)) => assert!(m.contains(needle), "{}", m),
                other => panic!("{} {:?}: {:?}", operation, pairs, other),
            }
        }
    }
}
