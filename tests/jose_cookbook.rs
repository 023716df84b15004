//! The JOSE Cookbook (RFC 7520, tests/data/jose-cookbook, public domain) and the RFC 8037
//! Ed25519 example through keybound's public API, under whichever backend is compiled in.
//!
//! - §4.1 RS256, §4.2 PS384, §4.3 ES512: the compact JWS verifies with
//!   `PublicKey::from_jwk(<the cookbook's public JWK>)` and `verify_jws`, giving the cookbook's
//!   payload; every tampered copy is refused. RSASSA-PKCS1-v1_5 is deterministic, so signing
//!   §4.1's input with the §3.4 private key gives the cookbook's signature byte for byte.
//! - §3.1–§3.4 keys: public keys read with `PublicKey::from_jwk`, private ones with
//!   `SigningKey::from_jwk` (the RSA key has no `alg`, so it needs `from_jwk_with_algorithm`);
//!   thumbprints equal RFC 7638 computed here and are stable across re-reading and export.
//! - RFC 8037 §A.4/§A.5: the Ed25519 example verifies, and since Ed25519 is deterministic,
//!   signing its input with the §A.1 private key gives the RFC's signature byte for byte; the
//!   §A.3 thumbprint is the RFC's.

use base64ct::{Base64UrlUnpadded, Encoding};
use keybound::{Algorithm, AlgorithmSet, JoseError, KeyError, PublicKey, SigningKey, BACKEND};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// RFC 7638 thumbprints of the RFC 7520 §3 keys (computed with Python's `hashlib` over the
/// canonical JSON, and again below with `sha2`).
const EC_P521_THUMBPRINT: &str = "dHri3SADZkrush5HU_50AoRhcKFryN-PI6jPBtPL55M";
const RSA_2048_THUMBPRINT: &str = "9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

/// RFC 8037 §A.3: the thumbprint of the Ed25519 example key.
const RFC8037_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

