//! The Redis stores (feature `redis`) against a real `redis-server` that each test starts on
//! 127.0.0.1: the same behaviour suite as the in-memory stores, plus two instances (two
//! connections) sharing one server.
//!
//! Without `redis-server` installed each test prints a notice and passes as skipped, so the
//! README's `cargo test --all-features` works on a fresh machine; `WEBEX_CONNECT_REQUIRE_REDIS=1`
//! (set by `.ci/run`) makes a missing server a failure instead.
#![cfg(feature = "redis")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod fallback_suite;
mod redis_server;
mod store_suite;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use redis_server::RedisServer;
use time::Duration;
use webex_connect_whatsapp::conversation::clock::{Clock, ManualClock};
use webex_connect_whatsapp::conversation::dedupe::ClaimOwner;
use webex_connect_whatsapp::conversation::fallback::{FallbackStore, Take};
use webex_connect_whatsapp::conversation::optin::{
    ConsentEvent, ConsentStatus, OptIn, OptInLedger, OptInSource, OptInStore, OptOut,
};
use webex_connect_whatsapp::conversation::redis::{
    DEFAULT_PREFIX, KeyHashSecret, KeyHashSecretError, KeyMigration, RedisStore,
};
use webex_connect_whatsapp::conversation::store::DedupeStore;
use webex_connect_whatsapp::conversation::store::StoreError;
use webex_connect_whatsapp::conversation::store::WindowStore;
use webex_connect_whatsapp::conversation::window::{SessionWindows, WindowStatus};

/// Starts a server and opens one store on it; `None` when skipping (see the module docs).
async fn setup() -> Option<(RedisServer, RedisStore)> {
    let server = RedisServer::start()?;
    let store = RedisStore::connect(&server.url()).await.unwrap();
    Some((server, store))
}

// ------------------------------------------------ the shared behaviour suite, on Redis

#[tokio::test]
async fn window_boundaries_23_59_59_open_24_00_00_closed() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::window_boundaries(store).await;
}

#[tokio::test]
async fn window_late_inbound_never_moves_backwards() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::window_out_of_order(store).await;
}

#[tokio::test]
async fn window_times_are_kept_to_the_microsecond() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::window_sub_microsecond_is_dropped(store).await;
}

#[tokio::test]
async fn window_retention_and_forget() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::window_retention_and_forget(store).await;
}

#[tokio::test]
async fn window_keys() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::window_keys(store).await;
}

#[tokio::test]
async fn window_message_opens_every_sender_id() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::window_message_opens_every_sender_id(store).await;
}

#[tokio::test]
async fn window_a_time_in_the_future_counts_as_now() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::window_future_times_count_as_now(store).await;
}

#[tokio::test]
async fn window_whole_suite_on_one_store() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::window_all(store).await;
}

#[tokio::test]
async fn optin_no_opt_in_refuses_then_stop_refuses_again_then_opt_in_again() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::optin_lifecycle(store).await;
}

#[tokio::test]
async fn optin_latest_event_wins() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::optin_latest_time_wins(store).await;
}

#[tokio::test]
async fn optin_warns_and_erases() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::optin_warns_and_erases(store).await;
}

#[tokio::test]
async fn optin_export_round_trips() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::optin_export_round_trips(store).await;
}

#[tokio::test]
async fn optin_by_bsuid() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::optin_by_bsuid(store).await;
}

#[tokio::test]
async fn optin_history_is_capped_and_the_latest_event_kept() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::optin_history_is_capped_and_keeps_the_latest(store).await;
}

#[tokio::test]
async fn optin_whole_suite_on_one_store() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::optin_all(store).await;
}

#[tokio::test]
async fn dedupe_second_delivery_is_a_duplicate_other_code_is_not() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::dedupe_duplicates(store).await;
}

#[tokio::test]
async fn dedupe_zero_ttl_is_refused() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::dedupe_zero_ttl_is_refused(store).await;
}

#[tokio::test]
async fn dedupe_keys_expire_after_their_ttl() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    // Redis expires keys by its own clock, so the TTL really has to pass.
    store_suite::dedupe_ttl_expiry(store, async |by| tokio::time::sleep(by).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dedupe_racing_tasks_on_one_key_exactly_one_is_first() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::dedupe_race(vec![Arc::new(store)], "i:race").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dedupe_whole_suite_on_one_store() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    store_suite::dedupe_all(store).await;
}

