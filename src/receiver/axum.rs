//! The [`Receiver`] as an axum router: verify, parse, deduplicate, hand typed events over,
//! and answer 200 only once your handler has succeeded.
//!
//! [`router`] (or [`router_with`] and a [`RouterConfig`]) answers every path it is mounted
//! at:
//!
//! | request | answer |
//! |---|---|
//! | `HEAD` or `GET` (Webex Connect checks the URL when a webhook is saved) | 200 |
//! | `POST` with a new event, and the handler returns `Ok` | 200 |
//! | `POST` with a new event, and the handler returns `Err` or times out | 503 (retried) |
//! | `POST` with a new event while the handlers and their queue are full | 503 at once (retried) |
//! | `POST` with a duplicate of an event already handled | 200; the handler is not called |
//! | `POST` with a missing or wrong signature (when a secret is set) | 401 |
//! | `POST` with a body that is not a JSON object | 400 (not retried) |
//! | `POST` with a body over the limit | 413 |
//! | the seen-store failed | 503 (retried) |
//! | another method | 405 |
//!
//! An event of a kind this crate does not model is a new event like any other
//! ([`WebhookEvent::Unknown`]): your handler gets it, and it is answered 200.
//!
//! # At least once, effectively once
//!
//! The router awaits your handler before answering. When the handler fails, times out, or
//! cannot start because the queue is full, the router [releases](Receiver::release) the
//! event's seen mark and answers 503: Webex Connect retries it (3 times, 60 s apart), and
//! the retry reaches your handler again. So **handlers see each event at least once**; the
//! duplicate suppression makes that **effectively once** (an event handled successfully is
//! never handed over again while its key is remembered). Make handlers idempotent anyway:
//! a handler cut off by its timeout, or by the connection closing, may have done part of its
//! work.
//!
//! Webex Connect waits 10 seconds for an answer. The handler gets
//! [`RouterConfig::handler_timeout`] (default [`DEFAULT_HANDLER_TIMEOUT`], 8 s), counted
//! from the moment the event is accepted, waiting for a free slot included, so that the 503
//! goes out before the platform gives up. At most [`RouterConfig::max_concurrent`] handlers
//! run at once, and at most [`RouterConfig::max_queued`] more events wait for a slot.
//!
//! Nothing runs detached: each handler runs inside its request, so axum's graceful
//! shutdown (`axum::serve(..).with_graceful_shutdown(..)`) waits for it. If a request is
//! dropped before its answer (the connection closed), the event is released (on a short
//! task that logs a failure) so that the platform's retry is handled.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use webex_connect_whatsapp::receiver::axum::{router_with, RouterConfig};
//! use webex_connect_whatsapp::receiver::Receiver;
//! use webex_connect_whatsapp::webhook::{WebhookEvent, WebhookSecret};
//!
//! # async fn save(_: &str) -> Result<(), std::io::Error> { Ok(()) }
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let receiver = Arc::new(
//!     Receiver::builder().secret(WebhookSecret::new(std::env::var("WEBHOOK_SECRET")?)?).build(),
//! );
//! let config = RouterConfig::default()
//!     .max_concurrent(32)
//!     .handler_timeout(Duration::from_secs(5));
//! let app = axum::Router::new().nest_service(
//!     "/webex",
//!     router_with(Arc::clone(&receiver), config, |event: WebhookEvent| async move {
//!         match event {
//!             // An error here answers 503, and Webex Connect delivers the event again.
//!             WebhookEvent::DeliveryReceipt(r) => save(r.code().as_str()).await?,
//!             WebhookEvent::Inbound(m) => save(m.text().unwrap_or_default()).await?,
//!             _ => {}
//!         }
//!         Ok::<(), std::io::Error>(())
//!     }),
//! );
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use super::{ReceiveError, Received, Receiver};
use crate::conversation::store::{InMemorySeenStore, SeenStore};
use crate::setters::value_setters;
use crate::webhook::WebhookEvent;

/// How long a handler may take unless set with [`RouterConfig::handler_timeout`]: 8 s,
/// under Webex Connect's 10 s, so the 503 reaches it before it gives up.
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(8);

/// How many handlers run at once unless set with [`RouterConfig::max_concurrent`].
pub const DEFAULT_MAX_CONCURRENT: usize = 64;

/// How many events may wait for a free handler slot unless set with
/// [`RouterConfig::max_queued`].
pub const DEFAULT_MAX_QUEUED: usize = 256;

/// How the [`router_with`] runs handlers: how many at once, how many waiting, for how long.
///
/// ```
/// use std::time::Duration;
/// use webex_connect_whatsapp::receiver::axum::{RouterConfig, DEFAULT_HANDLER_TIMEOUT};
/// let config = RouterConfig::default().max_concurrent(8).max_queued(0);
/// assert_eq!((config.concurrency(), config.queue(), config.timeout()), (8, 0, DEFAULT_HANDLER_TIMEOUT));
/// let config = config.handler_timeout(Duration::from_secs(30));
/// assert_eq!(config.timeout(), Duration::from_secs(9)); // kept under the platform's 10 s
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct RouterConfig {
    max_concurrent: usize,
    max_queued: usize,
    handler_timeout: Duration,
}

impl Default for RouterConfig {
    /// [`DEFAULT_MAX_CONCURRENT`] handlers, [`DEFAULT_MAX_QUEUED`] waiting,
    /// [`DEFAULT_HANDLER_TIMEOUT`].
    fn default() -> Self {
        Self {
            max_concurrent: DEFAULT_MAX_CONCURRENT,
            max_queued: DEFAULT_MAX_QUEUED,
            handler_timeout: DEFAULT_HANDLER_TIMEOUT,
        }
    }
}

/// The longest handler timeout accepted: past Webex Connect's 10 s the platform gives up
/// first, and the event would be retried while its handler may still succeed.
const MAX_HANDLER_TIMEOUT: Duration = Duration::from_secs(9);

impl RouterConfig {
    /// How many handlers run at once (at least 1).
    pub fn max_concurrent(mut self, n: usize) -> Self {
        self.max_concurrent = n.max(1);
        self
    }

    value_setters! {
        /// How many more events may wait for a free slot (0: none waits; a new event that
        /// finds every slot taken is answered 503 at once).
        fn max_queued(n: usize) => max_queued;
    }

    /// How long a handler may take, waiting for a slot included (capped at 9 s, under Webex
    /// Connect's 10 s; at least 1 ms). Past it the handler is cancelled, the event released,
    /// and the call answered 503.
    pub fn handler_timeout(mut self, timeout: Duration) -> Self {
        self.handler_timeout = timeout.clamp(Duration::from_millis(1), MAX_HANDLER_TIMEOUT);
        self
    }

    /// The configured [`max_concurrent`](Self::max_concurrent).
    pub fn concurrency(&self) -> usize {
        self.max_concurrent
    }

    /// The configured [`max_queued`](Self::max_queued).
    pub fn queue(&self) -> usize {
        self.max_queued
    }

    /// The configured [`handler_timeout`](Self::handler_timeout).
    pub fn timeout(&self) -> Duration {
        self.handler_timeout
    }
}

/// What a handler's future may resolve to: `Result<(), E>` with any `E: Display`, or `()`
/// for a handler that cannot fail.
///
/// `Ok(())` and `()` mean the event is safely handled (answered 200); an error (logged at
/// `warn`) means it was not, and it is released and answered 503 so that Webex Connect
/// delivers it again.
///
/// ```
/// use webex_connect_whatsapp::receiver::axum::HandlerOutcome;
/// assert!(().into_outcome().is_ok());
/// assert_eq!(Err::<(), _>("db down").into_outcome(), Err("db down".to_owned()));
/// ```
pub trait HandlerOutcome: sealed::Sealed {
    /// `Ok(())` when the event was handled, else the error's text.
    ///
    /// # Errors
    ///
    /// The handler's error, as text.
    fn into_outcome(self) -> Result<(), String>;
}

impl HandlerOutcome for () {
    fn into_outcome(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: fmt::Display> HandlerOutcome for Result<(), E> {
    fn into_outcome(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for () {}
    impl<E: std::fmt::Display> Sealed for Result<(), E> {}
}

/// A router that receives Webex Connect webhooks at any path and calls `handler` for each
/// new event, with the default [`RouterConfig`] (see the [module docs](self)).
///
/// The handler returns `Ok(())` once the event is safely handled (answered 200), or an
/// error (any `Display`, logged at `warn`) to have it delivered again (answered 503); see
/// [`HandlerOutcome`].
///
/// Mount it with `Router::nest_service` under the path you give Webex Connect, or serve it
/// as the whole app. Receipts and inbound messages may share one URL: the body tells them
/// apart.
///
/// ```
/// use webex_connect_whatsapp::receiver::{axum::router, Receiver};
/// use webex_connect_whatsapp::webhook::WebhookEvent;
/// let app: axum::Router = router(Receiver::builder().allow_unsigned().build(), |event: WebhookEvent| async move {
///     std::fs::write("/tmp/last-event.json", event.raw())?; // an error: 503, delivered again
///     Ok::<(), std::io::Error>(())
/// });
/// ```
pub fn router<S, H, Fut>(receiver: impl Into<Arc<Receiver<S>>>, handler: H) -> Router
where
    S: SeenStore + 'static,
    H: Fn(WebhookEvent) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutcome,
{
    router_with(receiver, RouterConfig::default(), handler)
}

/// [`router`] with a [`RouterConfig`]: how many handlers run at once, how many events wait,
/// and the handler timeout.
///
/// ```
/// use std::time::Duration;
/// use webex_connect_whatsapp::receiver::axum::{router_with, RouterConfig};
/// use webex_connect_whatsapp::receiver::Receiver;
/// let config = RouterConfig::default().max_concurrent(4).handler_timeout(Duration::from_secs(3));
/// let app: axum::Router = router_with(Receiver::builder().allow_unsigned().build(), config, |_event| async {
///     Err::<(), _>("not ready yet: answered 503, delivered again")
/// });
/// ```
pub fn router_with<S, H, Fut>(
    receiver: impl Into<Arc<Receiver<S>>>,
    config: RouterConfig,
    handler: H,
) -> Router
where
    S: SeenStore + 'static,
    H: Fn(WebhookEvent) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutcome,
{
    let handler = Arc::new(handler);
    let state = Shared {
        receiver: receiver.into(),
        handler: Arc::new(move |event| {
            let fut = handler(event);
            // The error becomes text here, inside the handler's future, so it need not be
            // Send.
            Box::pin(async move { fut.await.into_outcome() }) as BoxFuture
        }),
        // Semaphore::new panics past MAX_PERMITS; no real limit comes near it.
        admitted: Arc::new(Semaphore::new(
            config
                .max_concurrent
                .saturating_add(config.max_queued)
                .min(Semaphore::MAX_PERMITS),
        )),
        running: Arc::new(Semaphore::new(
            config.max_concurrent.min(Semaphore::MAX_PERMITS),
        )),
        timeout: config.handler_timeout,
    };
    Router::new().fallback(handle::<S>).with_state(state)
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Handler = Arc<dyn Fn(WebhookEvent) -> BoxFuture + Send + Sync>;

struct Shared<S = InMemorySeenStore> {
    receiver: Arc<Receiver<S>>,
    handler: Handler,
    /// Running plus waiting events; a new event that finds none free is answered 503.
    admitted: Arc<Semaphore>,
    /// Running handlers.
    running: Arc<Semaphore>,
    timeout: Duration,
}

impl<S> Clone for Shared<S> {
    fn clone(&self) -> Self {
        Self {
            receiver: Arc::clone(&self.receiver),
            handler: Arc::clone(&self.handler),
            admitted: Arc::clone(&self.admitted),
            running: Arc::clone(&self.running),
            timeout: self.timeout,
        }
    }
}

/// Releases an accepted event whose request was dropped before it was answered (the
/// connection closed mid-handler), so that the platform's retry is handled.
struct Pending<S: SeenStore + 'static> {
    armed: Option<(Arc<Receiver<S>>, WebhookEvent)>,
}

impl<S: SeenStore + 'static> Pending<S> {
    /// The request reached its answer: nothing is left to release on drop.
    fn disarm(mut self) {
        self.armed = None;
    }
}

impl<S: SeenStore + 'static> Drop for Pending<S> {
    fn drop(&mut self) {
        let Some((receiver, event)) = self.armed.take() else {
            return;
        };
        // Drop cannot await; a short task does the release and logs a failure.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                match receiver.release(&event).await {
                    Ok(()) => tracing::warn!(
                        "webhook request dropped before its answer: event released for the retry"
                    ),
                    Err(error) => tracing::error!(
                        error = %error,
                        "webhook request dropped before its answer, and its release failed"
                    ),
                }
            });
        }
    }
}

