//! Delivery receipts: every FAQ sample and the reference-derived ones, field by field.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use serde_json::Value;
use time::macros::datetime;
use webex_connect_whatsapp::webhook::{
    self, DeliveryCode, DeliveryReceipt, DeliveryStatus, Retryability, WebhookEvent,
};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn receipt(name: &str) -> DeliveryReceipt {
    match webhook::parse(&fixture(name)).unwrap() {
        WebhookEvent::DeliveryReceipt(r) => r,
        other => panic!("{name} parsed as {other:?}"),
    }
}

const FAQ_TRANSID: &str = "5c9f6594-a371-4e78-8561-b695f9647472";

fn check_faq_common(r: &DeliveryReceipt) {
    assert_eq!(r.channel(), Some("whatsapp"));
    assert_eq!(r.destination_type(), Some("waid"));
    assert_eq!(r.destination(), Some("9199xxxxxxxx"));
    assert_eq!(r.transaction_id().unwrap().as_str(), FAQ_TRANSID);
    assert_eq!(r.additional_info(), None);
    assert_eq!(r.sub_transaction_id(), None);
    assert_eq!(r.correlation_id(), None);
    assert_eq!(r.callback_data(), None);
    assert_eq!(r.identity_key_hash(), None);
    assert_eq!(r.meta_error_code(), None);
    assert!(r.extra().is_empty());
}

#[test]
fn faq_submitted() {
    let r = receipt("delivery_submitted.json");
    check_faq_common(&r);
    assert_eq!(r.status(), &DeliveryStatus::Submitted);
    assert_eq!(r.code(), &DeliveryCode::Submitted);
    assert_eq!(r.description(), Some("Submitted"));
    assert_eq!(r.timestamp(), Some(datetime!(2019-03-04 09:49:20.429 UTC)));
    assert_eq!(r.timestamp_raw(), Some("2019-03-04T09:49:20.429Z"));
    assert!(!r.code().is_error());
    assert!(!r.status().is_final());
}

#[test]
fn faq_delivered() {
    let r = receipt("delivery_delivered.json");
    check_faq_common(&r);
    assert_eq!(r.status(), &DeliveryStatus::Delivered);
    assert_eq!(r.code(), &DeliveryCode::Delivered);
    assert_eq!(r.code().number(), Some(7500));
    assert_eq!(r.description(), Some("Delivered"));
    assert_eq!(r.timestamp(), Some(datetime!(2019-03-04 09:49:21.157 UTC)));
}

#[test]
fn faq_read() {
    let r = receipt("delivery_read.json");
    check_faq_common(&r);
    assert_eq!(r.status(), &DeliveryStatus::Read);
    assert_eq!(r.code(), &DeliveryCode::Read);
    assert_eq!(r.description(), Some("Read"));
    assert_eq!(r.timestamp(), Some(datetime!(2019-03-04 09:49:24.849 UTC)));
    assert!(r.status().is_final());
}

#[test]
fn faq_failed_7710() {
    let r = receipt("delivery_failed_7710.json");
    assert_eq!(r.status(), &DeliveryStatus::Failed);
    assert_eq!(r.code(), &DeliveryCode::ReEngagement);
    assert_eq!(r.code().as_str(), "7710");
    assert_eq!(r.description(), Some("Re-engagement message"));
    assert_eq!(
        r.additional_info(),
        Some(
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number"
        )
    );
    assert_eq!(r.meta_error_code(), None);
    assert_eq!(r.destination(), Some("9199XXXXXXXX"));
    assert_eq!(r.destination_type(), Some("waid"));
    assert_eq!(r.channel(), Some("whatsapp"));
    assert_eq!(r.timestamp(), Some(datetime!(2020-02-27 17:12:07.567 UTC)));
    assert_eq!(
        r.transaction_id().unwrap().as_str(),
        "108dd36b-9bca-48e5-ae8b-5f59c64b40a3"
    );
    assert_eq!(r.correlation_id(), Some("123456789"));
    assert_eq!(r.callback_data(), None);
    assert_eq!(r.sub_transaction_id(), None);
    assert!(r.code().is_permanent());
    assert!(!r.code().is_retryable());
    assert!(r.code().fix().unwrap().contains("send a template"));
}

