//! End to end: the crate's client sends through the sandbox, and the sandbox's signed
//! webhooks come back through the crate's axum receiver.
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use webex_connect_whatsapp::client::{Client, RetryPolicy};
use webex_connect_whatsapp::conversation::delivery::DeliveryState;
use webex_connect_whatsapp::receiver::{Receiver, axum::router};
use webex_connect_whatsapp::sandbox::{Sandbox, SandboxClock, SandboxUser};
use webex_connect_whatsapp::send::{ResponseCode, SendRequest};
use webex_connect_whatsapp::webhook::signature::WebhookSecret;
use webex_connect_whatsapp::webhook::{DeliveryCode, WebhookEvent};
use webex_connect_whatsapp::{Bsuid, PhoneNumber, SessionMessage, TemplateMessage, TransactionId};

#[path = "../examples/quickstart.rs"]
#[allow(dead_code, reason = "main and the live mode are not run by the test")]
mod quickstart;

const SECRET: &str = "e2e-hub-secret";
const CUSTOMER: &str = "+447400123456";
const TEMPLATE: &str = "5139722425";
const USERNAME_USER: &str = "US.13491208655302741918";

struct Harness {
    sandbox: Sandbox,
    clock: SandboxClock,
    receiver: Arc<Receiver>,
    events: Arc<Mutex<Vec<WebhookEvent>>>,
    client: Client,
}

