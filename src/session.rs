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

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::media::{self, MediaError, MediaKind, MediaUrl, MediaUrlError};
use crate::text::{Caption, MessageText, TextError};

/// The most contacts one message may carry.
pub const MAX_CONTACTS: usize = 5;

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
    #[error("media url {url:?} is refused")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why [`MediaUrl`] refused it.
        #[source]
        source: MediaUrlError,
    },
    /// The MIME type is not one WhatsApp takes for this kind (`image/gif` for an image,
    /// `audio/ogg` without the opus codec, ...); the source is the [`MediaError`] from
    /// [`media::check`], which lists what is allowed.
    #[error("{kind} message cannot carry media of type {mime:?}")]
    InvalidMimeType {
        /// The media kind.
        kind: MediaKind,
        /// The MIME type given.
        mime: String,
        /// Why [`media::check`] refused it.
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
        /// The limit, [`MAX_CONTACTS`].
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
}

/// A media message: image, audio, video, document or sticker, sent by URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaMessage {
    kind: MediaKind,
    url: MediaUrl,
    mime_type: String,
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

    /// The MIME type (`mimeType`), e.g. `image/jpeg`.
    pub fn mime_type(&self) -> &str {
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

/// A location message.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    longitude: f64,
    latitude: f64,
    name: Option<String>,
    address: Option<String>,
}

impl Location {
    /// Longitude in degrees, -180 to 180.
    pub fn longitude(&self) -> f64 {
        self.longitude
    }

    /// Latitude in degrees, -90 to 90.
    pub fn latitude(&self) -> f64 {
        self.latitude
    }

    /// The place's name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The place's address (shown only with a name).
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }
}

/// A contact card, in the Meta Cloud API shape. `name.formatted_name` plus one other name
/// part is required; the rest is optional.
///
/// ```
/// use webex_connect_whatsapp::session::{Contact, ContactName, ContactPhone};
/// let contact = Contact::new(ContactName::new("Ada Lovelace").first_name("Ada"))
///     .phone(ContactPhone::new("+447400123456"));
/// assert_eq!(contact.name.formatted_name, "Ada Lovelace");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Contact {
    /// Postal addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<ContactAddress>,
    /// Birthday, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
    /// Email addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<ContactEmail>,
    /// The name.
    pub name: ContactName,
    /// Organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<ContactOrg>,
    /// Phone numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<ContactPhone>,
    /// Web sites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<ContactUrl>,
}

impl Contact {
    /// A contact with only a name.
    pub fn new(name: ContactName) -> Self {
        Self {
            addresses: Vec::new(),
            birthday: None,
            emails: Vec::new(),
            name,
            org: None,
            phones: Vec::new(),
            urls: Vec::new(),
        }
    }

    /// Adds a phone number.
    #[must_use]
    pub fn phone(mut self, phone: ContactPhone) -> Self {
        self.phones.push(phone);
        self
    }

    /// Adds an email address.
    #[must_use]
    pub fn email(mut self, email: ContactEmail) -> Self {
        self.emails.push(email);
        self
    }

    /// Adds a web site.
    #[must_use]
    pub fn url(mut self, url: ContactUrl) -> Self {
        self.urls.push(url);
        self
    }

    /// Adds a postal address.
    #[must_use]
    pub fn address(mut self, address: ContactAddress) -> Self {
        self.addresses.push(address);
        self
    }

    /// Sets the organization.
    #[must_use]
    pub fn org(mut self, org: ContactOrg) -> Self {
        self.org = Some(org);
        self
    }

    /// Sets the birthday (`YYYY-MM-DD`).
    #[must_use]
    pub fn birthday(mut self, birthday: impl Into<String>) -> Self {
        self.birthday = Some(birthday.into());
        self
    }

    fn check(&self, index: usize) -> Result<(), SessionMessageError> {
        let invalid = |reason| SessionMessageError::InvalidContact { index, reason };
        let n = &self.name;
        if n.formatted_name.trim().is_empty() {
            return Err(invalid("name.formatted_name is required"));
        }
        let has_part = [
            &n.first_name,
            &n.last_name,
            &n.middle_name,
            &n.suffix,
            &n.prefix,
        ]
        .iter()
        .any(|p| p.as_deref().is_some_and(|s| !s.trim().is_empty()));
        if !has_part {
            return Err(invalid(
                "the name needs first_name, last_name, middle_name, suffix or prefix besides formatted_name",
            ));
        }
        Ok(())
    }
}

