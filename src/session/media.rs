//! Media messages: image, audio, video, document and sticker, sent by URL with a MIME type
//! WhatsApp takes for the kind.

use mime::Mime;
use serde::{Deserialize, Serialize};

use super::{Body, SessionMessage, SessionMessageError, non_empty, read_media_url};
use crate::media::{self, MediaError, MediaKind, MediaUrl};
use crate::text::Caption;

/// A media message: image, audio, video, document or sticker, sent by URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaMessage {
    kind: MediaKind,
    url: MediaUrl,
    mime_type: Mime,
    caption: Option<Caption>,
    filename: Option<String>,
}

impl MediaMessage {
    /// The media kind.
    pub fn kind(&self) -> MediaKind {
        self.kind
    }

    /// Where Webex Connect fetches the media.
    pub fn url(&self) -> &MediaUrl {
        &self.url
    }

    /// The MIME type (`mimeType`), e.g. `image/jpeg`: the same [`Mime`] type an inbound
    /// [`Attachment`](crate::webhook::Attachment) carries.
    pub fn mime_type(&self) -> &Mime {
        &self.mime_type
    }

    /// The caption (image, video and document only).
    pub fn caption(&self) -> Option<&Caption> {
        self.caption.as_ref()
    }

    /// The file name (documents only).
    pub fn filename(&self) -> Option<&str> {
        self.filename.as_deref()
    }
}

impl SessionMessage {
    /// Starts a media message of any kind; see [`image`](Self::image) for an example.
    ///
    /// The MIME type is text (`"image/png"`) or a [`Mime`] (`mime::IMAGE_PNG`); either way it
    /// is parsed and checked in [`build`](MediaMessageBuilder::build).
    pub fn media(
        kind: MediaKind,
        url: MediaUrl,
        mime_type: impl AsRef<str>,
    ) -> MediaMessageBuilder {
        MediaMessageBuilder {
            kind,
            url,
            mime_type: mime_type.as_ref().to_owned(),
            caption: None,
            filename: None,
            size_bytes: None,
            animated: false,
        }
    }

    /// Starts an image message (JPEG or PNG); it may have a caption.
    ///
    /// ```
    /// use webex_connect_whatsapp::{MediaUrl, SessionMessage};
    /// let m = SessionMessage::image(MediaUrl::new("https://example.com/a.png")?, "image/png")
    ///     .caption("A chart")
    ///     .build()?;
    /// assert_eq!(m.as_media().unwrap().mime_type(), &mime::IMAGE_PNG);
    /// // A `Mime` is taken as well as text.
    /// let same = SessionMessage::image(MediaUrl::new("https://example.com/a.png")?, mime::IMAGE_PNG)
    ///     .caption("A chart")
    ///     .build()?;
    /// assert_eq!(same, m);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn image(url: MediaUrl, mime_type: impl AsRef<str>) -> MediaMessageBuilder {
        Self::media(MediaKind::Image, url, mime_type)
    }

    /// Starts an audio message; audio takes no caption.
    pub fn audio(url: MediaUrl, mime_type: impl AsRef<str>) -> MediaMessageBuilder {
        Self::media(MediaKind::Audio, url, mime_type)
    }

    /// Starts a video message; it may have a caption.
    pub fn video(url: MediaUrl, mime_type: impl AsRef<str>) -> MediaMessageBuilder {
        Self::media(MediaKind::Video, url, mime_type)
    }

    /// Starts a document message; it may have a caption and a file name.
    pub fn document(url: MediaUrl, mime_type: impl AsRef<str>) -> MediaMessageBuilder {
        Self::media(MediaKind::Document, url, mime_type)
    }

    /// Starts a sticker message (`image/webp`); stickers take no caption.
    pub fn sticker(url: MediaUrl, mime_type: impl AsRef<str>) -> MediaMessageBuilder {
        Self::media(MediaKind::Sticker, url, mime_type)
    }

    /// The media of a media message.
    pub fn as_media(&self) -> Option<&MediaMessage> {
        match &self.0 {
            Body::Media(m) => Some(m),
            _ => None,
        }
    }
}

/// Builds a media [`SessionMessage`]. [`build`](Self::build) can fail, with a
/// [`SessionMessageError`]: the MIME type is parsed and checked there, with the caption, the
/// file name and the file's size when it was declared ([`size_bytes`](Self::size_bytes)).
#[derive(Debug, Clone)]
#[must_use]
pub struct MediaMessageBuilder {
    kind: MediaKind,
    url: MediaUrl,
    mime_type: String,
    caption: Option<String>,
    filename: Option<String>,
    size_bytes: Option<u64>,
    animated: bool,
}

