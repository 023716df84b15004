//! Replay protection under concurrency and when the store is full.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use common::*;
use keybound::{
    Error, MemoryReplayStore, ProofError, ProofRequest, ProofSigner, ProofVerifier, SigningKey,
    StoreError, UnixTime,
};

#[test]
fn same_proof_from_many_threads_is_accepted_exactly_once() {
    const THREADS: usize = 8;
    const ATTEMPTS_PER_THREAD: usize = 150;
    let verifier = Arc::new(ProofVerifier::new());
    let signer = ProofSigner::new(SigningKey::generate().unwrap());
    let proof = Arc::new(
        signer
            .proof("GET", URL)
            .with_access_token(TOKEN)
            .sign(now())
            .unwrap(),
    );
    let accepted = Arc::new(AtomicUsize::new(0));
    let replayed = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (verifier, proof, accepted, replayed, barrier) = (
                verifier.clone(),
                proof.clone(),
                accepted.clone(),
                replayed.clone(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..ATTEMPTS_PER_THREAD {
                    let headers = [proof.as_str()];
                    let request = ProofRequest::new("GET", URL, &headers).with_access_token(TOKEN);
                    match verifier.verify(&request, now()) {
                        Ok(_) => accepted.fetch_add(1, Ordering::SeqCst),
                        Err(Error::InvalidProof(ProofError::Replayed)) => {
                            replayed.fetch_add(1, Ordering::SeqCst)
                        }
                        Err(e) => panic!("unexpected {e:?}"),
                    };
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert_eq!(
        replayed.load(Ordering::SeqCst),
        THREADS * ATTEMPTS_PER_THREAD - 1
    );
}

#[test]
fn distinct_proofs_from_many_threads_are_all_accepted() {
    let verifier = Arc::new(ProofVerifier::new());
    let signer = Arc::new(ProofSigner::new(SigningKey::generate().unwrap()));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (verifier, signer) = (verifier.clone(), signer.clone());
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let proof = signer.proof("GET", URL).sign(now()).unwrap();
                    let verified =
                        verifier.verify(&ProofRequest::new("GET", URL, &[&proof]), now());
                    assert!(verified.is_ok());
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

#[test]
fn full_store_fails_closed_and_recovers_when_entries_expire() {
    let verifier = ProofVerifier::with_replay_store(MemoryReplayStore::with_capacity(16));
    let signer = ProofSigner::new(SigningKey::generate().unwrap());
    let mut accepted = Vec::new();
    let mut full = 0;
    for _ in 0..200 {
        let proof = signer.proof("GET", URL).sign(now()).unwrap();
        match verifier.verify(&ProofRequest::new("GET", URL, &[&proof]), now()) {
            Ok(_) => accepted.push(proof),
            Err(Error::Store(StoreError::Full)) => full += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert!(full > 0, "a 16-entry store must fill up");
    assert!(!accepted.is_empty() && accepted.len() <= 16);
    // The fail-closed error answers 503, not 401.
    let err = Error::Store(StoreError::Full);
    assert_eq!(err.status(keybound::Endpoint::Resource), 503);
    // Accepted proofs are never forgotten while live.
    for proof in &accepted {
        assert_eq!(
            verifier
                .verify(&ProofRequest::new("GET", URL, &[proof]), now())
                .unwrap_err(),
            Error::InvalidProof(ProofError::Replayed)
        );
    }
    // After the window (60 s + 5 s leeway), entries expire and new proofs are accepted again.
    let later = UnixTime::from_secs(NOW + 66);
    let fresh = signer.proof("GET", URL).sign(later).unwrap();
    assert!(verifier
        .verify(&ProofRequest::new("GET", URL, &[&fresh]), later)
        .is_ok());
}

#[tokio::test]
async fn async_paths_register_proofs_too() {
    // `verify_async` and `check_async` run the same replay registration as their blocking
    // twins, through the asynchronous store interface.
    let verifier = ProofVerifier::new();
    let signer = ProofSigner::new(SigningKey::generate().unwrap());
    let proof = signer.proof("GET", URL).sign(now()).unwrap();
    let headers = [proof.as_str()];
    let request = ProofRequest::new("GET", URL, &headers);
    assert!(verifier.verify_async(&request, now()).await.is_ok());
    assert_eq!(
        verifier.verify_async(&request, now()).await.unwrap_err(),
        Error::InvalidProof(ProofError::Replayed)
    );
    // The blocking path sees what the asynchronous one recorded.
    assert_eq!(
        verifier.verify(&request, now()).unwrap_err(),
        Error::InvalidProof(ProofError::Replayed)
    );
}

#[test]
fn verifier_accessors_report_its_configuration() {
    let options = keybound::ProofOptions::new().with_max_age_secs(30);
    let plain = ProofVerifier::new().with_options(options);
    assert_eq!(plain.options().max_age_secs, 30);
    assert!(plain.nonce_engine().is_none());
    assert!(plain.issue_nonce(now()).is_none());
    let with_nonces = ProofVerifier::new().with_nonces(keybound::NonceEngine::from_secret([4; 32]));
    let engine = with_nonces.nonce_engine().expect("an engine");
    let nonce = with_nonces.issue_nonce(now()).unwrap();
    // Rotating through the accessor reaches the verifier's engine.
    engine.rotate([5; 32]);
    assert_ne!(with_nonces.issue_nonce(now()).unwrap(), nonce);
    assert!(format!("{with_nonces:?}").starts_with("ProofVerifier"));
}
