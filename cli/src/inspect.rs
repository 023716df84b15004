//! `inspect`: decode any JWT without verifying it — and say so. An encrypted token (a compact
//! JWE) shows its protected header only, unless `--decrypt-key` is given.

use std::path::PathBuf;

use clap::Args;
use keybound::danger::{decode_jwe_header_unverified, decode_unverified, UnverifiedJwt};
use keybound::decrypt_nested_jwt;
use serde_json::{json, Map, Value};

use crate::cli_error::CliError;
use crate::encryption_keys::load_decryption_key;
use crate::output::{print_json, Outcome};

/// Decode the header and claims of any JWT WITHOUT verifying it (`"verified": false`).
///
/// An encrypted token (five segments) prints its protected header and `"encrypted": true`;
/// it is decrypted only with --decrypt-key, which adds the inner token's header and claims —
/// still unverified.
#[derive(Args)]
#[command(
    after_help = "Example:\n  keybound inspect \"$TOKEN\" | jq .claims\n  \
keybound inspect \"$JWE\" --decrypt-key api-enc.jwk | jq .claims\n\n\
Nothing is verified: not the signature, not the algorithm, not a single claim."
)]
pub struct InspectArgs {
    /// The JWT (compact serialization: a JWS, or a JWE for an encrypted token).
    #[arg(value_name = "TOKEN", allow_hyphen_values = true)]
    token: String,
    /// Decrypt an encrypted token with this private encryption JWK (repeatable).
    #[arg(long, value_name = "FILE")]
    decrypt_key: Vec<PathBuf>,
}

const WARNING: &str = "NOT VERIFIED: signature, algorithm and claims were not checked";

pub fn inspect(args: &InspectArgs) -> Result<Outcome, CliError> {
    let token = args.token.trim();
    let output = if token.split('.').count() == 5 {
        encrypted(token, args)?
    } else {
        let jwt = decode(token)?;
        json!({
            "verified": false,
            "encrypted": false,
            "warning": WARNING,
            "header": Value::Object(jwt.header),
            "claims": Value::Object(jwt.claims),
        })
    };
    eprintln!("keybound: WARNING: decoded WITHOUT verification; do not trust these contents");
    print_json(&output);
    Ok(Outcome::Success)
}

/// The protected header of the JWE `token`, and with `--decrypt-key` the inner token's.
fn encrypted(token: &str, args: &InspectArgs) -> Result<Value, CliError> {
    let header = decode_jwe_header_unverified(token)
        .map_err(|e| CliError(format!("not a decodable JWE: {e}")))?;
    let mut output = Map::new();
    output.insert("verified".into(), Value::Bool(false));
    output.insert("encrypted".into(), Value::Bool(true));
    output.insert("warning".into(), Value::from(WARNING));
    output.insert("header".into(), Value::Object(header));
    if !args.decrypt_key.is_empty() {
        let keys = args
            .decrypt_key
            .iter()
            .map(|path| load_decryption_key(path))
            .collect::<Result<Vec<_>, _>>()?;
        let inner = decrypt_nested_jwt(token, &keys)
            .map_err(|e| CliError(format!("cannot decrypt: {e}")))?;
        let jwt = decode(&inner)?;
        output.insert("inner_header".into(), Value::Object(jwt.header));
        output.insert("claims".into(), Value::Object(jwt.claims));
    }
    Ok(Value::Object(output))
}

fn decode(token: &str) -> Result<UnverifiedJwt, CliError> {
    decode_unverified(token).map_err(|e| CliError(format!("not a decodable JWT: {e}")))
}