impl MediaMessageBuilder {
    crate::setters::setters! {
        /// Sets the caption (image, video and document only; 1 to 1024 characters).
        fn caption(self, caption: impl Into<String>) => self.caption = Some(caption.into());

        /// Sets the file name shown for a document.
        fn filename(self, filename: impl Into<String>) => self.filename = Some(filename.into());

        /// Declares the file's size in bytes (its `Content-Length`, say), so that
        /// [`build`](Self::build) refuses a file over the kind's cap
        /// ([`MediaKind::max_bytes_for`]: 5 MB images, 16 MB audio and video, 64 MiB documents,
        /// 100 KB stickers or 500 KB animated ones) instead of Webex Connect failing the delivery
        /// later. Nothing of it is sent; without it the size is not checked. To check a file you
        /// fetch yourself, [`media::check`] takes the size too.
        ///
        /// ```
        /// use webex_connect_whatsapp::limits::MAX_VIDEO_BYTES;
        /// use webex_connect_whatsapp::media::MediaUrl;
        /// use webex_connect_whatsapp::session::SessionMessageError;
        /// use webex_connect_whatsapp::SessionMessage;
        ///
        /// let url = MediaUrl::new("https://cdn.example.com/tour.mp4")?;
        /// SessionMessage::video(url.clone(), "video/mp4").size_bytes(MAX_VIDEO_BYTES).build()?;
        /// let e = SessionMessage::video(url, "video/mp4").size_bytes(70_000_000).build().unwrap_err();
        /// assert!(matches!(e, SessionMessageError::MediaTooLarge { size: 70_000_000, max: MAX_VIDEO_BYTES, .. }));
        /// assert!(e.to_string().starts_with("video media is 70000000 bytes, but the max for video is 16000000 bytes (16 MB)"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn size_bytes(self, size: u64) => self.size_bytes = Some(size);

        /// Declares a sticker as animated, which raises its cap for
        /// [`size_bytes`](Self::size_bytes) from 100 KB to 500 KB. Nothing of it is sent, and it
        /// changes nothing for other kinds.
        ///
        /// ```
        /// use webex_connect_whatsapp::{MediaUrl, SessionMessage};
        ///
        /// let url = MediaUrl::new("https://cdn.example.com/wave.webp")?;
        /// assert!(SessionMessage::sticker(url.clone(), "image/webp").size_bytes(400_000).build().is_err());
        /// SessionMessage::sticker(url, "image/webp").size_bytes(400_000).animated(true).build()?;
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn animated(self, on: bool) => self.animated = on;
    }

    /// Checks the message: a MIME type WhatsApp takes for the kind (see [`media::check`]:
    /// JPEG or PNG images, opus-only Ogg audio, WEBP stickers, ...), a declared size within
    /// the kind's cap, a caption only on image, video and document, a file name only on
    /// documents. The URL is already checked, being a [`MediaUrl`].
    ///
    /// ```
    /// use webex_connect_whatsapp::{MediaUrl, SessionMessage};
    /// use webex_connect_whatsapp::session::SessionMessageError;
    /// let gif = SessionMessage::image(MediaUrl::new("https://example.com/a.gif")?, "image/gif");
    /// assert!(matches!(gif.build(), Err(SessionMessageError::InvalidMimeType { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SessionMessageError`] naming the first rule broken; nothing is dropped silently.
    pub fn build(self) -> Result<SessionMessage, SessionMessageError> {
        let kind = self.kind;
        let mime_type = check_mime(kind, &self.mime_type)?;
        check_size(kind, self.size_bytes, self.animated)?;
        let caption = match self.caption {
            None => None,
            Some(_)
                if !matches!(
                    kind,
                    MediaKind::Image | MediaKind::Video | MediaKind::Document
                ) =>
            {
                return Err(SessionMessageError::CaptionNotAllowed { kind });
            }
            Some(c) => Some(Caption::new(c)?),
        };
        let filename = match self.filename {
            None => None,
            Some(_) if kind != MediaKind::Document => {
                return Err(SessionMessageError::FilenameNotAllowed { kind });
            }
            Some(f) if f.trim().is_empty() => {
                return Err(SessionMessageError::EmptyField { field: "filename" });
            }
            Some(f) => Some(f),
        };
        Ok(SessionMessage(Body::Media(MediaMessage {
            kind,
            url: self.url,
            mime_type,
            caption,
            filename,
        })))
    }
}

/// Parses the MIME type and checks that WhatsApp takes it for the kind.
fn check_mime(kind: MediaKind, value: &str) -> Result<Mime, SessionMessageError> {
    let refused = |source| SessionMessageError::InvalidMimeType {
        kind,
        mime: value.to_owned(),
        source,
    };
    // Something that does not parse as a MIME type is no type the kind takes either.
    let mime: Mime = value.parse().map_err(|_| {
        refused(MediaError::UnsupportedMimeType {
            kind,
            mime: value.to_owned(),
            allowed: kind.allowed_mime_types(),
        })
    })?;
    media::check(kind, &mime, None, false).map_err(refused)?;
    Ok(mime)
}

/// Checks a declared size against the kind's cap; the MIME type is already checked.
fn check_size(
    kind: MediaKind,
    size: Option<u64>,
    animated: bool,
) -> Result<(), SessionMessageError> {
    match size {
        Some(0) => Err(SessionMessageError::EmptyMedia { kind }),
        Some(size) if size > kind.max_bytes_for(animated) => {
            Err(SessionMessageError::MediaTooLarge {
                kind,
                size,
                max: kind.max_bytes_for(animated),
            })
        }
        _ => Ok(()),
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct MediaWire {
    url: String,
    #[serde(rename = "mimeType", alias = "mime_type")]
    mime_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filename: Option<String>,
}

impl MediaWire {
    pub(super) fn into_message(
        self,
        kind: MediaKind,
    ) -> Result<SessionMessage, SessionMessageError> {
        let url = read_media_url(self.url)?;
        let mut builder = SessionMessage::media(kind, url, self.mime_type);
        builder.caption = non_empty(self.caption);
        builder.filename = non_empty(self.filename);
        builder.build()
    }

    pub(super) fn from_message(m: &MediaMessage) -> Self {
        Self {
            url: m.url.as_str().to_owned(),
            mime_type: m.mime_type.to_string(),
            caption: m.caption.as_ref().map(|c| c.as_str().to_owned()),
            filename: m.filename.clone(),
        }
    }
}
