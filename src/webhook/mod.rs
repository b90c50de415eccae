//! Webhook parsing: delivery receipts and inbound messages, plus signature checks.
//!
//! Webex Connect POSTs two kinds of JSON to your webhook: delivery receipts
//! (`deliveryInfoNotification`, see [`DeliveryReceipt`]) and inbound messages or button replies
//! (a flat body with `"event": "MO"` or `"postback"`, see [`InboundMessage`]). [`parse`] tells
//! them apart in one pass and never panics, whatever the bytes.
//!
//! ```
//! use webex_connect_whatsapp::webhook::{self, DeliveryStatus, WebhookEvent};
//!
//! let body = br#"{"deliveryInfoNotification":{"deliveryInfo":{"deliveryStatus":"Read",
//!     "code":"7502","destination":"9199xxxxxxxx"},"transid":"5c9f6594"}}"#;
//! match webhook::parse(body)? {
//!     WebhookEvent::DeliveryReceipt(r) => {
//!         assert_eq!(r.status(), &DeliveryStatus::Read);
//!         assert_eq!(r.transaction_id().map(|t| t.as_str()), Some("5c9f6594"));
//!     }
//!     WebhookEvent::Inbound(m) => println!("message from {}", m.waid()),
//!     _ => {}
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Design
//!
//! The models keep the body exactly as received ([`DeliveryReceipt::raw`]) and read the known
//! fields straight out of it: a string without escapes is stored as a position in that copy, so
//! parsing costs one copy of the body and almost no further allocation. Fields the crate does
//! not know stay reachable through `extra()` and `pointer()`, and serializing a model writes the
//! body back, unknown fields included. Values that arrive as JSON encoded inside a string
//! (`attachments`, `location`, `contacts`) and timestamps are decoded only when you ask, so a
//! malformed one never fails the whole parse: its accessor returns the error instead, and the
//! raw text stays available.

use std::borrow::Cow;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub mod delivery;
pub mod inbound;
pub mod signature;

pub use delivery::{
    DeliveryCode, DeliveryReceipt, DeliveryReceiptBuilder, DeliveryStatus, Retryability,
};
pub use inbound::{Attachment, InboundEvent, InboundMessage, InboundMessageBuilder, Location};
pub use signature::{SignatureAlgorithm, SignatureError, WebhookSecret};

/// Why a webhook body (or a value inside it) could not be read.
///
/// ```
/// use webex_connect_whatsapp::webhook::{self, WebhookError};
///
/// assert!(matches!(webhook::parse(b"not json"), Err(WebhookError::NotJson { .. })));
/// assert!(matches!(
///     webhook::parse(br#"{"event":"reaction","waid":"1"}"#),
///     Err(WebhookError::UnknownEvent { .. })
/// ));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The body is not JSON (or not UTF-8, which JSON requires).
    #[error("webhook body is not valid JSON: {reason}")]
    NotJson {
        /// What the JSON parser reported, with line and column.
        reason: String,
    },
    /// The body is JSON, but not an object.
    #[error("webhook body is a JSON {found}, but a JSON object is expected")]
    NotAnObject {
        /// The JSON type found: "array", "string", "number", "boolean" or "null".
        found: &'static str,
    },
    /// A known field holds a value of a shape the crate cannot read (for example,
    /// `deliveryInfo` is a string, or a key appears twice).
    #[error("webhook body has an unexpected shape: {reason}")]
    UnexpectedShape {
        /// What the JSON parser reported, with line and column.
        reason: String,
    },
    /// The body is neither a delivery receipt nor an inbound `MO`/`postback` event.
    #[error(
        "webhook body is neither a delivery receipt nor an inbound message: {}; \
         expected a \"deliveryInfoNotification\" object or an \"event\" of \"MO\" or \"postback\"",
        match event { Some(e) => format!("\"event\" is {e:?}"), None => "it has no \"event\"".to_owned() }
    )]
    UnknownEvent {
        /// The `event` value, when there was one.
        event: Option<String>,
    },
    /// A field the model cannot do without is absent or empty.
    #[error("{what} has no `{field}` field (or it is empty)")]
    MissingField {
        /// The kind of payload, e.g. "inbound message".
        what: &'static str,
        /// The wire name of the field.
        field: &'static str,
    },
    /// A value encoded as JSON inside a string (`attachments`, `location`, `contacts`) could not
    /// be decoded.
    #[error("`{field}` does not hold valid {expected}: {reason}")]
    InvalidEmbeddedJson {
        /// The wire name of the field.
        field: &'static str,
        /// What the field should hold.
        expected: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A location value was out of range when building one.
    #[error("{field} is {value}, but it must be a finite number from {min} to {max}")]
    InvalidCoordinate {
        /// "latitude" or "longitude".
        field: &'static str,
        /// The value given.
        value: f64,
        /// The lowest allowed value.
        min: f64,
        /// The highest allowed value.
        max: f64,
    },
}

