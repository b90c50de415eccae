//! The send journal: what was about to be sent, and what became of it, so that nothing is
//! sent twice across crashes and every outcome-unknown send can be reconciled.
//!
//! The messaging API has no idempotency key. A process killed between writing a request and
//! reading its answer cannot know whether the message was queued, and a run started again
//! would send it a second time. A [`Journal`] closes that gap: before a call goes out, the
//! client appends one [`JournalRecord::Intent`] per row (its correlation id, recipient and a
//! [`ContentDigest`]) and waits until it is stored; after the answer, one
//! [`JournalRecord::Outcome`] per row. A row whose intent has no outcome may have reached the
//! platform: it is [`SendState::InFlight`], and is never resent by the crate.
//!
//! Records are only ever appended. The state of one send is the fold of its records in order
//! ([`JournalEntry::apply`]): a later record moves it on, except that nothing moves a queued
//! send back (a late outcome-unknown, a stray intent or a "not seen" deadline cannot undo a
//! transid the platform gave).
//!
//! Four journals come with the crate:
//!
//! | journal | where | for |
//! |---|---|---|
//! | [`FileJournal`] | a JSON-lines file, synced on every append | one process; the embedded default |
//! | `redis::RedisJournal` (feature `redis`) | lists in Redis | several instances sharing one journal |
//! | [`InMemoryJournal`] | this process's memory | tests, lookups within one run |
//! | your own | a database | implement [`Journal`] |
//!
//! [`reconcile`] turns delivery receipts and a deadline into outcomes for the sends whose
//! fate was unknown.
//!
//! ```
//! use time::macros::datetime;
//! use webex_connect_whatsapp::CorrelationId;
//! use webex_connect_whatsapp::conversation::journal::{
//!     ContentDigest, InMemoryJournal, Journal, JournalRecord, SendOutcome, SendState,
//! };
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let journal = InMemoryJournal::new();
//! let id = CorrelationId::new("invoice-1042")?;
//! let at = datetime!(2026-12-01 09:00 UTC);
//! let digest = ContentDigest::of_bytes(br#"{"template":"5139722425"}"#);
//! journal.append(&[JournalRecord::intent(id.clone(), "447400123456", digest, at)]).await?;
//! // The process stops here: the row may have reached the platform.
//! let entry = journal.lookup(&id).await?.expect("recorded");
//! assert_eq!(entry.state(), &SendState::InFlight);
//! assert!(entry.state().may_have_been_sent());
//!
//! // A delivery receipt carrying the correlation id proves it was queued.
//! let queued = SendOutcome::Queued { transaction_id: Some("5c9f6594".into()) };
//! journal.append(&[JournalRecord::outcome(id.clone(), queued, at)]).await?;
//! assert_eq!(journal.lookup(&id).await?.expect("recorded").state(), &SendState::Queued);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod file;
mod memory;
pub mod reconcile;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use file::FileJournal;
pub use memory::InMemoryJournal;

use crate::ids::{CorrelationId, TransactionId};

/// The future a [`Journal`] method returns: boxed, so that a client can hold any journal as
/// `Arc<dyn Journal>`.
pub type JournalFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, JournalError>> + Send + 'a>>;

/// Why a journal could not record or answer.
///
/// Messages never contain a recipient (personal data) or a connection URL (which may hold a
/// password).
///
/// ```
/// use webex_connect_whatsapp::conversation::journal::JournalError;
/// let err = JournalError::Corrupt { location: "line 7".into(), detail: "not JSON".into() };
/// assert_eq!(err.to_string(), "the journal holds an unreadable record at line 7: not JSON");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The journal's file could not be opened, written or synced.
    #[error("the journal file {path} could not be {action}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed, e.g. `opened`, `locked`, `read`, `written`, `synced`.
        action: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The backend (for example Redis) failed or could not be reached.
    #[error("the {store} journal failed: {source}")]
    Backend {
        /// Which journal failed, e.g. `redis`.
        store: &'static str,
        /// The backend's own error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The journal holds a record this crate cannot read. Neither field repeats the record's
    /// content, which holds a recipient.
    #[error("the journal holds an unreadable record at {location}: {detail}")]
    Corrupt {
        /// Where: a line number, a key.
        location: String,
        /// What was wrong with it.
        detail: String,
    },
    /// Another writer holds the journal file: one process at a time appends to it, or two
    /// runs of a campaign could both send a row that neither has journaled yet.
    #[error(
        "the journal file {path} is locked by another writer; only one process at a time may \
         open it"
    )]
    Locked {
        /// The file.
        path: String,
    },
    /// An earlier append failed and its partly written records could not be removed, so the
    /// journal takes no more records: open it again (which drops a torn last line).
    #[error(
        "the journal file {path} takes no more records: an earlier append failed and could \
         not be undone; open it again"
    )]
    Unwritable {
        /// The file.
        path: String,
    },
    /// A retention of zero, or one too long for the backend.
    #[error("journal retention is {millis} ms, but it must be between 1 ms and {max_millis} ms")]
    InvalidRetention {
        /// The requested retention, in milliseconds.
        millis: u128,
        /// The longest accepted retention, in milliseconds.
        max_millis: u128,
    },
}

