//! Request verification with the Redis replay and revocation stores on loopback, next to the
//! in-memory stores and one raw `p256` verification, in the same group.
//!
//! Run with `cargo bench --bench redis --features redis` (needs `redis-server` on PATH; the
//! benchmark starts its own on a free port). The difference between a Redis guard and
//! `guard_memory` is the latency Redis adds per request: `guard_redis` opens the stores apart
//! (two round trips: revocation `MGET`, then the replay script), `guard_redis_together` through
//! `RedisStores` (one script, one round trip). `redis_ping` is one raw loopback round trip in
//! the same run, the yardstick of issue 17's target (added latency ≤ 1.2 × one `PING`).

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

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use keybound::{
    AsyncRevocationStore, IssuerKeys, MemoryReplayStore, ProofSigner, ProofVerifier, RedisConfig,
    RedisReplayStore, RedisRevocationStore, RedisStores, ReplayKey, RequestGuard, ResourceRequest,
    Settled, SigningKey, TokenIssuer, TokenRequest, TokenVerifier, UnixTime,
};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey as RawSigningKey, VerifyingKey};

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const URL: &str = "https://api.example.com/v1/orders";

fn bench_redis(c: &mut Criterion) {
    let Some(server) = redis_server::RedisServer::start() else {
        eprintln!("SKIPPED: redis-server not on PATH");
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _entered = runtime.enter();
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
    let verifier = || TokenVerifier::new(ISS, AUD, issuer.keys().key_set());
    // One client makes every proof, tens of thousands per run: its share is lifted here too.
    let memory =
        RequestGuard::new(verifier()).with_proof_verifier(ProofVerifier::with_replay_store(
            MemoryReplayStore::with_capacity(1 << 20).with_per_key_limit(usize::MAX),
        ));
    let config = RedisConfig::new().with_prefix("bench:");
    let redis = RequestGuard::new(verifier())
        .with_proof_verifier(ProofVerifier::with_replay_store(
            // One client makes every proof: its share is lifted.
            RedisReplayStore::open(&server.url(), &config)
                .expect("redis")
                .with_per_key_limit(u64::MAX),
        ))
        .with_revocation_store(RedisRevocationStore::open(&server.url(), &config).expect("redis"));
    let together = {
        let stores = RedisStores::open(&server.url(), &config.clone().with_prefix("bench2:"))
            .expect("redis");
        RequestGuard::new(verifier())
            .with_proof_verifier(ProofVerifier::with_replay_store(
                stores.replay.with_per_key_limit(u64::MAX),
            ))
            .with_revocation_store(stores.revocation)
    };
    let mut ping = runtime
        .block_on(
            redis::Client::open(server.url())
                .expect("client")
                .get_multiplexed_async_connection(),
        )
        .expect("connection");
    let fresh_proof = || {
        client
            .proof("GET", URL)
            .with_access_token(&token)
            .sign(now)
            .expect("proof")
    };

    let raw = RawSigningKey::from_slice(&[0x5a; 32]).expect("scalar");
    let raw_public = VerifyingKey::from(&raw);
    let sample = fresh_proof();
    let message = sample.rsplit_once('.').expect("jws").0.as_bytes().to_vec();
    let signature: Signature = raw.sign(&message);

    let mut group = c.benchmark_group("request_store");
    group.bench_function("p256_raw_verify", |b| {
        b.iter(|| raw_public.verify(black_box(&message), black_box(&signature)))
    });
    group.bench_function("guard_memory", |b| {
        b.iter_batched(
            fresh_proof,
            |proof| {
                let dpop = [proof.as_str()];
                let authz = [authorization.as_str()];
                let request = ResourceRequest::new("GET", URL, &authz, &dpop);
                assert!(memory.check(&request, now).is_ok());
            },
            BatchSize::SmallInput,
        )
    });
    for (name, guard) in [("guard_redis", &redis), ("guard_redis_together", &together)] {
        group.bench_function(name, |b| {
            b.iter_batched(
                fresh_proof,
                |proof| {
                    let dpop = [proof.as_str()];
                    let authz = [authorization.as_str()];
                    let request = ResourceRequest::new("GET", URL, &authz, &dpop);
                    assert!(runtime.block_on(guard.check_async(&request, now)).is_ok());
                },
                BatchSize::SmallInput,
            )
        });
    }
    // The store's part alone: one `check_and_register` (the one script), no proof to verify.
    let stores =
        RedisStores::open(&server.url(), &config.clone().with_prefix("bench3:")).expect("redis");
    let replay = stores.replay.with_per_key_limit(u64::MAX);
    let claims = together.tokens().verify(&token, now).expect("token");
    let mut jti = 0u64;
    group.bench_function("store_check_and_register", |b| {
        b.iter(|| {
            jti += 1;
            let key = ReplayKey::new(&client.thumbprint(), &jti.to_string());
            let expires = UnixTime::from_secs(now.as_secs() + 60);
            let settled = runtime.block_on(stores.revocation.check_and_register(
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
            let pong: String = runtime
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _entered = runtime.enter();
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
    let guard = |config: RedisConfig| {
        let stores = RedisStores::open(&url, &config).expect("redis");
        RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
            .with_proof_verifier(ProofVerifier::with_replay_store(
                stores.replay.with_per_key_limit(u64::MAX),
            ))
            .with_revocation_store(stores.revocation)
    };
    let base = RedisConfig::new().with_timeout(Duration::from_secs(1));
    let unacked = guard(base.clone().with_prefix("plain:"));
    let acked = guard(
        base.with_prefix("acked:")
            .with_replica_acks(1, Duration::from_millis(500)),
    );
    let mut group = c.benchmark_group("replica_acks");
    for (name, guard) in [("guard_no_wait", &unacked), ("guard_wait_1", &acked)] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    client
                        .proof("GET", URL)
                        .with_access_token(&token)
                        .sign(now)
                        .expect("proof")
                },
                |proof| {
                    let dpop = [proof.as_str()];
                    let authz = [authorization.as_str()];
                    let request = ResourceRequest::new("GET", URL, &authz, &dpop);
                    assert!(runtime.block_on(guard.check_async(&request, now)).is_ok());
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = bench_redis, bench_replica_acks
}
criterion_main!(benches);
