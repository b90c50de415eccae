//! [`OptInStore`] on Redis: a list of consent events per recipient, capped at
//! [`MAX_CONSENT_EVENTS`], and an index of the recipients that have one.

use std::future::Future;
use std::sync::Arc;

use super::connection::backend;
use super::store::{RedisConnection, RedisStore, corrupt};
use crate::conversation::optin::{ConsentEvent, MAX_CONSENT_EVENTS, OptInStore, events_over_cap};
use crate::conversation::store::{StoreError, check_waid};

/// Drops the events at ARGV's positions (pairs of a 0-based position and the value read
/// there) from the list KEYS[1], only if every one is still in place: an append or trim by
/// another instance since the read leaves the list alone (the next append trims it). The
/// marker is never a stored event, which are JSON objects.
const TRIM_CONSENT_LUA: &str = r"
for i = 1, #ARGV, 2 do
  if redis.call('LINDEX', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then return 0 end
end
for i = 1, #ARGV, 2 do
  redis.call('LSET', KEYS[1], ARGV[i], 'wcwa:dropped')
end
redis.call('LREM', KEYS[1], 0, 'wcwa:dropped')
return 1
";

/// Keeps a recipient's consent list at [`MAX_CONSENT_EVENTS`], dropping the oldest events by
/// time (never the latest, see [`events_over_cap`]). Best effort: the event is appended
/// already, so a failure here is not the append's; an unreadable list is left as it is
/// (reading the status reports it), and a list left over the cap is trimmed by the next
/// append.
pub(super) async fn trim_consent<C: RedisConnection>(conn: &mut C, key: &str) {
    let Ok(values) = redis::cmd("LRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .query_async::<Vec<String>>(conn)
        .await
    else {
        return;
    };
    let Ok(events) = parse_events(&values) else {
        return;
    };
    let mut trim = redis::cmd("EVAL");
    trim.arg(TRIM_CONSENT_LUA).arg(1).arg(key);
    for position in events_over_cap(&events, MAX_CONSENT_EVENTS) {
        if let Some(value) = values.get(position) {
            trim.arg(position).arg(value);
        }
    }
    let _trimmed: Result<i64, _> = trim.query_async(conn).await;
}

pub(super) fn parse_events(values: &[String]) -> Result<Vec<ConsentEvent>, StoreError> {
    values
        .iter()
        .map(|v| serde_json::from_str(v).map_err(|e| corrupt("consent event", e.to_string())))
        .collect()
}

impl<C: RedisConnection> OptInStore for RedisStore<C> {
    async fn append(&self, event: ConsentEvent) -> Result<(), StoreError> {
        let prepared = check_waid(event.recipient()).map(|()| {
            let member = self.ids.of(event.recipient()).into_owned();
            (self.key("optin", &member), member)
        });
        let index = self.optin_index();
        let mut conn = self.conn.clone();
        let (key, member) = prepared?;
        let json =
            serde_json::to_string(&event).map_err(|e| corrupt("consent event", e.to_string()))?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("RPUSH")
            .arg(&key)
            .arg(json)
            .cmd("SADD")
            .arg(&index)
            .arg(&member)
            .ignore();
        let (len,): (usize,) = pipe.query_async(&mut conn).await.map_err(backend)?;
        if len > MAX_CONSENT_EVENTS {
            trim_consent(&mut conn, &key).await;
        }
        Ok(())
    }

    fn events(
        &self,
        waid: &str,
    ) -> impl Future<Output = Result<Vec<ConsentEvent>, StoreError>> + Send {
        let values = self.query_recipient::<Vec<String>>("optin", waid, "LRANGE", &[0, -1]);
        async move { parse_events(&values.await?) }
    }

    async fn export(&self) -> Result<Vec<ConsentEvent>, StoreError> {
        let index = self.optin_index();
        let prefix = Arc::clone(&self.prefix);
        let mut conn = self.conn.clone();
        // The index's members are the ids as they appear in key names: recipient ids, or
        // their hashes. Either way the events name their recipient, so nothing needs the
        // id back from a key.
        let mut members: Vec<String> = redis::cmd("SMEMBERS")
            .arg(&index)
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        members.sort_unstable();
        let mut lists = Vec::with_capacity(members.len());
        for chunk in members.chunks(500) {
            let mut pipe = redis::pipe();
            for member in chunk {
                pipe.cmd("LRANGE")
                    .arg(format!("{prefix}optin:{member}"))
                    .arg(0)
                    .arg(-1);
            }
            let values: Vec<Vec<String>> = pipe.query_async(&mut conn).await.map_err(backend)?;
            for list in &values {
                lists.push(parse_events(list)?);
            }
        }
        // Sorted by recipient, as the in-memory store does, so exports are stable (a
        // stable sort: with plain ids this is the members' order already).
        lists.sort_by(|a, b| {
            let a = a.first().map(ConsentEvent::recipient);
            a.cmp(&b.first().map(ConsentEvent::recipient))
        });
        Ok(lists.into_iter().flatten().collect())
    }

    async fn erase(&self, waid: &str) -> Result<usize, StoreError> {
        let prepared = self.erasure_ids(waid).map(|ids| {
            let keys: Vec<String> = ids.iter().map(|id| self.key("optin", id)).collect();
            let mut pipe = redis::pipe();
            pipe.atomic();
            for key in &keys {
                pipe.cmd("LLEN").arg(key);
            }
            pipe.cmd("DEL")
                .arg(&keys)
                .ignore()
                .cmd("SREM")
                .arg(self.optin_index())
                .arg(&ids)
                .ignore();
            (pipe, self.conn.clone())
        });
        let (pipe, mut conn) = prepared?;
        let lens: Vec<usize> = pipe.query_async(&mut conn).await.map_err(backend)?;
        Ok(lens.iter().sum())
    }
}
