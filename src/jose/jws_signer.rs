//! The signing seam: anything that can make JWS signatures with one key and one algorithm.

use crate::error::Error;
use crate::jose::algorithm::Algorithm;
use crate::jose::public_key::PublicKey;
use crate::jose::signing_key::SigningKey;

/// A key that signs JWS with one [`Algorithm`] — in memory ([`SigningKey`]) or somewhere the
/// private key cannot leave: an HSM, a cloud KMS, an OS keystore, a security key.
///
/// Implement it to sign DPoP proofs with such a key
/// ([`ProofSigner::new`](crate::ProofSigner::new) takes any `JwsSigner`). The algorithm must
/// fit the public key (RFC 8725 §3.1); a signer whose algorithm does not is refused when it
/// signs.
pub trait JwsSigner: Send + Sync {
    /// The algorithm every signature is made with (the JWS `alg`).
    fn algorithm(&self) -> Algorithm;

    /// The public half, embedded in every proof's `jwk` header.
    fn public_key(&self) -> &PublicKey;

    /// Signs `message` and returns the JWS signature (RFC 7518 §3): ECDSA `r ‖ s` of
    /// 2×32/48/66 bytes (never DER), Ed25519 64 bytes, RSA exactly the modulus length.
    /// Return [`Error::Signer`] if the device fails.
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, Error>;
}

impl JwsSigner for SigningKey {
    fn algorithm(&self) -> Algorithm {
        SigningKey::algorithm(self)
    }

    fn public_key(&self) -> &PublicKey {
        SigningKey::public_key(self)
    }

    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.sign(message)
    }
}

impl<T: JwsSigner + ?Sized> JwsSigner for std::sync::Arc<T> {
    fn algorithm(&self) -> Algorithm {
        (**self).algorithm()
    }

    fn public_key(&self) -> &PublicKey {
        (**self).public_key()
    }

    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        (**self).try_sign(message)
    }
}
