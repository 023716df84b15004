//! The actix-web middleware and extractors through real actix `HttpServer`s on loopback, the
//! same cases as the tower/axum pair (tests/layer.rs, tests/loopback.rs): success, a stolen
//! token, the nonce challenge and one retry, a fresh nonce on success, scope sets, the
//! rejection hook, anonymous requests and `Option<Authorized>`, the extractor failing closed
//! without the middleware, `Rejection` as an actix error, `Retry-After`, proxies (prefix,
//! forwarded headers trusted and not), and a Redis-backed guard on two servers (replay and
//! revocation shared, through the asynchronous stores). The Redis test fails instead of
//! skipping when `KEYBOUND_REQUIRE_REDIS` is set, as tests/redis.rs does.

#[path = "support/redis_server.rs"]
mod redis_server;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::{HttpServiceFactory, ServerHandle, Service};
use actix_web::{web, App, HttpServer, ResponseError};
use keybound::{
    AsyncReplayStore, AsyncRevocationStore, Authorized, DpopClient, DpopMiddleware, FixedClock,
    IssuerKeys, MemoryReplayStore, NonceEngine, ProofSigner, ProofVerifier, PublicUrlPolicy,
    RedisConfig, RedisReplayStore, RedisRevocationStore, Rejection, RequestGuard, Revocation,
    ScopeRequirement, SigningKey, TokenIssuer, TokenRequest, TokenVerifier, TrustedProxy, UnixTime,
};
use redis_server::RedisServer;

const ISS: &str = "https://as.example.com";
const AUD: &str = "orders-api";
/// Every proof algorithm, as a bare challenge lists them.
const ALGS: &str = "ES256 ES384 ES512 Ed25519 EdDSA RS256 RS384 RS512 PS256 PS384 PS512";

/// An issuer and the client its tokens are bound to.
struct World {
    issuer: TokenIssuer,
    client: ProofSigner,
}

fn world() -> World {
    World {
        issuer: TokenIssuer::new(ISS, IssuerKeys::generate().unwrap()),
        client: ProofSigner::new(SigningKey::generate().unwrap()),
    }
}

impl World {
    fn token(&self, scope: &str) -> String {
        self.token_for(&self.client, scope)
    }

    fn token_for(&self, client: &ProofSigner, scope: &str) -> String {
        let grant = TokenRequest::new("alice", AUD, "app", client.thumbprint()).with_scope(scope);
        self.issuer
            .issue(&grant, UnixTime::now())
            .unwrap()
            .access_token
    }

    fn verifier(&self) -> TokenVerifier {
        TokenVerifier::new(ISS, AUD, self.issuer.keys().key_set())
    }

    fn guard(&self) -> Arc<RequestGuard> {
        Arc::new(RequestGuard::new(self.verifier()))
    }
}

/// A running server: its origin, and how many requests reached it at all.
struct Server {
    origin: String,
    hits: Arc<AtomicUsize>,
    handle: ServerHandle,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Stops the workers; the test's runtime need not poll the returned future for that.
        drop(self.handle.stop(false));
    }
}

