//! The opt-in ledger: who agreed to receive WhatsApp messages from you, when, where, and with
//! which wording, and who opted out since.
//!
//! WhatsApp requires an active opt-in through a third-party channel (your website, app, SMS,
//! email, a retail location...) before you message someone, with wording that says what they
//! will receive, from whom, on which number (the FAQ's required language: "receive \[noun\],
//! \[logo and name\], on \[number\]"). Messaging people who did not opt in gets the number
//! banned. The ledger keeps the evidence and answers [`ConsentStatus`] per recipient: the
//! latest event wins, so an opt-in after a STOP counts again.
//!
//! ```
//! use time::macros::datetime;
//! use webex_connect_whatsapp::conversation::optin::{ConsentStatus, OptIn, OptInLedger, OptInSource, OptOut};
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let ledger = OptInLedger::default();
//! assert!(matches!(ledger.status("447400123456").await?, ConsentStatus::Never));
//!
//! let opt_in = OptIn::new(
//!     "447400123456",
//!     OptInSource::WebForm,
//!     datetime!(2026-01-01 09:00 UTC),
//!     "Receive order updates from Acme on WhatsApp at +44 7400 123456",
//! )?;
//! ledger.record_opt_in(opt_in).await?;
//! assert!(ledger.status("447400123456").await?.is_opted_in());
//!
//! ledger.record_opt_out(OptOut::stop_keyword("447400123456", datetime!(2026-02-01 10:00 UTC))?).await?;
//! assert!(matches!(ledger.status("447400123456").await?, ConsentStatus::OptedOut(_)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Personal data
//!
//! The ledger holds personal data: recipient ids (phone numbers, business-scoped user ids)
//! and the time and place each person gave
//! or withdrew consent. The FAQ notes that WhatsApp processes data on servers in the EU and
//! the US. Keep exports ([`OptInLedger::export`]) as safely as the store itself, and use
//! [`OptInLedger::erase`] for erasure requests (after which the person counts as never having
//! opted in).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::{PoisonError, RwLock};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::conversation::store::{
    RecipientKey, StoreError, check_max_chars, checked_key, impl_for_arc,
};
use crate::warning::Warning;

/// The longest opt-in wording accepted, in characters.
pub const MAX_WORDING_CHARS: usize = 4096;

/// The longest opt-out reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 1024;

/// The most consent events kept per recipient. Past it, every store drops the events with
/// the oldest time (of equal times, the one recorded first), so the latest event, which
/// decides the [`ConsentStatus`], is always kept, with the most recent history before it. A
/// user (or a bug) toggling STOP and opt-in cannot grow the ledger without bound.
pub const MAX_CONSENT_EVENTS: usize = 100;

/// Which of a recipient's `events` (in the order recorded) a store drops to keep at most
/// `max` (at least 1): the oldest by time, of equal times the one recorded first, so the
/// event that decides [`ConsentStatus::from_events`] (the latest; of equal times, the one
/// recorded last) is never among them. Returns positions in ascending order.
pub(crate) fn events_over_cap(events: &[ConsentEvent], max: usize) -> Vec<usize> {
    let excess = events.len().saturating_sub(max.max(1));
    if excess == 0 {
        return Vec::new();
    }
    let mut by_age: Vec<usize> = (0..events.len()).collect();
    by_age.sort_by_key(|&i| (events.get(i).map(ConsentEvent::at), i));
    let mut drop: Vec<usize> = by_age.into_iter().take(excess).collect();
    drop.sort_unstable();
    drop
}

/// The words that, sent alone as an inbound message, mean "stop messaging me" (compared
/// case-insensitively after trimming, with inner whitespace collapsed).
pub const STOP_KEYWORDS: &[&str] = &[
    "STOP",
    "STOP ALL",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPT OUT",
    "OPTOUT",
    "OPT-OUT",
    "REVOKE",
];

