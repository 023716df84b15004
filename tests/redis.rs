//! The Redis stores against a real `redis-server` started by the tests on a free loopback port
//! (no persistence, killed at the end). Without the binary the tests say loudly that they were
//! skipped; with `KEYBOUND_REQUIRE_REDIS=1` (as `.ci/run` sets) a missing binary is a failure.

#[path = "support/redis_server.rs"]
mod redis_server;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_server::RedisServer;

use keybound::{
    Error, GrantError, IssuerKeys, ProofError, ProofSigner, ProofVerifier, RedisConfig,
    RedisRefreshStore, RedisReplayStore, RedisRevocationStore, RedisStores, RefreshTokens,
    RequestGuard, ResourceRequest, Revocation, SigningKey, StoreError, TokenEndpoint, TokenIssuer,
    TokenRequest, TokenVerifier,
};

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const API: &str = "https://api.example.com/orders";

type RedisGuard = RequestGuard<RedisReplayStore, RedisRevocationStore>;

fn test_config() -> RedisConfig {
    // A generous deadline: the test machine is busy verifying signatures on every core.
    RedisConfig::new()
        .with_prefix("test:")
        .with_timeout(Duration::from_secs(2))
}

/// One "instance" of the API with the stores opened together (`RedisStores`): one connection,
/// one round trip per request.
fn shared_instance(server: &RedisServer, issuer: &TokenIssuer) -> RedisGuard {
    let stores = RedisStores::open(&server.url(), &test_config()).unwrap();
    RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(ProofVerifier::with_replay_store(stores.replay))
        .with_revocation_store(stores.revocation)
}

/// One "instance" of the API: its own connections to the shared Redis, each store its own
/// (two round trips per request).
fn instance(server: &RedisServer, issuer: &TokenIssuer) -> RedisGuard {
    let config = test_config();
    RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(ProofVerifier::with_replay_store(
            RedisReplayStore::open(&server.url(), &config).unwrap(),
        ))
        .with_revocation_store(RedisRevocationStore::open(&server.url(), &config).unwrap())
}

fn bound_token(issuer: &TokenIssuer, client: &ProofSigner) -> String {
    bound_token_at(issuer, client, keybound::UnixTime::now())
}

fn bound_token_at(issuer: &TokenIssuer, client: &ProofSigner, at: keybound::UnixTime) -> String {
    issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
            at,
        )
        .unwrap()
        .access_token
}

async fn send(
    guard: &RedisGuard,
    token: &str,
    proof: &str,
) -> Result<keybound::Authorized, keybound::Rejection> {
    let authorization = format!("DPoP {token}");
    let (authz, dpop) = ([authorization.as_str()], [proof]);
    guard
        .check_async(
            &ResourceRequest::new("GET", API, &authz, &dpop),
            keybound::UnixTime::now(),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_accept_each_proof_exactly_once() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let token = Arc::new(bound_token(&issuer, &client));
    // One instance with the stores opened together (one script per request), one without:
    // both ways record and see the same entries.
    let (a, b) = (
        Arc::new(shared_instance(&server, &issuer)),
        Arc::new(instance(&server, &issuer)),
    );
    let (mut accepted, mut replayed) = (0, 0);
    // 1000 fresh proofs, each sent to both instances at the same time; 25 proofs in flight.
    for _batch in 0..40 {
        let mut tasks = Vec::new();
        for _ in 0..25 {
            let proof = Arc::new(
                client
                    .proof("GET", API)
                    .with_access_token(&token)
                    .sign(keybound::UnixTime::now())
                    .unwrap(),
            );
            for guard in [a.clone(), b.clone()] {
                let (token, proof) = (token.clone(), proof.clone());
                tasks.push(tokio::spawn(
                    async move { send(&guard, &token, &proof).await },
                ));
            }
        }
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => accepted += 1,
                Err(r) if r.error() == &Error::InvalidProof(ProofError::Replayed) => replayed += 1,
                Err(r) => panic!("unexpected {:?}", r.error()),
            }
        }
    }
    assert_eq!((accepted, replayed), (1000, 1000));
}

