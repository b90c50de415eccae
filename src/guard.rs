//! A client that refuses the sends WhatsApp would fail minutes later: session messages
//! outside the 24-hour window, templates to people who never opted in, templates whose
//! parameters do not match their definition.
//!
//! [`GuardedClient`] wraps a [`Client`] with [`SessionWindows`], an optional
//! [`OptInLedger`] and an optional [`TemplateRegistry`]:
//!
//! - [`send_session`](GuardedClient::send_session) fails fast with
//!   [`GuardError::WindowClosed`] when the recipient's window is known to be closed (no request
//!   is made). [`allow_closed_window`](GuardedClientBuilder::allow_closed_window) turns this off;
//!   an [`Unknown`](WindowStatus::Unknown) window is allowed unless
//!   [`allow_unknown_window(false)`](GuardedClientBuilder::allow_unknown_window).
//! - [`send_template`](GuardedClient::send_template) checks the message against the registry
//!   and, with a ledger, the recipient's opt-in, before any request.
//! - [`send_with_fallback`](GuardedClient::send_with_fallback) sends the session message when
//!   the window is open and the template otherwise, and says which and why
//!   ([`FallbackOutcome`]). If the session message raced the window's end, its `7710`
//!   receipt, fed to [`handle_event`](GuardedClient::handle_event), sends the template then,
//!   once per original message.
//! - [`handle_event`](GuardedClient::handle_event) is the one line a webhook handler needs:
//!   inbound messages open windows (and a `STOP` records an opt-out in the ledger), receipts
//!   trigger pending fallbacks.
//!
//! Every send takes a [`Recipient`]: a phone number (`&PhoneNumber` works
//! as before) or the business-scoped user id of a user with a username and no phone number.
//! Windows and opt-ins are looked up under the id sent to; an inbound message that carries
//! both ids records them under both, so either id may be answered.
//!
//! ```no_run
//! use webex_connect_whatsapp::client::Client;
//! use webex_connect_whatsapp::guard::{FallbackOutcome, GuardedClient};
//! use webex_connect_whatsapp::conversation::window::SessionWindows;
//! use webex_connect_whatsapp::{AppId, PhoneNumber, SessionMessage, TemplateId, TemplateMessage};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder()
//!     .service_key("my-service-key")
//!     .app_id(AppId::new("a_155054536910425280")?)
//!     .build()?;
//! let guard = GuardedClient::builder(client, SessionWindows::default()).build();
//!
//! // In the webhook handler: `guard.handle_event(&webhook::parse(&body)?).await?;`
//!
//! let to = PhoneNumber::parse("+44 7400 123456")?;
//! let reply = SessionMessage::text("Your order has shipped")?;
//! let template = TemplateMessage::builder(TemplateId::new("5139722425xxxxx")?)
//!     .text("1", "A-1042")
//!     .build()?;
//! match guard.send_with_fallback(&to, reply, template).await? {
//!     FallbackOutcome::Session { .. } => println!("answered in the window"),
//!     FallbackOutcome::Template { reason, .. } => println!("sent the template: {reason}"),
//!     _ => {}
//! }
//! # Ok(()) }
//! ```
//!
//! # Fallbacks that survive
//!
//! The fallbacks waiting for a `7710` live in a [`FallbackStore`]
//! ([`fallback_store`](GuardedClientBuilder::fallback_store); in memory by default, or a
//! [`RedisStore`](crate::conversation::redis::RedisStore) shared by every instance),
//! so the `7710` may reach another instance, or this one after a restart, and still send
//! the template, exactly once: taking a fallback is one atomic step of the store.
//!
//! A taken fallback is sent on its own task: a webhook handler cancelled mid-fallback (its
//! future dropped by a timeout) neither cancels the send nor loses its outcome, and the
//! platform's retry of the receipt finds the fallback taken. Its template carries a
//! correlation id chosen when the session message was sent; a fallback whose send's outcome
//! is unknown (a timeout, a 5xx) or that was interrupted by a crash is never sent again, but
//! reported by [`unfinished_fallbacks`](GuardedClient::unfinished_fallbacks) with that id, to
//! reconcile against delivery receipts.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tracing::Instrument as _;

use crate::client::{Client, Error, SendReceipt, generate_correlation_id};
use crate::conversation::clock::{Clock, SystemClock};
use crate::conversation::fallback::{
    DEFAULT_FALLBACK_RETENTION, FallbackStore, InMemoryFallbackStore, PendingFallback,
    Registration, Take, UnfinishedFallback,
};
use crate::conversation::optin::{
    ConsentStatus, InMemoryOptInStore, OptInError, OptInLedger, OptInStore, OptOut, is_stop_keyword,
};
use crate::conversation::store::{InMemoryWindowStore, StoreError, WindowStore};
use crate::conversation::window::{SessionWindows, WindowStatus};
use crate::ids::TransactionId;
use crate::recipient::Recipient;
use crate::send::Content;
use crate::session::SessionMessage;
use crate::template::TemplateMessage;
use crate::template::{RegistryError, TemplateRegistry};
use crate::webhook::{DeliveryCode, DeliveryStatus, WebhookEvent};