#[tokio::test]
async fn fallback_register_take_once_report_until_finished() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    fallback_suite::lifecycle(store).await;
}

#[tokio::test]
async fn fallback_a_7710_before_the_answer_makes_the_registration_due() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    fallback_suite::early_failure(store).await;
}

#[tokio::test]
async fn fallback_discard_and_forget() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    fallback_suite::discard_and_forget(store).await;
}

#[tokio::test]
async fn fallback_bsuid_recipients_and_long_transaction_ids() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    fallback_suite::bsuid_and_long_ids(store).await;
}

#[tokio::test]
async fn fallback_zero_retention_is_refused() {
    let Some((_server, store)) = setup().await else {
        return;
    };
    fallback_suite::zero_retention_is_refused(store).await;
}

// ------------------------------------------------ two instances on one Redis

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_never_take_one_fallback_twice() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = Arc::new(RedisStore::connect(&server.url()).await.unwrap());
    let b = Arc::new(RedisStore::connect(&server.url()).await.unwrap());
    for n in 0..10 {
        fallback_suite::racing_takes(vec![Arc::clone(&a), Arc::clone(&b)], &format!("t-{n}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_agree_on_every_window() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = RedisStore::connect(&server.url()).await.unwrap();
    let b = RedisStore::connect(&server.url()).await.unwrap();
    let clock = ManualClock::starting_now();
    // Every time recorded is in the past: a future one would count as now.
    let t = clock.now() - Duration::seconds(20);
    let wa = Arc::new(SessionWindows::with_clock(a, clock.clone()));
    let wb = Arc::new(SessionWindows::with_clock(b, clock.clone()));

    // Both instances record inbound messages for 20 recipients, racing and out of order.
    let mut tasks = Vec::new();
    for r in 0..20 {
        for i in 0..20i64 {
            let windows = if (r + i) % 2 == 0 {
                Arc::clone(&wa)
            } else {
                Arc::clone(&wb)
            };
            // Seconds in a scrambled order, so the latest is often written first.
            let secs = (i * 7) % 20;
            tasks.push(tokio::spawn(async move {
                windows
                    .record_inbound(&format!("9199000{r:05}"), t + Duration::seconds(secs))
                    .await
                    .unwrap()
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    for r in 0..20 {
        let waid = format!("9199000{r:05}");
        let expected = WindowStatus::Open {
            until: t + Duration::seconds(19) + Duration::hours(24),
        };
        assert_eq!(wa.status(&waid).await.unwrap(), expected, "{waid} on a");
        assert_eq!(wb.status(&waid).await.unwrap(), expected, "{waid} on b");
    }
    // Both see the boundary at the same instant.
    clock.set(t + Duration::seconds(19) + Duration::hours(24));
    assert!(wa.status("919900000000").await.unwrap().is_closed());
    assert!(wb.status("919900000000").await.unwrap().is_closed());
    // A recipient forgotten on one is gone on the other.
    assert!(wa.forget("919900000001").await.unwrap());
    assert_eq!(
        wb.status("919900000001").await.unwrap(),
        WindowStatus::Unknown
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_never_report_a_seen_key_as_first_twice() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = Arc::new(RedisStore::connect(&server.url()).await.unwrap());
    let b = Arc::new(RedisStore::connect(&server.url()).await.unwrap());
    // Racing on single keys, across both connections.
    for n in 0..10 {
        store_suite::dedupe_race(vec![Arc::clone(&a), Arc::clone(&b)], &format!("r:{n}")).await;
    }
    // Many keys, each delivered to both instances: each is first exactly once.
    let mut tasks = Vec::new();
    for n in 0..200 {
        for store in [Arc::clone(&a), Arc::clone(&b), Arc::clone(&a)] {
            tasks.push(tokio::spawn(async move {
                store
                    .claim(
                        &format!("i:{n}"),
                        ClaimOwner::new().as_str(),
                        StdDuration::from_mins(1),
                    )
                    .await
                    .unwrap()
            }));
        }
    }
    let mut firsts = 0;
    for task in tasks {
        firsts += usize::from(task.await.unwrap().is_claimed());
    }
    assert_eq!(firsts, 200);
}

#[tokio::test]
async fn two_instances_share_the_opt_in_ledger() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = OptInLedger::new(RedisStore::connect(&server.url()).await.unwrap());
    let b = OptInLedger::new(RedisStore::connect(&server.url()).await.unwrap());
    let t = time::OffsetDateTime::now_utc();
    let opt_in = OptIn::new("447400123456", OptInSource::App, t, "News on WhatsApp").unwrap();
    a.record_opt_in(opt_in.clone()).await.unwrap();
    assert_eq!(
        b.status("447400123456").await.unwrap(),
        ConsentStatus::OptedIn(opt_in)
    );
    let stop = OptOut::stop_keyword("447400123456", t + Duration::minutes(1)).unwrap();
    b.record_opt_out(stop.clone()).await.unwrap();
    assert_eq!(
        a.status("447400123456").await.unwrap(),
        ConsentStatus::OptedOut(stop)
    );
    assert_eq!(a.export().await.unwrap(), b.export().await.unwrap());
}

// ------------------------------------------------ what is stored, and for how long

#[tokio::test]
async fn keys_carry_ttls_and_the_prefix() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::connect(&server.url())
        .await
        .unwrap()
        .with_prefix("test:wa:");
    assert_eq!(store.prefix(), "test:wa:");
    let windows = SessionWindows::new(store.clone());
    windows.record_inbound_now("919900000001").await.unwrap();
    store
        .claim("i:1", "owner", StdDuration::from_mins(1))
        .await
        .unwrap();
    OptInLedger::new(store.clone())
        .record_opt_in(
            OptIn::new(
                "919900000001",
                OptInSource::Sms,
                time::OffsetDateTime::now_utc(),
                "WhatsApp",
            )
            .unwrap(),
        )
        .await
        .unwrap();

    let mut conn = server.connection().await;
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [
            "test:wa:optin:919900000001",
            "test:wa:optin:index",
            "test:wa:seen:i:1",
            "test:wa:window:919900000001",
        ]
    );
    let pttl = |key: &'static str| {
        let mut conn = conn.clone();
        async move {
            redis::cmd("PTTL")
                .arg(key)
                .query_async::<i64>(&mut conn)
                .await
                .unwrap()
        }
    };
    // Window: 24 h window + 24 h default retention.
    let window_ttl = pttl("test:wa:window:919900000001").await;
    assert!(
        window_ttl > 47 * 3_600_000 && window_ttl <= 48 * 3_600_000,
        "{window_ttl}"
    );
    let seen_ttl = pttl("test:wa:seen:i:1").await;
    assert!(seen_ttl > 0 && seen_ttl <= 60_000, "{seen_ttl}");
    // Consent evidence does not expire.
    assert_eq!(pttl("test:wa:optin:919900000001").await, -1);

    // Another prefix sees nothing of it.
    let other = SessionWindows::new(RedisStore::connect(&server.url()).await.unwrap());
    assert_eq!(other.store().prefix(), DEFAULT_PREFIX);
    assert_eq!(
        other.status("919900000001").await.unwrap(),
        WindowStatus::Unknown
    );
}

#[tokio::test]
async fn fallback_keys_expire_and_keep_the_recipient_only_while_pending() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::connect(&server.url())
        .await
        .unwrap()
        .with_prefix("test:wa:");
    let original = webex_connect_whatsapp::TransactionId::from("t-1");
    let fallback = fallback_suite::fallback(fallback_suite::phone(), "c-1");
    let (now, keep) = (fallback_suite::NOW, fallback_suite::KEEP);
    store
        .register(&original, &fallback, now, keep)
        .await
        .unwrap();

    let mut conn = server.connection().await;
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    assert_eq!(keys, ["test:wa:fallback:t-1", "test:wa:fallbacks:pending"]);
    let pttl: i64 = redis::cmd("PTTL")
        .arg("test:wa:fallback:t-1")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(pttl > 0 && pttl <= 3_600_000, "{pttl}");
    let hash = |conn: &mut redis::aio::MultiplexedConnection| {
        let mut conn = conn.clone();
        async move {
            redis::cmd("HGETALL")
                .arg("test:wa:fallback:t-1")
                .query_async::<std::collections::BTreeMap<String, String>>(&mut conn)
                .await
                .unwrap()
        }
    };
    // While pending it holds what the send needs: the recipient and the template.
    let pending = hash(&mut conn).await;
    assert_eq!(pending["state"], "pending");
    assert!(pending["fallback"].contains("+447400123456"));

    // Once taken, only ids and a time remain.
    assert!(matches!(
        store.take(&original, now, keep).await.unwrap(),
        Take::Taken(_)
    ));
    let taken = hash(&mut conn).await;
    assert_eq!(
        taken.keys().map(String::as_str).collect::<Vec<_>>(),
        ["correlation_id", "original", "state", "taken_at"]
    );
    assert!(!format!("{taken:?}").contains("7400123456"), "{taken:?}");
    store.finish(&original, now, keep).await.unwrap();
    let done = hash(&mut conn).await;
    assert_eq!(done.len(), 1, "{done:?}");
}

#[tokio::test]
async fn unreadable_values_are_typed_errors() {
    let Some((server, store)) = setup().await else {
        return;
    };
    let mut conn = server.connection().await;
    let _: () = redis::cmd("SET")
        .arg(format!("{DEFAULT_PREFIX}window:919900000001"))
        .arg("yesterday")
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = redis::cmd("RPUSH")
        .arg(format!("{DEFAULT_PREFIX}optin:919900000001"))
        .arg("{not json")
        .query_async(&mut conn)
        .await
        .unwrap();
    let err = store
        .last_inbound("919900000001", time::OffsetDateTime::now_utc())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Corrupt { store: "redis", .. }),
        "{err}"
    );
    let _: () = redis::cmd("HSET")
        .arg(format!("{DEFAULT_PREFIX}fallback:t-1"))
        .arg("state")
        .arg("pending")
        .arg("fallback")
        .arg("{not json")
        .query_async(&mut conn)
        .await
        .unwrap();
    let t = webex_connect_whatsapp::TransactionId::from("t-1");
    let now = time::OffsetDateTime::now_utc();
    for err in [
        store.peek(&t, now).await.unwrap_err(),
        store
            .take(&t, now, StdDuration::from_mins(1))
            .await
            .unwrap_err(),
    ] {
        assert!(
            matches!(
                err,
                StoreError::Corrupt {
                    what: "pending fallback",
                    ..
                }
            ),
            "{err}"
        );
    }
    let err = OptInLedger::new(store)
        .status("919900000001")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Corrupt {
                what: "consent event",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_backend_error_without_the_url() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let url = format!("redis://:hunter2@127.0.0.1:{}/", server.port());
    drop(server);
    let err = RedisStore::connect(&url).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Backend { store: "redis", .. }),
        "{err}"
    );
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        chain.push_str(&s.to_string());
        source = s.source();
    }
    assert!(!chain.contains("hunter2"), "{chain}");
    assert!(!format!("{err:?}").contains("hunter2"));
}

