//! Business profile limits, contact email, profile image header checks, display names and the
//! display-name change policy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use webex_connect_whatsapp::limits::{MAX_ABOUT_CHARS, MAX_DISPLAY_NAME_CHARS};
use webex_connect_whatsapp::profile::{
    BusinessEmail, BusinessProfile, DisplayName, DisplayNameChangeError, DisplayNameChangePolicy,
    DisplayNameError, ProfileError, ProfileImage, ProfileImageError,
};
use webex_connect_whatsapp::warning::Warning;

fn rules(warnings: &[Warning]) -> Vec<&'static str> {
    warnings.iter().map(Warning::rule).collect()
}

#[test]
fn text_fields_256_ok_257_refused() {
    type Setter = fn(
        webex_connect_whatsapp::profile::BusinessProfileBuilder,
        String,
    ) -> webex_connect_whatsapp::profile::BusinessProfileBuilder;
    let fields: [(&str, Setter); 3] = [
        ("about", |b, v| b.about(v)),
        ("address", |b, v| b.address(v)),
        ("description", |b, v| b.description(v)),
    ];
    for (field, set) in fields {
        set(BusinessProfile::builder(), "a".repeat(256))
            .build()
            .unwrap();
        let err = set(BusinessProfile::builder(), "a".repeat(257))
            .build()
            .unwrap_err();
        assert_eq!(
            err,
            ProfileError::TooLong {
                field,
                actual: 257,
                max: 256
            }
        );
        assert_eq!(
            err.to_string(),
            format!("{field} is 257 characters long, but the max is 256")
        );
    }
}

#[test]
fn multibyte_characters_count_as_characters() {
    // 256 characters of 2, 3 and 4 bytes each are within the limit.
    for c in ["é", "日", "🍞"] {
        BusinessProfile::builder()
            .about(c.repeat(MAX_ABOUT_CHARS))
            .build()
            .unwrap();
        assert!(matches!(
            BusinessProfile::builder().about(c.repeat(257)).build(),
            Err(ProfileError::TooLong { actual: 257, .. })
        ));
    }
}

#[test]
fn about_longer_than_visible_warns() {
    let w = BusinessProfile::builder()
        .about("a".repeat(139))
        .build()
        .unwrap()
        .warnings();
    assert!(w.is_empty());
    let w = BusinessProfile::builder()
        .about("a".repeat(140))
        .build()
        .unwrap()
        .warnings();
    assert_eq!(rules(&w), ["profile.about.visible"]);
    assert_eq!(
        w[0].message(),
        "about is 140 characters long, but WhatsApp shows at most 139"
    );
}

#[test]
fn websites_warn_only() {
    let p = BusinessProfile::builder()
        .website("https://a.example")
        .website("http://b.example/x")
        .build()
        .unwrap();
    let w = p.warnings();
    assert!(w.is_empty());
    assert_eq!(p.websites().len(), 2);
    let p = BusinessProfile::builder()
        .website("https://a.example")
        .website("https://b.example")
        .website("ftp://c.example")
        .website(format!("https://d.example/{}", "x".repeat(250)))
        .website("not a url")
        .build()
        .unwrap();
    let w = p.warnings();
    assert_eq!(p.websites().len(), 5, "nothing is dropped");
    assert_eq!(
        rules(&w),
        [
            "profile.websites.count",
            "profile.website.scheme",
            "profile.website.length",
            "profile.website.scheme"
        ]
    );
}

