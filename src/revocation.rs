//! Revocation of access tokens (RFC 7009 semantics): by token, by key, by subject.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::jose::thumbprint::Thumbprint;
use crate::proof::replay::{AsyncReplayStore, Insertion, ReplayKey};
use crate::time::UnixTime;
use crate::token::claims::AccessTokenClaims;

/// How long after `exp` a revocation entry is kept: covers any verifier's clock leeway.
const LEEWAY_MARGIN_SECS: u64 = 300;

/// One revocation (RFC 7009 semantics, extended to keys and subjects).
///
/// Each carries `until`: the moment after which no token it covers can be valid any more, so a
/// store may forget it then. The constructors compute it: the token's `exp` for a token; now +
/// the longest token lifetime a verifier accepts by default
/// ([`DEFAULT_MAX_ACCEPTED_LIFETIME_SECS`](crate::DEFAULT_MAX_ACCEPTED_LIFETIME_SECS), 90 min)
/// for a key or a subject — plus a margin for clock leeway.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revocation {
    /// The token with this `jti`.
    Token {
        /// The token's `jti`.
        jti: String,
        /// When the entry may be forgotten.
        until: UnixTime,
    },
    /// Every token bound to this key (a compromised client key).
    Key {
        /// The key's thumbprint (`cnf.jkt`).
        jkt: Thumbprint,
        /// When the entry may be forgotten.
        until: UnixTime,
    },
    /// Every token of this subject issued at or before `issued_before`.
    Subject {
        /// The `sub`.
        subject: String,
        /// Tokens with `iat` at or before this are revoked.
        issued_before: UnixTime,
        /// When the entry may be forgotten.
        until: UnixTime,
    },
}

impl Revocation {
    /// Revokes the token with `claims` (kept until its `exp`).
    pub fn token(claims: &AccessTokenClaims) -> Self {
        Self::Token {
            jti: claims.jti().to_owned(),
            until: claims.expires_at().saturating_add(LEEWAY_MARGIN_SECS),
        }
    }

    /// Revokes the token with `jti` that expires at `exp`.
    pub fn token_id(jti: impl Into<String>, exp: UnixTime) -> Self {
        Self::Token {
            jti: jti.into(),
            until: exp.saturating_add(LEEWAY_MARGIN_SECS),
        }
    }

    /// Revokes every token bound to `jkt`, from `now` until every token issued so far has
    /// expired. Authorization servers should also stop issuing tokens for the key.
    pub fn key(jkt: Thumbprint, now: UnixTime) -> Self {
        Self::Key {
            jkt,
            until: horizon(now),
        }
    }

    /// Revokes every token of `subject` issued at or before `now`.
    pub fn subject(subject: impl Into<String>, now: UnixTime) -> Self {
        Self::Subject {
            subject: subject.into(),
            issued_before: now,
            until: horizon(now),
        }
    }
}

fn horizon(now: UnixTime) -> UnixTime {
    now.saturating_add(
        crate::token::verifier::DEFAULT_MAX_ACCEPTED_LIFETIME_SECS + LEEWAY_MARGIN_SECS,
    )
}

/// Where revocations are kept. The resource server asks [`is_revoked`](Self::is_revoked) on
/// every request — a cached token included — so a revocation takes effect on the next request.
///
/// Stores may forget an entry after its `until`, which keeps them bounded. A store that cannot
/// answer returns an error; the guard then refuses the request (fail closed).
pub trait RevocationStore: Send + Sync {
    /// Records `revocation` at `now`.
    fn revoke(&self, revocation: &Revocation, now: UnixTime) -> Result<(), StoreError>;

    /// Whether a token with these claims is revoked at `now`.
    fn is_revoked(&self, claims: &AccessTokenClaims, now: UnixTime) -> Result<bool, StoreError>;
}

