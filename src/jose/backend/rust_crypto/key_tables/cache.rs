//! Which P-256 keys get a table: the keys a server sees again and again (its issuers' keys,
//! its active clients' proof keys), within a memory bound.
//!
//! A key earns a table on its [`ADMIT_AT`]-th verification (before that, and for every key seen
//! fewer times, the plain `p256` verification runs): a table costs about three verifications
//! to build and pays for itself after about four uses (BENCHMARKS.md). Sightings of keys without
//! a table are counted in a bounded map that is emptied when full, so a flood of one-off keys —
//! an attacker minting a key per request — never builds a table, never evicts a hot one, and
//! costs one map lookup per request. Tables are evicted least recently used first once their
//! bytes pass the limit. Keys are compared by their whole public point, never by a label.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::fixed_base::FixedBaseTable;
use crate::jose::backend::key_tables::KeyTableStats;

/// The verification (counting from 1) at which a key gets its table.
pub(crate) const ADMIT_AT: u32 = 5;

/// Default memory for tables: 16 MiB, about 270 keys.
pub(crate) const DEFAULT_LIMIT_BYTES: usize = 16 << 20;

/// Keys without a table whose sightings are counted at once; the count restarts when full.
const SIGHTINGS_CAPACITY: usize = 4096;

/// Bytes a cached table is charged beyond its points: its key, the map entry, the `Arc`.
const ENTRY_OVERHEAD: usize = 160;

/// An uncompressed P-256 public point without its `0x04` tag: `x ‖ y`.
pub(crate) type PointBytes = [u8; 64];

struct Cached {
    table: Arc<FixedBaseTable>,
    last_used: u64,
    charge: usize,
}

struct State {
    limit: usize,
    clock: u64,
    tables: HashMap<PointBytes, Cached>,
    sightings: HashMap<PointBytes, u32>,
    stats: KeyTableStats,
}

impl State {
    /// Evicts the least recently used tables until `extra` more bytes fit the limit (a linear
    /// scan: it runs only when a table is built, which costs far more).
    fn make_room(&mut self, extra: usize) {
        while self.stats.bytes + extra > self.limit {
            let Some(oldest) = self
                .tables
                .iter()
                .min_by_key(|(_, cached)| cached.last_used)
                .map(|(point, _)| *point)
            else {
                break;
            };
            if let Some(evicted) = self.tables.remove(&oldest) {
                self.stats.bytes -= evicted.charge;
                self.stats.evictions += 1;
            }
        }
    }
}

/// The process's tables.
pub(crate) struct KeyTableCache {
    state: Mutex<State>,
}

/// What to do for one verification.
pub(crate) enum Decision {
    /// Verify with this table.
    Table(Arc<FixedBaseTable>),
    /// Build the key's table (outside the lock), [`insert`](KeyTableCache::insert) it, use it.
    Build,
    /// The plain verification.
    Plain,
}

