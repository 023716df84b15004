//! Chaos under load (issue 17): two API instances, each with its own connection to a real
//! Redis Cluster (3 primaries, 1 replica each) or to a primary + replica under three Sentinels,
//! take concurrent requests while the test kills, pauses, stalls and empties nodes. Every proof
//! is sent to both instances at once; every outcome is recorded per proof.
//!
//! What must hold, whatever the fault: no proof is accepted twice (across both instances, every
//! phase and the replay sweeps after each one); no request by a revoked key or subject is
//! accepted; a request is only ever accepted or refused as a replay (401), as revoked (401), as
//! unavailable (503) or over its key's quota (429) — any other answer fails the test; and once a
//! fault heals, the same stores (never reopened) accept requests again within
//! [`RECOVERY_BOUND`]. With `replica_acks` 1 every accepted proof was acknowledged by a replica,
//! so a failover keeps it: the sweep re-sends every accepted proof still inside its `iat` window
//! and none may be accepted. With `replica_acks` 0 (asynchronous replication) a failover may
//! forget the last registrations; that run reports how many, it asserts nothing about them,
//! and so does the run that restarts a primary without persistence empty before it is
//! replaced (it forgets proofs and revocations alike, whatever the library's settings).
//!
//! Each phase prints a row of the fault table (requests, outcomes, accepted twice, req/s,
//! latency). `KEYBOUND_CHAOS_SECS` sets the load time around each fault (default 0.75 s, for
//! CI); a longer release run gives the BENCHMARKS figures:
//! `KEYBOUND_CHAOS_SECS=5 cargo test --release --features redis --test redis_chaos -- --nocapture`.
//!
//! Without `redis-server` the tests say loudly that they were skipped; with
//! `KEYBOUND_REQUIRE_REDIS=1` (as `.ci/run` sets) a missing binary is a failure.

// The harnesses serve several test files; each uses part of them.
#[allow(dead_code)]
#[path = "support/redis_cluster.rs"]
mod redis_cluster;
#[allow(dead_code)]
#[path = "support/redis_process.rs"]
mod redis_process;
#[allow(dead_code)]
#[path = "support/redis_sentinel.rs"]
mod redis_sentinel;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use keybound::{
    AsyncReplayStore, Authorized, Error, Insertion, IssuerKeys, ProofError, ProofSigner,
    ProofVerifier, RedisClusterStores, RedisConfig, RedisReplayStore, RedisRevocationStore,
    RedisStores, Rejection, ReplayKey, RequestGuard, ResourceRequest, Revocation, SigningKey,
    StoreError, TokenError, TokenIssuer, TokenRequest, TokenVerifier, UnixTime,
};
use tokio::task::JoinHandle;

use redis_cluster::{Creation, RedisCluster};
use redis_sentinel::RedisSentinel;

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const API: &str = "https://api.example.com/orders";

type Guard = RequestGuard<RedisReplayStore, RedisRevocationStore>;

/// Concurrent load loops: each sends one fresh proof to both instances at a time.
const LOAD_TASKS: usize = 8;
/// Clients whose requests should be accepted; on a cluster, a third of them on each shard.
/// Enough that none reaches its replay-store quota (16 384 live proofs, about 250 a second)
/// in a long release run.
const LIVE_CLIENTS: usize = 24;
/// One request in this many is by a revoked client (by key and by subject, in turn).
const REVOKED_EVERY: usize = 10;
/// Once a fault has healed, every live client must be accepted by both instances within this.
const RECOVERY_BOUND: Duration = Duration::from_secs(15);
/// Failovers, restarts and the first requests of a fresh deployment must settle within this.
const SETTLE: Duration = Duration::from_secs(20);
/// A request that takes longer than this is a hang (the store's deadline is under a second):
/// recorded as an unexpected outcome, so the test fails instead of waiting forever.
const REQUEST_BOUND: Duration = Duration::from_secs(10);
/// How long the guard remembers a proof: the default `max_age` (60 s) and leeway (5 s).
const PROOF_LIFETIME_SECS: u64 = 65;
/// A sweep re-sends proofs signed at most this long ago: older ones would be refused for their
/// `iat` (60 s + 5 s leeway by default), which says nothing about the replay store.
const SWEEP_MAX_AGE_SECS: u64 = 50;
/// From cutting a primary's replica link to killing the primary.
const REPLICA_LINK_GAP: Duration = Duration::from_millis(300);
/// How many times a sweep sends a proof that was refused as unavailable (so not checked).
const SWEEP_ATTEMPTS: usize = 3;
/// How long a primary stays SIGSTOPped: longer than a cluster failover takes (about 2.5 s
/// with the harness's 1 s node timeout), so it comes back to find itself replaced.
const SIGSTOP_FOR: Duration = Duration::from_secs(3);
/// `CLIENT PAUSE … WRITE`: under the cluster's node timeout is irrelevant (the cluster bus is
/// not paused), but far over the store's deadline, so every registration on that shard times out.
const CLIENT_PAUSE: Duration = Duration::from_secs(2);
/// `DEBUG SLEEP` stalls, each blocking the whole node (bus included) for 0.5 s.
const DEBUG_SLEEPS: usize = 3;

