//! Delivery follow-up: stuck messages and failures grouped by code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Duration;
use time::macros::datetime;
use webex_connect_whatsapp::conversation::delivery::{DeliveryFollowUp, FollowUpReport};
use webex_connect_whatsapp::webhook::{
    self, DeliveryCode, DeliveryReceipt, DeliveryStatus, WebhookEvent,
};

const T: time::OffsetDateTime = datetime!(2026-01-01 09:00 UTC);

fn submitted(id: &str, at: time::OffsetDateTime) -> DeliveryReceipt {
    DeliveryReceipt::builder(id, DeliveryStatus::Submitted)
        .code(DeliveryCode::Submitted)
        .timestamp(at)
        .build()
}

fn failed(id: &str, code: DeliveryCode) -> DeliveryReceipt {
    DeliveryReceipt::builder(id, DeliveryStatus::Failed)
        .code(code)
        .destination("447400123456")
        .timestamp(T)
        .build()
}

#[test]
fn groups_failures_by_code_with_the_fix() {
    let receipts = [
        failed("a", DeliveryCode::ReEngagement),
        failed("b", DeliveryCode::ReEngagement),
        failed("c", DeliveryCode::MessageTooLong),
        failed("d", DeliveryCode::TemplateParamCountMismatch),
        failed("a", DeliveryCode::ReEngagement), // a retried webhook
    ];
    let report = FollowUpReport::from_receipts(&receipts, T, Duration::from_mins(10));
    assert_eq!(report.tracked, 4);
    let codes: Vec<_> = report
        .failures
        .iter()
        .map(|g| (g.code.as_str(), g.messages.len()))
        .collect();
    assert_eq!(codes, [("7710", 2), ("7714", 1), ("7804", 1)]);
    let fix = |code: &DeliveryCode| report.failures_with(code).unwrap().fix.unwrap();
    assert!(fix(&DeliveryCode::ReEngagement).starts_with("send a template"));
    assert!(fix(&DeliveryCode::MessageTooLong).starts_with("shorten"));
    assert!(fix(&DeliveryCode::TemplateParamCountMismatch).contains("check parameters"));
    assert_eq!(
        report
            .failures_with(&DeliveryCode::ReEngagement)
            .unwrap()
            .fix,
        DeliveryCode::ReEngagement.fix()
    );
    let shown = report.to_string();
    assert!(shown.contains("2 failed with 7710"), "{shown}");
    assert!(
        !shown.contains("447400123456"),
        "no phone numbers in the summary: {shown}"
    );
}

/// The transaction ids of a report's stuck messages, in report order.
fn stuck_ids(report: &FollowUpReport) -> Vec<&str> {
    report
        .stuck
        .iter()
        .map(|s| s.transaction_id.as_str())
        .collect()
}

#[test]
fn reports_messages_stuck_at_submitted() {
    let mut follow_up = DeliveryFollowUp::new(Duration::from_mins(30));
    follow_up.record(&submitted("old", T));
    follow_up.record(&submitted("new", T + time::Duration::minutes(20)));
    follow_up.record(&submitted("done", T));
    follow_up.record(
        &DeliveryReceipt::builder("done", DeliveryStatus::Delivered)
            .code(DeliveryCode::Delivered)
            .build(),
    );
    // A late Submitted never hides the Delivered that came first.
    follow_up.record(&submitted("done", T));

    let report = follow_up.report(T + time::Duration::minutes(30));
    assert_eq!(stuck_ids(&report), ["old"]);
    assert_eq!(report.stuck[0].waiting, Duration::from_mins(30));
    assert!(report.failures.is_empty());

    let later = follow_up.report(T + time::Duration::hours(2));
    assert_eq!(stuck_ids(&later), ["old", "new"]);

    assert_eq!(follow_up.forget_settled(), 1);
    assert_eq!(follow_up.len(), 2);
}

#[test]
fn reads_parsed_webhooks() {
    let body = br#"{"deliveryInfoNotification":{"deliveryInfo":{"deliveryStatus":"Failed",
        "code":"7710","timeStamp":"2026-01-01T09:00:00Z"},"transid":"x1"}}"#;
    let WebhookEvent::DeliveryReceipt(receipt) = webhook::parse(body).unwrap() else {
        panic!("not a receipt");
    };
    let report = FollowUpReport::from_receipts([&receipt], T, Duration::from_mins(1));
    assert_eq!(report.failures[0].messages[0].transaction_id.as_str(), "x1");
    assert!(!report.is_clean());
}

fn to(id: &str, destination: &str, status: DeliveryStatus) -> DeliveryReceipt {
    DeliveryReceipt::builder(id, status)
        .destination(destination)
        .timestamp(T)
        .build()
}

#[test]
fn one_transid_to_two_destinations_is_two_messages() {
    let mut follow_up = DeliveryFollowUp::new(Duration::from_mins(10));
    // One request, one transid, two destinations: each gets its own receipts.
    follow_up.record(&to("multi", "447400000001", DeliveryStatus::Submitted));
    follow_up.record(&to("multi", "447400000002", DeliveryStatus::Submitted));
    assert_eq!(follow_up.len(), 2);
    let report = follow_up.report(T + time::Duration::hours(1));
    let stuck: Vec<_> = report
        .stuck
        .iter()
        .map(|m| (m.transaction_id.as_str(), m.destination.as_deref()))
        .collect();
    assert_eq!(
        stuck,
        [
            ("multi", Some("447400000001")),
            ("multi", Some("447400000002"))
        ]
    );

    // The first is delivered, the second fails: the delivery does not hide the failure.
    follow_up.record(&to("multi", "447400000001", DeliveryStatus::Delivered));
    follow_up.record(
        &DeliveryReceipt::builder("multi", DeliveryStatus::Failed)
            .code(DeliveryCode::ReEngagement)
            .destination("447400000002")
            .timestamp(T)
            .build(),
    );
    let report = follow_up.report(T + time::Duration::hours(1));
    assert!(report.stuck.is_empty());
    let group = report.failures_with(&DeliveryCode::ReEngagement).unwrap();
    assert_eq!(group.messages.len(), 1);
    assert_eq!(
        group.messages[0].destination.as_deref(),
        Some("447400000002")
    );
    assert_eq!(follow_up.forget_settled(), 1);
    assert_eq!(follow_up.len(), 1);
}

#[test]
fn a_personalised_batch_suffix_is_its_own_message() {
    let report = FollowUpReport::from_receipts(
        &[
            to("b7f3", "447400000001", DeliveryStatus::Submitted),
            to("b7f3_1", "447400000002", DeliveryStatus::Submitted),
        ],
        T + time::Duration::hours(1),
        Duration::from_mins(10),
    );
    let ids: Vec<_> = report
        .stuck
        .iter()
        .map(|m| m.transaction_id.as_str())
        .collect();
    assert_eq!(ids, ["b7f3", "b7f3_1"]);
}
