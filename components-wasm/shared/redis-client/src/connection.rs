// Redis for a component, two ways. Commands that leave their connection as they found it go
// through the host's `redis` capability: one connection the component's instances share,
// pipelined by the host, connected (AUTH, SELECT) and reconnected there. The others (a
// transaction, a blocking read) need a connection of their own: one over the `tcp`
// capability, opened on first use (with AUTH and SELECT), commands written and replies read
// whole, and a new connection on the next call once anything went wrong. A broken or
// timed-out connection of its own fails that call with `unavailable` and is dropped: a reply
// that arrived late would answer the wrong command.
use crate::resp::{self, Value};
use crate::settings::Settings;
use tessera_sdk::{clock, log, redis, tcp, Error};

/// Bytes asked of the host per read.
const READ_CHUNK: u32 = 64 * 1024;

/// The connection and the settings it was made with: `C` is [`Settings`] or a component's
/// configuration that holds them, which [`Redis::config`] gives back.
pub struct Redis<C = Settings> {
    config: C,
    connection: Option<Connection>,
    shared: Option<redis::Connection>,
}

/// The most the replies to one call through the host may hold: the host's own cap (a reply
/// bigger than the component's memory fails there anyway).
const MAX_REPLY_BYTES: u32 = 64 * 1024 * 1024;

/// Whether a command must have a connection of its own: one the host's shared connection
/// refuses, since it changes or holds the connection it runs on (the host's list, which this
/// follows for the commands a component may send, is in host/sandbox/capabilities/resp-frames.ts).
fn needs_own_connection(args: &[&[u8]]) -> bool {
    let name = match args.first() {
        Some(name) => name,
        None => return false,
    };
    let is = |s: &[u8]| name.eq_ignore_ascii_case(s);
    const STATEFUL: [&[u8]; 14] = [
        b"MULTI", b"EXEC", b"DISCARD", b"WATCH", b"UNWATCH", b"SELECT", b"AUTH", b"HELLO", b"CLIENT", b"SUBSCRIBE",
        b"PSUBSCRIBE", b"SSUBSCRIBE", b"MONITOR", b"RESET",
    ];
    STATEFUL.iter().any(|s| is(s))
        || (name.len() > 1 && name[0].eq_ignore_ascii_case(&b'B') && [&b"BLPOP"[..], b"BRPOP", b"BRPOPLPUSH", b"BLMOVE", b"BLMPOP", b"BZPOPMIN", b"BZPOPMAX", b"BZMPOP"].iter().any(|s| is(s)))
        || is(b"WAIT")
        || is(b"WAITAOF")
        || ((is(b"XREAD") || is(b"XREADGROUP")) && args[1..].iter().any(|a| a.eq_ignore_ascii_case(b"BLOCK")))
}

struct Connection {
    tcp: tcp::Connection,
    /// Bytes read but not yet parsed: the start of the next reply.
    pending: Vec<u8>,
}

/// What one command came to: its reply (an error reply included), or no usable connection.
pub type Reply = Result<Value, Error>;

impl<C: AsRef<Settings>> Redis<C> {
    /// Connects on the first call.
    pub fn new(config: C) -> Redis<C> {
        Redis { config, connection: None, shared: None }
    }

    pub fn config(&self) -> &C {
        &self.config
    }

    /// Whether a connection is open: a call that fails on one opened earlier may be worth one
    /// more try on a new one (Redis restarted in between); a call that fails to connect is not.
    pub fn is_connected(&self) -> bool {
        self.connection.is_some() || self.shared.is_some()
    }

    /// Sends one command and reads its reply. `server_wait_ms` is how long the server itself
    /// may hold the reply back (a `BLOCK`), on top of `readTimeout`.
    pub fn call(&mut self, args: &[&[u8]], server_wait_ms: u32) -> Reply {
        let mut request = Vec::new();
        resp::encode_command(&mut request, args);
        if server_wait_ms == 0 && !needs_own_connection(args) {
            return self.shared(&request, 1)?.pop().unwrap_or_else(|| Err(Error::Internal(String::from("no reply"))));
        }
        let config = self.config.as_ref();
        let connection = open(&mut self.connection, config)?;
        let result = connection
            .write(&request, config)
            .and_then(|()| connection.read_reply(config.read_timeout_ms.saturating_add(server_wait_ms), config));
        if let Err(error) = &result {
            self.drop_connection(error);
        }
        result
    }

