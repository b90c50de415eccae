//! Duplicate suppression on the in-memory store: the shared behaviour suite (also run
//! against Redis in `tests/redis_store.rs`) plus the bounded store and the keys.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod store_suite;

use std::sync::Arc;
use std::time::Duration;

use time::macros::datetime;
use webex_connect_whatsapp::conversation::clock::ManualClock;
use webex_connect_whatsapp::conversation::dedupe::{DedupeKey, DedupeKeyError, Deduplicator};
use webex_connect_whatsapp::conversation::store::{InMemorySeenStore, SeenStore};
use webex_connect_whatsapp::webhook::{self, DeliveryReceipt, DeliveryStatus, WebhookEvent};

#[tokio::test]
async fn second_delivery_is_a_duplicate_other_code_is_not() {
    store_suite::dedupe_duplicates(InMemorySeenStore::new(100)).await;
}

#[tokio::test]
async fn zero_ttl_is_refused() {
    store_suite::dedupe_zero_ttl_is_refused(InMemorySeenStore::new(100)).await;
}

#[tokio::test]
async fn keys_expire_after_their_ttl() {
    let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
    let store = InMemorySeenStore::with_clock(100, clock.clone());
    store_suite::dedupe_ttl_expiry(store, async |by| {
        clock.advance(by);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_tasks_on_one_key_exactly_one_is_first() {
    store_suite::dedupe_race(vec![Arc::new(InMemorySeenStore::new(100))], "i:race").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whole_suite_on_one_shared_store() {
    store_suite::dedupe_all(Arc::new(InMemorySeenStore::new(1000))).await;
}

#[tokio::test]
async fn the_store_forgets_the_oldest_key_when_full() {
    let store = InMemorySeenStore::new(10);
    let ttl = Duration::from_secs(600);
    for i in 0..25 {
        assert!(store.first_seen(&format!("i:{i}"), ttl).await.unwrap());
        assert!(store.len() <= 10);
    }
    assert_eq!(store.len(), 10);
    // The newest ten are remembered...
    for i in 15..25 {
        assert!(
            !store.first_seen(&format!("i:{i}"), ttl).await.unwrap(),
            "{i}"
        );
    }
    // ...the oldest were forgotten (so they would count as new).
    assert!(store.first_seen("i:0", ttl).await.unwrap());
}

#[tokio::test]
async fn expired_keys_are_dropped_first() {
    let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
    let store = InMemorySeenStore::with_clock(3, clock.clone());
    assert!(store.first_seen("a", Duration::from_secs(1)).await.unwrap());
    assert!(store.first_seen("b", Duration::from_secs(1)).await.unwrap());
    clock.advance(std::time::Duration::from_secs(2));
    assert!(
        store
            .first_seen("c", Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert_eq!(
        store.len(),
        1,
        "the expired keys went when the next key came"
    );
    // Re-seeing an expired key many times never grows the store past its bound.
    for _ in 0..100 {
        clock.advance(std::time::Duration::from_secs(2));
        store.first_seen("a", Duration::from_secs(1)).await.unwrap();
        assert!(store.len() <= 3);
    }
}

#[tokio::test]
async fn deduplicator_counts_first_and_duplicate_events() {
    let dedupe = Deduplicator::new(InMemorySeenStore::new(100));
    assert_eq!(dedupe.ttl(), Duration::from_secs(3600));
    let key = DedupeKey::inbound("tid-1").unwrap();
    for _ in 0..4 {
        dedupe.first_seen(&key).await.unwrap();
    }
    let stats = dedupe.stats();
    assert_eq!((stats.first, stats.duplicates), (1, 3));
}

#[test]
fn keys_are_checked() {
    assert_eq!(
        DedupeKey::receipt("", "447400123456", "7500").unwrap_err(),
        DedupeKeyError::Empty {
            part: "receipt transid"
        }
    );
    assert!(matches!(
        DedupeKey::receipt("t", "447400123456", ""),
        Err(DedupeKeyError::Empty {
            part: "receipt code"
        })
    ));
    let err = DedupeKey::inbound("x".repeat(257)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the inbound tid is 257 characters long, but the max is 256"
    );
    // Receipts, inbound messages and custom keys never collide.
    let keys = [
        DedupeKey::receipt("1", "", "2").unwrap(),
        DedupeKey::inbound("1").unwrap(),
        DedupeKey::custom("1").unwrap(),
    ];
    assert_ne!(keys[0], keys[1]);
    assert_ne!(keys[1], keys[2]);
}

// ------------------------------------------------ receipts per destination

fn receipt(transid: &str, to: &str, status: DeliveryStatus) -> DeliveryReceipt {
    DeliveryReceipt::builder(transid, status)
        .destination(to)
        .build()
}

#[tokio::test]
async fn one_transid_two_destinations_are_two_new_receipts() {
    let dedupe = Deduplicator::new(InMemorySeenStore::new(100));
    let a = receipt("t-multi", "447400000001", DeliveryStatus::Delivered);
    let b = receipt("t-multi", "447400000002", DeliveryStatus::Delivered);
    let key_a = DedupeKey::for_receipt(&a).unwrap();
    let key_b = DedupeKey::for_receipt(&b).unwrap();
    assert_ne!(key_a, key_b);
    assert!(dedupe.first_seen(&key_a).await.unwrap());
    assert!(
        dedupe.first_seen(&key_b).await.unwrap(),
        "the second destination's receipt is not a duplicate of the first's"
    );
    assert!(!dedupe.first_seen(&key_a).await.unwrap());
    assert!(!dedupe.first_seen(&key_b).await.unwrap());
    // The same through the event path the receiver uses.
    let event_b = WebhookEvent::DeliveryReceipt(b);
    assert_eq!(DedupeKey::from_event(&event_b).unwrap(), key_b);
}

#[test]
fn receipt_keys_hold_no_phone_number_and_stay_unambiguous() {
    let key = DedupeKey::receipt("t1", "447400000001", "7500").unwrap();
    assert!(!key.as_str().contains("447400000001"), "{key}");
    // A destination that only looks like key syntax cannot collide with another split.
    let a = DedupeKey::receipt("x:1", "2", "3").unwrap();
    let b = DedupeKey::receipt("x", "1:2", "3").unwrap();
    assert_ne!(a, b);
    // Without a destination the key still works (old receipts may not name one).
    let none = DedupeKey::receipt("t1", "", "7500").unwrap();
    assert_ne!(none, key);
    assert_eq!(none.as_str(), "r:2:t1:-:0::7500");
}

#[test]
fn subtid_is_part_of_a_receipt_key_when_present() {
    let parse = |subtid: &str| {
        let body = format!(
            r#"{{"deliveryInfoNotification":{{"deliveryInfo":{{"deliveryStatus":"Delivered","code":"7500","destination":"447400000001"}},"transid":"t1","subtid":"{subtid}"}}}}"#
        );
        DedupeKey::from_event(&webhook::parse(body.as_bytes()).unwrap()).unwrap()
    };
    assert_ne!(parse("1"), parse("2"));
    // An empty subtid is no subtid.
    assert_eq!(
        parse(""),
        DedupeKey::receipt("t1", "447400000001", "7500").unwrap()
    );
    let long = DedupeKey::for_receipt(
        &DeliveryReceipt::builder("t1", DeliveryStatus::Read)
            .sub_transaction_id("s".repeat(300))
            .build(),
    );
    assert!(matches!(
        long,
        Err(DedupeKeyError::TooLong {
            part: "receipt subtid",
            ..
        })
    ));
}

#[test]
fn a_personalised_batch_suffix_is_its_own_message() {
    let base = DedupeKey::for_receipt(&receipt("b7f3", "447400000001", DeliveryStatus::Read));
    let first = DedupeKey::for_receipt(&receipt("b7f3_1", "447400000001", DeliveryStatus::Read));
    assert_ne!(base.unwrap(), first.unwrap());
}

// ------------------------------------------------ release (at-least-once)

#[tokio::test]
async fn a_released_key_is_new_again() {
    store_release_suite(InMemorySeenStore::new(100)).await;
    store_release_suite(Arc::new(InMemorySeenStore::new(100))).await;
}

async fn store_release_suite<S: SeenStore>(store: S) {
    let ttl = Duration::from_secs(60);
    assert!(
        !store.forget("i:never").await.unwrap(),
        "nothing to forget yet"
    );
    assert!(store.first_seen("i:r1", ttl).await.unwrap());
    assert!(!store.first_seen("i:r1", ttl).await.unwrap());
    assert!(store.forget("i:r1").await.unwrap());
    assert!(
        store.first_seen("i:r1", ttl).await.unwrap(),
        "after release the retry counts as new"
    );
    assert!(!store.first_seen("i:r1", ttl).await.unwrap());
}

#[tokio::test]
async fn a_released_key_does_not_break_the_capacity_bound() {
    let store = InMemorySeenStore::new(3);
    let ttl = Duration::from_secs(60);
    for round in 0..10 {
        for i in 0..3 {
            let key = format!("i:{round}-{i}");
            assert!(store.first_seen(&key, ttl).await.unwrap());
            if i == 1 {
                assert!(store.forget(&key).await.unwrap());
            }
        }
        assert!(store.len() <= 3);
    }
}

#[tokio::test]
async fn deduplicator_release_is_counted() {
    let dedupe = Deduplicator::new(InMemorySeenStore::new(100));
    let key = DedupeKey::inbound("tid-r").unwrap();
    assert!(dedupe.first_seen(&key).await.unwrap());
    assert!(dedupe.release(&key).await.unwrap());
    assert!(dedupe.first_seen(&key).await.unwrap());
    let stats = dedupe.stats();
    assert_eq!((stats.first, stats.duplicates, stats.released), (2, 0, 1));
}

/// A Redis connection that loses every `SET` reply (as a timeout or a dropped connection
/// after the server applied it would) and records the commands it was given.
#[cfg(feature = "redis")]
mod lost_reply {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use redis::aio::ConnectionLike;
    use redis::{Arg, Cmd, Pipeline, RedisError, RedisFuture, Value};
    use webex_connect_whatsapp::conversation::store::SeenStore;
    use webex_connect_whatsapp::conversation::store::redis::RedisStore;

    #[derive(Clone, Default)]
    struct LosesSetReplies {
        commands: Arc<Mutex<Vec<Vec<String>>>>,
    }

    impl ConnectionLike for LosesSetReplies {
        fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
            let args: Vec<String> = cmd
                .args_iter()
                .map(|a| match a {
                    Arg::Simple(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                    _ => "<cursor>".to_owned(),
                })
                .collect();
            self.commands.lock().unwrap().push(args.clone());
            Box::pin(async move {
                match args.first().map(String::as_str) {
                    Some("SET") => Err(RedisError::from(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the reply was lost",
                    ))),
                    Some("EVAL" | "DEL") => Ok(Value::Int(1)),
                    _ => Ok(Value::Nil),
                }
            })
        }

        fn req_packed_commands<'a>(
            &'a mut self,
            _pipeline: &'a Pipeline,
            _offset: usize,
            _count: usize,
        ) -> RedisFuture<'a, Vec<Value>> {
            Box::pin(async { Ok(Vec::new()) })
        }

        fn get_db(&self) -> i64 {
            0
        }
    }

    #[tokio::test]
    async fn a_set_nx_whose_reply_was_lost_is_released_and_reported() {
        let conn = LosesSetReplies::default();
        let store = RedisStore::with_connection(conn.clone()).with_prefix("t:");
        let err = store
            .first_seen("i:lost", Duration::from_secs(60))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("redis"), "{err}");
        let commands = conn.commands.lock().unwrap().clone();
        assert_eq!(commands.len(), 2, "{commands:?}");
        let set = &commands[0];
        assert_eq!(set[0], "SET");
        assert_eq!(set[1], "t:seen:i:lost");
        assert_eq!(&set[3..], ["NX", "PX", "60000"]);
        // The release deletes the key only if it still holds this call's token, so a
        // racing instance's mark survives.
        let release = &commands[1];
        assert_eq!(release[0], "EVAL");
        assert!(release[1].contains("DEL"), "{release:?}");
        assert_eq!(release[2..4], ["1", "t:seen:i:lost"]);
        assert_eq!(
            release[4], set[2],
            "the token written is the token released"
        );
    }

    #[tokio::test]
    async fn every_set_nx_writes_its_own_token() {
        let conn = LosesSetReplies::default();
        let store = RedisStore::with_connection(conn.clone());
        for _ in 0..3 {
            let _ = store.first_seen("i:t", Duration::from_secs(1)).await;
        }
        let commands = conn.commands.lock().unwrap().clone();
        let mut tokens: Vec<&String> = commands
            .iter()
            .filter(|c| c[0] == "SET")
            .map(|c| &c[2])
            .collect();
        tokens.sort();
        tokens.dedup();
        assert_eq!(tokens.len(), 3);
    }

    #[tokio::test]
    async fn forget_deletes_the_seen_key() {
        let conn = LosesSetReplies::default();
        let store = RedisStore::with_connection(conn.clone()).with_prefix("t:");
        assert!(store.forget("i:done").await.unwrap());
        assert_eq!(
            conn.commands.lock().unwrap().clone(),
            vec![vec!["DEL".to_owned(), "t:seen:i:done".to_owned()]]
        );
    }
}
