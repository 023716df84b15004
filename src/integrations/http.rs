//! The `http` feature: run the guard on `http` types and answer with `http::Response`.
//!
//! The framework-neutral half lives here too, shared with the `actix` integration (whose
//! `http` 0.2 types are not these): how a request's header values are read ([`HttpView`]) and
//! which headers answer a refusal ([`refusal_headers`]).

use std::borrow::Cow;

use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::proof::replay::{AsyncReplayStore, ReplayStore};
use crate::resource::guard::{Authorized, Rejection, RequestGuard, ResourceRequest};
use crate::resource::public_url::PublicUrlPolicy;
use crate::revocation::{AsyncRevocationStore, RevocationStore};
use crate::time::UnixTime;

/// The name of the `DPoP-Nonce` response header, as every integration writes it.
const DPOP_NONCE_NAME: &str = "dpop-nonce";

/// The `DPoP` request header (RFC 9449 §4.1).
pub const DPOP: HeaderName = HeaderName::from_static("dpop");
/// The `DPoP-Nonce` response header (RFC 9449 §8).
pub const DPOP_NONCE: HeaderName = HeaderName::from_static(DPOP_NONCE_NAME);

/// A header value that is not visible ASCII becomes this, which no parser accepts, so a
/// non-UTF-8 header is refused rather than skipped.
const UNREADABLE: &str = "\u{1}";

/// A header value's bytes as text: visible ASCII and tabs as they are (the rule of `http`'s
/// `HeaderValue::to_str`), anything else [`UNREADABLE`]. The one rule for every framework.
fn header_text(value: &[u8]) -> &str {
    let visible = value
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b));
    match core::str::from_utf8(value) {
        Ok(text) if visible => text,
        _ => UNREADABLE,
    }
}

/// Every value of the header `name` (case-insensitive) in an `http` 1 header map, as bytes.
pub(crate) fn raw_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a [u8]> {
    match HeaderName::from_bytes(name.as_bytes()) {
        Ok(name) => headers
            .get_all(name)
            .iter()
            .map(HeaderValue::as_bytes)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Every value of the header `name` in an `http` 1 header map, each read with [`header_text`].
pub(crate) fn header_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    raw_values(headers, name)
        .into_iter()
        .map(header_text)
        .collect()
}

/// What the guard reads from an HTTP request: method, public URL, the two headers.
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
        Self::from_parts(
            method.as_str(),
            path,
            |name| raw_values(headers, name),
            urls,
        )
    }

    /// The view of any framework's request: its method, its path and query as received, and
    /// `header`, which gives every value of a header (case-insensitive name) as bytes. Each
    /// value is read with [`header_text`], for the URL policy as for the credentials.
    pub(crate) fn from_parts(
        method: &'a str,
        path_and_query: &str,
        header: impl Fn(&str) -> Vec<&'a [u8]>,
        urls: &PublicUrlPolicy,
    ) -> Self {
        let text =
            |name: &str| -> Vec<&'a str> { header(name).into_iter().map(header_text).collect() };
        Self {
            method,
            url: urls.url_for(path_and_query, text),
            authorization: text("authorization"),
            dpop: text("dpop"),
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
        insert_all(response.headers_mut(), refusal_headers(self));
        response
    }
}

/// The headers that answer `rejection`, as (lower-case name, value): `WWW-Authenticate`;
/// `DPoP-Nonce` with `Cache-Control: no-store` when the client must retry with a nonce
/// (RFC 9449 §8.2); `Retry-After` on a 429. Every integration answers with exactly these.
pub(crate) fn refusal_headers(rejection: &Rejection) -> Vec<(&'static str, Cow<'_, str>)> {
    let mut headers = vec![(
        "www-authenticate",
        Cow::Borrowed(rejection.www_authenticate()),
    )];
    if let Some(nonce) = rejection.dpop_nonce() {
        headers.extend(
            nonce_headers(nonce)
                .into_iter()
                .map(|(name, value)| (name, Cow::Borrowed(value))),
        );
    }
    if let Some(secs) = rejection.retry_after_secs() {
        headers.push(("retry-after", Cow::Owned(secs.to_string())));
    }
    headers
}

/// `DPoP-Nonce: nonce` and `Cache-Control: no-store` (RFC 9449 §8.2), as (name, value).
pub(crate) fn nonce_headers(nonce: &str) -> [(&'static str, &str); 2] {
    [(DPOP_NONCE_NAME, nonce), ("cache-control", "no-store")]
}

/// Sets each (name, value) of `pairs` in `headers`; a value that is not a valid header value
/// is left out.
fn insert_all<V: AsRef<str>>(
    headers: &mut HeaderMap,
    pairs: impl IntoIterator<Item = (&'static str, V)>,
) {
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(value.as_ref()) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}

/// Adds `DPoP-Nonce: nonce` and `Cache-Control: no-store` (RFC 9449 §8.2).
#[cfg_attr(not(feature = "tower"), allow(dead_code))]
pub(crate) fn insert_nonce(headers: &mut HeaderMap, nonce: &str) {
    insert_all(headers, nonce_headers(nonce));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_visible_ascii_or_unreadable() {
        assert_eq!(header_text(b"DPoP abc.def-_~ \t"), "DPoP abc.def-_~ \t");
        for refused in [&b"caf\xc3\xa9"[..], b"\xff", b"a\x7f", b"a\x00b", b"a\nb"] {
            assert_eq!(header_text(refused), UNREADABLE, "{refused:?}");
        }
    }

    #[test]
    fn a_refusal_lists_each_header_once() {
        let rejection = crate::resource::guard::bare_rejection(crate::Error::NoCredentials);
        let headers = refusal_headers(&rejection);
        assert_eq!(
            headers,
            vec![(
                "www-authenticate",
                Cow::Borrowed(rejection.www_authenticate())
            )]
        );
        assert_eq!(
            nonce_headers("n"),
            [("dpop-nonce", "n"), ("cache-control", "no-store")]
        );
    }
}
