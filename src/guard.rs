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

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use time::OffsetDateTime;

use crate::client::{Client, Error, SendReceipt};
use crate::conversation::bounded::BoundedMap;
use crate::conversation::clock::{Clock, SystemClock};
use crate::conversation::optin::{
    ConsentStatus, InMemoryOptInStore, OptInError, OptInLedger, OptInStore, OptOut, is_stop_keyword,
};
use crate::conversation::store::{InMemoryWindowStore, StoreError, WindowStore};
use crate::conversation::window::{SessionWindows, WindowStatus};
use crate::ids::TransactionId;
use crate::recipient::Recipient;
use crate::send::Content;
use crate::session::SessionMessage;
use crate::setters::value_setters;
use crate::template::TemplateMessage;
use crate::template::registry::{RegistryError, TemplateRegistry};
use crate::webhook::{DeliveryCode, DeliveryStatus, WebhookEvent};

/// How many session messages with a pending template fallback are remembered by default.
pub const DEFAULT_MAX_PENDING_FALLBACKS: usize = 100_000;

/// How many 7710 receipts that arrived before their send's response are remembered.
const MAX_EARLY_FAILURES: usize = 1024;

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
    /// The window or opt-in store failed, so the check could not be made; nothing was sent.
    #[error("the session window or opt-in store failed, so nothing was sent: {0}")]
    Store(#[from] StoreError),
    /// An inbound STOP could not be recorded as an opt-out.
    #[error("the inbound opt-out could not be recorded: {0}")]
    OptOut(#[from] OptInError),
    /// The send itself failed; see [`Error`] for whether it may have been queued.
    #[error(transparent)]
    Send(#[from] Error),
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl FallbackOutcome {
    /// The platform's answer for whichever message was sent.
    pub fn receipt(&self) -> &SendReceipt {
        match self {
            Self::Session { receipt, .. } | Self::Template { receipt, .. } => receipt,
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
    /// failed (or was refused). The fallback is not tried again.
    FallbackFailed {
        /// The session message that failed.
        original: TransactionId,
        /// Why the template did not go.
        error: GuardError,
    },
    /// Any other receipt (including a repeated `7710` whose fallback was already sent, and a
    /// `7710` that overtook its send's response: that send then sends the template itself and
    /// returns [`FallbackReason::SessionRaced`]).
    Receipt,
    /// A link click ([`WebhookEvent::Click`]); nothing was changed.
    Click,
    /// An event the crate does not model ([`WebhookEvent::Unknown`]); nothing was changed.
    Unknown,
}

struct Pending {
    to: Recipient,
    template: TemplateMessage,
}

/// Session messages whose template fallback waits for their receipts; bounded, oldest
/// dropped first.
struct PendingFallbacks {
    by_transid: BoundedMap<TransactionId, Pending>,
    /// 7710 receipts for ids not (yet) pending: a receipt can overtake the send's own
    /// response, so the send looks here once it knows its transid.
    early_failures: BoundedMap<TransactionId, ()>,
}

impl PendingFallbacks {
    fn new(max: usize) -> Self {
        Self {
            by_transid: BoundedMap::new(max),
            early_failures: BoundedMap::new(max.min(MAX_EARLY_FAILURES)),
        }
    }

    fn insert(&mut self, transid: TransactionId, pending: Pending) {
        self.by_transid.insert(transid, pending, ());
    }

    fn remember_early_failure(&mut self, transid: &TransactionId) {
        if self.early_failures.get(transid).is_none() {
            self.early_failures.insert(transid.clone(), (), ());
        }
    }

    fn take_early_failure(&mut self, transid: &TransactionId) -> bool {
        self.early_failures.remove(transid).is_some()
    }

    fn take(&mut self, transid: &TransactionId) -> Option<Pending> {
        self.by_transid.remove(transid)
    }
}

struct Inner<W, C, O> {
    /// The settings as built; the builder holds exactly what the client needs.
    config: GuardedClientBuilder<W, C, O>,
    pending: Mutex<PendingFallbacks>,
}

/// A [`Client`] that checks windows, opt-ins and templates before sending; build it with
/// [`GuardedClient::builder`]. Cloning is cheap and clones share all state.
///
/// See the [module docs](self) for an example.
pub struct GuardedClient<W = InMemoryWindowStore, C = SystemClock, O = InMemoryOptInStore> {
    inner: Arc<Inner<W, C, O>>,
}

impl<W, C, O> Clone for GuardedClient<W, C, O> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<W, C, O> fmt::Debug for GuardedClient<W, C, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedClient")
            .field("client", &self.inner.config.client)
            .field("opt_in_ledger", &self.inner.config.ledger.is_some())
            .field("enforce_opt_in", &self.inner.config.enforce_opt_in)
            .field(
                "registry",
                &self.inner.config.registry.as_ref().map(|r| r.len()),
            )
            .field(
                "allow_closed_window",
                &self.inner.config.allow_closed_window,
            )
            .field(
                "allow_unknown_window",
                &self.inner.config.allow_unknown_window,
            )
            .finish_non_exhaustive()
    }
}

/// Configures a [`GuardedClient`]; [`build`](Self::build) cannot fail.
#[must_use]
pub struct GuardedClientBuilder<W, C, O> {
    client: Client,
    windows: Arc<SessionWindows<W, C>>,
    ledger: Option<Arc<OptInLedger<O>>>,
    enforce_opt_in: bool,
    registry: Option<Arc<TemplateRegistry>>,
    allow_closed_window: bool,
    allow_unknown_window: bool,
    max_pending: usize,
}

impl<W, C, O> fmt::Debug for GuardedClientBuilder<W, C, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedClientBuilder")
            .field("client", &self.client)
            .field("allow_closed_window", &self.allow_closed_window)
            .field("allow_unknown_window", &self.allow_unknown_window)
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
            max_pending: DEFAULT_MAX_PENDING_FALLBACKS,
        }
    }
}

