//! The async send client for the Messaging API v1 (`POST {base}/resources/v1/messaging`).
//!
//! It never sends a message twice by itself: the API has no idempotency key, so by default it
//! resends only with proof that the request was not processed (the connection failed before
//! the request was written, or a rate limit: 7020 or HTTP 429), and hands every ambiguous
//! outcome (HTTP 5xx, code 7006, a timeout, a connection lost after writing) back as
//! [`Error::OutcomeUnknown`] with the correlation id to look for in delivery receipts.
//! [`RetryPolicy::at_least_once`] opts in to resending those, at the risk of a duplicate.
//!
//! The service key stays with the configured host: redirects are never followed (a 3xx is
//! [`Error::Redirected`]), non-loopback hosts are reached over https only, a loopback sandbox
//! is reached without the system proxy, and a base URL with credentials in it is refused.
//!
//! ```no_run
//! use webex_connect_whatsapp::client::{Client, Region};
//! use webex_connect_whatsapp::{AppId, PhoneNumber, SessionMessage};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder()
//!     .service_key("my-service-key")
//!     .app_id(AppId::new("a_155054536910425280")?)
//!     .region(Region::Eu)
//!     .rate_limit(10)
//!     .build()?;
//! let text = SessionMessage::text("Hello")?;
//! let receipt = client.send(&PhoneNumber::parse("+44 7400 123456")?, text).await?;
//! println!("queued as {:?}", receipt.transid);
//! # Ok(()) }
//! ```

mod auth;
mod batch;
mod bulk;
mod env;
mod error;
pub mod guard;
mod retry;
mod throttle;

use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, RETRY_AFTER, USER_AGENT};
use time::OffsetDateTime;
use tracing::Instrument as _;
use url::Url;

pub use auth::Credentials;
pub use auth::{JWT_LIFETIME, JWT_REFRESH_MARGIN, JwtCredentials, ServiceKey};
pub use batch::{BatchRow, Personalised};
pub use bulk::{
    BulkBuilder, BulkProgress, BulkRecipient, BulkResult, BulkStream, DEFAULT_BULK_CONCURRENCY,
};
pub use env::{
    APP_ID_VAR, BASE_URL_VAR, REGION_VAR, SERVICE_ID_VAR, SERVICE_KEY_VAR, SERVICE_SECRET_VAR,
    TPS_VAR,
};
pub use error::{Error, MAX_RAW_BODY_CHARS, OutcomeUnknownReason};
pub use guard::{GuardError, GuardedClient};
pub use retry::{RetryEvent, RetryPolicy};
#[cfg(feature = "redis")]
pub use throttle::SharedRateLimit;

use crate::ids::{AppId, CallbackData, CorrelationId, TransactionId};
use crate::recipient::Recipient;
use crate::send::{
    Content, Destination, LinkOptions, SendRequest, SendRequestBuilder, SendResponse,
};
use throttle::Throttle;

/// The path of the send endpoint under the API host.
pub const MESSAGING_PATH: &str = "resources/v1/messaging";

/// The default timeout for establishing a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default timeout for a whole request, from sending to the end of the answer.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The most bytes of a response body read; a send response for 1000 destinations is far less.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// The default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = concat!("webex-connect-whatsapp/", env!("CARGO_PKG_VERSION"));

/// A Webex Connect data centre, mapped to its API host.
///
/// ```
/// use webex_connect_whatsapp::client::Region;
/// let eu: Region = "eu".parse()?;
/// assert_eq!(eu.base_url().as_str(), "https://api.eu.webexconnect.io/");
/// assert_eq!(Region::LegacyEmea.host(), "api.imiconnect.io");
/// # Ok::<(), webex_connect_whatsapp::client::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Region {
    /// AWS Oregon: `api.us.webexconnect.io`.
    Us,
    /// USA on Azure: `api.us1.webexconnect.io`.
    Us1,
    /// AWS Ireland: `api.eu.webexconnect.io`.
    Eu,
    /// AWS London: `api.uk.webexconnect.io`.
    Uk,
    /// AWS Canada: `api.ca.webexconnect.io`.
    Ca,
    /// AWS Sydney: `api.au.webexconnect.io`.
    Au,
    /// AWS Mumbai: `api.in.webexconnect.io`.
    In,
    /// Legacy Canada host: `api.imiconnect.ca`.
    LegacyCanada,
    /// Legacy EMEA host: `api.imiconnect.io`.
    LegacyEmea,
    /// Legacy UK host: `api.imiconnect.eu`.
    LegacyUk,
    /// Legacy USA (AWS) host: `api-us.imiconnect.io`.
    LegacyUsAws,
    /// Legacy USA (Azure) host: `api.imiconnect.us`.
    LegacyUsAzure,
    /// Legacy APAC host: `api.imiconnect.in`.
    LegacyApac,
    /// Legacy host for `*.imiconnect.com` tenants: `api.imiconnect.com`.
    LegacyCom,
}

