//! Tests written to kill mutants that `cargo mutants` found surviving in the verification code
//! (see MUTANTS.md). Each test names the check it pins down; all go through the public API.

mod common;

use std::sync::Arc;

use common::*;
use keybound::{
    Error, IssuerKeys, KeySet, MemoryReplayStore, MemoryRevocationStore, NonceEngine, ProofError,
    ProofOptions, ProofRequest, ProofSigner, ProofVerifier, RequestGuard, ResourceRequest,
    Revocation, RevocationStore, SigningKey, TokenError, TokenIssuer, TokenOptions, TokenRequest,
    TokenVerifier, UnixTime,
};

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";

fn key() -> SigningKey {
    SigningKey::generate().unwrap()
}

/// A proof for `GET url` with [`TOKEN`]'s `ath`, hand-signed so that `htu` can be anything.
fn proof_with_htu(k: &SigningKey, htu: &str, jti: &str) -> String {
    let claims = format!(
        r#"{{"jti":"{jti}","htm":"GET","htu":"{htu}","iat":{NOW},"ath":"{}"}}"#,
        ath(TOKEN)
    );
    sign_raw(k, &header_for(k), &claims)
}

fn verify_at(url: &str, proof: &str) -> Result<keybound::VerifiedProof, Error> {
    ProofVerifier::new().verify(
        &ProofRequest::new("GET", url, &[proof]).with_access_token(TOKEN),
        now(),
    )
}

// ---------------------------------------------------------------------------------------------
// htu (RFC 9449 §4.3 step 9): malformed authorities are refused on both sides, never compared.

/// `https://[]/x`: an IP literal must have something between the brackets
/// (kills `host.len() > 2` → `>=` in `split_host_port`).
#[test]
fn htu_empty_ip_literal_is_refused() {
    let k = key();
    let url = "https://[]/x";
    let proof = proof_with_htu(&k, url, "empty-literal");
    assert_eq!(
        verify_at(url, &proof).unwrap_err(),
        Error::InvalidProof(ProofError::InvalidClaim("htu"))
    );
    // The request URL itself is refused too (a well-formed claim cannot match it).
    let proof = proof_with_htu(&k, URL, "empty-literal-2");
    assert_eq!(
        verify_at(url, &proof).unwrap_err(),
        Error::InvalidProof(ProofError::UrlMismatch)
    );
}

/// A port is at most five ASCII digits: no sign, no long zero padding
/// (kills the `digits.len() <= 5 && all digits` guard → `true`, and `&&` → `||`).
#[test]
fn htu_port_must_be_at_most_five_plain_digits() {
    for htu in [
        "https://api.example.com:+443/orders",
        "https://api.example.com:000443/orders",
        "https://api.example.com:+0443/orders",
    ] {
        let k = key();
        let proof = proof_with_htu(&k, htu, "port");
        assert_eq!(
            verify_at(URL, &proof).unwrap_err(),
            Error::InvalidProof(ProofError::InvalidClaim("htu")),
            "{htu}"
        );
    }
    // Five digits, zero-padded, are still a port (and the default one).
    let k = key();
    let proof = proof_with_htu(&k, "https://api.example.com:00443/orders", "port-ok");
    assert!(verify_at(URL, &proof).is_ok());
}

// ---------------------------------------------------------------------------------------------
// ProofVerifier: the asynchronous path registers proofs too, and the accessors are faithful.

/// `verify_async` refuses the second use of a proof (kills `register_async` → `Ok(())`).
#[tokio::test]
async fn verify_async_refuses_a_replayed_proof() {
    let k = key();
    let proof = sign_raw(&k, &header_for(&k), &claims("async-replay"));
    let verifier = ProofVerifier::new();
    let headers = [proof.as_str()];
    let request = ProofRequest::new("GET", URL, &headers).with_access_token(TOKEN);
    let first = verifier.verify_async(&request, now()).await.unwrap();
    assert_eq!(first.thumbprint(), k.thumbprint());
    assert_eq!(
        verifier.verify_async(&request, now()).await.unwrap_err(),
        Error::InvalidProof(ProofError::Replayed)
    );
    // The synchronous path shares the same store.
    assert_eq!(
        verifier.verify(&request, now()).unwrap_err(),
        Error::InvalidProof(ProofError::Replayed)
    );
}

