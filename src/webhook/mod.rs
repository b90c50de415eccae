//! Webhook parsing: delivery receipts, inbound messages, any other event, and signature checks.
//!
//! Webex Connect POSTs JSON objects to your webhook: delivery receipts
//! (`deliveryInfoNotification`, see [`DeliveryReceipt`]), inbound messages and button replies
//! (a flat body with `"event": "MO"` or `"postback"`, see [`InboundMessage`]), and events this
//! crate does not model (reactions, link clicks, `user_id_update`, typing, kinds added later,
//! see [`UnknownEvent`]). [`parse`] tells them apart in one pass and never panics, whatever the
//! bytes. It refuses only a body that is not a JSON object: Webex Connect never retries a
//! refused (4xx) call, so refusing an authentic event would lose it for good.
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
//!     // A username user has no `waid`, only a business-scoped user id.
//!     WebhookEvent::Inbound(m) => println!("message from {:?}", m.reply_to()),
//!     WebhookEvent::Unknown(e) => println!("{:?} event, kept raw", e.event()),
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
//! raw text stays available. A body that cannot be typed (an unknown `event`, a repeated key,
//! a known field of an unexpected shape, an inbound message naming no sender) is not an error
//! either: it becomes [`WebhookEvent::Unknown`].
//!
//! Bodies in the usual shape (an object whose keys have no escapes, each known key once) are
//! read by a hand-written single pass that validates the JSON as strictly as `serde_json` and
//! costs little more than validating it; the BSUID of an inbound message is also checked only
//! when asked for. Any other body is read by `serde_json`, which decides what it is and
//! words the errors, and an unknown event in an odd shape costs one more linear pass that
//! builds nothing but the `event` name.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Writes accessors for string fields of a model that keeps its body: `fn name => field`
/// reads `field` (a [`Text`] position) out of `raw`. Each keeps its own doc comment.
macro_rules! text_getters {
    ($( $(#[$attr:meta])* fn $name:ident => $field:ident; )*) => {
        $(
            $(#[$attr])*
            pub fn $name(&self) -> Option<&str> {
                $crate::webhook::text(&self.raw, self.$field.as_ref())
            }
        )*
    };
}

/// For a wire enum with `as_str` and an infallible reader (`from_wire`, `from_code`): `FromStr`
/// (never fails), `Display` and serde as the wire string. Three enums share these four impls.
macro_rules! wire_string_impls {
    ($ty:ident, $read:ident) => {
        impl std::str::FromStr for $ty {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::$read(s))
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <std::borrow::Cow<'de, str> as serde::Deserialize<'de>>::deserialize(
                    deserializer,
                )?;
                Ok(Self::$read(&value))
            }
        }
    };
}

/// For a model that keeps its body (`raw`) and reads it with `from_slice`: equal when the
/// bodies hold the same JSON, serialized as the body, deserialized through the typed reader.
macro_rules! kept_body_impls {
    ($ty:ident) => {
        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                $crate::webhook::same_json(&self.raw, &other.raw)
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $crate::webhook::serialize_raw(&self.raw, serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value =
                    <serde_json::Value as serde::Deserialize<'de>>::deserialize(deserializer)?;
                Self::from_slice(value.to_string().as_bytes()).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub mod click;
pub mod delivery;
pub mod inbound;
pub mod signature;
mod wire;

pub use click::ClickEvent;
pub use delivery::{
    DeliveryCode, DeliveryReceipt, DeliveryReceiptBuilder, DeliveryStatus, Retryability,
};
pub use inbound::{
    Attachment, InboundEvent, InboundMessage, InboundMessageBuilder, SharedLocation,
};
pub use signature::{SignatureAlgorithm, SignatureError, WebhookSecret};
pub(crate) use wire::{
    INBOUND_KEYS, Key, KeySeed, Kind, SlotReader, Text, Wire, read_seq_slots, read_wire, take,
    take_text, take_transaction_id, unescape,
};

/// Why a webhook body (or a value inside it) could not be read.
///
/// [`parse`] returns only [`WebhookError::NotJson`] and [`WebhookError::NotAnObject`]: any
/// JSON object is an event, typed or [`WebhookEvent::Unknown`]. The other variants come from
/// the typed readers ([`DeliveryReceipt::from_slice`], [`InboundMessage::from_slice`]), the
/// accessors that decode embedded JSON, and the builders.
///
/// ```
/// use webex_connect_whatsapp::webhook::{self, WebhookError};
///
/// assert!(matches!(webhook::parse(b"not json"), Err(WebhookError::NotJson { .. })));
/// assert!(matches!(webhook::parse(b"[1]"), Err(WebhookError::NotAnObject { .. })));
/// assert!(webhook::parse(br#"{"event":"reaction"}"#).is_ok());
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
    /// `deliveryInfo` is a string, or a key appears twice). Returned by the typed readers;
    /// [`parse`] hands such a body over as [`WebhookEvent::Unknown`] instead.
    #[error("webhook body has an unexpected shape: {reason}")]
    UnexpectedShape {
        /// What the JSON parser reported, with line and column.
        reason: String,
    },
    /// An inbound message names no sender: `waid`, `userId` and `bsuid` are all absent or
    /// empty. Returned by [`InboundMessage::from_slice`]; [`parse`] hands such a body over as
    /// [`WebhookEvent::Unknown`] instead.
    #[error(
        "inbound message names no sender: `waid`, `userId` and `bsuid` are all absent or empty; \
         expected a WhatsApp id in `waid` or a business-scoped user id in `userId`"
    )]
    NoSender,
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
    /// A recipient opened a tracked link (see [`ClickEvent`]; its shape is UNVERIFIED).
    Click(ClickEvent),
    /// An authentic event this crate does not model (a reaction, `user_id_update`, typing,
    /// or a kind added later), kept raw so it is never lost.
    Unknown(UnknownEvent),
}

/// A webhook event the crate cannot type, handed over raw: [`parse`] returns it for any JSON
/// object that is neither a delivery receipt nor an inbound `MO`/`postback` message naming its
/// sender, so a receiver never refuses (and so never loses) an authentic event it does not know.
///
/// That covers reactions, link clicks, `user_id_update`, typing and any kind added later, and
/// also bodies of a known kind in a shape the crate cannot read: a repeated key, a
/// `deliveryInfoNotification` that is not an object, an `MO` with neither `waid` nor `userId`.
/// [`Self::raw`] is the body byte for byte; [`Self::event`] names its kind.
///
/// ```
/// use webex_connect_whatsapp::webhook::{self, WebhookEvent};
///
/// let body = br#"{"event":"reaction","waid":"9199xxxxxxxx","emoji":"+1"}"#;
/// let WebhookEvent::Unknown(event) = webhook::parse(body)? else { unreachable!() };
/// assert_eq!(event.event(), Some("reaction"));
/// assert_eq!(event.pointer("/waid"), Some(serde_json::json!("9199xxxxxxxx")));
/// assert_eq!(event.raw(), std::str::from_utf8(body)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct UnknownEvent {
    raw: Box<str>,
    event: Option<String>,
    /// The top-level `x-wx-gtrid` string, read in the same scan as `event`.
    gtrid: Option<String>,
    header_gtrid: HeaderGtrid,
}

