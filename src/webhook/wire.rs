//! The one-pass reader behind [`super::parse`] and the typed `from_slice` readers: it walks a
//! body once with `serde_json` and writes each known value straight into a slot, as a position
//! in the kept body where it can.
//!
//! Kept apart from `mod.rs` so the public face of the module (events, errors, `parse`) reads
//! on its own; the receipt's nested levels are read by `delivery`, with the helpers here.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::value::RawValue;

use super::{WebhookError, delivery, inbound};

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
    })?;
    if let Some(notification) = wire.notification.as_mut() {
        notification.keep_top(&mut wire.top);
    }
    Ok(())
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
    "bsuid",
    "userHandle",
    "x-wx-gtrid",
];

/// Number of inbound fields read from the top level.
pub(crate) const INBOUND_FIELDS: usize = 23;

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
        "bsuid" => field(i::BSUID, "bsuid"),
        "userHandle" => field(i::USER_HANDLE, "userHandle"),
        "x-wx-gtrid" => field(i::GTRID, "x-wx-gtrid"),
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

/// What one level of a body is read into: its slots, the keys seen so far (a key seen twice is
/// refused, as serde's derive does) and whether values may borrow from the body. The levels'
/// visitors share it rather than pass the same four values to every read.
pub(crate) struct SlotReader<'s, 'de> {
    body: &'de str,
    slots: &'s mut [Option<Text>],
    seen: u32,
    fast: bool,
}

impl<'s, 'de> SlotReader<'s, 'de> {
    pub(crate) fn new(body: &'de str, slots: &'s mut [Option<Text>], fast: bool) -> Self {
        Self {
            body,
            slots,
            seen: 0,
            fast,
        }
    }

    /// Records that the field at `bit` (a nested level, say) was read; an error if it was.
    pub(crate) fn mark_seen<E: de::Error>(
        &mut self,
        bit: usize,
        name: &'static str,
    ) -> Result<(), E> {
        mark_seen(&mut self.seen, bit, name)
    }

    /// Reads a value into `slots[slot]`, borrowing `key` from the body when reading fast.
    pub(crate) fn read<A: de::MapAccess<'de>>(
        &mut self,
        map: &mut A,
        (slot, name, kind): (usize, &'static str, Kind),
        key: Option<&'de str>,
    ) -> Result<(), A::Error> {
        mark_seen(&mut self.seen, slot, name)?;
        let key = key.filter(|_| self.fast);
        let value = map.next_value_seed(ValueSeed {
            body: self.body,
            kind,
            key,
        })?;
        if let Some(target) = self.slots.get_mut(slot) {
            *target = value;
        }
        Ok(())
    }
}

/// Records that field number `bit` was read; an error if it already was.
fn mark_seen<E: de::Error>(seen: &mut u32, bit: usize, name: &'static str) -> Result<(), E> {
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

/// The top-level fields a receipt reads beside `deliveryInfoNotification` (siblings that other
/// pipes add, reference §6 and §13).
const RECEIPT_TOP_SLOTS: [usize; 3] = [inbound::BSUID, inbound::USER_HANDLE, inbound::GTRID];

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
        let mut top = SlotReader::new(self.body, &mut self.wire.top, self.fast);
        while let Some((key, borrowed)) = map.next_key_seed(KeySeed(top_key))? {
            match key {
                Key::Object(name) => {
                    top.mark_seen(NOTIFICATION_BIT, name)?;
                    map.next_value_seed(delivery::NotificationSeed {
                        body: self.body,
                        slot: &mut self.wire.notification,
                        fast: self.fast,
                    })?;
                }
                Key::Field(slot, name, kind)
                    if !self.receipt_only || RECEIPT_TOP_SLOTS.contains(&slot) =>
                {
                    top.read(&mut map, (slot, name, kind), borrowed)?;
                }
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

/// Takes a `transid` out of a slot as an owned id, so receipts and inbound messages both hand
/// it back as `&TransactionId`; `""` becomes `None`.
pub(crate) fn take_transaction_id(
    slots: &mut [Option<Text>],
    slot: usize,
    raw: &str,
) -> Option<crate::ids::TransactionId> {
    take_text(slots, slot).map(|t| crate::ids::TransactionId::from(t.into_string(raw)))
}
