//! Media kinds, MIME types, size limits and media URLs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use mime::Mime;
use proptest::prelude::*;
use webex_connect_whatsapp::limits::{
    MAX_ANIMATED_STICKER_BYTES, MAX_MEDIA_BYTES, MAX_STICKER_BYTES,
};
use webex_connect_whatsapp::media::{self, MediaError, MediaKind, MediaUrl, MediaUrlError};

fn m(s: &str) -> Mime {
    s.parse().unwrap()
}

#[test]
fn cap_is_64_mib() {
    assert_eq!(MAX_MEDIA_BYTES, 67_108_864);
    for kind in MediaKind::ALL {
        assert!(kind.max_bytes() <= MAX_MEDIA_BYTES);
    }
}

#[test]
fn document_exactly_64_mib_is_accepted_one_more_refused() {
    let pdf = m("application/pdf");
    media::check(MediaKind::Document, &pdf, Some(MAX_MEDIA_BYTES), false).unwrap();
    let err =
        media::check(MediaKind::Document, &pdf, Some(MAX_MEDIA_BYTES + 1), false).unwrap_err();
    assert_eq!(
        err,
        MediaError::TooLarge {
            kind: MediaKind::Document,
            mime: "application/pdf".to_owned(),
            size: 67_108_865,
            max: 67_108_864
        }
    );
    assert_eq!(
        err.to_string(),
        "document media of type application/pdf is 67108865 bytes, but the max is 67108864 bytes \
         (64 MiB); send a smaller file"
    );
}

#[test]
fn image_exactly_5_mb_is_accepted_one_more_refused() {
    for t in ["image/jpeg", "image/png"] {
        media::check(MediaKind::Image, &m(t), Some(5_000_000), false).unwrap();
        assert!(matches!(
            media::check(MediaKind::Image, &m(t), Some(5_000_001), false),
            Err(MediaError::TooLarge {
                max: 5_000_000,
                size: 5_000_001,
                ..
            })
        ));
    }
}

#[test]
fn audio_and_video_16_mb() {
    for (kind, t) in [
        (MediaKind::Audio, "audio/mpeg"),
        (MediaKind::Video, "video/mp4"),
    ] {
        media::check(kind, &m(t), Some(16_000_000), false).unwrap();
        assert!(media::check(kind, &m(t), Some(16_000_001), false).is_err());
    }
}

#[test]
fn stickers_100_kb_static_500_kb_animated() {
    let webp = m("image/webp");
    assert_eq!(MAX_STICKER_BYTES, 100_000);
    assert_eq!(MAX_ANIMATED_STICKER_BYTES, 500_000);
    media::check(MediaKind::Sticker, &webp, Some(100_000), false).unwrap();
    assert!(media::check(MediaKind::Sticker, &webp, Some(100_001), false).is_err());
    media::check(MediaKind::Sticker, &webp, Some(500_000), true).unwrap();
    assert!(matches!(
        media::check(MediaKind::Sticker, &webp, Some(500_001), true),
        Err(MediaError::TooLarge {
            kind: MediaKind::Sticker,
            max: 500_000,
            ..
        })
    ));
}

#[test]
fn unknown_size_checks_type_only() {
    media::check(MediaKind::Video, &m("video/3gpp"), None, false).unwrap();
    media::check(MediaKind::Video, &m("video/3gp"), None, false).unwrap();
}

#[test]
fn empty_file_refused() {
    assert!(matches!(
        media::check(MediaKind::Image, &m("image/png"), Some(0), false),
        Err(MediaError::EmptyFile {
            kind: MediaKind::Image,
            ..
        })
    ));
}

#[test]
fn every_allowed_type_is_accepted_for_its_kind_only() {
    for kind in MediaKind::ALL {
        for t in kind.allowed_mime_types() {
            let full = if *t == "audio/ogg" {
                "audio/ogg; codecs=opus"
            } else {
                t
            };
            media::check(kind, &m(full), Some(1), false).unwrap();
            assert_eq!(MediaKind::from_mime(&m(full)), Some(kind));
            for other in MediaKind::ALL.into_iter().filter(|k| *k != kind) {
                assert!(
                    media::check(other, &m(full), Some(1), false).is_err(),
                    "{t} as {other}"
                );
            }
        }
    }
}

#[test]
fn document_types_are_the_eight() {
    let types = MediaKind::Document.allowed_mime_types();
    assert_eq!(types.len(), 8);
    assert!(
        types
            .contains(&"application/vnd.openxmlformats-officedocument.presentationml.presentation")
    );
}

