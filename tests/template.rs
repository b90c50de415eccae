//! Template names, categories, definitions and template messages: rules, exact JSON, serde.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;
use serde_json::{Value, json};
use std::error::Error as _;
use time::OffsetDateTime;

use webex_connect_whatsapp::ids::IdError;
use webex_connect_whatsapp::media::{MediaKind, MediaUrl, MediaUrlError};
use webex_connect_whatsapp::send::SendRequest;
use webex_connect_whatsapp::template::{
    PlaceholderStyle, TemplateButton, TemplateCategory, TemplateDefinition,
    TemplateDefinitionError, TemplateHeader, TemplateId, TemplateMessage, TemplateMessageError,
    TemplateName, TemplateParameter, TemplatePart, TemplateStatus, parse_placeholders,
};
use webex_connect_whatsapp::text::TextError;
use webex_connect_whatsapp::{AppId, PhoneNumber};

fn id() -> TemplateId {
    TemplateId::new("5139722425xxxxx").unwrap()
}

fn url(s: &str) -> MediaUrl {
    MediaUrl::new(s).unwrap()
}

// ---------- template message: the reference's §3.2 example ----------

fn reference_message() -> TemplateMessage {
    TemplateMessage::builder(id())
        .media_header(MediaKind::Image, url("https://example.com/x.jpg"))
        .header_text("headerText", "Your ticket")
        .text("movie", "joker")
        .date_time(
            "time",
            "Feb 20th, 2023 8:45pm",
            OffsetDateTime::from_unix_timestamp(1_782_231_500).unwrap(),
        )
        .currency("purchase_value", "USD", 150_000, "EUR 300")
        .url_suffix("ctaVariable", "url_extension")
        .quick_reply("Button 1", "BUTTON 1 PAYLOAD")
        .otp("otp", "12xxxx")
        .build()
        .unwrap()
}

const REFERENCE_JSON: &str = r#"{"template":"5139722425xxxxx","parameters":{"image":{"link":"https://example.com/x.jpg"},"headerText":"Your ticket","movie":"joker","time":{"type":"date_time","fallback_value":"Feb 20th, 2023 8:45pm","timestamp":"1782231500"},"purchase_value":{"type":"currency","currency_code":"USD","amount_1000":"150000","fallback_value":"EUR 300"},"ctaVariable":{"type":"url","payload":"url_extension"},"quickReply":[{"button_text":"Button 1","payload":"BUTTON 1 PAYLOAD"}],"otp":{"type":"otp","value":"12xxxx"}}}"#;

#[test]
fn reference_example_serializes_exactly() {
    let message = reference_message();
    assert_eq!(serde_json::to_string(&message).unwrap(), REFERENCE_JSON);
    let back: TemplateMessage = serde_json::from_str(REFERENCE_JSON).unwrap();
    assert_eq!(back, message);
    assert_eq!(back.template_id().as_str(), "5139722425xxxxx");
    assert_eq!(back.parameters().len(), 8);
    assert_eq!(back.quick_replies()[0].payload(), "BUTTON 1 PAYLOAD");
    assert_eq!(back.parameter("movie").unwrap().as_text(), Some("joker"));
    assert_eq!(back.parameter("time").unwrap().type_name(), "date_time");
}

#[test]
fn reference_example_inside_a_send_request() {
    let to = PhoneNumber::parse("+91 99000 12345").unwrap();
    let request = SendRequest::builder(AppId::new("a_1550545369").unwrap(), reference_message())
        .to(&to)
        .identity_key_hash("z2XXXXXXbBA=")
        .build()
        .unwrap();
    let wire = serde_json::to_value(&request).unwrap();
    let expected: Value = serde_json::from_str(REFERENCE_JSON).unwrap();
    assert_eq!(wire["message"], expected);
    assert_eq!(
        wire["channels"],
        json!({"OTT-Messaging": {"wa": {"identity_key_hash": "z2XXXXXXbBA="}}})
    );
    let back = SendRequest::from_slice(&serde_json::to_vec(&request).unwrap()).unwrap();
    assert_eq!(back, request);
}

