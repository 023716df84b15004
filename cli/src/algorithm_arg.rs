//! `--alg ALG` and `--bits N`: the JWS algorithm names and RSA sizes the command line accepts.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use keybound::{Algorithm, RSA_GENERATION_BITS};

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
