//! The `http` feature: run the guard on `http` types and answer with `http::Response`.

use http::header::{HeaderMap, HeaderName, HeaderValue, CACHE_CONTROL, WWW_AUTHENTICATE};

use crate::proof::replay::ReplayStore;
use crate::resource::guard::{Authorized, Rejection, RequestGuard, ResourceRequest};
use crate::resource::public_url::PublicUrlPolicy;
use crate::revocation::RevocationStore;
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

impl<R: ReplayStore, V: RevocationStore> RequestGuard<R, V> {
    /// [`check`](Self::check) on the parts of an `http` request: every `Authorization` and
    /// `DPoP` header (names are case-insensitive in `http`), the method, and the public URL
    /// from `urls` and the request's path and query.
    pub fn check_http_parts(
        &self,
        parts: &http::request::Parts,
        urls: &PublicUrlPolicy,
        now: UnixTime,
    ) -> Result<Authorized, Rejection> {
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let url = urls.url_for(path, |name| {
            HeaderName::from_bytes(name.as_bytes())
                .map(|name| header_values(&parts.headers, &name))
                .unwrap_or_default()
        });
        let authorization = header_values(&parts.headers, &http::header::AUTHORIZATION);
        let dpop = header_values(&parts.headers, &DPOP);
        let request = ResourceRequest::new(parts.method.as_str(), &url, &authorization, &dpop);
        self.check(&request, now)
    }

    /// [`check_http_parts`](Self::check_http_parts) on a whole request.
    pub fn check_http<B>(
        &self,
        request: &http::Request<B>,
        urls: &PublicUrlPolicy,
        now: UnixTime,
    ) -> Result<Authorized, Rejection> {
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let url = urls.url_for(path, |name| {
            HeaderName::from_bytes(name.as_bytes())
                .map(|name| header_values(request.headers(), &name))
                .unwrap_or_default()
        });
        let authorization = header_values(request.headers(), &http::header::AUTHORIZATION);
        let dpop = header_values(request.headers(), &DPOP);
        let resource = ResourceRequest::new(request.method().as_str(), &url, &authorization, &dpop);
        self.check(&resource, now)
    }
}

impl Rejection {
    /// The HTTP answer: status, `WWW-Authenticate`, and — when the client must retry with a
    /// nonce — `DPoP-Nonce` with `Cache-Control: no-store` (RFC 9449 §8.2). The body is empty
    /// (`B::default()`).
    pub fn to_http_response<B: Default>(&self) -> http::Response<B> {
        let mut response = http::Response::new(B::default());
        *response.status_mut() =
            http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::UNAUTHORIZED);
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(self.www_authenticate()) {
            headers.insert(WWW_AUTHENTICATE, value);
        }
        if let Some(nonce) = self.dpop_nonce() {
            insert_nonce(headers, nonce);
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
