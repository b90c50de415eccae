//! Where sent messages stand, folded from their receipts: [`DeliveryState`] (one message at
//! one destination, with the one ordering of Submitted, Delivered, Read and Failed), the
//! [`DeliveryTracker`] that keeps the latest state of each message in bounded memory, and the
//! [`DeliveryFollowUp`] that reports which messages are stuck at Submitted and which failed,
//! grouped by code with the fix each code implies.
//!
//! The costly WhatsApp failures come back minutes later as receipts (a session message after
//! the 24-hour window: 7710; a text that is too long: 7714; template parameters that do not
//! match: 7804). Feed every receipt to a [`DeliveryFollowUp`] and ask for a
//! [`FollowUpReport`] now and then, or build one from a batch with
//! [`FollowUpReport::from_receipts`]. The advice comes from [`DeliveryCode::fix`], so it is
//! the same text the webhook models give.
//!
//! ```
//! use std::time::Duration;
//! use time::macros::datetime;
//! use webex_connect_whatsapp::conversation::delivery::FollowUpReport;
//! use webex_connect_whatsapp::webhook::{DeliveryCode, DeliveryReceipt, DeliveryStatus};
//!
//! let t = datetime!(2026-01-01 09:00 UTC);
//! let receipts = [
//!     DeliveryReceipt::builder("a", DeliveryStatus::Submitted).timestamp(t).build(),
//!     DeliveryReceipt::builder("b", DeliveryStatus::Failed)
//!         .code(DeliveryCode::ReEngagement)
//!         .timestamp(t)
//!         .build(),
//! ];
//! let report = FollowUpReport::from_receipts(&receipts, t + time::Duration::hours(1), Duration::from_secs(30 * 60));
//! assert_eq!(report.stuck.len(), 1);
//! assert_eq!(report.failures[0].code, DeliveryCode::ReEngagement);
//! assert!(report.failures[0].fix.is_some_and(|f| f.starts_with("send a template")));
//! ```
//!
//! Both keep one entry per message, that is per transaction id **and destination** (one
//! request may address several destinations under one transid, and each gets its own
//! receipts).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

use crate::conversation::bounded::{BoundedMap, bounded_counts};
use crate::conversation::dedupe::MAX_KEY_PART_CHARS;
use crate::conversation::store::{MAX_RECIPIENT_KEY_CHARS, check_max_chars};
use crate::ids::TransactionId;
use crate::phone::mask;
use crate::webhook::{DeliveryCode, DeliveryReceipt, DeliveryStatus};

/// How many messages [`DeliveryTracker::default`] remembers before forgetting the oldest.
pub const DEFAULT_TRACKED_MESSAGES: usize = 100_000;

/// The longest transaction id tracked, in characters (the longest a dedupe key takes,
/// [`MAX_KEY_PART_CHARS`]). Platform transids are UUID-like, about 40 characters; a receipt
/// with a longer one is not tracked, so that a sender cannot fill memory with huge ids.
pub const MAX_TRACKED_TRANSID_CHARS: usize = MAX_KEY_PART_CHARS;

/// The longest destination tracked, in characters (the longest recipient id a store takes,
/// [`MAX_RECIPIENT_KEY_CHARS`]: phone numbers, normalized WAIDs and business-scoped user ids
/// all fit). A receipt with a longer one is not tracked.
pub const MAX_TRACKED_DESTINATION_CHARS: usize = MAX_RECIPIENT_KEY_CHARS;

/// Why a delivery state was not tracked: an id longer than the tracker keeps.
///
/// ```
/// use webex_connect_whatsapp::TransactionId;
/// use webex_connect_whatsapp::conversation::delivery::{DeliveryState, DeliveryTracker};
/// let tracker = DeliveryTracker::default();
/// let huge = TransactionId::from("t".repeat(300).as_str());
/// let err = tracker.record_state(&huge, "447400000001", DeliveryState::Read).unwrap_err();
/// assert_eq!(err.to_string(), "the transid is 300 characters long, but the max tracked is 256");
/// assert!(tracker.is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrackError {
    /// The transid or the destination is too long to track.
    #[error("the {part} is {chars} characters long, but the max tracked is {max}")]
    TooLong {
        /// `transid` or `destination`.
        part: &'static str,
        /// Its length in characters.
        chars: usize,
        /// [`MAX_TRACKED_TRANSID_CHARS`] or [`MAX_TRACKED_DESTINATION_CHARS`].
        max: usize,
    },
}