/// Why a guarded send was refused (before any request) or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuardError {
    /// The recipient's 24-hour window is closed, so a session message would fail with 7710.
    #[error(
        "the 24-hour session window for {recipient} closed at {since}, so a session message would fail with 7710; send a template instead"
    )]
    WindowClosed {
        /// The recipient, masked.
        recipient: String,
        /// When the window closed.
        since: OffsetDateTime,
    },
    /// Nothing is known about the recipient's window and unknown windows are refused.
    #[error(
        "no inbound message from {recipient} is known, so the session window may be closed; send a template, or allow unknown windows"
    )]
    WindowUnknown {
        /// The recipient, masked.
        recipient: String,
    },
    /// Opt-in is enforced and the recipient has none (never opted in, or opted out since).
    #[error("{recipient} has no active WhatsApp opt-in ({consent}), so no template is sent")]
    NoOptIn {
        /// The recipient, masked.
        recipient: String,
        /// `never opted in` or `opted out at <time>`.
        consent: String,
    },
    /// The template message does not match its registered definition.
    #[error(transparent)]
    Template(#[from] RegistryError),
    /// The window, opt-in or fallback store failed, so the check (or the fallback's step)
    /// could not be made; nothing was sent.
    #[error("the session window, opt-in or fallback store failed, so nothing was sent: {0}")]
    Store(#[from] StoreError),
    /// An inbound STOP could not be recorded as an opt-out.
    #[error("the inbound opt-out could not be recorded: {0}")]
    OptOut(#[from] OptInError),
    /// The send itself failed; see [`Error`] for whether it may have been queued.
    #[error(transparent)]
    Send(#[from] Error),
    /// The task sending a template fallback stopped before its outcome was known (it
    /// panicked, or the runtime is shutting down). The fallback is never sent again; if it
    /// was taken, [`GuardedClient::unfinished_fallbacks`] reports it with its correlation id.
    #[error(
        "the template fallback for session message {original} was interrupted before its outcome was known; it is not sent again"
    )]
    FallbackInterrupted {
        /// The session message whose fallback it was.
        original: TransactionId,
    },
}

impl GuardError {
    /// Whether the request was refused by a guard before being made (window, opt-in,
    /// registry), as opposed to a store or send failure.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::WindowClosed { .. }
                | Self::WindowUnknown { .. }
                | Self::NoOptIn { .. }
                | Self::Template(_)
        )
    }
}

/// Why a template was sent instead of a session message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FallbackReason {
    /// The window was closed at the time of sending.
    WindowClosed {
        /// When it closed.
        since: OffsetDateTime,
    },
    /// Nothing was known about the window, so the template (which is always allowed) went.
    WindowUnknown,
    /// The session message was sent, but its `7710` receipt showed the window had ended.
    SessionRaced {
        /// The session message's transaction id.
        original: TransactionId,
    },
}

impl fmt::Display for FallbackReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WindowClosed { since } => write!(f, "the session window closed at {since}"),
            Self::WindowUnknown => f.write_str("the session window is unknown"),
            Self::SessionRaced { original } => write!(
                f,
                "session message {original} failed with 7710: the window ended before it arrived"
            ),
        }
    }
}

/// What [`GuardedClient::send_with_fallback`] sent, and why.
///
/// Two outcomes are equal when their fields are; errors, which have no equality, are
/// compared by their messages.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FallbackOutcome {
    /// The window was open: the session message went. If it fails with 7710 all the same,
    /// [`GuardedClient::handle_event`] sends the template.
    Session {
        /// The platform's answer.
        receipt: SendReceipt,
        /// Until when the window was open.
        until: OffsetDateTime,
    },
    /// The template went instead.
    Template {
        /// The platform's answer.
        receipt: SendReceipt,
        /// Why.
        reason: FallbackReason,
    },
    /// The window was open and the session message went (do not send it again), but the
    /// fallback store failed to keep its template: a `7710` for it will not send the
    /// template. Watch its receipts yourself, or send the template if the answer matters.
    SessionWithoutFallback {
        /// The platform's answer.
        receipt: SendReceipt,
        /// Until when the window was open.
        until: OffsetDateTime,
        /// Why the fallback was not kept.
        error: Arc<StoreError>,
    },
}

impl PartialEq for FallbackOutcome {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                Self::Session { receipt, until },
                Self::Session {
                    receipt: r,
                    until: u,
                },
            ) => receipt == r && until == u,
            (
                Self::Template { receipt, reason },
                Self::Template {
                    receipt: r,
                    reason: why,
                },
            ) => receipt == r && reason == why,
            (
                Self::SessionWithoutFallback {
                    receipt,
                    until,
                    error,
                },
                Self::SessionWithoutFallback {
                    receipt: r,
                    until: u,
                    error: e,
                },
            ) => receipt == r && until == u && error.to_string() == e.to_string(),
            _ => false,
        }
    }
}

