//! An external issuer's costs, each next to its baseline in the same group and run.
//!
//! Run with `cargo bench --features reqwest --bench remote_issuer`.
//! - `remote_key_set/static_warm` vs `remote_key_set/remote_warm`: the same warm request
//!   (token cached, proof verified) with the issuer's keys in a fixed `KeySet` and in a
//!   `RemoteKeySet` loaded from a JWKS. Target (issue 13): remote ≤ 1.02 × static.
//!
//! The guards use a replay store that never remembers, so one request can be replayed every
//! iteration.

#[path = "support/forgetful_store.rs"]
mod forgetful_store;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use forgetful_store::ForgetfulStore;
use keybound::{
    HttpResponse, HttpTransport, IssuerKeys, OutgoingRequest, ProofSigner, ProofVerifier,
    RemoteKeySet, RequestGuard, ResourceRequest, SigningKey, TokenIssuer, TokenRequest,
    TokenVerifier, UnixTime, UpstreamError,
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

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = bench_remote_key_set
}
criterion_main!(benches);
