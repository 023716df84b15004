//! `proof` and `verify-proof`: DPoP proofs (RFC 9449 §4).

use std::path::PathBuf;

use clap::Args;
use keybound::{
    Algorithm, Endpoint, ProofOptions, ProofRequest, ProofSigner, ProofVerifier, UnixTime,
};
use serde_json::json;

use crate::algorithm_arg::algorithm_parser;
use crate::cli_error::CliError;
use crate::keys::load_signing_key;
use crate::output::{now, print_json, Outcome};
use crate::request_args::{parse_method, parse_url};

/// Sign one DPoP proof (compact JWS, one line) with the key's algorithm. `htu` is the URL
/// without query and fragment.
#[derive(Args)]
#[command(
    after_help = "Example:\n  keybound proof --key client.jwk --method GET \
--url https://api.example.com/orders --access-token \"$TOKEN\"\n\n\
  curl -H \"Authorization: DPoP $TOKEN\" -H \"DPoP: $(keybound proof …)\" https://api.example.com/orders\n\n\
The proof's alg is the key file's \"alg\"; for a key without one, EC keys sign with their \
curve's ES256/ES384/ES512 and Ed25519 keys with Ed25519, and RSA keys need --alg."
)]
pub struct ProofArgs {
    /// The client's private key: JWK, or PEM (PKCS#8, PKCS#1, SEC1).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Sign with ALG: needed for an RSA key without "alg"; must equal the key's "alg" if it
    /// has one.
    #[arg(long, value_name = "ALG", value_parser = algorithm_parser())]
    alg: Option<Algorithm>,
    /// The HTTP method of the request (`htm`), e.g. GET.
    #[arg(long, value_name = "M", value_parser = parse_method)]
    method: String,
    /// The request URL (`htu` is this without query and fragment).
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    url: String,
    /// The access token the request carries; adds `ath`.
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    access_token: Option<String>,
    /// The server-provided nonce (`DPoP-Nonce`).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    nonce: Option<String>,
    /// Pin `iat` to UNIX_SECONDS instead of the system clock.
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
    /// Allow a plain `http` --url on a host that is not loopback (the proof would travel in
    /// the clear; for test rigs only).
    #[arg(long)]
    insecure_http: bool,
}

/// Check one DPoP proof (RFC 9449 §4.3). Replay is out of scope for a one-shot process.
///
/// Prints one JSON object: `{"valid":true,"alg","jkt","jti","iat","htm","htu"}` (exit 0) or
/// `{"valid":false,"error","reason","description"}` (exit 1).
#[derive(Args)]
#[command(
    after_help = "Example:\n  keybound verify-proof --proof \"$PROOF\" --method POST \
--url https://as.example.com/token --now 1700000000 --alg ES256 --alg PS256\n\n\
`error` is invalid_dpop_proof or use_dpop_nonce; `reason` is a stable code naming the failed \
check (see the README's table of reasons). A proof whose alg is not accepted is refused with \
reason unsupported_alg; one whose alg does not fit its jwk with alg_key_mismatch."
)]
pub struct VerifyProofArgs {
    /// The proof (the DPoP header value).
    #[arg(long, value_name = "P", allow_hyphen_values = true)]
    proof: String,
    /// The request method the proof must name (`htm`, case-sensitive).
    #[arg(long, value_name = "M", value_parser = parse_method)]
    method: String,
    /// The request URL the proof must name (`htu`, compared after RFC 3986 normalisation).
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    url: String,
    /// The access token presented with the proof; its hash must equal `ath`.
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    access_token: Option<String>,
    /// The server issued this nonce and requires it in the proof.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    nonce: Option<String>,
    /// Verify at UNIX_SECONDS instead of the system clock.
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
    /// Oldest accepted `iat`, in seconds before now.
    #[arg(long, value_name = "S", default_value_t = 60)]
    max_age: u64,
    /// Clock skew tolerated, in seconds.
    #[arg(long, value_name = "S", default_value_t = 5)]
    leeway: u64,
    /// Accept only proofs signed with ALG; repeat for several (default: all eleven, ES256
    /// ES384 ES512 Ed25519 EdDSA RS256 RS384 RS512 PS256 PS384 PS512).
    #[arg(long = "alg", value_name = "ALG", value_parser = algorithm_parser())]
    algs: Vec<Algorithm>,
}

