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
use webex_connect_whatsapp::dedupe::{
    DedupeKey, DedupeKeyError, Deduplicator, InMemorySeenStore, SeenStore,
};
use webex_connect_whatsapp::store::ManualClock;

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
        clock.advance(time::Duration::try_from(by).unwrap());
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
    clock.advance(time::Duration::seconds(2));
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
        clock.advance(time::Duration::seconds(2));
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
        DedupeKey::receipt("", "7500").unwrap_err(),
        DedupeKeyError::Empty {
            part: "receipt transid"
        }
    );
    assert!(matches!(
        DedupeKey::receipt("t", ""),
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
        DedupeKey::receipt("1", "2").unwrap(),
        DedupeKey::inbound("1").unwrap(),
        DedupeKey::custom("1").unwrap(),
    ];
    assert_ne!(keys[0], keys[1]);
    assert_ne!(keys[1], keys[2]);
}
