//! Media kinds, their MIME types and size limits, and media URLs.
//!
//! Two limits apply to every file, and the smaller one wins:
//!
//! - the Webex Connect FAQ's upload cap, [`MAX_MEDIA_BYTES`]: 64 MiB, counted as
//!   64 × 2^20 = 67,108,864 bytes;
//! - WhatsApp's per-kind limit ([`MediaKind::max_bytes`]), counted in decimal units on the safe
//!   side: 1 MB = 10^6 bytes, 1 KB = 10^3 bytes (whether Meta means 2^20 is unconfirmed).
//!
//! | kind | MIME types | max |
//! |---|---|---|
//! | image | `image/jpeg`, `image/png` | 5 MB |
//! | audio | `audio/aac`, `audio/amr`, `audio/mpeg`, `audio/mp4`, `audio/ogg` (opus codec only) | 16 MB |
//! | video | `video/mp4`, `video/3gpp` (also `video/3gp`) | 16 MB |
//! | document | plain text, PDF, Word, Excel, PowerPoint (8 types) | 100 MB, so 64 MiB |
//! | sticker | `image/webp` | 100 KB static, 500 KB animated |
//!
//! ```
//! use webex_connect_whatsapp::media::{self, MediaKind};
//!
//! let png: mime::Mime = "image/png".parse()?;
//! assert_eq!(MediaKind::from_mime(&png), Some(MediaKind::Image));
//! media::check(MediaKind::Image, &png, Some(4_000_000), false)?;
//! assert!(media::check(MediaKind::Image, &png, Some(5_000_001), false).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use mime::Mime;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::limits::{
    KILOBYTE, MAX_ANIMATED_STICKER_BYTES, MAX_AUDIO_BYTES, MAX_DOCUMENT_BYTES, MAX_IMAGE_BYTES,
    MAX_MEDIA_BYTES, MAX_STICKER_BYTES, MAX_VIDEO_BYTES, MEGABYTE,
};
use crate::warning::Warning;

const IMAGE_TYPES: &[&str] = &["image/jpeg", "image/png"];
const AUDIO_TYPES: &[&str] = &[
    "audio/aac",
    "audio/amr",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
];
const VIDEO_TYPES: &[&str] = &["video/mp4", "video/3gpp", "video/3gp"];
const DOCUMENT_TYPES: &[&str] = &[
    "text/plain",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
];
const STICKER_TYPES: &[&str] = &["image/webp"];

/// The kinds of media WhatsApp carries.
///
/// Serde uses the lowercase name (`"image"`), as Webex Connect's `type` field does.
///
/// ```
/// use webex_connect_whatsapp::media::MediaKind;
///
/// assert_eq!(MediaKind::Video.as_str(), "video");
/// assert_eq!(serde_json::to_string(&MediaKind::Document)?, "\"document\"");
/// assert_eq!("sticker".parse::<MediaKind>()?, MediaKind::Sticker);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum MediaKind {
    /// A JPEG or PNG picture.
    Image,
    /// A voice note or audio file.
    Audio,
    /// A video.
    Video,
    /// A document (PDF, Office, text).
    Document,
    /// A WEBP sticker.
    Sticker,
}

