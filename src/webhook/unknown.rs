//! Events the crate does not type, kept raw ([`UnknownEvent`]), and the one pass that checks a
//! body is a JSON object and reads its `event` and `x-wx-gtrid` without building anything else.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::body::{HeaderGtrid, body_str, raw_value, same_json, serialize_raw};
use super::error::WebhookError;

/// A webhook event the crate cannot type, handed over raw: [`parse`](super::parse) returns it
/// for any JSON object that is neither a delivery receipt nor an inbound `MO`/`postback`
/// message naming its sender, so a receiver never refuses (and so never loses) an authentic
/// event it does not know.
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
    pub(super) header_gtrid: HeaderGtrid,
}

impl UnknownEvent {
    /// Wraps any JSON object as an unknown event, whatever it holds (even a receipt or an
    /// inbound message): for tests and simulators that inject events the crate does not type.
    /// Use [`parse`](super::parse) to classify a body.
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
    /// [`WebhookError::NotJson`] or [`WebhookError::NotAnObject`], as for [`parse`](super::parse).
    pub fn from_slice(body: &[u8]) -> Result<Self, WebhookError> {
        Self::scan(body_str(body)?)
    }

    /// Checks `text` is one JSON object and keeps it, with its `event` name and `x-wx-gtrid`.
    pub(super) fn scan(text: &str) -> Result<Self, WebhookError> {
        let Scanned { event, gtrid } = scan_object(text)?;
        Ok(Self::new(text, event, gtrid))
    }

    /// Keeps `text`, already known to be one JSON object, with its `event` name and its
    /// body's `x-wx-gtrid`.
    pub(super) fn new(text: &str, event: Option<String>, gtrid: Option<String>) -> Self {
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
    /// [`WebhookEvent::gtrid`](super::WebhookEvent::gtrid) for which wins and why).
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

/// The whitespace JSON allows between tokens.
pub(super) const JSON_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

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