impl Eq for FallbackOutcome {}

impl FallbackOutcome {
    /// The platform's answer for whichever message was sent.
    pub fn receipt(&self) -> &SendReceipt {
        match self {
            Self::Session { receipt, .. }
            | Self::Template { receipt, .. }
            | Self::SessionWithoutFallback { receipt, .. } => receipt,
        }
    }

    /// Whether the template was sent.
    pub fn is_template(&self) -> bool {
        matches!(self, Self::Template { .. })
    }
}

/// What [`GuardedClient::handle_event`] did with one webhook event.
#[derive(Debug)]
#[non_exhaustive]
pub enum EventOutcome {
    /// An inbound message: the sender's window is now `window`.
    Inbound {
        /// The window after recording the message.
        window: WindowStatus,
        /// Whether the message was a stop keyword recorded as an opt-out.
        opted_out: bool,
    },
    /// A `7710` receipt for a session message with a pending fallback: the template went.
    FallbackSent {
        /// The session message that failed.
        original: TransactionId,
        /// The template's answer.
        receipt: SendReceipt,
    },
    /// A `7710` receipt for a session message with a pending fallback, but the template send
    /// failed (or was refused). The fallback is not tried again; when the send's outcome is
    /// unknown ([`Error::is_outcome_unknown`]), the template may have been queued, and
    /// [`GuardedClient::unfinished_fallbacks`] keeps reporting it until it is
    /// [forgotten](GuardedClient::forget_fallback).
    FallbackFailed {
        /// The session message that failed.
        original: TransactionId,
        /// Why the template did not go.
        error: GuardError,
    },
    /// Any other receipt (including a repeated `7710` whose fallback was already taken, by
    /// this instance or another, and a `7710` that overtook its send's response: that send
    /// then sends the template itself and returns [`FallbackReason::SessionRaced`]).
    Receipt,
    /// A link click ([`WebhookEvent::Click`]); nothing was changed.
    Click,
    /// An event the crate does not model ([`WebhookEvent::Unknown`]); nothing was changed.
    Unknown,
}

struct Inner<W, C, O, F> {
    /// The settings as built; the builder holds exactly what the client needs.
    config: GuardedClientBuilder<W, C, O, F>,
}

/// A [`Client`] that checks windows, opt-ins and templates before sending; build it with
/// [`GuardedClient::builder`]. Cloning is cheap and clones share all state.
///
/// `W`, `C` and `O` are the window store, clock and opt-in store; `F` is where pending
/// template fallbacks are kept ([`FallbackStore`]). See the [module docs](self) for an
/// example.
pub struct GuardedClient<
    W = InMemoryWindowStore,
    C = SystemClock,
    O = InMemoryOptInStore,
    F = InMemoryFallbackStore,
> {
    inner: Arc<Inner<W, C, O, F>>,
}

impl<W, C, O, F> Clone for GuardedClient<W, C, O, F> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<W, C, O, F> fmt::Debug for GuardedClient<W, C, O, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.config.fmt_settings("GuardedClient", f)
    }
}

/// Configures a [`GuardedClient`]; [`build`](Self::build) cannot fail.
#[must_use]
pub struct GuardedClientBuilder<W, C, O, F = InMemoryFallbackStore> {
    client: Client,
    windows: Arc<SessionWindows<W, C>>,
    ledger: Option<Arc<OptInLedger<O>>>,
    enforce_opt_in: bool,
    registry: Option<Arc<TemplateRegistry>>,
    allow_closed_window: bool,
    allow_unknown_window: bool,
    fallbacks: Arc<F>,
    fallback_retention: Duration,
}

impl<W, C, O, F> fmt::Debug for GuardedClientBuilder<W, C, O, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_settings("GuardedClientBuilder", f)
    }
}

impl<W, C, O, F> GuardedClientBuilder<W, C, O, F> {
    /// The settings, as `name` (a built client holds its builder, so both show the same):
    /// the client, flags, a count and a duration. The stores are left out: they hold
    /// recipients.
    fn fmt_settings(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name)
            .field("client", &self.client)
            .field("opt_in_ledger", &self.ledger.is_some())
            .field("enforce_opt_in", &self.enforce_opt_in)
            .field("registry", &self.registry.as_ref().map(|r| r.len()))
            .field("allow_closed_window", &self.allow_closed_window)
            .field("allow_unknown_window", &self.allow_unknown_window)
            .field("fallback_retention", &self.fallback_retention)
            .finish_non_exhaustive()
    }
}