    /// Writes several commands at once and reads their replies in order. `Err` when no reply
    /// came at all; when the connection broke after some, the rest are `Err` in the list.
    pub fn pipeline(&mut self, commands: &[Vec<&[u8]>]) -> Result<Vec<Reply>, Error> {
        self.pipeline_waiting(commands, 0)
    }

    /// [`Redis::pipeline`] whose last command may be held back by the server `server_wait_ms`
    /// (a `BLOCK`): commands sent ahead of a waiting read share its round trip.
    pub fn pipeline_waiting(&mut self, commands: &[Vec<&[u8]>], server_wait_ms: u32) -> Result<Vec<Reply>, Error> {
        let mut request = Vec::new();
        for args in commands {
            resp::encode_command(&mut request, args);
        }
        if server_wait_ms == 0 && !commands.is_empty() && !commands.iter().any(|args| needs_own_connection(args)) {
            return self.shared(&request, commands.len() as u32);
        }
        let config = self.config.as_ref();
        let connection = open(&mut self.connection, config)?;
        let mut replies = Vec::with_capacity(commands.len());
        let mut failure = connection.write(&request, config).err();
        while failure.is_none() && replies.len() < commands.len() {
            let wait_ms = if replies.len() + 1 == commands.len() { server_wait_ms } else { 0 };
            match connection.read_reply(config.read_timeout_ms.saturating_add(wait_ms), config) {
                Ok(value) => replies.push(Ok(value)),
                Err(error) => failure = Some(error),
            }
        }
        if let Some(error) = failure {
            self.drop_connection(&error);
            if replies.is_empty() {
                return Err(error);
            }
            replies.resize_with(commands.len(), || Err(error.clone()));
        }
        Ok(replies)
    }

    /// `count` encoded commands through the host's shared connection, and their replies.
    fn shared(&mut self, request: &[u8], count: u32) -> Result<Vec<Reply>, Error> {
        let config = self.config.as_ref();
        if self.shared.is_none() {
            let user = config.username.as_deref().unwrap_or("");
            let password = config.password.as_deref().unwrap_or("");
            let shared = redis::open(&config.host, config.port, user, password, config.db.unwrap_or(0), config.dial_timeout_ms)
                .map_err(|error| match error {
                    Error::InvalidArgument(m) => {
                        Error::InvalidArgument(format!("cannot connect to redisHost {}: {}", config.address(), m))
                    }
                    other => other,
                })?;
            self.shared = Some(shared);
        }
        let bytes = self.shared.as_ref().unwrap().execute(request, count, config.read_timeout_ms, MAX_REPLY_BYTES)?;
        let mut replies = Vec::with_capacity(count as usize);
        let mut at = 0;
        while replies.len() < count as usize {
            match resp::parse(&bytes[at..]) {
                Ok(Some((value, used))) => {
                    replies.push(Ok(value));
                    at += used;
                }
                Ok(None) => {
                    return Err(Error::Internal(format!("redis at {} sent fewer replies than commands", config.address())))
                }
                Err(resp::ProtocolError(why)) => {
                    return Err(Error::Internal(format!("redis at {} sent a malformed reply: {}", config.address(), why)))
                }
            }
        }
        Ok(replies)
    }

    fn drop_connection(&mut self, why: &Error) {
        if self.connection.take().is_some() {
            log::warn(&format!("dropped the connection to redis at {}: {}", self.config.as_ref().address(), why.message()));
        }
    }
}

/// The open connection, or a new one, authenticated and on its database.
fn open<'a>(slot: &'a mut Option<Connection>, config: &Settings) -> Result<&'a mut Connection, Error> {
    if slot.is_none() {
        *slot = Some(Connection::open(config)?);
    }
    Ok(slot.as_mut().unwrap())
}

