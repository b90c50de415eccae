//! Duplicate suppression for webhooks, in two phases.
//!
//! The same delivery receipt or inbound message can reach your receiver more than once:
//! Webex Connect retries a delivery that failed or timed out (3 times, 60 s apart), and the
//! sandbox can duplicate them on purpose. Handle each event once by asking a [`Deduplicator`]
//! first, and telling it afterwards whether the handler succeeded:
//!
//! ```
//! use webex_connect_whatsapp::conversation::dedupe::{ClaimOwner, DedupeKey, Deduplicator};
//! use webex_connect_whatsapp::conversation::store::Claim;
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let dedupe = Deduplicator::default();
//! let key = DedupeKey::receipt("108dd36b-9bca-48e5-ae8b-5f59c64b40a3", "447400123456", "7500")?;
//! let first = ClaimOwner::new();
//! assert_eq!(dedupe.claim(&key, &first).await?, Claim::Claimed); // handle it
//! // A retry while the first delivery is still being handled: answer 503.
//! assert_eq!(dedupe.claim(&key, &ClaimOwner::new()).await?, Claim::Pending);
//! dedupe.complete(&key).await?; // the handler succeeded
//! // Every later retry: answer 200 and skip it.
//! assert_eq!(dedupe.claim(&key, &ClaimOwner::new()).await?, Claim::Done);
//! assert_eq!(dedupe.stats().duplicates, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # At least once, effectively once
//!
//! A delivery [claims](Deduplicator::claim) its event's key *before* the handler runs, so
//! that two concurrent deliveries of one event are not both handled; the claim is *pending*
//! and lasts a short lease ([`DEFAULT_CLAIM_LEASE`], 20 s). Then:
//!
//! - the handler succeeded: [`complete`](Deduplicator::complete) turns the claim into a
//!   *done* mark that lasts the dedupe TTL ([`DEFAULT_DEDUPE_TTL`], one hour); every later
//!   delivery finds [`Claim::Done`] (answer 200, skip it);
//! - the handler failed: [`release`](Deduplicator::release) deletes the claim (only the
//!   owner's own, never a done mark) and you answer 5xx; Webex Connect's retry is new again;
//! - the process died while handling (OOM, SIGKILL at the end of a deploy): nothing is
//!   released, but the claim ends with its lease, well before the platform's retry 60 s
//!   later, which is then handled.
//!
//! A delivery that finds a live claim ([`Claim::Pending`]) is answered 503, not 200: the
//! first delivery may still fail, and the platform's retry must then find the event again.
//! Handlers thus see each event at least once; deduplication makes that effectively once.
//! The [receiver](crate::receiver) and its axum router do all of this for you.
//!
//! [`DedupeStore`] is the pluggable backend: [`InMemoryDedupeStore`] (bounded) by default, or
//! [`RedisStore`](crate::conversation::redis::RedisStore) (feature `redis`) when
//! several receivers share the work.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::conversation::store::{
    Claim, DedupeStore, InMemoryDedupeStore, StoreError, check_max_chars,
};
use crate::ids::TransactionId;
use crate::webhook::{DeliveryReceipt, WebhookEvent};

/// How long a handled event is remembered unless set with [`Deduplicator::with_ttl`]: one
/// hour, well beyond Webex Connect's retries (3 attempts, 60 s apart, 10 s timeout each).
pub const DEFAULT_DEDUPE_TTL: Duration = Duration::from_hours(1);

/// The shortest dedupe TTL a [`Receiver`](crate::receiver::Receiver) accepts: five minutes,
/// longer than Webex Connect's retries last (3 retries, 60 s apart or backing off 30, 60 and
/// 120 s, with a 10 s timeout each). A shorter TTL would forget a handled event while the
/// platform may still deliver it again.
pub const MIN_DEDUPE_TTL: Duration = Duration::from_mins(5);