/// Checks a (transid, destination) pair against the caps before anything is stored.
fn check_ids(transid: &str, destination: &str) -> Result<(), TrackError> {
    check_max_chars(transid, MAX_TRACKED_TRANSID_CHARS, |chars, max| {
        TrackError::TooLong {
            part: "transid",
            chars,
            max,
        }
    })?;
    check_max_chars(destination, MAX_TRACKED_DESTINATION_CHARS, |chars, max| {
        TrackError::TooLong {
            part: "destination",
            chars,
            max,
        }
    })
}

/// Where a sent message stands at one destination, after all its receipts so far.
///
/// One receipt's [`DeliveryStatus`] is what the platform said
/// once; the state folds every status received for the destination into the furthest one.
///
/// Receipts can arrive out of order and more than once, so states only move forward:
/// Submitted, then Delivered, then Read. Read implies Delivered (WhatsApp may skip the
/// Delivered receipt, or send it late). Failed is final and keeps its code.
///
/// ```
/// use webex_connect_whatsapp::conversation::delivery::DeliveryState;
/// use webex_connect_whatsapp::webhook::DeliveryCode;
///
/// assert!(DeliveryState::Read.is_delivered());
/// let failed = DeliveryState::Failed(DeliveryCode::ReEngagement);
/// assert_eq!(failed.failure_code().map(DeliveryCode::as_str), Some("7710"));
/// assert!(!failed.is_delivered());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeliveryState {
    /// Handed to WhatsApp (`7501`).
    Submitted,
    /// On the recipient's phone (`7500`).
    Delivered,
    /// Opened by the recipient (`7502`); so also delivered.
    Read,
    /// Not delivered, with the receipt's code (for example `7710` outside the 24-hour window).
    Failed(DeliveryCode),
}

impl DeliveryState {
    /// The state a single receipt reports; `None` for a status the crate does not know.
    ///
    /// ```
    /// use webex_connect_whatsapp::conversation::delivery::DeliveryState;
    /// use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
    /// let r = DeliveryReceipt::builder("t1", DeliveryStatus::Read).build();
    /// assert_eq!(DeliveryState::from_receipt(&r), Some(DeliveryState::Read));
    /// ```
    pub fn from_receipt(receipt: &DeliveryReceipt) -> Option<Self> {
        match receipt.status() {
            DeliveryStatus::Submitted => Some(Self::Submitted),
            DeliveryStatus::Delivered => Some(Self::Delivered),
            DeliveryStatus::Read => Some(Self::Read),
            DeliveryStatus::Failed => Some(Self::Failed(receipt.code().clone())),
            _ => None,
        }
    }

    /// Delivered or Read.
    ///
    /// ```
    /// # use webex_connect_whatsapp::conversation::delivery::DeliveryState;
    /// assert!(DeliveryState::Delivered.is_delivered());
    /// assert!(!DeliveryState::Submitted.is_delivered());
    /// ```
    pub fn is_delivered(&self) -> bool {
        matches!(self, Self::Delivered | Self::Read)
    }

    /// Read.
    ///
    /// ```
    /// # use webex_connect_whatsapp::conversation::delivery::DeliveryState;
    /// assert!(DeliveryState::Read.is_read());
    /// ```
    pub fn is_read(&self) -> bool {
        matches!(self, Self::Read)
    }

    /// The code of a Failed state.
    ///
    /// ```
    /// # use webex_connect_whatsapp::conversation::delivery::DeliveryState;
    /// assert_eq!(DeliveryState::Read.failure_code(), None);
    /// ```
    pub fn failure_code(&self) -> Option<&DeliveryCode> {
        match self {
            Self::Failed(code) => Some(code),
            _ => None,
        }
    }