#[test]
fn each_parameter_type_has_its_exact_json() {
    let build = |b: fn(
        webex_connect_whatsapp::template::TemplateMessageBuilder,
    ) -> webex_connect_whatsapp::template::TemplateMessageBuilder| {
        let m = b(TemplateMessage::builder(id())).build().unwrap();
        serde_json::to_value(&m).unwrap()["parameters"].clone()
    };
    assert_eq!(build(|b| b.text("name", "Ada")), json!({"name": "Ada"}));
    assert_eq!(
        build(|b| b.document_header(url("https://e.com/i.pdf"), "invoice.pdf")),
        json!({"document": {"link": "https://e.com/i.pdf", "filename": "invoice.pdf"}})
    );
    assert_eq!(
        build(|b| b.media_header(MediaKind::Video, url("https://e.com/v.mp4"))),
        json!({"video": {"link": "https://e.com/v.mp4"}})
    );
    assert_eq!(
        build(|b| b
            .quick_reply("Yes", "Y")
            .quick_reply("No", "N")
            .quick_reply("Later", "L")),
        json!({"quickReply": [
            {"button_text": "Yes", "payload": "Y"},
            {"button_text": "No", "payload": "N"},
            {"button_text": "Later", "payload": "L"}
        ]})
    );
    assert_eq!(
        build(|b| b.otp("code", "123456789012345")),
        json!({"code": {"type": "otp", "value": "123456789012345"}})
    );
    assert_eq!(
        build(|b| b),
        json!({}),
        "a template without variables sends empty parameters"
    );
}

#[test]
fn parameter_values_are_checked() {
    let fail = |f: fn(
        webex_connect_whatsapp::template::TemplateMessageBuilder,
    ) -> webex_connect_whatsapp::template::TemplateMessageBuilder| {
        f(TemplateMessage::builder(id())).build().unwrap_err()
    };
    assert!(matches!(
        fail(|b| b.currency("p", "usd", 1, "x")),
        TemplateMessageError::InvalidCurrencyCode { .. }
    ));
    assert!(matches!(
        fail(|b| b.currency("p", "USDX", 1, "x")),
        TemplateMessageError::InvalidCurrencyCode { .. }
    ));
    assert!(matches!(
        fail(|b| b.currency("p", "USD", 0, "x")),
        TemplateMessageError::ZeroAmount { .. }
    ));
    assert!(matches!(
        fail(|b| b.otp("otp", "1234567890123456")),
        TemplateMessageError::TooLong {
            actual: 16,
            max: 15,
            ..
        }
    ));
    assert!(matches!(
        fail(|b| b.otp("otp", "123 456")),
        TemplateMessageError::InvalidCharacter {
            found: ' ',
            position: 3,
            ..
        }
    ));
    assert!(matches!(
        fail(|b| b
            .quick_reply("a", "1")
            .quick_reply("b", "2")
            .quick_reply("c", "3")
            .quick_reply("d", "4")),
        TemplateMessageError::TooManyQuickReplies { actual: 4, max: 3 }
    ));
    // The builder takes a checked MediaUrl, so plain http cannot reach it.
    assert!(matches!(
        MediaUrl::new("http://example.com/a.jpg"),
        Err(MediaUrlError::NotHttps { .. })
    ));
    assert!(matches!(
        fail(|b| b.media_header(MediaKind::Audio, url("https://example.com/a.mp3"))),
        TemplateMessageError::InvalidMediaKind {
            kind: MediaKind::Audio
        }
    ));
    assert!(matches!(
        fail(|b| b.header_text("h", "x".repeat(61))),
        TemplateMessageError::TooLong {
            actual: 61,
            max: 60,
            ..
        }
    ));
}