/// A contact's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactName {
    /// The full name as shown (required).
    pub formatted_name: String,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Middle name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Name suffix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// Name prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

impl ContactName {
    /// A name with its formatted form; add at least one other part.
    pub fn new(formatted_name: impl Into<String>) -> Self {
        Self {
            formatted_name: formatted_name.into(),
            first_name: None,
            last_name: None,
            middle_name: None,
            suffix: None,
            prefix: None,
        }
    }

    /// Sets the first name.
    #[must_use]
    pub fn first_name(mut self, value: impl Into<String>) -> Self {
        self.first_name = Some(value.into());
        self
    }

    /// Sets the last name.
    #[must_use]
    pub fn last_name(mut self, value: impl Into<String>) -> Self {
        self.last_name = Some(value.into());
        self
    }

    /// Sets the middle name.
    #[must_use]
    pub fn middle_name(mut self, value: impl Into<String>) -> Self {
        self.middle_name = Some(value.into());
        self
    }

    /// Sets the suffix.
    #[must_use]
    pub fn suffix(mut self, value: impl Into<String>) -> Self {
        self.suffix = Some(value.into());
        self
    }

    /// Sets the prefix.
    #[must_use]
    pub fn prefix(mut self, value: impl Into<String>) -> Self {
        self.prefix = Some(value.into());
        self
    }
}

/// A contact's phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactPhone {
    /// The number as shown.
    pub phone: String,
    /// `CELL`, `MAIN`, `IPHONE`, `HOME` or `WORK`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The WhatsApp id, which adds a "Message" button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
}

impl ContactPhone {
    /// A phone number with no type.
    pub fn new(phone: impl Into<String>) -> Self {
        Self {
            phone: phone.into(),
            kind: None,
            wa_id: None,
        }
    }
}

/// A contact's email address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactEmail {
    /// The address.
    pub email: String,
    /// `HOME` or `WORK`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl ContactEmail {
    /// An email address with no type.
    pub fn new(email: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            kind: None,
        }
    }
}

/// A contact's web site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactUrl {
    /// The URL.
    pub url: String,
    /// `HOME` or `WORK`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl ContactUrl {
    /// A URL with no type.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            kind: None,
        }
    }
}

/// A contact's postal address; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactAddress {
    /// Street and number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    /// Country name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Two-letter country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// `HOME` or `WORK`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A contact's organization; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactOrg {
    /// Company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
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
}

/// A message sent inside the 24-hour window: the `channels.OTT-Messaging.wa` object.
///
/// Build one with [`text`](Self::text), the media builders ([`image`](Self::image), ...),
/// [`location`](Self::location) or [`contacts`](Self::contacts); every constructor checks the
/// platform's limits, so an existing value is always sendable.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionMessage(Body);

impl SessionMessage {
    /// A text message of 1 to 4096 characters; link previews off.
    ///
    /// ```
    /// use webex_connect_whatsapp::SessionMessage;
    /// let m = SessionMessage::text("Hello")?;
    /// assert_eq!(m.text_body(), Some("Hello"));
    /// assert!(SessionMessage::text("x".repeat(4097)).is_err());
    /// # Ok::<(), webex_connect_whatsapp::session::SessionMessageError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SessionMessageError::Text`] when the text is empty or longer than 4096 characters.
    pub fn text(body: impl Into<String>) -> Result<Self, SessionMessageError> {
        Ok(Self::from(MessageText::new(body)?))
    }

    /// A text message whose first URL is previewed (`preview_url: true`).
    ///
    /// ```
    /// use webex_connect_whatsapp::SessionMessage;
    /// let m = SessionMessage::text_with_preview("See https://example.com")?;
    /// assert!(m.preview_url());
    /// # Ok::<(), webex_connect_whatsapp::session::SessionMessageError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SessionMessageError::Text`] when the text is empty or longer than 4096 characters.
    pub fn text_with_preview(body: impl Into<String>) -> Result<Self, SessionMessageError> {
        Ok(Self(Body::Text {
            text: MessageText::new(body)?,
            preview_url: true,
        }))
    }

    /// Starts a media message of any kind; see [`image`](Self::image) for an example.
    pub fn media(
        kind: MediaKind,
        url: MediaUrl,
        mime_type: impl Into<String>,
    ) -> MediaMessageBuilder {
        MediaMessageBuilder {
            kind,
            url,
            mime_type: mime_type.into(),
            caption: None,
            filename: None,
        }
    }

