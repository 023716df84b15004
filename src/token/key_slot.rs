//! Where a verifier reads its issuer's keys: a fixed set, or one a
//! [`RemoteKeySet`](crate::RemoteKeySet) keeps current. Reading costs one lock-free-in-practice
//! read lock, an `Arc` clone and one atomic load, whichever kind it is.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::error::UpstreamError;
use crate::time::UnixTime;
use crate::token::key_set::KeySet;

/// A boxed future, for the object-safe refresh hook.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a verifier calls when a token names a `kid` its key set does not hold: the owner of
/// the set may refetch it (rate-limited) and answer whether a newer set is now in place.
pub(crate) trait UnknownKidRefresh: Send + Sync {
    fn refresh_for_unknown_kid(&self, now: UnixTime) -> BoxFuture<'_, bool>;
}

/// The current key set and until when it may be used.
pub(crate) struct KeySlot {
    keys: RwLock<Option<Arc<KeySet>>>,
    /// Unix seconds after which the set is refused ([`UpstreamError::KeysExpired`]);
    /// `u64::MAX` for a set that never expires.
    usable_until: AtomicU64,
}

impl KeySlot {
    /// A slot holding `keys` for ever.
    pub(crate) fn fixed(keys: KeySet) -> Self {
        Self {
            keys: RwLock::new(Some(Arc::new(keys))),
            usable_until: AtomicU64::new(u64::MAX),
        }
    }

    /// A slot with no keys yet (a remote set before its first fetch).
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
    pub(crate) fn empty() -> Self {
        Self {
            keys: RwLock::new(None),
            usable_until: AtomicU64::new(0),
        }
    }

    /// The keys in force at `now`.
    pub(crate) fn current(&self, now: UnixTime) -> Result<Arc<KeySet>, UpstreamError> {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(UpstreamError::KeysNotLoaded)?;
        if now.as_secs() > self.usable_until.load(Ordering::Acquire) {
            return Err(UpstreamError::KeysExpired);
        }
        Ok(keys)
    }

    /// Replaces the keys, usable until `until`.
    pub(crate) fn replace(&self, keys: KeySet, until: UnixTime) {
        let mut slot = self.keys.write().unwrap_or_else(|e| e.into_inner());
        *slot = Some(Arc::new(keys));
        self.usable_until.store(until.as_secs(), Ordering::Release);
    }
}

impl core::fmt::Debug for KeySlot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|k| k.len());
        f.debug_struct("KeySlot")
            .field("keys", &keys)
            .field("usable_until", &self.usable_until.load(Ordering::Relaxed))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::signing_key::SigningKey;

    fn set() -> KeySet {
        KeySet::from_keys([SigningKey::generate().unwrap().public_key().clone()])
    }

    #[test]
    fn an_empty_slot_has_no_keys() {
        let slot = KeySlot::empty();
        assert_eq!(
            slot.current(UnixTime::from_secs(1)).err(),
            Some(UpstreamError::KeysNotLoaded)
        );
    }

    #[test]
    fn keys_past_their_end_are_refused() {
        let slot = KeySlot::empty();
        slot.replace(set(), UnixTime::from_secs(100));
        assert!(slot.current(UnixTime::from_secs(100)).is_ok());
        assert_eq!(
            slot.current(UnixTime::from_secs(101)).err(),
            Some(UpstreamError::KeysExpired)
        );
        slot.replace(set(), UnixTime::from_secs(200));
        assert!(slot.current(UnixTime::from_secs(101)).is_ok());
    }

    #[test]
    fn a_fixed_slot_never_expires() {
        let slot = KeySlot::fixed(set());
        assert!(slot.current(UnixTime::from_secs(u64::MAX)).is_ok());
    }
}
