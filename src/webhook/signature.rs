//! Webhook signatures (`x-hub-signature`): check that a call really came from Webex Connect.
//!
//! With "Hub Signature" enabled on an Outbound Webhook, Webex Connect sends the hex HMAC
//! (SHA-256 or SHA-512, chosen per webhook) of the raw body, keyed by the webhook's secret.
//! Verify it over the body bytes exactly as received, before parsing. Framework-free: any
//! header collection of `(name, value)` pairs works, `&http::HeaderMap` included.
//!
//! Webex Connect still offers HMAC-SHA1 as a legacy choice. A SHA-1 signature (40 hex
//! digits, or a `sha1=` prefix) is refused with [`SignatureError::LegacySha1NotAllowed`]
//! unless the crate's `legacy-sha1` feature is enabled *and* you opt in with
//! `VerifyOptions::allow_legacy_sha1` (or `ReceiverBuilder::allow_legacy_sha1`): better to
//! switch the webhook to SHA-256 than to accept it. Without the feature the `sha1` crate is
//! not compiled at all.
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
#[cfg(feature = "legacy-sha1")]
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
    /// algorithm this receiver was not configured to accept. Without the crate's
    /// `legacy-sha1` feature, SHA-1 is always refused.
    #[error(
        "the x-hub-signature is HMAC-SHA1, a legacy algorithm that is refused by default: set \
         the webhook's Hub Signature to SHA-256 or SHA-512 in Webex Connect, or enable the \
         webex-connect-whatsapp feature legacy-sha1 and accept SHA-1 explicitly with \
         ReceiverBuilder::allow_legacy_sha1() (VerifyOptions::allow_legacy_sha1 for \
         signature::verify_with)"
    )]
    LegacySha1NotAllowed,
}

