//! The authorization request of the code flow ([RFC 6749 §4.1.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1)),
//! sent through the browser or pushed first ([RFC 9126](https://www.rfc-editor.org/rfc/rfc9126)),
//! with its PKCE challenge and DPoP key binding (`dpop_jkt`,
//! [RFC 9449 §10](https://www.rfc-editor.org/rfc/rfc9449#section-10)).

use serde::Deserialize;

use crate::client::endpoints::AuthorizationServerEndpoints;
use crate::client::form;
use crate::client::parameters::Parameters;
use crate::client::pkce::PkceVerifier;
use crate::error::{Error, UpstreamError};
use crate::jose::thumbprint::Thumbprint;

/// Names this crate sets in an authorization request, which
/// [`AuthorizationRequest::with_parameter`] may not use.
const RESERVED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "code_challenge",
    "code_challenge_method",
    "state",
    "scope",
    "resource",
    "dpop_jkt",
    "request_uri",
    "request",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
];

/// Longest `request_uri` accepted from a PAR endpoint, in bytes. RFC 9126 §2.2 URNs are well
/// under 200 bytes; the bound keeps a hostile server from making authorization URLs huge.
const MAX_REQUEST_URI_LEN: usize = 1024;

/// An authorization code request with PKCE `S256`: `response_type=code`, `redirect_uri`,
/// `code_challenge`, optionally `state`, `scope`, `resource` indicators (RFC 8707) and
/// `dpop_jkt`, the thumbprint of the DPoP key the code is bound to (RFC 9449 §10).
///
/// Push it with
/// [`DpopClient::push_authorization_request`](crate::DpopClient::push_authorization_request)
/// (RFC 9126, recommended: the parameters travel over the back channel, authenticated) and send
/// the browser to [`PushedAuthorizationRequest::authorization_url`], or send the browser
/// to [`to_url`](Self::to_url) directly.
///
/// ```
/// use keybound::{AuthorizationRequest, AuthorizationServerEndpoints, PkceVerifier, SigningKey};
///
/// let endpoints = AuthorizationServerEndpoints::new("https://as.example", "https://as.example/token")?
///     .with_authorization_endpoint("https://as.example/authorize")?;
/// let verifier = PkceVerifier::generate()?; // keep it for the token request
/// let dpop_key = SigningKey::generate()?;
/// let url = AuthorizationRequest::new("https://app.example/cb", &verifier)
///     .with_scope("openid orders:read")
///     .with_state("af0ifjsldkj")
///     .with_dpop_jkt(&dpop_key.thumbprint())
///     .to_url(&endpoints, "my-app")?;
/// assert!(url.starts_with("https://as.example/authorize?response_type=code&client_id=my-app&"));
/// # Ok::<(), keybound::Error>(())
/// ```
#[derive(Clone)]
pub struct AuthorizationRequest {
    params: Parameters,
}

impl AuthorizationRequest {
    /// A code request returning to `redirect_uri`, with the `S256` challenge of `verifier`
    /// (RFC 7636 §4.3).
    pub fn new(redirect_uri: impl Into<String>, verifier: &PkceVerifier) -> Self {
        let mut params = Parameters::default();
        params.push("response_type", "code");
        params.push("redirect_uri", redirect_uri);
        params.push("code_challenge", verifier.challenge());
        params.push("code_challenge_method", PkceVerifier::METHOD);
        Self { params }
    }

