//! The one seam between the JWE layer and its cryptographic primitives, like the signature
//! backend (`src/jose/backend/`): `rust_crypto.rs` for the default backend, `aws_lc.rs` for
//! feature `aws-lc`. This is the only file that knows which one is compiled in.
//!
//! | primitive (RFC 7518)                         | default (RustCrypto)        | `aws-lc` (aws-lc-rs 1.19)            |
//! |----------------------------------------------|-----------------------------|--------------------------------------|
//! | AES-GCM, separate tag (§5.3)                 | `aes-gcm`                   | `aead::LessSafeKey`                  |
//! | AES-CBC with PKCS#7 padding (§5.2.2)         | `aes` + `cbc`               | `cipher::PaddedBlock*Key::cbc_pkcs7` |
//! | HMAC-SHA-256/512, tag checked in constant time (§5.2.2) | `hmac` + `sha2`  | `hmac` + `constant_time`             |
//! | AES Key Wrap, RFC 3394 (§4.4)                | `aes-kw`                    | `key_wrap::KeyEncryptionKey`         |
//! | Concat KDF with SHA-256 (§4.6.2)             | `concat-kdf` (sha2 0.10)    | `kdf::sskdf_digest` (SHA-256)        |
//! | ECDH P-256, P-384; X25519 (§4.6, RFC 8037)   | `p256`, `p384`, `x25519-dalek` | `agreement` (`ECDH_P256`, `ECDH_P384`, `X25519`) |
//! | RSAES-OAEP, SHA-256 and SHA-1 (§4.3)         | `rsa` (blinded, **not** constant-time: RUSTSEC-2023-0071) | `rsa::Oaep*Key` (constant-time) |
//!
//! Every primitive the JWE layer uses is in aws-lc-rs's stable API (no `unstable` feature), so
//! under `aws-lc` all the arithmetic above goes through it. What stays RustCrypto under both
//! backends is key handling, not arithmetic: reading and writing keys (JWK, PEM, PKCS#8),
//! validating a recipient's *public* JWK when an issuer loads it, deriving a public key from a
//! private one, generating `DecryptionKey`s, and the tests' reference computations. Random
//! CEKs, IVs and ephemeral X25519 seeds (default backend) come from the OS through `getrandom`;
//! aws-lc draws its ephemeral ECDH keys and OAEP seeds from its own OS-seeded generator.
//!
//! The callers (`content_encryption.rs`, `key_management.rs`) keep everything that is policy:
//! key and IV lengths, the CBC key split and `AL`, the exact tag length, the order "MAC before
//! decryption", the Concat KDF's `OtherInfo`, the `epk` JWK rules, which curve a key is on, the
//! RSA modulus size and ciphertext length, and the random-CEK substitution. The backends only
//! compute, and give the same answers: every refusal is the same opaque
//! [`JweError::DecryptionFailed`] (or [`JweError::NoKey`] where the caller says so), and the
//! RFC and Wycheproof suites run under both (`tests/data/wycheproof/KNOWN_DIVERGENCES.md` lists
//! the one difference, in the default backend's `rsa` crate).
//!
//! Private keys: the JWE layer keeps the RustCrypto key (zeroized on drop) for export; the
//! `aws-lc` backend imports it into aws-lc for each operation ([`EcdhPrivateKey`],
//! [`RsaOaepPrivateKey`]: the scalar for ECDH, a PKCS#8 document — zeroized on drop — for
//! RSA), and aws-lc cleanses key memory when it frees it. Importing per operation costs a
//! parse per cold decryption (the verified-token cache spares warm requests); keeping the
//! imported key beside the RustCrypto one is a possible optimisation. The default backend's
//! prepared keys are empty: it computes with the RustCrypto key itself.

use zeroize::Zeroizing;

use crate::error::JweError;

#[cfg(feature = "aws-lc")]
mod aws_lc;
#[cfg(feature = "aws-lc")]
use aws_lc as imp;
#[cfg(not(feature = "aws-lc"))]
mod rust_crypto;
#[cfg(not(feature = "aws-lc"))]
use rust_crypto as imp;

