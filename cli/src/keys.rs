//! `keygen`, `public`, `thumbprint`, `jwks`, and reading key files (JWK or PEM) for every
//! command that takes `--key`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use keybound::{
    encryption_jwks, jwks_json, Algorithm, EcdhCurve, KeyError, KeyType, PublicKey, SigningKey,
};
use zeroize::Zeroizing;

use crate::algorithm_arg::{keygen_alg_parser, parse_rsa_bits, KeygenAlg};
use crate::cli_error::CliError;
use crate::encryption_keys::{self, curve_parser};
use crate::output::Outcome;

/// RSA modulus size `keygen` uses when `--bits` is not given.
const DEFAULT_RSA_BITS: usize = 2048;

/// Largest key file read (keybound itself reads JWK and PEM keys of up to 16 KiB).
const MAX_KEY_FILE: usize = 64 * 1024;

/// Generate a new signing key (a private JWK with its `alg` and `use` sig) or, for a JWE
/// key-management `--alg`, an encryption key for encrypted access tokens (`use` enc).
#[derive(Args)]
#[command(after_help = "Example:\n  keybound keygen --out client.jwk\n  \
keybound keygen --alg Ed25519 --out client.jwk\n  \
keybound keygen --alg PS256 --bits 3072 --out issuer.jwk\n  \
keybound keygen --alg ECDH-ES+A256KW --crv P-256 --out api-enc.jwk\n\n\
ES256/ES384/ES512 make an EC P-256/P-384/P-521 key, Ed25519 and EdDSA an OKP Ed25519 key, \
RS*/PS* an RSA key (2048 bits unless --bits says otherwise; 4096 bits takes a while). \
The JWK's \"alg\" is the algorithm the key signs with: proof and issue use it.\n\n\
ECDH-ES, ECDH-ES+A128KW and ECDH-ES+A256KW make an encryption key on --crv (P-256 unless \
given; P-384, X25519), RSA-OAEP-256 an RSA-2048 one: a resource server's key for encrypted \
access tokens (\"use\":\"enc\", its \"alg\", \"kid\" = --kid or the key's thumbprint). \
Give its public half (keybound public --key FILE) to the issuer (issue --encrypt-to), keep \
the file for verify-request --decrypt-key.\n\n\
With --out the file is created with mode 0600 and never overwritten; without it the key goes to stdout.")]
pub struct KeygenArgs {
    /// The algorithm, spelled as in JOSE (case-sensitive): a JWS algorithm the key signs
    /// with, or ECDH-ES, ECDH-ES+A128KW, ECDH-ES+A256KW, RSA-OAEP-256 for an encryption key.
    #[arg(long, value_name = "ALG", default_value = "ES256", value_parser = keygen_alg_parser())]
    alg: KeygenAlg,
    /// RSA modulus size, only for RS*/PS* (default 2048).
    #[arg(long, value_name = "2048|3072|4096", value_parser = parse_rsa_bits)]
    bits: Option<usize>,
    /// The curve of an ECDH-ES encryption key: P-256 (default), P-384 or X25519.
    #[arg(long, value_name = "P-256|P-384|X25519", value_parser = curve_parser())]
    crv: Option<EcdhCurve>,
    /// The `kid` of an encryption key (default: its RFC 7638 thumbprint).
    #[arg(long, value_name = "KID")]
    kid: Option<String>,
    /// Write the key to FILE (created with mode 0600; refused if FILE exists).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Print the public JWK of a key file, without private part.
///
/// A signing key: only the key's own members, without `alg` (EC `kty`, `crv`, `x`, `y`; OKP
/// `kty`, `crv`, `x`; RSA `kty`, `n`, `e`). An encryption key (a JWK whose `alg` is ECDH-ES*
/// or RSA-OAEP-256): the public encryption JWK an issuer encrypts to, with `kid`, `use` enc
/// and `alg`.
#[derive(Args)]
#[command(after_help = "Example:\n  keybound public --key client.jwk\n  \
keybound public --key api-enc.jwk > api-enc.pub.jwk\n\n\
For a signing key the output has no \"alg\": to publish keys with their algorithm, run jwks on \
the key files themselves. For an encryption key it is what issue --encrypt-to takes.")]
pub struct PublicArgs {
    /// A private or public key: JWK, or PEM (PKCS#8, PKCS#1, SEC1, SPKI).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
}

