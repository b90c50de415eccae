//! One message to many recipients: batches of up to 1000 destinations, bounded concurrency,
//! results streamed out in bounded memory.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures_util::stream::{self, BoxStream, Stream, StreamExt as _};
use time::OffsetDateTime;
use url::Url;

use super::{Client, Error, RequestOptions, SendReceipt};
use crate::ids::{CallbackData, CorrelationId};
use crate::phone::PhoneNumber;
use crate::phone::mask as mask_phone;
use crate::recipient::{Bsuid, Recipient};
use crate::send::{Content, Destination, LinkOptions, MAX_DESTINATIONS, SendRequest};

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

impl From<Recipient> for BulkRecipient {
    fn from(value: Recipient) -> Self {
        Self::To(value)
    }
}

impl From<&Recipient> for BulkRecipient {
    fn from(value: &Recipient) -> Self {
        Self::To(value.clone())
    }
}

impl From<PhoneNumber> for BulkRecipient {
    fn from(value: PhoneNumber) -> Self {
        Self::To(value.into())
    }
}

impl From<&PhoneNumber> for BulkRecipient {
    fn from(value: &PhoneNumber) -> Self {
        Self::To(value.into())
    }
}

impl From<Bsuid> for BulkRecipient {
    fn from(value: Bsuid) -> Self {
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
///         Ok(receipt) => println!("#{} queued: {:?}", r.index, receipt.transid),
///         Err(e) => println!("#{} failed: {e}", r.index),
///     }
/// }
/// println!("{:?}", results.progress());
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Debug)]
pub struct BulkBuilder {
    client: Client,
    content: Content,
    batch_size: usize,
    concurrency: usize,
    options: RequestOptions,
}

impl BulkBuilder {
    pub(super) fn new(client: Client, content: Content) -> Self {
        Self {
            client,
            content,
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

    /// Data echoed in every delivery receipt of this send.
    pub fn callback_data(mut self, data: CallbackData) -> Self {
        self.options.callback_data = Some(data);
        self
    }

    /// The URL that receives this send's delivery receipts.
    pub fn notify_url(mut self, url: Url) -> Self {
        self.options.notify_url = Some(url);
        self
    }

    /// The authorization profile applied when calling the notify URL.
    pub fn notify_url_auth_id(mut self, id: impl Into<String>) -> Self {
        self.options.notify_url_auth_id = Some(id.into());
        self
    }

    /// The time after which the messages must not be sent.
    pub fn expiry(mut self, at: OffsetDateTime) -> Self {
        self.options.expiry = Some(at);
        self
    }

    /// Link shortening and click tracking for every batch of this send (`options`).
    pub fn link_options(mut self, options: LinkOptions) -> Self {
        self.options.link_options = Some(options);
        self
    }

    /// The batch size actually used: the setting, capped at 1000 and at the rate limit.
    pub fn effective_batch_size(&self) -> usize {
        let rate = self
            .client
            .rate_limit()
            .map_or(usize::MAX, |r| usize::try_from(r).unwrap_or(usize::MAX));
        self.batch_size.clamp(1, MAX_DESTINATIONS).min(rate)
    }

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
        let batch_size = self.effective_batch_size();
        let concurrency = self.concurrency;
        let counters = Arc::new(Counters::default());
        let run = format!("{:08x}", fastrand::u32(..));
        let template = Arc::new(Template {
            client: self.client,
            content: self.content,
            options: self.options,
            run,
        });
        let input = recipients.map(Into::into).boxed();
        let reader_counters = Arc::clone(&counters);
        let work = stream::unfold(
            Reader {
                input,
                next_index: 0,
                done: false,
                counters: reader_counters,
            },
            move |mut reader| async move {
                let work = reader.next_work(batch_size).await?;
                Some((work, reader))
            },
        );
        let batch_counters = Arc::clone(&counters);
        let results = work
            .map(move |work| {
                let template = Arc::clone(&template);
                let counters = Arc::clone(&batch_counters);
                async move { template.run(work, &counters).await }
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

struct Template {
    client: Client,
    content: Content,
    options: RequestOptions,
    run: String,
}

/// What the reader hands to the senders: numbers to send, and inputs already refused.
struct Work {
    invalid: Vec<BulkResult>,
    batch: Vec<(u64, Recipient)>,
}

struct Reader {
    input: BoxStream<'static, BulkRecipient>,
    next_index: u64,
    done: bool,
    counters: Arc<Counters>,
}

impl Reader {
    async fn next_work(&mut self, batch_size: usize) -> Option<Work> {
        if self.done {
            return None;
        }
        let mut work = Work {
            invalid: Vec::new(),
            batch: Vec::with_capacity(batch_size),
        };
        // Invalid inputs ride along with the next batch, but never more than a batch's worth,
        // so a file of garbage still streams in bounded memory.
        while work.batch.len() < batch_size && work.invalid.len() < batch_size {
            let Some(recipient) = self.input.next().await else {
                self.done = true;
                break;
            };
            let index = self.next_index;
            self.next_index += 1;
            self.counters.total.fetch_add(1, Ordering::Relaxed);
            match recipient {
                BulkRecipient::To(to) => work.batch.push((index, to)),
                BulkRecipient::Raw(raw) => match Recipient::parse(&raw) {
                    Ok(phone) => work.batch.push((index, phone)),
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
                    }
                },
            }
        }
        (!work.batch.is_empty() || !work.invalid.is_empty()).then_some(work)
    }
}

impl Template {
    fn correlation_id(&self, index: u64) -> Option<CorrelationId> {
        CorrelationId::new(format!("{}-{index}", self.run)).ok()
    }

    fn request(&self, batch: &[(u64, Recipient)]) -> Result<SendRequest, Error> {
        let destinations = batch.iter().map(|(index, phone)| {
            let d = Destination::new(phone);
            match self.correlation_id(*index) {
                Some(id) => d.with_correlation_id(id),
                None => d,
            }
        });
        let builder = SendRequest::builder(self.client.app_id().clone(), self.content.clone())
            .destinations(destinations);
        Ok(self.options.apply(builder).build()?)
    }

    async fn run(&self, work: Work, counters: &Counters) -> Vec<BulkResult> {
        let mut out = work.invalid;
        if work.batch.is_empty() {
            return out;
        }
        let outcome = match self.request(&work.batch) {
            Ok(request) => self.client.send_request(&request).await,
            Err(e) => Err(e),
        };
        counters.sent.fetch_add(
            u64::try_from(work.batch.len()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        out.reserve(work.batch.len());
        match outcome {
            Ok(outcome) => {
                let mut results = outcome.results.into_iter();
                for (index, phone) in work.batch {
                    let result = results.next().unwrap_or_else(|| {
                        Err(Error::undecodable(200, b"", self.correlation_id(index)))
                    });
                    counters.count(&result);
                    out.push(BulkResult {
                        index,
                        recipient: phone.to_string(),
                        result,
                    });
                }
            }
            Err(error) => {
                for (index, phone) in work.batch {
                    let result = Err(error
                        .clone()
                        .with_correlation_id(self.correlation_id(index)));
                    counters.count(&result);
                    out.push(BulkResult {
                        index,
                        recipient: phone.to_string(),
                        result,
                    });
                }
            }
        }
        out
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
