//! The WhatsApp business profile: About, address, contact email, description, websites, the
//! profile image and the display name.
//!
//! The Webex Connect FAQ's limits are hard errors; where Meta's current rules differ, the
//! difference comes back as a [`Warning`]:
//!
//! | field | FAQ (error) | Meta (warning) |
//! |---|---|---|
//! | About | ≤ 256 characters | WhatsApp shows at most 139 |
//! | Address | ≤ 256 characters | 256 |
//! | Contact email | ≤ 128 characters, a valid address | 128 |
//! | Description | ≤ 256 characters | 512 (the FAQ's 256 is stricter, so no warning arises) |
//! | Websites | - | ≤ 2, each ≤ 256 characters, `http`/`https` only |
//!
//! Lengths are counted in characters (Unicode scalar values), not bytes.
//!
//! ```
//! use webex_connect_whatsapp::profile::BusinessProfile;
//!
//! let profile = BusinessProfile::builder()
//!     .about("Fresh bread every morning")
//!     .email("hello@bakery.example")
//!     .website("https://bakery.example")
//!     .build()?;
//! assert_eq!(profile.about(), Some("Fresh bread every morning"));
//! assert!(profile.warnings().is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod display_name;
mod email;
mod image;

pub use display_name::{
    DisplayName, DisplayNameChangeError, DisplayNameChangePolicy, DisplayNameError,
};
pub use email::BusinessEmail;
pub use image::{ProfileImage, ProfileImageError};

use serde::{Deserialize, Serialize};

use crate::limits::{
    MAX_ABOUT_CHARS, MAX_PROFILE_ADDRESS_CHARS, MAX_PROFILE_DESCRIPTION_CHARS,
    META_ABOUT_VISIBLE_CHARS, META_MAX_WEBSITE_CHARS, META_MAX_WEBSITES,
};
use crate::warning::Warning;

/// Why a business profile was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// A text field is longer than the FAQ allows.
    #[error("{field} is {actual} characters long, but the max is {max}")]
    TooLong {
        /// Which field: `about`, `address`, `email` or `description`.
        field: &'static str,
        /// Its length in characters.
        actual: usize,
        /// The limit.
        max: usize,
    },
    /// The contact email is not a usable address.
    #[error("contact email is not a valid address: {reason}")]
    InvalidEmail {
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// The business profile's text fields and websites, checked against the FAQ's limits.
///
/// Built with [`BusinessProfile::builder`]. Serde uses Meta's field names (`about`,
/// `address`, `description`, `email`, `websites`) and checks the limits when reading.
///
/// ```
/// use webex_connect_whatsapp::profile::BusinessProfile;
///
/// let profile = BusinessProfile::builder().address("1 High St, Leeds").build()?;
/// assert_eq!(serde_json::to_string(&profile)?, r#"{"address":"1 High St, Leeds"}"#);
/// let back: BusinessProfile = serde_json::from_str(r#"{"address":"1 High St, Leeds"}"#)?;
/// assert_eq!(back, profile);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawProfile")]
pub struct BusinessProfile {
    #[serde(skip_serializing_if = "Option::is_none")]
    about: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<BusinessEmail>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    websites: Vec<String>,
}

/// The wire shape, read before the limits are checked.
#[derive(Deserialize)]
struct RawProfile {
    #[serde(default)]
    about: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    websites: Vec<String>,
}

impl TryFrom<RawProfile> for BusinessProfile {
    type Error = ProfileError;

    fn try_from(raw: RawProfile) -> Result<Self, Self::Error> {
        // The builder holds the same unchecked fields, so reading runs the same checks as
        // building; destructured so that a new field cannot be forgotten here.
        let RawProfile {
            about,
            address,
            description,
            email,
            websites,
        } = raw;
        let builder = BusinessProfileBuilder {
            about,
            address,
            description,
            email,
            websites,
        };
        builder.build()
    }
}

impl BusinessProfile {
    /// Starts a profile; every field is optional.
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// let profile = BusinessProfile::builder().build()?;
    /// assert_eq!(profile, BusinessProfile::default());
    /// assert!(profile.warnings().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> BusinessProfileBuilder {
        BusinessProfileBuilder::default()
    }

    /// The About text.
    pub fn about(&self) -> Option<&str> {
        self.about.as_deref()
    }

    /// The address.
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }

    /// The description.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The contact email.
    pub fn email(&self) -> Option<&BusinessEmail> {
        self.email.as_ref()
    }

    /// The websites, in the order given.
    pub fn websites(&self) -> &[String] {
        &self.websites
    }

    /// What Meta would not show or take as given: an About text longer than WhatsApp shows,
    /// too many websites, a website that is not `http`/`https` or is too long. These are
    /// warnings, not errors: the profile still builds (and reads with serde).
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// let p = BusinessProfile::builder().about("x".repeat(140)).build()?;
    /// assert_eq!(p.warnings()[0].rule(), "profile.about.visible");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn warnings(&self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        if let Some(about) = &self.about {
            let chars = about.chars().count();
            if chars > META_ABOUT_VISIBLE_CHARS {
                warnings.push(Warning::new(
                    "profile.about.visible",
                    format!(
                        "about is {chars} characters long, but WhatsApp shows at most \
                         {META_ABOUT_VISIBLE_CHARS}"
                    ),
                ));
            }
        }
        if self.websites.len() > META_MAX_WEBSITES {
            warnings.push(Warning::new(
                "profile.websites.count",
                format!(
                    "profile has {} websites, but WhatsApp accepts at most {META_MAX_WEBSITES}",
                    self.websites.len()
                ),
            ));
        }
        for (index, site) in self.websites.iter().enumerate() {
            let chars = site.chars().count();
            if chars > META_MAX_WEBSITE_CHARS {
                warnings.push(Warning::new(
                    "profile.website.length",
                    format!(
                        "website {index} is {chars} characters long, but WhatsApp accepts at most \
                         {META_MAX_WEBSITE_CHARS}"
                    ),
                ));
            }
            let http = url::Url::parse(site)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !http {
                warnings.push(Warning::new(
                    "profile.website.scheme",
                    format!(
                        "website {index} is not an http or https URL; WhatsApp accepts only those"
                    ),
                ));
            }
        }
        warnings
    }
}