    /// Starts an image message (JPEG or PNG); it may have a caption.
    ///
    /// ```
    /// use webex_connect_whatsapp::{MediaUrl, SessionMessage};
    /// let m = SessionMessage::image(MediaUrl::new("https://example.com/a.png")?, "image/png")
    ///     .caption("A chart")
    ///     .build()?;
    /// assert_eq!(m.as_media().unwrap().caption().unwrap().as_str(), "A chart");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn image(url: MediaUrl, mime_type: impl Into<String>) -> MediaMessageBuilder {
        Self::media(MediaKind::Image, url, mime_type)
    }

    /// Starts an audio message; audio takes no caption.
    pub fn audio(url: MediaUrl, mime_type: impl Into<String>) -> MediaMessageBuilder {
        Self::media(MediaKind::Audio, url, mime_type)
    }

    /// Starts a video message; it may have a caption.
    pub fn video(url: MediaUrl, mime_type: impl Into<String>) -> MediaMessageBuilder {
        Self::media(MediaKind::Video, url, mime_type)
    }

    /// Starts a document message; it may have a caption and a file name.
    ///
    /// ```
    /// use webex_connect_whatsapp::{MediaUrl, SessionMessage};
    /// let m = SessionMessage::document(MediaUrl::new("https://example.com/i.pdf")?, "application/pdf")
    ///     .filename("invoice.pdf")
    ///     .build()?;
    /// assert_eq!(m.as_media().unwrap().filename(), Some("invoice.pdf"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn document(url: MediaUrl, mime_type: impl Into<String>) -> MediaMessageBuilder {
        Self::media(MediaKind::Document, url, mime_type)
    }

    /// Starts a sticker message (`image/webp`); stickers take no caption.
    pub fn sticker(url: MediaUrl, mime_type: impl Into<String>) -> MediaMessageBuilder {
        Self::media(MediaKind::Sticker, url, mime_type)
    }

    /// Starts a location message.
    ///
    /// ```
    /// use webex_connect_whatsapp::SessionMessage;
    /// let m = SessionMessage::location(17.4349, 78.3984)
    ///     .name("Imimobile")
    ///     .address("Jubilee Hills, Hyderabad")
    ///     .build()?;
    /// assert_eq!(m.as_location().unwrap().name(), Some("Imimobile"));
    /// assert!(SessionMessage::location(91.0, 0.0).build().is_err());
    /// # Ok::<(), webex_connect_whatsapp::session::SessionMessageError>(())
    /// ```
    pub fn location(latitude: f64, longitude: f64) -> LocationBuilder {
        LocationBuilder {
            location: Location {
                longitude,
                latitude,
                name: None,
                address: None,
            },
        }
    }

    /// A contacts message with 1 to 5 contact cards.
    ///
    /// ```
    /// use webex_connect_whatsapp::SessionMessage;
    /// use webex_connect_whatsapp::session::{Contact, ContactName};
    /// let m = SessionMessage::contacts(vec![Contact::new(
    ///     ContactName::new("Ada Lovelace").first_name("Ada"),
    /// )])?;
    /// assert_eq!(m.as_contacts().len(), 1);
    /// assert!(SessionMessage::contacts(vec![Contact::new(ContactName::new("Ada"))]).is_err());
    /// # Ok::<(), webex_connect_whatsapp::session::SessionMessageError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SessionMessageError::ContactCount`] for none or more than five,
    /// [`SessionMessageError::InvalidContact`] for a name without `formatted_name` and another
    /// part.
    pub fn contacts(contacts: Vec<Contact>) -> Result<Self, SessionMessageError> {
        if contacts.is_empty() || contacts.len() > MAX_CONTACTS {
            return Err(SessionMessageError::ContactCount {
                actual: contacts.len(),
                max: MAX_CONTACTS,
            });
        }
        for (index, contact) in contacts.iter().enumerate() {
            contact.check(index)?;
        }
        Ok(Self(Body::Contacts(contacts)))
    }

    /// The kind of message (the wire `type`).
    pub fn kind(&self) -> SessionKind {
        match &self.0 {
            Body::Text { .. } => SessionKind::Text,
            Body::Media(m) => match m.kind {
                MediaKind::Image => SessionKind::Image,
                MediaKind::Audio => SessionKind::Audio,
                MediaKind::Video => SessionKind::Video,
                MediaKind::Sticker => SessionKind::Sticker,
                _ => SessionKind::Document,
            },
            Body::Location(_) => SessionKind::Location,
            Body::Contacts(_) => SessionKind::Contacts,
        }
    }

    /// The body of a text message.
    pub fn text_body(&self) -> Option<&str> {
        match &self.0 {
            Body::Text { text, .. } => Some(text.as_str()),
            _ => None,
        }
    }

    /// Whether a text message asks for a link preview.
    pub fn preview_url(&self) -> bool {
        matches!(
            self.0,
            Body::Text {
                preview_url: true,
                ..
            }
        )
    }

    /// The media of a media message.
    pub fn as_media(&self) -> Option<&MediaMessage> {
        match &self.0 {
            Body::Media(m) => Some(m),
            _ => None,
        }
    }

    /// The location of a location message.
    pub fn as_location(&self) -> Option<&Location> {
        match &self.0 {
            Body::Location(l) => Some(l),
            _ => None,
        }
    }

    /// The contact cards of a contacts message (empty for other kinds).
    pub fn as_contacts(&self) -> &[Contact] {
        match &self.0 {
            Body::Contacts(c) => c,
            _ => &[],
        }
    }
}

