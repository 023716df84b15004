//! What a DPoP middleware decides about a request, whatever the framework: tower's
//! `DpopLayer` and actix's `DpopMiddleware` both ask a [`Gate`] and only translate its
//! [`Verdict`] into their own request and response types.

use std::sync::Arc;

use crate::integrations::http::HttpView;
use crate::proof::replay::AsyncReplayStore;
use crate::resource::guard::{Authorized, Rejection, RequestGuard};
use crate::resource::public_url::PublicUrlPolicy;
use crate::resource::scope_requirement::ScopeRequirement;
use crate::revocation::AsyncRevocationStore;
use crate::time::{Clock, SystemClock};

/// What `on_rejection` calls.
type RejectionHook = Arc<dyn Fn(&Rejection) + Send + Sync>;

/// A guard, the public URL policy, and a middleware's options (scope requirement, rejection
/// hook, anonymous requests, clock).
pub(crate) struct Gate<R, V> {
    guard: Arc<RequestGuard<R, V>>,
    urls: Arc<PublicUrlPolicy>,
    scope: Option<Arc<ScopeRequirement>>,
    clock: Arc<dyn Clock>,
    on_rejection: Option<RejectionHook>,
    anonymous: bool,
}

impl<R, V> Clone for Gate<R, V> {
    fn clone(&self) -> Self {
        Self {
            guard: self.guard.clone(),
            urls: self.urls.clone(),
            scope: self.scope.clone(),
            clock: self.clock.clone(),
            on_rejection: self.on_rejection.clone(),
            anonymous: self.anonymous,
        }
    }
}

/// What to do with a request.
pub(crate) enum Verdict {
    /// No credentials at all, and anonymous requests are allowed: pass it on as it is.
    Anonymous,
    /// Every check passed: pass it on with this principal; send its fresh nonce back.
    Authorized(Authorized),
    /// Answer this instead (the hook has already seen it).
    Refused(Rejection),
}

impl<R, V> Gate<R, V> {
    pub(crate) fn new(guard: Arc<RequestGuard<R, V>>, urls: PublicUrlPolicy) -> Self {
        Self {
            guard,
            urls: Arc::new(urls),
            scope: None,
            clock: Arc::new(SystemClock),
            on_rejection: None,
            anonymous: false,
        }
    }

    pub(crate) fn require_scopes(mut self, required: ScopeRequirement) -> Self {
        self.scope = Some(Arc::new(required));
        self
    }

    pub(crate) fn on_rejection(
        mut self,
        hook: impl Fn(&Rejection) + Send + Sync + 'static,
    ) -> Self {
        self.on_rejection = Some(Arc::new(hook));
        self
    }

    pub(crate) fn allow_anonymous(mut self) -> Self {
        self.anonymous = true;
        self
    }

    pub(crate) fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Decides a request with `method`, its path and query as received, and `header`, which
    /// gives every value of a header (case-insensitive name) as bytes. Runs the guard's
    /// asynchronous check (so Redis stores never block), then the scope requirement; a
    /// refusal is shown to the hook before it is returned.
    pub(crate) async fn decide<'a>(
        &self,
        method: &'a str,
        path_and_query: &str,
        header: impl Fn(&str) -> Vec<&'a [u8]>,
    ) -> Verdict
    where
        R: AsyncReplayStore,
        V: AsyncRevocationStore,
    {
        if self.anonymous && header("authorization").is_empty() && header("dpop").is_empty() {
            return Verdict::Anonymous;
        }
        let now = self.clock.now();
        let view = HttpView::from_parts(method, path_and_query, header, &self.urls);
        let checked = self.guard.check_async(&view.request(), now).await;
        match checked.and_then(|who| self.scope_met(who)) {
            Ok(authorized) => Verdict::Authorized(authorized),
            Err(rejection) => {
                if let Some(hook) = &self.on_rejection {
                    hook(&rejection);
                }
                Verdict::Refused(rejection)
            }
        }
    }

    /// `who`, if the token meets the scope requirement. The guard reports its own refusals;
    /// this one is reported here.
    fn scope_met(&self, who: Authorized) -> Result<Authorized, Rejection> {
        match &self.scope {
            Some(required) if !who.meets(required) => {
                let rejection = self.guard.scope_not_met(required).for_principal(&who);
                crate::observe::rejected(&rejection);
                Err(rejection)
            }
            _ => Ok(who),
        }
    }
}
