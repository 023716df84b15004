//! A fixed-base table for one P-256 point: every multiple `j · 2^(w·i) · P` for the signed
//! `w`-bit digits of a scalar, in affine form, so that `k · P` costs one mixed addition per
//! non-zero digit and no doubling.
//!
//! Built only from `p256`'s public group operations (doubling, complete projective and mixed
//! additions, batch normalisation): no field arithmetic of our own. Variable time by design —
//! it only ever multiplies public points by public scalars (signature verification).

use p256::elliptic_curve::group::Group;
use p256::elliptic_curve::BatchNormalize;
use p256::elliptic_curve::PrimeField;
use p256::{AffinePoint, ProjectivePoint, Scalar};

/// Bits in a P-256 scalar.
const SCALAR_BITS: usize = 256;

/// The multiples of one point for signed radix-`2^w` digits.
pub(crate) struct FixedBaseTable {
    /// Digit width in bits, 2..=8.
    width: usize,
    /// `points[i · half + (j − 1)]` = `j · 2^(w·i) · P`, for `j` in `1..=half`.
    points: Vec<AffinePoint>,
}

impl FixedBaseTable {
    /// The table of `point` for `width`-bit digits (`2..=8`). Its cost: one doubling and
    /// `2^(w−1)` additions per window, then one batch normalisation.
    pub(crate) fn new(point: &ProjectivePoint, width: usize) -> Self {
        assert!((2..=8).contains(&width), "digit width {width}");
        let (windows, half) = (windows(width), 1usize << (width - 1));
        let mut multiples = Vec::with_capacity(windows * half);
        let mut base = *point;
        for _ in 0..windows {
            let start = multiples.len();
            multiples.push(base);
            for j in 2..=half {
                // Even multiples by doubling, odd ones by adding the base once more.
                let next = if j % 2 == 0 {
                    multiples[start + j / 2 - 1].double()
                } else {
                    multiples[start + j - 2] + base
                };
                multiples.push(next);
            }
            // 2^(w−1) · base doubled once: the next window's base, 2^w · base.
            base = multiples[start + half - 1].double();
        }
        let points = <ProjectivePoint as BatchNormalize<[ProjectivePoint]>>::batch_normalize(
            multiples.as_slice(),
        );
        Self { width, points }
    }

    /// `scalar · P`.
    pub(crate) fn mul(&self, scalar: &Scalar) -> ProjectivePoint {
        let half = 1usize << (self.width - 1);
        let mut sum = ProjectivePoint::IDENTITY;
        for (window, digit) in signed_digits(scalar, self.width).enumerate() {
            if digit == 0 {
                continue;
            }
            let point = &self.points[window * half + digit.unsigned_abs() as usize - 1];
            if digit > 0 {
                sum += point;
            } else {
                sum -= point;
            }
        }
        sum
    }

    /// Bytes the table holds (its points).
    pub(crate) fn size(&self) -> usize {
        self.points.len() * core::mem::size_of::<AffinePoint>()
    }
}

/// Windows a `width`-bit recoding of a scalar needs: one more than the whole windows in 256
/// bits, for the final carry.
fn windows(width: usize) -> usize {
    SCALAR_BITS / width + 1
}

/// The signed radix-`2^width` digits of `scalar`, least significant first, each in
/// `(−2^(w−1), 2^(w−1)]`: `scalar = Σ dᵢ · 2^(w·i)`.
fn signed_digits(scalar: &Scalar, width: usize) -> impl Iterator<Item = i32> {
    let bytes = scalar.to_repr(); // big-endian
    let bit = move |i: usize| -> u32 {
        if i >= SCALAR_BITS {
            0
        } else {
            u32::from((bytes[31 - i / 8] >> (i % 8)) & 1)
        }
    };
    let (radix, half) = (1i32 << width, 1i32 << (width - 1));
    let mut carry = 0i32;
    (0..windows(width)).map(move |window| {
        let chunk = (0..width).fold(0u32, |v, j| v | (bit(window * width + j) << j));
        // A chunk has at most 8 bits.
        let mut digit = i32::try_from(chunk).unwrap_or(0) + carry;
        carry = 0;
        if digit > half {
            digit -= radix;
            carry = 1;
        }
        digit
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::ops::Reduce;
    use p256::elliptic_curve::Field;

    fn scalar_from_be(bytes: [u8; 32]) -> Scalar {
        <Scalar as Reduce<p256::U256>>::reduce(&p256::U256::from_be_slice(&bytes))
    }

    /// Scalars where recodings go wrong: 0, 1, small ones, n − 1, n − 2, every window full
    /// (carries ripple through all digits), alternating bits, high bits only.
    fn edge_scalars() -> Vec<Scalar> {
        let mut scalars = vec![
            Scalar::ZERO,
            Scalar::ONE,
            Scalar::from(2u64),
            Scalar::from(15u64),
            Scalar::from(16u64),
            Scalar::from(17u64),
            -Scalar::ONE,
            -Scalar::from(2u64),
            -Scalar::from(16u64),
        ];
        for fill in [0xff, 0xaa, 0x55, 0x80, 0x7f, 0x88, 0xf0, 0x0f] {
            scalars.push(scalar_from_be([fill; 32]));
        }
        let mut top = [0u8; 32];
        top[0] = 0x80;
        scalars.push(scalar_from_be(top));
        scalars
    }

    #[test]
    fn a_table_multiplies_like_the_curve_crate() {
        let mut rng = getrandom::SysRng;
        for width in 2..=8 {
            let point = ProjectivePoint::GENERATOR * Scalar::try_random(&mut rng).unwrap();
            let table = FixedBaseTable::new(&point, width);
            // 256 / w whole windows and one for the final carry, 2^(w−1) points each.
            assert_eq!(table.points.len(), (256 / width + 1) << (width - 1));
            let mut scalars = edge_scalars();
            scalars.extend((0..40).map(|_| Scalar::try_random(&mut rng).unwrap()));
            for k in scalars {
                assert_eq!(table.mul(&k), point * k, "width {width}");
            }
        }
    }

    #[test]
    fn digits_recompose_the_scalar() {
        let mut rng = getrandom::SysRng;
        for width in 2..=8 {
            let mut scalars = edge_scalars();
            scalars.extend((0..40).map(|_| Scalar::try_random(&mut rng).unwrap()));
            for k in scalars {
                let mut sum = Scalar::ZERO;
                let mut weight = Scalar::ONE;
                let radix = Scalar::from(1u64 << width);
                let half = 1i32 << (width - 1);
                for digit in signed_digits(&k, width) {
                    assert!(-half < digit && digit <= half, "{digit}");
                    let magnitude = Scalar::from(u64::from(digit.unsigned_abs()));
                    let term = weight * magnitude;
                    sum += if digit < 0 { -term } else { term };
                    weight *= radix;
                }
                assert_eq!(sum, k, "width {width}");
            }
        }
    }
}