/// How long a claim lasts unless set with [`Deduplicator::with_lease`]: 20 s. That is longer
/// than the axum router lets a handler run (at most 9 s) plus a margin for the store's round
/// trips, and well under the 60 s before the platform retries, so a crashed process's claim
/// has ended by then.
pub const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(20);

/// The longest claim lease a [`Receiver`](crate::receiver::Receiver) accepts: 30 s, the
/// shortest gap before a retry that Webex Connect documents (its mTLS FAQ backs off 30, 60
/// and 120 s). A longer lease would let a crashed process's claim turn retries away.
pub const MAX_CLAIM_LEASE: Duration = Duration::from_secs(30);

/// The longest part (transid, code, subtid or tid) of a [`DedupeKey`], in characters.
pub const MAX_KEY_PART_CHARS: usize = 256;

/// Why a [`DedupeKey`] could not be built.
///
/// ```
/// use webex_connect_whatsapp::conversation::dedupe::{DedupeKey, DedupeKeyError};
/// let err = DedupeKey::inbound("").unwrap_err();
/// assert_eq!(err.to_string(), "the inbound tid is empty");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DedupeKeyError {
    /// A part of the key is empty.
    #[error("the {part} is empty")]
    Empty {
        /// Which part, e.g. `receipt transid`.
        part: &'static str,
    },
    /// A part of the key is too long.
    #[error("the {part} is {chars} characters long, but the max is {max}")]
    TooLong {
        /// Which part, e.g. `receipt transid`.
        part: &'static str,
        /// Its length in characters.
        chars: usize,
        /// [`MAX_KEY_PART_CHARS`].
        max: usize,
    },
}

/// What identifies one webhook event for duplicate suppression.
///
/// Delivery receipts are keyed on `(transid, destination, subtid, code)`: one request may
/// address many destinations under one transid, so each destination's Submitted, Delivered
/// and Read receipts are distinct events, while a retried Delivered for the same destination
/// is a duplicate. Inbound messages are keyed on their `tid`; events the crate does not
/// model, on a digest of their body. The key holds no personal data: the destination enters
/// it only as a digest, and no message text does.
///
/// ```
/// use webex_connect_whatsapp::conversation::dedupe::DedupeKey;
///
/// let delivered = DedupeKey::receipt("108dd36b", "447400123456", "7500")?;
/// let read = DedupeKey::receipt("108dd36b", "447400123456", "7502")?;
/// let other_destination = DedupeKey::receipt("108dd36b", "447400999999", "7500")?;
/// assert_ne!(delivered, read);
/// assert_ne!(delivered, other_destination);
/// assert!(delivered.as_str().starts_with("r:8:108dd36b:"));
/// assert!(!delivered.as_str().contains("447400123456"));
/// assert_eq!(DedupeKey::inbound("a1b2")?.as_str(), "i:a1b2");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DedupeKey(String);

