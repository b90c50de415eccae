//! The client's side of the send journal ([`crate::conversation::journal`]): one intent per
//! message stored before its call goes out, one outcome per message after the call's final
//! answer, and what a [`SendReceipt`] or an [`Error`] becomes in the journal.
//!
//! An intent that cannot be stored stops the call (nothing is sent, every message fails with
//! [`Error::Journal`]); an outcome that cannot be stored is logged and the results are still
//! returned: the journal then shows the message in flight, which is the safe direction (it
//! is never resent blindly).

use std::sync::Arc;

use time::OffsetDateTime;

use super::{Client, Error, SendReceipt};
use crate::conversation::journal::{ContentDigest, Journal, JournalRecord, SendOutcome};
use crate::ids::CorrelationId;
use crate::send::Content;

/// One message of a call, as its intent names it.
pub(super) struct Intent<'a> {
    /// The message's correlation id.
    pub(super) correlation_id: &'a CorrelationId,
    /// The destination as sent: a `waid` or a BSUID.
    pub(super) recipient: &'a str,
    /// The digest of what it sends.
    pub(super) digest: ContentDigest,
}

/// What the journal records for a queued message: queued, with the transid.
///
/// ```
/// use webex_connect_whatsapp::client::SendReceipt;
/// use webex_connect_whatsapp::conversation::journal::SendOutcome;
/// # fn show(receipt: &SendReceipt) {
/// let outcome = SendOutcome::from(receipt);
/// assert!(matches!(outcome, SendOutcome::Queued { .. }));
/// # }
/// ```
impl From<&SendReceipt> for SendOutcome {
    fn from(receipt: &SendReceipt) -> Self {
        Self::Queued {
            transaction_id: receipt.transaction_id.clone(),
        }
    }
}

/// What the journal records for one message's result.
fn outcome_of(result: &Result<SendReceipt, Error>) -> SendOutcome {
    match result {
        Ok(receipt) => receipt.into(),
        Err(error) => error.into(),
    }
}

/// The digest the journal keeps of a message: [`ContentDigest::of`] the session or template
/// message, so that a caller can compute the same digest from the message it built.
pub(super) fn digest(content: &Content) -> ContentDigest {
    match content {
        Content::Session(message) => ContentDigest::of(message),
        Content::Template(message) => ContentDigest::of(message),
    }
}

/// How `Debug` shows a journal setting: whether there is one, not what it holds.
pub(super) fn presence(journal: Option<&Arc<dyn Journal>>) -> &'static str {
    if journal.is_some() {
        "present"
    } else {
        "absent"
    }
}

impl Client {
    /// Stores one intent per message before a call; without a journal, does nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Journal`] (without a correlation id: the caller adds each message's) when
    /// the journal could not store them; the call must not be sent then.
    pub(super) async fn journal_intents<'a>(
        &self,
        intents: impl IntoIterator<Item = Intent<'a>>,
    ) -> Result<(), Error> {
        let Some(journal) = &self.inner.journal else {
            return Ok(());
        };
        let at = OffsetDateTime::now_utc();
        let records: Vec<JournalRecord> = intents
            .into_iter()
            .map(|i| JournalRecord::intent(i.correlation_id.clone(), i.recipient, i.digest, at))
            .collect();
        if records.is_empty() {
            return Ok(());
        }
        journal.append(&records).await.map_err(|source| {
            tracing::warn!(
                error = &source as &dyn std::error::Error,
                messages = records.len(),
                "the send journal could not record the intent to send; nothing was sent"
            );
            Error::journal(source)
        })
    }

    /// Stores one outcome per message after a call's final answer; without a journal, does
    /// nothing. A failure is logged, not returned: the journal then shows the messages in
    /// flight, which a reconciliation resolves from receipts.
    pub(super) async fn journal_outcomes<'a>(
        &self,
        outcomes: impl IntoIterator<Item = (&'a CorrelationId, &'a Result<SendReceipt, Error>)>,
    ) {
        let Some(journal) = &self.inner.journal else {
            return;
        };
        let at = OffsetDateTime::now_utc();
        let records: Vec<JournalRecord> = outcomes
            .into_iter()
            .map(|(id, result)| JournalRecord::outcome(id.clone(), outcome_of(result), at))
            .collect();
        if records.is_empty() {
            return;
        }
        if let Err(source) = journal.append(&records).await {
            tracing::error!(
                error = &source as &dyn std::error::Error,
                messages = records.len(),
                "the send journal could not record the outcome of sent messages; it shows them \
                 in flight until reconciled"
            );
        }
    }
}
