//! Phone numbers in E.164 form, checked against libphonenumber's metadata.
//!
//! Webex Connect addresses WhatsApp users by their number in international form: the
//! destination's `to` is the E.164 number and the `waid` is the same digits without `+`.
//! [`PhoneNumber`] accepts what people type (`+44 7400 123456`, `(020) 7946 0000` with its
//! region) and refuses what WhatsApp cannot deliver to: short codes, emergency numbers,
//! toll-free numbers without their country code, and numbers that are not valid in their
//! country.
//!
//! ```
//! use webex_connect_whatsapp::PhoneNumber;
//!
//! let intl = PhoneNumber::parse("+44 7400 123456")?;
//! let national = PhoneNumber::parse_with_region("07400 123456", "gb")?;
//! assert_eq!(intl, national);
//! assert_eq!(intl.e164(), "+447400123456");
//! assert_eq!(intl.waid(), "447400123456");
//! assert!(PhoneNumber::parse("07400 123456").is_err()); // no country code
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How numbers are checked
//!
//! The rules come from the metadata that the `phonenumber` crate ships (Google's
//! libphonenumber `PhoneNumberMetadata.xml`): country calling codes, trunk prefixes, and the
//! patterns of valid fixed-line, mobile, toll-free and other numbers per region. The crate's
//! own parser is not used: it re-strips a trunk prefix after libphonenumber's rules decided
//! to keep it (so `+7 800 …`, Russian toll-free, loses its `8`), accepts a pattern that matches
//! only the start of a number, and can panic on some inputs. This module follows
//! libphonenumber's Java parser over that metadata instead, with fully anchored patterns.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use phonenumber::metadata::{DATABASE, Database, Descriptor, Metadata};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::limits::{MAX_PHONE_DIGITS, SHORT_CODE_MAX_DIGITS};

/// The most digits accepted in national input. It leaves room for a trunk prefix (`0`, `06`,
/// `8`) or an international call prefix (`00`, `011`) in front of a full number; the E.164
/// result is still held to [`MAX_PHONE_DIGITS`].
const MAX_NATIONAL_INPUT_DIGITS: usize = MAX_PHONE_DIGITS + 5;

/// Emergency and service numbers that people type by habit. They are refused with
/// [`PhoneNumberError::Emergency`] rather than "too short", which would suggest adding digits.
const EMERGENCY_NUMBERS: &[&str] = &[
    "000", "08", "100", "101", "102", "103", "108", "110", "112", "113", "118", "119", "122",
    "123", "15", "17", "18", "190", "192", "193", "199", "911", "999",
];

/// A valid phone number in E.164 form (`+` and at most 15 digits).
///
/// Built only by parsing, so every value is a number that libphonenumber's metadata calls
/// valid for its country (fixed-line, mobile, toll-free and the other kinds of full number).
/// Serde reads and writes the E.164 string and checks it when reading.
///
/// `Debug` masks the middle digits (`PhoneNumber("+44********56")`) so numbers do not leak
/// into logs; `Display` and [`PhoneNumber::e164`] give the full number.
///
/// ```
/// use webex_connect_whatsapp::PhoneNumber;
///
/// let n: PhoneNumber = "+39 06 1234 5678".parse()?;
/// assert_eq!(n.e164(), "+390612345678");
/// assert_eq!(n.country_code(), 39);
/// assert_eq!(n.region(), Some("IT"));
/// assert_eq!(n.to_string(), "+390612345678");
/// assert_eq!(format!("{n:?}"), "PhoneNumber(\"+39********78\")");
/// assert_eq!(serde_json::to_string(&n)?, "\"+390612345678\"");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct PhoneNumber {
    e164: String,
    country_code: u16,
    region: Option<&'static str>,
}

