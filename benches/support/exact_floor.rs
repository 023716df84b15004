//! The floor for a verification benchmark: one raw verification of the *same* key, message and
//! signature that keybound verifies. ECDSA verification time depends on the scalars involved,
//! so a floor over another key or signature differs from keybound's own verification by a few
//! per cent from one process to the next — enough to blur a 1.10 target. Shared by the
//! benchmarks.

// Each benchmark uses the part it needs.
#![allow(dead_code)]

use base64ct::{Base64UrlUnpadded, Encoding};
use p256::ecdsa::{Signature, VerifyingKey};

/// What a compact JWS signed by `key` asks a verifier to check, in raw form.
pub struct SignedParts {
    /// The public key as an uncompressed SEC1 point (`04 ‖ x ‖ y`).
    pub sec1: Vec<u8>,
    /// The signing input, `header.payload`.
    pub message: Vec<u8>,
    /// The 64-byte `r ‖ s` signature.
    pub signature: Vec<u8>,
}

impl SignedParts {
    pub fn new(key: &keybound::PublicKey, jws: &str) -> Self {
        let jwk: serde_json::Value = serde_json::from_str(&key.to_jwk()).expect("public JWK");
        let coordinate = |name: &str| {
            Base64UrlUnpadded::decode_vec(jwk[name].as_str().expect("coordinate"))
                .expect("base64url coordinate")
        };
        let mut sec1 = vec![0x04];
        sec1.extend(coordinate("x"));
        sec1.extend(coordinate("y"));
        let (message, signature) = jws.rsplit_once('.').expect("compact JWS");
        Self {
            sec1,
            message: message.as_bytes().to_vec(),
            signature: Base64UrlUnpadded::decode_vec(signature).expect("base64url signature"),
        }
    }

    /// The same key and signature for `p256`.
    pub fn p256(&self) -> (VerifyingKey, Signature) {
        (
            VerifyingKey::from_sec1_bytes(&self.sec1).expect("P-256 point"),
            Signature::from_slice(&self.signature).expect("64-byte signature"),
        )
    }
}
