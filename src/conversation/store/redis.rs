//! Redis-backed stores (feature `redis`): one [`RedisStore`] implements [`WindowStore`],
//! [`OptInStore`], [`SeenStore`] and [`FallbackStore`], so several webhook receivers and
//! senders behind a load balancer agree on every session window, every consent, every
//! duplicate and every pending template fallback.
//!
//! ```no_run
//! use webex_connect_whatsapp::conversation::dedupe::Deduplicator;
//! use webex_connect_whatsapp::conversation::optin::OptInLedger;
//! use webex_connect_whatsapp::conversation::store::redis::RedisStore;
//! use webex_connect_whatsapp::conversation::window::SessionWindows;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::connect("redis://127.0.0.1:6379/").await?.with_prefix("shop:wa:");
//! let windows = SessionWindows::new(store.clone());
//! let ledger = OptInLedger::new(store.clone());
//! let dedupe = Deduplicator::new(store);
//! # let _ = (windows, ledger, dedupe);
//! # Ok(()) }
//! ```
//!
//! # Keys and what they hold
//!
//! Every key starts with the [prefix](RedisStore::with_prefix) (default [`DEFAULT_PREFIX`]).
//! `<id>` is the recipient id as given (a waid, a normalized WAID or a BSUID), or with
//! [hashed keys](RedisStore::with_hashed_keys) `hmac:` and 32 hex digits of a keyed hash of
//! it:
//!
//! | key | value | expiry |
//! |---|---|---|
//! | `<prefix>window:<id>` | `"<last inbound µs> <keep until µs>"` (Unix microseconds) | at *keep until* (window end + retention) |
//! | `<prefix>optin:<id>` | list of JSON [`ConsentEvent`]s, oldest first, each naming its recipient; at most [`MAX_CONSENT_EVENTS`] (the oldest by time are dropped, never the latest) | none: consent evidence is kept until [erased](OptInStore::erase) |
//! | `<prefix>optin:index` | set of the `<id>`s with a consent list | none |
//! | `<prefix>seen:<dedupe key>` | `p:<owner token>` while a delivery of the event is being handled (a claim); `d` once it was handled (any value not starting with `p:`, such as the tokens earlier versions wrote, counts as handled) | the claim lease while pending; the dedupe TTL once handled |
//! | `<prefix>fallback:<transid>` | hash: `state` (`pending`, `failed`: a `7710` came before the send's answer, `taken`, `done`), `original` (the transid), `correlation_id`; while pending `fallback`, the JSON [`PendingFallback`] (recipient, template, correlation id); once taken `taken_at` (Unix µs) | the fallback retention after the last change (default 24 h, [`DEFAULT_FALLBACK_RETENTION`](crate::conversation::fallback::DEFAULT_FALLBACK_RETENTION)) |
//! | `<prefix>fallbacks:pending` | sorted set of the pending fallbacks' transids, scored by expiry (server ms) | none; expired members are dropped on each count |
//! | `<prefix>fallbacks:taken` | sorted set of the taken, unfinished fallbacks' transids, scored by expiry | none; expired members are dropped on each listing |
//!
//! A transid longer than [`MAX_PLAIN_KEY_CHARS`](crate::conversation::fallback::MAX_PLAIN_KEY_CHARS)
//! or with whitespace appears in keys as `sha256:<hex>`.
//! Nothing else is stored: no message text except a pending fallback's template, no names.
//!
//! # Recipient ids in key names
//!
//! By default the window and opt-in keys, and the opt-in index, hold recipient ids as they
//! are: anyone who can list keys (`SCAN`, `KEYS`, `MONITOR`, a replica, a key-space
//! metrics tool) reads phone numbers and user ids there. With
//! [`RedisStore::with_hashed_keys`] they hold an HMAC-SHA256 of the id instead, keyed with a
//! [`KeyHashSecret`] every instance shares: stable across instances, meaningless without
//! the secret. What is left, and why:
//!
//! | where | recipient id, plain keys | with hashed keys |
//! |---|---|---|
//! | window key | the id | a keyed hash; the value holds only two timestamps |
//! | opt-in key, opt-in index | the id | a keyed hash |
//! | opt-in list values | the id, in each event | the id, in each event: consent evidence must say whose it is, and [`OptInLedger::export`](crate::conversation::optin::OptInLedger::export) reads it from there |
//! | seen keys | a receipt's destination as an unkeyed SHA-256 (32 hex digits), never as such | the same |
//! | fallback keys and sets | none (transids) | none |
//! | pending fallback value | the id, in the JSON [`PendingFallback`]: it is needed to send the fallback, and is deleted when the fallback is taken | the same |
//!
//! Nothing needs an id back from a key: the export reads each list's events, which name
//! their recipient. The seen keys' digest of a destination is unkeyed, with or without
//! hashed keys: it keeps numbers from being read at a glance, but someone with the keys and
//! time can find a number by trying them all. Values still reach whoever can read them
//! (`GET`, `MONITOR`, a backup):
//! restrict access with Redis ACLs and TLS as for any personal data. A store reads only keys
//! of its own form: after switching an existing store, run
//! [`RedisStore::migrate_recipient_keys`]; until then an erasure
//! ([`OptInStore::erase`], [`WindowStore::forget`]) deletes both forms of the id.
//!
//! # Scripts
//!
//! Window updates run as one Lua script
//! (`EVAL`) so a late inbound never moves a window backwards even when two instances record
//! at once; a claim is one Lua script (check and claim in one step), and so is a release
//! (delete only our own claim); each change of a fallback is one Lua script, so exactly one
//! instance takes it. Needs Redis 5 or later (the fallback scripts read the server's `TIME`
//! before writing).
//!
//! # A lost reply
//!
//! When a claim fails without an answer (a timeout, a dropped connection), the server may
//! have applied it: the key would then stay claimed although nobody handles the event, and
//! the platform's retry would be refused until the lease ends. So after any failed claim
//! the store deletes the key if, and only if, it still holds this claim's owner token (one
//! Lua script, best effort), then returns the error; the receiver answers 503 and the retry
//! counts as new. The token keeps a racing instance's claim, and any done mark, intact. If
//! the server cannot be reached for that delete either, the claim lasts until its lease
//! ends, which is shorter than the platform's wait before its retry.
//!
//! # When Redis goes away
//!
//! [`RedisStore::connect`] opens a [`ConnectionManager`]: a connection that reconnects by
//! itself, so a restarted or failed-over server is used again without a new `connect`.
//! While the server is unreachable every call fails with [`StoreError::Backend`], within a
//! bounded time: each command waits at most [`RESPONSE_TIMEOUT`] for an answer, and a lost
//! connection is retried [`RECONNECT_RETRIES`] times (each attempt up to
//! [`CONNECTION_TIMEOUT`], with backoff from [`RECONNECT_MIN_DELAY`] to
//! [`RECONNECT_MAX_DELAY`]) before the waiting calls fail; the next call tries again. The
//! first call after the server is back may still fail (its connection was the old one) and
//! starts the reconnection.
//!
//! Failing is the safe direction for each kind of state: a failed seen-key check makes the
//! receiver answer 503, so Webex Connect retries the event; a failed window or opt-in read
//! makes the guard refuse to send ([`GuardError::Store`](crate::guard::GuardError::Store))
//! rather than guess; a failed fallback change leaves the webhook to be retried, or the
//! fallback reported as unfinished, never sent twice. The shared rate limit
//! ([`SharedRateLimit`](crate::client::SharedRateLimit)) opens its connection the same way.
//!
//! The store works on any [`RedisConnection`] (a [`ConnectionLike`] connection that can be
//! cloned and shared between tasks): the [`ConnectionManager`] that
//! [`RedisStore::connect`] opens, or one you configure yourself (another
//! [`ConnectionManager`], or a [`MultiplexedConnection`](redis::aio::MultiplexedConnection),
//! which does not reconnect), passed to [`RedisStore::with_connection`].

