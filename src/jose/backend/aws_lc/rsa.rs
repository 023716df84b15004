//! RSASSA-PKCS1-v1_5 (RS256/384/512, RFC 7518 §3.3) and RSASSA-PSS (PS256/384/512, §3.5:
//! MGF1 with the same hash, salt as long as the hash) through `aws-lc-rs`, constant-time for
//! private-key operations.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    RsaEncoding, RsaKeyPair, RsaParameters, RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_2048_8192_SHA512, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384,
    RSA_PKCS1_SHA512, RSA_PSS_2048_8192_SHA256, RSA_PSS_2048_8192_SHA384, RSA_PSS_2048_8192_SHA512,
    RSA_PSS_SHA256, RSA_PSS_SHA384, RSA_PSS_SHA512,
};
use rsa::pkcs1::EncodeRsaPrivateKey;

use crate::error::JoseError;
use crate::jose::algorithm::Algorithm;

fn verification(alg: Algorithm) -> Option<&'static RsaParameters> {
    Some(match alg {
        Algorithm::Rs256 => &RSA_PKCS1_2048_8192_SHA256,
        Algorithm::Rs384 => &RSA_PKCS1_2048_8192_SHA384,
        Algorithm::Rs512 => &RSA_PKCS1_2048_8192_SHA512,
        Algorithm::Ps256 => &RSA_PSS_2048_8192_SHA256,
        Algorithm::Ps384 => &RSA_PSS_2048_8192_SHA384,
        Algorithm::Ps512 => &RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

fn signing(alg: Algorithm) -> Option<&'static dyn RsaEncoding> {
    Some(match alg {
        Algorithm::Rs256 => &RSA_PKCS1_SHA256,
        Algorithm::Rs384 => &RSA_PKCS1_SHA384,
        Algorithm::Rs512 => &RSA_PKCS1_SHA512,
        Algorithm::Ps256 => &RSA_PSS_SHA256,
        Algorithm::Ps384 => &RSA_PSS_SHA384,
        Algorithm::Ps512 => &RSA_PSS_SHA512,
        _ => return None,
    })
}

#[derive(Clone)]
pub(crate) struct VerifyKey {
    n: Vec<u8>,
    e: Vec<u8>,
}

impl VerifyKey {
    /// The JWK reader has checked the sizes and the exponent (odd, 3 ≤ e ≤ 2^32, so e < n);
    /// an even modulus is the one thing left that aws-lc would refuse, so refuse it here, as
    /// the default backend does, rather than build the key twice.
    pub(crate) fn new(n: &[u8], e: &[u8]) -> Option<Self> {
        if n.last().is_none_or(|low| low & 1 == 0) || n.first().is_none_or(|high| *high == 0) {
            return None;
        }
        Some(Self {
            n: n.to_vec(),
            e: e.to_vec(),
        })
    }

    pub(crate) fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), JoseError> {
        let params = verification(alg).ok_or(JoseError::AlgorithmKeyMismatch)?;
        RsaPublicKeyComponents {
            n: &self.n,
            e: &self.e,
        }
        .verify(params, message, signature)
        .map_err(|_| JoseError::InvalidSignature)
    }
}

pub(crate) struct SignKey {
    pair: RsaKeyPair,
    rng: SystemRandom,
}

impl SignKey {
    pub(crate) fn new(key: &rsa::PrivateKey) -> Option<Self> {
        let der = key.to_pkcs1_der().ok()?;
        let pair = RsaKeyPair::from_der(der.as_bytes()).ok()?;
        Some(Self {
            pair,
            rng: SystemRandom::new(),
        })
    }

    pub(crate) fn sign(&self, alg: Algorithm, message: &[u8]) -> Option<Vec<u8>> {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(signing(alg)?, &self.rng, message, &mut signature)
            .ok()?;
        Some(signature)
    }
}
