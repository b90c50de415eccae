//! One message to many recipients: batches of up to 1000 destinations, bounded concurrency,
//! results streamed out in bounded memory.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures_util::stream::{self, BoxStream, Stream, StreamExt as _};

use super::{Client, Error, RequestOptions, SendReceipt};
use crate::ids::CorrelationId;
use crate::phone::mask as mask_phone;
use crate::recipient::Recipient;
use crate::send::{Content, Destination, MAX_DESTINATIONS, SendRequest};

/// The default number of requests in flight during a bulk send.
pub const DEFAULT_BULK_CONCURRENCY: usize = 4;

/// One bulk recipient: a checked [`Recipient`], or raw text read (and reported if invalid) on
/// the way.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BulkRecipient {
    /// A checked phone number or BSUID.
    To(Recipient),
    /// Raw input, e.g. a line of a file, read with [`Recipient::parse`]: a BSUID (`US.…`) or a
    /// phone number.
    Raw(String),
}

impl fmt::Debug for BulkRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::To(r) => f.debug_tuple("To").field(r).finish(),
            Self::Raw(s) => f.debug_tuple("Raw").field(&mask_phone(s)).finish(),
        }
    }
}

// Anything that names a user (a `Recipient`, a phone number or a BSUID, owned or borrowed)
// is a checked recipient; text is kept raw so that a bad row is that row's error.
impl<T: Into<Recipient>> From<T> for BulkRecipient {
    fn from(value: T) -> Self {
        Self::To(value.into())
    }
}

impl From<String> for BulkRecipient {
    fn from(value: String) -> Self {
        Self::Raw(value)
    }
}

impl From<&str> for BulkRecipient {
    fn from(value: &str) -> Self {
        Self::Raw(value.to_owned())
    }
}

/// The result for one recipient of a bulk send.
#[derive(Clone)]
#[non_exhaustive]
pub struct BulkResult {
    /// The recipient's position in the input, from 0.
    pub index: u64,
    /// The number in E.164 form or the BSUID, or the raw input when it was neither.
    pub recipient: String,
    /// Queued (with its receipt) or not, and why.
    pub result: Result<SendReceipt, Error>,
}

impl fmt::Debug for BulkResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkResult")
            .field("index", &self.index)
            .field("recipient", &mask_phone(&self.recipient))
            .field("result", &self.result)
            .finish()
    }
}

/// Counts of a bulk send so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BulkProgress {
    /// Recipients read from the input so far (the final total once the stream ends).
    pub total: u64,
    /// Recipients whose request got an answer or failed (not counting invalid numbers).
    pub sent: u64,
    /// Recipients queued by Webex Connect.
    pub queued: u64,
    /// Recipients certainly not queued: invalid numbers and rejections.
    pub failed: u64,
    /// Recipients whose request may or may not have been queued.
    pub outcome_unknown: u64,
}

#[derive(Debug, Default)]
struct Counters {
    total: AtomicU64,
    sent: AtomicU64,
    queued: AtomicU64,
    failed: AtomicU64,
    outcome_unknown: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> BulkProgress {
        BulkProgress {
            total: self.total.load(Ordering::Relaxed),
            sent: self.sent.load(Ordering::Relaxed),
            queued: self.queued.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            outcome_unknown: self.outcome_unknown.load(Ordering::Relaxed),
        }
    }