mod connection;
mod fallback;
mod keys;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::FromRedisValue;
use redis::aio::{ConnectionLike, ConnectionManager};
use time::OffsetDateTime;

pub use connection::{
    CONNECTION_TIMEOUT, RECONNECT_MAX_DELAY, RECONNECT_MIN_DELAY, RECONNECT_RETRIES,
    RESPONSE_TIMEOUT,
};
pub(crate) use connection::{backend, connect};
use keys::RecipientIds;
pub use keys::{
    HASHED_ID_HEX_DIGITS, KeyHashSecret, KeyHashSecretError, KeyMigration,
    MIN_KEY_HASH_SECRET_BYTES,
};

#[cfg(doc)]
use crate::conversation::fallback::{FallbackStore, PendingFallback};
use crate::conversation::optin::{ConsentEvent, MAX_CONSENT_EVENTS, OptInStore, events_over_cap};
use crate::conversation::store::{
    Claim, InboundRecord, SeenStore, StoreError, WindowStore, check_waid, ttl_millis,
};

/// Claims KEYS[1] for ARGV[1] (`p:<owner>`) for ARGV[2] ms unless it holds a claim or a
/// done mark, and says which it found.
const CLAIM_LUA: &str = r"
local cur = redis.call('GET', KEYS[1])
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 'claimed'
end
if string.sub(cur, 1, 2) == 'p:' then return 'pending' end
return 'done'
";

