//! Inbound messages and button replies: every FAQ sample, field by field.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use serde_json::Value;
use time::macros::datetime;
use webex_connect_whatsapp::webhook::{
    self, Attachment, InboundEvent, InboundMessage, SharedLocation, UnknownEvent, WebhookError,
    WebhookEvent,
};
use webex_connect_whatsapp::{Bsuid, PhoneNumber, Recipient};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn inbound(name: &str) -> InboundMessage {
    match webhook::parse(&fixture(name)).unwrap() {
        WebhookEvent::Inbound(m) => m,
        other => panic!("{name} parsed as {other:?}"),
    }
}

fn as_value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// Fields every FAQ inbound sample shares.
fn check_faq_common(m: &InboundMessage, app: &str, waid: &str) {
    assert_eq!(m.event(), &InboundEvent::Mo);
    assert_eq!(m.channel(), Some("WhatsApp"));
    assert_eq!(m.app_id(), Some(app));
    assert_eq!(m.waid(), Some(waid));
    assert_eq!(m.user_id(), None);
    assert_eq!(m.system(), None);
    assert_eq!(m.button_text(), None);
    assert_eq!(m.button_payload(), None);
    assert_eq!(m.contacts().unwrap(), Vec::<Value>::new());
    assert!(m.extra().is_empty(), "{:?}", m.extra());
}

#[test]
fn faq_text() {
    let m = inbound("inbound_text.json");
    check_faq_common(&m, "a_155054536910425280", "9199xxxxxxxx");
    assert_eq!(m.text(), Some("Hello"));
    assert_eq!(m.attachments_raw().as_deref(), Some("[]"));
    assert!(m.attachments().unwrap().is_empty());
    assert_eq!(m.location().unwrap(), None);
    assert_eq!(m.location_raw(), None);
    assert_eq!(m.timestamp(), Some(datetime!(2019-03-03 07:40:51.297 UTC)));
    assert_eq!(m.tid(), Some("0cab6280-9d98-0041-4877-0bde6515b15a_0"));
}

fn single_attachment(m: &InboundMessage) -> Attachment {
    let mut all = m.attachments().unwrap();
    assert_eq!(all.len(), 1);
    all.remove(0)
}

#[test]
fn faq_image() {
    let m = inbound("inbound_image.json");
    check_faq_common(&m, "a_154623235593581600", "9187xxxxxxxx");
    assert_eq!(m.text(), None);
    let a = single_attachment(&m);
    assert_eq!(a.mime_type, mime::IMAGE_JPEG);
    assert_eq!(
        a.url.as_str(),
        "https://stgrtmedia.s3.amazonaws.com/a_154623235593581600/d3aa15e8-93ee-4e79-bb31-0ad3f0fe7430.jpg"
    );
    assert_eq!(a.caption, None);
    assert!(a.extra.is_empty());
    assert_eq!(m.timestamp(), Some(datetime!(2019-01-03 09:04:42.726 UTC)));
    assert_eq!(m.tid(), Some("5b11ed3b-36fb-9336-bb58-11429b0b78aa_0"));
}

#[test]
fn faq_video() {
    let m = inbound("inbound_video.json");
    check_faq_common(&m, "a_154623235593581600", "9187xxxxxxxx");
    let a = single_attachment(&m);
    assert_eq!(a.mime_type.essence_str(), "video/mp4");
    assert!(
        a.url
            .path()
            .ends_with("aa9b851f-94b6-49f6-878c-ea8a8d7b3098.mp4")
    );
    assert_eq!(m.timestamp(), Some(datetime!(2019-01-03 09:23:26.386 UTC)));
    assert_eq!(m.tid(), Some("ff0f3e02-e812-22f7-dc15-dba71dabde53_0"));
}

#[test]
fn faq_audio_without_extension() {
    let m = inbound("inbound_audio.json");
    check_faq_common(&m, "a_154623235593581600", "9187xxxxxxxx");
    let a = single_attachment(&m);
    assert_eq!(a.mime_type.essence_str(), "audio/mpeg");
    assert_eq!(
        a.url.as_str(),
        "https://stgrtmedia.s3.amazonaws.com/a_154623235593581600/ef484891-d99c-45b9-af97-c5ad0e7abef6"
    );
    assert_eq!(m.timestamp(), Some(datetime!(2019-01-03 08:03:04.866 UTC)));
    assert_eq!(m.tid(), Some("88be8081-8579-2a56-3e03-cee8b01afdb2_0"));
}

