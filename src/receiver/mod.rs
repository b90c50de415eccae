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
//!    match the raw body (SHA-256 or SHA-512, constant time; legacy SHA-1 only with
//!    [`ReceiverBuilder::allow_legacy_sha1`]); otherwise 401. A receiver without a secret
//!    must say so with [`ReceiverBuilder::allow_unsigned`]: the builder has no `build()`
//!    until one of the two is chosen.
//! 3. **Parse** with [`webhook::parse`]: only a body that is not a JSON object is refused
//!    (400, which Webex Connect does not retry). Every JSON object is an event: the kinds
//!    the crate does not model arrive as [`WebhookEvent::Unknown`], are counted in
//!    [`ReceiverStats::unknown_events`] and logged at `warn` (their event name only).
//! 4. **Duplicates**: receipts are keyed on `(transid, destination, subtid, code)`, inbound
//!    messages on `tid`, other events on a digest of their body, in a [`SeenStore`]
//!    (bounded in memory by default). A duplicate is counted and reported as
//!    [`Received::Duplicate`], never handed over twice.
//! 5. **Delivery state**: each new receipt is folded into a bounded [`DeliveryTracker`],
//!    per transid and destination (never backwards; Read implies Delivered; Failed kept with
//!    its code).
//!
//! # At least once, effectively once
//!
//! An event is marked seen in step 4, before your handler runs, so that two concurrent
//! deliveries are not both handled. If your handler then fails, call [`Receiver::release`]
//! and answer 5xx: the mark is undone, and Webex Connect's retry counts as new. Answer 200
//! only once the event is safely handled. Handlers thus see each event *at least once*
//! (make them idempotent); duplicate suppression makes that *effectively once*. The axum
//! router does all of this for you.
//!
//! ```
//! use webex_connect_whatsapp::receiver::{Received, Receiver};
//! use webex_connect_whatsapp::webhook::{signature, DeliveryReceipt, DeliveryStatus, SignatureAlgorithm, WebhookSecret};
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let secret = WebhookSecret::new("hub-secret")?;
//! let receiver = Receiver::builder().secret(secret.clone()).build();
//!
//! let body = DeliveryReceipt::builder("t1", DeliveryStatus::Read)
//!     .destination("447400123456")
//!     .build()
//!     .raw()
//!     .to_owned();
//! let sig = signature::sign(SignatureAlgorithm::Sha256, &secret, body.as_bytes());
//! let headers = [("x-hub-signature", sig.as_str())];
//!
//! let received = receiver.receive(headers, body.as_bytes()).await?;
//! assert!(received.is_new());
//! // The handler failed: undo the seen mark, answer 503, and the retry is new again.
//! receiver.release(received.event()).await?;
//! assert!(receiver.receive(headers, body.as_bytes()).await?.is_new());
//! // Handled this time: a further retry is a duplicate.
//! assert!(matches!(receiver.receive(headers, body.as_bytes()).await?, Received::Duplicate(_)));
//! assert!(receiver.tracker().get("t1", "447400123456").is_some_and(|s| s.is_delivered()));
//! assert_eq!(receiver.receive([("x-hub-signature", "00")], body.as_bytes()).await.unwrap_err().status(), 401);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Mutex;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::conversation::delivery::{DEFAULT_TRACKED_MESSAGES, DeliveryTracker};

use crate::conversation::dedupe::{DedupeKey, DedupeStats, Deduplicator};
use crate::conversation::store::StoreError;
use crate::conversation::store::{InMemorySeenStore, SeenStore};
use crate::setters::value_setters;
use crate::webhook::signature::VerifyOptions;
use crate::webhook::{self, SignatureError, WebhookError, WebhookEvent, WebhookSecret};

