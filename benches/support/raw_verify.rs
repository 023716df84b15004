//! The raw verification of every algorithm on the compiled-in backend, with the public key
//! taken from a JWK: the floor the per-algorithm benchmarks and instruction counts compare
//! keybound with. Shared by `benches/algorithms.rs` and `examples/algorithm_instruction_counts.rs`.

// Each user takes the part it needs.
#![allow(dead_code)]

use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::Value;

pub fn decode(text: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(text).expect("base64url")
}

/// The raw parts of a compact JWS: the `jwk` header members, signing input and signature.
pub struct Parts {
    pub jwk: Value,
    pub message: Vec<u8>,
    pub signature: Vec<u8>,
}

impl Parts {
    /// The parts of `jws`, verified with the public key `jwk`.
    pub fn of(jws: &str, jwk: Value) -> Self {
        let (input, signature) = jws.rsplit_once('.').expect("compact JWS");
        Self {
            jwk,
            message: input.as_bytes().to_vec(),
            signature: decode(signature),
        }
    }

    /// The parts of a DPoP proof, whose key is its own `jwk` header.
    pub fn of_proof(proof: &str) -> Self {
        let header: Value =
            serde_json::from_slice(&decode(proof.split('.').next().expect("header")))
                .expect("header JSON");
        Self::of(proof, header["jwk"].clone())
    }

    /// The uncompressed SEC1 point `04 ‖ x ‖ y` of an EC `jwk`.
    fn sec1(&self) -> Vec<u8> {
        let mut sec1 = vec![4];
        sec1.extend(self.member("x"));
        sec1.extend(self.member("y"));
        sec1
    }

    fn member(&self, name: &str) -> Vec<u8> {
        decode(self.jwk[name].as_str().expect("JWK member"))
    }
}

#[cfg(not(feature = "aws-lc"))]
pub mod raw {
    //! The RustCrypto operations the default backend wraps.
    use keybound::Algorithm;
    use rsa::sha2::{Sha256, Sha384, Sha512};
    use signature::Verifier;

    use super::Parts;

    pub enum Key {
        P256(p256::ecdsa::VerifyingKey),
        P384(p384::ecdsa::VerifyingKey),
        P521(p521::ecdsa::VerifyingKey),
        Ed25519(ed25519_dalek::VerifyingKey),
        Rsa(rsa::PublicKey),
    }

    pub fn parse(alg: Algorithm, parts: &Parts) -> Key {
        let sec1 = || parts.sec1();
        match alg {
            Algorithm::Es256 => {
                Key::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1()).unwrap())
            }
            Algorithm::Es384 => {
                Key::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1()).unwrap())
            }
            Algorithm::Es512 => {
                Key::P521(p521::ecdsa::VerifyingKey::from_sec1_bytes(&sec1()).unwrap())
            }
            Algorithm::Ed25519 | Algorithm::EdDsa => {
                let x: [u8; 32] = parts.member("x").try_into().unwrap();
                Key::Ed25519(ed25519_dalek::VerifyingKey::from_bytes(&x).unwrap())
            }
            _ => Key::Rsa(
                rsa::PublicKey::new(
                    rsa::BoxedUint::from_be_slice_vartime(&parts.member("n")),
                    rsa::BoxedUint::from_be_slice_vartime(&parts.member("e")),
                )
                .unwrap(),
            ),
        }
    }

    pub fn verify(alg: Algorithm, key: &Key, message: &[u8], signature: &[u8]) -> bool {
        match key {
            Key::P256(k) => k
                .verify(
                    message,
                    &p256::ecdsa::Signature::from_slice(signature).unwrap(),
                )
                .is_ok(),
            Key::P384(k) => k
                .verify(
                    message,
                    &p384::ecdsa::Signature::from_slice(signature).unwrap(),
                )
                .is_ok(),
            Key::P521(k) => k
                .verify(
                    message,
                    &p521::ecdsa::Signature::from_slice(signature).unwrap(),
                )
                .is_ok(),
            Key::Ed25519(k) => {
                let bytes: [u8; 64] = signature.try_into().unwrap();
                k.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&bytes))
                    .is_ok()
            }
            Key::Rsa(k) => match alg {
                Algorithm::Rs256 => k.pkcs1v15_verify::<Sha256>(message, signature),
                Algorithm::Rs384 => k.pkcs1v15_verify::<Sha384>(message, signature),
                Algorithm::Rs512 => k.pkcs1v15_verify::<Sha512>(message, signature),
                Algorithm::Ps256 => k.pss_verify::<Sha256>(message, signature),
                Algorithm::Ps384 => k.pss_verify::<Sha384>(message, signature),
                _ => k.pss_verify::<Sha512>(message, signature),
            }
            .is_ok(),
        }
    }
}

#[cfg(feature = "aws-lc")]
pub mod raw {
    //! The aws-lc-rs operations the `aws-lc` backend wraps.
    use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
    use keybound::Algorithm;

    use super::Parts;

    pub enum Key {
        Parsed(ParsedPublicKey),
        Rsa { n: Vec<u8>, e: Vec<u8> },
    }

    pub fn parse(alg: Algorithm, parts: &Parts) -> Key {
        let sec1 = || parts.sec1();
        match alg {
            Algorithm::Es256 => {
                Key::Parsed(ParsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, sec1()).unwrap())
            }
            Algorithm::Es384 => {
                Key::Parsed(ParsedPublicKey::new(&sig::ECDSA_P384_SHA384_FIXED, sec1()).unwrap())
            }
            Algorithm::Es512 => {
                Key::Parsed(ParsedPublicKey::new(&sig::ECDSA_P521_SHA512_FIXED, sec1()).unwrap())
            }
            Algorithm::Ed25519 | Algorithm::EdDsa => {
                Key::Parsed(ParsedPublicKey::new(&sig::ED25519, parts.member("x")).unwrap())
            }
            _ => Key::Rsa {
                n: parts.member("n"),
                e: parts.member("e"),
            },
        }
    }

    pub fn verify(alg: Algorithm, key: &Key, message: &[u8], signature: &[u8]) -> bool {
        match key {
            Key::Parsed(k) => k.verify_sig(message, signature).is_ok(),
            Key::Rsa { n, e } => {
                let params = match alg {
                    Algorithm::Rs256 => &sig::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::Rs384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::Rs512 => &sig::RSA_PKCS1_2048_8192_SHA512,
                    Algorithm::Ps256 => &sig::RSA_PSS_2048_8192_SHA256,
                    Algorithm::Ps384 => &sig::RSA_PSS_2048_8192_SHA384,
                    _ => &sig::RSA_PSS_2048_8192_SHA512,
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, message, signature)
                    .is_ok()
            }
        }
    }
}
