//! Discovery (RFC 8414, OpenID Connect Discovery) through a scripted transport: which URLs are
//! asked, the fallback, the issuer check, limits; then a `RemoteKeySet` from the metadata.

use std::collections::HashMap;
use std::sync::Mutex;

use keybound::{
    AuthorizationServerMetadata, HttpMethod, HttpResponse, HttpTransport, OutgoingRequest,
    RemoteKeySet, UpstreamError, MAX_METADATA_LEN,
};

/// Answers by URL; anything else is a 404. Records what was asked.
#[derive(Default)]
struct Server {
    documents: HashMap<String, HttpResponse>,
    asked: Mutex<Vec<(String, usize)>>,
}

impl Server {
    fn with(mut self, url: &str, response: HttpResponse) -> Self {
        self.documents.insert(url.to_owned(), response);
        self
    }

    fn asked(&self) -> Vec<String> {
        self.asked
            .lock()
            .unwrap()
            .iter()
            .map(|(u, _)| u.clone())
            .collect()
    }
}

impl HttpTransport for Server {
    fn send<'a>(
        &'a self,
        request: OutgoingRequest<'a>,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<HttpResponse, UpstreamError>> + Send + 'a>,
    > {
        assert_eq!(request.method, HttpMethod::Get);
        assert!(request.headers.contains(&("accept", "application/json")));
        self.asked
            .lock()
            .unwrap()
            .push((request.url.to_owned(), request.max_body));
        let answer = self
            .documents
            .get(request.url)
            .cloned()
            .unwrap_or_else(|| HttpResponse::new(404, "not found"));
        Box::pin(async move { Ok(answer) })
    }
}

fn metadata(issuer: &str) -> HttpResponse {
    HttpResponse::new(
        200,
        format!(
            r#"{{"issuer":"{issuer}","jwks_uri":"{issuer}/jwks","token_endpoint":"{issuer}/token",
            "dpop_signing_alg_values_supported":["ES256","RS256"]}}"#
        ),
    )
}

#[tokio::test]
async fn rfc8414_first() {
    let issuer = "https://as.example.com/tenant";
    let server = Server::default().with(
        "https://as.example.com/.well-known/oauth-authorization-server/tenant",
        metadata(issuer),
    );
    let found = AuthorizationServerMetadata::discover(issuer, &server)
        .await
        .unwrap();
    assert_eq!(found.issuer(), issuer);
    assert_eq!(found.jwks_uri(), Some("https://as.example.com/tenant/jwks"));
    assert_eq!(
        found.dpop_signing_alg_values_supported().to_names(),
        "ES256 RS256"
    );
    assert_eq!(server.asked().len(), 1);
    assert_eq!(server.asked.lock().unwrap()[0].1, MAX_METADATA_LEN);
}

#[tokio::test]
async fn openid_configuration_when_rfc8414_is_missing() {
    let issuer = "https://login.example.com";
    let server = Server::default().with(
        "https://login.example.com/.well-known/openid-configuration",
        metadata(issuer),
    );
    let found = AuthorizationServerMetadata::discover(issuer, &server)
        .await
        .unwrap();
    assert_eq!(
        found.token_endpoint(),
        Some("https://login.example.com/token")
    );
    assert_eq!(
        server.asked(),
        [
            "https://login.example.com/.well-known/oauth-authorization-server",
            "https://login.example.com/.well-known/openid-configuration"
        ]
    );
}

#[tokio::test]
async fn another_issuer_in_the_document_is_refused() {
    let issuer = "https://as.example.com";
    let server = Server::default().with(
        "https://as.example.com/.well-known/oauth-authorization-server",
        metadata("https://attacker.example.com"),
    );
    assert_eq!(
        AuthorizationServerMetadata::discover(issuer, &server).await,
        Err(UpstreamError::IssuerMismatch)
    );
}

#[tokio::test]
async fn failures_are_typed() {
    let issuer = "https://as.example.com";
    let well_known = "https://as.example.com/.well-known/oauth-authorization-server";
    for (answer, error) in [
        (HttpResponse::new(500, ""), UpstreamError::Status(500)),
        (HttpResponse::new(200, "<html>"), UpstreamError::Malformed),
        (
            HttpResponse::new(200, vec![b' '; MAX_METADATA_LEN + 1]),
            UpstreamError::TooLarge,
        ),
    ] {
        let server = Server::default().with(well_known, answer);
        assert_eq!(
            AuthorizationServerMetadata::discover(issuer, &server).await,
            Err(error)
        );
    }
    let nothing = Server::default();
    assert_eq!(
        AuthorizationServerMetadata::discover(issuer, &nothing).await,
        Err(UpstreamError::Status(404))
    );
    assert_eq!(
        AuthorizationServerMetadata::discover("http://as.example.com", &nothing).await,
        Err(UpstreamError::InsecureUrl)
    );
    assert_eq!(
        nothing.asked().len(),
        2,
        "the insecure issuer was never fetched"
    );
}

#[tokio::test]
async fn a_key_set_from_the_metadata() {
    let issuer = "https://as.example.com";
    let found = AuthorizationServerMetadata::from_json(
        issuer,
        br#"{"issuer":"https://as.example.com","jwks_uri":"https://keys.example.com/as.jwks"}"#,
    )
    .unwrap();
    let keys = RemoteKeySet::from_metadata(&found, Server::default()).unwrap();
    assert_eq!(keys.jwks_uri(), "https://keys.example.com/as.jwks");
    let none =
        AuthorizationServerMetadata::from_json(issuer, br#"{"issuer":"https://as.example.com"}"#)
            .unwrap();
    assert_eq!(
        RemoteKeySet::from_metadata(&none, Server::default()).err(),
        Some(UpstreamError::MissingEndpoint("jwks_uri"))
    );
}
