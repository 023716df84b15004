//! A loopback load test: pre-signs N fresh proofs, fires them at a DPoP-protected axum API with
//! concurrency C, reports requests/s and p50/p99 latency, and checks that exactly N requests
//! were accepted — then replays every proof and checks that all N are refused.
//!
//! ```sh
//! cargo run --release --example load_test --features axum,reqwest -- 2000 16
//! cargo run --release --example load_test --features axum,reqwest,aws-lc -- 2000 16
//! ```
//! Bounded: at most 100 000 proofs, 256 concurrent requests, 120 s; loopback only.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use keybound::{
    Authorized, DpopLayer, IssuerKeys, MemoryReplayStore, ProofSigner, ProofVerifier,
    PublicUrlPolicy, RequestGuard, SigningKey, TokenIssuer, TokenRequest, TokenVerifier, UnixTime,
    BACKEND,
};

const ISS: &str = "https://as.example.com";
const AUD: &str = "orders-api";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(2000), |a| a.parse())?.min(100_000);
    let c: usize = args.next().map_or(Ok(16), |a| a.parse())?.clamp(1, 256);

    // The API: one DPoP layer (in-memory replay store, verified-token cache) over one route.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin = format!("http://{}", listener.local_addr()?);
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate()?);
    // One client drives the whole load, so its share of the replay store is lifted (by
    // default one key may hold a sixteenth of the store and would get 429s past it).
    let guard = Arc::new(
        RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
            .with_proof_verifier(ProofVerifier::with_replay_store(
                MemoryReplayStore::default().with_per_key_limit(usize::MAX),
            )),
    );
    let app = Router::new()
        .route(
            "/orders",
            get(|who: Authorized| async move { who.subject().len().to_string() }),
        )
        .layer(DpopLayer::new(guard, PublicUrlPolicy::new(&origin)?));
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The client: one token, N fresh proofs signed before the clock starts.
    let client = ProofSigner::new(SigningKey::generate()?);
    let now = UnixTime::now();
    let token = issuer
        .issue(
            &TokenRequest::new("alice", AUD, "load", client.thumbprint()),
            now,
        )?
        .access_token;
    let url = format!("{origin}/orders");
    let proofs: Vec<String> = (0..n)
        .map(|_| {
            client
                .proof("GET", &url)
                .with_access_token(&token)
                .sign(now)
        })
        .collect::<Result<_, _>>()?;
    let proofs = Arc::new(proofs);
    let http = reqwest::Client::new();

    let (statuses, latencies, elapsed) = fire(&http, &url, &token, &proofs, c).await?;
    let accepted = statuses.iter().filter(|s| **s == 200).count();
    let (replay_statuses, _, _) = fire(&http, &url, &token, &proofs, c).await?;
    let replays_refused = replay_statuses.iter().filter(|s| **s == 401).count();

    let mut sorted = latencies;
    sorted.sort_unstable();
    let percentile = |p: f64| sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)];
    println!("backend {BACKEND}, {n} requests, concurrency {c}");
    println!(
        "  throughput: {:.0} requests/s",
        n as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  latency p50: {:?}, p99: {:?}",
        percentile(0.50),
        percentile(0.99)
    );
    println!("  accepted: {accepted} of {n}; replays refused: {replays_refused} of {n}");
    if accepted != n || replays_refused != n {
        return Err("acceptance or replay check failed".into());
    }
    Ok(())
}

/// Sends every proof once with `concurrency` requests in flight; statuses, latencies, wall time.
async fn fire(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    proofs: &Arc<Vec<String>>,
    concurrency: usize,
) -> Result<(Vec<u16>, Vec<Duration>, Duration), Box<dyn std::error::Error>> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, url, token, proofs, next) = (
            http.clone(),
            url.to_owned(),
            format!("DPoP {token}"),
            proofs.clone(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut results = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(proof) = proofs.get(i) else { break };
                let sent = Instant::now();
                let status = http
                    .get(&url)
                    .header("authorization", &token)
                    .header("dpop", proof)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                results.push((status, sent.elapsed()));
            }
            results
        }));
    }
    let mut statuses = Vec::new();
    let mut latencies = Vec::new();
    for worker in workers {
        let results = tokio::time::timeout(Duration::from_secs(120), worker).await??;
        for (status, latency) in results {
            statuses.push(status);
            latencies.push(latency);
        }
    }
    Ok((statuses, latencies, started.elapsed()))
}
