//! The keybound demo: why a stolen DPoP-bound token is useless.
//!
//! Starts an authorization server and a protected API on 127.0.0.1 (ephemeral ports, real HTTP)
//! and plays the story, one line per step. Exits non-zero if any step does not behave as shown.
//!
//! Run it with `cargo run --example demo`.

mod http;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use http::{send, serve, Message, Response};
use keybound::{
    error_response, token_response, IssuerKeys, KeySet, MemoryReplayStore, MemoryRevocationStore,
    NonceEngine, ProofSigner, ProofVerifier, RequestGuard, ResourceRequest, Revocation,
    RevocationStore, SigningKey, Thumbprint, TokenEndpoint, TokenIssuer, TokenRequest,
    TokenVerifier, UnixTime,
};
use serde_json::Value;

const ISSUER: &str = "https://as.demo.keybound";
const AUDIENCE: &str = "demo-api";

type Guard = RequestGuard<Arc<MemoryReplayStore>, Arc<MemoryRevocationStore>>;

/// The authorization server: `POST /token` (DPoP-bound tokens), `GET /jwks`,
/// `POST /revoke-key` (the "my key was stolen" button).
fn start_authorization_server(
    revocations: Arc<MemoryRevocationStore>,
) -> std::io::Result<(SocketAddr, String)> {
    // The token endpoint's public URL is only known once the port is; bind first.
    let issuer = Arc::new(TokenIssuer::new(
        ISSUER,
        IssuerKeys::generate().map_err(std::io::Error::other)?,
    ));
    let jwks = issuer.keys().jwks();
    let endpoint: Arc<std::sync::OnceLock<TokenEndpoint>> = Arc::new(std::sync::OnceLock::new());
    let handler_endpoint = endpoint.clone();
    let addr = serve(Arc::new(move |request: &Message| {
        let now = UnixTime::now();
        match request
            .start
            .split(' ')
            .take(2)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["POST", "/token"] => {
                let Some(endpoint) = handler_endpoint.get() else {
                    return Response::json(503, "{}".into());
                };
                let proofs = request.header_values("DPoP");
                match endpoint.check(&proofs, None, now) {
                    Ok(proof) => {
                        let grant =
                            TokenRequest::new("alice", AUDIENCE, "demo-client", proof.thumbprint())
                                .with_scope("orders:read");
                        match issuer.issue(&grant, now) {
                            Ok(issued) => Response::json(
                                200,
                                token_response(&issued, None, Some("orders:read")),
                            ),
                            Err(_) => Response::json(500, "{}".into()),
                        }
                    }
                    Err(error) => {
                        let answer = error_response(&error);
                        let response = Response::json(answer.status, answer.body);
                        match answer.dpop_nonce {
                            Some(nonce) => response.with_header("DPoP-Nonce", &nonce),
                            None => response,
                        }
                    }
                }
            }
            ["POST", "/revoke-key"] => match request.body.trim().parse::<Thumbprint>() {
                Ok(jkt) => match revocations.revoke(&Revocation::key(jkt, now), now) {
                    Ok(()) => Response::json(200, r#"{"revoked":true}"#.into()),
                    Err(_) => Response::json(503, "{}".into()),
                },
                Err(_) => Response::json(400, r#"{"error":"invalid_request"}"#.into()),
            },
            _ => Response::json(404, "{}".into()),
        }
    }))?;
    let _ = endpoint.set(TokenEndpoint::new(format!("http://{addr}/token")));
    Ok((addr, jwks))
}

/// The protected API: `GET /orders` and `GET /admin`, each request checked by the guard. When
/// `require_nonce` is set, the nonce-requiring guard answers (both share replay and revocation
/// state).
fn start_api(
    jwks: &str,
    revocations: Arc<MemoryRevocationStore>,
    require_nonce: Arc<AtomicBool>,
) -> std::io::Result<SocketAddr> {
    let replay = Arc::new(MemoryReplayStore::default());
    let guard = |proofs: ProofVerifier<Arc<MemoryReplayStore>>| -> std::io::Result<Guard> {
        let keys = KeySet::from_jwks(jwks).map_err(std::io::Error::other)?;
        Ok(
            RequestGuard::new(TokenVerifier::new(ISSUER, AUDIENCE, keys))
                .with_proof_verifier(proofs)
                .with_revocation_store(revocations.clone()),
        )
    };
    let relaxed = guard(ProofVerifier::with_replay_store(replay.clone()))?;
    let nonce_engine = NonceEngine::generate().map_err(std::io::Error::other)?;
    let strict = guard(ProofVerifier::with_replay_store(replay).with_nonces(nonce_engine))?;
    let origin: Arc<std::sync::OnceLock<String>> = Arc::new(std::sync::OnceLock::new());
    let handler_origin = origin.clone();
    let addr = serve(Arc::new(move |request: &Message| {
        let mut start = request.start.split(' ');
        let (method, path) = (start.next().unwrap_or(""), start.next().unwrap_or(""));
        if path != "/orders" && path != "/admin" {
            return Response::json(404, "{}".into());
        }
        // The URL the client used, from the configured public origin — never from `Host`.
        let url = format!("{}{path}", handler_origin.get().map_or("", String::as_str));
        let guard = if require_nonce.load(Ordering::SeqCst) {
            &strict
        } else {
            &relaxed
        };
        let authorization = request.header_values("Authorization");
        let dpop = request.header_values("DPoP");
        match guard.check(
            &ResourceRequest::new(method, &url, &authorization, &dpop),
            UnixTime::now(),
        ) {
            Ok(ok) => Response::json(
                200,
                format!(r##"{{"orders":["#1","#2"],"for":"{}"}}"##, ok.subject()),
            ),
            Err(rejection) => {
                let response = Response::json(rejection.status(), "{}".into())
                    .with_header("WWW-Authenticate", rejection.www_authenticate());
                match rejection.dpop_nonce() {
                    Some(nonce) => response.with_header("DPoP-Nonce", nonce),
                    None => response,
                }
            }
        }
    }))?;
    let _ = origin.set(format!("http://{addr}"));
    Ok(addr)
}

/// A client that owns a key: signs a fresh proof per request and retries once on
/// `use_dpop_nonce`.
struct Client {
    signer: ProofSigner,
}

impl Client {
    fn call(
        &self,
        api: SocketAddr,
        path: &str,
        token: &str,
        nonce: Option<&str>,
    ) -> std::io::Result<(Message, String)> {
        let url = format!("http://{api}{path}");
        let mut builder = self.signer.proof("GET", &url).with_access_token(token);
        if let Some(nonce) = nonce {
            builder = builder.with_nonce(nonce);
        }
        let proof = builder
            .sign(UnixTime::now())
            .map_err(std::io::Error::other)?;
        let authorization = format!("DPoP {token}");
        let response = send(
            api,
            "GET",
            path,
            &[("Authorization", &authorization), ("DPoP", &proof)],
            "",
        )?;
        Ok((response, proof))
    }
}

struct Story {
    failures: usize,
    checks: usize,
}

impl Story {
    /// Prints one line for `step` of the story; counts a failure unless the response has
    /// `expected_status` and, if given, `expected_error` in its challenge.
    fn step(
        &mut self,
        step: u8,
        label: &str,
        response: &Message,
        expected_status: u16,
        expected_error: Option<&str>,
    ) {
        self.checks += 1;
        let challenge = response.header("WWW-Authenticate").unwrap_or("-");
        let error_ok = match expected_error {
            None => true,
            Some(error) => challenge.contains(&format!("error=\"{error}\"")),
        };
        let ok = response.status() == expected_status && error_ok;
        if !ok {
            self.failures += 1;
        }
        println!(
            "[{}] {:<60} {} {}  WWW-Authenticate: {}",
            step,
            label,
            if ok { "ok  " } else { "FAIL" },
            response.status(),
            challenge
        );
    }
}

fn run() -> std::io::Result<Story> {
    let revocations = Arc::new(MemoryRevocationStore::new());
    let require_nonce = Arc::new(AtomicBool::new(false));
    let (auth_server, jwks) = start_authorization_server(revocations.clone())?;
    let api = start_api(&jwks, revocations, require_nonce.clone())?;
    println!("authorization server on http://{auth_server}, API on http://{api}\n");
    let mut story = Story {
        failures: 0,
        checks: 0,
    };

    // 1. The client makes a key and gets a DPoP-bound token.
    let client = Client {
        signer: ProofSigner::new(SigningKey::generate().map_err(std::io::Error::other)?),
    };
    let token_url = format!("http://{auth_server}/token");
    let proof = client
        .signer
        .proof("POST", &token_url)
        .sign(UnixTime::now())
        .map_err(std::io::Error::other)?;
    let response = send(
        auth_server,
        "POST",
        "/token",
        &[
            ("DPoP", &proof),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "grant_type=client_credentials",
    )?;
    let body: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    let token = body["access_token"].as_str().unwrap_or_default().to_owned();
    story.step(
        1,
        &format!(
            "client gets a token (token_type={})",
            body["token_type"].as_str().unwrap_or("?")
        ),
        &response,
        200,
        None,
    );
    if body["token_type"] != "DPoP" {
        story.failures += 1;
    }

    // 2. The client calls the API with the token and a fresh proof.
    let (response, captured) = client.call(api, "/orders", &token, None)?;
    story.step(
        2,
        "client calls GET /orders with token + fresh proof",
        &response,
        200,
        None,
    );

    // 3. An attacker stole the token and signs with its own key.
    let attacker = Client {
        signer: ProofSigner::new(SigningKey::generate().map_err(std::io::Error::other)?),
    };
    let (response, _) = attacker.call(api, "/orders", &token, None)?;
    story.step(
        3,
        "attacker: stolen token + proof by its own key",
        &response,
        401,
        Some("invalid_token"),
    );

    // 4. The attacker replays the captured proof with the stolen token.
    let authorization = format!("DPoP {token}");
    let response = send(
        api,
        "GET",
        "/orders",
        &[("Authorization", &authorization), ("DPoP", &captured)],
        "",
    )?;
    story.step(
        4,
        "attacker: replays the captured proof",
        &response,
        401,
        Some("invalid_dpop_proof"),
    );

    // 5. The attacker aims a captured proof at another endpoint.
    let (_, for_orders) = {
        // The client's next legitimate proof for /orders, captured before it reaches the API.
        let url = format!("http://{api}/orders");
        let proof = client
            .signer
            .proof("GET", &url)
            .with_access_token(&token)
            .sign(UnixTime::now())
            .map_err(std::io::Error::other)?;
        ((), proof)
    };
    let response = send(
        api,
        "GET",
        "/admin",
        &[("Authorization", &authorization), ("DPoP", &for_orders)],
        "",
    )?;
    story.step(
        5,
        "attacker: re-aims a proof for /orders at /admin",
        &response,
        401,
        Some("invalid_dpop_proof"),
    );

    // 6. The API starts requiring nonces: the client is told to use one and retries once.
    require_nonce.store(true, Ordering::SeqCst);
    let (response, _) = client.call(api, "/orders", &token, None)?;
    story.step(
        6,
        "API now requires nonces: client without one",
        &response,
        401,
        Some("use_dpop_nonce"),
    );
    let nonce = response.header("DPoP-Nonce").unwrap_or_default().to_owned();
    let (response, _) = client.call(api, "/orders", &token, Some(&nonce))?;
    story.step(
        6,
        "client retries once with the DPoP-Nonce it got",
        &response,
        200,
        None,
    );

    // 7. The key is reported stolen and revoked: the token stops working.
    let jkt = client.signer.thumbprint().to_string();
    let revoked = send(auth_server, "POST", "/revoke-key", &[], &jkt)?;
    story.step(
        7,
        "the client's key is reported stolen and revoked",
        &revoked,
        200,
        None,
    );
    let (response, _) = client.call(api, "/orders", &token, Some(&nonce))?;
    story.step(
        7,
        "the token bound to the revoked key",
        &response,
        401,
        Some("invalid_token"),
    );
    Ok(story)
}

fn main() -> ExitCode {
    match run() {
        Ok(story) if story.failures == 0 => {
            println!(
                "\nVERDICT: all {} checks behaved as expected — a stolen DPoP-bound token is useless without the client's key.",
                story.checks
            );
            ExitCode::SUCCESS
        }
        Ok(story) => {
            println!(
                "\nVERDICT: {} of {} checks did NOT behave as expected.",
                story.failures, story.checks
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("demo failed: {error}");
            ExitCode::FAILURE
        }
    }
}