impl Region {
    /// Every region, in the order of the reference table.
    pub const ALL: [Self; 14] = [
        Self::Us,
        Self::Us1,
        Self::Eu,
        Self::Uk,
        Self::Ca,
        Self::Au,
        Self::In,
        Self::LegacyCanada,
        Self::LegacyEmea,
        Self::LegacyUk,
        Self::LegacyUsAws,
        Self::LegacyUsAzure,
        Self::LegacyApac,
        Self::LegacyCom,
    ];

    /// The API host name.
    pub fn host(self) -> &'static str {
        match self {
            Self::Us => "api.us.webexconnect.io",
            Self::Us1 => "api.us1.webexconnect.io",
            Self::Eu => "api.eu.webexconnect.io",
            Self::Uk => "api.uk.webexconnect.io",
            Self::Ca => "api.ca.webexconnect.io",
            Self::Au => "api.au.webexconnect.io",
            Self::In => "api.in.webexconnect.io",
            Self::LegacyCanada => "api.imiconnect.ca",
            Self::LegacyEmea => "api.imiconnect.io",
            Self::LegacyUk => "api.imiconnect.eu",
            Self::LegacyUsAws => "api-us.imiconnect.io",
            Self::LegacyUsAzure => "api.imiconnect.us",
            Self::LegacyApac => "api.imiconnect.in",
            Self::LegacyCom => "api.imiconnect.com",
        }
    }

    /// The short name accepted by [`FromStr`] (`us`, `eu`, `legacy-emea`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Us => "us",
            Self::Us1 => "us1",
            Self::Eu => "eu",
            Self::Uk => "uk",
            Self::Ca => "ca",
            Self::Au => "au",
            Self::In => "in",
            Self::LegacyCanada => "legacy-ca",
            Self::LegacyEmea => "legacy-emea",
            Self::LegacyUk => "legacy-uk",
            Self::LegacyUsAws => "legacy-us",
            Self::LegacyUsAzure => "legacy-us-azure",
            Self::LegacyApac => "legacy-apac",
            Self::LegacyCom => "legacy-com",
        }
    }

    /// `https://{host}/`.
    pub fn base_url(self) -> Url {
        // Every host above is a valid DNS name, so parsing cannot fail; fall back to the US host.
        Url::parse(&format!("https://{}/", self.host()))
            .or_else(|_| Url::parse("https://api.us.webexconnect.io/"))
            .unwrap_or_else(|_| unreachable_url())
    }
}

