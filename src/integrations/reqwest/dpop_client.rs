//! [`DpopClient`]: a reqwest client that signs a fresh DPoP proof for every request, keeps the
//! latest nonce per origin and server role, and retries once when a server asks for a nonce
//! ([RFC 9449 §8](https://www.rfc-editor.org/rfc/rfc9449#section-8),
//! [§9](https://www.rfc-editor.org/rfc/rfc9449#section-9)).

use std::sync::Arc;

use http::header::{HeaderValue, AUTHORIZATION};

use crate::error::Error;
use crate::integrations::reqwest::client_error::ClientError;
use crate::integrations::reqwest::proof_session::{ProofSession, Role, Transport};
use crate::jose::jws_signer::JwsSigner;
use crate::jose::signing_key::SigningKey;
use crate::proof::signer::ProofSigner;
use crate::time::{Clock, UnixTime};

/// A reqwest client that speaks DPoP.
///
/// For every request it signs a fresh proof (method, URL, `ath` when a token is attached, and
/// the latest nonce the request's origin sent in that role), remembers `DPoP-Nonce` headers per
/// origin and server role — authorization server (token and PAR endpoints) or API, so the two
/// on one origin do not thrash — from every response (200s included), and when the server
/// answers `use_dpop_nonce` (400 from an authorization server, 401 from an API) retries
/// **once** with the new nonce and a fresh `jti` — never more, whatever the server says.
/// Optionally ([`with_clock_skew_from_date_header`](Self::with_clock_skew_from_date_header))
/// it corrects `iat`, per origin, by the clock skew it reads from that origin's `Date` header.
///
/// **Redirects are never followed.** The proof names one URL (`htu`), carries the token's hash
/// (`ath`) and, with it, the `Authorization` header and the client's credentials go to one
/// server; following a redirect would hand them to wherever the `Location` points, and cache
/// the nonce that server sends as if it came from the first. So [`new`](Self::new) builds its
/// own reqwest client with [`Policy::none`](reqwest::redirect::Policy::none), whatever policy
/// the given builder had: a 3xx answer is returned to the caller as it is
/// ([`execute`](Self::execute)) or as a [`ClientError::TokenEndpoint`] /
/// [`ClientError::PushedAuthorizationEndpoint`] with its status. To follow one, check its
/// `Location` yourself and [`execute`](Self::execute) a new request to it: that request gets a
/// proof of its own, for its own URL.
///
/// Talking to an authorization server: [`token`](Self::token) (any [`Grant`](crate::Grant),
/// with [`ClientAuth`](crate::ClientAuth)), [`push_authorization_request`](Self::push_authorization_request)
/// (RFC 9126) and [`authorization_url`](Self::authorization_url); a
/// [`TokenSource`](crate::TokenSource) keeps a token fresh. Calling an API:
/// [`execute`](Self::execute).
///
/// reqwest is used with default features off: enable the TLS backend you want in your own
/// `reqwest` dependency (features unify) — without one, every `https` request fails with a
/// [`ClientError::Http`] whose [`source`](std::error::Error::source) chain says so.
///
/// Clones share the connection pool, the nonces and the clock skews learnt (like
/// `reqwest::Client`). To add DPoP to a `reqwest-middleware` chain instead, see
/// [`middleware`](Self::middleware) (feature `reqwest-middleware`).
///
/// ```no_run
/// use keybound::{AuthorizationServerEndpoints, ClientAuth, DpopClient, Grant, ProofSigner, SigningKey};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = DpopClient::new(reqwest::Client::builder(), ProofSigner::new(SigningKey::generate()?))?;
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
    /// Built by [`new`](Self::new) with redirects off; never the caller's client.
    pub(crate) http: reqwest::Client,
    pub(crate) session: ProofSession<K>,
}

impl<K> Clone for DpopClient<K> {
    fn clone(&self) -> Self {
        Self {
            http: self.http.clone(),
            session: self.session.clone(),
        }
    }
}

/// Sending through the client's own reqwest client.
struct Direct<'a>(&'a reqwest::Client);

impl Transport for Direct<'_> {
    type Error = ClientError;

    async fn send(&mut self, request: reqwest::Request) -> Result<reqwest::Response, ClientError> {
        Ok(self.0.execute(request).await?)
    }
}

impl<K: JwsSigner> DpopClient<K> {
    /// A client signing with `signer`, sending through a reqwest client built from `http`
    /// (timeouts, TLS, proxies, default headers: whatever you set) **with its redirect policy
    /// replaced by [`Policy::none`](reqwest::redirect::Policy::none)** — see the type's
    /// documentation for why. Pass `reqwest::Client::builder()` for reqwest's defaults.
    ///
    /// Errors: [`ClientError::Http`] when reqwest cannot build the client (e.g. its TLS
    /// backend fails to initialise).
    pub fn new(http: reqwest::ClientBuilder, signer: ProofSigner<K>) -> Result<Self, ClientError> {
        let http = http.redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(Self {
            http,
            session: ProofSession::new(signer),
        })
    }

    /// Also sends requests over plain `http` to hosts that are not loopback. By default such a
    /// request is refused before anything is sent ([`ClientError::Request`]`(`[`Error::InsecureUrl`]`("request url"))`):
    /// whoever reads it could replay its proof and token. `https`, and `http` to `localhost`,
    /// `127.0.0.0/8` or `[::1]`, are always allowed. For test rigs only.
    pub fn allow_insecure_http(mut self) -> Self {
        self.session.insecure_http = true;
        self
    }