#[test]
fn email_rules() {
    for ok in [
        "a@b.co",
        "first.last+tag@mail.shop.example",
        "o'brien@example.ie",
        "info@bäckerei.de",
        " spaced@example.com ",
    ] {
        BusinessEmail::new(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        "",
        "plain",
        "@example.com",
        "a@",
        "a@@example.com",
        "a@b@example.com",
        "a b@example.com",
        "a@localhost",
        "a@-bad.example",
        "a@bad-.example",
        "a@bad..example",
        "a@.example.com",
        "a@example.com.",
        "a@exa mple.com",
        "a@exa_mple.com",
        ".a@example.com",
        "a.@example.com",
        "a..b@example.com",
        "a@1.2.3.4",
        "<a>@example.com",
    ] {
        assert!(
            matches!(
                BusinessEmail::new(bad),
                Err(ProfileError::InvalidEmail { .. })
            ),
            "{bad:?}: {:?}",
            BusinessEmail::new(bad)
        );
    }
    let local64 = format!("{}@example.com", "a".repeat(64));
    BusinessEmail::new(&local64).unwrap();
    let local65 = format!("{}@example.com", "a".repeat(65));
    assert!(matches!(
        BusinessEmail::new(local65),
        Err(ProfileError::InvalidEmail { .. })
    ));
    let label63 = format!("a@{}.com", "b".repeat(63));
    BusinessEmail::new(label63).unwrap();
    assert!(BusinessEmail::new(format!("a@{}.com", "b".repeat(64))).is_err());
}

#[test]
fn email_128_ok_129_refused() {
    let domain_128 = format!("{}.{}.com", "b".repeat(60), "c".repeat(58)); // 123 chars
    let at_128 = format!("abcd@{domain_128}");
    assert_eq!(at_128.chars().count(), 128);
    BusinessEmail::new(&at_128).unwrap();
    let at_129 = format!("abcde@{domain_128}");
    assert_eq!(
        BusinessEmail::new(at_129),
        Err(ProfileError::TooLong {
            field: "email",
            actual: 129,
            max: 128
        })
    );
    assert!(BusinessProfile::builder().email(at_128).build().is_ok());
    assert_eq!(
        BusinessEmail::new("plain").unwrap_err().to_string(),
        "contact email is not a valid address: it has no '@'"
    );
}

#[test]
fn profile_serde_round_trip_and_validation() {
    let p = BusinessProfile::builder()
        .about("About us")
        .address("1 High St")
        .description("Bakery")
        .email("hi@bakery.example")
        .website("https://bakery.example")
        .build()
        .unwrap();
    assert_eq!(
        (p.about(), p.address(), p.description()),
        (Some("About us"), Some("1 High St"), Some("Bakery"))
    );
    assert_eq!(
        p.email().map(BusinessEmail::as_str),
        Some("hi@bakery.example")
    );
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "about": "About us",
            "address": "1 High St",
            "description": "Bakery",
            "email": "hi@bakery.example",
            "websites": ["https://bakery.example"]
        })
    );
    let back: BusinessProfile = serde_json::from_value(json).unwrap();
    assert_eq!(back, p);
    let empty: BusinessProfile = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, BusinessProfile::default());
    let too_long = serde_json::json!({ "about": "a".repeat(257) });
    assert!(serde_json::from_value::<BusinessProfile>(too_long).is_err());
    assert!(serde_json::from_value::<BusinessProfile>(serde_json::json!({"email": "x"})).is_err());
    // Unknown fields (Meta's `vertical`, `profile_picture_url`) are accepted.
    let with_extra: BusinessProfile =
        serde_json::from_value(serde_json::json!({"about": "x", "vertical": "RETAIL"})).unwrap();
    assert_eq!(with_extra.about(), Some("x"));
    let email: BusinessEmail = serde_json::from_str("\"a@b.example\"").unwrap();
    assert_eq!(serde_json::to_string(&email).unwrap(), "\"a@b.example\"");
}

/// A minimal JPEG header: SOI, an APP0 segment, then a frame header of the given kind.
fn jpeg(sof: u8, width: u16, height: u16) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8];
    v.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
    v.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    // A DQT-like segment before the frame header, and fill bytes before the marker.
    v.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x04, 0x00, 0x00]);
    v.extend_from_slice(&[0xFF, 0xFF, 0xFF, sof, 0x00, 0x11, 0x08]);
    v.extend_from_slice(&height.to_be_bytes());
    v.extend_from_slice(&width.to_be_bytes());
    v.extend_from_slice(&[0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    v.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0xFF, 0xD9]);
    v
}

#[test]
fn jpeg_dimensions_are_read_from_the_frame_header() {
    for sof in [
        0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF,
    ] {
        let img = ProfileImage::from_jpeg_bytes(&jpeg(sof, 1024, 1100)).unwrap();
        assert_eq!((img.width(), img.height()), (1024, 1100));
    }
    // DHT (C4) shares the SOF range but is not a frame header.
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x03, 0x00];
    v.extend_from_slice(&jpeg(0xC0, 2048, 2048)[2..]);
    let img = ProfileImage::from_jpeg_bytes(&v).unwrap();
    assert_eq!(img.width(), 2048);
    // Standalone markers (RSTn) have no length.
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xD0];
    v.extend_from_slice(&jpeg(0xC0, 1024, 1024)[2..]);
    ProfileImage::from_jpeg_bytes(&v).unwrap();
}

