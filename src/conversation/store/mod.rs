//! Where the conversation state is kept: one trait per kind of state ([`WindowStore`] for
//! session windows, [`SeenStore`] for duplicate suppression, and
//! [`OptInStore`](crate::conversation::optin::OptInStore) for the opt-in ledger), the
//! [`StoreError`] they return, and [`RecipientKey`] for the recipients they are keyed on.
//!
//! The opt-in store's trait and its in-memory default live in
//! [`optin`](crate::conversation::optin), beside the consent events they keep, so that the
//! imports run one way (the ledger's values use this module's keys and errors; nothing here
//! needs the ledger's values).
//!
//! Every trait has an in-memory default that needs no optional dependency
//! ([`InMemoryWindowStore`], [`InMemorySeenStore`],
//! [`InMemoryOptInStore`](crate::conversation::optin::InMemoryOptInStore)). With the `redis`
//! feature, [`RedisStore`](redis::RedisStore) implements all three traits on one Redis
//! server, so several webhook receivers and senders behind a load balancer share their state.

mod memory;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

pub use memory::{
    DEFAULT_SEEN_CAPACITY, DEFAULT_WINDOW_CAPACITY, InMemorySeenStore, InMemoryWindowStore,
};

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
/// use webex_connect_whatsapp::conversation::store::StoreError;
///
/// let err = StoreError::InvalidRecipient { reason: "is empty".into() };
/// assert_eq!(err.to_string(), "recipient id is empty");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend (for example Redis) failed or could not be reached.
    #[error("the {store} store failed: {source}")]
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

/// One inbound message for [`WindowStore::record_inbound`]: whose it is, when it came, and
/// how long the store may keep it. One value instead of four arguments, so every store and
/// every wrapper passes it on whole.
#[derive(Clone, Copy)]
pub struct InboundRecord<'a> {
    /// The recipient id (a phone number's digits, a normalized WAID or a BSUID), already
    /// checked with [`check_waid`].
    pub waid: &'a str,
    /// When the message came.
    pub at: OffsetDateTime,
    /// When the entry may be dropped.
    pub keep_until: OffsetDateTime,
    /// The caller's clock: stores use it for expiry instead of their own.
    pub now: OffsetDateTime,
}

impl fmt::Debug for InboundRecord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The recipient id is personal data: never shown.
        f.debug_struct("InboundRecord")
            .field("at", &self.at)
            .field("keep_until", &self.keep_until)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// Where [`SessionWindows`](crate::conversation::window::SessionWindows) keeps each recipient's last inbound time.
///
/// Implement it to back the windows with your own database. Implementations must keep the
/// latest time atomically: a late, out-of-order inbound must never replace a later one, even
/// when two instances record at once.
///
/// ```
/// use time::{Duration, macros::datetime};
/// use webex_connect_whatsapp::conversation::store::{
///     InboundRecord, InMemoryWindowStore, WindowStore,
/// };
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let store = InMemoryWindowStore::new(10);
/// let t = datetime!(2026-01-01 09:00 UTC);
/// let keep = t + Duration::hours(48);
/// let inbound = InboundRecord { waid: "9199xxxxxxxx", at: t, keep_until: keep, now: t };
/// store.record_inbound(inbound).await?;
/// assert_eq!(store.last_inbound("9199xxxxxxxx", t).await?, Some(t));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait WindowStore: Send + Sync {
    /// Records an inbound message (see [`InboundRecord`] for its fields) unless a later one
    /// from the same recipient is already stored, and returns the time now stored.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    fn record_inbound(
        &self,
        inbound: InboundRecord<'_>,
    ) -> impl Future<Output = Result<OffsetDateTime, StoreError>> + Send;

    /// The time of the last inbound message from `waid`, if one is stored and its
    /// `keep_until` is after `now`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails or holds an unreadable value.
    fn last_inbound(
        &self,
        waid: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<OffsetDateTime>, StoreError>> + Send;

    /// Deletes what is stored for `waid` (for example on a GDPR erasure request) and says
    /// whether anything was.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    fn forget(&self, waid: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

impl<S: WindowStore + ?Sized> WindowStore for Arc<S> {
    fn record_inbound(
        &self,
        inbound: InboundRecord<'_>,
    ) -> impl Future<Output = Result<OffsetDateTime, StoreError>> + Send {
        (**self).record_inbound(inbound)
    }

    fn last_inbound(
        &self,
        waid: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<OffsetDateTime>, StoreError>> + Send {
        (**self).last_inbound(waid, now)
    }

    fn forget(&self, waid: &str) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).forget(waid)
    }
}

