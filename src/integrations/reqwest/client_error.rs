//! What can go wrong on the client side, and how an authorization server's error answer
//! ([RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)) is kept: bounded and
//! stripped to printable ASCII, because it is the server's text.

use serde::Deserialize;

use crate::error::Error;

/// Longest `error_description` (and `error`) kept, in characters.
pub(crate) const MAX_DESCRIPTION_CHARS: usize = 256;

/// Longest `error_uri` kept, in bytes.
const MAX_ERROR_URI_LEN: usize = 512;

/// What can go wrong on the client side.
///
/// The server-supplied members of [`TokenEndpoint`](Self::TokenEndpoint) and
/// [`PushedAuthorizationEndpoint`](Self::PushedAuthorizationEndpoint) are bounded and
/// restricted to RFC 6749's printable-ASCII character set before they are stored, so logging or
/// displaying them cannot inject newlines or terminal escapes. They are still the server's
/// words: log them, do not act on them.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// The HTTP exchange failed.
    Http(reqwest::Error),
    /// A proof could not be made (bad method or URL, signer failure).
    Proof(Error),
    /// The request could not be built: an argument this crate cannot use (an empty client
    /// id, a `resource` that is not an absolute URI, an extra parameter with a reserved name)
    /// or a failure of the client-assertion signer.
    Request(Error),
    /// The token endpoint refused the request (RFC 6749 §5.2).
    TokenEndpoint {
        /// The HTTP status.
        status: u16,
        /// The OAuth `error` code, if it sent one (bounded and escaped like
        /// `error_description`).
        error: Option<String>,
        /// The server's `error_description`, at most 256 characters of RFC 6749's
        /// `%x20-21 / %x23-5B / %x5D-7E`: anything else (quotes, backslashes, control
        /// characters, non-ASCII) is replaced by `?`. It is the server's text: log it, do not
        /// trust it.
        error_description: Option<String>,
        /// The server's `error_uri`, kept only if it is at most 512 bytes of RFC 6749's
        /// `%x21 / %x23-5B / %x5D-7E` (dropped otherwise, never altered). Not shown by
        /// `Display`.
        error_uri: Option<String>,
    },
    /// The pushed authorization request endpoint refused the request
    /// ([RFC 9126 §2.3](https://www.rfc-editor.org/rfc/rfc9126#section-2.3)); members as for
    /// [`TokenEndpoint`](Self::TokenEndpoint).
    PushedAuthorizationEndpoint {
        /// The HTTP status.
        status: u16,
        /// The OAuth `error` code, if any (bounded and escaped).
        error: Option<String>,
        /// The bounded, escaped `error_description`, if any.
        error_description: Option<String>,
        /// The `error_uri`, if any and well-formed.
        error_uri: Option<String>,
    },
    /// The authorization server answered success with a body that is not the expected JSON
    /// (for a token: no `access_token`, or one that is not a `token68` and so cannot be sent
    /// in an `Authorization` header).
    MalformedResponse {
        /// The HTTP status of the answer.
        status: u16,
    },
    /// The authorization server's answer is longer than the client's limit
    /// ([`MAX_RESPONSE_LEN`](crate::MAX_RESPONSE_LEN) unless changed); it was not read
    /// further.
    ResponseTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The token endpoint answered with a `token_type` other than `DPoP`: the token is not bound
    /// to the key, and is refused rather than used as a bearer token.
    NotDpopBound,
    /// A [`TokenSource`](crate::TokenSource) has no refresh token and no grant to get a new
    /// access token with.
    NoRefreshToken,
}

impl core::fmt::Display for ClientError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Http(e) => write!(f, "HTTP error: {e}"),
            Self::Proof(e) => write!(f, "cannot make a DPoP proof: {e}"),
            Self::Request(e) => write!(f, "cannot build the request: {e}"),
            Self::TokenEndpoint {
                status,
                error,
                error_description,
                ..
            } => {
                f.write_str("token endpoint")?;
                server_error(f, *status, error, error_description)
            }
            Self::PushedAuthorizationEndpoint {
                status,
                error,
                error_description,
                ..
            } => {
                f.write_str("pushed authorization request endpoint")?;
                server_error(f, *status, error, error_description)
            }
            Self::MalformedResponse { status } => write!(
                f,
                "the authorization server's answer (HTTP {status}) is not a valid response"
            ),
            Self::ResponseTooLarge { limit } => write!(
                f,
                "the authorization server's answer exceeds the {limit}-byte limit"
            ),
            Self::NotDpopBound => {
                f.write_str("the token endpoint issued a token that is not DPoP-bound")
            }
            Self::NoRefreshToken => {
                f.write_str("the access token needs renewing and there is no refresh token")
            }
        }
    }
}

