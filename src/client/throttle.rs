//! A client-side rate limit, so bursts wait here instead of failing with 7020.
//!
//! The limit is counted in destinations per second, the unit of the tenant's TPS. By default
//! it is kept in this process ([`ClientBuilder::rate_limit`](super::ClientBuilder::rate_limit));
//! with the `redis` feature, processes that share a Redis share one limit
//! ([`SharedRateLimit`]).

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The limiter a client waits on before each request.
#[derive(Debug)]
pub(crate) struct Throttle {
    per_second: NonZeroU32,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Local(LocalGcra),
    #[cfg(feature = "redis")]
    Shared(SharedRateLimit),
}

impl Throttle {
    /// A limit kept in this process.
    pub(crate) fn new(per_second: NonZeroU32) -> Self {
        Self {
            per_second,
            kind: Kind::Local(LocalGcra::new(per_second)),
        }
    }

    /// A limit kept in Redis, shared by every process that uses the same key.
    #[cfg(feature = "redis")]
    pub(crate) fn shared(limit: SharedRateLimit) -> Self {
        Self {
            per_second: limit.per_second,
            kind: Kind::Shared(limit),
        }
    }

    pub(crate) fn per_second(&self) -> NonZeroU32 {
        self.per_second
    }

    /// Waits until `count` destinations may go, and reserves them.
    pub(crate) async fn acquire(&self, count: usize) {
        match &self.kind {
            Kind::Local(gcra) => gcra.acquire(count).await,
            #[cfg(feature = "redis")]
            Kind::Shared(shared) => shared.acquire(count).await,
        }
    }
}

/// A GCRA (virtual-scheduling) limiter on tokio time with no burst allowance: each request
/// starts when the ones before it have used up their share of the second, so any one second
/// holds at most the limit, give or take the request at its edge (the platform answers 7020
/// above its TPS). A request for N destinations counts N.
#[derive(Debug)]
struct LocalGcra {
    interval: Duration,
    /// The theoretical arrival time of the next message.
    tat: Mutex<Option<Instant>>,
}

impl LocalGcra {
    fn new(per_second: NonZeroU32) -> Self {
        Self {
            interval: Duration::from_secs(1) / per_second.get(),
            tat: Mutex::new(None),
        }
    }

    async fn acquire(&self, count: usize) {
        let ready_at = self.reserve(count, Instant::now());
        tokio::time::sleep_until(ready_at).await;
    }

    fn reserve(&self, count: usize, now: Instant) -> Instant {
        let cost = self
            .interval
            .saturating_mul(u32::try_from(count).unwrap_or(u32::MAX));
        // The lock only guards two instants, so a poisoned one is still consistent.
        let mut tat = self
            .tat
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let start = tat.map_or(now, |t| t.max(now));
        *tat = Some(start + cost);
        start
    }
}

#[cfg(feature = "redis")]
pub use shared::SharedRateLimit;

#[cfg(feature = "redis")]
mod shared {
    use std::fmt;
    use std::num::NonZeroU32;
    use std::time::Duration;

    use redis::aio::ConnectionManager;

    use super::LocalGcra;
    use crate::conversation::redis::{backend, connect};
    use crate::conversation::store::StoreError;

