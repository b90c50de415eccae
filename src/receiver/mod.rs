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
//!    [`ReceiverStats::unknown_events`] and [`Receiver::unknown_event_kinds`], and logged by
//!    their event name only: the first of each name at `warn`, the later ones at `debug`
//!    (see [`MAX_UNKNOWN_KINDS`]). An `x-wx-gtrid` header stays with the event
//!    ([`WebhookEvent::gtrid`]; see [`GTRID_HEADER`]).
//! 4. **Freshness** (only with [`ReceiverBuilder::max_event_age`]): an event whose timestamp
//!    is older than that is a replay from beyond the dedupe window; it is counted and
//!    reported as [`Received::Stale`] (answer 200), never handed over. A timestamp in the
//!    future counts as now.
//! 5. **Duplicates**: receipts are keyed on `(transid, destination, subtid, code)`, inbound
//!    messages on `tid`, other events on a digest of their body, in a [`DedupeStore`]
//!    (bounded in memory by default). The call *claims* the event (see below). An event
//!    already handled is counted and reported as [`Received::Duplicate`] (answer 200); one
//!    that another delivery is handling right now is refused with
//!    [`ReceiveError::InProgress`] (503, so the platform delivers it again).
//! 6. **Delivery state**: each new receipt is folded into a bounded [`DeliveryTracker`],
//!    per transid and destination (never backwards; Read implies Delivered; Failed kept with
//!    its code). Over-long transids and destinations are not tracked (see
//!    [`MAX_TRACKED_TRANSID_CHARS`](crate::conversation::delivery::MAX_TRACKED_TRANSID_CHARS)).
//!
//! # At least once, effectively once
//!
//! Duplicate suppression has two phases, so that no event is lost when a handler fails or
//! the process dies while handling it:
//!
//! 1. [`Receiver::receive`] (or [`Receiver::accept`]) *claims* a new event before your
//!    handler runs: the claim is pending for a short lease
//!    ([`ReceiverBuilder::claim_lease`], default
//!    [`DEFAULT_CLAIM_LEASE`], 20 s). A second delivery of the event meanwhile is refused
//!    with 503, not answered 200: the first may still fail.
//! 2. Your handler succeeded: call [`Receiver::complete`], then answer 200. The event is
//!    *done* for the dedupe TTL ([`ReceiverBuilder::dedupe_ttl`], default one hour), and
//!    every later delivery is a [`Received::Duplicate`].
//! 3. Your handler failed: call [`Receiver::release`] and answer 5xx. The claim is undone
//!    and Webex Connect's retry counts as new.
//!
//! If the process dies between 1 and 2 (OOM, SIGKILL at the end of a deploy), nothing is
//! released, but the claim ends with its lease, and the platform's retry 60 s later is
//! handled. Handlers thus see each event *at least once* (make them idempotent); duplicate
//! suppression makes that *effectively once*. The axum router does all of this for you.
//!
//! ```
//! use webex_connect_whatsapp::receiver::{ReceiveError, Received, Receiver};
//! use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
//! use webex_connect_whatsapp::webhook::signature::{self, SignatureAlgorithm, WebhookSecret};
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let secret = WebhookSecret::new("hub-secret")?;
//! let receiver = Receiver::builder().secret(secret.clone()).build()?;
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
//! // A retry while the handler runs is refused with 503: the handler may still fail.
//! let busy = receiver.receive(headers, body.as_bytes()).await.unwrap_err();
//! assert!(matches!(busy, ReceiveError::InProgress));
//! assert_eq!(busy.status(), 503);
//! // The handler failed: release the claim, answer 503, and the retry is new again.
//! receiver.release(received.event()).await?;
//! let retry = receiver.receive(headers, body.as_bytes()).await?;
//! assert!(retry.is_new());
//! // Handled this time: complete it, answer 200, and a further retry is a duplicate.
//! receiver.complete(retry.event()).await?;
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
use std::error::Error as StdError;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::conversation::bounded::BoundedMap;
use crate::conversation::clock::{Clock as _, SystemClock};
use crate::conversation::dedupe::{
    ClaimOwner, DEFAULT_CLAIM_LEASE, DEFAULT_DEDUPE_TTL, DedupeKey, DedupeStats, Deduplicator,
    MAX_CLAIM_LEASE, MIN_DEDUPE_TTL,
};
use crate::conversation::delivery::{DEFAULT_TRACKED_MESSAGES, DeliveryTracker};
use crate::conversation::store::{
    Claim, DedupeStore, InMemoryDedupeStore, MAX_TTL_MILLIS, StoreError,
};
use crate::webhook::signature::{self, SignatureError, VerifyOptions, WebhookSecret};
use crate::webhook::{self, WebhookError, WebhookEvent};

/// The largest body accepted unless set with [`ReceiverBuilder::max_body_bytes`]: 64 KiB,
/// far more than any receipt or inbound message (media arrives as URLs).
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// The shortest [`ReceiverBuilder::max_event_age`] accepted: five minutes, as long as Webex
/// Connect's retries may last (see
/// [`MIN_DEDUPE_TTL`]), so that a retry of an
/// event whose first delivery failed is never refused as stale (it would be lost).
pub const MIN_MAX_EVENT_AGE: Duration = Duration::from_mins(5);

