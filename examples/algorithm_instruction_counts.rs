//! Runs one operation of one algorithm N times, for counting instructions with valgrind — a
//! figure that does not depend on how busy the machine is:
//!
//! ```sh
//! cargo build --release --example algorithm_instruction_counts [--features aws-lc]
//! for op in setup raw proof; do   # and: setup_rs256 raw_es256 warm_rs256 cold_rs256
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/algorithm_instruction_counts $op PS256 50 2>&1 | grep refs
//! done
//! ```
//! `raw` is the backend's own verification of a proof's signature with the key parsed from the
//! proof's `jwk` (the floor, `benches/support/raw_verify.rs`); `proof` is
//! `ProofVerifier::verify` of that proof. `setup` (key generation, signing) is the same for
//! both; subtract it. `warm_rs256` and `cold_rs256` run a request with an RS256 access token
//! (cached / not cached) and an ES256 proof; `raw_es256` is one raw ES256 verification;
//! `setup_rs256` is their common setup.

#[path = "../benches/support/forgetful_store.rs"]
mod forgetful_store;
#[path = "../benches/support/raw_verify.rs"]
mod raw_verify;
#[path = "../benches/support/rs256_request.rs"]
mod rs256_request;
// Keys from a fixed seed, so that setup costs the same number of instructions in every run
// (RSA key generation's cost varies with the primes it happens to find).
#[allow(dead_code)]
#[path = "generate_vectors/drbg.rs"]
mod drbg;

use std::hint::black_box;

use forgetful_store::ForgetfulStore;
use keybound::{Algorithm, ProofRequest, ProofSigner, ProofVerifier, SigningKey, UnixTime};
use raw_verify::{raw, Parts};
use rs256_request::Rs256Request;

const URL: &str = "https://api.example.com/v1/orders";

fn key_for(alg: Algorithm) -> SigningKey {
    let mut rng = drbg::Drbg::new(9449, alg.as_str());
    if alg.is_rsa() {
        SigningKey::generate_rsa_with_rng(alg, 2048, &mut rng).expect("RSA key")
    } else {
        SigningKey::generate_for_with_rng(alg, &mut rng).expect("key")
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_else(|| "setup".into());
    let alg: Algorithm = args
        .next()
        .unwrap_or_else(|| "ES256".into())
        .parse()
        .expect("an algorithm name");
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let now = UnixTime::from_secs(1_700_000_000);

    // Per-algorithm proof verification.
    let signer = ProofSigner::new(key_for(alg));
    let proof = signer.proof("GET", URL).sign(now).expect("proof");
    let parts = Parts::of_proof(&proof);
    let verifier = ProofVerifier::with_replay_store(ForgetfulStore);
    let headers = [proof.as_str()];
    let request = ProofRequest::new("GET", URL, &headers);

    if op.ends_with("_rs256") || op == "raw_es256" {
        return rs256_request(&op, n, now);
    }

    for _ in 0..n {
        match op.as_str() {
            "setup" => {}
            "raw" => {
                let key = raw::parse(alg, black_box(&parts));
                assert!(raw::verify(alg, &key, &parts.message, &parts.signature));
            }
            "proof" => assert!(verifier.verify(black_box(&request), now).is_ok()),
            other => panic!("unknown operation {other}"),
        }
    }
}
/// A request with an RS256 access token and an ES256 proof, warm or cold, and its ES256 floor.
fn rs256_request(op: &str, n: usize, now: UnixTime) {
    let fixture = Rs256Request::new(
        key_for(Algorithm::Rs256),
        key_for(Algorithm::Es256),
        URL,
        now,
    );
    let es256 = Parts::of_proof(&fixture.proof);
    let headers = fixture.headers();
    let resource_request = fixture.request(&headers);
    let (warm, cold) = (fixture.guard(16), fixture.guard(0));
    for _ in 0..n {
        match op {
            "setup_rs256" => {}
            "raw_es256" => {
                let key = raw::parse(Algorithm::Es256, black_box(&es256));
                assert!(raw::verify(
                    Algorithm::Es256,
                    &key,
                    &es256.message,
                    &es256.signature
                ));
            }
            "warm_rs256" => assert!(warm.check(black_box(&resource_request), now).is_ok()),
            "cold_rs256" => assert!(cold.check(black_box(&resource_request), now).is_ok()),
            other => panic!("unknown operation {other}"),
        }
    }
}
