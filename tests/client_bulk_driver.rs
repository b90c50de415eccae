//! Bulk and batch calls run to their answer whatever the reader does: a slow reader slows the
//! intake of rows, never the calls in flight, and a dropped stream's calls still end, counted
//! and journaled.
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{Stream as _, StreamExt as _};
use support::{phone, text};
use webex_connect_whatsapp::client::{BatchRow, BulkResult, BulkStream, Client, RetryPolicy};
use webex_connect_whatsapp::conversation::journal::{
    InMemoryJournal, Journal as _, JournalRecord, SendOutcome,
};
use webex_connect_whatsapp::sandbox::{Fault, Sandbox};

/// How long the reader spends on each result (a database write, say): three results take
/// longer than the request timeout.
const PER_RESULT: Duration = Duration::from_millis(200);
const REQUEST_TIMEOUT: Duration = Duration::from_millis(450);

/// A sandbox whose first call answers at once and the next two after a short delay, so that
/// when the first call's results reach the reader the other two are still in flight.
async fn staggered_sandbox() -> Sandbox {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.push_fault(Fault::Latency(Duration::from_millis(1)));
    sandbox.push_fault(Fault::Latency(Duration::from_millis(100)));
    sandbox.push_fault(Fault::Latency(Duration::from_millis(100)));
    sandbox
}

fn client_of(sandbox: &Sandbox, policy: RetryPolicy) -> Client {
    sandbox
        .client_builder()
        .request_timeout(REQUEST_TIMEOUT)
        .retry_policy(policy.base_delay(Duration::from_millis(5)))
        .build()
        .unwrap()
}

/// Reads every result slowly.
async fn read_slowly(mut stream: BulkStream) -> (Vec<BulkResult>, BulkStream) {
    let mut results = Vec::new();
    while let Some(r) = stream.next().await {
        tokio::time::sleep(PER_RESULT).await;
        results.push(r);
    }
    (results, stream)
}

/// Nine messages in three calls of three, all in flight at once, read slowly: every one is
/// queued once, and none is outcome-unknown.
async fn assert_slow_reader_loses_nothing(policy: RetryPolicy, batch: bool) {
    let sandbox = staggered_sandbox().await;
    let client = client_of(&sandbox, policy);
    let stream = if batch {
        let rows = (0..9).map(|i| BatchRow::new(phone(i), text(&format!("Hi {i}"))));
        client.batch().call_size(3).concurrency(3).send(rows)
    } else {
        client
            .bulk(text("Hi"))
            .call_size(3)
            .concurrency(3)
            .send((0..9).map(phone))
    };
    let (results, stream) = read_slowly(stream).await;
    assert_eq!(results.len(), 9);
    for r in &results {
        assert!(r.result.is_ok(), "#{}: {:?}", r.index, r.result);
        assert_eq!(r.result.as_ref().unwrap().attempts, 1);
    }
    let progress = stream.progress();
    assert_eq!((progress.queued, progress.outcome_unknown), (9, 0));
    assert_eq!(sandbox.messages().len(), 9);
    assert!(
        sandbox.queued_twice().is_empty(),
        "{:?}",
        sandbox.queued_twice()
    );
    assert_eq!(
        sandbox.requests().len(),
        3,
        "one request per call, none resent"
    );
}

#[tokio::test]
async fn a_slow_reader_does_not_turn_bulk_answers_into_timeouts() {
    assert_slow_reader_loses_nothing(RetryPolicy::default(), false).await;
}

#[tokio::test]
async fn a_slow_reader_does_not_make_at_least_once_bulk_sends_twice() {
    assert_slow_reader_loses_nothing(RetryPolicy::at_least_once(), false).await;
}

#[tokio::test]
async fn a_slow_reader_does_not_turn_batch_answers_into_timeouts() {
    assert_slow_reader_loses_nothing(RetryPolicy::default(), true).await;
}

#[tokio::test]
async fn a_slow_reader_does_not_make_at_least_once_batches_send_twice() {
    assert_slow_reader_loses_nothing(RetryPolicy::at_least_once(), true).await;
}

