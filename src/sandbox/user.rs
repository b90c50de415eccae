//! The WhatsApp users the sandbox plays: phone users and username users (BSUID only).

use std::fmt;

use super::error::SandboxError;
use crate::phone::mask;
use crate::recipient::Bsuid;

/// A WhatsApp user the sandbox can play in inbound messages and events.
///
/// - [`SandboxUser::phone`]: a user known by phone number (`waid`), as in the FAQ's samples;
///   [`SandboxUser::with_bsuid`] adds the business-scoped user id the platform sends in
///   `userId` beside it.
/// - [`SandboxUser::by_username`]: a user who adopted a username and reaches the business
///   with no phone number: `userId` is the BSUID, `username` is set, and there is no `waid`
///   (reference §12.1).
///
/// A message from a user opens the 24-hour window under every id the user has, so a reply
/// to either id is a session message.
///
/// ```
/// use webex_connect_whatsapp::Bsuid;
/// use webex_connect_whatsapp::sandbox::SandboxUser;
///
/// let asha = SandboxUser::by_username(Bsuid::new("US.13491208655302741918")?, "asha");
/// assert_eq!(asha.waid(), None);
/// assert_eq!(asha.username(), Some("asha"));
/// let ravi = SandboxUser::phone("+91 99000 12345")?;
/// assert_eq!(ravi.waid(), Some("919900012345"));
/// assert!(SandboxUser::phone("not a number").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SandboxUser {
    waid: Option<String>,
    bsuid: Option<Bsuid>,
    username: Option<String>,
}

impl fmt::Debug for SandboxUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxUser")
            .field("waid", &self.waid.as_deref().map(mask))
            .field("bsuid", &self.bsuid.as_ref().map(Bsuid::masked))
            .field("username", &self.username)
            .finish()
    }
}

impl SandboxUser {
    /// A user known by phone number: the digits of the number, spaces and a leading `+`
    /// allowed.
    ///
    /// # Errors
    ///
    /// [`SandboxError::InvalidWaid`] when nothing but digits remains, or nothing at all.
    pub fn phone(waid: &str) -> Result<Self, SandboxError> {
        let waid: String = normalize_waid(waid)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if waid.is_empty() || !waid.chars().all(|c| c.is_ascii_digit()) {
            return Err(SandboxError::InvalidWaid {
                masked: mask(&waid),
            });
        }
        Ok(Self::unchecked_phone(&waid))
    }

    /// For payload tests and the crate's own callers that validated the waid already.
    pub(crate) fn unchecked_phone(waid: &str) -> Self {
        Self {
            waid: Some(waid.to_owned()),
            bsuid: None,
            username: None,
        }
    }

    /// A username user: no phone number, only a business-scoped user id and a username.
    pub fn by_username(bsuid: Bsuid, username: impl Into<String>) -> Self {
        Self {
            waid: None,
            bsuid: Some(bsuid),
            username: Some(username.into()),
        }
    }

    crate::setters::setters! {
        /// Adds the user's business-scoped user id, sent in `userId`.
        ///
        /// ```
        /// use webex_connect_whatsapp::Bsuid;
        /// use webex_connect_whatsapp::sandbox::SandboxUser;
        ///
        /// let user = SandboxUser::phone("919900012345")?.with_bsuid(Bsuid::new("IN.77")?);
        /// assert_eq!(user.ids().collect::<Vec<_>>(), ["919900012345", "IN.77"]);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        #[must_use]
        fn with_bsuid(self, bsuid: Bsuid) => self.bsuid = Some(bsuid);
    }

    /// The WhatsApp id (`waid`), `None` for a username user.
    pub fn waid(&self) -> Option<&str> {
        self.waid.as_deref()
    }

    /// The business-scoped user id (`userId`), if the user has one.
    pub fn bsuid(&self) -> Option<&Bsuid> {
        self.bsuid.as_ref()
    }

    /// The username, for a username user.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// Every id a business can send to: the waid, then the BSUID.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.waid
            .as_deref()
            .into_iter()
            .chain(self.bsuid.as_ref().map(Bsuid::as_str))
    }
}

/// `+919900012345` and `919900012345` name the same customer; a BSUID is kept as it is.
pub(crate) fn normalize_waid(waid: &str) -> String {
    waid.trim().trim_start_matches('+').to_owned()
}