/// Deletes KEYS[1] only if it holds ARGV[1] (`p:<owner>`): undoes our own claim, never
/// another's and never a done mark.
const RELEASE_OWN_LUA: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// What a seen key holds while `owner` handles its event.
fn pending_value(owner: &str) -> String {
    format!("p:{owner}")
}

/// What a seen key holds once its event was handled. Any value that does not start with
/// `p:` counts as done, including the tokens earlier versions wrote.
const DONE_VALUE: &str = "d";

/// The key prefix unless set with [`RedisStore::with_prefix`].
pub const DEFAULT_PREFIX: &str = "wcwa:";

/// Keeps the later of the stored and the new inbound time, atomically.
/// KEYS[1] window key; ARGV[1] new time (µs); ARGV[2] TTL (ms); ARGV[3] new value.
const RECORD_WINDOW_LUA: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur then
  local at = tonumber(string.match(cur, '^(%-?%d+)'))
  if at and at >= tonumber(ARGV[1]) then return cur end
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
return ARGV[3]
";

/// A connection [`RedisStore`] can run on: any [`ConnectionLike`] connection that can be
/// cloned and sent between tasks, such as a [`ConnectionManager`] or a
/// [`MultiplexedConnection`](redis::aio::MultiplexedConnection).
/// Implemented for every such type; it only names the bounds once.
pub trait RedisConnection: ConnectionLike + Clone + Send + Sync + 'static {}

impl<C: ConnectionLike + Clone + Send + Sync + 'static> RedisConnection for C {}

/// Session windows, opt-in ledger, seen-keys and template fallbacks in one Redis database.
///
/// Clones share the connection. See the [module docs](self) for the keys it writes and for
/// what happens while the server is unreachable.
///
/// ```no_run
/// use webex_connect_whatsapp::conversation::store::redis::RedisStore;
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
/// assert_eq!(store.prefix(), "wcwa:");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore<C = ConnectionManager> {
    conn: C,
    prefix: Arc<str>,
    ids: RecipientIds,
}

impl RedisStore<ConnectionManager> {
    /// Connects to the Redis server at `url` (`redis://[:password@]host:port/db`, or
    /// `rediss://` with redis's TLS features) over one multiplexed connection that
    /// reconnects by itself after the server restarts (see the
    /// [module docs](self#when-redis-goes-away)).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the URL is malformed or the server cannot be reached.
    /// The message never contains the URL (it may hold a password).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Ok(Self::with_connection(connect(url).await?))
    }
}

