//! Token-endpoint responses: the DPoP token response (RFC 9449 §5) and error responses
//! (RFC 6749 §5.2).

use serde::Serialize;

use crate::error::{Endpoint, Error};
use crate::token::issuer::IssuedToken;

#[derive(Serialize)]
struct TokenBody<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

/// The JSON body of a successful token response: `access_token`, `token_type: "DPoP"`
/// (RFC 9449 §5), `expires_in`, and `refresh_token`/`scope` when given. Send it with
/// `Content-Type: application/json` and `Cache-Control: no-store` (RFC 6749 §5.1).
pub fn token_response(
    issued: &IssuedToken,
    refresh_token: Option<&str>,
    scope: Option<&str>,
) -> String {
    let body = TokenBody {
        access_token: &issued.access_token,
        token_type: "DPoP",
        expires_in: issued.expires_in,
        refresh_token,
        scope,
    };
    // A struct of strings and integers always serializes.
    serde_json::to_string(&body).unwrap_or_default()
}

/// A token-endpoint error answer (RFC 6749 §5.2): status, JSON body and, for
/// `use_dpop_nonce`, the `DPoP-Nonce` header value (RFC 9449 §8).
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct ErrorResponse {
    /// The HTTP status (400; 429 when the proof's key is over its share of the replay store;
    /// 503 when a store is unavailable).
    pub status: u16,
    /// `{"error":…,"error_description":…}`; send with `Cache-Control: no-store`.
    pub body: String,
    /// The `DPoP-Nonce` header to send, if any.
    pub dpop_nonce: Option<String>,
    /// The `Retry-After` header to send (seconds), on a 429: the proof's key holds its share
    /// of the replay store.
    pub retry_after_secs: Option<u64>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

/// The token-endpoint answer for `error`.
pub fn error_response(error: &Error) -> ErrorResponse {
    let code = error
        .code(Endpoint::Token)
        .map_or("server_error", |c| c.as_str());
    let body = ErrorBody {
        error: code,
        error_description: error.description(),
    };
    ErrorResponse {
        status: error.status(Endpoint::Token),
        body: serde_json::to_string(&body).unwrap_or_default(),
        dpop_nonce: error.dpop_nonce().map(str::to_owned),
        retry_after_secs: error.retry_after_secs(),
    }
}
