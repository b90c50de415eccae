//! Redis-backed stores (feature `redis`): one [`RedisStore`] implements [`WindowStore`],
//! [`OptInStore`], [`DedupeStore`] and [`FallbackStore`], so several webhook receivers and
//! senders behind a load balancer agree on every session window, every consent, every
//! duplicate and every pending template fallback; [`RedisJournal`] keeps the
//! [send journal](#the-send-journal) on the same server.
//!
//! Every Redis implementation of the crate lives here, above the traits and values it
//! implements, with the connection they share.
//!
//! ```no_run
//! use webex_connect_whatsapp::conversation::dedupe::Deduplicator;
//! use webex_connect_whatsapp::conversation::optin::OptInLedger;
//! use webex_connect_whatsapp::conversation::redis::RedisStore;
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
//! | `<prefix>optin:<id>` | list of JSON [`ConsentEvent`]s, oldest first, each naming its recipient; at most [`MAX_CONSENT_EVENTS`] (the oldest by time are dropped, never the latest) | none: consent evidence is kept until [erased](crate::conversation::optin::OptInStore::erase) |
//! | `<prefix>optin:index` | set of the `<id>`s with a consent list | none |
//! | `<prefix>seen:<dedupe key>` | `p:<owner token>` while a delivery of the event is being handled (a claim); `d` once it was handled (any value not starting with `p:`, such as the tokens earlier versions wrote, counts as handled) | the claim lease while pending; the dedupe TTL once handled |
//! | `<prefix>fallback:<transid>` | hash: `state` (`pending`, `failed`: a `7710` came before the send's answer, `taken`, `done`), `original` (the transid), `correlation_id`; while pending `fallback`, the JSON [`PendingFallback`] (recipient, template, correlation id); once taken `taken_at` (Unix µs) | the fallback retention after the last change (default 24 h, [`DEFAULT_FALLBACK_RETENTION`](crate::conversation::fallback::DEFAULT_FALLBACK_RETENTION)) |
//! | `<prefix>fallbacks:pending` | sorted set of the pending fallbacks' transids, scored by expiry (server ms) | none; expired members are dropped on each count |
//! | `<prefix>fallbacks:taken` | sorted set of the taken, unfinished fallbacks' transids, scored by expiry | none; expired members are dropped on each listing |
//!
//! The dedupe marks keep the `seen:` key name of earlier versions, so marks written before
//! an upgrade still suppress their duplicates after it.
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
//! | dedupe marks | a receipt's destination as an unkeyed SHA-256 (32 hex digits), never as such | the same |
//! | fallback keys and sets | none (transids) | none |
//! | pending fallback value | the id, in the JSON [`PendingFallback`]: it is needed to send the fallback, and is deleted when the fallback is taken | the same |
//!
//! Nothing needs an id back from a key: the export reads each list's events, which name
//! their recipient. The dedupe marks' digest of a destination is unkeyed, with or without
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
//! Failing is the safe direction for each kind of state: a failed dedupe mark check makes the
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
//!
//! # The send journal
//!
//! [`RedisJournal`] keeps the send [journal](crate::conversation::journal) in Redis, for
//! several instances that send one campaign, or a sender and a webhook receiver that
//! reconciles its receipts.
//!
//! ```no_run
//! use std::time::Duration;
//! use webex_connect_whatsapp::conversation::redis::RedisJournal;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let journal = RedisJournal::connect("redis://127.0.0.1:6379/")
//!     .await?
//!     .with_prefix("shop:wa:")
//!     .with_retention(Duration::from_secs(30 * 24 * 60 * 60))?;
//! # let _ = journal;
//! # Ok(()) }
//! ```
//!
//! ## Journal keys
//!
//! Every key starts with the [prefix](RedisJournal::with_prefix) (default [`DEFAULT_PREFIX`],
//! as for the [`RedisStore`], so one prefix setting serves both):
//!
//! | key | value |
//! |---|---|
//! | `<prefix>journal:send:<correlation id>` | list of the send's records as JSON, oldest first (`RPUSH` only) |
//! | `<prefix>journal:order` | sorted set of correlation ids, scored by when each first appeared |
//! | `<prefix>journal:seq` | the counter that scores them |
//!
//! One [`append`](crate::conversation::journal::Journal::append) is one Lua script (`EVAL`):
//! Redis runs it without interleaving any other command, so the appends of several instances
//! never mix, and a server out of memory refuses it before its first write. Redis does not
//! roll a script back, though: if another program has put a value of another type under one
//! of the journal's keys, the script stops there with an error and the records before it
//! stay (intents of rows the client then does not send, which read as in flight: never
//! resent). [`lookup`](crate::conversation::journal::Journal::lookup) folds one list;
//! [`entries`](crate::conversation::journal::Journal::entries) walks the order 500 ids at a
//! time. In Redis Cluster all keys of one journal must share a slot: give it a prefix with a
//! hash tag, e.g. `{shop-wa}:`.
//!
//! ## Journal durability
//!
//! An append returns once the server has acknowledged the script. What survives a crash of
//! the Redis server is the operator's choice: with `appendonly yes` and `appendfsync always`
//! every acknowledged append is on disk; with the default `appendfsync everysec` up to about
//! a second of appends can be lost; with snapshots only, everything since the last one. A
//! journal that loses an intent can let a run send that row again, so run Redis with the AOF
//! for a journal, or use a [`FileJournal`](crate::conversation::journal::FileJournal).
//!
//! When an append fails without an answer (a timeout, a dropped connection), the server may
//! still have applied it. The client does not send after a failed append, so such a row reads
//! as in flight, and is never resent by the crate: the journal errs towards not sending.
//!
//! ## Journal retention
//!
//! By default nothing expires: an entry that vanished would let a later run send its row
//! again. [`with_retention`](RedisJournal::with_retention) gives each send's list a
//! time-to-live, renewed by each record appended to it; the order and counter live as long as
//! the newest send. Ids whose list expired are dropped from the order when
//! [`entries`](crate::conversation::journal::Journal::entries) meets them. Keep the retention
//! longer than any run of a campaign can be restarted after.
//!
//! [`WindowStore`]: crate::conversation::store::WindowStore
//! [`WindowStore::forget`]: crate::conversation::store::WindowStore::forget
//! [`DedupeStore`]: crate::conversation::store::DedupeStore
//! [`StoreError::Backend`]: crate::conversation::store::StoreError::Backend
//! [`OptInStore`]: crate::conversation::optin::OptInStore
//! [`OptInStore::erase`]: crate::conversation::optin::OptInStore::erase
//! [`ConsentEvent`]: crate::conversation::optin::ConsentEvent
//! [`MAX_CONSENT_EVENTS`]: crate::conversation::optin::MAX_CONSENT_EVENTS
//! [`FallbackStore`]: crate::conversation::fallback::FallbackStore
//! [`PendingFallback`]: crate::conversation::fallback::PendingFallback
//! [`ConnectionManager`]: redis::aio::ConnectionManager
//! [`ConnectionLike`]: redis::aio::ConnectionLike

mod connection;
mod dedupe;
mod fallback;
mod journal;
mod keys;
mod migration;
mod optin;
mod store;
mod window;

pub use connection::{
    CONNECTION_TIMEOUT, RECONNECT_MAX_DELAY, RECONNECT_MIN_DELAY, RECONNECT_RETRIES,
    RESPONSE_TIMEOUT,
};
pub(crate) use connection::{backend, connect};
pub use journal::RedisJournal;
pub use keys::{
    HASHED_ID_HEX_DIGITS, KeyHashSecret, KeyHashSecretError, MIN_KEY_HASH_SECRET_BYTES,
};
pub use migration::KeyMigration;
pub use store::{DEFAULT_PREFIX, RedisConnection, RedisStore};
