//! Introspection answers kept by the token's SHA-256: active ones for a while (never past the
//! token's `exp`), refusals briefly. Network failures are never cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::TokenError;
use crate::jose::thumbprint::TokenHash;
use crate::time::UnixTime;
use crate::token::claims::AccessTokenClaims;

const SHARDS: usize = 16;

/// The claims of an active token, or why the token is refused.
pub(crate) type Verdict = Result<Arc<AccessTokenClaims>, TokenError>;

type Shard = Mutex<HashMap<[u8; 32], Entry>>;

struct Entry {
    verdict: Verdict,
    until: UnixTime,
}

pub(crate) struct IntrospectionCache {
    shards: Box<[Shard]>,
    shard_capacity: usize,
}

impl IntrospectionCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            shard_capacity: capacity.div_ceil(SHARDS),
        }
    }

    fn shard(&self, hash: &TokenHash) -> &Shard {
        &self.shards[usize::from(hash.as_bytes()[0]) % SHARDS]
    }

    /// The answer for `hash`, if one is kept and still current at `now`.
    pub(crate) fn get(&self, hash: &TokenHash, now: UnixTime) -> Option<Verdict> {
        if self.shard_capacity == 0 {
            return None;
        }
        let mut shard = self.shard(hash).lock().unwrap_or_else(|e| e.into_inner());
        let entry = shard.get(hash.as_bytes())?;
        if now >= entry.until {
            shard.remove(hash.as_bytes());
            return None;
        }
        Some(entry.verdict.clone())
    }

    /// Keeps `verdict` until `until`. When the shard is full an arbitrary entry makes room:
    /// forgetting an answer only costs one more introspection request.
    pub(crate) fn insert(&self, hash: &TokenHash, verdict: Verdict, until: UnixTime) {
        if self.shard_capacity == 0 {
            return;
        }
        let mut shard = self.shard(hash).lock().unwrap_or_else(|e| e.into_inner());
        if shard.len() >= self.shard_capacity && !shard.contains_key(hash.as_bytes()) {
            if let Some(victim) = shard.keys().next().copied() {
                shard.remove(&victim);
            }
        }
        shard.insert(*hash.as_bytes(), Entry { verdict, until });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_end_at_their_time_and_capacity_holds() {
        let cache = IntrospectionCache::new(16);
        let hash = TokenHash::of("t");
        cache.insert(&hash, Err(TokenError::Inactive), UnixTime::from_secs(10));
        assert_eq!(
            cache.get(&hash, UnixTime::from_secs(9)),
            Some(Err(TokenError::Inactive))
        );
        assert_eq!(cache.get(&hash, UnixTime::from_secs(10)), None);
        for i in 0..1000 {
            let hash = TokenHash::of(&i.to_string());
            cache.insert(&hash, Err(TokenError::Inactive), UnixTime::from_secs(100));
        }
        let kept: usize = cache.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(kept <= 16, "{kept}");
        let off = IntrospectionCache::new(0);
        off.insert(&hash, Err(TokenError::Inactive), UnixTime::from_secs(100));
        assert_eq!(off.get(&hash, UnixTime::from_secs(1)), None);
    }
}
