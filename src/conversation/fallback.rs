//! Template fallbacks waiting for their session message's fate: the state behind
//! [`GuardedClient::send_with_fallback`](crate::guard::GuardedClient::send_with_fallback).
//!
//! A session message sent while the 24-hour window looked open can still fail with `7710`
//! (the window ended before it arrived). Its template fallback is kept here, under the
//! session message's transaction id, until a receipt settles it: a `7710` *takes* it (and
//! the guard sends the template), any other final receipt discards it.
//!
//! Every change is one atomic step of a [`FallbackStore`], so several instances sharing a
//! store (the [`RedisStore`](crate::conversation::redis::RedisStore) with feature
//! `redis`) and a process restarted since the send all see the same fallbacks, and of any
//! number of handlers given the same `7710` exactly one takes the fallback:
//!
//! ```text
//!            register               take (7710)                 finish
//!   (none) ───────────▶ pending ───────────────▶ taken ──────────────────▶ done
//!     │                    │ discard (other      (sending; stays taken
//!     │ take (7710 first)  ▼  final receipt)      when the outcome is
//!     ▼                 (none)                    unknown or the process
//!   failed ──register──▶ taken                    stopped mid-send)
//! ```
//!
//! A fallback is *taken* before its template is sent and *finished* once the send's outcome
//! is known (queued, or certainly not queued). A taken fallback is never handed out again,
//! so a crash mid-send cannot double the template; instead it stays in
//! [`FallbackStore::unfinished`] with the correlation id its template was sent with, to be
//! reconciled against delivery receipts (which echo the correlation id) and then
//! [forgotten](FallbackStore::forget).
//!
//! ```
//! use std::time::Duration;
//! use time::macros::datetime;
//! use webex_connect_whatsapp::conversation::fallback::{
//!     FallbackStore, InMemoryFallbackStore, PendingFallback, Registration, Take,
//! };
//! use webex_connect_whatsapp::{CorrelationId, PhoneNumber, TemplateId, TemplateMessage, TransactionId};
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let store = InMemoryFallbackStore::default();
//! let now = datetime!(2026-03-01 09:00 UTC);
//! let keep = Duration::from_secs(24 * 3600);
//! let template = TemplateMessage::builder(TemplateId::new("5139722425xxxxx")?).text("1", "A-1042").build()?;
//! let fallback = PendingFallback::new(
//!     &PhoneNumber::parse("+447400123456")?,
//!     template,
//!     CorrelationId::new("fallback-1")?,
//! );
//! let original = TransactionId::from("3f09295d-1");
//! assert_eq!(store.register(&original, &fallback, now, keep).await?, Registration::Pending);
//!
//! // The session message failed with 7710: one handler takes the fallback, the next finds it gone.
//! assert_eq!(store.take(&original, now, keep).await?, Take::Taken(fallback));
//! assert_eq!(store.take(&original, now, keep).await?, Take::AlreadyTaken);
//! // Until its send's outcome is known, it is reported as unfinished.
//! assert_eq!(store.unfinished(now).await?[0].correlation_id.as_str(), "fallback-1");
//! assert!(store.finish(&original, now, keep).await?);
//! assert!(store.unfinished(now).await?.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Personal data
//!
//! A pending fallback holds what its template send needs and nothing more: the recipient's id
//! (phone number or BSUID), the template message with its parameters, and the correlation id
//! to send it with. Taking it drops the recipient and the template; a taken or finished
//! fallback keeps only ids and a time. Every record expires after the retention the guard
//! passes (default [`DEFAULT_FALLBACK_RETENTION`]).

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::conversation::bounded::BoundedMap;
use crate::conversation::clock::saturating_add;
use crate::conversation::store::{StoreError, impl_for_arc, ttl_millis};
use crate::ids::{CorrelationId, TransactionId};
use crate::recipient::Recipient;
use crate::template::TemplateMessage;

/// How many pending fallbacks [`InMemoryFallbackStore::default`] keeps (and as many taken
/// ones and `7710` marks) before forgetting the oldest.
pub const DEFAULT_FALLBACK_CAPACITY: usize = 100_000;

/// How long the guard keeps a fallback record by default: a `7710` comes within moments of
/// the session message, and other final receipts discard the fallback sooner; only a
/// message whose receipts were lost waits this long.
pub const DEFAULT_FALLBACK_RETENTION: Duration = Duration::from_hours(24);

