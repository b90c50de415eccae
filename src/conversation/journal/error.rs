//! [`JournalError`]: why a journal could not record or answer.

use std::error::Error as StdError;

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
