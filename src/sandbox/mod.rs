//! An in-process imitation of Webex Connect, for offline examples and tests.
//!
//! [`Sandbox::start`] binds `127.0.0.1` on a free port and serves
//! `POST /resources/v1/messaging` the way Webex Connect does:
//!
//! - **Auth**: the `key` header, or `Authorization: Bearer <JWT>` (HS256, `iss` = the service
//!   id, signed with the base64-decoded service secret, `iat` at most 60 minutes old; the JWT
//!   wins when both are sent). A missing key answers `7002`, a wrong key or token `7001`. The
//!   bare key in `Authorization` (the channel APIs' form) is accepted too.
//! - **Validation** with the crate's own [`SendRequest::from_slice`](crate::send::SendRequest::from_slice):
//!   `7000` bad JSON, `7003` missing field, `7004` invalid value, `7009` over 1000 destinations,
//!   `7104` another app id, `7108` a template id not registered with
//!   [`Sandbox::register_template`]. Rejections are answered with `response` as an object.
//! - **Destinations** are phone users (`{"waid":["919900012345"]}`) or username users known
//!   only by their business-scoped user id (`{"bsuid":["US.13491208655302741918"]}`).
//! - **Accepted** requests get `{"response":[{"code":"1001","transid":..,"description":"Queued"}]}`:
//!   one transid for the whole request, shared by all its destinations, and by default one
//!   entry ([`ResponseShape`]; UNVERIFIED whether the platform writes one entry per
//!   destination). Each destination is its own [`QueuedMessage`] with its own receipts.
//!
//! HTTP statuses: the docs disagree on what real rejections carry (200 or 400), so the sandbox
//! picks the most telling: 200 accepted, 401 for `7001`/`7002`, 429 for `7020`, 500 for
//! `7006` (200 with [`Fault::InternalErrorOk`]), 400 for every other rejection. Clients
//! should decide from the body's `code`.
//!
//! [`Fault`] also imitates what lies between a client and the platform: gateway errors
//! (500, 502, 504), a gateway error or a lost reply *after* the message was queued, and a
//! redirect. [`Sandbox::queue_counts`] tells a test whether any message was queued twice.
//!
//! Then it plays the conversation. Every queued message gets delivery receipts in the FAQ's
//! exact JSON, posted to the request's `notifyurl` (or the [`SandboxBuilder::delivery_url`]):
//! `7501` Submitted, `7500` Delivered and `7502` Read, after [`SandboxBuilder::receipt_delays`],
//! naming the destination in `deliveryInfo.destination` with `destinationType` `waid` or
//! `bsuid` (UNVERIFIED for `bsuid`), echoing `correlationid` (the destination's, else the
//! request's, else `""`) and `callbackData`. Or one Failed receipt:
//! - `7710` for a session message when the customer's last message (injected with
//!   [`Sandbox::inbound_text`] or [`Sandbox::inbound_text_from`]) is 24 hours old or more, or
//!   never came. The window is kept per user id: a username user's message opens it for
//!   their BSUID, a message that carries both ids opens it for both;
//! - `7714` for a text over 4096 characters;
//! - `7804` when a template's parameter names differ from its registered variables.
//!
//! Any other event (a reaction, `user_id_update`, a kind added later) can be posted with
//! [`Sandbox::inject_event`] or [`Sandbox::send_event`].
//!
//! Webhooks carry `x-hub-signature` (lowercase hex HMAC-SHA256 of the raw body) when a
//! [`SandboxBuilder::webhook_secret`] is set. Like Webex Connect, the sandbox expects 200 and
//! posts anything else again, 3 times after [`SandboxBuilder::webhook_retry_delay`]
//! (connection errors, timeouts, 5xx, 429, ...), except after the statuses the platform does
//! not retry: 3xx, 400, 402, 404 to 411, 414 to 416, 418, 505 (given up) and 202 to 208, 226
//! (taken as accepted).
//!
//! Time comes from a [`SandboxClock`] the test can move; faults come from [`Fault`]; every
//! request, webhook and queued message can be read back ([`Sandbox::requests`],
//! [`Sandbox::webhooks`], [`Sandbox::messages`]).
//!
//! # Example: in your own test
//!
//! ```
//! use std::time::Duration;
//! use webex_connect_whatsapp::sandbox::{Sandbox, SandboxClock, MessageFate};
//! use webex_connect_whatsapp::{PhoneNumber, SendRequest, SessionMessage};
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let clock = SandboxClock::manual();
//! let sandbox = Sandbox::builder().clock(clock.clone()).start().await?;
//!
//! // The customer writes first, which opens the 24-hour window.
//! sandbox.inbound_text("919900012345", "hi").await?;
//!
//! // Your code sends a reply (here with plain reqwest; normally through the crate's client).
//! let body = SendRequest::builder(sandbox.app_id(), SessionMessage::text("Hello!")?)
//!     .to(&PhoneNumber::parse("+91 99000 12345")?)
//!     .build()?;
//! let answer: serde_json::Value = reqwest::Client::new()
//!     .post(sandbox.messaging_url())
//!     .header("key", sandbox.service_key())
//!     .json(&body)
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! assert_eq!(answer["response"][0]["code"], "1001");
//! assert_eq!(sandbox.messages()[0].fate, MessageFate::Read);
//!
//! // A day later the window is closed: the same message ends with a 7710 Failed receipt.
//! clock.advance(Duration::from_secs(24 * 60 * 60));
//! reqwest::Client::new()
//!     .post(sandbox.messaging_url())
//!     .header("key", sandbox.service_key())
//!     .json(&body)
//!     .send()
//!     .await?;
//! assert_eq!(sandbox.messages()[1].fate, MessageFate::Failed { code: "7710".into() });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod clock;
mod delivery;
mod error;
mod faults;
mod payload;
mod server;
mod state;
mod user;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};
use tokio::task::{JoinHandle, JoinSet};
use url::Url;

