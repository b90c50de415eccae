//! One rate limit shared across processes: two clients on one real Redis send 200 messages to
//! the sandbox with the limit at 20 destinations per second, and the sandbox's own request log
//! never shows more than 20 destinations within any one second (give or take one interval).
//!
//! Needs `redis-server` (see `tests/redis_server`); skipped with a notice without it.
#![cfg(all(feature = "redis", feature = "sandbox"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod redis_server;

use std::num::NonZeroU32;

use futures_util::StreamExt as _;
use std::time::Duration;

use time::OffsetDateTime;
use webex_connect_whatsapp::client::SharedRateLimit;
use webex_connect_whatsapp::sandbox::Sandbox;
use webex_connect_whatsapp::{PhoneNumber, SessionMessage};

const LIMIT: u32 = 20;
const MESSAGES: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_share_one_limit() {
    let Some(redis) = redis_server::RedisServer::start() else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let tps = NonZeroU32::new(LIMIT).unwrap();
    let mut clients = Vec::new();
    for _ in 0..2 {
        // Each client has its own connection, as two processes would.
        let limit = SharedRateLimit::connect(&redis.url(), "tenant-test", tps)
            .await
            .unwrap();
        clients.push(
            sandbox
                .client_builder()
                .shared_rate_limit(limit)
                .build()
                .unwrap(),
        );
    }
    let mut tasks = Vec::new();
    for (c, client) in clients.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut queued = 0;
            // Eight in flight per client, so the limit, not the sender, sets the pace.
            let sends = (0..MESSAGES / 2).map(|i| {
                let client = client.clone();
                async move {
                    let to = PhoneNumber::parse(&format!("+4474{:08}", c * MESSAGES + i)).unwrap();
                    client
                        .send(&to, SessionMessage::text("Your code is 1234").unwrap())
                        .await
                }
            });
            let mut results = futures_util::stream::iter(sends).buffer_unordered(8);
            while let Some(r) = results.next().await {
                if r.is_ok() {
                    queued += 1;
                }
            }
            queued
        }));
    }
    let mut queued = 0;
    for t in tasks {
        queued += t.await.unwrap();
    }
    assert_eq!(queued, MESSAGES, "every message is queued");

    let mut arrivals: Vec<OffsetDateTime> = sandbox
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/messaging"))
        .map(|r| r.received_at)
        .collect();
    arrivals.sort();
    assert_eq!(arrivals.len(), MESSAGES);
    let interval = Duration::from_secs(1) / LIMIT;
    let window = Duration::from_secs(1).saturating_sub(interval);
    let mut most = 0;
    for (i, start) in arrivals.iter().enumerate() {
        let in_window = arrivals[i..]
            .iter()
            .take_while(|t| **t - *start <= window)
            .count();
        most = most.max(in_window);
    }
    // One interval of slack: a request that arrives a hair early at a second's edge.
    assert!(
        most <= LIMIT as usize + 1,
        "{most} destinations arrived within one second; the shared limit is {LIMIT}"
    );
}
