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
//! keybound's side talks through its client API (`DpopClient::token`, `ClientAuth`, `Grant`,
//! `AuthorizationRequest`, PAR, `TokenSource`); a few requests are made by hand where the test
//! needs a request keybound would never send (raw credentials, a node-made proof).

#[path = "support/oidc_provider.rs"]
mod oidc_provider;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use base64ct::{Base64, Encoding};
use keybound::{
    Algorithm, AuthorizationRequest, AuthorizationServerEndpoints, AuthorizationServerMetadata,
    ClientAuth, ClientError, DpopClient, Error, Grant, Introspector, JwsSigner, KeySet,
    PkceVerifier, ProofError, ProofSigner, RequestGuard, ResourceRequest, SigningKey, TokenError,
    TokenResponse, TokenSource, TokenVerifier, UnixTime,
};
use oidc_provider::{node_proof, OidcProvider};
use serde_json::{json, Value};

/// The resource indicator the provider issues JWT access tokens for (`aud`).
const API: &str = "https://api.example.test/";
/// The URL of the protected request the guard checks.
const API_URL: &str = "https://api.example.test/orders";
/// The public client's registered redirect URI (nothing listens there: the code is read from
/// the redirect).
const REDIRECT_URI: &str = "http://127.0.0.1/cb";
/// The resource indicator the provider issues opaque access tokens for.
const OPAQUE_API: &str = "https://opaque.example.test/";
/// `cs-post`'s credentials (client_secret_post), for requests made by hand.
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

/// The `pkjwt` client's assertion keys: P-256 and Ed25519.
fn client_keys() -> &'static [Arc<SigningKey>; 2] {
    static KEYS: OnceLock<[Arc<SigningKey>; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [Algorithm::Es256, Algorithm::Ed25519]
            .map(|alg| Arc::new(SigningKey::generate_for(alg).unwrap()))
    })
}

/// Registers the `pkjwt` client (`private_key_jwt`) with the public halves of `client_keys`.
fn pkjwt() -> Option<&'static OidcProvider> {
    static CELL: OnceLock<Option<OidcProvider>> = OnceLock::new();
    let keys: Vec<Value> = client_keys()
        .iter()
        .map(|key| serde_json::from_str(&key.public_key().to_jwk()).unwrap())
        .collect();
    shared(
        &CELL,
        json!({ "alg": "PS256", "pkjwtJwks": { "keys": keys } }),
    )
}

/// The resource server's decryption key for `encrypted()`: ECDH-ES+A256KW on P-256.
fn resource_decryption_key() -> &'static keybound::DecryptionKey {
    static KEY: OnceLock<keybound::DecryptionKey> = OnceLock::new();
    KEY.get_or_init(|| {
        keybound::DecryptionKey::generate(
            keybound::KeyManagement::EcdhEsA256Kw,
            Some(keybound::EcdhCurve::P256),
        )
        .unwrap()
        .with_kid("api-enc-1")
    })
}

/// JWT access tokens signed with ES256, then encrypted to `resource_decryption_key()`
/// (A256GCM).
fn encrypted() -> Option<&'static OidcProvider> {
    static CELL: OnceLock<Option<OidcProvider>> = OnceLock::new();
    let public: Value =
        serde_json::from_str(&resource_decryption_key().encryption_key().to_jwk()).unwrap();
    shared(&CELL, json!({ "alg": "ES256", "encryptTo": public }))
}

