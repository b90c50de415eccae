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
//! let (profile, warnings) = BusinessProfile::builder()
//!     .about("Fresh bread every morning")
//!     .email("hello@bakery.example")
//!     .website("https://bakery.example")
//!     .build()?;
//! assert_eq!(profile.about(), Some("Fresh bread every morning"));
//! assert!(warnings.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::ids::{string_newtype_common, string_newtype_parse};
use crate::warning::Warning;

/// The longest About text the FAQ allows, in characters.
pub const MAX_ABOUT_CHARS: usize = 256;
/// How much of the About text WhatsApp shows today (Meta), in characters. Longer texts get a
/// warning.
pub const META_ABOUT_VISIBLE_CHARS: usize = 139;
/// The longest address, in characters.
pub const MAX_ADDRESS_CHARS: usize = 256;
/// The longest contact email, in characters.
pub const MAX_EMAIL_CHARS: usize = 128;
/// The longest local part (before `@`) of a contact email, in characters (RFC 5321).
pub const MAX_EMAIL_LOCAL_CHARS: usize = 64;
/// The longest domain label of a contact email, in characters (RFC 1035).
pub const MAX_EMAIL_LABEL_CHARS: usize = 63;
/// The longest description the FAQ allows, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 256;
/// The longest description Meta allows, in characters (the FAQ's limit is stricter).
pub const META_MAX_DESCRIPTION_CHARS: usize = 512;
/// The most websites Meta shows on a profile. More get a warning.
pub const META_MAX_WEBSITES: usize = 2;
/// The longest website URL Meta accepts, in characters. Longer ones get a warning.
pub const META_MAX_WEBSITE_CHARS: usize = 256;

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

/// A contact email: at most [`MAX_EMAIL_CHARS`] characters, one `@`, a local part of 1 to
/// [`MAX_EMAIL_LOCAL_CHARS`] characters without spaces, and a domain with at least one dot
/// whose labels are letters, digits and inner hyphens. This is a sanity check, not RFC 5322:
/// it refuses typos, not every address a mail server would refuse.
///
/// ```
/// use webex_connect_whatsapp::profile::ContactEmail;
///
/// let email = ContactEmail::new("support@shop.example")?;
/// assert_eq!(email.as_str(), "support@shop.example");
/// assert!(ContactEmail::new("support@localhost").is_err());
/// assert!(ContactEmail::new("a@b@shop.example").is_err());
/// # Ok::<(), webex_connect_whatsapp::profile::ProfileError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContactEmail(String);

impl ContactEmail {
    /// Checks and wraps a contact email (surrounding whitespace is trimmed).
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::ContactEmail;
    /// assert!(ContactEmail::new(" hi@example.com ").is_ok());
    /// assert!(ContactEmail::new("hi there@example.com").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`ProfileError::TooLong`] above [`MAX_EMAIL_CHARS`], [`ProfileError::InvalidEmail`] when
    /// the address is malformed.
    pub fn new(value: impl Into<String>) -> Result<Self, ProfileError> {
        let value = value.into();
        let trimmed = value.trim();
        let actual = trimmed.chars().count();
        if actual > MAX_EMAIL_CHARS {
            return Err(ProfileError::TooLong {
                field: "email",
                actual,
                max: MAX_EMAIL_CHARS,
            });
        }
        check_email(trimmed).map_err(|reason| ProfileError::InvalidEmail { reason })?;
        Ok(Self(trimmed.to_owned()))
    }
}

string_newtype_common!(ContactEmail);
string_newtype_parse!(ContactEmail, ProfileError);

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