#[test]
fn names_text_and_duplicates_are_checked() {
    let fail = |f: fn(
        webex_connect_whatsapp::template::TemplateMessageBuilder,
    ) -> webex_connect_whatsapp::template::TemplateMessageBuilder| {
        f(TemplateMessage::builder(id())).build().unwrap_err()
    };
    assert!(matches!(
        fail(|b| b.text("a b", "x")),
        TemplateMessageError::InvalidName { .. }
    ));
    assert!(matches!(
        fail(|b| b.text("", "x")),
        TemplateMessageError::InvalidName { .. }
    ));
    assert!(matches!(
        fail(|b| b.text("v", "tab\there")),
        TemplateMessageError::InvalidCharacter {
            found: '\t',
            position: 3,
            ..
        }
    ));
    assert!(matches!(
        fail(|b| b.url_suffix("cta", "a b")),
        TemplateMessageError::InvalidCharacter { .. }
    ));
    assert!(matches!(
        fail(|b| b.text("quickReply", "x").quick_reply("a", "b")),
        TemplateMessageError::DuplicateParameter { .. }
    ));
    // texts() is text() per pair: same order, same checks, the first error wins.
    assert_eq!(
        TemplateMessage::builder(id())
            .texts([("a", "1"), ("b", "2")])
            .build()
            .unwrap(),
        TemplateMessage::builder(id())
            .text("a", "1")
            .text("b", "2")
            .build()
            .unwrap()
    );
    assert!(matches!(
        fail(|b| b.texts([("a", "1"), ("a", "2")])),
        TemplateMessageError::DuplicateParameter { .. }
    ));
    assert!(matches!(
        fail(|b| b.texts(vec![("v".to_owned(), "tab\there".to_owned())])),
        TemplateMessageError::InvalidCharacter { found: '\t', .. }
    ));
    // http on loopback is for the sandbox and tests.
    assert!(
        TemplateMessage::builder(id())
            .media_header(MediaKind::Image, url("http://127.0.0.1:8080/a.jpg"))
            .build()
            .is_ok()
    );
    assert_eq!(
        TemplateMessage::builder(id())
            .text("v", "a     b")
            .build()
            .unwrap_err()
            .to_string(),
        "parameter \"v\" has more than 4 consecutive spaces at character 1"
    );
}

