//! Length-checked text: message bodies, captions and the short texts of templates and
//! interactive messages.
//!
//! WhatsApp counts characters (Unicode scalar values), not bytes, so every limit here is in
//! characters: `"é"` counts 1, an emoji made of one scalar counts 1.
//!
//! ```
//! use webex_connect_whatsapp::text::{Caption, MessageText, TextError};
//!
//! let text = MessageText::new("Your order has shipped")?;
//! assert_eq!(text.as_str(), "Your order has shipped");
//! assert_eq!(MessageText::MAX_CHARS, 4096);
//!
//! let err = Caption::new("x".repeat(1025)).unwrap_err();
//! assert_eq!(err.to_string(), "caption is 1025 characters long, but the max is 1024");
//! # Ok::<(), TextError>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// The text was empty.
    #[error("{what} must not be empty")]
    Empty {
        /// Which text, e.g. `message text`.
        what: &'static str,
    },
    /// The text was longer than the platform allows.
    #[error("{what} is {actual} characters long, but the max is {max}")]
    TooLong {
        /// Which text, e.g. `message text`.
        what: &'static str,
        /// Its length in characters.
        actual: usize,
        /// The limit in characters.
        max: usize,
    },
}

impl TextError {
    /// Which text was refused, e.g. `message text` or `caption`.
    pub fn what(&self) -> &'static str {
        match self {
            Self::Empty { what } | Self::TooLong { what, .. } => what,
        }
    }
}

/// The one length check behind every text newtype: non-empty, at most `max` characters.
pub(crate) fn check_chars(what: &'static str, value: &str, max: usize) -> Result<(), TextError> {
    if value.is_empty() {
        return Err(TextError::Empty { what });
    }
    // Counting stops one past the limit, so a huge input costs no more than a valid one.
    let actual = value.chars().take(max.saturating_add(1)).count();
    if actual > max {
        return Err(TextError::TooLong {
            what,
            actual: value.chars().count(),
            max,
        });
    }
    Ok(())
}

/// What is wrong with a short plain text (a name, a label): each type that checks one turns
/// this into its own error, which says which text it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlainTextFault {
    /// Empty.
    Empty,
    /// More than `max` characters.
    TooLong { actual: usize, max: usize },
    /// A control character (newline, tab, ...) at this position, counted in characters from 0.
    ControlCharacter { position: usize },
}

/// Checks a short plain text: non-empty, at most `max` characters, no control character.
pub(crate) fn check_plain(value: &str, max: usize) -> Result<(), PlainTextFault> {
    if value.is_empty() {
        return Err(PlainTextFault::Empty);
    }
    let actual = value.chars().count();
    if actual > max {
        return Err(PlainTextFault::TooLong { actual, max });
    }
    match value.chars().position(char::is_control) {
        Some(position) => Err(PlainTextFault::ControlCharacter { position }),
        None => Ok(()),
    }
}

/// One rule a text follows besides being non-empty (the texts' counterpart of
/// [`IdRule`](crate::ids::IdRule)).
#[derive(Debug, Clone, Copy)]
pub(crate) enum TextRule {
    /// At most this many characters.
    MaxChars(usize),
}

impl TextError {
    /// Checks a text: non-empty, then each rule in order.
    pub(crate) fn check(what: &'static str, value: &str, rules: &[TextRule]) -> Result<(), Self> {
        if value.is_empty() {
            return Err(Self::Empty { what });
        }
        for rule in rules {
            match *rule {
                TextRule::MaxChars(max) => check_chars(what, value, max)?,
            }
        }
        Ok(())
    }
}

