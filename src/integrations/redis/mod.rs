//! The `redis` feature: replay, revocation and refresh-token state shared by every server
//! instance through Redis: one server ([`RedisStores::open`]), a primary under Sentinel
//! ([`RedisStores::open_sentinel`]) or a Redis Cluster ([`RedisClusterStores`]).
//!
//! Every operation has a deadline ([`RedisConfig::timeout`]); an unreachable or slow Redis
//! answers [`StoreError::Unavailable`], and the guard refuses the request (HTTP 503) — never
//! accepts it unchecked. Every link (one server, Sentinel, Cluster) reconnects by itself:
//! once Redis is back, requests succeed again without restarting anything.
//!
//! **Persistence**: replay entries live at most `max_age + leeway` (about a minute) and can be
//! lost on a restart at the cost of a short replay window. Revocations must survive a restart:
//! run Redis with AOF (`appendonly yes`, `appendfsync everysec` or `always`) or RDB snapshots
//! frequent enough for your tolerance. Without persistence, a Redis restart forgets revocations
//! and used refresh tokens: revoked tokens work again until they expire (at most the token
//! lifetime, 1 hour by default) and refresh-token reuse goes undetected.
//!
//! **Transport**: replay and revocation state between servers must travel over TLS — whoever
//! can read or rewrite that traffic can replay proofs, un-revoke tokens or learn the Redis
//! password. `rediss://` connects with rustls and verifies the server certificate against the
//! platform's trust store, or only against the CAs given to
//! [`RedisConfig::with_root_certificates_pem`]; a client certificate for mutual TLS is set with
//! [`RedisConfig::with_client_certificate_pem`]. Opening a store refuses, with a typed
//! [`StoreError`] and before any connection:
//! - `rediss://…#insecure` (no certificate verification): [`StoreError::InsecureTls`], always;
//! - `redis://` (plain text) to a host other than `localhost`, `127.0.0.0/8` or `::1`:
//!   [`StoreError::PlaintextTransport`], unless [`RedisConfig::allow_plaintext`] says the
//!   network in between is trusted. Unix sockets are always allowed. Cluster seeds and
//!   Sentinels in plain text need `allow_plaintext` even on loopback: the data nodes are
//!   reached at the addresses the servers report, which may be anywhere;
//! - TLS settings with a URL that does not use TLS, PEM without a certificate or key, or a URL
//!   that does not parse: [`StoreError::InvalidConfig`].
//!
//! A handshake that fails (unknown CA, a certificate for another host, a missing client
//! certificate) fails every operation with [`StoreError::Unavailable`]: requests are refused,
//! never accepted unchecked. If the process has no default rustls `CryptoProvider`, opening a
//! `rediss://` store installs rustls' *ring* provider as the default.

use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::Zeroizing;

use crate::error::StoreError;
use link::{Connection, LazyCluster, Link, SentinelLink};

mod link;
pub(crate) mod refresh;
pub(crate) mod replay;
pub(crate) mod revocation;

/// How the Redis stores connect and name their keys.
///
/// ```no_run
/// # async fn example() -> Result<(), keybound::StoreError> {
/// use keybound::{RedisConfig, RedisReplayStore};
///
/// // TLS to a server whose certificate a private CA issued; only that CA is trusted.
/// let ca = std::fs::read("/etc/keybound/redis-ca.pem").expect("the Redis CA");
/// let config = RedisConfig::new()
///     .with_prefix("orders-api:")
///     .with_root_certificates_pem(ca);
/// let replay = RedisReplayStore::open("rediss://:secret@redis.internal:6380/", &config)?;
/// # let _ = replay;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// Prefix of every key. Default **`keybound:`**; give each deployment (or tenant) its own.
    pub prefix: String,
    /// Deadline of one store operation, connection attempts included. Default **250 ms**: a
    /// request waits at most this long for Redis before it is refused with 503.
    pub timeout: Duration,
    /// Replicas that must acknowledge each proof registration (`WAIT`, in the same round trip
    /// as the write) before the request is accepted. Default **0** (no wait): replication is
    /// asynchronous, so a proof registered just before its primary fails can be lost and
    /// accepted once more inside its `iat` window. With 1 or more, fewer acknowledgements
    /// within [`replica_wait`](Self::replica_wait) refuse the request (503): fail closed.
    /// Revocations always wait for every replica connected to the primary.
    pub replica_acks: u32,
    /// How long a write waits for its replica acknowledgements. Default **100 ms**; keep it
    /// under [`timeout`](Self::timeout).
    pub replica_wait: Duration,
    /// Trust anchors for `rediss://`, PEM certificates. Default **none**: the platform's trust
    /// store. When set, only these CAs are trusted (the platform's store is not used): give
    /// the private CA that signed your Redis server's certificate.
    pub root_certificates_pem: Option<Vec<u8>>,
    /// Whether `redis://` (plain text) may reach a host that is not loopback. Default
    /// **false**: replay and revocation state, and the Redis password, would cross the network
    /// readable and rewritable; opening such a store answers
    /// [`StoreError::PlaintextTransport`]. Set it only for a network you trust end to end.
    pub allow_plaintext: bool,
    /// Certificate chain and private key presented for mutual TLS. Default **none**.
    client_identity: Option<ClientIdentity>,
    /// The data nodes' user and password behind Sentinel. Default **none**.
    node_credentials: Option<NodeCredentials>,
}

