//! How costs grow: replay-store memory per live entry (measured from the process's resident
//! memory, not computed), replay-store insert throughput on one and two threads,
//! verified-token cache hit cost, proof size and JWKS size.
//!
//! Run with `cargo bench --bench scaling`. The memory figures are printed first (each size in a
//! fresh child process), then the one-vs-two-thread insert figures (alternating pairs), then
//! the criterion groups run.

#[path = "support/forgetful_store.rs"]
mod forgetful_store;

use std::hint::black_box;

use forgetful_store::ForgetfulStore;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use keybound::{
    Insertion, IssuerKeys, KeySet, MemoryReplayStore, ProofRequest, ProofSigner, ProofVerifier,
    ReplayKey, ReplayStore, RequestGuard, ResourceRequest, SigningKey, Thumbprint, TokenIssuer,
    TokenRequest, TokenVerifier, UnixTime,
};

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const URL: &str = "https://api.example.com/v1/orders";
const NOW: u64 = 1_700_000_000;
const MEMORY_CHILD: &str = "KEYBOUND_REPLAY_MEMORY_ENTRIES";

/// Resident memory of this process in bytes (Linux `/proc/self/statm`).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn keys(n: usize) -> Vec<ReplayKey> {
    let jkt = Thumbprint::from_bytes([7; 32]);
    (0..n)
        .map(|i| ReplayKey::new(&jkt, &i.to_string()))
        .collect()
}

/// In a child process: fill a store with `n` live entries and print bytes per entry.
fn measure_memory(n: usize) {
    let keys = keys(n);
    // Room to spare: shards fill unevenly, and capacity reserves no memory up front. One key
    // makes every proof here: its share is lifted so the table itself is what is measured.
    let store = MemoryReplayStore::with_capacity(2 * n).with_per_key_limit(usize::MAX);
    let now = UnixTime::from_secs(NOW);
    let before = resident_bytes().unwrap_or(0);
    for key in &keys {
        assert_eq!(
            store.insert_if_absent(key, now.saturating_add(65), now),
            Ok(Insertion::Inserted)
        );
    }
    let after = resident_bytes().unwrap_or(0);
    println!("{}", after.saturating_sub(before) as f64 / n as f64);
}

fn report_memory() {
    println!("replay store memory per live entry (resident memory growth / entries):");
    for n in [10_000usize, 100_000, 1_000_000] {
        let output = Command::new(std::env::current_exe().expect("own path"))
            .env(MEMORY_CHILD, n.to_string())
            .output()
            .expect("run child");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        println!("  {n:>9} entries: {} bytes/entry", text.trim());
    }
}

/// Total time for `threads` threads to insert `per_thread` fresh keys each into one store.
///
/// `steady` false: a fresh store, whose tables grow as it fills. `steady` true: a store as a
/// busy server has it — full of proofs that have just expired, so its tables are at full size
/// and each shard sweeps once before taking the new keys.
fn insert_time(threads: usize, per_thread: usize, steady: bool) -> Duration {
    let inserts = threads * per_thread;
    // A key per thread makes its proofs: shares lifted, so every insert takes the full path
    // (share counters included) and none is refused.
    let store =
        Arc::new(MemoryReplayStore::with_capacity(2 * inserts).with_per_key_limit(usize::MAX));
    let now = UnixTime::from_secs(NOW);
    let expiry = now.saturating_add(65);
    if steady {
        let (earlier, expired) = (
            UnixTime::from_secs(NOW - 100),
            UnixTime::from_secs(NOW - 35),
        );
        let old_jkt = Thumbprint::from_bytes([0xee; 32]);
        for i in 0.. {
            let key = ReplayKey::new(&old_jkt, &i.to_string());
            if store.insert_if_absent(&key, expired, earlier).is_err() {
                break;
            }
        }
    }
    let batches: Vec<Vec<ReplayKey>> = (0..threads)
        .map(|t| {
            let jkt = Thumbprint::from_bytes([t as u8; 32]);
            (0..per_thread)
                .map(|i| ReplayKey::new(&jkt, &i.to_string()))
                .collect()
        })
        .collect();
    // The clock starts once every thread is spawned and waiting, so thread start-up is not
    // counted as store time.
    let ready = Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        for batch in &batches {
            let (store, ready) = (store.clone(), &ready);
            scope.spawn(move || {
                ready.wait();
                for key in batch {
                    let _ = black_box(store.insert_if_absent(key, expiry, now));
                }
            });
        }
        ready.wait();
        // `scope` returns only after every thread has finished.
        Instant::now()
    })
    .elapsed()
}

const PER_THREAD: usize = 50_000;