/// True when an inbound message `text` is an opt-out keyword such as `STOP`,
/// `Unsubscribe` or ` stop all ` (see [`STOP_KEYWORDS`]). A sentence that merely contains
/// the word ("don't stop") is not one.
///
/// ```
/// use webex_connect_whatsapp::conversation::optin::is_stop_keyword;
/// assert!(is_stop_keyword(" Stop "));
/// assert!(is_stop_keyword("stop  all"));
/// assert!(is_stop_keyword("UNSUBSCRIBE"));
/// assert!(!is_stop_keyword("please don't stop"));
/// ```
pub fn is_stop_keyword(text: &str) -> bool {
    let normalized = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(['.', '!'])
        .to_uppercase();
    STOP_KEYWORDS.iter().any(|k| *k == normalized)
}

/// Why an opt-in or opt-out record was refused.
///
/// ```
/// use time::macros::datetime;
/// use webex_connect_whatsapp::conversation::optin::{OptIn, OptInError, OptInSource};
/// let err = OptIn::new("447400123456", OptInSource::App, datetime!(2026-01-01 0:00 UTC), " ")
///     .unwrap_err();
/// assert_eq!(err.to_string(), "the opt-in wording is empty; record the text the user agreed to");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OptInError {
    /// The wording shown to the user is missing.
    #[error("the opt-in wording is empty; record the text the user agreed to")]
    EmptyWording,
    /// The wording is longer than [`MAX_WORDING_CHARS`].
    #[error("the opt-in wording is {chars} characters long, but the max is {max}")]
    WordingTooLong {
        /// Its length in characters.
        chars: usize,
        /// [`MAX_WORDING_CHARS`].
        max: usize,
    },
    /// The opt-out reason is longer than [`MAX_REASON_CHARS`].
    #[error("the opt-out reason is {chars} characters long, but the max is {max}")]
    ReasonTooLong {
        /// Its length in characters.
        chars: usize,
        /// [`MAX_REASON_CHARS`].
        max: usize,
    },
    /// An `Other` source with no description.
    #[error("the opt-in source `other` needs a description, e.g. \"call centre\"")]
    EmptySource,
    /// The recipient id was refused ([`StoreError::InvalidRecipient`]).
    #[error(transparent)]
    Recipient(#[from] StoreError),
}

/// Where the user opted in.
///
/// ```
/// use webex_connect_whatsapp::conversation::optin::OptInSource;
/// let json = serde_json::to_string(&OptInSource::Store)?;
/// assert_eq!(json, r#""store""#);
/// let other: OptInSource = serde_json::from_str(r#"{"other":"call centre"}"#)?;
/// assert_eq!(other, OptInSource::Other("call centre".into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OptInSource {
    /// A form on your website.
    WebForm,
    /// An SMS exchange.
    Sms,
    /// Your mobile app.
    App,
    /// A retail location (in store).
    Store,
    /// An email.
    Email,
    /// Anything else, described.
    Other(String),
}

/// One opt-in: the evidence that a recipient agreed to receive WhatsApp messages.
///
/// ```
/// use time::macros::datetime;
/// use webex_connect_whatsapp::conversation::optin::{OptIn, OptInSource};
///
/// let opt_in = OptIn::new(
///     "447400123456",
///     OptInSource::Sms,
///     datetime!(2026-01-01 09:00 UTC),
///     "Reply YES to receive delivery updates from Acme on WhatsApp at +44 7400 123456",
/// )?;
/// assert!(opt_in.warnings().is_empty());
/// assert_eq!(opt_in.recipient(), "447400123456");
///
/// // A username user with no phone number opts in by business-scoped user id.
/// let bsuid = webex_connect_whatsapp::Bsuid::new("US.13491208655302741918")?;
/// let by_id = OptIn::new(&bsuid, OptInSource::App, datetime!(2026-01-01 09:00 UTC), "Updates on WhatsApp")?;
/// assert_eq!(by_id.recipient(), "US.13491208655302741918");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OptInWire")]
pub struct OptIn {
    // Serialized as `waid` whatever the id's kind: exports and stores written by earlier
    // versions use that name, and instances of two versions may share one store during a
    // rolling deploy, so the name stays. It holds any recipient key (digits, a normalized
    // WAID, a BSUID).
    #[serde(rename = "waid")]
    recipient: String,
    source: OptInSource,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    wording: String,
}

