//! One guard, several issuers and audiences; the verifier's default lifetime accepts the
//! tokens of common authorization servers; `resource_metadata` in challenges (RFC 9728 §5.1).

mod common;

use common::{now, sign_raw};
use keybound::{
    Error, IssuerKeys, KeySet, ProofSigner, RequestGuard, ResourceRequest, SigningKey, TokenError,
    TokenIssuer, TokenOptions, TokenRequest, TokenVerifier, DEFAULT_MAX_ACCEPTED_LIFETIME_SECS,
};

const API: &str = "https://api.example.com/orders";
const AUD: &str = "https://api.example.com";

struct Issuer {
    name: &'static str,
    tokens: TokenIssuer,
}

fn issuer(name: &'static str) -> Issuer {
    Issuer {
        name,
        tokens: TokenIssuer::new(name, IssuerKeys::generate().unwrap()),
    }
}

impl Issuer {
    fn verifier(&self, audience: &str) -> TokenVerifier {
        TokenVerifier::new(self.name, audience, self.tokens.keys().key_set())
    }

    fn token(&self, client: &ProofSigner, audience: &str) -> String {
        let request = TokenRequest::new("alice", audience, "app", client.thumbprint());
        self.tokens.issue(&request, now()).unwrap().access_token
    }
}

fn send(
    guard: &RequestGuard,
    client: &ProofSigner,
    token: &str,
) -> Result<keybound::Authorized, keybound::Rejection> {
    let proof = client
        .proof("GET", API)
        .with_access_token(token)
        .sign(now())
        .unwrap();
    let authorization = format!("DPoP {token}");
    guard.check(
        &ResourceRequest::new("GET", API, &[&authorization], &[&proof]),
        now(),
    )
}

#[test]
fn the_tokens_iss_picks_the_issuer() {
    let (a, b) = (
        issuer("https://a.example.com"),
        issuer("https://b.example.com"),
    );
    let guard = RequestGuard::new(a.verifier(AUD))
        .with_issuer(b.verifier(AUD))
        .unwrap();
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    for from in [&a, &b] {
        let ok = send(&guard, &client, &from.token(&client, AUD)).unwrap();
        assert_eq!(ok.claims().issuer(), from.name);
    }
    assert_eq!(guard.issuers().len(), 2);
    assert_eq!(guard.tokens().issuer(), a.name);
}

#[test]
fn a_token_naming_one_issuer_signed_by_anothers_key_is_refused() {
    let (a, b) = (
        issuer("https://a.example.com"),
        issuer("https://b.example.com"),
    );
    let guard = RequestGuard::new(a.verifier(AUD))
        .with_issuer(b.verifier(AUD))
        .unwrap();
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    // Signed with A's key, claiming B: B's key set has no such key.
    let a_key = SigningKey::from_jwk(&a.tokens.keys().active().to_jwk()).unwrap();
    let forged = TokenIssuer::new(b.name, IssuerKeys::new(a_key));
    let request = TokenRequest::new("alice", AUD, "app", client.thumbprint());
    let token = forged.issue(&request, now()).unwrap().access_token;
    let rejection = send(&guard, &client, &token).unwrap_err();
    assert_eq!(rejection.status(), 401);
    assert_eq!(
        rejection.error(),
        &Error::InvalidToken(TokenError::UnknownKey)
    );
}

#[test]
fn an_untrusted_issuer_is_refused() {
    let (a, b, c) = (
        issuer("https://a.example.com"),
        issuer("https://b.example.com"),
        issuer("https://c.example.com"),
    );
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let single = RequestGuard::new(a.verifier(AUD));
    let several = RequestGuard::new(a.verifier(AUD))
        .with_issuer(b.verifier(AUD))
        .unwrap();
    for guard in [&single, &several] {
        let rejection = send(guard, &client, &c.token(&client, AUD)).unwrap_err();
        assert_eq!(rejection.status(), 401);
        assert!(matches!(
            rejection.error(),
            Error::InvalidToken(TokenError::WrongIssuer | TokenError::UnknownKey)
        ));
    }
    let rejection = send(&several, &client, &c.token(&client, AUD)).unwrap_err();
    assert_eq!(
        rejection.error(),
        &Error::InvalidToken(TokenError::WrongIssuer)
    );
}

#[test]
fn the_same_issuer_twice_is_refused() {
    let a = issuer("https://a.example.com");
    let refused = RequestGuard::new(a.verifier(AUD)).with_issuer(a.verifier("other"));
    assert_eq!(
        refused.err().map(|e| e.to_string()),
        Some("invalid argument: issuer".into())
    );
}

