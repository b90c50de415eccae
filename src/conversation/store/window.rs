//! Where [`SessionWindows`](crate::conversation::window::SessionWindows) keeps each
//! recipient's last inbound time: the [`WindowStore`] trait, and [`InMemoryWindowStore`], its
//! bounded in-memory default (a [`BoundedMap`]).

use std::borrow::Borrow;
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use time::OffsetDateTime;

use super::error::StoreError;
use super::key::check_waid;
use super::shared::impl_for_arc;
use crate::conversation::bounded::{BoundedMap, bounded_counts};

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

impl_for_arc!(WindowStore {
    fn record_inbound(inbound: InboundRecord<'_>) -> OffsetDateTime;
    fn last_inbound(waid: &str, now: OffsetDateTime) -> Option<OffsetDateTime>;
    fn forget(waid: &str) -> bool;
});

/// How many recipients [`InMemoryWindowStore::default`] tracks before evicting.
pub const DEFAULT_WINDOW_CAPACITY: usize = 1_000_000;

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
/// [`RedisStore`](crate::conversation::redis::RedisStore).
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
    async fn record_inbound(
        &self,
        inbound: InboundRecord<'_>,
    ) -> Result<OffsetDateTime, StoreError> {
        self.record_sync(inbound)
    }

    async fn last_inbound(
        &self,
        waid: &str,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        Ok(self.last_sync(waid, now))
    }

    async fn forget(&self, waid: &str) -> Result<bool, StoreError> {
        Ok(self.forget_sync(waid))
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
}
