//! Key management (RFC 7518 §4.3, §4.6, RFC 8037 §3.2): RSA-OAEP-256 and ECDH-ES (direct or
//! with AES key wrap) on P-256, P-384 and X25519, with the Concat KDF of RFC 7518 §4.6.2.

use zeroize::Zeroizing;

use crate::error::JweError;

/// An `alg` value this crate supports for JWE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum KeyManagement {
    EcdhEs,
    EcdhEsA128Kw,
    EcdhEsA256Kw,
    RsaOaep256,
}

/// A recipient's private key for decryption.
pub(crate) enum RecipientPrivateKey {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    X25519(x25519_dalek::StaticSecret),
    Rsa(Box<rsa::PrivateKey>),
}

/// A recipient's public key for encryption.
#[derive(Clone)]
pub(crate) enum RecipientPublicKey {
    P256(p256::PublicKey),
    P384(p384::PublicKey),
    X25519(x25519_dalek::PublicKey),
    Rsa(Box<rsa::PublicKey>),
}

/// What the sender puts in the header and the encrypted-key segment.
pub(crate) struct Wrapped {
    /// The content encryption key (zeroized on drop).
    pub(crate) cek: Zeroizing<Vec<u8>>,
    /// The JWE Encrypted Key segment: empty for direct `ECDH-ES`.
    pub(crate) encrypted_key: Vec<u8>,
    /// The `epk` header member (a public JWK as JSON), for the ECDH-ES family.
    pub(crate) epk: Option<serde_json::Value>,
}

impl KeyManagement {
    /// The `alg` name's algorithm, if supported (refusals are the caller's job).
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        todo!("helper: {name}")
    }

    /// The registered `alg` name.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::EcdhEs => "ECDH-ES",
            Self::EcdhEsA128Kw => "ECDH-ES+A128KW",
            Self::EcdhEsA256Kw => "ECDH-ES+A256KW",
            Self::RsaOaep256 => "RSA-OAEP-256",
        }
    }

    /// Makes a content encryption key of `cek_len` bytes for `recipient` (from the OS RNG) and
    /// wraps it. For direct `ECDH-ES` the derived key is the CEK, with `AlgorithmID` = `enc`
    /// (passed as `enc_name`); for the key-wrap variants `AlgorithmID` = this `alg`.
    /// `apu`/`apv` are the decoded `apu`/`apv` header values (empty when absent).
    pub(crate) fn wrap(
        self,
        recipient: &RecipientPublicKey,
        enc_name: &str,
        cek_len: usize,
        apu: &[u8],
        apv: &[u8],
    ) -> Result<Wrapped, JweError> {
        todo!(
            "helper: {enc_name}{cek_len}{apu:?}{apv:?}{}",
            recipient.is_rsa()
        )
    }

    /// Recovers the content encryption key (exactly `cek_len` bytes). `epk` is the header's
    /// `epk` member (required for the ECDH-ES family: a public JWK on the recipient key's curve,
    /// validated — on the curve, not the identity; X25519: an all-zero shared secret refused),
    /// `apu`/`apv` decoded (bounded by the caller), `encrypted_key` the decoded segment (must be
    /// empty for direct `ECDH-ES`). Every failure is [`JweError::DecryptionFailed`], except a
    /// key that does not fit `alg` (an RSA key for ECDH-ES, a P-256 key with a P-384 `epk`):
    /// [`JweError::NoKey`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn unwrap(
        self,
        recipient: &RecipientPrivateKey,
        enc_name: &str,
        cek_len: usize,
        epk: Option<&serde_json::Value>,
        apu: &[u8],
        apv: &[u8],
        encrypted_key: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, JweError> {
        todo!(
            "helper: {enc_name}{cek_len}{epk:?}{apu:?}{apv:?}{encrypted_key:?}{}",
            matches!(recipient, RecipientPrivateKey::Rsa(_))
        )
    }
}

impl RecipientPublicKey {
    fn is_rsa(&self) -> bool {
        matches!(self, Self::Rsa(_))
    }
}
