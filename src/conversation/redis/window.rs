//! [`WindowStore`] on Redis: one key per recipient holding its last inbound time and when it
//! may be dropped, updated by one script so a late inbound never moves a window backwards.

use time::OffsetDateTime;

use super::connection::backend;
use super::store::{RedisConnection, RedisStore, corrupt, from_micros, micros};
use crate::conversation::store::{InboundRecord, StoreError, WindowStore};

/// Keeps the later of the stored and the new inbound time, atomically.
/// KEYS[1] window key; ARGV[1] new time (µs); ARGV[2] TTL (ms); ARGV[3] new value.
const RECORD_WINDOW_LUA: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur then
  local at = tonumber(string.match(cur, '^(%-?%d+)'))
  if at and at >= tonumber(ARGV[1]) then return cur end
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
return ARGV[3]
";

/// Parses `"<at µs> <keep until µs>"`.
fn parse_window(value: &str) -> Result<(OffsetDateTime, OffsetDateTime), StoreError> {
    let mut parts = value.split(' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(at), Some(keep), None) => Ok((from_micros(at)?, from_micros(keep)?)),
        _ => Err(corrupt(
            "session window",
            "expected two timestamps separated by a space",
        )),
    }
}

impl<C: RedisConnection> WindowStore for RedisStore<C> {
    async fn record_inbound(
        &self,
        inbound: InboundRecord<'_>,
    ) -> Result<OffsetDateTime, StoreError> {
        let prepared = self.recipient_key("window", inbound.waid);
        let (at, keep_until, now) = (inbound.at, inbound.keep_until, inbound.now);
        let (key, mut conn) = prepared?;
        let ttl_ms = (keep_until - now).whole_milliseconds();
        if ttl_ms <= 0 {
            // Past its retention already: report the later of the two, store nothing.
            let current: Option<String> = redis::cmd("GET")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .map_err(backend)?;
            if let Some(current) = current {
                let (stored_at, stored_keep) = parse_window(&current)?;
                if stored_keep > now && stored_at >= at {
                    return Ok(stored_at);
                }
            }
            return Ok(at);
        }
        let value = format!("{} {}", micros(at), micros(keep_until));
        let stored: String = redis::cmd("EVAL")
            .arg(RECORD_WINDOW_LUA)
            .arg(1)
            .arg(&key)
            .arg(micros(at).to_string())
            .arg(ttl_ms.to_string())
            .arg(value)
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        Ok(parse_window(&stored)?.0)
    }

    async fn last_inbound(
        &self,
        waid: &str,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let value = self.query_recipient::<Option<String>>("window", waid, "GET", &[]);
        let Some(value) = value.await? else {
            return Ok(None);
        };
        let (at, keep_until) = parse_window(&value)?;
        Ok((keep_until > now).then_some(at))
    }

    async fn forget(&self, waid: &str) -> Result<bool, StoreError> {
        let prepared = self.erasure_ids(waid).map(|ids| {
            // One DEL per key, not one DEL of both: on Redis Cluster the two forms of an id
            // may live in different slots.
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.cmd("DEL").arg(self.key("window", id));
            }
            (pipe, self.conn.clone())
        });
        let (pipe, mut conn) = prepared?;
        let deleted: Vec<i64> = pipe.query_async(&mut conn).await.map_err(backend)?;
        Ok(deleted.iter().any(|&n| n > 0))
    }
}
