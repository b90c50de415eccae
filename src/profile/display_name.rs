//! The display name: its checks, the formatting rules WhatsApp's review applies, and how often
//! it may change.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::trimmed_checked;
use crate::ids::{string_newtype_common, string_newtype_parse};
use crate::limits::{MAX_ACRONYM_LETTERS, MAX_DISPLAY_NAME_CHARS, MIN_DISPLAY_NAME_CHARS};
use crate::text::{PlainTextFault, check_plain};
use crate::warning::Warning;

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

impl From<PlainTextFault> for DisplayNameError {
    fn from(fault: PlainTextFault) -> Self {
        match fault {
            PlainTextFault::Empty => Self::Empty,
            PlainTextFault::TooLong { actual, max } => Self::TooLong { actual, max },
            PlainTextFault::ControlCharacter { position } => Self::ControlCharacter { position },
        }
    }
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
        trimmed_checked(value, |name| Ok(check_plain(name, MAX_DISPLAY_NAME_CHARS)?)).map(Self)
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
    pub const WINDOW: Duration = Duration::from_hours(30 * 24);

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
        // 30 days always fit; the fallback only keeps the conversion free of panics.
        let window = time::Duration::try_from(Self::WINDOW).unwrap_or(time::Duration::MAX);
        let first_window_end = registered_at.saturating_add(window);
        let in_first_window = previous_changes
            .iter()
            .filter(|&&at| at < first_window_end)
            .count();
        if now < first_window_end && in_first_window < Self::FIRST_WINDOW_CHANGES {
            return Ok(());
        }
        let next_allowed = latest.saturating_add(window);
        if now >= next_allowed {
            return Ok(());
        }
        let window_start = now.saturating_sub(window);
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
