//! The default, pure-Rust backend (RustCrypto).

mod ecdsa;
mod ed25519;
mod rsa;

use crate::error::JoseError;
use crate::jose::algorithm::Algorithm;
use crate::jose::key_type::EcCurve;
use crate::jose::secret::Secret;

pub(super) const NAME: &str = "rust-crypto";

#[derive(Clone)]
pub(super) enum VerifyKey {
    Ec(ecdsa::VerifyKey),
    Ed25519(ed25519::VerifyKey),
    Rsa(rsa::VerifyKey),
}

impl VerifyKey {
    pub(super) fn ec(curve: EcCurve, sec1: &[u8]) -> Option<Self> {
        ecdsa::VerifyKey::new(curve, sec1).map(Self::Ec)
    }

    pub(super) fn ed25519(public: &[u8; 32]) -> Option<Self> {
        ed25519::VerifyKey::new(public).map(Self::Ed25519)
    }

    pub(super) fn rsa(n: &[u8], e: &[u8]) -> Option<Self> {
        rsa::VerifyKey::new(n, e).map(Self::Rsa)
    }

    pub(super) fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), JoseError> {
        match self {
            Self::Ec(key) => key.verify(message, signature),
            Self::Ed25519(key) => key.verify(message, signature),
            Self::Rsa(key) => key.verify(alg, message, signature),
        }
    }
}

/// Signing uses the RustCrypto key held in [`Secret`] itself.
pub(super) struct SignKey;

impl SignKey {
    pub(super) fn new(_secret: &Secret) -> Option<Self> {
        Some(Self)
    }

    pub(super) fn sign(&self, secret: &Secret, alg: Algorithm, message: &[u8]) -> Option<Vec<u8>> {
        match secret {
            Secret::P256(_) | Secret::P384(_) | Secret::P521(_) => ecdsa::sign(secret, message),
            Secret::Ed25519(key) => Some(ed25519::sign(key, message)),
            Secret::Rsa(key) => rsa::sign(key, alg, message),
        }
    }
}