impl OptIn {
    /// Records that `recipient` (a [`Recipient`](crate::Recipient), a
    /// [`PhoneNumber`](crate::PhoneNumber), a [`Bsuid`](crate::Bsuid) or an id as received)
    /// opted in through `source` at `at`, after being shown `wording`.
    ///
    /// # Errors
    ///
    /// [`OptInError`] when the id is malformed, the wording is empty or longer than
    /// [`MAX_WORDING_CHARS`], or an [`OptInSource::Other`] has no description.
    pub fn new<W: RecipientKey + ?Sized>(
        recipient: &W,
        source: OptInSource,
        at: OffsetDateTime,
        wording: impl Into<String>,
    ) -> Result<Self, OptInError> {
        let recipient = checked_key(recipient)?;
        let wording = wording.into();
        if wording.trim().is_empty() {
            return Err(OptInError::EmptyWording);
        }
        check_max_chars(&wording, MAX_WORDING_CHARS, |chars, max| {
            OptInError::WordingTooLong { chars, max }
        })?;
        if let OptInSource::Other(desc) = &source
            && desc.trim().is_empty()
        {
            return Err(OptInError::EmptySource);
        }
        Ok(Self {
            recipient: recipient.to_owned(),
            source,
            at,
            wording,
        })
    }

    /// The id the opt-in is recorded under ([`RecipientKey`]): a phone number's `waid` digits,
    /// a normalized WAID or a BSUID, exactly as given. Written as `waid` in exports.
    pub fn recipient(&self) -> &str {
        &self.recipient
    }

    /// Where the user opted in.
    pub fn source(&self) -> &OptInSource {
        &self.source
    }

    /// When the user opted in.
    pub fn at(&self) -> OffsetDateTime {
        self.at
    }

    /// The text the user was shown and agreed to.
    pub fn wording(&self) -> &str {
        &self.wording
    }

    /// Advice on the wording: WhatsApp requires it to say the messages come on WhatsApp
    /// (rule `opt_in.mentions_whatsapp`; the FAQ's "receive \[noun\], \[logo and name\], on
    /// \[number\]").
    ///
    /// ```
    /// use time::macros::datetime;
    /// use webex_connect_whatsapp::conversation::optin::{OptIn, OptInSource};
    /// let vague = OptIn::new("447400123456", OptInSource::WebForm,
    ///     datetime!(2026-01-01 0:00 UTC), "Send me offers")?;
    /// assert_eq!(vague.warnings()[0].rule(), "opt_in.mentions_whatsapp");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn warnings(&self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        if !self.wording.to_lowercase().contains("whatsapp") {
            warnings.push(Warning::new(
                "opt_in.mentions_whatsapp",
                "the opt-in wording does not mention WhatsApp; WhatsApp requires it to say \
                 what the user will receive, from whom, on which number, as WhatsApp messages \
                 (\"receive [noun], [logo and name], on [number]\")",
            ));
        }
        warnings
    }
}

/// The serialized form of [`OptIn`], checked by [`OptIn::new`] when read back.
#[derive(Deserialize)]
struct OptInWire {
    // `recipient` is accepted too, for hand-written files that follow the Rust name.
    #[serde(rename = "waid", alias = "recipient")]
    recipient: String,
    source: OptInSource,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    wording: String,
}

impl TryFrom<OptInWire> for OptIn {
    type Error = OptInError;
    fn try_from(w: OptInWire) -> Result<Self, Self::Error> {
        Self::new(&w.recipient, w.source, w.at, w.wording)
    }
}

/// The serialized form of [`OptOut`], checked by [`OptOut::new`] when read back.
#[derive(Deserialize)]
struct OptOutWire {
    #[serde(rename = "waid", alias = "recipient")]
    recipient: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    #[serde(default)]
    reason: String,
}