/// Why a phone number was refused.
///
/// Each message says what is wrong and what to write instead. No message shows a whole
/// number: [`PhoneNumberError::InvalidForRegion`] and the WhatsApp-id variants show the input
/// masked ([`mask`]), and keep it whole in their fields for the caller; no message adds digits
/// the caller did not type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneNumberError {
    /// The input held no digits (it was empty, whitespace or punctuation only).
    #[error(
        "phone number has no digits; expected a number such as +44 7400 123456 (a username \
         user has no number: answer their inbound message with InboundMessage::reply_to(), \
         which gives their business-scoped user id)"
    )]
    Empty,
    /// The input held a character that is not part of a written phone number.
    #[error(
        "phone number contains {found:?} at character {position}; only digits, a leading '+', \
         spaces, dashes, dots and brackets are allowed"
    )]
    InvalidCharacter {
        /// The offending character.
        found: char,
        /// Its position in the input, counted in characters from 0.
        position: usize,
    },
    /// International input was expected but the input did not start with `+`.
    #[error(
        "phone number has no country code; start it with '+' and the country code \
         (e.g. +44 7400 123456) or parse it with its region"
    )]
    MissingCountryCode,
    /// The digits after `+` do not start with a country calling code in use.
    #[error(
        "phone number does not start with a known country calling code after '+'; check the \
         digits after '+' (44 for the UK, 1 for the US and Canada, 91 for India)"
    )]
    UnknownCountryCode,
    /// The region given for national input is not an ISO 3166 alpha-2 code libphonenumber knows.
    #[error("unknown region {region:?}; expected an ISO 3166 alpha-2 code such as GB or US")]
    UnknownRegion {
        /// The region as given.
        region: String,
    },
    /// The input is an emergency or service number.
    #[error(
        "{number} is an emergency or service number; WhatsApp needs a full number with \
         country and area code"
    )]
    Emergency {
        /// The emergency number's digits.
        number: String,
    },
    /// Too few digits for a full number: a short code, or an incomplete number.
    #[error(
        "phone number has only {digits} digits after the country code; short codes are not \
         allowed, WhatsApp needs a full number with country and area code"
    )]
    ShortCode {
        /// Digits after the country code (and after any trunk prefix).
        digits: usize,
    },
    /// Fewer digits than any full number in that country, but more than a short code.
    #[error(
        "phone number has {digits} digits after the country code, but numbers in {region} have \
         at least {min}; check for a missing digit"
    )]
    TooShort {
        /// Digits after the country code (and after any trunk prefix).
        digits: usize,
        /// The fewest digits of a full number there.
        min: usize,
        /// The region (`GB`) or, for non-geographic codes, the calling code (`+800`).
        region: String,
    },
    /// More digits than E.164 allows.
    #[error(
        "phone number has {digits} digits, but E.164 allows at most {max}; check for an extra \
         digit or a country code written twice"
    )]
    TooLong {
        /// Digits counted (country code included for international input).
        digits: usize,
        /// The limit, [`MAX_PHONE_DIGITS`].
        max: usize,
    },
    /// The digits do not form a valid number in the country they belong to. The message
    /// shows the input masked.
    #[error(
        "{:?} is not a valid phone number for {region}; expected a full fixed-line, mobile or \
         toll-free number",
        mask(input)
    )]
    InvalidForRegion {
        /// The input as given (trimmed).
        input: String,
        /// The region (`GB`) or, for non-geographic codes, the calling code (`+800`).
        region: String,
    },
    /// [`PhoneNumber::from_waid`] was given an empty WhatsApp id: the sender of an inbound
    /// message without a `waid` is a username user, reachable only by BSUID.
    #[error(
        "the whatsapp id (waid) is empty: the sender is a username user with no phone number; \
         answer them by business-scoped user id with InboundMessage::reply_to(), or build a \
         Recipient from their Bsuid"
    )]
    EmptyWaid,
    /// [`PhoneNumber::from_waid`] was given a masked WhatsApp id (`9199xxxxxxxx`, as in
    /// documentation samples), which names no number.
    #[error(
        "whatsapp id {masked} is masked (x in place of digits), so it names no phone number; \
         use the real waid, or answer the sender with InboundMessage::reply_to()"
    )]
    MaskedWaid {
        /// The id, masked again for logs ([`mask`]).
        masked: String,
    },
    /// The input is a business-scoped user id (`US.13491208655302741918`) or a normalized
    /// WhatsApp id (`IN.2149372115xxxxxx`): a country code and a dot, not a phone number.
    #[error(
        "{masked} is a business-scoped user id or a normalized whatsapp id (a country code and \
         a dot), not a phone number; read it with Recipient::parse or Bsuid::new, and answer an \
         inbound sender with InboundMessage::reply_to()"
    )]
    NotAPhoneNumber {
        /// The input, masked for logs ([`mask`]).
        masked: String,
    },
}