/// Waits until `journal` holds `n` intents (polling: the calls run on their own tasks).
async fn intents_stored(journal: &InMemoryJournal, n: usize) {
    loop {
        let intents = journal
            .records()
            .iter()
            .filter(|r| matches!(r, JournalRecord::Intent { .. }))
            .count();
        if intents >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Drops a stream while its first calls are in flight: no further call starts, and the calls
/// in flight end, counted and journaled.
async fn assert_dropped_stream_finishes_its_calls(batch: bool) {
    let sandbox = Sandbox::start().await.unwrap();
    // Every call answers late, so the stream is dropped while both are in flight.
    for _ in 0..4 {
        sandbox.push_fault(Fault::Latency(Duration::from_millis(400)));
    }
    let journal = Arc::new(InMemoryJournal::new());
    let client = sandbox
        .client_builder()
        .journal(Arc::clone(&journal))
        .build()
        .unwrap();
    // Three calls of two rows; two in flight at once.
    let mut stream = if batch {
        let rows = (0..6).map(|i| BatchRow::new(phone(i), text(&format!("Hi {i}"))));
        client.batch().call_size(2).concurrency(2).send(rows)
    } else {
        client
            .bulk(text("Hi"))
            .call_size(2)
            .concurrency(2)
            .send((0..6).map(phone))
    };
    let handle = stream.handle();
    assert!(
        !handle.is_settled(),
        "nothing has run yet, but the stream may still start"
    );
    tokio::select! {
        r = stream.next() => panic!("no call answers before its latency: {r:?}"),
        () = intents_stored(&journal, 4) => {}
    }
    drop(stream);
    handle.settled().await;
    assert!(handle.is_settled());

    // Both calls in flight ended: their four rows are queued, in the counters, the journal
    // and the sandbox; the third call never started.
    let progress = handle.progress();
    assert_eq!((progress.sent, progress.queued), (4, 4), "{progress:?}");
    assert_eq!(sandbox.requests().len(), 2);
    assert_eq!(sandbox.messages().len(), 4);
    let records = journal.records();
    let outcomes: Vec<&SendOutcome> = records
        .iter()
        .filter_map(|r| match r {
            JournalRecord::Outcome { outcome, .. } => Some(outcome),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes.len(), 4, "{records:?}");
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            SendOutcome::Queued {
                transaction_id: Some(_)
            }
        )),
        "{outcomes:?}"
    );
    for entry in journal.entries().await.unwrap() {
        assert!(!entry.state().may_have_been_sent(), "{entry:?}");
    }
}

#[tokio::test]
async fn a_dropped_bulk_stream_journals_the_calls_in_flight_and_starts_no_other() {
    assert_dropped_stream_finishes_its_calls(false).await;
}

#[tokio::test]
async fn a_dropped_batch_stream_journals_the_calls_in_flight_and_starts_no_other() {
    assert_dropped_stream_finishes_its_calls(true).await;
}

#[tokio::test]
async fn a_stream_dropped_before_it_is_polled_sends_nothing_and_is_settled() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox.client_builder().build().unwrap();
    let stream = client.bulk(text("Hi")).send((0..3).map(phone));
    let handle = stream.handle();
    drop(stream);
    handle.settled().await;
    assert_eq!(handle.progress().total, 0);
    assert!(sandbox.requests().is_empty());
}

#[test]
fn a_stream_polled_outside_a_tokio_runtime_fails_every_row_without_panicking() {
    // Built inside a runtime (the client needs one to exist), polled outside it.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (client, sandbox) = runtime.block_on(async {
        let sandbox = Sandbox::start().await.unwrap();
        (sandbox.client_builder().build().unwrap(), sandbox)
    });
    let stream = client
        .bulk(text("Hi"))
        .send(["+447400000001", "not a number"]);
    // No executor at all: the refusal needs none, so every poll is ready.
    let mut stream = std::pin::pin!(stream);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut results: Vec<BulkResult> = Vec::new();
    while let std::task::Poll::Ready(Some(r)) = stream.as_mut().poll_next(&mut cx) {
        results.push(r);
    }
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| r.result.is_err()));
    assert!(results.iter().any(|r| {
        r.result
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("tokio runtime")
    }));
    assert!(sandbox.requests().is_empty());
}