#[test]
fn image_size_and_aspect() {
    ProfileImage::from_jpeg_bytes(&jpeg(0xC0, 1024, 1024)).unwrap();
    assert_eq!(
        ProfileImage::from_jpeg_bytes(&jpeg(0xC0, 1023, 1024)),
        Err(ProfileImageError::TooSmall {
            width: 1023,
            height: 1024,
            min: 1024
        })
    );
    assert_eq!(
        ProfileImage::from_jpeg_bytes(&jpeg(0xC0, 640, 640))
            .unwrap_err()
            .to_string(),
        "profile image is 640x640 pixels, but the minimum is 1024x1024"
    );
    // 1.1 exactly is allowed, a hair more is not.
    ProfileImage::from_jpeg_bytes(&jpeg(0xC0, 1100, 1000 + 24 + 76)).unwrap();
    ProfileImage::from_jpeg_bytes(&jpeg(0xC0, 1210, 1100)).unwrap();
    ProfileImage::from_jpeg_bytes(&jpeg(0xC0, 1100, 1210)).unwrap();
    assert_eq!(
        ProfileImage::from_jpeg_bytes(&jpeg(0xC0, 1211, 1100)),
        Err(ProfileImageError::NotSquare {
            width: 1211,
            height: 1100
        })
    );
    assert!(matches!(
        ProfileImage::from_jpeg_bytes(&jpeg(0xC0, 1920, 1080)),
        Err(ProfileImageError::NotSquare { .. })
    ));
    ProfileImage::from_jpeg_bytes(&jpeg(0xC0, u16::MAX, u16::MAX)).unwrap();
}

#[test]
fn hostile_jpeg_bytes() {
    assert_eq!(
        ProfileImage::from_jpeg_bytes(&[]),
        Err(ProfileImageError::Empty)
    );
    let not_jpeg: [(&[u8], &str); 6] = [
        (b"\x89PNG\r\n\x1a\n", "a PNG file"),
        (b"GIF89a", "a GIF file"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "a WEBP file"),
        (b"\0\0\0\x18ftypheic", "a HEIC/AVIF or MP4 file"),
        (b"hello", "not an image file"),
        (&[0xFF], "not an image file"),
    ];
    for (bytes, format) in not_jpeg {
        assert_eq!(
            ProfileImage::from_jpeg_bytes(bytes),
            Err(ProfileImageError::NotJpeg { format }),
            "{format}"
        );
    }
    assert_eq!(
        ProfileImage::from_jpeg_bytes(b"\x89PNG\r\n\x1a\n")
            .unwrap_err()
            .to_string(),
        "profile image is a PNG file, but only JPEG is allowed"
    );
    let full = jpeg(0xC0, 1024, 1024);
    // Every truncation of a valid header is refused, never a panic.
    let sof = full.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    let sof_end = sof + 2 + 2 + 5; // marker, length, precision, height, width
    for len in 1..sof_end {
        let err = ProfileImage::from_jpeg_bytes(&full[..len]).unwrap_err();
        assert!(
            matches!(
                err,
                ProfileImageError::Malformed { .. } | ProfileImageError::NotJpeg { .. }
            ),
            "{len}: {err:?}"
        );
    }
    for (bytes, reason) in [
        (&[0xFF, 0xD8][..], "file ends before the frame header"),
        (
            &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00],
            "segment length below 2",
        ),
        (
            &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01],
            "segment length below 2",
        ),
        (
            &[0xFF, 0xD8, 0xFF, 0xE0, 0x00],
            "file ends inside a segment length",
        ),
        (&[0xFF, 0xD8, 0x00, 0x00], "expected a segment marker"),
        (
            &[0xFF, 0xD8, 0xFF, 0xD9],
            "end of image before the frame header",
        ),
        (
            &[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02],
            "scan data before the frame header",
        ),
        (&[0xFF, 0xD8, 0xFF, 0xD8], "second start-of-image marker"),
        (&[0xFF, 0xD8, 0xFF, 0xFF, 0xFF], "file ends inside a marker"),
        (
            &[0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x05, 8, 4, 0],
            "frame header shorter than 8 bytes",
        ),
        (
            &[0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 8, 4, 0],
            "file ends inside the frame header",
        ),
        (
            &[0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 8, 0, 0, 4, 0, 3],
            "frame header gives a zero width or height",
        ),
        (
            &[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 0, 0],
            "file ends before the frame header",
        ),
    ] {
        match ProfileImage::from_jpeg_bytes(bytes) {
            Err(ProfileImageError::Malformed { reason: r, .. }) => {
                assert_eq!(r, reason, "{bytes:x?}");
            }
            other => panic!("{bytes:x?}: {other:?}"),
        }
    }
}

