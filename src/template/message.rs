//! The template message you send: the `message` object of a send request (see the
//! [module docs](crate::template#template-messages)).

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::limits::{
    MAX_CONSECUTIVE_SPACES, MAX_OTP_CHARS, MAX_PARAMETER_NAME_CHARS, MAX_QUICK_REPLIES,
    MAX_QUICK_REPLY_TEXT_CHARS, MAX_TEMPLATE_HEADER_VALUE_CHARS, MAX_TEMPLATE_TEXT_VALUE_CHARS,
    MAX_URL_SUFFIX_CHARS,
};
use crate::media::{MediaKind, MediaUrl, MediaUrlError};

use super::name::TemplateId;

/// The key under which quick replies are sent.
pub const QUICK_REPLY_KEY: &str = "quickReply";

/// Why a template message (or one of its parameters) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateMessageError {
    /// A parameter name was empty, too long or held whitespace.
    #[error("parameter name {name:?} is invalid: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The same parameter name was given twice.
    #[error("parameter {name:?} is given twice; each variable takes one value")]
    DuplicateParameter {
        /// The repeated name.
        name: String,
    },
    /// A value was empty.
    #[error("parameter {name:?} must not be empty")]
    EmptyValue {
        /// The parameter (or field, e.g. `quickReply[0].payload`).
        name: String,
    },
    /// A value held a character WhatsApp refuses there (newline, tab, or a space in an OTP).
    #[error("parameter {name:?} contains {found:?} at character {position}, which is not allowed")]
    InvalidCharacter {
        /// The parameter.
        name: String,
        /// The character.
        found: char,
        /// Its position, counted from 0.
        position: usize,
    },
    /// A text value held more than four consecutive spaces.
    #[error("parameter {name:?} has more than {max} consecutive spaces at character {position}")]
    TooManySpaces {
        /// The parameter.
        name: String,
        /// Where the run of spaces starts.
        position: usize,
        /// The limit, [`MAX_CONSECUTIVE_SPACES`].
        max: usize,
    },
    /// A value was longer than allowed.
    #[error("parameter {name:?} is {actual} characters long, but the max is {max}")]
    TooLong {
        /// The parameter.
        name: String,
        /// Its length in characters.
        actual: usize,
        /// The limit.
        max: usize,
    },
    /// A currency code was not three uppercase letters (ISO 4217).
    #[error(
        "parameter {name:?} has currency code {value:?}, but an ISO 4217 code is three uppercase letters such as \"USD\""
    )]
    InvalidCurrencyCode {
        /// The parameter.
        name: String,
        /// The code given.
        value: String,
    },
    /// A currency amount was zero.
    #[error("parameter {name:?} has amount_1000 0, but it must be greater than 0")]
    ZeroAmount {
        /// The parameter.
        name: String,
    },
    /// A media header was given for a kind templates do not take.
    #[error("media header is {kind:?}, but only image, video and document are allowed")]
    InvalidMediaKind {
        /// The kind given.
        kind: MediaKind,
    },
    /// A media link read from JSON was not a URL, or not https (http only on a loopback
    /// address); the source is the [`MediaUrlError`]. The builder takes a checked [`MediaUrl`],
    /// so only reading a message back can fail this way.
    #[error("parameter {name:?} has media link {link:?}, which is refused: {source}")]
    InvalidMediaLink {
        /// The parameter.
        name: String,
        /// The link given.
        link: String,
        /// Why [`MediaUrl`] refused it.
        #[source]
        source: MediaUrlError,
    },
    /// More quick replies than a send may carry.
    #[error("message has {actual} quick replies, but the max is {max}")]
    TooManyQuickReplies {
        /// How many were given.
        actual: usize,
        /// The limit, [`MAX_QUICK_REPLIES`].
        max: usize,
    },
    /// The size declared with [`TemplateMessageBuilder::header_size_bytes`] is over the
    /// media header kind's cap ([`MediaKind::max_bytes`]).
    #[error(
        "the {kind} header is {size} bytes, but the max for {kind} is {max} bytes ({}); send a \
         smaller file",
        crate::media::describe_bytes(*max)
    )]
    MediaTooLarge {
        /// The media header's kind.
        kind: MediaKind,
        /// The size declared, in bytes.
        size: u64,
        /// The cap for the kind, in bytes.
        max: u64,
    },
    /// The size declared with [`TemplateMessageBuilder::header_size_bytes`] is 0.
    #[error("the {kind} header is declared as 0 bytes; an empty file cannot be sent")]
    EmptyMedia {
        /// The media header's kind.
        kind: MediaKind,
    },
    /// A header size was declared, but the message has no media header to apply it to.
    #[error(
        "a header size was declared, but the message has no media header; add one with \
         media_header or document_header, or drop header_size_bytes"
    )]
    SizeWithoutMediaHeader,
    /// A value of a known parameter type had the wrong shape (when reading JSON).
    #[error("parameter {name:?} of type {kind:?} is malformed: {reason}")]
    Malformed {
        /// The parameter.
        name: String,
        /// Its `type`.
        kind: String,
        /// What is wrong.
        reason: String,
    },
}

