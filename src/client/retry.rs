//! When and how long to wait before resending a message: by default only with proof that it
//! was not processed.

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
    /// Why the attempt failed: an error that [`Error::is_retryable`], or, under
    /// [`RetryPolicy::at_least_once`] only, one that [`Error::is_outcome_unknown`] (this retry
    /// may then deliver the message twice).
    pub error: &'a Error,
}

/// The retry hook. Its own `Debug` (a closure has none) lets [`RetryPolicy`] derive its `Debug`,
/// so a new setting cannot be left out of it.
#[derive(Clone)]
struct Hook(Arc<dyn Fn(&RetryEvent<'_>) + Send + Sync>);

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fn")
    }
}

/// When the client resends a request by itself.
///
/// The messaging API has no idempotency key, so a resend after an answer that does not prove
/// the request was dropped can deliver the message twice. By default only failures with proof
/// that nothing was processed are resent ([`Error::is_retryable`]): the connection failed
/// before the request was written, a rate limit (7020 or HTTP 429), or HTTP 408. An HTTP 5xx,
/// code 7006, a timeout, a connection lost after writing or an unreadable body is
/// [outcome-unknown](Error::is_outcome_unknown) and goes back to the caller, never resent;
/// [`RetryPolicy::at_least_once`] opts in to resending those too.
///
/// Delays grow exponentially from `base_delay` with jitter, capped at `max_delay`; a
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
/// assert!(!policy.resends_when_outcome_unknown());
/// assert_eq!(RetryPolicy::none().attempts(), 1);
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    deadline: Duration,
    resend_when_outcome_unknown: bool,
    hook: Option<Hook>,
}

impl Default for RetryPolicy {
    /// 4 attempts, 250 ms base delay, 10 s max delay, 60 s deadline.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            deadline: Duration::from_mins(1),
            resend_when_outcome_unknown: false,
            hook: None,
        }
    }
}

impl RetryPolicy {
    /// No retries: every failure goes straight back to the caller.
    pub fn none() -> Self {
        Self::default().max_attempts(1)
    }

    /// The default policy that **also resends when the outcome is unknown** (HTTP 5xx, code
    /// 7006, timeouts, connections lost after writing, unreadable bodies), trading "at most
    /// once" for "at least once".
    ///
    /// **This can deliver a message twice**: the API has no idempotency key, and each of those
    /// failures may come after the message was queued. Choose it only where a duplicate costs
    /// less than a lost message (a one-time code resent by the user anyway, say), and
    /// deduplicate on the correlation id, which stays the same on every attempt.
    ///
    /// ```
    /// use webex_connect_whatsapp::client::RetryPolicy;
    /// let policy = RetryPolicy::at_least_once().max_attempts(3);
    /// assert!(policy.resends_when_outcome_unknown());
    /// ```
    pub fn at_least_once() -> Self {
        Self::default().resend_when_outcome_unknown(true)
    }

    crate::setters::setters! {
        /// Whether failures with an unknown outcome are resent too; see
        /// [`RetryPolicy::at_least_once`] for what that risks (a message delivered twice).
        fn resend_when_outcome_unknown(self, resend: bool) => self.resend_when_outcome_unknown = resend;

        /// The most attempts in all, the first included (at least 1).
        fn max_attempts(self, attempts: u32) => self.max_attempts = attempts.max(1);

        /// The delay before the first retry; later ones double.
        fn base_delay(self, delay: Duration) => self.base_delay = delay;

        /// The longest computed delay (a server's `Retry-After` may be longer).
        fn max_delay(self, delay: Duration) => self.max_delay = delay;

        /// The total time budget from the first attempt; no retry starts after it.
        fn deadline(self, deadline: Duration) => self.deadline = deadline;

        /// Calls `hook` before each retry (for logs and metrics).
        fn on_retry(self, hook: impl Fn(&RetryEvent<'_>) + Send + Sync + 'static) =>
            self.hook = Some(Hook(Arc::new(hook)));
    }

    /// Whether this policy resends failures with an unknown outcome (and so may deliver a
    /// message twice).
    pub fn resends_when_outcome_unknown(&self) -> bool {
        self.resend_when_outcome_unknown
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
        if !self.resends(error) || attempt >= self.max_attempts {
            return None;
        }
        let delay = error.retry_after().unwrap_or_else(|| self.backoff(attempt));
        (elapsed.saturating_add(delay) <= self.deadline).then_some(delay)
    }

    /// Whether `error` may be resent under this policy.
    pub(crate) fn resends(&self, error: &Error) -> bool {
        if error.is_retryable() {
            return true;
        }
        // A redirect answers the same way every time, so resending it only repeats it.
        self.resend_when_outcome_unknown
            && error.is_outcome_unknown()
            && !matches!(error, Error::Redirected { .. })
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
        if let Some(Hook(hook)) = &self.hook {
            hook(event);
        }
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
