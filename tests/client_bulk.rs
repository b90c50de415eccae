//! Bulk sends: calls of up to 1000 destinations, per-recipient results, invalid numbers, progress.
#![cfg(feature = "client")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::HashSet;

use futures_util::StreamExt as _;
use serde_json::{Value, json};
use support::{
    builder, client, mock_answering, mock_answering_times, phone, queued, rejected, text,
};
use webex_connect_whatsapp::client::{BulkResult, Error, RetryPolicy};
use webex_connect_whatsapp::{TemplateId, TemplateMessage};
use wiremock::ResponseTemplate;

fn numbers(n: u32) -> impl Iterator<Item = String> + Send + 'static {
    (0..n).map(|i| phone(i).e164().to_owned())
}

async fn collect(stream: webex_connect_whatsapp::client::BulkStream) -> Vec<BulkResult> {
    stream.collect().await
}

#[tokio::test]
async fn ten_thousand_recipients_make_ten_requests_of_a_thousand() {
    let server = mock_answering_times(
        ResponseTemplate::new(200).set_body_json(queued("batch-t")),
        10,
    )
    .await;
    let c = client(&server.uri());
    let message = TemplateMessage::builder(TemplateId::new("5139722425").unwrap())
        .text("name", "Jane")
        .build()
        .unwrap();
    let wire = json!({"template": "5139722425", "parameters": {"name": "Jane"}});
    let mut stream = c.bulk(message).send(numbers(10_000));
    let mut results = Vec::new();
    while let Some(r) = stream.next().await {
        results.push(r);
    }
    let progress = stream.progress();
    assert_eq!(results.len(), 10_000);
    assert!(results.iter().all(|r| r.result.is_ok()));
    let indexes: HashSet<u64> = results.iter().map(|r| r.index).collect();
    assert_eq!(indexes.len(), 10_000);
    assert_eq!(
        (
            progress.total,
            progress.sent,
            progress.queued,
            progress.failed
        ),
        (10_000, 10_000, 10_000, 0)
    );

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 10);
    let mut waids = HashSet::new();
    let mut correlation_ids = HashSet::new();
    for request in &requests {
        let body: Value = request.body_json().unwrap();
        assert_eq!(body["message"], wire);
        let destinations = body["destination"].as_array().unwrap();
        assert_eq!(destinations.len(), 1000);
        for d in destinations {
            waids.insert(d["waid"][0].as_str().unwrap().to_owned());
            correlation_ids.insert(d["correlationid"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(waids.len(), 10_000);
    assert_eq!(correlation_ids.len(), 10_000);
    // Every result carries the transid of its request and its own correlation id.
    let r = &results[0];
    let receipt = r.result.as_ref().unwrap();
    assert_eq!(receipt.transaction_id.as_ref().unwrap().as_str(), "batch-t");
    assert!(correlation_ids.contains(receipt.correlation_id.as_ref().unwrap().as_str()));
    assert_eq!(format!("+{}", receipt.destination), r.recipient);
}

#[tokio::test]
async fn one_invalid_number_is_reported_and_the_rest_are_sent() {
    let server = mock_answering(ResponseTemplate::new(200).set_body_json(queued("t"))).await;
    let c = client(&server.uri());
    let inputs = numbers(10_000).enumerate().map(|(i, n)| {
        if i == 4321 {
            "12-not-a-phone".to_owned()
        } else {
            n
        }
    });
    let results = collect(c.bulk(text("Hi")).send(inputs)).await;
    assert_eq!(results.len(), 10_000);
    let failed: Vec<&BulkResult> = results.iter().filter(|r| r.result.is_err()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].index, 4321);
    let e = failed[0].result.as_ref().unwrap_err();
    assert!(matches!(e, Error::InvalidRecipient { .. }), "{e:?}");
    assert!(!e.is_outcome_unknown());
    let sent: usize = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.body_json::<Value>().unwrap()["destination"]
                .as_array()
                .unwrap()
                .len()
        })
        .sum();
    assert_eq!(sent, 9_999);
    // Calls are filled with valid numbers: still ten requests.
    assert_eq!(server.received_requests().await.unwrap().len(), 10);
}

#[tokio::test]
async fn the_rate_limit_caps_the_call_size() {
    let server = mock_answering(ResponseTemplate::new(200).set_body_json(queued("t"))).await;
    let c = builder(&server.uri()).rate_limit(400).build().unwrap();
    let bulk = c.bulk(text("Hi"));
    assert_eq!(bulk.effective_call_size(), 400);
    let results = collect(bulk.send(numbers(800))).await;
    assert_eq!(results.len(), 800);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    for r in requests {
        assert_eq!(
            r.body_json::<Value>().unwrap()["destination"]
                .as_array()
                .unwrap()
                .len(),
            400
        );
    }
}