/// One quick reply of a send: the button text and the payload returned when it is tapped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct QuickReply {
    button_text: String,
    payload: String,
}

impl QuickReply {
    /// The button text.
    pub fn button_text(&self) -> &str {
        &self.button_text
    }

    /// The payload, echoed as `buttonPayload` in the postback webhook.
    pub fn payload(&self) -> &str {
        &self.payload
    }
}

/// The value of one template parameter.
///
/// Two values are equal when they are the same typed value, or, when either is
/// [`Unknown`](Self::Unknown), when they serialize to the same JSON.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TemplateParameter {
    /// A text variable: `"movie": "joker"`.
    Text(String),
    /// A localized date and time: `{"type":"date_time","fallback_value","timestamp"}`.
    DateTime {
        /// Shown where the date cannot be localized.
        fallback_value: String,
        /// Unix time in seconds (sent as a string).
        timestamp: i64,
    },
    /// A localized amount: `{"type":"currency","currency_code","amount_1000","fallback_value"}`.
    Currency {
        /// ISO 4217 code, e.g. `USD`.
        currency_code: String,
        /// The amount times 1000 (`150000` is 150.00); sent as a string.
        amount_1000: u64,
        /// Shown where the amount cannot be localized.
        fallback_value: String,
    },
    /// The dynamic suffix of a URL button: `{"type":"url","payload"}`.
    Url {
        /// Appended to the button's URL.
        payload: String,
    },
    /// A media header: key `image`, `video` or `document`, value `{"link"}` (+ `filename`).
    Media {
        /// Image, video or document.
        kind: MediaKind,
        /// Where Webex Connect fetches the media.
        link: MediaUrl,
        /// The file name shown for a document.
        filename: Option<String>,
    },
    /// Quick replies (key `quickReply`), at most three.
    QuickReplies(Vec<QuickReply>),
    /// A one-time passcode: `{"type":"otp","value"}`.
    Otp {
        /// The code: at most 15 characters, no spaces.
        value: String,
    },
    /// A raw value, sent exactly as it is: a shape this crate does not model yet, given with
    /// [`TemplateMessageBuilder::raw`], or read from JSON (a shape this crate does not know,
    /// or a known shape with fields it does not model).
    ///
    /// **Unchecked**: Webex Connect rejects what it does not accept.
    Unknown(Value),
}

impl PartialEq for TemplateParameter {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Unknown(a), Self::Unknown(b)) => a == b,
            // A raw value can spell a typed one; what goes on the wire is what counts.
            (Self::Unknown(raw), typed) | (typed, Self::Unknown(raw)) => {
                serde_json::to_value(typed).is_ok_and(|v| v == *raw)
            }
            (Self::Text(a), Self::Text(b))
            | (Self::Url { payload: a }, Self::Url { payload: b })
            | (Self::Otp { value: a }, Self::Otp { value: b }) => a == b,
            (
                Self::DateTime {
                    fallback_value: a,
                    timestamp: at,
                },
                Self::DateTime {
                    fallback_value: b,
                    timestamp: bt,
                },
            ) => a == b && at == bt,
            (
                Self::Currency {
                    currency_code: ac,
                    amount_1000: aa,
                    fallback_value: af,
                },
                Self::Currency {
                    currency_code: bc,
                    amount_1000: ba,
                    fallback_value: bf,
                },
            ) => ac == bc && aa == ba && af == bf,
            (
                Self::Media {
                    kind: ak,
                    link: al,
                    filename: af,
                },
                Self::Media {
                    kind: bk,
                    link: bl,
                    filename: bf,
                },
            ) => ak == bk && al == bl && af == bf,
            (Self::QuickReplies(a), Self::QuickReplies(b)) => a == b,
            _ => false,
        }
    }
}