impl TryFrom<OptOutWire> for OptOut {
    type Error = OptInError;
    fn try_from(w: OptOutWire) -> Result<Self, Self::Error> {
        Self::new(&w.recipient, w.at, w.reason)
    }
}

/// One opt-out: the recipient asked not to be messaged any more.
///
/// ```
/// use time::macros::datetime;
/// use webex_connect_whatsapp::conversation::optin::OptOut;
/// let out = OptOut::new("447400123456", datetime!(2026-01-01 0:00 UTC), "asked by phone")?;
/// assert_eq!(out.reason(), "asked by phone");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OptOutWire")]
pub struct OptOut {
    // Serialized as `waid` for the reasons given on `OptIn`.
    #[serde(rename = "waid")]
    recipient: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    reason: String,
}

impl OptOut {
    /// Records that `recipient` (any [`RecipientKey`]) opted out at `at`, for `reason` (may be
    /// empty).
    ///
    /// # Errors
    ///
    /// [`OptInError`] when the id is malformed or the reason is longer than
    /// [`MAX_REASON_CHARS`].
    pub fn new<W: RecipientKey + ?Sized>(
        recipient: &W,
        at: OffsetDateTime,
        reason: impl Into<String>,
    ) -> Result<Self, OptInError> {
        let recipient = checked_key(recipient)?;
        let reason = reason.into();
        check_max_chars(&reason, MAX_REASON_CHARS, |chars, max| {
            OptInError::ReasonTooLong { chars, max }
        })?;
        Ok(Self {
            recipient: recipient.to_owned(),
            at,
            reason,
        })
    }

    /// An opt-out by an inbound keyword message (see [`is_stop_keyword`]).
    ///
    /// # Errors
    ///
    /// [`OptInError`] when the id is malformed.
    ///
    /// ```
    /// use time::macros::datetime;
    /// use webex_connect_whatsapp::conversation::optin::OptOut;
    /// let out = OptOut::stop_keyword("447400123456", datetime!(2026-01-01 0:00 UTC))?;
    /// assert_eq!(out.reason(), "inbound stop keyword");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stop_keyword<W: RecipientKey + ?Sized>(
        recipient: &W,
        at: OffsetDateTime,
    ) -> Result<Self, OptInError> {
        Self::new(recipient, at, "inbound stop keyword")
    }

    /// The id the opt-out is recorded under ([`RecipientKey`]), exactly as given. Written as
    /// `waid` in exports.
    pub fn recipient(&self) -> &str {
        &self.recipient
    }

    /// When the recipient opted out.
    pub fn at(&self) -> OffsetDateTime {
        self.at
    }

    /// Why, as recorded.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// One ledger entry: an opt-in or an opt-out. Serializes as one JSON object with an `event`
/// field, one per line in an audit export.
///
/// The recipient is written as `waid` whatever kind of id it is (phone-number digits, a
/// normalized WAID, a business-scoped user id): the format of earlier versions, so their
/// exports still parse and instances of two versions can share one store. Reading also
/// accepts the name `recipient`.
///
/// ```
/// use time::macros::datetime;
/// use webex_connect_whatsapp::conversation::optin::{ConsentEvent, OptOut};
/// let event = ConsentEvent::OptOut(OptOut::stop_keyword("447400123456", datetime!(2026-01-01 0:00 UTC))?);
/// let json = serde_json::to_string(&event)?;
/// assert!(json.starts_with(r#"{"event":"opt_out","waid":"447400123456""#));
/// assert_eq!(serde_json::from_str::<ConsentEvent>(&json)?, event);
/// assert_eq!(event.recipient(), "447400123456");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConsentEvent {
    /// An opt-in.
    OptIn(OptIn),
    /// An opt-out.
    OptOut(OptOut),
}

impl ConsentEvent {
    /// The id the event is recorded under (see [`OptIn::recipient`]).
    pub fn recipient(&self) -> &str {
        match self {
            Self::OptIn(e) => e.recipient(),
            Self::OptOut(e) => e.recipient(),
        }
    }