    /// Read or Failed: no further receipt changes it.
    ///
    /// ```
    /// # use webex_connect_whatsapp::conversation::delivery::DeliveryState;
    /// assert!(DeliveryState::Read.is_final());
    /// assert!(!DeliveryState::Delivered.is_final());
    /// ```
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Read | Self::Failed(_))
    }

    /// The state after `self` once `next` arrives: never backwards, Failed kept.
    ///
    /// ```
    /// # use webex_connect_whatsapp::conversation::delivery::DeliveryState;
    /// // A late Delivered after Read does not go backwards.
    /// assert_eq!(DeliveryState::Read.fold(DeliveryState::Delivered), DeliveryState::Read);
    /// ```
    #[must_use]
    pub fn fold(self, next: Self) -> Self {
        match (self, next) {
            // The first failure is the news; later receipts of a failed message (a late
            // Submitted, a retried Failed) do not undo or replace it.
            (failed @ Self::Failed(_), _) | (_, failed @ Self::Failed(_)) => failed,
            (current, next) => {
                if next.rank() > current.rank() {
                    next
                } else {
                    current
                }
            }
        }
    }

    /// How far along a state is: the one ordering every fold and summary uses.
    fn rank(&self) -> u8 {
        match self {
            Self::Submitted => 0,
            Self::Delivered => 1,
            Self::Read | Self::Failed(_) => 2,
        }
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Submitted => f.write_str("submitted"),
            Self::Delivered => f.write_str("delivered"),
            Self::Read => f.write_str("read"),
            Self::Failed(code) => write!(f, "failed ({code})"),
        }
    }
}

#[derive(Debug)]
struct Inner {
    /// (transid, destination) -> state, `""` for receipts that name no destination; the
    /// entry first seen longest ago is forgotten first.
    states: BoundedMap<(TransactionId, String), DeliveryState>,
    /// The destinations recorded per transid, so that one message's are found without a
    /// scan.
    destinations: HashMap<TransactionId, BTreeSet<String>>,
}

/// The latest [`DeliveryState`] of each message, by transid **and destination**, in bounded
/// memory.
///
/// One request may address several destinations under one transid, and each destination
/// gets its own receipts: [`get`](Self::get) answers for one destination,
/// [`destinations`](Self::destinations) lists them all, and [`overall`](Self::overall)
/// sums them up. Feed it every receipt (the [`Receiver`](crate::receiver::Receiver) does);
/// when full, the entry first seen longest ago is forgotten. Size it for the destinations you
/// send to in the time their receipts take to arrive (Read receipts can come days later).
///
/// ```
/// use webex_connect_whatsapp::conversation::delivery::{DeliveryState, DeliveryTracker};
/// use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
///
/// let tracker = DeliveryTracker::new(10_000);
/// let receipt = |to: &str, status| DeliveryReceipt::builder("t1", status).destination(to).build();
/// tracker.record(&receipt("447400000001", DeliveryStatus::Read));
/// tracker.record(&receipt("447400000001", DeliveryStatus::Delivered));
/// tracker.record(&receipt("447400000002", DeliveryStatus::Submitted));
/// assert_eq!(tracker.get("t1", "447400000001"), Some(DeliveryState::Read));
/// assert_eq!(tracker.get("t1", "447400000002"), Some(DeliveryState::Submitted));
/// assert_eq!(tracker.overall("t1"), Some(DeliveryState::Submitted));
/// ```
pub struct DeliveryTracker {
    inner: Mutex<Inner>,
}

impl Default for DeliveryTracker {
    /// A tracker for [`DEFAULT_TRACKED_MESSAGES`] messages.
    fn default() -> Self {
        Self::new(DEFAULT_TRACKED_MESSAGES)
    }
}

bounded_counts!(
    DeliveryTracker,
    "(transid, destination) entries",
    |tracker| tracker.inner().states
);

