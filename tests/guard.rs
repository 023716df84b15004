//! End to end in one process: issue a bound token, then every way a request can be refused,
//! each with its exact status, parsed `WWW-Authenticate` and `DPoP-Nonce`.

mod common;

use std::sync::Arc;

use common::*;
use keybound::{
    Error, IssuerKeys, KeySet, MemoryRevocationStore, NonceEngine, ProofError, ProofSigner,
    ProofVerifier, Rejection, RequestGuard, ResourceRequest, Revocation, RevocationStore,
    SigningKey, TokenError, TokenIssuer, TokenRequest, TokenVerifier, UnixTime,
};

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const API: &str = "https://api.example.com/orders";
/// The `algs` every default challenge lists (RFC 9449 §7.1): all supported proof algorithms.
const ALL_ALGS: &str = "ES256 ES384 ES512 Ed25519 EdDSA RS256 RS384 RS512 PS256 PS384 PS512";

struct World {
    issuer: TokenIssuer,
    guard: RequestGuard<keybound::MemoryReplayStore, Arc<MemoryRevocationStore>>,
    revocations: Arc<MemoryRevocationStore>,
    client: ProofSigner,
}

fn world() -> World {
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let keys = KeySet::from_jwks(&issuer.keys().jwks()).unwrap();
    let revocations = Arc::new(MemoryRevocationStore::new());
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, keys))
        .with_revocation_store(revocations.clone());
    World {
        issuer,
        guard,
        revocations,
        client: ProofSigner::new(SigningKey::generate().unwrap()),
    }
}

impl World {
    fn token_for(&self, jkt: keybound::Thumbprint) -> String {
        let request = TokenRequest::new("alice", AUD, "app", jkt).with_scope("read write");
        self.issuer.issue(&request, now()).unwrap().access_token
    }

    fn token(&self) -> String {
        self.token_for(self.client.thumbprint())
    }

    fn proof(&self, signer: &ProofSigner, method: &str, url: &str, token: &str) -> String {
        signer
            .proof(method, url)
            .with_access_token(token)
            .sign(now())
            .unwrap()
    }

    fn send(
        &self,
        method: &str,
        url: &str,
        authorization: &[&str],
        dpop: &[&str],
    ) -> Result<keybound::Authorized, Rejection> {
        self.guard.check(
            &ResourceRequest::new(method, url, authorization, dpop),
            now(),
        )
    }

    fn send_dpop(&self, token: &str, proof: &str) -> Result<keybound::Authorized, Rejection> {
        let authorization = format!("DPoP {token}");
        self.send("GET", API, &[&authorization], &[proof])
    }
}

/// Asserts the rejection's status, its DPoP challenge's error and that nothing else leaks.
fn assert_rejected(
    result: Result<keybound::Authorized, Rejection>,
    status: u16,
    error: Option<&str>,
) -> Rejection {
    let rejection = result.expect_err("request must be refused");
    assert_eq!(rejection.status(), status, "{:?}", rejection.error());
    let challenges = parse_challenges(rejection.www_authenticate());
    assert_eq!(challenges.len(), 1, "{}", rejection.www_authenticate());
    let dpop = &challenges[0];
    assert_eq!(dpop.scheme, "DPoP");
    assert_eq!(dpop.param("algs"), Some(ALL_ALGS));
    assert_eq!(
        dpop.param("error"),
        error,
        "{}",
        rejection.www_authenticate()
    );
    assert_eq!(dpop.param("error_description").is_some(), error.is_some());
    rejection
}

#[test]
fn bound_token_with_fresh_proof_is_authorized() {
    let w = world();
    let token = w.token();
    let proof = w.proof(&w.client, "GET", API, &token);
    let ok = w.send_dpop(&token, &proof).unwrap();
    assert_eq!(ok.subject(), "alice");
    assert_eq!(ok.client_id(), "app");
    assert_eq!(ok.scopes().collect::<Vec<_>>(), ["read", "write"]);
    assert_eq!(ok.jkt(), Some(w.client.thumbprint()));
    assert_eq!(ok.claims().issuer(), ISS);
    assert!(ok.has_scope("write") && !ok.has_scope("admin"));
    assert_eq!(ok.token_jti().len(), 22);
}