    /// When it happened.
    pub fn at(&self) -> OffsetDateTime {
        match self {
            Self::OptIn(e) => e.at(),
            Self::OptOut(e) => e.at(),
        }
    }
}

/// A recipient's consent, from the latest event in the ledger.
///
/// ```
/// use webex_connect_whatsapp::conversation::optin::ConsentStatus;
/// assert!(!ConsentStatus::Never.is_opted_in());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsentStatus {
    /// The latest event is this opt-in: templates may be sent.
    OptedIn(OptIn),
    /// The latest event is this opt-out: do not message.
    OptedOut(OptOut),
    /// No event recorded: do not message.
    Never,
}

impl ConsentStatus {
    /// The status after `events` (in any order): the one with the latest time wins; of
    /// events at the same time, the one recorded last.
    ///
    /// ```
    /// use time::macros::datetime;
    /// use webex_connect_whatsapp::conversation::optin::{ConsentEvent, ConsentStatus, OptIn, OptInSource, OptOut};
    /// let t = datetime!(2026-01-01 0:00 UTC);
    /// let events = [
    ///     ConsentEvent::OptOut(OptOut::stop_keyword("44740", t + time::Duration::DAY)?),
    ///     ConsentEvent::OptIn(OptIn::new("44740", OptInSource::App, t, "WhatsApp news")?),
    /// ];
    /// assert!(matches!(ConsentStatus::from_events(&events), ConsentStatus::OptedOut(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a ConsentEvent>) -> Self {
        let mut latest: Option<&ConsentEvent> = None;
        for event in events {
            if latest.is_none_or(|l| event.at() >= l.at()) {
                latest = Some(event);
            }
        }
        match latest {
            Some(ConsentEvent::OptIn(e)) => Self::OptedIn(e.clone()),
            Some(ConsentEvent::OptOut(e)) => Self::OptedOut(e.clone()),
            None => Self::Never,
        }
    }

    /// True only for [`ConsentStatus::OptedIn`].
    pub fn is_opted_in(&self) -> bool {
        matches!(self, Self::OptedIn(_))
    }
}

/// The opt-in ledger: records consent events in an [`OptInStore`] and answers each
/// recipient's [`ConsentStatus`] (see the [module docs](self) for an example).
#[derive(Debug, Clone)]
pub struct OptInLedger<S = InMemoryOptInStore> {
    store: S,
}

impl<S: OptInStore> OptInLedger<S> {
    /// A ledger kept in `store`.
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// The store the events are kept in.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Records an opt-in. Its [warnings](OptIn::warnings) (vague wording, for example) do
    /// not stop it being recorded: it happened. Read them from the opt-in before recording.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails.
    pub async fn record_opt_in(&self, opt_in: OptIn) -> Result<(), StoreError> {
        self.store.append(ConsentEvent::OptIn(opt_in)).await
    }

    /// Records an opt-out.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails.
    pub async fn record_opt_out(&self, opt_out: OptOut) -> Result<(), StoreError> {
        self.store.append(ConsentEvent::OptOut(opt_out)).await
    }

    /// The recipient's consent now: [`ConsentStatus::Never`] when nothing is recorded (or the
    /// id is malformed), else the latest event.
    ///
    /// Consent is kept per id: a user known by a phone number and a BSUID has two entries.
    /// An opt-out by an inbound message carrying both ids is recorded under both (see
    /// [`GuardedClient::handle_event`](crate::guard::GuardedClient::handle_event)), so
    /// it blocks sends to either.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails.
    pub async fn status<W: RecipientKey + ?Sized>(
        &self,
        recipient: &W,
    ) -> Result<ConsentStatus, StoreError> {
        let Ok(key) = checked_key(recipient) else {
            return Ok(ConsentStatus::Never);
        };
        let events = self.store.events(key).await?;
        Ok(ConsentStatus::from_events(&events))
    }