impl PhoneNumber {
    /// Parses a number in international form: `+`, the country code and the number, with
    /// optional spaces, dashes, dots and brackets (`+44 7400 123456`, `+1 (650) 253-0000`).
    ///
    /// A trunk prefix written after the country code, as in `+44 (0)7400 123456`, is dropped
    /// where libphonenumber's rules say it is one; in Italy the leading `0` is part of the
    /// number and is kept.
    ///
    /// ```
    /// use webex_connect_whatsapp::phone::{PhoneNumber, PhoneNumberError};
    ///
    /// assert_eq!(PhoneNumber::parse("+1 (650) 253-0000")?.e164(), "+16502530000");
    /// assert_eq!(PhoneNumber::parse("+44 (0)7400 123456")?.e164(), "+447400123456");
    /// assert_eq!(PhoneNumber::parse("+7 800 555-35-35")?.e164(), "+78005553535");
    /// assert_eq!(PhoneNumber::parse("07400 123456"), Err(PhoneNumberError::MissingCountryCode));
    /// assert!(matches!(PhoneNumber::parse("+44 118"), Err(PhoneNumberError::ShortCode { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`PhoneNumberError::MissingCountryCode`] without a leading `+`, and the other
    /// [`PhoneNumberError`] variants for characters, length, short codes, emergency numbers,
    /// unknown country codes and numbers not valid in their country.
    pub fn parse(input: &str) -> Result<Self, PhoneNumberError> {
        refuse_user_id(input)?;
        let scanned = Scanned::new(input)?;
        if scanned.plus {
            return parse_international(&scanned);
        }
        check_emergency(&scanned.digits)?;
        Err(PhoneNumberError::MissingCountryCode)
    }

    /// Parses a number as written in `region` (ISO 3166 alpha-2, any case), with its trunk
    /// prefix if it has one: `07400 123456` in `GB`, `06 1 234 5678` in `HU`,
    /// `8 912 345-67-89` in `RU`. Input starting with `+` is read as international and the
    /// region is ignored; input starting with the region's international call prefix
    /// (`00 44 …` in `DE`) is read as international too.
    ///
    /// ```
    /// use webex_connect_whatsapp::PhoneNumber;
    ///
    /// assert_eq!(PhoneNumber::parse_with_region("07400 123456", "GB")?.e164(), "+447400123456");
    /// assert_eq!(PhoneNumber::parse_with_region("06 1234 5678", "it")?.e164(), "+390612345678");
    /// assert_eq!(PhoneNumber::parse_with_region("06 1 234 5678", "HU")?.e164(), "+3612345678");
    /// assert_eq!(PhoneNumber::parse_with_region("8 912 345-67-89", "RU")?.e164(), "+79123456789");
    /// assert!(PhoneNumber::parse_with_region("0800 123 4567", "XX").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`PhoneNumberError::UnknownRegion`] for a region libphonenumber does not know, and the
    /// other [`PhoneNumberError`] variants as for [`PhoneNumber::parse`].
    pub fn parse_with_region(input: &str, region: &str) -> Result<Self, PhoneNumberError> {
        refuse_user_id(input)?;
        let scanned = Scanned::new(input)?;
        if scanned.plus {
            return parse_international(&scanned);
        }
        let meta = region_metadata(region)?;
        check_emergency(&scanned.digits)?;
        let digits = scanned.digits.as_str();
        if digits.len() > MAX_NATIONAL_INPUT_DIGITS {
            return Err(PhoneNumberError::TooLong {
                digits: digits.len(),
                max: MAX_PHONE_DIGITS,
            });
        }
        if let Some(rest) = strip_international_prefix(meta, digits) {
            return parse_international_digits(rest, &scanned.trimmed);
        }
        if let Some(nsn) = strip_own_country_code(meta, digits) {
            return finish(meta.country_code(), &nsn, &scanned.trimmed);
        }
        let nsn = strip_national_prefix(meta, digits);
        finish(meta.country_code(), &nsn, &scanned.trimmed)
    }

