//! An axum API behind an authorization server it did not build: discovery, a key set that
//! keeps itself current, optional introspection of opaque tokens, RFC 9728 metadata.
//!
//! ```sh
//! # ISSUER: the issuer identifier; API: this API's URL (the `aud` / resource indicator).
//! ISSUER=https://login.example.com API=http://127.0.0.1:3000 \
//!   INTROSPECTION_CLIENT=orders-api INTROSPECTION_SECRET=... \
//!   cargo run --example external_issuer --features axum,reqwest
//! ```
//!
//! `tests/oidc_provider.rs` runs the same setup against a real node-oidc-provider.

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use keybound::{
    AuthorizationServerMetadata, Authorized, ClientAuth, DpopLayer, Introspector,
    ProtectedResourceMetadata, ProtectedResourceMetadataService, PublicUrlPolicy, RemoteKeySet,
    RequestGuard, SystemClock, UnixTime,
};

async fn orders(who: Authorized) -> String {
    format!("orders of {} (client {})\n", who.subject(), who.client_id())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = std::env::var("ISSUER").map_err(|_| "set ISSUER to the issuer identifier")?;
    let api = std::env::var("API").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;

    // The issuer's metadata, and its keys, fetched now and kept current in the background.
    let metadata = AuthorizationServerMetadata::discover(&issuer, &http).await?;
    let keys = RemoteKeySet::from_metadata(&metadata, http.clone())?;
    keys.refresh(UnixTime::now()).await?;
    tokio::spawn(keys.clone().keep_current(Arc::new(SystemClock)));

    // RFC 9728: which authorization server issues tokens for this API, and that they are bound.
    let resource = ProtectedResourceMetadata::new(api.clone())?
        .with_authorization_server(issuer.clone())?
        .with_dpop_algorithms(metadata.dpop_signing_alg_values_supported());
    let mut guard = RequestGuard::new(keys.verifier(issuer.clone(), api.clone()))
        .with_resource_metadata(resource.url())?;
    // Opaque tokens go to the introspection endpoint, when credentials for it are given.
    if let (Ok(id), Ok(secret)) = (
        std::env::var("INTROSPECTION_CLIENT"),
        std::env::var("INTROSPECTION_SECRET"),
    ) {
        let introspector = Introspector::from_metadata(&metadata, api.clone(), http)?
            .with_client_auth(ClientAuth::secret_basic(id, secret));
        guard = guard.with_introspection(introspector);
    }

    let addr = api
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:3000")
        .to_owned();
    let app = Router::new()
        .route("/orders", get(orders))
        .layer(DpopLayer::new(Arc::new(guard), PublicUrlPolicy::new(&api)?))
        .route_service(
            &resource.path(),
            ProtectedResourceMetadataService::new(&resource),
        );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {api}, tokens from {issuer}");
    axum::serve(listener, app).await?;
    Ok(())
}