impl UnknownEvent {
    /// Wraps any JSON object as an unknown event, whatever it holds (even a receipt or an
    /// inbound message): for tests and simulators that inject events the crate does not type.
    /// Use [`parse`] to classify a body.
    ///
    /// ```
    /// use webex_connect_whatsapp::webhook::UnknownEvent;
    ///
    /// let e = UnknownEvent::from_slice(br#"{"event":"typing","userId":"US.1349"}"#)?;
    /// assert_eq!(e.event(), Some("typing"));
    /// assert!(UnknownEvent::from_slice(b"[]").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`WebhookError::NotJson`] or [`WebhookError::NotAnObject`], as for [`parse`].
    pub fn from_slice(body: &[u8]) -> Result<Self, WebhookError> {
        Self::scan(body_str(body)?)
    }

    /// Checks `text` is one JSON object and keeps it, with its `event` name and `x-wx-gtrid`.
    fn scan(text: &str) -> Result<Self, WebhookError> {
        let Scanned { event, gtrid } = scan_object(text)?;
        Ok(Self::new(text, event, gtrid))
    }

    /// Keeps `text`, already known to be one JSON object, with its `event` name and its
    /// body's `x-wx-gtrid`.
    fn new(text: &str, event: Option<String>, gtrid: Option<String>) -> Self {
        Self {
            event,
            gtrid,
            raw: text.into(),
            header_gtrid: HeaderGtrid::default(),
        }
    }