/// The business profile's text fields and websites, checked against the FAQ's limits.
///
/// Built with [`BusinessProfile::builder`]. Serde uses Meta's field names (`about`,
/// `address`, `description`, `email`, `websites`) and checks the limits when reading.
///
/// ```
/// use webex_connect_whatsapp::profile::BusinessProfile;
///
/// let (profile, _) = BusinessProfile::builder().address("1 High St, Leeds").build()?;
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
    email: Option<ContactEmail>,
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
        let builder = BusinessProfile::builder();
        let builder = raw
            .about
            .into_iter()
            .fold(builder, BusinessProfileBuilder::about);
        let builder = raw
            .address
            .into_iter()
            .fold(builder, BusinessProfileBuilder::address);
        let builder = raw
            .description
            .into_iter()
            .fold(builder, BusinessProfileBuilder::description);
        let builder = raw
            .email
            .into_iter()
            .fold(builder, BusinessProfileBuilder::email);
        let builder = raw
            .websites
            .into_iter()
            .fold(builder, BusinessProfileBuilder::website);
        builder.build().map(|(profile, _)| profile)
    }
}

impl BusinessProfile {
    /// Starts a profile; every field is optional.
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// let (profile, warnings) = BusinessProfile::builder().build()?;
    /// assert_eq!(profile, BusinessProfile::default());
    /// assert!(warnings.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> BusinessProfileBuilder {
        BusinessProfileBuilder::default()
    }

    /// The About text.
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// let (p, _) = BusinessProfile::builder().about("Open 7-19").build()?;
    /// assert_eq!(p.about(), Some("Open 7-19"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn about(&self) -> Option<&str> {
        self.about.as_deref()
    }

    /// The address.
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// let (p, _) = BusinessProfile::builder().address("1 High St").build()?;
    /// assert_eq!(p.address(), Some("1 High St"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }

    /// The description.
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// let (p, _) = BusinessProfile::builder().description("Bakery").build()?;
    /// assert_eq!(p.description(), Some("Bakery"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The contact email.
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// let (p, _) = BusinessProfile::builder().email("a@shop.example").build()?;
    /// assert_eq!(p.email().map(|e| e.as_str()), Some("a@shop.example"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn email(&self) -> Option<&ContactEmail> {
        self.email.as_ref()
    }

    /// The websites, in the order given.
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// let (p, _) = BusinessProfile::builder().website("https://shop.example").build()?;
    /// assert_eq!(p.websites(), ["https://shop.example"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn websites(&self) -> &[String] {
        &self.websites
    }

    /// The warnings for this profile, as [`BusinessProfileBuilder::build`] returns them (useful
    /// after reading a profile with serde).
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// let (p, warnings) = BusinessProfile::builder().about("x".repeat(140)).build()?;
    /// assert_eq!(p.warnings(), warnings);
    /// assert_eq!(warnings[0].rule(), "profile.about.visible");
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

/// Builds a [`BusinessProfile`]; the limits are checked in [`BusinessProfileBuilder::build`].
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
    /// Sets the About text (at most [`MAX_ABOUT_CHARS`]; WhatsApp shows
    /// [`META_ABOUT_VISIBLE_CHARS`]).
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// assert!(BusinessProfile::builder().about("a".repeat(257)).build().is_err());
    /// ```
    pub fn about(mut self, about: impl Into<String>) -> Self {
        self.about = Some(about.into());
        self
    }

    /// Sets the address (at most [`MAX_ADDRESS_CHARS`]).
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// assert!(BusinessProfile::builder().address("a".repeat(256)).build().is_ok());
    /// ```
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }

    /// Sets the description (at most [`MAX_DESCRIPTION_CHARS`]).
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// assert!(BusinessProfile::builder().description("a".repeat(256)).build().is_ok());
    /// ```
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the contact email (checked as [`ContactEmail::new`] does).
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// assert!(BusinessProfile::builder().email("not-an-email").build().is_err());
    /// ```
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Adds a website. Meta takes at most [`META_MAX_WEBSITES`], `http`/`https` only, each at
    /// most [`META_MAX_WEBSITE_CHARS`]; breaking those gives warnings, not errors.
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// let (_, warnings) = BusinessProfile::builder().website("ftp://shop.example").build()?;
    /// assert_eq!(warnings[0].rule(), "profile.website.scheme");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn website(mut self, url: impl Into<String>) -> Self {
        self.websites.push(url.into());
        self
    }

    /// Checks the fields and returns the profile with its warnings.
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::BusinessProfile;
    /// let (profile, warnings) = BusinessProfile::builder().about("Hi").build()?;
    /// assert_eq!(profile.about(), Some("Hi"));
    /// assert!(warnings.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ProfileError::TooLong`] for a field over its FAQ limit (About, address and description
    /// 256 characters, email 128) and [`ProfileError::InvalidEmail`] for a malformed email.
    pub fn build(self) -> Result<(BusinessProfile, Vec<Warning>), ProfileError> {
        check_len("about", self.about.as_deref(), MAX_ABOUT_CHARS)?;
        check_len("address", self.address.as_deref(), MAX_ADDRESS_CHARS)?;
        check_len(
            "description",
            self.description.as_deref(),
            MAX_DESCRIPTION_CHARS,
        )?;
        let email = self.email.map(ContactEmail::new).transpose()?;
        let profile = BusinessProfile {
            about: self.about,
            address: self.address,
            description: self.description,
            email,
            websites: self.websites,
        };
        let warnings = profile.warnings();
        Ok((profile, warnings))
    }
}

