//! The one error type of the client, split by where the request failed.

use std::sync::Arc;
use std::time::Duration;

use crate::conversation::journal::{JournalError, SendOutcome};
use crate::ids::{AppId, CorrelationId, TransactionId};
use crate::recipient::RecipientError;
use crate::send::{ResponseCode, SendRequestError};

/// The most characters of an unreadable response body kept in [`Error::Undecodable`].
pub const MAX_RAW_BODY_CHARS: usize = 1024;

/// Why a send failed, and whether the message may have been queued.
///
/// Three questions matter after a failure, and each has an accessor:
/// - was anything queued? [`Error::is_outcome_unknown`] is `true` when it may have been (do not
///   resend blindly; reconcile [`Error::correlation_id`] against delivery receipts). Every
///   other failure means the message was certainly **not** queued.
/// - is resending safe and useful? [`Error::is_retryable`], with [`Error::retry_after`]: only
///   when there is proof that nothing was processed (the connection failed before the request
///   was written, a rate limit, HTTP 408). The API has no idempotency key, so an HTTP 5xx,
///   code 7006, a timeout or a lost connection is never retryable: any of them may have
///   queued the message.
/// - what did Webex Connect say? [`Error::code`] and [`Error::status`].
///
/// ```
/// use webex_connect_whatsapp::client::Error;
/// use webex_connect_whatsapp::send::ResponseCode;
///
/// let e = Error::rejected(ResponseCode::InvalidTemplateId, Some("Invalid template ID".into()), None, 200);
/// assert!(!e.is_retryable());
/// assert!(!e.is_outcome_unknown());
/// assert_eq!(e.code(), Some(&ResponseCode::InvalidTemplateId));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client configuration is invalid; nothing was sent.
    #[error("client configuration is invalid: {reason}")]
    Config {
        /// What is wrong and what is allowed.
        reason: String,
    },

    /// An environment variable read by [`ClientBuilder::from_env`](super::ClientBuilder::from_env)
    /// is missing or invalid; nothing was sent. The message never repeats the service key.
    #[error("environment variable {variable} {problem}")]
    Env {
        /// The variable, e.g. [`APP_ID_VAR`](super::APP_ID_VAR).
        variable: &'static str,
        /// What is wrong and what is allowed ("is not set", "is invalid: ...").
        problem: String,
    },

    /// The message or request is invalid; nothing was sent, and resending it fails the same way.
    /// The message ends with the reason, which is also the source.
    #[error(
        "the message is invalid, so nothing was sent (resending it will fail the same way): \
         {source}"
    )]
    InvalidRequest {
        /// What is invalid.
        #[source]
        source: SendRequestError,
    },

    /// A bulk recipient is neither a valid phone number nor a valid BSUID; nothing was sent to it.
    /// The message ends with the reason, which is also the source.
    #[error("recipient {masked} is invalid, so nothing was sent to it: {source}")]
    InvalidRecipient {
        /// The input, masked for logs.
        masked: String,
        /// Why it was refused.
        #[source]
        source: RecipientError,
    },

    /// Two messages of one call carry the same correlation id; nothing was sent.
    ///
    /// Receipts, outcome-unknown errors and the send journal tell messages apart by their
    /// correlation id, so each message of a call (each destination of a request, each row of
    /// a personalised batch call) needs its own. With a journal
    /// ([`ClientBuilder::journal`](super::ClientBuilder::journal)), a request-level id that
    /// several destinations would share is refused too.
    #[error(
        "correlation id {correlation_id} is used twice in one call (at positions {first} and \
         {second}), so nothing was sent; give each message its own correlation id"
    )]
    DuplicateCorrelationId {
        /// The id that repeats.
        correlation_id: CorrelationId,
        /// Where it first appears: the destination's position in the request, or the row's
        /// index in a bulk or batch input.
        first: u64,
        /// Where it appears again, counted the same way.
        second: u64,
    },

    /// The send journal ([`ClientBuilder::journal`](super::ClientBuilder::journal)) could not
    /// store the intent to send, so nothing was sent: the message was certainly not queued.
    /// Send it again once the journal works.
    #[error(
        "the send journal could not record the intent to send, so nothing was sent (correlation \
         id {})",
        correlation_id.as_ref().map_or("(none)", CorrelationId::as_str)
    )]
    Journal {
        /// The correlation id of the message.
        correlation_id: Option<CorrelationId>,
        /// Why the journal failed.
        #[source]
        source: Arc<JournalError>,
    },

    /// Webex Connect rejected the request with a code other than `1001`; it was not queued.
    ///
    /// Code 7006 ("internal error occurred") is not a rejection: it is
    /// [`Error::OutcomeUnknown`], because it does not prove that nothing was queued.
    ///
    /// The message ends with what to do when the code has a hint ([`ResponseCode::hint`]),
    /// e.g. for 7108 that a template is sent by its id, not its name.
    #[error(
        "webex connect rejected the message with code {code} ({description}, HTTP {status}); it \
         was not queued, and resending it unchanged will fail again{}",
        code.hint().map_or_else(String::new, |hint| format!(": {hint}"))
    )]
    Rejected {
        /// The code of the rejection.
        code: ResponseCode,
        /// The platform's description, or the documented meaning of the code.
        description: String,
        /// The transaction id of the rejection, when given.
        transaction_id: Option<TransactionId>,
        /// The HTTP status (rejections arrive with 200 or 400 and others).
        status: u16,
        /// The correlation id of the message.
        correlation_id: Option<CorrelationId>,
    },

    /// Webex Connect refused the request because of the transaction limit (7020 or HTTP 429).
    #[error(
        "webex connect rate-limited the request (HTTP {status}{}); it was not queued and resending \
         it{} is safe",
        match code { Some(c) => format!(", code {c}"), None => String::new() },
        match retry_after { Some(d) => format!(" after {} ms", d.as_millis()), None => String::new() }
    )]
    RateLimited {
        /// The code, when the body had one (7020).
        code: Option<ResponseCode>,
        /// The HTTP status.
        status: u16,
        /// How long the server asked to wait (`Retry-After`).
        retry_after: Option<Duration>,
        /// The correlation id of the message.
        correlation_id: Option<CorrelationId>,
    },

    /// The server answered HTTP 408: it gave up waiting for the request before it had all of
    /// it, so it cannot have processed it, and resending is safe.
    #[error(
        "webex connect answered HTTP {status}: it did not receive the whole request, so the \
         message was not queued and resending it is safe"
    )]
    NotReceived {
        /// The HTTP status (408).
        status: u16,
        /// How long the server asked to wait (`Retry-After`).
        retry_after: Option<Duration>,
        /// The correlation id of the message.
        correlation_id: Option<CorrelationId>,
    },

    /// The server answered with a redirect (3xx). The client never follows one, so the service
    /// key never travels to another host; Webex Connect does not redirect its API, so the base
    /// URL or something in between (a proxy, a captive portal) is wrong. Never resent.
    ///
    /// A 303 (See Other) is conventionally answered after a POST *was* processed, so for it
    /// [`Error::is_outcome_unknown`] is `true`; for every other redirect the request was not
    /// processed at this URL.
    #[error(
        "webex connect answered HTTP {status}, a redirect to {}, which this client never \
         follows (the service key stays with the configured host); check the base url",
        location.as_deref().unwrap_or("(no location)")
    )]
    Redirected {
        /// The HTTP status (301, 302, 303, 307, 308, ...).
        status: u16,
        /// The `Location` header as received, at most [`MAX_RAW_BODY_CHARS`] characters.
        location: Option<String>,
        /// The correlation id of the message.
        correlation_id: Option<CorrelationId>,
    },

    /// The credentials were refused (7001, 7002, HTTP 401 or 403); nothing was queued.
    ///
    /// The message says what to check ([`Error::hint`]): for 7001 that the service key (or
    /// JWT), the API host and the app id belong to one service, naming the host and app id
    /// the client used, never the key.
    #[error(
        "webex connect refused the credentials (HTTP {status}{}); nothing was queued, and \
         resending will fail until the credentials are fixed: {}",
        match code { Some(c) => format!(", code {c}"), None => String::new() },
        authentication_hint(code.as_ref(), host.as_deref(), app_id.as_deref())
    )]
    Authentication {
        /// The code, when the body had one.
        code: Option<ResponseCode>,
        /// The HTTP status.
        status: u16,
        /// The platform's description, when given.
        description: Option<String>,
        /// The transaction id, when given.
        transaction_id: Option<TransactionId>,
        /// The API host the request went to (`api.eu.webexconnect.io`), when known.
        host: Option<Box<str>>,
        /// The app id the request named, when known (boxed to keep [`Error`] small).
        app_id: Option<Box<AppId>>,
    },

    /// The connection failed before the request was written (connection refused, DNS, TLS
    /// handshake), so nothing was sent. The message names the innermost cause (`Connection
    /// refused`, a DNS or certificate failure), which the source chain also holds.
    #[error(
        "could not reach webex connect ({}), so the message was not sent; resending it is safe",
        innermost_cause(source.as_ref())
    )]
    Transport {
        /// The correlation id of the message.
        correlation_id: Option<CorrelationId>,
        /// The underlying failure.
        #[source]
        source: Arc<reqwest::Error>,
    },

    /// The request may have been processed: the answer does not prove either way. Never resent
    /// under the default [`RetryPolicy`](super::RetryPolicy), only under
    /// [`RetryPolicy::at_least_once`](super::RetryPolicy::at_least_once).
    ///
    /// [`reason`](OutcomeUnknownReason) says why: no answer in time, a connection lost after
    /// the request was written, an HTTP 5xx (with or without a readable body), or code 7006.
    /// Reconcile [`Error::correlation_id`] against delivery receipts before sending again.
    #[error(
        "{}; the message may have been queued, so do not resend it blindly: look for \
         correlation id {} in delivery receipts",
        describe_unknown(*reason, *status, code.as_ref()),
        correlation_id.as_ref().map_or("(none)", CorrelationId::as_str)
    )]
    #[non_exhaustive]
    OutcomeUnknown {
        /// Why the outcome is unknown.
        reason: OutcomeUnknownReason,
        /// The HTTP status, when an answer (or its start) came back.
        status: Option<u16>,
        /// The code, when the body had one (7006, or whatever came with a 5xx).
        code: Option<ResponseCode>,
        /// The transaction id, when given.
        transaction_id: Option<TransactionId>,
        /// How long the server asked to wait (`Retry-After`), for a caller that resends anyway.
        retry_after: Option<Duration>,
        /// The correlation id to reconcile against delivery receipts.
        correlation_id: Option<CorrelationId>,
        /// The transport failure, for timeouts and lost connections.
        #[source]
        source: Option<Arc<reqwest::Error>>,
    },

    /// Webex Connect answered with a body that is not a send response; the outcome is unknown.
    #[error(
        "webex connect answered HTTP {status} with a body this client cannot read ({} characters \
         kept{}); the message may have been queued, so do not resend it blindly: look for \
         correlation id {} in delivery receipts",
        body.chars().count(),
        if *truncated { ", truncated" } else { "" },
        correlation_id.as_ref().map_or("(none)", CorrelationId::as_str)
    )]
    Undecodable {
        /// The HTTP status.
        status: u16,
        /// The body as received (lossy UTF-8), at most [`MAX_RAW_BODY_CHARS`] characters.
        body: String,
        /// Whether `body` was cut to [`MAX_RAW_BODY_CHARS`].
        truncated: bool,
        /// The correlation id to reconcile against delivery receipts.
        correlation_id: Option<CorrelationId>,
    },
}

