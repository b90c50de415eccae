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
/// assert!(matches!(webhook::parse(b"[1]"), Err(WebhookError::NotAnObject { .. })));
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
    /// An authentic event this crate does not model (a reaction, a link click,
    /// `user_id_update`, typing, or a kind added later), kept raw so it is never lost.
    Unknown(UnknownEvent),
}

/// A webhook event the crate cannot type, handed over raw: [`parse`] returns it for any JSON
/// object that is neither a delivery receipt nor an inbound `MO`/`postback` message, so a
/// receiver never refuses (and so never loses) an authentic event it does not know.
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
#[derive(Clone, PartialEq)]
pub struct UnknownEvent {
    raw: Box<str>,
    event: Option<String>,
}

impl UnknownEvent {
    /// Wraps a body that is a JSON object; `event` is its `event` field, when a string.
    fn from_object(raw: &str) -> Self {
        let event = match raw_value(raw) {
            Value::Object(map) => match map.get("event") {
                Some(Value::String(e)) if !e.is_empty() => Some(e.clone()),
                _ => None,
            },
            _ => None,
        };
        Self {
            raw: raw.into(),
            event,
        }
    }

    /// The `event` name, when the body has one (`reaction`, `user_id_update`, ...).
    pub fn event(&self) -> Option<&str> {
        self.event.as_deref()
    }

    /// The body exactly as received.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The body as a JSON value.
    pub fn value(&self) -> Value {
        raw_value(&self.raw)
    }

    /// The value at a JSON Pointer (RFC 6901), e.g. `/waid`.
    pub fn pointer(&self, pointer: &str) -> Option<Value> {
        raw_value(&self.raw).pointer(pointer).cloned()
    }
}

impl std::fmt::Debug for UnknownEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body may hold personal data; its kind and size are enough for logs.
        f.debug_struct("UnknownEvent")
            .field("event", &self.event)
            .field("bytes", &self.raw.len())
            .finish_non_exhaustive()
    }
}

impl Serialize for UnknownEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_raw(&self.raw, serializer)
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
            Self::Unknown(u) => u.raw(),
        }
    }
}

impl Serialize for WebhookEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::DeliveryReceipt(r) => r.serialize(serializer),
            Self::Inbound(m) => m.serialize(serializer),
            Self::Unknown(u) => u.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for WebhookEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        parse(value.to_string().as_bytes()).map_err(de::Error::custom)
    }
}

/// Parses a webhook body into a delivery receipt, an inbound message, or an unknown event.
///
/// A body with a `deliveryInfoNotification` object is a receipt; a body whose `event` is `MO`
/// or `postback` (any letter case) with a `waid` or `userId` is an inbound message. Any other
/// JSON object is [`WebhookEvent::Unknown`], kept raw: an authentic event is never refused
/// for being new. Unknown fields are accepted and kept.
///
/// ```
/// use webex_connect_whatsapp::webhook::{self, WebhookEvent};
///
/// let body = std::fs::read("tests/fixtures/delivery_failed_7710.json")?;
/// let WebhookEvent::DeliveryReceipt(receipt) = webhook::parse(&body)? else { unreachable!() };
/// assert_eq!(receipt.code().as_str(), "7710");
/// assert_eq!(receipt.correlation_id(), Some("123456789"));
/// assert!(matches!(webhook::parse(br#"{"event":"user_id_update"}"#)?, WebhookEvent::Unknown(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// Only for a body that is not a JSON object (a receiver answers 400 to those):
/// - [`WebhookError::NotJson`]: the bytes are not UTF-8 JSON.
/// - [`WebhookError::NotAnObject`]: the JSON is not an object.
pub fn parse(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let text = body_str(body)?;
    match parse_typed(text) {
        Ok(event) => Ok(event),
        Err(error @ (WebhookError::NotJson { .. } | WebhookError::NotAnObject { .. })) => {
            // The typed reader may refuse a JSON object it cannot type (a repeated key, say);
            // a plain read tells those apart from bodies that are not objects at all.
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(_)) => Ok(WebhookEvent::Unknown(UnknownEvent::from_object(text))),
                _ => Err(error),
            }
        }
        Err(_) => Ok(WebhookEvent::Unknown(UnknownEvent::from_object(text))),
    }
}