fn check_len(field: &'static str, value: Option<&str>, max: usize) -> Result<(), ProfileError> {
    let actual = value.map_or(0, |v| v.chars().count());
    if actual > max {
        return Err(ProfileError::TooLong { field, actual, max });
    }
    Ok(())
}

/// The smallest width and height of a profile image, in pixels (FAQ; Meta's own minimum is
/// 192×192).
pub const MIN_PROFILE_IMAGE_PIXELS: u32 = 1024;

/// How far from square a profile image may be: the long side divided by the short side is at
/// most 1.1 (the FAQ asks for "1:1 or a squarish aspect ratio"), written as 11/10.
pub const MAX_PROFILE_IMAGE_ASPECT: (u32, u32) = (11, 10);

/// A profile image whose JPEG header says it is at least [`MIN_PROFILE_IMAGE_PIXELS`] square
/// pixels and near-square ([`MAX_PROFILE_IMAGE_ASPECT`]).
///
/// Only the header is read (the SOI marker, then segment by segment up to the frame header);
/// the image data is not decoded, so a file that is corrupt after its header still passes.
///
/// ```
/// use webex_connect_whatsapp::profile::ProfileImage;
///
/// // SOI, then a baseline frame header (SOF0) for 1080x1080, 3 components.
/// let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x04, 0x38, 0x04, 0x38, 0x03];
/// jpeg.extend_from_slice(&[0; 9]);
/// let image = ProfileImage::from_jpeg_bytes(&jpeg)?;
/// assert_eq!((image.width(), image.height()), (1080, 1080));
/// # Ok::<(), webex_connect_whatsapp::profile::ProfileImageError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProfileImage {
    width: u32,
    height: u32,
}

/// Why a profile image was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileImageError {
    /// No bytes at all.
    #[error("profile image is empty; expected a JPEG file")]
    Empty,
    /// Another image format, or not an image.
    #[error("profile image is {format}, but only JPEG is allowed")]
    NotJpeg {
        /// What the file looks like: `a PNG file`, `a GIF file`, `not an image file`, ...
        format: &'static str,
    },
    /// The JPEG header is cut short or broken.
    #[error("profile image is not a well-formed JPEG: {reason} at byte {offset}")]
    Malformed {
        /// What was wrong.
        reason: &'static str,
        /// Where, counted in bytes from the start of the file.
        offset: usize,
    },
    /// Smaller than [`MIN_PROFILE_IMAGE_PIXELS`] on a side.
    #[error("profile image is {width}x{height} pixels, but the minimum is {min}x{min}")]
    TooSmall {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The minimum per side.
        min: u32,
    },
    /// Too far from square.
    #[error(
        "profile image is {width}x{height} pixels, but it must be square or nearly so (long side \
         at most 1.1 times the short side)"
    )]
    NotSquare {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
}