#[test]
fn stolen_token_with_attackers_key_is_refused() {
    let w = world();
    let token = w.token();
    let attacker = ProofSigner::new(SigningKey::generate().unwrap());
    let proof = w.proof(&attacker, "GET", API, &token);
    let r = assert_rejected(w.send_dpop(&token, &proof), 401, Some("invalid_token"));
    assert_eq!(r.error(), &Error::InvalidToken(TokenError::KeyMismatch));
}

#[test]
fn captured_proof_cannot_be_replayed() {
    let w = world();
    let token = w.token();
    let proof = w.proof(&w.client, "GET", API, &token);
    assert!(w.send_dpop(&token, &proof).is_ok());
    let r = assert_rejected(w.send_dpop(&token, &proof), 401, Some("invalid_dpop_proof"));
    assert_eq!(r.error(), &Error::InvalidProof(ProofError::Replayed));
}

#[test]
fn proof_aimed_elsewhere_is_refused() {
    let w = world();
    let token = w.token();
    let proof = w.proof(&w.client, "GET", "https://api.example.com/admin", &token);
    let r = assert_rejected(w.send_dpop(&token, &proof), 401, Some("invalid_dpop_proof"));
    assert_eq!(r.error(), &Error::InvalidProof(ProofError::UrlMismatch));
    let post = w.proof(&w.client, "POST", API, &token);
    let r = assert_rejected(w.send_dpop(&token, &post), 401, Some("invalid_dpop_proof"));
    assert_eq!(r.error(), &Error::InvalidProof(ProofError::MethodMismatch));
}

#[test]
fn proof_for_another_token_is_refused() {
    let w = world();
    let token = w.token();
    let other = w.token();
    let proof = w.proof(&w.client, "GET", API, &other);
    let r = assert_rejected(w.send_dpop(&token, &proof), 401, Some("invalid_dpop_proof"));
    assert_eq!(r.error(), &Error::InvalidProof(ProofError::AthMismatch));
}

#[test]
fn missing_proof_is_refused() {
    let w = world();
    let token = w.token();
    let authorization = format!("DPoP {token}");
    let r = assert_rejected(
        w.send("GET", API, &[&authorization], &[]),
        401,
        Some("invalid_dpop_proof"),
    );
    assert_eq!(r.error(), &Error::InvalidProof(ProofError::MissingHeader));
}

#[test]
fn no_credentials_get_a_bare_challenge() {
    let w = world();
    let r = assert_rejected(w.send("GET", API, &[], &[]), 401, None);
    assert_eq!(r.error(), &Error::NoCredentials);
    assert_eq!(
        r.www_authenticate(),
        r#"DPoP algs="ES256 ES384 ES512 Ed25519 EdDSA RS256 RS384 RS512 PS256 PS384 PS512""#
    );
    // An unsupported scheme counts as no credentials (RFC 6750 §3).
    let _ = assert_rejected(w.send("GET", API, &["Basic dXNlcjpwdw=="], &[]), 401, None);
}

#[test]
fn malformed_or_multiple_headers_are_invalid_requests() {
    let w = world();
    let token = w.token();
    let authorization = format!("DPoP {token}");
    let p1 = w.proof(&w.client, "GET", API, &token);
    let p2 = w.proof(&w.client, "GET", API, &token);
    // Several DPoP headers.
    let _ = assert_rejected(
        w.send("GET", API, &[&authorization], &[&p1, &p2]),
        400,
        Some("invalid_request"),
    );
    // Several Authorization headers.
    let bearer = format!("Bearer {token}");
    let _ = assert_rejected(
        w.send("GET", API, &[&authorization, &bearer], &[&p1]),
        400,
        Some("invalid_request"),
    );
    // Malformed Authorization.
    for bad in ["DPoP", "DPoP a b", "DPoP a\"b"] {
        let _ = assert_rejected(
            w.send("GET", API, &[bad], &[&p1]),
            400,
            Some("invalid_request"),
        );
    }
}

