//! Credentials: a service key (`key` header) or a JWT minted from the service id and secret.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::header::HeaderValue;
use sha2::Sha256;

use super::error::Error;

/// How long a minted token is valid: the platform expires tokens 60 minutes after `iat`.
pub const JWT_LIFETIME: Duration = Duration::from_hours(1);

/// How long before its expiry a cached token is replaced, so a token never expires in flight.
pub const JWT_REFRESH_MARGIN: Duration = Duration::from_mins(5);

/// A Webex Connect service key, sent in the `key` header.
///
/// The value never appears in `Debug` or `Display` output.
///
/// ```
/// use webex_connect_whatsapp::client::ServiceKey;
/// let key = ServiceKey::new("s3cr3t-key")?;
/// assert_eq!(format!("{key:?}"), "ServiceKey(***)");
/// assert_eq!(key.to_string(), "ServiceKey(***)");
/// assert_eq!(key.expose(), "s3cr3t-key");
/// # Ok::<(), webex_connect_whatsapp::client::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceKey {
    value: String,
    header: HeaderValue,
}

impl ServiceKey {
    /// Wraps a service key: non-empty, visible ASCII only (it travels in an HTTP header).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the key is empty or holds a character a header cannot carry; the
    /// message never repeats the key.
    pub fn new(value: impl Into<String>) -> Result<Self, Error> {
        let value = value.into();
        let value = value.trim().to_owned();
        if value.is_empty() {
            return Err(Error::config("the service key is empty"));
        }
        if let Some(position) = value.chars().position(|c| !c.is_ascii_graphic()) {
            return Err(Error::config(format!(
                "the service key has a character that is not visible ASCII at position {position}; \
                 only visible ASCII characters are allowed"
            )));
        }
        let mut header = HeaderValue::from_str(&value)
            .map_err(|_| Error::config("the service key cannot be sent in an HTTP header"))?;
        header.set_sensitive(true);
        Ok(Self { value, header })
    }

    /// The key itself, for code that must pass it on. Never log it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    pub(crate) fn header(&self) -> &HeaderValue {
        &self.header
    }
}

impl fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServiceKey(***)")
    }
}

/// Shows what `Debug` shows, so the redacted form is written once.
impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::str::FromStr for ServiceKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// JWT credentials: the service id (`iss`) and the base64 service secret that signs tokens.
///
/// Tokens are HS256, carry `iss`, `iat` and `exp` (`iat` + 60 minutes), are cached, and are
/// replaced [`JWT_REFRESH_MARGIN`] before they expire.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use webex_connect_whatsapp::client::JwtCredentials;
///
/// let jwt = JwtCredentials::new("service-1", "c2VjcmV0")?; // base64 of "secret"
/// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let token = jwt.token_at(now);
/// assert_eq!(token.split('.').count(), 3);
/// assert_eq!(jwt.token_at(now + Duration::from_secs(60)), token); // cached
/// assert!(!format!("{jwt:?}").contains("c2VjcmV0"));
/// # Ok::<(), webex_connect_whatsapp::client::Error>(())
/// ```
pub struct JwtCredentials {
    service_id: String,
    secret: Vec<u8>,
    cache: Mutex<Option<CachedToken>>,
}

#[derive(Clone)]
struct CachedToken {
    token: String,
    header: HeaderValue,
    expires_at: u64,
}