#[test]
fn reading_keeps_unknown_shapes_and_checks_known_ones() {
    let raw = json!({"template": "t1", "parameters": {
        "n": 12,
        "flag": true,
        "future": {"type": "location", "lat": 1},
        "list": [1, 2],
        "image": {"link": "https://e.com/a.jpg"}
    }});
    let m: TemplateMessage = serde_json::from_value(raw.clone()).unwrap();
    assert!(matches!(
        m.parameter("n"),
        Some(TemplateParameter::Unknown(_))
    ));
    assert!(matches!(
        m.parameter("future"),
        Some(TemplateParameter::Unknown(_))
    ));
    assert!(matches!(
        m.parameter("image"),
        Some(TemplateParameter::Media {
            kind: MediaKind::Image,
            ..
        })
    ));
    assert_eq!(serde_json::to_value(&m).unwrap(), raw);

    // Numbers as numbers are read too, and written back as strings like the reference.
    let m: TemplateMessage = serde_json::from_value(json!({"template": "t1", "parameters": {
        "p": {"type": "currency", "currency_code": "EUR", "amount_1000": 5000, "fallback_value": "EUR 5"}
    }}))
    .unwrap();
    assert_eq!(
        serde_json::to_value(&m).unwrap()["parameters"]["p"]["amount_1000"],
        "5000"
    );

    for bad in [
        json!({"template": "t1", "parameters": {"v": ""}}),
        json!({"template": "t1", "parameters": {"v": "a\nb"}}),
        json!({"template": "t1", "parameters": {"otp": {"type": "otp"}}}),
        json!({"template": "t1", "parameters": {"p": {"type": "currency", "currency_code": "EUR", "amount_1000": "0", "fallback_value": "x"}}}),
        json!({"template": "t1", "parameters": {"t": {"type": "date_time", "fallback_value": "x", "timestamp": "soon"}}}),
        json!({"template": "", "parameters": {}}),
        json!({"parameters": {}}),
    ] {
        assert!(
            serde_json::from_value::<TemplateMessage>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

/// Media links are `MediaUrl`s: reading JSON refuses what `MediaUrl` refuses, and says why.
#[test]
fn media_links_are_media_urls() {
    for (link, why) in [
        (
            "http://e.com/a.jpg",
            "only https is allowed (http only on loopback hosts)",
        ),
        ("ftp://e.com/a.jpg", "media url scheme is \"ftp\""),
        ("not a url", "media url is not a valid url"),
    ] {
        let err = serde_json::from_value::<TemplateMessage>(
            json!({"template": "t1", "parameters": {"image": {"link": link}}}),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(&format!("has media link {link:?}, which is refused")),
            "{err}"
        );
        assert!(err.contains(why), "{err}");
    }
    let m: TemplateMessage = serde_json::from_value(
        json!({"template": "t1", "parameters": {"video": {"link": "http://127.0.0.1:9/v.mp4"}}}),
    )
    .unwrap();
    match m.parameter("video") {
        Some(TemplateParameter::Media { link, .. }) => {
            assert_eq!(link, &url("http://127.0.0.1:9/v.mp4"));
        }
        other => panic!("expected a media header, got {other:?}"),
    }
    let source = TemplateMessageError::InvalidMediaLink {
        name: "image".into(),
        link: "http://e.com/a.jpg".into(),
        source: MediaUrl::new("http://e.com/a.jpg").unwrap_err(),
    };
    assert!(
        source
            .source()
            .unwrap()
            .downcast_ref::<MediaUrlError>()
            .is_some()
    );
}

// ---------- names, ids, categories ----------

#[test]
fn template_name_rules_and_errors() {
    assert_eq!(
        TemplateName::new("order_update").unwrap().as_str(),
        "order_update"
    );
    let err = TemplateName::new("order-update").unwrap_err();
    assert_eq!(
        err,
        IdError::InvalidCharacter {
            what: "template name",
            found: '-',
            position: 5,
            allowed: "lowercase ASCII letters, digits and '_'"
        }
    );
    assert_eq!(
        err.to_string(),
        "template name contains '-' at character 5; only lowercase ASCII letters, digits and '_' are allowed"
    );
    assert!(TemplateName::new("z".repeat(512)).is_ok());
    assert!(TemplateName::new("z".repeat(513)).is_err());
    let w = TemplateName::new("message_124a").unwrap().warnings();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].rule(), "template_name.descriptive");
    assert!(w[0].message().contains("message_124a"));
}

#[test]
fn categories_and_statuses() {
    assert_eq!(
        "ticket update".parse::<TemplateCategory>().unwrap(),
        TemplateCategory::TicketUpdate
    );
    assert!(TemplateCategory::TransportationUpdate.is_legacy());
    assert!(TemplateCategory::AutoReply.is_legacy());
    assert!(!TemplateCategory::Authentication.is_legacy());
    assert!(!TemplateCategory::Unknown("X".into()).is_legacy());
    assert_eq!(
        serde_json::from_str::<TemplateStatus>("\"PENDING_DELETION\"").unwrap(),
        TemplateStatus::PendingDeletion
    );
    assert!(TemplateStatus::Approved.is_sendable());
    assert!(!TemplateStatus::Rejected.is_sendable());
}

// ---------- definitions ----------

fn def(body: &str) -> webex_connect_whatsapp::template::TemplateDefinitionBuilder {
    TemplateDefinition::builder(
        TemplateName::new("order_shipped").unwrap(),
        TemplateCategory::Utility,
        "en_US",
        body,
    )
}

#[test]
fn full_definition_round_trips_through_json() {
    let phone = PhoneNumber::parse("+44 7400 123456").unwrap();
    let d = def("Hi {{1}}, order {{2}} is on its way.")
        .header_text("Order {{1}}")
        .footer("Reply STOP to opt out")
        .url_button("Track", "https://example.com/t/{{1}}")
        .phone_button("Call us", &phone)
        .quick_reply("Thanks")
        .build()
        .unwrap();
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(
        json,
        json!({
            "name": "order_shipped",
            "category": "UTILITY",
            "language": "en_US",
            "header": {"type": "text", "text": "Order {{1}}"},
            "body": "Hi {{1}}, order {{2}} is on its way.",
            "footer": "Reply STOP to opt out",
            "buttons": [
                {"type": "url", "text": "Track", "url": "https://example.com/t/{{1}}"},
                {"type": "phone_number", "text": "Call us", "phone_number": "+447400123456"},
                {"type": "quick_reply", "text": "Thanks"}
            ]
        })
    );
    let back: TemplateDefinition = serde_json::from_value(json).unwrap();
    assert_eq!(back, d);
    assert_eq!(d.placeholder_style(), Some(PlaceholderStyle::Positional));
    assert_eq!(d.variables_in(TemplatePart::Body).count(), 2);
    assert!(matches!(d.header(), Some(TemplateHeader::Text(_))));
    assert!(matches!(d.buttons()[1], TemplateButton::PhoneNumber { .. }));
    assert_eq!(d.buttons()[0].text().as_str(), "Track");
}

#[test]
fn media_header_and_named_variables() {
    let d = def("Hello {{first_name}}, your {{item}} is ready for pickup.")
        .header_media(MediaKind::Document)
        .copy_code_button("Copy code")
        .build()
        .unwrap();
    assert_eq!(d.media_header(), Some(MediaKind::Document));
    let names: Vec<_> = d
        .variables()
        .iter()
        .map(webex_connect_whatsapp::template::Variable::name)
        .collect();
    assert_eq!(names, ["first_name", "item"]);
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["header"], json!({"type": "document"}));
    assert_eq!(
        serde_json::from_value::<TemplateDefinition>(json).unwrap(),
        d
    );
    assert_eq!(
        def("x").header_media(MediaKind::Sticker).build(),
        Err(TemplateDefinitionError::InvalidHeaderMedia {
            kind: MediaKind::Sticker
        })
    );
}

