//! The one place the crate opens Redis connections and turns redis's errors into
//! [`StoreError`]s: the stores, the shared rate limit and the send journal all come through
//! here, so they reconnect alike and never show a connection URL (it may hold a password).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::conversation::store::StoreError;

/// How long a command waits for the server's answer before it fails, so a server that
/// accepts connections but no longer answers fails a call instead of hanging it.
///
/// Generous for this crate's commands (single keys and short Lua scripts, answered in well
/// under a millisecond by a healthy server), and short beside the 10 seconds Webex Connect
/// waits for a webhook answer.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long one attempt to (re)connect may take.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// How many times a lost connection is retried, after the first attempt, before the waiting
/// commands fail. The next command starts a new round, so the connection comes back once the
/// server does, without a new `connect`.
pub const RECONNECT_RETRIES: usize = 2;

/// The shortest wait between two connection attempts; it doubles with each attempt (with
/// random jitter) up to [`RECONNECT_MAX_DELAY`].
pub const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(100);

/// The longest wait between two connection attempts.
pub const RECONNECT_MAX_DELAY: Duration = Duration::from_secs(1);

/// The reconnect and timeout settings every connection opened by this crate uses.
fn config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_connection_timeout(Some(CONNECTION_TIMEOUT))
        .set_number_of_retries(RECONNECT_RETRIES)
        .set_min_delay(RECONNECT_MIN_DELAY)
        .set_max_delay(RECONNECT_MAX_DELAY)
}

/// Opens a reconnecting connection to the server at `url` and waits for the first connection.
///
/// # Errors
///
/// [`StoreError::Backend`] when the URL is malformed or the server cannot be reached (after
/// [`RECONNECT_RETRIES`] retries). The error never contains the URL.
pub(crate) async fn connect(url: &str) -> Result<ConnectionManager, StoreError> {
    let client = redis::Client::open(url).map_err(backend)?;
    ConnectionManager::new_with_config(client, config())
        .await
        .map_err(backend)
}

/// A failed Redis call as a [`StoreError`]. redis's errors name the failing command and
/// the server's answer, never the URL the connection was opened with.
pub(crate) fn backend(err: redis::RedisError) -> StoreError {
    StoreError::Backend {
        store: "redis",
        source: Box::new(err),
    }
}