/// The HTTP header in which Webex Connect sends its global transaction id with a webhook
/// (Cisco's docs; the same id may also be in the body as `x-wx-gtrid`). Matched in any
/// letter case.
///
/// [`Receiver::check`] (and so [`Receiver::receive`] and the axum router) keeps the first
/// such header's value with the event it returns, readable through
/// [`WebhookEvent::gtrid`] and the `gtrid()` of each kind of event; the router also records
/// it in its `webex_connect.webhook` span. A value that is not UTF-8, is empty, holds a
/// control character or is longer than [`MAX_GTRID_CHARS`] is ignored.
///
/// ```
/// use webex_connect_whatsapp::receiver::{Receiver, GTRID_HEADER};
/// let receiver = Receiver::builder().allow_unsigned().build()?;
/// let body = br#"{"event":"reaction","emoji":"+1"}"#;
/// let event = receiver.check([(GTRID_HEADER, "6f1c0b2a-77")], body)?;
/// assert_eq!(event.gtrid(), Some("6f1c0b2a-77"));
/// let too_long = "g".repeat(300);
/// assert_eq!(receiver.check([(GTRID_HEADER, too_long.as_str())], body)?.gtrid(), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const GTRID_HEADER: &str = "x-wx-gtrid";

/// The longest `x-wx-gtrid` value kept from a header (and recorded in the router's span),
/// in characters. A longer value is ignored rather than cut: a cut id would look real but
/// match nothing in Cisco's records. Published ids are far shorter (UNVERIFIED: Cisco gives
/// no format).
pub const MAX_GTRID_CHARS: usize = 256;

/// `value` as a global transaction id worth keeping and logging: UTF-8, not empty once
/// trimmed, no control characters (which could forge log lines), at most
/// [`MAX_GTRID_CHARS`] characters.
pub(crate) fn usable_gtrid(value: &[u8]) -> Option<&str> {
    let value = std::str::from_utf8(value).ok()?.trim();
    let usable = !value.is_empty()
        && !value.chars().any(char::is_control)
        && value.chars().nth(MAX_GTRID_CHARS).is_none();
    usable.then_some(value)
}

/// The first `x-hub-signature` value and the first usable `x-wx-gtrid` value among
/// `headers` (names matched in any letter case, surrounding spaces ignored), in one pass.
fn read_headers<I, K, V>(headers: I) -> (Option<V>, Option<Box<str>>)
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<[u8]>,
{
    let mut hub_signature = None;
    let mut gtrid = None;
    let mut gtrid_seen = false;
    for (name, value) in headers {
        let name = name.as_ref().trim();
        if hub_signature.is_none() && name.eq_ignore_ascii_case(signature::HEADER) {
            hub_signature = Some(value);
        } else if !gtrid_seen && name.eq_ignore_ascii_case(GTRID_HEADER) {
            // Only the first: a later one is no more trustworthy, and picking among them
            // would make the choice depend on the proxy's order.
            gtrid_seen = true;
            gtrid = usable_gtrid(value.as_ref()).map(Box::from);
        }
    }
    (hub_signature, gtrid)
}

/// How many claims made through [`Receiver::receive`] and [`Receiver::accept`] are
/// remembered for [`Receiver::release`] at once; past it the oldest is forgotten (its claim
/// then ends with its lease instead).
const MAX_REMEMBERED_CLAIMS: usize = 65_536;