// ------------------------------------------------ recipient ids hashed in key names

const HASH_SECRET: &str = "test-key-hash-secret-0123456789abcdef";

fn hash_secret(secret: &str) -> KeyHashSecret {
    KeyHashSecret::new(secret).unwrap()
}

/// A hashed store on its own connection, under `prefix`.
async fn hashed(server: &RedisServer, prefix: &str, secret: &str) -> RedisStore {
    RedisStore::connect(&server.url())
        .await
        .unwrap()
        .with_prefix(prefix)
        .with_hashed_keys(hash_secret(secret))
}

async fn plain(server: &RedisServer, prefix: &str) -> RedisStore {
    RedisStore::connect(&server.url())
        .await
        .unwrap()
        .with_prefix(prefix)
}

/// Every key on the server, found with SCAN as someone browsing the server would.
async fn scan_all(server: &RedisServer) -> Vec<String> {
    let mut conn = server.connection().await;
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .query_async(&mut conn)
            .await
            .unwrap();
        keys.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    keys.sort();
    keys.dedup();
    keys
}

async fn list(server: &RedisServer, key: &str) -> Vec<String> {
    redis::cmd("LRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .query_async(&mut server.connection().await)
        .await
        .unwrap()
}

const WAID: &str = "447400123456";
const BSUID: &str = "US.13491208655302741918";

fn opt_in(to: &str, at: time::OffsetDateTime) -> OptIn {
    OptIn::new(
        to,
        OptInSource::WebForm,
        at,
        "Order updates from Acme on WhatsApp",
    )
    .unwrap()
}

#[tokio::test]
async fn hashed_window_whole_suite() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    store_suite::window_all(hashed(&server, "h:", HASH_SECRET).await).await;
}