impl KeyTableCache {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            state: Mutex::new(State {
                limit,
                clock: 0,
                tables: HashMap::new(),
                sightings: HashMap::new(),
                stats: KeyTableStats::default(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What to do for one verification by `point`.
    pub(crate) fn decide(&self, point: &PointBytes) -> Decision {
        let mut state = self.state();
        state.clock += 1;
        let now = state.clock;
        if let Some(cached) = state.tables.get_mut(point) {
            cached.last_used = now;
            let table = cached.table.clone();
            state.stats.hits += 1;
            return Decision::Table(table);
        }
        if state.limit == 0 {
            state.stats.plain += 1;
            return Decision::Plain;
        }
        if !state.sightings.contains_key(point) && state.sightings.len() >= SIGHTINGS_CAPACITY {
            state.sightings.clear();
        }
        let seen = state.sightings.entry(*point).or_insert(0);
        *seen += 1;
        if *seen >= ADMIT_AT {
            state.sightings.remove(point);
            return Decision::Build;
        }
        state.stats.plain += 1;
        Decision::Plain
    }

    /// Keeps `table` for `point`, evicting the least recently used tables past the limit; a
    /// table larger than the whole limit is used once and not kept.
    pub(crate) fn insert(&self, point: &PointBytes, table: Arc<FixedBaseTable>) {
        let mut state = self.state();
        state.stats.builds += 1;
        let charge = table.size() + ENTRY_OVERHEAD;
        if charge > state.limit || state.tables.contains_key(point) {
            return;
        }
        state.make_room(charge);
        let last_used = state.clock;
        state.tables.insert(
            *point,
            Cached {
                table,
                last_used,
                charge,
            },
        );
        state.stats.bytes += charge;
        state.stats.tables = state.tables.len();
    }

    /// Sets the memory limit (0: no tables), evicting what no longer fits.
    pub(crate) fn set_limit(&self, limit: usize) {
        let mut state = self.state();
        state.limit = limit;
        state.make_room(0);
        state.stats.tables = state.tables.len();
    }

    pub(crate) fn limit(&self) -> usize {
        self.state().limit
    }

    pub(crate) fn stats(&self) -> KeyTableStats {
        let state = self.state();
        KeyTableStats {
            tables: state.tables.len(),
            ..state.stats
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(n: u32) -> PointBytes {
        let mut bytes = [0u8; 64];
        bytes[..4].copy_from_slice(&n.to_be_bytes());
        bytes
    }

    /// A small table (2-bit digits): the cache only counts its bytes.
    fn table() -> Arc<FixedBaseTable> {
        Arc::new(FixedBaseTable::new(&p256::ProjectivePoint::GENERATOR, 2))
    }

    fn charge() -> usize {
        table().size() + ENTRY_OVERHEAD
    }

    /// Sees `point` until the cache says to build, builds, and returns how many times it was
    /// seen.
    fn admit(cache: &KeyTableCache, point: &PointBytes) -> u32 {
        for seen in 1..=ADMIT_AT {
            match cache.decide(point) {
                Decision::Plain => {}
                Decision::Build => {
                    cache.insert(point, table());
                    return seen;
                }
                Decision::Table(_) => panic!("a table before admission"),
            }
        }
        panic!("never admitted")
    }

    #[test]
    fn a_key_gets_its_table_on_the_admitting_verification() {
        let cache = KeyTableCache::new(DEFAULT_LIMIT_BYTES);
        assert_eq!(admit(&cache, &point(1)), ADMIT_AT);
        assert!(matches!(cache.decide(&point(1)), Decision::Table(_)));
        let stats = cache.stats();
        assert_eq!(
            (stats.tables, stats.builds, stats.hits, stats.plain),
            (1, 1, 1, u64::from(ADMIT_AT - 1))
        );
        assert_eq!(stats.bytes, charge());
    }

    /// A new key per verification never builds a table, keeps the sightings map bounded, and
    /// leaves the tables of hot keys alone.
    #[test]
    fn a_flood_of_one_off_keys_builds_nothing_and_evicts_nothing() {
        let cache = KeyTableCache::new(DEFAULT_LIMIT_BYTES);
        admit(&cache, &point(0));
        for n in 1..=3 * SIGHTINGS_CAPACITY as u32 {
            assert!(matches!(cache.decide(&point(n)), Decision::Plain));
        }
        assert!(cache.state().sightings.len() <= SIGHTINGS_CAPACITY);
        assert!(matches!(cache.decide(&point(0)), Decision::Table(_)));
        assert_eq!((cache.stats().builds, cache.stats().evictions), (1, 0));
    }

    #[test]
    fn the_least_recently_used_table_goes_first() {
        let cache = KeyTableCache::new(2 * charge());
        admit(&cache, &point(1));
        admit(&cache, &point(2));
        // Key 1 used after key 2: key 2 is the one to go.
        assert!(matches!(cache.decide(&point(1)), Decision::Table(_)));
        admit(&cache, &point(3));
        assert!(matches!(cache.decide(&point(1)), Decision::Table(_)));
        assert!(matches!(cache.decide(&point(3)), Decision::Table(_)));
        assert!(matches!(cache.decide(&point(2)), Decision::Plain));
        let stats = cache.stats();
        assert_eq!((stats.tables, stats.evictions), (2, 1));
        assert!(stats.bytes <= 2 * charge());
    }

    #[test]
    fn a_lower_limit_evicts_and_zero_turns_tables_off() {
        let cache = KeyTableCache::new(DEFAULT_LIMIT_BYTES);
        for n in 1..=3 {
            admit(&cache, &point(n));
        }
        cache.set_limit(charge());
        assert_eq!(cache.limit(), charge());
        assert_eq!(cache.stats().tables, 1);
        cache.set_limit(0);
        assert_eq!(cache.limit(), 0);
        assert_eq!(cache.stats().tables, 0);
        let plain = cache.stats().plain;
        for _ in 0..2 * ADMIT_AT {
            assert!(matches!(cache.decide(&point(9)), Decision::Plain));
        }
        // Each of them counted as a plain verification.
        assert_eq!(cache.stats().plain, plain + u64::from(2 * ADMIT_AT));
        // A table larger than the limit is not kept.
        let small = KeyTableCache::new(charge() - 1);
        admit(&small, &point(1));
        assert_eq!(small.stats().tables, 0);
    }

    /// Keys seen in turn each keep their count: a new key clears the sightings only when the
    /// map is full.
    #[test]
    fn interleaved_keys_are_each_admitted_on_their_admitting_verification() {
        let cache = KeyTableCache::new(DEFAULT_LIMIT_BYTES);
        for seen in 1..=ADMIT_AT {
            for n in 1..=3 {
                match cache.decide(&point(n)) {
                    Decision::Plain => assert!(seen < ADMIT_AT, "key {n} not admitted"),
                    Decision::Build => {
                        assert_eq!(seen, ADMIT_AT, "key {n} admitted early");
                        cache.insert(&point(n), table());
                    }
                    Decision::Table(_) => panic!("a table before admission"),
                }
            }
        }
        assert_eq!(cache.stats().tables, 3);
    }

    /// A table whose charge is exactly the limit is kept; the next one replaces it.
    #[test]
    fn a_table_that_exactly_fits_the_limit_is_kept() {
        let cache = KeyTableCache::new(charge());
        admit(&cache, &point(1));
        assert_eq!((cache.stats().tables, cache.stats().bytes), (1, charge()));
        admit(&cache, &point(2));
        let stats = cache.stats();
        assert_eq!(
            (stats.tables, stats.bytes, stats.evictions),
            (1, charge(), 1)
        );
        assert!(cache.state().tables.contains_key(&point(2)));
    }

    /// Evictions take the tables in the order of their last use, whatever the map's order.
    #[test]
    fn evictions_follow_the_order_of_last_use() {
        const KEPT: u32 = 8;
        let cache = KeyTableCache::new(KEPT as usize * charge());
        for n in 1..=KEPT {
            admit(&cache, &point(n));
        }
        let order = [3, 7, 1, 8, 2, 6, 4, 5];
        for n in order {
            assert!(matches!(cache.decide(&point(n)), Decision::Table(_)));
        }
        for (i, evicted) in order.into_iter().enumerate() {
            admit(&cache, &point(100 + i as u32));
            let state = cache.state();
            assert!(
                !state.tables.contains_key(&point(evicted)),
                "{evicted} kept"
            );
            for later in &order[i + 1..] {
                assert!(state.tables.contains_key(&point(*later)), "{later} evicted");
            }
        }
        assert_eq!(cache.stats().evictions, u64::from(KEPT));
    }
}
