//! Interop with independent implementations: node-oidc-provider (the authorization server) and
//! panva's `dpop` / `jose` (proof makers), started on loopback by `support/oidc_provider.rs`
//! from `tests/oidc_provider/`. Tokens the provider issues are checked by keybound's
//! `RequestGuard`, proofs keybound makes are checked by the provider, and both sides' proofs
//! meet the other side's checks.
//!
//! Without `node` the tests say loudly that they were skipped; with `KEYBOUND_REQUIRE_OIDC=1`
//! (as `.ci/run` sets) a missing `node` is a failure. One provider per configuration is
//! started on first use and shared by the tests.
//!
//! Client authentication is done by hand here (form parameters, an `Authorization: Basic`
//! header); it moves to the client API of `src/client/` once that exists.

#[path = "support/oidc_provider.rs"]
mod oidc_provider;

use std::collections::HashMap;
use std::sync::OnceLock;

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use keybound::{
    ClientError, DpopClient, Error, KeySet, ProofError, ProofSigner, RequestGuard, ResourceRequest,
    SigningKey, TokenError, TokenVerifier, UnixTime,
};
use oidc_provider::{node_proof, OidcProvider};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The resource indicator the provider issues JWT access tokens for (`aud`).
const API: &str = "https://api.example.test/";
/// The URL of the protected request the guard checks.
const API_URL: &str = "https://api.example.test/orders";
/// The public client's registered redirect URI (nothing listens there: the code is read from
/// the redirect).
const REDIRECT_URI: &str = "http://127.0.0.1/cb";
/// `cs-post`'s credentials (client_secret_post).
const POST_CLIENT: [(&str, &str); 2] = [("client_id", "cs-post"), ("client_secret", "post-secret")];
/// `cs basic:1`'s credentials (client_secret_basic): both need form-encoding.
const BASIC_ID: &str = "cs basic:1";
const BASIC_SECRET: &str = "s3cr3t:with%chars+";

// --- providers, one per configuration, shared by the tests ----------------------------------

fn shared(
    cell: &'static OnceLock<Option<OidcProvider>>,
    config: Value,
) -> Option<&'static OidcProvider> {
    cell.get_or_init(|| OidcProvider::start(&config)).as_ref()
}

/// JWT access tokens signed with RS256. Every configuration keeps the default TTL, 3600 s.
fn rs256() -> Option<&'static OidcProvider> {
    static CELL: OnceLock<Option<OidcProvider>> = OnceLock::new();
    shared(&CELL, json!({ "alg": "RS256" }))
}

/// JWT access tokens signed with ES256.
fn es256() -> Option<&'static OidcProvider> {
    static CELL: OnceLock<Option<OidcProvider>> = OnceLock::new();
    shared(&CELL, json!({ "alg": "ES256" }))
}

/// JWT access tokens signed with PS256 (by the same kind of RSA key as RS256).
fn ps256() -> Option<&'static OidcProvider> {
    static CELL: OnceLock<Option<OidcProvider>> = OnceLock::new();
    shared(&CELL, json!({ "alg": "PS256" }))
}

/// JWT access tokens signed with Ed25519 (the fully-specified name, RFC 9864).
fn ed25519() -> Option<&'static OidcProvider> {
    static CELL: OnceLock<Option<OidcProvider>> = OnceLock::new();
    shared(&CELL, json!({ "alg": "Ed25519" }))
}

/// Every DPoP proof must carry a nonce the provider issued.
fn nonces() -> Option<&'static OidcProvider> {
    static CELL: OnceLock<Option<OidcProvider>> = OnceLock::new();
    shared(&CELL, json!({ "alg": "ES256", "requireNonce": true }))
}

// --- helpers ---------------------------------------------------------------------------------

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn dpop_client() -> DpopClient {
    DpopClient::new(http(), ProofSigner::new(SigningKey::generate().unwrap()))
}