impl<W: WindowStore, C: Clock> GuardedClient<W, C, InMemoryOptInStore> {
    /// Starts a guarded client over `client` and `windows` (pass an `Arc` to share the
    /// windows with other code).
    pub fn builder(
        client: Client,
        windows: impl Into<Arc<SessionWindows<W, C>>>,
    ) -> GuardedClientBuilder<W, C, InMemoryOptInStore> {
        GuardedClientBuilder {
            client,
            windows: windows.into(),
            ledger: None,
            enforce_opt_in: false,
            registry: None,
            allow_closed_window: false,
            allow_unknown_window: true,
            fallbacks: Arc::new(InMemoryFallbackStore::default()),
            fallback_retention: DEFAULT_FALLBACK_RETENTION,
        }
    }
}

impl<W, C, O> GuardedClientBuilder<W, C, O, InMemoryFallbackStore> {
    crate::setters::setters! {
        /// Keeps pending fallbacks in this process, at most `max` of them (default
        /// [`DEFAULT_FALLBACK_CAPACITY`](crate::conversation::fallback::DEFAULT_FALLBACK_CAPACITY));
        /// beyond it the oldest are forgotten. For several instances, or to survive a restart,
        /// use a shared [`fallback_store`](Self::fallback_store) instead.
        fn max_pending_fallbacks(self, max: usize) =>
            self.fallbacks = Arc::new(InMemoryFallbackStore::new(max));
    }
}

impl<W, C, O, F> GuardedClientBuilder<W, C, O, F> {
    /// Uses `ledger`: inbound stop keywords are recorded in it, and template sends require an
    /// active opt-in (unless [`enforce_opt_in(false)`](Self::enforce_opt_in)).
    pub fn opt_in_ledger<O2: OptInStore>(
        self,
        ledger: impl Into<Arc<OptInLedger<O2>>>,
    ) -> GuardedClientBuilder<W, C, O2, F> {
        GuardedClientBuilder {
            client: self.client,
            windows: self.windows,
            ledger: Some(ledger.into()),
            enforce_opt_in: true,
            registry: self.registry,
            allow_closed_window: self.allow_closed_window,
            allow_unknown_window: self.allow_unknown_window,
            fallbacks: self.fallbacks,
            fallback_retention: self.fallback_retention,
        }
    }

    /// Keeps the template fallbacks that wait for a `7710` in `store` (pass an `Arc` or a
    /// clone of a shared store to share it with other code), for example a
    /// [`RedisStore`](crate::conversation::redis::RedisStore) that every instance
    /// uses: a `7710` handled by any of them, or by a restarted process, then sends the
    /// fallback, once. The default keeps them in this process
    /// ([`InMemoryFallbackStore`]).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use webex_connect_whatsapp::client::Client;
    /// use webex_connect_whatsapp::conversation::fallback::InMemoryFallbackStore;
    /// use webex_connect_whatsapp::conversation::window::SessionWindows;
    /// use webex_connect_whatsapp::guard::GuardedClient;
    /// use webex_connect_whatsapp::AppId;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = Client::builder()
    ///     .service_key("my-service-key")
    ///     .app_id(AppId::new("a_155054536910425280")?)
    ///     .base_url("http://127.0.0.1:8080".parse()?)
    ///     .build()?;
    /// // Two guards in one process sharing their fallbacks; across processes, pass a
    /// // `RedisStore` (feature `redis`) instead.
    /// let fallbacks = Arc::new(InMemoryFallbackStore::new(10_000));
    /// let windows = Arc::new(SessionWindows::default());
    /// let a = GuardedClient::builder(client.clone(), Arc::clone(&windows))
    ///     .fallback_store(Arc::clone(&fallbacks))
    ///     .build();
    /// let b = GuardedClient::builder(client, windows)
    ///     .fallback_store(fallbacks)
    ///     .build();
    /// # let _ = (a, b);
    /// # Ok(()) }
    /// ```
    pub fn fallback_store<F2: FallbackStore>(self, store: F2) -> GuardedClientBuilder<W, C, O, F2> {
        GuardedClientBuilder {
            client: self.client,
            windows: self.windows,
            ledger: self.ledger,
            enforce_opt_in: self.enforce_opt_in,
            registry: self.registry,
            allow_closed_window: self.allow_closed_window,
            allow_unknown_window: self.allow_unknown_window,
            fallbacks: Arc::new(store),
            fallback_retention: self.fallback_retention,
        }
    }