#[test]
fn cached_tokens_are_checked_against_their_own_issuers_keys() {
    let (a, b) = (
        issuer("https://a.example.com"),
        issuer("https://b.example.com"),
    );
    let guard = RequestGuard::new(a.verifier(AUD))
        .with_issuer(b.verifier(AUD))
        .unwrap();
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let token = b.token(&client, AUD);
    assert!(send(&guard, &client, &token).is_ok());
    // B drops its key: the cached token stops verifying.
    guard.issuers()[1].set_keys(KeySet::from_keys([SigningKey::generate()
        .unwrap()
        .public_key()
        .clone()]));
    let rejection = send(&guard, &client, &token).unwrap_err();
    assert_eq!(
        rejection.error(),
        &Error::InvalidToken(TokenError::UnknownKey)
    );
}

#[test]
fn several_audiences() {
    let a = issuer("https://a.example.com");
    let guard = RequestGuard::new(a.verifier(AUD).with_audience("orders-api"));
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    assert!(send(&guard, &client, &a.token(&client, AUD)).is_ok());
    assert!(send(&guard, &client, &a.token(&client, "orders-api")).is_ok());
    let rejection = send(&guard, &client, &a.token(&client, "billing-api")).unwrap_err();
    assert_eq!(
        rejection.error(),
        &Error::InvalidToken(TokenError::WrongAudience)
    );
}

/// A token of `lifetime` seconds from `key`, as an external authorization server makes them.
fn external_token(key: &SigningKey, client: &ProofSigner, lifetime: u64) -> String {
    let iat = now().as_secs() - 60;
    let header = format!(
        r#"{{"typ":"at+jwt","alg":"ES256","kid":"{}"}}"#,
        key.public_key().thumbprint()
    );
    let payload = format!(
        r#"{{"iss":"https://login.example.com","sub":"alice","aud":"{AUD}","client_id":"app",
        "jti":"j{lifetime}","iat":{iat},"exp":{},"cnf":{{"jkt":"{}"}}}}"#,
        iat + lifetime,
        client.thumbprint()
    );
    sign_raw(key, &header, &payload)
}

#[test]
fn the_default_lifetime_accepts_ninety_minute_tokens() {
    assert_eq!(DEFAULT_MAX_ACCEPTED_LIFETIME_SECS, 5400);
    assert_eq!(TokenOptions::new().max_lifetime_secs, 5400);
    let key = SigningKey::generate().unwrap();
    let keys = KeySet::from_keys([key.public_key().clone()]);
    let guard = RequestGuard::new(TokenVerifier::new("https://login.example.com", AUD, keys));
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    // Keycloak 5 min, node-oidc-provider and Okta 1 h, Entra ID up to 90 min.
    for lifetime in [300, 3600, 5400] {
        let token = external_token(&key, &client, lifetime);
        assert!(send(&guard, &client, &token).is_ok(), "{lifetime}");
    }
    let token = external_token(&key, &client, 5401);
    let rejection = send(&guard, &client, &token).unwrap_err();
    assert_eq!(
        rejection.error(),
        &Error::InvalidToken(TokenError::LifetimeTooLong)
    );
}

#[test]
fn the_issuers_own_default_stays_short() {
    assert_eq!(keybound::DEFAULT_TOKEN_LIFETIME_SECS, 300);
    let a = issuer("https://a.example.com");
    assert_eq!(a.tokens.lifetime_secs(), 300);
}

#[test]
fn resource_metadata_is_named_in_every_challenge() {
    let a = issuer("https://a.example.com");
    let url = "https://api.example.com/.well-known/oauth-protected-resource";
    let guard = RequestGuard::new(a.verifier(AUD))
        .with_resource_metadata(url)
        .unwrap();
    let none = guard
        .check(&ResourceRequest::new("GET", API, &[], &[]), now())
        .unwrap_err();
    let challenges = common::parse_challenges(none.www_authenticate());
    assert_eq!(challenges[0].param("resource_metadata"), Some(url));
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let bad = send(&guard, &client, &a.token(&client, "elsewhere")).unwrap_err();
    let challenges = common::parse_challenges(bad.www_authenticate());
    assert_eq!(challenges[0].param("resource_metadata"), Some(url));
    assert_eq!(challenges[0].param("error"), Some("invalid_token"));

    for refused in [
        "http://api.example.com/.well-known/oauth-protected-resource",
        "https://api.example.com/\"x",
        "not a url",
    ] {
        assert!(
            RequestGuard::new(a.verifier(AUD))
                .with_resource_metadata(refused)
                .is_err(),
            "{refused}"
        );
    }
}
