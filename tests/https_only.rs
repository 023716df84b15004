//! HTTPS by default (issue 14): token and PAR endpoints, issuers and verifiers refuse plain
//! `http` URLs on hosts that are not loopback, with `Error::InsecureUrl`, unless their
//! explicitly named `allow_insecure_http()` is used. Loopback (`localhost`, 127.0.0.0/8,
//! `[::1]`) and non-URL identifiers stay accepted.

use keybound::{
    Error, IssuerKeys, ParEndpoint, ProofSigner, PublicUrlPolicy, SigningKey, TokenEndpoint,
    TokenIssuer, TokenRequest, TokenVerifier, UnixTime,
};

const AUD: &str = "https://api.example.com";

fn client() -> ProofSigner {
    ProofSigner::new(SigningKey::generate().unwrap())
}

#[test]
fn token_endpoint_on_plain_http_refuses_every_request() {
    let now = UnixTime::now();
    let client = client();
    let url = "http://as.example.com/token";
    let proof = client.proof("POST", url).sign(now).unwrap();
    assert_eq!(
        TokenEndpoint::new(url).check(&[&proof], None, now).err(),
        Some(Error::InsecureUrl("token endpoint url"))
    );
    assert_eq!(
        TokenEndpoint::new(url).precheck(&[&proof], None, now).err(),
        Some(Error::InsecureUrl("token endpoint url"))
    );
    assert!(TokenEndpoint::new(url)
        .allow_insecure_http()
        .check(&[&proof], None, now)
        .is_ok());
    for fine in [
        "https://as.example.com/token",
        "http://127.0.0.1:8080/token",
    ] {
        let proof = client.proof("POST", fine).sign(now).unwrap();
        assert!(
            TokenEndpoint::new(fine).check(&[&proof], None, now).is_ok(),
            "{fine}"
        );
    }
}

#[test]
fn par_endpoint_on_plain_http_refuses_every_request() {
    let now = UnixTime::now();
    let url = "http://as.example.com/par";
    let proof = client().proof("POST", url).sign(now).unwrap();
    assert_eq!(
        ParEndpoint::new(url).check(None, &[&proof], now).err(),
        Some(Error::InsecureUrl("par endpoint url"))
    );
    assert!(ParEndpoint::new(url)
        .allow_insecure_http()
        .check(None, &[&proof], now)
        .is_ok());
}

#[test]
fn issuers_and_verifiers_named_by_plain_http_refuse() {
    let now = UnixTime::now();
    let jkt = client().thumbprint();
    let request = TokenRequest::new("alice", AUD, "app", jkt);
    let insecure = "http://as.example.com";
    let issuer = TokenIssuer::new(insecure, IssuerKeys::generate().unwrap());
    assert_eq!(
        issuer.issue(&request, now).err(),
        Some(Error::InsecureUrl("issuer"))
    );
    let issuer = issuer.allow_insecure_http();
    let token = issuer.issue(&request, now).unwrap().access_token;

    let verifier = TokenVerifier::new(insecure, AUD, issuer.keys().key_set());
    assert_eq!(
        verifier.verify(&token, now).err(),
        Some(Error::InsecureUrl("issuer"))
    );
    assert!(verifier.allow_insecure_http().verify(&token, now).is_ok());

    for fine in [
        "https://as.example.com",
        "http://localhost:9000",
        "urn:example:as",
    ] {
        let issuer = TokenIssuer::new(fine, IssuerKeys::generate().unwrap());
        let token = issuer.issue(&request, now).unwrap().access_token;
        let verifier = TokenVerifier::new(fine, AUD, issuer.keys().key_set());
        assert!(verifier.verify(&token, now).is_ok(), "{fine}");
    }
}

#[test]
fn public_origins_on_plain_http_are_refused_at_construction() {
    assert_eq!(
        PublicUrlPolicy::new("http://api.example.com").err(),
        Some(Error::InsecureUrl("origin"))
    );
    assert!(PublicUrlPolicy::insecure_http("http://api.example.com").is_ok());
    let error = Error::InsecureUrl("origin");
    assert_eq!(error.reason(), "insecure_url");
    assert_eq!(error.status(keybound::Endpoint::Resource), 500);
    assert!(error.to_string().contains("https is required"));
}
