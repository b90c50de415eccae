//! Resolving sends whose outcome is unknown, from delivery receipts and a deadline.
//!
//! A send the journal holds as in flight (the process stopped during the call) or unknown (a
//! 5xx, code 7006, a timeout) may or may not have been queued, and the messaging API cannot be
//! asked. What can still tell is a delivery receipt: Webex Connect echoes the request's
//! `correlationid` in every receipt it publishes for it (the FAQ's 7710 sample, reference §13),
//! and it publishes receipts only for requests it took.
//!
//! - [`reconcile_receipt`]: feed it every receipt. One carrying a journaled correlation id
//!   appends [`SendOutcome::SeenInReceipt`], and the send is [queued](SendState::Queued):
//!   never to be sent again.
//! - [`mark_not_seen`]: once a deadline has passed since a send's last intent with no receipt,
//!   appends [`SendOutcome::NotSeen`] to each send still in flight or unknown.
//! - [`unresolved`]: the sends that still may have been sent (in flight, unknown, not seen),
//!   for a person or a program to decide on.
//!
//! ```
//! use std::time::Duration;
//! use time::macros::datetime;
//! use webex_connect_whatsapp::CorrelationId;
//! use webex_connect_whatsapp::conversation::journal::reconcile::{
//!     mark_not_seen, reconcile_receipt, unresolved,
//! };
//! use webex_connect_whatsapp::conversation::journal::{
//!     ContentDigest, InMemoryJournal, Journal, JournalRecord, SendOutcome, SendState,
//! };
//! use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let journal = InMemoryJournal::new();
//! let sent_at = datetime!(2026-12-01 09:00 UTC);
//! let digest = ContentDigest::of_bytes(b"{}");
//! for row in ["row-1", "row-2"] {
//!     let id = CorrelationId::new(row)?;
//!     let timed_out = SendOutcome::Unknown { reason: "timed out".into() };
//!     journal.append(&[
//!         JournalRecord::intent(id.clone(), "447400123456", digest.clone(), sent_at),
//!         JournalRecord::outcome(id, timed_out, sent_at),
//!     ]).await?;
//! }
//!
//! // row-1's call reached the platform after all: its receipt names it.
//! let receipt = DeliveryReceipt::builder("5c9f6594", DeliveryStatus::Submitted)
//!     .correlation_id("row-1")
//!     .build();
//! let entry = reconcile_receipt(&journal, &receipt, sent_at + time::Duration::seconds(5)).await?;
//! assert_eq!(entry.map(|e| *e.state()), Some(SendState::Queued));
//!
//! // An hour on, nothing has named row-2.
//! let later = sent_at + time::Duration::hours(1);
//! let not_seen = mark_not_seen(&journal, Duration::from_secs(60 * 60), later).await?;
//! assert_eq!(not_seen.len(), 1);
//! assert_eq!(not_seen[0].correlation_id().as_str(), "row-2");
//! assert_eq!(not_seen[0].state(), &SendState::NotSeen);
//! assert_eq!(unresolved(&journal).await?.len(), 1); // row-2: not seen is not proof
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What a receipt proves, and what its absence does not
//!
//! - **Any receipt proves the platform took the request.** A failure receipt too: a 7710
//!   (re-engagement: the customer service window had closed) or 7737 (invalid destination)
//!   receipt echoes the correlation id of a request that was queued and then failed. Such a
//!   send is queued for the journal and must not be resent as it was; what became of the
//!   message is the [delivery tracker's](crate::conversation::delivery) business.
//! - **Receipts can be late or lost.** The platform retries a webhook that failed, so a receipt
//!   can come hours late; one can be lost for good (an endpoint down beyond the platform's
//!   retries, an outbound webhook not set up for every status, a notify URL missing on the
//!   request). "Not seen" is therefore a probability, not a proof: choose a deadline well past
//!   your receipts' usual delay, and subscribe the webhook to Submitted and Failed. The crate
//!   never resends a not-seen send; a caller that does accepts that a lost receipt means a
//!   second message. If the first attempt's receipt then arrives, it still resolves the send
//!   as queued.
//! - **Order does not matter.** The fold ([`JournalEntry::apply`]) keeps a queued send queued,
//!   so a receipt that lands after a not-seen mark wins, and a mark after a receipt changes
//!   nothing, however the records of several instances interleave.
//! - **Every recipient is matched the same way.** Matching is by correlation id only, never by
//!   the receipt's `destination`, so a send to a business-scoped user id or a username user
//!   reconciles exactly like one to a phone number.
//! - **Only journaled sends are touched.** A receipt without a correlation id, with one that is
//!   not a valid [`CorrelationId`], or with one the journal does not hold (a send made
//!   elsewhere, or before the journal) is ignored and nothing is appended.
//! - **Where the correlation id goes is UNVERIFIED for WhatsApp** (reference §13). Every
//!   published WhatsApp request puts `correlationid` at the top level; the per-destination
//!   field is documented only in the generic Send Message reference, and receipts carry it at
//!   the top level of `deliveryInfoNotification`. Sends that share a correlation id share one
//!   journal entry, so give every row its own.