impl TemplateParameter {
    /// A short name for the value's type: `text`, `date_time`, `currency`, `url`, `image`,
    /// `video`, `document`, `quick_reply`, `otp` or `unknown`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Text(_) => "text",
            Self::DateTime { .. } => "date_time",
            Self::Currency { .. } => "currency",
            Self::Url { .. } => "url",
            Self::Media { kind, .. } => media_key(*kind).unwrap_or("media"),
            Self::QuickReplies(_) => "quick_reply",
            Self::Otp { .. } => "otp",
            Self::Unknown(_) => "unknown",
        }
    }

    /// The text of a [`Text`](Self::Text) value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }
}

impl Serialize for TemplateParameter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(text) => serializer.serialize_str(text),
            Self::DateTime {
                fallback_value,
                timestamp,
            } => serialize_typed(
                serializer,
                "date_time",
                &[
                    ("fallback_value", fallback_value),
                    ("timestamp", &timestamp.to_string()),
                ],
            ),
            Self::Currency {
                currency_code,
                amount_1000,
                fallback_value,
            } => serialize_typed(
                serializer,
                "currency",
                &[
                    ("currency_code", currency_code),
                    ("amount_1000", &amount_1000.to_string()),
                    ("fallback_value", fallback_value),
                ],
            ),
            Self::Url { payload } => serialize_typed(serializer, "url", &[("payload", payload)]),
            Self::Media { link, filename, .. } => {
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("link", link.as_str())?;
                if let Some(filename) = filename {
                    map.serialize_entry("filename", filename)?;
                }
                map.end()
            }
            Self::QuickReplies(replies) => replies.serialize(serializer),
            Self::Otp { value } => serialize_typed(serializer, "otp", &[("value", value)]),
            Self::Unknown(raw) => raw.serialize(serializer),
        }
    }
}

/// Writes a typed parameter, `{"type": kind, ...fields}`, with every field a string (the
/// platform takes numbers such as `timestamp` as strings too).
fn serialize_typed<S: Serializer>(
    serializer: S,
    kind: &str,
    fields: &[(&str, &str)],
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(fields.len() + 1))?;
    map.serialize_entry("type", kind)?;
    for (key, value) in fields {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

fn media_key(kind: MediaKind) -> Option<&'static str> {
    match kind {
        MediaKind::Image => Some("image"),
        MediaKind::Video => Some("video"),
        MediaKind::Document => Some("document"),
        _ => None,
    }
}

fn check_name(name: &str) -> Result<(), TemplateMessageError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "it holds whitespace or a control character"
    } else if name.chars().count() > MAX_PARAMETER_NAME_CHARS {
        "it is longer than 512 characters"
    } else {
        return Ok(());
    };
    Err(TemplateMessageError::InvalidName {
        name: name.to_owned(),
        reason,
    })
}

fn check_length(name: &str, value: &str, max: usize) -> Result<(), TemplateMessageError> {
    if value.is_empty() {
        return Err(TemplateMessageError::EmptyValue {
            name: name.to_owned(),
        });
    }
    let actual = value.chars().count();
    if actual > max {
        return Err(TemplateMessageError::TooLong {
            name: name.to_owned(),
            actual,
            max,
        });
    }
    Ok(())
}

/// The send-time rules for text values: non-empty, no newline or tab, at most four
/// consecutive spaces, at most `max` characters.
fn check_text(name: &str, value: &str, max: usize) -> Result<(), TemplateMessageError> {
    check_length(name, value, max)?;
    let mut run = 0;
    for (position, c) in value.chars().enumerate() {
        if matches!(c, '\n' | '\r' | '\t') {
            return Err(TemplateMessageError::InvalidCharacter {
                name: name.to_owned(),
                found: c,
                position,
            });
        }
        run = if c == ' ' { run + 1 } else { 0 };
        if run > MAX_CONSECUTIVE_SPACES {
            return Err(TemplateMessageError::TooManySpaces {
                name: name.to_owned(),
                position: position - MAX_CONSECUTIVE_SPACES,
                max: MAX_CONSECUTIVE_SPACES,
            });
        }
    }
    Ok(())
}

/// Values that must not hold whitespace at all (OTP codes, URL suffixes).
fn check_no_whitespace(name: &str, value: &str, max: usize) -> Result<(), TemplateMessageError> {
    check_length(name, value, max)?;
    if let Some((position, found)) = value
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_whitespace() || c.is_control())
    {
        return Err(TemplateMessageError::InvalidCharacter {
            name: name.to_owned(),
            found,
            position,
        });
    }
    Ok(())
}

fn check_currency_code(name: &str, code: &str) -> Result<(), TemplateMessageError> {
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(TemplateMessageError::InvalidCurrencyCode {
            name: name.to_owned(),
            value: code.to_owned(),
        })
    }
}