/// Why the outcome of a send is unknown (see [`Error::OutcomeUnknown`]).
///
/// None of these proves that the request was not processed, and the API has no idempotency
/// key, so resending after any of them may deliver the message twice.
///
/// ```
/// use webex_connect_whatsapp::client::OutcomeUnknownReason;
/// assert_eq!(OutcomeUnknownReason::TimedOut.to_string(), "timed out");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OutcomeUnknownReason {
    /// No (complete) answer came within the request timeout.
    TimedOut,
    /// The connection was lost after the request was (or may have been) written.
    ConnectionLost,
    /// An HTTP 5xx answer (500, 502, 503, 504, ...), whatever its body: a gateway or an
    /// overloaded server may have passed the request on before failing.
    ServerError,
    /// Code 7006, "internal error occurred", with any HTTP status.
    InternalError,
    /// Webex Connect answered, but not in a way that says what became of this message: an
    /// answer to several messages whose entries cannot be matched to them, or one `1001`
    /// for a personalised batch, which says something was queued but not what.
    AmbiguousAnswer,
}

impl OutcomeUnknownReason {
    /// A short lowercase phrase: `timed out`, `connection lost`, `server error`,
    /// `internal error (7006)`, `ambiguous answer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TimedOut => "timed out",
            Self::ConnectionLost => "connection lost",
            Self::ServerError => "server error",
            Self::InternalError => "internal error (7006)",
            Self::AmbiguousAnswer => "ambiguous answer",
        }
    }
}

