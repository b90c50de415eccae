//! A production webhook receiver: verify, parse, suppress duplicates, track delivery state.
//!
//! [`Receiver`] is framework-free: give it the request's headers and raw body, and it
//! answers with the event to handle, a duplicate to skip, or an error that maps to the HTTP
//! status to answer ([`ReceiveError::status`]). With the `axum` feature, [`axum::router`]
//! does all of that for you and hands typed events to your async handler.
//!
//! For each call, in order:
//! 1. **Size**: a body over [`ReceiverBuilder::max_body_bytes`] (default
//!    [`DEFAULT_MAX_BODY_BYTES`]) is refused (413).
//! 2. **Signature**: with a [`ReceiverBuilder::secret`], the `x-hub-signature` header must
//!    match the raw body (SHA-256 or SHA-512, constant time); otherwise 401.
//! 3. **Parse** with [`webhook::parse`]: a body that is not a Webex Connect event is refused
//!    with 400, which Webex Connect does not retry.
//! 4. **Duplicates**: receipts are keyed on `(transid, code)`, inbound messages on `tid`, in
//!    a [`SeenStore`] (bounded in memory by default). A duplicate is counted and reported as
//!    [`Received::Duplicate`], never handed over twice.
//! 5. **Delivery state**: each new receipt is folded into a bounded [`DeliveryTracker`]
//!    (never backwards; Read implies Delivered; Failed kept with its code).
//!
//! ```
//! use webex_connect_whatsapp::receiver::{Received, Receiver};
//! use webex_connect_whatsapp::webhook::{signature, DeliveryReceipt, DeliveryStatus, SignatureAlgorithm, WebhookSecret};
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! # block_on(async {
//! let secret = WebhookSecret::new("hub-secret")?;
//! let receiver = Receiver::builder().secret(secret.clone()).build();
//!
//! let body = DeliveryReceipt::builder("t1", DeliveryStatus::Read).build().raw().to_owned();
//! let sig = signature::sign(SignatureAlgorithm::Sha256, &secret, body.as_bytes());
//! let headers = [("x-hub-signature", sig.as_str())];
//!
//! assert!(matches!(receiver.receive(headers, body.as_bytes()).await?, Received::New(_)));
//! assert!(matches!(receiver.receive(headers, body.as_bytes()).await?, Received::Duplicate(_)));
//! assert!(receiver.tracker().get("t1").is_some_and(|s| s.is_delivered()));
//! assert_eq!(receiver.receive([("x-hub-signature", "00")], body.as_bytes()).await.unwrap_err().status(), 401);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
mod tracker;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use tracker::{DEFAULT_TRACKED_MESSAGES, DeliveryState, DeliveryTracker};

use crate::dedupe::{DedupeKey, DedupeStats, Deduplicator, InMemorySeenStore, SeenStore};
use crate::store::StoreError;
use crate::webhook::{self, SignatureError, WebhookError, WebhookEvent, WebhookSecret};