/// The largest body accepted unless set with [`ReceiverBuilder::max_body_bytes`]: 64 KiB,
/// far more than any receipt or inbound message (media arrives as URLs).
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Why a webhook call was refused. [`ReceiveError::status`] is the HTTP status to answer.
///
/// ```
/// use webex_connect_whatsapp::receiver::{ReceiveError, Receiver};
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let receiver = Receiver::builder().allow_unsigned().build();
/// let none: [(&str, &str); 0] = [];
/// let err = receiver.receive(none, b"not json").await.unwrap_err();
/// assert!(matches!(err, ReceiveError::Invalid(_)));
/// assert_eq!(err.status(), 400);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
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
    #[error("webhook signature check failed")]
    Signature(#[from] SignatureError),
    /// The body is not a JSON object, so cannot be a Webex Connect event.
    #[error("webhook body is not a webex connect event")]
    Invalid(#[from] WebhookError),
    /// The seen-store failed; the event was not handled, so let Webex Connect retry it.
    #[error("the duplicate store failed, so the event was not handled")]
    Store(#[from] StoreError),
    /// [`Receiver::release`] could not undo the seen mark: the platform's retry may be
    /// suppressed as a duplicate until the mark expires.
    #[error(
        "the duplicate store failed to release the event, so its retry may be taken for a duplicate"
    )]
    Release(#[source] StoreError),
}

impl ReceiveError {
    /// The HTTP status to answer: 413, 401, 400 (not retried by Webex Connect), or 503 for
    /// a store failure (retried).
    ///
    /// 400 is reserved for bodies that are not JSON objects: an authentic event of an
    /// unknown kind is accepted, never refused.
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
            Self::Store(_) | Self::Release(_) => 503,
        }
    }
}

/// The result of a webhook call that passed the checks.
///
/// ```
/// use webex_connect_whatsapp::receiver::{Received, Receiver};
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let receiver = Receiver::builder().allow_unsigned().build();
/// let none: [(&str, &str); 0] = [];
/// let body = br#"{"event":"MO","waid":"919900012345","message":"hi","tid":"x_0"}"#;
/// let first = receiver.receive(none, body).await?;
/// assert!(first.is_new());
/// assert!(!receiver.receive(none, body).await?.is_new());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
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
/// let stats = Receiver::builder().allow_unsigned().build().stats();
/// assert_eq!(stats.new_events + stats.duplicates + stats.unknown_events, 0);
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
    /// Calls refused for a body that is not a JSON object (400).
    pub invalid: u64,
    /// New events of a kind the crate does not model ([`WebhookEvent::Unknown`]), accepted
    /// and handed over; [`Receiver::unknown_event_kinds`] counts them by event name.
    pub unknown_events: u64,
    /// Events whose seen mark was undone with [`Receiver::release`].
    pub released: u64,
    /// Calls refused for a body over the limit (413).
    pub too_large: u64,
    /// Calls refused because the seen-store failed (503).
    pub store_errors: u64,
}

/// How many distinct unknown event names are counted one by one; the rest share
/// [`OTHER_UNKNOWN_KINDS`], so a sender cannot grow the map without bound.
pub const MAX_UNKNOWN_KINDS: usize = 32;

/// The name under which unknown events beyond [`MAX_UNKNOWN_KINDS`] names are counted.
pub const OTHER_UNKNOWN_KINDS: &str = "(other)";

/// The longest event name kept in counts and logs, in characters.
const MAX_KIND_CHARS: usize = 64;

#[derive(Debug, Default)]
struct Counters {
    unkeyed: AtomicU64,
    bad_signature: AtomicU64,
    invalid: AtomicU64,
    too_large: AtomicU64,
    store_errors: AtomicU64,
    unknown: AtomicU64,
    unknown_kinds: Mutex<HashMap<String, u64>>,
}

impl Counters {
    /// Counts an unknown event under its (shortened) name and returns that name.
    fn unknown(&self, name: Option<&str>) -> String {
        self.unknown.fetch_add(1, Ordering::Relaxed);
        let name: String = match name {
            Some(n) if !n.is_empty() => n.chars().take(MAX_KIND_CHARS).collect(),
            _ => "(none)".to_owned(),
        };
        // Counting is best effort: a poisoned map is still a map of counts.
        let mut kinds = self
            .unknown_kinds
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let slot = if kinds.contains_key(&name) || kinds.len() < MAX_UNKNOWN_KINDS {
            name.clone()
        } else {
            OTHER_UNKNOWN_KINDS.to_owned()
        };
        *kinds.entry(slot).or_default() += 1;
        name
    }
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
    verify: VerifyOptions,
    max_body_bytes: usize,
    dedupe: Deduplicator<S>,
    tracker: DeliveryTracker,
    counters: Counters,
}