/// The user and password of the data nodes a Sentinel names. Never in `Debug`, zeroized on
/// drop.
#[derive(Clone, PartialEq, Eq)]
struct NodeCredentials {
    username: Option<String>,
    password: Zeroizing<String>,
}

impl core::fmt::Debug for NodeCredentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("NodeCredentials { .. }")
    }
}

/// A client certificate chain and its private key, PEM. The key never appears in `Debug`, is
/// zeroized on drop and compared in constant time.
#[derive(Clone)]
struct ClientIdentity {
    certificate_chain: Vec<u8>,
    private_key: Zeroizing<Vec<u8>>,
}

impl PartialEq for ClientIdentity {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.private_key[..], &other.private_key[..]);
        let keys = a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0;
        keys & (self.certificate_chain == other.certificate_chain)
    }
}

impl Eq for ClientIdentity {}

impl core::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ClientIdentity { .. }")
    }
}

impl RedisConfig {
    /// The defaults described on each field.
    pub fn new() -> Self {
        Self {
            prefix: "keybound:".to_owned(),
            timeout: Duration::from_millis(250),
            replica_acks: 0,
            replica_wait: Duration::from_millis(100),
            root_certificates_pem: None,
            allow_plaintext: false,
            client_identity: None,
            node_credentials: None,
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

    /// Sets [`replica_acks`](Self::replica_acks) and [`replica_wait`](Self::replica_wait):
    /// every proof registration waits for `replicas` replicas, at most `wait`.
    pub fn with_replica_acks(mut self, replicas: u32, wait: Duration) -> Self {
        self.replica_acks = replicas;
        self.replica_wait = wait;
        self
    }

    /// Sets [`root_certificates_pem`](Self::root_certificates_pem): `rediss://` servers must
    /// present a certificate issued by one of these CAs (PEM, one or more `CERTIFICATE`
    /// blocks) for the host in the URL.
    pub fn with_root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates_pem = Some(pem.into());
        self
    }

    /// Presents a client certificate for mutual TLS (Redis `tls-auth-clients yes`):
    /// `certificate_chain` is PEM, leaf first; `private_key` is its PEM key (PKCS#8, PKCS#1 or
    /// SEC1). The key is zeroized on drop and never printed.
    pub fn with_client_certificate_pem(
        mut self,
        certificate_chain: impl Into<Vec<u8>>,
        private_key: impl Into<Vec<u8>>,
    ) -> Self {
        self.client_identity = Some(ClientIdentity {
            certificate_chain: certificate_chain.into(),
            private_key: Zeroizing::new(private_key.into()),
        });
        self
    }

    /// The user (`None`: the default user) and password of the data nodes behind Sentinel
    /// ([`RedisStores::open_sentinel`]): the Sentinels' own credentials go in their URLs, the
    /// primary's and replicas' (`requirepass`, ACL users) here. Never printed.
    pub fn with_node_credentials(
        mut self,
        username: Option<&str>,
        password: impl Into<String>,
    ) -> Self {
        self.node_credentials = Some(NodeCredentials {
            username: username.map(str::to_owned),
            password: Zeroizing::new(password.into()),
        });
        self
    }

    /// Sets [`allow_plaintext`](Self::allow_plaintext): `redis://` may reach hosts that are not
    /// loopback. Replay and revocation state then crosses the network unprotected; prefer
    /// `rediss://`.
    pub fn allow_plaintext(mut self) -> Self {
        self.allow_plaintext = true;
        self
    }

    /// Whether any TLS setting (trust anchors, client certificate) is present.
    fn has_tls_settings(&self) -> bool {
        self.root_certificates_pem.is_some() || self.client_identity.is_some()
    }

    /// The redis crate's form of the TLS settings, checked: every PEM must hold what it
    /// claims, so a typo fails at start-up rather than as "unavailable" on every request.
    fn tls_certificates(&self) -> Result<redis::TlsCertificates, StoreError> {
        let root_cert = match &self.root_certificates_pem {
            Some(pem) => {
                let certificates = CertificateDer::pem_slice_iter(pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| StoreError::InvalidConfig)?;
                if certificates.is_empty() {
                    return Err(StoreError::InvalidConfig);
                }
                Some(pem.clone())
            }
            None => None,
        };
        let client_tls = match &self.client_identity {
            Some(identity) => {
                let chain = CertificateDer::pem_slice_iter(&identity.certificate_chain)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| StoreError::InvalidConfig)?;
                if chain.is_empty() {
                    return Err(StoreError::InvalidConfig);
                }
                PrivateKeyDer::from_pem_slice(&identity.private_key)
                    .map_err(|_| StoreError::InvalidConfig)?;
                Some(redis::ClientTlsConfig {
                    client_cert: identity.certificate_chain.clone(),
                    client_key: identity.private_key.to_vec(),
                })
            }
            None => None,
        };
        Ok(redis::TlsCertificates {
            client_tls,
            root_cert,
        })
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
    link: Link,
    pub(crate) prefix: String,
    timeout: Duration,
    replica_acks: u32,
    replica_wait_ms: u64,
    /// Shared by every clone of one opened link: stores holding the same link can run one
    /// script for what they would otherwise do in separate round trips.
    opened: std::sync::Arc<()>,
}

/// The three Redis stores on **one** connection to one server, for a guard (and token
/// endpoint) of a fleet: with both the replay and the revocation store from here, each
/// request's revocation lookup and proof registration run as one script — one round trip
/// (stores opened separately take two: `MGET`, then the registration).
///
/// ```no_run
/// # async fn run(tokens: keybound::TokenVerifier) -> Result<(), keybound::StoreError> {
/// use keybound::{ProofVerifier, RedisConfig, RedisStores, RequestGuard};
///
/// let stores = RedisStores::open("rediss://redis.internal:6380/", &RedisConfig::new())?;
/// let guard = RequestGuard::new(tokens)
///     .with_proof_verifier(ProofVerifier::with_replay_store(stores.replay))
///     .with_revocation_store(stores.revocation);
/// # let _ = (guard, stores.refresh); Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RedisStores {
    /// Proofs seen (RFC 9449 §11.1).
    pub replay: replay::RedisReplayStore,
    /// Revoked tokens, keys and subjects.
    pub revocation: revocation::RedisRevocationStore,
    /// Refresh-token records and rotation.
    pub refresh: refresh::RedisRefreshStore,
}

