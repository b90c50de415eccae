//! Fault injection: what can go wrong between a client and Webex Connect.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A fault the sandbox injects into one send request.
///
/// Faults come from four places, checked in this order for every request:
/// 1. the request header [`FAULT_HEADER`] (`x-sandbox-fault: drop-after-queue, latency=200ms`);
/// 2. a correlation id (the request's, else its first destination's) that starts with
///    [`FAULT_CORRELATION_PREFIX`] and a fault name: `fault:rate-limit:order-17`;
/// 3. the queue of next faults ([`Sandbox::push_fault`](super::Sandbox::push_fault)), one per request;
/// 4. random faults ([`RandomFaults`]), seeded, so a run can be repeated.
///
/// The first place that names a fault wins; the header may name several.
///
/// None of the answers a client sees proves that nothing was queued, except `rate-limit`
/// (the platform's documented "not processed"): a gateway error or a `7006` may follow a
/// queued message on the real platform, which `http-504-after-queue` and `drop-after-queue`
/// imitate. A client must not resend after them.
///
/// | fault | wire name | the client sees | message queued |
/// |---|---|---|---|
/// | [`Fault::Latency`] | `latency=250ms` | the normal answer, that much later | as usual |
/// | [`Fault::RateLimited`] | `rate-limit` | HTTP 429, code `7020` | no |
/// | [`Fault::InternalError`] | `internal-error` | HTTP 500, code `7006` | no |
/// | [`Fault::InternalErrorOk`] | `internal-error-200` | HTTP 200, code `7006` | no |
/// | [`Fault::HttpStatus`] | `http-500`, `http-502`, `http-504` | that status, a plain-text body | no |
/// | [`Fault::StatusAfterQueue`] | `http-504-after-queue` | that status, a plain-text body | **yes**, receipts flow |
/// | [`Fault::Redirect`] | `redirect` | HTTP 307, `Location` on another path | no |
/// | [`Fault::DropBeforeBody`] | `drop-before-body` | the connection closes, no answer | no |
/// | [`Fault::DropAfterQueue`] | `drop-after-queue` | the connection closes, no answer (the reply is lost after queueing) | **yes**, receipts flow |
/// | [`Fault::DuplicateReceipts`] | `duplicate-receipts` | the normal answer; every receipt is posted twice | as usual |
/// | [`Fault::ReceiptsOutOfOrder`] | `out-of-order-receipts` | the normal answer; Read is posted before Delivered | as usual |
///
/// ```
/// use std::time::Duration;
/// use webex_connect_whatsapp::sandbox::Fault;
///
/// assert_eq!("drop-after-queue".parse::<Fault>()?, Fault::DropAfterQueue);
/// assert_eq!("latency=250ms".parse::<Fault>()?, Fault::Latency(Duration::from_millis(250)));
/// assert_eq!(Fault::HttpStatus(503).to_string(), "http-503");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// Handle the request normally, then hold the answer back for this long (wall-clock time,
    /// so a client timeout fires): the message is queued even if the client gives up.
    Latency(Duration),
    /// Reject with `7020` ("maximum transaction limit reached") and HTTP 429.
    RateLimited,
    /// Reject with `7006` ("internal error occurred") and HTTP 500.
    InternalError,
    /// Reject with `7006` and HTTP 200: the SMS API page lists its rejections with HTTP 200.
    /// UNVERIFIED which status the platform sends with `7006`; test both.
    InternalErrorOk,
    /// Answer with this HTTP status and a body that is not Webex Connect JSON (a proxy error,
    /// e.g. 500, 502 or 504).
    HttpStatus(u16),
    /// Queue the message, then answer with this HTTP status and a plain-text body: a gateway
    /// that timed out (504) or failed (502) after the platform queued the message.
    StatusAfterQueue(u16),
    /// Answer `307 Temporary Redirect` with a `Location` on another path of the sandbox,
    /// which records whatever follows it (see
    /// [`Sandbox::redirect_url`](super::Sandbox::redirect_url)). Nothing is queued: a
    /// client that follows the redirect sends its key to another URL, and still queues
    /// nothing.
    Redirect,
    /// Close the connection before reading the body: nothing is queued.
    DropBeforeBody,
    /// Queue the message, then close the connection without answering.
    DropAfterQueue,
    /// Post every delivery receipt of the request's messages twice.
    DuplicateReceipts,
    /// Post Read before Delivered.
    ReceiptsOutOfOrder,
}