/// One parsed webhook call.
///
/// Marked `#[non_exhaustive]`: new kinds of events may be added, so keep a `_` arm.
///
/// Serializing writes the body back in its wire shape (see [`DeliveryReceipt`] and
/// [`InboundMessage`]); deserializing runs the same classification as [`parse`].
///
/// ```
/// use webex_connect_whatsapp::webhook::{self, WebhookEvent};
///
/// let event = webhook::parse(br#"{"event":"MO","waid":"9199xxxxxxxx","message":"Hello"}"#)?;
/// let WebhookEvent::Inbound(message) = event else { unreachable!() };
/// assert_eq!(message.text(), Some("Hello"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WebhookEvent {
    /// A delivery receipt (`deliveryInfoNotification`) for a message you sent.
    DeliveryReceipt(DeliveryReceipt),
    /// A message (`MO`) or button reply (`postback`) from a WhatsApp user.
    Inbound(InboundMessage),
}

impl WebhookEvent {
    /// The body exactly as received (or as built).
    ///
    /// ```
    /// use webex_connect_whatsapp::webhook;
    /// let body = r#"{"event":"MO","waid":"1"}"#;
    /// assert_eq!(webhook::parse(body.as_bytes())?.raw(), body);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn raw(&self) -> &str {
        match self {
            Self::DeliveryReceipt(r) => r.raw(),
            Self::Inbound(m) => m.raw(),
        }
    }
}

impl Serialize for WebhookEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::DeliveryReceipt(r) => r.serialize(serializer),
            Self::Inbound(m) => m.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for WebhookEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        parse(value.to_string().as_bytes()).map_err(de::Error::custom)
    }
}

/// Parses a webhook body into a delivery receipt or an inbound message.
///
/// A body with a `deliveryInfoNotification` object is a receipt; a body whose `event` is `MO`
/// or `postback` (any letter case) is an inbound message. Unknown fields are accepted and kept.
///
/// ```
/// use webex_connect_whatsapp::webhook::{self, WebhookEvent};
///
/// let body = std::fs::read("tests/fixtures/delivery_failed_7710.json")?;
/// let WebhookEvent::DeliveryReceipt(receipt) = webhook::parse(&body)? else { unreachable!() };
/// assert_eq!(receipt.code().as_str(), "7710");
/// assert_eq!(receipt.correlation_id(), Some("123456789"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// - [`WebhookError::NotJson`]: the bytes are not UTF-8 JSON.
/// - [`WebhookError::NotAnObject`]: the JSON is not an object.
/// - [`WebhookError::UnexpectedShape`]: a known object field (`deliveryInfoNotification`,
///   `deliveryInfo`) is not an object, or a key is repeated.
/// - [`WebhookError::UnknownEvent`]: neither a receipt nor an `MO`/`postback` event (a receiver
///   answers 400).
/// - [`WebhookError::MissingField`]: an inbound message without `waid`.
pub fn parse(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let text = body_str(body)?;
    let wire: WireBody<'_> = from_str(text)?;
    if let Some(notification) = wire.notification {
        return Ok(WebhookEvent::DeliveryReceipt(DeliveryReceipt::from_wire(
            text,
            &notification,
        )));
    }
    let event = wire
        .event
        .as_ref()
        .map(|e| InboundEvent::from_wire(&e.as_str()));
    match event {
        Some(InboundEvent::Mo | InboundEvent::Postback) => Ok(WebhookEvent::Inbound(
            InboundMessage::from_wire(text, &wire)?,
        )),
        other => Err(WebhookError::UnknownEvent {
            event: other.map(|e| e.as_str().to_owned()),
        }),
    }
}

/// Checks the body is UTF-8 before parsing: JSON must be, and it lets the parser borrow strings.
pub(crate) fn body_str(body: &[u8]) -> Result<&str, WebhookError> {
    std::str::from_utf8(body).map_err(|e| WebhookError::NotJson {
        reason: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
    })
}