/// Transaction ids up to this many characters are stored as they are; longer ones (which
/// the platform does not send, but a webhook may carry) are stored under their SHA-256, so
/// no input makes a store key or a memory entry unbounded.
pub const MAX_PLAIN_KEY_CHARS: usize = 128;

/// The key a fallback record is stored under: the transaction id itself when it is short and
/// printable, else `sha256:` and its hash in hex.
pub(crate) fn record_key(original: &TransactionId) -> Cow<'_, str> {
    let id = original.as_str();
    let plain = id.chars().count() <= MAX_PLAIN_KEY_CHARS
        && !id.is_empty()
        && !id.starts_with("sha256:")
        && !id.chars().any(|c| c.is_control() || c.is_whitespace());
    if plain {
        Cow::Borrowed(id)
    } else {
        Cow::Owned(format!(
            "sha256:{}",
            hex::encode(Sha256::digest(id.as_bytes()))
        ))
    }
}

/// A template to send if its session message fails with `7710`, with the recipient and the
/// correlation id to send it with (chosen up front, so a send interrupted by a crash can
/// still be found in delivery receipts).
///
/// Serializes as `{"to": "+447400123456", "template": {...}, "correlation_id": "..."}`; `to`
/// is a phone number in E.164 form or a BSUID. `Debug` masks the recipient and leaves out
/// the template's parameters.
///
/// ```
/// use webex_connect_whatsapp::conversation::fallback::PendingFallback;
/// use webex_connect_whatsapp::{Bsuid, CorrelationId, TemplateId, TemplateMessage};
///
/// let template = TemplateMessage::builder(TemplateId::new("5139722425xxxxx")?).text("1", "Ana").build()?;
/// let fallback = PendingFallback::new(
///     Bsuid::new("US.13491208655302741918")?,
///     template,
///     CorrelationId::new("fallback-1")?,
/// );
/// let json = serde_json::to_string(&fallback)?;
/// assert!(json.starts_with(r#"{"to":"US.13491208655302741918","template":{"#));
/// assert_eq!(serde_json::from_str::<PendingFallback>(&json)?, fallback);
/// assert!(!format!("{fallback:?}").contains("13491208655302741918"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingFallback {
    #[serde(with = "recipient_text")]
    to: Recipient,
    template: TemplateMessage,
    correlation_id: CorrelationId,
}

impl PendingFallback {
    /// A fallback sending `template` to `to` with `correlation_id`.
    pub fn new(
        to: impl Into<Recipient>,
        template: TemplateMessage,
        correlation_id: CorrelationId,
    ) -> Self {
        Self {
            to: to.into(),
            template,
            correlation_id,
        }
    }

    /// Who the template goes to.
    pub fn to(&self) -> &Recipient {
        &self.to
    }

    /// The template.
    pub fn template(&self) -> &TemplateMessage {
        &self.template
    }

    /// The correlation id the template is sent with.
    pub fn correlation_id(&self) -> &CorrelationId {
        &self.correlation_id
    }

    /// The recipient, the template and the correlation id.
    pub fn into_parts(self) -> (Recipient, TemplateMessage, CorrelationId) {
        (self.to, self.template, self.correlation_id)
    }
}

impl fmt::Debug for PendingFallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The recipient is personal data and the parameters may be (names, order details).
        f.debug_struct("PendingFallback")
            .field("to", &self.to)
            .field("template", self.template.template_id())
            .field("correlation_id", &self.correlation_id)
            .finish_non_exhaustive()
    }
}

/// A recipient as text: E.164 for a phone number, the BSUID as is; read back with
/// [`Recipient::parse`], which tells the two apart.
mod recipient_text {
    use serde::{Deserialize as _, Deserializer, Serializer};

    use crate::recipient::Recipient;