/// `options()` returns the options in force, not defaults.
#[test]
fn options_accessor_returns_the_configured_options() {
    let options = ProofOptions::new()
        .with_max_age_secs(7)
        .with_leeway_secs(1)
        .with_max_jti_len(9);
    let verifier = ProofVerifier::new().with_options(options);
    assert_eq!(*verifier.options(), options);
    assert_ne!(*verifier.options(), ProofOptions::default());
}

/// `nonce_engine()` hands out the engine in use, so rotating through it takes effect
/// (kills `nonce_engine` → `None` and the deleted `Engine` match arm).
#[test]
fn nonce_engine_accessor_reaches_the_engine_in_use() {
    assert!(ProofVerifier::new().nonce_engine().is_none());
    let fixed = ProofVerifier::new().with_required_nonce("n-1").unwrap();
    assert!(fixed.nonce_engine().is_none());

    let verifier = ProofVerifier::new().with_nonces(NonceEngine::from_secret([3; 32]));
    let engine = verifier
        .nonce_engine()
        .expect("the verifier's nonce engine");
    let before = verifier.issue_nonce(now()).unwrap();
    assert_eq!(engine.issue(now()), before);
    engine.rotate([4; 32]);
    let after = verifier.issue_nonce(now()).unwrap();
    assert_ne!(after, before);
    assert_eq!(after, NonceEngine::from_secret([4; 32]).issue(now()));
}

/// `Debug` names the type and whether nonces are required, and nothing else.
#[test]
fn proof_verifier_debug_output() {
    let plain = format!("{:?}", ProofVerifier::new());
    assert!(plain.starts_with("ProofVerifier"), "{plain}");
    assert!(plain.contains("nonces_required: false"), "{plain}");
    let secret = [0xAB; 32];
    let nonces = format!(
        "{:?}",
        ProofVerifier::new().with_nonces(NonceEngine::from_secret(secret))
    );
    assert!(nonces.contains("nonces_required: true"), "{nonces}");
    assert!(!nonces.contains("171"), "{nonces}");
}

// ---------------------------------------------------------------------------------------------
// RequestGuard: the asynchronous path runs revocation and replay like the synchronous one.

struct World {
    issuer: TokenIssuer,
    guard: RequestGuard<MemoryReplayStore, Arc<MemoryRevocationStore>>,
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
        client: ProofSigner::new(key()),
    }
}

impl World {
    fn token(&self) -> String {
        let request = TokenRequest::new("alice", AUD, "app", self.client.thumbprint());
        self.issuer.issue(&request, now()).unwrap().access_token
    }

    fn proof(&self, token: &str) -> String {
        self.client
            .proof("GET", URL)
            .with_access_token(token)
            .sign(now())
            .unwrap()
    }

    async fn send_async(
        &self,
        token: &str,
        proof: &str,
    ) -> Result<keybound::Authorized, keybound::Rejection> {
        let authorization = format!("DPoP {token}");
        let authorization = [authorization.as_str()];
        let dpop = [proof];
        self.guard
            .check_async(
                &ResourceRequest::new("GET", URL, &authorization, &dpop),
                now(),
            )
            .await
    }
}

/// `check_async` refuses a replayed proof (kills `finish_async`'s registration being skipped).
#[tokio::test]
async fn guard_check_async_refuses_a_replayed_proof() {
    let w = world();
    let token = w.token();
    let proof = w.proof(&token);
    let ok = w.send_async(&token, &proof).await.unwrap();
    assert_eq!(ok.subject(), "alice");
    assert_eq!(ok.jkt(), Some(w.client.thumbprint()));
    let again = w.send_async(&token, &proof).await.unwrap_err();
    assert_eq!(again.error(), &Error::InvalidProof(ProofError::Replayed));
    assert_eq!(again.status(), 401);
}

