//! The `keybound` binary, run as a user would: every subcommand, round trips, exit statuses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use keybound::{KeySet, PublicKey, SigningKey};
use serde_json::Value;

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
