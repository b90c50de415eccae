//! Delivery state tracking: the latest state of each sent message, folded from its receipts.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Mutex, PoisonError};

use crate::ids::TransactionId;
use crate::webhook::{DeliveryCode, DeliveryReceipt, DeliveryStatus};

/// How many messages [`DeliveryTracker::default`] remembers before forgetting the oldest.
pub const DEFAULT_TRACKED_MESSAGES: usize = 100_000;

/// Where a sent message stands, after all its receipts so far.
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
    states: HashMap<TransactionId, DeliveryState>,
    /// Transids in the order first seen; the front is forgotten first.
    order: VecDeque<TransactionId>,
}

/// The latest [`DeliveryState`] of each message, by transid, in bounded memory.
///
/// Feed it every receipt (the [`Receiver`](super::Receiver) does); when full, the message
/// first seen longest ago is forgotten. Size it for the messages you send in the time their
/// receipts take to arrive (Read receipts can come days later).
///
/// ```
/// use webex_connect_whatsapp::receiver::{DeliveryState, DeliveryTracker};
/// use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
///
/// let tracker = DeliveryTracker::new(10_000);
/// tracker.record(&DeliveryReceipt::builder("t1", DeliveryStatus::Read).build());
/// tracker.record(&DeliveryReceipt::builder("t1", DeliveryStatus::Delivered).build());
/// assert_eq!(tracker.get("t1"), Some(DeliveryState::Read));
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
        f.debug_struct("DeliveryTracker")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl DeliveryTracker {
    /// A tracker remembering up to `capacity` messages (at least one).
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

    /// Folds one receipt in and returns the message's state afterwards.
    ///
    /// Returns `None`, and records nothing, for a receipt without a transid or with a status
    /// the crate does not know (it is still delivered to your handler).
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
        Some(self.record_state(transid, next))
    }

    /// Folds a state in for `transid` and returns the state afterwards.
    ///
    /// ```
    /// use webex_connect_whatsapp::TransactionId;
    /// use webex_connect_whatsapp::receiver::{DeliveryState, DeliveryTracker};
    /// let tracker = DeliveryTracker::default();
    /// let t = TransactionId::from("t3");
    /// tracker.record_state(&t, DeliveryState::Delivered);
    /// assert_eq!(tracker.record_state(&t, DeliveryState::Submitted), DeliveryState::Delivered);
    /// ```
    pub fn record_state(&self, transid: &TransactionId, next: DeliveryState) -> DeliveryState {
        let mut inner = self.inner();
        if let Some(current) = inner.states.get_mut(transid) {
            let folded = current.clone().fold(next);
            *current = folded.clone();
            return folded;
        }
        while inner.states.len() >= self.capacity {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            inner.states.remove(&oldest);
        }
        inner.states.insert(transid.clone(), next.clone());
        inner.order.push_back(transid.clone());
        next
    }

    /// The state of a message, if any receipt for it was recorded (and not forgotten).
    ///
    /// ```
    /// # use webex_connect_whatsapp::receiver::DeliveryTracker;
    /// assert_eq!(DeliveryTracker::default().get("never-sent"), None);
    /// ```
    pub fn get(&self, transid: impl AsRef<str>) -> Option<DeliveryState> {
        self.inner()
            .states
            .get(&TransactionId::from(transid.as_ref()))
            .cloned()
    }

    /// How many messages are remembered.
    ///
    /// ```
    /// # use webex_connect_whatsapp::receiver::DeliveryTracker;
    /// assert_eq!(DeliveryTracker::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.inner().states.len()
    }

    /// Whether no message is remembered.
    ///
    /// ```
    /// # use webex_connect_whatsapp::receiver::DeliveryTracker;
    /// assert!(DeliveryTracker::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner().states.is_empty()
    }

    /// The most messages remembered at once.
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
            tracker.record_state(&TransactionId::from(t), DeliveryState::Submitted);
        }
        assert_eq!(tracker.len(), 2);
        assert_eq!(tracker.get("a"), None);
        assert_eq!(tracker.get("c"), Some(DeliveryState::Submitted));
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
