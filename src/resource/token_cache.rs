//! The verified-token cache: a resource server pays one signature verification per request
//! (the proof's) for tokens it has already verified, not two.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::jose::thumbprint::{Thumbprint, TokenHash};
use crate::time::UnixTime;
use crate::token::claims::AccessTokenClaims;
use crate::token::verifier::VerifiedToken;

const SHARDS: usize = 16;

/// Default capacity: 16 384 verified tokens.
pub(crate) const DEFAULT_TOKEN_CACHE_CAPACITY: usize = 1 << 14;

type Shard = Mutex<HashMap<[u8; 32], Entry>>;

struct Entry {
    claims: Arc<AccessTokenClaims>,
    kid: String,
    /// The thumbprint of the key that verified the signature: a hit counts only while the key
    /// set still maps `kid` to this very key.
    key: Thumbprint,
}

/// Verified claims keyed by the token's SHA-256 (the hash `ath` needs anyway), kept until the
/// token's `exp`. A hit replaces only the signature and claim parsing: times, the signing key's
/// presence in the key set, revocation, the proof, the binding and replay are checked on every
/// request.
pub(crate) struct TokenCache {
    shards: Box<[Shard]>,
    shard_capacity: usize,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            shard_capacity: capacity.div_ceil(SHARDS),
        }
    }

    fn shard(&self, hash: &TokenHash) -> &Shard {
        &self.shards[usize::from(hash.as_bytes()[0]) % SHARDS]
    }

    /// The cached token for `hash`, unless it has expired by `now`.
    pub(crate) fn get(&self, hash: &TokenHash, now: UnixTime) -> Option<VerifiedToken> {
        if self.shard_capacity == 0 {
            return None;
        }
        let mut shard = self.shard(hash).lock().unwrap_or_else(|e| e.into_inner());
        let entry = shard.get(hash.as_bytes())?;
        if entry.claims.expires_at() < now {
            shard.remove(hash.as_bytes());
            return None;
        }
        Some(VerifiedToken::from_cache(
            entry.claims.clone(),
            entry.kid.clone(),
            entry.key,
        ))
    }

    /// Remembers a verified token. When the shard is full an arbitrary entry
    /// makes room (constant time; expired entries also leave on lookup): dropping a cache entry
    /// only costs a signature verification later.
    pub(crate) fn insert(&self, hash: &TokenHash, token: &VerifiedToken) {
        if self.shard_capacity == 0 {
            return;
        }
        let mut shard = self.shard(hash).lock().unwrap_or_else(|e| e.into_inner());
        if shard.len() >= self.shard_capacity {
            if let Some(victim) = shard.keys().next().copied() {
                shard.remove(&victim);
            }
        }
        shard.insert(
            *hash.as_bytes(),
            Entry {
                claims: token.shared_claims().clone(),
                kid: token.kid().to_owned(),
                key: token.key(),
            },
        );
    }
}
