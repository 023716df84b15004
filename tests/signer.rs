//! The client side: proofs have the shape RFC 9449 §4.2 prescribes and verify.

mod common;

use std::collections::HashSet;

use common::*;
use keybound::{Error, ProofRequest, ProofSigner, ProofVerifier, SigningKey, TokenHash};
use serde_json::Value;

fn decode_segment(segment: &str) -> Value {
    // A small independent base64url decoder.
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in segment.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => panic!("not base64url: {c}"),
        };
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn proof_has_the_rfc9449_shape() {
    let key = SigningKey::generate().unwrap();
    let jkt = key.thumbprint();
    let signer = ProofSigner::new(key);
    let proof = signer
        .proof("POST", "https://api.example.com/orders?id=1#frag")
        .with_access_token(TOKEN)
        .with_nonce("server-nonce")
        .sign(now())
        .unwrap();
    let parts: Vec<&str> = proof.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header = decode_segment(parts[0]);
    assert_eq!(header["typ"], "dpop+jwt");
    assert_eq!(header["alg"], "ES256");
    let jwk = header["jwk"].as_object().unwrap();
    let mut names: Vec<&str> = jwk.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["crv", "kty", "x", "y"]);
    let claims = decode_segment(parts[1]);
    assert_eq!(claims["htm"], "POST");
    assert_eq!(claims["htu"], "https://api.example.com/orders");
    assert_eq!(claims["iat"], NOW);
    assert_eq!(claims["ath"], TokenHash::of(TOKEN).to_base64url());
    assert_eq!(claims["nonce"], "server-nonce");
    // jti: 128 random bits, base64url.
    assert_eq!(claims["jti"].as_str().unwrap().len(), 22);

    let verified = ProofVerifier::new()
        .verify(
            &ProofRequest::new("POST", "https://api.example.com/orders", &[&proof])
                .with_access_token(TOKEN),
            now(),
        )
        .unwrap();
    assert_eq!(verified.thumbprint(), jkt);
}

#[test]
fn jti_is_fresh_every_time() {
    let signer = ProofSigner::new(SigningKey::generate().unwrap());
    let jtis: HashSet<String> = (0..200)
        .map(|_| {
            let proof = signer.proof("GET", URL).sign(now()).unwrap();
            decode_segment(proof.split('.').nth(1).unwrap())["jti"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(jtis.len(), 200);
}

#[test]
fn token_requests_carry_no_ath() {
    let signer = ProofSigner::new(SigningKey::generate().unwrap());
    let proof = signer
        .proof("POST", "https://as.example.com/token")
        .sign(now())
        .unwrap();
    let claims = decode_segment(proof.split('.').nth(1).unwrap());
    assert!(claims.get("ath").is_none());
    assert!(claims.get("nonce").is_none());
}

#[test]
fn bad_arguments_are_refused_locally() {
    let signer = ProofSigner::new(SigningKey::generate().unwrap());
    let cases = [
        (signer.proof("", URL).sign(now()), "method"),
        (signer.proof("GET POST", URL).sign(now()), "method"),
        (signer.proof("GET", "/relative").sign(now()), "url"),
        (signer.proof("GET", "ftp://x/y").sign(now()), "url"),
        (
            signer.proof("GET", URL).with_nonce("bad nonce").sign(now()),
            "nonce",
        ),
        (signer.proof("GET", URL).with_nonce("").sign(now()), "nonce"),
        (
            signer
                .proof("GET", URL)
                .with_access_token("a b")
                .sign(now()),
            "access_token",
        ),
    ];
    for (result, name) in cases {
        assert_eq!(result.unwrap_err(), Error::InvalidArgument(name));
    }
}

#[test]
fn signer_debug_shows_no_secret() {
    let key = SigningKey::generate().unwrap();
    let d = key.to_jwk();
    let d = d
        .split(r#""d":""#)
        .nth(1)
        .unwrap()
        .trim_end_matches("\"}")
        .to_owned();
    let signer = ProofSigner::new(key);
    let text = format!("{signer:?} {:?}", signer.key());
    assert!(!text.contains(&d));
    assert!(text.contains("SigningKey { .. }"));
}
