//! Revocations in Redis: visible to every instance on its next request.

use crate::error::StoreError;
use crate::integrations::redis::{ttl_ms, Redis, RedisConfig};
use crate::revocation::{entry_key, AsyncRevocationStore, Revocation};
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

/// An [`AsyncRevocationStore`] in Redis. Entries are keyed by hashes of the `jti`, key
/// thumbprint or subject and expire with the `until` of their [`Revocation`]. One lookup per
/// request (`MGET` of the three possible entries).
///
/// See the module documentation of the `redis` feature for the persistence a deployment needs.
#[derive(Clone, Debug)]
pub struct RedisRevocationStore {
    redis: Redis,
    script: redis::Script,
}

impl RedisRevocationStore {
    /// A store at `url`. Connects lazily; call within a Tokio runtime.
    pub fn open(url: &str, config: &RedisConfig) -> Result<Self, StoreError> {
        Ok(Self {
            redis: Redis::open(url, config)?,
            script: redis::Script::new(REVOKE),
        })
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
        let script = self.script.clone();
        let _: i64 = self
            .redis
            .run(|mut connection| async move {
                script
                    .key(&name)
                    .arg(value)
                    .arg(ttl)
                    .invoke_async(&mut connection)
                    .await
            })
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
}
