//! Delivery follow-up: which messages are stuck at Submitted, and which failed, grouped by
//! code with the fix each code implies.
//!
//! The costly WhatsApp failures come back minutes later as receipts (a session message after
//! the 24-hour window: 7710; a text that is too long: 7714; template parameters that do not
//! match: 7804). Feed every receipt to a [`DeliveryFollowUp`] and ask for a
//! [`FollowUpReport`] now and then, or build one from a batch with
//! [`FollowUpReport::from_receipts`]. The advice comes from [`DeliveryCode::fix`], so it is
//! the same text the webhook models give.
//!
//! ```
//! use time::{Duration, macros::datetime};
//! use webex_connect_whatsapp::followup::FollowUpReport;
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
//! let report = FollowUpReport::from_receipts(&receipts, t + Duration::hours(1), Duration::minutes(30));
//! assert_eq!(report.stuck.len(), 1);
//! assert_eq!(report.failures[0].code, DeliveryCode::ReEngagement);
//! assert!(report.failures[0].fix.is_some_and(|f| f.starts_with("send a template")));
//! ```
//!
//! The follow-up keeps one small entry per message, that is per transaction id **and
//! destination** (one request may address several destinations under one transid, and
//! each gets its own receipts): its best status so far and when it was submitted.
//! [`DeliveryFollowUp::forget_settled`] drops the delivered and read ones.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::ids::TransactionId;
use crate::webhook::{DeliveryCode, DeliveryReceipt, DeliveryStatus};

/// What is known about one message.
#[derive(Debug, Clone)]
struct Tracked {
    status: DeliveryStatus,
    code: DeliveryCode,
    submitted_at: Option<OffsetDateTime>,
    correlation_id: Option<String>,
}

/// How far along a status is; a late Submitted never hides a Delivered.
fn rank(status: &DeliveryStatus) -> u8 {
    match status {
        DeliveryStatus::Submitted => 1,
        DeliveryStatus::Delivered => 2,
        DeliveryStatus::Read => 3,
        DeliveryStatus::Failed => 4,
        _ => 0,
    }
}

/// Collects receipts and reports stuck and failed messages.
///
/// ```
/// use time::{Duration, macros::datetime};
/// use webex_connect_whatsapp::followup::DeliveryFollowUp;
/// use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
///
/// let t = datetime!(2026-01-01 09:00 UTC);
/// let mut follow_up = DeliveryFollowUp::new(Duration::minutes(10));
/// follow_up.record(&DeliveryReceipt::builder("a", DeliveryStatus::Submitted).timestamp(t).build());
/// assert!(follow_up.report(t + Duration::minutes(5)).stuck.is_empty());
/// assert_eq!(follow_up.report(t + Duration::minutes(10)).stuck.len(), 1);
/// follow_up.record(&DeliveryReceipt::builder("a", DeliveryStatus::Delivered).timestamp(t).build());
/// assert!(follow_up.report(t + Duration::hours(1)).is_clean());
/// ```
#[derive(Debug, Clone)]
pub struct DeliveryFollowUp {
    stuck_after: Duration,
    /// Keyed on (transid, destination); `""` for receipts that name no destination.
    messages: HashMap<(TransactionId, String), Tracked>,
}

impl DeliveryFollowUp {
    /// A follow-up that reports a message as stuck once it has been at Submitted for
    /// `stuck_after` (negative values count as zero).
    pub fn new(stuck_after: Duration) -> Self {
        Self {
            stuck_after: stuck_after.max(Duration::ZERO),
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
    /// the most advanced status wins for each (transid, destination). A receipt without
    /// `transid` cannot be matched to a message and is ignored.
    pub fn record(&mut self, receipt: &DeliveryReceipt) {
        let Some(transid) = receipt.transaction_id() else {
            return;
        };
        let status = receipt.status().clone();
        let submitted_at = match status {
            DeliveryStatus::Submitted => receipt.timestamp(),
            _ => None,
        };
        let destination = receipt.destination().unwrap_or_default().trim().to_owned();
        let entry = self
            .messages
            .entry((transid.clone(), destination))
            .or_insert_with(|| Tracked {
                status: DeliveryStatus::Unknown(String::new()),
                code: receipt.code().clone(),
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
        if rank(&status) >= rank(&entry.status) {
            entry.status = status;
            entry.code = receipt.code().clone();
        }
    }

    /// Drops the messages that were delivered or read, keeping failures and those still
    /// pending; returns how many were dropped.
    pub fn forget_settled(&mut self) -> usize {
        let before = self.messages.len();
        self.messages
            .retain(|_, m| !matches!(m.status, DeliveryStatus::Delivered | DeliveryStatus::Read));
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
            match m.status {
                DeliveryStatus::Submitted => {
                    if let Some(at) = m.submitted_at {
                        let waiting = now - at;
                        if waiting >= self.stuck_after {
                            stuck.push(StuckMessage {
                                transaction_id: transid.clone(),
                                correlation_id: m.correlation_id.clone(),
                                destination: destination.clone(),
                                submitted_at: at,
                                waiting,
                            });
                        }
                    }
                }
                DeliveryStatus::Failed => {
                    groups
                        .entry(m.code.as_str().to_owned())
                        .or_insert_with(|| FailureGroup {
                            code: m.code.clone(),
                            description: m.code.description(),
                            fix: m.code.fix(),
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailedMessage {
    /// Its transaction id.
    pub transaction_id: TransactionId,
    /// The correlation id the receipt echoed, if any.
    pub correlation_id: Option<String>,
    /// The recipient as the receipt gave it (personal data: mask it in logs).
    pub destination: Option<String>,
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
