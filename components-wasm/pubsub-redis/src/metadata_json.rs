// A message's metadata in its stream entry: the `metadata` field holds a JSON object of
// strings, as Dapr's Redis pub/sub writes it (`{"ttlInSeconds":"10"}`), so the two can share
// a stream. Pairs keep their order; a repeated key is written twice and read back twice.
use tessera_sdk::Metadata;

/// `{"key":"value",...}`.
pub fn encode(metadata: &Metadata) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in metadata.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_string(&mut out, key);
        out.push(':');
        push_string(&mut out, value);
    }
    out.push('}');
    out
}

fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Reads an object of strings; numbers, booleans and null become their JSON text. `Err`
/// names what is wrong.
pub fn decode(text: &[u8]) -> Result<Metadata, String> {
    let text = core::str::from_utf8(text).map_err(|_| String::from("not UTF-8"))?;
    let mut p = Parser { s: text.as_bytes(), at: 0 };
    let mut metadata = Metadata::new();
    p.expect(b'{')?;
    if !p.eat(b'}') {
        loop {
            let key = p.string()?;
            p.expect(b':')?;
            let value = p.value()?;
            metadata.push(key, value);
            if p.eat(b'}') {
                break;
            }
            p.expect(b',')?;
        }
    }
    p.skip_space();
    if p.at != p.s.len() {
        return Err(format!("unexpected text after the object at byte {}", p.at));
    }
    Ok(metadata)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.at < self.s.len() && matches!(self.s[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_space();
        if self.s.get(self.at) == Some(&c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", c as char, self.at))
        }
    }

    /// A string, or the text of a number, boolean or null.
    fn value(&mut self) -> Result<String, String> {
        self.skip_space();
        if self.s.get(self.at) == Some(&b'"') {
            return self.string();
        }
        let start = self.at;
        while self.at < self.s.len() && !matches!(self.s[self.at], b',' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
        let word = core::str::from_utf8(&self.s[start..self.at]).unwrap_or("");
        let is_number = !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
        if is_number || matches!(word, "true" | "false" | "null") {
            Ok(String::from(word))
        } else {
            Err(format!("expected a value at byte {}", start))
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.at).ok_or("unterminated string")?;
            self.at += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = *self.s.get(self.at).ok_or("unterminated escape")?;
                    self.at += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let c = self.unicode_escape()?;
                            let mut utf8 = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                        }
                        _ => return Err(format!("unknown escape \\{} at byte {}", e as char, self.at - 1)),
                    }
                }
                _ => out.push(c),
            }
        }
        // The input was UTF-8 and escapes add whole characters.
        String::from_utf8(out).map_err(|_| String::from("not UTF-8"))
    }

    /// After `\u`: four hex digits, and a low surrogate's escape after a high one.
    fn unicode_escape(&mut self) -> Result<char, String> {
        let high = self.hex4()?;
        let code = if (0xd800..0xdc00).contains(&high) {
            if self.s.get(self.at..self.at + 2) != Some(&b"\\u"[..]) {
                return Err(format!("a lone surrogate at byte {}", self.at));
            }
            self.at += 2;
            let low = self.hex4()?;
            if !(0xdc00..0xe000).contains(&low) {
                return Err(format!("a lone surrogate at byte {}", self.at));
            }
            0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
        } else {
            high
        };
        char::from_u32(code).ok_or_else(|| format!("invalid escape at byte {}", self.at))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self.s.get(self.at..self.at + 4).ok_or("a \\u escape cut short")?;
        let text = core::str::from_utf8(digits).map_err(|_| String::from("bad \\u escape"))?;
        let code = u32::from_str_radix(text, 16).map_err(|_| format!("bad \\u escape at byte {}", self.at))?;
        self.at += 4;
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(pairs: &[(&str, &str)]) -> Metadata {
        pairs.iter().copied().collect()
    }

    #[test]
    fn round_trips_order_duplicates_and_awkward_characters() {
        let m = md(&[("b", "1"), ("a", "x\"y\\z\n\t\u{1}"), ("b", "ключ ✓ 😀"), ("", "")]);
        let text = encode(&m);
        assert_eq!(text, "{\"b\":\"1\",\"a\":\"x\\\"y\\\\z\\n\\t\\u0001\",\"b\":\"ключ ✓ 😀\",\"\":\"\"}");
        assert_eq!(decode(text.as_bytes()), Ok(m));
        assert_eq!(encode(&Metadata::new()), "{}");
    }

    #[test]
    fn reads_what_another_writer_may_write() {
        let text = br#" { "ttlInSeconds" : 10, "raw":true, "e":"\u00e9\ud83d\ude00\/", "n": null } "#;
        assert_eq!(decode(text), Ok(md(&[("ttlInSeconds", "10"), ("raw", "true"), ("e", "é😀/"), ("n", "null")])));
    }

    #[test]
    fn refuses_what_is_not_an_object_of_strings() {
        for bad in [
            &b""[..],
            b"[]",
            b"{",
            b"{\"a\"}",
            b"{\"a\":}",
            b"{\"a\":\"b\",}",
            b"{\"a\":\"\\x\"}",
            b"{\"a\":\"\\ud800\"}",
            b"{} x",
            b"{\"a\":nope}",
            b"\xff",
        ] {
            assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