    /// Reserves `ARGV[2]` destinations on the shared schedule and answers how many
    /// microseconds the caller must wait before sending them.
    ///
    /// KEYS[1] the schedule key; ARGV[1] microseconds per destination; ARGV[2] destinations.
    /// The time is the Redis server's own (`TIME`), so the processes' clocks need not agree.
    /// Each request starts when the ones reserved before it have used up their share of the
    /// second (no burst allowance), so any one second holds at most the limit, give or take
    /// the one request that straddles its edge.
    const RESERVE_LUA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cost = tonumber(ARGV[1]) * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
local next_tat = tat + cost
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.floor((next_tat - now) / 1000) + 1000)
return wait
";

    /// A rate limit shared by every process whose clients use the same Redis key: the
    /// tenant's TPS is one budget, however many workers send.
    ///
    /// A GCRA schedule in one Lua script, counted in destinations per second on the Redis
    /// server's clock.
    ///
    /// # When Redis goes away
    ///
    /// The connection is the reconnecting one the Redis stores use (see
    /// [`RedisStore`](crate::conversation::redis::RedisStore#when-redis-goes-away)):
    /// a restarted server is used again without a new `connect`, and while it is unreachable
    /// [`reserve`](Self::reserve) fails within a bounded time.
    ///
    /// A client then *waits* rather than fails: it limits its sends to the same
    /// `per_second` in its own process (and logs a warning per request), never sends
    /// without a limit. Several processes limiting on their own can together exceed the
    /// tenant's TPS until Redis is back; the platform answers the excess `7020`, which
    /// proves the request was not processed, so the client resends it without risk of a
    /// duplicate. Failing the sends instead would stop every send for as long as Redis is
    /// down.
    ///
    /// ```no_run
    /// use webex_connect_whatsapp::client::{Client, SharedRateLimit};
    /// use webex_connect_whatsapp::AppId;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let tps = std::num::NonZeroU32::new(20).ok_or("zero")?;
    /// let limit = SharedRateLimit::connect("redis://127.0.0.1:6379/", "tenant-acme", tps).await?;
    /// let client = Client::builder()
    ///     .service_key("my-service-key")
    ///     .app_id(AppId::new("a_155054536910425280")?)
    ///     .base_url("https://api.eu.webexconnect.io".parse()?)
    ///     .shared_rate_limit(limit)
    ///     .build()?;
    /// assert_eq!(client.rate_limit(), Some(20));
    /// # Ok(()) }
    /// ```
    #[derive(Clone)]
    pub struct SharedRateLimit {
        conn: ConnectionManager,
        key: String,
        pub(in crate::client) per_second: NonZeroU32,
        fallback: std::sync::Arc<LocalGcra>,
    }

    impl fmt::Debug for SharedRateLimit {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SharedRateLimit")
                .field("key", &self.key)
                .field("per_second", &self.per_second)
                .finish_non_exhaustive()
        }
    }

    impl SharedRateLimit {
        /// The prefix of the Redis key that holds the schedule.
        pub const KEY_PREFIX: &'static str = "wcwa:tps:";

        /// Connects to Redis (over a connection that reconnects by itself); `name` names the
        /// shared budget (e.g. the tenant: every client with the same name shares one limit)
        /// and `per_second` is its limit in destinations per second.
        ///
        /// # Errors
        ///
        /// [`StoreError::Backend`] when the URL is malformed or Redis cannot be reached. The
        /// message never contains the URL (it may hold a password).
        pub async fn connect(
            url: &str,
            name: &str,
            per_second: NonZeroU32,
        ) -> Result<Self, StoreError> {
            Ok(Self::with_connection(connect(url).await?, name, per_second))
        }

        /// Uses an open connection, for example the one a
        /// [`RedisStore`](crate::conversation::redis::RedisStore) opened
        /// ([`RedisStore::connection`](crate::conversation::redis::RedisStore::connection)).
        pub fn with_connection(
            conn: ConnectionManager,
            name: &str,
            per_second: NonZeroU32,
        ) -> Self {
            Self {
                conn,
                key: format!("{}{name}", Self::KEY_PREFIX),
                per_second,
                fallback: std::sync::Arc::new(LocalGcra::new(per_second)),
            }
        }

        /// The limit, in destinations per second.
        pub fn per_second(&self) -> u32 {
            self.per_second.get()
        }

        pub(super) async fn acquire(&self, count: usize) {
            match self.reserve(count).await {
                Ok(wait) => tokio::time::sleep(wait).await,
                Err(error) => {
                    tracing::warn!(%error, "shared rate limit unreachable; limiting in this process");
                    self.fallback.acquire(count).await;
                }
            }
        }

        /// Reserves `destinations` on the shared schedule and returns how long to wait
        /// before sending them; a client calls it before each request.
        ///
        /// ```no_run
        /// # use webex_connect_whatsapp::client::SharedRateLimit;
        /// # async fn run(limit: SharedRateLimit) -> Result<(), Box<dyn std::error::Error>> {
        /// let wait = limit.reserve(1).await?;
        /// tokio::time::sleep(wait).await;
        /// # Ok(()) }
        /// ```
        ///
        /// # Errors
        ///
        /// [`StoreError::Backend`] when Redis cannot be reached or does not answer in time;
        /// nothing is reserved then.
        pub async fn reserve(&self, destinations: usize) -> Result<Duration, StoreError> {
            let interval_us = 1_000_000_u64 / u64::from(self.per_second.get());
            let mut conn = self.conn.clone();
            let wait_us: i64 = redis::cmd("EVAL")
                .arg(RESERVE_LUA)
                .arg(1)
                .arg(&self.key)
                .arg(interval_us.max(1))
                .arg(destinations)
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            Ok(Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_by_their_cost() {
        let t = LocalGcra::new(NonZeroU32::new(10).unwrap());
        let start = Instant::now();
        // The first goes at once; each later one when the earlier ones' share is used up.
        assert_eq!(t.reserve(1, start), start);
        assert_eq!(t.reserve(1, start), start + Duration::from_millis(100));
        assert_eq!(t.reserve(5, start), start + Duration::from_millis(200));
        assert_eq!(t.reserve(1, start), start + Duration::from_millis(700));
        t.acquire(1).await;
        assert!(Instant::now() >= start + Duration::from_millis(800));
        // After a quiet spell the schedule starts again from now, with no credit saved up.
        let later = start + Duration::from_secs(5);
        assert_eq!(t.reserve(10, later), later);
        assert_eq!(t.reserve(1, later), later + Duration::from_secs(1));
    }
}