impl JwtCredentials {
    /// Takes the service id and the service secret exactly as Webex Connect shows it (base64).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the service id is empty or not visible ASCII, or the secret is
    /// empty or not valid base64 (standard alphabet, padding optional).
    pub fn new(service_id: impl Into<String>, service_secret: &str) -> Result<Self, Error> {
        let service_id = service_id.into().trim().to_owned();
        if service_id.is_empty() {
            return Err(Error::config("the JWT service id is empty"));
        }
        if !service_id.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Error::config(format!(
                "the JWT service id {service_id:?} has a character that is not visible ASCII"
            )));
        }
        let trimmed = service_secret.trim();
        if trimmed.is_empty() {
            return Err(Error::config("the JWT service secret is empty"));
        }
        let secret = base64::engine::general_purpose::STANDARD
            .decode(trimmed)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
            .map_err(|_| {
                Error::config(
                    "the JWT service secret is not valid base64; paste it exactly as the \
                     service's API tab shows it",
                )
            })?;
        Ok(Self {
            service_id,
            secret,
            cache: Mutex::new(None),
        })
    }

    /// The service id, sent as the token's `iss`.
    pub fn service_id(&self) -> &str {
        &self.service_id
    }

    /// The token to use at `now`: the cached one while it has more than
    /// [`JWT_REFRESH_MARGIN`] left, else a freshly minted one.
    ///
    /// Taking the time as an argument lets tests check the refresh without waiting an hour.
    pub fn token_at(&self, now: SystemTime) -> String {
        self.cached_at(now).token
    }

    /// Drops the cached token, so the next request mints a new one.
    ///
    /// Call it when the platform refuses the token (7001 "Authentication failed", HTTP 401):
    /// a cached token that was refused would otherwise be sent again until it expires. A
    /// token minted in the same second has the same claims, so this helps when the refused
    /// token was stale (minted before the secret was rotated, or with a skewed clock), not
    /// when the secret itself is wrong.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use webex_connect_whatsapp::client::JwtCredentials;
    ///
    /// let jwt = JwtCredentials::new("service-1", "c2VjcmV0")?;
    /// let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let first = jwt.token_at(start);
    /// let later = start + Duration::from_secs(60);
    /// assert_eq!(jwt.token_at(later), first); // still cached
    /// jwt.invalidate();
    /// assert_ne!(jwt.token_at(later), first); // minted anew, with a later `iat`
    /// # Ok::<(), webex_connect_whatsapp::client::Error>(())
    /// ```
    pub fn invalidate(&self) {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.take().is_some() {
            tracing::debug!(service_id = %self.service_id, "cached JWT dropped; the next request mints a new one");
        }
    }

    pub(crate) fn header_at(&self, now: SystemTime) -> HeaderValue {
        self.cached_at(now).header
    }

    fn cached_at(&self, now: SystemTime) -> CachedToken {
        let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        // A poisoned lock only means another thread panicked mid-refresh; the cache is still a
        // plain value, so keep using it.
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(cached) = cache.as_ref()
            && cached
                .expires_at
                .saturating_sub(JWT_REFRESH_MARGIN.as_secs())
                > now_secs
        {
            return cached.clone();
        }
        let fresh = self.mint(now_secs);
        *cache = Some(fresh.clone());
        fresh
    }

    fn mint(&self, iat: u64) -> CachedToken {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let exp = iat.saturating_add(JWT_LIFETIME.as_secs());
        let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = serde_json::json!({ "iss": self.service_id, "iat": iat, "exp": exp });
        let claims = b64.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let signature = hmac_sha256(&self.secret, signing_input.as_bytes());
        let token = format!("{signing_input}.{}", b64.encode(signature));
        // The token is base64url and dots only, so it is always a valid header value.
        let mut header = HeaderValue::from_str(&format!("Bearer {token}"))
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
        header.set_sensitive(true);
        CachedToken {
            token,
            header,
            expires_at: exp,
        }
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail; fall back to an empty tag regardless.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

impl fmt::Debug for JwtCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtCredentials")
            .field("service_id", &self.service_id)
            .field("service_secret", &"***")
            .finish_non_exhaustive()
    }
}

impl Clone for JwtCredentials {
    fn clone(&self) -> Self {
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        Self {
            service_id: self.service_id.clone(),
            secret: self.secret.clone(),
            cache: Mutex::new(cache),
        }
    }
}