impl DeliveryTracker {
    /// A tracker remembering up to `capacity` (transid, destination) entries (at least one).
    ///
    /// ```
    /// # use webex_connect_whatsapp::conversation::delivery::DeliveryTracker;
    /// assert_eq!(DeliveryTracker::new(0).capacity(), 1);
    /// ```
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                states: BoundedMap::new(capacity.max(1)),
                destinations: HashMap::new(),
            }),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The map is consistent after every statement, so a panic elsewhere leaves it usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Folds one receipt in and returns the state of its (transid, destination) afterwards.
    ///
    /// A receipt without a destination is kept under the destination `""`. Returns `None`,
    /// and records nothing, for a receipt without a transid, with a status the crate does
    /// not know, or with a transid or destination over [`MAX_TRACKED_TRANSID_CHARS`] or
    /// [`MAX_TRACKED_DESTINATION_CHARS`] (it is still delivered to your handler).
    ///
    /// ```
    /// use webex_connect_whatsapp::conversation::delivery::{DeliveryState, DeliveryTracker};
    /// use webex_connect_whatsapp::webhook::{DeliveryCode, DeliveryReceipt, DeliveryStatus};
    /// let tracker = DeliveryTracker::default();
    /// let failed = DeliveryReceipt::builder("t2", DeliveryStatus::Failed).code(DeliveryCode::ReEngagement).build();
    /// assert_eq!(tracker.record(&failed), Some(DeliveryState::Failed(DeliveryCode::ReEngagement)));
    /// let late = DeliveryReceipt::builder("t2", DeliveryStatus::Submitted).build();
    /// assert_eq!(tracker.record(&late), Some(DeliveryState::Failed(DeliveryCode::ReEngagement)));
    /// ```
    pub fn record(&self, receipt: &DeliveryReceipt) -> Option<DeliveryState> {
        let transid = receipt.transaction_id()?;
        let next = DeliveryState::from_receipt(receipt)?;
        let destination = receipt.destination().unwrap_or_default().trim();
        self.record_state(transid, destination, next).ok()
    }

    /// Folds a state in for `transid` and `destination` and returns the state afterwards.
    ///
    /// # Errors
    ///
    /// [`TrackError::TooLong`], with nothing stored, for a transid over
    /// [`MAX_TRACKED_TRANSID_CHARS`] or a destination over [`MAX_TRACKED_DESTINATION_CHARS`].
    ///
    /// ```
    /// use webex_connect_whatsapp::TransactionId;
    /// use webex_connect_whatsapp::conversation::delivery::{DeliveryState, DeliveryTracker};
    /// let tracker = DeliveryTracker::default();
    /// let t = TransactionId::from("t3");
    /// tracker.record_state(&t, "447400000001", DeliveryState::Delivered)?;
    /// assert_eq!(
    ///     tracker.record_state(&t, "447400000001", DeliveryState::Submitted)?,
    ///     DeliveryState::Delivered
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record_state(
        &self,
        transid: &TransactionId,
        destination: impl AsRef<str>,
        next: DeliveryState,
    ) -> Result<DeliveryState, TrackError> {
        let destination = destination.as_ref();
        check_ids(transid.as_str(), destination)?;
        let mut guard = self.inner();
        let inner = &mut *guard;
        let key = (transid.clone(), destination.to_owned());
        if let Some(current) = inner.states.get_mut(&key) {
            let folded = current.clone().fold(next);
            *current = folded.clone();
            return Ok(folded);
        }
        if let Some(((old_transid, old_destination), _)) =
            inner.states.insert(key, next.clone(), ())
            && let Some(destinations) = inner.destinations.get_mut(&old_transid)
        {
            destinations.remove(&old_destination);
            if destinations.is_empty() {
                inner.destinations.remove(&old_transid);
            }
        }
        inner
            .destinations
            .entry(transid.clone())
            .or_default()
            .insert(destination.to_owned());
        Ok(next)
    }

    /// The state of one destination of a message, if any receipt for it was recorded (and
    /// not forgotten). Use `""` for receipts that name no destination.
    ///
    /// ```
    /// # use webex_connect_whatsapp::conversation::delivery::DeliveryTracker;
    /// assert_eq!(DeliveryTracker::default().get("never-sent", "447400000001"), None);
    /// ```
    pub fn get(
        &self,
        transid: impl AsRef<str>,
        destination: impl AsRef<str>,
    ) -> Option<DeliveryState> {
        let key = (
            TransactionId::from(transid.as_ref()),
            destination.as_ref().trim().to_owned(),
        );
        self.inner().states.get(&key).cloned()
    }

    /// Every destination of a message with its state, sorted by destination.
    ///
    /// ```
    /// use webex_connect_whatsapp::TransactionId;
    /// use webex_connect_whatsapp::conversation::delivery::{DeliveryState, DeliveryTracker};
    /// let tracker = DeliveryTracker::default();
    /// let t = TransactionId::from("t4");
    /// tracker.record_state(&t, "447400000002", DeliveryState::Read)?;
    /// tracker.record_state(&t, "447400000001", DeliveryState::Delivered)?;
    /// assert_eq!(tracker.destinations("t4"), vec![
    ///     ("447400000001".to_owned(), DeliveryState::Delivered),
    ///     ("447400000002".to_owned(), DeliveryState::Read),
    /// ]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn destinations(&self, transid: impl AsRef<str>) -> Vec<(String, DeliveryState)> {
        let inner = self.inner();
        let transid = TransactionId::from(transid.as_ref());
        let Some(destinations) = inner.destinations.get(&transid) else {
            return Vec::new();
        };
        destinations
            .iter()
            .filter_map(|destination| {
                let key = (transid.clone(), destination.clone());
                let state = inner.states.get(&key)?;
                Some((destination.clone(), state.clone()))
            })
            .collect()
    }

    /// The state of a message as a whole, over the destinations recorded so far: Failed
    /// when any destination failed (the failure is the news), otherwise the least advanced
    /// destination's state (so [`is_delivered`](DeliveryState::is_delivered) means every
    /// recorded destination got it). For a message to one destination, that destination's
    /// state. `None` when nothing is recorded for the transid.
    ///
    /// ```
    /// use webex_connect_whatsapp::TransactionId;
    /// use webex_connect_whatsapp::conversation::delivery::{DeliveryState, DeliveryTracker};
    /// use webex_connect_whatsapp::webhook::DeliveryCode;
    /// let tracker = DeliveryTracker::default();
    /// let t = TransactionId::from("t5");
    /// tracker.record_state(&t, "447400000001", DeliveryState::Read)?;
    /// assert_eq!(tracker.overall("t5"), Some(DeliveryState::Read));
    /// tracker.record_state(&t, "447400000002", DeliveryState::Failed(DeliveryCode::ReEngagement))?;
    /// assert_eq!(tracker.overall("t5"), Some(DeliveryState::Failed(DeliveryCode::ReEngagement)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn overall(&self, transid: impl AsRef<str>) -> Option<DeliveryState> {
        let all = self.destinations(transid);
        if let Some((_, failed)) = all.iter().find(|(_, s)| s.failure_code().is_some()) {
            return Some(failed.clone());
        }
        all.into_iter()
            .map(|(_, s)| s)
            .min_by_key(DeliveryState::rank)
    }
}

