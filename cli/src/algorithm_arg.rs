//! `--alg ALG` and `--bits N`: the JWS algorithm names and RSA sizes the command line accepts.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use keybound::{Algorithm, KeyManagement, RSA_GENERATION_BITS};

use crate::encryption_keys::KEYGEN_ALGS;

/// What `keygen --alg` makes: a signing key, or an encryption key (JWE key management).
#[derive(Clone, Copy)]
pub enum KeygenAlg {
    Sign(Algorithm),
    Encrypt(KeyManagement),
}

/// Parses `keygen --alg`: a JWS algorithm or one of the key-management algorithms of
/// encrypted tokens (`ECDH-ES`, `ECDH-ES+A128KW`, `ECDH-ES+A256KW`, `RSA-OAEP-256`), exact
/// names; clap lists them all.
pub fn keygen_alg_parser() -> impl TypedValueParser<Value = KeygenAlg> {
    let names = Algorithm::ALL
        .map(Algorithm::as_str)
        .into_iter()
        .chain(KEYGEN_ALGS.map(KeyManagement::as_str));
    PossibleValuesParser::new(names).try_map(|name| match KeyManagement::from_name(&name) {
        Some(alg) => Ok(KeygenAlg::Encrypt(alg)),
        None => name.parse::<Algorithm>().map(KeygenAlg::Sign),
    })
}

/// Parses `--alg`: exactly one of the supported names as JOSE spells them (case-sensitive,
/// RFC 7515 §4.1.1), e.g. `ES256`, `Ed25519`, `EdDSA`, `PS256`. clap lists them in `--help`
/// and in the error for any other value (`none`, `HS256`, `es256`, …), which exits 2.
pub fn algorithm_parser() -> impl TypedValueParser<Value = Algorithm> {
    PossibleValuesParser::new(Algorithm::ALL.map(Algorithm::as_str))
        .try_map(|name| name.parse::<Algorithm>())
}

/// Parses `--bits`: an RSA modulus size `keygen` can make (2048, 3072 or 4096).
pub fn parse_rsa_bits(text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|bits| RSA_GENERATION_BITS.contains(bits))
        .ok_or_else(|| "RSA keys are made with 2048, 3072 or 4096 bits".to_owned())
}
