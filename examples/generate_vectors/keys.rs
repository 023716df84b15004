//! Keys and signatures for the generator, straight from the RustCrypto crates (pinned by
//! `Cargo.lock`) rather than from the library under test: the vectors must not depend on
//! keybound's signing backend (its optional `aws-lc` backend signs with random nonces).
//!
//! - EC P-256 / P-384 / P-521 (`p256`, `p384`, `p521`): keys drawn from the generator's
//!   streams, RFC 6979 deterministic signatures with the curve's hash (ES256/384/512);
//! - Ed25519 (`ed25519-dalek`): the 32-byte seed drawn from a stream; signatures are
//!   deterministic (RFC 8032 §5.1.6);
//! - RSA (`rsa`): the primes are fixed constants (`rsa_keys.rs`, made once from the
//!   generator's streams); PKCS#1 v1.5 signatures are deterministic, PSS salts come from a
//!   stream named after the message, so they are deterministic too.

use curve25519_dalek::Scalar;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::Generate;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BoxedUint, PrivateKey as RsaPrivateKey};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::drbg::Drbg;
use crate::jose::{b64, sha256};
use crate::suite::DEFAULT_SEED;

/// A JWS algorithm, as this generator names and implements it (independently of keybound).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    Es256,
    Es384,
    Es512,
    Ed25519,
    EdDsa,
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
}

impl Alg {
    /// The registered `alg` name (RFC 7518 §3.1, RFC 8037 §3.1, RFC 9864 §2.2).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
            Self::Ed25519 => "Ed25519",
            Self::EdDsa => "EdDSA",
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
        }
    }
}

/// An EC P-256 key pair.
pub struct Key {
    secret: SigningKey,
    x: [u8; 32],
    y: [u8; 32],
}

impl Key {
    /// The key drawn from `rng` (rejection sampling of the scalar, as `p256` does it).
    pub fn generate(rng: &mut Drbg) -> Self {
        let secret = SigningKey::try_generate_from_rng(rng).expect("infallible generator");
        let point = secret.verifying_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        assert_eq!(bytes.len(), 65, "uncompressed SEC1 point");
        Self {
            x: bytes[1..33].try_into().expect("32 bytes"),
            y: bytes[33..65].try_into().expect("32 bytes"),
            secret,
        }
    }

    /// The affine `x` coordinate, 32 big-endian bytes.
    pub fn x(&self) -> &[u8; 32] {
        &self.x
    }

    /// The affine `y` coordinate, 32 big-endian bytes.
    pub fn y(&self) -> &[u8; 32] {
        &self.y
    }

    /// The private scalar, 32 big-endian bytes.
    pub fn d(&self) -> [u8; 32] {
        self.secret.to_bytes().into()
    }

    /// ES256 over `message`: the 64-byte `r ‖ s` signature with RFC 6979 deterministic nonces.
    pub fn sign_es256(&self, message: &[u8]) -> [u8; 64] {
        let signature: Signature = self.secret.sign(message);
        signature.to_bytes().into()
    }
}

enum EcSecret {
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
}

/// An EC P-384 or P-521 key pair.
pub struct EcKey {
    secret: EcSecret,
    x: Vec<u8>,
    y: Vec<u8>,
}

impl EcKey {
    /// A P-384 key drawn from `rng`.
    pub fn p384(rng: &mut Drbg) -> Self {
        let secret = p384::ecdsa::SigningKey::try_generate_from_rng(rng).expect("infallible");
        let point = secret.verifying_key().to_sec1_point(false);
        Self::from_sec1(EcSecret::P384(secret), point.as_bytes(), 48)
    }

    /// A P-521 key drawn from `rng`.
    pub fn p521(rng: &mut Drbg) -> Self {
        let secret = p521::ecdsa::SigningKey::try_generate_from_rng(rng).expect("infallible");
        let point = secret.verifying_key().to_sec1_point(false);
        Self::from_sec1(EcSecret::P521(secret), point.as_bytes(), 66)
    }