#[tokio::test]
async fn per_destination_entries_are_mapped() {
    let server = mock_answering(
        ResponseTemplate::new(200).set_body_json(json!({"response": [
            {"code": "1001", "transid": "t-a", "description": "Queued"},
            {"code": "7004", "transid": "t-b", "description": "Invalid parameters"},
            {"code": "1001", "transid": "t-c", "description": "Queued"}
        ]})),
    )
    .await;
    let c = client(&server.uri());
    let mut results = collect(c.bulk(text("Hi")).send(numbers(3))).await;
    results.sort_by_key(|r| r.index);
    let transid = |i: usize| {
        let receipt = results[i].result.as_ref().unwrap();
        receipt.transaction_id.as_ref().unwrap().as_str()
    };
    assert_eq!(transid(0), "t-a");
    let e = results[1].result.as_ref().unwrap_err();
    assert_eq!(e.code().unwrap().as_str(), "7004");
    assert!(e.correlation_id().is_some());
    assert_eq!(transid(2), "t-c");
}

#[tokio::test]
async fn a_rejected_call_fails_each_of_its_recipients() {
    let server = mock_answering(
        ResponseTemplate::new(200).set_body_json(rejected("7108", "Invalid template ID")),
    )
    .await;
    let c = builder(&server.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let mut stream = c.bulk(text("Hi")).call_size(10).send(numbers(25));
    let mut n = 0;
    let mut ids = HashSet::new();
    while let Some(r) = stream.next().await {
        let e = r.result.unwrap_err();
        assert_eq!(e.code().unwrap().as_str(), "7108");
        ids.insert(e.correlation_id().unwrap().clone());
        n += 1;
    }
    assert_eq!(n, 25);
    assert_eq!(ids.len(), 25);
    assert_eq!(stream.progress().failed, 25);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn an_all_garbage_input_streams_without_requests() {
    let server =
        mock_answering_times(ResponseTemplate::new(200).set_body_json(queued("t")), 0).await;
    let c = client(&server.uri());
    let inputs = (0..2500).map(|i| format!("junk{i}"));
    let results = collect(c.bulk(text("Hi")).send(inputs)).await;
    assert_eq!(results.len(), 2500);
    assert!(
        results
            .iter()
            .all(|r| matches!(r.result, Err(Error::InvalidRecipient { .. })))
    );
}

#[tokio::test]
async fn a_call_with_an_unknown_outcome_marks_every_row_unknown_and_is_sent_once() {
    for response in [
        ResponseTemplate::new(502),
        ResponseTemplate::new(200).set_body_json(rejected("7006", "Internal error occurred")),
    ] {
        let server = mock_answering(response).await;
        // Retries on (the default policy): an unknown outcome must still not be resent.
        let c = client(&server.uri());
        let mut stream = c.bulk(text("Hi")).call_size(10).send(numbers(10));
        let mut ids = HashSet::new();
        let mut n = 0;
        while let Some(r) = stream.next().await {
            let e = r.result.unwrap_err();
            assert!(e.is_outcome_unknown(), "{e:?}");
            assert!(!e.is_retryable(), "{e:?}");
            ids.insert(e.correlation_id().unwrap().clone());
            n += 1;
        }
        assert_eq!(n, 10);
        // Each row names its own destination's correlation id, to reconcile with receipts.
        assert_eq!(ids.len(), 10);
        let progress = stream.progress();
        assert_eq!((progress.outcome_unknown, progress.failed), (10, 0));
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_call_answer_is_decided_per_entry_and_a_partial_rate_limit_is_not_resent() {
    let server = mock_answering_times(
        ResponseTemplate::new(200).set_body_json(json!({"response": [
            {"code": "7020", "transid": "t-a", "description": "limit"},
            {"code": "7004", "transid": "t-b", "description": "Invalid parameters"}
        ]})),
        1,
    )
    .await;
    let c = client(&server.uri());
    let mut results = collect(c.bulk(text("Hi")).send(numbers(2))).await;
    results.sort_by_key(|r| r.index);
    let limited = results[0].result.as_ref().unwrap_err();
    assert!(matches!(limited, Error::RateLimited { .. }), "{limited:?}");
    assert!(limited.is_retryable());
    let rejected = results[1].result.as_ref().unwrap_err();
    assert_eq!(rejected.code().unwrap().as_str(), "7004");
    assert!(!rejected.is_retryable());
    assert_ne!(limited.correlation_id(), rejected.correlation_id());
}
