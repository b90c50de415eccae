//! [`RedisStore`]: one connection and one key prefix for every kind of state, and the key
//! names it builds (recipient ids as they are, or hashed).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use redis::FromRedisValue;
use redis::aio::{ConnectionLike, ConnectionManager};
use time::OffsetDateTime;

use super::connection::{backend, connect};
use super::keys::{KeyHashSecret, RecipientIds};
use crate::conversation::store::{StoreError, check_waid};

/// The key prefix unless set with [`RedisStore::with_prefix`].
pub const DEFAULT_PREFIX: &str = "wcwa:";

/// A connection [`RedisStore`] can run on: any [`ConnectionLike`] connection that can be
/// cloned and sent between tasks, such as a [`ConnectionManager`] or a
/// [`MultiplexedConnection`](redis::aio::MultiplexedConnection).
/// Implemented for every such type; it only names the bounds once.
pub trait RedisConnection: ConnectionLike + Clone + Send + Sync + 'static {}

impl<C: ConnectionLike + Clone + Send + Sync + 'static> RedisConnection for C {}

/// Session windows, opt-in ledger, dedupe marks and template fallbacks in one Redis database.
///
/// Clones share the connection. See the [module docs](super) for the keys it writes and for
/// what happens while the server is unreachable.
///
/// ```no_run
/// use webex_connect_whatsapp::conversation::redis::RedisStore;
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
/// assert_eq!(store.prefix(), "wcwa:");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore<C = ConnectionManager> {
    pub(super) conn: C,
    pub(super) prefix: Arc<str>,
    pub(super) ids: RecipientIds,
}

impl RedisStore<ConnectionManager> {
    /// Connects to the Redis server at `url` (`redis://[:password@]host:port/db`, or
    /// `rediss://` with redis's TLS features) over one multiplexed connection that
    /// reconnects by itself after the server restarts (see the
    /// [module docs](super#when-redis-goes-away)).
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
    /// use webex_connect_whatsapp::conversation::redis::RedisStore;
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
        /// them. See [what stays in values](super#recipient-ids-in-key-names) (the consent
        /// evidence and a pending fallback must name their recipient) and, before you switch an
        /// existing store, [`migrate_recipient_keys`](Self::migrate_recipient_keys).
        ///
        /// ```no_run
        /// use webex_connect_whatsapp::conversation::redis::{KeyHashSecret, RedisStore};
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

    pub(super) fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    /// The key of a recipient's `kind` of state and a connection to query it, or why the
    /// recipient id is refused. Checked before the future is built, so the future owns
    /// nothing borrowed. The id is checked as given, hashed or not, so a store refuses the
    /// same ids either way.
    pub(super) fn recipient_key(&self, kind: &str, waid: &str) -> Result<(String, C), StoreError> {
        check_waid(waid)?;
        Ok((self.key(kind, &self.ids.of(waid)), self.conn.clone()))
    }

    /// Sends `command` with the key of a recipient's `kind` of state, then `args`, and reads
    /// the reply. A refused recipient id fails before anything is sent.
    pub(super) fn query_recipient<T: FromRedisValue + Send>(
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
    pub(super) fn erasure_ids(&self, waid: &str) -> Result<Vec<String>, StoreError> {
        check_waid(waid)?;
        let own = self.ids.of(waid).into_owned();
        Ok(if own == waid {
            vec![own]
        } else {
            vec![own, waid.to_owned()]
        })
    }

    pub(super) fn optin_index(&self) -> String {
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

pub(super) fn corrupt(what: &'static str, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        store: "redis",
        what,
        detail: detail.into(),
    }
}

pub(super) fn micros(t: OffsetDateTime) -> i128 {
    t.unix_timestamp_nanos() / 1_000
}

pub(super) fn from_micros(value: &str) -> Result<OffsetDateTime, StoreError> {
    let n: i128 = value
        .parse()
        .map_err(|_| corrupt("session window timestamp", "not an integer"))?;
    OffsetDateTime::from_unix_timestamp_nanos(n.saturating_mul(1_000))
        .map_err(|e| corrupt("session window timestamp", e.to_string()))
}