impl RedisStores {
    /// The three stores at `url`, sharing one connection (see [`RedisReplayStore::open`](crate::RedisReplayStore::open)
    /// for the URL and the transport rules).
    pub fn open(url: &str, config: &RedisConfig) -> Result<Self, StoreError> {
        let redis = Redis::open(url, config)?;
        Ok(Self {
            replay: replay::RedisReplayStore::on(redis.clone()),
            revocation: revocation::RedisRevocationStore::on(redis.clone()),
            refresh: refresh::RedisRefreshStore::on(redis),
        })
    }

    /// The three stores on the primary of `service` that `sentinels` name (Sentinel URLs such
    /// as `rediss://sentinel-1.internal:26379`, each held to the same transport rules as
    /// [`open`](Self::open)'s, all TLS or none), sharing one link. The Sentinels' user and
    /// password go in their URLs (the first URL's are used for every Sentinel); the data
    /// nodes' in [`RedisConfig::with_node_credentials`]; the data nodes are reached with the
    /// Sentinels' transport and trust anchors.
    ///
    /// The link follows failovers: the primary's connection is kept until an operation on it
    /// fails or runs out of time, and the next operation asks the Sentinels again (and checks
    /// `ROLE` says `master`). Requests in between are refused (503), never accepted unchecked.
    /// See SECURITY.md for what a failover can lose and [`RedisConfig::with_replica_acks`] for
    /// closing it.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), keybound::StoreError> {
    /// use keybound::{RedisConfig, RedisStores};
    ///
    /// let config = RedisConfig::new()
    ///     .with_node_credentials(None, std::env::var("REDIS_PASSWORD").unwrap_or_default())
    ///     .with_replica_acks(1, std::time::Duration::from_millis(50));
    /// let sentinels = ["rediss://sentinel-1.internal:26379", "rediss://sentinel-2.internal:26379"];
    /// let stores = RedisStores::open_sentinel(&sentinels, "keybound", &config)?;
    /// # let _ = stores; Ok(()) }
    /// ```
    pub fn open_sentinel(
        sentinels: &[&str],
        service: &str,
        config: &RedisConfig,
    ) -> Result<Self, StoreError> {
        let redis = Redis::open_sentinel(sentinels, service, config)?;
        Ok(Self {
            replay: replay::RedisReplayStore::on(redis.clone()),
            revocation: revocation::RedisRevocationStore::on(redis.clone()),
            refresh: refresh::RedisRefreshStore::on(redis),
        })
    }
}

