//! Server nonces without server storage (RFC 9449 §8, §9).
//!
//! A nonce is `base64url(step ‖ HMAC-SHA-256(secret, label ‖ step)[..16])`, where `step` is the
//! current time divided by the step length. A nonce is accepted while its step is one of the
//! last `accepted_steps` steps and its MAC verifies under the current or the previous secret, so
//! any number of servers sharing the secret agree without shared state, and the secret can be
//! rotated without rejecting nonces already handed out.

use std::sync::RwLock;

use hmac::{Hmac, KeyInit, Mac};
use rand_core::TryCryptoRng;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Error, NonceProblem};
use crate::jose::base64url;
use crate::proof::syntax;
use crate::time::UnixTime;

const LABEL: &[u8] = b"keybound dpop nonce v1";
const MAC_LEN: usize = 16;
const NONCE_BYTES: usize = 8 + MAC_LEN;
/// Length of an issued nonce in base64url characters.
const NONCE_LEN: usize = 32;

type Secret = Zeroizing<[u8; 32]>;

struct Secrets {
    current: Secret,
    previous: Option<Secret>,
}

/// Issues and checks server nonces (RFC 9449 §8). A verifier given an engine requires a valid
/// nonce in every proof (§11.3: once nonces are issued, proofs without one are refused).
///
/// Defaults: a step of 30 s and 3 accepted steps, so a nonce stays valid for 60 to 90 s —
/// long enough for a client's retry and a few requests, short enough to bound how long a
/// pre-computed proof is useful.
pub struct NonceEngine {
    secrets: RwLock<Secrets>,
    step_secs: u64,
    accepted_steps: u64,
}

impl NonceEngine {
    /// An engine with a fresh random secret from the operating system.
    pub fn generate() -> Result<Self, Error> {
        Self::generate_with_rng(&mut getrandom::SysRng)
    }

    /// An engine with a fresh random secret from `rng`.
    pub fn generate_with_rng<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        let mut secret = Zeroizing::new([0u8; 32]);
        rng.try_fill_bytes(secret.as_mut_slice())
            .map_err(|_| Error::Randomness)?;
        Ok(Self::from_secret(*secret))
    }

    /// An engine with the given 32-byte secret. Share the secret among the servers that must
    /// accept each other's nonces; keep it as secret as a signing key.
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Self {
            secrets: RwLock::new(Secrets {
                current: Zeroizing::new(secret),
                previous: None,
            }),
            step_secs: 30,
            accepted_steps: 3,
        }
    }

    /// Sets the step length in seconds (default 30; at least 1).
    pub fn with_step_secs(mut self, secs: u64) -> Self {
        self.step_secs = secs.max(1);
        self
    }

    /// Sets how many steps, the current one included, a nonce is accepted for (default 3; at
    /// least 1).
    pub fn with_accepted_steps(mut self, steps: u64) -> Self {
        self.accepted_steps = steps.max(1);
        self
    }

    /// Makes `secret` the signing secret; the previous one still verifies until the next
    /// rotation, so nonces already handed out keep working.
    pub fn rotate(&self, secret: [u8; 32]) {
        let mut secrets = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        let new = Zeroizing::new(secret);
        let old = core::mem::replace(&mut secrets.current, new);
        secrets.previous = Some(old);
    }

    /// A nonce for the current time step.
    pub fn issue(&self, now: UnixTime) -> String {
        let step = now.as_secs() / self.step_secs;
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        let mut bytes = [0u8; NONCE_BYTES];
        bytes[..8].copy_from_slice(&step.to_be_bytes());
        bytes[8..].copy_from_slice(&mac(&secrets.current, step).finalize().into_bytes()[..MAC_LEN]);
        base64url::encode(&bytes)
    }

    /// Checks a nonce from a proof. `Ok(true)` when it is from the current step, `Ok(false)`
    /// when it is older but still accepted (the server may send a fresh one, §8.2).
    pub(crate) fn check(&self, nonce: &str, now: UnixTime) -> Result<bool, NonceProblem> {
        if nonce.len() != NONCE_LEN || !syntax::is_nonce(nonce) {
            return Err(NonceProblem::Invalid);
        }
        let bytes =
            base64url::decode_array::<NONCE_BYTES>(nonce).map_err(|_| NonceProblem::Invalid)?;
        let mut step_bytes = [0u8; 8];
        step_bytes.copy_from_slice(&bytes[..8]);
        let step = u64::from_be_bytes(step_bytes);
        let current = now.as_secs() / self.step_secs;
        if step > current || current - step >= self.accepted_steps {
            return Err(NonceProblem::Invalid);
        }
        let tag = &bytes[8..];
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        let valid = mac(&secrets.current, step)
            .verify_truncated_left(tag)
            .is_ok()
            || secrets
                .previous
                .as_ref()
                .is_some_and(|old| mac(old, step).verify_truncated_left(tag).is_ok());
        if valid {
            Ok(step == current)
        } else {
            Err(NonceProblem::Invalid)
        }
    }
}

