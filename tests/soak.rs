//! Soak: 10,000 messages through the client and the sandbox with 20% of calls faulted (every
//! fault the sandbox knows, the ambiguous ones included), and a webhook handler that fails 10%
//! of the time behind the axum router, with Webex-style redelivery of anything not answered 200.
//!
//! What must hold: nothing is queued twice, every message ends in exactly one known state,
//! and every receipt of every destination reaches a handler that succeeded, exactly once.
//!
//! 9,000 messages go out as bulk requests of 10 destinations (one message, several
//! destinations sharing a transid), and 1,000 as personalised batches of 10 elements (a
//! transid each, `<base>`, `<base>_1`, ...), so the run stays well under a minute in a debug
//! build on a loaded machine; faults apply per call, as on the platform.
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
use webex_connect_whatsapp::receiver::Receiver;
use webex_connect_whatsapp::receiver::axum::{RouterConfig, router_with};
use webex_connect_whatsapp::sandbox::{Fault, RandomFaults, Sandbox, SandboxClock};
use webex_connect_whatsapp::webhook::{WebhookEvent, WebhookSecret};
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
    let app = router_with(
        Arc::clone(&receiver),
        RouterConfig::default(),
        move |event| {
            let sink = Arc::clone(&sink);
            async move {
                let WebhookEvent::DeliveryReceipt(r) = event else {
                    return Ok(());
                };
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
        .batch_size(PER_CALL)
        .concurrency(8)
        .send((0..BULK_MESSAGES).map(phone));
    let rows = (BULK_MESSAGES..MESSAGES).map(move |i| BatchRow::new(phone(i), template("Ada", i)));
    let batch = client
        .batch()
        .batch_size(PER_CALL)
        .concurrency(8)
        .send(rows);
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
         transid, {} rejected, {} outcome unknown ({} of those queued); 0 queued twice. \
         {} receipts for {} destinations handled once each after {failed_calls} failed handler \
         calls ({} events released, {redelivered} webhooks redelivered), {} duplicates \
         suppressed, 0 lost (sent in {sent_in:?}, settled in {settled_in:?})",
        MESSAGES / PER_CALL,
        requests.len(),
        counts.queued,
        counts.rejected,
        counts.outcome_unknown,
        queued_unknown,
        got.len(),
        destinations.len(),
        stats.released,
        stats.duplicates,
    );
}
