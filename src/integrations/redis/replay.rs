//! The replay store in Redis: one script registers the proof (`SET NX PX`) and keeps its key
//! to its share, atomically across every server.

use crate::error::StoreError;
use crate::integrations::redis::{owner_tag, ttl_ms, Redis, RedisConfig};
use crate::proof::replay::{AsyncReplayStore, Insertion, ReplayKey};
use crate::time::UnixTime;

/// The default number of live proofs one key may hold in a [`RedisReplayStore`]: the same as
/// the default [`MemoryReplayStore`](crate::MemoryReplayStore)'s (16 384, about 250 proofs a
/// second per key with the default 65 s retention).
pub const DEFAULT_REDIS_PER_KEY_LIMIT: u64 = 16_384;

/// `KEYS[1]`: the proof's entry; `KEYS[2]`, `KEYS[3]`: the key's counters for the current
/// and the previous bucket. `ARGV[1]`: the entry's time to live (ms); `ARGV[2]`: the per-key
/// limit; `ARGV[3]`: the counter's time to live (ms, two buckets); `ARGV[4]`: this check's
/// mark, a random number the entry stores.
/// Returns 1 (registered), 0 (a replay) or -1 (the key is at its limit; nothing written).
/// The same rule as the memory store's (`key_quota`): a proof lives at most one bucket, so
/// every live proof of the key is counted in the current or the previous bucket.
///
/// An entry holding this check's own mark is this check's registration, re-run: the redis
/// crate re-sends a command whose connection failed after sending (the cluster client does
/// so by design), and the second run must not call the first a replay. Another check's mark
/// (63 random bits) is a replay.
pub(crate) const REGISTER: &str = r"
local mark = redis.call('GET', KEYS[1])
if mark then
  if mark == ARGV[4] then return 1 end
  return 0
end
local used = (tonumber(redis.call('GET', KEYS[2])) or 0)
  + (tonumber(redis.call('GET', KEYS[3])) or 0)
if used >= tonumber(ARGV[2]) then
  return -1
end
redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[1])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
";

/// A [`AsyncReplayStore`] in Redis, shared by every instance of a service: a proof accepted by
/// one instance is a replay at all others. Keys are
/// `{prefix}replay:{<owner>}:<hash>` for a proof and `{prefix}quota:{<owner>}:<window>:<bucket>`
/// for its key's counters — fixed-size base64url of hashes, never the client's `jti`; the
/// `{…}` hash tag puts everything one proof key touches in one Redis Cluster slot. Entries
/// expire with the proof's acceptance window.
///
/// **Fair shares**: one proof key may hold at most
/// [`DEFAULT_REDIS_PER_KEY_LIMIT`] live proofs
/// ([`with_per_key_limit`](Self::with_per_key_limit)); past it, that key's proofs are refused
/// with [`StoreError::KeyQuotaExceeded`] (HTTP 429, `Retry-After`) and nothing is written, so a
/// single client cannot grow Redis's memory for everyone.
#[derive(Clone, Debug)]
pub struct RedisReplayStore {
    redis: Redis,
    script: redis::Script,
    per_key_limit: u64,
}

impl RedisReplayStore {
    /// A store at `url` (e.g. `redis://127.0.0.1:6379/`). Connects lazily; call within a Tokio
    /// runtime. To check revocation and register proofs in one round trip, open it with the
    /// revocation store through [`RedisStores::open`](crate::RedisStores::open).
    pub fn open(url: &str, config: &RedisConfig) -> Result<Self, StoreError> {
        Ok(Self::on(Redis::open(url, config)?))
    }

    /// A store on an opened connection.
    pub(crate) fn on(redis: Redis) -> Self {
        Self {
            redis,
            script: redis::Script::new(REGISTER),
            per_key_limit: DEFAULT_REDIS_PER_KEY_LIMIT,
        }
    }

    /// Lets one proof key hold at most `limit` live proofs (at least 1).
    pub fn with_per_key_limit(mut self, limit: u64) -> Self {
        self.per_key_limit = limit.max(1);
        self
    }

    /// The most live proofs one key may hold.
    pub fn per_key_limit(&self) -> u64 {
        self.per_key_limit
    }

    pub(crate) fn redis(&self) -> &Redis {
        &self.redis
    }