impl DedupeKey {
    /// The key of a delivery receipt without a `subtid`: its `transid`, its `destination`
    /// (`""` when the receipt names none) and its status `code` (e.g. `7500`).
    ///
    /// Use [`DedupeKey::for_receipt`] for a parsed receipt: it also takes the `subtid`.
    ///
    /// # Errors
    ///
    /// [`DedupeKeyError`] when the transid or code is empty or longer than
    /// [`MAX_KEY_PART_CHARS`].
    ///
    /// ```
    /// use webex_connect_whatsapp::{TransactionId, conversation::dedupe::DedupeKey};
    /// let transid = TransactionId::from("108dd36b-9bca-48e5-ae8b-5f59c64b40a3");
    /// let key = DedupeKey::receipt(&transid, "447400123456", "7501")?;
    /// # let _ = key;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn receipt(
        transid: impl AsRef<str>,
        destination: impl AsRef<str>,
        code: impl AsRef<str>,
    ) -> Result<Self, DedupeKeyError> {
        Self::receipt_parts(transid.as_ref(), destination.as_ref(), "", code.as_ref())
    }

    /// The key of a parsed delivery receipt: its `transid`, `destination`, `subtid` (when
    /// present) and `code`.
    ///
    /// A personalised batch's `<base>_1` transid is a transid like any other: no suffix is
    /// stripped.
    ///
    /// # Errors
    ///
    /// [`DedupeKeyError::Empty`] for a receipt without transid or code (it cannot be
    /// recognized when it comes again), [`DedupeKeyError::TooLong`] for a part over
    /// [`MAX_KEY_PART_CHARS`].
    ///
    /// ```
    /// use webex_connect_whatsapp::conversation::dedupe::DedupeKey;
    /// use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
    /// let to_a = DeliveryReceipt::builder("t1", DeliveryStatus::Delivered).destination("447400000001").build();
    /// let to_b = DeliveryReceipt::builder("t1", DeliveryStatus::Delivered).destination("447400000002").build();
    /// assert_ne!(DedupeKey::for_receipt(&to_a)?, DedupeKey::for_receipt(&to_b)?);
    /// assert_eq!(DedupeKey::for_receipt(&to_a)?, DedupeKey::receipt("t1", "447400000001", "7500")?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_receipt(receipt: &DeliveryReceipt) -> Result<Self, DedupeKeyError> {
        Self::receipt_parts(
            receipt.transaction_id().map_or("", TransactionId::as_str),
            receipt.destination().unwrap_or_default(),
            receipt.sub_transaction_id().unwrap_or_default(),
            receipt.code().as_str(),
        )
    }

    /// `r:<transid bytes>:<transid>:<destination>:<subtid bytes>:<subtid>:<code>`, where
    /// `<destination>` is 32 hex digits of the destination's SHA-256, or `-` without one.
    fn receipt_parts(
        transid: &str,
        destination: &str,
        subtid: &str,
        code: &str,
    ) -> Result<Self, DedupeKeyError> {
        let transid = check_part("receipt transid", transid)?;
        let code = check_part("receipt code", code)?;
        let subtid = subtid.trim();
        if !subtid.is_empty() {
            check_part("receipt subtid", subtid)?;
        }
        // A digest keeps phone numbers out of the store, and its fixed length and alphabet
        // (or `-`) keep the key unambiguous; the length prefixes do the same for a transid
        // or subtid that contains `:`.
        let destination = destination.trim();
        let destination = if destination.is_empty() {
            "-".to_owned()
        } else {
            let mut digest = body_digest(destination);
            digest.truncate(32);
            digest
        };
        Ok(Self(format!(
            "r:{}:{transid}:{destination}:{}:{subtid}:{code}",
            transid.len(),
            subtid.len()
        )))
    }

    /// The key of an inbound (MO) message: its `tid`.
    ///
    /// # Errors
    ///
    /// [`DedupeKeyError`] when the tid is empty or longer than [`MAX_KEY_PART_CHARS`].
    ///
    /// ```
    /// use webex_connect_whatsapp::conversation::dedupe::DedupeKey;
    /// let key = DedupeKey::inbound("1615219932466")?;
    /// assert_eq!(key.to_string(), "i:1615219932466");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inbound(tid: impl AsRef<str>) -> Result<Self, DedupeKeyError> {
        let tid = check_part("inbound tid", tid.as_ref())?;
        Ok(Self(format!("i:{tid}")))
    }

    /// A key of your own, for events this crate does not model.
    ///
    /// # Errors
    ///
    /// [`DedupeKeyError`] when the value is empty or longer than [`MAX_KEY_PART_CHARS`].
    ///
    /// ```
    /// use webex_connect_whatsapp::conversation::dedupe::DedupeKey;
    /// assert_eq!(DedupeKey::custom("order-42")?.as_str(), "c:order-42");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn custom(value: impl AsRef<str>) -> Result<Self, DedupeKeyError> {
        let value = check_part("custom key", value.as_ref())?;
        Ok(Self(format!("c:{value}")))
    }

    /// The key of a parsed webhook event: a receipt's `(transid, destination, subtid,
    /// code)` (see [`DedupeKey::for_receipt`]), an inbound message's `tid`, and for an event
    /// the crate does not model, the SHA-256 of its body.
    ///
    /// # Errors
    ///
    /// [`DedupeKeyError::Empty`] when the event lacks the part its key needs (a receipt
    /// without `transid` or `code`, an inbound message without `tid`): such an event cannot be
    /// recognized when it comes again, so handle it without suppression.
    /// [`DedupeKeyError::TooLong`] for a part over [`MAX_KEY_PART_CHARS`].
    ///
    /// ```
    /// use webex_connect_whatsapp::conversation::dedupe::DedupeKey;
    /// use webex_connect_whatsapp::webhook;
    ///
    /// let receipt = webhook::parse(br#"{"deliveryInfoNotification":{"deliveryInfo":
    ///     {"deliveryStatus":"Read","code":"7502"},"transid":"5c9f6594"}}"#)?;
    /// assert_eq!(DedupeKey::from_event(&receipt)?, DedupeKey::receipt("5c9f6594", "", "7502")?);
    /// let inbound = webhook::parse(br#"{"event":"MO","waid":"9199xxxxxxxx","tid":"a1b2"}"#)?;
    /// assert_eq!(DedupeKey::from_event(&inbound)?.as_str(), "i:a1b2");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_event(event: &WebhookEvent) -> Result<Self, DedupeKeyError> {
        match event {
            WebhookEvent::DeliveryReceipt(receipt) => Self::for_receipt(receipt),
            WebhookEvent::Inbound(message) => Self::inbound(message.tid().unwrap_or_default()),
            // An event the crate cannot type has no id it knows of: its exact body names it.
            _ => Ok(Self(format!("u:{}", body_digest(event.raw())))),
        }
    }

    /// The key as stored: `r:…` for a receipt (see [`DedupeKey::for_receipt`]), `i:<tid>`,
    /// `u:<sha256 of the body>` or `c:<value>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The SHA-256 of a body, in hex: the identity of an event that carries no id we know.
