//! The async send client for the Messaging API v1 (`POST {base}/resources/v1/messaging`).
//!
//! It never sends a message twice by itself: the API has no idempotency key, so by default it
//! resends only with proof that the request was not processed (the connection failed before
//! the request was written, or a rate limit: 7020 or HTTP 429), and hands every ambiguous
//! outcome (HTTP 5xx, code 7006, a timeout, a connection lost after writing) back as
//! [`Error::OutcomeUnknown`] with the correlation id to look for in delivery receipts.
//! [`RetryPolicy::at_least_once`] opts in to resending those, at the risk of a duplicate.
//! With a [journal](ClientBuilder::journal), every message's intent is stored before its
//! call goes out and its outcome after, so that a process stopped mid-call knows which
//! messages may have reached the platform.
//!
//! The service key stays with the configured host: redirects are never followed (a 3xx is
//! [`Error::Redirected`]), non-loopback hosts are reached over https only, a loopback sandbox
//! is reached without the system proxy, and a base URL with credentials in it is refused.
//!
//! ```no_run
//! use webex_connect_whatsapp::client::{Client, Region};
//! use webex_connect_whatsapp::{AppId, PhoneNumber, SessionMessage};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder()
//!     .service_key("my-service-key")
//!     .app_id(AppId::new("a_155054536910425280")?)
//!     .region(Region::Eu)
//!     .rate_limit(10)
//!     .build()?;
//! let text = SessionMessage::text("Hello")?;
//! let receipt = client.send(&PhoneNumber::parse("+44 7400 123456")?, text).await?;
//! println!("queued as {:?}", receipt.transaction_id);
//! # Ok(()) }
//! ```

mod auth;
mod batch;
mod builder;
mod bulk;
mod env;
mod error;
mod journaling;
mod retry;
mod throttle;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, RETRY_AFTER, USER_AGENT};
use time::OffsetDateTime;
use tracing::Instrument as _;
use url::Url;

pub use auth::Credentials;
pub use auth::{JWT_LIFETIME, JWT_REFRESH_MARGIN, JwtCredentials, ServiceKey};
pub use batch::{BatchRow, Personalised};
pub use builder::{
    ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, DEFAULT_USER_AGENT, Region,
};
pub use bulk::{
    BulkBuilder, BulkHandle, BulkProgress, BulkRecipient, BulkResult, BulkStream,
    DEFAULT_BULK_CONCURRENCY,
};
pub use error::{Error, MAX_RAW_BODY_CHARS, OutcomeUnknownReason};
pub use retry::{RetryEvent, RetryPolicy};
#[cfg(feature = "redis")]
pub use throttle::SharedRateLimit;

use crate::conversation::journal::Journal;
use crate::ids::{AppId, CallbackData, CorrelationId, TransactionId};
use crate::recipient::Recipient;
use crate::send::{
    Content, Destination, LinkOptions, RequestOptions, ResponseCode, SendRequest,
    SendRequestBuilder, SendResponse,
};
use throttle::Throttle;

/// The path of the send endpoint under the API host.
pub const MESSAGING_PATH: &str = "resources/v1/messaging";

// The environment variables `ClientBuilder::from_env` reads. They live here, beside the
// client, because both the reader (env.rs) and the builder's errors (builder.rs) name them.

/// The service key of the WhatsApp app's service (sent in the `key` header).
pub const SERVICE_KEY_VAR: &str = "WEBEX_CONNECT_SERVICE_KEY";

/// The service id for JWT authentication (the token's `iss`); used with
/// [`SERVICE_SECRET_VAR`].
pub const SERVICE_ID_VAR: &str = "WEBEX_CONNECT_SERVICE_ID";

/// The service secret for JWT authentication, base64 exactly as the service's API tab shows
/// it; used with [`SERVICE_ID_VAR`].
pub const SERVICE_SECRET_VAR: &str = "WEBEX_CONNECT_SERVICE_SECRET";