    /// The global transaction id: the body's top-level `x-wx-gtrid` string, else the
    /// `x-wx-gtrid` HTTP header that came with the event (set by
    /// [`Receiver::check`](crate::receiver::Receiver::check); see
    /// [`WebhookEvent::gtrid`] for which wins and why).
    ///
    /// ```
    /// use webex_connect_whatsapp::webhook::UnknownEvent;
    /// let e = UnknownEvent::from_slice(br#"{"event":"typing","x-wx-gtrid":"g-7"}"#)?;
    /// assert_eq!(e.gtrid(), Some("g-7"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn gtrid(&self) -> Option<&str> {
        self.gtrid.as_deref().or_else(|| self.header_gtrid.get())
    }

    /// The `event` name, when the body has a non-empty string there (`reaction`,
    /// `user_id_update`, `MO`, ...); when the key repeats, the last one, as JSON readers
    /// usually do. `None` for bodies with no `event`, such as a malformed receipt.
    ///
    /// ```
    /// use webex_connect_whatsapp::webhook::UnknownEvent;
    /// assert_eq!(UnknownEvent::from_slice(br#"{"event":"user_id_update"}"#)?.event(), Some("user_id_update"));
    /// assert_eq!(UnknownEvent::from_slice(br#"{"event":7}"#)?.event(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn event(&self) -> Option<&str> {
        self.event.as_deref()
    }

    /// The body exactly as received.
    ///
    /// ```
    /// use webex_connect_whatsapp::webhook::UnknownEvent;
    /// let body = r#"{ "event" : "clicked", "a":1, "a":2 }"#;
    /// assert_eq!(UnknownEvent::from_slice(body.as_bytes())?.raw(), body);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The body as a JSON value (parsed again on each call). `Null` in the rare case the body
    /// is valid JSON that [`serde_json::Value`] cannot hold (nesting deeper than 128 levels, a
    /// number beyond `f64`, an unpaired surrogate escape); [`Self::raw`] still has it.
    ///
    /// ```
    /// use webex_connect_whatsapp::webhook::UnknownEvent;
    /// let e = UnknownEvent::from_slice(br#"{"event":"typing","on":true}"#)?;
    /// assert_eq!(e.value()["on"], true);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn value(&self) -> Value {
        raw_value(&self.raw)
    }

    /// The value at a JSON Pointer (RFC 6901), e.g. `/waid` (parses the body again).
    ///
    /// ```
    /// use webex_connect_whatsapp::webhook::UnknownEvent;
    /// let e = UnknownEvent::from_slice(br#"{"event":"clicked","link":{"url":"https://e.com"}}"#)?;
    /// assert_eq!(e.pointer("/link/url"), Some("https://e.com".into()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pointer(&self, pointer: &str) -> Option<Value> {
        raw_value(&self.raw).pointer(pointer).cloned()
    }
}

impl std::fmt::Debug for UnknownEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body may hold personal data; its kind and size are enough for logs.
        f.debug_struct("UnknownEvent")
            .field("event", &self.event)
            .field("gtrid", &self.gtrid())
            .field("bytes", &self.raw.len())
            .finish_non_exhaustive()
    }
}

/// Two unknown events are equal when their bodies hold the same JSON.
impl PartialEq for UnknownEvent {
    fn eq(&self, other: &Self) -> bool {
        same_json(&self.raw, &other.raw)
    }
}

