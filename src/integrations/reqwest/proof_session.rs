//! What a DPoP client remembers and does for every request, whichever way the request is sent
//! ([`DpopClient`](crate::DpopClient) through its own reqwest client,
//! [`DpopClientMiddleware`](crate::DpopClientMiddleware) down a `reqwest-middleware` chain): a fresh proof
//! with the origin's latest nonce, the nonces and clock skews learnt from answers, and one
//! retry when a server asks for a nonce.

use std::future::Future;
use std::sync::{Arc, Mutex};

use http::header::{HeaderValue, DATE, WWW_AUTHENTICATE};

use crate::error::Error;
use crate::integrations::http::{DPOP, DPOP_NONCE};
use crate::integrations::reqwest::client_error::{ClientError, ServerError};
use crate::integrations::reqwest::per_origin::{PerOrigin, MAX_ORIGINS};
use crate::integrations::reqwest::response_body::{read_bounded, MAX_RESPONSE_LEN};
use crate::jose::jws_signer::JwsSigner;
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

/// Sends one request: the client's own reqwest client, or the rest of a middleware chain.
pub(crate) trait Transport {
    /// The failure of a send, which also carries this crate's [`ClientError`]s.
    type Error: From<ClientError>;

    fn send(
        &mut self,
        request: reqwest::Request,
    ) -> impl Future<Output = Result<reqwest::Response, Self::Error>> + Send;
}

/// The proof signer, the settings, and the memory (nonces, skews) shared by every clone.
pub(crate) struct ProofSession<K> {
    pub(crate) signer: Arc<ProofSigner<K>>,
    memory: Arc<Memory>,
    pub(crate) learn_skew: bool,
    pub(crate) max_skew_secs: u64,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) insecure_http: bool,
    /// The bound on an answer read to decide a retry (a 400 with `DPoP-Nonce`).
    pub(crate) max_response_len: usize,
}

/// What answers taught the client.
struct Memory {
    /// The latest nonce per server role and origin: an authorization server and an API on one
    /// origin issue nonces of their own, and must not overwrite each other's.
    nonces: Mutex<PerOrigin<(Role, String), String>>,
    /// The clock skew (server − local, seconds) learnt from each origin's own answers.
    skews: Mutex<PerOrigin<String, i64>>,
}

/// The default of [`DpopClient::with_max_clock_skew_secs`](crate::DpopClient::with_max_clock_skew_secs):
/// five minutes.
const DEFAULT_MAX_CLOCK_SKEW_SECS: u64 = 300;

impl<K> Clone for ProofSession<K> {
    fn clone(&self) -> Self {
        Self {
            signer: self.signer.clone(),
            memory: self.memory.clone(),
            learn_skew: self.learn_skew,
            max_skew_secs: self.max_skew_secs,
            clock: self.clock.clone(),
            insecure_http: self.insecure_http,
            max_response_len: self.max_response_len,
        }
    }
}

impl<K: JwsSigner> ProofSession<K> {
    pub(crate) fn new(signer: ProofSigner<K>) -> Self {
        Self {
            signer: Arc::new(signer),
            memory: Arc::new(Memory {
                nonces: Mutex::new(PerOrigin::new(MAX_ORIGINS)),
                skews: Mutex::new(PerOrigin::new(MAX_ORIGINS)),
            }),
            learn_skew: false,
            max_skew_secs: DEFAULT_MAX_CLOCK_SKEW_SECS,
            clock: Arc::new(SystemClock),
            insecure_http: false,
            max_response_len: MAX_RESPONSE_LEN,
        }
    }

    pub(crate) fn nonce(&self, role: Role, origin: &str) -> Option<String> {
        lock(&self.memory.nonces).get(&(role, origin.to_owned()))
    }

    pub(crate) fn clock_skew_secs_for(&self, origin: &str) -> i64 {
        lock(&self.memory.skews)
            .get(&origin.to_owned())
            .unwrap_or(0)
    }

    /// The time at `origin` as far as the client knows: local time corrected by that origin's
    /// learnt skew. Used for `iat` of proofs and client assertions sent there.
    pub(crate) fn now_at(&self, origin: &str) -> UnixTime {
        let local = self.clock.now().as_secs();
        UnixTime::from_secs(local.saturating_add_signed(self.clock_skew_secs_for(origin)))
    }