/// The largest body accepted unless set with [`ReceiverBuilder::max_body_bytes`]: 64 KiB,
/// far more than any receipt or inbound message (media arrives as URLs).
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Why a webhook call was refused. [`ReceiveError::status`] is the HTTP status to answer.
///
/// ```
/// use webex_connect_whatsapp::receiver::{ReceiveError, Receiver};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// let receiver = Receiver::builder().build();
/// let none: [(&str, &str); 0] = [];
/// let err = block_on(receiver.receive(none, b"not json")).unwrap_err();
/// assert!(matches!(err, ReceiveError::Invalid(_)));
/// assert_eq!(err.status(), 400);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError {
    /// The body is larger than allowed.
    #[error("webhook body is {size} bytes long, but the max is {max}")]
    TooLarge {
        /// The body's size in bytes (at least; reading stops past the limit).
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// A secret is configured and the signature is missing, malformed or wrong.
    #[error("webhook signature check failed: {0}")]
    Signature(#[from] SignatureError),
    /// The body is not a Webex Connect event.
    #[error("webhook body is not a webex connect event: {0}")]
    Invalid(#[from] WebhookError),
    /// The seen-store failed; the event was not handled, so let Webex Connect retry it.
    #[error("the duplicate store failed, so the event was not handled")]
    Store(#[from] StoreError),
}

impl ReceiveError {
    /// The HTTP status to answer: 413, 401, 400 (not retried by Webex Connect), or 503 for
    /// a store failure (retried).
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::ReceiveError;
    /// assert_eq!(ReceiveError::TooLarge { size: 70_000, max: 65_536 }.status(), 413);
    /// ```
    pub fn status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => 413,
            Self::Signature(_) => 401,
            Self::Invalid(_) => 400,
            Self::Store(_) => 503,
        }
    }
}

/// The result of a webhook call that passed the checks.
///
/// ```
/// use webex_connect_whatsapp::receiver::{Received, Receiver};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// let receiver = Receiver::builder().build();
/// let none: [(&str, &str); 0] = [];
/// let body = br#"{"event":"MO","waid":"919900012345","message":"hi","tid":"x_0"}"#;
/// let first = block_on(receiver.receive(none, body))?;
/// assert!(first.is_new());
/// assert!(!block_on(receiver.receive(none, body))?.is_new());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Received {
    /// Seen for the first time: handle it.
    New(WebhookEvent),
    /// Already received (a retry or a duplicate): answer 200 and do nothing else.
    Duplicate(WebhookEvent),
}

impl Received {
    /// Whether this is the first time the event arrived.
    pub fn is_new(&self) -> bool {
        matches!(self, Self::New(_))
    }

    /// The event, new or not.
    pub fn event(&self) -> &WebhookEvent {
        match self {
            Self::New(e) | Self::Duplicate(e) => e,
        }
    }

    /// The event, new or not.
    pub fn into_event(self) -> WebhookEvent {
        match self {
            Self::New(e) | Self::Duplicate(e) => e,
        }
    }
}

/// Counts of what a [`Receiver`] saw.
///
/// ```
/// use webex_connect_whatsapp::receiver::Receiver;
/// let stats = Receiver::builder().build().stats();
/// assert_eq!(stats.new_events + stats.duplicates, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ReceiverStats {
    /// Events handed over (first time seen).
    pub new_events: u64,
    /// Duplicates suppressed.
    pub duplicates: u64,
    /// New events that carry no key (a receipt without transid or code, an inbound message
    /// without tid), so could not be checked for duplicates; they are handed over.
    pub unkeyed: u64,
    /// Calls refused for a missing or wrong signature (401).
    pub bad_signature: u64,
    /// Calls refused for a body that is not an event (400).
    pub invalid: u64,
    /// Calls refused for a body over the limit (413).
    pub too_large: u64,
    /// Calls refused because the seen-store failed (503).
    pub store_errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    unkeyed: AtomicU64,
    bad_signature: AtomicU64,
    invalid: AtomicU64,
    too_large: AtomicU64,
    store_errors: AtomicU64,
}

/// Verifies, parses and deduplicates webhook calls, and tracks delivery states.
///
/// Build it once with [`Receiver::builder`] and share it (`Arc<Receiver>`); every method
/// takes `&self`. See the [module docs](self) for what each call goes through.
///
/// ```
/// use webex_connect_whatsapp::receiver::Receiver;
/// use webex_connect_whatsapp::webhook::WebhookSecret;
/// let receiver = Receiver::builder()
///     .secret(WebhookSecret::new("hub-secret")?)
///     .max_body_bytes(32 * 1024)
///     .build();
/// assert!(receiver.requires_signature());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Receiver<S = InMemorySeenStore> {
    secret: Option<WebhookSecret>,
    max_body_bytes: usize,
    dedupe: Deduplicator<S>,
    tracker: DeliveryTracker,
    counters: Counters,
}

