//! The alg/key rule (RFC 8725 §3.1): the key fixes the algorithm, never the message.
//!
//! A signature is checked only when its header `alg`
//! 1. is one this crate implements (`none`, HS* and unknown names never parse),
//! 2. is in the caller's policy set,
//! 3. fits the key's type: EC P-256/P-384/P-521 ↔ ES256/ES384/ES512, OKP Ed25519 ↔
//!    `Ed25519`/`EdDSA`, RSA ↔ RS256/384/512 and PS256/384/512,
//! 4. equals the key's own JWK `alg` when the key names one.
//!
//! All of it runs before any cryptography. This file is the only place that decides it.

use crate::error::{JoseError, KeyError};
use crate::jose::algorithm::{Algorithm, AlgorithmSet};
use crate::jose::key_type::{EcCurve, KeyType};

/// Whether a key of `key_type` may make or check `alg` signatures.
pub(crate) const fn fits(key_type: KeyType, alg: Algorithm) -> bool {
    match key_type {
        KeyType::Ec(curve) => matches!(
            (curve, alg),
            (EcCurve::P256, Algorithm::Es256)
                | (EcCurve::P384, Algorithm::Es384)
                | (EcCurve::P521, Algorithm::Es512)
        ),
        KeyType::Ed25519 => matches!(alg, Algorithm::Ed25519 | Algorithm::EdDsa),
        KeyType::Rsa { .. } => alg.is_rsa(),
    }
}

/// Whether a JWK's own `alg` member may stand on a key of `key_type` (read time: a key that
/// names an algorithm it cannot use is refused as a whole).
pub(crate) fn check_jwk_alg(key_type: KeyType, jwk_alg: Algorithm) -> Result<(), KeyError> {
    if fits(key_type, jwk_alg) {
        Ok(())
    } else {
        Err(KeyError::WrongAlgorithm)
    }
}

/// The whole rule for one signature check: `alg` in `allowed`, fitting `key_type`, and equal
/// to the key's JWK `alg` if it has one.
pub(crate) fn check(
    alg: Algorithm,
    key_type: KeyType,
    jwk_alg: Option<Algorithm>,
    allowed: AlgorithmSet,
) -> Result<(), JoseError> {
    if !allowed.contains(alg) {
        return Err(JoseError::UnsupportedAlgorithm);
    }
    if !fits(key_type, alg) || jwk_alg.is_some_and(|own| own != alg) {
        return Err(JoseError::AlgorithmKeyMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA: KeyType = KeyType::Rsa { modulus_bits: 2048 };
    const TYPES: [KeyType; 5] = [
        KeyType::Ec(EcCurve::P256),
        KeyType::Ec(EcCurve::P384),
        KeyType::Ec(EcCurve::P521),
        KeyType::Ed25519,
        RSA,
    ];

    fn fitting(alg: Algorithm) -> Vec<KeyType> {
        TYPES.into_iter().filter(|t| fits(*t, alg)).collect()
    }

    #[test]
    fn every_algorithm_fits_exactly_its_key_types() {
        assert_eq!(fitting(Algorithm::Es256), [KeyType::Ec(EcCurve::P256)]);
        assert_eq!(fitting(Algorithm::Es384), [KeyType::Ec(EcCurve::P384)]);
        assert_eq!(fitting(Algorithm::Es512), [KeyType::Ec(EcCurve::P521)]);
        assert_eq!(fitting(Algorithm::Ed25519), [KeyType::Ed25519]);
        assert_eq!(fitting(Algorithm::EdDsa), [KeyType::Ed25519]);
        for alg in [
            Algorithm::Rs256,
            Algorithm::Rs384,
            Algorithm::Rs512,
            Algorithm::Ps256,
            Algorithm::Ps384,
            Algorithm::Ps512,
        ] {
            assert_eq!(fitting(alg), [RSA], "{alg}");
        }
    }

    #[test]
    fn policy_then_fit_then_jwk_alg() {
        let all = AlgorithmSet::all();
        let p256 = KeyType::Ec(EcCurve::P256);
        assert_eq!(check(Algorithm::Es256, p256, None, all), Ok(()));
        assert_eq!(
            check(
                Algorithm::Es256,
                p256,
                None,
                AlgorithmSet::only(Algorithm::Ps256)
            ),
            Err(JoseError::UnsupportedAlgorithm)
        );
        assert_eq!(
            check(Algorithm::Es384, p256, None, all),
            Err(JoseError::AlgorithmKeyMismatch)
        );
        assert_eq!(
            check(Algorithm::Rs256, p256, None, all),
            Err(JoseError::AlgorithmKeyMismatch)
        );
        // An RSA key published for PS256 does not verify RS256, although both fit RSA.
        assert_eq!(
            check(Algorithm::Rs256, RSA, Some(Algorithm::Ps256), all),
            Err(JoseError::AlgorithmKeyMismatch)
        );
        assert_eq!(
            check(Algorithm::Ps256, RSA, Some(Algorithm::Ps256), all),
            Ok(())
        );
        // The older and newer Ed25519 names are distinct JWK algs.
        assert_eq!(
            check(
                Algorithm::EdDsa,
                KeyType::Ed25519,
                Some(Algorithm::Ed25519),
                all
            ),
            Err(JoseError::AlgorithmKeyMismatch)
        );
        assert_eq!(
            check_jwk_alg(RSA, Algorithm::Es256),
            Err(KeyError::WrongAlgorithm)
        );
        assert_eq!(check_jwk_alg(RSA, Algorithm::Rs512), Ok(()));
    }
}
