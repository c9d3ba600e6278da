// The Component YAML's `spec.metadata`, with the names and meanings of Dapr's Redis Streams
// pub/sub. A duration is milliseconds (`60000`) or Go-style text (`60s`, `1m30s`, `500ms`).
use tessera_sdk::{Error, Metadata};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `SELECT`ed after connecting, when set.
    pub db: Option<u32>,
    /// The consumer group: subscriptions with one consumer id share a topic's messages.
    pub consumer_id: String,
    /// How long a delivered message may stay unacknowledged before another subscription of
    /// the group takes it over (its consumer is presumed crashed). 0: never.
    pub processing_timeout_ms: u64,
    /// How often a subscription looks for such messages. 0: never.
    pub redeliver_interval_ms: u64,
    /// `XADD ... MAXLEN ~ n`: trims each topic's stream to about this many entries.
    pub max_len_approx: Option<u64>,
    pub dial_timeout_ms: u32,
    /// How long to wait for a reply (on top of a blocking read's own wait).
    pub read_timeout_ms: u32,
}

const DEFAULT_PORT: u16 = 6379;
const DEFAULT_PROCESSING_TIMEOUT_MS: u64 = 60_000;
const DEFAULT_REDELIVER_INTERVAL_MS: u64 = 60_000;
const DEFAULT_DIAL_TIMEOUT_MS: u32 = 2_000;
const DEFAULT_READ_TIMEOUT_MS: u32 = 3_000;

impl Config {
    pub fn parse(metadata: &Metadata) -> Result<Config, Error> {
        let get = |key: &str| metadata.get(key).map(str::trim).filter(|v| !v.is_empty());
        let host_port = get("redisHost").ok_or_else(|| {
            invalid(String::from(
                "redisHost is required: set it to the Redis address as host:port, e.g. 127.0.0.1:6379",
            ))
        })?;
        let (host, port) = parse_host_port(host_port)?;
        let consumer_id = get("consumerID").ok_or_else(|| {
            invalid(String::from("consumerID is missing: the host sets it to the app id unless the YAML does"))
        })?;
        Ok(Config {
            host,
            port,
            username: get("redisUsername").map(String::from),
            password: get("redisPassword").map(String::from),
            db: number(get("redisDB"), "redisDB")?,
            consumer_id: String::from(consumer_id),
            processing_timeout_ms: duration(get("processingTimeout"), "processingTimeout")?
                .unwrap_or(DEFAULT_PROCESSING_TIMEOUT_MS),
            redeliver_interval_ms: duration(get("redeliverInterval"), "redeliverInterval")?
                .unwrap_or(DEFAULT_REDELIVER_INTERVAL_MS),
            max_len_approx: number(get("maxLenApprox"), "maxLenApprox")?,
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

    /// Whether a subscription looks for messages a crashed consumer left pending.
    pub fn reclaims(&self) -> bool {
        self.processing_timeout_ms > 0 && self.redeliver_interval_ms > 0
    }
}

fn invalid(message: String) -> Error {
    Error::InvalidArgument(message)
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

fn number<T: core::str::FromStr>(value: Option<&str>, key: &str) -> Result<Option<T>, Error> {
    match value {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| invalid(format!("{} {:?} is not a whole number", key, v))),
    }
}

/// Milliseconds, or a sequence of `<number><unit>` with units ms, s, m, h (`1m30s`).
fn duration(value: Option<&str>, key: &str) -> Result<Option<u64>, Error> {
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

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, Error> {
        let mut md: Metadata = pairs.iter().copied().collect();
        if !md.contains_key("consumerID") {
            md.push("consumerID", "app");
        }
        Config::parse(&md)
    }

    #[test]
    fn defaults_and_dapr_names() {
        let c = parse(&[("redisHost", "127.0.0.1:6380")]).unwrap();
        assert_eq!((c.host.as_str(), c.port, c.consumer_id.as_str()), ("127.0.0.1", 6380, "app"));
        assert_eq!((c.processing_timeout_ms, c.redeliver_interval_ms, c.max_len_approx), (60_000, 60_000, None));
        assert_eq!((c.username, c.password, c.db), (None, None, None));
        let c = parse(&[
            ("redisHost", "redis"),
            ("redisPassword", "pw"),
            ("redisDB", "3"),
            ("processingTimeout", "1m30s"),
            ("redeliverInterval", "250"),
            ("maxLenApprox", "1000"),
            ("readTimeout", "5s"),
        ])
        .unwrap();
        assert_eq!((c.port, c.password.as_deref(), c.db), (6379, Some("pw"), Some(3)));
        assert_eq!(
            (c.processing_timeout_ms, c.redeliver_interval_ms, c.max_len_approx, c.read_timeout_ms),
            (90_000, 250, Some(1000), 5000)
        );
        assert_eq!(c.address(), "redis:6379");
        let v6 = parse(&[("redisHost", "[::1]:7000")]).unwrap();
        assert_eq!((v6.host.as_str(), v6.port, v6.address()), ("::1", 7000, String::from("[::1]:7000")));
    }

    #[test]
    fn zero_turns_reclaiming_off() {
        assert!(!parse(&[("redisHost", "h:1"), ("processingTimeout", "0")]).unwrap().reclaims());
        assert!(!parse(&[("redisHost", "h:1"), ("redeliverInterval", "0s")]).unwrap().reclaims());
        assert!(parse(&[("redisHost", "h:1")]).unwrap().reclaims());
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
            ("processingTimeout", "10 s"),
            ("processingTimeout", "10d"),
            ("processingTimeout", "s"),
            ("redisDB", "-1"),
            ("maxLenApprox", "lots"),
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
        let no_consumer = Config::parse(&[("redisHost", "h:1")].iter().copied().collect());
        assert!(matches!(no_consumer, Err(Error::InvalidArgument(m)) if m.contains("consumerID")));
    }
}
