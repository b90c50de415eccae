//! Duplicate suppression on the in-memory store: the shared behaviour suite (also run
//! against Redis in `tests/redis_store.rs`) plus the bounded store, the keys, and the Redis
//! store's commands on a fake connection.
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
use webex_connect_whatsapp::conversation::dedupe::{
    ClaimOwner, DedupeKey, DedupeKeyError, Deduplicator,
};
use webex_connect_whatsapp::conversation::store::{Claim, DedupeStore, InMemoryDedupeStore};
use webex_connect_whatsapp::webhook::{self, DeliveryReceipt, DeliveryStatus, WebhookEvent};

#[tokio::test]
async fn second_delivery_is_a_duplicate_other_code_is_not() {
    store_suite::dedupe_duplicates(InMemoryDedupeStore::new(100)).await;
}

#[tokio::test]
async fn zero_ttl_is_refused() {
    store_suite::dedupe_zero_ttl_is_refused(InMemoryDedupeStore::new(100)).await;
}

#[tokio::test]
async fn keys_expire_after_their_ttl() {
    let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
    let store = InMemoryDedupeStore::with_clock(100, clock.clone());
    store_suite::dedupe_ttl_expiry(store, async |by| {
        clock.advance(by);
    })
    .await;
}

#[tokio::test]
async fn a_crashed_claim_blocks_retries_only_until_its_lease_ends() {
    let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
    let store = InMemoryDedupeStore::with_clock(100, clock.clone());
    store_suite::dedupe_lease_expiry(store, async |by| {
        clock.advance(by);
    })
    .await;
}

#[tokio::test]
async fn a_crashed_receivers_claim_ends_with_its_lease_then_the_retry_is_handled() {
    let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
    let store = Arc::new(InMemoryDedupeStore::with_clock(100, clock.clone()));
    store_suite::receiver_claim_outlives_a_crash_only_for_its_lease(
        store,
        Duration::from_secs(20),
        async |by| clock.advance(by),
    )
    .await;
}

