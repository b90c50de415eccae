//! What the receiver logs: an unknown event kind once at `warn`, then at `debug`; the
//! `x-wx-gtrid` header in the router's `webex_connect.webhook` span.
//!
//! In its own test binary because each test installs a thread-local `tracing` subscriber:
//! tracing caches each callsite's interest globally, so tests on other threads without a
//! subscriber could leave a callsite disabled and make the checks flaky. Every test here
//! installs one before its first event.
#![cfg(feature = "axum")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt as _;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use webex_connect_whatsapp::receiver::axum::router;
use webex_connect_whatsapp::receiver::{
    MAX_GTRID_CHARS, MAX_UNKNOWN_KINDS, OTHER_UNKNOWN_KINDS, Receiver,
};
use webex_connect_whatsapp::webhook::WebhookEvent;
use webex_connect_whatsapp::webhook::signature::{self, SignatureAlgorithm, WebhookSecret};

/// Fields as text: strings as they are, everything else as `Debug` writes it.
#[derive(Default, Debug, Clone)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

#[derive(Debug, Clone)]
struct LoggedEvent {
    level: Level,
    fields: Fields,
}

#[derive(Debug, Clone)]
struct ClosedSpan {
    name: &'static str,
    fields: Fields,
}

/// Records every event, and every span's fields when it closes.
#[derive(Clone, Default)]
struct Capture {
    events: Arc<Mutex<Vec<LoggedEvent>>>,
    open: Arc<Mutex<HashMap<u64, ClosedSpan>>>,
    closed: Arc<Mutex<Vec<ClosedSpan>>>,
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.events.lock().unwrap().push(LoggedEvent {
            level: *event.metadata().level(),
            fields,
        });
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        self.open.lock().unwrap().insert(
            id.into_u64(),
            ClosedSpan {
                name: attrs.metadata().name(),
                fields,
            },
        );
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        if let Some(span) = self.open.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut span.fields);
        }
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        if let Some(span) = self.open.lock().unwrap().remove(&id.into_u64()) {
            self.closed.lock().unwrap().push(span);
        }
    }
}

impl Capture {
    /// Installs a subscriber with this layer on the current thread.
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::registry().with(self.clone());
        tracing::subscriber::set_default(subscriber)
    }

    /// The unknown-kind log lines so far, as (level, event name, where it was counted).
    fn unknown_kind_lines(&self) -> Vec<(Level, String, String)> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| {
                e.fields
                    .0
                    .get("message")
                    .is_some_and(|m| m.contains("does not model"))
            })
            .map(|e| {
                let get = |k: &str| e.fields.0.get(k).cloned().unwrap_or_default();
                (e.level, get("event"), get("counted_as"))
            })
            .collect()
    }

    fn webhook_spans(&self) -> Vec<ClosedSpan> {
        self.closed
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.name == "webex_connect.webhook")
            .cloned()
            .collect()
    }
}

