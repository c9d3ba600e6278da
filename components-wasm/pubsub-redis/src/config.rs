// The Component YAML's `spec.metadata`, with the names and meanings of Dapr's Redis Streams
// pub/sub: the connection settings every Redis component shares (redis_client::Settings),
// then the consumer group and the takeover of a crashed consumer's messages.
use redis_client::{duration, invalid, number, Settings};
use tessera_sdk::{Error, Metadata};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub redis: Settings,
    /// The consumer group: subscriptions with one consumer id share a topic's messages.
    pub consumer_id: String,
    /// How long a delivered message may stay unacknowledged before another subscription of
    /// the group takes it over (its consumer is presumed crashed). 0: never.
    pub processing_timeout_ms: u64,
    /// How often a subscription looks for such messages. 0: never.
    pub redeliver_interval_ms: u64,
    /// `XADD ... MAXLEN ~ n`: trims each topic's stream to about this many entries.
    pub max_len_approx: Option<u64>,
}

const DEFAULT_PROCESSING_TIMEOUT_MS: u64 = 60_000;
const DEFAULT_REDELIVER_INTERVAL_MS: u64 = 60_000;

impl Config {
    pub fn parse(metadata: &Metadata) -> Result<Config, Error> {
        let redis = Settings::parse(metadata)?;
        let get = |key: &str| metadata.get(key).map(str::trim).filter(|v| !v.is_empty());
        let consumer_id = get("consumerID").ok_or_else(|| {
            invalid(String::from("consumerID is missing: the host sets it to the app id unless the YAML does"))
        })?;
        Ok(Config {
            redis,
            consumer_id: String::from(consumer_id),
            processing_timeout_ms: duration(get("processingTimeout"), "processingTimeout")?
                .unwrap_or(DEFAULT_PROCESSING_TIMEOUT_MS),
            redeliver_interval_ms: duration(get("redeliverInterval"), "redeliverInterval")?
                .unwrap_or(DEFAULT_REDELIVER_INTERVAL_MS),
            max_len_approx: number(get("maxLenApprox"), "maxLenApprox")?,
        })
    }

    /// `host:port` as the grant annotation spells it.
    pub fn address(&self) -> String {
        self.redis.address()
    }

    /// Whether a subscription looks for messages a crashed consumer left pending.
    pub fn reclaims(&self) -> bool {
        self.processing_timeout_ms > 0 && self.redeliver_interval_ms > 0
    }
}

impl AsRef<Settings> for Config {
    fn as_ref(&self) -> &Settings {
        &self.redis
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
        assert_eq!((c.redis.host.as_str(), c.redis.port, c.consumer_id.as_str()), ("127.0.0.1", 6380, "app"));
        assert_eq!((c.processing_timeout_ms, c.redeliver_interval_ms, c.max_len_approx), (60_000, 60_000, None));
        let c = parse(&[
            ("redisHost", "redis"),
            ("redisPassword", "pw"),
            ("processingTimeout", "1m30s"),
            ("redeliverInterval", "250"),
            ("maxLenApprox", "1000"),
        ])
        .unwrap();
        assert_eq!((c.redis.password.as_deref(), c.address()), (Some("pw"), String::from("redis:6379")));
        assert_eq!((c.processing_timeout_ms, c.redeliver_interval_ms, c.max_len_approx), (90_000, 250, Some(1000)));
    }

    #[test]
    fn zero_turns_reclaiming_off() {
        assert!(!parse(&[("redisHost", "h:1"), ("processingTimeout", "0")]).unwrap().reclaims());
        assert!(!parse(&[("redisHost", "h:1"), ("redeliverInterval", "0s")]).unwrap().reclaims());
        assert!(parse(&[("redisHost", "h:1")]).unwrap().reclaims());
    }

    #[test]
    fn refuses_bad_values_naming_them() {
        let bad = [("processingTimeout", "10 s"), ("processingTimeout", "10d"), ("redeliverInterval", "s"), ("maxLenApprox", "lots")];
        for (key, value) in bad {
            let error = parse(&[("redisHost", "h:1"), (key, value)]).unwrap_err();
            assert!(matches!(&error, Error::InvalidArgument(m) if m.contains(key)), "{}={}: {:?}", key, value, error);
        }
        assert!(matches!(parse(&[("redisHost", "h:0")]), Err(Error::InvalidArgument(m)) if m.contains("redisHost")));
        let no_consumer = Config::parse(&[("redisHost", "h:1")].iter().copied().collect());
        assert!(matches!(no_consumer, Err(Error::InvalidArgument(m)) if m.contains("consumerID")));
    }
}