async fn handle<S: SeenStore + 'static>(
    State(shared): State<Shared<S>>,
    request: Request,
) -> Response {
    match *request.method() {
        Method::POST => {}
        // Webex Connect sends HEAD when a webhook URL is saved; GET is handy for health checks.
        Method::HEAD | Method::GET => return StatusCode::OK.into_response(),
        _ => {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "POST, HEAD, GET")],
            )
                .into_response();
        }
    }
    let span = tracing::debug_span!(
        "webex_connect.webhook",
        kind = tracing::field::Empty,
        transid = tracing::field::Empty,
        code = tracing::field::Empty,
        tid = tracing::field::Empty,
        event = tracing::field::Empty,
    );
    async move {
        let rx = &shared.receiver;
        let (parts, body) = request.into_parts();
        let body = match read_body(body, rx).await {
            Ok(body) => body,
            Err(error) => return refuse(&error),
        };
        let outcome = match rx.check(&parts.headers, &body) {
            Ok(event) => {
                record(&event);
                rx.accept(event).await
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(Received::New(event)) => run(&shared, event).await,
            Ok(Received::Duplicate(_)) => {
                tracing::debug!("duplicate webhook event suppressed");
                StatusCode::OK.into_response()
            }
            Err(error) => refuse(&error),
        }
    }
    .instrument(span)
    .await
}