fn body_digest(raw: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(raw.as_bytes()))
}

impl fmt::Display for DedupeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for DedupeKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn check_part<'a>(part: &'static str, value: &'a str) -> Result<&'a str, DedupeKeyError> {
    if value.is_empty() {
        return Err(DedupeKeyError::Empty { part });
    }
    check_max_chars(value, MAX_KEY_PART_CHARS, |chars, max| {
        DedupeKeyError::TooLong { part, chars, max }
    })?;
    Ok(value)
}

/// Who holds a claim: a token that no other claim uses, in this process or another, so that
/// a release undoes only its own claim.
///
/// Make a new one for each delivery you claim.
///
/// ```
/// use webex_connect_whatsapp::conversation::dedupe::ClaimOwner;
/// let a = ClaimOwner::new();
/// let b = ClaimOwner::new();
/// assert_ne!(a, b);
/// assert_eq!(a.clone(), a);
/// assert!(!a.as_str().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClaimOwner(Arc<str>);

impl ClaimOwner {
    /// A token no other call (in this process or another) makes: the process id, a
    /// per-process random number and a counter.
    pub fn new() -> Self {
        use std::hash::{BuildHasher as _, Hasher as _};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        static SEED: OnceLock<u64> = OnceLock::new();
        let seed = *SEED.get_or_init(|| {
            // RandomState is seeded from the OS, which is all the randomness needed here.
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u32(std::process::id());
            hasher.finish()
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Self(Arc::from(format!(
            "{:x}-{seed:016x}-{n:x}",
            std::process::id()
        )))
    }

    /// The token, as stores keep it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ClaimOwner {
    /// A new token, as [`ClaimOwner::new`].
    fn default() -> Self {
        Self::new()
    }
}

/// Counts of what a [`Deduplicator`] has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DedupeStats {
    /// Deliveries that claimed their event (to be handled); a released event's retry counts
    /// again.
    pub first: u64,
    /// Deliveries of an event already handled (answered 200, skipped).
    pub duplicates: u64,
    /// Deliveries that found their event claimed by another delivery still being handled
    /// (answered 503, so that the platform retries).
    pub in_progress: u64,
    /// Claims undone with [`Deduplicator::release`] (their retry counts as new, and again in
    /// `first`).
    pub released: u64,
    /// Events marked handled with [`Deduplicator::complete`].
    pub completed: u64,
}

/// Suppresses duplicate webhook events, in two phases, and counts them (see the [module
/// docs](self)).
///
/// ```
/// use std::time::Duration;
/// use webex_connect_whatsapp::conversation::dedupe::{ClaimOwner, DedupeKey, Deduplicator};
/// use webex_connect_whatsapp::conversation::store::{Claim, InMemoryDedupeStore};
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let dedupe = Deduplicator::new(InMemoryDedupeStore::new(10_000))
///     .with_ttl(Duration::from_secs(600))
///     .with_lease(Duration::from_secs(15));
/// let key = DedupeKey::inbound("1615219932466")?;
/// let owner = ClaimOwner::new();
/// assert!(dedupe.claim(&key, &owner).await?.is_claimed());
/// dedupe.complete(&key).await?;
/// assert_eq!(dedupe.claim(&key, &ClaimOwner::new()).await?, Claim::Done);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Deduplicator<S = InMemoryDedupeStore> {
    store: S,
    ttl: Duration,
    lease: Duration,
    first: AtomicU64,
    duplicates: AtomicU64,
    in_progress: AtomicU64,
    released: AtomicU64,
    completed: AtomicU64,
}