/// Serves the routes `routes(origin)` makes on a free loopback port with one worker, counting
/// every request.
fn start<F>(routes: impl FnOnce(&str) -> F) -> Server
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let routes = routes(&origin);
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let server = HttpServer::new(move || {
        let counter = counter.clone();
        App::new()
            .wrap_fn(move |request, service| {
                counter.fetch_add(1, Ordering::SeqCst);
                service.call(request)
            })
            .configure(routes.clone())
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Server {
        origin,
        hits,
        handle,
    }
}

/// `path` behind `middleware`, answering the principal's subject (`Authorized` must be there).
fn guarded<R, V>(path: &str, middleware: DpopMiddleware<R, V>) -> impl HttpServiceFactory
where
    R: AsyncReplayStore + 'static,
    V: AsyncRevocationStore + 'static,
{
    web::resource(path)
        .wrap(middleware)
        .route(web::get().to(|who: Authorized| async move { who.subject().to_owned() }))
}

/// `path` behind `middleware`, answering the subject or `anonymous` (`Option<Authorized>`).
fn maybe_guarded<R, V>(path: &str, middleware: DpopMiddleware<R, V>) -> impl HttpServiceFactory
where
    R: AsyncReplayStore + 'static,
    V: AsyncRevocationStore + 'static,
{
    web::resource(path).wrap(middleware).route(web::get().to(
        |who: Option<Authorized>| async move {
            who.map_or_else(|| "anonymous".to_owned(), |who| who.subject().to_owned())
        },
    ))
}

fn policy(origin: &str) -> PublicUrlPolicy {
    PublicUrlPolicy::new(origin).unwrap()
}

/// What came back.
#[derive(Debug)]
struct Answer {
    status: u16,
    challenge: String,
    nonce: Option<String>,
    cache_control: Option<String>,
    retry_after: Option<String>,
    body: String,
}

async fn read(response: reqwest::Response) -> Answer {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    Answer {
        status: response.status().as_u16(),
        challenge: header("www-authenticate").unwrap_or_default(),
        nonce: header("dpop-nonce"),
        cache_control: header("cache-control"),
        retry_after: header("retry-after"),
        body: {
            let response = response;
            response.text().await.unwrap()
        },
    }
}

/// A GET of `url` with `token` and a proof by `signer` for `htu` (and `nonce`), plus `extra`
/// headers.
fn request(
    url: &str,
    signer: &ProofSigner,
    token: &str,
    htu: &str,
    nonce: Option<&str>,
    extra: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let mut proof = signer.proof("GET", htu).with_access_token(token);
    if let Some(nonce) = nonce {
        proof = proof.with_nonce(nonce);
    }
    let proof = proof.sign(UnixTime::now()).unwrap();
    let mut request = reqwest::Client::new()
        .get(url)
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request
}

/// A request to `url` whose proof names `url` itself.
async fn call(url: &str, signer: &ProofSigner, token: &str) -> Answer {
    let response = request(url, signer, token, url, None, &[])
        .send()
        .await
        .unwrap();
    read(response).await
}

/// A GET of `url` through the DPoP client (proof, nonce cache, one retry).
async fn execute(client: &DpopClient, url: &str, token: &str) -> reqwest::Response {
    let request = reqwest::Client::new().get(url).build().unwrap();
    client.execute(request, Some(token)).await.unwrap()
}

async fn bare(url: &str) -> Answer {
    read(reqwest::get(url).await.unwrap()).await
}

#[actix_web::test]
async fn an_authorized_request_reaches_the_handler() {
    let w = world();
    let guard = w.guard();
    let server = start(|origin| {
        let middleware = DpopMiddleware::new(guard, policy(origin));
        move |cfg: &mut web::ServiceConfig| {
            cfg.service(guarded("/orders", middleware.clone()));
        }
    });
    let answer = call(&server.url("/orders"), &w.client, &w.token("orders:read")).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "alice"));
    assert_eq!(answer.nonce, None, "no nonces configured");

    // Without credentials: a bare challenge, and the handler never ran.
    let answer = bare(&server.url("/orders")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.challenge, format!("DPoP algs=\"{ALGS}\""));
    assert_eq!(answer.body, "");
}

