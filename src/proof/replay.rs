//! Replay protection (RFC 9449 §11.1): each (`jkt`, `jti`) is accepted once within the window.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::jose::thumbprint::Thumbprint;
use crate::proof::key_quota::{KeyQuota, Owner};
use crate::time::UnixTime;

/// The fixed-size key a proof is remembered under: SHA-256 over the proof key's thumbprint and
/// the `jti`, and which proof key it belongs to. The attacker-chosen `jti` itself is never
/// stored, and two keys cannot collide by reusing each other's `jti`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplayKey {
    hash: [u8; 32],
    owner: Owner,
}

impl ReplayKey {
    /// The key for a proof by `jkt` with identifier `jti`.
    pub fn new(jkt: &Thumbprint, jti: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"keybound replay v1\0");
        hasher.update(jkt.as_bytes());
        hasher.update(jti.as_bytes());
        Self {
            hash: hasher.finalize().into(),
            owner: Self::owner_of(jkt),
        }
    }

    /// The owner of every proof by `jkt`: the first 16 bytes of the thumbprint.
    pub(crate) fn owner_of(jkt: &Thumbprint) -> Owner {
        let mut owner = [0u8; 16];
        owner.copy_from_slice(&jkt.as_bytes()[..16]);
        owner
    }

    /// The 32 key bytes (for stores that persist them, e.g. as a hex or base64 name).
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.hash
    }

    /// Which proof key the proof belongs to: the first 128 bits of its RFC 7638 thumbprint
    /// (public). Stores use it to keep each key to its share of the store.
    pub const fn owner(&self) -> &[u8; 16] {
        &self.owner
    }
}

impl core::fmt::Debug for ReplayKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "ReplayKey({})",
            crate::jose::base64url::encode(&self.hash)
        )
    }
}

/// Whether [`ReplayStore::insert_if_absent`] recorded the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insertion {
    /// First sighting: the key is now recorded until its expiry.
    Inserted,
    /// The key is already recorded and not expired: a replay.
    AlreadyPresent,
}