    /// Builds a number from a WhatsApp id as webhooks and receipts carry it: the number's
    /// digits without `+` (`447400123456`). A leading `+` is accepted too.
    ///
    /// Not every `waid` is a phone number: documentation samples mask theirs
    /// (`9199xxxxxxxx`), the platform may send a normalized id (`IN.2149372115xxxxxx`) or a
    /// business-scoped user id, and a username user has no `waid` at all. Those are refused
    /// with an error that says what to use instead; to answer an inbound message whatever its
    /// sender has, use [`InboundMessage::reply_to`](crate::webhook::InboundMessage::reply_to).
    ///
    /// ```
    /// use webex_connect_whatsapp::phone::{PhoneNumber, PhoneNumberError};
    ///
    /// let n = PhoneNumber::from_waid("447400123456")?;
    /// assert_eq!(n.e164(), "+447400123456");
    /// assert_eq!(n.waid(), "447400123456");
    /// assert_eq!(PhoneNumber::from_waid(""), Err(PhoneNumberError::EmptyWaid));
    /// assert!(matches!(PhoneNumber::from_waid("9199xxxxxxxx"), Err(PhoneNumberError::MaskedWaid { .. })));
    /// let e = PhoneNumber::from_waid("IN.2149372115xxxxxx").unwrap_err();
    /// assert!(matches!(e, PhoneNumberError::NotAPhoneNumber { .. }));
    /// assert!(e.to_string().contains("Recipient::parse or Bsuid::new"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`PhoneNumberError::EmptyWaid`] for an empty id, [`PhoneNumberError::MaskedWaid`] for
    /// a masked one, [`PhoneNumberError::NotAPhoneNumber`] for a BSUID or normalized id,
    /// [`PhoneNumberError::InvalidCharacter`] for anything but digits, and the other
    /// [`PhoneNumberError`] variants as for [`PhoneNumber::parse`] when the digits are not a
    /// valid number.
    pub fn from_waid(waid: &str) -> Result<Self, PhoneNumberError> {
        let trimmed = waid.trim();
        let digits = trimmed.strip_prefix('+').unwrap_or(trimmed);
        if digits.is_empty() {
            return Err(PhoneNumberError::EmptyWaid);
        }
        refuse_user_id(trimmed)?;
        if digits.contains(['x', 'X'])
            && digits
                .chars()
                .all(|c| c.is_ascii_digit() || c.eq_ignore_ascii_case(&'x'))
        {
            return Err(PhoneNumberError::MaskedWaid {
                masked: mask(trimmed),
            });
        }
        let leading = waid.chars().take_while(|c| c.is_whitespace()).count();
        let offset = leading + usize::from(digits.len() < trimmed.len());
        if let Some((index, found)) = first_char_not(digits, |c| c.is_ascii_digit()) {
            return Err(PhoneNumberError::InvalidCharacter {
                found,
                position: offset + index,
            });
        }
        Self::parse(&format!("+{digits}"))
    }

    /// The number in E.164 form: `+` and the digits, e.g. `+447400123456`.
    ///
    /// ```
    /// # use webex_connect_whatsapp::PhoneNumber;
    /// assert_eq!(PhoneNumber::parse("+44 7400 123456")?.e164(), "+447400123456");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The digits without `+`, as Webex Connect's `waid`, e.g. `447400123456`.
    ///
    /// ```
    /// # use webex_connect_whatsapp::PhoneNumber;
    /// assert_eq!(PhoneNumber::parse("+44 7400 123456")?.waid(), "447400123456");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn waid(&self) -> &str {
        self.e164.strip_prefix('+').unwrap_or(&self.e164)
    }

    /// The country calling code, e.g. `44`.
    ///
    /// ```
    /// # use webex_connect_whatsapp::PhoneNumber;
    /// assert_eq!(PhoneNumber::parse("+1 650 253 0000")?.country_code(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn country_code(&self) -> u16 {
        self.country_code
    }

    /// The ISO 3166 alpha-2 region the number belongs to (`GB`, `CA`), or `None` for
    /// non-geographic numbers such as international freephone (`+800`).
    ///
    /// ```
    /// # use webex_connect_whatsapp::PhoneNumber;
    /// assert_eq!(PhoneNumber::parse("+1 604 555 5555")?.region(), Some("CA"));
    /// assert_eq!(PhoneNumber::parse("+800 1234 5678")?.region(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn region(&self) -> Option<&str> {
        self.region
    }

    /// The number with all but the country code and the last two digits hidden, for logs:
    /// `+44********56`.
    ///
    /// ```
    /// # use webex_connect_whatsapp::PhoneNumber;
    /// assert_eq!(PhoneNumber::parse("+44 7400 123456")?.masked(), "+44********56");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn masked(&self) -> String {
        let digits = self.waid();
        let code_len = count_digits(self.country_code);
        let shown_tail = 2;
        let hidden = digits.len().saturating_sub(code_len + shown_tail);
        let head = digits.get(..code_len).unwrap_or_default();
        let tail = digits.get(code_len + hidden..).unwrap_or_default();
        format!("+{head}{}{tail}", "*".repeat(hidden))
    }

    /// Consumes the number and returns its E.164 string.
    ///
    /// ```
    /// # use webex_connect_whatsapp::PhoneNumber;
    /// assert_eq!(PhoneNumber::parse("+44 7400 123456")?.into_string(), "+447400123456");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_string(self) -> String {
        self.e164
    }
}

