//! A DPoP client with reqwest: get a bound token, call an API, follow nonce challenges — with
//! `DpopClient`, then again through a `reqwest-middleware` chain (`DpopClientMiddleware`).
//!
//! Self-contained: starts a small authorization server (its token endpoint over `http` types:
//! `TokenEndpoint::check_http`, `token_http_response`, `ErrorResponse` as a response) and a
//! nonce-requiring API on loopback (axum), then plays the client.
//!
//! ```sh
//! cargo run --example reqwest_client --features axum,reqwest-middleware
//! ```

use std::sync::Arc;

use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use keybound::{
    error_response, token_http_response, token_response, Authorized, DpopClient, DpopLayer,
    IssuerKeys, NonceEngine, ProofSigner, ProofVerifier, PublicUrlPolicy, RequestGuard, SigningKey,
    TokenEndpoint, TokenIssuer, TokenRequest, TokenVerifier, UnixTime,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin = format!("http://{}", listener.local_addr()?);

    // Authorization server: POST /token binds tokens to the proof key.
    let issuer = Arc::new(TokenIssuer::new(
        "https://as.example.com",
        IssuerKeys::generate()?,
    ));
    let endpoint = Arc::new(TokenEndpoint::new(format!("{origin}/token")));
    let token_route = {
        let (issuer, endpoint) = (issuer.clone(), endpoint.clone());
        post(move |request: Request| async move {
            let now = UnixTime::now();
            let proof = match endpoint.check_http(&request, None, now) {
                Ok(proof) => proof,
                Err(error) => return error_response(&error).into_response(),
            };
            let grant = TokenRequest::new("alice", "orders-api", "example", proof.thumbprint());
            match issuer.issue(&grant, now) {
                Ok(issued) => token_http_response(token_response(&issued, None, None), &proof),
                Err(error) => error_response(&error).into_response(),
            }
        })
    };

    // API: GET /orders requires DPoP and, on top, server nonces.
    let tokens = TokenVerifier::new(
        "https://as.example.com",
        "orders-api",
        issuer.keys().key_set(),
    );
    let guard = RequestGuard::new(tokens)
        .with_proof_verifier(ProofVerifier::new().with_nonces(NonceEngine::generate()?));
    let api = Router::new()
        .route(
            "/orders",
            get(|who: Authorized| async move { format!("orders of {}", who.subject()) }),
        )
        .layer(DpopLayer::new(
            Arc::new(guard),
            PublicUrlPolicy::new(&origin)?,
        ));
    let app = api.route("/token", token_route);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The client: one key, a fresh proof per request, nonces handled for it.
    let client = DpopClient::new(
        reqwest::Client::builder(),
        ProofSigner::new(SigningKey::generate()?),
    )?;
    let token = client
        .request_token(
            &format!("{origin}/token"),
            &[("grant_type", "client_credentials")],
        )
        .await?;
    println!("token_type: {}", token.token_type);
    let request = reqwest::Client::new()
        .get(format!("{origin}/orders"))
        .build()?;
    let response = client.execute(request, Some(&token.access_token)).await?;
    println!(
        "GET /orders -> {} {}",
        response.status(),
        response.text().await?
    );

    // The same call down a reqwest-middleware chain: the middleware shares the client's
    // nonces, so no new challenge.
    let chain = reqwest_middleware::ClientBuilder::new(client.http_client().clone())
        .with(client.middleware())
        .build();
    let response = chain
        .get(format!("{origin}/orders"))
        .header("authorization", format!("DPoP {}", token.access_token))
        .send()
        .await?;
    println!(
        "GET /orders (middleware) -> {} {}",
        response.status(),
        response.text().await?
    );
    Ok(())
}
