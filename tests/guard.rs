//! The guarded client against the sandbox: window fast-fail, template registry checks, opt-in
//! enforcement, send with fallback and the 7710 race.
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use time::OffsetDateTime;
use time::macros::datetime;
use url::Url;
use webex_connect_whatsapp::client::Client;
use webex_connect_whatsapp::conversation::clock::{Clock as _, ManualClock};
use webex_connect_whatsapp::conversation::fallback::{
    FallbackStore, InMemoryFallbackStore, PendingFallback, Registration, Take, UnfinishedFallback,
};
use webex_connect_whatsapp::conversation::optin::{
    ConsentStatus, InMemoryOptInStore, OptIn, OptInLedger, OptInSource,
};
use webex_connect_whatsapp::conversation::store::{InMemoryWindowStore, StoreError};
use webex_connect_whatsapp::conversation::window::{SessionWindows, WindowStatus};
use webex_connect_whatsapp::guard::{
    EventOutcome, FallbackOutcome, FallbackReason, GuardError, GuardedClient,
};
use webex_connect_whatsapp::media::{MediaKind, MediaUrl};
use webex_connect_whatsapp::sandbox::{Fault, Sandbox, SandboxClock, WebhookKind};
use webex_connect_whatsapp::template::{RegistryError, TemplateDefinition, TemplateRegistry};
use webex_connect_whatsapp::webhook::{self, WebhookEvent};
use webex_connect_whatsapp::{
    PhoneNumber, SessionMessage, TemplateCategory, TemplateId, TemplateMessage, TemplateName,
    TransactionId,
};

const WAID: &str = "447400123456";
const START: OffsetDateTime = datetime!(2026-03-01 09:00 UTC);
const TEMPLATE_ID: &str = "5139722425xxxxx";
const MEDIA_TEMPLATE_ID: &str = "5139722425media";

fn to() -> PhoneNumber {
    PhoneNumber::parse("+447400123456").unwrap()
}

/// An HTTP receiver that accepts every webhook (the sandbox keeps the bodies).
async fn receiver() -> Url {
    let app = axum::Router::new().route("/{*path}", post(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Url::parse(&format!("http://{addr}/")).unwrap()
}

fn registry() -> TemplateRegistry {
    let mut registry = TemplateRegistry::new();
    let order = TemplateDefinition::builder(
        TemplateName::new("order_shipped").unwrap(),
        TemplateCategory::Utility,
        "en_US",
        "Hi {{1}}, your order {{2}} has shipped.",
    )
    .header_text("Order {{1}}")
    .build()
    .unwrap();
    registry
        .register(TemplateId::new(TEMPLATE_ID).unwrap(), order)
        .unwrap();
    let media = TemplateDefinition::builder(
        TemplateName::new("invoice_ready").unwrap(),
        TemplateCategory::Utility,
        "en_US",
        "Your invoice {{1}} is attached.",
    )
    .header_media(MediaKind::Document)
    .build()
    .unwrap();
    registry
        .register(TemplateId::new(MEDIA_TEMPLATE_ID).unwrap(), media)
        .unwrap();
    registry
}

fn order_template() -> TemplateMessage {
    TemplateMessage::builder(TemplateId::new(TEMPLATE_ID).unwrap())
        .text("1", "Ana")
        .text("2", "A-1042")
        .build()
        .unwrap()
}

type Windows = Arc<SessionWindows<InMemoryWindowStore, ManualClock>>;

struct World {
    sandbox: Sandbox,
    sandbox_clock: SandboxClock,
    clock: ManualClock,
    windows: Windows,
    guard: GuardedClient<InMemoryWindowStore, ManualClock>,
}

impl World {
    async fn start(configure: impl FnOnce(GuardBuilder) -> GuardBuilder) -> Self {
        let hooks = receiver().await;
        let sandbox_clock = SandboxClock::manual_at(START);
        let sandbox = Sandbox::builder()
            .clock(sandbox_clock.clone())
            .delivery_url(hooks.join("dlr").unwrap())
            .inbound_url(hooks.join("mo").unwrap())
            .receipt_delays(Duration::ZERO, Duration::ZERO, Duration::ZERO)
            .start()
            .await
            .unwrap();
        let registry = registry();
        for template in registry.iter() {
            sandbox.register_template(template.id().as_str(), template.parameter_keys());
        }
        let client = sandbox.client_builder().build().unwrap();
        let clock = ManualClock::new(START);
        let windows = Arc::new(SessionWindows::with_clock(
            InMemoryWindowStore::new(100),
            clock.clone(),
        ));
        let builder = GuardedClient::builder(client, Arc::clone(&windows)).registry(registry);
        Self {
            sandbox,
            sandbox_clock,
            clock,
            windows,
            guard: configure(builder).build(),
        }
    }

    /// A builder for another guarded client (another instance) on the same sandbox, windows
    /// and registry, with its own client.
    fn another_guard(&self) -> GuardBuilder {
        let client = self.sandbox.client_builder().build().unwrap();
        GuardedClient::builder(client, Arc::clone(&self.windows)).registry(registry())
    }

    /// Lets `guard` send a session message that the platform fails with 7710: the customer
    /// wrote a day ago; our view is one second before the window ends, the platform's is
    /// just after. Returns the session message's transaction id and its 7710 receipt.
    async fn race_the_window<F: FallbackStore + 'static>(
        &self,
        guard: &GuardedClient<InMemoryWindowStore, ManualClock, InMemoryOptInStore, F>,
    ) -> (TransactionId, WebhookEvent) {
        let (outcome, event) = self.race_outcome(guard).await;
        let FallbackOutcome::Session { receipt, .. } = outcome else {
            panic!("expected the session message, got {outcome:?}");
        };
        (receipt.transaction_id.unwrap(), event)
    }

    /// As [`race_the_window`](Self::race_the_window), with whatever `send_with_fallback`
    /// answered.
    async fn race_outcome<F: FallbackStore + 'static>(
        &self,
        guard: &GuardedClient<InMemoryWindowStore, ManualClock, InMemoryOptInStore, F>,
    ) -> (FallbackOutcome, WebhookEvent) {
        self.customer_writes("hi").await;
        self.clock
            .advance(std::time::Duration::from_secs(24 * 3600 - 1));
        self.sandbox_clock.advance(Duration::from_hours(24));
        let from = self.sandbox.webhooks().len();
        let outcome = guard
            .send_with_fallback(&to(), text("It ships today"), order_template())
            .await
            .unwrap();
        let original = outcome.receipt().transaction_id.clone().unwrap();
        self.sandbox.settled().await;
        let hooks = self.sandbox.webhooks();
        let failed = hooks[from..]
            .iter()
            .find(|h| matches!(&h.kind, WebhookKind::Receipt { code, .. } if code == "7710"))
            .expect("a 7710 receipt");
        let event = webhook::parse(failed.body.as_bytes()).unwrap();
        let WebhookEvent::DeliveryReceipt(dlr) = &event else {
            panic!("not a receipt")
        };
        assert_eq!(dlr.transaction_id(), Some(&original));
        (outcome, event)
    }

    /// The templates the sandbox queued, and that none was queued twice.
    fn templates_queued(&self) -> usize {
        assert!(
            self.sandbox.queued_twice().is_empty(),
            "{:?}",
            self.sandbox.queued_twice()
        );
        self.sandbox
            .messages()
            .iter()
            .filter(|m| m.template_id.as_deref() == Some(TEMPLATE_ID))
            .count()
    }

    /// Advances both clocks.
    fn advance(&self, by: Duration) {
        self.sandbox_clock.advance(by);
        self.clock.advance(by);
    }

    /// Feeds every webhook the sandbox posted since `from` to the guard, as a webhook
    /// handler would; returns the outcomes and the new position.
    async fn deliver_webhooks(&self, from: usize) -> (Vec<EventOutcome>, usize) {
        self.sandbox.settled().await;
        let hooks = self.sandbox.webhooks();
        let mut outcomes = Vec::new();
        for hook in &hooks[from..] {
            let event = webhook::parse(hook.body.as_bytes()).unwrap();
            outcomes.push(self.guard.handle_event(&event).await.unwrap());
        }
        (outcomes, hooks.len())
    }

    async fn customer_writes(&self, text: &str) -> Vec<EventOutcome> {
        self.sandbox.settled().await;
        let from = self.sandbox.webhooks().len();
        self.sandbox.inbound_text(WAID, text).await.unwrap();
        self.deliver_webhooks(from).await.0
    }

    fn requests(&self) -> usize {
        self.sandbox.requests().len()
    }
}

