//! Content encryption (RFC 7518 §5): AES-GCM and AES-CBC with HMAC-SHA-2.

use zeroize::Zeroizing;

use crate::error::JweError;

/// An `enc` value this crate supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ContentEncryption {
    A128Gcm,
    A256Gcm,
    A128CbcHs256,
    A256CbcHs512,
}

/// What sealing produced: the three JWE segments besides the header and the encrypted key.
pub(crate) struct Sealed {
    pub(crate) ciphertext: Vec<u8>,
    pub(crate) tag: Vec<u8>,
}

impl ContentEncryption {
    /// The `enc` name's algorithm, if supported.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        todo!("helper: {name}")
    }

    /// The registered `enc` name.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::A128Gcm => "A128GCM",
            Self::A256Gcm => "A256GCM",
            Self::A128CbcHs256 => "A128CBC-HS256",
            Self::A256CbcHs512 => "A256CBC-HS512",
        }
    }

    /// The content encryption key's length in bytes: 16, 32, 32, 64.
    pub(crate) const fn key_len(self) -> usize {
        match self {
            Self::A128Gcm => 16,
            Self::A256Gcm | Self::A128CbcHs256 => 32,
            Self::A256CbcHs512 => 64,
        }
    }

    /// The IV's length in bytes: 12 (GCM), 16 (CBC).
    pub(crate) const fn iv_len(self) -> usize {
        match self {
            Self::A128Gcm | Self::A256Gcm => 12,
            Self::A128CbcHs256 | Self::A256CbcHs512 => 16,
        }
    }

    /// Encrypts `plaintext` with `cek` (exactly [`key_len`](Self::key_len) bytes) and `iv`
    /// (exactly [`iv_len`](Self::iv_len) bytes), authenticating `aad` (the ASCII of the
    /// encoded protected header).
    pub(crate) fn seal(
        self,
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Sealed, JweError> {
        todo!("helper: {cek:?}{iv:?}{aad:?}{plaintext:?}")
    }

    /// Decrypts and authenticates. Any failure (lengths, tag, padding) is
    /// [`JweError::DecryptionFailed`]; the tag is compared in constant time and, for CBC, checked
    /// before any decryption (RFC 7518 §5.2.2.2).
    pub(crate) fn open(
        self,
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, JweError> {
        todo!("helper: {cek:?}{iv:?}{aad:?}{ciphertext:?}{tag:?}")
    }
}
