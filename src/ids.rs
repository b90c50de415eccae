//! Identifiers that travel between your code and Webex Connect: app ids, transaction ids,
//! correlation ids and callback data.
//!
//! Values you send are checked on construction ([`AppId`], [`CorrelationId`],
//! [`CallbackData`]); values Webex Connect sends back ([`TransactionId`]) are kept as received.

use std::fmt;

use serde::{Deserialize, Serialize};

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

/// Writes consuming setters that store one string each: `fn name => field` assigns
/// `value.into()`, and `fn name => field as Some` wraps it for an optional field. Builders
/// across the crate (profile, session media and lists, webhook models, the sandbox) have many
/// setters of exactly this shape; written once here, each keeps its own doc comment (and any
/// other attribute given before it).
macro_rules! string_setters {
    ($( $(#[$attr:meta])* fn $name:ident => $($field:ident).+ $(as $wrap:ident)?; )*) => {
        $(
            $(#[$attr])*
            pub fn $name(mut self, value: impl Into<String>) -> Self {
                self.$($field).+ = $($wrap)?(value.into());
                self
            }
        )*
    };
}

/// Writes consuming setters that store one value of a given type each, the typed sibling of
/// [`string_setters!`]: `fn name(Type) => request.field as Some`. The field may be a path,
/// for builders that keep the value they build inside themselves.
macro_rules! value_setters {
    ($( $(#[$attr:meta])* fn $name:ident($ty:ty) => $($field:ident).+ $(as $wrap:ident)?; )*) => {
        $(
            $(#[$attr])*
            pub fn $name(mut self, value: $ty) -> Self {
                self.$($field).+ = $($wrap)?(value);
                self
            }
        )*
    };
}

/// Implements `From` for an enum whose variants each wrap one value: `Type => Variant` turns a
/// `Type` into `Self::Variant`. Written `Enum, also borrowed { .. }`, it adds `From<&Type>`
/// by clone, for call sites that keep their value.
macro_rules! from_variants {
    ($enum:ident { $($ty:ty => $variant:ident),* $(,)? }) => {
        $(
            impl From<$ty> for $enum {
                fn from(value: $ty) -> Self {
                    Self::$variant(value)
                }
            }
        )*
    };
    ($enum:ident, also borrowed { $($ty:ty => $variant:ident),* $(,)? }) => {
        $crate::ids::from_variants!($enum { $($ty => $variant),* });
        $(
            impl From<&$ty> for $enum {
                fn from(value: &$ty) -> Self {
                    Self::$variant(value.clone())
                }
            }
        )*
    };
}

pub(crate) use from_variants;
#[allow(unused_imports, reason = "used by the newtypes in other modules")]
pub(crate) use string_newtype_common;
#[allow(unused_imports, reason = "used by the newtypes in other modules")]
pub(crate) use string_newtype_parse;
pub(crate) use string_setters;
pub(crate) use value_setters;

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

impl IdError {
    /// Refuses an empty value.
    pub(crate) fn check_not_empty(what: &'static str, value: &str) -> Result<(), Self> {
        if value.is_empty() {
            return Err(Self::Empty { what });
        }
        Ok(())
    }

    /// Refuses a value of more than `max` characters.
    pub(crate) fn check_max_chars(what: &'static str, value: &str, max: usize) -> Result<(), Self> {
        let actual = value.chars().count();
        if actual > max {
            return Err(Self::TooLong {
                what,
                actual,
                max,
                unit: "characters",
            });
        }
        Ok(())
    }

    /// Refuses a value of more than `max` bytes of UTF-8.
    pub(crate) fn check_max_bytes(what: &'static str, value: &str, max: usize) -> Result<(), Self> {
        if value.len() > max {
            return Err(Self::TooLong {
                what,
                actual: value.len(),
                max,
                unit: "bytes",
            });
        }
        Ok(())
    }

    /// Refuses the first character for which `ok` is false, naming it and its position.
    pub(crate) fn check_chars(
        what: &'static str,
        value: &str,
        allowed: &'static str,
        ok: impl Fn(char) -> bool,
    ) -> Result<(), Self> {
        if let Some((position, found)) = value.chars().enumerate().find(|(_, c)| !ok(*c)) {
            return Err(Self::InvalidCharacter {
                what,
                found,
                position,
                allowed,
            });
        }
        Ok(())
    }
}

/// The id of a WhatsApp app (asset) in Webex Connect, e.g. `a_155054536910425280`.
///
/// Sent as `appid` on every request; inbound messages carry it as `appId`.
///
/// ```
/// use webex_connect_whatsapp::AppId;
/// let app = AppId::new("a_155054536910425280")?;
/// assert_eq!(app.as_str(), "a_155054536910425280");
/// assert!(AppId::new("a 1").is_err());
/// # Ok::<(), webex_connect_whatsapp::ids::IdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppId(String);

impl AppId {
    /// The longest app id accepted. Real ids are about 20 characters; the cap only stops garbage.
    pub const MAX_CHARS: usize = 128;

    /// Checks and wraps an app id: non-empty, at most [`AppId::MAX_CHARS`], ASCII letters,
    /// digits, `_`, `-` and `.` only.
    ///
    /// # Errors
    ///
    /// [`IdError`] when the value is empty, too long or has another character.
    pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
        const WHAT: &str = "app id";
        let value = value.into();
        IdError::check_not_empty(WHAT, &value)?;
        IdError::check_max_chars(WHAT, &value, Self::MAX_CHARS)?;
        IdError::check_chars(
            WHAT,
            &value,
            "ASCII letters, digits, '_', '-' and '.'",
            |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'),
        )?;
        Ok(Self(value))
    }
}

string_newtype_common!(AppId);
string_newtype_parse!(AppId, IdError);

/// Your own id for a message (`correlationid`), at most 50 bytes, echoed in delivery receipts.
///
/// ```
/// use webex_connect_whatsapp::CorrelationId;
/// let id = CorrelationId::new("order-1234")?;
/// assert_eq!(id, "order-1234");
/// assert!(CorrelationId::new("x".repeat(51)).is_err());
/// # Ok::<(), webex_connect_whatsapp::ids::IdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CorrelationId(String);

impl CorrelationId {
    /// The platform's limit, in bytes of UTF-8.
    pub const MAX_BYTES: usize = 50;

    /// Checks and wraps a correlation id: 1 to 50 bytes, no control characters.
    ///
    /// # Errors
    ///
    /// [`IdError`] when the value is empty, longer than 50 bytes or holds a control character.
    pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
        const WHAT: &str = "correlation id";
        let value = value.into();
        IdError::check_not_empty(WHAT, &value)?;
        IdError::check_max_bytes(WHAT, &value, Self::MAX_BYTES)?;
        IdError::check_chars(WHAT, &value, "printable characters", |c| !c.is_control())?;
        Ok(Self(value))
    }
}

string_newtype_common!(CorrelationId);
string_newtype_parse!(CorrelationId, IdError);

/// Opaque data (`callbackData`) that Webex Connect echoes in every delivery receipt.
///
/// ```
/// use webex_connect_whatsapp::CallbackData;
/// let data = CallbackData::new(r#"{"order":1234}"#)?;
/// assert_eq!(data.as_str(), r#"{"order":1234}"#);
/// # Ok::<(), webex_connect_whatsapp::ids::IdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CallbackData(String);

impl CallbackData {
    /// The documented limit (from the Messaging API v1 pages), in characters.
    pub const MAX_CHARS: usize = 2000;

    /// Checks and wraps callback data: 1 to 2000 characters.
    ///
    /// # Errors
    ///
    /// [`IdError`] when the value is empty or longer than 2000 characters.
    pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
        const WHAT: &str = "callback data";
        let value = value.into();
        IdError::check_not_empty(WHAT, &value)?;
        IdError::check_max_chars(WHAT, &value, Self::MAX_CHARS)?;
        Ok(Self(value))
    }
}

string_newtype_common!(CallbackData);
string_newtype_parse!(CallbackData, IdError);

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