impl Serialize for UnknownEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_raw(&self.raw, serializer)
    }
}

/// Accepts any JSON object.
impl<'de> Deserialize<'de> for UnknownEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::scan(&value.to_string()).map_err(de::Error::custom)
    }
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
            Self::Click(c) => c.raw(),
            Self::Unknown(u) => u.raw(),
        }
    }

    /// The global transaction id (`x-wx-gtrid`) of any kind of event: the body's top-level
    /// `x-wx-gtrid`, else the `x-wx-gtrid` HTTP header that came with it.
    ///
    /// Cisco's docs say the id arrives as an HTTP header on webhooks, not only in the body.
    /// [`Receiver::check`](crate::receiver::Receiver::check) (and so `receive` and the axum
    /// router) keeps the header's value with the event it returns; a body parsed on its own
    /// has only the body's. When both are present **the body wins**: the body is covered by
    /// the `x-hub-signature`, a header is not (a proxy may add or rewrite one). Whether the
    /// platform ever sends two different values is UNVERIFIED.
    ///
    /// The header's value is not part of the event's body: it takes no part in equality and
    /// is not written when the event is serialized.
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::Receiver;
    /// use webex_connect_whatsapp::webhook;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let body = br#"{"event":"MO","waid":"919900012345","message":"hi","tid":"x_0"}"#;
    /// assert_eq!(webhook::parse(body)?.gtrid(), None);
    ///
    /// let receiver = Receiver::builder().allow_unsigned().build()?;
    /// let received = receiver.receive([("X-WX-GTRID", "6f1c0b2a")], body).await?;
    /// assert_eq!(received.event().gtrid(), Some("6f1c0b2a"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn gtrid(&self) -> Option<&str> {
        match self {
            Self::DeliveryReceipt(r) => r.gtrid(),
            Self::Inbound(m) => m.gtrid(),
            Self::Click(c) => c.gtrid(),
            Self::Unknown(u) => u.gtrid(),
        }
    }

    /// Keeps the `x-wx-gtrid` header's value (already checked by the receiver) with the
    /// event.
    pub(crate) fn set_header_gtrid(&mut self, gtrid: Box<str>) {
        let slot = match self {
            Self::DeliveryReceipt(r) => &mut r.header_gtrid,
            Self::Inbound(m) => &mut m.header_gtrid,
            Self::Click(c) => &mut c.header_gtrid,
            Self::Unknown(u) => &mut u.header_gtrid,
        };
        *slot = HeaderGtrid(Some(gtrid));
    }
}

/// The `x-wx-gtrid` HTTP header's value kept beside an event. It came with the request, not
/// in the body, so it takes no part in the event's equality (always equal) and is not
/// serialized.
#[derive(Clone, Default)]
pub(crate) struct HeaderGtrid(Option<Box<str>>);

impl HeaderGtrid {
    pub(crate) fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl PartialEq for HeaderGtrid {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Serialize for WebhookEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::DeliveryReceipt(r) => r.serialize(serializer),
            Self::Inbound(m) => m.serialize(serializer),
            Self::Click(c) => c.serialize(serializer),
            Self::Unknown(u) => u.serialize(serializer),
        }
    }
}

/// Runs [`parse`] on the value: any JSON object deserializes, an unknown one as
/// [`WebhookEvent::Unknown`].
impl<'de> Deserialize<'de> for WebhookEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        parse(value.to_string().as_bytes()).map_err(de::Error::custom)
    }
}