/// Declares a checked string newtype, an identifier ([`IdError`](crate::ids::IdError),
/// [`IdRule`](crate::ids::IdRule)s on bytes, characters and allowed characters) or a text
/// ([`TextError`], a [`TextRule`] on characters), in one form:
///
/// ```text
/// checked_text! {
///     /// The type's docs.
///     #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
///     example = "a valid value", refused = "an invalid one";   // optional
///     pub struct Name("what errors call it"): IdError;        // or TextError
///
///     /// The limit's docs.
///     pub const MAX_CHARS: usize = 128;                     // or MAX_BYTES
///
///     /// The docs of `new`.
///     rules = [IdRule::MaxChars(Self::MAX_CHARS)];            // checked in order
/// }
/// ```
///
/// It writes the newtype over `String` (serialized as its string, checked again when read),
/// the limit constant, `new` (non-empty, then each rule in order), the string accessors and
/// `FromStr` / `TryFrom`. What differs by error type is said once, in the `@` arms: a text's
/// limit and `new` docs and its doc example are written from its limit, and a text also gets
/// `WHAT` and `char_count`; an identifier's doc example shows `example` and `refused`.
macro_rules! checked_text {
    (
        $(#[$meta:meta])*
        $(example = $example:literal $(, refused = $refused:expr)?;)?
        pub struct $name:ident($what:literal): $err:ident;

        $(#[$cmeta:meta])*
        pub const $limit:ident: usize = $max:literal;

        $(#[$nmeta:meta])*
        rules = [$($rule:expr),+ $(,)?];
    ) => {
        $(#[$meta])*
        $(#[doc = $crate::text::checked_text!(@example $err, $name, $example, $max $(, $refused)?)])?
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            $(#[$cmeta])*
            #[doc = $crate::text::checked_text!(@limit_doc $err, $max)]
            pub const $limit: usize = $max;

            $crate::text::checked_text!(@what $err, $what);

            $(#[$nmeta])*
            #[doc = $crate::text::checked_text!(@new_doc $err, $what, $max)]
            pub fn new(value: impl Into<String>) -> Result<Self, $err> {
                let value = value.into();
                $err::check($what, &value, &[$($rule),+])?;
                Ok(Self(value))
            }

            $crate::text::checked_text!(@char_count $err);
        }

        $crate::ids::string_newtype_common!($name);
        $crate::ids::string_newtype_parse!($name, $err);
    };

    (@example IdError, $name:ident, $example:literal, $max:literal, $refused:expr) => {
        concat!(
            "\n```\n",
            "use ", module_path!(), "::", stringify!($name), ";\n",
            "let id = ", stringify!($name), "::new(", stringify!($example), ")?;\n",
            "assert_eq!(id.as_str(), ", stringify!($example), ");\n",
            "assert!(", stringify!($name), "::new(", stringify!($refused), ").is_err());\n",
            "# Ok::<(), webex_connect_whatsapp::ids::IdError>(())\n",
            "```",
        )
    };
    (@example TextError, $name:ident, $example:literal, $max:literal) => {
        concat!(
            "\n```\n",
            "use webex_connect_whatsapp::text::", stringify!($name), ";\n",
            "let text = ", stringify!($name), "::new(", stringify!($example), ")?;\n",
            "assert_eq!(text.as_str(), ", stringify!($example), ");\n",
            "assert!(", stringify!($name), "::new(\"\").is_err());\n",
            "assert!(", stringify!($name), "::new(\"é\".repeat(", stringify!($max), " + 1)).is_err());\n",
            "# Ok::<(), webex_connect_whatsapp::text::TextError>(())\n",
            "```",
        )
    };

    (@limit_doc IdError, $max:literal) => { "" };
    (@limit_doc TextError, $max:literal) => {
        concat!("The most characters allowed: ", stringify!($max), ".")
    };

    (@new_doc IdError, $what:literal, $max:literal) => {
        concat!(
            "\n# Errors\n\n",
            "[`IdError`](crate::ids::IdError) naming the first rule the ", $what, " breaks.",
        )
    };
    (@new_doc TextError, $what:literal, $max:literal) => {
        concat!(
            "Checks and wraps the text: 1 to ", stringify!($max), " characters.\n\n",
            "# Errors\n\n",
            "[`TextError`] when the text is empty or too long.",
        )
    };

    (@what IdError, $what:literal) => {};
    (@what TextError, $what:literal) => {
        /// What the text is called in error messages.
        pub const WHAT: &'static str = $what;
    };

    (@char_count IdError) => {};
    (@char_count TextError) => {
        /// The length in characters.
        pub fn char_count(&self) -> usize {
            self.0.chars().count()
        }
    };
}

pub(crate) use checked_text;

checked_text! {
    /// The body of a text message: 1 to 4096 characters (longer texts fail with 7714).
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "Hello";
    pub struct MessageText("message text"): TextError;
    pub const MAX_CHARS: usize = 4096;
    rules = [TextRule::MaxChars(Self::MAX_CHARS)];
}

checked_text! {
    /// The caption of an image, video or document: 1 to 1024 characters.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "Your invoice";
    pub struct Caption("caption"): TextError;
    pub const MAX_CHARS: usize = 1024;
    rules = [TextRule::MaxChars(Self::MAX_CHARS)];
}

checked_text! {
    /// The text header of a template or interactive message: 1 to 60 characters.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "Order update";
    pub struct HeaderText("header text"): TextError;
    pub const MAX_CHARS: usize = 60;
    rules = [TextRule::MaxChars(Self::MAX_CHARS)];
}

checked_text! {
    /// The body of a template or interactive message: 1 to 1024 characters.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "Your order {{1}} has shipped.";
    pub struct BodyText("body text"): TextError;
    pub const MAX_CHARS: usize = 1024;
    rules = [TextRule::MaxChars(Self::MAX_CHARS)];
}

checked_text! {
    /// The footer of a template or interactive message: 1 to 60 characters.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "Reply STOP to opt out";
    pub struct FooterText("footer text"): TextError;
    pub const MAX_CHARS: usize = 60;
    rules = [TextRule::MaxChars(Self::MAX_CHARS)];
}

checked_text! {
    /// The label of a template button (quick reply, URL, phone, copy code): 1 to 25 characters.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "Track order";
    pub struct ButtonLabel("button label"): TextError;
    pub const MAX_CHARS: usize = 25;
    rules = [TextRule::MaxChars(Self::MAX_CHARS)];
}

checked_text! {
    /// The title of an interactive reply button: 1 to 20 characters.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "Yes";
    pub struct ReplyButtonTitle("reply button title"): TextError;
    pub const MAX_CHARS: usize = 20;
    rules = [TextRule::MaxChars(Self::MAX_CHARS)];
}

checked_text! {
    /// The id of an interactive reply button, sent back when it is tapped: 1 to 256 characters.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "confirm-42";
    pub struct ReplyButtonId("reply button id"): TextError;
    pub const MAX_CHARS: usize = 256;
    rules = [TextRule::MaxChars(Self::MAX_CHARS)];
}

checked_text! {
    /// The label of the button that opens an interactive list: 1 to 20 characters.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "Choose a slot";
    pub struct ListButtonText("list button label"): TextError;
    pub const MAX_CHARS: usize = 20;
    rules = [TextRule::MaxChars(Self::MAX_CHARS)];
}

checked_text! {
    /// The title of an interactive list section: 1 to 24 characters.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "Morning";
    pub struct SectionTitle("section title"): TextError;
    pub const MAX_CHARS: usize = 24;
    rules = [TextRule::MaxChars(Self::MAX_CHARS)];
}

checked_text! {
    /// The title of an interactive list row: 1 to 24 characters.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "9:00 to 10:00";
    pub struct RowTitle("row title"): TextError;
    pub const MAX_CHARS: usize = 24;
    rules = [TextRule::MaxChars(Self::MAX_CHARS)];
}

checked_text! {
    /// The description of an interactive list row: 1 to 72 characters.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "With Dr Rao";
    pub struct RowDescription("row description"): TextError;
    pub const MAX_CHARS: usize = 72;
    rules = [TextRule::MaxChars(Self::MAX_CHARS)];
}

checked_text! {
    /// The id of an interactive list row, sent back when it is picked: 1 to 200 characters.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "slot-0900";
    pub struct RowId("row id"): TextError;
    pub const MAX_CHARS: usize = 200;
    rules = [TextRule::MaxChars(Self::MAX_CHARS)];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_inclusive_and_count_characters() {
        assert!(MessageText::new("x".repeat(4096)).is_ok());
        assert_eq!(
            MessageText::new("x".repeat(4097)),
            Err(TextError::TooLong {
                what: "message text",
                actual: 4097,
                max: 4096
            })
        );
        // 4096 two-byte characters are 8192 bytes, still within the limit.
        assert!(MessageText::new("é".repeat(4096)).is_ok());
        assert!(MessageText::new("😀".repeat(4097)).is_err());
        assert!(HeaderText::new("h".repeat(60)).is_ok());
        assert!(FooterText::new("f".repeat(61)).is_err());
        assert!(ButtonLabel::new("b".repeat(25)).is_ok());
        assert!(ButtonLabel::new("b".repeat(26)).is_err());
        assert!(BodyText::new("b".repeat(1024)).is_ok());
        assert!(Caption::new("c".repeat(1024)).is_ok());
    }

    #[test]
    fn errors_name_the_text() {
        let err = MessageText::new("").unwrap_err();
        assert_eq!(err.to_string(), "message text must not be empty");
        assert_eq!(err.what(), "message text");
        assert_eq!(
            MessageText::new("x".repeat(4100)).unwrap_err().to_string(),
            "message text is 4100 characters long, but the max is 4096"
        );
    }

    #[test]
    fn texts_and_ids_share_one_form_with_their_own_errors() {
        assert_eq!(
            format!("{:?}", Caption::new("hi").unwrap()),
            "Caption(\"hi\")"
        );
        assert_eq!(Caption::WHAT, "caption");
        assert_eq!(RowId::new("é".repeat(3)).unwrap().char_count(), 3);
        // An id keeps IdError and its units; a text keeps TextError.
        assert_eq!(
            crate::ids::CorrelationId::new("x".repeat(51))
                .unwrap_err()
                .to_string(),
            "correlation id is 51 bytes long, but the max is 50"
        );
        assert_eq!(
            RowTitle::new("").unwrap_err(),
            TextError::Empty { what: "row title" }
        );
    }

    #[test]
    fn serde_validates() {
        let t: Caption = serde_json::from_str("\"hi\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"hi\"");
        assert!(serde_json::from_str::<Caption>("\"\"").is_err());
    }
}
