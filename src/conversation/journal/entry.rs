//! Where each send stands: the fold of its records ([`JournalEntry`], [`SendState`]), and the
//! in-memory index of entries the file and memory journals answer from.

use std::collections::HashMap;
use std::fmt;

use time::OffsetDateTime;

use super::record::{ContentDigest, JournalRecord, SendOutcome};
use crate::ids::{CorrelationId, TransactionId};

/// Where one send stands, folded from its records.
///
/// ```
/// use webex_connect_whatsapp::conversation::journal::SendState;
/// assert!(SendState::InFlight.may_have_been_sent());
/// assert!(!SendState::NotQueued { retryable: true }.may_have_been_sent());
/// assert!(SendState::NotQueued { retryable: true }.is_safe_to_send());
/// assert!(!SendState::Unknown.is_safe_to_send());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SendState {
    /// An intent with no outcome: the process stopped while the call was out. It may have been
    /// queued.
    InFlight,
    /// Queued: the platform answered so, or a receipt came.
    Queued,
    /// Certainly not queued.
    NotQueued {
        /// Whether the same row may be sent again.
        retryable: bool,
    },
    /// The answer did not say; it may have been queued.
    Unknown,
    /// In flight or unknown, and no receipt came before the reconciliation deadline.
    NotSeen,
}

impl SendState {
    /// Whether the row may have reached the platform without the journal knowing it was
    /// queued: in flight, unknown, or not seen. Such a row is never resent by the crate.
    pub fn may_have_been_sent(&self) -> bool {
        matches!(self, Self::InFlight | Self::Unknown | Self::NotSeen)
    }

    /// Whether sending the row (again) cannot double it: it was certainly not processed.
    pub fn is_safe_to_send(&self) -> bool {
        matches!(self, Self::NotQueued { retryable: true })
    }

    /// A short name for people and logs: `in flight`, `queued`, `not queued`, `unknown`,
    /// `not seen`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InFlight => "in flight",
            Self::Queued => "queued",
            Self::NotQueued { .. } => "not queued",
            Self::Unknown => "unknown",
            Self::NotSeen => "not seen",
        }
    }
}

impl fmt::Display for SendState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One send as the journal knows it: the fold of its records.
///
/// `Debug` masks the recipient.
#[derive(Clone, PartialEq, Eq)]
pub struct JournalEntry {
    correlation_id: CorrelationId,
    recipient: Option<String>,
    digest: Option<ContentDigest>,
    state: SendState,
    transaction_id: Option<TransactionId>,
    detail: Option<String>,
    intended_at: Option<OffsetDateTime>,
    updated_at: OffsetDateTime,
}

impl fmt::Debug for JournalEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JournalEntry")
            .field("correlation_id", &self.correlation_id)
            .field(
                "recipient",
                &self.recipient.as_deref().map(crate::phone::mask),
            )
            .field("digest", &self.digest)
            .field("state", &self.state)
            .field("transaction_id", &self.transaction_id)
            .field("detail", &self.detail)
            .field("intended_at", &self.intended_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

impl JournalEntry {
    /// The entry a first record starts. An outcome without an intent (a journal that started
    /// mid-way, or a receipt for a send made elsewhere) starts one too.
    pub fn new(record: &JournalRecord) -> Self {
        let (correlation_id, at) = match record {
            JournalRecord::Intent {
                correlation_id, at, ..
            }
            | JournalRecord::Outcome {
                correlation_id, at, ..
            } => (correlation_id.clone(), *at),
        };
        let mut entry = Self {
            correlation_id,
            recipient: None,
            digest: None,
            state: SendState::InFlight,
            transaction_id: None,
            detail: None,
            intended_at: None,
            updated_at: at,
        };
        entry.apply(record);
        entry
    }

    /// Folds the next record of this send into the entry (records of another correlation id
    /// are ignored).
    ///
    /// A queued send stays queued: nothing after a queued answer or a receipt moves it back.
    /// "Not seen" only applies to a send in flight or unknown. An intent starts a new attempt
    /// (in flight) unless the send is already queued.
    pub fn apply(&mut self, record: &JournalRecord) {
        if record.correlation_id() != &self.correlation_id {
            return;
        }
        let queued = self.state == SendState::Queued;
        match record {
            JournalRecord::Intent {
                recipient,
                digest,
                at,
                ..
            } => {
                if self.recipient.is_none() || !queued {
                    self.recipient = Some(recipient.clone());
                    self.digest = Some(digest.clone());
                }
                if !queued {
                    self.state = SendState::InFlight;
                    self.detail = None;
                    self.intended_at = Some(*at);
                }
                self.updated_at = *at;
            }
            JournalRecord::Outcome { outcome, at, .. } => {
                self.updated_at = *at;
                match outcome {
                    SendOutcome::Queued { transaction_id }
                    | SendOutcome::SeenInReceipt { transaction_id, .. } => {
                        self.state = SendState::Queued;
                        if transaction_id.is_some() {
                            self.transaction_id.clone_from(transaction_id);
                        }
                        self.detail = None;
                    }
                    SendOutcome::NotQueued {
                        code,
                        reason,
                        retryable,
                    } if !queued => {
                        self.state = SendState::NotQueued {
                            retryable: *retryable,
                        };
                        self.detail = Some(match code {
                            Some(code) => format!("{code}: {reason}"),
                            None => reason.clone(),
                        });
                    }
                    SendOutcome::Unknown { reason } if !queued => {
                        self.state = SendState::Unknown;
                        self.detail = Some(reason.clone());
                    }
                    SendOutcome::NotSeen
                        if matches!(self.state, SendState::InFlight | SendState::Unknown) =>
                    {
                        self.state = SendState::NotSeen;
                    }
                    _ => {}
                }
            }
        }
    }

    /// Folds records in order into one entry per correlation id, in the order each id first
    /// appears: what a journal backed by a plain list of records answers.
    pub fn fold<'a>(records: impl IntoIterator<Item = &'a JournalRecord>) -> Vec<Self> {
        let mut index = EntryIndex::default();
        for record in records {
            index.apply(record);
        }
        index.entries
    }

    /// The send's correlation id.
    pub fn correlation_id(&self) -> &CorrelationId {
        &self.correlation_id
    }

    /// The destination as sent (a `waid` or a BSUID), when an intent was recorded.
    pub fn recipient(&self) -> Option<&str> {
        self.recipient.as_deref()
    }

    /// The digest of the message, when an intent was recorded.
    pub fn digest(&self) -> Option<&ContentDigest> {
        self.digest.as_ref()
    }

    /// Where the send stands.
    pub fn state(&self) -> &SendState {
        &self.state
    }

    /// The transid, once queued.
    pub fn transaction_id(&self) -> Option<&TransactionId> {
        self.transaction_id.as_ref()
    }

    /// Why it was not queued, or why its outcome is unknown.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// When the last intent was recorded.
    pub fn intended_at(&self) -> Option<OffsetDateTime> {
        self.intended_at
    }

    /// When the last record was.
    pub fn updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }
}