#[tokio::test]
async fn a_release_never_removes_a_done_mark_or_another_owners_claim() {
    store_suite::dedupe_release_rules(InMemoryDedupeStore::new(100)).await;
    store_suite::dedupe_release_rules(Arc::new(InMemoryDedupeStore::new(100))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_tasks_on_one_key_exactly_one_is_first() {
    store_suite::dedupe_race(vec![Arc::new(InMemoryDedupeStore::new(100))], "i:race").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whole_suite_on_one_shared_store() {
    store_suite::dedupe_all(Arc::new(InMemoryDedupeStore::new(1000))).await;
}

const LEASE: Duration = Duration::from_secs(20);

/// Claims and completes `key`: one handled event.
async fn handled(store: &impl DedupeStore, key: &str, ttl: Duration) {
    assert_eq!(store.claim(key, "o", LEASE).await.unwrap(), Claim::Claimed);
    store.complete(key, ttl).await.unwrap();
}

#[tokio::test]
async fn the_store_forgets_the_oldest_key_when_full() {
    let store = InMemoryDedupeStore::new(10);
    let ttl = Duration::from_mins(10);
    for i in 0..25 {
        handled(&store, &format!("i:{i}"), ttl).await;
        assert!(store.len() <= 10);
    }
    assert_eq!(store.len(), 10);
    // The newest ten are remembered...
    for i in 15..25 {
        assert_eq!(
            store.claim(&format!("i:{i}"), "o", LEASE).await.unwrap(),
            Claim::Done,
            "{i}"
        );
    }
    // ...the oldest were forgotten (so they would count as new).
    assert!(store.claim("i:0", "o", LEASE).await.unwrap().is_claimed());
}

#[tokio::test]
async fn expired_keys_are_dropped_first() {
    let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
    let store = InMemoryDedupeStore::with_clock(3, clock.clone());
    handled(&store, "a", Duration::from_secs(1)).await;
    // A claim whose lease ends goes the same way as a done mark whose TTL ends.
    assert!(
        store
            .claim("b", "o", Duration::from_secs(1))
            .await
            .unwrap()
            .is_claimed()
    );
    clock.advance(Duration::from_secs(2));
    handled(&store, "c", Duration::from_mins(1)).await;
    assert_eq!(
        store.len(),
        1,
        "the expired keys went when the next key came"
    );
    // Claiming an expired key again many times never grows the store past its bound.
    for _ in 0..100 {
        clock.advance(Duration::from_secs(2));
        store.claim("a", "o", Duration::from_secs(1)).await.unwrap();
        assert!(store.len() <= 3);
    }
}

#[tokio::test]
async fn deduplicator_counts_each_phase() {
    let dedupe = Deduplicator::new(InMemoryDedupeStore::new(100));
    assert_eq!(dedupe.ttl(), Duration::from_hours(1));
    assert_eq!(dedupe.lease(), Duration::from_secs(20));
    let key = DedupeKey::inbound("tid-1").unwrap();
    let owner = ClaimOwner::new();
    assert!(dedupe.claim(&key, &owner).await.unwrap().is_claimed());
    for _ in 0..2 {
        let claim = dedupe.claim(&key, &ClaimOwner::new()).await.unwrap();
        assert_eq!(claim, Claim::Pending);
    }
    dedupe.complete(&key).await.unwrap();
    for _ in 0..3 {
        let claim = dedupe.claim(&key, &ClaimOwner::new()).await.unwrap();
        assert_eq!(claim, Claim::Done);
    }
    let stats = dedupe.stats();
    assert_eq!(
        (
            stats.first,
            stats.in_progress,
            stats.duplicates,
            stats.completed,
            stats.released
        ),
        (1, 2, 3, 1, 0)
    );
}

#[test]
fn every_owner_token_is_its_own() {
    let owners: std::collections::HashSet<ClaimOwner> =
        (0..1000).map(|_| ClaimOwner::new()).collect();
    assert_eq!(owners.len(), 1000);
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
    let dedupe = Deduplicator::new(InMemoryDedupeStore::new(100));
    let a = receipt("t-multi", "447400000001", DeliveryStatus::Delivered);
    let b = receipt("t-multi", "447400000002", DeliveryStatus::Delivered);
    let key_a = DedupeKey::for_receipt(&a).unwrap();
    let key_b = DedupeKey::for_receipt(&b).unwrap();
    assert_ne!(key_a, key_b);
    let claim = async |key: &DedupeKey| dedupe.claim(key, &ClaimOwner::new()).await.unwrap();
    assert_eq!(claim(&key_a).await, Claim::Claimed);
    assert_eq!(
        claim(&key_b).await,
        Claim::Claimed,
        "the second destination's receipt is not a duplicate of the first's"
    );
    dedupe.complete(&key_a).await.unwrap();
    dedupe.complete(&key_b).await.unwrap();
    assert_eq!(claim(&key_a).await, Claim::Done);
    assert_eq!(claim(&key_b).await, Claim::Done);
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
async fn a_released_key_does_not_break_the_capacity_bound() {
    let store = InMemoryDedupeStore::new(3);
    for round in 0..10 {
        for i in 0..3 {
            let key = format!("i:{round}-{i}");
            assert!(store.claim(&key, "o", LEASE).await.unwrap().is_claimed());
            if i == 1 {
                assert!(store.release(&key, "o").await.unwrap());
            }
        }
        assert!(store.len() <= 3);
    }
}

#[tokio::test]
async fn deduplicator_release_is_counted() {
    let dedupe = Deduplicator::new(InMemoryDedupeStore::new(100));
    let key = DedupeKey::inbound("tid-r").unwrap();
    let owner = ClaimOwner::new();
    assert!(dedupe.claim(&key, &owner).await.unwrap().is_claimed());
    assert!(!dedupe.release(&key, &ClaimOwner::new()).await.unwrap());
    assert!(dedupe.release(&key, &owner).await.unwrap());
    assert!(
        !dedupe.release(&key, &owner).await.unwrap(),
        "nothing left to release"
    );
    assert!(
        dedupe
            .claim(&key, &ClaimOwner::new())
            .await
            .unwrap()
            .is_claimed()
    );
    let stats = dedupe.stats();
    assert_eq!((stats.first, stats.duplicates, stats.released), (2, 0, 1));
}

/// A Redis connection that loses the reply of every claim (as a timeout or a dropped
/// connection after the server applied it would) and records the commands it was given.
#[cfg(feature = "redis")]
mod lost_reply {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use redis::aio::ConnectionLike;
    use redis::{Arg, Cmd, Pipeline, RedisError, RedisFuture, Value};
    use webex_connect_whatsapp::conversation::redis::RedisStore;
    use webex_connect_whatsapp::conversation::store::DedupeStore;
    use webex_connect_whatsapp::receiver::{ReceiveError, Receiver};

    #[derive(Clone, Default)]
    struct LosesClaimReplies {
        commands: Arc<Mutex<Vec<Vec<String>>>>,
    }

    /// A claim is the script that answers "claimed".
    fn is_claim(args: &[String]) -> bool {
        args.first().is_some_and(|c| c == "EVAL")
            && args.get(1).is_some_and(|s| s.contains("'claimed'"))
    }

    impl ConnectionLike for LosesClaimReplies {
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
                if is_claim(&args) {
                    return Err(RedisError::from(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the reply was lost",
                    )));
                }
                match args.first().map(String::as_str) {
                    Some("EVAL") => Ok(Value::Int(1)),
                    Some("SET") => Ok(Value::Okay),
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
    async fn a_claim_whose_reply_was_lost_is_released_and_reported() {
        let conn = LosesClaimReplies::default();
        let store = RedisStore::with_connection(conn.clone()).with_prefix("t:");
        let err = store
            .claim("i:lost", "owner-1", Duration::from_mins(1))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("redis"), "{err}");
        let commands = conn.commands.lock().unwrap().clone();
        assert_eq!(commands.len(), 2, "{commands:?}");
        let claim = &commands[0];
        assert!(is_claim(claim), "{claim:?}");
        assert_eq!(claim[2..], ["1", "t:seen:i:lost", "p:owner-1", "60000"]);
        // The release deletes the key only if it still holds this claim's owner token, so a
        // racing instance's claim, or a done mark, survives.
        let release = &commands[1];
        assert_eq!(release[0], "EVAL");
        assert!(release[1].contains("DEL"), "{release:?}");
        assert_eq!(release[2..], ["1", "t:seen:i:lost", "p:owner-1"]);
    }

    #[tokio::test]
    async fn every_delivery_claims_with_its_own_owner_token() {
        let conn = LosesClaimReplies::default();
        let receiver = Receiver::builder()
            .allow_unsigned()
            .dedupe_store(RedisStore::with_connection(conn.clone()))
            .build()
            .unwrap();
        let none: [(&str, &str); 0] = [];
        let body = br#"{"event":"MO","waid":"1","message":"hi","tid":"t_0"}"#;
        for _ in 0..3 {
            let err = receiver.receive(none, body).await.unwrap_err();
            assert!(matches!(err, ReceiveError::Store(_)), "{err:?}");
            assert_eq!(err.status(), 503);
        }
        let commands = conn.commands.lock().unwrap().clone();
        let mut owners: Vec<&String> = commands
            .iter()
            .filter(|c| is_claim(c))
            .map(|c| &c[4])
            .collect();
        assert_eq!(owners.len(), 3);
        owners.sort();
        owners.dedup();
        assert_eq!(owners.len(), 3, "{owners:?}");
        assert_eq!(receiver.stats().store_errors, 3);
    }

    #[tokio::test]
    async fn complete_marks_done_and_release_names_its_owner() {
        let conn = LosesClaimReplies::default();
        let store = RedisStore::with_connection(conn.clone()).with_prefix("t:");
        store
            .complete("i:done", Duration::from_hours(1))
            .await
            .unwrap();
        assert!(store.release("i:other", "owner-2").await.unwrap());
        let commands = conn.commands.lock().unwrap().clone();
        assert_eq!(commands[0], ["SET", "t:seen:i:done", "d", "PX", "3600000"]);
        assert_eq!(commands[1][0], "EVAL");
        assert_eq!(commands[1][2..], ["1", "t:seen:i:other", "p:owner-2"]);
    }
}
