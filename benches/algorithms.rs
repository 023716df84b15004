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

use std::hint::black_box;
use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use criterion::{criterion_group, criterion_main, Criterion};
use forgetful_store::ForgetfulStore;
use keybound::{
    Algorithm, IssuerKeys, ProofRequest, ProofSigner, ProofVerifier, RequestGuard, ResourceRequest,
    SigningKey, TokenIssuer, TokenRequest, TokenVerifier, UnixTime,
};
use serde_json::Value;

const URL: &str = "https://api.example.com/v1/orders";
const NOW: u64 = 1_700_000_000;

fn decode(text: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(text).expect("base64url")
}

/// The raw parts of a compact JWS: the `jwk` header members, signing input and signature.
struct Parts {
    jwk: Value,
    message: Vec<u8>,
    signature: Vec<u8>,
}

impl Parts {
    fn of(jws: &str, jwk: Value) -> Self {
        let (input, signature) = jws.rsplit_once('.').expect("compact JWS");
        Self {
            jwk,
            message: input.as_bytes().to_vec(),
            signature: decode(signature),
        }
    }

    fn member(&self, name: &str) -> Vec<u8> {
        decode(self.jwk[name].as_str().expect("JWK member"))
    }
}

#[cfg(not(feature = "aws-lc"))]
mod raw {
    //! The RustCrypto operations the default backend wraps.
    use keybound::Algorithm;
    use rsa::sha2::{Sha256, Sha384, Sha512};
    use signature::Verifier;

    use super::Parts;

    pub enum Key {
        P256(p256::ecdsa::VerifyingKey),
        P384(p384::ecdsa::VerifyingKey),
        P521(p521::ecdsa::VerifyingKey),
        Ed25519(ed25519_dalek::VerifyingKey),
        Rsa(rsa::PublicKey),
    }

    pub fn parse(alg: Algorithm, parts: &Parts) -> Key {
        let sec1 = || {
            let mut sec1 = vec![4];
            sec1.extend(parts.member("x"));
            sec1.extend(parts.member("y"));
            sec1
        };
        match alg {
            Algorithm::Es256 => {
                Key::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1()).unwrap())
            }
            Algorithm::Es384 => {
                Key::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1()).unwrap())
            }
            Algorithm::Es512 => {
                Key::P521(p521::ecdsa::VerifyingKey::from_sec1_bytes(&sec1()).unwrap())
            }
            Algorithm::Ed25519 | Algorithm::EdDsa => {
                let x: [u8; 32] = parts.member("x").try_into().unwrap();
                Key::Ed25519(ed25519_dalek::VerifyingKey::from_bytes(&x).unwrap())
            }
            _ => Key::Rsa(
                rsa::PublicKey::new(
                    rsa::BoxedUint::from_be_slice_vartime(&parts.member("n")),
                    rsa::BoxedUint::from_be_slice_vartime(&parts.member("e")),
                )
                .unwrap(),
            ),
        }
    }

    pub fn verify(alg: Algorithm, key: &Key, message: &[u8], signature: &[u8]) -> bool {
        match key {
            Key::P256(k) => k
                .verify(
                    message,
                    &p256::ecdsa::Signature::from_slice(signature).unwrap(),
                )
                .is_ok(),
            Key::P384(k) => k
                .verify(
                    message,
                    &p384::ecdsa::Signature::from_slice(signature).unwrap(),
                )
                .is_ok(),
            Key::P521(k) => k
                .verify(
                    message,
                    &p521::ecdsa::Signature::from_slice(signature).unwrap(),
                )
                .is_ok(),
            Key::Ed25519(k) => {
                let bytes: [u8; 64] = signature.try_into().unwrap();
                k.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&bytes))
                    .is_ok()
            }
            Key::Rsa(k) => match alg {
                Algorithm::Rs256 => k.pkcs1v15_verify::<Sha256>(message, signature),
                Algorithm::Rs384 => k.pkcs1v15_verify::<Sha384>(message, signature),
                Algorithm::Rs512 => k.pkcs1v15_verify::<Sha512>(message, signature),
                Algorithm::Ps256 => k.pss_verify::<Sha256>(message, signature),
                Algorithm::Ps384 => k.pss_verify::<Sha384>(message, signature),
                _ => k.pss_verify::<Sha512>(message, signature),
            }
            .is_ok(),
        }
    }
}