impl<W, C, O> GuardedClientBuilder<W, C, O> {
    /// Uses `ledger`: inbound stop keywords are recorded in it, and template sends require an
    /// active opt-in (unless [`enforce_opt_in(false)`](Self::enforce_opt_in)).
    pub fn opt_in_ledger<O2: OptInStore>(
        self,
        ledger: impl Into<Arc<OptInLedger<O2>>>,
    ) -> GuardedClientBuilder<W, C, O2> {
        GuardedClientBuilder {
            client: self.client,
            windows: self.windows,
            ledger: Some(ledger.into()),
            enforce_opt_in: true,
            registry: self.registry,
            allow_closed_window: self.allow_closed_window,
            allow_unknown_window: self.allow_unknown_window,
            max_pending: self.max_pending,
        }
    }

    /// Checks every template send against `registry` before sending.
    pub fn registry(mut self, registry: impl Into<Arc<TemplateRegistry>>) -> Self {
        self.registry = Some(registry.into());
        self
    }

    value_setters! {
        /// Whether template sends require an active opt-in in the ledger (default: yes once a
        /// ledger is set; without a ledger nothing is enforced).
        fn enforce_opt_in(enforce: bool) => enforce_opt_in;

        /// Lets session messages go to recipients whose window is known to be closed
        /// (default: refused with [`GuardError::WindowClosed`]). For callers who know better,
        /// e.g. from another source of inbound messages.
        fn allow_closed_window(allow: bool) => allow_closed_window;

        /// Whether session messages may go to recipients with no known window (default: yes,
        /// since the windows may have been fed only since the last restart).
        fn allow_unknown_window(allow: bool) => allow_unknown_window;

        /// How many session messages with a pending template fallback are remembered
        /// (default [`DEFAULT_MAX_PENDING_FALLBACKS`]); beyond it the oldest are forgotten.
        fn max_pending_fallbacks(max: usize) => max_pending;
    }

    /// Finishes the client (nothing here can fail: the client and the windows were checked
    /// when they were built).
    pub fn build(self) -> GuardedClient<W, C, O> {
        let pending = Mutex::new(PendingFallbacks::new(self.max_pending));
        GuardedClient {
            inner: Arc::new(Inner {
                config: self,
                pending,
            }),
        }
    }
}

impl<W: WindowStore, C: Clock, O: OptInStore> GuardedClient<W, C, O> {
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

