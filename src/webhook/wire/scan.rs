//! The fast reader: one hand-written pass over the bytes of a body in the shape webhooks
//! actually have (an object, unescaped keys, each known key once), writing each known value
//! into its slot as [`read_pass`](super::read_pass) would.
//!
//! It answers `None` ("not mine") for anything outside that shape, and then the `serde_json`
//! reader runs instead and decides, with its own errors: so this reader must never accept a
//! body `serde_json` refuses, nor read a value differently, but it may hand over any body it
//! is unsure of. It validates at least as strictly as `serde_json` does when skipping a value
//! (`IgnoredAny`): the JSON grammar, no control characters in strings, the escapes JSON has.
//! It gives up on escaped keys, repeated known keys, arrays where a level is expected, strings
//! `serde_json` would not decode (a lone surrogate) and nesting deeper than [`MAX_DEPTH`].
//!
//! Why by hand: the `serde_json` reader drives visitors for every key and value, which cost
//! about as much again as validating the JSON; here a key costs one byte scan and one match.

use super::slot::{Key, Kind, Text};

/// The deepest nesting of skipped values this reader follows (`serde_json` has no limit for
/// skipped values; deeper bodies go to it).
const MAX_DEPTH: u32 = 128;

/// A position in a body being read. Every method that returns `Option` answers `None` when
/// the body is not in the shape this reader takes, leaving the cursor anywhere.
pub(crate) struct Cursor<'a> {
    body: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(body: &'a str) -> Self {
        Self { body, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.body.as_bytes().get(self.pos).copied()
    }

    /// Takes the next byte.
    fn next_byte(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    /// Skips the whitespace JSON allows between tokens.
    pub(crate) fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Takes `byte`, or answers `None`.
    pub(crate) fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next_byte()? == byte).then_some(())
    }

    /// Whether the whole body has been read.
    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.body.len()
    }

    /// Reads the members of an object whose `{` was just taken, handing each key to `member`,
    /// which must read exactly its value. Keys with escapes are not taken: what they name is
    /// only known once decoded.
    pub(crate) fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
        self.skip_whitespace();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.expect(b'"')?;
            let start = self.pos;
            if self.string()? {
                return None;
            }
            let key = self.body.get(start..self.pos - 1)?;
            self.skip_whitespace();
            self.expect(b':')?;
            self.skip_whitespace();
            member(self, key)?;
            self.skip_whitespace();
            match self.next_byte()? {
                b',' => self.skip_whitespace(),
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// Whether the value here is `null`, taking it if so.
    pub(crate) fn null(&mut self) -> Option<bool> {
        if self.peek()? != b'n' {
            return Some(false);
        }
        self.word(b"null")?;
        Some(true)
    }

    /// Takes the `{` of an object here; `None` for any other value.
    pub(crate) fn open_object(&mut self) -> Option<()> {
        self.expect(b'{')
    }

    /// Reads a known field's value into `slot` as the `serde_json` reader keeps it: `null` is
    /// `None`; a string is its content (a position when it has no escapes, else decoded), or
    /// with [`Kind::Literal`] its JSON text, quotes included (`""` is `None`); any other value
    /// is its JSON text.
    pub(crate) fn field(&mut self, kind: Kind, slot: &mut Option<Text>) -> Option<()> {
        let start = self.pos;
        *slot = match self.peek()? {
            b'"' => {
                self.pos += 1;
                let escaped = self.string()?;
                let end = self.pos;
                match kind {
                    Kind::Literal => (end - start > 2).then_some(Text::Span(start, end)),
                    Kind::Text if !escaped => Some(Text::Span(start + 1, end - 1)),
                    // Decoded strictly, as the `serde_json` reader does; a string it cannot
                    // decode (a lone surrogate) is left to that reader's lenient pass.
                    Kind::Text => {
                        let decoded: String =
                            serde_json::from_str(self.body.get(start..end)?).ok()?;
                        Some(Text::Owned(decoded.into()))
                    }
                }
            }
            b'n' => {
                self.word(b"null")?;
                None
            }
            _ => {
                self.skip_value()?;
                Some(Text::Span(start, self.pos))
            }
        };
        Some(())
    }

    /// Skips one value, validating it, without recursion: `open` holds one bit per enclosing
    /// array or object (set for an object), `depth` how many there are.
    pub(crate) fn skip_value(&mut self) -> Option<()> {
        let mut open: u128 = 0;
        let mut depth: u32 = 0;
        loop {
            // A value starts here.
            match self.next_byte()? {
                b'"' => {
                    self.string()?;
                }
                b'-' | b'0'..=b'9' => {
                    self.pos -= 1;
                    self.number()?;
                }
                b't' => self.word(b"rue")?,
                b'f' => self.word(b"alse")?,
                b'n' => self.word(b"ull")?,
                container @ (b'{' | b'[') => {
                    if depth >= MAX_DEPTH {
                        return None;
                    }
                    let is_object = container == b'{';
                    open = (open << 1) | u128::from(is_object);
                    depth += 1;
                    self.skip_whitespace();
                    let close = if is_object { b'}' } else { b']' };
                    if self.peek()? != close {
                        if is_object {
                            self.member_key()?;
                        }
                        continue;
                    }
                    self.pos += 1;
                    open >>= 1;
                    depth -= 1;
                }
                _ => return None,
            }
            // A value ended: close what ends here, then go on after a comma.
            loop {
                if depth == 0 {
                    return Some(());
                }
                self.skip_whitespace();
                let in_object = open & 1 == 1;
                match self.next_byte()? {
                    b',' => {
                        self.skip_whitespace();
                        if in_object {
                            self.member_key()?;
                        }
                        break;
                    }
                    b'}' if in_object => {}
                    b']' if !in_object => {}
                    _ => return None,
                }
                open >>= 1;
                depth -= 1;
            }
        }
    }

    /// Reads `"key":` inside a skipped object, up to its value.
    fn member_key(&mut self) -> Option<()> {
        self.expect(b'"')?;
        self.string()?;
        self.skip_whitespace();
        self.expect(b':')?;
        self.skip_whitespace();
        Some(())
    }

    /// Takes the rest of a string whose opening quote was taken, up to and including its
    /// closing quote, and says whether it had escapes. Refuses control characters and any
    /// escape JSON does not have, as `serde_json` does.
    #[inline]
    fn string(&mut self) -> Option<bool> {
        // Most strings are plain: inlined, they cost one or two eight-byte steps.
        self.skip_plain_string_bytes();
        if self.peek()? == b'"' {
            self.pos += 1;
            return Some(false);
        }
        self.escaped_string()
    }

    /// The rest of [`Self::string`] from its first backslash (or control character).
    #[cold]
    fn escaped_string(&mut self) -> Option<bool> {
        loop {
            match self.next_byte()? {
                b'"' => return Some(true),
                b'\\' => match self.next_byte()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    b'u' => {
                        let hex = self.body.as_bytes().get(self.pos..self.pos + 4)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return None;
                        }
                        self.pos += 4;
                    }
                    _ => return None,
                },
                _ => return None,
            }
            self.skip_plain_string_bytes();
        }
    }

    /// Moves to the next quote, backslash or control character (or the end of the body).
    ///
    /// Eight bytes at a time, as `serde_json` scans strings, since string content is most of
    /// a webhook body. A string always ends before the body does, so the eight bytes read
    /// at once are taken from the body itself, past the string's end where it is short; only
    /// the last few bytes of the body are read one by one.
    #[inline]
    fn skip_plain_string_bytes(&mut self) {
        let bytes = self.body.as_bytes();
        while let Some(chunk) = bytes.get(self.pos..).and_then(<[u8]>::first_chunk::<8>) {
            let found = special_bytes(u64::from_le_bytes(*chunk));
            if found != 0 {
                self.pos += (found.trailing_zeros() / 8) as usize;
                return;
            }
            self.pos += 8;
        }
        while self.peek().is_some_and(|b| !is_special(b)) {
            self.pos += 1;
        }
    }

    /// Takes a number in JSON's grammar: `-`, then `0` or digits not starting with `0`, then
    /// an optional fraction and exponent, each with at least one digit.
    fn number(&mut self) -> Option<()> {
        if self.peek()? == b'-' {
            self.pos += 1;
        }
        match self.next_byte()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.at_least_one_digit()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.at_least_one_digit()?;
        }
        // A digit right after a lone `0` (`01`) is refused by the caller, which expects a
        // separator next.
        Some(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn at_least_one_digit(&mut self) -> Option<()> {
        let start = self.pos;
        self.digits();
        (self.pos > start).then_some(())
    }

    /// Takes exactly `word` (`null`, or the rest of `true`, `false`, `null`).
    fn word(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        (self.body.as_bytes().get(self.pos..end)? == word).then(|| self.pos = end)
    }
}

