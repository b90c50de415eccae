//! Errors that explain themselves: `println!("{e}")` alone says what was wrong and what to
//! do. Wrappers name their reason (which stays their `source()` too), and the client's
//! rejections end with the hint for their response code.
#![cfg(feature = "client")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::error::Error as _;

use serde_json::json;
use support::{APP, KEY, closed_port, mock_answering, phone, rejected, text};
use webex_connect_whatsapp::client::{Error, RetryPolicy};
use webex_connect_whatsapp::recipient::RecipientError;
use webex_connect_whatsapp::send::{ResponseCode, SendRequestError};
use webex_connect_whatsapp::template::TemplateRegistry;
use webex_connect_whatsapp::{Recipient, SessionMessage, TemplateMessage};
use wiremock::ResponseTemplate;

#[test]
fn a_recipient_error_names_its_reason_and_keeps_it_as_the_source() {
    let e = Recipient::parse("07400 123456").unwrap_err();
    let reason = e.source().unwrap().to_string();
    assert!(reason.contains("no country code"), "{reason}");
    assert_eq!(e.to_string(), format!("not a valid phone number: {reason}"));

    let e = Recipient::parse("US.a-b").unwrap_err();
    assert!(matches!(e, RecipientError::Bsuid(_)));
    assert!(
        e.to_string().starts_with(
            "not a valid business-scoped user id: a business-scoped user id holds '-'"
        ),
        "{e}"
    );
}

#[test]
fn client_wrappers_end_with_their_reason() {
    let source = Recipient::parse("12345").unwrap_err();
    let reason = source.to_string();
    let e = Error::InvalidRecipient {
        masked: "****45".to_owned(),
        source,
    };
    assert_eq!(
        e.to_string(),
        format!("recipient ****45 is invalid, so nothing was sent to it: {reason}")
    );
    assert_eq!(e.source().unwrap().to_string(), reason);

    let e = Error::from(SendRequestError::Missing {
        field: "destination",
    });
    assert!(
        e.to_string()
            .ends_with(": mandatory field `destination` is missing"),
        "{e}"
    );
    assert!(e.source().is_some());
}

#[test]
fn serde_errors_fold_the_chain_without_repeating_a_cause() {
    let err = serde_json::from_value::<SessionMessage>(json!(
        {"type": "image", "image": {"url": "http://e.com/a.jpg", "mimeType": "image/jpeg"}}
    ))
    .unwrap_err()
    .to_string();
    assert_eq!(err.matches("only https is allowed").count(), 1, "{err}");

    let err = serde_json::from_value::<TemplateMessage>(
        json!({"template": "t1", "parameters": {"image": {"link": "ftp://e.com/a.jpg"}}}),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(err.matches("media url scheme is").count(), 1, "{err}");
}

#[test]
fn a_registry_parse_error_says_where() {
    let e = TemplateRegistry::from_json_str("{\n  \"templates\": [").unwrap_err();
    let message = e.to_string();
    assert!(
        message.starts_with("the template registry JSON is invalid: "),
        "{message}"
    );
    assert!(message.contains("line 2"), "{message}");
}

#[tokio::test]
async fn a_transport_error_names_the_innermost_cause() {
    let port = closed_port().await;
    let client = support::builder(&format!("http://{port}"))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let e = client.send(&phone(1), text("hi")).await.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    let message = e.to_string();
    // The OS's words differ ("Connection refused", "actively refused it"); reqwest's own
    // "error sending request for url" says nothing of why.
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert!(!message.contains("error sending request"), "{message}");
    assert!(message.ends_with("resending it is safe"), "{message}");
}

#[tokio::test]
async fn a_7108_rejection_says_to_send_the_template_id_not_its_name() {
    let server = mock_answering(
        ResponseTemplate::new(200).set_body_json(rejected("7108", "Invalid template ID")),
    )
    .await;
    let client = support::client(&server.uri());
    let e = client.send(&phone(1), text("hi")).await.unwrap_err();
    assert_eq!(e.code(), Some(&ResponseCode::InvalidTemplateId));
    let hint = "use the template's id (digits) from the Webex Connect template page, not its name";
    assert_eq!(e.hint().as_deref(), Some(hint));
    assert!(e.to_string().ends_with(hint), "{e}");
}

#[tokio::test]
async fn a_7001_refusal_names_the_host_and_app_id_but_never_the_key() {
    for answer in [
        ResponseTemplate::new(400).set_body_json(rejected("7001", "Authentication failed.")),
        ResponseTemplate::new(200).set_body_json(rejected("7001", "Authentication failed.")),
        ResponseTemplate::new(401),
    ] {
        let server = mock_answering(answer).await;
        let client = support::client(&server.uri());
        let e = client.send(&phone(1), text("hi")).await.unwrap_err();
        assert!(matches!(e, Error::Authentication { .. }), "{e:?}");
        let message = e.to_string();
        assert!(message.contains("region (API host)"), "{message}");
        assert!(
            message.contains("this client used API host 127.0.0.1 and app id a_155054536910425280"),
            "{message}"
        );
        assert!(message.contains(APP));
        assert!(!message.contains(KEY), "{message}");
        assert!(!format!("{e:?}").contains(KEY));
        assert!(e.hint().is_some_and(|h| h.contains("127.0.0.1")));
    }
}

#[test]
fn a_missing_key_says_to_set_one() {
    let e = Error::rejected(ResponseCode::ServiceKeyMissing, None, None, 400);
    assert!(
        e.to_string()
            .contains("set one with ClientBuilder::service_key"),
        "{e}"
    );
}

#[test]
fn every_hinted_code_reads_as_advice() {
    for code in [
        "7000", "7001", "7002", "7003", "7004", "7005", "7006", "7007", "7009", "7020", "7104",
        "7108",
    ] {
        let hint = ResponseCode::from_code(code).hint();
        assert!(
            hint.is_some_and(|h| !h.is_empty() && !h.ends_with('.')),
            "{code}"
        );
    }
    for code in ["1001", "7200", "9999"] {
        assert_eq!(ResponseCode::from_code(code).hint(), None, "{code}");
    }
}
