//! The HTTP side: `POST /resources/v1/messaging` on a listener whose connections a handler can
//! cut, to imitate an answer lost on the way back.

use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;

use crate::phone::mask;
use axum::body::Body;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::serve::{IncomingStream, Listener};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::delivery::{ReceiptPlan, spawn_receipts};
use super::faults::{self, FAULT_HEADER, Fault};
use super::payload::DestinationType;
use super::state::{
    MessageFate, QueuedMessage, RecordedRequest, RequestFate, ResponseShape, Shared,
};
use super::user::normalize_waid;
use crate::ids::TransactionId;
use crate::recipient::Bsuid;
use crate::send::{ResponseCode, ResponseEntry, SendRequest, SendRequestError, SendResponse};

/// The send path Webex Connect serves.
pub(crate) const MESSAGING_PATH: &str = "/resources/v1/messaging";

/// Where [`Fault::Redirect`] points: a path that records what follows it and queues nothing.
pub(crate) const REDIRECT_PATH: &str = "/redirected/resources/v1/messaging";

/// The longest body read; far above 1000 destinations of real JSON.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The longest session text, in characters (code 7714 above it).
const MAX_TEXT_CHARS: usize = 4096;

/// How old a JWT's `iat` may be.
const JWT_MAX_AGE_SECS: i64 = 60 * 60;

/// Clock skew allowed for a JWT issued "in the future".
const JWT_SKEW_SECS: i64 = 60;

/// Accepts TCP connections and hands each one a switch that cuts it.
#[derive(Debug)]
pub(crate) struct CuttableListener {
    inner: TcpListener,
}

impl CuttableListener {
    pub(crate) fn new(inner: TcpListener) -> Self {
        Self { inner }
    }
}

/// The connect info of one connection: its peer and its cut switch.
#[derive(Debug, Clone)]
pub(crate) struct Conn {
    peer: SocketAddr,
    cut: Arc<AtomicBool>,
}

impl Conn {
    fn cut(&self) {
        tracing::debug!(peer = %self.peer, "cutting the connection");
        self.cut.store(true, Ordering::SeqCst);
    }
}

impl Listener for CuttableListener {
    type Io = CuttableIo;
    type Addr = Conn;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, peer)) => {
                    let cut = Arc::new(AtomicBool::new(false));
                    let io = CuttableIo {
                        inner: stream,
                        cut: Arc::clone(&cut),
                    };
                    return (io, Conn { peer, cut });
                }
                Err(e) => {
                    // Out of file descriptors and similar: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(Conn {
            peer: self.inner.local_addr()?,
            cut: Arc::new(AtomicBool::new(false)),
        })
    }
}

impl Connected<IncomingStream<'_, CuttableListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, CuttableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A TCP stream that fails every read and write once cut, so hyper closes it without
/// writing the answer.
#[derive(Debug)]
pub(crate) struct CuttableIo {
    inner: TcpStream,
    cut: Arc<AtomicBool>,
}

fn cut_error() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "cut by the sandbox")
}

