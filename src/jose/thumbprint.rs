//! JWK thumbprints (RFC 7638) and the `ath` token hash (RFC 9449 §4.2).

use core::fmt;
use core::str::FromStr;

use sha2::{Digest, Sha256};

use crate::error::JoseError;
use crate::jose::base64url;

/// The RFC 7638 SHA-256 thumbprint of an EC P-256 public key: the value of `cnf.jkt`
/// (RFC 9449 §6.1) and `dpop_jkt` (§10).
///
/// Computed over the canonical members `{"crv":"P-256","kty":"EC","x":…,"y":…}` (RFC 7638 §3.2,
/// members in lexicographic order, no whitespace). `Display` gives the base64url form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Thumbprint([u8; 32]);

impl Thumbprint {
    /// Computes the thumbprint of the public point (`x`, `y`), each 32 big-endian bytes.
    pub(crate) fn of_p256(x: &[u8; 32], y: &[u8; 32]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(br#"{"crv":"P-256","kty":"EC","x":""#);
        hasher.update(base64url::encode(x).as_bytes());
        hasher.update(br#"","y":""#);
        hasher.update(base64url::encode(y).as_bytes());
        hasher.update(br#""}"#);
        Self(hasher.finalize().into())
    }

    /// Wraps a raw 32-byte SHA-256 thumbprint.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw 32 digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses the base64url form (43 characters, strict).
    pub fn from_base64url(text: &str) -> Result<Self, JoseError> {
        base64url::decode_array(text).map(Self)
    }

    /// The base64url form, as it appears in `cnf.jkt`.
    pub fn to_base64url(&self) -> String {
        base64url::encode(&self.0)
    }
}

impl FromStr for Thumbprint {
    type Err = JoseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_base64url(s)
    }
}

impl fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64url())
    }
}

impl fmt::Debug for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Thumbprint({self})")
    }
}

/// The SHA-256 hash of an access token: `ath` in a DPoP proof (RFC 9449 §4.2) is its base64url
/// form, and the verified-token cache uses it as key, so a server hashes each token once.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Hashes the ASCII bytes of `access_token`.
    pub fn of(access_token: &str) -> Self {
        Self(Sha256::digest(access_token.as_bytes()).into())
    }

    /// The raw 32 digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The base64url form: the `ath` claim value.
    pub fn to_base64url(&self) -> String {
        base64url::encode(&self.0)
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({})", self.to_base64url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_text_round_trip() {
        let t = Thumbprint::from_bytes([9; 32]);
        assert_eq!(t.to_string().len(), 43);
        assert_eq!(t.to_string().parse::<Thumbprint>().unwrap(), t);
        assert!("abc".parse::<Thumbprint>().is_err());
        assert!(format!("{t:?}").starts_with("Thumbprint("));
    }

    #[test]
    fn rfc9449_ath_example() {
        // RFC 9449 §7.1: the example token and its ath.
        let hash = TokenHash::of("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU");
        assert_eq!(
            hash.to_base64url(),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }
}