use std::time::Duration;

use time::OffsetDateTime;

use super::backend::Journal;
use super::entry::{JournalEntry, SendState};
use super::error::JournalError;
use super::record::{JournalRecord, SendOutcome};
use crate::ids::CorrelationId;
use crate::webhook::DeliveryReceipt;

/// Records what a delivery receipt proves about a journaled send: that it was queued.
///
/// Returns the send's entry with the receipt folded in, or `None` when the receipt has no
/// (valid) correlation id or the journal holds no send with it; then nothing is appended. A
/// send already queued with a known transid appends nothing either (a message has several
/// receipts: submitted, delivered, read), and is returned as it is.
///
/// `now` is when the receipt was learned, the time of the appended record. The returned
/// entry is the one looked up with this receipt applied; the journal's own fold (see
/// [`Journal::lookup`]) also holds any record another instance appended meanwhile.
///
/// # Errors
///
/// [`JournalError`] when the journal cannot be read or appended to; the receipt's proof is
/// then not recorded (answer the webhook with an error so that the platform retries it).
///
/// ```
/// use time::macros::datetime;
/// use webex_connect_whatsapp::CorrelationId;
/// use webex_connect_whatsapp::conversation::journal::reconcile::reconcile_receipt;
/// use webex_connect_whatsapp::conversation::journal::{
///     ContentDigest, InMemoryJournal, Journal, JournalRecord, SendState,
/// };
/// use webex_connect_whatsapp::webhook::{DeliveryCode, DeliveryReceipt, DeliveryStatus};
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let journal = InMemoryJournal::new();
/// let at = datetime!(2026-12-01 09:00 UTC);
/// let id = CorrelationId::new("123456789")?;
/// journal.append(&[JournalRecord::intent(id, "9199xxxxxxxx", ContentDigest::of_bytes(b"{}"), at)])
///     .await?;
///
/// // A failed receipt (7710, re-engagement) still proves the platform took the request.
/// let receipt = DeliveryReceipt::builder("108dd36b", DeliveryStatus::Failed)
///     .code(DeliveryCode::from_code("7710"))
///     .correlation_id("123456789")
///     .build();
/// let entry = reconcile_receipt(&journal, &receipt, at).await?.expect("journaled");
/// assert_eq!(entry.state(), &SendState::Queued);
/// assert_eq!(entry.transaction_id().map(|t| t.as_str()), Some("108dd36b"));
///
/// // A receipt for a send the journal does not hold changes nothing.
/// let other = DeliveryReceipt::builder("t2", DeliveryStatus::Read).correlation_id("x").build();
/// assert!(reconcile_receipt(&journal, &other, at).await?.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn reconcile_receipt<J>(
    journal: &J,
    receipt: &DeliveryReceipt,
    now: OffsetDateTime,
) -> Result<Option<JournalEntry>, JournalError>
where
    J: Journal + ?Sized,
{
    let Some(correlation_id) = receipt
        .correlation_id()
        .and_then(|id| CorrelationId::new(id).ok())
    else {
        return Ok(None);
    };
    let Some(mut entry) = journal.lookup(&correlation_id).await? else {
        return Ok(None);
    };
    let transaction_id = receipt.transaction_id().cloned();
    if entry.state() == &SendState::Queued
        && (entry.transaction_id().is_some() || transaction_id.is_none())
    {
        return Ok(Some(entry));
    }
    let record = JournalRecord::outcome(
        correlation_id,
        SendOutcome::SeenInReceipt {
            transaction_id,
            code: receipt.code().as_str().to_owned(),
        },
        now,
    );
    journal.append(std::slice::from_ref(&record)).await?;
    entry.apply(&record);
    Ok(Some(entry))
}