    fn from_sec1(secret: EcSecret, bytes: &[u8], len: usize) -> Self {
        assert_eq!(bytes.len(), 1 + 2 * len, "uncompressed SEC1 point");
        Self {
            secret,
            x: bytes[1..=len].to_vec(),
            y: bytes[1 + len..].to_vec(),
        }
    }

    /// The JWK `crv`.
    pub fn crv(&self) -> &'static str {
        match self.secret {
            EcSecret::P384(_) => "P-384",
            EcSecret::P521(_) => "P-521",
        }
    }

    /// The one algorithm of the curve (RFC 7518 §3.4).
    pub fn alg(&self) -> Alg {
        match self.secret {
            EcSecret::P384(_) => Alg::Es384,
            EcSecret::P521(_) => Alg::Es512,
        }
    }

    /// The affine coordinates, each the curve's full length, big-endian.
    pub fn x(&self) -> &[u8] {
        &self.x
    }

    pub fn y(&self) -> &[u8] {
        &self.y
    }

    /// ES384 (SHA-384) or ES512 (SHA-512): `r ‖ s` of 96 or 132 bytes, RFC 6979 nonces.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.secret {
            EcSecret::P384(key) => {
                let signature: p384::ecdsa::Signature = key.sign(message);
                signature.to_bytes().to_vec()
            }
            EcSecret::P521(key) => {
                let signature: p521::ecdsa::Signature = key.sign(message);
                signature.to_bytes().to_vec()
            }
        }
    }
}

/// An Ed25519 key pair (RFC 8032).
pub struct Ed25519Key {
    secret: ed25519_dalek::SigningKey,
    x: [u8; 32],
}

impl Ed25519Key {
    /// The key whose 32-byte private seed is the first 32 bytes of `rng`.
    pub fn generate(rng: &mut Drbg) -> Self {
        let mut seed = [0u8; 32];
        rng.fill(&mut seed);
        let secret = ed25519_dalek::SigningKey::from_bytes(&seed);
        Self {
            x: secret.verifying_key().to_bytes(),
            secret,
        }
    }

    /// The 32-byte public key (RFC 8032 §5.1.5 encoding), the JWK `x`.
    pub fn x(&self) -> &[u8; 32] {
        &self.x
    }

    /// The 64-byte Ed25519 signature (deterministic).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        ed25519_dalek::Signer::sign(&self.secret, message).to_bytes()
    }

    /// `R ‖ S` with `R` the small-order point encoded as `r` and `S = k·a mod L`, where
    /// `k = SHA-512(R ‖ A ‖ message)` and `a` is the secret scalar (RFC 8032 §5.1.6). Then
    /// `[S]B = [k]A`, so the cofactored equation `[8][S]B = [8]R + [8][k]A` holds (`[8]R` is
    /// the identity); the cofactorless `[S]B = R + [k]A` holds only if `R` is the identity.
    pub fn sign_with_small_order_r(&self, r: [u8; 32], message: &[u8]) -> [u8; 64] {
        let mut hash = Sha512::new();
        hash.update(r);
        hash.update(self.x);
        hash.update(message);
        let k = Scalar::from_bytes_mod_order_wide(&hash.finalize().into());
        let s = k * self.secret.to_scalar();
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&r);
        out[32..].copy_from_slice(&s.to_bytes());
        // Check the construction with ed25519-dalek's lenient (cofactorless, no small-order
        // check) and strict verification.
        let signature = ed25519_dalek::Signature::from_bytes(&out);
        let public = self.secret.verifying_key();
        let lenient = ed25519_dalek::Verifier::verify(&public, message, &signature).is_ok();
        assert_eq!(lenient, r == IDENTITY, "cofactorless equation");
        assert!(public.verify_strict(message, &signature).is_err());
        out
    }
}

/// The Ed25519 encoding of the identity point `(0, 1)`.
const IDENTITY: [u8; 32] = {
    let mut b = [0u8; 32];
    b[0] = 1;
    b
};

/// An RSA key pair with `e = 65537`, built from fixed primes.
pub struct RsaKey {
    secret: RsaPrivateKey,
    n: Vec<u8>,
    e: Vec<u8>,
    seed: u64,
}

