//! Refresh tokens for public clients, bound to the DPoP key (RFC 9449 §5), used once and
//! rotated; reuse revokes the whole family (OAuth 2.0 Security BCP, RFC 9700 §4.14.2). A
//! rotation is one atomic store operation: the successor exists and the old token is used, or
//! nothing changed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rand_core::TryRng;
use sha2::{Digest, Sha256};

use crate::error::{Error, GrantError, StoreError};
use crate::jose::base64url;
use crate::jose::thumbprint::Thumbprint;
use crate::proof::verifier::VerifiedProof;
use crate::time::UnixTime;

/// Default refresh-token lifetime: 14 days. Each use rotates the token; the family as a whole
/// never outlives [`RefreshGrant::family_expires_at`].
pub const DEFAULT_REFRESH_LIFETIME_SECS: u64 = 14 * 24 * 3600;

/// The storage key of a refresh token: SHA-256 of the token, so a store leak reveals no usable
/// token.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct RefreshTokenId([u8; 32]);

impl RefreshTokenId {
    /// The id of `token`.
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// The 32 id bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// A family of refresh tokens: every token rotated from one original grant.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FamilyId(pub [u8; 16]);

/// What a refresh token stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshGrant {
    /// The resource owner (`sub` of the tokens it yields).
    pub subject: String,
    /// The public client it was issued to.
    pub client_id: String,
    /// The scope granted.
    pub scope: Option<String>,
    /// The DPoP key it is bound to.
    pub jkt: Thumbprint,
    /// The family it belongs to.
    pub family: FamilyId,
    /// When this token expires.
    pub expires_at: UnixTime,
    /// When the whole family expires; rotation never extends it.
    pub family_expires_at: UnixTime,
}

/// The outcome of [`RefreshStore::rotate`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rotation {
    /// The token was live, bound to the presented key and unused: it is now used, and its
    /// successor is stored with the same grant (same family, binding and expiry).
    Rotated(RefreshGrant),
    /// The token was already used (and was presented with its key): the store has revoked
    /// its whole family. No successor was stored.
    Reused,
    /// The token is bound to another key or was issued to another client; it was left as it
    /// was. Someone without the key cannot use the token, so cannot trigger reuse detection
    /// either.
    WrongKey,
    /// Unknown, expired, or its family is revoked. Nothing changed.
    Unknown,
}

/// Storage for refresh tokens.
///
/// [`rotate`](Self::rotate) must be atomic: it either marks the presented token used *and*
/// stores its successor, or changes nothing. Of concurrent rotations of one token at most one
/// sees [`Rotation::Rotated`], and a second use revokes the family. A store that cannot store
/// the successor (full, unreachable) returns an error and leaves the presented token live, so
/// the client's retry succeeds rather than counting as reuse.
pub trait RefreshStore: Send + Sync {
    /// Stores a new, unused token (the first of a family).
    fn insert(
        &self,
        id: RefreshTokenId,
        grant: RefreshGrant,
        now: UnixTime,
    ) -> Result<(), StoreError>;

    /// Rotates the token `id`, presented by `client_id` with a proof by `jkt`, in one atomic
    /// step:
    ///
    /// - live, issued to `client_id`, bound to `jkt` and unused: marks it used, stores `next`
    ///   unused with the same grant (the family expiry is never extended) and answers
    ///   [`Rotation::Rotated`];
    /// - used before (and `client_id` and `jkt` match): revokes its family until the family
    ///   expires, stores nothing, answers [`Rotation::Reused`];
    /// - another key or client: changes nothing, answers [`Rotation::WrongKey`];
    /// - unknown, expired or of a revoked family: changes nothing, answers
    ///   [`Rotation::Unknown`].
    ///
    /// On an error (no room for `next`, store unreachable) nothing may have changed.
    fn rotate(
        &self,
        id: &RefreshTokenId,
        client_id: &str,
        jkt: &Thumbprint,
        next: RefreshTokenId,
        now: UnixTime,
    ) -> Result<Rotation, StoreError>;

    /// Revokes every token of `family` (e.g. when the user logs out).
    fn revoke_family(&self, family: &FamilyId, until: UnixTime) -> Result<(), StoreError>;
}

