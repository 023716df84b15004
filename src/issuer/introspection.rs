//! Token introspection responses (RFC 7662 §2.2, RFC 9449 §6.2).

use serde_json::{Map, Value};

use crate::revocation::RevocationStore;
use crate::time::UnixTime;
use crate::token::verifier::{TokenVerifier, VerifiedToken};

/// Answers an introspection request for `token` (RFC 7662): the token is verified with
/// `verifier` (the issuer's own keys, issuer and audience) and checked against `revocation`.
///
/// An active token gives `active: true`, its claims, `token_type: "DPoP"` and `cnf.jkt` when it
/// is bound (RFC 9449 §6.2; the binding itself is checked by the resource server, not here).
/// Anything else — malformed, expired, revoked, foreign, or a store failure — gives exactly
/// `{"active":false}`, with no reason (RFC 7662 §2.2).
pub fn introspect<V: RevocationStore + ?Sized>(
    verifier: &TokenVerifier,
    revocation: &V,
    token: &str,
    now: UnixTime,
) -> String {
    let active = verifier
        .verify(token, now)
        .ok()
        .filter(|t| matches!(revocation.is_revoked(t.claims(), now), Ok(false)));
    match active {
        Some(token) => introspection_json(&token),
        None => r#"{"active":false}"#.to_owned(),
    }
}

/// The introspection response for a verified, unrevoked token.
pub fn introspection_json(token: &VerifiedToken) -> String {
    let mut body = Map::new();
    body.insert("active".into(), Value::Bool(true));
    let token_type = if token.jkt().is_some() {
        "DPoP"
    } else {
        "Bearer"
    };
    body.insert("token_type".into(), token_type.into());
    for (name, value) in token.claims().to_json() {
        body.entry(name).or_insert(value);
    }
    Value::Object(body).to_string()
}