/// Masks a phone number or WhatsApp id as received (any string) for logs and error messages:
/// the first and last four characters stay, the middle becomes `****`. Shorter inputs, which
/// are not valid numbers anyway, keep at most their last two characters.
///
/// Use it for raw `waid`s from webhooks and requests; a parsed [`PhoneNumber`] has
/// [`PhoneNumber::masked`], which keeps the country code instead.
///
/// ```
/// use webex_connect_whatsapp::phone::mask;
/// assert_eq!(mask("447400123456"), "4474****3456");
/// assert_eq!(mask("+447400123456"), "+447****3456");
/// assert_eq!(mask("12345"), "****45");
/// ```
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().filter(|c| !c.is_whitespace()).collect();
    let n = chars.len();
    if n >= 9 {
        let head: String = chars.iter().take(4).collect();
        let tail: String = chars.iter().skip(n - 4).collect();
        format!("{head}****{tail}")
    } else {
        let tail: String = chars.iter().skip(n.saturating_sub(2)).collect();
        format!("****{tail}")
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PhoneNumber").field(&self.masked()).finish()
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.e164
    }
}

impl FromStr for PhoneNumber {
    type Err = PhoneNumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for PhoneNumber {
    type Error = PhoneNumberError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneNumberError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

// Written by hand: the derive with `try_from` would tie the deserializer's lifetime to the
// `&'static str` region field.
impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.e164
    }
}

/// The part after `XX.` when `value` starts with two uppercase ASCII letters and a dot: the
/// shape of a business-scoped user id or a normalized WhatsApp id (`US.1349…`, `IN.2149…`),
/// which is never a phone number. It lives here, below [`crate::recipient`], so that both
/// the number parser and `Bsuid` read the shape one way.
pub(crate) fn country_prefixed_id(value: &str) -> Option<&str> {
    let bytes = value.as_bytes();
    match bytes {
        [a, b, b'.', ..] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => value.get(3..),
        _ => None,
    }
}

/// The first character of `text` that `allowed` refuses, with its position counted in
/// characters, as the `InvalidCharacter` errors of numbers and user ids report it. It lives
/// here, below [`crate::recipient`], for the same reason as [`country_prefixed_id`].
pub(crate) fn first_char_not(text: &str, allowed: impl Fn(char) -> bool) -> Option<(usize, char)> {
    text.chars().enumerate().find(|&(_, c)| !allowed(c))
}

/// Refuses a business-scoped user id or normalized WhatsApp id (`US.1349…`, `IN.2149…`) with
/// an error that names what it is, rather than "invalid character 'U'".
fn refuse_user_id(input: &str) -> Result<(), PhoneNumberError> {
    if country_prefixed_id(input.trim()).is_some() {
        return Err(PhoneNumberError::NotAPhoneNumber {
            masked: mask(input.trim()),
        });
    }
    Ok(())
}

/// The input after the character check: whether it had a leading `+`, and its digits.
struct Scanned {
    trimmed: String,
    plus: bool,
    digits: String,
}

impl Scanned {
    /// Checks every character before any metadata is consulted, so that only ASCII digits
    /// ever reach the patterns.
    fn new(input: &str) -> Result<Self, PhoneNumberError> {
        let trimmed = input.trim();
        let leading = input.chars().take_while(|c| c.is_whitespace()).count();
        let mut plus = false;
        let mut digits = String::new();
        for (index, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if index == 0 => plus = true,
                ' ' | '\u{a0}' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(PhoneNumberError::InvalidCharacter {
                        found: c,
                        position: leading + index,
                    });
                }
            }
        }
        if digits.is_empty() {
            return Err(PhoneNumberError::Empty);
        }
        Ok(Self {
            trimmed: trimmed.to_owned(),
            plus,
            digits,
        })
    }
}

fn check_emergency(digits: &str) -> Result<(), PhoneNumberError> {
    if EMERGENCY_NUMBERS.contains(&digits) {
        return Err(PhoneNumberError::Emergency {
            number: digits.to_owned(),
        });
    }
    Ok(())
}