/// The asynchronous form of [`RevocationStore`], for stores behind a network (Redis). Every
/// synchronous store is also an asynchronous one.
pub trait AsyncRevocationStore: Send + Sync {
    /// See [`RevocationStore::revoke`].
    fn revoke(
        &self,
        revocation: &Revocation,
        now: UnixTime,
    ) -> impl core::future::Future<Output = Result<(), StoreError>> + Send;

    /// See [`RevocationStore::is_revoked`].
    fn is_revoked(
        &self,
        claims: &AccessTokenClaims,
        now: UnixTime,
    ) -> impl core::future::Future<Output = Result<bool, StoreError>> + Send;

    /// The last two steps of a request's check: is a token with `claims` revoked, and if not,
    /// the proof's one-time use (`key` recorded in `replay` until `expires_at`). A revoked
    /// token's proof is not recorded. By default one call after the other; the Redis stores
    /// opened together ([`RedisStores::open`](crate::RedisStores::open)) do both in one round
    /// trip, atomically.
    fn check_and_register<R: AsyncReplayStore>(
        &self,
        claims: &AccessTokenClaims,
        replay: &R,
        key: &ReplayKey,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> impl core::future::Future<Output = Result<Settled, StoreError>> + Send {
        check_then_register(self, claims, replay, key, expires_at, now)
    }
}

/// What [`AsyncRevocationStore::check_and_register`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Settled {
    /// The token is revoked; the proof was not recorded.
    Revoked,
    /// The token is not revoked and the proof is now recorded: the request may proceed.
    Registered,
    /// The token is not revoked but the proof was seen before: a replay.
    Replayed,
}

/// [`AsyncRevocationStore::check_and_register`] as two calls: the revocation lookup, then the
/// replay registration.
pub(crate) async fn check_then_register<V, R>(
    revocation: &V,
    claims: &AccessTokenClaims,
    replay: &R,
    key: &ReplayKey,
    expires_at: UnixTime,
    now: UnixTime,
) -> Result<Settled, StoreError>
where
    V: AsyncRevocationStore + ?Sized,
    R: AsyncReplayStore,
{
    if revocation.is_revoked(claims, now).await? {
        return Ok(Settled::Revoked);
    }
    Ok(match replay.insert_if_absent(key, expires_at, now).await? {
        Insertion::Inserted => Settled::Registered,
        Insertion::AlreadyPresent => Settled::Replayed,
    })
}

impl<T: RevocationStore> AsyncRevocationStore for T {
    fn revoke(
        &self,
        revocation: &Revocation,
        now: UnixTime,
    ) -> impl core::future::Future<Output = Result<(), StoreError>> + Send {
        core::future::ready(RevocationStore::revoke(self, revocation, now))
    }

    fn is_revoked(
        &self,
        claims: &AccessTokenClaims,
        now: UnixTime,
    ) -> impl core::future::Future<Output = Result<bool, StoreError>> + Send {
        core::future::ready(RevocationStore::is_revoked(self, claims, now))
    }
}

impl<T: RevocationStore + ?Sized> RevocationStore for Arc<T> {
    fn revoke(&self, revocation: &Revocation, now: UnixTime) -> Result<(), StoreError> {
        (**self).revoke(revocation, now)
    }
    fn is_revoked(&self, claims: &AccessTokenClaims, now: UnixTime) -> Result<bool, StoreError> {
        (**self).is_revoked(claims, now)
    }
}

/// A fixed-size key for a revocation entry: SHA-256 over a domain label and the value, so
/// entries of one kind cannot collide with another and no caller string is kept.
pub(crate) type EntryKey = [u8; 32];

pub(crate) fn entry_key(kind: &[u8], value: &[u8]) -> EntryKey {
    let mut hasher = Sha256::new();
    hasher.update(b"keybound revocation v1\0");
    hasher.update(kind);
    hasher.update([0]);
    hasher.update(value);
    hasher.finalize().into()
}

