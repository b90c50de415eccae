//! The send client against a local mock server: exact requests, every response shape, errors.
#![cfg(feature = "client")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{
    APP, KEY, PATH, builder, client, mock_answering, mock_answering_times, phone, queued, rejected,
    text,
};
use time::OffsetDateTime;
use webex_connect_whatsapp::client::{
    Client, Error, OutcomeUnknownReason, Region, RetryPolicy, ServiceKey,
};
use webex_connect_whatsapp::send::{Content, ResponseCode, SendRequest};
use webex_connect_whatsapp::session::{
    Contact, ContactAddress, ContactEmail, ContactName, ContactOrg, ContactPhone, ContactUrl,
};
use webex_connect_whatsapp::{
    AppId, CallbackData, CorrelationId, MediaKind, MediaUrl, SessionMessage, TemplateId,
    TemplateMessage,
};
use wiremock::matchers::{body_json, header, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The envelope a single send of `content` to `+447400000001` must produce.
fn envelope(content: Value, correlation_id: &str) -> Value {
    let mut body = json!({
        "deliverychannel": "whatsapp",
        "appid": APP,
        "destination": [{"waid": ["447400000001"], "correlationid": correlation_id}],
        // One destination: the id is also sent at the top level, where the published
        // WhatsApp samples put it.
        "correlationid": correlation_id,
    });
    let obj = body.as_object_mut().unwrap();
    if content.get("template").is_some() {
        obj.insert("message".into(), content);
    } else {
        obj.insert("channels".into(), json!({"OTT-Messaging": {"wa": content}}));
    }
    body
}

fn media_url(s: &str) -> MediaUrl {
    MediaUrl::new(s).unwrap()
}

/// Sends `content` with a fixed correlation id and checks the exact request on the wire.
async fn assert_wire(content: impl Into<Content>, wire: Value) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(header("key", KEY))
        .and(header("content-type", "application/json"))
        .and(body_json(envelope(wire, "corr-1")))
        .respond_with(ResponseTemplate::new(200).set_body_json(queued("t-1")))
        .expect(1)
        .mount(&server)
        .await;
    let receipt = client(&server.uri())
        .message(phone(1), content)
        .correlation_id(CorrelationId::new("corr-1").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(receipt.transaction_id.unwrap().as_str(), "t-1");
    assert_eq!(receipt.correlation_id.unwrap().as_str(), "corr-1");
    assert_eq!(receipt.destination, "447400000001");
    assert_eq!(receipt.attempts, 1);
}

#[tokio::test]
async fn text_message_request_is_exact() {
    let message = SessionMessage::text("Hello").unwrap();
    let wire = json!({"type": "text", "text": {"body": "Hello"}});
    assert_wire(message, wire).await;
}

#[tokio::test]
async fn text_with_preview_url_request_is_exact() {
    let message = SessionMessage::text_with_preview("see https://example.com").unwrap();
    let wire =
        json!({"type": "text", "text": {"body": "see https://example.com"}, "preview_url": true});
    assert_wire(message, wire).await;
}

#[tokio::test]
async fn reply_buttons_request_is_exact() {
    let message = SessionMessage::reply_buttons("Confirm?")
        .button("yes", "Yes")
        .build()
        .unwrap();
    let wire = json!({"type": "reply", "reply": {"body": {"text": "Confirm?"}, "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}]}}});
    assert_wire(message, wire).await;
}

#[tokio::test]
async fn image_request_is_exact() {
    let message = SessionMessage::image(media_url("https://example.com/a.jpg"), "image/jpeg")
        .caption("A cat")
        .build()
        .unwrap();
    let wire = json!({"type": "image", "image": {"url": "https://example.com/a.jpg", "mimeType": "image/jpeg", "caption": "A cat"}});
    assert_wire(message, wire).await;
}

#[tokio::test]
async fn video_request_is_exact() {
    let message = SessionMessage::video(media_url("https://example.com/a.mp4"), "video/mp4")
        .caption("Clip")
        .build()
        .unwrap();
    let wire = json!({"type": "video", "video": {"url": "https://example.com/a.mp4", "mimeType": "video/mp4", "caption": "Clip"}});
    assert_wire(message, wire).await;
}

#[tokio::test]
async fn audio_request_is_exact() {
    let message = SessionMessage::audio(media_url("https://example.com/a.mp3"), "audio/mpeg")
        .build()
        .unwrap();
    let wire = json!({"type": "audio", "audio": {"url": "https://example.com/a.mp3", "mimeType": "audio/mpeg"}});
    assert_wire(message, wire).await;
}

#[tokio::test]
async fn document_request_is_exact() {
    let message =
        SessionMessage::document(media_url("https://example.com/a.pdf"), "application/pdf")
            .caption("Invoice")
            .filename("invoice.pdf")
            .build()
            .unwrap();
    let wire = json!({"type": "document", "document": {"url": "https://example.com/a.pdf", "mimeType": "application/pdf", "caption": "Invoice", "filename": "invoice.pdf"}});
    assert_wire(message, wire).await;
}

#[tokio::test]
async fn sticker_request_is_exact() {
    let message = SessionMessage::sticker(media_url("https://example.com/a.webp"), "image/webp")
        .build()
        .unwrap();
    let wire = json!({"type": "sticker", "sticker": {"url": "https://example.com/a.webp", "mimeType": "image/webp"}});
    assert_wire(message, wire).await;
}

#[tokio::test]
async fn location_request_is_exact() {
    let message = SessionMessage::location(51.5072, -0.1276)
        .name("Office")
        .address("1 Main St, London")
        .build()
        .unwrap();
    let wire = json!({"type": "location", "location": {"longitude": -0.1276, "latitude": 51.5072, "name": "Office", "address": "1 Main St, London"}});
    assert_wire(message, wire).await;
}

#[tokio::test]
async fn contacts_request_is_exact() {
    let mut address = ContactAddress::default();
    address.street = Some("1 Main St".into());
    address.city = Some("London".into());
    address.country = Some("United Kingdom".into());
    address.country_code = Some("GB".into());
    address.kind = Some("WORK".into());
    let mut email = ContactEmail::new("jane@example.com");
    email.kind = Some("WORK".into());
    let mut org = ContactOrg::default();
    org.company = Some("Acme".into());
    org.department = Some("Sales".into());
    org.title = Some("Manager".into());
    let mut contact_phone = ContactPhone::new("+447400123456");
    contact_phone.kind = Some("CELL".into());
    contact_phone.wa_id = Some("447400123456".into());
    let mut url = ContactUrl::new("https://example.com");
    url.kind = Some("WORK".into());
    let contact = Contact::new(
        ContactName::new("Jane Doe")
            .first_name("Jane")
            .last_name("Doe"),
    )
    .address(address)
    .birthday("1990-01-31")
    .email(email)
    .org(org)
    .phone(contact_phone)
    .url(url);
    let message = SessionMessage::contacts(vec![contact]).unwrap();
    let wire = json!({"type": "contacts", "contacts": [{
        "addresses": [{"street": "1 Main St", "city": "London", "country": "United Kingdom", "country_code": "GB", "type": "WORK"}],
        "birthday": "1990-01-31",
        "emails": [{"email": "jane@example.com", "type": "WORK"}],
        "name": {"formatted_name": "Jane Doe", "first_name": "Jane", "last_name": "Doe"},
        "org": {"company": "Acme", "department": "Sales", "title": "Manager"},
        "phones": [{"phone": "+447400123456", "type": "CELL", "wa_id": "447400123456"}],
        "urls": [{"url": "https://example.com", "type": "WORK"}]
    }]});
    assert_wire(message, wire).await;
}

#[tokio::test]
async fn template_with_every_parameter_type_request_is_exact() {
    let message = TemplateMessage::builder(TemplateId::new("5139722425").unwrap())
        .media_header(
            MediaKind::Image,
            media_url("https://example.com/header.jpg"),
        )
        .text("movie", "joker")
        .date_time(
            "time",
            "Feb 20th, 2023 8:45pm",
            OffsetDateTime::from_unix_timestamp(1_782_231_500).unwrap(),
        )
        .currency("purchase_value", "USD", 150_000, "EUR 300")
        .url_suffix("ctaVariable", "url_extension")
        .quick_reply("Button 1", "BUTTON 1 PAYLOAD")
        .otp("otp", "123456")
        .build()
        .unwrap();
    let wire = json!({"template": "5139722425", "parameters": {
        "image": {"link": "https://example.com/header.jpg"},
        "movie": "joker",
        "time": {"type": "date_time", "fallback_value": "Feb 20th, 2023 8:45pm", "timestamp": "1782231500"},
        "purchase_value": {"type": "currency", "currency_code": "USD", "amount_1000": "150000", "fallback_value": "EUR 300"},
        "ctaVariable": {"type": "url", "payload": "url_extension"},
        "quickReply": [{"button_text": "Button 1", "payload": "BUTTON 1 PAYLOAD"}],
        "otp": {"type": "otp", "value": "123456"}
    }});
    assert_wire(message, wire).await;
}

#[tokio::test]
async fn template_with_text_header_and_document_request_is_exact() {
    let id = |s: &str| TemplateId::new(s).unwrap();
    for (message, wire) in [
        (
            TemplateMessage::builder(id("51397"))
                .header_text("headerText", "Hi")
                .text("name", "Jane"),
            json!({"template": "51397", "parameters": {"headerText": "Hi", "name": "Jane"}}),
        ),
        (
            TemplateMessage::builder(id("51398"))
                .document_header(media_url("https://example.com/a.pdf"), "a.pdf"),
            json!({"template": "51398", "parameters": {"document": {"link": "https://example.com/a.pdf", "filename": "a.pdf"}}}),
        ),
        (
            TemplateMessage::builder(id("51399"))
                .media_header(MediaKind::Video, media_url("https://example.com/a.mp4")),
            json!({"template": "51399", "parameters": {"video": {"link": "https://example.com/a.mp4"}}}),
        ),
    ] {
        assert_wire(message.build().unwrap(), wire).await;
    }
}

#[tokio::test]
async fn options_go_on_the_wire() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(body_json(json!({
            "deliverychannel": "whatsapp",
            "appid": APP,
            "destination": [{"waid": ["447400000001"], "correlationid": "order-7"}],
            "correlationid": "order-7",
            "channels": {"OTT-Messaging": {"wa": {"type": "text", "text": {"body": "Hi"}}}},
            "callbackData": "{\"order\":7}",
            "notifyurl": "https://example.com/dlr",
            "notifyurlAuthId": "auth-1",
            "expiry": "2030-01-01T00:00:00.000Z"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(queued("t-7")))
        .expect(1)
        .mount(&server)
        .await;
    client(&server.uri())
        .message(phone(1), text("Hi"))
        .correlation_id(CorrelationId::new("order-7").unwrap())
        .callback_data(CallbackData::new("{\"order\":7}").unwrap())
        .notify_url("https://example.com/dlr".parse().unwrap())
        .notify_url_auth_id("auth-1")
        .expiry(time::macros::datetime!(2030-01-01 00:00 UTC))
        .send()
        .await
        .unwrap();
}

/// One `RequestOptions` value, handed whole to a message, a bulk send and a personalised
/// batch, puts the same fields on every request of each.
#[tokio::test]
async fn request_options_handed_whole_reach_every_request() {
    use futures_util::StreamExt as _;
    use webex_connect_whatsapp::client::BatchRow;
    use webex_connect_whatsapp::send::RequestOptions;

    let server = mock_answering(ResponseTemplate::new(200).set_body_json(queued("t-1"))).await;
    let client = client(&server.uri());
    let options = RequestOptions::new()
        .callback_data(CallbackData::new("{\"order\":7}").unwrap())
        .notify_url("https://example.com/dlr".parse().unwrap())
        .notify_url_auth_id("auth-1")
        .expiry(time::macros::datetime!(2030-01-01 00:00 UTC));
    client
        .message(phone(1), text("Hi"))
        // Replaced whole by the next call: only the last value counts.
        .options(RequestOptions::new().notify_url_auth_id("dropped"))
        .options(options.clone())
        .send()
        .await
        .unwrap();
    let bulk: Vec<_> = client
        .bulk(text("Hi"))
        .options(options.clone())
        .send([phone(2)])
        .collect()
        .await;
    assert!(bulk.iter().all(|r| r.result.is_ok()), "{bulk:?}");
    let batch: Vec<_> = client
        .batch()
        .options(options)
        .send([BatchRow::new(phone(3), text("Hi"))])
        .collect()
        .await;
    assert_eq!(batch.len(), 1);
    let bodies = support::request_bodies(&server).await;
    assert_eq!(bodies.len(), 3);
    for body in bodies {
        // A personalised batch sends an array of complete requests.
        let requests = match body {
            Value::Array(requests) => requests,
            one => vec![one],
        };
        for request in requests {
            assert_eq!(request["callbackData"], "{\"order\":7}");
            assert_eq!(request["notifyurl"], "https://example.com/dlr");
            assert_eq!(request["notifyurlAuthId"], "auth-1");
            assert_eq!(request["expiry"], "2030-01-01T00:00:00.000Z");
        }
    }
}

/// Each request-level option set one by one, on a message, a bulk send, a personalised batch
/// and a bare request builder, reaches the request as the same field.
#[tokio::test]
async fn each_option_setter_of_every_builder_reaches_the_request() {
    use futures_util::StreamExt as _;
    use webex_connect_whatsapp::client::BatchRow;
    use webex_connect_whatsapp::send::LinkOptions;

    let server = mock_answering(ResponseTemplate::new(200).set_body_json(queued("t-1"))).await;
    let client = client(&server.uri());
    let data = || CallbackData::new("{\"order\":7}").unwrap();
    let url = || "https://example.com/dlr".parse().unwrap();
    let at = time::macros::datetime!(2030-01-01 00:00 UTC);
    let link = || {
        LinkOptions::builder("go.example.com")
            .track_clicks(true)
            .build()
            .unwrap()
    };
    let message = || text("See https://example.com/a");
    client
        .message(phone(1), message())
        .callback_data(data())
        .notify_url(url())
        .notify_url_auth_id("auth-1")
        .expiry(at)
        .link_options(link())
        .send()
        .await
        .unwrap();
    let mut results = client
        .bulk(message())
        .callback_data(data())
        .notify_url(url())
        .notify_url_auth_id("auth-1")
        .expiry(at)
        .link_options(link())
        .send([phone(2)])
        .collect::<Vec<_>>()
        .await;
    results.extend(
        client
            .batch()
            .callback_data(data())
            .notify_url(url())
            .notify_url_auth_id("auth-1")
            .expiry(at)
            .link_options(link())
            .send([BatchRow::new(phone(3), message())])
            .collect::<Vec<_>>()
            .await,
    );
    assert_eq!(
        results.len(),
        2,
        "one result per bulk recipient and batch row"
    );
    assert!(results.iter().all(|r| r.result.is_ok()), "{results:?}");
    let bare = SendRequest::builder(AppId::new(APP).unwrap(), message())
        .to(phone(4))
        .callback_data(data())
        .notify_url(url())
        .notify_url_auth_id("auth-1")
        .expiry(at)
        .link_options(link())
        .build()
        .unwrap();
    let mut requests = vec![serde_json::to_value(&bare).unwrap()];
    for body in support::request_bodies(&server).await {
        match body {
            Value::Array(batch) => requests.extend(batch),
            one => requests.push(one),
        }
    }
    assert_eq!(requests.len(), 4);
    for request in requests {
        assert_eq!(request["callbackData"], "{\"order\":7}");
        assert_eq!(request["notifyurl"], "https://example.com/dlr");
        assert_eq!(request["notifyurlAuthId"], "auth-1");
        assert_eq!(request["expiry"], "2030-01-01T00:00:00.000Z");
        assert_eq!(
            request["options"],
            json!({"trackClicks": "true", "domain": "go.example.com"})
        );
    }
}

#[tokio::test]
async fn a_correlation_id_is_generated_when_none_is_given() {
    let server = mock_answering(ResponseTemplate::new(200).set_body_json(queued("t-1"))).await;
    let receipt = client(&server.uri())
        .send(&phone(1), text("Hi"))
        .await
        .unwrap();
    let sent: Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    let on_wire = sent["destination"][0]["correlationid"].as_str().unwrap();
    assert_eq!(receipt.correlation_id.unwrap().as_str(), on_wire);
    assert_eq!(on_wire.len(), 36);
}

#[tokio::test]
async fn send_request_keeps_the_callers_envelope() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(body_json(json!({
            "deliverychannel": "whatsapp",
            "appid": "a_other",
            "destination": [{"waid": ["447400000001"]}, {"waid": ["447400000002"]}],
            "channels": {"OTT-Messaging": {"wa": {"type": "text", "text": {"body": "Hi"}}}},
            "correlationid": "batch-1"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(queued("t-9")))
        .expect(1)
        .mount(&server)
        .await;
    let request = SendRequest::builder(AppId::new("a_other").unwrap(), text("Hi"))
        .to(phone(1))
        .to(phone(2))
        .correlation_id(CorrelationId::new("batch-1").unwrap())
        .build()
        .unwrap();
    let outcome = client(&server.uri()).send_request(&request).await.unwrap();
    let receipts: Vec<_> = outcome.receipts().collect();
    assert_eq!(receipts.len(), 2);
    for r in receipts {
        assert_eq!(r.transaction_id.as_ref().unwrap().as_str(), "t-9");
        assert_eq!(r.correlation_id.as_ref().unwrap().as_str(), "batch-1");
    }
}

#[tokio::test]
async fn a_base_url_with_a_path_prefix_keeps_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/proxy/resources/v1/messaging"))
        .respond_with(ResponseTemplate::new(200).set_body_json(queued("t-1")))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&format!("{}/proxy", server.uri()));
    c.send(&phone(1), text("Hi")).await.unwrap();
}

// ---- response shapes -------------------------------------------------------------------

async fn answer(response: ResponseTemplate) -> (Result<(), Error>, usize) {
    let server = mock_answering(response).await;
    let c = builder(&server.uri())
        .retry_policy(RetryPolicy::none())
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let result = c
        .message(phone(1), text("Hi"))
        .correlation_id(CorrelationId::new("corr-9").unwrap())
        .send()
        .await
        .map(|_| ());
    (result, server.received_requests().await.unwrap().len())
}

#[tokio::test]
async fn array_success_is_a_receipt() {
    let body = json!({"response": [{"code": "1001", "transid": "3f09295d", "description": "Queued in burst mode"}]});
    let server = mock_answering(ResponseTemplate::new(200).set_body_json(body)).await;
    let r = client(&server.uri())
        .send(&phone(1), text("Hi"))
        .await
        .unwrap();
    let line = r.to_string();
    let correlation = r.correlation_id.clone().unwrap();
    assert_eq!(
        line,
        format!("queued, transid 3f09295d, correlation id {correlation}")
    );
    assert!(
        !line.contains("447400"),
        "the receipt line leaves the number out: {line}"
    );
    assert_eq!(r.transaction_id.unwrap().as_str(), "3f09295d");
    assert_eq!(r.description.as_deref(), Some("Queued in burst mode"));
}

#[tokio::test]
async fn object_rejection_with_http_200_is_rejected() {
    let (r, n) =
        answer(ResponseTemplate::new(200).set_body_json(rejected("7108", "Invalid template ID")))
            .await;
    let e = r.unwrap_err();
    assert!(matches!(e, Error::Rejected { .. }), "{e:?}");
    assert_eq!(e.code(), Some(&ResponseCode::InvalidTemplateId));
    assert_eq!(e.status(), Some(200));
    assert_eq!(e.transaction_id().unwrap().as_str(), "rej-1");
    assert_eq!(e.correlation_id().unwrap().as_str(), "corr-9");
    assert!(!e.is_retryable());
    assert!(!e.is_outcome_unknown());
    assert!(e.to_string().contains("7108"), "{e}");
    assert!(e.to_string().contains("not queued"), "{e}");
    assert_eq!(n, 1);
}

#[tokio::test]
async fn object_rejection_with_http_400_is_rejected() {
    let (r, _) =
        answer(ResponseTemplate::new(400).set_body_json(rejected("7004", "Invalid parameters")))
            .await;
    let e = r.unwrap_err();
    assert_eq!(e.code(), Some(&ResponseCode::InvalidParameters));
    assert_eq!(e.status(), Some(400));
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn auth_failures_are_authentication_errors() {
    let (r, _) = answer(
        ResponseTemplate::new(400).set_body_json(rejected("7001", "Authentication failed.")),
    )
    .await;
    let e = r.unwrap_err();
    assert!(matches!(e, Error::Authentication { .. }), "{e:?}");
    assert_eq!(e.code(), Some(&ResponseCode::AuthenticationFailed));

    let (r, _) = answer(ResponseTemplate::new(401).set_body_string("Unauthorized")).await;
    let e = r.unwrap_err();
    assert!(
        matches!(e, Error::Authentication { status: 401, .. }),
        "{e:?}"
    );
    assert!(!e.is_retryable());
    assert!(!e.is_outcome_unknown());
}

#[tokio::test]
async fn http_429_with_retry_after_is_rate_limited() {
    let (r, _) = answer(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "7")
            .set_body_string("slow down"),
    )
    .await;
    let e = r.unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert!(e.is_retryable());
    assert!(e.to_string().contains("7000 ms"), "{e}");
}

#[tokio::test]
async fn code_7020_is_rate_limited() {
    let (r, _) = answer(ResponseTemplate::new(200).set_body_json(rejected(
        "7020",
        "You have reached the maximum transaction limit",
    )))
    .await;
    let e = r.unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }), "{e:?}");
    assert_eq!(e.code(), Some(&ResponseCode::RateLimited));
    assert!(e.is_retryable());
}

#[tokio::test]
async fn http_500_with_garbage_is_a_server_error_with_an_unknown_outcome() {
    let (r, n) = answer(ResponseTemplate::new(500).set_body_string("<html>oops</html>")).await;
    let e = r.unwrap_err();
    assert!(
        matches!(
            e,
            Error::OutcomeUnknown {
                reason: OutcomeUnknownReason::ServerError,
                status: Some(500),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_outcome_unknown());
    assert!(!e.is_retryable());
    assert_eq!(e.correlation_id().unwrap().as_str(), "corr-9");
    assert_eq!(n, 1);
}

#[tokio::test]
async fn http_500_with_7006_is_an_unknown_outcome_not_a_rejection() {
    let (r, _) = answer(
        ResponseTemplate::new(500).set_body_json(rejected("7006", "Internal error occurred")),
    )
    .await;
    let e = r.unwrap_err();
    assert_eq!(e.code(), Some(&ResponseCode::InternalError));
    assert_eq!(
        e.outcome_unknown_reason(),
        Some(OutcomeUnknownReason::InternalError)
    );
    assert!(!e.is_retryable());
    assert!(e.is_outcome_unknown());
    assert!(!e.to_string().contains("not queued"), "{e}");
}

#[tokio::test]
async fn http_503_without_body_is_an_unknown_outcome() {
    let (r, _) = answer(ResponseTemplate::new(503).insert_header("retry-after", "2")).await;
    let e = r.unwrap_err();
    assert!(
        matches!(
            e,
            Error::OutcomeUnknown {
                status: Some(503),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.is_retryable());
    assert!(e.is_outcome_unknown());
    // Kept for a caller that decides to resend anyway.
    assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
}

#[tokio::test]
async fn http_408_is_not_received_and_retryable() {
    let (r, n) = answer(ResponseTemplate::new(408)).await;
    let e = r.unwrap_err();
    assert!(matches!(e, Error::NotReceived { status: 408, .. }), "{e:?}");
    assert!(e.is_retryable());
    assert!(!e.is_outcome_unknown());
    assert_eq!(e.correlation_id().unwrap().as_str(), "corr-9");
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_non_5xx_unreadable_body_stays_undecodable() {
    let (r, _) = answer(ResponseTemplate::new(404).set_body_string("<html>nope</html>")).await;
    let e = r.unwrap_err();
    match &e {
        Error::Undecodable {
            status,
            body,
            truncated,
            ..
        } => {
            assert_eq!(*status, 404);
            assert_eq!(body, "<html>nope</html>");
            assert!(!truncated);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.is_outcome_unknown());
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn garbage_200_body_is_truncated_and_unknown() {
    let garbage = "x".repeat(5000);
    let (r, _) = answer(ResponseTemplate::new(200).set_body_string(garbage)).await;
    let e = r.unwrap_err();
    match &e {
        Error::Undecodable {
            body, truncated, ..
        } => {
            assert_eq!(
                body.chars().count(),
                webex_connect_whatsapp::client::MAX_RAW_BODY_CHARS
            );
            assert!(truncated);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.is_outcome_unknown());
    assert!(e.to_string().contains("truncated"), "{e}");
}

#[tokio::test]
async fn a_timeout_is_outcome_unknown_and_sent_once() {
    let (r, n) = answer(
        ResponseTemplate::new(200)
            .set_body_json(queued("late"))
            .set_delay(Duration::from_secs(3)),
    )
    .await;
    let e = r.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e:?}");
    assert!(e.is_timeout());
    assert!(!e.is_retryable());
    assert_eq!(e.correlation_id().unwrap().as_str(), "corr-9");
    assert!(e.to_string().contains("corr-9"), "{e}");
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_timeout_is_not_retried_even_with_retries_on() {
    let server = mock_answering(
        ResponseTemplate::new(200)
            .set_body_json(queued("late"))
            .set_delay(Duration::from_secs(3)),
    )
    .await;
    let c = builder(&server.uri())
        .request_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let e = c.send(&phone(1), text("Hi")).await.unwrap_err();
    assert!(e.is_outcome_unknown());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

// ---- validation, configuration and secrets ----------------------------------------------

#[tokio::test]
async fn an_invalid_request_costs_no_request() {
    let server =
        mock_answering_times(ResponseTemplate::new(200).set_body_json(queued("t")), 0).await;
    let e = client(&server.uri())
        .message(phone(1), text("Hi"))
        .notify_url("http://example.com/dlr".parse().unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e:?}");
    assert!(!e.is_retryable());
    let source = std::error::Error::source(&e).unwrap().to_string();
    assert!(source.contains("notifyurl"), "{source}");
}

#[test]
fn http_is_refused_except_on_loopback() {
    let build = |url: &str| {
        Client::builder()
            .service_key(KEY)
            .app_id(AppId::new(APP).unwrap())
            .base_url(url.parse().unwrap())
            .build()
    };
    let e = build("http://api.example.com").unwrap_err();
    assert!(matches!(e, Error::Config { .. }));
    assert!(e.to_string().contains("only https"), "{e}");
    assert!(build("ftp://127.0.0.1").is_err());
    assert!(build("http://127.0.0.1:9").is_ok());
    assert!(build("http://localhost:9").is_ok());
    assert!(build("http://[::1]:9").is_ok());
    assert!(build("https://api.example.com").is_ok());
}

#[test]
fn builder_reports_missing_settings_and_the_first_error() {
    let e = Client::builder()
        .app_id(AppId::new(APP).unwrap())
        .region(Region::Us)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("no credentials"), "{e}");
    let e = Client::builder()
        .service_key(KEY)
        .region(Region::Us)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("no app id"), "{e}");
    let e = Client::builder()
        .service_key("")
        .rate_limit(0)
        .app_id(AppId::new(APP).unwrap())
        .region(Region::Us)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("service key is empty"), "{e}");
    let e = Client::builder()
        .jwt("svc", "not base64 !!")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("base64"), "{e}");
}

#[test]
fn regions_map_to_hosts() {
    let c = Client::builder()
        .service_key(KEY)
        .app_id(AppId::new(APP).unwrap())
        .region("uk".parse().unwrap())
        .build()
        .unwrap();
    assert_eq!(
        c.endpoint().as_str(),
        "https://api.uk.webexconnect.io/resources/v1/messaging"
    );
    for (name, host) in [
        ("us", "api.us.webexconnect.io"),
        ("us1", "api.us1.webexconnect.io"),
        ("eu", "api.eu.webexconnect.io"),
        ("ca", "api.ca.webexconnect.io"),
        ("au", "api.au.webexconnect.io"),
        ("in", "api.in.webexconnect.io"),
        ("legacy-emea", "api.imiconnect.io"),
        ("legacy-us", "api-us.imiconnect.io"),
        ("api.imiconnect.com", "api.imiconnect.com"),
    ] {
        assert_eq!(name.parse::<Region>().unwrap().host(), host);
    }
    let e = "mars".parse::<Region>().unwrap_err();
    assert!(e.to_string().contains("us, us1, eu"), "{e}");
}

#[tokio::test]
async fn secrets_never_show_in_debug_or_errors() {
    let key = ServiceKey::new(KEY).unwrap();
    assert_eq!(format!("{key:?}"), "ServiceKey(***)");
    assert_eq!(key.to_string(), "ServiceKey(***)");

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header_exists("key"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let debug = format!("{c:?}");
    assert!(!debug.contains(KEY), "{debug}");
    assert!(debug.contains("ServiceKey(***)"), "{debug}");
    let e = c.send(&phone(1), text("Hi")).await.unwrap_err();
    for shown in [format!("{e:?}"), e.to_string()] {
        assert!(!shown.contains(KEY), "{shown}");
    }

    let jwt = Client::builder()
        .jwt("service-1", "c3VwZXItc2VjcmV0LXZhbHVl")
        .app_id(AppId::new(APP).unwrap())
        .region(Region::Eu)
        .build()
        .unwrap();
    let debug = format!("{jwt:?}");
    assert!(!debug.contains("c3VwZXItc2VjcmV0LXZhbHVl"), "{debug}");
    assert!(!debug.contains("super-secret-value"), "{debug}");
}

#[tokio::test]
async fn receipts_mask_the_destination_in_debug() {
    let server = mock_answering(ResponseTemplate::new(200).set_body_json(queued("t-1"))).await;
    let r = client(&server.uri())
        .send(&phone(123_456), text("Hi"))
        .await
        .unwrap();
    let debug = format!("{r:?}");
    assert!(!debug.contains("447400123456"), "{debug}");
    assert!(debug.contains("4474****3456"), "{debug}");
}

#[tokio::test]
async fn http_503_with_a_rejection_body_is_still_an_unknown_outcome() {
    let (r, _) =
        answer(ResponseTemplate::new(503).set_body_json(rejected("7004", "Invalid parameters")))
            .await;
    let e = r.unwrap_err();
    assert_eq!(
        e.outcome_unknown_reason(),
        Some(OutcomeUnknownReason::ServerError)
    );
    // The body's code is kept for diagnosis, but the 5xx decides.
    assert_eq!(e.code(), Some(&ResponseCode::InvalidParameters));
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn a_queued_answer_with_a_5xx_status_is_still_queued() {
    let (r, n) = answer(ResponseTemplate::new(500).set_body_json(queued("t-odd"))).await;
    r.unwrap();
    assert_eq!(n, 1);
}

#[test]
fn one_destination_carries_its_correlation_id_at_the_top_level_too_and_several_do_not() {
    use webex_connect_whatsapp::send::{Destination, SendRequest};
    let id = |s: &str| CorrelationId::new(s).unwrap();
    let one = SendRequest::builder(
        AppId::new(APP).unwrap(),
        SessionMessage::text("Hi").unwrap(),
    )
    .destination(Destination::new(phone(1)).with_correlation_id(id("c-1")))
    .build()
    .unwrap();
    let wire = serde_json::to_value(&one).unwrap();
    assert_eq!(wire["correlationid"], "c-1");
    assert_eq!(wire["destination"][0]["correlationid"], "c-1");

    let two = SendRequest::builder(
        AppId::new(APP).unwrap(),
        SessionMessage::text("Hi").unwrap(),
    )
    .destination(Destination::new(phone(1)).with_correlation_id(id("c-1")))
    .destination(Destination::new(phone(2)).with_correlation_id(id("c-2")))
    .build()
    .unwrap();
    let wire = serde_json::to_value(&two).unwrap();
    assert!(wire.get("correlationid").is_none(), "{wire}");
}