/// The tests take turns: each starts its own Redis processes, and two of them loading the same
/// two cores would measure each other.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long the load runs before and after each fault (`KEYBOUND_CHAOS_SECS`, seconds).
fn phase_length() -> Duration {
    std::env::var("KEYBOUND_CHAOS_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs > 0.0)
        .map_or(Duration::from_millis(750), Duration::from_secs_f64)
}

/// The stores' settings: a deadline a busy two-core machine meets in steady state, and
/// `replica_acks` replica acknowledgements of each proof registration.
fn config(replica_acks: u32) -> RedisConfig {
    RedisConfig::new()
        .allow_plaintext()
        .with_prefix("chaos:")
        .with_timeout(Duration::from_millis(800))
        .with_replica_acks(replica_acks, Duration::from_millis(500))
}

fn guard_on(
    issuer: &TokenIssuer,
    replay: RedisReplayStore,
    revocation: RedisRevocationStore,
) -> Guard {
    RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(ProofVerifier::with_replay_store(replay))
        .with_revocation_store(revocation)
}

/// What one request came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Accepted,
    /// 401, the proof was seen before.
    Replayed,
    /// 401, the token's key or subject is revoked.
    Revoked,
    /// 503, the store could not answer in time (or a replica did not acknowledge).
    Unavailable,
    /// 429, the proof key is at its share of the replay store.
    Throttled,
    /// Anything else: the test fails.
    Other,
}

const OUTCOMES: usize = 6;

fn classify(result: &Result<Authorized, Rejection>) -> Outcome {
    let Err(refused) = result else {
        return Outcome::Accepted;
    };
    match (refused.status(), refused.error()) {
        (401, Error::InvalidProof(ProofError::Replayed)) => Outcome::Replayed,
        (401, Error::InvalidToken(TokenError::Revoked)) => Outcome::Revoked,
        (503, Error::Store(StoreError::Unavailable)) => Outcome::Unavailable,
        (429, Error::Store(StoreError::KeyQuotaExceeded { .. })) => Outcome::Throttled,
        _ => Outcome::Other,
    }
}

/// A client of the API: its proof key and its access token.
struct Client {
    signer: ProofSigner,
    token: String,
    /// Its key or its subject was revoked before the load started: never to be accepted.
    revoked: bool,
}

/// One request as sent.
struct Sent<'a> {
    proof: &'a Arc<str>,
    client: usize,
    /// The proof's `iat`.
    signed_at: u64,
    instance: usize,
    latency: Duration,
}

/// A proof some instance accepted, kept for the sweeps.
#[derive(Clone)]
struct AcceptedProof {
    proof: Arc<str>,
    client: usize,
    signed_at: u64,
    /// The phase it was accepted in (0: the first).
    phase: usize,
}

/// Outcome counts and latencies of a phase (or of a sweep).
#[derive(Default)]
struct Tally {
    counts: [usize; OUTCOMES],
    latencies: Vec<Duration>,
    /// Proofs accepted a second time during this phase (by either instance, counting
    /// acceptances in earlier phases).
    twice: usize,
    /// Requests by a revoked client that were accepted.
    revoked_accepted: usize,
    /// Live clients' proofs, sent to both instances, that neither accepted (refused as
    /// unavailable, or as below).
    unaccepted: usize,
    /// Of those, proofs some instance refused as a replay although none had accepted them:
    /// a registration that ran but whose answer was lost (a timeout, a retry), so the next
    /// attempt found its own entry. Fail-closed, but a legitimate request refused.
    phantom_replays: usize,
}

impl Tally {
    fn count(&self, outcome: Outcome) -> usize {
        self.counts[outcome as usize]
    }

    fn requests(&self) -> usize {
        self.counts.iter().sum()
    }

    /// The `q` quantile of the latencies (0 when there are none).
    fn latency(&self, q: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1));
        sorted.get(index).copied().unwrap_or_default()
    }
}

/// Everything the load recorded, shared by the load tasks.
#[derive(Default)]
struct Ledger {
    /// How many times each proof was accepted, over every phase and sweep.
    acceptances: HashMap<Arc<str>, u32>,
    /// Every proof accepted, in order.
    accepted: Vec<AcceptedProof>,
    /// Phases finished so far: the current phase's number.
    phase: usize,
    /// The current phase's (or sweep's) counts.
    tally: Tally,
    /// What must not happen in any phase, described: a live client refused as revoked, an
    /// unexpected refusal, a hang.
    violations: Vec<String>,
}

