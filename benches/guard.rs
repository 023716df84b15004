//! Full resource-server request verification (`RequestGuard::check`), cold and warm, next to
//! one raw `p256` verification in the same group.
//!
//! Run with `cargo bench --bench guard`.
//! - `p256_raw_verify`: one `VerifyingKey::verify` of the proof's own signature by the client's
//!   key — the floor for any DPoP request (the proof's signature must be checked).
//! - `guard_cold`: token cache disabled, so every request verifies the token's signature and
//!   the proof's (two verifications plus parsing).
//! - `guard_warm`: the token is in the verified-token cache; the request pays the proof's
//!   verification, revocation and binding checks.
//!
//! Targets (issue 3): warm ≤ 1.10 × raw; cold / warm ≥ 1.8.
//! Both guards use a replay store that never remembers, so one request can be replayed every
//! iteration; the real store's cost is measured in `benches/proof.rs`.

#[path = "support/aws_lc_floor.rs"]
mod aws_lc_floor;
#[path = "support/exact_floor.rs"]
mod exact_floor;
#[path = "support/forgetful_store.rs"]
mod forgetful_store;

use std::hint::black_box;

use exact_floor::SignedParts;
use forgetful_store::ForgetfulStore;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use keybound::{
    IssuerKeys, ProofSigner, ProofVerifier, RequestGuard, ResourceRequest, SigningKey, TokenIssuer,
    TokenRequest, TokenVerifier, UnixTime,
};
use p256::ecdsa::signature::Verifier;

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const URL: &str = "https://api.example.com/v1/orders";
const NOW: u64 = 1_700_000_000;

fn bench_guard(c: &mut Criterion) {
    let now = UnixTime::from_secs(NOW);
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().expect("issuer key"));
    let client = ProofSigner::new(SigningKey::generate().expect("client key"));
    let token = issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint()).with_scope("read"),
            now,
        )
        .expect("token")
        .access_token;
    let proof = client
        .proof("GET", URL)
        .with_access_token(&token)
        .sign(now)
        .expect("proof");
    let authorization = format!("DPoP {token}");
    let authorization = [authorization.as_str()];
    let dpop = [proof.as_str()];
    let request = ResourceRequest::new("GET", URL, &authorization, &dpop);

    let guard = |capacity: usize| {
        RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
            .with_proof_verifier(ProofVerifier::with_replay_store(ForgetfulStore))
            .with_token_cache_capacity(capacity)
    };
    let cold = guard(0);
    let warm = guard(1024);
    assert!(cold.check(&request, now).is_ok());
    assert!(warm.check(&request, now).is_ok());

    // The floor verifies the proof's own signature with the client's key.
    let parts = SignedParts::new(client.key().public_key(), &proof);
    let (raw_public, signature) = parts.p256();
    let message = parts.message.clone();
    assert!(raw_public.verify(&message, &signature).is_ok());

    let mut group = c.benchmark_group("request");
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
    group.bench_function("guard_warm", |b| {
        b.iter(|| warm.check(black_box(&request), now).is_ok())
    });
    group.bench_function("guard_cold", |b| {
        b.iter(|| cold.check(black_box(&request), now).is_ok())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = bench_guard
}
criterion_main!(benches);