#[test]
fn definition_limits() {
    assert!(def(&"b".repeat(1024)).build().is_ok());
    assert_eq!(
        def(&"b".repeat(1025)).build(),
        Err(TemplateDefinitionError::Text(TextError::TooLong {
            what: "body text",
            actual: 1025,
            max: 1024
        }))
    );
    assert!(def("b").header_text("h".repeat(60)).build().is_ok());
    assert!(def("b").header_text("h".repeat(61)).build().is_err());
    assert!(matches!(
        def("b").header_text("{{1}} and {{2}}").build(),
        Err(TemplateDefinitionError::TooManyVariables {
            part: TemplatePart::Header,
            actual: 2,
            max: 1
        })
    ));
    assert!(matches!(
        def("b").footer("Hi {{1}}").build(),
        Err(TemplateDefinitionError::FooterVariable { position: 3, .. })
    ));
    assert!(def("b").footer("f".repeat(61)).build().is_err());
    assert!(def("b").quick_reply("l".repeat(25)).build().is_ok());
    assert!(def("b").quick_reply("l".repeat(26)).build().is_err());

    let mut ten = def("b");
    for i in 0..10 {
        ten = ten.quick_reply(format!("Option {i}"));
    }
    assert!(ten.clone().build().is_ok());
    assert!(matches!(
        ten.quick_reply("one more").build(),
        Err(TemplateDefinitionError::TooManyButtons {
            what: "buttons",
            actual: 11,
            max: 10
        })
    ));
    assert!(matches!(
        def("b")
            .url_button("a", "https://e.com/a")
            .url_button("b", "https://e.com/b")
            .url_button("c", "https://e.com/c")
            .build(),
        Err(TemplateDefinitionError::TooManyButtons {
            what: "URL buttons",
            ..
        })
    ));
    let phone = PhoneNumber::parse("+44 7400 123456").unwrap();
    assert!(matches!(
        def("b")
            .phone_button("a", &phone)
            .phone_button("b", &phone)
            .build(),
        Err(TemplateDefinitionError::TooManyButtons {
            what: "phone number buttons",
            ..
        })
    ));
}

#[test]
fn url_buttons() {
    assert!(matches!(
        def("b").url_button("a", "https://e.com/{{1}}/x").build(),
        Err(TemplateDefinitionError::InvalidButtonUrl { index: 0, .. })
    ));
    assert!(matches!(
        def("b").url_button("a", "https://e.com/{{1}}{{2}}").build(),
        Err(TemplateDefinitionError::InvalidButtonUrl { .. })
    ));
    assert!(matches!(
        def("b").url_button("a", "ftp://e.com/x").build(),
        Err(TemplateDefinitionError::InvalidButtonUrl { .. })
    ));
    assert!(matches!(
        def("b").url_button("a", "not a url").build(),
        Err(TemplateDefinitionError::InvalidButtonUrl { .. })
    ));
    let long = format!("https://e.com/{}", "a".repeat(2000 - 14));
    assert_eq!(long.len(), 2000);
    assert!(def("b").url_button("a", long.clone()).build().is_ok());
    assert!(def("b").url_button("a", long + "a").build().is_err());
}

