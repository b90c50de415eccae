//! Delivery state tracking: the latest state of each sent message, folded from its receipts.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Mutex, PoisonError};

use crate::ids::TransactionId;
use crate::webhook::{DeliveryCode, DeliveryReceipt, DeliveryStatus};

/// How many messages [`DeliveryTracker::default`] remembers before forgetting the oldest.
pub const DEFAULT_TRACKED_MESSAGES: usize = 100_000;

/// Where a sent message stands at one destination, after all its receipts so far.
///
/// Receipts can arrive out of order and more than once, so states only move forward:
/// Submitted, then Delivered, then Read. Read implies Delivered (WhatsApp may skip the
/// Delivered receipt, or send it late). Failed is final and keeps its code.
///
/// ```
/// use webex_connect_whatsapp::receiver::DeliveryState;
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
    /// use webex_connect_whatsapp::receiver::DeliveryState;
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
    /// # use webex_connect_whatsapp::receiver::DeliveryState;
    /// assert!(DeliveryState::Delivered.is_delivered());
    /// assert!(!DeliveryState::Submitted.is_delivered());
    /// ```
    pub fn is_delivered(&self) -> bool {
        matches!(self, Self::Delivered | Self::Read)
    }

    /// Read.
    ///
    /// ```
    /// # use webex_connect_whatsapp::receiver::DeliveryState;
    /// assert!(DeliveryState::Read.is_read());
    /// ```
    pub fn is_read(&self) -> bool {
        matches!(self, Self::Read)
    }

    /// The code of a Failed state.
    ///
    /// ```
    /// # use webex_connect_whatsapp::receiver::DeliveryState;
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
    /// # use webex_connect_whatsapp::receiver::DeliveryState;
    /// assert!(DeliveryState::Read.is_final());
    /// assert!(!DeliveryState::Delivered.is_final());
    /// ```
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Read | Self::Failed(_))
    }

    /// The state after `self` once `next` arrives: never backwards, Failed kept.
    ///
    /// ```
    /// # use webex_connect_whatsapp::receiver::DeliveryState;
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

#[derive(Debug, Default)]
struct Inner {
    /// Transid -> destination (`""` when the receipts name none) -> state.
    states: HashMap<TransactionId, HashMap<String, DeliveryState>>,
    /// How many (transid, destination) entries `states` holds.
    len: usize,
    /// Entries in the order first seen; the front is forgotten first.
    order: VecDeque<(TransactionId, String)>,
}

/// The latest [`DeliveryState`] of each message, by transid **and destination**, in bounded
/// memory.
///
/// One request may address several destinations under one transid, and each destination
/// gets its own receipts: [`get`](Self::get) answers for one destination,
/// [`destinations`](Self::destinations) lists them all, and [`overall`](Self::overall)
/// sums them up. Feed it every receipt (the [`Receiver`](super::Receiver) does); when full,
/// the entry first seen longest ago is forgotten. Size it for the destinations you send to
/// in the time their receipts take to arrive (Read receipts can come days later).
///
/// ```
/// use webex_connect_whatsapp::receiver::{DeliveryState, DeliveryTracker};
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
    capacity: usize,
    inner: Mutex<Inner>,
}

impl Default for DeliveryTracker {
    /// A tracker for [`DEFAULT_TRACKED_MESSAGES`] messages.
    fn default() -> Self {
        Self::new(DEFAULT_TRACKED_MESSAGES)
    }
}