impl Ledger {
    /// Counts `outcome` of `sent`; `describe` says what an [`Outcome::Other`] was.
    fn record(
        &mut self,
        clients: &[Client],
        sent: Sent<'_>,
        outcome: Outcome,
        describe: impl FnOnce() -> String,
    ) -> Outcome {
        self.tally.counts[outcome as usize] += 1;
        self.tally.latencies.push(sent.latency);
        let revoked = clients[sent.client].revoked;
        match outcome {
            Outcome::Accepted => {
                if revoked {
                    self.tally.revoked_accepted += 1;
                }
                let times = self.acceptances.entry(sent.proof.clone()).or_default();
                *times += 1;
                match *times {
                    1 => self.accepted.push(AcceptedProof {
                        proof: sent.proof.clone(),
                        client: sent.client,
                        signed_at: sent.signed_at,
                        phase: self.phase,
                    }),
                    2 => self.tally.twice += 1,
                    _ => {}
                }
            }
            Outcome::Revoked if !revoked => self.violations.push(format!(
                "instance {} refused live client {} as revoked",
                sent.instance, sent.client
            )),
            Outcome::Other => {
                self.violations
                    .push(format!("instance {}: {}", sent.instance, describe()))
            }
            _ => {}
        }
        outcome
    }
}

/// Running load tasks.
struct Load {
    stop: Arc<AtomicBool>,
    tasks: Vec<JoinHandle<()>>,
    started: Instant,
}

/// The two API instances, their clients and what happened to their requests.
#[derive(Clone)]
struct Fleet {
    instances: Arc<Vec<Guard>>,
    /// [`LIVE_CLIENTS`] live clients, then the one revoked by key, then the one revoked by
    /// subject.
    clients: Arc<Vec<Client>>,
    ledger: Arc<Mutex<Ledger>>,
}

/// What a phase may forget, given the deployment and the fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Nothing: no proof accepted twice, no revoked client accepted (replica acks 1 or more,
    /// and no primary comes back empty before being replaced).
    NothingForgotten,
    /// Proof registrations its replica had not received when a primary died (replica acks
    /// 0): reported. Revocations, which wait for every replica, must hold.
    RegistrationsMayBeLost,
    /// Everything the emptied primary held, revocations included: reported.
    EverythingMayBeLost,
}

