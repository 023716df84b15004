//! No per-key tables with aws-lc-rs: its verification is faster without them. The same API as
//! the default backend's, doing nothing.

use crate::jose::backend::key_tables::KeyTableStats;

pub(crate) const ADMIT_AT: u32 = u32::MAX;

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