/// Runs the handler on a new event within the limits, and answers.
async fn run<S: SeenStore + 'static>(shared: &Shared<S>, event: WebhookEvent) -> Response {
    let pending = Pending {
        armed: Some((Arc::clone(&shared.receiver), event.clone())),
    };
    let Ok(_admitted) = Arc::clone(&shared.admitted).try_acquire_owned() else {
        return unhandled(pending, "every handler slot and queue place is taken").await;
    };
    let deadline = tokio::time::Instant::now() + shared.timeout;
    let handler = Arc::clone(&shared.handler);
    let running = Arc::clone(&shared.running);
    let outcome = tokio::time::timeout_at(deadline, async move {
        // Closed only if the semaphore is closed, which this module never does.
        let _slot = running.acquire_owned().await.ok();
        handler(event).await
    })
    .await;
    match outcome {
        Ok(Ok(())) => {
            pending.disarm();
            tracing::debug!("webhook event handled");
            StatusCode::OK.into_response()
        }
        Ok(Err(error)) => {
            tracing::warn!(error = %error, "webhook handler failed");
            unhandled(pending, "the handler failed").await
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = u64::try_from(shared.timeout.as_millis()).unwrap_or(u64::MAX),
                "webhook handler timed out"
            );
            unhandled(pending, "the handler timed out").await
        }
    }
}

