//! [`RedisJournal`]: the send journal in Redis (see the
//! [module docs](crate::conversation::redis#the-send-journal)).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;

use super::connection::connect;
use super::store::{DEFAULT_PREFIX, RedisConnection};
use crate::conversation::journal::{
    Journal, JournalEntry, JournalError, JournalFuture, JournalRecord, decode_record, encode_record,
};
use crate::conversation::store::{StoreError, ttl_millis};
use crate::ids::CorrelationId;

/// Appends records in one step. KEYS[1] the order, KEYS[2] the counter, KEYS[3..] each
/// record's send list; ARGV[1] the retention in ms (0: none), then each record's correlation
/// id and JSON.
const APPEND_LUA: &str = r"
local retention = tonumber(ARGV[1])
for i = 3, #KEYS do
  redis.call('RPUSH', KEYS[i], ARGV[2 * i - 3])
  if retention > 0 then redis.call('PEXPIRE', KEYS[i], retention) end
  local id = ARGV[2 * i - 4]
  if not redis.call('ZSCORE', KEYS[1], id) then
    redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[2]), id)
  end
end
if retention > 0 then
  redis.call('PEXPIRE', KEYS[1], retention)
  redis.call('PEXPIRE', KEYS[2], retention)
end
return #KEYS - 2
";

/// Drops ids whose list has expired from the order, checking each list in the same step so
/// that a send appended to meanwhile stays. KEYS[1] the order, KEYS[2..] the lists; ARGV the
/// ids, in the same order.
const PRUNE_LUA: &str = r"
local removed = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i - 1])
  end
end
return removed
";

/// How many ids [`Journal::entries`] reads per round trip.
const PAGE: usize = 500;

/// A [`Journal`] in Redis, shared by every instance that opens it with the same prefix.
///
/// Clones share the connection. See the [module docs](super#the-send-journal) for the keys it
/// writes, what survives a Redis crash and retention.
///
/// ```no_run
/// use webex_connect_whatsapp::conversation::redis::RedisJournal;
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let journal = RedisJournal::connect("redis://127.0.0.1:6379/").await?;
/// assert_eq!(journal.prefix(), "wcwa:");
/// assert_eq!(journal.retention(), None);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisJournal<C = ConnectionManager> {
    conn: C,
    prefix: Arc<str>,
    /// The list TTL in ms, if any.
    retention_ms: Option<u64>,
}

impl RedisJournal<ConnectionManager> {
    /// Connects to the Redis server at `url` (`redis://[:password@]host:port/db`, or
    /// `rediss://` with redis's TLS features), opening the same kind of connection as
    /// [`RedisStore::connect`](crate::conversation::redis::RedisStore::connect).
    ///
    /// # Errors
    ///
    /// [`JournalError::Backend`] when the URL is malformed or the server cannot be reached.
    /// The message never contains the URL (it may hold a password).
    pub async fn connect(url: &str) -> Result<Self, JournalError> {
        let conn = connect(url).await.map_err(|e| JournalError::Backend {
            store: "redis",
            // The store's error only names the store again: keep its cause.
            source: match e {
                StoreError::Backend { source, .. } => source,
                other => Box::new(other),
            },
        })?;
        Ok(Self::with_connection(conn))
    }
}

impl<C: RedisConnection> RedisJournal<C> {
    /// A journal on a connection you opened (a `MultiplexedConnection` or a
    /// `ConnectionManager`).
    ///
    /// ```no_run
    /// use webex_connect_whatsapp::conversation::redis::RedisJournal;
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379/")?;
    /// let journal = RedisJournal::with_connection(client.get_multiplexed_async_connection().await?);
    /// # let _ = journal;
    /// # Ok(()) }
    /// ```
    pub fn with_connection(conn: C) -> Self {
        Self {
            conn,
            prefix: Arc::from(DEFAULT_PREFIX),
            retention_ms: None,
        }
    }

    crate::setters::setters! {
        /// Puts every key under `prefix` (e.g. `"shop:wa:"`, or `"campaign-42:"` for one journal
        /// per campaign).
        #[must_use]
        fn with_prefix(self, prefix: impl Into<String>) => self.prefix = Arc::from(prefix.into());
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Lets each send's records expire `retention` after the last one (see
    /// [Retention](super#journal-retention)); by default nothing expires. Rounded up to whole
    /// milliseconds.
    ///
    /// # Errors
    ///
    /// [`JournalError::InvalidRetention`] for zero, or more than Redis can hold.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use webex_connect_whatsapp::conversation::journal::JournalError;
    /// use webex_connect_whatsapp::conversation::redis::RedisJournal;
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let journal = RedisJournal::connect("redis://127.0.0.1:6379/").await?;
    /// let kept = journal.clone().with_retention(Duration::from_secs(7 * 24 * 60 * 60))?;
    /// assert_eq!(kept.retention(), Some(Duration::from_secs(7 * 24 * 60 * 60)));
    /// assert!(matches!(journal.with_retention(Duration::ZERO), Err(JournalError::InvalidRetention { .. })));
    /// # Ok(()) }
    /// ```
    pub fn with_retention(mut self, retention: Duration) -> Result<Self, JournalError> {
        let millis = ttl_millis(retention).map_err(|e| match e {
            StoreError::InvalidTtl { millis, max_millis } => {
                JournalError::InvalidRetention { millis, max_millis }
            }
            other => JournalError::Backend {
                store: "redis",
                source: Box::new(other),
            },
        })?;
        self.retention_ms = Some(millis);
        Ok(self)
    }

    /// How long each send's records are kept after the last one; `None`: for ever.
    pub fn retention(&self) -> Option<Duration> {
        self.retention_ms.map(Duration::from_millis)
    }

    fn send_key(&self, correlation_id: &str) -> String {
        send_key(&self.prefix, correlation_id)
    }

    fn order_key(&self) -> String {
        format!("{}journal:order", self.prefix)
    }
}

fn send_key(prefix: &str, correlation_id: &str) -> String {
    format!("{prefix}journal:send:{correlation_id}")
}

impl<C> fmt::Debug for RedisJournal<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connection is left out: its address may carry credentials.
        f.debug_struct("RedisJournal")
            .field("prefix", &self.prefix)
            .field("retention_ms", &self.retention_ms)
            .finish_non_exhaustive()
    }
}

