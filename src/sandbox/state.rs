//! What the sandbox remembers: configuration, conversation windows, templates, faults and the
//! logs a test reads back.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinSet;
use url::Url;

use super::clock::SandboxClock;
use super::faults::{Fault, RandomFaultState};
use super::payload::DestinationType;
use crate::ids::{AppId, TransactionId};
use crate::send::SendResponse;

/// One request the sandbox received, with secrets removed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The path, e.g. `/resources/v1/messaging`.
    pub path: String,
    /// The headers in the order received; `key` and `authorization` values read `***`.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8); empty when the connection was dropped before it was read.
    pub body: String,
    /// The faults injected into this request.
    pub faults: Vec<Fault>,
    /// What the sandbox did with it.
    pub fate: RequestFate,
    /// Sandbox time of arrival.
    pub received_at: OffsetDateTime,
}

impl RecordedRequest {
    /// The value of the first header with this name (case-insensitive).
    ///
    /// ```
    /// # use webex_connect_whatsapp::sandbox::RecordedRequest;
    /// fn content_type(r: &RecordedRequest) -> Option<&str> {
    ///     r.header("content-type")
    /// }
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What happened to a received request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RequestFate {
    /// The sandbox answered.
    Answered {
        /// The HTTP status.
        status: u16,
        /// The Webex Connect body, or `None` for a plain-text answer (an injected HTTP error).
        response: Option<SendResponse>,
        /// The transid queued by this request (empty when rejected). One transid covers
        /// every destination; [`Sandbox::messages`](super::Sandbox::messages) has one entry
        /// per destination.
        queued: Vec<TransactionId>,
    },
    /// The connection was closed without an answer.
    Dropped {
        /// The transid queued before the drop (empty when dropped before reading the body).
        queued: Vec<TransactionId>,
    },
}

impl RequestFate {
    /// The transids this request queued, whether or not the client got the answer.
    ///
    /// ```
    /// # use webex_connect_whatsapp::sandbox::RequestFate;
    /// fn queued(o: &RequestFate) -> usize {
    ///     o.queued().len()
    /// }
    /// ```
    pub fn queued(&self) -> &[TransactionId] {
        match self {
            Self::Answered { queued, .. } | Self::Dropped { queued } => queued,
        }
    }
}

/// Which kind of webhook the sandbox posted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookKind {
    /// A delivery receipt (`deliveryInfoNotification`).
    Receipt {
        /// The message's transid.
        transaction_id: TransactionId,
        /// The destination the receipt names (`deliveryInfo.destination`).
        destination: String,
        /// The receipt code, e.g. `7500`.
        code: String,
    },
    /// An inbound (MO) message from a customer.
    Inbound {
        /// Its `tid`.
        tid: String,
    },
    /// Any other event injected with [`Sandbox::inject_event`](super::Sandbox::inject_event).
    Event {
        /// Its `event` member, when it has a string one.
        event: Option<String>,
    },
}

/// One webhook the sandbox posted, after its last attempt.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SentWebhook {
    /// Where it was posted.
    pub url: Url,
    /// What it carried.
    pub kind: WebhookKind,
    /// The exact body posted (the signed bytes).
    pub body: String,
    /// The `x-hub-signature` value, when a webhook secret is set.
    pub signature: Option<String>,
    /// How many times it was posted (1 plus the retries).
    pub attempts: u32,
    /// The HTTP status of the last attempt; `None` when it did not get an answer.
    pub status: Option<u16>,
    /// Whether the receiver accepted it: HTTP 200, or another 2xx that Webex Connect does not
    /// retry (202 to 208, 226).
    pub delivered: bool,
    /// Why the last attempt failed, when it did not get an answer.
    pub error: Option<String>,
}

/// How a queued message ends in the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageFate {
    /// Submitted, Delivered, then Read.
    Read,
    /// One Failed receipt with this code (`7710`, `7714`, `7804`).
    Failed {
        /// The failure code.
        code: String,
    },
}

/// One message the sandbox queued: one per destination id of a request. Every message of one
/// request shares its transid; the destination tells them apart.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct QueuedMessage {
    /// The transid answered to the client, shared by every destination of the request.
    pub transaction_id: TransactionId,
    /// The recipient, as its receipts name it: the waid digits, or the BSUID as sent.
    pub destination: String,
    /// Whether [`QueuedMessage::destination`] is a waid or a BSUID.
    pub destination_type: DestinationType,
    /// The correlation id echoed in its receipts (the destination's, else the request's).
    pub correlation_id: Option<String>,
    /// The callback data echoed in its receipts.
    pub callback_data: Option<String>,
    /// The message type: `template`, or the session type (`text`, `image`, ...).
    pub kind: String,
    /// A digest of the content (`channels` or `message`): equal for equal contents, so two
    /// queued messages with the same destination, correlation id and digest are one message
    /// sent twice.
    pub content_digest: String,
    /// The template id, for a template message.
    pub template_id: Option<String>,
    /// Where its receipts go, if anywhere.
    pub notify_url: Option<Url>,
    /// How it ends.
    pub fate: MessageFate,
    /// The receipt codes produced so far, in order (duplicates included).
    pub receipts: Vec<String>,
    /// Sandbox time it was queued.
    pub queued_at: OffsetDateTime,
}

