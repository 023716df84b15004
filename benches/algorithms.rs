//! Proof verification per JWS algorithm, and requests with an RS256 access token, against the
//! raw operations of the same algorithm on the same backend.
//!
//! Run with `cargo bench --bench algorithms` (add `--features aws-lc` for that backend). For
//! each algorithm, group `alg/<ALG>` holds:
//! - `raw_verify`: the backend's own verification of the proof's signature, with the public key
//!   parsed from the proof's `jwk` inside the timed loop, exactly as a verifier must for a key
//!   that arrives with each proof (the floor);
//! - `raw_verify_prepared`: the same with the key parsed once, outside the loop;
//! - `keybound_verify_proof`: `ProofVerifier::verify` of that proof, every RFC 9449 §4.3 check.
//!
//! Group `rs256_token` compares a warm request (RS256 token already in the verified-token
//! cache, ES256 proof) with one raw ES256 verification, and a cold request (token cache
//! disabled: RS256 token verification plus ES256 proof verification) with the two raw
//! verifications it contains.

#[path = "support/forgetful_store.rs"]
mod forgetful_store;
#[path = "support/raw_verify.rs"]
mod raw_verify;
#[path = "support/rs256_request.rs"]
mod rs256_request;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use forgetful_store::ForgetfulStore;
use keybound::{Algorithm, ProofRequest, ProofSigner, ProofVerifier, SigningKey, UnixTime};
use raw_verify::{raw, Parts};
use rs256_request::Rs256Request;
use serde_json::Value;

const URL: &str = "https://api.example.com/v1/orders";
const NOW: u64 = 1_700_000_000;

fn key_for(alg: Algorithm) -> SigningKey {
    if alg.is_rsa() {
        SigningKey::generate_rsa(alg, 2048).expect("RSA key")
    } else {
        SigningKey::generate_for(alg).expect("key")
    }
}

fn bench_proofs(c: &mut Criterion) {
    let now = UnixTime::from_secs(NOW);
    let verifier = ProofVerifier::with_replay_store(ForgetfulStore);
    for alg in Algorithm::ALL {
        let signer = ProofSigner::new(key_for(alg));
        let proof = signer.proof("GET", URL).sign(now).expect("proof");
        let parts = Parts::of_proof(&proof);
        let prepared = raw::parse(alg, &parts);
        assert!(raw::verify(
            alg,
            &prepared,
            &parts.message,
            &parts.signature
        ));
        let headers = [proof.as_str()];
        assert!(verifier
            .verify(&ProofRequest::new("GET", URL, &headers), now)
            .is_ok());

        let mut group = c.benchmark_group(format!("alg/{alg}"));
        group.bench_function("raw_verify", |b| {
            b.iter(|| {
                let key = raw::parse(alg, black_box(&parts));
                raw::verify(alg, &key, &parts.message, &parts.signature)
            })
        });
        group.bench_function("raw_verify_prepared", |b| {
            b.iter(|| raw::verify(alg, &prepared, black_box(&parts.message), &parts.signature))
        });
        group.bench_function("keybound_verify_proof", |b| {
            b.iter(|| {
                let headers = [black_box(proof.as_str())];
                verifier
                    .verify(&ProofRequest::new("GET", URL, &headers), now)
                    .expect("valid proof")
            })
        });
        group.finish();
    }
}

fn bench_rs256_token(c: &mut Criterion) {
    let now = UnixTime::from_secs(NOW);
    let fixture = Rs256Request::new(
        key_for(Algorithm::Rs256),
        SigningKey::generate().expect("key"),
        URL,
        now,
    );
    let headers = fixture.headers();
    let request = fixture.request(&headers);
    let warm = fixture.guard(1024);
    let cold = fixture.guard(0);
    assert!(warm.check(&request, now).is_ok());
    assert!(cold.check(&request, now).is_ok());

    let proof_parts = Parts::of_proof(&fixture.proof);
    let issuer_jwk: Value =
        serde_json::from_str(&fixture.issuer.keys().active().public_key().to_jwk()).expect("JWK");
    let token_parts = Parts::of(&fixture.token, issuer_jwk);
    let es256 = raw::parse(Algorithm::Es256, &proof_parts);
    let rs256 = raw::parse(Algorithm::Rs256, &token_parts);
    assert!(raw::verify(
        Algorithm::Rs256,
        &rs256,
        &token_parts.message,
        &token_parts.signature
    ));

    let mut group = c.benchmark_group("rs256_token");
    group.bench_function("raw_es256_verify", |b| {
        b.iter(|| {
            let key = raw::parse(Algorithm::Es256, black_box(&proof_parts));
            raw::verify(
                Algorithm::Es256,
                &key,
                &proof_parts.message,
                &proof_parts.signature,
            )
        })
    });
    group.bench_function("raw_es256_plus_rs256_verify", |b| {
        b.iter(|| {
            raw::verify(
                Algorithm::Es256,
                &es256,
                &proof_parts.message,
                &proof_parts.signature,
            ) && raw::verify(
                Algorithm::Rs256,
                &rs256,
                &token_parts.message,
                &token_parts.signature,
            )
        })
    });
    group.bench_function("keybound_warm_request", |b| {
        b.iter(|| warm.check(black_box(&request), now).is_ok())
    });
    group.bench_function("keybound_cold_request", |b| {
        b.iter(|| cold.check(black_box(&request), now).is_ok())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    targets = bench_proofs, bench_rs256_token
}
criterion_main!(benches);
