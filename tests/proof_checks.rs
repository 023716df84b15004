//! One test per check of RFC 9449 §4.3 and per strictness rule; each fails if its check goes.

mod common;

use common::*;
use keybound::{
    Endpoint, Error, ErrorCode, JoseError, KeyError, NonceEngine, NonceProblem, ProofError,
    ProofOptions, ProofRequest, ProofSigner, ProofVerifier, SigningKey, UnixTime,
};

fn key() -> SigningKey {
    SigningKey::generate().unwrap()
}

/// Verifies `proof` as a GET of [`URL`] with [`TOKEN`] at [`NOW`].
fn verify(proof: &str) -> Result<keybound::VerifiedProof, Error> {
    ProofVerifier::new().verify(
        &ProofRequest::new("GET", URL, &[proof]).with_access_token(TOKEN),
        now(),
    )
}

fn proof_error(proof: &str) -> ProofError {
    match verify(proof) {
        Err(Error::InvalidProof(e)) => e,
        other => panic!("expected an invalid proof, got {other:?}"),
    }
}

fn with_claims(claims: &str) -> String {
    let k = key();
    sign_raw(&k, &header_for(&k), claims)
}

#[test]
fn baseline_hand_made_proof_verifies() {
    let k = key();
    let proof = sign_raw(&k, &header_for(&k), &claims("j1"));
    let verified = verify(&proof).unwrap();
    assert_eq!(verified.thumbprint(), k.thumbprint());
    assert_eq!(verified.jti(), "j1");
    assert_eq!(verified.htm(), "GET");
    assert_eq!(verified.htu(), URL);
}

// Step 1: exactly one DPoP header.
#[test]
fn step1_missing_or_several_headers() {
    let v = ProofVerifier::new();
    let none = v
        .verify(&ProofRequest::new("GET", URL, &[]), now())
        .unwrap_err();
    assert_eq!(none, Error::InvalidProof(ProofError::MissingHeader));
    let empty = v
        .verify(&ProofRequest::new("GET", URL, &[" "]), now())
        .unwrap_err();
    assert_eq!(empty, Error::InvalidProof(ProofError::MissingHeader));

    let k = key();
    let a = sign_raw(&k, &header_for(&k), &claims("a"));
    let b = sign_raw(&k, &header_for(&k), &claims("b"));
    let two = v
        .verify(
            &ProofRequest::new("GET", URL, &[&a, &b]).with_access_token(TOKEN),
            now(),
        )
        .unwrap_err();
    assert_eq!(two, Error::InvalidProof(ProofError::MultipleHeaders));
    assert_eq!(
        two.code(Endpoint::Resource),
        Some(ErrorCode::InvalidRequest)
    );
    assert_eq!(two.code(Endpoint::Token), Some(ErrorCode::InvalidDpopProof));
    let folded = format!("{a}, {b}");
    let folded = v
        .verify(
            &ProofRequest::new("GET", URL, &[&folded]).with_access_token(TOKEN),
            now(),
        )
        .unwrap_err();
    assert_eq!(folded, Error::InvalidProof(ProofError::MultipleHeaders));
    // Surrounding whitespace is HTTP framing, not part of the value.
    let padded = format!(" {a}\t");
    assert!(v
        .verify(
            &ProofRequest::new("GET", URL, &[&padded]).with_access_token(TOKEN),
            now()
        )
        .is_ok());
}

#[test]
fn size_is_checked_before_decoding() {
    let k = key();
    let proof = sign_raw(&k, &header_for(&k), &claims("j"));
    let small =
        ProofVerifier::new().with_options(ProofOptions::new().with_max_proof_len(proof.len() - 1));
    let err = small
        .verify(
            &ProofRequest::new("GET", URL, &[&proof]).with_access_token(TOKEN),
            now(),
        )
        .unwrap_err();
    assert_eq!(err, Error::InvalidProof(ProofError::TooLarge));
    // Garbage over the default 8 KiB limit is refused by size, not by a parser.
    let huge = "A".repeat(8 * 1024 + 1);
    assert_eq!(proof_error(&huge), ProofError::TooLarge);
    let exact =
        ProofVerifier::new().with_options(ProofOptions::new().with_max_proof_len(proof.len()));
    assert!(exact
        .verify(
            &ProofRequest::new("GET", URL, &[&proof]).with_access_token(TOKEN),
            now()
        )
        .is_ok());
}