    pub(super) fn serialize<S: Serializer>(to: &Recipient, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(to)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Recipient, D::Error> {
        let text = String::deserialize(d)?;
        Recipient::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A fallback that was taken for sending and whose outcome is not known: its send is still
/// running, its outcome was unknown (a timeout, a dropped connection, a 5xx), or the process
/// stopped mid-send. Its template may or may not have been queued; look for
/// [`correlation_id`](Self::correlation_id) in delivery receipts, then
/// [forget](FallbackStore::forget) it. It is never sent again automatically.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnfinishedFallback {
    /// The session message whose `7710` took the fallback.
    pub original: TransactionId,
    /// The correlation id the template was (or was about to be) sent with.
    pub correlation_id: CorrelationId,
    /// When it was taken, by the guard's clock.
    pub taken_at: OffsetDateTime,
}

impl UnfinishedFallback {
    /// A report of the fallback for `original`, taken at `taken_at` to be sent with
    /// `correlation_id` (for [`FallbackStore`] implementations).
    pub fn new(
        original: TransactionId,
        correlation_id: CorrelationId,
        taken_at: OffsetDateTime,
    ) -> Self {
        Self {
            original,
            correlation_id,
            taken_at,
        }
    }
}

/// What [`FallbackStore::register`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Registration {
    /// The fallback now waits for its session message's receipts.
    Pending,
    /// A `7710` for the session message came before its send's answer: the fallback was
    /// taken at once. Send the template now, then [finish](FallbackStore::finish) it.
    Due,
    /// A record for this transaction id already exists; nothing changed.
    Known,
}

/// What [`FallbackStore::take`] found.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Take {
    /// It was pending and is now taken by this call alone: send it, then
    /// [finish](FallbackStore::finish) it.
    Taken(PendingFallback),
    /// Nothing was pending under this id. The `7710` is remembered, in case its send's
    /// answer is still on its way ([`Registration::Due`]).
    NotPending,
    /// It was taken before (by another handler or instance): sent, being sent, or
    /// unfinished. Nothing to do.
    AlreadyTaken,
}

/// Where the guard keeps template fallbacks between the session message's send and its
/// receipts; see the [module docs](self) for the life of a fallback.
///
/// Each method must be atomic, across instances for a shared store: of any number of calls to
/// [`take`](Self::take) for one id, exactly one gets [`Take::Taken`]. Records expire
/// `retention` after their last change; `now` is the guard's clock.
///
/// Implement it to keep fallbacks in your own database. The in-memory default is
/// [`InMemoryFallbackStore`]; with feature `redis`,
/// [`RedisStore`](crate::conversation::redis::RedisStore) implements it.
pub trait FallbackStore: Send + Sync {
    /// Keeps `fallback` for the session message `original`, unless a `7710` for it came
    /// first (then it is taken at once: [`Registration::Due`]) or a record exists.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails or `retention` is refused.
    fn register(
        &self,
        original: &TransactionId,
        fallback: &PendingFallback,
        now: OffsetDateTime,
        retention: Duration,
    ) -> impl Future<Output = Result<Registration, StoreError>> + Send;