impl<S> fmt::Debug for Receiver<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("max_body_bytes", &self.max_body_bytes)
            .field("tracker", &self.tracker)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Starts configuring a receiver (no secret, 64 KiB bodies, in-memory duplicate store).
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::{Receiver, DEFAULT_MAX_BODY_BYTES};
    /// assert_eq!(Receiver::builder().build().max_body_bytes(), DEFAULT_MAX_BODY_BYTES);
    /// ```
    pub fn builder() -> ReceiverBuilder {
        ReceiverBuilder {
            secret: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            store: InMemorySeenStore::default(),
            dedupe_ttl: None,
            tracked_messages: DEFAULT_TRACKED_MESSAGES,
        }
    }
}

impl<S: SeenStore> Receiver<S> {
    /// Checks one webhook call and returns its event, new or duplicate.
    ///
    /// `headers` is any collection of `(name, value)` pairs (`&http::HeaderMap` works).
    ///
    /// # Errors
    ///
    /// [`ReceiveError`]; answer with its [`status`](ReceiveError::status).
    pub async fn receive<I, K, V>(&self, headers: I, body: &[u8]) -> Result<Received, ReceiveError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let event = self.check(headers, body)?;
        self.accept(event).await
    }

    /// The synchronous part of [`Receiver::receive`]: size, signature and parse.
    ///
    /// # Errors
    ///
    /// [`ReceiveError::TooLarge`], [`ReceiveError::Signature`] or [`ReceiveError::Invalid`].
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::Receiver;
    /// let receiver = Receiver::builder().max_body_bytes(8).build();
    /// let none: [(&str, &str); 0] = [];
    /// assert_eq!(receiver.check(none, br#"{"event":"MO","waid":"1"}"#).unwrap_err().status(), 413);
    /// ```
    pub fn check<I, K, V>(&self, headers: I, body: &[u8]) -> Result<WebhookEvent, ReceiveError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<[u8]>,
    {
        if body.len() > self.max_body_bytes {
            return Err(self.too_large(body.len()));
        }
        if let Some(secret) = &self.secret {
            webhook::signature::verify(headers, body, secret).map_err(|e| {
                self.counters.bad_signature.fetch_add(1, Ordering::Relaxed);
                ReceiveError::Signature(e)
            })?;
        }
        webhook::parse(body).map_err(|e| {
            self.counters.invalid.fetch_add(1, Ordering::Relaxed);
            ReceiveError::Invalid(e)
        })
    }

    /// The asynchronous part of [`Receiver::receive`]: duplicate check and delivery state.
    ///
    /// # Errors
    ///
    /// [`ReceiveError::Store`] when the seen-store fails.
    pub async fn accept(&self, event: WebhookEvent) -> Result<Received, ReceiveError> {
        match DedupeKey::from_event(&event).ok() {
            Some(key) => {
                let first = self.dedupe.first_seen(&key).await.map_err(|e| {
                    self.counters.store_errors.fetch_add(1, Ordering::Relaxed);
                    ReceiveError::Store(e)
                })?;
                if !first {
                    return Ok(Received::Duplicate(event));
                }
            }
            None => {
                self.counters.unkeyed.fetch_add(1, Ordering::Relaxed);
            }
        }
        if let WebhookEvent::DeliveryReceipt(receipt) = &event {
            self.tracker.record(receipt);
        }
        Ok(Received::New(event))
    }

    /// Counts a body refused for its size (for callers that stop reading early).
    pub(crate) fn too_large(&self, size: usize) -> ReceiveError {
        self.counters.too_large.fetch_add(1, Ordering::Relaxed);
        ReceiveError::TooLarge {
            size,
            max: self.max_body_bytes,
        }
    }
}

impl<S> Receiver<S> {
    /// The delivery states folded from the receipts received so far.
    pub fn tracker(&self) -> &DeliveryTracker {
        &self.tracker
    }

    /// The duplicate suppressor (and through it, the seen-store).
    pub fn deduplicator(&self) -> &Deduplicator<S> {
        &self.dedupe
    }

