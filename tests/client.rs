//! The client against a mock authorization server (axum on loopback) that records exactly what
//! arrives: client authentication (basic with a tricky id and secret, post, none,
//! private_key_jwt verified with the crate), PKCE and `dpop_jkt`, resource indicators, PAR
//! then the authorization URL, the `use_dpop_nonce` retry (once, never twice), nonces kept per
//! server role, the token source (renewal before expiry with a test clock, single flight,
//! refresh-token rotation), and the refusals: hostile `error_description`, oversized answers,
//! tokens that are not DPoP-bound.

#![cfg(all(feature = "axum", feature = "reqwest"))]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::Router;
use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use keybound::{
    AuthorizationRequest, AuthorizationServerEndpoints, ClientAuth, ClientError, Clock, DpopClient,
    Error, Grant, PkceVerifier, ProofSigner, SigningKey, Thumbprint, TokenEndpoint, TokenResponse,
    TokenSource, TokenSourceOptions, UnixTime, MAX_RESPONSE_LEN,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const REDIRECT_URI: &str = "https://app.example/cb";

// --- the mock authorization server -----------------------------------------------------------

/// One request as the mock received it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: HeaderMap,
    body: String,
}

impl Seen {
    /// The form body, decoded, in order.
    fn form(&self) -> Vec<(String, String)> {
        decode_query(&self.body)
    }

    /// Every value of `name` in the form.
    fn all(&self, name: &str) -> Vec<String> {
        self.form()
            .into_iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v)
            .collect()
    }

    /// The single value of `name` in the form (panics if repeated).
    fn param(&self, name: &str) -> Option<String> {
        let mut all = self.all(name);
        assert!(all.len() <= 1, "{name} repeated: {all:?}");
        all.pop()
    }

    fn header(&self, name: &str) -> Option<String> {
        let mut values = self.headers.get_all(name).iter();
        let first = values.next().map(|v| v.to_str().unwrap().to_owned());
        assert!(values.next().is_none(), "{name} repeated");
        first
    }

    /// The claims of the DPoP proof (not verified; see [`proof_jkt`](Self::proof_jkt)).
    fn proof_claims(&self) -> Value {
        let proof = self.header("dpop").expect("a DPoP header");
        let payload = proof.split('.').nth(1).unwrap();
        serde_json::from_slice(&Base64UrlUnpadded::decode_vec(payload).unwrap()).unwrap()
    }

    /// Verifies the DPoP proof with the crate's token-endpoint check, for `POST <url>`, at the
    /// proof's own `iat` (the client may run on a test clock), and returns its key's thumbprint.
    fn proof_jkt(&self, url: &str) -> Thumbprint {
        assert_eq!(self.method, "POST");
        let proof = self.header("dpop").expect("a DPoP header");
        let iat = self.proof_claims()["iat"].as_u64().unwrap();
        TokenEndpoint::new(url)
            .check(&[&proof], None, UnixTime::from_secs(iat))
            .expect("a valid proof")
            .thumbprint()
    }
}

fn decode_query(text: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{text}"))
        .unwrap()
        .query_pairs()
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect()
}

/// What the mock answers.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

