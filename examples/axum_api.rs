//! A DPoP-protected API with axum in a few lines.
//!
//! ```sh
//! keybound keygen --out issuer.jwk && keybound jwks --key issuer.jwk > jwks.json
//! cargo run --example axum_api --features axum -- jwks.json 127.0.0.1:3000
//! keybound keygen --out client.jwk
//! TOKEN=$(keybound issue --key issuer.jwk --iss https://as.example.com --aud orders-api \
//!         --sub alice --scope orders:read --jkt "$(keybound thumbprint --key client.jwk)")
//! curl -H "Authorization: DPoP $TOKEN" -H "DPoP: $(keybound proof --key client.jwk \
//!      --method GET --url http://127.0.0.1:3000/orders --access-token "$TOKEN")" http://127.0.0.1:3000/orders
//! ```

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use keybound::{Authorized, DpopLayer, KeySet, PublicUrlPolicy, RequestGuard, TokenVerifier};

async fn orders(who: Authorized) -> String {
    format!("orders of {} (client {})\n", who.subject(), who.client_id())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let jwks = std::fs::read_to_string(args.next().ok_or("usage: axum_api JWKS_FILE [ADDR]")?)?;
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3000".into());

    // Tokens from this issuer for this API; proofs for the URL clients use (never the Host header).
    let tokens = TokenVerifier::new(
        "https://as.example.com",
        "orders-api",
        KeySet::from_jwks(&jwks)?,
    );
    let guard = Arc::new(RequestGuard::new(tokens));
    let public = PublicUrlPolicy::new(&format!("http://{addr}"))?;

    let app = Router::new()
        .route("/orders", get(orders))
        .layer(DpopLayer::new(guard, public).require_scope("orders:read"));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{addr}");
    axum::serve(listener, app).await?;
    Ok(())
}