impl std::fmt::Display for OutcomeUnknownReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to check after a refusal of the credentials: the code's hint ([`ResponseCode::hint`];
/// 7001's for an HTTP 401 or 403 without a code), then the host and app id the client used
/// when known. Never the key.
fn authentication_hint(
    code: Option<&ResponseCode>,
    host: Option<&str>,
    app_id: Option<&AppId>,
) -> String {
    let code = code.unwrap_or(&ResponseCode::AuthenticationFailed);
    let hint = code
        .hint()
        .or_else(|| ResponseCode::AuthenticationFailed.hint())
        .unwrap_or_default()
        .to_owned();
    if matches!(code, ResponseCode::ServiceKeyMissing) {
        return hint;
    }
    let used = match (host, app_id) {
        (Some(host), Some(app)) => format!(" (this client used API host {host} and app id {app})"),
        (Some(host), None) => format!(" (this client used API host {host})"),
        (None, Some(app)) => format!(" (this client used app id {app})"),
        (None, None) => String::new(),
    };
    hint + &used
}

/// The Display of the last error in a source chain: for a transport failure, the reason
/// (`Connection refused`, a DNS or certificate error) under reqwest's "error sending request".
fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = error;
    while let Some(cause) = innermost.source() {
        innermost = cause;
    }
    innermost.to_string()
}