    crate::setters::setters! {
        /// Checks every template send against `registry` before sending.
        fn registry(self, registry: impl Into<Arc<TemplateRegistry>>) =>
            self.registry = Some(registry.into());

        /// Whether template sends require an active opt-in in the ledger (default: yes once a
        /// ledger is set; without a ledger nothing is enforced).
        fn enforce_opt_in(self, enforce: bool) => self.enforce_opt_in = enforce;

        /// Lets session messages go to recipients whose window is known to be closed
        /// (default: refused with [`GuardError::WindowClosed`]). For callers who know better,
        /// e.g. from another source of inbound messages.
        fn allow_closed_window(self, allow: bool) => self.allow_closed_window = allow;

        /// Whether session messages may go to recipients with no known window (default: yes,
        /// since the windows may have been fed only since the last restart).
        fn allow_unknown_window(self, allow: bool) => self.allow_unknown_window = allow;

        /// How long a fallback record is kept after its last change (default
        /// [`DEFAULT_FALLBACK_RETENTION`], 24 hours): a pending fallback whose `7710` has
        /// not come by then is dropped, and an [unfinished](GuardedClient::unfinished_fallbacks)
        /// one is reported until then. A zero retention makes every fallback change fail with
        /// [`StoreError::InvalidTtl`].
        fn fallback_retention(self, retention: Duration) => self.fallback_retention = retention;
    }

    /// Finishes the client (nothing here can fail: the client and the windows were checked
    /// when they were built).
    pub fn build(self) -> GuardedClient<W, C, O, F> {
        GuardedClient {
            inner: Arc::new(Inner { config: self }),
        }
    }
}

impl<W: WindowStore, C: Clock, O: OptInStore, F: FallbackStore> GuardedClient<W, C, O, F> {
    /// The wrapped client, for sends that need no guard.
    pub fn client(&self) -> &Client {
        &self.inner.config.client
    }

    /// The session windows.
    pub fn windows(&self) -> &SessionWindows<W, C> {
        &self.inner.config.windows
    }

    /// The opt-in ledger, if one is set.
    pub fn opt_in_ledger(&self) -> Option<&OptInLedger<O>> {
        self.inner.config.ledger.as_deref()
    }

    /// The template registry, if one is set.
    pub fn registry(&self) -> Option<&TemplateRegistry> {
        self.inner.config.registry.as_deref()
    }

    /// Where the template fallbacks are kept.
    pub fn fallback_store(&self) -> &F {
        &self.inner.config.fallbacks
    }

    /// How many session messages wait for a possible `7710` fallback.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the fallback store fails.
    pub async fn pending_fallbacks(&self) -> Result<usize, StoreError> {
        self.fallback_store().pending(self.now()).await
    }

    /// The fallbacks taken for sending whose outcome is not known: still being sent, sent
    /// with an unknown outcome, or interrupted by a crash. They are never sent again; look
    /// for each one's correlation id in delivery receipts (or your send journal), then
    /// [`forget_fallback`](Self::forget_fallback) it.
    ///
    /// ```
    /// # async fn run(guard: webex_connect_whatsapp::guard::GuardedClient) -> Result<(), Box<dyn std::error::Error>> {
    /// for unfinished in guard.unfinished_fallbacks().await? {
    ///     println!(
    ///         "the template for {} may have been sent: look for correlation id {}",
    ///         unfinished.original, unfinished.correlation_id
    ///     );
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the fallback store fails.
    pub async fn unfinished_fallbacks(&self) -> Result<Vec<UnfinishedFallback>, StoreError> {
        self.fallback_store().unfinished(self.now()).await
    }

    /// Drops whatever is kept for the session message `original`: a pending fallback (which
    /// is then never sent) or an unfinished one once reconciled. Returns whether there was
    /// anything.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the fallback store fails.
    pub async fn forget_fallback(&self, original: &TransactionId) -> Result<bool, StoreError> {
        self.fallback_store().forget(original).await
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.config.windows.clock().now()
    }

    /// Sends a session message to `to` (a [`Recipient`], or a `&PhoneNumber` / [`Bsuid`]),
    /// unless its window is known to be closed (or unknown, when unknown windows are
    /// refused). The window is looked up under the id sent to, so a username user addressed
    /// by BSUID is answered in the window their messages opened.
    ///
    /// [`Bsuid`]: crate::Bsuid
    ///
    /// # Errors
    ///
    /// [`GuardError::WindowClosed`] / [`GuardError::WindowUnknown`] before any request;
    /// [`GuardError::Store`] when the window store fails; [`GuardError::Send`] from the client.
    pub async fn send_session(
        &self,
        to: impl Into<Recipient>,
        message: SessionMessage,
    ) -> Result<SendReceipt, GuardError> {
        let to = to.into();
        self.check_window(&to).await?;
        Ok(self.inner.config.client.send(&to, message).await?)
    }

