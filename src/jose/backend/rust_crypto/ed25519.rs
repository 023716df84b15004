//! Ed25519 (RFC 8032) through `ed25519-dalek`, with the strict verification equation: `S < L`,
//! canonical `R`, and small-order `R` and keys refused.

use ed25519_dalek::Signer;

use crate::error::JoseError;

#[derive(Clone)]
pub(crate) struct VerifyKey(ed25519_dalek::VerifyingKey);

impl VerifyKey {
    /// Only canonical encodings of points of large order.
    pub(crate) fn new(public: &[u8; 32]) -> Option<Self> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(public).ok()?;
        super::super::ed25519_point_is_strict(public, &key.to_edwards()).then_some(Self(key))
    }

    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        let bytes: &[u8; 64] = signature
            .try_into()
            .map_err(|_| JoseError::SignatureLength)?;
        let signature = ed25519_dalek::Signature::from_bytes(bytes);
        self.0
            .verify_strict(message, &signature)
            .map_err(|_| JoseError::InvalidSignature)
    }
}

/// Ed25519 signatures are deterministic (RFC 8032 §5.1.6).
pub(crate) fn sign(key: &ed25519_dalek::SigningKey, message: &[u8]) -> Vec<u8> {
    key.sign(message).to_bytes().to_vec()
}
