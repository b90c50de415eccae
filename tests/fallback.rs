//! The in-memory fallback store against the shared fallback-store suite (the Redis store runs
//! the same suite in `tests/redis_guard.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod fallback_suite;

use std::sync::Arc;

use webex_connect_whatsapp::conversation::fallback::InMemoryFallbackStore;

fn store() -> InMemoryFallbackStore {
    InMemoryFallbackStore::new(100)
}

#[tokio::test]
async fn register_take_once_report_until_finished() {
    fallback_suite::lifecycle(store()).await;
}

#[tokio::test]
async fn a_7710_before_the_answer_makes_the_registration_due() {
    fallback_suite::early_failure(store()).await;
}

#[tokio::test]
async fn discard_and_forget() {
    fallback_suite::discard_and_forget(store()).await;
}

#[tokio::test]
async fn bsuid_recipients_and_long_transaction_ids() {
    fallback_suite::bsuid_and_long_ids(store()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_takes_exactly_one_wins() {
    fallback_suite::racing_takes(vec![Arc::new(store())], "t-race").await;
}

#[tokio::test]
async fn zero_retention_is_refused() {
    fallback_suite::zero_retention_is_refused(store()).await;
}