impl ProfileImage {
    /// Reads the width and height from a JPEG's frame header and checks them.
    ///
    /// ```
    /// use webex_connect_whatsapp::profile::{ProfileImage, ProfileImageError};
    ///
    /// let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    /// assert_eq!(
    ///     ProfileImage::from_jpeg_bytes(png),
    ///     Err(ProfileImageError::NotJpeg { format: "a PNG file" })
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// [`ProfileImageError::Empty`], [`ProfileImageError::NotJpeg`] for other formats,
    /// [`ProfileImageError::Malformed`] for a truncated or broken header,
    /// [`ProfileImageError::TooSmall`] and [`ProfileImageError::NotSquare`].
    pub fn from_jpeg_bytes(bytes: &[u8]) -> Result<Self, ProfileImageError> {
        let (width, height) = jpeg_dimensions(bytes)?;
        let min = MIN_PROFILE_IMAGE_PIXELS;
        if width < min || height < min {
            return Err(ProfileImageError::TooSmall { width, height, min });
        }
        let (long, short) = (width.max(height), width.min(height));
        let (num, den) = MAX_PROFILE_IMAGE_ASPECT;
        if u64::from(long) * u64::from(den) > u64::from(short) * u64::from(num) {
            return Err(ProfileImageError::NotSquare { width, height });
        }
        Ok(Self { width, height })
    }

    /// Width in pixels.
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::ProfileImage;
    /// # let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xC2, 0x00, 0x0B, 0x08, 0x04, 0x00, 0x04, 0x10, 0x01, 0, 0, 0];
    /// assert_eq!(ProfileImage::from_jpeg_bytes(&jpeg)?.width(), 1040);
    /// # Ok::<(), webex_connect_whatsapp::profile::ProfileImageError>(())
    /// ```
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::ProfileImage;
    /// # let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xC2, 0x00, 0x0B, 0x08, 0x04, 0x00, 0x04, 0x10, 0x01, 0, 0, 0];
    /// assert_eq!(ProfileImage::from_jpeg_bytes(&jpeg)?.height(), 1024);
    /// # Ok::<(), webex_connect_whatsapp::profile::ProfileImageError>(())
    /// ```
    pub fn height(&self) -> u32 {
        self.height
    }
}

fn sniff_format(bytes: &[u8]) -> &'static str {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"\x89PNG") {
        "a PNG file"
    } else if starts(b"GIF8") {
        "a GIF file"
    } else if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP".as_slice()) {
        "a WEBP file"
    } else if starts(b"BM") {
        "a BMP file"
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        "a TIFF file"
    } else if bytes.get(4..8) == Some(b"ftyp".as_slice()) {
        "a HEIC/AVIF or MP4 file"
    } else if starts(b"%PDF") {
        "a PDF file"
    } else if starts(b"<") {
        "an SVG, HTML or XML file"
    } else {
        "not an image file"
    }
}

/// Walks the JPEG segments from SOI to the first frame header (`SOFn`) and reads its size.
fn jpeg_dimensions(bytes: &[u8]) -> Result<(u32, u32), ProfileImageError> {
    let malformed = |reason, offset| ProfileImageError::Malformed { reason, offset };
    if bytes.is_empty() {
        return Err(ProfileImageError::Empty);
    }
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(ProfileImageError::NotJpeg {
            format: sniff_format(bytes),
        });
    }
    let mut pos = 2;
    loop {
        match bytes.get(pos) {
            Some(0xFF) => {}
            Some(_) => return Err(malformed("expected a segment marker", pos)),
            None => return Err(malformed("file ends before the frame header", pos)),
        }
        // A marker may be preceded by any number of 0xFF fill bytes.
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            return Err(malformed("file ends inside a marker", pos));
        };
        pos += 1;
        match marker {
            // TEM and RSTn stand alone, without a length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD8 => return Err(malformed("second start-of-image marker", pos - 2)),
            0xD9 => return Err(malformed("end of image before the frame header", pos - 2)),
            0xDA => return Err(malformed("scan data before the frame header", pos - 2)),
            _ => {}
        }
        let length = match bytes.get(pos..pos + 2) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => return Err(malformed("file ends inside a segment length", pos)),
        };
        if length < 2 {
            return Err(malformed("segment length below 2", pos));
        }
        // SOF0-SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            if length < 8 {
                return Err(malformed("frame header shorter than 8 bytes", pos));
            }
            let Some(&[_precision, h1, h0, w1, w0]) = bytes.get(pos + 2..pos + 7) else {
                return Err(malformed("file ends inside the frame header", pos));
            };
            let height = u32::from(u16::from_be_bytes([h1, h0]));
            let width = u32::from(u16::from_be_bytes([w1, w0]));
            if width == 0 || height == 0 {
                return Err(malformed("frame header gives a zero width or height", pos));
            }
            return Ok((width, height));
        }
        pos += length;
    }
}

