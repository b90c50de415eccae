//! The send journal in the client: one intent per message stored before its call reaches the
//! server, one outcome per message after the final answer, and no send when the journal
//! cannot store the intent.
#![cfg(feature = "client")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::sync::{Arc, Mutex};

use futures_util::StreamExt as _;
use serde_json::{Value, json};
use support::{
    builder, mock_answering, mock_answering_times, mock_first_then, phone, queued, rejected, text,
};
use webex_connect_whatsapp::client::{BatchRow, BulkResult, Client, Error, RetryPolicy};
use webex_connect_whatsapp::conversation::journal::{
    ContentDigest, InMemoryJournal, Journal, JournalEntry, JournalError, JournalFuture,
    JournalRecord, SendOutcome, SendState,
};
use webex_connect_whatsapp::{AppId, CorrelationId, SendRequest};
use wiremock::{Mock, MockServer, Request, ResponseTemplate, matchers::method};

fn id(s: &str) -> CorrelationId {
    CorrelationId::new(s).unwrap()
}

/// A client of `server` that journals in `journal`, without retries unless asked.
fn journaled(server: &MockServer, journal: &Arc<InMemoryJournal>) -> Client {
    builder(&server.uri())
        .retry_policy(RetryPolicy::none())
        .journal(Arc::clone(journal))
        .build()
        .unwrap()
}

/// The correlation ids a request body carries, one per destination (a batch's array too).
fn correlation_ids(body: &Value) -> Vec<String> {
    let elements = match body {
        Value::Array(elements) => elements.clone(),
        other => vec![other.clone()],
    };
    let mut ids = Vec::new();
    for element in elements {
        for d in element["destination"].as_array().unwrap() {
            let id = d["correlationid"]
                .as_str()
                .or_else(|| element["correlationid"].as_str())
                .unwrap();
            ids.push(id.to_owned());
        }
    }
    ids
}

/// A server that answers every call queued (one entry per message) and, as each request
/// arrives, notes any message whose intent is not in `journal` yet, or whose outcome already is.
async fn server_checking(journal: &Arc<InMemoryJournal>) -> (MockServer, Arc<Mutex<Vec<String>>>) {
    let problems = Arc::new(Mutex::new(Vec::new()));
    let (seen, journal) = (Arc::clone(&problems), Arc::clone(journal));
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(move |request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            let records = journal.records();
            let ids = correlation_ids(&body);
            for id in &ids {
                let intent = records.iter().any(|r| {
                    matches!(r, JournalRecord::Intent { .. }) && r.correlation_id().as_str() == id
                });
                let outcome = records.iter().any(|r| {
                    matches!(r, JournalRecord::Outcome { .. }) && r.correlation_id().as_str() == id
                });
                if !intent || outcome {
                    seen.lock()
                        .unwrap()
                        .push(format!("{id}: intent {intent}, outcome {outcome}"));
                }
            }
            let entries: Vec<Value> = (0..ids.len())
                .map(|i| json!({"code": "1001", "transid": format!("t-{i}"), "description": "Queued"}))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({ "response": entries }))
        })
        .mount(&server)
        .await;
    (server, problems)
}

/// Every message of `journal` has one intent, then one queued outcome, and is queued.
fn assert_all_queued(journal: &InMemoryJournal, messages: usize) {
    let records = journal.records();
    let intents = records
        .iter()
        .filter(|r| matches!(r, JournalRecord::Intent { .. }))
        .count();
    let queued = records
        .iter()
        .filter(|r| {
            matches!(
                r,
                JournalRecord::Outcome {
                    outcome: SendOutcome::Queued {
                        transaction_id: Some(_)
                    },
                    ..
                }
            )
        })
        .count();
    assert_eq!(
        (intents, queued, records.len()),
        (messages, messages, 2 * messages)
    );
    let entries = JournalEntry::fold(&records);
    assert_eq!(entries.len(), messages);
    assert!(entries.iter().all(|e| *e.state() == SendState::Queued));
}

