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
use serde_json::{Map, Value};

use crate::media::{self, MediaError, MediaKind, MediaUrl, MediaUrlError};
use crate::text::{
    BodyText, Caption, FooterText, HeaderText, ListButtonText, MessageText, ReplyButtonId,
    ReplyButtonTitle, RowDescription, RowId, RowTitle, SectionTitle, TextError,
};

/// The most contacts one message may carry.
pub const MAX_CONTACTS: usize = 5;

/// The most reply buttons one message may carry.
pub const MAX_REPLY_BUTTONS: usize = 3;

/// The most sections one list message may carry.
pub const MAX_LIST_SECTIONS: usize = 10;

/// The most rows one list message may carry, counted over all its sections.
pub const MAX_LIST_ROWS: usize = 10;

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
    /// Too few or too many reply buttons.
    #[error("message has {actual} reply buttons, but 1 to {max} are allowed")]
    ReplyButtonCount {
        /// How many were given.
        actual: usize,
        /// The limit, [`MAX_REPLY_BUTTONS`].
        max: usize,
    },
    /// Too few or too many list sections.
    #[error("list has {actual} sections, but 1 to {max} are allowed")]
    SectionCount {
        /// How many were given.
        actual: usize,
        /// The limit, [`MAX_LIST_SECTIONS`].
        max: usize,
    },
    /// Too many rows in a list, counted over all sections.
    #[error("list has {actual} rows in all, but at most {max} are allowed")]
    RowCount {
        /// How many rows were given in all.
        actual: usize,
        /// The limit, [`MAX_LIST_ROWS`].
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

/// A row of an interactive list: an id (sent back when picked), a title and an optional
/// description.
///
/// ```
/// use webex_connect_whatsapp::session::ListRow;
/// let row = ListRow::new("slot-0900", "9:00 to 10:00")?.with_description("With Dr Rao")?;
/// assert_eq!(row.id().as_str(), "slot-0900");
/// assert!(ListRow::new("id", "x".repeat(25)).is_err());
/// # Ok::<(), webex_connect_whatsapp::session::SessionMessageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    id: RowId,
    title: RowTitle,
    description: Option<RowDescription>,
}

impl ListRow {
    /// A row with an id of 1 to 200 characters and a title of 1 to 24.
    ///
    /// # Errors
    ///
    /// [`SessionMessageError::Text`] when the id or title is empty or too long.
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
    ) -> Result<Self, SessionMessageError> {
        Ok(Self {
            id: RowId::new(id)?,
            title: RowTitle::new(title)?,
            description: None,
        })
    }

    /// Adds a description of 1 to 72 characters.
    ///
    /// # Errors
    ///
    /// [`SessionMessageError::Text`] when the description is empty or too long.
    pub fn with_description(
        mut self,
        description: impl Into<String>,
    ) -> Result<Self, SessionMessageError> {
        self.description = Some(RowDescription::new(description)?);
        Ok(self)
    }

    /// The id sent back when the row is picked.
    pub fn id(&self) -> &RowId {
        &self.id
    }

    /// The title.
    pub fn title(&self) -> &RowTitle {
        &self.title
    }

    /// The description.
    pub fn description(&self) -> Option<&RowDescription> {
        self.description.as_ref()
    }
}

/// A section of an interactive list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSection {
    title: Option<SectionTitle>,
    rows: Vec<ListRow>,
}

impl ListSection {
    /// The title (required when the list has more than one section).
    pub fn title(&self) -> Option<&SectionTitle> {
        self.title.as_ref()
    }

    /// The rows.
    pub fn rows(&self) -> &[ListRow] {
        &self.rows
    }
}

/// An interactive list message: a button that opens a list of sections and rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMessage {
    header: Option<HeaderText>,
    body: BodyText,
    footer: Option<FooterText>,
    button: ListButtonText,
    sections: Vec<ListSection>,
}

impl ListMessage {
    /// The text header.
    pub fn header(&self) -> Option<&HeaderText> {
        self.header.as_ref()
    }

    /// The body.
    pub fn body(&self) -> &BodyText {
        &self.body
    }

    /// The footer.
    pub fn footer(&self) -> Option<&FooterText> {
        self.footer.as_ref()
    }

    /// The label of the button that opens the list.
    pub fn button(&self) -> &ListButtonText {
        &self.button
    }

    /// The sections.
    pub fn sections(&self) -> &[ListSection] {
        &self.sections
    }
}

