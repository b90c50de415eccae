//! Session messages: exact wire JSON for every kind, the rules, and reading reference samples.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;
use serde_json::{Value, json};
use std::error::Error as _;

use webex_connect_whatsapp::limits::{MAX_LIST_ROWS, MAX_LIST_SECTIONS, MAX_REPLY_BUTTONS};
use webex_connect_whatsapp::media::{MediaError, MediaKind, MediaUrl, MediaUrlError};
use webex_connect_whatsapp::send::{Content, SendRequest};
use webex_connect_whatsapp::session::{
    Contact, ContactAddress, ContactEmail, ContactName, ContactOrg, ContactPhone, ContactUrl,
    ListRow, ReplyHeader, SessionKind, SessionMessage, SessionMessageError,
};
use webex_connect_whatsapp::text::{MessageText, TextError};
use webex_connect_whatsapp::{AppId, PhoneNumber};

fn url(s: &str) -> MediaUrl {
    MediaUrl::new(s).unwrap()
}

fn wire(m: &SessionMessage) -> Value {
    serde_json::to_value(m).unwrap()
}

fn round_trip(m: &SessionMessage) {
    let back: SessionMessage = serde_json::from_str(&serde_json::to_string(m).unwrap()).unwrap();
    assert_eq!(&back, m);
}

#[test]
fn text_json() {
    let m = SessionMessage::text("Hello").unwrap();
    assert_eq!(wire(&m), json!({"type": "text", "text": {"body": "Hello"}}));
    assert_eq!(m.kind(), SessionKind::Text);
    assert_eq!(m.text_body(), Some("Hello"));
    assert!(!m.preview_url());
    round_trip(&m);

    let m = SessionMessage::text_with_preview("See https://example.com").unwrap();
    assert_eq!(
        wire(&m),
        json!({"type": "text", "text": {"body": "See https://example.com"}, "preview_url": true})
    );
    round_trip(&m);
    assert_eq!(
        SessionMessage::from(MessageText::new("x").unwrap()),
        SessionMessage::text("x").unwrap()
    );
}

#[test]
fn text_limits_count_characters() {
    assert!(SessionMessage::text("a".repeat(4096)).is_ok());
    assert!(SessionMessage::text("é".repeat(4096)).is_ok());
    assert!(SessionMessage::text("😀".repeat(4096)).is_ok());
    let err = SessionMessage::text("a".repeat(4097)).unwrap_err();
    assert_eq!(
        err,
        SessionMessageError::Text(TextError::TooLong {
            what: "message text",
            actual: 4097,
            max: 4096
        })
    );
    assert_eq!(
        err.to_string(),
        "message text is 4097 characters long, but the max is 4096"
    );
    assert!(SessionMessage::text("").is_err());
    assert!(
        serde_json::from_value::<SessionMessage>(
            json!({"type": "text", "text": {"body": "a".repeat(4097)}})
        )
        .is_err()
    );
}

#[test]
fn media_json_for_every_kind() {
    let image = SessionMessage::image(url("https://e.com/a.jpg"), "image/jpeg")
        .caption("Receipt")
        .build()
        .unwrap();
    assert_eq!(
        wire(&image),
        json!({"type": "image", "image": {"url": "https://e.com/a.jpg", "mimeType": "image/jpeg", "caption": "Receipt"}})
    );
    let video = SessionMessage::video(url("https://e.com/v.mp4"), "video/mp4")
        .caption("Clip")
        .build()
        .unwrap();
    assert_eq!(
        wire(&video),
        json!({"type": "video", "video": {"url": "https://e.com/v.mp4", "mimeType": "video/mp4", "caption": "Clip"}})
    );
    let audio = SessionMessage::audio(url("https://e.com/a.ogg"), "audio/ogg; codecs=opus")
        .build()
        .unwrap();
    assert_eq!(
        wire(&audio),
        json!({"type": "audio", "audio": {"url": "https://e.com/a.ogg", "mimeType": "audio/ogg; codecs=opus"}})
    );
    let document = SessionMessage::document(url("https://e.com/i.pdf"), "application/pdf")
        .caption("Invoice")
        .filename("invoice.pdf")
        .build()
        .unwrap();
    assert_eq!(
        wire(&document),
        json!({"type": "document", "document": {"url": "https://e.com/i.pdf", "mimeType": "application/pdf", "caption": "Invoice", "filename": "invoice.pdf"}})
    );
    let sticker = SessionMessage::sticker(url("https://e.com/s.webp"), "image/webp")
        .build()
        .unwrap();
    assert_eq!(
        wire(&sticker),
        json!({"type": "sticker", "sticker": {"url": "https://e.com/s.webp", "mimeType": "image/webp"}})
    );
    for (m, kind) in [
        (&image, SessionKind::Image),
        (&video, SessionKind::Video),
        (&audio, SessionKind::Audio),
        (&document, SessionKind::Document),
        (&sticker, SessionKind::Sticker),
    ] {
        assert_eq!(m.kind(), kind);
        assert_eq!(wire(m)["type"], kind.as_str());
        round_trip(m);
    }
    assert_eq!(document.as_media().unwrap().filename(), Some("invoice.pdf"));
    assert_eq!(image.as_media().unwrap().mime_type(), &mime::IMAGE_JPEG);
}

