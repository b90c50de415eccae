//! A known value's slot: how a value is kept ([`Text`], a position in the kept body where it
//! can be), what a key of a level names ([`Key`]), and taking values out of their slots.

use std::borrow::Cow;

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
    pub(super) fn span(body: &str, s: &str) -> Self {
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