#[test]
fn token_problems_are_invalid_token() {
    let w = world();
    let jkt = w.client.thumbprint();
    // Expired (5 min lifetime, 5 s leeway).
    let old = w
        .issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", jkt),
            UnixTime::from_secs(NOW - 306),
        )
        .unwrap()
        .access_token;
    let r = assert_rejected(
        w.send_dpop(&old, &w.proof(&w.client, "GET", API, &old)),
        401,
        Some("invalid_token"),
    );
    assert!(matches!(
        r.error(),
        Error::InvalidToken(TokenError::Expired { .. })
    ));
    // Wrong audience.
    let foreign = w
        .issuer
        .issue(
            &TokenRequest::new("alice", "https://other.example.com", "app", jkt),
            now(),
        )
        .unwrap()
        .access_token;
    let r = assert_rejected(
        w.send_dpop(&foreign, &w.proof(&w.client, "GET", API, &foreign)),
        401,
        Some("invalid_token"),
    );
    assert_eq!(r.error(), &Error::InvalidToken(TokenError::WrongAudience));
    // Another issuer's key.
    let rogue = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let forged = rogue
        .issue(&TokenRequest::new("alice", AUD, "app", jkt), now())
        .unwrap()
        .access_token;
    let r = assert_rejected(
        w.send_dpop(&forged, &w.proof(&w.client, "GET", API, &forged)),
        401,
        Some("invalid_token"),
    );
    assert_eq!(r.error(), &Error::InvalidToken(TokenError::UnknownKey));
    // Another issuer name with the right key.
    let wrong_iss = TokenIssuer::new(
        "https://evil.example.com",
        IssuerKeys::new(SigningKey::from_jwk(&w.issuer.keys().active().to_jwk()).unwrap()),
    );
    let t = wrong_iss
        .issue(&TokenRequest::new("alice", AUD, "app", jkt), now())
        .unwrap()
        .access_token;
    let r = assert_rejected(
        w.send_dpop(&t, &w.proof(&w.client, "GET", API, &t)),
        401,
        Some("invalid_token"),
    );
    assert_eq!(r.error(), &Error::InvalidToken(TokenError::WrongIssuer));
    // Garbage.
    let junk = "abc.def.ghi";
    let _ = assert_rejected(
        w.send_dpop(junk, &w.proof(&w.client, "GET", API, junk)),
        401,
        Some("invalid_token"),
    );
    // A tampered token: claims swapped, signature kept.
    let token = w.token();
    let mut parts: Vec<&str> = token.split('.').collect();
    let other = w.token_for(SigningKey::generate().unwrap().thumbprint());
    let other_claims = other.split('.').nth(1).unwrap().to_owned();
    parts[1] = &other_claims;
    let tampered = parts.join(".");
    let r = assert_rejected(
        w.send_dpop(&tampered, &w.proof(&w.client, "GET", API, &tampered)),
        401,
        Some("invalid_token"),
    );
    assert!(matches!(
        r.error(),
        Error::InvalidToken(TokenError::Jose(_))
    ));
}