impl MediaKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 5] = [
        Self::Image,
        Self::Audio,
        Self::Video,
        Self::Document,
        Self::Sticker,
    ];

    /// The lowercase name used on the wire: `image`, `audio`, `video`, `document`, `sticker`.
    ///
    /// ```
    /// # use webex_connect_whatsapp::media::MediaKind;
    /// assert_eq!(MediaKind::Image.as_str(), "image");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Document => "document",
            Self::Sticker => "sticker",
        }
    }

    /// The MIME types (type/subtype, lowercase) WhatsApp accepts for this kind. `audio/ogg` is
    /// listed, but [`check`] accepts it only with `codecs=opus`.
    ///
    /// ```
    /// # use webex_connect_whatsapp::media::MediaKind;
    /// assert_eq!(MediaKind::Image.allowed_mime_types(), ["image/jpeg", "image/png"]);
    /// assert_eq!(MediaKind::Document.allowed_mime_types().len(), 8);
    /// ```
    pub fn allowed_mime_types(self) -> &'static [&'static str] {
        match self {
            Self::Image => IMAGE_TYPES,
            Self::Audio => AUDIO_TYPES,
            Self::Video => VIDEO_TYPES,
            Self::Document => DOCUMENT_TYPES,
            Self::Sticker => STICKER_TYPES,
        }
    }

    /// The largest file accepted for this kind, in bytes: the per-kind limit or
    /// [`MAX_MEDIA_BYTES`], whichever is smaller. For stickers this is the static limit; animated
    /// stickers may reach [`MAX_ANIMATED_STICKER_BYTES`] (see [`MediaKind::max_bytes_for`]).
    ///
    /// ```
    /// # use webex_connect_whatsapp::limits::MAX_MEDIA_BYTES;
    /// # use webex_connect_whatsapp::media::MediaKind;
    /// assert_eq!(MediaKind::Image.max_bytes(), 5_000_000);
    /// assert_eq!(MediaKind::Document.max_bytes(), MAX_MEDIA_BYTES);
    /// assert_eq!(MediaKind::Sticker.max_bytes(), 100_000);
    /// ```
    pub fn max_bytes(self) -> u64 {
        self.max_bytes_for(false)
    }

    /// Like [`MediaKind::max_bytes`], with the animated-sticker limit when `animated_sticker`
    /// is true. The flag only matters for [`MediaKind::Sticker`].
    ///
    /// ```
    /// # use webex_connect_whatsapp::media::MediaKind;
    /// assert_eq!(MediaKind::Sticker.max_bytes_for(true), 500_000);
    /// assert_eq!(MediaKind::Image.max_bytes_for(true), 5_000_000);
    /// ```
    pub fn max_bytes_for(self, animated_sticker: bool) -> u64 {
        let own = match self {
            Self::Image => MAX_IMAGE_BYTES,
            Self::Audio => MAX_AUDIO_BYTES,
            Self::Video => MAX_VIDEO_BYTES,
            Self::Document => MAX_DOCUMENT_BYTES,
            Self::Sticker if animated_sticker => MAX_ANIMATED_STICKER_BYTES,
            Self::Sticker => MAX_STICKER_BYTES,
        };
        own.min(MAX_MEDIA_BYTES)
    }

    /// Whether a message of this kind may carry a caption: image, video and document do;
    /// audio and sticker do not.
    ///
    /// ```
    /// # use webex_connect_whatsapp::media::MediaKind;
    /// assert!(MediaKind::Document.accepts_caption());
    /// assert!(!MediaKind::Audio.accepts_caption());
    /// ```
    pub fn accepts_caption(self) -> bool {
        matches!(self, Self::Image | Self::Video | Self::Document)
    }

    /// The kind a MIME type belongs to, by its type/subtype (parameters are ignored here;
    /// [`check`] looks at them). `image/webp` is a sticker.
    ///
    /// ```
    /// # use webex_connect_whatsapp::media::MediaKind;
    /// let ogg: mime::Mime = "audio/ogg; codecs=opus".parse()?;
    /// assert_eq!(MediaKind::from_mime(&ogg), Some(MediaKind::Audio));
    /// assert_eq!(MediaKind::from_mime(&mime::IMAGE_GIF), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_mime(mime: &Mime) -> Option<Self> {
        let essence = mime.essence_str();
        Self::ALL.into_iter().find(|kind| {
            kind.allowed_mime_types()
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(essence))
        })
    }

    /// File extensions (lowercase, without the dot) that match this kind in a media URL.
    ///
    /// ```
    /// # use webex_connect_whatsapp::media::MediaKind;
    /// assert!(MediaKind::Image.extensions().contains(&"jpg"));
    /// ```
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Image => &["jpg", "jpeg", "png"],
            Self::Audio => &["aac", "amr", "mp3", "m4a", "mp4", "ogg", "oga", "opus"],
            Self::Video => &["mp4", "3gp", "3gpp"],
            Self::Document => &["txt", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx"],
            Self::Sticker => &["webp"],
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MediaKind {
    type Err = MediaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| MediaError::UnknownKind {
                value: s.to_owned(),
            })
    }
}

