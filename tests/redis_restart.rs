//! Redis goes away and comes back: a real `redis-server` is killed mid-run and started again
//! on the same port. The stores (windows, opt-ins, dedupe marks, fallbacks) and the shared rate
//! limit fail while it is down, in the documented direction (an error, never a guess), and
//! work again once it is back, on the connections they opened before, without a new
//! `connect`.
//!
//! Without `redis-server` these tests behave as `tests/redis_server/mod.rs` says (they skip
//! when the server is missing and skipping is allowed).
#![cfg(all(feature = "redis", feature = "client"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod redis_server;

use std::future::Future;
use std::io::Read as _;
use std::net::TcpListener;
use std::num::NonZeroU32;
use std::time::Duration;

use redis_server::RedisServer;
use webex_connect_whatsapp::client::SharedRateLimit;
use webex_connect_whatsapp::conversation::fallback::FallbackStore;
use webex_connect_whatsapp::conversation::optin::OptInLedger;
use webex_connect_whatsapp::conversation::redis::RedisStore;
use webex_connect_whatsapp::conversation::store::{DedupeStore, StoreError};
use webex_connect_whatsapp::conversation::window::SessionWindows;

const WAID: &str = "919900000001";
const TTL: Duration = Duration::from_mins(1);

/// Runs `call` until it succeeds, a bounded number of times: the first call after the server
/// is back may fail on the connection that died, and starts the reconnection. Returns the
/// value and how many calls failed first.
async fn eventually<T, Fut>(mut call: impl FnMut() -> Fut) -> (T, usize)
where
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut failures = 0;
    loop {
        match call().await {
            Ok(value) => return (value, failures),
            Err(error) if failures < 100 => {
                assert!(
                    matches!(error, StoreError::Backend { store: "redis", .. }),
                    "{error}"
                );
                failures += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("still failing after {failures} calls: {error}"),
        }
    }
}

/// The first delivery of `key` claims it (and the claim is completed, as a handler that
/// succeeded would); a later one finds it done.
async fn first_seen(store: &RedisStore, key: &str) -> Result<bool, StoreError> {
    let claimed = store.claim(key, "restart-test", TTL).await?.is_claimed();
    if claimed {
        store.complete(key, TTL).await?;
    }
    Ok(claimed)
}

fn is_backend<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Backend { store: "redis", .. }))
}

#[tokio::test]
async fn the_stores_and_the_rate_limit_fail_while_redis_is_down_and_come_back() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let windows = SessionWindows::new(store.clone());
    let ledger = OptInLedger::new(store.clone());
    let tps = NonZeroU32::new(100).unwrap();
    let limit = SharedRateLimit::connect(&server.url(), "restart", tps)
        .await
        .unwrap();

    // Up: everything answers.
    windows.record_inbound_now(WAID).await.unwrap();
    assert!(windows.status(WAID).await.unwrap().is_open());
    assert!(first_seen(&store, "i:1").await.unwrap());
    assert!(!ledger.status(WAID).await.unwrap().is_opted_in());
    assert_eq!(
        store
            .pending(time::OffsetDateTime::now_utc())
            .await
            .unwrap(),
        0
    );
    limit.reserve(1).await.unwrap();

    // Down: every call fails with a backend error, none guesses an answer. A window read
    // fails rather than saying "unknown" (which the guard may allow), a seen check fails
    // rather than saying "new" or "duplicate" (the receiver answers 503, so the platform
    // retries), and the rate limit cannot reserve (a client then limits in its process).
    server.stop();
    assert!(is_backend(&windows.status(WAID).await));
    assert!(is_backend(&windows.record_inbound_now(WAID).await));
    assert!(is_backend(&first_seen(&store, "i:2").await));
    assert!(is_backend(&ledger.status(WAID).await));
    assert!(is_backend(
        &store.pending(time::OffsetDateTime::now_utc()).await
    ));
    assert!(is_backend(&limit.reserve(1).await));
    // Still down on a second round: the reconnection attempts are bounded, and each call
    // fails instead of waiting for the server.
    assert!(is_backend(&first_seen(&store, "i:2").await));
    assert!(is_backend(&limit.reserve(1).await));

    // Back, on the same port: the same store and limit work again, no new connect. (The
    // server kept nothing: it was started without persistence.)
    server.restart();
    eventually(|| windows.record_inbound_now(WAID)).await;
    let (status, _) = eventually(|| windows.status(WAID)).await;
    assert!(status.is_open());
    let (first, _) = eventually(|| first_seen(&store, "i:2")).await;
    assert!(first);
    assert!(!first_seen(&store, "i:2").await.unwrap());
    eventually(|| ledger.status(WAID)).await;
    eventually(|| store.pending(time::OffsetDateTime::now_utc())).await;
    eventually(|| limit.reserve(1)).await;

    // And again: a second restart is survived the same way.
    server.restart();
    let (first, _) = eventually(|| first_seen(&store, "i:3")).await;
    assert!(first);
    eventually(|| limit.reserve(1)).await;
}

/// A TCP server that accepts connections and reads whatever comes, but never answers: a
/// Redis that hangs.
fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    port
}

#[tokio::test]
async fn a_server_that_never_answers_fails_the_connect_instead_of_hanging() {
    // No redis-server needed: the point is that nothing waits forever for an answer.
    let port = silent_server();
    let url = format!("redis://:hunter2@127.0.0.1:{port}/");
    let err = RedisStore::connect(&url).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Backend { store: "redis", .. }),
        "{err}"
    );
    let tps = NonZeroU32::new(10).unwrap();
    let err = SharedRateLimit::connect(&url, "silent", tps)
        .await
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("hunter2"), "{err:?}");
}
