//! Fair shares of a replay store: one proof key can hold at most a bounded number of its
//! entries, so a single client flooding proofs cannot fill the store for everyone else
//! (issue 14). The store still fails closed when it is full; the quota makes sure it takes
//! many keys, not one, to get there.
//!
//! **Counting.** Each key's registrations are counted in fixed buckets of `window` seconds
//! (the longest retention its proofs asked for): `previous` and `current`. An entry lives at
//! most `window` seconds, so every live entry of the key was registered in the current or the
//! previous bucket: refusing a registration once `previous + current` reaches the limit keeps
//! the key's live entries at or below the limit, with two counters per key and no per-entry
//! bookkeeping. The Redis store applies the same rule in its script.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;

use crate::error::StoreError;
use crate::proof::replay::Insertion;

/// What identifies a proof key in a replay store: the first 128 bits of its thumbprint.
pub(crate) type Owner = [u8; 16];

/// A key's registrations in its last two buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Bucket length in seconds: the longest retention the key's proofs asked for.
    window: u64,
    /// The bucket `current` counts: `now / window`.
    bucket: u64,
    previous: u64,
    current: u64,
    /// When the key's last counted entry expires: after it, nothing of the key is live.
    last_expiry: u64,
}

impl Usage {
    fn new(window: u64, now: u64) -> Self {
        Self {
            window,
            bucket: now / window,
            previous: 0,
            current: 0,
            last_expiry: 0,
        }
    }

    /// Moves the buckets forward to `now`, widening them to `retention` when a proof asks to
    /// be kept longer than the key's earlier ones (the counts then start afresh).
    fn advance(&mut self, retention: u64, now: u64) {
        if retention > self.window {
            *self = Self {
                previous: self.previous + self.current,
                ..Self::new(retention, now)
            };
            return;
        }
        let bucket = now / self.window;
        if bucket == self.bucket + 1 {
            self.previous = self.current;
        } else if bucket != self.bucket {
            self.previous = 0;
        }
        if bucket != self.bucket {
            self.current = 0;
            self.bucket = bucket;
        }
    }

    /// Seconds until the current bucket ends (at least 1).
    fn retry_after(&self, now: u64) -> u64 {
        ((self.bucket + 1) * self.window).saturating_sub(now).max(1)
    }

    /// Whether nothing the key registered can still be live at `now`: then forgetting the
    /// key loses nothing the limit protects.
    fn is_stale(&self, now: u64) -> bool {
        now > self.last_expiry
    }
}

/// Per-key counters for a sharded store: `shards` locks, each holding at most
/// `shard_capacity` keys. A key is tracked while one of its entries may be live, so a store of
/// `capacity` entries never needs more than `capacity` keys.
pub(crate) struct KeyQuota {
    shards: Box<[Mutex<HashMap<Owner, Usage>>]>,
    shard_capacity: usize,
    limit: u64,
    /// Per-store random shard choice, like the replay shards'.
    picker: RandomState,
}

impl KeyQuota {
    /// At most `limit` live entries per key, for up to `capacity` keys in `shards` shards.
    pub(crate) fn new(limit: usize, capacity: usize, shards: usize) -> Self {
        Self {
            shards: (0..shards).map(|_| Mutex::default()).collect(),
            shard_capacity: capacity.div_ceil(shards).max(1),
            limit: u64::try_from(limit).unwrap_or(u64::MAX),
            picker: RandomState::new(),
        }
    }

