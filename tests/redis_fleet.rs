//! The stores on Redis topologies a fleet outgrows one server with, against real `redis-server`
//! processes on loopback started by the tests: [`RedisClusterStores`] on a 3-primary,
//! 3-replica Redis Cluster, and [`RedisStores::open_sentinel`] on a primary + replica under
//! three Sentinels. Without `redis-server` the tests say loudly that they were skipped; with
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
use std::sync::Arc;
use std::time::{Duration, Instant};

use keybound::{
    Authorized, Error, IssuerKeys, ProofError, ProofSigner, ProofVerifier, RedisClusterStores,
    RedisConfig, RedisReplayStore, RedisRevocationStore, RedisStores, Rejection, RequestGuard,
    ResourceRequest, Revocation, SigningKey, StoreError, TokenError, TokenIssuer, TokenRequest,
    TokenVerifier, UnixTime,
};

use redis_cluster::{Creation, RedisCluster};
use redis_sentinel::RedisSentinel;

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const API: &str = "https://api.example.com/orders";

type Guard = RequestGuard<RedisReplayStore, RedisRevocationStore>;

fn config() -> RedisConfig {
    // Generous: two cores run the cluster, the guards and the signature checks.
    // The harnesses run plain text on loopback; a cluster or Sentinel link needs the opt-in
    // even there (the data nodes' addresses come from the servers).
    RedisConfig::new()
        .allow_plaintext()
        .with_prefix("fleet:")
        .with_timeout(Duration::from_secs(2))
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

/// One API instance on the cluster: its own cluster connection.
fn cluster_instance(cluster: &RedisCluster, issuer: &TokenIssuer) -> Guard {
    let urls = cluster.urls();
    let seeds: Vec<&str> = urls.iter().map(String::as_str).collect();
    let stores = RedisClusterStores::open(&seeds, &config()).unwrap();
    guard_on(issuer, stores.replay, stores.revocation)
}

fn token_for(issuer: &TokenIssuer, client: &ProofSigner, subject: &str, at: UnixTime) -> String {
    issuer
        .issue(
            &TokenRequest::new(subject, AUD, "app", client.thumbprint()),
            at,
        )
        .unwrap()
        .access_token
}

fn proof(client: &ProofSigner, token: &str) -> String {
    client
        .proof("GET", API)
        .with_access_token(token)
        .sign(UnixTime::now())
        .unwrap()
}

async fn send(guard: &Guard, token: &str, proof: &str) -> Result<Authorized, Rejection> {
    let authorization = format!("DPoP {token}");
    let (authz, dpop) = ([authorization.as_str()], [proof]);
    guard
        .check_async(
            &ResourceRequest::new("GET", API, &authz, &dpop),
            UnixTime::now(),
        )
        .await
}

fn assert_revoked(result: Result<Authorized, Rejection>, how: &str) {
    let refused = result.map(|_| ()).unwrap_err();
    assert_eq!(
        refused.error(),
        &Error::InvalidToken(TokenError::Revoked),
        "{how}"
    );
    assert_eq!(refused.status(), 401, "{how}");
}

/// Two instances, each with its own cluster connection, and many clients whose keys spread over
/// the three shards: every proof, sent to both instances at once from concurrent tasks, is
/// accepted exactly once; a revocation by key, by subject or by `jti` made through one instance
/// refuses the very next request at the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_instances_accept_each_proof_once_and_share_revocations() {
    let Some(cluster) = RedisCluster::start(3, 1, Creation::RedisCli) else {
        return;
    };
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let (a, b) = (
        Arc::new(cluster_instance(&cluster, &issuer)),
        Arc::new(cluster_instance(&cluster, &issuer)),
    );
    // Four clients per shard (their replay entries are in their keys' slots).
    let mut per_shard: HashMap<u16, Vec<ProofSigner>> = HashMap::new();
    while per_shard.len() < 3 || per_shard.values().any(|c| c.len() < 4) {
        let client = ProofSigner::new(SigningKey::generate().unwrap());
        let shard = per_shard
            .entry(cluster.primary_of(&tag_of(&client)))
            .or_default();
        if shard.len() < 4 {
            shard.push(client);
        }
    }
    let clients: Vec<ProofSigner> = per_shard.into_values().flatten().collect();
    let now = UnixTime::now();
    let tokens: Vec<Arc<String>> = clients
        .iter()
        .map(|c| Arc::new(token_for(&issuer, c, "alice", now)))
        .collect();

    let mut accepted: HashMap<String, u32> = HashMap::new();
    for _round in 0..10 {
        let mut tasks = Vec::new();
        for (client, token) in clients.iter().zip(&tokens) {
            let proof = Arc::new(proof(client, token));
            // Each proof from four tasks, two per instance.
            for guard in [&a, &b, &a, &b] {
                let (guard, token, proof) = (guard.clone(), token.clone(), proof.clone());
                tasks.push(tokio::spawn(async move {
                    (proof.clone(), send(&guard, &token, &proof).await)
                }));
            }
        }
        for task in tasks {
            let (proof, result) = task.await.unwrap();
            match result {
                Ok(_) => *accepted.entry(proof.to_string()).or_default() += 1,
                Err(r) => assert_eq!(
                    r.error(),
                    &Error::InvalidProof(ProofError::Replayed),
                    "only replays are refused"
                ),
            }
        }
    }
    assert_eq!(accepted.len(), 120, "every proof accepted once");
    assert!(accepted.values().all(|&n| n == 1), "a proof accepted twice");

    // Revocations through `a`, enforced by `b` on its next request.
    for (n, how) in ["key", "subject", "jti"].into_iter().enumerate() {
        let client = &clients[n];
        let at = UnixTime::now();
        let subject = format!("user-{n}");
        let token = token_for(&issuer, client, &subject, at);
        assert!(
            send(&b, &token, &proof(client, &token)).await.is_ok(),
            "{how}"
        );
        let revocation = match how {
            "key" => Revocation::key(client.thumbprint(), at),
            "subject" => Revocation::subject(subject.as_str(), at),
            _ => Revocation::token(a.tokens().verify(&token, at).unwrap().claims()),
        };
        keybound::AsyncRevocationStore::revoke(a.revocation(), &revocation, at)
            .await
            .unwrap();
        assert_revoked(send(&b, &token, &proof(client, &token)).await, how);
        // `b`'s own lookup (the path of stores opened apart) agrees.
        let claims = b.tokens().verify(&token, at).unwrap();
        let revoked =
            keybound::AsyncRevocationStore::is_revoked(b.revocation(), claims.claims(), at)
                .await
                .unwrap();
        assert!(revoked, "{how}");
    }
    // The other clients are untouched.
    let (client, token) = (&clients[5], &tokens[5]);
    assert!(send(&b, token, &proof(client, token)).await.is_ok());
}