    /// The fallback pending for `original`, without taking it.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails or holds an unreadable record.
    fn peek(
        &self,
        original: &TransactionId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<PendingFallback>, StoreError>> + Send;

    /// Takes the fallback for `original` after its `7710`; see [`Take`].
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails or holds an unreadable record.
    fn take(
        &self,
        original: &TransactionId,
        now: OffsetDateTime,
        retention: Duration,
    ) -> impl Future<Output = Result<Take, StoreError>> + Send;

    /// Records that the taken fallback's send has a known outcome (queued, or certainly not
    /// queued), so it is no longer [unfinished](Self::unfinished). Returns whether it was
    /// taken.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails; the fallback then stays unfinished.
    fn finish(
        &self,
        original: &TransactionId,
        now: OffsetDateTime,
        retention: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Drops the fallback for `original` if it is still pending (its session message got
    /// another final receipt); returns whether it was.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    fn discard(
        &self,
        original: &TransactionId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Drops every record for `original`, whatever its state (for example an unfinished
    /// fallback once reconciled); returns whether there was one.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    fn forget(
        &self,
        original: &TransactionId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The fallbacks taken and not finished, oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails or holds an unreadable record.
    fn unfinished(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<UnfinishedFallback>, StoreError>> + Send;

    /// How many fallbacks are pending.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    fn pending(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

impl_for_arc!(FallbackStore {
    fn register(
        original: &TransactionId,
        fallback: &PendingFallback,
        now: OffsetDateTime,
        retention: Duration,
    ) -> Registration;
    fn peek(original: &TransactionId, now: OffsetDateTime) -> Option<PendingFallback>;
    fn take(original: &TransactionId, now: OffsetDateTime, retention: Duration) -> Take;
    fn finish(original: &TransactionId, now: OffsetDateTime, retention: Duration) -> bool;
    fn discard(original: &TransactionId, now: OffsetDateTime) -> bool;
    fn forget(original: &TransactionId) -> bool;
    fn unfinished(now: OffsetDateTime) -> Vec<UnfinishedFallback>;
    fn pending(now: OffsetDateTime) -> usize;
});

/// A `7710` that came before its send's answer, or a fallback whose send is finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Failed,
    Done,
}

/// A value and when it expires.
struct Kept<T> {
    value: T,
    keep_until: OffsetDateTime,
}

/// Records of one state by key, ordered by expiry.
type KeptMap<T> = BoundedMap<Arc<str>, Kept<T>, OffsetDateTime>;

/// Keeps `value` under `key` in `map` until `keep_until`.
fn keep<T>(map: &mut KeptMap<T>, key: &str, value: T, keep_until: OffsetDateTime) {
    map.insert(Arc::from(key), Kept { value, keep_until }, keep_until);
}

/// Records by state, each ordered by expiry; a key is in at most one of them.
struct Records {
    pending: KeptMap<PendingFallback>,
    taken: KeptMap<UnfinishedFallback>,
    marks: KeptMap<Mark>,
}

impl Records {
    /// Drops what expired by `now`: the first entries of each map, as they are in expiry
    /// order.
    fn expire(&mut self, now: OffsetDateTime) {
        self.pending.pop_front_while(|kept| kept.keep_until <= now);
        self.taken.pop_front_while(|kept| kept.keep_until <= now);
        self.marks.pop_front_while(|kept| kept.keep_until <= now);
    }
}

/// One state change of one fallback, under the store's lock: the steps of
/// [`register`](FallbackStore::register), [`take`](FallbackStore::take) and
/// [`finish`](FallbackStore::finish), each keeping what it writes until `keep_until`.
struct Change<'a> {
    records: MutexGuard<'a, Records>,
    key: Cow<'a, str>,
    keep_until: OffsetDateTime,
}

impl Change<'_> {
    fn register(
        mut self,
        original: &TransactionId,
        fallback: &PendingFallback,
        now: OffsetDateTime,
    ) -> Registration {
        let records = &mut *self.records;
        let key = &*self.key;
        if records.pending.get(key).is_some() || records.taken.get(key).is_some() {
            return Registration::Known;
        }
        match records.marks.get(key).map(|kept| kept.value) {
            Some(Mark::Done) => Registration::Known,
            Some(Mark::Failed) => {
                records.marks.remove(key);
                self.move_to_taken(original, &fallback.correlation_id, now);
                Registration::Due
            }
            None => {
                keep(&mut records.pending, key, fallback.clone(), self.keep_until);
                Registration::Pending
            }
        }
    }

    fn take(mut self, original: &TransactionId, now: OffsetDateTime) -> Take {
        if let Some(kept) = self.records.pending.remove(&*self.key) {
            self.move_to_taken(original, &kept.value.correlation_id, now);
            return Take::Taken(kept.value);
        }
        if self.records.taken.get(&*self.key).is_some() {
            return Take::AlreadyTaken;
        }
        match self.records.marks.get(&*self.key).map(|kept| kept.value) {
            Some(Mark::Done) => Take::AlreadyTaken,
            Some(Mark::Failed) => Take::NotPending,
            None => {
                self.mark(Mark::Failed);
                Take::NotPending
            }
        }
    }

    fn finish(mut self) -> bool {
        if self.records.taken.remove(&*self.key).is_none() {
            return false;
        }
        self.mark(Mark::Done);
        true
    }

    /// Records the fallback as taken at `now`, to be sent with `correlation_id`.
    fn move_to_taken(
        &mut self,
        original: &TransactionId,
        correlation_id: &CorrelationId,
        now: OffsetDateTime,
    ) {
        let taken = UnfinishedFallback::new(original.clone(), correlation_id.clone(), now);
        keep(&mut self.records.taken, &self.key, taken, self.keep_until);
    }

    fn mark(&mut self, mark: Mark) {
        keep(&mut self.records.marks, &self.key, mark, self.keep_until);
    }
}

/// The default [`FallbackStore`]: bounded maps in this process.
///
/// Keeps at most `capacity` pending fallbacks, as many taken ones and as many `7710` marks
/// and finished records; when one kind is full, its oldest record is forgotten (a forgotten
/// pending fallback is not sent). Each call holds one lock for a few map updates; only
/// [`unfinished`](FallbackStore::unfinished) walks a map, the one of taken fallbacks.
///
/// It is per process: fallbacks pending at a restart are lost, and behind a load balancer a
/// `7710` may reach an instance that never saw the send. Share a store such as
/// [`RedisStore`](crate::conversation::redis::RedisStore) then.
///
/// ```
/// use webex_connect_whatsapp::conversation::fallback::InMemoryFallbackStore;
/// let store = InMemoryFallbackStore::new(1000);
/// assert_eq!(store.capacity(), 1000);
/// ```
pub struct InMemoryFallbackStore {
    records: Mutex<Records>,
}

impl InMemoryFallbackStore {
    /// A store for at most `capacity` (at least 1) records of each kind.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            records: Mutex::new(Records {
                pending: BoundedMap::new(capacity),
                taken: BoundedMap::new(capacity),
                marks: BoundedMap::new(capacity),
            }),
        }
    }

    /// The most pending fallbacks kept at once.
    pub fn capacity(&self) -> usize {
        self.lock().pending.capacity()
    }

    fn lock(&self) -> MutexGuard<'_, Records> {
        // Every update leaves the maps consistent before the next can panic, so a poisoned
        // lock is still usable.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The records, with what expired by `now` dropped.
    fn records_at(&self, now: OffsetDateTime) -> MutexGuard<'_, Records> {
        let mut records = self.lock();
        records.expire(now);
        records
    }

    /// Starts a change to the fallback of `original` at `now`, kept for `retention`.
    fn change<'a>(
        &'a self,
        original: &'a TransactionId,
        now: OffsetDateTime,
        retention: Duration,
    ) -> Result<Change<'a>, StoreError> {
        let keep_until = saturating_add(now, Duration::from_millis(ttl_millis(retention)?));
        Ok(Change {
            records: self.records_at(now),
            key: record_key(original),
            keep_until,
        })
    }
}

