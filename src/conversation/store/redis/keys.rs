//! Recipient ids in key names: as they are, or as a keyed hash ([`KeyHashSecret`], see
//! [`RedisStore::with_hashed_keys`](super::RedisStore::with_hashed_keys)).

use std::borrow::Cow;
use std::fmt;

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use super::{RedisConnection, RedisStore, backend, parse_events, trim_consent};
use crate::conversation::optin::{ConsentEvent, MAX_CONSENT_EVENTS};
use crate::conversation::store::{StoreError, check_waid};

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
/// use webex_connect_whatsapp::conversation::store::redis::{KeyHashSecret, KeyHashSecretError};
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

/// What [`RedisStore::migrate_recipient_keys`] did.
///
/// ```
/// use webex_connect_whatsapp::conversation::store::redis::KeyMigration;
/// let done = KeyMigration::default();
/// assert_eq!(done.opt_in_lists_left + done.windows_left, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KeyMigration {
    /// Opt-in lists moved to the store's form of their recipient's id (merged with the
    /// list already there, if any).
    pub opt_in_lists_moved: usize,
    /// Opt-in lists left where they are: unreadable, naming no single valid recipient, or
    /// changed by another instance each time they were read (run the migration again).
    /// [`OptInLedger::export`](crate::conversation::optin::OptInLedger::export) still
    /// lists them.
    pub opt_in_lists_left: usize,
    /// Session windows moved from a plain key to a hashed one.
    pub windows_moved: usize,
    /// Session windows left under a key of the other form: a hashed key in a store that no
    /// longer hashes (a hash cannot be turned back into an id), or a plain key that is not
    /// a valid recipient id. They expire with their retention; the recipient's next inbound
    /// message opens a window again.
    pub windows_left: usize,
}

/// Moves an opt-in list to another key if it still holds exactly the values read.
/// KEYS: old list, new list, index. ARGV: old member, new member, then the values read.
/// Returns the new list's length, or -1 when the old list changed since it was read. The
/// old events go first: the ones already under the new key were recorded after the switch.
const MOVE_OPT_INS_LUA: &str = r"
local old = redis.call('LRANGE', KEYS[1], 0, -1)
if #old ~= #ARGV - 2 then return -1 end
for i = 1, #old do
  if old[i] ~= ARGV[i + 2] then return -1 end
end
local new = redis.call('LRANGE', KEYS[2], 0, -1)
redis.call('DEL', KEYS[2])
for i = 1, #old do redis.call('RPUSH', KEYS[2], old[i]) end
for i = 1, #new do redis.call('RPUSH', KEYS[2], new[i]) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
return redis.call('LLEN', KEYS[2])
";

/// Moves a session window to another key, keeping its expiry, unless the window already
/// there is as late or later (as recording one would). KEYS: old key, new key. Returns 1
/// when the old key was there (and is now gone), 0 otherwise.
const MOVE_WINDOW_LUA: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
local cur = redis.call('GET', KEYS[2])
local at = tonumber(string.match(v, '^(%-?%d+)'))
local cur_at = cur and tonumber(string.match(cur, '^(%-?%d+)'))
if not (cur_at and at and cur_at >= at) then
  if ttl > 0 then
    redis.call('SET', KEYS[2], v, 'PX', ttl)
  else
    redis.call('SET', KEYS[2], v)
  end
end
redis.call('DEL', KEYS[1])
return 1
";

/// How often a list that another instance keeps changing is read again before it is left.
const MOVE_ATTEMPTS: usize = 3;

/// `text` with the characters `SCAN MATCH` reads as a pattern escaped.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The recipient every event of a list names, if they all name the same valid one.
fn one_recipient(events: &[ConsentEvent]) -> Option<&str> {
    let first = events.first()?.recipient();
    let same = events.iter().all(|e| e.recipient() == first);
    (same && check_waid(first).is_ok()).then_some(first)
}

