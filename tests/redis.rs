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
    RedisRefreshStore, RedisReplayStore, RedisRevocationStore, RefreshTokens, RequestGuard,
    ResourceRequest, Revocation, SigningKey, StoreError, TokenEndpoint, TokenIssuer, TokenRequest,
    TokenVerifier,
};

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const API: &str = "https://api.example.com/orders";

type RedisGuard = RequestGuard<RedisReplayStore, RedisRevocationStore>;

/// One "instance" of the API: its own connections to the shared Redis.
fn instance(server: &RedisServer, issuer: &TokenIssuer) -> RedisGuard {
    // A generous deadline: the test machine is busy verifying signatures on every core.
    let config = RedisConfig::new()
        .with_prefix("test:")
        .with_timeout(Duration::from_secs(2));
    RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(ProofVerifier::with_replay_store(
            RedisReplayStore::open(&server.url(), &config).unwrap(),
        ))
        .with_revocation_store(RedisRevocationStore::open(&server.url(), &config).unwrap())
}

fn bound_token(issuer: &TokenIssuer, client: &ProofSigner) -> String {
    issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
            keybound::UnixTime::now(),
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
    let (a, b) = (
        Arc::new(instance(&server, &issuer)),
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
    let (a, b) = (instance(&server, &issuer), instance(&server, &issuer));
    let now = keybound::UnixTime::now();
    for (how, revocation) in [
        ("key", Revocation::key(client.thumbprint(), now)),
        ("subject", Revocation::subject("alice", now)),
    ] {
        let token = bound_token(&issuer, &client);
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
    let token = bound_token(&issuer, &client);
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
    assert!(send(&b, &token, &proof).await.is_err());
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
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let config = RedisConfig::new()
        .with_prefix("fair:")
        .with_timeout(Duration::from_secs(2));
    let store = RedisReplayStore::open(&server.url(), &config)
        .unwrap()
        .with_per_key_limit(40);
    assert_eq!(store.per_key_limit(), 40);
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(ProofVerifier::with_replay_store(store))
        .with_revocation_store(RedisRevocationStore::open(&server.url(), &config).unwrap());
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
        .arg("fair:*")
        .query_async(&mut connection)
        .await
        .unwrap();
    let entries = keys
        .iter()
        .filter(|k| k.starts_with("fair:replay:{"))
        .count();
    assert_eq!(entries, accepted);
    assert!(keys
        .iter()
        .all(|k| k.starts_with("fair:replay:{") || k.starts_with("fair:quota:{")));

    // Another client is unaffected.
    let other = ProofSigner::new(SigningKey::generate().unwrap());
    let other_token = bound_token(&issuer, &other);
    for _ in 0..5 {
        assert!(send(&guard, &other_token, &fresh(&other, &other_token))
            .await
            .is_ok());
    }
}
