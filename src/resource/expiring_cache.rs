//! A bounded map from a token's SHA-256 to a value that is good until a given time: the shape
//! of the verified-token cache and of the introspection cache.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::jose::thumbprint::TokenHash;
use crate::time::UnixTime;

const SHARDS: usize = 16;

type Shard<V> = Mutex<HashMap<[u8; 32], (V, UnixTime)>>;

/// Values keyed by [`TokenHash`], each kept until its time; sharded so concurrent requests
/// rarely share a lock. When a shard is full an arbitrary entry makes room (constant time;
/// expired entries also leave on lookup): dropping an entry only costs redoing the work it
/// saved. A capacity of 0 keeps nothing.
pub(crate) struct ExpiringCache<V> {
    shards: Box<[Shard<V>]>,
    shard_capacity: usize,
}

impl<V: Clone> ExpiringCache<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            shard_capacity: capacity.div_ceil(SHARDS),
        }
    }

    fn shard(&self, hash: &TokenHash) -> &Shard<V> {
        &self.shards[usize::from(hash.as_bytes()[0]) % SHARDS]
    }

    /// The value for `hash`, unless its time has come by `now` (it is then forgotten).
    pub(crate) fn get(&self, hash: &TokenHash, now: UnixTime) -> Option<V> {
        if self.shard_capacity == 0 {
            return None;
        }
        let mut shard = self.shard(hash).lock().unwrap_or_else(|e| e.into_inner());
        let (value, until) = shard.get(hash.as_bytes())?;
        if now >= *until {
            shard.remove(hash.as_bytes());
            return None;
        }
        Some(value.clone())
    }

    /// Keeps `value` for `hash` until `until`.
    pub(crate) fn insert(&self, hash: &TokenHash, value: V, until: UnixTime) {
        if self.shard_capacity == 0 {
            return;
        }
        let mut shard = self.shard(hash).lock().unwrap_or_else(|e| e.into_inner());
        if shard.len() >= self.shard_capacity && !shard.contains_key(hash.as_bytes()) {
            if let Some(victim) = shard.keys().next().copied() {
                shard.remove(&victim);
            }
        }
        shard.insert(*hash.as_bytes(), (value, until));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_end_at_their_time_and_capacity_holds() {
        let cache = ExpiringCache::new(16);
        let hash = TokenHash::of("t");
        cache.insert(&hash, 1, UnixTime::from_secs(10));
        assert_eq!(cache.get(&hash, UnixTime::from_secs(9)), Some(1));
        assert_eq!(cache.get(&hash, UnixTime::from_secs(10)), None);
        for i in 0..1000 {
            cache.insert(&TokenHash::of(&i.to_string()), i, UnixTime::from_secs(100));
        }
        assert!(cache.len() <= 16, "{}", cache.len());
        let off = ExpiringCache::new(0);
        off.insert(&hash, 1, UnixTime::from_secs(100));
        assert_eq!(off.get(&hash, UnixTime::from_secs(1)), None);
    }
}
