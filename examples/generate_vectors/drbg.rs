//! The generator's only source of randomness: SHA-256 in counter mode over the seed.
//!
//! Every consumer (a key, a `jti`) draws from its own stream, named by a label, so adding or
//! reordering cases never changes the keys or identifiers of the others:
//!
//! `block[i] = SHA-256("keybound-vectors/drbg/v1" ‖ 0x00 ‖ seed (u64, big-endian) ‖
//! len(label) (u32, big-endian) ‖ label ‖ i (u64, big-endian))`, output = `block[0] ‖ block[1] ‖ …`.
//!
//! This is a deterministic generator for test data, not a secure one: the seed is public.

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use sha2::{Digest, Sha256};

/// Domain separation for the generator's streams.
const DOMAIN: &[u8] = b"keybound-vectors/drbg/v1\0";

/// One deterministic stream of bytes for `(seed, label)`.
pub struct Drbg {
    seed: u64,
    label: Vec<u8>,
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl Drbg {
    /// The stream named `label` under `seed`.
    pub fn new(seed: u64, label: &str) -> Self {
        Self {
            seed,
            label: label.as_bytes().to_vec(),
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    fn next_byte(&mut self) -> u8 {
        if self.used == 32 {
            let mut hasher = Sha256::new();
            hasher.update(DOMAIN);
            hasher.update(self.seed.to_be_bytes());
            let len = u32::try_from(self.label.len()).expect("label too long");
            hasher.update(len.to_be_bytes());
            hasher.update(&self.label);
            hasher.update(self.counter.to_be_bytes());
            self.block = hasher.finalize().into();
            self.counter += 1;
            self.used = 0;
        }
        let b = self.block[self.used];
        self.used += 1;
        b
    }

    /// Fills `dst` from the stream.
    pub fn fill(&mut self, dst: &mut [u8]) {
        for b in dst {
            *b = self.next_byte();
        }
    }

    /// The first `N` bytes of the stream `(seed, label)`.
    pub fn bytes<const N: usize>(seed: u64, label: &str) -> [u8; N] {
        let mut out = [0u8; N];
        Self::new(seed, label).fill(&mut out);
        out
    }
}

impl TryRng for Drbg {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dst);
        Ok(())
    }
}

/// Marker: the library's key generation asks for a cryptographic generator. This one is
/// deterministic by design (test vectors), which is exactly what the generator needs.
impl TryCryptoRng for Drbg {}
