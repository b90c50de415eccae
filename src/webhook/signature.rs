//! Webhook signatures (`x-hub-signature`): check that a call really came from Webex Connect.
//!
//! With "Hub Signature" enabled on an Outbound Webhook, Webex Connect sends the hex HMAC
//! (SHA-256 or SHA-512, chosen per webhook) of the raw body, keyed by the webhook's secret.
//! Verify it over the body bytes exactly as received, before parsing. Framework-free: any
//! header collection of `(name, value)` pairs works, `&http::HeaderMap` included.
//!
//! Webex Connect still offers HMAC-SHA1 as a legacy choice. A SHA-1 signature (40 hex
//! digits) is refused with [`SignatureError::LegacySha1NotAllowed`] unless you opt in with
//! [`VerifyOptions::allow_legacy_sha1`] (or
//! [`ReceiverBuilder::allow_legacy_sha1`](crate::receiver::ReceiverBuilder::allow_legacy_sha1)):
//! better to switch the webhook to SHA-256 than to accept it.
//!
//! ```
//! use webex_connect_whatsapp::webhook::signature::{self, SignatureAlgorithm, WebhookSecret};
//!
//! let secret = WebhookSecret::new("my webhook secret")?;
//! let body = br#"{"event":"MO","waid":"9199xxxxxxxx","message":"Hello"}"#;
//! let header = signature::sign(SignatureAlgorithm::Sha256, &secret, body);
//!
//! let headers = [("X-Hub-Signature", header.as_str())];
//! assert_eq!(signature::verify(headers, body, &secret)?, SignatureAlgorithm::Sha256);
//! assert!(signature::verify([("x-hub-signature", header.as_str())], b"{}", &secret).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

/// The header that carries the signature (matched in any letter case).
pub const HEADER: &str = "x-hub-signature";

/// Why a signature check failed. Never contains the secret.
///
/// ```
/// use webex_connect_whatsapp::webhook::signature::{self, SignatureError, WebhookSecret};
/// let secret = WebhookSecret::new("s")?;
/// let none: [(&str, &str); 0] = [];
/// assert_eq!(signature::verify(none, b"{}", &secret), Err(SignatureError::Missing));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// No `x-hub-signature` header.
    #[error("the x-hub-signature header is missing")]
    Missing,
    /// The header is not a hex HMAC-SHA256 or HMAC-SHA512.
    #[error("the x-hub-signature header is malformed: {reason}")]
    Malformed {
        /// What was wrong (the value itself is not repeated).
        reason: String,
    },
    /// The signature does not match the body and secret.
    #[error("the x-hub-signature does not match the body")]
    Mismatch,
    /// The secret given was empty (or only whitespace).
    #[error("the webhook secret must not be empty")]
    EmptySecret,
    /// The signature is an HMAC-SHA1 (40 hex digits or a `sha1=` prefix), a legacy
    /// algorithm this receiver was not configured to accept.
    #[error(
        "the x-hub-signature is HMAC-SHA1, a legacy algorithm that is refused by default: set \
         the webhook's Hub Signature to SHA-256 or SHA-512 in Webex Connect, or accept SHA-1 \
         explicitly with ReceiverBuilder::allow_legacy_sha1() (VerifyOptions::allow_legacy_sha1 \
         for signature::verify_with)"
    )]
    LegacySha1NotAllowed,
}

/// The HMAC hash a webhook is configured with.
///
/// ```
/// use webex_connect_whatsapp::webhook::SignatureAlgorithm;
/// assert_eq!(SignatureAlgorithm::Sha512.hex_len(), 128);
/// assert_eq!(SignatureAlgorithm::Sha256.prefix(), "sha256=");
/// assert_eq!(SignatureAlgorithm::Sha1.hex_len(), 40);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// HMAC-SHA1 (40 hex digits): legacy, accepted only with
    /// [`VerifyOptions::allow_legacy_sha1`].
    Sha1,
    /// HMAC-SHA256 (64 hex digits).
    Sha256,
    /// HMAC-SHA512 (128 hex digits).
    Sha512,
}

