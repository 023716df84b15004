//! The examples of RFC 9449 (checked with an independent JOSE implementation) verify here.

use keybound::{
    Endpoint, Error, ErrorCode, ProofError, ProofRequest, ProofVerifier, PublicKey, Thumbprint,
    TokenHash, UnixTime,
};
use serde_json::Value;

fn examples() -> Value {
    let text = include_str!("data/rfc/rfc9449_examples.json");
    serde_json::from_str(text).unwrap()
}

#[test]
fn example_key_thumbprint() {
    let data = examples();
    let jwk = data["public_jwk"].to_string();
    let key = PublicKey::from_jwk(&jwk).unwrap();
    assert_eq!(
        key.thumbprint().to_string(),
        data["jwk_thumbprint"].as_str().unwrap()
    );
    let parsed: Thumbprint = data["jwk_thumbprint"].as_str().unwrap().parse().unwrap();
    assert_eq!(parsed, key.thumbprint());
}

#[test]
fn example_access_token_hash() {
    let data = examples();
    let hash = TokenHash::of(data["access_token"].as_str().unwrap());
    assert_eq!(
        hash.to_base64url(),
        data["access_token_ath"].as_str().unwrap()
    );
}

#[test]
fn example_proofs_verify_at_their_iat() {
    let data = examples();
    let proofs = data["proofs"].as_array().unwrap();
    assert_eq!(proofs.len(), 3);
    for case in proofs {
        // A fresh verifier per proof: the refresh example reuses the first proof's jti.
        let verifier = ProofVerifier::new();
        let proof = case["proof"].as_str().unwrap();
        let headers = [proof];
        let mut request = ProofRequest::new(
            case["method"].as_str().unwrap(),
            case["url"].as_str().unwrap(),
            &headers,
        );
        if let Some(token) = case["access_token"].as_str() {
            request = request.with_access_token(token);
        }
        let now = UnixTime::from_secs(case["now"].as_u64().unwrap());
        let verified = verifier
            .verify(&request, now)
            .unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
        assert_eq!(
            verified.thumbprint().to_string(),
            case["expected"]["jkt"].as_str().unwrap()
        );
        assert_eq!(verified.issued_at(), now);
        // Accepted once only.
        let again = verifier.verify(&request, now).unwrap_err();
        assert_eq!(again, Error::InvalidProof(ProofError::Replayed));
        assert_eq!(
            again.code(Endpoint::Resource),
            Some(ErrorCode::InvalidDpopProof)
        );
    }
}

#[test]
fn example_proofs_expire() {
    let data = examples();
    let case = &data["proofs"][0];
    let proof = case["proof"].as_str().unwrap();
    let headers = [proof];
    let request = ProofRequest::new("POST", "https://server.example.com/token", &headers);
    let iat = case["now"].as_u64().unwrap();
    let late = ProofVerifier::new().verify(&request, UnixTime::from_secs(iat + 66));
    assert_eq!(
        late.unwrap_err(),
        Error::InvalidProof(ProofError::TooOld { iat, now: iat + 66 })
    );
    assert!(ProofVerifier::new()
        .verify(&request, UnixTime::from_secs(iat + 65))
        .is_ok());
}

#[test]
fn example_resource_proof_needs_its_token() {
    let data = examples();
    let case = &data["proofs"][2];
    let proof = case["proof"].as_str().unwrap();
    let headers = [proof];
    let now = UnixTime::from_secs(case["now"].as_u64().unwrap());
    let request = ProofRequest::new(
        "GET",
        "https://resource.example.org/protectedresource",
        &headers,
    )
    .with_access_token("another-token");
    assert_eq!(
        ProofVerifier::new().verify(&request, now).unwrap_err(),
        Error::InvalidProof(ProofError::AthMismatch)
    );
}
