//! [`StoreError`], what every store returns when it cannot answer, and the time-to-live bound
//! every store accepts.

use std::error::Error as StdError;

/// Why a store could not answer.
///
/// Messages never contain the recipient id (personal data) or a connection URL (which may hold
/// a password).
///
/// ```
/// use webex_connect_whatsapp::conversation::store::StoreError;
///
/// let err = StoreError::InvalidRecipient { reason: "is empty".into() };
/// assert_eq!(err.to_string(), "recipient id is empty");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend (for example Redis) failed or could not be reached.
    #[error("the {store} store failed: {source}")]
    Backend {
        /// Which store failed, e.g. `redis`.
        store: &'static str,
        /// The backend's own error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The backend holds a value this crate cannot read (written by another program or a
    /// different version).
    #[error("the {store} store holds an unreadable {what}: {detail}")]
    Corrupt {
        /// Which store, e.g. `redis`.
        store: &'static str,
        /// What kind of value, e.g. `session window timestamp`.
        what: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// The recipient id (a waid, normalized WAID or BSUID) was refused: empty, too long, or
    /// with whitespace or control characters. The id itself is not repeated, because it is
    /// personal data.
    #[error("recipient id {reason}")]
    InvalidRecipient {
        /// What was wrong, e.g. `is 170 characters long, but the max is 160`.
        reason: String,
    },
    /// A time-to-live of zero or one too large for the backend.
    #[error("time-to-live is {millis} ms, but it must be between 1 ms and {max_millis} ms")]
    InvalidTtl {
        /// The requested time-to-live, in milliseconds.
        millis: u128,
        /// The longest accepted time-to-live, in milliseconds.
        max_millis: u128,
    },
}

/// The longest time-to-live a store accepts, in milliseconds (about 292 million years; the
/// bound only keeps the value inside Redis's 64-bit range).
pub const MAX_TTL_MILLIS: u128 = i64::MAX as u128 / 1000;

/// Checks a TTL and returns it in whole milliseconds, rounded up so a key never lives shorter
/// than asked.
pub(crate) fn ttl_millis(ttl: std::time::Duration) -> Result<u64, StoreError> {
    let nanos = ttl.as_nanos();
    let millis = nanos.div_ceil(1_000_000);
    if millis == 0 || millis > MAX_TTL_MILLIS {
        return Err(StoreError::InvalidTtl {
            millis,
            max_millis: MAX_TTL_MILLIS,
        });
    }
    u64::try_from(millis).map_err(|_| StoreError::InvalidTtl {
        millis,
        max_millis: MAX_TTL_MILLIS,
    })
}