impl Fleet {
    /// Issues tokens to `live` (subject `alice`), `revoked_key` (`carol`) and `revoked_subject`
    /// (`bob`), revokes the last two through the first instance, and waits until every live
    /// client is accepted by both instances (a fresh deployment's replicas may still be syncing)
    /// and both revoked ones are refused.
    async fn prepare(instances: Vec<Guard>, issuer: &TokenIssuer, live: Vec<ProofSigner>) -> Self {
        let now = UnixTime::now();
        let token = |signer: &ProofSigner, subject: &str| {
            issuer
                .issue(
                    &TokenRequest::new(subject, AUD, "app", signer.thumbprint()),
                    now,
                )
                .unwrap()
                .access_token
        };
        let mut clients: Vec<Client> = live
            .into_iter()
            .map(|signer| Client {
                token: token(&signer, "alice"),
                signer,
                revoked: false,
            })
            .collect();
        let (revoked_key, revoked_subject) = (new_signer(), new_signer());
        let key_revocation = Revocation::key(revoked_key.thumbprint(), now);
        let subject_revocation = Revocation::subject("bob", now);
        for (signer, subject) in [(revoked_key, "carol"), (revoked_subject, "bob")] {
            clients.push(Client {
                token: token(&signer, subject),
                signer,
                revoked: true,
            });
        }
        for revocation in [key_revocation, subject_revocation] {
            let deadline = Instant::now() + SETTLE;
            while let Err(error) = keybound::AsyncRevocationStore::revoke(
                instances[0].revocation(),
                &revocation,
                UnixTime::now(),
            )
            .await
            {
                assert!(Instant::now() < deadline, "revoking failed: {error:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let fleet = Self {
            instances: Arc::new(instances),
            clients: Arc::new(clients),
            ledger: Arc::default(),
        };
        fleet.wait_accepting(SETTLE).await;
        for client in LIVE_CLIENTS..fleet.clients.len() {
            for instance in 0..fleet.instances.len() {
                let outcome = fleet.send_fresh(instance, client).await;
                assert_eq!(outcome, Outcome::Revoked, "client {client}");
            }
        }
        let mut ledger = fleet.lock();
        assert!(ledger.violations.is_empty(), "{:?}", ledger.violations);
        assert_eq!(ledger.tally.revoked_accepted, 0);
        ledger.tally = Tally::default();
        drop(ledger);
        fleet
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends `proof` by `client` to `instance`, within [`REQUEST_BOUND`], and records it.
    async fn send(
        &self,
        instance: usize,
        client: usize,
        proof: &Arc<str>,
        signed_at: u64,
    ) -> Outcome {
        let authorization = format!("DPoP {}", self.clients[client].token);
        let (authz, dpop) = ([authorization.as_str()], [&**proof]);
        let started = Instant::now();
        let result = tokio::time::timeout(
            REQUEST_BOUND,
            self.instances[instance].check_async(
                &ResourceRequest::new("GET", API, &authz, &dpop),
                UnixTime::now(),
            ),
        )
        .await;
        let sent = Sent {
            proof,
            client,
            signed_at,
            instance,
            latency: started.elapsed(),
        };
        let outcome = result.as_ref().map_or(Outcome::Other, classify);
        self.lock()
            .record(&self.clients, sent, outcome, || match result {
                Ok(Err(refused)) => format!(
                    "refused with {} {} ({:?})",
                    refused.status(),
                    refused.reason(),
                    refused.error()
                ),
                _ => format!("no answer within {REQUEST_BOUND:?}"),
            })
    }

    /// Asks `instance`'s replay store directly whether it still holds the accepted `proof`
    /// (registering it if not: then it counts as accepted again, as the guard would have).
    /// The same question the guard asks of the same store, without the signature checks,
    /// which keep two busy cores from sweeping many proofs in reasonable time.
    async fn ask_store(&self, instance: usize, proof: &AcceptedProof) -> Outcome {
        let key = ReplayKey::new(
            &self.clients[proof.client].signer.thumbprint(),
            &jti_of(&proof.proof),
        );
        let started = Instant::now();
        let result = tokio::time::timeout(
            REQUEST_BOUND,
            AsyncReplayStore::insert_if_absent(
                self.instances[instance].proofs().replay_store(),
                &key,
                UnixTime::from_secs(proof.signed_at + PROOF_LIFETIME_SECS),
                UnixTime::now(),
            ),
        )
        .await;
        let outcome = match &result {
            Ok(Ok(Insertion::Inserted)) => Outcome::Accepted,
            Ok(Ok(Insertion::AlreadyPresent)) => Outcome::Replayed,
            Ok(Err(StoreError::Unavailable)) => Outcome::Unavailable,
            Ok(Err(StoreError::KeyQuotaExceeded { .. })) => Outcome::Throttled,
            _ => Outcome::Other,
        };
        let sent = Sent {
            proof: &proof.proof,
            client: proof.client,
            signed_at: proof.signed_at,
            instance,
            latency: started.elapsed(),
        };
        self.lock().record(&self.clients, sent, outcome, || {
            format!("the replay store answered {result:?}")
        })
    }

    /// A fresh proof by `client`.
    fn sign(&self, client: usize) -> (Arc<str>, u64) {
        let now = UnixTime::now();
        let client = &self.clients[client];
        let proof = client
            .signer
            .proof("GET", API)
            .with_access_token(&client.token)
            .sign(now)
            .unwrap();
        (proof.into(), now.as_secs())
    }

    /// A fresh proof by `client`, to `instance` only.
    async fn send_fresh(&self, instance: usize, client: usize) -> Outcome {
        let (proof, signed_at) = self.sign(client);
        self.send(instance, client, &proof, signed_at).await
    }

    /// A fresh proof by `client`, to both instances at the same time.
    async fn fire(&self, client: usize) {
        let (proof, signed_at) = self.sign(client);
        let outcomes = tokio::join!(
            self.send(0, client, &proof, signed_at),
            self.send(1, client, &proof, signed_at)
        );
        let outcomes = [outcomes.0, outcomes.1];
        if !self.clients[client].revoked && !outcomes.contains(&Outcome::Accepted) {
            let mut ledger = self.lock();
            ledger.tally.unaccepted += 1;
            if outcomes.contains(&Outcome::Replayed) {
                ledger.tally.phantom_replays += 1;
            }
        }
    }

    /// Starts [`LOAD_TASKS`] loops, each firing fresh proofs until told to stop; one in
    /// [`REVOKED_EVERY`] is a revoked client's.
    fn start_load(&self) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let counter = Arc::new(AtomicUsize::new(0));
        let tasks = (0..LOAD_TASKS)
            .map(|_| {
                let (fleet, stop, counter) = (self.clone(), stop.clone(), counter.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        let client = if n % REVOKED_EVERY == REVOKED_EVERY - 1 {
                            LIVE_CLIENTS + (n / REVOKED_EVERY) % 2
                        } else {
                            n % LIVE_CLIENTS
                        };
                        fleet.fire(client).await;
                    }
                })
            })
            .collect();
        Load {
            stop,
            tasks,
            started: Instant::now(),
        }
    }

    /// Stops the load; returns how long it ran.
    async fn stop_load(&self, load: Load) -> Duration {
        load.stop.store(true, Ordering::Relaxed);
        for task in load.tasks {
            // Each iteration is bounded by REQUEST_BOUND; twice that is a hang.
            tokio::time::timeout(2 * REQUEST_BOUND, task)
                .await
                .expect("a load task did not stop")
                .expect("a load task panicked");
        }
        load.started.elapsed()
    }