/// Why a webhook call was refused. [`ReceiveError::status`] is the HTTP status to answer.
///
/// ```
/// use webex_connect_whatsapp::receiver::{ReceiveError, Receiver};
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let receiver = Receiver::builder().allow_unsigned().build()?;
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
    /// The body could not be read to its end (the connection failed mid-body): nothing is
    /// known of the event, so let Webex Connect deliver it again.
    #[error("the webhook body could not be read to its end: {0}")]
    Unreadable(#[source] Box<dyn StdError + Send + Sync>),
    /// A secret is configured and the signature is missing, malformed or wrong.
    #[error("webhook signature check failed: {0}")]
    Signature(#[from] SignatureError),
    /// The body is not a JSON object, so cannot be a Webex Connect event.
    #[error("webhook body is not a webex connect event: {0}")]
    Invalid(#[from] WebhookError),
    /// Another delivery of this event is being handled right now (it holds the claim): the
    /// handler may still fail, so this delivery is not taken for a duplicate. Answer 503 and
    /// the platform delivers it again.
    #[error("another delivery of this event is being handled; deliver it again later")]
    InProgress,
    /// The dedupe store failed; the event was not handled, so let Webex Connect retry it.
    #[error("the duplicate store failed, so the event was not handled: {0}")]
    Store(#[from] StoreError),
    /// [`Receiver::complete`] could not mark the handled event done. It *was* handled
    /// (answer 200); its claim lasts until the lease ends, and a delivery after that would be
    /// handled again.
    #[error("the duplicate store failed to mark the handled event done: {0}")]
    Complete(#[source] StoreError),
    /// [`Receiver::release`] could not undo the claim: the platform's retry may be refused
    /// as in progress until the claim's lease ends.
    #[error(
        "the duplicate store failed to release the event, so its retry may be refused until the claim's lease ends: {0}"
    )]
    Release(#[source] StoreError),
}

impl ReceiveError {
    /// The HTTP status to answer: 413, 401, 400 (not retried by Webex Connect), 503 for a
    /// body that could not be read, an event being handled by another delivery or a store
    /// failure (retried), and 200 for [`ReceiveError::Complete`] (the event was handled).
    ///
    /// 400 is reserved for bodies that are not JSON objects: an authentic event of an
    /// unknown kind is accepted, never refused.
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::ReceiveError;
    /// assert_eq!(ReceiveError::TooLarge { size: 70_000, max: 65_536 }.status(), 413);
    /// assert_eq!(ReceiveError::InProgress.status(), 503);
    /// ```
    pub fn status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => 413,
            Self::Signature(_) => 401,
            Self::Invalid(_) => 400,
            Self::Complete(_) => 200,
            Self::Unreadable(_) | Self::InProgress | Self::Store(_) | Self::Release(_) => 503,
        }
    }
}

/// Why [`ReceiverBuilder::build`] refused a setting: what it was and what is allowed.
///
/// ```
/// use std::time::Duration;
/// use webex_connect_whatsapp::receiver::{Receiver, ReceiverBuildError};
/// let err = Receiver::builder()
///     .allow_unsigned()
///     .dedupe_ttl(Duration::from_secs(60))
///     .build()
///     .unwrap_err();
/// assert!(matches!(err, ReceiverBuildError::DedupeTtl { .. }));
/// assert_eq!(
///     err.to_string(),
///     "the dedupe TTL is 60s, but it must be at least 300s (the platform retries for up to \
///      about four minutes) and at most 9223372036854775ms"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiverBuildError {
    /// [`ReceiverBuilder::dedupe_ttl`] is too short to cover the platform's retries, or
    /// longer than a store can keep.
    #[error(
        "the dedupe TTL is {ttl:?}, but it must be at least {min:?} (the platform retries for up to about four minutes) and at most {}ms",
        max.as_millis()
    )]
    DedupeTtl {
        /// The TTL given.
        ttl: Duration,
        /// [`MIN_DEDUPE_TTL`].
        min: Duration,
        /// The longest TTL a store accepts
        /// ([`MAX_TTL_MILLIS`]).
        max: Duration,
    },
    /// [`ReceiverBuilder::claim_lease`] is zero, or so long that a crashed process's claim
    /// would still turn the platform's retry away.
    #[error(
        "the claim lease is {lease:?}, but it must be at least {min:?} and at most {max:?} (the shortest gap before a platform retry)"
    )]
    ClaimLease {
        /// The lease given.
        lease: Duration,
        /// 1 ms, the finest a store keeps.
        min: Duration,
        /// [`MAX_CLAIM_LEASE`].
        max: Duration,
    },
    /// [`ReceiverBuilder::max_event_age`] is shorter than the platform's retries last (a
    /// retry would be refused as stale, and lost), or longer than the dedupe TTL (an event
    /// accepted might no longer be covered by duplicate suppression).
    #[error(
        "max_event_age is {age:?}, but it must be at least {min:?} (the platform retries for up to about four minutes) and at most the dedupe TTL, {max:?}"
    )]
    MaxEventAge {
        /// The age given.
        age: Duration,
        /// [`MIN_MAX_EVENT_AGE`].
        min: Duration,
        /// The receiver's dedupe TTL.
        max: Duration,
    },
}

/// The result of a webhook call that passed the checks.
///
/// ```
/// use webex_connect_whatsapp::receiver::{Received, Receiver};
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let receiver = Receiver::builder().allow_unsigned().build()?;
/// let none: [(&str, &str); 0] = [];
/// let body = br#"{"event":"MO","waid":"919900012345","message":"hi","tid":"x_0"}"#;
/// let first = receiver.receive(none, body).await?;
/// assert!(first.is_new());
/// receiver.complete(first.event()).await?; // handled
/// assert!(matches!(receiver.receive(none, body).await?, Received::Duplicate(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Received {
    /// Seen for the first time, and claimed: handle it, then call [`Receiver::complete`]
    /// (and answer 200) or [`Receiver::release`] (and answer 503).
    New(WebhookEvent),
    /// Already handled (a retry or a duplicate): answer 200 and do nothing else.
    Duplicate(WebhookEvent),
    /// Older than [`ReceiverBuilder::max_event_age`]: a replay from beyond the dedupe window.
    /// Answer 200 (a 4xx would not be retried either, and a 5xx would only invite pointless
    /// retries) and do nothing else.
    Stale(WebhookEvent),
}

impl Received {
    /// Whether this is the first time the event arrived (the one to handle).
    pub fn is_new(&self) -> bool {
        matches!(self, Self::New(_))
    }

    /// The event, whatever became of it.
    pub fn event(&self) -> &WebhookEvent {
        match self {
            Self::New(e) | Self::Duplicate(e) | Self::Stale(e) => e,
        }
    }

    /// The event, whatever became of it.
    pub fn into_event(self) -> WebhookEvent {
        match self {
            Self::New(e) | Self::Duplicate(e) | Self::Stale(e) => e,
        }
    }
}