/// The WhatsApp app id (`a_…`).
pub const APP_ID_VAR: &str = "WEBEX_CONNECT_APP_ID";

/// The region whose API host is used (`us`, `us1`, `eu`, `uk`, `ca`, `au`, `in`, `legacy-…`).
pub const REGION_VAR: &str = "WEBEX_CONNECT_REGION";

/// A base URL that replaces the region (https, or http on a loopback address).
pub const BASE_URL_VAR: &str = "WEBEX_CONNECT_BASE_URL";

/// Optional: the tenant's transactions per second, applied with [`ClientBuilder::rate_limit`].
pub const TPS_VAR: &str = "WEBEX_CONNECT_TPS";

/// The most bytes of a response body read; a send response for 1000 destinations is far less.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// Sends WhatsApp messages through Webex Connect.
///
/// Cheap to clone (one `Arc`); clones share the connection pool and the rate limiter. `Debug`
/// never shows the service key or JWT secret.
///
/// ```
/// use webex_connect_whatsapp::client::Client;
/// use webex_connect_whatsapp::AppId;
///
/// let client = Client::builder()
///     .service_key("k-123")
///     .app_id(AppId::new("a_1")?)
///     .base_url("http://127.0.0.1:8080".parse()?)
///     .build()?;
/// assert!(!format!("{client:?}").contains("k-123"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: Url,
    credentials: Credentials,
    app_id: AppId,
    retry: RetryPolicy,
    throttle: Option<Throttle>,
    request_timeout: Duration,
    user_agent: HeaderValue,
    journal: Option<Arc<dyn Journal>>,
}

const _: () = {
    const fn assert_auto_traits<T: Clone + Send + Sync + Unpin + 'static>() {}
    assert_auto_traits::<Client>();
};

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("endpoint", &inner.endpoint.as_str())
            .field("app_id", &inner.app_id)
            .field("credentials", &inner.credentials)
            .field("retry", &inner.retry)
            .field(
                "rate_limit",
                &inner.throttle.as_ref().map(Throttle::per_second),
            )
            .field("request_timeout", &inner.request_timeout)
            .field("journal", &journaling::presence(inner.journal.as_ref()))
            .finish_non_exhaustive()
    }
}

/// What Webex Connect answered for one destination that was queued.
///
/// `Debug` masks the destination.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendReceipt {
    /// The transaction id; delivery receipts carry the same one. With several destinations in
    /// one request, the platform may give one id for the whole request.
    pub transaction_id: Option<TransactionId>,
    /// The correlation id sent for this destination (yours, or one generated by the client).
    pub correlation_id: Option<CorrelationId>,
    /// The destination as sent: a `waid` (digits, no `+`) or a BSUID.
    pub destination: String,
    /// The platform's description (`Queued`, `Queued in burst mode`).
    pub description: Option<String>,
    /// How many attempts it took, from 1.
    pub attempts: u32,
}

/// One line for people: `queued, transid …, correlation id …` (`(none)` where absent). The
/// destination is left out, so the line can go to logs as it is.
///
/// ```
/// # use webex_connect_whatsapp::client::SendReceipt;
/// # fn show(receipt: &SendReceipt) {
/// println!("+447400123456: {receipt}");
/// # }
/// ```
impl fmt::Display for SendReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "queued, transid {}, correlation id {}",
            self.transaction_id
                .as_ref()
                .map_or("(none)", TransactionId::as_str),
            self.correlation_id
                .as_ref()
                .map_or("(none)", CorrelationId::as_str),
        )
    }
}

impl fmt::Debug for SendReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendReceipt")
            .field("transaction_id", &self.transaction_id)
            .field("correlation_id", &self.correlation_id)
            .field("destination", &crate::phone::mask(&self.destination))
            .field("description", &self.description)
            .field("attempts", &self.attempts)
            .finish()
    }
}

