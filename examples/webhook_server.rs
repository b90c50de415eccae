//! A standalone webhook receiver for a real Webex Connect deployment.
//!
//! ```text
//! WEBEX_CONNECT_WEBHOOK_SECRET=... WEBHOOK_BIND=0.0.0.0:8080 RUST_LOG=info \
//!   cargo run --example webhook_server --features axum
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `WEBEX_CONNECT_WEBHOOK_SECRET` | the webhook's "Hub Signature" secret; required unless `WEBHOOK_INSECURE=1` |
//! | `WEBHOOK_BIND` | the address to listen on (default `127.0.0.1:8080`) |
//! | `WEBHOOK_MAX_BODY_BYTES` | the largest body accepted (default 65536) |
//! | `WEBHOOK_INSECURE` | `1` to accept unsigned calls (only behind another authentication) |
//! | `WEBHOOK_LEGACY_SHA1` | `1` to also accept legacy HMAC-SHA1 signatures (needs `--features axum,legacy-sha1`; prefer switching the webhook to SHA-256) |
//! | `RUST_LOG` | log filter, e.g. `info` or `webex_connect_whatsapp=debug` |
//!
//! In Webex Connect, point the WhatsApp app's inbound webhook and the delivery-receipt
//! (notify) URL at `https://<your host>/webhooks/whatsapp`, behind your TLS terminator, with
//! Hub Signature on. Every event is logged with `tracing`; phone numbers are masked.
//!
//! The handler returns a `Result`: an error is answered 503 and Webex Connect delivers the
//! event again (at least once); a duplicate of an event already handled is answered 200
//! without calling it (effectively once).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use webex_connect_whatsapp::phone::mask;
use webex_connect_whatsapp::receiver::{DEFAULT_MAX_BODY_BYTES, Receiver, axum::router};
use webex_connect_whatsapp::webhook::WebhookEvent;
use webex_connect_whatsapp::webhook::signature::WebhookSecret;

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn receiver_from_env() -> Result<Receiver, String> {
    let builder = Receiver::builder();
    let mut builder = match (
        var("WEBEX_CONNECT_WEBHOOK_SECRET"),
        var("WEBHOOK_INSECURE").as_deref(),
    ) {
        (Some(secret), _) => {
            let secret = WebhookSecret::new(secret)
                .map_err(|e| format!("WEBEX_CONNECT_WEBHOOK_SECRET: {e}"))?;
            builder.secret(secret)
        }
        (None, Some("1")) => {
            tracing::warn!("WEBHOOK_INSECURE=1: accepting unsigned webhook calls");
            builder.allow_unsigned()
        }
        (None, _) => {
            return Err(
                "set WEBEX_CONNECT_WEBHOOK_SECRET (or WEBHOOK_INSECURE=1 behind other authentication)"
                    .to_owned(),
            );
        }
    };
    if var("WEBHOOK_LEGACY_SHA1").as_deref() == Some("1") {
        #[cfg(feature = "legacy-sha1")]
        {
            tracing::warn!("WEBHOOK_LEGACY_SHA1=1: accepting legacy HMAC-SHA1 signatures");
            builder = builder.allow_legacy_sha1();
        }
        #[cfg(not(feature = "legacy-sha1"))]
        return Err("WEBHOOK_LEGACY_SHA1=1 needs the legacy-sha1 feature: \
            cargo run --example webhook_server --features axum,legacy-sha1"
            .to_owned());
    }
    if let Some(max) = var("WEBHOOK_MAX_BODY_BYTES") {
        let max = max
            .parse()
            .map_err(|e| format!("WEBHOOK_MAX_BODY_BYTES {max:?}: {e}"))?;
        builder = builder.max_body_bytes(max);
    }
    builder.build().map_err(|e| e.to_string())
}

/// Your business logic goes here; this one only logs. Return an error when the event is
/// not safely stored or processed: it is then answered 503 and delivered again.
#[allow(
    clippy::unused_async,
    reason = "real handlers await a database or a queue"
)]
async fn handle(event: WebhookEvent, receiver: Arc<Receiver>) -> Result<(), Infallible> {
    match event {
        WebhookEvent::DeliveryReceipt(r) => {
            let transid = r
                .transaction_id()
                .map(ToString::to_string)
                .unwrap_or_default();
            let state = receiver
                .tracker()
                .get(&transid, r.destination().unwrap_or_default());
            tracing::info!(
                %transid,
                status = r.status().as_str(),
                code = r.code().as_str(),
                correlation_id = r.correlation_id().unwrap_or(""),
                to = %mask(r.destination().unwrap_or("")),
                state = ?state,
                fix = r.code().fix().unwrap_or(""),
                "delivery receipt"
            );
        }
        WebhookEvent::Inbound(m) => {
            let attachments = m.attachments().map_or(0, |a| a.len());
            tracing::info!(
                from = %m.sender_ids().next().map(mask).unwrap_or_default(),
                event = m.event().as_str(),
                tid = m.tid().unwrap_or(""),
                chars = m.text().map_or(0, |t| t.chars().count()),
                attachments,
                button = m.button_payload().unwrap_or(""),
                "inbound message"
            );
        }
        WebhookEvent::Unknown(u) => tracing::info!(
            event = ?u.event().unwrap_or(""),
            body_len = u.raw().len(),
            "event of a kind the SDK does not model"
        ),
        other => tracing::info!(body_len = other.raw().len(), "other event"),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let receiver = match receiver_from_env() {
        Ok(r) => Arc::new(r),
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::from(2);
        }
    };
    let bind = var("WEBHOOK_BIND").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let addr: SocketAddr = match bind.parse() {
        Ok(a) => a,
        Err(e) => {
            tracing::error!("WEBHOOK_BIND {bind:?}: {e}");
            return ExitCode::from(2);
        }
    };
    let for_handler = Arc::clone(&receiver);
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .nest_service(
            "/webhooks/whatsapp",
            router(Arc::clone(&receiver), move |event| {
                handle(event, Arc::clone(&for_handler))
            }),
        );
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        %addr,
        signed = receiver.requires_signature(),
        max_body_bytes = receiver.max_body_bytes(),
        default_max = DEFAULT_MAX_BODY_BYTES,
        "webhook receiver listening on /webhooks/whatsapp"
    );
    let shutdown = async {
        // Without a signal handler the server simply runs until killed.
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!("server stopped: {e}");
        return ExitCode::FAILURE;
    }
    let stats = receiver.stats();
    tracing::info!(?stats, "stopped");
    ExitCode::SUCCESS
}