#[test]
fn display_name_construction() {
    assert_eq!(
        DisplayName::new("  My New Business  ").unwrap().as_str(),
        "My New Business"
    );
    assert_eq!(DisplayName::new(""), Err(DisplayNameError::Empty));
    assert_eq!(DisplayName::new(" \t "), Err(DisplayNameError::Empty));
    DisplayName::new("é".repeat(MAX_DISPLAY_NAME_CHARS)).unwrap();
    assert_eq!(
        DisplayName::new("é".repeat(513)),
        Err(DisplayNameError::TooLong {
            actual: 513,
            max: 512
        })
    );
    assert_eq!(
        DisplayName::new("Two\nLines"),
        Err(DisplayNameError::ControlCharacter { position: 3 })
    );
    let name: DisplayName = serde_json::from_str("\"Acme Bakery\"").unwrap();
    assert_eq!(serde_json::to_string(&name).unwrap(), "\"Acme Bakery\"");
    assert!(serde_json::from_str::<DisplayName>("\"  \"").is_err());
    assert_eq!("Acme".parse::<DisplayName>().unwrap(), "Acme");
}

#[test]
fn display_name_lints() {
    let check = |name: &str| rules(&DisplayName::new(name).unwrap().warnings());
    assert!(check("My New Business").is_empty());
    assert!(check("IBM").is_empty());
    assert!(check("BMW AG").is_empty());
    assert!(check("Café Zürich").is_empty());
    assert_eq!(check("Ab"), ["display_name.min_length"]);
    assert_eq!(check("ACME BAKERY"), ["display_name.all_caps"]);
    assert_eq!(check("Bakery 🍞"), ["display_name.emoji"]);
    assert_eq!(check("Bakery ⭐"), ["display_name.emoji"]);
    assert_eq!(check("Bakery ☕"), ["display_name.emoji"]);
    assert_eq!(check("bakery.com"), ["display_name.url"]);
    assert_eq!(check("Visit https://bakery.example"), ["display_name.url"]);
    assert_eq!(check("www.bakery.example"), ["display_name.url"]);
    assert!(check("Dr. Smith & Co.").is_empty());
    assert_eq!(check("Bakery™"), ["display_name.trademark"]);
    assert_eq!(check("Bakery®"), ["display_name.trademark"]);
    assert_eq!(check("Bakery Official"), ["display_name.official"]);
    assert_eq!(check("Verified Bakery"), ["display_name.official"]);
    assert_eq!(check("Bakery on WhatsApp"), ["display_name.meta_product"]);
    assert_eq!(
        check("WHATSAPP"),
        ["display_name.all_caps", "display_name.meta_product"]
    );
}

fn day(n: i64) -> OffsetDateTime {
    datetime!(2025-01-01 0:00 UTC) + Duration::days(n)
}

#[test]
fn display_name_changes_first_window() {
    let reg = day(0);
    DisplayNameChangePolicy::check(reg, &[], day(0)).unwrap();
    DisplayNameChangePolicy::check(reg, &[day(1)], day(2)).unwrap();
    DisplayNameChangePolicy::check(reg, &[day(1), day(2)], day(3)).unwrap();
    let err = DisplayNameChangePolicy::check(reg, &[day(3), day(1), day(2)], day(4)).unwrap_err();
    assert_eq!(
        err,
        DisplayNameChangeError::TooSoon {
            next_allowed: day(33),
            changes_in_window: 3
        }
    );
    assert_eq!(
        err.to_string(),
        "display name was already changed 3 times in the last 30 days; the next change is \
         allowed from 2025-02-03T00:00:00Z"
    );
    // Still blocked a second before, allowed exactly 30 days after the third change.
    assert!(
        DisplayNameChangePolicy::check(reg, &[day(1), day(2), day(3)], day(33) - Duration::SECOND)
            .is_err()
    );
    DisplayNameChangePolicy::check(reg, &[day(1), day(2), day(3)], day(33)).unwrap();
}

