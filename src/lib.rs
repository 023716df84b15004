#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod error;
mod jose;
mod proof;
mod time;

pub use error::{
    Endpoint, Error, ErrorCode, JoseError, KeyError, NonceProblem, ProofError, StoreError,
};
pub use jose::public_key::PublicKey;
pub use jose::signing_key::SigningKey;
pub use jose::thumbprint::{Thumbprint, TokenHash};
pub use proof::nonce::NonceEngine;
pub use proof::options::ProofOptions;
pub use proof::replay::{
    Insertion, MemoryReplayStore, ReplayKey, ReplayStore, DEFAULT_REPLAY_CAPACITY,
};
pub use proof::request::ProofRequest;
pub use proof::signer::{ProofBuilder, ProofSigner};
pub use proof::verifier::{ProofVerifier, VerifiedProof};
pub use time::{Clock, FixedClock, SystemClock, UnixTime};
