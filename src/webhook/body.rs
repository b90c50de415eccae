//! The body a webhook model keeps: every model holds the body exactly as received and reads
//! its fields out of it, compares two bodies as JSON, writes the body back when serialized,
//! and keeps the `x-wx-gtrid` header beside it. The builders and the sandbox write bodies in
//! the platform's shape with [`ordered_object`].

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::WebhookError;
use super::wire::slot::Text;

/// The `x-wx-gtrid` HTTP header's value kept beside an event. It came with the request, not
/// in the body, so it takes no part in the event's equality (always equal) and is not
/// serialized.
#[derive(Clone, Default)]
pub(crate) struct HeaderGtrid(pub(super) Option<Box<str>>);

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

/// The members of a kept body that its model does not read, keyed by JSON Pointer: `levels`
/// names each object the model reads by its pointer (`""` for the root) beside the keys it
/// reads there.
pub(crate) fn extra_fields(raw: &str, levels: &[(&str, &[&str])]) -> Map<String, Value> {
    let root = raw_value(raw);
    let mut out = Map::new();
    for (pointer, known) in levels {
        let object = root.pointer(pointer).and_then(Value::as_object);
        for (key, value) in object.into_iter().flatten() {
            if !known.contains(&key.as_str()) {
                out.insert(format!("{pointer}/{}", pointer_token(key)), value.clone());
            }
        }
    }
    out
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