fn check_quick_reply(index: usize, reply: &QuickReply) -> Result<(), TemplateMessageError> {
    check_text(
        &format!("{QUICK_REPLY_KEY}[{index}].button_text"),
        &reply.button_text,
        MAX_QUICK_REPLY_TEXT_CHARS,
    )?;
    check_length(
        &format!("{QUICK_REPLY_KEY}[{index}].payload"),
        &reply.payload,
        MAX_TEMPLATE_TEXT_VALUE_CHARS,
    )
}

/// Checks one parameter as a whole; shared by the builder and by deserialization.
fn check_parameter(name: &str, value: &TemplateParameter) -> Result<(), TemplateMessageError> {
    check_name(name)?;
    match value {
        TemplateParameter::Text(text) => check_text(name, text, MAX_TEMPLATE_TEXT_VALUE_CHARS),
        TemplateParameter::DateTime { fallback_value, .. } => {
            check_text(name, fallback_value, MAX_TEMPLATE_TEXT_VALUE_CHARS)
        }
        TemplateParameter::Currency {
            currency_code,
            amount_1000,
            fallback_value,
        } => {
            check_currency_code(name, currency_code)?;
            if *amount_1000 == 0 {
                return Err(TemplateMessageError::ZeroAmount {
                    name: name.to_owned(),
                });
            }
            check_text(name, fallback_value, MAX_TEMPLATE_TEXT_VALUE_CHARS)
        }
        TemplateParameter::Url { payload } => {
            check_no_whitespace(name, payload, MAX_URL_SUFFIX_CHARS)
        }
        TemplateParameter::Media { kind, filename, .. } => {
            if media_key(*kind) != Some(name) {
                return Err(TemplateMessageError::InvalidMediaKind { kind: *kind });
            }
            match filename {
                Some(f) => check_text(name, f, MAX_TEMPLATE_TEXT_VALUE_CHARS),
                None => Ok(()),
            }
        }
        TemplateParameter::QuickReplies(replies) => {
            if replies.is_empty() {
                return Err(TemplateMessageError::EmptyValue {
                    name: name.to_owned(),
                });
            }
            if replies.len() > MAX_QUICK_REPLIES {
                return Err(TemplateMessageError::TooManyQuickReplies {
                    actual: replies.len(),
                    max: MAX_QUICK_REPLIES,
                });
            }
            replies
                .iter()
                .enumerate()
                .try_for_each(|(i, r)| check_quick_reply(i, r))
        }
        TemplateParameter::Otp { value } => check_no_whitespace(name, value, MAX_OTP_CHARS),
        TemplateParameter::Unknown(_) => Ok(()),
    }
}

/// A checked template message; build it with [`TemplateMessage::builder`].
///
/// Parameters keep the order they were given in (and serialize in it), but equality ignores
/// the order, as for any JSON object.
#[derive(Debug, Clone)]
pub struct TemplateMessage {
    template: TemplateId,
    parameters: Vec<(String, TemplateParameter)>,
}

impl PartialEq for TemplateMessage {
    fn eq(&self, other: &Self) -> bool {
        // Names are unique, so equal lengths plus every lookup matching means equal sets.
        self.template == other.template
            && self.parameters.len() == other.parameters.len()
            && self
                .parameters
                .iter()
                .all(|(name, value)| other.parameter(name) == Some(value))
    }
}

impl TemplateMessage {
    /// Starts a message for the template with this id.
    pub fn builder(template_id: TemplateId) -> TemplateMessageBuilder {
        TemplateMessageBuilder {
            message: Self {
                template: template_id,
                parameters: Vec::new(),
            },
            error: None,
            header_size: None,
        }
    }

    /// The template id (`message.template`).
    pub fn template_id(&self) -> &TemplateId {
        &self.template
    }

    /// The parameters, in the order given.
    pub fn parameters(&self) -> &[(String, TemplateParameter)] {
        &self.parameters
    }

    /// The parameter with this name.
    pub fn parameter(&self, name: &str) -> Option<&TemplateParameter> {
        self.parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The quick replies, if any.
    pub fn quick_replies(&self) -> &[QuickReply] {
        match self.parameter(QUICK_REPLY_KEY) {
            Some(TemplateParameter::QuickReplies(replies)) => replies,
            _ => &[],
        }
    }
}

/// Builds a [`TemplateMessage`]. Each setter checks its value; the first error is returned by
/// [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct TemplateMessageBuilder {
    message: TemplateMessage,
    error: Option<TemplateMessageError>,
    header_size: Option<u64>,
}

