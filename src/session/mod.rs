//! Session messages: what you may send inside the 24-hour customer service window.
//!
//! A [`SessionMessage`] serializes to exactly the `channels.OTT-Messaging.wa` object of a send
//! request, and reads back from it (the sandbox checks incoming requests this way).
//!
//! ```
//! use webex_connect_whatsapp::{MediaUrl, SessionMessage};
//! use webex_connect_whatsapp::session::SessionKind;
//!
//! let text = SessionMessage::text("Your order has shipped")?;
//! assert_eq!(
//!     serde_json::to_string(&text)?,
//!     r#"{"type":"text","text":{"body":"Your order has shipped"}}"#
//! );
//!
//! let image = SessionMessage::image(MediaUrl::new("https://example.com/a.jpg")?, "image/jpeg")
//!     .caption("Your receipt")
//!     .build()?;
//! assert_eq!(image.kind(), SessionKind::Image);
//! assert_eq!(
//!     serde_json::to_string(&image)?,
//!     r#"{"type":"image","image":{"url":"https://example.com/a.jpg","mimeType":"image/jpeg","caption":"Your receipt"}}"#
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Each kind keeps its type, builder and wire form in one file, so a change to one kind
// touches one file; this file holds what they share and the dispatch on `type`.
mod contact;
mod interactive;
mod location;
mod media;
mod text;

pub use contact::{
    Contact, ContactAddress, ContactEmail, ContactName, ContactOrg, ContactPhone, ContactUrl,
};
pub use interactive::{
    ListMessage, ListMessageBuilder, ListRow, ListSection, ReplyButton, ReplyButtonsBuilder,
    ReplyButtonsMessage, ReplyHeader,
};
pub use location::{Location, LocationBuilder};
pub use media::{MediaMessage, MediaMessageBuilder};

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error_text::with_sources;
use crate::media::{MediaError, MediaKind, MediaUrl, MediaUrlError};
use crate::text::{MessageText, TextError};

use interactive::{ListWire, ReplyWire};
use location::LocationWire;
use media::MediaWire;
use text::TextWire;

/// What kind of session message this is; the wire `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionKind {
    /// `text`.
    Text,
    /// `image`.
    Image,
    /// `audio`.
    Audio,
    /// `video`.
    Video,
    /// `document`.
    Document,
    /// `sticker`.
    Sticker,
    /// `location`.
    Location,
    /// `contacts`.
    Contacts,
    /// `list`: an interactive list.
    List,
    /// `reply`: interactive reply buttons.
    ReplyButtons,
    /// A raw object given to [`SessionMessage::raw`], or read with a `type` this crate does not
    /// model; its wire `type` is [`SessionMessage::raw_type`].
    Raw,
}

impl SessionKind {
    /// The wire `type`, e.g. `image`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Document => "document",
            Self::Sticker => "sticker",
            Self::Location => "location",
            Self::Contacts => "contacts",
            Self::List => "list",
            Self::ReplyButtons => "reply",
            // The real wire type of a raw message is dynamic; `SessionMessage::raw_type` has it.
            Self::Raw => "raw",
        }
    }
}