/// `application/x-www-form-urlencoded` (WHATWG URL §5.2).
fn form(params: &[(&str, &str)]) -> String {
    let mut out = reqwest::Url::parse("http://x/").unwrap();
    out.query_pairs_mut().extend_pairs(params);
    out.query().unwrap_or_default().to_owned()
}

fn form_encode(text: &str) -> String {
    let encoded = form(&[("", text)]);
    encoded[1..].to_owned()
}

/// The provider's JWKS document (a plain GET of its `jwks_uri`).
async fn jwks(provider: &OidcProvider) -> String {
    let response = http().get(provider.url("/jwks")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The provider's JWKS, as a verifier reads it: the encryption key is skipped.
async fn key_set(provider: &OidcProvider) -> KeySet {
    let keys = KeySet::from_jwks(&jwks(provider).await).unwrap();
    assert_eq!(keys.len(), 3, "the RSA, P-256 and Ed25519 signing keys");
    assert_eq!(keys.skipped().len(), 1, "the use=enc RSA key: {keys:?}");
    keys
}

async fn guard(provider: &OidcProvider) -> RequestGuard {
    RequestGuard::new(TokenVerifier::new(
        provider.issuer(),
        API,
        key_set(provider).await,
    ))
}

/// `guard`'s answer to `GET API_URL` with `token` and `proof`.
fn check(
    guard: &RequestGuard,
    token: &str,
    proof: &str,
) -> Result<keybound::Authorized, keybound::Rejection> {
    let authorization = format!("DPoP {token}");
    let (authorization, dpop) = ([authorization.as_str()], [proof]);
    guard.check(
        &ResourceRequest::new("GET", API_URL, &authorization, &dpop),
        UnixTime::now(),
    )
}

/// A keybound proof by `client` for `GET API_URL` with `token`.
fn proof(client: &DpopClient, token: &str) -> String {
    client
        .signer()
        .proof("GET", API_URL)
        .with_access_token(token)
        .sign(UnixTime::now())
        .unwrap()
}

/// A client_credentials token for `cs-post`, requested by keybound's client.
async fn client_credentials(provider: &OidcProvider, client: &DpopClient) -> String {
    let mut params = vec![
        ("grant_type", "client_credentials"),
        ("resource", API),
        ("scope", "api:read"),
    ];
    params.extend(POST_CLIENT);
    let token = client
        .request_token(&provider.url("/token"), &params)
        .await
        .unwrap_or_else(|e| panic!("{e}; provider stderr:\n{}", provider.stderr()));
    assert_eq!(token.token_type, "DPoP");
    assert_eq!(token.scope.as_deref(), Some("api:read"));
    token.access_token
}

/// A raw form POST to the token endpoint; returns the status and the JSON body.
async fn post_token(provider: &OidcProvider, dpop: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let request = http()
        .post(provider.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("dpop", dpop)
        .body(form(params));
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap()).unwrap(),
    )
}

fn assert_refused(result: Result<keybound::Authorized, keybound::Rejection>, expected: Error) {
    let rejection = result.expect_err("the guard must refuse");
    assert_eq!(rejection.status(), 401);
    assert_eq!(rejection.error(), &expected);
}

// --- (1) JWT access tokens through client_credentials: RS256, ES256, PS256, Ed25519 ---------

async fn jwt_access_token_round_trip(provider: &OidcProvider, alg: &str, kty: &str) {
    let client = dpop_client();
    let token = client_credentials(provider, &client).await;

    // Signed with the configured alg by the key of that type; other keys are published too.
    let jwt = keybound::danger::decode_unverified(&token).unwrap();
    assert_eq!(jwt.header["alg"], alg);
    assert_eq!(jwt.header["typ"], "at+jwt");
    let jwks: Value = serde_json::from_str(&jwks(provider).await).unwrap();
    let signer = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == jwt.header["kid"])
        .expect("the signing key is published");
    assert_eq!(signer["kty"], kty);

    let guard = guard(provider).await;
    let fresh = proof(&client, &token);
    let authorized = check(&guard, &token, &fresh).expect("a bound token and a fresh proof");
    assert_eq!(authorized.subject(), "cs-post");
    assert_eq!(authorized.client_id(), "cs-post");
    assert!(authorized.has_scope("api:read"));
    assert_eq!(authorized.jkt(), Some(client.signer().thumbprint()));
    let claims = authorized.claims();
    assert_eq!(claims.issuer(), provider.issuer());
    assert_eq!(claims.audiences(), [API]);
    // node-oidc-provider's default lifetime, within the verifier's default cap (5400 s).
    assert_eq!(
        claims.expires_at().as_secs() - claims.issued_at().as_secs(),
        3600
    );

    // Replay: the same proof again.
    assert_refused(
        check(&guard, &token, &fresh),
        Error::InvalidProof(ProofError::Replayed),
    );
    // Stolen token: a fresh proof by another key.
    let thief = dpop_client();
    assert_refused(
        check(&guard, &token, &proof(&thief, &token)),
        Error::InvalidToken(TokenError::KeyMismatch),
    );
}

