//! The `tower` feature: a service answering `GET` for the protected resource metadata
//! (RFC 9728 §3), ready to mount at [`ProtectedResourceMetadata::path`].

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE};

use crate::resource::protected_resource_metadata::ProtectedResourceMetadata;

/// A tower service that serves one [`ProtectedResourceMetadata`] document: `GET` and `HEAD`
/// get `200` with `Content-Type: application/json` and `Cache-Control: max-age=3600`; other
/// methods get `405`. It answers whatever path it is mounted at — mount it at
/// [`path`](ProtectedResourceMetadata::path), outside the [`DpopLayer`](crate::DpopLayer)
/// (the document is public):
///
/// ```ignore
/// let metadata = ProtectedResourceMetadata::new("https://api.example.com")?
///     .with_authorization_server("https://login.example.com")?;
/// let app = axum::Router::new()
///     .route("/orders", get(orders))
///     .layer(dpop_layer)
///     .route_service(&metadata.path(), ProtectedResourceMetadataService::new(&metadata));
/// ```
#[derive(Clone, Debug)]
pub struct ProtectedResourceMetadataService {
    body: Arc<str>,
}

impl ProtectedResourceMetadataService {
    /// Serves `metadata` as it is now.
    pub fn new(metadata: &ProtectedResourceMetadata) -> Self {
        Self {
            body: Arc::from(metadata.to_json()),
        }
    }
}

impl<B> tower_service::Service<http::Request<B>> for ProtectedResourceMetadataService {
    type Response = http::Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = request.method();
        let mut response = if method == http::Method::GET {
            http::Response::new(self.body.to_string())
        } else if method == http::Method::HEAD {
            http::Response::new(String::new())
        } else {
            let mut refused = http::Response::new(String::new());
            *refused.status_mut() = http::StatusCode::METHOD_NOT_ALLOWED;
            refused
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return ready(Ok(refused));
        };
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
        ready(Ok(response))
    }
}
