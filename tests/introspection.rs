//! Opaque tokens through RFC 7662 introspection, with a scripted endpoint: the request sent,
//! every check of the answer through the guard, the cache (active never past `exp`, refusals
//! briefly, failures never), fail-closed 503s, and JWTs still verified locally.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::now;
use keybound::{
    ClientAuth, Error, HttpMethod, HttpResponse, HttpTransport, IntrospectionOptions, Introspector,
    IssuerKeys, ProofSigner, RequestGuard, ResourceRequest, SigningKey, TokenError, TokenIssuer,
    TokenRequest, TokenVerifier, UnixTime, UpstreamError,
};

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const API: &str = "https://api.example.com/orders";
const ENDPOINT: &str = "https://as.example.com/introspect";
const OPAQUE: &str = "opaque-token-Zm9vYmFy";

/// The headers and body of the last request.
type Sent = (Vec<(String, String)>, String);

#[derive(Default)]
struct Endpoint {
    answer: Mutex<Option<Result<HttpResponse, UpstreamError>>>,
    calls: AtomicUsize,
    last: Mutex<Option<Sent>>,
}

impl Endpoint {
    fn answer(&self, status: u16, body: String) {
        *self.answer.lock().unwrap() = Some(Ok(HttpResponse::new(status, body)));
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl HttpTransport for Endpoint {
    fn send<'a>(
        &'a self,
        request: keybound::OutgoingRequest<'a>,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<HttpResponse, UpstreamError>> + Send + 'a>,
    > {
        assert_eq!(request.method, HttpMethod::Post);
        assert_eq!(request.url, ENDPOINT);
        self.calls.fetch_add(1, Ordering::SeqCst);
        let headers = request
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        *self.last.lock().unwrap() =
            Some((headers, String::from_utf8(request.body.to_vec()).unwrap()));
        let answer = self.answer.lock().unwrap().clone();
        Box::pin(async move { answer.unwrap_or(Err(UpstreamError::Unreachable)) })
    }
}

struct World {
    endpoint: std::sync::Arc<Endpoint>,
    guard: RequestGuard,
    client: ProofSigner,
    issuer: TokenIssuer,
}

fn world(options: IntrospectionOptions) -> World {
    let endpoint = std::sync::Arc::new(Endpoint::default());
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let introspector = Introspector::new(ENDPOINT, ISS, AUD, endpoint.clone())
        .unwrap()
        .with_client_auth(ClientAuth::secret_basic("rs 1:x", "p@ss:w%rd+"))
        .with_options(options);
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_introspection(introspector);
    World {
        endpoint,
        guard,
        client: ProofSigner::new(SigningKey::generate().unwrap()),
        issuer,
    }
}

fn active_for(jkt: &str, exp: u64) -> String {
    format!(
        r#"{{"active":true,"iss":"{ISS}","aud":"{AUD}","sub":"alice","client_id":"app",
        "scope":"orders:read","exp":{exp},"iat":{},"token_type":"DPoP","cnf":{{"jkt":"{jkt}"}}}}"#,
        now().as_secs() - 10
    )
}

impl World {
    fn active(&self) -> String {
        active_for(
            &self.client.thumbprint().to_base64url(),
            now().as_secs() + 600,
        )
    }

    fn request_parts(&self, signer: &ProofSigner, token: &str, at: UnixTime) -> (String, String) {
        let proof = signer
            .proof("GET", API)
            .with_access_token(token)
            .sign(at)
            .unwrap();
        (format!("DPoP {token}"), proof)
    }

    async fn send_with(
        &self,
        signer: &ProofSigner,
        token: &str,
        at: UnixTime,
    ) -> Result<keybound::Authorized, keybound::Rejection> {
        let (authorization, proof) = self.request_parts(signer, token, at);
        let (a, p) = ([authorization.as_str()], [proof.as_str()]);
        self.guard
            .check_async(&ResourceRequest::new("GET", API, &a, &p), at)
            .await
    }

    async fn send(
        &self,
        token: &str,
        at: UnixTime,
    ) -> Result<keybound::Authorized, keybound::Rejection> {
        self.send_with(&self.client, token, at).await
    }

    fn send_sync(
        &self,
        token: &str,
        at: UnixTime,
    ) -> Result<keybound::Authorized, keybound::Rejection> {
        let (authorization, proof) = self.request_parts(&self.client, token, at);
        let (a, p) = ([authorization.as_str()], [proof.as_str()]);
        self.guard
            .check(&ResourceRequest::new("GET", API, &a, &p), at)
    }
}

fn later(secs: u64) -> UnixTime {
    now().saturating_add(secs)
}

