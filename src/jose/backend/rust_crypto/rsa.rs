//! RSASSA-PKCS1-v1_5 (RS256/384/512, RFC 7518 §3.3) and RSASSA-PSS (PS256/384/512, §3.5:
//! MGF1 with the same hash, salt as long as the hash) through the `rsa` crate.
//!
//! Verification handles only public data. Signing is not constant-time (RUSTSEC-2023-0071,
//! "Marvin"): issuers that sign with RSA keys should use the `aws-lc` backend.

use rsa::sha2::{Sha256, Sha384, Sha512};
use rsa::{BoxedUint, PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};

use crate::error::JoseError;
use crate::jose::algorithm::Algorithm;
use crate::jose::jwk::{MAX_RSA_BITS, MIN_RSA_BITS};

#[derive(Clone)]
pub(crate) struct VerifyKey(Box<RsaPublicKey>);

impl VerifyKey {
    pub(crate) fn new(n: &[u8], e: &[u8]) -> Option<Self> {
        let n = BoxedUint::from_be_slice_vartime(n);
        let e = BoxedUint::from_be_slice_vartime(e);
        RsaPublicKey::new_with_size_limits(n, e, MIN_RSA_BITS..=MAX_RSA_BITS)
            .ok()
            .map(|key| Self(Box::new(key)))
    }

    pub(crate) fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), JoseError> {
        let key = &self.0;
        let verdict = match alg {
            Algorithm::Rs256 => key.pkcs1v15_verify::<Sha256>(message, signature),
            Algorithm::Rs384 => key.pkcs1v15_verify::<Sha384>(message, signature),
            Algorithm::Rs512 => key.pkcs1v15_verify::<Sha512>(message, signature),
            Algorithm::Ps256 => key.pss_verify::<Sha256>(message, signature),
            Algorithm::Ps384 => key.pss_verify::<Sha384>(message, signature),
            Algorithm::Ps512 => key.pss_verify::<Sha512>(message, signature),
            _ => return Err(JoseError::AlgorithmKeyMismatch),
        };
        verdict.map_err(|_| JoseError::InvalidSignature)
    }
}

/// Signs with blinding from the operating system's generator (PKCS#1 v1.5 signatures do not
/// depend on it; PSS salts come from it).
pub(crate) fn sign(key: &RsaPrivateKey, alg: Algorithm, message: &[u8]) -> Option<Vec<u8>> {
    let rng = &mut getrandom::SysRng;
    let signature = match alg {
        Algorithm::Rs256 => key.pkcs1v15_sign_with_rng::<Sha256, _>(rng, message),
        Algorithm::Rs384 => key.pkcs1v15_sign_with_rng::<Sha384, _>(rng, message),
        Algorithm::Rs512 => key.pkcs1v15_sign_with_rng::<Sha512, _>(rng, message),
        Algorithm::Ps256 => key.pss_sign_with_rng::<Sha256, _>(rng, message),
        Algorithm::Ps384 => key.pss_sign_with_rng::<Sha384, _>(rng, message),
        Algorithm::Ps512 => key.pss_sign_with_rng::<Sha512, _>(rng, message),
        _ => return None,
    };
    signature.ok()
}