#[allow(
    clippy::unwrap_used,
    reason = "a literal URL that always parses; only reachable if the url crate breaks"
)]
fn unreachable_url() -> Url {
    Url::parse("https://localhost/").unwrap()
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Region {
    type Err = Error;

    /// Reads a short name (`us`, `eu`, `legacy-emea`, ...) or an API host name, any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|r| r.name() == wanted || r.host() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|r| r.name()).collect();
                Error::config(format!(
                    "region {s:?} is unknown; expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

/// Sends WhatsApp messages through Webex Connect.
///
/// Cheap to clone (one `Arc`); clones share the connection pool and the rate limiter. `Debug`
/// never shows the service key or JWT secret.
///
/// ```
/// use webex_connect_whatsapp::client::Client;
/// use webex_connect_whatsapp::AppId;
///
/// let client = Client::builder()
///     .service_key("k-123")
///     .app_id(AppId::new("a_1")?)
///     .base_url("http://127.0.0.1:8080".parse()?)
///     .build()?;
/// assert!(!format!("{client:?}").contains("k-123"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: Url,
    credentials: Credentials,
    app_id: AppId,
    retry: RetryPolicy,
    throttle: Option<Throttle>,
    request_timeout: Duration,
    user_agent: HeaderValue,
}

const _: () = {
    const fn assert_auto_traits<T: Clone + Send + Sync + Unpin + 'static>() {}
    assert_auto_traits::<Client>();
};

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("endpoint", &inner.endpoint.as_str())
            .field("app_id", &inner.app_id)
            .field("credentials", &inner.credentials)
            .field("retry", &inner.retry)
            .field(
                "rate_limit",
                &inner.throttle.as_ref().map(Throttle::per_second),
            )
            .field("request_timeout", &inner.request_timeout)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`]; the first invalid setting is kept and returned by
/// [`ClientBuilder::build`].
#[must_use]
pub struct ClientBuilder {
    error: Option<Error>,
    credentials: Option<Credentials>,
    app_id: Option<AppId>,
    base_url: Option<Url>,
    connect_timeout: Duration,
    request_timeout: Duration,
    user_agent: String,
    http: Option<reqwest::Client>,
    retry: RetryPolicy,
    rate_limit: Option<NonZeroU32>,
    #[cfg(feature = "redis")]
    shared_rate_limit: Option<SharedRateLimit>,
    /// Whether [`ClientBuilder::from_env`] started it, so a missing setting names its variable.
    from_env: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("error", &self.error)
            .field("credentials", &self.credentials)
            .field("app_id", &self.app_id)
            .field("base_url", &self.base_url.as_ref().map(redacted))
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    fn fail(&mut self, error: Error) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }

    /// Authenticates with a service key (`key` header).
    pub fn service_key(mut self, key: impl AsRef<str>) -> Self {
        match ServiceKey::new(key.as_ref()) {
            Ok(key) => self.credentials = Some(Credentials::ServiceKey(key)),
            Err(e) => self.fail(e),
        }
        self
    }

    /// Authenticates with a JWT minted from the service id and the base64 service secret.
    pub fn jwt(mut self, service_id: impl Into<String>, service_secret: &str) -> Self {
        match JwtCredentials::new(service_id, service_secret) {
            Ok(jwt) => self.credentials = Some(Credentials::Jwt(jwt)),
            Err(e) => self.fail(e),
        }
        self
    }

    /// Sets already checked credentials.
    pub fn credentials(mut self, credentials: impl Into<Credentials>) -> Self {
        self.credentials = Some(credentials.into());
        self
    }

    /// The WhatsApp app id used by [`Client::send`], [`Client::message`] and [`Client::bulk`].
    pub fn app_id(mut self, app_id: AppId) -> Self {
        self.app_id = Some(app_id);
        self
    }

    /// Sends to a region's API host.
    pub fn region(mut self, region: Region) -> Self {
        self.base_url = Some(region.base_url());
        self
    }

    /// Sends to another base URL (a proxy, the sandbox); https, or http on a loopback address.
    ///
    /// A URL with a user name or password in it is refused (the error never repeats them): the
    /// client authenticates with the service key or JWT, and credentials in a URL end up in
    /// logs and `Debug` output.
    pub fn base_url(mut self, url: Url) -> Self {
        match refuse_credentials(&url) {
            Ok(()) => self.base_url = Some(url),
            Err(e) => self.fail(e),
        }
        self
    }

    /// The timeout for establishing a connection (default 10 s). Not applied to a client given
    /// with [`ClientBuilder::http_client`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The timeout for each request (default 30 s). A request that times out after being sent
    /// ends in [`Error::OutcomeUnknown`] and is not resent (the default [`RetryPolicy`]).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The `User-Agent` header (default `webex-connect-whatsapp/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Uses your `reqwest::Client` (proxies, TLS roots, pools). It keeps **its own settings**:
    /// its timeouts still apply, and the protections the built-in client has are yours to set.
    /// Build it with `.redirect(reqwest::redirect::Policy::none())` (else a redirect is
    /// followed with the `key` header to wherever it points; the client can only log it
    /// afterwards), `.https_only(true)` for a real host, and `.no_proxy()` for a loopback
    /// sandbox (else `HTTP_PROXY` and friends apply).
    ///
    /// ```
    /// use webex_connect_whatsapp::client::Client;
    /// use webex_connect_whatsapp::AppId;
    ///
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .https_only(true)
    ///     .build()?;
    /// let client = Client::builder()
    ///     .service_key("k-123")
    ///     .app_id(AppId::new("a_1")?)
    ///     .base_url("https://api.eu.webexconnect.io".parse()?)
    ///     .http_client(http)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// When failures are resent (default [`RetryPolicy::default`]: only with proof that the
    /// message was not processed; [`RetryPolicy::at_least_once`] also resends ambiguous ones).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Limits sends to `messages_per_second` (set it to the tenant's TPS); a request to N
    /// destinations counts N. Shared by all clones. Bulk batches are capped at this size too.
    pub fn rate_limit(mut self, messages_per_second: u32) -> Self {
        match NonZeroU32::new(messages_per_second) {
            Some(rate) => self.rate_limit = Some(rate),
            None => self.fail(Error::config(
                "the rate limit is 0 messages per second; it must be at least 1",
            )),
        }
        self
    }

    /// Shares one rate limit with every process whose client uses the same Redis budget
    /// (feature `redis`); it replaces [`ClientBuilder::rate_limit`]. Bulk batches are capped
    /// at its size too.
    #[cfg(feature = "redis")]
    pub fn shared_rate_limit(mut self, limit: SharedRateLimit) -> Self {
        self.rate_limit = Some(limit.per_second);
        self.shared_rate_limit = Some(limit);
        self
    }

    /// Checks the settings and builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for the first invalid setting, missing credentials, a missing app id
    /// or base URL, a base URL that is not https (http is allowed on loopback only) or that
    /// has a user name or password in it;
    /// [`Error::Env`] instead for a builder from [`ClientBuilder::from_env`] whose variable is
    /// missing or invalid.
    pub fn build(self) -> Result<Client, Error> {
        let throttle = self.throttle();
        if let Some(error) = self.error {
            return Err(error);
        }
        let from_env = self.from_env;
        let missing = |variable: &'static str, problem: &str, otherwise: &str| {
            if from_env {
                Error::env(variable, problem)
            } else {
                Error::config(otherwise)
            }
        };
        let credentials = self.credentials.ok_or_else(|| {
            missing(
                SERVICE_KEY_VAR,
                "is not set",
                "no credentials; call service_key(...) or jwt(service_id, secret)",
            )
        })?;
        let app_id = self.app_id.ok_or_else(|| {
            missing(
                APP_ID_VAR,
                "is not set",
                "no app id; call app_id(AppId::new(\"a_...\")?)",
            )
        })?;
        let base = self.base_url.ok_or_else(|| {
            missing(
                REGION_VAR,
                "is not set (nor WEBEX_CONNECT_BASE_URL); set it to us, us1, eu, uk, ca, au or in",
                "no API host; call region(Region::...) or base_url(...)",
            )
        })?;
        check_base_url(&base)?;
        let endpoint = endpoint_for(&base)?;
        let user_agent = HeaderValue::from_str(&self.user_agent).map_err(|_| {
            Error::config(format!(
                "user agent {:?} cannot be sent in an HTTP header; use visible ASCII",
                self.user_agent
            ))
        })?;
        let http = match self.http {
            Some(http) => http,
            None => http_builder(&base, self.connect_timeout)
                .build()
                .map_err(|e| Error::config(format!("could not set up HTTP: {e}")))?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                endpoint,
                credentials,
                app_id,
                retry: self.retry,
                throttle,
                request_timeout: self.request_timeout,
                user_agent,
            }),
        })
    }
}

