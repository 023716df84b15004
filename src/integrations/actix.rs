//! The `actix` feature: an actix-web 4 middleware that authorizes every request before the
//! handler sees it, `Authorized` / `Option<Authorized>` as handler arguments, and `Rejection`
//! as an actix error.
//!
//! actix-web 4 speaks `http` 0.2, so nothing here touches the `http` 1 types of the other
//! integrations: the request is read and the answer written through the framework-neutral
//! [`Gate`] and [`refusal_headers`], the same ones the tower layer uses.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::EitherBody;
use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use crate::error::Error;
use crate::integrations::gate::{Gate, Verdict};
use crate::integrations::http::{nonce_headers, refusal_headers};
use crate::proof::replay::{AsyncReplayStore, MemoryReplayStore};
use crate::resource::guard::{Authorized, Rejection, RequestGuard};
use crate::resource::public_url::PublicUrlPolicy;
use crate::resource::scope_requirement::ScopeRequirement;
use crate::revocation::{AsyncRevocationStore, MemoryRevocationStore};
use crate::time::Clock;

/// An actix-web middleware ([`Transform`]) that runs a [`RequestGuard`] on every request —
/// the actix twin of the tower `DpopLayer`, with the same options and answers.
///
/// Authorized requests reach the handler with the [`Authorized`] principal in their
/// extensions (take `Authorized` or `Option<Authorized>` as a handler argument); refused ones
/// get the exact answer (status, `WWW-Authenticate`, `DPoP-Nonce`, `Retry-After`; empty body)
/// without reaching it. When the proof's nonce is still accepted but no longer current, the
/// successful response carries a fresh `DPoP-Nonce` (RFC 9449 §8.2). The guard's stores are
/// used through their asynchronous API, so a Redis store never blocks a worker.
///
/// ```ignore
/// let guard = Arc::new(RequestGuard::new(tokens));
/// App::new().service(
///     web::resource("/orders")
///         .wrap(DpopMiddleware::new(guard.clone(), PublicUrlPolicy::new("https://api.example.com")?)
///             .require_scope("orders:read"))
///         .route(web::get().to(|who: Authorized| async move { who.subject().to_owned() })),
/// )
/// ```
///
/// Browsers only let scripts read `WWW-Authenticate` and `DPoP-Nonce` if the CORS response
/// exposes them: `Access-Control-Expose-Headers: WWW-Authenticate, DPoP-Nonce` (and allow the
/// request headers `Authorization, DPoP`).
pub struct DpopMiddleware<R = MemoryReplayStore, V = MemoryRevocationStore> {
    gate: Gate<R, V>,
}

impl<R, V> Clone for DpopMiddleware<R, V> {
    fn clone(&self) -> Self {
        Self {
            gate: self.gate.clone(),
        }
    }
}

impl<R, V> DpopMiddleware<R, V> {
    /// A middleware running `guard`, with public URLs from `urls`.
    pub fn new(guard: Arc<RequestGuard<R, V>>, urls: PublicUrlPolicy) -> Self {
        Self {
            gate: Gate::new(guard, urls),
        }
    }

    /// Also requires `scope` in the token (403 `insufficient_scope` otherwise). Wrap each
    /// resource or scope in its own middleware to require different scopes.
    pub fn require_scope(self, scope: &str) -> Self {
        self.require_scopes(ScopeRequirement::one(scope))
    }

    /// Also requires the token to meet `required`: any of a set of scopes, or all of one
    /// (403 `insufficient_scope` otherwise).
    pub fn require_scopes(self, required: ScopeRequirement) -> Self {
        Self {
            gate: self.gate.require_scopes(required),
        }
    }

    /// Calls `hook` with every rejection before answering it — to log in your own format,
    /// count by [`Rejection::reason`], or read [`Rejection::diagnostic`] (an `htu` mismatch).
    /// The hook runs on the worker's thread: keep it short and never let it block.
    pub fn on_rejection(self, hook: impl Fn(&Rejection) + Send + Sync + 'static) -> Self {
        Self {
            gate: self.gate.on_rejection(hook),
        }
    }

