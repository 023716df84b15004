//! [`DpopClient`]: a reqwest client that signs a fresh DPoP proof for every request, keeps the
//! latest nonce per origin and server role, and retries once when a server asks for a nonce
//! ([RFC 9449 §8](https://www.rfc-editor.org/rfc/rfc9449#section-8),
//! [§9](https://www.rfc-editor.org/rfc/rfc9449#section-9)).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use http::header::{HeaderValue, AUTHORIZATION, DATE, WWW_AUTHENTICATE};

use crate::error::Error;
use crate::integrations::http::{DPOP, DPOP_NONCE};
use crate::integrations::reqwest::client_error::ClientError;
use crate::integrations::reqwest::response_body::MAX_RESPONSE_LEN;
use crate::jose::jws_signer::JwsSigner;
use crate::jose::signing_key::SigningKey;
use crate::proof::signer::ProofSigner;
use crate::time::{Clock, SystemClock, UnixTime};

/// Which kind of server a request goes to: nonces are kept per role and origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Role {
    /// A token or pushed authorization request endpoint (RFC 9449 §8: 400 `use_dpop_nonce`).
    AuthorizationServer,
    /// A protected resource (RFC 9449 §9: 401 `use_dpop_nonce`).
    Resource,
}

/// A reqwest client that speaks DPoP.
///
/// For every request it signs a fresh proof (method, URL, `ath` when a token is attached, and
/// the latest nonce the request's origin sent in that role), remembers `DPoP-Nonce` headers per
/// origin and server role — authorization server (token and PAR endpoints) or API, so the two
/// on one origin do not thrash — from every response (200s included), and when the server
/// answers `use_dpop_nonce` (400 from an authorization server, 401 from an API) retries
/// **once** with the new nonce and a fresh `jti` — never more, whatever the server says.
/// Optionally it corrects `iat` by the clock skew it reads from the server's `Date` header.
///
/// Talking to an authorization server: [`token`](Self::token) (any [`Grant`](crate::Grant),
/// with [`ClientAuth`](crate::ClientAuth)), [`push_authorization_request`](Self::push_authorization_request)
/// (RFC 9126) and [`authorization_url`](Self::authorization_url); a
/// [`TokenSource`](crate::TokenSource) keeps a token fresh. Calling an API:
/// [`execute`](Self::execute).
///
/// reqwest is used with default features off: enable the TLS backend you want in your own
/// `reqwest` dependency (features unify).
///
/// ```no_run
/// use keybound::{AuthorizationServerEndpoints, ClientAuth, DpopClient, Grant, ProofSigner, SigningKey};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = DpopClient::new(reqwest::Client::new(), ProofSigner::new(SigningKey::generate()?));
/// let endpoints = AuthorizationServerEndpoints::new(
///     "https://as.example.com",
///     "https://as.example.com/oauth/token",
/// )?;
/// let auth = ClientAuth::secret_basic("my-service", "s3cret");
/// let token = client
///     .token(&endpoints, &auth, &Grant::client_credentials().with_scope("orders:read"))
///     .await?;
/// let request = reqwest::Client::new().get("https://api.example.com/orders").build()?;
/// let response = client.execute(request, Some(&token.access_token)).await?;
/// # drop(response);
/// # Ok(())
/// # }
/// ```
pub struct DpopClient<K = SigningKey> {
    pub(crate) http: reqwest::Client,
    pub(crate) signer: Arc<ProofSigner<K>>,
    /// The latest nonce per server role and origin: an authorization server and an API on one
    /// origin issue nonces of their own, and must not overwrite each other's.
    nonces: Mutex<HashMap<(Role, String), String>>,
    skew_secs: AtomicI64,
    learn_skew: bool,
    clock: Arc<dyn Clock>,
    pub(crate) max_response_len: usize,
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
            max_response_len: MAX_RESPONSE_LEN,
        }
    }

    /// Learns the offset between the local clock and the servers' `Date` headers and signs
    /// `iat` in server time (for devices with a wrong clock).
    pub fn with_clock_skew_from_date_header(mut self) -> Self {
        self.learn_skew = true;
        self
    }

    /// Reads local time from `clock` (default: the system clock). Proofs, client assertions
    /// and [`TokenSource`](crate::TokenSource) expiry all use it.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Refuses authorization server answers longer than `bytes` (default
    /// [`MAX_RESPONSE_LEN`](crate::MAX_RESPONSE_LEN), 64 KiB).
    pub fn with_max_response_len(mut self, bytes: usize) -> Self {
        self.max_response_len = bytes;
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

    /// The nonce last received from the authorization server (its token or PAR endpoint) at
    /// `origin`, if any. Kept apart from [`nonce_for`](Self::nonce_for): an authorization
    /// server and an API on one origin do not overwrite each other's nonces.
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

    /// Local time, from the configured clock.
    pub(crate) fn local_now(&self) -> UnixTime {
        self.clock.now()
    }

    /// Server time as far as the client knows: local time corrected by the learnt skew. Used
    /// for `iat` of proofs and client assertions.
    pub(crate) fn now(&self) -> UnixTime {
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

    /// Signs a proof for `request` with the latest nonce of its origin in `role`, sends it,
    /// and learns the answer's nonce (and skew).
    pub(crate) async fn send_once(
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
}

impl<K: JwsSigner> core::fmt::Debug for DpopClient<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DpopClient")
            .field("signer", &self.signer)
            .field("learn_skew", &self.learn_skew)
            .finish_non_exhaustive()
    }
}

/// `scheme://host[:port]` of `url`.
pub(crate) fn origin_of(url: &reqwest::Url) -> String {
    url.origin().ascii_serialization()
}

/// Whether a resource server's response asks for a (new) nonce: 401 with a `DPoP` challenge
/// whose `error` is `use_dpop_nonce` (RFC 9449 §9), or 400 carrying `DPoP-Nonce`.
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
    fn http_date() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("junk"), None);
    }
}