#[tokio::test]
async fn hashed_optin_whole_suite() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    store_suite::optin_all(hashed(&server, "h:", HASH_SECRET).await).await;
}

#[tokio::test]
async fn hashed_keys_never_show_the_recipient_id() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = hashed(&server, "test:wa:", HASH_SECRET).await;
    assert!(store.hashes_recipient_keys());
    assert!(format!("{store:?}").contains("hashed_keys: true"));
    let windows = SessionWindows::new(store.clone());
    let ledger = OptInLedger::new(store.clone());
    let t = time::OffsetDateTime::now_utc();
    for to in [WAID, BSUID] {
        windows.record_inbound_now(to).await.unwrap();
        ledger.record_opt_in(opt_in(to, t)).await.unwrap();
    }
    ledger
        .record_opt_out(OptOut::stop_keyword(WAID, t + Duration::minutes(1)).unwrap())
        .await
        .unwrap();
    store
        .claim("i:1", "owner", StdDuration::from_mins(1))
        .await
        .unwrap();

    let keys = scan_all(&server).await;
    assert_eq!(keys.len(), 6, "{keys:?}"); // 2 windows, 2 opt-in lists, the index, a dedupe mark
    for key in &keys {
        for id in ["7400123456", "13491208655302741918"] {
            assert!(!key.contains(id), "{key} shows {id}");
        }
    }
    let hashed_key = |kind: &str| {
        keys.iter()
            .filter(|k| {
                k.strip_prefix(&format!("test:wa:{kind}:hmac:"))
                    .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            })
            .count()
    };
    assert_eq!((hashed_key("window"), hashed_key("optin")), (2, 2));
    let mut conn = server.connection().await;
    let members: Vec<String> = redis::cmd("SMEMBERS")
        .arg("test:wa:optin:index")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(members.len(), 2);
    assert!(
        members.iter().all(|m| m.starts_with("hmac:")),
        "{members:?}"
    );
    // A window's value is two timestamps, and its key still expires.
    for key in keys.iter().filter(|k| k.contains(":window:")) {
        let value: String = redis::cmd("GET")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(!value.contains("7400123456"), "{value}");
        let pttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(pttl > 47 * 3_600_000, "{pttl}");
    }
    // The consent evidence names its recipient in the value, as documented: the export
    // needs it, and it is not in any key.
    let values = list(
        &server,
        keys.iter()
            .find(|k| k.contains(":optin:hmac:") && !k.ends_with("index"))
            .unwrap(),
    )
    .await;
    assert!(
        values
            .iter()
            .all(|v| v.contains("7400123456") || v.contains("13491208655302741918"))
    );
    // And everything reads back.
    assert!(windows.status(WAID).await.unwrap().is_open());
    assert!(matches!(
        ledger.status(WAID).await.unwrap(),
        ConsentStatus::OptedOut(_)
    ));
    assert!(ledger.status(BSUID).await.unwrap().is_opted_in());
}