/// Releases an event that was not handled and answers 503, so Webex Connect retries it.
async fn unhandled<S: SeenStore + 'static>(pending: Pending<S>, why: &'static str) -> Response {
    // Still armed while releasing: if the request is dropped meanwhile, the drop releases.
    if let Some((receiver, event)) = &pending.armed
        && let Err(error) = receiver.release(event).await
    {
        tracing::error!(error = %error, "the unhandled webhook event could not be released");
    }
    pending.disarm();
    tracing::warn!(
        reason = why,
        "webhook answered 503 so that it is delivered again"
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the event was not handled ({why}); deliver it again"),
    )
        .into_response()
}

/// Puts the event's ids (never phone numbers or text) on the current span.
fn record(event: &WebhookEvent) {
    let span = tracing::Span::current();
    match event {
        WebhookEvent::DeliveryReceipt(r) => {
            span.record("kind", "receipt");
            if let Some(t) = r.transaction_id() {
                span.record("transid", t.as_str());
            }
            span.record("code", r.code().as_str());
        }
        WebhookEvent::Inbound(m) => {
            span.record("kind", m.event().as_str());
            if let Some(tid) = m.tid() {
                span.record("tid", tid);
            }
        }
        WebhookEvent::Click(c) => {
            span.record("kind", "click");
            if let Some(t) = c.transaction_id() {
                span.record("transid", t.as_str());
            }
        }
        other => {
            span.record("kind", "unknown");
            if let WebhookEvent::Unknown(u) = other
                && let Some(name) = u.event()
            {
                span.record("event", name);
            }
        }
    }
}

fn refuse(error: &ReceiveError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    // These two messages leave their cause to `source()`; the answer and the log line still
    // name it, as the caller has no other way to learn why the body was refused.
    let text = match (error, std::error::Error::source(error)) {
        (ReceiveError::Signature(_) | ReceiveError::Invalid(_), Some(cause)) => {
            format!("{error}: {cause}")
        }
        _ => error.to_string(),
    };
    if status.is_server_error() {
        tracing::warn!(status = status.as_u16(), error = %text, "webhook refused");
    } else {
        tracing::info!(status = status.as_u16(), error = %text, "webhook refused");
    }
    (status, text).into_response()
}

/// Reads the body, stopping as soon as it is over the limit (a `Content-Length` over it is
/// refused before reading anything).
async fn read_body<S: SeenStore>(
    mut body: Body,
    receiver: &Receiver<S>,
) -> Result<Bytes, ReceiveError> {
    let max = receiver.max_body_bytes();
    if let Some(declared) = body.size_hint().exact() {
        let declared = usize::try_from(declared).unwrap_or(usize::MAX);
        if declared > max {
            return Err(receiver.too_large(declared));
        }
    }
    let mut buf = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| {
            ReceiveError::Invalid(crate::webhook::WebhookError::NotJson {
                reason: format!("the body could not be read: {e}"),
            })
        })?;
        if let Ok(data) = frame.into_data() {
            if buf.len().saturating_add(data.len()) > max {
                return Err(receiver.too_large(buf.len().saturating_add(data.len())));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}