/// Parses with `serde_json`, sorting its errors into syntax and shape problems.
pub(crate) fn from_str<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, WebhookError> {
    serde_json::from_str(text).map_err(|e| classify(text, &e))
}

fn classify(text: &str, error: &serde_json::Error) -> WebhookError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Data => match text.trim_start().bytes().next() {
            Some(b'{') | None => WebhookError::UnexpectedShape {
                reason: error.to_string(),
            },
            Some(b'[') => WebhookError::NotAnObject { found: "array" },
            Some(b'"') => WebhookError::NotAnObject { found: "string" },
            Some(b't' | b'f') => WebhookError::NotAnObject { found: "boolean" },
            Some(b'n') => WebhookError::NotAnObject { found: "null" },
            Some(_) => WebhookError::NotAnObject { found: "number" },
        },
        Category::Io | Category::Syntax | Category::Eof => WebhookError::NotJson {
            reason: error.to_string(),
        },
    }
}

/// The top level of any webhook body: the receipt wrapper and the flat inbound fields.
///
/// Read in a single pass; unknown keys are skipped by serde and stay in the raw body.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct WireBody<'a> {
    #[serde(rename = "deliveryInfoNotification", borrow)]
    pub(crate) notification: Option<delivery::WireNotification<'a>>,
    #[serde(rename = "userId", borrow)]
    pub(crate) user_id: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) username: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) channel: Option<Field<'a>>,
    #[serde(rename = "appId", borrow)]
    pub(crate) app_id: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) event: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) waid: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) message: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) attachments: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) contacts: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) location: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) system: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) ts: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) datetime: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) tid: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) transid: Option<Field<'a>>,
    #[serde(rename = "identityKeyHash", borrow)]
    pub(crate) identity_key_hash: Option<Field<'a>>,
    #[serde(borrow)]
    pub(crate) errors: Option<Field<'a>>,
    #[serde(rename = "buttonText", borrow)]
    pub(crate) button_text: Option<Field<'a>>,
    #[serde(rename = "buttonPayload", borrow)]
    pub(crate) button_payload: Option<Field<'a>>,
    #[serde(rename = "clientUUID", borrow)]
    pub(crate) client_uuid: Option<Field<'a>>,
}

/// Keys of the top level that [`WireBody`] reads (and so are not "extra").
pub(crate) const INBOUND_KEYS: &[&str] = &[
    "userId",
    "username",
    "channel",
    "appId",
    "event",
    "waid",
    "message",
    "attachments",
    "contacts",
    "location",
    "system",
    "ts",
    "datetime",
    "tid",
    "transid",
    "identityKeyHash",
    "errors",
    "buttonText",
    "buttonPayload",
    "clientUUID",
];

/// A leaf value as read from the body: its JSON text, borrowed, not yet unescaped.
///
/// Any JSON type is accepted, so a provider that starts sending a number or an object where a
/// string was expected does not break parsing: non-strings are kept as their JSON text.
/// Skipping a value this way costs what skipping an ignored value costs.
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct Field<'a>(#[serde(borrow)] &'a RawValue);

impl<'a> Field<'a> {
    /// The JSON text of the value, e.g. `"abc"` with its quotes, or `12`.
    fn literal(&self) -> &'a str {
        self.0.get()
    }

    /// The value as text: a string unescaped, anything else as its JSON text.
    pub(crate) fn as_str(&self) -> Cow<'a, str> {
        unescape(self.literal())
    }
}

/// A JSON string literal's content (unescaped), or other JSON text as it is.
pub(crate) fn unescape(literal: &str) -> Cow<'_, str> {
    match string_content(literal) {
        Some(inner) if !inner.contains('\\') => Cow::Borrowed(inner),
        Some(_) => {
            serde_json::from_str::<String>(literal).map_or(Cow::Borrowed(literal), Cow::Owned)
        }
        None => Cow::Borrowed(literal),
    }
}

/// The text between the quotes of a JSON string literal (`None` for other JSON).
fn string_content(literal: &str) -> Option<&str> {
    literal.strip_prefix('"')?.strip_suffix('"')
}

