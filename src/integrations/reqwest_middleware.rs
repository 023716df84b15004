//! The `reqwest-middleware` feature: [`DpopClientMiddleware`], DPoP for a
//! [`reqwest_middleware`] chain (retry, tracing and other middleware combined).

use std::sync::Arc;

use http::header::AUTHORIZATION;
use http::Extensions;
use reqwest_middleware::{Middleware, Next};

use crate::integrations::reqwest::client_error::ClientError;
use crate::integrations::reqwest::proof_session::{ProofSession, Role, Transport};
use crate::jose::jws_signer::JwsSigner;
use crate::jose::signing_key::SigningKey;
use crate::proof::signer::ProofSigner;
use crate::resource::authorization;
use crate::time::Clock;
use crate::DpopClient;

/// A [`Middleware`] that gives every request a fresh DPoP proof — the same logic as
/// [`DpopClient`], not a copy: the latest nonce per origin and server role, learnt from every
/// answer, and **one** retry, with a new nonce and proof, when a server asks for one (401
/// `use_dpop_nonce` from an API, 400 `use_dpop_nonce` from an authorization server).
///
/// - A request with `Authorization: DPoP <token>` is an API call: its proof carries the
///   token's hash (`ath`), and its nonces are kept as the API's. Any other request (a token
///   request) is an authorization-server call.
/// - Place it **after** middleware that retries on failures (so every retry gets a proof of
///   its own: a proof is single-use) and before none that changes the method or URL.
/// - Redirects: build the inner `reqwest::Client` with
///   [`Policy::none`](reqwest::redirect::Policy::none) — a followed redirect carries the proof
///   and token to another URL (see [`DpopClient`]).
/// - A request whose body cannot be cloned (a stream) is not retried.
///
/// ```no_run
/// use keybound::{DpopClientMiddleware, ProofSigner, SigningKey};
///
/// # async fn run(token: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let http = reqwest::Client::builder()
///     .redirect(reqwest::redirect::Policy::none())
///     .build()?;
/// let client = reqwest_middleware::ClientBuilder::new(http)
///     .with(DpopClientMiddleware::new(ProofSigner::new(SigningKey::generate()?)))
///     .build();
/// let orders = client
///     .get("https://api.example.com/orders")
///     .header("authorization", format!("DPoP {token}"))
///     .send()
///     .await?;
/// # drop(orders);
/// # Ok(())
/// # }
/// ```
pub struct DpopClientMiddleware<K = SigningKey> {
    session: ProofSession<K>,
}

impl<K: JwsSigner> DpopClientMiddleware<K> {
    /// A middleware signing with `signer`, with [`DpopClient`]'s defaults.
    pub fn new(signer: ProofSigner<K>) -> Self {
        Self {
            session: ProofSession::new(signer),
        }
    }

    /// Also signs requests over plain `http` to hosts that are not loopback (see
    /// [`DpopClient::allow_insecure_http`]; for test rigs only).
    pub fn allow_insecure_http(mut self) -> Self {
        self.session.insecure_http = true;
        self
    }

    /// Reads local time from `clock` (default: the system clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.session.clock = clock;
        self
    }

    /// The proof signer.
    pub fn signer(&self) -> &ProofSigner<K> {
        &self.session.signer
    }

    /// The nonce last received from the resource server at `origin`, if any.
    pub fn nonce_for(&self, origin: &str) -> Option<String> {
        self.session.nonce(Role::Resource, origin)
    }
}

impl<K: JwsSigner> DpopClient<K> {
    /// A [`DpopClientMiddleware`] with this client's signer and settings, sharing what it learnt
    /// (nonces, clock skews) in both directions.
    pub fn middleware(&self) -> DpopClientMiddleware<K> {
        DpopClientMiddleware {
            session: self.session.clone(),
        }
    }
}

/// Sending down the rest of the middleware chain.
struct DownTheChain<'a> {
    next: Next<'a>,
    extensions: &'a mut Extensions,
}

impl Transport for DownTheChain<'_> {
    type Error = reqwest_middleware::Error;

    async fn send(
        &mut self,
        request: reqwest::Request,
    ) -> Result<reqwest::Response, reqwest_middleware::Error> {
        self.next.clone().run(request, self.extensions).await
    }
}

/// A [`ClientError`] in a middleware chain: reqwest's own errors stay
/// `reqwest_middleware::Error::Reqwest`, the rest are `Middleware` errors (downcast to
/// `ClientError`).
impl From<ClientError> for reqwest_middleware::Error {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Http(error) => Self::Reqwest(error),
            other => Self::middleware(other),
        }
    }
}

#[async_trait::async_trait]
impl<K: JwsSigner + Send + Sync + 'static> Middleware for DpopClientMiddleware<K> {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let token = dpop_token(&request);
        let role = match token {
            Some(_) => Role::Resource,
            None => Role::AuthorizationServer,
        };
        let mut chain = DownTheChain { next, extensions };
        self.session
            .send_with_retry(role, request, token.as_deref(), &mut chain)
            .await
    }
}

/// The token of a single `Authorization: DPoP <token>` header, if the request has one.
fn dpop_token(request: &reqwest::Request) -> Option<String> {
    let values: Vec<&str> = request
        .headers()
        .get_all(AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let credentials = authorization::parse(&values).ok()?;
    (credentials.scheme == authorization::Scheme::Dpop).then(|| credentials.token.to_owned())
}

impl<K: JwsSigner> core::fmt::Debug for DpopClientMiddleware<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DpopClientMiddleware")
            .field("signer", &self.session.signer)
            .finish_non_exhaustive()
    }
}