/// The script runs where the proof key's slot is: after a request, the proof's replay entry,
/// the key's quota counter and (once revoked) the key's revocation entry are all on one
/// primary, in one slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requests_keys_share_the_proof_keys_slot() {
    let Some(cluster) = RedisCluster::start(3, 0, Creation::RedisCli) else {
        return;
    };
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let guard = cluster_instance(&cluster, &issuer);
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let now = UnixTime::now();
    let token = token_for(&issuer, &client, "alice", now);
    assert!(send(&guard, &token, &proof(&client, &token)).await.is_ok());
    keybound::AsyncRevocationStore::revoke(
        guard.revocation(),
        &Revocation::key(client.thumbprint(), now),
        now,
    )
    .await
    .unwrap();
    let mut keys = Vec::new();
    for port in cluster.primary_ports() {
        let found: Vec<String> =
            redis_process::query(port, redis::cmd("KEYS").arg("fleet:*")).unwrap();
        keys.extend(found.into_iter().map(|k| (port, k)));
    }
    let kinds: Vec<&str> = keys
        .iter()
        .map(|(_, k)| k.split(':').nth(1).unwrap())
        .collect();
    assert_eq!(kinds.len(), 3, "{keys:?}");
    for kind in ["replay", "quota", "rev"] {
        assert!(kinds.contains(&kind), "{kind} missing: {keys:?}");
    }
    let slots: std::collections::HashSet<u16> =
        keys.iter().map(|(_, k)| cluster.slot_of(k)).collect();
    assert_eq!(slots.len(), 1, "{keys:?}");
    let tag = tag_of(&client);
    assert_eq!(slots.into_iter().next(), Some(cluster.slot_of(&tag)));
    assert!(keys
        .iter()
        .all(|(port, _)| *port == cluster.primary_of(&tag)));
    // And the key is refused now.
    assert_revoked(send(&guard, &token, &proof(&client, &token)).await, "key");
}

