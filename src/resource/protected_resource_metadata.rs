//! OAuth 2.0 Protected Resource Metadata (RFC 9728): the document a resource server publishes
//! at `/.well-known/oauth-protected-resource` to say which authorization servers issue its
//! tokens and that they must be DPoP-bound.

use serde_json::{Map, Value};

use crate::error::Error;
use crate::jose::algorithm::AlgorithmSet;
use crate::secure_url;

/// The well-known path segment of RFC 9728 §3.
const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// A protected resource metadata document (RFC 9728 §2), built with checked values.
///
/// Defaults: `bearer_methods_supported` `["header"]` (tokens only in `Authorization`, RFC 9449
/// §7.1 — this crate reads no other), `dpop_bound_access_tokens_required` **true**, and
/// `dpop_signing_alg_values_supported` left out until set (give it the proof verifier's
/// algorithms).
///
/// ```
/// use keybound::{AlgorithmSet, ProtectedResourceMetadata};
///
/// let metadata = ProtectedResourceMetadata::new("https://api.example.com")?
///     .with_authorization_server("https://login.example.com")?
///     .with_scopes(["orders:read", "orders:write"])
///     .with_dpop_algorithms(AlgorithmSet::all());
/// assert_eq!(
///     metadata.url(),
///     "https://api.example.com/.well-known/oauth-protected-resource"
/// );
/// assert!(metadata.to_json().contains(r#""dpop_bound_access_tokens_required":true"#));
/// # Ok::<(), keybound::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtectedResourceMetadata {
    resource: String,
    authorization_servers: Vec<String>,
    jwks_uri: Option<String>,
    scopes_supported: Vec<String>,
    bearer_methods_supported: Vec<String>,
    dpop_algorithms: Option<AlgorithmSet>,
    resource_name: Option<String>,
    resource_documentation: Option<String>,
    dpop_bound_access_tokens_required: bool,
}

impl ProtectedResourceMetadata {
    /// The document of the resource identified by `resource`: an `https` URL (or `http` on
    /// loopback) with no query and no fragment (RFC 9728 §1.2).
    pub fn new(resource: impl Into<String>) -> Result<Self, Error> {
        let resource = resource.into();
        check_url(&resource, "resource")?;
        if resource.contains('?') {
            return Err(Error::InvalidArgument("resource"));
        }
        Ok(Self {
            resource,
            authorization_servers: Vec::new(),
            jwks_uri: None,
            scopes_supported: Vec::new(),
            bearer_methods_supported: vec!["header".to_owned()],
            dpop_algorithms: None,
            resource_name: None,
            resource_documentation: None,
            dpop_bound_access_tokens_required: true,
        })
    }

    /// Adds an issuer identifier to `authorization_servers` (RFC 8414 issuer: `https`, no query
    /// or fragment).
    pub fn with_authorization_server(mut self, issuer: impl Into<String>) -> Result<Self, Error> {
        let issuer = issuer.into();
        check_url(&issuer, "authorization_server")?;
        if issuer.contains('?') {
            return Err(Error::InvalidArgument("authorization_server"));
        }
        self.authorization_servers.push(issuer);
        Ok(self)
    }

    /// Sets `jwks_uri`: the resource's own public keys (for signed responses; most resources
    /// have none).
    pub fn with_jwks_uri(mut self, url: impl Into<String>) -> Result<Self, Error> {
        let url = url.into();
        check_url(&url, "jwks_uri")?;
        self.jwks_uri = Some(url);
        Ok(self)
    }

