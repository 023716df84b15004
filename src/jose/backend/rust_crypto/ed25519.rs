//! Ed25519 (RFC 8032) through `ed25519-dalek`, with the strict verification equation: `S < L`
//! and a canonical `R` (checked by `ed25519-dalek`), small-order `R` (checked by the seam, as
//! for the other backend) and small-order keys (refused when the key is read) refused — the
//! same answers as `verify_strict`, without checking the key's order on every signature.

use ed25519_dalek::{Signer, Verifier};

use crate::error::JoseError;

#[derive(Clone)]
pub(crate) struct VerifyKey(ed25519_dalek::VerifyingKey);

impl VerifyKey {
    /// Only canonical encodings of points of large order.
    pub(crate) fn new(public: &[u8; 32]) -> Option<Self> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(public).ok()?;
        super::super::ed25519_point_is_strict(public).then_some(Self(key))
    }

    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        let bytes: &[u8; 64] = signature
            .try_into()
            .map_err(|_| JoseError::SignatureLength)?;
        if !super::super::ed25519_r_is_strict(bytes) {
            return Err(JoseError::InvalidSignature);
        }
        let signature = ed25519_dalek::Signature::from_bytes(bytes);
        self.0
            .verify(message, &signature)
            .map_err(|_| JoseError::InvalidSignature)
    }
}

/// Ed25519 signatures are deterministic (RFC 8032 §5.1.6).
pub(crate) fn sign(key: &ed25519_dalek::SigningKey, message: &[u8]) -> Vec<u8> {
    key.sign(message).to_bytes().to_vec()
}
