//! `issue` and `verify-request`: bound access tokens (RFC 9068, RFC 9449 §6, §7).

use std::path::PathBuf;

use clap::Args;
use keybound::{
    Algorithm, ContentEncryption, IssuerKeys, KeySet, RequestGuard, ResourceRequest, Thumbprint,
    TokenIssuer, TokenOptions, TokenRequest, TokenVerifier, DEFAULT_TOKEN_LIFETIME_SECS,
};
use serde_json::{json, Value};

use crate::algorithm_arg::algorithm_parser;
use crate::cli_error::CliError;
use crate::encryption_keys::{enc_parser, load_decryption_key, load_encryption_key};
use crate::keys::load_signing_key;
use crate::output::{now, print_json, Outcome};
use crate::proofs::{iat_window_hint, proof_verifier};
use crate::request_args::{parse_method, parse_url};

/// Issue an RFC 9068 `at+jwt` access token bound to JKT (`cnf.jkt`), signed with the key's alg.
///
/// The header's `kid` is the issuer key's thumbprint.
#[derive(Args)]
#[command(
    after_help = "Example:\n  keybound issue --key issuer.jwk --iss https://as.example.com \
--aud https://api.example.com --sub alice --jkt \"$(keybound thumbprint --key client.jwk)\" --scope orders:read\n\n\
The token's alg is the key file's \"alg\"; for a key without one, EC keys sign with their \
curve's ES256/ES384/ES512 and Ed25519 keys with Ed25519, and RSA keys need --alg. Publish the \
key with `keybound jwks --key issuer.jwk` so verifiers know its alg.\n\n\
With --encrypt-to the signed token is encrypted to that public encryption JWK (a nested JWT, \
RFC 7519 §5.2: a compact JWE with cty JWT, the key's alg and kid; --enc A256GCM unless \
given) and the JWE is printed:\n  keybound issue ... --encrypt-to api-enc.pub.jwk --enc A128CBC-HS256"
)]
pub struct IssueArgs {
    /// The issuer's private key: JWK, or PEM (PKCS#8, PKCS#1, SEC1).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Sign with ALG: needed for an RSA key without "alg"; must equal the key's "alg" if it
    /// has one.
    #[arg(long, value_name = "ALG", value_parser = algorithm_parser())]
    alg: Option<Algorithm>,
    /// `iss`: the issuer identifier.
    #[arg(long, value_name = "ISS")]
    iss: String,
    /// `aud`: the resource server the token is for.
    #[arg(long, value_name = "AUD")]
    aud: String,
    /// `sub`: the subject.
    #[arg(long, value_name = "SUB")]
    sub: String,
    /// The client key's thumbprint to bind to (`cnf.jkt`).
    #[arg(long, value_name = "JKT", allow_hyphen_values = true)]
    jkt: String,
    /// Lifetime in seconds (at most 3600).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TOKEN_LIFETIME_SECS)]
    ttl: u64,
    /// `scope`: space-separated scopes.
    #[arg(long, value_name = "S")]
    scope: Option<String>,
    /// `client_id` (default: keybound-cli).
    #[arg(long, value_name = "ID", default_value = "keybound-cli")]
    client_id: String,
    /// Pin `iat` to UNIX_SECONDS instead of the system clock.
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
    /// Allow a plain `http` --iss on a host that is not loopback (RFC 8414 requires https;
    /// for test rigs only).
    #[arg(long)]
    insecure_http: bool,
    /// Encrypt the token to the resource server's public encryption JWK (with "alg":
    /// ECDH-ES, ECDH-ES+A128KW, ECDH-ES+A256KW or RSA-OAEP-256).
    #[arg(long, value_name = "PUBLIC_JWK_FILE")]
    encrypt_to: Option<PathBuf>,
    /// The content encryption of --encrypt-to: A128GCM, A256GCM (default), A128CBC-HS256,
    /// A256CBC-HS512.
    #[arg(long, value_name = "ENC", requires = "encrypt_to", value_parser = enc_parser())]
    enc: Option<ContentEncryption>,
}

