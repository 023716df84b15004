//! What kind of key a JWK holds: its `kty`, curve and size (RFC 7518 §6, RFC 8037 §2).

use core::fmt;

use crate::jose::algorithm::Algorithm;

/// A NIST curve for ECDSA keys (`kty: EC`, RFC 7518 §6.2.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EcCurve {
    /// P-256 (secp256r1), for ES256.
    P256,
    /// P-384 (secp384r1), for ES384.
    P384,
    /// P-521 (secp521r1), for ES512.
    P521,
}

impl EcCurve {
    /// The JWK `crv` name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
            Self::P521 => "P-521",
        }
    }

    /// The curve named `crv`.
    pub(crate) fn from_name(crv: &str) -> Option<Self> {
        [Self::P256, Self::P384, Self::P521]
            .into_iter()
            .find(|c| c.as_str() == crv)
    }

    /// Bytes of one coordinate, of the private scalar, and of `r` or `s` in a JWS signature
    /// (RFC 7518 §3.4, §6.2.1.2).
    pub const fn coordinate_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
            Self::P521 => 66,
        }
    }

    /// The one algorithm keys on this curve sign with.
    pub const fn algorithm(self) -> Algorithm {
        match self {
            Self::P256 => Algorithm::Es256,
            Self::P384 => Algorithm::Es384,
            Self::P521 => Algorithm::Es512,
        }
    }
}

/// The type and size of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// `kty: EC` on a NIST curve.
    Ec(EcCurve),
    /// `kty: OKP`, `crv: Ed25519` (RFC 8037 §2).
    Ed25519,
    /// `kty: RSA` with a modulus of this many bits.
    Rsa {
        /// Bit length of the modulus `n`.
        modulus_bits: usize,
    },
}

impl KeyType {
    /// The JWK `kty` value.
    pub const fn kty(self) -> &'static str {
        match self {
            Self::Ec(_) => "EC",
            Self::Ed25519 => "OKP",
            Self::Rsa { .. } => "RSA",
        }
    }

    /// The algorithm a key of this type signs with when nothing else says: EC by its curve,
    /// Ed25519 → `Ed25519` (RFC 9864). RSA has none: RS* and PS* are equally plausible, so an
    /// RSA key must name its algorithm.
    pub const fn default_algorithm(self) -> Option<Algorithm> {
        match self {
            Self::Ec(curve) => Some(curve.algorithm()),
            Self::Ed25519 => Some(Algorithm::Ed25519),
            Self::Rsa { .. } => None,
        }
    }

    /// The exact length of an `alg` signature by a key of this type.
    pub(crate) const fn signature_len(self) -> usize {
        match self {
            Self::Ec(curve) => 2 * curve.coordinate_len(),
            Self::Ed25519 => 64,
            Self::Rsa { modulus_bits } => modulus_bits.div_ceil(8),
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ec(curve) => write!(f, "EC {}", curve.as_str()),
            Self::Ed25519 => f.write_str("OKP Ed25519"),
            Self::Rsa { modulus_bits } => write!(f, "RSA {modulus_bits}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_lengths() {
        assert_eq!(KeyType::Ec(EcCurve::P256).signature_len(), 64);
        assert_eq!(KeyType::Ec(EcCurve::P384).signature_len(), 96);
        assert_eq!(KeyType::Ec(EcCurve::P521).signature_len(), 132);
        assert_eq!(KeyType::Ed25519.signature_len(), 64);
        assert_eq!(KeyType::Rsa { modulus_bits: 2048 }.signature_len(), 256);
        assert_eq!(KeyType::Rsa { modulus_bits: 3071 }.signature_len(), 384);
    }
}
