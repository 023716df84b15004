//! Per-key precomputed tables for P-256 verification (issue 18): the keys a server verifies
//! with again and again get a fixed-base table, and their verifications cost about a third
//! of the plain `p256` one. `fixed_base.rs` builds and uses a table, `verify.rs` is ECDSA
//! verification through tables, `cache.rs` decides which keys get one.
//!
//! Everything here handles public values only (public keys, signatures, digests), so its
//! variable-time arithmetic reveals nothing secret; no private key ever reaches it.

mod cache;
mod fixed_base;
mod verify;

use std::sync::{Arc, LazyLock};

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::ProjectivePoint;
use sha2::Digest;

use crate::jose::backend::key_tables::KeyTableStats;
use cache::{Decision, KeyTableCache};
pub(crate) use cache::{PointBytes, ADMIT_AT, DEFAULT_LIMIT_BYTES};
use fixed_base::FixedBaseTable;

static CACHE: LazyLock<KeyTableCache> = LazyLock::new(|| KeyTableCache::new(DEFAULT_LIMIT_BYTES));

/// Verifies `signature` over `message` by `key` (whose point is `point`): through its table
/// when the key has or earns one, else with `p256` itself. Same answer either way.
pub(crate) fn verify(
    key: &VerifyingKey,
    point: &PointBytes,
    message: &[u8],
    signature: &Signature,
) -> bool {
    let digest = sha2::Sha256::digest(message);
    match CACHE.decide(point) {
        Decision::Table(table) => verify::verify_prehash(&table, &digest, signature),
        Decision::Build => {
            let table = Arc::new(FixedBaseTable::new(
                &ProjectivePoint::from(*key.as_affine()),
                verify::KEY_WIDTH,
            ));
            CACHE.insert(point, table.clone());
            verify::verify_prehash(&table, &digest, signature)
        }
        Decision::Plain => key.verify_prehash(&digest, signature).is_ok(),
    }
}

/// Bytes one key's table takes (its points; the cache charges a little more per entry).
pub(crate) fn table_bytes() -> usize {
    let half = 1usize << (verify::KEY_WIDTH - 1);
    (256 / verify::KEY_WIDTH + 1) * half * core::mem::size_of::<p256::AffinePoint>()
}

pub(crate) fn set_limit(bytes: usize) {
    CACHE.set_limit(bytes);
}

pub(crate) fn limit() -> usize {
    CACHE.limit()
}

pub(crate) fn stats() -> KeyTableStats {
    CACHE.stats()
}

/// `(p256's verdict, the table path's verdict)` for `signature` over `message` by the
/// uncompressed point `sec1`, the table built afresh (no cache); `None` if the key or the
/// signature does not parse (then neither path runs). For the differential tests and fuzzing.
pub(crate) fn verify_both(sec1: &[u8], message: &[u8], signature: &[u8]) -> Option<(bool, bool)> {
    let key = VerifyingKey::from_sec1_bytes(sec1).ok()?;
    let signature = Signature::from_slice(signature).ok()?;
    let digest = sha2::Sha256::digest(message);
    let table = FixedBaseTable::new(&ProjectivePoint::from(*key.as_affine()), verify::KEY_WIDTH);
    Some((
        key.verify_prehash(&digest, &signature).is_ok(),
        verify::verify_prehash(&table, &digest, &signature),
    ))
}

/// Builds the table of the uncompressed point `sec1` and returns its size in bytes; `None` if
/// the point does not parse. For measuring the build.
pub(crate) fn build_table(sec1: &[u8]) -> Option<usize> {
    let key = VerifyingKey::from_sec1_bytes(sec1).ok()?;
    Some(FixedBaseTable::new(&ProjectivePoint::from(*key.as_affine()), verify::KEY_WIDTH).size())
}
