//! Soak: 10,000 messages through the client and the sandbox with 20% of calls faulted (every
//! fault the sandbox knows, the ambiguous ones included), and a webhook handler that fails 10%
//! of the time behind the axum router, with Webex-style redelivery of anything not answered 200.
//!
//! What must hold: nothing is queued twice, every message ends in exactly one known state,
//! and every receipt of every destination reaches a handler that succeeded, exactly once.
//! Every send is journaled, and the handler feeds each receipt to the journal: the
//! outcome-unknown sends the platform queued are resolved by their receipts, and the rest are
//! marked "not seen".
//!
//! 9,000 messages go out as bulk requests of 10 destinations (one message, several
//! destinations sharing a transid), and 1,000 as personalised batches of 10 elements (a
//! transid each, `<base>`, `<base>_1`, ...), so the run stays well under a minute in a debug
//! build on a loaded machine; faults apply per call, as on the platform.
//!
//! A second test reads the results slowly (a database write per result, and stalls longer
//! than the request timeout) while calls are in flight: no answer may turn into a timeout
//! because of the reader. The kill of a client and a receiver mid-run and a Redis restart are
//! in `tests/soak_crash.rs`. Run both files with `--nocapture` to see their reports.
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::json;
use webex_connect_whatsapp::client::{BatchRow, BulkResult, RetryPolicy};
use webex_connect_whatsapp::conversation::delivery::DeliveryState;
use webex_connect_whatsapp::conversation::journal::reconcile::{
    mark_not_seen, reconcile_receipt, unresolved,
};
use webex_connect_whatsapp::conversation::journal::{InMemoryJournal, Journal as _, SendState};
use webex_connect_whatsapp::receiver::Receiver;
use webex_connect_whatsapp::receiver::axum::{RouterConfig, router_with};
use webex_connect_whatsapp::sandbox::{Fault, RandomFaults, Sandbox, SandboxClock};
use webex_connect_whatsapp::webhook::WebhookEvent;
use webex_connect_whatsapp::webhook::signature::WebhookSecret;
use webex_connect_whatsapp::{PhoneNumber, TemplateMessage};

const BULK_MESSAGES: usize = 9_000;
const BATCH_MESSAGES: usize = 1_000;
const MESSAGES: usize = BULK_MESSAGES + BATCH_MESSAGES;
const PER_CALL: usize = 10;
const SECRET: &str = "soak-hub-secret";
const TEMPLATE: &str = "5139722425";

/// A receipt's identity: transid, destination and code.
type ReceiptKey = (String, String, String);

#[derive(Debug, Default)]
struct Counts {
    queued: usize,
    rejected: usize,
    outcome_unknown: usize,
}

/// The handler's side: how often each receipt was handled successfully, and how often it
/// failed on purpose.
#[derive(Default)]
struct Handled {
    ok: HashMap<ReceiptKey, u32>,
    failed: HashMap<ReceiptKey, u32>,
    calls: u64,
    rng: u64,
}

