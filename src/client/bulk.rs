//! One message to many recipients: calls of up to 1000 destinations each, bounded concurrency,
//! results streamed out in bounded memory.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures_util::future::{self, Either};
use futures_util::stream::{self, BoxStream, Stream, StreamExt as _};
use time::OffsetDateTime;
use tokio::runtime::Handle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tracing::Instrument as _;
use url::Url;

use super::{Client, Error, SendReceipt};
use crate::ids::{CallbackData, CorrelationId};
use crate::limits::MAX_DESTINATIONS;
use crate::phone::mask as mask_phone;
use crate::recipient::Recipient;
use crate::send::{Content, Destination, LinkOptions, RequestOptions, SendRequest};

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
    call_size: usize,
    concurrency: usize,
    pub(super) options: RequestOptions,
}

impl<M> BulkBuilder<M> {
    pub(super) fn new(client: Client, mode: M) -> Self {
        Self {
            client,
            mode,
            call_size: MAX_DESTINATIONS,
            concurrency: DEFAULT_BULK_CONCURRENCY,
            options: RequestOptions::default(),
        }
    }

    crate::setters::setters! {
        /// The most destinations (or, for a personalised batch, rows) per call: one request
        /// (default and max 1000; also capped by the client's rate limit, as the platform
        /// requires). Formerly `call_size`.
        fn call_size(self, size: usize) => self.call_size = size;

        /// The most requests in flight at once (default 4, at least 1; above 65 536 counts as
        /// 65 536). Each runs to its answer on a tokio task of its own, however slowly the
        /// results are read.
        fn concurrency(self, requests: usize) => self.concurrency = requests.max(1);
    }

    crate::setters::setters! {
        /// Sets the request-level options of every request of this send whole, replacing any
        /// set before.
        fn options(self, options: RequestOptions) => self.options = options;

        /// Sets [`RequestOptions::callback_data`] for every message of this send.
        fn callback_data(self, data: CallbackData) =>
            self.options = self.options.callback_data(data);

        /// Sets [`RequestOptions::notify_url`] for every message of this send.
        fn notify_url(self, url: Url) => self.options = self.options.notify_url(url);

        /// Sets [`RequestOptions::notify_url_auth_id`] for every message of this send.
        fn notify_url_auth_id(self, notify_url_auth_id: impl Into<String>) =>
            self.options = self.options.notify_url_auth_id(notify_url_auth_id);

        /// Sets [`RequestOptions::expiry`] for every message of this send.
        fn expiry(self, at: OffsetDateTime) => self.options = self.options.expiry(at);

        /// Sets [`RequestOptions::link_options`] for every message of this send.
        fn link_options(self, options: LinkOptions) =>
            self.options = self.options.link_options(options);
    }

    /// The call size actually used: the [`call_size`](Self::call_size) setting, capped at 1000
    /// and at the rate limit. Formerly `effective_batch_size`.
    #[doc(alias = "effective_batch_size")]
    pub fn effective_call_size(&self) -> usize {
        let rate = self
            .client
            .rate_limit()
            .map_or(usize::MAX, |r| usize::try_from(r).unwrap_or(usize::MAX));
        self.call_size.clamp(1, MAX_DESTINATIONS).min(rate)
    }