impl fmt::Display for SessionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a session message was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionMessageError {
    /// A text (body, caption) was empty or too long.
    #[error(transparent)]
    Text(#[from] TextError),
    /// A caption was given for audio or a sticker, which show none.
    #[error("{kind:?} messages take no caption; only image, video and document do")]
    CaptionNotAllowed {
        /// The media kind.
        kind: MediaKind,
    },
    /// A file name was given for a kind other than document.
    #[error("{kind:?} messages take no file name; only documents do")]
    FilenameNotAllowed {
        /// The media kind.
        kind: MediaKind,
    },
    /// An optional field was given but empty.
    #[error("{field} must not be empty when given")]
    EmptyField {
        /// The wire name of the field.
        field: &'static str,
    },
    /// A media URL read from JSON was not a URL, or not https (http only on a loopback
    /// address); the source is the [`MediaUrlError`]. Builders take a checked [`MediaUrl`], so
    /// only reading a message back can fail this way.
    #[error("media url {url:?} is refused: {source}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why [`MediaUrl`] refused it.
        #[source]
        source: MediaUrlError,
    },
    /// The MIME type is not one WhatsApp takes for this kind (`image/gif` for an image,
    /// `audio/ogg` without the opus codec, ...); the source is the [`MediaError`] from
    /// [`media::check`](crate::media::check), which lists what is allowed. The message is
    /// that of the source, which names the kind, the type and what is allowed.
    #[error("{source}")]
    InvalidMimeType {
        /// The media kind.
        kind: MediaKind,
        /// The MIME type given.
        mime: String,
        /// Why [`media::check`](crate::media::check) refused it.
        #[source]
        source: MediaError,
    },
    /// A coordinate was out of range or not finite.
    #[error("{field} is {value}, but it must be between {min} and {max}")]
    InvalidCoordinate {
        /// `latitude` or `longitude`.
        field: &'static str,
        /// The value given.
        value: f64,
        /// The lowest allowed.
        min: f64,
        /// The highest allowed.
        max: f64,
    },
    /// A location had an address but no name; WhatsApp shows the address only with a name.
    #[error(
        "location has an address but no name; WhatsApp shows the address only when a name is given"
    )]
    AddressWithoutName,
    /// Too few or too many contacts.
    #[error("message has {actual} contacts, but 1 to {max} are allowed")]
    ContactCount {
        /// How many were given.
        actual: usize,
        /// The limit, [`MAX_CONTACTS`](crate::limits::MAX_CONTACTS).
        max: usize,
    },
    /// A contact's name was incomplete.
    #[error("contact {index} is invalid: {reason}")]
    InvalidContact {
        /// The contact's index, from 0.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// Too few or too many reply buttons.
    #[error("message has {actual} reply buttons, but 1 to {max} are allowed")]
    ReplyButtonCount {
        /// How many were given.
        actual: usize,
        /// The limit, [`MAX_REPLY_BUTTONS`](crate::limits::MAX_REPLY_BUTTONS).
        max: usize,
    },
    /// Too few or too many list sections.
    #[error("list has {actual} sections, but 1 to {max} are allowed")]
    SectionCount {
        /// How many were given.
        actual: usize,
        /// The limit, [`MAX_LIST_SECTIONS`](crate::limits::MAX_LIST_SECTIONS).
        max: usize,
    },
    /// Too many rows in a list, counted over all sections.
    #[error("list has {actual} rows in all, but at most {max} are allowed")]
    RowCount {
        /// How many rows were given in all.
        actual: usize,
        /// The limit, [`MAX_LIST_ROWS`](crate::limits::MAX_LIST_ROWS).
        max: usize,
    },
    /// A list section has no rows.
    #[error("list section {index} has no rows")]
    EmptySection {
        /// The section's index, from 0.
        index: usize,
    },
    /// A list with more than one section has a section without a title.
    #[error("list section {index} needs a title, because the list has more than one section")]
    SectionTitleRequired {
        /// The section's index, from 0.
        index: usize,
    },
    /// A list message was read with a media header; lists take only a text header.
    #[error("list messages take only a text header")]
    MediaHeaderNotAllowed,
    /// Two reply buttons or two list rows share an id, or two reply buttons share a title.
    #[error("{what} {value:?} is used twice; it must be unique")]
    Duplicate {
        /// `reply button id`, `reply button title` or `row id`.
        what: &'static str,
        /// The repeated value.
        value: String,
    },
    /// A raw `channels.OTT-Messaging.wa` object lacked what every such object needs.
    #[error("raw session object is refused: {reason}")]
    InvalidRaw {
        /// What is wrong and what is allowed.
        reason: &'static str,
    },
    /// The size declared with [`MediaMessageBuilder::size_bytes`] is over the kind's cap
    /// ([`MediaKind::max_bytes_for`](crate::media::MediaKind::max_bytes_for)).
    #[error(
        "{kind} media is {size} bytes, but the max for {kind} is {max} bytes ({}); send a \
         smaller file (or share a link to it in a text message)",
        crate::media::describe_bytes(*max)
    )]
    MediaTooLarge {
        /// The media kind.
        kind: MediaKind,
        /// The size declared, in bytes.
        size: u64,
        /// The cap for the kind, in bytes.
        max: u64,
    },
    /// The size declared with [`MediaMessageBuilder::size_bytes`] is 0.
    #[error("{kind} media is declared as 0 bytes; an empty file cannot be sent")]
    EmptyMedia {
        /// The media kind.
        kind: MediaKind,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Body {
    Text {
        text: MessageText,
        preview_url: bool,
    },
    Media(MediaMessage),
    Location(Location),
    Contacts(Vec<Contact>),
    List(ListMessage),
    ReplyButtons(ReplyButtonsMessage),
    /// Unchecked: see [`SessionMessage::raw`].
    Raw(Map<String, Value>),
}

/// The key of `channels.OTT-Messaging.wa` that the send request owns, not the message.
const IDENTITY_KEY_HASH: &str = "identity_key_hash";

/// A message sent inside the 24-hour window: the `channels.OTT-Messaging.wa` object.
///
/// Build one with [`text`](Self::text), the media builders ([`image`](Self::image), ...),
/// [`location`](Self::location) or [`contacts`](Self::contacts); every constructor checks the
/// platform's limits, so an existing value is always sendable. The one exception is
/// [`raw`](Self::raw), the unchecked escape hatch for content this crate does not model yet.
///
/// Two messages are equal when they are the same typed message, or, when either is raw,
/// when they serialize to the same JSON.
#[derive(Debug, Clone)]
pub struct SessionMessage(Body);

impl PartialEq for SessionMessage {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Body::Raw(_), _) | (_, Body::Raw(_)) => {
                // A raw object can spell a typed message; what goes on the wire is what counts.
                match (serde_json::to_value(self), serde_json::to_value(other)) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => false,
                }
            }
            (a, b) => a == b,
        }
    }
}

