//! JWK thumbprints (RFC 7638) and the `ath` token hash (RFC 9449 §4.2).

use core::fmt;
use core::str::FromStr;

use sha2::{Digest, Sha256};

use crate::error::JoseError;
use crate::jose::base64url;

/// The RFC 7638 SHA-256 thumbprint of a public key: the value of `cnf.jkt` (RFC 9449 §6.1) and
/// `dpop_jkt` (§10).
///
/// Computed over the key's required members only, in lexicographic order and without
/// whitespace (RFC 7638 §3.2): EC `{"crv","kty","x","y"}`, OKP `{"crv","kty","x"}`
/// (RFC 8037 §2), RSA `{"e","kty","n"}`. `Display` gives the base64url form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Thumbprint([u8; 32]);

impl Thumbprint {
    /// The thumbprint of an EC key on `crv` with coordinates `x`, `y` (big-endian, each the
    /// curve's full coordinate length).
    pub(crate) fn of_ec(crv: &str, x: &[u8], y: &[u8]) -> Self {
        Self::of_members(&[
            ("crv", crv),
            ("kty", "EC"),
            ("x", &base64url::encode(x)),
            ("y", &base64url::encode(y)),
        ])
    }

    /// The thumbprint of an OKP key (`crv` `Ed25519`) with public bytes `x`.
    pub(crate) fn of_okp(crv: &str, x: &[u8]) -> Self {
        Self::of_members(&[("crv", crv), ("kty", "OKP"), ("x", &base64url::encode(x))])
    }

    /// The thumbprint of an RSA key with modulus `n` and exponent `e` (big-endian, no leading
    /// zero octets: RFC 7518 §6.3.1.1).
    pub(crate) fn of_rsa(n: &[u8], e: &[u8]) -> Self {
        Self::of_members(&[
            ("e", &base64url::encode(e)),
            ("kty", "RSA"),
            ("n", &base64url::encode(n)),
        ])
    }

    /// SHA-256 of `{"name":"value",…}` for members already in lexicographic order whose
    /// values need no JSON escaping (base64url text and registered names).
    fn of_members(members: &[(&str, &str)]) -> Self {
        let mut hasher = Sha256::new();
        for (i, (name, value)) in members.iter().enumerate() {
            hasher.update(if i == 0 { "{\"" } else { ",\"" });
            hasher.update(name.as_bytes());
            hasher.update("\":\"");
            hasher.update(value.as_bytes());
            hasher.update("\"");
        }
        hasher.update("}");
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
    fn rfc7638_rsa_example() {
        // RFC 7638 §3.1: the RSA key and its thumbprint.
        let n = base64url::decode(concat!(
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs",
            "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n",
            "91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ))
        .unwrap();
        let e = base64url::decode("AQAB").unwrap();
        assert_eq!(
            Thumbprint::of_rsa(&n, &e).to_base64url(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn rfc8037_ed25519_example() {
        // RFC 8037 §A.3: the Ed25519 key of §A.1 and its thumbprint.
        let x = base64url::decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo").unwrap();
        assert_eq!(
            Thumbprint::of_okp("Ed25519", &x).to_base64url(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
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