fn parse_international(scanned: &Scanned) -> Result<PhoneNumber, PhoneNumberError> {
    check_emergency(&scanned.digits)?;
    parse_international_digits(&scanned.digits, &scanned.trimmed)
}

/// Reads `digits` as country code plus national number (what follows `+` or an IDD).
fn parse_international_digits(digits: &str, input: &str) -> Result<PhoneNumber, PhoneNumberError> {
    if digits.len() > MAX_PHONE_DIGITS {
        return Err(PhoneNumberError::TooLong {
            digits: digits.len(),
            max: MAX_PHONE_DIGITS,
        });
    }
    if digits.starts_with('0') {
        return Err(PhoneNumberError::UnknownCountryCode);
    }
    let (country_code, national) = (1..=3)
        .find_map(|len| {
            let code: u16 = digits.get(..len)?.parse().ok()?;
            database().region(&code)?;
            Some((code, digits.get(len..)?))
        })
        .ok_or(PhoneNumberError::UnknownCountryCode)?;
    let nsn = match main_metadata(country_code) {
        // libphonenumber strips a trunk prefix written after the country code too.
        Some(meta) => strip_national_prefix(meta, national),
        None => national.to_owned(),
    };
    finish(country_code, &nsn, input)
}

/// Checks the national significant number and builds the value, or says why it is refused.
fn finish(country_code: u16, nsn: &str, input: &str) -> Result<PhoneNumber, PhoneNumberError> {
    let total = count_digits(country_code) + nsn.len();
    if total > MAX_PHONE_DIGITS {
        return Err(PhoneNumberError::TooLong {
            digits: total,
            max: MAX_PHONE_DIGITS,
        });
    }
    if let Some(meta) = metadata_for_number(country_code, nsn)
        && is_valid_for(meta, nsn)
    {
        let region = Some(meta.id()).filter(|id| is_region_id(id));
        return Ok(PhoneNumber {
            e164: format!("+{country_code}{nsn}"),
            country_code,
            region,
        });
    }
    let label = region_label(country_code);
    let min = main_metadata(country_code)
        .and_then(|meta| possible_lengths(meta).0.first().copied())
        .map_or(0, usize::from);
    if nsn.len() < min || nsn.len() < 2 {
        if nsn.len() <= SHORT_CODE_MAX_DIGITS {
            return Err(PhoneNumberError::ShortCode { digits: nsn.len() });
        }
        return Err(PhoneNumberError::TooShort {
            digits: nsn.len(),
            min,
            region: label,
        });
    }
    Err(PhoneNumberError::InvalidForRegion {
        input: input.to_owned(),
        region: label,
    })
}

fn database() -> &'static Database {
    &DATABASE
}

fn count_digits(code: u16) -> usize {
    code.to_string().len()
}

/// Region ids are two letters; `001` marks non-geographic entities such as `+800`.
fn is_region_id(id: &str) -> bool {
    id.len() == 2 && id.bytes().all(|b| b.is_ascii_uppercase())
}

fn region_label(country_code: u16) -> String {
    database()
        .region(&country_code)
        .and_then(|ids| ids.first().copied())
        .filter(|id| is_region_id(id))
        .map_or_else(|| format!("+{country_code}"), str::to_owned)
}

fn region_metadata(region: &str) -> Result<&'static Metadata, PhoneNumberError> {
    let upper = region.trim().to_ascii_uppercase();
    if !is_region_id(&upper) {
        return Err(PhoneNumberError::UnknownRegion {
            region: region.to_owned(),
        });
    }
    database()
        .by_id(upper.as_str())
        .ok_or_else(|| PhoneNumberError::UnknownRegion {
            region: region.to_owned(),
        })
}

/// The metadata libphonenumber uses for a calling code: its main country, or for
/// non-geographic codes the code's own entry.
fn main_metadata(country_code: u16) -> Option<&'static Metadata> {
    database().by_code(&country_code)?.first().copied()
}

/// Which region's metadata a number belongs to (libphonenumber's
/// `getRegionCodeForNumberFromRegionList`): the first region whose leading digits match, or
/// else the first where the number is of a known type.
fn metadata_for_number(country_code: u16, nsn: &str) -> Option<&'static Metadata> {
    let candidates = database().by_code(&country_code)?;
    if let [only] = candidates.as_slice() {
        return Some(*only);
    }
    candidates
        .into_iter()
        .find(|meta| match meta.leading_digits() {
            Some(leading) => matches_prefix(leading.as_str(), nsn).is_some(),
            None => is_valid_for(meta, nsn),
        })
}

