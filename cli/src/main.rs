//! `keybound`: DPoP keys, proofs and bound access tokens from the command line.
//!
//! Keys are JWK or PEM files; every key signs with one JWS algorithm (ES256, ES384, ES512,
//! Ed25519, EdDSA, RS256, RS384, RS512, PS256, PS384, PS512), the one its JWK names, or — an
//! encryption key for encrypted access tokens — serves one JWE key-management algorithm.
//!
//! Exit status: 0 success or "valid"; 1 "rejected" (verify commands); 2 usage, I/O or key-file
//! error (message on stderr). Verify commands print exactly one JSON object on stdout.

#![forbid(unsafe_code)]

mod algorithm_arg;
mod cli_error;
mod encryption_keys;
mod inspect;
mod keys;
mod output;
mod proofs;
mod request_args;
mod tokens;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cli_error::CliError;
use crate::output::Outcome;

/// DPoP (RFC 9449) keys, proofs and bound access tokens, for testing DPoP-protected APIs and
/// for scripting.
///
/// Keys are JWK or PEM files. Algorithms: ES256 ES384 ES512 Ed25519 EdDSA RS256 RS384 RS512
/// PS256 PS384 PS512; a key signs with the "alg" its JWK names. Encrypted access tokens use
/// encryption keys (JWK, "use":"enc"): ECDH-ES, ECDH-ES+A128KW, ECDH-ES+A256KW, RSA-OAEP-256.
#[derive(Parser)]
#[command(name = "keybound", version, propagate_version = true)]
#[command(
    after_help = "Exit status: 0 success or valid; 1 rejected (verify commands); \
2 usage, I/O or key-file error.\n\nExample:\n  keybound keygen --out client.jwk\n  \
keybound keygen --alg PS256 --out issuer.jwk\n  \
keybound proof --key client.jwk --method GET --url https://api.example.com/orders"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Keygen(keys::KeygenArgs),
    Public(keys::PublicArgs),
    Thumbprint(keys::ThumbprintArgs),
    Jwks(keys::JwksArgs),
    Proof(proofs::ProofArgs),
    Issue(tokens::IssueArgs),
    VerifyProof(proofs::VerifyProofArgs),
    VerifyRequest(tokens::VerifyRequestArgs),
    Inspect(inspect::InspectArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(args) => keys::keygen(&args),
        Command::Public(args) => keys::public(&args),
        Command::Thumbprint(args) => keys::thumbprint(&args),
        Command::Jwks(args) => keys::jwks(&args),
        Command::Proof(args) => proofs::proof(&args),
        Command::Issue(args) => tokens::issue(&args),
        Command::VerifyProof(args) => proofs::verify_proof(&args),
        Command::VerifyRequest(args) => tokens::verify_request(&args),
        Command::Inspect(args) => inspect::inspect(&args),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Rejected) => ExitCode::from(1),
        Err(CliError(message)) => {
            eprintln!("keybound: {message}");
            ExitCode::from(2)
        }
    }
}
