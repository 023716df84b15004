//! A DPoP-protected API with actix-web in a few lines: examples/axum_api.rs with actix.
//!
//! ```sh
//! keybound keygen --out issuer.jwk && keybound jwks --key issuer.jwk > jwks.json
//! cargo run --example actix_api --features actix -- jwks.json 127.0.0.1:3000
//! keybound keygen --out client.jwk
//! TOKEN=$(keybound issue --key issuer.jwk --iss https://as.example.com --aud orders-api \
//!         --sub alice --scope orders:read --jkt "$(keybound thumbprint --key client.jwk)")
//! curl -H "Authorization: DPoP $TOKEN" -H "DPoP: $(keybound proof --key client.jwk \
//!      --method GET --url http://127.0.0.1:3000/orders --access-token "$TOKEN")" http://127.0.0.1:3000/orders
//! ```

use std::sync::Arc;

use actix_web::{web, App, HttpServer};
use keybound::{Authorized, DpopMiddleware, KeySet, PublicUrlPolicy, RequestGuard, TokenVerifier};

async fn orders(who: Authorized) -> String {
    format!("orders of {} (client {})\n", who.subject(), who.client_id())
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let jwks = std::fs::read_to_string(args.next().ok_or("usage: actix_api JWKS_FILE [ADDR]")?)?;
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3000".into());

    // Tokens from this issuer for this API; proofs for the URL clients use (never the Host header).
    let tokens = TokenVerifier::new(
        "https://as.example.com",
        "orders-api",
        KeySet::from_jwks(&jwks)?,
    );
    let guard = Arc::new(RequestGuard::new(tokens));
    let public = PublicUrlPolicy::new(&format!("http://{addr}"))?;
    let dpop = DpopMiddleware::new(guard, public).require_scope("orders:read");

    let server = HttpServer::new(move || {
        App::new().service(
            web::resource("/orders")
                .wrap(dpop.clone())
                .route(web::get().to(orders)),
        )
    })
    .bind(&addr)?;
    println!("listening on http://{addr}");
    server.run().await?;
    Ok(())
}