/// The longest display name accepted. The sources set no limit; this only stops garbage.
pub const MAX_DISPLAY_NAME_CHARS: usize = 512;

/// Display names shorter than this get a warning.
pub const MIN_DISPLAY_NAME_CHARS: usize = 3;

/// All-caps names with at most this many letters count as acronyms (`IBM`, `BMW AG`) and get no
/// all-caps warning.
pub const MAX_ACRONYM_LETTERS: usize = 5;

/// Why a display name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DisplayNameError {
    /// Empty after trimming whitespace.
    #[error("display name is empty")]
    Empty,
    /// Longer than [`MAX_DISPLAY_NAME_CHARS`].
    #[error("display name is {actual} characters long, but the max is {max}")]
    TooLong {
        /// Length in characters.
        actual: usize,
        /// The limit.
        max: usize,
    },
    /// A control character (newline, tab, ...).
    #[error("display name contains a control character at character {position}")]
    ControlCharacter {
        /// Position in the trimmed name, counted in characters from 0.
        position: usize,
    },
}

/// A WhatsApp display name: non-empty after trimming, at most [`MAX_DISPLAY_NAME_CHARS`], no
/// control characters. WhatsApp's formatting rules are checked by
/// [`DisplayName::warnings`], since only human review enforces them.
///
/// ```
/// use webex_connect_whatsapp::profile::DisplayName;
///
/// let name = DisplayName::new("  My New Business ")?;
/// assert_eq!(name.as_str(), "My New Business");
/// assert!(name.warnings().is_empty());
/// let loud = DisplayName::new("BEST SHOP OFFICIAL")?;
/// let rules: Vec<_> = loud.warnings().iter().map(|w| w.rule()).collect();
/// assert_eq!(rules, ["display_name.all_caps", "display_name.official"]);
/// # Ok::<(), webex_connect_whatsapp::profile::DisplayNameError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    /// Checks and wraps a display name (surrounding whitespace is trimmed).
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::DisplayName;
    /// assert!(DisplayName::new("   ").is_err());
    /// assert!(DisplayName::new("Line\nbreak").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`DisplayNameError::Empty`], [`DisplayNameError::TooLong`] or
    /// [`DisplayNameError::ControlCharacter`].
    pub fn new(value: impl Into<String>) -> Result<Self, DisplayNameError> {
        let value = value.into();
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(DisplayNameError::Empty);
        }
        let actual = trimmed.chars().count();
        if actual > MAX_DISPLAY_NAME_CHARS {
            return Err(DisplayNameError::TooLong {
                actual,
                max: MAX_DISPLAY_NAME_CHARS,
            });
        }
        if let Some(position) = trimmed.chars().position(char::is_control) {
            return Err(DisplayNameError::ControlCharacter { position });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// WhatsApp's display-name formatting rules that the name breaks, one warning per rule:
    /// `display_name.min_length` (under 3 characters), `display_name.all_caps` (all capitals,
    /// beyond a short acronym), `display_name.emoji`, `display_name.url`,
    /// `display_name.trademark` (™, ®, ©), `display_name.official` ("Official", "Verified"),
    /// `display_name.meta_product` ("WhatsApp", "Facebook", "Instagram").
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::DisplayName;
    /// let name = DisplayName::new("Shop™ 🍞 on WhatsApp")?;
    /// let rules: Vec<_> = name.warnings().iter().map(|w| w.rule()).collect();
    /// assert_eq!(rules, ["display_name.emoji", "display_name.trademark", "display_name.meta_product"]);
    /// # Ok::<(), webex_connect_whatsapp::profile::DisplayNameError>(())
    /// ```
    pub fn warnings(&self) -> Vec<Warning> {
        let name = self.0.as_str();
        let lower = name.to_lowercase();
        let mut warnings = Vec::new();
        let chars = name.chars().count();
        if chars < MIN_DISPLAY_NAME_CHARS {
            warnings.push(Warning::new(
                "display_name.min_length",
                format!(
                    "display name is {chars} characters long; WhatsApp wants at least \
                     {MIN_DISPLAY_NAME_CHARS}"
                ),
            ));
        }
        let letters = name.chars().filter(|c| c.is_alphabetic()).count();
        let has_lower = name.chars().any(char::is_lowercase);
        let has_upper = name.chars().any(char::is_uppercase);
        if has_upper && !has_lower && letters > MAX_ACRONYM_LETTERS {
            warnings.push(Warning::new(
                "display_name.all_caps",
                "display name is all capitals; WhatsApp allows that only for short acronyms",
            ));
        }
        if name.chars().any(is_emoji) {
            warnings.push(Warning::new(
                "display_name.emoji",
                "display name contains an emoji; WhatsApp does not allow emoji in display names",
            ));
        }
        if looks_like_url(&lower) {
            warnings.push(Warning::new(
                "display_name.url",
                "display name contains a web address; WhatsApp does not allow URLs in display names",
            ));
        }
        if name.chars().any(|c| matches!(c, '™' | '®' | '©' | '℠')) {
            warnings.push(Warning::new(
                "display_name.trademark",
                "display name contains a trademark or copyright sign; WhatsApp does not allow them",
            ));
        }
        if ["official", "verified"]
            .iter()
            .any(|word| lower.contains(word))
        {
            warnings.push(Warning::new(
                "display_name.official",
                "display name contains \"official\" or \"verified\"; WhatsApp does not allow them",
            ));
        }
        if ["whatsapp", "whats app", "facebook", "instagram"]
            .iter()
            .any(|word| lower.contains(word))
        {
            warnings.push(Warning::new(
                "display_name.meta_product",
                "display name contains a Meta product name such as WhatsApp; WhatsApp does not \
                 allow them",
            ));
        }
        warnings
    }
}