pub use clock::{ClockRateError, SandboxClock};
pub use error::SandboxError;
pub use faults::{
    FAULT_CORRELATION_PREFIX, FAULT_HEADER, Fault, FaultParseError, RandomFaults, RandomFaultsError,
};
pub use payload::DestinationType;
pub use state::{
    MessageFate, QueueKey, QueuedMessage, RecordedRequest, RequestFate, ResponseShape, SentWebhook,
    WebhookKind,
};
pub use user::SandboxUser;

use crate::ids::{AppId, TransactionId};
use payload::Inbound;
use state::{Config, ReceiptDelays, Shared, State};

/// The header that carries a webhook's signature.
pub const SIGNATURE_HEADER: &str = crate::webhook::signature::HEADER;

/// How long [`Sandbox::shutdown`] waits for requests in progress.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The path of the send API, relative to [`Sandbox::base_url`].
pub const MESSAGING_PATH: &str = server::MESSAGING_PATH;

/// A running sandbox. It stops when dropped (or with [`Sandbox::shutdown`]).
///
/// Share it between tasks with `Arc<Sandbox>`: every method takes `&self`.
///
/// ```
/// use webex_connect_whatsapp::sandbox::Sandbox;
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let sandbox = Sandbox::start().await?;
/// assert_eq!(sandbox.base_url().host_str(), Some("127.0.0.1"));
/// assert_eq!(sandbox.messaging_url().path(), "/resources/v1/messaging");
/// sandbox.shutdown().await;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Sandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    base_url: Url,
    messaging_url: Url,
    server: JoinHandle<()>,
    stop: Arc<Notify>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .field("app_id", &self.shared.config.app_id)
            .field("service_id", &self.shared.config.service_id)
            .field("service_key", &"***")
            .finish_non_exhaustive()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.server.abort();
        self.shared
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .abort_all();
    }
}

