//! Who a message goes to: a phone number or a business-scoped user id (BSUID).
//!
//! Since 2026 WhatsApp users who adopt a username may reach a business with no phone number at
//! all, only a [`Bsuid`] (`US.13491208655302741918`). Meta makes supporting them mandatory, so
//! everything in this crate that addresses a user takes a [`Recipient`]: either a
//! [`PhoneNumber`] or a [`Bsuid`]. A `&PhoneNumber` still works wherever a recipient is taken.
//!
//! ```
//! use webex_connect_whatsapp::{Bsuid, PhoneNumber, Recipient};
//!
//! let by_phone: Recipient = PhoneNumber::parse("+44 7400 123456")?.into();
//! let by_id: Recipient = Bsuid::new("US.13491208655302741918")?.into();
//! assert_eq!(by_phone.key(), "447400123456");
//! assert_eq!(by_id.key(), "US.13491208655302741918");
//! // Text from a file or a command line: a BSUID when it has the BSUID form, else a number.
//! assert_eq!(Recipient::parse("US.ENT.11815799212886844830")?.bsuid().map(Bsuid::as_str), Some("US.ENT.11815799212886844830"));
//! assert!(Recipient::parse("+44 7400 123456")?.phone().is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{string_newtype_common, string_newtype_parse};
use crate::phone::{PhoneNumber, PhoneNumberError, country_prefixed_id, first_char_not};

/// Why a business-scoped user id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BsuidError {
    /// The value does not start with a two-letter uppercase country code and a dot.
    #[error(
        "a business-scoped user id starts with a two-letter uppercase country code and a dot \
         (`US.`), but {found:?} does not"
    )]
    MissingCountry {
        /// The first characters of the value (at most 8).
        found: String,
    },
    /// Nothing follows the country code (and the optional `ENT.` segment).
    #[error("a business-scoped user id needs 1 to {max} ASCII letters or digits after `{prefix}`")]
    EmptyId {
        /// The prefix that was read, e.g. `US.` or `US.ENT.`.
        prefix: String,
        /// The longest id part allowed, [`Bsuid::MAX_ID_CHARS`].
        max: usize,
    },
    /// The id part is longer than the platform issues.
    #[error(
        "the id part of a business-scoped user id is {actual} characters long, but the max is {max}"
    )]
    TooLong {
        /// Its length.
        actual: usize,
        /// The limit, [`Bsuid::MAX_ID_CHARS`].
        max: usize,
    },
    /// The id part holds something other than ASCII letters and digits.
    #[error(
        "a business-scoped user id holds {found:?} at character {position}; only ASCII letters \
         and digits may follow the country code"
    )]
    InvalidCharacter {
        /// The offending character.
        found: char,
        /// Its position in the whole value, counted in characters from 0.
        position: usize,
    },
}

/// A business-scoped user id (BSUID): how WhatsApp names a user to one business, with or
/// without a phone number.
///
/// The form is a two-letter uppercase country code, `.`, an optional `ENT.` segment (a parent
/// id shared across business portfolios), then 1 to 128 ASCII letters and digits:
/// `US.13491208655302741918`, `BR.1502576394655843`, `US.ENT.11815799212886844830`. It is kept
/// and sent back exactly as received.
///
/// ```
/// use webex_connect_whatsapp::Bsuid;
///
/// let id = Bsuid::new("US.13491208655302741918")?;
/// assert_eq!(id.as_str(), "US.13491208655302741918");
/// assert_eq!(id.country(), "US");
/// assert!(!id.is_parent());
/// assert!(Bsuid::new("US.ENT.11815799212886844830")?.is_parent());
/// for bad in ["13491208655302741918", "US.", "US.a-b", "us.123"] {
///     assert!(Bsuid::new(bad).is_err(), "{bad}");
/// }
/// # Ok::<(), webex_connect_whatsapp::recipient::BsuidError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Bsuid(String);

impl Bsuid {
    /// The longest id part (after the country code and `ENT.`) accepted.
    pub const MAX_ID_CHARS: usize = 128;

    /// The segment that marks a parent id shared across business portfolios.
    const PARENT: &'static str = "ENT.";

    /// Checks and wraps a BSUID.
    ///
    /// # Errors
    ///
    /// [`BsuidError`] naming what is wrong: no country code, no id part, an id part over
    /// [`Bsuid::MAX_ID_CHARS`], or a character other than ASCII letters and digits.
    pub fn new(value: impl Into<String>) -> Result<Self, BsuidError> {
        let value = value.into();
        let Some(rest) = country_prefixed_id(&value) else {
            return Err(BsuidError::MissingCountry {
                found: value.chars().take(8).collect(),
            });
        };
        let (prefix_len, id) = match rest.strip_prefix(Self::PARENT) {
            Some(id) => (3 + Self::PARENT.len(), id),
            None => (3, rest),
        };
        if id.is_empty() {
            return Err(BsuidError::EmptyId {
                prefix: value.get(..prefix_len).unwrap_or_default().to_owned(),
                max: Self::MAX_ID_CHARS,
            });
        }
        if let Some((offset, found)) = first_char_not(id, |c| c.is_ascii_alphanumeric()) {
            return Err(BsuidError::InvalidCharacter {
                found,
                position: prefix_len + offset,
            });
        }
        // Every character is ASCII from here on, so bytes count characters.
        if id.len() > Self::MAX_ID_CHARS {
            return Err(BsuidError::TooLong {
                actual: id.len(),
                max: Self::MAX_ID_CHARS,
            });
        }
        Ok(Self(value))
    }