/// Parses a webhook body into a delivery receipt, an inbound message, or an unknown event.
///
/// - A body with a `deliveryInfoNotification` object is a [`WebhookEvent::DeliveryReceipt`].
/// - A body whose `event` is `MO` or `postback` (any letter case) and that names its sender
///   (a `waid`, a `userId`, or a `bsuid`) is a [`WebhookEvent::Inbound`].
/// - A link click, a receipt whose `deliveryStatus` or a body whose `event` names a click, is
///   a [`WebhookEvent::Click`] (UNVERIFIED shape; see [`ClickEvent`]).
/// - Any other JSON object is a [`WebhookEvent::Unknown`], kept byte for byte: a reaction,
///   `user_id_update`, typing, a kind added later, a body with no `event`, and
///   bodies of a known kind that the typed readers refuse (a repeated key, a
///   `deliveryInfoNotification` that is not an object, an `MO` with no sender). An authentic
///   event is never refused for being new or odd.
///
/// Unknown fields are accepted and kept. A body costs one pass over it, and one more for an
/// object the typed reader refuses (a repeated key, say), which builds nothing but the
/// `event` name: the time grows linearly with the body's size.
///
/// ```
/// use webex_connect_whatsapp::webhook::{self, WebhookEvent};
///
/// let body = std::fs::read("tests/fixtures/delivery_failed_7710.json")?;
/// let WebhookEvent::DeliveryReceipt(receipt) = webhook::parse(&body)? else { unreachable!() };
/// assert_eq!(receipt.code().as_str(), "7710");
/// assert_eq!(receipt.correlation_id(), Some("123456789"));
///
/// let body = br#"{"event":"user_id_update","waid":"9199xxxxxxxx"}"#;
/// let WebhookEvent::Unknown(event) = webhook::parse(body)? else { unreachable!() };
/// assert_eq!(event.event(), Some("user_id_update"));
/// assert_eq!(event.raw().as_bytes(), body);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// Only for a body that is not a JSON object (a receiver answers 400 to those):
/// - [`WebhookError::NotJson`]: the bytes are not UTF-8 JSON (or hold more than one value).
/// - [`WebhookError::NotAnObject`]: the JSON is an array, a string, a number, a boolean or
///   `null`.
pub fn parse(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let text = body_str(body)?;
    // The typed reader also takes array-shaped bodies (as serde's derive does); `parse` wants
    // an object, so anything else goes to the scan, which says what it is.
    if text.trim_start_matches(JSON_WHITESPACE).starts_with('{') {
        let mut wire = Wire::default();
        if read_wire(text, &mut wire, false).is_ok() {
            return Ok(classify(text, &mut wire));
        }
    }
    // Not an object, or one the typed reader refuses (a repeated key, say): one more pass
    // checks it is JSON and finds its `event`.
    let unknown = UnknownEvent::scan(text)?;
    Ok(unknown_or_click(text, unknown))
}

/// The whitespace JSON allows between tokens.
const JSON_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// What a JSON object read by the typed reader is: a receipt, an inbound message naming its
/// sender, a click, or an unknown event. The reader has checked the body is one JSON object,
/// so an unknown event is kept without reading the body again.
fn classify(text: &str, wire: &mut Wire) -> WebhookEvent {
    if let Some(notification) = wire.notification.as_mut() {
        let receipt = DeliveryReceipt::from_wire(text, notification);
        if let DeliveryStatus::Unknown(status) = receipt.status()
            && click::names_a_click(status)
        {
            return WebhookEvent::Click(ClickEvent::from_raw(text));
        }
        return WebhookEvent::DeliveryReceipt(receipt);
    }
    if let Some(event) = wire.top.get(inbound::EVENT).and_then(Option::as_ref)
        && let Some(event) = InboundEvent::known(event.get(text))
        && let Ok(message) = InboundMessage::from_wire(text, event, &mut wire.top)
    {
        return WebhookEvent::Inbound(message);
    }
    // The `event` and `x-wx-gtrid` as `scan_object` reads them: non-empty JSON strings (a key
    // cannot repeat here). The inbound reader leaves both slots in place when it finds no
    // sender, before it takes any.
    let string = |slot: usize| {
        wire.top
            .get(slot)
            .and_then(Option::as_ref)
            .and_then(|e| e.json_string(text))
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
    };
    let unknown = UnknownEvent::new(text, string(inbound::EVENT), string(inbound::GTRID));
    unknown_or_click(text, unknown)
}

/// An unknown event, or a click when its `event` names one.
fn unknown_or_click(text: &str, unknown: UnknownEvent) -> WebhookEvent {
    if unknown.event().is_some_and(click::names_a_click) {
        return WebhookEvent::Click(ClickEvent::from_raw(text));
    }
    WebhookEvent::Unknown(unknown)
}

