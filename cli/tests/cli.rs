//! The `keybound` binary, run as a user would: every subcommand, round trips, exit statuses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use keybound::{Algorithm, KeySet, PublicKey, SigningKey};
use serde_json::{json as json_value, Value};

const NOW: &str = "1700000000";
const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const URL: &str = "https://api.example.com/orders";

fn keybound(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keybound"))
        .args(args)
        .output()
        .expect("run keybound")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .trim_end()
        .to_owned()
}

fn json(output: &Output) -> Value {
    let text = stdout(output);
    assert_eq!(text.lines().count(), 1, "exactly one JSON line: {text}");
    serde_json::from_str(&text).unwrap()
}

fn ok(args: &[&str]) -> String {
    let output = keybound(args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout(&output)
}

/// A fresh temporary directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keybound-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn keygen(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    ok(&["keygen", "--out", path.to_str().unwrap()]);
    path.to_str().unwrap().to_owned()
}

/// `keygen --alg ALG --out DIR/NAME` (RSA at the default 2048 bits).
fn keygen_alg(dir: &Path, name: &str, alg: &str) -> String {
    let path = dir.join(name);
    ok(&["keygen", "--alg", alg, "--out", path.to_str().unwrap()]);
    path.to_str().unwrap().to_owned()
}

/// Writes `text` to DIR/NAME and returns the path.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The key file at `path` as JSON.
fn read_jwk(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A copy of the private JWK at `path` without its `alg`, written to DIR/NAME.
fn without_alg(dir: &Path, name: &str, path: &str) -> String {
    let mut jwk = read_jwk(path);
    jwk.as_object_mut().unwrap().remove("alg");
    write(dir, name, &jwk.to_string())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Signs a proof for `GET URL` at NOW with the key at `key` (and `extra` flags).
fn sign_proof(key: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "proof", "--key", key, "--method", "GET", "--url", URL, "--now", NOW,
    ];
    args.extend(extra);
    ok(&args)
}

/// `verify-proof` of a proof for `GET URL` at NOW, with `extra` flags.
fn verify_proof(proof: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "verify-proof",
        "--proof",
        proof,
        "--method",
        "GET",
        "--url",
        URL,
        "--now",
        NOW,
    ];
    args.extend(extra);
    keybound(&args)
}

const ALL_ALGS: [&str; 11] = [
    "ES256", "ES384", "ES512", "Ed25519", "EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384",
    "PS512",
];

#[test]
fn keygen_prints_a_private_jwk() {
    let jwk: Value = serde_json::from_str(&ok(&["keygen"])).unwrap();
    for member in ["kty", "crv", "x", "y", "d"] {
        assert!(jwk[member].is_string(), "{member}");
    }
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert!(SigningKey::from_jwk(&jwk.to_string()).is_ok());
}

