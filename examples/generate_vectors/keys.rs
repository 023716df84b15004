//! P-256 keys for the generator, straight from the `p256` crate (pinned by `Cargo.lock`) rather
//! than from the library under test: the vectors must not depend on keybound's signing backend
//! (its optional `aws-lc` backend signs with random nonces).

use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::Generate;

use crate::drbg::Drbg;

/// An EC P-256 key pair.
pub struct Key {
    secret: SigningKey,
    x: [u8; 32],
    y: [u8; 32],
}

impl Key {
    /// The key drawn from `rng` (rejection sampling of the scalar, as `p256` does it).
    pub fn generate(rng: &mut Drbg) -> Self {
        let secret = SigningKey::try_generate_from_rng(rng).expect("infallible generator");
        let point = secret.verifying_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        assert_eq!(bytes.len(), 65, "uncompressed SEC1 point");
        Self {
            x: bytes[1..33].try_into().expect("32 bytes"),
            y: bytes[33..65].try_into().expect("32 bytes"),
            secret,
        }
    }

    /// The affine `x` coordinate, 32 big-endian bytes.
    pub fn x(&self) -> &[u8; 32] {
        &self.x
    }

    /// The affine `y` coordinate, 32 big-endian bytes.
    pub fn y(&self) -> &[u8; 32] {
        &self.y
    }

    /// The private scalar, 32 big-endian bytes.
    pub fn d(&self) -> [u8; 32] {
        self.secret.to_bytes().into()
    }

    /// ES256 over `message`: the 64-byte `r ‖ s` signature with RFC 6979 deterministic nonces.
    pub fn sign_es256(&self, message: &[u8]) -> [u8; 64] {
        let signature: Signature = self.secret.sign(message);
        signature.to_bytes().into()
    }
}
