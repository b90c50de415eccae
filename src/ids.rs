//! Identifiers that travel between your code and Webex Connect: app ids, transaction ids,
//! correlation ids and callback data.
//!
//! Values you send are checked on construction ([`AppId`], [`CorrelationId`],
//! [`CallbackData`]); values Webex Connect sends back ([`TransactionId`]) are kept as received.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::checked_text;

/// Implements the read-only string accessors shared by every id newtype.
macro_rules! string_newtype_common {
    ($name:ident) => {
        impl $name {
            /// The value as a string slice.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Consumes the value and returns the inner string.
            #[must_use]
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

/// Implements `FromStr` and `TryFrom<&str | String>` through the type's `new`.
macro_rules! string_newtype_parse {
    ($name:ident, $err:ty) => {
        impl std::str::FromStr for $name {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $err;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $err;
            fn try_from(value: &str) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }
    };
}

#[allow(unused_imports, reason = "used by the newtypes in other modules")]
pub(crate) use string_newtype_common;
#[allow(unused_imports, reason = "used by the newtypes in other modules")]
pub(crate) use string_newtype_parse;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The value was empty.
    #[error("{what} must not be empty")]
    Empty {
        /// Which identifier.
        what: &'static str,
    },
    /// The value was longer than the platform allows.
    #[error("{what} is {actual} {unit} long, but the max is {max}")]
    TooLong {
        /// Which identifier.
        what: &'static str,
        /// Its length.
        actual: usize,
        /// The limit.
        max: usize,
        /// What is counted: "bytes" or "characters".
        unit: &'static str,
    },
    /// The value held a character the platform does not accept there.
    #[error("{what} contains {found:?} at character {position}; only {allowed} are allowed")]
    InvalidCharacter {
        /// Which identifier.
        what: &'static str,
        /// The offending character.
        found: char,
        /// Its position, counted in characters from 0.
        position: usize,
        /// What is allowed.
        allowed: &'static str,
    },
}

/// One rule an identifier follows besides being non-empty. Each type lists its rules in the
/// order they are checked, so the first broken one is the one reported.
#[derive(Debug, Clone, Copy)]
pub(crate) enum IdRule {
    /// At most this many characters.
    MaxChars(usize),
    /// At most this many bytes of UTF-8.
    MaxBytes(usize),
    /// Only characters for which the function is true; the text says which those are.
    Chars(&'static str, fn(char) -> bool),
}

impl IdError {
    /// Checks a value: non-empty, then each rule in order.
    pub(crate) fn check(what: &'static str, value: &str, rules: &[IdRule]) -> Result<(), Self> {
        if value.is_empty() {
            return Err(Self::Empty { what });
        }
        for rule in rules {
            let (actual, max, unit) = match *rule {
                IdRule::MaxChars(max) => (value.chars().count(), max, "characters"),
                IdRule::MaxBytes(max) => (value.len(), max, "bytes"),
                IdRule::Chars(allowed, ok) => {
                    if let Some((position, found)) =
                        value.chars().enumerate().find(|(_, c)| !ok(*c))
                    {
                        return Err(Self::InvalidCharacter {
                            what,
                            found,
                            position,
                            allowed,
                        });
                    }
                    continue;
                }
            };
            if actual > max {
                return Err(Self::TooLong {
                    what,
                    actual,
                    max,
                    unit,
                });
            }
        }
        Ok(())
    }
}

checked_text! {
    /// The id of a WhatsApp app (asset) in Webex Connect, e.g. `a_155054536910425280`.
    ///
    /// Sent as `appid` on every request; inbound messages carry it as `appId`.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "a_155054536910425280", refused = "a 1";
    pub struct AppId("app id"): IdError;

    /// The longest app id accepted. Real ids are about 20 characters; the cap only stops garbage.
    pub const MAX_CHARS: usize = 128;

    /// Checks and wraps an app id: non-empty, at most [`AppId::MAX_CHARS`], ASCII letters,
    /// digits, `_`, `-` and `.` only.
    rules = [
        IdRule::MaxChars(Self::MAX_CHARS),
        IdRule::Chars("ASCII letters, digits, '_', '-' and '.'", |c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
        }),
    ];
}

checked_text! {
    /// Your own id for a message (`correlationid`), at most 50 bytes, echoed in delivery receipts.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "order-1234", refused = "x".repeat(51);
    pub struct CorrelationId("correlation id"): IdError;

    /// The platform's limit, in bytes of UTF-8.
    pub const MAX_BYTES: usize = 50;

    /// Checks and wraps a correlation id: 1 to 50 bytes, no control characters.
    rules = [
        IdRule::MaxBytes(Self::MAX_BYTES),
        IdRule::Chars("printable characters", |c| !c.is_control()),
    ];
}

checked_text! {
    /// Opaque data (`callbackData`) that Webex Connect echoes in every delivery receipt.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
    example = r#"{"order":1234}"#, refused = "";
    pub struct CallbackData("callback data"): IdError;

    /// The documented limit (from the Messaging API v1 pages), in characters.
    pub const MAX_CHARS: usize = 2000;

    /// Checks and wraps callback data: 1 to 2000 characters.
    rules = [IdRule::MaxChars(Self::MAX_CHARS)];
}

/// The id Webex Connect gives an accepted message (`transid`); delivery receipts carry it.
///
/// Kept exactly as received: the platform decides its format.
///
/// ```
/// use webex_connect_whatsapp::TransactionId;
/// let id = TransactionId::from("5c9f6594-a371-4e78-8561-b695f9647472");
/// assert_eq!(id.as_str(), "5c9f6594-a371-4e78-8561-b695f9647472");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TransactionId(String);

impl From<String> for TransactionId {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for TransactionId {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

string_newtype_common!(TransactionId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_id_counts_bytes() {
        assert!(CorrelationId::new("é".repeat(25)).is_ok());
        let err = CorrelationId::new("é".repeat(26)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "correlation id is 52 bytes long, but the max is 50"
        );
    }

    #[test]
    fn ids_refuse_empty_and_bad_characters() {
        assert!(matches!(AppId::new(""), Err(IdError::Empty { .. })));
        assert!(matches!(
            AppId::new("a_1\n"),
            Err(IdError::InvalidCharacter { position: 3, .. })
        ));
        assert!(CorrelationId::new("a\u{7}").is_err());
        assert!(CallbackData::new("x".repeat(2000)).is_ok());
        assert!(CallbackData::new("x".repeat(2001)).is_err());
    }

    #[test]
    fn serde_round_trip_validates() {
        let id: CorrelationId = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"abc\"");
        assert!(serde_json::from_str::<CorrelationId>(&format!("\"{}\"", "x".repeat(51))).is_err());
    }
}