    /// Sends `request` with a fresh proof and, when the answer asks for a nonce, **once** more
    /// with the new nonce and a fresh proof. A request whose body cannot be cloned (a stream)
    /// is not retried.
    pub(crate) async fn send_with_retry<T: Transport>(
        &self,
        role: Role,
        request: reqwest::Request,
        access_token: Option<&str>,
        transport: &mut T,
    ) -> Result<reqwest::Response, T::Error> {
        let retry = request.try_clone();
        let response = self
            .send_once(role, request, access_token, transport)
            .await?;
        let (asks, response) = self.asks_for_nonce(response).await?;
        match retry {
            Some(again) if asks => self.send_once(role, again, access_token, transport).await,
            _ => Ok(response),
        }
    }

    /// Signs a proof for `request` with the latest nonce of its origin in `role` and that
    /// origin's time, sends it, and learns the answer's nonce (and skew).
    pub(crate) async fn send_once<T: Transport>(
        &self,
        role: Role,
        mut request: reqwest::Request,
        access_token: Option<&str>,
        transport: &mut T,
    ) -> Result<reqwest::Response, T::Error> {
        let origin = self.attach_proof(role, &mut request, access_token)?;
        // Neither transport follows redirects: the answer is from `origin`.
        let response = transport.send(request).await?;
        self.learn(role, origin, response.headers());
        Ok(response)
    }

    /// Adds a fresh `DPoP` header to `request`; returns its origin.
    fn attach_proof(
        &self,
        role: Role,
        request: &mut reqwest::Request,
        access_token: Option<&str>,
    ) -> Result<String, ClientError> {
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
        Ok(origin)
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
            lock(&self.memory.nonces).insert((role, origin), nonce.to_owned());
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
            lock(&self.memory.skews).insert(origin.to_owned(), skew);
        }
    }

    /// Whether `response` asks for a (new) nonce, and the response itself (rebuilt when its
    /// body had to be read): 401 with a `DPoP` challenge whose `error` is `use_dpop_nonce`
    /// (RFC 9449 §9), or 400 with `DPoP-Nonce` and a JSON body whose `error` is
    /// `use_dpop_nonce` (§8; the body is read within the response size limit).
    async fn asks_for_nonce(
        &self,
        response: reqwest::Response,
    ) -> Result<(bool, reqwest::Response), ClientError> {
        let headers = response.headers();
        if !headers.contains_key(DPOP_NONCE) {
            return Ok((false, response));
        }
        match response.status().as_u16() {
            401 => Ok((has_dpop_error(headers, "use_dpop_nonce"), response)),
            400 if response
                .content_length()
                .is_some_and(|len| len > self.max_response_len as u64) =>
            {
                Ok((false, response))
            }
            400 => {
                let status = response.status();
                let version = response.version();
                let headers = response.headers().clone();
                let body = read_bounded(response, self.max_response_len).await?;
                let asks = ServerError::from_body(&body).error.as_deref() == Some("use_dpop_nonce");
                let mut rebuilt = http::Response::new(body.to_vec());
                *rebuilt.status_mut() = status;
                *rebuilt.version_mut() = version;
                *rebuilt.headers_mut() = headers;
                Ok((asks, reqwest::Response::from(rebuilt)))
            }
            _ => Ok((false, response)),
        }
    }
}

/// Locks `mutex`, carrying on after a panic elsewhere (the maps hold no invariant a panic
/// could break).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// `scheme://host[:port]` of `url`.
pub(crate) fn origin_of(url: &reqwest::Url) -> String {
    url.origin().ascii_serialization()
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

/// An HTTP `Date` (RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms a
/// recipient must accept) as Unix seconds, by `httpdate`.
fn parse_http_date(text: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(text.trim()).ok()?;
    let secs = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok()
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
    fn http_dates_in_all_three_forms() {
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(form), Some(784_111_777), "{form}");
        }
        assert_eq!(parse_http_date("junk"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST"), None);
    }
}