impl Harness {
    async fn start() -> Self {
        let receiver = Arc::new(
            Receiver::builder()
                .secret(WebhookSecret::new(SECRET).unwrap())
                .build()
                .unwrap(),
        );
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        let app = router(Arc::clone(&receiver), move |event| {
            let sink = Arc::clone(&sink);
            async move { sink.lock().unwrap().push(event) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url: url::Url = format!("http://{}/hook", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let clock = SandboxClock::manual();
        let sandbox = Sandbox::builder()
            .clock(clock.clone())
            .webhook_secret(SECRET)
            .delivery_url(url.clone())
            .inbound_url(url)
            .receipt_delays(Duration::ZERO, Duration::ZERO, Duration::ZERO)
            .template(TEMPLATE, ["name", "order"])
            .start()
            .await
            .unwrap();
        let client = client(&sandbox, sandbox.service_key());
        Self {
            sandbox,
            clock,
            receiver,
            events,
            client,
        }
    }

    /// Waits for the sandbox to post everything, then for the spawned handlers to run.
    async fn settle(&self, handled: usize) -> Vec<WebhookEvent> {
        self.sandbox.settled().await;
        for _ in 0..500 {
            if self.events.lock().unwrap().len() >= handled {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.events.lock().unwrap().clone()
    }
}

fn client(sandbox: &Sandbox, key: &str) -> Client {
    Client::builder()
        .service_key(key)
        .app_id(sandbox.app_id())
        .base_url(sandbox.base_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn session(value: serde_json::Value) -> SessionMessage {
    serde_json::from_value(value).unwrap()
}

fn template(id: &str) -> TemplateMessage {
    serde_json::from_value(json!({
        "template": id,
        "parameters": { "name": "Ana", "order": "#1042" }
    }))
    .unwrap()
}

fn every_session_type() -> Vec<(&'static str, SessionMessage)> {
    let media = |kind: &str, url: &str, mime: &str| {
        session(json!({ "type": kind, kind: { "url": url, "mimeType": mime } }))
    };
    vec![
        (
            "text",
            session(json!({"type": "text", "text": {"body": "Hello"}})),
        ),
        (
            "image",
            media("image", "https://example.com/a.jpg", "image/jpeg"),
        ),
        (
            "audio",
            media(
                "audio",
                "https://example.com/a.ogg",
                "audio/ogg; codecs=opus",
            ),
        ),
        (
            "video",
            media("video", "https://example.com/a.mp4", "video/mp4"),
        ),
        (
            "document",
            media("document", "https://example.com/a.pdf", "application/pdf"),
        ),
        (
            "sticker",
            media("sticker", "https://example.com/a.webp", "image/webp"),
        ),
        (
            "location",
            session(json!({"type": "location", "location": {
                "longitude": -0.1196, "latitude": 51.5033, "name": "Pickup", "address": "London"
            }})),
        ),
        (
            "contacts",
            session(json!({"type": "contacts", "contacts": [{
                "name": {"formatted_name": "Ana Silva", "first_name": "Ana"},
                "phones": [{"phone": "+447400123456", "type": "CELL"}]
            }]})),
        ),
    ]
}

#[tokio::test]
async fn every_message_type_is_sent_and_its_receipts_arrive_verified() {
    let h = Harness::start().await;
    let to = PhoneNumber::parse(CUSTOMER).unwrap();
    h.sandbox.inbound_text(to.waid(), "hi").await.unwrap();

    let mut sent: Vec<(&str, TransactionId)> = Vec::new();
    for (kind, message) in every_session_type() {
        let receipt = h.client.send(&to, message).await.unwrap();
        sent.push((kind, receipt.transaction_id.unwrap()));
    }
    let receipt = h.client.send(&to, template(TEMPLATE)).await.unwrap();
    sent.push(("template", receipt.transaction_id.unwrap()));
    assert_eq!(sent.len(), 9);

    // 1 inbound message + 3 receipts per message.
    let events = h.settle(1 + 3 * sent.len()).await;
    let mut codes: HashMap<String, Vec<String>> = HashMap::new();
    let mut inbound = 0;
    for event in &events {
        match event {
            WebhookEvent::DeliveryReceipt(r) => {
                assert_eq!(r.destination(), Some(to.waid()));
                assert!(r.correlation_id().is_some(), "the client's id is echoed");
                codes
                    .entry(r.transaction_id().unwrap().to_string())
                    .or_default()
                    .push(r.code().as_str().to_owned());
            }
            WebhookEvent::Inbound(m) => {
                assert_eq!(m.text(), Some("hi"));
                inbound += 1;
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    assert_eq!(inbound, 1);
    for (kind, transid) in &sent {
        let mut got = codes.remove(transid.as_str()).unwrap_or_default();
        got.sort();
        assert_eq!(
            got,
            ["7500", "7501", "7502"],
            "receipts of the {kind} message"
        );
        assert_eq!(
            h.receiver.tracker().overall(transid),
            Some(DeliveryState::Read),
            "{kind}"
        );
    }
    assert!(codes.is_empty(), "receipts for unknown messages: {codes:?}");

    // Every webhook was signed and accepted at the first attempt.
    let stats = h.receiver.stats();
    assert_eq!(stats.bad_signature, 0);
    assert_eq!(stats.duplicates, 0);
    assert_eq!(stats.new_events, 28);
    for webhook in h.sandbox.webhooks() {
        assert!(webhook.signature.is_some());
        assert!(webhook.delivered);
        assert_eq!((webhook.attempts, webhook.status), (1, Some(200)));
    }
}

#[tokio::test]
async fn a_session_message_after_the_window_fails_with_7710() {
    let h = Harness::start().await;
    let to = PhoneNumber::parse(CUSTOMER).unwrap();
    h.sandbox.inbound_text(to.waid(), "hi").await.unwrap();
    h.clock.advance(Duration::from_secs(24 * 60 * 60 + 1));

    let text = session(json!({"type": "text", "text": {"body": "too late"}}));
    let transid = h
        .client
        .send(&to, text)
        .await
        .unwrap()
        .transaction_id
        .unwrap();
    let events = h.settle(2).await;

    assert_eq!(
        h.receiver.tracker().overall(&transid),
        Some(DeliveryState::Failed(DeliveryCode::ReEngagement))
    );
    let failed = events
        .iter()
        .find_map(|e| match e {
            WebhookEvent::DeliveryReceipt(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(failed.code().as_str(), "7710");
    assert!(failed.code().is_permanent());

    // A template is still allowed outside the window.
    let transid = h
        .client
        .send(&to, template(TEMPLATE))
        .await
        .unwrap()
        .transaction_id
        .unwrap();
    h.settle(5).await;
    assert_eq!(
        h.receiver.tracker().overall(&transid),
        Some(DeliveryState::Read)
    );
}

#[tokio::test]
async fn an_unknown_template_is_rejected_with_7108() {
    let h = Harness::start().await;
    let to = PhoneNumber::parse(CUSTOMER).unwrap();
    let err = h.client.send(&to, template("999")).await.unwrap_err();
    assert_eq!(err.code(), Some(&ResponseCode::InvalidTemplateId));
    assert!(!err.is_outcome_unknown());
    assert!(h.sandbox.messages().is_empty());
}

#[tokio::test]
async fn a_bad_service_key_is_rejected_with_7001() {
    let h = Harness::start().await;
    let to = PhoneNumber::parse(CUSTOMER).unwrap();
    let bad = client(&h.sandbox, "not-the-key");
    let text = session(json!({"type": "text", "text": {"body": "hi"}}));
    let err = bad.send(&to, text).await.unwrap_err();
    assert_eq!(err.code(), Some(&ResponseCode::AuthenticationFailed));
    assert!(!err.is_outcome_unknown());
    assert!(h.sandbox.messages().is_empty());
}

fn receipts(events: &[WebhookEvent]) -> Vec<(String, String, String)> {
    let mut receipts: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            WebhookEvent::DeliveryReceipt(r) => Some((
                r.transaction_id().unwrap().to_string(),
                r.destination().unwrap().to_owned(),
                r.code().as_str().to_owned(),
            )),
            _ => None,
        })
        .collect();
    receipts.sort();
    receipts
}

#[tokio::test]
async fn a_username_user_is_heard_and_answered_by_bsuid() {
    let h = Harness::start().await;
    let asha = Bsuid::new(USERNAME_USER).unwrap();
    h.sandbox
        .inbound_text_from(&SandboxUser::by_username(asha.clone(), "asha"), "hi")
        .await
        .unwrap();
    let text = session(json!({"type": "text", "text": {"body": "hello Asha"}}));
    let receipt = h.client.send(&asha, text).await.unwrap();
    assert_eq!(receipt.destination, USERNAME_USER);
    let transid = receipt.transaction_id.unwrap();

    let events = h.settle(4).await;
    let WebhookEvent::Inbound(m) = &events[0] else {
        panic!("{:?}", events[0]);
    };
    assert_eq!((m.waid(), m.bsuid()), (None, Some(&asha)));
    assert_eq!(m.username(), Some("asha"));
    let got = receipts(&events);
    let want: Vec<_> = ["7500", "7501", "7502"]
        .map(|c| (transid.to_string(), USERNAME_USER.to_owned(), c.to_owned()))
        .into();
    assert_eq!(got, want);
    assert!(events.iter().all(|e| match e {
        WebhookEvent::DeliveryReceipt(r) => r.destination_type() == Some("bsuid"),
        _ => true,
    }));
    let sent = h.sandbox.message(&transid).unwrap();
    assert_eq!(sent.destination, USERNAME_USER);
}

#[tokio::test]
async fn an_event_the_crate_does_not_model_reaches_the_handler() {
    let h = Harness::start().await;
    let user = SandboxUser::phone(CUSTOMER).unwrap();
    let extra = json!({"reaction": {"emoji": "👍", "message_id": "wamid.1"}});
    let sent = h
        .sandbox
        .send_event("reaction", &user, extra)
        .await
        .unwrap();
    assert!(sent.delivered);
    assert_eq!(sent.attempts, 1);
    let events = h.settle(1).await;
    match &events[..] {
        [WebhookEvent::Unknown(e)] => {
            assert_eq!(e.event(), Some("reaction"));
            assert_eq!(e.pointer("/reaction/emoji"), Some(json!("👍")));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_request_to_three_destinations_gets_every_receipt_to_the_handler() {
    let h = Harness::start().await;
    let ana = PhoneNumber::parse(CUSTOMER).unwrap();
    let ben = PhoneNumber::parse("+12025550143").unwrap();
    let asha = Bsuid::new(USERNAME_USER).unwrap();
    h.sandbox.inbound_text(ana.waid(), "hi").await.unwrap();
    h.sandbox.inbound_text(ben.waid(), "hi").await.unwrap();
    h.sandbox
        .inbound_text_from(&SandboxUser::by_username(asha.clone(), "asha"), "hi")
        .await
        .unwrap();
    let text = session(json!({"type": "text", "text": {"body": "sale today"}}));
    let request = SendRequest::builder(h.sandbox.app_id(), text)
        .to(&ana)
        .to(&ben)
        .to(&asha)
        .build()
        .unwrap();
    let outcome = h.client.send_request(&request).await.unwrap();
    let sent: Vec<_> = outcome.receipts().collect();
    assert_eq!(sent.len(), 3);
    let transid = sent[0].transaction_id.clone().unwrap();
    assert!(
        sent.iter()
            .all(|r| r.transaction_id.as_ref() == Some(&transid))
    );

    let events = h.settle(3 + 9).await;
    let mut want = Vec::new();
    for to in [ana.waid(), ben.waid(), USERNAME_USER] {
        for code in ["7500", "7501", "7502"] {
            want.push((transid.to_string(), to.to_owned(), code.to_owned()));
        }
    }
    want.sort();
    assert_eq!(receipts(&events), want);
    assert_eq!(h.receiver.stats().duplicates, 0);
}

#[tokio::test]
async fn the_quickstart_runs_offline() {
    let summary = quickstart::run_offline().await.unwrap();
    assert_eq!(summary.read.len(), 5);
    assert!(summary.failed.is_some());
    // 5 messages with 3 receipts each (one to a username user's BSUID), then one Failed.
    assert_eq!(summary.receipts, 16);
    assert_eq!(summary.inbound, 2);
}
