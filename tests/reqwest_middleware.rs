//! `DpopClientMiddleware` in a `reqwest-middleware` chain against loopback servers: a real
//! `DpopLayer` with nonces (one retry), a server that always wants a new nonce (never more
//! than one retry), an authorization server's 400 `use_dpop_nonce` (retried) and 400
//! `invalid_grant` with a nonce (not retried), a retry middleware in front (each attempt gets
//! a proof of its own), and nonces shared with the `DpopClient` it came from.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use http::Extensions;
use keybound::{
    Authorized, DpopClient, DpopClientMiddleware, DpopLayer, IssuerKeys, NonceEngine, ProofSigner,
    ProofVerifier, PublicUrlPolicy, RequestGuard, SigningKey, TokenIssuer, TokenRequest,
    TokenVerifier, UnixTime,
};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};

const ISS: &str = "https://as.example.com";
const AUD: &str = "orders-api";

struct Server {
    origin: String,
    hits: Arc<AtomicUsize>,
    issuer: Arc<TokenIssuer>,
}

/// The `nonce` claim of a proof (decoded without verifying: the test server's own check).
fn nonce_of(headers: &HeaderMap) -> Option<String> {
    let proof = headers.get("dpop")?.to_str().ok()?;
    let jwt = keybound::danger::decode_unverified(proof).ok()?;
    jwt.claims.get("nonce")?.as_str().map(str::to_owned)
}

/// `/orders` behind a DpopLayer requiring nonces; `/always-nonce`; `/token` (400
/// `use_dpop_nonce` until the proof carries `as-nonce`); `/refused-token` (400 `invalid_grant`
/// with a `DPoP-Nonce`); `/flaky` (503 on every other hit, else like `/orders`).
async fn start() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let issuer = Arc::new(TokenIssuer::new(ISS, IssuerKeys::generate().unwrap()));
    let proofs = ProofVerifier::new().with_nonces(NonceEngine::generate().unwrap());
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(proofs);
    let layer = DpopLayer::new(Arc::new(guard), PublicUrlPolicy::new(&origin).unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counting = {
        let hits = hits.clone();
        axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let hits = hits.clone();
                async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                    next.run(request).await
                }
            },
        )
    };
    let flaky_hits = Arc::new(AtomicUsize::new(0));
    let flaky = axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let n = flaky_hits.fetch_add(1, Ordering::SeqCst);
            async move {
                if n.is_multiple_of(2) {
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                next.run(request).await
            }
        },
    );
    let who = || get(|who: Authorized| async move { who.subject().to_owned() });
    // The DPoP check runs before /flaky's own 503: every attempt spends its proof.
    let protected = Router::new()
        .route("/orders", who())
        .route("/flaky", who().layer(flaky))
        .layer(layer);
    let always = get(|| async {
        (
            StatusCode::UNAUTHORIZED,
            [
                (
                    "www-authenticate",
                    r#"DPoP error="use_dpop_nonce""#.to_owned(),
                ),
                ("dpop-nonce", format!("n-{}", rand_suffix())),
            ],
        )
    });
    let token = post(|headers: HeaderMap| async move {
        match nonce_of(&headers).as_deref() {
            Some("as-nonce") => (StatusCode::OK, [("dpop-nonce", "as-nonce")], "{}"),
            _ => (
                StatusCode::BAD_REQUEST,
                [("dpop-nonce", "as-nonce")],
                r#"{"error":"use_dpop_nonce"}"#,
            ),
        }
    });
    let refused = post(|| async {
        (
            StatusCode::BAD_REQUEST,
            [("dpop-nonce", "as-nonce-2")],
            r#"{"error":"invalid_grant"}"#,
        )
    });
    let app = protected
        .route("/always-nonce", always)
        .route("/token", token)
        .route("/refused-token", refused)
        .layer(counting);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Server {
        origin,
        hits,
        issuer,
    }
}

fn rand_suffix() -> u64 {
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst) as u64
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn chain(dpop: DpopClientMiddleware) -> ClientWithMiddleware {
    ClientBuilder::new(http()).with(dpop).build()
}

