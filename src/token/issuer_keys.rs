//! The issuer's signing keys: one signs, retired ones keep verifying until removed.

use crate::error::Error;
use crate::jose::public_key::PublicKey;
use crate::jose::signing_key::SigningKey;
use crate::jose::thumbprint::Thumbprint;
use crate::token::key_set::KeySet;

/// The keys an issuer signs access tokens with (any supported type, each with its own
/// algorithm), each identified by `kid` = its RFC 7638 thumbprint. One key signs; keys rotated
/// out stay published (and so keep verifying) until [`remove`](Self::remove)d, so rotation
/// needs no downtime:
///
/// 1. [`rotate`](Self::rotate) to a new key — new tokens are signed with it, the old key is
///    still in [`jwks`](Self::jwks);
/// 2. wait at least the longest token lifetime (plus the resource servers' JWKS refresh);
/// 3. [`remove`](Self::remove) the old key.
pub struct IssuerKeys {
    active: SigningKey,
    retired: Vec<PublicKey>,
}

impl IssuerKeys {
    /// Keys with `active` signing.
    pub fn new(active: SigningKey) -> Self {
        Self {
            active,
            retired: Vec::new(),
        }
    }

    /// Keys with a freshly generated signing key.
    pub fn generate() -> Result<Self, Error> {
        Ok(Self::new(SigningKey::generate()?))
    }

    /// The signing key.
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// The `kid` of the signing key (its thumbprint).
    pub fn active_kid(&self) -> Thumbprint {
        self.active.thumbprint()
    }

    /// Makes `next` the signing key; the previous one keeps verifying until removed.
    pub fn rotate(&mut self, next: SigningKey) {
        let previous = core::mem::replace(&mut self.active, next);
        let public = previous.public_key().clone();
        if public.thumbprint() != self.active.thumbprint() {
            self.retired.push(public);
        }
    }

    /// Stops publishing the retired key `kid`. The signing key cannot be removed; returns
    /// whether a key was removed.
    pub fn remove(&mut self, kid: &Thumbprint) -> bool {
        let before = self.retired.len();
        self.retired.retain(|k| &k.thumbprint() != kid);
        before != self.retired.len()
    }

    /// Every public key that verifies: the signing key first, then the retired ones.
    pub fn public_keys(&self) -> impl Iterator<Item = &PublicKey> {
        core::iter::once(self.active.public_key()).chain(self.retired.iter())
    }

    /// The JWKS document (RFC 7517 §5) to publish: public keys only, each with `kid`, its own
    /// `alg` and `use: sig`.
    pub fn jwks(&self) -> String {
        crate::token::key_set::jwks_json(self.public_keys())
    }

    /// The same keys as a [`KeySet`] for an in-process verifier.
    pub fn key_set(&self) -> KeySet {
        KeySet::from_keys(self.public_keys().cloned())
    }
}

impl core::fmt::Debug for IssuerKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IssuerKeys")
            .field("active_kid", &self.active_kid())
            .field("retired", &self.retired.len())
            .finish_non_exhaustive()
    }
}