/// The first half of an [`Error::OutcomeUnknown`] message: what happened.
fn describe_unknown(
    reason: OutcomeUnknownReason,
    status: Option<u16>,
    code: Option<&ResponseCode>,
) -> String {
    let code = code.map_or_else(String::new, |c| format!(", code {c}"));
    match (reason, status) {
        (OutcomeUnknownReason::TimedOut, None) => {
            "no answer from webex connect in time after the request was sent".to_owned()
        }
        (OutcomeUnknownReason::TimedOut, Some(s)) => {
            format!("webex connect answered HTTP {s} but the body did not arrive in time")
        }
        (OutcomeUnknownReason::ConnectionLost, None) => {
            "the connection to webex connect was lost after the request was sent".to_owned()
        }
        (OutcomeUnknownReason::ConnectionLost, Some(s)) => {
            format!("webex connect answered HTTP {s} but the connection was lost in the body")
        }
        (OutcomeUnknownReason::ServerError, s) => format!(
            "webex connect answered HTTP {}{code}, a server error that does not prove the \
             request was dropped",
            s.map_or_else(|| "5xx".to_owned(), |s| s.to_string())
        ),
        (OutcomeUnknownReason::InternalError, s) => format!(
            "webex connect answered code 7006 (internal error occurred, HTTP {}), which does not \
             prove the request was dropped",
            s.map_or_else(|| "unknown".to_owned(), |s| s.to_string())
        ),
        (OutcomeUnknownReason::AmbiguousAnswer, s) => format!(
            "webex connect answered HTTP {}{code}, but not with an entry that can be matched to \
             this message",
            s.map_or_else(|| "unknown".to_owned(), |s| s.to_string())
        ),
    }
}

impl Error {
    pub(crate) fn config(reason: impl Into<String>) -> Self {
        Self::Config {
            reason: reason.into(),
        }
    }

    pub(crate) fn env(variable: &'static str, problem: impl Into<String>) -> Self {
        Self::Env {
            variable,
            problem: problem.into(),
        }
    }

    /// `variable` holds a value that `reason` refuses.
    pub(crate) fn env_invalid(variable: &'static str, reason: impl std::fmt::Display) -> Self {
        Self::env(variable, format!("is invalid: {reason}"))
    }

    /// The bare reason of a [`Error::Config`], so that wrapping it does not say "invalid" twice.
    pub(crate) fn into_reason(self) -> String {
        match self {
            Self::Config { reason } => reason,
            other => other.to_string(),
        }
    }

