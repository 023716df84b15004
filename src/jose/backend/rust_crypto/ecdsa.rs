//! ECDSA on P-256, P-384 and P-521 with `r ‖ s` signatures (RFC 7518 §3.4), through `p256`,
//! `p384` and `p521`. Signing uses RFC 6979 deterministic nonces.

use signature::{Signer, Verifier};

use crate::error::JoseError;
use crate::jose::key_type::EcCurve;
use crate::jose::secret::Secret;

#[derive(Clone)]
pub(crate) enum VerifyKey {
    /// With its point `x ‖ y`, the key of its precomputed table (`key_tables`).
    P256(p256::ecdsa::VerifyingKey, super::key_tables::PointBytes),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
}

impl VerifyKey {
    /// Parses the uncompressed point; the curve crates refuse coordinates ≥ p, points off the
    /// curve and the identity.
    pub(crate) fn new(curve: EcCurve, sec1: &[u8]) -> Option<Self> {
        match curve {
            EcCurve::P256 => {
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(sec1).ok()?;
                // The uncompressed form as accepted: `0x04 ‖ x ‖ y`.
                let point = sec1.get(1..)?.try_into().ok()?;
                Some(Self::P256(key, point))
            }
            EcCurve::P384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(sec1)
                .ok()
                .map(Self::P384),
            EcCurve::P521 => p521::ecdsa::VerifyingKey::from_sec1_bytes(sec1)
                .ok()
                .map(Self::P521),
        }
    }

    /// `from_slice` refuses `r` or `s` outside `[1, n)`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        let verdict = match self {
            Self::P256(key, point) => p256::ecdsa::Signature::from_slice(signature)
                .map_err(drop)
                .and_then(|s| {
                    super::key_tables::verify(key, point, message, &s)
                        .then_some(())
                        .ok_or(())
                }),
            Self::P384(key) => p384::ecdsa::Signature::from_slice(signature)
                .map_err(drop)
                .and_then(|s| key.verify(message, &s).map_err(drop)),
            Self::P521(key) => p521::ecdsa::Signature::from_slice(signature)
                .map_err(drop)
                .and_then(|s| key.verify(message, &s).map_err(drop)),
        };
        verdict.map_err(|()| JoseError::InvalidSignature)
    }
}

/// Signs with the EC key in `secret`; `None` for another key type.
pub(crate) fn sign(secret: &Secret, message: &[u8]) -> Option<Vec<u8>> {
    match secret {
        Secret::P256(key) => {
            let signature: p256::ecdsa::Signature = key.sign(message);
            Some(signature.to_bytes().to_vec())
        }
        Secret::P384(key) => {
            let signature: p384::ecdsa::Signature = key.sign(message);
            Some(signature.to_bytes().to_vec())
        }
        Secret::P521(key) => {
            let signature: p521::ecdsa::Signature = key.sign(message);
            Some(signature.to_bytes().to_vec())
        }
        _ => None,
    }
}