    /// Learns, per origin, the offset between the local clock and that origin's `Date`
    /// header (any of the three forms of RFC 9110 §5.6.7), and signs `iat` in that server's
    /// time (for devices with a wrong clock). Off by default.
    ///
    /// An offset is learnt only
    /// - from the origin being called, and used only for proofs (and client assertions) sent
    ///   to that origin: a hostile server can shift the `iat` of proofs sent to itself, never
    ///   of proofs for another server (RFC 9449 §11.2: future-dated proofs could be replayed
    ///   later);
    /// - from answers that show the server checks DPoP: a valid `DPoP-Nonce` header, a
    ///   `WWW-Authenticate` challenge with `error="use_dpop_nonce"` or
    ///   `error="invalid_dpop_proof"`, or an authorization server's 400 with one of those
    ///   `error` codes (RFC 9449 §5, §7.1, §8, §9);
    /// - when it is at most [`with_max_clock_skew_secs`](Self::with_max_clock_skew_secs) (300 s
    ///   by default) either way. A larger one is **ignored, not clamped** (the origin keeps
    ///   its earlier offset, if any): a server that far off is broken or hostile, and a clamped
    ///   value would be wrong anyway.
    ///
    /// The new offset applies from the next proof on — the retry after `use_dpop_nonce`
    /// included. A refusal for a stale `iat` (`invalid_dpop_proof` without a nonce) is not
    /// retried: the caller's next request uses the learnt offset. At most
    /// 256 origins are remembered (least recently used forgotten first).
    pub fn with_clock_skew_from_date_header(mut self) -> Self {
        self.session.learn_skew = true;
        self
    }

    /// The largest clock skew, in seconds either way, that
    /// [`with_clock_skew_from_date_header`](Self::with_clock_skew_from_date_header) learns
    /// (default 300 s: device clocks that are minutes off are common, hours off are a broken
    /// or hostile server). A server's `Date` further off than this is ignored.
    pub fn with_max_clock_skew_secs(mut self, secs: u64) -> Self {
        self.session.max_skew_secs = secs;
        self
    }

    /// Reads local time from `clock` (default: the system clock). Proofs, client assertions
    /// and [`TokenSource`](crate::TokenSource) expiry all use it.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.session.clock = clock;
        self
    }

    /// Refuses authorization server answers longer than `bytes` (default
    /// [`MAX_RESPONSE_LEN`](crate::MAX_RESPONSE_LEN), 64 KiB).
    pub fn with_max_response_len(mut self, bytes: usize) -> Self {
        self.session.max_response_len = bytes;
        self
    }

    /// The proof signer (its thumbprint is what tokens get bound to).
    pub fn signer(&self) -> &ProofSigner<K> {
        &self.session.signer
    }

    /// The reqwest client requests go through (redirects off), e.g. to build requests for
    /// [`execute`](Self::execute) with it.
    pub fn http_client(&self) -> &reqwest::Client {
        &self.http
    }

    /// The nonce last received from the resource server at `origin` (`scheme://host[:port]`),
    /// if any.
    pub fn nonce_for(&self, origin: &str) -> Option<String> {
        self.session.nonce(Role::Resource, origin)
    }

    /// The nonce last received from the authorization server (its token or PAR endpoint) at
    /// `origin`, if any. Kept apart from [`nonce_for`](Self::nonce_for): an authorization
    /// server and an API on one origin do not overwrite each other's nonces.
    pub fn authorization_server_nonce_for(&self, origin: &str) -> Option<String> {
        self.session.nonce(Role::AuthorizationServer, origin)
    }

    /// The clock offset learnt from the `Date` headers of `origin` (`scheme://host[:port]`), in
    /// seconds (server − local); 0 when none was learnt.
    pub fn clock_skew_secs_for(&self, origin: &str) -> i64 {
        self.session.clock_skew_secs_for(origin)
    }

    /// Local time, from the configured clock.
    pub(crate) fn local_now(&self) -> UnixTime {
        self.session.clock.now()
    }

    /// The time at `origin` as far as the client knows (see [`ProofSession::now_at`]).
    pub(crate) fn now_at(&self, origin: &str) -> UnixTime {
        self.session.now_at(origin)
    }

    /// Sends `request` with a fresh proof, `Authorization: DPoP <access_token>` when a token is
    /// given, and one retry on `use_dpop_nonce`. A request whose body cannot be cloned (a
    /// stream) is not retried; its `use_dpop_nonce` answer is returned. A redirect is not
    /// followed: the 3xx answer is returned.
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
        let mut direct = Direct(&self.http);
        self.session
            .send_with_retry(Role::Resource, request, access_token, &mut direct)
            .await
    }

    /// One send with a fresh proof, no retry (the authorization-server exchanges retry
    /// themselves, with fresh credentials).
    pub(crate) async fn send_once(
        &self,
        role: Role,
        request: reqwest::Request,
        access_token: Option<&str>,
    ) -> Result<reqwest::Response, ClientError> {
        let mut direct = Direct(&self.http);
        self.session
            .send_once(role, request, access_token, &mut direct)
            .await
    }

    /// See [`ProofSession::learn_skew`].
    pub(crate) fn learn_skew(&self, origin: &str, headers: &http::HeaderMap) {
        self.session.learn_skew(origin, headers);
    }
}

impl<K: JwsSigner> core::fmt::Debug for DpopClient<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DpopClient")
            .field("signer", &self.session.signer)
            .field("learn_skew", &self.session.learn_skew)
            .field("max_skew_secs", &self.session.max_skew_secs)
            .finish_non_exhaustive()
    }
}
