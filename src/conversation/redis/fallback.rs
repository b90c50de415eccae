//! [`FallbackStore`] on [`RedisStore`]: one hash per session message, two sorted sets to count
//! the pending and list the taken ones, and one Lua script per change so that every change
//! is atomic across instances (the key table is in the [parent module's docs](super)).

use std::time::Duration;

use redis::Value;
use time::OffsetDateTime;

use super::connection::backend;
use super::store::{RedisConnection, RedisStore, corrupt, from_micros, micros};
use crate::conversation::fallback::{
    FallbackStore, PendingFallback, Registration, Take, UnfinishedFallback, record_key,
};
use crate::conversation::store::{StoreError, ttl_millis};
use crate::ids::{CorrelationId, TransactionId};

/// The server's time in milliseconds, as `now_ms`; every script that scores a sorted set
/// starts with it, so the scores and the keys' `PX` expiry share one clock.
const NOW_MS_LUA: &str = r"
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
";

/// Run through [`Keys::eval`]; ARGV after the member: TTL (ms), fallback JSON, correlation
/// id, original transid, taken-at (µs). A record marked `failed` (its `7710` came first) is
/// taken at once, else the fallback is kept pending; either way the record names its ids and
/// joins its set.
const REGISTER_LUA: &str = r"
local state = redis.call('HGET', KEYS[1], 'state')
if state and state ~= 'failed' then
  return 'known'
end
local due = state == 'failed'
if due then
  redis.call('HSET', KEYS[1], 'state', 'taken', 'taken_at', ARGV[6])
else
  redis.call('HSET', KEYS[1], 'state', 'pending', 'fallback', ARGV[3])
end
redis.call('HSET', KEYS[1], 'correlation_id', ARGV[4], 'original', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local set = due and KEYS[3] or KEYS[2]
redis.call('ZADD', set, string.format('%.0f', now_ms + tonumber(ARGV[2])), ARGV[1])
return due and 'due' or 'pending'
";

/// Run through [`Keys::eval`]; ARGV after the member: TTL (ms), taken-at (µs).
const TAKE_LUA: &str = r"
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  redis.call('HSET', KEYS[1], 'state', 'failed')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'not_pending'}
end
if state == 'pending' then
  local fallback = redis.call('HGET', KEYS[1], 'fallback')
  redis.call('HDEL', KEYS[1], 'fallback')
  redis.call('HSET', KEYS[1], 'state', 'taken', 'taken_at', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZADD', KEYS[3], string.format('%.0f', now_ms + tonumber(ARGV[2])), ARGV[1])
  return {'taken', fallback}
end
if state == 'failed' then
  return {'not_pending'}
end
return {'already_taken'}
";

/// Run through [`Keys::eval`]; ARGV after the member: TTL (ms). Keeps only the state, so a
/// repeated `7710` finds the fallback handled.
const FINISH_LUA: &str = r"
if redis.call('HGET', KEYS[1], 'state') ~= 'taken' then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'done')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
";

/// Run through [`Keys::eval`], with no ARGV after the member.
const DISCARD_LUA: &str = r"
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
";

/// KEYS: a sorted set scored by expiry. Drops the expired members and counts the rest.
const COUNT_LUA: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
return redis.call('ZCARD', KEYS[1])
";

/// KEYS: taken set. ARGV: the record key prefix. Drops expired and finished members, and
/// returns `original, correlation id, taken-at` for each taken record, oldest first.
const UNFINISHED_LUA: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
local out = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local r = redis.call('HMGET', ARGV[1] .. member, 'state', 'original', 'correlation_id', 'taken_at')
  if r[1] == 'taken' then
    table.insert(out, r[2] or '')
    table.insert(out, r[3] or '')
    table.insert(out, r[4] or '')
  else
    redis.call('ZREM', KEYS[1], member)
  end
end
return out
";

/// The keys of one fallback: its record, the pending set, the taken set, and its member
/// name in the sets.
struct Keys {
    record: String,
    pending: String,
    taken: String,
    member: String,
}

impl Keys {
    /// An `EVAL` of one fallback's `script`, which every such script reads the same way:
    /// `KEYS` are the record, the pending set and the taken set; `ARGV[1]` is the member, and
    /// the script's own arguments, added by the caller, follow.
    fn eval(&self, script: &str) -> redis::Cmd {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(script)
            .arg(3)
            .arg(&self.record)
            .arg(&self.pending)
            .arg(&self.taken)
            .arg(&self.member);
        cmd
    }
}

impl<C: RedisConnection> RedisStore<C> {
    fn fallback_record_prefix(&self) -> String {
        format!("{}fallback:", self.prefix)
    }

    fn fallback_set(&self, which: &str) -> String {
        format!("{}fallbacks:{which}", self.prefix)
    }

    fn fallback_keys(&self, original: &TransactionId) -> Keys {
        let member = record_key(original).into_owned();
        Keys {
            record: format!("{}{member}", self.fallback_record_prefix()),
            pending: self.fallback_set("pending"),
            taken: self.fallback_set("taken"),
            member,
        }
    }

    /// Sends `cmd` and reads its answer.
    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        let mut conn = self.conn.clone();
        cmd.query_async(&mut conn).await.map_err(backend)
    }
}

/// `script`, starting by reading the server's time.
fn timed(script: &str) -> String {
    format!("{NOW_MS_LUA}{script}")
}

fn parse_fallback(json: &str) -> Result<PendingFallback, StoreError> {
    serde_json::from_str(json).map_err(|e| corrupt("pending fallback", e.to_string()))
}

