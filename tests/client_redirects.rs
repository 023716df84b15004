//! What a `DpopClient` does with what one server tells it (issue 14, RFC 9449 §11.2), against
//! axum servers on loopback, each listener its own origin:
//! - redirects are never followed — not to another origin (which would get the proof, the
//!   `Authorization` header and the client's credentials, and whose nonce would be cached for
//!   the first origin), not on the same origin, not even when the caller's builder asks for
//!   redirects;
//! - the clock skew is learnt per origin, only from DPoP answers (a nonce, a DPoP challenge, an
//!   authorization server's DPoP error), only within the bound, and used only for that origin;
//!   and it does make proofs acceptable to a server whose clock differs from the client's.

#![cfg(all(feature = "axum", feature = "reqwest"))]

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use base64ct::{Base64UrlUnpadded, Encoding};
use keybound::{
    error_response, token_response, AuthorizationRequest, AuthorizationServerEndpoints, Authorized,
    ClientAuth, ClientError, Clock, DpopClient, DpopLayer, Grant, IssuerKeys, PkceVerifier,
    ProofSigner, PublicUrlPolicy, RequestGuard, SigningKey, TokenEndpoint, TokenIssuer,
    TokenRequest, TokenVerifier, UnixTime,
};
use serde_json::Value;

/// The client's (fixed) local time in the mock tests.
const T: u64 = 1_700_000_000;

// --- recording mocks ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: HeaderMap,
    body: String,
}

impl Seen {
    /// The claims of the DPoP proof (not verified).
    fn proof_claims(&self) -> Value {
        let proof = self.headers.get("dpop").expect("a DPoP header");
        let payload = proof.to_str().unwrap().split('.').nth(1).unwrap();
        serde_json::from_slice(&Base64UrlUnpadded::decode_vec(payload).unwrap()).unwrap()
    }

    fn iat(&self) -> u64 {
        self.proof_claims()["iat"].as_u64().unwrap()
    }
}