/// `check_async` consults the revocation store (kills `finish_async` → `Ok` paths).
#[tokio::test]
async fn guard_check_async_refuses_a_revoked_token() {
    let w = world();
    let token = w.token();
    let first = w.send_async(&token, &w.proof(&token)).await.unwrap();
    w.revocations
        .revoke(&Revocation::token(first.claims()), now())
        .unwrap();
    let refused = w.send_async(&token, &w.proof(&token)).await.unwrap_err();
    assert_eq!(refused.error(), &Error::InvalidToken(TokenError::Revoked));
    assert_eq!(refused.status(), 401);
}

/// `check_async` runs the stateless checks too: a stolen token with another key is refused.
#[tokio::test]
async fn guard_check_async_refuses_a_key_mismatch() {
    let w = world();
    let token = w.token();
    let thief = ProofSigner::new(key());
    let proof = thief
        .proof("GET", URL)
        .with_access_token(&token)
        .sign(now())
        .unwrap();
    let refused = w.send_async(&token, &proof).await.unwrap_err();
    assert_eq!(
        refused.error(),
        &Error::InvalidToken(TokenError::KeyMismatch)
    );
    // And no credentials at all is a bare challenge, as in the synchronous path.
    let none = w
        .guard
        .check_async(&ResourceRequest::new("GET", URL, &[], &[]), now())
        .await
        .unwrap_err();
    assert_eq!(none.status(), 401);
}

/// A guard whose proofs need nonces from `engine`.
fn nonce_guard(w: &World, secret: [u8; 32]) -> RequestGuard {
    RequestGuard::new(TokenVerifier::new(ISS, AUD, w.issuer.keys().key_set()))
        .with_proof_verifier(ProofVerifier::new().with_nonces(NonceEngine::from_secret(secret)))
}

/// A proof's nonce that is accepted but no longer current earns a fresh one on the
/// [`keybound::Authorized`]; a current nonce earns none (kills `Authorized::fresh_nonce` →
/// `None` / `Some("")` / `Some("xyzzy")`).
#[test]
fn authorized_carries_the_fresh_nonce() {
    let w = world();
    let guard = nonce_guard(&w, [5; 32]);
    let token = w.token();
    let authorization = format!("DPoP {token}");
    let older = guard
        .proofs()
        .issue_nonce(UnixTime::from_secs(NOW - 40))
        .unwrap();
    let current = guard.proofs().issue_nonce(now()).unwrap();
    assert_ne!(older, current);
    for (nonce, expected) in [(&older, Some(current.as_str())), (&current, None)] {
        let proof = w
            .client
            .proof("GET", URL)
            .with_access_token(&token)
            .with_nonce(nonce)
            .sign(now())
            .unwrap();
        let ok = guard
            .check(
                &ResourceRequest::new("GET", URL, &[&authorization], &[&proof]),
                now(),
            )
            .unwrap();
        assert_eq!(ok.fresh_nonce(), expected);
    }
}

