// How a message lives in a Redis stream, and how the stream commands' replies read: an entry
// per message with the fields `data` (the bytes), `contentType` and `metadata` (a JSON object),
// as Dapr's Redis pub/sub writes them.
use crate::metadata_json;
use redis_client::resp::Value;
use tessera_sdk::{Message, Metadata};

pub const DATA: &[u8] = b"data";
pub const CONTENT_TYPE: &[u8] = b"contentType";
pub const METADATA: &[u8] = b"metadata";

/// The owned text an `XADD` borrows: the trim length and the metadata's JSON.
pub struct XAddText {
    max_len: Option<String>,
    metadata: Option<String>,
}

impl XAddText {
    pub fn new(max_len_approx: Option<u64>, metadata: &Metadata) -> XAddText {
        XAddText {
            max_len: max_len_approx.map(|n| n.to_string()),
            metadata: if metadata.is_empty() { None } else { Some(metadata_json::encode(metadata)) },
        }
    }
}

/// `XADD <topic> [MAXLEN ~ <n>] * data <bytes> [contentType <ct>] [metadata <json>]`.
pub fn xadd<'a>(topic: &'a str, data: &'a [u8], content_type: Option<&'a str>, text: &'a XAddText) -> Vec<&'a [u8]> {
    let mut args = xadd_head(topic, text);
    args.extend_from_slice(&[DATA, data]);
    if let Some(ct) = content_type {
        args.extend_from_slice(&[CONTENT_TYPE, ct.as_bytes()]);
    }
    if let Some(json) = &text.metadata {
        args.extend_from_slice(&[METADATA, json.as_bytes()]);
    }
    args
}

/// `XADD <topic> [MAXLEN ~ <n>] * <field> <value> ...`: an entry's fields as they were.
pub fn xadd_copy<'a>(topic: &'a str, fields: &'a [Vec<u8>], text: &'a XAddText) -> Vec<&'a [u8]> {
    let mut args = xadd_head(topic, text);
    args.extend(fields.iter().map(Vec::as_slice));
    args
}

fn xadd_head<'a>(topic: &'a str, text: &'a XAddText) -> Vec<&'a [u8]> {
    let mut args: Vec<&[u8]> = vec![b"XADD", topic.as_bytes()];
    if let Some(n) = &text.max_len {
        args.extend_from_slice(&[b"MAXLEN", b"~", n.as_bytes()]);
    }
    args.push(b"*");
    args
}

/// Whether `id` is a stream entry id, `<ms>-<seq>`: anything else would fail a whole command.
pub fn is_entry_id(id: &str) -> bool {
    match id.split_once('-') {
        Some((ms, seq)) => {
            [ms, seq].iter().all(|n| !n.is_empty() && n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit()))
        }
        None => false,
    }
}

/// Why a reply could not be read. Never the reply itself: it may hold megabytes of data.
fn malformed(command: &str) -> String {
    format!("redis answered {} with a reply of an unexpected shape", command)
}

/// `XREADGROUP ... STREAMS <topic> >`: nil when the block timed out, else
/// `[[topic, [entry, ...]]]`.
pub fn read_group_entries(reply: Value) -> Result<Vec<Value>, String> {
    if reply == Value::Nil {
        return Ok(Vec::new());
    }
    let mut streams = reply.into_array().ok_or_else(|| malformed("XREADGROUP"))?;
    match streams.pop() {
        None => Ok(Vec::new()),
        Some(stream) => stream
            .into_array()
            .filter(|pair| pair.len() == 2)
            .and_then(|mut pair| pair.pop())
            .and_then(Value::into_array)
            .ok_or_else(|| malformed("XREADGROUP")),
    }
}

/// `XAUTOCLAIM`: `[next-cursor, [entry, ...], [deleted-id, ...]]` (Redis 7; 6.2 has no third part).
pub fn autoclaim_entries(reply: Value) -> Result<(String, Vec<Value>), String> {
    let mut parts = reply.into_array().filter(|p| p.len() >= 2).ok_or_else(|| malformed("XAUTOCLAIM"))?;
    parts.truncate(2);
    let entries = parts.pop().and_then(Value::into_array).ok_or_else(|| malformed("XAUTOCLAIM"))?;
    let cursor =
        parts.pop().as_ref().and_then(Value::as_bytes).and_then(|b| core::str::from_utf8(b).ok()).map(String::from);
    Ok((cursor.ok_or_else(|| malformed("XAUTOCLAIM"))?, entries))
}

