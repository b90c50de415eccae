//! Personalised batches: a complete message per recipient (own template parameters, or any
//! mix of session and template messages), up to 1000 per call.
//!
//! One call is a top-level JSON array of complete request objects, each with one destination
//! (section 12.2 of the platform notes). Webex Connect answers with one `response` entry per
//! element, in order, with transids `<base>`, `<base>_1`, `<base>_2`, ...: each element is
//! its own message, and its receipts carry its own transid.

use futures_util::stream::{self, Stream, StreamExt as _};

use super::bulk::{BulkBuilder, BulkRecipient, BulkRun, BulkStream, Row, RowOf, Work};
use super::journaling::{Intent, digest};
use super::{
    Answer, Client, Error, SendReceipt, entry_error, error::is_server_error, json_body,
    repeated_ids, unreadable,
};
use crate::ids::CorrelationId;
use crate::send::{Content, Destination, ResponseCode, ResponseEntry, SendRequest, SendResponse};

/// The mode of a [`BulkBuilder`] started with [`Client::batch`]: every row brings its own
/// message.
///
/// ```no_run
/// use futures_util::StreamExt as _;
/// use webex_connect_whatsapp::client::{BatchRow, Client};
/// use webex_connect_whatsapp::{PhoneNumber, TemplateId, TemplateMessage};
///
/// # async fn run(client: Client) -> Result<(), Box<dyn std::error::Error>> {
/// let template = TemplateId::new("5139722425")?;
/// let payment = |name: &str, id: &str| {
///     TemplateMessage::builder(template.clone())
///         .text("name", name)
///         .text("payment", id)
///         .build()
/// };
/// let rows = vec![
///     BatchRow::new(PhoneNumber::parse("+447400123456")?, payment("Ada", "A-1042")?),
///     BatchRow::new("US.13491208655302741918", payment("Grace", "A-1043")?),
/// ];
/// let mut results = client.batch().send(rows);
/// while let Some(r) = results.next().await {
///     match &r.result {
///         Ok(receipt) => println!("#{} queued as {:?}", r.index, receipt.transaction_id),
///         Err(e) => println!("#{} not queued: {e}", r.index),
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct Personalised;

/// One row of a personalised batch: who gets it, what they get, and optionally your own
/// correlation id for it (else `{run}-{index}`).
///
/// ```
/// use webex_connect_whatsapp::client::BatchRow;
/// use webex_connect_whatsapp::{CorrelationId, PhoneNumber, SessionMessage};
///
/// let row = BatchRow::new(PhoneNumber::parse("+447400123456")?, SessionMessage::text("Hi Ada")?)
///     .correlation_id(CorrelationId::new("invoice-1042")?);
/// let from_a_pair: BatchRow = ("+447400123457", SessionMessage::text("Hi Grace")?).into();
/// # let _ = (row, from_a_pair);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct BatchRow {
    to: BulkRecipient,
    content: Content,
    correlation_id: Option<CorrelationId>,
}

impl BatchRow {
    /// A row for one recipient (a checked [`Recipient`](crate::Recipient), or raw text read
    /// on the way) and its message.
    pub fn new(to: impl Into<BulkRecipient>, content: impl Into<Content>) -> Self {
        Self {
            to: to.into(),
            content: content.into(),
            correlation_id: None,
        }
    }

    crate::setters::setters! {
        /// Your own correlation id for this row, echoed in its receipts.
        #[must_use]
        fn correlation_id(self, id: CorrelationId) => self.correlation_id = Some(id);
    }
}

impl<R: Into<BulkRecipient>, C: Into<Content>> From<(R, C)> for BatchRow {
    fn from((to, content): (R, C)) -> Self {
        Self::new(to, content)
    }
}

impl Row for BatchRow {
    type Payload = Content;
    fn split(self) -> (BulkRecipient, Option<CorrelationId>, Content) {
        (self.to, self.correlation_id, self.content)
    }
}

impl Client {
    /// Sends personalised messages, each row its own complete message, up to 1000 rows per
    /// call (capped by the rate limit); see [`Personalised`]. The options and the results are
    /// those of [`Client::bulk`].
    pub fn batch(&self) -> BulkBuilder<Personalised> {
        BulkBuilder::new(self.clone(), Personalised)
    }
}

impl BulkBuilder<Personalised> {
    /// Sends every row of an iterator (read lazily).
    pub fn send<I>(self, rows: I) -> BulkStream
    where
        I: IntoIterator,
        I::Item: Into<BatchRow>,
        I::IntoIter: Send + 'static,
    {
        self.send_stream(stream::iter(rows))
    }

