//! With feature `aws-lc`, keybound's aws-lc-rs backend and independent RustCrypto code
//! (`p256`, `p384`, `p521`, `ed25519-dalek`, `rsa`) give the same answers, for every algorithm:
//! signatures keybound makes verify with RustCrypto, signatures RustCrypto makes verify through
//! keybound (raw and as compact JWS), deterministic algorithms (RS*, Ed25519) give identical
//! bytes, and tampered, arbitrary and edge-value signatures are refused by both alike.
//!
//! The vector suites run under this backend too (CI: `cargo test --features aws-lc --test
//! wycheproof --test jose_cookbook --test backend_differential`), with the same expectations
//! as under the default backend.

#![cfg(feature = "aws-lc")]

use std::sync::OnceLock;

use base64ct::{Base64UrlUnpadded, Encoding};
use keybound::{
    Algorithm, AlgorithmSet, EcCurve, JoseError, KeyType, PublicKey, SigningKey, BACKEND,
};
use proptest::prelude::*;
use rsa::sha2::{Sha256, Sha384, Sha512};
use rsa::traits::PublicKeyParts;
use rsa::BoxedUint;
use serde_json::Value;
use signature::{Signer, Verifier};

// ---------------------------------------------------------------------------------------------
// The independent side: RustCrypto, never through keybound
// ---------------------------------------------------------------------------------------------

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(text).expect("base64url")
}

/// A member of `key`'s public JWK, decoded.
fn public_member(key: &PublicKey, name: &str) -> Vec<u8> {
    let jwk: Value = serde_json::from_str(&key.to_jwk()).unwrap();
    unb64(jwk[name].as_str().expect("a string member"))
}

fn sec1(key: &PublicKey) -> Vec<u8> {
    let (x, y) = key.ec_coordinates().expect("an EC key");
    [&[0x04][..], x, y].concat()
}

fn rsa_public(key: &PublicKey) -> rsa::PublicKey {
    let n = BoxedUint::from_be_slice_vartime(&public_member(key, "n"));
    let e = BoxedUint::from_be_slice_vartime(&public_member(key, "e"));
    rsa::PublicKey::new(n, e).expect("RustCrypto reads the key")
}

/// RustCrypto's verdict on `signature` over `message` by `key` with `alg`.
fn rustcrypto_verdict(key: &PublicKey, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
    match alg {
        Algorithm::Es256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1(key))
            .ok()
            .zip(p256::ecdsa::Signature::from_slice(signature).ok())
            .is_some_and(|(k, s)| k.verify(message, &s).is_ok()),
        Algorithm::Es384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1(key))
            .ok()
            .zip(p384::ecdsa::Signature::from_slice(signature).ok())
            .is_some_and(|(k, s)| k.verify(message, &s).is_ok()),
        Algorithm::Es512 => p521::ecdsa::VerifyingKey::from_sec1_bytes(&sec1(key))
            .ok()
            .zip(p521::ecdsa::Signature::from_slice(signature).ok())
            .is_some_and(|(k, s)| k.verify(message, &s).is_ok()),
        Algorithm::Ed25519 | Algorithm::EdDsa => {
            let public: [u8; 32] = public_member(key, "x").try_into().unwrap();
            let Ok(signature) = <[u8; 64]>::try_from(signature) else {
                return false;
            };
            ed25519_dalek::VerifyingKey::from_bytes(&public).is_ok_and(|k| {
                k.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature))
                    .is_ok()
            })
        }
        Algorithm::Rs256 => rsa_public(key)
            .pkcs1v15_verify::<Sha256>(message, signature)
            .is_ok(),
        Algorithm::Rs384 => rsa_public(key)
            .pkcs1v15_verify::<Sha384>(message, signature)
            .is_ok(),
        Algorithm::Rs512 => rsa_public(key)
            .pkcs1v15_verify::<Sha512>(message, signature)
            .is_ok(),
        Algorithm::Ps256 => rsa_public(key)
            .pss_verify::<Sha256>(message, signature)
            .is_ok(),
        Algorithm::Ps384 => rsa_public(key)
            .pss_verify::<Sha384>(message, signature)
            .is_ok(),
        Algorithm::Ps512 => rsa_public(key)
            .pss_verify::<Sha512>(message, signature)
            .is_ok(),
        other => panic!("no RustCrypto verifier for {other}"),
    }
}