/// Builds a [`BusinessProfile`]. [`build`](Self::build) fails with a [`ProfileError`] when a
/// field breaks a FAQ limit; what Meta would only warn about is in
/// [`BusinessProfile::warnings`] of the built profile.
///
/// ```
/// use webex_connect_whatsapp::profile::{BusinessProfile, ProfileError};
///
/// let err = BusinessProfile::builder().description("é".repeat(257)).build().unwrap_err();
/// assert_eq!(
///     err,
///     ProfileError::TooLong { field: "description", actual: 257, max: 256 }
/// );
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct BusinessProfileBuilder {
    about: Option<String>,
    address: Option<String>,
    description: Option<String>,
    email: Option<String>,
    websites: Vec<String>,
}

impl BusinessProfileBuilder {
    crate::setters::setters! {
        /// Sets the About text (at most [`MAX_ABOUT_CHARS`]; WhatsApp shows
        /// [`META_ABOUT_VISIBLE_CHARS`]).
        fn about(self, about: impl Into<String>) => self.about = Some(about.into());

        /// Sets the address (at most [`MAX_PROFILE_ADDRESS_CHARS`]).
        fn address(self, address: impl Into<String>) => self.address = Some(address.into());

        /// Sets the description (at most [`MAX_PROFILE_DESCRIPTION_CHARS`]).
        fn description(self, description: impl Into<String>) =>
            self.description = Some(description.into());

        /// Sets the contact email (checked as [`BusinessEmail::new`] does).
        fn email(self, email: impl Into<String>) => self.email = Some(email.into());

        /// Adds a website. Meta takes at most [`META_MAX_WEBSITES`], `http`/`https` only, each at
        /// most [`META_MAX_WEBSITE_CHARS`]; breaking those gives warnings, not errors.
        ///
        /// ```
        /// # use webex_connect_whatsapp::profile::BusinessProfile;
        /// let profile = BusinessProfile::builder().website("ftp://shop.example").build()?;
        /// assert_eq!(profile.warnings()[0].rule(), "profile.website.scheme");
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn website(self, url: impl Into<String>) => self.websites.push(url.into());
    }

    /// Checks the fields and returns the profile; its [`BusinessProfile::warnings`] say what
    /// Meta would not take as given.
    ///
    /// # Errors
    ///
    /// [`ProfileError::TooLong`] for a field over its FAQ limit (About, address and description
    /// 256 characters, email 128) and [`ProfileError::InvalidEmail`] for a malformed email.
    pub fn build(self) -> Result<BusinessProfile, ProfileError> {
        check_len("about", self.about.as_deref(), MAX_ABOUT_CHARS)?;
        check_len(
            "address",
            self.address.as_deref(),
            MAX_PROFILE_ADDRESS_CHARS,
        )?;
        check_len(
            "description",
            self.description.as_deref(),
            MAX_PROFILE_DESCRIPTION_CHARS,
        )?;
        let email = self.email.map(BusinessEmail::new).transpose()?;
        Ok(BusinessProfile {
            about: self.about,
            address: self.address,
            description: self.description,
            email,
            websites: self.websites,
        })
    }
}

/// Trims surrounding whitespace and keeps what is left once `check` accepts it: a display
/// name and a contact email are checked and stored as WhatsApp will show them.
fn trimmed_checked<E>(
    value: impl Into<String>,
    check: impl FnOnce(&str) -> Result<(), E>,
) -> Result<String, E> {
    let value = value.into();
    let trimmed = value.trim();
    check(trimmed)?;
    Ok(trimmed.to_owned())
}

fn check_len(field: &'static str, value: Option<&str>, max: usize) -> Result<(), ProfileError> {
    let actual = value.map_or(0, |v| v.chars().count());
    if actual > max {
        return Err(ProfileError::TooLong { field, actual, max });
    }
    Ok(())
}