type GuardBuilder = webex_connect_whatsapp::guard::GuardedClientBuilder<
    InMemoryWindowStore,
    ManualClock,
    InMemoryOptInStore,
>;

fn text(body: &str) -> SessionMessage {
    SessionMessage::text(body).unwrap()
}

#[tokio::test]
async fn open_window_sends_the_text() {
    let world = World::start(|b| b).await;
    let outcomes = world.customer_writes("where is my order?").await;
    assert!(matches!(
        outcomes[..],
        [EventOutcome::Inbound {
            window: WindowStatus::Open { .. },
            opted_out: false
        }]
    ));
    let outcome = world
        .guard
        .send_with_fallback(&to(), text("It ships today"), order_template())
        .await
        .unwrap();
    let FallbackOutcome::Session { receipt, until } = outcome else {
        panic!("expected the session message, got {outcome:?}");
    };
    assert_eq!(until, START + time::Duration::hours(24));
    let queued = world
        .sandbox
        .message(receipt.transaction_id.as_ref().unwrap())
        .unwrap();
    assert_eq!(queued.kind, "text");
    assert_eq!(queued.template_id, None);
    assert_eq!(world.guard.pending_fallbacks().await.unwrap(), 1);
    // The message is read: the pending fallback is forgotten, no template goes.
    world.deliver_webhooks(1).await;
    assert_eq!(world.guard.pending_fallbacks().await.unwrap(), 0);
    assert_eq!(world.requests(), 1);
}

#[tokio::test]
async fn closed_window_sends_the_template() {
    let world = World::start(|b| b).await;
    world.customer_writes("hi").await;
    world.advance(Duration::from_hours(24));
    let outcome = world
        .guard
        .send_with_fallback(&to(), text("It ships today"), order_template())
        .await
        .unwrap();
    let FallbackOutcome::Template { receipt, reason } = outcome else {
        panic!("expected the template, got {outcome:?}");
    };
    assert_eq!(
        reason,
        FallbackReason::WindowClosed {
            since: START + time::Duration::hours(24)
        }
    );
    let queued = world
        .sandbox
        .message(receipt.transaction_id.as_ref().unwrap())
        .unwrap();
    assert_eq!(queued.template_id.as_deref(), Some(TEMPLATE_ID));
    assert_eq!(world.requests(), 1);
}

#[tokio::test]
async fn unknown_window_sends_the_template() {
    let world = World::start(|b| b).await;
    let outcome = world
        .guard
        .send_with_fallback(&to(), text("hello"), order_template())
        .await
        .unwrap();
    assert!(matches!(
        outcome,
        FallbackOutcome::Template {
            reason: FallbackReason::WindowUnknown,
            ..
        }
    ));
}

