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

use crate::ids::{string_newtype_common, string_newtype_parse};

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

/// Declares a non-empty text newtype with a character limit.
macro_rules! limited_text {
    (
        $(#[$meta:meta])*
        $name:ident, what = $what:literal, max = $max:literal, example = $example:literal
    ) => {
        $(#[$meta])*
        ///
        /// ```
        #[doc = concat!("use webex_connect_whatsapp::text::", stringify!($name), ";")]
        #[doc = concat!("let text = ", stringify!($name), "::new(\"", $example, "\")?;")]
        #[doc = concat!("assert_eq!(text.as_str(), \"", $example, "\");")]
        #[doc = concat!("assert!(", stringify!($name), "::new(\"\").is_err());")]
        #[doc = concat!("assert!(", stringify!($name), "::new(\"é\".repeat(", stringify!($max), " + 1)).is_err());")]
        /// # Ok::<(), webex_connect_whatsapp::text::TextError>(())
        /// ```
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("The most characters allowed: ", stringify!($max), ".")]
            pub const MAX_CHARS: usize = $max;

            /// What the text is called in error messages.
            pub const WHAT: &'static str = $what;

            #[doc = concat!("Checks and wraps the text: 1 to ", stringify!($max), " characters.")]
            ///
            /// # Errors
            ///
            /// [`TextError`] when the text is empty or too long.
            pub fn new(value: impl Into<String>) -> Result<Self, TextError> {
                let value = value.into();
                check_chars(Self::WHAT, &value, Self::MAX_CHARS)?;
                Ok(Self(value))
            }

            /// The length in characters.
            pub fn char_count(&self) -> usize {
                self.0.chars().count()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0).finish()
            }
        }

        string_newtype_common!($name);
        string_newtype_parse!($name, TextError);
    };
}

limited_text! {
    /// The body of a text message: 1 to 4096 characters (longer texts fail with 7714).
    MessageText, what = "message text", max = 4096, example = "Hello"
}

limited_text! {
    /// The caption of an image, video or document: 1 to 1024 characters.
    Caption, what = "caption", max = 1024, example = "Your invoice"
}

limited_text! {
    /// The text header of a template or interactive message: 1 to 60 characters.
    HeaderText, what = "header text", max = 60, example = "Order update"
}

limited_text! {
    /// The body of a template or interactive message: 1 to 1024 characters.
    BodyText, what = "body text", max = 1024, example = "Your order {{1}} has shipped."
}

limited_text! {
    /// The footer of a template or interactive message: 1 to 60 characters.
    FooterText, what = "footer text", max = 60, example = "Reply STOP to opt out"
}

limited_text! {
    /// The label of a template button (quick reply, URL, phone, copy code): 1 to 25 characters.
    ButtonLabel, what = "button label", max = 25, example = "Track order"
}

limited_text! {
    /// The title of an interactive reply button: 1 to 20 characters.
    ReplyButtonTitle, what = "reply button title", max = 20, example = "Yes"
}

limited_text! {
    /// The id of an interactive reply button, sent back when it is tapped: 1 to 256 characters.
    ReplyButtonId, what = "reply button id", max = 256, example = "confirm-42"
}

limited_text! {
    /// The label of the button that opens an interactive list: 1 to 20 characters.
    ListButtonText, what = "list button label", max = 20, example = "Choose a slot"
}

limited_text! {
    /// The title of an interactive list section: 1 to 24 characters.
    SectionTitle, what = "section title", max = 24, example = "Morning"
}

limited_text! {
    /// The title of an interactive list row: 1 to 24 characters.
    RowTitle, what = "row title", max = 24, example = "9:00 to 10:00"
}

limited_text! {
    /// The description of an interactive list row: 1 to 72 characters.
    RowDescription, what = "row description", max = 72, example = "With Dr Rao"
}

limited_text! {
    /// The id of an interactive list row, sent back when it is picked: 1 to 200 characters.
    RowId, what = "row id", max = 200, example = "slot-0900"
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
    fn serde_validates() {
        let t: Caption = serde_json::from_str("\"hi\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"hi\"");
        assert!(serde_json::from_str::<Caption>("\"\"").is_err());
    }
}