impl From<MessageText> for SessionMessage {
    fn from(text: MessageText) -> Self {
        Self(Body::Text {
            text,
            preview_url: false,
        })
    }
}

/// Builds a media [`SessionMessage`]; checks run in [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct MediaMessageBuilder {
    kind: MediaKind,
    url: MediaUrl,
    mime_type: String,
    caption: Option<String>,
    filename: Option<String>,
}

impl MediaMessageBuilder {
    /// Sets the caption (image, video and document only; 1 to 1024 characters).
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// Sets the file name shown for a document.
    pub fn filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }

    /// Checks the message: a MIME type WhatsApp takes for the kind (see [`media::check`]:
    /// JPEG or PNG images, opus-only Ogg audio, WEBP stickers, ...), a caption only on image,
    /// video and document, a file name only on documents. The URL is already checked, being a
    /// [`MediaUrl`].
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
        check_mime(kind, &self.mime_type)?;
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
            mime_type: self.mime_type,
            caption,
            filename,
        })))
    }
}

/// The MIME type is kept as given (it goes on the wire unchanged); only the check parses it.
fn check_mime(kind: MediaKind, value: &str) -> Result<(), SessionMessageError> {
    let refused = |source| SessionMessageError::InvalidMimeType {
        kind,
        mime: value.to_owned(),
        source,
    };
    // Something that does not parse as a MIME type is no type the kind takes either.
    let mime: mime::Mime = value.parse().map_err(|_| {
        refused(MediaError::UnsupportedMimeType {
            kind,
            mime: value.to_owned(),
            allowed: kind.allowed_mime_types(),
        })
    })?;
    media::check(kind, &mime, None, false).map_err(refused)
}

/// Builds a location [`SessionMessage`]; checks run in [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct LocationBuilder {
    location: Location,
}

impl LocationBuilder {
    /// Sets the place's name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.location.name = Some(name.into());
        self
    }

    /// Sets the place's address; WhatsApp shows it only with a name.
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.location.address = Some(address.into());
        self
    }

    /// Checks the location: finite coordinates in range, a non-empty name and address when
    /// given, and no address without a name.
    ///
    /// # Errors
    ///
    /// [`SessionMessageError::InvalidCoordinate`], [`SessionMessageError::EmptyField`] or
    /// [`SessionMessageError::AddressWithoutName`].
    pub fn build(self) -> Result<SessionMessage, SessionMessageError> {
        let l = self.location;
        check_coordinate("latitude", l.latitude, 90.0)?;
        check_coordinate("longitude", l.longitude, 180.0)?;
        if l.name.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(SessionMessageError::EmptyField { field: "name" });
        }
        if l.address.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(SessionMessageError::EmptyField { field: "address" });
        }
        if l.address.is_some() && l.name.is_none() {
            return Err(SessionMessageError::AddressWithoutName);
        }
        Ok(SessionMessage(Body::Location(l)))
    }
}