    /// Runs the pipeline every bulk mode shares: rows are read lazily into calls of
    /// [`Self::effective_call_size`] rows, recipients checked on the way, `call` sends one,
    /// and at most `concurrency` calls are in flight.
    ///
    /// Nothing starts until the stream is first polled. Then a driver task reads the rows and
    /// starts each call on a tokio task of its own, which runs the call to its answer, counts
    /// and journals it, and only then waits for room in the bounded queue the stream reads.
    /// A slow reader so slows intake (no call starts while its slot is taken by results
    /// waiting for room) but never the calls in flight, whose answers would otherwise turn
    /// into timeouts while no one polled them.
    pub(super) fn pipeline<T, F, Fut>(self, rows: BoxStream<'static, T>, call: F) -> BulkStream
    where
        T: Row + Send + 'static,
        F: Fn(Arc<BulkRun<M>>, Work<T::Payload>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<Result<SendReceipt, Error>>> + Send + 'static,
        M: Send + Sync + 'static,
    {
        let call_size = self.effective_call_size();
        let concurrency = self.concurrency.clamp(1, MAX_CONCURRENCY);
        let counters = Arc::new(Counters::default());
        let (settled_tx, settled) = watch::channel(());
        let run = Arc::new(BulkRun {
            client: self.client,
            mode: self.mode,
            options: self.options,
            run_id: format!("{:08x}", fastrand::u32(..)),
        });
        let driver = Driver {
            reader: Reader {
                input: rows,
                next_index: 0,
                done: false,
                counters: Arc::clone(&counters),
            },
            run,
            call: Arc::new(call),
            call_size,
            concurrency,
            settled: settled_tx,
        };
        BulkStream {
            state: StreamState::Idle(Box::new(driver)),
            handle: BulkHandle { counters, settled },
        }
    }
}

/// The most calls a bulk send keeps in flight, whatever [`BulkBuilder::concurrency`] says:
/// far above any tenant's rate, and within what tokio's semaphores and queues take.
const MAX_CONCURRENCY: usize = 1 << 16;

/// Everything a bulk send needs to run, until its stream is first polled.
struct Driver<M, T, F> {
    reader: Reader<T>,
    run: Arc<BulkRun<M>>,
    call: Arc<F>,
    call_size: usize,
    concurrency: usize,
    /// Dropped once every call the send started has ended: [`BulkHandle::settled`] waits
    /// for that.
    settled: watch::Sender<()>,
}

/// A [`Driver`] with its types erased, so that [`BulkStream`] is one type for every mode.
trait Start: Send {
    /// Starts the driver task on `runtime`; results come through the returned queue.
    fn start(self: Box<Self>, runtime: &Handle) -> mpsc::Receiver<Vec<BulkResult>>;

    /// Without a tokio runtime nothing can be sent: every row fails, with no call made.
    fn refuse(self: Box<Self>) -> BoxStream<'static, BulkResult>;
}

impl<M, T, F, Fut> Start for Driver<M, T, F>
where
    T: Row + Send + 'static,
    F: Fn(Arc<BulkRun<M>>, Work<T::Payload>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<Result<SendReceipt, Error>>> + Send + 'static,
    M: Send + Sync + 'static,
{
    fn start(self: Box<Self>, runtime: &Handle) -> mpsc::Receiver<Vec<BulkResult>> {
        // Each queued item is one call's results: with a slot per call, calls that finish
        // together do not wait on each other, and memory stays within twice `concurrency`
        // calls' worth of rows.
        let (tx, rx) = mpsc::channel(self.concurrency);
        let spawner = runtime.clone();
        runtime.spawn(self.drive(tx, spawner).in_current_span());
        rx
    }

    fn refuse(self: Box<Self>) -> BoxStream<'static, BulkResult> {
        let Self {
            reader,
            run,
            call_size,
            ..
        } = *self;
        let counters = Arc::clone(&reader.counters);
        let work = stream::unfold(reader, move |mut reader| async move {
            let work = reader.next_work(call_size).await?;
            Some((work, reader))
        });
        work.flat_map(move |work| {
            let refused = Error::config(
                "a bulk send runs its calls on tokio tasks, but its stream was polled outside \
                 a tokio runtime; nothing was sent: poll it inside one",
            );
            let mut out = work.invalid;
            for row in &work.rows {
                let result = Err(refused.clone().with_correlation_id(run.correlation_id(row)));
                counters.count(&result);
                out.push(BulkResult {
                    index: row.index,
                    recipient: row.to.to_string(),
                    result,
                });
            }
            stream::iter(out)
        })
        .boxed()
    }
}

impl<M, T, F, Fut> Driver<M, T, F>
where
    T: Row + Send + 'static,
    F: Fn(Arc<BulkRun<M>>, Work<T::Payload>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<Result<SendReceipt, Error>>> + Send + 'static,
    M: Send + Sync + 'static,
{
    /// Reads rows and starts calls until the input ends or the stream is dropped (`tx`
    /// closed), then waits for every call it started to end.
    async fn drive(self, tx: mpsc::Sender<Vec<BulkResult>>, runtime: Handle) {
        let Self {
            mut reader,
            run,
            call,
            call_size,
            concurrency,
            settled,
        } = self;
        let slots = Arc::new(Semaphore::new(concurrency));
        loop {
            // A call slot first, then its rows: no row is read before a call can take it.
            let Some(Ok(slot)) = unless_dropped(&tx, Arc::clone(&slots).acquire_owned()).await
            else {
                break;
            };
            let Some(Some(mut work)) = unless_dropped(&tx, reader.next_work(call_size)).await
            else {
                break;
            };
            if work.rows.is_empty() {
                drop(slot);
                if tx.send(std::mem::take(&mut work.invalid)).await.is_err() {
                    break;
                }
                continue;
            }
            if tx.is_closed() {
                // Dropped while the rows were read: they were never sent, and no call starts.
                break;
            }
            let task = run_call(
                Arc::clone(&run),
                Arc::clone(&call),
                work,
                Arc::clone(&reader.counters),
                tx.clone(),
                slot,
            );
            runtime.spawn(task.in_current_span());
        }
        drop(tx);
        // Every call holds a slot until its results are counted, journaled and queued (or the
        // stream is gone): holding all of them means no call is left.
        let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
        let _all = slots.acquire_many(all).await;
        drop(settled);
    }
}

/// `work`'s output, unless the stream is dropped (`tx` closed) first.
async fn unless_dropped<T>(
    tx: &mpsc::Sender<Vec<BulkResult>>,
    work: impl Future<Output = T>,
) -> Option<T> {
    let closed = std::pin::pin!(tx.closed());
    let work = std::pin::pin!(work);
    match future::select(closed, work).await {
        Either::Left(_) => None,
        Either::Right((output, _)) => Some(output),
    }
}

/// Runs one call to its answer whatever the reader does, counts its results, then hands
/// them to the stream (or drops them when the stream is gone: the journal and the counters
/// already have them). `slot` is held until then.
async fn run_call<M, P, F, Fut>(
    run: Arc<BulkRun<M>>,
    call: Arc<F>,
    mut work: Work<P>,
    counters: Arc<Counters>,
    tx: mpsc::Sender<Vec<BulkResult>>,
    slot: OwnedSemaphorePermit,
) where
    F: Fn(Arc<BulkRun<M>>, Work<P>) -> Fut,
    Fut: Future<Output = Vec<Result<SendReceipt, Error>>>,
{
    let invalid = std::mem::take(&mut work.invalid);
    let rows: Vec<(u64, String, Option<CorrelationId>)> = work
        .rows
        .iter()
        .map(|r| (r.index, r.to.to_string(), run.correlation_id(r)))
        .collect();
    let results = call(Arc::clone(&run), work).await;
    counters.sent.fetch_add(
        u64::try_from(rows.len()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
    let mut results = results.into_iter();
    let mut out = invalid;
    out.reserve(rows.len());
    for (index, recipient, correlation_id) in rows {
        // A call answers every row; a missing answer would be a bug, and is reported as
        // unknown rather than as sent or not sent.
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
    if tx.send(out).await.is_err() {
        tracing::debug!("the bulk stream was dropped; this call's results are only counted");
    }
    drop(slot);
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

    /// Sends to every recipient of a stream (read lazily, as calls need them).
    ///
    /// Each destination gets the correlation id `{run}-{index}`, where `run` is random per
    /// bulk send and `index` the recipient's position, so delivery receipts map back to inputs.
    ///
    /// Random on purpose: two sends never share an id, so receipts and the journal never mix
    /// them up. The price is that a bulk send cannot be picked up after a crash by its ids.
    /// For a send that must resume, send it as a personalised batch
    /// ([`Client::batch`](super::Client::batch)), giving each row an id of its own that
    /// survives a restart (a row key, say) with [`BatchRow::correlation_id`], and skip the rows
    /// the journal already knows, as the `personalised_batch` example does with `--journal`.
    ///
    /// [`BatchRow::correlation_id`]: super::BatchRow::correlation_id
    pub fn send_stream<S>(self, recipients: S) -> BulkStream
    where
        S: Stream + Send + 'static,
        S::Item: Into<BulkRecipient>,
    {
        let rows = recipients.map(Into::<BulkRecipient>::into).boxed();
        self.pipeline(rows, |run, work| async move {
            let destinations = work.rows.iter().map(|row| {
                let d = Destination::new(&row.to);
                match run.correlation_id(row) {
                    Some(id) => d.with_correlation_id(id),
                    None => d,
                }
            });
            let request = SendRequest::builder(run.client.app_id().clone(), run.mode.clone())
                .destinations(destinations)
                .options(run.options.clone())
                .build();
            let outcome = match request {
                Ok(request) => run.client.send_request(&request).await,
                Err(e) => Err(e.into()),
            };
            match outcome {
                Ok(outcome) => outcome.results,
                Err(error) => run.for_every_row(&work, &error),
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

/// What every call of one bulk send shares.
pub(super) struct BulkRun<M> {
    pub(super) client: Client,
    pub(super) mode: M,
    pub(super) options: RequestOptions,
    /// Random per send, so correlation ids `{run}-{index}` from two sends never meet.
    run_id: String,
}

impl<M> BulkRun<M> {
    /// The row's own correlation id, else `{run}-{index}`.
    pub(super) fn correlation_id<P>(&self, row: &RowOf<P>) -> Option<CorrelationId> {
        row.correlation_id
            .clone()
            .or_else(|| CorrelationId::new(format!("{}-{}", self.run_id, row.index)).ok())
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

/// A checked row of a call.
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
    async fn next_work(&mut self, call_size: usize) -> Option<Work<T::Payload>> {
        if self.done {
            return None;
        }
        let mut work = Work {
            invalid: Vec::new(),
            rows: Vec::with_capacity(call_size),
        };
        // Invalid inputs ride along with the next call, but never more than a call's worth,
        // so a file of garbage still streams in bounded memory.
        while work.rows.len() < call_size && work.invalid.len() < call_size {
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
/// Nothing is sent until the stream is first polled, inside a tokio runtime. From then on
/// every call runs on a tokio task of its own, to its answer, however slowly the stream is
/// read: a slow reader slows the intake of rows (no call starts while results wait for room),
/// never the calls in flight. Dropping the stream starts no further call; calls already sent
/// run to their answer, and their outcomes reach the counters and the client's
/// [journal](super::ClientBuilder::journal). Keep a [`BulkHandle`] to read the counts after
/// the stream is gone and to wait for those calls.
pub struct BulkStream {
    state: StreamState,
    handle: BulkHandle,
}

enum StreamState {
    /// Not polled yet: nothing sent.
    Idle(Box<dyn Start>),
    /// The driver runs; `call_results` holds what is left of the last call's results.
    Running {
        results: mpsc::Receiver<Vec<BulkResult>>,
        call_results: std::vec::IntoIter<BulkResult>,
    },
    /// Polled outside a tokio runtime: every row fails without a call.
    Refused(BoxStream<'static, BulkResult>),
    /// Between two states.
    Moving,
}

impl BulkStream {
    /// The counts so far.
    pub fn progress(&self) -> BulkProgress {
        self.handle.progress()
    }

    /// A handle on this send that outlives the stream: its counts, and whether the calls it
    /// started have all ended.
    pub fn handle(&self) -> BulkHandle {
        self.handle.clone()
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
        loop {
            match &mut self.state {
                StreamState::Idle(_) => {
                    let StreamState::Idle(driver) =
                        std::mem::replace(&mut self.state, StreamState::Moving)
                    else {
                        continue;
                    };
                    self.state = match Handle::try_current() {
                        Ok(runtime) => StreamState::Running {
                            results: driver.start(&runtime),
                            call_results: Vec::new().into_iter(),
                        },
                        Err(_) => StreamState::Refused(driver.refuse()),
                    };
                }
                StreamState::Running {
                    results,
                    call_results,
                } => {
                    if let Some(result) = call_results.next() {
                        return Poll::Ready(Some(result));
                    }
                    match results.poll_recv(cx) {
                        Poll::Ready(Some(next)) => *call_results = next.into_iter(),
                        Poll::Ready(None) => return Poll::Ready(None),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                StreamState::Refused(results) => return results.as_mut().poll_next(cx),
                StreamState::Moving => return Poll::Ready(None),
            }
        }
    }
}

/// A cheap, cloneable handle on a bulk send ([`BulkStream::handle`]): its counts, readable
/// after the stream is dropped, and a way to wait until the calls it started have ended.
///
/// ```no_run
/// use futures_util::StreamExt as _;
/// use webex_connect_whatsapp::client::Client;
/// use webex_connect_whatsapp::SessionMessage;
///
/// # async fn run(client: Client) -> Result<(), Box<dyn std::error::Error>> {
/// let mut results = client.bulk(SessionMessage::text("Hi")?).send(["+447400123456"]);
/// let handle = results.handle();
/// let first = results.next().await;
/// drop(results); // stop early: no further call starts
/// handle.settled().await; // the calls already sent have their answers
/// println!("{:?}", handle.progress());
/// # let _ = first;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BulkHandle {
    counters: Arc<Counters>,
    /// Closed once every call the send started has ended.
    settled: watch::Receiver<()>,
}

impl BulkHandle {
    /// The counts so far.
    pub fn progress(&self) -> BulkProgress {
        self.counters.snapshot()
    }

    /// Whether the send is over: no call is in flight and none will start (the input ended
    /// or the stream was dropped, and every call started has its outcome counted and
    /// journaled). A stream never polled and still alive is not settled.
    pub fn is_settled(&self) -> bool {
        self.settled.has_changed().is_err()
    }

    /// Waits until [`BulkHandle::is_settled`]: after the input ends or the stream is dropped,
    /// until every call already sent has its answer, counted and journaled.
    pub async fn settled(&self) {
        let mut settled = self.settled.clone();
        while settled.changed().await.is_ok() {}
    }
}

impl fmt::Debug for BulkHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkHandle")
            .field("progress", &self.progress())
            .field("settled", &self.is_settled())
            .finish()
    }
}