/// What the follow-up knows about one message.
#[derive(Debug, Clone)]
struct Tracked {
    /// `None` while only receipts with a status the crate does not know came.
    state: Option<DeliveryState>,
    submitted_at: Option<OffsetDateTime>,
    correlation_id: Option<String>,
}

/// Collects receipts and reports stuck and failed messages.
///
/// ```
/// use std::time::Duration;
/// use time::macros::datetime;
/// use webex_connect_whatsapp::conversation::delivery::DeliveryFollowUp;
/// use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
///
/// let t = datetime!(2026-01-01 09:00 UTC);
/// let mut follow_up = DeliveryFollowUp::new(Duration::from_secs(10 * 60));
/// follow_up.record(&DeliveryReceipt::builder("a", DeliveryStatus::Submitted).timestamp(t).build());
/// assert!(follow_up.report(t + time::Duration::minutes(5)).stuck.is_empty());
/// assert_eq!(follow_up.report(t + time::Duration::minutes(10)).stuck.len(), 1);
/// follow_up.record(&DeliveryReceipt::builder("a", DeliveryStatus::Delivered).timestamp(t).build());
/// assert!(follow_up.report(t + time::Duration::hours(1)).is_clean());
/// ```
#[derive(Debug, Clone)]
pub struct DeliveryFollowUp {
    stuck_after: Duration,
    /// Keyed on (transid, destination); `""` for receipts that name no destination.
    messages: HashMap<(TransactionId, String), Tracked>,
}

