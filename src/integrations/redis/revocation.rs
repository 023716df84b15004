//! Revocations in Redis: visible to every instance on its next request.

use crate::error::StoreError;
use crate::integrations::redis::replay::REGISTER;
use crate::integrations::redis::{ttl_ms, Redis, RedisConfig};
use crate::proof::replay::{AsyncReplayStore, Insertion, ReplayKey};
use crate::revocation::{
    check_then_register, entry_key, AsyncRevocationStore, Revocation, Settled,
};
use crate::time::UnixTime;
use crate::token::claims::AccessTokenClaims;

/// Records a revocation, keeping the later `issued_before` and the longer expiry of an entry
/// that already exists (revocations only ever widen).
const REVOKE: &str = r"
local value = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) > value then value = tonumber(current) end
local remaining = redis.call('PTTL', KEYS[1])
if remaining > ttl then ttl = remaining end
redis.call('SET', KEYS[1], value, 'PX', ttl)
return 1
";

/// The revocation lookup in front of [`REGISTER`]: the token's entries are `KEYS[4]` (its
/// `jti`), `KEYS[5]` (its key) and `KEYS[6]` (its subject); `ARGV[4]` is 1 if the token is
/// bound to a key, `ARGV[5]` its `iat`. Answers 2 — and writes nothing — when the token is
/// revoked, the same rule as [`RedisRevocationStore::is_revoked`]; a value that is not a
/// number is a script error (the request is refused, 503).
const REVOKED_THEN: &str = r"
if redis.call('EXISTS', KEYS[4]) == 1 then return 2 end
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[5]) == 1 then return 2 end
local before = redis.call('GET', KEYS[6])
if before and tonumber(ARGV[5]) <= tonumber(before) then return 2 end
";

/// An [`AsyncRevocationStore`] in Redis. Entries are keyed by hashes of the `jti`, key
/// thumbprint or subject and expire with the `until` of their [`Revocation`]. One lookup per
/// request (`MGET` of the three possible entries).
///
/// See the module documentation of the `redis` feature for the persistence a deployment needs.
#[derive(Clone, Debug)]
pub struct RedisRevocationStore {
    redis: Redis,
    script: redis::Script,
    /// [`REVOKED_THEN`] and [`REGISTER`]: one round trip for a request.
    settle: redis::Script,
}

impl RedisRevocationStore {
    /// A store at `url`. Connects lazily; call within a Tokio runtime. Opened with the replay
    /// store through [`RedisStores::open`](crate::RedisStores::open), a request's lookup and
    /// proof registration take one round trip instead of two.
    pub fn open(url: &str, config: &RedisConfig) -> Result<Self, StoreError> {
        Ok(Self::on(Redis::open(url, config)?))
    }

    /// A store on an opened connection.
    pub(crate) fn on(redis: Redis) -> Self {
        Self {
            redis,
            script: redis::Script::new(REVOKE),
            settle: redis::Script::new(&format!("{REVOKED_THEN}{REGISTER}")),
        }
    }

    fn names(&self, claims: &AccessTokenClaims) -> [String; 3] {
        let jkt = claims.jkt().map(|t| *t.as_bytes()).unwrap_or_default();
        [
            self.redis
                .key("rev", &entry_key(b"jti", claims.jti().as_bytes())),
            self.redis.key("rev", &entry_key(b"jkt", &jkt)),
            self.redis
                .key("rev", &entry_key(b"sub", claims.subject().as_bytes())),
        ]
    }
}

impl AsyncRevocationStore for RedisRevocationStore {
    async fn revoke(&self, revocation: &Revocation, now: UnixTime) -> Result<(), StoreError> {
        let (name, value, until) = match revocation {
            Revocation::Token { jti, until } => (entry_key(b"jti", jti.as_bytes()), 1, *until),
            Revocation::Key { jkt, until } => (entry_key(b"jkt", jkt.as_bytes()), 1, *until),
            Revocation::Subject {
                subject,
                issued_before,
                until,
            } => (
                entry_key(b"sub", subject.as_bytes()),
                issued_before.as_secs(),
                *until,
            ),
        };
        let name = self.redis.key("rev", &name);
        let ttl = ttl_ms(until, now);
        // Every replica connected now acknowledges the revocation, or it is reported as not
        // done (it may still have reached some: revoking again is harmless).
        let replicas = self.redis.connected_replicas().await?;
        self.redis
            .run_script_then_wait(&self.script, &[name], &[value, ttl], replicas)
            .await?;
        Ok(())
    }

    async fn is_revoked(
        &self,
        claims: &AccessTokenClaims,
        _now: UnixTime,
    ) -> Result<bool, StoreError> {
        let names = self.names(claims);
        let values: Vec<Option<u64>> = self
            .redis
            .run(|mut connection| async move {
                redis::cmd("MGET")
                    .arg(&names[..])
                    .query_async(&mut connection)
                    .await
            })
            .await?;
        let jti = values.first().copied().flatten().is_some();
        let jkt = claims.jkt().is_some() && values.get(1).copied().flatten().is_some();
        let subject = values
            .get(2)
            .copied()
            .flatten()
            .is_some_and(|issued_before| claims.issued_at().as_secs() <= issued_before);
        Ok(jti || jkt || subject)
    }

    async fn check_and_register<R: AsyncReplayStore>(
        &self,
        claims: &AccessTokenClaims,
        replay: &R,
        key: &ReplayKey,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Settled, StoreError> {
        let Some(replay) = replay
            .as_redis()
            .filter(|r| r.redis().same_link(&self.redis))
        else {
            return check_then_register(self, claims, replay, key, expires_at, now).await;
        };
        let registration = replay.registration(key, expires_at, now);
        let keys: Vec<String> = registration
            .keys
            .iter()
            .cloned()
            .chain(self.names(claims))
            .collect();
        let mut args = registration.args.to_vec();
        args.extend([
            u64::from(claims.jkt().is_some()),
            claims.issued_at().as_secs(),
        ]);
        let answer = replay
            .redis()
            .run_write_script(&self.settle, &keys, &args)
            .await?;
        if answer == 2 {
            return Ok(Settled::Revoked);
        }
        Ok(match registration.outcome(answer)? {
            Insertion::Inserted => Settled::Registered,
            Insertion::AlreadyPresent => Settled::Replayed,
        })
    }
}
