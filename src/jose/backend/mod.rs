//! The one seam between keybound and signature arithmetic, one file a primitive:
//! `ecdsa.rs` (ES256/384/512), `ed25519.rs` (Ed25519/EdDSA), `rsa.rs` (RSASSA-PKCS1-v1_5 and
//! RSASSA-PSS), under `rust_crypto/` for the default backend and `aws_lc/` for feature `aws-lc`.
//!
//! The default backend is pure Rust (RustCrypto's `p256`, `p384`, `p521`, `ed25519-dalek`,
//! `rsa`): portable, no C toolchain, wasm-friendly. Feature `aws-lc` moves every signature
//! and verification to `aws-lc-rs`: several times faster, and constant-time RSA signing
//! (the `rsa` crate's RUSTSEC-2023-0071). Both accept exactly the same keys and signatures,
//! which `tests/backend_differential.rs` and the vector suites (run under both) check.
//!
//! Callers have already applied the alg/key rule (`key_fixes_algorithm.rs`) and checked the
//! signature length; the backends only do arithmetic. This is the only file that knows which
//! backend is compiled in.

use crate::error::JoseError;
use crate::jose::algorithm::Algorithm;
use crate::jose::key_type::EcCurve;
use crate::jose::secret::Secret;

pub(crate) mod key_tables;

#[cfg(feature = "aws-lc")]
mod aws_lc;
#[cfg(feature = "aws-lc")]
use aws_lc as imp;
#[cfg(not(feature = "aws-lc"))]
mod rust_crypto;
#[cfg(not(feature = "aws-lc"))]
use rust_crypto as imp;

/// A prepared public key of the compiled-in backend, by primitive. Each backend has the
/// modules `ecdsa`, `ed25519` and `rsa` with the same `VerifyKey` API.
#[derive(Clone)]
enum PreparedKey {
    Ec(imp::ecdsa::VerifyKey),
    Ed25519(imp::ed25519::VerifyKey),
    Rsa(imp::rsa::VerifyKey),
}

/// `(p256's verdict, the per-key table path's verdict)` for an ES256 signature: not public
/// API, for the differential tests and the fuzz target. `None` when the key or the signature
/// does not parse.
#[cfg(not(feature = "aws-lc"))]
#[doc(hidden)]
pub fn es256_plain_and_table_verdicts(
    sec1: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Option<(bool, bool)> {
    imp::key_tables::verify_both(sec1, message, signature)
}

/// Builds the per-key table of an uncompressed P-256 point and returns its size: not public
/// API, for the benchmarks. `None` when the point does not parse.
#[cfg(not(feature = "aws-lc"))]
#[doc(hidden)]
pub fn es256_build_table(sec1: &[u8]) -> Option<usize> {
    imp::key_tables::build_table(sec1)
}

/// The name of the compiled-in backend: `"rust-crypto"` or `"aws-lc-rs"`.
pub const BACKEND: &str = imp::NAME;

/// A public key prepared for repeated verification.
#[derive(Clone)]
pub(crate) struct VerifyKey(PreparedKey);

impl VerifyKey {
    /// Validates and prepares the uncompressed point `0x04 ‖ x ‖ y` on `curve`; `None` if it
    /// is not a valid public key (coordinates not below the field prime, off the curve, the
    /// identity).
    pub(crate) fn ec(curve: EcCurve, sec1: &[u8]) -> Option<Self> {
        imp::ecdsa::VerifyKey::new(curve, sec1).map(|key| Self(PreparedKey::Ec(key)))
    }

    /// Validates and prepares an Ed25519 public key. Only canonical encodings of points of
    /// large order are accepted (RFC 8032 §5.1.3; small-order keys let one signature verify
    /// for many messages).
    pub(crate) fn ed25519(public: &[u8; 32]) -> Option<Self> {
        imp::ed25519::VerifyKey::new(public).map(|key| Self(PreparedKey::Ed25519(key)))
    }

    /// Validates and prepares an RSA key (sizes were checked when the JWK was read).
    pub(crate) fn rsa(n: &[u8], e: &[u8]) -> Option<Self> {
        imp::rsa::VerifyKey::new(n, e).map(|key| Self(PreparedKey::Rsa(key)))
    }

    /// Verifies `signature` over `message` with `alg`, which fits this key.
    pub(crate) fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), JoseError> {
        match &self.0 {
            PreparedKey::Ec(key) => key.verify(message, signature),
            PreparedKey::Ed25519(key) => key.verify(message, signature),
            PreparedKey::Rsa(key) => key.verify(alg, message, signature),
        }
    }
}

/// A private key prepared for signing.
pub(crate) struct SignKey(imp::SignKey);

impl SignKey {
    /// Prepares a validated secret key; `None` if the backend refuses it.
    pub(crate) fn new(secret: &Secret) -> Option<Self> {
        imp::SignKey::new(secret).map(Self)
    }

