//! The `reqwest` feature: a client that signs a fresh DPoP proof for every request, keeps the
//! latest nonce per origin, and retries once when a server asks for a nonce.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use http::header::{HeaderValue, AUTHORIZATION, DATE, WWW_AUTHENTICATE};
use serde::Deserialize;

use crate::error::Error;
use crate::integrations::http::{DPOP, DPOP_NONCE};
use crate::jose::jws_signer::JwsSigner;
use crate::jose::signing_key::SigningKey;
use crate::proof::signer::ProofSigner;
use crate::time::{Clock, SystemClock, UnixTime};

/// What can go wrong on the client side.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// The HTTP exchange failed.
    Http(reqwest::Error),
    /// A proof could not be made (bad method or URL, signer failure).
    Proof(Error),
    /// The token endpoint refused the request (RFC 6749 §5.2).
    TokenEndpoint {
        /// The HTTP status.
        status: u16,
        /// The OAuth `error` code, if it sent one.
        error: Option<String>,
        /// The server's `error_description`, at most 256 characters of RFC 6749's
        /// `%x20-21 / %x23-5B / %x5D-7E`: anything else (quotes, backslashes, control
        /// characters, non-ASCII) is replaced by `?`. It is the server's text: log it, do not
        /// trust it.
        error_description: Option<String>,
    },
    /// The token endpoint answered with a `token_type` other than `DPoP`: the token is not bound
    /// to the key, and is refused rather than used as a bearer token.
    NotDpopBound,
}

impl core::fmt::Display for ClientError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Http(e) => write!(f, "HTTP error: {e}"),
            Self::Proof(e) => write!(f, "cannot make a DPoP proof: {e}"),
            Self::TokenEndpoint {
                status,
                error,
                error_description,
            } => {
                write!(f, "token endpoint answered {status}")?;
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
            Self::NotDpopBound => {
                f.write_str("the token endpoint issued a token that is not DPoP-bound")
            }
        }
    }
}

impl std::error::Error for ClientError {}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        Self::Http(e)
    }
}

/// A successful DPoP token response (RFC 9449 §5).
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

impl core::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Which kind of server a request goes to: nonces are kept per role and origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Role {
    /// A token endpoint (RFC 9449 §8: 400 `use_dpop_nonce`).
    AuthorizationServer,
    /// A protected resource (RFC 9449 §9: 401 `use_dpop_nonce`).
    Resource,
}

/// A reqwest client that speaks DPoP.
///
/// For every request it signs a fresh proof (method, URL, `ath` when a token is attached, and
/// the latest nonce the request's origin sent in that role), remembers `DPoP-Nonce` headers per
/// origin and server role — token endpoint or API, so the two on one origin do not thrash —
/// from every response (200s included), and when the server answers `use_dpop_nonce` (400 from a
/// token endpoint, 401 from an API) retries **once** with the new nonce and a fresh `jti` —
/// never more, whatever the server says. Optionally it corrects `iat` by the clock skew it
/// reads from the server's `Date` header.
///
/// reqwest is used with default features off: enable the TLS backend you want in your own
/// `reqwest` dependency (features unify).
pub struct DpopClient<K = SigningKey> {
    http: reqwest::Client,
    signer: Arc<ProofSigner<K>>,
    /// The latest nonce per server role and origin: an authorization server and an API on one
    /// origin issue nonces of their own, and must not overwrite each other's.
    nonces: Mutex<HashMap<(Role, String), String>>,
    skew_secs: AtomicI64,
    learn_skew: bool,
    clock: Arc<dyn Clock>,
}

impl<K: JwsSigner> DpopClient<K> {
    /// A client sending through `http`, signing with `signer`.
    pub fn new(http: reqwest::Client, signer: ProofSigner<K>) -> Self {
        Self {
            http,
            signer: Arc::new(signer),
            nonces: Mutex::new(HashMap::new()),
            skew_secs: AtomicI64::new(0),
            learn_skew: false,
            clock: Arc::new(SystemClock),
        }
    }

    /// Learns the offset between the local clock and the servers' `Date` headers and signs
    /// `iat` in server time (for devices with a wrong clock).
    pub fn with_clock_skew_from_date_header(mut self) -> Self {
        self.learn_skew = true;
        self
    }

