//! The `aws-lc` backend: every signature and verification through `aws-lc-rs`.

pub(super) mod ecdsa;
pub(super) mod ed25519;
pub(super) mod key_tables;
pub(super) mod rsa;

use crate::jose::algorithm::Algorithm;
use crate::jose::secret::Secret;

pub(super) const NAME: &str = "aws-lc-rs";

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
