//! No per-key tables with aws-lc-rs: its verification is faster without them. The same API as
//! the default backend's, doing nothing.

use crate::jose::backend::key_tables::KeyTableStats;

/// 0: no key ever gets a table.
pub(crate) const ADMIT_AT: u32 = 0;

pub(crate) fn set_limit(_bytes: usize) {}

pub(crate) fn limit() -> usize {
    0
}

pub(crate) fn table_bytes() -> usize {
    0
}

pub(crate) fn stats() -> KeyTableStats {
    KeyTableStats::default()
}