impl Reply {
    fn json(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Answers after `delay`, so that concurrent callers overlap.
    fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

fn token_json(access_token: &str, refresh_token: Option<&str>, expires_in: Option<u64>) -> String {
    let mut body =
        json!({ "access_token": access_token, "token_type": "DPoP", "scope": "orders:read" });
    if let Some(rt) = refresh_token {
        body["refresh_token"] = json!(rt);
    }
    if let Some(secs) = expires_in {
        body["expires_in"] = json!(secs);
    }
    body.to_string()
}

fn use_dpop_nonce(nonce: &str) -> Reply {
    Reply::json(
        400,
        r#"{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}"#,
    )
    .header("dpop-nonce", nonce)
}

type Responder = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

struct Mock {
    origin: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Mock {
    /// Serves every path with `respond(request, earlier hits on that path)`.
    async fn start(respond: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let respond: Arc<Responder> = Arc::new(respond);
        let recorder = seen.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: String| {
                let (seen, respond) = (recorder.clone(), respond.clone());
                async move {
                    let request = Seen {
                        method: method.to_string(),
                        path: uri.path().to_owned(),
                        headers,
                        body,
                    };
                    let reply = {
                        let mut seen = seen.lock().unwrap();
                        let earlier = seen.iter().filter(|s| s.path == request.path).count();
                        seen.push(request.clone());
                        respond(&request, earlier)
                    };
                    if !reply.delay.is_zero() {
                        tokio::time::sleep(reply.delay).await;
                    }
                    let mut headers = HeaderMap::new();
                    for (name, value) in reply.headers {
                        headers.append(
                            HeaderName::from_static(name),
                            HeaderValue::from_str(&value).unwrap(),
                        );
                    }
                    (
                        StatusCode::from_u16(reply.status).unwrap(),
                        headers,
                        reply.body,
                    )
                        .into_response()
                }
            },
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { origin, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// The requests to `path`, in order.
    fn seen(&self, path: &str) -> Vec<Seen> {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|s| s.path == path).cloned().collect()
    }

    /// Issuer = origin, `/token`, `/par`, `/authorize`.
    fn endpoints(&self) -> AuthorizationServerEndpoints {
        AuthorizationServerEndpoints::new(&self.origin, self.url("/token"))
            .unwrap()
            .with_pushed_authorization_request_endpoint(self.url("/par"))
            .unwrap()
            .with_authorization_endpoint(self.url("/authorize"))
            .unwrap()
    }
}

/// Always issues a DPoP token.
async fn issuing_mock() -> Mock {
    Mock::start(|_, n| Reply::json(200, token_json(&format!("at-{n}"), None, Some(300)))).await
}

fn client() -> DpopClient {
    DpopClient::new(
        reqwest::Client::builder(),
        ProofSigner::new(SigningKey::generate().unwrap()),
    )
    .unwrap()
}

fn s256(verifier: &str) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()))
}

// --- client authentication --------------------------------------------------------------------

#[tokio::test]
async fn client_secret_basic_form_encodes_id_and_secret_before_base64() {
    let mock = issuing_mock().await;
    let client = client();
    let auth = ClientAuth::secret_basic("a b:c", "p@ss:w%rd+");
    let grant = Grant::client_credentials().with_scope("orders:read");
    let token = client
        .token(&mock.endpoints(), &auth, &grant)
        .await
        .unwrap();
    assert_eq!(token.access_token, "at-0");

    let [request] = &mock.seen("/token")[..] else {
        panic!("one request")
    };
    // RFC 6749 §2.3.1: form-encode id and secret, join with ':', then base64.
    assert_eq!(
        request.header("authorization").unwrap(),
        format!(
            "Basic {}",
            Base64::encode_string(b"a+b%3Ac:p%40ss%3Aw%25rd%2B")
        )
    );
    assert_eq!(
        request.header("content-type").unwrap(),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        request.form(),
        [
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("scope".to_owned(), "orders:read".to_owned()),
        ],
        "no secret and no client_id in the body"
    );
    assert_eq!(
        request.proof_jkt(&mock.url("/token")),
        client.signer().thumbprint()
    );
}

#[tokio::test]
async fn client_secret_post_and_none_send_the_id_in_the_form() {
    let mock = issuing_mock().await;
    let client = client();
    let endpoints = mock.endpoints();
    let grant = Grant::client_credentials();
    client
        .token(
            &endpoints,
            &ClientAuth::secret_post("a b:c", "p@ss:w%rd+"),
            &grant,
        )
        .await
        .unwrap();
    client
        .token(&endpoints, &ClientAuth::none("public app"), &grant)
        .await
        .unwrap();
    let [post, none] = &mock.seen("/token")[..] else {
        panic!("two requests")
    };
    assert_eq!(post.header("authorization"), None);
    assert_eq!(post.param("client_id").unwrap(), "a b:c");
    assert_eq!(post.param("client_secret").unwrap(), "p@ss:w%rd+");
    assert!(post
        .body
        .contains("client_id=a+b%3Ac&client_secret=p%40ss%3Aw%25rd%2B"));
    assert_eq!(none.header("authorization"), None);
    assert_eq!(none.param("client_id").unwrap(), "public app");
    assert_eq!(none.param("client_secret"), None);
}

#[tokio::test]
async fn private_key_jwt_assertion_verifies_and_names_the_issuer() {
    let mock = issuing_mock().await;
    let client = client();
    let client_key = Arc::new(SigningKey::generate().unwrap());
    let auth = ClientAuth::private_key_jwt("svc-1", client_key.clone());
    let endpoints = mock.endpoints();
    let before = UnixTime::now().as_secs();
    for _ in 0..2 {
        client
            .token(&endpoints, &auth, &Grant::client_credentials())
            .await
            .unwrap();
    }
    let requests = mock.seen("/token");
    let mut jtis = Vec::new();
    for request in &requests {
        assert_eq!(request.header("authorization"), None);
        assert_eq!(request.param("client_id").unwrap(), "svc-1");
        assert_eq!(
            request.param("client_assertion_type").unwrap(),
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        );
        let assertion = request.param("client_assertion").unwrap();
        // The signature, with the crate's verifier and the client's public key.
        let payload = client_key.public_key().verify_jws(&assertion).unwrap();
        assert!(SigningKey::generate()
            .unwrap()
            .public_key()
            .verify_jws(&assertion)
            .is_err());
        let claims: Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(claims["iss"], "svc-1");
        assert_eq!(claims["sub"], "svc-1");
        // draft-ietf-oauth-rfc7523bis: the issuer identifier, not the token endpoint URL.
        assert_eq!(claims["aud"], mock.origin.as_str());
        let (iat, exp) = (
            claims["iat"].as_u64().unwrap(),
            claims["exp"].as_u64().unwrap(),
        );
        assert!(iat >= before && iat <= UnixTime::now().as_secs());
        assert_eq!(exp - iat, 60);
        let header: Value = serde_json::from_slice(
            &Base64UrlUnpadded::decode_vec(assertion.split('.').next().unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            header,
            json!({"alg": "ES256", "typ": "client-authentication+jwt"})
        );
        jtis.push(claims["jti"].as_str().unwrap().to_owned());
        // The assertion key is not the DPoP key.
        assert_ne!(
            request.proof_jkt(&mock.url("/token")),
            client_key.thumbprint()
        );
    }
    assert_ne!(jtis[0], jtis[1], "a fresh jti per request");
}

// --- grants, PKCE, dpop_jkt, resource indicators, PAR ------------------------------------------

#[tokio::test]
async fn authorization_code_with_pkce_and_dpop_jkt() {
    let mock = issuing_mock().await;
    let client = client();
    let endpoints = mock.endpoints();
    let auth = ClientAuth::none("app");
    let verifier = PkceVerifier::generate().unwrap();
    let request = AuthorizationRequest::new(REDIRECT_URI, &verifier).with_state("xyz");
    let url = client
        .authorization_url(&endpoints, "app", &request)
        .unwrap();
    let (base, query) = url.split_once('?').unwrap();
    assert_eq!(base, mock.url("/authorize"));
    let query: HashMap<String, String> = decode_query(query).into_iter().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], "app");
    assert_eq!(query["redirect_uri"], REDIRECT_URI);
    assert_eq!(query["state"], "xyz");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["code_challenge"], s256(verifier.as_str()));
    assert_eq!(
        query["dpop_jkt"],
        client.signer().thumbprint().to_base64url()
    );

    let grant = Grant::authorization_code("code-1", REDIRECT_URI, &verifier);
    client.token(&endpoints, &auth, &grant).await.unwrap();
    let [token_request] = &mock.seen("/token")[..] else {
        panic!("one request")
    };
    assert_eq!(
        token_request.param("grant_type").unwrap(),
        "authorization_code"
    );
    assert_eq!(token_request.param("code").unwrap(), "code-1");
    assert_eq!(token_request.param("redirect_uri").unwrap(), REDIRECT_URI);
    assert_eq!(token_request.param("client_id").unwrap(), "app");
    // What the server checks: the verifier matches the challenge, the proof key the jkt.
    let code_verifier = token_request.param("code_verifier").unwrap();
    assert_eq!(s256(&code_verifier), query["code_challenge"]);
    assert_eq!(
        token_request.proof_jkt(&mock.url("/token")).to_base64url(),
        query["dpop_jkt"]
    );
}

