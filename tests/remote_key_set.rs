//! `RemoteKeySet` through a guard, with a scripted transport standing in for the provider's
//! `jwks_uri`: Cache-Control clamping, rotation with no failed request, the unknown-`kid`
//! rate limit, stale grace then 503, removed keys, concurrent refetches, hostile documents.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::now;
use keybound::{
    Error, HttpResponse, HttpTransport, IssuerKeys, OutgoingRequest, ProofSigner, RemoteKeySet,
    RemoteKeySetOptions, RequestGuard, ResourceRequest, SigningKey, TokenError, TokenIssuer,
    TokenRequest, UnixTime, UpstreamError,
};

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const API: &str = "https://api.example.com/orders";
const JWKS_URI: &str = "https://as.example.com/jwks";

/// Serves whatever the test last scripted, and counts the fetches.
#[derive(Default)]
struct Provider {
    answer: Mutex<Option<Result<HttpResponse, UpstreamError>>>,
    fetches: AtomicUsize,
    seen_urls: Mutex<Vec<String>>,
}

impl Provider {
    fn serve(&self, answer: Result<HttpResponse, UpstreamError>) {
        *self.answer.lock().unwrap() = Some(answer);
    }

    fn serve_jwks(&self, jwks: &str, cache_control: Option<&str>) {
        let mut response = HttpResponse::new(200, jwks.as_bytes());
        if let Some(value) = cache_control {
            response = response.with_cache_control(value);
        }
        self.serve(Ok(response));
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl HttpTransport for Provider {
    fn send<'a>(
        &'a self,
        request: OutgoingRequest<'a>,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<HttpResponse, UpstreamError>> + Send + 'a>,
    > {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.seen_urls.lock().unwrap().push(request.url.to_owned());
        let answer = self.answer.lock().unwrap().clone();
        Box::pin(async move {
            // Let concurrent requests pile up behind a fetch in flight.
            tokio::task::yield_now().await;
            answer.unwrap_or(Err(UpstreamError::Unreachable))
        })
    }
}

struct World {
    provider: Arc<Provider>,
    keys: RemoteKeySet,
    guard: RequestGuard,
    client: ProofSigner,
}

fn world(options: RemoteKeySetOptions) -> World {
    let provider = Arc::new(Provider::default());
    let keys = RemoteKeySet::new(JWKS_URI, provider.clone())
        .unwrap()
        .with_options(options);
    let guard = RequestGuard::new(keys.verifier(ISS, AUD));
    World {
        provider,
        keys,
        guard,
        client: ProofSigner::new(SigningKey::generate().unwrap()),
    }
}

fn issuer() -> TokenIssuer {
    TokenIssuer::new(ISS, IssuerKeys::generate().unwrap())
}

impl World {
    fn token(&self, issuer: &TokenIssuer, at: UnixTime) -> String {
        let request = TokenRequest::new("alice", AUD, "app", self.client.thumbprint());
        issuer.issue(&request, at).unwrap().access_token
    }

    async fn send(
        &self,
        token: &str,
        at: UnixTime,
    ) -> Result<keybound::Authorized, keybound::Rejection> {
        let proof = self
            .client
            .proof("GET", API)
            .with_access_token(token)
            .sign(at)
            .unwrap();
        let authorization = format!("DPoP {token}");
        let (authorization, proof) = ([authorization.as_str()], [proof.as_str()]);
        let request = ResourceRequest::new("GET", API, &authorization, &proof);
        self.guard.check_async(&request, at).await
    }
}

fn later(secs: u64) -> UnixTime {
    now().saturating_add(secs)
}

#[tokio::test]
async fn max_age_sets_the_refresh_time_within_the_clamp() {
    let w = world(RemoteKeySetOptions::new().with_ttl_bounds(60, 3600));
    let a = issuer();
    for (header, ttl) in [
        (Some("max-age=600"), 600),
        (Some("public, max-age=5"), 60),
        (Some("max-age=999999"), 3600),
        (Some("no-store"), 60),
        (None, 300),
    ] {
        w.provider.serve_jwks(&a.keys().jwks(), header);
        w.keys.refresh(now()).await.unwrap();
        // Refetched three quarters into its lifetime.
        assert_eq!(
            w.keys.refresh_at(),
            now().saturating_add(ttl - ttl / 4),
            "{header:?}"
        );
    }
    assert_eq!(w.provider.seen_urls.lock().unwrap()[0], JWKS_URI);
}

#[tokio::test]
async fn refresh_if_due_waits_for_the_refresh_time() {
    let w = world(RemoteKeySetOptions::new());
    let a = issuer();
    w.provider.serve_jwks(&a.keys().jwks(), Some("max-age=400"));
    w.keys.refresh(now()).await.unwrap();
    w.keys.refresh_if_due(later(299)).await.unwrap();
    assert_eq!(w.provider.fetches(), 1);
    w.keys.refresh_if_due(later(300)).await.unwrap();
    assert_eq!(w.provider.fetches(), 2);
}

#[tokio::test]
async fn a_rotation_costs_no_failed_request() {
    let w = world(RemoteKeySetOptions::new());
    let mut a = issuer();
    w.provider
        .serve_jwks(&a.keys().jwks(), Some("max-age=3600"));
    w.keys.refresh(now()).await.unwrap();
    let old_token = w.token(&a, now());
    assert!(w.send(&old_token, now()).await.is_ok());

    // The provider rotates: a new signing key, the old one still published.
    a.keys_mut().rotate(SigningKey::generate().unwrap());
    w.provider
        .serve_jwks(&a.keys().jwks(), Some("max-age=3600"));
    let new_token = w.token(&a, later(1));
    let authorized = w.send(&new_token, later(1)).await;
    assert!(authorized.is_ok(), "{:?}", authorized.err());
    assert_eq!(w.provider.fetches(), 2, "one refetch for the new kid");
    assert!(w.send(&old_token, later(2)).await.is_ok());
    assert_eq!(w.provider.fetches(), 2);
}

#[tokio::test]
async fn the_synchronous_check_does_not_refetch() {
    let w = world(RemoteKeySetOptions::new());
    let mut a = issuer();
    w.provider.serve_jwks(&a.keys().jwks(), None);
    w.keys.refresh(now()).await.unwrap();
    a.keys_mut().rotate(SigningKey::generate().unwrap());
    w.provider.serve_jwks(&a.keys().jwks(), None);
    let token = w.token(&a, now());
    let proof = w
        .client
        .proof("GET", API)
        .with_access_token(&token)
        .sign(now())
        .unwrap();
    let authorization = format!("DPoP {token}");
    let (authorization, proof) = ([authorization.as_str()], [proof.as_str()]);
    let request = ResourceRequest::new("GET", API, &authorization, &proof);
    let rejection = w.guard.check(&request, now()).unwrap_err();
    assert_eq!(
        rejection.error(),
        &Error::InvalidToken(TokenError::UnknownKey)
    );
    assert_eq!(w.provider.fetches(), 1);
}

#[tokio::test]
async fn unknown_kids_refetch_at_most_once_per_interval() {
    let w = world(RemoteKeySetOptions::new().with_unknown_kid_interval_secs(30));
    let a = issuer();
    w.provider.serve_jwks(&a.keys().jwks(), None);
    w.keys.refresh(now()).await.unwrap();
    let stranger = issuer(); // same `iss`, keys the provider never published
    for i in 0..50 {
        let token = w.token(&stranger, later(i % 10));
        let rejection = w.send(&token, later(i % 10)).await.unwrap_err();
        assert_eq!(rejection.status(), 401);
        assert_eq!(
            rejection.error(),
            &Error::InvalidToken(TokenError::UnknownKey)
        );
    }
    assert_eq!(
        w.provider.fetches(),
        2,
        "the first unknown kid refetched, the rest did not"
    );
    let token = w.token(&stranger, later(30));
    assert!(w.send(&token, later(30)).await.is_err());
    assert_eq!(
        w.provider.fetches(),
        3,
        "the interval passed: one more refetch"
    );
}

#[tokio::test]
async fn concurrent_requests_share_one_refetch() {
    let w = Arc::new(world(RemoteKeySetOptions::new()));
    let mut a = issuer();
    w.provider.serve_jwks(&a.keys().jwks(), None);
    w.keys.refresh(now()).await.unwrap();
    a.keys_mut().rotate(SigningKey::generate().unwrap());
    w.provider.serve_jwks(&a.keys().jwks(), None);
    let token = w.token(&a, now());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (w, token) = (w.clone(), token.clone());
            tokio::spawn(async move { w.send(&token, now()).await.is_ok() })
        })
        .collect();
    for task in tasks {
        assert!(
            task.await.unwrap(),
            "every request with the new kid succeeds"
        );
    }
    assert_eq!(w.provider.fetches(), 2);
}

