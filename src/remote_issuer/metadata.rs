//! Authorization server metadata (RFC 8414; OpenID Connect Discovery 1.0 §3): where an issuer
//! publishes its keys and endpoints, fetched from its well-known URL.

use std::time::Duration;

use serde_json::Value;

use crate::error::UpstreamError;
use crate::jose::algorithm::{Algorithm, AlgorithmSet};
use crate::jose::json;
use crate::remote_issuer::transport::{self, HttpTransport};
use crate::secure_url;

/// Largest metadata document read: 64 KiB (real ones are 2–6 KiB).
pub const MAX_METADATA_LEN: usize = 64 * 1024;

/// How long a metadata fetch may take: 10 s.
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// The metadata of an authorization server, checked: `issuer` is exactly the issuer that was
/// asked for (RFC 8414 §3.3), and every endpoint is `https` (or `http` on a loopback host).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationServerMetadata {
    issuer: String,
    jwks_uri: Option<String>,
    token_endpoint: Option<String>,
    introspection_endpoint: Option<String>,
    pushed_authorization_request_endpoint: Option<String>,
    authorization_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    dpop_signing_alg_values_supported: AlgorithmSet,
    require_pushed_authorization_requests: bool,
}

impl AuthorizationServerMetadata {
    /// The RFC 8414 §3.1 URL of `issuer`'s metadata: `/.well-known/oauth-authorization-server`
    /// inserted between the host and the issuer's path (`https://as.example/t1` →
    /// `https://as.example/.well-known/oauth-authorization-server/t1`).
    pub fn rfc8414_url(issuer: &str) -> Result<String, UpstreamError> {
        let (origin, path) = split_issuer(issuer)?;
        Ok(format!(
            "{origin}/.well-known/oauth-authorization-server{}",
            path.trim_end_matches('/')
        ))
    }

    /// The OpenID Connect Discovery §4 URL of `issuer`'s configuration:
    /// `/.well-known/openid-configuration` appended to the issuer (without a trailing `/`).
    pub fn openid_configuration_url(issuer: &str) -> Result<String, UpstreamError> {
        split_issuer(issuer)?;
        Ok(format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        ))
    }

    /// Fetches `issuer`'s metadata: RFC 8414 first, then (when that answers 404, 400 or 405)
    /// OpenID Connect discovery. Either document must name exactly `issuer`.
    ///
    /// Errors: [`UpstreamError::InsecureUrl`] for an issuer that is not `https` (or `http` on
    /// loopback) or has a query or fragment; the fetch's errors; [`UpstreamError::Malformed`]
    /// for a document that is not a JSON object with the members' types;
    /// [`UpstreamError::IssuerMismatch`].
    pub async fn discover(
        issuer: &str,
        transport: &dyn HttpTransport,
    ) -> Result<Self, UpstreamError> {
        let rfc8414 = Self::rfc8414_url(issuer)?;
        let response = match transport::get_json(
            transport,
            &rfc8414,
            METADATA_TIMEOUT,
            MAX_METADATA_LEN,
        )
        .await
        {
            Err(UpstreamError::Status(400 | 404 | 405)) => {
                let oidc = Self::openid_configuration_url(issuer)?;
                transport::get_json(transport, &oidc, METADATA_TIMEOUT, MAX_METADATA_LEN).await?
            }
            other => other?,
        };
        Self::from_json(issuer, &response.body)
    }

    /// Reads a metadata document published for `expected_issuer`.
    pub fn from_json(expected_issuer: &str, document: &[u8]) -> Result<Self, UpstreamError> {
        if document.len() > MAX_METADATA_LEN {
            return Err(UpstreamError::TooLarge);
        }
        let object = json::parse_object(document, json::DEFAULT_MAX_DEPTH)
            .map_err(|_| UpstreamError::Malformed)?;
        let text = |name: &'static str| -> Result<Option<String>, UpstreamError> {
            match object.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(UpstreamError::Malformed),
            }
        };
        let endpoint = |name: &'static str| -> Result<Option<String>, UpstreamError> {
            match text(name)? {
                Some(url) => {
                    secure_url::check(&url)?;
                    Ok(Some(url))
                }
                None => Ok(None),
            }
        };
        let issuer = text("issuer")?.ok_or(UpstreamError::Malformed)?;
        // RFC 8414 §3.3: identical, character for character.
        if issuer != expected_issuer {
            return Err(UpstreamError::IssuerMismatch);
        }
        let algorithms = match object.get("dpop_signing_alg_values_supported") {
            None | Some(Value::Null) => AlgorithmSet::empty(),
            Some(Value::Array(names)) => names
                .iter()
                .filter_map(Value::as_str)
                .filter_map(Algorithm::from_name)
                .collect(),
            Some(_) => return Err(UpstreamError::Malformed),
        };
        let require_par = match object.get("require_pushed_authorization_requests") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(UpstreamError::Malformed),
        };
        Ok(Self {
            issuer,
            jwks_uri: endpoint("jwks_uri")?,
            token_endpoint: endpoint("token_endpoint")?,
            introspection_endpoint: endpoint("introspection_endpoint")?,
            pushed_authorization_request_endpoint: endpoint(
                "pushed_authorization_request_endpoint",
            )?,
            authorization_endpoint: endpoint("authorization_endpoint")?,
            revocation_endpoint: endpoint("revocation_endpoint")?,
            dpop_signing_alg_values_supported: algorithms,
            require_pushed_authorization_requests: require_par,
        })
    }

    /// `issuer`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `jwks_uri`: the issuer's signing keys.
    pub fn jwks_uri(&self) -> Option<&str> {
        self.jwks_uri.as_deref()
    }

    /// `token_endpoint`.
    pub fn token_endpoint(&self) -> Option<&str> {
        self.token_endpoint.as_deref()
    }

    /// `introspection_endpoint` (RFC 7662).
    pub fn introspection_endpoint(&self) -> Option<&str> {
        self.introspection_endpoint.as_deref()
    }

    /// `pushed_authorization_request_endpoint` (RFC 9126 §5).
    pub fn pushed_authorization_request_endpoint(&self) -> Option<&str> {
        self.pushed_authorization_request_endpoint.as_deref()
    }

    /// `authorization_endpoint`.
    pub fn authorization_endpoint(&self) -> Option<&str> {
        self.authorization_endpoint.as_deref()
    }

    /// `revocation_endpoint` (RFC 7009).
    pub fn revocation_endpoint(&self) -> Option<&str> {
        self.revocation_endpoint.as_deref()
    }

    /// `dpop_signing_alg_values_supported` (RFC 9449 §5.1), the algorithms of it this crate
    /// supports (unknown names are left out; empty when absent).
    pub fn dpop_signing_alg_values_supported(&self) -> AlgorithmSet {
        self.dpop_signing_alg_values_supported
    }

    /// `require_pushed_authorization_requests` (RFC 9126 §5; `false` when absent).
    pub fn require_pushed_authorization_requests(&self) -> bool {
        self.require_pushed_authorization_requests
    }
}

