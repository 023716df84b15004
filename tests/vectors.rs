//! The conformance vectors in `vectors/` (see `vectors/README.md`): every case runs through
//! keybound and must give the expected outcome, error code, reason and status — except the
//! cases listed in [`KNOWN_DIVERGENCES`], which must still diverge exactly as listed. A second
//! group of tests runs the generator (`examples/generate_vectors`) in-process and requires the
//! committed files to be exactly its output, so the vectors cannot drift from the generator.

use std::collections::{BTreeMap, BTreeSet};

use keybound::{
    Algorithm, Endpoint, Error, KeySet, ProofOptions, ProofRequest, ProofVerifier, PublicKey,
    RequestGuard, ResourceRequest, TokenOptions, TokenVerifier, UnixTime,
};
use serde_json::Value;

// The generator's modules, compiled into this test so it can regenerate the vectors.
#[allow(dead_code)]
#[path = "../examples/generate_vectors/case.rs"]
mod case;
#[allow(dead_code)]
#[path = "../examples/generate_vectors/drbg.rs"]
mod drbg;
#[allow(dead_code)]
#[path = "../examples/generate_vectors/fixtures.rs"]
mod fixtures;
#[allow(dead_code)]
#[path = "../examples/generate_vectors/htu.rs"]
mod htu;
#[allow(dead_code)]
#[path = "../examples/generate_vectors/jose.rs"]
mod jose;
#[allow(dead_code)]
#[path = "../examples/generate_vectors/json.rs"]
mod json;
#[allow(dead_code)]
#[path = "../examples/generate_vectors/jwe.rs"]
mod jwe;
#[allow(dead_code)]
#[path = "../examples/generate_vectors/jwk.rs"]
mod jwk;
#[allow(dead_code)]
#[path = "../examples/generate_vectors/keys.rs"]
mod keys;
#[allow(dead_code)]
#[path = "../examples/generate_vectors/proof.rs"]
mod proof;
#[allow(dead_code)]
#[path = "../examples/generate_vectors/proofs.rs"]
mod proofs;
#[allow(dead_code)]
#[path = "../examples/generate_vectors/requests.rs"]
mod requests;
#[allow(dead_code)]
#[path = "../examples/generate_vectors/rsa_keys.rs"]
mod rsa_keys;
#[allow(dead_code)]
#[path = "../examples/generate_vectors/suite.rs"]
mod suite;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors");

/// The vector files and the categories each must cover (at least one case each).
const FILES: &[(&str, &[&str])] = &[
    (
        "proofs.json",
        &[
            "baseline",
            "step1-header",
            "step2-jws",
            "step3-claims",
            "step4-typ",
            "step5-alg",
            "crit",
            "step6-signature",
            "step7-jwk",
            "step8-htm",
            "step9-htu",
            "step10-nonce",
            "step11-iat",
            "step12-ath",
            "replay",
            "rfc-example",
            "alg-confusion",
            "alg-es384",
            "alg-es512",
            "alg-ed25519",
            "alg-eddsa",
            "alg-rs256",
            "alg-rs384",
            "alg-rs512",
            "alg-ps256",
            "alg-ps384",
            "alg-ps512",
        ],
    ),
    ("htu.json", &["equal", "unequal", "invalid"]),
    (
        "requests.json",
        &[
            "baseline",
            "token",
            "binding",
            "authorization",
            "proof",
            "nonce",
            "replay",
            "algorithms",
        ],
    ),
    ("jwk.json", &["jwk-valid", "jwk-invalid", "jwks"]),
    (
        "jwe.json",
        &[
            "valid",
            "keys",
            "tampering",
            "refused",
            "malformed",
            "epk",
            "not-nested",
        ],
    ),
];

/// Cases whose expectation (taken from the cited RFC text) keybound does not meet, with why.
/// The test requires the set of failing cases to be exactly this list: a new failure, or a
/// listed case that starts passing, fails the test. `vectors/README.md` lists them too.
const KNOWN_DIVERGENCES: &[(&str, &str)] = &[];