impl SignatureAlgorithm {
    /// The length of its signature in hex digits.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::SignatureAlgorithm;
    /// assert_eq!(SignatureAlgorithm::Sha256.hex_len(), 64);
    /// ```
    pub const fn hex_len(self) -> usize {
        match self {
            Self::Sha1 => 40,
            Self::Sha256 => 64,
            Self::Sha512 => 128,
        }
    }

    /// The optional prefix naming it in a header value (`sha1=`, `sha256=` or `sha512=`).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::SignatureAlgorithm;
    /// assert_eq!(SignatureAlgorithm::Sha512.prefix(), "sha512=");
    /// ```
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1=",
            Self::Sha256 => "sha256=",
            Self::Sha512 => "sha512=",
        }
    }
}

/// The secret of an Outbound Webhook. `Debug` and `Display` print `***`.
///
/// [`WebhookSecret::new`] trims surrounding whitespace, as the service key does: a secret
/// read from a file or an environment variable often ends with a newline, which would make
/// every signature mismatch.
///
/// ```
/// use webex_connect_whatsapp::webhook::WebhookSecret;
/// let secret = WebhookSecret::new("hunter2")?;
/// assert_eq!(format!("{secret:?} {secret}"), "WebhookSecret(***) ***");
/// assert_eq!(WebhookSecret::new(" hunter2\n")?, secret);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// Wraps a secret as typed in Webex Connect, without surrounding whitespace.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::WebhookSecret;
    /// assert!(WebhookSecret::new("").is_err());
    /// assert!(WebhookSecret::new(" \n").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`SignatureError::EmptySecret`] for an empty (or all-whitespace) secret.
    pub fn new(secret: impl Into<String>) -> Result<Self, SignatureError> {
        let secret = secret.into();
        Self::from_bytes(secret.trim().as_bytes().to_vec())
    }

    /// Wraps a secret given as bytes, exactly as given (binary keys may legitimately start
    /// or end with whitespace bytes; use [`WebhookSecret::new`] for a typed secret).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::WebhookSecret;
    /// assert!(WebhookSecret::from_bytes(vec![0x0b; 20]).is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// [`SignatureError::EmptySecret`] for an empty secret.
    pub fn from_bytes(secret: impl Into<Vec<u8>>) -> Result<Self, SignatureError> {
        let secret = secret.into();
        if secret.is_empty() {
            return Err(SignatureError::EmptySecret);
        }
        Ok(Self(secret))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

impl fmt::Display for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Computes the signature Webex Connect would send for `body`: lowercase hex, no prefix.
///
/// For the sandbox and for testing your own receiver.
///
/// ```
/// use webex_connect_whatsapp::webhook::signature::{sign, SignatureAlgorithm, WebhookSecret};
/// let sig = sign(SignatureAlgorithm::Sha256, &WebhookSecret::new("key")?,
///     b"The quick brown fox jumps over the lazy dog");
/// assert_eq!(sig, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sign(algorithm: SignatureAlgorithm, secret: &WebhookSecret, body: &[u8]) -> String {
    match algorithm {
        SignatureAlgorithm::Sha1 => {
            mac::<Hmac<Sha1>>(secret, body).map(|m| hex::encode(m.finalize().into_bytes()))
        }
        SignatureAlgorithm::Sha256 => {
            mac::<Hmac<Sha256>>(secret, body).map(|m| hex::encode(m.finalize().into_bytes()))
        }
        SignatureAlgorithm::Sha512 => {
            mac::<Hmac<Sha512>>(secret, body).map(|m| hex::encode(m.finalize().into_bytes()))
        }
    }
    // HMAC takes keys of any length, so the key is never refused and this is never empty.
    .unwrap_or_default()
}

fn mac<M: Mac + hmac::digest::KeyInit>(secret: &WebhookSecret, body: &[u8]) -> Option<M> {
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(&secret.0).ok()?;
    mac.update(body);
    Some(mac)
}

