//! Forward compatibility: unknown fields are kept, odd input never panics, models round-trip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;
use serde_json::{Value, json};
use webex_connect_whatsapp::webhook::{self, DeliveryReceipt, InboundMessage, WebhookEvent};

const FIXTURES: &[&str] = &[
    "delivery_submitted.json",
    "delivery_delivered.json",
    "delivery_read.json",
    "delivery_failed_7710.json",
    "delivery_failed_7200_meta.json",
    "delivery_failed_7737.json",
    "delivery_delivered_offset.json",
    "delivery_extra_fields.json",
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
    "event_reaction.json",
    "event_user_id_update.json",
];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn receipt_keeps_unknown_fields_at_every_level() {
    let body = fixture("delivery_extra_fields.json");
    let WebhookEvent::DeliveryReceipt(r) = webhook::parse(&body).unwrap() else {
        panic!("not a receipt")
    };
    assert_eq!(r.code().as_str(), "7502");
    let extra = r.extra();
    let keys: Vec<&str> = extra.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "/carrier",
            "/dataIntegration",
            "/deliveryInfoNotification/deliveryInfo/conversationCategory",
            "/deliveryInfoNotification/pricing",
            "/serviceProvider",
        ]
    );
    // `x-wx-gtrid` is read (reference §13), so it is not extra.
    assert_eq!(r.gtrid(), Some("6f1c0b2a-7d35-4c8e-a1e9-0b4d2c6f8a13"));
    assert_eq!(
        extra["/deliveryInfoNotification/pricing"],
        json!({"billable": true, "model": "PMP"})
    );
    assert_eq!(
        r.pointer("/dataIntegration/context/serviceId"),
        Some(json!("1234"))
    );
    assert_eq!(r.pointer("/nope"), None);
    let written: Value = serde_json::to_value(&r).unwrap();
    assert_eq!(
        written["x-wx-gtrid"],
        "6f1c0b2a-7d35-4c8e-a1e9-0b4d2c6f8a13"
    );
    assert_eq!(
        written["deliveryInfoNotification"]["pricing"]["model"],
        "PMP"
    );
}

#[test]
fn inbound_keeps_unknown_fields() {
    let body = fixture("inbound_extra_fields.json");
    let m = InboundMessage::from_slice(&body).unwrap();
    assert_eq!(m.text(), Some("hello"));
    assert_eq!(m.username(), None);
    assert_eq!(m.datetime_raw(), Some("2022-01-11 15:52:12"));
    assert_eq!(
        m.attachments().unwrap()[0].caption.as_deref(),
        Some("Attachment text")
    );
    assert!(m.contacts().unwrap().is_empty());
    let extra = m.extra();
    // `x-wx-gtrid` is read (reference §13), so only `dataIntegration` is extra.
    assert_eq!(extra.len(), 1, "{extra:?}");
    assert_eq!(m.gtrid(), Some("6f1c0b2a-7d35-4c8e-a1e9-0b4d2c6f8a13"));
    assert_eq!(extra["/dataIntegration"]["appContext"]["flowId"], "77");
    assert_eq!(
        m.pointer("/x-wx-gtrid"),
        Some(json!("6f1c0b2a-7d35-4c8e-a1e9-0b4d2c6f8a13"))
    );
}