    /// Every event in the ledger, for an audit. Contains personal data (see the [module
    /// docs](self)).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails.
    pub async fn export(&self) -> Result<Vec<ConsentEvent>, StoreError> {
        self.store.export().await
    }

    /// The whole ledger as JSON lines (one [`ConsentEvent`] per line), for an audit. Read it
    /// back with [`parse_json_lines`]. Contains personal data (see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails.
    ///
    /// ```
    /// use time::macros::datetime;
    /// use webex_connect_whatsapp::conversation::optin::{parse_json_lines, OptInLedger, OptOut};
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let ledger = OptInLedger::default();
    /// ledger.record_opt_out(OptOut::stop_keyword("447400123456", datetime!(2026-01-01 0:00 UTC))?).await?;
    /// let lines = ledger.export_json_lines().await?;
    /// assert_eq!(parse_json_lines(&lines)?, ledger.export().await?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn export_json_lines(&self) -> Result<String, StoreError> {
        let events = self.store.export().await?;
        let mut out = String::new();
        for event in &events {
            let line = serde_json::to_string(event).map_err(|e| StoreError::Corrupt {
                store: "opt-in",
                what: "consent event",
                detail: e.to_string(),
            })?;
            out.push_str(&line);
            out.push('\n');
        }
        Ok(out)
    }

    /// Deletes every event for `recipient` (a GDPR erasure request) and returns how many
    /// there were. Afterwards the recipient's status is [`ConsentStatus::Never`]. A user known
    /// by a phone number and a BSUID needs one call per id.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails.
    pub async fn erase<W: RecipientKey + ?Sized>(
        &self,
        recipient: &W,
    ) -> Result<usize, StoreError> {
        let Ok(key) = checked_key(recipient) else {
            return Ok(0);
        };
        self.store.erase(key).await
    }
}

impl Default for OptInLedger {
    /// A ledger in memory ([`InMemoryOptInStore`]).
    fn default() -> Self {
        Self::new(InMemoryOptInStore::default())
    }
}

/// Where an [`OptInLedger`] keeps its events.
/// Implement it to keep consent in your own database; the ledger never rewrites or deletes
/// an event except through [`erase`], and a store keeps at most [`MAX_CONSENT_EVENTS`] per
/// recipient (dropping the oldest by time, never the latest).
///
/// [`erase`]: OptInStore::erase
///
/// ```
/// use time::macros::datetime;
/// use webex_connect_whatsapp::conversation::optin::{ConsentEvent, OptOut};
/// use webex_connect_whatsapp::conversation::optin::{InMemoryOptInStore, OptInStore};
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let store = InMemoryOptInStore::default();
/// let out = OptOut::stop_keyword("447400123456", datetime!(2026-01-01 0:00 UTC))?;
/// store.append(ConsentEvent::OptOut(out)).await?;
/// assert_eq!(store.events("447400123456").await?.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait OptInStore: Send + Sync {
    /// Appends an event. When the recipient then has more than [`MAX_CONSENT_EVENTS`], the
    /// oldest by time are dropped (never the latest, which decides the status).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    fn append(&self, event: ConsentEvent) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every event for the recipient id `waid` (a phone number's digits, a normalized WAID or
    /// a BSUID, already checked with [`check_waid`](crate::conversation::store::check_waid)), in the order recorded.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails or holds an unreadable event.
    fn events(
        &self,
        waid: &str,
    ) -> impl Future<Output = Result<Vec<ConsentEvent>, StoreError>> + Send;

    /// Every event for every recipient: per recipient in the order recorded, recipients in
    /// any order.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails or holds an unreadable event.
    fn export(&self) -> impl Future<Output = Result<Vec<ConsentEvent>, StoreError>> + Send;

    /// Deletes every event for `waid` and returns how many there were.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    fn erase(&self, waid: &str) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

impl_for_arc!(OptInStore {
    fn append(event: ConsentEvent) -> ();
    fn events(waid: &str) -> Vec<ConsentEvent>;
    fn export() -> Vec<ConsentEvent>;
    fn erase(waid: &str) -> usize;
});

