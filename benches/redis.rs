//! Request verification with the Redis replay and revocation stores on loopback, next to the
//! in-memory stores and one raw `p256` verification, in the same group.
//!
//! Run with `cargo bench --bench redis --features redis` (needs `redis-server` on PATH; the
//! benchmark starts its own on a free port). The difference between a Redis guard and
//! `guard_memory` is the latency Redis adds per request: `guard_redis` opens the stores apart
//! (two round trips: revocation `MGET`, then the replay script), `guard_redis_together` through
//! `RedisStores` (one script, one round trip). `redis_ping` is one raw loopback round trip in
//! the same run, the yardstick of issue 17's target (added latency ≤ 1.2 × one `PING`).
//! `cluster` does the same on a 3-primary Redis Cluster (`RedisClusterStores`), its `PING` sent
//! to the primary that holds the client's slot.

#[path = "../tests/support/redis_cluster.rs"]
#[allow(dead_code)]
mod redis_cluster;
#[path = "../tests/support/redis_process.rs"]
#[allow(dead_code)]
mod redis_process;
#[path = "../tests/support/redis_sentinel.rs"]
#[allow(dead_code)]
mod redis_sentinel;
#[path = "../tests/support/redis_server.rs"]
mod redis_server;

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion};
use keybound::{
    AsyncReplayStore, AsyncRevocationStore, IssuerKeys, MemoryReplayStore, ProofSigner,
    ProofVerifier, RedisClusterStores, RedisConfig, RedisReplayStore, RedisRevocationStore,
    RedisStores, ReplayKey, RequestGuard, ResourceRequest, Settled, SigningKey, TokenIssuer,
    TokenRequest, TokenVerifier, UnixTime,
};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey as RawSigningKey, VerifyingKey};

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const URL: &str = "https://api.example.com/v1/orders";

/// What every group signs with: one client, its bound token, a current-thread runtime.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    now: UnixTime,
    issuer: TokenIssuer,
    client: ProofSigner,
    token: String,
    authorization: String,
}

impl Fixture {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let now = UnixTime::now();
        let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().expect("key"));
        let client = ProofSigner::new(SigningKey::generate().expect("key"));
        let token = issuer
            .issue(
                &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
                now,
            )
            .expect("token")
            .access_token;
        let authorization = format!("DPoP {token}");
        Self {
            runtime,
            now,
            issuer,
            client,
            token,
            authorization,
        }
    }

    fn verifier(&self) -> TokenVerifier {
        TokenVerifier::new(ISS, AUD, self.issuer.keys().key_set())
    }

    /// A guard on `stores`, the one benchmark client's share lifted (it makes every proof,
    /// tens of thousands per run).
    fn redis_guard(
        &self,
        stores: RedisStores,
    ) -> RequestGuard<RedisReplayStore, RedisRevocationStore> {
        self.guard_on(stores.replay, stores.revocation)
    }

    fn guard_on(
        &self,
        replay: RedisReplayStore,
        revocation: RedisRevocationStore,
    ) -> RequestGuard<RedisReplayStore, RedisRevocationStore> {
        RequestGuard::new(self.verifier())
            .with_proof_verifier(ProofVerifier::with_replay_store(
                replay.with_per_key_limit(u64::MAX),
            ))
            .with_revocation_store(revocation)
    }

    /// The guard with the memory stores, the baseline every Redis guard is compared with.
    fn memory_guard(&self) -> RequestGuard<MemoryReplayStore> {
        RequestGuard::new(self.verifier()).with_proof_verifier(ProofVerifier::with_replay_store(
            MemoryReplayStore::with_capacity(1 << 20).with_per_key_limit(usize::MAX),
        ))
    }

    fn proof(&self) -> String {
        self.client
            .proof("GET", URL)
            .with_access_token(&self.token)
            .sign(self.now)
            .expect("proof")
    }

    /// `name`: `guard` deciding requests with fresh proofs (asynchronous stores).
    fn bench_guard<R: AsyncReplayStore, V: AsyncRevocationStore>(
        &self,
        group: &mut BenchmarkGroup<'_, WallTime>,
        name: &str,
        guard: &RequestGuard<R, V>,
    ) {
        group.bench_function(name, |b| {
            b.iter_batched(
                || self.proof(),
                |proof| {
                    let dpop = [proof.as_str()];
                    let authz = [self.authorization.as_str()];
                    let request = ResourceRequest::new("GET", URL, &authz, &dpop);
                    let checked = self.runtime.block_on(guard.check_async(&request, self.now));
                    assert!(checked.is_ok());
                },
                BatchSize::SmallInput,
            )
        });
    }
}