fn text(value: &Value, what: &'static str) -> Result<String, StoreError> {
    <String as redis::FromRedisValue>::from_redis_value_ref(value)
        .map_err(|e| corrupt(what, e.to_string()))
}

/// Reads the `[kind, fallback?]` answer of [`TAKE_LUA`].
fn parse_take(answer: &[Value]) -> Result<Take, StoreError> {
    let kind = answer
        .first()
        .map(|v| text(v, "fallback state"))
        .transpose()?;
    match (kind.as_deref(), answer.get(1)) {
        (Some("taken"), Some(json)) => Ok(Take::Taken(parse_fallback(&text(
            json,
            "pending fallback",
        )?)?)),
        (Some("not_pending"), _) => Ok(Take::NotPending),
        (Some("already_taken"), _) => Ok(Take::AlreadyTaken),
        _ => Err(corrupt(
            "fallback state",
            "a pending record without its fallback, or an unknown state",
        )),
    }
}

/// Reads the flat `original, correlation id, taken-at` triples of [`UNFINISHED_LUA`].
fn parse_unfinished(values: &[Value]) -> Result<Vec<UnfinishedFallback>, StoreError> {
    let mut out = Vec::with_capacity(values.len() / 3);
    for triple in values.chunks(3) {
        let [original, correlation_id, taken_at] = triple else {
            return Err(corrupt("taken fallback", "an incomplete record"));
        };
        let original = TransactionId::from(text(original, "taken fallback")?);
        let correlation_id = CorrelationId::new(text(correlation_id, "taken fallback")?)
            .map_err(|e| corrupt("taken fallback correlation id", e.to_string()))?;
        let taken_at = from_micros(&text(taken_at, "taken fallback time")?)?;
        out.push(UnfinishedFallback::new(original, correlation_id, taken_at));
    }
    Ok(out)
}

impl<C: RedisConnection> FallbackStore for RedisStore<C> {
    async fn register(
        &self,
        original: &TransactionId,
        fallback: &PendingFallback,
        now: OffsetDateTime,
        retention: Duration,
    ) -> Result<Registration, StoreError> {
        let ttl = ttl_millis(retention)?;
        let json = serde_json::to_string(fallback)
            .map_err(|e| corrupt("pending fallback", e.to_string()))?;
        let mut cmd = self.fallback_keys(original).eval(&timed(REGISTER_LUA));
        cmd.arg(ttl)
            .arg(json)
            .arg(fallback.correlation_id().as_str())
            .arg(original.as_str())
            .arg(micros(now).to_string());
        let answer: String = self.run(&cmd).await?;
        match answer.as_str() {
            "pending" => Ok(Registration::Pending),
            "due" => Ok(Registration::Due),
            "known" => Ok(Registration::Known),
            other => Err(corrupt("fallback registration", other.to_owned())),
        }
    }

    async fn peek(
        &self,
        original: &TransactionId,
        _now: OffsetDateTime,
    ) -> Result<Option<PendingFallback>, StoreError> {
        let mut cmd = redis::cmd("HMGET");
        cmd.arg(&self.fallback_keys(original).record)
            .arg("state")
            .arg("fallback");
        let (state, json): (Option<String>, Option<String>) = self.run(&cmd).await?;
        match (state.as_deref(), json) {
            (Some("pending"), Some(json)) => parse_fallback(&json).map(Some),
            (Some("pending"), None) => Err(corrupt(
                "pending fallback",
                "a pending record without its fallback",
            )),
            _ => Ok(None),
        }
    }

    async fn take(
        &self,
        original: &TransactionId,
        now: OffsetDateTime,
        retention: Duration,
    ) -> Result<Take, StoreError> {
        let mut cmd = self.fallback_keys(original).eval(&timed(TAKE_LUA));
        cmd.arg(ttl_millis(retention)?).arg(micros(now).to_string());
        parse_take(&self.run::<Vec<Value>>(&cmd).await?)
    }

    async fn finish(
        &self,
        original: &TransactionId,
        _now: OffsetDateTime,
        retention: Duration,
    ) -> Result<bool, StoreError> {
        let mut cmd = self.fallback_keys(original).eval(FINISH_LUA);
        cmd.arg(ttl_millis(retention)?);
        Ok(self.run::<i64>(&cmd).await? > 0)
    }

    async fn discard(
        &self,
        original: &TransactionId,
        _now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let cmd = self.fallback_keys(original).eval(DISCARD_LUA);
        Ok(self.run::<i64>(&cmd).await? > 0)
    }

    async fn forget(&self, original: &TransactionId) -> Result<bool, StoreError> {
        let keys = self.fallback_keys(original);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("DEL")
            .arg(&keys.record)
            .cmd("ZREM")
            .arg(&keys.pending)
            .arg(&keys.member)
            .ignore()
            .cmd("ZREM")
            .arg(&keys.taken)
            .arg(&keys.member)
            .ignore();
        let mut conn = self.conn.clone();
        let (deleted,): (i64,) = pipe.query_async(&mut conn).await.map_err(backend)?;
        Ok(deleted > 0)
    }

    async fn unfinished(
        &self,
        _now: OffsetDateTime,
    ) -> Result<Vec<UnfinishedFallback>, StoreError> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(timed(UNFINISHED_LUA))
            .arg(1)
            .arg(self.fallback_set("taken"))
            .arg(self.fallback_record_prefix());
        parse_unfinished(&self.run::<Vec<Value>>(&cmd).await?)
    }

    async fn pending(&self, _now: OffsetDateTime) -> Result<usize, StoreError> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(timed(COUNT_LUA))
            .arg(1)
            .arg(self.fallback_set("pending"));
        self.run(&cmd).await
    }
}