impl fmt::Debug for DeliveryTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destinations are phone numbers: only counts are shown.
        f.debug_struct("DeliveryTracker")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl DeliveryTracker {
    /// A tracker remembering up to `capacity` (transid, destination) entries (at least one).
    ///
    /// ```
    /// # use webex_connect_whatsapp::receiver::DeliveryTracker;
    /// assert_eq!(DeliveryTracker::new(0).capacity(), 1);
    /// ```
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The map is consistent after every statement, so a panic elsewhere leaves it usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Folds one receipt in and returns the state of its (transid, destination) afterwards.
    ///
    /// A receipt without a destination is kept under the destination `""`. Returns `None`,
    /// and records nothing, for a receipt without a transid or with a status the crate does
    /// not know (it is still delivered to your handler).
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::{DeliveryState, DeliveryTracker};
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
        Some(self.record_state(transid, destination, next))
    }

    /// Folds a state in for `transid` and `destination` and returns the state afterwards.
    ///
    /// ```
    /// use webex_connect_whatsapp::TransactionId;
    /// use webex_connect_whatsapp::receiver::{DeliveryState, DeliveryTracker};
    /// let tracker = DeliveryTracker::default();
    /// let t = TransactionId::from("t3");
    /// tracker.record_state(&t, "447400000001", DeliveryState::Delivered);
    /// assert_eq!(
    ///     tracker.record_state(&t, "447400000001", DeliveryState::Submitted),
    ///     DeliveryState::Delivered
    /// );
    /// ```
    pub fn record_state(
        &self,
        transid: &TransactionId,
        destination: impl AsRef<str>,
        next: DeliveryState,
    ) -> DeliveryState {
        let destination = destination.as_ref();
        let mut guard = self.inner();
        let inner = &mut *guard;
        if let Some(current) = inner
            .states
            .get_mut(transid)
            .and_then(|d| d.get_mut(destination))
        {
            let folded = current.clone().fold(next);
            *current = folded.clone();
            return folded;
        }
        while inner.len >= self.capacity {
            let Some((oldest, dest)) = inner.order.pop_front() else {
                break;
            };
            if let Some(dests) = inner.states.get_mut(&oldest) {
                if dests.remove(&dest).is_some() {
                    inner.len = inner.len.saturating_sub(1);
                }
                if dests.is_empty() {
                    inner.states.remove(&oldest);
                }
            }
        }
        inner
            .states
            .entry(transid.clone())
            .or_default()
            .insert(destination.to_owned(), next.clone());
        inner.len = inner.len.saturating_add(1);
        inner
            .order
            .push_back((transid.clone(), destination.to_owned()));
        next
    }

    /// The state of one destination of a message, if any receipt for it was recorded (and
    /// not forgotten). Use `""` for receipts that name no destination.
    ///
    /// ```
    /// # use webex_connect_whatsapp::receiver::DeliveryTracker;
    /// assert_eq!(DeliveryTracker::default().get("never-sent", "447400000001"), None);
    /// ```
    pub fn get(
        &self,
        transid: impl AsRef<str>,
        destination: impl AsRef<str>,
    ) -> Option<DeliveryState> {
        self.inner()
            .states
            .get(&TransactionId::from(transid.as_ref()))
            .and_then(|d| d.get(destination.as_ref().trim()))
            .cloned()
    }

    /// Every destination of a message with its state, sorted by destination.
    ///
    /// ```
    /// use webex_connect_whatsapp::TransactionId;
    /// use webex_connect_whatsapp::receiver::{DeliveryState, DeliveryTracker};
    /// let tracker = DeliveryTracker::default();
    /// let t = TransactionId::from("t4");
    /// tracker.record_state(&t, "447400000002", DeliveryState::Read);
    /// tracker.record_state(&t, "447400000001", DeliveryState::Delivered);
    /// assert_eq!(tracker.destinations("t4"), vec![
    ///     ("447400000001".to_owned(), DeliveryState::Delivered),
    ///     ("447400000002".to_owned(), DeliveryState::Read),
    /// ]);
    /// ```
    pub fn destinations(&self, transid: impl AsRef<str>) -> Vec<(String, DeliveryState)> {
        let mut all: Vec<(String, DeliveryState)> = self
            .inner()
            .states
            .get(&TransactionId::from(transid.as_ref()))
            .map(|d| d.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The state of a message as a whole, over the destinations recorded so far: Failed
    /// when any destination failed (the failure is the news), otherwise the least advanced
    /// destination's state (so [`is_delivered`](DeliveryState::is_delivered) means every
    /// recorded destination got it). For a message to one destination, that destination's
    /// state. `None` when nothing is recorded for the transid.
    ///
    /// ```
    /// use webex_connect_whatsapp::TransactionId;
    /// use webex_connect_whatsapp::receiver::{DeliveryState, DeliveryTracker};
    /// use webex_connect_whatsapp::webhook::DeliveryCode;
    /// let tracker = DeliveryTracker::default();
    /// let t = TransactionId::from("t5");
    /// tracker.record_state(&t, "447400000001", DeliveryState::Read);
    /// assert_eq!(tracker.overall("t5"), Some(DeliveryState::Read));
    /// tracker.record_state(&t, "447400000002", DeliveryState::Failed(DeliveryCode::ReEngagement));
    /// assert_eq!(tracker.overall("t5"), Some(DeliveryState::Failed(DeliveryCode::ReEngagement)));
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

    /// How many (transid, destination) entries are remembered.
    ///
    /// ```
    /// # use webex_connect_whatsapp::receiver::DeliveryTracker;
    /// assert_eq!(DeliveryTracker::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.inner().len
    }

    /// Whether nothing is remembered.
    ///
    /// ```
    /// # use webex_connect_whatsapp::receiver::DeliveryTracker;
    /// assert!(DeliveryTracker::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner().len == 0
    }

    /// The most (transid, destination) entries remembered at once.
    ///
    /// ```
    /// # use webex_connect_whatsapp::receiver::DeliveryTracker;
    /// assert_eq!(DeliveryTracker::new(5).capacity(), 5);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_message_is_forgotten_when_full() {
        let tracker = DeliveryTracker::new(2);
        for t in ["a", "b", "c"] {
            tracker.record_state(&TransactionId::from(t), "1", DeliveryState::Submitted);
        }
        assert_eq!(tracker.len(), 2);
        assert_eq!(tracker.get("a", "1"), None);
        assert_eq!(tracker.get("c", "1"), Some(DeliveryState::Submitted));
        // Destinations of one transid count one by one.
        let t = TransactionId::from("d");
        tracker.record_state(&t, "1", DeliveryState::Read);
        tracker.record_state(&t, "2", DeliveryState::Read);
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
}