string_newtype_common!(DisplayName);
string_newtype_parse!(DisplayName, DisplayNameError);

fn is_emoji(c: char) -> bool {
    matches!(u32::from(c),
        0x1F000..=0x1FAFF // pictographs, emoticons, transport, flags, supplemental symbols
        | 0x2600..=0x27BF // miscellaneous symbols and dingbats
        | 0x2B00..=0x2BFF // arrows and stars used as emoji (⭐)
        | 0xFE0F          // emoji presentation selector
        | 0x200D          // zero-width joiner of emoji sequences
    )
}

fn looks_like_url(lower: &str) -> bool {
    const TLDS: &[&str] = &[
        "com", "net", "org", "io", "co", "uk", "de", "in", "info", "biz", "app", "shop", "store",
        "online", "site", "xyz",
    ];
    if lower.contains("://") || lower.contains("www.") {
        return true;
    }
    lower.split_whitespace().any(|word| {
        let word = word.trim_end_matches(|c: char| !c.is_alphanumeric());
        word.rsplit_once('.').is_some_and(|(host, tld)| {
            !host.is_empty()
                && host.chars().last().is_some_and(char::is_alphanumeric)
                && TLDS.contains(&tld)
        })
    })
}

/// The FAQ's limit on display-name changes: at most [`DisplayNameChangePolicy::FIRST_WINDOW_CHANGES`]
/// changes in the first [`DisplayNameChangePolicy::WINDOW`] after registration; once that is
/// used, or after the first window, the next change must wait a full window after the latest.
///
/// ```
/// use time::macros::datetime;
/// use webex_connect_whatsapp::profile::DisplayNameChangePolicy;
///
/// let registered = datetime!(2025-01-01 0:00 UTC);
/// let changes = [datetime!(2025-01-02 0:00 UTC), datetime!(2025-01-03 0:00 UTC)];
/// DisplayNameChangePolicy::check(registered, &changes, datetime!(2025-01-04 0:00 UTC))?;
///
/// let three = [changes[0], changes[1], datetime!(2025-01-04 0:00 UTC)];
/// let err = DisplayNameChangePolicy::check(registered, &three, datetime!(2025-01-05 0:00 UTC))
///     .unwrap_err();
/// assert_eq!(err.next_allowed(), Some(datetime!(2025-02-03 0:00 UTC)));
/// # Ok::<(), webex_connect_whatsapp::profile::DisplayNameChangeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DisplayNameChangePolicy;