/// The header of a reply-buttons message: a text, or an image, video or document by URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyHeader {
    /// A text of 1 to 60 characters.
    Text(HeaderText),
    /// An image.
    Image(MediaUrl),
    /// A video.
    Video(MediaUrl),
    /// A document, with the file name shown for it.
    Document {
        /// Where Webex Connect fetches the document.
        url: MediaUrl,
        /// The file name shown.
        filename: Option<String>,
    },
}

impl ReplyHeader {
    /// The text of a text header.
    pub fn as_text(&self) -> Option<&HeaderText> {
        match self {
            Self::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// One interactive reply button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyButton {
    id: ReplyButtonId,
    title: ReplyButtonTitle,
}

impl ReplyButton {
    /// The id sent back when the button is tapped.
    pub fn id(&self) -> &ReplyButtonId {
        &self.id
    }

    /// The title shown on the button.
    pub fn title(&self) -> &ReplyButtonTitle {
        &self.title
    }
}

/// An interactive reply-buttons message: a body with 1 to 3 buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyButtonsMessage {
    header: Option<ReplyHeader>,
    body: BodyText,
    footer: Option<FooterText>,
    buttons: Vec<ReplyButton>,
}

impl ReplyButtonsMessage {
    /// The header: text or media.
    pub fn header(&self) -> Option<&ReplyHeader> {
        self.header.as_ref()
    }

    /// The body.
    pub fn body(&self) -> &BodyText {
        &self.body
    }

    /// The footer.
    pub fn footer(&self) -> Option<&FooterText> {
        self.footer.as_ref()
    }

    /// The buttons, in order.
    pub fn buttons(&self) -> &[ReplyButton] {
        &self.buttons
    }
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

    /// Starts an interactive list message: a body of 1 to 1024 characters and the label of
    /// the button that opens the list (1 to 20 characters). Add 1 to 10 sections with 10 rows
    /// in all.
    ///
    /// ```
    /// use webex_connect_whatsapp::SessionMessage;
    /// use webex_connect_whatsapp::session::{ListRow, SessionKind};
    /// let m = SessionMessage::list("Pick a time for your visit", "Choose a slot")
    ///     .header("Appointments")
    ///     .footer("Reply STOP to opt out")
    ///     .section("Morning", [ListRow::new("slot-0900", "9:00")?.with_description("With Dr Rao")?])
    ///     .section("Afternoon", [ListRow::new("slot-1400", "14:00")?])
    ///     .build()?;
    /// assert_eq!(m.kind(), SessionKind::List);
    /// assert_eq!(m.as_list().unwrap().sections().len(), 2);
    /// # Ok::<(), webex_connect_whatsapp::session::SessionMessageError>(())
    /// ```
    pub fn list(body: impl Into<String>, button_label: impl Into<String>) -> ListMessageBuilder {
        ListMessageBuilder {
            header: None,
            body: body.into(),
            footer: None,
            button: button_label.into(),
            sections: Vec::new(),
        }
    }

    /// Starts an interactive reply-buttons message: a body of 1 to 1024 characters and 1 to 3
    /// buttons.
    ///
    /// ```
    /// use webex_connect_whatsapp::SessionMessage;
    /// use webex_connect_whatsapp::session::SessionKind;
    /// let m = SessionMessage::reply_buttons("Confirm your visit on Monday at 9:00?")
    ///     .button("yes", "Confirm")
    ///     .button("no", "Reschedule")
    ///     .build()?;
    /// assert_eq!(m.kind(), SessionKind::ReplyButtons);
    /// assert_eq!(m.as_reply_buttons().unwrap().buttons()[1].id().as_str(), "no");
    /// # Ok::<(), webex_connect_whatsapp::session::SessionMessageError>(())
    /// ```
    pub fn reply_buttons(body: impl Into<String>) -> ReplyButtonsBuilder {
        ReplyButtonsBuilder {
            header: None,
            media_header: None,
            body: body.into(),
            footer: None,
            buttons: Vec::new(),
        }
    }

    /// The list of an interactive list message.
    pub fn as_list(&self) -> Option<&ListMessage> {
        match &self.0 {
            Body::List(l) => Some(l),
            _ => None,
        }
    }

