//! The `tower` feature: a layer that authorizes every request before the service sees it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::error::Error;
use crate::integrations::gate::{Gate, Verdict};
use crate::integrations::http::{insert_nonce, raw_values};
use crate::proof::replay::{AsyncReplayStore, MemoryReplayStore};
use crate::resource::guard::{Authorized, Rejection, RequestGuard};
use crate::resource::public_url::PublicUrlPolicy;
use crate::resource::scope_requirement::ScopeRequirement;
use crate::revocation::{AsyncRevocationStore, MemoryRevocationStore};
use crate::time::Clock;

/// A tower [`Layer`](tower_layer::Layer) that runs a [`RequestGuard`] on every request.
///
/// Authorized requests reach the inner service with the [`Authorized`] principal in their
/// extensions (the `axum` feature adds an extractor for it); refused ones get the exact answer
/// (status, `WWW-Authenticate`, `DPoP-Nonce`) without reaching it. When the proof's nonce is
/// still accepted but no longer current, the successful response carries a fresh `DPoP-Nonce`
/// (RFC 9449 §8.2).
///
/// Browsers only let scripts read `WWW-Authenticate` and `DPoP-Nonce` if the CORS response
/// exposes them: `Access-Control-Expose-Headers: WWW-Authenticate, DPoP-Nonce` (and allow the
/// request headers `Authorization, DPoP`).
pub struct DpopLayer<R = MemoryReplayStore, V = MemoryRevocationStore> {
    gate: Gate<R, V>,
}

impl<R, V> Clone for DpopLayer<R, V> {
    fn clone(&self) -> Self {
        Self {
            gate: self.gate.clone(),
        }
    }
}

impl<R, V> DpopLayer<R, V> {
    /// A layer running `guard`, with public URLs from `urls`.
    pub fn new(guard: Arc<RequestGuard<R, V>>, urls: PublicUrlPolicy) -> Self {
        Self {
            gate: Gate::new(guard, urls),
        }
    }

    /// Also requires `scope` in the token (403 `insufficient_scope` otherwise). Use one layer
    /// per route or router to require different scopes.
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
    /// The hook runs on the request's task: keep it short and never let it block.
    pub fn on_rejection(self, hook: impl Fn(&Rejection) + Send + Sync + 'static) -> Self {
        Self {
            gate: self.gate.on_rejection(hook),
        }
    }

    /// Lets requests with neither an `Authorization` nor a `DPoP` header through without an
    /// [`Authorized`] in their extensions (take `Option<Authorized>` in an axum handler).
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

impl<S, R, V> tower_layer::Layer<S> for DpopLayer<R, V> {
    type Service = DpopService<S, R, V>;

    fn layer(&self, inner: S) -> Self::Service {
        DpopService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`DpopLayer`] wraps around an inner service.
pub struct DpopService<S, R = MemoryReplayStore, V = MemoryRevocationStore> {
    inner: S,
    layer: DpopLayer<R, V>,
}

impl<S: Clone, R, V> Clone for DpopService<S, R, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, R, V, B, ResBody> tower_service::Service<http::Request<B>> for DpopService<S, R, V>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    R: AsyncReplayStore + 'static,
    V: AsyncRevocationStore + 'static,
    B: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let layer = self.layer.clone();
        // Call the instance that was polled ready; leave a fresh clone in its place.
        let clone = self.inner.clone();
        let mut inner = core::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let verdict = {
                let (method, headers) = (request.method().as_str(), request.headers());
                let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
                let header = |name: &str| raw_values(headers, name);
                layer.gate.decide(method, path, header).await
            };
            let authorized = match verdict {
                Verdict::Anonymous => return inner.call(request).await,
                Verdict::Refused(rejection) => return Ok(rejection.to_http_response()),
                Verdict::Authorized(authorized) => authorized,
            };
            let fresh_nonce = authorized.fresh_nonce().map(str::to_owned);
            request.extensions_mut().insert(authorized);
            let mut response = inner.call(request).await?;
            if let Some(nonce) = fresh_nonce {
                insert_nonce(response.headers_mut(), &nonce);
            }
            Ok(response)
        })
    }
}

impl Authorized {
    /// The principal the [`DpopLayer`] put into a request's extensions.
    pub fn from_extensions(extensions: &http::Extensions) -> Result<&Authorized, Error> {
        extensions.get::<Authorized>().ok_or(Error::NoCredentials)
    }
}