impl<S: DedupeStore> Deduplicator<S> {
    /// A deduplicator on `store` remembering handled events for [`DEFAULT_DEDUPE_TTL`], with
    /// claims lasting [`DEFAULT_CLAIM_LEASE`].
    pub fn new(store: S) -> Self {
        Self {
            store,
            ttl: DEFAULT_DEDUPE_TTL,
            lease: DEFAULT_CLAIM_LEASE,
            first: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            in_progress: AtomicU64::new(0),
            released: AtomicU64::new(0),
            completed: AtomicU64::new(0),
        }
    }

    crate::setters::setters! {
        /// How long a handled event is remembered. Not checked here (a zero TTL fails each
        /// [`complete`](Self::complete)); [`ReceiverBuilder::build`] checks it against
        /// [`MIN_DEDUPE_TTL`].
        ///
        /// [`ReceiverBuilder::build`]: crate::receiver::ReceiverBuilder::build
        #[must_use]
        fn with_ttl(self, ttl: Duration) => self.ttl = ttl;

        /// How long a claim lasts when it is neither completed nor released: longer than your
        /// handler may take, shorter than the platform's 60 s before a retry. Not checked here (a
        /// zero lease fails each [`claim`](Self::claim)); [`ReceiverBuilder::build`] checks it
        /// against [`MAX_CLAIM_LEASE`].
        ///
        /// [`ReceiverBuilder::build`]: crate::receiver::ReceiverBuilder::build
        #[must_use]
        fn with_lease(self, lease: Duration) => self.lease = lease;
    }