impl Handled {
    /// Fails 10% of calls (a fixed-seed generator), but never the same receipt more than
    /// twice: the platform posts an event four times at most, and the point is to prove
    /// that a failure lets the retry through, not to exhaust the retries.
    fn should_fail(&mut self, key: &ReceiptKey) -> bool {
        self.calls += 1;
        // xorshift64*: deterministic, no extra dependency.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let roll = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) % 10;
        roll == 0 && self.failed.get(key).copied().unwrap_or(0) < 2
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario, read top to bottom: set up, send, check the logs"
)]
async fn ten_thousand_sends_with_twenty_percent_faults() {
    // The receiver, behind the router: 200 only after the handler succeeded.
    let receiver = Arc::new(
        Receiver::builder()
            .secret(WebhookSecret::new(SECRET).unwrap())
            .build()
            .unwrap(),
    );
    let handled = Arc::new(Mutex::new(Handled {
        rng: 0x5eed_cafe,
        ..Handled::default()
    }));
    let sink = Arc::clone(&handled);
    // Every send is journaled; the handler feeds each receipt to it, which resolves the
    // outcome-unknown sends the platform did queue (receipts echo the correlation id).
    let journal = Arc::new(InMemoryJournal::new());
    let reconciling = Arc::clone(&journal);
    let app = router_with(
        Arc::clone(&receiver),
        RouterConfig::default(),
        move |event| {
            let sink = Arc::clone(&sink);
            let journal = Arc::clone(&reconciling);
            async move {
                let WebhookEvent::DeliveryReceipt(r) = event else {
                    return Ok(());
                };
                reconcile_receipt(&*journal, &r, time::OffsetDateTime::now_utc())
                    .await
                    .map_err(|_| "the journal failed")?;
                let key = (
                    r.transaction_id().unwrap().to_string(),
                    r.destination().unwrap_or_default().to_owned(),
                    r.code().as_str().to_owned(),
                );
                let mut handled = sink.lock().unwrap();
                if handled.should_fail(&key) {
                    *handled.failed.entry(key).or_default() += 1;
                    return Err("the handler's database is briefly unavailable");
                }
                *handled.ok.entry(key).or_default() += 1;
                Ok(())
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url: url::Url = format!("http://{}/receipts", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The sandbox: a fifth of the calls get one of the faults, from a fixed seed.
    let faults = RandomFaults::new(
        0x5eed,
        0.2,
        [
            Fault::RateLimited,
            Fault::InternalError,
            Fault::InternalErrorOk,
            Fault::HttpStatus(500),
            Fault::HttpStatus(502),
            Fault::HttpStatus(503),
            Fault::HttpStatus(504),
            Fault::StatusAfterQueue(502),
            Fault::StatusAfterQueue(504),
            Fault::Redirect,
            Fault::DropBeforeBody,
            Fault::DropAfterQueue,
            Fault::Latency(Duration::from_millis(30)),
            Fault::DuplicateReceipts,
            Fault::ReceiptsOutOfOrder,
        ],
    )
    .unwrap();
    let sandbox = Sandbox::builder()
        .clock(SandboxClock::manual())
        .seed(7)
        .webhook_secret(SECRET)
        .delivery_url(url)
        .receipt_delays(Duration::ZERO, Duration::ZERO, Duration::ZERO)
        .webhook_retry_delay(Duration::ZERO)
        .template(TEMPLATE, ["name", "order"])
        .random_faults(faults)
        .start()
        .await
        .unwrap();

    let client = sandbox
        .client_builder()
        .journal(Arc::clone(&journal))
        .request_timeout(Duration::from_secs(20))
        .retry_policy(
            // Resent only on proof of "not processed" (the default rules); two attempts, so
            // the few calls rate-limited twice in a row end as typed rejections.
            RetryPolicy::default()
                .max_attempts(2)
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let template = |name: &str, order: usize| -> TemplateMessage {
        serde_json::from_value(json!({
            "template": TEMPLATE,
            "parameters": { "name": name, "order": format!("#{order}") }
        }))
        .unwrap()
    };
    let phone = |i: usize| PhoneNumber::parse(&format!("+4474{i:08}")).unwrap();

    // Send, and sort every message into exactly one outcome.
    let started = std::time::Instant::now();
    let bulk = client
        .bulk(template("Ana", 1042))
        .call_size(PER_CALL)
        .concurrency(8)
        .send((0..BULK_MESSAGES).map(phone));
    let rows = (BULK_MESSAGES..MESSAGES).map(move |i| BatchRow::new(phone(i), template("Ada", i)));
    let batch = client.batch().call_size(PER_CALL).concurrency(8).send(rows);
    let mut counts = Counts::default();
    let mut seen = HashSet::new();
    let mut queued_keys = HashSet::new();
    let mut unknown_correlation = HashSet::new();
    let mut record = |kind: &str, r: BulkResult| {
        assert!(
            seen.insert((kind.to_owned(), r.index)),
            "{kind} row {} reported twice",
            r.index
        );
        match r.result {
            Ok(receipt) => {
                let transid = receipt.transaction_id.expect("queued without a transid");
                assert!(
                    queued_keys.insert((transid.to_string(), receipt.destination.clone())),
                    "one destination queued twice under one transid"
                );
                counts.queued += 1;
            }
            Err(e) if e.is_outcome_unknown() => {
                unknown_correlation.insert(e.correlation_id().unwrap().to_string());
                counts.outcome_unknown += 1;
            }
            Err(e) => {
                assert!(e.code().is_some() || e.status().is_some(), "untyped: {e}");
                counts.rejected += 1;
            }
        }
    };
    let mut bulk = bulk;
    let mut batch = batch;
    loop {
        tokio::select! {
            Some(r) = bulk.next() => record("bulk", r),
            Some(r) = batch.next() => record("batch", r),
            else => break,
        }
    }
    assert_eq!(seen.len(), MESSAGES);
    assert_eq!(
        counts.queued + counts.rejected + counts.outcome_unknown,
        MESSAGES
    );
    let sent_in = started.elapsed();
    sandbox.settled().await;
    let settled_in = started.elapsed();

    // The sandbox's own log: nothing queued twice; everything it queued is either known to
    // the client as queued (same transid and destination) or one of the outcome-unknown
    // messages.
    let queued_twice = sandbox.queued_twice();
    assert!(queued_twice.is_empty(), "queued twice: {queued_twice:?}");
    let messages = sandbox.messages();
    let mut queued_unknown = 0;
    let mut expected: BTreeSet<ReceiptKey> = BTreeSet::new();
    for m in &messages {
        let transid = m.transaction_id.to_string();
        if !queued_keys.contains(&(transid.clone(), m.destination.clone())) {
            let id = m.correlation_id.as_deref().unwrap();
            assert!(
                unknown_correlation.contains(id),
                "queued behind the client's back: {id}"
            );
            queued_unknown += 1;
        }
        for code in &m.receipts {
            expected.insert((transid.clone(), m.destination.clone(), code.clone()));
        }
    }
    assert_eq!(messages.len(), counts.queued + queued_unknown);

    // Reconciliation: the receipts resolved every unknown send the platform queued; what
    // is left had no receipt, and is marked "not seen" once its deadline passes (here: now).
    let unresolved_after_receipts = unresolved(&*journal).await.unwrap();
    assert_eq!(
        unresolved_after_receipts.len(),
        counts.outcome_unknown - queued_unknown,
        "every queued unknown send is resolved by its receipts, and nothing else"
    );
    let not_seen = mark_not_seen(&*journal, Duration::ZERO, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(not_seen.len(), unresolved_after_receipts.len());
    let journal_queued = journal
        .entries()
        .await
        .unwrap()
        .iter()
        .filter(|e| *e.state() == SendState::Queued)
        .count();
    assert_eq!(
        journal_queued,
        messages.len(),
        "the journal agrees with the sandbox"
    );

    // Every webhook the sandbox posted was accepted in the end: no event lost.
    let webhooks = sandbox.webhooks();
    let lost: Vec<_> = webhooks.iter().filter(|w| !w.delivered).collect();
    assert!(
        lost.is_empty(),
        "{} webhooks were never accepted",
        lost.len()
    );
    let redelivered = webhooks.iter().filter(|w| w.attempts > 1).count();

    // The handler: every receipt of every destination handled successfully, exactly once.
    let handled = handled.lock().unwrap();
    let got: BTreeSet<ReceiptKey> = handled.ok.keys().cloned().collect();
    let missing: Vec<_> = expected.difference(&got).collect();
    assert!(
        missing.is_empty(),
        "{} receipts never reached a handler that succeeded",
        missing.len()
    );
    assert_eq!(got, expected);
    assert!(
        handled.ok.values().all(|n| *n == 1),
        "a receipt was handled successfully twice"
    );
    let failed_calls: u32 = handled.failed.values().sum();
    assert!(failed_calls > 0, "the failing handler never failed");
    for m in &messages {
        assert_eq!(
            receiver.tracker().get(&m.transaction_id, &m.destination),
            Some(DeliveryState::Read),
            "out-of-order receipts must still end Read"
        );
    }
    let stats = receiver.stats();
    assert_eq!(stats.bad_signature, 0);
    assert!(
        stats.duplicates > 0,
        "the duplicate-receipt fault never fired"
    );
    assert!(stats.released > 0, "no failed event was released");
    let requests = sandbox.requests();
    let destinations: BTreeSet<&str> = messages.iter().map(|m| m.destination.as_str()).collect();

    println!(
        "soak: {MESSAGES} messages in {} calls ({} recorded by the sandbox): {} queued with a \
         transid, {} rejected, {} outcome unknown ({} of those queued); after reconciliation \
         with the receipts {} unknown (marked not seen), {} queued in the journal; 0 queued twice. \
         {} receipts for {} destinations handled once each after {failed_calls} failed handler \
         calls ({} events released, {redelivered} webhooks redelivered), {} duplicates \
         suppressed, 0 lost (sent in {sent_in:?}, settled in {settled_in:?})",
        MESSAGES / PER_CALL,
        requests.len(),
        counts.queued,
        counts.rejected,
        counts.outcome_unknown,
        queued_unknown,
        not_seen.len(),
        journal_queued,
        got.len(),
        destinations.len(),
        stats.released,
        stats.duplicates,
    );
}

/// How long the slow reader's client waits for an answer: short, so that an answer left
/// unread while the reader writes would turn into a timeout.
const SHORT_TIMEOUT: Duration = Duration::from_secs(1);

/// What a send became, as the client reported it or as the sandbox's log says it must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Queued,
    NotQueued,
    Unknown,
}

/// The correlation ids a send request carries, one per destination (each element of a
/// personalised batch too).
fn correlation_ids(body: &serde_json::Value) -> Vec<String> {
    let elements = match body {
        serde_json::Value::Array(elements) => elements.clone(),
        other => vec![other.clone()],
    };
    let mut ids = Vec::new();
    for element in elements {
        for d in element["destination"].as_array().into_iter().flatten() {
            if let Some(id) = d["correlationid"]
                .as_str()
                .or_else(|| element["correlationid"].as_str())
            {
                ids.push(id.to_owned());
            }
        }
    }
    ids
}

/// What the client must report for a message whose last request met `faults`: a rate limit
/// is a certain "not queued" (the last attempt's, once the retries are spent); a 5xx, a 7006,
/// or an answer lost after queueing is unknown; anything else was answered queued.
fn expected_outcome(faults: &[Fault]) -> Outcome {
    if faults.contains(&Fault::RateLimited) {
        Outcome::NotQueued
    } else if faults.iter().any(|f| {
        matches!(
            f,
            Fault::InternalError
                | Fault::HttpStatus(_)
                | Fault::StatusAfterQueue(_)
                | Fault::DropAfterQueue
        )
    }) {
        Outcome::Unknown
    } else {
        Outcome::Queued
    }
}

/// A reader that writes every result to a database (a sleep each, and now and then a write
/// that waits on a lock for twice the request timeout) while bulk and batch calls are in
/// flight with a short request timeout. The calls run on their own tasks, so every answer the
/// sandbox gave reaches the client as given: no result turns into a timeout because the
/// reader was busy, and each message's outcome is exactly what the sandbox's log of its last
/// request implies. Nothing is queued twice.
///
/// Most calls take 300 ms to answer, so calls are in flight whenever the reader stalls; were
/// they run by the reader's polls, their answers would wait unread past the timeout. 300
/// messages (150 bulk, 150 in personalised batches, 10 per call, 4 calls in flight each) and
/// two stalls keep it to a few seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario, read top to bottom: set up, send and read slowly, compare"
)]
async fn no_answer_turns_into_a_timeout_while_the_reader_sleeps_per_result() {
    const EACH: usize = 150;
    /// One database write per result.
    const WRITE: Duration = Duration::from_millis(3);
    /// A write that waits on a lock: twice the request timeout.
    const STALL: Duration = Duration::from_secs(2);
    /// How long the sandbox takes to answer most calls.
    const LATENCY: Duration = Duration::from_millis(300);

    // Every call is slow (the platform under load, well within the timeout), so calls are
    // always in flight when the reader stalls; about a fifth get a fault instead.
    let slow = std::iter::repeat_n(Fault::Latency(LATENCY), 16);
    let faults = RandomFaults::new(
        0x51ee_d0e5,
        1.0,
        slow.chain([
            Fault::RateLimited,
            Fault::InternalError,
            Fault::HttpStatus(502),
            Fault::StatusAfterQueue(504),
            Fault::DropAfterQueue,
        ]),
    )
    .unwrap();
    let sandbox = Sandbox::builder()
        .clock(SandboxClock::manual())
        .seed(11)
        .receipt_delays(Duration::ZERO, Duration::ZERO, Duration::ZERO)
        .template(TEMPLATE, ["name", "order"])
        .random_faults(faults)
        .start()
        .await
        .unwrap();
    let client = sandbox
        .client_builder()
        .request_timeout(SHORT_TIMEOUT)
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(2)
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let template = |name: &str, order: usize| -> TemplateMessage {
        serde_json::from_value(json!({
            "template": TEMPLATE,
            "parameters": { "name": name, "order": format!("#{order}") }
        }))
        .unwrap()
    };
    let phone = |i: usize| PhoneNumber::parse(&format!("+4475{i:08}")).unwrap();

    let mut bulk = client
        .bulk(template("Ana", 7))
        .call_size(PER_CALL)
        .concurrency(4)
        .send((0..EACH).map(phone));
    let rows = (EACH..2 * EACH).map(move |i| BatchRow::new(phone(i), template("Ada", i)));
    let mut batch = client.batch().call_size(PER_CALL).concurrency(4).send(rows);

    // The reader: one write per result, and a long one after the 50th and the 200th.
    let handles = [bulk.handle(), batch.handle()];
    let sent = || -> u64 { handles.iter().map(|h| h.progress().sent).sum() };
    let mut reported: HashMap<String, Outcome> = HashMap::new();
    let mut timeouts = 0;
    let mut stalls = 0;
    let mut answered_during_stalls = 0;
    loop {
        let r = tokio::select! {
            Some(r) = bulk.next() => r,
            Some(r) = batch.next() => r,
            else => break,
        };
        let (id, outcome) = match &r.result {
            Ok(receipt) => (receipt.correlation_id.clone(), Outcome::Queued),
            Err(e) if e.is_outcome_unknown() => {
                if e.is_timeout() {
                    timeouts += 1;
                }
                (e.correlation_id().cloned(), Outcome::Unknown)
            }
            Err(e) => (e.correlation_id().cloned(), Outcome::NotQueued),
        };
        let id = id.expect("every bulk and batch result names its correlation id");
        assert!(
            reported.insert(id.to_string(), outcome).is_none(),
            "{id} reported twice"
        );
        tokio::time::sleep(WRITE).await;
        if matches!(reported.len(), 50 | 200) {
            stalls += 1;
            let before = sent();
            tokio::time::sleep(STALL).await;
            answered_during_stalls += sent() - before;
        }
    }
    assert_eq!(reported.len(), 2 * EACH);
    assert_eq!(stalls, 2);
    // The calls went on while the reader stalled: that is what the stalls are for.
    assert!(
        answered_during_stalls > 0,
        "no call was answered while the reader stalled"
    );

    // The sandbox's log: each message's last request decides what the client must have seen.
    let mut expected: HashMap<String, Outcome> = HashMap::new();
    for request in sandbox.requests() {
        let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
        for id in correlation_ids(&body) {
            expected.insert(id, expected_outcome(&request.faults));
        }
    }
    assert_eq!(
        timeouts, 0,
        "{timeouts} answers turned into timeouts while the reader was busy"
    );
    let differing: Vec<_> = reported
        .iter()
        .filter(|(id, outcome)| expected.get(*id) != Some(outcome))
        .map(|(id, outcome)| (id.clone(), *outcome, expected.get(id).copied()))
        .collect();
    assert!(
        differing.is_empty(),
        "{} results differ from the sandbox's log (id, reported, expected): {:?}",
        differing.len(),
        differing.iter().take(10).collect::<Vec<_>>()
    );
    let queued_twice = sandbox.queued_twice();
    assert!(queued_twice.is_empty(), "queued twice: {queued_twice:?}");
    let count = |o: Outcome| reported.values().filter(|r| **r == o).count();
    assert!(count(Outcome::Unknown) > 0, "no ambiguous fault fired");
    println!(
        "soak (slow reader): {} messages read with a {WRITE:?} write each and {stalls} stalls of \
         {STALL:?} (request timeout {SHORT_TIMEOUT:?}; {answered_during_stalls} messages \
         answered while the reader stalled): {} queued, {} not queued, {} outcome unknown, \
         each as the sandbox's log says; 0 timeouts, 0 queued twice",
        reported.len(),
        count(Outcome::Queued),
        count(Outcome::NotQueued),
        count(Outcome::Unknown),
    );
}