/// The typed classification: a receipt, an inbound message, or why it is neither.
fn parse_typed(text: &str) -> Result<WebhookEvent, WebhookError> {
    let mut wire = Wire::default();
    read_wire(text, &mut wire, false)?;
    if let Some(notification) = wire.notification.as_mut() {
        return Ok(WebhookEvent::DeliveryReceipt(DeliveryReceipt::from_wire(
            text,
            notification,
        )));
    }
    let event = wire
        .top
        .get(inbound::EVENT)
        .and_then(Option::as_ref)
        .map(|e| InboundEvent::from_wire(e.get(text)));
    match event {
        Some(event @ (InboundEvent::Mo | InboundEvent::Postback)) => Ok(WebhookEvent::Inbound(
            InboundMessage::from_wire(text, event, &mut wire.top)?,
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

/// Reads a body into `wire` in one pass with `serde_json`, sorting its errors into syntax and
/// shape problems. With `receipt_only`, the top level reads just `deliveryInfoNotification`.
pub(crate) fn read_wire(
    text: &str,
    wire: &mut Wire,
    receipt_only: bool,
) -> Result<(), WebhookError> {
    read_pass(text, wire, receipt_only, true).or_else(|_| {
        // The fast pass decodes escaped strings strictly; anything it refuses is read again
        // the lenient way, so errors and edge cases (lone surrogates) stay as they were.
        *wire = Wire::default();
        read_pass(text, wire, receipt_only, false)
    })
}

/// One pass of [`read_wire`]; `fast` hands escape-free and escaped strings over directly
/// instead of through their raw text.
fn read_pass(
    text: &str,
    wire: &mut Wire,
    receipt_only: bool,
    fast: bool,
) -> Result<(), WebhookError> {
    let mut de = serde_json::Deserializer::from_str(text);
    de::DeserializeSeed::deserialize(
        TopSeed {
            body: text,
            wire,
            receipt_only,
            fast,
        },
        &mut de,
    )
    .and_then(|()| de.end())
    .map_err(|e| classify(text, &e))
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

/// Keys of the top level that the inbound model reads (and so are not "extra"), in the order
/// an array-shaped body fills them (after `deliveryInfoNotification`); the `inbound::*` slot
/// numbers index this list.
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

/// Number of inbound fields read from the top level.
pub(crate) const INBOUND_FIELDS: usize = 20;

/// The known fields of a body, filled in place by one pass of the JSON parser.
///
/// Hand-written rather than derived: serde's derive builds a large borrowed struct and moves it
/// (and every `Option` inside it) around several times, which cost more than the parse itself.
/// Here each value is written once, straight into its slot, as a [`Text`] position in the body.
#[derive(Default)]
pub(crate) struct Wire {
    /// Inbound fields, indexed like [`INBOUND_KEYS`]; `""` is kept (as an empty text) so the
    /// models can tell "empty" from "absent" where it matters.
    pub(crate) top: [Option<Text>; INBOUND_FIELDS],
    /// The `deliveryInfoNotification` object, when present and not `null`.
    pub(crate) notification: Option<delivery::WireNotification>,
}

/// How a value is kept.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// A string's content (unescaped); other JSON as its text.
    Text,
    /// The JSON text itself, quotes included (for JSON encoded in a string); `""` is `None`.
    Literal,
}

/// What a key of a level means.
#[derive(Clone, Copy)]
pub(crate) enum Key {
    /// A field read as a value, with its slot, wire name and kind.
    Field(usize, &'static str, Kind),
    /// A nested object (`deliveryInfoNotification`, `deliveryInfo`).
    Object(&'static str),
    /// Anything else: skipped, and left in the raw body.
    Unknown,
}

fn top_key(key: &str) -> Key {
    use inbound as i;
    let field = |slot, name| Key::Field(slot, name, Kind::Text);
    match key {
        "deliveryInfoNotification" => Key::Object("deliveryInfoNotification"),
        "userId" => field(i::USER_ID, "userId"),
        "username" => field(i::USERNAME, "username"),
        "channel" => field(i::CHANNEL, "channel"),
        "appId" => field(i::APP_ID, "appId"),
        "event" => field(i::EVENT, "event"),
        "waid" => field(i::WAID, "waid"),
        "message" => field(i::MESSAGE, "message"),
        "attachments" => Key::Field(i::ATTACHMENTS, "attachments", Kind::Literal),
        "contacts" => Key::Field(i::CONTACTS, "contacts", Kind::Literal),
        "location" => Key::Field(i::LOCATION, "location", Kind::Literal),
        "system" => field(i::SYSTEM, "system"),
        "ts" => field(i::TS, "ts"),
        "datetime" => field(i::DATETIME, "datetime"),
        "tid" => field(i::TID, "tid"),
        "transid" => field(i::TRANSID, "transid"),
        "identityKeyHash" => field(i::IDENTITY_KEY_HASH, "identityKeyHash"),
        "errors" => field(i::ERRORS, "errors"),
        "buttonText" => field(i::BUTTON_TEXT, "buttonText"),
        "buttonPayload" => field(i::BUTTON_PAYLOAD, "buttonPayload"),
        "clientUUID" => field(i::CLIENT_UUID, "clientUUID"),
        _ => Key::Unknown,
    }
}

/// The kind of an inbound slot (for array-shaped bodies, where there is no key).
fn inbound_kind(slot: usize) -> Kind {
    match slot {
        inbound::ATTACHMENTS | inbound::CONTACTS | inbound::LOCATION => Kind::Literal,
        _ => Kind::Text,
    }
}

/// Reads a key, keeping the slice of the body it came from when it had no escapes (so the
/// position of its value is known).
pub(crate) struct KeySeed(pub(crate) fn(&str) -> Key);

impl<'de> de::DeserializeSeed<'de> for KeySeed {
    type Value = (Key, Option<&'de str>);
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> de::Visitor<'de> for KeySeed {
    type Value = (Key, Option<&'de str>);
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field identifier")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(((self.0)(v), Some(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(((self.0)(v), None))
    }
}

/// Reads one value into a slot: an escape-free string as a position in the body, other values
/// through their raw JSON text.
pub(crate) struct ValueSeed<'de> {
    pub(crate) body: &'de str,
    pub(crate) kind: Kind,
    /// The key of this value, when borrowed from the body and in the fast pass: a string
    /// value is then read directly (strictly decoded), anything else through its raw text.
    pub(crate) key: Option<&'de str>,
}

impl<'de> de::DeserializeSeed<'de> for ValueSeed<'de> {
    type Value = Option<Text>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        if let (Kind::Text, Some(key)) = (self.kind, self.key)
            && string_follows(self.body, key)
        {
            return deserializer
                .deserialize_str(StringValue { body: self.body })
                .map(Some);
        }
        let literal = Option::<&'de RawValue>::deserialize(deserializer)?;
        Ok(literal.and_then(|raw| from_literal(self.body, raw.get(), self.kind)))
    }
}

/// Whether the value after `key` (the content of a key borrowed from `body`) is a string.
fn string_follows(body: &str, key: &str) -> bool {
    let Some(after_key) = key
        .as_ptr()
        .addr()
        .checked_sub(body.as_ptr().addr())
        .and_then(|start| start.checked_add(key.len())?.checked_add(1))
    else {
        return false;
    };
    let mut colon = false;
    for byte in body.as_bytes().get(after_key..).unwrap_or_default() {
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b':' if !colon => colon = true,
            b'"' => return colon,
            _ => return false,
        }
    }
    false
}

/// Keeps a value from its JSON text (the slow path: non-strings, escaped keys, arrays).
fn from_literal(body: &str, literal: &str, kind: Kind) -> Option<Text> {
    match kind {
        Kind::Text => Some(match unescape(literal) {
            Cow::Borrowed(s) => Text::span(body, s),
            Cow::Owned(s) => Text::Owned(s.into()),
        }),
        Kind::Literal => (literal != "\"\"").then(|| Text::span(body, literal)),
    }
}

/// A string value without escapes, borrowed from `body`.
struct StringValue<'de> {
    body: &'de str,
}

impl<'de> de::Visitor<'de> for StringValue<'de> {
    type Value = Text;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text, E> {
        Ok(Text::span(self.body, v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text::Owned(v.into()))
    }
}

/// Reads a value into `slots[slot]`, refusing a key seen before (as serde's derive does).
pub(crate) fn read_slot<'de, A: de::MapAccess<'de>>(
    map: &mut A,
    body: &'de str,
    slots: &mut [Option<Text>],
    seen: &mut u32,
    (slot, name, kind): (usize, &'static str, Kind),
    key: Option<&'de str>,
) -> Result<(), A::Error> {
    mark_seen(seen, slot, name)?;
    let value = map.next_value_seed(ValueSeed { body, kind, key })?;
    if let Some(target) = slots.get_mut(slot) {
        *target = value;
    }
    Ok(())
}

/// Records that field number `bit` was read; an error if it already was.
pub(crate) fn mark_seen<E: de::Error>(
    seen: &mut u32,
    bit: usize,
    name: &'static str,
) -> Result<(), E> {
    let mask = 1_u32
        .checked_shl(u32::try_from(bit).unwrap_or(u32::MAX))
        .unwrap_or(0);
    if *seen & mask != 0 {
        return Err(E::duplicate_field(name));
    }
    *seen |= mask;
    Ok(())
}

/// Reads slots in order from an array-shaped value (serde's derive accepts those for structs),
/// stopping when the array ends.
pub(crate) fn read_seq_slots<'de, A: de::SeqAccess<'de>>(
    seq: &mut A,
    body: &'de str,
    slots: &mut [Option<Text>],
    kind: impl Fn(usize) -> Kind,
) -> Result<(), A::Error> {
    for (slot, target) in slots.iter_mut().enumerate() {
        match seq.next_element_seed(ValueSeed {
            body,
            kind: kind(slot),
            key: None,
        })? {
            Some(value) => *target = value,
            None => break,
        }
    }
    Ok(())
}

/// The top level of a body.
struct TopSeed<'w, 'de> {
    body: &'de str,
    wire: &'w mut Wire,
    receipt_only: bool,
    fast: bool,
}

/// Slot number of `deliveryInfoNotification` in the top level's seen-set.
const NOTIFICATION_BIT: usize = INBOUND_FIELDS;

impl<'de> de::DeserializeSeed<'de> for TopSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_struct("WireBody", &[], self)
    }
}

impl<'de> de::Visitor<'de> for TopSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.receipt_only {
            "struct Wrapper"
        } else {
            "struct WireBody"
        })
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = 0_u32;
        while let Some((key, borrowed)) = map.next_key_seed(KeySeed(top_key))? {
            match key {
                Key::Object(name) => {
                    mark_seen(&mut seen, NOTIFICATION_BIT, name)?;
                    map.next_value_seed(delivery::NotificationSeed {
                        body: self.body,
                        slot: &mut self.wire.notification,
                        fast: self.fast,
                    })?;
                }
                Key::Field(slot, name, kind) if !self.receipt_only => read_slot(
                    &mut map,
                    self.body,
                    &mut self.wire.top,
                    &mut seen,
                    (slot, name, kind),
                    borrowed.filter(|_| self.fast),
                )?,
                Key::Field(..) | Key::Unknown => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let notification = seq.next_element_seed(delivery::NotificationSeed {
            body: self.body,
            slot: &mut self.wire.notification,
            fast: self.fast,
        })?;
        if self.receipt_only {
            return match notification {
                Some(()) => Ok(()),
                None => Err(de::Error::invalid_length(
                    0,
                    &"struct Wrapper with 1 element",
                )),
            };
        }
        if notification.is_some() {
            read_seq_slots(&mut seq, self.body, &mut self.wire.top, inbound_kind)?;
        }
        Ok(())
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
    /// Empty strings become `None`, as the platform sends `""` for "not set".
    pub(crate) fn non_empty(self) -> Option<Self> {
        match &self {
            Self::Span(start, end) if start == end => None,
            Self::Owned(s) if s.is_empty() => None,
            _ => Some(self),
        }
    }

    /// The position of `s` inside `body` (it is a slice of it), or a copy if it is not.
    fn span(body: &str, s: &str) -> Self {
        let start = s.as_ptr().addr().wrapping_sub(body.as_ptr().addr());
        match start.checked_add(s.len()) {
            Some(end) if body.get(start..end).is_some() => Self::Span(start, end),
            _ => Self::Owned(s.into()),
        }
    }

    /// The text as an owned string, reusing the copy when there is one.
    pub(crate) fn into_string(self, raw: &str) -> String {
        match self {
            Self::Span(..) => self.get(raw).to_owned(),
            Self::Owned(s) => s.into(),
        }
    }

    pub(crate) fn get<'s>(&'s self, raw: &'s str) -> &'s str {
        match self {
            Self::Span(start, end) => raw.get(*start..*end).unwrap_or_default(),
            Self::Owned(s) => s,
        }
    }
}

/// Takes the value out of a slot.
pub(crate) fn take(slots: &mut [Option<Text>], slot: usize) -> Option<Text> {
    slots.get_mut(slot).and_then(Option::take)
}

/// Takes a string field out of a slot; `""` becomes `None`.
pub(crate) fn take_text(slots: &mut [Option<Text>], slot: usize) -> Option<Text> {
    take(slots, slot).and_then(Text::non_empty)
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