pub fn proof(args: &ProofArgs) -> Result<Outcome, CliError> {
    if !args.insecure_http && !keybound::is_secure_url(&args.url) {
        return Err(CliError::flag(
            "--url",
            "plain http to a host that is not loopback (use https, or add --insecure-http)",
        ));
    }
    let signer = ProofSigner::new(load_signing_key(&args.key, args.alg)?);
    let mut builder = signer.proof(&args.method, &args.url);
    if let Some(token) = &args.access_token {
        builder = builder.with_access_token(token);
    }
    if let Some(nonce) = &args.nonce {
        builder = builder.with_nonce(nonce);
    }
    let proof = builder
        .sign(now(args.now))
        .map_err(|e| CliError(e.to_string()))?;
    println!("{proof}");
    Ok(Outcome::Success)
}

/// Builds the proof verifier the verify commands share. An empty `algs` accepts every
/// supported algorithm (the library's default); otherwise exactly those.
pub fn proof_verifier(
    max_age: u64,
    leeway: u64,
    nonce: Option<&str>,
    algs: &[Algorithm],
) -> Result<ProofVerifier, CliError> {
    let mut options = ProofOptions::new()
        .with_max_age_secs(max_age)
        .with_leeway_secs(leeway);
    if !algs.is_empty() {
        options = options.with_algorithms(algs.iter().copied());
    }
    let verifier = ProofVerifier::new().with_options(options);
    match nonce {
        None => Ok(verifier),
        Some(nonce) => verifier
            .with_required_nonce(nonce)
            .map_err(|_| CliError::flag("--nonce", "not a valid nonce (RFC 9449 §8.1 NQCHAR)")),
    }
}

/// For a proof refused for its `iat` (`iat_too_old`, `iat_in_future`), the window in force:
/// what the one-shot check compared the proof's `iat` with, and how to widen or move it.
pub fn iat_window_hint(reason: &str, max_age: u64, leeway: u64, now: UnixTime) -> Option<String> {
    let now = now.as_secs();
    match reason {
        "iat_too_old" => Some(format!(
            "the proof's iat must be at or after {} (now {now} minus --max-age {max_age} and \
             --leeway {leeway} seconds); check an old proof with --now, or widen --max-age",
            now.saturating_sub(max_age + leeway)
        )),
        "iat_in_future" => Some(format!(
            "the proof's iat must be at or before {} (now {now} plus --leeway {leeway} \
             seconds); is a clock off, or is --now too early?",
            now + leeway
        )),
        _ => None,
    }
}

pub fn verify_proof(args: &VerifyProofArgs) -> Result<Outcome, CliError> {
    let verifier = proof_verifier(args.max_age, args.leeway, args.nonce.as_deref(), &args.algs)?;
    let headers = [args.proof.as_str()];
    let mut request = ProofRequest::new(&args.method, &args.url, &headers);
    if let Some(token) = &args.access_token {
        request = request.with_access_token(token);
    }
    let at = now(args.now);
    match verifier.verify(&request, at) {
        Ok(proof) => {
            print_json(&json!({
                "valid": true,
                "alg": proof.algorithm().as_str(),
                "jkt": proof.thumbprint().to_string(),
                "jti": proof.jti(),
                "iat": proof.issued_at().as_secs(),
                "htm": proof.htm(),
                "htu": proof.htu(),
            }));
            Ok(Outcome::Success)
        }
        Err(error) => {
            let code = error
                .code(Endpoint::Token)
                .map_or("invalid_dpop_proof", |c| c.as_str());
            let mut answer = json!({
                "valid": false,
                "error": code,
                "reason": error.reason(),
                "description": error.description(),
            });
            if let Some(hint) = iat_window_hint(error.reason(), args.max_age, args.leeway, at) {
                answer["hint"] = hint.into();
            }
            print_json(&answer);
            Ok(Outcome::Rejected)
        }
    }
}