    /// The per-key limit.
    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    /// Runs `insert` (the store's own registration) if `owner` is under its limit at `now`,
    /// counting the entry when `insert` adds one. `retention` is how long the entry is kept.
    ///
    /// Errors: [`StoreError::KeyQuotaExceeded`] when the key is at its limit;
    /// [`StoreError::Full`] when no more keys can be tracked; whatever `insert` returns.
    pub(crate) fn admit(
        &self,
        owner: &Owner,
        retention: u64,
        now: u64,
        insert: impl FnOnce() -> Result<Insertion, StoreError>,
    ) -> Result<Insertion, StoreError> {
        let retention = retention.max(1);
        let index = (self.picker.hash_one(owner) % self.shards.len() as u64) as usize;
        // A panic while holding the lock leaves at worst a count one too low or too high.
        let mut shard = self.shards[index].lock().unwrap_or_else(|e| e.into_inner());
        if shard.len() >= self.shard_capacity && !shard.contains_key(owner) {
            shard.retain(|_, usage| !usage.is_stale(now));
            if shard.len() >= self.shard_capacity {
                return Err(StoreError::Full);
            }
        }
        let usage = shard
            .entry(*owner)
            .or_insert_with(|| Usage::new(retention, now));
        usage.advance(retention, now);
        if usage.previous + usage.current >= self.limit {
            return Err(StoreError::KeyQuotaExceeded {
                retry_after_secs: usage.retry_after(now),
            });
        }
        let inserted = insert()?;
        if inserted == Insertion::Inserted {
            usage.current += 1;
            usage.last_expiry = usage.last_expiry.max(now.saturating_add(retention));
        }
        Ok(inserted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_roll_forward_and_forget() {
        let mut usage = Usage::new(60, 600);
        usage.current = 5;
        usage.advance(60, 659);
        assert_eq!((usage.previous, usage.current), (0, 5), "same bucket");
        usage.advance(60, 660);
        assert_eq!((usage.previous, usage.current), (5, 0), "next bucket");
        usage.current = 2;
        usage.advance(60, 780);
        assert_eq!((usage.previous, usage.current), (0, 0), "two buckets later");
        usage.last_expiry = 839;
        assert!(!usage.is_stale(839));
        assert!(usage.is_stale(840));
        assert_eq!(usage.retry_after(790), 50);
    }

    #[test]
    fn a_longer_retention_widens_the_buckets_and_keeps_the_count() {
        let mut usage = Usage::new(60, 600);
        usage.current = 3;
        usage.advance(120, 610);
        assert_eq!(usage.window, 120);
        assert_eq!(usage.previous + usage.current, 3);
    }

    #[test]
    fn a_key_at_its_limit_is_refused_until_its_entries_age_out() {
        let quota = KeyQuota::new(3, 100, 1);
        let admit = |owner: u8, now| quota.admit(&[owner; 16], 60, now, || Ok(Insertion::Inserted));
        for _ in 0..3 {
            assert_eq!(admit(1, 600), Ok(Insertion::Inserted));
        }
        assert_eq!(
            admit(1, 610),
            Err(StoreError::KeyQuotaExceeded {
                retry_after_secs: 50
            })
        );
        // Other keys are not affected.
        assert_eq!(admit(2, 610), Ok(Insertion::Inserted));
        // A bucket later, the first three still count (they may be live)…
        assert!(admit(1, 660).is_err());
        // …two buckets later they cannot be.
        assert_eq!(admit(1, 720), Ok(Insertion::Inserted));
    }

    #[test]
    fn replays_and_failures_are_not_counted() {
        let quota = KeyQuota::new(1, 100, 1);
        let owner = [9; 16];
        assert_eq!(
            quota.admit(&owner, 60, 600, || Ok(Insertion::AlreadyPresent)),
            Ok(Insertion::AlreadyPresent)
        );
        assert_eq!(
            quota.admit(&owner, 60, 600, || Err(StoreError::Full)),
            Err(StoreError::Full)
        );
        assert_eq!(
            quota.admit(&owner, 60, 600, || Ok(Insertion::Inserted)),
            Ok(Insertion::Inserted)
        );
        assert!(quota
            .admit(&owner, 60, 600, || Ok(Insertion::Inserted))
            .is_err());
    }

    #[test]
    fn the_key_table_is_bounded_and_sweeps_stale_keys() {
        let quota = KeyQuota::new(10, 2, 1);
        let admit = |owner: u8, now| quota.admit(&[owner; 16], 60, now, || Ok(Insertion::Inserted));
        assert!(admit(1, 600).is_ok());
        assert!(admit(2, 600).is_ok());
        assert_eq!(admit(3, 600), Err(StoreError::Full));
        // Keys already tracked still register.
        assert!(admit(1, 601).is_ok());
        // Once the entries of 1 and 2 have expired (60 s after 601), room is made.
        assert_eq!(admit(3, 661), Ok(Insertion::Inserted));
    }
}
