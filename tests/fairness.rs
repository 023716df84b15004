//! One key cannot take the replay store from everyone else (issue 14, weakness 1): at the
//! token endpoint, one self-generated key flooding a store-sized burst of correctly signed
//! proofs, and at a resource server, one client with one valid token of its own. Both used to
//! fill the store and turn every other client away with 503; now the flooder alone gets 429
//! with `Retry-After` once past its share.

use keybound::{
    error_response, Error, IssuerKeys, MemoryReplayStore, ProofError, ProofSigner, ProofVerifier,
    RequestGuard, ResourceRequest, SigningKey, StoreError, TokenEndpoint, TokenIssuer,
    TokenRequest, TokenVerifier, UnixTime,
};

const TOKEN_URL: &str = "https://as.example.com/token";
const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const API: &str = "https://api.example.com/orders";
/// A store this size takes 256 proofs of one key before refusing it (a sixteenth).
const CAPACITY: usize = 4096;

fn client() -> ProofSigner {
    ProofSigner::new(SigningKey::generate().unwrap())
}

fn token_proof(client: &ProofSigner, now: UnixTime) -> String {
    client.proof("POST", TOKEN_URL).sign(now).unwrap()
}

#[test]
fn one_key_flooding_the_token_endpoint_leaves_other_clients_working() {
    let endpoint = TokenEndpoint::new(TOKEN_URL).with_proof_verifier(
        ProofVerifier::with_replay_store(MemoryReplayStore::with_capacity(CAPACITY)),
    );
    assert_eq!(endpoint.proofs().replay_store().per_key_limit(), 256);
    let now = UnixTime::now();
    let flooder = client();
    let (mut accepted, mut limited) = (0, 0);
    for _ in 0..CAPACITY {
        match endpoint.check(&[&token_proof(&flooder, now)], None, now) {
            Ok(_) => accepted += 1,
            Err(error) => {
                assert!(matches!(
                    error,
                    Error::Store(StoreError::KeyQuotaExceeded { .. })
                ));
                let response = error_response(&error);
                assert_eq!(response.status, 429);
                assert!(response
                    .retry_after_secs
                    .is_some_and(|s| (1..=70).contains(&s)));
                limited += 1;
            }
        }
    }
    assert_eq!((accepted, limited), (256, CAPACITY - 256));
    // Every other client still gets its tokens.
    for _ in 0..200 {
        let other = client();
        assert!(endpoint
            .check(&[&token_proof(&other, now)], None, now)
            .is_ok());
    }
}

#[test]
fn a_proof_checked_before_client_authentication_takes_no_capacity() {
    let endpoint =
        TokenEndpoint::new(TOKEN_URL).with_proof_verifier(ProofVerifier::with_replay_store(
            MemoryReplayStore::with_capacity(64).with_per_key_limit(2),
        ));
    let now = UnixTime::now();
    let anonymous = client();
    // Prechecked, never registered (the client failed to authenticate): nothing stored, so the
    // key's share is untouched however often it tries.
    for _ in 0..50 {
        let pending = endpoint.precheck(&[&token_proof(&anonymous, now)], None, now);
        drop(pending.unwrap());
    }
    assert!(endpoint.proofs().replay_store().is_empty());
    // Registered once authenticated: the proof is now used, and a replay is refused.
    let proof = token_proof(&anonymous, now);
    let verified = endpoint
        .precheck(&[&proof], None, now)
        .unwrap()
        .register(&endpoint, now)
        .unwrap();
    assert_eq!(verified.thumbprint(), anonymous.thumbprint());
    let replay = endpoint.precheck(&[&proof], None, now).unwrap();
    assert_eq!(
        replay.register(&endpoint, now).unwrap_err(),
        Error::InvalidProof(ProofError::Replayed)
    );
    // Bad proofs fail the precheck itself.
    assert!(endpoint.precheck(&["not.a.proof"], None, now).is_err());
}

#[test]
fn one_client_with_its_own_token_cannot_lock_out_the_others() {
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(ProofVerifier::with_replay_store(
            MemoryReplayStore::with_capacity(CAPACITY),
        ));
    let now = UnixTime::now();
    let token_for = |client: &ProofSigner| {
        issuer
            .issue(
                &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
                now,
            )
            .unwrap()
            .access_token
    };
    let call = |client: &ProofSigner, token: &str| {
        let proof = client
            .proof("GET", API)
            .with_access_token(token)
            .sign(now)
            .unwrap();
        let authorization = format!("DPoP {token}");
        let (authorization, dpop) = ([authorization.as_str()], [proof.as_str()]);
        guard.check(
            &ResourceRequest::new("GET", API, &authorization, &dpop),
            now,
        )
    };
    let flooder = client();
    let token = token_for(&flooder);
    let (mut accepted, mut limited) = (0, 0);
    for _ in 0..CAPACITY {
        match call(&flooder, &token) {
            Ok(_) => accepted += 1,
            Err(rejection) => {
                assert_eq!(rejection.status(), 429);
                assert!(rejection.retry_after_secs().is_some());
                limited += 1;
            }
        }
    }
    assert_eq!((accepted, limited), (256, CAPACITY - 256));
    for _ in 0..50 {
        let other = client();
        let token = token_for(&other);
        assert!(call(&other, &token).is_ok());
    }
}
