//! The `axum` feature: an extractor for the principal the [`DpopLayer`](crate::DpopLayer)
//! authorized.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use crate::error::Error;
use crate::resource::guard::{Authorized, Rejection};

/// `Authorized` as a handler argument:
///
/// ```ignore
/// async fn orders(who: keybound::Authorized) -> String { who.subject().to_owned() }
/// ```
///
/// If no [`DpopLayer`](crate::DpopLayer) ran before the handler (a routing mistake), the
/// extractor fails closed: 401 with a bare `DPoP` challenge.
impl<S: Send + Sync> FromRequestParts<S> for Authorized {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Authorized>() {
            Some(authorized) => Ok(authorized.clone()),
            None => {
                let rejection = crate::resource::guard::bare_rejection(Error::NoCredentials);
                Err(rejection
                    .to_http_response::<axum::body::Body>()
                    .into_response())
            }
        }
    }
}

/// `Option<Authorized>` as a handler argument, for routes behind a layer that
/// [allows anonymous requests](crate::DpopLayer::allow_anonymous): `None` when the request
/// came without credentials. It never fails; the layer already refused bad credentials.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Authorized {
    type Rejection = core::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Authorized>().cloned())
    }
}

/// A [`Rejection`] returned from a handler is its exact answer (status, `WWW-Authenticate`,
/// `DPoP-Nonce`, `Retry-After`; empty body).
impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.to_http_response::<axum::body::Body>()
    }
}

/// A token, PAR or introspection endpoint's error answer (see
/// [`ErrorResponse::to_http_response`](crate::ErrorResponse::to_http_response)).
impl IntoResponse for crate::ErrorResponse {
    fn into_response(self) -> Response {
        self.to_http_response::<axum::body::Body>()
    }
}