#[cfg(feature = "aws-lc")]
mod raw {
    //! The aws-lc-rs operations the `aws-lc` backend wraps.
    use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
    use keybound::Algorithm;

    use super::Parts;

    pub enum Key {
        Parsed(ParsedPublicKey),
        Rsa { n: Vec<u8>, e: Vec<u8> },
    }

    pub fn parse(alg: Algorithm, parts: &Parts) -> Key {
        let sec1 = || {
            let mut sec1 = vec![4];
            sec1.extend(parts.member("x"));
            sec1.extend(parts.member("y"));
            sec1
        };
        match alg {
            Algorithm::Es256 => {
                Key::Parsed(ParsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, sec1()).unwrap())
            }
            Algorithm::Es384 => {
                Key::Parsed(ParsedPublicKey::new(&sig::ECDSA_P384_SHA384_FIXED, sec1()).unwrap())
            }
            Algorithm::Es512 => {
                Key::Parsed(ParsedPublicKey::new(&sig::ECDSA_P521_SHA512_FIXED, sec1()).unwrap())
            }
            Algorithm::Ed25519 | Algorithm::EdDsa => {
                Key::Parsed(ParsedPublicKey::new(&sig::ED25519, parts.member("x")).unwrap())
            }
            _ => Key::Rsa {
                n: parts.member("n"),
                e: parts.member("e"),
            },
        }
    }

    pub fn verify(alg: Algorithm, key: &Key, message: &[u8], signature: &[u8]) -> bool {
        match key {
            Key::Parsed(k) => k.verify_sig(message, signature).is_ok(),
            Key::Rsa { n, e } => {
                let params = match alg {
                    Algorithm::Rs256 => &sig::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::Rs384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::Rs512 => &sig::RSA_PKCS1_2048_8192_SHA512,
                    Algorithm::Ps256 => &sig::RSA_PSS_2048_8192_SHA256,
                    Algorithm::Ps384 => &sig::RSA_PSS_2048_8192_SHA384,
                    _ => &sig::RSA_PSS_2048_8192_SHA512,
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, message, signature)
                    .is_ok()
            }
        }
    }
}

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
        let header: Value =
            serde_json::from_slice(&decode(proof.split('.').next().expect("header")))
                .expect("header JSON");
        let parts = Parts::of(&proof, header["jwk"].clone());
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
    const ISS: &str = "https://as.example.com";
    const AUD: &str = "https://api.example.com";
    let now = UnixTime::from_secs(NOW);
    let issuer = TokenIssuer::new(ISS, IssuerKeys::new(key_for(Algorithm::Rs256)));
    let client = ProofSigner::new(SigningKey::generate().expect("key"));
    let token = issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
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
    let authorizations = [authorization.as_str()];
    let proofs = [proof.as_str()];
    let request = ResourceRequest::new("GET", URL, &authorizations, &proofs);
    let guard = |cache: usize| {
        RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
            .with_proof_verifier(ProofVerifier::with_replay_store(ForgetfulStore))
            .with_token_cache_capacity(cache)
    };
    let warm = guard(1024);
    let cold = guard(0);
    assert!(warm.check(&request, now).is_ok());
    assert!(cold.check(&request, now).is_ok());

    let proof_header: Value =
        serde_json::from_slice(&decode(proof.split('.').next().expect("header")))
            .expect("header JSON");
    let proof_parts = Parts::of(&proof, proof_header["jwk"].clone());
    let issuer_jwk: Value =
        serde_json::from_str(&issuer.keys().active().public_key().to_jwk()).expect("JWK");
    let token_parts = Parts::of(&token, issuer_jwk);
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