fn check_coordinate(
    field: &'static str,
    value: f64,
    limit: f64,
) -> Result<(), SessionMessageError> {
    if value.is_finite() && (-limit..=limit).contains(&value) {
        Ok(())
    } else {
        Err(SessionMessageError::InvalidCoordinate {
            field,
            value,
            min: -limit,
            max: limit,
        })
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
            deserialize_with = "lenient_bool"
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
}

#[derive(Serialize, Deserialize)]
struct TextWire {
    body: String,
    // An older sample puts the flag inside `text`; it is read there too, never written.
    #[serde(default, skip_serializing, deserialize_with = "lenient_bool")]
    preview_url: bool,
}

#[derive(Serialize, Deserialize)]
struct MediaWire {
    url: String,
    #[serde(rename = "mimeType", alias = "mime_type")]
    mime_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filename: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct LocationWire {
    #[serde(deserialize_with = "lenient_f64")]
    longitude: f64,
    #[serde(deserialize_with = "lenient_f64")]
    latitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
}

/// `true`, `false`, or their string forms (one reference sample sends `"true"`).
fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Bool(b) => Ok(b),
        serde_json::Value::Null => Ok(false),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") || s.is_empty() => {
            Ok(false)
        }
        other => Err(serde::de::Error::custom(format!(
            "preview_url must be true or false, got {other}"
        ))),
    }
}

/// A number, or a number in a string (inbound locations carry strings).
fn lenient_f64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| serde::de::Error::custom("coordinate out of range")),
        serde_json::Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("coordinate {s:?} is not a number"))),
        other => Err(serde::de::Error::custom(format!(
            "coordinate must be a number, got {other}"
        ))),
    }
}

/// Serde errors carry only text, so the source chain is folded into it.
pub(crate) fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Empty optional strings in samples (`"name": ""`) mean "not given".
fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.is_empty())
}

impl MediaWire {
    fn into_message(self, kind: MediaKind) -> Result<SessionMessage, SessionMessageError> {
        let url = MediaUrl::new(&self.url).map_err(|source| SessionMessageError::InvalidUrl {
            url: self.url.clone(),
            source,
        })?;
        let mut builder = SessionMessage::media(kind, url, self.mime_type);
        builder.caption = non_empty(self.caption);
        builder.filename = non_empty(self.filename);
        builder.build()
    }

    fn from_message(m: &MediaMessage) -> Self {
        Self {
            url: m.url.as_str().to_owned(),
            mime_type: m.mime_type.clone(),
            caption: m.caption.as_ref().map(|c| c.as_str().to_owned()),
            filename: m.filename.clone(),
        }
    }
}

impl Wire {
    fn into_message(self) -> Result<SessionMessage, SessionMessageError> {
        match self {
            Self::Text { text, preview_url } => Ok(SessionMessage(Body::Text {
                text: MessageText::new(text.body)?,
                preview_url: preview_url || text.preview_url,
            })),
            Self::Image { image } => image.into_message(MediaKind::Image),
            Self::Audio { audio } => audio.into_message(MediaKind::Audio),
            Self::Video { video } => video.into_message(MediaKind::Video),
            Self::Document { document } => document.into_message(MediaKind::Document),
            Self::Sticker { sticker } => sticker.into_message(MediaKind::Sticker),
            Self::Location { location } => {
                let mut builder = SessionMessage::location(location.latitude, location.longitude);
                builder.location.name = non_empty(location.name);
                builder.location.address = non_empty(location.address);
                builder.build()
            }
            Self::Contacts { contacts } => SessionMessage::contacts(contacts),
        }
    }

    fn from_message(message: &SessionMessage) -> Self {
        match &message.0 {
            Body::Text { text, preview_url } => Self::Text {
                text: TextWire {
                    body: text.as_str().to_owned(),
                    preview_url: false,
                },
                preview_url: *preview_url,
            },
            Body::Media(m) => {
                let media = MediaWire::from_message(m);
                match m.kind {
                    MediaKind::Image => Self::Image { image: media },
                    MediaKind::Audio => Self::Audio { audio: media },
                    MediaKind::Video => Self::Video { video: media },
                    MediaKind::Sticker => Self::Sticker { sticker: media },
                    _ => Self::Document { document: media },
                }
            }
            Body::Location(l) => Self::Location {
                location: LocationWire {
                    longitude: l.longitude,
                    latitude: l.latitude,
                    name: l.name.clone(),
                    address: l.address.clone(),
                },
            },
            Body::Contacts(c) => Self::Contacts {
                contacts: c.clone(),
            },
        }
    }
}

impl Serialize for SessionMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Wire::from_message(self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SessionMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Wire::deserialize(deserializer)?
            .into_message()
            .map_err(|e| serde::de::Error::custom(with_sources(&e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