    /// The buttons message of an interactive reply-buttons message.
    pub fn as_reply_buttons(&self) -> Option<&ReplyButtonsMessage> {
        match &self.0 {
            Body::ReplyButtons(r) => Some(r),
            _ => None,
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

/// Builds an interactive list [`SessionMessage`]; checks run in [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct ListMessageBuilder {
    header: Option<String>,
    body: String,
    footer: Option<String>,
    button: String,
    sections: Vec<(Option<String>, Vec<ListRow>)>,
}

impl ListMessageBuilder {
    /// Sets a text header of 1 to 60 characters.
    pub fn header(mut self, header: impl Into<String>) -> Self {
        self.header = Some(header.into());
        self
    }

    /// Sets a footer of 1 to 60 characters.
    pub fn footer(mut self, footer: impl Into<String>) -> Self {
        self.footer = Some(footer.into());
        self
    }

    /// Adds a section with a title of 1 to 24 characters.
    pub fn section(
        mut self,
        title: impl Into<String>,
        rows: impl IntoIterator<Item = ListRow>,
    ) -> Self {
        self.sections
            .push((Some(title.into()), rows.into_iter().collect()));
        self
    }

    /// Adds a section without a title; allowed only when the list has one section.
    pub fn untitled_section(mut self, rows: impl IntoIterator<Item = ListRow>) -> Self {
        self.sections.push((None, rows.into_iter().collect()));
        self
    }

    /// Checks the list: the texts' lengths, 1 to 10 sections, each with rows and, when there
    /// are several, a title, 10 rows in all, and unique row ids.
    ///
    /// # Errors
    ///
    /// [`SessionMessageError`] naming the first rule broken.
    pub fn build(self) -> Result<SessionMessage, SessionMessageError> {
        let (header, body, footer) = check_frame(self.header, self.body, self.footer)?;
        let button = ListButtonText::new(self.button)?;
        let count = self.sections.len();
        if count == 0 || count > MAX_LIST_SECTIONS {
            return Err(SessionMessageError::SectionCount {
                actual: count,
                max: MAX_LIST_SECTIONS,
            });
        }
        let total: usize = self.sections.iter().map(|(_, rows)| rows.len()).sum();
        if total > MAX_LIST_ROWS {
            return Err(SessionMessageError::RowCount {
                actual: total,
                max: MAX_LIST_ROWS,
            });
        }
        let mut ids = std::collections::HashSet::new();
        let mut sections = Vec::with_capacity(count);
        for (index, (title, rows)) in self.sections.into_iter().enumerate() {
            let title = title.map(SectionTitle::new).transpose()?;
            if title.is_none() && count > 1 {
                return Err(SessionMessageError::SectionTitleRequired { index });
            }
            if rows.is_empty() {
                return Err(SessionMessageError::EmptySection { index });
            }
            for row in &rows {
                if !ids.insert(row.id.as_str().to_owned()) {
                    return Err(SessionMessageError::Duplicate {
                        what: RowId::WHAT,
                        value: row.id.as_str().to_owned(),
                    });
                }
            }
            sections.push(ListSection { title, rows });
        }
        Ok(SessionMessage(Body::List(ListMessage {
            header,
            body,
            footer,
            button,
            sections,
        })))
    }
}

/// Builds an interactive reply-buttons [`SessionMessage`]; checks run in
/// [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct ReplyButtonsBuilder {
    header: Option<String>,
    media_header: Option<ReplyHeader>,
    body: String,
    footer: Option<String>,
    buttons: Vec<(String, String)>,
}

impl ReplyButtonsBuilder {
    /// Sets a text header of 1 to 60 characters (replacing a media header).
    pub fn header(mut self, header: impl Into<String>) -> Self {
        self.header = Some(header.into());
        self.media_header = None;
        self
    }

    /// Sets an image header (replacing a text header).
    pub fn image_header(mut self, url: MediaUrl) -> Self {
        self.header = None;
        self.media_header = Some(ReplyHeader::Image(url));
        self
    }

    /// Sets a video header (replacing a text header).
    pub fn video_header(mut self, url: MediaUrl) -> Self {
        self.header = None;
        self.media_header = Some(ReplyHeader::Video(url));
        self
    }

    /// Sets a document header with an optional file name (replacing a text header).
    pub fn document_header(mut self, url: MediaUrl, filename: Option<String>) -> Self {
        self.header = None;
        self.media_header = Some(ReplyHeader::Document { url, filename });
        self
    }

    /// Sets a footer of 1 to 60 characters.
    pub fn footer(mut self, footer: impl Into<String>) -> Self {
        self.footer = Some(footer.into());
        self
    }

    /// Adds a button: an id of 1 to 256 characters (sent back when tapped) and a title of 1
    /// to 20.
    pub fn button(mut self, id: impl Into<String>, title: impl Into<String>) -> Self {
        self.buttons.push((id.into(), title.into()));
        self
    }