impl TemplateMessageBuilder {
    /// Adds `value` under `name` once both are checked (`max_text` replaces the body-text
    /// limit for a text value), or keeps the error; nothing after the first error is added.
    fn push(&mut self, name: &str, value: TemplateParameter, max_text: Option<usize>) {
        if self.error.is_some() {
            return;
        }
        let checked = match (max_text, &value) {
            (Some(max), TemplateParameter::Text(text)) => {
                check_name(name).and_then(|()| check_text(name, text, max))
            }
            _ => check_parameter(name, &value),
        };
        let result = checked.and_then(|()| {
            if self.message.parameter(name).is_some() {
                Err(TemplateMessageError::DuplicateParameter {
                    name: name.to_owned(),
                })
            } else {
                Ok(())
            }
        });
        match result {
            Ok(()) => self.message.parameters.push((name.to_owned(), value)),
            Err(e) => self.error = Some(e),
        }
    }

    /// Adds a media header under its kind's key, as [`push`](Self::push) does.
    fn push_media(&mut self, kind: MediaKind, link: MediaUrl, filename: Option<String>) {
        let Some(key) = media_key(kind) else {
            self.error
                .get_or_insert(TemplateMessageError::InvalidMediaKind { kind });
            return;
        };
        self.push(
            key,
            TemplateParameter::Media {
                kind,
                link,
                filename,
            },
            None,
        );
    }