/// What [`SeenStore::claim`] found for a key: may this delivery of the event be handled?
///
/// ```
/// use webex_connect_whatsapp::conversation::store::Claim;
/// assert!(Claim::Claimed.is_claimed());
/// assert!(!Claim::Pending.is_claimed());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Claim {
    /// The key was free and is now claimed by the caller (pending, for the lease): handle
    /// the event, then [complete](SeenStore::complete) it on success or
    /// [release](SeenStore::release) it on failure.
    Claimed,
    /// Another delivery of the event holds a live claim: it is being handled right now (or
    /// its handler crashed, and the claim lasts until its lease ends). Answer 503, so that
    /// the platform delivers it again later.
    Pending,
    /// The event was handled: answer 200 and do nothing else.
    Done,
}

impl Claim {
    /// True for [`Claim::Claimed`]: this delivery is the one to handle.
    pub fn is_claimed(self) -> bool {
        matches!(self, Self::Claimed)
    }
}

/// Remembers which events are being handled and which were handled, for
/// [`Deduplicator`](crate::conversation::dedupe::Deduplicator), in two phases.
///
/// A delivery first [claims](Self::claim) its key as *pending*, for a short lease; once its
/// handler succeeded it [completes](Self::complete) it (*done*, for the whole dedupe TTL), and
/// if the handler failed it [releases](Self::release) it. A process that dies while handling
/// leaves only its claim, which ends with the lease: the platform's retry is then handled
/// instead of being taken for a duplicate.
///
/// ```
/// use std::time::Duration;
/// use webex_connect_whatsapp::conversation::store::{Claim, InMemorySeenStore, SeenStore};
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let store = InMemorySeenStore::new(1000);
/// let lease = Duration::from_secs(20);
/// assert_eq!(store.claim("i:1", "owner-a", lease).await?, Claim::Claimed);
/// // A second delivery while the first is being handled: retry later.
/// assert_eq!(store.claim("i:1", "owner-b", lease).await?, Claim::Pending);
/// // Only the claim's owner can release it; then the retry is new again.
/// assert!(!store.release("i:1", "owner-b").await?);
/// assert!(store.release("i:1", "owner-a").await?);
/// assert_eq!(store.claim("i:1", "owner-b", lease).await?, Claim::Claimed);
/// // Handled: every later delivery is a duplicate, and no release undoes that.
/// store.complete("i:1", Duration::from_secs(3600)).await?;
/// assert!(!store.release("i:1", "owner-b").await?);
/// assert_eq!(store.claim("i:1", "owner-c", lease).await?, Claim::Done);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait SeenStore: Send + Sync {
    /// Claims `key` for `owner` for `lease` unless it is already claimed or done, and says
    /// which it found ([`Claim`]). Implementations must make the check and the claim one
    /// atomic step, across instances for a shared store. Neither a pending claim nor a done
    /// mark is extended by a later `claim`.
    ///
    /// `owner` is a token no other claim uses (see
    /// [`ClaimOwner`](crate::conversation::dedupe::ClaimOwner)): only a release with the same
    /// token undoes the claim.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidTtl`] for a zero `lease`; other [`StoreError`]s when the backend
    /// fails. After an error the key should not stay claimed by `owner` (a store whose
    /// reply may be lost undoes its own claim, best effort).
    fn claim(
        &self,
        key: &str,
        owner: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Marks `key` done for `ttl`, whoever holds it and whatever it held: the event was
    /// handled, so every later [`claim`](Self::claim) answers [`Claim::Done`] until `ttl`
    /// passes.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidTtl`] for a zero `ttl`; other [`StoreError`]s when the backend
    /// fails (the key then keeps its claim until the lease ends).
    fn complete(
        &self,
        key: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Undoes a claim whose event was not handled, so the platform's retry is handled:
    /// deletes `key` only if it holds a pending claim of `owner`, and says whether it did.
    /// Never deletes a done mark, nor a claim of another owner.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails; the claim then lasts until its lease ends.
    fn release(
        &self,
        key: &str,
        owner: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

impl<S: SeenStore + ?Sized> SeenStore for Arc<S> {
    fn claim(
        &self,
        key: &str,
        owner: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        (**self).claim(key, owner, lease)
    }

    fn complete(
        &self,
        key: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).complete(key, ttl)
    }

    fn release(
        &self,
        key: &str,
        owner: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).release(key, owner)
    }
}
