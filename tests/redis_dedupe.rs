//! The Redis dedupe store's two phases against a real `redis-server` started on 127.0.0.1 for
//! each test: a claim that outlives a crash only for its lease, releases that touch only
//! their own claim, and undoing a claim whose reply was lost without touching another
//! instance's. (The same commands without a server, on a fake connection, are in
//! `tests/dedupe.rs`.)
//!
//! Without `redis-server` these tests behave as `tests/redis_server/mod.rs` says (they skip
//! when the server is missing and skipping is allowed).
#![cfg(feature = "redis")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod redis_server;
mod store_suite;

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{Cmd, Pipeline, RedisError, RedisFuture, Value};
use redis_server::RedisServer;
use webex_connect_whatsapp::conversation::redis::RedisStore;
use webex_connect_whatsapp::conversation::store::{Claim, DedupeStore};

const LEASE: Duration = Duration::from_mins(1);

#[tokio::test]
async fn a_crashed_claim_blocks_retries_only_until_its_lease_ends() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::with_connection(server.connection().await);
    // Redis ends the lease by its own clock, so a short lease really has to pass.
    store_suite::dedupe_lease_expiry(store, async |by| tokio::time::sleep(by).await).await;
}

#[tokio::test]
async fn a_crashed_receivers_claim_ends_with_its_lease_then_the_retry_is_handled() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    // Two receivers on one Redis: the first claims and dies, the second gets the retries.
    let store = RedisStore::with_connection(server.connection().await);
    store_suite::receiver_claim_outlives_a_crash_only_for_its_lease(
        store,
        Duration::from_millis(200),
        async |by| tokio::time::sleep(by).await,
    )
    .await;
}

#[tokio::test]
async fn a_release_never_removes_a_done_mark_or_another_owners_claim() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::with_connection(server.connection().await);
    store_suite::dedupe_release_rules(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_racing_on_one_key_one_claims_it() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = Arc::new(RedisStore::with_connection(server.connection().await));
    let b = Arc::new(RedisStore::with_connection(server.connection().await));
    for n in 0..10 {
        store_suite::dedupe_race(vec![Arc::clone(&a), Arc::clone(&b)], &format!("i:{n}")).await;
    }
}

#[tokio::test]
async fn a_mark_written_by_an_earlier_version_counts_as_done() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let mut conn = server.connection().await;
    // Earlier versions marked a key seen with a random token for the whole TTL.
    let _: () = redis::cmd("SET")
        .arg("wcwa:seen:i:old")
        .arg("1f2e-0123456789abcdef-7")
        .query_async(&mut conn)
        .await
        .unwrap();
    let store = RedisStore::with_connection(conn);
    assert_eq!(store.claim("i:old", "a", LEASE).await.unwrap(), Claim::Done);
    assert!(
        !store
            .release("i:old", "1f2e-0123456789abcdef-7")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn what_a_claim_and_a_done_mark_hold_and_for_how_long() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let mut conn = server.connection().await;
    let store = RedisStore::with_connection(conn.clone()).with_prefix("t:");
    assert!(
        store
            .claim("i:1", "owner-1", Duration::from_secs(20))
            .await
            .unwrap()
            .is_claimed()
    );
    let get = async |conn: &mut MultiplexedConnection| -> (Option<String>, i64) {
        let value = redis::cmd("GET")
            .arg("t:seen:i:1")
            .query_async(conn)
            .await
            .unwrap();
        let pttl = redis::cmd("PTTL")
            .arg("t:seen:i:1")
            .query_async(conn)
            .await
            .unwrap();
        (value, pttl)
    };
    let (value, pttl) = get(&mut conn).await;
    assert_eq!(value.as_deref(), Some("p:owner-1"));
    assert!(pttl > 0 && pttl <= 20_000, "{pttl}");
    store
        .complete("i:1", Duration::from_hours(1))
        .await
        .unwrap();
    let (value, pttl) = get(&mut conn).await;
    assert_eq!(value.as_deref(), Some("d"));
    assert!(pttl > 20_000 && pttl <= 3_600_000, "{pttl}");
}

/// Forwards everything to a real server, but reports an error for a claim after the server
/// applied it (a timeout or a dropped connection). With `rival`, another instance claims the
/// key first, so our claim is not applied.
#[derive(Clone)]
struct LostClaimReply {
    inner: MultiplexedConnection,
    rival: Option<MultiplexedConnection>,
}

/// The claim script is the one that answers "claimed"; its key is the third argument.
fn claimed_key(cmd: &Cmd) -> Option<Vec<u8>> {
    let mut args = cmd.args_iter();
    let (Some(redis::Arg::Simple(b"EVAL")), Some(redis::Arg::Simple(script))) =
        (args.next(), args.next())
    else {
        return None;
    };
    if !String::from_utf8_lossy(script).contains("'claimed'") {
        return None;
    }
    let (_, Some(redis::Arg::Simple(key))) = (args.next(), args.next()) else {
        return None;
    };
    Some(key.to_vec())
}

impl ConnectionLike for LostClaimReply {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            if let Some(key) = claimed_key(cmd) {
                if let Some(rival) = &mut self.rival {
                    let _: Option<String> = redis::cmd("SET")
                        .arg(key)
                        .arg("p:rival-token")
                        .arg("NX")
                        .query_async(rival)
                        .await
                        .unwrap();
                }
                self.inner.req_packed_command(cmd).await?;
                return Err(RedisError::from(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the reply was lost",
                )));
            }
            self.inner.req_packed_command(cmd).await
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.inner.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}

#[tokio::test]
async fn a_claim_applied_but_unanswered_is_released() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let lossy = RedisStore::with_connection(LostClaimReply {
        inner: server.connection().await,
        rival: None,
    });
    assert!(lossy.claim("i:lost", "lossy", LEASE).await.is_err());
    // The server had applied the claim; the store undid it, so the retry counts as new.
    let store = RedisStore::with_connection(server.connection().await);
    assert_eq!(
        store.claim("i:lost", "retry", LEASE).await.unwrap(),
        Claim::Claimed,
        "the retry of an event whose claim's reply was lost is handled"
    );
}

#[tokio::test]
async fn a_lost_reply_never_releases_another_instances_claim() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let lossy = RedisStore::with_connection(LostClaimReply {
        inner: server.connection().await,
        rival: Some(server.connection().await),
    });
    assert!(lossy.claim("i:raced", "lossy", LEASE).await.is_err());
    // The rival instance won the claim and is handling the event: its claim stays.
    let store = RedisStore::with_connection(server.connection().await);
    assert_eq!(
        store.claim("i:raced", "retry", LEASE).await.unwrap(),
        Claim::Pending
    );
}