/// The replay and revocation stores on a **Redis Cluster**, sharing one cluster connection
/// (one connection per node, commands routed by slot, `MOVED`/`ASK` redirects and failovers
/// followed within [`RedisConfig::timeout`]).
///
/// Key layout: everything one request by a proof key reads and writes in its script — the
/// proof's replay entry, the key's quota counters and the key's revocation entry — carries the
/// key's hash tag (`{<first 16 bytes of the thumbprint, base64url>}`), so the script touches
/// one slot. Revocations by `jti` and by subject cannot live there (a subject's tokens are bound
/// to many keys, and a `jti` can be revoked knowing nothing else), so each request reads those
/// two entries with one `MGET` sent **at the same time** as the script: the added latency
/// stays about one round trip, the cost is one more command (on up to two more nodes). A
/// revoked token is refused (401) even if its proof was registered meanwhile.
///
/// There is no refresh-token store for a cluster: a rotation reads the token, writes its
/// successor and may revoke the family, three names no layout can put in one slot before the
/// token is read. Keep the authorization server's refresh store on one server or Sentinel
/// ([`RedisStores`]).
///
/// ```no_run
/// # async fn run(tokens: keybound::TokenVerifier) -> Result<(), keybound::StoreError> {
/// use keybound::{ProofVerifier, RedisClusterStores, RedisConfig, RequestGuard};
///
/// let seeds = ["rediss://redis-1.internal:6379", "rediss://redis-2.internal:6379"];
/// let stores = RedisClusterStores::open(&seeds, &RedisConfig::new())?;
/// let guard = RequestGuard::new(tokens)
///     .with_proof_verifier(ProofVerifier::with_replay_store(stores.replay))
///     .with_revocation_store(stores.revocation);
/// # let _ = guard; Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RedisClusterStores {
    /// Proofs seen (RFC 9449 §11.1).
    pub replay: replay::RedisReplayStore,
    /// Revoked tokens, keys and subjects.
    pub revocation: revocation::RedisRevocationStore,
}

impl RedisClusterStores {
    /// The stores on the cluster that `nodes` (one or more seed URLs of its nodes, each held
    /// to the same transport rules as [`RedisStores::open`]'s, all TLS or none) belong to.
    /// Connects lazily: the first operation reads the slot map; call within a Tokio runtime.
    pub fn open(nodes: &[&str], config: &RedisConfig) -> Result<Self, StoreError> {
        let redis = Redis::open_cluster(nodes, config)?;
        Ok(Self {
            replay: replay::RedisReplayStore::on(redis.clone()),
            revocation: revocation::RedisRevocationStore::on(redis),
        })
    }
}

