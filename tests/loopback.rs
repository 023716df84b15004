//! The reqwest client against the axum layer over loopback: success, nonce challenge and one
//! retry, stolen token, proxies (prefix, forwarded headers trusted and not), and a server that
//! always demands a new nonce.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use keybound::{
    error_response, token_response, Authorized, DpopClient, DpopLayer, IssuerKeys, NonceEngine,
    ProofSigner, ProofVerifier, PublicUrlPolicy, RequestGuard, SigningKey, TokenEndpoint,
    TokenIssuer, TokenRequest, TokenVerifier, TrustedProxy, UnixTime,
};

const ISS: &str = "https://as.example.com";
const AUD: &str = "orders-api";

struct Server {
    origin: String,
    api_hits: Arc<AtomicUsize>,
}

/// Serves `/token`, `/orders` (behind a DpopLayer with `policy`) and `/always-nonce`.
async fn start(nonces: bool, policy: impl FnOnce(&str) -> PublicUrlPolicy) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let issuer = Arc::new(TokenIssuer::new(ISS, IssuerKeys::generate().unwrap()));
    let endpoint = Arc::new(TokenEndpoint::new(format!("{origin}/token")));
    let token_route = {
        let (issuer, endpoint) = (issuer.clone(), endpoint.clone());
        post(move |headers: HeaderMap| async move {
            let proofs: Vec<&str> = headers
                .get_all("dpop")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            let now = UnixTime::now();
            match endpoint.check(&proofs, None, now) {
                Ok(proof) => {
                    let grant = TokenRequest::new("alice", AUD, "test", proof.thumbprint())
                        .with_scope("orders:read");
                    let issued = issuer.issue(&grant, now).unwrap();
                    (StatusCode::OK, token_response(&issued, None, None))
                }
                Err(error) => (StatusCode::BAD_REQUEST, error_response(&error).body),
            }
        })
    };
    let mut proofs = ProofVerifier::new();
    if nonces {
        proofs = proofs.with_nonces(NonceEngine::generate().unwrap());
    }
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(proofs);
    let api_hits = Arc::new(AtomicUsize::new(0));
    let counter = api_hits.clone();
    let counting = axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                next.run(request).await
            }
        },
    );
    let api = Router::new()
        .route(
            "/orders",
            get(|who: Authorized| async move { who.subject().to_owned() }),
        )
        .layer(DpopLayer::new(Arc::new(guard), policy(&origin)).require_scope("orders:read"))
        .layer(counting);
    // Always answers 401 use_dpop_nonce with a brand-new nonce.
    let always_hits = api_hits.clone();
    let always = get(move || {
        let hits = always_hits.clone();
        async move {
            let n = hits.fetch_add(1, Ordering::SeqCst);
            (
                StatusCode::UNAUTHORIZED,
                [
                    (
                        "www-authenticate",
                        r#"DPoP error="use_dpop_nonce", algs="ES256 ES384 ES512 Ed25519 EdDSA RS256 RS384 RS512 PS256 PS384 PS512""#.to_owned(),
                    ),
                    ("dpop-nonce", format!("nonce-{n}")),
                ],
            )
        }
    });
    let app = api
        .route("/token", token_route)
        .route("/always-nonce", always);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Server { origin, api_hits }
}

fn client() -> DpopClient {
    DpopClient::new(
        reqwest::Client::builder(),
        ProofSigner::new(SigningKey::generate().unwrap()),
    )
    .unwrap()
}

async fn fetch_token(client: &DpopClient, server: &Server) -> String {
    client
        .request_token(
            &format!("{}/token", server.origin),
            &[("grant_type", "client_credentials")],
        )
        .await
        .unwrap()
        .access_token
}

async fn get_orders(client: &DpopClient, url: &str, token: &str) -> reqwest::Response {
    let request = reqwest::Client::new().get(url).build().unwrap();
    client.execute(request, Some(token)).await.unwrap()
}

