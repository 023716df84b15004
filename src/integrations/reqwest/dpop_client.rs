//! [`DpopClient`]: a reqwest client that signs a fresh DPoP proof for every request, keeps the
//! latest nonce per origin and server role, and retries once when a server asks for a nonce
//! ([RFC 9449 §8](https://www.rfc-editor.org/rfc/rfc9449#section-8),
//! [§9](https://www.rfc-editor.org/rfc/rfc9449#section-9)).

use std::sync::{Arc, Mutex};

use http::header::{HeaderValue, AUTHORIZATION, DATE, WWW_AUTHENTICATE};

use crate::error::Error;
use crate::integrations::http::{DPOP, DPOP_NONCE};
use crate::integrations::reqwest::client_error::ClientError;
use crate::integrations::reqwest::per_origin::{PerOrigin, MAX_ORIGINS};
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
/// `reqwest` dependency (features unify).
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
    pub(crate) signer: Arc<ProofSigner<K>>,
    /// The latest nonce per server role and origin: an authorization server and an API on one
    /// origin issue nonces of their own, and must not overwrite each other's.
    nonces: Mutex<PerOrigin<(Role, String), String>>,
    /// The clock skew (server − local, seconds) learnt from each origin's own answers.
    skews: Mutex<PerOrigin<String, i64>>,
    learn_skew: bool,
    max_skew_secs: u64,
    clock: Arc<dyn Clock>,
    pub(crate) max_response_len: usize,
    insecure_http: bool,
}

/// The default of [`DpopClient::with_max_clock_skew_secs`]: five minutes.
const DEFAULT_MAX_CLOCK_SKEW_SECS: u64 = 300;

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
            signer: Arc::new(signer),
            nonces: Mutex::new(PerOrigin::new(MAX_ORIGINS)),
            skews: Mutex::new(PerOrigin::new(MAX_ORIGINS)),
            learn_skew: false,
            max_skew_secs: DEFAULT_MAX_CLOCK_SKEW_SECS,
            clock: Arc::new(SystemClock),
            max_response_len: MAX_RESPONSE_LEN,
            insecure_http: false,
        })
    }

    /// Also sends requests over plain `http` to hosts that are not loopback. By default such a
    /// request is refused before anything is sent ([`ClientError::Request`]`(`[`Error::InsecureUrl`]`("request url"))`):
    /// whoever reads it could replay its proof and token. `https`, and `http` to `localhost`,
    /// `127.0.0.0/8` or `[::1]`, are always allowed. For test rigs only.
    pub fn allow_insecure_http(mut self) -> Self {
        self.insecure_http = true;
        self
    }

    /// Learns, per origin, the offset between the local clock and that origin's `Date`
    /// header, and signs `iat` in that server's time (for devices with a wrong clock). Off by
    /// default.
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
        self.learn_skew = true;
        self
    }

    /// The largest clock skew, in seconds either way, that
    /// [`with_clock_skew_from_date_header`](Self::with_clock_skew_from_date_header) learns
    /// (default 300 s: device clocks that are minutes off are common, hours off are a broken
    /// or hostile server). A server's `Date` further off than this is ignored.
    pub fn with_max_clock_skew_secs(mut self, secs: u64) -> Self {
        self.max_skew_secs = secs;
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
        lock(&self.nonces).get(&(role, origin.to_owned()))
    }

    /// The clock offset learnt from the `Date` headers of `origin` (`scheme://host[:port]`), in
    /// seconds (server − local); 0 when none was learnt.
    pub fn clock_skew_secs_for(&self, origin: &str) -> i64 {
        lock(&self.skews).get(&origin.to_owned()).unwrap_or(0)
    }

    /// Local time, from the configured clock.
    pub(crate) fn local_now(&self) -> UnixTime {
        self.clock.now()
    }

    /// The time at `origin` as far as the client knows: local time corrected by that origin's
    /// learnt skew. Used for `iat` of proofs and client assertions sent there.
    pub(crate) fn now_at(&self, origin: &str) -> UnixTime {
        let local = self.clock.now().as_secs();
        UnixTime::from_secs(local.saturating_add_signed(self.clock_skew_secs_for(origin)))
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

    /// Signs a proof for `request` with the latest nonce of its origin in `role` and that
    /// origin's time, sends it, and learns the answer's nonce (and skew).
    pub(crate) async fn send_once(
        &self,
        role: Role,
        mut request: reqwest::Request,
        access_token: Option<&str>,
    ) -> Result<reqwest::Response, ClientError> {
        crate::secure_url::refuse_plain_http(
            request.url().as_str(),
            self.insecure_http,
            "request url",
        )
        .map_err(ClientError::Request)?;
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
        let proof = builder
            .sign(self.now_at(&origin))
            .map_err(ClientError::Proof)?;
        let value = HeaderValue::from_str(&proof).map_err(|_| ClientError::Proof(Error::Signer))?;
        request.headers_mut().insert(DPOP, value);
        // `self.http` follows no redirects: the answer is from `origin`.
        let response = self.http.execute(request).await?;
        self.learn(role, origin, response.headers());
        Ok(response)
    }

    /// Remembers the answer's nonce and, if the answer shows the server checks DPoP, its
    /// clock skew.
    fn learn(&self, role: Role, origin: String, headers: &http::HeaderMap) {
        let nonce = headers
            .get(DPOP_NONCE)
            .and_then(|v| v.to_str().ok())
            .filter(|n| crate::proof::syntax::is_nonce(n));
        let challenged = has_dpop_error(headers, "use_dpop_nonce")
            || has_dpop_error(headers, "invalid_dpop_proof");
        if nonce.is_some() || challenged {
            self.learn_skew(&origin, headers);
        }
        if let Some(nonce) = nonce {
            lock(&self.nonces).insert((role, origin), nonce.to_owned());
        }
    }

    /// If enabled, remembers the skew between `headers`' `Date` and the local clock for
    /// `origin`, unless it exceeds the bound. The caller has checked the answer is a DPoP
    /// answer from `origin`.
    pub(crate) fn learn_skew(&self, origin: &str, headers: &http::HeaderMap) {
        if !self.learn_skew {
            return;
        }
        let server = headers
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_http_date);
        let (Some(server), Ok(local)) = (server, i64::try_from(self.clock.now().as_secs())) else {
            return;
        };
        let skew = server.saturating_sub(local);
        if skew.unsigned_abs() <= self.max_skew_secs {
            lock(&self.skews).insert(origin.to_owned(), skew);
        }
    }
}

