//! The authorization-server side: token endpoint, dpop_jkt and PAR, access tokens, JWKS,
//! refresh tokens, introspection and responses.

mod common;

use std::sync::{Arc, Barrier};

use common::*;
use keybound::{
    error_response, introspect, token_response, Endpoint, Error, GrantError, IssuerKeys, KeyError,
    KeySet, MemoryRevocationStore, NonceEngine, ParEndpoint, ProofError, ProofSigner,
    ProofVerifier, RefreshTokens, RequestError, Revocation, RevocationStore, SigningKey,
    TokenEndpoint, TokenIssuer, TokenRequest, TokenVerifier, UnixTime, DEFAULT_TOKEN_LIFETIME_SECS,
    MAX_TOKEN_LIFETIME_SECS,
};
use serde_json::Value;

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const TOKEN_URL: &str = "https://as.example.com/token";
const PAR_URL: &str = "https://as.example.com/par";

fn signer() -> ProofSigner {
    ProofSigner::new(SigningKey::generate().unwrap())
}

fn segment(token: &str, index: usize) -> Value {
    // Decode with an independent decoder: pad and map to the standard alphabet.
    let text = token.split('.').nth(index).unwrap();
    let mut std: String = text
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while !std.len().is_multiple_of(4) {
        std.push('=');
    }
    let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in std.bytes().filter(|c| *c != b'=') {
        bits = (bits << 6) | table.iter().position(|t| *t == c).unwrap() as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn token_endpoint_binds_to_the_proof_key() {
    let endpoint = TokenEndpoint::new(TOKEN_URL);
    let client = signer();
    let proof = client.proof("POST", TOKEN_URL).sign(now()).unwrap();
    let verified = endpoint.check(&[&proof], None, now()).unwrap();
    assert_eq!(verified.thumbprint(), client.thumbprint());
    // Once only.
    let again = endpoint.check(&[&proof], None, now()).unwrap_err();
    assert_eq!(again, Error::InvalidProof(ProofError::Replayed));
}

#[test]
fn token_endpoint_errors_are_400_json() {
    let endpoint = TokenEndpoint::new(TOKEN_URL);
    let client = signer();
    let cases = [
        (
            client.proof("GET", TOKEN_URL).sign(now()).unwrap(),
            ProofError::MethodMismatch,
        ),
        (
            client
                .proof("POST", "https://as.example.com/other")
                .sign(now())
                .unwrap(),
            ProofError::UrlMismatch,
        ),
        (
            client
                .proof("POST", TOKEN_URL)
                .with_access_token("abc")
                .sign(now())
                .unwrap(),
            ProofError::UnexpectedAth,
        ),
    ];
    for (proof, expected) in cases {
        let err = endpoint.check(&[&proof], None, now()).unwrap_err();
        assert_eq!(err, Error::InvalidProof(expected));
        let response = error_response(&err);
        assert_eq!(response.status, 400);
        let body: Value = serde_json::from_str(&response.body).unwrap();
        assert_eq!(body["error"], "invalid_dpop_proof");
        assert!(body["error_description"].is_string());
        assert_eq!(response.dpop_nonce, None);
    }
    let missing = endpoint.check(&[], None, now()).unwrap_err();
    assert_eq!(error_response(&missing).status, 400);
    let two = client.proof("POST", TOKEN_URL).sign(now()).unwrap();
    let multiple = endpoint.check(&[&two, &two], None, now()).unwrap_err();
    assert_eq!(
        multiple.code(Endpoint::Token).unwrap().as_str(),
        "invalid_dpop_proof"
    );
}

#[test]
fn token_endpoint_nonce_challenge_is_400_with_header() {
    let endpoint = TokenEndpoint::new(TOKEN_URL)
        .with_proof_verifier(ProofVerifier::new().with_nonces(NonceEngine::from_secret([3; 32])));
    let client = signer();
    let proof = client.proof("POST", TOKEN_URL).sign(now()).unwrap();
    let err = endpoint.check(&[&proof], None, now()).unwrap_err();
    let response = error_response(&err);
    assert_eq!(response.status, 400);
    let body: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["error"], "use_dpop_nonce");
    let nonce = response.dpop_nonce.unwrap();
    let retry = client
        .proof("POST", TOKEN_URL)
        .with_nonce(&nonce)
        .sign(now())
        .unwrap();
    assert!(endpoint.check(&[&retry], None, now()).is_ok());
}

#[test]
fn dpop_jkt_must_match_the_proof_key() {
    let endpoint = TokenEndpoint::new(TOKEN_URL);
    let client = signer();
    let other = signer();
    let proof = client.proof("POST", TOKEN_URL).sign(now()).unwrap();
    let err = endpoint
        .check(&[&proof], Some(&other.thumbprint()), now())
        .unwrap_err();
    assert_eq!(err, Error::InvalidProof(ProofError::UnexpectedKey));
    assert_eq!(error_response(&err).status, 400);
    // The refused proof was not consumed by the mismatch; a matching commitment passes.
    let proof = client.proof("POST", TOKEN_URL).sign(now()).unwrap();
    assert!(endpoint
        .check(&[&proof], Some(&client.thumbprint()), now())
        .is_ok());
}

#[test]
fn par_dpop_jkt_from_parameter_header_or_both() {
    let par = ParEndpoint::new(PAR_URL);
    let client = signer();
    let jkt = client.thumbprint().to_string();
    assert_eq!(par.check(None, &[], now()).unwrap(), None);
    assert_eq!(
        par.check(Some(&jkt), &[], now()).unwrap(),
        Some(client.thumbprint())
    );
    let proof = client.proof("POST", PAR_URL).sign(now()).unwrap();
    assert_eq!(
        par.check(None, &[&proof], now()).unwrap(),
        Some(client.thumbprint())
    );
    let proof = client.proof("POST", PAR_URL).sign(now()).unwrap();
    assert_eq!(
        par.check(Some(&jkt), &[&proof], now()).unwrap(),
        Some(client.thumbprint())
    );
    let other = signer().thumbprint().to_string();
    let proof = client.proof("POST", PAR_URL).sign(now()).unwrap();
    assert_eq!(
        par.check(Some(&other), &[&proof], now()).unwrap_err(),
        Error::InvalidProof(ProofError::UnexpectedKey)
    );
    assert_eq!(
        par.check(Some("not-a-thumbprint"), &[], now()).unwrap_err(),
        Error::InvalidRequest(RequestError::InvalidDpopJkt)
    );
    // A proof for the token endpoint is not a PAR proof.
    let misdirected = client.proof("POST", TOKEN_URL).sign(now()).unwrap();
    assert!(par.check(None, &[&misdirected], now()).is_err());
}

#[test]
fn access_token_has_the_rfc9068_shape() {
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let client = signer();
    let issued = issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint())
                .with_scope("read")
                .with_claim("tenant", "acme"),
            now(),
        )
        .unwrap();
    assert_eq!(issued.expires_in, DEFAULT_TOKEN_LIFETIME_SECS);
    let header = segment(&issued.access_token, 0);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], issuer.keys().active_kid().to_string());
    let claims = segment(&issued.access_token, 1);
    assert_eq!(claims["iss"], ISS);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], AUD);
    assert_eq!(claims["client_id"], "app");
    assert_eq!(claims["scope"], "read");
    assert_eq!(claims["tenant"], "acme");
    assert_eq!(claims["iat"], NOW);
    assert_eq!(claims["exp"], NOW + 300);
    assert_eq!(claims["jti"].as_str().unwrap().len(), 22);
    assert_eq!(claims["jti"], issued.jti);
    assert_eq!(claims["cnf"]["jkt"], client.thumbprint().to_string());

    let two = issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
            now(),
        )
        .unwrap();
    assert_ne!(two.jti, issued.jti);
}