#[tokio::test]
async fn every_kind_of_send_stores_intents_before_the_request_and_outcomes_after() {
    let journal = Arc::new(InMemoryJournal::new());
    let (server, problems) = server_checking(&journal).await;
    let client = journaled(&server, &journal);

    let receipt = client.send(&phone(1), text("Hi")).await.unwrap();
    client
        .message(phone(2), text("Hello"))
        .correlation_id(id("order-2"))
        .send()
        .await
        .unwrap();
    let request = SendRequest::builder(AppId::new(support::APP).unwrap(), text("Sale"))
        .destinations([3, 4].map(|n| {
            webex_connect_whatsapp::send::Destination::new(phone(n))
                .with_correlation_id(id(&format!("sale-{n}")))
        }))
        .build()
        .unwrap();
    let outcome = client.send_request(&request).await.unwrap();
    assert_eq!(outcome.receipts().count(), 2);
    let bulk: Vec<BulkResult> = client
        .bulk(text("News"))
        .call_size(3)
        .send((10..16).map(phone))
        .collect()
        .await;
    assert!(bulk.iter().all(|r| r.result.is_ok()));
    let batch: Vec<BulkResult> = client
        .batch()
        .send((20..23).map(|n| BatchRow::new(phone(n), text(&format!("Hi {n}")))))
        .collect()
        .await;
    assert!(batch.iter().all(|r| r.result.is_ok()));

    assert!(problems.lock().unwrap().is_empty(), "{problems:?}");
    assert_all_queued(&journal, 2 + 2 + 6 + 3);

    // The intent names the destination as sent and the digest of the message.
    let entry = journal
        .lookup(receipt.correlation_id.as_ref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.recipient(), Some(phone(1).waid()));
    assert_eq!(entry.digest(), Some(&ContentDigest::of(&text("Hi"))));
    assert_eq!(entry.transaction_id(), receipt.transaction_id.as_ref());
    let row = journal.lookup(&id("order-2")).await.unwrap().unwrap();
    assert_eq!(row.digest(), Some(&ContentDigest::of(&text("Hello"))));
}

#[tokio::test]
async fn outcomes_say_queued_unknown_or_not_queued_as_the_error_does() {
    let cases = [
        (ResponseTemplate::new(502), "unknown"),
        (
            ResponseTemplate::new(200).set_body_json(rejected("7006", "Internal error occurred")),
            "unknown",
        ),
        (
            ResponseTemplate::new(200).set_body_json(rejected("7004", "Invalid parameters")),
            "7004 final",
        ),
        (
            ResponseTemplate::new(429).set_body_json(rejected("7020", "limit")),
            "7020 retryable",
        ),
    ];
    for (response, want) in cases {
        let journal = Arc::new(InMemoryJournal::new());
        let server = mock_answering(response).await;
        let e = journaled(&server, &journal)
            .message(phone(1), text("Hi"))
            .correlation_id(id("c-1"))
            .send()
            .await
            .unwrap_err();
        let records = journal.records();
        assert_eq!(records.len(), 2, "{records:?}");
        let JournalRecord::Outcome { outcome, .. } = &records[1] else {
            panic!("{records:?}")
        };
        let got = match outcome {
            SendOutcome::Unknown { .. } => "unknown".to_owned(),
            SendOutcome::NotQueued {
                code, retryable, ..
            } => format!(
                "{} {}",
                code.as_deref().unwrap_or("-"),
                if *retryable { "retryable" } else { "final" }
            ),
            other => format!("{other:?}"),
        };
        assert_eq!(got, want, "{e}");
        assert_eq!(*outcome, SendOutcome::from(&e));
    }
}

#[tokio::test]
async fn a_call_resent_after_a_rate_limit_is_journaled_once() {
    let server = mock_first_then(
        ResponseTemplate::new(200).set_body_json(rejected("7020", "limit")),
        ResponseTemplate::new(200).set_body_json(queued("t-2")),
    )
    .await;
    let journal = Arc::new(InMemoryJournal::new());
    let client = builder(&server.uri())
        .journal(Arc::clone(&journal))
        .build()
        .unwrap();
    let receipt = client.send(&phone(1), text("Hi")).await.unwrap();
    assert_eq!(receipt.attempts, 2);
    assert_all_queued(&journal, 1);
}

/// A journal that refuses intents, outcomes, or both.
#[derive(Debug, Default)]
struct Failing {
    intents: bool,
    outcomes: bool,
    stored: InMemoryJournal,
}