    /// The keys and arguments of [`REGISTER`] for `key` at `now`.
    pub(crate) fn registration(
        &self,
        key: &ReplayKey,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Registration, StoreError> {
        let owner = owner_tag(key.owner());
        let prefix = &self.redis.prefix;
        let entry = self.redis.owned_key("replay", key.owner(), key.as_bytes());
        let ttl = ttl_ms(expires_at, now);
        // Buckets as long as the entry lives (whole seconds); the window is part of the
        // counter's name, so proofs kept for different times never share a counter.
        let window = ttl.div_ceil(1000);
        let bucket = now.as_secs() / window;
        let counter = |bucket: u64| format!("{prefix}quota:{owner}:{window}:{bucket}");
        Ok(Registration {
            keys: [entry, counter(bucket), counter(bucket.saturating_sub(1))],
            args: [ttl, self.per_key_limit, ttl.saturating_mul(2), mark()?],
            retry_after_secs: ((bucket + 1) * window).saturating_sub(now.as_secs()).max(1),
        })
    }
}

/// A random mark of 63 bits: Redis stores it as an integer (no string allocation), and no
/// other check draws the same one.
fn mark() -> Result<u64, StoreError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|_| StoreError::Unavailable)?;
    Ok(u64::from_le_bytes(bytes) >> 1)
}

/// What [`REGISTER`] needs for one proof: `KEYS[1..3]`, `ARGV[1..4]`, and the `Retry-After`
/// if the key is at its limit.
pub(crate) struct Registration {
    pub(crate) keys: [String; 3],
    pub(crate) args: [u64; 4],
    retry_after_secs: u64,
}

impl Registration {
    /// The answer [`REGISTER`] gave, as the store's.
    pub(crate) fn outcome(&self, answer: i64) -> Result<Insertion, StoreError> {
        match answer {
            1 => Ok(Insertion::Inserted),
            0 => Ok(Insertion::AlreadyPresent),
            -1 => Err(StoreError::KeyQuotaExceeded {
                retry_after_secs: self.retry_after_secs,
            }),
            // Not an answer this script gives: refuse rather than guess.
            _ => Err(StoreError::Unavailable),
        }
    }
}

impl AsyncReplayStore for RedisReplayStore {
    async fn insert_if_absent(
        &self,
        key: &ReplayKey,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Insertion, StoreError> {
        let registration = self.registration(key, expires_at, now)?;
        let answer = self
            .redis
            .run_write_script(&self.script, &registration.keys, &registration.args)
            .await?;
        registration.outcome(answer)
    }

    fn as_redis(&self) -> Option<&RedisReplayStore> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::thumbprint::Thumbprint;

    /// A `redis-server` on a free loopback port for one test, killed on drop; `None` (said
    /// loudly) without the binary unless `KEYBOUND_REQUIRE_REDIS` is set.
    struct Server(std::process::Child, u16);

    impl Server {
        fn start() -> Option<Self> {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let spawned = std::process::Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(std::process::Stdio::null())
                .spawn();
            match spawned {
                Ok(child) => Some(Self(child, port)),
                Err(_) if std::env::var_os("KEYBOUND_REQUIRE_REDIS").is_none() => {
                    eprintln!("SKIPPED: redis-server is not on PATH");
                    None
                }
                Err(e) => panic!("KEYBOUND_REQUIRE_REDIS is set but redis-server failed: {e}"),
            }
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// A registration the redis crate re-sends after it ran (its connection failed before the
    /// answer came back) is this check's own, not a replay; another check of the same proof is
    /// a replay.
    #[tokio::test]
    async fn a_registration_run_twice_is_not_its_own_replay() {
        let Some(server) = Server::start() else {
            return;
        };
        let url = format!("redis://127.0.0.1:{}/", server.1);
        let store =
            RedisReplayStore::open(&url, &RedisConfig::new().with_prefix("rerun:")).unwrap();
        let key = ReplayKey::new(&Thumbprint::from_bytes([7; 32]), "proof-1");
        let now = UnixTime::now();
        let expires = UnixTime::from_secs(now.as_secs() + 60);
        let registration = store.registration(&key, expires, now).unwrap();
        let run = || async {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            loop {
                // The server may still be starting.
                match store
                    .redis
                    .run_write_script(&store.script, &registration.keys, &registration.args)
                    .await
                {
                    Ok(answer) => break registration.outcome(answer),
                    Err(_) if std::time::Instant::now() < deadline => {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                    Err(e) => panic!("redis-server did not answer: {e:?}"),
                }
            }
        };
        assert_eq!(run().await, Ok(Insertion::Inserted));
        assert_eq!(
            run().await,
            Ok(Insertion::Inserted),
            "the same check, re-run"
        );
        let again = AsyncReplayStore::insert_if_absent(&store, &key, expires, now).await;
        assert_eq!(
            again,
            Ok(Insertion::AlreadyPresent),
            "another check: a replay"
        );
    }
}
