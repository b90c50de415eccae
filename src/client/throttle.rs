//! A client-side rate limit, so bursts wait here instead of failing with 7020.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A GCRA (virtual-scheduling token bucket) limiter on tokio time: up to one second's worth of
/// messages go at once, then messages are spaced evenly. A request for N destinations counts N.
#[derive(Debug)]
pub(crate) struct Throttle {
    per_second: NonZeroU32,
    interval: Duration,
    /// The theoretical arrival time of the next message.
    tat: Mutex<Option<Instant>>,
}

impl Throttle {
    pub(crate) fn new(per_second: NonZeroU32) -> Self {
        Self {
            per_second,
            interval: Duration::from_secs(1) / per_second.get(),
            tat: Mutex::new(None),
        }
    }

    pub(crate) fn per_second(&self) -> NonZeroU32 {
        self.per_second
    }

    /// Waits until `count` messages may go, and reserves them.
    pub(crate) async fn acquire(&self, count: usize) {
        let ready_at = self.reserve(count, Instant::now());
        tokio::time::sleep_until(ready_at).await;
    }

    fn reserve(&self, count: usize, now: Instant) -> Instant {
        let burst = Duration::from_secs(1);
        let cost = self
            .interval
            .saturating_mul(u32::try_from(count).unwrap_or(u32::MAX));
        // The lock only guards two instants, so a poisoned one is still consistent.
        let mut tat = self
            .tat
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let start = tat.map_or(now, |t| t.max(now));
        let next = start + cost;
        *tat = Some(next);
        next.checked_sub(burst).map_or(now, |at| at.max(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_spread_over_time() {
        let t = Throttle::new(NonZeroU32::new(10).unwrap());
        let start = Instant::now();
        // One second's worth goes at once.
        for _ in 0..10 {
            assert_eq!(t.reserve(1, start), start);
        }
        // The next ones are spaced by 100 ms.
        assert_eq!(t.reserve(1, start), start + Duration::from_millis(100));
        assert_eq!(t.reserve(5, start), start + Duration::from_millis(600));
        t.acquire(1).await;
        assert!(Instant::now() >= start + Duration::from_millis(700));
    }
}