/// The top-level strings [`scan_object`] reads.
#[derive(Default)]
struct Scanned {
    event: Option<String>,
    gtrid: Option<String>,
}

/// Checks that `text` is exactly one JSON object and reads its top-level `event` and
/// `x-wx-gtrid` strings.
///
/// Every other value is skipped with [`de::IgnoredAny`], which validates it without building
/// it (and without `Value`'s limits on depth and number range): one linear pass, whatever the
/// size or shape of the body.
fn scan_object(text: &str) -> Result<Scanned, WebhookError> {
    if !text.trim_start_matches(JSON_WHITESPACE).starts_with('{') {
        return Err(refusal(text));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de::Deserializer::deserialize_map(&mut de, ObjectScan)
        .and_then(|event| de.end().map(|()| event))
        .map_err(|e| WebhookError::NotJson {
            reason: e.to_string(),
        })
}

/// Why a body that does not start with `{` is refused: not JSON at all, or JSON of which type.
fn refusal(text: &str) -> WebhookError {
    if let Err(e) = serde_json::from_str::<de::IgnoredAny>(text) {
        return WebhookError::NotJson {
            reason: e.to_string(),
        };
    }
    let found = match text.trim_start_matches(JSON_WHITESPACE).bytes().next() {
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    };
    WebhookError::NotAnObject { found }
}

/// Visits the top-level object for [`scan_object`].
struct ObjectScan;

impl<'de> de::Visitor<'de> for ObjectScan {
    type Value = Scanned;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut scanned = Scanned::default();
        while let Some(key) = map.next_key_seed(ScanKeySeed)? {
            let slot = match key {
                ScanKey::Event => &mut scanned.event,
                ScanKey::Gtrid => &mut scanned.gtrid,
                ScanKey::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                    continue;
                }
            };
            let value: &'de RawValue = map.next_value()?;
            // A non-string (or undecodable) value names nothing; when a key repeats, the
            // last one counts, as JSON readers usually do.
            *slot = serde_json::from_str::<String>(value.get())
                .ok()
                .filter(|e| !e.is_empty());
        }
        Ok(scanned)
    }
}

/// A top-level key as [`ObjectScan`] sees it.
#[derive(Clone, Copy)]
enum ScanKey {
    Event,
    Gtrid,
    Other,
}

/// Reads a key as `event`, `x-wx-gtrid` or another, so no key is copied.
struct ScanKeySeed;

impl<'de> de::DeserializeSeed<'de> for ScanKeySeed {
    type Value = ScanKey;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ScanKey, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl de::Visitor<'_> for ScanKeySeed {
    type Value = ScanKey;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field identifier")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ScanKey, E> {
        Ok(match v {
            "event" => ScanKey::Event,
            "x-wx-gtrid" => ScanKey::Gtrid,
            _ => ScanKey::Other,
        })
    }
}

/// Checks the body is UTF-8 before parsing: JSON must be, and it lets the parser borrow strings.
pub(crate) fn body_str(body: &[u8]) -> Result<&str, WebhookError> {
    std::str::from_utf8(body).map_err(|e| WebhookError::NotJson {
        reason: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
    })
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

/// Whether two kept bodies hold the same JSON: the same bytes, or equal values. Bodies that
/// `Value` cannot hold compare by bytes only, so two different ones never look equal.
pub(crate) fn same_json(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (serde_json::from_str::<Value>(a), serde_json::from_str::<Value>(b)),
            (Ok(x), Ok(y)) if x == y
        )
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
    match serde_json::from_str::<Value>(raw) {
        Ok(value) => value.serialize(serializer),
        // Valid JSON that `Value` cannot hold (nesting deeper than 128, a number beyond f64,
        // an unpaired surrogate) is written as it is: exact for serde_json, which is what
        // webhook bodies are written with.
        Err(_) => RawValue::from_string(raw.to_owned())
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer),
    }
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
