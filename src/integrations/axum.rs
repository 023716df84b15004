//! The `axum` feature: an extractor for the principal the [`DpopLayer`](crate::DpopLayer)
//! authorized.

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use crate::error::Error;
use crate::resource::guard::Authorized;

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