impl<C: RedisConnection> RedisStore<C> {
    /// A store on a connection you opened and configured yourself (a `ConnectionManager`
    /// with other timeouts, or a `MultiplexedConnection`, which does not reconnect).
    ///
    /// ```no_run
    /// use redis::aio::{ConnectionManager, ConnectionManagerConfig};
    /// use webex_connect_whatsapp::conversation::store::redis::RedisStore;
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
    /// let config = ConnectionManagerConfig::new()
    ///     .set_response_timeout(Some(std::time::Duration::from_millis(200)));
    /// let conn = ConnectionManager::new_with_config(client, config).await?;
    /// let store = RedisStore::with_connection(conn);
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    pub fn with_connection(conn: C) -> Self {
        Self {
            conn,
            prefix: Arc::from(DEFAULT_PREFIX),
            ids: RecipientIds::Plain,
        }
    }

    /// The connection, to share with what else uses the same server (the shared rate limit,
    /// the send journal) instead of opening another.
    pub fn connection(&self) -> &C {
        &self.conn
    }

    crate::setters::setters! {
        /// Puts every key under `prefix` (e.g. `"shop:wa:"`), so several apps or test runs can
        /// share one database.
        #[must_use]
        fn with_prefix(self, prefix: impl Into<String>) => self.prefix = Arc::from(prefix.into());

        /// Writes recipient ids in key names as a keyed hash of them, not as they are: the
        /// window key of `447400123456` becomes `<prefix>window:hmac:<32 hex digits>` instead of
        /// `<prefix>window:447400123456`, and so do the opt-in keys and the members of the
        /// opt-in index. Whoever can list keys (`SCAN`, `KEYS`, `MONITOR`, a replica, a key-space
        /// metrics tool) then no longer reads phone numbers or user ids from them. Off by default.
        ///
        /// Every instance that shares the store must use the same prefix **and the same
        /// secret**: the hash is stable for a given secret, so instances with one secret share
        /// every window and opt-in, and an instance with another secret (or none) sees none of
        /// them. See [what stays in values](self#recipient-ids-in-key-names) (the consent
        /// evidence and a pending fallback must name their recipient) and, before you switch an
        /// existing store, [`migrate_recipient_keys`](Self::migrate_recipient_keys).
        ///
        /// ```no_run
        /// use webex_connect_whatsapp::conversation::store::redis::{KeyHashSecret, RedisStore};
        /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
        /// let secret = KeyHashSecret::new(std::env::var("WA_KEY_HASH_SECRET")?)?;
        /// let store = RedisStore::connect("redis://127.0.0.1:6379/")
        ///     .await?
        ///     .with_prefix("shop:wa:")
        ///     .with_hashed_keys(secret);
        /// assert!(store.hashes_recipient_keys());
        /// # Ok(()) }
        /// ```
        #[must_use]
        fn with_hashed_keys(self, secret: KeyHashSecret) => self.ids = RecipientIds::Hashed(secret);
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether recipient ids appear in key names as a keyed hash
    /// ([`with_hashed_keys`](Self::with_hashed_keys)).
    pub fn hashes_recipient_keys(&self) -> bool {
        self.ids.is_hashed()
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    /// The key of a recipient's `kind` of state and a connection to query it, or why the
    /// recipient id is refused. Checked before the future is built, so the future owns
    /// nothing borrowed. The id is checked as given, hashed or not, so a store refuses the
    /// same ids either way.
    fn recipient_key(&self, kind: &str, waid: &str) -> Result<(String, C), StoreError> {
        check_waid(waid)?;
        Ok((self.key(kind, &self.ids.of(waid)), self.conn.clone()))
    }

    /// Sends `command` with the key of a recipient's `kind` of state, then `args`, and reads
    /// the reply. A refused recipient id fails before anything is sent.
    fn query_recipient<T: FromRedisValue + Send>(
        &self,
        kind: &str,
        waid: &str,
        command: &str,
        args: &[i64],
    ) -> impl Future<Output = Result<T, StoreError>> + Send + use<T, C> {
        let prepared = self.recipient_key(kind, waid).map(|(key, conn)| {
            let mut cmd = redis::cmd(command);
            cmd.arg(key).arg(args);
            (cmd, conn)
        });
        async move {
            let (cmd, mut conn) = prepared?;
            cmd.query_async(&mut conn).await.map_err(backend)
        }
    }

    /// Every form of `waid` an erasure deletes: the store's own, and with hashed keys also
    /// the plain id, so that state written before hashing was turned on (and not yet
    /// [migrated](Self::migrate_recipient_keys)) is erased too.
    fn erasure_ids(&self, waid: &str) -> Result<Vec<String>, StoreError> {
        check_waid(waid)?;
        let own = self.ids.of(waid).into_owned();
        Ok(if own == waid {
            vec![own]
        } else {
            vec![own, waid.to_owned()]
        })
    }

    fn optin_index(&self) -> String {
        format!("{}optin:index", self.prefix)
    }
}

impl<C> fmt::Debug for RedisStore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connection is left out: its address may carry credentials.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("hashed_keys", &self.ids.is_hashed())
            .finish_non_exhaustive()
    }
}

