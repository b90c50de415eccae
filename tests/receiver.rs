//! The webhook receiver: the framework-free core, and the axum router over real HTTP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use webex_connect_whatsapp::receiver::{DeliveryState, ReceiveError, Received, Receiver};
use webex_connect_whatsapp::webhook::signature::{self, SignatureAlgorithm};
use webex_connect_whatsapp::webhook::{
    DeliveryCode, DeliveryReceipt, DeliveryStatus, InboundMessage, WebhookError, WebhookSecret,
};

const SECRET: &str = "receiver-test-secret";

fn secret() -> WebhookSecret {
    WebhookSecret::new(SECRET).unwrap()
}

fn receipt(transid: &str, status: DeliveryStatus) -> String {
    DeliveryReceipt::builder(transid, status)
        .destination("447400123456")
        .build()
        .raw()
        .to_owned()
}

fn failed(transid: &str, code: DeliveryCode) -> String {
    DeliveryReceipt::builder(transid, DeliveryStatus::Failed)
        .code(code)
        .build()
        .raw()
        .to_owned()
}

fn inbound(tid: &str) -> String {
    InboundMessage::builder("a_1", "447400123456")
        .text("hello")
        .tid(tid)
        .build()
        .unwrap()
        .raw()
        .to_owned()
}

fn sig(body: &str) -> String {
    signature::sign(SignatureAlgorithm::Sha256, &secret(), body.as_bytes())
}

fn signed(body: &str) -> [(&'static str, String); 1] {
    [("x-hub-signature", sig(body))]
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("tests/fixtures/{name}")).unwrap()
}

mod core {
    use super::*;

    #[tokio::test]
    async fn a_good_signature_is_accepted() {
        let rx = Receiver::builder().secret(secret()).build();
        let body = receipt("t1", DeliveryStatus::Delivered);
        let got = rx.receive(signed(&body), body.as_bytes()).await.unwrap();
        assert!(got.is_new());
        assert_eq!(got.event().raw(), body);

        let sha512 = format!(
            "sha512={}",
            signature::sign(SignatureAlgorithm::Sha512, &secret(), body.as_bytes())
        );
        let err = rx
            .receive([("X-Hub-Signature", sha512)], body.as_bytes())
            .await;
        assert!(matches!(err, Ok(Received::Duplicate(_))), "{err:?}");
    }

    #[tokio::test]
    async fn a_wrong_or_missing_signature_is_401() {
        let rx = Receiver::builder().secret(secret()).build();
        let body = receipt("t1", DeliveryStatus::Delivered);

        let other = WebhookSecret::new("another secret").unwrap();
        let wrong = signature::sign(SignatureAlgorithm::Sha256, &other, body.as_bytes());
        let err = rx
            .receive([("x-hub-signature", wrong)], body.as_bytes())
            .await
            .unwrap_err();
        assert_eq!(err.status(), 401);

        let none: [(&str, &str); 0] = [];
        let err = rx.receive(none, body.as_bytes()).await.unwrap_err();
        assert!(matches!(
            err,
            ReceiveError::Signature(signature::SignatureError::Missing)
        ));
        assert_eq!(err.status(), 401);

        // Signed for another body.
        let err = rx.receive(signed("{}"), body.as_bytes()).await.unwrap_err();
        assert_eq!(err.status(), 401);
        assert!(!err.to_string().contains(SECRET));
        assert_eq!(rx.stats().bad_signature, 3);
        assert_eq!(rx.stats().new_events, 0);
    }

