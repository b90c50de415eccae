//! The public contract of the platform-truth work, written as its users would: a username
//! user (BSUID, no phone number) is heard and answered, and a failed handler releases its event
//! so the platform's retry counts as new.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use webex_connect_whatsapp::receiver::{Received, Receiver};
use webex_connect_whatsapp::sandbox::Sandbox;
use webex_connect_whatsapp::webhook::WebhookEvent;
use webex_connect_whatsapp::webhook::signature::WebhookSecret;
use webex_connect_whatsapp::{Bsuid, PhoneNumber, Recipient, SessionMessage};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::test]
async fn a_username_user_is_heard_and_answered() -> Result<(), BoxError> {
    for bad in ["13491208655302741918", "US.", "US.a-b"] {
        assert!(Bsuid::new(bad).is_err(), "{bad}");
    }
    let b = Bsuid::new("US.13491208655302741918")?;
    assert_eq!(b.as_str(), "US.13491208655302741918");
    let to: Recipient = b.clone().into();
    let _also: Recipient = PhoneNumber::parse("+44 7400 123456")?.into();

    let sandbox = Sandbox::start().await?;
    let client = sandbox.client_builder().build()?;
    let receipt = client.send(&to, SessionMessage::text("hi")?).await?;
    assert_eq!(receipt.destination, "US.13491208655302741918");
    let request: serde_json::Value = serde_json::from_str(&sandbox.requests()[0].body)?;
    assert_eq!(
        request["destination"][0],
        serde_json::json!({"bsuid": ["US.13491208655302741918"], "correlationid": receipt.correlation_id.unwrap().as_str()})
    );

    // An inbound message from the same user, with no waid.
    let body = format!(
        r#"{{"userId":"{}","username":"grace","channel":"WhatsApp","appId":"a_1","event":"MO","waid":"","message":"hello","tid":"t-1","ts":"2026-05-04T09:49:21.157Z"}}"#,
        b.as_str()
    );
    let secret = WebhookSecret::new("contract-secret")?;
    let webhooks = Receiver::builder().secret(secret.clone()).build()?;
    let signature = webex_connect_whatsapp::webhook::signature::sign(
        webex_connect_whatsapp::webhook::signature::SignatureAlgorithm::Sha256,
        &secret,
        body.as_bytes(),
    );
    let headers = [("x-hub-signature", signature.as_str())];
    let received = webhooks.receive(headers, body.as_bytes()).await?;
    let Received::New(event) = &received else {
        panic!("the first delivery is new")
    };
    if let WebhookEvent::Inbound(m) = event {
        assert_eq!(m.bsuid(), Some(&b));
        assert_eq!(m.username(), Some("grace"));
        assert_eq!(m.waid(), None);
    } else {
        panic!("an inbound message: {event:?}");
    }

    // The handler failed: release the event, and the platform's retry is new again.
    webhooks.release(received.event()).await?;
    let retry = webhooks.receive(headers, body.as_bytes()).await?;
    assert!(retry.is_new());
    // Handled this time: complete it, and a further retry is a duplicate.
    webhooks.complete(retry.event()).await?;
    assert!(matches!(
        webhooks.receive(headers, body.as_bytes()).await?,
        Received::Duplicate(_)
    ));
    Ok(())
}