#[tokio::test]
async fn stores_with_one_secret_share_state_and_other_secrets_see_nothing() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = hashed(&server, "shared:", HASH_SECRET).await;
    let b = hashed(&server, "shared:", HASH_SECRET).await;
    let t = time::OffsetDateTime::now_utc();
    SessionWindows::new(a.clone())
        .record_inbound_now(WAID)
        .await
        .unwrap();
    OptInLedger::new(a.clone())
        .record_opt_in(opt_in(BSUID, t))
        .await
        .unwrap();
    let (windows_b, ledger_b) = (SessionWindows::new(b.clone()), OptInLedger::new(b.clone()));
    assert!(windows_b.status(WAID).await.unwrap().is_open());
    assert!(ledger_b.status(BSUID).await.unwrap().is_opted_in());
    // b writes, a reads.
    ledger_b
        .record_opt_out(OptOut::stop_keyword(BSUID, t + Duration::minutes(1)).unwrap())
        .await
        .unwrap();
    assert!(matches!(
        OptInLedger::new(a.clone()).status(BSUID).await.unwrap(),
        ConsentStatus::OptedOut(_)
    ));
    assert_eq!(
        OptInLedger::new(a).export().await.unwrap(),
        ledger_b.export().await.unwrap()
    );

    // Another secret, or none, under the same prefix: nothing is shared.
    for other in [
        hashed(&server, "shared:", "another-secret-0123456789abcdef").await,
        plain(&server, "shared:").await,
    ] {
        assert_eq!(
            SessionWindows::new(other.clone())
                .status(WAID)
                .await
                .unwrap(),
            WindowStatus::Unknown
        );
        assert!(matches!(
            OptInLedger::new(other).status(BSUID).await.unwrap(),
            ConsentStatus::Never
        ));
    }
}

