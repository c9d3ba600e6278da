// The connection settings of Dapr's Redis components, from the Component YAML's
// `spec.metadata`: where Redis is, how to log in, which database, how long to wait. Each
// component reads its own further settings with the helpers here. A duration is milliseconds
// (`60000`) or Go-style text (`60s`, `1m30s`, `500ms`).
use tessera_sdk::{Error, Metadata};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `SELECT`ed after connecting, when set.
    pub db: Option<u32>,
    pub dial_timeout_ms: u32,
    /// How long to wait for a reply (on top of a blocking command's own wait).
    pub read_timeout_ms: u32,
}

const DEFAULT_PORT: u16 = 6379;
const DEFAULT_DIAL_TIMEOUT_MS: u32 = 2_000;
const DEFAULT_READ_TIMEOUT_MS: u32 = 3_000;

impl Settings {
    pub fn parse(metadata: &Metadata) -> Result<Settings, Error> {
        let get = |key: &str| metadata.get(key).map(str::trim).filter(|v| !v.is_empty());
        let host_port = get("redisHost").ok_or_else(|| {
            invalid(String::from(
                "redisHost is required: set it to the Redis address as host:port, e.g. 127.0.0.1:6379",
            ))
        })?;
        let (host, port) = parse_host_port(host_port)?;
        check_no_tls(get("enableTLS"))?;
        Ok(Settings {
            host,
            port,
            username: get("redisUsername").map(String::from),
            password: get("redisPassword").map(String::from),
            db: number(get("redisDB"), "redisDB")?,
            dial_timeout_ms: timeout(duration(get("dialTimeout"), "dialTimeout")?, DEFAULT_DIAL_TIMEOUT_MS),
            read_timeout_ms: timeout(duration(get("readTimeout"), "readTimeout")?, DEFAULT_READ_TIMEOUT_MS),
        })
    }

    /// `host:port` as the grant annotation spells it.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl AsRef<Settings> for Settings {
    fn as_ref(&self) -> &Settings {
        self
    }
}

pub fn invalid(message: String) -> Error {
    Error::InvalidArgument(message)
}

/// The `tcp` capability carries plain TCP: a YAML asking for TLS must not get a connection
/// that sends the password in the clear.
fn check_no_tls(value: Option<&str>) -> Result<(), Error> {
    // The spellings Go's strconv.ParseBool takes, as Dapr reads the flag.
    match value {
        None | Some("false" | "False" | "FALSE" | "f" | "F" | "0") => Ok(()),
        Some("true" | "True" | "TRUE" | "t" | "T" | "1") => Err(invalid(String::from(
            "enableTLS is true, but Tessera's tcp capability has no TLS: connect to a Redis that accepts plain TCP \
             (e.g. through a local TLS tunnel such as stunnel) and set enableTLS to false",
        ))),
        Some(other) => Err(invalid(format!("enableTLS {:?} is not true or false", other))),
    }
}

/// `host:port`, `[v6]:port`, or a bare host on the default port.
fn parse_host_port(text: &str) -> Result<(String, u16), Error> {
    let bad = || invalid(format!("redisHost {:?} is not host:port (e.g. 127.0.0.1:6379)", text));
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else {
        match text.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => (text, None),
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad)?,
    };
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
        return Err(bad());
    }
    Ok((String::from(host), port))
}

/// A whole number of type `T`, or an `invalid-argument` naming `key`.
pub fn number<T: core::str::FromStr>(value: Option<&str>, key: &str) -> Result<Option<T>, Error> {
    match value {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| invalid(format!("{} {:?} is not a whole number", key, v))),
    }
}

/// Milliseconds, or a sequence of `<number><unit>` with units ms, s, m, h (`1m30s`).
pub fn duration(value: Option<&str>, key: &str) -> Result<Option<u64>, Error> {
    let text = match value {
        None => return Ok(None),
        Some(t) => t,
    };
    let bad = || {
        invalid(format!("{} {:?} is not a duration: write milliseconds (60000) or e.g. 60s, 1m30s, 500ms", key, text))
    };
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map(Some).map_err(|_| bad());
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let amount: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let scale = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total = amount.checked_mul(scale).and_then(|ms| total.checked_add(ms)).ok_or_else(bad)?;
    }
    Ok(Some(total))
}

fn timeout(ms: Option<u64>, default: u32) -> u32 {
    match ms {
        Some(0) | None => default,
        Some(ms) => ms.min(u64::from(u32::MAX)) as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Settings, Error> {
        Settings::parse(&pairs.iter().copied().collect())
    }

    #[test]
    fn defaults_and_dapr_names() {
        let s = parse(&[("redisHost", "127.0.0.1:6380")]).unwrap();
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 6380));
        assert_eq!((s.username, s.password, s.db), (None, None, None));
        assert_eq!((s.dial_timeout_ms, s.read_timeout_ms), (2_000, 3_000));
        let s = parse(&[
            ("redisHost", "redis"),
            ("redisUsername", "u"),
            ("redisPassword", "pw"),
            ("redisDB", "3"),
            ("readTimeout", "5s"),
            ("dialTimeout", "1m30s"),
            ("enableTLS", "false"),
        ])
        .unwrap();
        assert_eq!((s.port, s.username.as_deref(), s.password.as_deref(), s.db), (6379, Some("u"), Some("pw"), Some(3)));
        assert_eq!((s.read_timeout_ms, s.dial_timeout_ms), (5000, 90_000));
        assert_eq!(s.address(), "redis:6379");
        let v6 = parse(&[("redisHost", "[::1]:7000")]).unwrap();
        assert_eq!((v6.host.as_str(), v6.port, v6.address()), ("::1", 7000, String::from("[::1]:7000")));
    }

    #[test]
    fn refuses_bad_values_naming_them() {
        for (key, value) in [
            ("redisHost", "h:0"),
            ("redisHost", "h:99999"),
            ("redisHost", "h:x"),
            ("redisHost", ":6379"),
            ("redisHost", "[::1"),
            ("redisHost", "[::1]x"),
            ("readTimeout", "10 s"),
            ("dialTimeout", "10d"),
            ("readTimeout", "s"),
            ("redisDB", "-1"),
            ("enableTLS", "yes"),
        ] {
            let mut pairs = vec![("redisHost", "h:1")];
            pairs.retain(|(k, _)| *k != key);
            pairs.push((key, value));
            match parse(&pairs) {
                Err(Error::InvalidArgument(m)) => assert!(m.contains(key), "{}", m),
                other => panic!("{}={}: {:?}", key, value, other),
            }
        }
        assert!(matches!(parse(&[]), Err(Error::InvalidArgument(m)) if m.contains("redisHost is required")));
    }

    #[test]
    fn refuses_tls_which_the_tcp_capability_cannot_give() {
        for yes in ["true", "True", "1"] {
            match parse(&[("redisHost", "h:1"), ("enableTLS", yes)]) {
                Err(Error::InvalidArgument(m)) => assert!(m.starts_with("enableTLS is true, but"), "{}", m),
                other => panic!("{:?}", other),
            }
        }
    }
}
