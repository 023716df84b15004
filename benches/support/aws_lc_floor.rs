//! With feature `aws-lc`, the raw aws-lc-rs operations: the floor for that backend, measured
//! in the same group as keybound's. Shared by the benchmarks.

#![cfg(feature = "aws-lc")]
// Each benchmark uses the part it needs.
#![allow(dead_code)]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};

/// An aws-lc key pair and a signature over `message` by it.
pub struct AwsLcFloor {
    pair: EcdsaKeyPair,
    public: Vec<u8>,
    signature: Vec<u8>,
    rng: SystemRandom,
}

impl AwsLcFloor {
    pub fn new(message: &[u8]) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .expect("key");
        let signature = pair.sign(&rng, message).expect("sign").as_ref().to_vec();
        let public = pair.public_key().as_ref().to_vec();
        Self {
            pair,
            public,
            signature,
            rng,
        }
    }

    /// Verify `signature` by the SEC1 key `public` instead of this floor's own pair: the exact
    /// check keybound makes (see `exact_floor.rs`).
    pub fn verifying(mut self, public: &[u8], signature: &[u8]) -> Self {
        self.public = public.to_vec();
        self.signature = signature.to_vec();
        self
    }

    /// One verification, parsing the key as a proof's key must be parsed: per request.
    pub fn verify(&self, message: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.public)
            .verify(message, &self.signature)
            .is_ok()
    }

    /// One signature.
    pub fn sign(&self, message: &[u8]) -> usize {
        self.pair
            .sign(&self.rng, message)
            .expect("sign")
            .as_ref()
            .len()
    }
}
