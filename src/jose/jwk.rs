//! JSON Web Keys (RFC 7517) for EC P-256 (RFC 7518 §6.2), read strictly.

use serde_json::Value;

use crate::error::KeyError;
use crate::jose::base64url;
use crate::jose::json::Object;

/// JWK members that hold private key material for any key type (RFC 7518 §6.2.2, §6.3.2,
/// §6.4.1). None may appear where a public key belongs (RFC 9449 §4.3 step 7).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// What the key will be used for, to check `key_ops` (RFC 7517 §4.3).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRole {
    Verify,
    Sign,
}

/// The validated members of an EC P-256 JWK.
pub(crate) struct EcJwk<'a> {
    pub(crate) x: [u8; 32],
    pub(crate) y: [u8; 32],
    /// The private scalar's base64url text, present only when read as a private key.
    pub(crate) d: Option<&'a str>,
}

/// Reads the members of an EC P-256 JWK. With `role == Verify` any private member is refused;
/// with `role == Sign` the `d` member is required.
pub(crate) fn read_ec(jwk: &Object, role: KeyRole) -> Result<EcJwk<'_>, KeyError> {
    if role == KeyRole::Verify && PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err(KeyError::PrivateKey);
    }
    if required_str(jwk, "kty")? != "EC" {
        return Err(KeyError::UnsupportedKeyType);
    }
    if required_str(jwk, "crv")? != "P-256" {
        return Err(KeyError::UnsupportedCurve);
    }
    if optional_str(jwk, "alg")?.is_some_and(|alg| alg != "ES256") {
        return Err(KeyError::WrongAlgorithm);
    }
    if optional_str(jwk, "use")?.is_some_and(|u| u != "sig") {
        return Err(KeyError::WrongUse);
    }
    if let Some(ops) = jwk.get("key_ops") {
        let wanted = match role {
            KeyRole::Verify => "verify",
            KeyRole::Sign => "sign",
        };
        let ops = ops.as_array().ok_or(KeyError::InvalidMember("key_ops"))?;
        let mut allowed = false;
        for op in ops {
            let op = op.as_str().ok_or(KeyError::InvalidMember("key_ops"))?;
            allowed |= op == wanted;
        }
        if !allowed {
            return Err(KeyError::WrongUse);
        }
    }
    let x = coordinate(jwk, "x")?;
    let y = coordinate(jwk, "y")?;
    let d = match role {
        KeyRole::Verify => None,
        KeyRole::Sign => Some(required_str(jwk, "d")?),
    };
    Ok(EcJwk { x, y, d })
}

fn coordinate(jwk: &Object, name: &'static str) -> Result<[u8; 32], KeyError> {
    base64url::decode_array(required_str(jwk, name)?).map_err(|_| KeyError::InvalidCoordinate)
}

fn required_str<'a>(jwk: &'a Object, name: &'static str) -> Result<&'a str, KeyError> {
    optional_str(jwk, name)?.ok_or(KeyError::MissingMember(name))
}

fn optional_str<'a>(jwk: &'a Object, name: &'static str) -> Result<Option<&'a str>, KeyError> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(KeyError::InvalidMember(name)),
    }
}

/// The public JWK text `{"kty":"EC","crv":"P-256","x":…,"y":…}`.
pub(crate) fn public_json(x: &[u8; 32], y: &[u8; 32]) -> String {
    format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
        base64url::encode(x),
        base64url::encode(y)
    )
}
