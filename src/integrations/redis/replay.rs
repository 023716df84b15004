//! The replay store in Redis: `SET key 1 NX PX ttl`, atomic across every server.

use crate::error::StoreError;
use crate::integrations::redis::{ttl_ms, Redis, RedisConfig};
use crate::proof::replay::{AsyncReplayStore, Insertion, ReplayKey};
use crate::time::UnixTime;

/// A [`AsyncReplayStore`] in Redis, shared by every instance of a service: a proof accepted by
/// one instance is a replay at all others. Keys are `{prefix}replay:{base64url(ReplayKey)}` —
/// fixed-size hashes, never the client's `jti` — and expire with the proof's acceptance window.
#[derive(Clone, Debug)]
pub struct RedisReplayStore {
    redis: Redis,
}

impl RedisReplayStore {
    /// A store at `url` (e.g. `redis://127.0.0.1:6379/`). Connects lazily; call within a Tokio
    /// runtime.
    pub fn open(url: &str, config: &RedisConfig) -> Result<Self, StoreError> {
        Ok(Self {
            redis: Redis::open(url, config)?,
        })
    }
}

impl AsyncReplayStore for RedisReplayStore {
    async fn insert_if_absent(
        &self,
        key: &ReplayKey,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Insertion, StoreError> {
        let name = self.redis.key("replay", key.as_bytes());
        let ttl = ttl_ms(expires_at, now);
        let set: Option<String> = self
            .redis
            .run(|mut connection| async move {
                redis::cmd("SET")
                    .arg(&name)
                    .arg(1)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl)
                    .query_async(&mut connection)
                    .await
            })
            .await?;
        Ok(match set {
            Some(_) => Insertion::Inserted,
            None => Insertion::AlreadyPresent,
        })
    }
}