    /// Adds a quick reply to the `quickReply` list, as [`push`](Self::push) does.
    fn push_quick_reply(&mut self, reply: QuickReply) {
        if self.error.is_some() {
            return;
        }
        let existing = self
            .message
            .parameters
            .iter_mut()
            .find(|(n, _)| n == QUICK_REPLY_KEY);
        let result = match existing {
            None => {
                let value = TemplateParameter::QuickReplies(vec![reply]);
                check_parameter(QUICK_REPLY_KEY, &value).map(|()| {
                    self.message
                        .parameters
                        .push((QUICK_REPLY_KEY.to_owned(), value));
                })
            }
            Some((_, TemplateParameter::QuickReplies(replies))) => {
                let index = replies.len();
                if index >= MAX_QUICK_REPLIES {
                    Err(TemplateMessageError::TooManyQuickReplies {
                        actual: index + 1,
                        max: MAX_QUICK_REPLIES,
                    })
                } else {
                    check_quick_reply(index, &reply).map(|()| replies.push(reply))
                }
            }
            Some(_) => Err(TemplateMessageError::DuplicateParameter {
                name: QUICK_REPLY_KEY.to_owned(),
            }),
        };
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    crate::setters::setters! {
        /// Adds a body text variable: non-empty, no newline or tab, at most four consecutive
        /// spaces, at most 1024 characters.
        fn text(self, name: &str, value: impl Into<String>) =>
            self.push(name, TemplateParameter::Text(value.into()), None);

        /// Adds several body text variables, as [`TemplateMessageBuilder::text`] does for each
        /// `(name, value)` pair, in order (from a map, a config file or command-line arguments).
        ///
        /// ```
        /// use webex_connect_whatsapp::{TemplateId, TemplateMessage};
        ///
        /// let message = TemplateMessage::builder(TemplateId::new("5139722425")?)
        ///     .texts([("name", "Jane"), ("order", "1234")])
        ///     .build()?;
        /// assert_eq!(message.parameter("order").and_then(|p| p.as_text()), Some("1234"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn texts(self, pairs: impl IntoIterator<Item = (impl AsRef<str>, impl Into<String>)>) =>
            for (name, value) in pairs {
                self.push(name.as_ref(), TemplateParameter::Text(value.into()), None);
            };

        /// Adds the header text variable: the text rules, at most 60 characters.
        fn header_text(self, name: &str, value: impl Into<String>) => self.push(
            name,
            TemplateParameter::Text(value.into()),
            Some(MAX_TEMPLATE_HEADER_VALUE_CHARS),
        );

        /// Adds a date-time variable. WhatsApp takes whole seconds, so any fraction of a second
        /// in `at` is not sent.
        fn date_time(
            self,
            name: &str,
            fallback_value: impl Into<String>,
            at: OffsetDateTime,
        ) => self.push(
            name,
            TemplateParameter::DateTime {
                fallback_value: fallback_value.into(),
                timestamp: at.unix_timestamp(),
            },
            None,
        );

        /// Adds a currency variable: an ISO 4217 code, the amount times 1000 (greater than 0)
        /// and a fallback text.
        fn currency(
            self,
            name: &str,
            currency_code: impl Into<String>,
            amount_1000: u64,
            fallback_value: impl Into<String>,
        ) => self.push(
            name,
            TemplateParameter::Currency {
                currency_code: currency_code.into(),
                amount_1000,
                fallback_value: fallback_value.into(),
            },
            None,
        );

        /// Adds the dynamic suffix of a URL button (no whitespace, at most 2000 characters).
        fn url_suffix(self, name: &str, payload: impl Into<String>) => self.push(
            name,
            TemplateParameter::Url {
                payload: payload.into(),
            },
            None,
        );

        /// Adds a media header (image, video or document) by link; the key is the kind's name.
        /// The link is a [`MediaUrl`], so it is https (http only on a loopback address).
        fn media_header(self, kind: MediaKind, link: MediaUrl) =>
            self.push_media(kind, link, None);

        /// Adds a document header with the file name shown to the customer.
        fn document_header(self, link: MediaUrl, filename: impl Into<String>) =>
            self.push_media(MediaKind::Document, link, Some(filename.into()));

        /// Declares the size in bytes of the media header's file (its `Content-Length`, say), so
        /// that [`build`](Self::build) refuses a file over the kind's cap
        /// ([`MediaKind::max_bytes`]: 5 MB images, 16 MB videos, 64 MiB documents). Nothing of it
        /// is sent; without it the size is not checked.
        ///
        /// ```
        /// use webex_connect_whatsapp::media::{MediaKind, MediaUrl};
        /// use webex_connect_whatsapp::template::TemplateMessageError;
        /// use webex_connect_whatsapp::{TemplateId, TemplateMessage};
        ///
        /// let video = MediaUrl::new("https://cdn.example.com/tour.mp4")?;
        /// let e = TemplateMessage::builder(TemplateId::new("5139722425")?)
        ///     .media_header(MediaKind::Video, video)
        ///     .header_size_bytes(70_000_000)
        ///     .build()
        ///     .unwrap_err();
        /// assert!(matches!(e, TemplateMessageError::MediaTooLarge { kind: MediaKind::Video, .. }));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn header_size_bytes(self, size: u64) => self.header_size = Some(size);

        /// Adds a quick reply (sent under `quickReply`; at most three).
        fn quick_reply(self, button_text: impl Into<String>, payload: impl Into<String>) =>
            self.push_quick_reply(QuickReply {
                button_text: button_text.into(),
                payload: payload.into(),
            });

        /// Adds a raw value, sent exactly as given: the escape hatch for a parameter shape this
        /// crate does not model yet (a new `type`, or a field the typed setters do not offer).
        ///
        /// **Unchecked.** Only the name is checked (non-empty, no whitespace, given once); the
        /// value is not validated at all. Webex Connect rejects what it does not accept, at once
        /// (7004) or later in a failed delivery receipt. A template registry check
        /// ([`TemplateRegistry::check`](super::TemplateRegistry::check)) sees the value as
        /// `unknown` and refuses it for a typed slot.
        ///
        /// Reading the message back (serde, or `SendRequest::from_slice`) gives the same JSON: a
        /// value in a shape this crate models is checked as that type, and stays raw only when
        /// the typed form would drop a field.
        ///
        /// ```
        /// use serde_json::json;
        /// use webex_connect_whatsapp::{TemplateId, TemplateMessage};
        ///
        /// let message = TemplateMessage::builder(TemplateId::new("5139722425")?)
        ///     .text("name", "Ada")
        ///     .raw("where", json!({"type": "location", "latitude": "52.52", "longitude": "13.40"}))
        ///     .build()?;
        /// assert_eq!(
        ///     serde_json::to_value(&message)?["parameters"]["where"],
        ///     json!({"type": "location", "latitude": "52.52", "longitude": "13.40"})
        /// );
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn raw(self, name: &str, value: Value) =>
            self.push(name, TemplateParameter::Unknown(value), None);

        /// Adds a one-time passcode (at most 15 characters, no spaces).
        fn otp(self, name: &str, value: impl Into<String>) => self.push(
            name,
            TemplateParameter::Otp {
                value: value.into(),
            },
            None,
        );
    }

    /// Returns the message, or the first error a setter found.
    ///
    /// # Errors
    ///
    /// [`TemplateMessageError`]: a bad name or value, a name given twice, more than three
    /// quick replies, a declared header size over the kind's cap (or without a media header).
    pub fn build(self) -> Result<TemplateMessage, TemplateMessageError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if let Some(size) = self.header_size {
            check_header_size(&self.message, size)?;
        }
        Ok(self.message)
    }
}