impl ClientBuilder {
    fn throttle(&self) -> Option<Throttle> {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared_rate_limit {
            return Some(Throttle::shared(shared.clone()));
        }
        self.rate_limit.map(Throttle::new)
    }
}

/// The transport settings that keep the service key with the configured host.
fn http_builder(base: &Url, connect_timeout: Duration) -> reqwest::ClientBuilder {
    // reqwest follows up to 10 redirects by default, carrying the `key` header along to any
    // host; the API never redirects, so any 3xx is reported instead (Error::Redirected).
    let builder = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none());
    if crate::send::is_loopback(base) {
        // The sandbox on this machine: a system proxy (HTTP_PROXY, ALL_PROXY) would see the
        // key and the messages in clear text, and could not reach our loopback anyway.
        builder.no_proxy()
    } else {
        // check_base_url already insists on https; this holds for every request the client
        // makes, whatever URL it is handed later.
        builder.https_only(true)
    }
}

/// Refuses a URL with a user name or password in it, without repeating either.
fn refuse_credentials(base: &Url) -> Result<(), Error> {
    if base.username().is_empty() && base.password().is_none() {
        return Ok(());
    }
    Err(Error::config(format!(
        "base url {} has a user name or password in it; remove it: the client authenticates \
         with the service key or JWT, and credentials in a URL end up in logs",
        redacted(base)
    )))
}

/// `scheme://host[:port]/path` of `url`: never its user name, password, query or fragment.
fn redacted(url: &Url) -> String {
    let host = url.host_str().unwrap_or("(no host)");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
    }
}

/// Refuses a base URL that would send the service key in clear text over the network, or
/// that carries credentials of its own.
fn check_base_url(base: &Url) -> Result<(), Error> {
    refuse_credentials(base)?;
    match base.scheme() {
        "https" => Ok(()),
        "http" if crate::send::is_loopback(base) => Ok(()),
        "http" => Err(Error::config(format!(
            "base url {} uses http; only https is allowed, except on a loopback \
             address (127.0.0.0/8, ::1, localhost)",
            redacted(base)
        ))),
        other => Err(Error::config(format!(
            "base url {} has scheme {other:?}; only https is allowed",
            redacted(base)
        ))),
    }
}

/// `{base}/resources/v1/messaging`, keeping any path prefix of the base.
fn endpoint_for(base: &Url) -> Result<Url, Error> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.join(MESSAGING_PATH)
        .map_err(|e| Error::config(format!("base url {base} cannot take a path: {e}")))
}