    /// The error the client makes of an answer whose code is not `1001`, as it builds it
    /// from a response body; public so that tests and fakes can build one.
    ///
    /// The code decides, whatever the HTTP status (the platform publishes the same rejection
    /// with HTTP 200 on one page and 400 on another), except that a 5xx never proves that
    /// nothing was queued:
    /// - 7020: [`Error::RateLimited`] (proof that nothing was queued);
    /// - 7006, or any HTTP 5xx: [`Error::OutcomeUnknown`] (neither proves nothing was queued);
    /// - 7001, 7002: [`Error::Authentication`];
    /// - anything else: [`Error::Rejected`], under HTTP 408 and 429 too: the body's code is
    ///   the platform's own word, and says the request was received and refused.
    ///
    /// An empty code is no code: then the status decides, as for a body that is not a send
    /// response (429: [`Error::RateLimited`], 408: [`Error::NotReceived`], 401 and 403:
    /// [`Error::Authentication`]).
    ///
    /// ```
    /// use webex_connect_whatsapp::client::Error;
    /// use webex_connect_whatsapp::send::ResponseCode;
    ///
    /// let e = Error::rejected(ResponseCode::InternalError, None, None, 200);
    /// assert!(e.is_outcome_unknown());
    /// assert!(!e.is_retryable());
    /// let e = Error::rejected(ResponseCode::InvalidParameters, None, None, 502);
    /// assert!(e.is_outcome_unknown());
    /// // The code wins over a 429: the platform received the request and refused it.
    /// let e = Error::rejected(ResponseCode::InvalidParameters, None, None, 429);
    /// assert!(matches!(e, Error::Rejected { .. }) && !e.is_retryable());
    /// ```
    pub fn rejected(
        code: ResponseCode,
        description: Option<String>,
        transaction_id: Option<TransactionId>,
        status: u16,
    ) -> Self {
        Self::from_answer(code, description, transaction_id, status, None)
    }

    /// [`Error::rejected`], with the server's `Retry-After`.
    pub(crate) fn from_answer(
        code: ResponseCode,
        description: Option<String>,
        transaction_id: Option<TransactionId>,
        status: u16,
        retry_after: Option<Duration>,
    ) -> Self {
        if matches!(code, ResponseCode::RateLimited) {
            return Self::RateLimited {
                code: Some(code),
                status,
                retry_after,
                correlation_id: None,
            };
        }
        if code.as_str().trim().is_empty()
            && let Some(by_status) = Self::from_status(status, retry_after)
        {
            return by_status;
        }
        let internal = matches!(code, ResponseCode::InternalError);
        if internal || is_server_error(status) {
            let reason = if internal {
                OutcomeUnknownReason::InternalError
            } else {
                OutcomeUnknownReason::ServerError
            };
            return Self::OutcomeUnknown {
                reason,
                status: Some(status),
                code: Some(code),
                transaction_id,
                retry_after,
                correlation_id: None,
                source: None,
            };
        }
        if matches!(
            code,
            ResponseCode::AuthenticationFailed | ResponseCode::ServiceKeyMissing
        ) {
            return Self::Authentication {
                code: Some(code),
                status,
                description,
                transaction_id,
                host: None,
                app_id: None,
            };
        }
        let description = description
            .filter(|d| !d.is_empty())
            .or_else(|| code.meaning().map(str::to_owned))
            .unwrap_or_else(|| "no description".to_owned());
        Self::Rejected {
            code,
            description,
            transaction_id,
            status,
            correlation_id: None,
        }
    }

    /// What the HTTP status alone says, for an answer without a readable code; `None` when it
    /// says nothing (the caller then decides).
    pub(crate) fn from_status(status: u16, retry_after: Option<Duration>) -> Option<Self> {
        Some(match status {
            401 | 403 => Self::Authentication {
                code: None,
                status,
                description: None,
                transaction_id: None,
                host: None,
                app_id: None,
            },
            429 => Self::RateLimited {
                code: None,
                status,
                retry_after,
                correlation_id: None,
            },
            // RFC 9110 15.5.9: 408 means the server did not receive a complete request within
            // the time it was prepared to wait, and "if the client has an outstanding request
            // in transit, it MAY repeat that request". A request it never had whole cannot
            // have been processed, and a proxy cannot have forwarded a whole request it did
            // not receive, so this is proof of "not processed" and is resent.
            408 => Self::NotReceived {
                status,
                retry_after,
                correlation_id: None,
            },
            s if is_server_error(s) => Self::outcome_unknown(
                OutcomeUnknownReason::ServerError,
                Some(s),
                retry_after,
                None,
            ),
            _ => return None,
        })
    }