/// Counts of what a [`Receiver`] saw.
///
/// ```
/// use webex_connect_whatsapp::receiver::Receiver;
/// let stats = Receiver::builder().allow_unsigned().build()?.stats();
/// assert_eq!(stats.new_events + stats.duplicates + stats.unknown_events, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ReceiverStats {
    /// Events handed over (claimed, or without a key).
    pub new_events: u64,
    /// Duplicates of handled events suppressed (answered 200).
    pub duplicates: u64,
    /// Deliveries refused because another delivery of the event was being handled
    /// ([`ReceiveError::InProgress`], 503).
    pub in_progress: u64,
    /// Events older than [`ReceiverBuilder::max_event_age`], not handed over
    /// ([`Received::Stale`], 200).
    pub stale: u64,
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
    /// Events marked handled with [`Receiver::complete`].
    pub completed: u64,
    /// Events whose claim was undone with [`Receiver::release`].
    pub released: u64,
    /// Calls refused for a body over the limit (413).
    pub too_large: u64,
    /// Calls refused for a body that could not be read to its end (503).
    pub unreadable: u64,
    /// Calls refused, or events left claimed, because the dedupe store failed.
    pub store_errors: u64,
}

/// How many distinct unknown event names are counted one by one; the rest share
/// [`OTHER_UNKNOWN_KINDS`], so a sender cannot grow the map without bound.
///
/// The same map decides what is logged at `warn`: the first event of each counted name, and
/// the first event counted under [`OTHER_UNKNOWN_KINDS`]; every later one is logged at
/// `debug`. Each [`Receiver`] keeps its own map, so each process warns once per kind.
pub const MAX_UNKNOWN_KINDS: usize = 32;

/// The name under which unknown events beyond [`MAX_UNKNOWN_KINDS`] names are counted.
pub const OTHER_UNKNOWN_KINDS: &str = "(other)";

/// The longest event name kept in counts and logs, in characters.
const MAX_KIND_CHARS: usize = 64;

#[derive(Debug, Default)]
struct Counters {
    unkeyed: AtomicU64,
    stale: AtomicU64,
    bad_signature: AtomicU64,
    invalid: AtomicU64,
    too_large: AtomicU64,
    unreadable: AtomicU64,
    store_errors: AtomicU64,
    unknown: AtomicU64,
    unknown_kinds: Mutex<HashMap<String, u64>>,
}

/// How an unknown event was counted, for its log line.
#[cfg_attr(
    not(any(feature = "client", feature = "axum")),
    allow(
        dead_code,
        reason = "read by the log lines only, which exist only with tracing (features client or axum)"
    )
)]
struct UnknownKind {
    /// Its event name, shortened to [`MAX_KIND_CHARS`].
    name: String,
    /// Where it was counted: its name, or [`OTHER_UNKNOWN_KINDS`].
    slot: String,
    /// Whether it is the first event counted there (logged at `warn`; later ones at `debug`).
    first: bool,
}

impl Counters {
    /// Counts an unknown event under its (shortened) name, or under [`OTHER_UNKNOWN_KINDS`]
    /// once [`MAX_UNKNOWN_KINDS`] names are counted, and says whether it is the first there.
    fn unknown(&self, name: Option<&str>) -> UnknownKind {
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
        let count = kinds.entry(slot.clone()).or_default();
        *count = count.saturating_add(1);
        let first = *count == 1;
        UnknownKind { name, slot, first }
    }

    fn store_error(&self) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// The claims [`Receiver::accept`] made, so that [`Receiver::release`] can undo them with
/// their owner token: key -> (owner, end of the lease), ordered by the end of the lease.
type RememberedClaims = BoundedMap<DedupeKey, (ClaimOwner, Instant), Instant>;

/// Verifies, parses and deduplicates webhook calls, and tracks delivery states.
///
/// Build it once with [`Receiver::builder`] and share it (`Arc<Receiver>`); every method
/// takes `&self`. See the [module docs](self) for what each call goes through.
///
/// ```
/// use webex_connect_whatsapp::receiver::Receiver;
/// use webex_connect_whatsapp::webhook::signature::WebhookSecret;
/// let receiver = Receiver::builder()
///     .secret(WebhookSecret::new("hub-secret")?)
///     .max_body_bytes(32 * 1024)
///     .build()?;
/// assert!(receiver.requires_signature());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Receiver<S = InMemoryDedupeStore> {
    secret: Option<WebhookSecret>,
    verify: VerifyOptions,
    max_body_bytes: usize,
    max_event_age: Option<Duration>,
    dedupe: Deduplicator<S>,
    claims: Mutex<RememberedClaims>,
    tracker: DeliveryTracker,
    counters: Counters,
}

impl<S> fmt::Debug for Receiver<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("legacy_sha1", &self.verify.legacy_sha1_allowed())
            .field("max_body_bytes", &self.max_body_bytes)
            .field("dedupe_ttl", &self.dedupe.ttl())
            .field("claim_lease", &self.dedupe.lease())
            .field("max_event_age", &self.max_event_age)
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
    /// use webex_connect_whatsapp::webhook::signature::WebhookSecret;
    /// let signed = Receiver::builder().secret(WebhookSecret::new("hub-secret")?).build()?;
    /// assert_eq!(signed.max_body_bytes(), DEFAULT_MAX_BODY_BYTES);
    /// let unsigned = Receiver::builder().allow_unsigned().build()?;
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
            store: InMemoryDedupeStore::default(),
            settings: Settings {
                verify: VerifyOptions::default(),
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
                dedupe_ttl: DEFAULT_DEDUPE_TTL,
                claim_lease: DEFAULT_CLAIM_LEASE,
                max_event_age: None,
                tracked_messages: DEFAULT_TRACKED_MESSAGES,
            },
            auth: PhantomData,
        }
    }
}