/// An unknown event of kind `kind`; `n` makes each body (and so its dedupe key) distinct.
fn unknown(kind: &str, n: usize) -> String {
    format!(r#"{{"event":"{kind}","n":{n}}}"#)
}

#[tokio::test(flavor = "current_thread")]
async fn unknown_kinds_warn_once_per_kind_then_debug_and_keep_counting() {
    let capture = Capture::default();
    let _guard = capture.install();
    let rx = Receiver::builder().allow_unsigned().build().unwrap();
    let none: [(&str, &str); 0] = [];

    let mut n = 0;
    for kind in ["reaction", "typing", "reaction", "reaction", "typing"] {
        n += 1;
        let got = rx.receive(none, unknown(kind, n).as_bytes()).await.unwrap();
        assert!(got.is_new());
    }
    let lines = capture.unknown_kind_lines();
    let levels: Vec<(Level, &str)> = lines.iter().map(|(l, e, _)| (*l, e.as_str())).collect();
    assert_eq!(
        levels,
        [
            (Level::WARN, "\"reaction\""),
            (Level::WARN, "\"typing\""),
            (Level::DEBUG, "\"reaction\""),
            (Level::DEBUG, "\"reaction\""),
            (Level::DEBUG, "\"typing\""),
        ]
    );
    // The counters still count every event, not only the logged-at-warn ones.
    assert_eq!(rx.stats().unknown_events, 5);
    assert_eq!(
        rx.unknown_event_kinds(),
        vec![("reaction".to_owned(), 3), ("typing".to_owned(), 2)]
    );

    // Fill the map of counted names; each new name warns once.
    for i in 0..MAX_UNKNOWN_KINDS - 2 {
        n += 1;
        rx.receive(none, unknown(&format!("kind-{i}"), n).as_bytes())
            .await
            .unwrap();
    }
    let warned = capture
        .unknown_kind_lines()
        .iter()
        .filter(|(l, _, _)| *l == Level::WARN)
        .count();
    assert_eq!(warned, MAX_UNKNOWN_KINDS);

    // Past the bound, new names share one slot: its first event warns (naming the slot),
    // the rest are at debug, so a sender inventing names cannot flood the warn level.
    for kind in ["new-a", "new-b", "new-c", "new-a"] {
        n += 1;
        rx.receive(none, unknown(kind, n).as_bytes()).await.unwrap();
    }
    let lines = capture.unknown_kind_lines();
    let tail: Vec<_> = lines[lines.len() - 4..].to_vec();
    assert_eq!(
        tail,
        [
            (
                Level::WARN,
                "\"new-a\"".to_owned(),
                OTHER_UNKNOWN_KINDS.to_owned()
            ),
            (
                Level::DEBUG,
                "\"new-b\"".to_owned(),
                OTHER_UNKNOWN_KINDS.to_owned()
            ),
            (
                Level::DEBUG,
                "\"new-c\"".to_owned(),
                OTHER_UNKNOWN_KINDS.to_owned()
            ),
            (
                Level::DEBUG,
                "\"new-a\"".to_owned(),
                OTHER_UNKNOWN_KINDS.to_owned()
            ),
        ]
    );
    let warned = lines.iter().filter(|(l, _, _)| *l == Level::WARN).count();
    assert_eq!(warned, MAX_UNKNOWN_KINDS + 1);
    let stats = rx.stats();
    assert_eq!(stats.unknown_events, 5 + (MAX_UNKNOWN_KINDS as u64 - 2) + 4);
    assert!(
        rx.unknown_event_kinds()
            .contains(&(OTHER_UNKNOWN_KINDS.to_owned(), 4))
    );

    // Another receiver (another process) warns again for a kind this one already saw.
    let other = Receiver::builder().allow_unsigned().build().unwrap();
    n += 1;
    other
        .receive(none, unknown("reaction", n).as_bytes())
        .await
        .unwrap();
    let last = capture.unknown_kind_lines().pop().unwrap();
    assert_eq!((last.0, last.1.as_str()), (Level::WARN, "\"reaction\""));
}

const SECRET: &str = "receiver-logs-secret";

fn post(body: &str, signature: &str, gtrid: Option<&[u8]>) -> Request<Body> {
    let mut request = Request::post("/")
        .header("content-type", "application/json")
        .header("x-hub-signature", signature);
    if let Some(gtrid) = gtrid {
        request = request.header("X-WX-GTRID", gtrid);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn the_router_span_records_the_gtrid_header_and_handlers_read_it() {
    let capture = Capture::default();
    let _guard = capture.install();
    let secret = WebhookSecret::new(SECRET).unwrap();
    let rx = Arc::new(Receiver::builder().secret(secret.clone()).build().unwrap());
    let handled = Arc::new(Mutex::new(Vec::<WebhookEvent>::new()));
    let sink = Arc::clone(&handled);
    let app = router(Arc::clone(&rx), move |event| {
        let sink = Arc::clone(&sink);
        async move {
            sink.lock().unwrap().push(event);
            Ok::<(), Infallible>(())
        }
    });
    let sign = |body: &str| signature::sign(SignatureAlgorithm::Sha256, &secret, body.as_bytes());
    let send = |request: Request<Body>| {
        let app = app.clone();
        async move { app.oneshot(request).await.unwrap().status() }
    };

    // 1. Only the header: the span and the handler's event both carry it.
    let mo = r#"{"event":"MO","waid":"447400123456","message":"hi","tid":"g_1"}"#;
    assert_eq!(
        send(post(mo, &sign(mo), Some(b"hdr-1"))).await,
        StatusCode::OK
    );
    // 2. The body has its own: the body wins, in the span and for the handler.
    let receipt = r#"{"x-wx-gtrid":"body-2","deliveryInfoNotification":{"transid":"t2","deliveryInfo":{"deliveryStatus":"Read","code":"7502","destination":"447400123456"}}}"#;
    assert_eq!(
        send(post(receipt, &sign(receipt), Some(b"hdr-2"))).await,
        StatusCode::OK
    );
    // 3. A refused call is traced too: the header is recorded before the signature check.
    assert_eq!(
        send(post(mo, "00", Some(b"hdr-3"))).await,
        StatusCode::UNAUTHORIZED
    );
    // 4. Too long, or not UTF-8: not recorded, not kept.
    let long = "g".repeat(MAX_GTRID_CHARS + 1);
    let unknown = r#"{"event":"reaction","emoji":"+1"}"#;
    assert_eq!(
        send(post(unknown, &sign(unknown), Some(long.as_bytes()))).await,
        StatusCode::OK
    );
    let other = r#"{"event":"typing","on":true}"#;
    assert_eq!(
        send(post(other, &sign(other), Some(b"caf\xe9"))).await,
        StatusCode::OK
    );

    let gtrids: Vec<Option<String>> = capture
        .webhook_spans()
        .iter()
        .map(|s| s.fields.0.get("gtrid").cloned())
        .collect();
    assert_eq!(
        gtrids,
        [
            Some("hdr-1".to_owned()),
            Some("body-2".to_owned()),
            Some("hdr-3".to_owned()),
            None,
            None,
        ]
    );
    let handled = handled.lock().unwrap().clone();
    let gtrids: Vec<Option<&str>> = handled.iter().map(WebhookEvent::gtrid).collect();
    assert_eq!(gtrids, [Some("hdr-1"), Some("body-2"), None, None]);
    // The header's value travels beside the body, never inside it.
    assert_eq!(handled[0].raw(), mo);
    assert!(
        !serde_json::to_string(&handled[0])
            .unwrap()
            .contains("hdr-1")
    );
    assert_eq!(
        capture.webhook_spans()[0]
            .fields
            .0
            .get("kind")
            .map(String::as_str),
        Some("MO")
    );
}