/// The request header that names faults for that one request, comma-separated.
pub const FAULT_HEADER: &str = "x-sandbox-fault";

/// A correlation id starting with this, then a fault name and `:`, injects that fault.
pub const FAULT_CORRELATION_PREFIX: &str = "fault:";

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Latency(d) => write!(f, "latency={}ms", d.as_millis()),
            Self::RateLimited => f.write_str("rate-limit"),
            Self::InternalError => f.write_str("internal-error"),
            Self::InternalErrorOk => f.write_str("internal-error-200"),
            Self::HttpStatus(s) => write!(f, "http-{s}"),
            Self::StatusAfterQueue(s) => write!(f, "http-{s}-after-queue"),
            Self::Redirect => f.write_str("redirect"),
            Self::DropBeforeBody => f.write_str("drop-before-body"),
            Self::DropAfterQueue => f.write_str("drop-after-queue"),
            Self::DuplicateReceipts => f.write_str("duplicate-receipts"),
            Self::ReceiptsOutOfOrder => f.write_str("out-of-order-receipts"),
        }
    }
}

/// A fault name the sandbox does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown sandbox fault {name:?}; expected latency=<n>ms, rate-limit, internal-error, internal-error-200, http-<status>, http-<status>-after-queue, redirect, drop-before-body, drop-after-queue, duplicate-receipts or out-of-order-receipts"
)]
#[non_exhaustive]
pub struct FaultParseError {
    /// The name given.
    pub name: String,
}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        let err = || FaultParseError {
            name: name.to_owned(),
        };
        if let Some(ms) = name.strip_prefix("latency=") {
            let ms = ms.strip_suffix("ms").unwrap_or(ms);
            return ms
                .parse::<u64>()
                .map(|ms| Self::Latency(Duration::from_millis(ms)))
                .map_err(|_| err());
        }
        if let Some(status) = name.strip_prefix("http-") {
            let (status, after_queue) = match status.strip_suffix("-after-queue") {
                Some(status) => (status, true),
                None => (status, false),
            };
            return match status.parse::<u16>() {
                Ok(s) if (100..=599).contains(&s) && after_queue => Ok(Self::StatusAfterQueue(s)),
                Ok(s) if (100..=599).contains(&s) => Ok(Self::HttpStatus(s)),
                _ => Err(err()),
            };
        }
        Ok(match name {
            "rate-limit" => Self::RateLimited,
            "internal-error" => Self::InternalError,
            "internal-error-200" => Self::InternalErrorOk,
            "redirect" => Self::Redirect,
            "drop-before-body" => Self::DropBeforeBody,
            "drop-after-queue" => Self::DropAfterQueue,
            "duplicate-receipts" => Self::DuplicateReceipts,
            "out-of-order-receipts" => Self::ReceiptsOutOfOrder,
            _ => return Err(err()),
        })
    }
}

/// Faults drawn at random, from a seed so a failing run can be repeated.
///
/// Each request is faulted with `probability`; the fault is picked uniformly from `faults`.
///
/// ```
/// use webex_connect_whatsapp::sandbox::{Fault, RandomFaults};
///
/// let faults = RandomFaults::new(42, 0.2, [Fault::RateLimited, Fault::DropAfterQueue])?;
/// assert_eq!(faults.probability(), 0.2);
/// assert!(RandomFaults::new(42, 1.5, [Fault::RateLimited]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RandomFaults {
    seed: u64,
    probability: f64,
    faults: Vec<Fault>,
}