/// Run the resource-server guard on one request: token, proof, binding (RFC 9449 §7).
///
/// Keys in the JWKS that cannot verify signatures (encryption keys, X25519, unknown `kty`, …)
/// are skipped with a warning line each on stderr. Prints one JSON object: `{"valid":true,"sub","jkt","client_id","scope","claims"}` (exit 0)
/// or `{"valid":false,"status","error","reason","www_authenticate","dpop_nonce"}` (exit 1).
#[derive(Args)]
#[command(
    after_help = "Example:\n  keybound verify-request --jwks jwks.json --iss https://as.example.com \
--aud https://api.example.com --method GET --url https://api.example.com/orders \
--authorization \"DPoP $TOKEN\" --dpop \"$PROOF\"\n\n\
Tokens and proofs may use any of ES256 ES384 ES512 Ed25519 EdDSA RS256 RS384 RS512 PS256 PS384 \
PS512 that fits their key; a JWKS key with \"alg\" verifies only that alg. The DPoP challenge in \
www_authenticate lists the accepted proof algs in algs=\"…\".\n\n\
An encrypted token (a compact JWE) is decrypted with the --decrypt-key whose kid it names (or \
the only one), then checked as any other; without --decrypt-key it is refused (invalid_token)."
)]
pub struct VerifyRequestArgs {
    /// The issuer's JWKS file; keys that cannot verify signatures are skipped.
    #[arg(long, value_name = "FILE")]
    jwks: PathBuf,
    /// The expected `iss`.
    #[arg(long, value_name = "ISS")]
    iss: String,
    /// This resource server's audience (must be in `aud`).
    #[arg(long, value_name = "AUD")]
    aud: String,
    /// The request method.
    #[arg(long, value_name = "M", value_parser = parse_method)]
    method: String,
    /// The request's public URL.
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    url: String,
    /// The `Authorization` header value, e.g. "DPoP eyJ…" (repeat for several headers).
    #[arg(
        long,
        value_name = "VALUE",
        required = true,
        allow_hyphen_values = true
    )]
    authorization: Vec<String>,
    /// The `DPoP` header value (repeat for several headers).
    #[arg(
        long,
        value_name = "PROOF",
        required = true,
        allow_hyphen_values = true
    )]
    dpop: Vec<String>,
    /// The server issued this nonce and requires it in the proof.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    nonce: Option<String>,
    /// Verify at UNIX_SECONDS instead of the system clock.
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
    /// Oldest accepted proof `iat`, in seconds before now.
    #[arg(long, value_name = "S", default_value_t = 60)]
    max_age: u64,
    /// Clock skew tolerated for the proof and the token, in seconds.
    #[arg(long, value_name = "S", default_value_t = 5)]
    leeway: u64,
    /// Allow a plain `http` --iss or --url on a host that is not loopback (for test rigs
    /// only).
    #[arg(long)]
    insecure_http: bool,
    /// A private encryption JWK for encrypted tokens (repeat for several: rotation, chosen
    /// by the token's kid).
    #[arg(long, value_name = "FILE")]
    decrypt_key: Vec<PathBuf>,
}

/// Refuses `url` given as `flag` when it is plain `http` off loopback, unless allowed.
fn secure_or_allowed(flag: &'static str, url: &str, allowed: bool) -> Result<(), CliError> {
    if allowed || keybound::is_secure_url(url) {
        return Ok(());
    }
    Err(CliError::flag(
        flag,
        "plain http to a host that is not loopback (use https, or add --insecure-http)",
    ))
}

