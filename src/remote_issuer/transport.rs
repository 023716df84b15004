//! The seam to the network: how this crate fetches metadata, key sets and introspection
//! answers. The `reqwest` feature implements it for `reqwest::Client`; tests implement it
//! with canned answers.

use std::time::Duration;

use crate::error::UpstreamError;
use crate::token::key_slot::BoxFuture;

/// The HTTP method of an [`OutgoingRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpMethod {
    /// `GET`: metadata and key sets.
    Get,
    /// `POST` with an `application/x-www-form-urlencoded` body: introspection.
    Post,
}

/// One request to an authorization server. `Debug` omits header values and the body (they
/// carry client credentials and tokens).
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct OutgoingRequest<'a> {
    /// The method.
    pub method: HttpMethod,
    /// The absolute URL (already checked to be `https`, or `http` on loopback).
    pub url: &'a str,
    /// Header names and values to send (`Accept`, `Authorization`, `Content-Type`).
    pub headers: &'a [(&'a str, &'a str)],
    /// The body (empty for `GET`).
    pub body: &'a [u8],
    /// The whole exchange must finish within this time, or fail with
    /// [`UpstreamError::Unreachable`].
    pub timeout: Duration,
    /// A body longer than this many bytes fails with [`UpstreamError::TooLarge`], without
    /// being read further.
    pub max_body: usize,
}

impl core::fmt::Debug for OutgoingRequest<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OutgoingRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.len())
            .field("timeout", &self.timeout)
            .field("max_body", &self.max_body)
            .finish()
    }
}

/// An answer: status, the headers this crate reads, and the body (at most `max_body` bytes).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct HttpResponse {
    /// The HTTP status.
    pub status: u16,
    /// The `Cache-Control` header value, if one was sent (several are joined with `, `).
    pub cache_control: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with `status` and `body`, no `Cache-Control`.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            cache_control: None,
            body: body.into(),
        }
    }

    /// Sets the `Cache-Control` value.
    pub fn with_cache_control(mut self, value: impl Into<String>) -> Self {
        self.cache_control = Some(value.into());
        self
    }
}

/// Sends requests to authorization servers. Implementations must honour
/// [`OutgoingRequest::timeout`] and [`OutgoingRequest::max_body`] (stop reading past it), and
/// answer any network failure with [`UpstreamError::Unreachable`] — never with the server's
/// text.
pub trait HttpTransport: Send + Sync {
    /// Sends `request` and reads its answer.
    fn send<'a>(
        &'a self,
        request: OutgoingRequest<'a>,
    ) -> BoxFuture<'a, Result<HttpResponse, UpstreamError>>;
}

impl<T: HttpTransport + ?Sized> HttpTransport for std::sync::Arc<T> {
    fn send<'a>(
        &'a self,
        request: OutgoingRequest<'a>,
    ) -> BoxFuture<'a, Result<HttpResponse, UpstreamError>> {
        (**self).send(request)
    }
}

/// `GET url` accepting JSON, answering the body of a 200 response.
pub(crate) async fn get_json(
    transport: &dyn HttpTransport,
    url: &str,
    timeout: Duration,
    max_body: usize,
) -> Result<HttpResponse, UpstreamError> {
    let response = transport
        .send(OutgoingRequest {
            method: HttpMethod::Get,
            url,
            headers: &[("accept", "application/json")],
            body: &[],
            timeout,
            max_body,
        })
        .await?;
    if response.body.len() > max_body {
        return Err(UpstreamError::TooLarge);
    }
    if response.status != 200 {
        return Err(UpstreamError::Status(response.status));
    }
    Ok(response)
}
