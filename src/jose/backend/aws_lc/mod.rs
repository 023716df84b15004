//! The `aws-lc` backend: every signature and verification through `aws-lc-rs`.

mod ecdsa;
mod ed25519;
mod rsa;

use crate::error::JoseError;
use crate::jose::algorithm::Algorithm;
use crate::jose::key_type::EcCurve;
use crate::jose::secret::Secret;

pub(super) const NAME: &str = "aws-lc-rs";

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

pub(super) enum SignKey {
    Ec(ecdsa::SignKey),
    Ed25519(ed25519::SignKey),
    Rsa(rsa::SignKey),
}

impl SignKey {
    pub(super) fn new(secret: &Secret) -> Option<Self> {
        match secret {
            Secret::P256(_) | Secret::P384(_) | Secret::P521(_) => {
                ecdsa::SignKey::new(secret).map(Self::Ec)
            }
            Secret::Ed25519(key) => ed25519::SignKey::new(key).map(Self::Ed25519),
            Secret::Rsa(key) => rsa::SignKey::new(key).map(Self::Rsa),
        }
    }

    pub(super) fn sign(&self, _secret: &Secret, alg: Algorithm, message: &[u8]) -> Option<Vec<u8>> {
        match self {
            Self::Ec(key) => key.sign(message),
            Self::Ed25519(key) => Some(key.sign(message)),
            Self::Rsa(key) => key.sign(alg, message),
        }
    }
}