/// The RFC 7520 §3.4 RSA key as RustCrypto's private key, read from the JWK by the test.
fn rfc7520_rsa() -> &'static (rsa::PrivateKey, String) {
    static KEY: OnceLock<(rsa::PrivateKey, String)> = OnceLock::new();
    KEY.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/jose-cookbook/jwk/3_4.rsa_private_key.json"
        );
        let text = std::fs::read_to_string(path).expect("RFC 7520 §3.4 key");
        let jwk: Value = serde_json::from_str(&text).unwrap();
        let int =
            |name: &str| BoxedUint::from_be_slice_vartime(&unb64(jwk[name].as_str().unwrap()));
        let key = rsa::PrivateKey::from_components(
            int("n"),
            int("e"),
            int("d"),
            vec![int("p"), int("q")],
        )
        .expect("RustCrypto reads the key");
        (key, text)
    })
}

/// An independent signer for `alg`: RustCrypto with a fixed key. Returns the public key as a
/// JWK written by the test, and the signature of `message`.
fn rustcrypto_sign(alg: Algorithm, message: &[u8]) -> (String, Vec<u8>) {
    let ec_jwk = |crv: &str, point: &[u8]| {
        let len = (point.len() - 1) / 2;
        format!(
            r#"{{"kty":"EC","crv":"{crv}","x":"{}","y":"{}"}}"#,
            b64(&point[1..=len]),
            b64(&point[1 + len..])
        )
    };
    match alg {
        Algorithm::Es256 => {
            let key = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
            let signature: p256::ecdsa::Signature = key.sign(message);
            let point = key.verifying_key().to_sec1_point(false);
            (
                ec_jwk("P-256", point.as_bytes()),
                signature.to_bytes().to_vec(),
            )
        }
        Algorithm::Es384 => {
            let key = p384::ecdsa::SigningKey::from_slice(&[0x42; 48]).unwrap();
            let signature: p384::ecdsa::Signature = key.sign(message);
            let point = key.verifying_key().to_sec1_point(false);
            (
                ec_jwk("P-384", point.as_bytes()),
                signature.to_bytes().to_vec(),
            )
        }
        Algorithm::Es512 => {
            let mut scalar = [0x42; 66];
            scalar[0] = 0x01;
            let key = p521::ecdsa::SigningKey::from_slice(&scalar).unwrap();
            let signature: p521::ecdsa::Signature = key.sign(message);
            let point = key.verifying_key().to_sec1_point(false);
            (
                ec_jwk("P-521", point.as_bytes()),
                signature.to_bytes().to_vec(),
            )
        }
        Algorithm::Ed25519 | Algorithm::EdDsa => {
            let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
            let jwk = format!(
                r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
                b64(key.verifying_key().as_bytes())
            );
            (jwk, key.sign(message).to_bytes().to_vec())
        }
        _ => {
            let (key, _) = rfc7520_rsa();
            let public = key.to_public_key();
            let jwk = format!(
                r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#,
                b64(&public.n().to_be_bytes_trimmed_vartime()),
                b64(&public.e().to_be_bytes_trimmed_vartime())
            );
            let rng = &mut getrandom::SysRng;
            let signature = match alg {
                Algorithm::Rs256 => key.pkcs1v15_sign_with_rng::<Sha256, _>(rng, message),
                Algorithm::Rs384 => key.pkcs1v15_sign_with_rng::<Sha384, _>(rng, message),
                Algorithm::Rs512 => key.pkcs1v15_sign_with_rng::<Sha512, _>(rng, message),
                Algorithm::Ps256 => key.pss_sign_with_rng::<Sha256, _>(rng, message),
                Algorithm::Ps384 => key.pss_sign_with_rng::<Sha384, _>(rng, message),
                Algorithm::Ps512 => key.pss_sign_with_rng::<Sha512, _>(rng, message),
                other => panic!("no RustCrypto signer for {other}"),
            };
            (jwk, signature.expect("RustCrypto signs"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The keybound side: keys made by keybound, signing through aws-lc-rs
// ---------------------------------------------------------------------------------------------

/// One keybound key per algorithm, in `Algorithm::ALL` order. The RSA algorithms share one
/// generated 2048-bit key, re-read for each algorithm.
fn keys() -> &'static [SigningKey] {
    static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let rsa = SigningKey::generate_rsa(Algorithm::Rs256, 2048).unwrap();
        let mut rsa_jwk: Value = serde_json::from_str(&rsa.to_jwk()).unwrap();
        rsa_jwk.as_object_mut().unwrap().remove("alg");
        let rsa_jwk = rsa_jwk.to_string();
        Algorithm::ALL
            .into_iter()
            .map(|alg| {
                if alg.is_rsa() {
                    SigningKey::from_jwk_with_algorithm(&rsa_jwk, alg).unwrap()
                } else {
                    SigningKey::generate_for(alg).unwrap()
                }
            })
            .collect()
    })
}

fn key_for(alg: Algorithm) -> &'static SigningKey {
    let key = &keys()[Algorithm::ALL.iter().position(|a| *a == alg).unwrap()];
    assert_eq!(key.algorithm(), alg);
    key
}

fn keybound_verdict(key: &PublicKey, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
    let verdict = key.verify(alg, AlgorithmSet::all(), message, signature);
    // A refusal is opaque, or (for a signature of the wrong size) its length.
    assert!(
        matches!(
            verdict,
            Ok(()) | Err(JoseError::InvalidSignature | JoseError::SignatureLength)
        ),
        "{alg}: {verdict:?}"
    );
    verdict.is_ok()
}

/// A compact JWS over `payload` with header `{"alg":…}` and `signature` made by `sign`.
fn compact(alg: Algorithm, payload: &[u8], sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        b64(format!(r#"{{"alg":"{alg}"}}"#).as_bytes()),
        b64(payload)
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

const MESSAGES: [&[u8]; 4] = [b"", b"header.payload", b"\x00", &[0xa5; 1000]];

// ---------------------------------------------------------------------------------------------
// Both directions, every algorithm
// ---------------------------------------------------------------------------------------------

#[test]
fn the_aws_lc_backend_is_in_use() {
    assert_eq!(BACKEND, "aws-lc-rs");
}

#[test]
fn keybound_signatures_verify_with_rustcrypto() {
    for alg in Algorithm::ALL {
        let key = key_for(alg);
        let public = key.public_key();
        for message in MESSAGES {
            let signature = key.sign(message).unwrap();
            assert_eq!(signature.len(), signature_len(public.key_type()));
            assert!(
                rustcrypto_verdict(public, alg, message, &signature),
                "{alg}"
            );
            assert!(keybound_verdict(public, alg, message, &signature), "{alg}");
            // Another message, a flipped bit: refused by both.
            let other = [message, b"!"].concat();
            assert!(
                !rustcrypto_verdict(public, alg, &other, &signature),
                "{alg}"
            );
            assert!(!keybound_verdict(public, alg, &other, &signature), "{alg}");
            let mut bad = signature.clone();
            bad[signature.len() / 2] ^= 0x10;
            assert!(!rustcrypto_verdict(public, alg, message, &bad), "{alg}");
            assert!(!keybound_verdict(public, alg, message, &bad), "{alg}");
        }
        // The compact JWS made by keybound's key verifies through keybound.
        let jws = compact(alg, b"{}", |input| key.sign(input).unwrap());
        assert_eq!(public.verify_jws(&jws).as_deref(), Ok(&b"{}"[..]), "{alg}");
    }
}

#[test]
fn rsa_paddings_and_hashes_are_not_confused() {
    let message = b"header.payload";
    for alg in Algorithm::ALL.into_iter().filter(|a| a.is_rsa()) {
        let key = key_for(alg);
        let signature = key.sign(message).unwrap();
        for other in Algorithm::ALL
            .into_iter()
            .filter(|a| a.is_rsa() && *a != alg)
        {
            // The same modulus, another RSA algorithm: neither side accepts.
            assert!(!rustcrypto_verdict(
                key.public_key(),
                other,
                message,
                &signature
            ));
            let unrestricted = PublicKey::from_jwk(&key.public_key().to_jwk()).unwrap();
            assert!(
                !keybound_verdict(&unrestricted, other, message, &signature),
                "{alg} as {other}"
            );
        }
    }
}

#[test]
fn rustcrypto_signatures_verify_through_keybound() {
    for alg in Algorithm::ALL {
        for message in MESSAGES {
            let (jwk, signature) = rustcrypto_sign(alg, message);
            let public = PublicKey::from_jwk(&jwk).unwrap();
            assert!(keybound_verdict(&public, alg, message, &signature), "{alg}");
            let mut bad = signature.clone();
            *bad.last_mut().unwrap() ^= 0x01;
            assert!(!keybound_verdict(&public, alg, message, &bad), "{alg}");
            assert!(!rustcrypto_verdict(&public, alg, message, &bad), "{alg}");
        }
        // As a compact JWS, whose signing input RustCrypto signed.
        let mut jwk = String::new();
        let jws = compact(alg, b"{\"sub\":\"x\"}", |input| {
            let (key, signature) = rustcrypto_sign(alg, input);
            jwk = key;
            signature
        });
        let public = PublicKey::from_jwk(&jwk).unwrap();
        assert_eq!(
            public.verify_jws(&jws).as_deref(),
            Ok(&b"{\"sub\":\"x\"}"[..]),
            "{alg}"
        );
    }
}

#[test]
fn deterministic_algorithms_give_identical_bytes() {
    let message = b"eyJhbGciOiJSUzI1NiJ9.e30";
    // RSASSA-PKCS1-v1_5: aws-lc (through keybound) and RustCrypto, the same RFC 7520 key.
    let (rust_key, jwk) = rfc7520_rsa();
    for alg in [Algorithm::Rs256, Algorithm::Rs384, Algorithm::Rs512] {
        let ours = SigningKey::from_jwk_with_algorithm(jwk, alg)
            .unwrap()
            .sign(message)
            .unwrap();
        let rng = &mut getrandom::SysRng;
        let theirs = match alg {
            Algorithm::Rs256 => rust_key.pkcs1v15_sign_with_rng::<Sha256, _>(rng, message),
            Algorithm::Rs384 => rust_key.pkcs1v15_sign_with_rng::<Sha384, _>(rng, message),
            _ => rust_key.pkcs1v15_sign_with_rng::<Sha512, _>(rng, message),
        }
        .unwrap();
        assert_eq!(ours, theirs, "{alg}");
    }
    // Ed25519: the same seed.
    let dalek = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let jwk = format!(
        r#"{{"kty":"OKP","crv":"Ed25519","x":"{}","d":"{}"}}"#,
        b64(dalek.verifying_key().as_bytes()),
        b64(&[7; 32])
    );
    let ours = SigningKey::from_jwk(&jwk).unwrap();
    assert_eq!(ours.algorithm(), Algorithm::Ed25519);
    for message in MESSAGES {
        assert_eq!(
            ours.sign(message).unwrap(),
            dalek.sign(message).to_bytes().to_vec()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile signatures: the same verdict on both sides
// ---------------------------------------------------------------------------------------------

/// The group order of the curve of `alg`, big-endian (SEC 2 §2.4.2, §2.5.1, §2.6.1).
fn ec_order(alg: Algorithm) -> Vec<u8> {
    let hex = match alg {
        Algorithm::Es256 => "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
        Algorithm::Es384 => {
            "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf\
             581a0db248b0a77aecec196accc52973"
        }
        _ => {
            "01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa\
             51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409"
        }
    };
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// `value` (big-endian) minus one; `value` must not be zero.
fn minus_one(value: &[u8]) -> Vec<u8> {
    let mut out = value.to_vec();
    for byte in out.iter_mut().rev() {
        let (next, borrow) = byte.overflowing_sub(1);
        *byte = next;
        if !borrow {
            break;
        }
    }
    out
}

#[test]
fn ecdsa_edge_scalars_get_the_same_verdict() {
    for alg in [Algorithm::Es256, Algorithm::Es384, Algorithm::Es512] {
        let key = key_for(alg);
        let len = ec_order(alg).len();
        let one = [vec![0; len - 1], vec![1]].concat();
        let n = ec_order(alg);
        let values = [vec![0; len], one, minus_one(&n), n.clone(), vec![0xff; len]];
        let message = b"header.payload";
        let good = key.sign(message).unwrap();
        let (r, s) = good.split_at(len);
        for a in &values {
            for b in &values {
                for signature in [[&a[..], b].concat(), [r, b].concat(), [a, s].concat()] {
                    let ours = keybound_verdict(key.public_key(), alg, message, &signature);
                    let theirs = rustcrypto_verdict(key.public_key(), alg, message, &signature);
                    assert_eq!(ours, theirs, "{alg}");
                    assert!(!ours, "{alg}: an edge value verified");
                }
            }
        }
        // High `s` (n - s) is as valid as `s` for ECDSA; both sides agree either way.
        let high_s = {
            let mut out = n.clone();
            let mut borrow = 0i16;
            for i in (0..len).rev() {
                let v = i16::from(out[i]) - i16::from(s[i]) - borrow;
                borrow = i16::from(v < 0);
                out[i] = u8::try_from(v.rem_euclid(256)).unwrap();
            }
            [r, &out[..]].concat()
        };
        assert_eq!(
            keybound_verdict(key.public_key(), alg, message, &high_s),
            rustcrypto_verdict(key.public_key(), alg, message, &high_s),
            "{alg} high s"
        );
    }
}

/// The Ed25519 group order L, little-endian (RFC 8032 §5.1).
const ED25519_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

#[test]
fn ed25519_malleability_and_small_order_r_get_the_same_verdict() {
    for alg in [Algorithm::Ed25519, Algorithm::EdDsa] {
        let key = key_for(alg);
        let public = key.public_key();
        let message = b"header.payload";
        let good = key.sign(message).unwrap();
        // S + L: the same point equation, a non-canonical scalar (RFC 8032 §5.1.7 refuses it).
        let mut malleated = good.clone();
        let mut carry = 0u16;
        for (byte, l) in malleated[32..].iter_mut().zip(ED25519_L) {
            let sum = u16::from(*byte) + u16::from(l) + carry;
            *byte = (sum & 0xff) as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0);
        // Small-order R: the identity (y = 1) and the point of order 2 (y = -1).
        let identity = [&[1u8][..], &[0; 31], &good[32..]].concat();
        let mut minus_one = [0xffu8; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        let order_two = [&minus_one[..], &good[32..]].concat();
        for (what, signature) in [
            ("S + L", malleated),
            ("R = identity", identity),
            ("R of order 2", order_two),
            ("all zero", vec![0; 64]),
            ("all 0xff", vec![0xff; 64]),
        ] {
            let ours = keybound_verdict(public, alg, message, &signature);
            let theirs = rustcrypto_verdict(public, alg, message, &signature);
            assert_eq!(ours, theirs, "{alg}: {what}");
            assert!(!ours, "{alg}: {what} verified");
        }
        assert!(keybound_verdict(public, alg, message, &good));
    }
}

#[test]
fn rsa_edge_signatures_get_the_same_verdict() {
    let message = b"header.payload";
    for alg in Algorithm::ALL.into_iter().filter(|a| a.is_rsa()) {
        let key = key_for(alg);
        let public = key.public_key();
        let n = public_member(public, "n");
        let len = n.len();
        let one = [vec![0; len - 1], vec![1]].concat();
        let good = key.sign(message).unwrap();
        for (what, signature) in [
            ("0", vec![0; len]),
            ("1", one),
            ("n - 1", minus_one(&n)),
            ("n", n.clone()),
            ("all 0xff", vec![0xff; len]),
            ("one byte short", good[1..].to_vec()),
            ("one zero byte prepended", [&[0][..], &good].concat()),
        ] {
            let ours = keybound_verdict(public, alg, message, &signature);
            let theirs = rustcrypto_verdict(public, alg, message, &signature);
            assert_eq!(ours, theirs, "{alg}: {what}");
            assert!(!ours, "{alg}: {what} verified");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// For every algorithm: keybound signs (aws-lc), a bit may be flipped, and both sides
    /// give the same verdict — true exactly when nothing was flipped.
    #[test]
    fn same_verdict_on_tampered_signatures(
        alg_index in 0..Algorithm::ALL.len(),
        message in proptest::collection::vec(any::<u8>(), 0..200),
        flip in proptest::option::of(any::<usize>()),
    ) {
        let alg = Algorithm::ALL[alg_index];
        let key = key_for(alg);
        let mut signature = key.sign(&message).unwrap();
        if let Some(bit) = flip {
            let bit = bit % (signature.len() * 8);
            signature[bit / 8] ^= 1 << (bit % 8);
        }
        let ours = keybound_verdict(key.public_key(), alg, &message, &signature);
        prop_assert_eq!(ours, rustcrypto_verdict(key.public_key(), alg, &message, &signature));
        prop_assert_eq!(ours, flip.is_none());
    }

    /// Arbitrary bytes of the right length verify on neither side.
    #[test]
    fn same_verdict_on_arbitrary_signatures(
        alg_index in 0..Algorithm::ALL.len(),
        message in proptest::collection::vec(any::<u8>(), 0..64),
        seed in any::<u64>(),
    ) {
        let alg = Algorithm::ALL[alg_index];
        let key = key_for(alg);
        let len = signature_len(key.public_key().key_type());
        let mut state = seed;
        let signature: Vec<u8> = (0..len)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 56) as u8
            })
            .collect();
        let ours = keybound_verdict(key.public_key(), alg, &message, &signature);
        prop_assert_eq!(ours, rustcrypto_verdict(key.public_key(), alg, &message, &signature));
        prop_assert!(!ours);
    }
}

// ---------------------------------------------------------------------------------------------
// Keys: the same points accepted on both sides
// ---------------------------------------------------------------------------------------------

/// Whether RustCrypto accepts the uncompressed point (x, y) on `curve`.
fn rustcrypto_accepts(curve: EcCurve, x: &[u8], y: &[u8]) -> bool {
    let sec1 = [&[0x04][..], x, y].concat();
    match curve {
        EcCurve::P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).is_ok(),
        EcCurve::P384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).is_ok(),
        _ => p521::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).is_ok(),
    }
}

fn keybound_accepts(curve: EcCurve, x: &[u8], y: &[u8]) -> bool {
    PublicKey::from_jwk(&format!(
        r#"{{"kty":"EC","crv":"{}","x":"{}","y":"{}"}}"#,
        curve.as_str(),
        b64(x),
        b64(y)
    ))
    .is_ok()
}

/// The field prime of `curve`, big-endian.
fn field_prime(curve: EcCurve) -> Vec<u8> {
    match curve {
        EcCurve::P256 => [
            &[0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01][..],
            &[0; 12],
            &[0xff; 12],
        ]
        .concat(),
        EcCurve::P384 => [&[0xff; 31][..], &[0xfe], &[0xff; 4], &[0; 8], &[0xff; 4]].concat(),
        _ => [&[0x01][..], &[0xff; 65]].concat(),
    }
}

fn ec_key(curve: EcCurve) -> &'static PublicKey {
    let alg = match curve {
        EcCurve::P256 => Algorithm::Es256,
        EcCurve::P384 => Algorithm::Es384,
        _ => Algorithm::Es512,
    };
    key_for(alg).public_key()
}

#[test]
fn same_keys_accepted_at_the_edges() {
    for curve in [EcCurve::P256, EcCurve::P384, EcCurve::P521] {
        let len = curve.coordinate_len();
        let p = field_prime(curve);
        let valid = ec_key(curve);
        assert_eq!(valid.key_type(), KeyType::Ec(curve));
        let (vx, vy) = valid.ec_coordinates().unwrap();
        // Zero, all ones, p, p - 1, and a valid point's coordinates.
        let candidates = [
            vec![0u8; len],
            vec![0xff; len],
            p.clone(),
            minus_one(&p),
            vx.to_vec(),
            vy.to_vec(),
        ];
        for x in &candidates {
            for y in &candidates {
                assert_eq!(
                    keybound_accepts(curve, x, y),
                    rustcrypto_accepts(curve, x, y),
                    "{curve:?} x={x:02x?} y={y:02x?}"
                );
            }
        }
        assert!(keybound_accepts(curve, vx, vy));
        // An unreduced coordinate (x = p) is refused.
        assert!(!keybound_accepts(curve, &p, vy));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn same_keys_accepted_for_random_coordinates(
        curve_index in 0..3usize,
        x in proptest::collection::vec(any::<u8>(), 66),
        y in proptest::collection::vec(any::<u8>(), 66),
        use_valid_x in any::<bool>(),
    ) {
        let curve = [EcCurve::P256, EcCurve::P384, EcCurve::P521][curve_index];
        let len = curve.coordinate_len();
        let valid = ec_key(curve);
        let x = if use_valid_x { valid.ec_coordinates().unwrap().0 } else { &x[..len] };
        let y = &y[..len];
        prop_assert_eq!(keybound_accepts(curve, x, y), rustcrypto_accepts(curve, x, y));
    }
}

/// The exact signature length of a key type (RFC 7518 §3.3, §3.4; RFC 8032 §5.1.6), written
/// out here rather than taken from keybound.
fn signature_len(key_type: KeyType) -> usize {
    match key_type {
        KeyType::Ec(curve) => 2 * curve.coordinate_len(),
        KeyType::Ed25519 => 64,
        KeyType::Rsa { modulus_bits } => modulus_bits.div_ceil(8),
        other => panic!("{other:?}"),
    }
}
