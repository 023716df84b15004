//! The issuers one guard trusts, and which of them a token claims to come from.

use serde_json::Value;

use crate::error::{Error, TokenError};
use crate::jose::{base64url, json};
use crate::token::verifier::TokenVerifier;

/// One [`TokenVerifier`] per trusted issuer (its keys, algorithms, audiences and limits). The
/// token's `iss` picks the verifier — read before the signature is checked, so it only says
/// *which* issuer's keys must have signed the token, never which keys to trust.
pub(crate) struct TrustedIssuers {
    verifiers: Vec<TokenVerifier>,
}

impl TrustedIssuers {
    pub(crate) fn new(first: TokenVerifier) -> Self {
        Self {
            verifiers: vec![first],
        }
    }

    /// Adds `verifier`; refused when its issuer is already trusted (the `iss` would be
    /// ambiguous).
    pub(crate) fn push(&mut self, verifier: TokenVerifier) -> Result<(), Error> {
        if self.by_issuer(verifier.issuer()).is_some() {
            return Err(Error::InvalidArgument("issuer"));
        }
        self.verifiers.push(verifier);
        Ok(())
    }

    pub(crate) fn first(&self) -> &TokenVerifier {
        &self.verifiers[0]
    }

    pub(crate) fn all(&self) -> &[TokenVerifier] {
        &self.verifiers
    }

    /// The verifier for `iss`.
    pub(crate) fn by_issuer(&self, iss: &str) -> Option<&TokenVerifier> {
        self.verifiers.iter().find(|v| v.issuer() == iss)
    }

    /// The verifier that must accept the compact JWS `token`. With one issuer that is the one
    /// (its `iss` check refuses foreign tokens); with several, the payload's `iss` picks it,
    /// and a token naming none of them is refused as [`TokenError::WrongIssuer`] (bounded
    /// decoding, within the first issuer's size and depth limits).
    pub(crate) fn for_token(&self, token: &str) -> Result<&TokenVerifier, Error> {
        if self.verifiers.len() == 1 {
            return Ok(self.first());
        }
        let options = self.first().options();
        if token.len() > options.max_token_len {
            return Err(TokenError::TooLarge.into());
        }
        let mut segments = token.split('.');
        let payload = match (segments.next(), segments.next(), segments.next()) {
            (Some(_), Some(payload), Some(_)) => payload,
            _ => return Err(TokenError::Jose(crate::error::JoseError::SegmentCount).into()),
        };
        let bytes = base64url::decode(payload).map_err(TokenError::Jose)?;
        let claims =
            json::parse_object(&bytes, options.max_json_depth).map_err(TokenError::Jose)?;
        match claims.get("iss") {
            Some(Value::String(iss)) => self
                .by_issuer(iss)
                .ok_or_else(|| TokenError::WrongIssuer.into()),
            Some(_) => Err(TokenError::InvalidClaim("iss").into()),
            None => Err(TokenError::MissingClaim("iss").into()),
        }
    }
}