/// ` answered 400 (invalid_grant): "description"` — the code only if it is an RFC 9110 token,
/// the description already bounded and escaped.
fn server_error(
    f: &mut core::fmt::Formatter<'_>,
    status: u16,
    error: &Option<String>,
    error_description: &Option<String>,
) -> core::fmt::Result {
    write!(f, " answered {status}")?;
    if let Some(code) = error
        .as_deref()
        .filter(|c| crate::proof::syntax::is_token(c))
    {
        write!(f, " ({code})")?;
    }
    match error_description {
        Some(text) => write!(f, ": \"{text}\""),
        None => Ok(()),
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Http(e) => Some(e),
            Self::Proof(e) | Self::Request(e) => Some(e),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        Self::Http(e)
    }
}

/// An RFC 6749 §5.2 error answer, its members bounded and escaped.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ServerError {
    pub(crate) error: Option<String>,
    pub(crate) error_description: Option<String>,
    pub(crate) error_uri: Option<String>,
}

#[derive(Deserialize)]
struct ErrorJson {
    error: Option<serde_json::Value>,
    error_description: Option<serde_json::Value>,
    error_uri: Option<serde_json::Value>,
}

impl ServerError {
    /// Reads `body`; members that are absent or not strings are `None`, a body that is not a
    /// JSON object gives all `None`.
    pub(crate) fn from_body(body: &[u8]) -> Self {
        let Ok(json) = serde_json::from_slice::<ErrorJson>(body) else {
            return Self::default();
        };
        let text = |v: &Option<serde_json::Value>| {
            v.as_ref().and_then(|v| v.as_str()).map(bounded_description)
        };
        Self {
            error: text(&json.error),
            error_description: text(&json.error_description),
            error_uri: json
                .error_uri
                .as_ref()
                .and_then(|v| v.as_str())
                .filter(|uri| is_error_uri(uri))
                .map(str::to_owned),
        }
    }

    /// The token endpoint's refusal.
    pub(crate) fn at_token_endpoint(self, status: u16) -> ClientError {
        ClientError::TokenEndpoint {
            status,
            error: self.error,
            error_description: self.error_description,
            error_uri: self.error_uri,
        }
    }

    /// The PAR endpoint's refusal.
    pub(crate) fn at_par_endpoint(self, status: u16) -> ClientError {
        ClientError::PushedAuthorizationEndpoint {
            status,
            error: self.error,
            error_description: self.error_description,
            error_uri: self.error_uri,
        }
    }
}

/// `text` cut to [`MAX_DESCRIPTION_CHARS`], every character outside RFC 6749 §5.2's
/// `%x20-21 / %x23-5B / %x5D-7E` replaced by `?`, so it can be printed and logged safely.
pub(crate) fn bounded_description(text: &str) -> String {
    text.chars()
        .take(MAX_DESCRIPTION_CHARS)
        .map(|c| match c {
            '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e' => c,
            _ => '?',
        })
        .collect()
}

/// RFC 6749 §5.2 `error_uri`: `%x21 / %x23-5B / %x5D-7E`, here at most [`MAX_ERROR_URI_LEN`].
fn is_error_uri(uri: &str) -> bool {
    !uri.is_empty()
        && uri.len() <= MAX_ERROR_URI_LEN
        && uri
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_bounded_and_escaped() {
        assert_eq!(
            bounded_description("bad \"x\" \\ \n\u{1b}[31mé"),
            "bad ?x? ? ??[31m?"
        );
        assert_eq!(
            bounded_description(&"a".repeat(10_000)).len(),
            MAX_DESCRIPTION_CHARS
        );
        let error = ClientError::TokenEndpoint {
            status: 400,
            error: Some("invalid_grant".into()),
            error_description: Some(bounded_description("grant \"expired\"")),
            error_uri: None,
        };
        assert_eq!(
            error.to_string(),
            r#"token endpoint answered 400 (invalid_grant): "grant ?expired?""#
        );
    }

    #[test]
    fn server_error_members() {
        let parsed = ServerError::from_body(
            br#"{"error":"invalid_client","error_description":"no\nway","error_uri":"https://as/e?x=1"}"#,
        );
        assert_eq!(
            parsed,
            ServerError {
                error: Some("invalid_client".into()),
                error_description: Some("no?way".into()),
                error_uri: Some("https://as/e?x=1".into()),
            }
        );
        // A code that is not a token is kept (escaped) but not displayed.
        let odd = ServerError::from_body(br#"{"error":"a b\u001b"}"#).at_par_endpoint(400);
        assert_eq!(
            odd.to_string(),
            "pushed authorization request endpoint answered 400"
        );
        for bad_uri in [
            r#"{"error_uri":"https://as/e rr"}"#.to_owned(),
            r#"{"error_uri":"https://as/\"q"}"#.to_owned(),
            format!(r#"{{"error_uri":"https://as/{}"}}"#, "e".repeat(600)),
            r#"{"error_uri":7}"#.to_owned(),
        ] {
            assert_eq!(
                ServerError::from_body(bad_uri.as_bytes()).error_uri,
                None,
                "{bad_uri}"
            );
        }
        assert_eq!(ServerError::from_body(b"<html>"), ServerError::default());
        assert_eq!(
            ServerError::from_body(br#"{"error":["x"],"error_description":{}}"#),
            ServerError::default()
        );
    }
}
