//! The tower layer and the axum idioms without a network: scope sets, the rejection hook,
//! anonymous requests and `Option<Authorized>`, `Rejection` as a response and as an error,
//! `claims_as`.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use common::*;
use http::{Request, StatusCode};
use keybound::{
    Authorized, DpopLayer, FixedClock, IssuerKeys, ProofSigner, PublicUrlPolicy, Rejection,
    RequestGuard, ScopeRequirement, SigningKey, TokenIssuer, TokenRequest, TokenVerifier,
};
use tower::ServiceExt;

const ISS: &str = "https://as.example.com";
const AUD: &str = "orders-api";
const ORIGIN: &str = "https://api.example.com";

struct Fixture {
    guard: Arc<RequestGuard>,
    client: ProofSigner,
    issuer: TokenIssuer,
}

fn fixture() -> Fixture {
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()));
    Fixture {
        guard: Arc::new(guard),
        client: ProofSigner::new(SigningKey::generate().unwrap()),
        issuer,
    }
}

impl Fixture {
    fn token(&self, scope: &str) -> String {
        let grant = TokenRequest::new("alice", AUD, "app", self.client.thumbprint())
            .with_scope(scope)
            .with_claim("tenant", "acme");
        self.issuer.issue(&grant, now()).unwrap().access_token
    }

    fn request(&self, token: &str) -> Request<Body> {
        let proof = self
            .client
            .proof("GET", &format!("{ORIGIN}/orders"))
            .with_access_token(token)
            .sign(now())
            .unwrap();
        Request::get("/orders")
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", proof)
            .body(Body::empty())
            .unwrap()
    }

    fn layer(&self) -> DpopLayer {
        let urls = PublicUrlPolicy::new(ORIGIN).unwrap();
        DpopLayer::new(self.guard.clone(), urls).with_clock(Arc::new(FixedClock(now())))
    }
}

fn app(layer: DpopLayer) -> Router {
    Router::new()
        .route(
            "/orders",
            get(|who: Option<Authorized>| async move {
                who.map_or_else(|| "anonymous".to_owned(), |who| who.subject().to_owned())
            }),
        )
        .layer(layer)
}

async fn send(app: Router, request: Request<Body>) -> (StatusCode, String, String) {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, challenge, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn any_of_and_all_of_scope_sets() {
    let f = fixture();
    let token = f.token("orders:read profile");
    let cases = [
        (
            ScopeRequirement::any_of(["orders:admin", "orders:read"]),
            true,
        ),
        (
            ScopeRequirement::any_of(["orders:admin", "orders:write"]),
            false,
        ),
        (ScopeRequirement::all_of(["orders:read", "profile"]), true),
        (
            ScopeRequirement::all_of(["orders:read", "orders:write"]),
            false,
        ),
        (ScopeRequirement::any_of([]), false),
    ];
    for (required, allowed) in cases {
        let layer = f.layer().require_scopes(required.clone());
        let (status, challenge, _) = send(app(layer), f.request(&token)).await;
        if allowed {
            assert_eq!(status, StatusCode::OK, "{required:?}");
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN, "{required:?}");
            assert!(
                challenge.contains("error=\"insufficient_scope\""),
                "{challenge}"
            );
        }
    }
    let layer = f
        .layer()
        .require_scopes(ScopeRequirement::all_of(["orders:read", "orders:write"]));
    let (_, challenge, _) = send(app(layer), f.request(&token)).await;
    assert!(
        challenge.contains("scope=\"orders:read orders:write\""),
        "{challenge}"
    );
}

/// What the hook saw: reason, the refused subject if known, status.
type Seen = Arc<Mutex<Vec<(String, Option<String>, u16)>>>;

fn recorder(seen: &Seen) -> impl Fn(&Rejection) + Send + Sync + 'static {
    let seen = seen.clone();
    move |rejection| {
        let who = rejection.claims().map(|c| c.subject().to_owned());
        let entry = (rejection.reason().to_owned(), who, rejection.status());
        seen.lock().unwrap().push(entry);
    }
}