/// `GET url` with `Authorization: DPoP token` through `client`.
async fn api_get(
    client: &ClientWithMiddleware,
    url: impl AsRef<str>,
    token: &str,
) -> reqwest::Response {
    client
        .get(url.as_ref())
        .header("authorization", format!("DPoP {token}"))
        .send()
        .await
        .unwrap()
}

impl Server {
    fn token_for(&self, signer: &ProofSigner) -> String {
        let grant = TokenRequest::new("alice", AUD, "app", signer.thumbprint());
        self.issuer
            .issue(&grant, UnixTime::now())
            .unwrap()
            .access_token
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn an_api_call_gets_its_nonce_with_one_retry() {
    let server = start().await;
    let dpop = DpopClientMiddleware::new(ProofSigner::new(SigningKey::generate().unwrap()));
    let token = server.token_for(dpop.signer());
    let client = chain(dpop);
    let url = format!("{}/orders", server.origin);
    let response = api_get(&client, &url, &token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "alice");
    assert_eq!(server.hits(), 2, "the nonce challenge, then the retry");

    // The nonce is remembered: the next call needs no retry.
    let again = api_get(&client, &url, &token).await;
    assert_eq!(again.status(), 200);
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn never_more_than_one_retry() {
    let server = start().await;
    let client = chain(DpopClientMiddleware::new(ProofSigner::new(
        SigningKey::generate().unwrap(),
    )));
    let response = client
        .get(format!("{}/always-nonce", server.origin))
        .header("authorization", "DPoP tok")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn authorization_server_nonces_are_retried_other_400s_are_not() {
    let server = start().await;
    let dpop = DpopClientMiddleware::new(ProofSigner::new(SigningKey::generate().unwrap()));
    let client = chain(dpop);
    let response = client
        .post(format!("{}/token", server.origin))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.hits(), 2, "400 use_dpop_nonce, then the retry");

    let refused = client
        .post(format!("{}/refused-token", server.origin))
        .body("grant_type=refresh_token&refresh_token=r")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    // The body read to decide is handed back whole.
    assert_eq!(
        refused.text().await.unwrap(),
        r#"{"error":"invalid_grant"}"#
    );
    assert_eq!(
        server.hits(),
        3,
        "invalid_grant is not retried, nonce or not"
    );
}

/// Retries a 503 once, like the retry middleware people put in a chain.
struct RetryOn503;

#[async_trait::async_trait]
impl Middleware for RetryOn503 {
    async fn handle(
        &self,
        request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let again = request.try_clone().unwrap();
        let response = next.clone().run(request, extensions).await?;
        if response.status() != StatusCode::SERVICE_UNAVAILABLE {
            return Ok(response);
        }
        next.run(again, extensions).await
    }
}

#[tokio::test]
async fn behind_a_retry_middleware_every_attempt_has_its_own_proof() {
    let server = start().await;
    let dpop = DpopClientMiddleware::new(ProofSigner::new(SigningKey::generate().unwrap()));
    let token = server.token_for(dpop.signer());
    let client = ClientBuilder::new(http())
        .with(RetryOn503)
        .with(dpop)
        .build();
    let response = api_get(&client, format!("{}/flaky", server.origin), &token).await;
    // 503; retried → 401 use_dpop_nonce; DPoP retry → 200. A reused proof would be a replay.
    assert_eq!(response.status(), 200);
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn a_client_and_its_middleware_share_what_they_learnt() {
    let server = start().await;
    let client = DpopClient::new(
        reqwest::Client::builder(),
        ProofSigner::new(SigningKey::generate().unwrap()),
    )
    .unwrap();
    let token = server.token_for(client.signer());
    let url = format!("{}/orders", server.origin);
    let request = client.http_client().get(&url).build().unwrap();
    assert_eq!(
        client
            .execute(request, Some(&token))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(server.hits(), 2);
    // A clone and the middleware use the nonce the client learnt: no retry.
    let chained = chain(client.clone().middleware());
    let response = api_get(&chained, &url, &token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(server.hits(), 3);
    assert!(client.nonce_for(&server.origin).is_some());
}