    /// Sends every row of a stream (read lazily, as calls are needed), so a campaign of any
    /// size runs in bounded memory.
    ///
    /// Every row is checked before its call, and a bad row is reported as that row's error
    /// without sinking its call; so are rows of one call that share a correlation id
    /// ([`Error::DuplicateCorrelationId`]: receipts and the journal could not tell them
    /// apart). Results are matched to rows by the correlation id Webex Connect echoes in each
    /// answer entry when it does, else by position (the platform answers in order). A
    /// whole-call failure is told to every row of the call: an ambiguous one (5xx, 7006, a
    /// timeout) makes every row outcome-unknown, and none is resent. So does one `1001` for
    /// the whole call, which says something was queued but not which rows. Only a `7020` on
    /// every element, one entry each, resends the call whole.
    pub fn send_stream<S>(self, rows: S) -> BulkStream
    where
        S: Stream + Send + 'static,
        S::Item: Into<BatchRow>,
    {
        let rows = rows.map(Into::<BatchRow>::into).boxed();
        self.pipeline(rows, |run, work| async move { call(&run, &work).await })
    }
}

/// Sends one call: checks every row, posts the valid ones as one array, and answers every row.
async fn call(
    run: &BulkRun<Personalised>,
    work: &Work<Content>,
) -> Vec<Result<SendReceipt, Error>> {
    let mut results: Vec<Option<Result<SendReceipt, Error>>> = Vec::with_capacity(work.rows.len());
    // The rows that go out: their position in `work.rows`, their request and correlation id.
    let mut sent: Vec<(usize, SendRequest, Option<CorrelationId>)> =
        Vec::with_capacity(work.rows.len());
    for (position, row) in work.rows.iter().enumerate() {
        match request(run, row) {
            Ok(request) => {
                sent.push((position, request, run.correlation_id(row)));
                results.push(None);
            }
            Err(error) => results.push(Some(Err(error))),
        }
    }
    // Two rows with one correlation id could not be told apart in receipts or the journal:
    // both are refused, and the rest of the call goes out.
    let ids: Vec<(u64, Option<&CorrelationId>)> = sent
        .iter()
        .map(|(position, _, id)| {
            let index = work.rows.get(*position).map_or(0, |row| row.index);
            (index, id.as_ref())
        })
        .collect();
    let repeated = repeated_ids(&ids);
    let mut refused = Vec::new();
    for ((position, _, _), error) in sent.iter().zip(repeated) {
        if let Some(error) = error {
            refused.push(*position);
            if let Some(slot) = results.get_mut(*position) {
                *slot = Some(Err(error));
            }
        }
    }
    sent.retain(|(position, _, _)| !refused.contains(position));
    if !sent.is_empty() {
        for (position, answer) in send(run, &sent).await {
            if let Some(slot) = results.get_mut(position) {
                *slot = Some(answer);
            }
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::undecodable(200, b"", None))))
        .collect()
}

/// Posts `sent` as one array, journaled, and answers each of its rows by its position.
async fn send(
    run: &BulkRun<Personalised>,
    sent: &[(usize, SendRequest, Option<CorrelationId>)],
) -> Vec<(usize, Result<SendReceipt, Error>)> {
    let requests: Vec<&SendRequest> = sent.iter().map(|(_, request, _)| request).collect();
    let ids: Vec<Option<CorrelationId>> = sent.iter().map(|(_, _, id)| id.clone()).collect();
    let every_row = |error: &Error| -> Vec<Result<SendReceipt, Error>> {
        ids.iter()
            .map(|id| Err(error.clone().with_correlation_id(id.clone())))
            .collect()
    };
    let answered = |answers: Vec<Result<SendReceipt, Error>>| {
        sent.iter()
            .map(|(position, _, _)| *position)
            .zip(answers)
            .collect()
    };
    let body = match json_body(&requests) {
        Ok(body) => body,
        Err(error) => return answered(every_row(&error)),
    };
    let intents = requests.iter().zip(&ids).filter_map(|(request, id)| {
        Some(Intent {
            correlation_id: id.as_ref()?,
            recipient: request.destinations().first()?.id()?,
            digest: digest(request.content()),
        })
    });
    if let Err(error) = run.client.journal_intents(intents).await {
        return answered(every_row(&error));
    }
    let answers = run
        .client
        .execute(body, requests.len(), None, |answer, attempt| {
            decide(&requests, &ids, &answer, attempt)
        })
        .await
        .unwrap_or_else(|error| every_row(&error));
    let outcomes = ids
        .iter()
        .zip(&answers)
        .filter_map(|(id, answer)| Some((id.as_ref()?, answer)));
    run.client.journal_outcomes(outcomes).await;
    answered(answers)
}