#[tokio::test]
async fn an_active_bound_opaque_token_is_authorized_and_cached() {
    let w = world(IntrospectionOptions::new());
    w.endpoint.answer(200, w.active());
    let ok = w.send(OPAQUE, now()).await.unwrap();
    assert_eq!(ok.subject(), "alice");
    assert!(ok.has_scope("orders:read"));
    assert_eq!(ok.jkt(), Some(w.client.thumbprint()));

    // The request: RFC 7662 §2.1 form body, client_secret_basic with form-encoded parts.
    let (headers, body) = w.endpoint.last.lock().unwrap().clone().unwrap();
    assert_eq!(body, format!("token={OPAQUE}&token_type_hint=access_token"));
    let basic = headers.iter().find(|(n, _)| n == "authorization").unwrap();
    use base64ct::Encoding;
    let decoded = base64ct::Base64::decode_vec(basic.1.strip_prefix("Basic ").unwrap()).unwrap();
    assert_eq!(decoded, b"rs+1%3Ax:p%40ss%3Aw%25rd%2B");
    assert!(headers.contains(&(
        "content-type".into(),
        "application/x-www-form-urlencoded".into()
    )));

    // Cached: further requests — async and sync — ask nobody.
    assert!(w.send(OPAQUE, later(30)).await.is_ok());
    assert!(w.send_sync(OPAQUE, later(31)).is_ok());
    assert_eq!(w.endpoint.calls(), 1);
    // After the active TTL (60 s), asked again.
    assert!(w.send(OPAQUE, later(60)).await.is_ok());
    assert_eq!(w.endpoint.calls(), 2);
}

#[tokio::test]
async fn the_cache_never_outlives_exp() {
    let w = world(IntrospectionOptions::new());
    let exp = now().as_secs() + 20;
    w.endpoint
        .answer(200, active_for(&w.client.thumbprint().to_base64url(), exp));
    assert!(w.send(OPAQUE, now()).await.is_ok());
    let rejection = w.send(OPAQUE, later(26)).await.unwrap_err();
    assert!(matches!(
        rejection.error(),
        Error::InvalidToken(TokenError::Expired { .. })
    ));
    assert_eq!(
        w.endpoint.calls(),
        2,
        "asked again at exp, not served from the cache"
    );
}

#[tokio::test]
async fn a_stolen_opaque_token_is_refused() {
    let w = world(IntrospectionOptions::new());
    w.endpoint.answer(200, w.active());
    let thief = ProofSigner::new(SigningKey::generate().unwrap());
    let rejection = w.send_with(&thief, OPAQUE, now()).await.unwrap_err();
    assert_eq!(rejection.status(), 401);
    assert_eq!(
        rejection.error(),
        &Error::InvalidToken(TokenError::KeyMismatch)
    );
}

#[tokio::test]
async fn replayed_proofs_are_refused_for_opaque_tokens_too() {
    let w = world(IntrospectionOptions::new());
    w.endpoint.answer(200, w.active());
    let (authorization, proof) = w.request_parts(&w.client, OPAQUE, now());
    let (a, p) = ([authorization.as_str()], [proof.as_str()]);
    let request = ResourceRequest::new("GET", API, &a, &p);
    assert!(w.guard.check_async(&request, now()).await.is_ok());
    let again = w.guard.check_async(&request, now()).await.unwrap_err();
    assert_eq!(
        again.error(),
        &Error::InvalidProof(keybound::ProofError::Replayed)
    );
}

