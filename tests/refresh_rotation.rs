//! Refresh-token rotation is atomic: either the successor exists and the presented token is
//! used, or nothing changed (issue 14). A store failure during rotation leaves the token live, so
//! the client's retry succeeds instead of counting as reuse and revoking the family.

use std::sync::{Arc, Barrier};

use keybound::{
    error_response, Error, GrantError, MemoryRefreshStore, ProofSigner, RefreshTokens, SigningKey,
    StoreError, TokenEndpoint, UnixTime, VerifiedProof,
};

const TOKEN_URL: &str = "https://as.example.com/token";
const NOW: u64 = 1_700_000_000;

fn signer() -> ProofSigner {
    ProofSigner::new(SigningKey::generate().unwrap())
}

fn proof(client: &ProofSigner, at: u64) -> VerifiedProof {
    let at = UnixTime::from_secs(at);
    let proof = client.proof("POST", TOKEN_URL).sign(at).unwrap();
    TokenEndpoint::new(TOKEN_URL)
        .check(&[&proof], None, at)
        .unwrap()
}

#[test]
fn a_rotation_refused_by_a_full_store_leaves_the_token_live() {
    let store = Arc::new(MemoryRefreshStore::with_capacity(3));
    let long = RefreshTokens::with_store(store.clone());
    let short = RefreshTokens::with_store(store.clone()).with_lifetime_secs(10);
    let client = signer();
    let now = UnixTime::from_secs(NOW);
    let token = long
        .issue("alice", "app", None, &proof(&client, NOW), now)
        .unwrap();
    // Two short-lived tokens of other users fill the store.
    for user in ["bob", "carol"] {
        short
            .issue(user, "app", None, &proof(&client, NOW), now)
            .unwrap();
    }
    assert_eq!(store.len(), 3);

    // No room for the successor: the rotation fails with 503 and changes nothing.
    let err = long
        .redeem(&token, "app", &proof(&client, NOW), now)
        .unwrap_err();
    assert_eq!(err, Error::Store(StoreError::Full));
    let response = error_response(&err);
    assert_eq!(response.status, 503);
    assert!(response
        .body
        .contains(r#""error":"temporarily_unavailable""#));
    assert_eq!(store.len(), 3, "no successor was stored");

    // Later the short tokens have expired and the store has room: the client's retry with the
    // same refresh token succeeds — it was not burnt, and its family was not revoked.
    let later = NOW + 11;
    let (grant, next) = long
        .redeem(
            &token,
            "app",
            &proof(&client, later),
            UnixTime::from_secs(later),
        )
        .expect("the retry after a failed rotation succeeds");
    assert_eq!(grant.subject, "alice");
    let (_, _) = long
        .redeem(
            &next,
            "app",
            &proof(&client, later),
            UnixTime::from_secs(later),
        )
        .expect("the family lives on");
    // The original token is used now: presenting it again is reuse.
    assert_eq!(
        long.redeem(
            &token,
            "app",
            &proof(&client, later),
            UnixTime::from_secs(later)
        )
        .unwrap_err(),
        Error::InvalidGrant(GrantError::RefreshTokenReused)
    );
}

#[test]
fn a_wrong_key_or_unknown_token_is_refused_before_the_store_is_asked_for_room() {
    // A full store still answers refusals as refusals (400), not as 503.
    let store = Arc::new(MemoryRefreshStore::with_capacity(1));
    let refresh = RefreshTokens::with_store(store.clone());
    let (client, thief) = (signer(), signer());
    let now = UnixTime::from_secs(NOW);
    let token = refresh
        .issue("alice", "app", None, &proof(&client, NOW), now)
        .unwrap();
    assert_eq!(
        refresh
            .redeem(&token, "app", &proof(&thief, NOW), now)
            .unwrap_err(),
        Error::InvalidGrant(GrantError::KeyMismatch)
    );
    assert_eq!(
        refresh
            .redeem("unknown", "app", &proof(&client, NOW), now)
            .unwrap_err(),
        Error::InvalidGrant(GrantError::UnknownRefreshToken)
    );
    assert_eq!(
        refresh
            .redeem(&token, "app", &proof(&client, NOW), now)
            .unwrap_err(),
        Error::Store(StoreError::Full)
    );
    assert_eq!(store.len(), 1);
}

#[test]
fn concurrent_rotations_of_one_token_have_one_winner_and_one_successor() {
    let store = Arc::new(MemoryRefreshStore::new());
    let refresh = Arc::new(RefreshTokens::with_store(store.clone()));
    let client = signer();
    let now = UnixTime::from_secs(NOW);
    let token = Arc::new(
        refresh
            .issue("alice", "app", None, &proof(&client, NOW), now)
            .unwrap(),
    );
    let proofs: Vec<_> = (0..16).map(|_| proof(&client, NOW)).collect();
    let barrier = Arc::new(Barrier::new(proofs.len()));
    let handles: Vec<_> = proofs
        .into_iter()
        .map(|proof| {
            let (refresh, token, barrier) = (refresh.clone(), token.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                refresh.redeem(&token, "app", &proof, now)
            })
        })
        .collect();
    let (mut winners, mut losers) = (Vec::new(), 0);
    for handle in handles {
        match handle.join().unwrap() {
            Ok((_, next)) => winners.push(next),
            // The first loser sees reuse and revokes the family; later ones see a revoked
            // family (unknown).
            Err(Error::InvalidGrant(
                GrantError::RefreshTokenReused | GrantError::UnknownRefreshToken,
            )) => losers += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((winners.len(), losers), (1, 15));
    // Exactly one successor was stored: the used original and the winner's token.
    assert_eq!(store.len(), 2);
    // The reuse revoked the family: the winner's successor is dead too.
    assert_eq!(
        refresh
            .redeem(&winners[0], "app", &proof(&client, NOW), now)
            .unwrap_err(),
        Error::InvalidGrant(GrantError::UnknownRefreshToken)
    );
}