impl RsaKey {
    /// The key of `primes`; PSS salts are drawn from streams of `seed`.
    pub fn new(primes: &RsaPrimes, seed: u64) -> Self {
        let p = BoxedUint::from_be_slice_vartime(&crate::jose::hex(primes.p));
        let q = BoxedUint::from_be_slice_vartime(&crate::jose::hex(primes.q));
        let secret =
            RsaPrivateKey::from_p_q(p, q, BoxedUint::from(65_537u64)).expect("valid RSA primes");
        let key = Self {
            e: secret.e_bytes().to_vec(),
            n: secret.n_bytes().to_vec(),
            secret,
            seed,
        };
        assert_eq!(key.bits(), primes.bits, "{}: modulus size", primes.label);
        key
    }

    /// A fresh key of `bits` drawn from `rng`, as `rsa_keys.rs` was made: its primes `(p, q)`
    /// as big-endian bytes.
    pub fn generate_primes(rng: &mut Drbg, bits: usize) -> (Vec<u8>, Vec<u8>) {
        let key = RsaPrivateKey::new(rng, bits).expect("RSA key generation");
        let primes = key.primes();
        assert_eq!(primes.len(), 2);
        let bytes = |i: usize| primes[i].as_ref().to_be_bytes_trimmed_vartime().to_vec();
        (bytes(0), bytes(1))
    }

    /// The private key (for RSA-OAEP encryption to it and its private JWK members).
    pub fn secret(&self) -> &RsaPrivateKey {
        &self.secret
    }

    /// The modulus, big-endian without leading zeros (the JWK `n`).
    pub fn n(&self) -> &[u8] {
        &self.n
    }

    /// The public exponent, big-endian without leading zeros (the JWK `e`).
    pub fn e(&self) -> &[u8] {
        &self.e
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.n.len() * 8 - self.n[0].leading_zeros() as usize
    }

    /// An RS* (RSASSA-PKCS1-v1_5) or PS* (RSASSA-PSS, MGF1 with the same hash, salt as long as
    /// the hash: RFC 7518 §3.5) signature, as long as the modulus.
    pub fn sign(&self, alg: Alg, message: &[u8]) -> Vec<u8> {
        self.sign_variant(alg, message, "")
    }

    /// [`sign`](Self::sign) with the generator's stream also named by `variant`: another PSS
    /// salt for the same message.
    pub fn sign_variant(&self, alg: Alg, message: &[u8], variant: &str) -> Vec<u8> {
        // The `rsa` crate blinds private-key operations with this generator (which does not
        // change a PKCS#1 v1.5 signature) and draws PSS salts from it. One stream per message
        // and algorithm: every signature is a function of the seed and what it signs.
        let rng = &mut self.stream(alg, message, variant);
        let key = &self.secret;
        let signature = match alg {
            Alg::Rs256 => key.pkcs1v15_sign_with_rng::<Sha256, _>(rng, message),
            Alg::Rs384 => key.pkcs1v15_sign_with_rng::<Sha384, _>(rng, message),
            Alg::Rs512 => key.pkcs1v15_sign_with_rng::<Sha512, _>(rng, message),
            Alg::Ps256 => key.pss_sign_with_rng::<Sha256, _>(rng, message),
            Alg::Ps384 => key.pss_sign_with_rng::<Sha384, _>(rng, message),
            Alg::Ps512 => key.pss_sign_with_rng::<Sha512, _>(rng, message),
            other => panic!("{} is not an RSA algorithm", other.name()),
        }
        .expect("RSA signing");
        assert_eq!(signature.len(), self.n.len());
        signature
    }

    /// An RSASSA-PSS signature with SHA-256 and MGF1-SHA-256 but a salt of `salt_len` bytes
    /// (PS256 requires 32).
    pub fn sign_pss256_with_salt_len(&self, message: &[u8], salt_len: usize) -> Vec<u8> {
        use rsa::signature::{RandomizedSigner, SignatureEncoding};
        let rng = &mut self.stream(Alg::Ps256, message, &format!("/salt-{salt_len}"));
        let key = rsa::pss::SigningKey::<Sha256>::new_with_salt_len(self.secret.clone(), salt_len);
        key.try_sign_with_rng(rng, message)
            .expect("RSA signing")
            .to_vec()
    }

