//! The [`Receiver`] as an axum router: verify, parse, deduplicate, hand typed events over,
//! and answer 200 only once your handler has succeeded.
//!
//! [`router`] (or [`router_with`] and a [`RouterConfig`]) answers every path it is mounted
//! at:
//!
//! | request | answer |
//! |---|---|
//! | `HEAD` or `GET` (Webex Connect checks the URL when a webhook is saved) | 200 |
//! | `POST` with a new event, and the handler returns `Ok` | 200 (the event is marked done) |
//! | `POST` with a new event, and the handler returns `Err` or times out | 503 (released, retried) |
//! | `POST` with a new event while the handlers and their queue are full | 503 at once (released, retried) |
//! | `POST` with a duplicate of an event already handled | 200; the handler is not called |
//! | `POST` with a duplicate of an event whose handler is still running | 503 (retried); the handler is not called |
//! | `POST` with an event older than [`ReceiverBuilder::max_event_age`](super::ReceiverBuilder::max_event_age) | 200; the handler is not called |
//! | `POST` with a missing or wrong signature (when a secret is set) | 401 |
//! | `POST` with a body that is not a JSON object | 400 (not retried) |
//! | `POST` with a body over the limit | 413 |
//! | `POST` whose body could not be read to its end (the connection failed) | 503 (retried) |
//! | the dedupe store failed | 503 (retried) |
//! | another method | 405 |
//!
//! An event of a kind this crate does not model is a new event like any other
//! ([`WebhookEvent::Unknown`]): your handler gets it, and it is answered 200.
//!
//! # At least once, effectively once
//!
//! The router *claims* each new event before running your handler (see the
//! [receiver's docs](super)), and awaits the handler before answering:
//!
//! - the handler succeeded: the event is [completed](Receiver::complete) (done for the
//!   dedupe TTL) and answered 200; later deliveries are answered 200 without calling it;
//! - the handler failed, timed out, or could not start because the queue was full: its claim
//!   is [released](Receiver::release) and the call answered 503; Webex Connect retries it (3
//!   times, 60 s apart), and the retry reaches your handler again;
//! - a delivery of an event whose handler is still running is answered 503, not 200: if the
//!   running handler fails, the platform's retry must still find the event;
//! - the process died mid-handler (OOM, SIGKILL at the end of a deploy): the claim ends with
//!   its lease ([`ReceiverBuilder::claim_lease`](super::ReceiverBuilder::claim_lease),
//!   default 20 s), before the platform's retry, which is then handled.
//!
//! So **handlers see each event at least once**; duplicate suppression makes that
//! **effectively once** (an event handled successfully is never handed over again while it
//! is remembered). Make handlers idempotent anyway: a handler cut off by its timeout, or by
//! the connection closing, may have done part of its work.
//!
//! Webex Connect waits 10 seconds for an answer. The handler gets
//! [`RouterConfig::handler_timeout`] (default [`DEFAULT_HANDLER_TIMEOUT`], 8 s), counted
//! from the moment the event is claimed, waiting for a free slot included, so that the 503
//! goes out before the platform gives up. The router keeps the timeout under three quarters
//! of the receiver's claim lease (cutting it, with a warning, if needed), so a handler is
//! cancelled and its claim released before the claim could end while the handler still
//! runs. At most [`RouterConfig::max_concurrent`] handlers run at once, and at most
//! [`RouterConfig::max_queued`] more events wait for a slot.
//!
//! Nothing runs detached: each handler runs inside its request, so axum's graceful
//! shutdown (`axum::serve(..).with_graceful_shutdown(..)`) waits for it. If a request is
//! dropped before its answer (the connection closed), at any point from the claim on, its
//! claim is released (on a short task that logs a failure) so that the platform's retry is
//! handled; a request dropped after its handler succeeded completes the event instead.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use webex_connect_whatsapp::receiver::axum::{router_with, RouterConfig};
//! use webex_connect_whatsapp::receiver::Receiver;
//! use webex_connect_whatsapp::webhook::WebhookEvent;
//! use webex_connect_whatsapp::webhook::signature::WebhookSecret;
//!
//! # async fn save(_: &str) -> Result<(), std::io::Error> { Ok(()) }
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let receiver = Arc::new(
//!     Receiver::builder().secret(WebhookSecret::new(std::env::var("WEBHOOK_SECRET")?)?).build()?,
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

use super::{GTRID_HEADER, ReceiveError, Received, Receiver, usable_gtrid};
use crate::conversation::dedupe::ClaimOwner;
use crate::conversation::store::{DedupeStore, InMemoryDedupeStore};
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
    crate::setters::setters! {
        /// How many handlers run at once (at least 1).
        fn max_concurrent(self, n: usize) => self.max_concurrent = n.max(1);

        /// How many more events may wait for a free slot (0: none waits; a new event that
        /// finds every slot taken is answered 503 at once).
        fn max_queued(self, n: usize) => self.max_queued = n;

        /// How long a handler may take, waiting for a slot included (capped at 9 s, under Webex
        /// Connect's 10 s; at least 1 ms). Past it the handler is cancelled, the event released,
        /// and the call answered 503. [`router_with`] also keeps it under three quarters of the
        /// receiver's [claim lease](super::ReceiverBuilder::claim_lease).
        fn handler_timeout(self, timeout: Duration) =>
            self.handler_timeout = timeout.clamp(Duration::from_millis(1), MAX_HANDLER_TIMEOUT);
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
/// let app: axum::Router = router(Receiver::builder().allow_unsigned().build()?, |event: WebhookEvent| async move {
///     std::fs::write("/tmp/last-event.json", event.raw())?; // an error: 503, delivered again
///     Ok::<(), std::io::Error>(())
/// });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn router<S, H, Fut>(receiver: impl Into<Arc<Receiver<S>>>, handler: H) -> Router
where
    S: DedupeStore + 'static,
    H: Fn(WebhookEvent) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutcome,
{
    router_with(receiver, RouterConfig::default(), handler)
}

/// [`router`] with a [`RouterConfig`]: how many handlers run at once, how many events wait,
/// and the handler timeout.
///
/// The handler timeout is kept under three quarters of the receiver's
/// [claim lease](super::ReceiverBuilder::claim_lease): a longer one is cut to that, with a
/// `warn` log, so that a handler is cancelled and its claim released before the claim could
/// end while the handler still runs (and a retry be handled beside it). With the default
/// lease (20 s) no timeout the config accepts (at most 9 s) is cut.
///
/// ```
/// use std::time::Duration;
/// use webex_connect_whatsapp::receiver::axum::{router_with, RouterConfig};
/// use webex_connect_whatsapp::receiver::Receiver;
/// let config = RouterConfig::default().max_concurrent(4).handler_timeout(Duration::from_secs(3));
/// let app: axum::Router = router_with(Receiver::builder().allow_unsigned().build()?, config, |_event| async {
///     Err::<(), _>("not ready yet: answered 503, delivered again")
/// });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn router_with<S, H, Fut>(
    receiver: impl Into<Arc<Receiver<S>>>,
    config: RouterConfig,
    handler: H,
) -> Router
where
    S: DedupeStore + 'static,
    H: Fn(WebhookEvent) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: HandlerOutcome,
{
    let handler = Arc::new(handler);
    let receiver = receiver.into();
    let timeout = within_lease(config.handler_timeout, receiver.claim_lease());
    let state = Shared {
        receiver,
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
        timeout,
    };
    Router::new().fallback(handle::<S>).with_state(state)
}

/// The handler timeout the router uses: `timeout`, cut to three quarters of the claim
/// `lease` if longer, so that a handler is cancelled and its claim released (which takes a
/// store round trip) before the lease could end.
fn within_lease(timeout: Duration, lease: Duration) -> Duration {
    let limit = lease / 4 * 3;
    if timeout <= limit {
        return timeout;
    }
    tracing::warn!(
        handler_timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        claim_lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX),
        "the handler timeout is cut to three quarters of the receiver's claim lease"
    );
    limit
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Handler = Arc<dyn Fn(WebhookEvent) -> BoxFuture + Send + Sync>;

struct Shared<S = InMemoryDedupeStore> {
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

/// A request's claim on its event, armed *before* the claim is awaited, so that there is no
/// moment between the claim and its guard. If the request is dropped before its answer (the
/// connection closed mid-claim or mid-handler), the drop releases the claim by its owner
/// token: a claim that never reached the store is not found, and another delivery's claim
/// or a done mark is never touched. Once the handler succeeded, a drop completes the event
/// instead: it was handled.
struct ClaimGuard<S: DedupeStore + 'static> {
    armed: Option<Armed<S>>,
}

struct Armed<S> {
    receiver: Arc<Receiver<S>>,
    event: WebhookEvent,
    owner: ClaimOwner,
    /// The handler succeeded: a drop completes rather than releases.
    handled: bool,
}

impl<S: DedupeStore + 'static> ClaimGuard<S> {
    fn arm(receiver: &Arc<Receiver<S>>, event: &WebhookEvent, owner: &ClaimOwner) -> Self {
        Self {
            armed: Some(Armed {
                receiver: Arc::clone(receiver),
                event: event.clone(),
                owner: owner.clone(),
                handled: false,
            }),
        }
    }

    /// The request reached its answer (or never held a claim): nothing is left to do on
    /// drop.
    fn disarm(mut self) {
        self.armed = None;
    }

    /// Marks the event handled and completes it. Still armed while completing: if the
    /// request is dropped meanwhile, the drop completes.
    async fn complete(mut self) {
        if let Some(armed) = &mut self.armed {
            armed.handled = true;
            if let Err(error) = armed.receiver.complete(&armed.event).await {
                tracing::error!(
                    error = %error,
                    "the handled webhook event could not be marked done: a delivery after its claim's lease would be handled again"
                );
            }
        }
        self.disarm();
    }

    /// Releases the claim of an event that was not handled. Still armed while releasing: if
    /// the request is dropped meanwhile, the drop releases.
    async fn release(self) {
        if let Some(armed) = &self.armed
            && let Err(error) = armed.receiver.release_as(&armed.event, &armed.owner).await
        {
            tracing::error!(error = %error, "the unhandled webhook event could not be released");
        }
        self.disarm();
    }
}