/// Which credentials a [`Client`](super::Client) sends.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// A service key in the `key` header.
    ServiceKey(ServiceKey),
    /// A JWT in `Authorization: Bearer`; when both are configured the platform uses the JWT.
    Jwt(JwtCredentials),
}

impl From<ServiceKey> for Credentials {
    fn from(value: ServiceKey) -> Self {
        Self::ServiceKey(value)
    }
}

impl From<JwtCredentials> for Credentials {
    fn from(value: JwtCredentials) -> Self {
        Self::Jwt(value)
    }
}

impl Credentials {
    /// Drops any cached token, so the next request carries a freshly minted one; see
    /// [`JwtCredentials::invalidate`]. A service key has nothing cached, so this does nothing
    /// for it.
    ///
    /// ```
    /// use webex_connect_whatsapp::client::{Credentials, JwtCredentials};
    ///
    /// let credentials = Credentials::from(JwtCredentials::new("service-1", "c2VjcmV0")?);
    /// credentials.invalidate();
    /// # Ok::<(), webex_connect_whatsapp::client::Error>(())
    /// ```
    pub fn invalidate(&self) {
        match self {
            Self::ServiceKey(_) => {}
            Self::Jwt(jwt) => jwt.invalidate(),
        }
    }

    pub(crate) fn apply(&self, headers: &mut reqwest::header::HeaderMap) {
        match self {
            Self::ServiceKey(key) => {
                headers.insert("key", key.header().clone());
            }
            Self::Jwt(jwt) => {
                headers.insert(
                    reqwest::header::AUTHORIZATION,
                    jwt.header_at(SystemTime::now()),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    const SECRET: &str = "c2VjcmV0"; // base64 of "secret"

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn iat(token: &str) -> u64 {
        let claims = token.split('.').nth(1).unwrap();
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&claims).unwrap();
        claims["iat"].as_u64().unwrap()
    }

    #[test]
    fn invalidate_makes_the_next_request_mint_a_new_token() {
        let jwt = JwtCredentials::new("service-1", SECRET).unwrap();
        let first = jwt.token_at(at(1_700_000_000));
        assert_eq!(iat(&first), 1_700_000_000);
        // Without invalidation the cached token is reused for most of its hour.
        assert_eq!(jwt.token_at(at(1_700_000_600)), first);
        jwt.invalidate();
        let second = jwt.token_at(at(1_700_000_600));
        assert_ne!(second, first);
        assert_eq!(iat(&second), 1_700_000_600);
        // The new token is cached in turn.
        assert_eq!(jwt.token_at(at(1_700_000_700)), second);
        // Dropping an empty cache is harmless.
        jwt.invalidate();
        jwt.invalidate();
        assert_eq!(iat(&jwt.token_at(at(1_700_000_800))), 1_700_000_800);
    }

    #[test]
    fn credentials_invalidate_reaches_the_jwt_cache_and_spares_a_key() {
        let jwt = JwtCredentials::new("service-1", SECRET).unwrap();
        let first = jwt.token_at(at(1_700_000_000));
        let credentials = Credentials::Jwt(jwt);
        credentials.invalidate();
        let Credentials::Jwt(jwt) = &credentials else {
            unreachable!()
        };
        assert_ne!(jwt.token_at(at(1_700_000_060)), first);

        let key = Credentials::ServiceKey(ServiceKey::new("k-1").unwrap());
        key.invalidate();
        let mut headers = reqwest::header::HeaderMap::new();
        key.apply(&mut headers);
        assert_eq!(headers["key"], "k-1");
    }

    #[test]
    fn a_clone_keeps_its_own_cache() {
        let jwt = JwtCredentials::new("service-1", SECRET).unwrap();
        let first = jwt.token_at(at(1_700_000_000));
        let copy = jwt.clone();
        jwt.invalidate();
        assert_eq!(copy.token_at(at(1_700_000_060)), first);
    }
}
