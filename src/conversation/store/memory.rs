//! The bounded in-memory stores of windows and seen keys (a [`BoundedMap`] each). The opt-in
//! ledger's in-memory store is in [`optin`](crate::conversation::optin): it is not bounded, as
//! consent evidence must not be evicted.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use time::OffsetDateTime;

use super::{Claim, InboundRecord, SeenStore, StoreError, WindowStore, check_waid, ttl_millis};
use crate::conversation::bounded::{BoundedMap, bounded_counts};
use crate::conversation::clock::{Clock, SystemClock, saturating_add};

/// How many recipients [`InMemoryWindowStore::default`] tracks before evicting.
pub const DEFAULT_WINDOW_CAPACITY: usize = 1_000_000;

/// How many keys [`InMemorySeenStore::default`] remembers before evicting the oldest.
pub const DEFAULT_SEEN_CAPACITY: usize = 100_000;

/// A recipient's last inbound time and when it may be dropped.
#[derive(Debug, Clone, Copy)]
struct Slot {
    at: OffsetDateTime,
    keep_until: OffsetDateTime,
}

/// The default [`WindowStore`]: a bounded map in this process.
///
/// When full, a new recipient first displaces an entry whose `keep_until` has passed, and
/// otherwise the entry whose last inbound message is oldest (its window closes first), so
/// memory stays bounded under any load. Each operation holds a lock for one map update and
/// one ordered-index update (`O(log n)`); no scan ever runs under the lock.
///
/// It needs no async runtime and no optional dependency. It is per process: behind a load
/// balancer use a shared store such as
/// [`RedisStore`](crate::conversation::store::redis::RedisStore).
pub struct InMemoryWindowStore {
    /// Ordered by `keep_until`: the first entries are the expired ones and, after them, the
    /// ones whose last inbound message is oldest.
    inner: RwLock<BoundedMap<Arc<str>, Slot, OffsetDateTime>>,
}

impl InMemoryWindowStore {
    /// A store that keeps at most `capacity` recipients (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: RwLock::new(BoundedMap::new(capacity.max(1))),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, BoundedMap<Arc<str>, Slot, OffsetDateTime>> {
        // A panic elsewhere cannot leave the maps half-updated in a way that matters here
        // (at worst one index entry is stale), so a poisoned lock is still usable.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, BoundedMap<Arc<str>, Slot, OffsetDateTime>> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn record_sync(&self, inbound: InboundRecord<'_>) -> Result<OffsetDateTime, StoreError> {
        let InboundRecord { waid, at, now, .. } = inbound;
        check_waid(waid)?;
        let mut slots = self.write();
        if let Some(slot) = slots.get(waid)
            && slot.keep_until > now
            && slot.at >= at
        {
            return Ok(slot.at);
        }
        // Already past its retention: storing it would only hold personal data longer.
        let keep_until = inbound.keep_until;
        if keep_until > now {
            slots.insert(Arc::from(waid), Slot { at, keep_until }, keep_until);
        }
        Ok(at)
    }

    fn last_sync(&self, waid: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.read()
            .get(waid)
            .filter(|slot| slot.keep_until > now)
            .map(|slot| slot.at)
    }

    fn forget_sync(&self, waid: &str) -> bool {
        self.write().remove(waid).is_some()
    }
}

impl Default for InMemoryWindowStore {
    /// A store for [`DEFAULT_WINDOW_CAPACITY`] recipients.
    fn default() -> Self {
        Self::new(DEFAULT_WINDOW_CAPACITY)
    }
}

// Entries past `keep_until` count until a new recipient displaces them.
bounded_counts!(InMemoryWindowStore, "recipients", |store| store.read());

impl WindowStore for InMemoryWindowStore {
    fn record_inbound(
        &self,
        inbound: InboundRecord<'_>,
    ) -> impl Future<Output = Result<OffsetDateTime, StoreError>> + Send {
        std::future::ready(self.record_sync(inbound))
    }

    fn last_inbound(
        &self,
        waid: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<OffsetDateTime>, StoreError>> + Send {
        std::future::ready(Ok(self.last_sync(waid, now)))
    }

    fn forget(&self, waid: &str) -> impl Future<Output = Result<bool, StoreError>> + Send {
        std::future::ready(Ok(self.forget_sync(waid)))
    }
}

/// What [`InMemorySeenStore`] holds for a key.
#[derive(Debug, Clone)]
enum Mark {
    /// Claimed by this owner while its event is being handled.
    Pending(Arc<str>),
    /// Handled.
    Done,
}

/// A key's mark and when it ends.
#[derive(Debug, Clone)]
struct Seen {
    mark: Mark,
    until: OffsetDateTime,
}

/// The default [`SeenStore`]: a bounded map in this process.
///
/// Claims end with their lease and done marks with their TTL; when the store is full, the
/// key written longest ago is forgotten to make room (a duplicate arriving after that would
/// be handled again, so size the capacity for your peak rate times the TTL). Each call holds
/// one lock for one map update; no scan runs under it.
pub struct InMemorySeenStore<C = SystemClock> {
    clock: C,
    /// Key -> its mark, in the order the marks were written.
    keys: Mutex<BoundedMap<Arc<str>, Seen>>,
}

impl InMemorySeenStore<SystemClock> {
    /// A store that remembers at most `capacity` keys (at least 1), on the system clock.
    pub fn new(capacity: usize) -> Self {
        Self::with_clock(capacity, SystemClock)
    }
}

impl Default for InMemorySeenStore<SystemClock> {
    /// A store for [`DEFAULT_SEEN_CAPACITY`] keys.
    fn default() -> Self {
        Self::new(DEFAULT_SEEN_CAPACITY)
    }
}

impl<C: Clock> InMemorySeenStore<C> {
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
        keys: &mut BoundedMap<Arc<str>, Seen>,
        key: &str,
        mark: Mark,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let millis = ttl_millis(ttl)?;
        let now = self.clock.now();
        // Drop expired keys at the front while they are cheap to find.
        keys.pop_front_while(|seen| seen.until <= now);
        let until = saturating_add(now, Duration::from_millis(millis));
        keys.insert(Arc::from(key), Seen { mark, until }, ());
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

impl<C> InMemorySeenStore<C> {
    fn lock(&self) -> MutexGuard<'_, BoundedMap<Arc<str>, Seen>> {
        // The maps stay consistent enough after a panic elsewhere (a stale order entry at
        // worst), so a poisoned lock is still usable.
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

// Expired keys count until they are looked up again or displaced.
bounded_counts!(InMemorySeenStore<C>, "keys", |store| store.lock());

impl<C: Clock> SeenStore for InMemorySeenStore<C> {
    fn claim(
        &self,
        key: &str,
        owner: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        std::future::ready(self.claim_sync(key, owner, lease))
    }

    fn complete(
        &self,
        key: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        std::future::ready(self.complete_sync(key, ttl))
    }

    fn release(
        &self,
        key: &str,
        owner: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        std::future::ready(Ok(self.release_sync(key, owner)))
    }
}