impl Redis {
    /// Prepares a connection to `url` (e.g. `redis://127.0.0.1:6379/`) without connecting: the
    /// first operation connects, and a server that is down at start-up only fails operations
    /// until it is up. Must be called within a Tokio runtime.
    ///
    /// Refuses, before any connection, what the module documentation lists: `#insecure` TLS,
    /// plain text to a remote host (unless allowed), unusable settings.
    pub(crate) fn open(url: &str, config: &RedisConfig) -> Result<Self, StoreError> {
        let client = client(url, config)?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            .set_number_of_retries(1)
            .set_max_delay(config.timeout);
        let connection = ConnectionManager::new_lazy_with_config(client, manager_config)
            .map_err(|_| StoreError::Unavailable)?;
        Ok(Self::on(Link::Node(connection), config))
    }

    /// Prepares a Redis Cluster link from `nodes` (seed URLs, each checked like
    /// [`open`](Self::open)'s; all TLS or all not). The first operation reads the slot map.
    pub(crate) fn open_cluster(nodes: &[&str], config: &RedisConfig) -> Result<Self, StoreError> {
        let (infos, transport) = checked_all(nodes, config)?;
        let mut builder = redis::cluster::ClusterClientBuilder::new(infos)
            .connection_timeout(config.timeout)
            .response_timeout(config.timeout)
            .overall_response_timeout(Some(config.timeout))
            // A redirect (`MOVED`, `ASK`) or a failover in progress is retried within the
            // deadline; the crate's default of 16 retries would outlast it.
            .retries(3);
        if transport == Transport::Tls {
            ensure_crypto_provider();
            builder = builder.certs(config.tls_certificates()?);
        }
        let client = builder.build().map_err(|_| StoreError::InvalidConfig)?;
        Ok(Self::on(
            Link::Cluster(std::sync::Arc::new(LazyCluster::new(client))),
            config,
        ))
    }

