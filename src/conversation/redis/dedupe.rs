//! [`DedupeStore`] on Redis: a key per event holding a claim (`p:<owner>`) while it is handled
//! and a done mark once it was, each change one script.

use std::time::Duration;

use super::connection::backend;
use super::store::{RedisConnection, RedisStore, corrupt};
use crate::conversation::store::{Claim, DedupeStore, StoreError, ttl_millis};

/// Claims KEYS[1] for ARGV[1] (`p:<owner>`) for ARGV[2] ms unless it holds a claim or a
/// done mark, and says which it found.
const CLAIM_LUA: &str = r"
local cur = redis.call('GET', KEYS[1])
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 'claimed'
end
if string.sub(cur, 1, 2) == 'p:' then return 'pending' end
return 'done'
";

/// Deletes KEYS[1] only if it holds ARGV[1] (`p:<owner>`): undoes our own claim, never
/// another's and never a done mark.
const RELEASE_OWN_LUA: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// What a dedupe mark holds while `owner` handles its event.
fn pending_value(owner: &str) -> String {
    format!("p:{owner}")
}

/// What a dedupe mark holds once its event was handled. Any value that does not start with
/// `p:` counts as done, including the tokens earlier versions wrote.
const DONE_VALUE: &str = "d";

impl<C: RedisConnection> DedupeStore for RedisStore<C> {
    async fn claim(&self, key: &str, owner: &str, lease: Duration) -> Result<Claim, StoreError> {
        let key = self.key("seen", key);
        let lease = ttl_millis(lease);
        let pending = pending_value(owner);
        let mut conn = self.conn.clone();
        let lease = lease?;
        // One script, so the check and the claim are one atomic step on the server: of
        // any number of racing instances, exactly one gets "claimed".
        let found: Result<String, _> = redis::cmd("EVAL")
            .arg(CLAIM_LUA)
            .arg(1)
            .arg(&key)
            .arg(&pending)
            .arg(lease)
            .query_async(&mut conn)
            .await;
        match found {
            Ok(found) => match found.as_str() {
                "claimed" => Ok(Claim::Claimed),
                "pending" => Ok(Claim::Pending),
                "done" => Ok(Claim::Done),
                _ => Err(corrupt(
                    "dedupe-mark claim reply",
                    "not claimed, pending or done",
                )),
            },
            Err(err) => {
                // The reply may be lost after the server applied the claim (see the
                // module docs): undo our own claim, best effort, so the retry counts as
                // new. The claim's error is the one worth reporting, so this one is
                // dropped.
                let _undone: Result<i64, _> = redis::cmd("EVAL")
                    .arg(RELEASE_OWN_LUA)
                    .arg(1)
                    .arg(&key)
                    .arg(&pending)
                    .query_async(&mut conn)
                    .await;
                Err(backend(err))
            }
        }
    }

    async fn complete(&self, key: &str, ttl: Duration) -> Result<(), StoreError> {
        let key = self.key("seen", key);
        let ttl = ttl_millis(ttl);
        let mut conn = self.conn.clone();
        let ttl = ttl?;
        redis::cmd("SET")
            .arg(&key)
            .arg(DONE_VALUE)
            .arg("PX")
            .arg(ttl)
            .query_async::<()>(&mut conn)
            .await
            .map_err(backend)
    }

    async fn release(&self, key: &str, owner: &str) -> Result<bool, StoreError> {
        let key = self.key("seen", key);
        let pending = pending_value(owner);
        let mut conn = self.conn.clone();
        let deleted: i64 = redis::cmd("EVAL")
            .arg(RELEASE_OWN_LUA)
            .arg(1)
            .arg(&key)
            .arg(&pending)
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        Ok(deleted > 0)
    }
}