impl DeliveryFollowUp {
    /// A follow-up that reports a message as stuck once it has been at Submitted for
    /// `stuck_after`.
    pub fn new(stuck_after: Duration) -> Self {
        Self {
            stuck_after,
            messages: HashMap::new(),
        }
    }

    /// The threshold given to [`new`](Self::new).
    pub fn stuck_after(&self) -> Duration {
        self.stuck_after
    }

    /// How many messages (transid, destination) are tracked.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Takes one receipt into account. Receipts may come in any order and more than once;
    /// they are folded as [`DeliveryState::fold`] does for each (transid, destination). A
    /// receipt without `transid` cannot be matched to a message and is ignored, and so is one
    /// whose transid or destination is over [`MAX_TRACKED_TRANSID_CHARS`] or
    /// [`MAX_TRACKED_DESTINATION_CHARS`].
    pub fn record(&mut self, receipt: &DeliveryReceipt) {
        let Some(transid) = receipt.transaction_id() else {
            return;
        };
        if check_ids(
            transid.as_str(),
            receipt.destination().unwrap_or_default().trim(),
        )
        .is_err()
        {
            return;
        }
        let next = DeliveryState::from_receipt(receipt);
        let submitted_at = match next {
            Some(DeliveryState::Submitted) => receipt.timestamp(),
            _ => None,
        };
        let destination = receipt.destination().unwrap_or_default().trim().to_owned();
        let entry = self
            .messages
            .entry((transid.clone(), destination))
            .or_insert_with(|| Tracked {
                state: None,
                submitted_at: None,
                correlation_id: None,
            });
        if entry.submitted_at.is_none() {
            entry.submitted_at = submitted_at;
        }
        if entry.correlation_id.is_none() {
            entry.correlation_id = receipt
                .correlation_id()
                .filter(|c| !c.is_empty())
                .map(str::to_owned);
        }
        if let Some(next) = next {
            entry.state = Some(match entry.state.take() {
                Some(current) => current.fold(next),
                None => next,
            });
        }
    }

    /// Drops the messages that were delivered or read, keeping failures and those still
    /// pending; returns how many were dropped.
    pub fn forget_settled(&mut self) -> usize {
        let before = self.messages.len();
        self.messages
            .retain(|_, m| !m.state.as_ref().is_some_and(DeliveryState::is_delivered));
        before - self.messages.len()
    }

