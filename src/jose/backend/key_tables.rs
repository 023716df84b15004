//! The public face of per-key verification tables: their memory bound and what they did.

use super::imp;

/// Per-key precomputed tables for ES256 verification with the default, pure-Rust backend.
///
/// A resource server verifies signatures by few keys again and again: its issuers' keys (every
/// token it has not cached) and each active client's proof key (every request). A P-256 key
/// verified with for the [`admit_at`](Self::admit_at)-th time gets a table of its multiples
/// (about 60 KB, [`table_bytes`](Self::table_bytes)), built once from `p256`'s own group
/// operations, and every later verification by it costs about a third of the plain `p256`
/// one — with exactly the same answers (Wycheproof, the RFC vectors, differential and fuzz
/// tests hold the two paths together). Keys seen fewer times, and every other curve and
/// algorithm, take the plain path.
///
/// Bounds: tables are kept least recently used first within
/// [`memory_limit`](Self::memory_limit) — default 16 MiB, about 270 keys — and keys without a
/// table are counted in a bounded map (4 096 keys) that starts over when full, so a client
/// sending a new key with every proof never gets a table built and never evicts a hot one; its
/// requests cost what they cost without tables. The tables are process-wide and hold only
/// public keys.
///
/// With feature `aws-lc` there are no tables (aws-lc-rs is faster without them): the limit is
/// 0 and setting it changes nothing.
///
/// ```
/// // A server with many active clients: room for about 1 000 keys.
/// keybound::KeyTables::set_memory_limit(64 << 20);
/// # keybound::KeyTables::set_memory_limit(16 << 20);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct KeyTables;

/// What the tables did since the process started: [`KeyTables::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyTableStats {
    /// Keys with a table now.
    pub tables: usize,
    /// Bytes those tables are charged (their points plus a small per-entry overhead).
    pub bytes: usize,
    /// Verifications through a table.
    pub hits: u64,
    /// Tables built.
    pub builds: u64,
    /// Tables evicted to stay within the limit.
    pub evictions: u64,
    /// P-256 verifications by the plain path (keys without a table).
    pub plain: u64,
}

impl KeyTables {
    /// The verification, counting from 1, at which a P-256 key gets its table: a table costs
    /// about three plain verifications to build and has paid for itself after about four uses
    /// (BENCHMARKS.md). 0 with `aws-lc`: no key ever gets one.
    pub fn admit_at() -> u32 {
        imp::key_tables::ADMIT_AT
    }

    /// Sets the memory for tables, in bytes (0: no tables), evicting what no longer fits.
    pub fn set_memory_limit(bytes: usize) {
        imp::key_tables::set_limit(bytes);
    }

    /// The memory for tables, in bytes: 16 MiB unless set (0 with `aws-lc`).
    pub fn memory_limit() -> usize {
        imp::key_tables::limit()
    }

    /// Bytes of one key's table (0 with `aws-lc`).
    pub fn table_bytes() -> usize {
        imp::key_tables::table_bytes()
    }

    /// What the tables did so far.
    pub fn stats() -> KeyTableStats {
        imp::key_tables::stats()
    }
}