/// Decodes JSON that arrives encoded inside a JSON string (or, leniently, as plain JSON).
pub(crate) fn decode_embedded<T: serde::de::DeserializeOwned>(
    literal: &str,
) -> Result<T, serde_json::Error> {
    if literal.starts_with('"') {
        let inner: String = serde_json::from_str(literal)?;
        serde_json::from_str(&inner)
    } else {
        serde_json::from_str(literal)
    }
}

/// A string field of a parsed model: a byte range of the kept body, or its own copy when the
/// wire form had escapes (or was not a string).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Text {
    Span(usize, usize),
    Owned(Box<str>),
}

impl Text {
    /// Converts a parsed field to its text; empty strings become `None`, as the platform
    /// sends `""` for "not set".
    pub(crate) fn from_field(body: &str, field: Option<&Field<'_>>) -> Option<Self> {
        match field?.as_str() {
            Cow::Borrowed("") => None,
            Cow::Borrowed(s) => Some(Self::span(body, s)),
            Cow::Owned(s) if s.is_empty() => None,
            Cow::Owned(s) => Some(Self::Owned(s.into())),
        }
    }

    /// Keeps a field's JSON text undecoded (for JSON encoded in a string, decoded on demand);
    /// `""` and `null` become `None`.
    pub(crate) fn literal_from_field(body: &str, field: Option<&Field<'_>>) -> Option<Self> {
        let literal = field?.literal();
        (literal != "\"\"").then(|| Self::span(body, literal))
    }

    /// The position of `s` inside `body` (it is a slice of it), or a copy if it is not.
    fn span(body: &str, s: &str) -> Self {
        let start = s.as_ptr().addr().wrapping_sub(body.as_ptr().addr());
        match start.checked_add(s.len()) {
            Some(end) if body.get(start..end).is_some() => Self::Span(start, end),
            _ => Self::Owned(s.into()),
        }
    }

    pub(crate) fn get<'s>(&'s self, raw: &'s str) -> &'s str {
        match self {
            Self::Span(start, end) => raw.get(*start..*end).unwrap_or_default(),
            Self::Owned(s) => s,
        }
    }
}

/// Reads a string field of a model.
pub(crate) fn text<'s>(raw: &'s str, field: Option<&'s Text>) -> Option<&'s str> {
    field.map(|t| t.get(raw))
}

/// Parses an RFC 3339 timestamp, e.g. `2019-03-04T09:49:21.157Z` or `…+05:30`.
pub(crate) fn parse_timestamp(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value.trim(), &Rfc3339).ok()
}

/// Formats a timestamp the way Webex Connect does: milliseconds, `Z` for UTC, else `+hh:mm`.
pub(crate) fn format_timestamp(at: OffsetDateTime) -> String {
    let (oh, om, _) = at.offset().as_hms();
    let offset = if at.offset().is_utc() {
        "Z".to_owned()
    } else {
        let sign = if oh < 0 || om < 0 { '-' } else { '+' };
        format!("{sign}{:02}:{:02}", oh.unsigned_abs(), om.unsigned_abs())
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{offset}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// Parses the kept body again, for on-demand access to fields the models do not read.
pub(crate) fn raw_value(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or(Value::Null)
}

/// Escapes a key for use in a JSON Pointer (RFC 6901).
fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Collects the members of `object` whose keys are not in `known`, keyed by JSON Pointer.
pub(crate) fn collect_extra(
    prefix: &str,
    object: Option<&Map<String, Value>>,
    known: &[&str],
    out: &mut Map<String, Value>,
) {
    for (key, value) in object.into_iter().flatten() {
        if !known.contains(&key.as_str()) {
            out.insert(format!("{prefix}/{}", pointer_token(key)), value.clone());
        }
    }
}

/// Serializes a model by writing its kept body back, unknown fields included.
pub(crate) fn serialize_raw<S: serde::Serializer>(
    raw: &str,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let value: Value = serde_json::from_str(raw).map_err(serde::ser::Error::custom)?;
    value.serialize(serializer)
}

/// Writes a JSON object with members in the given order (`serde_json`'s map sorts keys, and
/// the builders reproduce the FAQ's order). Values are JSON texts already.
pub(crate) fn ordered_object(members: &[(&str, String)]) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json_string(key));
        out.push(':');
        out.push_str(value);
    }
    out.push('}');
    out
}

/// A string as JSON text (quoted and escaped).
pub(crate) fn json_string(value: &str) -> String {
    Value::from(value).to_string()
}