fn mac(secret: &[u8; 32], step: u64) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(LABEL);
    mac.update(&step.to_be_bytes());
    mac
}

impl core::fmt::Debug for NonceEngine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NonceEngine")
            .field("step_secs", &self.step_secs)
            .field("accepted_steps", &self.accepted_steps)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> UnixTime {
        UnixTime::from_secs(secs)
    }

    #[test]
    fn issued_nonce_is_accepted_for_the_configured_steps() {
        let engine = NonceEngine::from_secret([1; 32]);
        let nonce = engine.issue(t(3000));
        assert!(syntax::is_nonce(&nonce));
        assert_eq!(nonce.len(), NONCE_LEN);
        assert_eq!(engine.check(&nonce, t(3000)), Ok(true));
        assert_eq!(engine.check(&nonce, t(3029)), Ok(true));
        assert_eq!(engine.check(&nonce, t(3030)), Ok(false));
        assert_eq!(engine.check(&nonce, t(3089)), Ok(false));
        assert_eq!(engine.check(&nonce, t(3090)), Err(NonceProblem::Invalid));
        // Not valid before it was issued.
        assert_eq!(engine.check(&nonce, t(2999)), Err(NonceProblem::Invalid));
    }

    #[test]
    fn forged_or_foreign_nonces_are_refused() {
        let engine = NonceEngine::from_secret([1; 32]);
        let other = NonceEngine::from_secret([2; 32]);
        assert_eq!(
            engine.check(&other.issue(t(3000)), t(3000)),
            Err(NonceProblem::Invalid)
        );
        let nonce = engine.issue(t(3000));
        let mut tampered = nonce.clone().into_bytes();
        tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(engine.check(&tampered, t(3000)), Err(NonceProblem::Invalid));
        for junk in ["", "x", "a b", &"A".repeat(NONCE_LEN)] {
            assert_eq!(engine.check(junk, t(3000)), Err(NonceProblem::Invalid));
        }
    }

    #[test]
    fn rotation_keeps_the_previous_secret_for_one_rotation() {
        let engine = NonceEngine::from_secret([1; 32]);
        let old = engine.issue(t(3000));
        engine.rotate([2; 32]);
        assert_eq!(engine.check(&old, t(3000)), Ok(true));
        let new = engine.issue(t(3000));
        assert_ne!(old, new);
        assert_eq!(engine.check(&new, t(3000)), Ok(true));
        engine.rotate([3; 32]);
        assert_eq!(engine.check(&old, t(3000)), Err(NonceProblem::Invalid));
        assert_eq!(engine.check(&new, t(3000)), Ok(true));
    }

    #[test]
    fn debug_hides_secrets() {
        let engine = NonceEngine::from_secret([0xAB; 32]);
        let text = format!("{engine:?}");
        assert!(!text.contains("171") && !text.to_lowercase().contains("ab, "));
        assert!(text.starts_with("NonceEngine"));
    }
}