/// Finds the `x-hub-signature` header (any letter case) and checks it against the raw body.
///
/// `headers` is any collection of `(name, value)` pairs: `&http::HeaderMap`, a slice of
/// `(&str, &str)`, and so on. The first matching header is used.
///
/// ```
/// use webex_connect_whatsapp::webhook::signature::{self, SignatureAlgorithm, WebhookSecret};
/// let secret = WebhookSecret::new("s3cret")?;
/// let body = b"{}";
/// let sig = format!("sha512={}", signature::sign(SignatureAlgorithm::Sha512, &secret, body));
/// let algorithm = signature::verify(vec![("content-type", "application/json"), ("X-HUB-SIGNATURE", &sig)], body, &secret)?;
/// assert_eq!(algorithm, SignatureAlgorithm::Sha512);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`SignatureError::Missing`] without the header, otherwise as [`verify_value`].
pub fn verify<I, K, V>(
    headers: I,
    raw_body: &[u8],
    secret: &WebhookSecret,
) -> Result<SignatureAlgorithm, SignatureError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<[u8]>,
{
    verify_with(headers, raw_body, secret, VerifyOptions::default())
}

/// What a signature check accepts beyond SHA-256 and SHA-512.
///
/// ```
/// use webex_connect_whatsapp::webhook::signature::VerifyOptions;
/// assert!(!VerifyOptions::default().legacy_sha1_allowed());
/// assert!(VerifyOptions::default().allow_legacy_sha1().legacy_sha1_allowed());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[must_use]
pub struct VerifyOptions {
    legacy_sha1: bool,
}

impl VerifyOptions {
    /// Also accepts HMAC-SHA1 signatures (40 hex digits, or the `sha1=` prefix), for a
    /// webhook still configured with Webex Connect's legacy algorithm. SHA-1 is weaker:
    /// prefer switching the webhook to SHA-256.
    pub fn allow_legacy_sha1(mut self) -> Self {
        self.legacy_sha1 = true;
        self
    }

    /// Whether HMAC-SHA1 signatures are accepted.
    pub fn legacy_sha1_allowed(self) -> bool {
        self.legacy_sha1
    }
}

/// [`verify`] with [`VerifyOptions`], for example to accept legacy SHA-1 signatures.
///
/// ```
/// use webex_connect_whatsapp::webhook::signature::{self, SignatureAlgorithm, SignatureError, VerifyOptions, WebhookSecret};
/// let secret = WebhookSecret::new("s3cret")?;
/// let sig = signature::sign(SignatureAlgorithm::Sha1, &secret, b"{}");
/// let headers = [("x-hub-signature", sig.as_str())];
/// assert_eq!(signature::verify(headers, b"{}", &secret), Err(SignatureError::LegacySha1NotAllowed));
/// let legacy = VerifyOptions::default().allow_legacy_sha1();
/// assert_eq!(signature::verify_with(headers, b"{}", &secret, legacy)?, SignatureAlgorithm::Sha1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`SignatureError::Missing`] without the header, otherwise as [`verify_value_with`].
pub fn verify_with<I, K, V>(
    headers: I,
    raw_body: &[u8],
    secret: &WebhookSecret,
    options: VerifyOptions,
) -> Result<SignatureAlgorithm, SignatureError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<[u8]>,
{
    let value = headers
        .into_iter()
        .find(|(name, _)| name.as_ref().trim().eq_ignore_ascii_case(HEADER))
        .ok_or(SignatureError::Missing)?
        .1;
    verify_value_with(value, raw_body, secret, options)
}

/// Checks one `x-hub-signature` value against the raw body, in constant time.
///
/// Accepts lowercase or uppercase hex with an optional `sha256=`/`sha512=` prefix; without a
/// prefix the algorithm follows from the length (64 or 128 hex digits). Surrounding spaces
/// are ignored.
///
/// ```
/// use webex_connect_whatsapp::webhook::signature::{self, SignatureAlgorithm, WebhookSecret};
/// let secret = WebhookSecret::new("s3cret")?;
/// let sig = signature::sign(SignatureAlgorithm::Sha256, &secret, b"body");
/// assert_eq!(signature::verify_value(&sig, b"body", &secret)?, SignatureAlgorithm::Sha256);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`SignatureError::Malformed`] when the value is not hex of a valid length (or names
/// another algorithm), [`SignatureError::LegacySha1NotAllowed`] for a SHA-1 signature,
/// [`SignatureError::Mismatch`] when it does not match.
pub fn verify_value(
    header_value: impl AsRef<[u8]>,
    raw_body: &[u8],
    secret: &WebhookSecret,
) -> Result<SignatureAlgorithm, SignatureError> {
    verify_value_with(header_value, raw_body, secret, VerifyOptions::default())
}

