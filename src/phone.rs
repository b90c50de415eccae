//! Phone numbers in E.164 form. (STUB: replaced by the validators work.)

use std::fmt;

/// A valid phone number in E.164 form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    e164: String,
}

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneNumberError {
    /// Not implemented yet.
    #[error("not a valid phone number")]
    Invalid,
}

impl PhoneNumber {
    /// Parses international input.
    ///
    /// # Errors
    ///
    /// [`PhoneNumberError`] when the input is not a valid number.
    pub fn parse(input: &str) -> Result<Self, PhoneNumberError> {
        let digits: String = input.chars().filter(char::is_ascii_digit).collect();
        if !input.trim_start().starts_with('+') || digits.len() < 8 {
            return Err(PhoneNumberError::Invalid);
        }
        Ok(Self {
            e164: format!("+{digits}"),
        })
    }

    /// Parses national input for an ISO 3166 region.
    ///
    /// # Errors
    ///
    /// [`PhoneNumberError`] when the input is not a valid number.
    pub fn parse_with_region(input: &str, _region: &str) -> Result<Self, PhoneNumberError> {
        Self::parse(input)
    }

    /// The number in E.164 form, with `+`.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The digits only, as Webex Connect's `waid`.
    pub fn waid(&self) -> &str {
        self.e164.strip_prefix('+').unwrap_or(&self.e164)
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PhoneNumber").field(&self.e164).finish()
    }
}
