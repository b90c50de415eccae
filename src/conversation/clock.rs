//! Where the stateful parts read "now" from: [`SystemClock`] in production, [`ManualClock`]
//! in tests (the sandbox's clock is one too, with feature `sandbox`).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

/// Where the stateful parts read the current time from, so tests can control it.
///
/// ```
/// use webex_connect_whatsapp::conversation::clock::{Clock, SystemClock};
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
/// use webex_connect_whatsapp::conversation::clock::{Clock, SystemClock};
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
/// use std::time::Duration;
/// use time::macros::datetime;
/// use webex_connect_whatsapp::conversation::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::new(datetime!(2026-01-01 09:00 UTC));
/// let shared = clock.clone();
/// clock.advance(Duration::from_secs(24 * 60 * 60));
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

    /// Moves the time forward by `by`, saturating at the end of the representable range
    /// ([`set`](Self::set) moves it backwards).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = saturating_add(*now, by);
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

/// `at + by`, saturating at the end of the representable range instead of panicking (a
/// `std` duration can be longer than any date `time` can hold).
pub(crate) fn saturating_add(at: OffsetDateTime, by: Duration) -> OffsetDateTime {
    at.saturating_add(time::Duration::try_from(by).unwrap_or(time::Duration::MAX))
}
