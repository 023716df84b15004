//! Where a client sends its requests: the authorization server's issuer identifier and
//! endpoints, given explicitly or read from its metadata
//! ([RFC 8414](https://www.rfc-editor.org/rfc/rfc8414)).

use crate::error::{Error, UpstreamError};
use crate::jose::algorithm::AlgorithmSet;
use crate::remote_issuer::metadata::AuthorizationServerMetadata;
use crate::secure_url;

/// An authorization server as a client sees it: its issuer identifier (the `aud` of
/// `private_key_jwt` assertions), its token endpoint, and optionally its pushed authorization
/// request endpoint ([RFC 9126](https://www.rfc-editor.org/rfc/rfc9126)) and authorization
/// endpoint. Every URL is `https`, or `http` on a loopback host.
///
/// ```
/// use keybound::AuthorizationServerEndpoints;
///
/// let endpoints = AuthorizationServerEndpoints::new(
///     "https://as.example.com",
///     "https://as.example.com/oauth/token",
/// )?
/// .with_pushed_authorization_request_endpoint("https://as.example.com/oauth/par")?
/// .with_authorization_endpoint("https://as.example.com/authorize")?;
/// assert_eq!(endpoints.token_endpoint(), "https://as.example.com/oauth/token");
/// assert!(AuthorizationServerEndpoints::new("http://as.example.com", "http://as.example.com/t").is_err());
/// # Ok::<(), keybound::Error>(())
/// ```
///
/// From discovery, [`from_metadata`](Self::from_metadata) takes an
/// [`AuthorizationServerMetadata`] whose `issuer` was already checked against the one asked
/// for (RFC 8414 §3.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationServerEndpoints {
    issuer: String,
    token_endpoint: String,
    pushed_authorization_request_endpoint: Option<String>,
    authorization_endpoint: Option<String>,
    dpop_signing_algorithms: AlgorithmSet,
}

impl AuthorizationServerEndpoints {
    /// The server with issuer identifier `issuer` and token endpoint `token_endpoint`.
    ///
    /// Errors: [`Error::InvalidArgument`]`("issuer")` or `("token_endpoint")` unless the URL
    /// is absolute `https` (or `http` to a loopback host) without userinfo or fragment.
    pub fn new(
        issuer: impl Into<String>,
        token_endpoint: impl Into<String>,
    ) -> Result<Self, Error> {
        let issuer = checked(issuer.into(), "issuer")?;
        let token_endpoint = checked(token_endpoint.into(), "token_endpoint")?;
        Ok(Self {
            issuer,
            token_endpoint,
            pushed_authorization_request_endpoint: None,
            authorization_endpoint: None,
            dpop_signing_algorithms: AlgorithmSet::empty(),
        })
    }

    /// The endpoints a discovered metadata document names.
    ///
    /// Errors: [`Error::Upstream`]`(`[`UpstreamError::MissingEndpoint`]`("token_endpoint"))`
    /// when it names no token endpoint.
    pub fn from_metadata(metadata: &AuthorizationServerMetadata) -> Result<Self, Error> {
        let token_endpoint = metadata
            .token_endpoint()
            .ok_or(UpstreamError::MissingEndpoint("token_endpoint"))?;
        let mut endpoints = Self::new(metadata.issuer(), token_endpoint)?;
        if let Some(par) = metadata.pushed_authorization_request_endpoint() {
            endpoints = endpoints.with_pushed_authorization_request_endpoint(par)?;
        }
        if let Some(authorize) = metadata.authorization_endpoint() {
            endpoints = endpoints.with_authorization_endpoint(authorize)?;
        }
        endpoints.dpop_signing_algorithms = metadata.dpop_signing_alg_values_supported();
        Ok(endpoints)
    }

    /// Adds the pushed authorization request endpoint (RFC 9126 §2).
    ///
    /// Errors: [`Error::InvalidArgument`]`("pushed_authorization_request_endpoint")` for a URL
    /// that is not `https` (or loopback `http`).
    pub fn with_pushed_authorization_request_endpoint(
        mut self,
        url: impl Into<String>,
    ) -> Result<Self, Error> {
        self.pushed_authorization_request_endpoint = Some(checked(
            url.into(),
            "pushed_authorization_request_endpoint",
        )?);
        Ok(self)
    }

