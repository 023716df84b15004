//! With feature `aws-lc`, the aws-lc-rs backend and the pure-Rust `p256` code give identical
//! answers: on generated, tampered and hostile signatures, and (through the other test files,
//! which `.ci/run` runs under both backends) on the Wycheproof and RFC 9449 vectors.

#![cfg(feature = "aws-lc")]

use keybound::{PublicKey, SigningKey, BACKEND};
use p256::ecdsa::signature::Verifier;
use proptest::prelude::*;

fn p256_verdict(key: &PublicKey, message: &[u8], signature: &[u8]) -> bool {
    let mut sec1 = vec![0x04];
    sec1.extend_from_slice(key.x());
    sec1.extend_from_slice(key.y());
    let Ok(verifying) = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1) else {
        return false;
    };
    let Ok(bytes) = <&[u8; 64]>::try_from(signature) else {
        return false;
    };
    let Ok(signature) = p256::ecdsa::Signature::from_slice(bytes) else {
        return false;
    };
    verifying.verify(message, &signature).is_ok()
}

fn key() -> &'static SigningKey {
    use std::sync::OnceLock;
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate().unwrap())
}

#[test]
fn the_aws_lc_backend_is_in_use() {
    assert_eq!(BACKEND, "aws-lc-rs");
}

#[test]
fn signatures_from_either_side_verify_on_the_other() {
    let key = key();
    let message = b"header.payload";
    // aws-lc signs, p256 verifies.
    let signature = key.sign_es256(message);
    assert!(p256_verdict(key.public_key(), message, &signature));
    // p256 signs (a fixed scalar), aws-lc verifies through keybound.
    let raw = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
    let signature: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&raw, message);
    let public = PublicKey::from_jwk(&format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
        b64(&raw.verifying_key().to_sec1_point(false).as_bytes()[1..33]),
        b64(&raw.verifying_key().to_sec1_point(false).as_bytes()[33..65])
    ))
    .unwrap();
    assert!(public.verify_es256(message, &signature.to_bytes()).is_ok());
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn same_verdict_on_tampered_signatures(message in proptest::collection::vec(any::<u8>(), 0..200), flip in 0usize..512, zero_r in any::<bool>()) {
        let key = key();
        let mut signature = key.sign_es256(&message);
        let bit = flip % 512;
        signature[bit / 8] ^= 1 << (bit % 8);
        if zero_r {
            signature[..32].fill(0);
        }
        let ours = key.public_key().verify_es256(&message, &signature).is_ok();
        prop_assert_eq!(ours, p256_verdict(key.public_key(), &message, &signature));
    }

    #[test]
    fn same_verdict_on_arbitrary_signatures(message in proptest::collection::vec(any::<u8>(), 0..64), signature in proptest::collection::vec(any::<u8>(), 64)) {
        let key = key();
        let ours = key.public_key().verify_es256(&message, &signature).is_ok();
        prop_assert_eq!(ours, p256_verdict(key.public_key(), &message, &signature));
    }

    #[test]
    fn same_verdict_on_edge_scalars(message in proptest::collection::vec(any::<u8>(), 0..32), r_fill in prop_oneof![Just(0u8), Just(0xffu8), Just(1u8)], s_fill in prop_oneof![Just(0u8), Just(0xffu8), Just(1u8)]) {
        let key = key();
        let mut signature = [0u8; 64];
        signature[..32].fill(r_fill);
        signature[32..].fill(s_fill);
        let ours = key.public_key().verify_es256(&message, &signature).is_ok();
        prop_assert_eq!(ours, p256_verdict(key.public_key(), &message, &signature));
    }
}

fn b64_coordinate(bytes: &[u8; 32]) -> String {
    b64(bytes)
}

/// Whether `p256` accepts the uncompressed point (x, y).
fn p256_accepts(x: &[u8; 32], y: &[u8; 32]) -> bool {
    let mut sec1 = vec![0x04];
    sec1.extend_from_slice(x);
    sec1.extend_from_slice(y);
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).is_ok()
}

fn keybound_accepts(x: &[u8; 32], y: &[u8; 32]) -> bool {
    PublicKey::from_jwk(&format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
        b64_coordinate(x),
        b64_coordinate(y)
    ))
    .is_ok()
}

#[test]
fn same_keys_accepted_at_the_edges() {
    // The field prime p and values around it, zero, and a valid point's coordinates.
    let p: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff,
    ];
    let valid = key().public_key().clone();
    let mut p_minus_1 = p;
    p_minus_1[31] -= 1;
    let candidates = [[0u8; 32], [0xff; 32], p, p_minus_1, *valid.x(), *valid.y()];
    for x in &candidates {
        for y in &candidates {
            assert_eq!(
                keybound_accepts(x, y),
                p256_accepts(x, y),
                "x={x:?} y={y:?}"
            );
        }
    }
    assert!(keybound_accepts(valid.x(), valid.y()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn same_keys_accepted_for_random_coordinates(x in any::<[u8; 32]>(), y in any::<[u8; 32]>(), use_valid_x in any::<bool>()) {
        let x = if use_valid_x { *key().public_key().x() } else { x };
        prop_assert_eq!(keybound_accepts(&x, &y), p256_accepts(&x, &y));
    }
}