#[test]
fn token_lifetime_is_bounded_and_registered_claims_are_protected() {
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let jkt = signer().thumbprint();
    let request = TokenRequest::new("alice", AUD, "app", jkt);
    assert!(issuer
        .issue(
            &request.clone().with_lifetime_secs(MAX_TOKEN_LIFETIME_SECS),
            now()
        )
        .is_ok());
    assert_eq!(
        issuer
            .issue(
                &request
                    .clone()
                    .with_lifetime_secs(MAX_TOKEN_LIFETIME_SECS + 1),
                now()
            )
            .unwrap_err(),
        Error::InvalidArgument("lifetime_secs")
    );
    assert!(TokenIssuer::new(ISS, IssuerKeys::generate().unwrap())
        .with_lifetime_secs(0)
        .is_err());
    for name in ["cnf", "iss", "exp", "sub", "aud"] {
        assert_eq!(
            issuer
                .issue(&request.clone().with_claim(name, "x"), now())
                .unwrap_err(),
            Error::InvalidArgument("extra"),
            "{name}"
        );
    }
}

#[test]
fn jwks_publishes_public_keys_and_rotation() {
    let mut keys = IssuerKeys::generate().unwrap();
    let first = keys.active_kid();
    keys.rotate(SigningKey::generate().unwrap());
    let jwks: Value = serde_json::from_str(&keys.jwks()).unwrap();
    let entries = jwks["keys"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for entry in entries {
        assert!(entry.get("d").is_none());
        assert_eq!(entry["alg"], "ES256");
        assert_eq!(entry["use"], "sig");
        let key = keybound::PublicKey::from_jwk(&entry.to_string()).unwrap();
        assert_eq!(entry["kid"], key.thumbprint().to_string());
    }
    assert!(keys.remove(&first));
    assert!(
        !keys.remove(&keys.active_kid()),
        "the signing key cannot be removed"
    );
    assert_eq!(KeySet::from_jwks(&keys.jwks()).unwrap().len(), 1);
}

#[test]
fn ambiguous_or_leaking_key_sets_are_refused() {
    let a = SigningKey::generate().unwrap().public_key().to_jwk();
    let b = SigningKey::generate().unwrap().public_key().to_jwk();
    let with = |jwk: &str, extra: &str| format!("{},{extra}}}", &jwk[..jwk.len() - 1]);
    let cases = [
        (
            format!(
                r#"{{"keys":[{},{}]}}"#,
                with(&a, r#""kid":"k""#),
                with(&b, r#""kid":"k""#)
            ),
            KeyError::DuplicateKid,
        ),
        (
            format!(r#"{{"keys":[{a},{{"kty":"oct","k":"AAAA"}}]}}"#),
            KeyError::PrivateKey,
        ),
        // A private key refuses the set even when its `kid` alone would have it skipped.
        (
            format!(r#"{{"keys":[{{"kty":"oct","k":"c2VjcmV0","kid":""}},{a}]}}"#),
            KeyError::PrivateKey,
        ),
        (
            format!(r#"{{"keys":[{{"kty":"oct","k":"c2VjcmV0","kid":1}},{a}]}}"#),
            KeyError::PrivateKey,
        ),
        (
            format!(r#"{{"keys":[{}]}}"#, with(&a, r#""use":"enc""#)),
            KeyError::NoUsableKey,
        ),
        (r#"{"keys":[]}"#.to_owned(), KeyError::NoUsableKey),
        (
            r#"{"nokeys":[]}"#.to_owned(),
            KeyError::MissingMember("keys"),
        ),
        (
            format!(r#"{{"keys":[{a},"not an object"]}}"#),
            KeyError::InvalidMember("keys"),
        ),
    ];
    for (jwks, expected) in cases {
        assert_eq!(KeySet::from_jwks(&jwks).unwrap_err(), expected, "{jwks}");
    }
    let private = SigningKey::generate().unwrap().to_jwk();
    assert_eq!(
        KeySet::from_jwks(&format!(r#"{{"keys":[{}]}}"#, &*private)).unwrap_err(),
        KeyError::PrivateKey
    );
}

#[test]
fn unusable_keys_are_skipped_and_reported() {
    let a = SigningKey::generate().unwrap().public_key().to_jwk();
    let with = |jwk: &str, extra: &str| format!("{},{extra}}}", &jwk[..jwk.len() - 1]);
    let skipped = [
        (
            r#"{"kty":"RSA","kid":"tiny","n":"AQAB","e":"AQAB"}"#.to_owned(),
            KeyError::RsaModulusSize { bits: 17 },
        ),
        (
            with(&a.replace("P-256", "secp256k1"), r#""kid":"k1""#),
            KeyError::UnsupportedCurve,
        ),
        (
            with(&a, r#""kid":"enc","use":"enc""#),
            KeyError::WrongUse,
        ),
        (
            with(&a, r#""kid":"wrap","key_ops":["encrypt"]"#),
            KeyError::WrongUse,
        ),
        (
            with(&a, r#""kid":"rs","alg":"RS256""#),
            KeyError::WrongAlgorithm,
        ),
        (
            with(&a, r#""kid":"ecdh","alg":"ECDH-ES""#),
            KeyError::WrongAlgorithm,
        ),
        (
            r#"{"kty":"OKP","crv":"X25519","kid":"x","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}"#
                .to_owned(),
            KeyError::UnsupportedCurve,
        ),
        (
            r#"{"kty":"PQ","kid":"future","pub":"AAAA"}"#.to_owned(),
            KeyError::UnsupportedKeyType,
        ),
    ];
    let entries: Vec<String> = skipped.iter().map(|(jwk, _)| jwk.clone()).collect();
    let jwks = format!(
        r#"{{"keys":[{},{}]}}"#,
        entries.join(","),
        with(&a, r#""kid":"enc""#)
    );
    let set = KeySet::from_jwks(&jwks).unwrap();
    assert_eq!(set.len(), 1);
    // A usable key may share its kid with a skipped one (providers do this for sig/enc pairs).
    assert!(set.get("enc").is_some());
    let report: Vec<(usize, Option<&str>, KeyError)> = set
        .skipped()
        .iter()
        .map(|s| (s.index, s.kid.as_deref(), s.reason))
        .collect();
    let expected: Vec<(usize, Option<&str>, KeyError)> = skipped
        .iter()
        .enumerate()
        .map(|(i, (jwk, reason))| {
            let kid = serde_json::from_str::<Value>(jwk).unwrap()["kid"]
                .as_str()
                .map(str::to_owned);
            (i, kid, *reason)
        })
        .map(|(i, kid, reason)| (i, kid.map(|k| &*Box::leak(k.into_boxed_str())), reason))
        .collect();
    assert_eq!(report, expected);
}

#[test]
fn wycheproof_key_sets_through_key_set_loader() {
    let data: Value =
        serde_json::from_str(include_str!("data/wycheproof/json_web_key_test.json")).unwrap();
    let mut checked = 0;
    for group in data["testGroups"].as_array().unwrap() {
        let set = group
            .get("public")
            .or_else(|| group.get("private"))
            .unwrap();
        let loaded = KeySet::from_jwks(&set.to_string());
        for test in group["tests"].as_array().unwrap() {
            checked += 1;
            let jws = test["jws"].as_str().unwrap();
            let kid = segment(jws, 0)["kid"].as_str().map(str::to_owned);
            let valid = match (&loaded, kid) {
                (Ok(keys), Some(kid)) => keys.get(&kid).is_some_and(|k| k.verify_jws(jws).is_ok()),
                _ => false,
            };
            let hmac = segment(jws, 0)["alg"]
                .as_str()
                .is_some_and(|alg| alg.starts_with("HS"));
            if hmac {
                // HMAC is never accepted (tests/data/wycheproof/KNOWN_DIVERGENCES.md).
                assert!(!valid, "tcId {}", test["tcId"]);
            } else {
                let expected = test["result"] == "valid";
                assert_eq!(
                    valid, expected,
                    "tcId {} ({})",
                    test["tcId"], test["comment"]
                );
            }
        }
    }
    assert_eq!(checked, 26);
}

#[test]
fn token_response_is_dpop_typed() {
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let issued = issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", signer().thumbprint()),
            now(),
        )
        .unwrap();
    let body: Value =
        serde_json::from_str(&token_response(&issued, Some("rt"), Some("read"))).unwrap();
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(body["access_token"], issued.access_token);
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["refresh_token"], "rt");
    assert_eq!(body["scope"], "read");
    let bare: Value = serde_json::from_str(&token_response(&issued, None, None)).unwrap();
    assert!(bare.get("refresh_token").is_none());
}

fn token_proof(endpoint: &TokenEndpoint, client: &ProofSigner) -> keybound::VerifiedProof {
    let proof = client.proof("POST", TOKEN_URL).sign(now()).unwrap();
    endpoint.check(&[&proof], None, now()).unwrap()
}

#[test]
fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let endpoint = TokenEndpoint::new(TOKEN_URL);
    let refresh = RefreshTokens::new();
    let client = signer();
    let first = refresh
        .issue(
            "alice",
            "app",
            Some("read"),
            &token_proof(&endpoint, &client),
            now(),
        )
        .unwrap();
    assert_eq!(first.len(), 43);
    let (grant, second) = refresh
        .redeem(&first, "app", &token_proof(&endpoint, &client), now())
        .unwrap();
    assert_eq!(grant.subject, "alice");
    assert_eq!(grant.jkt, client.thumbprint());
    let (_, third) = refresh
        .redeem(&second, "app", &token_proof(&endpoint, &client), now())
        .unwrap();
    // Replaying the first token: refused, and the whole family dies.
    assert_eq!(
        refresh
            .redeem(&first, "app", &token_proof(&endpoint, &client), now())
            .unwrap_err(),
        Error::InvalidGrant(GrantError::RefreshTokenReused)
    );
    let err = refresh
        .redeem(&third, "app", &token_proof(&endpoint, &client), now())
        .unwrap_err();
    assert_eq!(err, Error::InvalidGrant(GrantError::UnknownRefreshToken));
    let response = error_response(&err);
    assert_eq!(response.status, 400);
    assert!(response.body.contains(r#""error":"invalid_grant""#));
}

#[test]
fn refresh_needs_a_proof_by_the_bound_key() {
    let endpoint = TokenEndpoint::new(TOKEN_URL);
    let refresh = RefreshTokens::new();
    let client = signer();
    let thief = signer();
    let token = refresh
        .issue(
            "alice",
            "app",
            None,
            &token_proof(&endpoint, &client),
            now(),
        )
        .unwrap();
    assert_eq!(
        refresh
            .redeem(&token, "app", &token_proof(&endpoint, &thief), now())
            .unwrap_err(),
        Error::InvalidGrant(GrantError::KeyMismatch)
    );
    // The thief's attempt did not burn the token for its owner.
    assert!(refresh
        .redeem(&token, "app", &token_proof(&endpoint, &client), now())
        .is_ok());
    assert_eq!(
        refresh
            .redeem("unknown", "app", &token_proof(&endpoint, &client), now())
            .unwrap_err(),
        Error::InvalidGrant(GrantError::UnknownRefreshToken)
    );
    // Expired.
    let short = RefreshTokens::new().with_lifetime_secs(10);
    let t = short
        .issue(
            "alice",
            "app",
            None,
            &token_proof(&endpoint, &client),
            now(),
        )
        .unwrap();
    let later = UnixTime::from_secs(NOW + 11);
    let proof = client.proof("POST", TOKEN_URL).sign(later).unwrap();
    let proof = endpoint.check(&[&proof], None, later).unwrap();
    assert_eq!(
        short.redeem(&t, "app", &proof, later).unwrap_err(),
        Error::InvalidGrant(GrantError::UnknownRefreshToken)
    );
}

#[test]
fn concurrent_refresh_has_one_winner() {
    let endpoint = Arc::new(TokenEndpoint::new(TOKEN_URL));
    let refresh = Arc::new(RefreshTokens::new());
    let client = Arc::new(signer());
    let token = Arc::new(
        refresh
            .issue(
                "alice",
                "app",
                None,
                &token_proof(&endpoint, &client),
                now(),
            )
            .unwrap(),
    );
    let proofs: Vec<_> = (0..8).map(|_| token_proof(&endpoint, &client)).collect();
    let barrier = Arc::new(Barrier::new(proofs.len()));
    let handles: Vec<_> = proofs
        .into_iter()
        .map(|proof| {
            let (refresh, token, barrier) = (refresh.clone(), token.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                refresh.redeem(&token, "app", &proof, now()).is_ok()
            })
        })
        .collect();
    let winners = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|won| *won)
        .count();
    assert_eq!(winners, 1);
}

#[test]
fn introspection_reports_binding_and_hides_reasons() {
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let client = signer();
    let issued = issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint()).with_scope("read"),
            now(),
        )
        .unwrap();
    let verifier = TokenVerifier::new(ISS, AUD, issuer.keys().key_set());
    let revocations = MemoryRevocationStore::new();
    let active: Value = serde_json::from_str(&introspect(
        &verifier,
        &revocations,
        &issued.access_token,
        now(),
    ))
    .unwrap();
    assert_eq!(active["active"], true);
    assert_eq!(active["token_type"], "DPoP");
    assert_eq!(active["cnf"]["jkt"], client.thumbprint().to_string());
    assert_eq!(active["sub"], "alice");
    assert_eq!(active["scope"], "read");
    assert_eq!(active["client_id"], "app");
    assert_eq!(active["exp"], NOW + 300);
    let late = UnixTime::from_secs(NOW + 400);
    assert_eq!(
        introspect(&verifier, &revocations, &issued.access_token, late),
        r#"{"active":false}"#
    );
    assert_eq!(
        introspect(&verifier, &revocations, "junk", now()),
        r#"{"active":false}"#
    );
    revocations
        .revoke(
            &Revocation::token_id(issued.jti.clone(), issued.expires_at),
            now(),
        )
        .unwrap();
    assert_eq!(
        introspect(&verifier, &revocations, &issued.access_token, now()),
        r#"{"active":false}"#
    );
}

#[test]
fn a_thief_cannot_trigger_family_revocation_or_use_another_clients_token() {
    let endpoint = TokenEndpoint::new(TOKEN_URL);
    let refresh = RefreshTokens::new();
    let client = signer();
    let thief = signer();
    let first = refresh
        .issue(
            "alice",
            "app",
            None,
            &token_proof(&endpoint, &client),
            now(),
        )
        .unwrap();
    let (_, second) = refresh
        .redeem(&first, "app", &token_proof(&endpoint, &client), now())
        .unwrap();
    // The thief replays the used token with its own key: refused, family untouched.
    assert_eq!(
        refresh
            .redeem(&first, "app", &token_proof(&endpoint, &thief), now())
            .unwrap_err(),
        Error::InvalidGrant(GrantError::KeyMismatch)
    );
    // Another client id: refused, token not consumed.
    assert!(refresh
        .redeem(
            &second,
            "other-app",
            &token_proof(&endpoint, &client),
            now()
        )
        .is_err());
    assert!(refresh
        .redeem(&second, "app", &token_proof(&endpoint, &client), now())
        .is_ok());
}

#[test]
fn full_refresh_store_fails_closed() {
    use keybound::{MemoryRefreshStore, StoreError};
    let endpoint = TokenEndpoint::new(TOKEN_URL);
    let refresh = RefreshTokens::with_store(MemoryRefreshStore::with_capacity(2));
    let client = signer();
    for _ in 0..2 {
        assert!(refresh
            .issue(
                "alice",
                "app",
                None,
                &token_proof(&endpoint, &client),
                now()
            )
            .is_ok());
    }
    assert_eq!(
        refresh
            .issue(
                "alice",
                "app",
                None,
                &token_proof(&endpoint, &client),
                now()
            )
            .unwrap_err(),
        Error::Store(StoreError::Full)
    );
}

#[test]
fn skipped_key_reports_keep_at_most_128_bytes_of_kid_on_a_character_boundary() {
    let usable = SigningKey::generate().unwrap().public_key().to_jwk();
    // 127 ASCII bytes, then two-byte characters: byte 128 falls inside one.
    let kid = format!("{}{}", "k".repeat(127), "é".repeat(40));
    let jwks =
        format!(r#"{{"keys":[{{"kty":"OKP","crv":"X25519","kid":"{kid}","x":"AAAA"}},{usable}]}}"#);
    let set = KeySet::from_jwks(&jwks).unwrap();
    let reported = set.skipped()[0].kid.as_deref().unwrap();
    assert_eq!(reported, "k".repeat(127));
    let short = format!(
        r#"{{"keys":[{{"kty":"OKP","crv":"X25519","kid":"é-short","x":"AAAA"}},{usable}]}}"#
    );
    let set = KeySet::from_jwks(&short).unwrap();
    assert_eq!(set.skipped()[0].kid.as_deref(), Some("é-short"));
}