pub fn issue(args: &IssueArgs) -> Result<Outcome, CliError> {
    secure_or_allowed("--iss", &args.iss, args.insecure_http)?;
    let key = load_signing_key(&args.key, args.alg)?;
    let jkt = Thumbprint::from_base64url(&args.jkt)
        .map_err(|_| CliError::flag("--jkt", "not a base64url SHA-256 thumbprint"))?;
    let mut request =
        TokenRequest::new(&args.sub, &args.aud, &args.client_id, jkt).with_lifetime_secs(args.ttl);
    if let Some(scope) = &args.scope {
        request = request.with_scope(scope);
    }
    let mut issuer = TokenIssuer::new(&args.iss, IssuerKeys::new(key));
    if args.insecure_http {
        issuer = issuer.allow_insecure_http();
    }
    if let Some(path) = &args.encrypt_to {
        let recipient = load_encryption_key(path)?;
        let enc = args.enc.unwrap_or(ContentEncryption::A256Gcm);
        issuer = issuer.with_encryption(&args.aud, &recipient, enc);
    }
    let issued = issuer.issue(&request, now(args.now)).map_err(|e| {
        CliError(format!(
            "cannot issue: {e} (--ttl is 1..=3600; --iss, --aud, --sub, --client-id non-empty)"
        ))
    })?;
    println!("{}", issued.access_token);
    Ok(Outcome::Success)
}

pub fn verify_request(args: &VerifyRequestArgs) -> Result<Outcome, CliError> {
    secure_or_allowed("--iss", &args.iss, args.insecure_http)?;
    secure_or_allowed("--url", &args.url, args.insecure_http)?;
    let text = std::fs::read_to_string(&args.jwks).map_err(|e| CliError::file(&args.jwks, e))?;
    let keys = KeySet::from_jwks(text.trim())
        .map_err(|e| CliError::file(&args.jwks, format!("not a usable JWKS: {e}")))?;
    for skipped in keys.skipped() {
        // The reason is a fixed description; the kid is printed escaped (`{:?}`), never raw,
        // and no key member is ever printed.
        match &skipped.kid {
            Some(kid) => eprintln!(
                "keybound: jwks: skipped key {} (kid {kid:?}): {}",
                skipped.index, skipped.reason
            ),
            None => eprintln!(
                "keybound: jwks: skipped key {}: {}",
                skipped.index, skipped.reason
            ),
        }
    }
    let mut tokens = TokenVerifier::new(&args.iss, &args.aud, keys)
        .with_options(TokenOptions::new().with_leeway_secs(args.leeway));
    if args.insecure_http {
        tokens = tokens.allow_insecure_http();
    }
    let proofs = proof_verifier(args.max_age, args.leeway, args.nonce.as_deref(), &[])?;
    let mut guard = RequestGuard::new(tokens).with_proof_verifier(proofs);
    for path in &args.decrypt_key {
        guard = guard.with_decryption_key(load_decryption_key(path)?);
    }
    let authorization: Vec<&str> = args.authorization.iter().map(String::as_str).collect();
    let dpop: Vec<&str> = args.dpop.iter().map(String::as_str).collect();
    let request = ResourceRequest::new(&args.method, &args.url, &authorization, &dpop);
    let at = now(args.now);
    match guard.check(&request, at) {
        Ok(authorized) => {
            print_json(&json!({
                "valid": true,
                "sub": authorized.subject(),
                "jkt": authorized.jkt().map(|t| t.to_string()),
                "client_id": authorized.client_id(),
                "scope": authorized.claims().scope(),
                "claims": Value::Object(authorized.claims().to_json()),
            }));
            Ok(Outcome::Success)
        }
        Err(rejection) => {
            let error = rejection.error();
            let mut answer = json!({
                "valid": false,
                "status": rejection.status(),
                "error": error.code(keybound::Endpoint::Resource).map(|c| c.as_str()),
                "reason": error.reason(),
                "www_authenticate": rejection.www_authenticate(),
                "dpop_nonce": rejection.dpop_nonce(),
            });
            if let Some(hint) = iat_window_hint(error.reason(), args.max_age, args.leeway, at) {
                answer["hint"] = hint.into();
            }
            print_json(&answer);
            Ok(Outcome::Rejected)
        }
    }
}