    /// The outcome-unknown error of a message the answer does not speak for (see
    /// [`OutcomeUnknownReason::AmbiguousAnswer`]).
    pub(crate) fn ambiguous(
        status: u16,
        code: Option<ResponseCode>,
        correlation_id: Option<CorrelationId>,
    ) -> Self {
        Self::OutcomeUnknown {
            reason: OutcomeUnknownReason::AmbiguousAnswer,
            status: Some(status),
            code,
            transaction_id: None,
            retry_after: None,
            correlation_id,
            source: None,
        }
    }

    /// The error of every message of a call whose intent the journal could not store.
    pub(crate) fn journal(source: JournalError) -> Self {
        Self::Journal {
            correlation_id: None,
            source: Arc::new(source),
        }
    }

    /// An outcome-unknown error without a body code (a 5xx without a readable body, a
    /// timeout, a lost connection).
    pub(crate) fn outcome_unknown(
        reason: OutcomeUnknownReason,
        status: Option<u16>,
        retry_after: Option<Duration>,
        source: Option<reqwest::Error>,
    ) -> Self {
        Self::OutcomeUnknown {
            reason,
            status,
            code: None,
            transaction_id: None,
            retry_after,
            correlation_id: None,
            source: source.map(Arc::new),
        }
    }

    /// An unreadable body, truncated to [`MAX_RAW_BODY_CHARS`] characters.
    pub(crate) fn undecodable(
        status: u16,
        body: &[u8],
        correlation_id: Option<CorrelationId>,
    ) -> Self {
        let (body, truncated) = truncate(&String::from_utf8_lossy(body));
        Self::Undecodable {
            status,
            body,
            truncated,
            correlation_id,
        }
    }

    /// A redirect answer; `location` is cut to [`MAX_RAW_BODY_CHARS`] characters.
    pub(crate) fn redirected(status: u16, location: Option<&[u8]>) -> Self {
        Self::Redirected {
            status,
            location: location.map(|l| truncate(&String::from_utf8_lossy(l)).0),
            correlation_id: None,
        }
    }