#[test]
fn media_rules() {
    for kind in [MediaKind::Audio, MediaKind::Sticker] {
        let mime = if kind == MediaKind::Audio {
            "audio/mpeg"
        } else {
            "image/webp"
        };
        assert_eq!(
            SessionMessage::media(kind, url("https://e.com/x"), mime)
                .caption("no")
                .build(),
            Err(SessionMessageError::CaptionNotAllowed { kind })
        );
    }
    assert_eq!(
        SessionMessage::image(url("https://e.com/a.jpg"), "image/jpeg")
            .filename("a.jpg")
            .build(),
        Err(SessionMessageError::FilenameNotAllowed {
            kind: MediaKind::Image
        })
    );
    // Builders take a checked MediaUrl, so plain http cannot even reach them; read from JSON,
    // it is refused with the MediaUrlError as the source.
    assert!(matches!(
        MediaUrl::new("http://e.com/a.jpg"),
        Err(MediaUrlError::NotHttps { .. })
    ));
    let err = serde_json::from_value::<SessionMessage>(json!(
        {"type": "image", "image": {"url": "http://e.com/a.jpg", "mimeType": "image/jpeg"}}
    ))
    .unwrap_err();
    assert!(err.to_string().contains("http://e.com/a.jpg"), "{err}");
    assert!(err.to_string().contains("only https is allowed"), "{err}");
    assert!(
        SessionMessage::image(url("http://localhost:9000/a.jpg"), "image/jpeg")
            .build()
            .is_ok()
    );
    assert!(matches!(
        SessionMessage::image(url("https://e.com/a.jpg"), "jpeg").build(),
        Err(SessionMessageError::InvalidMimeType { .. })
    ));
    assert!(matches!(
        SessionMessage::sticker(url("https://e.com/a.png"), "image/png").build(),
        Err(SessionMessageError::InvalidMimeType { .. })
    ));
    assert!(matches!(
        SessionMessage::video(url("https://e.com/a.mp4"), "audio/mp4").build(),
        Err(SessionMessageError::InvalidMimeType { .. })
    ));
    assert!(
        SessionMessage::image(url("https://e.com/a.jpg"), "image/jpeg")
            .caption("c".repeat(1024))
            .build()
            .is_ok()
    );
    assert!(matches!(
        SessionMessage::image(url("https://e.com/a.jpg"), "image/jpeg")
            .caption("c".repeat(1025))
            .build(),
        Err(SessionMessageError::Text(TextError::TooLong {
            what: "caption",
            ..
        }))
    ));
}

/// Each kind takes only its own MIME types (`media::check`), not any type of the same top-level
/// family; the `MediaError` is reachable as the source.
#[test]
fn media_types_follow_the_per_kind_rules() {
    let refused = |kind: MediaKind, mime: &str| -> MediaError {
        let err = SessionMessage::media(kind, url("https://e.com/x"), mime)
            .build()
            .unwrap_err();
        match &err {
            SessionMessageError::InvalidMimeType {
                kind: k,
                mime: m,
                source,
            } => {
                assert_eq!((*k, m.as_str()), (kind, mime));
                let from_source = err.source().unwrap().downcast_ref::<MediaError>().unwrap();
                assert_eq!(from_source, source);
                source.clone()
            }
            other => panic!("{kind} {mime}: expected InvalidMimeType, got {other:?}"),
        }
    };
    // All of these passed the old top-level-only check.
    assert!(matches!(
        refused(MediaKind::Image, "image/gif"),
        MediaError::UnsupportedMimeType {
            kind: MediaKind::Image,
            allowed: ["image/jpeg", "image/png"],
            ..
        }
    ));
    assert!(matches!(
        refused(MediaKind::Image, "image/webp"),
        MediaError::UnsupportedMimeType { .. }
    ));
    assert!(matches!(
        refused(MediaKind::Audio, "audio/ogg"),
        MediaError::OggWithoutOpus { .. }
    ));
    assert!(matches!(
        refused(MediaKind::Audio, "audio/ogg; codecs=vorbis"),
        MediaError::OggWithoutOpus { .. }
    ));
    assert!(matches!(
        refused(MediaKind::Audio, "audio/wav"),
        MediaError::UnsupportedMimeType { .. }
    ));
    assert!(matches!(
        refused(MediaKind::Video, "video/quicktime"),
        MediaError::UnsupportedMimeType { .. }
    ));
    assert!(matches!(
        refused(MediaKind::Document, "application/zip"),
        MediaError::UnsupportedMimeType { .. }
    ));
    assert!(matches!(
        refused(MediaKind::Document, "image/jpeg"),
        MediaError::UnsupportedMimeType { .. }
    ));
    // Not a MIME type at all: refused the same way, listing what the kind takes.
    assert!(matches!(
        refused(MediaKind::Image, "jpeg"),
        MediaError::UnsupportedMimeType { .. }
    ));
    let err = SessionMessage::image(url("https://e.com/a.gif"), "image/gif")
        .build()
        .unwrap_err();
    // The message is the reason itself (kind, type and what is allowed), so printing the
    // error alone says what to change; the source keeps it for chain reporters.
    assert_eq!(
        err.to_string(),
        "image media cannot be of type image/gif; allowed: image/jpeg, image/png"
    );
    assert_eq!(
        err.source().unwrap().to_string(),
        "image media cannot be of type image/gif; allowed: image/jpeg, image/png"
    );

    // Every allowed type of every kind still builds, and goes on the wire exactly as given.
    for kind in MediaKind::ALL {
        for mime in kind.allowed_mime_types() {
            let mime = if *mime == "audio/ogg" {
                "audio/ogg; codecs=opus"
            } else {
                mime
            };
            let m = SessionMessage::media(kind, url("https://e.com/x"), mime)
                .build()
                .unwrap_or_else(|e| panic!("{kind} {mime}: {e}"));
            assert_eq!(wire(&m)[kind.as_str()]["mimeType"], mime);
        }
    }

    // Reading JSON runs the same rule.
    let err = serde_json::from_value::<SessionMessage>(json!(
        {"type": "image", "image": {"url": "https://e.com/a.gif", "mimeType": "image/gif"}}
    ))
    .unwrap_err();
    assert!(
        err.to_string().contains("allowed: image/jpeg, image/png"),
        "{err}"
    );
    assert!(
        serde_json::from_value::<SessionMessage>(json!(
            {"type": "audio", "audio": {"url": "https://e.com/a.ogg", "mimeType": "audio/ogg"}}
        ))
        .is_err()
    );
}

#[test]
fn location_json_and_rules() {
    let m = SessionMessage::location(17.434_901, 78.398_435)
        .name("Imimobile")
        .address("Road No. 44, Jubilee Hills, Hyderabad")
        .build()
        .unwrap();
    assert_eq!(
        serde_json::to_string(&m).unwrap(),
        r#"{"type":"location","location":{"longitude":78.398435,"latitude":17.434901,"name":"Imimobile","address":"Road No. 44, Jubilee Hills, Hyderabad"}}"#
    );
    round_trip(&m);
    assert_eq!(m.kind(), SessionKind::Location);
    assert!(SessionMessage::location(90.0, -180.0).build().is_ok());
    assert!(matches!(
        SessionMessage::location(0.0, 180.5).build(),
        Err(SessionMessageError::InvalidCoordinate {
            field: "longitude",
            ..
        })
    ));
    assert!(SessionMessage::location(f64::NAN, 0.0).build().is_err());
    assert_eq!(
        SessionMessage::location(1.0, 1.0)
            .address("Somewhere")
            .build(),
        Err(SessionMessageError::AddressWithoutName)
    );
    assert_eq!(
        SessionMessage::location(1.0, 1.0).name(" ").build(),
        Err(SessionMessageError::EmptyField { field: "name" })
    );
}