fn load(path: &str) -> Value {
    let path = format!(
        "{}/tests/data/jose-cookbook/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

fn text(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer}"))
        .to_owned()
}

fn b64_decode(text: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(text).unwrap_or_else(|e| panic!("base64url {text:?}: {e}"))
}

/// `jwk` without its private members.
fn public_part(jwk: &Value) -> Value {
    let mut object = jwk.as_object().expect("a JWK object").clone();
    for member in ["d", "p", "q", "dp", "dq", "qi"] {
        object.remove(member);
    }
    Value::Object(object)
}

/// `jwk` with `alg` set to `alg`.
fn with_alg(jwk: &Value, alg: &str) -> String {
    let mut jwk = jwk.clone();
    jwk["alg"] = Value::String(alg.to_owned());
    jwk.to_string()
}

/// The RFC 7638 thumbprint, computed here: SHA-256 over the required members in
/// lexicographic order without whitespace.
fn rfc7638(jwk: &Value) -> String {
    let required: &[&str] = match jwk["kty"].as_str() {
        Some("EC") => &["crv", "kty", "x", "y"],
        Some("OKP") => &["crv", "kty", "x"],
        Some("RSA") => &["e", "kty", "n"],
        other => panic!("kty {other:?}"),
    };
    let members: Vec<String> = required
        .iter()
        .map(|m| format!(r#""{m}":"{}""#, jwk[*m].as_str().expect("a string member")))
        .collect();
    let canonical = format!("{{{}}}", members.join(","));
    Base64UrlUnpadded::encode_string(&Sha256::digest(canonical.as_bytes()))
}

/// Copies of `compact` with one segment changed: a character in the middle of the header, the
/// payload and the signature replaced by another base64url character (the spelling stays
/// canonical, so only the content changes), and the signature's first byte flipped.
fn tampered(compact: &str) -> Vec<(&'static str, String)> {
    let segments: Vec<&str> = compact.split('.').collect();
    assert_eq!(segments.len(), 3);
    let mut out = Vec::new();
    for (index, name) in [(0, "header"), (1, "payload"), (2, "signature")] {
        let mut chars: Vec<char> = segments[index].chars().collect();
        let mid = chars.len() / 2;
        chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
        let mut parts: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
        parts[index] = chars.into_iter().collect();
        out.push((name, parts.join(".")));
    }
    let mut signature = b64_decode(segments[2]);
    signature[0] ^= 0x80;
    out.push((
        "signature, first bit flipped",
        format!(
            "{}.{}.{}",
            segments[0],
            segments[1],
            Base64UrlUnpadded::encode_string(&signature)
        ),
    ));
    out
}

/// Checks a cookbook example: the compact form is the file's own parts, verifies with `key`
/// to the file's payload, and every tampered copy is refused.
fn check_example(example: &Value, key: &PublicKey) {
    let compact = text(example, "/output/compact");
    let header_b64 = text(example, "/signing/protected_b64u");
    let signing_input = text(example, "/signing/sig-input");
    let signature_b64 = text(example, "/signing/sig");
    assert_eq!(compact, format!("{signing_input}.{signature_b64}"));
    assert!(signing_input.starts_with(&format!("{header_b64}.")));
    let header: Value = serde_json::from_slice(&b64_decode(&header_b64)).unwrap();
    assert_eq!(header, example["signing"]["protected"]);
    let payload = text(example, "/input/payload");

    assert_eq!(
        key.verify_jws(&compact).as_deref(),
        Ok(payload.as_bytes()),
        "{} [{BACKEND}]",
        example["title"]
    );
    // The same signature through the raw verify path.
    let alg: Algorithm = text(example, "/signing/protected/alg").parse().unwrap();
    let signature = b64_decode(&signature_b64);
    assert_eq!(
        key.verify(
            alg,
            AlgorithmSet::all(),
            signing_input.as_bytes(),
            &signature
        ),
        Ok(())
    );
    assert_eq!(
        key.verify(
            alg,
            AlgorithmSet::empty(),
            signing_input.as_bytes(),
            &signature
        ),
        Err(JoseError::UnsupportedAlgorithm)
    );
    for (what, bad) in tampered(&compact) {
        let got = key.verify_jws(&bad);
        assert!(
            got.is_err(),
            "{}: {what} tampered, verified",
            example["title"]
        );
        if what != "header" {
            assert_eq!(got, Err(JoseError::InvalidSignature), "{what}");
        }
    }
}

fn rsa_public() -> PublicKey {
    let jwk = load("jwk/3_3.rsa_public_key.json");
    PublicKey::from_jwk(&jwk.to_string()).expect("RFC 7520 §3.3 key")
}

#[test]
fn rfc7520_4_1_rs256() {
    let example = load("jws/4_1.rsa_v15_signature.json");
    assert_eq!(text(&example, "/signing/protected/alg"), "RS256");
    let key = rsa_public();
    check_example(&example, &key);

    // PKCS#1 v1.5 is deterministic: the §3.4 private key re-makes the signature exactly.
    let private = load("jwk/3_4.rsa_private_key.json").to_string();
    let signer = SigningKey::from_jwk_with_algorithm(&private, Algorithm::Rs256).unwrap();
    assert_eq!(signer.public_key(), &key);
    let signature = signer
        .sign(text(&example, "/signing/sig-input").as_bytes())
        .unwrap();
    assert_eq!(
        Base64UrlUnpadded::encode_string(&signature),
        text(&example, "/signing/sig"),
        "RS256 signature [{BACKEND}]"
    );

    // A key published for another RSA algorithm does not verify RS256 (RFC 8725 §3.1).
    let ps384_only =
        PublicKey::from_jwk(&with_alg(&load("jwk/3_3.rsa_public_key.json"), "PS384")).unwrap();
    assert_eq!(
        ps384_only.verify_jws(&text(&example, "/output/compact")),
        Err(JoseError::AlgorithmKeyMismatch)
    );
}

#[test]
fn rfc7520_4_2_ps384() {
    let example = load("jws/4_2.rsa-pss_signature.json");
    assert_eq!(text(&example, "/signing/protected/alg"), "PS384");
    let key = rsa_public();
    check_example(&example, &key);
    // The example's input key is the §3.4 key.
    let input_public = public_part(&example["input"]["key"]).to_string();
    assert_eq!(PublicKey::from_jwk(&input_public).unwrap(), key);

    // PSS salts are random, so the signature cannot be re-made; a fresh one verifies, and
    // not as RS384 or PS256/PS512.
    let private = load("jwk/3_4.rsa_private_key.json").to_string();
    let signer = SigningKey::from_jwk_with_algorithm(&private, Algorithm::Ps384).unwrap();
    let input = text(&example, "/signing/sig-input");
    let signature = signer.sign(input.as_bytes()).unwrap();
    let all = AlgorithmSet::all();
    assert_eq!(
        key.verify(Algorithm::Ps384, all, input.as_bytes(), &signature),
        Ok(())
    );
    for other in [Algorithm::Rs384, Algorithm::Ps256, Algorithm::Ps512] {
        assert_eq!(
            key.verify(other, all, input.as_bytes(), &signature),
            Err(JoseError::InvalidSignature),
            "{other}"
        );
    }
}

#[test]
fn rfc7520_4_3_es512() {
    let example = load("jws/4_3.ecdsa_signature.json");
    assert_eq!(text(&example, "/signing/protected/alg"), "ES512");
    let key = PublicKey::from_jwk(&load("jwk/3_1.ec_public_key.json").to_string()).unwrap();
    check_example(&example, &key);
    assert_eq!(b64_decode(&text(&example, "/signing/sig")).len(), 132);

    // ECDSA signatures depend on the nonce; a fresh one by the §3.2 key verifies.
    let signer = SigningKey::from_jwk(&load("jwk/3_2.ec_private_key.json").to_string()).unwrap();
    assert_eq!(signer.algorithm(), Algorithm::Es512);
    let input = text(&example, "/signing/sig-input");
    let signature = signer.sign(input.as_bytes()).unwrap();
    assert_eq!(
        key.verify(
            Algorithm::Es512,
            AlgorithmSet::all(),
            input.as_bytes(),
            &signature
        ),
        Ok(())
    );
    // A P-521 key verifies ES512 only.
    assert_eq!(
        key.verify(
            Algorithm::Es256,
            AlgorithmSet::all(),
            input.as_bytes(),
            &signature
        ),
        Err(JoseError::AlgorithmKeyMismatch)
    );
}

#[test]
fn rfc7520_3_keys_import_with_stable_thumbprints() {
    let ec_public = load("jwk/3_1.ec_public_key.json");
    let ec_private = load("jwk/3_2.ec_private_key.json");
    let rsa_public = load("jwk/3_3.rsa_public_key.json");
    let rsa_private = load("jwk/3_4.rsa_private_key.json");
    assert_eq!(public_part(&ec_private), ec_public);
    assert_eq!(public_part(&rsa_private), rsa_public);
    assert_eq!(rfc7638(&ec_public), EC_P521_THUMBPRINT);
    assert_eq!(rfc7638(&rsa_public), RSA_2048_THUMBPRINT);

    // §3.1 and §3.3: public keys.
    for (jwk, thumbprint, key_type) in [
        (&ec_public, EC_P521_THUMBPRINT, "EC P-521"),
        (&rsa_public, RSA_2048_THUMBPRINT, "RSA 2048"),
    ] {
        let key = PublicKey::from_jwk(&jwk.to_string()).unwrap();
        assert_eq!(key.key_type().to_string(), key_type);
        assert_eq!(key.algorithm(), None, "the cookbook keys carry no alg");
        assert_eq!(key.thumbprint().to_base64url(), thumbprint);
        // Stable: the same on re-reading the exported JWK, whose members are the required ones.
        let again = PublicKey::from_jwk(&key.to_jwk()).unwrap();
        assert_eq!(again.thumbprint().to_base64url(), thumbprint);
        let exported: Value = serde_json::from_str(&key.to_jwk()).unwrap();
        assert_eq!(rfc7638(&exported), thumbprint);
    }
    let ec_key = PublicKey::from_jwk(&ec_public.to_string()).unwrap();
    assert_eq!(ec_key.algorithms(), AlgorithmSet::only(Algorithm::Es512));
    let (x, y) = ec_key.ec_coordinates().unwrap();
    assert_eq!(x, b64_decode(&text(&ec_public, "/x")));
    assert_eq!(y, b64_decode(&text(&ec_public, "/y")));
    let rsa_key = PublicKey::from_jwk(&rsa_public.to_string()).unwrap();
    assert_eq!(rsa_key.algorithms().iter().count(), 6, "RS* and PS*");

    // Private keys are refused where a public key belongs.
    for jwk in [&ec_private, &rsa_private] {
        assert_eq!(
            PublicKey::from_jwk(&jwk.to_string()),
            Err(KeyError::PrivateKey)
        );
    }

    // §3.2: the EC private key signs with its curve's algorithm.
    let ec_signer = SigningKey::from_jwk(&ec_private.to_string()).unwrap();
    assert_eq!(ec_signer.algorithm(), Algorithm::Es512);
    assert_eq!(ec_signer.public_key(), &ec_key);
    assert_eq!(ec_signer.thumbprint().to_base64url(), EC_P521_THUMBPRINT);

    // §3.4: the RSA private key has no `alg`, and RS* and PS* are equally plausible.
    let rsa_text = rsa_private.to_string();
    assert_eq!(
        SigningKey::from_jwk(&rsa_text).err(),
        Some(KeyError::AlgorithmRequired)
    );
    for alg in [Algorithm::Rs256, Algorithm::Ps384, Algorithm::Ps512] {
        let signer = SigningKey::from_jwk_with_algorithm(&rsa_text, alg).unwrap();
        assert_eq!(signer.algorithm(), alg);
        assert_eq!(signer.public_key(), &rsa_key);
        assert_eq!(signer.thumbprint().to_base64url(), RSA_2048_THUMBPRINT);
        // The export names the algorithm and reads back as the same key.
        let again = SigningKey::from_jwk(&signer.to_jwk()).unwrap();
        assert_eq!(again.algorithm(), alg);
        assert_eq!(again.thumbprint().to_base64url(), RSA_2048_THUMBPRINT);
    }
    for alg in [Algorithm::Es256, Algorithm::EdDsa] {
        assert_eq!(
            SigningKey::from_jwk_with_algorithm(&rsa_text, alg).err(),
            Some(KeyError::WrongAlgorithm),
            "{alg}"
        );
    }
    assert_eq!(
        SigningKey::from_jwk_with_algorithm(&ec_private.to_string(), Algorithm::Es384).err(),
        Some(KeyError::WrongAlgorithm)
    );

    // A private key whose public members do not match its secret is refused.
    let mut mismatched = ec_private.clone();
    mismatched["x"] = ec_public["y"].clone();
    assert!(SigningKey::from_jwk(&mismatched.to_string()).is_err());
}

#[test]
fn rfc8037_ed25519() {
    let example = load("curve25519/jws.json");
    assert_eq!(text(&example, "/signing/protected/alg"), "EdDSA");
    let private = &example["input"]["key"];
    let public = public_part(private);
    let key = PublicKey::from_jwk(&public.to_string()).unwrap();
    check_example(&example, &key);

    // §A.3: the thumbprint.
    assert_eq!(rfc7638(&public), RFC8037_THUMBPRINT);
    assert_eq!(key.thumbprint().to_base64url(), RFC8037_THUMBPRINT);

    // §A.4: Ed25519 is deterministic, so the §A.1 private key re-makes the signature exactly,
    // under the `EdDSA` name (RFC 8037) and the fully-specified `Ed25519` (RFC 9864) alike.
    let input = text(&example, "/signing/sig-input");
    let expected = text(&example, "/signing/sig");
    let eddsa = SigningKey::from_jwk(&with_alg(private, "EdDSA")).unwrap();
    assert_eq!(eddsa.algorithm(), Algorithm::EdDsa);
    assert_eq!(eddsa.public_key(), &key);
    assert_eq!(eddsa.thumbprint().to_base64url(), RFC8037_THUMBPRINT);
    let signature = eddsa.sign(input.as_bytes()).unwrap();
    assert_eq!(
        Base64UrlUnpadded::encode_string(&signature),
        expected,
        "Ed25519 signature [{BACKEND}]"
    );
    let default = SigningKey::from_jwk(&private.to_string()).unwrap();
    assert_eq!(default.algorithm(), Algorithm::Ed25519);
    assert_eq!(
        Base64UrlUnpadded::encode_string(&default.sign(input.as_bytes()).unwrap()),
        expected
    );

    // The two names are distinct JWK algs: a key published as `Ed25519` does not verify an
    // `EdDSA` JWS, one published as `EdDSA` does.
    let compact = text(&example, "/output/compact");
    let ed25519_only = PublicKey::from_jwk(&with_alg(&public, "Ed25519")).unwrap();
    assert_eq!(
        ed25519_only.verify_jws(&compact),
        Err(JoseError::AlgorithmKeyMismatch)
    );
    let eddsa_only = PublicKey::from_jwk(&with_alg(&public, "EdDSA")).unwrap();
    assert_eq!(
        eddsa_only.verify_jws(&compact).as_deref(),
        Ok(text(&example, "/input/payload").as_bytes())
    );
    assert_eq!(
        key.algorithms(),
        [Algorithm::Ed25519, Algorithm::EdDsa].into_iter().collect()
    );
}

#[test]
fn tampering_helper_changes_every_segment() {
    let compact = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.AAAA";
    let copies = tampered(compact);
    assert_eq!(copies.len(), 4);
    for (what, copy) in &copies {
        assert_ne!(copy, compact, "{what}");
        let changed: Vec<bool> = copy
            .split('.')
            .zip(compact.split('.'))
            .map(|(a, b)| a != b)
            .collect();
        assert_eq!(changed.iter().filter(|c| **c).count(), 1, "{what}");
    }
}