/// Why a media file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The MIME type is not one WhatsApp accepts for the kind.
    #[error("{kind} media cannot be of type {mime}; allowed: {}", .allowed.join(", "))]
    UnsupportedMimeType {
        /// The kind of media.
        kind: MediaKind,
        /// The MIME type given.
        mime: String,
        /// What the kind accepts.
        allowed: &'static [&'static str],
    },
    /// `audio/ogg` without `codecs=opus`, or with another codec.
    #[error(
        "audio media of type {mime} is refused: audio/ogg is accepted only with the opus codec \
         (audio/ogg; codecs=opus)"
    )]
    OggWithoutOpus {
        /// The MIME type given.
        mime: String,
    },
    /// The file is larger than the kind's limit (or the 64 MiB cap).
    #[error(
        "{kind} media of type {mime} is {size} bytes, but the max is {max} bytes ({}); send a \
         smaller file",
        describe_bytes(*max)
    )]
    TooLarge {
        /// The kind of media.
        kind: MediaKind,
        /// The MIME type given.
        mime: String,
        /// The file's size in bytes.
        size: u64,
        /// The limit in bytes.
        max: u64,
    },
    /// The file is empty.
    #[error("{kind} media of type {mime} is 0 bytes; an empty file cannot be sent")]
    EmptyFile {
        /// The kind of media.
        kind: MediaKind,
        /// The MIME type given.
        mime: String,
    },
    /// A string that names no media kind.
    #[error("unknown media kind {value:?}; expected image, audio, video, document or sticker")]
    UnknownKind {
        /// The value given.
        value: String,
    },
}

/// Checks a media file against WhatsApp's rules for `kind`: the MIME type (and, for
/// `audio/ogg`, the opus codec), and the size when it is known. `animated_sticker` selects the
/// 500 KB animated-sticker limit and only matters for [`MediaKind::Sticker`].
///
/// ```
/// use webex_connect_whatsapp::media::{self, MediaError, MediaKind};
///
/// let ogg: mime::Mime = "audio/ogg; codecs=opus".parse()?;
/// media::check(MediaKind::Audio, &ogg, None, false)?;
/// let bare_ogg: mime::Mime = "audio/ogg".parse()?;
/// assert!(matches!(
///     media::check(MediaKind::Audio, &bare_ogg, None, false),
///     Err(MediaError::OggWithoutOpus { .. })
/// ));
/// let webp: mime::Mime = "image/webp".parse()?;
/// media::check(MediaKind::Sticker, &webp, Some(400_000), true)?;
/// assert!(media::check(MediaKind::Sticker, &webp, Some(400_000), false).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`MediaError::UnsupportedMimeType`] for a type the kind does not take,
/// [`MediaError::OggWithoutOpus`] for Ogg audio that is not declared as opus,
/// [`MediaError::EmptyFile`] for size 0 and [`MediaError::TooLarge`] above the limit.
pub fn check(
    kind: MediaKind,
    mime: &Mime,
    size_bytes: Option<u64>,
    animated_sticker: bool,
) -> Result<(), MediaError> {
    let essence = mime.essence_str();
    let allowed = kind.allowed_mime_types();
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(essence)) {
        return Err(MediaError::UnsupportedMimeType {
            kind,
            mime: mime.to_string(),
            allowed,
        });
    }
    if essence.eq_ignore_ascii_case("audio/ogg") && !is_opus(mime) {
        return Err(MediaError::OggWithoutOpus {
            mime: mime.to_string(),
        });
    }
    match size_bytes {
        Some(0) => Err(MediaError::EmptyFile {
            kind,
            mime: mime.to_string(),
        }),
        Some(size) if size > kind.max_bytes_for(animated_sticker) => Err(MediaError::TooLarge {
            kind,
            mime: mime.to_string(),
            size,
            max: kind.max_bytes_for(animated_sticker),
        }),
        _ => Ok(()),
    }
}

