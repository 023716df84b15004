//! The grant of a token request ([RFC 6749 §4](https://www.rfc-editor.org/rfc/rfc6749#section-4)):
//! `client_credentials`, `authorization_code` with PKCE, `refresh_token`.

use crate::client::parameters::Parameters;
use crate::client::pkce::PkceVerifier;
use crate::error::Error;

/// Names this crate sets in a token request (grant and client authentication), which
/// [`Grant::with_parameter`] may not use.
const RESERVED: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "resource",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
];

/// What a token request asks for. The DPoP proof and the client authentication are added when
/// it is sent ([`DpopClient::token`](crate::DpopClient::token)).
///
/// ```
/// use keybound::{Grant, PkceVerifier};
///
/// let machine = Grant::client_credentials()
///     .with_scope("orders:read")
///     .with_resource("https://orders.example.com")
///     .with_resource("https://billing.example.com");
/// assert_eq!(machine.grant_type(), "client_credentials");
///
/// let verifier = PkceVerifier::generate()?;
/// let user = Grant::authorization_code("code-from-callback", "https://app.example/cb", &verifier);
/// assert_eq!(user.grant_type(), "authorization_code");
/// # Ok::<(), keybound::Error>(())
/// ```
///
/// The code, the verifier and the refresh token are credentials: zeroized on drop, and
/// `Debug` prints parameter names only.
#[derive(Clone)]
pub struct Grant {
    params: Parameters,
}

impl Grant {
    /// `client_credentials` ([RFC 6749 §4.4.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.4.2)):
    /// a token for the client itself.
    pub fn client_credentials() -> Self {
        Self::of_type("client_credentials")
    }

    /// `authorization_code` ([RFC 6749 §4.1.3](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3))
    /// with the PKCE `code_verifier` ([RFC 7636 §4.5](https://www.rfc-editor.org/rfc/rfc7636#section-4.5))
    /// whose challenge the authorization request carried. `redirect_uri` is the one the
    /// authorization request named.
    pub fn authorization_code(
        code: impl Into<String>,
        redirect_uri: impl Into<String>,
        verifier: &PkceVerifier,
    ) -> Self {
        let mut grant = Self::of_type("authorization_code");
        grant.params.push("code", code);
        grant.params.push("redirect_uri", redirect_uri);
        grant.params.push("code_verifier", verifier.as_str());
        grant
    }

    /// `refresh_token` ([RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6)). A
    /// DPoP-bound refresh token is only accepted with a proof of the key it was issued to
    /// (RFC 9449 §5): send it through the same [`DpopClient`](crate::DpopClient).
    pub fn refresh_token(refresh_token: impl Into<String>) -> Self {
        let mut grant = Self::of_type("refresh_token");
        grant.params.push("refresh_token", refresh_token);
        grant
    }

    fn of_type(grant_type: &'static str) -> Self {
        let mut params = Parameters::default();
        params.push("grant_type", grant_type);
        Self { params }
    }

    /// Requests `scope` (space-separated, RFC 6749 §3.3), replacing any set before.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.params.set("scope", scope);
        self
    }

    /// Adds a `resource` indicator ([RFC 8707 §2](https://www.rfc-editor.org/rfc/rfc8707#section-2)):
    /// the absolute URI (no fragment) of an API the token is meant for. Call it once per
    /// resource; each becomes its own `resource` parameter. A URI that is not absolute, or has
    /// a fragment, makes the request fail with [`Error::InvalidArgument`]`("resource")` when
    /// sent.
    pub fn with_resource(mut self, uri: impl Into<String>) -> Self {
        self.params.push_resource(uri);
        self
    }

    /// Adds a parameter this type has no method for (e.g. `audience` for servers that predate
    /// RFC 8707). Names this crate sets itself (`grant_type`, `code`, `client_id`,
    /// `client_assertion`, …) are refused with [`Error::InvalidArgument`]`("parameter name")`
    /// when the request is sent.
    pub fn with_parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push_extra(RESERVED, name, value);
        self
    }

    /// The `grant_type`.
    pub fn grant_type(&self) -> &str {
        self.params.get("grant_type").unwrap_or_default()
    }

    /// The form parameters of the grant (client authentication not included).
    pub(crate) fn params(&self) -> Result<Vec<(&str, &str)>, Error> {
        self.params.pairs()
    }
}

impl core::fmt::Debug for Grant {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Grant")
            .field("grant_type", &self.grant_type())
            .field("parameters", &self.params.names())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_of_each_grant() {
        let grant = Grant::client_credentials()
            .with_scope("a b")
            .with_resource("https://r1.example")
            .with_resource("https://r2.example")
            .with_parameter("audience", "x");
        assert_eq!(
            grant.params().unwrap(),
            [
                ("grant_type", "client_credentials"),
                ("scope", "a b"),
                ("resource", "https://r1.example"),
                ("resource", "https://r2.example"),
                ("audience", "x"),
            ]
        );
        let verifier = PkceVerifier::from_secret("v".repeat(43)).unwrap();
        let grant = Grant::authorization_code("c0de", "https://app/cb", &verifier);
        assert_eq!(
            grant.params().unwrap(),
            [
                ("grant_type", "authorization_code"),
                ("code", "c0de"),
                ("redirect_uri", "https://app/cb"),
                ("code_verifier", verifier.as_str()),
            ]
        );
        let grant = Grant::refresh_token("rt-1");
        assert_eq!(
            grant.params().unwrap(),
            [("grant_type", "refresh_token"), ("refresh_token", "rt-1")]
        );
    }

    #[test]
    fn reserved_names_and_bad_resources_are_refused() {
        for name in [
            "grant_type",
            "client_assertion",
            "client_secret",
            "refresh_token",
        ] {
            assert_eq!(
                Grant::client_credentials()
                    .with_parameter(name, "x")
                    .params()
                    .err(),
                Some(Error::InvalidArgument("parameter name")),
                "{name}"
            );
        }
        assert_eq!(
            Grant::client_credentials()
                .with_resource("orders-api")
                .params()
                .err(),
            Some(Error::InvalidArgument("resource"))
        );
    }

    #[test]
    fn debug_prints_names_only() {
        let text = format!("{:?}", Grant::refresh_token("secret-rt"));
        assert_eq!(
            text,
            r#"Grant { grant_type: "refresh_token", parameters: ["grant_type", "refresh_token"], .. }"#
        );
    }
}
