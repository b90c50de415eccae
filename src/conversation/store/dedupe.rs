//! What [`Deduplicator`](crate::conversation::dedupe::Deduplicator) keeps: the [`DedupeStore`]
//! trait, which claims and completes events in two phases, and [`InMemoryDedupeStore`], its
//! bounded in-memory default (a [`BoundedMap`]).

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

use super::error::{StoreError, ttl_millis};
use super::shared::impl_for_arc;
use crate::conversation::bounded::{BoundedMap, bounded_counts};
use crate::conversation::clock::{Clock, SystemClock, saturating_add};

/// What [`DedupeStore::claim`] found for a key: may this delivery of the event be handled?
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
    /// the event, then [complete](DedupeStore::complete) it on success or
    /// [release](DedupeStore::release) it on failure.
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
/// use webex_connect_whatsapp::conversation::store::{Claim, InMemoryDedupeStore, DedupeStore};
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let store = InMemoryDedupeStore::new(1000);
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
pub trait DedupeStore: Send + Sync {
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

impl_for_arc!(DedupeStore {
    fn claim(key: &str, owner: &str, lease: Duration) -> Claim;
    fn complete(key: &str, ttl: Duration) -> ();
    fn release(key: &str, owner: &str) -> bool;
});

/// How many keys [`InMemoryDedupeStore::default`] remembers before evicting the oldest.
pub const DEFAULT_DEDUPE_CAPACITY: usize = 100_000;

/// What [`InMemoryDedupeStore`] holds for a key.
#[derive(Debug, Clone)]
enum Mark {
    /// Claimed by this owner while its event is being handled.
    Pending(Arc<str>),
    /// Handled.
    Done,
}

/// A key's mark and when it ends.
#[derive(Debug, Clone)]
struct Held {
    mark: Mark,
    until: OffsetDateTime,
}

/// The default [`DedupeStore`]: a bounded map in this process.
///
/// Claims end with their lease and done marks with their TTL; when the store is full, the
/// key written longest ago is forgotten to make room (a duplicate arriving after that would
/// be handled again, so size the capacity for your peak rate times the TTL). Each call holds
/// one lock for one map update; no scan runs under it.
pub struct InMemoryDedupeStore<C = SystemClock> {
    clock: C,
    /// Key -> its mark, in the order the marks were written.
    keys: Mutex<BoundedMap<Arc<str>, Held>>,
}

impl InMemoryDedupeStore<SystemClock> {
    /// A store that remembers at most `capacity` keys (at least 1), on the system clock.
    pub fn new(capacity: usize) -> Self {
        Self::with_clock(capacity, SystemClock)
    }
}

impl Default for InMemoryDedupeStore<SystemClock> {
    /// A store for [`DEFAULT_DEDUPE_CAPACITY`] keys.
    fn default() -> Self {
        Self::new(DEFAULT_DEDUPE_CAPACITY)
    }
}

impl<C: Clock> InMemoryDedupeStore<C> {
    /// A store that reads expiry times from `clock` (a
    /// [`ManualClock`](crate::conversation::clock::ManualClock) in tests).
    pub fn with_clock(capacity: usize, clock: C) -> Self {
        Self {
            clock,
            keys: Mutex::new(BoundedMap::new(capacity.max(1))),
        }
    }

    /// Writes `mark` for `key` until `ttl` from now, behind every other key in the order.
    fn write(
        &self,
        keys: &mut BoundedMap<Arc<str>, Held>,
        key: &str,
        mark: Mark,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let millis = ttl_millis(ttl)?;
        let now = self.clock.now();
        // Drop expired keys at the front while they are cheap to find.
        keys.pop_front_while(|seen| seen.until <= now);
        let until = saturating_add(now, Duration::from_millis(millis));
        keys.insert(Arc::from(key), Held { mark, until }, ());
        Ok(())
    }

    fn claim_sync(&self, key: &str, owner: &str, lease: Duration) -> Result<Claim, StoreError> {
        ttl_millis(lease)?;
        let now = self.clock.now();
        let mut keys = self.lock();
        match keys.get(key) {
            Some(seen) if seen.until > now => Ok(match seen.mark {
                Mark::Pending(_) => Claim::Pending,
                Mark::Done => Claim::Done,
            }),
            _ => {
                self.write(&mut keys, key, Mark::Pending(Arc::from(owner)), lease)?;
                Ok(Claim::Claimed)
            }
        }
    }

    fn complete_sync(&self, key: &str, ttl: Duration) -> Result<(), StoreError> {
        let mut keys = self.lock();
        self.write(&mut keys, key, Mark::Done, ttl)
    }

    fn release_sync(&self, key: &str, owner: &str) -> bool {
        let now = self.clock.now();
        let mut keys = self.lock();
        let ours = keys
            .get(key)
            .is_some_and(|seen| matches!(&seen.mark, Mark::Pending(o) if &**o == owner));
        // An expired claim of ours goes too, but there was nothing left to undo.
        ours && keys.remove(key).is_some_and(|seen| seen.until > now)
    }
}

impl<C> InMemoryDedupeStore<C> {
    fn lock(&self) -> MutexGuard<'_, BoundedMap<Arc<str>, Held>> {
        // The maps stay consistent enough after a panic elsewhere (a stale order entry at
        // worst), so a poisoned lock is still usable.
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

// Expired keys count until they are looked up again or displaced.
bounded_counts!(InMemoryDedupeStore<C>, "keys", |store| store.lock());

impl<C: Clock> DedupeStore for InMemoryDedupeStore<C> {
    async fn claim(&self, key: &str, owner: &str, lease: Duration) -> Result<Claim, StoreError> {
        self.claim_sync(key, owner, lease)
    }

    async fn complete(&self, key: &str, ttl: Duration) -> Result<(), StoreError> {
        self.complete_sync(key, ttl)
    }

    async fn release(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        Ok(self.release_sync(key, owner))
    }
}