fn backend(err: redis::RedisError) -> JournalError {
    JournalError::Backend {
        store: "redis",
        source: Box::new(err),
    }
}

/// Folds one send's stored list; `None` when the list is empty (never written, or expired).
fn fold_list(
    key: &str,
    id: &CorrelationId,
    values: &[Vec<u8>],
) -> Result<Option<JournalEntry>, JournalError> {
    let mut entry: Option<JournalEntry> = None;
    for (i, value) in values.iter().enumerate() {
        let record = decode_record(value).map_err(|detail| JournalError::Corrupt {
            location: format!("item {i} of the Redis list {key}"),
            detail,
        })?;
        // A record of a later kind, or (written by hand) of another send, changes nothing.
        let Some(record) = record.filter(|r| r.correlation_id() == id) else {
            continue;
        };
        match &mut entry {
            Some(entry) => entry.apply(&record),
            None => entry = Some(JournalEntry::new(&record)),
        }
    }
    Ok(entry)
}

impl<C: RedisConnection> Journal for RedisJournal<C> {
    fn append<'a>(&'a self, records: &'a [JournalRecord]) -> JournalFuture<'a, ()> {
        Box::pin(async move {
            if records.is_empty() {
                return Ok(());
            }
            let mut script = redis::cmd("EVAL");
            script
                .arg(APPEND_LUA)
                .arg(records.len().saturating_add(2))
                .arg(self.order_key())
                .arg(format!("{}journal:seq", self.prefix));
            for record in records {
                script.arg(self.send_key(record.correlation_id().as_str()));
            }
            script.arg(self.retention_ms.unwrap_or(0));
            for record in records {
                script
                    .arg(record.correlation_id().as_str())
                    .arg(encode_record(record)?);
            }
            let mut conn = self.conn.clone();
            script
                .query_async::<i64>(&mut conn)
                .await
                .map_err(backend)?;
            Ok(())
        })
    }

    fn lookup<'a>(
        &'a self,
        correlation_id: &'a CorrelationId,
    ) -> JournalFuture<'a, Option<JournalEntry>> {
        Box::pin(async move {
            let key = self.send_key(correlation_id.as_str());
            let mut conn = self.conn.clone();
            let values: Vec<Vec<u8>> = redis::cmd("LRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            fold_list(&key, correlation_id, &values)
        })
    }

    fn entries(&self) -> JournalFuture<'_, Vec<JournalEntry>> {
        Box::pin(async move {
            let order = self.order_key();
            let mut conn = self.conn.clone();
            let mut entries = Vec::new();
            let mut expired: Vec<String> = Vec::new();
            // Paged by score, not rank: ids pruned or added meanwhile do not shift the pages.
            let mut after = String::from("-inf");
            loop {
                let page: Vec<(String, f64)> = redis::cmd("ZRANGEBYSCORE")
                    .arg(&order)
                    .arg(&after)
                    .arg("+inf")
                    .arg("WITHSCORES")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(PAGE)
                    .query_async(&mut conn)
                    .await
                    .map_err(backend)?;
                let Some((_, last)) = page.last() else { break };
                after = format!("({last}");
                let mut pipe = redis::pipe();
                for (id, _) in &page {
                    pipe.cmd("LRANGE").arg(self.send_key(id)).arg(0).arg(-1);
                }
                let lists: Vec<Vec<Vec<u8>>> =
                    pipe.query_async(&mut conn).await.map_err(backend)?;
                for ((id, _), values) in page.iter().zip(&lists) {
                    let key = self.send_key(id);
                    let Ok(correlation_id) = CorrelationId::new(id.as_str()) else {
                        return Err(JournalError::Corrupt {
                            location: format!("the Redis sorted set {order}"),
                            detail: "it holds a member that is not a valid correlation id".into(),
                        });
                    };
                    match fold_list(&key, &correlation_id, values)? {
                        Some(entry) => entries.push(entry),
                        None => expired.push(id.clone()),
                    }
                }
                if page.len() < PAGE {
                    break;
                }
            }
            if !expired.is_empty() {
                let mut prune = redis::cmd("EVAL");
                prune
                    .arg(PRUNE_LUA)
                    .arg(expired.len().saturating_add(1))
                    .arg(&order);
                for id in &expired {
                    prune.arg(self.send_key(id));
                }
                prune.arg(&expired);
                // Housekeeping only: the answer is complete without it, and the next walk
                // tries again.
                let _pruned: Result<i64, _> = prune.query_async(&mut conn).await;
            }
            Ok(entries)
        })
    }
}