    /// Adds the authorization endpoint (RFC 6749 §3.1), where the user agent is sent.
    ///
    /// Errors: [`Error::InvalidArgument`]`("authorization_endpoint")` for a URL that is not
    /// `https` (or loopback `http`).
    pub fn with_authorization_endpoint(mut self, url: impl Into<String>) -> Result<Self, Error> {
        self.authorization_endpoint = Some(checked(url.into(), "authorization_endpoint")?);
        Ok(self)
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> &str {
        &self.token_endpoint
    }

    /// The pushed authorization request endpoint, if known.
    pub fn pushed_authorization_request_endpoint(&self) -> Option<&str> {
        self.pushed_authorization_request_endpoint.as_deref()
    }

    /// The authorization endpoint, if known.
    pub fn authorization_endpoint(&self) -> Option<&str> {
        self.authorization_endpoint.as_deref()
    }

    /// The DPoP proof algorithms the server's metadata lists
    /// (`dpop_signing_alg_values_supported`, RFC 9449 §5.1); empty when not known.
    pub fn dpop_signing_algorithms(&self) -> AlgorithmSet {
        self.dpop_signing_algorithms
    }
}

impl TryFrom<&AuthorizationServerMetadata> for AuthorizationServerEndpoints {
    type Error = Error;

    /// [`AuthorizationServerEndpoints::from_metadata`].
    fn try_from(metadata: &AuthorizationServerMetadata) -> Result<Self, Error> {
        Self::from_metadata(metadata)
    }
}

fn checked(url: String, name: &'static str) -> Result<String, Error> {
    secure_url::check(&url).map_err(|_| Error::InvalidArgument(name))?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_or_loopback() {
        assert!(
            AuthorizationServerEndpoints::new("https://as.example", "https://as.example/t").is_ok()
        );
        assert!(
            AuthorizationServerEndpoints::new("http://127.0.0.1:8080", "http://localhost/t")
                .is_ok()
        );
        for (issuer, token, bad) in [
            ("http://as.example", "https://as.example/t", "issuer"),
            (
                "https://as.example",
                "http://as.example/t",
                "token_endpoint",
            ),
            (
                "https://as.example",
                "https://u:p@as.example/t",
                "token_endpoint",
            ),
            (
                "https://as.example",
                "https://as.example/t#x",
                "token_endpoint",
            ),
            ("https://as.example", "/token", "token_endpoint"),
        ] {
            assert_eq!(
                AuthorizationServerEndpoints::new(issuer, token).err(),
                Some(Error::InvalidArgument(bad)),
                "{issuer} {token}"
            );
        }
        let endpoints =
            AuthorizationServerEndpoints::new("https://as.example", "https://as.example/t")
                .unwrap();
        assert_eq!(
            endpoints
                .clone()
                .with_pushed_authorization_request_endpoint("http://as.example/par")
                .err(),
            Some(Error::InvalidArgument(
                "pushed_authorization_request_endpoint"
            ))
        );
        assert_eq!(
            endpoints
                .with_authorization_endpoint("ftp://as.example/a")
                .err(),
            Some(Error::InvalidArgument("authorization_endpoint"))
        );
    }

    #[test]
    fn from_metadata() {
        let document = br#"{
            "issuer": "https://as.example",
            "token_endpoint": "https://as.example/token",
            "pushed_authorization_request_endpoint": "https://as.example/par",
            "authorization_endpoint": "https://as.example/auth",
            "dpop_signing_alg_values_supported": ["ES256", "PS256"]
        }"#;
        let metadata =
            AuthorizationServerMetadata::from_json("https://as.example", document).unwrap();
        let endpoints = AuthorizationServerEndpoints::try_from(&metadata).unwrap();
        assert_eq!(endpoints.issuer(), "https://as.example");
        assert_eq!(endpoints.token_endpoint(), "https://as.example/token");
        assert_eq!(
            endpoints.pushed_authorization_request_endpoint(),
            Some("https://as.example/par")
        );
        assert_eq!(
            endpoints.authorization_endpoint(),
            Some("https://as.example/auth")
        );
        assert_eq!(endpoints.dpop_signing_algorithms().iter().count(), 2);

        let bare = AuthorizationServerMetadata::from_json(
            "https://as.example",
            br#"{"issuer": "https://as.example"}"#,
        )
        .unwrap();
        assert_eq!(
            AuthorizationServerEndpoints::from_metadata(&bare).err(),
            Some(Error::Upstream(UpstreamError::MissingEndpoint(
                "token_endpoint"
            )))
        );
    }
}
