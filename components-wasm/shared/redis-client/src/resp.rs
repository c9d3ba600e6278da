// RESP2, the Redis protocol: commands encoded as arrays of bulk strings, and an incremental
// reply parser. Replies arrive over TCP in pieces of any size, so `parse` answers `None` until
// a whole reply is buffered; it first measures the reply without allocating (skipping a bulk
// string's payload by its length), so a large reply that trickles in is not decoded again
// for every piece.

/// A reply. Bulk strings stay bytes: stream fields carry binary message data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `+OK`
    Simple(String),
    /// `-ERR ...`: the command failed, the connection is fine.
    Error(String),
    /// `:42`
    Integer(i64),
    /// `$3\r\nabc`
    Bulk(Vec<u8>),
    /// `$-1` or `*-1`: no value (a blocking read that timed out, a deleted entry).
    Nil,
    /// `*2\r\n...`
    Array(Vec<Value>),
}

impl Value {
    /// The bytes of a bulk or simple string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bulk(b) => Some(b),
            Value::Simple(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    pub fn into_array(self) -> Option<Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }
}

/// Bytes that are not RESP2: the connection can no longer be trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

/// Redis refuses bulk strings over 512 MiB (`proto-max-bulk-len`).
const MAX_BULK_LEN: usize = 512 * 1024 * 1024;
/// Stream replies nest four deep; anything near this is not a reply we asked for.
const MAX_DEPTH: usize = 32;
/// Status and error lines are short; a server that sends this much without CRLF is broken.
const MAX_LINE: usize = 64 * 1024;