#[tokio::test]
async fn a_7710_for_a_raced_window_sends_the_template_once() {
    let world = World::start(|b| b).await;
    let (original, event) = world.race_the_window(&world.guard).await;

    let first = world.guard.handle_event(&event).await.unwrap();
    let EventOutcome::FallbackSent {
        original: failed_id,
        receipt: template_receipt,
    } = first
    else {
        panic!("expected the fallback, got {first:?}");
    };
    assert_eq!(failed_id, original);
    let template = world
        .sandbox
        .message(template_receipt.transaction_id.as_ref().unwrap())
        .unwrap();
    assert_eq!(template.template_id.as_deref(), Some(TEMPLATE_ID));

    // Webex Connect retries webhooks: the same receipt again sends nothing.
    let again = world.guard.handle_event(&event).await.unwrap();
    assert!(matches!(again, EventOutcome::Receipt), "{again:?}");
    assert_eq!(world.requests(), 2);
    assert_eq!(world.guard.pending_fallbacks().await.unwrap(), 0);
    assert!(world.guard.unfinished_fallbacks().await.unwrap().is_empty());
}

// ------------------------------------------------ fallbacks that survive

#[tokio::test]
async fn two_guards_sharing_one_store_send_the_first_ones_fallback_exactly_once() {
    let world = World::start(|b| b).await;
    let shared = Arc::new(InMemoryFallbackStore::default());
    let first = world
        .another_guard()
        .fallback_store(Arc::clone(&shared))
        .build();
    let second = world
        .another_guard()
        .fallback_store(Arc::clone(&shared))
        .build();

    // The first instance sends; the second sees its pending fallback.
    let (original, event) = world.race_the_window(&first).await;
    assert_eq!(second.pending_fallbacks().await.unwrap(), 1);

    // The 7710 reaches the second instance, which sends the first one's template.
    let outcome = second.handle_event(&event).await.unwrap();
    assert!(
        matches!(&outcome, EventOutcome::FallbackSent { original: o, .. } if *o == original),
        "{outcome:?}"
    );
    // The platform retries the receipt, to either instance: nothing more is sent.
    for guard in [&first, &second] {
        let again = guard.handle_event(&event).await.unwrap();
        assert!(matches!(again, EventOutcome::Receipt), "{again:?}");
    }
    assert_eq!(world.templates_queued(), 1);
    assert_eq!(world.requests(), 2);
    assert_eq!(first.pending_fallbacks().await.unwrap(), 0);
    assert!(second.unfinished_fallbacks().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_guards_handling_one_7710_at_once_send_one_template() {
    let world = World::start(|b| b).await;
    let shared = Arc::new(InMemoryFallbackStore::default());
    let first = world
        .another_guard()
        .fallback_store(Arc::clone(&shared))
        .build();
    let second = world
        .another_guard()
        .fallback_store(Arc::clone(&shared))
        .build();
    let (_, event) = world.race_the_window(&first).await;

    let (a, b) = tokio::join!(first.handle_event(&event), second.handle_event(&event));
    let sent = [a.unwrap(), b.unwrap()]
        .iter()
        .filter(|o| matches!(o, EventOutcome::FallbackSent { .. }))
        .count();
    assert_eq!(sent, 1);
    assert_eq!(world.templates_queued(), 1);
}

/// A fallback store that pauses every `take` after it took (until `gate` is opened) and
/// says when a take and a finish happened, so a test can drop a handler at that moment.
struct Gated<S = InMemoryFallbackStore> {
    inner: S,
    taken: tokio::sync::Notify,
    gate: tokio::sync::Notify,
    finished: tokio::sync::Notify,
}

impl<S> Gated<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            taken: tokio::sync::Notify::new(),
            gate: tokio::sync::Notify::new(),
            finished: tokio::sync::Notify::new(),
        }
    }
}

impl<S: FallbackStore> FallbackStore for Gated<S> {
    fn register(
        &self,
        original: &TransactionId,
        fallback: &PendingFallback,
        now: OffsetDateTime,
        retention: Duration,
    ) -> impl Future<Output = Result<Registration, StoreError>> + Send {
        self.inner.register(original, fallback, now, retention)
    }

