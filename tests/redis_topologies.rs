//! The Redis topology harnesses against real `redis-server` processes on loopback, started and
//! killed by the tests: a 3-primary, 3-replica Redis Cluster, and a primary + replica under three
//! sentinels. Raw `redis` commands only: these check the harnesses (cluster up, keys routed, a
//! killed or paused primary failed over in bounded time) before the stores are tested on them.
//! Without `redis-server` the tests say loudly that they were skipped; with
//! `KEYBOUND_REQUIRE_REDIS=1` (as `.ci/run` sets) a missing binary is a failure.

#[path = "support/redis_cluster.rs"]
mod redis_cluster;
#[path = "support/redis_process.rs"]
mod redis_process;
#[path = "support/redis_sentinel.rs"]
mod redis_sentinel;

use std::collections::HashSet;
use std::time::Duration;

use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::sentinel::{SentinelClient, SentinelServerType};
use redis::AsyncCommands;

use redis_cluster::{Creation, RedisCluster};
use redis_sentinel::RedisSentinel;

/// A failover must finish within this: about two node timeouts (or `down-after` plus an
/// election) on an idle machine, much more on a busy one.
const FAILOVER_BOUND: Duration = Duration::from_secs(15);
/// A resumed former primary is demoted by the sentinels: their INFO period (10 s), then a sync.
const DEMOTION_BOUND: Duration = Duration::from_secs(20);
/// One command through a client while the topology changes underneath it.
const COMMAND_BOUND: Duration = Duration::from_secs(10);

async fn cluster_connection(cluster: &RedisCluster) -> ClusterConnection {
    ClusterClient::builder(cluster.urls())
        .connection_timeout(Duration::from_secs(1))
        .response_timeout(Duration::from_secs(2))
        .overall_response_timeout(Some(COMMAND_BOUND))
        .build()
        .unwrap()
        .get_async_connection()
        .await
        .unwrap()
}