/// What Webex Connect answered for one destination that was queued.
///
/// `Debug` masks the destination.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendReceipt {
    /// The transaction id; delivery receipts carry the same one. With several destinations in
    /// one request, the platform may give one id for the whole request.
    pub transid: Option<TransactionId>,
    /// The correlation id sent for this destination (yours, or one generated by the client).
    pub correlation_id: Option<CorrelationId>,
    /// The destination as sent: a `waid` (digits, no `+`) or a BSUID.
    pub destination: String,
    /// The platform's description (`Queued`, `Queued in burst mode`).
    pub description: Option<String>,
    /// How many attempts it took, from 1.
    pub attempts: u32,
}

/// One line for people: `queued, transid …, correlation id …` (`(none)` where absent). The
/// destination is left out, so the line can go to logs as it is.
///
/// ```
/// # use webex_connect_whatsapp::client::SendReceipt;
/// # fn show(receipt: &SendReceipt) {
/// println!("+447400123456: {receipt}");
/// # }
/// ```
impl fmt::Display for SendReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "queued, transid {}, correlation id {}",
            self.transid
                .as_ref()
                .map_or("(none)", TransactionId::as_str),
            self.correlation_id
                .as_ref()
                .map_or("(none)", CorrelationId::as_str),
        )
    }
}

impl fmt::Debug for SendReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendReceipt")
            .field("transid", &self.transid)
            .field("correlation_id", &self.correlation_id)
            .field("destination", &crate::phone::mask(&self.destination))
            .field("description", &self.description)
            .field("attempts", &self.attempts)
            .finish()
    }
}

/// The answer to one request: the response as received and one result per destination.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestOutcome {
    /// The response body, as decoded.
    pub response: SendResponse,
    /// One result per destination, in request order.
    pub results: Vec<Result<SendReceipt, Error>>,
}

impl RequestOutcome {
    /// The queued destinations.
    pub fn receipts(&self) -> impl Iterator<Item = &SendReceipt> {
        self.results.iter().filter_map(|r| r.as_ref().ok())
    }
}

/// One message to one recipient, with its options; finish with [`MessageBuilder::send`].
#[must_use]
#[derive(Debug)]
pub struct MessageBuilder<'c> {
    client: &'c Client,
    to: Recipient,
    content: Content,
    correlation_id: Option<CorrelationId>,
    options: RequestOptions,
}

/// The request-level options that [`MessageBuilder`] and [`BulkBuilder`] both offer, so that
/// one message and a bulk send carry them into the request the same way.
#[derive(Debug, Clone, Default)]
struct RequestOptions {
    callback_data: Option<CallbackData>,
    notify_url: Option<Url>,
    notify_url_auth_id: Option<String>,
    expiry: Option<OffsetDateTime>,
    link_options: Option<LinkOptions>,
}

impl RequestOptions {
    fn apply(&self, mut builder: SendRequestBuilder) -> SendRequestBuilder {
        if let Some(data) = &self.callback_data {
            builder = builder.callback_data(data.clone());
        }
        if let Some(url) = &self.notify_url {
            builder = builder.notify_url(url.clone());
        }
        if let Some(id) = &self.notify_url_auth_id {
            builder = builder.notify_url_auth_id(id.clone());
        }
        if let Some(at) = self.expiry {
            builder = builder.expiry(at);
        }
        if let Some(options) = &self.link_options {
            builder = builder.link_options(options.clone());
        }
        builder
    }
}