#[test]
fn extra_keys_are_escaped_json_pointers() {
    let m = InboundMessage::from_slice(br#"{"waid":"1","a/b":1,"c~d":2}"#).unwrap();
    let extra = m.extra();
    assert_eq!(extra["/a~1b"], 1);
    assert_eq!(extra["/c~0d"], 2);
    assert_eq!(m.pointer("/a~1b"), Some(json!(1)));
}

#[test]
fn null_fields_read_as_absent() {
    let r = DeliveryReceipt::from_slice(
        br#"{"deliveryInfoNotification":{"deliveryInfo":null,"transid":null,"correlationid":null}}"#,
    )
    .unwrap();
    assert_eq!(r.transaction_id(), None);
    assert_eq!(r.destination(), None);
}

#[test]
fn only_bodies_that_are_not_json_objects_are_errors() {
    use webhook::WebhookError as E;
    assert!(matches!(webhook::parse(b""), Err(E::NotJson { .. })));
    assert!(matches!(webhook::parse(b"  \n"), Err(E::NotJson { .. })));
    assert!(matches!(webhook::parse(b"{\"a\":"), Err(E::NotJson { .. })));
    assert!(matches!(webhook::parse(b"{} {}"), Err(E::NotJson { .. })));
    assert!(matches!(webhook::parse(b"{},"), Err(E::NotJson { .. })));
    assert!(matches!(webhook::parse(b"[1,"), Err(E::NotJson { .. })));
    assert!(matches!(webhook::parse(b"nul"), Err(E::NotJson { .. })));
    assert!(matches!(
        webhook::parse(&[0x7b, 0xff, 0x7d]),
        Err(E::NotJson { .. })
    ));
    assert_eq!(
        webhook::parse(b"[1]"),
        Err(E::NotAnObject { found: "array" })
    );
    // The typed reader takes array-shaped structs (as serde's derive does); `parse` does not.
    assert_eq!(
        webhook::parse(br#"[{"deliveryInfo":{"code":"7502"}}]"#),
        Err(E::NotAnObject { found: "array" })
    );
    assert_eq!(
        webhook::parse(b" 5"),
        Err(E::NotAnObject { found: "number" })
    );
    assert_eq!(
        webhook::parse(b"-0.5e3"),
        Err(E::NotAnObject { found: "number" })
    );
    assert_eq!(
        webhook::parse(b"null"),
        Err(E::NotAnObject { found: "null" })
    );
    assert_eq!(
        webhook::parse(b"false"),
        Err(E::NotAnObject { found: "boolean" })
    );
    assert_eq!(
        webhook::parse(b"\"x\""),
        Err(E::NotAnObject { found: "string" })
    );
    let err = webhook::parse(b"[1]").unwrap_err();
    assert_eq!(
        err.to_string(),
        "webhook body is a JSON array, but a JSON object is expected"
    );
    // Every object is an event, however odd.
    for body in [
        r#"{"deliveryInfoNotification":{"deliveryInfo":"x"}}"#,
        r#"{"deliveryInfoNotification":"x"}"#,
        r#"{"event":"MO","waid":"1","waid":"2"}"#,
        r#"{"event":"MO"}"#,
        r#"{"event":"reaction","waid":"1"}"#,
        "{}",
        " {\t}\r\n",
    ] {
        assert!(
            matches!(
                webhook::parse(body.as_bytes()),
                Ok(WebhookEvent::Unknown(_))
            ),
            "{body}"
        );
    }
}

#[test]
fn the_typed_readers_still_refuse_what_they_cannot_type() {
    use webhook::WebhookError as E;
    assert!(matches!(
        DeliveryReceipt::from_slice(br#"{"deliveryInfoNotification":{"deliveryInfo":"x"}}"#),
        Err(E::UnexpectedShape { .. })
    ));
    assert!(matches!(
        InboundMessage::from_slice(br#"{"event":"MO","waid":"1","waid":"2"}"#),
        Err(E::UnexpectedShape { .. })
    ));
    assert_eq!(
        InboundMessage::from_slice(br#"{"event":"MO"}"#),
        Err(E::NoSender)
    );
}

/// A large unknown body is read in time linear in its size: a quadratic step would make this
/// test take minutes rather than milliseconds (the speed itself is measured in the bench).
#[test]
fn large_unknown_objects_are_kept() {
    use std::fmt::Write as _;
    let mut body = String::from(r#"{"event":"future_kind""#);
    for i in 0..100_000 {
        write!(body, r#","k{i}":{{"v":[{i},"{}"]}}"#, "x".repeat(i % 7)).unwrap();
    }
    write!(body, r#","blob":"{}"}}"#, "\\n".repeat(200_000)).unwrap();
    let WebhookEvent::Unknown(e) = webhook::parse(body.as_bytes()).unwrap() else {
        panic!("an unknown event")
    };
    assert_eq!(e.event(), Some("future_kind"));
    assert_eq!(e.raw().len(), body.len());
    // Many keys the inbound reader knows, each repeated: refused by the typed reader at the
    // first repeat, kept whole by the scan.
    let mut body = String::from("{");
    for _ in 0..50_000 {
        body.push_str(r#""event":"MO","waid":"1","#);
    }
    body.push_str(r#""end":true}"#);
    let WebhookEvent::Unknown(e) = webhook::parse(body.as_bytes()).unwrap() else {
        panic!("an unknown event")
    };
    assert_eq!(e.event(), Some("MO"));
}

/// Calls every accessor, so a panic anywhere in them shows up.
fn touch(event: &WebhookEvent) {
    match event {
        WebhookEvent::DeliveryReceipt(r) => {
            let _ = (
                r.status(),
                r.code(),
                r.code().number(),
                r.code().fix(),
                r.code().is_retryable(),
            );
            let _ = (
                r.description(),
                r.additional_info(),
                r.meta_error_code(),
                r.destination(),
            );
            let _ = (
                r.destination_type(),
                r.timestamp(),
                r.timestamp_raw(),
                r.transaction_id(),
            );
            let _ = (
                r.sub_transaction_id(),
                r.correlation_id(),
                r.callback_data(),
                r.channel(),
            );
            let _ = (
                r.identity_key_hash(),
                r.extra(),
                r.pointer("/a"),
                format!("{r:?}"),
            );
        }
        WebhookEvent::Inbound(m) => {
            let _ = (m.bsuid(), m.sender_ids().count(), m.reply_to());
            let _ = (
                m.waid(),
                m.event(),
                m.app_id(),
                m.user_id(),
                m.username(),
                m.channel(),
            );
            let _ = (
                m.text(),
                m.tid(),
                m.transaction_id(),
                m.timestamp(),
                m.datetime_raw(),
            );
            let _ = (
                m.attachments(),
                m.location(),
                m.contacts(),
                m.system(),
                m.errors(),
            );
            let _ = (
                m.identity_key_hash(),
                m.button_text(),
                m.button_payload(),
                m.client_uuid(),
            );
            let _ = (m.extra(), m.pointer("/a"), format!("{m:?}"));
            if let Ok(Some(l)) = m.location() {
                let _ = (l.latitude(), l.longitude(), l.name(), l.address(), l.url());
            }
        }
        WebhookEvent::Unknown(u) => {
            let _ = (u.event(), u.value(), u.pointer("/a"), format!("{u:?}"));
        }
        _ => {}
    }
}

/// A parsed event serializes back to the same JSON and parses to an equal event.
fn round_trips(event: &WebhookEvent) {
    let json = serde_json::to_string(event).unwrap();
    let back: WebhookEvent = serde_json::from_str(&json).unwrap();
    let original: Value = serde_json::from_str(event.raw()).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), original);
    match event {
        // Writing the JSON value drops a repeated key's earlier values, so an event that was
        // unknown only for a repeated key may come back typed; the JSON is the same.
        WebhookEvent::Unknown(_) => {
            assert_eq!(serde_json::from_str::<Value>(back.raw()).unwrap(), original);
        }
        _ => assert_eq!(&back, event),
    }
}

/// Whether `bytes` are exactly one JSON object: UTF-8 (RFC 8259 requires it, and `serde_json`
/// does not check it in values it skips), then `serde_json`'s own validator, which like the RFC
/// has no depth or number-range limit.
fn is_json_object(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|text| {
        text.trim_start_matches([' ', '\t', '\r', '\n'])
            .starts_with('{')
            && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
    })
}

/// The contract of `parse`: it never panics, and it errs exactly when the body is not a JSON
/// object; every object `serde_json::Value` can hold is accepted, and `raw()` is the body.
fn check(bytes: &[u8]) {
    let parsed = webhook::parse(bytes);
    assert_eq!(
        parsed.is_ok(),
        is_json_object(bytes),
        "{:?} for {:?}",
        parsed,
        String::from_utf8_lossy(bytes)
    );
    if serde_json::from_slice::<Value>(bytes).is_ok_and(|v| v.is_object()) {
        assert!(parsed.is_ok());
    }
    if let Ok(event) = parsed {
        assert_eq!(event.raw().as_bytes(), bytes);
        touch(&event);
        if serde_json::from_slice::<Value>(bytes).is_ok() {
            round_trips(&event);
        }
    }
    let _ = DeliveryReceipt::from_slice(bytes);
    let _ = InboundMessage::from_slice(bytes);
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from("")),
        Just(Value::from("[{\"mime_type\":\"x\"}]")),
        Just(Value::from("{\"latitude\":[]}")),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the `n`-th value found walking the tree (objects and arrays included).
fn replace_nth(value: &mut Value, n: &mut usize, with: &Value) -> bool {
    if *n == 0 {
        *value = with.clone();
        return true;
    }
    *n -= 1;
    match value {
        Value::Object(map) => map.values_mut().any(|v| replace_nth(v, n, with)),
        Value::Array(items) => items.iter_mut().any(|v| replace_nth(v, n, with)),
        _ => false,
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn arb_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

/// A top-level object as text, keys possibly repeated, mostly keys and values the typed
/// readers know.
fn arb_body() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("event".to_owned()),
        Just("waid".to_owned()),
        Just("userId".to_owned()),
        Just("bsuid".to_owned()),
        Just("username".to_owned()),
        Just("message".to_owned()),
        Just("deliveryInfoNotification".to_owned()),
        "[a-z]{1,4}",
    ];
    let value = prop_oneof![
        Just(json!("MO")),
        Just(json!("postback")),
        Just(json!("reaction")),
        Just(json!("")),
        Just(json!("US.13491208655302741918")),
        Just(json!(["US.1349"])),
        Just(json!("IN.2149372115xxxxxx")),
        Just(json!("9199xxxxxxxx")),
        Just(json!({"deliveryInfo": {"code": "7502"}, "transid": "t1"})),
        arb_json(),
    ];
    prop::collection::vec((key, value), 0..7).prop_map(|members| {
        let members: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("{}:{v}", Value::from(k.as_str())))
            .collect();
        format!("{{{}}}", members.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_json_object_is_an_event_and_nothing_else_is(
        value in arb_json(),
        pretty in any::<bool>(),
        pad in "[ \t\r\n]{0,3}",
    ) {
        let text = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            value.to_string()
        };
        let body = format!("{pad}{text}{pad}");
        check(body.as_bytes());
        prop_assert_eq!(webhook::parse(body.as_bytes()).is_ok(), value.is_object());
    }

    #[test]
    fn bodies_with_known_and_repeated_keys_are_always_events(body in arb_body()) {
        check(body.as_bytes());
        match webhook::parse(body.as_bytes()).unwrap() {
            WebhookEvent::Inbound(m) => {
                prop_assert!(m.waid().is_some() || m.user_id().is_some() || m.bsuid().is_some());
                prop_assert!(matches!(m.event().as_str(), "MO" | "postback"));
            }
            WebhookEvent::DeliveryReceipt(_) => {
                prop_assert!(body.contains("deliveryInfoNotification"));
            }
            WebhookEvent::Unknown(u) => prop_assert_eq!(u.raw(), body.as_str()),
            _ => {}
        }
    }

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&bytes);
    }

    #[test]
    fn parse_never_panics_on_mutated_fixtures(
        index in 0..FIXTURES.len(),
        edits in prop::collection::vec(arb_edit(), 1..8),
    ) {
        let mut bytes = fixture(FIXTURES[index]);
        for edit in edits {
            let len = bytes.len().max(1);
            match edit {
                Edit::Flip(i, b) => { if let Some(x) = bytes.get_mut(i % len) { *x ^= b; } }
                Edit::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
                Edit::Delete(i) => { if !bytes.is_empty() { bytes.remove(i % len); } }
            }
        }
        check(&bytes);
    }

    #[test]
    fn parse_never_panics_when_values_change_type(
        index in 0..FIXTURES.len(),
        position in 0usize..40,
        replacement in arb_json(),
        extra_key in "[a-zA-Z-]{1,10}",
        extra_value in arb_json(),
    ) {
        let mut value: Value = serde_json::from_slice(&fixture(FIXTURES[index])).unwrap();
        let mut n = position;
        replace_nth(&mut value, &mut n, &replacement);
        if let Some(map) = value.as_object_mut() {
            map.insert(extra_key, extra_value);
        }
        check(value.to_string().as_bytes());
    }

    #[test]
    fn builders_round_trip(
        transid in "[a-f0-9-]{1,36}",
        destination in "[0-9x]{0,15}",
        correlation in ".{0,20}",
        text in ".{0,40}",
        payload in ".{0,20}",
    ) {
        use webhook::{DeliveryStatus, WebhookEvent};
        let r = DeliveryReceipt::builder(transid.as_str(), DeliveryStatus::Delivered)
            .destination(destination.clone())
            .correlation_id(correlation.clone())
            .build();
        prop_assert_eq!(r.destination(), Some(destination.as_str()).filter(|s| !s.is_empty()));
        prop_assert_eq!(r.correlation_id(), Some(correlation.as_str()).filter(|s| !s.is_empty()));
        let parsed = DeliveryReceipt::from_slice(r.raw().as_bytes()).unwrap();
        prop_assert_eq!(&parsed, &r);
        prop_assert_eq!(parsed.correlation_id(), r.correlation_id());
        round_trips(&WebhookEvent::DeliveryReceipt(r));

        let m = InboundMessage::builder("a_1", "9199xxxxxxxx").text(text.clone()).build().unwrap();
        prop_assert_eq!(m.text(), Some(text.as_str()).filter(|s| !s.is_empty()));
        round_trips(&WebhookEvent::Inbound(m));
        let p = InboundMessage::builder("a_1", "9199xxxxxxxx").postback("B", payload.clone()).build().unwrap();
        prop_assert_eq!(p.button_payload(), Some(payload.as_str()).filter(|s| !s.is_empty()));
        round_trips(&WebhookEvent::Inbound(p));
    }
}

/// An event of a kind the crate does not type keeps its body's `x-wx-gtrid`, whichever reader
/// took the body: the one-pass reader, or serde's for a body with an escaped key.
#[test]
fn unknown_events_keep_the_body_gtrid_on_both_readers() {
    for body in [
        r#"{"event":"reaction","x-wx-gtrid":"g-1","emoji":"+1"}"#,
        r#"{"ev\u0065nt":"reaction","x-wx-gtrid":"g-1","emoji":"+1"}"#,
    ] {
        let event = webhook::parse(body.as_bytes()).unwrap();
        let WebhookEvent::Unknown(unknown) = &event else {
            panic!("{body}: {event:?}");
        };
        assert_eq!(unknown.gtrid(), Some("g-1"), "{body}");
        assert_eq!(unknown.event(), Some("reaction"), "{body}");
    }
}
