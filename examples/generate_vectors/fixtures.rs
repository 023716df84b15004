//! The fixed world every case lives in: times, URLs, names, and the keys derived from the seed.

use crate::drbg::Drbg;
use crate::jose::b64;
use crate::keys::Key;

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
        }
    }

    /// A 128-bit `jti` for the proof or token of case `id` (`n` tells several apart).
    pub fn jti(&self, id: &str, n: u32) -> String {
        b64(&Drbg::bytes::<16>(self.seed, &format!("jti/{id}/{n}")))
    }
}