    /// Requests `scope`, replacing any set before.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.params.set("scope", scope);
        self
    }

    /// Sets `state`, which the callback must carry back unchanged (RFC 6749 §10.12).
    pub fn with_state(mut self, state: impl Into<String>) -> Self {
        self.params.set("state", state);
        self
    }

    /// Adds a `resource` indicator (RFC 8707 §2); see [`Grant::with_resource`](crate::Grant::with_resource).
    pub fn with_resource(mut self, uri: impl Into<String>) -> Self {
        self.params.push_resource(uri);
        self
    }

    /// Binds the authorization code to the DPoP key with thumbprint `jkt`
    /// ([RFC 9449 §10](https://www.rfc-editor.org/rfc/rfc9449#section-10)): the server
    /// then redeems the code only with a proof of that key, so a stolen code is useless. The
    /// [`DpopClient`](crate::DpopClient) methods set it to their own key's thumbprint.
    pub fn with_dpop_jkt(mut self, jkt: &Thumbprint) -> Self {
        self.params.set("dpop_jkt", jkt.to_base64url());
        self
    }

    /// Adds a parameter this type has no method for (`prompt`, `login_hint`, `nonce`, …).
    /// Names this crate sets itself are refused with
    /// [`Error::InvalidArgument`]`("parameter name")` when the request is used.
    pub fn with_parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push_extra(RESERVED, name, value);
        self
    }

    /// The request's parameters (client authentication not included).
    pub(crate) fn params(&self) -> Result<Vec<(&str, &str)>, Error> {
        self.params.pairs()
    }

    /// The front-channel URL for `client_id`: the authorization endpoint with every parameter
    /// in its query (RFC 6749 §4.1.1). Prefer pushing the request (RFC 9126) when the server
    /// supports it.
    ///
    /// Errors: [`Error::Upstream`]`(`[`UpstreamError::MissingEndpoint`]`("authorization_endpoint"))`
    /// when `endpoints` has no authorization endpoint; [`Error::InvalidArgument`] for an
    /// empty `client_id`, a bad `resource` or a reserved extra parameter name.
    pub fn to_url(
        &self,
        endpoints: &AuthorizationServerEndpoints,
        client_id: &str,
    ) -> Result<String, Error> {
        if client_id.is_empty() {
            return Err(Error::InvalidArgument("client_id"));
        }
        let mut params = self.params()?;
        // `client_id` after `response_type`, as RFC 6749's examples order them.
        params.insert(1, ("client_id", client_id));
        authorization_url(endpoints, &params)
    }
}

impl core::fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("parameters", &self.params.names())
            .finish_non_exhaustive()
    }
}

/// A pushed authorization request's handle ([RFC 9126 §2.2](https://www.rfc-editor.org/rfc/rfc9126#section-2.2)):
/// the `request_uri` the browser carries to the authorization endpoint instead of the
/// parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedAuthorizationRequest {
    request_uri: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct PushedJson {
    request_uri: String,
    expires_in: u64,
}

impl PushedAuthorizationRequest {
    /// Reads a PAR endpoint's `201` answer: a `request_uri` of 1 to 1024 visible ASCII
    /// characters and a positive `expires_in`. `None` for anything else.
    pub(crate) fn from_json(body: &[u8]) -> Option<Self> {
        let parsed: PushedJson = serde_json::from_slice(body).ok()?;
        let uri_ok = !parsed.request_uri.is_empty()
            && parsed.request_uri.len() <= MAX_REQUEST_URI_LEN
            && parsed.request_uri.bytes().all(|b| b.is_ascii_graphic());
        (uri_ok && parsed.expires_in > 0).then_some(Self {
            request_uri: parsed.request_uri,
            expires_in: parsed.expires_in,
        })
    }

    /// The `request_uri`.
    pub fn request_uri(&self) -> &str {
        &self.request_uri
    }

    /// Seconds the `request_uri` stays usable (`expires_in`).
    pub fn expires_in(&self) -> u64 {
        self.expires_in
    }

    /// Where to send the browser: the authorization endpoint with only `client_id` and
    /// `request_uri` ([RFC 9126 §4](https://www.rfc-editor.org/rfc/rfc9126#section-4)).
    ///
    /// Errors: [`Error::Upstream`]`(`[`UpstreamError::MissingEndpoint`]`("authorization_endpoint"))`
    /// when `endpoints` has no authorization endpoint; [`Error::InvalidArgument`] for an
    /// empty `client_id`.
    pub fn authorization_url(
        &self,
        endpoints: &AuthorizationServerEndpoints,
        client_id: &str,
    ) -> Result<String, Error> {
        if client_id.is_empty() {
            return Err(Error::InvalidArgument("client_id"));
        }
        authorization_url(
            endpoints,
            &[("client_id", client_id), ("request_uri", &self.request_uri)],
        )
    }
}

