//! The [`Journal`] trait: what a place that keeps the journal (a file, Redis, your own
//! database) must do, and the boxed future its methods return.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::entry::JournalEntry;
use super::error::JournalError;
use super::record::JournalRecord;
use crate::ids::CorrelationId;

/// The future a [`Journal`] method returns: boxed, so that a client can hold any journal as
/// `Arc<dyn Journal>`.
pub type JournalFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, JournalError>> + Send + 'a>>;

/// Where sends are journaled. Implement it to keep the journal in your own database: store
/// the records in order, durably, and answer with [`JournalEntry::fold`] of them.
///
/// [`append`](Self::append) must return only once the records are stored (synced to disk, or
/// acknowledged by the server): the client sends nothing until its intents are stored. The
/// methods return boxed futures so that a client can hold any journal as `Arc<dyn Journal>`.
pub trait Journal: Send + Sync {
    /// Stores `records`, in order, durably.
    ///
    /// # Errors
    ///
    /// [`JournalError`] when they could not be stored; then the client does not send.
    fn append<'a>(&'a self, records: &'a [JournalRecord]) -> JournalFuture<'a, ()>;

    /// The send with this correlation id, folded from its records.
    ///
    /// # Errors
    ///
    /// [`JournalError`] when the journal cannot be read.
    fn lookup<'a>(
        &'a self,
        correlation_id: &'a CorrelationId,
    ) -> JournalFuture<'a, Option<JournalEntry>>;

    /// Every send in the journal, in the order each first appeared.
    ///
    /// # Errors
    ///
    /// [`JournalError`] when the journal cannot be read.
    fn entries(&self) -> JournalFuture<'_, Vec<JournalEntry>>;
}

impl<J: Journal + ?Sized> Journal for Arc<J> {
    fn append<'a>(&'a self, records: &'a [JournalRecord]) -> JournalFuture<'a, ()> {
        (**self).append(records)
    }

    fn lookup<'a>(
        &'a self,
        correlation_id: &'a CorrelationId,
    ) -> JournalFuture<'a, Option<JournalEntry>> {
        (**self).lookup(correlation_id)
    }

    fn entries(&self) -> JournalFuture<'_, Vec<JournalEntry>> {
        (**self).entries()
    }
}
