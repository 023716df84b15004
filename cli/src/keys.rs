//! `keygen`, `public`, `thumbprint`, `jwks`, and reading key files (JWK or PEM) for every
//! command that takes `--key`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use keybound::{jwks_json, Algorithm, KeyError, KeyType, PublicKey, SigningKey};

use crate::algorithm_arg::{algorithm_parser, parse_rsa_bits};
use crate::cli_error::CliError;
use crate::output::Outcome;

/// RSA modulus size `keygen` uses when `--bits` is not given.
const DEFAULT_RSA_BITS: usize = 2048;

/// Generate a new signing key as a private JWK carrying its `alg` and `use` sig.
#[derive(Args)]
#[command(after_help = "Example:\n  keybound keygen --out client.jwk\n  \
keybound keygen --alg Ed25519 --out client.jwk\n  \
keybound keygen --alg PS256 --bits 3072 --out issuer.jwk\n\n\
ES256/ES384/ES512 make an EC P-256/P-384/P-521 key, Ed25519 and EdDSA an OKP Ed25519 key, \
RS*/PS* an RSA key (2048 bits unless --bits says otherwise; 4096 bits takes a while). \
The JWK's \"alg\" is the algorithm the key signs with: proof and issue use it.\n\n\
With --out the file is created with mode 0600 and never overwritten; without it the key goes to stdout.")]
pub struct KeygenArgs {
    /// The JWS algorithm the key signs with, spelled as in JOSE (case-sensitive).
    #[arg(long, value_name = "ALG", default_value = "ES256", value_parser = algorithm_parser())]
    alg: Algorithm,
    /// RSA modulus size, only for RS*/PS* (default 2048).
    #[arg(long, value_name = "2048|3072|4096", value_parser = parse_rsa_bits)]
    bits: Option<usize>,
    /// Write the key to FILE (created with mode 0600; refused if FILE exists).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Print the public JWK of a key file, without private part and without `alg`.
///
/// Only the key's own members: EC `kty`, `crv`, `x`, `y`; OKP `kty`, `crv`, `x`; RSA `kty`,
/// `n`, `e`.
#[derive(Args)]
#[command(after_help = "Example:\n  keybound public --key client.jwk\n\n\
The output has no \"alg\": to publish keys with their algorithm, run jwks on the key files \
themselves.")]
pub struct PublicArgs {
    /// A private or public key: JWK, or PEM (PKCS#8, PKCS#1, SEC1, SPKI).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
}

/// Print the RFC 7638 SHA-256 thumbprint (base64url), the value of `cnf.jkt` and `dpop_jkt`.
#[derive(Args)]
#[command(after_help = "Example:\n  keybound thumbprint --key client.jwk")]
pub struct ThumbprintArgs {
    /// A private or public key: JWK, or PEM (PKCS#8, PKCS#1, SEC1, SPKI).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
}

/// Print a JWKS `{"keys":[…]}` of the public keys, each with `kid` = its thumbprint, its `alg`
/// and `use` sig.
///
/// A key's `alg` is the one its file names; without one, EC keys get their curve's ES*, and
/// Ed25519 and RSA keys none (a warning says so: verifiers then accept any algorithm that fits
/// the key — `Ed25519` or `EdDSA`, any RS* or PS*).
#[derive(Args)]
#[command(
    after_help = "Example:\n  keybound jwks --key issuer-1.jwk --key issuer-2.pem > jwks.json"
)]
pub struct JwksArgs {
    /// A private or public key (JWK or PEM); repeat for several keys.
    #[arg(long, value_name = "FILE", required = true)]
    key: Vec<PathBuf>,
}