#[test]
fn token_typ_must_be_at_jwt() {
    let w = world();
    let key = SigningKey::from_jwk(&w.issuer.keys().active().to_jwk()).unwrap();
    let kid = key.thumbprint();
    let claims = format!(
        r#"{{"iss":"{ISS}","sub":"alice","aud":"{AUD}","exp":{},"iat":{NOW},"jti":"t1","client_id":"app","cnf":{{"jkt":"{}"}}}}"#,
        NOW + 60,
        w.client.thumbprint()
    );
    for (typ, ok) in [
        ("at+jwt", true),
        ("application/at+jwt", true),
        ("AT+JWT", true),
        ("JWT", false),
        ("dpop+jwt", false),
    ] {
        let token = sign_raw(
            &key,
            &format!(r#"{{"typ":"{typ}","alg":"ES256","kid":"{kid}"}}"#),
            &claims,
        );
        let result = w.send_dpop(&token, &w.proof(&w.client, "GET", API, &token));
        if ok {
            assert!(result.is_ok(), "{typ}: {:?}", result.err());
        } else {
            let r = assert_rejected(result, 401, Some("invalid_token"));
            assert_eq!(
                r.error(),
                &Error::InvalidToken(TokenError::WrongType),
                "{typ}"
            );
        }
    }
    let token = sign_raw(
        &key,
        &format!(r#"{{"alg":"ES256","kid":"{kid}"}}"#),
        &claims,
    );
    let r = assert_rejected(
        w.send_dpop(&token, &w.proof(&w.client, "GET", API, &token)),
        401,
        Some("invalid_token"),
    );
    assert_eq!(r.error(), &Error::InvalidToken(TokenError::WrongType));
    // An unknown confirmation method does not make a bearer token.
    let x5t = claims.replace(r#"{"jkt""#, r#"{"x5t#S256""#);
    let token = sign_raw(
        &key,
        &format!(r#"{{"typ":"at+jwt","alg":"ES256","kid":"{kid}"}}"#),
        &x5t,
    );
    let r = assert_rejected(
        w.send_dpop(&token, &w.proof(&w.client, "GET", API, &token)),
        401,
        Some("invalid_token"),
    );
    assert_eq!(
        r.error(),
        &Error::InvalidToken(TokenError::InvalidClaim("cnf"))
    );
}

#[test]
fn bearer_downgrade_and_unbound_tokens_are_refused() {
    let w = world();
    // A bound token presented as Bearer.
    let token = w.token();
    let bearer = format!("Bearer {token}");
    let r = assert_rejected(
        w.send("GET", API, &[&bearer], &[]),
        401,
        Some("invalid_token"),
    );
    assert_eq!(
        r.error(),
        &Error::InvalidToken(TokenError::BoundTokenAsBearer)
    );

    // An unbound token (no cnf) under the DPoP scheme.
    let key = SigningKey::from_jwk(&w.issuer.keys().active().to_jwk()).unwrap();
    let claims = format!(
        r#"{{"iss":"{ISS}","sub":"alice","aud":"{AUD}","exp":{},"iat":{NOW},"jti":"u1","client_id":"app"}}"#,
        NOW + 60
    );
    let unbound = sign_raw(
        &key,
        &format!(
            r#"{{"typ":"at+jwt","alg":"ES256","kid":"{}"}}"#,
            key.thumbprint()
        ),
        &claims,
    );
    let r = assert_rejected(
        w.send_dpop(&unbound, &w.proof(&w.client, "GET", API, &unbound)),
        401,
        Some("invalid_token"),
    );
    assert_eq!(r.error(), &Error::InvalidToken(TokenError::NotBound));

    // With bearer tokens enabled: the unbound token works as Bearer, the bound one still not,
    // and challenges name both schemes (RFC 9449 §7.2).
    let both = RequestGuard::new(TokenVerifier::new(ISS, AUD, w.issuer.keys().key_set()))
        .with_bearer_tokens(true);
    let unbound_bearer = format!("Bearer {unbound}");
    let ok = both
        .check(
            &ResourceRequest::new("GET", API, &[&unbound_bearer], &[]),
            now(),
        )
        .unwrap();
    assert_eq!(ok.jkt(), None);
    let r = both
        .check(&ResourceRequest::new("GET", API, &[&bearer], &[]), now())
        .unwrap_err();
    assert_eq!(r.status(), 401);
    let challenges = parse_challenges(r.www_authenticate());
    assert_eq!(challenges.len(), 2);
    assert_eq!(challenges[0].scheme, "Bearer");
    assert_eq!(challenges[0].param("error"), Some("invalid_token"));
    assert_eq!(challenges[1].scheme, "DPoP");
    assert_eq!(challenges[1].param("error"), None);
    assert_eq!(challenges[1].param("algs"), Some(ALL_ALGS));
    let none = both
        .check(&ResourceRequest::new("GET", API, &[], &[]), now())
        .unwrap_err();
    assert_eq!(
        none.www_authenticate(),
        r#"Bearer, DPoP algs="ES256 ES384 ES512 Ed25519 EdDSA RS256 RS384 RS512 PS256 PS384 PS512""#
    );
}

#[test]
fn nonce_challenge_then_retry_succeeds() {
    let w = world();
    let keys = w.issuer.keys().key_set();
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, keys))
        .with_proof_verifier(ProofVerifier::new().with_nonces(NonceEngine::from_secret([9; 32])));
    let token = w.token();
    let authorization = format!("DPoP {token}");
    let proof = w.proof(&w.client, "GET", API, &token);
    let first = guard.check(
        &ResourceRequest::new("GET", API, &[&authorization], &[&proof]),
        now(),
    );
    let r = assert_rejected(first, 401, Some("use_dpop_nonce"));
    let nonce = r.dpop_nonce().expect("a DPoP-Nonce header").to_owned();
    let retry = w
        .client
        .proof("GET", API)
        .with_access_token(&token)
        .with_nonce(&nonce)
        .sign(now())
        .unwrap();
    assert!(guard
        .check(
            &ResourceRequest::new("GET", API, &[&authorization], &[&retry]),
            now()
        )
        .is_ok());
}

#[test]
fn revocation_takes_effect_on_the_next_request_even_when_cached() {
    for how in ["jti", "key", "subject"] {
        let w = world();
        let token = w.token();
        // First request verifies and caches the token.
        assert!(w
            .send_dpop(&token, &w.proof(&w.client, "GET", API, &token))
            .is_ok());
        assert!(w
            .send_dpop(&token, &w.proof(&w.client, "GET", API, &token))
            .is_ok());
        let claims = w.guard.tokens().verify(&token, now()).unwrap();
        let revocation = match how {
            "jti" => Revocation::token(claims.claims()),
            "key" => Revocation::key(w.client.thumbprint(), now()),
            _ => Revocation::subject("alice", now()),
        };
        w.revocations.revoke(&revocation, now()).unwrap();
        let r = assert_rejected(
            w.send_dpop(&token, &w.proof(&w.client, "GET", API, &token)),
            401,
            Some("invalid_token"),
        );
        assert_eq!(
            r.error(),
            &Error::InvalidToken(TokenError::Revoked),
            "{how}"
        );
    }
}

#[test]
fn subject_revocation_spares_later_tokens() {
    let w = world();
    let before = w.token();
    w.revocations
        .revoke(&Revocation::subject("alice", now()), now())
        .unwrap();
    let later = UnixTime::from_secs(NOW + 1);
    let after = w
        .issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", w.client.thumbprint()),
            later,
        )
        .unwrap()
        .access_token;
    let send = |token: &str| {
        let proof = w
            .client
            .proof("GET", API)
            .with_access_token(token)
            .sign(later)
            .unwrap();
        let authorization = format!("DPoP {token}");
        w.guard.check(
            &ResourceRequest::new("GET", API, &[&authorization], &[&proof]),
            later,
        )
    };
    assert!(send(&before).is_err());
    assert!(send(&after).is_ok());
}

#[test]
fn rotation_keeps_retired_keys_until_removed() {
    let mut w = world();
    let old_token = w.token();
    let old_kid = w.issuer.keys().active_kid();
    w.issuer.keys_mut().rotate(SigningKey::generate().unwrap());
    let new_token = w.token();
    assert_ne!(w.issuer.keys().active_kid(), old_kid);
    // The resource server fetches the new JWKS: both keys.
    w.guard
        .tokens()
        .set_keys(KeySet::from_jwks(&w.issuer.keys().jwks()).unwrap());
    assert!(w
        .send_dpop(&old_token, &w.proof(&w.client, "GET", API, &old_token))
        .is_ok());
    assert!(w
        .send_dpop(&new_token, &w.proof(&w.client, "GET", API, &new_token))
        .is_ok());
    // The old key is removed and the JWKS refetched: the old token stops working, even though
    // it is in the verified-token cache.
    assert!(w.issuer.keys_mut().remove(&old_kid));
    w.guard
        .tokens()
        .set_keys(KeySet::from_jwks(&w.issuer.keys().jwks()).unwrap());
    let r = assert_rejected(
        w.send_dpop(&old_token, &w.proof(&w.client, "GET", API, &old_token)),
        401,
        Some("invalid_token"),
    );
    assert_eq!(r.error(), &Error::InvalidToken(TokenError::UnknownKey));
    assert!(w
        .send_dpop(&new_token, &w.proof(&w.client, "GET", API, &new_token))
        .is_ok());
}

#[test]
fn cached_token_still_expires() {
    let w = world();
    let token = w.token();
    assert!(w
        .send_dpop(&token, &w.proof(&w.client, "GET", API, &token))
        .is_ok());
    let later = UnixTime::from_secs(NOW + 306);
    let proof = w
        .client
        .proof("GET", API)
        .with_access_token(&token)
        .sign(later)
        .unwrap();
    let authorization = format!("DPoP {token}");
    let r = w
        .guard
        .check(
            &ResourceRequest::new("GET", API, &[&authorization], &[&proof]),
            later,
        )
        .unwrap_err();
    assert!(matches!(
        r.error(),
        Error::InvalidToken(TokenError::Expired { .. })
    ));
}

#[test]
fn cache_hit_never_skips_binding_or_proof() {
    let w = world();
    let token = w.token();
    assert!(w
        .send_dpop(&token, &w.proof(&w.client, "GET", API, &token))
        .is_ok());
    // Now cached: a thief's proof, a proof for another URL and a replay are still refused.
    let thief = ProofSigner::new(SigningKey::generate().unwrap());
    assert!(w
        .send_dpop(&token, &w.proof(&thief, "GET", API, &token))
        .is_err());
    assert!(w
        .send_dpop(
            &token,
            &w.proof(&w.client, "GET", "https://api.example.com/x", &token)
        )
        .is_err());
    let p = w.proof(&w.client, "GET", API, &token);
    assert!(w.send_dpop(&token, &p).is_ok());
    assert!(w.send_dpop(&token, &p).is_err());
}

#[test]
fn insufficient_scope_answers_403_with_scope() {
    let w = world();
    let r = w.guard.insufficient_scope("admin");
    assert_eq!(r.status(), 403);
    let c = parse_challenges(r.www_authenticate());
    assert_eq!(c[0].param("error"), Some("insufficient_scope"));
    assert_eq!(c[0].param("scope"), Some("admin"));
    let realm = RequestGuard::new(TokenVerifier::new(ISS, AUD, KeySet::default()))
        .with_realm("orders")
        .unwrap();
    let r = realm
        .check(&ResourceRequest::new("GET", API, &[], &[]), now())
        .unwrap_err();
    assert_eq!(
        r.www_authenticate(),
        r#"DPoP realm="orders", algs="ES256 ES384 ES512 Ed25519 EdDSA RS256 RS384 RS512 PS256 PS384 PS512""#
    );
    assert!(
        RequestGuard::new(TokenVerifier::new(ISS, AUD, KeySet::default()))
            .with_realm("a\"b")
            .is_err()
    );
}

#[test]
fn rejections_never_echo_request_text() {
    let w = world();
    let marker = "evil";
    let token = format!("{marker}.{marker}.{marker}");
    let authorization = format!("DPoP {token}");
    let r = w
        .send("GET", API, &[&authorization], &[marker])
        .unwrap_err();
    assert!(!r.www_authenticate().contains(marker));
    assert!(!format!("{:?} {}", r.error(), r.error()).contains(marker));
}

#[test]
fn replacing_a_key_under_the_same_kid_invalidates_cached_tokens() {
    let w = world();
    let old = SigningKey::generate().unwrap();
    let new = SigningKey::generate().unwrap();
    let jwks_with = |key: &SigningKey| {
        let jwk = key.public_key().to_jwk();
        format!(r#"{{"keys":[{},"kid":"k1"}}]}}"#, &jwk[..jwk.len() - 1])
    };
    let guard = RequestGuard::new(TokenVerifier::new(
        ISS,
        AUD,
        KeySet::from_jwks(&jwks_with(&old)).unwrap(),
    ));
    let claims = format!(
        r#"{{"iss":"{ISS}","sub":"alice","aud":"{AUD}","exp":{},"iat":{NOW},"jti":"k","client_id":"app","cnf":{{"jkt":"{}"}}}}"#,
        NOW + 60,
        w.client.thumbprint()
    );
    let token = sign_raw(
        &old,
        r#"{"typ":"at+jwt","alg":"ES256","kid":"k1"}"#,
        &claims,
    );
    let authorization = format!("DPoP {token}");
    let send = |guard: &RequestGuard| {
        let proof = w.proof(&w.client, "GET", API, &token);
        guard.check(
            &ResourceRequest::new("GET", API, &[&authorization], &[&proof]),
            now(),
        )
    };
    assert!(send(&guard).is_ok(), "verified and cached");
    guard
        .tokens()
        .set_keys(KeySet::from_jwks(&jwks_with(&new)).unwrap());
    let r = send(&guard).unwrap_err();
    assert_eq!(r.error(), &Error::InvalidToken(TokenError::UnknownKey));
}

#[test]
fn overlong_tokens_are_refused() {
    let w = world();
    let key = SigningKey::from_jwk(&w.issuer.keys().active().to_jwk()).unwrap();
    let claims = format!(
        r#"{{"iss":"{ISS}","sub":"alice","aud":"{AUD}","exp":{},"iat":{NOW},"jti":"l","client_id":"app","cnf":{{"jkt":"{}"}}}}"#,
        NOW + keybound::DEFAULT_MAX_ACCEPTED_LIFETIME_SECS + 1,
        w.client.thumbprint()
    );
    let header = format!(
        r#"{{"typ":"at+jwt","alg":"ES256","kid":"{}"}}"#,
        key.thumbprint()
    );
    let token = sign_raw(&key, &header, &claims);
    let r = assert_rejected(
        w.send_dpop(&token, &w.proof(&w.client, "GET", API, &token)),
        401,
        Some("invalid_token"),
    );
    assert_eq!(r.error(), &Error::InvalidToken(TokenError::LifetimeTooLong));
}

/// A revocation store that is down.
struct Unreachable;

impl RevocationStore for Unreachable {
    fn revoke(&self, _: &Revocation, _: UnixTime) -> Result<(), keybound::StoreError> {
        Err(keybound::StoreError::Unavailable)
    }
    fn is_revoked(
        &self,
        _: &keybound::AccessTokenClaims,
        _: UnixTime,
    ) -> Result<bool, keybound::StoreError> {
        Err(keybound::StoreError::Unavailable)
    }
}

#[test]
fn unavailable_store_fails_closed_with_503() {
    let w = world();
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, w.issuer.keys().key_set()))
        .with_revocation_store(Unreachable);
    let token = w.token();
    let authorization = format!("DPoP {token}");
    let proof = w.proof(&w.client, "GET", API, &token);
    let r = guard
        .check(
            &ResourceRequest::new("GET", API, &[&authorization], &[&proof]),
            now(),
        )
        .unwrap_err();
    assert_eq!(r.status(), 503);
    assert_eq!(r.error(), &Error::Store(keybound::StoreError::Unavailable));
    assert_eq!(
        r.www_authenticate(),
        r#"DPoP algs="ES256 ES384 ES512 Ed25519 EdDSA RS256 RS384 RS512 PS256 PS384 PS512""#
    );
}

