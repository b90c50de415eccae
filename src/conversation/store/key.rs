//! Who state is kept for: [`RecipientKey`] names the user, and [`check_waid`] checks the id
//! before it becomes part of a store key.

use super::error::StoreError;
use crate::phone::PhoneNumber;
use crate::recipient::{Bsuid, Recipient};

/// The longest recipient id a store accepts, in characters.
///
/// Phone-number waids have at most 15 digits, normalized WAIDs such as `IN.2149372115xxxxxx`
/// about 20 characters, and the longest business-scoped user id 135
/// (`US.ENT.` and 128 letters and digits, see [`Bsuid`]); the margin allows for
/// longer ids without letting unbounded input into keys.
pub const MAX_RECIPIENT_KEY_CHARS: usize = 160;

/// Checks a recipient id (any [`RecipientKey`]: a `waid`, normalized WAID or BSUID) before it
/// becomes part of a store key.
///
/// Inbound ids are otherwise kept as received: masked sandbox ids such as `9199xxxxxxxx`,
/// normalized WAIDs such as `IN.2149372115xxxxxx` and business-scoped user ids such as
/// `US.13491208655302741918` are accepted. No id is assumed to be a phone number.
///
/// # Errors
///
/// [`StoreError::InvalidRecipient`] when the id is empty, longer than
/// [`MAX_RECIPIENT_KEY_CHARS`], or contains whitespace or control characters.
///
/// ```
/// use webex_connect_whatsapp::conversation::store::check_waid;
///
/// check_waid("9199xxxxxxxx")?;
/// check_waid("US.ENT.11815799212886844830")?;
/// assert!(check_waid("").is_err());
/// assert!(check_waid("91 99").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_waid(waid: &str) -> Result<(), StoreError> {
    // Every lookup starts here, so the usual id (printable ASCII: digits, a BSUID) passes on
    // one look at its bytes: in ASCII, whitespace and control characters are the bytes up to
    // 0x20 and 0x7f, and bytes count characters.
    let printable = |b: u8| b > b' ' && b < 0x7f;
    if !waid.is_empty() && waid.len() <= MAX_RECIPIENT_KEY_CHARS && waid.bytes().all(printable) {
        return Ok(());
    }
    if waid.is_empty() {
        return Err(StoreError::InvalidRecipient {
            reason: "is empty".into(),
        });
    }
    check_max_chars(waid, MAX_RECIPIENT_KEY_CHARS, |chars, max| {
        StoreError::InvalidRecipient {
            reason: format!("is {chars} characters long, but the max is {max}"),
        }
    })?;
    if waid.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(StoreError::InvalidRecipient {
            reason: "contains whitespace or control characters, which are not allowed".into(),
        });
    }
    Ok(())
}

/// The key `recipient` is stored under, once [`check_waid`] accepts it: every read and write
/// of per-recipient state starts here.
pub(crate) fn checked_key<W: RecipientKey + ?Sized>(recipient: &W) -> Result<&str, StoreError> {
    let key = recipient.recipient_key();
    check_waid(key)?;
    Ok(key)
}

/// Checks that `value` has at most `max` characters; otherwise returns the error `too_long`
/// makes from its count and `max`. The conversation records (recipient ids, consent wording,
/// dedupe key parts) share this one rule.
pub(crate) fn check_max_chars<E>(
    value: &str,
    max: usize,
    too_long: impl FnOnce(usize, usize) -> E,
) -> Result<(), E> {
    let chars = value.chars().count();
    if chars > max {
        return Err(too_long(chars, max));
    }
    Ok(())
}

/// Names the user a piece of state (a session window, consent) is kept for: the id it is
/// stored under.
///
/// Implemented for everything that can name a user: a [`Recipient`] and the
/// [`PhoneNumber`] and [`Bsuid`] it wraps (their [`Recipient::key`]), and raw ids as an inbound
/// webhook carries them (`&str`, `String`): a phone-number `waid`, a masked one such as
/// `9199xxxxxxxx`, a normalized WAID such as `IN.2149372115xxxxxx` or a BSUID, kept exactly as
/// received. Nothing here assumes a phone number.
///
/// The same user named two ways (a phone number and a BSUID) has two keys; an inbound message
/// carrying both records state under each (see
/// [`SessionWindows::record_message`](crate::conversation::window::SessionWindows::record_message)), so a
/// send to either id finds it.
///
/// ```
/// use webex_connect_whatsapp::conversation::store::RecipientKey;
/// use webex_connect_whatsapp::{Bsuid, PhoneNumber, Recipient};
///
/// assert_eq!("9199xxxxxxxx".recipient_key(), "9199xxxxxxxx");
/// assert_eq!(PhoneNumber::parse("+447400123456")?.recipient_key(), "447400123456");
/// let bsuid = Bsuid::new("US.13491208655302741918")?;
/// assert_eq!(bsuid.recipient_key(), "US.13491208655302741918");
/// assert_eq!(Recipient::from(bsuid).recipient_key(), "US.13491208655302741918");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait RecipientKey {
    /// The id state is stored under: a phone number's `waid` digits (no `+`), or any other id
    /// exactly as received.
    fn recipient_key(&self) -> &str;
}

impl RecipientKey for str {
    fn recipient_key(&self) -> &str {
        self
    }
}

impl RecipientKey for String {
    fn recipient_key(&self) -> &str {
        self
    }
}

impl RecipientKey for PhoneNumber {
    fn recipient_key(&self) -> &str {
        self.waid()
    }
}

impl RecipientKey for Bsuid {
    fn recipient_key(&self) -> &str {
        self.as_str()
    }
}

impl RecipientKey for Recipient {
    fn recipient_key(&self) -> &str {
        self.key()
    }
}

impl<T: RecipientKey + ?Sized> RecipientKey for &T {
    fn recipient_key(&self) -> &str {
        (**self).recipient_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_shortcut_of_check_waid_refuses_what_the_full_check_does() {
        let long = "9".repeat(MAX_RECIPIENT_KEY_CHARS + 1);
        for bad in ["", "91 99", "91\t99", "91\u{7f}99", "\u{0}", long.as_str()] {
            assert!(check_waid(bad).is_err(), "{bad:?}");
        }
        let longest = "9".repeat(MAX_RECIPIENT_KEY_CHARS);
        for good in ["!", "~", "9199xxxxxxxx", "US.ENT.1", "é", longest.as_str()] {
            assert!(check_waid(good).is_ok(), "{good:?}");
        }
        // Not ASCII: the full check, by characters.
        assert!(check_waid("91\u{a0}99").is_err());
        assert!(check_waid("91\u{85}99").is_err());
        assert!(check_waid(&"é".repeat(MAX_RECIPIENT_KEY_CHARS)).is_ok());
    }
}
