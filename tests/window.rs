//! Session windows on the in-memory store: the shared behaviour suite (also run against
//! Redis in `tests/redis_store.rs`) plus what is specific to the bounded in-memory store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod store_suite;

use std::sync::Arc;

use time::Duration;
use time::macros::datetime;
use webex_connect_whatsapp::conversation::clock::{ManualClock, SystemClock};
use webex_connect_whatsapp::conversation::store::{InMemoryWindowStore, WindowStore};
use webex_connect_whatsapp::conversation::window::{SESSION_WINDOW, SessionWindows, WindowStatus};

fn store(capacity: usize) -> Arc<InMemoryWindowStore> {
    Arc::new(InMemoryWindowStore::new(capacity))
}

#[tokio::test]
async fn boundaries_23_59_59_open_24_00_00_closed() {
    store_suite::window_boundaries(store(100)).await;
}

#[tokio::test]
async fn late_inbound_never_moves_the_window_backwards() {
    store_suite::window_out_of_order(store(100)).await;
}

#[tokio::test]
async fn times_are_kept_to_the_microsecond() {
    store_suite::window_sub_microsecond_is_dropped(store(100)).await;
}

#[tokio::test]
async fn entries_are_dropped_after_retention_and_on_forget() {
    store_suite::window_retention_and_forget(store(100)).await;
}

#[tokio::test]
async fn recipients_are_named_by_waid_or_phone_number() {
    store_suite::window_keys(store(100)).await;
}

#[tokio::test]
async fn an_inbound_message_opens_the_window_for_every_sender_id() {
    store_suite::window_message_opens_every_sender_id(store(100)).await;
}

#[tokio::test]
async fn a_time_in_the_future_counts_as_now() {
    store_suite::window_future_times_count_as_now(store(100)).await;
}

#[tokio::test]
async fn whole_suite_on_one_shared_store() {
    store_suite::window_all(store(1000)).await;
}

#[tokio::test]
async fn the_store_never_grows_past_its_capacity() {
    let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
    let windows = SessionWindows::with_clock(store(100), clock.clone());
    for i in 0..1_000 {
        clock.advance(std::time::Duration::from_secs(1));
        windows
            .record_inbound_now(&format!("9199{i:08}"))
            .await
            .unwrap();
        assert!(windows.store().len() <= 100);
    }
    assert_eq!(windows.store().len(), 100);
    // The newest 100 are kept; the oldest were evicted.
    assert!(windows.status("919900000999").await.unwrap().is_open());
    assert!(windows.status("919900000900").await.unwrap().is_open());
    assert_eq!(
        windows.status("919900000899").await.unwrap(),
        WindowStatus::Unknown
    );
}

#[tokio::test]
async fn expired_entries_are_evicted_before_live_ones() {
    let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
    let windows = SessionWindows::with_clock(store(3), clock.clone())
        .with_retention(std::time::Duration::ZERO);
    // An old recipient whose entry expires first...
    windows.record_inbound_now("1000").await.unwrap();
    clock.advance(std::time::Duration::from_hours(23));
    windows.record_inbound_now("2000").await.unwrap();
    windows.record_inbound_now("3000").await.unwrap();
    clock.advance(std::time::Duration::from_hours(2));
    // ...then a refresh of "1000" after it expired moves it to the back of the queue.
    windows.record_inbound_now("1000").await.unwrap();
    windows.record_inbound_now("4000").await.unwrap();
    assert_eq!(windows.store().len(), 3);
    // "2000" had the oldest live window, so it made room.
    assert_eq!(windows.status("2000").await.unwrap(), WindowStatus::Unknown);
    for kept in ["1000", "3000", "4000"] {
        assert!(windows.status(kept).await.unwrap().is_open(), "{kept}");
    }
}

#[tokio::test]
async fn expired_entry_is_evicted_rather_than_the_oldest_live_one() {
    let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
    let store = store(2);
    let windows = SessionWindows::with_clock(Arc::clone(&store), clock.clone())
        .with_retention(std::time::Duration::ZERO);
    windows.record_inbound_now("1000").await.unwrap();
    clock.advance(std::time::Duration::from_hours(1));
    windows.record_inbound_now("2000").await.unwrap();
    clock.advance(std::time::Duration::from_hours(24)); // "1000" expired, "2000" too
    windows.record_inbound_now("3000").await.unwrap();
    assert_eq!(store.len(), 2);
    assert_eq!(windows.status("1000").await.unwrap(), WindowStatus::Unknown);
    assert!(windows.status("3000").await.unwrap().is_open());
}

#[tokio::test]
async fn default_tracker_uses_the_system_clock() {
    let windows = SessionWindows::default();
    assert_eq!(*windows.clock(), SystemClock);
    assert_eq!(windows.store().capacity(), 1_000_000);
    let status = windows.record_inbound_now("919900000001").await.unwrap();
    let WindowStatus::Open { until } = status else {
        panic!("expected open, got {status:?}");
    };
    let now = time::OffsetDateTime::now_utc();
    assert!(until > now && until <= now + SESSION_WINDOW);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_keep_the_latest_time() {
    let t = datetime!(2026-01-01 00:00 UTC);
    // Every time recorded is in the past: a future one would count as now.
    let clock = ManualClock::new(t + Duration::seconds(200));
    let windows = Arc::new(SessionWindows::with_clock(store(10), clock));
    let mut tasks = Vec::new();
    for i in 0..200i64 {
        let windows = Arc::clone(&windows);
        tasks.push(tokio::spawn(async move {
            windows
                .record_inbound("919900000001", t + Duration::seconds(i))
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        windows
            .store()
            .last_inbound("919900000001", t)
            .await
            .unwrap(),
        Some(t + Duration::seconds(199))
    );
}

#[test]
fn debug_output_does_not_list_recipients() {
    let store = InMemoryWindowStore::new(10);
    let debug = format!("{store:?}");
    assert!(debug.contains("capacity: 10"), "{debug}");
}

/// The sandbox's clock is a `Clock`: a test that moves the sandbox's time moves the windows
/// and the dedupe marks it keeps beside the sandbox too.
#[cfg(feature = "sandbox")]
#[tokio::test]
async fn the_sandbox_clock_drives_windows_and_dedupe_marks() {
    use webex_connect_whatsapp::conversation::store::{Claim, DedupeStore, InMemoryDedupeStore};
    use webex_connect_whatsapp::sandbox::SandboxClock;

    let clock = SandboxClock::manual();
    let windows = SessionWindows::with_clock(store(10), clock.clone());
    let seen = InMemoryDedupeStore::with_clock(10, clock.clone());
    windows.record_inbound_now("919900000001").await.unwrap();
    let ttl = std::time::Duration::from_mins(1);
    assert_eq!(seen.claim("i:1", "a", ttl).await.unwrap(), Claim::Claimed);
    seen.complete("i:1", ttl).await.unwrap();
    assert_eq!(seen.claim("i:1", "b", ttl).await.unwrap(), Claim::Done);

    clock.advance(std::time::Duration::from_secs(24 * 60 * 60 - 1));
    assert!(windows.status("919900000001").await.unwrap().is_open());
    assert_eq!(
        seen.claim("i:1", "c", ttl).await.unwrap(),
        Claim::Claimed,
        "the key expired"
    );
    clock.advance(std::time::Duration::from_secs(1));
    assert!(windows.status("919900000001").await.unwrap().is_closed());
}