/// A digest of what a row sends (the message's JSON), so that a run started again can tell
/// whether a journaled row is the same message: 32 hex digits of its SHA-256.
///
/// ```
/// use webex_connect_whatsapp::conversation::journal::ContentDigest;
/// let a = ContentDigest::of_bytes(b"{\"template\":\"1\"}");
/// assert_eq!(a.as_str().len(), 32);
/// assert_ne!(a, ContentDigest::of_bytes(b"{\"template\":\"2\"}"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContentDigest(String);

impl ContentDigest {
    /// The digest of `bytes`.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        let mut hex = hex::encode(sha2::Sha256::digest(bytes));
        hex.truncate(32);
        Self(hex)
    }

    /// The digest of `value`'s JSON (a message, a template with its parameters).
    ///
    /// ```
    /// use webex_connect_whatsapp::SessionMessage;
    /// use webex_connect_whatsapp::conversation::journal::ContentDigest;
    /// let digest = ContentDigest::of(&SessionMessage::text("Hi Ada")?);
    /// assert_eq!(digest, ContentDigest::of(&SessionMessage::text("Hi Ada")?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn of(value: &impl Serialize) -> Self {
        // A value that cannot be serialized cannot be sent either; its digest is that of
        // nothing, and the send fails on its own.
        Self::of_bytes(&serde_json::to_vec(value).unwrap_or_default())
    }

    /// The digest as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContentDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What became of one send, as one journal record says it.
///
/// ```
/// use webex_connect_whatsapp::conversation::journal::SendOutcome;
/// let json = serde_json::to_string(&SendOutcome::Unknown { reason: "timed out".into() })?;
/// assert_eq!(json, r#"{"outcome":"unknown","reason":"timed out"}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SendOutcome {
    /// Webex Connect answered that it queued the row.
    Queued {
        /// The transid it gave.
        transaction_id: Option<TransactionId>,
    },
    /// Certainly not queued: refused before sending, or rejected by the platform.
    NotQueued {
        /// The platform's code, when it gave one.
        code: Option<String>,
        /// Why, for people.
        reason: String,
        /// Whether the same row may be sent again (there is proof nothing was processed:
        /// a connection that failed before writing, a rate limit).
        retryable: bool,
    },
    /// The answer did not say (a 5xx, 7006, a timeout, a dropped connection): it may have been
    /// queued.
    Unknown {
        /// Why, for people.
        reason: String,
    },
    /// A delivery receipt carrying this row's correlation id arrived: it was queued.
    SeenInReceipt {
        /// The receipt's transid.
        transaction_id: Option<TransactionId>,
        /// The receipt's code (`7500`, `7710`, ...).
        code: String,
    },
    /// A reconciliation deadline passed with no receipt for an in-flight or unknown row. It
    /// was probably not queued, but receipts can be lost: resending it is the caller's choice.
    NotSeen,
    /// A record of a kind written by a later version of this crate; it changes nothing.
    #[serde(other)]
    Other,
}