/// The default [`OptInStore`]: every recipient's events, in this process's memory. No
/// recipient is evicted (consent evidence must not be), and each keeps at most
/// [`MAX_CONSENT_EVENTS`] events; for production keep the ledger in a database (the
/// [`RedisStore`](crate::conversation::redis::RedisStore) with feature `redis`, or your own
/// [`OptInStore`]).
///
/// ```
/// use webex_connect_whatsapp::conversation::optin::InMemoryOptInStore;
/// let store = InMemoryOptInStore::default();
/// assert_eq!(store.recipients(), 0);
/// ```
#[derive(Default)]
pub struct InMemoryOptInStore {
    events: RwLock<HashMap<String, Vec<ConsentEvent>>>,
}

impl InMemoryOptInStore {
    /// How many recipients have at least one event.
    pub fn recipients(&self) -> usize {
        self.events
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl fmt::Debug for InMemoryOptInStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never list the recipients: they are personal data (phone numbers, user ids).
        f.debug_struct("InMemoryOptInStore")
            .field("recipients", &self.recipients())
            .finish()
    }
}

impl OptInStore for InMemoryOptInStore {
    fn append(&self, event: ConsentEvent) -> impl Future<Output = Result<(), StoreError>> + Send {
        let mut events = self.events.write().unwrap_or_else(PoisonError::into_inner);
        let list = events.entry(event.recipient().to_owned()).or_default();
        list.push(event);
        let over = events_over_cap(list, MAX_CONSENT_EVENTS);
        if !over.is_empty() {
            let mut position = 0;
            list.retain(|_| {
                let keep = over.binary_search(&position).is_err();
                position += 1;
                keep
            });
        }
        std::future::ready(Ok(()))
    }

    fn events(
        &self,
        waid: &str,
    ) -> impl Future<Output = Result<Vec<ConsentEvent>, StoreError>> + Send {
        let events = self.events.read().unwrap_or_else(PoisonError::into_inner);
        std::future::ready(Ok(events.get(waid).cloned().unwrap_or_default()))
    }

    fn export(&self) -> impl Future<Output = Result<Vec<ConsentEvent>, StoreError>> + Send {
        let events = self.events.read().unwrap_or_else(PoisonError::into_inner);
        // Sorted by recipient so exports are stable.
        let sorted: BTreeMap<&String, &Vec<ConsentEvent>> = events.iter().collect();
        let all = sorted.into_values().flatten().cloned().collect();
        std::future::ready(Ok(all))
    }

    fn erase(&self, waid: &str) -> impl Future<Output = Result<usize, StoreError>> + Send {
        let mut events = self.events.write().unwrap_or_else(PoisonError::into_inner);
        std::future::ready(Ok(events.remove(waid).map_or(0, |v| v.len())))
    }
}

/// Why [`parse_json_lines`] failed.
///
/// ```
/// use webex_connect_whatsapp::conversation::optin::parse_json_lines;
/// let err = parse_json_lines("{}\n").unwrap_err();
/// assert_eq!(err.line(), 1);
/// ```
#[derive(Debug, thiserror::Error)]
#[error("line {line} of the opt-in export is not a consent event: {source}")]
pub struct ExportParseError {
    line: usize,
    #[source]
    source: serde_json::Error,
}

impl ExportParseError {
    /// The 1-based line number.
    pub fn line(&self) -> usize {
        self.line
    }
}

/// Reads an export written by [`OptInLedger::export_json_lines`] (blank lines are skipped).
///
/// # Errors
///
/// [`ExportParseError`] naming the first line that is not a [`ConsentEvent`].
///
/// ```
/// use webex_connect_whatsapp::conversation::optin::parse_json_lines;
/// assert!(parse_json_lines("\n")?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_json_lines(text: &str) -> Result<Vec<ConsentEvent>, ExportParseError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|source| ExportParseError {
                line: i + 1,
                source,
            })
        })
        .collect()
}
