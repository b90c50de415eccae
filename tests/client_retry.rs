//! Retries never duplicate: only failures that certainly did not queue the message are retried.
#![cfg(feature = "client")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{
    builder, closed_port, mock_answering, phone, queued, rejected, swallowing_server, text,
};
use webex_connect_whatsapp::CorrelationId;
use webex_connect_whatsapp::client::{Error, RetryPolicy};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_dropped_connection_after_the_body_is_outcome_unknown_and_never_resent() {
    let (addr, seen) = swallowing_server().await;
    let client = builder(&format!("http://{addr}"))
        .retry_policy(RetryPolicy::default().max_attempts(5))
        .build()
        .unwrap();
    let e = client
        .message(phone(1), text("Hi"))
        .correlation_id(CorrelationId::new("reconcile-me").unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(e.is_outcome_unknown(), "{e:?}");
    assert!(!e.is_retryable());
    assert!(matches!(e, Error::OutcomeUnknown { .. }), "{e:?}");
    assert_eq!(e.correlation_id().unwrap().as_str(), "reconcile-me");
    assert!(e.to_string().contains("reconcile-me"), "{e}");
    assert!(e.to_string().contains("may have been queued"), "{e}");
    // Give a (wrong) retry time to arrive before counting.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn rate_limited_then_queued_is_one_receipt_after_two_requests() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(rejected(
            "7020",
            "You have reached the maximum transaction limit",
        )))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(queued("t-2")))
        .expect(1)
        .mount(&server)
        .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&events);
    let client = builder(&server.uri())
        .retry_policy(support::fast_retries().on_retry(move |e| {
            log.lock()
                .unwrap()
                .push((e.attempt, e.error.code().cloned()));
        }))
        .build()
        .unwrap();
    let receipt = client.send(&phone(1), text("Hi")).await.unwrap();
    assert_eq!(receipt.transid.unwrap().as_str(), "t-2");
    assert_eq!(receipt.attempts, 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, 1);
    assert_eq!(
        events[0].1,
        Some(webex_connect_whatsapp::send::ResponseCode::RateLimited)
    );
    // Both attempts carried the same correlation id.
    let bodies: Vec<serde_json::Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.body_json().unwrap())
        .collect();
    assert_eq!(
        bodies[0]["destination"][0]["correlationid"],
        bodies[1]["destination"][0]["correlationid"]
    );
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(queued("t-3")))
        .mount(&server)
        .await;
    let delays = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&delays);
    let client = builder(&server.uri())
        .retry_policy(
            RetryPolicy::default()
                .base_delay(Duration::from_secs(30))
                .on_retry(move |e| log.lock().unwrap().push(e.delay)),
        )
        .build()
        .unwrap();
    client.send(&phone(1), text("Hi")).await.unwrap();
    // The server's Retry-After (0 s) won over the 30 s backoff.
    assert_eq!(*delays.lock().unwrap(), vec![Duration::ZERO]);
}

#[tokio::test]
async fn a_retry_after_beyond_the_deadline_is_returned_not_waited() {
    let server =
        mock_answering(ResponseTemplate::new(429).insert_header("retry-after", "3600")).await;
    let client = builder(&server.uri())
        .retry_policy(RetryPolicy::default().deadline(Duration::from_secs(10)))
        .build()
        .unwrap();
    let e = client.send(&phone(1), text("Hi")).await.unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn internal_error_and_503_are_retried_up_to_max_attempts() {
    let server = mock_answering(ResponseTemplate::new(503)).await;
    let client = builder(&server.uri())
        .retry_policy(support::fast_retries().max_attempts(3))
        .build()
        .unwrap();
    let e = client.send(&phone(1), text("Hi")).await.unwrap_err();
    assert!(matches!(e, Error::Unavailable { .. }), "{e:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(rejected("7006", "Internal error")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(queued("t-4")))
        .mount(&server)
        .await;
    let client = builder(&server.uri()).build().unwrap();
    let r = client.send(&phone(1), text("Hi")).await.unwrap();
    assert_eq!(r.attempts, 2);
}

#[tokio::test]
async fn permanent_rejections_are_not_retried() {
    let server = mock_answering(
        ResponseTemplate::new(200).set_body_json(rejected("7104", "Invalid app id")),
    )
    .await;
    let client = builder(&server.uri()).build().unwrap();
    let e = client.send(&phone(1), text("Hi")).await.unwrap_err();
    assert!(!e.is_retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported_as_not_sent() {
    let addr = closed_port().await;
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&attempts);
    let client = builder(&format!("http://{addr}"))
        .retry_policy(
            support::fast_retries().on_retry(move |e| log.lock().unwrap().push(e.attempt)),
        )
        .build()
        .unwrap();
    let e = client
        .message(phone(1), text("Hi"))
        .correlation_id(CorrelationId::new("c-refused").unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(e.is_retryable());
    assert!(!e.is_outcome_unknown());
    assert!(e.to_string().contains("not sent"), "{e}");
    assert_eq!(e.correlation_id().unwrap().as_str(), "c-refused");
    assert_eq!(*attempts.lock().unwrap(), vec![1, 2]);
}

#[tokio::test]
async fn no_retries_means_one_attempt() {
    let addr = closed_port().await;
    let calls = Arc::new(Mutex::new(0));
    let log = Arc::clone(&calls);
    let client = builder(&format!("http://{addr}"))
        .retry_policy(RetryPolicy::none().on_retry(move |_| *log.lock().unwrap() += 1))
        .build()
        .unwrap();
    assert!(client.send(&phone(1), text("Hi")).await.is_err());
    assert_eq!(*calls.lock().unwrap(), 0);
}
