//! The Redis send journal (feature `redis`) against a real `redis-server` that each test starts
//! on 127.0.0.1: the shared journal suite, then its keys, several instances, retention, later
//! versions' records and failures.
//!
//! Without `redis-server` installed each test prints a notice and passes as skipped;
//! `WEBEX_CONNECT_REQUIRE_REDIS=1` (set by `.ci/run`) makes a missing server a failure instead.
#![cfg(feature = "redis")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod journal_suite;
mod redis_server;

use std::time::Duration;

use journal_suite::{Harness, T0, id, intent, outcome, queued};
use redis::AsyncCommands as _;
use redis_server::RedisServer;
use webex_connect_whatsapp::conversation::journal::{Journal, JournalError, SendState};
use webex_connect_whatsapp::conversation::redis::RedisJournal;

/// A journal under one prefix on a server of its own.
struct Redis {
    server: RedisServer,
    prefix: &'static str,
}

impl Harness for Redis {
    type J = RedisJournal;
    async fn open(&mut self) -> RedisJournal {
        RedisJournal::connect(&self.server.url())
            .await
            .unwrap()
            .with_prefix(self.prefix)
    }
}

fn setup() -> Option<Redis> {
    Some(Redis {
        server: RedisServer::start()?,
        prefix: "test:wa:",
    })
}

mod suite {
    crate::suite_tests!(super::setup());
}

// ------------------------------------------------------------------ Redis only

#[tokio::test]
async fn keys_are_one_list_per_send_and_the_first_seen_order() {
    let Some(mut h) = setup() else { return };
    let journal = h.open().await;
    journal
        .append(&[
            intent("b", "447400123457", T0),
            intent("a", "447400123456", T0),
            outcome("b", queued("t-b"), T0),
        ])
        .await
        .unwrap();
    let mut conn = h.server.connection().await;
    let mut keys: Vec<String> = conn.keys("*").await.unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [
            "test:wa:journal:order",
            "test:wa:journal:send:a",
            "test:wa:journal:send:b",
            "test:wa:journal:seq"
        ]
    );
    let b: Vec<String> = conn.lrange("test:wa:journal:send:b", 0, -1).await.unwrap();
    assert_eq!(b.len(), 2);
    assert!(b[0].starts_with(r#"{"record":"intent","correlation_id":"b""#));
    assert!(b[1].starts_with(r#"{"record":"outcome","correlation_id":"b","outcome":"queued""#));
    let order: Vec<String> = conn.zrange("test:wa:journal:order", 0, -1).await.unwrap();
    assert_eq!(order, ["b", "a"]);
    // Nothing expires unless a retention is set.
    let ttl: i64 = conn.pttl("test:wa:journal:send:a").await.unwrap();
    assert_eq!(ttl, -1);
}

#[tokio::test]
async fn two_instances_share_one_journal_and_prefixes_keep_journals_apart() {
    let Some(mut h) = setup() else { return };
    let first = h.open().await;
    let second = h.open().await;
    first
        .append(&[intent("row-1", "447400123456", T0)])
        .await
        .unwrap();
    second
        .append(&[intent("row-2", "447400123457", T0)])
        .await
        .unwrap();
    second
        .append(&[outcome("row-1", queued("t1"), T0)])
        .await
        .unwrap();
    for journal in [&first, &second] {
        assert_eq!(
            journal_suite::states(journal).await,
            [
                ("row-1".to_owned(), SendState::Queued),
                ("row-2".to_owned(), SendState::InFlight)
            ]
        );
    }
    let other = first.clone().with_prefix("other:");
    assert!(other.entries().await.unwrap().is_empty());
    assert_eq!(other.lookup(&id("row-1")).await.unwrap(), None);
}

#[tokio::test]
async fn entries_walk_every_page_in_order() {
    let Some(mut h) = setup() else { return };
    let journal = h.open().await;
    let n = 1203;
    for chunk in (0..n).collect::<Vec<_>>().chunks(400) {
        let records: Vec<_> = chunk
            .iter()
            .map(|i| intent(&format!("row-{i}"), "447400123456", T0))
            .collect();
        journal.append(&records).await.unwrap();
    }
    let entries = journal.entries().await.unwrap();
    assert_eq!(entries.len(), n);
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry.correlation_id().as_str(), format!("row-{i}"));
    }
}

#[tokio::test]
async fn retention_expires_sends_and_their_ids_leave_the_order() {
    let Some(mut h) = setup() else { return };
    let journal = h
        .open()
        .await
        .with_retention(Duration::from_hours(1))
        .unwrap();
    assert_eq!(journal.retention(), Some(Duration::from_hours(1)));
    journal
        .append(&[
            intent("old", "447400123456", T0),
            intent("new", "447400123457", T0),
        ])
        .await
        .unwrap();
    let mut conn = h.server.connection().await;
    for key in [
        "test:wa:journal:send:old",
        "test:wa:journal:order",
        "test:wa:journal:seq",
    ] {
        let ttl: i64 = conn.pttl(key).await.unwrap();
        assert!(ttl > 0 && ttl <= 3_600_000, "{key}: {ttl}");
    }
    // The list of "old" expires (deleted here: waiting an hour is not a test).
    let _: i64 = conn.del("test:wa:journal:send:old").await.unwrap();
    assert_eq!(journal.lookup(&id("old")).await.unwrap(), None);
    let entries = journal.entries().await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].correlation_id(), &id("new"));
    let order: Vec<String> = conn.zrange("test:wa:journal:order", 0, -1).await.unwrap();
    assert_eq!(order, ["new"], "the walk dropped the expired id");

    assert!(matches!(
        journal.clone().with_retention(Duration::ZERO),
        Err(JournalError::InvalidRetention { millis: 0, .. })
    ));
}

