//! ECDSA P-256 verification through fixed-base tables: `ecdsa`'s own sequence
//! (`hazmat::verify_prehashed`, ecdsa 0.17), step for step, with `u1·G + u2·Q` computed from a
//! static table of `G` and the key's table of `Q` instead of an interleaved wNAF over both.
//!
//! Every other step is the same public call `ecdsa` makes, in the same order: the scalars come
//! from a parsed [`Signature`] (which refused `r` or `s` outside `[1, n)`), the digest becomes
//! a scalar by the same truncation and reduction, and the verdict compares `r` with the affine
//! `x` of the sum reduced mod `n` — so the identity (x = 0, never a valid `r`) is refused as
//! upstream refuses it. `tests` and `tests/table_differential.rs` hold both paths to the same
//! answers.

use std::sync::LazyLock;

use p256::ecdsa::Signature;
use p256::elliptic_curve::ops::{Invert, Reduce};
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::subtle::Choice;
use p256::{NistP256, ProjectivePoint, Scalar, U256};

use super::fixed_base::FixedBaseTable;

/// Digit width of the generator's table: 8 bits, 33 windows × 128 points (304 KB, built once).
const GENERATOR_WIDTH: usize = 8;

/// Digit width of a key's table: 5 bits, 52 windows × 16 points (about 60 KB a key), the
/// measured best trade between its cost to build and its speed (docs/research, BENCHMARKS.md).
pub(crate) const KEY_WIDTH: usize = 5;

static GENERATOR_TABLE: LazyLock<FixedBaseTable> =
    LazyLock::new(|| FixedBaseTable::new(&ProjectivePoint::GENERATOR, GENERATOR_WIDTH));

/// Whether `signature` is valid for the key whose table is `key` over the digest `prehash` —
/// exactly `VerifyingKey::verify_prehash`'s answer.
pub(crate) fn verify_prehash(key: &FixedBaseTable, prehash: &[u8], signature: &Signature) -> bool {
    let (r, s) = signature.split_scalars();
    // `false` for P-256: high-S signatures verify, as upstream. Kept so that a change upstream
    // changes this path too.
    if <NistP256 as ecdsa::EcdsaCurve>::NORMALIZE_S && bool::from(is_high(&s)) {
        return false;
    }
    let z = bytes_to_scalar(prehash);
    let s_inv = *s.invert_vartime();
    let u1 = z * s_inv;
    let u2 = *r * s_inv;
    let x = (GENERATOR_TABLE.mul(&u1) + key.mul(&u2)).to_affine().x();
    *r == bytes_to_scalar(&x)
}

fn is_high(s: &p256::NonZeroScalar) -> Choice {
    use p256::elliptic_curve::scalar::IsHigh;
    s.is_high()
}

/// `ecdsa`'s `bytes2scalar`: the leftmost 32 bytes, read big-endian (shorter input as a smaller
/// number), reduced mod `n`.
fn bytes_to_scalar(bytes: &[u8]) -> Scalar {
    let bytes = &bytes[..bytes.len().min(32)];
    <Scalar as Reduce<U256>>::reduce(&U256::from_be_slice_truncated(bytes, 256))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    use p256::ecdsa::signature::Signer;
    use p256::ecdsa::{SigningKey, VerifyingKey};

    fn signer() -> SigningKey {
        use p256::elliptic_curve::Generate;
        SigningKey::from(p256::SecretKey::try_generate_from_rng(&mut getrandom::SysRng).unwrap())
    }

    fn table_of(key: &VerifyingKey) -> FixedBaseTable {
        FixedBaseTable::new(&ProjectivePoint::from(*key.as_affine()), KEY_WIDTH)
    }

    fn same_answer(key: &VerifyingKey, table: &FixedBaseTable, prehash: &[u8], sig: &Signature) {
        assert_eq!(
            verify_prehash(table, prehash, sig),
            key.verify_prehash(prehash, sig).is_ok(),
            "prehash {} bytes",
            prehash.len()
        );
    }

    /// Valid signatures, their high-S twins, other messages, other keys, digests of 20, 32
    /// and 64 bytes, and `r`, `s` nudged by one: the table path answers as `p256`.
    #[test]
    fn answers_as_p256_on_random_and_mutated_signatures() {
        use sha2::Digest;
        for round in 0..40u32 {
            let signing = signer();
            let key = *signing.verifying_key();
            let table = table_of(&key);
            let message = format!("message {round}");
            let signature: Signature = signing.sign(message.as_bytes());
            let digest = sha2::Sha256::digest(message.as_bytes());
            assert!(verify_prehash(&table, &digest, &signature));
            same_answer(&key, &table, &digest, &signature);
            let (r, s) = signature.split_scalars();
            let twin = Signature::from_scalars(*r, -*s).unwrap();
            same_answer(&key, &table, &digest, &twin);
            for (dr, ds) in [(1u64, 0u64), (0, 1)] {
                if let Ok(nudged) =
                    Signature::from_scalars(*r + Scalar::from(dr), *s + Scalar::from(ds))
                {
                    same_answer(&key, &table, &digest, &nudged);
                }
            }
            same_answer(&key, &table, &sha2::Sha256::digest(b"other"), &signature);
            let mut long = digest.to_vec();
            long.extend_from_slice(&digest);
            same_answer(&key, &table, &long, &signature);
            same_answer(&key, &table, &digest[..20], &signature);
            let other = *signer().verifying_key();
            same_answer(&other, &table_of(&other), &digest, &signature);
        }
    }

    /// A digest reducing to 0 (u1 = 0) and a signature whose sum is the identity take the same
    /// answers as upstream.
    #[test]
    fn answers_as_p256_on_degenerate_scalars() {
        let signing = signer();
        let key = *signing.verifying_key();
        let table = table_of(&key);
        let signature: Signature = signing.sign(b"m");
        for prehash in [[0u8; 32], [0xff; 32]] {
            same_answer(&key, &table, &prehash, &signature);
        }
        // n itself as the digest: z ≡ 0.
        let n = hex_literal("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
        same_answer(&key, &table, &n, &signature);
    }

    fn hex_literal(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }
}