    fn peek(
        &self,
        original: &TransactionId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<PendingFallback>, StoreError>> + Send {
        self.inner.peek(original, now)
    }

    async fn take(
        &self,
        original: &TransactionId,
        now: OffsetDateTime,
        retention: Duration,
    ) -> Result<Take, StoreError> {
        let taken = self.inner.take(original, now, retention).await;
        self.taken.notify_one();
        self.gate.notified().await;
        taken
    }

    async fn finish(
        &self,
        original: &TransactionId,
        now: OffsetDateTime,
        retention: Duration,
    ) -> Result<bool, StoreError> {
        let finished = self.inner.finish(original, now, retention).await;
        self.finished.notify_one();
        finished
    }

    fn discard(
        &self,
        original: &TransactionId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.inner.discard(original, now)
    }

    fn forget(
        &self,
        original: &TransactionId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.inner.forget(original)
    }

    fn unfinished(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<UnfinishedFallback>, StoreError>> + Send {
        self.inner.unfinished(now)
    }

    fn pending(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send {
        self.inner.pending(now)
    }
}

#[tokio::test]
async fn a_handler_dropped_right_after_taking_the_fallback_still_sends_it_once() {
    let world = World::start(|b| b).await;
    handler_dropped_after_take(&world, InMemoryFallbackStore::default()).await;
}

/// Drops a handler right after it took the fallback from `store`: the template is still
/// sent, once, and the platform's retry of the receipt finds it taken.
async fn handler_dropped_after_take<S: FallbackStore + 'static>(world: &World, store: S) {
    let gated = Arc::new(Gated::new(store));
    let guard = world
        .another_guard()
        .fallback_store(Arc::clone(&gated))
        .build();
    let (_, event) = world.race_the_window(&guard).await;

    // The handler takes the fallback, then is dropped (as a router's timeout drops it).
    {
        let handler = guard.handle_event(&event);
        tokio::select! {
            biased;
            () = gated.taken.notified() => {}
            outcome = handler => panic!("the handler finished before it was dropped: {outcome:?}"),
        }
    }
    gated.gate.notify_one();
    // Not a speed check: without its own task the send is gone with the handler, and this
    // would wait forever instead of failing.
    tokio::time::timeout(Duration::from_mins(1), gated.finished.notified())
        .await
        .expect("the template's send was cancelled with its handler");
    world.sandbox.settled().await;
    assert_eq!(world.templates_queued(), 1);
    assert!(guard.unfinished_fallbacks().await.unwrap().is_empty());

    // The platform got no answer and retries the receipt: the fallback is found taken.
    gated.gate.notify_one();
    let again = guard.handle_event(&event).await.unwrap();
    assert!(matches!(again, EventOutcome::Receipt), "{again:?}");
    assert_eq!(world.templates_queued(), 1);
    assert_eq!(guard.pending_fallbacks().await.unwrap(), 0);
}

#[tokio::test]
async fn a_fallback_taken_by_a_crashed_instance_is_reported_and_never_sent_again() {
    let world = World::start(|b| b).await;
    let shared = Arc::new(InMemoryFallbackStore::default());
    let guard = world
        .another_guard()
        .fallback_store(Arc::clone(&shared))
        .build();
    let (original, event) = world.race_the_window(&guard).await;
    // Another instance took the fallback and died before sending it.
    let crashed_at = world.clock.now();
    let taken = shared
        .take(&original, crashed_at, Duration::from_hours(1))
        .await
        .unwrap();
    let Take::Taken(fallback) = taken else {
        panic!("{taken:?}")
    };

    let outcome = guard.handle_event(&event).await.unwrap();
    assert!(matches!(outcome, EventOutcome::Receipt), "{outcome:?}");
    assert_eq!(world.templates_queued(), 0);
    let unfinished = guard.unfinished_fallbacks().await.unwrap();
    assert_eq!(
        unfinished,
        [UnfinishedFallback::new(
            original.clone(),
            fallback.correlation_id().clone(),
            crashed_at
        )]
    );
    // Once reconciled (no receipt carries its correlation id), it is forgotten.
    assert!(guard.forget_fallback(&original).await.unwrap());
    assert!(guard.unfinished_fallbacks().await.unwrap().is_empty());
    assert!(matches!(
        guard.handle_event(&event).await.unwrap(),
        EventOutcome::Receipt
    ));
    assert_eq!(world.templates_queued(), 0);
}

#[tokio::test]
async fn a_fallback_sent_with_an_unknown_outcome_stays_unfinished_with_its_correlation_id() {
    let world = World::start(|b| b).await;
    let (original, event) = world.race_the_window(&world.guard).await;
    // The platform queues the template, then the connection drops before the answer.
    world.sandbox.push_fault(Fault::DropAfterQueue);
    let outcome = world.guard.handle_event(&event).await.unwrap();
    let EventOutcome::FallbackFailed {
        original: failed,
        error: GuardError::Send(error),
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(failed, original);
    assert!(error.is_outcome_unknown(), "{error}");
    world.sandbox.settled().await;
    assert_eq!(world.templates_queued(), 1);

    // It is reported under the correlation id the queued template carries, and a retried
    // receipt does not send it again.
    let unfinished = world.guard.unfinished_fallbacks().await.unwrap();
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].original, original);
    let queued = world
        .sandbox
        .messages()
        .into_iter()
        .find(|m| m.template_id.as_deref() == Some(TEMPLATE_ID))
        .unwrap();
    assert_eq!(
        queued.correlation_id.as_deref(),
        Some(unfinished[0].correlation_id.as_str())
    );
    assert_eq!(error.correlation_id(), Some(&unfinished[0].correlation_id));
    let again = world.guard.handle_event(&event).await.unwrap();
    assert!(matches!(again, EventOutcome::Receipt), "{again:?}");
    assert_eq!(world.templates_queued(), 1);
}

/// A fallback store whose backend is down.
struct Down;

fn down<T>() -> std::future::Ready<Result<T, StoreError>> {
    std::future::ready(Err(StoreError::Backend {
        store: "test",
        source: "the server is down".into(),
    }))
}

impl FallbackStore for Down {
    fn register(
        &self,
        _: &TransactionId,
        _: &PendingFallback,
        _: OffsetDateTime,
        _: Duration,
    ) -> impl Future<Output = Result<Registration, StoreError>> + Send {
        down()
    }

