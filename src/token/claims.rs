//! The claims of an RFC 9068 JWT access token.

use serde_json::{Map, Value};

use crate::error::TokenError;
use crate::jose::json::{self, Object};
use crate::jose::thumbprint::Thumbprint;
use crate::time::UnixTime;

/// Claim names this crate sets and checks itself; [`extra`](AccessTokenClaims::extra) claims
/// may not use them.
pub(crate) const REGISTERED: [&str; 11] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "client_id",
    "scope",
    "cnf",
    "token_type",
];

/// The claims of a verified access token (RFC 9068 §2.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessTokenClaims {
    pub(crate) iss: String,
    pub(crate) sub: String,
    pub(crate) aud: Vec<String>,
    pub(crate) exp: UnixTime,
    pub(crate) iat: UnixTime,
    pub(crate) nbf: Option<UnixTime>,
    pub(crate) jti: String,
    pub(crate) client_id: String,
    pub(crate) scope: Option<String>,
    pub(crate) jkt: Option<Thumbprint>,
    pub(crate) extra: Map<String, Value>,
}

impl AccessTokenClaims {
    /// `iss`: the issuer.
    pub fn issuer(&self) -> &str {
        &self.iss
    }

    /// `sub`: the subject (resource owner or client).
    pub fn subject(&self) -> &str {
        &self.sub
    }

    /// `aud`: the audiences (a single string is read as one audience).
    pub fn audiences(&self) -> &[String] {
        &self.aud
    }

    /// `exp`: when the token expires.
    pub fn expires_at(&self) -> UnixTime {
        self.exp
    }

    /// `iat`: when the token was issued.
    pub fn issued_at(&self) -> UnixTime {
        self.iat
    }

    /// `nbf`, if present.
    pub fn not_before(&self) -> Option<UnixTime> {
        self.nbf
    }

    /// `jti`: the token's unique identifier.
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// `client_id`: the OAuth client the token was issued to.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// `scope`, as the space-separated string in the token.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// The individual scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
    }

    /// Whether `scope` names `wanted`.
    pub fn has_scope(&self, wanted: &str) -> bool {
        self.scopes().any(|s| s == wanted)
    }

    /// `cnf.jkt` (RFC 9449 §6.1): the thumbprint of the key the token is bound to. `None` for
    /// an unbound (bearer) token.
    pub fn jkt(&self) -> Option<Thumbprint> {
        self.jkt
    }

    /// Every claim not listed above, as issued.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// All claims as one JSON object, in the shape of the token's payload.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("iss".into(), self.iss.clone().into());
        out.insert("sub".into(), self.sub.clone().into());
        out.insert(
            "aud".into(),
            match self.aud.as_slice() {
                [one] => one.clone().into(),
                many => many.to_vec().into(),
            },
        );
        out.insert("exp".into(), self.exp.as_secs().into());
        out.insert("iat".into(), self.iat.as_secs().into());
        if let Some(nbf) = self.nbf {
            out.insert("nbf".into(), nbf.as_secs().into());
        }
        out.insert("jti".into(), self.jti.clone().into());
        out.insert("client_id".into(), self.client_id.clone().into());
        if let Some(scope) = &self.scope {
            out.insert("scope".into(), scope.clone().into());
        }
        if let Some(jkt) = self.jkt {
            let mut cnf = Map::new();
            cnf.insert("jkt".into(), jkt.to_base64url().into());
            out.insert("cnf".into(), cnf.into());
        }
        for (name, value) in &self.extra {
            out.insert(name.clone(), value.clone());
        }
        out
    }

    /// All claims deserialized into `T` (any `serde::Deserialize` type: a struct of the claims
    /// the application reads, registered ones included), from the verified payload's shape
    /// ([`to_json`](Self::to_json)).
    ///
    /// ```
    /// # fn demo(claims: &keybound::AccessTokenClaims) -> Result<(), serde_json::Error> {
    /// #[derive(serde::Deserialize)]
    /// struct Mine { sub: String, tenant: String }
    /// let mine: Mine = claims.claims_as()?;
    /// # let _ = (mine.sub, mine.tenant); Ok(()) }
    /// ```
    pub fn claims_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(Value::Object(self.to_json()))
    }

    /// Reads the claims of an access token payload (types only; the verifier checks values).
    pub(crate) fn from_object(mut claims: Object) -> Result<Self, TokenError> {
        let iss = take_string(&mut claims, "iss")?;
        let sub = take_string(&mut claims, "sub")?;
        let aud = take_audiences(&mut claims)?.ok_or(TokenError::MissingClaim("aud"))?;
        let exp = take_date(&mut claims, "exp")?.ok_or(TokenError::MissingClaim("exp"))?;
        let iat = take_date(&mut claims, "iat")?.ok_or(TokenError::MissingClaim("iat"))?;
        let nbf = take_date(&mut claims, "nbf")?;
        let jti = take_string(&mut claims, "jti")?;
        let client_id = take_string(&mut claims, "client_id")?;
        let scope = take_optional_string(&mut claims, "scope")?;
        let jkt = take_confirmation(&mut claims)?;
        Ok(Self {
            iss,
            sub,
            aud,
            exp,
            iat,
            nbf,
            jti,
            client_id,
            scope,
            jkt,
            extra: claims,
        })
    }
}

/// `aud`: one string or a non-empty array of strings; `None` when absent.
pub(crate) fn take_audiences(claims: &mut Object) -> Result<Option<Vec<String>>, TokenError> {
    match claims.remove("aud") {
        None => Ok(None),
        Some(Value::String(one)) => Ok(Some(vec![one])),
        Some(Value::Array(many)) if !many.is_empty() => many
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(TokenError::InvalidClaim("aud")),
            })
            .collect::<Result<_, _>>()
            .map(Some),
        Some(_) => Err(TokenError::InvalidClaim("aud")),
    }
}

/// `cnf` (RFC 7800): `None` when absent, the `jkt` thumbprint when present.
pub(crate) fn take_confirmation(claims: &mut Object) -> Result<Option<Thumbprint>, TokenError> {
    match claims.remove("cnf") {
        None => Ok(None),
        Some(Value::Object(cnf)) => match cnf.get("jkt") {
            Some(Value::String(jkt)) => Thumbprint::from_base64url(jkt)
                .map(Some)
                .map_err(|_| TokenError::InvalidClaim("cnf")),
            // A confirmation method this crate cannot check (x5t#S256, jwk, …) must not
            // turn a bound token into a bearer token.
            _ => Err(TokenError::InvalidClaim("cnf")),
        },
        Some(_) => Err(TokenError::InvalidClaim("cnf")),
    }
}

/// A string claim that may be absent.
pub(crate) fn take_optional_string(
    claims: &mut Object,
    name: &'static str,
) -> Result<Option<String>, TokenError> {
    match claims.remove(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(TokenError::InvalidClaim(name)),
    }
}

fn take_string(claims: &mut Object, name: &'static str) -> Result<String, TokenError> {
    match claims.remove(name) {
        None => Err(TokenError::MissingClaim(name)),
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(TokenError::InvalidClaim(name)),
    }
}

pub(crate) fn take_date(
    claims: &mut Object,
    name: &'static str,
) -> Result<Option<UnixTime>, TokenError> {
    let Some(value) = claims.remove(name) else {
        return Ok(None);
    };
    json::numeric_date(&value)
        .map(|secs| Some(UnixTime::from_secs(secs)))
        .ok_or(TokenError::InvalidClaim(name))
}