    /// Whether `value` has the form of a BSUID (a country code and a dot first); used to tell
    /// a BSUID from a phone number in free text.
    ///
    /// ```
    /// use webex_connect_whatsapp::Bsuid;
    /// assert!(Bsuid::looks_like("US.1349"));
    /// assert!(!Bsuid::looks_like("+44 7400 123456"));
    /// ```
    pub fn looks_like(value: &str) -> bool {
        country_prefixed_id(value.trim()).is_some()
    }

    /// The two-letter country code the id starts with.
    pub fn country(&self) -> &str {
        self.0.get(..2).unwrap_or_default()
    }

    /// Whether this is a parent id shared across business portfolios (`US.ENT.…`).
    pub fn is_parent(&self) -> bool {
        self.0
            .get(3..)
            .is_some_and(|rest| rest.starts_with(Self::PARENT))
    }

    /// The id masked for logs: the country code and the last four characters stay.
    ///
    /// ```
    /// use webex_connect_whatsapp::Bsuid;
    /// assert_eq!(Bsuid::new("US.13491208655302741918")?.masked(), "US.****1918");
    /// # Ok::<(), webex_connect_whatsapp::recipient::BsuidError>(())
    /// ```
    pub fn masked(&self) -> String {
        let tail_start = self.0.len().saturating_sub(4).max(3);
        format!(
            "{}****{}",
            self.0.get(..3).unwrap_or_default(),
            self.0.get(tail_start..).unwrap_or_default()
        )
    }
}

string_newtype_common!(Bsuid);
string_newtype_parse!(Bsuid, BsuidError);

impl fmt::Debug for Bsuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Bsuid").field(&self.masked()).finish()
    }
}

/// Why text could not be read as a recipient.
///
/// The message names the reason, so `println!("{e}")` alone says what to change; the same
/// reason is also the [`source`](std::error::Error::source), for reporters that walk the chain.
///
/// ```
/// use webex_connect_whatsapp::Recipient;
///
/// let e = Recipient::parse("07400 123456").unwrap_err();
/// assert!(e.to_string().starts_with("not a valid phone number: phone number has no country code"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecipientError {
    /// The text has the BSUID form (`US.…`) but is not a valid BSUID.
    #[error("not a valid business-scoped user id: {0}")]
    Bsuid(#[source] BsuidError),
    /// The text is not a valid phone number.
    #[error("not a valid phone number: {0}")]
    Phone(#[source] PhoneNumberError),
}

/// A WhatsApp user a message can go to: a phone number or a business-scoped user id.
///
/// Username users have no phone number, so nothing should assume one. Build it with `From`
/// (owned or borrowed [`PhoneNumber`] and [`Bsuid`]) or [`Recipient::parse`]. `Debug` masks
/// the id. To answer an inbound message, take
/// [`InboundMessage::reply_to`](crate::webhook::InboundMessage::reply_to): it picks the phone
/// number when the sender has one, else the BSUID.
///
/// A recipient is one id, so a send addresses it by one field: a phone number goes out as
/// `waid`, a BSUID as `bsuid`. When a destination carries both (a request read from the wire
/// can), Webex Connect uses the `waid` and ignores the `bsuid`; see
/// [`Destination`](crate::send::Destination).
///
/// ```
/// use webex_connect_whatsapp::{Bsuid, PhoneNumber, Recipient};
///
/// let phone = PhoneNumber::parse("+44 7400 123456")?;
/// let a = Recipient::from(&phone);
/// let b: Recipient = Bsuid::new("US.13491208655302741918")?.into();
/// assert_eq!(a.phone(), Some(&phone));
/// assert_eq!(b.to_string(), "US.13491208655302741918");
/// assert!(!format!("{b:?}").contains("1349120865530"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Recipient {
    /// A user addressed by phone number (sent as `waid`).
    Phone(PhoneNumber),
    /// A user addressed by business-scoped user id (sent as `bsuid`).
    Bsuid(Bsuid),
}