/// One line of a journal: an intent before a call, or an outcome after it.
///
/// ```
/// use time::macros::datetime;
/// use webex_connect_whatsapp::CorrelationId;
/// use webex_connect_whatsapp::conversation::journal::{ContentDigest, JournalRecord};
/// let record = JournalRecord::intent(
///     CorrelationId::new("row-7")?,
///     "447400123456",
///     ContentDigest::of_bytes(b"{}"),
///     datetime!(2026-12-01 09:00 UTC),
/// );
/// assert_eq!(record.correlation_id().as_str(), "row-7");
/// let json = serde_json::to_string(&record)?;
/// assert!(json.starts_with(r#"{"record":"intent","correlation_id":"row-7""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
#[non_exhaustive]
pub enum JournalRecord {
    /// A row is about to be sent: written, and stored, before the call.
    Intent {
        /// The row's correlation id, which its receipts echo.
        correlation_id: CorrelationId,
        /// The destination as sent: a `waid` or a BSUID.
        recipient: String,
        /// A digest of the row's message.
        digest: ContentDigest,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// What became of a row.
    Outcome {
        /// The row's correlation id.
        correlation_id: CorrelationId,
        /// What became of it.
        #[serde(flatten)]
        outcome: SendOutcome,
        /// When it was learned.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl JournalRecord {
    /// A row is about to be sent.
    pub fn intent(
        correlation_id: CorrelationId,
        recipient: impl Into<String>,
        digest: ContentDigest,
        at: OffsetDateTime,
    ) -> Self {
        Self::Intent {
            correlation_id,
            recipient: recipient.into(),
            digest,
            at,
        }
    }

    /// What became of a row.
    pub fn outcome(
        correlation_id: CorrelationId,
        outcome: SendOutcome,
        at: OffsetDateTime,
    ) -> Self {
        Self::Outcome {
            correlation_id,
            outcome,
            at,
        }
    }

    /// The correlation id of the row the record is about.
    pub fn correlation_id(&self) -> &CorrelationId {
        match self {
            Self::Intent { correlation_id, .. } | Self::Outcome { correlation_id, .. } => {
                correlation_id
            }
        }
    }
}

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

/// Where sends are journaled. Implement it to keep the journal in your own database: store
/// the records in order, durably, and answer with [`JournalEntry::fold`] of them.
///
/// [`append`](Self::append) must return only once the records are stored (synced to disk, or
/// acknowledged by the server): the client sends nothing until its intents are stored. The
/// methods return boxed futures so that a client can hold any journal as `Arc<dyn Journal>`.
pub trait Journal: Send + Sync {
    /// Stores `records`, in order, durably.
    ///
    /// # Errors
    ///
    /// [`JournalError`] when they could not be stored; then the client does not send.
    fn append<'a>(&'a self, records: &'a [JournalRecord]) -> JournalFuture<'a, ()>;

    /// The send with this correlation id, folded from its records.
    ///
    /// # Errors
    ///
    /// [`JournalError`] when the journal cannot be read.
    fn lookup<'a>(
        &'a self,
        correlation_id: &'a CorrelationId,
    ) -> JournalFuture<'a, Option<JournalEntry>>;

    /// Every send in the journal, in the order each first appeared.
    ///
    /// # Errors
    ///
    /// [`JournalError`] when the journal cannot be read.
    fn entries(&self) -> JournalFuture<'_, Vec<JournalEntry>>;
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

/// One record as one line of JSON, without the newline. The line holds no newline of its
/// own: JSON escapes control characters inside strings.
pub(crate) fn encode_record(record: &JournalRecord) -> Result<String, JournalError> {
    serde_json::to_string(record).map_err(|e| JournalError::Corrupt {
        location: "a record to append".into(),
        detail: format!("it cannot be written as JSON ({:?} error)", e.classify()),
    })
}

/// Reads one stored record.
///
/// `Ok(None)` is a record of a kind only a later version of this crate knows (its `record`
/// tag is neither `intent` nor `outcome`): it stays stored and changes no entry, as an
/// outcome of an unknown kind ([`SendOutcome::Other`]) does. The error says what was wrong
/// without quoting the record, which holds a recipient (serde's own messages may quote
/// values).
pub(crate) fn decode_record(bytes: &[u8]) -> Result<Option<JournalRecord>, String> {
    /// Just the tag, to tell a later version's record from a broken one.
    #[derive(Deserialize)]
    struct Kind {
        record: String,
    }
    match serde_json::from_slice::<JournalRecord>(bytes) {
        Ok(record) => Ok(Some(record)),
        Err(e) if e.is_data() => match serde_json::from_slice::<Kind>(bytes) {
            Ok(kind) if !matches!(kind.record.as_str(), "intent" | "outcome") => Ok(None),
            _ => Err(format!(
                "not a journal record (a field is missing or has the wrong type, near column {})",
                e.column()
            )),
        },
        Err(e) => Err(format!("not JSON (near column {})", e.column())),
    }
}

impl<J: Journal + ?Sized> Journal for Arc<J> {
    fn append<'a>(&'a self, records: &'a [JournalRecord]) -> JournalFuture<'a, ()> {
        (**self).append(records)
    }

    fn lookup<'a>(
        &'a self,
        correlation_id: &'a CorrelationId,
    ) -> JournalFuture<'a, Option<JournalEntry>> {
        (**self).lookup(correlation_id)
    }

    fn entries(&self) -> JournalFuture<'_, Vec<JournalEntry>> {
        (**self).entries()
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