impl<S> fmt::Debug for Receiver<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("legacy_sha1", &self.verify.legacy_sha1_allowed())
            .field("max_body_bytes", &self.max_body_bytes)
            .field("tracker", &self.tracker)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Starts configuring a receiver (64 KiB bodies, in-memory duplicate store).
    ///
    /// Choose how calls are authenticated before building: [`ReceiverBuilder::secret`] to
    /// check signatures, or [`ReceiverBuilder::allow_unsigned`] to knowingly accept unsigned
    /// calls. Until then the builder has no `build()`, so a receiver never ends up unsigned
    /// by omission.
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::{Receiver, DEFAULT_MAX_BODY_BYTES};
    /// use webex_connect_whatsapp::webhook::WebhookSecret;
    /// let signed = Receiver::builder().secret(WebhookSecret::new("hub-secret")?).build();
    /// assert_eq!(signed.max_body_bytes(), DEFAULT_MAX_BODY_BYTES);
    /// let unsigned = Receiver::builder().allow_unsigned().build();
    /// assert!(!unsigned.requires_signature());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// ```compile_fail
    /// use webex_connect_whatsapp::receiver::Receiver;
    /// let receiver = Receiver::builder().build(); // neither secret(..) nor allow_unsigned()
    /// ```
    pub fn builder() -> ReceiverBuilder {
        ReceiverBuilder {
            secret: None,
            verify: VerifyOptions::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            store: InMemorySeenStore::default(),
            dedupe_ttl: None,
            tracked_messages: DEFAULT_TRACKED_MESSAGES,
            auth: PhantomData,
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
    /// let receiver = Receiver::builder().allow_unsigned().max_body_bytes(8).build();
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
            webhook::signature::verify_with(headers, body, secret, self.verify).map_err(|e| {
                self.counters.bad_signature.fetch_add(1, Ordering::Relaxed);
                ReceiveError::Signature(e)
            })?;
        }
        webhook::parse(body).map_err(|e| {
            self.counters.invalid.fetch_add(1, Ordering::Relaxed);
            ReceiveError::Invalid(e)
        })
    }

    /// The asynchronous part of [`Receiver::receive`]: duplicate check, delivery state, and
    /// the count of unknown event kinds.
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
        match &event {
            WebhookEvent::DeliveryReceipt(receipt) => {
                self.tracker.record(receipt);
            }
            WebhookEvent::Unknown(unknown) => {
                let name = self.counters.unknown(unknown.event());
                // The name only: the body may hold personal data.
                #[cfg(any(feature = "client", feature = "axum"))]
                tracing::warn!(
                    event = ?name,
                    "webhook event of a kind this crate does not model: accepted and handed over"
                );
                #[cfg(not(any(feature = "client", feature = "axum")))]
                let _ = name;
            }
            _ => {}
        }
        Ok(Received::New(event))
    }

    /// Undoes the seen mark of an event that was not handled (the handler failed, timed out
    /// or was not run), so that Webex Connect's retry counts as new instead of being
    /// suppressed as a duplicate. Answer the webhook call with a status Webex Connect
    /// retries (503) afterwards.
    ///
    /// An event without a key (see [`ReceiverStats::unkeyed`]) was never marked: releasing
    /// it does nothing. Delivery states already folded into the [`DeliveryTracker`] stay: a
    /// retried receipt folds in to the same state.
    ///
    /// # Errors
    ///
    /// [`ReceiveError::Release`] when the seen-store fails; the retry may then be taken for
    /// a duplicate until the mark's TTL passes.
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::Receiver;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let receiver = Receiver::builder().allow_unsigned().build();
    /// let none: [(&str, &str); 0] = [];
    /// let body = br#"{"event":"MO","waid":"919900012345","message":"hi","tid":"x_0"}"#;
    /// let received = receiver.receive(none, body).await?;
    /// receiver.release(received.event()).await?; // e.g. the database was down
    /// assert!(receiver.receive(none, body).await?.is_new());
    /// assert_eq!(receiver.stats().released, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn release(&self, event: &WebhookEvent) -> Result<(), ReceiveError> {
        let Ok(key) = DedupeKey::from_event(event) else {
            return Ok(());
        };
        self.dedupe.release(&key).await.map_err(|e| {
            self.counters.store_errors.fetch_add(1, Ordering::Relaxed);
            ReceiveError::Release(e)
        })?;
        Ok(())
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

    /// Whether legacy HMAC-SHA1 signatures are accepted
    /// ([`ReceiverBuilder::allow_legacy_sha1`]).
    pub fn accepts_legacy_sha1(&self) -> bool {
        self.verify.legacy_sha1_allowed()
    }

    /// The unknown event kinds received so far, by event name (`"(none)"` for a body without
    /// one; names beyond [`MAX_UNKNOWN_KINDS`] are counted under [`OTHER_UNKNOWN_KINDS`]),
    /// the most frequent first.
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::Receiver;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let receiver = Receiver::builder().allow_unsigned().build();
    /// let none: [(&str, &str); 0] = [];
    /// let got = receiver.receive(none, br#"{"event":"reaction","emoji":"+1"}"#).await?;
    /// assert!(got.is_new());
    /// assert_eq!(receiver.unknown_event_kinds(), vec![("reaction".to_owned(), 1)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unknown_event_kinds(&self) -> Vec<(String, u64)> {
        let mut kinds: Vec<(String, u64)> = self
            .counters
            .unknown_kinds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        kinds
    }

    /// What was received so far.
    pub fn stats(&self) -> ReceiverStats
    where
        S: SeenStore,
    {
        let DedupeStats {
            first,
            duplicates,
            released,
            ..
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
            unknown_events: c.unknown.load(Ordering::Relaxed),
            released,
        }
    }
}

