//! When and how long to wait before resending a message that was certainly not queued.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::error::Error;

/// What the retry hook sees before each automatic retry.
#[derive(Debug)]
#[non_exhaustive]
pub struct RetryEvent<'a> {
    /// The attempt that just failed, from 1.
    pub attempt: u32,
    /// How long the client waits before the next attempt.
    pub delay: Duration,
    /// Why the attempt failed; always an error that [`Error::is_retryable`].
    pub error: &'a Error,
}

type Hook = Arc<dyn Fn(&RetryEvent<'_>) + Send + Sync>;

/// How the client retries requests that certainly did not queue a message.
///
/// Only failures where [`Error::is_retryable`] holds are retried (connection refused before
/// sending, 7020 / HTTP 429, 7006, HTTP 502 / 503); an outcome-unknown failure is never
/// retried. Delays grow exponentially from `base_delay` with jitter, capped at `max_delay`; a
/// `Retry-After` from the server wins. Retrying stops after `max_attempts` attempts in all, or
/// when the next wait would end after `deadline` (counted from the first attempt).
///
/// ```
/// use std::time::Duration;
/// use webex_connect_whatsapp::client::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_attempts(5)
///     .base_delay(Duration::from_millis(100))
///     .max_delay(Duration::from_secs(5))
///     .deadline(Duration::from_secs(30))
///     .on_retry(|e| eprintln!("retry {} in {:?}: {}", e.attempt, e.delay, e.error));
/// assert_eq!(policy.attempts(), 5);
/// assert_eq!(RetryPolicy::none().attempts(), 1);
/// ```
#[derive(Clone)]
#[must_use]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    deadline: Duration,
    hook: Option<Hook>,
}

impl Default for RetryPolicy {
    /// 4 attempts, 250 ms base delay, 10 s max delay, 60 s deadline.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            deadline: Duration::from_secs(60),
            hook: None,
        }
    }
}

impl RetryPolicy {
    /// No retries: every failure goes straight back to the caller.
    pub fn none() -> Self {
        Self::default().max_attempts(1)
    }

    /// The most attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The delay before the first retry; later ones double.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest computed delay (a server's `Retry-After` may be longer).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The total time budget from the first attempt; no retry starts after it.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Calls `hook` before each retry (for logs and metrics).
    pub fn on_retry(mut self, hook: impl Fn(&RetryEvent<'_>) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// The configured number of attempts.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before retrying after `attempt` failed with `error`, or `None` to stop.
    pub(crate) fn next_delay(
        &self,
        attempt: u32,
        error: &Error,
        elapsed: Duration,
    ) -> Option<Duration> {
        if !error.is_retryable() || attempt >= self.max_attempts {
            return None;
        }
        let delay = error.retry_after().unwrap_or_else(|| self.backoff(attempt));
        (elapsed.saturating_add(delay) <= self.deadline).then_some(delay)
    }

    /// Exponential backoff with "equal jitter": half fixed, half random, so clients that failed
    /// together do not retry together.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2_u32.saturating_pow(attempt.saturating_sub(1)))
            .min(self.max_delay);
        let half = exp / 2;
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(fastrand::u64(0..=nanos))
    }

    pub(crate) fn notify(&self, event: &RetryEvent<'_>) {
        if let Some(hook) = &self.hook {
            hook(event);
        }
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("base_delay", &self.base_delay)
            .field("max_delay", &self.max_delay)
            .field("deadline", &self.deadline)
            .field("hook", &self.hook.as_ref().map(|_| "Fn"))
            .finish()
    }
}

/// Reads `Retry-After`: delay-seconds or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, format)
        .ok()?
        .assume_utc();
    let at = SystemTime::from(at);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 2015-10-21T07:27:50Z
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(300));
        for _ in 0..50 {
            let d1 = p.backoff(1);
            assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
            let d3 = p.backoff(3);
            assert!(d3 >= Duration::from_millis(150) && d3 <= Duration::from_millis(300));
        }
    }
}