    /// Reads local time from `clock` (default: the system clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The proof signer (its thumbprint is what tokens get bound to).
    pub fn signer(&self) -> &ProofSigner<K> {
        &self.signer
    }

    /// The nonce last received from the resource server at `origin` (`scheme://host[:port]`),
    /// if any.
    pub fn nonce_for(&self, origin: &str) -> Option<String> {
        self.nonce(Role::Resource, origin)
    }

    /// The nonce last received from the authorization server (its token endpoint) at `origin`,
    /// if any. Kept apart from [`nonce_for`](Self::nonce_for): an authorization server and an
    /// API on one origin do not overwrite each other's nonces.
    pub fn authorization_server_nonce_for(&self, origin: &str) -> Option<String> {
        self.nonce(Role::AuthorizationServer, origin)
    }

    fn nonce(&self, role: Role, origin: &str) -> Option<String> {
        self.lock_nonces().get(&(role, origin.to_owned())).cloned()
    }

    /// The clock offset learnt from `Date` headers, in seconds (server − local).
    pub fn clock_skew_secs(&self) -> i64 {
        self.skew_secs.load(Ordering::Relaxed)
    }

    fn lock_nonces(&self) -> std::sync::MutexGuard<'_, HashMap<(Role, String), String>> {
        self.nonces.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> UnixTime {
        let local = self.clock.now().as_secs();
        UnixTime::from_secs(local.saturating_add_signed(self.clock_skew_secs()))
    }

    /// Sends `request` with a fresh proof, `Authorization: DPoP <access_token>` when a token is
    /// given, and one retry on `use_dpop_nonce`. A request whose body cannot be cloned (a
    /// stream) is not retried; its `use_dpop_nonce` answer is returned.
    pub async fn execute(
        &self,
        mut request: reqwest::Request,
        access_token: Option<&str>,
    ) -> Result<reqwest::Response, ClientError> {
        if let Some(token) = access_token {
            let value = HeaderValue::from_str(&format!("DPoP {token}"))
                .map_err(|_| ClientError::Proof(Error::InvalidArgument("access_token")))?;
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        let retry = request.try_clone();
        let response = self
            .send_once(Role::Resource, request, access_token)
            .await?;
        match retry {
            Some(again) if asks_for_nonce(&response) => {
                self.send_once(Role::Resource, again, access_token).await
            }
            _ => Ok(response),
        }
    }

    async fn send_once(
        &self,
        role: Role,
        mut request: reqwest::Request,
        access_token: Option<&str>,
    ) -> Result<reqwest::Response, ClientError> {
        let origin = origin_of(request.url());
        let nonce = self.nonce(role, &origin);
        let mut builder = self
            .signer
            .proof(request.method().as_str(), request.url().as_str());
        if let Some(token) = access_token {
            builder = builder.with_access_token(token);
        }
        if let Some(nonce) = &nonce {
            builder = builder.with_nonce(nonce);
        }
        let proof = builder.sign(self.now()).map_err(ClientError::Proof)?;
        let value = HeaderValue::from_str(&proof).map_err(|_| ClientError::Proof(Error::Signer))?;
        request.headers_mut().insert(DPOP, value);
        let response = self.http.execute(request).await?;
        self.learn(role, origin, response.headers());
        Ok(response)
    }

    /// Remembers the response's nonce and, if enabled, the clock skew.
    fn learn(&self, role: Role, origin: String, headers: &http::HeaderMap) {
        if let Some(nonce) = headers.get(DPOP_NONCE).and_then(|v| v.to_str().ok()) {
            if crate::proof::syntax::is_nonce(nonce) {
                self.lock_nonces().insert((role, origin), nonce.to_owned());
            }
        }
        if self.learn_skew {
            let server = headers
                .get(DATE)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_http_date);
            if let Some(server) = server {
                let local = self.clock.now().as_secs() as i64;
                self.skew_secs.store(server - local, Ordering::Relaxed);
            }
        }
    }