impl AsyncRead for CuttableIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.cut.load(Ordering::SeqCst) {
            return Poll::Ready(Err(cut_error()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CuttableIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.cut.load(Ordering::SeqCst) {
            return Poll::Ready(Err(cut_error()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.cut.load(Ordering::SeqCst) {
            return Poll::Ready(Err(cut_error()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(MESSAGING_PATH, post(messaging))
        .route(REDIRECT_PATH, any(redirected))
        .with_state(shared)
}

/// A client followed a redirect: record it (the `key` header shows as `***` if it leaked) and
/// answer 404, as a host that is not Webex Connect would.
async fn redirected(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(Body::new(body), MAX_BODY_BYTES)
        .await
        .unwrap_or_default();
    tracing::warn!(
        key_sent = parts.headers.contains_key("key"),
        "a client followed the sandbox's redirect"
    );
    let record = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: redacted(&parts.headers),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        faults: Vec::new(),
        fate: RequestFate::Answered {
            status: StatusCode::NOT_FOUND.as_u16(),
            response: None,
            queued: Vec::new(),
        },
        received_at: shared.config.clock.now(),
    };
    shared.state().requests.push(record);
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}

/// Where the faults of a request came from; a queued fault not used goes back to the queue.
enum Drawn {
    None,
    Queue(Fault),
    Random(Fault),
}

impl Drawn {
    fn fault(&self) -> Option<Fault> {
        match self {
            Self::None => None,
            Self::Queue(f) | Self::Random(f) => Some(*f),
        }
    }
}

/// An answer in the making, recorded before it is sent.
struct Answer {
    status: StatusCode,
    response: Option<SendResponse>,
    plain: Option<&'static str>,
    location: Option<String>,
    queued: Vec<TransactionId>,
}

impl Answer {
    fn plain(status: StatusCode) -> Self {
        Self {
            status,
            response: None,
            plain: Some(status.canonical_reason().unwrap_or("error")),
            location: None,
            queued: Vec::new(),
        }
    }

    fn reject(shared: &Shared, code: ResponseCode, detail: Option<String>) -> Self {
        let status = match code {
            ResponseCode::AuthenticationFailed | ResponseCode::ServiceKeyMissing => {
                StatusCode::UNAUTHORIZED
            }
            ResponseCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ResponseCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let description = match (description(&code), detail) {
            (base, Some(detail)) => format!("{base} {detail}"),
            (base, None) => base.to_owned(),
        };
        let entry = ResponseEntry::new(code)
            .with_transaction_id(shared.next_uuid())
            .with_description(description);
        Self {
            status,
            response: Some(SendResponse::Object(entry)),
            plain: None,
            location: None,
            queued: Vec::new(),
        }
    }

    fn into_response(self) -> Response {
        let mut response = match (self.response, self.plain) {
            (Some(body), _) => (self.status, axum::Json(body)).into_response(),
            (None, text) => (self.status, text.unwrap_or_default()).into_response(),
        };
        if let Some(location) = self
            .location
            .and_then(|l| header::HeaderValue::from_str(&l).ok())
        {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    }
}

/// The descriptions Webex Connect writes, from the docs' samples where there is one.
fn description(code: &ResponseCode) -> &'static str {
    match code {
        ResponseCode::InvalidJson => "Invalid JSON.",
        ResponseCode::AuthenticationFailed => "Authentication failed.",
        ResponseCode::ServiceKeyMissing => "Service Key Missing.",
        ResponseCode::MandatoryParametersMissing => "Mandatory parameters missing.",
        ResponseCode::InvalidParameters => "Invalid parameters/values.",
        ResponseCode::InternalError => "Internal error occurred.",
        ResponseCode::TooManyDestinations => "Max number of destination addresses limited to 1000.",
        ResponseCode::RateLimited => "You have reached the maximum transaction limit.",
        ResponseCode::InvalidAppId => "Invalid app id.",
        ResponseCode::InvalidTemplateId => "Invalid template ID.",
        _ => "Error.",
    }
}

async fn messaging(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let received_at = shared.config.clock.now();
    let headers = redacted(&parts.headers);
    let mut record = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers,
        body: String::new(),
        faults: Vec::new(),
        fate: RequestFate::Dropped { queued: Vec::new() },
        received_at,
    };

    // Faults named in the header win; otherwise one is drawn now, so that drop-before-body
    // can act before the body is read.
    let header_faults = match parts.headers.get(FAULT_HEADER).map(|v| {
        v.to_str()
            .map_err(|_| "the x-sandbox-fault header is not text".to_owned())
            .and_then(|s| faults::parse_list(s).map_err(|e| e.to_string()))
    }) {
        None => Vec::new(),
        Some(Ok(list)) => list,
        Some(Err(reason)) => {
            let answer = Answer::reject(&shared, ResponseCode::InvalidParameters, Some(reason));
            return finish(&shared, record, answer, None).into_response();
        }
    };
    let drawn = if header_faults.is_empty() {
        draw_fault(&shared)
    } else {
        Drawn::None
    };
    let early = if header_faults.is_empty() {
        drawn.fault().into_iter().collect()
    } else {
        header_faults.clone()
    };
    if early.contains(&Fault::DropBeforeBody) {
        record.faults = early;
        shared.state().requests.push(record);
        conn.cut();
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }

    let bytes = match axum::body::to_bytes(Body::new(body), MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::debug!(error = %e, "could not read the request body");
            record.faults = early;
            let answer = Answer::reject(
                &shared,
                ResponseCode::InvalidParameters,
                Some(format!("the body could not be read: {e}")),
            );
            return finish(&shared, record, answer, None).into_response();
        }
    };
    record.body = String::from_utf8_lossy(&bytes).into_owned();
    let raw: Option<Value> = serde_json::from_slice(&bytes).ok();

    let faults = if header_faults.is_empty() {
        match raw.as_ref().and_then(correlation_fault) {
            Some(fault) => {
                if let Drawn::Queue(unused) = drawn {
                    shared.state().fault_queue.push_front(unused);
                }
                vec![fault]
            }
            None => early,
        }
    } else {
        header_faults
    };
    record.faults.clone_from(&faults);
    let latency = faults.iter().find_map(|f| match f {
        Fault::Latency(d) => Some(*d),
        _ => None,
    });

    let mut answer = handle(&shared, &parts.headers, &bytes, raw.as_ref(), &faults);
    let after_queue = faults.iter().find_map(|f| match f {
        Fault::StatusAfterQueue(s) => StatusCode::from_u16(*s).ok(),
        _ => None,
    });
    if let Some(status) = after_queue.filter(|_| !answer.queued.is_empty()) {
        // A gateway between the client and the platform failed after the platform queued.
        answer = Answer {
            queued: answer.queued,
            ..Answer::plain(status)
        };
    }
    if faults.contains(&Fault::DropAfterQueue) && !answer.queued.is_empty() {
        record.fate = RequestFate::Dropped {
            queued: answer.queued,
        };
        shared.state().requests.push(record);
        conn.cut();
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    finish(&shared, record, answer, latency)
        .await_latency()
        .await
}

/// Records the request, then answers (after the injected latency, if any).
fn finish(
    shared: &Shared,
    mut record: RecordedRequest,
    answer: Answer,
    latency: Option<Duration>,
) -> Delayed {
    record.fate = RequestFate::Answered {
        status: answer.status.as_u16(),
        response: answer.response.clone(),
        queued: answer.queued.clone(),
    };
    shared.state().requests.push(record);
    Delayed {
        response: answer.into_response(),
        latency,
    }
}

/// A response held back by a latency fault.
struct Delayed {
    response: Response,
    latency: Option<Duration>,
}

impl Delayed {
    async fn await_latency(self) -> Response {
        if let Some(latency) = self.latency {
            // Wall-clock time: the point is to make a real client wait or time out.
            tokio::time::sleep(latency).await;
        }
        self.response
    }
}

impl IntoResponse for Delayed {
    fn into_response(self) -> Response {
        self.response
    }
}

fn draw_fault(shared: &Shared) -> Drawn {
    let mut state = shared.state();
    if let Some(fault) = state.fault_queue.pop_front() {
        return Drawn::Queue(fault);
    }
    match state
        .random_faults
        .as_mut()
        .and_then(super::faults::RandomFaultState::draw)
    {
        Some(fault) => Drawn::Random(fault),
        None => Drawn::None,
    }
}

/// The fault named by the request's correlation id, else by its first destination's.
fn correlation_fault(raw: &Value) -> Option<Fault> {
    let top = raw.get("correlationid").and_then(Value::as_str);
    let first = raw
        .get("destination")
        .and_then(|d| d.get(0))
        .and_then(|d| d.get("correlationid"))
        .and_then(Value::as_str);
    top.and_then(faults::from_correlation_id)
        .or_else(|| first.and_then(faults::from_correlation_id))
}

fn redacted(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = if name == header::AUTHORIZATION || name.as_str() == "key" {
                "***".to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_owned(), value)
        })
        .collect()
}

/// Everything after the body is read: status faults, auth, limits, validation, queueing.
fn handle(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    bytes: &[u8],
    raw: Option<&Value>,
    faults: &[Fault],
) -> Answer {
    if let Some(status) = faults.iter().find_map(|f| match f {
        Fault::HttpStatus(s) => StatusCode::from_u16(*s).ok(),
        _ => None,
    }) {
        return Answer::plain(status);
    }
    if faults.contains(&Fault::Redirect) {
        return Answer {
            location: shared
                .state()
                .redirect_url
                .as_ref()
                .map(ToString::to_string),
            ..Answer::plain(StatusCode::TEMPORARY_REDIRECT)
        };
    }
    if let Err(code) = authenticate(shared, headers) {
        return Answer::reject(shared, code, None);
    }
    if let Some(Value::Array(elements)) = raw {
        return handle_batch(shared, elements, faults);
    }
    let destinations = raw
        .and_then(|r| r.get("destination"))
        .and_then(Value::as_array)
        .map_or(1, Vec::len);
    if let Some(answer) = over_limits(shared, destinations, faults) {
        return answer;
    }
    let Some(raw) = raw else {
        let detail = SendRequest::from_slice(bytes).err().map(|e| e.to_string());
        return Answer::reject(shared, ResponseCode::InvalidJson, detail);
    };
    match take(shared, raw, faults, || {
        TransactionId::from(shared.next_uuid())
    }) {
        Ok((transaction_id, destinations)) => {
            let entry = queued_entry(&transaction_id);
            let entries = match shared.config.response_shape {
                ResponseShape::PerDestination => vec![entry; destinations],
                // Also the fallback for shapes added later: the documented sample's.
                _ => vec![entry],
            };
            Answer {
                status: StatusCode::OK,
                response: Some(SendResponse::Array(entries)),
                plain: None,
                location: None,
                queued: vec![transaction_id],
            }
        }
        Err((code, detail)) => Answer::reject(shared, code, Some(detail)),
    }
}

/// The code Webex Connect answers a request it cannot read with.
fn code_of(e: &SendRequestError) -> ResponseCode {
    match e {
        SendRequestError::NotJson(_) => ResponseCode::InvalidJson,
        SendRequestError::Missing { .. } => ResponseCode::MandatoryParametersMissing,
        SendRequestError::TooManyDestinations { .. } => ResponseCode::TooManyDestinations,
        _ => ResponseCode::InvalidParameters,
    }
}

/// The call-wide limits: 1000 destinations, the TPS per call and per second, and the faults
/// that refuse a call before it is read.
fn over_limits(shared: &Arc<Shared>, destinations: usize, faults: &[Fault]) -> Option<Answer> {
    if destinations > crate::limits::MAX_DESTINATIONS {
        return Some(Answer::reject(
            shared,
            ResponseCode::TooManyDestinations,
            Some(format!("this call has {destinations}")),
        ));
    }
    let tps = shared.state().tps_limit;
    if let Some(tps) = tps
        && destinations > usize::try_from(tps).unwrap_or(usize::MAX)
    {
        // The docs cap one call at the tenant's TPS ("a tenant at 10 TPS sends at most 10
        // destinations at once"). UNVERIFIED: the code; 7009 is the platform's code for too
        // many destinations, and it is not a rate limit, so a client does not resend it as is.
        return Some(Answer::reject(
            shared,
            ResponseCode::TooManyDestinations,
            Some(format!(
                "this call has {destinations} destinations, above the tenant's TPS of {tps}"
            )),
        ));
    }
    if faults.contains(&Fault::RateLimited) || over_tps(shared, destinations) {
        return Some(Answer::reject(shared, ResponseCode::RateLimited, None));
    }
    if faults.contains(&Fault::InternalError) {
        return Some(Answer::reject(shared, ResponseCode::InternalError, None));
    }
    if faults.contains(&Fault::InternalErrorOk) {
        return Some(Answer {
            status: StatusCode::OK,
            ..Answer::reject(shared, ResponseCode::InternalError, None)
        });
    }
    None
}

/// The accepted entry for one queued element.
fn queued_entry(transaction_id: &TransactionId) -> ResponseEntry {
    ResponseEntry::new(ResponseCode::Queued)
        .with_transaction_id(transaction_id.clone())
        .with_description("Queued")
}

/// A personalised batch: a top-level array of complete requests, answered with one entry per
/// element, in order, transids `<base>`, `<base>_1`, `<base>_2`, ... (section 12.2), each
/// element queued or refused on its own.
fn handle_batch(shared: &Arc<Shared>, elements: &[Value], faults: &[Fault]) -> Answer {
    let destinations = elements
        .iter()
        .map(|e| {
            e.get("destination")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        })
        .sum();
    if elements.is_empty() {
        return Answer::reject(
            shared,
            ResponseCode::MandatoryParametersMissing,
            Some("the batch is an empty array".to_owned()),
        );
    }
    if let Some(answer) = over_limits(shared, destinations, faults) {
        return answer;
    }
    let base = shared.next_uuid();
    let mut entries = Vec::with_capacity(elements.len());
    let mut queued = Vec::new();
    for (i, element) in elements.iter().enumerate() {
        let transaction_id = TransactionId::from(if i == 0 {
            base.clone()
        } else {
            format!("{base}_{i}")
        });
        match take(shared, element, faults, || transaction_id.clone()) {
            Ok((transaction_id, _)) => {
                entries.push(queued_entry(&transaction_id));
                queued.push(transaction_id);
            }
            Err((code, detail)) => entries.push(
                ResponseEntry::new(code.clone())
                    .with_transaction_id(transaction_id)
                    .with_description(format!("{} {detail}", description(&code))),
            ),
        }
    }
    Answer {
        status: StatusCode::OK,
        response: Some(SendResponse::Array(entries)),
        plain: None,
        location: None,
        queued,
    }
}

/// A request the sandbox takes: what it holds, and the variables of its template if any.
type Admitted = (Inspected, Option<BTreeSet<String>>);

/// Why a request (or a batch element) is refused: the code and a detail.
type Refused = (ResponseCode, String);

/// Takes one request (or one element of a batch): reads it, draws its transid, checks what
/// the platform checks when it takes a request (the app, the BSUIDs, the template), and
/// queues a message per destination. Answers the transid and the number of destinations.
///
/// The transid is drawn after a successful read and before the checks, as the platform's
/// answer to a refused request carries a transid of its own.
fn take(
    shared: &Arc<Shared>,
    raw: &Value,
    faults: &[Fault],
    transaction_id: impl FnOnce() -> TransactionId,
) -> Result<(TransactionId, usize), Refused> {
    let request = read_request(raw).map_err(|e| (code_of(&e), e.to_string()))?;
    let transaction_id = transaction_id();
    let (content, registered) = admit(shared, &request, raw)?;
    queue(
        shared,
        &request,
        &content,
        registered.as_ref(),
        faults,
        &transaction_id,
    );
    Ok((transaction_id, request.destinations().len()))
}

/// Checks what is checked when a request is taken: the app, the BSUIDs, the template.
fn admit(shared: &Arc<Shared>, request: &SendRequest, raw: &Value) -> Result<Admitted, Refused> {
    if request.app_id() != &shared.config.app_id {
        return Err((
            ResponseCode::InvalidAppId,
            format!("{} is not this sandbox's app", request.app_id()),
        ));
    }
    let content = Inspected::from_raw(raw);
    if let Some(bad) = request
        .destinations()
        .iter()
        .flat_map(crate::send::Destination::bsuids)
        .find_map(|b| Bsuid::new(b.as_str()).err())
    {
        // UNVERIFIED: how the platform answers a malformed `bsuid`; 7004 is its code for an
        // invalid value.
        return Err((
            ResponseCode::InvalidParameters,
            format!("a bsuid is invalid: {bad}"),
        ));
    }
    let registered = match &content.template_id {
        Some(id) => {
            // Bound first: the state lock must be released before anything takes it again.
            let found = shared.state().templates.get(id).cloned();
            match found {
                Some(vars) => Some(vars),
                None => {
                    return Err((
                        ResponseCode::InvalidTemplateId,
                        format!("template {id:?} is not registered in the sandbox"),
                    ));
                }
            }
        }
        None => None,
    };
    Ok((content, registered))
}

/// Reads the envelope as Webex Connect does: structure is checked now, but an over-long text
/// is accepted and fails later with a 7714 receipt, so the length check is left to `fate`.
fn read_request(raw: &Value) -> Result<SendRequest, SendRequestError> {
    let long_text = raw
        .pointer("/channels/OTT-Messaging/wa/text/body")
        .and_then(Value::as_str)
        .is_some_and(|body| body.chars().count() > MAX_TEXT_CHARS);
    if !long_text {
        return SendRequest::from_value(raw.clone());
    }
    let mut shortened = raw.clone();
    if let Some(body) = shortened.pointer_mut("/channels/OTT-Messaging/wa/text/body") {
        *body = Value::String("(longer than the limit; checked at delivery)".to_owned());
    }
    SendRequest::from_value(shortened)
}

/// The parts of the content the sandbox acts on, read from the raw JSON.
struct Inspected {
    kind: String,
    digest: String,
    text_chars: Option<usize>,
    template_id: Option<String>,
    parameters: BTreeSet<String>,
}

impl Inspected {
    fn from_raw(raw: &Value) -> Self {
        let digest = super::payload::content_digest(raw);
        let message = raw.get("message").filter(|m| !m.is_null());
        if let Some(message) = message {
            return Self {
                kind: "template".to_owned(),
                digest,
                text_chars: None,
                template_id: message
                    .get("template")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                parameters: message
                    .get("parameters")
                    .and_then(Value::as_object)
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default(),
            };
        }
        let wa = raw.pointer("/channels/OTT-Messaging/wa");
        Self {
            digest,
            kind: wa
                .and_then(|wa| wa.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_owned(),
            text_chars: wa
                .and_then(|wa| wa.pointer("/text/body"))
                .and_then(Value::as_str)
                .map(|body| body.chars().count()),
            template_id: None,
            parameters: BTreeSet::new(),
        }
    }
}

/// One recipient of a request: an id of one destination object.
struct Target {
    /// Which destination object it came from.
    destination: usize,
    id: String,
    kind: DestinationType,
    /// Other ids of the same user given in the same destination object (a `waid` and a
    /// `bsuid` side by side), whose window counts too.
    aliases: Vec<String>,
}

/// The recipients of a request: each `waid` of each destination, or, in a destination with
/// no `waid`, each `bsuid`. A destination that holds both is sent once, to the `waid`: the
/// platform gives the `waid` priority (reference §13). The `bsuid`'s window counts too
/// (UNVERIFIED: the docs say only which id addresses the message).
fn targets(request: &SendRequest) -> Vec<Target> {
    let mut targets = Vec::new();
    for (index, destination) in request.destinations().iter().enumerate() {
        let bsuids = destination.bsuids();
        if destination.waids().is_empty() {
            targets.extend(bsuids.iter().map(|id| Target {
                destination: index,
                id: id.clone(),
                kind: DestinationType::Bsuid,
                aliases: Vec::new(),
            }));
            continue;
        }
        let aliases = if destination.waids().len() == 1 {
            bsuids.to_vec()
        } else {
            Vec::new()
        };
        targets.extend(destination.waids().iter().map(|waid| Target {
            destination: index,
            id: normalize_waid(waid),
            kind: DestinationType::Waid,
            aliases: aliases.clone(),
        }));
    }
    targets
}

/// Queues one message per recipient, all under one transid (reference §12.3: several
/// destinations of one request may share one transid, and each receipt names its
/// destination).
fn queue(
    shared: &Arc<Shared>,
    request: &SendRequest,
    content: &Inspected,
    registered: Option<&BTreeSet<String>>,
    faults: &[Fault],
    transaction_id: &TransactionId,
) {
    let now = shared.config.clock.now();
    let callback_data = request.callback_data().map(|c| c.as_str().to_owned());
    let mut plans = Vec::new();
    {
        let mut state = shared.state();
        let url = request
            .notify_url()
            .cloned()
            .or_else(|| state.delivery_url.clone());
        for target in targets(request) {
            let destination = request.destinations().get(target.destination);
            let correlation_id = destination
                .and_then(|d| d.correlation_id())
                .or(request.correlation_id())
                .map(|c| c.as_str().to_owned());
            let fate = fate(shared, &state, &target, content, registered, now);
            tracing::debug!(
                transid = %transaction_id,
                destination = %mask(&target.id),
                kind = %content.kind,
                "queued"
            );
            let message = QueuedMessage {
                transaction_id: transaction_id.clone(),
                destination: target.id,
                destination_type: target.kind,
                correlation_id,
                callback_data: callback_data.clone(),
                kind: content.kind.clone(),
                content_digest: content.digest.clone(),
                template_id: content.template_id.clone(),
                notify_url: url.clone(),
                fate,
                receipts: Vec::new(),
                queued_at: now,
            };
            let plan = ReceiptPlan {
                index: state.messages.len(),
                message: message.clone(),
                duplicate: faults.contains(&Fault::DuplicateReceipts),
                out_of_order: faults.contains(&Fault::ReceiptsOutOfOrder),
            };
            state.messages.push(message);
            state
                .message_index
                .entry(transaction_id.clone())
                .or_default()
                .push(plan.index);
            plans.push(plan);
        }
    }
    for plan in plans {
        spawn_receipts(shared, plan);
    }
}

/// How a message will end: the window, the text length and the template parameters decide.
fn fate(
    shared: &Shared,
    state: &super::state::State,
    target: &Target,
    content: &Inspected,
    registered: Option<&BTreeSet<String>>,
    now: time::OffsetDateTime,
) -> MessageFate {
    let failed = |code: &str| MessageFate::Failed {
        code: code.to_owned(),
    };
    if let Some(vars) = registered {
        if vars != &content.parameters {
            return failed("7804");
        }
        return MessageFate::Read;
    }
    // The window is per user: a message from either id of theirs opened it.
    let in_window = std::iter::once(&target.id)
        .chain(&target.aliases)
        .filter_map(|id| state.last_inbound.get(id))
        .any(|last| now - *last < shared.config.window);
    if !in_window {
        return failed("7710");
    }
    if content.text_chars.is_some_and(|n| n > MAX_TEXT_CHARS) {
        return failed("7714");
    }
    MessageFate::Read
}

fn over_tps(shared: &Shared, destinations: usize) -> bool {
    let now = shared.config.clock.now();
    let mut state = shared.state();
    let Some(limit) = state.tps_limit else {
        return false;
    };
    let second_ago = now - time::Duration::SECOND;
    while state.recent.front().is_some_and(|t| *t <= second_ago) {
        state.recent.pop_front();
    }
    // The TPS counts destinations: one per recipient, however they are grouped into calls.
    if state.recent.len() + destinations > usize::try_from(limit).unwrap_or(usize::MAX) {
        return true;
    }
    state.recent.extend(std::iter::repeat_n(now, destinations));
    false
}

/// Checks the JWT (which wins when both are sent) or the service key.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<(), ResponseCode> {
    let config = &shared.config;
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ResponseCode::AuthenticationFailed)?;
        return match value.strip_prefix("Bearer ") {
            Some(token) => verify_jwt(token.trim(), &config.service_id, &config.service_secret),
            // The channel APIs also take the bare key in `Authorization`.
            None if constant_time_eq(value.as_bytes(), config.service_key.as_bytes()) => Ok(()),
            None => Err(ResponseCode::AuthenticationFailed),
        };
    }
    match headers.get("key") {
        None => Err(ResponseCode::ServiceKeyMissing),
        Some(key) if constant_time_eq(key.as_bytes(), config.service_key.as_bytes()) => Ok(()),
        Some(_) => Err(ResponseCode::AuthenticationFailed),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// HS256, `iss` = the service id, signed with the decoded service secret, `iat` at most 60
/// minutes old (wall-clock time: the client stamps it with the real time), `exp` honoured.
fn verify_jwt(token: &str, service_id: &str, secret: &[u8]) -> Result<(), ResponseCode> {
    let fail = ResponseCode::AuthenticationFailed;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let (Some(head), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(fail);
    };
    let decode = |part: &str| engine.decode(part.trim_end_matches('='));
    let header: Value = decode(head)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| fail.clone())?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(fail);
    }
    let signature = decode(signature).map_err(|_| fail.clone())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| fail.clone())?;
    mac.update(head.as_bytes());
    mac.update(b".");
    mac.update(claims.as_bytes());
    mac.verify_slice(&signature).map_err(|_| fail.clone())?;
    let claims: Value = decode(claims)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| fail.clone())?;
    if claims.get("iss").and_then(Value::as_str) != Some(service_id) {
        return Err(fail);
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let iat = claims
        .get("iat")
        .and_then(number)
        .ok_or_else(|| fail.clone())?;
    if now - iat > JWT_MAX_AGE_SECS || iat - now > JWT_SKEW_SECS {
        return Err(fail);
    }
    if claims
        .get("exp")
        .and_then(number)
        .is_some_and(|exp| exp <= now)
    {
        return Err(fail);
    }
    Ok(())
}

/// A Unix time claim, as a number or a numeric string.
fn number(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}