/// Where accepted proofs are remembered. Implementations must make
/// [`insert_if_absent`](ReplayStore::insert_if_absent) atomic: of any number of concurrent
/// calls with the same key, exactly one sees [`Insertion::Inserted`].
///
/// A store that cannot record a key must return an error, never `Inserted`: the verifier then
/// refuses the proof (fail closed).
pub trait ReplayStore: Send + Sync {
    /// Records `key` until `expires_at` (inclusive) unless it is already recorded and
    /// `now <= its expiry`.
    fn insert_if_absent(
        &self,
        key: &ReplayKey,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Insertion, StoreError>;
}

/// The asynchronous form of [`ReplayStore`], for stores behind a network (Redis). Every
/// synchronous store is also an asynchronous one; the same atomicity and fail-closed rules
/// apply.
pub trait AsyncReplayStore: Send + Sync {
    /// See [`ReplayStore::insert_if_absent`].
    fn insert_if_absent(
        &self,
        key: &ReplayKey,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> impl core::future::Future<Output = Result<Insertion, StoreError>> + Send;

    /// The Redis replay store this is, if it is one: a Redis revocation store on the same
    /// connection then checks and registers in one round trip
    /// ([`AsyncRevocationStore::check_and_register`](crate::AsyncRevocationStore::check_and_register)).
    /// Not meant to be overridden elsewhere.
    #[cfg(feature = "redis")]
    #[doc(hidden)]
    fn as_redis(&self) -> Option<&crate::RedisReplayStore> {
        None
    }
}

impl<T: ReplayStore> AsyncReplayStore for T {
    fn insert_if_absent(
        &self,
        key: &ReplayKey,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> impl core::future::Future<Output = Result<Insertion, StoreError>> + Send {
        core::future::ready(ReplayStore::insert_if_absent(self, key, expires_at, now))
    }
}

impl<T: ReplayStore + ?Sized> ReplayStore for Arc<T> {
    fn insert_if_absent(
        &self,
        key: &ReplayKey,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Insertion, StoreError> {
        (**self).insert_if_absent(key, expires_at, now)
    }
}

impl<T: ReplayStore + ?Sized> ReplayStore for &T {
    fn insert_if_absent(
        &self,
        key: &ReplayKey,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Insertion, StoreError> {
        (**self).insert_if_absent(key, expires_at, now)
    }
}

/// The most shards a [`MemoryReplayStore`] splits into: enough that two threads seldom wait on
/// one lock or on one table while it grows.
const MAX_SHARDS: usize = 64;

/// The fewest proofs a shard is sized for. Shards fill unevenly, so a small store keeps fewer,
/// larger shards and reports [`StoreError::Full`] close to its stated capacity.
const MIN_SHARD_CAPACITY: usize = 1024;

/// How many shards a store of `capacity` proofs uses: a power of two from 1 to [`MAX_SHARDS`].
fn shard_count(capacity: usize) -> usize {
    (capacity / MIN_SHARD_CAPACITY)
        .clamp(1, MAX_SHARDS)
        .next_power_of_two()
}

/// The default capacity of [`MemoryReplayStore`]: 262 144 live proofs, about 11 MiB when full.
/// With the default 65 s retention that sustains about 4 000 proofs per second.
pub const DEFAULT_REPLAY_CAPACITY: usize = 1 << 18;

/// The default share of a [`MemoryReplayStore`] one proof key may hold: a sixteenth of its
/// capacity (16 384 live proofs of the default 262 144, i.e. about 250 proofs a second per key
/// sustained with the default 65 s retention), and never fewer than
/// [`MIN_PER_KEY_LIMIT`].
pub const DEFAULT_PER_KEY_SHARE: usize = 16;

/// The smallest default per-key limit: small stores (tests, tiny services) are not split
/// below this.
pub const MIN_PER_KEY_LIMIT: usize = 64;

/// What a shard keeps of a [`ReplayKey`]: its first 128 bits. Telling two proofs apart needs no
/// more — confusing someone else's proof with one's own would take a 2^128 second preimage —
/// and it halves the memory per live proof.
type CompactKey = [u8; 16];

/// A shard on cache lines of its own: two threads working on neighbouring shards do not
/// slow each other down by writing to the same line.
#[derive(Default)]
#[repr(align(128))]
struct PaddedShard(Mutex<Shard>);

#[derive(Default)]
struct Shard {
    /// Compact key → expiry (Unix seconds, saturating at `u32::MAX`, i.e. the year 2106).
    /// 20 bytes a live proof, plus the hash table's control byte and spare capacity.
    live: HashMap<CompactKey, u32>,
    /// When expired entries were last swept out (seconds): at most once a second, and only
    /// when the shard is full — an expired entry is ignored on lookup anyway.
    swept_at: u64,
}

/// An in-memory [`ReplayStore`] for a single process: up to 64 shards (at least 1 024 proofs
/// each), each behind its own lock, bounded by a total capacity. Expired entries count as
/// absent and are swept out when a shard fills up. When a shard is full of live entries the
/// store fails closed with [`StoreError::Full`] instead of forgetting a proof that could still
/// be replayed, and without growing its table.
///
/// **Fair shares**: one proof key may hold at most
/// [`per_key_limit`](Self::per_key_limit) live proofs (default: a sixteenth of the capacity,
/// at least 64; [`with_per_key_limit`](Self::with_per_key_limit)). Past it, that key's proofs
/// are refused with [`StoreError::KeyQuotaExceeded`] (HTTP 429 with `Retry-After`) while other
/// keys keep working; filling the store takes at least sixteen keys, each of which needs a
/// valid token at a resource server. Keys are counted per two windows of their proofs'
/// retention (see the `key_quota` module), two counters per key.
///
/// Memory: about 21 bytes of table per slot, and the table is between half and 7/8 full —
/// measured 30–45 bytes per live proof (`cargo bench --bench scaling`) — plus about 60 bytes
/// per key seen in the last two minutes.
pub struct MemoryReplayStore {
    shards: Box<[PaddedShard]>,
    shard_capacity: usize,
    quota: KeyQuota,
    /// Picks the shard with a per-store random key: replay keys are public hashes, so a fixed
    /// choice would let a client aim all its proofs at one shard and fill it 64 times sooner.
    shard_picker: std::collections::hash_map::RandomState,
}

impl MemoryReplayStore {
    /// A store holding at most `capacity` live proofs (rounded up to a multiple of the shard
    /// count). A store of up to 2 047 proofs is one shard and holds exactly `capacity`; larger
    /// ones may report [`StoreError::Full`] slightly sooner, when one shard fills first.
    pub fn with_capacity(capacity: usize) -> Self {
        let limit = (capacity / DEFAULT_PER_KEY_SHARE).max(MIN_PER_KEY_LIMIT);
        Self::with_limits(capacity, limit)
    }

