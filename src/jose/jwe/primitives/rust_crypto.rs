//! The default, pure-Rust JWE primitives (RustCrypto): `aes-gcm`, `aes` + `cbc`, `hmac` +
//! `sha2`, `aes-kw`, `concat-kdf`, `p256` / `p384` / `x25519-dalek`, `rsa`.

use aes_gcm::aead::{self, AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};
use zeroize::Zeroizing;

use super::{Curve, EcdhSecret, MacHash, OaepHash};
use crate::error::JweError;

#[cfg(test)]
pub(super) const NAME: &str = "rust-crypto";

fn failed<E>(_: E) -> JweError {
    JweError::DecryptionFailed
}

pub(super) fn aes_gcm_seal(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), JweError> {
    match key.len() {
        16 => gcm_seal::<Aes128Gcm>(key, iv, aad, plaintext),
        32 => gcm_seal::<Aes256Gcm>(key, iv, aad, plaintext),
        _ => Err(JweError::DecryptionFailed),
    }
}

pub(super) fn aes_gcm_open(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, JweError> {
    match key.len() {
        16 => gcm_open::<Aes128Gcm>(key, iv, aad, ciphertext, tag),
        32 => gcm_open::<Aes256Gcm>(key, iv, aad, ciphertext, tag),
        _ => Err(JweError::DecryptionFailed),
    }
}

fn gcm_seal<C: AeadInOut + KeyInit>(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), JweError> {
    let cipher = C::new_from_slice(key).map_err(failed)?;
    let nonce = aead::Nonce::<C>::try_from(iv).map_err(failed)?;
    // Encrypted in place: until it is, the buffer holds plaintext, wiped if encryption fails.
    let mut buffer = Zeroizing::new(plaintext.to_vec());
    let tag = cipher
        .encrypt_inout_detached(&nonce, aad, buffer.as_mut_slice().into())
        .map_err(failed)?;
    Ok((core::mem::take(&mut *buffer), tag.to_vec()))
}

/// `aes-gcm` compares the tag in constant time and decrypts only after it matched.
fn gcm_open<C: AeadInOut + KeyInit>(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, JweError> {
    let cipher = C::new_from_slice(key).map_err(failed)?;
    let nonce = aead::Nonce::<C>::try_from(iv).map_err(failed)?;
    let tag = aead::Tag::<C>::try_from(tag).map_err(failed)?;
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    cipher
        .decrypt_inout_detached(&nonce, aad, buffer.as_mut_slice().into(), &tag)
        .map_err(failed)?;
    Ok(buffer)
}

pub(super) fn aes_cbc_encrypt(
    key: &[u8],
    iv: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, JweError> {
    Ok(match key.len() {
        16 => cbc::Encryptor::<aes::Aes128>::new_from_slices(key, iv)
            .map_err(failed)?
            .encrypt_padded_vec::<Pkcs7>(plaintext),
        32 => cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)
            .map_err(failed)?
            .encrypt_padded_vec::<Pkcs7>(plaintext),
        _ => return Err(JweError::DecryptionFailed),
    })
}

pub(super) fn aes_cbc_decrypt(
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, JweError> {
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let len = match key.len() {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
            .map_err(failed)?
            .decrypt_padded::<Pkcs7>(&mut buffer)
            .map_err(failed)?
            .len(),
        32 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
            .map_err(failed)?
            .decrypt_padded::<Pkcs7>(&mut buffer)
            .map_err(failed)?
            .len(),
        _ => return Err(JweError::DecryptionFailed),
    };
    buffer.truncate(len);
    Ok(buffer)
}

fn mac<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Result<M, JweError> {
    let mut mac = <M as KeyInit>::new_from_slice(key).map_err(failed)?;
    for part in parts {
        mac.update(part);
    }
    Ok(mac)
}

pub(super) fn hmac_truncated(
    hash: MacHash,
    key: &[u8],
    parts: &[&[u8]],
    len: usize,
) -> Result<Vec<u8>, JweError> {
    let full = match hash {
        MacHash::Sha256 => mac::<Hmac<Sha256>>(key, parts)?
            .finalize()
            .into_bytes()
            .to_vec(),
        MacHash::Sha512 => mac::<Hmac<Sha512>>(key, parts)?
            .finalize()
            .into_bytes()
            .to_vec(),
    };
    full.get(..len)
        .map(<[u8]>::to_vec)
        .ok_or(JweError::DecryptionFailed)
}

/// `verify_truncated_left` compares in constant time (`subtle`).
pub(super) fn hmac_verify_truncated(
    hash: MacHash,
    key: &[u8],
    parts: &[&[u8]],
    tag: &[u8],
) -> Result<(), JweError> {
    match hash {
        MacHash::Sha256 => mac::<Hmac<Sha256>>(key, parts)?.verify_truncated_left(tag),
        MacHash::Sha512 => mac::<Hmac<Sha512>>(key, parts)?.verify_truncated_left(tag),
    }
    .map_err(failed)
}

pub(super) fn aes_kw_wrap(kek: &[u8], key: &[u8]) -> Result<Vec<u8>, JweError> {
    use aes_kw::KeyInit;
    let mut out = vec![0u8; key.len() + aes_kw::IV_LEN];
    let wrapped = match kek.len() {
        16 => aes_kw::KwAes128::new_from_slice(kek)
            .map_err(failed)?
            .wrap_key(key, &mut out)
            .map(<[u8]>::len),
        32 => aes_kw::KwAes256::new_from_slice(kek)
            .map_err(failed)?
            .wrap_key(key, &mut out)
            .map(<[u8]>::len),
        _ => return Err(JweError::DecryptionFailed),
    };
    match wrapped {
        Ok(len) if len == out.len() => Ok(out),
        _ => Err(JweError::DecryptionFailed),
    }
}

pub(super) fn aes_kw_unwrap(kek: &[u8], wrapped: &[u8], out: &mut [u8]) -> Result<(), JweError> {
    use aes_kw::KeyInit;
    let expected = out.len();
    let unwrapped = match kek.len() {
        16 => aes_kw::KwAes128::new_from_slice(kek)
            .map_err(failed)?
            .unwrap_key(wrapped, out)
            .map(<[u8]>::len),
        32 => aes_kw::KwAes256::new_from_slice(kek)
            .map_err(failed)?
            .unwrap_key(wrapped, out)
            .map(<[u8]>::len),
        _ => return Err(JweError::DecryptionFailed),
    };
    match unwrapped {
        Ok(len) if len == expected => Ok(()),
        _ => Err(JweError::DecryptionFailed),
    }
}

pub(super) fn concat_kdf_sha256(
    z: &[u8],
    other_info: &[u8],
    out: &mut [u8],
) -> Result<(), JweError> {
    concat_kdf::derive_key_into::<sha2_010::Sha256>(z, other_info, out).map_err(failed)
}

/// A validated public key of `p256`, `p384` or `x25519-dalek`.
pub(super) enum EcdhPublicKey {
    P256(p256::PublicKey),
    P384(p384::PublicKey),
    X25519(x25519_dalek::PublicKey),
}

impl EcdhPublicKey {
    /// `from_sec1_bytes` refuses coordinates not below p, points off the curve and (through
    /// the uncompressed form the caller gives) the identity.
    pub(super) fn new(curve: Curve, bytes: &[u8]) -> Option<Self> {
        match curve {
            Curve::P256 => p256::PublicKey::from_sec1_bytes(bytes).ok().map(Self::P256),
            Curve::P384 => p384::PublicKey::from_sec1_bytes(bytes).ok().map(Self::P384),
            Curve::X25519 => <[u8; 32]>::try_from(bytes)
                .ok()
                .map(|u| Self::X25519(x25519_dalek::PublicKey::from(u))),
        }
    }

    pub(super) fn ephemeral_agreement(&self) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), JweError> {
        use p256::elliptic_curve::sec1::ToSec1Point;
        use p256::elliptic_curve::Generate;
        let rng = &mut getrandom::SysRng;
        match self {
            Self::P256(public) => {
                let ephemeral = p256::SecretKey::try_generate_from_rng(rng).map_err(failed)?;
                let z =
                    Zeroizing::new(ephemeral.diffie_hellman(public).raw_secret_bytes().to_vec());
                let point = ephemeral.public_key().to_sec1_point(false);
                Ok((z, point.as_bytes().to_vec()))
            }
            Self::P384(public) => {
                let ephemeral = p384::SecretKey::try_generate_from_rng(rng).map_err(failed)?;
                let z =
                    Zeroizing::new(ephemeral.diffie_hellman(public).raw_secret_bytes().to_vec());
                let point = ephemeral.public_key().to_sec1_point(false);
                Ok((z, point.as_bytes().to_vec()))
            }
            Self::X25519(public) => {
                let mut seed = Zeroizing::new([0u8; 32]);
                getrandom::fill(seed.as_mut()).map_err(failed)?;
                let ephemeral = x25519_dalek::StaticSecret::from(*seed);
                let z = x25519_secret(&ephemeral.diffie_hellman(public))
                    .map_err(|_| JweError::NoKey)?;
                let epk = x25519_dalek::PublicKey::from(&ephemeral);
                Ok((z, epk.as_bytes().to_vec()))
            }
        }
    }
}

/// An X25519 shared secret, refused when all zeros.
fn x25519_secret(shared: &x25519_dalek::SharedSecret) -> Result<Zeroizing<Vec<u8>>, JweError> {
    if !shared.was_contributory() {
        return Err(JweError::DecryptionFailed);
    }
    Ok(Zeroizing::new(shared.as_bytes().to_vec()))
}

/// Agreement uses the RustCrypto key itself.
pub(super) struct EcdhPrivateKey;

impl EcdhPrivateKey {
    pub(super) fn new(_secret: EcdhSecret<'_>) -> Option<Self> {
        Some(Self)
    }

    pub(super) fn agree(
        &self,
        secret: EcdhSecret<'_>,
        peer: &EcdhPublicKey,
    ) -> Result<Zeroizing<Vec<u8>>, JweError> {
        match (secret, peer) {
            (EcdhSecret::P256(key), EcdhPublicKey::P256(public)) => Ok(Zeroizing::new(
                key.diffie_hellman(public).raw_secret_bytes().to_vec(),
            )),
            (EcdhSecret::P384(key), EcdhPublicKey::P384(public)) => Ok(Zeroizing::new(
                key.diffie_hellman(public).raw_secret_bytes().to_vec(),
            )),
            (EcdhSecret::X25519(key), EcdhPublicKey::X25519(public)) => {
                x25519_secret(&key.diffie_hellman(public))
            }
            _ => Err(JweError::DecryptionFailed),
        }
    }
}

/// Decryption uses the RustCrypto key itself.
pub(super) struct RsaOaepPrivateKey;

impl RsaOaepPrivateKey {
    pub(super) fn new(_key: &rsa::PrivateKey) -> Option<Self> {
        Some(Self)
    }

    /// Blinded with the OS RNG; not constant-time (RUSTSEC-2023-0071).
    pub(super) fn decrypt(
        &self,
        key: &rsa::PrivateKey,
        hash: OaepHash,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, JweError> {
        let rng = &mut getrandom::SysRng;
        match hash {
            OaepHash::Sha1 => key.oaep_decrypt_with_rng::<sha1::Sha1, _>(rng, ciphertext),
            OaepHash::Sha256 => key.oaep_decrypt_with_rng::<rsa::sha2::Sha256, _>(rng, ciphertext),
        }
        .map(Zeroizing::new)
        .map_err(failed)
    }
}

pub(super) fn rsa_oaep_sha256_encrypt(
    key: &rsa::PublicKey,
    plaintext: &[u8],
) -> Result<Vec<u8>, JweError> {
    key.oaep_encrypt_with_rng::<rsa::sha2::Sha256, _>(&mut getrandom::SysRng, plaintext)
        .map_err(failed)
}