    /// The report as of `now`: messages whose best status is Submitted since at least the
    /// threshold, and every failure grouped by code. A Submitted receipt without a
    /// timestamp cannot be aged, so its message is not reported as stuck.
    pub fn report(&self, now: OffsetDateTime) -> FollowUpReport {
        let mut stuck = Vec::new();
        let mut groups: BTreeMap<String, FailureGroup> = BTreeMap::new();
        for ((transid, destination), m) in &self.messages {
            let destination = Some(destination.clone()).filter(|d| !d.is_empty());
            match &m.state {
                Some(DeliveryState::Submitted) => {
                    // A submission in the future (clock skew) is not waiting yet.
                    if let Some(at) = m.submitted_at
                        && let Ok(waiting) = Duration::try_from(now - at)
                        && waiting >= self.stuck_after
                    {
                        stuck.push(StuckMessage {
                            transaction_id: transid.clone(),
                            correlation_id: m.correlation_id.clone(),
                            destination: destination.clone(),
                            submitted_at: at,
                            waiting,
                        });
                    }
                }
                Some(DeliveryState::Failed(code)) => {
                    groups
                        .entry(code.as_str().to_owned())
                        .or_insert_with(|| FailureGroup {
                            code: code.clone(),
                            description: code.description(),
                            fix: code.fix(),
                            messages: Vec::new(),
                        })
                        .messages
                        .push(FailedMessage {
                            transaction_id: transid.clone(),
                            correlation_id: m.correlation_id.clone(),
                            destination,
                        });
                }
                _ => {}
            }
        }
        stuck.sort_by(|a, b| {
            a.submitted_at
                .cmp(&b.submitted_at)
                .then_with(|| a.transaction_id.as_str().cmp(b.transaction_id.as_str()))
                .then_with(|| a.destination.cmp(&b.destination))
        });
        let mut failures: Vec<FailureGroup> = groups.into_values().collect();
        for group in &mut failures {
            group.messages.sort_by(|a, b| {
                a.transaction_id
                    .as_str()
                    .cmp(b.transaction_id.as_str())
                    .then_with(|| a.destination.cmp(&b.destination))
            });
        }
        // Most frequent first: that is where a fix pays most.
        failures.sort_by_key(|g| std::cmp::Reverse(g.messages.len()));
        FollowUpReport {
            stuck,
            failures,
            tracked: self.messages.len(),
        }
    }
}

/// A message (one destination of a transid) still at Submitted after the threshold.
///
/// `Debug` masks the destination (personal data).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StuckMessage {
    /// Its transaction id.
    pub transaction_id: TransactionId,
    /// The correlation id the receipts echoed, if any.
    pub correlation_id: Option<String>,
    /// The recipient as the receipt gave it (personal data: mask it in logs).
    pub destination: Option<String>,
    /// When it was submitted (the Submitted receipt's timestamp).
    pub submitted_at: OffsetDateTime,
    /// How long it has been waiting at the time of the report.
    pub waiting: Duration,
}

/// One failed message (one destination of a transid) of a [`FailureGroup`].
///
/// `Debug` masks the destination (personal data).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailedMessage {
    /// Its transaction id.
    pub transaction_id: TransactionId,
    /// The correlation id the receipt echoed, if any.
    pub correlation_id: Option<String>,
    /// The recipient as the receipt gave it (personal data: mask it in logs).
    pub destination: Option<String>,
}

impl fmt::Debug for StuckMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("StuckMessage");
        message_fields(
            &mut debug,
            &self.transaction_id,
            self.correlation_id.as_deref(),
            self.destination.as_deref(),
        )
        .field("submitted_at", &self.submitted_at)
        .field("waiting", &self.waiting)
        .finish()
    }
}

impl fmt::Debug for FailedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("FailedMessage");
        message_fields(
            &mut debug,
            &self.transaction_id,
            self.correlation_id.as_deref(),
            self.destination.as_deref(),
        )
        .finish()
    }
}

/// The fields a stuck and a failed message share, the destination masked: a report is
/// printed with `{:?}` into logs, and the destination is a phone number or user id.
fn message_fields<'s, 'a, 'b>(
    debug: &'s mut fmt::DebugStruct<'a, 'b>,
    transaction_id: &TransactionId,
    correlation_id: Option<&str>,
    destination: Option<&str>,
) -> &'s mut fmt::DebugStruct<'a, 'b> {
    debug
        .field("transaction_id", transaction_id)
        .field("correlation_id", &correlation_id)
        .field("destination", &destination.map(mask))
}

/// The failed messages with one code, and what to do about them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailureGroup {
    /// The code (`7710`, `7714`, `7804`...).
    pub code: DeliveryCode,
    /// What the code means ([`DeliveryCode::description`]).
    pub description: Option<&'static str>,
    /// What to do ([`DeliveryCode::fix`]): "send a template", "shorten the text"...
    pub fix: Option<&'static str>,
    /// The messages, by transaction id then destination.
    pub messages: Vec<FailedMessage>,
}