    #[tokio::test]
    async fn without_a_secret_signatures_are_not_required() {
        let rx = Receiver::builder().build();
        let none: [(&str, &str); 0] = [];
        let body = inbound("x_0");
        assert!(rx.receive(none, body.as_bytes()).await.unwrap().is_new());
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_413() {
        let rx = Receiver::builder()
            .secret(secret())
            .max_body_bytes(100)
            .build();
        let body = receipt("t1", DeliveryStatus::Delivered);
        assert!(body.len() > 100);
        let err = rx
            .receive(signed(&body), body.as_bytes())
            .await
            .unwrap_err();
        assert!(matches!(err, ReceiveError::TooLarge { max: 100, .. }));
        assert_eq!(err.status(), 413);
        assert_eq!(rx.stats().too_large, 1);
    }

    #[tokio::test]
    async fn non_json_and_unknown_events_are_400() {
        let rx = Receiver::builder().secret(secret()).build();
        for body in [
            "not json",
            "[1,2]",
            r#"{"event":"reaction","waid":"1"}"#,
            "{}",
        ] {
            let err = rx.receive(signed(body), body.as_bytes()).await.unwrap_err();
            assert_eq!(err.status(), 400, "{body}");
            assert!(matches!(err, ReceiveError::Invalid(_)));
        }
        let body = r#"{"event":"reaction","waid":"1"}"#;
        let err = rx.receive(signed(body), body.as_bytes()).await.unwrap_err();
        assert!(matches!(
            err,
            ReceiveError::Invalid(WebhookError::UnknownEvent { event: Some(ref e) }) if e == "reaction"
        ));
        assert_eq!(rx.stats().invalid, 5);
    }

    #[tokio::test]
    async fn duplicates_are_counted_not_delivered_twice() {
        let rx = Receiver::builder().build();
        let none: [(&str, &str); 0] = [];
        let delivered = receipt("t1", DeliveryStatus::Delivered);
        let read = receipt("t1", DeliveryStatus::Read);
        let mo = inbound("tid_0");
        let mut new = 0;
        for body in [&delivered, &read, &mo, &delivered, &mo, &read, &delivered] {
            if rx.receive(none, body.as_bytes()).await.unwrap().is_new() {
                new += 1;
            }
        }
        assert_eq!(new, 3);
        let stats = rx.stats();
        assert_eq!((stats.new_events, stats.duplicates), (3, 4));
    }

    #[tokio::test]
    async fn the_faq_fixtures_are_received() {
        let rx = Receiver::builder().build();
        let none: [(&str, &str); 0] = [];
        for name in [
            "delivery_submitted.json",
            "delivery_delivered.json",
            "delivery_read.json",
            "delivery_failed_7710.json",
            "inbound_text.json",
            "inbound_image.json",
            "inbound_location.json",
            "inbound_postback.json",
        ] {
            let got = rx.receive(none, &fixture(name)).await;
            assert!(got.is_ok(), "{name}: {got:?}");
        }
    }

    #[tokio::test]
    async fn read_before_delivered_stays_read() {
        let rx = Receiver::builder().build();
        let none: [(&str, &str); 0] = [];
        for status in [
            DeliveryStatus::Submitted,
            DeliveryStatus::Read,
            DeliveryStatus::Delivered,
        ] {
            let body = receipt("t-ooo", status);
            rx.receive(none, body.as_bytes()).await.unwrap();
        }
        let state = rx.tracker().get("t-ooo").unwrap();
        assert_eq!(state, DeliveryState::Read);
        assert!(state.is_delivered(), "read implies delivered");
    }

    #[tokio::test]
    async fn failed_is_kept_with_its_code() {
        let rx = Receiver::builder().build();
        let none: [(&str, &str); 0] = [];
        let bodies = [
            receipt("t-f", DeliveryStatus::Submitted),
            failed("t-f", DeliveryCode::ReEngagement),
            receipt("t-f", DeliveryStatus::Delivered),
            failed("t-f", DeliveryCode::MessageTooLong),
        ];
        for body in &bodies {
            rx.receive(none, body.as_bytes()).await.unwrap();
        }
        let state = rx.tracker().get("t-f").unwrap();
        assert_eq!(state, DeliveryState::Failed(DeliveryCode::ReEngagement));
        assert_eq!(state.failure_code().map(DeliveryCode::as_str), Some("7710"));
    }

    #[tokio::test]
    async fn the_tracker_is_bounded() {
        let rx = Receiver::builder().tracked_messages(10).build();
        let none: [(&str, &str); 0] = [];
        for i in 0..25 {
            let body = receipt(&format!("t{i}"), DeliveryStatus::Delivered);
            rx.receive(none, body.as_bytes()).await.unwrap();
        }
        assert_eq!(rx.tracker().len(), 10);
        assert_eq!(rx.tracker().get("t0"), None);
        assert_eq!(rx.tracker().get("t24"), Some(DeliveryState::Delivered));
    }
}

#[cfg(feature = "axum")]
mod http {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use reqwest::StatusCode;
    use webex_connect_whatsapp::receiver::axum::router;
    use webex_connect_whatsapp::webhook::WebhookEvent;

    use super::*;

    struct Server {
        url: String,
        receiver: Arc<Receiver>,
        handled: Arc<Mutex<Vec<WebhookEvent>>>,
        http: reqwest::Client,
    }