// Step 2: a well-formed compact JWS.
#[test]
fn step2_compact_serialization_only() {
    let k = key();
    let proof = sign_raw(&k, &header_for(&k), &claims("j"));
    let (h, rest) = proof.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    let cases = [
        (format!("{h}.{p}"), JoseError::SegmentCount),
        (format!("{h}.{p}.{s}.x"), JoseError::SegmentCount),
        (format!("{h}=.{p}.{s}"), JoseError::Base64),
        (format!("{h}.{p}=.{s}"), JoseError::Base64),
        (format!("{h}.{p}.{s}="), JoseError::Base64),
        (format!("{h}.{p}.+{}", &s[1..]), JoseError::Base64),
        (format!("{h}.{p}. {s}"), JoseError::Base64),
        (
            format!("{h}.{}.{s}", p.replace('e', "%")),
            JoseError::Base64,
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(proof_error(&text), ProofError::Jose(expected), "{text}");
    }
    // JSON serialization of the JWS is not accepted.
    let json = format!(r#"{{"protected":"{h}","payload":"{p}","signature":"{s}"}}"#);
    assert!(matches!(
        proof_error(&json),
        ProofError::MultipleHeaders | ProofError::Jose(_)
    ));
    let single = format!(r#"{{"protected":"{h}"}}"#);
    assert_eq!(
        proof_error(&single),
        ProofError::Jose(JoseError::SegmentCount)
    );
}

#[test]
fn step2_strict_json_everywhere() {
    let k = key();
    let jwk = jwk_of(&k);
    let dup_header = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","alg":"ES256","jwk":{jwk}}}"#);
    assert_eq!(
        proof_error(&sign_raw(&k, &dup_header, &claims("j"))),
        ProofError::Jose(JoseError::DuplicateMember)
    );
    let dup_claims = format!(
        r#"{{"jti":"a","jti":"b","htm":"GET","htu":"{URL}","iat":{NOW},"ath":"{}"}}"#,
        ath(TOKEN)
    );
    assert_eq!(
        proof_error(&sign_raw(&k, &header_for(&k), &dup_claims)),
        ProofError::Jose(JoseError::DuplicateMember)
    );
    let dup_jwk = jwk.replacen(r#""kty":"EC""#, r#""kty":"EC","kty":"EC""#, 1);
    let header = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{dup_jwk}}}"#);
    assert_eq!(
        proof_error(&sign_raw(&k, &header, &claims("j"))),
        ProofError::Jose(JoseError::DuplicateMember)
    );
    let deep = format!(
        r#"{{"jti":"j","htm":"GET","htu":"{URL}","iat":{NOW},"ath":"{}","x":{}1{}}}"#,
        ath(TOKEN),
        "[".repeat(20),
        "]".repeat(20)
    );
    assert_eq!(
        proof_error(&sign_raw(&k, &header_for(&k), &deep)),
        ProofError::Jose(JoseError::TooDeep)
    );
    assert_eq!(
        proof_error(&sign_raw(&k, &header_for(&k), "[1]")),
        ProofError::Jose(JoseError::NotAnObject)
    );
    assert_eq!(
        proof_error(&sign_raw(&k, &header_for(&k), "{\"jti\":")),
        ProofError::Jose(JoseError::Json)
    );
}

// Step 3: required claims with the right types.
#[test]
fn step3_required_claims() {
    let full = [
        ("jti", r#""j""#.to_string()),
        ("htm", r#""GET""#.to_string()),
        ("htu", format!(r#""{URL}""#)),
        ("iat", NOW.to_string()),
    ];
    for skip in ["jti", "htm", "htu", "iat"] {
        let members: Vec<String> = full
            .iter()
            .filter(|(name, _)| *name != skip)
            .map(|(name, value)| format!(r#""{name}":{value}"#))
            .chain([format!(r#""ath":"{}""#, ath(TOKEN))])
            .collect();
        let claims = format!("{{{}}}", members.join(","));
        assert_eq!(
            proof_error(&with_claims(&claims)),
            ProofError::MissingClaim(skip)
        );
    }
    for (name, bad) in [
        ("jti", "7"),
        ("htm", "null"),
        ("htu", "[]"),
        ("iat", r#""1700000000""#),
        ("iat", "-1"),
    ] {
        let members: Vec<String> = full
            .iter()
            .map(|(n, value)| format!(r#""{n}":{}"#, if *n == name { bad } else { value }))
            .chain([format!(r#""ath":"{}""#, ath(TOKEN))])
            .collect();
        let claims = format!("{{{}}}", members.join(","));
        assert_eq!(
            proof_error(&with_claims(&claims)),
            ProofError::InvalidClaim(name),
            "{name}={bad}"
        );
    }
    assert_eq!(
        proof_error(&with_claims(&claims(""))),
        ProofError::InvalidClaim("jti")
    );
}

#[test]
fn jti_length_is_bounded() {
    assert!(verify(&with_claims(&claims(&"j".repeat(256)))).is_ok());
    assert_eq!(
        proof_error(&with_claims(&claims(&"j".repeat(257)))),
        ProofError::JtiTooLong
    );
}

// Step 4: typ.
#[test]
fn step4_typ() {
    let k = key();
    let jwk = jwk_of(&k);
    for typ in [
        "jwt",
        "JWT",
        "at+jwt",
        "dpop",
        "application/jwt",
        "dpop+jwt ",
        "applicationé+jwt",
        "ééééééé",
        "applicatiox/dpop+jwt",
        "xxxxxxxxxxxxdpop+jwt",
    ] {
        let header = format!(r#"{{"typ":"{typ}","alg":"ES256","jwk":{jwk}}}"#);
        assert_eq!(
            proof_error(&sign_raw(&k, &header, &claims("j"))),
            ProofError::WrongType,
            "{typ}"
        );
    }
    let header = format!(r#"{{"typ":1,"alg":"ES256","jwk":{jwk}}}"#);
    assert_eq!(
        proof_error(&sign_raw(&k, &header, &claims("j"))),
        ProofError::WrongType
    );
    let header = format!(r#"{{"alg":"ES256","jwk":{jwk}}}"#);
    assert_eq!(
        proof_error(&sign_raw(&k, &header, &claims("j"))),
        ProofError::Jose(JoseError::MissingHeader("typ"))
    );
    // Media types are case-insensitive and may carry the `application/` prefix (RFC 7515).
    for typ in ["application/dpop+jwt", "DPoP+JWT"] {
        let header = format!(r#"{{"typ":"{typ}","alg":"ES256","jwk":{jwk}}}"#);
        assert!(
            verify(&sign_raw(&k, &header, &claims(typ))).is_ok(),
            "{typ}"
        );
    }
}

// Step 5: alg, refused before any cryptography: unknown and symmetric names as unsupported,
// supported names that do not fit the P-256 key as a mismatch (RFC 8725 §3.1).
#[test]
fn step5_alg() {
    let k = key();
    let jwk = jwk_of(&k);
    for alg in [
        "none", "None", "HS256", "HS512", "es256", "ES256K", "Ed448", "",
    ] {
        let header = format!(r#"{{"typ":"dpop+jwt","alg":"{alg}","jwk":{jwk}}}"#);
        assert_eq!(
            proof_error(&sign_raw(&k, &header, &claims("j"))),
            ProofError::Jose(JoseError::UnsupportedAlgorithm),
            "{alg}"
        );
    }
    for alg in ["RS256", "PS256", "ES384", "ES512", "EdDSA", "Ed25519"] {
        let header = format!(r#"{{"typ":"dpop+jwt","alg":"{alg}","jwk":{jwk}}}"#);
        assert_eq!(
            proof_error(&sign_raw(&k, &header, &claims("j"))),
            ProofError::Jose(JoseError::AlgorithmKeyMismatch),
            "{alg}"
        );
    }
    // An unsigned `none` proof is refused for its alg, not for its (empty) signature.
    let header = format!(r#"{{"typ":"dpop+jwt","alg":"none","jwk":{jwk}}}"#);
    let unsigned = format!(
        "{}.{}.",
        b64(header.as_bytes()),
        b64(claims("j").as_bytes())
    );
    assert_eq!(
        proof_error(&unsigned),
        ProofError::Jose(JoseError::UnsupportedAlgorithm)
    );
    let header = format!(r#"{{"typ":"dpop+jwt","jwk":{jwk}}}"#);
    assert_eq!(
        proof_error(&sign_raw(&k, &header, &claims("j"))),
        ProofError::Jose(JoseError::MissingHeader("alg"))
    );
}

#[test]
fn crit_is_refused() {
    let k = key();
    let jwk = jwk_of(&k);
    let header =
        format!(r#"{{"typ":"dpop+jwt","alg":"ES256","crit":["exp"],"exp":1,"jwk":{jwk}}}"#);
    assert_eq!(
        proof_error(&sign_raw(&k, &header, &claims("j"))),
        ProofError::Jose(JoseError::UnsupportedCritical)
    );
}

// Step 6: the signature, by the key in the header.
#[test]
fn step6_signature() {
    let k = key();
    let attacker = key();
    // Header names k's key, signature by another key.
    let forged = sign_raw(&attacker, &header_for(&k), &claims("j"));
    assert_eq!(
        proof_error(&forged),
        ProofError::Jose(JoseError::InvalidSignature)
    );

    let good = sign_raw(&k, &header_for(&k), &claims("j"));
    let (input, sig) = good.rsplit_once('.').unwrap();
    // Swap the claims for others, keep the signature.
    let (h, _) = input.split_once('.').unwrap();
    let swapped = format!("{h}.{}.{sig}", b64(claims("other").as_bytes()));
    assert_eq!(
        proof_error(&swapped),
        ProofError::Jose(JoseError::InvalidSignature)
    );
    // Zero signature, and 65 bytes.
    let zero = format!("{input}.{}", b64(&[0u8; 64]));
    assert_eq!(
        proof_error(&zero),
        ProofError::Jose(JoseError::InvalidSignature)
    );
    let long = format!("{input}.{}", b64(&[1u8; 65]));
    assert_eq!(
        proof_error(&long),
        ProofError::Jose(JoseError::SignatureLength)
    );
}

// Step 7: the jwk is a public EC P-256 key.
#[test]
fn step7_jwk_public_key_checks() {
    let k = key();
    let private = k.to_jwk();
    let header = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#, &*private);
    let err = proof_error(&sign_raw(&k, &header, &claims("j")));
    assert_eq!(err, ProofError::InvalidKey(KeyError::PrivateKey));
    assert_eq!(err.reason(), "private_key_in_jwk");

    let public = jwk_of(&k);
    let cases = [
        (
            public.replace(r#""kty":"EC""#, r#""kty":"RSA""#),
            KeyError::MissingMember("n"),
        ),
        (
            public.replace(r#""kty":"EC""#, r#""kty":"oct""#),
            KeyError::UnsupportedKeyType,
        ),
        (
            public.replace("P-256", "P-384"),
            KeyError::InvalidCoordinate,
        ),
        (
            public.replace("P-256", "secp256k1"),
            KeyError::UnsupportedCurve,
        ),
        (
            public.replace(r#""kty":"EC","#, ""),
            KeyError::MissingMember("kty"),
        ),
        (
            public.replace(r#""x":""#, r#""x":"AA"#),
            KeyError::InvalidCoordinate,
        ),
        (
            public.replace(r#""crv":"P-256","#, r#""crv":"P-256","use":"enc","#),
            KeyError::WrongUse,
        ),
        (
            public.replace(r#""crv":"P-256","#, r#""crv":"P-256","alg":"ES384","#),
            KeyError::WrongAlgorithm,
        ),
    ];
    for (jwk, expected) in cases {
        let header = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{jwk}}}"#);
        assert_eq!(
            proof_error(&sign_raw(&k, &header, &claims("j"))),
            ProofError::InvalidKey(expected),
            "{jwk}"
        );
    }
    // A point that is not on the curve: x of one key with y of another.
    let other = jwk_of(&key());
    let x_part = &public[public.find(r#""x":"#).unwrap()..public.find(r#","y":"#).unwrap()];
    let other_x = &other[other.find(r#""x":"#).unwrap()..other.find(r#","y":"#).unwrap()];
    let off_curve = public.replace(x_part, other_x);
    let header = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{off_curve}}}"#);
    assert_eq!(
        proof_error(&sign_raw(&k, &header, &claims("j"))),
        ProofError::InvalidKey(KeyError::InvalidPoint)
    );
    let header = r#"{"typ":"dpop+jwt","alg":"ES256","jwk":"key"}"#;
    assert_eq!(
        proof_error(&sign_raw(&k, header, &claims("j"))),
        ProofError::Jose(JoseError::InvalidHeader("jwk"))
    );
    let header = r#"{"typ":"dpop+jwt","alg":"ES256","kid":"k1"}"#;
    assert_eq!(
        proof_error(&sign_raw(&k, header, &claims("j"))),
        ProofError::Jose(JoseError::MissingHeader("jwk"))
    );
}

// Step 8: htm, case-sensitive.
#[test]
fn step8_htm() {
    for htm in ["POST", "get", "Get", "GET "] {
        let claims = format!(
            r#"{{"jti":"j","htm":"{htm}","htu":"{URL}","iat":{NOW},"ath":"{}"}}"#,
            ath(TOKEN)
        );
        assert_eq!(
            proof_error(&with_claims(&claims)),
            ProofError::MethodMismatch,
            "{htm}"
        );
    }
}

// Step 9: htu after normalisation.
#[test]
fn step9_htu() {
    let mismatches = [
        "https://api.example.com/orders/",
        "https://api.example.com/orders/1",
        "https://api.example.com//orders",
        "https://api.example.com/Orders",
        "http://api.example.com/orders",
        "https://api.example.com:8443/orders",
        "https://evil.example.com/orders",
        "https://api.example.com/other/../orders2",
    ];
    for htu in mismatches {
        let claims = format!(
            r#"{{"jti":"j","htm":"GET","htu":"{htu}","iat":{NOW},"ath":"{}"}}"#,
            ath(TOKEN)
        );
        assert_eq!(
            proof_error(&with_claims(&claims)),
            ProofError::UrlMismatch,
            "{htu}"
        );
    }
    let equivalent = [
        "HTTPS://API.Example.COM/orders",
        "https://api.example.com:443/orders",
        "https://api.example.com/%6Frders",
        "https://api.example.com/x/../orders",
    ];
    for htu in equivalent {
        let claims = format!(
            r#"{{"jti":"{htu}","htm":"GET","htu":"{htu}","iat":{NOW},"ath":"{}"}}"#,
            ath(TOKEN)
        );
        assert!(verify(&with_claims(&claims)).is_ok(), "{htu}");
    }
    for htu in [
        "/orders",
        "api.example.com/orders",
        "https://u@api.example.com/orders",
        "ftp://api.example.com/orders",
        // RFC 9449 §4.2: without query and fragment parts, even empty ones.
        "https://api.example.com/orders?page=2",
        "https://api.example.com/orders?",
        "https://api.example.com/orders#top",
        "https://api.example.com/orders#",
    ] {
        let claims = format!(
            r#"{{"jti":"j","htm":"GET","htu":"{htu}","iat":{NOW},"ath":"{}"}}"#,
            ath(TOKEN)
        );
        assert_eq!(
            proof_error(&with_claims(&claims)),
            ProofError::InvalidClaim("htu"),
            "{htu}"
        );
    }
    // A claim byte-equal to a server URL that is not a valid `htu` is still an invalid claim,
    // never a match (the one-normalization fast path must keep this answer).
    for server_url in [
        "ftp://api.example.com/orders",
        "https://u@api.example.com/orders",
    ] {
        let k = key();
        let claims = format!(
            r#"{{"jti":"bad-server-url","htm":"GET","htu":"{server_url}","iat":{NOW},"ath":"{}"}}"#,
            ath(TOKEN)
        );
        let proof = sign_raw(&k, &header_for(&k), &claims);
        let outcome = ProofVerifier::new().verify(
            &ProofRequest::new("GET", server_url, &[&proof]).with_access_token(TOKEN),
            now(),
        );
        assert_eq!(
            outcome.unwrap_err(),
            Error::InvalidProof(ProofError::InvalidClaim("htu")),
            "{server_url}"
        );
    }
    // The request's own query is ignored too.
    let k = key();
    let proof = sign_raw(&k, &header_for(&k), &claims("q"));
    let url = format!("{URL}?a=b");
    assert!(ProofVerifier::new()
        .verify(
            &ProofRequest::new("GET", &url, &[&proof]).with_access_token(TOKEN),
            now()
        )
        .is_ok());
}

// Step 10: nonces.
#[test]
fn step10_nonce_required_when_configured() {
    let engine = NonceEngine::from_secret([5; 32]);
    let verifier = ProofVerifier::new().with_nonces(engine);
    let signer = ProofSigner::new(key());
    let request = |proof: &str| {
        verifier.verify(
            &ProofRequest::new("GET", URL, &[proof]).with_access_token(TOKEN),
            now(),
        )
    };

    // No nonce: use_dpop_nonce with a fresh nonce.
    let proof = signer
        .proof("GET", URL)
        .with_access_token(TOKEN)
        .sign(now())
        .unwrap();
    let err = request(&proof).unwrap_err();
    let Error::UseDpopNonce { problem, nonce } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*problem, NonceProblem::Missing);
    assert_eq!(err.code(Endpoint::Resource), Some(ErrorCode::UseDpopNonce));
    assert_eq!(err.status(Endpoint::Resource), 401);
    assert_eq!(err.status(Endpoint::Token), 400);
    assert_eq!(err.dpop_nonce(), Some(nonce.as_str()));

    // Retry with it: accepted.
    let retry = signer
        .proof("GET", URL)
        .with_access_token(TOKEN)
        .with_nonce(nonce)
        .sign(now())
        .unwrap();
    let ok = request(&retry).unwrap();
    assert_eq!(ok.fresh_nonce(), None);

    // An unknown nonce: use_dpop_nonce again.
    let bad = signer
        .proof("GET", URL)
        .with_access_token(TOKEN)
        .with_nonce("not-a-nonce-from-this-server")
        .sign(now())
        .unwrap();
    assert!(matches!(
        request(&bad),
        Err(Error::UseDpopNonce {
            problem: NonceProblem::Invalid,
            ..
        })
    ));

    // A nonce of the wrong JSON type is a malformed proof.
    let k = key();
    let claims = format!(
        r#"{{"jti":"n","htm":"GET","htu":"{URL}","iat":{NOW},"ath":"{}","nonce":5}}"#,
        ath(TOKEN)
    );
    let typed = sign_raw(&k, &header_for(&k), &claims);
    assert_eq!(
        request(&typed).unwrap_err(),
        Error::InvalidProof(ProofError::InvalidClaim("nonce"))
    );
}

#[test]
fn step10_stale_nonce_gets_a_new_one_and_old_nonce_prompts_rotation() {
    let verifier = ProofVerifier::new().with_nonces(NonceEngine::from_secret([6; 32]));
    let signer = ProofSigner::new(key());
    let issued_at = UnixTime::from_secs(NOW - 40);
    let nonce = verifier.issue_nonce(issued_at).unwrap();
    // Still accepted 40 s later (step 30 s, 3 steps), and the server offers a fresh nonce.
    let proof = signer
        .proof("GET", URL)
        .with_nonce(&nonce)
        .sign(now())
        .unwrap();
    let ok = verifier
        .verify(&ProofRequest::new("GET", URL, &[&proof]), now())
        .unwrap();
    let fresh = ok.fresh_nonce().unwrap();
    assert_ne!(fresh, nonce);
    // 100 s later the nonce is stale.
    let later = UnixTime::from_secs(NOW + 60);
    let proof = signer
        .proof("GET", URL)
        .with_nonce(&nonce)
        .sign(later)
        .unwrap();
    assert!(matches!(
        verifier.verify(&ProofRequest::new("GET", URL, &[&proof]), later),
        Err(Error::UseDpopNonce {
            problem: NonceProblem::Invalid,
            ..
        })
    ));
}

#[test]
fn nonce_is_ignored_when_not_required() {
    let signer = ProofSigner::new(key());
    let proof = signer
        .proof("GET", URL)
        .with_nonce("anything")
        .sign(now())
        .unwrap();
    assert!(ProofVerifier::new()
        .verify(&ProofRequest::new("GET", URL, &[&proof]), now())
        .is_ok());
}

// Step 11: iat window [now - 60 - 5, now + 5] by default.
#[test]
fn step11_iat_window() {
    let at = |iat: u64| {
        format!(
            r#"{{"jti":"j{iat}","htm":"GET","htu":"{URL}","iat":{iat},"ath":"{}"}}"#,
            ath(TOKEN)
        )
    };
    assert!(verify(&with_claims(&at(NOW - 65))).is_ok());
    assert_eq!(
        proof_error(&with_claims(&at(NOW - 66))),
        ProofError::TooOld {
            iat: NOW - 66,
            now: NOW
        }
    );
    assert!(verify(&with_claims(&at(NOW + 5))).is_ok());
    assert_eq!(
        proof_error(&with_claims(&at(NOW + 6))),
        ProofError::FromTheFuture {
            iat: NOW + 6,
            now: NOW
        }
    );
    // Fractional NumericDate is read as whole seconds.
    let fractional = format!(
        r#"{{"jti":"f","htm":"GET","htu":"{URL}","iat":{NOW}.75,"ath":"{}"}}"#,
        ath(TOKEN)
    );
    assert!(verify(&with_claims(&fractional)).is_ok());
    // Options move the window.
    let strict = ProofVerifier::new().with_options(
        ProofOptions::new()
            .with_max_age_secs(10)
            .with_leeway_secs(0),
    );
    let proof = with_claims(&at(NOW - 11));
    assert!(matches!(
        strict.verify(
            &ProofRequest::new("GET", URL, &[&proof]).with_access_token(TOKEN),
            now()
        ),
        Err(Error::InvalidProof(ProofError::TooOld { .. }))
    ));
}

// Step 12: ath.
#[test]
fn step12_ath() {
    let no_ath = format!(r#"{{"jti":"j","htm":"GET","htu":"{URL}","iat":{NOW}}}"#);
    assert_eq!(proof_error(&with_claims(&no_ath)), ProofError::MissingAth);
    let wrong = format!(
        r#"{{"jti":"j","htm":"GET","htu":"{URL}","iat":{NOW},"ath":"{}"}}"#,
        ath("some-other-token")
    );
    assert_eq!(proof_error(&with_claims(&wrong)), ProofError::AthMismatch);
    let junk = format!(r#"{{"jti":"j","htm":"GET","htu":"{URL}","iat":{NOW},"ath":"xyz"}}"#);
    assert_eq!(proof_error(&with_claims(&junk)), ProofError::AthMismatch);
    // ath without a presented token.
    let proof = with_claims(&claims("j"));
    let err = ProofVerifier::new()
        .verify(&ProofRequest::new("GET", URL, &[&proof]), now())
        .unwrap_err();
    assert_eq!(err, Error::InvalidProof(ProofError::UnexpectedAth));
}

#[test]
fn replay_is_refused_and_keyed_by_key_and_jti() {
    let verifier = ProofVerifier::new();
    let a = key();
    let b = key();
    let proof_a = sign_raw(&a, &header_for(&a), &claims("same-jti"));
    let proof_b = sign_raw(&b, &header_for(&b), &claims("same-jti"));
    let req = |p: &str| {
        verifier.verify(
            &ProofRequest::new("GET", URL, &[p]).with_access_token(TOKEN),
            now(),
        )
    };
    assert!(req(&proof_a).is_ok());
    assert_eq!(
        req(&proof_a).unwrap_err(),
        Error::InvalidProof(ProofError::Replayed)
    );
    // Another key may use the same jti.
    assert!(req(&proof_b).is_ok());
    // A re-signed proof with the same jti by the same key is still a replay.
    let resigned = sign_raw(&a, &header_for(&a), &claims("same-jti"));
    assert_eq!(
        req(&resigned).unwrap_err(),
        Error::InvalidProof(ProofError::Replayed)
    );
}

#[test]
fn errors_never_echo_attacker_text() {
    let marker = "<script>evil</script>";
    let k = key();
    let jwk = jwk_of(&k);
    let proofs = [
        sign_raw(
            &k,
            &format!(r#"{{"typ":"{marker}","alg":"ES256","jwk":{jwk}}}"#),
            &claims("j"),
        ),
        sign_raw(
            &k,
            &format!(r#"{{"typ":"dpop+jwt","alg":"{marker}","jwk":{jwk}}}"#),
            &claims("j"),
        ),
        sign_raw(&k, &header_for(&k), &claims(marker).replace("GET", marker)),
        sign_raw(&k, &header_for(&k), &claims("j").replace(URL, marker)),
        format!("{marker}.{marker}.{marker}"),
    ];
    for proof in proofs {
        let err = verify(&proof).unwrap_err();
        for text in [
            err.to_string(),
            format!("{err:?}"),
            err.description().to_string(),
        ] {
            assert!(!text.contains("evil"), "{text}");
        }
    }
}
