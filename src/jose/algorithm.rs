//! The JWS signature algorithms keybound speaks (RFC 7518 §3, RFC 8037 §3.1, RFC 9864 §2), and
//! sets of them for policies.
//!
//! Only asymmetric algorithms exist here: `none`, `HS256`/`HS384`/`HS512` and every other name
//! parse to nothing and are refused before any cryptography runs (RFC 8725 §3.1, §3.2).

use core::fmt;
use core::str::FromStr;

use crate::error::JoseError;

/// A JWS `alg` value this crate can verify and sign.
///
/// Which key may use which algorithm is decided in one place, by the key
/// ([`PublicKey::allows`](crate::PublicKey::allows)): EC P-256/P-384/P-521 ↔ ES256/ES384/ES512,
/// OKP Ed25519 ↔ `Ed25519`/`EdDSA`, RSA ↔ RS*/PS*.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// ECDSA P-256 with SHA-256, `r ‖ s` of 2×32 bytes (RFC 7518 §3.4).
    Es256,
    /// ECDSA P-384 with SHA-384, `r ‖ s` of 2×48 bytes (RFC 7518 §3.4).
    Es384,
    /// ECDSA P-521 with SHA-512, `r ‖ s` of 2×66 bytes (RFC 7518 §3.4).
    Es512,
    /// Ed25519, under its fully-specified name `Ed25519` (RFC 9864 §2.2).
    Ed25519,
    /// `EdDSA` with an Ed25519 key (RFC 8037 §3.1, the older, polymorphic name). Ed448 keys are
    /// not supported, so `EdDSA` only ever means Ed25519 here.
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3).
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (RFC 7518 §3.3).
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (RFC 7518 §3.3).
    Rs512,
    /// RSASSA-PSS with SHA-256, MGF1 with SHA-256, 32-byte salt (RFC 7518 §3.5).
    Ps256,
    /// RSASSA-PSS with SHA-384, MGF1 with SHA-384, 48-byte salt (RFC 7518 §3.5).
    Ps384,
    /// RSASSA-PSS with SHA-512, MGF1 with SHA-512, 64-byte salt (RFC 7518 §3.5).
    Ps512,
}

impl Algorithm {
    /// Every supported algorithm, in the order challenges list them.
    pub const ALL: [Self; 11] = [
        Self::Es256,
        Self::Es384,
        Self::Es512,
        Self::Ed25519,
        Self::EdDsa,
        Self::Rs256,
        Self::Rs384,
        Self::Rs512,
        Self::Ps256,
        Self::Ps384,
        Self::Ps512,
    ];

    /// The registered `alg` name, e.g. `"ES256"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
            Self::Ed25519 => "Ed25519",
            Self::EdDsa => "EdDSA",
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
        }
    }

    /// The algorithm named exactly `name` (case-sensitive, RFC 7515 §4.1.1); `None` for `none`,
    /// HMAC and every name this crate does not implement.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == name)
    }

    /// Whether this is an RSA algorithm (RS* or PS*).
    pub const fn is_rsa(self) -> bool {
        matches!(
            self,
            Self::Rs256 | Self::Rs384 | Self::Rs512 | Self::Ps256 | Self::Ps384 | Self::Ps512
        )
    }

    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = JoseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or(JoseError::UnsupportedAlgorithm)
    }
}

/// A set of [`Algorithm`]s: what a verifier accepts, what a challenge's `algs` lists.
///
/// `Copy`, so option structs that hold one stay `Copy`. [`AlgorithmSet::all`] is every
/// supported algorithm; build narrower sets with [`from_iter`](FromIterator::from_iter).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlgorithmSet(u16);

impl AlgorithmSet {
    /// Every supported algorithm.
    pub const fn all() -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < Algorithm::ALL.len() {
            bits |= Algorithm::ALL[i].bit();
            i += 1;
        }
        Self(bits)
    }

    /// No algorithm at all.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// A set of exactly one algorithm.
    pub const fn only(alg: Algorithm) -> Self {
        Self(alg.bit())
    }

    /// This set with `alg` added.
    pub const fn with(self, alg: Algorithm) -> Self {
        Self(self.0 | alg.bit())
    }

    /// Whether `alg` is in the set.
    pub const fn contains(self, alg: Algorithm) -> bool {
        self.0 & alg.bit() != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The algorithms in the set, in [`Algorithm::ALL`] order.
    pub fn iter(self) -> AlgorithmSetIter {
        self.into_iter()
    }

    /// The names, space-separated, as the `algs` challenge parameter wants them
    /// (RFC 9449 §7.1).
    pub fn to_names(self) -> String {
        let names: Vec<&str> = self.iter().map(Algorithm::as_str).collect();
        names.join(" ")
    }
}

impl Default for AlgorithmSet {
    /// [`AlgorithmSet::all`].
    fn default() -> Self {
        Self::all()
    }
}

impl FromIterator<Algorithm> for AlgorithmSet {
    fn from_iter<I: IntoIterator<Item = Algorithm>>(iter: I) -> Self {
        iter.into_iter().fold(Self::empty(), Self::with)
    }
}

impl IntoIterator for AlgorithmSet {
    type Item = Algorithm;
    type IntoIter = AlgorithmSetIter;

    fn into_iter(self) -> AlgorithmSetIter {
        AlgorithmSetIter { set: self, next: 0 }
    }
}

/// The algorithms of an [`AlgorithmSet`], in [`Algorithm::ALL`] order.
#[derive(Clone, Debug)]
pub struct AlgorithmSetIter {
    set: AlgorithmSet,
    next: usize,
}

impl Iterator for AlgorithmSetIter {
    type Item = Algorithm;

    fn next(&mut self) -> Option<Algorithm> {
        while let Some(alg) = Algorithm::ALL.get(self.next).copied() {
            self.next += 1;
            if self.set.contains(alg) {
                return Some(alg);
            }
        }
        None
    }
}

impl fmt::Debug for AlgorithmSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.as_str()), Some(alg));
            assert_eq!(alg.as_str().parse::<Algorithm>(), Ok(alg));
        }
        for name in [
            "none", "None", "HS256", "HS384", "HS512", "es256", "ED25519", "eddsa", "Ed448",
            "ES256K", "RS1", "PS256 ", "",
        ] {
            assert_eq!(Algorithm::from_name(name), None, "{name}");
        }
    }

    #[test]
    fn sets() {
        let all = AlgorithmSet::all();
        assert!(Algorithm::ALL.iter().all(|a| all.contains(*a)));
        assert_eq!(all.iter().count(), 11);
        let narrow: AlgorithmSet = [Algorithm::Ps256, Algorithm::Es256].into_iter().collect();
        assert!(narrow.contains(Algorithm::Es256));
        assert!(!narrow.contains(Algorithm::Rs256));
        assert_eq!(narrow.to_names(), "ES256 PS256");
        assert!(AlgorithmSet::empty().is_empty());
        assert_eq!(
            all.to_names(),
            "ES256 ES384 ES512 Ed25519 EdDSA RS256 RS384 RS512 PS256 PS384 PS512"
        );
    }
}