/// The states of a [`ReceiverBuilder`]: whether the caller chose how calls are
/// authenticated (a [secret](ReceiverBuilder::secret), or
/// [`allow_unsigned`](ReceiverBuilder::allow_unsigned)). Only a chosen builder builds.
pub mod auth_state {
    /// Neither a secret nor `allow_unsigned()` was given yet: `build()` is not available.
    #[derive(Debug, Clone, Copy)]
    pub struct NotChosen;

    /// A secret or `allow_unsigned()` was given: `build()` is available.
    #[derive(Debug, Clone, Copy)]
    pub struct Chosen;

    /// Implemented by [`Chosen`] only.
    #[diagnostic::on_unimplemented(
        message = "choose how webhook calls are authenticated before `build()`",
        label = "neither `.secret(..)` nor `.allow_unsigned()` was called",
        note = "call `.secret(WebhookSecret::new(..)?)` to check x-hub-signature, or `.allow_unsigned()` to accept unsigned calls knowingly"
    )]
    pub trait IsChosen: sealed::Sealed {}

    impl IsChosen for Chosen {}

    mod sealed {
        pub trait Sealed {}
        impl Sealed for super::Chosen {}
    }
}

/// Configures a [`Receiver`]. [`build`](Self::build) cannot fail; it exists only once
/// [`secret`](Self::secret) or [`allow_unsigned`](Self::allow_unsigned) was chosen, so a
/// receiver that forgot its secret does not compile.
///
/// ```
/// use std::time::Duration;
/// use webex_connect_whatsapp::conversation::store::InMemorySeenStore;
/// use webex_connect_whatsapp::receiver::Receiver;
/// use webex_connect_whatsapp::webhook::WebhookSecret;
/// let receiver = Receiver::builder()
///     .secret(WebhookSecret::new("hub-secret")?)
///     .seen_store(InMemorySeenStore::new(10_000))
///     .dedupe_ttl(Duration::from_secs(600))
///     .tracked_messages(50_000)
///     .build();
/// assert_eq!(receiver.tracker().capacity(), 50_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use = "call .build() to get the receiver"]
pub struct ReceiverBuilder<S = InMemorySeenStore, A = auth_state::NotChosen> {
    secret: Option<WebhookSecret>,
    verify: VerifyOptions,
    max_body_bytes: usize,
    store: S,
    dedupe_ttl: Option<Duration>,
    tracked_messages: usize,
    auth: PhantomData<A>,
}

impl<S: SeenStore> ReceiverBuilder<S, auth_state::NotChosen> {
    /// Accepts calls without a signature: use that only behind another authentication
    /// (an authorization profile's header, mTLS, an allow-list of Webex Connect's egress
    /// addresses), or in tests.
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::Receiver;
    /// assert!(!Receiver::builder().allow_unsigned().build().requires_signature());
    /// ```
    pub fn allow_unsigned(self) -> ReceiverBuilder<S, auth_state::Chosen> {
        self.with_auth(None)
    }
}