/// The name of the JWE primitives' backend: `"rust-crypto"` or `"aws-lc-rs"`.
#[cfg(test)]
pub(crate) const BACKEND: &str = imp::NAME;

/// The curve of an ECDH-ES key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
    X25519,
}

/// The hash of HMAC in AES-CBC-HMAC-SHA-2 (RFC 7518 §5.2.3, §5.2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MacHash {
    Sha256,
    Sha512,
}

/// The hash of RSAES-OAEP, in the digest and in MGF1 alike (RFC 7518 §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OaepHash {
    /// `RSA-OAEP` (legacy, decryption only).
    Sha1,
    /// `RSA-OAEP-256`.
    Sha256,
}

/// AES-GCM encryption with a 16- or 32-byte `key` and a 12-byte `iv`: the ciphertext and the
/// 16-byte tag.
pub(crate) fn aes_gcm_seal(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), JweError> {
    imp::aes_gcm_seal(key, iv, aad, plaintext)
}

/// AES-GCM decryption; the caller has checked that `tag` is exactly 16 bytes. The tag is
/// compared in constant time and nothing is returned unless it matched.
pub(crate) fn aes_gcm_open(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, JweError> {
    imp::aes_gcm_open(key, iv, aad, ciphertext, tag)
}

/// AES-CBC encryption with PKCS#7 padding, a 16- or 32-byte `key` and a 16-byte `iv`.
pub(crate) fn aes_cbc_encrypt(
    key: &[u8],
    iv: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, JweError> {
    imp::aes_cbc_encrypt(key, iv, plaintext)
}

/// AES-CBC decryption and PKCS#7 unpadding; anything that is not whole blocks ending in valid
/// padding is [`JweError::DecryptionFailed`]. Called only once the tag has matched.
pub(crate) fn aes_cbc_decrypt(
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, JweError> {
    imp::aes_cbc_decrypt(key, iv, ciphertext)
}

/// The first `len` bytes of HMAC(`key`, the concatenation of `parts`).
pub(crate) fn hmac_truncated(
    hash: MacHash,
    key: &[u8],
    parts: &[&[u8]],
    len: usize,
) -> Result<Vec<u8>, JweError> {
    imp::hmac_truncated(hash, key, parts, len)
}

/// Whether `tag` equals the first `tag.len()` bytes of HMAC(`key`, the concatenation of
/// `parts`), compared in constant time; the caller pins `tag.len()` (a non-empty prefix).
pub(crate) fn hmac_verify_truncated(
    hash: MacHash,
    key: &[u8],
    parts: &[&[u8]],
    tag: &[u8],
) -> Result<(), JweError> {
    if tag.is_empty() {
        return Err(JweError::DecryptionFailed);
    }
    imp::hmac_verify_truncated(hash, key, parts, tag)
}

/// AES Key Wrap (RFC 3394 §2.2.1, default IV) of `key` (whole semiblocks, at least two: the
/// caller checks) under a 16- or 32-byte `kek`: `key.len() + 8` bytes.
pub(crate) fn aes_kw_wrap(kek: &[u8], key: &[u8]) -> Result<Vec<u8>, JweError> {
    imp::aes_kw_wrap(kek, key)
}

/// AES Key Unwrap with the integrity check (RFC 3394 §2.2.2–§2.2.3) of `wrapped` under a 16- or
/// 32-byte `kek` into `out`, which is exactly `wrapped.len() - 8` bytes (the caller checks).
pub(crate) fn aes_kw_unwrap(kek: &[u8], wrapped: &[u8], out: &mut [u8]) -> Result<(), JweError> {
    imp::aes_kw_unwrap(kek, wrapped, out)
}

/// The one-step key derivation of NIST SP 800-56C (the Concat KDF of SP 800-56A §5.8.1 that
/// RFC 7518 §4.6.2 names) with SHA-256: `out.len()` bytes from `z` and `other_info`.
pub(crate) fn concat_kdf_sha256(
    z: &[u8],
    other_info: &[u8],
    out: &mut [u8],
) -> Result<(), JweError> {
    imp::concat_kdf_sha256(z, other_info, out)
}

/// A validated ECDH public key: on P-256 or P-384 from the uncompressed point `04 ‖ x ‖ y`
/// (coordinates below the field prime, on the curve, so never the identity), on X25519 any
/// 32-byte `u` (RFC 7748 §5; low-order points show as an all-zero shared secret).
pub(crate) struct EcdhPublicKey(imp::EcdhPublicKey);

impl EcdhPublicKey {
    /// Validates `bytes` as a public key on `curve`; `None` if it is not one.
    pub(crate) fn new(curve: Curve, bytes: &[u8]) -> Option<Self> {
        imp::EcdhPublicKey::new(curve, bytes).map(Self)
    }

    /// The sender's side (RFC 7518 §4.6): a fresh ephemeral key on this key's curve, the
    /// shared secret `Z` with this key, and the ephemeral public key (`04 ‖ x ‖ y`, or the
    /// 32-byte X25519 `u`). [`JweError::NoKey`] when `Z` would be all zeros (an X25519 key of
    /// low order: every sender would share the same, public, key); [`JweError::DecryptionFailed`]
    /// when the random generator fails.
    pub(crate) fn ephemeral_agreement(&self) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), JweError> {
        self.0.ephemeral_agreement()
    }
}

/// A recipient's static ECDH secret as the JWE layer holds it (RustCrypto keys, zeroized on
/// drop), lent to the backend for one operation.
#[derive(Clone, Copy)]
pub(crate) enum EcdhSecret<'a> {
    P256(&'a p256::SecretKey),
    P384(&'a p384::SecretKey),
    X25519(&'a x25519_dalek::StaticSecret),
}

impl EcdhSecret<'_> {
    pub(crate) fn curve(self) -> Curve {
        match self {
            Self::P256(_) => Curve::P256,
            Self::P384(_) => Curve::P384,
            Self::X25519(_) => Curve::X25519,
        }
    }
}

/// A recipient's static ECDH key, prepared once by the backend.
pub(crate) struct EcdhPrivateKey(imp::EcdhPrivateKey);

impl EcdhPrivateKey {
    /// Prepares `secret`; `None` if the backend refuses it.
    pub(crate) fn new(secret: EcdhSecret<'_>) -> Option<Self> {
        imp::EcdhPrivateKey::new(secret).map(Self)
    }

    /// The recipient's side of ECDH: `Z` from `secret` (the key this one was prepared from) and
    /// the sender's `peer` key. [`JweError::DecryptionFailed`] when `peer` is on another curve
    /// or, on X25519, `Z` is all zeros (RFC 7748 §6.1, RFC 8037 §3.2).
    pub(crate) fn agree(
        &self,
        secret: EcdhSecret<'_>,
        peer: &EcdhPublicKey,
    ) -> Result<Zeroizing<Vec<u8>>, JweError> {
        self.0.agree(secret, &peer.0)
    }
}

/// A recipient's RSA key prepared once by the backend for RSAES-OAEP decryption.
pub(crate) struct RsaOaepPrivateKey(imp::RsaOaepPrivateKey);

impl RsaOaepPrivateKey {
    /// Prepares `key` (its size already checked: 2048–8192 bits); `None` if the backend
    /// refuses it.
    pub(crate) fn new(key: &rsa::PrivateKey) -> Option<Self> {
        imp::RsaOaepPrivateKey::new(key).map(Self)
    }

    /// RSAES-OAEP decryption (RFC 8017 §7.1.2) with `hash` in the digest and MGF1, empty label,
    /// of a `ciphertext` exactly as long as the modulus (the caller checks), with `key` (the key
    /// this one was prepared from).
    pub(crate) fn decrypt(
        &self,
        key: &rsa::PrivateKey,
        hash: OaepHash,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, JweError> {
        self.0.decrypt(key, hash, ciphertext)
    }
}

/// RSAES-OAEP encryption (RFC 8017 §7.1.1) with SHA-256 and MGF1-SHA-256, empty label: the
/// `RSA-OAEP-256` encrypted key (keybound never encrypts with SHA-1).
pub(crate) fn rsa_oaep_sha256_encrypt(
    key: &rsa::PublicKey,
    plaintext: &[u8],
) -> Result<Vec<u8>, JweError> {
    imp::rsa_oaep_sha256_encrypt(key, plaintext)
}
