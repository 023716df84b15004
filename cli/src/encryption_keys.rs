//! Encryption keys (issue 15, nested-JWT access tokens): `--alg`/`--crv` for `keygen`,
//! `--enc` for `issue`, and reading the JWK files of `--encrypt-to` and `--decrypt-key`.

use std::path::Path;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use keybound::{
    ContentEncryption, DecryptionKey, EcdhCurve, EncryptionKey, KeyError, KeyManagement,
};
use zeroize::Zeroizing;

use crate::cli_error::CliError;
use crate::keys::KeyFile;

/// The key-management algorithms `keygen --alg` makes encryption keys for.
pub const KEYGEN_ALGS: [KeyManagement; 4] = [
    KeyManagement::EcdhEs,
    KeyManagement::EcdhEsA128Kw,
    KeyManagement::EcdhEsA256Kw,
    KeyManagement::RsaOaep256,
];

/// The content encryptions `issue --enc` accepts.
const ENCS: [ContentEncryption; 4] = [
    ContentEncryption::A128Gcm,
    ContentEncryption::A256Gcm,
    ContentEncryption::A128CbcHs256,
    ContentEncryption::A256CbcHs512,
];

/// Parses `--crv`: `P-256`, `P-384` or `X25519` (exact names).
pub fn curve_parser() -> impl TypedValueParser<Value = EcdhCurve> {
    PossibleValuesParser::new(["P-256", "P-384", "X25519"]).map(|name| match name.as_str() {
        "P-384" => EcdhCurve::P384,
        "X25519" => EcdhCurve::X25519,
        _ => EcdhCurve::P256,
    })
}

/// Parses `--enc`: one of the four content encryptions as JOSE spells them.
pub fn enc_parser() -> impl TypedValueParser<Value = ContentEncryption> {
    PossibleValuesParser::new(ENCS.map(ContentEncryption::as_str))
        .map(|name| ContentEncryption::from_name(&name).unwrap_or(ContentEncryption::A256Gcm))
}

/// A new private encryption JWK for `alg` (with `"use":"enc"` and `"alg"`): on `crv` for the
/// ECDH-ES algorithms (P-256 when not given), RSA-2048 for `RSA-OAEP-256` (no `--crv`). Its
/// `kid` is `kid`, or the key's RFC 7638 thumbprint, so that tokens name it and a resource
/// server holding several keys (rotation) picks the right one.
pub fn generate(
    alg: KeyManagement,
    crv: Option<EcdhCurve>,
    kid: Option<&str>,
) -> Result<Zeroizing<String>, CliError> {
    let crv = match (alg, crv) {
        (KeyManagement::RsaOaep256, Some(_)) => {
            return Err(CliError::flag(
                "--crv",
                "only for the ECDH-ES algorithms; RSA-OAEP-256 keys are RSA",
            ))
        }
        (KeyManagement::RsaOaep256, None) => None,
        (_, crv) => Some(crv.unwrap_or(EcdhCurve::P256)),
    };
    let key = DecryptionKey::generate(alg, crv)
        .map_err(|e| CliError(format!("cannot generate a key: {e}")))?;
    let kid = kid.map_or_else(
        || key.encryption_key().thumbprint().to_string(),
        str::to_owned,
    );
    Ok(key.with_kid(kid).to_jwk())
}

/// Whether a key file is an encryption key: a JWK whose `alg` is a key-management algorithm.
/// Only `alg` is read, borrowed: the private members are skipped, never copied.
pub fn is_encryption_key(file: &KeyFile) -> bool {
    #[derive(serde::Deserialize)]
    struct OnlyAlg<'a> {
        #[serde(borrow)]
        alg: Option<&'a str>,
    }
    let KeyFile::Jwk(text) = file else {
        return false;
    };
    serde_json::from_str::<OnlyAlg<'_>>(text.trim())
        .ok()
        .and_then(|only| only.alg)
        .and_then(KeyManagement::from_name)
        .is_some()
}

/// The public encryption key of a private or public encryption JWK.
pub fn encryption_key(path: &Path, file: &KeyFile) -> Result<EncryptionKey, CliError> {
    let text = file.text();
    match EncryptionKey::from_jwk(text) {
        Err(KeyError::PrivateKey) => decryption_key_from(path, file).map(|k| k.encryption_key()),
        other => other.map_err(|e| key_error(path, &e)),
    }
}

/// `--encrypt-to FILE`: the resource server's public encryption JWK (with `alg`).
pub fn load_encryption_key(path: &Path) -> Result<EncryptionKey, CliError> {
    let file = KeyFile::read(path)?;
    if let KeyFile::Pem(_) = file {
        return Err(CliError::file(
            path,
            "give the public encryption JWK (with \"alg\"), not PEM: a PEM key does not say \
             which algorithm it is for",
        ));
    }
    EncryptionKey::from_jwk(file.text()).map_err(|e| match e {
        KeyError::PrivateKey => CliError::file(
            path,
            "a private key: give its public half (keybound public --key FILE)",
        ),
        e => key_error(path, &e),
    })
}

/// `--decrypt-key FILE`: a private encryption JWK (with `alg`).
pub fn load_decryption_key(path: &Path) -> Result<DecryptionKey, CliError> {
    decryption_key_from(path, &KeyFile::read(path)?)
}

fn decryption_key_from(path: &Path, file: &KeyFile) -> Result<DecryptionKey, CliError> {
    if let KeyFile::Pem(_) = file {
        return Err(CliError::file(
            path,
            "give the private encryption JWK (with \"alg\"), not PEM: a PEM key does not say \
             which algorithm it is for",
        ));
    }
    DecryptionKey::from_jwk(file.text()).map_err(|e| match e {
        KeyError::MissingMember("d") => {
            CliError::file(path, "a public key cannot decrypt; give the private key")
        }
        e => key_error(path, &e),
    })
}

fn key_error(path: &Path, e: &KeyError) -> CliError {
    CliError::file(
        path,
        format!(
            "not a usable encryption JWK: {e} (algorithms: ECDH-ES, ECDH-ES+A128KW, \
             ECDH-ES+A256KW on P-256, P-384 or X25519; RSA-OAEP-256)"
        ),
    )
}