/// The answer to one request: the response as received and one result per destination.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestOutcome {
    /// The response body, as decoded.
    pub response: SendResponse,
    /// One result per destination, in request order.
    pub results: Vec<Result<SendReceipt, Error>>,
}

impl RequestOutcome {
    /// The queued destinations.
    pub fn receipts(&self) -> impl Iterator<Item = &SendReceipt> {
        self.results.iter().filter_map(|r| r.as_ref().ok())
    }
}

/// One message to one recipient, with its options; finish with [`MessageBuilder::send`].
#[must_use]
#[derive(Debug)]
pub struct MessageBuilder<'c> {
    client: &'c Client,
    to: Recipient,
    correlation_id: Option<CorrelationId>,
    /// The request so far: the app id, the content and the request-level options; the
    /// destination is added by [`MessageBuilder::request`], with its correlation id.
    request: SendRequestBuilder,
}

impl MessageBuilder<'_> {
    crate::setters::setters! {
        /// Your correlation id, echoed in delivery receipts (else the client generates one).
        fn correlation_id(self, id: CorrelationId) => self.correlation_id = Some(id);

        /// Sets this message's request-level options whole, replacing any set before.
        fn options(self, options: RequestOptions) => self.request = self.request.options(options);

        /// Sets [`RequestOptions::callback_data`] for this message.
        fn callback_data(self, data: CallbackData) =>
            self.request = self.request.callback_data(data);

        /// Sets [`RequestOptions::notify_url`] for this message.
        fn notify_url(self, url: Url) => self.request = self.request.notify_url(url);

        /// Sets [`RequestOptions::notify_url_auth_id`] for this message.
        fn notify_url_auth_id(self, notify_url_auth_id: impl Into<String>) =>
            self.request = self.request.notify_url_auth_id(notify_url_auth_id);

        /// Sets [`RequestOptions::expiry`] for this message.
        fn expiry(self, at: OffsetDateTime) => self.request = self.request.expiry(at);

        /// Sets [`RequestOptions::link_options`] for this message.
        fn link_options(self, options: LinkOptions) =>
            self.request = self.request.link_options(options);
    }

    /// Builds the request this message would send, without sending it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when the request is invalid.
    pub fn request(&self) -> Result<SendRequest, Error> {
        let id = self
            .correlation_id
            .clone()
            .unwrap_or_else(generate_correlation_id);
        Ok(self
            .request
            .clone()
            .destination(Destination::new(&self.to).with_correlation_id(id))
            .build()?)
    }

    /// Sends the message.
    ///
    /// # Errors
    ///
    /// [`Error`]; [`Error::is_outcome_unknown`] tells whether it may have been queued anyway.
    pub async fn send(self) -> Result<SendReceipt, Error> {
        let request = self.request()?;
        let outcome = self.client.send_request(&request).await?;
        outcome
            .results
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(Error::undecodable(200, b"", None)))
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// The configured app id.
    pub fn app_id(&self) -> &AppId {
        &self.inner.app_id
    }

    /// The URL requests go to (`{base}/resources/v1/messaging`).
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The configured rate limit, in messages per second.
    pub fn rate_limit(&self) -> Option<u32> {
        self.inner.throttle.as_ref().map(|t| t.per_second().get())
    }

    /// The journal sends are recorded in, when one was configured
    /// ([`ClientBuilder::journal`]): look a correlation id up in it to see what became of a
    /// send.
    pub fn journal(&self) -> Option<&dyn Journal> {
        self.inner.journal.as_deref()
    }

    /// Sends one message to one recipient, a phone number or a BSUID, with a generated
    /// correlation id.
    ///
    /// # Errors
    ///
    /// [`Error`]; [`Error::is_outcome_unknown`] tells whether it may have been queued anyway.
    pub async fn send(
        &self,
        to: impl Into<Recipient>,
        content: impl Into<Content>,
    ) -> Result<SendReceipt, Error> {
        self.message(to, content).send().await
    }

    /// Starts one message with options (correlation id, callback data, notify URL, expiry).
    pub fn message(
        &self,
        to: impl Into<Recipient>,
        content: impl Into<Content>,
    ) -> MessageBuilder<'_> {
        MessageBuilder {
            client: self,
            to: to.into(),
            correlation_id: None,
            request: SendRequest::builder(self.inner.app_id.clone(), content),
        }
    }

    /// Sends one message to many recipients, up to 1000 destinations per call; see
    /// [`BulkBuilder`].
    pub fn bulk(&self, content: impl Into<Content>) -> BulkBuilder {
        BulkBuilder::new(self.clone(), content.into())
    }

    /// Sends a complete request (its own app id and destinations, up to 1000).
    ///
    /// Destinations without a correlation id (and no request-level one) get a generated one.
    /// `Ok` means Webex Connect answered for each destination: queued or not, each
    /// destination's result is in [`RequestOutcome::results`], decided by its own answer entry
    /// (`[7020, 7001]` is a rate limit for the first destination and a refusal for the
    /// second). With a [journal](ClientBuilder::journal), every destination's intent is
    /// stored before the request goes out, and its outcome after the answer.
    ///
    /// # Errors
    ///
    /// [`Error`] when the whole request failed: rejected, not sent, or with an unknown outcome.
    /// A request whose answer speaks for all its destinations at once fails whole: the
    /// rejected (object) shape, a single destination, or a rate limit on every destination
    /// (which is resent whole under the retry policy).
    /// [`Error::DuplicateCorrelationId`] when two destinations carry the same correlation id
    /// (with a journal, also when they would share the request-level id), and
    /// [`Error::Journal`] when the journal could not store the intents; nothing is sent then.
    /// The error carries a correlation id when the request has one for all its destinations
    /// (a request-level id, or a single destination); otherwise every destination's id is in
    /// `request` (and [`Client::bulk`] reports each destination with its own).
    pub async fn send_request(&self, request: &SendRequest) -> Result<RequestOutcome, Error> {
        let request = with_correlation_ids(request)?;
        // With a journal, destinations that would share a request-level id are refused too:
        // the journal keeps one entry per correlation id.
        let shared_default = self.inner.journal.is_some();
        let ids: Vec<(u64, Option<&CorrelationId>)> = request
            .destinations()
            .iter()
            .zip(0_u64..)
            .map(|(d, at)| {
                let id = d
                    .correlation_id()
                    .or_else(|| request.correlation_id().filter(|_| shared_default));
                (at, id)
            })
            .collect();
        if let Some(repeated) = repeated_ids(&ids).into_iter().flatten().next() {
            return Err(repeated);
        }
        let body = json_body(request.as_ref())?;
        let span = tracing::info_span!(
            "webex_connect.send",
            app_id = %request.app_id(),
            correlation_id = tracing::field::Empty,
            destinations = request.destinations().len(),
            to = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        if !span.is_disabled() {
            if let Some(id) = request_correlation_id(&request) {
                span.record("correlation_id", id.as_str());
            }
            if let Some(id) = request.destinations().first().and_then(Destination::id) {
                span.record("to", crate::phone::mask(id).as_str());
            }
        }
        let request = request.as_ref();
        async move {
            let default_id = request.correlation_id();
            let rows: Vec<(&CorrelationId, &str)> = request
                .destinations()
                .iter()
                .filter_map(|d| Some((d.correlation_id().or(default_id)?, d.id()?)))
                .collect();
            let digest = journaling::digest(request.content());
            let intents = rows.iter().map(|(id, to)| journaling::Intent {
                correlation_id: id,
                recipient: to,
                digest: digest.clone(),
            });
            if let Err(error) = self.journal_intents(intents).await {
                return Err(error.with_correlation_id(request_correlation_id(request).cloned()));
            }
            let result = self
                .execute(
                    body,
                    request.destinations().len(),
                    request_correlation_id(request),
                    |answer, attempt| {
                        decide(
                            request,
                            answer.status,
                            answer.retry_after,
                            &answer.raw,
                            attempt,
                        )
                    },
                )
                .await;
            match &result {
                Ok(outcome) => {
                    if outcome
                        .results
                        .iter()
                        .any(|r| matches!(r, Err(Error::Authentication { .. })))
                    {
                        // As in `execute`: a refused JWT is minted anew for the next request.
                        self.inner.credentials.invalidate();
                    }
                    let outcomes = rows.iter().map(|(id, _)| *id).zip(outcome.results.iter());
                    self.journal_outcomes(outcomes).await;
                }
                Err(error) => {
                    let failed = Err(error.clone());
                    self.journal_outcomes(rows.iter().map(|(id, _)| (*id, &failed)))
                        .await;
                }
            }
            result
        }
        .instrument(span)
        .await
    }

    /// Sends `body` (worth `count` destinations against the rate limit) until `decode`
    /// accepts an answer or the retry policy stops; `correlation_id` names the call in errors.
    pub(crate) async fn execute<T>(
        &self,
        body: Vec<u8>,
        count: usize,
        correlation_id: Option<&CorrelationId>,
        decode: impl Fn(Answer, u32) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let inner = &self.inner;
        let started = tokio::time::Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            tracing::Span::current().record("attempt", attempt);
            if let Some(throttle) = &inner.throttle {
                throttle.acquire(count).await;
            }
            let result = self
                .post(body.clone())
                .await
                .and_then(|a| decode(a, attempt));
            let error = match result {
                Ok(outcome) => return Ok(outcome),
                Err(error) => error
                    .with_correlation_id(correlation_id.cloned())
                    .with_target(inner.endpoint.host_str(), &inner.app_id),
            };
            if matches!(error, Error::Authentication { .. }) {
                // A refused JWT (7001) may have been revoked or expired early: mint a new one
                // for the next request instead of sending the refused one until it expires.
                inner.credentials.invalidate();
            }
            let Some(delay) = inner.retry.next_delay(attempt, &error, started.elapsed()) else {
                tracing::warn!(attempt, error = %error, outcome_unknown = error.is_outcome_unknown(), "send failed");
                return Err(error);
            };
            if error.is_outcome_unknown() {
                tracing::warn!(attempt, delay_ms = delay.as_millis(), error = %error, "resending although the message may have been queued (at-least-once policy)");
            } else {
                tracing::warn!(attempt, delay_ms = delay.as_millis(), error = %error, "retrying; the message was not queued");
            }
            inner.retry.notify(&RetryEvent {
                attempt,
                delay,
                error: &error,
            });
            tokio::time::sleep(delay).await;
        }
    }

    /// One POST of `body`: the answer as received, or why there was none.
    async fn post(&self, body: Vec<u8>) -> Result<Answer, Error> {
        let inner = &self.inner;
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, inner.user_agent.clone());
        inner.credentials.apply(&mut headers);
        let sent = inner
            .http
            .post(inner.endpoint.clone())
            .headers(headers)
            .timeout(inner.request_timeout)
            .body(body)
            .send()
            .await;
        let mut response = sent.map_err(|e| classify_send_error(e, None))?;
        let status = response.status().as_u16();
        if response.url() != &inner.endpoint {
            // Only a caller's own http_client follows redirects; the key went along.
            tracing::warn!(
                status,
                "the http client followed a redirect away from the endpoint; build it with \
                 redirect::Policy::none() so the service key is not sent elsewhere"
            );
        }
        if response.status().is_redirection() {
            // Never followed, and never resent: the same request gets the same redirect.
            let location = response.headers().get(LOCATION).map(HeaderValue::as_bytes);
            return Err(Error::redirected(status, location));
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
        let mut raw = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    raw.extend_from_slice(&chunk);
                    if raw.len() > MAX_RESPONSE_BYTES {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(classify_send_error(e, Some(status))),
            }
        }
        tracing::debug!(status, bytes = raw.len(), "answer received");
        Ok(Answer {
            status,
            retry_after,
            raw,
        })
    }
}

