//! keybound's resource-server request check next to the stack a Rust user would assemble
//! from other crates today, and next to one raw ES256 verification of each backend.
//!
//! Run from `benches/peers`: `cargo bench` (keybound on `p256`) and
//! `cargo bench --features aws-lc` (keybound on `aws-lc-rs`). One group, `peers`:
//!
//! - `p256_raw_verify`: one `p256` `VerifyingKey::verify` over a message as long as the proof's
//!   signing input: the floor for keybound's default backend.
//! - `aws_lc_raw_verify`: one `aws-lc-rs` `UnparsedPublicKey::verify` (P-256, SHA-256, fixed
//!   `r ‖ s`) over the same message: the floor for keybound's `aws-lc` backend.
//! - `keybound_warm`: `RequestGuard::check` with the token in the verified-token cache (the
//!   proof's signature, claims, binding and revocation checks).
//! - `keybound_cold`: `RequestGuard::check` with the token cache disabled (token and proof
//!   signatures, parsing, binding).
//! - `peer_stack`: `dpop-verifier` verifies the proof (signature, `typ`, `htm`/`htu`, `iat`,
//!   `ath`, thumbprint), `jsonwebtoken` with its aws-lc-rs backend verifies the `at+jwt` token
//!   (ES256, `iss`, `aud`, `exp`), then `typ` and `cnf.jkt` are compared by hand.
//!
//! Fairness: every stack checks the same token and the same proof, and every replay store
//! forgets (keybound: a `ReplayStore` that always inserts; dpop-verifier: a `ReplayStore` that
//! always answers "first use"), so one request is replayed every iteration and no stack pays
//! for replay bookkeeping. `dpop-verifier` and `jsonwebtoken` read the system clock, so the
//! token and proof are minted at the real current time, and keybound is handed that same
//! instant as its fixed `now`.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use criterion::{criterion_group, criterion_main, Criterion};
use dpop_verifier::{DpopError, DpopVerifier, ReplayContext};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use keybound::{
    Insertion, IssuerKeys, ProofSigner, ProofVerifier, ReplayKey, ReplayStore, RequestGuard,
    ResourceRequest, SigningKey, StoreError, TokenIssuer, TokenRequest, TokenVerifier, UnixTime,
};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde::Deserialize;

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const URL: &str = "https://api.example.com/v1/orders";
const METHOD: &str = "GET";

/// keybound: never remembers a proof (measurement only: disables replay protection).
struct Forgetful;

impl ReplayStore for Forgetful {
    fn insert_if_absent(
        &self,
        _: &ReplayKey,
        _: UnixTime,
        _: UnixTime,
    ) -> Result<Insertion, StoreError> {
        Ok(Insertion::Inserted)
    }
}

/// dpop-verifier: never remembers a proof (measurement only: disables replay protection).
struct PeerForgetful;

#[async_trait::async_trait]
impl dpop_verifier::ReplayStore for PeerForgetful {
    async fn insert_once(&mut self, _: [u8; 32], _: ReplayContext<'_>) -> Result<bool, DpopError> {
        Ok(true)
    }
}

/// Drives a future that never waits (dpop-verifier's `verify` with [`PeerForgetful`] is ready
/// on its first poll), so no executor's cost is added to the peer stack.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// The RFC 9068 claims the peer stack reads out of the access token.
#[derive(Deserialize)]
#[allow(dead_code)]
struct AccessClaims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: u64,
    iat: u64,
    jti: String,
    client_id: String,
    #[serde(default)]
    scope: Option<String>,
    cnf: Confirmation,
}

#[derive(Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Confirmation {
    jkt: String,
}

/// What a resource server would write today with `dpop-verifier` and `jsonwebtoken`.
struct PeerStack {
    proofs: DpopVerifier,
    token_key: DecodingKey,
    validation: Validation,
}

impl PeerStack {
    fn new(issuer_x: &str, issuer_y: &str) -> Self {
        let proofs = DpopVerifier::new()
            .with_max_age_seconds(300)
            .with_future_skew_seconds(5);
        let token_key = DecodingKey::from_ec_components(issuer_x, issuer_y).expect("issuer key");
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[AUD]);
        validation.set_issuer(&[ISS]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Self {
            proofs,
            token_key,
            validation,
        }
    }

    fn check(
        &self,
        method: &str,
        url: &str,
        authorization: &str,
        dpop: &str,
    ) -> Result<AccessClaims, String> {
        let token = authorization
            .strip_prefix("DPoP ")
            .ok_or("not a DPoP authorization")?;
        // Proof: signature, typ, htm/htu, iat window, ath; returns the key's thumbprint.
        let mut replay = PeerForgetful;
        let verifying = self
            .proofs
            .verify(&mut replay, dpop, url, method, Some(token));
        let proof = block_on(verifying).map_err(|e| format!("proof: {e}"))?;
        // Token: ES256 signature, iss, aud, exp.
        let token = jsonwebtoken::decode::<AccessClaims>(token, &self.token_key, &self.validation)
            .map_err(|e| format!("token: {e}"))?;
        if token.header.typ.as_deref() != Some("at+jwt") {
            return Err("token: typ is not at+jwt".into());
        }
        // Binding: the token's cnf.jkt must name the key that signed the proof.
        if token.claims.cnf.jkt != proof.jkt {
            return Err("binding: cnf.jkt does not match the proof's key".into());
        }
        Ok(token.claims)
    }
}