/// Whether `nsn` is a number of a known type in `meta` (libphonenumber's
/// `getNumberTypeHelper(..) != UNKNOWN`). Every type libphonenumber knows counts.
fn is_valid_for(meta: &Metadata, nsn: &str) -> bool {
    matches_general(meta, nsn) && type_descriptors(meta).any(|desc| matches_descriptor(desc, nsn))
}

/// The descriptors of the kinds of full number, in libphonenumber's order.
fn type_descriptors(meta: &Metadata) -> impl Iterator<Item = &Descriptor> {
    let descriptors = meta.descriptors();
    [
        descriptors.premium_rate(),
        descriptors.toll_free(),
        descriptors.shared_cost(),
        descriptors.voip(),
        descriptors.personal_number(),
        descriptors.pager(),
        descriptors.uan(),
        descriptors.voicemail(),
        descriptors.fixed_line(),
        descriptors.mobile(),
    ]
    .into_iter()
    .flatten()
}

/// The possible lengths of any full number in the region, and those of numbers diallable only
/// locally. The `phonenumber` crate leaves the general descriptor's lengths empty, so they are
/// gathered from the kinds, as libphonenumber's metadata build does.
fn possible_lengths(meta: &Metadata) -> (Vec<u16>, Vec<u16>) {
    let mut national = Vec::new();
    let mut local = Vec::new();
    for desc in type_descriptors(meta) {
        national.extend_from_slice(desc.possible_length());
        local.extend_from_slice(desc.possible_local_length());
    }
    national.sort_unstable();
    national.dedup();
    local.sort_unstable();
    local.dedup();
    local.retain(|len| !national.contains(len));
    (national, local)
}

/// The general pattern, with the region's possible lengths.
fn matches_general(meta: &Metadata, nsn: &str) -> bool {
    let (lengths, _) = possible_lengths(meta);
    u16::try_from(nsn.len()).is_ok_and(|len| lengths.contains(&len))
        && matches_descriptor(meta.descriptors().general(), nsn)
}

/// A full match of the descriptor's pattern and lengths. `Descriptor::is_match` in the
/// `phonenumber` crate only anchors the pattern at the start, so a valid prefix of a longer
/// digit string passes there; here the whole number must match.
fn matches_descriptor(desc: &Descriptor, nsn: &str) -> bool {
    let lengths = desc.possible_length();
    let len_ok =
        u16::try_from(nsn.len()).is_ok_and(|len| lengths.is_empty() || lengths.contains(&len));
    len_ok
        && anchored(desc.national_number().as_str(), Anchor::Full)
            .is_some_and(|re| re.is_match(nsn))
}

/// The end of the match of `pattern` at the start of `text` (Java's `lookingAt`).
fn matches_prefix(pattern: &str, text: &str) -> Option<usize> {
    anchored(pattern, Anchor::Start)?
        .find(text)
        .map(|m| m.end())
}

/// If `digits` start with the region's international call prefix (`00`, `011`, `810`), the
/// digits after it, as libphonenumber's `maybeStripInternationalPrefixAndNormalize` does: the
/// prefix is not stripped when a `0` follows it, since no country code starts with `0`.
fn strip_international_prefix<'d>(meta: &Metadata, digits: &'d str) -> Option<&'d str> {
    let end = matches_prefix(meta.international_prefix()?.as_str(), digits)?;
    let rest = digits.get(end..)?;
    (!rest.is_empty() && !rest.starts_with('0')).then_some(rest)
}

/// National input that starts with the region's own country code without `+`
/// (`44 7400 123456` in `GB`): libphonenumber's `maybeExtractCountryCode` reads it as
/// international when the digits are not a valid national number as typed but are without
/// the code, or are too long as typed.
fn strip_own_country_code(meta: &Metadata, digits: &str) -> Option<String> {
    let rest = digits.strip_prefix(meta.country_code().to_string().as_str())?;
    let candidate = strip_national_prefix(meta, rest);
    let too_long = possible_lengths(meta)
        .0
        .last()
        .is_some_and(|&max| digits.len() > usize::from(max));
    let better = !matches_general(meta, digits) && matches_general(meta, &candidate);
    (better || too_long).then_some(candidate)
}