    /// Lets requests with neither an `Authorization` nor a `DPoP` header through without an
    /// [`Authorized`] in their extensions (take `Option<Authorized>` in the handler).
    /// Requests with credentials are checked as always: bad credentials are refused, never
    /// downgraded to anonymous.
    pub fn allow_anonymous(self) -> Self {
        Self {
            gate: self.gate.allow_anonymous(),
        }
    }

    /// Reads time from `clock` (default: the system clock).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self {
            gate: self.gate.with_clock(clock),
        }
    }
}

impl<S, B, R, V> Transform<S, ServiceRequest> for DpopMiddleware<R, V>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
    R: AsyncReplayStore + 'static,
    V: AsyncRevocationStore + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = DpopMiddlewareService<S, R, V>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(DpopMiddlewareService {
            service: Rc::new(service),
            gate: self.gate.clone(),
        }))
    }
}

/// The service [`DpopMiddleware`] wraps around the next one.
pub struct DpopMiddlewareService<S, R = MemoryReplayStore, V = MemoryRevocationStore> {
    service: Rc<S>,
    gate: Gate<R, V>,
}

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B, R, V> Service<ServiceRequest> for DpopMiddlewareService<S, R, V>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
    R: AsyncReplayStore + 'static,
    V: AsyncRevocationStore + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let gate = self.gate.clone();
        Box::pin(async move {
            let verdict = {
                let head = request.head();
                let path = head.uri.path_and_query().map_or("/", |p| p.as_str());
                let header = |name: &str| raw_values(&head.headers, name);
                gate.decide(head.method.as_str(), path, header).await
            };
            let authorized = match verdict {
                Verdict::Anonymous => {
                    return Ok(service.call(request).await?.map_into_left_body());
                }
                Verdict::Refused(rejection) => {
                    let answer = refusal(&rejection);
                    return Ok(request.into_response(answer).map_into_right_body());
                }
                Verdict::Authorized(authorized) => authorized,
            };
            let fresh_nonce = authorized.fresh_nonce().map(str::to_owned);
            request.extensions_mut().insert(authorized);
            let mut response = service.call(request).await?;
            if let Some(nonce) = fresh_nonce {
                insert_all(response.headers_mut(), nonce_headers(&nonce));
            }
            Ok(response.map_into_left_body())
        })
    }
}

/// Every value of the header `name` (case-insensitive) in an actix header map, as bytes.
fn raw_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a [u8]> {
    headers.get_all(name).map(HeaderValue::as_bytes).collect()
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

/// The answer to `rejection`: its status and [`refusal_headers`], an empty body.
fn refusal(rejection: &Rejection) -> HttpResponse {
    let mut response = HttpResponse::new(actix_status(rejection));
    insert_all(response.headers_mut(), refusal_headers(rejection));
    response
}

/// [`Rejection::status`] as actix's `StatusCode`.
fn actix_status(rejection: &Rejection) -> StatusCode {
    StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::UNAUTHORIZED)
}

/// `Authorized` as a handler argument:
///
/// ```ignore
/// async fn orders(who: keybound::Authorized) -> String { who.subject().to_owned() }
/// ```
///
/// If no [`DpopMiddleware`] ran before the handler (a routing mistake), the extractor fails
/// closed: 401 with a bare `DPoP` challenge. As `Option<Authorized>` (actix's blanket
/// implementation) it is `None` when the request came without credentials through a middleware
/// that [allows anonymous requests](DpopMiddleware::allow_anonymous); the middleware already
/// refused bad credentials.
impl FromRequest for Authorized {
    type Error = Rejection;
    type Future = Ready<Result<Self, Rejection>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = request.extensions().get::<Authorized>().cloned();
        ready(found.ok_or_else(|| crate::resource::guard::bare_rejection(Error::NoCredentials)))
    }
}

/// A [`Rejection`] returned from a handler (`Err(rejection)`, or `?`) is its exact answer
/// (status, `WWW-Authenticate`, `DPoP-Nonce`, `Retry-After`; empty body).
///
/// `rejection.status_code()` still names the inherent `http` 1 method (feature `http`);
/// `ResponseError::status_code(&rejection)` gives actix's type.
impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        actix_status(self)
    }

    fn error_response(&self) -> HttpResponse {
        refusal(self)
    }
}