/// Marks every send still in flight or unknown whose last intent is at least `older_than`
/// before `now` as not seen, and returns those sends, updated.
///
/// Sends that are queued, not queued or already not seen are left alone. A send with no
/// intent (the journal started after it) is aged from its last record. All marks go in one
/// [`Journal::append`].
///
/// Not seen is a judgement, not a proof (see the [module docs](self)): the crate never resends
/// such a send, and [`unresolved`] still lists it.
///
/// # Errors
///
/// [`JournalError`] when the journal cannot be read or appended to; then no send is marked.
///
/// ```
/// use std::time::Duration;
/// use time::macros::datetime;
/// use webex_connect_whatsapp::CorrelationId;
/// use webex_connect_whatsapp::conversation::journal::reconcile::mark_not_seen;
/// use webex_connect_whatsapp::conversation::journal::{
///     ContentDigest, InMemoryJournal, Journal, JournalRecord, SendState,
/// };
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let journal = InMemoryJournal::new();
/// let at = datetime!(2026-12-01 09:00 UTC);
/// let id = CorrelationId::new("row-9")?;
/// journal.append(&[JournalRecord::intent(id.clone(), "US.13491208655302741918",
///     ContentDigest::of_bytes(b"{}"), at)]).await?;
///
/// let deadline = Duration::from_secs(2 * 60 * 60);
/// assert!(mark_not_seen(&journal, deadline, at + time::Duration::hours(1)).await?.is_empty());
/// let marked = mark_not_seen(&journal, deadline, at + time::Duration::hours(2)).await?;
/// assert_eq!(marked.len(), 1);
/// assert_eq!(journal.lookup(&id).await?.map(|e| *e.state()), Some(SendState::NotSeen));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn mark_not_seen<J>(
    journal: &J,
    older_than: Duration,
    now: OffsetDateTime,
) -> Result<Vec<JournalEntry>, JournalError>
where
    J: Journal + ?Sized,
{
    // A deadline longer than time can express reaches back before every send.
    let Some(cutoff) = time::Duration::try_from(older_than)
        .ok()
        .and_then(|age| now.checked_sub(age))
    else {
        return Ok(Vec::new());
    };
    let mut stale: Vec<JournalEntry> = journal
        .entries()
        .await?
        .into_iter()
        .filter(|entry| {
            matches!(entry.state(), SendState::InFlight | SendState::Unknown)
                && entry.intended_at().unwrap_or_else(|| entry.updated_at()) <= cutoff
        })
        .collect();
    if stale.is_empty() {
        return Ok(stale);
    }
    let records: Vec<JournalRecord> = stale
        .iter()
        .map(|entry| {
            JournalRecord::outcome(entry.correlation_id().clone(), SendOutcome::NotSeen, now)
        })
        .collect();
    journal.append(&records).await?;
    for (entry, record) in stale.iter_mut().zip(&records) {
        entry.apply(record);
    }
    Ok(stale)
}

/// The sends that still may have been sent: in flight, unknown or not seen
/// ([`SendState::may_have_been_sent`]), in the order they first appeared.
///
/// None of them is resent by the crate. Each needs a receipt, a person who checks, or a
/// caller's explicit choice to send it again.
///
/// # Errors
///
/// [`JournalError`] when the journal cannot be read.
///
/// ```
/// use time::macros::datetime;
/// use webex_connect_whatsapp::CorrelationId;
/// use webex_connect_whatsapp::conversation::journal::reconcile::unresolved;
/// use webex_connect_whatsapp::conversation::journal::{
///     ContentDigest, InMemoryJournal, Journal, JournalRecord, SendOutcome,
/// };
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let journal = InMemoryJournal::new();
/// let at = datetime!(2026-12-01 09:00 UTC);
/// let digest = ContentDigest::of_bytes(b"{}");
/// let (a, b) = (CorrelationId::new("a")?, CorrelationId::new("b")?);
/// journal.append(&[
///     JournalRecord::intent(a.clone(), "447400123456", digest.clone(), at),
///     JournalRecord::intent(b.clone(), "447400123457", digest, at),
///     JournalRecord::outcome(a, SendOutcome::Queued { transaction_id: None }, at),
/// ]).await?;
/// let open = unresolved(&journal).await?;
/// assert_eq!(open.len(), 1);
/// assert_eq!(open[0].correlation_id(), &b);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn unresolved<J>(journal: &J) -> Result<Vec<JournalEntry>, JournalError>
where
    J: Journal + ?Sized,
{
    let mut entries = journal.entries().await?;
    entries.retain(|entry| entry.state().may_have_been_sent());
    Ok(entries)
}