#[tokio::test]
async fn failing_fetches_serve_the_last_set_for_the_grace_then_503() {
    let w = world(RemoteKeySetOptions::new().with_stale_grace_secs(600));
    let a = issuer();
    w.provider.serve_jwks(&a.keys().jwks(), Some("max-age=300"));
    w.keys.refresh(now()).await.unwrap();
    w.provider.serve(Err(UpstreamError::Unreachable));
    assert_eq!(
        w.keys.refresh(later(280)).await,
        Err(UpstreamError::Unreachable)
    );
    assert_eq!(w.keys.last_error(), Some(UpstreamError::Unreachable));

    // Past max-age, within the grace: still served.
    let token = w.token(&a, later(850));
    assert!(w.send(&token, later(900)).await.is_ok());
    // Past the grace: refused with 503, not 401.
    let token = w.token(&a, later(901));
    let rejection = w.send(&token, later(901)).await.unwrap_err();
    assert_eq!(rejection.status(), 503);
    assert_eq!(
        rejection.error(),
        &Error::Upstream(UpstreamError::KeysExpired)
    );
    assert!(!rejection.www_authenticate().contains("error="));

    // The provider is back: the next fetch restores service.
    w.provider.serve_jwks(&a.keys().jwks(), None);
    w.keys.refresh(later(902)).await.unwrap();
    assert_eq!(w.keys.last_error(), None);
    assert!(w.send(&token, later(902)).await.is_ok());
}

