//! The fixed world every case lives in: times, URLs, names, and the keys derived from the seed.

use crate::drbg::Drbg;
use crate::jose::b64;
use crate::keys::{EcKey, Ed25519Key, Key, RsaKey};
use crate::rsa_keys;

/// The verifier's clock in every case unless the case says otherwise (2023-11-14T22:13:20Z).
pub const NOW: u64 = 1_700_000_000;
/// The authorization server's token endpoint (proof-only cases).
pub const TOKEN_URL: &str = "https://server.example.com/token";
/// A protected resource.
pub const API_URL: &str = "https://api.example.com/orders";
/// The access-token issuer.
pub const ISSUER: &str = "https://as.example.com";
/// The resource server's audience name.
pub const AUDIENCE: &str = "https://api.example.com";
pub const SUBJECT: &str = "alice";
pub const CLIENT_ID: &str = "my-app";
pub const SCOPE: &str = "orders:read";
/// The server nonce of the RFC 9449 §8 example.
pub const NONCE: &str = "eyJ7S_zG.eyJH0-Z.HX4w-7v";
/// Default proof window: `iat` at most this old …
pub const MAX_AGE: u64 = 60;
/// … with this clock leeway in both directions.
pub const LEEWAY: u64 = 5;
/// Default access-token clock leeway.
pub const TOKEN_LEEWAY: u64 = 5;
/// Longest accepted access-token lifetime (`exp − iat`).
pub const TOKEN_MAX_LIFETIME: u64 = 3600;
/// An opaque access token for proof-only `ath` cases.
pub const OPAQUE_TOKEN: &str = "vectors-opaque-access-token.c2lnbmF0dXJl";

/// Every key the cases use, each from its own stream of the seed.
pub struct Fixtures {
    pub seed: u64,
    /// The legitimate client's DPoP key.
    pub client: Key,
    /// An attacker's DPoP key.
    pub thief: Key,
    /// Another key, for "signed by a key other than the one in `jwk`".
    pub other: Key,
    /// The issuer's token-signing key.
    pub issuer: Key,
    /// The issuer's second (retired) key, published too.
    pub issuer2: Key,
    /// A key the issuer never published.
    pub rogue: Key,
    /// The client's DPoP keys of the other families (`key/client-p384`, `key/client-p521`,
    /// `key/client-ed25519`; RSA: the fixed 2048-bit key of `rsa_keys.rs`).
    pub client_p384: EcKey,
    pub client_p521: EcKey,
    pub client_ed25519: Ed25519Key,
    pub client_rsa: RsaKey,
    /// The issuer's RSA token-signing keys, published with `alg` RS256 and PS256.
    pub issuer_rs256: RsaKey,
    pub issuer_ps256: RsaKey,
    /// RSA keys of the sizes at and beyond the limits: 1024 bits (below any minimum), 4096
    /// (the largest proof key) and 8192 bits.
    pub rsa_1024: RsaKey,
    pub rsa_4096: RsaKey,
    pub rsa_8192: RsaKey,
}

impl Fixtures {
    pub fn new(seed: u64) -> Self {
        let key = |name: &str| Key::generate(&mut Drbg::new(seed, &format!("key/{name}")));
        Self {
            seed,
            client: key("client"),
            thief: key("thief"),
            other: key("other"),
            issuer: key("issuer"),
            issuer2: key("issuer2"),
            rogue: key("rogue"),
            client_p384: EcKey::p384(&mut Drbg::new(seed, "key/client-p384")),
            client_p521: EcKey::p521(&mut Drbg::new(seed, "key/client-p521")),
            client_ed25519: Ed25519Key::generate(&mut Drbg::new(seed, "key/client-ed25519")),
            client_rsa: RsaKey::new(&rsa_keys::CLIENT_2048, seed),
            issuer_rs256: RsaKey::new(&rsa_keys::ISSUER_RS256_2048, seed),
            issuer_ps256: RsaKey::new(&rsa_keys::ISSUER_PS256_2048, seed),
            rsa_1024: RsaKey::new(&rsa_keys::WEAK_1024, seed),
            rsa_4096: RsaKey::new(&rsa_keys::LARGE_4096, seed),
            rsa_8192: RsaKey::new(&rsa_keys::HUGE_8192, seed),
        }
    }

    /// A 128-bit `jti` for the proof or token of case `id` (`n` tells several apart).
    pub fn jti(&self, id: &str, n: u32) -> String {
        b64(&Drbg::bytes::<16>(self.seed, &format!("jti/{id}/{n}")))
    }
}