    /// Waits until both instances accept a fresh proof of every live client, each within
    /// `bound` from now; returns how long that took.
    async fn wait_accepting(&self, bound: Duration) -> Duration {
        let started = Instant::now();
        for instance in 0..self.instances.len() {
            for client in 0..LIVE_CLIENTS {
                while self.send_fresh(instance, client).await != Outcome::Accepted {
                    assert!(
                        started.elapsed() < bound,
                        "instance {instance} did not accept client {client} within {bound:?}"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        started.elapsed()
    }

    /// Re-sends every accepted proof signed within [`SWEEP_MAX_AGE_SECS`], [`LOAD_TASKS`] at a
    /// time: those of the phase that just ended to both instances, whole requests; older ones
    /// (swept after their own phase already) straight to one instance's replay store, in turn
    /// ([`Self::ask_store`]), which keeps a sweep short on two cores while every live proof is
    /// tried after every fault. Returns the sweep's tally: any acceptance there is a proof the
    /// stores forgot.
    async fn sweep(&self) -> Tally {
        let now = UnixTime::now().as_secs();
        let (due, phase) = {
            let ledger = self.lock();
            let due: Vec<AcceptedProof> = ledger
                .accepted
                .iter()
                .filter(|a| a.signed_at + SWEEP_MAX_AGE_SECS >= now)
                .cloned()
                .collect();
            (Arc::new(due), ledger.phase)
        };
        let next = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<JoinHandle<()>> = (0..LOAD_TASKS)
            .map(|_| {
                let (fleet, due, next) = (self.clone(), due.clone(), next.clone());
                tokio::spawn(async move {
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let Some(proof) = due.get(n) else {
                            break;
                        };
                        // A proof a 503 left unchecked is tried again, a few times.
                        for _attempt in 0..SWEEP_ATTEMPTS {
                            let unchecked = if proof.phase == phase {
                                let mut unchecked = false;
                                for instance in 0..fleet.instances.len() {
                                    unchecked |= fleet
                                        .send(instance, proof.client, &proof.proof, proof.signed_at)
                                        .await
                                        == Outcome::Unavailable;
                                }
                                unchecked
                            } else {
                                fleet.ask_store(n % 2, proof).await == Outcome::Unavailable
                            };
                            if !unchecked {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("a sweep task panicked");
        }
        std::mem::take(&mut self.lock().tally)
    }

    /// Ends a phase: stops the load, sweeps, prints the phase's and the sweep's rows, and
    /// asserts what must hold whatever the phase and what `expect` says may not be forgotten.
    /// Returns the phase's and the sweep's tallies.
    async fn finish_phase(
        &self,
        name: &str,
        load: Load,
        recovery: Option<Duration>,
        expect: Expect,
    ) -> (Tally, Tally) {
        let ran = self.stop_load(load).await;
        let tally = std::mem::take(&mut self.lock().tally);
        let swept_in = Instant::now();
        let sweep = self.sweep().await;
        print_row(name, &tally, ran, recovery);
        print_row("  replay sweep", &sweep, swept_in.elapsed(), None);
        let violations = {
            let mut ledger = self.lock();
            ledger.phase += 1;
            std::mem::take(&mut ledger.violations)
        };
        assert!(violations.is_empty(), "{name}: {violations:#?}");
        assert!(
            tally.count(Outcome::Accepted) > 0,
            "{name}: nothing was accepted"
        );
        if tally.revoked_accepted + sweep.revoked_accepted > 0 {
            eprintln!(
                "  ({} requests by revoked clients accepted)",
                tally.revoked_accepted + sweep.revoked_accepted
            );
        }
        if expect != Expect::EverythingMayBeLost {
            assert_eq!(
                tally.revoked_accepted, 0,
                "{name}: a revoked client accepted"
            );
        }
        if expect == Expect::NothingForgotten {
            assert_eq!(tally.twice, 0, "{name}: proofs accepted twice");
            assert_eq!(
                sweep.count(Outcome::Accepted),
                0,
                "{name}: the sweep re-accepted proofs the stores forgot"
            );
        }
        (tally, sweep)
    }
}

/// The `jti` of a proof we signed (the payload is trusted: this test made it).
fn jti_of(proof: &str) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let payload = proof.split('.').nth(1).expect("a JWS has a payload");
    let claims: serde_json::Value =
        serde_json::from_slice(&Base64UrlUnpadded::decode_vec(payload).unwrap()).unwrap();
    claims["jti"]
        .as_str()
        .expect("a proof has a jti")
        .to_string()
}

fn new_signer() -> ProofSigner {
    ProofSigner::new(SigningKey::generate().unwrap())
}

/// Prints `title` and the table's column names. Counts are requests unless said otherwise;
/// `twice`: proofs accepted a second time; `none`: live clients' proofs neither instance
/// accepted; `phantom`: of those, proofs refused as a replay that nobody had accepted;
/// `recovery`: from the fault's end until both instances accepted every live client again.
fn print_header(title: &str) {
    eprintln!("\n{title}");
    eprintln!(
        "{:<26} {:>8} {:>8} {:>7} {:>7} {:>6} {:>5} {:>5} {:>5} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9}",
        "phase",
        "requests",
        "accepted",
        "replay",
        "revoked",
        "503",
        "429",
        "other",
        "twice",
        "none",
        "phantom",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "recovery"
    );
}

fn print_row(name: &str, tally: &Tally, ran: Duration, recovery: Option<Duration>) {
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
    eprintln!(
        "{:<26} {:>8} {:>8} {:>7} {:>7} {:>6} {:>5} {:>5} {:>5} {:>6} {:>7} {:>7.0} {:>7} {:>7} {:>7} {:>9}",
        name,
        tally.requests(),
        tally.count(Outcome::Accepted),
        tally.count(Outcome::Replayed),
        tally.count(Outcome::Revoked),
        tally.count(Outcome::Unavailable),
        tally.count(Outcome::Throttled),
        tally.count(Outcome::Other),
        tally.twice,
        tally.unaccepted,
        tally.phantom_replays,
        tally.requests() as f64 / ran.as_secs_f64().max(1e-3),
        ms(tally.latency(0.5)),
        ms(tally.latency(0.99)),
        ms(tally.latency(1.0)),
        recovery.map_or_else(|| "-".to_string(), |d| format!("{:.2} s", d.as_secs_f64())),
    );
}

/// The hash tag of `client`'s key: `{` base64url of the thumbprint's first 16 bytes `}`.
fn tag_of(client: &ProofSigner) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let thumbprint = client.thumbprint();
    format!(
        "{{{}}}",
        Base64UrlUnpadded::encode_string(&thumbprint.as_bytes()[..16])
    )
}

/// [`LIVE_CLIENTS`] keys, the same number on each shard of `cluster`.
fn keys_on_every_shard(cluster: &RedisCluster) -> Vec<ProofSigner> {
    let primaries = cluster.primary_ports();
    let per_shard = LIVE_CLIENTS / primaries.len();
    let mut on: HashMap<u16, usize> = HashMap::new();
    let mut keys = Vec::new();
    while keys.len() < LIVE_CLIENTS {
        let signer = new_signer();
        let shard = on.entry(cluster.primary_of(&tag_of(&signer))).or_default();
        if *shard < per_shard {
            *shard += 1;
            keys.push(signer);
        }
    }
    keys
}

/// Two instances on `cluster`, each with its own [`RedisClusterStores`].
async fn cluster_fleet(cluster: &RedisCluster, issuer: &TokenIssuer, replica_acks: u32) -> Fleet {
    let urls = cluster.urls();
    let seeds: Vec<&str> = urls.iter().map(String::as_str).collect();
    let instances = (0..2)
        .map(|_| {
            let stores = RedisClusterStores::open(&seeds, &config(replica_acks)).unwrap();
            guard_on(issuer, stores.replay, stores.revocation)
        })
        .collect();
    Fleet::prepare(instances, issuer, keys_on_every_shard(cluster)).await
}

/// Load, then a SIGKILLed primary: its replica takes over, and the killed node, restarted
/// empty, rejoins as the new primary's replica (with replica acks, the shard accepts again
/// only from then on). With `cut_replica_link`, the primary first loses its replica (see
/// below) and is killed that long after: whatever it registered in between exists nowhere
/// else — the loss asynchronous replication risks, made certain instead of rare.
/// Returns the phase's and the sweep's tallies.
async fn cluster_kill_phase(
    cluster: &mut RedisCluster,
    fleet: &Fleet,
    victim: u16,
    cut_replica_link: Option<Duration>,
    name: &str,
    expect: Expect,
) -> (Tally, Tally) {
    let len = phase_length();
    let load = fleet.start_load();
    tokio::time::sleep(len).await;
    if let Some(gap) = cut_replica_link {
        // A replica whose link drops reconnects at once and catches up from the backlog; a
        // paused one cannot, and what the primary wrote into the link before the cut is still
        // in the replica's socket buffer when it resumes. So: pause the replica, cut the link,
        // let the primary take writes for `gap`, kill it, resume the replica.
        let replica = cluster.replicas_of(victim)[0];
        cluster.pause(replica);
        let cut: i64 = redis_process::query(
            victim,
            redis::cmd("CLIENT").arg("KILL").arg("TYPE").arg("replica"),
        )
        .expect("CLIENT KILL TYPE replica");
        assert_eq!(cut, 1, "{victim} had no replica link to cut");
        tokio::time::sleep(gap).await;
        cluster.kill(victim);
        cluster.resume(replica);
    } else {
        cluster.kill(victim);
    }
    let (successor, failover) = cluster.wait_for_failover(victim, SETTLE);
    cluster.restart(victim);
    cluster.wait_healthy(SETTLE);
    let recovery = fleet.wait_accepting(RECOVERY_BOUND).await;
    tokio::time::sleep(len).await;
    let tallies = fleet.finish_phase(name, load, Some(recovery), expect).await;
    eprintln!("  ({victim} killed: {successor} served its slots after {failover:.2?})");
    tallies
}

/// Redis Cluster, 3 primaries with a replica each, replica acks 1: steady load, then a
/// SIGKILLed primary, a SIGSTOPped one (which fails over too: the same connections follow a
/// second failover), `CLIENT PAUSE WRITE`, `DEBUG SLEEP` stalls, a replica restarted empty and
/// a primary killed right after losing its replica link, each under load; after each, a
/// replay sweep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_faults_under_load_accept_no_proof_twice() {
    let _serial = SERIAL.lock().await;
    let Some(mut cluster) = RedisCluster::start(3, 1, Creation::RedisCli) else {
        return;
    };
    let started = Instant::now();
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let fleet = cluster_fleet(&cluster, &issuer, 1).await;
    let len = phase_length();
    print_header(&format!(
        "Redis Cluster, 3 primaries + 1 replica each, replica acks 1; two instances, \
         {LOAD_TASKS} load tasks, {len:?} of load around each fault"
    ));

    let load = fleet.start_load();
    tokio::time::sleep(len).await;
    fleet
        .finish_phase("steady state", load, None, Expect::NothingForgotten)
        .await;

    let victim = cluster.primary_ports()[0];
    cluster_kill_phase(
        &mut cluster,
        &fleet,
        victim,
        None,
        "SIGKILL primary",
        Expect::NothingForgotten,
    )
    .await;

    // SIGSTOP past the failover: the node comes back still believing it is a primary, until
    // the cluster tells it otherwise. With replica acks, whatever it registers meanwhile is
    // refused (its former replica no longer acknowledges it).
    let victim = cluster.primary_ports()[1];
    let load = fleet.start_load();
    tokio::time::sleep(len).await;
    cluster.pause(victim);
    tokio::time::sleep(SIGSTOP_FOR).await;
    cluster.resume(victim);
    let healed = cluster.wait_healthy(SETTLE);
    let recovery = fleet.wait_accepting(RECOVERY_BOUND).await;
    tokio::time::sleep(len).await;
    fleet
        .finish_phase(
            &format!("SIGSTOP primary {SIGSTOP_FOR:?}"),
            load,
            Some(recovery),
            Expect::NothingForgotten,
        )
        .await;
    eprintln!(
        "  ({victim} paused; cluster healthy {healed:.2?} after SIGCONT; primaries now {:?})",
        cluster.primary_ports()
    );

    let victim = cluster.primary_ports()[2];
    let load = fleet.start_load();
    tokio::time::sleep(len).await;
    let _: () = redis_process::query(
        victim,
        redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(CLIENT_PAUSE.as_millis() as u64)
            .arg("WRITE"),
    )
    .expect("CLIENT PAUSE");
    tokio::time::sleep(CLIENT_PAUSE).await;
    let recovery = fleet.wait_accepting(RECOVERY_BOUND).await;
    tokio::time::sleep(len).await;
    fleet
        .finish_phase(
            &format!("CLIENT PAUSE WRITE {CLIENT_PAUSE:?}"),
            load,
            Some(recovery),
            Expect::NothingForgotten,
        )
        .await;

    let victim = cluster.primary_ports()[0];
    let load = fleet.start_load();
    tokio::time::sleep(len).await;
    for _ in 0..DEBUG_SLEEPS {
        let _: () = redis_process::query_within(
            victim,
            redis::cmd("DEBUG").arg("SLEEP").arg("0.5"),
            Duration::from_secs(5),
        )
        .expect("DEBUG SLEEP");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let recovery = fleet.wait_accepting(RECOVERY_BOUND).await;
    tokio::time::sleep(len).await;
    fleet
        .finish_phase(
            &format!("DEBUG SLEEP 0.5 x{DEBUG_SLEEPS}"),
            load,
            Some(recovery),
            Expect::NothingForgotten,
        )
        .await;

    // A replica restarted with nothing: its shard refuses (503, no acknowledgement) until it
    // has synced again; nothing is forgotten, the primary holds it all.
    let victim = cluster.replicas_of(cluster.primary_ports()[1])[0];
    let load = fleet.start_load();
    tokio::time::sleep(len).await;
    cluster.restart(victim);
    cluster.wait_healthy(SETTLE);
    let recovery = fleet.wait_accepting(RECOVERY_BOUND).await;
    tokio::time::sleep(len).await;
    fleet
        .finish_phase(
            "replica restarted empty",
            load,
            Some(recovery),
            Expect::NothingForgotten,
        )
        .await;

    // What replica acks are for: the primary dies with registrations its replica never got.
    // Acknowledged, none was accepted.
    let victim = cluster.primary_ports()[2];
    cluster_kill_phase(
        &mut cluster,
        &fleet,
        victim,
        Some(REPLICA_LINK_GAP),
        "link cut, SIGKILL primary",
        Expect::NothingForgotten,
    )
    .await;

    let ledger = fleet.lock();
    let twice = ledger.acceptances.values().filter(|&&n| n > 1).count();
    eprintln!(
        "cluster, replica acks 1: {} proofs accepted, {twice} of them more than once, in {:.1?}",
        ledger.accepted.len(),
        started.elapsed()
    );
    assert_eq!(twice, 0);
}

/// Sentinel, a primary and a replica under three Sentinels, replica acks 1: steady load, then
/// the primary SIGKILLed; once the Sentinels name the replica, the killed node is restarted
/// empty as its replica (the new primary serves only then: it needs an acknowledgement).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_failover_under_load_accepts_no_proof_twice() {
    let _serial = SERIAL.lock().await;
    let Some(mut setup) = RedisSentinel::start(3) else {
        return;
    };
    let started = Instant::now();
    let [first, _] = setup.server_ports();
    let urls = setup.sentinel_urls();
    let sentinels: Vec<&str> = urls.iter().map(String::as_str).collect();
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let instances = (0..2)
        .map(|_| {
            let stores =
                RedisStores::open_sentinel(&sentinels, redis_sentinel::MASTER_NAME, &config(1))
                    .unwrap();
            guard_on(&issuer, stores.replay, stores.revocation)
        })
        .collect();
    let live = (0..LIVE_CLIENTS).map(|_| new_signer()).collect();
    let fleet = Fleet::prepare(instances, &issuer, live).await;
    let len = phase_length();
    print_header(&format!(
        "Sentinel, primary + replica, 3 sentinels, replica acks 1; two instances, \
         {LOAD_TASKS} load tasks, {len:?} of load around each fault"
    ));

    let load = fleet.start_load();
    tokio::time::sleep(2 * len).await;
    fleet
        .finish_phase("steady state", load, None, Expect::NothingForgotten)
        .await;

    let load = fleet.start_load();
    tokio::time::sleep(len).await;
    setup.kill(first);
    let (successor, failover) = setup.wait_for_new_primary(first, SETTLE);
    setup.restart(first);
    setup.wait_replica(first, SETTLE);
    let recovery = fleet.wait_accepting(RECOVERY_BOUND).await;
    tokio::time::sleep(len).await;
    fleet
        .finish_phase(
            "SIGKILL primary",
            load,
            Some(recovery),
            Expect::NothingForgotten,
        )
        .await;
    eprintln!("  ({first} killed: the sentinels named {successor} after {failover:.2?})");

    let ledger = fleet.lock();
    let twice = ledger.acceptances.values().filter(|&&n| n > 1).count();
    eprintln!(
        "sentinel, replica acks 1: {} proofs accepted, {twice} of them more than once, in {:.1?}",
        ledger.accepted.len(),
        started.elapsed()
    );
    assert_eq!(twice, 0);
}

/// What unsafe deployments forget, measured, not asserted. First the documented risk of
/// asynchronous replication: replica acks 0, a primary SIGKILLed under load right after losing
/// its replica link; registrations its replica had not received are lost with it, the sweep
/// re-accepts those proofs, and a proof sent to both instances around the kill can be
/// accepted by each. (A plain SIGKILL rarely shows it on loopback: the replica is a fraction
/// of a millisecond behind.) Then, with replica
/// acks 1, a primary without persistence restarted empty before the cluster noticed it gone
/// (what Redis warns against): it keeps its slots with nothing in them and its replica
/// resyncs to nothing, so every proof and revocation of that shard is forgotten; no
/// acknowledgement can prevent that. Whatever the deployment, only the expected refusals may
/// happen and every request stays bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_reports_what_unsafe_deployments_forget() {
    let _serial = SERIAL.lock().await;
    let Some(mut cluster) = RedisCluster::start(3, 1, Creation::RedisCli) else {
        return;
    };
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let len = phase_length();
    let fleet = cluster_fleet(&cluster, &issuer, 0).await;
    print_header(&format!(
        "Redis Cluster, 3 primaries + 1 replica each, replica acks 0 (reported, not asserted); \
         two instances, {LOAD_TASKS} load tasks, {len:?} of load around each fault"
    ));
    let victim = cluster.primary_ports()[2];
    let (during, sweep) = cluster_kill_phase(
        &mut cluster,
        &fleet,
        victim,
        Some(REPLICA_LINK_GAP),
        "link cut, SIGKILL primary",
        Expect::RegistrationsMayBeLost,
    )
    .await;
    eprintln!(
        "replica acks 0, replica link cut {REPLICA_LINK_GAP:?} before the kill: the failover \
         forgot {} accepted proofs (re-accepted by the sweep); {} proofs were accepted twice \
         during the fault",
        sweep.count(Outcome::Accepted),
        during.twice
    );

    // New instances with replica acks, on the same cluster (their own clients and ledger).
    let fleet = cluster_fleet(&cluster, &issuer, 1).await;
    print_header(&format!(
        "Redis Cluster, replica acks 1, a primary without persistence restarted empty \
         (reported, not asserted); two instances, {LOAD_TASKS} load tasks"
    ));
    let victim = cluster.primary_ports()[1];
    let load = fleet.start_load();
    tokio::time::sleep(len).await;
    cluster.restart(victim);
    cluster.wait_healthy(SETTLE);
    let recovery = fleet.wait_accepting(RECOVERY_BOUND).await;
    tokio::time::sleep(len).await;
    let (during, sweep) = fleet
        .finish_phase(
            "primary restarted empty",
            load,
            Some(recovery),
            Expect::EverythingMayBeLost,
        )
        .await;
    eprintln!(
        "  ({victim} restarted empty before any failover; primaries now {:?})",
        cluster.primary_ports()
    );
    eprintln!(
        "primary restarted empty: {} accepted proofs forgotten (re-accepted by the sweep), \
         {} accepted twice during the fault",
        sweep.count(Outcome::Accepted),
        during.twice
    );
}
