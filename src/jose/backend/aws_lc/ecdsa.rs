//! ECDSA on P-256, P-384 and P-521 with `r ‖ s` signatures (RFC 7518 §3.4), through
//! `aws-lc-rs` (randomized nonces when signing).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, ParsedPublicKey,
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED,
    ECDSA_P384_SHA384_FIXED_SIGNING, ECDSA_P521_SHA512_FIXED, ECDSA_P521_SHA512_FIXED_SIGNING,
};
use zeroize::Zeroizing;

use crate::error::JoseError;
use crate::jose::key_type::EcCurve;
use crate::jose::secret::Secret;

/// An aws-lc key pair from a private scalar and its uncompressed public point.
fn pair(
    algorithm: &'static EcdsaSigningAlgorithm,
    scalar: &[u8],
    sec1: &[u8],
) -> Option<EcdsaKeyPair> {
    EcdsaKeyPair::from_private_key_and_public_key(algorithm, scalar, sec1).ok()
}

fn verification(curve: EcCurve) -> &'static EcdsaVerificationAlgorithm {
    match curve {
        EcCurve::P256 => &ECDSA_P256_SHA256_FIXED,
        EcCurve::P384 => &ECDSA_P384_SHA384_FIXED,
        EcCurve::P521 => &ECDSA_P521_SHA512_FIXED,
    }
}

#[derive(Clone)]
pub(crate) struct VerifyKey(ParsedPublicKey);

impl VerifyKey {
    /// aws-lc parses the point strictly (field elements below p, on the curve).
    pub(crate) fn new(curve: EcCurve, sec1: &[u8]) -> Option<Self> {
        if sec1.first() != Some(&0x04) || sec1.len() != 1 + 2 * curve.coordinate_len() {
            return None;
        }
        ParsedPublicKey::new(verification(curve), sec1)
            .ok()
            .map(Self)
    }

    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        self.0
            .verify_sig(message, signature)
            .map_err(|_| JoseError::InvalidSignature)
    }
}

pub(crate) struct SignKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl SignKey {
    pub(crate) fn new(secret: &Secret) -> Option<Self> {
        // Each scalar is copied out of its key once, into memory zeroized on drop.
        let pair = match secret {
            Secret::P256(key) => pair(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                &Zeroizing::new(key.to_bytes()),
                key.verifying_key().to_sec1_point(false).as_bytes(),
            ),
            Secret::P384(key) => pair(
                &ECDSA_P384_SHA384_FIXED_SIGNING,
                &Zeroizing::new(key.to_bytes()),
                key.verifying_key().to_sec1_point(false).as_bytes(),
            ),
            Secret::P521(key) => pair(
                &ECDSA_P521_SHA512_FIXED_SIGNING,
                &Zeroizing::new(key.to_bytes()),
                key.verifying_key().to_sec1_point(false).as_bytes(),
            ),
            _ => None,
        }?;
        Some(Self {
            pair,
            rng: SystemRandom::new(),
        })
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Option<Vec<u8>> {
        let signature = self.pair.sign(&self.rng, message).ok()?;
        Some(signature.as_ref().to_vec())
    }
}
