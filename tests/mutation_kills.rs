//! Tests written to kill mutants that `cargo mutants` found surviving in the verification code
//! (see MUTANTS.md). Each test names the check it pins down; all go through the public API.

mod common;

use common::*;
use keybound::{
    Error, KeySet, NonceEngine, ProofError, ProofRequest, ProofVerifier, ResourceRequest,
    SigningKey, TokenError, TokenOptions, TokenVerifier, UnixTime,
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
// ProofVerifier: `Debug`. (Its asynchronous path and accessors are pinned in tests/replay.rs.)

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
// RequestGuard. (Its asynchronous path, fresh nonces, `htu` diagnostics, `insufficient_scope`
// and its own `Debug` are pinned in tests/guard.rs.)

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

/// A JWKS document of exactly 256 KiB is read, one byte more is refused before parsing (kills
/// `256 * 1024` → `256 + 1024`, and `len > MAX_JWKS_LEN` → `>=` and `==`).
#[test]
fn jwks_size_limit_is_inclusive() {
    let k = key();
    let jwks = keybound::jwks_json([k.public_key()]);
    let at_limit = padded_to(&jwks, 256 * 1024);
    let set = KeySet::from_jwks(&at_limit).unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(
        set.get(&k.thumbprint().to_base64url()),
        Some(k.public_key())
    );
    assert_eq!(
        KeySet::from_jwks(&padded_to(&jwks, 256 * 1024 + 1)).unwrap_err(),
        keybound::KeyError::Malformed(keybound::JoseError::Json)
    );
}

/// An empty `kid` would name a key by nothing: that key is skipped and reported (kills the
/// empty-`kid` guard in `jwk::kid`).
#[test]
fn key_set_refuses_an_empty_kid() {
    let k = key();
    let jwk = k.public_key().to_jwk();
    let body = jwk.strip_suffix('}').unwrap();
    let with_kid = |kid: &str| format!(r#"{{"keys":[{body},"kid":{kid}}}]}}"#);
    assert_eq!(
        KeySet::from_jwks(&with_kid(r#""""#)).unwrap_err(),
        keybound::KeyError::NoUsableKey
    );
    let other = keybound::SigningKey::generate()
        .unwrap()
        .public_key()
        .to_jwk();
    let mixed = format!(r#"{{"keys":[{body},"kid":""}},{other}]}}"#);
    let set = KeySet::from_jwks(&mixed).unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(set.get(""), None);
    assert_eq!(
        set.skipped()[0].reason,
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
    assert_eq!(
        KeySet::from_jwks(r#"{"keys":[]}"#).unwrap_err(),
        keybound::KeyError::NoUsableKey
    );
    let one = KeySet::from_keys([key().public_key().clone()]);
    assert!(!one.is_empty());
    assert_eq!(one.len(), 1);
}

/// A public JWK of exactly 8192 bytes is read, one byte more is refused (kills
/// `jwk.len() > MAX_JWK_LEN` → `>=` and `==` in `PublicKey::from_jwk`).
#[test]
fn public_jwk_size_limit_is_inclusive() {
    let k = key();
    let jwk = k.public_key().to_jwk();
    assert_eq!(
        &keybound::PublicKey::from_jwk(&padded_to(&jwk, 8192)).unwrap(),
        k.public_key()
    );
    assert_eq!(
        keybound::PublicKey::from_jwk(&padded_to(&jwk, 8193)).unwrap_err(),
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
        b64(public.ec_coordinates().unwrap().0),
        b64(&negate_y(
            public.ec_coordinates().unwrap().1.try_into().unwrap()
        ))
    );
    let negated = keybound::PublicKey::from_jwk(&negated).unwrap();
    assert_eq!(
        negated.ec_coordinates().unwrap().0,
        public.ec_coordinates().unwrap().0
    );
    assert_ne!(
        negated.ec_coordinates().unwrap().1,
        public.ec_coordinates().unwrap().1
    );
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
            r#"PublicKey {{ type: EC P-256, alg: ES256, jkt: {} }}"#,
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

/// A private JWK of exactly 16 KiB is read, one byte more is refused before parsing (kills
/// `jwk.len() > MAX_JWK_LEN` → `>=` and `==` in `SigningKey::read_jwk`).
#[test]
fn private_jwk_size_limit_is_inclusive() {
    let k = key();
    let jwk = k.to_jwk();
    let again = keybound::SigningKey::from_jwk(&padded_to(&jwk, 16 * 1024)).unwrap();
    assert_eq!(again.public_key(), k.public_key());
    assert_eq!(
        keybound::SigningKey::from_jwk(&padded_to(&jwk, 16 * 1024 + 1)).unwrap_err(),
        keybound::KeyError::Malformed(keybound::JoseError::Json)
    );
}
