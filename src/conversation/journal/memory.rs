//! A journal in this process's memory: for tests, and for callers that only want
//! [`Journal::lookup`] within one run. It does not survive a restart.

use std::sync::{Mutex, PoisonError};

use super::backend::{Journal, JournalFuture};
use super::entry::{EntryIndex, JournalEntry};
use super::record::JournalRecord;
use crate::ids::CorrelationId;

/// A [`Journal`] in memory, lost when the process ends: use a
/// [`FileJournal`](super::FileJournal) or a Redis journal where a crash must not lose it.
///
/// ```
/// use time::macros::datetime;
/// use webex_connect_whatsapp::CorrelationId;
/// use webex_connect_whatsapp::conversation::journal::{
///     ContentDigest, InMemoryJournal, Journal, JournalRecord,
/// };
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let journal = InMemoryJournal::new();
/// let id = CorrelationId::new("row-1")?;
/// let intent = JournalRecord::intent(id.clone(), "447400123456", ContentDigest::of_bytes(b"{}"),
///     datetime!(2026-12-01 09:00 UTC));
/// journal.append(&[intent]).await?;
/// assert_eq!(journal.entries().await?.len(), 1);
/// assert_eq!(journal.records().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct InMemoryJournal {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    records: Vec<JournalRecord>,
    index: EntryIndex,
}

impl InMemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every record appended so far, in order.
    pub fn records(&self) -> Vec<JournalRecord> {
        self.lock().records.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned journal still holds every record appended before the panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for InMemoryJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("InMemoryJournal")
            .field("records", &state.records.len())
            .field("sends", &state.index.entries().len())
            .finish()
    }
}

impl Journal for InMemoryJournal {
    fn append<'a>(&'a self, records: &'a [JournalRecord]) -> JournalFuture<'a, ()> {
        let mut state = self.lock();
        for record in records {
            state.records.push(record.clone());
            state.index.apply(record);
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn lookup<'a>(
        &'a self,
        correlation_id: &'a CorrelationId,
    ) -> JournalFuture<'a, Option<JournalEntry>> {
        let entry = self.lock().index.get(correlation_id).cloned();
        Box::pin(std::future::ready(Ok(entry)))
    }

    fn entries(&self) -> JournalFuture<'_, Vec<JournalEntry>> {
        Box::pin(std::future::ready(Ok(self.lock().index.entries().to_vec())))
    }
}