/// The entries of a journal kept in memory, one per correlation id in first-seen order: what
/// [`InMemoryJournal`] and [`FileJournal`] answer from, and what [`JournalEntry::fold`] builds.
#[derive(Debug, Default)]
pub(crate) struct EntryIndex {
    /// Each correlation id's position in `entries`.
    positions: HashMap<CorrelationId, usize>,
    entries: Vec<JournalEntry>,
}

impl EntryIndex {
    /// Folds one more record in.
    pub(crate) fn apply(&mut self, record: &JournalRecord) {
        if let Some(entry) = self
            .positions
            .get(record.correlation_id())
            .and_then(|&i| self.entries.get_mut(i))
        {
            entry.apply(record);
        } else {
            self.positions
                .insert(record.correlation_id().clone(), self.entries.len());
            self.entries.push(JournalEntry::new(record));
        }
    }

    pub(crate) fn get(&self, correlation_id: &CorrelationId) -> Option<&JournalEntry> {
        self.positions
            .get(correlation_id)
            .and_then(|&i| self.entries.get(i))
    }

    pub(crate) fn entries(&self) -> &[JournalEntry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn id(s: &str) -> CorrelationId {
        CorrelationId::new(s).unwrap_or_else(|_| unreachable!())
    }

    const AT: OffsetDateTime = datetime!(2026-12-01 09:00 UTC);

    fn intent(s: &str) -> JournalRecord {
        JournalRecord::intent(id(s), "447400123456", ContentDigest::of_bytes(b"m"), AT)
    }

    fn outcome(s: &str, outcome: SendOutcome) -> JournalRecord {
        JournalRecord::outcome(id(s), outcome, AT)
    }

    #[test]
    fn nothing_moves_a_queued_send_back() {
        let queued = SendOutcome::Queued {
            transaction_id: Some("t1".into()),
        };
        let records = [
            intent("a"),
            outcome("a", queued),
            outcome(
                "a",
                SendOutcome::Unknown {
                    reason: "late".into(),
                },
            ),
            outcome("a", SendOutcome::NotSeen),
            intent("a"),
        ];
        let entries = JournalEntry::fold(&records);
        assert_eq!(entries.len(), 1);
        assert_eq!(
            entries.first().map(JournalEntry::state),
            Some(&SendState::Queued)
        );
        assert_eq!(
            entries.first().and_then(JournalEntry::transaction_id),
            Some(&TransactionId::from("t1"))
        );
    }

    #[test]
    fn not_seen_applies_only_to_sends_that_may_have_gone() {
        let not_queued = SendOutcome::NotQueued {
            code: Some("7001".into()),
            reason: "bad key".into(),
            retryable: false,
        };
        let entries = JournalEntry::fold(&[
            intent("in-flight"),
            outcome("in-flight", SendOutcome::NotSeen),
            intent("refused"),
            outcome("refused", not_queued),
            outcome("refused", SendOutcome::NotSeen),
        ]);
        let states: Vec<SendState> = entries.iter().map(|e| *e.state()).collect();
        assert_eq!(
            states,
            [
                SendState::NotSeen,
                SendState::NotQueued { retryable: false }
            ]
        );
    }

    #[test]
    fn a_receipt_resolves_an_unknown_send() {
        let entries = JournalEntry::fold(&[
            intent("u"),
            outcome(
                "u",
                SendOutcome::Unknown {
                    reason: "HTTP 502".into(),
                },
            ),
            outcome(
                "u",
                SendOutcome::SeenInReceipt {
                    transaction_id: Some("t9".into()),
                    code: "7500".into(),
                },
            ),
        ]);
        assert_eq!(
            entries.first().map(JournalEntry::state),
            Some(&SendState::Queued)
        );
    }

    #[test]
    fn records_round_trip_and_unknown_outcomes_are_kept_as_other() {
        let record = outcome(
            "r",
            SendOutcome::NotQueued {
                code: None,
                reason: "rate limited".into(),
                retryable: true,
            },
        );
        let json = serde_json::to_string(&record).unwrap_or_default();
        let back: JournalRecord = serde_json::from_str(&json).unwrap_or_else(|_| intent("x"));
        assert_eq!(back, record);
        let later: JournalRecord = serde_json::from_str(
            r#"{"record":"outcome","correlation_id":"r","outcome":"archived","at":"2026-12-01T09:00:00Z"}"#,
        )
        .unwrap_or_else(|_| intent("x"));
        assert_eq!(later, outcome("r", SendOutcome::Other));
    }
}