/// `SET key value` on `key`'s primary, then `WAIT 1` on that same connection (a pipeline goes to
/// its first keyed command's node): the write is on a replica before this returns.
async fn set_replicated(connection: &mut ClusterConnection, key: &str, value: &str) {
    let (_, replicas): ((), i64) = redis::pipe()
        .set(key, value)
        .cmd("WAIT")
        .arg(1)
        .arg(2000)
        .query_async(connection)
        .await
        .unwrap();
    assert_eq!(replicas, 1, "{key} reached no replica");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_routes_keys_scripts_and_hash_tags() {
    let Some(cluster) = RedisCluster::start(3, 1, Creation::RedisCli) else {
        return;
    };
    eprintln!(
        "cluster (3 primaries, 3 replicas) created in {:?}",
        cluster.created_in
    );
    let primaries = cluster.primary_ports();
    assert_eq!(primaries.len(), 3);
    for &primary in &primaries {
        assert_eq!(
            cluster.replicas_of(primary).len(),
            1,
            "{primary} has no replica"
        );
    }
    let mut connection = cluster_connection(&cluster).await;

    // Plain keys spread over the three primaries, each written and read back through the cluster.
    let mut owners = HashSet::new();
    for i in 0..30 {
        let key = format!("key:{i}");
        let () = connection.set(&key, i).await.unwrap();
        let back: i64 = connection.get(&key).await.unwrap();
        assert_eq!(back, i);
        owners.insert(cluster.primary_of(&key));
    }
    assert_eq!(owners.len(), 3, "30 keys did not reach all three primaries");

    // Asked directly, a primary that does not serve the slot answers MOVED.
    let key = "key:0";
    let other = *primaries
        .iter()
        .find(|&&p| p != cluster.primary_of(key))
        .unwrap();
    let moved = redis_process::query::<Option<String>>(other, redis::cmd("GET").arg(key));
    assert_eq!(
        moved.unwrap_err().kind(),
        redis::ErrorKind::Server(redis::ServerErrorKind::Moved)
    );

    // Keys sharing a hash tag share a slot (the crate computes the same slot as the server), so
    // one script may touch them all; keys in different slots are refused (CROSSSLOT).
    let (replay, revoked) = ("{jkt:abc}replay", "{jkt:abc}revoked");
    assert_eq!(cluster.slot_of(replay), cluster.slot_of(revoked));
    assert_eq!(
        redis::cluster_routing::Slot::for_key(replay),
        redis::cluster_routing::Slot::new(cluster.slot_of(revoked)).unwrap()
    );
    let script = redis::Script::new(
        "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('EXISTS', KEYS[2])",
    );
    // SCRIPT FLUSH goes to every node: the first EVALSHA meets NOSCRIPT, and Script falls back
    // to SCRIPT LOAD (every node) and EVALSHA again.
    let () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut connection)
        .await
        .unwrap();
    let exists: i64 = script
        .key(replay)
        .key(revoked)
        .arg("1")
        .invoke_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(exists, 0);
    let (a, b) = ("{one}x", "{two}y");
    assert_ne!(cluster.slot_of(a), cluster.slot_of(b));
    let cross = script
        .key(a)
        .key(b)
        .arg("1")
        .invoke_async::<i64>(&mut connection)
        .await;
    assert_eq!(
        cross.unwrap_err().kind(),
        redis::ErrorKind::Server(redis::ServerErrorKind::CrossSlot)
    );

    // WAIT after a write: in a pipeline with the write, or routed explicitly to the key's primary.
    set_replicated(&mut connection, replay, "2").await;
    let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(Route::with_key(
        replay,
        SlotAddr::Master,
    )));
    let replicas = connection
        .route_command(redis::cmd("WAIT").arg(1).arg(2000).clone(), route)
        .await
        .unwrap();
    assert_eq!(replicas, redis::Value::Int(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_fails_over_a_killed_and_a_paused_primary() {
    let Some(mut cluster) = RedisCluster::start(3, 1, Creation::RedisCli) else {
        return;
    };
    eprintln!(
        "cluster (3 primaries, 3 replicas) created in {:?}",
        cluster.created_in
    );
    let mut connection = cluster_connection(&cluster).await;

    // Kill the primary of a replicated key: its replica takes over and still has the key.
    let key = "killed:key";
    set_replicated(&mut connection, key, "before").await;
    let killed = cluster.primary_of(key);
    let replica = cluster.replicas_of(killed)[0];
    cluster.kill(killed);
    let (successor, took) = cluster.wait_for_failover(killed, FAILOVER_BOUND);
    eprintln!("SIGKILLed primary {killed}: {successor} took over in {took:?}");
    assert_eq!(successor, replica);
    let value: String = tokio::time::timeout(COMMAND_BOUND, connection.get(key))
        .await
        .expect("GET after the failover timed out")
        .unwrap();
    assert_eq!(value, "before");
    let () = connection.set(key, "after").await.unwrap();

    // Restarted (empty), the old primary rejoins as a replica of its successor.
    cluster.restart(killed);
    let took = cluster.wait_healthy(FAILOVER_BOUND);
    eprintln!("restarted {killed}: cluster healthy again in {took:?}");
    assert_eq!(cluster.replicas_of(successor), vec![killed]);

    // Pause (SIGSTOP) another primary: failed over too; resumed, it is demoted to a replica.
    let key = "paused:key";
    let paused = *cluster
        .primary_ports()
        .iter()
        .find(|&&p| p != successor)
        .unwrap();
    let replica = cluster.replicas_of(paused)[0];
    cluster.pause(paused);
    let (successor, took) = cluster.wait_for_failover(paused, FAILOVER_BOUND);
    eprintln!("SIGSTOPped primary {paused}: {successor} took over in {took:?}");
    assert_eq!(successor, replica);
    cluster.resume(paused);
    let took = cluster.wait_healthy(FAILOVER_BOUND);
    eprintln!("resumed {paused}: cluster healthy again in {took:?}");
    assert_eq!(cluster.replicas_of(successor), vec![paused]);
    let () = tokio::time::timeout(COMMAND_BOUND, connection.set(key, 1))
        .await
        .expect("SET after the second failover timed out")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_created_by_hand_without_redis_cli() {
    let Some(cluster) = RedisCluster::start(3, 0, Creation::ByHand) else {
        return;
    };
    eprintln!(
        "cluster (3 primaries, by hand) created in {:?}",
        cluster.created_in
    );
    assert_eq!(cluster.primary_ports().len(), 3);
    let mut connection = cluster_connection(&cluster).await;
    for i in 0..10 {
        let key = format!("by-hand:{i}");
        let () = connection.set(&key, i).await.unwrap();
        let back: i64 = connection.get(&key).await.unwrap();
        assert_eq!(back, i);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_reports_the_primary_and_fails_over() {
    let Some(mut setup) = RedisSentinel::start(3) else {
        return;
    };
    eprintln!(
        "primary + replica + 3 sentinels started in {:?}",
        setup.started_in
    );
    let [first, second] = setup.server_ports();
    assert_eq!(setup.reported_primaries(), vec![Some(first); 3]);
    let mut client = SentinelClient::build(
        setup.sentinel_urls(),
        redis_sentinel::MASTER_NAME,
        None,
        SentinelServerType::Master,
    )
    .unwrap();

    // A write through Sentinel, acknowledged by the replica.
    let mut connection = client.get_async_connection().await.unwrap();
    let () = connection.set("sentinel:key", "before").await.unwrap();
    let replicas: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(2000)
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(replicas, 1);

    // Kill the primary: the sentinels promote the replica, which has the write.
    setup.kill(first);
    let (promoted, took) = setup.wait_for_new_primary(first, FAILOVER_BOUND);
    eprintln!("SIGKILLed primary {first}: sentinels named {promoted} in {took:?}");
    assert_eq!(promoted, second);
    let mut connection = client.get_async_connection().await.unwrap();
    let value: String = connection.get("sentinel:key").await.unwrap();
    assert_eq!(value, "before");

    // Restarted (empty), the old primary is turned into a replica of the new one.
    setup.restart(first);
    let took = setup.wait_replica(first, FAILOVER_BOUND);
    eprintln!("restarted {first}: a replica again in {took:?}");
    setup.wait_settled(FAILOVER_BOUND);

    // Pause (SIGSTOP) the new primary: failed back over; resumed, it is demoted.
    setup.pause(second);
    let (promoted, took) = setup.wait_for_new_primary(second, FAILOVER_BOUND);
    eprintln!("SIGSTOPped primary {second}: sentinels named {promoted} in {took:?}");
    assert_eq!(promoted, first);
    setup.resume(second);
    // Until a sentinel notices (its INFO period is 10 s), the resumed node is a primary still and
    // takes writes that its demotion then discards: the split-brain window of asynchronous
    // replication (`min-replicas-to-write` closes it on the primary side).
    let stale = redis_process::query::<()>(second, redis::cmd("SET").arg("split").arg("brain"));
    assert!(
        stale.is_ok(),
        "the resumed primary refused a write: {stale:?}"
    );
    let took = setup.wait_replica(second, DEMOTION_BOUND);
    eprintln!("resumed {second}: a replica again in {took:?}");
    assert_eq!(setup.role(second).as_deref(), Some("slave"));
    let lost: Option<String> =
        redis_process::query(second, redis::cmd("GET").arg("split")).unwrap();
    assert_eq!(lost, None, "the demoted node kept a write of its own");
    let mut connection = client.get_async_connection().await.unwrap();
    let () = connection.set("sentinel:key", "after").await.unwrap();
}

type AcksGuard = keybound::RequestGuard<keybound::RedisReplayStore, keybound::RedisRevocationStore>;

const ACKS_API: &str = "https://api.example.com/orders";

/// One request with a fresh proof; its status if refused.
async fn acks_send(
    guard: &AcksGuard,
    client: &keybound::ProofSigner,
    token: &str,
) -> Result<(), u16> {
    let now = keybound::UnixTime::now();
    let proof = client
        .proof("GET", ACKS_API)
        .with_access_token(token)
        .sign(now)
        .unwrap();
    let authorization = format!("DPoP {token}");
    let (authz, dpop) = ([authorization.as_str()], [proof.as_str()]);
    let request = keybound::ResourceRequest::new("GET", ACKS_API, &authz, &dpop);
    guard
        .check_async(&request, now)
        .await
        .map(|_| ())
        .map_err(|r| r.status())
}

/// Requests until one is accepted (at most 10 s).
async fn acks_eventually(guard: &AcksGuard, client: &keybound::ProofSigner, token: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while acks_send(guard, client, token).await != Ok(()) {
        assert!(
            std::time::Instant::now() < deadline,
            "no replica acknowledgement within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Revokes until the replica confirms it (at most 10 s).
async fn acks_revoke_eventually(guard: &AcksGuard) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while acks_revoke(guard).await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "no replica confirmed the revocation within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Revokes a subject nobody uses.
async fn acks_revoke(guard: &AcksGuard) -> Result<(), keybound::StoreError> {
    let now = keybound::UnixTime::now();
    let revocation = keybound::Revocation::subject("mallory", now);
    keybound::AsyncRevocationStore::revoke(guard.revocation(), &revocation, now).await
}

/// `RedisConfig::with_replica_acks`: a proof registration is accepted only once a replica
/// acknowledged it, and revocations wait for every connected replica; with the replica paused
/// both fail closed (503 / `Unavailable`), and recover when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_acknowledgements_fail_closed_when_the_replica_is_away() {
    use keybound::{
        IssuerKeys, ProofSigner, ProofVerifier, RedisConfig, RedisStores, RequestGuard, SigningKey,
        StoreError, TokenIssuer, TokenRequest, TokenVerifier, UnixTime,
    };
    const ISS: &str = "https://as.example.com";
    const AUD: &str = "https://api.example.com";

    let Some(mut setup) = RedisSentinel::start(1) else {
        return;
    };
    let [primary, replica] = setup.server_ports();
    let url = format!("redis://127.0.0.1:{primary}/");
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let now = UnixTime::now();
    let token = issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
            now,
        )
        .unwrap()
        .access_token;
    let guard = |config: &RedisConfig| -> AcksGuard {
        let stores = RedisStores::open(&url, config).unwrap();
        RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
            .with_proof_verifier(ProofVerifier::with_replay_store(stores.replay))
            .with_revocation_store(stores.revocation)
    };
    let base = RedisConfig::new().with_timeout(Duration::from_secs(2));
    let acked = guard(
        &base
            .clone()
            .with_prefix("acks:")
            .with_replica_acks(1, Duration::from_millis(500)),
    );
    let unacked = guard(&base.clone().with_prefix("noacks:"));
    // The replica may still be syncing, and this machine is busy: acknowledged within 10 s.
    acks_eventually(&acked, &client, &token).await;
    acks_revoke_eventually(&acked).await;

    setup.pause(replica);
    assert_eq!(
        acks_send(&acked, &client, &token).await,
        Err(503),
        "no acknowledgement: refused"
    );
    assert_eq!(
        acks_revoke(&acked).await,
        Err(StoreError::Unavailable),
        "a revocation the replica did not confirm is reported"
    );
    // Without acknowledgements asked for, proofs are still accepted (the default).
    assert_eq!(acks_send(&unacked, &client, &token).await, Ok(()));
    setup.resume(replica);

    acks_eventually(&acked, &client, &token).await;
    acks_revoke_eventually(&acked).await;
}
