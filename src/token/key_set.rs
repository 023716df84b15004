//! The verifier's view of an issuer's keys: a JWKS document as providers publish it.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{JoseError, KeyError};
use crate::jose::json;
use crate::jose::jwk;
use crate::jose::key_type::KeyType;
use crate::jose::public_key::PublicKey;

/// Largest JWKS document accepted: room for dozens of RSA-4096 keys.
pub(crate) const MAX_JWKS_LEN: usize = 256 * 1024;

/// Longest `kid` kept in a [`SkippedKey`] report; longer ones are cut at a character boundary.
const MAX_REPORTED_KID_LEN: usize = 128;

/// Public keys that may sign access tokens, looked up by `kid` in O(1).
///
/// Built from a JWKS document with [`KeySet::from_jwks`], which reads the set the way
/// providers publish it: keys this crate cannot verify with (encryption keys, X25519, unknown
/// `kty` or `crv`, RSA below 2048 bits, keys whose `alg`, `use` or `key_ops` is not for
/// signatures) are **skipped** and listed in [`skipped`](Self::skipped), not fatal. A key
/// without `kid` is listed under its thumbprint. Each key keeps its JWK `alg`, so a key
/// published for RS256 never verifies a PS256 or ES256 token.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: HashMap<String, PublicKey>,
    skipped: Vec<SkippedKey>,
}

/// A JWKS entry [`KeySet::from_jwks`] left out, with the reason, for logs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedKey {
    /// Position in the document's `keys` array.
    pub index: usize,
    /// The entry's `kid`, if it had a string one (at most 128 bytes kept). It is the
    /// provider's text, as published: escape it before writing it to a log.
    pub kid: Option<String>,
    /// Why it cannot be used.
    pub reason: KeyError,
}

impl KeySet {
    /// Reads a JWKS document `{"keys":[…]}` (RFC 7517 §5).
    ///
    /// Errors (the whole set is refused): not a strict JSON object, no `keys` array, an entry
    /// that is not an object, a private key (`d`, `k`, …: a provider leaking secrets is not
    /// to be trusted), a `kid` shared by two usable keys (ambiguous), or no usable signing key
    /// at all ([`KeyError::NoUsableKey`]).
    pub fn from_jwks(jwks: &str) -> Result<Self, KeyError> {
        if jwks.len() > MAX_JWKS_LEN {
            return Err(KeyError::Malformed(JoseError::Json));
        }
        let document = json::parse_object(jwks.as_bytes(), json::DEFAULT_MAX_DEPTH)
            .map_err(KeyError::Malformed)?;
        let Some(Value::Array(entries)) = document.get("keys") else {
            return Err(KeyError::MissingMember("keys"));
        };
        let mut keys = HashMap::with_capacity(entries.len());
        let mut skipped = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let Value::Object(object) = entry else {
                return Err(KeyError::InvalidMember("keys"));
            };
            // The key first: a private key refuses the whole set, whatever its `kid`.
            let usable = PublicKey::from_jwk_object(object)
                .and_then(|key| jwk::kid(object).map(|kid| (kid, key)));
            let (kid, key) = match usable {
                Ok(found) => found,
                Err(KeyError::PrivateKey) => return Err(KeyError::PrivateKey),
                Err(reason) => {
                    skipped.push(SkippedKey {
                        index,
                        kid: reported_kid(object),
                        reason,
                    });
                    continue;
                }
            };
            let kid = kid.map_or_else(|| key.thumbprint().to_base64url(), str::to_owned);
            if keys.insert(kid, key).is_some() {
                return Err(KeyError::DuplicateKid);
            }
        }
        if keys.is_empty() {
            return Err(KeyError::NoUsableKey);
        }
        Ok(Self { keys, skipped })
    }

    /// A set of `keys`, each under `kid` = its thumbprint.
    pub fn from_keys(keys: impl IntoIterator<Item = PublicKey>) -> Self {
        Self {
            keys: keys
                .into_iter()
                .map(|k| (k.thumbprint().to_base64url(), k))
                .collect(),
            skipped: Vec::new(),
        }
    }

    /// The key named `kid`.
    pub fn get(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.get(kid)
    }

    /// How many usable keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The entries of the JWKS that were left out, and why (empty for a set built from keys).
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }
}

fn reported_kid(object: &json::Object) -> Option<String> {
    let kid = object.get("kid")?.as_str()?;
    let mut end = kid.len().min(MAX_REPORTED_KID_LEN);
    while !kid.is_char_boundary(end) {
        end -= 1;
    }
    Some(kid[..end].to_owned())
}

/// A JWKS document `{"keys":[…]}` (RFC 7517 §5) of public keys, each with `kid` = its RFC 7638
/// thumbprint, its `alg` (the key's own, else for EC keys the curve's ES*; an Ed25519 or RSA
/// key without one is written without `alg`, since several fit it) and `use: sig`.
pub fn jwks_json<'a>(keys: impl IntoIterator<Item = &'a PublicKey>) -> String {
    let entries: Vec<String> = keys
        .into_iter()
        .map(|key| {
            let jwk = key.to_jwk();
            // Without an `alg` of its own, a key is published with the one algorithm its type
            // allows (EC); an Ed25519 or RSA key fits several, and naming one would narrow it.
            let alg = key
                .algorithm()
                .or(match key.key_type() {
                    KeyType::Ec(curve) => Some(curve.algorithm()),
                    _ => None,
                })
                .map(|alg| format!(r#","alg":"{alg}""#))
                .unwrap_or_default();
            format!(
                r#"{},"kid":"{}"{alg},"use":"sig"}}"#,
                &jwk[..jwk.len() - 1],
                key.thumbprint()
            )
        })
        .collect();
    format!(r#"{{"keys":[{}]}}"#, entries.join(","))
}