/// The complete request of one row, checked.
fn request(run: &BulkRun<Personalised>, row: &RowOf<Content>) -> Result<SendRequest, Error> {
    let mut destination = Destination::new(&row.to);
    if let Some(id) = run.correlation_id(row) {
        destination = destination.with_correlation_id(id);
    }
    Ok(
        SendRequest::builder(run.client.app_id().clone(), row.payload.clone())
            .destination(destination)
            .options(run.options.clone())
            .build()?,
    )
}

/// Reads one answer to a call of `requests`: one result per request, in order.
///
/// A whole-call error (an unreadable body, an object-shaped rejection, every element
/// rate-limited) is returned as `Err`, so the client's retry rules decide on it once for the
/// call; per-element outcomes come back as `Ok` rows.
fn decide(
    requests: &[&SendRequest],
    ids: &[Option<CorrelationId>],
    answer: &Answer,
    attempt: u32,
) -> Result<Vec<Result<SendReceipt, Error>>, Error> {
    let status = answer.status;
    let Ok(response) = SendResponse::from_slice(&answer.raw) else {
        return Err(unreadable(status, answer.retry_after, &answer.raw));
    };
    let entries = match &response {
        SendResponse::Array(entries) => entries.as_slice(),
        SendResponse::Object(entry) if entry.code.is_queued() => {
            // UNVERIFIED: a personalised batch call is documented to be answered with one entry per
            // element.
            // One `1001` for the call says something was queued but not which elements, so
            // every row's outcome is unknown; and as something was queued, nothing is resent.
            return Ok(ids
                .iter()
                .map(|id| {
                    Err(Error::ambiguous(
                        status,
                        Some(entry.code.clone()),
                        id.clone(),
                    ))
                })
                .collect());
        }
        // The rejected shape speaks for the whole call.
        SendResponse::Object(entry) => {
            return Err(entry_error(entry, status, answer.retry_after));
        }
    };
    let Some(first) = entries.first() else {
        return Err(unreadable(status, answer.retry_after, &answer.raw));
    };
    let any_queued = entries.iter().any(|e| e.code.is_queued());
    if entries.len() == requests.len()
        && entries.iter().all(|e| e.code == ResponseCode::RateLimited)
    {
        // Every element was rate-limited, one entry each: that proves nothing was processed,
        // so the client's retry rules resend the call as a whole after the wait the platform
        // asks for.
        return Err(entry_error(first, status, answer.retry_after));
    }
    if is_server_error(status) && any_queued {
        tracing::warn!(status, "a queued answer came with a server-error status");
    }
    let matched = match_entries(entries, ids);
    Ok(requests
        .iter()
        .zip(ids)
        .zip(matched)
        .map(|((request, id), entry)| match entry {
            Some(entry) if entry.code.is_queued() => Ok(SendReceipt {
                transaction_id: entry.transaction_id.clone(),
                correlation_id: id.clone(),
                destination: request
                    .destinations()
                    .first()
                    .and_then(Destination::id)
                    .unwrap_or_default()
                    .to_owned(),
                description: entry.description.clone(),
                attempts: attempt,
            }),
            Some(entry) => {
                Err(entry_error(entry, status, answer.retry_after).with_correlation_id(id.clone()))
            }
            // The platform answered, but not for this element: it may or may not be queued.
            None => Err(Error::ambiguous(status, None, id.clone())),
        })
        .collect())
}

/// Pairs each request with its answer entry: by the correlation id the entry echoes when
/// every entry echoes one of ours, else by position when the counts agree.
///
/// UNVERIFIED: the platform notes do not say whether personalised batch answers echo
/// `correlationid`; both shapes are handled, and an entry that cannot be placed leaves its
/// row unknown.
fn match_entries<'e>(
    entries: &'e [ResponseEntry],
    ids: &[Option<CorrelationId>],
) -> Vec<Option<&'e ResponseEntry>> {
    let echoed = !entries.is_empty()
        && entries.iter().all(|e| {
            e.correlation_id
                .as_deref()
                .is_some_and(|c| ids.iter().flatten().any(|id| id.as_str() == c))
        });
    if echoed {
        return ids
            .iter()
            .map(|id| {
                id.as_ref().and_then(|id| {
                    entries
                        .iter()
                        .find(|e| e.correlation_id.as_deref() == Some(id.as_str()))
                })
            })
            .collect();
    }
    if entries.len() == ids.len() {
        return entries.iter().map(Some).collect();
    }
    vec![None; ids.len()]
}