#[tokio::test]
async fn later_versions_records_are_kept_and_unreadable_ones_are_named() {
    let Some(mut h) = setup() else { return };
    let journal = h.open().await;
    journal
        .append(&[intent("a", "447400123456", T0)])
        .await
        .unwrap();
    let mut conn = h.server.connection().await;
    let key = "test:wa:journal:send:a";
    let _: i64 = conn
        .rpush(
            key,
            &[
                r#"{"record":"checkpoint","at":"2026-12-01T10:00:00Z"}"#,
                r#"{"record":"outcome","correlation_id":"a","outcome":"archived","at":"2026-12-01T10:00:00Z"}"#,
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        journal.lookup(&id("a")).await.unwrap().map(|e| *e.state()),
        Some(SendState::InFlight)
    );
    let kept: i64 = conn.llen(key).await.unwrap();
    assert_eq!(kept, 3);

    let _: i64 = conn
        .rpush(
            key,
            r#"{"record":"intent","correlation_id":"a","recipient":"447400999999"}"#,
        )
        .await
        .unwrap();
    for err in [
        journal.lookup(&id("a")).await.unwrap_err(),
        journal.entries().await.unwrap_err(),
    ] {
        let message = format!("{err} {err:?}");
        assert!(matches!(err, JournalError::Corrupt { .. }), "{message}");
        assert!(
            message.contains("item 3 of the Redis list test:wa:journal:send:a"),
            "{message}"
        );
        assert!(!message.contains("447400999999"), "{message}");
    }
}

#[tokio::test]
async fn an_unreachable_server_is_a_backend_error_without_the_url() {
    let Some(h) = setup() else { return };
    let port = h.server.port();
    drop(h);
    let url = format!("redis://:hunter2@127.0.0.1:{port}/");
    let err = RedisJournal::connect(&url).await.unwrap_err();
    let message = format!("{err} {err:?}");
    assert!(
        matches!(err, JournalError::Backend { store: "redis", .. }),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn a_failed_append_is_an_error_and_what_it_left_reads_as_in_flight() {
    let Some(mut h) = setup() else { return };
    let journal = h.open().await;
    // Another program wrote a string where x's list belongs: the script stops at x's RPUSH.
    // Redis does not roll a script back, so y's intent, pushed first, stays.
    let mut conn = h.server.connection().await;
    let _: () = conn
        .set("test:wa:journal:send:x", "not a list")
        .await
        .unwrap();
    let err = journal
        .append(&[
            intent("y", "447400123457", T0),
            intent("x", "447400123456", T0),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(err, JournalError::Backend { store: "redis", .. }),
        "{err:?}"
    );
    // The caller was told the append failed and sent nothing; the leftover intent reads as
    // in flight, which is never resent: the safe side.
    assert_eq!(
        journal.lookup(&id("y")).await.unwrap().map(|e| *e.state()),
        Some(SendState::InFlight)
    );
}