#[tokio::test]
async fn a_set_never_fetched_answers_503() {
    let w = world(RemoteKeySetOptions::new());
    let a = issuer();
    let token = w.token(&a, now());
    let rejection = w.send(&token, now()).await.unwrap_err();
    assert_eq!(rejection.status(), 503);
    assert_eq!(
        rejection.error(),
        &Error::Upstream(UpstreamError::KeysNotLoaded)
    );
}

#[tokio::test]
async fn a_removed_key_stops_verifying_cached_tokens() {
    let w = world(RemoteKeySetOptions::new());
    let mut a = issuer();
    w.provider.serve_jwks(&a.keys().jwks(), None);
    w.keys.refresh(now()).await.unwrap();
    let old_kid = a.keys().active_kid();
    let token = w.token(&a, now());
    assert!(w.send(&token, now()).await.is_ok()); // now cached

    a.keys_mut().rotate(SigningKey::generate().unwrap());
    assert!(a.keys_mut().remove(&old_kid));
    w.provider.serve_jwks(&a.keys().jwks(), None);
    w.keys.refresh(later(1)).await.unwrap();
    let rejection = w.send(&token, later(2)).await.unwrap_err();
    assert_eq!(
        rejection.error(),
        &Error::InvalidToken(TokenError::UnknownKey)
    );
}

#[tokio::test]
async fn hostile_documents_keep_the_last_good_set() {
    let w = world(RemoteKeySetOptions::new().with_max_jwks_len(4096));
    let a = issuer();
    w.provider.serve_jwks(&a.keys().jwks(), None);
    w.keys.refresh(now()).await.unwrap();
    let token = w.token(&a, now());
    let private = SigningKey::generate().unwrap().to_jwk();
    let cases: Vec<(HttpResponse, UpstreamError)> = vec![
        (HttpResponse::new(500, "oops"), UpstreamError::Status(500)),
        (
            HttpResponse::new(200, vec![b' '; 5000]),
            UpstreamError::TooLarge,
        ),
        (
            HttpResponse::new(200, b"\xff\xfe".to_vec()),
            UpstreamError::Malformed,
        ),
        (
            HttpResponse::new(200, r#"{"keys":"#),
            UpstreamError::KeySet(keybound::KeyError::Malformed(keybound::JoseError::Json)),
        ),
        (
            HttpResponse::new(200, format!(r#"{{"keys":[{}]}}"#, &*private)),
            UpstreamError::KeySet(keybound::KeyError::PrivateKey),
        ),
        (
            HttpResponse::new(200, r#"{"keys":[]}"#),
            UpstreamError::KeySet(keybound::KeyError::NoUsableKey),
        ),
    ];
    for (answer, error) in cases {
        w.provider.serve(Ok(answer));
        assert_eq!(w.keys.refresh(later(1)).await, Err(error));
        assert!(w.send(&token, later(1)).await.is_ok(), "{error:?}");
    }
}

#[test]
fn an_insecure_jwks_uri_is_refused() {
    let provider = Arc::new(Provider::default());
    assert_eq!(
        RemoteKeySet::new("http://as.example.com/jwks", provider).err(),
        Some(UpstreamError::InsecureUrl)
    );
}
