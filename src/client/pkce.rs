//! Proof Key for Code Exchange with `S256`
//! ([RFC 7636](https://www.rfc-editor.org/rfc/rfc7636)): the secret a client keeps between
//! the authorization request and the token request.

use rand_core::TryCryptoRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::jose::base64url;

/// Random bytes in a generated verifier: 256 bits, the entropy
/// [RFC 7636 §7.1](https://www.rfc-editor.org/rfc/rfc7636#section-7.1) asks for; base64url
/// makes them 43 characters, the shortest verifier §4.1 allows.
const VERIFIER_BYTES: usize = 32;

/// Shortest and longest `code_verifier`
/// ([RFC 7636 §4.1](https://www.rfc-editor.org/rfc/rfc7636#section-4.1)).
const VERIFIER_LEN: core::ops::RangeInclusive<usize> = 43..=128;

/// A PKCE `code_verifier` ([RFC 7636 §4.1](https://www.rfc-editor.org/rfc/rfc7636#section-4.1))
/// and the `S256` `code_challenge` derived from it (§4.2).
///
/// Send [`challenge`](Self::challenge) in the authorization request (or the pushed
/// authorization request) and the verifier itself in the token request
/// ([`Grant::authorization_code`](crate::Grant::authorization_code)). The verifier is a secret:
/// it is zeroized on drop and `Debug` does not print it. Only `S256` is offered; `plain`
/// gives no protection against an intercepted authorization request.
///
/// ```
/// use keybound::PkceVerifier;
///
/// let verifier = PkceVerifier::generate()?;
/// assert_eq!(verifier.as_str().len(), 43);
/// assert_eq!(PkceVerifier::METHOD, "S256");
/// // Kept across the redirect (in a server-side session), then read back:
/// let again = PkceVerifier::from_secret(verifier.as_str().to_owned())?;
/// assert_eq!(again.challenge(), verifier.challenge());
/// # Ok::<(), keybound::Error>(())
/// ```
pub struct PkceVerifier {
    verifier: Zeroizing<String>,
}

impl PkceVerifier {
    /// The `code_challenge_method` this type produces.
    pub const METHOD: &'static str = "S256";

    /// A fresh verifier of 256 bits from the operating system's generator.
    ///
    /// Errors: [`Error::Randomness`] if the generator fails.
    pub fn generate() -> Result<Self, Error> {
        Self::generate_with_rng(&mut getrandom::SysRng)
    }

    /// A fresh verifier of 256 bits drawn from `rng`.
    ///
    /// Errors: [`Error::Randomness`] if `rng` fails.
    pub fn generate_with_rng<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        let mut random = Zeroizing::new([0u8; VERIFIER_BYTES]);
        rng.try_fill_bytes(&mut random[..])
            .map_err(|_| Error::Randomness)?;
        Ok(Self {
            verifier: Zeroizing::new(base64url::encode(&random[..])),
        })
    }

    /// A verifier kept from earlier (e.g. in a session between the redirect and the callback).
    ///
    /// Errors: [`Error::InvalidArgument`]`("code_verifier")` unless it is 43 to 128 characters
    /// of `A-Z a-z 0-9 - . _ ~` (RFC 7636 §4.1).
    pub fn from_secret(verifier: String) -> Result<Self, Error> {
        let verifier = Zeroizing::new(verifier);
        let unreserved = verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !unreserved || !VERIFIER_LEN.contains(&verifier.len()) {
            return Err(Error::InvalidArgument("code_verifier"));
        }
        Ok(Self { verifier })
    }

    /// The verifier, for the token request (and for keeping it across the redirect).
    pub fn as_str(&self) -> &str {
        &self.verifier
    }

    /// `BASE64URL(SHA256(ASCII(code_verifier)))`, the `S256` `code_challenge` (RFC 7636 §4.2).
    pub fn challenge(&self) -> String {
        base64url::encode(&Sha256::digest(self.verifier.as_bytes()))
    }
}

impl core::fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PkceVerifier { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let verifier =
            PkceVerifier::from_secret("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into())
                .unwrap();
        assert_eq!(
            verifier.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_verifiers_are_43_unreserved_chars_and_differ() {
        let a = PkceVerifier::generate().unwrap();
        let b = PkceVerifier::generate().unwrap();
        assert_eq!(a.as_str().len(), 43);
        assert!(PkceVerifier::from_secret(a.as_str().to_owned()).is_ok());
        assert_ne!(a.as_str(), b.as_str());
        assert_eq!(a.challenge().len(), 43);
    }

    #[test]
    fn refuses_short_long_and_reserved_verifiers() {
        for bad in [
            "a".repeat(42),
            "a".repeat(129),
            format!("{}+", "a".repeat(42)),
            format!("{}=", "a".repeat(42)),
            format!("{} ", "a".repeat(42)),
            format!("{}é", "a".repeat(42)),
        ] {
            assert_eq!(
                PkceVerifier::from_secret(bad.clone()).err(),
                Some(Error::InvalidArgument("code_verifier")),
                "{bad:?}"
            );
        }
        assert!(PkceVerifier::from_secret("a".repeat(43)).is_ok());
        assert!(PkceVerifier::from_secret("-._~".repeat(32)).is_ok());
    }

    #[test]
    fn debug_is_redacted() {
        let verifier = PkceVerifier::generate().unwrap();
        assert_eq!(format!("{verifier:?}"), "PkceVerifier { .. }");
    }
}