#[test]
fn faq_document_with_caption() {
    let m = inbound("inbound_document.json");
    check_faq_common(&m, "a_154623235593581600", "9187xxxxxxxx");
    let a = single_attachment(&m);
    assert_eq!(a.mime_type.essence_str(), "application/msword");
    assert_eq!(a.caption.as_deref(), Some("This is PPT-1"));
    assert_eq!(
        a.url.path().rsplit_once('.').map(|(_, ext)| ext),
        Some("ppt")
    );
    assert_eq!(m.timestamp(), Some(datetime!(2019-01-03 08:59:16.192 UTC)));
    assert_eq!(m.tid(), Some("5a7898e0-d80b-7316-dd80-7849f84fa304_0"));
}

#[test]
fn faq_location() {
    let m = inbound("inbound_location.json");
    check_faq_common(&m, "a_154529859479452060", "9187xxxxxxxx");
    assert!(m.attachments().unwrap().is_empty());
    let l = m.location().unwrap().unwrap();
    assert_eq!(l.latitude(), Some(17.434_901_060_022));
    assert_eq!(l.latitude_raw(), Some("17.434901060022"));
    assert_eq!(l.longitude(), Some(78.398_435_572_505));
    assert_eq!(l.longitude_raw(), Some("78.398435572505"));
    assert_eq!(l.name(), Some("Imimobile"));
    assert_eq!(
        l.address(),
        Some("Plot No. 770, Road No. 44, Jubilee Hills, Hyderabad")
    );
    assert_eq!(
        l.url(),
        Some("https://www.facebook.com/pages/Imimobile/204627936239899")
    );
    assert!(l.extra().is_empty());
    assert_eq!(m.timestamp(), Some(datetime!(2019-01-08 08:59:02.717 UTC)));
    assert_eq!(m.tid(), Some("3beecbfb-73fd-803e-a27f-4e797fb22ffd_0"));
}

#[test]
fn postback() {
    let m = inbound("inbound_postback.json");
    assert_eq!(m.event(), &InboundEvent::Postback);
    assert_eq!(m.username(), Some("Asha"));
    assert_eq!(m.button_text(), Some("Track order"));
    assert_eq!(m.button_payload(), Some("TRACK_ORDER_1234"));
    assert_eq!(
        m.transaction_id()
            .map(webex_connect_whatsapp::TransactionId::as_str),
        Some("5c9f6594-a371-4e78-8561-b695f9647472")
    );
    assert_eq!(m.tid(), Some("5c9f6594-a371-4e78-8561-b695f9647472_0"));
    assert_eq!(
        m.client_uuid(),
        Some("0f6e2d1c-3b4a-4c5d-8e9f-a0b1c2d3e4f5")
    );
    assert_eq!(m.identity_key_hash(), None);
    assert_eq!(m.errors(), None);
    assert_eq!(m.text(), None);
    assert_eq!(
        m.timestamp(),
        Some(datetime!(2022-01-11 21:22:12.980 +05:30))
    );
    assert_eq!(m.timestamp(), Some(datetime!(2022-01-11 15:52:12.980 UTC)));
    // `x-wx-gtrid` is read (reference §13), so nothing of this body is extra.
    let extra = m.extra();
    assert!(extra.is_empty(), "{extra:?}");
    assert_eq!(m.gtrid(), Some("6f1c0b2a-7d35-4c8e-a1e9-0b4d2c6f8a13"));
    assert!(!extra.contains_key("/x-wx-gtrid"), "{extra:?}");
}