#[test]
fn debug_output_hides_credentials() {
    let w = world();
    let issued = w
        .issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", w.client.thumbprint()),
            now(),
        )
        .unwrap();
    let token = issued.access_token.clone();
    let authorization = format!("DPoP {token}");
    let proof = w.proof(&w.client, "GET", API, &token);
    let (authz, dpop) = ([authorization.as_str()], [proof.as_str()]);
    let request = ResourceRequest::new("GET", API, &authz, &dpop);
    let builder = w.client.proof("GET", API).with_access_token(&token);
    for text in [
        format!("{issued:?}"),
        format!("{request:?}"),
        format!("{builder:?}"),
        format!("{:?}", w.issuer),
    ] {
        assert!(!text.contains(&token), "{text}");
        assert!(!text.contains(&proof), "{text}");
    }
    let _ = builder;
}

#[tokio::test]
async fn check_async_refuses_replays_and_revoked_tokens() {
    let w = world();
    let token = w.token();
    let proof = w.proof(&w.client, "GET", API, &token);
    let authorization = format!("DPoP {token}");
    let (authz, dpop) = ([authorization.as_str()], [proof.as_str()]);
    let request = ResourceRequest::new("GET", API, &authz, &dpop);
    assert!(w.guard.check_async(&request, now()).await.is_ok());
    let replay = w.guard.check_async(&request, now()).await.unwrap_err();
    assert_eq!(replay.error(), &Error::InvalidProof(ProofError::Replayed));
    w.revocations
        .revoke(&Revocation::key(w.client.thumbprint(), now()), now())
        .unwrap();
    let fresh = w.proof(&w.client, "GET", API, &token);
    let dpop = [fresh.as_str()];
    let revoked = w
        .guard
        .check_async(&ResourceRequest::new("GET", API, &authz, &dpop), now())
        .await
        .unwrap_err();
    assert_eq!(revoked.error(), &Error::InvalidToken(TokenError::Revoked));
    // The stateless checks run too: a stolen token with another key, and no credentials.
    let thief = ProofSigner::new(SigningKey::generate().unwrap());
    let stolen = w.proof(&thief, "GET", API, &token);
    let dpop = [stolen.as_str()];
    let mismatch = w
        .guard
        .check_async(&ResourceRequest::new("GET", API, &authz, &dpop), now())
        .await
        .unwrap_err();
    assert_eq!(
        mismatch.error(),
        &Error::InvalidToken(TokenError::KeyMismatch)
    );
    let bare = w
        .guard
        .check_async(&ResourceRequest::new("GET", API, &[], &[]), now())
        .await
        .unwrap_err();
    assert_eq!(bare.status(), 401);
}