    fn peek(
        &self,
        _: &TransactionId,
        _: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<PendingFallback>, StoreError>> + Send {
        down()
    }

    fn take(
        &self,
        _: &TransactionId,
        _: OffsetDateTime,
        _: Duration,
    ) -> impl Future<Output = Result<Take, StoreError>> + Send {
        down()
    }

    fn finish(
        &self,
        _: &TransactionId,
        _: OffsetDateTime,
        _: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        down()
    }

    fn discard(
        &self,
        _: &TransactionId,
        _: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        down()
    }

    fn forget(&self, _: &TransactionId) -> impl Future<Output = Result<bool, StoreError>> + Send {
        down()
    }

    fn unfinished(
        &self,
        _: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<UnfinishedFallback>, StoreError>> + Send {
        down()
    }

    fn pending(&self, _: OffsetDateTime) -> impl Future<Output = Result<usize, StoreError>> + Send {
        down()
    }
}

#[tokio::test]
async fn a_failing_fallback_store_reports_the_sent_message_and_lets_receipts_be_retried() {
    let world = World::start(|b| b).await;
    let guard = world.another_guard().fallback_store(Down).build();
    // The session message went: the outcome says so (an error would invite a resend) and
    // that no fallback is kept.
    let (outcome, event) = world.race_outcome(&guard).await;
    let FallbackOutcome::SessionWithoutFallback { error, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(matches!(**error, StoreError::Backend { store: "test", .. }));
    assert_eq!(world.requests(), 1);
    // Receipts fail, so the webhook is answered with an error and the platform retries.
    let err = guard.handle_event(&event).await.unwrap_err();
    assert!(matches!(err, GuardError::Store(_)), "{err}");
    assert_eq!(world.requests(), 1);
}

#[tokio::test]
async fn closed_window_session_send_fails_fast_without_a_request() {
    let world = World::start(|b| b).await;
    world.customer_writes("hi").await;
    world.advance(Duration::from_hours(24));
    let err = world
        .guard
        .send_session(&to(), text("too late"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GuardError::WindowClosed { since, .. } if since == START + time::Duration::hours(24))
    );
    assert!(err.is_refusal());
    assert!(err.to_string().contains("+44********56"), "{err}");
    assert_eq!(world.requests(), 0);

    // Callers who know better can switch the guard off.
    let world = World::start(|b| b.allow_closed_window(true)).await;
    world.customer_writes("hi").await;
    world.advance(Duration::from_hours(24));
    world
        .guard
        .send_session(&to(), text("anyway"))
        .await
        .unwrap();
    assert_eq!(world.requests(), 1);
}

#[tokio::test]
async fn unknown_windows_are_allowed_unless_refused() {
    let world = World::start(|b| b).await;
    world
        .guard
        .send_session(&to(), text("hello"))
        .await
        .unwrap();
    assert_eq!(world.requests(), 1);

    let world = World::start(|b| b.allow_unknown_window(false)).await;
    let err = world
        .guard
        .send_session(&to(), text("hello"))
        .await
        .unwrap_err();
    assert!(matches!(err, GuardError::WindowUnknown { .. }));
    assert_eq!(world.requests(), 0);
}

async fn registry_refuses(message: TemplateMessage) -> RegistryError {
    let world = World::start(|b| b).await;
    let err = world.guard.send_template(&to(), message).await.unwrap_err();
    assert_eq!(world.requests(), 0, "a refused template must not be sent");
    match err {
        GuardError::Template(e) => e,
        other => panic!("expected a registry error, got {other:?}"),
    }
}

fn order() -> webex_connect_whatsapp::template::TemplateMessageBuilder {
    TemplateMessage::builder(TemplateId::new(TEMPLATE_ID).unwrap())
}

#[tokio::test]
async fn registry_missing_variable_is_refused() {
    let err = registry_refuses(order().text("1", "Ana").build().unwrap()).await;
    assert!(matches!(&err, RegistryError::MissingParameter { key, .. } if key == "2"));
    let shown = err.to_string();
    assert!(
        shown.contains("order_shipped") && shown.contains("\"2\""),
        "{shown}"
    );
}

#[tokio::test]
async fn registry_extra_variable_is_refused() {
    let message = order()
        .text("1", "Ana")
        .text("2", "A-1042")
        .text("3", "extra")
        .build()
        .unwrap();
    let err = registry_refuses(message).await;
    assert!(matches!(&err, RegistryError::ExtraParameter { key, .. } if key == "3"));
}

#[tokio::test]
async fn registry_too_long_value_is_refused() {
    // "1" is the header variable too, so it must fit the header's 60 characters.
    let message = order()
        .text("1", "a".repeat(61))
        .text("2", "A-1042")
        .build()
        .unwrap();
    let err = registry_refuses(message).await;
    assert!(
        matches!(&err, RegistryError::TooLong { key, actual: 61, max: 60, .. } if key == "1"),
        "{err:?}"
    );
    assert!(err.to_string().contains("header variable"), "{err}");

    let message = order().text("1", "Ana").text("2", "é".repeat(1025)).build();
    // The builder already refuses a body value over 1024; JSON-read messages too.
    assert!(message.is_err());
}

#[tokio::test]
async fn registry_newline_in_value_is_refused_before_sending() {
    let world = World::start(|b| b).await;
    // The message builder refuses it first...
    assert!(
        order()
            .text("1", "Ana\nMaria")
            .text("2", "x")
            .build()
            .is_err()
    );
    // ...and so does reading one from JSON; neither reaches the client.
    let json =
        format!(r#"{{"template":"{TEMPLATE_ID}","parameters":{{"1":"Ana\nMaria","2":"x"}}}}"#);
    assert!(serde_json::from_str::<TemplateMessage>(&json).is_err());
    // The registry checks again, with the template's name in the error.
    let spaced = order()
        .text("1", "Ana")
        .text("2", "a    b")
        .build()
        .unwrap();
    world.guard.check_template(&spaced).unwrap();
    assert_eq!(world.requests(), 0);
}

#[tokio::test]
async fn registry_wrong_header_media_is_refused() {
    let link = MediaUrl::new("https://example.com/invoice.jpg").unwrap();
    let message = TemplateMessage::builder(TemplateId::new(MEDIA_TEMPLATE_ID).unwrap())
        .media_header(MediaKind::Image, link)
        .text("1", "INV-7")
        .build()
        .unwrap();
    let err = registry_refuses(message).await;
    assert!(
        matches!(
            err,
            RegistryError::WrongMedia {
                expected: Some(MediaKind::Document),
                actual: MediaKind::Image,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "template invoice_ready (5139722425media) has a document header, but the message sends a image header"
    );
}

#[tokio::test]
async fn registry_unknown_template_is_refused() {
    let message = TemplateMessage::builder(TemplateId::new("999").unwrap())
        .text("1", "x")
        .build()
        .unwrap();
    let err = registry_refuses(message).await;
    assert!(matches!(err, RegistryError::UnknownTemplate { .. }));
}

#[tokio::test]
async fn registry_accepts_a_matching_template_and_the_sandbox_agrees() {
    let world = World::start(|b| b).await;
    let receipt = world
        .guard
        .send_template(&to(), order_template())
        .await
        .unwrap();
    world.sandbox.settled().await;
    let message = world
        .sandbox
        .message(receipt.transaction_id.as_ref().unwrap())
        .unwrap();
    assert_eq!(
        message.fate,
        webex_connect_whatsapp::sandbox::MessageFate::Read
    );
}

fn opt_in() -> OptIn {
    OptIn::new(
        WAID,
        OptInSource::WebForm,
        START,
        "Receive order updates from Acme on WhatsApp at +44 7400 123456",
    )
    .unwrap()
}

#[tokio::test]
async fn opt_in_is_enforced_for_templates() {
    let ledger = Arc::new(OptInLedger::default());
    let shared = Arc::clone(&ledger);
    let world = World::start(move |b| {
        let b: GuardBuilder = b.opt_in_ledger(shared);
        b
    })
    .await;

    // Never opted in: refused before any request.
    let err = world
        .guard
        .send_template(&to(), order_template())
        .await
        .unwrap_err();
    assert!(matches!(&err, GuardError::NoOptIn { consent, .. } if consent == "never opted in"));
    assert_eq!(world.requests(), 0);

    // Opted in: sent.
    ledger.record_opt_in(opt_in()).await.unwrap();
    world
        .guard
        .send_template(&to(), order_template())
        .await
        .unwrap();
    assert_eq!(world.requests(), 1);

    // The customer writes STOP: recorded through handle_event, refused again.
    let outcomes = world.customer_writes("STOP").await;
    assert!(matches!(
        outcomes[..],
        [EventOutcome::Inbound {
            opted_out: true,
            ..
        }]
    ));
    assert!(matches!(
        ledger.status(WAID).await.unwrap(),
        ConsentStatus::OptedOut(_)
    ));
    let err = world
        .guard
        .send_template(&to(), order_template())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GuardError::NoOptIn { consent, .. } if consent.starts_with("opted out"))
    );
    assert_eq!(world.requests(), 1);

    // The fallback path is guarded the same way: the window is open (STOP opened it), so
    // the session message goes; a closed window would need the template and is refused.
    world.advance(Duration::from_hours(24));
    let err = world
        .guard
        .send_with_fallback(&to(), text("hello"), order_template())
        .await
        .unwrap_err();
    assert!(matches!(err, GuardError::NoOptIn { .. }));
    assert_eq!(world.requests(), 1);
}

#[tokio::test]
async fn opt_in_ledger_export_round_trips() {
    let ledger = OptInLedger::default();
    ledger.record_opt_in(opt_in()).await.unwrap();
    ledger
        .record_opt_out(
            webex_connect_whatsapp::conversation::optin::OptOut::stop_keyword(
                WAID,
                START + time::Duration::days(1),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let exported = ledger.export_json_lines().await.unwrap();
    let events = webex_connect_whatsapp::conversation::optin::parse_json_lines(&exported).unwrap();
    assert_eq!(events, ledger.export().await.unwrap());
    assert_eq!(events.len(), 2);
}

// ------------------------------------------------ fallbacks in Redis

#[cfg(feature = "redis")]
#[path = "redis_server/mod.rs"]
mod redis_server;

#[cfg(feature = "redis")]
mod redis {
    use webex_connect_whatsapp::conversation::redis::RedisStore;

    use super::redis_server::RedisServer;
    use super::*;

    async fn store(server: &RedisServer) -> RedisStore {
        RedisStore::connect(&server.url()).await.unwrap()
    }

    #[tokio::test]
    async fn a_restarted_instance_sends_the_fallback_another_registered_exactly_once() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let world = World::start(|b| b).await;
        let first = world
            .another_guard()
            .fallback_store(store(&server).await)
            .build();
        let (original, event) = world.race_the_window(&first).await;
        // The instance that sent it goes away with its connection.
        drop(first);

        // A new process, with a new connection, gets the 7710 and sends the template.
        let second = world
            .another_guard()
            .fallback_store(store(&server).await)
            .build();
        assert_eq!(second.pending_fallbacks().await.unwrap(), 1);
        let outcome = second.handle_event(&event).await.unwrap();
        assert!(
            matches!(&outcome, EventOutcome::FallbackSent { original: o, .. } if *o == original),
            "{outcome:?}"
        );
        // A third instance gets the platform's retry: nothing more.
        let third = world
            .another_guard()
            .fallback_store(store(&server).await)
            .build();
        let again = third.handle_event(&event).await.unwrap();
        assert!(matches!(again, EventOutcome::Receipt), "{again:?}");
        assert_eq!(world.templates_queued(), 1);
        assert_eq!(third.pending_fallbacks().await.unwrap(), 0);
        assert!(third.unfinished_fallbacks().await.unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_instances_handling_one_7710_at_once_send_one_template() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let world = World::start(|b| b).await;
        let first = world
            .another_guard()
            .fallback_store(store(&server).await)
            .build();
        let second = world
            .another_guard()
            .fallback_store(store(&server).await)
            .build();
        let (_, event) = world.race_the_window(&first).await;
        let (a, b) = tokio::join!(first.handle_event(&event), second.handle_event(&event));
        let sent = [a.unwrap(), b.unwrap()]
            .iter()
            .filter(|o| matches!(o, EventOutcome::FallbackSent { .. }))
            .count();
        assert_eq!(sent, 1);
        assert_eq!(world.templates_queued(), 1);
    }

    #[tokio::test]
    async fn a_handler_dropped_right_after_taking_the_fallback_still_sends_it_once() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let world = World::start(|b| b).await;
        handler_dropped_after_take(&world, store(&server).await).await;
    }

    #[tokio::test]
    async fn an_unknown_outcome_is_reported_by_every_instance() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let world = World::start(|b| b).await;
        let first = world
            .another_guard()
            .fallback_store(store(&server).await)
            .build();
        let (original, event) = world.race_the_window(&first).await;
        world.sandbox.push_fault(Fault::DropAfterQueue);
        let outcome = first.handle_event(&event).await.unwrap();
        assert!(
            matches!(outcome, EventOutcome::FallbackFailed { .. }),
            "{outcome:?}"
        );
        let second = world
            .another_guard()
            .fallback_store(store(&server).await)
            .build();
        let unfinished = second.unfinished_fallbacks().await.unwrap();
        assert_eq!(unfinished.len(), 1);
        assert_eq!(unfinished[0].original, original);
        assert!(matches!(
            second.handle_event(&event).await.unwrap(),
            EventOutcome::Receipt
        ));
        world.sandbox.settled().await;
        assert_eq!(world.templates_queued(), 1);
        assert!(second.forget_fallback(&original).await.unwrap());
        assert!(first.unfinished_fallbacks().await.unwrap().is_empty());
    }
}

// ------------------------------------------------ username users and users with two ids
//
// These run against a wiremock imitation of the send API rather than the sandbox: they check
// what the guard decides and sends for a business-scoped user id, not the platform's fates.

mod bsuid {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::{Value, json};
    use webex_connect_whatsapp::conversation::clock::Clock as _;
    use webex_connect_whatsapp::conversation::optin::OptOut;
    use webex_connect_whatsapp::{AppId, Bsuid, Recipient, TransactionId};
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    use super::*;

    const BSUID: &str = "US.13491208655302741918";

    /// Queues every request under a new transid, `t-1`, `t-2`, ...
    struct Queue(AtomicUsize);

    impl wiremock::Respond for Queue {
        fn respond(&self, _: &Request) -> ResponseTemplate {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            ResponseTemplate::new(200).set_body_json(
                json!({"response": [{"code": "1001", "transid": format!("t-{n}"), "description": "Queued"}]}),
            )
        }
    }

    struct Platform {
        server: MockServer,
        clock: ManualClock,
        guard: GuardedClient<InMemoryWindowStore, ManualClock>,
    }

    impl Platform {
        async fn start(configure: impl FnOnce(GuardBuilder) -> GuardBuilder) -> Self {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .respond_with(Queue(AtomicUsize::new(0)))
                .mount(&server)
                .await;
            let client = Client::builder()
                .service_key("test-service-key-0123456789")
                .app_id(AppId::new("a_155054536910425280").unwrap())
                .base_url(server.uri().parse().unwrap())
                .build()
                .unwrap();
            let clock = ManualClock::new(START);
            let windows = SessionWindows::with_clock(InMemoryWindowStore::new(100), clock.clone());
            let builder = GuardedClient::builder(client, windows).registry(registry());
            Self {
                server,
                clock,
                guard: configure(builder).build(),
            }
        }

        /// The destinations of every request sent so far, without their generated
        /// correlation ids.
        async fn destinations(&self) -> Vec<Value> {
            self.server
                .received_requests()
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    let mut destination = r.body_json::<Value>().unwrap()["destination"].clone();
                    for d in destination.as_array_mut().unwrap() {
                        d.as_object_mut().unwrap().remove("correlationid");
                    }
                    destination
                })
                .collect()
        }

        /// Feeds one inbound message, as the webhook handler would.
        async fn inbound(&self, waid: Option<&str>, text: &str) -> EventOutcome {
            let mut body = json!({
                "event": "MO", "channel": "WhatsApp", "appId": "a_155054536910425280",
                "userId": BSUID, "username": "asha", "message": text,
                "ts": "2026-03-01T09:00:00Z", "tid": "tid-1",
            });
            if let Some(waid) = waid {
                body["waid"] = waid.into();
            }
            let event = webhook::parse(body.to_string().as_bytes()).unwrap();
            self.guard.handle_event(&event).await.unwrap()
        }
    }

    fn bsuid() -> Bsuid {
        Bsuid::new(BSUID).unwrap()
    }

    fn receipt_7710(transid: &str) -> WebhookEvent {
        let body = json!({"deliveryInfoNotification": {
            "deliveryInfo": {
                "timeStamp": "2026-03-02T09:00:01.000Z", "code": "7710",
                "Description": "Re-engagement message", "deliveryChannel": "whatsapp",
                "destination": BSUID, "destinationType": "bsuid", "deliveryStatus": "Failed",
            },
            "transid": transid, "subtid": "", "callbackData": "", "correlationid": "",
        }});
        webhook::parse(body.to_string().as_bytes()).unwrap()
    }

    #[tokio::test]
    async fn an_inbound_with_both_ids_opens_the_window_for_either() {
        let platform = Platform::start(|b| b.allow_unknown_window(false)).await;
        let outcome = platform.inbound(Some(WAID), "hi").await;
        assert!(matches!(
            outcome,
            EventOutcome::Inbound {
                window: WindowStatus::Open { .. },
                opted_out: false
            }
        ));
        let windows = platform.guard.windows();
        assert!(windows.status(&to()).await.unwrap().is_open());
        assert!(windows.status(&bsuid()).await.unwrap().is_open());
        // Unknown windows are refused here, so both sends prove the window was found.
        platform
            .guard
            .send_session(&to(), text("by phone"))
            .await
            .unwrap();
        platform
            .guard
            .send_session(Recipient::from(bsuid()), text("by id"))
            .await
            .unwrap();
        assert_eq!(
            platform.destinations().await,
            [json!([{"waid": [WAID]}]), json!([{"bsuid": [BSUID]}])]
        );
    }

    #[tokio::test]
    async fn a_username_user_is_answered_by_bsuid() {
        let platform = Platform::start(|b| b.allow_unknown_window(false)).await;
        // Before any message the window is unknown: refused, nothing sent.
        let to = Recipient::from(bsuid());
        let err = platform
            .guard
            .send_session(&to, text("hello"))
            .await
            .unwrap_err();
        assert!(matches!(err, GuardError::WindowUnknown { .. }), "{err}");
        assert!(!err.to_string().contains("1349120865530"), "masked: {err}");

        // A username user writes: no waid, only the BSUID.
        platform.inbound(None, "where is my order?").await;
        let receipt = platform
            .guard
            .send_session(&to, text("It ships today"))
            .await
            .unwrap();
        assert_eq!(
            receipt.transaction_id.as_ref().map(TransactionId::as_str),
            Some("t-1")
        );
        assert_eq!(platform.destinations().await, [json!([{"bsuid": [BSUID]}])]);

        // A day later the window is closed for the BSUID too.
        platform.clock.advance(std::time::Duration::from_hours(24));
        let err = platform
            .guard
            .send_session(&to, text("too late"))
            .await
            .unwrap_err();
        assert!(matches!(err, GuardError::WindowClosed { .. }), "{err}");
        assert_eq!(platform.destinations().await.len(), 1);
    }

    #[tokio::test]
    async fn a_stop_by_bsuid_blocks_the_bsuid_and_a_stop_with_both_ids_blocks_both() {
        let ledger = Arc::new(OptInLedger::default());
        let shared = Arc::clone(&ledger);
        let platform = Platform::start(move |b| {
            let b: GuardBuilder = b.opt_in_ledger(shared);
            b
        })
        .await;
        let wording = "Receive order updates from Acme on WhatsApp";
        for id in [Recipient::from(to()), Recipient::from(bsuid())] {
            let opt_in = OptIn::new(&id, OptInSource::App, START, wording).unwrap();
            ledger.record_opt_in(opt_in).await.unwrap();
        }
        platform
            .guard
            .send_template(bsuid(), order_template())
            .await
            .unwrap();

        // The username user writes STOP: recorded under the BSUID, which is then refused.
        platform.clock.advance(std::time::Duration::from_mins(1));
        let mut stop = json!({"event": "MO", "userId": BSUID, "message": "STOP"});
        let event = webhook::parse(stop.to_string().as_bytes()).unwrap();
        let outcome = platform.guard.handle_event(&event).await.unwrap();
        assert!(matches!(
            outcome,
            EventOutcome::Inbound {
                opted_out: true,
                ..
            }
        ));
        assert!(matches!(
            ledger.status(&bsuid()).await.unwrap(),
            ConsentStatus::OptedOut(_)
        ));
        let err = platform
            .guard
            .send_template(bsuid(), order_template())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, GuardError::NoOptIn { consent, .. } if consent.starts_with("opted out"))
        );
        // The phone number had no message with both ids yet: still opted in.
        assert!(ledger.status(&to()).await.unwrap().is_opted_in());

        // They opt in again by both ids, then a STOP carrying both ids blocks both.
        platform.clock.advance(std::time::Duration::from_mins(1));
        let again = platform.clock.now();
        for id in [Recipient::from(to()), Recipient::from(bsuid())] {
            let opt_in = OptIn::new(&id, OptInSource::App, again, wording).unwrap();
            ledger.record_opt_in(opt_in).await.unwrap();
        }
        stop["waid"] = WAID.into();
        stop["ts"] = (again + time::Duration::minutes(1))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
            .into();
        let event = webhook::parse(stop.to_string().as_bytes()).unwrap();
        platform.guard.handle_event(&event).await.unwrap();
        for id in [Recipient::from(to()), Recipient::from(bsuid())] {
            let err = platform
                .guard
                .send_template(&id, order_template())
                .await
                .unwrap_err();
            assert!(matches!(err, GuardError::NoOptIn { .. }), "{id:?}: {err}");
        }
        assert_eq!(platform.destinations().await.len(), 1);
        let out: OptOut = match ledger.status(WAID).await.unwrap() {
            ConsentStatus::OptedOut(out) => out,
            other => panic!("{other:?}"),
        };
        assert_eq!(out.recipient(), WAID);
    }