#[test]
fn keygen_file_is_0600_and_never_overwritten() {
    let dir = temp_dir("keygen");
    let path = keygen(&dir, "client.jwk");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = std::fs::read(&path).unwrap();
    let again = keybound(&["keygen", "--out", &path]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn public_thumbprint_and_jwks() {
    let dir = temp_dir("keys");
    let client = keygen(&dir, "client.jwk");
    let public = ok(&["public", "--key", &client]);
    let public_json: Value = serde_json::from_str(&public).unwrap();
    assert!(public_json.get("d").is_none());
    let key = PublicKey::from_jwk(&public).unwrap();
    let thumbprint = ok(&["thumbprint", "--key", &client]);
    assert_eq!(thumbprint, key.thumbprint().to_string());
    // The same thumbprint from the public JWK file.
    let public_path = dir.join("public.jwk");
    std::fs::write(&public_path, &public).unwrap();
    assert_eq!(
        ok(&["thumbprint", "--key", public_path.to_str().unwrap()]),
        thumbprint
    );

    let second = keygen(&dir, "second.jwk");
    let jwks = ok(&["jwks", "--key", &client, "--key", &second]);
    let set = KeySet::from_jwks(&jwks).unwrap();
    assert_eq!(set.len(), 2);
    assert!(set.get(&thumbprint).is_some());
    let document: Value = serde_json::from_str(&jwks).unwrap();
    for entry in document["keys"].as_array().unwrap() {
        assert_eq!(entry["alg"], "ES256");
        assert_eq!(entry["use"], "sig");
        assert!(entry.get("d").is_none());
    }
    let dup = keybound(&["jwks", "--key", &client, "--key", &client]);
    assert_eq!(dup.status.code(), Some(2));
}

#[test]
fn bad_key_files_exit_2() {
    let dir = temp_dir("badkeys");
    let missing = dir.join("missing.jwk");
    let out = keybound(&["public", "--key", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    let junk = dir.join("junk.jwk");
    std::fs::write(&junk, r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#).unwrap();
    assert_eq!(
        keybound(&["thumbprint", "--key", junk.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    // A public key cannot sign.
    let public = dir.join("public.jwk");
    std::fs::write(
        &public,
        SigningKey::generate().unwrap().public_key().to_jwk(),
    )
    .unwrap();
    let out = keybound(&[
        "proof",
        "--key",
        public.to_str().unwrap(),
        "--method",
        "GET",
        "--url",
        URL,
    ]);
    assert_eq!(out.status.code(), Some(2));
    // Usage errors.
    assert_eq!(keybound(&["bogus"]).status.code(), Some(2));
    assert_eq!(
        keybound(&["proof", "--method", "GET"]).status.code(),
        Some(2)
    );
    assert_eq!(
        keybound(&[
            "verify-proof",
            "--proof",
            "x",
            "--method",
            "GET",
            "--url",
            URL,
            "--now",
            "soon"
        ])
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn proof_then_verify_proof() {
    let dir = temp_dir("proof");
    let client = keygen(&dir, "client.jwk");
    let proof = ok(&[
        "proof",
        "--key",
        &client,
        "--method",
        "POST",
        "--url",
        "https://as.example.com/token?x=1#f",
        "--now",
        NOW,
    ]);
    assert_eq!(proof.lines().count(), 1);
    let out = keybound(&[
        "verify-proof",
        "--proof",
        &proof,
        "--method",
        "POST",
        "--url",
        "https://as.example.com/token",
        "--now",
        NOW,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let result = json(&out);
    assert_eq!(result["valid"], true);
    assert_eq!(result["jkt"], ok(&["thumbprint", "--key", &client]));
    assert_eq!(result["iat"], 1_700_000_000u64);
    assert_eq!(result["htm"], "POST");
    assert_eq!(result["htu"], "https://as.example.com/token");
    assert!(result["jti"].is_string());

    // Rejections: exit 1, one JSON object with error, reason, description.
    let cases = [
        (
            vec![
                "--method",
                "GET",
                "--url",
                "https://as.example.com/token",
                "--now",
                NOW,
            ],
            "invalid_dpop_proof",
            "htm_mismatch",
        ),
        (
            vec![
                "--method",
                "POST",
                "--url",
                "https://as.example.com/other",
                "--now",
                NOW,
            ],
            "invalid_dpop_proof",
            "htu_mismatch",
        ),
        (
            vec![
                "--method",
                "POST",
                "--url",
                "https://as.example.com/token",
                "--now",
                "1700000066",
            ],
            "invalid_dpop_proof",
            "iat_too_old",
        ),
        (
            vec![
                "--method",
                "POST",
                "--url",
                "https://as.example.com/token",
                "--now",
                NOW,
                "--access-token",
                "abc",
            ],
            "invalid_dpop_proof",
            "missing_ath",
        ),
        (
            vec![
                "--method",
                "POST",
                "--url",
                "https://as.example.com/token",
                "--now",
                NOW,
                "--nonce",
                "n-1",
            ],
            "use_dpop_nonce",
            "missing_nonce",
        ),
    ];
    for (extra, error, reason) in cases {
        let mut args = vec!["verify-proof", "--proof", proof.as_str()];
        args.extend(extra);
        let out = keybound(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let result = json(&out);
        assert_eq!(result["valid"], false);
        assert_eq!(result["error"], error, "{args:?}");
        assert_eq!(result["reason"], reason, "{args:?}");
        assert!(result["description"].is_string());
    }
    // --max-age widens the window.
    let late = keybound(&[
        "verify-proof",
        "--proof",
        &proof,
        "--method",
        "POST",
        "--url",
        "https://as.example.com/token",
        "--now",
        "1700000066",
        "--max-age",
        "120",
    ]);
    assert_eq!(late.status.code(), Some(0));
    // Garbage.
    let out = keybound(&[
        "verify-proof",
        "--proof",
        "not.a.proof",
        "--method",
        "POST",
        "--url",
        URL,
        "--now",
        NOW,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["valid"], false);
}

#[test]
fn proof_with_nonce_and_token() {
    let dir = temp_dir("nonce");
    let client = keygen(&dir, "client.jwk");
    let proof = ok(&[
        "proof",
        "--key",
        &client,
        "--method",
        "GET",
        "--url",
        URL,
        "--access-token",
        "tok",
        "--nonce",
        "n-1",
        "--now",
        NOW,
    ]);
    let out = keybound(&[
        "verify-proof",
        "--proof",
        &proof,
        "--method",
        "GET",
        "--url",
        URL,
        "--access-token",
        "tok",
        "--nonce",
        "n-1",
        "--now",
        NOW,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let wrong = keybound(&[
        "verify-proof",
        "--proof",
        &proof,
        "--method",
        "GET",
        "--url",
        URL,
        "--access-token",
        "tok",
        "--nonce",
        "n-2",
        "--now",
        NOW,
    ]);
    assert_eq!(wrong.status.code(), Some(1));
    assert_eq!(json(&wrong)["reason"], "invalid_nonce");
}

#[test]
fn issue_then_verify_request() {
    let dir = temp_dir("request");
    let client = keygen(&dir, "client.jwk");
    let issuer = keygen(&dir, "issuer.jwk");
    let jwks_path = dir.join("jwks.json");
    std::fs::write(&jwks_path, ok(&["jwks", "--key", &issuer])).unwrap();
    let jwks = jwks_path.to_str().unwrap();
    let jkt = ok(&["thumbprint", "--key", &client]);
    let token = ok(&[
        "issue",
        "--key",
        &issuer,
        "--iss",
        ISS,
        "--aud",
        AUD,
        "--sub",
        "alice",
        "--jkt",
        &jkt,
        "--scope",
        "read write",
        "--client-id",
        "app",
        "--now",
        NOW,
    ]);
    let inspected = json(&keybound(&["inspect", &token]));
    assert_eq!(inspected["header"]["typ"], "at+jwt");
    assert_eq!(
        inspected["header"]["kid"],
        ok(&["thumbprint", "--key", &issuer])
    );
    assert_eq!(inspected["claims"]["exp"], 1_700_000_300u64);
    assert_eq!(inspected["claims"]["cnf"]["jkt"], jkt);

    let proof = ok(&[
        "proof",
        "--key",
        &client,
        "--method",
        "GET",
        "--url",
        URL,
        "--access-token",
        &token,
        "--now",
        NOW,
    ]);
    let authorization = format!("DPoP {token}");
    let base = [
        "verify-request",
        "--jwks",
        jwks,
        "--iss",
        ISS,
        "--aud",
        AUD,
        "--method",
        "GET",
        "--url",
        URL,
        "--authorization",
        &authorization,
    ];
    let mut args = base.to_vec();
    args.extend(["--dpop", &proof, "--now", NOW]);
    let out = keybound(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let result = json(&out);
    assert_eq!(result["valid"], true);
    assert_eq!(result["sub"], "alice");
    assert_eq!(result["jkt"], jkt);
    assert_eq!(result["client_id"], "app");
    assert_eq!(result["scope"], "read write");
    assert_eq!(result["claims"]["iss"], ISS);

    // A thief's proof with the stolen token.
    let thief = keygen(&dir, "thief.jwk");
    let stolen = ok(&[
        "proof",
        "--key",
        &thief,
        "--method",
        "GET",
        "--url",
        URL,
        "--access-token",
        &token,
        "--now",
        NOW,
    ]);
    let mut args = base.to_vec();
    args.extend(["--dpop", &stolen, "--now", NOW]);
    let out = keybound(&args);
    assert_eq!(out.status.code(), Some(1));
    let result = json(&out);
    assert_eq!(result["valid"], false);
    assert_eq!(result["status"], 401);
    assert_eq!(result["error"], "invalid_token");
    assert!(result["www_authenticate"]
        .as_str()
        .unwrap()
        .starts_with("DPoP "));
    assert!(result["dpop_nonce"].is_null());

    // Nonce required: 401 use_dpop_nonce with the nonce to use.
    let mut args = base.to_vec();
    args.extend(["--dpop", &proof, "--now", NOW, "--nonce", "srv-1"]);
    let result = json(&keybound(&args));
    assert_eq!(result["error"], "use_dpop_nonce");
    assert_eq!(result["dpop_nonce"], "srv-1");

    // Expired token.
    let mut args = base.to_vec();
    let later_proof = ok(&[
        "proof",
        "--key",
        &client,
        "--method",
        "GET",
        "--url",
        URL,
        "--access-token",
        &token,
        "--now",
        "1700000400",
    ]);
    args.extend(["--dpop", &later_proof, "--now", "1700000400"]);
    let result = json(&keybound(&args));
    assert_eq!(result["error"], "invalid_token");
    assert_eq!(result["reason"], "token_expired");
}

#[test]
fn issue_refuses_bad_input() {
    let dir = temp_dir("issue");
    let issuer = keygen(&dir, "issuer.jwk");
    let jkt = ok(&["thumbprint", "--key", &issuer]);
    let base = [
        "issue", "--key", &issuer, "--iss", ISS, "--aud", AUD, "--sub", "alice",
    ];
    let mut args = base.to_vec();
    args.extend(["--jkt", "not-a-thumbprint"]);
    assert_eq!(keybound(&args).status.code(), Some(2));
    let mut args = base.to_vec();
    args.extend(["--jkt", &jkt, "--ttl", "3601"]);
    assert_eq!(keybound(&args).status.code(), Some(2));
    let mut args = base.to_vec();
    args.extend(["--jkt", &jkt, "--ttl", "60", "--now", NOW]);
    let token = ok(&args);
    assert_eq!(
        json(&keybound(&["inspect", &token]))["claims"]["exp"],
        1_700_000_060u64
    );
}

#[test]
fn inspect_says_it_verified_nothing() {
    let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
    let out = keybound(&["inspect", none]);
    assert_eq!(out.status.code(), Some(0));
    let result = json(&out);
    assert_eq!(result["verified"], false);
    assert_eq!(result["header"]["alg"], "none");
    assert_eq!(result["claims"]["sub"], "x");
    assert!(String::from_utf8_lossy(&out.stderr).contains("WITHOUT verification"));
    assert_eq!(keybound(&["inspect", "garbage"]).status.code(), Some(2));
}

#[test]
fn rfc9449_example_proofs_verify() {
    let data: Value =
        serde_json::from_str(include_str!("../../tests/data/rfc/rfc9449_examples.json")).unwrap();
    for case in data["proofs"].as_array().unwrap() {
        let now = case["now"].as_u64().unwrap().to_string();
        let mut args = vec![
            "verify-proof",
            "--proof",
            case["proof"].as_str().unwrap(),
            "--method",
            case["method"].as_str().unwrap(),
            "--url",
            case["url"].as_str().unwrap(),
            "--now",
            &now,
        ];
        if let Some(token) = case["access_token"].as_str() {
            args.extend(["--access-token", token]);
        }
        let out = keybound(&args);
        assert_eq!(out.status.code(), Some(0), "{}", case["name"]);
        assert_eq!(json(&out)["jkt"], case["expected"]["jkt"]);
    }
    let jwk = data["public_jwk"].to_string();
    let dir = temp_dir("rfc");
    let path = dir.join("rfc.jwk");
    std::fs::write(&path, jwk).unwrap();
    assert_eq!(
        ok(&["thumbprint", "--key", path.to_str().unwrap()]),
        data["jwk_thumbprint"]
    );
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in [
        "keygen",
        "public",
        "thumbprint",
        "jwks",
        "proof",
        "issue",
        "verify-proof",
        "verify-request",
        "inspect",
    ] {
        let help = ok(&[sub, "--help"]);
        assert!(help.contains("Example:"), "{sub}");
    }
    assert!(ok(&["--help"]).contains("Exit status"));
}

#[test]
fn keygen_every_algorithm() {
    for alg in ALL_ALGS {
        // RSA at 2048 bits only (the default, and once explicitly), to keep the test fast.
        let mut args = vec!["keygen", "--alg", alg];
        if alg == "PS512" {
            args.extend(["--bits", "2048"]);
        }
        let text = ok(&args);
        let jwk: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(jwk["alg"], alg);
        assert_eq!(jwk["use"], "sig");
        assert!(jwk["d"].is_string(), "{alg}");
        let (kty, crv) = match alg {
            "ES256" => ("EC", Some("P-256")),
            "ES384" => ("EC", Some("P-384")),
            "ES512" => ("EC", Some("P-521")),
            "Ed25519" | "EdDSA" => ("OKP", Some("Ed25519")),
            _ => ("RSA", None),
        };
        assert_eq!(jwk["kty"], kty, "{alg}");
        match crv {
            Some(crv) => assert_eq!(jwk["crv"], crv, "{alg}"),
            None => {
                // 2048 bits: 256 bytes, 342 base64url characters.
                assert_eq!(jwk["n"].as_str().unwrap().len(), 342, "{alg}");
                for member in ["p", "q", "dp", "dq", "qi"] {
                    assert!(jwk[member].is_string(), "{alg} {member}");
                }
            }
        }
        let key = SigningKey::from_jwk(&text).unwrap();
        assert_eq!(key.algorithm().as_str(), alg);
    }
    // The default is ES256.
    let jwk: Value = serde_json::from_str(&ok(&["keygen"])).unwrap();
    assert_eq!(jwk["alg"], "ES256");
    assert_eq!(jwk["use"], "sig");

    // Refused with exit 2: bad sizes, --bits where the size is fixed, unknown or
    // mis-spelled algorithm names.
    for args in [
        &["keygen", "--alg", "RS256", "--bits", "1024"][..],
        &["keygen", "--alg", "PS256", "--bits", "2047"],
        &["keygen", "--alg", "ES256", "--bits", "2048"],
        &["keygen", "--bits", "2048"],
        &["keygen", "--alg", "Ed25519", "--bits", "3072"],
        &["keygen", "--alg", "none"],
        &["keygen", "--alg", "HS256"],
        &["keygen", "--alg", "es256"],
        &["keygen", "--alg", "ED25519"],
    ] {
        let out = keybound(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = keybound(&["keygen", "--alg", "ES384", "--bits", "2048"]);
    assert!(stderr(&out).contains("--bits"), "{}", stderr(&out));
}

#[test]
fn keygen_rsa_file_is_0600() {
    let dir = temp_dir("keygen-rsa");
    let path = keygen_alg(&dir, "issuer.jwk", "RS256");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(read_jwk(&path)["alg"], "RS256");
    let again = keybound(&["keygen", "--alg", "PS256", "--out", &path]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(read_jwk(&path)["alg"], "RS256");
}

#[test]
fn proof_round_trip_for_each_key_type() {
    let dir = temp_dir("proof-algs");
    for alg in ["ES384", "Ed25519", "EdDSA", "PS256", "RS256", "ES512"] {
        let key = keygen_alg(&dir, &format!("{alg}.jwk"), alg);
        let proof = sign_proof(&key, &["--access-token", "tok"]);
        let header = json(&keybound(&["inspect", &proof]))["header"].clone();
        assert_eq!(header["alg"], alg);
        assert_eq!(header["typ"], "dpop+jwt");
        assert!(header["jwk"].get("d").is_none());
        // The proof's jwk carries the public members only (no "alg", no "use").
        assert!(header["jwk"].get("alg").is_none(), "{alg}");

        let out = verify_proof(&proof, &["--access-token", "tok"]);
        assert_eq!(out.status.code(), Some(0), "{alg}: {}", stdout(&out));
        let result = json(&out);
        assert_eq!(result["valid"], true);
        assert_eq!(result["alg"], alg);
        assert_eq!(result["jkt"], ok(&["thumbprint", "--key", &key]));
        // Narrowed to exactly this algorithm: still accepted.
        let out = verify_proof(&proof, &["--access-token", "tok", "--alg", alg]);
        assert_eq!(out.status.code(), Some(0), "{alg}");
        assert_eq!(json(&out)["alg"], alg);
    }
}

#[test]
fn verify_proof_alg_narrows_what_is_accepted() {
    let dir = temp_dir("proof-narrow");
    let key = keygen_alg(&dir, "client.jwk", "PS256");
    let proof = sign_proof(&key, &[]);

    let out = verify_proof(&proof, &["--alg", "ES256"]);
    assert_eq!(out.status.code(), Some(1));
    let result = json(&out);
    assert_eq!(result["valid"], false);
    assert_eq!(result["error"], "invalid_dpop_proof");
    assert_eq!(result["reason"], "unsupported_alg");
    assert!(result.get("alg").is_none());

    // Several --alg flags: any of them.
    let out = verify_proof(&proof, &["--alg", "ES256", "--alg", "PS256"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["alg"], "PS256");
    // RS256 is another algorithm for the same RSA key: not accepted when only RS256 is.
    let out = verify_proof(&proof, &["--alg", "RS256"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["reason"], "unsupported_alg");
    // Names the library does not implement are usage errors.
    for bad in ["HS256", "none", "ps256"] {
        assert_eq!(
            verify_proof(&proof, &["--alg", bad]).status.code(),
            Some(2),
            "{bad}"
        );
    }
}

#[test]
fn keys_without_alg() {
    let dir = temp_dir("noalg");
    // EC: the curve's algorithm; OKP: Ed25519.
    for (alg, expected) in [("ES384", "ES384"), ("EdDSA", "Ed25519")] {
        let with = keygen_alg(&dir, &format!("{alg}.jwk"), alg);
        let bare = without_alg(&dir, &format!("{alg}-bare.jwk"), &with);
        let proof = sign_proof(&bare, &[]);
        assert_eq!(json(&verify_proof(&proof, &[]))["alg"], expected, "{alg}");
    }

    // RSA without alg: refused unless --alg names one.
    let rsa = keygen_alg(&dir, "rsa.jwk", "RS256");
    let bare = without_alg(&dir, "rsa-bare.jwk", &rsa);
    let refused = keybound(&["proof", "--key", &bare, "--method", "GET", "--url", URL]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stdout.is_empty());
    let message = stderr(&refused);
    assert!(message.contains("--alg"), "{message}");
    assert!(message.contains("RSA"), "{message}");
    assert!(!message.contains(&read_jwk(&rsa)["d"].as_str().unwrap()[..16]));

    let proof = sign_proof(&bare, &["--alg", "PS384"]);
    assert_eq!(json(&verify_proof(&proof, &[]))["alg"], "PS384");
    // --alg must fit the key ...
    let out = keybound(&[
        "proof", "--key", &bare, "--method", "GET", "--url", URL, "--alg", "ES256",
    ]);
    assert_eq!(out.status.code(), Some(2));
    // ... and agree with the key's own alg.
    let out = keybound(&[
        "proof", "--key", &rsa, "--method", "GET", "--url", URL, "--alg", "PS256",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("RS256"), "{}", stderr(&out));
    let proof = sign_proof(&rsa, &["--alg", "RS256"]);
    assert_eq!(json(&verify_proof(&proof, &[]))["alg"], "RS256");

    // The same rules for issue.
    let jkt = ok(&["thumbprint", "--key", &bare]);
    let base = [
        "issue", "--key", &bare, "--iss", ISS, "--aud", AUD, "--sub", "alice", "--jkt", &jkt,
    ];
    let out = keybound(&base);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--alg"));
    let mut args = base.to_vec();
    args.extend(["--alg", "PS512"]);
    let token = ok(&args);
    assert_eq!(
        json(&keybound(&["inspect", &token]))["header"]["alg"],
        "PS512"
    );

    // Thumbprint and public key need no algorithm; jwks publishes it without alg and warns.
    assert_eq!(jkt, ok(&["thumbprint", "--key", &rsa]));
    assert_eq!(
        ok(&["public", "--key", &bare]),
        ok(&["public", "--key", &rsa])
    );
    let out = keybound(&["jwks", "--key", &bare]);
    assert_eq!(out.status.code(), Some(0));
    let document: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(document["keys"][0].get("alg").is_none());
    assert!(stderr(&out).contains("without \"alg\""), "{}", stderr(&out));
}

#[test]
fn pem_keys_everywhere() {
    use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
    use p256::pkcs8::LineEnding;
    use rsa::pkcs1::EncodeRsaPrivateKey as _;

    let dir = temp_dir("pem");
    let p256_key = p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).unwrap();
    let p256_pkcs8 = write(
        &dir,
        "p256.pem",
        &p256::pkcs8::EncodePrivateKey::to_pkcs8_pem(&p256_key, LineEnding::LF).unwrap(),
    );
    let p256_sec1 = write(
        &dir,
        "p256-sec1.pem",
        &p256::SecretKey::from(&p256_key)
            .to_sec1_pem(LineEnding::LF)
            .unwrap(),
    );
    let p256_public = write(
        &dir,
        "p256-public.pem",
        &p256::pkcs8::EncodePublicKey::to_public_key_pem(p256_key.verifying_key(), LineEnding::LF)
            .unwrap(),
    );
    let ed_key = ed25519_dalek::SigningKey::from_bytes(&[0x22; 32]);
    let ed_pkcs8 = write(
        &dir,
        "ed25519.pem",
        &ed_key.to_pkcs8_pem(LineEnding::LF).unwrap(),
    );
    let ed_public = write(
        &dir,
        "ed25519-public.pem",
        &ed_key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap(),
    );
    let rsa_key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
    let rsa_pkcs1 = write(
        &dir,
        "rsa-pkcs1.pem",
        &rsa_key.to_pkcs1_pem(LineEnding::LF).unwrap(),
    );
    let rsa_pkcs8 = write(
        &dir,
        "rsa-pkcs8.pem",
        &rsa::pkcs8::EncodePrivateKey::to_pkcs8_pem(&rsa_key, LineEnding::LF).unwrap(),
    );
    let rsa_public = write(
        &dir,
        "rsa-public.pem",
        &rsa::pkcs8::EncodePublicKey::to_public_key_pem(&rsa_key.to_public_key(), LineEnding::LF)
            .unwrap(),
    );

    // Private and public PEM of one key: one thumbprint, one public JWK, which the library
    // reads to the same key as the SPKI PEM.
    for (private, public) in [
        (&p256_pkcs8, &p256_public),
        (&p256_sec1, &p256_public),
        (&ed_pkcs8, &ed_public),
        (&rsa_pkcs1, &rsa_public),
        (&rsa_pkcs8, &rsa_public),
    ] {
        let thumbprint = ok(&["thumbprint", "--key", public]);
        assert_eq!(
            ok(&["thumbprint", "--key", private]),
            thumbprint,
            "{private}"
        );
        let jwk = ok(&["public", "--key", private]);
        assert_eq!(ok(&["public", "--key", public]), jwk, "{public}");
        let expected = PublicKey::from_pem(&std::fs::read_to_string(public).unwrap()).unwrap();
        assert_eq!(PublicKey::from_jwk(&jwk).unwrap(), expected);
        assert_eq!(thumbprint, expected.thumbprint().to_string());
    }
    assert!(ok(&["public", "--key", &p256_pkcs8]).contains(r#""crv":"P-256""#));

    // PEM keys sign: EC by curve, Ed25519 as Ed25519, RSA with --alg only.
    for (key, extra, alg) in [
        (&p256_pkcs8, &[][..], "ES256"),
        (&p256_sec1, &[], "ES256"),
        (&ed_pkcs8, &[], "Ed25519"),
        (&ed_pkcs8, &["--alg", "EdDSA"], "EdDSA"),
        (&rsa_pkcs1, &["--alg", "RS256"], "RS256"),
        (&rsa_pkcs8, &["--alg", "PS256"], "PS256"),
    ] {
        let proof = sign_proof(key, extra);
        let result = json(&verify_proof(&proof, &[]));
        assert_eq!(result["alg"], alg, "{key}");
        assert_eq!(result["jkt"], ok(&["thumbprint", "--key", key]));
    }
    for key in [&rsa_pkcs1, &rsa_pkcs8] {
        let out = keybound(&["proof", "--key", key, "--method", "GET", "--url", URL]);
        assert_eq!(out.status.code(), Some(2), "{key}");
        assert!(stderr(&out).contains("--alg"));
    }
    // A public PEM cannot sign.
    let out = keybound(&[
        "proof",
        "--key",
        &p256_public,
        "--method",
        "GET",
        "--url",
        URL,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("public key"), "{}", stderr(&out));

    // An issuer key in PEM; its JWKS from the public PEM.
    let jkt = ok(&["thumbprint", "--key", &ed_pkcs8]);
    let token = ok(&[
        "issue", "--key", &rsa_pkcs8, "--alg", "PS384", "--iss", ISS, "--aud", AUD, "--sub",
        "alice", "--jkt", &jkt, "--now", NOW,
    ]);
    assert_eq!(
        json(&keybound(&["inspect", &token]))["header"]["alg"],
        "PS384"
    );
    let jwks = ok(&["jwks", "--key", &p256_public, "--key", &ed_public]);
    let document: Value = serde_json::from_str(&jwks).unwrap();
    assert_eq!(document["keys"][0]["alg"], "ES256");
    // An Ed25519 key without an `alg` of its own fits both `Ed25519` and `EdDSA`: naming one
    // would narrow it, so none is written.
    assert!(document["keys"][1].get("alg").is_none());
    assert_eq!(document["keys"][1]["crv"], "Ed25519");

    // Garbage behind a PEM header.
    let junk = write(
        &dir,
        "junk.pem",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    let out = keybound(&["thumbprint", "--key", &junk]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains("P-256"), "{}", stderr(&out));
}

#[test]
fn jwks_shows_each_keys_alg() {
    let dir = temp_dir("jwks-algs");
    let rsa = keygen_alg(&dir, "rsa.jwk", "PS384");
    let ed = keygen_alg(&dir, "ed.jwk", "EdDSA");
    let ec = keygen_alg(&dir, "ec.jwk", "ES512");
    // A public JWK with its own alg keeps it.
    let mut rs_public: Value = serde_json::from_str(&ok(&["public", "--key", &rsa])).unwrap();
    assert!(rs_public.get("alg").is_none());
    assert!(rs_public.get("d").is_none());
    let other_rsa = keygen_alg(&dir, "other.jwk", "RS512");
    rs_public = serde_json::from_str(&ok(&["public", "--key", &other_rsa])).unwrap();
    rs_public["alg"] = "RS512".into();
    let rs_public = write(&dir, "rs-public.jwk", &rs_public.to_string());

    let out = keybound(&[
        "jwks", "--key", &rsa, "--key", &ed, "--key", &ec, "--key", &rs_public,
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let jwks = stdout(&out);
    let document: Value = serde_json::from_str(&jwks).unwrap();
    let entries = document["keys"].as_array().unwrap();
    let expected = [
        (&rsa, "PS384", "RSA"),
        (&ed, "EdDSA", "OKP"),
        (&ec, "ES512", "EC"),
        (&rs_public, "RS512", "RSA"),
    ];
    assert_eq!(entries.len(), expected.len());
    for (entry, (path, alg, kty)) in entries.iter().zip(expected) {
        assert_eq!(entry["alg"], alg);
        assert_eq!(entry["kty"], kty);
        assert_eq!(entry["use"], "sig");
        assert_eq!(entry["kid"], ok(&["thumbprint", "--key", path]));
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(entry.get(private).is_none(), "{alg} {private}");
        }
    }
    let set = KeySet::from_jwks(&jwks).unwrap();
    assert_eq!(set.len(), 4);
    assert!(set.skipped().is_empty());
    let kid = ok(&["thumbprint", "--key", &rsa]);
    assert_eq!(set.get(&kid).unwrap().algorithm(), Some(Algorithm::Ps384));
}

#[test]
fn verify_request_skips_unusable_jwks_keys() {
    let dir = temp_dir("request-algs");
    let issuer = keygen_alg(&dir, "issuer.jwk", "PS256");
    let client = keygen_alg(&dir, "client.jwk", "Ed25519");
    let jwks: Value = serde_json::from_str(&ok(&["jwks", "--key", &issuer])).unwrap();
    // An RSA encryption key and an X25519 key, as providers publish them next to signing keys.
    let enc_rsa = keygen_alg(&dir, "enc.jwk", "RS256");
    let mut enc: Value = serde_json::from_str(&ok(&["public", "--key", &enc_rsa])).unwrap();
    enc["use"] = "enc".into();
    enc["alg"] = "RSA-OAEP-256".into();
    enc["kid"] = "enc-1".into();
    let x25519 = json_value!({
        "kty": "OKP",
        "crv": "X25519",
        "kid": "x25519-1",
        "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo",
    });
    let document = json_value!({"keys": [enc, jwks["keys"][0], x25519]});
    let jwks_path = write(&dir, "jwks.json", &document.to_string());

    let jkt = ok(&["thumbprint", "--key", &client]);
    let token = ok(&[
        "issue", "--key", &issuer, "--iss", ISS, "--aud", AUD, "--sub", "alice", "--jkt", &jkt,
        "--now", NOW,
    ]);
    assert_eq!(
        json(&keybound(&["inspect", &token]))["header"]["alg"],
        "PS256"
    );
    let proof = sign_proof(&client, &["--access-token", &token]);
    let authorization = format!("DPoP {token}");
    let base = [
        "verify-request",
        "--jwks",
        &jwks_path,
        "--iss",
        ISS,
        "--aud",
        AUD,
        "--method",
        "GET",
        "--url",
        URL,
        "--authorization",
        &authorization,
        "--now",
        NOW,
    ];
    let mut args = base.to_vec();
    args.extend(["--dpop", &proof]);
    let out = keybound(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let result = json(&out);
    assert_eq!(result["valid"], true);
    assert_eq!(result["sub"], "alice");
    assert_eq!(result["jkt"], jkt);

    let warnings = stderr(&out);
    let lines: Vec<&str> = warnings.lines().collect();
    assert_eq!(lines.len(), 2, "{warnings}");
    assert!(
        lines[0].starts_with(r#"keybound: jwks: skipped key 0 (kid "enc-1"): "#),
        "{warnings}"
    );
    assert!(
        lines[1].starts_with(r#"keybound: jwks: skipped key 2 (kid "x25519-1"): "#),
        "{warnings}"
    );
    // No key material in the warnings.
    assert!(!warnings.contains(&document["keys"][0]["n"].as_str().unwrap()[..16]));
    assert!(!warnings.contains("hSDwCYkw"));

    // A rejection's DPoP challenge lists every accepted proof algorithm.
    let thief = keygen_alg(&dir, "thief.jwk", "ES384");
    let stolen = sign_proof(&thief, &["--access-token", &token]);
    let mut args = base.to_vec();
    args.extend(["--dpop", &stolen]);
    let out = keybound(&args);
    assert_eq!(out.status.code(), Some(1));
    let challenge = json(&out)["www_authenticate"].as_str().unwrap().to_owned();
    assert!(
        challenge.contains(&format!(r#"algs="{}""#, ALL_ALGS.join(" "))),
        "{challenge}"
    );

    // Only unusable keys: the JWKS itself is refused (exit 2).
    let useless = write(
        &dir,
        "useless.json",
        &json_value!({"keys": [document["keys"][0], document["keys"][2]]}).to_string(),
    );
    let mut args = base.to_vec();
    args[2] = &useless;
    args.extend(["--dpop", &proof]);
    let out = keybound(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("JWKS"), "{}", stderr(&out));
}

#[test]
fn plain_http_off_loopback_needs_insecure_http() {
    let dir = temp_dir("insecure-http");
    let key = keygen(&dir, "client.jwk");
    let url = "http://api.example.com/orders";
    let refused = keybound(&["proof", "--key", &key, "--method", "GET", "--url", url]);
    assert_eq!(refused.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("--url") && stderr.contains("--insecure-http"),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty(), "no proof printed");
    let proof = ok(&[
        "proof",
        "--key",
        &key,
        "--method",
        "GET",
        "--url",
        url,
        "--insecure-http",
    ]);
    assert_eq!(proof.split('.').count(), 3);
    // Loopback needs no flag.
    ok(&[
        "proof",
        "--key",
        &key,
        "--method",
        "GET",
        "--url",
        "http://127.0.0.1:3000/orders",
    ]);

    let jkt = ok(&["thumbprint", "--key", &key]);
    let issuer = keygen(&dir, "issuer.jwk");
    let issue = |extra: &[&str]| {
        let mut args = vec![
            "issue",
            "--key",
            &issuer,
            "--iss",
            "http://as.example.com",
            "--aud",
            "a",
            "--sub",
            "s",
            "--jkt",
            &jkt,
        ];
        args.extend_from_slice(extra);
        keybound(&args)
    };
    let refused = issue(&[]);
    assert_ne!(refused.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--iss"));
    assert_eq!(issue(&["--insecure-http"]).status.code(), Some(0));
}

/// Base64url values may start with `-` (a thumbprint, a token, a proof, a nonce): they are
/// values, not flags.
#[test]
fn values_starting_with_a_hyphen_are_values() {
    let dir = temp_dir("hyphen");
    let issuer = keygen(&dir, "issuer.jwk");
    let jkt = "-Y8Exz-Fk4ag4t9ieSrA7o3RiUwkxm1YNp9vB5cgI_U";
    let token = ok(&[
        "issue",
        "--key",
        &issuer,
        "--iss",
        "https://as.example.com",
        "--aud",
        "a",
        "--sub",
        "s",
        "--jkt",
        jkt,
    ]);
    assert_eq!(token.split('.').count(), 3);
    let client = keygen(&dir, "client.jwk");
    let proof = ok(&[
        "proof",
        "--key",
        &client,
        "--method",
        "GET",
        "--url",
        "https://a.example/x",
        "--access-token",
        "-abc",
        "--nonce",
        "-n1",
    ]);
    assert_eq!(proof.split('.').count(), 3);
}

// --- encrypted access tokens (issue 15) ------------------------------------------------------

/// `keygen --alg ALG [--crv CRV] --out DIR/NAME` for an encryption key.
fn keygen_enc(dir: &Path, name: &str, alg: &str, crv: Option<&str>) -> String {
    let path = dir.join(name);
    let mut args = vec!["keygen", "--alg", alg, "--out", path.to_str().unwrap()];
    if let Some(crv) = crv {
        args.extend(["--crv", crv]);
    }
    ok(&args);
    path.to_str().unwrap().to_owned()
}

/// `public --key PRIVATE` written to DIR/NAME.
fn public_file(dir: &Path, name: &str, private: &str) -> String {
    write(dir, name, &ok(&["public", "--key", private]))
}

/// A token for `client` issued at NOW by `issuer`, with `extra` flags (`--encrypt-to` …).
fn issue_for(issuer: &str, client: &str, extra: &[&str]) -> Output {
    let jkt = ok(&["thumbprint", "--key", client]);
    let mut args = vec![
        "issue", "--key", issuer, "--iss", ISS, "--aud", AUD, "--sub", "alice", "--jkt", &jkt,
        "--now", NOW,
    ];
    args.extend(extra);
    keybound(&args)
}

/// `verify-request` of `token` with a fresh proof by `client`, with `extra` flags.
fn verify_token(jwks: &str, client: &str, token: &str, extra: &[&str]) -> Output {
    let proof = sign_proof(client, &["--access-token", token]);
    let authorization = format!("DPoP {token}");
    let mut args = vec![
        "verify-request",
        "--jwks",
        jwks,
        "--iss",
        ISS,
        "--aud",
        AUD,
        "--method",
        "GET",
        "--url",
        URL,
        "--authorization",
        &authorization,
        "--dpop",
        &proof,
        "--now",
        NOW,
    ];
    args.extend(extra);
    keybound(&args)
}

fn protected_header(jwe: &str) -> Value {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let first = jwe.split('.').next().unwrap();
    serde_json::from_slice(&Base64UrlUnpadded::decode_vec(first).unwrap()).unwrap()
}

#[test]
fn keygen_encryption_keys() {
    let dir = temp_dir("keygen-enc");
    for (alg, crv, kty, expected_crv) in [
        ("ECDH-ES", None, "EC", Some("P-256")),
        ("ECDH-ES", Some("X25519"), "OKP", Some("X25519")),
        ("ECDH-ES+A128KW", Some("P-384"), "EC", Some("P-384")),
        ("ECDH-ES+A256KW", Some("P-256"), "EC", Some("P-256")),
        ("RSA-OAEP-256", None, "RSA", None),
    ] {
        let name = format!("{alg}-{}.jwk", crv.unwrap_or("default"));
        let path = keygen_enc(&dir, &name, alg, crv);
        let jwk = read_jwk(&path);
        assert_eq!(jwk["use"], "enc", "{alg}");
        assert_eq!(jwk["alg"], alg);
        assert_eq!(jwk["kty"], kty);
        assert_eq!(jwk["crv"].as_str(), expected_crv);
        assert!(jwk["d"].is_string(), "a private key");
        // The kid is the thumbprint; the public half drops every private member.
        assert_eq!(
            jwk["kid"].as_str().unwrap(),
            ok(&["thumbprint", "--key", &path])
        );
        let public: Value = serde_json::from_str(&ok(&["public", "--key", &path])).unwrap();
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(public.get(private).is_none(), "{alg}: {private}");
        }
        assert_eq!((&public["alg"], &public["use"]), (&jwk["alg"], &jwk["use"]));
        assert_eq!(public["kid"], jwk["kid"]);
    }
    let named = dir.join("named.jwk");
    ok(&[
        "keygen",
        "--alg",
        "ECDH-ES",
        "--kid",
        "rs-2026",
        "--out",
        named.to_str().unwrap(),
    ]);
    assert_eq!(read_jwk(named.to_str().unwrap())["kid"], "rs-2026");
    // --crv fits only the ECDH-ES algorithms, --bits only RSA signing keys.
    for args in [
        &["keygen", "--alg", "RSA-OAEP-256", "--crv", "P-256"][..],
        &["keygen", "--alg", "ES256", "--crv", "P-256"],
        &["keygen", "--alg", "ES256", "--kid", "x"],
        &["keygen", "--alg", "ECDH-ES", "--bits", "2048"],
        &["keygen", "--alg", "ECDH-ES", "--crv", "P-521"],
        &["keygen", "--alg", "RSA-OAEP"],
        &["keygen", "--alg", "RSA1_5"],
        &["keygen", "--alg", "ecdh-es"],
    ] {
        assert_eq!(keybound(args).status.code(), Some(2), "{args:?}");
    }
    // Encryption and signing keys are published as separate sets.
    let enc = dir.join("ECDH-ES-default.jwk");
    let jwks: Value = serde_json::from_str(&ok(&[
        "jwks",
        "--key",
        enc.to_str().unwrap(),
        "--key",
        named.to_str().unwrap(),
    ]))
    .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    assert!(jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["use"] == "enc" && k.get("d").is_none()));
    let signing = keygen(&dir, "signing.jwk");
    let mixed = keybound(&["jwks", "--key", enc.to_str().unwrap(), "--key", &signing]);
    assert_eq!(mixed.status.code(), Some(2));
}

#[test]
fn encrypted_tokens_issue_verify_and_inspect() {
    let dir = temp_dir("encrypted");
    let client = keygen(&dir, "client.jwk");
    let issuer = keygen(&dir, "issuer.jwk");
    let jwks = write(&dir, "jwks.json", &ok(&["jwks", "--key", &issuer]));
    let old = keygen_enc(&dir, "old.jwk", "ECDH-ES+A128KW", Some("P-384"));
    let new = keygen_enc(&dir, "new.jwk", "ECDH-ES+A256KW", Some("X25519"));
    let rsa = keygen_enc(&dir, "rsa.jwk", "RSA-OAEP-256", None);
    let new_public = public_file(&dir, "new.pub.jwk", &new);

    // Default content encryption A256GCM; header: the key's alg and kid, cty JWT.
    let token = stdout(&issue_for(&issuer, &client, &["--encrypt-to", &new_public]));
    assert_eq!(token.split('.').count(), 5, "{token}");
    let header = protected_header(&token);
    assert_eq!(header["alg"], "ECDH-ES+A256KW");
    assert_eq!(header["enc"], "A256GCM");
    assert_eq!(header["cty"], "JWT");
    assert_eq!(header["kid"], read_jwk(&new)["kid"]);

    // Decrypted, then checked as any token; rotation: the token's kid picks the key.
    let accepted = verify_token(
        &jwks,
        &client,
        &token,
        &["--decrypt-key", &old, "--decrypt-key", &new],
    );
    assert_eq!(accepted.status.code(), Some(0), "{}", stderr(&accepted));
    let result = json(&accepted);
    assert_eq!(
        (&result["valid"], &result["sub"]),
        (&json_value!(true), &json_value!("alice"))
    );
    // Without its key: refused, invalid_token.
    for extra in [&[][..], &["--decrypt-key", &old]] {
        let refused = verify_token(&jwks, &client, &token, extra);
        assert_eq!(refused.status.code(), Some(1));
        let result = json(&refused);
        assert_eq!(
            (&result["valid"], &result["error"]),
            (&json_value!(false), &json_value!("invalid_token"))
        );
    }
    // Still bound: another client's proof is refused.
    let thief = keygen(&dir, "thief.jwk");
    let stolen = verify_token(&jwks, &thief, &token, &["--decrypt-key", &new]);
    assert_eq!(stolen.status.code(), Some(1));

    // Every --enc; RSA-OAEP-256 too.
    let rsa_public = public_file(&dir, "rsa.pub.jwk", &rsa);
    for enc in ["A128GCM", "A256GCM", "A128CBC-HS256", "A256CBC-HS512"] {
        let jwe = stdout(&issue_for(
            &issuer,
            &client,
            &["--encrypt-to", &rsa_public, "--enc", enc],
        ));
        assert_eq!(protected_header(&jwe)["enc"], enc);
        let out = verify_token(&jwks, &client, &jwe, &["--decrypt-key", &rsa]);
        assert_eq!(out.status.code(), Some(0), "{enc}: {}", stdout(&out));
    }
    for bad in [
        &["--encrypt-to", &rsa_public, "--enc", "A192GCM"][..],
        &["--enc", "A256GCM"],      // --enc needs --encrypt-to
        &["--encrypt-to", &rsa],    // a private key is not what an issuer holds
        &["--encrypt-to", &issuer], // a signing key
    ] {
        assert_eq!(
            issue_for(&issuer, &client, bad).status.code(),
            Some(2),
            "{bad:?}"
        );
    }
    // A public key cannot decrypt.
    let out = verify_token(&jwks, &client, &token, &["--decrypt-key", &new_public]);
    assert_eq!(out.status.code(), Some(2));

    // inspect: the protected header only, never decrypted without a key...
    let inspected = json(&keybound(&["inspect", &token]));
    assert_eq!(
        (&inspected["encrypted"], &inspected["verified"]),
        (&json_value!(true), &json_value!(false))
    );
    assert_eq!(inspected["header"]["alg"], "ECDH-ES+A256KW");
    assert!(inspected.get("claims").is_none());
    // ... and with one, the inner token's header and claims, still not verified.
    let decrypted = json(&keybound(&["inspect", &token, "--decrypt-key", &new]));
    assert_eq!(
        (&decrypted["encrypted"], &decrypted["verified"]),
        (&json_value!(true), &json_value!(false))
    );
    assert_eq!(decrypted["inner_header"]["typ"], "at+jwt");
    assert_eq!(decrypted["claims"]["sub"], "alice");
    assert_eq!(
        keybound(&["inspect", &token, "--decrypt-key", &old])
            .status
            .code(),
        Some(2)
    );
    // A plain token says it is not encrypted.
    let plain = stdout(&issue_for(&issuer, &client, &[]));
    assert_eq!(json(&keybound(&["inspect", &plain]))["encrypted"], false);
}

/// `--method` is an upper-case RFC 9110 token: `get` would sign (or expect) an `htm` that no
/// server matches, so it is refused with the upper-case spelling suggested; a bad `--url` says
/// what is wrong (issue 16).
#[test]
fn methods_and_urls_are_checked_with_reasons() {
    let dir = temp_dir("method");
    let client = keygen(&dir, "client.jwk");
    let lower = keybound(&["proof", "--key", &client, "--method", "get", "--url", URL]);
    assert_eq!(lower.status.code(), Some(2));
    assert!(stderr(&lower).contains("use GET"), "{}", stderr(&lower));
    let proof = sign_proof(&client, &[]);
    for method in ["get", "GE T", ""] {
        let out = keybound(&[
            "verify-proof",
            "--proof",
            &proof,
            "--method",
            method,
            "--url",
            URL,
            "--now",
            NOW,
        ]);
        assert_eq!(out.status.code(), Some(2), "{method:?}");
    }
    assert_eq!(json(&verify_proof(&proof, &[]))["valid"], true);
    // A bad --url says which rule it breaks.
    for (url, says) in [
        ("not-a-url", "absolute"),
        ("ftp://api.example.com/x", "http"),
        ("https://user@api.example.com/x", "user information"),
        ("https://api.example.com/a b", "RFC 3986"),
    ] {
        let out = keybound(&["proof", "--key", &client, "--method", "GET", "--url", url]);
        assert_eq!(out.status.code(), Some(2), "{url}");
        assert!(stderr(&out).contains(says), "{url}: {}", stderr(&out));
    }
}

/// A proof refused for its `iat` says which window was in force and how to move it.
#[test]
fn iat_refusals_explain_the_window() {
    let dir = temp_dir("iat-window");
    let client = keygen(&dir, "client.jwk");
    let proof = sign_proof(&client, &[]); // iat = NOW
    let later = (NOW.parse::<u64>().unwrap() + 600).to_string();
    let old = json(&keybound(&[
        "verify-proof",
        "--proof",
        &proof,
        "--method",
        "GET",
        "--url",
        URL,
        "--now",
        &later,
    ]));
    assert_eq!(old["reason"], "iat_too_old");
    let hint = old["hint"].as_str().unwrap();
    assert!(
        hint.contains("--max-age 60")
            && hint.contains(&(NOW.parse::<u64>().unwrap() + 600 - 65).to_string()),
        "{hint}"
    );
    let earlier = (NOW.parse::<u64>().unwrap() - 600).to_string();
    let future = json(&keybound(&[
        "verify-proof",
        "--proof",
        &proof,
        "--method",
        "GET",
        "--url",
        URL,
        "--now",
        &earlier,
    ]));
    assert_eq!(future["reason"], "iat_in_future");
    assert!(future["hint"].as_str().unwrap().contains("--leeway 5"));
    // Other refusals carry no hint.
    let other = json(&verify_proof(&proof, &["--nonce", "n-1"]));
    assert!(other.get("hint").is_none(), "{other}");
}