/// Why a display-name change is not allowed yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DisplayNameChangeError {
    /// The limit is used; the next change is allowed at `next_allowed`.
    #[error(
        "display name was already changed {changes_in_window} times in the last 30 days; the \
         next change is allowed from {}",
        rfc3339(.next_allowed)
    )]
    TooSoon {
        /// When the next change is allowed.
        next_allowed: OffsetDateTime,
        /// Changes counted against the limit.
        changes_in_window: usize,
    },
    /// `now` is before the registration time.
    #[error("the time given is before the number's registration")]
    BeforeRegistration,
}

impl DisplayNameChangeError {
    /// When the next change is allowed, if that is the reason.
    ///
    /// ```
    /// # use webex_connect_whatsapp::profile::DisplayNameChangeError;
    /// assert_eq!(DisplayNameChangeError::BeforeRegistration.next_allowed(), None);
    /// ```
    pub fn next_allowed(&self) -> Option<OffsetDateTime> {
        match self {
            Self::TooSoon { next_allowed, .. } => Some(*next_allowed),
            Self::BeforeRegistration => None,
        }
    }
}

fn rfc3339(at: &OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

impl DisplayNameChangePolicy {
    /// The first window after registration, and the wait between changes after it: 30 days.
    pub const WINDOW: Duration = Duration::days(30);

    /// Changes allowed in the first window: 3.
    pub const FIRST_WINDOW_CHANGES: usize = 3;

    /// Whether a display-name change at `now` is allowed, given when the number was registered
    /// and when the name was changed before (in any order).
    ///
    /// ```
    /// use time::macros::datetime;
    /// use webex_connect_whatsapp::profile::DisplayNameChangePolicy;
    ///
    /// let registered = datetime!(2025-01-01 0:00 UTC);
    /// let last = [datetime!(2025-03-01 0:00 UTC)];
    /// assert!(DisplayNameChangePolicy::check(registered, &last, datetime!(2025-03-15 0:00 UTC)).is_err());
    /// assert!(DisplayNameChangePolicy::check(registered, &last, datetime!(2025-03-31 0:00 UTC)).is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// [`DisplayNameChangeError::TooSoon`] with the time of the next allowed change, or
    /// [`DisplayNameChangeError::BeforeRegistration`] when `now` is before `registered_at`.
    pub fn check(
        registered_at: OffsetDateTime,
        previous_changes: &[OffsetDateTime],
        now: OffsetDateTime,
    ) -> Result<(), DisplayNameChangeError> {
        if now < registered_at {
            return Err(DisplayNameChangeError::BeforeRegistration);
        }
        let Some(latest) = previous_changes.iter().copied().max() else {
            return Ok(());
        };
        let first_window_end = registered_at.saturating_add(Self::WINDOW);
        let in_first_window = previous_changes
            .iter()
            .filter(|&&at| at < first_window_end)
            .count();
        if now < first_window_end && in_first_window < Self::FIRST_WINDOW_CHANGES {
            return Ok(());
        }
        let next_allowed = latest.saturating_add(Self::WINDOW);
        if now >= next_allowed {
            return Ok(());
        }
        let window_start = now.saturating_sub(Self::WINDOW);
        let changes_in_window = previous_changes
            .iter()
            .filter(|&&at| at > window_start)
            .count();
        Err(DisplayNameChangeError::TooSoon {
            next_allowed,
            changes_in_window,
        })
    }
}