pub fn keygen(args: &KeygenArgs) -> Result<Outcome, CliError> {
    let key = match (args.alg.is_rsa(), args.bits) {
        (true, bits) => SigningKey::generate_rsa(args.alg, bits.unwrap_or(DEFAULT_RSA_BITS)),
        (false, None) => SigningKey::generate_for(args.alg),
        (false, Some(_)) => {
            return Err(CliError::flag(
                "--bits",
                format!(
                    "only for RSA algorithms (RS*, PS*); {} keys have a fixed size",
                    args.alg
                ),
            ))
        }
    }
    .map_err(|e| CliError(format!("cannot generate a key: {e}")))?;
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

/// The text of a key file.
enum KeyFile {
    /// Starts with `-----BEGIN`; the label of the first block says which kind.
    Pem(String),
    /// Anything else is read as a JWK.
    Jwk(String),
}

impl KeyFile {
    fn read(path: &Path) -> Result<Self, CliError> {
        let text = std::fs::read_to_string(path).map_err(|e| CliError::file(path, e))?;
        let text = text.trim().to_owned();
        if text.starts_with("-----BEGIN") {
            Ok(Self::Pem(text))
        } else {
            Ok(Self::Jwk(text))
        }
    }

    /// The first line of a PEM file (`-----BEGIN … -----`); empty for a JWK.
    fn pem_label(&self) -> &str {
        match self {
            Self::Pem(text) => text.lines().next().unwrap_or_default(),
            Self::Jwk(_) => "",
        }
    }

    /// The private key, signing with `alg` if given (which must fit the key and agree with
    /// the JWK's own `alg`), else with the JWK's `alg`, else the key type's default.
    fn signing_key(&self, alg: Option<Algorithm>) -> Result<SigningKey, KeyError> {
        match (self, alg) {
            (Self::Pem(text), None) => SigningKey::from_pem(text),
            (Self::Pem(text), Some(alg)) => SigningKey::from_pem_with_algorithm(text, alg),
            (Self::Jwk(text), None) => SigningKey::from_jwk(text),
            (Self::Jwk(text), Some(alg)) => SigningKey::from_jwk_with_algorithm(text, alg),
        }
    }

    /// The JWK's own `alg`, if it names a supported algorithm (for error messages only).
    fn jwk_alg(&self) -> Option<Algorithm> {
        let Self::Jwk(text) = self else { return None };
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        Algorithm::from_name(value.get("alg")?.as_str()?)
    }

    /// The public key of a public or private key file.
    fn public_key(&self) -> Result<PublicKey, KeyError> {
        match self {
            Self::Pem(_) if self.pem_label().contains("PRIVATE KEY") => self.public_half(),
            Self::Pem(text) => PublicKey::from_pem(text),
            Self::Jwk(text) => match PublicKey::from_jwk(text) {
                Err(KeyError::PrivateKey) => self.public_half(),
                other => other,
            },
        }
    }

    /// The public half of a private key, restricted to the key's `alg` when it names one. An
    /// RSA key without `alg` has no algorithm to sign with, but its public half is well
    /// defined: read it with one RSA algorithm (any fits) and drop that `alg` again.
    fn public_half(&self) -> Result<PublicKey, KeyError> {
        match self.signing_key(None) {
            Ok(key) => Ok(key.public_key().clone()),
            Err(KeyError::AlgorithmRequired) => {
                let key = self.signing_key(Some(Algorithm::Rs256))?;
                PublicKey::from_jwk(&key.public_key().to_jwk())
            }
            Err(e) => Err(e),
        }
    }
}

/// The hint for a PEM file keybound cannot read.
fn pem_hint(file: &KeyFile) -> &'static str {
    if file.pem_label().contains("ENCRYPTED") {
        " (encrypted PEM keys are not supported; decrypt it first)"
    } else {
        ""
    }
}

/// Loads a private key (JWK or PEM) for signing with `alg`, or with the algorithm the file
/// names, or — for a file without `alg` — EC by its curve and OKP with Ed25519. An RSA key
/// without `alg` is refused unless `alg` is given.
pub fn load_signing_key(path: &Path, alg: Option<Algorithm>) -> Result<SigningKey, CliError> {
    let file = KeyFile::read(path)?;
    if file.pem_label().contains("PUBLIC KEY") {
        return Err(CliError::file(
            path,
            "a public key cannot sign; give the private key",
        ));
    }
    file.signing_key(alg).map_err(|e| match (e, alg) {
        (KeyError::AlgorithmRequired, _) => CliError::file(
            path,
            "an RSA key without \"alg\" may sign RS256, RS384, RS512, PS256, PS384 or PS512; \
             choose one with --alg",
        ),
        (KeyError::WrongAlgorithm, Some(wanted)) => match file.jwk_alg() {
            Some(own) if own != wanted => CliError::file(
                path,
                format!("the key's \"alg\" is {own}, --alg {wanted} disagrees"),
            ),
            _ => CliError::file(
                path,
                format!(
                    "--alg {wanted} does not fit this key (ES256/ES384/ES512 need an EC \
                     P-256/P-384/P-521 key, Ed25519 and EdDSA an OKP Ed25519 key, RS*/PS* an \
                     RSA key)"
                ),
            ),
        },
        (KeyError::MissingMember("d"), _) => {
            CliError::file(path, "a public key cannot sign; give the private key")
        }
        (e, _) => CliError::file(
            path,
            format!(
                "not a usable private key (JWK or PEM): {e}{}",
                pem_hint(&file)
            ),
        ),
    })
}

/// Loads the public key of a private or public key file (JWK or PEM).
pub fn load_public_key(path: &Path) -> Result<PublicKey, CliError> {
    let file = KeyFile::read(path)?;
    file.public_key().map_err(|e| {
        CliError::file(
            path,
            format!("not a usable key (JWK or PEM): {e}{}", pem_hint(&file)),
        )
    })
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
    for (path, key) in args.key.iter().zip(&keys) {
        let fitting = match key.key_type() {
            KeyType::Ec(_) => None,
            KeyType::Ed25519 => Some("Ed25519 or EdDSA"),
            _ => Some("RS* or PS*"),
        };
        if let (None, Some(fitting)) = (key.algorithm(), fitting) {
            eprintln!(
                "keybound: jwks: {}: key without \"alg\", published without one: verifiers \
                 will accept any {fitting} signature by it",
                path.display()
            );
        }
    }
    println!("{}", jwks_json(&keys));
    Ok(Outcome::Success)
}