/// A cluster that is not there: every request is refused with 503, never accepted; once the
/// seeds answer, the same stores work without being opened again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_stores_fail_closed_until_the_cluster_is_up() {
    if !redis_process::redis_available("the Redis Cluster store tests") {
        return;
    }
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let ports = redis_process::free_ports(1);
    let seed = format!("redis://127.0.0.1:{}/", ports[0]);
    let stores = RedisClusterStores::open(
        &[seed.as_str()],
        &config().with_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let guard = guard_on(&issuer, stores.replay, stores.revocation);
    let token = token_for(&issuer, &client, "alice", UnixTime::now());
    let refused = send(&guard, &token, &proof(&client, &token))
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 503);
    // Bad seeds are refused before any connection.
    let refusal =
        |seeds: &[&str], config: &RedisConfig| RedisClusterStores::open(seeds, config).err();
    assert_eq!(refusal(&[], &config()), Some(StoreError::InvalidConfig));
    assert_eq!(
        refusal(&["rediss://127.0.0.1:1/#insecure"], &config()),
        Some(StoreError::InsecureTls)
    );
    assert_eq!(
        refusal(
            &["redis://127.0.0.1:7000/", "rediss://127.0.0.1:7001/"],
            &config()
        ),
        Some(StoreError::InvalidConfig)
    );
    // Plain text needs the opt-in, even to loopback seeds: the nodes the cluster reports may
    // be anywhere.
    for seeds in [
        &["redis://redis.example.net:6379/"][..],
        &[seed.as_str()][..],
    ] {
        assert_eq!(
            refusal(seeds, &RedisConfig::new()),
            Some(StoreError::PlaintextTransport),
            "{seeds:?}"
        );
    }
}

/// Sentinel: the stores follow a failover without being opened again. While the killed primary
/// is being replaced requests are refused (503) — never accepted unchecked — and afterwards the
/// new primary serves them; a proof accepted before the failover (written with a replica
/// acknowledgement) is still a replay after it, and a revocation made before it still holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_stores_follow_a_failover() {
    let Some(mut setup) = RedisSentinel::start(3) else {
        return;
    };
    let [first, second] = setup.server_ports();
    let urls = setup.sentinel_urls();
    let sentinels: Vec<&str> = urls.iter().map(String::as_str).collect();
    let config = config().with_replica_acks(1, Duration::from_millis(1000));
    let stores =
        RedisStores::open_sentinel(&sentinels, redis_sentinel::MASTER_NAME, &config).unwrap();
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let guard = guard_on(&issuer, stores.replay, stores.revocation);
    let (client, revoked) = (
        ProofSigner::new(SigningKey::generate().unwrap()),
        ProofSigner::new(SigningKey::generate().unwrap()),
    );
    let now = UnixTime::now();
    let token = token_for(&issuer, &client, "alice", now);
    let revoked_token = token_for(&issuer, &revoked, "bob", now);

    // The replica may still be syncing: the first acknowledged request within 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    let seen = loop {
        let p = proof(&client, &token);
        if send(&guard, &token, &p).await.is_ok() {
            break p;
        }
        assert!(Instant::now() < deadline, "no acknowledged request");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    keybound::AsyncRevocationStore::revoke(
        guard.revocation(),
        &Revocation::key(revoked.thumbprint(), now),
        now,
    )
    .await
    .unwrap();

    setup.kill(first);
    let started = Instant::now();
    let (mut refused_503, mut served, mut restarted) = (0, None, false);
    while started.elapsed() < Duration::from_secs(30) {
        // With one replica acknowledgement required, the promoted replica serves only once it
        // has a replica of its own: the killed node, restarted empty, becomes that.
        if !restarted
            && setup
                .reported_primaries()
                .iter()
                .all(|p| *p == Some(second))
        {
            setup.restart(first);
            restarted = true;
        }
        match send(&guard, &token, &proof(&client, &token)).await {
            Ok(_) => {
                served = Some(started.elapsed());
                break;
            }
            Err(r) => {
                assert_eq!(r.status(), 503, "{:?}", r.error());
                refused_503 += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let served = served.expect("the stores did not follow the failover within 30 s");
    eprintln!("killed primary {first}: served again after {served:?}, {refused_503} refused (503) meanwhile");
    assert_eq!(setup.reported_primaries()[0], Some(second));
    // What the old primary had acknowledged survived on the new one.
    let replayed = send(&guard, &token, &seen).await.unwrap_err();
    assert_eq!(replayed.error(), &Error::InvalidProof(ProofError::Replayed));
    assert_revoked(
        send(&guard, &revoked_token, &proof(&revoked, &revoked_token)).await,
        "key revoked before the failover",
    );
    // Sentinel settings that are unusable are refused before any connection; plain text needs
    // the opt-in even to loopback Sentinels (they name the primary's address).
    let refusal = |sentinels: &[&str], service: &str, config: &RedisConfig| {
        RedisStores::open_sentinel(sentinels, service, config).err()
    };
    assert_eq!(refusal(&[], "x", &config), Some(StoreError::InvalidConfig));
    assert_eq!(
        refusal(&sentinels, "", &config),
        Some(StoreError::InvalidConfig)
    );
    for urls in [&["redis://sentinel.example.net:26379/"][..], &sentinels[..]] {
        assert_eq!(
            refusal(urls, redis_sentinel::MASTER_NAME, &RedisConfig::new()),
            Some(StoreError::PlaintextTransport),
            "{urls:?}"
        );
    }
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