    /// How many session messages wait for a possible `7710` fallback.
    pub fn pending_fallbacks(&self) -> usize {
        self.pending().by_transid.len()
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, PendingFallbacks> {
        self.inner
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
        let to = to.into();
        self.check_template(&message)?;
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

    /// Sends `session` when `to`'s window is open, else `template`; says which and why. `to`
    /// is a [`Recipient`] (or a `&PhoneNumber` / `Bsuid`); a fallback after `7710` goes to the
    /// same id.
    ///
    /// The template is checked against the registry first, whichever is sent, so a later
    /// fallback cannot fail on it. When the session message goes, it is remembered by its
    /// transaction id: a `7710` receipt for it, given to [`handle_event`](Self::handle_event),
    /// sends the template then. If that receipt was handled before this call got its
    /// response (receipts can overtake responses), the template is sent here and the outcome
    /// is a [`FallbackOutcome::Template`] with [`FallbackReason::SessionRaced`]. An unknown
    /// window sends the template (it is always allowed; the session message would probably
    /// fail).
    ///
    /// # Errors
    ///
    /// As [`send_template`](Self::send_template) and [`send_session`](Self::send_session).
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
                let raced = {
                    let mut pending = self.pending();
                    let raced = pending.take_early_failure(&transid);
                    if !raced {
                        pending.insert(
                            transid.clone(),
                            Pending {
                                to: to.clone(),
                                template: template.clone(),
                            },
                        );
                    }
                    raced
                };
                if !raced {
                    return Ok(FallbackOutcome::Session { receipt, until });
                }
                // Its 7710 receipt overtook the response: the fallback is due now.
                FallbackReason::SessionRaced { original: transid }
            }
            WindowStatus::Closed { since } => FallbackReason::WindowClosed { since },
            _ => FallbackReason::WindowUnknown,
        };
        let receipt = self.send_template(to, template).await?;
        Ok(FallbackOutcome::Template { receipt, reason })
    }

    /// Takes one parsed webhook event into account:
    ///
    /// - an inbound message records the sender's window (at its `ts`, else now) and, with a
    ///   ledger, records a stop keyword (`STOP`, `UNSUBSCRIBE`...) as an opt-out, both under
    ///   every id the sender has ([`SessionWindows::record_message`]): a user who wrote with a
    ///   phone number and a BSUID can be answered through either, and their STOP blocks both;
    /// - a `7710` receipt for a session message sent by
    ///   [`send_with_fallback`](Self::send_with_fallback) sends its template, once: a repeated
    ///   receipt finds nothing pending. Other final receipts forget the pending fallback.
    ///
    /// Deduplicate events first if you can
    /// ([`DedupeKey::from_event`](crate::conversation::dedupe::DedupeKey::from_event));
    /// the fallback is sent once either way.
    ///
    /// # Errors
    ///
    /// [`GuardError::Store`] when the window or opt-in store fails, [`GuardError::OptOut`] when
    /// the sender id is not a valid id. A failed fallback send is not an error here but
    /// [`EventOutcome::FallbackFailed`].
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
                let status = receipt.status();
                if *receipt.code() == DeliveryCode::ReEngagement {
                    let taken = {
                        let mut pending = self.pending();
                        let taken = pending.take(transid);
                        if taken.is_none() {
                            pending.remember_early_failure(transid);
                        }
                        taken
                    };
                    let Some(pending) = taken else {
                        return Ok(EventOutcome::Receipt);
                    };
                    let original = transid.clone();
                    return Ok(
                        match self.send_template(&pending.to, pending.template).await {
                            Ok(receipt) => EventOutcome::FallbackSent { original, receipt },
                            Err(error) => EventOutcome::FallbackFailed { original, error },
                        },
                    );
                }
                if matches!(
                    status,
                    DeliveryStatus::Delivered | DeliveryStatus::Read | DeliveryStatus::Failed
                ) {
                    self.pending().take(transid);
                }
                Ok(EventOutcome::Receipt)
            }
            WebhookEvent::Click(_) => Ok(EventOutcome::Click),
            _ => Ok(EventOutcome::Unknown),
        }
    }
}