impl Recipient {
    /// Reads a recipient from text: a BSUID when it starts with a country code and a dot
    /// (`US.…`), otherwise a phone number with its country code.
    ///
    /// ```
    /// use webex_connect_whatsapp::Recipient;
    /// assert!(Recipient::parse("US.13491208655302741918")?.bsuid().is_some());
    /// assert!(Recipient::parse("+91 99000 12345")?.phone().is_some());
    /// assert!(Recipient::parse("US.a-b").is_err());
    /// assert!(Recipient::parse("12345").is_err());
    /// # Ok::<(), webex_connect_whatsapp::recipient::RecipientError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`RecipientError`]: why the text is neither a BSUID nor a phone number.
    pub fn parse(text: &str) -> Result<Self, RecipientError> {
        let text = text.trim();
        if Bsuid::looks_like(text) {
            Bsuid::new(text)
                .map(Self::Bsuid)
                .map_err(RecipientError::Bsuid)
        } else {
            PhoneNumber::parse(text)
                .map(Self::Phone)
                .map_err(RecipientError::Phone)
        }
    }

    /// The id state is kept under: a phone number's `waid` digits, or the BSUID as is.
    pub fn key(&self) -> &str {
        match self {
            Self::Phone(p) => p.waid(),
            Self::Bsuid(b) => b.as_str(),
        }
    }

    /// The phone number, when addressed by one.
    pub fn phone(&self) -> Option<&PhoneNumber> {
        match self {
            Self::Phone(p) => Some(p),
            Self::Bsuid(_) => None,
        }
    }

    /// The business-scoped user id, when addressed by one.
    pub fn bsuid(&self) -> Option<&Bsuid> {
        match self {
            Self::Bsuid(b) => Some(b),
            Self::Phone(_) => None,
        }
    }

    /// The id masked for logs.
    pub fn masked(&self) -> String {
        match self {
            Self::Phone(p) => p.masked(),
            Self::Bsuid(b) => b.masked(),
        }
    }
}

/// The phone number in E.164 form (`+447400123456`) or the BSUID as is.
impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Phone(p) => fmt::Display::fmt(p, f),
            Self::Bsuid(b) => fmt::Display::fmt(b, f),
        }
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Phone(p) => f.debug_tuple("Phone").field(&p.masked()).finish(),
            Self::Bsuid(b) => f.debug_tuple("Bsuid").field(&b.masked()).finish(),
        }
    }
}

impl std::str::FromStr for Recipient {
    type Err = RecipientError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

crate::conversions::from_variants!(Recipient, also borrowed {
    PhoneNumber => Phone,
    Bsuid => Bsuid,
});

impl From<&Recipient> for Recipient {
    fn from(value: &Recipient) -> Self {
        value.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsuid_accepts_the_documented_forms() {
        for ok in [
            "US.13491208655302741918",
            "BR.1502576394655843",
            "US.ENT.11815799212886844830",
            "IN.a",
            "US.ENT",
        ] {
            assert_eq!(Bsuid::new(ok).map(Bsuid::into_string).as_deref(), Ok(ok));
        }
        assert!(Bsuid::new(format!("US.{}", "9".repeat(128))).is_ok());
    }

    #[test]
    fn bsuid_errors_say_what_is_wrong() {
        assert!(matches!(
            Bsuid::new("13491208655302741918"),
            Err(BsuidError::MissingCountry { .. })
        ));
        assert!(matches!(
            Bsuid::new("us.1"),
            Err(BsuidError::MissingCountry { .. })
        ));
        assert!(matches!(
            Bsuid::new(""),
            Err(BsuidError::MissingCountry { .. })
        ));
        assert_eq!(
            Bsuid::new("US."),
            Err(BsuidError::EmptyId {
                prefix: "US.".into(),
                max: 128
            })
        );
        assert_eq!(
            Bsuid::new("US.ENT."),
            Err(BsuidError::EmptyId {
                prefix: "US.ENT.".into(),
                max: 128
            })
        );
        assert_eq!(
            Bsuid::new("US.a-b"),
            Err(BsuidError::InvalidCharacter {
                found: '-',
                position: 4
            })
        );
        assert!(matches!(
            Bsuid::new("US.é"),
            Err(BsuidError::InvalidCharacter { .. })
        ));
        assert_eq!(
            Bsuid::new(format!("US.{}", "9".repeat(129))),
            Err(BsuidError::TooLong {
                actual: 129,
                max: 128
            })
        );
    }

    #[test]
    fn masks_never_show_the_middle() {
        let b = Bsuid::new("US.13491208655302741918").unwrap();
        assert_eq!(b.masked(), "US.****1918");
        assert_eq!(Bsuid::new("US.1").unwrap().masked(), "US.****1");
        assert!(!format!("{:?}", Recipient::from(b)).contains("349120865530"));
    }

    #[test]
    fn serde_validates() {
        let b: Bsuid = serde_json::from_str("\"US.1\"").unwrap();
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"US.1\"");
        assert!(serde_json::from_str::<Bsuid>("\"1\"").is_err());
    }
}
