//! `keygen`, `public`, `thumbprint`, `jwks`: keys as JWK files.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use keybound::{jwks_json, PublicKey, SigningKey};

use crate::cli_error::CliError;
use crate::output::Outcome;

/// Generate a new P-256 key as a private JWK (`kty`, `crv`, `x`, `y`, `d`).
#[derive(Args)]
#[command(after_help = "Example:\n  keybound keygen --out client.jwk\n\n\
With --out the file is created with mode 0600 and never overwritten; without it the key goes to stdout.")]
pub struct KeygenArgs {
    /// Write the key to FILE (created with mode 0600; refused if FILE exists).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Print the public JWK (no `d`) of a key file.
#[derive(Args)]
#[command(after_help = "Example:\n  keybound public --key client.jwk")]
pub struct PublicArgs {
    /// A private or public JWK file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
}

/// Print the RFC 7638 SHA-256 thumbprint (base64url), the value of `cnf.jkt` and `dpop_jkt`.
#[derive(Args)]
#[command(after_help = "Example:\n  keybound thumbprint --key client.jwk")]
pub struct ThumbprintArgs {
    /// A private or public JWK file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
}

/// Print a JWKS `{"keys":[…]}` of the public keys, each with `kid` = its thumbprint,
/// `alg` ES256 and `use` sig.
#[derive(Args)]
#[command(
    after_help = "Example:\n  keybound jwks --key issuer-1.jwk --key issuer-2.jwk > jwks.json"
)]
pub struct JwksArgs {
    /// A private or public JWK file; repeat for several keys.
    #[arg(long, value_name = "FILE", required = true)]
    key: Vec<PathBuf>,
}

pub fn keygen(args: &KeygenArgs) -> Result<Outcome, CliError> {
    let key = SigningKey::generate().map_err(|e| CliError(e.to_string()))?;
    let jwk = key.to_jwk();
    match &args.out {
        None => println!("{}", &*jwk),
        Some(path) => write_new_private_file(path, jwk.as_bytes())?,
    }
    Ok(Outcome::Success)
}

/// Creates `path` with mode 0600 (owner read/write only), never replacing an existing file.
fn write_new_private_file(path: &Path, contents: &[u8]) -> Result<(), CliError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            CliError::file(path, "already exists; refusing to overwrite")
        }
        _ => CliError::file(path, e),
    })?;
    file.write_all(contents)
        .and_then(|()| file.write_all(b"\n"))
        .map_err(|e| CliError::file(path, e))
}

fn read_key_file(path: &Path) -> Result<String, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::file(path, e))?;
    Ok(text.trim().to_owned())
}

/// Loads a private key (for signing).
pub fn load_signing_key(path: &Path) -> Result<SigningKey, CliError> {
    let text = read_key_file(path)?;
    SigningKey::from_jwk(&text)
        .map_err(|e| CliError::file(path, format!("not a private EC P-256 JWK: {e}")))
}

/// Loads the public half of a private or public JWK file.
pub fn load_public_key(path: &Path) -> Result<PublicKey, CliError> {
    let text = read_key_file(path)?;
    if let Ok(key) = SigningKey::from_jwk(&text) {
        return Ok(key.public_key().clone());
    }
    PublicKey::from_jwk(&text)
        .map_err(|e| CliError::file(path, format!("not an EC P-256 JWK: {e}")))
}

pub fn public(args: &PublicArgs) -> Result<Outcome, CliError> {
    println!("{}", load_public_key(&args.key)?.to_jwk());
    Ok(Outcome::Success)
}

pub fn thumbprint(args: &ThumbprintArgs) -> Result<Outcome, CliError> {
    println!("{}", load_public_key(&args.key)?.thumbprint());
    Ok(Outcome::Success)
}

pub fn jwks(args: &JwksArgs) -> Result<Outcome, CliError> {
    let keys = args
        .key
        .iter()
        .map(|path| load_public_key(path))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, key) in keys.iter().enumerate() {
        if keys[..i].contains(key) {
            return Err(CliError::flag(
                "--key",
                "the same key is given twice (duplicate kid)",
            ));
        }
    }
    println!("{}", jwks_json(&keys));
    Ok(Outcome::Success)
}