#[tokio::test]
async fn rs256_jwt_access_token_is_accepted_and_bound() {
    let Some(provider) = rs256() else { return };
    jwt_access_token_round_trip(provider, "RS256", "RSA").await;
}

#[tokio::test]
async fn es256_jwt_access_token_is_accepted_and_bound() {
    let Some(provider) = es256() else { return };
    jwt_access_token_round_trip(provider, "ES256", "EC").await;
}

#[tokio::test]
async fn ps256_jwt_access_token_is_accepted_and_bound() {
    let Some(provider) = ps256() else { return };
    jwt_access_token_round_trip(provider, "PS256", "RSA").await;
}

#[tokio::test]
async fn ed25519_jwt_access_token_is_accepted_and_bound() {
    let Some(provider) = ed25519() else { return };
    jwt_access_token_round_trip(provider, "Ed25519", "OKP").await;
}

// --- (2) provider-required nonces ------------------------------------------------------------

#[tokio::test]
async fn provider_nonce_challenge_is_answered_by_one_retry() {
    let Some(provider) = nonces() else { return };
    // Without a nonce the provider refuses with use_dpop_nonce and sends one.
    let signer = ProofSigner::new(SigningKey::generate().unwrap());
    let bare = signer
        .proof("POST", &provider.url("/token"))
        .sign(UnixTime::now())
        .unwrap();
    let mut params = vec![("grant_type", "client_credentials"), ("resource", API)];
    params.extend(POST_CLIENT);
    let (status, body) = post_token(provider, &bare, &params).await;
    assert_eq!((status, &body["error"]), (400, &json!("use_dpop_nonce")));

    // keybound's client retries once with the nonce and gets the token.
    let client = dpop_client();
    let token = client_credentials(provider, &client).await;
    assert!(client
        .authorization_server_nonce_for(provider.issuer())
        .is_some());
    assert_eq!(client.nonce_for(provider.issuer()), None, "kept per role");
    let guard = guard(provider).await;
    let authorized = check(&guard, &token, &proof(&client, &token));
    assert!(authorized.is_ok(), "the token works at the API");
    // The cached nonce is used straight away next time.
    client_credentials(provider, &client).await;
}

// --- (3) client_secret_post and client_secret_basic, by hand ---------------------------------

