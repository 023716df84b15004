//! Private key material, held in the RustCrypto types that import, export and (with the
//! default backend) sign with it. Every type here zeroizes itself on drop.

use crate::jose::jwk::PublicParts;
use crate::jose::key_type::EcCurve;

/// A private key of one of the supported types.
pub(crate) enum Secret {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
    Rsa(Box<rsa::PrivateKey>),
}

impl Secret {
    /// The public numbers of this key.
    pub(crate) fn public_parts(&self) -> PublicParts {
        match self {
            Self::P256(key) => PublicParts::from_sec1(
                EcCurve::P256,
                key.verifying_key().to_sec1_point(false).as_bytes(),
            ),
            Self::P384(key) => PublicParts::from_sec1(
                EcCurve::P384,
                key.verifying_key().to_sec1_point(false).as_bytes(),
            ),
            Self::P521(key) => PublicParts::from_sec1(
                EcCurve::P521,
                key.verifying_key().to_sec1_point(false).as_bytes(),
            ),
            Self::Ed25519(key) => PublicParts::Ed25519 {
                x: key.verifying_key().to_bytes(),
            },
            Self::Rsa(key) => {
                use rsa::traits::PublicKeyParts;
                PublicParts::Rsa {
                    n: key.n().to_be_bytes_trimmed_vartime().into_vec(),
                    e: key.e().to_be_bytes_trimmed_vartime().into_vec(),
                }
            }
        }
    }
}
