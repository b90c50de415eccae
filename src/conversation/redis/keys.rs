//! Recipient ids in key names: as they are, or as a keyed hash ([`KeyHashSecret`], see
//! [`RedisStore::with_hashed_keys`](super::RedisStore::with_hashed_keys)).

use std::borrow::Cow;
use std::fmt;

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// The shortest [`KeyHashSecret`] accepted, in bytes (after trimming). A recipient id is
/// easy to guess (a phone number has at most 15 digits), so a hash of it is only as private
/// as the secret is hard to guess: use 32 random bytes or more (`openssl rand -hex 32`).
pub const MIN_KEY_HASH_SECRET_BYTES: usize = 16;

/// How many hex digits of the HMAC-SHA256 a hashed key keeps: 32 (128 bits), enough that
/// two recipients never share a key in practice, and short enough to keep keys small.
pub const HASHED_ID_HEX_DIGITS: usize = 32;

/// What starts a hashed id in a key name (`<prefix>window:hmac:<32 hex digits>`), so a
/// hashed id is never taken for a recipient id and a store can tell the two forms apart.
pub(crate) const HASHED_ID_MARKER: &str = "hmac:";

/// Bound into every hash, so that the same secret used for something else (it should not
/// be) gives other digests there; `v1` names this construction, which must never change:
/// every stored key depends on it.
const CONTEXT: &[u8] = b"webex-connect-whatsapp redis recipient key v1\0";

/// The secret that turns recipient ids in Redis key names into a keyed hash
/// (HMAC-SHA256, [`HASHED_ID_HEX_DIGITS`] hex digits): give every instance that shares the
/// store the same secret, and keep it as safe as the data (whoever has it can test a
/// phone number against the keys).
///
/// Surrounding whitespace is trimmed (a secret read from a file often ends with a newline,
/// and two instances that disagree about it would not share state). `Debug` prints `***`.
///
/// ```
/// use webex_connect_whatsapp::conversation::redis::{KeyHashSecret, KeyHashSecretError};
/// let secret = KeyHashSecret::new("9c1f4e0b7a2d48e6b35f0c8a1d7e2f64")?;
/// assert_eq!(format!("{secret:?}"), "KeyHashSecret(***)");
/// assert_eq!(
///     KeyHashSecret::new("short\n").unwrap_err(),
///     KeyHashSecretError::TooShort { bytes: 5, min: 16 }
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct KeyHashSecret {
    /// The HMAC keyed once; each hash clones it.
    mac: Hmac<Sha256>,
}

/// Why a [`KeyHashSecret`] was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyHashSecretError {
    /// Shorter than [`MIN_KEY_HASH_SECRET_BYTES`] after trimming.
    #[error(
        "the key hash secret is {bytes} bytes long, but it must be at least {min} (use 32 random bytes or more, e.g. `openssl rand -hex 32`)"
    )]
    TooShort {
        /// Its length in bytes, after trimming surrounding whitespace.
        bytes: usize,
        /// [`MIN_KEY_HASH_SECRET_BYTES`].
        min: usize,
    },
}

impl KeyHashSecret {
    /// Takes the secret's bytes (a string works), trimmed of surrounding whitespace.
    ///
    /// # Errors
    ///
    /// [`KeyHashSecretError::TooShort`] below [`MIN_KEY_HASH_SECRET_BYTES`] bytes.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, KeyHashSecretError> {
        let secret = secret.as_ref().trim_ascii();
        let too_short = KeyHashSecretError::TooShort {
            bytes: secret.len(),
            min: MIN_KEY_HASH_SECRET_BYTES,
        };
        if secret.len() < MIN_KEY_HASH_SECRET_BYTES {
            return Err(too_short);
        }
        // HMAC takes a key of any length, so this never fails.
        let mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(secret)
            .map_err(|_| too_short)?;
        Ok(Self { mac })
    }

    /// `hmac:` and the first [`HASHED_ID_HEX_DIGITS`] hex digits of
    /// HMAC-SHA256(secret, context ‖ id).
    pub(crate) fn hash(&self, id: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(CONTEXT);
        mac.update(id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut hex = hex::encode(digest);
        hex.truncate(HASHED_ID_HEX_DIGITS);
        format!("{HASHED_ID_MARKER}{hex}")
    }
}

impl fmt::Debug for KeyHashSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHashSecret(***)")
    }
}

/// How a store writes recipient ids in its key names.
#[derive(Clone, Default)]
pub(crate) enum RecipientIds {
    /// As they are (the default).
    #[default]
    Plain,
    /// As a keyed hash.
    Hashed(KeyHashSecret),
}

impl RecipientIds {
    /// The form of `id` (already checked) in key names and the opt-in index.
    pub(crate) fn of<'a>(&self, id: &'a str) -> Cow<'a, str> {
        match self {
            Self::Plain => Cow::Borrowed(id),
            Self::Hashed(secret) => Cow::Owned(secret.hash(id)),
        }
    }

    pub(crate) fn is_hashed(&self) -> bool {
        matches!(self, Self::Hashed(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answers: every hashed key in every deployment depends on this construction, so
    /// a change to it (the context, the truncation, the marker) must fail here first.
    #[test]
    fn the_hash_is_stable() -> Result<(), KeyHashSecretError> {
        let secret = KeyHashSecret::new("0123456789abcdef-test-secret")?;
        assert_eq!(
            secret.hash("447400123456"),
            "hmac:ffb4fdca6ee37a5a7259c5c5b43f1572"
        );
        assert_eq!(
            secret.hash("US.13491208655302741918"),
            "hmac:0d3d8ab10824348132c85483f892cd84"
        );
        // Trimmed: a trailing newline from a file gives the same keys.
        let from_file = KeyHashSecret::new("0123456789abcdef-test-secret\n")?;
        assert_eq!(from_file.hash("447400123456"), secret.hash("447400123456"));
        let other = KeyHashSecret::new("0123456789abcdef-other-secret")?;
        assert_ne!(other.hash("447400123456"), secret.hash("447400123456"));
        Ok(())
    }

    #[test]
    fn plain_ids_stay_as_they_are() {
        assert_eq!(RecipientIds::Plain.of("447400123456"), "447400123456");
        assert!(!RecipientIds::Plain.is_hashed());
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            KeyHashSecret::new("  0123456789abcde  ").err(),
            Some(KeyHashSecretError::TooShort {
                bytes: 15,
                min: MIN_KEY_HASH_SECRET_BYTES
            })
        );
        assert!(KeyHashSecret::new("0123456789abcdef").is_ok());
    }
}