#[tokio::test]
async fn a_hashed_export_is_sorted_by_recipient_like_a_plain_one() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let t = time::OffsetDateTime::now_utc();
    let recipients = ["447400000300", BSUID, "447400000100", "919900000001"];
    let mut exports = Vec::new();
    for store in [
        hashed(&server, "h:", HASH_SECRET).await,
        plain(&server, "p:").await,
    ] {
        let ledger = OptInLedger::new(store);
        for to in recipients {
            ledger.record_opt_in(opt_in(to, t)).await.unwrap();
            ledger
                .record_opt_out(OptOut::stop_keyword(to, t + Duration::minutes(1)).unwrap())
                .await
                .unwrap();
        }
        exports.push(ledger.export().await.unwrap());
    }
    let order: Vec<&str> = exports[0].iter().map(ConsentEvent::recipient).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable(); // stable per recipient: opt-in then opt-out
    assert_eq!(order, sorted);
    assert_eq!(exports[0], exports[1]);
}

#[tokio::test]
async fn erasure_with_hashed_keys_also_erases_what_was_written_before() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let before = plain(&server, "e:").await;
    let t = time::OffsetDateTime::now_utc();
    OptInLedger::new(before.clone())
        .record_opt_in(opt_in(WAID, t))
        .await
        .unwrap();
    SessionWindows::new(before.clone())
        .record_inbound_now(WAID)
        .await
        .unwrap();
    let after = hashed(&server, "e:", HASH_SECRET).await;
    OptInLedger::new(after.clone())
        .record_opt_out(OptOut::stop_keyword(WAID, t + Duration::minutes(1)).unwrap())
        .await
        .unwrap();
    SessionWindows::new(after.clone())
        .record_inbound_now(WAID)
        .await
        .unwrap();
    assert_eq!(scan_all(&server).await.len(), 5);

    // Both forms go: the list and index member under the plain id, and the hashed ones.
    assert_eq!(
        OptInLedger::new(after.clone()).erase(WAID).await.unwrap(),
        2
    );
    assert!(WindowStore::forget(&after, WAID).await.unwrap());
    assert_eq!(scan_all(&server).await, Vec::<String>::new());
    // A plain store erases only the plain form, as before.
    assert_eq!(OptInLedger::new(before).erase(WAID).await.unwrap(), 0);
}