/// Stuck and failed messages at one point in time.
///
/// `Display` writes one line per group, without phone numbers, fit for a log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FollowUpReport {
    /// Messages at Submitted for at least the threshold, oldest first.
    pub stuck: Vec<StuckMessage>,
    /// Failures grouped by code, the largest group first.
    pub failures: Vec<FailureGroup>,
    /// How many messages the report looked at.
    pub tracked: usize,
}

impl FollowUpReport {
    /// A report over a batch of receipts (see [`DeliveryFollowUp::report`]).
    pub fn from_receipts<'a>(
        receipts: impl IntoIterator<Item = &'a DeliveryReceipt>,
        now: OffsetDateTime,
        stuck_after: Duration,
    ) -> Self {
        let mut follow_up = DeliveryFollowUp::new(stuck_after);
        for receipt in receipts {
            follow_up.record(receipt);
        }
        follow_up.report(now)
    }

    /// Whether nothing is stuck and nothing failed.
    pub fn is_clean(&self) -> bool {
        self.stuck.is_empty() && self.failures.is_empty()
    }

    /// The group for one code, if any message failed with it.
    pub fn failures_with(&self, code: &DeliveryCode) -> Option<&FailureGroup> {
        self.failures.iter().find(|g| g.code == *code)
    }
}

impl fmt::Display for FollowUpReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} messages tracked, {} stuck at Submitted",
            self.tracked,
            self.stuck.len()
        )?;
        for group in &self.failures {
            write!(
                f,
                "\n{} failed with {} ({})",
                group.messages.len(),
                group.code,
                group.description.unwrap_or("unknown code")
            )?;
            if let Some(fix) = group.fix {
                write!(f, ": {fix}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_message_is_forgotten_when_full() {
        let tracker = DeliveryTracker::new(2);
        for t in ["a", "b", "c"] {
            let _ = tracker.record_state(&TransactionId::from(t), "1", DeliveryState::Submitted);
        }
        assert_eq!(tracker.len(), 2);
        assert_eq!(tracker.get("a", "1"), None);
        assert_eq!(tracker.get("c", "1"), Some(DeliveryState::Submitted));
        // Destinations of one transid count one by one.
        let t = TransactionId::from("d");
        let _ = tracker.record_state(&t, "1", DeliveryState::Read);
        let _ = tracker.record_state(&t, "2", DeliveryState::Read);
        assert_eq!(tracker.len(), 2);
        assert_eq!(tracker.destinations("d").len(), 2);
        assert!(tracker.destinations("c").is_empty());
    }

    #[test]
    fn states_only_move_forward() {
        use DeliveryState::{Delivered, Read, Submitted};
        assert_eq!(Submitted.fold(Read), Read);
        assert_eq!(Read.fold(Submitted), Read);
        assert_eq!(Delivered.fold(Submitted), Delivered);
        let failed = DeliveryState::Failed(DeliveryCode::MessageTooLong);
        assert_eq!(Read.fold(failed.clone()), failed);
        assert_eq!(failed.clone().fold(Read), failed);
    }

    #[test]
    fn a_report_debug_masks_the_destination() {
        let transaction_id = TransactionId::from("t-1");
        let destination = Some("919900012345".to_owned());
        let failed = FailedMessage {
            transaction_id: transaction_id.clone(),
            correlation_id: Some("c-1".to_owned()),
            destination: destination.clone(),
        };
        let stuck = StuckMessage {
            transaction_id,
            correlation_id: None,
            destination,
            submitted_at: OffsetDateTime::UNIX_EPOCH,
            waiting: Duration::from_mins(20),
        };
        for debug in [format!("{failed:?}"), format!("{stuck:?}")] {
            assert!(!debug.contains("919900012345"), "{debug}");
            assert!(debug.contains("9199") && debug.contains("t-1"), "{debug}");
        }
        assert!(format!("{stuck:?}").contains("waiting: 1200s"), "{stuck:?}");
    }
}
