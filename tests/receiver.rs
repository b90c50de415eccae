//! The webhook receiver: the framework-free core, and the axum router over real HTTP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use webex_connect_whatsapp::conversation::delivery::DeliveryState;
use webex_connect_whatsapp::receiver::{
    GTRID_HEADER, MAX_GTRID_CHARS, MAX_UNKNOWN_KINDS, OTHER_UNKNOWN_KINDS, ReceiveError, Received,
    Receiver,
};
use webex_connect_whatsapp::webhook::signature::{self, SignatureAlgorithm, WebhookSecret};
use webex_connect_whatsapp::webhook::{
    self, DeliveryCode, DeliveryReceipt, DeliveryStatus, InboundMessage, WebhookError, WebhookEvent,
};

const SECRET: &str = "receiver-test-secret";

fn secret() -> WebhookSecret {
    WebhookSecret::new(SECRET).unwrap()
}

const TO: &str = "447400123456";

fn receipt(transid: &str, status: DeliveryStatus) -> String {
    receipt_to(transid, TO, status)
}

fn receipt_to(transid: &str, destination: &str, status: DeliveryStatus) -> String {
    DeliveryReceipt::builder(transid, status)
        .destination(destination)
        .build()
        .raw()
        .to_owned()
}

fn failed(transid: &str, code: DeliveryCode) -> String {
    DeliveryReceipt::builder(transid, DeliveryStatus::Failed)
        .code(code)
        .destination(TO)
        .build()
        .raw()
        .to_owned()
}