impl<S: DedupeStore + 'static> Drop for ClaimGuard<S> {
    fn drop(&mut self) {
        let Some(armed) = self.armed.take() else {
            return;
        };
        // Drop cannot await; a short task finishes the claim and logs a failure.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let Armed {
                    receiver,
                    event,
                    owner,
                    handled,
                } = armed;
                if handled {
                    match receiver.complete(&event).await {
                        Ok(()) => tracing::debug!(
                            "webhook request dropped after its handler succeeded: event marked done"
                        ),
                        Err(error) => tracing::error!(
                            error = %error,
                            "webhook request dropped after its handler succeeded, and the event could not be marked done"
                        ),
                    }
                    return;
                }
                match receiver.release_as(&event, &owner).await {
                    Ok(()) => tracing::warn!(
                        "webhook request dropped before its answer: its claim released for the retry"
                    ),
                    Err(error) => tracing::error!(
                        error = %error,
                        "webhook request dropped before its answer, and its claim could not be released"
                    ),
                }
            });
        }
    }
}

async fn handle<S: DedupeStore + 'static>(
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
        gtrid = tracing::field::Empty,
    );
    async move {
        let rx = &shared.receiver;
        let (parts, body) = request.into_parts();
        // Recorded before any check, so that a refused call (401, 413) can be traced too.
        if let Some(gtrid) = parts
            .headers
            .get(GTRID_HEADER)
            .and_then(|v| usable_gtrid(v.as_bytes()))
        {
            tracing::Span::current().record("gtrid", gtrid);
        }
        let body = match read_body(body, rx).await {
            Ok(body) => body,
            Err(error) => return refuse(&error),
        };
        let event = match rx.check(&parts.headers, &body) {
            Ok(event) => event,
            Err(error) => return refuse(&error),
        };
        record(&event);
        // Armed before the claim is awaited: a request dropped mid-claim releases too.
        let owner = ClaimOwner::new();
        let guard = ClaimGuard::arm(rx, &event, &owner);
        match rx.claim_as(event, &owner).await {
            Ok((Received::New(event), _)) => run(&shared, event, guard).await,
            Ok((Received::Duplicate(_), _)) => {
                guard.disarm();
                tracing::debug!("duplicate webhook event suppressed");
                StatusCode::OK.into_response()
            }
            Ok((Received::Stale(_), _)) => {
                guard.disarm();
                StatusCode::OK.into_response()
            }
            // In progress elsewhere, or the store failed (and undid its own claim): there is
            // no claim of ours to release.
            Err(error) => {
                guard.disarm();
                refuse(&error)
            }
        }
    }
    .instrument(span)
    .await
}