/// A limit as the tables write it: `16 MB` (10^6 bytes), `64 MiB` (2^20 bytes) or `100 KB`
/// (10^3 bytes); plain bytes otherwise.
pub(crate) fn describe_bytes(bytes: u64) -> String {
    const MEBIBYTE: u64 = 1024 * 1024;
    if bytes > 0 && bytes.is_multiple_of(MEGABYTE) {
        format!("{} MB", bytes / MEGABYTE)
    } else if bytes > 0 && bytes.is_multiple_of(MEBIBYTE) {
        format!("{} MiB", bytes / MEBIBYTE)
    } else if bytes > 0 && bytes.is_multiple_of(KILOBYTE) {
        format!("{} KB", bytes / KILOBYTE)
    } else {
        format!("{bytes} bytes")
    }
}

/// `codecs` lists every codec in the file; all of them must be opus.
fn is_opus(mime: &Mime) -> bool {
    let Some(codecs) = mime.get_param("codecs") else {
        return false;
    };
    let mut listed = codecs
        .as_str()
        .trim_matches('"')
        .split(',')
        .map(str::trim)
        .peekable();
    listed.peek().is_some() && listed.all(|codec| codec.eq_ignore_ascii_case("opus"))
}

/// A URL Webex Connect can fetch media from: `https` with a host, or `http` on a loopback host
/// (`localhost`, `127.0.0.0/8`, `::1`) for tests and the sandbox.
///
/// Webex Connect also wants the path to end in the kind's file extension;
/// [`MediaUrl::warnings_for`] warns when it does not (inbound audio URLs, for one, often
/// have no extension, so it is not an error).
///
/// ```
/// use webex_connect_whatsapp::media::{MediaKind, MediaUrl};
///
/// let url = MediaUrl::new("https://cdn.example.com/menu.pdf")?;
/// assert_eq!(url.as_str(), "https://cdn.example.com/menu.pdf");
/// assert!(url.warnings_for(MediaKind::Document).is_empty());
/// assert_eq!(url.warnings_for(MediaKind::Image).len(), 1);
/// assert!(MediaUrl::new("http://cdn.example.com/menu.pdf").is_err());
/// assert!(MediaUrl::new("http://127.0.0.1:8080/menu.pdf").is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MediaUrl(Url);

/// Why a media URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaUrlError {
    /// Not a URL at all.
    #[error("media url is not a valid url ({reason}); expected e.g. https://cdn.example.com/a.jpg")]
    Invalid {
        /// Why the URL parser refused it.
        reason: url::ParseError,
    },
    /// A scheme other than `https` (or `http` on a loopback host).
    #[error(
        "media url scheme is {scheme:?}, but only https is allowed (http only on loopback hosts)"
    )]
    NotHttps {
        /// The scheme given.
        scheme: String,
    },
    /// No host to fetch from.
    #[error("media url has no host; expected e.g. https://cdn.example.com/a.jpg")]
    NoHost,
}

impl MediaUrl {
    /// Parses and checks a media URL.
    ///
    /// ```
    /// # use webex_connect_whatsapp::media::{MediaUrl, MediaUrlError};
    /// assert!(MediaUrl::new("https://cdn.example.com/a.jpg").is_ok());
    /// assert!(matches!(MediaUrl::new("ftp://cdn.example.com/a.jpg"), Err(MediaUrlError::NotHttps { .. })));
    /// ```
    ///
    /// # Errors
    ///
    /// [`MediaUrlError::Invalid`] when it does not parse, [`MediaUrlError::NotHttps`] for another
    /// scheme, [`MediaUrlError::NoHost`] without a host.
    pub fn new(url: impl AsRef<str>) -> Result<Self, MediaUrlError> {
        let parsed =
            Url::parse(url.as_ref().trim()).map_err(|reason| MediaUrlError::Invalid { reason })?;
        Self::from_url(parsed)
    }