fn corrupt(what: &'static str, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        store: "redis",
        what,
        detail: detail.into(),
    }
}

fn micros(t: OffsetDateTime) -> i128 {
    t.unix_timestamp_nanos() / 1_000
}

fn from_micros(value: &str) -> Result<OffsetDateTime, StoreError> {
    let n: i128 = value
        .parse()
        .map_err(|_| corrupt("session window timestamp", "not an integer"))?;
    OffsetDateTime::from_unix_timestamp_nanos(n.saturating_mul(1_000))
        .map_err(|e| corrupt("session window timestamp", e.to_string()))
}

/// Parses `"<at µs> <keep until µs>"`.
fn parse_window(value: &str) -> Result<(OffsetDateTime, OffsetDateTime), StoreError> {
    let mut parts = value.split(' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(at), Some(keep), None) => Ok((from_micros(at)?, from_micros(keep)?)),
        _ => Err(corrupt(
            "session window",
            "expected two timestamps separated by a space",
        )),
    }
}

impl<C: RedisConnection> WindowStore for RedisStore<C> {
    fn record_inbound(
        &self,
        inbound: InboundRecord<'_>,
    ) -> impl Future<Output = Result<OffsetDateTime, StoreError>> + Send {
        let prepared = self.recipient_key("window", inbound.waid);
        let (at, keep_until, now) = (inbound.at, inbound.keep_until, inbound.now);
        async move {
            let (key, mut conn) = prepared?;
            let ttl_ms = (keep_until - now).whole_milliseconds();
            if ttl_ms <= 0 {
                // Past its retention already: report the later of the two, store nothing.
                let current: Option<String> = redis::cmd("GET")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
                    .map_err(backend)?;
                if let Some(current) = current {
                    let (stored_at, stored_keep) = parse_window(&current)?;
                    if stored_keep > now && stored_at >= at {
                        return Ok(stored_at);
                    }
                }
                return Ok(at);
            }
            let value = format!("{} {}", micros(at), micros(keep_until));
            let stored: String = redis::cmd("EVAL")
                .arg(RECORD_WINDOW_LUA)
                .arg(1)
                .arg(&key)
                .arg(micros(at).to_string())
                .arg(ttl_ms.to_string())
                .arg(value)
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            Ok(parse_window(&stored)?.0)
        }
    }

    fn last_inbound(
        &self,
        waid: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<OffsetDateTime>, StoreError>> + Send {
        let value = self.query_recipient::<Option<String>>("window", waid, "GET", &[]);
        async move {
            let Some(value) = value.await? else {
                return Ok(None);
            };
            let (at, keep_until) = parse_window(&value)?;
            Ok((keep_until > now).then_some(at))
        }
    }

    fn forget(&self, waid: &str) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let prepared = self.erasure_ids(waid).map(|ids| {
            // One DEL per key, not one DEL of both: on Redis Cluster the two forms of an id
            // may live in different slots.
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.cmd("DEL").arg(self.key("window", id));
            }
            (pipe, self.conn.clone())
        });
        async move {
            let (pipe, mut conn) = prepared?;
            let deleted: Vec<i64> = pipe.query_async(&mut conn).await.map_err(backend)?;
            Ok(deleted.iter().any(|&n| n > 0))
        }
    }
}

