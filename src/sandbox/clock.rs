//! The sandbox's notion of time, which tests can move.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::conversation::clock::{Clock, saturating_add};

/// The clock the sandbox reads for the 24-hour window, receipt timestamps and every delay it
/// waits (receipt delays, webhook retry delays).
///
/// Three kinds:
/// - [`SandboxClock::real`]: wall-clock time (the default).
/// - [`SandboxClock::manual`]: time stands still until [`SandboxClock::advance`] moves it, so a
///   24-hour window test takes milliseconds. Every pending sandbox delay that the jump covers
///   finishes at once.
/// - [`SandboxClock::scaled`]: time runs `rate` times faster than the wall clock (60.0 makes a
///   60-second webhook retry delay last one real second).
///
/// Any kind can be moved with [`SandboxClock::advance`]. Clones share the same time, so a test
/// keeps one clone and hands the other to [`SandboxBuilder::clock`](super::SandboxBuilder::clock).
///
/// ```
/// use std::time::Duration;
/// use webex_connect_whatsapp::sandbox::SandboxClock;
///
/// let clock = SandboxClock::manual();
/// let before = clock.now();
/// clock.advance(Duration::from_secs(24 * 3600));
/// assert_eq!(clock.now() - before, time::Duration::hours(24));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SandboxClock {
    inner: Arc<Inner>,
}

struct Inner {
    /// Sandbox seconds per real second: 0 for manual, 1 for real.
    rate: f64,
    manual: bool,
    start_real: Instant,
    start: OffsetDateTime,
    offset: Mutex<Duration>,
    /// Bumped on every `advance`, so sleepers re-check their deadline.
    moved: watch::Sender<u64>,
}

impl fmt::Debug for SandboxClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxClock")
            .field("rate", &self.inner.rate)
            .field("now", &self.now())
            .finish()
    }
}

impl Default for SandboxClock {
    fn default() -> Self {
        Self::real()
    }
}

impl SandboxClock {
    fn with_rate(rate: f64, start: OffsetDateTime) -> Self {
        let (moved, _) = watch::channel(0);
        Self {
            inner: Arc::new(Inner {
                rate,
                manual: rate <= 0.0,
                start_real: Instant::now(),
                start,
                offset: Mutex::new(Duration::ZERO),
                moved,
            }),
        }
    }

    /// Wall-clock time.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::SandboxClock;
    /// let clock = SandboxClock::real();
    /// assert!(clock.now() <= time::OffsetDateTime::now_utc());
    /// ```
    pub fn real() -> Self {
        Self::with_rate(1.0, OffsetDateTime::now_utc())
    }

    /// A clock that stands still at the current wall-clock time until advanced.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::SandboxClock;
    /// let clock = SandboxClock::manual();
    /// assert_eq!(clock.now(), clock.now());
    /// ```
    pub fn manual() -> Self {
        Self::manual_at(OffsetDateTime::now_utc())
    }

    /// A clock that stands still at `start` until advanced.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::SandboxClock;
    /// let clock = SandboxClock::manual_at(time::macros::datetime!(2019-03-04 09:49:20.429 UTC));
    /// assert_eq!(clock.now().year(), 2019);
    /// ```
    pub fn manual_at(start: OffsetDateTime) -> Self {
        Self::with_rate(0.0, start)
    }

    /// A clock that runs `rate` times faster than the wall clock.
    ///
    /// # Errors
    ///
    /// [`ClockRateError`] when `rate` is not a finite number above zero.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::SandboxClock;
    /// let clock = SandboxClock::scaled(3600.0)?; // one real second is one sandbox hour
    /// assert!(SandboxClock::scaled(0.0).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scaled(rate: f64) -> Result<Self, ClockRateError> {
        if rate.is_finite() && rate > 0.0 {
            Ok(Self::with_rate(rate, OffsetDateTime::now_utc()))
        } else {
            Err(ClockRateError { rate })
        }
    }

    /// The current sandbox time, in UTC.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::SandboxClock;
    /// assert_eq!(SandboxClock::manual().now().offset(), time::UtcOffset::UTC);
    /// ```
    pub fn now(&self) -> OffsetDateTime {
        let real = self.inner.start_real.elapsed().mul_f64(self.inner.rate);
        self.inner.start + real + self.offset()
    }

    fn offset(&self) -> Duration {
        *self
            .inner
            .offset
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves the clock forward; sandbox delays that end within the jump finish now.
    ///
    /// ```
    /// use std::time::Duration;
    /// use webex_connect_whatsapp::sandbox::SandboxClock;
    /// let clock = SandboxClock::manual();
    /// let t0 = clock.now();
    /// clock.advance(Duration::from_secs(90));
    /// assert_eq!((clock.now() - t0).whole_seconds(), 90);
    /// ```
    pub fn advance(&self, by: Duration) {
        {
            let mut offset = self
                .inner
                .offset
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            *offset = offset.saturating_add(by);
        }
        self.inner.moved.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Whether this clock only moves through [`SandboxClock::advance`].
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::SandboxClock;
    /// assert!(SandboxClock::manual().is_manual());
    /// assert!(!SandboxClock::real().is_manual());
    /// ```
    pub fn is_manual(&self) -> bool {
        self.inner.manual
    }

    /// Waits until `duration` of sandbox time has passed.
    pub(crate) async fn sleep(&self, duration: Duration) {
        if duration.is_zero() {
            return;
        }
        let deadline = saturating_add(self.now(), duration);
        let mut moved = self.inner.moved.subscribe();
        loop {
            let now = self.now();
            if now >= deadline {
                return;
            }
            let remaining: Duration = (deadline - now).try_into().unwrap_or(Duration::ZERO);
            if self.is_manual() {
                if moved.changed().await.is_err() {
                    return;
                }
            } else {
                let real = remaining.div_f64(self.inner.rate);
                tokio::select! {
                    () = tokio::time::sleep(real) => {}
                    changed = moved.changed() => if changed.is_err() { return; },
                }
            }
        }
    }
}

/// The sandbox's time is a [`Clock`], so the conversation state a test keeps beside a sandbox
/// (session windows, dedupe marks) moves with it.
///
/// ```
/// use std::time::Duration;
/// use webex_connect_whatsapp::conversation::window::SessionWindows;
/// use webex_connect_whatsapp::conversation::store::InMemoryWindowStore;
/// use webex_connect_whatsapp::sandbox::SandboxClock;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// # block_on(async {
/// let clock = SandboxClock::manual();
/// let windows = SessionWindows::with_clock(InMemoryWindowStore::new(10), clock.clone());
/// windows.record_inbound_now("919900012345").await?;
/// clock.advance(Duration::from_secs(24 * 60 * 60 - 1));
/// assert!(windows.status("919900012345").await?.is_open());
/// clock.advance(Duration::from_secs(1));
/// assert!(windows.status("919900012345").await?.is_closed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl Clock for SandboxClock {
    fn now(&self) -> OffsetDateTime {
        SandboxClock::now(self)
    }
}

/// A scaled clock's rate was not a finite number above zero.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("clock rate is {rate}, but it must be a finite number above 0")]
#[non_exhaustive]
pub struct ClockRateError {
    /// The rate given.
    pub rate: f64,
}
