//! The `tracing` feature: one event per rejection with the reason, status, code and principal,
//! a timed span per check, and never a token, proof, nonce or key in what is recorded.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use common::*;
use http::Request;
use keybound::{
    Authorized, DpopLayer, FixedClock, IssuerKeys, NonceEngine, ProofSigner, ProofVerifier,
    PublicUrlPolicy, RequestGuard, SigningKey, TokenIssuer, TokenRequest, TokenVerifier,
};
use tower::ServiceExt;
use tracing_subscriber::fmt::format::FmtSpan;

const ISS: &str = "https://as.example.com";
const AUD: &str = "orders-api";
const ORIGIN: &str = "https://api.example.com";

/// Everything the subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn subscriber(out: &Captured) -> impl tracing::Subscriber + Send + Sync {
    let out = out.clone();
    tracing_subscriber::fmt()
        .with_writer(move || out.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .finish()
}

fn request(client: &ProofSigner, token: &str, url: &str, nonce: Option<&str>) -> Request<Body> {
    let mut proof = client.proof("GET", url).with_access_token(token);
    if let Some(nonce) = nonce {
        proof = proof.with_nonce(nonce);
    }
    Request::get("/orders")
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof.sign(now()).unwrap())
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn rejections_are_reported_without_secrets() {
    let out = Captured::default();
    let _subscriber = tracing::subscriber::set_default(subscriber(&out));

    let issuer_keys = IssuerKeys::generate().unwrap();
    let issuer = TokenIssuer::new(ISS, issuer_keys);
    let nonces = NonceEngine::generate().unwrap();
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(ProofVerifier::new().with_nonces(nonces));
    let urls = PublicUrlPolicy::new(ORIGIN).unwrap();
    let layer = DpopLayer::new(Arc::new(guard), urls)
        .with_clock(Arc::new(FixedClock(now())))
        .require_scope("orders:write");
    let app = Router::new()
        .route(
            "/orders",
            get(|who: Authorized| async move { who.subject().to_owned() }),
        )
        .layer(layer);

    let client_key = SigningKey::generate().unwrap();
    let client_jwk = client_key.to_jwk();
    let client = ProofSigner::new(client_key);
    let grant =
        TokenRequest::new("alice", AUD, "app", client.thumbprint()).with_scope("orders:read");
    let token = issuer.issue(&grant, now()).unwrap().access_token;
    let url = format!("{ORIGIN}/orders");

    // 1. No nonce: 401 use_dpop_nonce, with a fresh nonce in DPoP-Nonce.
    let first = request(&client, &token, &url, None);
    let first_proof = first.headers()["dpop"].to_str().unwrap().to_owned();
    let response = app.clone().oneshot(first).await.unwrap();
    assert_eq!(response.status(), 401);
    let nonce = response.headers()["dpop-nonce"]
        .to_str()
        .unwrap()
        .to_owned();

    // 2. With the nonce but the proof for another URL: an htu mismatch.
    let wrong_url = request(
        &client,
        &token,
        "https://api.example.com/other",
        Some(&nonce),
    );
    assert_eq!(app.clone().oneshot(wrong_url).await.unwrap().status(), 401);

    // 3. Right URL and nonce, but the token lacks orders:write: 403 naming alice.
    let lacking = request(&client, &token, &url, Some(&nonce));
    let lacking_proof = lacking.headers()["dpop"].to_str().unwrap().to_owned();
    assert_eq!(app.clone().oneshot(lacking).await.unwrap().status(), 403);

    let text = out.text();
    let events: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("request refused"))
        .collect();
    assert_eq!(events.len(), 3, "{text}");
    assert!(events[0].contains("keybound::rejection"), "{}", events[0]);
    assert!(
        events[0].contains("reason=\"missing_nonce\""),
        "{}",
        events[0]
    );
    assert!(events[0].contains("status=401"), "{}", events[0]);
    assert!(
        events[0].contains("error=\"use_dpop_nonce\""),
        "{}",
        events[0]
    );
    assert!(events[0].contains("sub=\"alice\""), "{}", events[0]);
    assert!(
        events[1].contains("reason=\"htu_mismatch\""),
        "{}",
        events[1]
    );
    assert!(events[1].contains("received"), "{}", events[1]);
    assert!(events[1].contains("/other"), "{}", events[1]);
    let jkt = client.thumbprint().to_base64url();
    for field in [
        "reason=\"insufficient_scope\"",
        "status=403",
        "sub=\"alice\"",
        "client_id=\"app\"",
        "iss=\"https://as.example.com\"",
    ] {
        assert!(events[2].contains(field), "{field}: {}", events[2]);
    }
    assert!(
        events[2].contains(&format!("jkt=\"{jkt}\"")),
        "{}",
        events[2]
    );
    // One timed span per check.
    let spans = text
        .lines()
        .filter(|l| l.contains("keybound.check") && l.contains("time.busy"));
    assert_eq!(spans.count(), 3, "{text}");

    // Nothing secret: not the token nor any part of it, not a proof, not the nonce, not a key.
    let private_d = client_jwk
        .split("\"d\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let mut secrets: Vec<&str> = token.split('.').collect();
    secrets.extend(first_proof.split('.'));
    secrets.extend(lacking_proof.split('.'));
    secrets.extend([nonce.as_str(), private_d]);
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} leaked into:\n{text}");
    }
}

#[test]
fn a_synchronous_check_reports_too() {
    let out = Captured::default();
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()));
    let urls = PublicUrlPolicy::new(ORIGIN).unwrap();
    let bare = Request::get("/orders").body(()).unwrap();
    tracing::subscriber::with_default(subscriber(&out), || {
        let refused = guard.check_http(&bare, &urls, now()).unwrap_err();
        assert_eq!(refused.status(), 401);
    });
    let text = out.text();
    let event = text
        .lines()
        .find(|l| l.contains("request refused"))
        .unwrap();
    assert!(event.contains("reason=\"no_credentials\""), "{event}");
    assert!(
        !event.contains("error="),
        "a bare challenge has no code: {event}"
    );
    assert!(text.contains("keybound.check"), "{text}");
}
