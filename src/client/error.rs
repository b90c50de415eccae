//! The one error type of the client, split by where the request failed.

use std::sync::Arc;
use std::time::Duration;

use crate::ids::{CorrelationId, TransactionId};
use crate::recipient::RecipientError;
use crate::send::{ResponseCode, SendRequestError};

/// The most characters of an unreadable response body kept in [`Error::Undecodable`].
pub const MAX_RAW_BODY_CHARS: usize = 1024;

/// Why a send failed, and whether the message may have been queued.
///
/// Three questions matter after a failure, and each has an accessor:
/// - was anything queued? [`Error::is_outcome_unknown`] is `true` when it may have been (do not
///   resend blindly; reconcile [`Error::correlation_id`] against delivery receipts). Every
///   other variant means the message was certainly **not** queued.
/// - is resending safe and useful? [`Error::is_retryable`], with [`Error::retry_after`].
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
    #[error("the message is invalid, so nothing was sent (resending it will fail the same way)")]
    InvalidRequest {
        /// What is invalid.
        #[source]
        source: SendRequestError,
    },

    /// A bulk recipient is neither a valid phone number nor a valid BSUID; nothing was sent to it.
    #[error("recipient {masked} is invalid, so nothing was sent to it")]
    InvalidRecipient {
        /// The input, masked for logs.
        masked: String,
        /// Why it was refused.
        #[source]
        source: RecipientError,
    },

    /// Webex Connect rejected the request with a code other than `1001`; it was not queued.
    #[error(
        "webex connect rejected the message with code {code} ({description}, HTTP {status}); it \
         was not queued{}",
        if *retryable { ", and resending it is safe" } else { ", and resending it unchanged will fail again" }
    )]
    Rejected {
        /// The code of the rejection.
        code: ResponseCode,
        /// The platform's description, or the documented meaning of the code.
        description: String,
        /// The transaction id of the rejection, when given.
        transid: Option<TransactionId>,
        /// The HTTP status (rejections arrive with 200 or 400 and others).
        status: u16,
        /// The correlation id of the message.
        correlation_id: Option<CorrelationId>,
        /// Whether the code means "not processed, try again" (7006).
        retryable: bool,
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

    /// Webex Connect answered 502 or 503 without queuing the message.
    #[error(
        "webex connect is unavailable (HTTP {status}) and did not queue the message; resending \
         it is safe"
    )]
    Unavailable {
        /// The HTTP status.
        status: u16,
        /// How long the server asked to wait (`Retry-After`).
        retry_after: Option<Duration>,
        /// The correlation id of the message.
        correlation_id: Option<CorrelationId>,
    },

    /// The credentials were refused (7001, 7002, HTTP 401 or 403); nothing was queued.
    #[error(
        "webex connect refused the credentials (HTTP {status}{}); nothing was queued, and \
         resending will fail until the service key or JWT is fixed",
        match code { Some(c) => format!(", code {c}"), None => String::new() }
    )]
    Authentication {
        /// The code, when the body had one.
        code: Option<ResponseCode>,
        /// The HTTP status.
        status: u16,
        /// The platform's description, when given.
        description: Option<String>,
        /// The transaction id, when given.
        transid: Option<TransactionId>,
    },

    /// The request could not be sent (connection refused, DNS, TLS before sending).
    #[error("could not reach webex connect, so the message was not sent; resending it is safe")]
    Transport {
        /// The correlation id of the message.
        correlation_id: Option<CorrelationId>,
        /// The underlying failure.
        #[source]
        source: Arc<reqwest::Error>,
    },

    /// The request may have reached Webex Connect, but no answer came back (timeout or
    /// connection lost after the body was sent). It may have been queued.
    #[error(
        "no answer from webex connect after the request was sent ({reason}); the message may have \
         been queued, so do not resend it blindly: look for correlation id {} in delivery receipts",
        correlation_id.as_ref().map_or("(none)", CorrelationId::as_str)
    )]
    OutcomeUnknown {
        /// What was lost: "timed out" or "connection lost".
        reason: &'static str,
        /// The correlation id to reconcile against delivery receipts.
        correlation_id: Option<CorrelationId>,
        /// The underlying failure.
        #[source]
        source: Arc<reqwest::Error>,
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

    /// A rejection by Webex Connect, as the client builds it from a response body; public so
    /// that tests and fakes can build one.
    pub fn rejected(
        code: ResponseCode,
        description: Option<String>,
        transid: Option<TransactionId>,
        status: u16,
    ) -> Self {
        let retryable = matches!(code, ResponseCode::InternalError);
        let description = description
            .filter(|d| !d.is_empty())
            .or_else(|| code.meaning().map(str::to_owned))
            .unwrap_or_else(|| "no description".to_owned());
        Self::Rejected {
            code,
            description,
            transid,
            status,
            correlation_id: None,
            retryable,
        }
    }

    /// An unreadable body, truncated to [`MAX_RAW_BODY_CHARS`] characters.
    pub(crate) fn undecodable(
        status: u16,
        body: &[u8],
        correlation_id: Option<CorrelationId>,
    ) -> Self {
        let text = String::from_utf8_lossy(body);
        let truncated = text.chars().count() > MAX_RAW_BODY_CHARS;
        let body = if truncated {
            text.chars().take(MAX_RAW_BODY_CHARS).collect()
        } else {
            text.into_owned()
        };
        Self::Undecodable {
            status,
            body,
            truncated,
            correlation_id,
        }
    }

    /// Whether resending the same message is safe (it was certainly not queued) and may succeed.
    ///
    /// `true` for connection failures before sending, rate limiting, 7006 and HTTP 502/503.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::RateLimited { .. } | Self::Unavailable { .. } => true,
            Self::Rejected { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// Whether the message may have been queued although no receipt came back.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Self::OutcomeUnknown { .. } | Self::Undecodable { .. })
    }

    /// Whether the failure was a timeout (the outcome is then unknown).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::OutcomeUnknown { reason, .. } if *reason == TIMED_OUT)
    }

    /// How long Webex Connect asked to wait before resending, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Unavailable { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Rejected { status, .. }
            | Self::RateLimited { status, .. }
            | Self::Unavailable { status, .. }
            | Self::Authentication { status, .. }
            | Self::Undecodable { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The correlation id of the message, to match delivery receipts.
    pub fn correlation_id(&self) -> Option<&CorrelationId> {
        match self {
            Self::Rejected { correlation_id, .. }
            | Self::RateLimited { correlation_id, .. }
            | Self::Unavailable { correlation_id, .. }
            | Self::Transport { correlation_id, .. }
            | Self::OutcomeUnknown { correlation_id, .. }
            | Self::Undecodable { correlation_id, .. } => correlation_id.as_ref(),
            _ => None,
        }
    }

    /// The Webex Connect response code, when the answer had one.
    pub fn code(&self) -> Option<&ResponseCode> {
        match self {
            Self::Rejected { code, .. } => Some(code),
            Self::RateLimited { code, .. } | Self::Authentication { code, .. } => code.as_ref(),
            _ => None,
        }
    }

    /// The transaction id of a rejection, when Webex Connect gave one.
    pub fn transid(&self) -> Option<&TransactionId> {
        match self {
            Self::Rejected { transid, .. } | Self::Authentication { transid, .. } => {
                transid.as_ref()
            }
            _ => None,
        }
    }

    pub(crate) fn with_correlation_id(mut self, id: Option<CorrelationId>) -> Self {
        match &mut self {
            Self::Rejected { correlation_id, .. }
            | Self::RateLimited { correlation_id, .. }
            | Self::Unavailable { correlation_id, .. }
            | Self::Transport { correlation_id, .. }
            | Self::OutcomeUnknown { correlation_id, .. }
            | Self::Undecodable { correlation_id, .. } => *correlation_id = id,
            _ => {}
        }
        self
    }
}

pub(crate) const TIMED_OUT: &str = "timed out";
pub(crate) const CONNECTION_LOST: &str = "connection lost";

impl From<SendRequestError> for Error {
    fn from(source: SendRequestError) -> Self {
        Self::InvalidRequest { source }
    }
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Error>();
};