    /// Lets one proof key hold at most `limit` live proofs (at least 1).
    pub fn with_per_key_limit(self, limit: usize) -> Self {
        Self::with_limits(self.capacity(), limit.max(1))
    }

    fn with_limits(capacity: usize, per_key_limit: usize) -> Self {
        let shards = shard_count(capacity);
        Self {
            shards: (0..shards).map(|_| PaddedShard::default()).collect(),
            shard_capacity: capacity.div_ceil(shards).max(1),
            // As many keys as proofs: each tracked key registered a proof in its last two
            // windows.
            quota: KeyQuota::new(per_key_limit, capacity, shards),
            shard_picker: std::collections::hash_map::RandomState::new(),
        }
    }

    /// The most live proofs the store holds (rounded up to a multiple of the shard count).
    pub fn capacity(&self) -> usize {
        self.shard_capacity * self.shards.len()
    }

    /// The most live proofs one key may hold.
    pub fn per_key_limit(&self) -> u64 {
        self.quota.limit()
    }

    /// The number of recorded entries, expired ones not yet swept out included.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.0.lock().unwrap_or_else(|e| e.into_inner()).live.len())
            .sum()
    }

    /// Whether no entry is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for MemoryReplayStore {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_REPLAY_CAPACITY)
    }
}

impl core::fmt::Debug for MemoryReplayStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MemoryReplayStore")
            .field("capacity", &self.capacity())
            .field("per_key_limit", &self.per_key_limit())
            .finish_non_exhaustive()
    }
}

impl ReplayStore for MemoryReplayStore {
    fn insert_if_absent(
        &self,
        key: &ReplayKey,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Insertion, StoreError> {
        let retention = expires_at.as_secs().saturating_sub(now.as_secs());
        self.quota.admit(key.owner(), retention, now.as_secs(), || {
            self.insert_unmetered(key, expires_at, now)
        })
    }
}

impl MemoryReplayStore {
    /// The registration itself, once the key's share allows it.
    fn insert_unmetered(
        &self,
        key: &ReplayKey,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<Insertion, StoreError> {
        let mut compact = [0u8; 16];
        compact.copy_from_slice(&key.hash[..16]);
        let now_secs = now.as_secs();
        let expiry = u32::try_from(expires_at.as_secs()).unwrap_or(u32::MAX);
        let index = (std::hash::BuildHasher::hash_one(&self.shard_picker, compact)
            % self.shards.len() as u64) as usize;
        // A panic while holding the lock cannot leave the map half-updated in a way that
        // accepts a replay, so a poisoned lock is recovered.
        let mut guard = self.shards[index]
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let shard = &mut *guard;
        if shard.live.len() >= self.shard_capacity {
            // Full: sweep out expired entries, at most once a second.
            if shard.swept_at < now_secs {
                shard.swept_at = now_secs;
                shard
                    .live
                    .retain(|_, expiry| u64::from(*expiry) >= now_secs);
            }
            // Still full: no room for a new key. Checked before `entry`, which reserves a slot
            // for a new key and would grow a full table.
            if shard.live.len() >= self.shard_capacity && !shard.live.contains_key(&compact) {
                return Err(StoreError::Full);
            }
        }
        match shard.live.entry(compact) {
            Entry::Occupied(entry) if u64::from(*entry.get()) >= now_secs => {
                Ok(Insertion::AlreadyPresent)
            }
            // Present but expired: overwritten in place, no new slot needed.
            Entry::Occupied(mut entry) => {
                entry.insert(expiry);
                Ok(Insertion::Inserted)
            }
            Entry::Vacant(slot) => {
                slot.insert(expiry);
                Ok(Insertion::Inserted)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proof `n` of key `n`: every proof by a key of its own, so the per-key share plays no
    /// part unless a test asks for it.
    fn key(n: u32) -> ReplayKey {
        let mut jkt = [7u8; 32];
        jkt[..4].copy_from_slice(&n.to_be_bytes());
        ReplayKey::new(&Thumbprint::from_bytes(jkt), &n.to_string())
    }

    /// Proof `n` of the one key `owner`.
    fn proof_of(owner: u8, n: u32) -> ReplayKey {
        ReplayKey::new(&Thumbprint::from_bytes([owner; 32]), &n.to_string())
    }

    fn t(secs: u64) -> UnixTime {
        UnixTime::from_secs(secs)
    }

    #[test]
    fn second_insert_is_a_replay_until_expiry() {
        let store = MemoryReplayStore::default();
        assert_eq!(
            ReplayStore::insert_if_absent(&store, &key(1), t(100), t(10)),
            Ok(Insertion::Inserted)
        );
        assert_eq!(
            ReplayStore::insert_if_absent(&store, &key(1), t(100), t(50)),
            Ok(Insertion::AlreadyPresent)
        );
        assert_eq!(
            ReplayStore::insert_if_absent(&store, &key(1), t(200), t(100)),
            Ok(Insertion::AlreadyPresent)
        );
        assert_eq!(
            ReplayStore::insert_if_absent(&store, &key(1), t(200), t(101)),
            Ok(Insertion::Inserted)
        );
    }

    #[test]
    fn key_binds_thumbprint_and_jti() {
        let a = ReplayKey::new(&Thumbprint::from_bytes([1; 32]), "x");
        let b = ReplayKey::new(&Thumbprint::from_bytes([2; 32]), "x");
        assert_ne!(a, b);
        assert_ne!(a, ReplayKey::new(&Thumbprint::from_bytes([1; 32]), "y"));
    }

    #[test]
    fn len_counts_expired_entries_until_a_full_shard_sweeps_them() {
        // One shard (capacity below 2 048), so both keys share it.
        let store = MemoryReplayStore::with_capacity(2);
        assert!(store.is_empty());
        assert_eq!(
            ReplayStore::insert_if_absent(&store, &key(1), t(100), t(10)),
            Ok(Insertion::Inserted)
        );
        assert!(!store.is_empty());
        // key(1) has expired, but the shard is not full: nothing is swept yet.
        assert_eq!(
            ReplayStore::insert_if_absent(&store, &key(2), t(300), t(200)),
            Ok(Insertion::Inserted)
        );
        assert_eq!(store.len(), 2);
        // Now the shard is full: the expired entry is swept out to make room.
        assert_eq!(
            ReplayStore::insert_if_absent(&store, &key(3), t(300), t(200)),
            Ok(Insertion::Inserted)
        );
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn debug_shows_capacity_and_key_hash_only() {
        assert_eq!(
            format!("{:?}", MemoryReplayStore::with_capacity(32)),
            "MemoryReplayStore { capacity: 32, per_key_limit: 64, .. }"
        );
        // 64 shards of 1 563: the stated capacity is rounded up to a multiple of the shards.
        assert_eq!(
            format!("{:?}", MemoryReplayStore::with_capacity(100_000)),
            "MemoryReplayStore { capacity: 100032, per_key_limit: 6250, .. }"
        );
        // 0xfb 0xfb 0xfb is "-_v7" in base64url.
        let key = ReplayKey {
            hash: [0xfb; 32],
            owner: [0; 16],
        };
        assert_eq!(
            format!("{key:?}"),
            format!("ReplayKey({}-_s)", "-_v7".repeat(10))
        );
    }

    #[test]
    fn a_full_store_does_not_grow_its_table() {
        // 7 entries fill a table of 8 slots exactly: one more would double it.
        let store = MemoryReplayStore::with_capacity(7);
        for n in 0..7 {
            assert_eq!(
                ReplayStore::insert_if_absent(&store, &key(n), t(100), t(10)),
                Ok(Insertion::Inserted)
            );
        }
        let table = |store: &MemoryReplayStore| store.shards[0].0.lock().unwrap().live.capacity();
        let full = table(&store);
        for n in 7..100 {
            assert_eq!(
                ReplayStore::insert_if_absent(&store, &key(n), t(100), t(10)),
                Err(StoreError::Full)
            );
        }
        assert_eq!(table(&store), full);
        // A recorded proof is still recognised as a replay, not refused as `Full`.
        assert_eq!(
            ReplayStore::insert_if_absent(&store, &key(3), t(100), t(20)),
            Ok(Insertion::AlreadyPresent)
        );
    }

    #[test]
    fn shard_count_grows_with_capacity_up_to_the_maximum() {
        assert_eq!(shard_count(0), 1);
        assert_eq!(shard_count(2 * MIN_SHARD_CAPACITY - 1), 1);
        assert_eq!(shard_count(2 * MIN_SHARD_CAPACITY), 2);
        assert_eq!(shard_count(3 * MIN_SHARD_CAPACITY), 4);
        assert_eq!(shard_count(DEFAULT_REPLAY_CAPACITY), MAX_SHARDS);
        assert_eq!(shard_count(usize::MAX), MAX_SHARDS);
    }

    #[test]
    fn small_store_holds_exactly_its_capacity() {
        let store = MemoryReplayStore::with_capacity(2000);
        for n in 0..2000 {
            assert_eq!(
                ReplayStore::insert_if_absent(&store, &key(n), t(100), t(10)),
                Ok(Insertion::Inserted)
            );
        }
        assert_eq!(
            ReplayStore::insert_if_absent(&store, &key(2000), t(100), t(10)),
            Err(StoreError::Full)
        );
    }

    #[test]
    fn full_store_fails_closed_then_recovers_as_entries_expire() {
        const CAPACITY: usize = 32;
        let store = MemoryReplayStore::with_capacity(CAPACITY);
        let mut inserted = 0;
        let mut full = 0;
        for n in 0..1000 {
            match ReplayStore::insert_if_absent(&store, &key(n), t(100), t(10)) {
                Ok(Insertion::Inserted) => inserted += 1,
                Err(StoreError::Full) => full += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(inserted, CAPACITY);
        assert_eq!(full, 1000 - CAPACITY);
        // Every recorded key is still refused as a replay while live, never forgotten.
        let replays = (0..1000)
            .filter(|n| {
                ReplayStore::insert_if_absent(&store, &key(*n), t(100), t(20))
                    == Ok(Insertion::AlreadyPresent)
            })
            .count();
        assert_eq!(replays, CAPACITY);
        // Once the entries expire, new keys are accepted again.
        assert_eq!(
            ReplayStore::insert_if_absent(&store, &key(5000), t(300), t(101)),
            Ok(Insertion::Inserted)
        );
        assert!(store.len() <= CAPACITY);
    }

    #[test]
    fn one_key_cannot_fill_the_store() {
        const CAPACITY: usize = 4096;
        let store = MemoryReplayStore::with_capacity(CAPACITY);
        assert_eq!(store.per_key_limit(), 256);
        // One key floods a capacity's worth of proofs: it gets its share, then 429s.
        let mut accepted = 0;
        for n in 0..CAPACITY as u32 {
            match ReplayStore::insert_if_absent(&store, &proof_of(1, n), t(75), t(10)) {
                Ok(Insertion::Inserted) => accepted += 1,
                Err(StoreError::KeyQuotaExceeded { retry_after_secs }) => {
                    assert!((1..=65).contains(&retry_after_secs), "{retry_after_secs}");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(accepted, 256);
        // Everybody else is unaffected.
        for owner in 2..100 {
            assert_eq!(
                ReplayStore::insert_if_absent(&store, &proof_of(owner, 0), t(75), t(10)),
                Ok(Insertion::Inserted)
            );
        }
        // A replay of one of the flooder's recorded proofs is still a replay or a refusal,
        // never accepted.
        assert_ne!(
            ReplayStore::insert_if_absent(&store, &proof_of(1, 0), t(75), t(11)),
            Ok(Insertion::Inserted)
        );
        // Once its proofs have aged out, the key may register again.
        assert_eq!(
            ReplayStore::insert_if_absent(&store, &proof_of(1, 99_999), t(200), t(140)),
            Ok(Insertion::Inserted)
        );
    }

    #[test]
    fn the_per_key_limit_is_configurable() {
        let store = MemoryReplayStore::with_capacity(1000).with_per_key_limit(2);
        assert_eq!(store.capacity(), 1000);
        for n in 0..2 {
            assert!(ReplayStore::insert_if_absent(&store, &proof_of(1, n), t(75), t(10)).is_ok());
        }
        assert!(matches!(
            ReplayStore::insert_if_absent(&store, &proof_of(1, 2), t(75), t(10)),
            Err(StoreError::KeyQuotaExceeded { .. })
        ));
    }
}