/// What one attempt got back: the status, `Retry-After`, and the body (at most
/// [`MAX_RESPONSE_BYTES`] and a chunk).
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) raw: Vec<u8>,
}

/// Maps a reqwest failure: only a failure to connect (or to build the request) proves that
/// nothing was written; `status` is set when the answer had started.
fn classify_send_error(error: reqwest::Error, status: Option<u16>) -> Error {
    if status.is_none() && (error.is_connect() || error.is_builder()) {
        return Error::Transport {
            correlation_id: None,
            source: Arc::new(error),
        };
    }
    let reason = if error.is_timeout() {
        OutcomeUnknownReason::TimedOut
    } else {
        OutcomeUnknownReason::ConnectionLost
    };
    Error::outcome_unknown(reason, status, None, Some(error))
}

/// Decides the outcome from the body first, then the status, each destination by its own
/// entry.
///
/// The request gets one error for all its destinations (which the retry policy then judges
/// once) only when the answer speaks for all of them: a body that is not a send response, the
/// rejected (object) shape, a request to one destination, or one `7020` entry per destination
/// (proof that none was processed, so the request is resent whole). Otherwise each
/// destination gets its own entry's result, and nothing is resent: `[7020, 7001]` is a rate
/// limit for the first destination and a refusal for the second, never a rate limit for both.
fn decide(
    request: &SendRequest,
    status: u16,
    retry_after: Option<Duration>,
    raw: &[u8],
    attempt: u32,
) -> Result<RequestOutcome, Error> {
    let Ok(response) = SendResponse::from_slice(raw) else {
        return Err(unreadable(status, retry_after, raw));
    };
    let entries = response.entries();
    let destinations = request.destinations();
    let Some(first) = entries.first() else {
        return Err(Error::undecodable(status, raw, None));
    };
    let matched = entries.len() == destinations.len();
    if !entries.iter().any(|e| e.code.is_queued()) {
        let whole = matches!(response, SendResponse::Object(_))
            || destinations.len() == 1
            || (matched && entries.iter().all(|e| e.code == ResponseCode::RateLimited));
        if whole {
            return Err(entry_error(first, status, retry_after));
        }
    } else if error::is_server_error(status) {
        // A 1001 is the platform's own word that it queued the message; a 5xx around it
        // cannot unsend it, and calling it unknown would only lose the transid.
        tracing::warn!(status, "a queued answer came with a server-error status");
    }
    let default_id = request.correlation_id();
    let id_of = |d: &Destination| d.correlation_id().or(default_id).cloned();
    let receipt_for = |d: &Destination, entry: &crate::send::ResponseEntry| SendReceipt {
        transaction_id: entry.transaction_id.clone(),
        correlation_id: id_of(d),
        destination: d.id().unwrap_or_default().to_owned(),
        description: entry.description.clone(),
        attempts: attempt,
    };
    let results = if matched {
        destinations
            .iter()
            .zip(entries)
            .map(|(d, entry)| {
                if entry.code.is_queued() {
                    Ok(receipt_for(d, entry))
                } else {
                    Err(entry_error(entry, status, retry_after).with_correlation_id(id_of(d)))
                }
            })
            .collect()
    } else if response.is_queued() {
        // One entry for the whole request: the documented sample's shape.
        destinations
            .iter()
            .map(|d| Ok(receipt_for(d, first)))
            .collect()
    } else {
        // UNVERIFIED: the platform notes do not say how a multi-destination request is
        // answered when not every destination is queued. Entries that do not pair up with
        // the destinations cannot say which destination each is for, and some of them may
        // have been queued: every destination's outcome is unknown, and none is resent.
        destinations
            .iter()
            .map(|d| Err(Error::ambiguous(status, None, id_of(d))))
            .collect()
    };
    Ok(RequestOutcome { response, results })
}