#[tokio::test]
async fn client_secret_basic_with_form_encoded_credentials() {
    let Some(provider) = rs256() else { return };
    let client = dpop_client();
    let token_url = provider.url("/token");
    let params = [
        ("grant_type", "client_credentials"),
        ("resource", API),
        ("scope", "api:write"),
    ];
    // RFC 6749 §2.3.1: id and secret are form-encoded before base64.
    let basic = |id: &str, secret: &str| Base64::encode_string(format!("{id}:{secret}").as_bytes());
    let send = |basic: String| {
        let request = http()
            .post(&token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", format!("Basic {basic}"))
            .body(form(&params))
            .build()
            .unwrap();
        client.execute(request, None)
    };

    let response = send(basic(&form_encode(BASIC_ID), &form_encode(BASIC_SECRET)))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().unwrap();
    let guard = guard(provider).await;
    let authorized = check(&guard, token, &proof(&client, token)).unwrap();
    assert_eq!(authorized.client_id(), BASIC_ID);
    assert!(authorized.has_scope("api:write"));

    // Sent raw, the `%` in the secret is not valid form-encoding: refused as a bad request.
    let response = send(basic(BASIC_ID, BASIC_SECRET)).await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_request");
    // A raw id: its `:` splits the credentials in the wrong place, so no client matches.
    let response = send(basic(BASIC_ID, &form_encode(BASIC_SECRET)))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // A wrong secret.
    let response = send(basic(&form_encode(BASIC_ID), "wrong")).await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn client_secret_post_with_a_wrong_secret_is_refused() {
    let Some(provider) = rs256() else { return };
    let client = dpop_client();
    // The right secret is exercised by every client_credentials test above.
    let result = client
        .request_token(
            &provider.url("/token"),
            &[
                ("grant_type", "client_credentials"),
                ("resource", API),
                ("client_id", "cs-post"),
                ("client_secret", "wrong"),
            ],
        )
        .await;
    match result {
        Err(ClientError::TokenEndpoint { status, error, .. }) => {
            assert_eq!((status, error.as_deref()), (401, Some("invalid_client")));
        }
        other => panic!("expected invalid_client, got {other:?}"),
    }
}

// --- (4) panva/dpop and jose proofs against the keybound guard -------------------------------

/// A token bound to a node-made key (the token request's proof is node's), then a node proof
/// with `ath` for the API request: the guard accepts it, once.
async fn node_proofs_against_the_guard(alg: &str) {
    let Some(provider) = rs256() else { return };
    let key_file = std::env::temp_dir().join(format!(
        "keybound-dpop-{alg}-{}-{:?}.json",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_file(&key_file);
    let request = |htm: &str, htu: &str, token: Option<&str>| {
        let mut request = json!({ "alg": alg, "htm": htm, "htu": htu, "keyFile": key_file });
        if let Some(token) = token {
            request["accessToken"] = json!(token);
        }
        node_proof(&request)
    };

    let token_proof = request("POST", &provider.url("/token"), None);
    assert_eq!(token_proof.alg, alg, "the header names the alg asked for");
    let mut params = vec![("grant_type", "client_credentials"), ("resource", API)];
    params.extend(POST_CLIENT);
    let (status, body) = post_token(provider, &token_proof.proof, &params).await;
    assert_eq!(
        status,
        200,
        "{body}; provider stderr:\n{}",
        provider.stderr()
    );
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().unwrap();

    let api_proof = request("GET", API_URL, Some(token));
    assert_eq!(api_proof.jkt, token_proof.jkt, "the key was reused");
    // jose's RFC 7638 thumbprint of the key is keybound's.
    let public = keybound::PublicKey::from_jwk(&api_proof.jwk.to_string()).unwrap();
    assert_eq!(public.thumbprint().to_base64url(), api_proof.jkt);
    let guard = guard(provider).await;
    let authorized = check(&guard, token, &api_proof.proof).expect("node's proof is accepted");
    assert_eq!(
        authorized.jkt().map(|jkt| jkt.to_base64url()),
        Some(api_proof.jkt.clone())
    );
    assert_refused(
        check(&guard, token, &api_proof.proof),
        Error::InvalidProof(ProofError::Replayed),
    );
    // A node proof without `ath` is refused for a protected request.
    let no_ath = request("GET", API_URL, None);
    assert_refused(
        check(&guard, token, &no_ath.proof),
        Error::InvalidProof(ProofError::MissingAth),
    );
    let _ = std::fs::remove_file(&key_file);
}

#[tokio::test]
async fn panva_dpop_es256_proofs() {
    node_proofs_against_the_guard("ES256").await;
}

#[tokio::test]
async fn panva_dpop_ps256_proofs() {
    node_proofs_against_the_guard("PS256").await;
}

#[tokio::test]
async fn panva_dpop_rs256_proofs() {
    node_proofs_against_the_guard("RS256").await;
}

/// panva/dpop signs Ed25519 proofs with the fully-specified `alg` "Ed25519" (RFC 9864).
#[tokio::test]
async fn panva_dpop_ed25519_proofs() {
    node_proofs_against_the_guard("Ed25519").await;
}

/// `jose` signs the same key type under the older `alg` name "EdDSA".
#[tokio::test]
async fn jose_eddsa_proofs() {
    node_proofs_against_the_guard("EdDSA").await;
}

// --- (5) authorization_code + PKCE, and refresh-token binding --------------------------------

/// A user agent that follows redirects by hand and keeps cookies (by name, ignoring paths).
struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

impl Browser {
    /// Follows redirects from `url` until one goes to `REDIRECT_URI`, and returns its query.
    async fn authorize(&mut self, url: reqwest::Url) -> HashMap<String, String> {
        let mut url = url;
        for _hop in 0..10 {
            let cookie = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ");
            let response = self
                .http
                .get(url.clone())
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            for set_cookie in response.headers().get_all("set-cookie") {
                let pair = set_cookie.to_str().unwrap().split(';').next().unwrap();
                let (name, value) = pair.split_once('=').unwrap();
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
            let status = response.status();
            let Some(location) = response.headers().get("location") else {
                panic!(
                    "{url} answered {status}: {}",
                    response.text().await.unwrap()
                );
            };
            url = url.join(location.to_str().unwrap()).unwrap();
            if url.as_str().starts_with(REDIRECT_URI) {
                return url.query_pairs().into_owned().collect();
            }
        }
        panic!("too many redirects");
    }
}

async fn refresh(
    client: &DpopClient,
    token_url: &str,
    refresh_token: &str,
) -> Result<keybound::TokenResponse, ClientError> {
    let params = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", "public"),
    ];
    client.request_token(token_url, &params).await
}

#[tokio::test]
async fn refresh_token_is_bound_to_the_public_clients_key() {
    let Some(provider) = rs256() else { return };
    let mut verifier_bytes = [0u8; 32];
    getrandom::fill(&mut verifier_bytes).unwrap();
    let verifier = Base64UrlUnpadded::encode_string(&verifier_bytes);
    let challenge = Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()));

    let mut url = reqwest::Url::parse(&provider.url("/auth")).unwrap();
    url.query_pairs_mut().extend_pairs([
        ("client_id", "public"),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "api:read"),
        ("resource", API),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("state", "xyz"),
    ]);
    let mut browser = Browser {
        http: http(),
        cookies: HashMap::new(),
    };
    let answer = browser.authorize(url).await;
    assert_eq!(answer.get("state").map(String::as_str), Some("xyz"));
    assert_eq!(
        answer.get("iss").map(String::as_str),
        Some(provider.issuer())
    );
    let code = &answer["code"];

    let client = dpop_client();
    let token_url = provider.url("/token");
    let tokens = client
        .request_token(
            &token_url,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("code_verifier", &verifier),
                ("redirect_uri", REDIRECT_URI),
                ("client_id", "public"),
            ],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}; provider stderr:\n{}", provider.stderr()));
    let guard = guard(provider).await;
    let token = &tokens.access_token;
    let authorized = check(&guard, token, &proof(&client, token)).unwrap();
    assert_eq!(authorized.subject(), "alice");
    assert_eq!(authorized.client_id(), "public");
    let refresh_token = tokens.refresh_token.expect("a refresh token");

    // Another key: the provider refuses, for the binding.
    let thief = dpop_client();
    match refresh(&thief, &token_url, &refresh_token).await {
        Err(ClientError::TokenEndpoint { status, error, .. }) => {
            assert_eq!((status, error.as_deref()), (400, Some("invalid_grant")));
        }
        other => panic!("a refresh with another key must fail, got {other:?}"),
    }
    let thief_proof = thief
        .signer()
        .proof("POST", &token_url)
        .sign(UnixTime::now())
        .unwrap();
    let params = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.as_str()),
        ("client_id", "public"),
    ];
    let (status, body) = post_token(provider, &thief_proof, &params).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    // The reason is only in the provider's log.
    assert_eq!(body["error_description"], "grant request is invalid");
    assert!(
        provider.logs("failed jkt verification"),
        "{}",
        provider.stderr()
    );

    // The right key: a new access token, and (rotation) a new refresh token.
    let refreshed = refresh(&client, &token_url, &refresh_token).await.unwrap();
    let token = &refreshed.access_token;
    let authorized = check(&guard, token, &proof(&client, token)).unwrap();
    assert_eq!(authorized.subject(), "alice");
    assert_eq!(authorized.jkt(), Some(client.signer().thumbprint()));
    let rotated = refreshed.refresh_token.expect("a rotated refresh token");
    assert_ne!(rotated, refresh_token);

    // The used refresh token is spent, even with the right key.
    match refresh(&client, &token_url, &refresh_token).await {
        Err(ClientError::TokenEndpoint { status, error, .. }) => {
            assert_eq!((status, error.as_deref()), (400, Some("invalid_grant")));
        }
        other => panic!("a spent refresh token must fail, got {other:?}"),
    }
}