    async fn serve(receiver: Receiver) -> Server {
        let receiver = Arc::new(receiver);
        let handled = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&handled);
        let app = axum::Router::new().nest_service(
            "/webhooks",
            router(Arc::clone(&receiver), move |event| {
                let sink = Arc::clone(&sink);
                async move { sink.lock().unwrap().push(event) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks/wa", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Server {
            url,
            receiver,
            handled,
            http,
        }
    }

    impl Server {
        async fn post(&self, body: &str, signature: Option<&str>) -> StatusCode {
            let mut request = self
                .http
                .post(&self.url)
                .header("content-type", "application/json")
                .body(body.to_owned());
            if let Some(sig) = signature {
                request = request.header("x-hub-signature", sig);
            }
            request.send().await.unwrap().status()
        }

        /// Waits for the spawned handlers to have run `n` times in all.
        async fn handled(&self, n: usize) -> Vec<WebhookEvent> {
            for _ in 0..500 {
                if self.handled.lock().unwrap().len() >= n {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            self.handled.lock().unwrap().clone()
        }
    }

    #[tokio::test]
    async fn a_good_signature_gets_200_and_a_typed_event() {
        let s = serve(Receiver::builder().secret(secret()).build()).await;
        let body = receipt("t1", DeliveryStatus::Read);
        assert_eq!(s.post(&body, Some(&sig(&body))).await, StatusCode::OK);
        let mo = inbound("m_0");
        assert_eq!(s.post(&mo, Some(&sig(&mo))).await, StatusCode::OK);
        let events = s.handled(2).await;
        assert_eq!(events.len(), 2);
        assert!(events.iter().any(|e| matches!(
            e,
            WebhookEvent::DeliveryReceipt(r) if r.status() == &DeliveryStatus::Read
        )));
        assert!(events.iter().any(|e| matches!(
            e,
            WebhookEvent::Inbound(m) if m.text() == Some("hello")
        )));
    }

    #[tokio::test]
    async fn a_wrong_or_missing_signature_gets_401() {
        let s = serve(Receiver::builder().secret(secret()).build()).await;
        let body = receipt("t1", DeliveryStatus::Read);
        assert_eq!(
            s.post(&body, Some(&sig("{}"))).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(s.post(&body, Some("zz")).await, StatusCode::UNAUTHORIZED);
        assert_eq!(s.post(&body, None).await, StatusCode::UNAUTHORIZED);
        assert_eq!(s.receiver.stats().bad_signature, 3);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(s.handled.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_body_over_the_limit_gets_413() {
        let s = serve(
            Receiver::builder()
                .secret(secret())
                .max_body_bytes(1024)
                .build(),
        )
        .await;
        let big = format!(
            r#"{{"event":"MO","waid":"1","message":"{}"}}"#,
            "x".repeat(2000)
        );
        assert_eq!(
            s.post(&big, Some(&sig(&big))).await,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        // The default limit is 64 KiB.
        let s = serve(Receiver::builder().build()).await;
        let huge = format!(
            r#"{{"event":"MO","waid":"1","message":"{}"}}"#,
            "x".repeat(70_000)
        );
        assert_eq!(s.post(&huge, None).await, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(s.receiver.stats().too_large, 1);
    }

    #[tokio::test]
    async fn non_json_and_unknown_event_kinds_get_400() {
        let s = serve(Receiver::builder().secret(secret()).build()).await;
        for body in [
            "not json",
            r#"{"event":"reaction","waid":"1"}"#,
            r#"{"hello":1}"#,
        ] {
            assert_eq!(
                s.post(body, Some(&sig(body))).await,
                StatusCode::BAD_REQUEST,
                "{body}"
            );
        }
    }

    #[tokio::test]
    async fn a_duplicate_delivery_is_answered_200_and_handled_once() {
        let s = serve(Receiver::builder().secret(secret()).build()).await;
        let body = receipt("t-dup", DeliveryStatus::Delivered);
        for _ in 0..3 {
            assert_eq!(s.post(&body, Some(&sig(&body))).await, StatusCode::OK);
        }
        let mo = inbound("dup_0");
        for _ in 0..2 {
            assert_eq!(s.post(&mo, Some(&sig(&mo))).await, StatusCode::OK);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(s.handled(2).await.len(), 2);
        let stats = s.receiver.stats();
        assert_eq!((stats.new_events, stats.duplicates), (2, 3));
    }

    #[tokio::test]
    async fn state_is_tracked_through_http() {
        let s = serve(Receiver::builder().build()).await;
        for body in [
            receipt("t-s", DeliveryStatus::Read),
            receipt("t-s", DeliveryStatus::Delivered),
            failed("t-f", DeliveryCode::ReEngagement),
            receipt("t-f", DeliveryStatus::Submitted),
        ] {
            assert_eq!(s.post(&body, None).await, StatusCode::OK);
        }
        assert_eq!(s.receiver.tracker().get("t-s"), Some(DeliveryState::Read));
        assert_eq!(
            s.receiver.tracker().get("t-f"),
            Some(DeliveryState::Failed(DeliveryCode::ReEngagement))
        );
    }

    #[tokio::test]
    async fn the_head_check_and_other_methods() {
        let s = serve(Receiver::builder().secret(secret()).build()).await;
        let head = s.http.head(&s.url).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        let put = s.http.put(&s.url).body("{}").send().await.unwrap();
        assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}
