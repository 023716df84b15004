//! A successful token response ([RFC 6749 §5.1](https://www.rfc-editor.org/rfc/rfc6749#section-5.1),
//! [RFC 9449 §5](https://www.rfc-editor.org/rfc/rfc9449#section-5)).

use serde::Deserialize;

use crate::integrations::reqwest::client_error::ClientError;
use crate::proof::syntax;

/// A successful DPoP token response (RFC 9449 §5).
///
/// Only a response whose `token_type` is `DPoP` (case-insensitive) is ever returned: a
/// `Bearer` token is refused with [`ClientError::NotDpopBound`] rather than used unbound. The
/// `access_token` is a `token68` (RFC 9449 §7.1), so it can be sent as `Authorization: DPoP …`.
/// `Debug` prints no token.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The DPoP-bound access token.
    pub access_token: String,
    /// Always `DPoP` (anything else is refused).
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: Option<u64>,
    /// A refresh token bound to the same key, if issued.
    pub refresh_token: Option<String>,
    /// The granted scope.
    pub scope: Option<String>,
    /// An OpenID Connect ID token, when the grant issued one.
    pub id_token: Option<String>,
}

impl TokenResponse {
    /// Reads a `200` answer of the token endpoint.
    ///
    /// Errors: [`ClientError::MalformedResponse`] for JSON without a string `access_token`
    /// that is a `token68`; [`ClientError::NotDpopBound`] for a `token_type` other than
    /// `DPoP`.
    pub(crate) fn from_json(status: u16, body: &[u8]) -> Result<Self, ClientError> {
        let token: Self =
            serde_json::from_slice(body).map_err(|_| ClientError::MalformedResponse { status })?;
        if !token.token_type.eq_ignore_ascii_case("DPoP") {
            return Err(ClientError::NotDpopBound);
        }
        if !syntax::is_token68(&token.access_token) {
            return Err(ClientError::MalformedResponse { status });
        }
        Ok(token)
    }
}

impl core::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_dpop_response() {
        let token = TokenResponse::from_json(
            200,
            br#"{"access_token":"eyJ.x-y_z","token_type":"dpop","expires_in":300,
                "refresh_token":"rt","scope":"a b","id_token":"id.t.k","extra":1}"#,
        )
        .unwrap();
        assert_eq!(token.access_token, "eyJ.x-y_z");
        assert_eq!(token.expires_in, Some(300));
        assert_eq!(token.refresh_token.as_deref(), Some("rt"));
        assert_eq!(
            format!("{token:?}"),
            r#"TokenResponse { token_type: "dpop", expires_in: Some(300), scope: Some("a b"), .. }"#
        );
    }

    #[test]
    fn refuses_bearer_and_malformed_tokens() {
        assert!(matches!(
            TokenResponse::from_json(200, br#"{"access_token":"t","token_type":"Bearer"}"#),
            Err(ClientError::NotDpopBound)
        ));
        for bad in [
            &br#"{"access_token":"a b","token_type":"DPoP"}"#[..],
            br#"{"access_token":"a\r\nX-Evil: 1","token_type":"DPoP"}"#,
            br#"{"access_token":"","token_type":"DPoP"}"#,
            br#"{"token_type":"DPoP"}"#,
            br#"{"access_token":"t","token_type":"DPoP","expires_in":-1}"#,
            b"[]",
        ] {
            assert!(
                matches!(
                    TokenResponse::from_json(200, bad),
                    Err(ClientError::MalformedResponse { status: 200 })
                ),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
