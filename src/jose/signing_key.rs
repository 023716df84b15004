//! EC P-256 private keys that sign DPoP proofs and access tokens.

use core::fmt;

use p256::ecdsa::signature::Signer;
use p256::ecdsa::Signature;
use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use crate::error::{Error, JoseError, KeyError};
use crate::jose::base64url;
use crate::jose::es256_backend::SignKey;
use crate::jose::json;
use crate::jose::jwk::{self, KeyRole};
use crate::jose::public_key::PublicKey;
use crate::jose::thumbprint::Thumbprint;

/// Largest private JWK text accepted by [`SigningKey::from_jwk`].
const MAX_JWK_LEN: usize = 4096;

/// An EC P-256 private key for ES256.
///
/// The secret scalar is zeroized when the key is dropped and never printed: `Debug` shows
/// `SigningKey { .. }`. Export it only through [`SigningKey::to_jwk`], which returns a
/// [`Zeroizing`] string.
pub struct SigningKey {
    secret: p256::ecdsa::SigningKey,
    public: PublicKey,
    backend: SignKey,
}

impl SigningKey {
    /// Generates a new key from the operating system's random number generator.
    pub fn generate() -> Result<Self, Error> {
        Self::generate_with_rng(&mut getrandom::SysRng)
    }

    /// Generates a new key from `rng`.
    pub fn generate_with_rng<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        use p256::elliptic_curve::Generate;
        let secret =
            p256::ecdsa::SigningKey::try_generate_from_rng(rng).map_err(|_| Error::Randomness)?;
        Ok(Self::from_secret(secret)?)
    }

    fn from_secret(secret: p256::ecdsa::SigningKey) -> Result<Self, KeyError> {
        let public = PublicKey::from_verifying_key(secret.verifying_key())?;
        let backend = SignKey::new(&secret, &public.sec1()).ok_or(KeyError::InvalidPrivateKey)?;
        Ok(Self {
            secret,
            public,
            backend,
        })
    }

    /// Reads a private JWK `{"kty":"EC","crv":"P-256","x":…,"y":…,"d":…}`.
    ///
    /// `d` must be 32 bytes in `[1, n)` and `x`/`y` must be its public point. `alg` (if present)
    /// must be `ES256`, `use` `sig`, and `key_ops` must include `sign`.
    pub fn from_jwk(jwk: &str) -> Result<Self, KeyError> {
        if jwk.len() > MAX_JWK_LEN {
            return Err(KeyError::Malformed(JoseError::Json));
        }
        let object = json::parse_object(jwk.as_bytes(), json::DEFAULT_MAX_DEPTH)
            .map_err(KeyError::Malformed)?;
        let ec = jwk::read_ec(&object, KeyRole::Sign)?;
        let d = ec.d.ok_or(KeyError::MissingMember("d"))?;
        let scalar = Zeroizing::new(
            base64url::decode_array::<32>(d).map_err(|_| KeyError::InvalidPrivateKey)?,
        );
        let secret = p256::ecdsa::SigningKey::from_slice(scalar.as_slice())
            .map_err(|_| KeyError::InvalidPrivateKey)?;
        let key = Self::from_secret(secret)?;
        if key.public.x() != &ec.x || key.public.y() != &ec.y {
            return Err(KeyError::InvalidPrivateKey);
        }
        Ok(key)
    }

    /// The private JWK `{"kty":"EC","crv":"P-256","x":…,"y":…,"d":…}`, in memory that is
    /// zeroized on drop. Treat it as the secret it is.
    pub fn to_jwk(&self) -> Zeroizing<String> {
        let d = Zeroizing::new(self.secret.to_bytes());
        let d_text = Zeroizing::new(base64url::encode(d.as_slice()));
        let public = self.public.to_jwk();
        // `public` ends with `"}`; insert `,"d":…` before the closing brace.
        let mut out = Zeroizing::new(String::with_capacity(public.len() + 52));
        out.push_str(&public[..public.len() - 1]);
        out.push_str(r#","d":""#);
        out.push_str(&d_text);
        out.push_str(r#""}"#);
        out
    }

    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The RFC 7638 thumbprint of the public half.
    pub fn thumbprint(&self) -> Thumbprint {
        self.public.thumbprint()
    }

    /// Signs `message` with ES256 and returns the 64-byte `r ‖ s` JWS signature (with the
    /// default backend, RFC 6979 deterministic nonces).
    pub fn sign_es256(&self, message: &[u8]) -> [u8; 64] {
        self.backend.sign(&self.secret, message).unwrap_or_else(|| {
            // The backend refused (cannot happen for a validated key); sign with `p256`.
            let signature: Signature = self.secret.sign(message);
            signature.to_bytes().into()
        })
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let key = SigningKey::generate().unwrap();
        assert_eq!(format!("{key:?}"), "SigningKey { .. }");
        assert_eq!(format!("{key:#?}"), "SigningKey { .. }");
    }

    #[test]
    fn private_jwk_round_trip() {
        let key = SigningKey::generate().unwrap();
        let jwk = key.to_jwk();
        let again = SigningKey::from_jwk(&jwk).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let public = PublicKey::from_jwk(&key.public_key().to_jwk()).unwrap();
        assert_eq!(&public, key.public_key());
        // The private JWK is refused where a public key belongs.
        assert_eq!(PublicKey::from_jwk(&jwk), Err(KeyError::PrivateKey));
    }

    #[test]
    fn signature_verifies_and_binds_message() {
        let key = SigningKey::generate().unwrap();
        let sig = key.sign_es256(b"hello");
        assert_eq!(key.public_key().verify_es256(b"hello", &sig), Ok(()));
        assert_eq!(
            key.public_key().verify_es256(b"hellp", &sig),
            Err(JoseError::InvalidSignature)
        );
        assert_eq!(
            key.public_key().verify_es256(b"hello", &sig[..63]),
            Err(JoseError::SignatureLength)
        );
    }

    #[test]
    fn private_key_must_match_public_point() {
        let a = SigningKey::generate().unwrap();
        let b = SigningKey::generate().unwrap();
        let a_jwk = a.to_jwk();
        let b_public = b.public_key().to_jwk();
        let d_part = &a_jwk[a_jwk.find(r#","d":"#).unwrap()..];
        let mixed = format!("{}{}", &b_public[..b_public.len() - 1], d_part);
        assert_eq!(
            SigningKey::from_jwk(&mixed).err(),
            Some(KeyError::InvalidPrivateKey)
        );
    }

    #[test]
    fn private_scalar_out_of_range_is_refused() {
        let key = SigningKey::generate().unwrap();
        let public = key.public_key().to_jwk();
        for d in [[0u8; 32], [0xff; 32]] {
            let jwk = format!(
                r#"{},"d":"{}"}}"#,
                &public[..public.len() - 1],
                base64url::encode(&d)
            );
            assert_eq!(
                SigningKey::from_jwk(&jwk).err(),
                Some(KeyError::InvalidPrivateKey)
            );
        }
    }
}
