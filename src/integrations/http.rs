//! The `http` feature: run the guard on `http` types and answer with `http::Response`.

use http::header::{HeaderMap, HeaderName, HeaderValue, CACHE_CONTROL, WWW_AUTHENTICATE};

use crate::proof::replay::{AsyncReplayStore, ReplayStore};
use crate::resource::guard::{Authorized, Rejection, RequestGuard, ResourceRequest};
use crate::resource::public_url::PublicUrlPolicy;
use crate::revocation::{AsyncRevocationStore, RevocationStore};
use crate::time::UnixTime;

/// The `DPoP` request header (RFC 9449 §4.1).
pub const DPOP: HeaderName = HeaderName::from_static("dpop");
/// The `DPoP-Nonce` response header (RFC 9449 §8).
pub const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// A header value that is not visible ASCII becomes this, which no parser accepts, so a
/// non-UTF-8 header is refused rather than skipped.
const UNREADABLE: &str = "\u{1}";

/// Every value of `name` as text.
pub(crate) fn header_values<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .map(|value| value.to_str().unwrap_or(UNREADABLE))
        .collect()
}

/// What the guard reads from an `http` request: method, public URL, the two headers.
pub(crate) struct HttpView<'a> {
    method: &'a str,
    url: String,
    authorization: Vec<&'a str>,
    dpop: Vec<&'a str>,
}

impl<'a> HttpView<'a> {
    pub(crate) fn new(
        method: &'a http::Method,
        uri: &http::Uri,
        headers: &'a HeaderMap,
        urls: &PublicUrlPolicy,
    ) -> Self {
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let url = urls.url_for(path, |name| {
            HeaderName::from_bytes(name.as_bytes())
                .map(|name| header_values(headers, &name))
                .unwrap_or_default()
        });
        Self {
            method: method.as_str(),
            url,
            authorization: header_values(headers, &http::header::AUTHORIZATION),
            dpop: header_values(headers, &DPOP),
        }
    }

    pub(crate) fn request(&self) -> ResourceRequest<'_> {
        ResourceRequest::new(self.method, &self.url, &self.authorization, &self.dpop)
    }
}

impl<R, V> RequestGuard<R, V> {
    /// [`check`](Self::check) on the parts of an `http` request: every `Authorization` and
    /// `DPoP` header (names are case-insensitive in `http`), the method, and the public URL
    /// from `urls` and the request's path and query.
    pub fn check_http_parts(
        &self,
        parts: &http::request::Parts,
        urls: &PublicUrlPolicy,
        now: UnixTime,
    ) -> Result<Authorized, Rejection>
    where
        R: ReplayStore,
        V: RevocationStore,
    {
        let view = HttpView::new(&parts.method, &parts.uri, &parts.headers, urls);
        self.check(&view.request(), now)
    }

    /// [`check_http_parts`](Self::check_http_parts) on a whole request.
    pub fn check_http<B>(
        &self,
        request: &http::Request<B>,
        urls: &PublicUrlPolicy,
        now: UnixTime,
    ) -> Result<Authorized, Rejection>
    where
        R: ReplayStore,
        V: RevocationStore,
    {
        let view = HttpView::new(request.method(), request.uri(), request.headers(), urls);
        self.check(&view.request(), now)
    }

    /// [`check_http`](Self::check_http) with asynchronous stores (see
    /// [`check_async`](Self::check_async)).
    pub async fn check_http_async<B>(
        &self,
        request: &http::Request<B>,
        urls: &PublicUrlPolicy,
        now: UnixTime,
    ) -> Result<Authorized, Rejection>
    where
        R: AsyncReplayStore,
        V: AsyncRevocationStore,
    {
        let view = HttpView::new(request.method(), request.uri(), request.headers(), urls);
        self.check_async(&view.request(), now).await
    }
}

impl Rejection {
    /// [`status`](Self::status) as an `http::StatusCode`.
    pub fn status_code(&self) -> http::StatusCode {
        http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::UNAUTHORIZED)
    }

    /// The HTTP answer: status, `WWW-Authenticate`, and — when the client must retry with a
    /// nonce — `DPoP-Nonce` with `Cache-Control: no-store` (RFC 9449 §8.2); `Retry-After` on a
    /// 429 (a key over its share of the replay store). The body is empty (`B::default()`).
    pub fn to_http_response<B: Default>(&self) -> http::Response<B> {
        let mut response = http::Response::new(B::default());
        *response.status_mut() = self.status_code();
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(self.www_authenticate()) {
            headers.insert(WWW_AUTHENTICATE, value);
        }
        if let Some(nonce) = self.dpop_nonce() {
            insert_nonce(headers, nonce);
        }
        if let Some(secs) = self.error().retry_after_secs() {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Adds `DPoP-Nonce: nonce` and `Cache-Control: no-store` (RFC 9449 §8.2).
pub(crate) fn insert_nonce(headers: &mut HeaderMap, nonce: &str) {
    if let Ok(value) = HeaderValue::from_str(nonce) {
        headers.insert(DPOP_NONCE, value);
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}