/// `XCLAIM`: `[entry, ...]`.
pub fn claim_entries(reply: Value) -> Result<Vec<Value>, String> {
    reply.into_array().ok_or_else(|| malformed("XCLAIM"))
}

/// `XPENDING <topic> <group> - + <n> <consumer>`: `[[id, consumer, idle-ms, deliveries], ...]`.
pub fn pending_ids(reply: Value) -> Result<Vec<String>, String> {
    let entries = reply.into_array().ok_or_else(|| malformed("XPENDING"))?;
    entries
        .into_iter()
        .map(|entry| {
            let first = entry.into_array().and_then(|mut e| if e.is_empty() { None } else { Some(e.swap_remove(0)) });
            first
                .as_ref()
                .and_then(Value::as_bytes)
                .and_then(|b| String::from_utf8(b.to_vec()).ok())
                .ok_or_else(|| malformed("XPENDING"))
        })
        .collect()
}

/// `XRANGE <topic> <id> <id>`: the entry's fields and values in order, `None` once it is gone.
pub fn range_entry_fields(reply: Value) -> Result<Option<Vec<Vec<u8>>>, String> {
    let entry = match reply.into_array().ok_or_else(|| malformed("XRANGE"))?.pop() {
        None => return Ok(None),
        Some(entry) => entry,
    };
    let fields =
        entry.into_array().filter(|p| p.len() == 2).and_then(|mut p| p.pop()).ok_or_else(|| malformed("XRANGE"))?;
    if fields == Value::Nil {
        return Ok(None);
    }
    let fields = fields.into_array().ok_or_else(|| malformed("XRANGE"))?;
    fields
        .into_iter()
        .map(|f| f.as_bytes().map(<[u8]>::to_vec).ok_or_else(|| malformed("XRANGE")))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// An entry `[id, [field, value, ...]]` as a message of `topic`, with why its metadata could
/// not be read if so (it is then delivered without). `None` for an entry deleted from the
/// stream (nil, or nil fields) and for one that is not an entry at all.
pub fn message(topic: &str, entry: Value) -> Option<(Message, Option<String>)> {
    let mut parts = entry.into_array().filter(|p| p.len() == 2)?;
    let fields = parts.pop()?.into_array()?;
    let id = String::from_utf8(parts.pop()?.as_bytes()?.to_vec()).ok()?;
    let mut message =
        Message { id, topic: String::from(topic), data: Vec::new(), content_type: None, metadata: Metadata::new() };
    let mut unreadable = None;
    let mut fields = fields.into_iter();
    while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
        let value = match value {
            Value::Bulk(bytes) => bytes,
            _ => continue,
        };
        match name.as_bytes() {
            Some(DATA) => message.data = value,
            Some(CONTENT_TYPE) => message.content_type = String::from_utf8(value).ok(),
            Some(METADATA) => match metadata_json::decode(&value) {
                Ok(metadata) => message.metadata = metadata,
                Err(why) => unreadable = Some(why),
            },
            _ => {}
        }
    }
    Some((message, unreadable))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &[u8]) -> Value {
        Value::Bulk(s.to_vec())
    }

    fn entry(id: &str, fields: &[&[u8]]) -> Value {
        Value::Array(vec![bulk(id.as_bytes()), Value::Array(fields.iter().map(|f| bulk(f)).collect())])
    }

    #[test]
    fn xadd_writes_only_the_fields_a_message_has() {
        let md: Metadata = [("k", "v")].iter().copied().collect();
        let text = XAddText::new(Some(100), &md);
        assert_eq!(
            xadd("t", b"\x00\xff", Some("application/octet-stream"), &text),
            vec![
                &b"XADD"[..],
                b"t",
                b"MAXLEN",
                b"~",
                b"100",
                b"*",
                b"data",
                b"\x00\xff",
                b"contentType",
                b"application/octet-stream",
                b"metadata",
                b"{\"k\":\"v\"}"
            ]
        );
        let plain = XAddText::new(None, &Metadata::new());
        assert_eq!(xadd("t", b"", None, &plain), vec![&b"XADD"[..], b"t", b"*", b"data", b""]);
        let fields = vec![b"data".to_vec(), b"x".to_vec(), b"other".to_vec(), b"y".to_vec()];
        assert_eq!(
            xadd_copy("t", &fields, &text),
            vec![&b"XADD"[..], b"t", b"MAXLEN", b"~", b"100", b"*", b"data", b"x", b"other", b"y"]
        );
    }

    #[test]
    fn entry_ids() {
        assert!(is_entry_id("1700000000000-0"));
        assert!(is_entry_id("0-1"));
        for bad in ["", "1", "-1", "1-", "1-x", "a-1", "1-2-3", "1 -2", "+", "$"] {
            assert!(!is_entry_id(bad), "{}", bad);
        }
    }

    #[test]
    fn reads_messages_out_of_entries() {
        let e = entry(
            "5-1",
            &[b"data", b"\x00bin\r\n", b"contentType", b"text/plain", b"metadata", b"{\"a\":\"b\"}", b"other", b"x"],
        );
        let (m, unreadable) = message("orders", e).unwrap();
        assert_eq!(unreadable, None);
        assert_eq!((m.id.as_str(), m.topic.as_str(), m.data.as_slice()), ("5-1", "orders", &b"\x00bin\r\n"[..]));
        assert_eq!((m.content_type.as_deref(), m.metadata.get("a")), (Some("text/plain"), Some("b")));
        let (bare, unreadable) = message("t", entry("6-0", &[b"data", b"x", b"metadata", b"not json"])).unwrap();
        assert_eq!((bare.content_type, bare.metadata.len()), (None, 0));
        assert_eq!(unreadable.as_deref(), Some("expected '{' at byte 0"));
        assert_eq!(message("t", Value::Nil), None);
        assert_eq!(message("t", Value::Array(vec![bulk(b"7-0"), Value::Nil])), None);
    }

    #[test]
    fn reads_each_command_reply() {
        assert_eq!(read_group_entries(Value::Nil), Ok(Vec::new()));
        let read =
            Value::Array(vec![Value::Array(vec![bulk(b"t"), Value::Array(vec![entry("1-0", &[b"data", b"a"])])])]);
        assert_eq!(read_group_entries(read).unwrap().len(), 1);
        assert!(read_group_entries(Value::Integer(1)).is_err());

        let claimed =
            Value::Array(vec![bulk(b"0-0"), Value::Array(vec![entry("1-0", &[]), Value::Nil]), Value::Array(vec![])]);
        let (cursor, entries) = autoclaim_entries(claimed).unwrap();
        assert_eq!((cursor.as_str(), entries.len()), ("0-0", 2));
        let old = Value::Array(vec![bulk(b"3-0"), Value::Array(vec![])]);
        assert_eq!(autoclaim_entries(old), Ok((String::from("3-0"), Vec::new())));
        assert!(autoclaim_entries(Value::Array(vec![bulk(b"0-0")])).is_err());

        let pending =
            Value::Array(vec![Value::Array(vec![bulk(b"1-0"), bulk(b"c"), Value::Integer(5), Value::Integer(1)])]);
        assert_eq!(pending_ids(pending), Ok(vec![String::from("1-0")]));
        assert_eq!(pending_ids(Value::Array(vec![])), Ok(Vec::new()));
        assert!(pending_ids(Value::Array(vec![Value::Integer(1)])).is_err());

        let range = Value::Array(vec![entry("1-0", &[b"data", b"\x00"])]);
        assert_eq!(range_entry_fields(range), Ok(Some(vec![b"data".to_vec(), b"\x00".to_vec()])));
        assert_eq!(range_entry_fields(Value::Array(vec![])), Ok(None));
        assert!(range_entry_fields(Value::Nil).is_err());

        assert_eq!(claim_entries(Value::Array(vec![entry("1-0", &[])])).unwrap().len(), 1);
        assert!(claim_entries(Value::Error(String::from("ERR"))).is_err());
    }
}