impl SessionMessage {
    /// The kind of message (the wire `type`).
    pub fn kind(&self) -> SessionKind {
        match &self.0 {
            Body::Text { .. } => SessionKind::Text,
            Body::Media(m) => match m.kind() {
                MediaKind::Image => SessionKind::Image,
                MediaKind::Audio => SessionKind::Audio,
                MediaKind::Video => SessionKind::Video,
                MediaKind::Sticker => SessionKind::Sticker,
                _ => SessionKind::Document,
            },
            Body::Location(_) => SessionKind::Location,
            Body::Contacts(_) => SessionKind::Contacts,
            Body::List(_) => SessionKind::List,
            Body::ReplyButtons(_) => SessionKind::ReplyButtons,
            Body::Raw(_) => SessionKind::Raw,
        }
    }

    /// A raw `channels.OTT-Messaging.wa` object, sent exactly as given: the escape hatch for
    /// session content this crate does not model yet (a new message type, or a field the typed
    /// builders do not offer).
    ///
    /// **Unchecked.** The only checks are that `type` is a non-empty string, and that
    /// `identity_key_hash` is absent (set it with
    /// [`SendRequestBuilder::identity_key_hash`](crate::send::SendRequestBuilder::identity_key_hash),
    /// so the key is never written twice). Nothing else is validated: no length, URL or MIME
    /// check, no field names. Webex Connect rejects what it does not accept, either at once
    /// (7003/7004) or later in a failed delivery receipt. The 24-hour window still applies, as
    /// to every session message.
    ///
    /// Reading a request back ([`SendRequest::from_slice`](crate::send::SendRequest::from_slice))
    /// gives the same JSON: a `type` this crate does not model stays raw; a modelled `type` is
    /// checked as the typed message, and stays raw only when the typed form would drop a field.
    ///
    /// ```
    /// use serde_json::json;
    /// use webex_connect_whatsapp::SessionMessage;
    /// use webex_connect_whatsapp::session::SessionKind;
    ///
    /// let object = json!({"type": "text", "text": {"body": "Hi"}, "context": {"message_id": "wamid.1"}});
    /// let serde_json::Value::Object(object) = object else { unreachable!() };
    /// let m = SessionMessage::raw(object.clone())?;
    /// assert_eq!(m.kind(), SessionKind::Raw);
    /// assert_eq!(m.raw_type(), Some("text"));
    /// assert_eq!(serde_json::to_value(&m)?, serde_json::Value::Object(object));
    ///
    /// assert!(SessionMessage::raw(serde_json::Map::new()).is_err()); // no `type`
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SessionMessageError::InvalidRaw`] when `type` is missing, not a string or empty, or
    /// when `identity_key_hash` is present.
    pub fn raw(object: Map<String, Value>) -> Result<Self, SessionMessageError> {
        match object.get("type") {
            Some(Value::String(t)) if !t.is_empty() => {}
            Some(Value::String(_)) => {
                return Err(SessionMessageError::InvalidRaw {
                    reason: "`type` is empty; give the message type, e.g. \"text\"",
                });
            }
            Some(_) => {
                return Err(SessionMessageError::InvalidRaw {
                    reason: "`type` is not a string; give the message type as a string, e.g. \"text\"",
                });
            }
            None => {
                return Err(SessionMessageError::InvalidRaw {
                    reason: "it has no `type`; every channels.OTT-Messaging.wa object names its type, e.g. \"text\"",
                });
            }
        }
        if object.contains_key(IDENTITY_KEY_HASH) {
            return Err(SessionMessageError::InvalidRaw {
                reason: "it holds `identity_key_hash`; set that with SendRequestBuilder::identity_key_hash instead",
            });
        }
        Ok(Self(Body::Raw(object)))
    }

    /// The object of a raw message, as it is sent.
    pub fn as_raw(&self) -> Option<&Map<String, Value>> {
        match &self.0 {
            Body::Raw(object) => Some(object),
            _ => None,
        }
    }

    /// The wire `type` of a raw message (the typed kinds have [`kind`](Self::kind)).
    pub fn raw_type(&self) -> Option<&str> {
        self.as_raw()
            .and_then(|o| o.get("type"))
            .and_then(Value::as_str)
    }

    /// Whether `type` is one this crate models, so a message of it is read as typed.
    pub(crate) fn models_type(kind: &str) -> bool {
        matches!(
            kind,
            "text"
                | "image"
                | "audio"
                | "video"
                | "document"
                | "sticker"
                | "location"
                | "contacts"
                | "list"
                | "reply"
        )
    }
}

// ---- wire format ----

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Wire {
    Text {
        text: TextWire,
        #[serde(
            default,
            skip_serializing_if = "std::ops::Not::not",
            deserialize_with = "text::lenient_bool"
        )]
        preview_url: bool,
    },
    Image {
        image: MediaWire,
    },
    Audio {
        audio: MediaWire,
    },
    Video {
        video: MediaWire,
    },
    Document {
        document: MediaWire,
    },
    Sticker {
        sticker: MediaWire,
    },
    Location {
        location: LocationWire,
    },
    Contacts {
        contacts: Vec<Contact>,
    },
    List {
        list: ListWire,
    },
    Reply {
        reply: ReplyWire,
    },
}

impl Wire {
    fn into_message(self) -> Result<SessionMessage, SessionMessageError> {
        match self {
            Self::Text { text, preview_url } => text.into_message(preview_url),
            Self::Image { image } => image.into_message(MediaKind::Image),
            Self::Audio { audio } => audio.into_message(MediaKind::Audio),
            Self::Video { video } => video.into_message(MediaKind::Video),
            Self::Document { document } => document.into_message(MediaKind::Document),
            Self::Sticker { sticker } => sticker.into_message(MediaKind::Sticker),
            Self::Location { location } => location.into_message(),
            Self::Contacts { contacts } => SessionMessage::contacts(contacts),
            Self::List { list } => list.into_message(),
            Self::Reply { reply } => reply.into_message(),
        }
    }

    /// The typed wire form; `None` for a raw message, which is written as its own object.
    fn from_message(message: &SessionMessage) -> Option<Self> {
        Some(match &message.0 {
            Body::Raw(_) => return None,
            Body::Text { text, preview_url } => Self::Text {
                text: TextWire::from_message(text),
                preview_url: *preview_url,
            },
            Body::Media(m) => {
                let media = MediaWire::from_message(m);
                match m.kind() {
                    MediaKind::Image => Self::Image { image: media },
                    MediaKind::Audio => Self::Audio { audio: media },
                    MediaKind::Video => Self::Video { video: media },
                    MediaKind::Sticker => Self::Sticker { sticker: media },
                    _ => Self::Document { document: media },
                }
            }
            Body::Location(l) => Self::Location {
                location: LocationWire::from_message(l),
            },
            Body::Contacts(c) => Self::Contacts {
                contacts: c.clone(),
            },
            Body::List(l) => Self::List {
                list: ListWire::from_message(l),
            },
            Body::ReplyButtons(r) => Self::Reply {
                reply: ReplyWire::from_message(r),
            },
        })
    }
}

/// Empty optional strings in samples (`"name": ""`) mean "not given".
fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.is_empty())
}

/// Contacts, list sections and reply buttons are each "1 to `max`": one rule, one check.
fn check_count(
    actual: usize,
    max: usize,
    error: fn(usize, usize) -> SessionMessageError,
) -> Result<(), SessionMessageError> {
    if actual == 0 || actual > max {
        Err(error(actual, max))
    } else {
        Ok(())
    }
}

/// A media URL read from the wire: one check, shared by media messages and media headers.
fn read_media_url(url: String) -> Result<MediaUrl, SessionMessageError> {
    MediaUrl::new(&url).map_err(|source| SessionMessageError::InvalidUrl { url, source })
}

impl Serialize for SessionMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Body::Raw(object) = &self.0 {
            return object.serialize(serializer);
        }
        match Wire::from_message(self) {
            Some(wire) => wire.serialize(serializer),
            None => Err(serde::ser::Error::custom(
                "a typed message has no wire form",
            )),
        }
    }
}

/// Reads a `channels.OTT-Messaging.wa` object: a `type` this crate models is read as that typed
/// message and checked (fields it does not model are dropped); any other string `type` is
/// kept as a raw message, exactly as received (see [`SessionMessage::raw`]).
impl<'de> Deserialize<'de> for SessionMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        if let Value::Object(object) = &value
            && let Some(Value::String(kind)) = object.get("type")
            && !Self::models_type(kind)
        {
            let mut object = object.clone();
            object.remove(IDENTITY_KEY_HASH);
            return Self::raw(object).map_err(|e| serde::de::Error::custom(with_sources(&e)));
        }
        Wire::deserialize(value)
            .map_err(serde::de::Error::custom)?
            .into_message()
            .map_err(|e| serde::de::Error::custom(with_sources(&e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_typed_kind_is_read_as_typed() {
        // A kind missing from `models_type` would be read back as raw and lose its checks.
        for kind in [
            SessionKind::Text,
            SessionKind::Image,
            SessionKind::Audio,
            SessionKind::Video,
            SessionKind::Document,
            SessionKind::Sticker,
            SessionKind::Location,
            SessionKind::Contacts,
            SessionKind::List,
            SessionKind::ReplyButtons,
        ] {
            assert!(SessionMessage::models_type(kind.as_str()), "{kind}");
        }
        assert!(!SessionMessage::models_type(SessionKind::Raw.as_str()));
    }

    #[test]
    fn preview_url_string_form_is_read() {
        let m: SessionMessage = serde_json::from_value(
            json!({"type":"text","text":{"body":"See https://x.com"},"preview_url":"true"}),
        )
        .unwrap();
        assert!(m.preview_url());
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({"type":"text","text":{"body":"See https://x.com"},"preview_url":true})
        );
    }

    #[test]
    fn caption_on_audio_is_an_error() {
        let url = MediaUrl::new("https://example.com/a.mp3").unwrap();
        assert_eq!(
            SessionMessage::audio(url, "audio/mpeg")
                .caption("no")
                .build(),
            Err(SessionMessageError::CaptionNotAllowed {
                kind: MediaKind::Audio
            })
        );
    }
}