    /// Claims the event for `owner` for the [lease](Self::lease), unless another delivery
    /// holds a claim on it or it was handled, and says which ([`Claim`]):
    /// [`Claim::Claimed`] (handle it, then [`complete`](Self::complete) or
    /// [`release`](Self::release)), [`Claim::Pending`] (answer 503) or [`Claim::Done`]
    /// (answer 200 and skip it). Updates the counters.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails. Then nothing is known: handling the event
    /// anyway risks a duplicate, refusing it (answering 5xx) makes Webex Connect retry.
    pub async fn claim(&self, key: &DedupeKey, owner: &ClaimOwner) -> Result<Claim, StoreError> {
        let claim = self
            .store
            .claim(key.as_str(), owner.as_str(), self.lease)
            .await?;
        let counter = match claim {
            Claim::Claimed => &self.first,
            Claim::Pending => &self.in_progress,
            Claim::Done => &self.duplicates,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(claim)
    }

    /// Marks the event handled for the [TTL](Self::ttl): every later delivery finds
    /// [`Claim::Done`]. Call it once the handler succeeded, before answering 200.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails. The event was handled all the same (answer 200);
    /// only its claim is left, until its lease ends.
    pub async fn complete(&self, key: &DedupeKey) -> Result<(), StoreError> {
        self.store.complete(key.as_str(), self.ttl).await?;
        self.completed.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Undoes `owner`'s claim on an event that was not handled (the handler failed or timed
    /// out), so that the platform's retry counts as new. Returns whether a claim of `owner`
    /// was undone: never a done mark, never another owner's claim.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails; the claim then lasts until its lease ends.
    ///
    /// ```
    /// use webex_connect_whatsapp::conversation::dedupe::{ClaimOwner, DedupeKey, Deduplicator};
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let dedupe = Deduplicator::default();
    /// let key = DedupeKey::inbound("a1b2")?;
    /// let owner = ClaimOwner::new();
    /// assert!(dedupe.claim(&key, &owner).await?.is_claimed());
    /// // ... the handler failed: answer 5xx and let the retry through.
    /// assert!(!dedupe.release(&key, &ClaimOwner::new()).await?); // not that owner's
    /// assert!(dedupe.release(&key, &owner).await?);
    /// assert!(dedupe.claim(&key, &ClaimOwner::new()).await?.is_claimed());
    /// assert_eq!(dedupe.stats().released, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn release(&self, key: &DedupeKey, owner: &ClaimOwner) -> Result<bool, StoreError> {
        let released = self.store.release(key.as_str(), owner.as_str()).await?;
        if released {
            self.released.fetch_add(1, Ordering::Relaxed);
        }
        Ok(released)
    }

    /// The counts so far.
    pub fn stats(&self) -> DedupeStats {
        DedupeStats {
            first: self.first.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            in_progress: self.in_progress.load(Ordering::Relaxed),
            released: self.released.load(Ordering::Relaxed),
            completed: self.completed.load(Ordering::Relaxed),
        }
    }
}

impl Default for Deduplicator {
    /// An in-memory deduplicator ([`DEFAULT_DEDUPE_CAPACITY`] keys, [`DEFAULT_DEDUPE_TTL`],
    /// [`DEFAULT_CLAIM_LEASE`]).
    ///
    /// [`DEFAULT_DEDUPE_CAPACITY`]: crate::conversation::store::DEFAULT_DEDUPE_CAPACITY
    fn default() -> Self {
        Self::new(InMemoryDedupeStore::default())
    }
}

impl<S> Deduplicator<S> {
    /// How long a handled event is remembered.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How long a claim lasts.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// The store the keys are kept in.
    pub fn store(&self) -> &S {
        &self.store
    }
}

impl<S: fmt::Debug> fmt::Debug for Deduplicator<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deduplicator")
            .field("store", &self.store)
            .field("ttl", &self.ttl)
            .field("lease", &self.lease)
            .field("first", &self.first.load(Ordering::Relaxed))
            .field("duplicates", &self.duplicates.load(Ordering::Relaxed))
            .field("in_progress", &self.in_progress.load(Ordering::Relaxed))
            .field("released", &self.released.load(Ordering::Relaxed))
            .field("completed", &self.completed.load(Ordering::Relaxed))
            .finish()
    }
}