impl Default for InMemoryFallbackStore {
    /// A store for [`DEFAULT_FALLBACK_CAPACITY`] records of each kind.
    fn default() -> Self {
        Self::new(DEFAULT_FALLBACK_CAPACITY)
    }
}

impl fmt::Debug for InMemoryFallbackStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Counts only: the pending fallbacks hold recipients.
        let records = self.lock();
        f.debug_struct("InMemoryFallbackStore")
            .field("capacity", &records.pending.capacity())
            .field("pending", &records.pending.len())
            .field("taken", &records.taken.len())
            .finish_non_exhaustive()
    }
}

impl FallbackStore for InMemoryFallbackStore {
    async fn register(
        &self,
        original: &TransactionId,
        fallback: &PendingFallback,
        now: OffsetDateTime,
        retention: Duration,
    ) -> Result<Registration, StoreError> {
        Ok(self
            .change(original, now, retention)?
            .register(original, fallback, now))
    }

    async fn peek(
        &self,
        original: &TransactionId,
        now: OffsetDateTime,
    ) -> Result<Option<PendingFallback>, StoreError> {
        let key = record_key(original);
        let found = self
            .records_at(now)
            .pending
            .get(&*key)
            .map(|kept| kept.value.clone());
        Ok(found)
    }

    async fn take(
        &self,
        original: &TransactionId,
        now: OffsetDateTime,
        retention: Duration,
    ) -> Result<Take, StoreError> {
        Ok(self.change(original, now, retention)?.take(original, now))
    }

    async fn finish(
        &self,
        original: &TransactionId,
        now: OffsetDateTime,
        retention: Duration,
    ) -> Result<bool, StoreError> {
        Ok(self.change(original, now, retention)?.finish())
    }

    async fn discard(
        &self,
        original: &TransactionId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let key = record_key(original);
        let removed = self.records_at(now).pending.remove(&*key).is_some();
        Ok(removed)
    }

