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

use webex_connect_whatsapp::media::{MediaError, MediaKind, MediaUrl, MediaUrlError};
use webex_connect_whatsapp::send::{Content, SendRequest};
use webex_connect_whatsapp::session::{
    Contact, ContactAddress, ContactEmail, ContactName, ContactOrg, ContactPhone, ContactUrl,
    SessionKind, SessionMessage, SessionMessageError,
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
    assert_eq!(image.as_media().unwrap().mime_type(), "image/jpeg");
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
    assert_eq!(
        err.to_string(),
        "image message cannot carry media of type \"image/gif\""
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
        json!({"type": "hsm", "hsm": {}}),
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