    /// Whether resending the same message is safe (it was certainly not processed) and may
    /// succeed.
    ///
    /// `true` only for a connection that failed before the request was written
    /// ([`Error::Transport`]), a rate limit (7020 or HTTP 429, [`Error::RateLimited`]) and HTTP
    /// 408 ([`Error::NotReceived`]). Always `false` when [`Error::is_outcome_unknown`].
    ///
    /// ```
    /// use webex_connect_whatsapp::client::Error;
    /// use webex_connect_whatsapp::send::ResponseCode;
    ///
    /// assert!(Error::rejected(ResponseCode::RateLimited, None, None, 200).is_retryable());
    /// assert!(!Error::rejected(ResponseCode::InternalError, None, None, 500).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Transport { .. } | Self::RateLimited { .. } | Self::NotReceived { .. }
        )
    }

    /// Whether the message may have been queued although no receipt came back: a timeout, a
    /// connection lost after writing, an HTTP 5xx, code 7006, an unreadable body, or a 303
    /// redirect. [`Error::correlation_id`] then names what to look for in delivery receipts.
    pub fn is_outcome_unknown(&self) -> bool {
        match self {
            Self::OutcomeUnknown { .. } | Self::Undecodable { .. } => true,
            Self::Redirected { status, .. } => *status == 303,
            _ => false,
        }
    }

    /// Why the outcome is unknown, for [`Error::OutcomeUnknown`].
    pub fn outcome_unknown_reason(&self) -> Option<OutcomeUnknownReason> {
        match self {
            Self::OutcomeUnknown { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    /// Whether the failure was a timeout (the outcome is then unknown).
    pub fn is_timeout(&self) -> bool {
        self.outcome_unknown_reason() == Some(OutcomeUnknownReason::TimedOut)
    }

    /// How long Webex Connect asked to wait before resending, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. }
            | Self::NotReceived { retry_after, .. }
            | Self::OutcomeUnknown { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Rejected { status, .. }
            | Self::RateLimited { status, .. }
            | Self::NotReceived { status, .. }
            | Self::Redirected { status, .. }
            | Self::Authentication { status, .. }
            | Self::Undecodable { status, .. } => Some(*status),
            Self::OutcomeUnknown { status, .. } => *status,
            _ => None,
        }
    }

    /// The correlation id of the message, to match delivery receipts.
    pub fn correlation_id(&self) -> Option<&CorrelationId> {
        // Exhaustive, as in `correlation_slot_mut`: a new variant must say whether it has one.
        match self {
            Self::DuplicateCorrelationId { correlation_id, .. } => Some(correlation_id),
            Self::Rejected { correlation_id, .. }
            | Self::RateLimited { correlation_id, .. }
            | Self::NotReceived { correlation_id, .. }
            | Self::Redirected { correlation_id, .. }
            | Self::Transport { correlation_id, .. }
            | Self::OutcomeUnknown { correlation_id, .. }
            | Self::Undecodable { correlation_id, .. }
            | Self::Journal { correlation_id, .. } => correlation_id.as_ref(),
            Self::Config { .. }
            | Self::Env { .. }
            | Self::InvalidRequest { .. }
            | Self::InvalidRecipient { .. }
            | Self::Authentication { .. } => None,
        }
    }

    /// The Webex Connect response code, when the answer had one.
    pub fn code(&self) -> Option<&ResponseCode> {
        match self {
            Self::Rejected { code, .. } => Some(code),
            Self::RateLimited { code, .. }
            | Self::Authentication { code, .. }
            | Self::OutcomeUnknown { code, .. } => code.as_ref(),
            _ => None,
        }
    }

    /// The transaction id of the answer, when Webex Connect gave one.
    pub fn transaction_id(&self) -> Option<&TransactionId> {
        match self {
            Self::Rejected { transaction_id, .. }
            | Self::Authentication { transaction_id, .. }
            | Self::OutcomeUnknown { transaction_id, .. } => transaction_id.as_ref(),
            _ => None,
        }
    }

    /// What to do about this failure, when there is advice beyond the message's first half:
    /// the response code's hint ([`ResponseCode::hint`], the one table of them) for a
    /// rejection or a rate limit, and for refused credentials what to check, naming the API
    /// host and app id the client used (never the key). The [`Display`](std::fmt::Display)
    /// of [`Error::Rejected`] and [`Error::Authentication`] ends with it.
    ///
    /// ```
    /// use webex_connect_whatsapp::client::Error;
    /// use webex_connect_whatsapp::send::ResponseCode;
    ///
    /// let e = Error::rejected(ResponseCode::InvalidTemplateId, Some("Invalid template ID".into()), None, 200);
    /// assert_eq!(
    ///     e.hint().as_deref(),
    ///     Some("use the template's id (digits) from the Webex Connect template page, not its name")
    /// );
    /// assert!(e.to_string().ends_with("not its name"));
    /// let e = Error::rejected(ResponseCode::AuthenticationFailed, None, None, 400);
    /// assert!(e.hint().is_some_and(|h| h.contains("region (API host)")));
    /// ```
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Rejected { code, .. } => code.hint().map(str::to_owned),
            Self::RateLimited { .. } => ResponseCode::RateLimited.hint().map(str::to_owned),
            Self::Authentication {
                code, host, app_id, ..
            } => Some(authentication_hint(
                code.as_ref(),
                host.as_deref(),
                app_id.as_deref(),
            )),
            _ => None,
        }
    }

    /// Names the API host and app id a refusal of the credentials came from, so that its
    /// message can say which ones to check; other errors are returned unchanged.
    pub(crate) fn with_target(mut self, host: Option<&str>, app: &AppId) -> Self {
        if let Self::Authentication {
            host: h, app_id, ..
        } = &mut self
        {
            *h = host.map(Box::from);
            *app_id = Some(Box::new(app.clone()));
        }
        self
    }

    /// The `Location` a redirect pointed to (never followed).
    pub fn location(&self) -> Option<&str> {
        match self {
            Self::Redirected { location, .. } => location.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn with_correlation_id(mut self, id: Option<CorrelationId>) -> Self {
        if let Some(slot) = self.correlation_slot_mut() {
            *slot = id;
        }
        self
    }

    /// The optional correlation id of the variants that carry one, which
    /// [`Self::with_correlation_id`] sets after the fact and [`Self::correlation_id`] reads.
    /// Exhaustive, as in `correlation_id`: a new variant must say whether it has one.
    fn correlation_slot_mut(&mut self) -> Option<&mut Option<CorrelationId>> {
        match self {
            Self::Rejected { correlation_id, .. }
            | Self::RateLimited { correlation_id, .. }
            | Self::NotReceived { correlation_id, .. }
            | Self::Redirected { correlation_id, .. }
            | Self::Transport { correlation_id, .. }
            | Self::OutcomeUnknown { correlation_id, .. }
            | Self::Undecodable { correlation_id, .. }
            | Self::Journal { correlation_id, .. } => Some(correlation_id),
            Self::Config { .. }
            | Self::Env { .. }
            | Self::InvalidRequest { .. }
            | Self::InvalidRecipient { .. }
            | Self::DuplicateCorrelationId { .. }
            | Self::Authentication { .. } => None,
        }
    }
}

/// What the send journal records for a message that failed: outcome-unknown when
/// [`Error::is_outcome_unknown`], else not queued, retryable as [`Error::is_retryable`] says.
///
/// ```
/// use webex_connect_whatsapp::client::Error;
/// use webex_connect_whatsapp::conversation::journal::SendOutcome;
/// use webex_connect_whatsapp::send::ResponseCode;
///
/// let limited = Error::rejected(ResponseCode::RateLimited, None, None, 429);
/// assert!(matches!(
///     SendOutcome::from(&limited),
///     SendOutcome::NotQueued { retryable: true, code: Some(c), .. } if c == "7020"
/// ));
/// let unknown = Error::rejected(ResponseCode::InternalError, None, None, 500);
/// assert!(matches!(SendOutcome::from(&unknown), SendOutcome::Unknown { .. }));
/// ```
impl From<&Error> for SendOutcome {
    fn from(error: &Error) -> Self {
        if error.is_outcome_unknown() {
            Self::Unknown {
                reason: error.to_string(),
            }
        } else {
            Self::NotQueued {
                code: error.code().map(|c| c.as_str().to_owned()),
                reason: error.to_string(),
                retryable: error.is_retryable(),
            }
        }
    }
}

/// Any 5xx. 500, 502, 503 and 504 are documented as not proving that the request was dropped
/// (section 12.4); the rest of the range is UNVERIFIED and treated the same, the safe way.
pub(crate) fn is_server_error(status: u16) -> bool {
    (500..=599).contains(&status)
}

/// `text`, cut to [`MAX_RAW_BODY_CHARS`] characters, and whether it was cut.
fn truncate(text: &str) -> (String, bool) {
    if text.chars().count() > MAX_RAW_BODY_CHARS {
        (text.chars().take(MAX_RAW_BODY_CHARS).collect(), true)
    } else {
        (text.to_owned(), false)
    }
}

impl From<SendRequestError> for Error {
    fn from(source: SendRequestError) -> Self {
        Self::InvalidRequest { source }
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Error>();
};

#[cfg(test)]
mod tests {
    use super::*;

    /// `with_correlation_id` and `correlation_id` list the variants that carry an id in two
    /// matches: whatever the first sets, the second reads back.
    #[test]
    fn a_correlation_id_set_after_the_fact_reads_back() {
        let id = CorrelationId::new("order-1").unwrap();
        let carrying = [
            Error::rejected(ResponseCode::InvalidParameters, None, None, 200),
            Error::from_status(429, None).unwrap(),
            Error::from_status(408, None).unwrap(),
            Error::redirected(302, None),
            Error::undecodable(200, b"", None),
            Error::outcome_unknown(OutcomeUnknownReason::TimedOut, None, None, None),
            Error::journal(JournalError::Io {
                path: "j".to_owned(),
                action: "written",
                source: std::io::Error::other("disk full"),
            }),
        ];
        for error in carrying {
            let mut slot = error.clone();
            assert!(slot.correlation_slot_mut().is_some(), "{error:?}");
            let stamped = error.with_correlation_id(Some(id.clone()));
            assert_eq!(stamped.correlation_id(), Some(&id), "{stamped:?}");
        }
        let config = Error::config("bad").with_correlation_id(Some(id));
        assert_eq!(config.correlation_id(), None);
    }

    /// `Result<_, Error>` is returned everywhere; clippy's `result_large_err` draws the line
    /// at 128 bytes.
    #[test]
    fn the_error_stays_small() {
        assert!(
            size_of::<super::Error>() < 128,
            "{}",
            size_of::<super::Error>()
        );
    }
}
