//! The 24-hour customer-service window: session messages (text, media, interactive...) may be
//! sent to a recipient only within 24 hours of that recipient's last inbound message (FAQ:
//! "Session messages ... can be sent to the customer only within 24 hours of the last customer
//! message"). Outside it the send fails minutes later with receipt code 7710 (Meta 131047),
//! and only a template may be sent.
//!
//! [`SessionWindows`] tracks the time of each recipient's last inbound message and answers
//! [`WindowStatus::Open`] (until when), [`WindowStatus::Closed`] (since when) or
//! [`WindowStatus::Unknown`]. Feed it from your inbound webhook handler with one line:
//!
//! ```
//! # use webex_connect_whatsapp::conversation::window::SessionWindows;
//! # use webex_connect_whatsapp::webhook::InboundMessage;
//! # async fn handler(windows: &SessionWindows, message: &InboundMessage)
//! # -> Result<(), webex_connect_whatsapp::conversation::store::StoreError> {
//! windows.record_message(message).await?;
//! # Ok(()) }
//! ```
//!
//! # Recipients
//!
//! A window belongs to whoever wrote: a phone number, or a business-scoped user id (BSUID) for
//! users with a username and no phone number. Every method takes any [`RecipientKey`]: a
//! [`Recipient`](crate::Recipient), a [`PhoneNumber`](crate::PhoneNumber), a
//! [`Bsuid`](crate::Bsuid), or an id as received (`"9199xxxxxxxx"`, `"IN.2149372115xxxxxx"`).
//! An inbound message that carries both a `waid` and a BSUID opens the window under both
//! ([`SessionWindows::record_message`]), so a send to either id finds it open.
//!
//! # The boundary
//!
//! A message received at `t` opens the window for the half-open interval `[t, t + 24 h)`:
//! at `t + 23:59:59.999999` it is open, at exactly `t + 24:00:00` it is closed. Times are kept
//! to the microsecond (finer parts are dropped when recorded), so every store agrees.
//!
//! A time in the future (a sender's clock ahead of ours, or a forged `ts`) counts as now
//! when it is recorded: no window ever ends later than 24 hours after the moment it was
//! recorded.
//!
//! # Time
//!
//! The tracker reads "now" from a [`Clock`]: [`SystemClock`] by default, a
//! [`ManualClock`](crate::conversation::clock::ManualClock) in tests
//! ([`SessionWindows::with_clock`]).
//! [`SessionWindows::status_at`] takes `now` explicitly when you already have it.
//!
//! # Storage
//!
//! [`WindowStore`] is the pluggable backend. [`InMemoryWindowStore`] (the default) is bounded;
//! with the `redis` feature, [`RedisStore`](crate::conversation::redis::RedisStore)
//! shares windows between instances. Only the recipient id and one timestamp are stored, and each entry is
//! dropped [`retention`](SessionWindows::with_retention) after its window closed (24 hours by
//! default, so "closed since" stays known for a day).

use std::time::Duration;

use time::OffsetDateTime;

use crate::conversation::clock::{Clock, SystemClock, saturating_add};
use crate::conversation::store::{
    InMemoryWindowStore, InboundRecord, RecipientKey, StoreError, WindowStore, check_waid,
    checked_key,
};
use crate::webhook::InboundMessage;

/// How long a session window stays open after the customer's last inbound message.
pub const SESSION_WINDOW: Duration = Duration::from_hours(24);

/// [`SESSION_WINDOW`] as the `time` crate's duration, so a status costs no conversion.
const SESSION_WINDOW_SPAN: time::Duration = time::Duration::seconds(24 * 60 * 60);
const _: () =
    assert!(SESSION_WINDOW_SPAN.whole_seconds().unsigned_abs() == SESSION_WINDOW.as_secs());

/// How long an entry is kept after its window closed, unless set with
/// [`SessionWindows::with_retention`].
pub const DEFAULT_RETENTION: Duration = Duration::from_hours(24);

/// Whether a session message may be sent to a recipient now.
///
/// ```
/// use time::macros::datetime;
/// use webex_connect_whatsapp::conversation::window::WindowStatus;
///
/// let status = WindowStatus::Open { until: datetime!(2026-01-02 09:00 UTC) };
/// assert!(status.is_open());
/// assert!(!WindowStatus::Unknown.is_open());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WindowStatus {
    /// Session messages may be sent until (not including) `until`.
    Open {
        /// When the window closes: 24 hours after the last inbound message.
        until: OffsetDateTime,
    },
    /// The window closed at `since`; only templates may be sent (a session message would
    /// fail with 7710).
    Closed {
        /// When the window closed: 24 hours after the last inbound message.
        since: OffsetDateTime,
    },
    /// No inbound message from this recipient is known (never received, dropped after the
    /// retention period, or evicted from a full in-memory store). Treat it as closed unless
    /// you know better.
    Unknown,
}