#[test]
fn failed_7200_carries_the_meta_code() {
    let r = receipt("delivery_failed_7200_meta.json");
    assert_eq!(r.status(), &DeliveryStatus::Failed);
    assert_eq!(r.code(), &DeliveryCode::UnknownStatus);
    assert_eq!(r.meta_error_code(), Some(131_049));
    assert!(
        r.additional_info()
            .unwrap()
            .starts_with("(#131049) | In order")
    );
    assert_eq!(r.description(), Some("Unknown status"));
    assert_eq!(r.code().retryability(), Retryability::Unknown);
}

#[test]
fn failed_7737_keeps_the_platform_typo() {
    let r = receipt("delivery_failed_7737.json");
    assert_eq!(r.code(), &DeliveryCode::InvalidDestination);
    assert_eq!(r.description(), Some("Inavlid whatsapp destination"));
    assert_eq!(
        DeliveryCode::InvalidDestination.description(),
        Some("Invalid WhatsApp destination")
    );
    assert_eq!(r.additional_info(), Some("(#code) | error_data.details"));
    assert_eq!(r.meta_error_code(), None);
}

#[test]
fn offset_timestamp_and_echoed_ids() {
    let r = receipt("delivery_delivered_offset.json");
    assert_eq!(
        r.timestamp(),
        Some(datetime!(2019-03-04 15:19:21.157 +05:30))
    );
    assert_eq!(r.timestamp(), Some(datetime!(2019-03-04 09:49:21.157 UTC)));
    assert_eq!(r.timestamp_raw(), Some("2019-03-04T15:19:21.157+05:30"));
    assert_eq!(r.identity_key_hash(), Some("z2XXXXXXbBA="));
    assert_eq!(r.sub_transaction_id(), Some("1"));
    assert_eq!(r.correlation_id(), Some("order-1234"));
    assert_eq!(r.callback_data(), Some(r#"{"order":1234}"#));
}

#[test]
fn bad_timestamp_does_not_fail_the_parse() {
    let body = br#"{"deliveryInfoNotification":{"deliveryInfo":{"timeStamp":"04/03/2019 09:49","deliveryStatus":"Delivered"}}}"#;
    let r = DeliveryReceipt::from_slice(body).unwrap();
    assert_eq!(r.timestamp(), None);
    assert_eq!(r.timestamp_raw(), Some("04/03/2019 09:49"));
    assert_eq!(r.status(), &DeliveryStatus::Delivered);
}

#[test]
fn missing_fields_read_as_none_or_unknown() {
    let r = DeliveryReceipt::from_slice(br#"{"deliveryInfoNotification":{}}"#).unwrap();
    assert_eq!(r.status(), &DeliveryStatus::Unknown(String::new()));
    assert_eq!(r.code(), &DeliveryCode::Unknown(String::new()));
    assert_eq!(r.transaction_id(), None);
    assert_eq!(r.timestamp(), None);
    assert_eq!(r.destination(), None);
}

#[test]
fn unknown_status_and_code_are_kept() {
    let body = br#"{"deliveryInfoNotification":{"deliveryInfo":{"deliveryStatus":"Clicked","code":"7999"}}}"#;
    let r = DeliveryReceipt::from_slice(body).unwrap();
    assert_eq!(r.status(), &DeliveryStatus::Unknown("Clicked".into()));
    assert_eq!(r.code(), &DeliveryCode::Unknown("7999".into()));
    assert_eq!(r.code().number(), Some(7999));
    assert_eq!(r.code().description(), None);
    assert_eq!(r.code().retryability(), Retryability::Unknown);
}

#[test]
fn values_of_other_json_types_are_kept_as_text() {
    let body = br#"{"deliveryInfoNotification":{"deliveryInfo":{"code":7500,"destination":919900000000},"correlationid":{"a":1}}}"#;
    let r = DeliveryReceipt::from_slice(body).unwrap();
    assert_eq!(r.code(), &DeliveryCode::Delivered);
    assert_eq!(r.destination(), Some("919900000000"));
    assert_eq!(r.correlation_id(), Some(r#"{"a":1}"#));
}

#[test]
fn escaped_strings_are_unescaped() {
    let body = br#"{"deliveryInfoNotification":{"deliveryInfo":{"Description":"line\nbreak \u00e9"},"callbackData":"{\"k\":\"v\"}"}}"#;
    let r = DeliveryReceipt::from_slice(body).unwrap();
    assert_eq!(r.description(), Some("line\nbreak \u{e9}"));
    assert_eq!(r.callback_data(), Some(r#"{"k":"v"}"#));
}

/// Every code of reference §6, with its number, meaning and retry hint.
#[test]
fn every_reference_code_is_known() {
    let mut codes: Vec<u32> = vec![
        7500, 7501, 7502, 7200, 7010, 7011, 7701, 7703, 7704, 7705, 7706, 7707, 7710, 7711, 7712,
        7872, 7713, 7736, 7714, 7715, 7717, 7721, 7722, 7723, 7726, 7727, 7729, 7730, 7731, 7733,
        7737, 7802, 7803, 7860, 7804, 7805, 7849, 7808, 7809, 7811, 7821, 7812, 7813, 7814, 7815,
        7816, 7819, 7820, 7830, 7832, 7833, 7834, 7835, 7836, 7837, 7839, 7840, 7838, 7842, 7845,
        7846, 7854, 7861, 7862, 7863, 7865, 7868, 7869, 7870, 7871, 7874,
    ];
    codes.extend(9000..=9010);
    for n in codes {
        let code = DeliveryCode::from_code(&n.to_string());
        assert!(!matches!(code, DeliveryCode::Unknown(_)), "{n} is unknown");
        assert_eq!(code.number(), Some(n));
        assert_eq!(code.as_str(), n.to_string());
        assert_eq!(code.to_string(), n.to_string());
        assert!(code.description().is_some_and(|d| !d.is_empty()), "{n}");
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, format!("\"{n}\""));
        assert_eq!(serde_json::from_str::<DeliveryCode>(&json).unwrap(), code);
    }
}

#[test]
fn retry_hints_follow_the_reference() {
    for n in [7706, 7729, 7730, 7731, 7834, 7836, 7845, 7846, 7854, 7874] {
        let code = DeliveryCode::from_code(&n.to_string());
        assert!(code.is_retryable(), "{n}");
        assert!(!code.is_permanent(), "{n}");
    }
    for n in [
        7710, 7714, 7804, 7805, 7808, 7809, 7811, 7812, 7813, 7814, 7815, 7816, 7821, 7849, 7865,
        7868, 7869, 7871,
    ] {
        let code = DeliveryCode::from_code(&n.to_string());
        assert!(code.is_permanent(), "{n}");
        assert!(!code.is_retryable(), "{n}");
    }
    for code in [
        DeliveryCode::Delivered,
        DeliveryCode::Submitted,
        DeliveryCode::Read,
    ] {
        assert_eq!(code.retryability(), Retryability::NotAnError);
        assert!(!code.is_error());
    }
}

#[test]
fn fix_advice() {
    assert!(
        DeliveryCode::ReEngagement
            .fix()
            .unwrap()
            .contains("send a template")
    );
    assert!(
        DeliveryCode::MessageTooLong
            .fix()
            .unwrap()
            .starts_with("shorten")
    );
    assert!(
        DeliveryCode::TemplateParamCountMismatch
            .fix()
            .unwrap()
            .contains("check parameters")
    );
    assert_eq!(DeliveryCode::Delivered.fix(), None);
    assert_eq!(DeliveryCode::Unknown("1".into()).fix(), None);
}

#[test]
fn status_parsing() {
    for (wire, status) in [
        ("Submitted", DeliveryStatus::Submitted),
        ("Delivered", DeliveryStatus::Delivered),
        ("Read", DeliveryStatus::Read),
        ("Failed", DeliveryStatus::Failed),
        ("failed", DeliveryStatus::Failed),
    ] {
        assert_eq!(wire.parse::<DeliveryStatus>().unwrap(), status);
    }
    assert_eq!(DeliveryStatus::Failed.to_string(), "Failed");
    let json = serde_json::to_string(&DeliveryStatus::Unknown("Clicked".into())).unwrap();
    assert_eq!(json, "\"Clicked\"");
}

fn as_value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// The builder reproduces each FAQ sample exactly (same keys, casing and string values).
#[test]
fn builder_reproduces_the_faq_samples() {
    let cases = [
        (
            "delivery_submitted.json",
            DeliveryStatus::Submitted,
            datetime!(2019-03-04 09:49:20.429 UTC),
        ),
        (
            "delivery_delivered.json",
            DeliveryStatus::Delivered,
            datetime!(2019-03-04 09:49:21.157 UTC),
        ),
        (
            "delivery_read.json",
            DeliveryStatus::Read,
            datetime!(2019-03-04 09:49:24.849 UTC),
        ),
    ];
    for (name, status, at) in cases {
        let built = DeliveryReceipt::builder(FAQ_TRANSID, status)
            .destination("9199xxxxxxxx")
            .timestamp(at)
            .build();
        assert_eq!(
            as_value(built.raw().as_bytes()),
            as_value(&fixture(name)),
            "{name}"
        );
        assert_eq!(built, receipt(name));
    }
    let built = DeliveryReceipt::builder("108dd36b-9bca-48e5-ae8b-5f59c64b40a3", DeliveryStatus::Failed)
        .code(DeliveryCode::ReEngagement)
        .additional_info("Message failed to send because more than 24 hours have passed since the customer last replied to this number")
        .destination("9199XXXXXXXX")
        .timestamp(datetime!(2020-02-27 17:12:07.567 UTC))
        .correlation_id("123456789")
        .build();
    assert_eq!(
        as_value(built.raw().as_bytes()),
        as_value(&fixture("delivery_failed_7710.json"))
    );
    assert_eq!(built.correlation_id(), Some("123456789"));
    assert_eq!(built.code(), &DeliveryCode::ReEngagement);
}

#[test]
fn builder_writes_offsets() {
    let built = DeliveryReceipt::builder(FAQ_TRANSID, DeliveryStatus::Delivered)
        .destination("9199xxxxxxxx")
        .timestamp(datetime!(2019-03-04 15:19:21.157 +05:30))
        .identity_key_hash("z2XXXXXXbBA=")
        .sub_transaction_id("1")
        .correlation_id("order-1234")
        .callback_data(r#"{"order":1234}"#)
        .build();
    assert_eq!(
        as_value(built.raw().as_bytes()),
        as_value(&fixture("delivery_delivered_offset.json"))
    );
    let reparsed = DeliveryReceipt::from_slice(built.raw().as_bytes()).unwrap();
    assert_eq!(reparsed.identity_key_hash(), Some("z2XXXXXXbBA="));
    assert_eq!(reparsed.timestamp(), built.timestamp());
}

#[test]
fn serde_round_trip_of_every_receipt_fixture() {
    for name in [
        "delivery_submitted.json",
        "delivery_delivered.json",
        "delivery_read.json",
        "delivery_failed_7710.json",
        "delivery_failed_7200_meta.json",
        "delivery_failed_7737.json",
        "delivery_delivered_offset.json",
        "delivery_extra_fields.json",
    ] {
        let r = receipt(name);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            as_value(json.as_bytes()),
            as_value(&fixture(name)),
            "{name}"
        );
        let back: DeliveryReceipt = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.status(), r.status());
        assert_eq!(back.code(), r.code());
        assert_eq!(back.transaction_id(), r.transaction_id());
        assert_eq!(back.timestamp(), r.timestamp());
        assert_eq!(back.extra(), r.extra());
        let event: WebhookEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(event, WebhookEvent::DeliveryReceipt(r));
    }
}

#[test]
fn from_slice_requires_the_wrapper() {
    let err = DeliveryReceipt::from_slice(br#"{"event":"MO","waid":"1"}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "delivery receipt has no `deliveryInfoNotification` field (or it is empty)"
    );
}

#[test]
fn debug_is_readable() {
    let r = receipt("delivery_failed_7710.json");
    let debug = format!("{r:?}");
    assert!(debug.contains("ReEngagement"), "{debug}");
}

#[test]
fn receipts_the_typed_reader_cannot_read_are_kept_as_unknown_events() {
    let faq = String::from_utf8(fixture("delivery_delivered.json")).unwrap();
    let repeated = faq.replacen(r#""transid""#, r#""transid":"first","transid""#, 1);
    assert_ne!(repeated, faq);
    for body in [
        repeated.as_str(),
        r#"{"deliveryInfoNotification":"{\"deliveryInfo\":{}}"}"#,
        r#"{"deliveryInfoNotification":7}"#,
        r#"{"deliveryInfoNotification":{"deliveryInfo":"Delivered"}}"#,
    ] {
        let WebhookEvent::Unknown(e) = webhook::parse(body.as_bytes()).unwrap() else {
            panic!("{body} must be kept")
        };
        assert_eq!(e.raw(), body);
        assert_eq!(e.event(), None);
        assert!(e.pointer("/deliveryInfoNotification").is_some());
        assert!(
            DeliveryReceipt::from_slice(body.as_bytes()).is_err(),
            "{body}"
        );
    }
}

/// Link clicks (UNVERIFIED shape): a receipt-shaped body whose status is a click, or a flat
/// body whose `event` is one, is a typed click with its raw body kept.
#[test]
fn link_clicks_are_typed_in_either_shape() {
    use webex_connect_whatsapp::webhook::{self, WebhookEvent};
    for (fixture, destination) in [
        ("tests/fixtures/event_click_receipt.json", "9199xxxxxxxx"),
        (
            "tests/fixtures/event_click_flat.json",
            "US.13491208655302741918",
        ),
    ] {
        let body = std::fs::read(fixture).unwrap();
        let WebhookEvent::Click(click) = webhook::parse(&body).unwrap() else {
            panic!("{fixture} is a click");
        };
        assert_eq!(
            click.transaction_id().unwrap().as_str(),
            "5c9f6594-a371-4e78-8561-b695f9647472"
        );
        assert_eq!(click.destination(), Some(destination), "{fixture}");
        assert_eq!(click.url(), Some("https://wxc.io/a1B2c3"));
        assert_eq!(
            click.timestamp().unwrap().unix_timestamp(),
            time::macros::datetime!(2026-05-04 04:19:21.157 UTC).unix_timestamp()
        );
        assert_eq!(click.raw().as_bytes(), body.as_slice());
        assert!(!format!("{click:?}").contains("13491208655302741918"));
    }
    // A plain receipt stays a receipt, and an event that is not a click stays unknown.
    let receipt = std::fs::read("tests/fixtures/delivery_delivered.json").unwrap();
    assert!(matches!(
        webhook::parse(&receipt).unwrap(),
        WebhookEvent::DeliveryReceipt(_)
    ));
    let body = br#"{"event":"clicked","transid":"t1","url":"https://e.com/offer"}"#;
    let WebhookEvent::Click(click) = webhook::parse(body).unwrap() else {
        panic!("a click")
    };
    assert_eq!(click.url(), Some("https://e.com/offer"));
    let reaction = std::fs::read("tests/fixtures/event_reaction.json").unwrap();
    assert!(matches!(
        webhook::parse(&reaction).unwrap(),
        WebhookEvent::Unknown(_)
    ));
}

#[test]
fn receipts_read_bsuid_user_handle_and_gtrid_wherever_they_are() {
    // UNVERIFIED where a receipt carries them (reference §13): each level is read.
    for body in [
        r#"{"deliveryInfoNotification":{"deliveryInfo":{"destination":"919900012345","bsuid":"IN.746868","userHandle":"*_ait_12"},"transid":"t"},"x-wx-gtrid":"g-1"}"#,
        r#"{"deliveryInfoNotification":{"deliveryInfo":{"destination":"919900012345"},"bsuid":"IN.746868","userHandle":"*_ait_12","transid":"t"},"x-wx-gtrid":"g-1"}"#,
        r#"{"x-wx-gtrid":"g-1","bsuid":"IN.746868","userHandle":"*_ait_12","deliveryInfoNotification":{"deliveryInfo":{"destination":"919900012345"},"transid":"t"}}"#,
    ] {
        for r in [
            DeliveryReceipt::from_slice(body.as_bytes()).unwrap(),
            match webhook::parse(body.as_bytes()).unwrap() {
                WebhookEvent::DeliveryReceipt(r) => r,
                other => panic!("{other:?}"),
            },
        ] {
            assert_eq!(r.bsuid(), Some("IN.746868"), "{body}");
            assert_eq!(r.user_handle(), Some("*_ait_12"), "{body}");
            assert_eq!(r.gtrid(), Some("g-1"), "{body}");
            assert_eq!(r.destination(), Some("919900012345"));
            assert!(r.extra().is_empty(), "{body}: {:?}", r.extra());
        }
    }
    let r = receipt("delivery_delivered.json");
    assert_eq!((r.bsuid(), r.user_handle(), r.gtrid()), (None, None, None));
}

#[test]
fn debug_masks_the_destination_and_the_user_ids() {
    let r = DeliveryReceipt::from_slice(
        br#"{"deliveryInfoNotification":{"deliveryInfo":{"destination":"447400123456","bsuid":"US.13491208655302741918","userHandle":"asha.k"}}}"#,
    )
    .unwrap();
    let debug = format!("{r:?}");
    for secret in ["7400123456", "13491208655302741918", "asha.k"] {
        assert!(!debug.contains(secret), "{debug} shows {secret}");
    }
}