/// Status, headers, body.
type Reply = (u16, Vec<(&'static str, String)>, String);

struct Mock {
    origin: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Mock {
    /// Answers every request with `respond(request)`, recording it first.
    async fn start(respond: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let respond = Arc::new(respond);
        let recorder = seen.clone();
        let app = Router::new().fallback(
            move |_: Method, uri: Uri, headers: HeaderMap, body: String| {
                let (seen, respond) = (recorder.clone(), respond.clone());
                async move {
                    let request = Seen {
                        path: uri.path().to_owned(),
                        headers,
                        body,
                    };
                    seen.lock().unwrap().push(request.clone());
                    let (status, reply_headers, body) = respond(&request);
                    let mut headers = HeaderMap::new();
                    for (name, value) in reply_headers {
                        headers.append(
                            HeaderName::from_static(name),
                            HeaderValue::from_str(&value).unwrap(),
                        );
                    }
                    (StatusCode::from_u16(status).unwrap(), headers, body).into_response()
                }
            },
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { origin, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn last(&self) -> Seen {
        self.seen().pop().expect("a request")
    }
}

/// A server that must never be reached: it records everything and answers like a real one,
/// with a nonce of its own.
async fn elsewhere() -> Mock {
    Mock::start(|_| {
        (
            200,
            vec![
                ("dpop-nonce", "nonce-elsewhere".to_owned()),
                ("content-type", "application/json".to_owned()),
            ],
            r#"{"access_token":"stolen","token_type":"DPoP","request_uri":"urn:x","expires_in":60}"#
                .to_owned(),
        )
    })
    .await
}

/// A clock stopped at `secs`, or running `offset` seconds from the system clock.
#[derive(Debug)]
enum TestClock {
    Fixed(u64),
    Offset(i64),
}

impl Clock for TestClock {
    fn now(&self) -> UnixTime {
        match self {
            Self::Fixed(secs) => UnixTime::from_secs(*secs),
            Self::Offset(offset) => {
                UnixTime::from_secs(UnixTime::now().as_secs().saturating_add_signed(*offset))
            }
        }
    }
}

fn client_from(builder: reqwest::ClientBuilder) -> DpopClient {
    DpopClient::new(builder, ProofSigner::new(SigningKey::generate().unwrap())).unwrap()
}

/// A client at local time [`T`] that learns skew.
fn learning_client() -> DpopClient {
    client_from(reqwest::Client::builder())
        .with_clock(Arc::new(TestClock::Fixed(T)))
        .with_clock_skew_from_date_header()
}

/// `secs` as an IMF-fixdate (RFC 9110 §5.6.7).
fn http_date(secs: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(secs as i64).unwrap();
    let weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        [t.weekday().number_days_from_monday() as usize];
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][u8::from(t.month()) as usize - 1];
    format!(
        "{weekday}, {:02} {month} {} {:02}:{:02}:{:02} GMT",
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

async fn call(client: &DpopClient, url: &str) -> reqwest::Response {
    let request = reqwest::Client::new().get(url).build().unwrap();
    client.execute(request, Some("at-1")).await.unwrap()
}

#[test]
fn http_date_formats_imf_fixdate() {
    assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
}

// --- redirects ---------------------------------------------------------------------------------

#[tokio::test]
async fn execute_returns_a_cross_origin_redirect_unfollowed() {
    let other = elsewhere().await;
    let target = other.url("/steal");
    let first = Mock::start(move |_| {
        (
            307,
            vec![
                ("location", target.clone()),
                ("dpop-nonce", "nonce-first".to_owned()),
            ],
            String::new(),
        )
    })
    .await;
    // reqwest's default policy follows up to 10 redirects; a builder asking for them
    // explicitly is overridden too.
    for builder in [
        reqwest::Client::builder(),
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(10)),
    ] {
        let client = client_from(builder);
        let response = call(&client, &first.url("/orders")).await;
        assert_eq!(response.status(), 307);
        assert_eq!(
            response.headers()["location"].to_str().unwrap(),
            other.url("/steal")
        );
        // The other origin got nothing: no proof, no `Authorization`, no request at all.
        assert!(other.seen().is_empty(), "{:?}", other.seen());
        // The nonce cached for the first origin is the first origin's.
        assert_eq!(
            client.nonce_for(&first.origin).as_deref(),
            Some("nonce-first")
        );
        assert_eq!(client.nonce_for(&other.origin), None);
    }
    assert_eq!(first.seen().len(), 2, "one request per client, no retry");
    assert!(first.last().headers.contains_key("dpop"));
}

#[tokio::test]
async fn a_same_origin_redirect_is_not_followed_either() {
    let server = Mock::start(|seen| match seen.path.as_str() {
        "/old" => (308, vec![("location", "/new".to_owned())], String::new()),
        _ => (200, vec![], "new".to_owned()),
    })
    .await;
    let client = client_from(reqwest::Client::builder());
    let response = call(&client, &server.url("/old")).await;
    assert_eq!(response.status(), 308);
    let paths: Vec<String> = server.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(paths, ["/old"]);
}

#[tokio::test]
async fn authorization_server_redirects_are_errors_and_credentials_stay_home() {
    let other = elsewhere().await;
    let base = other.origin.clone();
    let issuer = Mock::start(move |seen| {
        (
            307,
            vec![
                ("location", format!("{base}{}", seen.path)),
                ("dpop-nonce", "nonce-as".to_owned()),
            ],
            String::new(),
        )
    })
    .await;
    let endpoints = AuthorizationServerEndpoints::new(&issuer.origin, issuer.url("/token"))
        .unwrap()
        .with_pushed_authorization_request_endpoint(issuer.url("/par"))
        .unwrap();
    let client = client_from(reqwest::Client::builder());
    for auth in [
        ClientAuth::secret_post("app", "s3cret-post"),
        ClientAuth::secret_basic("app", "s3cret-basic"),
    ] {
        let refused = client
            .token(&endpoints, &auth, &Grant::client_credentials())
            .await;
        assert!(
            matches!(refused, Err(ClientError::TokenEndpoint { status: 307, .. })),
            "{refused:?}"
        );
        let verifier = PkceVerifier::generate().unwrap();
        let request = AuthorizationRequest::new("https://app.example/cb", &verifier);
        let refused = client
            .push_authorization_request(&endpoints, &auth, &request)
            .await;
        assert!(
            matches!(
                refused,
                Err(ClientError::PushedAuthorizationEndpoint { status: 307, .. })
            ),
            "{refused:?}"
        );
    }
    assert!(other.seen().is_empty(), "{:?}", other.seen());
    // The secret went only where it was meant to.
    assert!(issuer.seen().iter().any(|s| s.body.contains("s3cret-post")));
    assert_eq!(
        client
            .authorization_server_nonce_for(&issuer.origin)
            .as_deref(),
        Some("nonce-as")
    );
}

// --- clock skew --------------------------------------------------------------------------------

/// Answers 401 `invalid_dpop_proof` with a nonce and `Date` = `T + skew`.
async fn dpop_refusing(skew: i64) -> Mock {
    Mock::start(move |_| {
        (
            401,
            vec![
                ("date", http_date(T.saturating_add_signed(skew))),
                (
                    "www-authenticate",
                    r#"DPoP error="invalid_dpop_proof""#.to_owned(),
                ),
                ("dpop-nonce", "n-1".to_owned()),
            ],
            String::new(),
        )
    })
    .await
}

#[tokio::test]
async fn a_hostile_origins_date_moves_only_its_own_proofs() {
    let hostile = dpop_refusing(240).await;
    let honest = Mock::start(|_| (200, vec![("date", http_date(T))], String::new())).await;
    let client = learning_client();

    call(&client, &hostile.url("/")).await;
    assert_eq!(client.clock_skew_secs_for(&hostile.origin), 240);
    assert_eq!(client.clock_skew_secs_for(&honest.origin), 0);

    call(&client, &honest.url("/")).await;
    assert_eq!(
        honest.last().iat(),
        T,
        "the honest server's proof is not future-dated"
    );

    // The hostile origin's own proofs do follow its clock.
    call(&client, &hostile.url("/")).await;
    assert_eq!(hostile.last().iat(), T + 240);
}

#[tokio::test]
async fn a_date_without_a_dpop_challenge_or_nonce_teaches_nothing() {
    let server = Mock::start(|seen| {
        let date = ("date", http_date(T + 100));
        match seen.path.as_str() {
            "/plain" => (200, vec![date], String::new()),
            "/bearer" => (
                401,
                vec![
                    date,
                    (
                        "www-authenticate",
                        r#"Bearer error="invalid_token""#.to_owned(),
                    ),
                ],
                String::new(),
            ),
            "/challenge" => (
                401,
                vec![
                    date,
                    (
                        "www-authenticate",
                        r#"DPoP error="invalid_dpop_proof""#.to_owned(),
                    ),
                ],
                String::new(),
            ),
            _ => (
                200,
                vec![date, ("dpop-nonce", "n-1".to_owned())],
                String::new(),
            ),
        }
    })
    .await;
    let client = learning_client();
    call(&client, &server.url("/plain")).await;
    call(&client, &server.url("/bearer")).await;
    assert_eq!(client.clock_skew_secs_for(&server.origin), 0);
    call(&client, &server.url("/plain")).await;
    assert_eq!(server.last().iat(), T);

    // A DPoP challenge teaches, as does a nonce.
    call(&client, &server.url("/challenge")).await;
    assert_eq!(client.clock_skew_secs_for(&server.origin), 100);
    let other = learning_client();
    call(&other, &server.url("/nonce")).await;
    assert_eq!(other.clock_skew_secs_for(&server.origin), 100);
    call(&other, &server.url("/plain")).await;
    assert_eq!(server.last().iat(), T + 100);

    // Off unless asked for.
    let default = client_from(reqwest::Client::builder()).with_clock(Arc::new(TestClock::Fixed(T)));
    call(&default, &server.url("/nonce")).await;
    assert_eq!(default.clock_skew_secs_for(&server.origin), 0);
}

#[tokio::test]
async fn an_authorization_servers_date_teaches_only_with_a_dpop_error() {
    let server = Mock::start(|seen| {
        let error = if seen.path == "/dpop" {
            "invalid_dpop_proof"
        } else {
            "invalid_grant"
        };
        (
            400,
            vec![
                ("date", http_date(T - 50)),
                ("content-type", "application/json".to_owned()),
            ],
            format!(r#"{{"error":"{error}"}}"#),
        )
    })
    .await;
    let client = learning_client();
    let grant = [("grant_type", "client_credentials")];
    let refused = client.request_token(&server.url("/other"), &grant).await;
    assert!(matches!(
        refused,
        Err(ClientError::TokenEndpoint { status: 400, .. })
    ));
    assert_eq!(client.clock_skew_secs_for(&server.origin), 0);
    let _ = client.request_token(&server.url("/dpop"), &grant).await;
    assert_eq!(client.clock_skew_secs_for(&server.origin), -50);
    let _ = client.request_token(&server.url("/other"), &grant).await;
    assert_eq!(server.last().iat(), T - 50);

    // A client assertion sent there is dated in that server's time too.
    let endpoints =
        AuthorizationServerEndpoints::new(&server.origin, server.url("/other")).unwrap();
    let auth = ClientAuth::private_key_jwt("app", Arc::new(SigningKey::generate().unwrap()));
    let _ = client
        .token(&endpoints, &auth, &Grant::client_credentials())
        .await;
    let body = server.last().body;
    let assertion = reqwest::Url::parse(&format!("http://x/?{body}"))
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "client_assertion")
        .expect("a client assertion")
        .1
        .into_owned();
    let payload = assertion.split('.').nth(1).unwrap();
    let claims: Value =
        serde_json::from_slice(&Base64UrlUnpadded::decode_vec(payload).unwrap()).unwrap();
    assert_eq!(claims["iat"], T - 50);
}

#[tokio::test]
async fn a_skew_beyond_the_bound_is_ignored_not_clamped() {
    let far_ahead = dpop_refusing(301).await;
    let far_behind = dpop_refusing(-301).await;
    let client = learning_client();
    for far in [&far_ahead, &far_behind] {
        call(&client, &far.url("/")).await;
        assert_eq!(client.clock_skew_secs_for(&far.origin), 0);
        call(&client, &far.url("/")).await;
        assert_eq!(far.last().iat(), T);
    }
    // Exactly at the bound is learnt; an origin keeps its last value when a later answer is
    // out of bounds.
    let at_bound = dpop_refusing(-300).await;
    call(&client, &at_bound.url("/")).await;
    assert_eq!(client.clock_skew_secs_for(&at_bound.origin), -300);

    let switching = {
        let calls = Arc::new(Mutex::new(0u32));
        Mock::start(move |_| {
            let mut n = calls.lock().unwrap();
            *n += 1;
            let skew = if *n == 1 { 100 } else { 1000 };
            (
                200,
                vec![
                    ("date", http_date(T + skew)),
                    ("dpop-nonce", "n".to_owned()),
                ],
                String::new(),
            )
        })
        .await
    };
    call(&client, &switching.url("/")).await;
    call(&client, &switching.url("/")).await;
    assert_eq!(client.clock_skew_secs_for(&switching.origin), 100);

    // The bound is configurable.
    let wide = learning_client().with_max_clock_skew_secs(600);
    call(&wide, &far_ahead.url("/")).await;
    assert_eq!(wide.clock_skew_secs_for(&far_ahead.origin), 301);
}

// --- the skew at work: a real token endpoint and API, the client's clock 200 s behind ----------

const ISS: &str = "https://as.example.com";
const AUD: &str = "orders-api";

/// A token endpoint and, on another origin, an API, both checking proofs with the crate at the
/// system time (hyper adds the `Date` header).
async fn real_servers() -> (String, String) {
    let issuer = Arc::new(TokenIssuer::new(ISS, IssuerKeys::generate().unwrap()));

    let as_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let as_origin = format!("http://{}", as_listener.local_addr().unwrap());
    let endpoint = Arc::new(TokenEndpoint::new(format!("{as_origin}/token")));
    let token_issuer = issuer.clone();
    let token_route = post(move |headers: HeaderMap| async move {
        let proofs: Vec<&str> = headers
            .get_all("dpop")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let now = UnixTime::now();
        match endpoint.check(&proofs, None, now) {
            Ok(proof) => {
                let grant = TokenRequest::new("alice", AUD, "test", proof.thumbprint())
                    .with_scope("orders:read");
                let issued = token_issuer.issue(&grant, now).unwrap();
                (StatusCode::OK, token_response(&issued, None, None))
            }
            Err(error) => (StatusCode::BAD_REQUEST, error_response(&error).body),
        }
    });
    let as_app = Router::new().route("/token", token_route);
    tokio::spawn(async move { axum::serve(as_listener, as_app).await });

    let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_origin = format!("http://{}", api_listener.local_addr().unwrap());
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()));
    let api_app = Router::new()
        .route(
            "/orders",
            get(|who: Authorized| async move { who.subject().to_owned() }),
        )
        .layer(DpopLayer::new(
            Arc::new(guard),
            PublicUrlPolicy::new(&api_origin).unwrap(),
        ));
    tokio::spawn(async move { axum::serve(api_listener, api_app).await });
    (as_origin, api_origin)
}

#[tokio::test]
async fn the_learnt_skew_makes_proofs_acceptable_to_a_server_with_another_clock() {
    let (as_origin, api_origin) = real_servers().await;
    let token_url = format!("{as_origin}/token");
    let grant = [("grant_type", "client_credentials")];
    let behind =
        || client_from(reqwest::Client::builder()).with_clock(Arc::new(TestClock::Offset(-200)));

    // Without learning, the client's proofs are stale for good.
    let stuck = behind();
    for _ in 0..2 {
        let refused = stuck.request_token(&token_url, &grant).await;
        assert!(
            matches!(&refused, Err(ClientError::TokenEndpoint { error: Some(e), .. }) if e == "invalid_dpop_proof"),
            "{refused:?}"
        );
    }

    let client = behind().with_clock_skew_from_date_header();
    let refused = client.request_token(&token_url, &grant).await;
    assert!(
        matches!(&refused, Err(ClientError::TokenEndpoint { error: Some(e), .. }) if e == "invalid_dpop_proof"),
        "{refused:?}"
    );
    let skew = client.clock_skew_secs_for(&as_origin);
    assert!((199..=201).contains(&skew), "{skew}");
    let token = client
        .request_token(&token_url, &grant)
        .await
        .expect("accepted once the skew is known")
        .access_token;

    // The API is another origin: its skew is learnt from its own refusal, then it accepts.
    assert_eq!(client.clock_skew_secs_for(&api_origin), 0);
    let orders = format!("{api_origin}/orders");
    let orders_call = || {
        let request = reqwest::Client::new().get(&orders).build().unwrap();
        client.execute(request, Some(&token))
    };
    let refused = orders_call().await.unwrap();
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("invalid_dpop_proof"), "{challenge}");
    let skew = client.clock_skew_secs_for(&api_origin);
    assert!((199..=201).contains(&skew), "{skew}");
    let accepted = orders_call().await.unwrap();
    assert_eq!(accepted.status(), 200);
    assert_eq!(accepted.text().await.unwrap(), "alice");
}

/// Plain `http` to a host that is not loopback is refused before anything is sent (the proof
/// and token would travel in the clear), unless the client opts in by name.
#[tokio::test]
async fn plain_http_off_loopback_is_refused_before_sending() {
    let client = client_from(reqwest::Client::builder());
    let url = "http://api.example.invalid/orders";
    let request = || reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap());
    match client.execute(request(), Some("token")).await {
        Err(ClientError::Request(keybound::Error::InsecureUrl("request url"))) => {}
        other => panic!("expected InsecureUrl, got {other:?}"),
    }
    // Opted in, the request is attempted (and fails to resolve the reserved name).
    let insecure = client_from(reqwest::Client::builder()).allow_insecure_http();
    match insecure.execute(request(), Some("token")).await {
        Err(ClientError::Http(_)) => {}
        other => panic!("expected a transport error, got {other:?}"),
    }
}
