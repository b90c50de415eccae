//! The one-pass reader behind [`super::parse`] and the typed `from_slice` readers: it walks a
//! body once and writes each known value straight into a slot, as a position in the kept body
//! where it can. Two readers fill the same slots: the hand-written [`scan`] for bodies in the
//! usual shape, and `serde_json` for any other (its errors are the ones callers see). The
//! tests below hold them to the same result.
//!
//! Kept apart from `mod.rs` so the public face of the module (events, errors, `parse`) reads
//! on its own; the receipt's nested levels are read by `delivery`, with the helpers here.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::value::RawValue;

use super::{WebhookError, delivery, inbound};

mod scan;
pub(crate) use scan::{Cursor, read_level};

/// Reads a body into `wire` in one pass. With `receipt_only`, the top level reads just
/// `deliveryInfoNotification` and the fields a receipt takes beside it.
///
/// A body in the usual shape is read by the hand-written [`scan`]ner; any other (an escaped
/// key, a repeated key, an array, invalid JSON...) is read by `serde_json`, whose errors sort
/// into syntax and shape problems. Both write the same slots, so which one ran never shows.
pub(crate) fn read_wire(
    text: &str,
    wire: &mut Wire,
    receipt_only: bool,
) -> Result<(), WebhookError> {
    if scan_wire(text, wire, receipt_only).is_none() {
        *wire = Wire::default();
        read_pass(text, wire, receipt_only, true).or_else(|_| {
            // The strict pass decodes escaped strings strictly; anything it refuses is read
            // again the lenient way, so errors and edge cases (lone surrogates) stay as they
            // were.
            *wire = Wire::default();
            read_pass(text, wire, receipt_only, false)
        })?;
    }
    if let Some(notification) = wire.notification.as_mut() {
        notification.keep_top(&mut wire.top);
    }
    Ok(())
}

/// The fast reader's pass of [`read_wire`]: `None` hands the body over to [`read_pass`].
fn scan_wire(text: &str, wire: &mut Wire, receipt_only: bool) -> Option<()> {
    let mut cursor = Cursor::new(text);
    cursor.skip_whitespace();
    cursor.open_object()?;
    let Wire { top, notification } = wire;
    let key_of = |key: &str| match top_key(key) {
        // Read and checked for repeats only where `read_pass` does.
        Key::Field(slot, ..) if receipt_only && !RECEIPT_TOP_SLOTS.contains(&slot) => Key::Unknown,
        key => key,
    };
    read_level(&mut cursor, top, key_of, NOTIFICATION_BIT, |cursor| {
        if cursor.null()? {
            return Some(());
        }
        cursor.open_object()?;
        delivery::scan_notification(
            cursor,
            notification.insert(delivery::WireNotification::default()),
        )
    })?;
    cursor.skip_whitespace();
    cursor.at_end().then_some(())
}