/// Drops a trunk prefix (and carrier code) from national digits the way libphonenumber's
/// `maybeStripNationalPrefixAndCarrierCode` does, and keeps the result only if its length is
/// possible for the region. This is what keeps Italy's leading `0` (Italy has no trunk
/// prefix) and Russia's toll-free `8 800 …` apart from its trunk `8`.
fn strip_national_prefix(meta: &Metadata, digits: &str) -> String {
    let stripped = strip_prefix_once(meta, digits);
    match stripped {
        Some(candidate) if length_keeps_strip(meta, candidate.len()) => candidate,
        _ => digits.to_owned(),
    }
}

fn strip_prefix_once(meta: &Metadata, digits: &str) -> Option<String> {
    let pattern = match meta.national_prefix_for_parsing() {
        Some(re) => re.as_str().to_owned(),
        None => regex::escape(meta.national_prefix()?),
    };
    if pattern.is_empty() {
        return None;
    }
    let re = anchored(&pattern, Anchor::Start)?;
    let caps = re.captures(digits)?;
    let whole = caps.get(0)?;
    let viable_original = matches_general(meta, digits);
    // Java's `group(groupCount())`: the last group, or the whole match when there is none.
    let last_group = caps.len().checked_sub(1).and_then(|i| caps.get(i));
    let transform = meta
        .national_prefix_transform_rule()
        .filter(|rule| !rule.is_empty());
    let result = match (transform, last_group) {
        (Some(rule), Some(_)) => {
            let mut out = String::new();
            caps.expand(&java_to_regex_replacement(rule), &mut out);
            out.push_str(digits.get(whole.end()..)?);
            out
        }
        _ => digits.get(whole.end()..)?.to_owned(),
    };
    // Keep a number that was already valid as typed rather than break it by stripping.
    if viable_original && !matches_general(meta, &result) {
        return None;
    }
    Some(result)
}

/// libphonenumber's `testNumberLength` for the general descriptor: stripping is kept unless
/// the rest is too short, only locally diallable or of an impossible length.
fn length_keeps_strip(meta: &Metadata, len: usize) -> bool {
    let Ok(len) = u16::try_from(len) else {
        return false;
    };
    let (possible, local) = possible_lengths(meta);
    if local.contains(&len) {
        return false;
    }
    match (possible.first(), possible.last()) {
        (Some(&min), Some(&max)) => len >= min && (len > max || possible.contains(&len)),
        _ => false,
    }
}

/// Java writes `$1` for a group in a replacement; the `regex` crate would read `$15` as group
/// 15, so the group number is braced.
fn java_to_regex_replacement(rule: &str) -> String {
    let mut out = String::with_capacity(rule.len() + 4);
    let mut chars = rule.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek().copied()) {
            ('$', Some(d)) if d.is_ascii_digit() => {
                chars.next();
                out.push_str("${");
                out.push(d);
                out.push('}');
            }
            ('$', _) => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

/// Compiled metadata patterns; `None` marks one the `regex` crate cannot compile.
///
/// Held in an `Arc` because cloning a `Regex` gives it a fresh matching cache, which would be
/// rebuilt on every call.
type PatternCache = Mutex<HashMap<String, Option<Arc<Regex>>>>;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Anchor {
    Start,
    Full,
}

/// Compiles a metadata pattern anchored at the start (or at both ends), once per pattern.
/// The metadata is written for Java's `matches()`/`lookingAt()`, which anchor implicitly.
fn anchored(pattern: &str, anchor: Anchor) -> Option<Arc<Regex>> {
    static START: OnceLock<PatternCache> = OnceLock::new();
    static FULL: OnceLock<PatternCache> = OnceLock::new();
    let cache = match anchor {
        Anchor::Start => &START,
        Anchor::Full => &FULL,
    }
    .get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(found) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(pattern)
    {
        return found.clone();
    }
    // The metadata patterns are written in free-spacing mode; the closing group goes on its
    // own line so a trailing comment in a pattern cannot swallow it.
    let source = match anchor {
        Anchor::Start => format!("^(?:{pattern}\n)"),
        Anchor::Full => format!("^(?:{pattern}\n)$"),
    };
    let compiled = regex::RegexBuilder::new(&source)
        .ignore_whitespace(true)
        .build()
        .ok()
        .map(Arc::new);
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(pattern.to_owned(), compiled.clone());
    compiled
}