    /// Signs `message` with `alg`, which fits the key: the JWS signature bytes.
    pub(crate) fn sign(&self, secret: &Secret, alg: Algorithm, message: &[u8]) -> Option<Vec<u8>> {
        self.0.sign(secret, alg, message)
    }
}

/// The `y` coordinates (sign bit cleared) of the eight points of small order — the torsion
/// subgroup E[8] — from `curve25519-dalek`'s own table, computed once.
fn small_order_y_encodings() -> &'static [[u8; 32]; 8] {
    static Y: std::sync::OnceLock<[[u8; 32]; 8]> = std::sync::OnceLock::new();
    Y.get_or_init(|| {
        curve25519_dalek::constants::EIGHT_TORSION.map(|point| {
            let mut y = point.compress().to_bytes();
            y[31] &= 0x7f;
            y
        })
    })
}

/// Whether the encoding `bytes` names a point of small order: its `y` is that of a point of
/// E[8] (a point shares `y` only with its negation, which is in E[8] too). Exact for encodings
/// with a canonical `y`; callers refuse or cannot match the others.
fn ed25519_encoding_has_small_order(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    y[31] &= 0x7f;
    small_order_y_encodings().contains(&y)
}

/// Whether `bytes` (already known to decompress to a curve point) is a strict Ed25519 public
/// key: its canonical encoding, and not of small order. Both backends apply exactly this rule.
///
/// An encoding is non-canonical when its 255-bit `y` is not below p = 2^255 − 19, or when
/// `x = 0` carries a negative sign; the two points with `x = 0` (the identity and the point of
/// order 2) are of small order, so checking `y < p` and the order covers both.
pub(crate) fn ed25519_point_is_strict(bytes: &[u8; 32]) -> bool {
    let y_at_least_p =
        bytes[0] >= 0xed && bytes[1..31].iter().all(|b| *b == 0xff) && bytes[31] & 0x7f == 0x7f;
    !y_at_least_p && !ed25519_encoding_has_small_order(bytes)
}

/// Whether an Ed25519 signature's `R` (its first 32 bytes) may stand: not the encoding of a
/// point of small order. The strict verification equation refuses small-order `R`; any other
/// `R` that is not a canonical point encoding never equals the recomputed one, so both backends
/// refuse it in the equation itself. Both backends apply this rule before the equation.
pub(crate) fn ed25519_r_is_strict(signature: &[u8]) -> bool {
    signature
        .get(..32)
        .and_then(|r| <&[u8; 32]>::try_from(r).ok())
        .is_some_and(|r| !ed25519_encoding_has_small_order(r))
}

#[cfg(test)]
mod tests {
    use curve25519_dalek::edwards::CompressedEdwardsY;

    use super::{ed25519_encoding_has_small_order, ed25519_point_is_strict};

    fn strict(bytes: [u8; 32]) -> bool {
        CompressedEdwardsY(bytes).decompress().is_some() && ed25519_point_is_strict(&bytes)
    }

    #[test]
    fn small_order_by_encoding_matches_the_group_law() {
        use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
        use curve25519_dalek::Scalar;
        // Every torsion point, in both sign forms, and points of large order mixed with
        // torsion components.
        for (i, torsion) in EIGHT_TORSION.iter().enumerate() {
            let bytes = torsion.compress().to_bytes();
            assert!(ed25519_encoding_has_small_order(&bytes), "torsion {i}");
            assert!(torsion.is_small_order());
            for k in 1u64..40 {
                let point = ED25519_BASEPOINT_POINT * Scalar::from(k) + torsion;
                let bytes = point.compress().to_bytes();
                assert_eq!(
                    ed25519_encoding_has_small_order(&bytes),
                    point.is_small_order(),
                    "k {k}, torsion {i}"
                );
            }
        }
    }

    #[test]
    fn ed25519_strictness_matches_recompression() {
        // y = p + k for the k that decompress (non-canonical), with either sign bit.
        for k in 0u8..19 {
            for sign in [0u8, 0x80] {
                let mut bytes = [0xffu8; 32];
                bytes[0] = 0xed + k;
                bytes[31] = 0x7f | sign;
                assert!(!strict(bytes), "y = p + {k}, sign {sign}");
            }
        }
        // The base point and random-looking points agree with "compress gives the same bytes
        // and the order is large".
        let base = curve25519_dalek::constants::ED25519_BASEPOINT_COMPRESSED.to_bytes();
        assert!(strict(base));
        for seed in 0u8..=255 {
            let mut bytes = [seed; 32];
            bytes[31] &= 0x7f;
            bytes[0] = bytes[0].wrapping_mul(31).wrapping_add(7);
            if let Some(point) = CompressedEdwardsY(bytes).decompress() {
                let reference = point.compress().to_bytes() == bytes && !point.is_small_order();
                assert_eq!(ed25519_point_is_strict(&bytes), reference, "{bytes:?}");
            }
        }
        // Small order: the identity, and x = 0 with the sign bit set (non-canonical identity).
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(!strict(identity));
        identity[31] = 0x80;
        assert!(!strict(identity));
    }
}