// --- discovery and a RemoteKeySet across a key rotation --------------------------------------

/// A provider of its own: the rotation test changes its keys.
fn rotating() -> Option<&'static OidcProvider> {
    static CELL: OnceLock<Option<OidcProvider>> = OnceLock::new();
    shared(&CELL, json!({ "alg": "ES256", "jwksMaxAge": 300 }))
}

/// `guard.check_async` for `GET API_URL` with `token` and a fresh proof by `client`.
async fn check_async(
    guard: &RequestGuard,
    client: &DpopClient,
    token: &str,
) -> Result<keybound::Authorized, keybound::Rejection> {
    let fresh = proof(client, token);
    let authorization = format!("DPoP {token}");
    let (authorization, dpop) = ([authorization.as_str()], [fresh.as_str()]);
    guard
        .check_async(
            &ResourceRequest::new("GET", API_URL, &authorization, &dpop),
            UnixTime::now(),
        )
        .await
}

async fn admin(provider: &OidcProvider, path: &str) -> Value {
    let response = http().post(provider.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn a_key_rotation_costs_no_failed_request() {
    let Some(provider) = rotating() else { return };
    let metadata = keybound::AuthorizationServerMetadata::discover(provider.issuer(), &http())
        .await
        .unwrap_or_else(|e| panic!("{e}; provider stderr:\n{}", provider.stderr()));
    assert_eq!(metadata.issuer(), provider.issuer());
    assert_eq!(
        metadata.token_endpoint(),
        Some(provider.url("/token").as_str())
    );
    assert!(metadata
        .dpop_signing_alg_values_supported()
        .contains(keybound::Algorithm::Es256));

    let keys = keybound::RemoteKeySet::from_metadata(&metadata, http()).unwrap();
    let now = UnixTime::now();
    keys.refresh(now).await.unwrap();
    assert_eq!(
        keys.current(now).unwrap().len(),
        3,
        "the enc key is skipped"
    );
    // `Cache-Control: max-age=300`, refetched three quarters in.
    assert_eq!(keys.refresh_at(), now.saturating_add(225));
    let guard = RequestGuard::new(keys.verifier(provider.issuer(), API));

    let client = dpop_client();
    let old = client_credentials(provider, &client).await;
    for _ in 0..3 {
        let ok = check_async(&guard, &client, &old).await;
        assert_eq!(ok.expect("before the rotation").subject(), "cs-post");
    }

    let rotated = admin(provider, "/__admin/rotate").await;
    let new = client_credentials(provider, &client).await;
    let new_kid = keybound::danger::decode_unverified(&new).unwrap().header["kid"].clone();
    assert_eq!(new_kid, rotated["signingKid"]);
    assert!(keys
        .current(UnixTime::now())
        .unwrap()
        .get(new_kid.as_str().unwrap())
        .is_none());
    // The first request with the new kid refetches the set; none fails.
    for token in [&new, &old, &new, &old] {
        let ok = check_async(&guard, &client, token).await;
        assert_eq!(ok.expect("during the rotation").subject(), "cs-post");
    }

    // The provider withdraws the old key: tokens it signed stop verifying, cached ones too.
    admin(provider, "/__admin/retire").await;
    keys.refresh(UnixTime::now()).await.unwrap();
    let rejection = check_async(&guard, &client, &old).await.unwrap_err();
    assert_eq!(
        rejection.error(),
        &Error::InvalidToken(TokenError::UnknownKey)
    );
    let ok = check_async(&guard, &client, &new).await;
    assert_eq!(ok.expect("after the rotation").subject(), "cs-post");
}

// --- opaque tokens through introspection -----------------------------------------------------

/// The resource indicator the provider issues opaque access tokens for.
const OPAQUE_API: &str = "https://opaque.example.test/";

#[tokio::test]
async fn opaque_tokens_through_introspection() {
    let Some(provider) = es256() else { return };
    let metadata = keybound::AuthorizationServerMetadata::discover(provider.issuer(), &http())
        .await
        .unwrap();
    let introspector = keybound::Introspector::from_metadata(&metadata, OPAQUE_API, http())
        .unwrap()
        .with_client_secret_post("cs-post", "post-secret");
    let guard = RequestGuard::new(TokenVerifier::new(
        provider.issuer(),
        API,
        key_set(provider).await,
    ))
    .with_introspection(introspector);

    let client = dpop_client();
    let mut params = vec![
        ("grant_type", "client_credentials"),
        ("resource", OPAQUE_API),
        ("scope", "api:read"),
    ];
    params.extend(POST_CLIENT);
    let token = client
        .request_token(&provider.url("/token"), &params)
        .await
        .unwrap_or_else(|e| panic!("{e}; provider stderr:\n{}", provider.stderr()))
        .access_token;
    assert_ne!(token.split('.').count(), 3, "an opaque token");

    let authorized = check_async(&guard, &client, &token)
        .await
        .unwrap_or_else(|r| panic!("{:?}; provider stderr:\n{}", r.error(), provider.stderr()));
    assert_eq!(authorized.jkt(), Some(client.signer().thumbprint()));
    assert_eq!(authorized.client_id(), "cs-post");
    assert!(authorized.has_scope("api:read"));

    // Stolen: the same token with another key's proof.
    let thief = dpop_client();
    let rejection = check_async(&guard, &thief, &token).await.unwrap_err();
    assert_eq!(
        rejection.error(),
        &Error::InvalidToken(TokenError::KeyMismatch)
    );

    // A token the provider never issued: inactive.
    let rejection = check_async(&guard, &client, "not-a-real-token")
        .await
        .unwrap_err();
    assert_eq!(rejection.status(), 401);
    assert_eq!(
        rejection.error(),
        &Error::InvalidToken(TokenError::Inactive)
    );
}

#[tokio::test]
async fn the_providers_error_description_reaches_the_caller() {
    let Some(provider) = rs256() else { return };
    let client = dpop_client();
    let params = [
        ("grant_type", "client_credentials"),
        ("resource", API),
        ("client_id", "cs-post"),
        ("client_secret", "wrong"),
    ];
    let refused = client
        .request_token(&provider.url("/token"), &params)
        .await
        .unwrap_err();
    let ClientError::TokenEndpoint {
        status,
        error,
        error_description,
        ..
    } = &refused
    else {
        panic!("{refused}")
    };
    assert_eq!((*status, error.as_deref()), (401, Some("invalid_client")));
    let description = error_description
        .as_deref()
        .expect("node-oidc-provider describes it");
    assert!(!description.is_empty() && description.len() <= 256);
    assert!(refused.to_string().contains(description), "{refused}");
}