impl<S: DedupeStore> Receiver<S> {
    /// Checks one webhook call and returns its event: new (and claimed), a duplicate, or
    /// stale.
    ///
    /// `headers` is any collection of `(name, value)` pairs (`&http::HeaderMap` works). For
    /// a [`Received::New`] event, call [`Receiver::complete`] once it is handled, or
    /// [`Receiver::release`] if it could not be (see the [module docs](self)).
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

    /// The synchronous part of [`Receiver::receive`]: size, signature and parse. The first
    /// [`GTRID_HEADER`] header's value, when usable, stays with the event
    /// ([`WebhookEvent::gtrid`]).
    ///
    /// # Errors
    ///
    /// [`ReceiveError::TooLarge`], [`ReceiveError::Signature`] or [`ReceiveError::Invalid`].
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::Receiver;
    /// let receiver = Receiver::builder().allow_unsigned().max_body_bytes(8).build()?;
    /// let none: [(&str, &str); 0] = [];
    /// assert_eq!(receiver.check(none, br#"{"event":"MO","waid":"1"}"#).unwrap_err().status(), 413);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
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
        let (hub_signature, gtrid) = read_headers(headers);
        if let Some(secret) = &self.secret {
            hub_signature
                .ok_or(SignatureError::Missing)
                .and_then(|value| signature::verify_value_with(value, body, secret, self.verify))
                .map_err(|e| {
                    self.counters.bad_signature.fetch_add(1, Ordering::Relaxed);
                    ReceiveError::Signature(e)
                })?;
        }
        let mut event = webhook::parse(body).map_err(|e| {
            self.counters.invalid.fetch_add(1, Ordering::Relaxed);
            ReceiveError::Invalid(e)
        })?;
        if let Some(gtrid) = gtrid {
            event.set_header_gtrid(gtrid);
        }
        Ok(event)
    }

    /// The asynchronous part of [`Receiver::receive`]: the age check, the claim, the delivery
    /// state, and the count of unknown event kinds.
    ///
    /// # Errors
    ///
    /// [`ReceiveError::InProgress`] when another delivery of the event is being handled,
    /// [`ReceiveError::Store`] when the dedupe store fails.
    pub async fn accept(&self, event: WebhookEvent) -> Result<Received, ReceiveError> {
        let owner = ClaimOwner::new();
        let (received, claimed) = self.claim_as(event, &owner).await?;
        if let Some(key) = claimed {
            self.remember_claim(key, owner);
        }
        Ok(received)
    }

    /// [`Receiver::accept`] with the caller's owner token, so that the caller can release
    /// the claim even when it is dropped before the claim's answer; returns the key it
    /// claimed, if any. Nothing is remembered for [`Receiver::release`].
    pub(crate) async fn claim_as(
        &self,
        event: WebhookEvent,
        owner: &ClaimOwner,
    ) -> Result<(Received, Option<DedupeKey>), ReceiveError> {
        if self.is_stale(&event) {
            self.counters.stale.fetch_add(1, Ordering::Relaxed);
            #[cfg(any(feature = "client", feature = "axum"))]
            tracing::info!("webhook event older than max_event_age: not handed over");
            return Ok((Received::Stale(event), None));
        }
        let key = DedupeKey::from_event(&event).ok();
        if let Some(key) = &key {
            let claim = self.dedupe.claim(key, owner).await.map_err(|e| {
                self.counters.store_error();
                ReceiveError::Store(e)
            })?;
            match claim {
                Claim::Claimed => {}
                Claim::Done => return Ok((Received::Duplicate(event), None)),
                Claim::Pending => return Err(ReceiveError::InProgress),
            }
        } else {
            self.counters.unkeyed.fetch_add(1, Ordering::Relaxed);
        }
        match &event {
            WebhookEvent::DeliveryReceipt(receipt) => {
                self.tracker.record(receipt);
            }
            WebhookEvent::Unknown(unknown) => {
                let kind = self.counters.unknown(unknown.event());
                // The name only: the body may hold personal data. Once per kind at warn, so
                // that a new kind the platform starts sending is noticed without filling the
                // logs with one line per event; the counters keep the full count.
                #[cfg(any(feature = "client", feature = "axum"))]
                if kind.first {
                    tracing::warn!(
                        event = ?kind.name,
                        counted_as = %kind.slot,
                        "webhook event of a kind this crate does not model: accepted and handed over (the first of its kind; later ones are logged at debug)"
                    );
                } else {
                    tracing::debug!(
                        event = ?kind.name,
                        counted_as = %kind.slot,
                        "webhook event of a kind this crate does not model: accepted and handed over"
                    );
                }
                #[cfg(not(any(feature = "client", feature = "axum")))]
                let _ = kind;
            }
            _ => {}
        }
        Ok((Received::New(event), key))
    }

    /// Marks a handled event done: every later delivery of it is a
    /// [`Received::Duplicate`] for the dedupe TTL. Call it once your handler succeeded,
    /// before answering 200.
    ///
    /// An event without a key (see [`ReceiverStats::unkeyed`]) was never claimed: completing
    /// it does nothing.
    ///
    /// # Errors
    ///
    /// [`ReceiveError::Complete`] when the dedupe store fails. The event was handled all the
    /// same: answer 200.
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::{Received, Receiver};
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let receiver = Receiver::builder().allow_unsigned().build()?;
    /// let none: [(&str, &str); 0] = [];
    /// let body = br#"{"event":"MO","waid":"919900012345","message":"hi","tid":"x_0"}"#;
    /// let received = receiver.receive(none, body).await?;
    /// // ... the handler stored the message.
    /// receiver.complete(received.event()).await?;
    /// assert!(matches!(receiver.receive(none, body).await?, Received::Duplicate(_)));
    /// assert_eq!(receiver.stats().completed, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn complete(&self, event: &WebhookEvent) -> Result<(), ReceiveError> {
        let Ok(key) = DedupeKey::from_event(event) else {
            return Ok(());
        };
        self.take_claim(&key);
        self.dedupe.complete(&key).await.map_err(|e| {
            self.counters.store_error();
            ReceiveError::Complete(e)
        })
    }

    /// Undoes the claim of an event that was not handled (the handler failed, timed out or
    /// was not run), so that Webex Connect's retry counts as new instead of being refused.
    /// Answer the webhook call with a status Webex Connect retries (503) afterwards.
    ///
    /// Only the claim this receiver's [`receive`](Self::receive) or
    /// [`accept`](Self::accept) made is undone: never a done mark, never another delivery's
    /// claim. An event without a key (see [`ReceiverStats::unkeyed`]) was never claimed, and
    /// a claim whose lease has ended is gone already: releasing them does nothing. Delivery
    /// states already folded into the [`DeliveryTracker`] stay: a retried receipt folds in
    /// to the same state.
    ///
    /// # Errors
    ///
    /// [`ReceiveError::Release`] when the dedupe store fails; the retry may then be refused as
    /// in progress until the claim's lease ends.
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::Receiver;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let receiver = Receiver::builder().allow_unsigned().build()?;
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
        let Some(owner) = self.take_claim(&key) else {
            return Ok(());
        };
        self.release_key(&key, &owner).await
    }

    /// Undoes `owner`'s claim on `event` (made with [`Receiver::claim_as`]).
    #[cfg(feature = "axum")]
    pub(crate) async fn release_as(
        &self,
        event: &WebhookEvent,
        owner: &ClaimOwner,
    ) -> Result<(), ReceiveError> {
        let Ok(key) = DedupeKey::from_event(event) else {
            return Ok(());
        };
        self.release_key(&key, owner).await
    }

    async fn release_key(&self, key: &DedupeKey, owner: &ClaimOwner) -> Result<(), ReceiveError> {
        self.dedupe.release(key, owner).await.map_err(|e| {
            self.counters.store_error();
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

    /// Counts a body that could not be read to its end.
    #[cfg(feature = "axum")]
    pub(crate) fn unreadable(&self, source: Box<dyn StdError + Send + Sync>) -> ReceiveError {
        self.counters.unreadable.fetch_add(1, Ordering::Relaxed);
        ReceiveError::Unreadable(source)
    }

    /// Whether the event's timestamp (a future one counts as now) is older than
    /// [`ReceiverBuilder::max_event_age`]. An event without a timestamp is never stale.
    fn is_stale(&self, event: &WebhookEvent) -> bool {
        let Some(max_age) = self.max_event_age else {
            return false;
        };
        let at = match event {
            WebhookEvent::DeliveryReceipt(r) => r.timestamp(),
            WebhookEvent::Inbound(m) => m.timestamp(),
            WebhookEvent::Click(c) => c.timestamp(),
            _ => None,
        };
        let Some(at) = at else {
            return false;
        };
        let now: OffsetDateTime = SystemClock.now();
        // A negative age (a timestamp in the future) does not convert: it counts as now.
        Duration::try_from(now - at).is_ok_and(|age| age > max_age)
    }

    fn remember_claim(&self, key: DedupeKey, owner: ClaimOwner) {
        let now = Instant::now();
        let until = now.checked_add(self.dedupe.lease()).unwrap_or(now);
        let mut claims = self.claims();
        // Claims whose lease has ended need no release: drop them first.
        claims.pop_front_while(|(_, until)| *until <= now);
        claims.insert(key, (owner, until), until);
    }

    fn take_claim(&self, key: &DedupeKey) -> Option<ClaimOwner> {
        self.claims().remove(key).map(|(owner, _)| owner)
    }

    fn claims(&self) -> MutexGuard<'_, RememberedClaims> {
        // One map update per call: a panic elsewhere cannot leave it in a state that matters.
        self.claims.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S> Receiver<S> {
    /// The delivery states folded from the receipts received so far.
    pub fn tracker(&self) -> &DeliveryTracker {
        &self.tracker
    }

    /// The duplicate suppressor (and through it, the dedupe store).
    pub fn deduplicator(&self) -> &Deduplicator<S> {
        &self.dedupe
    }

    /// The largest body accepted, in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// How long a claim lasts ([`ReceiverBuilder::claim_lease`]).
    pub fn claim_lease(&self) -> Duration {
        self.dedupe.lease()
    }

    /// How long a handled event is remembered ([`ReceiverBuilder::dedupe_ttl`]).
    pub fn dedupe_ttl(&self) -> Duration {
        self.dedupe.ttl()
    }

    /// The age past which an event is [stale](Received::Stale)
    /// ([`ReceiverBuilder::max_event_age`]), if set.
    pub fn max_event_age(&self) -> Option<Duration> {
        self.max_event_age
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
    /// let receiver = Receiver::builder().allow_unsigned().build()?;
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
        S: DedupeStore,
    {
        let DedupeStats {
            first,
            duplicates,
            in_progress,
            released,
            completed,
            ..
        } = self.dedupe.stats();
        let c = &self.counters;
        ReceiverStats {
            new_events: first + c.unkeyed.load(Ordering::Relaxed),
            duplicates,
            in_progress,
            stale: c.stale.load(Ordering::Relaxed),
            unkeyed: c.unkeyed.load(Ordering::Relaxed),
            bad_signature: c.bad_signature.load(Ordering::Relaxed),
            invalid: c.invalid.load(Ordering::Relaxed),
            too_large: c.too_large.load(Ordering::Relaxed),
            unreadable: c.unreadable.load(Ordering::Relaxed),
            store_errors: c.store_errors.load(Ordering::Relaxed),
            unknown_events: c.unknown.load(Ordering::Relaxed),
            completed,
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

/// The settings of a [`ReceiverBuilder`] that do not change its type.
#[derive(Debug, Clone, Copy)]
struct Settings {
    verify: VerifyOptions,
    max_body_bytes: usize,
    dedupe_ttl: Duration,
    claim_lease: Duration,
    max_event_age: Option<Duration>,
    tracked_messages: usize,
}

impl Settings {
    /// Refuses durations that would lose events or let duplicates through (see
    /// [`ReceiverBuildError`]).
    fn check(&self) -> Result<(), ReceiverBuildError> {
        let max_ttl = Duration::from_millis(u64::try_from(MAX_TTL_MILLIS).unwrap_or(u64::MAX));
        if self.dedupe_ttl < MIN_DEDUPE_TTL || self.dedupe_ttl > max_ttl {
            return Err(ReceiverBuildError::DedupeTtl {
                ttl: self.dedupe_ttl,
                min: MIN_DEDUPE_TTL,
                max: max_ttl,
            });
        }
        let min_lease = Duration::from_millis(1);
        if self.claim_lease < min_lease || self.claim_lease > MAX_CLAIM_LEASE {
            return Err(ReceiverBuildError::ClaimLease {
                lease: self.claim_lease,
                min: min_lease,
                max: MAX_CLAIM_LEASE,
            });
        }
        if let Some(age) = self.max_event_age
            && (age < MIN_MAX_EVENT_AGE || age > self.dedupe_ttl)
        {
            return Err(ReceiverBuildError::MaxEventAge {
                age,
                min: MIN_MAX_EVENT_AGE,
                max: self.dedupe_ttl,
            });
        }
        Ok(())
    }
}

/// Configures a [`Receiver`]. [`build`](Self::build) exists only once
/// [`secret`](Self::secret) or [`allow_unsigned`](Self::allow_unsigned) was chosen, so a
/// receiver that forgot its secret does not compile; it checks the durations (dedupe TTL,
/// claim lease, maximum event age) and returns a [`ReceiverBuildError`] for one that would
/// lose events or let duplicates through.
///
/// ```
/// use std::time::Duration;
/// use webex_connect_whatsapp::conversation::store::InMemoryDedupeStore;
/// use webex_connect_whatsapp::receiver::Receiver;
/// use webex_connect_whatsapp::webhook::signature::WebhookSecret;
/// let receiver = Receiver::builder()
///     .secret(WebhookSecret::new("hub-secret")?)
///     .dedupe_store(InMemoryDedupeStore::new(10_000))
///     .dedupe_ttl(Duration::from_secs(2 * 60 * 60))
///     .claim_lease(Duration::from_secs(15))
///     .max_event_age(Duration::from_secs(60 * 60))
///     .tracked_messages(50_000)
///     .build()?;
/// assert_eq!(receiver.tracker().capacity(), 50_000);
/// assert_eq!(receiver.claim_lease(), Duration::from_secs(15));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use = "call .build() to get the receiver"]
pub struct ReceiverBuilder<S = InMemoryDedupeStore, A = auth_state::NotChosen> {
    secret: Option<WebhookSecret>,
    store: S,
    settings: Settings,
    auth: PhantomData<A>,
}

impl<S: DedupeStore> ReceiverBuilder<S, auth_state::NotChosen> {
    /// Accepts calls without a signature: use that only behind another authentication
    /// (an authorization profile's header, mTLS, an allow-list of Webex Connect's egress
    /// addresses), or in tests.
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::Receiver;
    /// assert!(!Receiver::builder().allow_unsigned().build()?.requires_signature());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allow_unsigned(self) -> ReceiverBuilder<S, auth_state::Chosen> {
        self.with_auth(None)
    }
}

impl<S: DedupeStore, A> ReceiverBuilder<S, A> {
    fn with_auth<B>(self, secret: Option<WebhookSecret>) -> ReceiverBuilder<S, B> {
        ReceiverBuilder {
            secret,
            store: self.store,
            settings: self.settings,
            auth: PhantomData,
        }
    }

    /// Requires every call to carry a valid `x-hub-signature` made with this secret (set
    /// "Hub Signature" on the webhook in Webex Connect).
    pub fn secret(self, secret: WebhookSecret) -> ReceiverBuilder<S, auth_state::Chosen> {
        self.with_auth(Some(secret))
    }

    crate::setters::setters! {
        /// Also accepts HMAC-SHA1 signatures, for a webhook still set to Webex Connect's legacy
        /// algorithm. Without this, a SHA-1 signature is refused (401) with
        /// [`SignatureError::LegacySha1NotAllowed`]. Prefer switching the webhook to SHA-256.
        ///
        /// ```
        /// use webex_connect_whatsapp::receiver::Receiver;
        /// use webex_connect_whatsapp::webhook::signature::WebhookSecret;
        /// let receiver = Receiver::builder()
        ///     .secret(WebhookSecret::new("hub-secret")?)
        ///     .allow_legacy_sha1()
        ///     .build()?;
        /// assert!(receiver.accepts_legacy_sha1());
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        #[cfg(feature = "legacy-sha1")]
        #[cfg_attr(docsrs, doc(cfg(feature = "legacy-sha1")))]
        fn allow_legacy_sha1(self) =>
            self.settings.verify = self.settings.verify.allow_legacy_sha1();

        /// The largest body accepted, in bytes (default [`DEFAULT_MAX_BODY_BYTES`]).
        fn max_body_bytes(self, max: usize) => self.settings.max_body_bytes = max;

        /// How long a handled event is remembered for duplicate suppression (default
        /// [`DEFAULT_DEDUPE_TTL`], one
        /// hour). [`build`](Self::build) refuses less than
        /// [`MIN_DEDUPE_TTL`] (five minutes,
        /// as long as the platform's retries last).
        fn dedupe_ttl(self, ttl: Duration) => self.settings.dedupe_ttl = ttl;

        /// How long a claim on a new event lasts if it is neither completed nor released, for
        /// instance because the process died while handling it (default
        /// [`DEFAULT_CLAIM_LEASE`], 20 s).
        /// Meanwhile every other delivery of the event is answered 503. Keep it longer than
        /// your handler may take: the axum router cuts its handlers off at three quarters of
        /// the lease. [`build`](Self::build) refuses zero and more than
        /// [`MAX_CLAIM_LEASE`] (30 s, under
        /// the platform's gap before a retry).
        fn claim_lease(self, lease: Duration) => self.settings.claim_lease = lease;

        /// Refuses replays: an event whose timestamp is older than `age` is not handed over
        /// but answered as [`Received::Stale`] (200) and counted in
        /// [`ReceiverStats::stale`]. A timestamp in the future counts as now; an event
        /// without one is never stale. Off by default. [`build`](Self::build) refuses an age
        /// shorter than [`MIN_MAX_EVENT_AGE`] (a retry could be refused, and lost) or longer
        /// than the dedupe TTL (an accepted event might no longer be covered by duplicate
        /// suppression).
        fn max_event_age(self, age: Duration) => self.settings.max_event_age = Some(age);

        /// How many (transid, destination) delivery states the [`DeliveryTracker`] remembers
        /// (default [`DEFAULT_TRACKED_MESSAGES`]).
        fn tracked_messages(self, capacity: usize) => self.settings.tracked_messages = capacity;
    }

    /// Where dedupe marks are kept (default: [`InMemoryDedupeStore::default`]); use a shared
    /// store such as Redis when several receivers share the traffic.
    pub fn dedupe_store<T: DedupeStore>(self, store: T) -> ReceiverBuilder<T, A> {
        ReceiverBuilder {
            secret: self.secret,
            store,
            settings: self.settings,
            auth: PhantomData,
        }
    }

    /// Builds the receiver. Available once [`secret`](Self::secret) or
    /// [`allow_unsigned`](ReceiverBuilder::allow_unsigned) was called.
    ///
    /// # Errors
    ///
    /// [`ReceiverBuildError`] for a dedupe TTL, claim lease or maximum event age outside
    /// what is allowed (each setter says what that is).
    pub fn build(self) -> Result<Receiver<S>, ReceiverBuildError>
    where
        A: auth_state::IsChosen,
    {
        let settings = self.settings;
        settings.check()?;
        Ok(Receiver {
            secret: self.secret,
            verify: settings.verify,
            max_body_bytes: settings.max_body_bytes,
            max_event_age: settings.max_event_age,
            dedupe: Deduplicator::new(self.store)
                .with_ttl(settings.dedupe_ttl)
                .with_lease(settings.claim_lease),
            claims: Mutex::new(BoundedMap::new(MAX_REMEMBERED_CLAIMS)),
            tracker: DeliveryTracker::new(settings.tracked_messages),
            counters: Counters::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// A wrapper that adds only context says its reason too, so `{error}` alone tells what to
    /// fix; the reason stays in `source()` for reporters that walk the chain.
    #[test]
    fn messages_carry_their_reason() {
        let errors = [
            ReceiveError::from(SignatureError::Missing),
            ReceiveError::from(WebhookError::NoSender),
        ];
        for error in errors {
            let cause = error.source().map(ToString::to_string).unwrap_or_default();
            assert!(!cause.is_empty(), "{error:?} has a source");
            assert!(
                error.to_string().ends_with(&cause),
                "{error} does not say {cause}"
            );
        }
    }
}
