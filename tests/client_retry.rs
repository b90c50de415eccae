//! Resends only on proof: by default only failures that certainly did not queue the message
//! are resent (connection refused, 7020 / HTTP 429, HTTP 408); every ambiguous failure (5xx,
//! 7006, timeout, lost connection) is sent once and reported as outcome-unknown, unless the
//! caller opts in to `RetryPolicy::at_least_once`.
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
    builder, closed_port, mock_answering, mock_answering_times, mock_first_then, phone, queued,
    rejected, request_bodies, swallowing_server, text,
};
use webex_connect_whatsapp::client::{Error, OutcomeUnknownReason, RetryPolicy};
use webex_connect_whatsapp::send::Destination;
use webex_connect_whatsapp::send::ResponseCode;
use webex_connect_whatsapp::{AppId, CorrelationId, SendRequest};
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
    let server = mock_first_then(
        ResponseTemplate::new(200).set_body_json(rejected(
            "7020",
            "You have reached the maximum transaction limit",
        )),
        ResponseTemplate::new(200).set_body_json(queued("t-2")),
    )
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
    assert_eq!(receipt.transaction_id.unwrap().as_str(), "t-2");
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
    assert_resent_with_one_correlation_id(&server).await;
}

/// Asserts the server got two requests carrying the same correlation id, so the receipts of a
/// resent message can be matched to it.
async fn assert_resent_with_one_correlation_id(server: &MockServer) {
    let bodies = request_bodies(server).await;
    assert_eq!(bodies.len(), 2);
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
    assert_eq!(e.retry_after(), Some(Duration::from_hours(1)));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// Sends one message with the correlation id `c-unknown` to a server answering `response`,
/// with retries on; returns the error and how many requests the server received.
async fn send_once_against(response: ResponseTemplate) -> (Error, usize) {
    let server = mock_answering(response).await;
    let client = builder(&server.uri())
        .retry_policy(support::fast_retries().max_attempts(4))
        .build()
        .unwrap();
    let e = client
        .message(phone(1), text("Hi"))
        .correlation_id(CorrelationId::new("c-unknown").unwrap())
        .send()
        .await
        .unwrap_err();
    (e, server.received_requests().await.unwrap().len())
}

fn assert_unknown(e: &Error, reason: OutcomeUnknownReason, status: u16) {
    assert!(e.is_outcome_unknown(), "{e:?}");
    assert!(!e.is_retryable(), "{e:?}");
    assert_eq!(e.outcome_unknown_reason(), Some(reason), "{e:?}");
    assert_eq!(e.status(), Some(status), "{e:?}");
    assert_eq!(e.correlation_id().unwrap().as_str(), "c-unknown", "{e:?}");
    let shown = e.to_string();
    assert!(shown.contains("c-unknown"), "{shown}");
    assert!(shown.contains("may have been queued"), "{shown}");
    assert!(shown.contains(&status.to_string()), "{shown}");
}

#[tokio::test]
async fn server_errors_are_sent_once_and_outcome_unknown_with_or_without_a_body() {
    for status in [500, 502, 503, 504] {
        let bodies = [
            ResponseTemplate::new(status),
            ResponseTemplate::new(status).set_body_string("<html>bad gateway</html>"),
            ResponseTemplate::new(status).insert_header("retry-after", "0"),
            ResponseTemplate::new(status).set_body_json(rejected("7004", "Invalid parameters")),
        ];
        for response in bodies {
            let (e, requests) = send_once_against(response).await;
            assert_eq!(requests, 1, "HTTP {status} was resent: {e:?}");
            assert_unknown(&e, OutcomeUnknownReason::ServerError, status);
        }
    }
}

#[tokio::test]
async fn code_7006_is_sent_once_and_outcome_unknown() {
    for status in [200, 400, 500] {
        let (e, requests) = send_once_against(
            ResponseTemplate::new(status)
                .set_body_json(rejected("7006", "Internal error occurred")),
        )
        .await;
        assert_eq!(requests, 1, "7006 with HTTP {status} was resent: {e:?}");
        assert_unknown(&e, OutcomeUnknownReason::InternalError, status);
        assert_eq!(e.code(), Some(&ResponseCode::InternalError));
        assert_eq!(e.transaction_id().unwrap().as_str(), "rej-1");
    }
}

#[tokio::test]
async fn http_429_then_queued_is_two_requests() {
    let server = mock_first_then(
        ResponseTemplate::new(429).set_body_string("slow down"),
        ResponseTemplate::new(200).set_body_json(queued("t-429")),
    )
    .await;
    let receipt = builder(&server.uri())
        .build()
        .unwrap()
        .send(&phone(1), text("Hi"))
        .await
        .unwrap();
    assert_eq!(receipt.transaction_id.unwrap().as_str(), "t-429");
    assert_eq!(receipt.attempts, 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

/// 408 is proof of "not processed": the server says it never had the whole request.
#[tokio::test]
async fn http_408_is_resent_because_the_request_was_not_received() {
    let server = mock_first_then(
        ResponseTemplate::new(408).set_body_string("request timeout"),
        ResponseTemplate::new(200).set_body_json(queued("t-408")),
    )
    .await;
    let errors = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&errors);
    let receipt = builder(&server.uri())
        .retry_policy(
            support::fast_retries().on_retry(move |e| log.lock().unwrap().push(e.error.clone())),
        )
        .build()
        .unwrap()
        .send(&phone(1), text("Hi"))
        .await
        .unwrap();
    assert_eq!(receipt.attempts, 2);
    let errors = errors.lock().unwrap();
    assert!(
        matches!(errors[0], Error::NotReceived { status: 408, .. }),
        "{errors:?}"
    );
    assert!(errors[0].is_retryable());
    assert!(!errors[0].is_outcome_unknown());
}

#[tokio::test]
async fn at_least_once_resends_a_502_and_says_so() {
    let server = mock_first_then(
        ResponseTemplate::new(502),
        ResponseTemplate::new(200).set_body_json(queued("t-again")),
    )
    .await;
    let unknown = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&unknown);
    let client = builder(&server.uri())
        .retry_policy(
            RetryPolicy::at_least_once()
                .base_delay(Duration::from_millis(5))
                .on_retry(move |e| log.lock().unwrap().push(e.error.is_outcome_unknown())),
        )
        .build()
        .unwrap();
    let receipt = client.send(&phone(1), text("Hi")).await.unwrap();
    assert_eq!(receipt.transaction_id.unwrap().as_str(), "t-again");
    assert_eq!(receipt.attempts, 2);
    assert_eq!(*unknown.lock().unwrap(), vec![true]);
    // Both attempts carried the same correlation id, so receipts can be deduplicated.
    assert_resent_with_one_correlation_id(&server).await;
}

#[tokio::test]
async fn at_least_once_resends_7006_and_dropped_connections_up_to_max_attempts() {
    let (e, requests) = {
        let server = mock_answering(
            ResponseTemplate::new(200).set_body_json(rejected("7006", "Internal error occurred")),
        )
        .await;
        let client = builder(&server.uri())
            .retry_policy(
                RetryPolicy::at_least_once()
                    .max_attempts(3)
                    .base_delay(Duration::from_millis(5)),
            )
            .build()
            .unwrap();
        let e = client.send(&phone(1), text("Hi")).await.unwrap_err();
        (e, server.received_requests().await.unwrap().len())
    };
    assert_eq!(requests, 3);
    assert!(e.is_outcome_unknown());

    let (addr, seen) = swallowing_server().await;
    let client = builder(&format!("http://{addr}"))
        .retry_policy(
            RetryPolicy::at_least_once()
                .max_attempts(3)
                .base_delay(Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let e = client.send(&phone(1), text("Hi")).await.unwrap_err();
    assert_eq!(
        e.outcome_unknown_reason(),
        Some(OutcomeUnknownReason::ConnectionLost)
    );
    assert_eq!(seen.load(Ordering::SeqCst), 3);
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

// ---- a multi-destination answer is decided per entry ------------------------------------

/// A request to `n` destinations, each with its own correlation id `d-<i>`.
fn to_destinations(n: u32) -> SendRequest {
    SendRequest::builder(AppId::new(support::APP).unwrap(), text("Hi"))
        .destinations((0..n).map(|i| {
            Destination::new(phone(i))
                .with_correlation_id(CorrelationId::new(format!("d-{i}")).unwrap())
        }))
        .build()
        .unwrap()
}

fn entries(codes: &[&str]) -> ResponseTemplate {
    let entries: Vec<serde_json::Value> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| serde_json::json!({"code": code, "transid": format!("t-{i}"), "description": "x"}))
        .collect();
    ResponseTemplate::new(200).set_body_json(serde_json::json!({ "response": entries }))
}

#[tokio::test]
async fn a_rate_limit_on_one_entry_is_that_destinations_alone_and_nothing_is_resent() {
    let server = mock_answering_times(entries(&["7020", "7001"]), 1).await;
    let client = builder(&server.uri()).build().unwrap();
    let outcome = client.send_request(&to_destinations(2)).await.unwrap();
    let [first, second] = &outcome.results[..] else {
        panic!("{outcome:?}")
    };
    let first = first.as_ref().unwrap_err();
    assert!(matches!(first, Error::RateLimited { .. }), "{first:?}");
    assert_eq!(first.correlation_id().unwrap().as_str(), "d-0");
    let second = second.as_ref().unwrap_err();
    assert!(matches!(second, Error::Authentication { .. }), "{second:?}");
    assert!(!second.is_retryable());
}

#[tokio::test]
async fn one_rate_limit_entry_per_destination_resends_the_request_whole() {
    let server = mock_first_then(entries(&["7020", "7020"]), entries(&["1001", "1001"])).await;
    let client = builder(&server.uri()).build().unwrap();
    let outcome = client.send_request(&to_destinations(2)).await.unwrap();
    assert_eq!(outcome.receipts().count(), 2);
    assert!(outcome.receipts().all(|r| r.attempts == 2));
}

#[tokio::test]
async fn rate_limit_entries_that_do_not_pair_with_the_destinations_are_not_resent() {
    // One 7020 for two destinations: which destination it speaks for is unknown.
    let server = mock_answering_times(entries(&["7020"]), 1).await;
    let client = builder(&server.uri())
        .retry_policy(RetryPolicy::at_least_once().base_delay(Duration::from_millis(1)))
        .build()
        .unwrap();
    let outcome = client.send_request(&to_destinations(2)).await.unwrap();
    for (i, r) in outcome.results.iter().enumerate() {
        let e = r.as_ref().unwrap_err();
        assert_eq!(
            e.outcome_unknown_reason(),
            Some(OutcomeUnknownReason::AmbiguousAnswer),
            "{e:?}"
        );
        assert_eq!(e.correlation_id().unwrap().as_str(), format!("d-{i}"));
    }
}

#[tokio::test]
async fn duplicate_correlation_ids_in_one_request_are_refused_before_sending() {
    let server = mock_answering_times(entries(&["1001", "1001", "1001"]), 0).await;
    let client = builder(&server.uri()).build().unwrap();
    let request = SendRequest::builder(AppId::new(support::APP).unwrap(), text("Hi"))
        .destinations([0, 1, 2].map(|i| {
            let id = if i == 1 { "other" } else { "same" };
            Destination::new(phone(i)).with_correlation_id(CorrelationId::new(id).unwrap())
        }))
        .build()
        .unwrap();
    let e = client.send_request(&request).await.unwrap_err();
    assert!(
        matches!(&e, Error::DuplicateCorrelationId { correlation_id, first: 0, second: 2 } if correlation_id.as_str() == "same"),
        "{e:?}"
    );
    assert!(!e.is_outcome_unknown() && !e.is_retryable());
    assert!(
        e.to_string().contains("correlation id same is used twice"),
        "{e}"
    );
}

// ---- the body's code wins over HTTP 408 and 429 -----------------------------------------

#[tokio::test]
async fn a_code_in_the_body_wins_over_http_429_and_408() {
    for status in [429, 408] {
        let (e, requests) = send_once_against(
            ResponseTemplate::new(status).set_body_json(rejected("7004", "Invalid parameters")),
        )
        .await;
        assert!(matches!(e, Error::Rejected { .. }), "{status}: {e:?}");
        assert_eq!(e.code(), Some(&ResponseCode::InvalidParameters));
        assert!(!e.is_retryable(), "{status}");
        assert_eq!(requests, 1, "{status}: not resent");
    }
}

#[tokio::test]
async fn without_a_readable_code_http_429_still_decides() {
    let server = mock_first_then(
        ResponseTemplate::new(429)
            .set_body_json(serde_json::json!({"response": {"code": "", "description": ""}})),
        ResponseTemplate::new(200).set_body_json(queued("t-2")),
    )
    .await;
    let receipt = builder(&server.uri())
        .build()
        .unwrap()
        .send(&phone(1), text("Hi"))
        .await
        .unwrap();
    assert_eq!(receipt.attempts, 2);
}