    /// Requests a token at `token_url` with the form `params` (e.g. `grant_type`, `code`,
    /// `code_verifier`, `client_id`, or `refresh_token`), proving possession of the key
    /// (RFC 9449 §5). Retries once on `use_dpop_nonce`. Refuses a response whose `token_type`
    /// is not `DPoP`.
    pub async fn request_token(
        &self,
        token_url: &str,
        params: &[(&str, &str)],
    ) -> Result<TokenResponse, ClientError> {
        let mut last_error = None;
        for _attempt in 0..2 {
            let request = self
                .http
                .post(token_url)
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(form_urlencoded(params))
                .build()?;
            let response = self
                .send_once(Role::AuthorizationServer, request, None)
                .await?;
            let status = response.status().as_u16();
            let has_nonce = response.headers().contains_key(DPOP_NONCE);
            let body = response.bytes().await?;
            if status == 200 {
                let token: TokenResponse =
                    serde_json::from_slice(&body).map_err(|_| ClientError::TokenEndpoint {
                        status,
                        error: None,
                        error_description: None,
                    })?;
                if !token.token_type.eq_ignore_ascii_case("DPoP") {
                    return Err(ClientError::NotDpopBound);
                }
                return Ok(token);
            }
            let answer = serde_json::from_slice::<serde_json::Value>(&body).ok();
            let member = |name: &str| {
                answer
                    .as_ref()
                    .and_then(|v| v.get(name))
                    .and_then(|e| e.as_str())
            };
            let error = member("error").map(str::to_owned);
            let error_description = member("error_description").map(bounded_description);
            let retry = status == 400 && has_nonce && error.as_deref() == Some("use_dpop_nonce");
            last_error = Some(ClientError::TokenEndpoint {
                status,
                error,
                error_description,
            });
            if !retry {
                break;
            }
        }
        Err(last_error.unwrap_or(ClientError::TokenEndpoint {
            status: 0,
            error: None,
            error_description: None,
        }))
    }
}

impl<K: JwsSigner> core::fmt::Debug for DpopClient<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DpopClient")
            .field("signer", &self.signer)
            .field("learn_skew", &self.learn_skew)
            .finish_non_exhaustive()
    }
}

/// Longest `error_description` kept, in characters.
const MAX_DESCRIPTION_CHARS: usize = 256;

/// `text` cut to [`MAX_DESCRIPTION_CHARS`], every character outside RFC 6749 §5.2's
/// `%x20-21 / %x23-5B / %x5D-7E` replaced by `?`, so it can be printed and logged safely.
fn bounded_description(text: &str) -> String {
    text.chars()
        .take(MAX_DESCRIPTION_CHARS)
        .map(|c| match c {
            '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e' => c,
            _ => '?',
        })
        .collect()
}

/// `application/x-www-form-urlencoded` (WHATWG URL §5.2).
fn form_urlencoded(params: &[(&str, &str)]) -> String {
    crate::remote_issuer::form::encode(params)
}

/// `scheme://host[:port]` of `url`.
fn origin_of(url: &reqwest::Url) -> String {
    url.origin().ascii_serialization()
}

/// Whether a response asks for a (new) nonce: 401 with a `DPoP` challenge whose `error` is
/// `use_dpop_nonce` (RFC 9449 §9), or 400 carrying `DPoP-Nonce` (the token endpoint's
/// `use_dpop_nonce`, §8, whose JSON body cannot be read without consuming the response).
fn asks_for_nonce(response: &reqwest::Response) -> bool {
    let headers = response.headers();
    if !headers.contains_key(DPOP_NONCE) {
        return false;
    }
    match response.status().as_u16() {
        401 => headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("error=\"use_dpop_nonce\"")),
        400 => true,
        _ => false,
    }
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7) to Unix seconds.
fn parse_http_date(text: &str) -> Option<i64> {
    let format = time::format_description::parse_borrowed::<1>(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
    )
    .ok()?;
    let parsed = time::PrimitiveDateTime::parse(text.trim(), &format).ok()?;
    Some(parsed.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding() {
        assert_eq!(
            form_urlencoded(&[("grant_type", "refresh_token"), ("x", "a b&c=d/é")]),
            "grant_type=refresh_token&x=a+b%26c%3Dd%2F%C3%A9"
        );
    }

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
        };
        assert_eq!(
            error.to_string(),
            r#"token endpoint answered 400 (invalid_grant): "grant ?expired?""#
        );
    }

    #[test]
    fn http_date() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("junk"), None);
    }
}
