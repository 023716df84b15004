//! The verified-token cache: a resource server pays one signature verification per request
//! (the proof's) for tokens it has already verified, not two.

use std::sync::Arc;

use crate::jose::thumbprint::{Thumbprint, TokenHash};
use crate::resource::expiring_cache::ExpiringCache;
use crate::time::UnixTime;
use crate::token::claims::AccessTokenClaims;
use crate::token::verifier::VerifiedToken;

/// Default capacity: 16 384 verified tokens.
pub(crate) const DEFAULT_TOKEN_CACHE_CAPACITY: usize = 1 << 14;

#[derive(Clone)]
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
    entries: ExpiringCache<Entry>,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: ExpiringCache::new(capacity),
        }
    }

    /// The cached token for `hash`, unless it has expired by `now`.
    pub(crate) fn get(&self, hash: &TokenHash, now: UnixTime) -> Option<VerifiedToken> {
        let entry = self.entries.get(hash, now)?;
        Some(VerifiedToken::from_cache(
            entry.claims,
            entry.kid,
            entry.key,
        ))
    }

    /// Remembers a verified token until just after its `exp`.
    pub(crate) fn insert(&self, hash: &TokenHash, token: &VerifiedToken) {
        let claims = token.shared_claims().clone();
        let until = claims.expires_at().saturating_add(1);
        let entry = Entry {
            claims,
            kid: token.kid().to_owned(),
            key: token.key(),
        };
        self.entries.insert(hash, entry, until);
    }
}