/// The asynchronous form of [`RefreshStore`], for stores behind a network (Redis). Every
/// synchronous store is also an asynchronous one; the same atomicity rules apply.
pub trait AsyncRefreshStore: Send + Sync {
    /// See [`RefreshStore::insert`].
    fn insert(
        &self,
        id: RefreshTokenId,
        grant: RefreshGrant,
        now: UnixTime,
    ) -> impl core::future::Future<Output = Result<(), StoreError>> + Send;

    /// See [`RefreshStore::rotate`]. A timeout must leave the rotation either done or not done,
    /// never half done.
    fn rotate(
        &self,
        id: &RefreshTokenId,
        client_id: &str,
        jkt: &Thumbprint,
        next: RefreshTokenId,
        now: UnixTime,
    ) -> impl core::future::Future<Output = Result<Rotation, StoreError>> + Send;

    /// See [`RefreshStore::revoke_family`].
    fn revoke_family(
        &self,
        family: &FamilyId,
        until: UnixTime,
    ) -> impl core::future::Future<Output = Result<(), StoreError>> + Send;
}

impl<T: RefreshStore> AsyncRefreshStore for T {
    fn insert(
        &self,
        id: RefreshTokenId,
        grant: RefreshGrant,
        now: UnixTime,
    ) -> impl core::future::Future<Output = Result<(), StoreError>> + Send {
        core::future::ready(RefreshStore::insert(self, id, grant, now))
    }

    fn rotate(
        &self,
        id: &RefreshTokenId,
        client_id: &str,
        jkt: &Thumbprint,
        next: RefreshTokenId,
        now: UnixTime,
    ) -> impl core::future::Future<Output = Result<Rotation, StoreError>> + Send {
        core::future::ready(RefreshStore::rotate(self, id, client_id, jkt, next, now))
    }

    fn revoke_family(
        &self,
        family: &FamilyId,
        until: UnixTime,
    ) -> impl core::future::Future<Output = Result<(), StoreError>> + Send {
        core::future::ready(RefreshStore::revoke_family(self, family, until))
    }
}

impl<T: RefreshStore + ?Sized> RefreshStore for Arc<T> {
    fn insert(
        &self,
        id: RefreshTokenId,
        grant: RefreshGrant,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        (**self).insert(id, grant, now)
    }
    fn rotate(
        &self,
        id: &RefreshTokenId,
        client_id: &str,
        jkt: &Thumbprint,
        next: RefreshTokenId,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        (**self).rotate(id, client_id, jkt, next, now)
    }
    fn revoke_family(&self, family: &FamilyId, until: UnixTime) -> Result<(), StoreError> {
        (**self).revoke_family(family, until)
    }
}

struct Stored {
    grant: RefreshGrant,
    used: bool,
}

#[derive(Default)]
struct Tables {
    tokens: HashMap<RefreshTokenId, Stored>,
    revoked_families: HashMap<FamilyId, u64>,
    /// When expired entries were last swept (seconds), to sweep at most once a second.
    last_sweep: u64,
}

impl Tables {
    /// Whether one more token fits in `capacity`, after sweeping expired entries if the store
    /// is full (at most once a second). A sweep removes only expired tokens and families whose
    /// revocation has lapsed.
    fn has_room(&mut self, capacity: usize, now: UnixTime) -> bool {
        if self.tokens.len() >= capacity && self.last_sweep < now.as_secs() {
            self.last_sweep = now.as_secs();
            self.tokens.retain(|_, t| t.grant.expires_at >= now);
            self.revoked_families
                .retain(|_, until| *until >= now.as_secs());
        }
        self.tokens.len() < capacity
    }
}

/// Default capacity of [`MemoryRefreshStore`]: 1 048 576 tokens (used ones included).
pub const DEFAULT_REFRESH_CAPACITY: usize = 1 << 20;