#[test]
fn wrong_mime_per_kind_refused() {
    for (kind, t) in [
        (MediaKind::Image, "image/gif"),
        (MediaKind::Image, "image/webp"),
        (MediaKind::Audio, "audio/wav"),
        (MediaKind::Video, "video/quicktime"),
        (MediaKind::Document, "application/zip"),
        (MediaKind::Document, "text/html"),
        (MediaKind::Sticker, "image/png"),
    ] {
        let err = media::check(kind, &m(t), Some(1), false).unwrap_err();
        assert!(
            matches!(err, MediaError::UnsupportedMimeType { .. }),
            "{kind} {t}"
        );
    }
    assert_eq!(
        media::check(MediaKind::Image, &m("image/gif"), None, false)
            .unwrap_err()
            .to_string(),
        "image media cannot be of type image/gif; allowed: image/jpeg, image/png"
    );
}

#[test]
fn ogg_needs_opus() {
    assert_eq!(
        media::check(MediaKind::Audio, &m("audio/ogg"), None, false),
        Err(MediaError::OggWithoutOpus {
            mime: "audio/ogg".to_owned()
        })
    );
    assert!(
        media::check(
            MediaKind::Audio,
            &m("audio/ogg; codecs=vorbis"),
            None,
            false
        )
        .is_err()
    );
    assert!(
        media::check(
            MediaKind::Audio,
            &m("audio/ogg; codecs=\"opus,vorbis\""),
            None,
            false
        )
        .is_err()
    );
    media::check(
        MediaKind::Audio,
        &m("audio/ogg; codecs=opus"),
        Some(1000),
        false,
    )
    .unwrap();
    media::check(
        MediaKind::Audio,
        &m("audio/ogg; codecs=\"opus\""),
        None,
        false,
    )
    .unwrap();
    media::check(MediaKind::Audio, &m("Audio/OGG; CODECS=Opus"), None, false).unwrap();
}

#[test]
fn captions() {
    let with: Vec<_> = MediaKind::ALL
        .into_iter()
        .filter(|k| k.accepts_caption())
        .collect();
    assert_eq!(
        with,
        [MediaKind::Image, MediaKind::Video, MediaKind::Document]
    );
}

#[test]
fn from_mime() {
    assert_eq!(
        MediaKind::from_mime(&m("image/webp")),
        Some(MediaKind::Sticker)
    );
    assert_eq!(
        MediaKind::from_mime(&m("IMAGE/JPEG")),
        Some(MediaKind::Image)
    );
    assert_eq!(MediaKind::from_mime(&m("application/json")), None);
}

#[test]
fn kind_serde_and_parse() {
    for kind in MediaKind::ALL {
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{}\"", kind.as_str()));
        assert_eq!(serde_json::from_str::<MediaKind>(&json).unwrap(), kind);
        assert_eq!(kind.as_str().parse::<MediaKind>().unwrap(), kind);
        assert_eq!(kind.to_string(), kind.as_str());
    }
    assert!(serde_json::from_str::<MediaKind>("\"gif\"").is_err());
    assert!(matches!(
        "gif".parse::<MediaKind>(),
        Err(MediaError::UnknownKind { .. })
    ));
}

#[test]
fn media_url_rules() {
    MediaUrl::new("https://cdn.example.com/a.jpg").unwrap();
    MediaUrl::new("http://localhost:9000/a.jpg").unwrap();
    MediaUrl::new("http://127.0.0.1/a.jpg").unwrap();
    MediaUrl::new("http://[::1]/a.jpg").unwrap();
    assert_eq!(
        MediaUrl::new("http://cdn.example.com/a.jpg"),
        Err(MediaUrlError::NotHttps {
            scheme: "http".to_owned()
        })
    );
    assert!(matches!(
        MediaUrl::new("ftp://cdn.example.com/a.jpg"),
        Err(MediaUrlError::NotHttps { .. })
    ));
    assert!(matches!(
        MediaUrl::new("file:///etc/passwd"),
        Err(MediaUrlError::NotHttps { .. })
    ));
    assert!(matches!(
        MediaUrl::new("data:image/png;base64,AAAA"),
        Err(MediaUrlError::NotHttps { .. })
    ));
    assert!(matches!(
        MediaUrl::new("not a url"),
        Err(MediaUrlError::Invalid { .. })
    ));
    assert!(matches!(
        MediaUrl::new(""),
        Err(MediaUrlError::Invalid { .. })
    ));
    assert!(matches!(
        MediaUrl::new("https://"),
        Err(MediaUrlError::Invalid { .. } | MediaUrlError::NoHost)
    ));
}