#[test]
fn contacts_json_and_rules() {
    let mut address = ContactAddress::default();
    address.city = Some("London".into());
    address.country_code = Some("GB".into());
    let mut org = ContactOrg::default();
    org.company = Some("Analytical Engines".into());
    let mut phone = ContactPhone::new("+44 7400 123456");
    phone.kind = Some("CELL".into());
    phone.wa_id = Some("447400123456".into());
    let contact = Contact::new(
        ContactName::new("Ada Lovelace")
            .first_name("Ada")
            .last_name("Lovelace"),
    )
    .phone(phone)
    .email(ContactEmail::new("ada@example.com"))
    .url(ContactUrl::new("https://example.com"))
    .address(address)
    .org(org)
    .birthday("1815-12-10");
    let m = SessionMessage::contacts(vec![contact.clone()]).unwrap();
    assert_eq!(
        wire(&m),
        json!({"type": "contacts", "contacts": [{
            "addresses": [{"city": "London", "country_code": "GB"}],
            "birthday": "1815-12-10",
            "emails": [{"email": "ada@example.com"}],
            "name": {"formatted_name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace"},
            "org": {"company": "Analytical Engines"},
            "phones": [{"phone": "+44 7400 123456", "type": "CELL", "wa_id": "447400123456"}],
            "urls": [{"url": "https://example.com"}]
        }]})
    );
    round_trip(&m);
    assert_eq!(m.as_contacts().len(), 1);

    assert!(SessionMessage::contacts(vec![contact.clone(); 5]).is_ok());
    assert_eq!(
        SessionMessage::contacts(vec![contact.clone(); 6]),
        Err(SessionMessageError::ContactCount { actual: 6, max: 5 })
    );
    assert_eq!(
        SessionMessage::contacts(vec![]),
        Err(SessionMessageError::ContactCount { actual: 0, max: 5 })
    );
    assert!(matches!(
        SessionMessage::contacts(vec![contact, Contact::new(ContactName::new("Bob"))]),
        Err(SessionMessageError::InvalidContact { index: 1, .. })
    ));
    assert!(matches!(
        SessionMessage::contacts(vec![Contact::new(ContactName::new(" ").first_name("Bob"))]),
        Err(SessionMessageError::InvalidContact { index: 0, .. })
    ));
}