impl Sandbox {
    /// Starts a sandbox with the defaults (see [`SandboxBuilder`]).
    ///
    /// # Errors
    ///
    /// [`SandboxError::Bind`] when no local port can be bound.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::Sandbox;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let sandbox = Sandbox::start().await?;
    /// assert!(sandbox.app_id().as_str().starts_with("a_"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn start() -> Result<Self, SandboxError> {
        Self::builder().start().await
    }

    /// Starts configuring a sandbox.
    ///
    /// ```
    /// use std::time::Duration;
    /// use webex_connect_whatsapp::sandbox::Sandbox;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let sandbox = Sandbox::builder()
    ///     .webhook_secret("hub-secret")
    ///     .receipt_delays(Duration::ZERO, Duration::from_millis(5), Duration::from_millis(5))
    ///     .template("5139722425", ["name", "order"])
    ///     .start()
    ///     .await?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The base URL, `http://127.0.0.1:<port>/`: give it to the client as its API host.
    pub fn base_url(&self) -> Url {
        self.base_url.clone()
    }

    /// The full send URL, `http://127.0.0.1:<port>/resources/v1/messaging`.
    pub fn messaging_url(&self) -> Url {
        self.messaging_url.clone()
    }

    /// The socket address the sandbox listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The service key to send in the `key` header.
    pub fn service_key(&self) -> &str {
        &self.shared.config.service_key
    }

    /// The service id: the `iss` of a valid JWT.
    pub fn service_id(&self) -> &str {
        &self.shared.config.service_id
    }

    /// The service secret, base64-encoded as Webex Connect shows it; JWTs are signed with its
    /// decoded bytes.
    pub fn service_secret(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.shared.config.service_secret)
    }

    /// The WhatsApp app id requests must carry (others get `7104`).
    pub fn app_id(&self) -> AppId {
        self.shared.config.app_id.clone()
    }

    /// A client builder pointed at this sandbox with its service key and app id: the three
    /// settings every test client needs. Add more (a rate limit, a retry policy) and build.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::Sandbox;
    /// use webex_connect_whatsapp::{PhoneNumber, SessionMessage};
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let sandbox = Sandbox::start().await?;
    /// let client = sandbox.client_builder().rate_limit(20).build()?;
    /// let to = PhoneNumber::parse("+44 7400 123456")?;
    /// sandbox.inbound_text(to.waid(), "hi").await?;
    /// client.send(&to, SessionMessage::text("hello")?).await?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn client_builder(&self) -> crate::client::ClientBuilder {
        crate::client::Client::builder()
            .service_key(self.service_key())
            .app_id(self.app_id())
            .base_url(self.base_url())
    }

    /// The sandbox clock.
    pub fn clock(&self) -> &SandboxClock {
        &self.shared.config.clock
    }

    /// A JWT the sandbox accepts, issued now (wall-clock time), for `Authorization: Bearer`.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::Sandbox;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let sandbox = Sandbox::start().await?;
    /// assert_eq!(sandbox.jwt().split('.').count(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn jwt(&self) -> String {
        self.jwt_issued_at(OffsetDateTime::now_utc())
    }

    /// A JWT signed with the sandbox's secret and issued at `iat`; older than 60 minutes, it
    /// is refused with `7001`.
    pub fn jwt_issued_at(&self, iat: OffsetDateTime) -> String {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let head = engine.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = serde_json::json!({
            "iss": self.shared.config.service_id,
            "iat": iat.unix_timestamp(),
        });
        let claims = engine.encode(claims.to_string());
        let signing_input = format!("{head}.{claims}");
        let signature = hs256(&self.shared.config.service_secret, signing_input.as_bytes());
        format!("{signing_input}.{}", engine.encode(signature))
    }

    /// Registers a template id with its variable names: sends with another id get `7108`, and
    /// sends whose `parameters` keys differ from `variables` end with a `7804` receipt.
    ///
    /// Registering an id again replaces its variables.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::Sandbox;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let sandbox = Sandbox::start().await?;
    /// sandbox.register_template("5139722425", ["movie", "time"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn register_template<I, S>(&self, id: impl Into<String>, variables: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let variables = variables.into_iter().map(Into::into).collect();
        self.shared.state().templates.insert(id.into(), variables);
    }

    /// Sets (or clears) the service-level URL for receipts of requests without `notifyurl`.
    pub fn set_delivery_url(&self, url: Option<Url>) {
        self.shared.state().delivery_url = url;
    }

    /// Sets (or clears) the URL that receives inbound (MO) messages.
    pub fn set_inbound_url(&self, url: Option<Url>) {
        self.shared.state().inbound_url = url;
    }

    /// A customer sends a text: opens the 24-hour window for `waid` and posts the MO webhook
    /// (FAQ format) to the inbound URL, if one is set. Returns the message's `tid`.
    ///
    /// It returns once the webhook was accepted or its retries ran out.
    ///
    /// # Errors
    ///
    /// [`SandboxError::InvalidWaid`] for a `waid` that is not digits (a leading `+` is fine);
    /// [`SandboxError::InboundNotDelivered`] when the receiver never accepted the webhook.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::Sandbox;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let sandbox = Sandbox::start().await?;
    /// let tid = sandbox.inbound_text("919900012345", "hi").await?;
    /// assert!(tid.ends_with("_0"));
    /// assert!(sandbox.inbound_text("not a number", "hi").await.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn inbound_text(
        &self,
        waid: &str,
        text: impl Into<String>,
    ) -> Result<String, SandboxError> {
        self.inbound_text_from(&SandboxUser::phone(waid)?, text)
            .await
    }

    /// A customer sends an image (`attachments` holds its URL and MIME type); see
    /// [`Sandbox::inbound_text`].
    ///
    /// # Errors
    ///
    /// As [`Sandbox::inbound_text`], and [`SandboxError::InvalidInbound`] for a MIME type
    /// that does not parse.
    pub async fn inbound_image(
        &self,
        waid: &str,
        url: &Url,
        mime_type: impl AsRef<str>,
    ) -> Result<String, SandboxError> {
        let text = mime_type.as_ref();
        let mime_type = text.parse().map_err(|_| SandboxError::InvalidInbound {
            reason: format!("{text:?} is not a MIME type, like image/jpeg"),
        })?;
        let content = Inbound::Image(crate::webhook::Attachment::new(mime_type, url.clone()));
        self.inbound(waid, content).await
    }

    /// A customer shares a location (`location` holds it, JSON in a string); see
    /// [`Sandbox::inbound_text`].
    ///
    /// # Errors
    ///
    /// As [`Sandbox::inbound_text`], and [`SandboxError::InvalidInbound`] for a latitude
    /// outside -90..=90 or a longitude outside -180..=180.
    pub async fn inbound_location(
        &self,
        waid: &str,
        latitude: f64,
        longitude: f64,
        name: &str,
        address: &str,
    ) -> Result<String, SandboxError> {
        let location = crate::webhook::SharedLocation::new(latitude, longitude)
            .map_err(|e| SandboxError::InvalidInbound {
                reason: e.to_string(),
            })?
            .with_name(name)
            .with_address(address);
        self.inbound(waid, Inbound::Location(location)).await
    }

    /// A user sends a text: a phone user ([`SandboxUser::phone`]), or a username user with
    /// no phone number ([`SandboxUser::by_username`]), whose MO webhook carries `userId`
    /// (the BSUID) and `username` and no `waid`. Opens the 24-hour window under every id
    /// of the user. Returns the message's `tid`.
    ///
    /// # Errors
    ///
    /// [`SandboxError::InboundNotDelivered`] when the receiver never accepted the webhook.
    ///
    /// ```
    /// use webex_connect_whatsapp::Bsuid;
    /// use webex_connect_whatsapp::sandbox::{Sandbox, SandboxUser};
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let sandbox = Sandbox::start().await?;
    /// let asha = SandboxUser::by_username(Bsuid::new("US.13491208655302741918")?, "asha");
    /// sandbox.inbound_text_from(&asha, "hi").await?;
    /// // A reply to {"bsuid":["US.13491208655302741918"]} is now inside the window.
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn inbound_text_from(
        &self,
        user: &SandboxUser,
        text: impl Into<String>,
    ) -> Result<String, SandboxError> {
        self.inbound_from(user, Inbound::Text(text.into())).await
    }

    async fn inbound(&self, waid: &str, content: Inbound) -> Result<String, SandboxError> {
        self.inbound_from(&SandboxUser::phone(waid)?, content).await
    }

    async fn inbound_from(
        &self,
        user: &SandboxUser,
        content: Inbound,
    ) -> Result<String, SandboxError> {
        let now = self.shared.config.clock.now();
        let tid = format!("{}_0", self.shared.next_uuid());
        let url = {
            let mut state = self.shared.state();
            for id in user.ids() {
                state.last_inbound.insert(id.to_owned(), now);
            }
            state.inbound_url.clone()
        };
        tracing::debug!(user = ?user, tid = %tid, "inbound message");
        let Some(url) = url else {
            return Ok(tid);
        };
        let message = payload::inbound_from(
            self.shared.config.app_id.as_str(),
            user,
            &tid,
            now,
            &content,
        )
        .map_err(|e| SandboxError::InvalidInbound {
            reason: e.to_string(),
        })?;
        let kind = WebhookKind::Inbound { tid: tid.clone() };
        self.post_inbound(&url, message.raw().as_bytes().to_vec(), kind)
            .await
            .map(|_| tid)
    }

    /// Posts any JSON object to the inbound URL as Webex Connect posts app events: signed,
    /// and retried like every webhook until answered 200. For event kinds the crate does
    /// not model (reactions, `user_id_update`, kinds added later), or malformed ones.
    ///
    /// It returns once the webhook was accepted or its retries ran out.
    ///
    /// # Errors
    ///
    /// [`SandboxError::InvalidEvent`] for anything but an object,
    /// [`SandboxError::NoInboundUrl`] when no inbound URL is set,
    /// [`SandboxError::InboundNotDelivered`] when the receiver never accepted it.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::Sandbox;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let sandbox = Sandbox::start().await?;
    /// let event = serde_json::json!({"event": "typing", "waid": "919900012345"});
    /// // No inbound URL is set here, so there is nowhere to post it.
    /// assert!(sandbox.inject_event(event).await.is_err());
    /// assert!(sandbox.inject_event(serde_json::json!([1])).await.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn inject_event(
        &self,
        event: serde_json::Value,
    ) -> Result<SentWebhook, SandboxError> {
        let found = match &event {
            serde_json::Value::Object(_) => None,
            serde_json::Value::Array(_) => Some("an array"),
            serde_json::Value::String(_) => Some("a string"),
            serde_json::Value::Number(_) => Some("a number"),
            serde_json::Value::Bool(_) => Some("a boolean"),
            serde_json::Value::Null => Some("null"),
        };
        if let Some(found) = found {
            return Err(SandboxError::InvalidEvent { found });
        }
        let kind = WebhookKind::Event {
            event: event
                .get("event")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
        };
        self.post_event(event.to_string().into_bytes(), kind).await
    }

    /// Posts an event of kind `kind` from `user` (see [`Sandbox::inject_event`]), in the
    /// envelope app webhooks share: `userId`, `username` (username users), `channel`,
    /// `appId`, `event`, `waid` (phone users), `ts`, `tid`, then the members of `extra`,
    /// which replace the envelope's of the same name. Events do not open the 24-hour window.
    ///
    /// # Errors
    ///
    /// As [`Sandbox::inject_event`]; [`SandboxError::InvalidEvent`] when `extra` is neither
    /// an object nor `null`.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::{Sandbox, SandboxUser};
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let sandbox = Sandbox::start().await?;
    /// let user = SandboxUser::phone("919900012345")?;
    /// let extra = serde_json::json!({"reaction": {"emoji": "👍", "message_id": "m1"}});
    /// assert!(sandbox.send_event("reaction", &user, extra).await.is_err()); // no inbound URL
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn send_event(
        &self,
        kind: &str,
        user: &SandboxUser,
        extra: serde_json::Value,
    ) -> Result<SentWebhook, SandboxError> {
        let extra = match extra {
            serde_json::Value::Object(map) => map,
            serde_json::Value::Null => serde_json::Map::new(),
            serde_json::Value::Array(_) => {
                return Err(SandboxError::InvalidEvent { found: "an array" });
            }
            _ => return Err(SandboxError::InvalidEvent { found: "a scalar" }),
        };
        let tid = format!("{}_0", self.shared.next_uuid());
        let body = payload::event(
            self.shared.config.app_id.as_str(),
            kind,
            user,
            &tid,
            self.shared.config.clock.now(),
            &extra,
        );
        let kind = WebhookKind::Event {
            event: Some(kind.to_owned()),
        };
        self.post_event(body.into_bytes(), kind).await
    }

    async fn post_event(
        &self,
        body: Vec<u8>,
        kind: WebhookKind,
    ) -> Result<SentWebhook, SandboxError> {
        let url = self.shared.state().inbound_url.clone();
        let url = url.ok_or(SandboxError::NoInboundUrl)?;
        self.post_inbound(&url, body, kind).await
    }

    async fn post_inbound(
        &self,
        url: &Url,
        body: Vec<u8>,
        kind: WebhookKind,
    ) -> Result<SentWebhook, SandboxError> {
        let _pending = state::PendingGuard::new(Arc::clone(&self.shared));
        let sent = delivery::deliver(&self.shared, url, body, kind).await;
        if sent.delivered {
            Ok(sent)
        } else {
            Err(SandboxError::InboundNotDelivered {
                attempts: sent.attempts,
                status: sent.status,
            })
        }
    }

    /// Injects `fault` into the next request that names none itself; queued faults are used
    /// in order.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::{Fault, Sandbox};
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let sandbox = Sandbox::start().await?;
    /// sandbox.push_fault(Fault::DropAfterQueue);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push_fault(&self, fault: Fault) {
        self.shared.state().fault_queue.push_back(fault);
    }

    /// Sets (or clears) random faults.
    pub fn set_random_faults(&self, faults: Option<RandomFaults>) {
        self.shared.state().random_faults = faults.map(faults::RandomFaultState::new);
    }

    /// Clears queued and random faults.
    pub fn clear_faults(&self) {
        let mut state = self.shared.state();
        state.fault_queue.clear();
        state.random_faults = None;
    }

    /// Sets (or clears) the transactions-per-second limit; requests above it get `7020`.
    /// Seconds are sandbox seconds, so a manual clock keeps the count until advanced.
    pub fn set_tps_limit(&self, limit: Option<u32>) {
        let mut state = self.shared.state();
        state.tps_limit = limit;
        state.recent.clear();
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.clone()
    }

    /// Every webhook posted so far, in order of completion (after its last attempt).
    pub fn webhooks(&self) -> Vec<SentWebhook> {
        self.shared.state().webhooks.clone()
    }

    /// Every message queued so far, in order.
    pub fn messages(&self) -> Vec<QueuedMessage> {
        self.shared.state().messages.clone()
    }

    /// The first queued message with this transid. A request with several destinations
    /// queues one message per destination under one transid: see [`Sandbox::messages_for`].
    pub fn message(&self, transaction_id: &TransactionId) -> Option<QueuedMessage> {
        self.messages_for(transaction_id).into_iter().next()
    }

    /// Every queued message with this transid, one per destination, in request order.
    pub fn messages_for(&self, transaction_id: &TransactionId) -> Vec<QueuedMessage> {
        let state = self.shared.state();
        state
            .message_index
            .get(transaction_id)
            .into_iter()
            .flatten()
            .filter_map(|i| state.messages.get(*i))
            .cloned()
            .collect()
    }

    /// The message with this transid queued for `destination` (waid digits or BSUID).
    pub fn message_to(
        &self,
        transaction_id: &TransactionId,
        destination: &str,
    ) -> Option<QueuedMessage> {
        self.messages_for(transaction_id)
            .into_iter()
            .find(|m| m.destination == destination)
    }

    /// How many times each message was queued, by [`QueueKey`] (destination, correlation id,
    /// content). A count above 1 is a message a client sent twice; give distinct messages
    /// distinct correlation ids or contents so they are not counted together.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::Sandbox;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let sandbox = Sandbox::start().await?;
    /// assert!(sandbox.queue_counts().values().all(|n| *n == 1));
    /// assert!(sandbox.queued_twice().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn queue_counts(&self) -> BTreeMap<QueueKey, usize> {
        let mut counts = BTreeMap::new();
        for m in &self.shared.state().messages {
            *counts.entry(m.key()).or_default() += 1;
        }
        counts
    }

    /// The messages queued more than once, with their counts; empty when none was.
    pub fn queued_twice(&self) -> Vec<(QueueKey, usize)> {
        self.queue_counts()
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .collect()
    }

    /// Correlation ids under which more than one message was queued for the same
    /// destination: each one is a message a client sent twice. Empty when nothing was
    /// duplicated.
    ///
    /// ```
    /// use webex_connect_whatsapp::sandbox::Sandbox;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let sandbox = Sandbox::start().await?;
    /// assert!(sandbox.duplicate_correlation_ids().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn duplicate_correlation_ids(&self) -> Vec<String> {
        let state = self.shared.state();
        let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
        for m in &state.messages {
            if let Some(id) = &m.correlation_id {
                *seen
                    .entry((id.as_str(), m.destination.as_str()))
                    .or_default() += 1;
            }
        }
        let mut dups: Vec<String> = seen
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|((id, _), _)| id.to_owned())
            .collect();
        dups.sort();
        dups.dedup();
        dups
    }

    /// Where [`Fault::Redirect`] points (`Location`): a path of this sandbox that answers
    /// 404 and records each request in [`Sandbox::requests`], so a test sees whether a
    /// client followed the redirect and whether it sent its key there.
    pub fn redirect_url(&self) -> Url {
        let set = self.shared.state().redirect_url.clone();
        set.unwrap_or_else(|| self.base_url.clone())
    }

    /// Waits until no receipt or webhook is still on its way (including retries).
    ///
    /// With a manual clock, receipts waiting on a delay only move when the clock is advanced.
    pub async fn settled(&self) {
        let mut pending = self.shared.pending.subscribe();
        // The sender lives as long as `self`, so this cannot fail while we wait.
        let _ = pending.wait_for(|n| *n == 0).await;
    }

    /// Stops accepting connections, lets requests in progress finish (for up to 5 seconds),
    /// and stops every background delivery.
    pub async fn shutdown(self) {
        self.stop.notify_one();
        let finished = async {
            while !self.server.is_finished() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        if tokio::time::timeout(SHUTDOWN_GRACE, finished)
            .await
            .is_err()
        {
            tracing::debug!("requests still running at shutdown; aborting them");
        }
        // Dropping `self` aborts the server task and the background deliveries.
    }
}

