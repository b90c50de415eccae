//! What a journal stores: one [`JournalRecord`] per line, an intent before a call or an
//! outcome after it, and how a record is written and read back.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::error::JournalError;
use crate::ids::{CorrelationId, TransactionId};

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