#[test]
fn masked_waid_is_kept_as_received() {
    let m = InboundMessage::from_slice(br#"{"event":"MO","waid":"9199xxxxxxxx"}"#).unwrap();
    assert_eq!(m.waid(), Some("9199xxxxxxxx"));
}

#[test]
fn malformed_embedded_json_fails_only_its_accessor() {
    let body = br#"{"event":"MO","waid":"1","message":"hi","attachments":"[{\"mime_type\":\"image/jpeg\"","location":"{\"latitude\":","contacts":"nope"}"#;
    let m = match webhook::parse(body).unwrap() {
        WebhookEvent::Inbound(m) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(m.text(), Some("hi"));
    let err = m.attachments().unwrap_err();
    assert!(matches!(
        err,
        WebhookError::InvalidEmbeddedJson {
            field: "attachments",
            ..
        }
    ));
    assert!(
        err.to_string()
            .starts_with("`attachments` does not hold valid a JSON array")
    );
    assert_eq!(
        m.attachments_raw().as_deref(),
        Some(r#"[{"mime_type":"image/jpeg""#)
    );
    assert!(matches!(
        m.location(),
        Err(WebhookError::InvalidEmbeddedJson {
            field: "location",
            ..
        })
    ));
    assert_eq!(m.location_raw().as_deref(), Some(r#"{"latitude":"#));
    assert!(matches!(
        m.contacts(),
        Err(WebhookError::InvalidEmbeddedJson {
            field: "contacts",
            ..
        })
    ));
}

#[test]
fn invalid_mime_or_url_is_an_accessor_error() {
    let body = br#"{"event":"MO","waid":"1","attachments":"[{\"mime_type\":\"not a mime\",\"url\":\"https://e.com/a\"}]"}"#;
    let m = InboundMessage::from_slice(body).unwrap();
    assert!(m.attachments().is_err());
    let body = br#"{"event":"MO","waid":"1","attachments":"[{\"mime_type\":\"image/png\",\"url\":\"relative/path\"}]"}"#;
    assert!(
        InboundMessage::from_slice(body)
            .unwrap()
            .attachments()
            .is_err()
    );
}

#[test]
fn attachments_sent_as_a_real_array_also_decode() {
    let body = br#"{"event":"MO","waid":"1","attachments":[{"mime_type":"image/png","url":"https://e.com/a.png","sha256":"abc"}],"location":{"latitude":1.5,"longitude":-2}}"#;
    let m = InboundMessage::from_slice(body).unwrap();
    let a = &m.attachments().unwrap()[0];
    assert_eq!(a.mime_type, mime::IMAGE_PNG);
    assert_eq!(a.extra["sha256"], "abc");
    let l = m.location().unwrap().unwrap();
    assert_eq!(l.latitude(), Some(1.5));
    assert_eq!(l.longitude(), Some(-2.0));
}

#[test]
fn location_with_bad_coordinates_keeps_the_text() {
    let body =
        br#"{"event":"MO","waid":"1","location":"{\"latitude\":\"north\",\"longitude\":\"\"}"}"#;
    let l = InboundMessage::from_slice(body)
        .unwrap()
        .location()
        .unwrap()
        .unwrap();
    assert_eq!(l.latitude(), None);
    assert_eq!(l.latitude_raw(), Some("north"));
    assert_eq!(l.longitude(), None);
}

#[test]
fn an_mo_without_any_sender_id_is_unknown_for_parse_and_an_error_for_from_slice() {
    for body in [
        r#"{"event":"MO","message":"hi"}"#,
        r#"{"event":"MO","waid":"","userId":"","message":"hi"}"#,
        r#"{"event":"MO","waid":null,"bsuid":"not-a-bsuid"}"#,
    ] {
        let WebhookEvent::Unknown(e) = webhook::parse(body.as_bytes()).unwrap() else {
            panic!("{body} must be kept as an unknown event")
        };
        assert_eq!(e.event(), Some("MO"));
        assert_eq!(e.raw(), body);
        let err = InboundMessage::from_slice(body.as_bytes()).unwrap_err();
        assert_eq!(err, WebhookError::NoSender, "{body}");
    }
    assert_eq!(
        WebhookError::NoSender.to_string(),
        "inbound message names no sender: `waid`, `userId` and `bsuid` are all absent or \
         empty; expected a WhatsApp id in `waid` or a business-scoped user id in `userId`"
    );
}

#[test]
fn event_matching_ignores_case_and_unknown_events_are_kept() {
    let m = InboundMessage::from_slice(br#"{"event":"mo","waid":"1"}"#).unwrap();
    assert_eq!(m.event(), &InboundEvent::Mo);
    let body = br#"{"event":"reaction","waid":"1"}"#;
    let WebhookEvent::Unknown(e) = webhook::parse(body).unwrap() else {
        panic!("a reaction is an unknown event")
    };
    assert_eq!(e.event(), Some("reaction"));
    assert_eq!(e.raw().as_bytes(), body);
    // The typed reader still reads it, naming the event it does not know.
    let m = InboundMessage::from_slice(body).unwrap();
    assert_eq!(m.event(), &InboundEvent::Unknown("reaction".into()));
    let WebhookEvent::Unknown(e) = webhook::parse(b"{}").unwrap() else {
        panic!("an empty object is an unknown event")
    };
    assert_eq!(e.event(), None);
}

fn unknown(body: &[u8]) -> UnknownEvent {
    match webhook::parse(body).unwrap() {
        WebhookEvent::Unknown(e) => {
            assert_eq!(e.raw().as_bytes(), body, "raw() is the body byte for byte");
            e
        }
        other => panic!("{} parsed as {other:?}", String::from_utf8_lossy(body)),
    }
}

#[test]
fn reaction_fixture_is_an_unknown_event_kept_byte_for_byte() {
    let e = unknown(&fixture("event_reaction.json"));
    assert_eq!(e.event(), Some("reaction"));
    assert_eq!(e.pointer("/reaction/emoji"), Some(Value::from("\u{1f44d}")));
    assert_eq!(e.value()["waid"], "9199xxxxxxxx");
    assert_eq!(e.pointer("/nope"), None);
}

#[test]
fn user_id_update_fixture_is_an_unknown_event_kept_byte_for_byte() {
    let e = unknown(&fixture("event_user_id_update.json"));
    assert_eq!(e.event(), Some("user_id_update"));
    assert_eq!(
        e.pointer("/previousUserId"),
        Some(Value::from("US.88412093317720455116"))
    );
}

#[test]
fn bodies_the_typed_reader_refuses_are_unknown_events() {
    let cases: &[(&str, Option<&str>)] = &[
        // A repeated key: the typed reader refuses it, the event is still kept.
        (r#"{"event":"MO","waid":"1","waid":"2"}"#, Some("MO")),
        (
            r#"{"event":"MO","event":"typing","waid":"1"}"#,
            Some("typing"),
        ),
        // Known fields of another shape.
        (r#"{"deliveryInfoNotification":"x"}"#, None),
        (r#"{"deliveryInfoNotification":{"deliveryInfo":"x"}}"#, None),
        (
            r#"{"deliveryInfoNotification":{"transid":"t","transid":"u"}}"#,
            None,
        ),
        // Events the crate does not model.
        (
            r#"{"event":"typing","userId":"US.1349","state":"on"}"#,
            Some("typing"),
        ),
        (
            r#"{"event":"call_permission","waid":"9199xxxxxxxx"}"#,
            Some("call_permission"),
        ),
        (
            r#"{"event":"user_id_update","waid":"1","userId":"US.1"}"#,
            Some("user_id_update"),
        ),
        (
            r#"{"event":"reaction","emoji":"\ud83d\ude00"}"#,
            Some("reaction"),
        ),
        // No `event`, or one that names nothing.
        (r#"{"waid":"1","message":"hi"}"#, None),
        (r#"{"event":5,"waid":"1"}"#, None),
        (r#"{"event":"","waid":"1"}"#, None),
        (r#"{"event":null}"#, None),
        (r#" { "ev\u0065nt" : "esc\u0061ped" } "#, Some("escaped")),
        // Valid JSON that `serde_json::Value` cannot hold is still an object.
        (r#"{"event":"big","n":1e400}"#, Some("big")),
        (r#"{"event":"lone","s":"\ud800"}"#, Some("lone")),
    ];
    for (body, event) in cases {
        let e = unknown(body.as_bytes());
        assert_eq!(e.event(), *event, "{body}");
    }
    let deep = format!(
        r#"{{"event":"deep","a":{}1{}}}"#,
        "[".repeat(500),
        "]".repeat(500)
    );
    assert_eq!(unknown(deep.as_bytes()).event(), Some("deep"));
}

#[test]
fn username_user_fixture_has_a_bsuid_and_no_waid() {
    let body = fixture("inbound_username_user.json");
    let m = inbound("inbound_username_user.json");
    assert_eq!(m.raw().as_bytes(), body);
    assert_eq!(m.event(), &InboundEvent::Mo);
    assert_eq!(m.waid(), None);
    assert_eq!(
        m.bsuid().map(Bsuid::as_str),
        Some("US.13491208655302741918")
    );
    assert_eq!(m.user_id(), Some("US.13491208655302741918"));
    assert_eq!(m.username(), Some("asha.k"));
    assert_eq!(m.text(), Some("Hi, is my order shipped?"));
    assert_eq!(
        m.sender_ids().collect::<Vec<_>>(),
        ["US.13491208655302741918"]
    );
    assert_eq!(
        m.reply_to(),
        Some(Recipient::from(
            Bsuid::new("US.13491208655302741918").unwrap()
        ))
    );
    assert!(m.extra().is_empty(), "{:?}", m.extra());
}

#[test]
fn both_ids_are_kept_when_both_arrive() {
    let body = fixture("inbound_both_ids.json");
    let m = inbound("inbound_both_ids.json");
    assert_eq!(m.raw().as_bytes(), body);
    assert_eq!(m.waid(), Some("5511987654321"));
    assert_eq!(m.bsuid().map(Bsuid::as_str), Some("BR.1502576394655843"));
    assert_eq!(m.username(), Some("joao"));
    assert_eq!(
        m.sender_ids().collect::<Vec<_>>(),
        ["5511987654321", "BR.1502576394655843"]
    );
    // The phone number is preferred for answers.
    assert_eq!(
        m.reply_to(),
        Some(Recipient::from(
            PhoneNumber::parse("+5511987654321").unwrap()
        ))
    );
}

#[test]
fn a_normalized_waid_is_kept_exactly_as_received() {
    let body = fixture("inbound_normalized_waid.json");
    let m = inbound("inbound_normalized_waid.json");
    assert_eq!(m.raw().as_bytes(), body);
    assert_eq!(m.waid(), Some("IN.2149372115xxxxxx"));
    // A BSUID-shaped `waid` is a normalized WAID, not a BSUID.
    assert_eq!(m.bsuid(), None);
    assert_eq!(m.user_id(), None);
    assert_eq!(m.username(), None);
    assert_eq!(m.sender_ids().collect::<Vec<_>>(), ["IN.2149372115xxxxxx"]);
    assert_eq!(m.reply_to(), None);
    assert_eq!(m.timestamp(), Some(datetime!(2026-11-20 04:47:30.250 UTC)));
}

#[test]
fn an_empty_waid_with_a_bsuid_user_id_is_a_username_user() {
    for body in [
        r#"{"event":"MO","waid":"","userId":"US.13491208655302741918"}"#,
        r#"{"event":"MO","waid":null,"userId":"US.13491208655302741918"}"#,
        r#"{"event":"postback","userId":"US.13491208655302741918","buttonPayload":"P"}"#,
    ] {
        let WebhookEvent::Inbound(m) = webhook::parse(body.as_bytes()).unwrap() else {
            panic!("{body} is an inbound message")
        };
        assert_eq!(m.waid(), None, "{body}");
        assert_eq!(
            m.bsuid().map(Bsuid::as_str),
            Some("US.13491208655302741918")
        );
        assert_eq!(m.raw(), body);
    }
}

#[test]
fn a_bsuid_field_is_read_as_a_string_or_an_array() {
    let cases = [
        (
            r#"{"event":"MO","bsuid":"US.ENT.11815799212886844830"}"#,
            "US.ENT.11815799212886844830",
        ),
        (r#"{"event":"MO","bsuid":["US.1349"]}"#, "US.1349"),
        (r#"{"event":"MO","bsuid":["bad","US.1349"]}"#, "US.1349"),
        // The `bsuid` field wins over a BSUID in `userId`.
        (r#"{"event":"MO","userId":"US.1","bsuid":"US.2"}"#, "US.2"),
        // An invalid `bsuid` falls back to `userId`.
        (r#"{"event":"MO","userId":"US.1","bsuid":"nope"}"#, "US.1"),
        (
            r#"{"event":"MO","waid":"","bsuid":"US.1349","username":"asha"}"#,
            "US.1349",
        ),
    ];
    for (body, expected) in cases {
        let WebhookEvent::Inbound(m) = webhook::parse(body.as_bytes()).unwrap() else {
            panic!("{body} is an inbound message")
        };
        assert_eq!(m.bsuid().map(Bsuid::as_str), Some(expected), "{body}");
        assert_eq!(m.waid(), None);
        assert!(m.extra().is_empty(), "`bsuid` is a known field: {body}");
        assert!(m.pointer("/bsuid").is_some());
    }
}

#[test]
fn a_user_id_that_is_not_a_bsuid_stays_a_plain_user_id() {
    for user_id in ["u-77", "13491208655302741918", "us.1349", "US.", "US.a-b"] {
        let body = format!(r#"{{"event":"MO","waid":"9199xxxxxxxx","userId":"{user_id}"}}"#);
        let m = InboundMessage::from_slice(body.as_bytes()).unwrap();
        assert_eq!(m.user_id(), Some(user_id));
        assert_eq!(m.bsuid(), None, "{user_id}");
        assert_eq!(m.sender_ids().collect::<Vec<_>>(), ["9199xxxxxxxx"]);
    }
    // With no waid, a plain user id still names the sender, but cannot be answered.
    let m = InboundMessage::from_slice(br#"{"event":"MO","userId":"u-77"}"#).unwrap();
    assert_eq!((m.waid(), m.bsuid(), m.reply_to()), (None, None, None));
    assert!(matches!(
        webhook::parse(br#"{"event":"MO","userId":"u-77"}"#).unwrap(),
        WebhookEvent::Inbound(_)
    ));
}

#[test]
fn debug_masks_every_id() {
    for name in [
        "inbound_username_user.json",
        "inbound_both_ids.json",
        "inbound_normalized_waid.json",
        "inbound_bsuid_user_handle.json",
    ] {
        let m = inbound(name);
        let debug = format!("{m:?}");
        for secret in [
            "13491208655302741918",
            "1502576394655843",
            "5511987654321",
            "2149372115",
            "asha.k",
            "joao",
            "746868",
            "_ait_12",
        ] {
            assert!(!debug.contains(secret), "{name}: {debug} shows {secret}");
        }
        assert!(debug.contains("InboundMessage"), "{debug}");
    }
    let debug = format!("{:?}", unknown(&fixture("event_user_id_update.json")));
    assert!(!debug.contains("1349"), "{debug}");
    assert!(debug.contains("user_id_update"), "{debug}");
}

#[test]
fn builder_simulates_a_username_user() {
    let id = Bsuid::new("US.13491208655302741918").unwrap();
    let m = InboundMessage::builder("a_155054536910425280", "")
        .bsuid(id.clone())
        .username("asha.k")
        .text("Hi, is my order shipped?")
        .tid("7d0e5a91-2c4b-4f4e-9a51-3b1c0e6f2a77_0")
        .timestamp(datetime!(2026-11-20 10:15:02.412 UTC))
        .build()
        .unwrap();
    assert_eq!(m.waid(), None);
    assert_eq!(m.bsuid(), Some(&id));
    assert_eq!(m.username(), Some("asha.k"));
    // The fixture leaves `waid` out; the builder writes it empty. Both read the same.
    let mut expected = as_value(&fixture("inbound_username_user.json"));
    expected["waid"] = Value::from("");
    assert_eq!(as_value(m.raw().as_bytes()), expected);
    assert!(matches!(
        webhook::parse(m.raw().as_bytes()).unwrap(),
        WebhookEvent::Inbound(ref again) if again == &m
    ));

    let from = InboundMessage::builder_from("a_1", id.clone())
        .postback("Yes", "YES_1")
        .build()
        .unwrap();
    assert_eq!((from.waid(), from.bsuid()), (None, Some(&id)));
    assert_eq!(from.event(), &InboundEvent::Postback);

    let phone = PhoneNumber::parse("+5511987654321").unwrap();
    let both = InboundMessage::builder_from("a_1", &phone)
        .bsuid(Bsuid::new("BR.1502576394655843").unwrap())
        .build()
        .unwrap();
    assert_eq!(
        both.sender_ids().collect::<Vec<_>>(),
        ["5511987654321", "BR.1502576394655843"]
    );
}

#[test]
fn builder_refuses_a_message_with_no_sender() {
    assert_eq!(
        InboundMessage::builder("a_1", "")
            .text("hi")
            .build()
            .unwrap_err(),
        WebhookError::NoSender
    );
    let m = InboundMessage::builder("a_1", "")
        .user_id("u-77")
        .build()
        .unwrap();
    assert_eq!(
        (m.waid(), m.user_id(), m.bsuid()),
        (None, Some("u-77"), None)
    );
}

#[test]
fn unknown_events_round_trip_through_serde() {
    for body in [
        fixture("event_reaction.json"),
        fixture("event_user_id_update.json"),
        br#"{"event":"typing","on":1,"on":2}"#.to_vec(),
    ] {
        let event = webhook::parse(&body).unwrap();
        let json = serde_json::to_string(&event).unwrap();
        let back: WebhookEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
        assert!(matches!(back, WebhookEvent::Unknown(_)));
        let e: UnknownEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(WebhookEvent::Unknown(e), event);
    }
    // Serializing writes the JSON value, where a repeated key keeps its last value: an `MO`
    // that was unknown only for its repeated key comes back typed.
    let event = webhook::parse(br#"{"event":"MO","waid":"1","waid":"2"}"#).unwrap();
    let back: WebhookEvent = serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
    let WebhookEvent::Inbound(m) = back else {
        panic!("{back:?}")
    };
    assert_eq!(m.waid(), Some("2"));
    assert!(serde_json::from_str::<UnknownEvent>("[1]").is_err());
    assert!(serde_json::from_str::<WebhookEvent>("\"x\"").is_err());
    // Bodies `Value` cannot hold are written back as they are.
    let body = r#"{"event":"big","n":1e400}"#;
    let event = webhook::parse(body.as_bytes()).unwrap();
    assert_eq!(serde_json::to_string(&event).unwrap(), body);
    assert_ne!(
        event,
        webhook::parse(br#"{"event":"big","n":2e400}"#).unwrap()
    );
}

#[test]
fn builder_reproduces_the_faq_text_sample() {
    let built = InboundMessage::builder("a_155054536910425280", "9199xxxxxxxx")
        .text("Hello")
        .tid("0cab6280-9d98-0041-4877-0bde6515b15a_0")
        .timestamp(datetime!(2019-03-03 07:40:51.297 UTC))
        .build()
        .unwrap();
    assert_eq!(
        as_value(built.raw().as_bytes()),
        as_value(&fixture("inbound_text.json"))
    );
    assert_eq!(built, inbound("inbound_text.json"));
}

#[test]
fn builder_reproduces_the_faq_media_samples() {
    let doc = Attachment::new(
        "application/msword".parse().unwrap(),
        "https://stgrtmedia.s3.amazonaws.com/a_154623235593581600/21bb5a4a-fd0e-47d3-a02d-b1af0eddbe88.ppt"
            .parse()
            .unwrap(),
    )
    .with_caption("This is PPT-1");
    let built = InboundMessage::builder("a_154623235593581600", "9187xxxxxxxx")
        .attachment(doc)
        .tid("5a7898e0-d80b-7316-dd80-7849f84fa304_0")
        .timestamp(datetime!(2019-01-03 08:59:16.192 UTC))
        .build()
        .unwrap();
    assert_eq!(
        as_value(built.raw().as_bytes()),
        as_value(&fixture("inbound_document.json"))
    );
    // The JSON inside the string has the FAQ's key order too.
    assert_eq!(
        built.attachments_raw(),
        inbound("inbound_document.json").attachments_raw()
    );

    let image = Attachment::new(
        mime::IMAGE_JPEG,
        "https://stgrtmedia.s3.amazonaws.com/a_154623235593581600/d3aa15e8-93ee-4e79-bb31-0ad3f0fe7430.jpg"
            .parse()
            .unwrap(),
    );
    let built = InboundMessage::builder("a_154623235593581600", "9187xxxxxxxx")
        .attachment(image)
        .tid("5b11ed3b-36fb-9336-bb58-11429b0b78aa_0")
        .timestamp(datetime!(2019-01-03 09:04:42.726 UTC))
        .build()
        .unwrap();
    assert_eq!(built, inbound("inbound_image.json"));
}

#[test]
fn builder_location_and_postback() {
    let location = SharedLocation::new(17.434_901_060_022, 78.398_435_572_505)
        .unwrap()
        .with_name("Imimobile")
        .with_address("Plot No. 770, Road No. 44, Jubilee Hills, Hyderabad")
        .with_url("https://www.facebook.com/pages/Imimobile/204627936239899");
    let built = InboundMessage::builder("a_154529859479452060", "9187xxxxxxxx")
        .location(location.clone())
        .tid("3beecbfb-73fd-803e-a27f-4e797fb22ffd_0")
        .timestamp(datetime!(2019-01-08 08:59:02.717 UTC))
        .build()
        .unwrap();
    assert_eq!(built.location().unwrap(), Some(location));
    let faq = inbound("inbound_location.json");
    let embedded =
        |m: &InboundMessage| -> Value { serde_json::from_str(&m.location_raw().unwrap()).unwrap() };
    assert_eq!(embedded(&built), embedded(&faq));
    assert_eq!(built, faq);

    let reply = InboundMessage::builder("a_155054536910425280", "9199xxxxxxxx")
        .postback("Track order", "TRACK_ORDER_1234")
        .transaction_id("5c9f6594-a371-4e78-8561-b695f9647472")
        .build()
        .unwrap();
    assert!(matches!(
        webhook::parse(reply.raw().as_bytes()).unwrap(),
        WebhookEvent::Inbound(_)
    ));
    assert_eq!(reply.event(), &InboundEvent::Postback);
    assert_eq!(reply.button_text(), Some("Track order"));
    assert_eq!(reply.button_payload(), Some("TRACK_ORDER_1234"));
    let raw = as_value(reply.raw().as_bytes());
    for value in raw.as_object().unwrap().values() {
        assert!(value.is_string(), "all values are strings: {raw}");
    }
}

#[test]
fn location_new_checks_ranges() {
    let err = SharedLocation::new(0.0, 181.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "longitude is 181, but it must be a finite number from -180 to 180"
    );
    assert!(SharedLocation::new(f64::NAN, 0.0).is_err());
    assert!(SharedLocation::new(-90.0, -180.0).is_ok());
}

#[test]
fn serde_round_trip_of_every_inbound_fixture() {
    for name in [
        "inbound_text.json",
        "inbound_image.json",
        "inbound_video.json",
        "inbound_location.json",
        "inbound_audio.json",
        "inbound_document.json",
        "inbound_postback.json",
        "inbound_extra_fields.json",
        "inbound_username_user.json",
        "inbound_both_ids.json",
        "inbound_normalized_waid.json",
        "inbound_bsuid_user_handle.json",
    ] {
        let m = inbound(name);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            as_value(json.as_bytes()),
            as_value(&fixture(name)),
            "{name}"
        );
        let back: InboundMessage = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.waid(), m.waid());
        assert_eq!(back.attachments(), m.attachments());
        assert_eq!(back.location(), m.location());
        for a in m.attachments().unwrap() {
            let again: Attachment =
                serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
            assert_eq!(again, a);
        }
        if let Some(l) = m.location().unwrap() {
            let again: SharedLocation =
                serde_json::from_str(&serde_json::to_string(&l).unwrap()).unwrap();
            assert_eq!(again, l);
        }
        let event: WebhookEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(event, WebhookEvent::Inbound(m));
    }
}

#[test]
fn the_6_17_identity_fields_are_read_as_received() {
    // Cisco's 6.17 release notes: webhooks gained `bsuid` and `userHandle` (reference §13).
    let m = inbound("inbound_bsuid_user_handle.json");
    assert_eq!(m.waid(), None);
    assert_eq!(m.user_id(), None);
    assert_eq!(m.username(), None);
    assert_eq!(m.bsuid().map(Bsuid::as_str), Some("IN.746868"));
    assert_eq!(m.bsuid_raw(), Some("IN.746868"));
    assert_eq!(m.user_handle(), Some("*_ait_12"));
    assert_eq!(m.gtrid(), Some("9a4d7e21-3c6b-4f0a-8e15-7b2c9d0f6a48"));
    assert_eq!(
        m.reply_to(),
        Some(Recipient::from(Bsuid::new("IN.746868").unwrap()))
    );
    // None of them is left as an unknown field.
    assert!(m.extra().is_empty(), "{:?}", m.extra());

    // A `bsuid` that is not a valid BSUID is still kept as received.
    let m =
        InboundMessage::from_slice(br#"{"event":"MO","waid":"447400123456","bsuid":"7468 68"}"#)
            .unwrap();
    assert_eq!((m.bsuid(), m.bsuid_raw()), (None, Some("7468 68")));
    // Both handles may arrive; neither stands in for the other.
    let m = InboundMessage::from_slice(
        br#"{"event":"MO","waid":"447400123456","username":"Asha","userHandle":"asha.k"}"#,
    )
    .unwrap();
    assert_eq!(
        (m.username(), m.user_handle()),
        (Some("Asha"), Some("asha.k"))
    );
}

#[test]
fn reply_to_prefers_the_phone_number_when_both_ids_arrive() {
    // As the platform uses the waid of a destination that carries both (reference §13).
    let m = InboundMessage::from_slice(
        br#"{"event":"MO","waid":"447400123456","bsuid":"US.13491208655302741918"}"#,
    )
    .unwrap();
    assert_eq!(
        m.reply_to(),
        Some(Recipient::from(
            PhoneNumber::parse("+447400123456").unwrap()
        ))
    );
    // A username user's empty waid is no phone number: from_waid says to use reply_to.
    let m = inbound("inbound_username_user.json");
    let e = PhoneNumber::from_waid(m.waid().unwrap_or_default()).unwrap_err();
    assert!(e.to_string().contains("InboundMessage::reply_to()"), "{e}");
    assert!(m.reply_to().is_some());
}
