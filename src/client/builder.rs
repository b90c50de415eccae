//! [`ClientBuilder`] and [`Region`]: how a [`Client`] is configured, and the transport settings
//! that keep the service key with the configured host.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;
use url::Url;

use super::auth::{Credentials, JwtCredentials, ServiceKey};
use super::error::Error;
use super::journaling::presence;
use super::retry::RetryPolicy;
#[cfg(feature = "redis")]
use super::throttle::SharedRateLimit;
use super::throttle::Throttle;
use super::{APP_ID_VAR, REGION_VAR, SERVICE_KEY_VAR};
use super::{Client, Inner, MESSAGING_PATH};
use crate::conversation::journal::Journal;
use crate::ids::AppId;
use crate::url::NotHttps;

/// The default timeout for establishing a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default timeout for a whole request, from sending to the end of the answer.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

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

/// Configures a [`Client`]; [`ClientBuilder::build`] can fail: the first invalid setting is
/// kept and returned there as an [`Error`].
#[must_use]
// The fields env.rs fills from the environment are open to the rest of `client/`.
pub struct ClientBuilder {
    error: Option<Error>,
    pub(super) credentials: Option<Credentials>,
    pub(super) app_id: Option<AppId>,
    pub(super) base_url: Option<Url>,
    connect_timeout: Duration,
    request_timeout: Duration,
    user_agent: String,
    http: Option<reqwest::Client>,
    retry: RetryPolicy,
    pub(super) rate_limit: Option<NonZeroU32>,
    #[cfg(feature = "redis")]
    shared_rate_limit: Option<SharedRateLimit>,
    journal: Option<Arc<dyn Journal>>,
    /// Whether [`ClientBuilder::from_env`] started it, so a missing setting names its variable.
    pub(super) from_env: bool,
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
            .field("journal", &presence(self.journal.as_ref()))
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The defaults [`Client::builder`] starts from.
    pub(super) fn new() -> Self {
        Self {
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
            journal: None,
            from_env: false,
        }
    }

