//! The signing seam: anything that can make ES256 signatures with a P-256 key.

use crate::error::Error;
use crate::jose::public_key::PublicKey;
use crate::jose::signing_key::SigningKey;

/// A P-256 key that signs with ES256 — in memory ([`SigningKey`]) or somewhere the private key
/// cannot leave: an HSM, a cloud KMS, an OS keystore, a security key.
///
/// Implement it to sign DPoP proofs with such a key ([`ProofSigner::new`](crate::ProofSigner::new)
/// takes any `Es256Signer`).
pub trait Es256Signer: Send + Sync {
    /// The public half, embedded in every proof's `jwk` header.
    fn public_key(&self) -> &PublicKey;

    /// Signs `message` with ECDSA P-256 / SHA-256 and returns the 64-byte `r ‖ s` signature
    /// (RFC 7518 §3.4). Return [`Error::Signer`] if the device fails.
    fn try_sign_es256(&self, message: &[u8]) -> Result<[u8; 64], Error>;
}

impl Es256Signer for SigningKey {
    fn public_key(&self) -> &PublicKey {
        SigningKey::public_key(self)
    }

    fn try_sign_es256(&self, message: &[u8]) -> Result<[u8; 64], Error> {
        Ok(self.sign_es256(message))
    }
}

impl<T: Es256Signer + ?Sized> Es256Signer for std::sync::Arc<T> {
    fn public_key(&self) -> &PublicKey {
        (**self).public_key()
    }

    fn try_sign_es256(&self, message: &[u8]) -> Result<[u8; 64], Error> {
        (**self).try_sign_es256(message)
    }
}
