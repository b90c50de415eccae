//! The send journal: what was about to be sent, and what became of it, so that nothing is
//! sent twice across crashes and every outcome-unknown send can be reconciled.
//!
//! The messaging API has no idempotency key. A process killed between writing a request and
//! reading its answer cannot know whether the message was queued, and a run started again
//! would send it a second time. A [`Journal`] closes that gap: before a call goes out, the
//! client appends one [`JournalRecord::Intent`] per row (its correlation id, recipient and a
//! [`ContentDigest`]) and waits until it is stored; after the answer, one
//! [`JournalRecord::Outcome`] per row. A row whose intent has no outcome may have reached the
//! platform: it is [`SendState::InFlight`], and is never resent by the crate.
//!
//! Records are only ever appended. The state of one send is the fold of its records in order
//! ([`JournalEntry::apply`]): a later record moves it on, except that nothing moves a queued
//! send back (a late outcome-unknown, a stray intent or a "not seen" deadline cannot undo a
//! transid the platform gave).
//!
//! Four journals come with the crate:
//!
//! | journal | where | for |
//! |---|---|---|
//! | [`FileJournal`] | a JSON-lines file, synced on every append | one process; the embedded default |
//! | `conversation::redis::RedisJournal` (feature `redis`) | lists in Redis | several instances sharing one journal |
//! | [`InMemoryJournal`] | this process's memory | tests, lookups within one run |
//! | your own | a database | implement [`Journal`] |
//!
//! [`reconcile`] turns delivery receipts and a deadline into outcomes for the sends whose
//! fate was unknown.
//!
//! ```
//! use time::macros::datetime;
//! use webex_connect_whatsapp::CorrelationId;
//! use webex_connect_whatsapp::conversation::journal::{
//!     ContentDigest, InMemoryJournal, Journal, JournalRecord, SendOutcome, SendState,
//! };
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let journal = InMemoryJournal::new();
//! let id = CorrelationId::new("invoice-1042")?;
//! let at = datetime!(2026-12-01 09:00 UTC);
//! let digest = ContentDigest::of_bytes(br#"{"template":"5139722425"}"#);
//! journal.append(&[JournalRecord::intent(id.clone(), "447400123456", digest, at)]).await?;
//! // The process stops here: the row may have reached the platform.
//! let entry = journal.lookup(&id).await?.expect("recorded");
//! assert_eq!(entry.state(), &SendState::InFlight);
//! assert!(entry.state().may_have_been_sent());
//!
//! // A delivery receipt carrying the correlation id proves it was queued.
//! let queued = SendOutcome::Queued { transaction_id: Some("5c9f6594".into()) };
//! journal.append(&[JournalRecord::outcome(id.clone(), queued, at)]).await?;
//! assert_eq!(journal.lookup(&id).await?.expect("recorded").state(), &SendState::Queued);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backend;
mod entry;
mod error;
mod file;
mod memory;
pub mod reconcile;
mod record;

pub use backend::{Journal, JournalFuture};
pub use entry::{JournalEntry, SendState};
pub use error::JournalError;
pub use file::FileJournal;
pub use memory::InMemoryJournal;
pub use record::{ContentDigest, JournalRecord, SendOutcome};
#[cfg(feature = "redis")]
pub(crate) use record::{decode_record, encode_record};