/// The authorization endpoint with `params` appended to its query; a query it already has is
/// kept (RFC 6749 §3.1).
fn authorization_url(
    endpoints: &AuthorizationServerEndpoints,
    params: &[(&str, &str)],
) -> Result<String, Error> {
    let endpoint = endpoints
        .authorization_endpoint()
        .ok_or(UpstreamError::MissingEndpoint("authorization_endpoint"))?;
    let mut url = String::from(endpoint);
    match endpoint.split_once('?') {
        None => url.push('?'),
        Some((_, "")) => {}
        Some(_) => url.push('&'),
    }
    url.push_str(&form::encode(params));
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::signing_key::SigningKey;

    fn endpoints(authorize: &str) -> AuthorizationServerEndpoints {
        AuthorizationServerEndpoints::new("https://as.example", "https://as.example/token")
            .unwrap()
            .with_authorization_endpoint(authorize)
            .unwrap()
    }

    #[test]
    fn front_channel_url() {
        let verifier =
            PkceVerifier::from_secret("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into())
                .unwrap();
        let key = SigningKey::generate().unwrap();
        let request = AuthorizationRequest::new("https://app.example/cb?x=1", &verifier)
            .with_scope("openid profile")
            .with_state("s t")
            .with_resource("https://api.example")
            .with_dpop_jkt(&key.thumbprint());
        let url = request
            .to_url(&endpoints("https://as.example/authorize"), "app 1")
            .unwrap();
        assert_eq!(
            url,
            format!(
                "https://as.example/authorize?response_type=code&client_id=app+1\
                 &redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1\
                 &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
                 &code_challenge_method=S256&scope=openid+profile&state=s+t\
                 &resource=https%3A%2F%2Fapi.example&dpop_jkt={}",
                key.thumbprint().to_base64url()
            )
        );
        // An endpoint with a query keeps it.
        let url = request
            .to_url(&endpoints("https://as.example/authorize?tenant=7"), "a")
            .unwrap();
        assert!(url.starts_with("https://as.example/authorize?tenant=7&response_type=code&"));
        let url = request
            .to_url(&endpoints("https://as.example/authorize?"), "a")
            .unwrap();
        assert!(url.starts_with("https://as.example/authorize?response_type=code&"));
        assert_eq!(
            request.to_url(&endpoints("https://as.example/a"), "").err(),
            Some(Error::InvalidArgument("client_id"))
        );
        let bare =
            AuthorizationServerEndpoints::new("https://as.example", "https://as.example/token")
                .unwrap();
        assert_eq!(
            request.to_url(&bare, "a").err(),
            Some(Error::Upstream(UpstreamError::MissingEndpoint(
                "authorization_endpoint"
            )))
        );
        assert_eq!(
            request
                .clone()
                .with_parameter("request_uri", "x")
                .to_url(&bare, "a")
                .err(),
            Some(Error::InvalidArgument("parameter name"))
        );
    }

    #[test]
    fn pushed_request_answer() {
        let pushed = PushedAuthorizationRequest::from_json(
            br#"{"request_uri":"urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c","expires_in":60}"#,
        )
        .unwrap();
        assert_eq!(pushed.expires_in(), 60);
        assert_eq!(
            pushed
                .authorization_url(&endpoints("https://as.example/authorize"), "s6BhdRkqt3")
                .unwrap(),
            "https://as.example/authorize?client_id=s6BhdRkqt3\
             &request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A6esc_11ACC5bwc014ltc14eY22c"
        );
        let long = format!(
            r#"{{"request_uri":"{}","expires_in":60}}"#,
            "u".repeat(1025)
        );
        for bad in [
            &br#"{"request_uri":"","expires_in":60}"#[..],
            br#"{"request_uri":"urn:x y","expires_in":60}"#,
            br#"{"request_uri":"urn:x","expires_in":0}"#,
            br#"{"request_uri":"urn:x"}"#,
            br#"{"request_uri":7,"expires_in":60}"#,
            long.as_bytes(),
            b"not json",
        ] {
            assert_eq!(PushedAuthorizationRequest::from_json(bad), None);
        }
    }
}
