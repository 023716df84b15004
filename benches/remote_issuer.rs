//! An external issuer's costs, each next to its baseline in the same group and run.
//!
//! Run with `cargo bench --features reqwest --bench remote_issuer`.
//! - `remote_key_set/static_warm` vs `remote_key_set/remote_warm`: the same warm request
//!   (token cached, proof verified) with the issuer's keys in a fixed `KeySet` and in a
//!   `RemoteKeySet` loaded from a JWKS. Target (issue 13): remote ≤ 1.02 × static.
//!
//! - `introspection/jwt_warm` vs `introspection/opaque_cached`: the same request with a JWT
//!   in the verified-token cache and with an opaque token whose introspection answer is
//!   cached. Target (issue 13): a cache hit adds ≤ 2 µs (the difference of the two).
//! - `introspection/cache_hit`: `Introspector::introspect` answered from its cache (SHA-256 of
//!   the token, one sharded lookup) — the hit's own cost, free of the request's noise.
//! - `introspection/miss_loopback`: one introspection with the cache off, against an axum
//!   endpoint on 127.0.0.1 (HTTP/1.1 through reqwest) — the cost of a miss.
//!
//! The guards use a replay store that never remembers, so one request can be replayed every
//! iteration.

#[path = "support/forgetful_store.rs"]
mod forgetful_store;

use std::future::Future;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use forgetful_store::ForgetfulStore;
use keybound::{
    ClientAuth, HttpResponse, HttpTransport, IntrospectionOptions, Introspector, IssuerKeys,
    OutgoingRequest, ProofSigner, ProofVerifier, RemoteKeySet, RequestGuard, ResourceRequest,
    SigningKey, TokenIssuer, TokenRequest, TokenVerifier, UnixTime, UpstreamError,
};

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const URL: &str = "https://api.example.com/v1/orders";
const NOW: u64 = 1_700_000_000;

/// Serves one JWKS.
struct Jwks(String);

impl HttpTransport for Jwks {
    fn send<'a>(
        &'a self,
        _request: OutgoingRequest<'a>,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<HttpResponse, UpstreamError>> + Send + 'a>,
    > {
        let response = HttpResponse::new(200, self.0.as_bytes()).with_cache_control("max-age=600");
        Box::pin(async move { Ok(response) })
    }
}

fn bench_remote_key_set(c: &mut Criterion) {
    let now = UnixTime::from_secs(NOW);
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().expect("issuer key"));
    let client = ProofSigner::new(SigningKey::generate().expect("client key"));
    let token = issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
            now,
        )
        .expect("token")
        .access_token;
    let proof = client
        .proof("GET", URL)
        .with_access_token(&token)
        .sign(now)
        .expect("proof");
    let authorization = format!("DPoP {token}");
    let authorization = [authorization.as_str()];
    let dpop = [proof.as_str()];
    let request = ResourceRequest::new("GET", URL, &authorization, &dpop);

    let remote =
        RemoteKeySet::new(format!("{ISS}/jwks"), Jwks(issuer.keys().jwks())).expect("jwks_uri");
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(remote.refresh(now))
        .expect("fetch");
    let guard = |tokens: TokenVerifier| {
        RequestGuard::new(tokens)
            .with_proof_verifier(ProofVerifier::with_replay_store(ForgetfulStore))
    };
    let fixed = guard(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()));
    let fetched = guard(remote.verifier(ISS, AUD));
    assert!(fixed.check(&request, now).is_ok());
    assert!(fetched.check(&request, now).is_ok());

    let mut group = c.benchmark_group("remote_key_set");
    group.bench_function("static_warm", |b| {
        b.iter(|| fixed.check(black_box(&request), now).is_ok())
    });
    group.bench_function("remote_warm", |b| {
        b.iter(|| fetched.check(black_box(&request), now).is_ok())
    });
    group.finish();
}

fn bench_introspection(c: &mut Criterion) {
    let now = UnixTime::now();
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().expect("issuer key"));
    let client = ProofSigner::new(SigningKey::generate().expect("client key"));
    let jwt = issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
            now,
        )
        .expect("token")
        .access_token;
    let opaque = "opaque-2YotnFZFEjr1zCsicMWpAA";
    let answer = format!(
        r#"{{"active":true,"iss":"{ISS}","aud":"{AUD}","sub":"alice","client_id":"app","exp":{},"token_type":"DPoP","cnf":{{"jkt":"{}"}}}}"#,
        now.as_secs() + 3600,
        client.thumbprint()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let endpoint = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/introspect", listener.local_addr().expect("addr"));
        let body = answer.clone();
        let app = axum::Router::new().route(
            "/introspect",
            axum::routing::post(move || {
                let body = body.clone();
                async move { ([("content-type", "application/json")], body) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    });
    let introspector = |capacity: usize| {
        Introspector::new(&endpoint, ISS, AUD, reqwest::Client::new())
            .expect("endpoint")
            .with_client_auth(ClientAuth::secret_basic("rs", "secret"))
            .with_options(IntrospectionOptions::new().with_cache_capacity(capacity))
    };
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(ProofVerifier::with_replay_store(ForgetfulStore))
        .with_introspection(introspector(1024));
    let request_parts = |token: &str| {
        let proof = client
            .proof("GET", URL)
            .with_access_token(token)
            .sign(now)
            .expect("proof");
        (format!("DPoP {token}"), proof)
    };
    let (jwt_authorization, jwt_proof) = request_parts(&jwt);
    let (opaque_authorization, opaque_proof) = request_parts(opaque);
    let (ja, jp) = ([jwt_authorization.as_str()], [jwt_proof.as_str()]);
    let (oa, op) = ([opaque_authorization.as_str()], [opaque_proof.as_str()]);
    let jwt_request = ResourceRequest::new("GET", URL, &ja, &jp);
    let opaque_request = ResourceRequest::new("GET", URL, &oa, &op);
    assert!(guard.check(&jwt_request, now).is_ok());
    assert!(runtime
        .block_on(guard.check_async(&opaque_request, now))
        .is_ok());
    assert!(
        guard.check(&opaque_request, now).is_ok(),
        "served from the cache"
    );

    let mut group = c.benchmark_group("introspection");
    group.bench_function("jwt_warm", |b| {
        b.iter(|| guard.check(black_box(&jwt_request), now).is_ok())
    });
    group.bench_function("opaque_cached", |b| {
        b.iter(|| guard.check(black_box(&opaque_request), now).is_ok())
    });
    // The hit itself: `introspect` answered from the cache completes on its first poll.
    let cached = introspector(1024);
    assert!(runtime.block_on(cached.introspect(opaque, now)).is_ok());
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    group.bench_function("cache_hit", |b| {
        b.iter(|| {
            let mut hit = std::pin::pin!(cached.introspect(black_box(opaque), now));
            matches!(
                hit.as_mut().poll(&mut context),
                std::task::Poll::Ready(Ok(_))
            )
        })
    });
    let uncached = introspector(0);
    group.bench_function("miss_loopback", |b| {
        b.iter(|| {
            runtime
                .block_on(uncached.introspect(black_box(opaque), now))
                .is_ok()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = bench_remote_key_set, bench_introspection
}
criterion_main!(benches);
