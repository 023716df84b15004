//! The `redis` feature: replay, revocation and refresh-token state shared by every server
//! instance through Redis (standalone or Sentinel-managed; not Redis Cluster).
//!
//! Every operation has a deadline ([`RedisConfig::timeout`]); an unreachable or slow Redis
//! answers [`StoreError::Unavailable`], and the guard refuses the request (HTTP 503) — never
//! accepts it unchecked. The connection manager reconnects by itself: once Redis is back,
//! requests succeed again without restarting anything.
//!
//! **Persistence**: replay entries live at most `max_age + leeway` (about a minute) and can be
//! lost on a restart at the cost of a short replay window. Revocations must survive a restart:
//! run Redis with AOF (`appendonly yes`, `appendfsync everysec` or `always`) or RDB snapshots
//! frequent enough for your tolerance. Without persistence, a Redis restart forgets revocations
//! and used refresh tokens: revoked tokens work again until they expire (at most the token
//! lifetime, 1 hour by default) and refresh-token reuse goes undetected.

use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::StoreError;

pub(crate) mod refresh;
pub(crate) mod replay;
pub(crate) mod revocation;

/// How the Redis stores connect and name their keys.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// Prefix of every key. Default **`keybound:`**; give each deployment (or tenant) its own.
    pub prefix: String,
    /// Deadline of one store operation, connection attempts included. Default **250 ms**: a
    /// request waits at most this long for Redis before it is refused with 503.
    pub timeout: Duration,
}

impl RedisConfig {
    /// The defaults described on each field.
    pub fn new() -> Self {
        Self {
            prefix: "keybound:".to_owned(),
            timeout: Duration::from_millis(250),
        }
    }

    /// Sets [`prefix`](Self::prefix).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets [`timeout`](Self::timeout).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// A connection to Redis shared by the stores: reconnecting, with a deadline per operation.
#[derive(Clone)]
pub(crate) struct Redis {
    connection: ConnectionManager,
    pub(crate) prefix: String,
    timeout: Duration,
}

impl Redis {
    /// Prepares a connection to `url` (e.g. `redis://127.0.0.1:6379/`) without connecting: the
    /// first operation connects, and a server that is down at start-up only fails operations
    /// until it is up. Must be called within a Tokio runtime.
    pub(crate) fn open(url: &str, config: &RedisConfig) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|_| StoreError::Unavailable)?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            .set_number_of_retries(1)
            .set_max_delay(config.timeout);
        let connection = ConnectionManager::new_lazy_with_config(client, manager_config)
            .map_err(|_| StoreError::Unavailable)?;
        Ok(Self {
            connection,
            prefix: config.prefix.clone(),
            timeout: config.timeout,
        })
    }

    /// Runs `operation` on a connection under the deadline; any failure is `Unavailable`.
    pub(crate) async fn run<T, F, Fut>(&self, operation: F) -> Result<T, StoreError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        match tokio::time::timeout(self.timeout, operation(self.connection.clone())).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) | Err(_) => Err(StoreError::Unavailable),
        }
    }

    /// `{prefix}{kind}:{base64url(bytes)}`: fixed-size names from hashes, never caller text.
    pub(crate) fn key(&self, kind: &str, bytes: &[u8]) -> String {
        format!(
            "{}{kind}:{}",
            self.prefix,
            crate::jose::base64url::encode(bytes)
        )
    }
}

/// Milliseconds from `now` until `until`, at least one second (Redis rejects 0).
pub(crate) fn ttl_ms(until: crate::time::UnixTime, now: crate::time::UnixTime) -> u64 {
    until
        .as_secs()
        .saturating_sub(now.as_secs())
        .saturating_add(1)
        .saturating_mul(1000)
}

impl core::fmt::Debug for Redis {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