    /// Sets `scopes_supported`.
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `bearer_methods_supported` (default `["header"]`; an empty list says tokens are
    /// accepted by no RFC 6750 method).
    pub fn with_bearer_methods<S: Into<String>>(
        mut self,
        methods: impl IntoIterator<Item = S>,
    ) -> Self {
        self.bearer_methods_supported = methods.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `dpop_signing_alg_values_supported` (RFC 9728 §2): the proof algorithms accepted,
    /// e.g. `guard.proofs().options().algorithms`.
    pub fn with_dpop_algorithms(mut self, algorithms: AlgorithmSet) -> Self {
        self.dpop_algorithms = Some(algorithms);
        self
    }

    /// Sets `resource_name`, for people.
    pub fn with_resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// Sets `resource_documentation`, a URL for people.
    pub fn with_resource_documentation(mut self, url: impl Into<String>) -> Result<Self, Error> {
        let url = url.into();
        check_url(&url, "resource_documentation")?;
        self.resource_documentation = Some(url);
        Ok(self)
    }

    /// Sets `dpop_bound_access_tokens_required` (default **true**: this resource accepts
    /// DPoP-bound tokens only; set false when the guard also accepts bearer tokens).
    pub fn with_dpop_bound_access_tokens_required(mut self, required: bool) -> Self {
        self.dpop_bound_access_tokens_required = required;
        self
    }

    /// `resource`.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The path to serve the document at (RFC 9728 §3.1): the well-known segment inserted
    /// before the resource's path, a terminating `/` removed —
    /// `/.well-known/oauth-protected-resource` for `https://api.example.com`,
    /// `/.well-known/oauth-protected-resource/v1` for `https://api.example.com/v1/`.
    pub fn path(&self) -> String {
        let (_, path) = split_origin(&self.resource);
        format!("{WELL_KNOWN}{}", path.trim_end_matches('/'))
    }

    /// The URL of the document: the resource's origin and [`path`](Self::path). Give it to
    /// [`RequestGuard::with_resource_metadata`](crate::RequestGuard::with_resource_metadata).
    pub fn url(&self) -> String {
        let (origin, _) = split_origin(&self.resource);
        format!("{origin}{}", self.path())
    }

    /// The document as JSON (RFC 9728 §3.2), members with no value left out.
    pub fn to_json(&self) -> String {
        let strings =
            |items: &[String]| Value::Array(items.iter().cloned().map(Value::from).collect());
        let mut out = Map::new();
        out.insert("resource".into(), self.resource.clone().into());
        if !self.authorization_servers.is_empty() {
            out.insert(
                "authorization_servers".into(),
                strings(&self.authorization_servers),
            );
        }
        if let Some(url) = &self.jwks_uri {
            out.insert("jwks_uri".into(), url.clone().into());
        }
        if !self.scopes_supported.is_empty() {
            out.insert("scopes_supported".into(), strings(&self.scopes_supported));
        }
        out.insert(
            "bearer_methods_supported".into(),
            strings(&self.bearer_methods_supported),
        );
        if let Some(algorithms) = self.dpop_algorithms {
            out.insert(
                "dpop_signing_alg_values_supported".into(),
                Value::Array(algorithms.iter().map(|a| Value::from(a.as_str())).collect()),
            );
        }
        if let Some(name) = &self.resource_name {
            out.insert("resource_name".into(), name.clone().into());
        }
        if let Some(url) = &self.resource_documentation {
            out.insert("resource_documentation".into(), url.clone().into());
        }
        out.insert(
            "dpop_bound_access_tokens_required".into(),
            self.dpop_bound_access_tokens_required.into(),
        );
        Value::Object(out).to_string()
    }
}

fn check_url(url: &str, name: &'static str) -> Result<(), Error> {
    secure_url::check(url)
        .map(|_| ())
        .map_err(|_| Error::InvalidArgument(name))
}

/// `(scheme://authority, path)` of a URL already checked by [`secure_url::check`].
fn split_origin(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?'])
        .map_or(url.len(), |i| after_scheme + i);
    url.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::algorithm::Algorithm;

    #[test]
    fn well_known_paths() {
        for (resource, url) in [
            (
                "https://api.example.com",
                "https://api.example.com/.well-known/oauth-protected-resource",
            ),
            (
                "https://api.example.com/",
                "https://api.example.com/.well-known/oauth-protected-resource",
            ),
            (
                "https://api.example.com:8443/v1/",
                "https://api.example.com:8443/.well-known/oauth-protected-resource/v1",
            ),
        ] {
            assert_eq!(ProtectedResourceMetadata::new(resource).unwrap().url(), url);
        }
    }

    #[test]
    fn the_document() {
        let doc = ProtectedResourceMetadata::new("https://api.example.com")
            .unwrap()
            .with_authorization_server("https://as.example.com")
            .unwrap()
            .with_scopes(["read"])
            .with_dpop_algorithms([Algorithm::Es256, Algorithm::Ps256].into_iter().collect())
            .to_json();
        let value: Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "resource": "https://api.example.com",
                "authorization_servers": ["https://as.example.com"],
                "scopes_supported": ["read"],
                "bearer_methods_supported": ["header"],
                "dpop_signing_alg_values_supported": ["ES256", "PS256"],
                "dpop_bound_access_tokens_required": true
            })
        );
    }

    #[test]
    fn refuses_insecure_or_odd_urls() {
        for bad in [
            "http://api.example.com",
            "https://api.example.com/#x",
            "https://api.example.com/?q=1",
            "api.example.com",
        ] {
            assert!(ProtectedResourceMetadata::new(bad).is_err(), "{bad}");
        }
        let doc = ProtectedResourceMetadata::new("https://api.example.com").unwrap();
        assert!(doc
            .clone()
            .with_authorization_server("http://as.example.com")
            .is_err());
        assert!(doc
            .with_authorization_server("https://as.example.com?x")
            .is_err());
    }
}