/// The HMAC hash a webhook is configured with.
///
/// ```
/// use webex_connect_whatsapp::webhook::signature::SignatureAlgorithm;
/// assert_eq!(SignatureAlgorithm::Sha512.hex_len(), 128);
/// assert_eq!(SignatureAlgorithm::Sha256.prefix(), "sha256=");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// HMAC-SHA1 (40 hex digits): legacy, accepted only with
    /// [`VerifyOptions::allow_legacy_sha1`]. Exists only with the `legacy-sha1` feature,
    /// so that nothing can ask for a SHA-1 signature the crate cannot compute.
    ///
    /// ```
    /// use webex_connect_whatsapp::webhook::signature::SignatureAlgorithm;
    /// assert_eq!(SignatureAlgorithm::Sha1.hex_len(), 40);
    /// ```
    #[cfg(feature = "legacy-sha1")]
    #[cfg_attr(docsrs, doc(cfg(feature = "legacy-sha1")))]
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
    /// # use webex_connect_whatsapp::webhook::signature::SignatureAlgorithm;
    /// assert_eq!(SignatureAlgorithm::Sha256.hex_len(), 64);
    /// ```
    pub const fn hex_len(self) -> usize {
        match self {
            #[cfg(feature = "legacy-sha1")]
            Self::Sha1 => 40,
            Self::Sha256 => 64,
            Self::Sha512 => 128,
        }
    }

    /// The optional prefix naming it in a header value (`sha1=`, `sha256=` or `sha512=`).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::signature::SignatureAlgorithm;
    /// assert_eq!(SignatureAlgorithm::Sha512.prefix(), "sha512=");
    /// ```
    pub const fn prefix(self) -> &'static str {
        match self {
            #[cfg(feature = "legacy-sha1")]
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
/// use webex_connect_whatsapp::webhook::signature::WebhookSecret;
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
    /// # use webex_connect_whatsapp::webhook::signature::WebhookSecret;
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
    /// # use webex_connect_whatsapp::webhook::signature::WebhookSecret;
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
        #[cfg(feature = "legacy-sha1")]
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
/// Its only option, `allow_legacy_sha1`, needs the `legacy-sha1` feature;
/// without it the default (SHA-256 and SHA-512 only) is all there is.
///
/// ```
/// use webex_connect_whatsapp::webhook::signature::VerifyOptions;
/// assert!(!VerifyOptions::default().legacy_sha1_allowed());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[must_use]
pub struct VerifyOptions {
    legacy_sha1: bool,
}

impl VerifyOptions {
    crate::setters::setters! {
        /// Also accepts HMAC-SHA1 signatures (40 hex digits, or the `sha1=` prefix), for a
        /// webhook still configured with Webex Connect's legacy algorithm. SHA-1 is weaker:
        /// prefer switching the webhook to SHA-256.
        ///
        /// ```
        /// use webex_connect_whatsapp::webhook::signature::{self, SignatureAlgorithm, SignatureError, VerifyOptions, WebhookSecret};
        /// let secret = WebhookSecret::new("s3cret")?;
        /// let sig = signature::sign(SignatureAlgorithm::Sha1, &secret, b"{}");
        /// let headers = [("x-hub-signature", sig.as_str())];
        /// assert_eq!(signature::verify(headers, b"{}", &secret), Err(SignatureError::LegacySha1NotAllowed));
        ///
        /// let legacy = VerifyOptions::default().allow_legacy_sha1();
        /// assert!(legacy.legacy_sha1_allowed());
        /// assert_eq!(signature::verify_with(headers, b"{}", &secret, legacy)?, SignatureAlgorithm::Sha1);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        #[cfg(feature = "legacy-sha1")]
        #[cfg_attr(docsrs, doc(cfg(feature = "legacy-sha1")))]
        fn allow_legacy_sha1(self) => self.legacy_sha1 = true;
    }

    /// Whether HMAC-SHA1 signatures are accepted (never without the `legacy-sha1` feature).
    pub fn legacy_sha1_allowed(self) -> bool {
        self.legacy_sha1
    }
}

/// [`verify`] with [`VerifyOptions`], for example to accept legacy SHA-1 signatures (feature
/// `legacy-sha1`, see `VerifyOptions::allow_legacy_sha1`).
///
/// ```
/// use webex_connect_whatsapp::webhook::signature::{self, SignatureAlgorithm, SignatureError, VerifyOptions, WebhookSecret};
/// let secret = WebhookSecret::new("s3cret")?;
/// let sig = signature::sign(SignatureAlgorithm::Sha512, &secret, b"{}");
/// let options = VerifyOptions::default();
/// assert_eq!(
///     signature::verify_with([("x-hub-signature", &sig)], b"{}", &secret, options)?,
///     SignatureAlgorithm::Sha512
/// );
/// // 40 hex digits are a legacy SHA-1 signature: refused unless allowed.
/// let sha1 = "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79";
/// assert_eq!(
///     signature::verify_with([("x-hub-signature", sha1)], b"{}", &secret, options),
///     Err(SignatureError::LegacySha1NotAllowed)
/// );
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

/// [`verify_value`] with [`VerifyOptions`]: with `VerifyOptions::allow_legacy_sha1`
/// (feature `legacy-sha1`), 40 hex digits (or `sha1=`) are checked as HMAC-SHA1.
///
/// ```
/// use webex_connect_whatsapp::webhook::signature::{self, SignatureAlgorithm, SignatureError, VerifyOptions, WebhookSecret};
/// let secret = WebhookSecret::new("s3cret")?;
/// let sig = format!("sha256={}", signature::sign(SignatureAlgorithm::Sha256, &secret, b"body"));
/// let options = VerifyOptions::default();
/// assert_eq!(signature::verify_value_with(&sig, b"body", &secret, options)?, SignatureAlgorithm::Sha256);
/// assert_eq!(
///     signature::verify_value_with("sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", b"body", &secret, options),
///     Err(SignatureError::LegacySha1NotAllowed)
/// );
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
        40 => Named::LegacySha1,
        64 => Named::Algorithm(SignatureAlgorithm::Sha256),
        128 => Named::Algorithm(SignatureAlgorithm::Sha512),
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
    // Refused before any comparison, so a wrong SHA-1 gets the same answer as a right one.
    let algorithm = match algorithm {
        Named::Algorithm(algorithm) => algorithm,
        Named::LegacySha1 => legacy_sha1(options)?,
    };
    let expected = hex::decode(hex_part)
        .map_err(|e| malformed(format!("the signature is not hexadecimal: {e}")))?;
    let verified =
        match algorithm {
            #[cfg(feature = "legacy-sha1")]
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

/// What a header value says it is, before the options decide whether that is accepted. SHA-1
/// is recognised in every build, so that it is refused as legacy rather than as malformed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Named {
    LegacySha1,
    Algorithm(SignatureAlgorithm),
}

impl Named {
    fn hex_len(self) -> usize {
        match self {
            Self::LegacySha1 => 40,
            Self::Algorithm(algorithm) => algorithm.hex_len(),
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Self::LegacySha1 => "sha1=",
            Self::Algorithm(algorithm) => algorithm.prefix(),
        }
    }
}

#[cfg(feature = "legacy-sha1")]
fn legacy_sha1(options: VerifyOptions) -> Result<SignatureAlgorithm, SignatureError> {
    if options.legacy_sha1 {
        Ok(SignatureAlgorithm::Sha1)
    } else {
        Err(SignatureError::LegacySha1NotAllowed)
    }
}

/// Without the `legacy-sha1` feature there is no SHA-1 to check with.
#[cfg(not(feature = "legacy-sha1"))]
fn legacy_sha1(_options: VerifyOptions) -> Result<SignatureAlgorithm, SignatureError> {
    Err(SignatureError::LegacySha1NotAllowed)
}

fn malformed(reason: String) -> SignatureError {
    SignatureError::Malformed { reason }
}

/// Splits an optional `<algorithm>=` prefix off a header value.
fn split_prefix(value: &str) -> Result<(Option<Named>, &str), SignatureError> {
    let Some((name, rest)) = value.split_once('=') else {
        return Ok((None, value));
    };
    let algorithm = if name.trim().eq_ignore_ascii_case("sha1") {
        Named::LegacySha1
    } else if name.trim().eq_ignore_ascii_case("sha256") {
        Named::Algorithm(SignatureAlgorithm::Sha256)
    } else if name.trim().eq_ignore_ascii_case("sha512") {
        Named::Algorithm(SignatureAlgorithm::Sha512)
    } else {
        let shown: String = name.chars().take(16).collect();
        return Err(malformed(format!(
            "the prefix {shown:?} is not supported; only sha256= and sha512= are (and sha1= when legacy SHA-1 is allowed)"
        )));
    };
    Ok((Some(algorithm), rest.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2202 test case 2: HMAC-SHA1 with key "Jefe" over "what do ya want for nothing?".
    const SHA1: &str = "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79";
    const DATA: &[u8] = b"what do ya want for nothing?";

    fn secret() -> Result<WebhookSecret, SignatureError> {
        WebhookSecret::new("Jefe")
    }

    #[test]
    fn sha1_is_refused_by_default_in_every_build() -> Result<(), SignatureError> {
        for value in [
            SHA1.to_owned(),
            format!("sha1={SHA1}"),
            format!("SHA1={SHA1}"),
        ] {
            assert_eq!(
                verify_value(&value, DATA, &secret()?),
                Err(SignatureError::LegacySha1NotAllowed),
                "{value}"
            );
        }
        Ok(())
    }

    #[test]
    fn the_refusal_names_the_feature_and_the_option() {
        let text = SignatureError::LegacySha1NotAllowed.to_string();
        assert!(text.contains("feature legacy-sha1"), "{text}");
        assert!(text.contains("allow_legacy_sha1"), "{text}");
        assert!(text.contains("SHA-256"), "{text}");
    }

    #[test]
    fn a_sha1_prefix_on_another_length_is_malformed_in_every_build() -> Result<(), SignatureError> {
        let err = verify_value(format!("sha1={}", "a".repeat(64)), DATA, &secret()?);
        assert!(
            matches!(&err, Err(SignatureError::Malformed { reason }) if reason.contains("\"sha1=\" needs 40")),
            "{err:?}"
        );
        Ok(())
    }

    /// Without the feature no option can turn SHA-1 on, and the options say so.
    #[cfg(not(feature = "legacy-sha1"))]
    #[test]
    fn without_the_feature_sha1_is_never_accepted() -> Result<(), SignatureError> {
        let options = VerifyOptions::default();
        assert!(!options.legacy_sha1_allowed());
        assert_eq!(
            verify_value_with(SHA1, DATA, &secret()?, options),
            Err(SignatureError::LegacySha1NotAllowed)
        );
        Ok(())
    }

    #[cfg(feature = "legacy-sha1")]
    #[test]
    fn with_the_feature_sha1_is_accepted_once_allowed() -> Result<(), SignatureError> {
        let legacy = VerifyOptions::default().allow_legacy_sha1();
        assert_eq!(sign(SignatureAlgorithm::Sha1, &secret()?, DATA), SHA1);
        assert_eq!(
            verify_value_with(SHA1, DATA, &secret()?, legacy),
            Ok(SignatureAlgorithm::Sha1)
        );
        Ok(())
    }
}