/// Checks a declared header size against every media header of the message (a template has
/// one; the registry check refuses a second).
fn check_header_size(message: &TemplateMessage, size: u64) -> Result<(), TemplateMessageError> {
    let mut kinds = message
        .parameters
        .iter()
        .filter_map(|(_, value)| match value {
            TemplateParameter::Media { kind, .. } => Some(*kind),
            _ => None,
        })
        .peekable();
    if kinds.peek().is_none() {
        return Err(TemplateMessageError::SizeWithoutMediaHeader);
    }
    for kind in kinds {
        if size == 0 {
            return Err(TemplateMessageError::EmptyMedia { kind });
        }
        if size > kind.max_bytes() {
            return Err(TemplateMessageError::MediaTooLarge {
                kind,
                size,
                max: kind.max_bytes(),
            });
        }
    }
    Ok(())
}

impl Serialize for TemplateMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Parameters<'a>(&'a [(String, TemplateParameter)]);
        impl Serialize for Parameters<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (name, value) in self.0 {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("template", &self.template)?;
        map.serialize_entry("parameters", &Parameters(&self.parameters))?;
        map.end()
    }
}

/// The `parameters` object read in document order, duplicates refused.
struct OrderedParameters(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedParameters {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedParameters;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of template parameters")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut out: Vec<(String, Value)> = Vec::new();
                while let Some((name, value)) = access.next_entry::<String, Value>()? {
                    if out.iter().any(|(n, _)| *n == name) {
                        return Err(de::Error::custom(
                            TemplateMessageError::DuplicateParameter { name },
                        ));
                    }
                    out.push((name, value));
                }
                Ok(OrderedParameters(out))
            }
        }
        deserializer.deserialize_map(V)
    }
}

#[derive(Deserialize)]
struct MessageWire {
    template: TemplateId,
    #[serde(default)]
    parameters: Option<OrderedParameters>,
}

fn malformed(name: &str, kind: &str, reason: impl Into<String>) -> TemplateMessageError {
    TemplateMessageError::Malformed {
        name: name.to_owned(),
        kind: kind.to_owned(),
        reason: reason.into(),
    }
}

fn take_string(
    map: &Map<String, Value>,
    name: &str,
    kind: &str,
    field: &str,
) -> Result<String, TemplateMessageError> {
    match map.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(malformed(
            name,
            kind,
            format!("{field} must be a string, got {other}"),
        )),
        None => Err(malformed(name, kind, format!("{field} is missing"))),
    }
}

/// Reads an integer sent as a string (`"150000"`), as the reference does, or as a number.
fn take_integer<T: std::str::FromStr + TryFrom<i64> + TryFrom<u64>>(
    map: &Map<String, Value>,
    name: &str,
    kind: &str,
    field: &str,
) -> Result<T, TemplateMessageError> {
    let bad = || malformed(name, kind, format!("{field} must be a whole number"));
    match map.get(field) {
        Some(Value::String(s)) => s.parse().map_err(|_| bad()),
        Some(Value::Number(n)) => {
            if let Some(u) = n.as_u64() {
                T::try_from(u).map_err(|_| bad())
            } else if let Some(i) = n.as_i64() {
                T::try_from(i).map_err(|_| bad())
            } else {
                Err(bad())
            }
        }
        Some(_) => Err(bad()),
        None => Err(malformed(name, kind, format!("{field} is missing"))),
    }
}

/// Classifies one wire value; known shapes are checked, anything else is kept raw, and so is a
/// known shape whose typed form would drop one of its fields.
fn read_parameter(name: &str, value: Value) -> Result<TemplateParameter, TemplateMessageError> {
    let parameter = classify_parameter(name, value.clone())?;
    if !matches!(parameter, TemplateParameter::Unknown(_))
        && serde_json::to_value(&parameter)
            .is_ok_and(|typed| crate::lossless::drops_fields(&value, &typed))
    {
        return Ok(TemplateParameter::Unknown(value));
    }
    Ok(parameter)
}