#[test]
fn reference_samples_are_read() {
    // §3.1 samples, as written (placeholders filled in with real values).
    let location: SessionMessage = serde_json::from_value(json!({
        "type": "location",
        "location": {"longitude": 0.0, "latitude": 0.0, "name": "", "address": ""}
    }))
    .unwrap();
    assert_eq!(location.as_location().unwrap().name(), None);

    let older: SessionMessage = serde_json::from_value(json!({
        "type": "text", "text": {"body": "https://example.com"}, "preview_url": "true"
    }))
    .unwrap();
    assert!(older.preview_url());

    let sticker: SessionMessage = serde_json::from_value(json!({
        "type": "sticker",
        "sticker": {"url": "https://e.com/s.webp", "mimeType": "image/webp"},
        "conversationid": "c-1"
    }))
    .unwrap();
    assert_eq!(sticker.kind(), SessionKind::Sticker);

    let strings: SessionMessage = serde_json::from_value(json!({
        "type": "location",
        "location": {"latitude": "17.434901060022", "longitude": "78.398435572505", "name": "Imimobile"}
    }))
    .unwrap();
    assert!((strings.as_location().unwrap().latitude() - 17.434_901_060_022).abs() < 1e-9);

    for bad in [
        json!({"type": "audio", "audio": {"url": "https://e.com/a.mp3", "mimeType": "audio/mpeg", "caption": "x"}}),
        json!({"type": "image", "image": {"url": "https://e.com/a.jpg"}}),
        json!({"type": "image", "image": {"url": "not a url", "mimeType": "image/jpeg"}}),
        json!({"type": "contacts", "contacts": []}),
        json!({"type": 5}),
        json!({"type": ""}),
        json!({"type": "text", "text": {"body": "x"}, "preview_url": "maybe"}),
    ] {
        assert!(
            serde_json::from_value::<SessionMessage>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn session_request_envelope() {
    let to = PhoneNumber::parse("+91 99000 12345").unwrap();
    let m = SessionMessage::image(url("https://e.com/a.jpg"), "image/jpeg")
        .caption("Hi")
        .build()
        .unwrap();
    let request = SendRequest::builder(AppId::new("a_155054536910425280").unwrap(), m.clone())
        .to(&to)
        .identity_key_hash("abc=")
        .build()
        .unwrap();
    let json = serde_json::to_value(&request).unwrap();
    assert_eq!(
        json["channels"]["OTT-Messaging"]["wa"],
        json!({"type": "image", "image": {"url": "https://e.com/a.jpg", "mimeType": "image/jpeg", "caption": "Hi"}, "identity_key_hash": "abc="})
    );
    let back = SendRequest::from_slice(&serde_json::to_vec(&request).unwrap()).unwrap();
    assert_eq!(back.content(), &Content::Session(m));
}

proptest! {
    #[test]
    fn constructors_never_panic(s in any::<String>(), lat in any::<f64>(), lon in any::<f64>()) {
        let _ = SessionMessage::text(s.clone());
        let _ = SessionMessage::image(url("https://e.com/a.jpg"), s.clone()).caption(s.clone()).filename(s.clone()).build();
        let _ = SessionMessage::location(lat, lon).name(s.clone()).address(s.clone()).build();
        let _ = SessionMessage::contacts(vec![Contact::new(ContactName::new(s.clone()).first_name(s.clone()))]);
        let _ = serde_json::from_str::<SessionMessage>(&s);
    }

    #[test]
    fn text_round_trips(s in any::<String>(), preview in any::<bool>()) {
        let built = if preview { SessionMessage::text_with_preview(s) } else { SessionMessage::text(s) };
        if let Ok(m) = built {
            let back: SessionMessage = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            prop_assert_eq!(back, m);
        }
    }

    #[test]
    fn media_round_trips(
        kind in prop_oneof![Just(MediaKind::Image), Just(MediaKind::Video), Just(MediaKind::Document)],
        caption in proptest::option::of(any::<String>()),
        path in "[a-z0-9]{1,10}",
    ) {
        let mime = match kind { MediaKind::Image => "image/png", MediaKind::Video => "video/mp4", _ => "application/pdf" };
        let mut b = SessionMessage::media(kind, url(&format!("https://e.com/{path}")), mime);
        if let Some(c) = caption { b = b.caption(c); }
        if let Ok(m) = b.build() {
            let back: SessionMessage = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            prop_assert_eq!(back, m);
        }
    }

    #[test]
    fn location_round_trips(lat in -90.0f64..=90.0, lon in -180.0f64..=180.0, name in proptest::option::of("[A-Za-z ]{1,20}")) {
        let mut b = SessionMessage::location(lat, lon);
        if let Some(n) = name { b = b.name(n); }
        if let Ok(m) = b.build() {
            let back: SessionMessage = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            prop_assert_eq!(back, m);
        }
    }

    #[test]
    fn contacts_round_trip(names in proptest::collection::vec(("[A-Za-z ]{1,20}", "[A-Za-z]{1,10}"), 1..=5)) {
        let contacts = names.into_iter().map(|(f, first)| Contact::new(ContactName::new(f).first_name(first))).collect();
        if let Ok(m) = SessionMessage::contacts(contacts) {
            let back: SessionMessage = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            prop_assert_eq!(back, m);
        }
    }
}

// ---- interactive: list and reply buttons ----

fn row(id: &str, title: &str) -> ListRow {
    ListRow::new(id, title).unwrap()
}

fn too_long(what: &'static str, actual: usize, max: usize) -> SessionMessageError {
    SessionMessageError::Text(TextError::TooLong { what, actual, max })
}

#[test]
fn list_json() {
    let m = SessionMessage::list("Pick a time", "Choose a slot")
        .header("Appointments")
        .footer("Reply STOP to opt out")
        .section(
            "Morning",
            [
                row("slot-0900", "9:00")
                    .with_description("With Dr Rao")
                    .unwrap(),
                row("slot-1000", "10:00"),
            ],
        )
        .section("Afternoon", [row("slot-1400", "14:00")])
        .build()
        .unwrap();
    assert_eq!(
        wire(&m),
        json!({"type": "list", "list": {
            "header": {"type": "text", "text": "Appointments"},
            "body": {"text": "Pick a time"},
            "footer": {"text": "Reply STOP to opt out"},
            "action": {"button": "Choose a slot", "sections": [
                {"title": "Morning", "rows": [
                    {"id": "slot-0900", "title": "9:00", "description": "With Dr Rao"},
                    {"id": "slot-1000", "title": "10:00"}
                ]},
                {"title": "Afternoon", "rows": [{"id": "slot-1400", "title": "14:00"}]}
            ]}
        }})
    );
    // Key order on the wire follows the reference.
    assert_eq!(
        serde_json::to_string(&m).unwrap(),
        r#"{"type":"list","list":{"header":{"type":"text","text":"Appointments"},"body":{"text":"Pick a time"},"footer":{"text":"Reply STOP to opt out"},"action":{"button":"Choose a slot","sections":[{"title":"Morning","rows":[{"id":"slot-0900","title":"9:00","description":"With Dr Rao"},{"id":"slot-1000","title":"10:00"}]},{"title":"Afternoon","rows":[{"id":"slot-1400","title":"14:00"}]}]}}}"#
    );
    assert_eq!(m.kind(), SessionKind::List);
    assert_eq!(m.kind().as_str(), "list");
    let list = m.as_list().unwrap();
    assert_eq!(list.button().as_str(), "Choose a slot");
    assert_eq!(list.body().as_str(), "Pick a time");
    assert_eq!(list.header().unwrap().as_str(), "Appointments");
    assert_eq!(list.footer().unwrap().as_str(), "Reply STOP to opt out");
    assert_eq!(list.sections()[0].title().unwrap().as_str(), "Morning");
    assert_eq!(
        list.sections()[0].rows()[0].description().unwrap().as_str(),
        "With Dr Rao"
    );
    assert!(m.as_reply_buttons().is_none());
    assert!(m.text_body().is_none());
    round_trip(&m);

    // Minimal: one untitled section, no header or footer.
    let m = SessionMessage::list("Body", "Open")
        .untitled_section([row("a", "A")])
        .build()
        .unwrap();
    assert_eq!(
        wire(&m),
        json!({"type": "list", "list": {"body": {"text": "Body"},
            "action": {"button": "Open", "sections": [{"rows": [{"id": "a", "title": "A"}]}]}}})
    );
    round_trip(&m);
}

#[test]
fn reply_buttons_json() {
    let m = SessionMessage::reply_buttons("Confirm your visit?")
        .header("Appointment")
        .footer("Clinic")
        .button("yes", "Confirm")
        .button("no", "Reschedule")
        .build()
        .unwrap();
    assert_eq!(
        serde_json::to_string(&m).unwrap(),
        r#"{"type":"reply","reply":{"header":{"type":"text","text":"Appointment"},"body":{"text":"Confirm your visit?"},"footer":{"text":"Clinic"},"action":{"buttons":[{"type":"reply","reply":{"id":"yes","title":"Confirm"}},{"type":"reply","reply":{"id":"no","title":"Reschedule"}}]}}}"#
    );
    assert_eq!(m.kind(), SessionKind::ReplyButtons);
    assert_eq!(m.kind().as_str(), "reply");
    let r = m.as_reply_buttons().unwrap();
    assert_eq!(r.body().as_str(), "Confirm your visit?");
    assert_eq!(
        r.header().unwrap().as_text().unwrap().as_str(),
        "Appointment"
    );
    assert_eq!(r.footer().unwrap().as_str(), "Clinic");
    assert_eq!(r.buttons().len(), 2);
    assert_eq!(r.buttons()[0].id().as_str(), "yes");
    assert_eq!(r.buttons()[1].title().as_str(), "Reschedule");
    assert!(m.as_list().is_none());
    round_trip(&m);

    let m = SessionMessage::reply_buttons("Body")
        .button("1", "One")
        .build()
        .unwrap();
    assert_eq!(
        wire(&m),
        json!({"type": "reply", "reply": {"body": {"text": "Body"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "1", "title": "One"}}]}}})
    );
    round_trip(&m);
}