    fn count(&self, result: &Result<SendReceipt, Error>) {
        let counter = match result {
            Ok(_) => &self.queued,
            Err(e) if e.is_outcome_unknown() => &self.outcome_unknown,
            Err(_) => &self.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Configures a bulk send; start it with [`BulkBuilder::send`] or [`BulkBuilder::send_stream`].
///
/// ```no_run
/// use futures_util::StreamExt as _;
/// use webex_connect_whatsapp::client::Client;
/// use webex_connect_whatsapp::{AppId, TemplateMessage};
///
/// # async fn run(client: Client, template: TemplateMessage) -> Result<(), Box<dyn std::error::Error>> {
/// let numbers = vec!["+447400123456", "+447400123457", "not a number"];
/// let mut results = client.bulk(template).concurrency(2).send(numbers);
/// while let Some(r) = results.next().await {
///     match &r.result {
///         Ok(receipt) => println!("#{} queued: {:?}", r.index, receipt.transaction_id),
///         Err(e) => println!("#{} failed: {e}", r.index),
///     }
/// }
/// println!("{:?}", results.progress());
/// # Ok(()) }
/// ```
///
/// The same builder sends personalised batches, one complete message per recipient, when
/// started with [`Client::batch`](super::Client::batch) (see [`Personalised`](super::Personalised)).
#[must_use]
#[derive(Debug)]
pub struct BulkBuilder<M = Content> {
    pub(super) client: Client,
    /// What every recipient gets ([`Content`]), or [`Personalised`]: each row brings its own.
    pub(super) mode: M,
    batch_size: usize,
    concurrency: usize,
    pub(super) options: RequestOptions,
}

impl<M> BulkBuilder<M> {
    pub(super) fn new(client: Client, mode: M) -> Self {
        Self {
            client,
            mode,
            batch_size: MAX_DESTINATIONS,
            concurrency: DEFAULT_BULK_CONCURRENCY,
            options: RequestOptions::default(),
        }
    }

    /// The most destinations per request (default and max 1000; also capped by the client's
    /// rate limit, as the platform requires).
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch_size = size;
        self
    }

    /// The most requests in flight at once (default 4, at least 1).
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.concurrency = requests.max(1);
        self
    }

    request_option_setters!("this send");

    /// The batch size actually used: the setting, capped at 1000 and at the rate limit.
    pub fn effective_batch_size(&self) -> usize {
        let rate = self
            .client
            .rate_limit()
            .map_or(usize::MAX, |r| usize::try_from(r).unwrap_or(usize::MAX));
        self.batch_size.clamp(1, MAX_DESTINATIONS).min(rate)
    }

    /// Runs the pipeline every bulk mode shares: rows are read lazily into batches of
    /// [`Self::effective_batch_size`], recipients checked on the way, `call` sends one batch,
    /// and at most `concurrency` batches are in flight.
    pub(super) fn pipeline<T, F, Fut>(self, rows: BoxStream<'static, T>, call: F) -> BulkStream
    where
        T: Row + Send + 'static,
        F: Fn(Arc<Batcher<M>>, Work<T::Payload>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<Result<SendReceipt, Error>>> + Send + 'static,
        M: Send + Sync + 'static,
    {
        let batch_size = self.effective_batch_size();
        let concurrency = self.concurrency;
        let counters = Arc::new(Counters::default());
        let batcher = Arc::new(Batcher {
            client: self.client,
            mode: self.mode,
            options: self.options,
            run: format!("{:08x}", fastrand::u32(..)),
        });
        let reader_counters = Arc::clone(&counters);
        let work = stream::unfold(
            Reader {
                input: rows,
                next_index: 0,
                done: false,
                counters: reader_counters,
            },
            move |mut reader| async move {
                let work = reader.next_work(batch_size).await?;
                Some((work, reader))
            },
        );
        let call = Arc::new(call);
        let batch_counters = Arc::clone(&counters);
        let results = work
            .map(move |mut work| {
                let batcher = Arc::clone(&batcher);
                let counters = Arc::clone(&batch_counters);
                let call = Arc::clone(&call);
                async move {
                    let invalid = std::mem::take(&mut work.invalid);
                    let rows: Vec<(u64, String, Option<CorrelationId>)> = work
                        .rows
                        .iter()
                        .map(|r| (r.index, r.to.to_string(), batcher.correlation_id(r)))
                        .collect();
                    let results = if rows.is_empty() {
                        Vec::new()
                    } else {
                        call(Arc::clone(&batcher), work).await
                    };
                    counters.sent.fetch_add(
                        u64::try_from(rows.len()).unwrap_or(u64::MAX),
                        Ordering::Relaxed,
                    );
                    let mut results = results.into_iter();
                    let mut out = invalid;
                    out.reserve(rows.len());
                    for (index, recipient, correlation_id) in rows {
                        // A call answers every row; a missing answer would be a bug, and is
                        // reported as unknown rather than as sent or not sent.
                        let result = results
                            .next()
                            .unwrap_or_else(|| Err(Error::undecodable(200, b"", correlation_id)));
                        counters.count(&result);
                        out.push(BulkResult {
                            index,
                            recipient,
                            result,
                        });
                    }
                    out
                }
            })
            .buffer_unordered(concurrency)
            .flat_map(stream::iter)
            .boxed();
        BulkStream {
            inner: results,
            counters,
        }
    }
}

impl BulkBuilder<Content> {
    /// Sends to every recipient of an iterator (read lazily).
    pub fn send<I>(self, recipients: I) -> BulkStream
    where
        I: IntoIterator,
        I::Item: Into<BulkRecipient>,
        I::IntoIter: Send + 'static,
    {
        self.send_stream(stream::iter(recipients))
    }

    /// Sends to every recipient of a stream (read lazily, as batches are needed).
    ///
    /// Each destination gets the correlation id `{run}-{index}`, where `run` is random per
    /// bulk send and `index` the recipient's position, so delivery receipts map back to inputs.
    pub fn send_stream<S>(self, recipients: S) -> BulkStream
    where
        S: Stream + Send + 'static,
        S::Item: Into<BulkRecipient>,
    {
        let rows = recipients.map(Into::<BulkRecipient>::into).boxed();
        self.pipeline(rows, |batcher, work| async move {
            let destinations = work.rows.iter().map(|row| {
                let d = Destination::new(&row.to);
                match batcher.correlation_id(row) {
                    Some(id) => d.with_correlation_id(id),
                    None => d,
                }
            });
            let builder =
                SendRequest::builder(batcher.client.app_id().clone(), batcher.mode.clone())
                    .destinations(destinations);
            let outcome = match batcher.options.apply(builder).build() {
                Ok(request) => batcher.client.send_request(&request).await,
                Err(e) => Err(e.into()),
            };
            match outcome {
                Ok(outcome) => outcome.results,
                Err(error) => batcher.for_every_row(&work, &error),
            }
        })
    }
}

/// One input row of a bulk mode: who it goes to, and what else the mode needs per row.
pub(super) trait Row {
    /// What the row carries besides its recipient.
    type Payload: Send + 'static;
    /// The recipient (checked on the way) and the rest.
    fn split(self) -> (BulkRecipient, Option<CorrelationId>, Self::Payload);
}

impl Row for BulkRecipient {
    type Payload = ();
    fn split(self) -> (BulkRecipient, Option<CorrelationId>, ()) {
        (self, None, ())
    }
}

/// What every batch of one bulk send shares.
pub(super) struct Batcher<M> {
    pub(super) client: Client,
    pub(super) mode: M,
    pub(super) options: RequestOptions,
    /// Random per send, so correlation ids `{run}-{index}` from two sends never meet.
    run: String,
}

impl<M> Batcher<M> {
    /// The row's own correlation id, else `{run}-{index}`.
    pub(super) fn correlation_id<P>(&self, row: &RowOf<P>) -> Option<CorrelationId> {
        row.correlation_id
            .clone()
            .or_else(|| CorrelationId::new(format!("{}-{}", self.run, row.index)).ok())
    }

    /// A whole-call failure, told to every row with the row's own correlation id.
    pub(super) fn for_every_row<P>(
        &self,
        work: &Work<P>,
        error: &Error,
    ) -> Vec<Result<SendReceipt, Error>> {
        work.rows
            .iter()
            .map(|row| Err(error.clone().with_correlation_id(self.correlation_id(row))))
            .collect()
    }
}

/// A checked row in a batch.
pub(super) struct RowOf<P> {
    pub(super) index: u64,
    pub(super) to: Recipient,
    pub(super) correlation_id: Option<CorrelationId>,
    pub(super) payload: P,
}

/// What the reader hands to the senders: rows to send, and inputs already refused.
pub(super) struct Work<P> {
    invalid: Vec<BulkResult>,
    pub(super) rows: Vec<RowOf<P>>,
}

struct Reader<T> {
    input: BoxStream<'static, T>,
    next_index: u64,
    done: bool,
    counters: Arc<Counters>,
}

impl<T: Row> Reader<T> {
    async fn next_work(&mut self, batch_size: usize) -> Option<Work<T::Payload>> {
        if self.done {
            return None;
        }
        let mut work = Work {
            invalid: Vec::new(),
            rows: Vec::with_capacity(batch_size),
        };
        // Invalid inputs ride along with the next batch, but never more than a batch's worth,
        // so a file of garbage still streams in bounded memory.
        while work.rows.len() < batch_size && work.invalid.len() < batch_size {
            let Some(row) = self.input.next().await else {
                self.done = true;
                break;
            };
            let index = self.next_index;
            self.next_index += 1;
            self.counters.total.fetch_add(1, Ordering::Relaxed);
            let (recipient, correlation_id, payload) = row.split();
            let to = match recipient {
                BulkRecipient::To(to) => to,
                BulkRecipient::Raw(raw) => match Recipient::parse(&raw) {
                    Ok(to) => to,
                    Err(source) => {
                        let result = Err(Error::InvalidRecipient {
                            masked: mask_phone(&raw),
                            source,
                        });
                        self.counters.count(&result);
                        work.invalid.push(BulkResult {
                            index,
                            recipient: raw,
                            result,
                        });
                        continue;
                    }
                },
            };
            work.rows.push(RowOf {
                index,
                to,
                correlation_id,
                payload,
            });
        }
        (!work.rows.is_empty() || !work.invalid.is_empty()).then_some(work)
    }
}

/// The per-recipient results of a bulk send, as they come (not in input order).
///
/// Nothing is sent until the stream is polled; dropping it stops the send (requests in flight
/// are abandoned, and their outcome is unknown).
pub struct BulkStream {
    inner: BoxStream<'static, BulkResult>,
    counters: Arc<Counters>,
}

impl BulkStream {
    /// The counts so far.
    pub fn progress(&self) -> BulkProgress {
        self.counters.snapshot()
    }
}

impl fmt::Debug for BulkStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkStream")
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

impl Stream for BulkStream {
    type Item = BulkResult;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