/// [`verify_value`] with [`VerifyOptions`]: with
/// [`allow_legacy_sha1`](VerifyOptions::allow_legacy_sha1), 40 hex digits (or `sha1=`) are
/// checked as HMAC-SHA1.
///
/// ```
/// use webex_connect_whatsapp::webhook::signature::{self, SignatureAlgorithm, VerifyOptions, WebhookSecret};
/// let secret = WebhookSecret::new("s3cret")?;
/// let sig = format!("sha1={}", signature::sign(SignatureAlgorithm::Sha1, &secret, b"body"));
/// let legacy = VerifyOptions::default().allow_legacy_sha1();
/// assert_eq!(signature::verify_value_with(&sig, b"body", &secret, legacy)?, SignatureAlgorithm::Sha1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// As [`verify_value`]; [`SignatureError::LegacySha1NotAllowed`] only without the option.
pub fn verify_value_with(
    header_value: impl AsRef<[u8]>,
    raw_body: &[u8],
    secret: &WebhookSecret,
    options: VerifyOptions,
) -> Result<SignatureAlgorithm, SignatureError> {
    let value = std::str::from_utf8(header_value.as_ref())
        .map_err(|_| malformed("the value is not ASCII text".to_owned()))?
        .trim();
    let (named, hex_part) = split_prefix(value)?;
    let by_length = match hex_part.len() {
        40 => SignatureAlgorithm::Sha1,
        64 => SignatureAlgorithm::Sha256,
        128 => SignatureAlgorithm::Sha512,
        n => {
            return Err(malformed(format!(
                "the signature is {n} characters long, but it must be 64 (SHA-256) or 128 (SHA-512) hex digits{}",
                if options.legacy_sha1 {
                    ", or 40 (legacy SHA-1)"
                } else {
                    ""
                }
            )));
        }
    };
    let algorithm = match named {
        Some(named) if named != by_length => {
            return Err(malformed(format!(
                "the prefix {:?} needs {} hex digits, but there are {}",
                named.prefix(),
                named.hex_len(),
                hex_part.len()
            )));
        }
        _ => by_length,
    };
    if algorithm == SignatureAlgorithm::Sha1 && !options.legacy_sha1 {
        return Err(SignatureError::LegacySha1NotAllowed);
    }
    let expected = hex::decode(hex_part)
        .map_err(|e| malformed(format!("the signature is not hexadecimal: {e}")))?;
    let verified =
        match algorithm {
            SignatureAlgorithm::Sha1 => mac::<Hmac<Sha1>>(secret, raw_body)
                .is_some_and(|m| m.verify_slice(&expected).is_ok()),
            SignatureAlgorithm::Sha256 => mac::<Hmac<Sha256>>(secret, raw_body)
                .is_some_and(|m| m.verify_slice(&expected).is_ok()),
            SignatureAlgorithm::Sha512 => mac::<Hmac<Sha512>>(secret, raw_body)
                .is_some_and(|m| m.verify_slice(&expected).is_ok()),
        };
    if verified {
        Ok(algorithm)
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn malformed(reason: String) -> SignatureError {
    SignatureError::Malformed { reason }
}

/// Splits an optional `<algorithm>=` prefix off a header value.
fn split_prefix(value: &str) -> Result<(Option<SignatureAlgorithm>, &str), SignatureError> {
    let Some((name, rest)) = value.split_once('=') else {
        return Ok((None, value));
    };
    let algorithm = if name.trim().eq_ignore_ascii_case("sha1") {
        SignatureAlgorithm::Sha1
    } else if name.trim().eq_ignore_ascii_case("sha256") {
        SignatureAlgorithm::Sha256
    } else if name.trim().eq_ignore_ascii_case("sha512") {
        SignatureAlgorithm::Sha512
    } else {
        let shown: String = name.chars().take(16).collect();
        return Err(malformed(format!(
            "the prefix {shown:?} is not supported; only sha256= and sha512= are (and sha1= when legacy SHA-1 is allowed)"
        )));
    };
    Ok((Some(algorithm), rest.trim()))
}