    fn stream(&self, alg: Alg, message: &[u8], variant: &str) -> Drbg {
        let label = format!("rsa-sign/{}/{}{variant}", alg.name(), b64(&sha256(message)));
        Drbg::new(self.seed, &label)
    }
}

/// Any signing key of the generator.
#[derive(Clone, Copy)]
pub enum AnyKey<'a> {
    P256(&'a Key),
    Ec(&'a EcKey),
    Ed25519(&'a Ed25519Key),
    Rsa(&'a RsaKey),
}

impl AnyKey<'_> {
    /// The signature over `message` with `alg`, which must fit the key (a generator bug
    /// otherwise).
    pub fn sign(self, alg: Alg, message: &[u8]) -> Vec<u8> {
        match (self, alg) {
            (Self::P256(key), Alg::Es256) => key.sign_es256(message).to_vec(),
            (Self::Ec(key), alg) if alg == key.alg() => key.sign(message),
            (Self::Ed25519(key), Alg::Ed25519 | Alg::EdDsa) => key.sign(message).to_vec(),
            (Self::Rsa(key), alg) => key.sign(alg, message),
            (_, alg) => panic!("{} does not fit the key", alg.name()),
        }
    }
}

/// The primes of one fixed RSA key (hex, big-endian) and how they were made.
pub struct RsaPrimes {
    /// The stream the key was drawn from, under [`DEFAULT_SEED`].
    pub label: &'static str,
    /// The modulus size.
    pub bits: usize,
    pub p: &'static str,
    pub q: &'static str,
}

/// Every fixed RSA key: the constant's name in `rsa_keys.rs`, its stream label, its size.
pub const RSA_KEYS: &[(&str, &str, usize)] = &[
    ("CLIENT_2048", "key/rsa/client-2048", 2048),
    ("ISSUER_RS256_2048", "key/rsa/issuer-rs256-2048", 2048),
    ("ISSUER_PS256_2048", "key/rsa/issuer-ps256-2048", 2048),
    ("WEAK_1024", "key/rsa/weak-1024", 1024),
    ("LARGE_4096", "key/rsa/large-4096", 4096),
    ("HUGE_8192", "key/rsa/huge-8192", 8192),
];

/// The text of `rsa_keys.rs`: every key of [`RSA_KEYS`] generated afresh from its stream
/// under [`DEFAULT_SEED`] with `rsa::PrivateKey::new` (`generate_vectors --rsa-keys`).
pub fn rsa_keys_source() -> String {
    let hex = |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
    let mut out = String::from(RSA_KEYS_HEADER);
    for (name, label, bits) in RSA_KEYS {
        let (p, q) = RsaKey::generate_primes(&mut Drbg::new(DEFAULT_SEED, label), *bits);
        out.push_str(&format!(
            "\npub const {name}: RsaPrimes = RsaPrimes {{\n    label: {label:?},\n    bits: {bits},\n    p: \"{}\",\n    q: \"{}\",\n}};\n",
            hex(&p),
            hex(&q)
        ));
    }
    out
}

const RSA_KEYS_HEADER: &str = "\
//! Fixed RSA keys of the generator. Generating them takes about 20 s (most of it the 8192-bit
//! key), too slow to redo each time `tests/vectors.rs` regenerates the suite, so their primes
//! were generated once and are kept here; `n`, `d` and the CRT values are derived from them.
//!
//! Made by `cargo run --example generate_vectors -- --rsa-keys > rsa_keys.rs`, which draws
//! each key from its stream (`drbg.rs`) under the default seed 9449 with
//! `rsa::PrivateKey::new` (`rsa` 0.10.0, `crypto-primes` 0.7.2, `crypto-bigint` 0.7.11, as in
//! `Cargo.lock`; e = 65537) and prints this file; run it again and diff to check. Do not edit
//! by hand. The same keys are used whatever seed the suite is generated with.

use crate::keys::RsaPrimes;
";