#[test]
fn placeholder_rules_across_parts() {
    assert!(matches!(
        def("Hi {{name}}").header_text("For {{1}}").build(),
        Err(TemplateDefinitionError::MixedPlaceholders { .. })
    ));
    assert!(matches!(
        def("Hi {{1}} and {{3}}").build(),
        Err(TemplateDefinitionError::PlaceholderGap {
            part: TemplatePart::Body,
            missing: 2,
            highest: 3
        })
    ));
    // Numbering restarts in each part.
    assert!(
        def("Hi {{1}} and {{2}}.")
            .header_text("{{1}}")
            .url_button("Go", "https://e.com/{{1}}")
            .build()
            .is_ok()
    );
    let err = def("Hello {{ name }}.").build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "body has a malformed placeholder \"{{ name }}\" at character 6: a variable is a number from 1, or a name of lowercase letters, digits and '_' that starts with a letter"
    );
    assert!(matches!(
        def("b").header_text("Order {{1").build(),
        Err(TemplateDefinitionError::MalformedPlaceholder {
            part: TemplatePart::Header,
            position: 6,
            ..
        })
    ));
    let found = parse_placeholders(TemplatePart::Body, "€ {{1}}").unwrap();
    assert_eq!(found[0].start(), 2, "positions count characters, not bytes");
    assert_eq!(found[0].number(), Some(1));
}

#[test]
fn definition_warnings() {
    let rules = |d: TemplateDefinition| -> Vec<&'static str> {
        d.warnings()
            .iter()
            .map(webex_connect_whatsapp::warning::Warning::rule)
            .collect()
    };
    assert!(rules(def("Hi {{1}}, thanks.").build().unwrap()).is_empty());
    assert_eq!(
        rules(def("Thanks, {{1}}").build().unwrap()),
        ["template_body.variable_at_end"]
    );
    assert_eq!(
        rules(def("Hi {{1}}{{2}}.").build().unwrap()),
        ["template_body.adjacent_variables"]
    );
    let legacy = TemplateDefinition::builder(
        TemplateName::new("order_shipped").unwrap(),
        TemplateCategory::ShippingUpdate,
        "en",
        "Shipped.",
    )
    .build()
    .unwrap();
    assert_eq!(rules(legacy), ["template_category.legacy"]);
}

#[test]
fn definitions_from_files_are_checked() {
    assert!(
        serde_json::from_value::<TemplateDefinition>(json!({
            "name": "order_shipped", "category": "UTILITY", "language": "en", "body": "Hi {{1"
        }))
        .is_err()
    );
    assert!(
        serde_json::from_value::<TemplateDefinition>(json!({
            "name": "Bad Name", "category": "UTILITY", "language": "en", "body": "x"
        }))
        .is_err()
    );
    assert!(
        serde_json::from_value::<TemplateDefinition>(json!({
            "name": "ok_name", "category": "UTILITY", "language": "EN US", "body": "x"
        }))
        .is_err()
    );
    let d: TemplateDefinition = serde_json::from_value(json!({
        "name": "ok_name", "category": "account update", "language": "pt_BR", "body": "x"
    }))
    .unwrap();
    assert_eq!(d.category(), &TemplateCategory::AccountUpdate);
}

// ---------- properties ----------

fn value_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ,.!é€]{1,40}",
        any::<String>(),
        "[ ]{0,8}x[ ]{0,8}",
    ]
}