#[tokio::test]
async fn revocation_through_one_instance_is_enforced_by_the_other() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    // `b`, which checks, runs revocation and registration as one script.
    let (a, b) = (
        instance(&server, &issuer),
        shared_instance(&server, &issuer),
    );
    for how in ["key", "subject"] {
        // The token is issued in the same second the revocation names: a subject revocation
        // covers tokens issued at or before it, and the clock may tick during the loop.
        let now = keybound::UnixTime::now();
        let revocation = match how {
            "key" => Revocation::key(client.thumbprint(), now),
            _ => Revocation::subject("alice", now),
        };
        let token = bound_token_at(&issuer, &client, now);
        let proof = |t: &str| {
            client
                .proof("GET", API)
                .with_access_token(t)
                .sign(keybound::UnixTime::now())
                .unwrap()
        };
        assert!(send(&b, &token, &proof(&token)).await.is_ok(), "{how}");
        keybound::AsyncRevocationStore::revoke(a.revocation(), &revocation, now)
            .await
            .unwrap();
        let r = send(&b, &token, &proof(&token)).await.unwrap_err();
        assert_eq!(r.status(), 401, "{how}");
        assert_eq!(
            r.error(),
            &Error::InvalidToken(keybound::TokenError::Revoked),
            "{how}"
        );
        // Fresh state for the next case.
        let mut flush = redis_flush(&server);
        flush.wait().unwrap();
    }
    // By jti.
    let now = keybound::UnixTime::now();
    let token = bound_token_at(&issuer, &client, now);
    let claims = a.tokens().verify(&token, now).unwrap();
    keybound::AsyncRevocationStore::revoke(
        a.revocation(),
        &Revocation::token(claims.claims()),
        now,
    )
    .await
    .unwrap();
    let proof = client
        .proof("GET", API)
        .with_access_token(&token)
        .sign(now)
        .unwrap();
    let r = send(&b, &token, &proof).await.unwrap_err();
    assert_eq!(
        r.error(),
        &Error::InvalidToken(keybound::TokenError::Revoked),
        "jti"
    );
}

fn redis_flush(server: &RedisServer) -> Child {
    Command::new("redis-cli")
        .args(["-p", &server.port.to_string(), "FLUSHALL"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-cli")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refresh_token_race_has_one_winner_and_revokes_the_family() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let config = RedisConfig::new().with_timeout(Duration::from_secs(2));
    let endpoint = TokenEndpoint::new("https://as.example.com/token");
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let proof = |_: ()| {
        let p = client
            .proof("POST", "https://as.example.com/token")
            .sign(keybound::UnixTime::now())
            .unwrap();
        endpoint
            .check(&[p.as_str()], None, keybound::UnixTime::now())
            .unwrap()
    };
    let first = Arc::new(RefreshTokens::with_store(
        RedisRefreshStore::open(&server.url(), &config).unwrap(),
    ));
    let second = Arc::new(RefreshTokens::with_store(
        RedisRefreshStore::open(&server.url(), &config).unwrap(),
    ));
    let token = first
        .issue_async("alice", "app", None, &proof(()), keybound::UnixTime::now())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let refresh = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let (token, proof) = (token.clone(), proof(()));
        tasks.push(tokio::spawn(async move {
            refresh
                .redeem_async(&token, "app", &proof, keybound::UnixTime::now())
                .await
        }));
    }
    let mut winners = Vec::new();
    let mut reused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok((_, rotated)) => winners.push(rotated),
            Err(Error::InvalidGrant(
                GrantError::RefreshTokenReused | GrantError::UnknownRefreshToken,
            )) => reused += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1);
    assert_eq!(reused, 7);
    // One rotation happened, whole: the used original and one successor; the losers stored
    // nothing.
    let mut records = refresh_records(&server, "keybound:");
    records.sort_by_key(|r| r["used"].as_bool());
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(
        (&records[0]["used"], &records[1]["used"]),
        (&false.into(), &true.into())
    );
    // The losers' reuse revoked the family: the winner's rotated token is dead too.
    let err = second
        .redeem_async(&winners[0], "app", &proof(()), keybound::UnixTime::now())
        .await
        .unwrap_err();
    assert_eq!(err, Error::InvalidGrant(GrantError::UnknownRefreshToken));
    // A thief with another key gets nothing and changes nothing.
    let thief = ProofSigner::new(SigningKey::generate().unwrap());
    let fresh = first
        .issue_async("bob", "app", None, &proof(()), keybound::UnixTime::now())
        .await
        .unwrap();
    let thief_proof = {
        let p = thief
            .proof("POST", "https://as.example.com/token")
            .sign(keybound::UnixTime::now())
            .unwrap();
        endpoint
            .check(&[p.as_str()], None, keybound::UnixTime::now())
            .unwrap()
    };
    assert_eq!(
        first
            .redeem_async(&fresh, "app", &thief_proof, keybound::UnixTime::now())
            .await
            .unwrap_err(),
        Error::InvalidGrant(GrantError::KeyMismatch)
    );
    assert!(first
        .redeem_async(&fresh, "app", &proof(()), keybound::UnixTime::now())
        .await
        .is_ok());
}

