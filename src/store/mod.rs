//! What the stateful parts ([session windows](crate::window), the [opt-in
//! ledger](crate::optin) and [duplicate suppression](crate::dedupe)) share: the [`StoreError`]
//! their pluggable stores return, the [`Clock`] they read the time from, and [`RecipientKey`]
//! for the recipients they are keyed on.
//!
//! Every store trait has a bounded in-memory default that needs no optional dependency. With
//! the `redis` feature, [`RedisStore`](crate::store::redis::RedisStore) implements all three
//! traits on one Redis server, so several webhook receivers and senders behind a load
//! balancer share their state.

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;

use std::error::Error as StdError;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use time::OffsetDateTime;

use crate::phone::PhoneNumber;
use crate::recipient::{Bsuid, Recipient};

/// The longest recipient id a store accepts, in characters.
///
/// Phone-number waids have at most 15 digits, normalized WAIDs such as `IN.2149372115xxxxxx`
/// about 20 characters, and the longest business-scoped user id 135
/// (`US.ENT.` and 128 letters and digits, see [`Bsuid`]); the margin allows for
/// longer ids without letting unbounded input into keys.
pub const MAX_RECIPIENT_KEY_CHARS: usize = 160;

/// Why a store could not answer.
///
/// Messages never contain the recipient id (personal data) or a connection URL (which may hold
/// a password).
///
/// ```
/// use webex_connect_whatsapp::store::StoreError;
///
/// let err = StoreError::InvalidRecipient { reason: "is empty".into() };
/// assert_eq!(err.to_string(), "recipient id is empty");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend (for example Redis) failed or could not be reached.
    #[error("the {store} store failed")]
    Backend {
        /// Which store failed, e.g. `redis`.
        store: &'static str,
        /// The backend's own error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The backend holds a value this crate cannot read (written by another program or a
    /// different version).
    #[error("the {store} store holds an unreadable {what}: {detail}")]
    Corrupt {
        /// Which store, e.g. `redis`.
        store: &'static str,
        /// What kind of value, e.g. `session window timestamp`.
        what: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// The recipient id (a waid, normalized WAID or BSUID) was refused: empty, too long, or
    /// with whitespace or control characters. The id itself is not repeated, because it is
    /// personal data.
    #[error("recipient id {reason}")]
    InvalidRecipient {
        /// What was wrong, e.g. `is 170 characters long, but the max is 160`.
        reason: String,
    },
    /// A time-to-live of zero or one too large for the backend.
    #[error("time-to-live is {millis} ms, but it must be between 1 ms and {max_millis} ms")]
    InvalidTtl {
        /// The requested time-to-live, in milliseconds.
        millis: u128,
        /// The longest accepted time-to-live, in milliseconds.
        max_millis: u128,
    },
}

/// The longest time-to-live a store accepts, in milliseconds (about 292 million years; the
/// bound only keeps the value inside Redis's 64-bit range).
pub const MAX_TTL_MILLIS: u128 = i64::MAX as u128 / 1000;

/// Checks a TTL and returns it in whole milliseconds, rounded up so a key never lives shorter
/// than asked.
pub(crate) fn ttl_millis(ttl: std::time::Duration) -> Result<u64, StoreError> {
    let nanos = ttl.as_nanos();
    let millis = nanos.div_ceil(1_000_000);
    if millis == 0 || millis > MAX_TTL_MILLIS {
        return Err(StoreError::InvalidTtl {
            millis,
            max_millis: MAX_TTL_MILLIS,
        });
    }
    u64::try_from(millis).map_err(|_| StoreError::InvalidTtl {
        millis,
        max_millis: MAX_TTL_MILLIS,
    })
}

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
/// use webex_connect_whatsapp::store::check_waid;
///
/// check_waid("9199xxxxxxxx")?;
/// check_waid("US.ENT.11815799212886844830")?;
/// assert!(check_waid("").is_err());
/// assert!(check_waid("91 99").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_waid(waid: &str) -> Result<(), StoreError> {
    if waid.is_empty() {
        return Err(StoreError::InvalidRecipient {
            reason: "is empty".into(),
        });
    }
    let chars = waid.chars().count();
    if chars > MAX_RECIPIENT_KEY_CHARS {
        return Err(StoreError::InvalidRecipient {
            reason: format!("is {chars} characters long, but the max is {MAX_RECIPIENT_KEY_CHARS}"),
        });
    }
    if waid.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(StoreError::InvalidRecipient {
            reason: "contains whitespace or control characters, which are not allowed".into(),
        });
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
/// [`SessionWindows::record_message`](crate::window::SessionWindows::record_message)), so a
/// send to either id finds it.
///
/// ```
/// use webex_connect_whatsapp::{Bsuid, PhoneNumber, Recipient, store::RecipientKey};
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

/// Where the stateful parts read the current time from, so tests can control it.
///
/// ```
/// use webex_connect_whatsapp::store::{Clock, SystemClock};
///
/// let now = SystemClock.now();
/// assert!(now.year() >= 2025);
/// ```
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
}

impl<T: Clock + ?Sized> Clock for Arc<T> {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}

/// The operating system's clock, in UTC.
///
/// ```
/// use webex_connect_whatsapp::store::{Clock, SystemClock};
/// assert_eq!(SystemClock.now().offset(), time::UtcOffset::UTC);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that moves only when told to, for tests. Clones share the same time.
///
/// ```
/// use time::{Duration, macros::datetime};
/// use webex_connect_whatsapp::store::{Clock, ManualClock};
///
/// let clock = ManualClock::new(datetime!(2026-01-01 09:00 UTC));
/// let shared = clock.clone();
/// clock.advance(Duration::hours(24));
/// assert_eq!(shared.now(), datetime!(2026-01-02 09:00 UTC));
/// ```
#[derive(Clone)]
pub struct ManualClock {
    now: Arc<Mutex<OffsetDateTime>>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// A clock showing the current system time, truncated to whole milliseconds so the
    /// values tests compute are easy to read.
    pub fn starting_now() -> Self {
        let now = OffsetDateTime::now_utc();
        let millis = now.unix_timestamp_nanos() / 1_000_000 * 1_000_000;
        Self::new(OffsetDateTime::from_unix_timestamp_nanos(millis).unwrap_or(now))
    }

    /// Sets the time (it may go backwards, to test out-of-order events).
    pub fn set(&self, now: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    /// Moves the time forward by `by` (backward when negative), saturating at the ends of
    /// the representable range.
    pub fn advance(&self, by: time::Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.saturating_add(by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}