/// An `htu` problem comes with a log-only diagnostic naming both URLs; other problems carry none
/// (kills `Rejection::diagnostic` and `htu_diagnostic` replacements).
#[test]
fn htu_mismatch_rejection_has_a_diagnostic() {
    let w = world();
    let token = w.token();
    let authorization = format!("DPoP {token}");
    let elsewhere = "https://api.example.com/other";
    let proof = w
        .client
        .proof("GET", elsewhere)
        .with_access_token(&token)
        .sign(now())
        .unwrap();
    let r = w
        .guard
        .check(
            &ResourceRequest::new("GET", URL, &[&authorization], &[&proof]),
            now(),
        )
        .unwrap_err();
    assert_eq!(r.error(), &Error::InvalidProof(ProofError::UrlMismatch));
    assert_eq!(
        r.diagnostic(),
        Some(
            r#"htu mismatch: expected "https://api.example.com/orders", received "https://api.example.com/other""#
        )
    );
    // Never in the answer to the client.
    assert!(!r.www_authenticate().contains("other"));

    // An unreadable proof: the received side says so.
    let k = key();
    let bad = proof_with_htu(&k, "https://[]/x", "diag");
    let r = w
        .guard
        .check(
            &ResourceRequest::new("GET", URL, &[&authorization], &[&bad]),
            now(),
        )
        .unwrap_err();
    assert_eq!(
        r.error(),
        &Error::InvalidProof(ProofError::InvalidClaim("htu"))
    );
    assert_eq!(
        r.diagnostic(),
        Some(r#"htu mismatch: expected "https://api.example.com/orders", received "https://[]/x""#)
    );

    // Any other problem: no diagnostic.
    let r = w
        .guard
        .check(
            &ResourceRequest::new("GET", URL, &[&authorization], &[]),
            now(),
        )
        .unwrap_err();
    assert_eq!(r.diagnostic(), None);
}

/// `Debug` for a request shows the method and URL but only counts the credential headers.
#[test]
fn resource_request_debug_hides_header_values() {
    let authorization = ["DPoP secret-token-value"];
    let dpop = ["secret.proof.value", "another"];
    let text = format!(
        "{:?}",
        ResourceRequest::new("GET", URL, &authorization, &dpop)
    );
    assert!(text.starts_with("ResourceRequest"), "{text}");
    assert!(text.contains("GET") && text.contains(URL), "{text}");
    assert!(text.contains("authorization: 1"), "{text}");
    assert!(text.contains("dpop: 2"), "{text}");
    assert!(!text.contains("secret"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// `typ` (RFC 9449 §4.3 step 4; RFC 9068 §4): only an exact `application/` prefix may be dropped.

/// Twelve arbitrary characters before `dpop+jwt` are not `application/` (kills the
/// `prefix.eq_ignore_ascii_case("application/")` guard → `true` in `typ_is`).
#[test]
fn proof_typ_prefix_must_be_application() {
    for (typ, ok) in [
        ("dpop+jwt", true),
        ("application/dpop+jwt", true),
        ("APPLICATION/DPoP+JWT", true),
        ("applicatioX/dpop+jwt", false),
        ("xxxxxxxxxxxxdpop+jwt", false),
        ("application/at+jwt", false),
    ] {
        let k = key();
        let header = format!(r#"{{"typ":"{typ}","alg":"ES256","jwk":{}}}"#, jwk_of(&k));
        let proof = sign_raw(&k, &header, &claims("typ"));
        let result = verify_at(URL, &proof);
        if ok {
            assert!(result.is_ok(), "{typ}: {result:?}");
        } else {
            assert_eq!(
                result.unwrap_err(),
                Error::InvalidProof(ProofError::WrongType),
                "{typ}"
            );
        }
    }
}

/// The same rule for access tokens: `xxxxxxxxxxxxat+jwt` is not `application/at+jwt`.
#[test]
fn token_typ_prefix_must_be_application() {
    let signer = key();
    let keys = KeySet::from_keys([signer.public_key().clone()]);
    let kid = signer.thumbprint().to_base64url();
    let verifier = TokenVerifier::new(ISS, AUD, keys);
    let payload = format!(
        r#"{{"iss":"{ISS}","sub":"alice","aud":"{AUD}","client_id":"app","jti":"t1","iat":{NOW},"exp":{}}}"#,
        NOW + 60
    );
    for (typ, ok) in [
        ("at+jwt", true),
        ("application/at+jwt", true),
        ("applicatioX/at+jwt", false),
        ("xxxxxxxxxxxxat+jwt", false),
    ] {
        let header = format!(r#"{{"typ":"{typ}","alg":"ES256","kid":"{kid}"}}"#);
        let token = sign_raw(&signer, &header, &payload);
        let result = verifier.verify(&token, now());
        if ok {
            assert!(result.is_ok(), "{typ}: {result:?}");
        } else {
            assert_eq!(
                result.unwrap_err(),
                Error::InvalidToken(TokenError::WrongType),
                "{typ}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// TokenVerifier boundaries: each limit is inclusive exactly where the documentation says so.

/// An issuer key of our own, a verifier for its tokens, and a hand-signed token with `claims`.
struct TokenWorld {
    signer: SigningKey,
    kid: String,
}

impl TokenWorld {
    fn new() -> Self {
        let signer = key();
        let kid = signer.thumbprint().to_base64url();
        Self { signer, kid }
    }

    fn verifier(&self, options: TokenOptions) -> TokenVerifier {
        TokenVerifier::new(
            ISS,
            AUD,
            KeySet::from_keys([self.signer.public_key().clone()]),
        )
        .with_options(options)
    }

    /// A token with `iat`, `exp` and optionally `nbf`.
    fn token(&self, iat: u64, exp: u64, nbf: Option<u64>) -> String {
        let nbf = nbf.map_or(String::new(), |nbf| format!(r#","nbf":{nbf}"#));
        let payload = format!(
            r#"{{"iss":"{ISS}","sub":"alice","aud":"{AUD}","client_id":"app","jti":"t","iat":{iat},"exp":{exp}{nbf}}}"#
        );
        let header = format!(r#"{{"typ":"at+jwt","alg":"ES256","kid":"{}"}}"#, self.kid);
        sign_raw(&self.signer, &header, &payload)
    }
}

/// `max_token_len` is the largest accepted length (kills `len > max` → `>=` and `==`).
#[test]
fn token_length_limit_is_inclusive() {
    let w = TokenWorld::new();
    let token = w.token(NOW, NOW + 60, None);
    let at = |max: usize| {
        w.verifier(TokenOptions::new().with_max_token_len(max))
            .verify(&token, now())
    };
    assert!(at(token.len()).is_ok());
    assert!(at(token.len() + 1).is_ok());
    assert_eq!(
        at(token.len() - 1).unwrap_err(),
        Error::InvalidToken(TokenError::TooLarge)
    );
    assert_eq!(
        at(token.len() / 2).unwrap_err(),
        Error::InvalidToken(TokenError::TooLarge)
    );
}

/// A lifetime (`exp - iat`) of exactly `max_lifetime_secs` is accepted, one more second is not
/// (kills `> max_lifetime_secs` → `>=`).
#[test]
fn token_lifetime_limit_is_inclusive() {
    let w = TokenWorld::new();
    let verifier = w.verifier(TokenOptions::new().with_max_lifetime_secs(120));
    assert!(verifier
        .verify(&w.token(NOW, NOW + 120, None), now())
        .is_ok());
    assert_eq!(
        verifier
            .verify(&w.token(NOW, NOW + 121, None), now())
            .unwrap_err(),
        Error::InvalidToken(TokenError::LifetimeTooLong)
    );
}

/// `iat` and `nbf` may be up to `leeway_secs` in the future, not one second more
/// (kills `not_before > now + leeway` → `>=` in `check_times`).
#[test]
fn token_not_before_leeway_is_inclusive() {
    let w = TokenWorld::new();
    let verifier = w.verifier(TokenOptions::new().with_leeway_secs(5));
    // iat at the edge of the leeway.
    assert!(verifier
        .verify(&w.token(NOW + 5, NOW + 60, None), now())
        .is_ok());
    assert!(matches!(
        verifier.verify(&w.token(NOW + 6, NOW + 60, None), now()),
        Err(Error::InvalidToken(TokenError::NotYetValid { .. }))
    ));
    // nbf at the edge of the leeway, iat now.
    assert!(verifier
        .verify(&w.token(NOW, NOW + 60, Some(NOW + 5)), now())
        .is_ok());
    assert!(matches!(
        verifier.verify(&w.token(NOW, NOW + 60, Some(NOW + 6)), now()),
        Err(Error::InvalidToken(TokenError::NotYetValid { .. }))
    ));
}

/// `options()` returns the options in force, not defaults.
#[test]
fn token_options_accessor_returns_the_configured_options() {
    let options = TokenOptions::new()
        .with_leeway_secs(1)
        .with_max_token_len(100)
        .with_max_lifetime_secs(30);
    let verifier = TokenWorld::new().verifier(options);
    assert_eq!(*verifier.options(), options);
    assert_ne!(*verifier.options(), TokenOptions::default());
}

// ---------------------------------------------------------------------------------------------
// RequestGuard answers: the `scope` of an insufficient_scope challenge cannot break the header.

/// Scope tokens pass through; `"` and `\` are dropped so the quoted string cannot be escaped
/// (kills `*c != '"'` → `==` and `&&` → `||` in `insufficient_scope`).
#[test]
fn insufficient_scope_keeps_scope_tokens_and_drops_quotes() {
    let w = world();
    let plain = w.guard.insufficient_scope("read write:orders");
    assert_eq!(plain.status(), 403);
    let challenges = parse_challenges(plain.www_authenticate());
    assert_eq!(challenges[0].param("scope"), Some("read write:orders"));
    assert_eq!(challenges[0].param("error"), Some("insufficient_scope"));

    let hostile = w
        .guard
        .insufficient_scope("admin\", error=\"x\\y\r\nSet-Cookie: z");
    let header = hostile.www_authenticate();
    assert!(!header.contains('\\') && !header.contains('\r') && !header.contains('\n'));
    let challenges = parse_challenges(header);
    assert_eq!(challenges.len(), 1, "{header}");
    assert_eq!(
        challenges[0].param("scope"),
        Some("admin, error=xySet-Cookie: z")
    );
    assert_eq!(challenges[0].param("error"), Some("insufficient_scope"));
}

/// `Debug` for the guard names its parts and hides nothing it should print.
#[test]
fn request_guard_debug_output() {
    let w = world();
    let text = format!("{:?}", w.guard);
    assert!(text.starts_with("RequestGuard"), "{text}");
    assert!(text.contains("accept_bearer: false"), "{text}");
    assert!(text.contains("ProofVerifier"), "{text}");
    assert!(text.contains("realm: None"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Batch 3: access-token claims. What the verifier hands to the application is what the token
// says, value for value.

impl TokenWorld {
    /// A token with the given payload, signed by this world's key.
    fn signed(&self, payload: &str) -> String {
        let header = format!(r#"{{"typ":"at+jwt","alg":"ES256","kid":"{}"}}"#, self.kid);
        sign_raw(&self.signer, &header, payload)
    }
}

const OTHER_AUD: &str = "https://other.example.com";

/// `audiences()`, `not_before()` and `scope()` return the token's values (kills the accessor
/// replacements: empty / `[""]` / `["xyzzy"]`, `None`, `None` / `Some("")` / `Some("xyzzy")`).
#[test]
fn token_claim_accessors_return_the_token_values() {
    let w = TokenWorld::new();
    let verifier = w.verifier(TokenOptions::new());
    let payload = format!(
        r#"{{"iss":"{ISS}","sub":"alice","aud":["{OTHER_AUD}","{AUD}"],"client_id":"app","jti":"t","iat":{NOW},"exp":{},"nbf":{},"scope":"read write:orders"}}"#,
        NOW + 60,
        NOW - 10
    );
    let verified = verifier.verify(&w.signed(&payload), now()).unwrap();
    let claims = verified.claims();
    assert_eq!(claims.audiences(), [OTHER_AUD.to_owned(), AUD.to_owned()]);
    assert_eq!(claims.not_before(), Some(UnixTime::from_secs(NOW - 10)));
    assert_eq!(claims.scope(), Some("read write:orders"));
    assert!(claims.has_scope("write:orders"));

    // A single audience string is one audience; no `nbf` and no `scope` read as `None`.
    let verified = verifier
        .verify(&w.token(NOW, NOW + 60, None), now())
        .unwrap();
    let claims = verified.claims();
    assert_eq!(claims.audiences(), [AUD.to_owned()]);
    assert_eq!(claims.not_before(), None);
    assert_eq!(claims.scope(), None);
}

/// Claims the crate does not interpret reach `extra()` with their JSON values, including `true`,
/// `false` and negative integers, and the registered claims do not (kills `extra` → empty map,
/// and the strict parser's `visit_bool` / `visit_i64` → `null`).
#[test]
fn token_extra_claims_keep_their_json_values() {
    let w = TokenWorld::new();
    let payload = format!(
        r#"{{"iss":"{ISS}","sub":"alice","aud":"{AUD}","client_id":"app","jti":"t","iat":{NOW},"exp":{},"admin":true,"mfa":false,"level":-3,"count":7,"ratio":-0.5,"note":null,"roles":["a",true,-1],"org":{{"id":"o1"}}}}"#,
        NOW + 60
    );
    let verified = w
        .verifier(TokenOptions::new())
        .verify(&w.signed(&payload), now())
        .unwrap();
    let extra = verified.claims().extra();
    let expected = serde_json::json!({
        "admin": true,
        "mfa": false,
        "level": -3,
        "count": 7,
        "ratio": -0.5,
        "note": null,
        "roles": ["a", true, -1],
        "org": {"id": "o1"},
    });
    assert_eq!(serde_json::Value::Object(extra.clone()), expected);
    assert_eq!(extra["admin"], serde_json::Value::Bool(true));
    assert_eq!(extra["level"].as_i64(), Some(-3));
}

/// `"aud":[]` is a malformed claim, reported as such, not a wrong audience (kills the
/// `!many.is_empty()` guard → `true` in `AccessTokenClaims::from_object`).
#[test]
fn token_empty_audience_array_is_an_invalid_claim() {
    let w = TokenWorld::new();
    let payload = format!(
        r#"{{"iss":"{ISS}","sub":"alice","aud":[],"client_id":"app","jti":"t","iat":{NOW},"exp":{}}}"#,
        NOW + 60
    );
    assert_eq!(
        w.verifier(TokenOptions::new())
            .verify(&w.signed(&payload), now())
            .unwrap_err(),
        Error::InvalidToken(TokenError::InvalidClaim("aud"))
    );
}

// ---------------------------------------------------------------------------------------------
// KeySet (JWKS) and PublicKey (JWK) reading: limits, `kid`, equality.

/// `json` with spaces inserted before its last `}` so that it is exactly `len` bytes long.
fn padded_to(json: &str, len: usize) -> String {
    let body = json.strip_suffix('}').unwrap();
    assert!(body.len() < len);
    format!("{body}{}}}", " ".repeat(len - 1 - body.len()))
}

/// A JWKS document of exactly 64 KiB is read, one byte more is refused before parsing (kills
/// `64 * 1024` → `64 + 1024`, and `len > MAX_JWKS_LEN` → `>=` and `==`).
#[test]
fn jwks_size_limit_is_inclusive() {
    let k = key();
    let jwks = keybound::jwks_json([k.public_key()]);
    let at_limit = padded_to(&jwks, 64 * 1024);
    let set = KeySet::from_jwks(&at_limit).unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(
        set.get(&k.thumbprint().to_base64url()),
        Some(k.public_key())
    );
    assert_eq!(
        KeySet::from_jwks(&padded_to(&jwks, 64 * 1024 + 1)).unwrap_err(),
        keybound::KeyError::Malformed(keybound::JoseError::Json)
    );
}

/// An empty `kid` would name a key by nothing: the whole set is refused (kills the
/// `!kid.is_empty()` guard → `true` in `KeySet::from_jwks`).
#[test]
fn key_set_refuses_an_empty_kid() {
    let k = key();
    let jwk = k.public_key().to_jwk();
    let body = jwk.strip_suffix('}').unwrap();
    let with_kid = |kid: &str| format!(r#"{{"keys":[{body},"kid":{kid}}}]}}"#);
    assert_eq!(
        KeySet::from_jwks(&with_kid(r#""""#)).unwrap_err(),
        keybound::KeyError::InvalidMember("kid")
    );
    let named = KeySet::from_jwks(&with_kid(r#""k1""#)).unwrap();
    assert_eq!(named.get("k1"), Some(k.public_key()));
    assert_eq!(named.get(""), None);
}

/// `is_empty()` says whether the set has keys (kills `is_empty` → `true` and → `false`).
#[test]
fn key_set_is_empty_reports_whether_it_has_keys() {
    assert!(KeySet::default().is_empty());
    assert!(KeySet::from_jwks(r#"{"keys":[]}"#).unwrap().is_empty());
    let one = KeySet::from_keys([key().public_key().clone()]);
    assert!(!one.is_empty());
    assert_eq!(one.len(), 1);
}

/// A public JWK of exactly 4096 bytes is read, one byte more is refused (kills
/// `jwk.len() > MAX_JWK_LEN` → `>=` and `==` in `PublicKey::from_jwk`).
#[test]
fn public_jwk_size_limit_is_inclusive() {
    let k = key();
    let jwk = k.public_key().to_jwk();
    assert_eq!(
        &keybound::PublicKey::from_jwk(&padded_to(&jwk, 4096)).unwrap(),
        k.public_key()
    );
    assert_eq!(
        keybound::PublicKey::from_jwk(&padded_to(&jwk, 4097)).unwrap_err(),
        keybound::KeyError::Malformed(keybound::JoseError::Json)
    );
}

/// The P-256 field prime, big-endian.
const P256_P: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
];

/// `p - y` for a big-endian `y < p`: the `y` of the negated point.
fn negate_y(y: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(P256_P[i]) - i16::from(y[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = u8::try_from(d).unwrap();
    }
    assert_eq!(borrow, 0);
    out
}

/// Keys are equal exactly when both coordinates are: `(x, y)` and its negation `(x, p - y)`
/// share `x` but are different keys (kills `eq` → `true` and `&&` → `||`).
#[test]
fn public_keys_are_equal_only_when_both_coordinates_are() {
    let k = key();
    let public = k.public_key();
    let reread = keybound::PublicKey::from_jwk(&public.to_jwk()).unwrap();
    assert_eq!(&reread, public);

    let negated = format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
        b64(public.x()),
        b64(&negate_y(public.y()))
    );
    let negated = keybound::PublicKey::from_jwk(&negated).unwrap();
    assert_eq!(negated.x(), public.x());
    assert_ne!(negated.y(), public.y());
    assert_ne!(&negated, public);
    assert_ne!(negated.thumbprint(), public.thumbprint());

    assert_ne!(key().public_key(), public);
}

/// `Debug` for a public key names the type and its thumbprint.
#[test]
fn public_key_debug_shows_the_thumbprint() {
    let k = key();
    let text = format!("{:?}", k.public_key());
    assert_eq!(
        text,
        format!(
            r#"PublicKey {{ jkt: "{}" }}"#,
            k.thumbprint().to_base64url()
        )
    );
}

/// `Debug` for a token hash is its `ath` form (RFC 9449 §7.1 example).
#[test]
fn token_hash_debug_shows_the_ath_form() {
    let hash = keybound::TokenHash::of("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU");
    assert_eq!(
        format!("{hash:?}"),
        "TokenHash(fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo)"
    );
}