    /// Checks the message: the texts' lengths, a non-empty document file name when given,
    /// 1 to 3 buttons, unique ids and unique titles.
    ///
    /// # Errors
    ///
    /// [`SessionMessageError`] naming the first rule broken.
    pub fn build(self) -> Result<SessionMessage, SessionMessageError> {
        let (text_header, body, footer) = check_frame(self.header, self.body, self.footer)?;
        if let Some(ReplyHeader::Document {
            filename: Some(f), ..
        }) = &self.media_header
            && f.trim().is_empty()
        {
            return Err(SessionMessageError::EmptyField { field: "filename" });
        }
        let header = text_header.map(ReplyHeader::Text).or(self.media_header);
        let count = self.buttons.len();
        if count == 0 || count > MAX_REPLY_BUTTONS {
            return Err(SessionMessageError::ReplyButtonCount {
                actual: count,
                max: MAX_REPLY_BUTTONS,
            });
        }
        let mut buttons: Vec<ReplyButton> = Vec::with_capacity(count);
        for (id, title) in self.buttons {
            let button = ReplyButton {
                id: ReplyButtonId::new(id)?,
                title: ReplyButtonTitle::new(title)?,
            };
            if buttons.iter().any(|b| b.id == button.id) {
                return Err(SessionMessageError::Duplicate {
                    what: ReplyButtonId::WHAT,
                    value: button.id.into_string(),
                });
            }
            if buttons.iter().any(|b| b.title == button.title) {
                return Err(SessionMessageError::Duplicate {
                    what: ReplyButtonTitle::WHAT,
                    value: button.title.into_string(),
                });
            }
            buttons.push(button);
        }
        Ok(SessionMessage(Body::ReplyButtons(ReplyButtonsMessage {
            header,
            body,
            footer,
            buttons,
        })))
    }
}

type Frame = (Option<HeaderText>, BodyText, Option<FooterText>);

/// The header, body and footer every interactive message shares.
fn check_frame(
    header: Option<String>,
    body: String,
    footer: Option<String>,
) -> Result<Frame, SessionMessageError> {
    Ok((
        header.map(HeaderText::new).transpose()?,
        BodyText::new(body)?,
        footer.map(FooterText::new).transpose()?,
    ))
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
    List {
        list: ListWire,
    },
    Reply {
        reply: ReplyWire,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum HeaderWire {
    Text { text: String },
    Image { image: MediaHeaderWire },
    Video { video: MediaHeaderWire },
    Document { document: MediaHeaderWire },
}

#[derive(Serialize, Deserialize)]
struct MediaHeaderWire {
    url: String,
    // `provider: {name}` is read and dropped; the SDK never sends one.
    #[serde(default, skip_serializing)]
    #[allow(dead_code)]
    provider: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filename: Option<String>,
}

impl MediaHeaderWire {
    fn new(url: &MediaUrl, filename: Option<&String>) -> Self {
        Self {
            url: url.as_str().to_owned(),
            provider: None,
            filename: filename.cloned(),
        }
    }

    fn url(&self) -> Result<MediaUrl, SessionMessageError> {
        MediaUrl::new(&self.url).map_err(|source| SessionMessageError::InvalidUrl {
            url: self.url.clone(),
            source,
        })
    }
}

impl HeaderWire {
    /// Lists take only a text header.
    fn into_text(self) -> Result<String, SessionMessageError> {
        match self {
            Self::Text { text } => Ok(text),
            _ => Err(SessionMessageError::MediaHeaderNotAllowed),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct TextOnlyWire {
    text: String,
}

#[derive(Serialize, Deserialize)]
struct ListWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    header: Option<HeaderWire>,
    body: TextOnlyWire,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    footer: Option<TextOnlyWire>,
    action: ListActionWire,
}

#[derive(Serialize, Deserialize)]
struct ListActionWire {
    button: String,
    sections: Vec<SectionWire>,
}

#[derive(Serialize, Deserialize)]
struct SectionWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    rows: Vec<RowWire>,
}

#[derive(Serialize, Deserialize)]
struct RowWire {
    id: String,
    title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct ReplyWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    header: Option<HeaderWire>,
    body: TextOnlyWire,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    footer: Option<TextOnlyWire>,
    action: ReplyActionWire,
}

#[derive(Serialize, Deserialize)]
struct ReplyActionWire {
    buttons: Vec<ButtonWire>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum ButtonWire {
    Reply { reply: ButtonReplyWire },
}

#[derive(Serialize, Deserialize)]
struct ButtonReplyWire {
    id: String,
    title: String,
}

fn reply_header_wire(header: Option<&ReplyHeader>) -> Option<HeaderWire> {
    header.map(|h| match h {
        ReplyHeader::Text(t) => HeaderWire::Text {
            text: t.as_str().to_owned(),
        },
        ReplyHeader::Image(url) => HeaderWire::Image {
            image: MediaHeaderWire::new(url, None),
        },
        ReplyHeader::Video(url) => HeaderWire::Video {
            video: MediaHeaderWire::new(url, None),
        },
        ReplyHeader::Document { url, filename } => HeaderWire::Document {
            document: MediaHeaderWire::new(url, filename.as_ref()),
        },
    })
}

fn header_wire(header: Option<&HeaderText>) -> Option<HeaderWire> {
    header.map(|h| HeaderWire::Text {
        text: h.as_str().to_owned(),
    })
}

fn footer_wire(footer: Option<&FooterText>) -> Option<TextOnlyWire> {
    footer.map(|f| TextOnlyWire {
        text: f.as_str().to_owned(),
    })
}

impl ListWire {
    fn into_message(self) -> Result<SessionMessage, SessionMessageError> {
        let mut builder = SessionMessage::list(self.body.text, self.action.button);
        builder.header = self.header.map(HeaderWire::into_text).transpose()?;
        builder.footer = self.footer.map(|f| f.text);
        for section in self.action.sections {
            let rows = section
                .rows
                .into_iter()
                .map(|r| {
                    let row = ListRow::new(r.id, r.title)?;
                    match non_empty(r.description) {
                        Some(d) => row.with_description(d),
                        None => Ok(row),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            builder.sections.push((non_empty(section.title), rows));
        }
        builder.build()
    }

    fn from_message(l: &ListMessage) -> Self {
        Self {
            header: header_wire(l.header.as_ref()),
            body: TextOnlyWire {
                text: l.body.as_str().to_owned(),
            },
            footer: footer_wire(l.footer.as_ref()),
            action: ListActionWire {
                button: l.button.as_str().to_owned(),
                sections: l
                    .sections
                    .iter()
                    .map(|s| SectionWire {
                        title: s.title.as_ref().map(|t| t.as_str().to_owned()),
                        rows: s
                            .rows
                            .iter()
                            .map(|r| RowWire {
                                id: r.id.as_str().to_owned(),
                                title: r.title.as_str().to_owned(),
                                description: r.description.as_ref().map(|d| d.as_str().to_owned()),
                            })
                            .collect(),
                    })
                    .collect(),
            },
        }
    }
}

impl ReplyWire {
    fn into_message(self) -> Result<SessionMessage, SessionMessageError> {
        let mut builder = SessionMessage::reply_buttons(self.body.text);
        match self.header {
            None => {}
            Some(HeaderWire::Text { text }) => builder.header = Some(text),
            Some(HeaderWire::Image { image }) => {
                builder.media_header = Some(ReplyHeader::Image(image.url()?));
            }
            Some(HeaderWire::Video { video }) => {
                builder.media_header = Some(ReplyHeader::Video(video.url()?));
            }
            Some(HeaderWire::Document { document }) => {
                builder.media_header = Some(ReplyHeader::Document {
                    url: document.url()?,
                    filename: non_empty(document.filename),
                });
            }
        }
        builder.footer = self.footer.map(|f| f.text);
        builder.buttons = self
            .action
            .buttons
            .into_iter()
            .map(|ButtonWire::Reply { reply }| (reply.id, reply.title))
            .collect();
        builder.build()
    }

    fn from_message(r: &ReplyButtonsMessage) -> Self {
        Self {
            header: reply_header_wire(r.header.as_ref()),
            body: TextOnlyWire {
                text: r.body.as_str().to_owned(),
            },
            footer: footer_wire(r.footer.as_ref()),
            action: ReplyActionWire {
                buttons: r
                    .buttons
                    .iter()
                    .map(|b| ButtonWire::Reply {
                        reply: ButtonReplyWire {
                            id: b.id.as_str().to_owned(),
                            title: b.title.as_str().to_owned(),
                        },
                    })
                    .collect(),
            },
        }
    }
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
            Self::List { list } => list.into_message(),
            Self::Reply { reply } => reply.into_message(),
        }
    }

    /// The typed wire form; `None` for a raw message, which is written as its own object.
    fn from_message(message: &SessionMessage) -> Option<Self> {
        Some(match &message.0 {
            Body::Raw(_) => return None,
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
            Body::List(l) => Self::List {
                list: ListWire::from_message(l),
            },
            Body::ReplyButtons(r) => Self::Reply {
                reply: ReplyWire::from_message(r),
            },
        })
    }
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