#[tokio::test]
async fn the_hook_sees_every_rejection_with_its_reason_and_principal() {
    let f = fixture();
    let seen = Seen::default();
    let layer = f
        .layer()
        .require_scope("orders:write")
        .on_rejection(recorder(&seen));
    let token = f.token("orders:read");
    // Missing scope: the token was verified, so the rejection names alice.
    let request = f.request(&token);
    assert_eq!(send(app(layer.clone()), request).await.0, 403);
    // No credentials at all (anonymous is not allowed here).
    let bare = Request::get("/orders").body(Body::empty()).unwrap();
    assert_eq!(send(app(layer.clone()), bare).await.0, 401);
    // A broken token: nothing verified, no principal.
    let broken = f.request("not.a.token");
    assert_eq!(send(app(layer.clone()), broken).await.0, 401);
    // A replayed proof: the token verified, the proof's second use refused.
    let layer_ok = f.layer().on_rejection(recorder(&seen));
    let once = f.request(&token);
    let (parts, _) = once.into_parts();
    let again = || Request::from_parts(parts.clone(), Body::empty());
    assert_eq!(send(app(layer_ok.clone()), again()).await.0, 200);
    assert_eq!(send(app(layer_ok), again()).await.0, 401);

    let seen = seen.lock().unwrap().clone();
    let alice = Some("alice".to_owned());
    assert_eq!(
        seen,
        vec![
            ("insufficient_scope".into(), alice.clone(), 403),
            ("no_credentials".into(), None, 401),
            ("invalid_base64url".into(), None, 401),
            ("replayed".into(), alice, 401),
        ]
    );
}

#[tokio::test]
async fn anonymous_requests_pass_only_without_credentials() {
    let f = fixture();
    let layer = f.layer().allow_anonymous();
    let bare = Request::get("/orders").body(Body::empty()).unwrap();
    let (status, _, body) = send(app(layer.clone()), bare).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "anonymous"));

    let token = f.token("orders:read");
    let (status, _, body) = send(app(layer.clone()), f.request(&token)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "alice"));

    // Bad credentials are refused, never downgraded to anonymous.
    let (status, _, _) = send(app(layer.clone()), f.request("not.a.token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let proof_only = Request::get("/orders")
        .header("dpop", "x")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(app(layer), proof_only).await.0, 401);

    // Without allow_anonymous, Option<Authorized> changes nothing: no credentials is a 401.
    let bare = Request::get("/orders").body(Body::empty()).unwrap();
    assert_eq!(send(app(f.layer()), bare).await.0, 401);
}

#[tokio::test]
async fn a_rejection_is_a_response_and_an_error() {
    let f = fixture();
    let urls = PublicUrlPolicy::new(ORIGIN).unwrap();
    let request = f.request("not.a.token");
    let rejection = f.guard.check_http(&request, &urls, now()).unwrap_err();

    let source = std::error::Error::source(&rejection).unwrap();
    assert_eq!(source.to_string(), rejection.error().to_string());
    assert!(rejection.to_string().starts_with("refused with HTTP 401: "));
    assert_eq!(rejection.status_code(), StatusCode::UNAUTHORIZED);
    assert_eq!(rejection.reason(), "invalid_base64url");
    assert_eq!(rejection.error_code().unwrap().as_str(), "invalid_token");

    let response = rejection.clone().into_response();
    assert!(!format!("{rejection:?}").contains("not.a.token"));
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        rejection.www_authenticate()
    );
}

#[tokio::test]
async fn a_rejections_debug_leaves_the_claims_out() {
    let f = fixture();
    let token = f.token("orders:read");
    let printed: Arc<Mutex<String>> = Arc::default();
    let record = printed.clone();
    let layer =
        f.layer()
            .require_scope("orders:write")
            .on_rejection(move |rejection: &Rejection| {
                assert!(rejection.claims().is_some());
                *record.lock().unwrap() = format!("{rejection:?}");
            });
    assert_eq!(send(app(layer), f.request(&token)).await.0, 403);
    let printed = printed.lock().unwrap().clone();
    assert!(printed.contains("principal_known: true"), "{printed}");
    for claim in ["alice", "acme", "app"] {
        assert!(!printed.contains(claim), "{claim} in {printed}");
    }
}

#[tokio::test]
async fn claims_as_reads_the_verified_claims_into_a_type() {
    #[derive(serde::Deserialize)]
    struct Mine {
        sub: String,
        tenant: String,
        scope: String,
        exp: u64,
    }
    let f = fixture();
    let token = f.token("orders:read");
    let urls = PublicUrlPolicy::new(ORIGIN).unwrap();
    let who = f
        .guard
        .check_http(&f.request(&token), &urls, now())
        .unwrap();
    let mine: Mine = who.claims_as().unwrap();
    assert_eq!(
        (mine.sub.as_str(), mine.tenant.as_str(), mine.scope.as_str()),
        ("alice", "acme", "orders:read")
    );
    assert_eq!(mine.exp, who.claims().expires_at().as_secs());
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Missing {
        department: String,
    }
    assert!(who.claims_as::<Missing>().is_err());
}