fn string_member(json: &str, name: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).expect("JWK JSON");
    value[name].as_str().expect("JWK member").to_owned()
}

fn bench_peers(c: &mut Criterion) {
    // The peers read the system clock: mint at the real current time, and hand keybound the
    // same instant as its fixed `now`.
    let now = UnixTime::now();
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
        .proof(METHOD, URL)
        .with_access_token(&token)
        .sign(now)
        .expect("proof");
    let authorization = format!("DPoP {token}");
    let authorization = [authorization.as_str()];
    let dpop = [proof.as_str()];
    let request = ResourceRequest::new(METHOD, URL, &authorization, &dpop);

    // keybound, exactly as benches/guard.rs builds it.
    let guard = |capacity: usize| {
        RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
            .with_proof_verifier(ProofVerifier::with_replay_store(Forgetful))
            .with_token_cache_capacity(capacity)
    };
    let cold = guard(0);
    let warm = guard(1024);

    // The peer stack, trusting the same issuer key.
    let issuer_jwk = issuer.keys().active().public_key().to_jwk();
    let peers = PeerStack::new(
        &string_member(&issuer_jwk, "x"),
        &string_member(&issuer_jwk, "y"),
    );

    // Every stack accepts the request...
    assert!(cold.check(&request, now).is_ok(), "keybound cold rejects");
    assert!(warm.check(&request, now).is_ok(), "keybound warm rejects");
    let claims = peers
        .check(METHOD, URL, authorization[0], dpop[0])
        .expect("peer stack rejects");
    assert_eq!(claims.cnf.jkt, client.thumbprint().to_base64url());
    // ...and rejects the token presented with a proof from another key (the binding check).
    let thief = ProofSigner::new(SigningKey::generate().expect("thief key"));
    let stolen = thief
        .proof(METHOD, URL)
        .with_access_token(&token)
        .sign(now)
        .expect("thief proof");
    let stolen_dpop = [stolen.as_str()];
    let stolen_request = ResourceRequest::new(METHOD, URL, &authorization, &stolen_dpop);
    assert!(cold.check(&stolen_request, now).is_err());
    assert!(warm.check(&stolen_request, now).is_err());
    assert!(matches!(
        peers.check(METHOD, URL, authorization[0], stolen_dpop[0]),
        Err(e) if e.starts_with("binding")
    ));

    // The floors: one verification over a message as long as the proof's signing input.
    let raw = SigningKey::generate().expect("raw key");
    let (input, _) = proof.rsplit_once('.').expect("compact JWS");
    let message = input.as_bytes().to_vec();
    let signature_bytes = raw.sign(&message).expect("sign");
    let (x, y) = raw.public_key().ec_coordinates().expect("EC key");
    let mut sec1 = [0u8; 65];
    sec1[0] = 0x04;
    sec1[1..33].copy_from_slice(x);
    sec1[33..].copy_from_slice(y);
    let p256_key = VerifyingKey::from_sec1_bytes(&sec1).expect("sec1 point");
    let p256_signature = Signature::from_slice(&signature_bytes).expect("r ‖ s");
    assert!(p256_key.verify(&message, &p256_signature).is_ok());
    assert!(UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &sec1[..])
        .verify(&message, &signature_bytes)
        .is_ok());

    eprintln!(
        "keybound backend: {}; proof signing input: {} bytes; token: {} bytes",
        keybound::BACKEND,
        message.len(),
        token.len()
    );

    let mut group = c.benchmark_group("peers");
    group.bench_function("p256_raw_verify", |b| {
        b.iter(|| {
            p256_key
                .verify(black_box(&message), black_box(&p256_signature))
                .is_ok()
        })
    });
    group.bench_function("aws_lc_raw_verify", |b| {
        b.iter(|| {
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, black_box(&sec1[..]))
                .verify(black_box(&message), black_box(&signature_bytes))
                .is_ok()
        })
    });
    group.bench_function("keybound_warm", |b| {
        b.iter(|| warm.check(black_box(&request), now).is_ok())
    });
    group.bench_function("keybound_cold", |b| {
        b.iter(|| cold.check(black_box(&request), now).is_ok())
    });
    group.bench_function("peer_stack", |b| {
        b.iter(|| {
            peers
                .check(METHOD, URL, black_box(authorization[0]), black_box(dpop[0]))
                .is_ok()
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
    targets = bench_peers
}
criterion_main!(benches);