    #[tokio::test]
    async fn the_7710_fallback_goes_to_the_bsuid() {
        let platform = Platform::start(|b| b).await;
        platform.inbound(None, "hi").await;
        let outcome = platform
            .guard
            .send_with_fallback(bsuid(), text("It ships today"), order_template())
            .await
            .unwrap();
        let FallbackOutcome::Session { receipt, .. } = outcome else {
            panic!("expected the session message, got {outcome:?}");
        };
        let original = receipt.transaction_id.clone().unwrap();
        assert_eq!(platform.guard.pending_fallbacks().await.unwrap(), 1);

        // The window ended on the platform's side before the message arrived.
        let event = receipt_7710(original.as_str());
        let outcome = platform.guard.handle_event(&event).await.unwrap();
        let EventOutcome::FallbackSent {
            original: failed,
            receipt,
        } = outcome
        else {
            panic!("expected the fallback, got {outcome:?}");
        };
        assert_eq!(failed, original);
        assert_eq!(
            receipt.transaction_id.as_ref().map(TransactionId::as_str),
            Some("t-2")
        );
        let requests = platform.server.received_requests().await.unwrap();
        assert_eq!(requests.len(), 2);
        let template: Value = requests[1].body_json().unwrap();
        assert_eq!(
            platform.destinations().await[1],
            json!([{"bsuid": [BSUID]}])
        );
        assert!(template.to_string().contains(TEMPLATE_ID), "{template}");
        // The same receipt again sends nothing.
        let again = platform.guard.handle_event(&event).await.unwrap();
        assert!(matches!(again, EventOutcome::Receipt));
        assert_eq!(platform.destinations().await.len(), 2);
    }
}