#[tokio::test]
async fn token_then_protected_call_succeeds() {
    let server = start(false, |origin| PublicUrlPolicy::new(origin).unwrap()).await;
    let client = client();
    let token = fetch_token(&client, &server).await;
    let response = get_orders(&client, &format!("{}/orders", server.origin), &token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "alice");
    assert_eq!(server.api_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn nonce_challenge_then_one_retry_then_success() {
    let server = start(true, |origin| PublicUrlPolicy::new(origin).unwrap()).await;
    let client = client();
    let token = fetch_token(&client, &server).await;
    let url = format!("{}/orders", server.origin);
    let response = get_orders(&client, &url, &token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        server.api_hits.load(Ordering::SeqCst),
        2,
        "challenge + retry"
    );
    assert!(client.nonce_for(&server.origin).is_some());
    // The cached nonce is used straight away next time: one request.
    let response = get_orders(&client, &url, &token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(server.api_hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn stolen_token_is_refused() {
    let server = start(false, |origin| PublicUrlPolicy::new(origin).unwrap()).await;
    let token = fetch_token(&client(), &server).await;
    let thief = client();
    let response = get_orders(&thief, &format!("{}/orders", server.origin), &token).await;
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn exactly_one_retry_when_the_server_always_wants_a_new_nonce() {
    let server = start(false, |origin| PublicUrlPolicy::new(origin).unwrap()).await;
    let client = client();
    let response = get_orders(&client, &format!("{}/always-nonce", server.origin), "tok").await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        server.api_hits.load(Ordering::SeqCst),
        2,
        "one request and one retry, never more"
    );
}

/// Sends a request to `actual_url` whose proof names `public_url`, as if a proxy sat between.
async fn via_proxy(
    client: &DpopClient,
    token: &str,
    actual_url: &str,
    public_url: &str,
    headers: &[(&str, &str)],
) -> u16 {
    let proof = client
        .signer()
        .proof("GET", public_url)
        .with_access_token(token)
        .sign(UnixTime::now())
        .unwrap();
    let mut request = reqwest::Client::new()
        .get(actual_url)
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn proxy_prefix_policy() {
    let server = start(false, |_| {
        PublicUrlPolicy::new("https://api.example.com")
            .unwrap()
            .with_path_prefix("/v1")
            .unwrap()
    })
    .await;
    let client = client();
    let token = fetch_token(&client, &server).await;
    let actual = format!("{}/orders", server.origin);
    assert_eq!(
        via_proxy(
            &client,
            &token,
            &actual,
            "https://api.example.com/v1/orders",
            &[]
        )
        .await,
        200
    );
    assert_eq!(
        via_proxy(
            &client,
            &token,
            &actual,
            "https://api.example.com/orders",
            &[]
        )
        .await,
        401
    );
    assert_eq!(via_proxy(&client, &token, &actual, &actual, &[]).await, 401);
}

#[tokio::test]
async fn forwarded_headers_trusted_and_untrusted() {
    let forwarded = [
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "edge.example.com"),
        ("x-forwarded-prefix", "/api"),
    ];
    let public = "https://edge.example.com/api/orders";

    let trusting = start(false, |origin| {
        PublicUrlPolicy::new(origin)
            .unwrap()
            .with_origin("https://edge.example.com")
            .unwrap()
            .behind(TrustedProxy::x_forwarded().with_prefix())
    })
    .await;
    let client = client();
    let token = fetch_token(&client, &trusting).await;
    let actual = format!("{}/orders", trusting.origin);
    assert_eq!(
        via_proxy(&client, &token, &actual, public, &forwarded).await,
        200
    );

    // Not trusted: the forwarded headers are ignored, the proof for the edge URL fails, and a
    // client cannot steer the expected URL.
    let strict = start(false, |origin| PublicUrlPolicy::new(origin).unwrap()).await;
    let token = fetch_token(&client, &strict).await;
    let actual = format!("{}/orders", strict.origin);
    assert_eq!(
        via_proxy(&client, &token, &actual, public, &forwarded).await,
        401
    );
    assert_eq!(
        via_proxy(&client, &token, &actual, &actual, &forwarded).await,
        200
    );
}

/// An authorization server and an API on one origin, each with nonces of its own: the client
/// keeps one nonce per role, so neither overwrites the other's and no request needs a second
/// round trip once both are known.
#[tokio::test]
async fn nonces_are_kept_per_origin_and_role() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let issuer = Arc::new(TokenIssuer::new(ISS, IssuerKeys::generate().unwrap()));
    let endpoint = Arc::new(
        TokenEndpoint::new(format!("{origin}/token")).with_proof_verifier(
            ProofVerifier::new().with_nonces(NonceEngine::generate().unwrap()),
        ),
    );
    let token_hits = Arc::new(AtomicUsize::new(0));
    let token_route = {
        let (issuer, endpoint, hits) = (issuer.clone(), endpoint.clone(), token_hits.clone());
        post(move |headers: HeaderMap| async move {
            hits.fetch_add(1, Ordering::SeqCst);
            let proofs: Vec<&str> = headers
                .get_all("dpop")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            let now = UnixTime::now();
            match endpoint.check(&proofs, None, now) {
                Ok(proof) => {
                    let grant = TokenRequest::new("alice", AUD, "test", proof.thumbprint())
                        .with_scope("orders:read");
                    let issued = issuer.issue(&grant, now).unwrap();
                    (
                        StatusCode::OK,
                        HeaderMap::new(),
                        token_response(&issued, None, None),
                    )
                }
                Err(error) => {
                    let answer = error_response(&error);
                    let mut headers = HeaderMap::new();
                    if let Some(nonce) = &answer.dpop_nonce {
                        headers.insert("dpop-nonce", nonce.parse().unwrap());
                    }
                    (StatusCode::BAD_REQUEST, headers, answer.body)
                }
            }
        })
    };
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(ProofVerifier::new().with_nonces(NonceEngine::generate().unwrap()));
    let app = Router::new()
        .route(
            "/orders",
            get(|who: Authorized| async move { who.subject().to_owned() }),
        )
        .layer(DpopLayer::new(
            Arc::new(guard),
            PublicUrlPolicy::new(&origin).unwrap(),
        ))
        .route("/token", token_route);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = client();
    let url = format!("{origin}/token");
    let token = client
        .request_token(&url, &[("grant_type", "client_credentials")])
        .await
        .unwrap()
        .access_token;
    assert_eq!(
        token_hits.load(Ordering::SeqCst),
        2,
        "nonce challenge + retry"
    );
    let response = get_orders(&client, &format!("{origin}/orders"), &token).await;
    assert_eq!(response.status(), 200);
    let (as_nonce, rs_nonce) = (
        client.authorization_server_nonce_for(&origin),
        client.nonce_for(&origin),
    );
    assert!(as_nonce.is_some() && rs_nonce.is_some());
    assert_ne!(as_nonce, rs_nonce);
    // The API's nonce did not replace the token endpoint's: the next token request is one trip.
    client
        .request_token(&url, &[("grant_type", "client_credentials")])
        .await
        .unwrap();
    assert_eq!(token_hits.load(Ordering::SeqCst), 3);
}