#[test]
fn display_name_changes_after_first_window() {
    let reg = day(0);
    // After the first 30 days: one change per 30 days.
    DisplayNameChangePolicy::check(reg, &[], day(40)).unwrap();
    let err = DisplayNameChangePolicy::check(reg, &[day(40)], day(50)).unwrap_err();
    assert_eq!(err.next_allowed(), Some(day(70)));
    DisplayNameChangePolicy::check(reg, &[day(40)], day(70)).unwrap();
    // One change late in the first window still spaces the next one 30 days out.
    assert_eq!(
        DisplayNameChangePolicy::check(reg, &[day(29)], day(31))
            .unwrap_err()
            .next_allowed(),
        Some(day(59))
    );
    assert_eq!(
        DisplayNameChangePolicy::check(reg, &[], day(0) - Duration::HOUR),
        Err(DisplayNameChangeError::BeforeRegistration)
    );
}

fn arb_time() -> impl Strategy<Value = OffsetDateTime> {
    (-400_000i64..400_000).prop_map(|hours| day(0) + Duration::hours(hours))
}

proptest! {
    #[test]
    fn profile_image_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = ProfileImage::from_jpeg_bytes(&bytes);
        let mut with_soi = vec![0xFF, 0xD8];
        with_soi.extend_from_slice(&bytes);
        let _ = ProfileImage::from_jpeg_bytes(&with_soi);
    }

    #[test]
    fn profile_image_segments_never_panic(segs in prop::collection::vec((any::<u8>(), any::<u16>(), prop::collection::vec(any::<u8>(), 0..16)), 0..8)) {
        let mut v = vec![0xFF, 0xD8];
        for (marker, len, body) in segs {
            v.extend_from_slice(&[0xFF, marker]);
            v.extend_from_slice(&len.to_be_bytes());
            v.extend_from_slice(&body);
        }
        let _ = ProfileImage::from_jpeg_bytes(&v);
    }

    #[test]
    fn text_validators_never_panic(s in any::<String>()) {
        let _ = BusinessEmail::new(s.clone());
        if let Ok(name) = DisplayName::new(s.clone()) {
            let _ = name.warnings();
            let json = serde_json::to_string(&name).unwrap();
            prop_assert_eq!(serde_json::from_str::<DisplayName>(&json).unwrap(), name);
        }
        if let Ok(p) = BusinessProfile::builder().about(s.clone()).address(s.clone()).description(s.clone()).website(s.clone()).email(s).build() {
            let json = serde_json::to_string(&p).unwrap();
            prop_assert_eq!(serde_json::from_str::<BusinessProfile>(&json).unwrap(), p);
        }
    }

    #[test]
    fn emails_round_trip(local in "[a-z0-9._+-]{1,20}", domain in "[a-z0-9]{1,10}(\\.[a-z]{2,6}){1,2}") {
        if let Ok(email) = BusinessEmail::new(format!("{local}@{domain}")) {
            let json = serde_json::to_string(&email).unwrap();
            prop_assert_eq!(serde_json::from_str::<BusinessEmail>(&json).unwrap(), email);
        }
    }

    #[test]
    fn change_policy_never_panics(reg in arb_time(), changes in prop::collection::vec(arb_time(), 0..6), now in arb_time()) {
        match DisplayNameChangePolicy::check(reg, &changes, now) {
            Err(DisplayNameChangeError::TooSoon { next_allowed, .. }) => prop_assert!(next_allowed > now),
            Err(DisplayNameChangeError::BeforeRegistration) => prop_assert!(now < reg),
            Err(_) | Ok(()) => {}
        }
    }

    #[test]
    fn change_policy_extremes(changes in prop::collection::vec(any::<i64>(), 0..4)) {
        let to_time = |s: i64| OffsetDateTime::from_unix_timestamp(s.rem_euclid(253_402_300_799)).unwrap();
        let changes: Vec<_> = changes.into_iter().map(to_time).collect();
        let _ = DisplayNameChangePolicy::check(to_time(0), &changes, OffsetDateTime::now_utc());
    }
}
