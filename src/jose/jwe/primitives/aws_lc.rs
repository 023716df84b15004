//! The `aws-lc` JWE primitives: every one through `aws-lc-rs`'s stable API (`aead`, `cipher`,
//! `hmac`, `constant_time`, `key_wrap`, `kdf`, `agreement`, `rsa`).

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, ParsedPublicKey, UnparsedPublicKey};
use aws_lc_rs::cipher::{
    self, DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey,
    UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::key_wrap::{self, KeyEncryptionKey, KeyWrap};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey,
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256,
};
use aws_lc_rs::{constant_time, hmac, kdf};
use zeroize::Zeroizing;

use super::{Curve, EcdhSecret, MacHash, OaepHash};
use crate::error::JweError;

#[cfg(test)]
pub(super) const NAME: &str = "aws-lc-rs";

fn failed<E>(_: E) -> JweError {
    JweError::DecryptionFailed
}

fn gcm_key(key: &[u8]) -> Result<LessSafeKey, JweError> {
    let algorithm = match key.len() {
        16 => &aead::AES_128_GCM,
        32 => &aead::AES_256_GCM,
        _ => return Err(JweError::DecryptionFailed),
    };
    Ok(LessSafeKey::new(
        UnboundKey::new(algorithm, key).map_err(failed)?,
    ))
}

pub(super) fn aes_gcm_seal(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), JweError> {
    let key = gcm_key(key)?;
    let nonce = Nonce::try_assume_unique_for_key(iv).map_err(failed)?;
    // Encrypted in place: until it is, the buffer holds plaintext, wiped if encryption fails.
    let mut buffer = Zeroizing::new(plaintext.to_vec());
    let tag = key
        .seal_in_place_separate_tag(nonce, Aad::from(aad), &mut buffer)
        .map_err(failed)?;
    Ok((core::mem::take(&mut *buffer), tag.as_ref().to_vec()))
}