/// For each of `ids` (a position and the correlation id there), the error that refuses it
/// when another message of the same call carries the same id; `None` for the unique ones.
pub(crate) fn repeated_ids(ids: &[(u64, Option<&CorrelationId>)]) -> Vec<Option<Error>> {
    let mut first_at: HashMap<&str, u64> = HashMap::with_capacity(ids.len());
    let mut second_at: HashMap<&str, u64> = HashMap::new();
    for (at, id) in ids {
        if let Some(id) = id {
            match first_at.get(id.as_str()) {
                None => {
                    first_at.insert(id.as_str(), *at);
                }
                Some(_) => {
                    second_at.entry(id.as_str()).or_insert(*at);
                }
            }
        }
    }
    ids.iter()
        .map(|(at, id)| {
            let id = (*id)?;
            let second = *second_at.get(id.as_str())?;
            let first = first_at.get(id.as_str()).copied().unwrap_or(*at);
            Some(Error::DuplicateCorrelationId {
                correlation_id: id.clone(),
                first,
                // The first occurrence names where the id repeats; the others, themselves.
                second: if *at == first { second } else { *at },
            })
        })
        .collect()
}

/// The JSON body of a call (one request, or a personalised batch call's array of them).
fn json_body(value: &impl serde::Serialize) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| {
        Error::from(crate::send::SendRequestError::Invalid {
            field: "body",
            reason: e.to_string(),
        })
    })
}

