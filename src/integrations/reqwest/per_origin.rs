//! What the client learns per origin (nonces, clock skew), in a map of bounded size: the
//! least recently used origin is forgotten when a new one arrives at capacity, so a program
//! that talks to many origins cannot grow the client's memory without bound.

use std::collections::HashMap;
use std::hash::Hash;

/// How many origins (per kind of state) a [`DpopClient`](crate::DpopClient) remembers. Forgetting
/// one costs at most a `use_dpop_nonce` retry or a relearnt skew.
pub(crate) const MAX_ORIGINS: usize = 256;

/// A map that holds at most `capacity` entries, evicting the least recently used.
pub(crate) struct PerOrigin<K, V> {
    entries: HashMap<K, (V, u64)>,
    /// Incremented on every use; an entry's stamp is its last use.
    tick: u64,
    capacity: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> PerOrigin<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            tick: 0,
            capacity: capacity.max(1),
        }
    }

    /// The value for `key`, marking it used.
    pub(crate) fn get(&mut self, key: &K) -> Option<V> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(key).map(|(value, used)| {
            *used = tick;
            value.clone()
        })
    }

    /// Sets `key` to `value`, forgetting the least recently used entry if `key` is new and
    /// the map is full.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        self.tick += 1;
        if !self.entries.contains_key(&key) && self.entries.len() >= self.capacity {
            // O(capacity), and only when a new origin arrives at capacity.
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key, (value, self.tick));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_at_most_capacity_and_forgets_the_least_recently_used() {
        let mut map = PerOrigin::new(3);
        for origin in ["a", "b", "c"] {
            map.insert(origin, origin.len());
        }
        assert_eq!(map.get(&"a"), Some(1)); // "b" is now the least recently used
        map.insert("d", 1);
        assert_eq!(map.len(), 3);
        assert_eq!(map.get(&"b"), None);
        assert_eq!(map.get(&"a"), Some(1));
        assert_eq!(map.get(&"c"), Some(1));
        // Updating a known key evicts nothing.
        map.insert("c", 7);
        assert_eq!(map.len(), 3);
        assert_eq!(map.get(&"c"), Some(7));
        assert_eq!(map.get(&"d"), Some(1));
        for n in 0..1000 {
            map.insert(if n % 2 == 0 { "x" } else { "y" }, n);
        }
        assert_eq!(map.len(), 3);
    }
}