#[actix_web::test]
async fn a_stolen_token_a_replayed_proof_and_a_proof_for_another_url_are_refused() {
    let w = world();
    let guard = w.guard();
    let server = start(|origin| {
        let middleware = DpopMiddleware::new(guard, policy(origin));
        move |cfg: &mut web::ServiceConfig| {
            cfg.service(guarded("/orders", middleware.clone()));
        }
    });
    let url = server.url("/orders");
    let token = w.token("orders:read");

    // The token with a proof by another key.
    let thief = ProofSigner::new(SigningKey::generate().unwrap());
    let answer = call(&url, &thief, &token).await;
    assert_eq!(answer.status, 401);
    assert!(
        answer
            .challenge
            .starts_with(r#"DPoP error="invalid_token""#),
        "{}",
        answer.challenge
    );
    assert_eq!(answer.body, "");

    // The same proof twice.
    let once = request(&url, &w.client, &token, &url, None, &[])
        .build()
        .unwrap();
    let again = once.try_clone().unwrap();
    let client = reqwest::Client::new();
    assert_eq!(client.execute(once).await.unwrap().status(), 200);
    let answer = read(client.execute(again).await.unwrap()).await;
    assert_eq!(answer.status, 401);
    assert!(
        answer.challenge.contains(r#"error="invalid_dpop_proof""#),
        "{}",
        answer.challenge
    );

    // A proof made for another URL of the same server.
    let elsewhere = server.url("/admin");
    let response = request(&url, &w.client, &token, &elsewhere, None, &[])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[actix_web::test]
async fn nonce_challenge_then_one_retry_then_success() {
    let w = world();
    let guard =
        Arc::new(RequestGuard::new(w.verifier()).with_proof_verifier(
            ProofVerifier::new().with_nonces(NonceEngine::generate().unwrap()),
        ));
    let server = start(|origin| {
        let middleware = DpopMiddleware::new(guard, policy(origin));
        move |cfg: &mut web::ServiceConfig| {
            cfg.service(guarded("/orders", middleware.clone()));
        }
    });
    let url = server.url("/orders");
    let client = DpopClient::new(
        reqwest::Client::builder(),
        ProofSigner::new(SigningKey::generate().unwrap()),
    )
    .unwrap();
    let token = w.token_for(client.signer(), "orders:read");

    // By hand: 401 use_dpop_nonce with a nonce that must not be cached.
    let answer = call(&url, client.signer(), &token).await;
    assert_eq!(answer.status, 401);
    assert!(
        answer.challenge.contains(r#"error="use_dpop_nonce""#),
        "{}",
        answer.challenge
    );
    assert!(answer.nonce.is_some());
    assert_eq!(answer.cache_control.as_deref(), Some("no-store"));
    let hits = server.hits.load(Ordering::SeqCst);

    // The client retries once with the nonce, then keeps using it.
    let response = execute(&client, &url, &token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "alice");
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        hits + 2,
        "challenge + retry"
    );
    assert!(client.nonce_for(&server.origin).is_some());
    assert_eq!(execute(&client, &url, &token).await.status(), 200);
    assert_eq!(server.hits.load(Ordering::SeqCst), hits + 3);
}

#[actix_web::test]
async fn a_success_with_an_older_nonce_carries_a_fresh_one() {
    let w = world();
    let secret = [7; 32];
    let guard =
        Arc::new(RequestGuard::new(w.verifier()).with_proof_verifier(
            ProofVerifier::new().with_nonces(NonceEngine::from_secret(secret)),
        ));
    let server = start(|origin| {
        let middleware = DpopMiddleware::new(guard, policy(origin));
        move |cfg: &mut web::ServiceConfig| {
            cfg.service(guarded("/orders", middleware.clone()));
        }
    });
    let url = server.url("/orders");
    let token = w.token("orders:read");
    // 40 s old: one or two 30 s steps back, still accepted (3 steps), no longer current.
    let engine = NonceEngine::from_secret(secret);
    let old = engine.issue(UnixTime::from_secs(UnixTime::now().as_secs() - 40));
    let response = request(&url, &w.client, &token, &url, Some(&old), &[])
        .send()
        .await
        .unwrap();
    let answer = read(response).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "alice"));
    let fresh = answer.nonce.expect("a fresh DPoP-Nonce on the success");
    assert_ne!(fresh, old);
    assert_eq!(answer.cache_control.as_deref(), Some("no-store"));
    // The fresh one is current: no further nonce.
    let response = request(&url, &w.client, &token, &url, Some(&fresh), &[])
        .send()
        .await
        .unwrap();
    let answer = read(response).await;
    assert_eq!((answer.status, answer.nonce), (200, None));
}

#[actix_web::test]
async fn any_of_and_all_of_scope_sets() {
    let w = world();
    let guard = w.guard();
    let cases = [
        (
            "/any-met",
            ScopeRequirement::any_of(["orders:admin", "orders:read"]),
            true,
        ),
        (
            "/any-unmet",
            ScopeRequirement::any_of(["orders:admin", "orders:write"]),
            false,
        ),
        (
            "/all-met",
            ScopeRequirement::all_of(["orders:read", "profile"]),
            true,
        ),
        (
            "/all-unmet",
            ScopeRequirement::all_of(["orders:read", "orders:write"]),
            false,
        ),
        ("/any-empty", ScopeRequirement::any_of([]), false),
        ("/one-met", ScopeRequirement::one("profile"), true),
        ("/one-unmet", ScopeRequirement::one("orders"), false),
    ];
    let routes = cases.clone();
    let server = start(|origin| {
        let origin = origin.to_owned();
        move |cfg: &mut web::ServiceConfig| {
            for (path, required, _) in &routes {
                let middleware = DpopMiddleware::new(guard.clone(), policy(&origin));
                let middleware = match *path {
                    "/one-met" => middleware.require_scope("profile"),
                    "/one-unmet" => middleware.require_scope("orders"),
                    _ => middleware.require_scopes(required.clone()),
                };
                cfg.service(guarded(path, middleware));
            }
        }
    });
    let token = w.token("orders:read profile");
    for (path, required, allowed) in cases {
        let answer = call(&server.url(path), &w.client, &token).await;
        if allowed {
            assert_eq!(
                (answer.status, answer.body.as_str()),
                (200, "alice"),
                "{path}"
            );
        } else {
            assert_eq!(answer.status, 403, "{path} {required:?}");
            assert!(
                answer.challenge.contains(r#"error="insufficient_scope""#),
                "{}",
                answer.challenge
            );
        }
    }
    let answer = call(&server.url("/all-unmet"), &w.client, &token).await;
    assert!(
        answer
            .challenge
            .contains(r#"scope="orders:read orders:write""#),
        "{}",
        answer.challenge
    );
    let answer = call(&server.url("/any-unmet"), &w.client, &token).await;
    assert!(
        answer.challenge.contains(r#"scope="orders:admin""#),
        "{}",
        answer.challenge
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

#[actix_web::test]
async fn the_hook_sees_every_rejection_with_its_reason_and_principal() {
    let w = world();
    let guard = w.guard();
    let seen = Seen::default();
    let server = start(|origin| {
        let base = DpopMiddleware::new(guard, policy(origin)).on_rejection(recorder(&seen));
        let write = base.clone().require_scope("orders:write");
        move |cfg: &mut web::ServiceConfig| {
            cfg.service(guarded("/write", write.clone()))
                .service(guarded("/orders", base.clone()));
        }
    });
    let token = w.token("orders:read");
    // Missing scope: the token was verified, so the rejection names alice.
    assert_eq!(
        call(&server.url("/write"), &w.client, &token).await.status,
        403
    );
    // No credentials at all (anonymous is not allowed here).
    assert_eq!(bare(&server.url("/write")).await.status, 401);
    // A broken token: nothing verified, no principal.
    assert_eq!(
        call(&server.url("/write"), &w.client, "not.a.token")
            .await
            .status,
        401
    );
    // A replayed proof: the token verified, the proof's second use refused.
    let url = server.url("/orders");
    let once = request(&url, &w.client, &token, &url, None, &[])
        .build()
        .unwrap();
    let again = once.try_clone().unwrap();
    let client = reqwest::Client::new();
    assert_eq!(client.execute(once).await.unwrap().status(), 200);
    assert_eq!(client.execute(again).await.unwrap().status(), 401);

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

#[actix_web::test]
async fn anonymous_requests_pass_only_without_credentials() {
    let w = world();
    let guard = w.guard();
    let server = start(|origin| {
        let open = DpopMiddleware::new(guard.clone(), policy(origin)).allow_anonymous();
        let closed = DpopMiddleware::new(guard, policy(origin));
        move |cfg: &mut web::ServiceConfig| {
            cfg.service(maybe_guarded("/maybe", open.clone()))
                .service(maybe_guarded("/closed", closed.clone()));
        }
    });
    let url = server.url("/maybe");
    let answer = bare(&url).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "anonymous"));
    let token = w.token("orders:read");
    let answer = call(&url, &w.client, &token).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "alice"));

    // Bad credentials are refused, never downgraded to anonymous.
    assert_eq!(call(&url, &w.client, "not.a.token").await.status, 401);
    let client = reqwest::Client::new();
    let proof_only = client.get(&url).header("dpop", "x").send().await.unwrap();
    assert_eq!(proof_only.status(), 401);
    let token_only = client
        .get(&url)
        .header("authorization", format!("DPoP {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(token_only.status(), 401, "a DPoP token without a proof");

    // Without allow_anonymous, Option<Authorized> changes nothing: no credentials is a 401.
    assert_eq!(bare(&server.url("/closed")).await.status, 401);
}

#[actix_web::test]
async fn without_the_middleware_the_extractor_fails_closed_and_a_rejection_is_an_error() {
    let w = world();
    let guard = w.guard();
    let scope_refusal = guard.insufficient_scope("orders:write");
    let expected = scope_refusal.www_authenticate().to_owned();
    let server = start(|_| {
        move |cfg: &mut web::ServiceConfig| {
            let refusal = scope_refusal.clone();
            cfg.route(
                "/unguarded",
                web::get().to(|who: Authorized| async move { who.subject().to_owned() }),
            )
            .route(
                "/unguarded-maybe",
                web::get().to(|who: Option<Authorized>| async move {
                    who.map_or_else(|| "anonymous".to_owned(), |who| who.subject().to_owned())
                }),
            )
            .route(
                "/refused",
                web::get().to(move || {
                    let refusal = refusal.clone();
                    async move { Err::<String, Rejection>(refusal) }
                }),
            );
        }
    });
    // Valid credentials do not help: no middleware checked them.
    let token = w.token("orders:read");
    let answer = call(&server.url("/unguarded"), &w.client, &token).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.challenge, format!("DPoP algs=\"{ALGS}\""));
    assert_eq!(answer.body, "");
    let answer = call(&server.url("/unguarded-maybe"), &w.client, &token).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "anonymous"));

    let answer = bare(&server.url("/refused")).await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.challenge, expected);
    assert!(expected.contains(r#"scope="orders:write""#), "{expected}");
    assert_eq!(answer.body, "", "no Display text in the answer");
    // As an actix error it has actix's status type too.
    let refusal = guard.insufficient_scope("orders:write");
    assert_eq!(ResponseError::status_code(&refusal).as_u16(), 403);
}

#[actix_web::test]
async fn a_key_over_its_share_of_the_replay_store_gets_429_with_retry_after() {
    let w = world();
    let store = MemoryReplayStore::with_capacity(1024).with_per_key_limit(1);
    let guard = Arc::new(
        RequestGuard::new(w.verifier())
            .with_proof_verifier(ProofVerifier::with_replay_store(store)),
    );
    let server = start(|origin| {
        let middleware = DpopMiddleware::new(guard, policy(origin));
        move |cfg: &mut web::ServiceConfig| {
            cfg.service(guarded("/orders", middleware.clone()));
        }
    });
    let url = server.url("/orders");
    let token = w.token("orders:read");
    assert_eq!(call(&url, &w.client, &token).await.status, 200);
    let answer = call(&url, &w.client, &token).await;
    assert_eq!(answer.status, 429);
    let secs: u64 = answer.retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=70).contains(&secs), "{secs}");
}

#[actix_web::test]
async fn proxy_prefix_policy() {
    let w = world();
    let guard = w.guard();
    let server = start(|_| {
        let urls = PublicUrlPolicy::new("https://api.example.com")
            .unwrap()
            .with_path_prefix("/v1")
            .unwrap();
        let middleware = DpopMiddleware::new(guard, urls);
        move |cfg: &mut web::ServiceConfig| {
            cfg.service(guarded("/orders", middleware.clone()));
        }
    });
    let token = w.token("orders:read");
    let actual = server.url("/orders");
    let status = |htu: String| {
        let request = request(&actual, &w.client, &token, &htu, None, &[]);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        status("https://api.example.com/v1/orders".into()).await,
        200
    );
    assert_eq!(status("https://api.example.com/orders".into()).await, 401);
    assert_eq!(status(actual.clone()).await, 401);
}

#[actix_web::test]
async fn forwarded_headers_trusted_and_untrusted() {
    let w = world();
    let forwarded = [
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "edge.example.com"),
        ("x-forwarded-prefix", "/api"),
    ];
    let public = "https://edge.example.com/api/orders";
    let token = w.token("orders:read");
    let status = |actual: &str, htu: &str, headers: &[(&str, &str)]| {
        let request = request(actual, &w.client, &token, htu, None, headers);
        async move { request.send().await.unwrap().status().as_u16() }
    };

    let guard = w.guard();
    let trusting = start(|origin| {
        let urls = PublicUrlPolicy::new(origin)
            .unwrap()
            .with_origin("https://edge.example.com")
            .unwrap()
            .behind(TrustedProxy::x_forwarded().with_prefix());
        let middleware = DpopMiddleware::new(guard, urls);
        move |cfg: &mut web::ServiceConfig| {
            cfg.service(guarded("/orders", middleware.clone()));
        }
    });
    let actual = trusting.url("/orders");
    assert_eq!(status(&actual, public, &forwarded).await, 200);
    // The trusted proxy's headers name the URL: the server's own URL no longer matches.
    assert_eq!(status(&actual, &actual, &forwarded).await, 401);

    // Not trusted: the forwarded headers are ignored, the proof for the edge URL fails, and a
    // client cannot steer the expected URL.
    let guard = w.guard();
    let strict = start(|origin| {
        let middleware = DpopMiddleware::new(guard, policy(origin));
        move |cfg: &mut web::ServiceConfig| {
            cfg.service(guarded("/orders", middleware.clone()));
        }
    });
    let actual = strict.url("/orders");
    assert_eq!(status(&actual, public, &forwarded).await, 401);
    assert_eq!(status(&actual, &actual, &forwarded).await, 200);
}

