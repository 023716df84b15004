//! The default, pure-Rust backend (RustCrypto).

pub(super) mod ecdsa;
pub(super) mod ed25519;
pub(super) mod key_tables;
pub(super) mod rsa;

use crate::jose::algorithm::Algorithm;
use crate::jose::secret::Secret;

pub(super) const NAME: &str = "rust-crypto";

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