impl MessageBuilder<'_> {
    /// Your correlation id, echoed in delivery receipts (else the client generates one).
    pub fn correlation_id(mut self, id: CorrelationId) -> Self {
        self.correlation_id = Some(id);
        self
    }

    /// Data echoed in delivery receipts.
    pub fn callback_data(mut self, data: CallbackData) -> Self {
        self.options.callback_data = Some(data);
        self
    }

    /// The URL that receives this message's delivery receipts.
    pub fn notify_url(mut self, url: Url) -> Self {
        self.options.notify_url = Some(url);
        self
    }

    /// The authorization profile Webex Connect applies when calling the notify URL.
    pub fn notify_url_auth_id(mut self, id: impl Into<String>) -> Self {
        self.options.notify_url_auth_id = Some(id.into());
        self
    }

    /// The time after which the message must not be sent.
    pub fn expiry(mut self, at: OffsetDateTime) -> Self {
        self.options.expiry = Some(at);
        self
    }

    /// Link shortening and click tracking for this message (`options`).
    pub fn link_options(mut self, options: LinkOptions) -> Self {
        self.options.link_options = Some(options);
        self
    }

    /// Builds the request this message would send, without sending it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when the request is invalid.
    pub fn request(&self) -> Result<SendRequest, Error> {
        let id = self
            .correlation_id
            .clone()
            .unwrap_or_else(generate_correlation_id);
        let builder = SendRequest::builder(self.client.inner.app_id.clone(), self.content.clone())
            .destination(Destination::new(&self.to).with_correlation_id(id));
        Ok(self.options.apply(builder).build()?)
    }

    /// Sends the message.
    ///
    /// # Errors
    ///
    /// [`Error`]; [`Error::is_outcome_unknown`] tells whether it may have been queued anyway.
    pub async fn send(self) -> Result<SendReceipt, Error> {
        let request = self.request()?;
        let outcome = self.client.send_request(&request).await?;
        outcome
            .results
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(Error::undecodable(200, b"", None)))
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            error: None,
            credentials: None,
            app_id: None,
            base_url: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            http: None,
            retry: RetryPolicy::default(),
            rate_limit: None,
            #[cfg(feature = "redis")]
            shared_rate_limit: None,
            from_env: false,
        }
    }

    /// The configured app id.
    pub fn app_id(&self) -> &AppId {
        &self.inner.app_id
    }

    /// The URL requests go to (`{base}/resources/v1/messaging`).
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The configured rate limit, in messages per second.
    pub fn rate_limit(&self) -> Option<u32> {
        self.inner.throttle.as_ref().map(|t| t.per_second().get())
    }

    /// Sends one message to one recipient, a phone number or a BSUID, with a generated
    /// correlation id.
    ///
    /// # Errors
    ///
    /// [`Error`]; [`Error::is_outcome_unknown`] tells whether it may have been queued anyway.
    pub async fn send(
        &self,
        to: impl Into<Recipient>,
        content: impl Into<Content>,
    ) -> Result<SendReceipt, Error> {
        self.message(to, content).send().await
    }

    /// Starts one message with options (correlation id, callback data, notify URL, expiry).
    pub fn message(
        &self,
        to: impl Into<Recipient>,
        content: impl Into<Content>,
    ) -> MessageBuilder<'_> {
        MessageBuilder {
            client: self,
            to: to.into(),
            content: content.into(),
            correlation_id: None,
            options: RequestOptions::default(),
        }
    }

    /// Sends one message to many recipients in batches; see [`BulkBuilder`].
    pub fn bulk(&self, content: impl Into<Content>) -> BulkBuilder {
        BulkBuilder::new(self.clone(), content.into())
    }

    /// Sends a complete request (its own app id and destinations, up to 1000).
    ///
    /// Destinations without a correlation id (and no request-level one) get a generated one.
    /// `Ok` means Webex Connect answered with at least one destination queued; per-destination
    /// outcomes are in [`RequestOutcome::results`].
    ///
    /// # Errors
    ///
    /// [`Error`] when the whole request failed: rejected, not sent, or with an unknown outcome.
    /// The error carries a correlation id when the request has one for all its destinations
    /// (a request-level id, or a single destination); otherwise every destination's id is in
    /// `request` (and [`Client::bulk`] reports each destination with its own).
    pub async fn send_request(&self, request: &SendRequest) -> Result<RequestOutcome, Error> {
        let request = with_correlation_ids(request)?;
        let body = serde_json::to_vec(request.as_ref()).map_err(|e| {
            Error::from(crate::send::SendRequestError::Invalid {
                field: "body",
                reason: e.to_string(),
            })
        })?;
        let span = tracing::info_span!(
            "webex_connect.send",
            app_id = %request.app_id(),
            correlation_id = tracing::field::Empty,
            destinations = request.destinations().len(),
            to = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        if !span.is_disabled() {
            if let Some(id) = request_correlation_id(&request) {
                span.record("correlation_id", id.as_str());
            }
            if let Some(id) = request.destinations().first().and_then(Destination::id) {
                span.record("to", crate::phone::mask(id).as_str());
            }
        }
        self.execute(
            body,
            request.destinations().len(),
            request_correlation_id(&request),
            |answer, attempt| {
                decide(
                    &request,
                    answer.status,
                    answer.retry_after,
                    &answer.raw,
                    attempt,
                )
            },
        )
        .instrument(span)
        .await
    }

    /// Sends `body` (worth `count` destinations against the rate limit) until `decode`
    /// accepts an answer or the retry policy stops; `correlation_id` names the call in errors.
    pub(crate) async fn execute<T>(
        &self,
        body: Vec<u8>,
        count: usize,
        correlation_id: Option<&CorrelationId>,
        decode: impl Fn(Answer, u32) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let inner = &self.inner;
        let started = tokio::time::Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            tracing::Span::current().record("attempt", attempt);
            if let Some(throttle) = &inner.throttle {
                throttle.acquire(count).await;
            }
            let result = self
                .post(body.clone())
                .await
                .and_then(|a| decode(a, attempt));
            let error = match result {
                Ok(outcome) => return Ok(outcome),
                Err(error) => error.with_correlation_id(correlation_id.cloned()),
            };
            if matches!(error, Error::Authentication { .. }) {
                // A refused JWT (7001) may have been revoked or expired early: mint a new one
                // for the next request instead of sending the refused one until it expires.
                inner.credentials.invalidate();
            }
            let Some(delay) = inner.retry.next_delay(attempt, &error, started.elapsed()) else {
                tracing::warn!(attempt, error = %error, outcome_unknown = error.is_outcome_unknown(), "send failed");
                return Err(error);
            };
            if error.is_outcome_unknown() {
                tracing::warn!(attempt, delay_ms = delay.as_millis(), error = %error, "resending although the message may have been queued (at-least-once policy)");
            } else {
                tracing::warn!(attempt, delay_ms = delay.as_millis(), error = %error, "retrying; the message was not queued");
            }
            inner.retry.notify(&RetryEvent {
                attempt,
                delay,
                error: &error,
            });
            tokio::time::sleep(delay).await;
        }
    }

    /// One POST of `body`: the answer as received, or why there was none.
    async fn post(&self, body: Vec<u8>) -> Result<Answer, Error> {
        let inner = &self.inner;
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, inner.user_agent.clone());
        inner.credentials.apply(&mut headers);
        let sent = inner
            .http
            .post(inner.endpoint.clone())
            .headers(headers)
            .timeout(inner.request_timeout)
            .body(body)
            .send()
            .await;
        let mut response = sent.map_err(|e| classify_send_error(e, None))?;
        let status = response.status().as_u16();
        if response.url() != &inner.endpoint {
            // Only a caller's own http_client follows redirects; the key went along.
            tracing::warn!(
                status,
                "the http client followed a redirect away from the endpoint; build it with \
                 redirect::Policy::none() so the service key is not sent elsewhere"
            );
        }
        if response.status().is_redirection() {
            // Never followed, and never resent: the same request gets the same redirect.
            let location = response.headers().get(LOCATION).map(HeaderValue::as_bytes);
            return Err(Error::redirected(status, location));
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
        let mut raw = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    raw.extend_from_slice(&chunk);
                    if raw.len() > MAX_RESPONSE_BYTES {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(classify_send_error(e, Some(status))),
            }
        }
        tracing::debug!(status, bytes = raw.len(), "answer received");
        Ok(Answer {
            status,
            retry_after,
            raw,
        })
    }
}