/// Print the RFC 7638 SHA-256 thumbprint (base64url), the value of `cnf.jkt` and `dpop_jkt`
/// (for an encryption key: its default `kid`).
#[derive(Args)]
#[command(after_help = "Example:\n  keybound thumbprint --key client.jwk")]
pub struct ThumbprintArgs {
    /// A private or public key: JWK, or PEM (PKCS#8, PKCS#1, SEC1, SPKI).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
}

/// Print a JWKS `{"keys":[…]}` of the public keys, each with `kid` = its thumbprint, its `alg`
/// and `use` sig — or, for encryption keys, their public encryption JWKs (`kid` as in the
/// file, `use` enc, `alg`): what a resource server publishes for its issuers. One set holds
/// one kind.
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
    let jwk = match args.alg {
        KeygenAlg::Sign(alg) => signing_jwk(args, alg)?,
        KeygenAlg::Encrypt(alg) => {
            if args.bits.is_some() {
                return Err(CliError::flag(
                    "--bits",
                    "only for RS*/PS* signing keys; RSA-OAEP-256 keys are 2048 bits",
                ));
            }
            encryption_keys::generate(alg, args.crv, args.kid.as_deref())?
        }
    };
    match &args.out {
        None => print_secret(&jwk)?,
        Some(path) => write_new_private_file(path, jwk.as_bytes())?,
    }
    Ok(Outcome::Success)
}

/// A new private signing JWK for `alg`.
fn signing_jwk(args: &KeygenArgs, alg: Algorithm) -> Result<Zeroizing<String>, CliError> {
    if args.crv.is_some() || args.kid.is_some() {
        let flag = if args.crv.is_some() { "--crv" } else { "--kid" };
        return Err(CliError::flag(
            flag,
            format!(
                "only for encryption keys (ECDH-ES*, RSA-OAEP-256); a {alg} key's curve \
                 follows from its alg, and jwks gives it its thumbprint as kid"
            ),
        ));
    }
    let key = match (alg.is_rsa(), args.bits) {
        (true, bits) => SigningKey::generate_rsa(alg, bits.unwrap_or(DEFAULT_RSA_BITS)),
        (false, None) => SigningKey::generate_for(alg),
        (false, Some(_)) => {
            return Err(CliError::flag(
                "--bits",
                format!("only for RSA algorithms (RS*, PS*); {alg} keys have a fixed size"),
            ))
        }
    }
    .map_err(|e| CliError(format!("cannot generate a key: {e}")))?;
    Ok(key.to_jwk())
}