fn bench_redis(c: &mut Criterion) {
    let Some(server) = redis_server::RedisServer::start() else {
        eprintln!("SKIPPED: redis-server not on PATH");
        return;
    };
    let f = Fixture::new();
    let _entered = f.runtime.enter();
    let now = f.now;
    let memory = f.memory_guard();
    let config = RedisConfig::new().with_prefix("bench:");
    let apart = RequestGuard::new(f.verifier())
        .with_proof_verifier(ProofVerifier::with_replay_store(
            RedisReplayStore::open(&server.url(), &config)
                .expect("redis")
                .with_per_key_limit(u64::MAX),
        ))
        .with_revocation_store(RedisRevocationStore::open(&server.url(), &config).expect("redis"));
    let open = |prefix: &str| {
        RedisStores::open(&server.url(), &config.clone().with_prefix(prefix)).expect("redis")
    };
    let together = f.redis_guard(open("bench2:"));
    let mut ping = f
        .runtime
        .block_on(
            redis::Client::open(server.url())
                .expect("client")
                .get_multiplexed_async_connection(),
        )
        .expect("connection");

    let raw = RawSigningKey::from_slice(&[0x5a; 32]).expect("scalar");
    let raw_public = VerifyingKey::from(&raw);
    let sample = f.proof();
    let message = sample.rsplit_once('.').expect("jws").0.as_bytes().to_vec();
    let signature: Signature = raw.sign(&message);

    let mut group = c.benchmark_group("request_store");
    group.bench_function("p256_raw_verify", |b| {
        b.iter(|| raw_public.verify(black_box(&message), black_box(&signature)))
    });
    // The memory stores answer synchronously: `check_async` is `check` plus a ready future.
    f.bench_guard(&mut group, "guard_memory", &memory);
    f.bench_guard(&mut group, "guard_redis", &apart);
    f.bench_guard(&mut group, "guard_redis_together", &together);
    // The store's part alone: one `check_and_register` (the one script), no proof to verify.
    let stores = open("bench3:");
    let replay = stores.replay.with_per_key_limit(u64::MAX);
    let claims = together.tokens().verify(&f.token, now).expect("token");
    let mut jti = 0u64;
    group.bench_function("store_check_and_register", |b| {
        b.iter(|| {
            jti += 1;
            let key = ReplayKey::new(&f.client.thumbprint(), &jti.to_string());
            let expires = UnixTime::from_secs(now.as_secs() + 60);
            let settled = f.runtime.block_on(stores.revocation.check_and_register(
                claims.claims(),
                &replay,
                &key,
                expires,
                now,
            ));
            assert_eq!(settled, Ok(Settled::Registered));
        })
    });
    group.bench_function("redis_ping", |b| {
        b.iter(|| {
            let pong: String = f
                .runtime
                .block_on(redis::cmd("PING").query_async(&mut ping))
                .expect("ping");
            black_box(pong)
        })
    });
    // The same PING after a signature verification's worth of work, as in a request: minus
    // `p256_raw_verify`, what a round trip costs when Redis and this thread were idle or busy
    // elsewhere in between (the yardstick for the guard's added latency, next to `redis_ping`).
    group.bench_function("redis_ping_after_verify", |b| {
        b.iter(|| {
            assert!(raw_public
                .verify(black_box(&message), black_box(&signature))
                .is_ok());
            let pong: String = f
                .runtime
                .block_on(redis::cmd("PING").query_async(&mut ping))
                .expect("ping");
            black_box(pong)
        })
    });
    group.finish();
}

/// The cost of `RedisConfig::with_replica_acks(1, …)`: a primary with one replica on loopback,
/// the one-script guard with and without `WAIT 1` after the registration.
fn bench_replica_acks(c: &mut Criterion) {
    let Some(setup) = redis_sentinel::RedisSentinel::start(1) else {
        eprintln!("SKIPPED: redis-server not on PATH");
        return;
    };
    let url = format!("redis://127.0.0.1:{}/", setup.server_ports()[0]);
    let f = Fixture::new();
    let _entered = f.runtime.enter();
    let base = RedisConfig::new().with_timeout(Duration::from_secs(1));
    let open = |config: RedisConfig| RedisStores::open(&url, &config).expect("redis");
    let unacked = f.redis_guard(open(base.clone().with_prefix("plain:")));
    let acked = f.redis_guard(open(
        base.with_prefix("acked:")
            .with_replica_acks(1, Duration::from_millis(500)),
    ));
    let mut group = c.benchmark_group("replica_acks");
    f.bench_guard(&mut group, "guard_no_wait", &unacked);
    f.bench_guard(&mut group, "guard_wait_1", &acked);
    group.finish();
}

/// A warm request on a 3-primary Redis Cluster: the script runs in the client key's slot while
/// the `jti`/subject revocation entries are read from theirs at the same time; `cluster_ping`
/// is one raw `PING` to the primary of the client's slot.
fn bench_cluster(c: &mut Criterion) {
    let Some(cluster) = redis_cluster::RedisCluster::start(3, 0, redis_cluster::Creation::RedisCli)
    else {
        eprintln!("SKIPPED: redis-server not on PATH");
        return;
    };
    let f = Fixture::new();
    let _entered = f.runtime.enter();
    let urls = cluster.urls();
    let seeds: Vec<&str> = urls.iter().map(String::as_str).collect();
    let config = RedisConfig::new()
        .allow_plaintext()
        .with_prefix("bench:")
        .with_timeout(Duration::from_secs(1));
    let stores = RedisClusterStores::open(&seeds, &config).expect("cluster");
    let memory = f.memory_guard();
    let guard = f.guard_on(stores.replay, stores.revocation);
    let tag = {
        use base64ct::{Base64UrlUnpadded, Encoding};
        let thumbprint = f.client.thumbprint();
        format!(
            "{{{}}}",
            Base64UrlUnpadded::encode_string(&thumbprint.as_bytes()[..16])
        )
    };
    let node = format!("redis://127.0.0.1:{}/", cluster.primary_of(&tag));
    let mut ping = f
        .runtime
        .block_on(
            redis::Client::open(node)
                .expect("client")
                .get_multiplexed_async_connection(),
        )
        .expect("connection");
    let mut group = c.benchmark_group("cluster");
    f.bench_guard(&mut group, "guard_memory", &memory);
    f.bench_guard(&mut group, "guard_cluster", &guard);
    group.bench_function("cluster_ping", |b| {
        b.iter(|| {
            let pong: String = f
                .runtime
                .block_on(redis::cmd("PING").query_async(&mut ping))
                .expect("ping");
            black_box(pong)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = bench_redis, bench_replica_acks, bench_cluster
}
criterion_main!(benches);