impl WindowStatus {
    /// The status at `now` of a window opened by an inbound message at `last_inbound`.
    ///
    /// ```
    /// use time::{Duration, macros::datetime};
    /// use webex_connect_whatsapp::conversation::window::WindowStatus;
    ///
    /// let t = datetime!(2026-01-01 09:00 UTC);
    /// let open = WindowStatus::from_last_inbound(t, t + Duration::seconds(86_399));
    /// assert_eq!(open, WindowStatus::Open { until: t + Duration::hours(24) });
    /// let closed = WindowStatus::from_last_inbound(t, t + Duration::hours(24));
    /// assert_eq!(closed, WindowStatus::Closed { since: t + Duration::hours(24) });
    /// ```
    pub fn from_last_inbound(last_inbound: OffsetDateTime, now: OffsetDateTime) -> Self {
        let end = last_inbound.saturating_add(SESSION_WINDOW_SPAN);
        if now < end {
            Self::Open { until: end }
        } else {
            Self::Closed { since: end }
        }
    }

    /// True for [`WindowStatus::Open`].
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open { .. })
    }

    /// True for [`WindowStatus::Closed`] (not for [`WindowStatus::Unknown`]).
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed { .. })
    }
}

/// Tracks each recipient's 24-hour session window.
///
/// Cheap to share: wrap it in an `Arc` (or share the store with `Arc<S>`) to use it from
/// your webhook handler and your senders at once.
///
/// ```
/// use std::time::Duration;
/// use time::macros::datetime;
/// use webex_connect_whatsapp::conversation::clock::ManualClock;
/// use webex_connect_whatsapp::conversation::store::InMemoryWindowStore;
/// use webex_connect_whatsapp::conversation::window::{SessionWindows, WindowStatus};
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let clock = ManualClock::new(datetime!(2026-01-01 09:00 UTC));
/// let windows = SessionWindows::with_clock(InMemoryWindowStore::new(1000), clock.clone());
/// assert_eq!(windows.status("9199xxxxxxxx").await?, WindowStatus::Unknown);
///
/// windows.record_inbound_now("9199xxxxxxxx").await?;
/// clock.advance(Duration::from_secs(86_399));
/// assert!(windows.status("9199xxxxxxxx").await?.is_open());
/// clock.advance(Duration::from_secs(1));
/// assert_eq!(
///     windows.status("9199xxxxxxxx").await?,
///     WindowStatus::Closed { since: datetime!(2026-01-02 09:00 UTC) },
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SessionWindows<S = InMemoryWindowStore, C = SystemClock> {
    store: S,
    clock: C,
    retention: Duration,
}

impl<S: WindowStore> SessionWindows<S, SystemClock> {
    /// A tracker on `store` that reads the system clock.
    pub fn new(store: S) -> Self {
        Self::with_clock(store, SystemClock)
    }
}

impl Default for SessionWindows {
    /// An in-memory tracker ([`DEFAULT_WINDOW_CAPACITY`] recipients) on the system clock.
    ///
    /// [`DEFAULT_WINDOW_CAPACITY`]: crate::conversation::store::DEFAULT_WINDOW_CAPACITY
    fn default() -> Self {
        Self::new(InMemoryWindowStore::default())
    }
}

impl<S: WindowStore, C: Clock> SessionWindows<S, C> {
    /// A tracker on `store` that reads `clock` (a
    /// [`ManualClock`](crate::conversation::clock::ManualClock) in tests).
    pub fn with_clock(store: S, clock: C) -> Self {
        Self {
            store,
            clock,
            retention: DEFAULT_RETENTION,
        }
    }

    crate::setters::setters! {
        /// How long an entry is kept after its window closed (default [`DEFAULT_RETENTION`]).
        /// During that time [`status`](Self::status) answers [`WindowStatus::Closed`]; after it,
        /// [`WindowStatus::Unknown`].
        #[must_use]
        fn with_retention(self, retention: Duration) => self.retention = retention;
    }

    /// How long an entry is kept after its window closed.
    pub fn retention(&self) -> Duration {
        self.retention
    }