    /// Prepares a link to the primary of `service` that `sentinels` (Sentinel URLs, each
    /// checked like [`open`](Self::open)'s; all TLS or all not) name. The data nodes are
    /// reached with the Sentinels' transport and [`RedisConfig::with_node_credentials`].
    pub(crate) fn open_sentinel(
        sentinels: &[&str],
        service: &str,
        config: &RedisConfig,
    ) -> Result<Self, StoreError> {
        let (infos, transport) = checked_all(sentinels, config)?;
        if service.is_empty() {
            return Err(StoreError::InvalidConfig);
        }
        let first = infos[0].redis_settings();
        let mut builder = redis::sentinel::SentinelClientBuilder::new(
            infos.iter().map(|info| info.addr().clone()),
            service,
            redis::sentinel::SentinelServerType::Master,
        )
        .map_err(|_| StoreError::InvalidConfig)?;
        if let Some(username) = first.username() {
            builder = builder.set_client_to_sentinel_username(username);
        }
        if let Some(password) = first.password() {
            builder = builder.set_client_to_sentinel_password(password);
        }
        if let Some(credentials) = &config.node_credentials {
            if let Some(username) = &credentials.username {
                builder = builder.set_client_to_redis_username(username);
            }
            builder = builder.set_client_to_redis_password(&*credentials.password);
        }
        if transport == Transport::Tls {
            ensure_crypto_provider();
            let certificates = config.tls_certificates()?;
            builder = builder
                .set_client_to_sentinel_tls_mode(redis::TlsMode::Secure)
                .set_client_to_sentinel_certificates(config.tls_certificates()?)
                .set_client_to_redis_tls_mode(redis::TlsMode::Secure)
                .set_client_to_redis_certificates(certificates);
        }
        let client = builder.build().map_err(|_| StoreError::InvalidConfig)?;
        let connection_config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout));
        Ok(Self::on(
            Link::Sentinel(std::sync::Arc::new(SentinelLink::new(
                client,
                connection_config,
            ))),
            config,
        ))
    }

    fn on(link: Link, config: &RedisConfig) -> Self {
        Self {
            link,
            prefix: config.prefix.clone(),
            timeout: config.timeout,
            replica_acks: config.replica_acks,
            replica_wait_ms: u64::try_from(config.replica_wait.as_millis()).unwrap_or(u64::MAX),
            opened: std::sync::Arc::new(()),
        }
    }

    /// Whether this link is to a Redis Cluster (a script's keys must share one slot).
    pub(crate) fn is_cluster(&self) -> bool {
        self.link.is_cluster()
    }

    /// Runs the writing `script` with `keys` and `args`, followed — when
    /// [`RedisConfig::replica_acks`] asks for it — by `WAIT` in the same round trip.
    pub(crate) async fn run_write_script(
        &self,
        script: &redis::Script,
        keys: &[String],
        args: &[u64],
    ) -> Result<i64, StoreError> {
        self.run_script_then_wait(script, keys, args, self.replica_acks)
            .await
    }

    /// Runs `script`, then waits for `replicas` acknowledgements (none: no `WAIT`); fewer
    /// within the configured wait is `Unavailable`. `EVALSHA` and `WAIT` go in one pipeline;
    /// on `NOSCRIPT` the script is loaded and the pipeline sent once more.
    pub(crate) async fn run_script_then_wait(
        &self,
        script: &redis::Script,
        keys: &[String],
        args: &[u64],
        replicas: u32,
    ) -> Result<i64, StoreError> {
        let wait_ms = self.replica_wait_ms;
        let pipeline = || {
            let mut pipeline = redis::pipe();
            pipeline
                .cmd("EVALSHA")
                .arg(script.get_hash())
                .arg(keys.len())
                .arg(keys)
                .arg(args);
            if replicas > 0 {
                pipeline.cmd("WAIT").arg(replicas).arg(wait_ms);
            }
            pipeline
        };
        let answers: Vec<redis::Value> = self
            .run(|mut connection| async move {
                match pipeline().query_async(&mut connection).await {
                    Err(error) if is_no_script(&error) => {
                        script.load_async(&mut connection).await?;
                        pipeline().query_async(&mut connection).await
                    }
                    other => other,
                }
            })
            .await?;
        let number = |value: Option<&redis::Value>| match value {
            Some(redis::Value::Int(n)) => Some(*n),
            _ => None,
        };
        let answer = number(answers.first()).ok_or(StoreError::Unavailable)?;
        if replicas > 0 {
            let acked = number(answers.get(1)).ok_or(StoreError::Unavailable)?;
            if acked < i64::from(replicas) {
                return Err(StoreError::Unavailable);
            }
        }
        Ok(answer)
    }

    /// How many replicas are connected to the primary holding `key` (`INFO replication`).
    pub(crate) async fn connected_replicas(&self, key: &str) -> Result<u32, StoreError> {
        let info: String = self
            .run(|mut connection| async move { connection.replication_info(key).await })
            .await?;
        info.lines()
            .find_map(|line| line.strip_prefix("connected_slaves:"))
            .and_then(|n| n.trim().parse().ok())
            .ok_or(StoreError::Unavailable)
    }

    /// Whether `self` and `other` are clones of one opened link.
    pub(crate) fn same_link(&self, other: &Redis) -> bool {
        std::sync::Arc::ptr_eq(&self.opened, &other.opened)
    }

    /// Runs `operation` on a connection under the deadline (connecting included); any failure
    /// is `Unavailable`.
    pub(crate) async fn run<T, F, Fut>(&self, operation: F) -> Result<T, StoreError>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let attempt = async { operation(self.link.connect().await?).await };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) | Err(_) => {
                self.link.failed();
                Err(StoreError::Unavailable)
            }
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

    /// `{prefix}{kind}:{<base64url(owner)>}:{base64url(bytes)}`: a name in the Redis Cluster
    /// slot of the proof key `owner` (the `{…}` hash tag), where everything one request by
    /// that key reads and writes lives.
    pub(crate) fn owned_key(&self, kind: &str, owner: &[u8; 16], bytes: &[u8]) -> String {
        format!(
            "{}{kind}:{}:{}",
            self.prefix,
            owner_tag(owner),
            crate::jose::base64url::encode(bytes)
        )
    }
}

/// `{<base64url(owner)>}`: the hash tag of one proof key's slot.
pub(crate) fn owner_tag(owner: &[u8; 16]) -> String {
    format!("{{{}}}", crate::jose::base64url::encode(owner))
}

