//! The contact email of a business profile, checked for the typos a person makes.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ProfileError, check_len, trimmed_checked};
use crate::ids::{string_newtype_common, string_newtype_parse};
use crate::limits::{MAX_EMAIL_LABEL_CHARS, MAX_EMAIL_LOCAL_CHARS, MAX_PROFILE_EMAIL_CHARS};

/// A contact email: at most [`MAX_PROFILE_EMAIL_CHARS`] characters, one `@`, a local part of 1
/// to [`MAX_EMAIL_LOCAL_CHARS`] characters without spaces, and a domain with at least one dot
/// whose labels are letters, digits and inner hyphens. This is a sanity check, not RFC 5322:
/// it refuses typos, not every address a mail server would refuse.
///
/// ```
/// use webex_connect_whatsapp::profile::BusinessEmail;
///
/// let email = BusinessEmail::new("support@shop.example")?;
/// assert_eq!(email.as_str(), "support@shop.example");
/// assert!(BusinessEmail::new("support@localhost").is_err());
/// assert!(BusinessEmail::new("a@b@shop.example").is_err());
/// # Ok::<(), webex_connect_whatsapp::profile::ProfileError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BusinessEmail(String);

impl BusinessEmail {
    /// Checks and wraps a contact email (surrounding whitespace is trimmed).
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessEmail;
    /// assert!(BusinessEmail::new(" hi@example.com ").is_ok());
    /// assert!(BusinessEmail::new("hi there@example.com").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`ProfileError::TooLong`] above [`MAX_PROFILE_EMAIL_CHARS`],
    /// [`ProfileError::InvalidEmail`] when the address is malformed.
    pub fn new(value: impl Into<String>) -> Result<Self, ProfileError> {
        trimmed_checked(value, |email| {
            check_len("email", Some(email), MAX_PROFILE_EMAIL_CHARS)?;
            check_email(email).map_err(|reason| ProfileError::InvalidEmail { reason })
        })
        .map(Self)
    }
}

string_newtype_common!(BusinessEmail);
string_newtype_parse!(BusinessEmail, ProfileError);

fn check_email(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("it is empty");
    }
    let Some((local, domain)) = value.split_once('@') else {
        return Err("it has no '@'");
    };
    if domain.contains('@') {
        return Err("it has more than one '@'");
    }
    if local.is_empty() {
        return Err("nothing before the '@'");
    }
    if local.chars().count() > MAX_EMAIL_LOCAL_CHARS {
        return Err("the part before the '@' is longer than 64 characters");
    }
    if local.chars().any(|c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(
                c,
                '<' | '>' | '(' | ')' | ',' | ';' | ':' | '\\' | '"' | '[' | ']'
            )
    }) {
        return Err("the part before the '@' contains spaces or characters not allowed there");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("the part before the '@' has a misplaced dot");
    }
    if !domain.contains('.') {
        return Err("the domain has no dot");
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err("the domain has an empty label");
        }
        if label.chars().count() > MAX_EMAIL_LABEL_CHARS {
            return Err("a domain label is longer than 63 characters");
        }
        if !label.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return Err("the domain may contain only letters, digits, hyphens and dots");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a domain label starts or ends with a hyphen");
        }
    }
    if domain
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err("the domain ends in a number, not a top-level domain");
    }
    Ok(())
}