proptest! {
    #[test]
    fn constructors_never_panic(s in any::<String>()) {
        let _ = TemplateName::new(s.clone());
        let _ = TemplateId::new(s.clone());
        let _ = TemplateCategory::parse(&s);
        let _ = parse_placeholders(TemplatePart::Body, &s);
        let _ = def(&s).header_text(s.clone()).footer(s.clone()).url_button("a", s.clone()).build();
        let _ = TemplateMessage::builder(id()).text(&s, s.clone()).otp("otp", s.clone()).url_suffix("u", s.clone()).build();
        let _ = serde_json::from_str::<TemplateMessage>(&s);
        let _ = serde_json::from_str::<TemplateDefinition>(&s);
    }

    #[test]
    fn categories_round_trip(s in any::<String>()) {
        let c = TemplateCategory::parse(&s);
        let back: TemplateCategory = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        prop_assert_eq!(back, c);
    }

    #[test]
    fn template_messages_round_trip(
        text in value_strategy(),
        fallback in value_strategy(),
        amount in 0u64..10_000_000,
        code in "[A-Z]{3}|[a-z]{2}",
        secs in -10_000_000_000i64..10_000_000_000,
        reply in value_strategy(),
        otp in "[0-9 ]{1,17}",
    ) {
        let built = TemplateMessage::builder(id())
            .text("body_1", text)
            .currency("price", code, amount, fallback.clone())
            .date_time("when", fallback, OffsetDateTime::from_unix_timestamp(secs).unwrap())
            .quick_reply(reply.clone(), reply)
            .otp("otp", otp)
            .build();
        if let Ok(message) = built {
            let json = serde_json::to_string(&message).unwrap();
            let back: TemplateMessage = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, message);
        }
    }

    #[test]
    fn template_definitions_round_trip(
        body in "[a-z ,.{}1-3]{1,60}",
        header in proptest::option::of("[a-z {}1]{1,20}"),
        footer in proptest::option::of("[a-z ]{1,20}"),
        labels in proptest::collection::vec("[A-Za-z ]{1,30}", 0..4),
    ) {
        let mut b = def(&body);
        if let Some(h) = header { b = b.header_text(h); }
        if let Some(f) = footer { b = b.footer(f); }
        for l in labels { b = b.quick_reply(l); }
        if let Ok(d) = b.build() {
            let json = serde_json::to_string(&d).unwrap();
            let back: TemplateDefinition = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, d);
        }
    }
}

fn template_request(message: TemplateMessage) -> SendRequest {
    SendRequest::builder(AppId::new("a_1550545369").unwrap(), message)
        .to(PhoneNumber::parse("+91 99000 12345").unwrap())
        .build()
        .unwrap()
}

fn read_back(
    request: &SendRequest,
) -> Result<SendRequest, webex_connect_whatsapp::send::SendRequestError> {
    SendRequest::from_slice(&serde_json::to_vec(request).unwrap())
}

#[test]
fn a_raw_parameter_is_sent_exactly_and_reads_back() {
    let future =
        json!({"type": "location", "latitude": "52.52", "longitude": "13.40", "name": "HQ"});
    let message = TemplateMessage::builder(id())
        .text("name", "Ada")
        .raw("where", future.clone())
        .raw("count", json!(3))
        .build()
        .unwrap();
    assert_eq!(
        message.parameter("where"),
        Some(&TemplateParameter::Unknown(future.clone()))
    );
    assert_eq!(message.parameter("where").unwrap().type_name(), "unknown");
    let request = template_request(message.clone());
    let json = serde_json::to_value(&request).unwrap();
    assert_eq!(json["message"]["parameters"]["where"], future);
    assert_eq!(json["message"]["parameters"]["count"], 3);
    let back = read_back(&request).unwrap();
    assert_eq!(back, request);
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
}

#[test]
fn a_raw_parameter_of_a_modelled_shape_keeps_its_unmodelled_fields() {
    // A media header with a field the crate does not model, and a quick reply with one.
    let image = json!({"link": "https://e.com/a.jpg", "caption": "new"});
    let replies = json!([{"button_text": "Yes", "payload": "Y", "style": "primary"}]);
    let message = TemplateMessage::builder(id())
        .raw("image", image.clone())
        .raw("quickReply", replies.clone())
        .build()
        .unwrap();
    let request = template_request(message);
    let back = read_back(&request).unwrap();
    assert_eq!(back, request);
    let json = serde_json::to_value(&back).unwrap();
    assert_eq!(json["message"]["parameters"]["image"], image);
    assert_eq!(json["message"]["parameters"]["quickReply"], replies);
}

