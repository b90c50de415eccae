//! Switching an existing store to hashed keys, or back: [`RedisStore::migrate_recipient_keys`]
//! moves every opt-in list and session window to the store's form of its recipient's id.

use super::connection::backend;
use super::keys::{HASHED_ID_MARKER, RecipientIds};
use super::optin::{parse_events, trim_consent};
use super::store::{RedisConnection, RedisStore};
use crate::conversation::optin::{ConsentEvent, MAX_CONSENT_EVENTS};
use crate::conversation::store::{StoreError, check_waid};

/// What [`RedisStore::migrate_recipient_keys`] did.
///
/// ```
/// use webex_connect_whatsapp::conversation::redis::KeyMigration;
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
    /// - Dedupe marks, fallbacks and the journal hold no recipient id in their keys: nothing
    ///   to move.
    ///
    /// Run it once every instance uses the new setting: an instance still on the old one
    /// keeps writing keys of the old form. It is safe to run while instances serve traffic,
    /// and to run again (a second run moves only what was written since). Meanwhile,
    /// [`OptInLedger::export`](crate::conversation::optin::OptInLedger::export) lists the
    /// lists of both forms, and an erasure deletes both forms of an id.
    ///
    /// ```no_run
    /// use webex_connect_whatsapp::conversation::redis::{KeyHashSecret, RedisStore};
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

    #[test]
    fn scan_patterns_match_the_prefix_literally() {
        assert_eq!(glob_escape("shop:wa:window:"), "shop:wa:window:");
        assert_eq!(glob_escape("{a*}?[b]\\:"), "{a\\*}\\?\\[b\\]\\\\:");
    }
}