    /// Checks an already parsed URL.
    ///
    /// ```
    /// # use webex_connect_whatsapp::media::MediaUrl;
    /// let url = url::Url::parse("https://cdn.example.com/a.jpg")?;
    /// assert_eq!(MediaUrl::from_url(url)?.as_str(), "https://cdn.example.com/a.jpg");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`MediaUrl::new`], except [`MediaUrlError::Invalid`].
    pub fn from_url(url: Url) -> Result<Self, MediaUrlError> {
        let has_host = url.host().is_some_and(|h| match h {
            url::Host::Domain(d) => !d.is_empty(),
            url::Host::Ipv4(_) | url::Host::Ipv6(_) => true,
        });
        if !has_host {
            return match url.scheme() {
                "https" | "http" => Err(MediaUrlError::NoHost),
                other => Err(MediaUrlError::NotHttps {
                    scheme: other.to_owned(),
                }),
            };
        }
        crate::url::https_or_loopback(&url).map_err(|_| MediaUrlError::NotHttps {
            scheme: url.scheme().to_owned(),
        })?;
        Ok(Self(url))
    }

    /// The URL as a string.
    ///
    /// ```
    /// # use webex_connect_whatsapp::media::MediaUrl;
    /// assert_eq!(MediaUrl::new("https://a.example/x.png")?.as_str(), "https://a.example/x.png");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed URL.
    ///
    /// ```
    /// # use webex_connect_whatsapp::media::MediaUrl;
    /// assert_eq!(MediaUrl::new("https://a.example/x.png")?.as_url().host_str(), Some("a.example"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// The lowercase file extension of the path's last segment, if it has one.
    ///
    /// ```
    /// # use webex_connect_whatsapp::media::MediaUrl;
    /// assert_eq!(MediaUrl::new("https://a.example/x.JPG?v=2")?.extension().as_deref(), Some("jpg"));
    /// assert_eq!(MediaUrl::new("https://a.example/voice")?.extension(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn extension(&self) -> Option<String> {
        let last = self.0.path_segments()?.next_back()?;
        let (stem, ext) = last.rsplit_once('.')?;
        (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
    }

    /// The warnings for sending this URL as `kind` media: one (rule `media.url.extension`)
    /// when the path does not end in an extension of `kind`, as Webex Connect expects a
    /// matching extension on outbound media; none otherwise.
    ///
    /// ```
    /// # use webex_connect_whatsapp::media::{MediaKind, MediaUrl};
    /// let url = MediaUrl::new("https://a.example/voice")?;
    /// let warnings = url.warnings_for(MediaKind::Audio);
    /// assert_eq!(warnings[0].rule(), "media.url.extension");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn warnings_for(&self, kind: MediaKind) -> Vec<Warning> {
        let expected = kind.extensions();
        let message = match self.extension() {
            Some(ext) if expected.contains(&ext.as_str()) => return Vec::new(),
            Some(ext) => format!(
                "media url ends in .{ext}, which does not match {kind} media; Webex Connect \
                 expects one of .{}",
                expected.join(", .")
            ),
            None => format!(
                "media url has no file extension; Webex Connect expects one of .{} for {kind} media",
                expected.join(", .")
            ),
        };
        vec![Warning::new("media.url.extension", message)]
    }
}

impl fmt::Debug for MediaUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MediaUrl").field(&self.0.as_str()).finish()
    }
}

impl fmt::Display for MediaUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl AsRef<str> for MediaUrl {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

crate::ids::string_newtype_parse!(MediaUrl, MediaUrlError);

impl TryFrom<Url> for MediaUrl {
    type Error = MediaUrlError;

    fn try_from(value: Url) -> Result<Self, Self::Error> {
        Self::from_url(value)
    }
}

impl From<MediaUrl> for String {
    fn from(value: MediaUrl) -> Self {
        value.0.into()
    }
}

impl From<MediaUrl> for Url {
    fn from(value: MediaUrl) -> Self {
        value.0
    }
}