    pub(super) fn fail(&mut self, error: Error) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }

    crate::setters::setters! {
        /// Authenticates with a service key (`key` header).
        fn service_key(self, key: impl AsRef<str>) => match ServiceKey::new(key.as_ref()) {
            Ok(key) => self.credentials = Some(Credentials::ServiceKey(key)),
            Err(e) => self.fail(e),
        };

        /// Authenticates with a JWT minted from the service id and the base64 service secret.
        fn jwt(self, service_id: impl Into<String>, service_secret: &str) =>
            match JwtCredentials::new(service_id, service_secret) {
                Ok(jwt) => self.credentials = Some(Credentials::Jwt(jwt)),
                Err(e) => self.fail(e),
            };

        /// Sets already checked credentials.
        fn credentials(self, credentials: impl Into<Credentials>) =>
            self.credentials = Some(credentials.into());

        /// The WhatsApp app id used by [`Client::send`], [`Client::message`] and [`Client::bulk`].
        fn app_id(self, app_id: AppId) => self.app_id = Some(app_id);

        /// Sends to a region's API host.
        fn region(self, region: Region) => self.base_url = Some(region.base_url());

        /// Sends to another base URL (a proxy, the sandbox); https, or http on a loopback address.
        ///
        /// A URL with a user name or password in it is refused (the error never repeats them): the
        /// client authenticates with the service key or JWT, and credentials in a URL end up in
        /// logs and `Debug` output.
        fn base_url(self, url: Url) => match refuse_credentials(&url) {
            Ok(()) => self.base_url = Some(url),
            Err(e) => self.fail(e),
        };

        /// The timeout for establishing a connection (default 10 s). Not applied to a client given
        /// with [`ClientBuilder::http_client`].
        fn connect_timeout(self, timeout: Duration) => self.connect_timeout = timeout;

        /// The timeout for each request (default 30 s). A request that times out after being sent
        /// ends in [`Error::OutcomeUnknown`] and is not resent (the default [`RetryPolicy`]).
        fn request_timeout(self, timeout: Duration) => self.request_timeout = timeout;

        /// The `User-Agent` header (default `webex-connect-whatsapp/<version>`).
        fn user_agent(self, user_agent: impl Into<String>) => self.user_agent = user_agent.into();

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
        fn http_client(self, client: reqwest::Client) => self.http = Some(client);

        /// When failures are resent (default [`RetryPolicy::default`]: only with proof that the
        /// message was not processed; [`RetryPolicy::at_least_once`] also resends ambiguous ones).
        fn retry_policy(self, policy: RetryPolicy) => self.retry = policy;

        /// Limits sends to `messages_per_second` (set it to the tenant's TPS); a request to N
        /// destinations counts N. Shared by all clones. Bulk calls are capped at this size too.
        fn rate_limit(self, messages_per_second: u32) =>
            match NonZeroU32::new(messages_per_second) {
                Some(rate) => self.rate_limit = Some(rate),
                None => self.fail(Error::config(
                    "the rate limit is 0 messages per second; it must be at least 1",
                )),
            };

        /// Shares one rate limit with every process whose client uses the same Redis budget
        /// (feature `redis`); it replaces [`ClientBuilder::rate_limit`]. Bulk calls are capped
        /// at its size too.
        #[cfg(feature = "redis")]
        fn shared_rate_limit(self, limit: SharedRateLimit) => {
            self.rate_limit = Some(limit.per_second);
            self.shared_rate_limit = Some(limit);
        };

        /// Records every send in `journal`: before a call goes out, one
        /// [`JournalRecord::Intent`](crate::conversation::journal::JournalRecord::Intent) per
        /// message (its correlation id, its destination as sent, a digest of its content), stored
        /// before anything is sent; after the call's final answer, one
        /// [`JournalRecord::Outcome`](crate::conversation::journal::JournalRecord::Outcome) per
        /// message. It applies to [`Client::send`], [`Client::message`], [`Client::send_request`],
        /// [`Client::bulk`] and [`Client::batch`], once per call however many attempts the retry
        /// policy makes.
        ///
        /// A message whose intent has no outcome may have reached the platform (the process
        /// stopped while its call was out, or the outcome could not be stored): reconcile its
        /// correlation id against delivery receipts before sending it again. When the journal
        /// cannot store an intent, nothing is sent and every message of the call fails with
        /// [`Error::Journal`]; when it cannot store an outcome, that is logged at `error` level
        /// and the results are returned as usual.
        ///
        /// Each message needs its own correlation id for its entry to be its own, so with a
        /// journal, a request whose destinations would share its request-level id is refused
        /// ([`Error::DuplicateCorrelationId`]).
        ///
        /// ```
        /// use std::sync::Arc;
        /// use webex_connect_whatsapp::client::Client;
        /// use webex_connect_whatsapp::conversation::journal::InMemoryJournal;
        /// use webex_connect_whatsapp::AppId;
        ///
        /// let journal = Arc::new(InMemoryJournal::new());
        /// let client = Client::builder()
        ///     .service_key("k-123")
        ///     .app_id(AppId::new("a_1")?)
        ///     .base_url("http://127.0.0.1:8080".parse()?)
        ///     .journal(Arc::clone(&journal))
        ///     .build()?;
        /// assert!(client.journal().is_some());
        /// assert!(format!("{client:?}").contains(r#"journal: "present""#));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn journal(self, journal: impl Journal + 'static) => self.journal = Some(Arc::new(journal));
    }

    /// Checks the settings and builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for the first invalid setting, missing credentials, a missing app id
    /// or base URL, a base URL that is not https (http is allowed on loopback only) or that
    /// has a user name or password in it, an https base URL in a build without a TLS backend
    /// (features `rustls` and `native-tls` both off, and no [`http_client`](Self::http_client));
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
        let http = if let Some(http) = self.http {
            http
        } else {
            check_tls(&base, TLS_BUILT_IN)?;
            http_builder(&base, self.connect_timeout)
                .build()
                .map_err(|e| Error::config(format!("could not set up HTTP: {e}")))?
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
                journal: self.journal,
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

/// Whether this build has a TLS backend for the built-in HTTP client: the `rustls` feature
/// (a default) or `native-tls`.
const TLS_BUILT_IN: bool = cfg!(any(feature = "rustls", feature = "native-tls"));

/// Refuses an https base URL when the built-in client has no TLS to reach it with, so the
/// mistake shows at `build()` rather than as a connection error on the first send. Plain http
/// on loopback (the sandbox) needs none. A client passed to `http_client` is not checked: its
/// owner chose its TLS.
fn check_tls(base: &Url, tls_built_in: bool) -> Result<(), Error> {
    if tls_built_in || base.scheme() != "https" {
        return Ok(());
    }
    Err(Error::config(format!(
        "base url {} needs TLS, but webex-connect-whatsapp was built without a TLS backend: \
         enable its `rustls` feature (a default one) or `native-tls`, or pass a reqwest client \
         with TLS to http_client",
        redacted(base)
    )))
}

/// The transport settings that keep the service key with the configured host.
fn http_builder(base: &Url, connect_timeout: Duration) -> reqwest::ClientBuilder {
    // reqwest follows up to 10 redirects by default, carrying the `key` header along to any
    // host; the API never redirects, so any 3xx is reported instead (Error::Redirected).
    let builder = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none());
    if crate::url::is_loopback(base) {
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
pub(super) fn check_base_url(base: &Url) -> Result<(), Error> {
    refuse_credentials(base)?;
    crate::url::https_or_loopback(base).map_err(|refused| match refused {
        NotHttps::PlainHttp => Error::config(format!(
            "base url {} uses http; only https is allowed, except on a loopback \
             address (127.0.0.0/8, ::1, localhost)",
            redacted(base)
        )),
        NotHttps::OtherScheme => Error::config(format!(
            "base url {} has scheme {:?}; only https is allowed",
            redacted(base),
            base.scheme()
        )),
    })
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

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test set-up")]
mod tests {
    use super::*;

    /// The error a client built for `base` gets when it sends plain http to a closed port on
    /// this machine.
    async fn plain_http_error(base: &str) -> reqwest::Error {
        let client = Client::builder()
            .service_key("k-123")
            .app_id(AppId::new("a_1").unwrap())
            .base_url(Url::parse(base).unwrap())
            .build()
            .unwrap();
        client
            .inner
            .http
            .get("http://127.0.0.1:9/")
            .send()
            .await
            .unwrap_err()
    }

    #[tokio::test]
    async fn a_remote_base_is_reached_over_https_only() {
        // The built-in client refuses plain http before connecting: a builder error, where a
        // client without https_only would try to connect and fail to.
        let e = plain_http_error("https://api.example.test").await;
        assert!(e.is_builder(), "{e:?}");
    }

    #[test]
    fn https_needs_a_tls_backend_and_loopback_http_does_not() {
        let https = Url::parse("https://api.eu.webexconnect.io/").unwrap();
        let local_https = Url::parse("https://localhost:8443/").unwrap();
        let sandbox = Url::parse("http://127.0.0.1:8080/").unwrap();
        for base in [&https, &local_https, &sandbox] {
            assert!(check_tls(base, true).is_ok(), "{base}");
        }
        assert!(check_tls(&sandbox, false).is_ok());
        for base in [&https, &local_https] {
            let message = check_tls(base, false).unwrap_err().to_string();
            assert!(message.contains("`rustls` feature"), "{message}");
            assert!(message.contains("`native-tls`"), "{message}");
        }
    }

    #[tokio::test]
    async fn a_loopback_base_is_still_reached_over_http() {
        let e = plain_http_error("http://127.0.0.1:9").await;
        assert!(!e.is_builder(), "{e:?}");
    }
}