fn classify_parameter(name: &str, value: Value) -> Result<TemplateParameter, TemplateMessageError> {
    let parameter = match value {
        Value::String(text) => TemplateParameter::Text(text),
        Value::Array(items) if name == QUICK_REPLY_KEY => {
            let mut replies = Vec::with_capacity(items.len());
            for item in &items {
                let Value::Object(map) = item else {
                    return Err(malformed(
                        name,
                        "quickReply",
                        "each entry must be an object",
                    ));
                };
                replies.push(QuickReply {
                    button_text: take_string(map, name, "quickReply", "button_text")?,
                    payload: take_string(map, name, "quickReply", "payload")?,
                });
            }
            TemplateParameter::QuickReplies(replies)
        }
        Value::Object(map) => match map.get("type").and_then(Value::as_str) {
            Some(kind @ "date_time") => TemplateParameter::DateTime {
                fallback_value: take_string(&map, name, kind, "fallback_value")?,
                timestamp: take_integer(&map, name, kind, "timestamp")?,
            },
            Some(kind @ "currency") => TemplateParameter::Currency {
                currency_code: take_string(&map, name, kind, "currency_code")?,
                amount_1000: take_integer(&map, name, kind, "amount_1000")?,
                fallback_value: take_string(&map, name, kind, "fallback_value")?,
            },
            Some(kind @ "url") => TemplateParameter::Url {
                payload: take_string(&map, name, kind, "payload")?,
            },
            Some(kind @ "otp") => TemplateParameter::Otp {
                value: take_string(&map, name, kind, "value")?,
            },
            None if map.contains_key("link") => {
                let kind = match name {
                    "image" => MediaKind::Image,
                    "video" => MediaKind::Video,
                    "document" => MediaKind::Document,
                    _ => return Ok(TemplateParameter::Unknown(Value::Object(map))),
                };
                let link = take_string(&map, name, name, "link")?;
                let link = MediaUrl::new(&link).map_err(|source| {
                    TemplateMessageError::InvalidMediaLink {
                        name: name.to_owned(),
                        link: link.clone(),
                        source,
                    }
                })?;
                let filename = match map.get("filename") {
                    None | Some(Value::Null) => None,
                    Some(_) => Some(take_string(&map, name, name, "filename")?),
                };
                TemplateParameter::Media {
                    kind,
                    link,
                    filename,
                }
            }
            _ => TemplateParameter::Unknown(Value::Object(map)),
        },
        other => TemplateParameter::Unknown(other),
    };
    check_parameter(name, &parameter)?;
    Ok(parameter)
}

impl<'de> Deserialize<'de> for TemplateMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = MessageWire::deserialize(deserializer)?;
        let mut parameters = Vec::new();
        for (name, value) in wire.parameters.map(|p| p.0).unwrap_or_default() {
            let parameter = read_parameter(&name, value)
                .map_err(|e| de::Error::custom(crate::error_text::with_sources(&e)))?;
            parameters.push((name, parameter));
        }
        Ok(Self {
            template: wire.template,
            parameters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id() -> TemplateId {
        TemplateId::new("5139722425xxxxx").unwrap()
    }

    #[test]
    fn text_rules() {
        let err = |v: &str| {
            TemplateMessage::builder(id())
                .text("v", v)
                .build()
                .unwrap_err()
        };
        assert!(matches!(err(""), TemplateMessageError::EmptyValue { .. }));
        assert!(matches!(
            err("a\nb"),
            TemplateMessageError::InvalidCharacter {
                found: '\n',
                position: 1,
                ..
            }
        ));
        assert!(matches!(
            err("a     b"),
            TemplateMessageError::TooManySpaces { position: 1, .. }
        ));
        assert!(
            TemplateMessage::builder(id())
                .text("v", "a    b")
                .build()
                .is_ok()
        );
        assert!(
            TemplateMessage::builder(id())
                .text("v", "é".repeat(1024))
                .build()
                .is_ok()
        );
        assert!(matches!(
            err(&"é".repeat(1025)),
            TemplateMessageError::TooLong {
                actual: 1025,
                max: 1024,
                ..
            }
        ));
    }

    #[test]
    fn duplicates_are_errors() {
        let err = TemplateMessage::builder(id())
            .text("movie", "a")
            .text("movie", "b")
            .build()
            .unwrap_err();
        assert_eq!(
            err,
            TemplateMessageError::DuplicateParameter {
                name: "movie".into()
            }
        );
        let json = r#"{"template":"1","parameters":{"a":"x","a":"y"}}"#;
        assert!(serde_json::from_str::<TemplateMessage>(json).is_err());
    }

    #[test]
    fn unknown_shapes_are_kept() {
        let raw = json!({"template":"1","parameters":{"n":5,"x":{"type":"new","v":1},"y":{"a":1}}});
        let m: TemplateMessage = serde_json::from_value(raw.clone()).unwrap();
        assert!(matches!(
            m.parameter("n"),
            Some(TemplateParameter::Unknown(_))
        ));
        assert_eq!(serde_json::to_value(&m).unwrap(), raw);
    }
}