/// `(origin, path)` of an issuer identifier: `https` (or loopback `http`), no query, no
/// fragment (RFC 8414 §2).
fn split_issuer(issuer: &str) -> Result<(&str, &str), UpstreamError> {
    secure_url::check(issuer)?;
    if issuer.contains(['?', '#']) {
        return Err(UpstreamError::InsecureUrl);
    }
    let after_scheme = issuer
        .find("://")
        .map(|i| i + 3)
        .ok_or(UpstreamError::InsecureUrl)?;
    let path_start = issuer[after_scheme..]
        .find('/')
        .map_or(issuer.len(), |i| after_scheme + i);
    Ok(issuer.split_at(path_start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_urls() {
        assert_eq!(
            AuthorizationServerMetadata::rfc8414_url("https://as.example.com").unwrap(),
            "https://as.example.com/.well-known/oauth-authorization-server"
        );
        assert_eq!(
            AuthorizationServerMetadata::rfc8414_url("https://as.example.com/tenant/1/").unwrap(),
            "https://as.example.com/.well-known/oauth-authorization-server/tenant/1"
        );
        assert_eq!(
            AuthorizationServerMetadata::openid_configuration_url("https://as.example.com/t/")
                .unwrap(),
            "https://as.example.com/t/.well-known/openid-configuration"
        );
        for bad in [
            "http://as.example.com",
            "https://as.example.com/?x=1",
            "as.example.com",
        ] {
            assert_eq!(
                AuthorizationServerMetadata::rfc8414_url(bad),
                Err(UpstreamError::InsecureUrl),
                "{bad}"
            );
        }
    }

    #[test]
    fn reads_the_members_it_uses() {
        let doc = br#"{"issuer":"https://as.example.com","jwks_uri":"https://as.example.com/jwks",
            "token_endpoint":"https://as.example.com/token",
            "introspection_endpoint":"https://as.example.com/introspect",
            "pushed_authorization_request_endpoint":"https://as.example.com/par",
            "dpop_signing_alg_values_supported":["ES256","PS256","HS256","Ed25519"],
            "require_pushed_authorization_requests":true,"extra":{"a":[1]}}"#;
        let m = AuthorizationServerMetadata::from_json("https://as.example.com", doc).unwrap();
        assert_eq!(m.jwks_uri(), Some("https://as.example.com/jwks"));
        assert_eq!(m.token_endpoint(), Some("https://as.example.com/token"));
        assert_eq!(
            m.introspection_endpoint(),
            Some("https://as.example.com/introspect")
        );
        assert_eq!(
            m.pushed_authorization_request_endpoint(),
            Some("https://as.example.com/par")
        );
        assert_eq!(
            m.dpop_signing_alg_values_supported().to_names(),
            "ES256 Ed25519 PS256"
        );
        assert!(m.require_pushed_authorization_requests());
    }

    #[test]
    fn refuses_another_issuer() {
        for issuer in [
            "https://evil.example.com",
            "https://as.example.com/",
            "HTTPS://as.example.com",
        ] {
            let doc = format!(r#"{{"issuer":"{issuer}"}}"#);
            assert_eq!(
                AuthorizationServerMetadata::from_json("https://as.example.com", doc.as_bytes()),
                Err(UpstreamError::IssuerMismatch),
                "{issuer}"
            );
        }
    }

    #[test]
    fn refuses_insecure_endpoints_and_bad_types() {
        let insecure =
            br#"{"issuer":"https://as.example.com","jwks_uri":"http://as.example.com/jwks"}"#;
        assert_eq!(
            AuthorizationServerMetadata::from_json("https://as.example.com", insecure),
            Err(UpstreamError::InsecureUrl)
        );
        for doc in [
            &br#"{"issuer":"https://as.example.com","jwks_uri":7}"#[..],
            br#"{"issuer":"https://as.example.com","dpop_signing_alg_values_supported":"ES256"}"#,
            br#"{"issuer":"https://as.example.com","issuer":"https://as.example.com"}"#,
            br#"{"jwks_uri":"https://as.example.com/jwks"}"#,
            br#"[]"#,
            b"\xff",
        ] {
            assert_eq!(
                AuthorizationServerMetadata::from_json("https://as.example.com", doc),
                Err(UpstreamError::Malformed)
            );
        }
    }
}
