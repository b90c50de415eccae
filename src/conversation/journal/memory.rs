//! A journal in this process's memory: for tests, and for callers that only want
//! [`Journal::lookup`] within one run. It does not survive a restart.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::{Journal, JournalEntry, JournalFuture, JournalRecord};
use crate::ids::CorrelationId;

/// A [`Journal`] in memory, lost when the process ends: use
/// a file or Redis journal where a crash must not lose it.
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
    /// Each correlation id's position in `entries`.
    index: HashMap<CorrelationId, usize>,
    entries: Vec<JournalEntry>,
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
            .field("sends", &state.entries.len())
            .finish()
    }
}

impl Journal for InMemoryJournal {
    fn append<'a>(&'a self, records: &'a [JournalRecord]) -> JournalFuture<'a, ()> {
        let mut state = self.lock();
        for record in records {
            let State {
                records: all,
                index,
                entries,
            } = &mut *state;
            all.push(record.clone());
            if let Some(entry) = index
                .get(record.correlation_id())
                .and_then(|&i| entries.get_mut(i))
            {
                entry.apply(record);
            } else {
                index.insert(record.correlation_id().clone(), entries.len());
                entries.push(JournalEntry::new(record));
            }
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn lookup<'a>(
        &'a self,
        correlation_id: &'a CorrelationId,
    ) -> JournalFuture<'a, Option<JournalEntry>> {
        let state = self.lock();
        let entry = state
            .index
            .get(correlation_id)
            .and_then(|&i| state.entries.get(i))
            .cloned();
        Box::pin(std::future::ready(Ok(entry)))
    }

    fn entries(&self) -> JournalFuture<'_, Vec<JournalEntry>> {
        Box::pin(std::future::ready(Ok(self.lock().entries.clone())))
    }
}