    /// Refuses a session message when the window is closed or, if so configured, unknown.
    async fn check_window(&self, to: &Recipient) -> Result<(), GuardError> {
        match self.inner.config.windows.status(to).await? {
            WindowStatus::Closed { since } if !self.inner.config.allow_closed_window => {
                Err(GuardError::WindowClosed {
                    recipient: to.masked(),
                    since,
                })
            }
            WindowStatus::Unknown if !self.inner.config.allow_unknown_window => {
                Err(GuardError::WindowUnknown {
                    recipient: to.masked(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Sends a template message to `to` (a [`Recipient`], or a `&PhoneNumber` / `Bsuid`)
    /// after checking it against the registry (when set) and the recipient's opt-in under
    /// that id (when enforced).
    ///
    /// # Errors
    ///
    /// [`GuardError::Template`] or [`GuardError::NoOptIn`] before any request;
    /// [`GuardError::Store`] when the ledger fails; [`GuardError::Send`] from the client.
    pub async fn send_template(
        &self,
        to: impl Into<Recipient>,
        message: TemplateMessage,
    ) -> Result<SendReceipt, GuardError> {
        self.check_template(&message)?;
        let to = to.into();
        self.check_opt_in(&to).await?;
        Ok(self.inner.config.client.send(&to, message).await?)
    }

    /// Sends either kind of content through its guard.
    ///
    /// # Errors
    ///
    /// As [`send_session`](Self::send_session) or [`send_template`](Self::send_template).
    pub async fn send(
        &self,
        to: impl Into<Recipient>,
        content: impl Into<Content>,
    ) -> Result<SendReceipt, GuardError> {
        match content.into() {
            Content::Session(message) => self.send_session(to, message).await,
            Content::Template(message) => self.send_template(to, message).await,
        }
    }

    /// Checks a template message against the registry, if one is set.
    ///
    /// # Errors
    ///
    /// [`GuardError::Template`] naming the template, the parameter and the rule.
    pub fn check_template(&self, message: &TemplateMessage) -> Result<(), GuardError> {
        if let Some(registry) = &self.inner.config.registry {
            registry.check(message)?;
        }
        Ok(())
    }

    /// Refuses a template when opt-in is enforced and `to` has no active opt-in under the id
    /// sent to.
    async fn check_opt_in(&self, to: &Recipient) -> Result<(), GuardError> {
        let Some(ledger) = self
            .inner
            .config
            .ledger
            .as_deref()
            .filter(|_| self.inner.config.enforce_opt_in)
        else {
            return Ok(());
        };
        let consent = match ledger.status(to).await? {
            ConsentStatus::OptedIn(_) => return Ok(()),
            ConsentStatus::OptedOut(out) => format!("opted out at {}", out.at()),
            _ => "never opted in".to_owned(),
        };
        Err(GuardError::NoOptIn {
            recipient: to.masked(),
            consent,
        })
    }

    /// Checks the template of a fallback about to be sent: the registry, and the opt-in of
    /// its recipient when enforced.
    async fn check_fallback(&self, fallback: &PendingFallback) -> Result<(), GuardError> {
        self.check_template(fallback.template())?;
        self.check_opt_in(fallback.to()).await
    }

    /// Sends a taken fallback's template with its correlation id, and records in the store
    /// that its outcome is known, unless it is not (then it stays
    /// [unfinished](Self::unfinished_fallbacks)). Runs on the fallback's own task.
    async fn send_fallback(
        &self,
        original: &TransactionId,
        fallback: PendingFallback,
        now: OffsetDateTime,
    ) -> Result<SendReceipt, GuardError> {
        let (to, template, correlation_id) = fallback.into_parts();
        let sent = self
            .inner
            .config
            .client
            .message(&to, template)
            .correlation_id(correlation_id.clone())
            .send()
            .await;
        match &sent {
            Err(error) if error.is_outcome_unknown() => {
                tracing::warn!(
                    %original,
                    correlation_id = correlation_id.as_str(),
                    "the template fallback's outcome is unknown; it is not sent again and stays unfinished"
                );
            }
            _ => self.finish_fallback(original, now).await,
        }
        Ok(sent?)
    }

    /// Records that a taken fallback's outcome is known. A failure only leaves it reported
    /// as unfinished, so it is logged, not returned.
    async fn finish_fallback(&self, original: &TransactionId, now: OffsetDateTime) {
        let retention = self.inner.config.fallback_retention;
        if let Err(error) = self.fallback_store().finish(original, now, retention).await {
            tracing::warn!(%original, %error, "could not record the template fallback as finished; it stays reported as unfinished");
        }
    }
}

/// The parts of a guarded client that run a fallback on its own task, so they need owned,
/// `'static` state.
impl<W, C, O, F> GuardedClient<W, C, O, F>
where
    W: WindowStore + 'static,
    C: Clock + 'static,
    O: OptInStore + 'static,
    F: FallbackStore + 'static,
{
    /// Sends `session` when `to`'s window is open, else `template`; says which and why. `to`
    /// is a [`Recipient`] (or a `&PhoneNumber` / `Bsuid`); a fallback after `7710` goes to the
    /// same id.
    ///
    /// The template is checked against the registry first, whichever is sent, so a later
    /// fallback cannot fail on it. When the session message goes, its template is kept in
    /// the [fallback store](GuardedClientBuilder::fallback_store) under the message's
    /// transaction id, with a correlation id chosen now: a `7710` receipt for it, given to
    /// [`handle_event`](Self::handle_event) on this instance or another, sends the template
    /// then. If that receipt was handled before this call got its response (receipts can
    /// overtake responses), the template is sent here and the outcome is a
    /// [`FallbackOutcome::Template`] with [`FallbackReason::SessionRaced`]. If the store
    /// fails to keep the template, the outcome is
    /// [`FallbackOutcome::SessionWithoutFallback`]: the session message went, and must not be
    /// sent again. An unknown window sends the template (it is always allowed; the session
    /// message would probably fail).
    ///
    /// # Errors
    ///
    /// As [`send_template`](Self::send_template) and [`send_session`](Self::send_session);
    /// [`GuardError::FallbackInterrupted`] when the raced fallback's task stopped.
    pub async fn send_with_fallback(
        &self,
        to: impl Into<Recipient>,
        session: SessionMessage,
        template: TemplateMessage,
    ) -> Result<FallbackOutcome, GuardError> {
        let to = to.into();
        self.check_template(&template)?;
        let reason = match self.inner.config.windows.status(&to).await? {
            WindowStatus::Open { until } => {
                let receipt = self.inner.config.client.send(&to, session).await?;
                let Some(transid) = receipt.transaction_id.clone() else {
                    return Ok(FallbackOutcome::Session { receipt, until });
                };
                let fallback = PendingFallback::new(to, template, generate_correlation_id());
                let now = self.now();
                let registered = self
                    .fallback_store()
                    .register(
                        &transid,
                        &fallback,
                        now,
                        self.inner.config.fallback_retention,
                    )
                    .await;
                return match registered {
                    // Its 7710 receipt overtook the response: the fallback is taken and due.
                    Ok(Registration::Due) => {
                        let receipt = self.send_due(transid.clone(), fallback, now).await?;
                        let reason = FallbackReason::SessionRaced { original: transid };
                        Ok(FallbackOutcome::Template { receipt, reason })
                    }
                    Ok(_) => Ok(FallbackOutcome::Session { receipt, until }),
                    Err(error) => {
                        tracing::warn!(%transid, %error, "the session message went, but its template fallback could not be kept");
                        Ok(FallbackOutcome::SessionWithoutFallback {
                            receipt,
                            until,
                            error: Arc::new(error),
                        })
                    }
                };
            }
            WindowStatus::Closed { since } => FallbackReason::WindowClosed { since },
            _ => FallbackReason::WindowUnknown,
        };
        let receipt = self.send_template(to, template).await?;
        Ok(FallbackOutcome::Template { receipt, reason })
    }

    /// Sends a fallback that [`Registration::Due`] took, on its own task (see
    /// [`detached`](Self::detached)). A refusal or a store failure in its checks finishes it:
    /// it was certainly not sent.
    async fn send_due(
        &self,
        original: TransactionId,
        fallback: PendingFallback,
        now: OffsetDateTime,
    ) -> Result<SendReceipt, GuardError> {
        let guard = self.clone();
        self.detached(original.clone(), async move {
            if let Err(error) = guard.check_fallback(&fallback).await {
                guard.finish_fallback(&original, now).await;
                return Err(error);
            }
            guard.send_fallback(&original, fallback, now).await
        })
        .await
    }

    /// Runs `job` on its own task and waits for it. Dropping the caller (a webhook handler
    /// cancelled by a timeout) does not cancel the job: a taken fallback is sent, and its
    /// outcome recorded, whatever happens to the caller.
    async fn detached<T: Send + 'static>(
        &self,
        original: TransactionId,
        job: impl Future<Output = Result<T, GuardError>> + Send + 'static,
    ) -> Result<T, GuardError> {
        match tokio::spawn(job.in_current_span()).await {
            Ok(result) => result,
            Err(_) => Err(GuardError::FallbackInterrupted { original }),
        }
    }

    /// After a `7710` for `original`: takes its fallback and sends it, on its own task.
    ///
    /// The checks run first, before anything changes, so a store failure leaves the fallback
    /// pending for the platform's retry of the receipt; a refusal is final. Only a fallback
    /// registered between the look and the take is checked after taking it.
    async fn take_fallback(&self, original: &TransactionId) -> Result<EventOutcome, GuardError> {
        let now = self.now();
        let (checked, refusal) = match self.fallback_store().peek(original, now).await? {
            Some(fallback) => match self.check_fallback(&fallback).await {
                Ok(()) => (true, None),
                Err(refusal) if refusal.is_refusal() => (true, Some(refusal)),
                Err(error) => return Err(error),
            },
            None => (false, None),
        };
        let guard = self.clone();
        let original = original.clone();
        self.detached(original.clone(), async move {
            let retention = guard.inner.config.fallback_retention;
            let taken = guard
                .fallback_store()
                .take(&original, now, retention)
                .await?;
            let Take::Taken(fallback) = taken else {
                return Ok(EventOutcome::Receipt);
            };
            let refusal = match refusal {
                Some(refusal) => Some(refusal),
                None if !checked => guard.check_fallback(&fallback).await.err(),
                None => None,
            };
            if let Some(error) = refusal {
                guard.finish_fallback(&original, now).await;
                return Ok(EventOutcome::FallbackFailed { original, error });
            }
            Ok(match guard.send_fallback(&original, fallback, now).await {
                Ok(receipt) => EventOutcome::FallbackSent { original, receipt },
                Err(error) => EventOutcome::FallbackFailed { original, error },
            })
        })
        .await
    }

    /// Takes one parsed webhook event into account:
    ///
    /// - an inbound message records the sender's window (at its `ts`, else now) and, with a
    ///   ledger, records a stop keyword (`STOP`, `UNSUBSCRIBE`...) as an opt-out, both under
    ///   every id the sender has ([`SessionWindows::record_message`]): a user who wrote with a
    ///   phone number and a BSUID can be answered through either, and their STOP blocks both;
    /// - a `7710` receipt for a session message sent by
    ///   [`send_with_fallback`](Self::send_with_fallback) sends its template, once, whichever
    ///   instance sharing the fallback store handles it: a repeated receipt finds the
    ///   fallback taken. Other final receipts discard the pending fallback.
    ///
    /// The template goes on its own task: if this call is cancelled (its future dropped)
    /// after the fallback was taken, the template is still sent once and its outcome
    /// recorded. If it is cancelled before, the fallback is still pending and the platform's
    /// retry of the receipt (it got no answer) sends it.
    ///
    /// Deduplicate events first if you can
    /// ([`DedupeKey::from_event`](crate::conversation::dedupe::DedupeKey::from_event));
    /// the fallback is sent once either way.
    ///
    /// # Errors
    ///
    /// [`GuardError::Store`] when the window, opt-in or fallback store fails (answer so that
    /// the platform retries: nothing was lost), [`GuardError::OptOut`] when the sender id is
    /// not a valid id, [`GuardError::FallbackInterrupted`] when the fallback's task stopped.
    /// A failed fallback send is not an error here but [`EventOutcome::FallbackFailed`].
    pub async fn handle_event(&self, event: &WebhookEvent) -> Result<EventOutcome, GuardError> {
        match event {
            WebhookEvent::Inbound(message) => {
                // A sender with both a phone number and a BSUID may be answered through either,
                // so the window (and an opt-out) is kept under each id.
                let window = self.inner.config.windows.record_message(message).await?;
                let mut opted_out = false;
                if let Some(ledger) = &self.inner.config.ledger
                    && message.text().is_some_and(is_stop_keyword)
                {
                    // Its `ts`, no later than now: a STOP dated tomorrow must not outrank
                    // an opt-in recorded today.
                    let at = self.inner.config.windows.received_at(message);
                    // Every id is checked before anything is written, so a refused id leaves
                    // no half-recorded opt-out behind.
                    let opt_outs = message
                        .sender_ids()
                        .map(|id| OptOut::stop_keyword(id, at))
                        .collect::<Result<Vec<_>, _>>()?;
                    opted_out = !opt_outs.is_empty();
                    for opt_out in opt_outs {
                        ledger.record_opt_out(opt_out).await?;
                    }
                }
                Ok(EventOutcome::Inbound { window, opted_out })
            }
            WebhookEvent::DeliveryReceipt(receipt) => {
                let Some(transid) = receipt.transaction_id() else {
                    return Ok(EventOutcome::Receipt);
                };
                if *receipt.code() == DeliveryCode::ReEngagement {
                    return self.take_fallback(transid).await;
                }
                if matches!(
                    receipt.status(),
                    DeliveryStatus::Delivered | DeliveryStatus::Read | DeliveryStatus::Failed
                ) {
                    self.fallback_store().discard(transid, self.now()).await?;
                }
                Ok(EventOutcome::Receipt)
            }
            WebhookEvent::Click(_) => Ok(EventOutcome::Click),
            _ => Ok(EventOutcome::Unknown),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AppId;

    #[test]
    fn the_builder_and_its_client_show_the_same_settings() {
        let client = Client::builder()
            .service_key("secret-service-key")
            .app_id(AppId::new("a_155054536910425280").unwrap())
            .base_url("http://127.0.0.1:9".parse().unwrap())
            .build()
            .unwrap();
        let builder = GuardedClient::builder(client, SessionWindows::default())
            .allow_unknown_window(false)
            .fallback_retention(Duration::from_mins(1));
        let shown = format!("{builder:?}");
        assert!(shown.starts_with("GuardedClientBuilder {"), "{shown}");
        assert!(shown.contains("allow_unknown_window: false"), "{shown}");
        assert!(shown.contains("fallback_retention: 60s"), "{shown}");
        assert!(!shown.contains("secret-service-key"), "{shown}");
        let guard = builder.build();
        assert_eq!(
            format!("{guard:?}"),
            shown.replacen("GuardedClientBuilder", "GuardedClient", 1)
        );
    }
}