#[test]
fn a_raw_parameter_that_spells_a_typed_one_equals_it() {
    let raw = TemplateMessage::builder(id())
        .raw("movie", json!("joker"))
        .raw("otp", json!({"type": "otp", "value": "123456"}))
        .build()
        .unwrap();
    let typed = TemplateMessage::builder(id())
        .text("movie", "joker")
        .otp("otp", "123456")
        .build()
        .unwrap();
    assert_eq!(raw, typed);
    assert_eq!(
        TemplateParameter::Text("a".into()),
        TemplateParameter::Unknown(json!("a"))
    );
    assert_ne!(
        TemplateParameter::Text("a".into()),
        TemplateParameter::Unknown(json!("b"))
    );
    let back = read_back(&template_request(raw.clone())).unwrap();
    let webex_connect_whatsapp::send::Content::Template(read) = back.content() else {
        panic!("not a template")
    };
    // Read back typed, and still equal to the raw message.
    assert_eq!(
        read.parameter("movie").and_then(TemplateParameter::as_text),
        Some("joker")
    );
    assert_eq!(read, &raw);
}

#[test]
fn a_raw_parameter_is_unchecked_but_its_name_is() {
    // The value is not checked when built: a newline in a text value is the platform's call...
    let message = TemplateMessage::builder(id())
        .raw("v", json!("a\nb"))
        .build()
        .unwrap();
    // ...and the reader (the sandbox's view of the platform) refuses it, as for a typed value.
    assert!(read_back(&template_request(message)).is_err());
    assert!(matches!(
        TemplateMessage::builder(id()).raw("", json!(1)).build(),
        Err(TemplateMessageError::InvalidName { .. })
    ));
    assert!(matches!(
        TemplateMessage::builder(id())
            .raw("bad name", json!(1))
            .build(),
        Err(TemplateMessageError::InvalidName { .. })
    ));
    assert_eq!(
        TemplateMessage::builder(id())
            .text("v", "x")
            .raw("v", json!(1))
            .build(),
        Err(TemplateMessageError::DuplicateParameter { name: "v".into() })
    );
}

// ---------- declared media header sizes ----------

#[test]
fn a_media_header_size_is_checked_against_its_kind_at_build() {
    for (kind, link, cap) in [
        (MediaKind::Image, "https://e.com/a.jpg", 5_000_000),
        (MediaKind::Video, "https://e.com/a.mp4", 16_000_000),
        (MediaKind::Document, "https://e.com/a.pdf", 64 * 1024 * 1024),
    ] {
        let build = |size| {
            TemplateMessage::builder(id())
                .header_size_bytes(size)
                .media_header(kind, url(link))
                .text("name", "Ada")
                .build()
        };
        assert!(build(cap).is_ok(), "{kind} at its cap");
        assert_eq!(
            build(cap + 1),
            Err(TemplateMessageError::MediaTooLarge {
                kind,
                size: cap + 1,
                max: cap
            })
        );
        assert_eq!(build(0), Err(TemplateMessageError::EmptyMedia { kind }));
        // The size is not sent.
        let plain = TemplateMessage::builder(id())
            .media_header(kind, url(link))
            .text("name", "Ada")
            .build()
            .unwrap();
        assert_eq!(build(cap).unwrap(), plain);
        assert_eq!(
            serde_json::to_value(build(cap).unwrap()).unwrap(),
            serde_json::to_value(&plain).unwrap()
        );
    }
    let e = TemplateMessage::builder(id())
        .media_header(MediaKind::Video, url("https://e.com/a.mp4"))
        .header_size_bytes(70_000_000)
        .build()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the video header is 70000000 bytes, but the max for video is 16000000 bytes (16 MB); \
         send a smaller file"
    );
    assert_eq!(
        TemplateMessage::builder(id())
            .text("name", "Ada")
            .header_size_bytes(1_000)
            .build(),
        Err(TemplateMessageError::SizeWithoutMediaHeader)
    );
}