/// Serves the sandbox on `listener` until the returned switch is notified.
fn serve(
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    shared: Arc<Shared>,
) -> (JoinHandle<()>, Arc<Notify>) {
    let app = server::router(shared).into_make_service_with_connect_info::<server::Conn>();
    let stop = Arc::new(Notify::new());
    let signal = Arc::clone(&stop);
    let span = tracing::info_span!("sandbox", %addr);
    let server = tokio::spawn(tracing::Instrument::instrument(
        async move {
            let serve = axum::serve(server::CuttableListener::new(listener), app)
                .with_graceful_shutdown(async move { signal.notified().await });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "sandbox server stopped");
            }
        },
        span,
    ));
    (server, stop)
}

fn webhook_secret(
    secret: Option<Vec<u8>>,
) -> Result<Option<crate::webhook::signature::WebhookSecret>, SandboxError> {
    secret
        .map(crate::webhook::signature::WebhookSecret::from_bytes)
        .transpose()
        .map_err(|_| SandboxError::EmptyWebhookSecret)
}

/// The HS256 signature of a JWT. Not [`crate::webhook::signature::sign`]: a service secret
/// may be any bytes, even none, and the JWT wants the raw MAC rather than hex.
fn hs256(secret: &[u8], input: &[u8]) -> Vec<u8> {
    use hmac::Mac as _;
    // HMAC takes keys of any length, so this never fails; an empty signature would be
    // refused by any verifier, so a failure could not go unnoticed.
    hmac::Hmac::<sha2::Sha256>::new_from_slice(secret)
        .map(|mut mac| {
            mac.update(input);
            mac.finalize().into_bytes().to_vec()
        })
        .unwrap_or_default()
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sandbox>();
    assert_send_sync::<SandboxClock>();
};