#[tokio::test]
async fn resource_indicators_are_repeated_parameters() {
    let mock = issuing_mock().await;
    let client = client();
    let grant = Grant::client_credentials()
        .with_resource("https://orders.example.com/")
        .with_resource("https://billing.example.com/v1");
    client
        .token(&mock.endpoints(), &ClientAuth::none("svc"), &grant)
        .await
        .unwrap();
    assert_eq!(
        mock.seen("/token")[0].all("resource"),
        [
            "https://orders.example.com/",
            "https://billing.example.com/v1"
        ]
    );
    // A relative or fragment-carrying resource is refused before anything is sent.
    let bad = Grant::client_credentials().with_resource("orders-api");
    assert!(matches!(
        client
            .token(&mock.endpoints(), &ClientAuth::none("svc"), &bad)
            .await,
        Err(ClientError::Request(Error::InvalidArgument("resource")))
    ));
    assert_eq!(mock.seen("/token").len(), 1);
}

#[tokio::test]
async fn pushed_authorization_request_then_authorization_url() {
    let mock = Mock::start(|seen, _| match seen.path.as_str() {
        "/par" => Reply::json(
            201,
            r#"{"request_uri":"urn:ietf:params:oauth:request_uri:bwc4JK-ESC0w8acc191e-Y1LTC2","expires_in":60}"#,
        ),
        _ => Reply::json(404, "{}"),
    })
    .await;
    let client = client();
    let endpoints = mock.endpoints();
    let auth = ClientAuth::secret_basic("app", "secret");
    let verifier = PkceVerifier::generate().unwrap();
    let request = AuthorizationRequest::new(REDIRECT_URI, &verifier)
        .with_scope("openid orders:read")
        .with_resource("https://orders.example.com/")
        .with_resource("https://billing.example.com/");
    let pushed = client
        .push_authorization_request(&endpoints, &auth, &request)
        .await
        .unwrap();
    assert_eq!(pushed.expires_in(), 60);
    let [par] = &mock.seen("/par")[..] else {
        panic!("one request")
    };
    assert_eq!(
        par.header("authorization").unwrap(),
        format!("Basic {}", Base64::encode_string(b"app:secret"))
    );
    assert_eq!(par.param("response_type").unwrap(), "code");
    assert_eq!(
        par.param("client_id").unwrap(),
        "app",
        "PAR names the client"
    );
    assert_eq!(par.param("redirect_uri").unwrap(), REDIRECT_URI);
    assert_eq!(par.param("scope").unwrap(), "openid orders:read");
    assert_eq!(par.param("code_challenge_method").unwrap(), "S256");
    assert_eq!(
        par.param("code_challenge").unwrap(),
        s256(verifier.as_str())
    );
    assert_eq!(
        par.all("resource"),
        [
            "https://orders.example.com/",
            "https://billing.example.com/"
        ]
    );
    // RFC 9449 §10.1: dpop_jkt and a DPoP proof, of the same key, the client's.
    let jkt = client.signer().thumbprint();
    assert_eq!(par.param("dpop_jkt").unwrap(), jkt.to_base64url());
    assert_eq!(par.proof_jkt(&mock.url("/par")), jkt);

    assert_eq!(
        pushed.authorization_url(&endpoints, "app").unwrap(),
        format!(
            "{}/authorize?client_id=app&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Abwc4JK-ESC0w8acc191e-Y1LTC2",
            mock.origin
        )
    );

    // No PAR endpoint: refused locally.
    let no_par = AuthorizationServerEndpoints::new(&mock.origin, mock.url("/token")).unwrap();
    assert!(matches!(
        client
            .push_authorization_request(&no_par, &auth, &request)
            .await,
        Err(ClientError::Request(Error::InvalidArgument(
            "pushed_authorization_request_endpoint"
        )))
    ));
}

