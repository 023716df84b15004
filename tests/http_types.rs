//! The `http` feature: the guard on `http::Request`, rejections as `http::Response`.

mod common;

use common::*;
use keybound::{
    IssuerKeys, NonceEngine, ProofSigner, ProofVerifier, PublicUrlPolicy, RequestGuard, SigningKey,
    TokenIssuer, TokenRequest, TokenVerifier, DPOP_NONCE,
};

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";

fn setup() -> (TokenIssuer, RequestGuard, ProofSigner, String) {
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()));
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let token = issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
            now(),
        )
        .unwrap()
        .access_token;
    (issuer, guard, client, token)
}

#[test]
fn guard_reads_http_requests() {
    let (_issuer, guard, client, token) = setup();
    let urls = PublicUrlPolicy::new("https://api.example.com").unwrap();
    let proof = client
        .proof("GET", "https://api.example.com/orders")
        .with_access_token(&token)
        .sign(now())
        .unwrap();
    let request = http::Request::builder()
        .method("GET")
        .uri("/orders?page=2")
        .header("AUTHORIZATION", format!("DPoP {token}"))
        .header("dPoP", &proof)
        .header("host", "internal:8080")
        .body(())
        .unwrap();
    let ok = guard.check_http(&request, &urls, now()).unwrap();
    assert_eq!(ok.subject(), "alice");
    // Replayed via Parts: refused.
    let (parts, _) = request.into_parts();
    let refused = guard.check_http_parts(&parts, &urls, now()).unwrap_err();
    assert_eq!(refused.status(), 401);
}

#[test]
fn several_headers_and_unreadable_values_are_refused() {
    let (_issuer, guard, client, token) = setup();
    let urls = PublicUrlPolicy::new("https://api.example.com").unwrap();
    let proof = client
        .proof("GET", "https://api.example.com/orders")
        .with_access_token(&token)
        .sign(now())
        .unwrap();
    let two = http::Request::builder()
        .uri("/orders")
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", &proof)
        .header("dpop", &proof)
        .body(())
        .unwrap();
    assert_eq!(
        guard.check_http(&two, &urls, now()).unwrap_err().status(),
        400
    );
    let binary = http::Request::builder()
        .uri("/orders")
        .header(
            "authorization",
            http::HeaderValue::from_bytes(b"DPoP \xff\xfe").unwrap(),
        )
        .header("dpop", &proof)
        .body(())
        .unwrap();
    assert_eq!(
        guard
            .check_http(&binary, &urls, now())
            .unwrap_err()
            .status(),
        400
    );
}

#[test]
fn rejection_becomes_the_exact_response() {
    let (issuer, _guard, client, token) = setup();
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(ProofVerifier::new().with_nonces(NonceEngine::from_secret([1; 32])));
    let urls = PublicUrlPolicy::new("https://api.example.com").unwrap();
    let proof = client
        .proof("GET", "https://api.example.com/orders")
        .with_access_token(&token)
        .sign(now())
        .unwrap();
    let request = http::Request::builder()
        .uri("/orders")
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", &proof)
        .body(())
        .unwrap();
    let rejection = guard.check_http(&request, &urls, now()).unwrap_err();
    let response: http::Response<String> = rejection.to_http_response();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    let parsed = parse_challenges(challenge);
    assert_eq!(parsed[0].param("error"), Some("use_dpop_nonce"));
    assert_eq!(
        response.headers()[DPOP_NONCE].to_str().unwrap(),
        rejection.dpop_nonce().unwrap()
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(response.body().is_empty());
}

#[test]
fn htu_mismatch_is_explained_to_the_logs_only() {
    let (_issuer, guard, client, token) = setup();
    let urls = PublicUrlPolicy::new("https://api.example.com").unwrap();
    let proof = client
        .proof("GET", "http://10.0.0.7:8080/orders")
        .with_access_token(&token)
        .sign(now())
        .unwrap();
    let request = http::Request::builder()
        .uri("/orders")
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", &proof)
        .body(())
        .unwrap();
    let rejection = guard.check_http(&request, &urls, now()).unwrap_err();
    let diagnostic = rejection.diagnostic().unwrap();
    assert_eq!(
        diagnostic,
        r#"htu mismatch: expected "https://api.example.com/orders", received "http://10.0.0.7:8080/orders""#
    );
    let response: http::Response<()> = rejection.to_http_response();
    for value in response.headers().values() {
        assert!(!value.to_str().unwrap().contains("10.0.0.7"));
    }
}
