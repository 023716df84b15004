//! The one seam between keybound and the ES256 arithmetic (ECDSA P-256 with SHA-256, JWS
//! `r ‖ s` signatures). The default backend is pure-Rust `p256` (portable, no C toolchain,
//! wasm-friendly); feature `aws-lc` switches signing and verification to `aws-lc-rs`, about
//! five times faster. Each backend validates public points itself (coordinates below the field
//! prime, on the curve, not the identity); both accept exactly the same keys, which
//! `tests/backend_differential.rs` checks. JWK reading, private-key import and thumbprints stay
//! on `p256` with either backend.
//!
//! This is the only file that knows which backend is compiled in.

use crate::error::JoseError;

/// A public key prepared for repeated verification.
#[derive(Clone)]
pub(crate) struct VerifyKey(backend::VerifyKey);

/// A private key prepared for signing.
pub(crate) struct SignKey(backend::SignKey);

impl VerifyKey {
    /// Validates and prepares the uncompressed point `0x04 ‖ x ‖ y`; `None` if it is not a
    /// valid P-256 public key.
    pub(crate) fn new(sec1: &[u8; 65]) -> Option<Self> {
        backend::VerifyKey::new(sec1).map(Self)
    }

    /// Verifies a 64-byte `r ‖ s` signature over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), JoseError> {
        self.0.verify(message, signature)
    }
}

impl SignKey {
    /// Prepares a validated secret key.
    pub(crate) fn new(secret: &p256::ecdsa::SigningKey, sec1: &[u8; 65]) -> Option<Self> {
        backend::SignKey::new(secret, sec1).map(Self)
    }

    /// Signs `message`; the 64-byte `r ‖ s` signature.
    pub(crate) fn sign(
        &self,
        secret: &p256::ecdsa::SigningKey,
        message: &[u8],
    ) -> Option<[u8; 64]> {
        self.0.sign(secret, message)
    }
}

/// The name of the compiled-in backend: `"p256"` or `"aws-lc-rs"`.
pub const BACKEND: &str = backend::NAME;

#[cfg(not(feature = "aws-lc"))]
mod backend {
    use p256::ecdsa::signature::{Signer, Verifier};
    use p256::ecdsa::{Signature, SigningKey, VerifyingKey};

    use crate::error::JoseError;

    pub(super) const NAME: &str = "p256";

    #[derive(Clone)]
    pub(super) struct VerifyKey(VerifyingKey);

    impl VerifyKey {
        pub(super) fn new(sec1: &[u8; 65]) -> Option<Self> {
            VerifyingKey::from_sec1_bytes(sec1).ok().map(Self)
        }

        pub(super) fn verify(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), JoseError> {
            // `from_slice` refuses r or s outside [1, n).
            let signature =
                Signature::from_slice(signature).map_err(|_| JoseError::InvalidSignature)?;
            self.0
                .verify(message, &signature)
                .map_err(|_| JoseError::InvalidSignature)
        }
    }

    /// Signing uses the `p256` key held by `SigningKey` itself.
    pub(super) struct SignKey;

    impl SignKey {
        pub(super) fn new(_secret: &SigningKey, _sec1: &[u8; 65]) -> Option<Self> {
            Some(Self)
        }

        pub(super) fn sign(&self, secret: &SigningKey, message: &[u8]) -> Option<[u8; 64]> {
            // RFC 6979 deterministic nonces.
            let signature: Signature = secret.sign(message);
            Some(signature.to_bytes().into())
        }
    }
}

#[cfg(feature = "aws-lc")]
mod backend {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        EcdsaKeyPair, ParsedPublicKey, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING,
    };
    use p256::ecdsa::SigningKey;
    use zeroize::Zeroizing;

    use crate::error::JoseError;

    pub(super) const NAME: &str = "aws-lc-rs";

    #[derive(Clone)]
    pub(super) struct VerifyKey(ParsedPublicKey);

    impl VerifyKey {
        pub(super) fn new(sec1: &[u8; 65]) -> Option<Self> {
            // aws-lc parses the point strictly (field elements below p, on the curve).
            ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, sec1)
                .ok()
                .map(Self)
        }

        pub(super) fn verify(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), JoseError> {
            self.0
                .verify_sig(message, signature)
                .map_err(|_| JoseError::InvalidSignature)
        }
    }

    pub(super) struct SignKey {
        pair: EcdsaKeyPair,
        rng: SystemRandom,
    }

    impl SignKey {
        pub(super) fn new(secret: &SigningKey, sec1: &[u8; 65]) -> Option<Self> {
            let scalar = Zeroizing::new(secret.to_bytes());
            let pair = EcdsaKeyPair::from_private_key_and_public_key(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                scalar.as_slice(),
                sec1,
            )
            .ok()?;
            Some(Self {
                pair,
                rng: SystemRandom::new(),
            })
        }

        pub(super) fn sign(&self, _secret: &SigningKey, message: &[u8]) -> Option<[u8; 64]> {
            let signature = self.pair.sign(&self.rng, message).ok()?;
            signature.as_ref().try_into().ok()
        }
    }
}