fn load(name: &str) -> Value {
    let path = format!("{VECTORS}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn cases(doc: &Value) -> &[Value] {
    doc["cases"].as_array().expect("cases")
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

fn number(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not a number in {v}"))
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array in {v}"))
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

/// The JWS algorithms named in the array `v[key]`.
fn algorithms(v: &Value, key: &str) -> Vec<Algorithm> {
    strings(v, key)
        .iter()
        .map(|name| Algorithm::from_name(name).unwrap_or_else(|| panic!("unknown alg {name}")))
        .collect()
}

/// Compares the observed failures of one file with the divergences listed for it.
fn assert_divergences(file: &str, failures: &BTreeMap<String, String>) {
    let prefix = format!("{}/", file.trim_end_matches(".json"));
    let listed: BTreeSet<&str> = KNOWN_DIVERGENCES
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| id.starts_with(&prefix))
        .collect();
    let unexpected: Vec<String> = failures
        .iter()
        .filter(|(id, _)| !listed.contains(id.as_str()))
        .map(|(id, why)| format!("  {id}: {why}"))
        .collect();
    let fixed: Vec<&str> = listed
        .iter()
        .filter(|id| !failures.contains_key(**id))
        .copied()
        .collect();
    for (id, why) in failures
        .iter()
        .filter(|(id, _)| listed.contains(id.as_str()))
    {
        eprintln!("known divergence {id}: {why}");
    }
    assert!(
        unexpected.is_empty() && fixed.is_empty(),
        "{file}: {} case(s) fail:\n{}\nlisted in KNOWN_DIVERGENCES but now as expected: {fixed:?}",
        unexpected.len(),
        unexpected.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// proofs.json and htu.json

fn proof_verifier(config: &Value) -> ProofVerifier {
    let mut options = ProofOptions::new()
        .with_max_age_secs(number(config, "max_age_secs"))
        .with_leeway_secs(number(config, "leeway_secs"));
    // Absent: the default, every algorithm.
    if config.get("algs").is_some() {
        options = options.with_algorithms(algorithms(config, "algs"));
    }
    let verifier = ProofVerifier::new().with_options(options);
    match config["nonce"].as_str() {
        Some(nonce) => verifier.with_required_nonce(nonce).expect("nonce"),
        None => verifier,
    }
}

/// Runs one request of a proof case and compares with `expected`.
fn run_proof_step(
    verifier: &ProofVerifier,
    request: &Value,
    expected: &Value,
) -> Result<(), String> {
    let dpop = strings(request, "dpop");
    let dpop: Vec<&str> = dpop.iter().map(String::as_str).collect();
    let mut req = ProofRequest::new(text(request, "method"), text(request, "url"), &dpop);
    if let Some(token) = request["access_token"].as_str() {
        req = req.with_access_token(token);
    }
    let result = verifier.verify(&req, UnixTime::from_secs(number(request, "now")));
    let valid = expected["valid"].as_bool().expect("valid");
    match result {
        Ok(proof) if valid => {
            let jkt = proof.thumbprint().to_string();
            match expected["jkt"].as_str() {
                Some(want) if want != jkt => {
                    Err(format!("accepted with jkt {jkt}, expected {want}"))
                }
                _ => Ok(()),
            }
        }
        Ok(_) => Err(format!(
            "accepted; expected {} ({})",
            expected["error"], expected["reason"]
        )),
        Err(e) if valid => Err(format!("refused {}; expected valid", describe(&e))),
        Err(e) => compare_proof_error(&e, expected),
    }
}

fn describe(e: &Error) -> String {
    let code = e.code(Endpoint::Token).map_or("-", |c| c.as_str());
    format!("{code} ({})", e.reason())
}

fn compare_proof_error(e: &Error, expected: &Value) -> Result<(), String> {
    let code = e.code(Endpoint::Token).map(|c| c.as_str());
    let mut problems = Vec::new();
    if code != expected["error"].as_str() {
        problems.push("error code");
    }
    if let Some(reason) = expected["reason"].as_str() {
        if e.reason() != reason {
            problems.push("reason");
        }
    }
    if e.dpop_nonce() != expected["dpop_nonce"].as_str() {
        problems.push("dpop_nonce");
    }
    // A token endpoint answers every proof error with 400 (RFC 9449 §5, RFC 6749 §5.2).
    if e.status(Endpoint::Token) != 400 {
        problems.push("status");
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "refused {} nonce {:?}; expected {} ({}) nonce {}; wrong {problems:?}",
        describe(e),
        e.dpop_nonce(),
        expected["error"],
        expected["reason"],
        expected["dpop_nonce"]
    ))
}

/// Runs a `proof`, `htu` or `proof_sequence` case.
fn run_proof_case(case: &Value) -> Result<(), String> {
    let input = &case["input"];
    let verifier = proof_verifier(&input["verifier"]);
    match text(case, "type") {
        "proof" | "htu" => run_proof_step(&verifier, &input["request"], &case["expected"]),
        "proof_sequence" => {
            let steps = input["steps"].as_array().expect("steps");
            let expected = case["expected"]["steps"].as_array().expect("steps");
            assert_eq!(steps.len(), expected.len(), "{}", case["id"]);
            for (i, (step, want)) in steps.iter().zip(expected).enumerate() {
                run_proof_step(&verifier, step, want).map_err(|e| format!("step {i}: {e}"))?;
            }
            Ok(())
        }
        other => panic!("unknown case type {other}"),
    }
}

fn run_file(file: &str, run: impl Fn(&Value) -> Result<(), String>) -> usize {
    let doc = load(file);
    let mut failures = BTreeMap::new();
    for case in cases(&doc) {
        if let Err(why) = run(case) {
            failures.insert(text(case, "id").to_owned(), why);
        }
    }
    assert_divergences(file, &failures);
    cases(&doc).len()
}

#[test]
fn proof_vectors() {
    let n = run_file("proofs.json", run_proof_case);
    assert!(n > 0);
}

#[test]
fn htu_vectors() {
    let n = run_file("htu.json", |case| {
        // `equal` and `valid` say the same thing for these cases.
        assert_eq!(
            case["expected"]["equal"], case["expected"]["valid"],
            "{}",
            case["id"]
        );
        run_proof_case(case)
    });
    assert!(n > 0);
}

// ---------------------------------------------------------------------------------------------
// requests.json

fn guard(resource: &Value) -> RequestGuard {
    let keys = KeySet::from_jwks(text(resource, "jwks")).expect("the resource's JWKS");
    let tokens = TokenVerifier::new(text(resource, "issuer"), text(resource, "audience"), keys)
        .with_options(
            TokenOptions::new()
                .with_leeway_secs(number(resource, "token_leeway_secs"))
                .with_max_lifetime_secs(number(resource, "max_token_lifetime_secs")),
        );
    RequestGuard::new(tokens)
        .with_proof_verifier(proof_verifier(&resource["proof"]))
        .with_bearer_tokens(resource["accept_bearer"].as_bool().expect("accept_bearer"))
}

fn run_request_step(guard: &RequestGuard, request: &Value, expected: &Value) -> Result<(), String> {
    let authorization = strings(request, "authorization");
    let authorization: Vec<&str> = authorization.iter().map(String::as_str).collect();
    let dpop = strings(request, "dpop");
    let dpop: Vec<&str> = dpop.iter().map(String::as_str).collect();
    let req = ResourceRequest::new(
        text(request, "method"),
        text(request, "url"),
        &authorization,
        &dpop,
    );
    let authorized = expected["authorized"].as_bool().expect("authorized");
    match guard.check(&req, UnixTime::from_secs(number(request, "now"))) {
        Ok(ok) if authorized => {
            let jkt = ok.jkt().map(|t| t.to_string());
            if ok.subject() != text(expected, "sub")
                || ok.client_id() != text(expected, "client_id")
                || jkt.as_deref() != expected["jkt"].as_str()
            {
                return Err(format!(
                    "authorized as {} / {} / {jkt:?}; expected {} / {} / {}",
                    ok.subject(),
                    ok.client_id(),
                    expected["sub"],
                    expected["client_id"],
                    expected["jkt"]
                ));
            }
            Ok(())
        }
        Ok(_) => Err(format!(
            "authorized; expected {} {} ({})",
            expected["status"], expected["error"], expected["reason"]
        )),
        Err(r) => {
            let code = r.error().code(Endpoint::Resource).map(|c| c.as_str());
            let got = format!(
                "{} {} ({}) nonce {:?} [{}]",
                r.status(),
                code.unwrap_or("-"),
                r.error().reason(),
                r.dpop_nonce(),
                r.www_authenticate()
            );
            if authorized {
                return Err(format!("refused {got}; expected authorized"));
            }
            let challenge_ok = r.www_authenticate().starts_with("DPoP")
                && match code {
                    Some(code) => r.www_authenticate().contains(&format!("error=\"{code}\"")),
                    None => !r.www_authenticate().contains("error="),
                };
            let reason_ok = expected["reason"]
                .as_str()
                .is_none_or(|reason| reason == r.error().reason());
            // Present only where a case pins the challenge's `algs` (compared as a set).
            let algs_ok = expected.get("challenge_algs").is_none_or(|_| {
                let want: BTreeSet<String> =
                    strings(expected, "challenge_algs").into_iter().collect();
                challenge_algs(r.www_authenticate()) == Some(want)
            });
            if Some(u64::from(r.status())) == expected["status"].as_u64()
                && code == expected["error"].as_str()
                && reason_ok
                && r.dpop_nonce() == expected["dpop_nonce"].as_str()
                && challenge_ok
                && algs_ok
            {
                Ok(())
            } else {
                Err(format!(
                    "refused {got}; expected {} {} ({}) nonce {} algs {}",
                    expected["status"],
                    expected["error"],
                    expected["reason"],
                    expected["dpop_nonce"],
                    expected.get("challenge_algs").unwrap_or(&Value::Null)
                ))
            }
        }
    }
}

/// The names in the `algs` parameter of the `DPoP` challenge of a `WWW-Authenticate` value.
fn challenge_algs(www_authenticate: &str) -> Option<BTreeSet<String>> {
    let dpop = &www_authenticate[www_authenticate.find("DPoP")?..];
    let start = dpop.find("algs=\"")? + "algs=\"".len();
    let end = dpop[start..].find('"')?;
    Some(
        dpop[start..start + end]
            .split(' ')
            .map(str::to_owned)
            .collect(),
    )
}

fn run_request_case(case: &Value) -> Result<(), String> {
    let input = &case["input"];
    let guard = guard(&input["resource"]);
    match text(case, "type") {
        "request" => run_request_step(&guard, &input["request"], &case["expected"]),
        "request_sequence" => {
            let steps = input["steps"].as_array().expect("steps");
            let expected = case["expected"]["steps"].as_array().expect("steps");
            assert_eq!(steps.len(), expected.len(), "{}", case["id"]);
            for (i, (step, want)) in steps.iter().zip(expected).enumerate() {
                run_request_step(&guard, step, want).map_err(|e| format!("step {i}: {e}"))?;
            }
            Ok(())
        }
        other => panic!("unknown case type {other}"),
    }
}

#[test]
fn request_vectors() {
    let n = run_file("requests.json", run_request_case);
    assert!(n > 0);
}

// ---------------------------------------------------------------------------------------------
// jwk.json

fn run_key_case(case: &Value) -> Result<(), String> {
    let input = &case["input"];
    let expected = &case["expected"];
    let valid = expected["valid"].as_bool().expect("valid");
    let kind = text(case, "type");
    let outcome: Result<String, String> = match kind {
        "jwk" => PublicKey::from_jwk(text(input, "jwk"))
            .map(|key| key.thumbprint().to_string())
            .map_err(|e| e.reason().to_owned()),
        "jwks" => KeySet::from_jwks(text(input, "jwks"))
            .map(|set| {
                let kids = if valid {
                    strings(expected, "kids")
                } else {
                    Vec::new()
                };
                set_summary(&set, &kids)
            })
            .map_err(|e| e.reason().to_owned()),
        other => panic!("unknown case type {other}"),
    };
    match (outcome, valid) {
        (Ok(got), true) => {
            let want = match kind {
                "jwk" => text(expected, "jkt").to_owned(),
                _ => expected_set_summary(expected),
            };
            if got == want {
                Ok(())
            } else {
                Err(format!("accepted: {got}; expected {want}"))
            }
        }
        (Ok(got), false) => Err(format!("accepted ({got}); expected {}", expected["reason"])),
        (Err(reason), true) => Err(format!("refused ({reason}); expected valid")),
        (Err(reason), false) if Some(reason.as_str()) == expected["reason"].as_str() => Ok(()),
        (Err(reason), false) => Err(format!(
            "refused ({reason}); expected {}",
            expected["reason"]
        )),
    }
}

/// What a usable set holds: its size, which of `kids` it lacks, which entries it skipped.
fn set_summary(set: &KeySet, kids: &[String]) -> String {
    let missing: Vec<&str> = kids
        .iter()
        .filter(|kid| set.get(kid).is_none())
        .map(String::as_str)
        .collect();
    let skipped: Vec<usize> = set.skipped().iter().map(|s| s.index).collect();
    format!(
        "{} keys, kids not found: {missing:?}, skipped entries: {skipped:?}",
        set.len()
    )
}

/// [`set_summary`] as the case expects it; `skipped` is absent when no entry is skipped.
fn expected_set_summary(expected: &Value) -> String {
    let skipped: Vec<u64> = match expected.get("skipped") {
        None => Vec::new(),
        Some(list) => list
            .as_array()
            .expect("skipped is an array")
            .iter()
            .map(|i| i.as_u64().expect("an index"))
            .collect(),
    };
    let none: [&str; 0] = [];
    format!(
        "{} keys, kids not found: {none:?}, skipped entries: {skipped:?}",
        strings(expected, "kids").len()
    )
}

#[test]
fn key_vectors() {
    let n = run_file("jwk.json", run_key_case);
    assert!(n > 0);
}

// ---------------------------------------------------------------------------------------------
// jwe.json

/// The vectors' error code for a `JweError`, and the refused member for `refused`.
fn jwe_error_code(e: keybound::JweError) -> (&'static str, Option<&'static str>) {
    use keybound::JweError;
    match e {
        JweError::Malformed => ("malformed", None),
        JweError::TooLarge => ("too-large", None),
        JweError::Refused(member) => ("refused", Some(member)),
        JweError::NoKey => ("no-key", None),
        JweError::DecryptionFailed => ("decryption-failed", None),
        JweError::NotNested => ("not-nested", None),
        other => panic!("no vector code for {other:?}"),
    }
}

fn run_jwe_case(case: &Value) -> Result<(), String> {
    let input = &case["input"];
    let keys: Vec<keybound::DecryptionKey> = input["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|jwk| keybound::DecryptionKey::from_jwk(&jwk.to_string()).expect("a decryption key"))
        .collect();
    let expected = &case["expected"];
    let got = keybound::decrypt_nested_jwt(text(input, "token"), &keys);
    match (got, expected["valid"].as_bool().expect("valid")) {
        (Ok(inner), true) if inner.as_str() == text(expected, "inner") => Ok(()),
        (Ok(inner), _) => Err(format!("decrypted to {}", inner.as_str())),
        (Err(e), true) => Err(format!("refused: {e:?}")),
        (Err(e), false) => {
            let (code, member) = jwe_error_code(e);
            let want = (text(expected, "error"), expected["member"].as_str());
            if (code, member) == want {
                Ok(())
            } else {
                Err(format!("{code} {member:?}, expected {want:?}"))
            }
        }
    }
}

#[test]
fn jwe_vectors() {
    let n = run_file("jwe.json", run_jwe_case);
    assert!(n > 0);
}

// ---------------------------------------------------------------------------------------------
// The files themselves.

#[test]
fn every_file_is_well_formed_and_covers_its_categories() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(VECTORS)
        .expect("vectors/")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("utf-8")
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    let known: BTreeSet<String> = FILES.iter().map(|(f, _)| (*f).to_owned()).collect();
    assert_eq!(on_disk, known, "every vector file must be run by this test");

    let mut seeds = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for (file, categories) in FILES {
        let doc = load(file);
        assert_eq!(doc["schema_version"], 1, "{file}");
        assert_eq!(doc["generator"], "examples/generate_vectors", "{file}");
        assert_eq!(doc["file"], file.trim_end_matches(".json"), "{file}");
        seeds.insert(number(&doc, "seed"));
        let cases = cases(&doc);
        assert_eq!(number(&doc, "case_count"), cases.len() as u64, "{file}");
        let mut per_category: BTreeMap<&str, usize> = BTreeMap::new();
        for case in cases {
            let id = text(case, "id");
            assert!(ids.insert(id.to_owned()), "duplicate id {id}");
            let category = text(case, "category");
            assert!(
                id.starts_with(&format!(
                    "{}/{category}/",
                    doc["file"].as_str().unwrap_or("")
                )),
                "{id}: id must be file/category/name"
            );
            assert!(case["normative"].is_boolean(), "{id}");
            assert!(!text(case, "requirement").is_empty(), "{id}");
            assert!(!text(case, "description").is_empty(), "{id}");
            *per_category.entry(category).or_default() += 1;
        }
        for category in *categories {
            assert!(
                per_category.get(category).copied().unwrap_or(0) > 0,
                "{file}: no case in category {category}"
            );
        }
        let unknown: Vec<&&str> = per_category
            .keys()
            .filter(|c| !categories.contains(c))
            .collect();
        assert!(
            unknown.is_empty(),
            "{file}: categories not listed here: {unknown:?}"
        );
        eprintln!("{file}: {} cases {per_category:?}", cases.len());
    }
    assert_eq!(seeds.len(), 1, "all files come from one seed");
    let readme = std::fs::read_to_string(format!("{VECTORS}/README.md")).expect("README.md");
    for (id, _) in KNOWN_DIVERGENCES {
        assert!(
            ids.contains(*id),
            "KNOWN_DIVERGENCES names unknown case {id}"
        );
        assert!(
            readme.contains(&format!("| `{id}` |")),
            "vectors/README.md must list the known divergence {id}"
        );
    }
    for (file, _) in FILES {
        let count = cases(&load(file)).len();
        let row = readme
            .lines()
            .find(|line| line.starts_with(&format!("| `{file}` |")))
            .unwrap_or_else(|| panic!("vectors/README.md has no row for {file}"));
        assert!(
            row.ends_with(&format!("| {count} |")),
            "vectors/README.md: update the case count of {file} to {count}"
        );
    }
}

#[test]
fn committed_vectors_are_the_generator_output() {
    let seed = number(&load("proofs.json"), "seed");
    assert_eq!(seed, suite::DEFAULT_SEED);
    for (name, generated) in suite::generate(seed) {
        let path = format!("{VECTORS}/{name}");
        let committed = std::fs::read_to_string(&path).expect("committed vector file");
        assert!(
            committed == generated,
            "{path} differs from the generator's output; regenerate with \
             `cargo run --example generate_vectors -- --seed {seed}`"
        );
    }
}

#[test]
fn generator_is_deterministic_and_depends_on_the_seed() {
    let a = suite::generate(1);
    let b = suite::generate(1);
    assert_eq!(a, b);
    let c = suite::generate(2);
    for ((name, x), (_, y)) in a.iter().zip(&c) {
        assert_ne!(x, y, "{name} does not depend on the seed");
    }
}