/// Random-fault settings that cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RandomFaultsError {
    /// The probability was outside 0 to 1.
    #[error("fault probability is {0}, but it must be between 0 and 1")]
    Probability(f64),
    /// No fault kinds were given.
    #[error("no fault kinds were given; name at least one")]
    NoFaults,
}

impl RandomFaults {
    /// Faults each request with `probability` (0 to 1), choosing among `faults`.
    ///
    /// # Errors
    ///
    /// [`RandomFaultsError`] for a probability outside 0 to 1 or an empty fault list.
    pub fn new(
        seed: u64,
        probability: f64,
        faults: impl IntoIterator<Item = Fault>,
    ) -> Result<Self, RandomFaultsError> {
        if !(0.0..=1.0).contains(&probability) {
            return Err(RandomFaultsError::Probability(probability));
        }
        let faults: Vec<Fault> = faults.into_iter().collect();
        if faults.is_empty() {
            return Err(RandomFaultsError::NoFaults);
        }
        Ok(Self {
            seed,
            probability,
            faults,
        })
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The chance that a request is faulted.
    pub fn probability(&self) -> f64 {
        self.probability
    }

    /// The faults chosen from.
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }
}

/// The random generator with its settings, kept in the sandbox state.
#[derive(Debug)]
pub(crate) struct RandomFaultState {
    settings: RandomFaults,
    rng: fastrand::Rng,
}

impl RandomFaultState {
    pub(crate) fn new(settings: RandomFaults) -> Self {
        let rng = fastrand::Rng::with_seed(settings.seed);
        Self { settings, rng }
    }

    pub(crate) fn draw(&mut self) -> Option<Fault> {
        if self.rng.f64() >= self.settings.probability {
            return None;
        }
        let index = self.rng.usize(..self.settings.faults.len());
        self.settings.faults.get(index).copied()
    }
}

/// Parses the faults named in the header; unknown names are reported, not ignored.
pub(crate) fn parse_list(value: &str) -> Result<Vec<Fault>, FaultParseError> {
    value
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// The fault named by a correlation id such as `fault:rate-limit:order-17`.
pub(crate) fn from_correlation_id(id: &str) -> Option<Fault> {
    let rest = id.strip_prefix(FAULT_CORRELATION_PREFIX)?;
    let name = rest.split(':').next()?;
    name.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for fault in [
            Fault::Latency(Duration::from_millis(5)),
            Fault::RateLimited,
            Fault::InternalError,
            Fault::InternalErrorOk,
            Fault::HttpStatus(503),
            Fault::StatusAfterQueue(504),
            Fault::Redirect,
            Fault::DropBeforeBody,
            Fault::DropAfterQueue,
            Fault::DuplicateReceipts,
            Fault::ReceiptsOutOfOrder,
        ] {
            assert_eq!(fault.to_string().parse::<Fault>(), Ok(fault));
        }
        assert!("bogus".parse::<Fault>().is_err());
        assert!("http-9999-after-queue".parse::<Fault>().is_err());
        assert_eq!(
            "http-502-after-queue".parse::<Fault>(),
            Ok(Fault::StatusAfterQueue(502))
        );
        assert_eq!(
            from_correlation_id("fault:drop-after-queue:17"),
            Some(Fault::DropAfterQueue)
        );
        assert_eq!(from_correlation_id("order-17"), None);
    }

    #[test]
    fn random_faults_repeat_with_the_seed() {
        let settings = RandomFaults::new(7, 0.5, [Fault::RateLimited, Fault::InternalError]);
        let Ok(settings) = settings else {
            return;
        };
        let draw = |s: &RandomFaults| {
            let mut state = RandomFaultState::new(s.clone());
            (0..100).map(|_| state.draw()).collect::<Vec<_>>()
        };
        let first = draw(&settings);
        assert_eq!(first, draw(&settings));
        assert!(first.iter().any(Option::is_some));
        assert!(first.iter().any(Option::is_none));
    }
}