/// The error for an answer whose body is not a send response: the status decides.
fn unreadable(status: u16, retry_after: Option<Duration>, raw: &[u8]) -> Error {
    Error::from_status(status, retry_after).unwrap_or_else(|| Error::undecodable(status, raw, None))
}

/// The error for one answer entry that was not queued: see [`Error::rejected`] for how the
/// code and the status decide.
fn entry_error(
    entry: &crate::send::ResponseEntry,
    status: u16,
    retry_after: Option<Duration>,
) -> Error {
    Error::from_answer(
        entry.code.clone(),
        entry.description.clone(),
        entry.transaction_id.clone(),
        status,
        retry_after,
    )
}

/// The correlation id that identifies the whole request in logs and errors.
fn request_correlation_id(request: &SendRequest) -> Option<&CorrelationId> {
    request
        .correlation_id()
        .or_else(|| match request.destinations() {
            [only] => only.correlation_id(),
            _ => None,
        })
}

/// Gives every destination without one (and no request-level one) a generated correlation id,
/// so an unknown outcome can always be reconciled against delivery receipts.
fn with_correlation_ids(request: &SendRequest) -> Result<Cow<'_, SendRequest>, Error> {
    if request.correlation_id().is_some()
        || request
            .destinations()
            .iter()
            .all(|d| d.correlation_id().is_some())
    {
        return Ok(Cow::Borrowed(request));
    }
    let destinations = request
        .destinations()
        .iter()
        .map(|d| match d.correlation_id() {
            Some(_) => d.clone(),
            None => d.clone().with_correlation_id(generate_correlation_id()),
        })
        .collect();
    Ok(Cow::Owned(request.with_destinations(destinations)?))
}

/// A random, UUID-shaped correlation id (36 bytes, within the 50-byte limit).
pub fn generate_correlation_id() -> CorrelationId {
    let a = fastrand::u64(..);
    let b = fastrand::u64(..);
    let text = format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    );
    // The text is 36 printable ASCII bytes, which CorrelationId always accepts.
    CorrelationId::new(text).unwrap_or_else(|_| fallback_correlation_id())
}

#[allow(
    clippy::unwrap_used,
    reason = "a short literal that CorrelationId always accepts"
)]
fn fallback_correlation_id() -> CorrelationId {
    CorrelationId::new("generated").unwrap()
}
