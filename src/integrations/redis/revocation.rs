//! Revocations in Redis: visible to every instance on its next request.

use crate::error::StoreError;
use crate::integrations::redis::replay::REGISTER;
use crate::integrations::redis::{ttl_ms, Redis, RedisConfig};
use crate::jose::thumbprint::Thumbprint;
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
/// key, in the proof key's slot), and on one server also `KEYS[5]` (its `jti`) and `KEYS[6]`
/// (its subject) — on a Redis Cluster those two live in other slots and are read beside the
/// script. `ARGV[5]` is 1 if the token is bound to a key, `ARGV[6]` its `iat`. Answers 2 — and
/// writes nothing — when the token is revoked, the same rule as
/// [`RedisRevocationStore::is_revoked`]; a value that is not a number is a script error (the
/// request is refused, 503).
const REVOKED_THEN: &str = r"
if ARGV[5] == '1' and redis.call('EXISTS', KEYS[4]) == 1 then return 2 end
if KEYS[5] then
  if redis.call('EXISTS', KEYS[5]) == 1 then return 2 end
  local before = redis.call('GET', KEYS[6])
  if before and tonumber(ARGV[6]) <= tonumber(before) then return 2 end
end
";

/// An [`AsyncRevocationStore`] in Redis. Entries are keyed by hashes of the `jti`, key
/// thumbprint or subject and expire with the `until` of their [`Revocation`]; a key's entry
/// carries the key's hash tag, so on a Redis Cluster it shares the slot of that key's replay
/// entries. One lookup per request (`MGET` of the three possible entries), or none of its own
/// when opened with the replay store (see [`RedisStores`](crate::RedisStores)).
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

    /// The entries that revoke the token: by key (`None` for a token bound to no key), by
    /// `jti`, by subject.
    fn names(&self, claims: &AccessTokenClaims) -> (Option<String>, [String; 2]) {
        let by_key = claims.jkt().map(|jkt| self.key_entry(&jkt));
        let by_token = [
            self.redis
                .key("rev", &entry_key(b"jti", claims.jti().as_bytes())),
            self.redis
                .key("rev", &entry_key(b"sub", claims.subject().as_bytes())),
        ];
        (by_key, by_token)
    }

    /// The entry revoking `jkt`, in the slot of that key's proofs.
    fn key_entry(&self, jkt: &Thumbprint) -> String {
        self.redis.owned_key(
            "rev",
            &ReplayKey::owner_of(jkt),
            &entry_key(b"jkt", jkt.as_bytes()),
        )
    }

    /// Whether the `jti` and subject entries (`[jti, sub]` of [`names`](Self::names)) revoke a
    /// token issued at `iat`.
    async fn revoked_by_token(
        &self,
        names: &[String; 2],
        iat: UnixTime,
    ) -> Result<bool, StoreError> {
        let values = self.values(&[&names[0], &names[1]]).await?;
        Ok(token_entries_revoke(&values, iat))
    }

    /// The values of `names`, in one `MGET` (split per slot on a cluster).
    async fn values(&self, names: &[&String]) -> Result<Vec<Option<u64>>, StoreError> {
        self.redis
            .run(|mut connection| async move {
                redis::cmd("MGET")
                    .arg(names)
                    .query_async(&mut connection)
                    .await
            })
            .await
    }
}

impl AsyncRevocationStore for RedisRevocationStore {
    async fn revoke(&self, revocation: &Revocation, now: UnixTime) -> Result<(), StoreError> {
        let (name, value, until) = match revocation {
            Revocation::Token { jti, until } => (
                self.redis.key("rev", &entry_key(b"jti", jti.as_bytes())),
                1,
                *until,
            ),
            Revocation::Key { jkt, until } => (self.key_entry(jkt), 1, *until),
            Revocation::Subject {
                subject,
                issued_before,
                until,
            } => (
                self.redis
                    .key("rev", &entry_key(b"sub", subject.as_bytes())),
                issued_before.as_secs(),
                *until,
            ),
        };
        let ttl = ttl_ms(until, now);
        // Every replica connected now to the entry's primary acknowledges the revocation, or
        // it is reported as not done (it may still have reached some: revoking again is
        // harmless).
        let replicas = self.redis.connected_replicas(&name).await?;
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
        let (by_key, by_token) = self.names(claims);
        let names: Vec<&String> = by_token.iter().chain(&by_key).collect();
        let values = self.values(&names).await?;
        let key = by_key.is_some() && values.get(2).copied().flatten().is_some();
        Ok(token_entries_revoke(&values, claims.issued_at()) || key)
    }

    async fn check_and_register<R: AsyncReplayStore>(
        &self,
        claims: &AccessTokenClaims,
        replay: &R,
        key: &ReplayKey,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Settled, StoreError> {
        let (by_key, by_token) = self.names(claims);
        // One script when both stores share a link; on a cluster only if the token is bound
        // to the proof's key (its key entry then shares the proof's slot).
        let shared = replay
            .as_redis()
            .filter(|r| r.redis().same_link(&self.redis))
            .filter(|_| {
                !self.redis.is_cluster()
                    || claims
                        .jkt()
                        .is_some_and(|jkt| &ReplayKey::owner_of(&jkt) == key.owner())
            });
        let Some(replay) = shared else {
            return check_then_register(self, claims, replay, key, expires_at, now).await;
        };
        let registration = replay.registration(key, expires_at, now)?;
        let mut keys = registration.keys.to_vec();
        // A token bound to no key: the flag below skips the key entry, any name will do.
        keys.push(by_key.unwrap_or_else(|| registration.keys[0].clone()));
        let mut args = registration.args.to_vec();
        args.extend([
            u64::from(claims.jkt().is_some()),
            claims.issued_at().as_secs(),
        ]);
        let answer = if self.redis.is_cluster() {
            // The `jti` and subject entries live in their own slots: read them while the
            // script runs in the proof key's slot — the same latency, one more command.
            let (answer, revoked_by_token) = futures_util::future::try_join(
                replay.redis().run_write_script(&self.settle, &keys, &args),
                self.revoked_by_token(&by_token, claims.issued_at()),
            )
            .await?;
            if revoked_by_token {
                return Ok(Settled::Revoked);
            }
            answer
        } else {
            keys.extend(by_token);
            replay
                .redis()
                .run_write_script(&self.settle, &keys, &args)
                .await?
        };
        if answer == 2 {
            return Ok(Settled::Revoked);
        }
        Ok(match registration.outcome(answer)? {
            Insertion::Inserted => Settled::Registered,
            Insertion::AlreadyPresent => Settled::Replayed,
        })
    }
}

/// Whether the values of a token's `jti` and subject entries (the first two of `values`)
/// revoke it, given its `iat`: any `jti` entry; a subject entry at or after `iat`.
fn token_entries_revoke(values: &[Option<u64>], iat: UnixTime) -> bool {
    let jti = values.first().copied().flatten().is_some();
    let subject = values
        .get(1)
        .copied()
        .flatten()
        .is_some_and(|issued_before| iat.as_secs() <= issued_before);
    jti || subject
}