impl QueuedMessage {
    /// What identifies the message a client meant to send: destination, correlation id and
    /// content. [`Sandbox::queue_counts`](super::Sandbox::queue_counts) counts by it.
    ///
    /// ```
    /// # use webex_connect_whatsapp::sandbox::QueuedMessage;
    /// fn to(m: &QueuedMessage) -> String {
    ///     m.key().destination
    /// }
    /// ```
    pub fn key(&self) -> QueueKey {
        QueueKey {
            destination: self.destination.clone(),
            correlation_id: self.correlation_id.clone(),
            content_digest: self.content_digest.clone(),
        }
    }
}

/// What makes two queued messages the same message: the same destination, correlation id
/// and content. A key queued more than once is a message a client sent twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct QueueKey {
    /// The recipient, as in [`QueuedMessage::destination`].
    pub destination: String,
    /// The correlation id echoed in the receipts, if any.
    pub correlation_id: Option<String>,
    /// [`QueuedMessage::content_digest`].
    pub content_digest: String,
}

/// Delays between a message being queued and each of its receipts, in sandbox time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReceiptDelays {
    pub(crate) submitted: Duration,
    pub(crate) delivered: Duration,
    pub(crate) read: Duration,
}

/// Settings fixed at start.
pub(crate) struct Config {
    pub(crate) app_id: AppId,
    pub(crate) service_key: String,
    pub(crate) service_id: String,
    pub(crate) service_secret: Vec<u8>,
    pub(crate) webhook_secret: Option<crate::webhook::signature::WebhookSecret>,
    pub(crate) clock: SandboxClock,
    pub(crate) delays: ReceiptDelays,
    pub(crate) webhook_retries: u32,
    pub(crate) webhook_retry_delay: Duration,
    pub(crate) window: Duration,
    pub(crate) response_shape: ResponseShape,
}

/// How an accepted request's `response` array is laid out.
///
/// UNVERIFIED: the docs show one entry (`{"response":[{"code":"1001","transid":..}]}`) and do
/// not say whether a request with several destinations gets one entry or one per
/// destination. Either way the sandbox gives every destination the same transid, and each
/// receipt names its destination.
///
/// ```
/// use webex_connect_whatsapp::sandbox::{ResponseShape, Sandbox};
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let sandbox = Sandbox::builder().response_shape(ResponseShape::PerDestination).start().await?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ResponseShape {
    /// One entry for the whole request: the documented sample's shape (the default).
    #[default]
    PerRequest,
    /// One entry per destination object, in request order, all with the same transid.
    PerDestination,
}

/// Everything that changes while the sandbox runs.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) webhooks: Vec<SentWebhook>,
    pub(crate) messages: Vec<QueuedMessage>,
    /// Where each transid's messages are in `messages`: one per destination.
    pub(crate) message_index: HashMap<TransactionId, Vec<usize>>,
    pub(crate) last_inbound: HashMap<String, OffsetDateTime>,
    pub(crate) templates: HashMap<String, BTreeSet<String>>,
    pub(crate) fault_queue: VecDeque<Fault>,
    pub(crate) random_faults: Option<RandomFaultState>,
    pub(crate) tps_limit: Option<u32>,
    pub(crate) recent: VecDeque<OffsetDateTime>,
    pub(crate) delivery_url: Option<Url>,
    pub(crate) inbound_url: Option<Url>,
    /// The `Location` of [`Fault::Redirect`], known once the listener is bound.
    pub(crate) redirect_url: Option<Url>,
    pub(crate) rng: fastrand::Rng,
}

/// Shared by the server, the background tasks and the [`Sandbox`](super::Sandbox) handle.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) state: Mutex<State>,
    pub(crate) http: reqwest::Client,
    pub(crate) tasks: Mutex<JoinSet<()>>,
    /// How many background deliveries are still running.
    pub(crate) pending: watch::Sender<usize>,
}

impl Shared {
    /// The state; a panic elsewhere must not take every later test assertion down with it.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `work` in the background, counted by [`Shared::pending`] until it ends.
    pub(crate) fn spawn<F>(self: &Arc<Self>, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let guard = PendingGuard::new(Arc::clone(self));
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        // Reap finished tasks so a long soak run does not keep every handle.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            let _guard = guard;
            work.await;
        });
    }

    pub(crate) fn next_uuid(&self) -> String {
        super::payload::uuid(&mut self.state().rng)
    }
}

/// Counts one background task; decrements on drop, so aborted tasks are counted out too.
pub(crate) struct PendingGuard {
    shared: Arc<Shared>,
}

impl PendingGuard {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        shared.pending.send_modify(|n| *n += 1);
        Self { shared }
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.shared
            .pending
            .send_modify(|n| *n = n.saturating_sub(1));
    }
}
