// The component's configuration: the connection settings every bundled Redis component reads
// (redis-client's `Settings`), plus the state store's own: the default `ttlInSeconds` and
// `redisMaxRetries`. Also `ttlInSeconds` as a request carries it.
use redis_client::{invalid, number, Settings};
use tessera_sdk::{Error, Metadata};

/// Dapr's Redis components retry a failed command 3 times by default (`redisMaxRetries`).
const DEFAULT_MAX_RETRIES: u32 = 3;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub settings: Settings,
    /// `ttlInSeconds` for a write whose request names none.
    pub default_ttl: Option<Ttl>,
    /// Whether a command that failed on a connection opened before (Redis restarted, the
    /// connection went stale) is sent once more on a new one. `redisMaxRetries: 0` turns it off.
    pub retry: bool,
}

/// What a write does to the key's time to live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    /// `EXPIRE key seconds`.
    Expire(u32),
    /// `PERSIST key`: `ttlInSeconds` 0 or below (`-1`) removes a time to live.
    Persist,
}

impl Ttl {
    /// The argument the scripts take: seconds, or `-1` for PERSIST.
    pub fn script_arg(self) -> String {
        match self {
            Ttl::Expire(seconds) => seconds.to_string(),
            Ttl::Persist => String::from("-1"),
        }
    }
}

impl AsRef<Settings> for Config {
    fn as_ref(&self) -> &Settings {
        &self.settings
    }
}

impl Config {
    pub fn parse(metadata: &Metadata) -> Result<Config, Error> {
        let settings = Settings::parse(metadata)?;
        let get = |key: &str| metadata.get(key).map(str::trim).filter(|v| !v.is_empty());
        let default_ttl = parse_ttl(get("ttlInSeconds")).map_err(|text| {
            invalid(format!(
                "ttlInSeconds {:?} (the component's default) is not a whole number of seconds up to 2147483647",
                text
            ))
        })?;
        // Dapr reads `redisMaxRetries`; its older docs say `maxRetries`.
        let retries = match get("redisMaxRetries") {
            Some(v) => number::<i64>(Some(v), "redisMaxRetries")?,
            None => number::<i64>(get("maxRetries"), "maxRetries")?,
        };
        Ok(Config { settings, default_ttl, retry: retries.map_or(DEFAULT_MAX_RETRIES > 0, |n| n > 0) })
    }
}

/// `ttlInSeconds`: absent or empty for none, else a whole number; 0 or below removes a time to
/// live, as in Dapr. `Err` gives back the text that is no such number.
pub fn parse_ttl(text: Option<&str>) -> Result<Option<Ttl>, &str> {
    let text = match text.map(str::trim) {
        None | Some("") => return Ok(None),
        Some(text) => text,
    };
    match text.parse::<i64>() {
        Ok(seconds) if seconds <= 0 => Ok(Some(Ttl::Persist)),
        Ok(seconds) if seconds <= i64::from(i32::MAX) => Ok(Some(Ttl::Expire(seconds as u32))),
        _ => Err(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, Error> {
        Config::parse(&pairs.iter().copied().collect())
    }

    #[test]
    fn reads_the_default_ttl_and_retries() {
        let c = parse(&[("redisHost", "h:1")]).unwrap();
        assert_eq!((c.default_ttl, c.retry), (None, true));
        let c = parse(&[("redisHost", "h:1"), ("ttlInSeconds", "60"), ("redisMaxRetries", "0")]).unwrap();
        assert_eq!((c.default_ttl, c.retry), (Some(Ttl::Expire(60)), false));
        let c = parse(&[("redisHost", "h:1"), ("ttlInSeconds", "-1"), ("maxRetries", "2")]).unwrap();
        assert_eq!((c.default_ttl, c.retry), (Some(Ttl::Persist), true));
    }

    #[test]
    fn refuses_bad_values_naming_them() {
        for (key, value) in [("ttlInSeconds", "1h"), ("ttlInSeconds", "2147483648"), ("redisMaxRetries", "x")] {
            match parse(&[("redisHost", "h:1"), (key, value)]) {
                Err(Error::InvalidArgument(m)) => assert!(m.contains(key), "{}", m),
                other => panic!("{}={}: {:?}", key, value, other),
            }
        }
    }

    #[test]
    fn reads_request_ttls() {
        assert_eq!(parse_ttl(None), Ok(None));
        assert_eq!(parse_ttl(Some(" ")), Ok(None));
        assert_eq!(parse_ttl(Some("30")), Ok(Some(Ttl::Expire(30))));
        assert_eq!(parse_ttl(Some("0")), Ok(Some(Ttl::Persist)));
        assert_eq!(parse_ttl(Some("-1")), Ok(Some(Ttl::Persist)));
        assert_eq!(parse_ttl(Some("1.5")), Err("1.5"));
    }
}