impl<S: SeenStore, A> ReceiverBuilder<S, A> {
    fn with_auth<B>(self, secret: Option<WebhookSecret>) -> ReceiverBuilder<S, B> {
        ReceiverBuilder {
            secret,
            verify: self.verify,
            max_body_bytes: self.max_body_bytes,
            store: self.store,
            dedupe_ttl: self.dedupe_ttl,
            tracked_messages: self.tracked_messages,
            auth: PhantomData,
        }
    }

    /// Requires every call to carry a valid `x-hub-signature` made with this secret (set
    /// "Hub Signature" on the webhook in Webex Connect).
    pub fn secret(self, secret: WebhookSecret) -> ReceiverBuilder<S, auth_state::Chosen> {
        self.with_auth(Some(secret))
    }

    /// Also accepts HMAC-SHA1 signatures, for a webhook still set to Webex Connect's legacy
    /// algorithm. Without this, a SHA-1 signature is refused (401) with
    /// [`SignatureError::LegacySha1NotAllowed`]. Prefer switching the webhook to SHA-256.
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::Receiver;
    /// use webex_connect_whatsapp::webhook::WebhookSecret;
    /// let receiver = Receiver::builder()
    ///     .secret(WebhookSecret::new("hub-secret")?)
    ///     .allow_legacy_sha1()
    ///     .build();
    /// assert!(receiver.accepts_legacy_sha1());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "legacy-sha1")]
    #[cfg_attr(docsrs, doc(cfg(feature = "legacy-sha1")))]
    pub fn allow_legacy_sha1(mut self) -> Self {
        self.verify = self.verify.allow_legacy_sha1();
        self
    }

    value_setters! {
        /// The largest body accepted, in bytes (default [`DEFAULT_MAX_BODY_BYTES`]).
        fn max_body_bytes(max: usize) => max_body_bytes;
    }

    /// Where seen keys are kept (default: [`InMemorySeenStore::default`]); use a shared
    /// store such as Redis when several receivers share the traffic.
    pub fn seen_store<T: SeenStore>(self, store: T) -> ReceiverBuilder<T, A> {
        ReceiverBuilder {
            secret: self.secret,
            verify: self.verify,
            max_body_bytes: self.max_body_bytes,
            store,
            dedupe_ttl: self.dedupe_ttl,
            tracked_messages: self.tracked_messages,
            auth: PhantomData,
        }
    }

    value_setters! {
        /// How long an event is remembered for duplicate suppression (default
        /// [`DEFAULT_DEDUPE_TTL`](crate::conversation::dedupe::DEFAULT_DEDUPE_TTL)).
        fn dedupe_ttl(ttl: Duration) => dedupe_ttl as Some;

        /// How many (transid, destination) delivery states the [`DeliveryTracker`] remembers
        /// (default [`DEFAULT_TRACKED_MESSAGES`]).
        fn tracked_messages(capacity: usize) => tracked_messages;
    }

    /// Builds the receiver. Available once [`secret`](Self::secret) or
    /// [`allow_unsigned`](ReceiverBuilder::allow_unsigned) was called.
    pub fn build(self) -> Receiver<S>
    where
        A: auth_state::IsChosen,
    {
        let mut dedupe = Deduplicator::new(self.store);
        if let Some(ttl) = self.dedupe_ttl {
            dedupe = dedupe.with_ttl(ttl);
        }
        Receiver {
            secret: self.secret,
            verify: self.verify,
            max_body_bytes: self.max_body_bytes,
            dedupe,
            tracker: DeliveryTracker::new(self.tracked_messages),
            counters: Counters::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// A reporter that walks `source()` prints each cause once: the message leaves it out.
    #[test]
    fn messages_leave_their_source_to_source() {
        let errors = [
            ReceiveError::from(SignatureError::Missing),
            ReceiveError::from(WebhookError::NoSender),
        ];
        for error in errors {
            let cause = error.source().map(ToString::to_string).unwrap_or_default();
            assert!(!cause.is_empty(), "{error:?} has a source");
            assert!(
                !error.to_string().contains(&cause),
                "{error} repeats {cause}"
            );
        }
    }
}
