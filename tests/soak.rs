//! Soak: 10,000 messages through the client, the sandbox with 20% of requests faulted, and
//! the receiver. Every message must end in exactly one known state, nothing may be queued
//! twice, and every receipt must be handed over exactly once.
//!
//! The messages go out as bulk requests of 10 destinations (one message per destination),
//! 1,000 requests in all, so the run stays well under a minute in a debug build on a loaded
//! machine; faults apply per request, as on the platform.
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
use webex_connect_whatsapp::client::{Client, RetryPolicy};
use webex_connect_whatsapp::receiver::{DeliveryState, Receiver, axum::router};
use webex_connect_whatsapp::sandbox::{Fault, RandomFaults, Sandbox, SandboxClock};
use webex_connect_whatsapp::webhook::{WebhookEvent, WebhookSecret};
use webex_connect_whatsapp::{PhoneNumber, TemplateMessage};

const MESSAGES: usize = 10_000;
const BATCH: usize = 10;
const SECRET: &str = "soak-hub-secret";
const TEMPLATE: &str = "5139722425";

#[derive(Debug, Default)]
struct Counts {
    queued: usize,
    rejected: usize,
    outcome_unknown: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario, read top to bottom: set up, send, check the logs"
)]
async fn ten_thousand_sends_with_twenty_percent_faults() {
    // The receiver: counts every event its handler gets, per (transid, code).
    let receiver = Arc::new(
        Receiver::builder()
            .secret(WebhookSecret::new(SECRET).unwrap())
            .build(),
    );
    let handled: Arc<Mutex<HashMap<(String, String), u32>>> = Arc::default();
    let sink = Arc::clone(&handled);
    let app = router(Arc::clone(&receiver), move |event| {
        let sink = Arc::clone(&sink);
        async move {
            if let WebhookEvent::DeliveryReceipt(r) = event {
                let key = (
                    r.transaction_id().unwrap().to_string(),
                    r.code().as_str().to_owned(),
                );
                *sink.lock().unwrap().entry(key).or_default() += 1;
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url: url::Url = format!("http://{}/receipts", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The sandbox: a fifth of the requests get one of the faults, from a fixed seed.
    let faults = RandomFaults::new(
        0x5eed,
        0.2,
        [
            Fault::RateLimited,
            Fault::InternalError,
            Fault::HttpStatus(500),
            Fault::HttpStatus(503),
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
        .template(TEMPLATE, ["name", "order"])
        .random_faults(faults)
        .start()
        .await
        .unwrap();

    let client = Client::builder()
        .service_key(sandbox.service_key())
        .app_id(sandbox.app_id())
        .base_url(sandbox.base_url())
        .request_timeout(Duration::from_secs(20))
        .retry_policy(
            // Two attempts: safe failures are retried once, and the few requests faulted
            // twice in a row end as typed rejections.
            RetryPolicy::default()
                .max_attempts(2)
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let template: TemplateMessage = serde_json::from_value(json!({
        "template": TEMPLATE,
        "parameters": { "name": "Ana", "order": "#1042" }
    }))
    .unwrap();
    let recipients: Vec<PhoneNumber> = (0..MESSAGES)
        .map(|i| PhoneNumber::parse(&format!("+4474{i:08}")).unwrap())
        .collect();

    // Send, and sort every message into exactly one outcome.
    let started = std::time::Instant::now();
    let mut counts = Counts::default();
    let mut indexes = HashSet::new();
    let mut queued_transids = HashSet::new();
    let mut unknown_correlation = HashSet::new();
    let mut results = client
        .bulk(template)
        .batch_size(BATCH)
        .concurrency(8)
        .send(recipients);
    while let Some(r) = results.next().await {
        assert!(
            indexes.insert(r.index),
            "message {} reported twice",
            r.index
        );
        match r.result {
            Ok(receipt) => {
                let transid = receipt.transid.expect("queued without a transid");
                assert!(queued_transids.insert(transid.to_string()));
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
    }
    assert_eq!(indexes.len(), MESSAGES);
    assert_eq!(
        counts.queued + counts.rejected + counts.outcome_unknown,
        MESSAGES
    );

    let sent_in = started.elapsed();
    sandbox.settled().await;
    let settled_in = started.elapsed();

    // The sandbox's own log: nothing queued twice; everything it queued is either known to
    // the client as queued (same transid) or one of the outcome-unknown messages.
    assert!(sandbox.duplicate_correlation_ids().is_empty());
    let messages = sandbox.messages();
    let mut queued_unknown = 0;
    let mut expected: BTreeSet<(String, String)> = BTreeSet::new();
    for m in &messages {
        let transid = m.transid.to_string();
        if !queued_transids.contains(&transid) {
            let id = m.correlation_id.as_deref().unwrap();
            assert!(
                unknown_correlation.contains(id),
                "queued behind the client's back: {id}"
            );
            queued_unknown += 1;
        }
        for code in &m.receipts {
            expected.insert((transid.clone(), code.clone()));
        }
    }
    assert_eq!(messages.len(), counts.queued + queued_unknown);

    // The receiver: each receipt handed over once, duplicates counted, states final.
    let mut handled_now = 0;
    for _ in 0..1000 {
        handled_now = handled.lock().unwrap().len();
        if handled_now >= expected.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let handled = handled.lock().unwrap().clone();
    assert_eq!(handled_now, expected.len());
    assert!(
        handled.values().all(|n| *n == 1),
        "a receipt was handled twice"
    );
    let got: BTreeSet<_> = handled.keys().cloned().collect();
    assert_eq!(got, expected);
    for m in &messages {
        assert_eq!(
            receiver.tracker().overall(&m.transid),
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
    let requests = sandbox.requests();

    println!(
        "soak: {MESSAGES} messages in {} requests ({} recorded by the sandbox): \
         {} queued with a transid, {} rejected, {} outcome unknown ({} of those queued); \
         {} receipts handed over once each, {} duplicates suppressed \
         (sent in {sent_in:?}, settled in {settled_in:?})",
        MESSAGES / BATCH,
        requests.len(),
        counts.queued,
        counts.rejected,
        counts.outcome_unknown,
        queued_unknown,
        handled.len(),
        stats.duplicates,
    );
}