impl<C: RedisConnection> RedisStore<C> {
    /// Moves the state written under the other form of recipient keys to this store's form,
    /// after [`with_hashed_keys`](Self::with_hashed_keys) was turned on (or its secret
    /// changed, or it was turned off): until then a store reads only keys of its own form,
    /// so the opt-ins recorded before the switch would read as never given.
    ///
    /// - **Opt-in lists** are moved in every direction (plain to hashed, one secret to
    ///   another, hashed back to plain): their events name their recipient, so each list's
    ///   right key is known. A list found under both keys is merged, the older key's events
    ///   first. Each move is one Lua script, and a list another instance changed since it
    ///   was read is read again.
    /// - **Session windows** are moved from plain keys to hashed ones. A hashed window in a
    ///   store that no longer hashes cannot be moved (the hash does not give the id back):
    ///   it is counted in [`KeyMigration::windows_left`] and expires with its retention.
    ///   After a change of secret, the windows under the old secret's hashes cannot be told
    ///   from this store's own and are neither moved nor counted: they expire the same way,
    ///   and each recipient's next inbound message opens a window again.
    ///   Windows are found with `SCAN` on the connection's server; on Redis Cluster, keys
    ///   on other nodes are not visited and expire the same way.
    /// - Seen keys, fallbacks and the journal hold no recipient id in their keys: nothing
    ///   to move.
    ///
    /// Run it once every instance uses the new setting: an instance still on the old one
    /// keeps writing keys of the old form. It is safe to run while instances serve traffic,
    /// and to run again (a second run moves only what was written since). Meanwhile,
    /// [`OptInLedger::export`](crate::conversation::optin::OptInLedger::export) lists the
    /// lists of both forms, and an erasure deletes both forms of an id.
    ///
    /// ```no_run
    /// use webex_connect_whatsapp::conversation::store::redis::{KeyHashSecret, RedisStore};
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = RedisStore::connect("redis://127.0.0.1:6379/")
    ///     .await?
    ///     .with_prefix("shop:wa:")
    ///     .with_hashed_keys(KeyHashSecret::new(std::env::var("WA_KEY_HASH_SECRET")?)?);
    /// let report = store.migrate_recipient_keys().await?;
    /// println!(
    ///     "{} opt-in lists and {} windows moved; {} lists left",
    ///     report.opt_in_lists_moved, report.windows_moved, report.opt_in_lists_left
    /// );
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the server fails; what was moved before stays moved,
    /// and running it again carries on.
    pub async fn migrate_recipient_keys(&self) -> Result<KeyMigration, StoreError> {
        let mut report = KeyMigration::default();
        self.migrate_opt_ins(&mut report).await?;
        self.migrate_windows(&mut report).await?;
        Ok(report)
    }

    async fn migrate_opt_ins(&self, report: &mut KeyMigration) -> Result<(), StoreError> {
        let index = self.optin_index();
        let mut conn = self.conn.clone();
        let members: Vec<String> = redis::cmd("SMEMBERS")
            .arg(&index)
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        for member in members {
            let old_key = self.key("optin", &member);
            let mut attempts = 0;
            loop {
                let values: Vec<String> = redis::cmd("LRANGE")
                    .arg(&old_key)
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut conn)
                    .await
                    .map_err(backend)?;
                if values.is_empty() {
                    // Erased meanwhile: nothing to move.
                    break;
                }
                let events = parse_events(&values).ok();
                let Some(recipient) = events.as_deref().and_then(one_recipient) else {
                    report.opt_in_lists_left += 1;
                    break;
                };
                let target = self.ids.of(recipient);
                if *target == *member {
                    break;
                }
                let new_key = self.key("optin", &target);
                let len: i64 = redis::cmd("EVAL")
                    .arg(MOVE_OPT_INS_LUA)
                    .arg(3)
                    .arg(&old_key)
                    .arg(&new_key)
                    .arg(&index)
                    .arg(&member)
                    .arg(target.as_ref())
                    .arg(&values)
                    .query_async(&mut conn)
                    .await
                    .map_err(backend)?;
                if len >= 0 {
                    report.opt_in_lists_moved += 1;
                    if usize::try_from(len).is_ok_and(|n| n > MAX_CONSENT_EVENTS) {
                        trim_consent(&mut conn, &new_key).await;
                    }
                    break;
                }
                attempts += 1;
                if attempts == MOVE_ATTEMPTS {
                    report.opt_in_lists_left += 1;
                    break;
                }
            }
        }
        Ok(())
    }

    async fn migrate_windows(&self, report: &mut KeyMigration) -> Result<(), StoreError> {
        let keys_start = self.key("window", "");
        let pattern = format!("{}*", glob_escape(&keys_start));
        let mut conn = self.conn.clone();
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            for key in keys {
                let Some(id) = key.strip_prefix(&keys_start) else {
                    continue;
                };
                let hashed = id.starts_with(HASHED_ID_MARKER);
                let secret = match &self.ids {
                    RecipientIds::Hashed(secret) if !hashed => secret,
                    RecipientIds::Plain if hashed => {
                        report.windows_left += 1;
                        continue;
                    }
                    // Already in this store's form (a hashed key does not tell which secret
                    // made it, so every hashed key counts as this store's).
                    RecipientIds::Hashed(_) | RecipientIds::Plain => continue,
                };
                if check_waid(id).is_err() {
                    report.windows_left += 1;
                    continue;
                }
                let moved: i64 = redis::cmd("EVAL")
                    .arg(MOVE_WINDOW_LUA)
                    .arg(2)
                    .arg(&key)
                    .arg(self.key("window", &secret.hash(id)))
                    .query_async(&mut conn)
                    .await
                    .map_err(backend)?;
                if moved > 0 {
                    report.windows_moved += 1;
                }
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
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
    fn scan_patterns_match_the_prefix_literally() {
        assert_eq!(glob_escape("shop:wa:window:"), "shop:wa:window:");
        assert_eq!(glob_escape("{a*}?[b]\\:"), "{a\\*}\\?\\[b\\]\\\\:");
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