/// An in-memory [`RefreshStore`] behind one lock, bounded by a capacity. Used tokens are kept
/// until they expire (to detect reuse). Expired entries are swept when the store is full (at
/// most once a second); a store full of live tokens refuses new ones with
/// [`StoreError::Full`] (fail closed) — a rotation refused so leaves the presented token
/// unused, as [`RefreshStore::rotate`] requires. A rotation checks, makes room, marks the token
/// used and stores its successor under the one lock.
pub struct MemoryRefreshStore {
    tables: Mutex<Tables>,
    capacity: usize,
}

impl MemoryRefreshStore {
    /// An empty store of [`DEFAULT_REFRESH_CAPACITY`].
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_REFRESH_CAPACITY)
    }

    /// An empty store holding at most `capacity` tokens.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            tables: Mutex::new(Tables::default()),
            capacity: capacity.max(1),
        }
    }

    /// Tokens held, used ones included.
    pub fn len(&self) -> usize {
        self.lock().tokens.len()
    }

    /// Whether no token is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for MemoryRefreshStore {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for MemoryRefreshStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MemoryRefreshStore")
            .field("tokens", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl RefreshStore for MemoryRefreshStore {
    fn insert(
        &self,
        id: RefreshTokenId,
        grant: RefreshGrant,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let mut tables = self.lock();
        if !tables.has_room(self.capacity, now) {
            return Err(StoreError::Full);
        }
        tables.tokens.insert(id, Stored { grant, used: false });
        Ok(())
    }

    fn rotate(
        &self,
        id: &RefreshTokenId,
        client_id: &str,
        jkt: &Thumbprint,
        next: RefreshTokenId,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        let mut tables = self.lock();
        let Some(stored) = tables.tokens.get(id) else {
            return Ok(Rotation::Unknown);
        };
        let family = stored.grant.family;
        if stored.grant.expires_at < now || tables.revoked_families.contains_key(&family) {
            return Ok(Rotation::Unknown);
        }
        // Binding first: without the key, a stolen token cannot even trigger reuse detection.
        if stored.grant.jkt != *jkt || stored.grant.client_id != client_id {
            return Ok(Rotation::WrongKey);
        }
        if stored.used {
            let until = stored.grant.family_expires_at.as_secs();
            tables.revoked_families.insert(family, until);
            return Ok(Rotation::Reused);
        }
        let grant = stored.grant.clone();
        // Room for the successor before anything changes: a full store leaves the token unused.
        // The sweep keeps the presented token (live) and its family (not revoked). A successor
        // id already taken (odds 2^-256) is refused too, never overwritten.
        if !tables.has_room(self.capacity, now) || tables.tokens.contains_key(&next) {
            return Err(StoreError::Full);
        }
        if let Some(stored) = tables.tokens.get_mut(id) {
            stored.used = true;
        }
        tables.tokens.insert(
            next,
            Stored {
                grant: grant.clone(),
                used: false,
            },
        );
        Ok(Rotation::Rotated(grant))
    }

    fn revoke_family(&self, family: &FamilyId, until: UnixTime) -> Result<(), StoreError> {
        self.lock()
            .revoked_families
            .insert(*family, until.as_secs());
        Ok(())
    }
}

/// Issues and redeems refresh tokens bound to DPoP keys.
///
/// ```
/// use keybound::{ProofSigner, RefreshTokens, SigningKey, TokenEndpoint, UnixTime};
///
/// let endpoint = TokenEndpoint::new("https://as.example.com/token");
/// let refresh = RefreshTokens::new();
/// let client = ProofSigner::new(SigningKey::generate()?);
/// let now = UnixTime::now();
///
/// let proof = client.proof("POST", "https://as.example.com/token").sign(now)?;
/// let proof = endpoint.check(&[proof.as_str()], None, now)?;
/// let first = refresh.issue("alice", "app", Some("read"), &proof, now)?;
///
/// // Later: a refresh request, with a new proof by the same key.
/// let proof = client.proof("POST", "https://as.example.com/token").sign(now)?;
/// let proof = endpoint.check(&[proof.as_str()], None, now)?;
/// let (grant, second) = refresh.redeem(&first, "app", &proof, now)?;
/// assert_eq!(grant.subject, "alice");
/// assert_ne!(first, second);
/// # Ok::<(), keybound::Error>(())
/// ```
#[derive(Debug)]
pub struct RefreshTokens<S = MemoryRefreshStore> {
    store: S,
    lifetime_secs: u64,
}

impl RefreshTokens {
    /// Refresh tokens kept in memory, lifetime [`DEFAULT_REFRESH_LIFETIME_SECS`].
    pub fn new() -> Self {
        Self::with_store(MemoryRefreshStore::new())
    }
}

impl Default for RefreshTokens {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> RefreshTokens<S> {
    /// Refresh tokens kept in `store`.
    pub fn with_store(store: S) -> Self {
        Self {
            store,
            lifetime_secs: DEFAULT_REFRESH_LIFETIME_SECS,
        }
    }

    /// Sets the family lifetime in seconds (at least 1).
    pub fn with_lifetime_secs(mut self, secs: u64) -> Self {
        self.lifetime_secs = secs.max(1);
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Starts a new family: a refresh token for `subject` and `client_id`, bound to the key of
    /// the token request's verified `proof`.
    pub fn issue(
        &self,
        subject: &str,
        client_id: &str,
        scope: Option<&str>,
        proof: &VerifiedProof,
        now: UnixTime,
    ) -> Result<String, Error>
    where
        S: RefreshStore,
    {
        let grant = self.new_family(subject, client_id, scope, proof, now)?;
        let (token, id) = new_token()?;
        RefreshStore::insert(&self.store, id, grant, now)?;
        Ok(token)
    }

    /// Redeems `refresh_token` presented by the (authenticated or declared) `client_id` with the
    /// refresh request's verified `proof` (from [`TokenEndpoint::check`](crate::TokenEndpoint::check)):
    /// the token must have been issued to `client_id` (RFC 6749 §6) and the proof must be by the
    /// key the token is bound to (RFC 9449 §5). Returns the grant and the rotated refresh token
    /// (same family, same binding, same expiry). A token presented twice by its key revokes its
    /// family.
    ///
    /// The rotation is one atomic store operation ([`RefreshStore::rotate`]): on a store error
    /// ([`Error::Store`], answered with 503 `temporarily_unavailable`) nothing changed, and the
    /// client may retry with the same refresh token.
    pub fn redeem(
        &self,
        refresh_token: &str,
        client_id: &str,
        proof: &VerifiedProof,
        now: UnixTime,
    ) -> Result<(RefreshGrant, String), Error>
    where
        S: RefreshStore,
    {
        let id = RefreshTokenId::of(refresh_token);
        let (next, next_id) = new_token()?;
        let rotation = RefreshStore::rotate(
            &self.store,
            &id,
            client_id,
            &proof.thumbprint(),
            next_id,
            now,
        )?;
        Ok((rotated(rotation)?, next))
    }

    /// [`issue`](Self::issue) through an asynchronous store (Redis).
    pub async fn issue_async(
        &self,
        subject: &str,
        client_id: &str,
        scope: Option<&str>,
        proof: &VerifiedProof,
        now: UnixTime,
    ) -> Result<String, Error>
    where
        S: AsyncRefreshStore,
    {
        let grant = self.new_family(subject, client_id, scope, proof, now)?;
        let (token, id) = new_token()?;
        AsyncRefreshStore::insert(&self.store, id, grant, now).await?;
        Ok(token)
    }

    /// [`redeem`](Self::redeem) through an asynchronous store (Redis).
    pub async fn redeem_async(
        &self,
        refresh_token: &str,
        client_id: &str,
        proof: &VerifiedProof,
        now: UnixTime,
    ) -> Result<(RefreshGrant, String), Error>
    where
        S: AsyncRefreshStore,
    {
        let id = RefreshTokenId::of(refresh_token);
        let (next, next_id) = new_token()?;
        let rotation = AsyncRefreshStore::rotate(
            &self.store,
            &id,
            client_id,
            &proof.thumbprint(),
            next_id,
            now,
        )
        .await?;
        Ok((rotated(rotation)?, next))
    }

    fn new_family(
        &self,
        subject: &str,
        client_id: &str,
        scope: Option<&str>,
        proof: &VerifiedProof,
        now: UnixTime,
    ) -> Result<RefreshGrant, Error> {
        let mut family = [0u8; 16];
        getrandom::SysRng
            .try_fill_bytes(&mut family)
            .map_err(|_| Error::Randomness)?;
        let family_expires_at = now.saturating_add(self.lifetime_secs);
        Ok(RefreshGrant {
            subject: subject.to_owned(),
            client_id: client_id.to_owned(),
            scope: scope.map(str::to_owned),
            jkt: proof.thumbprint(),
            family: FamilyId(family),
            expires_at: family_expires_at,
            family_expires_at,
        })
    }
}

/// The grant of a successful rotation, or the `invalid_grant` reason.
fn rotated(rotation: Rotation) -> Result<RefreshGrant, Error> {
    match rotation {
        Rotation::Rotated(grant) => Ok(grant),
        Rotation::Reused => Err(GrantError::RefreshTokenReused.into()),
        Rotation::WrongKey => Err(GrantError::KeyMismatch.into()),
        Rotation::Unknown => Err(GrantError::UnknownRefreshToken.into()),
    }
}

/// A fresh refresh token (256 random bits) and its storage id.
fn new_token() -> Result<(String, RefreshTokenId), Error> {
    let mut random = [0u8; 32];
    getrandom::SysRng
        .try_fill_bytes(&mut random)
        .map_err(|_| Error::Randomness)?;
    let token = base64url::encode(&random);
    let id = RefreshTokenId::of(&token);
    Ok((token, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = UnixTime::from_secs(1_700_000_000);

    fn grant(jkt: Thumbprint) -> RefreshGrant {
        let end = NOW.saturating_add(100);
        RefreshGrant {
            subject: "alice".to_owned(),
            client_id: "app".to_owned(),
            scope: None,
            jkt,
            family: FamilyId([7; 16]),
            expires_at: end,
            family_expires_at: end,
        }
    }

    #[test]
    fn only_a_rotation_changes_the_store_and_it_changes_it_whole() {
        let (key, other) = (
            Thumbprint::from_bytes([1; 32]),
            Thumbprint::from_bytes([2; 32]),
        );
        let store = MemoryRefreshStore::with_capacity(3);
        let (first, second, third) = (
            RefreshTokenId::of("first"),
            RefreshTokenId::of("second"),
            RefreshTokenId::of("third"),
        );
        RefreshStore::insert(&store, first, grant(key), NOW).unwrap();
        // Refusals store nothing.
        assert_eq!(
            RefreshStore::rotate(&store, &first, "app", &other, second, NOW),
            Ok(Rotation::WrongKey)
        );
        assert_eq!(
            RefreshStore::rotate(&store, &first, "other", &key, second, NOW),
            Ok(Rotation::WrongKey)
        );
        assert_eq!(
            RefreshStore::rotate(&store, &second, "app", &key, third, NOW),
            Ok(Rotation::Unknown)
        );
        assert_eq!(store.len(), 1);
        // A rotation marks the token used and stores the successor with the same grant.
        assert_eq!(
            RefreshStore::rotate(&store, &first, "app", &key, second, NOW),
            Ok(Rotation::Rotated(grant(key)))
        );
        assert_eq!(store.len(), 2);
        // Reuse revokes the family and stores no successor.
        assert_eq!(
            RefreshStore::rotate(&store, &first, "app", &key, third, NOW),
            Ok(Rotation::Reused)
        );
        assert_eq!(store.len(), 2);
        assert_eq!(
            RefreshStore::rotate(&store, &second, "app", &key, third, NOW),
            Ok(Rotation::Unknown)
        );
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn a_full_store_refuses_the_rotation_and_keeps_the_token_unused() {
        let key = Thumbprint::from_bytes([1; 32]);
        let store = MemoryRefreshStore::with_capacity(1);
        let (first, second) = (RefreshTokenId::of("first"), RefreshTokenId::of("second"));
        RefreshStore::insert(&store, first, grant(key), NOW).unwrap();
        assert_eq!(
            RefreshStore::rotate(&store, &first, "app", &key, second, NOW),
            Err(StoreError::Full)
        );
        assert_eq!(store.len(), 1);
        let tables = store.lock();
        assert!(!tables.tokens[&first].used);
        assert!(tables.revoked_families.is_empty());
    }
}
