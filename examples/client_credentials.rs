//! A service that gets DPoP-bound tokens from an authorization server it did not build, with
//! the `client_credentials` grant and `client_secret_basic` or `private_key_jwt`, and keeps
//! them fresh with a `TokenSource`.
//!
//! ```sh
//! # client_secret_basic
//! KEYBOUND_CLIENT_ID=my-service KEYBOUND_CLIENT_SECRET=s3cret \
//!   cargo run --example client_credentials --features reqwest -- http://127.0.0.1:3000
//! # private_key_jwt, with the client's private key as PEM (PKCS#8) or a private JWK
//! KEYBOUND_CLIENT_ID=my-service KEYBOUND_CLIENT_KEY=client-key.pem \
//!   cargo run --example client_credentials --features reqwest -- http://127.0.0.1:3000
//! ```
//!
//! The issuer comes from the first argument or `KEYBOUND_ISSUER`; its endpoints from discovery
//! (RFC 8414, then OpenID Connect). Optional: `KEYBOUND_SCOPE`, `KEYBOUND_RESOURCE` (an RFC 8707
//! resource indicator), `KEYBOUND_CLIENT_KEY_ID` (the assertion's `kid`), and `KEYBOUND_API`, a
//! URL to call with the token.
//!
//! reqwest is built here without TLS (the crate turns its default features off): this runs
//! against `http://` loopback servers as is; for `https://` add reqwest with a TLS feature
//! (e.g. `rustls`) to your own dependencies.

use std::sync::Arc;

use keybound::{
    AuthorizationServerEndpoints, AuthorizationServerMetadata, ClientAssertionOptions, ClientAuth,
    DpopClient, Grant, ProofSigner, SigningKey, TokenSource,
};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `private_key_jwt` when `KEYBOUND_CLIENT_KEY` names a key file, else `client_secret_basic`.
fn client_auth(client_id: String) -> Result<ClientAuth, Box<dyn std::error::Error>> {
    if let Some(path) = env("KEYBOUND_CLIENT_KEY") {
        let text = std::fs::read_to_string(&path)?;
        let key = if text.trim_start().starts_with('{') {
            SigningKey::from_jwk(&text)?
        } else {
            SigningKey::from_pem(&text)?
        };
        let mut options = ClientAssertionOptions::new();
        if let Some(kid) = env("KEYBOUND_CLIENT_KEY_ID") {
            options = options.with_key_id(kid);
        }
        return Ok(ClientAuth::private_key_jwt_with_options(
            client_id,
            Arc::new(key),
            options,
        ));
    }
    let secret = env("KEYBOUND_CLIENT_SECRET")
        .ok_or("set KEYBOUND_CLIENT_SECRET (client_secret_basic) or KEYBOUND_CLIENT_KEY")?;
    Ok(ClientAuth::secret_basic(client_id, secret))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(issuer) = std::env::args().nth(1).or_else(|| env("KEYBOUND_ISSUER")) else {
        eprintln!("usage: client_credentials <issuer URL>   (see the example's doc comment)");
        std::process::exit(2);
    };
    let client_id = env("KEYBOUND_CLIENT_ID").ok_or("set KEYBOUND_CLIENT_ID")?;
    let auth = client_auth(client_id)?;

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let metadata = AuthorizationServerMetadata::discover(&issuer, &http).await?;
    let endpoints = AuthorizationServerEndpoints::from_metadata(&metadata)?;
    println!("issuer          {}", endpoints.issuer());
    println!("token endpoint  {}", endpoints.token_endpoint());
    println!("authentication  {}", auth.method());

    // A fresh DPoP key for this run; a long-running service keeps one per process (or in an
    // HSM, through `JwsSigner`).
    // Builds its own reqwest client, redirects off whatever the builder says.
    let client = Arc::new(DpopClient::new(
        reqwest::Client::builder(),
        ProofSigner::new(SigningKey::generate()?),
    )?);
    println!(
        "DPoP key        {}",
        client.signer().thumbprint().to_base64url()
    );

    let mut grant = Grant::client_credentials();
    if let Some(scope) = env("KEYBOUND_SCOPE") {
        grant = grant.with_scope(scope);
    }
    if let Some(resource) = env("KEYBOUND_RESOURCE") {
        grant = grant.with_resource(resource);
    }
    let tokens = TokenSource::new(client.clone(), endpoints, auth, grant);

    let first = tokens.access_token().await?;
    let again = tokens.access_token().await?;
    println!(
        "access token    {} bytes (the second call {} the cache)",
        first.len(),
        if *first == *again { "hit" } else { "missed" }
    );

    if let Some(api) = env("KEYBOUND_API") {
        let response = tokens.execute(http.get(&api).build()?).await?;
        println!("GET {api} -> {}", response.status());
    }
    Ok(())
}
