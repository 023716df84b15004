//! Ed25519 (RFC 8032) through `aws-lc-rs`. aws-lc checks `S < L` and compares `R` as bytes;
//! the small-order `R` refusal that `ed25519-dalek`'s strict mode adds is made here with
//! `curve25519-dalek`, so both backends give the same answer on every signature.

use aws_lc_rs::signature::{Ed25519KeyPair, ParsedPublicKey, ED25519};

use crate::error::JoseError;

#[derive(Clone)]
pub(crate) struct VerifyKey(ParsedPublicKey);

impl VerifyKey {
    /// Only canonical encodings of points of large order (checked with `curve25519-dalek`,
    /// as the default backend does).
    pub(crate) fn new(public: &[u8; 32]) -> Option<Self> {
        // aws-lc only decompresses the key when it verifies; decompress here so that a key
        // off the curve is refused when it is read, as with the default backend.
        curve25519_dalek::edwards::CompressedEdwardsY(*public).decompress()?;
        if !super::super::ed25519_point_is_strict(public) {
            return None;
        }
        ParsedPublicKey::new(&ED25519, public).ok().map(Self)
    }

    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        if !super::super::ed25519_r_is_strict(signature) {
            return Err(JoseError::InvalidSignature);
        }
        self.0
            .verify_sig(message, signature)
            .map_err(|_| JoseError::InvalidSignature)
    }
}

pub(crate) struct SignKey(Ed25519KeyPair);

impl SignKey {
    pub(crate) fn new(key: &ed25519_dalek::SigningKey) -> Option<Self> {
        let public = key.verifying_key().to_bytes();
        Ed25519KeyPair::from_seed_and_public_key(key.as_bytes(), &public)
            .ok()
            .map(Self)
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.0.sign(message).as_ref().to_vec()
    }
}