    /// The largest body accepted, in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Whether calls must carry a valid `x-hub-signature`.
    pub fn requires_signature(&self) -> bool {
        self.secret.is_some()
    }

    /// What was received so far.
    pub fn stats(&self) -> ReceiverStats
    where
        S: SeenStore,
    {
        let DedupeStats {
            first, duplicates, ..
        } = self.dedupe.stats();
        let c = &self.counters;
        ReceiverStats {
            new_events: first + c.unkeyed.load(Ordering::Relaxed),
            duplicates,
            unkeyed: c.unkeyed.load(Ordering::Relaxed),
            bad_signature: c.bad_signature.load(Ordering::Relaxed),
            invalid: c.invalid.load(Ordering::Relaxed),
            too_large: c.too_large.load(Ordering::Relaxed),
            store_errors: c.store_errors.load(Ordering::Relaxed),
        }
    }
}

/// The duplicate-suppression key of an event: `(transid, code)` for a receipt, `tid` for an
/// inbound message; `None` when the event lacks them.
/// Configures a [`Receiver`].
///
/// ```
/// use std::time::Duration;
/// use webex_connect_whatsapp::dedupe::InMemorySeenStore;
/// use webex_connect_whatsapp::receiver::Receiver;
/// let receiver = Receiver::builder()
///     .seen_store(InMemorySeenStore::new(10_000))
///     .dedupe_ttl(Duration::from_secs(600))
///     .tracked_messages(50_000)
///     .build();
/// assert_eq!(receiver.tracker().capacity(), 50_000);
/// ```
#[derive(Debug)]
#[must_use = "call .build() to get the receiver"]
pub struct ReceiverBuilder<S = InMemorySeenStore> {
    secret: Option<WebhookSecret>,
    max_body_bytes: usize,
    store: S,
    dedupe_ttl: Option<Duration>,
    tracked_messages: usize,
}

impl<S: SeenStore> ReceiverBuilder<S> {
    /// Requires every call to carry a valid `x-hub-signature` made with this secret (set
    /// "Hub Signature" on the webhook in Webex Connect). Without a secret, signatures are not
    /// checked: use that only behind another authentication.
    pub fn secret(mut self, secret: WebhookSecret) -> Self {
        self.secret = Some(secret);
        self
    }

    /// The largest body accepted, in bytes (default [`DEFAULT_MAX_BODY_BYTES`]).
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// Where seen keys are kept (default: [`InMemorySeenStore::default`]); use a shared
    /// store such as Redis when several receivers share the traffic.
    pub fn seen_store<T: SeenStore>(self, store: T) -> ReceiverBuilder<T> {
        ReceiverBuilder {
            secret: self.secret,
            max_body_bytes: self.max_body_bytes,
            store,
            dedupe_ttl: self.dedupe_ttl,
            tracked_messages: self.tracked_messages,
        }
    }

    /// How long an event is remembered for duplicate suppression (default
    /// [`DEFAULT_DEDUPE_TTL`](crate::dedupe::DEFAULT_DEDUPE_TTL)).
    pub fn dedupe_ttl(mut self, ttl: Duration) -> Self {
        self.dedupe_ttl = Some(ttl);
        self
    }

    /// How many messages the [`DeliveryTracker`] remembers (default
    /// [`DEFAULT_TRACKED_MESSAGES`]).
    pub fn tracked_messages(mut self, capacity: usize) -> Self {
        self.tracked_messages = capacity;
        self
    }

    /// Builds the receiver.
    pub fn build(self) -> Receiver<S> {
        let mut dedupe = Deduplicator::new(self.store);
        if let Some(ttl) = self.dedupe_ttl {
            dedupe = dedupe.with_ttl(ttl);
        }
        Receiver {
            secret: self.secret,
            max_body_bytes: self.max_body_bytes,
            dedupe,
            tracker: DeliveryTracker::new(self.tracked_messages),
            counters: Counters::default(),
        }
    }
}
