//! Over loopback with reqwest and axum: a `RemoteKeySet` fetching a real HTTP `jwks_uri`
//! (Cache-Control, streamed oversized bodies, timeouts), a guarded API that names its RFC 9728
//! metadata in challenges, and the metadata route.

use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use keybound::{
    AlgorithmSet, Authorized, DpopClient, DpopLayer, IssuerKeys, ProofSigner,
    ProtectedResourceMetadata, ProtectedResourceMetadataService, PublicUrlPolicy, RemoteKeySet,
    RemoteKeySetOptions, RequestGuard, SigningKey, TokenIssuer, TokenRequest, UnixTime,
    UpstreamError,
};

const ISS: &str = "https://as.example.com";

struct Server {
    origin: String,
    issuer: Arc<TokenIssuer>,
    keys: RemoteKeySet,
}

async fn start() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let issuer = Arc::new(TokenIssuer::new(ISS, IssuerKeys::generate().unwrap()));
    let jwks = issuer.keys().jwks();
    let keys = RemoteKeySet::new(format!("{origin}/jwks"), reqwest::Client::new()).unwrap();
    let metadata = ProtectedResourceMetadata::new(origin.clone())
        .unwrap()
        .with_authorization_server(ISS)
        .unwrap()
        .with_scopes(["orders:read"])
        .with_dpop_algorithms(AlgorithmSet::all());
    let guard = RequestGuard::new(keys.verifier(ISS, origin.clone()))
        .with_resource_metadata(metadata.url())
        .unwrap();
    let app = Router::new()
        .route(
            "/orders",
            get(|who: Authorized| async move { who.subject().to_owned() }),
        )
        .layer(DpopLayer::new(
            Arc::new(guard),
            PublicUrlPolicy::new(&origin).unwrap(),
        ))
        .route(
            "/jwks",
            get(move || {
                let jwks = jwks.clone();
                async move { ([("cache-control", "public, max-age=120")], jwks) }
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "{}"
            }),
        )
        .route_service(
            &metadata.path(),
            ProtectedResourceMetadataService::new(&metadata),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Server {
        origin,
        issuer,
        keys,
    }
}

/// A raw HTTP/1.1 server answering every connection with a chunked body of `chunks` × 8 KiB
/// and no `Content-Length`: the limit must hold while reading.
async fn chunked_server(chunks: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("2000\r\n{}\r\n", " ".repeat(8192));
                for _ in 0..chunks {
                    if socket.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    origin
}

#[tokio::test]
async fn a_real_jwks_uri_with_cache_control() {
    let server = start().await;
    let now = UnixTime::now();
    server.keys.refresh(now).await.unwrap();
    assert_eq!(server.keys.refresh_at(), now.saturating_add(90));
    assert_eq!(server.keys.current(now).unwrap().len(), 1);

    let client = DpopClient::new(
        reqwest::Client::builder(),
        ProofSigner::new(SigningKey::generate().unwrap()),
    )
    .unwrap();
    let grant = TokenRequest::new("alice", &server.origin, "app", client.signer().thumbprint());
    let token = server.issuer.issue(&grant, now).unwrap().access_token;
    let url = format!("{}/orders", server.origin);
    let request = reqwest::Client::new().get(&url).build().unwrap();
    let response = client.execute(request, Some(&token)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "alice");

    // A refused request points at the metadata (RFC 9728 §5.1).
    let response = reqwest::Client::new().get(&url).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(&format!(
            r#"resource_metadata="{}/.well-known/oauth-protected-resource""#,
            server.origin
        )),
        "{challenge}"
    );
}

#[tokio::test]
async fn the_metadata_route() {
    let server = start().await;
    let url = format!("{}/.well-known/oauth-protected-resource", server.origin);
    let response = reqwest::Client::new().get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: serde_json::Value =
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(document["resource"], server.origin.as_str());
    assert_eq!(document["authorization_servers"][0], ISS);
    assert_eq!(document["dpop_bound_access_tokens_required"], true);
    assert_eq!(document["bearer_methods_supported"][0], "header");
    assert_eq!(document["dpop_signing_alg_values_supported"][0], "ES256");
    let post = reqwest::Client::new().post(&url).send().await.unwrap();
    assert_eq!(post.status(), 405);
}

#[tokio::test]
async fn oversized_and_slow_answers_fail_typed() {
    let server = start().await;
    let big = RemoteKeySet::new(
        format!("{}/jwks", chunked_server(40).await),
        reqwest::Client::new(),
    )
    .unwrap()
    .with_options(RemoteKeySetOptions::new().with_max_jwks_len(64 * 1024));
    assert_eq!(
        big.refresh(UnixTime::now()).await,
        Err(UpstreamError::TooLarge)
    );
    let slow = RemoteKeySet::new(format!("{}/slow", server.origin), reqwest::Client::new())
        .unwrap()
        .with_options(RemoteKeySetOptions::new().with_timeout(Duration::from_millis(200)));
    let started = std::time::Instant::now();
    assert_eq!(
        slow.refresh(UnixTime::now()).await,
        Err(UpstreamError::Unreachable)
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    let closed = RemoteKeySet::new("http://127.0.0.1:9/jwks", reqwest::Client::new()).unwrap();
    assert_eq!(
        closed.refresh(UnixTime::now()).await,
        Err(UpstreamError::Unreachable)
    );
}