/// Configures a [`Sandbox`]; every setting has a default. It has no `build()`:
/// [`SandboxBuilder::start`] starts the server, and fails only with a [`SandboxError`].
///
/// | setting | default |
/// |---|---|
/// | app id | random `a_…` |
/// | service key, id, secret | random |
/// | clock | [`SandboxClock::real`] |
/// | receipt delays | 0 ms to Submitted, 10 ms more to Delivered, 10 ms more to Read |
/// | webhook retries | 3, 100 ms apart (sandbox time; the platform waits 60 s) |
/// | session window | 24 hours |
/// | response shape | [`ResponseShape::PerRequest`] |
/// | TPS limit, faults, webhook secret, URLs | none |
#[derive(Debug, Default)]
#[must_use]
pub struct SandboxBuilder {
    app_id: Option<AppId>,
    service_key: Option<String>,
    service_id: Option<String>,
    service_secret: Option<String>,
    webhook_secret: Option<Vec<u8>>,
    clock: Option<SandboxClock>,
    delivery_url: Option<Url>,
    inbound_url: Option<Url>,
    delays: Option<ReceiptDelays>,
    webhook_retries: Option<u32>,
    webhook_retry_delay: Option<Duration>,
    window: Option<Duration>,
    response_shape: ResponseShape,
    tps_limit: Option<u32>,
    random_faults: Option<RandomFaults>,
    templates: HashMap<String, BTreeSet<String>>,
    seed: Option<u64>,
}

