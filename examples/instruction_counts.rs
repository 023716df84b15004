//! Runs one operation N times, for counting instructions with valgrind — a figure that does not
//! depend on how busy the machine is:
//!
//! ```sh
//! cargo build --release --example instruction_counts
//! for op in raw_verify proof_verify guard_warm guard_cold raw_sign proof_sign; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/instruction_counts $op 200 2>&1 | grep refs
//! done
//! ```
//! Setup (key generation, signing the inputs) is the same for every operation and is measured
//! once with `setup`; subtract it.
//!
//! Per-key tables (issue 18; the setup runs enough requests that the client's and the issuer's
//! keys have theirs): `guard_warm_no_tables` and `guard_cold_no_tables` (tables off, today's
//! path); `guard_cold_new_client[_no_tables]` and `proof_new_key[_no_tables]` (a new client
//! key every request: N clients made first, measured by `setup_new_clients`, subtract that
//! instead); `table_build` (one key's table). With `--features aws-lc`, `aws_raw_verify` and `aws_raw_sign`
//! are that backend's floor.
//!
//! Encrypted access tokens (issue 15, `benches/support/encrypted_request.rs`), with a third
//! argument naming a case of that file (default `ecdh-es+a128kw_p256_a256gcm`):
//! `encrypted_setup` (their common setup, deterministic keys), `warm_encrypted` (the token in
//! the verified-token cache: nothing decrypted), `cold_encrypted` (cache disabled: decryption,
//! token and proof verification), `decrypt` (`decrypt_nested_jwt` alone):
//!
//! ```sh
//! for op in encrypted_setup decrypt; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/instruction_counts $op 50 rsa-oaep-256_2048_a256gcm 2>&1 | grep refs
//! done
//! ```

#[path = "../examples/generate_vectors/drbg.rs"]
#[allow(dead_code)]
mod drbg;
#[path = "../benches/support/encrypted_request.rs"]
mod encrypted_request;
#[path = "../benches/support/forgetful_store.rs"]
mod forgetful_store;

use std::hint::black_box;

use forgetful_store::ForgetfulStore;

