//! JWK, JWKS and thumbprint parsing on arbitrary text (the whole input, lossy UTF-8).
//!
//! Properties: no panic; a public key survives `to_jwk` → `from_jwk` unchanged (same key, same
//! thumbprint); a private key survives `to_jwk` → `from_jwk` and signs what its public key
//! verifies; no text is both a public JWK and a private JWK (public parsing refuses `d`,
//! private parsing requires it); an accepted thumbprint is in canonical form (re-encoding gives
//! the input back, so one thumbprint has one spelling) and `FromStr` agrees; PEM private and
//! public keys (`from_pem`, `from_pem_with_algorithm`) never panic, and an accepted PEM private
//! key's public half verifies what it signs.
#![no_main]

use keybound::{Algorithm, AlgorithmSet, KeySet, PublicKey, SigningKey, Thumbprint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    let public = PublicKey::from_jwk(text);
    if let Ok(key) = &public {
        let again = PublicKey::from_jwk(&key.to_jwk())
            .unwrap_or_else(|e| panic!("to_jwk output refused: {e:?}: {}", key.to_jwk()));
        assert_eq!(&again, key);
        assert_eq!(again.thumbprint(), key.thumbprint());
        let tp = key.thumbprint();
        assert_eq!(Thumbprint::from_base64url(&tp.to_base64url()).ok(), Some(tp));
        let _ = format!("{key:?}");
    }

    let private = SigningKey::from_jwk(text);
    if let Ok(key) = &private {
        let jwk = key.to_jwk();
        let again = SigningKey::from_jwk(&jwk).expect("SigningKey::to_jwk output refused");
        assert_eq!(again.public_key(), key.public_key());
        assert_eq!(
            PublicKey::from_jwk(&key.public_key().to_jwk()).ok().as_ref(),
            Some(key.public_key())
        );
        let signature = key.sign(data).expect("in-memory keys sign");
        assert!(
            key.public_key()
                .verify(key.algorithm(), AlgorithmSet::all(), data, &signature)
                .is_ok(),
            "a signature by a parsed key does not verify"
        );
        // Debug must not print the private scalar.
        let debug = format!("{key:?}");
        let d = jwk.split("\"d\":\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or("");
        assert!(d.is_empty() || !debug.contains(d), "Debug leaks d: {debug}");
    }

    assert!(
        !(public.is_ok() && private.is_ok()),
        "accepted both as a public and as a private JWK: {text:?}"
    );

    if let Ok(set) = KeySet::from_jwks(text) {
        let _ = (set.len(), set.is_empty(), format!("{set:?}"));
    }

    for key in [
        SigningKey::from_pem(text),
        SigningKey::from_pem_with_algorithm(text, Algorithm::Ps256),
    ]
    .into_iter()
    .flatten()
    {
        let signature = key.sign(b"pem").expect("in-memory keys sign");
        assert!(key
            .public_key()
            .verify(key.algorithm(), AlgorithmSet::all(), b"pem", &signature)
            .is_ok());
    }
    if let Ok(key) = PublicKey::from_pem(text) {
        assert_eq!(PublicKey::from_jwk(&key.to_jwk()).ok().as_ref(), Some(&key));
    }

    let parsed = Thumbprint::from_base64url(text);
    if let Ok(tp) = &parsed {
        assert_eq!(tp.to_base64url(), text, "non-canonical thumbprint accepted");
    }
    assert_eq!(text.parse::<Thumbprint>().ok(), parsed.as_ref().ok().copied());
});