type RedisGuard = RequestGuard<RedisReplayStore, RedisRevocationStore>;

/// One instance of the API: its own connections to the shared Redis.
fn redis_guard(redis: &RedisServer, w: &World) -> Arc<RedisGuard> {
    // A generous deadline: the test machine is busy verifying signatures on every core.
    let config = RedisConfig::new()
        .with_prefix("actix:")
        .with_timeout(Duration::from_secs(2));
    let guard = RequestGuard::new(w.verifier())
        .with_proof_verifier(ProofVerifier::with_replay_store(
            RedisReplayStore::open(&redis.url(), &config).unwrap(),
        ))
        .with_revocation_store(RedisRevocationStore::open(&redis.url(), &config).unwrap());
    Arc::new(guard)
}

/// Two actix servers, each with its own Redis-backed guard on one `redis-server`: a proof
/// accepted by one is refused by the other, and a revocation through one is enforced by the
/// other — the middleware runs the asynchronous stores.
#[actix_web::test]
async fn redis_stores_are_shared_by_two_servers() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let w = world();
    let (a_guard, b_guard) = (redis_guard(&redis, &w), redis_guard(&redis, &w));
    // Both servers expect the same public URL, as a fleet behind one name does.
    let public = "https://api.example.com/orders";
    let serve = |guard: Arc<RedisGuard>| {
        start(|_| {
            let middleware = DpopMiddleware::new(guard, policy("https://api.example.com"));
            move |cfg: &mut web::ServiceConfig| {
                cfg.service(guarded("/orders", middleware.clone()));
            }
        })
    };
    let (a, b) = (serve(a_guard.clone()), serve(b_guard));
    let token = w.token("orders:read");

    let once = request(&a.url("/orders"), &w.client, &token, public, None, &[])
        .build()
        .unwrap();
    let mut again = once.try_clone().unwrap();
    *again.url_mut() = b.url("/orders").parse().unwrap();
    let client = reqwest::Client::new();
    let first = read(client.execute(once).await.unwrap()).await;
    assert_eq!((first.status, first.body.as_str()), (200, "alice"));
    let replay = read(client.execute(again).await.unwrap()).await;
    assert_eq!(replay.status, 401, "the proof was used at the other server");
    assert!(
        replay.challenge.contains(r#"error="invalid_dpop_proof""#),
        "{}",
        replay.challenge
    );

    // A fresh proof works at b, until the key is revoked through a.
    let fresh = || request(&b.url("/orders"), &w.client, &token, public, None, &[]).send();
    assert_eq!(fresh().await.unwrap().status(), 200);
    let revocation = Revocation::key(w.client.thumbprint(), UnixTime::now());
    AsyncRevocationStore::revoke(a_guard.revocation(), &revocation, UnixTime::now())
        .await
        .unwrap();
    let revoked = read(fresh().await.unwrap()).await;
    assert_eq!(revoked.status, 401);
    assert!(
        revoked.challenge.contains(r#"error="invalid_token""#),
        "{}",
        revoked.challenge
    );
}

/// `with_clock` drives the middleware's notion of now: a proof signed now is too old for a
/// middleware whose clock reads ten minutes later.
#[actix_web::test]
async fn the_middleware_reads_time_from_its_clock() {
    let w = world();
    let guard = w.guard();
    let later = UnixTime::from_secs(UnixTime::now().as_secs() + 600);
    let server = start(|origin| {
        let middleware =
            DpopMiddleware::new(guard, policy(origin)).with_clock(Arc::new(FixedClock(later)));
        move |cfg: &mut web::ServiceConfig| {
            cfg.service(guarded("/orders", middleware.clone()));
        }
    });
    let answer = call(&server.url("/orders"), &w.client, &w.token("orders:read")).await;
    assert_eq!(answer.status, 401);
}

/// Header values are read as every framework's integration reads them: every value of a name,
/// and one that is not visible ASCII is refused, never skipped.
#[actix_web::test]
async fn several_and_unreadable_header_values_are_refused() {
    let w = world();
    let guard = w.guard();
    let server = start(|origin| {
        let middleware = DpopMiddleware::new(guard, policy(origin)).allow_anonymous();
        move |cfg: &mut web::ServiceConfig| {
            cfg.service(maybe_guarded("/orders", middleware.clone()));
        }
    });
    let url = server.url("/orders");
    let token = w.token("orders:read");
    let unreadable = reqwest::header::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap();
    let send = |name: &'static str, value: reqwest::header::HeaderValue| {
        let request = request(&url, &w.client, &token, &url, None, &[]).header(name, value);
        async move { read(request.send().await.unwrap()).await }
    };
    // A second, unreadable DPoP header: two proofs.
    let answer = send("dpop", unreadable.clone()).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(
        answer.challenge.contains(r#"error="invalid_request""#),
        "{answer:?}"
    );
    // A second, unreadable Authorization header: two authorizations.
    let answer = send("authorization", unreadable.clone()).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    // Only an unreadable Authorization: credentials were sent, so no anonymous pass.
    let response = reqwest::Client::new()
        .get(&url)
        .header("authorization", unreadable)
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), 200);
    // Two readable proofs.
    let second = w
        .client
        .proof("GET", &url)
        .with_access_token(&token)
        .sign(UnixTime::now())
        .unwrap();
    let answer = send("dpop", second.parse().unwrap()).await;
    assert_eq!(answer.status, 400, "{answer:?}");
}