#[tokio::test]
async fn redis_down_fails_closed_and_recovers_without_restart() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let guard = instance(&server, &issuer);
    let token = bound_token(&issuer, &client);
    let proof = || {
        client
            .proof("GET", API)
            .with_access_token(&token)
            .sign(keybound::UnixTime::now())
            .unwrap()
    };
    assert!(send(&guard, &token, &proof()).await.is_ok());

    server.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let r = send(&guard, &token, &proof()).await.unwrap_err();
        assert_eq!(r.status(), 503);
        assert_eq!(r.error(), &Error::Store(StoreError::Unavailable));
        assert!(!r.www_authenticate().contains("error="));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "bounded by the timeout"
        );
    }

    server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match send(&guard, &token, &proof()).await {
            Ok(_) => break,
            Err(r) => {
                assert_eq!(r.status(), 503, "{:?}", r.error());
                assert!(Instant::now() < deadline, "the store did not recover");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One key floods proofs at the shared store: it gets its share, then 429s with nothing
/// written, while another client keeps working.
#[tokio::test]
async fn one_key_cannot_fill_the_shared_replay_store() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    for (prefix, together) in [("fair:", false), ("fair2:", true)] {
        one_key_cannot_fill(&server, prefix, together).await;
    }
}

/// The per-key share, with the stores opened apart (two round trips) or `together` (one).
async fn one_key_cannot_fill(server: &RedisServer, prefix: &str, together: bool) {
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let config = RedisConfig::new()
        .with_prefix(prefix)
        .with_timeout(Duration::from_secs(2));
    let (store, revocation) = if together {
        let stores = RedisStores::open(&server.url(), &config).unwrap();
        (stores.replay, stores.revocation)
    } else {
        let replay = RedisReplayStore::open(&server.url(), &config).unwrap();
        let revocation = RedisRevocationStore::open(&server.url(), &config).unwrap();
        (replay, revocation)
    };
    let store = store.with_per_key_limit(40);
    assert_eq!(store.per_key_limit(), 40);
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(ProofVerifier::with_replay_store(store))
        .with_revocation_store(revocation);
    let flooder = ProofSigner::new(SigningKey::generate().unwrap());
    let flood_token = bound_token(&issuer, &flooder);
    let fresh = |client: &ProofSigner, token: &str| {
        client
            .proof("GET", API)
            .with_access_token(token)
            .sign(keybound::UnixTime::now())
            .unwrap()
    };
    let (mut accepted, mut limited) = (0, 0);
    for _ in 0..60 {
        match send(&guard, &flood_token, &fresh(&flooder, &flood_token)).await {
            Ok(_) => accepted += 1,
            Err(rejection) => {
                assert_eq!(rejection.status(), 429);
                assert!(matches!(
                    rejection.error(),
                    Error::Store(StoreError::KeyQuotaExceeded { .. })
                ));
                let retry_after = rejection.retry_after_secs().unwrap();
                assert!((1..=70).contains(&retry_after), "{retry_after}");
                limited += 1;
            }
        }
    }
    // Within one bucket all 40 fit; a bucket boundary in the middle can only lower the count.
    assert!((20..=40).contains(&accepted), "{accepted}");
    assert_eq!(accepted + limited, 60);
    // The refused proofs wrote nothing: the entries and one or two counters only.
    let mut connection = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut connection)
        .await
        .unwrap();
    let entries = keys
        .iter()
        .filter(|k| k.starts_with(&format!("{prefix}replay:{{")))
        .count();
    assert_eq!(entries, accepted);
    assert!(keys
        .iter()
        .all(|k| k.starts_with(&format!("{prefix}replay:{{"))
            || k.starts_with(&format!("{prefix}quota:{{"))));

    // Another client is unaffected.
    let other = ProofSigner::new(SigningKey::generate().unwrap());
    let other_token = bound_token(&issuer, &other);
    for _ in 0..5 {
        assert!(send(&guard, &other_token, &fresh(&other, &other_token))
            .await
            .is_ok());
    }
}

/// How often `command` ran on `server` since the last `CONFIG RESETSTAT`.
fn calls(server: &RedisServer, command: &str) -> u64 {
    let stats = redis_cli(server, &["INFO", "commandstats"]);
    let prefix = format!("cmdstat_{command}:calls=");
    stats
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().unwrap())
}

