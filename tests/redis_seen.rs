//! The Redis seen-store's at-least-once parts against a real `redis-server` started on
//! 127.0.0.1 for each test: releasing a key, and undoing a `SET NX` whose reply was lost
//! without touching another instance's mark. (The same logic without a server, on a fake
//! connection, is in `tests/dedupe.rs`.)
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

use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{Cmd, Pipeline, RedisError, RedisFuture, Value};
use redis_server::RedisServer;
use webex_connect_whatsapp::conversation::store::SeenStore;
use webex_connect_whatsapp::conversation::store::redis::RedisStore;

const TTL: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_forgotten_key_is_new_again() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::with_connection(server.connection().await);
    assert!(!store.forget("i:none").await.unwrap());
    assert!(store.first_seen("i:1", TTL).await.unwrap());
    assert!(!store.first_seen("i:1", TTL).await.unwrap());
    assert!(store.forget("i:1").await.unwrap());
    assert!(store.first_seen("i:1", TTL).await.unwrap());
    assert!(!store.first_seen("i:1", TTL).await.unwrap());
}

/// Forwards everything to a real server, but reports an error for `SET` after the server
/// applied it (a timeout or a dropped connection). With `rival`, another instance marks the
/// key first, so our `SET NX` is not applied.
#[derive(Clone)]
struct LostSetReply {
    inner: MultiplexedConnection,
    rival: Option<MultiplexedConnection>,
}

impl ConnectionLike for LostSetReply {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let is_set = cmd
                .args_iter()
                .next()
                .is_some_and(|a| matches!(a, redis::Arg::Simple(b"SET")));
            if is_set {
                if let Some(rival) = &mut self.rival {
                    let key = cmd.args_iter().nth(1).unwrap();
                    let redis::Arg::Simple(key) = key else {
                        panic!("no key")
                    };
                    let _: Option<String> = redis::cmd("SET")
                        .arg(key)
                        .arg("rival-token")
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
async fn a_set_nx_applied_but_unanswered_is_released() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let lossy = RedisStore::with_connection(LostSetReply {
        inner: server.connection().await,
        rival: None,
    });
    assert!(lossy.first_seen("i:lost", TTL).await.is_err());
    // The server had applied the SET; the store undid it, so the retry counts as new.
    let store = RedisStore::with_connection(server.connection().await);
    assert!(
        store.first_seen("i:lost", TTL).await.unwrap(),
        "the retry of an event whose mark was lost is new"
    );
}

#[tokio::test]
async fn a_lost_reply_never_releases_another_instances_mark() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let lossy = RedisStore::with_connection(LostSetReply {
        inner: server.connection().await,
        rival: Some(server.connection().await),
    });
    assert!(lossy.first_seen("i:raced", TTL).await.is_err());
    // The rival instance won the SET NX and is handling the event: its mark stays.
    let store = RedisStore::with_connection(server.connection().await);
    assert!(!store.first_seen("i:raced", TTL).await.unwrap());
}