/// Subject revocation: tokens issued at or before `issued_before` are revoked until `until`.
#[derive(Clone, Copy)]
struct SubjectEntry {
    issued_before: u64,
    until: u64,
}

/// An in-memory [`RevocationStore`] for one process. Entries are dropped once their `until`
/// has passed (swept on every write), so memory is bounded by the revocations made within one
/// token lifetime.
#[derive(Default)]
pub struct MemoryRevocationStore {
    tokens: RwLock<HashMap<EntryKey, u64>>,
    keys: RwLock<HashMap<EntryKey, u64>>,
    subjects: RwLock<HashMap<EntryKey, SubjectEntry>>,
}

impl MemoryRevocationStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of live and not yet swept entries.
    pub fn len(&self) -> usize {
        read(&self.tokens).len() + read(&self.keys).len() + read(&self.subjects).len()
    }

    /// Whether the store holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every entry whose `until` is before `now`.
    pub fn sweep(&self, now: UnixTime) {
        let now = now.as_secs();
        write(&self.tokens).retain(|_, until| *until >= now);
        write(&self.keys).retain(|_, until| *until >= now);
        write(&self.subjects).retain(|_, entry| entry.until >= now);
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

/// Records `until` for `key`, keeping the later expiry if the key is already present, and
/// sweeps entries expired at `now`.
fn insert_until(
    map: &RwLock<HashMap<EntryKey, u64>>,
    key: EntryKey,
    until: UnixTime,
    now: UnixTime,
) {
    let mut map = write(map);
    let now = now.as_secs();
    map.retain(|_, u| *u >= now);
    let entry = map.entry(key).or_insert(0);
    *entry = (*entry).max(until.as_secs());
}

impl RevocationStore for MemoryRevocationStore {
    fn revoke(&self, revocation: &Revocation, now: UnixTime) -> Result<(), StoreError> {
        match revocation {
            Revocation::Token { jti, until } => {
                insert_until(&self.tokens, entry_key(b"jti", jti.as_bytes()), *until, now);
            }
            Revocation::Key { jkt, until } => {
                insert_until(&self.keys, entry_key(b"jkt", jkt.as_bytes()), *until, now);
            }
            Revocation::Subject {
                subject,
                issued_before,
                until,
            } => {
                let mut map = write(&self.subjects);
                let horizon = now.as_secs();
                map.retain(|_, e| e.until >= horizon);
                let entry =
                    map.entry(entry_key(b"sub", subject.as_bytes()))
                        .or_insert(SubjectEntry {
                            issued_before: 0,
                            until: 0,
                        });
                entry.issued_before = entry.issued_before.max(issued_before.as_secs());
                entry.until = entry.until.max(until.as_secs());
            }
        }
        Ok(())
    }

    fn is_revoked(&self, claims: &AccessTokenClaims, now: UnixTime) -> Result<bool, StoreError> {
        let now = now.as_secs();
        let live = |until: Option<&u64>| until.is_some_and(|u| *u >= now);
        // Each table is hashed into only when it holds entries: with no revocations in force,
        // the per-request cost is three uncontended read locks.
        let tokens = read(&self.tokens);
        if !tokens.is_empty() && live(tokens.get(&entry_key(b"jti", claims.jti().as_bytes()))) {
            return Ok(true);
        }
        if let Some(jkt) = claims.jkt() {
            let keys = read(&self.keys);
            if !keys.is_empty() && live(keys.get(&entry_key(b"jkt", jkt.as_bytes()))) {
                return Ok(true);
            }
        }
        let subjects = read(&self.subjects);
        if subjects.is_empty() {
            return Ok(false);
        }
        if let Some(entry) = subjects.get(&entry_key(b"sub", claims.subject().as_bytes())) {
            if entry.until >= now && claims.issued_at().as_secs() <= entry.issued_before {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl core::fmt::Debug for MemoryRevocationStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MemoryRevocationStore")
            .field("entries", &self.len())
            .finish()
    }
}