impl SandboxBuilder {
    crate::setters::setters! {
        /// The app id requests must carry.
        fn app_id(self, app_id: AppId) => self.app_id = Some(app_id);

        /// The clock; keep a clone to move it.
        fn clock(self, clock: SandboxClock) => self.clock = Some(clock);

        /// The service-level receipt URL, for requests without `notifyurl`.
        fn delivery_url(self, url: Url) => self.delivery_url = Some(url);

        /// The URL that receives inbound (MO) messages.
        fn inbound_url(self, url: Url) => self.inbound_url = Some(url);

        /// The service key accepted in the `key` header.
        fn service_key(self, service_key: impl Into<String>) =>
            self.service_key = Some(service_key.into());

        /// The service id a JWT's `iss` must name.
        fn service_id(self, service_id: impl Into<String>) =>
            self.service_id = Some(service_id.into());

        /// The service secret, base64-encoded (checked by [`SandboxBuilder::start`]).
        fn service_secret(self, service_secret: impl Into<String>) =>
            self.service_secret = Some(service_secret.into());

        /// Signs every webhook with `x-hub-signature` using this secret.
        fn webhook_secret(self, secret: impl AsRef<[u8]>) =>
            self.webhook_secret = Some(secret.as_ref().to_vec());

        /// Sandbox-time delays: from queueing to Submitted (or to the Failed receipt), then to
        /// Delivered, then to Read.
        fn receipt_delays(self, submitted: Duration, delivered: Duration, read: Duration) =>
            self.delays = Some(ReceiptDelays { submitted, delivered, read });

        /// How many times a failed webhook is posted again (Webex Connect: 3).
        fn webhook_retries(self, retries: u32) => self.webhook_retries = Some(retries);

        /// The sandbox-time wait before each webhook retry (Webex Connect: 60 s). With a manual
        /// clock a retry waits until the clock is advanced past it.
        fn webhook_retry_delay(self, delay: Duration) => self.webhook_retry_delay = Some(delay);

        /// How long after a customer's message session messages are allowed (24 h).
        fn session_window(self, window: Duration) => self.window = Some(window);

        /// How an accepted request's `response` array is laid out (see [`ResponseShape`]).
        fn response_shape(self, shape: ResponseShape) => self.response_shape = shape;

        /// The tenant's TPS, counted in destinations: a call with more destinations than this is
        /// refused with `7009`, and destinations above this many per (sandbox) second with `7020`.
        fn tps_limit(self, limit: u32) => self.tps_limit = Some(limit);

        /// Injects random faults (see [`Fault`]).
        fn random_faults(self, faults: RandomFaults) => self.random_faults = Some(faults);

        /// Seeds the generator of transids, keys and tids, for repeatable runs.
        fn seed(self, seed: u64) => self.seed = Some(seed);

        /// Registers a template (see [`Sandbox::register_template`]).
        fn template(
            self,
            id: impl Into<String>,
            variables: impl IntoIterator<Item = impl Into<String>>,
        ) => self.templates.insert(id.into(), variables.into_iter().map(Into::into).collect());
    }