#[tokio::test]
async fn par_errors_and_malformed_answers() {
    let mock = Mock::start(|_, n| match n {
        0 => Reply::json(
            400,
            r#"{"error":"invalid_request","error_description":"bad \"scope\""}"#,
        ),
        _ => Reply::json(201, r#"{"request_uri":"","expires_in":60}"#),
    })
    .await;
    let client = client();
    let verifier = PkceVerifier::generate().unwrap();
    let request = AuthorizationRequest::new(REDIRECT_URI, &verifier);
    let auth = ClientAuth::none("app");
    match client
        .push_authorization_request(&mock.endpoints(), &auth, &request)
        .await
    {
        Err(error @ ClientError::PushedAuthorizationEndpoint { status: 400, .. }) => assert_eq!(
            error.to_string(),
            r#"pushed authorization request endpoint answered 400 (invalid_request): "bad ?scope?""#
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client
            .push_authorization_request(&mock.endpoints(), &auth, &request)
            .await,
        Err(ClientError::MalformedResponse { status: 201 })
    ));
}

// --- nonces ------------------------------------------------------------------------------------

#[tokio::test]
async fn token_endpoint_nonce_challenge_is_retried_once() {
    let mock = Mock::start(|_, n| match n {
        0 => use_dpop_nonce("nonce-A"),
        _ => Reply::json(200, token_json("at", None, Some(60))),
    })
    .await;
    let client = client();
    let auth = ClientAuth::private_key_jwt("svc", Arc::new(SigningKey::generate().unwrap()));
    client
        .token(&mock.endpoints(), &auth, &Grant::client_credentials())
        .await
        .unwrap();
    let [first, second] = &mock.seen("/token")[..] else {
        panic!("challenge + retry")
    };
    assert_eq!(first.proof_claims().get("nonce"), None);
    assert_eq!(second.proof_claims()["nonce"], "nonce-A");
    assert_ne!(first.proof_claims()["jti"], second.proof_claims()["jti"]);
    // A fresh client assertion too: servers refuse a reused assertion jti.
    assert_ne!(
        first.param("client_assertion"),
        second.param("client_assertion")
    );
    assert_eq!(
        client
            .authorization_server_nonce_for(&mock.origin)
            .as_deref(),
        Some("nonce-A")
    );
}

#[tokio::test]
async fn a_server_that_always_wants_a_new_nonce_gets_two_requests_only() {
    let mock = Mock::start(|_, n| use_dpop_nonce(&format!("nonce-{n}"))).await;
    let client = client();
    let result = client
        .token(
            &mock.endpoints(),
            &ClientAuth::none("app"),
            &Grant::client_credentials(),
        )
        .await;
    match result {
        Err(ClientError::TokenEndpoint {
            status: 400,
            error: Some(code),
            ..
        }) => {
            assert_eq!(code, "use_dpop_nonce")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(mock.seen("/token").len(), 2, "one retry, never more");

    // The same on the PAR endpoint.
    let verifier = PkceVerifier::generate().unwrap();
    let request = AuthorizationRequest::new(REDIRECT_URI, &verifier);
    let result = client
        .push_authorization_request(&mock.endpoints(), &ClientAuth::none("app"), &request)
        .await;
    assert!(matches!(
        result,
        Err(ClientError::PushedAuthorizationEndpoint { status: 400, .. })
    ));
    let par = mock.seen("/par");
    assert_eq!(par.len(), 2, "one retry, never more");
    assert_eq!(par[1].proof_claims()["nonce"], "nonce-0");
}

#[tokio::test]
async fn par_nonce_challenge_is_retried_once_and_succeeds() {
    let mock = Mock::start(|seen, n| match (seen.path.as_str(), n) {
        ("/par", 0) => use_dpop_nonce("par-nonce"),
        ("/par", _) => Reply::json(201, r#"{"request_uri":"urn:x:1","expires_in":30}"#),
        _ => Reply::json(200, token_json("at", None, Some(60))),
    })
    .await;
    let client = client();
    let verifier = PkceVerifier::generate().unwrap();
    let request = AuthorizationRequest::new(REDIRECT_URI, &verifier);
    let pushed = client
        .push_authorization_request(&mock.endpoints(), &ClientAuth::none("app"), &request)
        .await
        .unwrap();
    assert_eq!(pushed.request_uri(), "urn:x:1");
    let par = mock.seen("/par");
    assert_eq!(par.len(), 2);
    assert_eq!(par[1].proof_claims()["nonce"], "par-nonce");
    // PAR and token endpoint are one authorization server: the nonce carries over.
    let grant = Grant::authorization_code("c", REDIRECT_URI, &verifier);
    client
        .token(&mock.endpoints(), &ClientAuth::none("app"), &grant)
        .await
        .unwrap();
    assert_eq!(mock.seen("/token")[0].proof_claims()["nonce"], "par-nonce");
}

#[tokio::test]
async fn no_retry_without_a_nonce_or_for_other_errors() {
    // use_dpop_nonce without a DPoP-Nonce header, then invalid_grant with one.
    let mock = Mock::start(|seen, _| match seen.param("scope").as_deref() {
        Some("a") => Reply::json(400, r#"{"error":"use_dpop_nonce"}"#),
        _ => Reply::json(400, r#"{"error":"invalid_grant"}"#).header("dpop-nonce", "n-1"),
    })
    .await;
    let client = client();
    let auth = ClientAuth::none("app");
    for (scope, expected) in [("a", 1), ("b", 2)] {
        let grant = Grant::client_credentials().with_scope(scope);
        assert!(matches!(
            client.token(&mock.endpoints(), &auth, &grant).await,
            Err(ClientError::TokenEndpoint { status: 400, .. })
        ));
        assert_eq!(
            mock.seen("/token").len(),
            expected,
            "no retry for scope {scope}"
        );
    }
    // The nonce of an error answer is still learnt, for the next request.
    assert_eq!(
        client
            .authorization_server_nonce_for(&mock.origin)
            .as_deref(),
        Some("n-1")
    );
}

#[tokio::test]
async fn nonces_are_kept_per_server_role_and_origin() {
    // One origin serves the token endpoint and an API, each with nonces of its own.
    let mock = Mock::start(|seen, n| match seen.path.as_str() {
        "/token" => Reply::json(200, token_json("at", None, Some(60)))
            .header("dpop-nonce", format!("as-{n}")),
        _ => Reply::json(200, "{}").header("dpop-nonce", format!("rs-{n}")),
    })
    .await;
    let other = issuing_mock().await;
    let client = client();
    let auth = ClientAuth::none("app");
    let grant = Grant::client_credentials();
    let token = client
        .token(&mock.endpoints(), &auth, &grant)
        .await
        .unwrap();
    let api = |path: &str| reqwest::Client::new().get(mock.url(path)).build().unwrap();
    client
        .execute(api("/orders"), Some(&token.access_token))
        .await
        .unwrap();
    client
        .token(&mock.endpoints(), &auth, &grant)
        .await
        .unwrap();
    client
        .execute(api("/orders"), Some(&token.access_token))
        .await
        .unwrap();
    // Another origin gets neither nonce.
    client
        .token(&other.endpoints(), &auth, &grant)
        .await
        .unwrap();

    let tokens = mock.seen("/token");
    let calls = mock.seen("/orders");
    assert_eq!(tokens[0].proof_claims().get("nonce"), None);
    assert_eq!(
        calls[0].proof_claims().get("nonce"),
        None,
        "not the AS nonce"
    );
    assert_eq!(
        tokens[1].proof_claims()["nonce"],
        "as-0",
        "not the API nonce"
    );
    assert_eq!(calls[1].proof_claims()["nonce"], "rs-0");
    assert_eq!(other.seen("/token")[0].proof_claims().get("nonce"), None);
    assert_eq!(
        client
            .authorization_server_nonce_for(&mock.origin)
            .as_deref(),
        Some("as-1")
    );
    assert_eq!(client.nonce_for(&mock.origin).as_deref(), Some("rs-1"));
}

// --- refusals ----------------------------------------------------------------------------------

#[tokio::test]
async fn hostile_error_description_is_bounded_and_escaped() {
    let hostile = "\"quoted\"\r\n\u{1b}[31mred\u{1b}[0m \\ é\u{0}<script>".repeat(400);
    assert!(hostile.len() > 10_000);
    let body = json!({
        "error": "invalid_client\n\u{1b}[2J",
        "error_description": hostile,
        "error_uri": "https://as.example/errors/invalid_client",
    })
    .to_string();
    let mock = Mock::start(move |_, _| Reply::json(401, body.clone())).await;
    let client = client();
    let error = client
        .token(
            &mock.endpoints(),
            &ClientAuth::none("app"),
            &Grant::client_credentials(),
        )
        .await
        .unwrap_err();
    let ClientError::TokenEndpoint {
        status,
        error: code,
        error_description: Some(description),
        error_uri,
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(*status, 401);
    assert_eq!(description.chars().count(), 256);
    assert!(
        description
            .bytes()
            .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)),
        "{description}"
    );
    assert!(description.starts_with("?quoted????[31mred?[0m ? ??<script>?quoted"));
    assert_eq!(code.as_deref(), Some("invalid_client??[2J"));
    assert_eq!(
        error_uri.as_deref(),
        Some("https://as.example/errors/invalid_client")
    );
    let shown = error.to_string();
    assert!(
        shown.starts_with("token endpoint answered 401: \"?quoted"),
        "{shown}"
    );
    assert!(!shown.contains('\n') && !shown.contains('\u{1b}') && !shown.contains('\\'));
    assert_eq!(
        shown.matches('"').count(),
        2,
        "only the quotes around the text"
    );
}

#[tokio::test]
async fn oversized_answers_are_refused() {
    let padded_token = format!(
        "{}{}",
        token_json("at", None, Some(60)),
        " ".repeat(MAX_RESPONSE_LEN - 200)
    );
    let mock = Mock::start(move |seen, _| match seen.param("scope").as_deref() {
        Some("big") => Reply::json(
            200,
            token_json("at", None, Some(60)) + &" ".repeat(MAX_RESPONSE_LEN),
        ),
        Some("big-error") => Reply::json(
            400,
            format!(
                r#"{{"error":"x","pad":"{}"}}"#,
                "x".repeat(MAX_RESPONSE_LEN)
            ),
        ),
        Some("2k") => Reply::json(200, token_json("at", None, Some(60)) + &" ".repeat(2048)),
        _ => Reply::json(200, padded_token.clone()),
    })
    .await;
    let client = client();
    let auth = ClientAuth::none("app");
    for scope in ["big", "big-error"] {
        assert!(
            matches!(
                token_with_scope(&client, &mock, scope).await,
                Err(ClientError::ResponseTooLarge {
                    limit: MAX_RESPONSE_LEN
                })
            ),
            "{scope}"
        );
    }
    // Just under the limit is fine.
    assert!(token_with_scope(&client, &mock, "fits").await.is_ok());
    // A lower limit applies.
    let small = client_with_limit(1024);
    let result = small
        .token(
            &mock.endpoints(),
            &auth,
            &Grant::client_credentials().with_scope("2k"),
        )
        .await;
    assert!(matches!(
        result,
        Err(ClientError::ResponseTooLarge { limit: 1024 })
    ));
}

/// A client_credentials token request for `scope` (the mocks answer by scope).
async fn token_with_scope(
    client: &DpopClient,
    mock: &Mock,
    scope: &str,
) -> Result<TokenResponse, ClientError> {
    let grant = Grant::client_credentials().with_scope(scope);
    client
        .token(&mock.endpoints(), &ClientAuth::none("app"), &grant)
        .await
}

fn client_with_limit(limit: usize) -> DpopClient {
    client().with_max_response_len(limit)
}

/// A token endpoint that streams `chunks` × 8 KiB of JSON whitespace with no
/// `Content-Length` (chunked encoding), so only counting while reading can stop it.
async fn chunked_server(chunks: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 16 * 1024];
                let _ = socket.read(&mut buffer).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                            transfer-encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("2000\r\n{}\r\n", " ".repeat(0x2000));
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
async fn oversized_chunked_answers_are_refused_while_reading() {
    let origin = chunked_server(64).await; // 512 KiB, never announced
    let endpoints = AuthorizationServerEndpoints::new(&origin, format!("{origin}/token")).unwrap();
    let result = client()
        .token(
            &endpoints,
            &ClientAuth::none("app"),
            &Grant::client_credentials(),
        )
        .await;
    assert!(
        matches!(
            result,
            Err(ClientError::ResponseTooLarge {
                limit: MAX_RESPONSE_LEN
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn tokens_that_are_not_dpop_bound_or_not_token68_are_refused() {
    let mock = Mock::start(|seen, _| {
        let body = match seen.param("scope").as_deref() {
            Some("bearer") => r#"{"access_token":"at","token_type":"Bearer","expires_in":60}"#,
            Some("no-type") => r#"{"access_token":"at","expires_in":60}"#,
            Some("crlf") => r#"{"access_token":"at\r\nX-Injected: 1","token_type":"DPoP"}"#,
            _ => "<html>",
        };
        Reply::json(200, body)
    })
    .await;
    let client = client();
    assert!(matches!(
        token_with_scope(&client, &mock, "bearer").await,
        Err(ClientError::NotDpopBound)
    ));
    for scope in ["no-type", "crlf", "html"] {
        assert!(
            matches!(
                token_with_scope(&client, &mock, scope).await,
                Err(ClientError::MalformedResponse { status: 200 })
            ),
            "{scope}"
        );
    }
}

// --- the token source --------------------------------------------------------------------------

/// A clock the test moves by hand.
#[derive(Debug)]
struct TestClock(AtomicU64);

impl TestClock {
    fn new() -> Arc<Self> {
        Arc::new(Self(AtomicU64::new(UnixTime::now().as_secs())))
    }

    fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_secs(self.0.load(Ordering::SeqCst))
    }
}

/// Issues `at-N` / `rt-N` for client_credentials, and for refresh_token only when the
/// refresh token presented is the latest one issued (rotation: an old one is `invalid_grant`).
async fn rotating_mock(expires_in: Option<u64>, delay: Duration) -> Mock {
    let latest: Arc<Mutex<Option<String>>> = Arc::default();
    Mock::start(move |seen, n| {
        let mut latest = latest.lock().unwrap();
        let grant = seen.param("grant_type").unwrap();
        if grant == "refresh_token" && seen.param("refresh_token") != *latest {
            return Reply::json(400, r#"{"error":"invalid_grant"}"#);
        }
        let refresh = format!("rt-{n}");
        *latest = Some(refresh.clone());
        Reply::json(
            200,
            token_json(&format!("at-{n}"), Some(&refresh), expires_in),
        )
        .after(delay)
    })
    .await
}

fn token_source(mock: &Mock, clock: Arc<TestClock>) -> TokenSource {
    let client = Arc::new(client().with_clock(clock));
    TokenSource::new(
        client,
        mock.endpoints(),
        ClientAuth::secret_basic("svc", "hunter2"),
        Grant::client_credentials().with_scope("orders:read"),
    )
}

fn grants(mock: &Mock) -> Vec<(String, Option<String>)> {
    mock.seen("/token")
        .iter()
        .map(|s| (s.param("grant_type").unwrap(), s.param("refresh_token")))
        .collect()
}

fn cc() -> (String, Option<String>) {
    ("client_credentials".into(), None)
}

fn refresh(rt: &str) -> (String, Option<String>) {
    ("refresh_token".into(), Some(rt.into()))
}

#[tokio::test]
async fn token_source_renews_before_expiry_and_follows_rotation() {
    let mock = rotating_mock(Some(100), Duration::ZERO).await;
    let clock = TestClock::new();
    let tokens = token_source(&mock, clock.clone());
    assert_eq!(*tokens.access_token().await.unwrap(), "at-0");
    clock.advance(69);
    assert_eq!(*tokens.access_token().await.unwrap(), "at-0", "cached");
    assert_eq!(grants(&mock), [cc()]);
    clock.advance(1); // 30 s before expiry
    assert_eq!(*tokens.access_token().await.unwrap(), "at-1");
    clock.advance(70);
    assert_eq!(*tokens.access_token().await.unwrap(), "at-2");
    // The second refresh presented the rotated refresh token.
    assert_eq!(grants(&mock), [cc(), refresh("rt-0"), refresh("rt-1")]);
    // Every request proved the same key: the refresh token stays bound to it.
    let url = mock.url("/token");
    let keys: Vec<Thumbprint> = mock
        .seen("/token")
        .iter()
        .map(|s| s.proof_jkt(&url))
        .collect();
    assert!(keys
        .iter()
        .all(|k| *k == tokens.client().signer().thumbprint()));
    // Debug shows neither tokens nor the secret.
    let shown = format!("{tokens:?}");
    assert!(
        !shown.contains("at-") && !shown.contains("rt-") && !shown.contains("hunter2"),
        "{shown}"
    );
    // Refresh requests are client-authenticated too.
    assert!(mock
        .seen("/token")
        .iter()
        .all(|s| s.header("authorization").is_some()));
}

#[tokio::test]
async fn token_source_margin_is_at_most_half_the_lifetime_and_defaults_apply() {
    let mock = rotating_mock(Some(20), Duration::ZERO).await;
    let clock = TestClock::new();
    let tokens = token_source(&mock, clock.clone());
    tokens.access_token().await.unwrap();
    clock.advance(9);
    tokens.access_token().await.unwrap();
    assert_eq!(mock.seen("/token").len(), 1, "a 20 s token is kept 10 s");
    clock.advance(1);
    tokens.access_token().await.unwrap();
    assert_eq!(mock.seen("/token").len(), 2);

    // No expires_in: the default lifetime (60 s), renewed 30 s early; options change both.
    let mock = rotating_mock(None, Duration::ZERO).await;
    let tokens = token_source(&mock, clock.clone());
    tokens.access_token().await.unwrap();
    clock.advance(29);
    tokens.access_token().await.unwrap();
    assert_eq!(mock.seen("/token").len(), 1);
    clock.advance(1);
    tokens.access_token().await.unwrap();
    assert_eq!(mock.seen("/token").len(), 2);
    let tokens = token_source(&mock, clock.clone()).with_options(
        TokenSourceOptions::new()
            .with_default_lifetime_secs(600)
            .with_refresh_margin_secs(100),
    );
    tokens.access_token().await.unwrap();
    clock.advance(499);
    tokens.access_token().await.unwrap();
    assert_eq!(mock.seen("/token").len(), 3);
    clock.advance(1);
    tokens.access_token().await.unwrap();
    assert_eq!(mock.seen("/token").len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_source_makes_one_request_for_concurrent_callers() {
    // The server takes 200 ms: every caller arrives while the first request is in flight.
    let mock = rotating_mock(Some(300), Duration::from_millis(200)).await;
    let clock = TestClock::new();
    let tokens = Arc::new(token_source(&mock, clock.clone()));
    for (round, expected) in [(0, "at-0"), (1, "at-1")] {
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let tokens = tokens.clone();
                tokio::spawn(async move { tokens.access_token().await.unwrap() })
            })
            .collect();
        for task in tasks {
            assert_eq!(*task.await.unwrap(), expected);
        }
        assert_eq!(mock.seen("/token").len(), round + 1, "single flight");
        clock.advance(300);
    }
    assert_eq!(grants(&mock), [cc(), refresh("rt-0")]);
}

#[tokio::test]
async fn token_source_starts_over_when_the_refresh_token_is_refused() {
    let mock = Mock::start(move |seen, n| match seen.param("grant_type").as_deref() {
        Some("refresh_token") => Reply::json(400, r#"{"error":"invalid_grant"}"#),
        _ => Reply::json(200, token_json(&format!("at-{n}"), Some("rt"), Some(100))),
    })
    .await;
    let clock = TestClock::new();
    let tokens = token_source(&mock, clock.clone());
    tokens.access_token().await.unwrap();
    clock.advance(100);
    assert_eq!(*tokens.access_token().await.unwrap(), "at-2");
    assert_eq!(grants(&mock), [cc(), refresh("rt"), cc()]);
    // Invalidate forces a renewal even though the token is fresh.
    tokens.invalidate().await;
    tokens.access_token().await.unwrap();
    assert_eq!(
        mock.seen("/token").len(),
        5,
        "refresh (refused), then the grant"
    );
}

#[tokio::test]
async fn token_source_from_a_response_without_refresh_token() {
    let mock = issuing_mock().await;
    let clock = TestClock::new();
    let client = Arc::new(client().with_clock(clock.clone()));
    let auth = ClientAuth::none("app");
    let first = client
        .token(&mock.endpoints(), &auth, &Grant::client_credentials())
        .await
        .unwrap();
    let tokens = TokenSource::from_token_response(client, mock.endpoints(), auth, first);
    assert_eq!(*tokens.access_token().await.unwrap(), "at-0");
    clock.advance(300);
    assert!(matches!(
        tokens.access_token().await,
        Err(ClientError::NoRefreshToken)
    ));
    assert_eq!(mock.seen("/token").len(), 1, "nothing to renew with");
}

#[tokio::test]
async fn token_source_attaches_the_token_to_api_calls() {
    let mock = Mock::start(|seen, n| match seen.path.as_str() {
        "/token" => Reply::json(200, token_json(&format!("at-{n}"), None, Some(300))),
        _ => Reply::json(200, "{}"),
    })
    .await;
    let tokens = token_source(&mock, TestClock::new());
    let request = reqwest::Client::new()
        .get(mock.url("/orders"))
        .build()
        .unwrap();
    assert_eq!(tokens.execute(request).await.unwrap().status(), 200);
    let [call] = &mock.seen("/orders")[..] else {
        panic!("one call")
    };
    assert_eq!(call.header("authorization").unwrap(), "DPoP at-0");
    let ath = Base64UrlUnpadded::encode_string(&Sha256::digest(b"at-0"));
    assert_eq!(call.proof_claims()["ath"], ath);
}

#[tokio::test]
async fn the_real_cause_of_an_http_failure_is_in_the_source_chain() {
    // No TLS backend is enabled for reqwest in this crate's tests: an https request fails,
    // and the chain under the ClientError says why.
    let client = DpopClient::new(
        reqwest::Client::builder(),
        ProofSigner::new(SigningKey::generate().unwrap()),
    )
    .unwrap();
    let request = reqwest::Client::new()
        .get("https://127.0.0.1:9/orders")
        .build()
        .unwrap();
    let error = client.execute(request, None).await.unwrap_err();
    assert!(matches!(error, keybound::ClientError::Http(_)), "{error:?}");
    let chain: Vec<String> =
        std::iter::successors(std::error::Error::source(&error), |e| (*e).source())
            .map(ToString::to_string)
            .collect();
    // hyper-util's words for "this connector has no TLS".
    assert!(
        chain.last().unwrap().contains("scheme is not http"),
        "{chain:?}"
    );
}
