//! Encrypted access tokens (nested JWTs, issue 15): requests with an encrypted token, warm and
//! cold, and the decryption of one token per key-management algorithm, next to one raw ES256
//! verification in the same group.
//!
//! Run with `cargo bench --bench encrypted_tokens`. Group `encrypted_token`:
//! - `p256_raw_verify`: one `p256` verification of the encrypted request's own proof signature
//!   with the client's key (the exact floor, `benches/support/exact_floor.rs`);
//! - `warm_encrypted_request`: `RequestGuard::check` with a token encrypted with
//!   `ECDH-ES+A128KW` (P-256) / `A256GCM`, already in the verified-token cache: the cache is
//!   keyed on the token as presented, so nothing is decrypted; the request pays the proof's
//!   verification, binding and revocation checks;
//! - `warm_plain_request`: the same with a plain signed token (`benches/guard.rs`'s
//!   `guard_warm`), for comparison;
//! - `cold_encrypted_request` / `cold_plain_request`: token cache disabled, so every request
//!   also decrypts (encrypted) and verifies the token's signature;
//! - `decrypt/<case>`: `decrypt_nested_jwt` of one token for each case of
//!   `benches/support/encrypted_request.rs` (the cold decryption cost per algorithm).
//!
//! Target (issue 15): warm encrypted request ≤ 1.10 × raw verify. The guards use a replay store
//! that never remembers, so one request can be replayed every iteration.

#[path = "../examples/generate_vectors/drbg.rs"]
#[allow(dead_code)]
mod drbg;
#[path = "support/encrypted_request.rs"]
mod encrypted_request;
#[path = "support/exact_floor.rs"]
mod exact_floor;
#[path = "support/forgetful_store.rs"]
mod forgetful_store;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use encrypted_request::{decryption_key, EncryptedTokens, CASES};
use exact_floor::SignedParts;
use keybound::{decrypt_nested_jwt, UnixTime};
use p256::ecdsa::signature::Verifier;

const NOW: u64 = 1_700_000_000;

fn bench_encrypted_tokens(c: &mut Criterion) {
    let now = UnixTime::from_secs(NOW);
    let tokens = EncryptedTokens::new(now);
    let case = &CASES[0];
    let encrypted = tokens.encrypted_request(case);
    let plain = tokens.plain_request();
    let (encrypted_headers, plain_headers) = (encrypted.headers(), plain.headers());
    let (encrypted_request, plain_request) = (
        encrypted.request(&encrypted_headers),
        plain.request(&plain_headers),
    );
    let warm_encrypted = tokens.guard(1024, Some(case));
    let cold_encrypted = tokens.guard(0, Some(case));
    let warm_plain = tokens.guard(1024, None);
    let cold_plain = tokens.guard(0, None);
    for (guard, request) in [
        (&warm_encrypted, &encrypted_request),
        (&cold_encrypted, &encrypted_request),
        (&warm_plain, &plain_request),
        (&cold_plain, &plain_request),
    ] {
        assert!(guard.check(request, now).is_ok());
    }

    let parts = SignedParts::new(tokens.client.key().public_key(), &encrypted.proof);
    let (raw_public, signature) = parts.p256();
    let message = parts.message.clone();
    assert!(raw_public.verify(&message, &signature).is_ok());

    let decryptions: Vec<_> = CASES
        .iter()
        .map(|case| {
            let token = tokens.encrypted_token(case);
            let keys = [decryption_key(case)];
            assert!(decrypt_nested_jwt(&token, &keys).is_ok());
            (case.name, token, keys)
        })
        .collect();

    let mut group = c.benchmark_group("encrypted_token");
    group.bench_function("p256_raw_verify", |b| {
        b.iter(|| raw_public.verify(black_box(&message), black_box(&signature)))
    });
    group.bench_function("warm_encrypted_request", |b| {
        b.iter(|| {
            warm_encrypted
                .check(black_box(&encrypted_request), now)
                .is_ok()
        })
    });
    group.bench_function("warm_plain_request", |b| {
        b.iter(|| warm_plain.check(black_box(&plain_request), now).is_ok())
    });
    group.bench_function("cold_encrypted_request", |b| {
        b.iter(|| {
            cold_encrypted
                .check(black_box(&encrypted_request), now)
                .is_ok()
        })
    });
    group.bench_function("cold_plain_request", |b| {
        b.iter(|| cold_plain.check(black_box(&plain_request), now).is_ok())
    });
    for (name, token, keys) in &decryptions {
        group.bench_function(format!("decrypt/{name}"), |b| {
            b.iter(|| decrypt_nested_jwt(black_box(token), keys).is_ok())
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
    targets = bench_encrypted_tokens
}
criterion_main!(benches);
