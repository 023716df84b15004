//! `inspect`: decode any JWT without verifying it — and say so.

use clap::Args;
use keybound::danger::decode_unverified;
use serde_json::{json, Value};

use crate::cli_error::CliError;
use crate::output::{print_json, Outcome};

/// Decode the header and claims of any JWT WITHOUT verifying it (`"verified": false`).
#[derive(Args)]
#[command(
    after_help = "Example:\n  keybound inspect \"$TOKEN\" | jq .claims\n\n\
Nothing is verified: not the signature, not the algorithm, not a single claim."
)]
pub struct InspectArgs {
    /// The JWT (compact serialization).
    #[arg(value_name = "TOKEN", allow_hyphen_values = true)]
    token: String,
}

pub fn inspect(args: &InspectArgs) -> Result<Outcome, CliError> {
    let jwt = decode_unverified(args.token.trim())
        .map_err(|e| CliError(format!("not a decodable JWT: {e}")))?;
    eprintln!("keybound: WARNING: decoded WITHOUT verification; do not trust these contents");
    print_json(&json!({
        "verified": false,
        "warning": "NOT VERIFIED: signature, algorithm and claims were not checked",
        "header": Value::Object(jwt.header),
        "claims": Value::Object(jwt.claims),
    }));
    Ok(Outcome::Success)
}