    async fn forget(&self, original: &TransactionId) -> Result<bool, StoreError> {
        let key = record_key(original);
        let mut records = self.lock();
        let pending = records.pending.remove(&*key).is_some();
        let taken = records.taken.remove(&*key).is_some();
        let marked = records.marks.remove(&*key).is_some();
        Ok(pending || taken || marked)
    }

    async fn unfinished(&self, now: OffsetDateTime) -> Result<Vec<UnfinishedFallback>, StoreError> {
        let records = self.records_at(now);
        let mut unfinished: Vec<UnfinishedFallback> = records
            .taken
            .values()
            .map(|kept| kept.value.clone())
            .collect();
        drop(records);
        unfinished.sort_by_key(|u| u.taken_at);
        Ok(unfinished)
    }

    async fn pending(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        Ok(self.records_at(now).pending.len())
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::template::TemplateId;

    const T0: OffsetDateTime = datetime!(2026-03-01 09:00 UTC);
    const KEEP: Duration = Duration::from_hours(1);

    fn fallback(id: &str) -> PendingFallback {
        let template = TemplateMessage::builder(TemplateId::new("5139722425xxxxx").unwrap())
            .text("1", "Ana")
            .build()
            .unwrap();
        PendingFallback::new(
            crate::PhoneNumber::parse("+447400123456").unwrap(),
            template,
            CorrelationId::new(id).unwrap(),
        )
    }

    fn block<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn a_7710_before_the_answer_makes_the_registration_due() {
        let store = InMemoryFallbackStore::new(10);
        let t = TransactionId::from("t-1");
        assert_eq!(block(store.take(&t, T0, KEEP)).unwrap(), Take::NotPending);
        // The platform retries the receipt: still nothing pending, nothing new stored.
        assert_eq!(block(store.take(&t, T0, KEEP)).unwrap(), Take::NotPending);
        let registered = block(store.register(&t, &fallback("c-1"), T0, KEEP)).unwrap();
        assert_eq!(registered, Registration::Due);
        assert_eq!(block(store.take(&t, T0, KEEP)).unwrap(), Take::AlreadyTaken);
        let unfinished = block(store.unfinished(T0)).unwrap();
        assert_eq!(
            unfinished,
            [UnfinishedFallback::new(
                t.clone(),
                CorrelationId::new("c-1").unwrap(),
                T0
            )]
        );
        assert_eq!(block(store.pending(T0)).unwrap(), 0);
    }

    #[test]
    fn records_expire_after_the_retention() {
        let store = InMemoryFallbackStore::new(10);
        let t = TransactionId::from("t-1");
        block(store.register(&t, &fallback("c-1"), T0, KEEP)).unwrap();
        let later = T0 + KEEP;
        assert_eq!(block(store.pending(later)).unwrap(), 0);
        assert_eq!(block(store.peek(&t, later)).unwrap(), None);
        assert_eq!(
            block(store.take(&t, later, KEEP)).unwrap(),
            Take::NotPending
        );
        assert!(block(store.register(&t, &fallback("c-1"), T0, Duration::ZERO)).is_err());
    }

    #[test]
    fn the_oldest_pending_fallback_goes_when_full() {
        let store = InMemoryFallbackStore::new(2);
        for (n, id) in ["t-1", "t-2", "t-3"].into_iter().enumerate() {
            let at = T0 + Duration::from_secs(n as u64);
            block(store.register(&TransactionId::from(id), &fallback(id), at, KEEP)).unwrap();
        }
        assert_eq!(block(store.pending(T0)).unwrap(), 2);
        let first = TransactionId::from("t-1");
        assert_eq!(block(store.peek(&first, T0)).unwrap(), None);
        assert!(format!("{store:?}").contains("pending: 2"));
    }

    #[test]
    fn long_and_odd_transaction_ids_are_hashed() {
        let short = TransactionId::from("3f09295d-a371");
        assert_eq!(record_key(&short), "3f09295d-a371");
        let long = TransactionId::from("x".repeat(MAX_PLAIN_KEY_CHARS + 1));
        let key = record_key(&long);
        assert!(key.starts_with("sha256:") && key.len() == 7 + 64, "{key}");
        for odd in ["", "a b", "sha256:abc"] {
            assert!(record_key(&TransactionId::from(odd)).starts_with("sha256:"));
        }
    }
}