/// What one attempt got back: the status, `Retry-After`, and the body (at most
/// [`MAX_RESPONSE_BYTES`] and a chunk).
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) raw: Vec<u8>,
}

/// Maps a reqwest failure: only a failure to connect (or to build the request) proves that
/// nothing was written; `status` is set when the answer had started.
fn classify_send_error(error: reqwest::Error, status: Option<u16>) -> Error {
    if status.is_none() && (error.is_connect() || error.is_builder()) {
        return Error::Transport {
            correlation_id: None,
            source: Arc::new(error),
        };
    }
    let reason = if error.is_timeout() {
        OutcomeUnknownReason::TimedOut
    } else {
        OutcomeUnknownReason::ConnectionLost
    };
    Error::outcome_unknown(reason, status, None, Some(error))
}

/// Decides the outcome from the body first, then the status.
fn decide(
    request: &SendRequest,
    status: u16,
    retry_after: Option<Duration>,
    raw: &[u8],
    attempt: u32,
) -> Result<RequestOutcome, Error> {
    let Ok(response) = SendResponse::from_slice(raw) else {
        return Err(unreadable(status, retry_after, raw));
    };
    let entries = response.entries();
    let any_queued = entries.iter().any(|e| e.code.is_queued());
    if !any_queued {
        let Some(entry) = entries.first() else {
            return Err(Error::undecodable(status, raw, None));
        };
        return Err(entry_error(entry, status, retry_after));
    }
    if error::is_server_error(status) {
        // A 1001 is the platform's own word that it queued the message; a 5xx around it
        // cannot unsend it, and calling it unknown would only lose the transid.
        tracing::warn!(status, "a queued answer came with a server-error status");
    }
    let destinations = request.destinations();
    let default_id = request.correlation_id();
    let receipt_for = |d: &Destination, entry: &crate::send::ResponseEntry| SendReceipt {
        transid: entry.transid.clone(),
        correlation_id: d.correlation_id().or(default_id).cloned(),
        destination: d.id().unwrap_or_default().to_owned(),
        description: entry.description.clone(),
        attempts: attempt,
    };
    let results = if entries.len() == destinations.len() {
        destinations
            .iter()
            .zip(entries)
            .map(|(d, entry)| {
                if entry.code.is_queued() {
                    Ok(receipt_for(d, entry))
                } else {
                    Err(entry_error(entry, status, None)
                        .with_correlation_id(d.correlation_id().or(default_id).cloned()))
                }
            })
            .collect()
    } else if response.is_queued() {
        let first = entries.first();
        destinations
            .iter()
            .map(|d| {
                first
                    .map(|entry| receipt_for(d, entry))
                    .ok_or_else(|| Error::undecodable(status, raw, None))
            })
            .collect()
    } else {
        // Some entries queued, some not, and no way to tell which destination is which.
        return Err(Error::undecodable(status, raw, None));
    };
    Ok(RequestOutcome { response, results })
}

