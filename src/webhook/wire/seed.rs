//! The `serde_json` reader of one level: it reads keys ([`KeySeed`]) and values
//! ([`ValueSeed`]) straight into slots, refusing a key seen twice, as serde's derive does.
//! It reads the bodies the hand-written scanner hands over, and words their errors.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::value::RawValue;

use super::slot::{Key, Kind, Text, unescape};

/// Reads a key (named by its level's key function), keeping the slice of the body it came
/// from when it had no escapes (so the position of its value is known).
struct KeySeed(fn(&str) -> Key);

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

/// One `serde_json` pass over a body, as every level of it is read: the body (values are kept
/// as positions in it) and whether string values are read directly (the strict, fast pass) or
/// through their raw text (the lenient one).
#[derive(Clone, Copy)]
pub(crate) struct Pass<'de> {
    pub(crate) body: &'de str,
    pub(crate) fast: bool,
}

/// What one level of a body is read into: its slots, the keys seen so far (a key seen twice is
/// refused, as serde's derive does) and whether values may borrow from the body.
pub(crate) struct SlotReader<'s, 'de> {
    pass: Pass<'de>,
    slots: &'s mut [Option<Text>],
    seen: u32,
}

impl<'s, 'de> SlotReader<'s, 'de> {
    pub(crate) fn new(pass: Pass<'de>, slots: &'s mut [Option<Text>]) -> Self {
        Self {
            pass,
            slots,
            seen: 0,
        }
    }

    /// Reads the members of an object level, the `serde_json` twin of the fast reader's
    /// [`read_level`](super::scan::read_level): each field `key_of` names into its slot, the
    /// level's nested object through `nested`, and any other value skipped. A field or the
    /// nested object seen twice is refused.
    // Inlined into each level's visitor, as the loop was when each level wrote its own: out of
    // line, the `serde_json` pass took about 0.6% more instructions (callgrind).
    #[inline]
    pub(crate) fn read_map<A: de::MapAccess<'de>>(
        mut self,
        map: &mut A,
        key_of: fn(&str) -> Key,
        nested: impl de::DeserializeSeed<'de>,
    ) -> Result<(), A::Error> {
        // The seed reads the nested object once: its absence is the object's seen-bit.
        let mut nested = Some(nested);
        while let Some((key, borrowed)) = map.next_key_seed(KeySeed(key_of))? {
            match key {
                Key::Field(slot, name, kind) => self.read(map, (slot, name, kind), borrowed)?,
                Key::Object(name) => match nested.take() {
                    Some(seed) => drop(map.next_value_seed(seed)?),
                    None => return Err(de::Error::duplicate_field(name)),
                },
                Key::Unknown => drop(map.next_value::<de::IgnoredAny>()?),
            }
        }
        Ok(())
    }

    /// Reads a value into `slots[slot]`, borrowing `key` from the body when reading fast.
    fn read<A: de::MapAccess<'de>>(
        &mut self,
        map: &mut A,
        (slot, name, kind): (usize, &'static str, Kind),
        key: Option<&'de str>,
    ) -> Result<(), A::Error> {
        mark_seen(&mut self.seen, slot, name)?;
        let key = key.filter(|_| self.pass.fast);
        let value = map.next_value_seed(ValueSeed {
            body: self.pass.body,
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