/// Drops the events at ARGV's positions (pairs of a 0-based position and the value read
/// there) from the list KEYS[1], only if every one is still in place: an append or trim by
/// another instance since the read leaves the list alone (the next append trims it). The
/// marker is never a stored event, which are JSON objects.
const TRIM_CONSENT_LUA: &str = r"
for i = 1, #ARGV, 2 do
  if redis.call('LINDEX', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then return 0 end
end
for i = 1, #ARGV, 2 do
  redis.call('LSET', KEYS[1], ARGV[i], 'wcwa:dropped')
end
redis.call('LREM', KEYS[1], 0, 'wcwa:dropped')
return 1
";

/// Keeps a recipient's consent list at [`MAX_CONSENT_EVENTS`], dropping the oldest events by
/// time (never the latest, see [`events_over_cap`]). Best effort: the event is appended
/// already, so a failure here is not the append's; an unreadable list is left as it is
/// (reading the status reports it), and a list left over the cap is trimmed by the next
/// append.
async fn trim_consent<C: RedisConnection>(conn: &mut C, key: &str) {
    let Ok(values) = redis::cmd("LRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .query_async::<Vec<String>>(conn)
        .await
    else {
        return;
    };
    let Ok(events) = parse_events(&values) else {
        return;
    };
    let mut trim = redis::cmd("EVAL");
    trim.arg(TRIM_CONSENT_LUA).arg(1).arg(key);
    for position in events_over_cap(&events, MAX_CONSENT_EVENTS) {
        if let Some(value) = values.get(position) {
            trim.arg(position).arg(value);
        }
    }
    let _trimmed: Result<i64, _> = trim.query_async(conn).await;
}

fn parse_events(values: &[String]) -> Result<Vec<ConsentEvent>, StoreError> {
    values
        .iter()
        .map(|v| serde_json::from_str(v).map_err(|e| corrupt("consent event", e.to_string())))
        .collect()
}

impl<C: RedisConnection> OptInStore for RedisStore<C> {
    fn append(&self, event: ConsentEvent) -> impl Future<Output = Result<(), StoreError>> + Send {
        let prepared = check_waid(event.recipient()).map(|()| {
            let member = self.ids.of(event.recipient()).into_owned();
            (self.key("optin", &member), member)
        });
        let index = self.optin_index();
        let mut conn = self.conn.clone();
        async move {
            let (key, member) = prepared?;
            let json = serde_json::to_string(&event)
                .map_err(|e| corrupt("consent event", e.to_string()))?;
            let mut pipe = redis::pipe();
            pipe.atomic()
                .cmd("RPUSH")
                .arg(&key)
                .arg(json)
                .cmd("SADD")
                .arg(&index)
                .arg(&member)
                .ignore();
            let (len,): (usize,) = pipe.query_async(&mut conn).await.map_err(backend)?;
            if len > MAX_CONSENT_EVENTS {
                trim_consent(&mut conn, &key).await;
            }
            Ok(())
        }
    }

    fn events(
        &self,
        waid: &str,
    ) -> impl Future<Output = Result<Vec<ConsentEvent>, StoreError>> + Send {
        let values = self.query_recipient::<Vec<String>>("optin", waid, "LRANGE", &[0, -1]);
        async move { parse_events(&values.await?) }
    }

    fn export(&self) -> impl Future<Output = Result<Vec<ConsentEvent>, StoreError>> + Send {
        let index = self.optin_index();
        let prefix = Arc::clone(&self.prefix);
        let mut conn = self.conn.clone();
        async move {
            // The index's members are the ids as they appear in key names: recipient ids, or
            // their hashes. Either way the events name their recipient, so nothing needs the
            // id back from a key.
            let mut members: Vec<String> = redis::cmd("SMEMBERS")
                .arg(&index)
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            members.sort_unstable();
            let mut lists = Vec::with_capacity(members.len());
            for chunk in members.chunks(500) {
                let mut pipe = redis::pipe();
                for member in chunk {
                    pipe.cmd("LRANGE")
                        .arg(format!("{prefix}optin:{member}"))
                        .arg(0)
                        .arg(-1);
                }
                let values: Vec<Vec<String>> =
                    pipe.query_async(&mut conn).await.map_err(backend)?;
                for list in &values {
                    lists.push(parse_events(list)?);
                }
            }
            // Sorted by recipient, as the in-memory store does, so exports are stable (a
            // stable sort: with plain ids this is the members' order already).
            lists.sort_by(|a, b| {
                let a = a.first().map(ConsentEvent::recipient);
                a.cmp(&b.first().map(ConsentEvent::recipient))
            });
            Ok(lists.into_iter().flatten().collect())
        }
    }

    fn erase(&self, waid: &str) -> impl Future<Output = Result<usize, StoreError>> + Send {
        let prepared = self.erasure_ids(waid).map(|ids| {
            let keys: Vec<String> = ids.iter().map(|id| self.key("optin", id)).collect();
            let mut pipe = redis::pipe();
            pipe.atomic();
            for key in &keys {
                pipe.cmd("LLEN").arg(key);
            }
            pipe.cmd("DEL")
                .arg(&keys)
                .ignore()
                .cmd("SREM")
                .arg(self.optin_index())
                .arg(&ids)
                .ignore();
            (pipe, self.conn.clone())
        });
        async move {
            let (pipe, mut conn) = prepared?;
            let lens: Vec<usize> = pipe.query_async(&mut conn).await.map_err(backend)?;
            Ok(lens.iter().sum())
        }
    }
}

impl<C: RedisConnection> SeenStore for RedisStore<C> {
    fn claim(
        &self,
        key: &str,
        owner: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        let key = self.key("seen", key);
        let lease = ttl_millis(lease);
        let pending = pending_value(owner);
        let mut conn = self.conn.clone();
        async move {
            let lease = lease?;
            // One script, so the check and the claim are one atomic step on the server: of
            // any number of racing instances, exactly one gets "claimed".
            let found: Result<String, _> = redis::cmd("EVAL")
                .arg(CLAIM_LUA)
                .arg(1)
                .arg(&key)
                .arg(&pending)
                .arg(lease)
                .query_async(&mut conn)
                .await;
            match found {
                Ok(found) => match found.as_str() {
                    "claimed" => Ok(Claim::Claimed),
                    "pending" => Ok(Claim::Pending),
                    "done" => Ok(Claim::Done),
                    _ => Err(corrupt(
                        "seen-key claim reply",
                        "not claimed, pending or done",
                    )),
                },
                Err(err) => {
                    // The reply may be lost after the server applied the claim (see the
                    // module docs): undo our own claim, best effort, so the retry counts as
                    // new. The claim's error is the one worth reporting, so this one is
                    // dropped.
                    let _undone: Result<i64, _> = redis::cmd("EVAL")
                        .arg(RELEASE_OWN_LUA)
                        .arg(1)
                        .arg(&key)
                        .arg(&pending)
                        .query_async(&mut conn)
                        .await;
                    Err(backend(err))
                }
            }
        }
    }

    fn complete(
        &self,
        key: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let key = self.key("seen", key);
        let ttl = ttl_millis(ttl);
        let mut conn = self.conn.clone();
        async move {
            let ttl = ttl?;
            redis::cmd("SET")
                .arg(&key)
                .arg(DONE_VALUE)
                .arg("PX")
                .arg(ttl)
                .query_async::<()>(&mut conn)
                .await
                .map_err(backend)
        }
    }

    fn release(
        &self,
        key: &str,
        owner: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let key = self.key("seen", key);
        let pending = pending_value(owner);
        let mut conn = self.conn.clone();
        async move {
            let deleted: i64 = redis::cmd("EVAL")
                .arg(RELEASE_OWN_LUA)
                .arg(1)
                .arg(&key)
                .arg(&pending)
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            Ok(deleted > 0)
        }
    }
}