#[test]
fn reply_buttons_media_headers() {
    let build = |b: webex_connect_whatsapp::session::ReplyButtonsBuilder| {
        b.button("1", "One").build().unwrap()
    };
    let image =
        build(SessionMessage::reply_buttons("Body").image_header(url("https://e.com/a.jpg")));
    assert_eq!(
        wire(&image)["reply"]["header"],
        json!({"type": "image", "image": {"url": "https://e.com/a.jpg"}})
    );
    round_trip(&image);
    let video =
        build(SessionMessage::reply_buttons("Body").video_header(url("https://e.com/a.mp4")));
    assert_eq!(
        wire(&video)["reply"]["header"],
        json!({"type": "video", "video": {"url": "https://e.com/a.mp4"}})
    );
    round_trip(&video);
    let doc = build(
        SessionMessage::reply_buttons("Body")
            .document_header(url("https://e.com/a.pdf"), Some("invoice.pdf".into())),
    );
    assert_eq!(
        wire(&doc)["reply"]["header"],
        json!({"type": "document", "document": {"url": "https://e.com/a.pdf", "filename": "invoice.pdf"}})
    );
    assert_eq!(
        doc.as_reply_buttons().unwrap().header(),
        Some(&ReplyHeader::Document {
            url: url("https://e.com/a.pdf"),
            filename: Some("invoice.pdf".into())
        })
    );
    round_trip(&doc);
    // The last header set wins.
    let text = build(
        SessionMessage::reply_buttons("Body")
            .image_header(url("https://e.com/a.jpg"))
            .header("Text"),
    );
    assert_eq!(
        wire(&text)["reply"]["header"],
        json!({"type": "text", "text": "Text"})
    );
    assert_eq!(
        SessionMessage::reply_buttons("Body")
            .document_header(url("https://e.com/a.pdf"), Some(" ".into()))
            .button("1", "One")
            .build()
            .unwrap_err(),
        SessionMessageError::EmptyField { field: "filename" }
    );
    // The reference's media header shape, with a provider, is read.
    let read: SessionMessage = serde_json::from_value(json!({"type": "reply", "reply": {
        "header": {"type": "document", "document": {"url": "https://e.com/a.pdf", "provider": {"name": "p"}, "filename": "a.pdf"}},
        "body": {"text": "Body"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "1", "title": "One"}}]}
    }}))
    .unwrap();
    assert_eq!(
        read,
        build(
            SessionMessage::reply_buttons("Body")
                .document_header(url("https://e.com/a.pdf"), Some("a.pdf".into()))
        )
    );
    // Lists take only a text header; media URLs are checked when read.
    for bad in [
        json!({"type": "list", "list": {"header": {"type": "image", "image": {"url": "https://e.com/a.jpg"}},
            "body": {"text": "B"}, "action": {"button": "Open", "sections": [{"rows": [{"id": "a", "title": "A"}]}]}}}),
        json!({"type": "reply", "reply": {"header": {"type": "image", "image": {"url": "http://e.com/a.jpg"}},
            "body": {"text": "B"}, "action": {"buttons": [{"type": "reply", "reply": {"id": "1", "title": "A"}}]}}}),
    ] {
        assert!(
            serde_json::from_value::<SessionMessage>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn interactive_frame_limits() {
    let ok = |header: usize, body: usize, footer: usize| {
        (
            SessionMessage::reply_buttons("b".repeat(body))
                .header("h".repeat(header))
                .footer("f".repeat(footer))
                .button("1", "One")
                .build(),
            SessionMessage::list("b".repeat(body), "Open")
                .header("h".repeat(header))
                .footer("f".repeat(footer))
                .untitled_section([row("a", "A")])
                .build(),
        )
    };
    let (r, l) = ok(60, 1024, 60);
    assert!(r.is_ok() && l.is_ok());
    // Characters, not bytes.
    assert!(
        SessionMessage::reply_buttons("é".repeat(1024))
            .header("😀".repeat(60))
            .button("1", "One")
            .build()
            .is_ok()
    );
    for (input, err) in [
        ((61, 1, 1), too_long("header text", 61, 60)),
        ((1, 1025, 1), too_long("body text", 1025, 1024)),
        ((1, 1, 61), too_long("footer text", 61, 60)),
    ] {
        let (r, l) = ok(input.0, input.1, input.2);
        assert_eq!(r.unwrap_err(), err);
        assert_eq!(l.unwrap_err(), err);
    }
    // Body is required; empty header or footer is refused.
    assert_eq!(
        SessionMessage::reply_buttons("")
            .button("1", "One")
            .build()
            .unwrap_err(),
        SessionMessageError::Text(TextError::Empty { what: "body text" })
    );
    assert!(
        SessionMessage::list("b", "Open")
            .header("")
            .untitled_section([row("a", "A")])
            .build()
            .is_err()
    );
    assert!(
        SessionMessage::list("b", "Open")
            .footer("")
            .untitled_section([row("a", "A")])
            .build()
            .is_err()
    );
}

#[test]
fn reply_button_rules() {
    let with = |n: usize| {
        (0..n)
            .fold(SessionMessage::reply_buttons("Body"), |b, i| {
                b.button(format!("id{i}"), format!("t{i}"))
            })
            .build()
    };
    assert_eq!(MAX_REPLY_BUTTONS, 3);
    assert!(with(1).is_ok());
    assert!(with(3).is_ok());
    assert_eq!(
        with(0).unwrap_err(),
        SessionMessageError::ReplyButtonCount { actual: 0, max: 3 }
    );
    assert_eq!(
        with(4).unwrap_err(),
        SessionMessageError::ReplyButtonCount { actual: 4, max: 3 }
    );

    let one = |id: String, title: String| {
        SessionMessage::reply_buttons("Body")
            .button(id, title)
            .build()
    };
    assert!(one("i".repeat(256), "t".repeat(20)).is_ok());
    assert!(one("é".repeat(256), "é".repeat(20)).is_ok());
    assert_eq!(
        one("i".repeat(257), "t".into()).unwrap_err(),
        too_long("reply button id", 257, 256)
    );
    assert_eq!(
        one("i".into(), "t".repeat(21)).unwrap_err(),
        too_long("reply button title", 21, 20)
    );
    assert!(one(String::new(), "t".into()).is_err());
    assert!(one("i".into(), String::new()).is_err());

    let dup_id = SessionMessage::reply_buttons("Body")
        .button("same", "One")
        .button("same", "Two")
        .build()
        .unwrap_err();
    assert_eq!(
        dup_id,
        SessionMessageError::Duplicate {
            what: "reply button id",
            value: "same".into()
        }
    );
    assert_eq!(
        dup_id.to_string(),
        "reply button id \"same\" is used twice; it must be unique"
    );
    assert_eq!(
        SessionMessage::reply_buttons("Body")
            .button("1", "Same")
            .button("2", "Same")
            .build()
            .unwrap_err(),
        SessionMessageError::Duplicate {
            what: "reply button title",
            value: "Same".into()
        }
    );
}

#[test]
fn list_rules() {
    assert_eq!((MAX_LIST_SECTIONS, MAX_LIST_ROWS), (10, 10));
    let list = || SessionMessage::list("Body", "Open");

    // Button label.
    assert!(
        SessionMessage::list("Body", "b".repeat(20))
            .untitled_section([row("a", "A")])
            .build()
            .is_ok()
    );
    assert_eq!(
        SessionMessage::list("Body", "b".repeat(21))
            .untitled_section([row("a", "A")])
            .build()
            .unwrap_err(),
        too_long("list button label", 21, 20)
    );
    assert!(
        SessionMessage::list("Body", "")
            .untitled_section([row("a", "A")])
            .build()
            .is_err()
    );

    // Sections: 1 to 10, and 10 rows in all.
    let sections = |n: usize| {
        (0..n)
            .fold(list(), |b, i| {
                b.section(format!("S{i}"), [row(&format!("r{i}"), "Row")])
            })
            .build()
    };
    assert!(sections(10).is_ok());
    assert_eq!(
        sections(0).unwrap_err(),
        SessionMessageError::SectionCount { actual: 0, max: 10 }
    );
    assert_eq!(
        sections(11).unwrap_err(),
        SessionMessageError::SectionCount {
            actual: 11,
            max: 10
        }
    );
    let rows = |n: usize| {
        (0..n)
            .map(|i| row(&format!("r{i}"), "Row"))
            .collect::<Vec<_>>()
    };
    assert!(list().untitled_section(rows(10)).build().is_ok());
    assert_eq!(
        list().untitled_section(rows(11)).build().unwrap_err(),
        SessionMessageError::RowCount {
            actual: 11,
            max: 10
        }
    );
    // Counted over all sections.
    let mut second = rows(11).split_off(6);
    second.truncate(5);
    assert_eq!(
        list()
            .section("A", rows(6))
            .section("B", second)
            .build()
            .unwrap_err(),
        SessionMessageError::RowCount {
            actual: 11,
            max: 10
        }
    );
    assert_eq!(
        list()
            .section("A", rows(1))
            .section("B", [])
            .build()
            .unwrap_err(),
        SessionMessageError::EmptySection { index: 1 }
    );

    // Section titles: ≤24, required with more than one section.
    assert!(list().section("s".repeat(24), rows(1)).build().is_ok());
    assert_eq!(
        list().section("s".repeat(25), rows(1)).build().unwrap_err(),
        too_long("section title", 25, 24)
    );
    assert_eq!(
        list()
            .section("A", [row("a", "A")])
            .untitled_section([row("b", "B")])
            .build()
            .unwrap_err(),
        SessionMessageError::SectionTitleRequired { index: 1 }
    );
}

#[test]
fn list_row_rules() {
    let list = || SessionMessage::list("Body", "Open");
    // Rows: title ≤24, description ≤72, id ≤200, ids unique.
    assert!(ListRow::new("i".repeat(200), "t".repeat(24)).is_ok());
    assert_eq!(
        ListRow::new("i".repeat(201), "t").unwrap_err(),
        too_long("row id", 201, 200)
    );
    assert_eq!(
        ListRow::new("i", "t".repeat(25)).unwrap_err(),
        too_long("row title", 25, 24)
    );
    assert!(row("i", "t").with_description("d".repeat(72)).is_ok());
    assert_eq!(
        row("i", "t").with_description("d".repeat(73)).unwrap_err(),
        too_long("row description", 73, 72)
    );
    assert!(ListRow::new("", "t").is_err());
    assert!(ListRow::new("i", "").is_err());
    assert!(row("i", "t").with_description("").is_err());
    assert_eq!(
        list()
            .section("A", [row("same", "One")])
            .section("B", [row("same", "Two")])
            .build()
            .unwrap_err(),
        SessionMessageError::Duplicate {
            what: "row id",
            value: "same".into()
        }
    );
    // Row titles may repeat.
    assert!(
        list()
            .untitled_section([row("1", "Same"), row("2", "Same")])
            .build()
            .is_ok()
    );
}

#[test]
fn interactive_wire_is_checked_when_read() {
    for bad in [
        // No buttons.
        json!({"type": "reply", "reply": {"body": {"text": "B"}, "action": {"buttons": []}}}),
        // Duplicate ids.
        json!({"type": "reply", "reply": {"body": {"text": "B"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": "1", "title": "A"}},
            {"type": "reply", "reply": {"id": "1", "title": "B"}}]}}}),
        // Title too long.
        json!({"type": "reply", "reply": {"body": {"text": "B"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": "1", "title": "x".repeat(21)}}]}}}),
        // No body.
        json!({"type": "reply", "reply": {"action": {"buttons": [
            {"type": "reply", "reply": {"id": "1", "title": "A"}}]}}}),
        // Two untitled sections.
        json!({"type": "list", "list": {"body": {"text": "B"}, "action": {"button": "Open", "sections": [
            {"rows": [{"id": "a", "title": "A"}]}, {"rows": [{"id": "b", "title": "B"}]}]}}}),
        // No sections.
        json!({"type": "list", "list": {"body": {"text": "B"}, "action": {"button": "Open", "sections": []}}}),
        // Row description too long.
        json!({"type": "list", "list": {"body": {"text": "B"}, "action": {"button": "Open", "sections": [
            {"rows": [{"id": "a", "title": "A", "description": "d".repeat(73)}]}]}}}),
    ] {
        assert!(
            serde_json::from_value::<SessionMessage>(bad.clone()).is_err(),
            "{bad}"
        );
    }
    // Empty optional strings read as absent.
    let m: SessionMessage = serde_json::from_value(json!({"type": "list", "list": {
        "body": {"text": "B"},
        "action": {"button": "Open", "sections": [{"title": "", "rows": [{"id": "a", "title": "A", "description": ""}]}]}
    }}))
    .unwrap();
    assert_eq!(
        m,
        SessionMessage::list("B", "Open")
            .untitled_section([row("a", "A")])
            .build()
            .unwrap()
    );
}

#[test]
fn interactive_request_envelope() {
    let to = PhoneNumber::parse("+91 99000 12345").unwrap();
    let m = SessionMessage::reply_buttons("Confirm?")
        .button("yes", "Yes")
        .build()
        .unwrap();
    let request = SendRequest::builder(AppId::new("a_155054536910425280").unwrap(), m.clone())
        .to(&to)
        .build()
        .unwrap();
    let json = serde_json::to_value(&request).unwrap();
    assert_eq!(
        json["channels"]["OTT-Messaging"]["wa"]["reply"]["action"]["buttons"][0],
        json!({"type": "reply", "reply": {"id": "yes", "title": "Yes"}})
    );
    let back = SendRequest::from_slice(&serde_json::to_vec(&request).unwrap()).unwrap();
    assert_eq!(back.content(), &Content::Session(m));
}

proptest! {
    #[test]
    fn reply_buttons_round_trip(
        body in any::<String>(),
        header in proptest::option::of(any::<String>()),
        footer in proptest::option::of(any::<String>()),
        buttons in proptest::collection::vec((any::<String>(), any::<String>()), 0..=4),
    ) {
        let mut b = SessionMessage::reply_buttons(body);
        if let Some(h) = header { b = b.header(h); }
        if let Some(f) = footer { b = b.footer(f); }
        for (id, title) in buttons { b = b.button(id, title); }
        if let Ok(m) = b.build() {
            let back: SessionMessage = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            prop_assert_eq!(back, m);
        }
    }

    #[test]
    fn list_round_trips(
        body in "[^\u{0}]{1,40}",
        button in "[A-Za-z ]{1,20}",
        header in proptest::option::of("[A-Za-z ]{1,60}"),
        sections in proptest::collection::vec(
            (
                proptest::option::of("[A-Za-z]{1,24}"),
                proptest::collection::vec(
                    ("[a-z0-9]{1,12}", "\\PC{1,24}", proptest::option::of("\\PC{1,72}")),
                    0..=4,
                ),
            ),
            0..=4,
        ),
    ) {
        let mut b = SessionMessage::list(body, button);
        if let Some(h) = header { b = b.header(h); }
        for (title, rows) in sections {
            let rows: Vec<ListRow> = rows
                .into_iter()
                .map(|(id, t, d)| {
                    let r = ListRow::new(id, t).unwrap();
                    match d { Some(d) => r.with_description(d).unwrap(), None => r }
                })
                .collect();
            b = match title { Some(t) => b.section(t, rows), None => b.untitled_section(rows) };
        }
        if let Ok(m) = b.build() {
            let back: SessionMessage = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            prop_assert_eq!(back, m);
        }
    }

    #[test]
    fn interactive_never_panics(s in any::<String>()) {
        let _ = SessionMessage::reply_buttons(s.clone()).header(s.clone()).footer(s.clone()).button(s.clone(), s.clone()).build();
        let _ = ListRow::new(s.clone(), s.clone()).and_then(|r| r.with_description(s.clone()));
        let _ = SessionMessage::list(s.clone(), s.clone()).section(s.clone(), []).build();
    }
}

fn object(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn session_request(m: SessionMessage) -> SendRequest {
    SendRequest::builder(AppId::new("a_155054536910425280").unwrap(), m)
        .to(PhoneNumber::parse("+91 99000 12345").unwrap())
        .build()
        .unwrap()
}

fn read_back(request: &SendRequest) -> SendRequest {
    SendRequest::from_slice(&serde_json::to_vec(request).unwrap()).unwrap()
}

#[test]
fn a_raw_session_object_is_sent_exactly_and_reads_back() {
    let raw = json!({
        "type": "carousel",
        "carousel": {"cards": [{"image": {"url": "https://e.com/1.jpg"}, "body": "One"}]},
        "newFlag": true
    });
    let m = SessionMessage::raw(object(raw.clone())).unwrap();
    assert_eq!(m.kind(), SessionKind::Raw);
    assert_eq!(m.kind().as_str(), "raw");
    assert_eq!(m.raw_type(), Some("carousel"));
    assert_eq!(m.as_raw(), Some(&object(raw.clone())));
    assert_eq!(m.text_body(), None);
    assert_eq!(wire(&m), raw);

    let request = SendRequest::builder(AppId::new("a_155054536910425280").unwrap(), m.clone())
        .to(PhoneNumber::parse("+91 99000 12345").unwrap())
        .identity_key_hash("abc=")
        .build()
        .unwrap();
    let mut expected = raw;
    expected["identity_key_hash"] = json!("abc=");
    assert_eq!(
        serde_json::to_value(&request).unwrap()["channels"]["OTT-Messaging"]["wa"],
        expected
    );
    let back = read_back(&request);
    assert_eq!(back, request);
    assert_eq!(back.content(), &Content::Session(m));
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        serde_json::to_value(&request).unwrap()
    );
}

#[test]
fn a_raw_object_of_a_modelled_type_keeps_the_fields_the_crate_does_not_model() {
    // A text reply to an earlier message: `context` is not modelled.
    let raw =
        json!({"type": "text", "text": {"body": "Yes"}, "context": {"message_id": "wamid.1"}});
    let m = SessionMessage::raw(object(raw.clone())).unwrap();
    let request = session_request(m.clone());
    let back = read_back(&request);
    assert_eq!(back, request);
    let Content::Session(read) = back.content() else {
        panic!("not a session message")
    };
    assert_eq!(read.as_raw(), Some(&object(raw.clone())));
    // Plain serde reads the modelled type, dropping the unmodelled field.
    let typed: SessionMessage = serde_json::from_value(raw).unwrap();
    assert_eq!(typed.text_body(), Some("Yes"));
    assert_ne!(typed, m);
}

#[test]
fn a_raw_object_that_spells_a_typed_message_equals_it() {
    let raw = SessionMessage::raw(object(json!({"type": "text", "text": {"body": "Hi"}}))).unwrap();
    let typed = SessionMessage::text("Hi").unwrap();
    assert_eq!(raw, typed);
    assert_eq!(typed, raw);
    assert_ne!(raw, SessionMessage::text("Hello").unwrap());
    let back = read_back(&session_request(raw.clone()));
    let Content::Session(read) = back.content() else {
        panic!("not a session message")
    };
    // Read back as the typed message, and still equal to the raw one.
    assert_eq!(read.kind(), SessionKind::Text);
    assert_eq!(read, &raw);
}

#[test]
fn a_raw_object_of_a_modelled_type_is_checked_when_read_back() {
    // The escape hatch does not check, but the reader (the sandbox's view) does.
    let raw = SessionMessage::raw(object(json!({"type": "text", "text": {"body": ""}}))).unwrap();
    let body = serde_json::to_vec(&session_request(raw)).unwrap();
    assert!(matches!(
        SendRequest::from_slice(&body),
        Err(webex_connect_whatsapp::send::SendRequestError::Invalid {
            field: "channels.OTT-Messaging.wa",
            ..
        })
    ));
}

#[test]
fn a_raw_object_needs_a_string_type_and_nothing_else() {
    for (bad, needle) in [
        (json!({}), "has no `type`"),
        (json!({"type": 1}), "`type` is not a string"),
        (json!({"type": ""}), "`type` is empty"),
        (
            json!({"type": "text", "identity_key_hash": "x"}),
            "SendRequestBuilder::identity_key_hash",
        ),
    ] {
        let error = SessionMessage::raw(object(bad.clone())).unwrap_err();
        assert!(
            matches!(error, SessionMessageError::InvalidRaw { .. }),
            "{bad}"
        );
        assert!(error.to_string().contains(needle), "{bad}: {error}");
    }
    // Anything else goes: the platform is the judge.
    assert!(SessionMessage::raw(object(json!({"type": "text"}))).is_ok());
    assert!(SessionMessage::raw(object(json!({"type": "x", "x": [1, null, {"y": 2.5}]}))).is_ok());
}

#[test]
fn an_unmodelled_type_is_read_as_raw() {
    let hsm = json!({"type": "hsm", "hsm": {"namespace": "n", "element_name": "e"}});
    let m: SessionMessage = serde_json::from_value(hsm.clone()).unwrap();
    assert_eq!(m.kind(), SessionKind::Raw);
    assert_eq!(m.raw_type(), Some("hsm"));
    assert_eq!(wire(&m), hsm);
}

#[test]
fn a_request_with_an_unmodelled_field_reads_back_exactly() {
    // The reference sticker sample carries an undocumented `conversationid`.
    let body = json!({
        "deliverychannel": "whatsapp",
        "appid": "a_155054536910425280",
        "destination": [{"waid": ["919900012345"]}],
        "channels": {"OTT-Messaging": {"wa": {
            "type": "sticker",
            "sticker": {"url": "https://e.com/s.webp", "mimeType": "image/webp"},
            "conversationid": "c-1"
        }}}
    });
    let request = SendRequest::from_slice(&serde_json::to_vec(&body).unwrap()).unwrap();
    assert_eq!(serde_json::to_value(&request).unwrap(), body);
    // Lenient forms of modelled fields are still read as typed.
    let mut lenient = body;
    lenient["channels"]["OTT-Messaging"]["wa"] = json!({
        "type": "text", "text": {"body": "Hi"}, "preview_url": "false"
    });
    let request = SendRequest::from_slice(&serde_json::to_vec(&lenient).unwrap()).unwrap();
    let Content::Session(m) = request.content() else {
        panic!("not a session message")
    };
    assert_eq!(m.kind(), SessionKind::Text);
}

// ---------- declared media sizes, checked at build() ----------

/// A URL and a MIME type each kind takes.
fn sample(kind: MediaKind) -> (MediaUrl, &'static str) {
    match kind {
        MediaKind::Image => (url("https://e.com/a.jpg"), "image/jpeg"),
        MediaKind::Audio => (url("https://e.com/a.mp3"), "audio/mpeg"),
        MediaKind::Video => (url("https://e.com/a.mp4"), "video/mp4"),
        MediaKind::Document => (url("https://e.com/a.pdf"), "application/pdf"),
        MediaKind::Sticker => (url("https://e.com/a.webp"), "image/webp"),
        other => panic!("no sample for {other}"),
    }
}

fn sized(kind: MediaKind, size: u64) -> Result<SessionMessage, SessionMessageError> {
    let (url, mime) = sample(kind);
    SessionMessage::media(kind, url, mime)
        .size_bytes(size)
        .build()
}

#[test]
fn every_kind_builds_at_its_cap_and_fails_one_byte_over() {
    for (kind, cap) in [
        (MediaKind::Image, 5_000_000),
        (MediaKind::Audio, 16_000_000),
        (MediaKind::Video, 16_000_000),
        (MediaKind::Document, 64 * 1024 * 1024),
        (MediaKind::Sticker, 100_000),
    ] {
        assert_eq!(kind.max_bytes(), cap, "{kind}");
        assert!(sized(kind, cap).is_ok(), "{kind} at its cap");
        assert_eq!(
            sized(kind, cap + 1),
            Err(SessionMessageError::MediaTooLarge {
                kind,
                size: cap + 1,
                max: cap
            }),
            "{kind}"
        );
        assert_eq!(
            sized(kind, 0),
            Err(SessionMessageError::EmptyMedia { kind }),
            "{kind}"
        );
        // Nothing of the size goes on the wire.
        let (url, mime) = sample(kind);
        assert_eq!(
            wire(&sized(kind, cap).unwrap()),
            wire(&SessionMessage::media(kind, url, mime).build().unwrap())
        );
    }
}

#[test]
fn a_70_mb_video_fails_at_build_naming_kind_size_and_cap() {
    let e = sized(MediaKind::Video, 70_000_000).unwrap_err();
    assert_eq!(
        e.to_string(),
        "video media is 70000000 bytes, but the max for video is 16000000 bytes (16 MB); send a \
         smaller file (or share a link to it in a text message)"
    );
    let e = sized(MediaKind::Document, 70_000_000).unwrap_err();
    assert!(e.to_string().contains("(64 MiB)"), "{e}");
}

#[test]
fn an_animated_sticker_has_the_larger_cap() {
    let (url, mime) = sample(MediaKind::Sticker);
    let animated = |size| {
        SessionMessage::sticker(url.clone(), mime)
            .size_bytes(size)
            .animated(true)
            .build()
    };
    assert!(animated(500_000).is_ok());
    assert_eq!(
        animated(500_001),
        Err(SessionMessageError::MediaTooLarge {
            kind: MediaKind::Sticker,
            size: 500_001,
            max: 500_000
        })
    );
    assert!(sized(MediaKind::Sticker, 400_000).is_err());
    // The flag changes nothing for other kinds.
    let (url, mime) = sample(MediaKind::Image);
    assert!(
        SessionMessage::image(url, mime)
            .size_bytes(5_000_001)
            .animated(true)
            .build()
            .is_err()
    );
}

#[test]
fn a_bad_mime_type_is_reported_before_the_size() {
    let e = SessionMessage::image(url("https://e.com/a.gif"), "image/gif")
        .size_bytes(70_000_000)
        .build()
        .unwrap_err();
    assert!(
        matches!(e, SessionMessageError::InvalidMimeType { .. }),
        "{e:?}"
    );
}
