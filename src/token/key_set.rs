//! The verifier's view of an issuer's keys: a JWKS document, read strictly.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{JoseError, KeyError};
use crate::jose::json;
use crate::jose::public_key::PublicKey;

/// Largest JWKS document accepted.
const MAX_JWKS_LEN: usize = 64 * 1024;

/// Public keys that may sign access tokens, looked up by `kid`.
///
/// Built from a JWKS document with [`KeySet::from_jwks`], which refuses ambiguous sets: a
/// duplicate `kid`, a key that is not EC P-256, a private key, a key whose `alg`, `use` or
/// `key_ops` is not for ES256 signatures. A key without `kid` is listed under its thumbprint.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: HashMap<String, PublicKey>,
}

impl KeySet {
    /// Reads a JWKS document `{"keys":[…]}` (RFC 7517 §5).
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
        for entry in entries {
            let Value::Object(jwk) = entry else {
                return Err(KeyError::InvalidMember("keys"));
            };
            let key = PublicKey::from_jwk_object(jwk)?;
            let kid = match jwk.get("kid") {
                None => key.thumbprint().to_base64url(),
                Some(Value::String(kid)) if !kid.is_empty() => kid.clone(),
                Some(_) => return Err(KeyError::InvalidMember("kid")),
            };
            if keys.insert(kid, key).is_some() {
                return Err(KeyError::DuplicateKid);
            }
        }
        Ok(Self { keys })
    }

    /// A set of `keys`, each under `kid` = its thumbprint.
    pub fn from_keys(keys: impl IntoIterator<Item = PublicKey>) -> Self {
        Self {
            keys: keys
                .into_iter()
                .map(|k| (k.thumbprint().to_base64url(), k))
                .collect(),
        }
    }

    /// The key named `kid`.
    pub fn get(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.get(kid)
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// A JWKS document `{"keys":[…]}` (RFC 7517 §5) of public keys, each with `kid` = its RFC 7638
/// thumbprint, `alg: ES256` and `use: sig`.
pub fn jwks_json<'a>(keys: impl IntoIterator<Item = &'a PublicKey>) -> String {
    let entries: Vec<String> = keys
        .into_iter()
        .map(|key| {
            let jwk = key.to_jwk();
            format!(
                r#"{},"kid":"{}","alg":"ES256","use":"sig"}}"#,
                &jwk[..jwk.len() - 1],
                key.thumbprint()
            )
        })
        .collect();
    format!(r#"{{"keys":[{}]}}"#, entries.join(","))
}