/// Appends one command, `*<n>\r\n` then each argument as `$<len>\r\n<bytes>\r\n`.
pub fn encode_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.reserve(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    push_header(out, b'*', args.len());
    for arg in args {
        push_header(out, b'$', arg.len());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

fn push_header(out: &mut Vec<u8>, kind: u8, n: usize) {
    out.push(kind);
    out.extend_from_slice(n.to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// The first complete reply in `buf` and the bytes it took, or `None` while it is incomplete.
pub fn parse(buf: &[u8]) -> Result<Option<(Value, usize)>, ProtocolError> {
    match measure(buf, 0, 0)? {
        None => Ok(None),
        Some(end) => {
            let (value, at) = decode(buf, 0)?;
            debug_assert_eq!(at, end);
            Ok(Some((value, end)))
        }
    }
}

/// A header line: its type byte, the text after it, and where the next line starts; `None`
/// while its CRLF has not arrived.
fn line(buf: &[u8], at: usize) -> Result<Option<(u8, &[u8], usize)>, ProtocolError> {
    let rest = &buf[at.min(buf.len())..];
    match rest.windows(2).position(|w| w == b"\r\n") {
        Some(0) => Err(ProtocolError(String::from("empty line where a reply should start"))),
        Some(cr) => Ok(Some((rest[0], &rest[1..cr], at + cr + 2))),
        None if rest.len() > MAX_LINE => {
            Err(ProtocolError(format!("a line of more than {} bytes without CRLF", MAX_LINE)))
        }
        None => Ok(None),
    }
}

fn integer(text: &[u8]) -> Result<i64, ProtocolError> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', digits)) => (true, digits),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ProtocolError(format!("not an integer: {:?}", String::from_utf8_lossy(text))));
    }
    let magnitude = digits.iter().try_fold(0i64, |n, d| n.checked_mul(10)?.checked_add(i64::from(d - b'0')));
    match magnitude {
        Some(n) if negative => Ok(-n),
        Some(n) => Ok(n),
        None => Err(ProtocolError(format!("integer out of range: {}", String::from_utf8_lossy(text)))),
    }
}

/// A bulk or array length: -1 is nil (`None`), other negatives are errors.
fn length(text: &[u8], limit: usize) -> Result<Option<usize>, ProtocolError> {
    match integer(text)? {
        -1 => Ok(None),
        n if n >= 0 && (n as u64) <= limit as u64 => Ok(Some(n as usize)),
        n => Err(ProtocolError(format!("length {} out of range", n))),
    }
}

/// Where the reply starting at `at` ends, or `None` if `buf` does not hold all of it yet.
fn measure(buf: &[u8], at: usize, depth: usize) -> Result<Option<usize>, ProtocolError> {
    if depth > MAX_DEPTH {
        return Err(ProtocolError(format!("replies nested deeper than {}", MAX_DEPTH)));
    }
    let (kind, text, next) = match line(buf, at)? {
        Some(l) => l,
        None => return Ok(None),
    };
    match kind {
        b'+' | b'-' => Ok(Some(next)),
        b':' => integer(text).map(|_| Some(next)),
        b'$' => match length(text, MAX_BULK_LEN)? {
            None => Ok(Some(next)),
            Some(len) => {
                let end = next + len + 2;
                if buf.len() < end {
                    return Ok(None);
                }
                if &buf[end - 2..end] != b"\r\n" {
                    return Err(ProtocolError(format!("bulk string of {} bytes not followed by CRLF", len)));
                }
                Ok(Some(end))
            }
        },
        b'*' => match length(text, usize::MAX)? {
            None => Ok(Some(next)),
            Some(count) => {
                let mut end = next;
                for _ in 0..count {
                    end = match measure(buf, end, depth + 1)? {
                        Some(e) => e,
                        None => return Ok(None),
                    };
                }
                Ok(Some(end))
            }
        },
        other => Err(ProtocolError(format!("unknown reply type byte {:#04x}", other))),
    }
}

/// Decodes the reply at `at`, which `measure` found complete and well formed.
fn decode(buf: &[u8], at: usize) -> Result<(Value, usize), ProtocolError> {
    let (kind, text, next) = line(buf, at)?.ok_or_else(|| ProtocolError(String::from("reply cut short")))?;
    let text_string = || String::from_utf8_lossy(text).into_owned();
    Ok(match kind {
        b'+' => (Value::Simple(text_string()), next),
        b'-' => (Value::Error(text_string()), next),
        b':' => (Value::Integer(integer(text)?), next),
        b'$' => match length(text, MAX_BULK_LEN)? {
            None => (Value::Nil, next),
            Some(len) => (Value::Bulk(buf[next..next + len].to_vec()), next + len + 2),
        },
        b'*' => match length(text, usize::MAX)? {
            None => (Value::Nil, next),
            Some(count) => {
                // Each element takes at least 3 bytes: never trust a count to size memory.
                let mut items = Vec::with_capacity(count.min((buf.len() - next) / 3));
                let mut end = next;
                for _ in 0..count {
                    let (item, e) = decode(buf, end)?;
                    items.push(item);
                    end = e;
                }
                (Value::Array(items), end)
            }
        },
        other => return Err(ProtocolError(format!("unknown reply type byte {:#04x}", other))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::Bulk(s.as_bytes().to_vec())
    }

    #[test]
    fn encodes_commands_as_arrays_of_bulk_strings() {
        let mut out = Vec::new();
        encode_command(&mut out, &[b"XADD", b"t", b"*", b"data", b"\x00\r\n\xff"]);
        assert_eq!(out, b"*5\r\n$4\r\nXADD\r\n$1\r\nt\r\n$1\r\n*\r\n$4\r\ndata\r\n$4\r\n\x00\r\n\xff\r\n".to_vec());
        let mut empty = Vec::new();
        encode_command(&mut empty, &[b"PING", b""]);
        assert_eq!(empty, b"*2\r\n$4\r\nPING\r\n$0\r\n\r\n".to_vec());
    }

    #[test]
    fn parses_every_reply_type() {
        assert_eq!(parse(b"+PONG\r\n").unwrap(), Some((Value::Simple("PONG".into()), 7)));
        assert_eq!(
            parse(b"-BUSYGROUP Consumer Group name already exists\r\n").unwrap().unwrap().0,
            Value::Error("BUSYGROUP Consumer Group name already exists".into())
        );
        assert_eq!(parse(b":-42\r\n").unwrap().unwrap().0, Value::Integer(-42));
        assert_eq!(parse(b"$0\r\n\r\n").unwrap().unwrap().0, Value::Bulk(Vec::new()));
        assert_eq!(parse(b"$-1\r\n").unwrap().unwrap().0, Value::Nil);
        assert_eq!(parse(b"*-1\r\n").unwrap().unwrap().0, Value::Nil);
        assert_eq!(parse(b"*0\r\n").unwrap().unwrap().0, Value::Array(Vec::new()));
        assert_eq!(parse(b"+\r\n").unwrap().unwrap().0, Value::Simple(String::new()));
    }

    #[test]
    fn keeps_binary_bulk_strings_intact() {
        let data: Vec<u8> = (0..=255u8).chain(b"\r\n\r\n$-1\r\n*3\r\n".iter().copied()).collect();
        let mut reply = format!("${}\r\n", data.len()).into_bytes();
        reply.extend_from_slice(&data);
        reply.extend_from_slice(b"\r\n");
        assert_eq!(parse(&reply).unwrap(), Some((Value::Bulk(data), reply.len())));
    }

    #[test]
    fn parses_a_stream_reply_nested_with_nil() {
        let reply = b"*3\r\n$3\r\n0-0\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$4\r\ndata\r\n$2\r\nhi\r\n*-1\r\n*0\r\n";
        let expected = Value::Array(vec![
            bulk("0-0"),
            Value::Array(vec![
                Value::Array(vec![bulk("1-0"), Value::Array(vec![bulk("data"), bulk("hi")])]),
                Value::Nil,
            ]),
            Value::Array(Vec::new()),
        ]);
        assert_eq!(parse(reply).unwrap(), Some((expected, reply.len())));
    }

    #[test]
    fn answers_none_for_every_prefix_of_a_reply_and_the_reply_once_whole() {
        let mut reply = b"*2\r\n$5\r\nab\r\nc\r\n*2\r\n:1\r\n+OK\r\n".to_vec();
        let whole = parse(&reply).unwrap().unwrap();
        for cut in 0..reply.len() {
            assert_eq!(parse(&reply[..cut]).unwrap(), None, "prefix of {} bytes", cut);
        }
        reply.extend_from_slice(b"+NEXT\r\n");
        assert_eq!(parse(&reply).unwrap(), Some(whole.clone()));
        assert_eq!(parse(&reply[whole.1..]).unwrap(), Some((Value::Simple("NEXT".into()), 7)));
    }

    #[test]
    fn refuses_what_is_not_resp2() {
        for bad in [
            &b"?what\r\n"[..],
            b"$-2\r\n",
            b"$3\r\nabcd\r\n",
            b":12a\r\n",
            b":99999999999999999999\r\n",
            b"*1\r\n!x\r\n",
            b"$x\r\n",
            b"$\r\n",
            b"$536870913\r\n",
            b"\r\n",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "*1\r\n".repeat(MAX_DEPTH + 2) + ":1\r\n";
        assert!(parse(deep.as_bytes()).is_err());
        assert!(parse(&[b'+'; MAX_LINE + 2]).is_err());
        assert_eq!(parse(&[b'+'; 100]).unwrap(), None);
    }

    #[test]
    fn a_huge_array_count_does_not_allocate_up_front() {
        assert_eq!(parse(b"*4000000000\r\n:1\r\n").unwrap(), None);
    }
}