// --- helpers ---------------------------------------------------------------------------------

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn dpop_client() -> DpopClient {
    DpopClient::new(
        reqwest::Client::builder(),
        ProofSigner::new(SigningKey::generate().unwrap()),
    )
    .unwrap()
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

/// The provider's discovery document (RFC 8414, else OpenID Connect).
async fn metadata(provider: &OidcProvider) -> AuthorizationServerMetadata {
    AuthorizationServerMetadata::discover(provider.issuer(), &http())
        .await
        .unwrap_or_else(|e| panic!("{e}; provider stderr:\n{}", provider.stderr()))
}

/// The provider's endpoints, from discovery.
async fn endpoints(provider: &OidcProvider) -> AuthorizationServerEndpoints {
    AuthorizationServerEndpoints::from_metadata(&metadata(provider).await).unwrap()
}

/// `cs-post`, authenticated with `client_secret_post`.
fn post_client() -> ClientAuth {
    ClientAuth::secret_post("cs-post", "post-secret")
}

/// A `client_credentials` grant for `resource` with scope `api:read`.
fn api_grant(resource: &str) -> Grant {
    Grant::client_credentials()
        .with_resource(resource)
        .with_scope("api:read")
}

/// A token for `grant`, requested by keybound's client authenticated as `auth`.
async fn token_for(
    provider: &OidcProvider,
    client: &DpopClient,
    auth: &ClientAuth,
    grant: &Grant,
) -> TokenResponse {
    let token = client
        .token(&endpoints(provider).await, auth, grant)
        .await
        .unwrap_or_else(|e| panic!("{e}; provider stderr:\n{}", provider.stderr()));
    assert_eq!(token.token_type, "DPoP");
    token
}

/// A client_credentials token for `cs-post` (`client_secret_post`), for the JWT API.
async fn client_credentials(provider: &OidcProvider, client: &DpopClient) -> String {
    let token = token_for(provider, client, &post_client(), &api_grant(API)).await;
    assert_eq!(token.scope.as_deref(), Some("api:read"));
    token.access_token
}

/// The `error` of a token endpoint refusal, with its status.
fn refusal(result: Result<TokenResponse, ClientError>) -> (u16, String) {
    match result {
        Err(ClientError::TokenEndpoint { status, error, .. }) => {
            (status, error.unwrap_or_default())
        }
        other => panic!("expected a token endpoint refusal, got {other:?}"),
    }
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

    // The PAR endpoint asks for a nonce too; a fresh client answers it the same way.
    let client = dpop_client();
    let verifier = PkceVerifier::generate().unwrap();
    let request = AuthorizationRequest::new(REDIRECT_URI, &verifier).with_scope("api:read");
    let pushed = client
        .push_authorization_request(&endpoints(provider).await, &public_client(), &request)
        .await
        .unwrap_or_else(|e| panic!("{e}; provider stderr:\n{}", provider.stderr()));
    assert!(pushed
        .request_uri()
        .starts_with("urn:ietf:params:oauth:request_uri:"));
    assert!(client
        .authorization_server_nonce_for(provider.issuer())
        .is_some());
}

// --- (3) client authentication: client_secret_basic, client_secret_post, private_key_jwt ----

#[tokio::test]
async fn client_secret_basic_with_form_encoded_credentials() {
    let Some(provider) = rs256() else { return };
    let client = dpop_client();
    let grant = Grant::client_credentials()
        .with_resource(API)
        .with_scope("api:write");
    // An id with a space and a colon, a secret with `%` and `+`: RFC 6749 §2.3.1 form-encodes
    // both before base64, and so does `ClientAuth::secret_basic`.
    let basic = ClientAuth::secret_basic(BASIC_ID, BASIC_SECRET);
    let token = token_for(provider, &client, &basic, &grant)
        .await
        .access_token;
    let guard = guard(provider).await;
    let authorized = check(&guard, &token, &proof(&client, &token)).unwrap();
    assert_eq!(authorized.client_id(), BASIC_ID);
    assert!(authorized.has_scope("api:write"));
    let wrong = ClientAuth::secret_basic(BASIC_ID, "wrong");
    let endpoints = endpoints(provider).await;
    assert_eq!(
        refusal(client.token(&endpoints, &wrong, &grant).await),
        (401, "invalid_client".to_owned())
    );

    // By hand, what a client that skips the form-encoding sends: refused. This is why the
    // encoding matters, and what `ClientAuth` saves its users from.
    let token_url = provider.url("/token");
    let params = [
        ("grant_type", "client_credentials"),
        ("resource", API),
        ("scope", "api:write"),
    ];
    let send = |id: &str, secret: &str| {
        let basic = Base64::encode_string(format!("{id}:{secret}").as_bytes());
        let request = http()
            .post(&token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", format!("Basic {basic}"))
            .body(form(&params))
            .build()
            .unwrap();
        client.execute(request, None)
    };
    // The `%` in the raw secret is not valid form-encoding: a bad request.
    let response = send(BASIC_ID, BASIC_SECRET).await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_request");
    // A raw id: its `:` splits the credentials in the wrong place, so no client matches.
    let response = send(BASIC_ID, &form_encode(BASIC_SECRET)).await.unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn client_secret_post_with_a_wrong_secret_is_refused() {
    let Some(provider) = rs256() else { return };
    let client = dpop_client();
    // The right secret is exercised by every client_credentials test above.
    let wrong = ClientAuth::secret_post("cs-post", "wrong");
    let result = client
        .token(&endpoints(provider).await, &wrong, &api_grant(API))
        .await;
    assert_eq!(refusal(result), (401, "invalid_client".to_owned()));
}

/// `pkjwt` authenticated by an assertion signed with `key` (`aud` = the issuer, fresh `jti`).
fn pkjwt_client(key: &Arc<SigningKey>) -> ClientAuth {
    ClientAuth::private_key_jwt("pkjwt", Arc::clone(key) as Arc<dyn JwsSigner>)
}

#[tokio::test]
async fn private_key_jwt_at_the_token_and_introspection_endpoints() {
    let Some(provider) = pkjwt() else { return };
    let guard = guard(provider).await;
    // Assertions by either registered key (ES256, Ed25519), each with a fresh `jti`: the
    // provider refuses a reused one, so two tokens in a row prove the `jti`s differ.
    for key in client_keys() {
        let client = dpop_client();
        for _ in 0..2 {
            let token = token_for(provider, &client, &pkjwt_client(key), &api_grant(API))
                .await
                .access_token;
            let authorized = check(&guard, &token, &proof(&client, &token)).unwrap();
            assert_eq!(authorized.client_id(), "pkjwt");
            let header = keybound::danger::decode_unverified(&token).unwrap().header;
            assert_eq!(header["alg"], "PS256");
        }
    }

    // An assertion by a key the client never registered: invalid_client.
    let stranger = Arc::new(SigningKey::generate().unwrap());
    let client = dpop_client();
    let result = client
        .token(
            &endpoints(provider).await,
            &pkjwt_client(&stranger),
            &api_grant(API),
        )
        .await;
    assert_eq!(refusal(result), (401, "invalid_client".to_owned()));

    // The resource server introspects as `pkjwt` too, with an assertion of its own each time.
    let opaque = token_for(provider, &client, &post_client(), &api_grant(OPAQUE_API))
        .await
        .access_token;
    let introspector = Introspector::from_metadata(&metadata(provider).await, OPAQUE_API, http())
        .unwrap()
        .with_client_auth(pkjwt_client(&client_keys()[0]));
    let claims = introspector
        .introspect(&opaque, UnixTime::now())
        .await
        .unwrap_or_else(|e| panic!("{e}; provider stderr:\n{}", provider.stderr()));
    assert_eq!(claims.client_id(), "cs-post");
    assert_eq!(claims.jkt(), Some(client.signer().thumbprint()));
    // The stranger's key cannot introspect: the endpoint refuses, the guard would answer 503.
    let refused = Introspector::from_metadata(&metadata(provider).await, OPAQUE_API, http())
        .unwrap()
        .with_client_auth(pkjwt_client(&stranger))
        .introspect(&opaque, UnixTime::now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            Error::Upstream(keybound::UpstreamError::Status(401))
        ),
        "{refused:?}"
    );
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

/// The public client (`none`: its `client_id` in the form, PKCE instead of a secret).
fn public_client() -> ClientAuth {
    ClientAuth::none("public")
}

/// The authorization request of the public client for the JWT API, with PKCE.
fn authorization_request(verifier: &PkceVerifier) -> AuthorizationRequest {
    AuthorizationRequest::new(REDIRECT_URI, verifier)
        .with_scope("api:read")
        .with_resource(API)
        .with_state("xyz")
}

/// Sends alice's browser to `url` and returns the code of the redirect (checking `state` and
/// the RFC 9207 `iss`).
async fn code_from(provider: &OidcProvider, url: &str) -> String {
    let mut browser = Browser {
        http: http(),
        cookies: HashMap::new(),
    };
    let answer = browser.authorize(reqwest::Url::parse(url).unwrap()).await;
    assert_eq!(answer.get("state").map(String::as_str), Some("xyz"));
    assert_eq!(
        answer.get("iss").map(String::as_str),
        Some(provider.issuer())
    );
    answer["code"].clone()
}

#[tokio::test]
async fn authorization_code_with_pkce_then_a_token_source_refreshes_with_the_bound_key() {
    let Some(provider) = rs256() else { return };
    let endpoints = endpoints(provider).await;
    let client = Arc::new(dpop_client());
    let verifier = PkceVerifier::generate().unwrap();
    // Front channel, no PAR: the URL carries the PKCE challenge and `dpop_jkt`.
    let url = client
        .authorization_url(&endpoints, "public", &authorization_request(&verifier))
        .unwrap();
    assert!(url.contains(&format!(
        "dpop_jkt={}",
        client.signer().thumbprint().to_base64url()
    )));
    // `dpop_jkt` is all that binds a front-channel code to the key: another key cannot
    // redeem it (node-oidc-provider then burns the code)…
    let code = code_from(provider, &url).await;
    let grant = Grant::authorization_code(code, REDIRECT_URI, &verifier);
    assert_eq!(
        refusal(
            dpop_client()
                .token(&endpoints, &public_client(), &grant)
                .await
        ),
        (400, "invalid_grant".to_owned())
    );
    assert!(
        provider.logs("does not match dpop_jkt"),
        "{}",
        provider.stderr()
    );

    // … and the client whose key it names can.
    let code = code_from(provider, &url).await;
    let grant = Grant::authorization_code(code, REDIRECT_URI, &verifier);
    let tokens = token_for(provider, &client, &public_client(), &grant).await;
    let guard = guard(provider).await;
    let token = tokens.access_token.clone();
    let authorized = check(&guard, &token, &proof(&client, &token)).unwrap();
    assert_eq!(authorized.subject(), "alice");
    assert_eq!(authorized.client_id(), "public");
    let refresh_token = tokens.refresh_token.clone().expect("a refresh token");

    // Another key: the provider refuses, for the binding (the reason is only in its log).
    let thief = dpop_client();
    let stolen = Grant::refresh_token(refresh_token.as_str());
    assert_eq!(
        refusal(thief.token(&endpoints, &public_client(), &stolen).await),
        (400, "invalid_grant".to_owned())
    );
    assert!(
        provider.logs("failed jkt verification"),
        "{}",
        provider.stderr()
    );

    // The token source renews with the refresh token and the right key, twice: the second
    // renewal only works if the first stored the rotated refresh token (the old one is spent).
    let source = TokenSource::from_token_response(
        client.clone(),
        endpoints.clone(),
        public_client(),
        tokens,
    );
    let mut seen = vec![token];
    for _ in 0..2 {
        source.invalidate().await;
        let renewed = source
            .access_token()
            .await
            .unwrap_or_else(|e| panic!("{e}; provider stderr:\n{}", provider.stderr()));
        assert!(!seen.contains(&*renewed), "a new access token");
        let authorized = check(&guard, &renewed, &proof(&client, &renewed)).unwrap();
        assert_eq!(authorized.subject(), "alice");
        assert_eq!(authorized.jkt(), Some(client.signer().thumbprint()));
        seen.push(renewed.to_string());
    }
    // Without invalidation the source hands out the cached token.
    assert_eq!(&*source.access_token().await.unwrap(), seen.last().unwrap());

    // The first refresh token is spent, even with the right key.
    let spent = Grant::refresh_token(refresh_token.as_str());
    assert_eq!(
        refusal(client.token(&endpoints, &public_client(), &spent).await),
        (400, "invalid_grant".to_owned())
    );
}

/// A code for the public client through a pushed authorization request made by `client`,
/// and the verifier it needs.
async fn pushed_code(provider: &OidcProvider, client: &DpopClient) -> (String, PkceVerifier) {
    let endpoints = endpoints(provider).await;
    assert!(endpoints.pushed_authorization_request_endpoint().is_some());
    let verifier = PkceVerifier::generate().unwrap();
    let request = authorization_request(&verifier);
    let pushed = client
        .push_authorization_request(&endpoints, &public_client(), &request)
        .await
        .unwrap_or_else(|e| panic!("{e}; provider stderr:\n{}", provider.stderr()));
    assert!(pushed.expires_in() > 0);
    let url = pushed.authorization_url(&endpoints, "public").unwrap();
    assert!(
        !url.contains("code_challenge"),
        "only client_id and request_uri: {url}"
    );
    (code_from(provider, &url).await, verifier)
}

#[tokio::test]
async fn pushed_authorization_request_binds_the_code_to_the_key() {
    let Some(provider) = es256() else { return };
    let endpoints = endpoints(provider).await;
    let client = dpop_client();

    let (code, verifier) = pushed_code(provider, &client).await;
    let grant = Grant::authorization_code(code, REDIRECT_URI, &verifier);
    let tokens = token_for(provider, &client, &public_client(), &grant).await;
    let guard = guard(provider).await;
    let token = &tokens.access_token;
    let authorized = check(&guard, token, &proof(&client, token)).unwrap();
    assert_eq!(authorized.subject(), "alice");
    assert_eq!(authorized.jkt(), Some(client.signer().thumbprint()));

    // The code was bound to the pushing client's key (`dpop_jkt`, RFC 9449 §10): another key
    // cannot redeem it (and node-oidc-provider then burns the code).
    let (code, verifier) = pushed_code(provider, &client).await;
    let grant = Grant::authorization_code(code, REDIRECT_URI, &verifier);
    let thief = dpop_client();
    assert_eq!(
        refusal(thief.token(&endpoints, &public_client(), &grant).await),
        (400, "invalid_grant".to_owned())
    );
    assert!(
        provider.logs("does not match dpop_jkt"),
        "{}",
        provider.stderr()
    );
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

#[tokio::test]
async fn opaque_tokens_through_introspection() {
    let Some(provider) = es256() else { return };
    let introspector = Introspector::from_metadata(&metadata(provider).await, OPAQUE_API, http())
        .unwrap()
        .with_client_auth(post_client());
    let guard = RequestGuard::new(TokenVerifier::new(
        provider.issuer(),
        API,
        key_set(provider).await,
    ))
    .with_introspection(introspector);

    let client = dpop_client();
    let token = token_for(provider, &client, &post_client(), &api_grant(OPAQUE_API))
        .await
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
    let wrong = ClientAuth::secret_post("cs-post", "wrong");
    let refused = client
        .token(&endpoints(provider).await, &wrong, &api_grant(API))
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

// --- encrypted access tokens against panva/jose's JWE ----------------------------------------

/// keybound encrypts, `jose` decrypts (and finds keybound's signed token inside); `jose`
/// encrypts keybound's signed token, keybound's guard decrypts and accepts it. For
/// ECDH-ES+A256KW (P-256), ECDH-ES (X25519), ECDH-ES+A128KW (P-384) and RSA-OAEP-256, with
/// GCM and CBC-HMAC content encryption.
#[tokio::test]
async fn encrypted_tokens_interoperate_with_jose() {
    use keybound::{
        ContentEncryption, DecryptionKey, EcdhCurve, IssuerKeys, KeyManagement, TokenIssuer,
        TokenRequest,
    };
    // Only for the node check (and the npm packages).
    let Some(_provider) = rs256() else { return };
    const ISS: &str = "https://as.example.test";
    let cases = [
        (
            KeyManagement::EcdhEsA256Kw,
            Some(EcdhCurve::P256),
            ContentEncryption::A256Gcm,
        ),
        (
            KeyManagement::EcdhEs,
            Some(EcdhCurve::X25519),
            ContentEncryption::A128CbcHs256,
        ),
        (
            KeyManagement::EcdhEsA128Kw,
            Some(EcdhCurve::P384),
            ContentEncryption::A256CbcHs512,
        ),
        (KeyManagement::RsaOaep256, None, ContentEncryption::A128Gcm),
    ];
    for (alg, crv, enc) in cases {
        let label = format!("{} {}", alg.as_str(), enc.as_str());
        let decryption = DecryptionKey::generate(alg, crv).unwrap().with_kid("rs-1");
        let private_jwk: Value = serde_json::from_str(&decryption.to_jwk()).unwrap();
        let public_jwk: Value =
            serde_json::from_str(&decryption.encryption_key().to_jwk()).unwrap();
        let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
        let verifier = || TokenVerifier::new(ISS, API, issuer.keys().key_set());
        let client = dpop_client();
        let request = TokenRequest::new("alice", API, "app", client.signer().thumbprint());

        // keybound → jose.
        let encrypting = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap()).with_encryption(
            API,
            &decryption.encryption_key(),
            enc,
        );
        let jwe = encrypting
            .issue(&request, UnixTime::now())
            .unwrap()
            .access_token;
        let opened =
            oidc_provider::node_jwe(&json!({"op": "decrypt", "jwe": jwe, "jwk": private_jwk}));
        assert_eq!(opened["header"]["alg"], alg.as_str(), "{label}");
        assert_eq!(opened["header"]["enc"], enc.as_str(), "{label}");
        assert_eq!(opened["header"]["cty"], "JWT", "{label}");
        let inner = opened["plaintext"].as_str().unwrap();
        let verified = TokenVerifier::new(ISS, API, encrypting.keys().key_set())
            .verify(inner, UnixTime::now())
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(verified.claims().subject(), "alice");

        // jose → keybound.
        let signed = issuer
            .issue(&request, UnixTime::now())
            .unwrap()
            .access_token;
        let sealed = oidc_provider::node_jwe(
            &json!({"op": "encrypt", "plaintext": signed, "jwk": public_jwk, "enc": enc.as_str()}),
        );
        let jwe = sealed["jwe"].as_str().unwrap();
        let guard = RequestGuard::new(verifier()).with_decryption_key(decryption);
        let authorized = check(&guard, jwe, &proof(&client, jwe))
            .unwrap_or_else(|r| panic!("{label}: {:?}", r.error()));
        assert_eq!(authorized.subject(), "alice");
    }
}

/// node-oidc-provider issues encrypted JWT access tokens (signed ES256, then ECDH-ES+A256KW /
/// A256GCM to the resource server's key, `cty: "at+jwt"`): a guard without the decryption key
/// refuses them with `invalid_token`; with it they are decrypted, verified and stay bound to
/// the client's key (`ath` over the JWE as sent).
#[tokio::test]
async fn provider_encrypted_access_tokens_are_decrypted_and_bound() {
    let Some(provider) = encrypted() else { return };
    let client = dpop_client();
    let token = client_credentials(provider, &client).await;
    assert_eq!(token.split('.').count(), 5, "a compact JWE");
    let header: Value = serde_json::from_slice(
        &base64ct::Base64UrlUnpadded::decode_vec(token.split('.').next().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "ECDH-ES+A256KW");
    assert_eq!(header["enc"], "A256GCM");
    assert_eq!(header["kid"], "api-enc-1");
    assert_eq!(header["cty"], "at+jwt");

    // Without the key: refused, never decrypted.
    let plain_guard = guard(provider).await;
    let refused = check(&plain_guard, &token, &proof(&client, &token)).unwrap_err();
    assert_eq!(refused.status(), 401);
    assert!(refused
        .www_authenticate()
        .contains(r#"error="invalid_token""#));

    // The inner token is the provider's signed at+jwt.
    let inner =
        keybound::decrypt_nested_jwt(&token, std::slice::from_ref(&decryption_key_copy())).unwrap();
    let jwt = keybound::danger::decode_unverified(&inner).unwrap();
    assert_eq!(
        (&jwt.header["alg"], &jwt.header["typ"]),
        (&json!("ES256"), &json!("at+jwt"))
    );

    let guard = guard(provider)
        .await
        .with_decryption_key(decryption_key_copy());
    let fresh = proof(&client, &token);
    let authorized = check(&guard, &token, &fresh).expect("decrypted, verified and bound");
    assert_eq!(authorized.subject(), "cs-post");
    assert_eq!(authorized.jkt(), Some(client.signer().thumbprint()));
    assert_eq!(authorized.claims().audiences(), [API]);
    assert_refused(
        check(&guard, &token, &fresh),
        Error::InvalidProof(ProofError::Replayed),
    );
    let thief = dpop_client();
    assert_refused(
        check(&guard, &token, &proof(&thief, &token)),
        Error::InvalidToken(TokenError::KeyMismatch),
    );
    // A proof whose `ath` is the hash of the inner token, not of the JWE sent, is refused.
    let wrong_ath = client
        .signer()
        .proof("GET", API_URL)
        .with_access_token(&inner)
        .sign(UnixTime::now())
        .unwrap();
    assert_eq!(check(&guard, &token, &wrong_ath).unwrap_err().status(), 401);
}

/// `resource_decryption_key()` again (a `DecryptionKey` is not `Clone`: it is read back from
/// its private JWK).
fn decryption_key_copy() -> keybound::DecryptionKey {
    keybound::DecryptionKey::from_jwk(&resource_decryption_key().to_jwk()).unwrap()
}