/// Runs the handler on a new, claimed event within the limits, and answers.
async fn run<S: DedupeStore + 'static>(
    shared: &Shared<S>,
    event: WebhookEvent,
    guard: ClaimGuard<S>,
) -> Response {
    let Ok(_admitted) = Arc::clone(&shared.admitted).try_acquire_owned() else {
        return unhandled(guard, "every handler slot and queue place is taken").await;
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
            guard.complete().await;
            tracing::debug!("webhook event handled");
            StatusCode::OK.into_response()
        }
        Ok(Err(error)) => {
            tracing::warn!(error = %error, "webhook handler failed");
            unhandled(guard, "the handler failed").await
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = u64::try_from(shared.timeout.as_millis()).unwrap_or(u64::MAX),
                "webhook handler timed out"
            );
            unhandled(guard, "the handler timed out").await
        }
    }
}

/// Releases an event that was not handled and answers 503, so Webex Connect retries it.
async fn unhandled<S: DedupeStore + 'static>(guard: ClaimGuard<S>, why: &'static str) -> Response {
    guard.release().await;
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
    // The body's gtrid wins over the header's recorded before (see `WebhookEvent::gtrid`);
    // one that is too long or holds control characters is left out, as a header's would be.
    if let Some(gtrid) = event.gtrid().and_then(|g| usable_gtrid(g.as_bytes())) {
        span.record("gtrid", gtrid);
    }
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
    // Every status `status()` gives is valid; were one not, 503 (retried) loses nothing.
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    // Each message carries its reason, so the answer tells the caller why.
    let text = error.to_string();
    // A delivery of an event being handled is expected (a retry or a duplicate): not a warning.
    if status.is_server_error() && !matches!(error, ReceiveError::InProgress) {
        tracing::warn!(status = status.as_u16(), error = %text, "webhook refused");
    } else {
        tracing::info!(status = status.as_u16(), error = %text, "webhook refused");
    }
    (status, text).into_response()
}

/// Reads the body, stopping as soon as it is over the limit (a `Content-Length` over it is
/// refused before reading anything).
async fn read_body<S: DedupeStore>(
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
        // The connection failed mid-body: nothing is known of the event, so it is answered
        // 503 (retried), never 400 (which would lose it).
        let frame = frame.map_err(|e| receiver.unreadable(Box::new(e)))?;
        if let Ok(data) = frame.into_data() {
            if buf.len().saturating_add(data.len()) > max {
                return Err(receiver.too_large(buf.len().saturating_add(data.len())));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}