#[tokio::test]
async fn one_round_trip_per_request_with_the_stores_opened_together() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let token = bound_token(&issuer, &client);
    let proof = || {
        client
            .proof("GET", API)
            .with_access_token(&token)
            .sign(keybound::UnixTime::now())
            .unwrap()
    };
    for (guard, per_request) in [
        (shared_instance(&server, &issuer), ["evalsha"].as_slice()),
        (instance(&server, &issuer), ["mget", "evalsha"].as_slice()),
    ] {
        // Warm: the scripts are loaded (NOSCRIPT, SCRIPT LOAD) by the first request.
        assert!(send(&guard, &token, &proof()).await.is_ok());
        redis_cli(&server, &["CONFIG", "RESETSTAT"]);
        for _ in 0..5 {
            assert!(send(&guard, &token, &proof()).await.is_ok());
        }
        let replayed = proof();
        assert!(send(&guard, &token, &replayed).await.is_ok());
        assert!(send(&guard, &token, &replayed).await.is_err());
        // What the client sent (commands inside scripts count too, but neither of these).
        for command in ["mget", "evalsha", "eval"] {
            let expected = if per_request.contains(&command) { 7 } else { 0 };
            assert_eq!(
                calls(&server, command),
                expected,
                "{command} in {per_request:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_revoked_tokens_proof_is_not_recorded_in_one_round_trip() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let guard = shared_instance(&server, &issuer);
    let token = bound_token(&issuer, &client);
    let now = keybound::UnixTime::now();
    let revocation = Revocation::key(client.thumbprint(), now);
    keybound::AsyncRevocationStore::revoke(guard.revocation(), &revocation, now)
        .await
        .unwrap();
    let proof = client
        .proof("GET", API)
        .with_access_token(&token)
        .sign(now)
        .unwrap();
    let refused = send(&guard, &token, &proof).await.unwrap_err();
    assert_eq!(refused.reason(), "token_revoked");
    let recorded = redis_cli(&server, &["--scan", "--pattern", "test:replay:*"]);
    assert_eq!(
        recorded.trim(),
        "",
        "a revoked token's proof takes no replay entry"
    );
    // A revocation entry that is not a number: the script fails, the request is refused (503).
    redis_cli(&server, &["FLUSHALL"]);
    let subject = Revocation::subject("alice", now);
    keybound::AsyncRevocationStore::revoke(guard.revocation(), &subject, now)
        .await
        .unwrap();
    let entry = redis_cli(&server, &["--scan", "--pattern", "test:rev:*"]);
    assert_eq!(entry.lines().count(), 1, "{entry}");
    redis_cli(&server, &["SET", entry.trim(), "not-a-number"]);
    let other = ProofSigner::new(SigningKey::generate().unwrap());
    let fresh = bound_token(&issuer, &other);
    let proof = other
        .proof("GET", API)
        .with_access_token(&fresh)
        .sign(keybound::UnixTime::now())
        .unwrap();
    let refused = send(&guard, &fresh, &proof).await.unwrap_err();
    assert_eq!(refused.status(), 503, "{:?}", refused.error());
}

/// Runs `redis-cli` against `server` and returns its output.
fn redis_cli(server: &RedisServer, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .args(["-p", &server.port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli");
    assert!(output.status.success(), "redis-cli {args:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The stored refresh-token records under `prefix`, as JSON.
fn refresh_records(server: &RedisServer, prefix: &str) -> Vec<serde_json::Value> {
    redis_cli(server, &["--scan", "--pattern", &format!("{prefix}rt:*")])
        .lines()
        .map(|key| serde_json::from_str(redis_cli(server, &["GET", key]).trim()).unwrap())
        .collect()
}

fn refresh_proof(client: &ProofSigner) -> keybound::VerifiedProof {
    let now = keybound::UnixTime::now();
    let proof = client
        .proof("POST", "https://as.example.com/token")
        .sign(now)
        .unwrap();
    TokenEndpoint::new("https://as.example.com/token")
        .check(&[proof.as_str()], None, now)
        .unwrap()
}

#[tokio::test]
async fn a_rotation_whose_successor_write_fails_in_redis_changes_nothing() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let config = RedisConfig::new()
        .with_prefix("rot:")
        .with_timeout(Duration::from_secs(2));
    let refresh =
        RefreshTokens::with_store(RedisRefreshStore::open(&server.url(), &config).unwrap());
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let now = keybound::UnixTime::now;
    let token = refresh
        .issue_async("alice", "app", None, &refresh_proof(&client), now())
        .await
        .unwrap();

    // Redis refuses every write (out of memory, no eviction): the rotation fails inside Redis
    // with 503, and leaves the token unused and no successor behind.
    redis_cli(
        &server,
        &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
    );
    redis_cli(&server, &["CONFIG", "SET", "maxmemory", "1"]);
    let err = refresh
        .redeem_async(&token, "app", &refresh_proof(&client), now())
        .await
        .unwrap_err();
    assert_eq!(err, Error::Store(StoreError::Unavailable));
    assert_eq!(keybound::error_response(&err).status, 503);
    let records = refresh_records(&server, "rot:");
    assert_eq!(records.len(), 1, "no successor: {records:?}");
    assert_eq!(records[0]["used"], false);
    // The failure was the successor's write inside the one script: Redis ran the script and
    // refused its (first) write; no other command was sent.
    let stats = redis_cli(&server, &["INFO", "commandstats"]);
    let line = |name: &str| {
        stats
            .lines()
            .find(|l| l.starts_with(&format!("cmdstat_{name}:")))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line("set").contains("rejected_calls=1,"), "{stats}");
    assert!(!line("evalsha").is_empty(), "{stats}");
    let errors = redis_cli(&server, &["INFO", "errorstats"]);
    assert!(errors.contains("errorstat_OOM:count=1\r\n"), "{errors}");

    // Redis recovers: the client's retry with the same token succeeds.
    redis_cli(&server, &["CONFIG", "SET", "maxmemory", "0"]);
    let (grant, next) = refresh
        .redeem_async(&token, "app", &refresh_proof(&client), now())
        .await
        .expect("the retry after a failed rotation succeeds");
    assert_eq!(grant.subject, "alice");
    // Both changes landed together: the original used, the successor stored unused, with the
    // same family and the same family expiry.
    let mut records = refresh_records(&server, "rot:");
    records.sort_by_key(|r| r["used"].as_bool());
    assert_eq!(records.len(), 2);
    assert_eq!(
        (&records[0]["used"], &records[1]["used"]),
        (&false.into(), &true.into())
    );
    assert_eq!(records[0]["family"], records[1]["family"]);
    assert_eq!(
        records[0]["family_expires_at"],
        records[1]["family_expires_at"]
    );
    assert_eq!(records[0]["expires_at"], records[1]["expires_at"]);
    assert!(refresh
        .redeem_async(&next, "app", &refresh_proof(&client), now())
        .await
        .is_ok());
}

/// A loopback TCP proxy in front of Redis. While `armed`, it cuts the connection instead of
/// forwarding any request that is a plain `SET` command: a Redis blip that strikes between two
/// round trips of one operation.
struct BlipProxy {
    port: u16,
    armed: Arc<std::sync::atomic::AtomicBool>,
}

impl BlipProxy {
    async fn start(upstream: u16) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        const PLAIN_SET: &[u8] = b"$3\r\nSET\r\n";
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let armed = Arc::new(AtomicBool::new(false));
        let flag = armed.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                else {
                    continue;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let armed = flag.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 64 * 1024];
                    loop {
                        let n = match client_read.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let chunk = &buffer[..n];
                        if armed.load(Ordering::SeqCst)
                            && chunk.windows(PLAIN_SET.len()).any(|w| w == PLAIN_SET)
                        {
                            // Dropping the halves closes both connections.
                            return;
                        }
                        if server_write.write_all(chunk).await.is_err() {
                            return;
                        }
                    }
                });
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                });
            }
        });
        Self { port, armed }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn arm(&self, on: bool) {
        self.armed.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_redis_blip_during_rotation_never_burns_the_token() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let proxy = BlipProxy::start(server.port).await;
    let config = RedisConfig::new()
        .with_prefix("blip:")
        .with_timeout(Duration::from_secs(2));
    let refresh =
        RefreshTokens::with_store(RedisRefreshStore::open(&proxy.url(), &config).unwrap());
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let now = keybound::UnixTime::now;
    let token = refresh
        .issue_async("alice", "app", None, &refresh_proof(&client), now())
        .await
        .unwrap();

    // The connection drops if the rotation needs a second round trip to write the successor.
    proxy.arm(true);
    let first = refresh
        .redeem_async(&token, "app", &refresh_proof(&client), now())
        .await;
    proxy.arm(false);
    let next = match first {
        Ok((_, next)) => next,
        Err(err) => {
            assert_eq!(err, Error::Store(StoreError::Unavailable));
            // The client retries after the 503, once the connection is back.
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match refresh
                    .redeem_async(&token, "app", &refresh_proof(&client), now())
                    .await
                {
                    Ok((_, next)) => break next,
                    Err(Error::Store(StoreError::Unavailable)) if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => panic!("the retry after a blip failed: {e:?}"),
                }
            }
        }
    };
    // The family is alive: the successor rotates in turn.
    assert!(refresh
        .redeem_async(&next, "app", &refresh_proof(&client), now())
        .await
        .is_ok());
}