/// Whether `error` (of one command or of a pipeline) says the server does not hold the script.
fn is_no_script(error: &redis::RedisError) -> bool {
    error.clone().into_server_errors().is_some_and(|errors| {
        errors
            .iter()
            .any(|(_, e)| e.kind() == Some(redis::ServerErrorKind::NoScript))
    })
}

/// A client for `url` that respects the transport rules of the module documentation.
fn client(url: &str, config: &RedisConfig) -> Result<redis::Client, StoreError> {
    let (info, transport) = checked(url, config)?;
    match transport {
        Transport::Tls => {
            ensure_crypto_provider();
            let certificates = config.tls_certificates()?;
            redis::Client::build_with_tls(info, certificates).map_err(|_| StoreError::InvalidConfig)
        }
        Transport::Plain => redis::Client::open(info).map_err(|_| StoreError::InvalidConfig),
    }
}

/// How a checked URL is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Tls,
    Plain,
}

/// `url` parsed and held to the transport rules of the module documentation.
fn checked(url: &str, config: &RedisConfig) -> Result<(ConnectionInfo, Transport), StoreError> {
    let info = url
        .into_connection_info()
        .map_err(|_| StoreError::InvalidConfig)?;
    let transport = match info.addr() {
        ConnectionAddr::TcpTls { insecure: true, .. } => return Err(StoreError::InsecureTls),
        ConnectionAddr::TcpTls { .. } => Transport::Tls,
        ConnectionAddr::Tcp(host, _)
            if !config.allow_plaintext && !crate::secure_url::is_loopback(host) =>
        {
            return Err(StoreError::PlaintextTransport)
        }
        ConnectionAddr::Tcp(..) | ConnectionAddr::Unix(_) if !config.has_tls_settings() => {
            Transport::Plain
        }
        // TLS settings for a URL without TLS (the caller meant `rediss://`), or an address
        // kind this crate does not know: refused rather than connected without them.
        _ => return Err(StoreError::InvalidConfig),
    };
    Ok((info, transport))
}

/// Every URL of a cluster's seeds or a Sentinel set, checked; at least one, all with the same
/// transport. Plain text needs [`RedisConfig::allow_plaintext`] even on loopback: the data
/// nodes are reached at addresses the servers report (`CLUSTER SLOTS`, the Sentinels' answer),
/// which the loopback exception cannot vouch for.
fn checked_all(
    urls: &[&str],
    config: &RedisConfig,
) -> Result<(Vec<ConnectionInfo>, Transport), StoreError> {
    let checked = urls
        .iter()
        .map(|url| checked(url, config))
        .collect::<Result<Vec<_>, _>>()?;
    let transport = checked.first().ok_or(StoreError::InvalidConfig)?.1;
    if checked.iter().any(|(_, t)| *t != transport) {
        return Err(StoreError::InvalidConfig);
    }
    if transport == Transport::Plain && !config.allow_plaintext {
        return Err(StoreError::PlaintextTransport);
    }
    Ok((
        checked.into_iter().map(|(info, _)| info).collect(),
        transport,
    ))
}