#[test]
fn media_url_serde() {
    let url = MediaUrl::new("https://cdn.example.com/a.jpg").unwrap();
    let json = serde_json::to_string(&url).unwrap();
    assert_eq!(json, "\"https://cdn.example.com/a.jpg\"");
    assert_eq!(serde_json::from_str::<MediaUrl>(&json).unwrap(), url);
    assert!(serde_json::from_str::<MediaUrl>("\"http://cdn.example.com/a.jpg\"").is_err());
}

#[test]
fn extension_warnings() {
    let jpg = MediaUrl::new("https://cdn.example.com/x/photo.JPG?size=2#f").unwrap();
    assert!(jpg.warnings_for(MediaKind::Image).is_empty());
    let warnings = jpg.warnings_for(MediaKind::Video);
    let [w] = warnings.as_slice() else {
        panic!("one warning: {warnings:?}")
    };
    assert_eq!(w.rule(), "media.url.extension");
    assert!(
        w.message().contains(".jpg") && w.message().contains("video"),
        "{w}"
    );
    // The FAQ's inbound audio sample has no extension.
    let voice = MediaUrl::new(
        "https://stgrtmedia.s3.amazonaws.com/a_154623235593581600/ef484891-d99c-45b9-af97-c5ad0e7abef6",
    )
    .unwrap();
    assert_eq!(voice.extension(), None);
    assert!(
        voice
            .warnings_for(MediaKind::Audio)
            .first()
            .is_some_and(|w| w.message().contains("no file extension"))
    );
    assert_eq!(
        MediaUrl::new("https://a.example/").unwrap().extension(),
        None
    );
    assert_eq!(
        MediaUrl::new("https://a.example/.hidden")
            .unwrap()
            .extension(),
        None
    );
    assert!(
        MediaUrl::new("https://a.example/s.webp")
            .unwrap()
            .warnings_for(MediaKind::Sticker)
            .is_empty()
    );
}

proptest! {
    #[test]
    fn check_never_panics(t in "[a-zA-Z]{1,12}/[a-zA-Z0-9.+-]{1,40}(; ?[a-z]{1,8}=[a-z0-9\",]{0,12})?", size in any::<Option<u64>>(), animated in any::<bool>()) {
        if let Ok(mime) = t.parse::<Mime>() {
            for kind in MediaKind::ALL {
                let _ = media::check(kind, &mime, size, animated);
                let _ = MediaKind::from_mime(&mime);
            }
        }
    }

    #[test]
    fn media_url_never_panics(s in any::<String>()) {
        if let Ok(url) = MediaUrl::new(&s) {
            for kind in MediaKind::ALL {
                let _ = url.warnings_for(kind);
            }
            prop_assert_eq!(MediaUrl::new(url.as_str()).unwrap(), url);
        }
    }

    #[test]
    fn https_urls_round_trip(host in "[a-z]{1,10}\\.example", path in "[a-z0-9]{0,10}(\\.[a-z0-9]{1,4})?") {
        let url = MediaUrl::new(format!("https://{host}/{path}")).unwrap();
        let json = serde_json::to_string(&url).unwrap();
        prop_assert_eq!(serde_json::from_str::<MediaUrl>(&json).unwrap(), url);
    }

    #[test]
    fn kind_parse_never_panics(s in any::<String>()) {
        let _ = s.parse::<MediaKind>();
    }
}

#[test]
fn too_large_names_the_cap_in_the_tables_unit() {
    let e = media::check(MediaKind::Video, &m("video/mp4"), Some(70_000_000), false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "video media of type video/mp4 is 70000000 bytes, but the max is 16000000 bytes (16 MB); \
         send a smaller file"
    );
    let e = media::check(
        MediaKind::Document,
        &m("application/pdf"),
        Some(70_000_000),
        false,
    )
    .unwrap_err();
    assert!(e.to_string().contains("(64 MiB)"), "{e}");
    let e = media::check(MediaKind::Sticker, &m("image/webp"), Some(100_001), false).unwrap_err();
    assert!(e.to_string().contains("(100 KB)"), "{e}");
}