#[tokio::test]
async fn inactive_answers_are_refused_and_cached_briefly() {
    let w = world(IntrospectionOptions::new());
    w.endpoint.answer(200, r#"{"active":false}"#.into());
    for at in [now(), later(4)] {
        let rejection = w.send(OPAQUE, at).await.unwrap_err();
        assert_eq!(rejection.status(), 401);
        assert_eq!(
            rejection.error(),
            &Error::InvalidToken(TokenError::Inactive)
        );
        assert!(rejection
            .www_authenticate()
            .contains(r#"error="invalid_token""#));
    }
    assert_eq!(w.endpoint.calls(), 1);
    assert!(w.send(OPAQUE, later(5)).await.is_err());
    assert_eq!(w.endpoint.calls(), 2);
}

#[tokio::test]
async fn answers_for_other_audiences_issuers_or_unbound_tokens_are_refused() {
    let w = world(IntrospectionOptions::new().with_cache_capacity(0));
    let jkt = w.client.thumbprint().to_base64url();
    for (body, error) in [
        (
            w.active().replace(AUD, "https://billing.example.com"),
            TokenError::WrongAudience,
        ),
        (
            w.active().replace(
                &format!(r#""iss":"{ISS}""#),
                r#""iss":"https://evil.example.com""#,
            ),
            TokenError::WrongIssuer,
        ),
        (
            w.active()
                .replace(r#""token_type":"DPoP""#, r#""token_type":"Bearer""#),
            TokenError::WrongTokenType,
        ),
        (
            w.active().replace(
                &format!(r#","token_type":"DPoP","cnf":{{"jkt":"{jkt}"}}"#),
                "",
            ),
            TokenError::NotBound,
        ),
    ] {
        w.endpoint.answer(200, body);
        let rejection = w.send(OPAQUE, now()).await.unwrap_err();
        assert_eq!(rejection.status(), 401);
        assert_eq!(rejection.error(), &Error::InvalidToken(error));
    }
}

#[tokio::test]
async fn an_unreachable_or_failing_endpoint_fails_closed_and_is_not_cached() {
    let w = world(IntrospectionOptions::new());
    for (answer, error) in [
        (None, UpstreamError::Unreachable),
        (Some((500, "{}".to_owned())), UpstreamError::Status(500)),
        (
            Some((401, r#"{"error":"invalid_client"}"#.to_owned())),
            UpstreamError::Status(401),
        ),
        (Some((200, "<html>".to_owned())), UpstreamError::Malformed),
    ] {
        match answer {
            Some((status, body)) => w.endpoint.answer(status, body),
            None => *w.endpoint.answer.lock().unwrap() = None,
        }
        let rejection = w.send(OPAQUE, now()).await.unwrap_err();
        assert_eq!(rejection.status(), 503);
        assert_eq!(rejection.error(), &Error::Upstream(error));
    }
    assert_eq!(w.endpoint.calls(), 4, "no failure was cached");
    w.endpoint.answer(200, w.active());
    assert!(w.send(OPAQUE, now()).await.is_ok());
}

#[tokio::test]
async fn the_synchronous_check_answers_from_the_cache_only() {
    let w = world(IntrospectionOptions::new());
    w.endpoint.answer(200, w.active());
    let rejection = w.send_sync(OPAQUE, now()).unwrap_err();
    assert_eq!(rejection.status(), 503);
    assert_eq!(
        rejection.error(),
        &Error::Upstream(UpstreamError::IntrospectionNeedsAsync)
    );
    assert_eq!(w.endpoint.calls(), 0);
}

#[tokio::test]
async fn jwts_are_still_verified_locally_and_oversized_tokens_never_leave() {
    let w = world(IntrospectionOptions::new());
    let grant = TokenRequest::new("bob", AUD, "app", w.client.thumbprint());
    let jwt = w.issuer.issue(&grant, now()).unwrap().access_token;
    assert_eq!(w.send(&jwt, now()).await.unwrap().subject(), "bob");
    let huge = "x".repeat(20_000);
    let rejection = w.send(&huge, now()).await.unwrap_err();
    assert_eq!(
        rejection.error(),
        &Error::InvalidToken(TokenError::TooLarge)
    );
    assert_eq!(w.endpoint.calls(), 0);
}

#[test]
fn client_secret_post_and_endpoint_checks() {
    assert_eq!(
        Introspector::new("http://as.example.com/i", ISS, AUD, Endpoint::default()).err(),
        Some(UpstreamError::InsecureUrl)
    );
    let introspector = Introspector::new(ENDPOINT, ISS, AUD, Endpoint::default())
        .unwrap()
        .with_client_auth(ClientAuth::secret_post("rs", "secret"));
    let debug = format!("{introspector:?}");
    assert!(
        debug.contains("client_secret_post") && !debug.contains("secret\""),
        "{debug}"
    );
}

#[tokio::test]
async fn client_secret_post_sends_the_credentials_in_the_body() {
    let endpoint = std::sync::Arc::new(Endpoint::default());
    endpoint.answer(200, r#"{"active":false}"#.into());
    let introspector = Introspector::new(ENDPOINT, ISS, AUD, endpoint.clone())
        .unwrap()
        .with_client_auth(ClientAuth::secret_post("rs 1", "s&cret"));
    assert!(introspector.introspect(OPAQUE, now()).await.is_err());
    let (headers, body) = endpoint.last.lock().unwrap().clone().unwrap();
    assert_eq!(
        body,
        format!(
            "token={OPAQUE}&token_type_hint=access_token&client_id=rs+1&client_secret=s%26cret"
        )
    );
    assert!(!headers.iter().any(|(n, _)| n == "authorization"));
}