use keybound::{
    IssuerKeys, ProofRequest, ProofSigner, ProofVerifier, RequestGuard, ResourceRequest,
    SigningKey, TokenIssuer, TokenRequest, TokenVerifier, UnixTime,
};
use p256::ecdsa::signature::{Signer, Verifier};

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const URL: &str = "https://api.example.com/v1/orders";

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_else(|| "setup".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);

    let now = UnixTime::from_secs(1_700_000_000);
    if [
        "encrypted_setup",
        "warm_encrypted",
        "cold_encrypted",
        "decrypt",
    ]
    .contains(&op.as_str())
    {
        let case = args
            .next()
            .unwrap_or_else(|| encrypted_request::CASES[0].name.into());
        return encrypted(&op, n, encrypted_request::case(&case), now);
    }
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().expect("key"));
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
    let (authz, dpop) = ([authorization.as_str()], [proof.as_str()]);
    let request = ResourceRequest::new("GET", URL, &authz, &dpop);
    let proof_request = ProofRequest::new("GET", URL, &dpop).with_access_token(&token);
    let raw = p256::ecdsa::SigningKey::from_slice(&[0x5a; 32]).expect("scalar");
    let raw_public = p256::ecdsa::VerifyingKey::from(&raw);
    let message = proof.rsplit_once('.').expect("jws").0.as_bytes().to_vec();
    let raw_signature: p256::ecdsa::Signature = raw.sign(&message);
    let guard = |capacity| {
        RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
            .with_proof_verifier(ProofVerifier::with_replay_store(ForgetfulStore))
            .with_token_cache_capacity(capacity)
    };
    let (warm, cold) = (guard(16), guard(0));
    let proofs = ProofVerifier::with_replay_store(ForgetfulStore);
    // Past admission: the client's and the issuer's keys have their tables.
    for _ in 0..2 * keybound::KeyTables::admit_at() {
        assert!(warm.check(&request, now).is_ok());
        assert!(cold.check(&request, now).is_ok());
    }
    if op.ends_with("_no_tables") {
        keybound::KeyTables::set_memory_limit(0);
    }
    // A new client (key, token, proof) for every iteration of the `new` operations.
    let fresh: Vec<(String, String)> = if op.contains("new_") {
        (0..n)
            .map(|_| {
                let signer = ProofSigner::new(SigningKey::generate().expect("key"));
                let token = issuer
                    .issue(
                        &TokenRequest::new("alice", AUD, "app", signer.thumbprint()),
                        now,
                    )
                    .expect("token")
                    .access_token;
                let proof = signer
                    .proof("GET", URL)
                    .with_access_token(&token)
                    .sign(now)
                    .expect("proof");
                (token, proof)
            })
            .collect()
    } else {
        Vec::new()
    };
    #[cfg(not(feature = "aws-lc"))]
    let sec1 = {
        let jwk: serde_json::Value =
            serde_json::from_str(&client.key().public_key().to_jwk()).expect("jwk");
        let mut sec1 = vec![0x04];
        for c in ["x", "y"] {
            sec1.extend(
                <base64ct::Base64UrlUnpadded as base64ct::Encoding>::decode_vec(
                    jwk[c].as_str().expect("coordinate"),
                )
                .expect("base64url"),
            );
        }
        sec1
    };
    #[cfg(feature = "aws-lc")]
    let (aws_public, aws_signature, aws_pair) = {
        use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .expect("key");
        let signature = pair.sign(&rng, &message).expect("sign");
        (
            pair.public_key().as_ref().to_vec(),
            signature.as_ref().to_vec(),
            pair,
        )
    };

    let mut fresh = fresh.iter();
    for _ in 0..n {
        match op.as_str() {
            "setup" | "setup_new_clients" => {}
            "guard_warm_no_tables" => assert!(warm.check(black_box(&request), now).is_ok()),
            "guard_cold_no_tables" => assert!(cold.check(black_box(&request), now).is_ok()),
            "guard_cold_new_client" | "guard_cold_new_client_no_tables" => {
                let (token, proof) = fresh.next().expect("one per iteration");
                let authorization = format!("DPoP {token}");
                let (authz, dpop) = ([authorization.as_str()], [proof.as_str()]);
                let request = ResourceRequest::new("GET", URL, &authz, &dpop);
                assert!(cold.check(black_box(&request), now).is_ok());
            }
            "proof_new_key" | "proof_new_key_no_tables" => {
                let (token, proof) = fresh.next().expect("one per iteration");
                let dpop = [proof.as_str()];
                let request = ProofRequest::new("GET", URL, &dpop).with_access_token(token);
                assert!(proofs.verify(black_box(&request), now).is_ok());
            }
            #[cfg(not(feature = "aws-lc"))]
            "table_build" => assert!(keybound::es256_build_table(black_box(&sec1)).is_some()),
            "raw_verify" => assert!(raw_public
                .verify(black_box(&message), &raw_signature)
                .is_ok()),
            "raw_sign" => {
                let signature: p256::ecdsa::Signature = raw.sign(black_box(&message));
                black_box(signature);
            }
            "proof_verify" => assert!(proofs.verify(black_box(&proof_request), now).is_ok()),
            "proof_sign" => {
                black_box(
                    client
                        .proof("GET", URL)
                        .with_access_token(&token)
                        .sign(now)
                        .expect("sign"),
                );
            }
            "guard_warm" => assert!(warm.check(black_box(&request), now).is_ok()),
            "guard_cold" => assert!(cold.check(black_box(&request), now).is_ok()),
            #[cfg(feature = "aws-lc")]
            "aws_raw_verify" => {
                use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
                let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &aws_public);
                assert!(key.verify(black_box(&message), &aws_signature).is_ok());
            }
            #[cfg(feature = "aws-lc")]
            "aws_raw_sign" => {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                black_box(aws_pair.sign(&rng, black_box(&message)).expect("sign"));
            }
            other => panic!("unknown operation {other}"),
        }
    }
}

/// A request with an encrypted token (warm or cold), or the decryption of one token, for `case`.
fn encrypted(op: &str, n: usize, case: encrypted_request::Case, now: UnixTime) {
    let tokens = encrypted_request::EncryptedTokens::new(now);
    let fixture = tokens.encrypted_request(&case);
    let headers = fixture.headers();
    let request = fixture.request(&headers);
    let (warm, cold) = (tokens.guard(16, Some(&case)), tokens.guard(0, Some(&case)));
    let keys = [encrypted_request::decryption_key(&case)];
    assert!(warm.check(&request, now).is_ok());
    for _ in 0..n {
        match op {
            "encrypted_setup" => {}
            "warm_encrypted" => assert!(warm.check(black_box(&request), now).is_ok()),
            "cold_encrypted" => assert!(cold.check(black_box(&request), now).is_ok()),
            "decrypt" => {
                assert!(keybound::decrypt_nested_jwt(black_box(&fixture.token), &keys).is_ok())
            }
            other => panic!("unknown operation {other}"),
        }
    }
}