const UNKNOWN: &str = r#"{"event":"reaction","waid":"1","emoji":"+1","tid":"r_0"}"#;

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

    /// One delivery through a handler that succeeds: received, and completed when new.
    async fn handled<I, K, V>(rx: &Receiver, headers: I, body: &[u8]) -> Received
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let got = rx.receive(headers, body).await.unwrap();
        if got.is_new() {
            rx.complete(got.event()).await.unwrap();
        }
        got
    }

    #[tokio::test]
    async fn a_good_signature_is_accepted() {
        let rx = Receiver::builder().secret(secret()).build().unwrap();
        let body = receipt("t1", DeliveryStatus::Delivered);
        let got = handled(&rx, signed(&body), body.as_bytes()).await;
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
        let rx = Receiver::builder().secret(secret()).build().unwrap();
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
        let rx = Receiver::builder().allow_unsigned().build().unwrap();
        let none: [(&str, &str); 0] = [];
        let body = inbound("x_0");
        assert!(rx.receive(none, body.as_bytes()).await.unwrap().is_new());
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_413() {
        let rx = Receiver::builder()
            .secret(secret())
            .max_body_bytes(100)
            .build()
            .unwrap();
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
    async fn only_bodies_that_are_not_json_objects_are_400() {
        let rx = Receiver::builder().secret(secret()).build().unwrap();
        for body in ["not json", "[1,2]", "\"text\"", "42", ""] {
            let err = rx.receive(signed(body), body.as_bytes()).await.unwrap_err();
            assert_eq!(err.status(), 400, "{body}");
            assert!(
                matches!(
                    err,
                    ReceiveError::Invalid(
                        WebhookError::NotJson { .. } | WebhookError::NotAnObject { .. }
                    )
                ),
                "{body}: {err:?}"
            );
        }
        assert_eq!(rx.stats().invalid, 5);
        assert_eq!(rx.stats().unknown_events, 0);
    }

    #[tokio::test]
    async fn unknown_event_kinds_are_accepted_counted_and_deduplicated() {
        let rx = Receiver::builder().secret(secret()).build().unwrap();
        for body in [
            UNKNOWN,
            r#"{"event":"user_id_update","userId":"US.13491208655302741918"}"#,
            r#"{"event":"reaction","waid":"2","emoji":"+1"}"#,
            "{}",
        ] {
            let got = handled(&rx, signed(body), body.as_bytes()).await;
            assert!(got.is_new(), "{body}");
            assert!(
                matches!(got.event(), WebhookEvent::Unknown(u) if u.raw() == body),
                "{body}"
            );
        }
        // The platform's retry of the same body is a duplicate.
        let again = rx
            .receive(signed(UNKNOWN), UNKNOWN.as_bytes())
            .await
            .unwrap();
        assert!(!again.is_new());
        let stats = rx.stats();
        assert_eq!(
            (stats.unknown_events, stats.new_events, stats.invalid),
            (4, 4, 0)
        );
        assert_eq!(
            rx.unknown_event_kinds(),
            vec![
                ("reaction".to_owned(), 2),
                ("(none)".to_owned(), 1),
                ("user_id_update".to_owned(), 1),
            ]
        );
    }

    #[tokio::test]
    async fn unknown_event_kinds_are_counted_in_bounded_memory() {
        let rx = Receiver::builder().allow_unsigned().build().unwrap();
        let none: [(&str, &str); 0] = [];
        for i in 0..100 {
            let body = format!(r#"{{"event":"kind-{i}"}}"#);
            assert!(rx.receive(none, body.as_bytes()).await.unwrap().is_new());
        }
        let kinds = rx.unknown_event_kinds();
        assert_eq!(kinds.len(), MAX_UNKNOWN_KINDS + 1);
        assert_eq!(kinds.iter().map(|k| k.1).sum::<u64>(), 100);
        assert_eq!(
            kinds[0],
            (
                OTHER_UNKNOWN_KINDS.to_owned(),
                100 - MAX_UNKNOWN_KINDS as u64
            )
        );
        assert_eq!(rx.stats().unknown_events, 100);
    }

    #[tokio::test]
    async fn receipts_for_two_destinations_of_one_transid_are_both_new() {
        let rx = Receiver::builder().allow_unsigned().build().unwrap();
        let none: [(&str, &str); 0] = [];
        let a = receipt_to("t-multi", "447400000001", DeliveryStatus::Delivered);
        let b = receipt_to("t-multi", "447400000002", DeliveryStatus::Delivered);
        assert!(handled(&rx, none, a.as_bytes()).await.is_new());
        assert!(
            handled(&rx, none, b.as_bytes()).await.is_new(),
            "the second destination's receipt is not a duplicate"
        );
        assert!(!handled(&rx, none, b.as_bytes()).await.is_new());
        let read_a = receipt_to("t-multi", "447400000001", DeliveryStatus::Read);
        assert!(handled(&rx, none, read_a.as_bytes()).await.is_new());

        let tracker = rx.tracker();
        assert_eq!(
            tracker.get("t-multi", "447400000001"),
            Some(DeliveryState::Read)
        );
        assert_eq!(
            tracker.get("t-multi", "447400000002"),
            Some(DeliveryState::Delivered)
        );
        assert_eq!(
            tracker.destinations("t-multi"),
            vec![
                ("447400000001".to_owned(), DeliveryState::Read),
                ("447400000002".to_owned(), DeliveryState::Delivered),
            ]
        );
        assert_eq!(tracker.overall("t-multi"), Some(DeliveryState::Delivered));
        assert_eq!(tracker.len(), 2);
    }

    #[tokio::test]
    async fn a_personalised_batch_suffix_is_its_own_message() {
        let rx = Receiver::builder().allow_unsigned().build().unwrap();
        let none: [(&str, &str); 0] = [];
        for transid in ["b7f3", "b7f3_1"] {
            let body = receipt(transid, DeliveryStatus::Delivered);
            assert!(rx.receive(none, body.as_bytes()).await.unwrap().is_new());
        }
        assert_eq!(
            rx.tracker().get("b7f3_1", TO),
            Some(DeliveryState::Delivered)
        );
        assert_eq!(rx.tracker().len(), 2);
    }

    #[tokio::test]
    async fn release_makes_the_retry_new() {
        let rx = Receiver::builder().secret(secret()).build().unwrap();
        for body in [
            receipt("t-rel", DeliveryStatus::Delivered),
            inbound("rel_0"),
            UNKNOWN.to_owned(),
        ] {
            let received = rx.receive(signed(&body), body.as_bytes()).await.unwrap();
            assert!(received.is_new());
            rx.release(received.event()).await.unwrap();
            let retry = handled(&rx, signed(&body), body.as_bytes()).await;
            assert!(retry.is_new(), "released, so the retry is handled: {body}");
            let again = rx.receive(signed(&body), body.as_bytes()).await.unwrap();
            assert!(
                matches!(again, Received::Duplicate(_)),
                "handled, so a further retry is a duplicate"
            );
        }
        assert_eq!(rx.stats().released, 3);
        // Releasing an event without a key (nothing was marked) is harmless.
        let unkeyed = r#"{"event":"MO","waid":"447400123456","message":"hi"}"#;
        let received = rx
            .receive(signed(unkeyed), unkeyed.as_bytes())
            .await
            .unwrap();
        rx.release(received.event()).await.unwrap();
    }

    #[cfg(feature = "legacy-sha1")]
    #[tokio::test]
    async fn a_delivery_while_the_first_is_being_handled_is_503_not_a_duplicate() {
        let rx = Receiver::builder().secret(secret()).build().unwrap();
        let body = inbound("busy_0");
        let first = rx.receive(signed(&body), body.as_bytes()).await.unwrap();
        assert!(first.is_new());
        let err = rx
            .receive(signed(&body), body.as_bytes())
            .await
            .unwrap_err();
        assert!(matches!(err, ReceiveError::InProgress), "{err:?}");
        assert_eq!(err.status(), 503, "retried by the platform, not lost");
        // The first copy's handler succeeded: from now on the retries are duplicates.
        rx.complete(first.event()).await.unwrap();
        let again = rx.receive(signed(&body), body.as_bytes()).await.unwrap();
        assert!(matches!(again, Received::Duplicate(_)));
        let stats = rx.stats();
        assert_eq!(
            (
                stats.new_events,
                stats.in_progress,
                stats.duplicates,
                stats.completed
            ),
            (1, 1, 1, 1)
        );
    }

    #[tokio::test]
    async fn a_release_never_undoes_a_done_mark_nor_another_receivers_claim() {
        use std::sync::Arc;
        use webex_connect_whatsapp::conversation::store::InMemoryDedupeStore;

        let store = Arc::new(InMemoryDedupeStore::new(100));
        let build = || {
            Receiver::builder()
                .allow_unsigned()
                .dedupe_store(Arc::clone(&store))
                .build()
                .unwrap()
        };
        let (a, b) = (build(), build());
        let none: [(&str, &str); 0] = [];
        let body = inbound("shared_0");
        let got = a.receive(none, body.as_bytes()).await.unwrap();
        assert!(got.is_new());
        // b never claimed it: its release cannot free a's claim.
        b.release(got.event()).await.unwrap();
        assert!(matches!(
            b.receive(none, body.as_bytes()).await,
            Err(ReceiveError::InProgress)
        ));
        // Handled by a: a late release (of a or b) leaves it done.
        a.complete(got.event()).await.unwrap();
        a.release(got.event()).await.unwrap();
        b.release(got.event()).await.unwrap();
        assert!(matches!(
            b.receive(none, body.as_bytes()).await.unwrap(),
            Received::Duplicate(_)
        ));
        assert_eq!(a.stats().released + b.stats().released, 0);
    }

    fn stamped(tid: &str, ts: time::OffsetDateTime) -> String {
        let ts = ts
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        format!(
            r#"{{"event":"MO","waid":"447400123456","message":"hi","tid":"{tid}","ts":"{ts}"}}"#
        )
    }

    #[tokio::test]
    async fn an_event_older_than_max_event_age_is_stale_and_not_handed_over() {
        use std::time::Duration;
        let rx = Receiver::builder()
            .allow_unsigned()
            .max_event_age(Duration::from_hours(1))
            .build()
            .unwrap();
        assert_eq!(rx.max_event_age(), Some(Duration::from_hours(1)));
        let none: [(&str, &str); 0] = [];
        let now = time::OffsetDateTime::now_utc();
        // A replay of an event from two hours ago, beyond the dedupe window's worth.
        let replay = stamped("old_0", now - time::Duration::hours(2));
        let got = rx.receive(none, replay.as_bytes()).await.unwrap();
        assert!(matches!(got, Received::Stale(_)), "{got:?}");
        assert!(!got.is_new());
        // Not claimed either: it stays stale, never in progress.
        assert!(matches!(
            rx.receive(none, replay.as_bytes()).await.unwrap(),
            Received::Stale(_)
        ));
        // A stale receipt is not folded into the tracker.
        let old_receipt = DeliveryReceipt::builder("t-old", DeliveryStatus::Read)
            .destination(TO)
            .timestamp(now - time::Duration::hours(2))
            .build();
        let got = rx
            .receive(none, old_receipt.raw().as_bytes())
            .await
            .unwrap();
        assert!(matches!(got, Received::Stale(_)));
        assert_eq!(rx.tracker().get("t-old", TO), None);
        // Recent events, events dated in the future (counted as now) and events without a
        // timestamp are handed over.
        for body in [
            stamped("recent_0", now - time::Duration::minutes(10)),
            stamped("future_0", now + time::Duration::days(1)),
            inbound("undated_0"),
        ] {
            assert!(
                rx.receive(none, body.as_bytes()).await.unwrap().is_new(),
                "{body}"
            );
        }
        let stats = rx.stats();
        assert_eq!((stats.stale, stats.new_events), (3, 3));
    }

    #[tokio::test]
    async fn without_max_event_age_old_events_are_handed_over() {
        let rx = Receiver::builder().allow_unsigned().build().unwrap();
        let none: [(&str, &str); 0] = [];
        let old = stamped(
            "old_1",
            time::OffsetDateTime::now_utc() - time::Duration::days(30),
        );
        assert!(rx.receive(none, old.as_bytes()).await.unwrap().is_new());
        assert_eq!(rx.max_event_age(), None);
    }

    #[test]
    fn build_checks_the_ttl_the_lease_and_the_event_age() {
        use std::time::Duration;
        use webex_connect_whatsapp::conversation::dedupe::{
            DEFAULT_CLAIM_LEASE, DEFAULT_DEDUPE_TTL, MAX_CLAIM_LEASE, MIN_DEDUPE_TTL,
        };
        use webex_connect_whatsapp::receiver::{MIN_MAX_EVENT_AGE, ReceiverBuildError};
        let builder = || Receiver::builder().allow_unsigned();

        let rx = builder().build().unwrap();
        assert_eq!(
            (rx.dedupe_ttl(), rx.claim_lease()),
            (DEFAULT_DEDUPE_TTL, DEFAULT_CLAIM_LEASE)
        );
        assert!(
            DEFAULT_CLAIM_LEASE > Duration::from_secs(9)
                && DEFAULT_CLAIM_LEASE < Duration::from_mins(1)
        );

        // The bounds themselves are accepted.
        let rx = builder()
            .dedupe_ttl(MIN_DEDUPE_TTL)
            .claim_lease(MAX_CLAIM_LEASE)
            .max_event_age(MIN_DEDUPE_TTL)
            .build()
            .unwrap();
        assert_eq!(rx.max_event_age(), Some(MIN_DEDUPE_TTL));
        builder()
            .claim_lease(Duration::from_millis(1))
            .build()
            .unwrap();

        let err = builder()
            .dedupe_ttl(Duration::from_mins(1))
            .build()
            .unwrap_err();
        assert!(
            matches!(err, ReceiverBuildError::DedupeTtl { ttl, min, .. }
                if ttl == Duration::from_mins(1) && min == MIN_DEDUPE_TTL),
            "{err}"
        );
        assert!(err.to_string().contains("at least 300s"), "{err}");
        let err = builder().dedupe_ttl(Duration::MAX).build().unwrap_err();
        assert!(matches!(err, ReceiverBuildError::DedupeTtl { .. }), "{err}");

        for lease in [
            Duration::ZERO,
            Duration::from_micros(999),
            MAX_CLAIM_LEASE + Duration::from_millis(1),
        ] {
            let err = builder().claim_lease(lease).build().unwrap_err();
            assert!(
                matches!(err, ReceiverBuildError::ClaimLease { max, .. } if max == MAX_CLAIM_LEASE),
                "{lease:?}: {err}"
            );
            assert!(err.to_string().contains("at most 30s"), "{err}");
        }

        // Shorter than the platform's retries: a retry would be refused as stale, and lost.
        let err = builder()
            .max_event_age(
                MIN_MAX_EVENT_AGE
                    .checked_sub(Duration::from_secs(1))
                    .unwrap(),
            )
            .build()
            .unwrap_err();
        assert!(
            matches!(err, ReceiverBuildError::MaxEventAge { .. }),
            "{err}"
        );
        // Longer than the dedupe TTL: an accepted event might not be covered by dedupe.
        let err = builder()
            .dedupe_ttl(Duration::from_mins(10))
            .max_event_age(Duration::from_secs(601))
            .build()
            .unwrap_err();
        assert!(
            matches!(err, ReceiverBuildError::MaxEventAge { max, .. } if max == Duration::from_mins(10)),
            "{err}"
        );
        assert!(
            err.to_string().contains("at most the dedupe TTL, 600s"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn over_long_ids_are_handed_over_but_not_tracked() {
        use webex_connect_whatsapp::conversation::delivery::{
            MAX_TRACKED_DESTINATION_CHARS, MAX_TRACKED_TRANSID_CHARS,
        };
        let rx = Receiver::builder().allow_unsigned().build().unwrap();
        let none: [(&str, &str); 0] = [];
        let long_transid = "t".repeat(MAX_TRACKED_TRANSID_CHARS + 1);
        let long_destination = "4".repeat(MAX_TRACKED_DESTINATION_CHARS + 1);
        for body in [
            receipt(&long_transid, DeliveryStatus::Delivered),
            receipt_to("t-long-dest", &long_destination, DeliveryStatus::Delivered),
        ] {
            let got = rx.receive(none, body.as_bytes()).await.unwrap();
            assert!(got.is_new(), "an authentic receipt is never refused");
        }
        assert_eq!(rx.tracker().len(), 0, "nothing over the caps is stored");
        // At the caps, they are tracked.
        let at_cap = "t".repeat(MAX_TRACKED_TRANSID_CHARS);
        let body = receipt(&at_cap, DeliveryStatus::Delivered);
        assert!(rx.receive(none, body.as_bytes()).await.unwrap().is_new());
        assert_eq!(
            rx.tracker().get(&at_cap, TO),
            Some(DeliveryState::Delivered)
        );
    }

    #[tokio::test]
    async fn sha1_signatures_need_the_legacy_option() {
        let body = receipt("t-sha1", DeliveryStatus::Delivered);
        let sha1 = signature::sign(SignatureAlgorithm::Sha1, &secret(), body.as_bytes());
        let strict = Receiver::builder().secret(secret()).build().unwrap();
        let err = strict
            .receive([("x-hub-signature", &sha1)], body.as_bytes())
            .await
            .unwrap_err();
        assert_eq!(err.status(), 401);
        assert!(matches!(
            err,
            ReceiveError::Signature(signature::SignatureError::LegacySha1NotAllowed)
        ));
        // The advice is in the cause, and the message says it too.
        let cause = std::error::Error::source(&err).map(ToString::to_string);
        assert!(
            cause
                .as_deref()
                .is_some_and(|c| c.contains("allow_legacy_sha1")),
            "{cause:?}"
        );
        assert!(err.to_string().contains("allow_legacy_sha1"), "{err}");

        let legacy = Receiver::builder()
            .secret(secret())
            .allow_legacy_sha1()
            .build()
            .unwrap();
        assert!(legacy.accepts_legacy_sha1());
        let got = legacy
            .receive([("x-hub-signature", &sha1)], body.as_bytes())
            .await
            .unwrap();
        assert!(got.is_new());
    }

    #[tokio::test]
    async fn a_secret_read_with_a_newline_still_verifies() {
        let rx = Receiver::builder()
            .secret(WebhookSecret::new(format!("{SECRET}\n")).unwrap())
            .build()
            .unwrap();
        let body = inbound("nl_0");
        assert!(
            rx.receive(signed(&body), body.as_bytes())
                .await
                .unwrap()
                .is_new()
        );
    }

    #[tokio::test]
    async fn duplicates_are_counted_not_delivered_twice() {
        let rx = Receiver::builder().allow_unsigned().build().unwrap();
        let none: [(&str, &str); 0] = [];
        let delivered = receipt("t1", DeliveryStatus::Delivered);
        let read = receipt("t1", DeliveryStatus::Read);
        let mo = inbound("tid_0");
        let mut new = 0;
        for body in [&delivered, &read, &mo, &delivered, &mo, &read, &delivered] {
            if handled(&rx, none, body.as_bytes()).await.is_new() {
                new += 1;
            }
        }
        assert_eq!(new, 3);
        let stats = rx.stats();
        assert_eq!((stats.new_events, stats.duplicates), (3, 4));
    }

    #[tokio::test]
    async fn the_faq_fixtures_are_received() {
        let rx = Receiver::builder().allow_unsigned().build().unwrap();
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
        let rx = Receiver::builder().allow_unsigned().build().unwrap();
        let none: [(&str, &str); 0] = [];
        for status in [
            DeliveryStatus::Submitted,
            DeliveryStatus::Read,
            DeliveryStatus::Delivered,
        ] {
            let body = receipt("t-ooo", status);
            rx.receive(none, body.as_bytes()).await.unwrap();
        }
        let state = rx.tracker().get("t-ooo", TO).unwrap();
        assert_eq!(state, DeliveryState::Read);
        assert!(state.is_delivered(), "read implies delivered");
    }

    #[tokio::test]
    async fn failed_is_kept_with_its_code() {
        let rx = Receiver::builder().allow_unsigned().build().unwrap();
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
        let state = rx.tracker().get("t-f", TO).unwrap();
        assert_eq!(state, DeliveryState::Failed(DeliveryCode::ReEngagement));
        assert_eq!(state.failure_code().map(DeliveryCode::as_str), Some("7710"));
    }

    #[tokio::test]
    async fn the_tracker_is_bounded() {
        let rx = Receiver::builder()
            .allow_unsigned()
            .tracked_messages(10)
            .build()
            .unwrap();
        let none: [(&str, &str); 0] = [];
        for i in 0..25 {
            let body = receipt(&format!("t{i}"), DeliveryStatus::Delivered);
            rx.receive(none, body.as_bytes()).await.unwrap();
        }
        assert_eq!(rx.tracker().len(), 10);
        assert_eq!(rx.tracker().get("t0", TO), None);
        assert_eq!(rx.tracker().get("t24", TO), Some(DeliveryState::Delivered));
    }

    /// Cisco's docs: `x-wx-gtrid` also arrives as an HTTP header. The receiver keeps it with
    /// every kind of event, in any letter case, beside a valid signature.
    #[tokio::test]
    async fn the_gtrid_header_travels_with_every_kind_of_event() {
        let rx = Receiver::builder().secret(secret()).build().unwrap();
        let bodies = [
            receipt("t-g", DeliveryStatus::Read),
            inbound("g_0"),
            UNKNOWN.to_owned(),
            r#"{"event":"linkClicked","transid":"t-c","url":"https://e.com"}"#.to_owned(),
        ];
        for (i, body) in bodies.iter().enumerate() {
            let gtrid = format!("gtrid-{i}");
            let headers = [
                ("X-Wx-Gtrid".to_owned(), gtrid.clone()),
                ("x-hub-signature".to_owned(), sig(body)),
            ];
            let event = rx.check(headers.clone(), body.as_bytes()).unwrap();
            assert_eq!(event.gtrid(), Some(gtrid.as_str()), "{body}");
            // The typed accessors read it too.
            let typed = match &event {
                WebhookEvent::DeliveryReceipt(r) => r.gtrid(),
                WebhookEvent::Inbound(m) => m.gtrid(),
                WebhookEvent::Click(c) => c.gtrid(),
                WebhookEvent::Unknown(u) => u.gtrid(),
                _ => unreachable!(),
            };
            assert_eq!(typed, Some(gtrid.as_str()));
            // And through receive, in whatever Received it ends up.
            let received = rx.receive(headers, body.as_bytes()).await.unwrap();
            assert_eq!(received.event().gtrid(), Some(gtrid.as_str()));
            // Kept beside the body, not in it: equal to the same body without the header,
            // and serialized as the body alone.
            assert_eq!(received.event(), &webhook::parse(body.as_bytes()).unwrap());
            assert!(
                !serde_json::to_string(received.event())
                    .unwrap()
                    .contains(&gtrid)
            );
        }
        // Without the header, an event parsed from a body without one has none.
        assert_eq!(
            rx.check(signed(&bodies[0]), bodies[0].as_bytes())
                .unwrap()
                .gtrid(),
            None
        );
    }

    /// The body's `x-wx-gtrid` is covered by the signature and the header is not: the body
    /// wins when both are present.
    #[test]
    fn the_body_gtrid_wins_over_the_header() {
        let rx = Receiver::builder().allow_unsigned().build().unwrap();
        let bodies = [
            r#"{"x-wx-gtrid":"in-body","deliveryInfoNotification":{"transid":"t1"}}"#,
            r#"{"event":"MO","waid":"1","tid":"x","x-wx-gtrid":"in-body"}"#,
            r#"{"event":"reaction","x-wx-gtrid":"in-body"}"#,
            r#"{"event":"click","x-wx-gtrid":"in-body"}"#,
        ];
        for body in bodies {
            let event = rx
                .check([("x-wx-gtrid", "in-header")], body.as_bytes())
                .unwrap();
            assert_eq!(event.gtrid(), Some("in-body"), "{body}");
            assert_eq!(
                webhook::parse(body.as_bytes()).unwrap().gtrid(),
                Some("in-body")
            );
        }
    }

    /// Only a usable value is kept: UTF-8, not empty, no control characters, at most
    /// `MAX_GTRID_CHARS` characters; and only the first header, even when it is unusable.
    #[test]
    fn unusable_gtrid_headers_are_ignored() {
        let rx = Receiver::builder().allow_unsigned().build().unwrap();
        let body = UNKNOWN.as_bytes();
        let gtrid = |value: &[u8]| {
            rx.check([(GTRID_HEADER, value)], body)
                .unwrap()
                .gtrid()
                .map(str::to_owned)
        };
        let longest = "é".repeat(MAX_GTRID_CHARS);
        assert_eq!(gtrid(longest.as_bytes()), Some(longest.clone()));
        assert_eq!(gtrid(format!("{longest}x").as_bytes()), None);
        assert_eq!(gtrid(b"caf\xe9"), None);
        assert_eq!(gtrid(b""), None);
        assert_eq!(gtrid(b"   "), None);
        assert_eq!(gtrid(b"a\nforged: line"), None);
        assert_eq!(gtrid(b"  padded  "), Some("padded".to_owned()));
        let two = [(GTRID_HEADER, "first"), (GTRID_HEADER, "second")];
        assert_eq!(rx.check(two, body).unwrap().gtrid(), Some("first"));
        let bad_first = [(GTRID_HEADER, "bad\u{7}"), (GTRID_HEADER, "second")];
        assert_eq!(rx.check(bad_first, body).unwrap().gtrid(), None);
    }

    /// Reading the gtrid header does not change the signature check: the first
    /// `x-hub-signature` still decides, and a missing one is still refused.
    #[test]
    fn the_signature_check_is_unchanged_by_the_gtrid_header() {
        let rx = Receiver::builder().secret(secret()).build().unwrap();
        let body = receipt("t-s", DeliveryStatus::Read);
        let good = sig(&body);
        let ok = [
            ("x-wx-gtrid", "g"),
            ("x-hub-signature", good.as_str()),
            ("x-hub-signature", "00"),
        ];
        assert!(rx.check(ok, body.as_bytes()).is_ok());
        let bad_first = [
            ("x-hub-signature", "00"),
            ("x-hub-signature", good.as_str()),
        ];
        assert_eq!(
            rx.check(bad_first, body.as_bytes()).unwrap_err().status(),
            401
        );
        let missing = [("x-wx-gtrid", "g")];
        assert!(matches!(
            rx.check(missing, body.as_bytes()),
            Err(ReceiveError::Signature(signature::SignatureError::Missing))
        ));
        assert_eq!(rx.stats().bad_signature, 2);
    }
}

#[cfg(feature = "axum")]
mod http {
    use std::convert::Infallible;
    use std::sync::{Arc, Mutex};

    use reqwest::StatusCode;
    use webex_connect_whatsapp::receiver::axum::router;

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
                async move {
                    sink.lock().unwrap().push(event);
                    Ok::<(), Infallible>(())
                }
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

        /// The events handled so far: the router answers only after the handler ran, so
        /// there is nothing to wait for.
        fn handled(&self) -> Vec<WebhookEvent> {
            self.handled.lock().unwrap().clone()
        }
    }

    #[tokio::test]
    async fn a_good_signature_gets_200_and_a_typed_event() {
        let s = serve(Receiver::builder().secret(secret()).build().unwrap()).await;
        let body = receipt("t1", DeliveryStatus::Read);
        assert_eq!(s.post(&body, Some(&sig(&body))).await, StatusCode::OK);
        let mo = inbound("m_0");
        assert_eq!(s.post(&mo, Some(&sig(&mo))).await, StatusCode::OK);
        let events = s.handled();
        assert_eq!(events.len(), 2, "both handled before their 200");
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
        let s = serve(Receiver::builder().secret(secret()).build().unwrap()).await;
        let body = receipt("t1", DeliveryStatus::Read);
        assert_eq!(
            s.post(&body, Some(&sig("{}"))).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(s.post(&body, Some("zz")).await, StatusCode::UNAUTHORIZED);
        assert_eq!(s.post(&body, None).await, StatusCode::UNAUTHORIZED);
        assert_eq!(s.receiver.stats().bad_signature, 3);
        assert!(s.handled().is_empty());
    }

    #[tokio::test]
    async fn a_body_over_the_limit_gets_413() {
        let s = serve(
            Receiver::builder()
                .secret(secret())
                .max_body_bytes(1024)
                .build()
                .unwrap(),
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
        let s = serve(Receiver::builder().allow_unsigned().build().unwrap()).await;
        let huge = format!(
            r#"{{"event":"MO","waid":"1","message":"{}"}}"#,
            "x".repeat(70_000)
        );
        assert_eq!(s.post(&huge, None).await, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(s.receiver.stats().too_large, 1);
    }

    #[tokio::test]
    async fn only_a_body_that_is_not_a_json_object_gets_400() {
        let s = serve(Receiver::builder().secret(secret()).build().unwrap()).await;
        for body in ["not json", "[1]", "\"x\""] {
            assert_eq!(
                s.post(body, Some(&sig(body))).await,
                StatusCode::BAD_REQUEST,
                "{body}"
            );
        }
        assert!(s.handled().is_empty());
    }

    #[tokio::test]
    async fn unknown_event_kinds_get_200_and_reach_the_handler() {
        let s = serve(Receiver::builder().secret(secret()).build().unwrap()).await;
        for body in [UNKNOWN, r#"{"hello":1}"#, UNKNOWN] {
            assert_eq!(
                s.post(body, Some(&sig(body))).await,
                StatusCode::OK,
                "{body}"
            );
        }
        let handled = s.handled();
        assert_eq!(handled.len(), 2, "the repeated body is a duplicate");
        assert!(matches!(&handled[0], WebhookEvent::Unknown(u) if u.event() == Some("reaction")));
        assert_eq!(s.receiver.stats().unknown_events, 2);
    }

    #[tokio::test]
    async fn a_duplicate_delivery_is_answered_200_and_handled_once() {
        let s = serve(Receiver::builder().secret(secret()).build().unwrap()).await;
        let body = receipt("t-dup", DeliveryStatus::Delivered);
        for _ in 0..3 {
            assert_eq!(s.post(&body, Some(&sig(&body))).await, StatusCode::OK);
        }
        let mo = inbound("dup_0");
        for _ in 0..2 {
            assert_eq!(s.post(&mo, Some(&sig(&mo))).await, StatusCode::OK);
        }
        assert_eq!(s.handled().len(), 2);
        let stats = s.receiver.stats();
        assert_eq!((stats.new_events, stats.duplicates), (2, 3));
    }

    #[tokio::test]
    async fn state_is_tracked_through_http() {
        let s = serve(Receiver::builder().allow_unsigned().build().unwrap()).await;
        for body in [
            receipt("t-s", DeliveryStatus::Read),
            receipt("t-s", DeliveryStatus::Delivered),
            failed("t-f", DeliveryCode::ReEngagement),
            receipt("t-f", DeliveryStatus::Submitted),
        ] {
            assert_eq!(s.post(&body, None).await, StatusCode::OK);
        }
        assert_eq!(
            s.receiver.tracker().get("t-s", TO),
            Some(DeliveryState::Read)
        );
        assert_eq!(
            s.receiver.tracker().get("t-f", TO),
            Some(DeliveryState::Failed(DeliveryCode::ReEngagement))
        );
    }

    #[tokio::test]
    async fn the_head_check_and_other_methods() {
        let s = serve(Receiver::builder().secret(secret()).build().unwrap()).await;
        let head = s.http.head(&s.url).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        let put = s.http.put(&s.url).body("{}").send().await.unwrap();
        assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}

/// The router's at-least-once contract, driven in-process (no sockets), with tokio's clock
/// paused where a timeout is involved.
#[cfg(feature = "axum")]
mod at_least_once {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tokio::sync::{Semaphore, mpsc};
    use tower::ServiceExt as _;
    use webex_connect_whatsapp::conversation::clock::Clock;
    use webex_connect_whatsapp::conversation::store::{
        Claim, DedupeStore, InMemoryDedupeStore, StoreError,
    };
    use webex_connect_whatsapp::receiver::axum::{RouterConfig, router_with};

    use super::*;

    fn post(body: &str) -> Request<Body> {
        Request::post("/")
            .header("content-type", "application/json")
            .header("x-hub-signature", sig(body))
            .body(Body::from(body.to_owned()))
            .unwrap()
    }

    async fn status(app: &axum::Router, body: &str) -> StatusCode {
        app.clone().oneshot(post(body)).await.unwrap().status()
    }

    #[tokio::test]
    async fn a_failed_handler_gets_503_and_the_retry_is_handled_again() {
        let rx = Arc::new(Receiver::builder().secret(secret()).build().unwrap());
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let app = router_with(Arc::clone(&rx), RouterConfig::default(), move |_event| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Err("the database is down")
                } else {
                    Ok(())
                }
            }
        });
        let body = receipt("t-fail", DeliveryStatus::Delivered);
        assert_eq!(status(&app, &body).await, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Webex Connect retries the 503: the handler runs again, and this time succeeds.
        assert_eq!(status(&app, &body).await, StatusCode::OK);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // A further retry (say the 200 was lost) is a duplicate: 200, handler not called.
        assert_eq!(status(&app, &body).await, StatusCode::OK);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let stats = rx.stats();
        assert_eq!((stats.released, stats.duplicates), (1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_handler_that_times_out_gets_503_and_the_retry_is_handled() {
        let rx = Arc::new(Receiver::builder().secret(secret()).build().unwrap());
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let config = RouterConfig::default().handler_timeout(Duration::from_secs(2));
        let app = router_with(Arc::clone(&rx), config, move |_event| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    // Hangs; the paused clock jumps to the timeout.
                    std::future::pending::<()>().await;
                }
                Ok::<(), &str>(())
            }
        });
        let body = inbound("slow_0");
        assert_eq!(status(&app, &body).await, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status(&app, &body).await, StatusCode::OK);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(status(&app, &body).await, StatusCode::OK);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn the_timeout_stays_under_the_platforms_10_seconds() {
        assert!(RouterConfig::default().timeout() < Duration::from_secs(10));
        let config = RouterConfig::default().handler_timeout(Duration::from_mins(1));
        assert!(config.timeout() < Duration::from_secs(10));
    }

    type Outcome = std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

    /// A handler that holds every event until the test lets it go, and says when it starts.
    fn gated(
        gate: &Arc<Semaphore>,
        sink: &Arc<Mutex<Vec<WebhookEvent>>>,
    ) -> (
        impl Fn(WebhookEvent) -> Outcome + Send + Sync + 'static,
        mpsc::UnboundedReceiver<()>,
    ) {
        let (started_tx, started) = mpsc::unbounded_channel();
        let gate = Arc::clone(gate);
        let sink = Arc::clone(sink);
        let on_event = move |event: WebhookEvent| {
            let gate = Arc::clone(&gate);
            let sink = Arc::clone(&sink);
            let started_tx = started_tx.clone();
            Box::pin(async move {
                let _ = started_tx.send(());
                gate.acquire().await.map_err(|e| e.to_string())?.forget();
                sink.lock().unwrap().push(event);
                Ok(())
            }) as Outcome
        };
        (on_event, started)
    }

    #[tokio::test]
    async fn a_full_queue_gets_503_at_once_and_the_retry_is_handled() {
        let rx = Arc::new(Receiver::builder().secret(secret()).build().unwrap());
        let gate = Arc::new(Semaphore::new(0));
        let handled = Arc::new(Mutex::new(Vec::new()));
        let (on_event, mut started) = gated(&gate, &handled);
        let config = RouterConfig::default().max_concurrent(1).max_queued(0);
        let app = router_with(Arc::clone(&rx), config, on_event);

        let first = inbound("busy_0");
        let busy = tokio::spawn({
            let app = app.clone();
            async move { app.oneshot(post(&first)).await.unwrap().status() }
        });
        started.recv().await.unwrap();
        // The one slot is taken and nothing may wait: answered at once, not after the
        // first handler.
        let second = inbound("busy_1");
        assert_eq!(status(&app, &second).await, StatusCode::SERVICE_UNAVAILABLE);
        // A duplicate of an event already handled is still answered 200 (none here yet).
        gate.add_permits(1);
        assert_eq!(busy.await.unwrap(), StatusCode::OK);
        // The refused event was released: its retry is handled.
        gate.add_permits(1);
        assert_eq!(status(&app, &second).await, StatusCode::OK);
        let tids: Vec<_> = handled
            .lock()
            .unwrap()
            .iter()
            .map(|e| match e {
                WebhookEvent::Inbound(m) => m.tid().unwrap_or_default().to_owned(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(tids, ["busy_0", "busy_1"]);
        assert_eq!(rx.stats().released, 1);
    }

    #[tokio::test]
    async fn queued_events_wait_for_a_slot_and_are_handled() {
        let rx = Arc::new(Receiver::builder().secret(secret()).build().unwrap());
        let gate = Arc::new(Semaphore::new(0));
        let handled = Arc::new(Mutex::new(Vec::new()));
        let (on_event, mut started) = gated(&gate, &handled);
        let config = RouterConfig::default().max_concurrent(1).max_queued(1);
        let app = router_with(Arc::clone(&rx), config, on_event);

        let mut tasks = Vec::new();
        for tid in ["q_0", "q_1"] {
            let app = app.clone();
            let body = inbound(tid);
            tasks.push(tokio::spawn(async move {
                app.oneshot(post(&body)).await.unwrap().status()
            }));
        }
        // One runs while the other waits for its slot (with no queue it would get 503).
        started.recv().await.unwrap();
        gate.add_permits(2);
        for task in tasks {
            assert_eq!(task.await.unwrap(), StatusCode::OK);
        }
        assert_eq!(handled.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_request_dropped_mid_handler_releases_its_event() {
        let rx = Arc::new(Receiver::builder().secret(secret()).build().unwrap());
        let gate = Arc::new(Semaphore::new(0));
        let handled = Arc::new(Mutex::new(Vec::new()));
        let (on_event, mut started) = gated(&gate, &handled);
        let app = router_with(Arc::clone(&rx), RouterConfig::default(), on_event);

        let body = inbound("dropped_0");
        let request = tokio::spawn({
            let app = app.clone();
            let body = body.clone();
            async move { app.oneshot(post(&body)).await.unwrap().status() }
        });
        started.recv().await.unwrap();
        // The connection closes before the answer (hyper drops the request's future).
        request.abort();
        assert!(request.await.unwrap_err().is_cancelled());
        for _ in 0..100 {
            if rx.stats().released == 1 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(rx.stats().released, 1);
        gate.add_permits(1);
        assert_eq!(status(&app, &body).await, StatusCode::OK);
        assert_eq!(handled.lock().unwrap().len(), 1, "the retry was handled");
    }

    #[tokio::test]
    async fn a_duplicate_while_the_handler_runs_gets_503_and_after_its_success_200() {
        let rx = Arc::new(Receiver::builder().secret(secret()).build().unwrap());
        let gate = Arc::new(Semaphore::new(0));
        let handled = Arc::new(Mutex::new(Vec::new()));
        let (on_event, mut started) = gated(&gate, &handled);
        let app = router_with(Arc::clone(&rx), RouterConfig::default(), on_event);

        let body = inbound("slow_dup_0");
        let first = tokio::spawn({
            let app = app.clone();
            let body = body.clone();
            async move { app.oneshot(post(&body)).await.unwrap().status() }
        });
        started.recv().await.unwrap();
        // The first copy is still being handled (and may yet fail): not a 200.
        assert_eq!(status(&app, &body).await, StatusCode::SERVICE_UNAVAILABLE);
        gate.add_permits(1);
        assert_eq!(first.await.unwrap(), StatusCode::OK);
        // Handled: later copies are duplicates, answered 200 without the handler.
        assert_eq!(status(&app, &body).await, StatusCode::OK);
        assert_eq!(handled.lock().unwrap().len(), 1);
        assert!(started.try_recv().is_err(), "the handler ran once");
        let stats = rx.stats();
        assert_eq!(
            (stats.in_progress, stats.duplicates, stats.completed),
            (1, 1, 1)
        );
    }

    /// An in-memory dedupe store that hangs once: the next claim after applying it, or the
    /// next completion before applying it, and says so.
    #[derive(Clone)]
    struct Stalling {
        inner: Arc<InMemoryDedupeStore>,
        stall_claim: Arc<AtomicBool>,
        stall_complete: Arc<AtomicBool>,
        reached: mpsc::UnboundedSender<&'static str>,
    }

    impl Stalling {
        fn new(claim: bool, complete: bool) -> (Self, mpsc::UnboundedReceiver<&'static str>) {
            let (reached, stalled) = mpsc::unbounded_channel();
            let store = Self {
                inner: Arc::new(InMemoryDedupeStore::new(100)),
                stall_claim: Arc::new(AtomicBool::new(claim)),
                stall_complete: Arc::new(AtomicBool::new(complete)),
                reached,
            };
            (store, stalled)
        }
    }

    impl DedupeStore for Stalling {
        fn claim(
            &self,
            key: &str,
            owner: &str,
            lease: Duration,
        ) -> impl Future<Output = Result<Claim, StoreError>> + Send {
            let stall = self.stall_claim.swap(false, Ordering::SeqCst);
            let (inner, reached) = (Arc::clone(&self.inner), self.reached.clone());
            async move {
                let claim = inner.claim(key, owner, lease).await;
                if stall {
                    let _ = reached.send("claim");
                    std::future::pending::<()>().await;
                }
                claim
            }
        }

        fn complete(
            &self,
            key: &str,
            ttl: Duration,
        ) -> impl Future<Output = Result<(), StoreError>> + Send {
            let stall = self.stall_complete.swap(false, Ordering::SeqCst);
            let (inner, reached) = (Arc::clone(&self.inner), self.reached.clone());
            async move {
                if stall {
                    let _ = reached.send("complete");
                    std::future::pending::<()>().await;
                }
                inner.complete(key, ttl).await
            }
        }

        fn release(
            &self,
            key: &str,
            owner: &str,
        ) -> impl Future<Output = Result<bool, StoreError>> + Send {
            self.inner.release(key, owner)
        }
    }

    /// Lets spawned tasks (the drop guard's) run until `done` holds, by count of yields.
    async fn settle(done: impl Fn() -> bool) {
        for _ in 0..1000 {
            if done() {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the spawned work did not finish");
    }

    #[tokio::test]
    async fn a_request_dropped_mid_claim_releases_its_claim() {
        let (store, mut stalled) = Stalling::new(true, false);
        let rx = Arc::new(
            Receiver::builder()
                .secret(secret())
                .dedupe_store(store)
                .build()
                .unwrap(),
        );
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let app = router_with(Arc::clone(&rx), RouterConfig::default(), move |_event| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Ok::<(), Infallible>(()) }
        });
        let body = inbound("mid_claim_0");
        let request = tokio::spawn({
            let app = app.clone();
            let body = body.clone();
            async move { app.oneshot(post(&body)).await.unwrap().status() }
        });
        // The store applied the claim, and its answer never comes: the connection closes.
        assert_eq!(stalled.recv().await, Some("claim"));
        request.abort();
        assert!(request.await.unwrap_err().is_cancelled());
        settle(|| rx.stats().released == 1).await;
        // Without the release the retry would be refused (503) until the lease ended.
        assert_eq!(status(&app, &body).await, StatusCode::OK);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the retry was handled");
    }

    #[tokio::test]
    async fn a_request_dropped_after_its_handler_succeeded_completes_the_event() {
        let (store, mut stalled) = Stalling::new(false, true);
        let rx = Arc::new(
            Receiver::builder()
                .secret(secret())
                .dedupe_store(store)
                .build()
                .unwrap(),
        );
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let app = router_with(Arc::clone(&rx), RouterConfig::default(), move |_event| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Ok::<(), Infallible>(()) }
        });
        let body = inbound("after_success_0");
        let request = tokio::spawn({
            let app = app.clone();
            let body = body.clone();
            async move { app.oneshot(post(&body)).await.unwrap().status() }
        });
        // The handler succeeded; the connection closes while the event is being completed.
        assert_eq!(stalled.recv().await, Some("complete"));
        request.abort();
        assert!(request.await.unwrap_err().is_cancelled());
        settle(|| rx.stats().completed == 1).await;
        // The platform retries (it saw no answer): a duplicate, not handled twice.
        assert_eq!(status(&app, &body).await, StatusCode::OK);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(rx.stats().released, 0);
    }

    /// A clock that follows tokio's (paused) clock, so a store's leases end in step with
    /// the router's timeouts.
    #[derive(Clone)]
    struct TokioClock {
        start: time::OffsetDateTime,
        at: tokio::time::Instant,
    }

    impl Clock for TokioClock {
        fn now(&self) -> time::OffsetDateTime {
            self.start + (tokio::time::Instant::now() - self.at)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_handler_timeout_is_cut_under_the_claim_lease() {
        let clock = TokioClock {
            start: time::macros::datetime!(2026-01-01 00:00 UTC),
            at: tokio::time::Instant::now(),
        };
        let rx = Arc::new(
            Receiver::builder()
                .secret(secret())
                .dedupe_store(InMemoryDedupeStore::with_clock(100, clock))
                .claim_lease(Duration::from_secs(4))
                .build()
                .unwrap(),
        );
        // 9 s asked, but the lease is 4 s: the router cuts the handler off at 3 s.
        let config = RouterConfig::default().handler_timeout(Duration::from_secs(9));
        let app = router_with(Arc::clone(&rx), config, |_event| async {
            std::future::pending::<()>().await;
        });
        assert_eq!(
            status(&app, &inbound("hang_0")).await,
            StatusCode::SERVICE_UNAVAILABLE
        );
        // The release found the claim still live: the handler was cancelled before the
        // lease could end (and a retry be handled beside a handler still running).
        assert_eq!(rx.stats().released, 1);
    }

    #[tokio::test]
    async fn a_body_that_fails_mid_read_gets_503_not_400() {
        let rx = Arc::new(Receiver::builder().allow_unsigned().build().unwrap());
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let app = router_with(Arc::clone(&rx), RouterConfig::default(), move |_event| {
            counter.fetch_add(1, Ordering::SeqCst);
            async {}
        });
        let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = vec![
            Ok(axum::body::Bytes::from_static(br#"{"event":"MO","wa"#)),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset mid-body",
            )),
        ];
        let request = Request::post("/")
            .header("content-type", "application/json")
            .body(Body::from_stream(futures_util::stream::iter(chunks)))
            .unwrap();
        let answer = app.oneshot(request).await.unwrap();
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(rx.stats().unreadable, 1);
        assert_eq!(rx.stats().invalid, 0);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_unknown_event_reaches_the_handler_and_gets_200() {
        let rx = Arc::new(Receiver::builder().secret(secret()).build().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let app = router_with(Arc::clone(&rx), RouterConfig::default(), move |event| {
            let sink = Arc::clone(&sink);
            async move {
                if let WebhookEvent::Unknown(u) = &event {
                    sink.lock()
                        .unwrap()
                        .push(u.event().unwrap_or_default().to_owned());
                }
                Ok::<(), Infallible>(())
            }
        });
        assert_eq!(status(&app, UNKNOWN).await, StatusCode::OK);
        assert_eq!(*seen.lock().unwrap(), ["reaction"]);
        assert_eq!(rx.stats().unknown_events, 1);
        assert_eq!(rx.unknown_event_kinds(), vec![("reaction".to_owned(), 1)]);
        assert_eq!(status(&app, "[1]").await, StatusCode::BAD_REQUEST);
    }

    use std::convert::Infallible;
}

#[cfg(feature = "axum")]
#[test]
fn huge_router_limits_do_not_panic() {
    use webex_connect_whatsapp::receiver::axum::{RouterConfig, router_with};
    let config = RouterConfig::default()
        .max_concurrent(usize::MAX)
        .max_queued(usize::MAX);
    let _app: axum::Router = router_with(
        Receiver::builder().allow_unsigned().build().unwrap(),
        config,
        |_event| async {},
    );
}