/// Locks `mutex`, carrying on after a panic elsewhere (the maps hold no invariant a panic
/// could break).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl<K: JwsSigner> core::fmt::Debug for DpopClient<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DpopClient")
            .field("signer", &self.signer)
            .field("learn_skew", &self.learn_skew)
            .field("max_skew_secs", &self.max_skew_secs)
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
        401 => has_dpop_error(headers, "use_dpop_nonce"),
        400 => true,
        _ => false,
    }
}

/// Whether a `WWW-Authenticate` header of `headers` carries `error="<code>"` (quoted or not),
/// `code` being one of the DPoP-specific codes (RFC 9449 §7.1, §9), so only a DPoP challenge
/// can carry it.
fn has_dpop_error(headers: &http::HeaderMap, code: &str) -> bool {
    let quoted = format!("error=\"{code}\"");
    let bare = format!("error={code}");
    headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.contains(&quoted)
                || v.match_indices(&bare).any(|(at, _)| {
                    matches!(v.as_bytes().get(at + bare.len()), None | Some(b',' | b' '))
                })
        })
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
    fn dpop_errors_in_challenges() {
        let headers = |values: &[&str]| {
            let mut map = http::HeaderMap::new();
            for v in values {
                map.append(WWW_AUTHENTICATE, HeaderValue::from_str(v).unwrap());
            }
            map
        };
        for yes in [
            &[r#"DPoP error="invalid_dpop_proof""#][..],
            &["DPoP error=invalid_dpop_proof"],
            &["DPoP error=invalid_dpop_proof, algs=\"ES256\""],
            &[
                r#"Bearer realm="x""#,
                r#"DPoP algs="ES256", error="invalid_dpop_proof""#,
            ],
        ] {
            assert!(
                has_dpop_error(&headers(yes), "invalid_dpop_proof"),
                "{yes:?}"
            );
        }
        for no in [
            &[r#"Bearer error="invalid_token""#][..],
            &["DPoP error=invalid_dpop_proofs"],
            &[r#"DPoP error="use_dpop_nonce""#],
            &[],
        ] {
            assert!(
                !has_dpop_error(&headers(no), "invalid_dpop_proof"),
                "{no:?}"
            );
        }
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
