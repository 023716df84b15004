//! Per-key precomputed tables (issue 18), next to one raw `p256` verification in the same group.
//!
//! Run with `cargo bench --bench key_tables` (default backend), then
//! `cargo bench --bench key_tables --features aws-lc`: `p256_raw_verify` is the same pure-Rust
//! code in both builds, so `guard_warm ÷ p256_raw_verify` of one run against the other's gives
//! the default backend's warm request ÷ aws-lc's.
//! - `guard_warm` / `guard_warm_no_tables`: the token cached, the repeat client key's proof
//!   verified through its table / with tables off (`KeyTables::set_memory_limit(0)`: today's
//!   path).
//! - `guard_cold_new_client` / `…_no_tables`: the token not cached (its issuer key hot), a new
//!   client key every request: the token verification goes through the issuer key's table.
//! - `proof_new_key` / `…_no_tables`: a flood of one-off proof keys: what tables cost when they
//!   never pay (the admission count's lookup).
//! - `table_build`: building one key's table (the default backend only).

#[path = "support/aws_lc_floor.rs"]
mod aws_lc_floor;
#[path = "support/exact_floor.rs"]
mod exact_floor;
#[path = "support/forgetful_store.rs"]
mod forgetful_store;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use exact_floor::SignedParts;
use forgetful_store::ForgetfulStore;
use keybound::{
    IssuerKeys, KeyTables, ProofRequest, ProofSigner, ProofVerifier, RequestGuard, ResourceRequest,
    SigningKey, TokenIssuer, TokenRequest, TokenVerifier, UnixTime,
};
use p256::ecdsa::signature::Verifier;

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const URL: &str = "https://api.example.com/v1/orders";
const NOW: u64 = 1_700_000_000;

/// A client with its bound token and one proof for it.
struct Client {
    token: String,
    authorization: String,
    proof: String,
    signer: ProofSigner,
}

impl Client {
    fn new(issuer: &TokenIssuer, now: UnixTime) -> Self {
        let signer = ProofSigner::new(SigningKey::generate().expect("client key"));
        let token = issuer
            .issue(
                &TokenRequest::new("alice", AUD, "app", signer.thumbprint()).with_scope("read"),
                now,
            )
            .expect("token")
            .access_token;
        let proof = signer
            .proof("GET", URL)
            .with_access_token(&token)
            .sign(now)
            .expect("proof");
        Self {
            authorization: format!("DPoP {token}"),
            token,
            proof,
            signer,
        }
    }
}

fn bench_key_tables(c: &mut Criterion) {
    let now = UnixTime::from_secs(NOW);
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().expect("issuer key"));
    let guard = |capacity: usize| {
        RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
            .with_proof_verifier(ProofVerifier::with_replay_store(ForgetfulStore))
            .with_token_cache_capacity(capacity)
    };
    let (warm, cold) = (guard(1024), guard(0));
    let proofs = ProofVerifier::with_replay_store(ForgetfulStore);
    let client = Client::new(&issuer, now);
    let (authz, dpop) = ([client.authorization.as_str()], [client.proof.as_str()]);
    let request = ResourceRequest::new("GET", URL, &authz, &dpop);
    // Past admission: the client's and the issuer's keys have their tables.
    for _ in 0..2 * KeyTables::admit_at() {
        assert!(cold.check(&request, now).is_ok());
        assert!(warm.check(&request, now).is_ok());
    }
    let parts = SignedParts::new(client.signer.key().public_key(), &client.proof);
    let (raw_public, signature) = parts.p256();
    let message = parts.message.clone();
    let tables_on = KeyTables::memory_limit();

    let mut group = c.benchmark_group("key_tables");
    group.bench_function("p256_raw_verify", |b| {
        b.iter(|| raw_public.verify(black_box(&message), black_box(&signature)))
    });
    #[cfg(feature = "aws-lc")]
    {
        let floor =
            aws_lc_floor::AwsLcFloor::new(&message).verifying(&parts.sec1, &parts.signature);
        assert!(floor.verify(&message));
        group.bench_function("aws_lc_raw_verify", |b| {
            b.iter(|| floor.verify(black_box(&message)))
        });
    }
    for (suffix, limit) in [("", tables_on), ("_no_tables", 0)] {
        KeyTables::set_memory_limit(limit);
        for _ in 0..2 * KeyTables::admit_at() {
            assert!(cold.check(&request, now).is_ok());
        }
        group.bench_function(format!("guard_warm{suffix}"), |b| {
            b.iter(|| assert!(warm.check(black_box(&request), now).is_ok()))
        });
        group.bench_function(format!("guard_cold_new_client{suffix}"), |b| {
            b.iter_batched(
                || Client::new(&issuer, now),
                |fresh| {
                    let (authz, dpop) = ([fresh.authorization.as_str()], [fresh.proof.as_str()]);
                    let request = ResourceRequest::new("GET", URL, &authz, &dpop);
                    assert!(cold.check(black_box(&request), now).is_ok());
                },
                BatchSize::SmallInput,
            )
        });
        group.bench_function(format!("proof_new_key{suffix}"), |b| {
            b.iter_batched(
                || Client::new(&issuer, now),
                |fresh| {
                    let dpop = [fresh.proof.as_str()];
                    let request =
                        ProofRequest::new("GET", URL, &dpop).with_access_token(&fresh.token);
                    assert!(proofs.verify(black_box(&request), now).is_ok());
                },
                BatchSize::SmallInput,
            )
        });
    }
    KeyTables::set_memory_limit(tables_on);
    #[cfg(not(feature = "aws-lc"))]
    group.bench_function("table_build", |b| {
        b.iter(|| keybound::es256_build_table(black_box(&parts.sec1)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench_key_tables
}
criterion_main!(benches);