    /// The store the windows are kept in.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The clock "now" is read from.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Records an inbound message from `waid` (any [`RecipientKey`]: an id as received, a
    /// phone number, a BSUID) received at `at` (the webhook's timestamp) and returns the
    /// window's status now. A late or repeated webhook with an older time never moves the
    /// window backwards; a time in the future counts as now. For a parsed webhook,
    /// [`record_message`](Self::record_message) records every id the sender has.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidRecipient`] for an empty or malformed id; other [`StoreError`]s
    /// when the store fails.
    ///
    /// ```
    /// # use webex_connect_whatsapp::conversation::window::{SessionWindows, WindowStatus};
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let windows = SessionWindows::default();
    /// let now = time::OffsetDateTime::now_utc();
    /// let status = windows.record_inbound("9199xxxxxxxx", now).await?;
    /// assert!(status.is_open());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn record_inbound<W: RecipientKey + ?Sized>(
        &self,
        waid: &W,
        at: OffsetDateTime,
    ) -> Result<WindowStatus, StoreError> {
        let waid = checked_key(waid)?;
        let now = self.clock.now();
        let at = truncate_to_micros(at.min(now));
        let latest = self
            .store
            .record_inbound(self.inbound(waid, at, now))
            .await?;
        Ok(WindowStatus::from_last_inbound(latest, now))
    }

    /// Records an inbound message from `waid` received now (by the clock).
    ///
    /// # Errors
    ///
    /// As [`record_inbound`](Self::record_inbound).
    ///
    /// ```
    /// # use webex_connect_whatsapp::conversation::window::SessionWindows;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let windows = SessionWindows::default();
    /// assert!(windows.record_inbound_now("9199xxxxxxxx").await?.is_open());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn record_inbound_now<W: RecipientKey + ?Sized>(
        &self,
        waid: &W,
    ) -> Result<WindowStatus, StoreError> {
        self.record_inbound(waid, self.clock.now()).await
    }

    /// Records a parsed inbound message under every id its sender has
    /// ([`InboundMessage::sender_ids`]: the `waid` and the BSUID), at
    /// [`received_at`](Self::received_at) (its `ts`, no later than now), and returns the
    /// window's status now. A user who wrote with both ids can then be answered through
    /// either.
    ///
    /// An id the store refuses (see [`check_waid`]) is skipped, not an
    /// error: the message is authentic, and refusing the webhook would lose it. A message
    /// with no usable id answers [`WindowStatus::Unknown`].
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails.
    ///
    /// ```
    /// # use webex_connect_whatsapp::conversation::window::SessionWindows;
    /// use webex_connect_whatsapp::webhook::InboundMessage;
    /// use webex_connect_whatsapp::{Bsuid, PhoneNumber, Recipient};
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let windows = SessionWindows::default();
    /// let message = InboundMessage::from_slice(
    ///     br#"{"event":"MO","waid":"447400123456","userId":"US.13491208655302741918","message":"hi"}"#,
    /// )?;
    /// assert!(windows.record_message(&message).await?.is_open());
    /// // Open for a send to either id.
    /// let phone = PhoneNumber::parse("+44 7400 123456")?;
    /// let bsuid = Bsuid::new("US.13491208655302741918")?;
    /// assert!(windows.status(&phone).await?.is_open());
    /// assert!(windows.status(&Recipient::from(bsuid)).await?.is_open());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn record_message(
        &self,
        message: &InboundMessage,
    ) -> Result<WindowStatus, StoreError> {
        let now = self.clock.now();
        let at = truncate_to_micros(received_time(message, now));
        let mut latest: Option<OffsetDateTime> = None;
        for id in message.sender_ids() {
            if check_waid(id).is_err() {
                continue;
            }
            let stored = self.store.record_inbound(self.inbound(id, at, now)).await?;
            latest = latest.max(Some(stored));
        }
        Ok(latest.map_or(WindowStatus::Unknown, |last| {
            WindowStatus::from_last_inbound(last, now)
        }))
    }

    /// When `message` counts as received: its `ts`, or now (by the clock) when it has none or
    /// one in the future. A message dated tomorrow must not keep a window open until the day
    /// after, nor date an opt-out after a later opt-in.
    ///
    /// ```
    /// use time::macros::datetime;
    /// use webex_connect_whatsapp::conversation::clock::ManualClock;
    /// use webex_connect_whatsapp::conversation::store::InMemoryWindowStore;
    /// use webex_connect_whatsapp::conversation::window::SessionWindows;
    /// use webex_connect_whatsapp::webhook::InboundMessage;
    ///
    /// let now = datetime!(2026-01-01 09:00 UTC);
    /// let windows = SessionWindows::with_clock(InMemoryWindowStore::new(10), ManualClock::new(now));
    /// let tomorrow = InboundMessage::from_slice(
    ///     br#"{"event":"MO","waid":"9199xxxxxxxx","message":"hi","ts":"2026-01-02T09:00:00Z"}"#,
    /// )?;
    /// assert_eq!(windows.received_at(&tomorrow), now);
    /// let earlier = InboundMessage::from_slice(
    ///     br#"{"event":"MO","waid":"9199xxxxxxxx","message":"hi","ts":"2026-01-01T08:00:00Z"}"#,
    /// )?;
    /// assert_eq!(windows.received_at(&earlier), datetime!(2026-01-01 08:00 UTC));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn received_at(&self, message: &InboundMessage) -> OffsetDateTime {
        received_time(message, self.clock.now())
    }

    /// The window's status now (by the clock).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails. A malformed id is simply
    /// [`WindowStatus::Unknown`].
    ///
    /// ```
    /// # use webex_connect_whatsapp::conversation::window::{SessionWindows, WindowStatus};
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let windows = SessionWindows::default();
    /// assert_eq!(windows.status("9199xxxxxxxx").await?, WindowStatus::Unknown);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn status<W: RecipientKey + ?Sized>(
        &self,
        waid: &W,
    ) -> Result<WindowStatus, StoreError> {
        self.status_at(waid, self.clock.now()).await
    }

    /// The window's status at `now`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails. A malformed id is simply
    /// [`WindowStatus::Unknown`].
    ///
    /// ```
    /// # use webex_connect_whatsapp::conversation::window::{SessionWindows, WindowStatus};
    /// use time::{Duration, OffsetDateTime};
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let windows = SessionWindows::default();
    /// let t = OffsetDateTime::now_utc();
    /// windows.record_inbound("9199xxxxxxxx", t).await?;
    /// let later = windows.status_at("9199xxxxxxxx", t + Duration::hours(25)).await?;
    /// assert!(later.is_closed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn status_at<W: RecipientKey + ?Sized>(
        &self,
        waid: &W,
        now: OffsetDateTime,
    ) -> Result<WindowStatus, StoreError> {
        let Ok(waid) = checked_key(waid) else {
            return Ok(WindowStatus::Unknown);
        };
        Ok(match self.store.last_inbound(waid, now).await? {
            Some(last) => WindowStatus::from_last_inbound(last, now),
            None => WindowStatus::Unknown,
        })
    }

    /// Deletes what is stored for `waid` (for a GDPR erasure request) and says whether
    /// anything was.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails.
    ///
    /// ```
    /// # use webex_connect_whatsapp::conversation::window::SessionWindows;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let windows = SessionWindows::default();
    /// windows.record_inbound_now("9199xxxxxxxx").await?;
    /// assert!(windows.forget("9199xxxxxxxx").await?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn forget<W: RecipientKey + ?Sized>(&self, waid: &W) -> Result<bool, StoreError> {
        let Ok(waid) = checked_key(waid) else {
            return Ok(false);
        };
        self.store.forget(waid).await
    }
}

impl<S, C> SessionWindows<S, C> {
    /// How long the entry of an inbound message at `at` is kept: its window, then the
    /// retention.
    fn keep_until(&self, at: OffsetDateTime) -> OffsetDateTime {
        saturating_add(saturating_add(at, SESSION_WINDOW), self.retention)
    }

    /// What the store is given for an inbound message from `waid` at `at`, recorded at `now`.
    fn inbound<'a>(
        &self,
        waid: &'a str,
        at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> InboundRecord<'a> {
        InboundRecord {
            waid,
            at,
            keep_until: self.keep_until(at),
            now,
        }
    }
}

/// When `message` counts as received, given `now`: its `ts`, no later than `now`.
fn received_time(message: &InboundMessage, now: OffsetDateTime) -> OffsetDateTime {
    message.timestamp().map_or(now, |ts| ts.min(now))
}

/// Drops the sub-microsecond part, so the in-memory and Redis stores hold the same value.
fn truncate_to_micros(at: OffsetDateTime) -> OffsetDateTime {
    let nanos = at.nanosecond();
    at.replace_nanosecond(nanos - nanos % 1_000).unwrap_or(at)
}