/// Whether a byte ends the plain run of a string: a quote, a backslash, or a control
/// character (which JSON does not allow there).
fn is_special(byte: u8) -> bool {
    byte == b'"' || byte == b'\\' || byte < 0x20
}

/// The eight bytes of `word` (in memory order, little-endian) with the high bit of each byte
/// that [`is_special`] set, and perhaps of bytes after the first such one, never before it:
/// Mycroft's test for a zero byte, as `serde_json` uses it.
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    let control = word.wrapping_sub(ONES * 0x20);
    let quote = (word ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES);
    let backslash = (word ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
    // `!word` clears bytes of 0x80 and above, which are never special.
    (control | quote | backslash) & !word & HIGH
}

/// Reads one level of a body (the cursor just past its `{`): each known field once into
/// `slots`, the one nested object (`deliveryInfoNotification`, `deliveryInfo`) through
/// `nested` (its seen-bit is `nested_bit`), anything else skipped. A repeated known key hands
/// the body over, as `serde_json`'s reader refuses it.
pub(crate) fn read_level<'a>(
    cursor: &mut Cursor<'a>,
    slots: &mut [Option<Text>],
    key_of: impl Fn(&str) -> Key,
    nested_bit: usize,
    mut nested: impl FnMut(&mut Cursor<'a>) -> Option<()>,
) -> Option<()> {
    let mut seen: u32 = 0;
    let mut mark = |bit: usize| {
        let mask = 1_u32.checked_shl(u32::try_from(bit).ok()?)?;
        let first = seen & mask == 0;
        seen |= mask;
        first.then_some(())
    };
    cursor.object(|cursor, key| match key_of(key) {
        Key::Field(slot, _, kind) => {
            mark(slot)?;
            cursor.field(kind, slots.get_mut(slot)?)
        }
        Key::Object(_) => {
            mark(nested_bit)?;
            nested(cursor)
        }
        Key::Unknown => cursor.skip_value(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skips(json: &str) -> bool {
        let mut cursor = Cursor::new(json);
        cursor.skip_value().is_some() && {
            cursor.skip_whitespace();
            cursor.at_end()
        }
    }

    #[test]
    fn string_scans_stop_at_the_first_special_byte() {
        for (content, stop) in [
            ("", 0),
            ("abc", 3),
            ("abcdefghijk", 11),
            ("abcdefgh\\n", 8),
            ("ab\ncdefghij", 2),
            ("é€😀", 9),
            ("\u{7f}\u{80}\u{ff}!#[]~ \u{1f}", 11),
        ] {
            // Short bodies end inside the eight bytes read at once; long ones do not.
            for padding in [0, 16] {
                let body = format!("{content}\"{}", " ".repeat(padding));
                let mut cursor = Cursor::new(&body);
                cursor.skip_plain_string_bytes();
                assert_eq!(cursor.pos, stop, "{content:?}");
                assert!(is_special(body.as_bytes()[stop]));
            }
        }
    }

    #[test]
    fn skips_exactly_what_serde_json_accepts() {
        for json in [
            r#"{"a":[1,-2.5e+3,true,false,null,{},[],{"b":"c\u00e9\n"}]}"#,
            "[ ]",
            "{ }",
            "0",
            "-0.0E-1",
            r#""\/\b\f\n\r\t\"\\""#,
            "[[[[[[[[]]]]]]]]",
        ] {
            assert!(skips(json), "{json}");
            assert!(serde_json::from_str::<serde::de::IgnoredAny>(json).is_ok());
        }
        for json in [
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            "tru",
            "nul",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\"}",
            "{a:1}",
            "[1 2]",
            "\"\\x\"",
            "\"\\u12g4\"",
            "\"a\nb\"",
            "{\"a\":1]",
            "[1}",
            "\"abc",
        ] {
            assert!(!skips(json), "{json}");
            assert!(serde_json::from_str::<serde::de::IgnoredAny>(json).is_err());
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(!skips(&deep), "deeper than MAX_DEPTH is handed over");
    }
}