impl Connection {
    fn open(config: &Settings) -> Result<Connection, Error> {
        let address = config.address();
        let tcp = tcp::connect(&config.host, config.port, config.dial_timeout_ms).map_err(|error| match error {
            Error::InvalidArgument(m) => {
                Error::InvalidArgument(format!("cannot connect to redisHost {}: {}", address, m))
            }
            other => Error::Unavailable(format!("redis at {} is unreachable: {}", address, other.message())),
        })?;
        let mut connection = Connection { tcp, pending: Vec::new() };
        if let Some(password) = &config.password {
            let mut args: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(user) = &config.username {
                args.push(user.as_bytes());
            }
            args.push(password.as_bytes());
            connection.setup(&args, config, "AUTH (redisUsername, redisPassword)")?;
        }
        if let Some(db) = config.db {
            connection.setup(&[b"SELECT", db.to_string().as_bytes()], config, "SELECT (redisDB)")?;
        }
        log::debug(&format!("connected to redis at {}", address));
        Ok(connection)
    }

    fn setup(&mut self, args: &[&[u8]], config: &Settings, what: &str) -> Result<(), Error> {
        let mut request = Vec::new();
        resp::encode_command(&mut request, args);
        self.write(&request, config)?;
        match self.read_reply(config.read_timeout_ms, config)? {
            Value::Error(message) => {
                Err(Error::Internal(format!("redis at {} refused {}: {}", config.address(), what, message)))
            }
            _ => Ok(()),
        }
    }

    fn write(&mut self, request: &[u8], config: &Settings) -> Result<(), Error> {
        self.tcp.write_all(request).map_err(|error| broken(config, &error))
    }

    /// The next whole reply, waiting up to `wait_ms` in all.
    fn read_reply(&mut self, wait_ms: u32, config: &Settings) -> Result<Value, Error> {
        let deadline = clock::monotonic_ns() + u64::from(wait_ms) * 1_000_000;
        loop {
            match resp::parse(&self.pending) {
                Ok(Some((value, used))) => {
                    self.pending.drain(..used);
                    return Ok(value);
                }
                Ok(None) => {}
                Err(resp::ProtocolError(why)) => {
                    return Err(Error::Internal(format!(
                        "redis at {} sent a malformed reply: {}",
                        config.address(),
                        why
                    )));
                }
            }
            let left_ms = deadline.saturating_sub(clock::monotonic_ns()) / 1_000_000;
            if left_ms == 0 {
                return Err(Error::Unavailable(format!(
                    "redis at {} did not answer within {} ms (readTimeout)",
                    config.address(),
                    wait_ms
                )));
            }
            let bytes =
                self.tcp.read(READ_CHUNK, left_ms.min(u64::from(u32::MAX)) as u32).map_err(|e| broken(config, &e))?;
            if self.pending.is_empty() {
                self.pending = bytes;
            } else {
                self.pending.extend_from_slice(&bytes);
            }
        }
    }
}

fn broken(config: &Settings, error: &Error) -> Error {
    Error::Unavailable(format!("the connection to redis at {} broke: {}", config.address(), error.message()))
}

/// An error reply as the error of the call. `what` names the command and what it was on
/// (`XADD on topic "t"`); `holds` what the key should hold (`a stream`), for `WRONGTYPE`,
/// the caller's mistake. A busy or failing-over server is `unavailable`, the rest (a refused
/// password included) `internal`.
pub fn refused(what: &str, message: &str, holds: &str) -> Error {
    let text = format!("redis refused {}: {}", what, message);
    match message.split(' ').next().unwrap_or("") {
        "LOADING" | "BUSY" | "MASTERDOWN" | "TRYAGAIN" | "CLUSTERDOWN" | "READONLY" => Error::Unavailable(text),
        "NOAUTH" | "WRONGPASS" => {
            Error::Internal(format!("{} (set redisPassword, and redisUsername for an ACL user)", text))
        }
        "WRONGTYPE" => Error::InvalidArgument(format!("{} (the key holds something other than {})", text, holds)),
        _ => Error::Internal(text),
    }
}