/// One and two threads measured in alternation, 31 pairs per scenario: on a shared, noisy
/// machine, drift then weighs on both sides alike, which back-to-back criterion groups do not
/// guarantee.
fn report_thread_scaling() {
    const PAIRS: usize = 31;
    println!("replay store inserts, 100 000 keys, one thread vs two (medians of {PAIRS} alternating pairs):");
    for (name, steady) in [("fresh store", false), ("steady store", true)] {
        let (mut one, mut two) = (Vec::new(), Vec::new());
        for _ in 0..PAIRS {
            one.push(insert_time(1, 2 * PER_THREAD, steady));
            two.push(insert_time(2, PER_THREAD, steady));
        }
        let (one, two) = (median(one), median(two));
        println!(
            "  {name}: one thread {:.2} ms, two threads {:.2} ms, {:.2}x",
            one.as_secs_f64() * 1e3,
            two.as_secs_f64() * 1e3,
            one.as_secs_f64() / two.as_secs_f64()
        );
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn bench_replay_inserts(c: &mut Criterion) {
    // The same total work (100 000 inserts) on one thread and split over two.
    for (name, steady) in [
        ("replay_insert_100k", false),
        ("replay_insert_100k_steady", true),
    ] {
        let mut group = c.benchmark_group(name);
        // Thread scheduling makes these the noisiest figures here: more and longer samples.
        group
            .sample_size(40)
            .measurement_time(Duration::from_secs(8));
        group.bench_function("one_thread", |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| insert_time(1, 2 * PER_THREAD, steady))
                    .sum()
            })
        });
        group.bench_function("two_threads", |b| {
            b.iter_custom(|iters| (0..iters).map(|_| insert_time(2, PER_THREAD, steady)).sum())
        });
        group.finish();
    }
}

fn bench_cache_and_sizes(c: &mut Criterion) {
    let now = UnixTime::from_secs(NOW);
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().expect("key"));
    let client = ProofSigner::new(SigningKey::generate().expect("key"));
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
    let (authz, dpop) = ([authorization.as_str()], [proof.as_str()]);
    let request = ResourceRequest::new("GET", URL, &authz, &dpop);

    // Cache hit cost: a warm request minus the proof verification it contains.
    let warm = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(ProofVerifier::with_replay_store(ForgetfulStore));
    let proofs_only = ProofVerifier::with_replay_store(ForgetfulStore);
    let proof_request = ProofRequest::new("GET", URL, &dpop).with_access_token(&token);
    let mut group = c.benchmark_group("cache_hit");
    group.bench_function("proof_only", |b| {
        b.iter(|| proofs_only.verify(black_box(&proof_request), now).is_ok())
    });
    group.bench_function("warm_request", |b| {
        b.iter(|| warm.check(black_box(&request), now).is_ok())
    });
    group.finish();

    // Proof size: the same check with a longer jti (the proof grows from ~0.5 to ~1 KiB).
    let mut group = c.benchmark_group("proof_size");
    for jti_len in [22usize, 256] {
        let key = SigningKey::from_jwk(&client.key().to_jwk()).expect("key");
        let header = format!(
            r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#,
            key.public_key().to_jwk()
        );
        let claims = format!(
            r#"{{"jti":"{}","htm":"GET","htu":"{URL}","iat":{NOW}}}"#,
            "j".repeat(jti_len)
        );
        let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
        let signed = format!("{input}.{}", b64(&key.sign(input.as_bytes()).unwrap()));
        let headers = [signed.as_str()];
        let verify_request = ProofRequest::new("GET", URL, &headers);
        group.bench_function(format!("proof_{}_bytes", signed.len()), |b| {
            b.iter(|| proofs_only.verify(black_box(&verify_request), now).is_ok())
        });
    }
    group.finish();

    // JWKS size: cold token verification against sets of 1, 10 and 100 keys.
    let mut group = c.benchmark_group("jwks_size");
    for n in [1usize, 10, 100] {
        let mut public_keys = vec![issuer.keys().active().public_key().clone()];
        for _ in 1..n {
            public_keys.push(SigningKey::generate().expect("key").public_key().clone());
        }
        let set = KeySet::from_jwks(&keybound::jwks_json(&public_keys)).expect("jwks");
        assert_eq!(set.len(), n);
        let verifier = TokenVerifier::new(ISS, AUD, set);
        group.bench_function(format!("token_verify_{n}_keys"), |b| {
            b.iter(|| verifier.verify(black_box(&token), now).is_ok())
        });
    }
    group.finish();
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench_replay_inserts, bench_cache_and_sizes
}

fn main() {
    if let Ok(n) = std::env::var(MEMORY_CHILD) {
        measure_memory(n.parse().expect("entry count"));
        return;
    }
    report_memory();
    report_thread_scaling();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
