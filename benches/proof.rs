//! DPoP proof signing and verification against the raw `p256` ECDSA operations they wrap.
//!
//! Run with `cargo bench --bench proof`. Group `verify` compares `VerifyingKey::verify` of a
//! proof's own signature by its own key with `ProofVerifier::verify` of that proof (every RFC 9449 §4.3
//! check, `ath` included), once with a replay store that never remembers (so one proof can be
//! verified repeatedly) and once with the real `MemoryReplayStore` (a distinct proof per
//! iteration). Group `sign` compares `SigningKey::sign` of a message of the same length with
//! `ProofSigner` building and signing a proof.

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

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use keybound::{MemoryReplayStore, ProofRequest, ProofSigner, ProofVerifier, SigningKey, UnixTime};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey as RawSigningKey};

const METHOD: &str = "POST";
const URL: &str = "https://api.example.com/v1/orders?page=2";
const ACCESS_TOKEN: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhbGljZSIsImNuZiI6eyJqa3QiOiIwWmNPQ09SWk5ZeS1EV3BxcTMwalp5SkdIVE4wZDJIZ2xCVjN1aWd1QTRJIn19.c2lnbmF0dXJlLXBsYWNlaG9sZGVyLWJ5dGVzLWZvci10aGUtYmVuY2htYXJr";
/// `iat` of every proof and the verifier's `now`.
const NOW: u64 = 1_700_000_000;

fn signer() -> ProofSigner {
    ProofSigner::new(SigningKey::generate().expect("key generation"))
}

fn sign_proof(signer: &ProofSigner, now: UnixTime) -> String {
    signer
        .proof(METHOD, URL)
        .with_access_token(ACCESS_TOKEN)
        .sign(now)
        .expect("signing a proof")
}

/// A fixed raw P-256 key for the baselines (any scalar in `[1, n)` will do).
fn raw_key() -> RawSigningKey {
    RawSigningKey::from_slice(&[0x5a; 32]).expect("a valid P-256 scalar")
}

fn bench_verify(c: &mut Criterion) {
    let now = UnixTime::from_secs(NOW);
    let signer = signer();
    let proof = sign_proof(&signer, now);
    // The exact bytes the proof's signature covers: `header.payload`.
    let (signing_input, _) = proof.rsplit_once('.').expect("compact JWS");
    let message = signing_input.as_bytes().to_vec();

    // The floor verifies the proof's own signature with the signer's key.
    let parts = SignedParts::new(signer.key().public_key(), &proof);
    let (verifying_key, signature) = parts.p256();
    assert!(verifying_key.verify(&message, &signature).is_ok());

    let verifier = ProofVerifier::with_replay_store(ForgetfulStore);
    let headers = [proof.as_str()];
    let check = ProofRequest::new(METHOD, URL, &headers).with_access_token(ACCESS_TOKEN);
    let verified = verifier.verify(&check, now).expect("the proof verifies");
    assert_eq!(verified.issued_at(), now);

    let mut group = c.benchmark_group("verify");
    #[cfg(feature = "aws-lc")]
    {
        let floor =
            aws_lc_floor::AwsLcFloor::new(&message).verifying(&parts.sec1, &parts.signature);
        assert!(floor.verify(&message));
        group.bench_function("aws_lc_raw_verify", |b| {
            b.iter(|| floor.verify(black_box(&message)))
        });
    }
    group.bench_function("p256_raw_verify", |b| {
        b.iter(|| {
            verifying_key
                .verify(black_box(&message), black_box(&signature))
                .expect("valid signature")
        })
    });
    group.bench_function("keybound_verify_proof", |b| {
        b.iter(|| {
            let headers = [black_box(proof.as_str())];
            let request = ProofRequest::new(METHOD, URL, &headers).with_access_token(ACCESS_TOKEN);
            verifier
                .verify(&request, black_box(now))
                .expect("valid proof")
        })
    });

    // The real store remembers every proof (its `jti`), so each iteration needs a fresh one:
    // proofs are signed in the untimed setup. Capacity far above the iterations criterion runs
    // here (tens of thousands), so the store never fills up and fails closed.
    // One client signs every proof: its share of the store is lifted (it would otherwise be
    // refused with 429 after 65 536 proofs in one window).
    let remembering = ProofVerifier::with_replay_store(
        MemoryReplayStore::with_capacity(1 << 20).with_per_key_limit(usize::MAX),
    );
    group.bench_function("keybound_verify_proof_memory_store", |b| {
        b.iter_batched(
            || sign_proof(&signer, now),
            |proof| {
                let headers = [proof.as_str()];
                let request =
                    ProofRequest::new(METHOD, URL, &headers).with_access_token(ACCESS_TOKEN);
                remembering
                    .verify(&request, black_box(now))
                    .expect("fresh proof")
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn bench_sign(c: &mut Criterion) {
    let now = UnixTime::from_secs(NOW);
    let signer = signer();
    let proof = sign_proof(&signer, now);
    let (signing_input, _) = proof.rsplit_once('.').expect("compact JWS");
    // Same length as a real proof's signing input (jti is random but fixed-length).
    let message = signing_input.as_bytes().to_vec();
    let raw = raw_key();

    let mut group = c.benchmark_group("sign");
    #[cfg(feature = "aws-lc")]
    {
        let floor = aws_lc_floor::AwsLcFloor::new(&message);
        group.bench_function("aws_lc_raw_sign", |b| {
            b.iter(|| floor.sign(black_box(&message)))
        });
    }
    group.bench_function("p256_raw_sign", |b| {
        b.iter(|| {
            let signature: Signature = raw.sign(black_box(&message));
            signature
        })
    });
    group.bench_function("keybound_sign_proof", |b| {
        b.iter(|| sign_proof(black_box(&signer), black_box(now)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    targets = bench_verify, bench_sign
}
criterion_main!(benches);