/// Prints `secret` and a newline in one write, which standard output's line buffer passes
/// straight through (`println!` would leave a copy of a short secret in that buffer).
fn print_secret(secret: &str) -> Result<(), CliError> {
    let mut line = Zeroizing::new(String::with_capacity(secret.len() + 1));
    line.push_str(secret);
    line.push('\n');
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(line.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError(format!("cannot write the key: {e}")))
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

/// The text of a key file, which may be a private key: kept in memory zeroized on drop.
pub enum KeyFile {
    /// Starts with `-----BEGIN`; the label of the first block says which kind.
    Pem(Zeroizing<String>),
    /// Anything else is read as a JWK.
    Jwk(Zeroizing<String>),
}

impl KeyFile {
    pub fn read(path: &Path) -> Result<Self, CliError> {
        let text = read_secret_file(path)?;
        if text.trim_start().starts_with("-----BEGIN") {
            Ok(Self::Pem(text))
        } else {
            Ok(Self::Jwk(text))
        }
    }

    /// The file's text without surrounding whitespace.
    pub fn text(&self) -> &str {
        match self {
            Self::Pem(text) | Self::Jwk(text) => text.trim(),
        }
    }

    /// The first line of a PEM file (`-----BEGIN … -----`); empty for a JWK.
    fn pem_label(&self) -> &str {
        match self {
            Self::Pem(_) => self.text().lines().next().unwrap_or_default(),
            Self::Jwk(_) => "",
        }
    }

    /// The private key, signing with `alg` if given (which must fit the key and agree with
    /// the JWK's own `alg`), else with the JWK's `alg`, else the key type's default.
    fn signing_key(&self, alg: Option<Algorithm>) -> Result<SigningKey, KeyError> {
        let text = self.text();
        match (self, alg) {
            (Self::Pem(_), None) => SigningKey::from_pem(text),
            (Self::Pem(_), Some(alg)) => SigningKey::from_pem_with_algorithm(text, alg),
            (Self::Jwk(_), None) => SigningKey::from_jwk(text),
            (Self::Jwk(_), Some(alg)) => SigningKey::from_jwk_with_algorithm(text, alg),
        }
    }

    /// The JWK's own `alg`, if it names a supported algorithm (for error messages only). Only
    /// `alg` is read, borrowed: the private members are skipped, never copied.
    fn jwk_alg(&self) -> Option<Algorithm> {
        #[derive(serde::Deserialize)]
        struct OnlyAlg<'a> {
            #[serde(borrow)]
            alg: Option<&'a str>,
        }
        let Self::Jwk(_) = self else { return None };
        let only: OnlyAlg<'_> = serde_json::from_str(self.text()).ok()?;
        Algorithm::from_name(only.alg?)
    }

    /// The public key of a public or private key file.
    fn public_key(&self) -> Result<PublicKey, KeyError> {
        match self {
            Self::Pem(_) if self.pem_label().contains("PRIVATE KEY") => self.public_half(),
            Self::Pem(_) => PublicKey::from_pem(self.text()),
            Self::Jwk(_) => match PublicKey::from_jwk(self.text()) {
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

/// Reads a key file of at most [`MAX_KEY_FILE`] bytes into one buffer, allocated once and
/// zeroized on drop (`std::fs::read_to_string` may grow its buffer, leaving copies behind).
fn read_secret_file(path: &Path) -> Result<Zeroizing<String>, CliError> {
    let mut file = File::open(path).map_err(|e| CliError::file(path, e))?;
    let mut bytes = Zeroizing::new(vec![0u8; MAX_KEY_FILE + 1]);
    let mut len = 0;
    while len < bytes.len() {
        match file.read(&mut bytes[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(CliError::file(path, e)),
        }
    }
    if len > MAX_KEY_FILE {
        return Err(CliError::file(
            path,
            format!("larger than {} KiB; not a key file", MAX_KEY_FILE / 1024),
        ));
    }
    let text = std::str::from_utf8(&bytes[..len])
        .map_err(|_| CliError::file(path, "not UTF-8 text; not a key file"))?;
    let mut owned = Zeroizing::new(String::with_capacity(text.len()));
    owned.push_str(text);
    Ok(owned)
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
    let file = KeyFile::read(&args.key)?;
    if encryption_keys::is_encryption_key(&file) {
        println!(
            "{}",
            encryption_keys::encryption_key(&args.key, &file)?.to_jwk()
        );
    } else {
        println!("{}", load_public_key(&args.key)?.to_jwk());
    }
    Ok(Outcome::Success)
}

pub fn thumbprint(args: &ThumbprintArgs) -> Result<Outcome, CliError> {
    let file = KeyFile::read(&args.key)?;
    if encryption_keys::is_encryption_key(&file) {
        println!(
            "{}",
            encryption_keys::encryption_key(&args.key, &file)?.thumbprint()
        );
    } else {
        println!("{}", load_public_key(&args.key)?.thumbprint());
    }
    Ok(Outcome::Success)
}

pub fn jwks(args: &JwksArgs) -> Result<Outcome, CliError> {
    let files = args
        .key
        .iter()
        .map(|path| KeyFile::read(path))
        .collect::<Result<Vec<_>, _>>()?;
    let encryption = files
        .iter()
        .filter(|f| encryption_keys::is_encryption_key(f))
        .count();
    match encryption {
        0 => signature_jwks(args),
        n if n == files.len() => encryption_key_set(args, &files),
        _ => Err(CliError::flag(
            "--key",
            "signing and encryption keys mixed: publish them as separate sets",
        )),
    }
}

/// `jwks` for encryption keys: their public JWKs, distinct `kid`s.
fn encryption_key_set(args: &JwksArgs, files: &[KeyFile]) -> Result<Outcome, CliError> {
    let keys = args
        .key
        .iter()
        .zip(files)
        .map(|(path, file)| encryption_keys::encryption_key(path, file))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, key) in keys.iter().enumerate() {
        if keys[..i].iter().any(|other| other.kid() == key.kid()) {
            return Err(CliError::flag(
                "--key",
                "two encryption keys with the same kid (or none): tokens could not name one",
            ));
        }
    }
    println!("{}", encryption_jwks(&keys));
    Ok(Outcome::Success)
}

/// `jwks` for signing keys.
fn signature_jwks(args: &JwksArgs) -> Result<Outcome, CliError> {
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
