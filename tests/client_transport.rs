//! The service key stays home: redirects are never followed, a loopback sandbox is reached
//! without the system proxy, and a base URL with credentials in it is refused.
#![cfg(feature = "client")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::time::Duration;

use support::{APP, KEY, PATH, builder, mock_answering, phone, queued, text};
use webex_connect_whatsapp::client::{Client, Error, RetryPolicy};
use webex_connect_whatsapp::{AppId, CorrelationId};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_307_is_not_followed_and_the_key_never_reaches_the_other_host() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(queued("stolen")))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let target = format!("{}{PATH}", elsewhere.uri());
    let server =
        mock_answering(ResponseTemplate::new(307).insert_header("location", &*target)).await;
    let e = builder(&server.uri())
        .build()
        .unwrap()
        .message(phone(1), text("Hi"))
        .correlation_id(CorrelationId::new("c-redirect").unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Redirected { status: 307, .. }), "{e:?}");
    assert_eq!(e.location(), Some(target.as_str()));
    assert_eq!(e.correlation_id().unwrap().as_str(), "c-redirect");
    assert!(!e.is_retryable());
    assert!(!e.is_outcome_unknown());
    assert!(e.to_string().contains(&target), "{e}");
    assert!(!format!("{e:?}").contains(KEY));
    // Sent once (a redirect is never resent), and never to the other host.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_303_is_not_followed_and_its_outcome_is_unknown() {
    let server = mock_answering(
        ResponseTemplate::new(303).insert_header("location", "https://example.test/result"),
    )
    .await;
    let client = builder(&server.uri())
        .retry_policy(RetryPolicy::at_least_once().base_delay(Duration::from_millis(1)))
        .build()
        .unwrap();
    let e = client.send(&phone(1), text("Hi")).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e:?}");
    assert_eq!(e.status(), Some(303));
    // Even at-least-once does not resend a redirect: it would only get the same answer.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[test]
fn a_base_url_with_a_password_is_refused_without_repeating_it() {
    for url in [
        "https://alice-name:hunter2-secret@api.example.test/",
        "http://alice-name:hunter2-secret@127.0.0.1:9",
        "https://alice-name@api.example.test/",
    ] {
        let builder = Client::builder()
            .service_key(KEY)
            .app_id(AppId::new(APP).unwrap())
            .base_url(url.parse().unwrap());
        let shown_builder = format!("{builder:?}");
        let e = builder.build().unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e:?}");
        assert!(e.to_string().contains("user name or password"), "{e}");
        for shown in [shown_builder, format!("{e:?}"), e.to_string()] {
            assert!(!shown.contains("hunter2-secret"), "{shown}");
            assert!(!shown.contains("alice-name"), "{shown}");
        }
    }
}

/// Marks the child process of [`a_loopback_base_ignores_the_system_proxy`].
const CHILD: &str = "WCW_TEST_PROXY_CHILD";

/// Runs in a child process whose proxy variables point at a counting server: the send must go
/// straight to the loopback sandbox. Without the marker (a normal test run) it does nothing.
#[tokio::test]
async fn loopback_send_in_a_proxied_environment() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let server = mock_answering(ResponseTemplate::new(200).set_body_json(queued("direct"))).await;
    let receipt = builder(&server.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
        .send(&phone(1), text("Hi"))
        .await
        .unwrap();
    assert_eq!(receipt.transaction_id.unwrap().as_str(), "direct");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_loopback_base_ignores_the_system_proxy() {
    // The proxy settings are the process environment, so they are set on a child process (no
    // test here mutates its own environment).
    let proxy = mock_answering(ResponseTemplate::new(200).set_body_json(queued("proxied"))).await;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child
        .args([
            "--exact",
            "loopback_send_in_a_proxied_environment",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        child.env(var, proxy.uri());
    }
    let output = tokio::task::spawn_blocking(move || child.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(
        proxy.received_requests().await.unwrap().is_empty(),
        "the send went through the system proxy"
    );
}