/// The redis crate builds its rustls configuration with the process-default provider, and
/// rustls panics when there is none it can choose (e.g. when both of its providers are
/// compiled in). Install *ring* if the application has not chosen one.
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // An error means another thread installed a provider first: that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(url: &str, config: &RedisConfig) -> StoreError {
        client(url, config).map(|_| ()).unwrap_err()
    }

    #[test]
    fn insecure_tls_is_always_refused() {
        for url in [
            "rediss://127.0.0.1:6380/#insecure",
            "rediss://redis.example.net/#insecure",
            "valkeys://redis.example.net/0#insecure",
        ] {
            assert_eq!(refusal(url, &RedisConfig::new()), StoreError::InsecureTls);
            let permissive = RedisConfig::new().allow_plaintext();
            assert_eq!(refusal(url, &permissive), StoreError::InsecureTls, "{url}");
        }
    }

    #[test]
    fn plaintext_to_a_remote_host_needs_the_opt_in() {
        for url in [
            "redis://redis.example.net:6379/",
            "redis://:password@10.0.0.7/",
            "redis://192.168.1.2/",
            "redis://[2001:db8::1]:6379/",
            "redis://128.0.0.1/",
            "redis://localhost.example.net/",
            "valkey://cache.internal/",
        ] {
            assert_eq!(
                refusal(url, &RedisConfig::new()),
                StoreError::PlaintextTransport,
                "{url}"
            );
            assert!(client(url, &RedisConfig::new().allow_plaintext()).is_ok());
        }
    }

    #[test]
    fn loopback_and_unix_sockets_may_be_plaintext() {
        for url in [
            "redis://127.0.0.1:6379/",
            "redis://127.10.20.30/",
            "redis://localhost/",
            "redis://LOCALHOST:6379/1",
            "redis://[::1]:6379/",
            "redis://[::ffff:127.0.0.1]/",
            "redis+unix:///run/redis.sock",
            "unix:///run/redis.sock",
        ] {
            assert!(client(url, &RedisConfig::new()).is_ok(), "{url}");
        }
    }

    #[test]
    fn tls_is_accepted_for_any_host() {
        for url in [
            "rediss://redis.example.net:6380/",
            "rediss://:password@10.0.0.7/",
        ] {
            assert!(client(url, &RedisConfig::new()).is_ok(), "{url}");
        }
    }

    #[test]
    fn unusable_settings_are_refused() {
        let (cert, key) = identity();
        let (cert, key) = (cert.as_str(), key.as_str());
        let not_pem = RedisConfig::new().with_root_certificates_pem("not a certificate");
        let tls = "rediss://redis.example.net/";
        assert_eq!(refusal(tls, &not_pem), StoreError::InvalidConfig);
        let no_key = RedisConfig::new().with_client_certificate_pem(cert, "no key");
        assert_eq!(refusal(tls, &no_key), StoreError::InvalidConfig);
        let no_chain = RedisConfig::new().with_client_certificate_pem("", key);
        assert_eq!(refusal(tls, &no_chain), StoreError::InvalidConfig);
        // TLS settings with a URL without TLS: the caller meant `rediss://`.
        let with_ca = RedisConfig::new().with_root_certificates_pem(cert);
        assert_eq!(
            refusal("redis://127.0.0.1/", &with_ca),
            StoreError::InvalidConfig
        );
        assert_eq!(
            refusal("unix:///run/redis.sock", &with_ca),
            StoreError::InvalidConfig
        );
        assert!(client(tls, &with_ca).is_ok());
        for url in ["", "http://127.0.0.1/", "redis://", "rediss://host/#other"] {
            assert_eq!(
                refusal(url, &RedisConfig::new()),
                StoreError::InvalidConfig,
                "{url}"
            );
        }
    }

    #[test]
    fn debug_never_prints_the_client_key() {
        let (cert, key) = identity();
        let (cert, key) = (cert.as_str(), key.as_str());
        let config = RedisConfig::new().with_client_certificate_pem(cert, key);
        let printed = format!("{config:?}");
        assert!(printed.contains("client_identity: Some(ClientIdentity { .. })"));
        assert!(!printed.contains("PRIVATE key"), "{printed}");
        assert_eq!(config, config.clone());
        assert_ne!(
            config,
            RedisConfig::new().with_client_certificate_pem(cert, "other")
        );
    }

    #[test]
    fn debug_never_prints_the_node_password() {
        let config = RedisConfig::new().with_node_credentials(Some("api"), "hunter2-secret");
        let printed = format!("{config:?}");
        assert!(printed.contains("NodeCredentials { .. }"), "{printed}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("api"),
            "{printed}"
        );
    }

    #[test]
    fn errors_are_typed_and_fixed() {
        assert_eq!(
            StoreError::PlaintextTransport.reason(),
            "store_plaintext_transport"
        );
        assert_eq!(StoreError::InsecureTls.reason(), "store_insecure_tls");
        assert_eq!(StoreError::InvalidConfig.reason(), "store_invalid_config");
        let error = crate::Error::Store(StoreError::PlaintextTransport);
        assert_eq!(error.status(crate::Endpoint::Resource), 503);
    }

    /// A throwaway self-signed certificate and its key, PEM.
    fn identity() -> (String, String) {
        let certified = rcgen::generate_simple_self_signed(["test".to_owned()]).unwrap();
        (certified.cert.pem(), certified.signing_key.serialize_pem())
    }
}
