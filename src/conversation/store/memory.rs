//! The bounded in-memory stores of windows and seen keys (a [`BoundedMap`] each). The opt-in
//! ledger's in-memory store is in [`optin`](crate::conversation::optin): it is not bounded, as
//! consent evidence must not be evicted.

use std::borrow::Borrow;
use std::future::Future;
use std::hash::{Hash, Hasher};
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

/// The most bytes of a recipient id kept inside its map entry: phone numbers (up to 15
/// digits), normalized WAIDs and typical BSUIDs (`US.` and 20 digits) fit.
const INLINE_KEY_BYTES: usize = 30;

/// A recipient id as the window map keeps it: inside the entry when short, so a lookup in a
/// large map reads the entry and no second allocation (a cache miss each, at a million
/// recipients); longer ids (up to [`MAX_RECIPIENT_KEY_CHARS`](super::MAX_RECIPIENT_KEY_CHARS))
/// on the heap. Hashed and compared as its bytes, which is how lookups by `&[u8]` find it.
#[derive(Clone)]
enum WindowKey {
    Inline {
        len: u8,
        bytes: [u8; INLINE_KEY_BYTES],
    },
    Heap(Box<[u8]>),
}

impl WindowKey {
    fn new(waid: &str) -> Self {
        let id = waid.as_bytes();
        let mut bytes = [0; INLINE_KEY_BYTES];
        match (bytes.get_mut(..id.len()), u8::try_from(id.len())) {
            (Some(inline), Ok(len)) => {
                inline.copy_from_slice(id);
                Self::Inline { len, bytes }
            }
            _ => Self::Heap(id.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Self::Heap(bytes) => bytes,
        }
    }
}

impl Borrow<[u8]> for WindowKey {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

// As `[u8]` hashes and compares, so that `Borrow<[u8]>` finds it.
impl Hash for WindowKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for WindowKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for WindowKey {}

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
    inner: RwLock<WindowMap>,
}

/// Recipient id -> slot, ordered by `keep_until`.
type WindowMap = BoundedMap<WindowKey, Slot, OffsetDateTime>;

impl InMemoryWindowStore {
    /// A store that keeps at most `capacity` recipients (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: RwLock::new(BoundedMap::new(capacity.max(1))),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, WindowMap> {
        // A panic elsewhere cannot leave the maps half-updated in a way that matters here
        // (at worst one index entry is stale), so a poisoned lock is still usable.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, WindowMap> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn record_sync(&self, inbound: InboundRecord<'_>) -> Result<OffsetDateTime, StoreError> {
        let InboundRecord { waid, at, now, .. } = inbound;
        check_waid(waid)?;
        let mut slots = self.write();
        if let Some(slot) = slots.get(waid.as_bytes())
            && slot.keep_until > now
            && slot.at >= at
        {
            return Ok(slot.at);
        }
        // Already past its retention: storing it would only hold personal data longer.
        let keep_until = inbound.keep_until;
        if keep_until > now {
            slots.insert(WindowKey::new(waid), Slot { at, keep_until }, keep_until);
        }
        Ok(at)
    }

    fn last_sync(&self, waid: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.read()
            .get(waid.as_bytes())
            .filter(|slot| slot.keep_until > now)
            .map(|slot| slot.at)
    }

    fn forget_sync(&self, waid: &str) -> bool {
        self.write().remove(waid.as_bytes()).is_some()
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(seconds)
    }

    fn record(store: &InMemoryWindowStore, waid: &str, seconds: i64) {
        let inbound = InboundRecord {
            waid,
            at: at(seconds),
            keep_until: at(seconds + 100),
            now: at(seconds),
        };
        store.record_sync(inbound).unwrap();
    }

    #[test]
    fn short_and_long_ids_are_kept_apart_and_found() {
        let store = InMemoryWindowStore::new(10);
        let long = format!("US.{}", "7".repeat(100));
        let ids = [
            "9199xxxxxxxx",
            "US.134912086553027419180000000", // exactly INLINE_KEY_BYTES
            "US.1349120865530274191800000000", // one more, on the heap
            long.as_str(),
            "é€",
        ];
        for (i, id) in ids.iter().enumerate() {
            record(&store, id, i64::try_from(i).unwrap());
        }
        assert_eq!(ids[1].len(), INLINE_KEY_BYTES);
        for (i, id) in ids.iter().enumerate() {
            let seconds = i64::try_from(i).unwrap();
            assert_eq!(store.last_sync(id, at(seconds)), Some(at(seconds)), "{id}");
        }
        // A prefix or extension of a kept id is another id.
        assert_eq!(store.last_sync("9199xxxxxxx", at(0)), None);
        assert_eq!(store.last_sync("9199xxxxxxxx0", at(0)), None);
        assert_eq!(store.last_sync(&long[..long.len() - 1], at(0)), None);
        assert!(store.forget_sync(&long));
        assert_eq!(store.last_sync(&long, at(3)), None);
        assert_eq!(store.len(), ids.len() - 1);
    }

    #[test]
    fn the_ascii_shortcut_of_check_waid_refuses_what_the_full_check_does() {
        let long = "9".repeat(super::super::MAX_RECIPIENT_KEY_CHARS + 1);
        for bad in ["", "91 99", "91\t99", "91\u{7f}99", "\u{0}", long.as_str()] {
            assert!(check_waid(bad).is_err(), "{bad:?}");
        }
        let longest = "9".repeat(super::super::MAX_RECIPIENT_KEY_CHARS);
        for good in ["!", "~", "9199xxxxxxxx", "US.ENT.1", "é", longest.as_str()] {
            assert!(check_waid(good).is_ok(), "{good:?}");
        }
        // Not ASCII: the full check, by characters.
        assert!(check_waid("91\u{a0}99").is_err());
        assert!(check_waid("91\u{85}99").is_err());
        assert!(check_waid(&"é".repeat(super::super::MAX_RECIPIENT_KEY_CHARS)).is_ok());
    }
}
