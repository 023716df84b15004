//! Limits, time windows and accepted algorithms for proof verification.

use crate::jose::algorithm::{Algorithm, AlgorithmSet};

/// Largest RSA modulus a proof key may have, in bits. Fixed: a client chooses its proof key,
/// and an 8192-bit key costs a verifier about 4× a 4096-bit one.
pub(crate) const MAX_PROOF_RSA_BITS: usize = 4096;

/// How strictly a [`ProofVerifier`](crate::ProofVerifier) checks proofs. Every default is
/// chosen for safety and written below with its reason.
///
/// Proof keys may be EC P-256/P-384/P-521, Ed25519 or RSA of 2048..=4096 bits; each proof's
/// `alg` must be in [`algorithms`](Self::algorithms) and fit its `jwk` (RFC 9449 §4.3 step 5,
/// RFC 8725 §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProofOptions {
    /// How old a proof's `iat` may be, in seconds. Default **60**: RFC 9449 §11.1 asks for a
    /// short window; a minute covers slow networks while keeping the replay store small.
    pub max_age_secs: u64,
    /// Clock skew tolerated in both directions, in seconds. Default **5**: client clocks drift;
    /// more leeway widens the window in which a captured proof is usable.
    pub leeway_secs: u64,
    /// Largest `DPoP` header value accepted, in bytes, checked before any decoding. Default
    /// **8192** (8 KiB): an ES256 proof is well under 1 KiB; the bound caps parser work.
    pub max_proof_len: usize,
    /// Longest `jti` accepted, in bytes. Default **256**: RFC 9449 needs ≥ 96 bits of entropy;
    /// 256 bytes is generous and bounds what a client can make the server hash.
    pub max_jti_len: usize,
    /// Deepest JSON nesting accepted in the header and claims. Default **8**: a proof header
    /// nests one object (`jwk`); anything deeper is not a proof.
    pub max_json_depth: usize,
    /// The proof algorithms accepted (RFC 9449 §4.3 step 5), and what the `algs` parameter of
    /// every DPoP challenge lists (§7.1). Default: **all eleven** supported (ES256, ES384,
    /// ES512, Ed25519, EdDSA, RS256/384/512, PS256/384/512): each is safe with a key that fits
    /// it, and clients differ in what they can sign. An empty set refuses every proof.
    pub algorithms: AlgorithmSet,
}

impl ProofOptions {
    /// The defaults described on each field.
    pub const fn new() -> Self {
        Self {
            max_age_secs: 60,
            leeway_secs: 5,
            max_proof_len: 8 * 1024,
            max_jti_len: 256,
            max_json_depth: 8,
            algorithms: AlgorithmSet::all(),
        }
    }

    /// Sets [`algorithms`](Self::algorithms), e.g. `[Algorithm::Es256, Algorithm::Ps256]`.
    pub fn with_algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Sets [`max_age_secs`](Self::max_age_secs).
    pub const fn with_max_age_secs(mut self, secs: u64) -> Self {
        self.max_age_secs = secs;
        self
    }

    /// Sets [`leeway_secs`](Self::leeway_secs).
    pub const fn with_leeway_secs(mut self, secs: u64) -> Self {
        self.leeway_secs = secs;
        self
    }

    /// Sets [`max_proof_len`](Self::max_proof_len).
    pub const fn with_max_proof_len(mut self, bytes: usize) -> Self {
        self.max_proof_len = bytes;
        self
    }

    /// Sets [`max_jti_len`](Self::max_jti_len).
    pub const fn with_max_jti_len(mut self, bytes: usize) -> Self {
        self.max_jti_len = bytes;
        self
    }

    /// Sets [`max_json_depth`](Self::max_json_depth).
    pub const fn with_max_json_depth(mut self, depth: usize) -> Self {
        self.max_json_depth = depth;
        self
    }

    /// How long an accepted proof must be remembered: until `iat + max_age + leeway`, the last
    /// instant at which it would still pass the `iat` check.
    pub(crate) fn replay_expiry(&self, iat: u64) -> u64 {
        iat.saturating_add(self.max_age_secs)
            .saturating_add(self.leeway_secs)
    }
}

impl Default for ProofOptions {
    fn default() -> Self {
        Self::new()
    }
}
