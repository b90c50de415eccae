//! The [`Receiver`] as an axum router: verify, parse, deduplicate, hand typed events over.
//!
//! [`router`] answers every path it is mounted at:
//!
//! | request | answer |
//! |---|---|
//! | `HEAD` or `GET` (Webex Connect checks the URL when a webhook is saved) | 200 |
//! | `POST` with a new event | 200 at once; your handler runs on its own task |
//! | `POST` with a duplicate | 200; the handler is not called again |
//! | `POST` with a missing or wrong signature (when a secret is set) | 401 |
//! | `POST` with a body that is not a Webex Connect event | 400 (not retried) |
//! | `POST` with a body over the limit | 413 |
//! | the seen-store failed | 503 (Webex Connect retries) |
//! | another method | 405 |
//!
//! Because the answer does not wait for your handler, Webex Connect never times out on a
//! slow handler (it allows 10 seconds) and never retries an event you already have. The flip
//! side: a handler that fails has no retry to fall back on, so persist what matters inside
//! it (or queue it) before doing slow work.
//!
//! ```no_run
//! use std::sync::Arc;
//! use webex_connect_whatsapp::receiver::{axum::router, Receiver};
//! use webex_connect_whatsapp::webhook::{WebhookEvent, WebhookSecret};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let receiver = Arc::new(
//!     Receiver::builder().secret(WebhookSecret::new(std::env::var("WEBHOOK_SECRET")?)?).build(),
//! );
//! let app = axum::Router::new().nest_service(
//!     "/webex",
//!     router(Arc::clone(&receiver), |event: WebhookEvent| async move {
//!         match event {
//!             WebhookEvent::DeliveryReceipt(r) => println!("{} {}", r.status(), r.code()),
//!             WebhookEvent::Inbound(m) => println!("inbound: {:?}", m.text()),
//!             _ => {}
//!         }
//!     }),
//! );
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tracing::Instrument as _;

use super::{ReceiveError, Received, Receiver};
use crate::dedupe::{InMemorySeenStore, SeenStore};
use crate::webhook::WebhookEvent;

/// A router that receives Webex Connect webhooks at any path and calls `handler` once per
/// new event (see the [module docs](self)).
///
/// Mount it with `Router::nest_service` under the path you give Webex Connect, or serve it
/// as the whole app. Receipts and inbound messages may share one URL: the body tells them
/// apart.
///
/// ```
/// use std::sync::Arc;
/// use webex_connect_whatsapp::receiver::{axum::router, Receiver};
/// let app: axum::Router = router(Receiver::builder().build(), |event| async move {
///     let _ = event;
/// });
/// ```
pub fn router<S, H, Fut>(receiver: impl Into<Arc<Receiver<S>>>, handler: H) -> Router
where
    S: SeenStore + 'static,
    H: Fn(WebhookEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let state = Shared {
        receiver: receiver.into(),
        handler: Arc::new(move |event| Box::pin(handler(event)) as BoxFuture),
    };
    Router::new().fallback(handle::<S>).with_state(state)
}

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
type Handler = Arc<dyn Fn(WebhookEvent) -> BoxFuture + Send + Sync>;

struct Shared<S = InMemorySeenStore> {
    receiver: Arc<Receiver<S>>,
    handler: Handler,
}

impl<S> Clone for Shared<S> {
    fn clone(&self) -> Self {
        Self {
            receiver: Arc::clone(&self.receiver),
            handler: Arc::clone(&self.handler),
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
            Ok(Received::New(event)) => {
                tracing::debug!("webhook event received");
                tokio::spawn((shared.handler)(event).in_current_span());
                StatusCode::OK.into_response()
            }
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
    if status.is_server_error() {
        tracing::warn!(status = status.as_u16(), error = %error, "webhook refused");
    } else {
        tracing::info!(status = status.as_u16(), error = %error, "webhook refused");
    }
    (status, error.to_string()).into_response()
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