    /// Binds 127.0.0.1 on a free port and starts serving on the current tokio runtime.
    ///
    /// # Errors
    ///
    /// [`SandboxError::Bind`] when no port can be bound, [`SandboxError::InvalidServiceSecret`]
    /// for a secret that is not base64, [`SandboxError::EmptyWebhookSecret`] for an empty
    /// webhook secret, [`SandboxError::HttpClient`] when the webhook client
    /// cannot be built.
    pub async fn start(self) -> Result<Sandbox, SandboxError> {
        let mut rng = match self.seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        };
        let service_secret = match self.service_secret {
            Some(secret) => base64::engine::general_purpose::STANDARD
                .decode(secret.trim())
                .map_err(|_| SandboxError::InvalidServiceSecret)?,
            None => (0..32).map(|_| rng.u8(..)).collect(),
        };
        let app_id = match self.app_id {
            Some(app_id) => app_id,
            None => AppId::new(format!("a_{}", rng.u64(10_u64.pow(17)..10_u64.pow(18))))
                .map_err(|_| SandboxError::InvalidServiceSecret)?,
        };
        let service_key = self
            .service_key
            .unwrap_or_else(|| hex::encode((0..16).map(|_| rng.u8(..)).collect::<Vec<_>>()));
        let service_id = self
            .service_id
            .unwrap_or_else(|| format!("s_{}", rng.u64(10_u64.pow(11)..10_u64.pow(12))));
        let config = Config {
            app_id,
            service_key,
            service_id,
            service_secret,
            webhook_secret: webhook_secret(self.webhook_secret)?,
            clock: self.clock.unwrap_or_default(),
            delays: self.delays.unwrap_or(ReceiptDelays {
                submitted: Duration::ZERO,
                delivered: Duration::from_millis(10),
                read: Duration::from_millis(10),
            }),
            webhook_retries: self.webhook_retries.unwrap_or(3),
            webhook_retry_delay: self
                .webhook_retry_delay
                .unwrap_or(Duration::from_millis(100)),
            window: self.window.unwrap_or(Duration::from_hours(24)),
            response_shape: self.response_shape,
        };
        let state = State {
            requests: Vec::new(),
            webhooks: Vec::new(),
            messages: Vec::new(),
            message_index: HashMap::new(),
            last_inbound: HashMap::new(),
            templates: self.templates,
            fault_queue: VecDeque::new(),
            random_faults: self.random_faults.map(faults::RandomFaultState::new),
            tps_limit: self.tps_limit,
            recent: VecDeque::new(),
            delivery_url: self.delivery_url,
            inbound_url: self.inbound_url,
            redirect_url: None,
            rng,
        };
        let http = delivery::http_client().map_err(SandboxError::HttpClient)?;
        let (pending, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(state),
            http,
            tasks: Mutex::new(JoinSet::new()),
            pending,
        });

        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(SandboxError::Bind)?;
        let addr = listener.local_addr().map_err(SandboxError::Bind)?;
        let url = |path: &str| {
            Url::parse(&format!("http://{addr}{path}"))
                .map_err(|e| SandboxError::Bind(std::io::Error::other(e)))
        };
        let (base_url, messaging_url) = (url("/")?, url(MESSAGING_PATH)?);
        shared.state().redirect_url = url(server::REDIRECT_PATH).ok();
        let (server, stop) = serve(listener, addr, Arc::clone(&shared));
        tracing::info!(%addr, "sandbox listening");
        Ok(Sandbox {
            shared,
            addr,
            base_url,
            messaging_url,
            server,
            stop,
        })
    }
}
