//! Keys in PEM, as people keep them: PKCS#8 and SEC1 private keys, PKCS#1 RSA keys, SPKI
//! public keys (RFC 7468), decoded by RustCrypto's `pkcs8`, `pkcs1`, `sec1` and `spki` through
//! each key crate's own decoder.

use zeroize::Zeroizing;

use crate::error::KeyError;
use crate::jose::jwk::PublicParts;
use crate::jose::key_type::EcCurve;
use crate::jose::secret::Secret;

/// Largest PEM text accepted (an RSA-8192 private key is about 6.5 KiB).
const MAX_PEM_LEN: usize = 16 * 1024;

/// The first PEM block of `text` that holds a key: its label and the block itself, from its
/// `-----BEGIN` line to its `-----END` line. `EC PARAMETERS` blocks (which `openssl ecparam
/// -genkey` writes before the key) are skipped; anything around the block is ignored.
fn key_block(text: &str) -> Result<(&str, &str), KeyError> {
    if text.len() > MAX_PEM_LEN {
        return Err(KeyError::Malformed(crate::error::JoseError::Json));
    }
    let mut rest = text;
    loop {
        let start = rest.find("-----BEGIN ").ok_or(KeyError::InvalidPem)?;
        let label_start = start + "-----BEGIN ".len();
        let label_len = rest[label_start..]
            .find("-----")
            .ok_or(KeyError::InvalidPem)?;
        let label = &rest[label_start..label_start + label_len];
        let end_line = format!("-----END {label}-----");
        let end = rest[start..].find(&end_line).ok_or(KeyError::InvalidPem)? + start;
        let block_end = end + end_line.len();
        if label != "EC PARAMETERS" {
            return Ok((label, &rest[start..block_end]));
        }
        rest = &rest[block_end..];
    }
}

/// A private key from PEM: `PRIVATE KEY` (PKCS#8: EC P-256/P-384/P-521, Ed25519, RSA),
/// `RSA PRIVATE KEY` (PKCS#1) or `EC PRIVATE KEY` (SEC1). Encrypted PKCS#8 is refused.
///
/// The block is decoded once, into memory zeroized on drop, and each key crate reads the DER
/// from there (their own `from_*_pem` decode it again for every attempt, and SEC1's into a
/// buffer that is freed without being zeroized).
pub(crate) fn private_key(text: &str) -> Result<Secret, KeyError> {
    let (label, der) = private_der(text)?;
    match label {
        "PRIVATE KEY" => pkcs8_private(&der),
        "RSA PRIVATE KEY" => {
            use rsa::pkcs1::DecodeRsaPrivateKey;
            rsa::PrivateKey::from_pkcs1_der(&der)
                .map(|key| Secret::Rsa(Box::new(key)))
                .map_err(|_| KeyError::InvalidPem)
        }
        "EC PRIVATE KEY" => sec1_private(&der),
        _ => Err(KeyError::InvalidPem),
    }
}

/// The first key block of `text` (see [`key_block`]): its label and its DER, decoded into
/// memory zeroized on drop (see [`secret_der`]). For private keys of any kind.
pub(crate) fn private_der(text: &str) -> Result<(&str, Zeroizing<Vec<u8>>), KeyError> {
    let (label, block) = key_block(text)?;
    Ok((label, secret_der(block, label)?))
}

/// The DER inside one PEM block labelled `label` (RFC 7468 strict: 64-character lines),
/// decoded into a buffer allocated once at its final size and zeroized on drop, even when
/// decoding fails half-way.
fn secret_der(block: &str, label: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    use pkcs8::der::pem::Decoder;
    let mut decoder = Decoder::new(block.as_bytes()).map_err(|_| KeyError::InvalidPem)?;
    if decoder.type_label() != label {
        return Err(KeyError::InvalidPem);
    }
    let mut der = Zeroizing::new(Vec::new());
    decoder
        .decode_to_end(&mut der)
        .map_err(|_| KeyError::InvalidPem)?;
    Ok(der)
}

fn pkcs8_private(der: &[u8]) -> Result<Secret, KeyError> {
    use p256::pkcs8::DecodePrivateKey;
    if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
        return Ok(Secret::P256(key));
    }
    if let Ok(key) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
        return Ok(Secret::P384(key));
    }
    if let Ok(key) = p521::ecdsa::SigningKey::from_pkcs8_der(der) {
        return Ok(Secret::P521(key));
    }
    if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
        return Ok(Secret::Ed25519(key));
    }
    if let Ok(key) = rsa::PrivateKey::from_pkcs8_der(der) {
        return Ok(Secret::Rsa(Box::new(key)));
    }
    Err(KeyError::InvalidPem)
}

fn sec1_private(der: &[u8]) -> Result<Secret, KeyError> {
    use p256::elliptic_curve::SecretKey;
    if let Ok(key) = SecretKey::<p256::NistP256>::from_sec1_der(der) {
        return Ok(Secret::P256(key.into()));
    }
    if let Ok(key) = SecretKey::<p384::NistP384>::from_sec1_der(der) {
        return Ok(Secret::P384(key.into()));
    }
    if let Ok(key) = SecretKey::<p521::NistP521>::from_sec1_der(der) {
        return Ok(Secret::P521(key.into()));
    }
    Err(KeyError::InvalidPem)
}

/// A public key from PEM: `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1).
pub(crate) fn public_key(text: &str) -> Result<PublicParts, KeyError> {
    use rsa::traits::PublicKeyParts;
    let rsa_parts = |key: rsa::PublicKey| PublicParts::Rsa {
        n: key.n().to_be_bytes_trimmed_vartime().into_vec(),
        e: key.e().to_be_bytes_trimmed_vartime().into_vec(),
    };
    let (label, text) = key_block(text)?;
    match label {
        "PUBLIC KEY" => {
            use p256::pkcs8::DecodePublicKey;
            if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_pem(text) {
                return Ok(PublicParts::from_sec1(
                    EcCurve::P256,
                    key.to_sec1_point(false).as_bytes(),
                ));
            }
            if let Ok(key) = p384::ecdsa::VerifyingKey::from_public_key_pem(text) {
                return Ok(PublicParts::from_sec1(
                    EcCurve::P384,
                    key.to_sec1_point(false).as_bytes(),
                ));
            }
            if let Ok(key) = p521::ecdsa::VerifyingKey::from_public_key_pem(text) {
                return Ok(PublicParts::from_sec1(
                    EcCurve::P521,
                    key.to_sec1_point(false).as_bytes(),
                ));
            }
            if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_pem(text) {
                return Ok(PublicParts::Ed25519 { x: key.to_bytes() });
            }
            rsa::PublicKey::from_public_key_pem(text)
                .map(rsa_parts)
                .map_err(|_| KeyError::InvalidPem)
        }
        "RSA PUBLIC KEY" => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            rsa::PublicKey::from_pkcs1_pem(text)
                .map(rsa_parts)
                .map_err(|_| KeyError::InvalidPem)
        }
        _ => Err(KeyError::InvalidPem),
    }
}