impl Journal for Failing {
    fn append<'a>(&'a self, records: &'a [JournalRecord]) -> JournalFuture<'a, ()> {
        let intent = records
            .iter()
            .any(|r| matches!(r, JournalRecord::Intent { .. }));
        if (intent && self.intents) || (!intent && self.outcomes) {
            return Box::pin(std::future::ready(Err(JournalError::Backend {
                store: "test",
                source: "the disk is full".into(),
            })));
        }
        self.stored.append(records)
    }

    fn lookup<'a>(
        &'a self,
        correlation_id: &'a CorrelationId,
    ) -> JournalFuture<'a, Option<JournalEntry>> {
        self.stored.lookup(correlation_id)
    }

    fn entries(&self) -> JournalFuture<'_, Vec<JournalEntry>> {
        self.stored.entries()
    }
}

fn assert_journal_error(e: &Error) {
    assert!(matches!(e, Error::Journal { .. }), "{e:?}");
    assert!(!e.is_outcome_unknown());
    assert!(!e.is_retryable());
    assert!(e.correlation_id().is_some(), "{e:?}");
    assert!(e.to_string().contains("nothing was sent"), "{e}");
    let source = std::error::Error::source(e).unwrap().to_string();
    assert!(source.contains("test journal failed"), "{source}");
}

#[tokio::test]
async fn a_journal_that_cannot_store_the_intent_prevents_every_send() {
    let server =
        mock_answering_times(ResponseTemplate::new(200).set_body_json(queued("t")), 0).await;
    let client = builder(&server.uri())
        .journal(Failing {
            intents: true,
            ..Failing::default()
        })
        .build()
        .unwrap();
    assert_journal_error(&client.send(&phone(1), text("Hi")).await.unwrap_err());
    let bulk: Vec<BulkResult> = client
        .bulk(text("Hi"))
        .call_size(2)
        .send((0..5).map(phone))
        .collect()
        .await;
    let batch: Vec<BulkResult> = client
        .batch()
        .send((0..3).map(|n| BatchRow::new(phone(n), text("Hi"))))
        .collect()
        .await;
    assert_eq!(bulk.len() + batch.len(), 8);
    for r in bulk.iter().chain(&batch) {
        assert_journal_error(r.result.as_ref().unwrap_err());
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_journal_that_cannot_store_the_outcome_still_returns_the_results() {
    let server = mock_answering(ResponseTemplate::new(200).set_body_json(queued("t-1"))).await;
    let journal = Arc::new(Failing {
        outcomes: true,
        ..Failing::default()
    });
    let client = builder(&server.uri())
        .journal(Arc::clone(&journal))
        .build()
        .unwrap();
    let receipt = client.send(&phone(1), text("Hi")).await.unwrap();
    // The journal shows the message in flight: the safe direction, never resent blindly.
    let entry = journal
        .lookup(receipt.correlation_id.as_ref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.state(), &SendState::InFlight);
}

#[tokio::test]
async fn with_a_journal_destinations_may_not_share_the_request_level_id() {
    let server =
        mock_answering_times(ResponseTemplate::new(200).set_body_json(queued("t")), 0).await;
    let journal = Arc::new(InMemoryJournal::new());
    let request = SendRequest::builder(AppId::new(support::APP).unwrap(), text("Hi"))
        .to(phone(1))
        .to(phone(2))
        .correlation_id(id("batch-1"))
        .build()
        .unwrap();
    let e = journaled(&server, &journal)
        .send_request(&request)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::DuplicateCorrelationId { correlation_id, first: 0, second: 1 } if correlation_id.as_str() == "batch-1"),
        "{e:?}"
    );
    assert!(journal.records().is_empty());
}

#[tokio::test]
async fn the_client_shows_whether_it_has_a_journal_and_lends_it() {
    let with = builder("http://127.0.0.1:9")
        .journal(InMemoryJournal::new())
        .build()
        .unwrap();
    let without = builder("http://127.0.0.1:9").build().unwrap();
    assert!(
        format!("{with:?}").contains(r#"journal: "present""#),
        "{with:?}"
    );
    assert!(format!("{without:?}").contains(r#"journal: "absent""#));
    assert!(with.journal().is_some() && without.journal().is_none());
    let entries = with.journal().unwrap().entries().await.unwrap();
    assert!(entries.is_empty());
}