#[tokio::test]
async fn migration_moves_opt_ins_and_windows_to_hashed_keys_and_back() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let t = time::OffsetDateTime::now_utc();
    let before = plain(&server, "m:").await;
    let ledger = OptInLedger::new(before.clone());
    ledger.record_opt_in(opt_in(WAID, t)).await.unwrap();
    ledger.record_opt_in(opt_in(BSUID, t)).await.unwrap();
    ledger
        .record_opt_out(OptOut::stop_keyword(BSUID, t + Duration::minutes(1)).unwrap())
        .await
        .unwrap();
    SessionWindows::new(before.clone())
        .record_inbound_now(WAID)
        .await
        .unwrap();
    let exported = ledger.export().await.unwrap();

    // Switched, not yet migrated: the hashed store reads only hashed keys.
    let after = hashed(&server, "m:", HASH_SECRET).await;
    let (ledger_h, windows_h) = (
        OptInLedger::new(after.clone()),
        SessionWindows::new(after.clone()),
    );
    assert!(matches!(
        ledger_h.status(WAID).await.unwrap(),
        ConsentStatus::Never
    ));
    // ... but the export lists both forms already.
    assert_eq!(ledger_h.export().await.unwrap(), exported);
    // An event recorded after the switch, before the migration: merged, later than the old.
    ledger_h
        .record_opt_out(OptOut::stop_keyword(WAID, t + Duration::minutes(2)).unwrap())
        .await
        .unwrap();

    let report = after.migrate_recipient_keys().await.unwrap();
    assert_eq!(
        (
            report.opt_in_lists_moved,
            report.opt_in_lists_left,
            report.windows_moved,
            report.windows_left
        ),
        (2, 0, 1, 0)
    );
    for key in scan_all(&server).await {
        assert!(
            !key.contains("7400123456") && !key.contains("1349120865"),
            "{key}"
        );
    }
    let waid_events = OptInStore::events(ledger_h.store(), WAID).await.unwrap();
    assert_eq!(waid_events.len(), 2);
    assert!(matches!(waid_events[0], ConsentEvent::OptIn(_)));
    assert!(matches!(
        ledger_h.status(WAID).await.unwrap(),
        ConsentStatus::OptedOut(_)
    ));
    assert!(matches!(
        ledger_h.status(BSUID).await.unwrap(),
        ConsentStatus::OptedOut(_)
    ));
    assert!(windows_h.status(WAID).await.unwrap().is_open());
    // A second run finds nothing left to move.
    assert_eq!(
        after.migrate_recipient_keys().await.unwrap(),
        KeyMigration::default()
    );

    // Another secret: the lists follow (their events name the recipient); the windows
    // cannot tell which secret made their keys, so they stay and expire.
    let rotated = hashed(&server, "m:", "rotated-secret-0123456789abcdef").await;
    let report = rotated.migrate_recipient_keys().await.unwrap();
    assert_eq!((report.opt_in_lists_moved, report.windows_moved), (2, 0));
    assert!(matches!(
        OptInLedger::new(rotated).status(BSUID).await.unwrap(),
        ConsentStatus::OptedOut(_)
    ));

    // Back to plain ids: the lists come back; a hashed window cannot, and is counted.
    let report = before.migrate_recipient_keys().await.unwrap();
    assert_eq!(
        (
            report.opt_in_lists_moved,
            report.windows_moved,
            report.windows_left
        ),
        (2, 0, 1)
    );
    assert_eq!(
        OptInStore::events(ledger.store(), WAID).await.unwrap(),
        waid_events
    );
    assert!(
        scan_all(&server)
            .await
            .contains(&"m:optin:447400123456".to_owned())
    );
}

#[tokio::test]
async fn migration_leaves_an_unreadable_list_and_says_so() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let mut conn = server.connection().await;
    let _: () = redis::pipe()
        .cmd("RPUSH")
        .arg("u:optin:447400123456")
        .arg("not json")
        .cmd("SADD")
        .arg("u:optin:index")
        .arg("447400123456")
        .query_async(&mut conn)
        .await
        .unwrap();
    let store = hashed(&server, "u:", HASH_SECRET).await;
    let report = store.migrate_recipient_keys().await.unwrap();
    assert_eq!(
        (report.opt_in_lists_moved, report.opt_in_lists_left),
        (0, 1)
    );
    assert_eq!(list(&server, "u:optin:447400123456").await, ["not json"]);
}

#[test]
fn a_key_hash_secret_never_prints_and_must_be_long_enough() {
    let debug = format!(
        "{:?}",
        KeyHashSecret::new("0123456789abcdef0123456789abcdef").unwrap()
    );
    assert_eq!(debug, "KeyHashSecret(***)");
    assert!(matches!(
        KeyHashSecret::new("too short"),
        Err(KeyHashSecretError::TooShort { bytes: 9, min: 16 })
    ));
}