/// One `serde_json` pass of [`read_wire`]; `fast` hands escape-free and escaped strings over
/// directly instead of through their raw text.
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
#[cfg_attr(test, derive(Debug, PartialEq))]
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

    /// The text, when the value was a JSON string (decoded), not other JSON kept as text.
    ///
    /// A copy is only ever a decoded string. A position is a string's content exactly when
    /// quotes surround it: other JSON text is preceded by the `:` of its key (and maybe
    /// whitespace), and a string kept whole starts at its own quote.
    pub(crate) fn json_string<'s>(&'s self, raw: &'s str) -> Option<&'s str> {
        match self {
            Self::Span(start, end) => {
                let bytes = raw.as_bytes();
                let quoted = start.checked_sub(1).and_then(|before| bytes.get(before))
                    == Some(&b'"')
                    && bytes.get(*end) == Some(&b'"');
                quoted.then(|| self.get(raw))
            }
            Self::Owned(s) => Some(s),
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

#[cfg(test)]
mod tests {
    //! The fast reader against the `serde_json` reader: whatever the fast reader accepts,
    //! `serde_json` accepts too and reads into the same slots.
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use proptest::prelude::*;

    use super::*;

    /// What [`read_wire`] gave before the fast reader: the `serde_json` passes alone.
    fn serde_wire(text: &str, receipt_only: bool) -> Result<Wire, WebhookError> {
        let mut wire = Wire::default();
        read_pass(text, &mut wire, receipt_only, true).or_else(|_| {
            wire = Wire::default();
            read_pass(text, &mut wire, receipt_only, false)
        })?;
        Ok(wire)
    }

    /// The fast reader's slots, when it takes the body.
    fn fast_wire(text: &str, receipt_only: bool) -> Option<Wire> {
        let mut wire = Wire::default();
        scan_wire(text, &mut wire, receipt_only).map(|()| wire)
    }

    /// Checks the fast reader against `serde_json` on `text` in both modes; true when the
    /// fast reader took it.
    fn agrees(text: &str) -> bool {
        let mut taken = false;
        for receipt_only in [false, true] {
            if let Some(fast) = fast_wire(text, receipt_only) {
                taken = true;
                assert!(
                    serde_json::from_str::<de::IgnoredAny>(text).is_ok(),
                    "fast reader took invalid JSON: {text}"
                );
                let slow = serde_wire(text, receipt_only).unwrap_or_else(|e| {
                    panic!("serde refused what the fast reader took: {e}: {text}")
                });
                assert_eq!(fast, slow, "receipt_only {receipt_only}: {text}");
            }
        }
        taken
    }

    const FIXTURES: &[&str] = &[
        include_str!("../../tests/fixtures/delivery_delivered.json"),
        include_str!("../../tests/fixtures/delivery_delivered_offset.json"),
        include_str!("../../tests/fixtures/delivery_extra_fields.json"),
        include_str!("../../tests/fixtures/delivery_failed_7200_meta.json"),
        include_str!("../../tests/fixtures/delivery_failed_7710.json"),
        include_str!("../../tests/fixtures/delivery_failed_7737.json"),
        include_str!("../../tests/fixtures/delivery_read.json"),
        include_str!("../../tests/fixtures/delivery_submitted.json"),
        include_str!("../../tests/fixtures/event_click_flat.json"),
        include_str!("../../tests/fixtures/event_click_receipt.json"),
        include_str!("../../tests/fixtures/event_reaction.json"),
        include_str!("../../tests/fixtures/event_user_id_update.json"),
        include_str!("../../tests/fixtures/inbound_audio.json"),
        include_str!("../../tests/fixtures/inbound_both_ids.json"),
        include_str!("../../tests/fixtures/inbound_bsuid_user_handle.json"),
        include_str!("../../tests/fixtures/inbound_document.json"),
        include_str!("../../tests/fixtures/inbound_extra_fields.json"),
        include_str!("../../tests/fixtures/inbound_image.json"),
        include_str!("../../tests/fixtures/inbound_location.json"),
        include_str!("../../tests/fixtures/inbound_normalized_waid.json"),
        include_str!("../../tests/fixtures/inbound_postback.json"),
        include_str!("../../tests/fixtures/inbound_text.json"),
        include_str!("../../tests/fixtures/inbound_username_user.json"),
        include_str!("../../tests/fixtures/inbound_video.json"),
    ];

    #[test]
    fn the_fast_reader_takes_every_fixture_and_reads_it_as_serde_does() {
        for fixture in FIXTURES {
            assert!(agrees(fixture), "fast reader refused {fixture}");
            assert!(fast_wire(fixture, false).is_some() && fast_wire(fixture, true).is_some());
        }
    }

    #[test]
    fn the_fast_reader_hands_over_what_it_does_not_take() {
        for body in [
            // A repeated known key, at each level (`serde_json` refuses it).
            r#"{"waid":"1","waid":"2"}"#,
            r#"{"deliveryInfoNotification":{"transid":"1","transid":"2"}}"#,
            r#"{"deliveryInfoNotification":{"deliveryInfo":{"code":"1","code":"2"}}}"#,
            r#"{"deliveryInfoNotification":{},"deliveryInfoNotification":{}}"#,
            // An escaped key may name a known field.
            r#"{"w\u0061id":"1"}"#,
            // Levels in array form, or of the wrong type.
            r#"["x"]"#,
            r#"{"deliveryInfoNotification":[{"code":"7500"}]}"#,
            r#"{"deliveryInfoNotification":{"deliveryInfo":["Delivered"]}}"#,
            r#"{"deliveryInfoNotification":"x"}"#,
            // A string `serde_json` reads leniently.
            r#"{"waid":"\ud800"}"#,
            // Not JSON.
            r#"{"waid":"1",}"#,
            r#"{"waid":"1"} x"#,
            r#"{"waid":01}"#,
            "{\"waid\":\"a\tb\"}",
        ] {
            assert!(fast_wire(body, false).is_none(), "{body}");
            agrees(body);
        }
        let deep = format!(r#"{{"x":{}1{}}}"#, "[".repeat(300), "]".repeat(300));
        assert!(fast_wire(&deep, false).is_none());
        assert!(serde_wire(&deep, false).is_ok());
    }

    #[test]
    fn values_are_kept_as_serde_keeps_them() {
        for body in [
            r#"{"waid":null,"userId":"","message":"a\"b\u00e9","appId":7,"channel":{"a":[1]}}"#,
            r#"{"attachments":"","contacts":"[]","location":{"lat":1},"system":true}"#,
            r#"{"attachments":null,"event":"M\u004f","ts":-1.5e3}"#,
            r#"{"deliveryInfoNotification":null,"bsuid":"IN.1","waid":"1"}"#,
            r#"{"deliveryInfoNotification":{"deliveryInfo":null,"bsuid":["IN.1"]}}"#,
            r#"{"deliveryInfoNotification":{"deliveryInfo":{"code":7500,"x":{"deliveryInfo":1}}}}"#,
            " { \"waid\" : \"1\" , \"u\" : [ ] , \"v\" : { } } \n",
        ] {
            assert!(agrees(body), "fast reader refused {body}");
        }
    }

    /// `"key":"v-key"` for each key, comma-separated.
    fn members(keys: &[&str]) -> String {
        keys.iter()
            .map(|k| format!("\"{k}\":\"v-{k}\""))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn check(read: &[(&str, Option<&str>)]) {
        for (key, value) in read {
            assert_eq!(value.map(str::to_owned), Some(format!("v-{key}")), "{key}");
        }
    }

    #[test]
    fn every_inbound_slot_reaches_its_accessor() {
        use crate::ids::TransactionId;
        use crate::webhook::InboundMessage;
        let body = format!("{{{}}}", members(INBOUND_KEYS));
        let m = InboundMessage::from_slice(body.as_bytes()).unwrap();
        let embedded = (m.attachments_raw(), m.contacts_raw(), m.location_raw());
        let read = [
            ("userId", m.user_id()),
            ("username", m.username()),
            ("channel", m.channel()),
            ("appId", m.app_id()),
            ("event", Some(m.event().as_str())),
            ("waid", m.waid()),
            ("message", m.text()),
            ("attachments", embedded.0.as_deref()),
            ("contacts", embedded.1.as_deref()),
            ("location", embedded.2.as_deref()),
            ("system", m.system()),
            ("ts", m.timestamp_raw()),
            ("datetime", m.datetime_raw()),
            ("tid", m.tid()),
            ("transid", m.transaction_id().map(TransactionId::as_str)),
            ("identityKeyHash", m.identity_key_hash()),
            ("errors", m.errors()),
            ("buttonText", m.button_text()),
            ("buttonPayload", m.button_payload()),
            ("clientUUID", m.client_uuid()),
            ("bsuid", m.bsuid_raw()),
            ("userHandle", m.user_handle()),
            ("x-wx-gtrid", m.gtrid()),
        ];
        assert_eq!(read.len(), INBOUND_KEYS.len());
        check(&read);
    }

    #[test]
    fn every_receipt_slot_reaches_its_accessor() {
        use crate::ids::TransactionId;
        use crate::webhook::DeliveryReceipt;
        let receipt = |info: &[&str], notification: &[&str], top: &[&str]| {
            let comma = |keys: &[&str]| if keys.is_empty() { "" } else { "," };
            let body = format!(
                "{{{}{}\"deliveryInfoNotification\":{{{}{}\"deliveryInfo\":{{{}}}}}}}",
                members(top),
                comma(top),
                members(notification),
                comma(notification),
                members(info),
            );
            DeliveryReceipt::from_slice(body.as_bytes()).unwrap()
        };
        let ids = ["bsuid", "userHandle"];
        let r = receipt(
            &[
                "deliveryChannel",
                "Description",
                "destinationType",
                "timeStamp",
                "code",
                "additionalInfo",
                "deliveryStatus",
                "destination",
                "identityKeyHash",
                "bsuid",
                "userHandle",
            ],
            &[
                "subtid",
                "transid",
                "callbackData",
                "correlationid",
                "bsuid",
                "userHandle",
            ],
            &["bsuid", "userHandle", "x-wx-gtrid"],
        );
        check(&[
            ("deliveryChannel", r.channel()),
            ("Description", r.description()),
            ("destinationType", r.destination_type()),
            ("timeStamp", r.timestamp_raw()),
            ("code", Some(r.code().as_str())),
            ("additionalInfo", r.additional_info()),
            ("deliveryStatus", Some(r.status().as_str())),
            ("destination", r.destination()),
            ("identityKeyHash", r.identity_key_hash()),
            ("bsuid", r.bsuid()),
            ("userHandle", r.user_handle()),
            ("subtid", r.sub_transaction_id()),
            ("transid", r.transaction_id().map(TransactionId::as_str)),
            ("callbackData", r.callback_data()),
            ("correlationid", r.correlation_id()),
            ("x-wx-gtrid", r.gtrid()),
        ]);
        // `bsuid` and `userHandle` beside `deliveryInfo`, then at the top level.
        for r in [receipt(&[], &ids, &ids), receipt(&[], &[], &ids)] {
            check(&[("bsuid", r.bsuid()), ("userHandle", r.user_handle())]);
        }
    }

    /// JSON texts for values: strings plain, escaped and undecodable, numbers, literals,
    /// containers, and a few that are not JSON at all.
    fn value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            2 => Just(r#""""#.to_owned()),
            8 => "[a-zA-Z0-9 ._+-]{0,12}".prop_map(|s| format!("\"{s}\"")),
            2 => Just(r#""a\"b\\c\/\n\u00e9\uD83D\uDE00""#.to_owned()),
            1 => Just(r#""\ud800""#.to_owned()),
            2 => Just(r#""[{\"mime_type\":\"image/jpeg\"}]""#.to_owned()),
            1 => Just("\"é€😀\"".to_owned()),
            1 => Just("\"tab\there\"".to_owned()),
            1 => Just(r#""\x""#.to_owned()),
            3 => prop_oneof![
                Just("0"),
                Just("-0"),
                Just("12"),
                Just("1.5e-3"),
                Just("-7E+2"),
                Just("01"),
                Just("1."),
                Just("-"),
                Just(".5"),
            ]
            .prop_map(str::to_owned),
            2 => prop_oneof![
                Just("true"),
                Just("false"),
                Just("null"),
                Just("nul"),
                Just("True")
            ]
            .prop_map(str::to_owned),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(("[a-z]{1,3}", inner), 0..4).prop_map(|v| {
                    let members: Vec<String> =
                        v.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    /// An object whose keys come from `keys` (known ones, unknown ones, an escaped one),
    /// with whitespace around some tokens.
    fn object(
        keys: &'static [&'static str],
        values: impl Strategy<Value = String>,
    ) -> impl Strategy<Value = String> {
        let ws = prop_oneof![Just(""), Just(""), Just(" "), Just("\n   "), Just("\t\r")];
        prop::collection::vec((prop::sample::select(keys), values, ws), 0..6).prop_map(|members| {
            let members: Vec<String> = members
                .into_iter()
                .map(|(k, v, ws)| format!("{ws}\"{k}\"{ws}:{ws}{v}{ws}"))
                .collect();
            format!("{{{}}}", members.join(","))
        })
    }

    const TOP: &[&str] = &[
        "event",
        "waid",
        "userId",
        "message",
        "attachments",
        "bsuid",
        "x-wx-gtrid",
        "ts",
        "carrier",
        "other",
        "w\\u0061id",
    ];
    const NOTIFICATION: &[&str] = &["transid", "subtid", "correlationid", "bsuid", "pricing"];
    const INFO: &[&str] = &[
        "code",
        "deliveryStatus",
        "destination",
        "timeStamp",
        "extra",
    ];

    /// Bodies in the shapes webhooks have, and odd ones.
    fn body() -> impl Strategy<Value = String> {
        let info = prop_oneof![object(INFO, value()), value()];
        let notification = prop_oneof![
            object(NOTIFICATION, value()),
            (object(NOTIFICATION, value()), info).prop_map(|(n, i)| {
                // The info object first, then the notification's other members.
                let rest = n.strip_prefix('{').unwrap_or("}");
                let sep = if rest == "}" { "" } else { "," };
                format!("{{\"deliveryInfo\":{i}{sep}{rest}")
            }),
            value(),
        ];
        prop_oneof![
            object(TOP, value()),
            (object(TOP, value()), notification).prop_map(|(top, n)| {
                let rest = top.strip_prefix('{').unwrap_or("}");
                let sep = if rest == "}" { "" } else { "," };
                format!("{{\"deliveryInfoNotification\":{n}{sep}{rest}")
            }),
        ]
    }

    #[test]
    fn the_fast_reader_agrees_with_serde() {
        use proptest::test_runner::{Config, TestRunner};
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (cases, taken) = (3000, AtomicUsize::new(0));
        TestRunner::new(Config::with_cases(cases))
            .run(&body(), |body| {
                if agrees(&body) {
                    taken.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
            .unwrap();
        // Not vacuous: the fast reader takes a good share of the bodies.
        let taken = taken.into_inner();
        assert!(
            taken * 5 > cases as usize,
            "fast reader took only {taken} of {cases}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn the_fast_reader_agrees_with_serde_on_damaged_bodies(
            body in body(),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(&b"{}[]\",:\\ 0-eu\n"[..]),
            cut in any::<bool>(),
        ) {
            let mut bytes = body.into_bytes();
            let at = at.index(bytes.len() + 1);
            if cut && at < bytes.len() {
                bytes.remove(at);
            } else {
                bytes.insert(at, byte);
            }
            if let Ok(text) = String::from_utf8(bytes) {
                agrees(&text);
            }
        }
    }
}