#[test]
fn authorized_requests_carry_a_fresh_nonce_when_theirs_is_getting_old() {
    let w = world();
    let engine_secret = [8; 32];
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, w.issuer.keys().key_set()))
        .with_proof_verifier(
            ProofVerifier::new().with_nonces(NonceEngine::from_secret(engine_secret)),
        );
    let token = w.token();
    let authorization = format!("DPoP {token}");
    let old_nonce = NonceEngine::from_secret(engine_secret).issue(UnixTime::from_secs(NOW - 40));
    let send = |nonce: &str| {
        let proof = w
            .client
            .proof("GET", API)
            .with_access_token(&token)
            .with_nonce(nonce)
            .sign(now())
            .unwrap();
        guard.check(
            &ResourceRequest::new("GET", API, &[&authorization], &[&proof]),
            now(),
        )
    };
    let ok = send(&old_nonce).unwrap();
    let fresh = ok
        .fresh_nonce()
        .expect("a newer nonce to send back")
        .to_owned();
    assert_ne!(fresh, old_nonce);
    // The fresh nonce is current: using it yields no further one.
    assert_eq!(send(&fresh).unwrap().fresh_nonce(), None);
}

#[test]
fn htu_mismatch_explains_itself_to_the_logs() {
    let w = world();
    let token = w.token();
    let proof = w.proof(&w.client, "GET", "http://10.0.0.7:8080/orders", &token);
    let r = w.send_dpop(&token, &proof).unwrap_err();
    assert_eq!(
        r.diagnostic(),
        Some(
            r#"htu mismatch: expected "https://api.example.com/orders", received "http://10.0.0.7:8080/orders""#
        )
    );
    assert!(!r.www_authenticate().contains("10.0.0.7"));
    // An `htu` that is not a URL: the received side is shown as signed.
    let unreadable = sign_raw(
        w.client.key(),
        &header_for(w.client.key()),
        &format!(
            r#"{{"jti":"diag","htm":"GET","htu":"https://[]/x","iat":{NOW},"ath":"{}"}}"#,
            ath(&token)
        ),
    );
    let r = w.send_dpop(&token, &unreadable).unwrap_err();
    assert_eq!(
        r.error(),
        &Error::InvalidProof(ProofError::InvalidClaim("htu"))
    );
    assert_eq!(
        r.diagnostic(),
        Some(r#"htu mismatch: expected "https://api.example.com/orders", received "https://[]/x""#)
    );
    // Other refusals carry no diagnostic.
    let thief = ProofSigner::new(SigningKey::generate().unwrap());
    let other = w
        .send_dpop(&token, &w.proof(&thief, "GET", API, &token))
        .unwrap_err();
    assert_eq!(other.diagnostic(), None);
}

#[test]
fn token_size_limit_is_exact() {
    let w = world();
    let token = w.token();
    let verifier = |max: usize| {
        TokenVerifier::new(ISS, AUD, w.issuer.keys().key_set())
            .with_options(keybound::TokenOptions::new().with_max_token_len(max))
    };
    assert!(verifier(token.len()).verify(&token, now()).is_ok());
    assert_eq!(
        verifier(token.len() - 1).verify(&token, now()).unwrap_err(),
        Error::InvalidToken(TokenError::TooLarge)
    );
}

#[test]
fn insufficient_scope_keeps_only_quotable_scope_text() {
    let w = world();
    let r = w.guard.insufficient_scope("read \"write\"\\admin\tx");
    let c = parse_challenges(r.www_authenticate());
    assert_eq!(c[0].param("scope"), Some("read writeadminx"));
    // A hostile scope cannot end the quoted string or the header line.
    let hostile = w
        .guard
        .insufficient_scope("admin\", error=\"x\\y\r\nSet-Cookie: z");
    let header = hostile.www_authenticate();
    assert!(!header.contains('\\') && !header.contains('\r') && !header.contains('\n'));
    let c = parse_challenges(header);
    assert_eq!(c.len(), 1, "{header}");
    assert_eq!(c[0].param("scope"), Some("admin, error=xySet-Cookie: z"));
    assert_eq!(c[0].param("error"), Some("insufficient_scope"));
}

#[test]
fn request_guard_debug_names_its_parts() {
    let text = format!("{:?}", world().guard);
    assert!(text.starts_with("RequestGuard"), "{text}");
    assert!(text.contains("accept_bearer: false"), "{text}");
    assert!(text.contains("ProofVerifier"), "{text}");
    assert!(text.contains("realm: None"), "{text}");
}