/// The error for an answer whose body is not a send response: the status decides.
fn unreadable(status: u16, retry_after: Option<Duration>, raw: &[u8]) -> Error {
    match status {
        401 | 403 => Error::Authentication {
            code: None,
            status,
            description: None,
            transid: None,
        },
        429 => Error::RateLimited {
            code: None,
            status,
            retry_after,
            correlation_id: None,
        },
        // RFC 9110 15.5.9: 408 means the server did not receive a complete request within
        // the time it was prepared to wait, and "if the client has an outstanding request
        // in transit, it MAY repeat that request". A request it never had whole cannot
        // have been processed, and a proxy cannot have forwarded a whole request it did
        // not receive, so this is proof of "not processed" and is resent.
        408 => Error::NotReceived {
            status,
            retry_after,
            correlation_id: None,
        },
        s if error::is_server_error(s) => Error::outcome_unknown(
            OutcomeUnknownReason::ServerError,
            Some(s),
            retry_after,
            None,
        ),
        _ => Error::undecodable(status, raw, None),
    }
}

/// The error for one answer entry that was not queued: see [`Error::rejected`] for how the
/// code and the status decide.
fn entry_error(
    entry: &crate::send::ResponseEntry,
    status: u16,
    retry_after: Option<Duration>,
) -> Error {
    Error::from_answer(
        entry.code.clone(),
        entry.description.clone(),
        entry.transid.clone(),
        status,
        retry_after,
    )
}

/// The correlation id that identifies the whole request in logs and errors.
fn request_correlation_id(request: &SendRequest) -> Option<&CorrelationId> {
    request
        .correlation_id()
        .or_else(|| match request.destinations() {
            [only] => only.correlation_id(),
            _ => None,
        })
}

/// Gives every destination without one (and no request-level one) a generated correlation id,
/// so an unknown outcome can always be reconciled against delivery receipts.
fn with_correlation_ids(request: &SendRequest) -> Result<Cow<'_, SendRequest>, Error> {
    if request.correlation_id().is_some()
        || request
            .destinations()
            .iter()
            .all(|d| d.correlation_id().is_some())
    {
        return Ok(Cow::Borrowed(request));
    }
    let destinations = request
        .destinations()
        .iter()
        .map(|d| match d.correlation_id() {
            Some(_) => d.clone(),
            None => d.clone().with_correlation_id(generate_correlation_id()),
        })
        .collect();
    Ok(Cow::Owned(request.with_destinations(destinations)?))
}

/// A random, UUID-shaped correlation id (36 bytes, within the 50-byte limit).
pub fn generate_correlation_id() -> CorrelationId {
    let a = fastrand::u64(..);
    let b = fastrand::u64(..);
    let text = format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    );
    // The text is 36 printable ASCII bytes, which CorrelationId always accepts.
    CorrelationId::new(text).unwrap_or_else(|_| fallback_correlation_id())
}

#[allow(
    clippy::unwrap_used,
    reason = "a short literal that CorrelationId always accepts"
)]
fn fallback_correlation_id() -> CorrelationId {
    CorrelationId::new("generated").unwrap()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test set-up")]
mod tests {
    use super::*;

    fn client_of(base: &str) -> Client {
        Client::builder()
            .service_key("k-123")
            .app_id(AppId::new("a_1").unwrap())
            .base_url(Url::parse(base).unwrap())
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn a_remote_base_is_reached_over_https_only() {
        let client = client_of("https://api.example.test");
        // The built-in client refuses plain http before connecting: a builder error, where a
        // client without https_only would try to connect and fail to.
        let e = client
            .inner
            .http
            .get("http://127.0.0.1:9/")
            .send()
            .await
            .unwrap_err();
        assert!(e.is_builder(), "{e:?}");
    }

    #[tokio::test]
    async fn a_loopback_base_is_still_reached_over_http() {
        let client = client_of("http://127.0.0.1:9");
        let e = client
            .inner
            .http
            .get("http://127.0.0.1:9/")
            .send()
            .await
            .unwrap_err();
        assert!(!e.is_builder(), "{e:?}");
    }
}