/// aws-lc compares the tag in constant time; on a mismatch the buffer (which may hold the
/// decryption) is wiped as it is dropped, never returned.
pub(super) fn aes_gcm_open(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, JweError> {
    let key = gcm_key(key)?;
    let nonce = Nonce::try_assume_unique_for_key(iv).map_err(failed)?;
    let mut buffer = Zeroizing::new(vec![0u8; ciphertext.len()]);
    key.open_separate_gather(nonce, Aad::from(aad), ciphertext, tag, &mut buffer)
        .map_err(failed)?;
    Ok(buffer)
}

fn cbc_key(key: &[u8]) -> Result<UnboundCipherKey, JweError> {
    let algorithm = match key.len() {
        16 => &cipher::AES_128,
        32 => &cipher::AES_256,
        _ => return Err(JweError::DecryptionFailed),
    };
    UnboundCipherKey::new(algorithm, key).map_err(failed)
}

fn cbc_iv(iv: &[u8]) -> Result<FixedLength<16>, JweError> {
    FixedLength::<16>::try_from(iv).map_err(failed)
}

pub(super) fn aes_cbc_encrypt(
    key: &[u8],
    iv: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, JweError> {
    let key = PaddedBlockEncryptingKey::cbc_pkcs7(cbc_key(key)?).map_err(failed)?;
    let context = EncryptionContext::Iv128(cbc_iv(iv)?);
    let mut buffer = Zeroizing::new(plaintext.to_vec());
    key.less_safe_encrypt(&mut *buffer, context)
        .map_err(failed)?;
    Ok(core::mem::take(&mut *buffer))
}

/// aws-lc's PKCS#7 check is not constant-time; it runs only on authenticated ciphertexts.
pub(super) fn aes_cbc_decrypt(
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, JweError> {
    let key = PaddedBlockDecryptingKey::cbc_pkcs7(cbc_key(key)?).map_err(failed)?;
    let context = DecryptionContext::Iv128(cbc_iv(iv)?);
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let len = key.decrypt(&mut buffer, context).map_err(failed)?.len();
    buffer.truncate(len);
    Ok(buffer)
}

fn hmac_full(hash: MacHash, key: &[u8], parts: &[&[u8]]) -> hmac::Tag {
    let algorithm = match hash {
        MacHash::Sha256 => hmac::HMAC_SHA256,
        MacHash::Sha512 => hmac::HMAC_SHA512,
    };
    let mut context = hmac::Context::with_key(&hmac::Key::new(algorithm, key));
    for part in parts {
        context.update(part);
    }
    context.sign()
}

pub(super) fn hmac_truncated(
    hash: MacHash,
    key: &[u8],
    parts: &[&[u8]],
    len: usize,
) -> Result<Vec<u8>, JweError> {
    hmac_full(hash, key, parts)
        .as_ref()
        .get(..len)
        .map(<[u8]>::to_vec)
        .ok_or(JweError::DecryptionFailed)
}

/// `hmac::verify` compares whole tags only; the prefix is compared with `CRYPTO_memcmp`.
pub(super) fn hmac_verify_truncated(
    hash: MacHash,
    key: &[u8],
    parts: &[&[u8]],
    tag: &[u8],
) -> Result<(), JweError> {
    let full = hmac_full(hash, key, parts);
    let expected = full
        .as_ref()
        .get(..tag.len())
        .ok_or(JweError::DecryptionFailed)?;
    constant_time::verify_slices_are_equal(expected, tag).map_err(failed)
}

fn kek(kek: &[u8]) -> Result<KeyEncryptionKey<key_wrap::AesBlockCipher>, JweError> {
    let cipher = match kek.len() {
        16 => &key_wrap::AES_128,
        32 => &key_wrap::AES_256,
        _ => return Err(JweError::DecryptionFailed),
    };
    KeyEncryptionKey::new(cipher, kek).map_err(failed)
}

pub(super) fn aes_kw_wrap(kek_bytes: &[u8], key: &[u8]) -> Result<Vec<u8>, JweError> {
    let mut out = vec![0u8; key.len() + 8];
    let len = kek(kek_bytes)?.wrap(key, &mut out).map_err(failed)?.len();
    if len == out.len() {
        Ok(out)
    } else {
        Err(JweError::DecryptionFailed)
    }
}

pub(super) fn aes_kw_unwrap(
    kek_bytes: &[u8],
    wrapped: &[u8],
    out: &mut [u8],
) -> Result<(), JweError> {
    let expected = out.len();
    let len = kek(kek_bytes)?.unwrap(wrapped, out).map_err(failed)?.len();
    if len == expected {
        Ok(())
    } else {
        Err(JweError::DecryptionFailed)
    }
}

pub(super) fn concat_kdf_sha256(
    z: &[u8],
    other_info: &[u8],
    out: &mut [u8],
) -> Result<(), JweError> {
    let algorithm = kdf::get_sskdf_digest_algorithm(kdf::SskdfDigestAlgorithmId::Sha256)
        .ok_or(JweError::DecryptionFailed)?;
    kdf::sskdf_digest(algorithm, z, other_info, out).map_err(failed)
}

fn algorithm(curve: Curve) -> &'static agreement::Algorithm {
    match curve {
        Curve::P256 => &agreement::ECDH_P256,
        Curve::P384 => &agreement::ECDH_P384,
        Curve::X25519 => &agreement::X25519,
    }
}

/// The shared secret, copied out of aws-lc into memory zeroized on drop.
fn secret(z: &[u8]) -> Result<Zeroizing<Vec<u8>>, JweError> {
    Ok(Zeroizing::new(z.to_vec()))
}

/// A public key aws-lc has parsed and validated (`EC_POINT_oct2point`: coordinates below p, on
/// the curve; X25519: 32 bytes).
pub(super) struct EcdhPublicKey(ParsedPublicKey);

impl EcdhPublicKey {
    pub(super) fn new(curve: Curve, bytes: &[u8]) -> Option<Self> {
        // The caller gives only the uncompressed form (or 32 X25519 bytes); aws-lc would also
        // parse other encodings, so the length and prefix are pinned here too.
        let expected = match curve {
            Curve::P256 => bytes.len() == 65 && bytes[0] == 0x04,
            Curve::P384 => bytes.len() == 97 && bytes[0] == 0x04,
            Curve::X25519 => bytes.len() == 32,
        };
        if !expected {
            return None;
        }
        ParsedPublicKey::try_from(UnparsedPublicKey::new(algorithm(curve), bytes))
            .ok()
            .map(Self)
    }

    pub(super) fn ephemeral_agreement(&self) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), JweError> {
        let ephemeral =
            agreement::EphemeralPrivateKey::generate(self.0.alg(), &SystemRandom::new())
                .map_err(failed)?;
        let public = ephemeral
            .compute_public_key()
            .map_err(failed)?
            .as_ref()
            .to_vec();
        // X25519 refuses an all-zero output; with a validated EC key nothing else can fail.
        let z = agreement::agree_ephemeral(ephemeral, self.0.clone(), JweError::NoKey, secret)?;
        Ok((z, public))
    }
}

/// The static key as aws-lc holds it (an `EVP_PKEY`), prepared once.
pub(super) struct EcdhPrivateKey(agreement::PrivateKey);

impl EcdhPrivateKey {
    pub(super) fn new(secret: EcdhSecret<'_>) -> Option<Self> {
        let prepare = |bytes: &[u8]| {
            agreement::PrivateKey::from_private_key(algorithm(secret.curve()), bytes).ok()
        };
        match secret {
            EcdhSecret::P256(key) => prepare(&Zeroizing::new(key.to_bytes())),
            EcdhSecret::P384(key) => prepare(&Zeroizing::new(key.to_bytes())),
            EcdhSecret::X25519(key) => prepare(key.as_bytes()),
        }
        .map(Self)
    }

    /// `agree` refuses a key on another curve; X25519 refuses an all-zero output.
    pub(super) fn agree(
        &self,
        _secret: EcdhSecret<'_>,
        peer: &EcdhPublicKey,
    ) -> Result<Zeroizing<Vec<u8>>, JweError> {
        agreement::agree(&self.0, peer.0.clone(), JweError::DecryptionFailed, secret)
    }
}

/// The RSA key as aws-lc holds it, prepared once: decryption is constant-time.
pub(super) struct RsaOaepPrivateKey(OaepPrivateDecryptingKey);

impl RsaOaepPrivateKey {
    pub(super) fn new(key: &rsa::PrivateKey) -> Option<Self> {
        use rsa::pkcs8::EncodePrivateKey;
        // A `SecretDocument`: zeroized on drop.
        let der = key.to_pkcs8_der().ok()?;
        let key = PrivateDecryptingKey::from_pkcs8(der.as_bytes()).ok()?;
        OaepPrivateDecryptingKey::new(key).ok().map(Self)
    }

    pub(super) fn decrypt(
        &self,
        _key: &rsa::PrivateKey,
        hash: OaepHash,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, JweError> {
        let algorithm = match hash {
            OaepHash::Sha1 => &OAEP_SHA1_MGF1SHA1,
            OaepHash::Sha256 => &OAEP_SHA256_MGF1SHA256,
        };
        let mut out = Zeroizing::new(vec![0u8; self.0.min_output_size()]);
        let len = self
            .0
            .decrypt(algorithm, ciphertext, &mut out, None)
            .map_err(failed)?
            .len();
        out.truncate(len);
        Ok(out)
    }
}

pub(super) fn rsa_oaep_sha256_encrypt(
    key: &rsa::PublicKey,
    plaintext: &[u8],
) -> Result<Vec<u8>, JweError> {
    use rsa::pkcs8::EncodePublicKey;
    let der = key.to_public_key_der().map_err(failed)?;
    let key = PublicEncryptingKey::from_der(der.as_bytes()).map_err(failed)?;
    let key = OaepPublicEncryptingKey::new(key).map_err(failed)?;
    let mut out = vec![0u8; key.ciphertext_size()];
    let len = key
        .encrypt(&OAEP_SHA256_MGF1SHA256, plaintext, &mut out, None)
        .map_err(failed)?
        .len();
    out.truncate(len);
    Ok(out)
}
