//! Project Wycheproof test vectors (tests/data/wycheproof, Apache-2.0) run through keybound's
//! public API: `PublicKey::from_jwk`, `PublicKey::verify_es256` and `PublicKey::verify_jws`.
//!
//! - `ecdsa_secp256r1_sha256_p1363_test.json`: every case through the crate's ES256 path.
//! - `json_web_signature_test.json`: ES256 groups must give Wycheproof's result exactly; every
//!   other algorithm must be refused (keybound verifies ES256 only).
//! - `json_web_key_test.json`: EC groups must give Wycheproof's result; non-EC key sets must
//!   never verify anything.
//! - The `base64` group uses HS256, so its mutation classes are re-created on ES256 JWSs.
//!
//! Where Wycheproof says `valid` and keybound says `invalid` (another algorithm), the case must
//! be listed in `tests/data/wycheproof/KNOWN_DIVERGENCES.md`, and nothing else may be.

use std::collections::{BTreeMap, BTreeSet};

use keybound::{JoseError, KeyError, PublicKey, SigningKey};
use serde_json::Value;

const ECDSA_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json"
);
const JWS_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/wycheproof/json_web_signature_test.json"
);
const JWK_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/wycheproof/json_web_key_test.json"
);
const DIVERGENCES_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/wycheproof/KNOWN_DIVERGENCES.md"
);

const JWS_FILE: &str = "json_web_signature_test.json";
const JWK_FILE: &str = "json_web_key_test.json";
const DIVERGENCE_REASON: &str = "non-ES256 algorithm: keybound verifies ES256 only";

/// Groups of the JWS file whose cases keybound must decide exactly as Wycheproof does.
const JWS_ES256_GROUPS: [&str; 3] = ["es256", "SpecialCaseEs256", "ec_key_for_encryption"];

/// Every group comment of the JWS file; a new kind of group must be classified before it runs.
const JWS_ALL_GROUPS: [&str; 14] = [
    "hs256",
    "es256",
    "rs256",
    "rs384",
    "rs512",
    "ps256",
    "ps384",
    "ps512",
    "rfc7520",
    "rfc7520WithKeyOps",
    "rsa_encryption",
    "ec_key_for_encryption",
    "base64",
    "SpecialCaseEs256",
];

/// JWK-file groups that test an EC key, with the refusal each key must get from `from_jwk`.
const JWK_EC_CASES: [(&str, KeyError); 6] = [
    ("wrong_algorithm", KeyError::WrongAlgorithm),
    ("invalid_algorithm", KeyError::WrongAlgorithm),
    ("invalid_use", KeyError::WrongUse),
    ("invalid_point", KeyError::InvalidPoint),
    ("wrong_curve", KeyError::UnsupportedCurve),
    ("wrong_kty", KeyError::UnsupportedKeyType),
];

/// The P-256 key behind the JWS `es256` group and the EC cases of the JWK file, with nothing
/// but the members keybound needs: the control that shows a refused case is refused because of
/// its key, not because its signature is bad.
const CONTROL_EC_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY","y":"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw"}"#;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

fn groups(file: &Value) -> &[Value] {
    file["testGroups"].as_array().expect("testGroups array")
}

fn cases(group: &Value) -> &[Value] {
    group["tests"].as_array().expect("tests array")
}

fn str_field<'a>(value: &'a Value, name: &str) -> &'a str {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("missing string member {name:?} in {value}"))
}

fn tc_id(case: &Value) -> u64 {
    case["tcId"].as_u64().expect("tcId")
}

fn number_of_tests(file: &Value) -> usize {
    usize::try_from(file["numberOfTests"].as_u64().expect("numberOfTests")).unwrap()
}

/// Wycheproof's verdict for a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expected {
    Valid,
    Invalid,
    /// Either outcome is allowed.
    Acceptable,
}

impl Expected {
    fn of(case: &Value) -> Self {
        match str_field(case, "result") {
            "valid" => Self::Valid,
            "invalid" => Self::Invalid,
            "acceptable" => Self::Acceptable,
            other => panic!("tcId {}: unknown result {other:?}", tc_id(case)),
        }
    }

    fn admits(self, accepted: bool) -> bool {
        match self {
            Self::Valid => accepted,
            Self::Invalid => !accepted,
            Self::Acceptable => true,
        }
    }
}

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd-length hex {text:?}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

const B64URL_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url (RFC 4648 §5), written here so the tests do not trust the crate's own.
fn b64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(
                B64URL_ALPHABET[((n >> (18 - 6 * i)) & 63) as usize],
            ));
        }
    }
    out
}

fn b64url_value(c: u8) -> Option<u8> {
    B64URL_ALPHABET
        .iter()
        .position(|&a| a == c)
        .map(|i| u8::try_from(i).unwrap())
}

/// A lenient base64url decoder: ignores the unused low bits of the last character, as careless
/// decoders do. `None` for characters outside the alphabet or an impossible length.
fn b64url_decode_lenient(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut out = Vec::new();
    for &c in text.as_bytes() {
        bits = (bits << 6) | u32::from(b64url_value(c)?);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push(((bits >> nbits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The other spellings of `segment`'s last character that differ only in its unused low bits:
/// each decodes, leniently, to the same bytes as `segment`.
fn unused_bit_variants(segment: &str) -> Vec<String> {
    let unused_bits = match segment.len() % 4 {
        2 => 4,
        3 => 2,
        _ => panic!("{segment:?} has no unused trailing bits"),
    };
    let (head, last) = segment.split_at(segment.len() - 1);
    let value = b64url_value(last.as_bytes()[0]).expect("base64url character");
    assert_eq!(
        value & ((1 << unused_bits) - 1),
        0,
        "{segment:?} is not canonical"
    );
    (1..(1u8 << unused_bits))
        .map(|low| {
            let c = char::from(B64URL_ALPHABET[usize::from(value | low)]);
            format!("{head}{c}")
        })
        .collect()
}

fn split3(jws: &str) -> (&str, &str, &str) {
    let mut parts = jws.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        panic!("{jws:?} is not a three-segment JWS");
    };
    (h, p, s)
}

/// Signs `header_b64.payload_b64` exactly as given (no re-encoding) with `key`.
fn sign_raw(key: &SigningKey, header_b64: &str, payload_b64: &str) -> String {
    let input = format!("{header_b64}.{payload_b64}");
    let signature = key.sign_es256(input.as_bytes());
    format!("{input}.{}", b64url(&signature))
}

/// `(file, tcId) -> group comment` as listed in KNOWN_DIVERGENCES.md, for one file.
fn known_divergences(file: &str) -> BTreeMap<u64, String> {
    let text = std::fs::read_to_string(DIVERGENCES_PATH).expect("reading KNOWN_DIVERGENCES.md");
    let mut all: BTreeMap<(String, u64), String> = BTreeMap::new();
    for (line_no, line) in text.lines().enumerate() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if !line.trim_start().starts_with('|') || !cells[0].ends_with(".json") {
            continue;
        }
        let line_no = line_no + 1;
        assert_eq!(
            cells.len(),
            4,
            "KNOWN_DIVERGENCES.md:{line_no}: want 4 cells: {line}"
        );
        assert!(
            [JWS_FILE, JWK_FILE].contains(&cells[0]),
            "KNOWN_DIVERGENCES.md:{line_no}: unknown file {:?}",
            cells[0]
        );
        let id: u64 = cells[1]
            .parse()
            .unwrap_or_else(|_| panic!("KNOWN_DIVERGENCES.md:{line_no}: bad tcId {:?}", cells[1]));
        assert_eq!(
            cells[3], DIVERGENCE_REASON,
            "KNOWN_DIVERGENCES.md:{line_no}: unexpected reason"
        );
        let previous = all.insert((cells[0].to_owned(), id), cells[2].to_owned());
        assert!(
            previous.is_none(),
            "KNOWN_DIVERGENCES.md:{line_no}: {} tcId {id} listed twice",
            cells[0]
        );
    }
    all.into_iter()
        .filter(|((f, _), _)| f == file)
        .map(|((_, id), comment)| (id, comment))
        .collect()
}

fn assert_divergences_match(file: &str, observed: &BTreeMap<u64, String>) {
    let listed = known_divergences(file);
    let unlisted: Vec<_> = observed
        .iter()
        .filter(|(id, c)| listed.get(id) != Some(c))
        .map(|(id, c)| format!("tcId {id} ({c})"))
        .collect();
    let stale: Vec<_> = listed
        .iter()
        .filter(|(id, c)| observed.get(id) != Some(c))
        .map(|(id, c)| format!("tcId {id} ({c})"))
        .collect();
    assert!(
        unlisted.is_empty() && stale.is_empty(),
        "{file}: divergences from Wycheproof differ from KNOWN_DIVERGENCES.md\n\
         observed but not listed: {unlisted:?}\nlisted but not observed: {stale:?}"
    );
}

fn report(what: &str, run: usize, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} of {run} {what} cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// a) ECDSA P-256 / SHA-256, P1363 signatures, through PublicKey::verify_es256
// ---------------------------------------------------------------------------------------------

/// The JWK of a Wycheproof `publicKey` (for the few groups that carry no `publicKeyJwk`).
fn jwk_from_uncompressed(public_key: &Value) -> String {
    let sec1 = hex(str_field(public_key, "uncompressed"));
    assert_eq!(sec1.len(), 65, "uncompressed point");
    assert_eq!(sec1[0], 4, "uncompressed point tag");
    format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#,
        b64url(&sec1[1..33]),
        b64url(&sec1[33..])
    )
}

#[test]
fn ecdsa_p1363_vectors_through_verify_es256() {
    let data = load(ECDSA_PATH);
    assert_eq!(str_field(&data, "algorithm"), "ECDSA");
    let mut failures = Vec::new();
    let (mut run, mut valid, mut invalid, mut acceptable) = (0usize, 0usize, 0usize, 0usize);
    let mut groups_without_jwk = 0;
    for group in groups(&data) {
        assert_eq!(str_field(group, "type"), "EcdsaP1363Verify");
        assert_eq!(str_field(group, "sha"), "SHA-256");
        assert_eq!(str_field(&group["publicKey"], "curve"), "secp256r1");
        let jwk = match group.get("publicKeyJwk") {
            // The JWK carries `kid`, which keybound must accept.
            Some(jwk) => serde_json::to_string(jwk).unwrap(),
            None => {
                groups_without_jwk += 1;
                jwk_from_uncompressed(&group["publicKey"])
            }
        };
        let key = PublicKey::from_jwk(&jwk);
        for case in cases(group) {
            run += 1;
            let id = tc_id(case);
            let expected = Expected::of(case);
            match expected {
                Expected::Valid => valid += 1,
                Expected::Invalid => invalid += 1,
                Expected::Acceptable => acceptable += 1,
            }
            let key = match &key {
                Ok(key) => key,
                Err(e) => {
                    // Every key in this file is a valid P-256 point: a refusal is a bug even
                    // where the signature is invalid, since the case never reached ECDSA.
                    failures.push(format!("tcId {id}: public key refused ({e:?}): {jwk}"));
                    continue;
                }
            };
            let msg = hex(str_field(case, "msg"));
            let sig = hex(str_field(case, "sig"));
            let outcome = key.verify_es256(&msg, &sig);
            if !expected.admits(outcome.is_ok()) {
                failures.push(format!(
                    "tcId {id} ({}): Wycheproof says {expected:?}, verify_es256 gave {outcome:?} \
                     (sig {} bytes)",
                    str_field(case, "comment"),
                    sig.len()
                ));
            }
        }
    }
    assert_eq!(run, number_of_tests(&data), "numberOfTests");
    assert_eq!(run, 262, "total ECDSA cases run");
    assert_eq!(valid + invalid + acceptable, run);
    if acceptable == 0 {
        assert_eq!((valid, invalid), (173, 89), "valid / invalid split");
    }
    assert!(groups_without_jwk > 0 && groups_without_jwk < groups(&data).len());
    eprintln!(
        "ECDSA P1363: {run} cases ({valid} valid, {invalid} invalid, {acceptable} acceptable), \
         {} groups ({groups_without_jwk} keyed from `uncompressed`), {} disagreements",
        groups(&data).len(),
        failures.len()
    );
    report("ECDSA P1363", run, &failures);
}

// ---------------------------------------------------------------------------------------------
// b) JSON Web Signature vectors
// ---------------------------------------------------------------------------------------------

fn jws_es256_group_key(data: &Value) -> PublicKey {
    let group = groups(data)
        .iter()
        .find(|g| str_field(g, "comment") == "es256")
        .expect("es256 group");
    PublicKey::from_jwk(&serde_json::to_string(&group["public"]).unwrap())
        .expect("the es256 group's public key loads")
}

#[test]
fn jws_vectors() {
    let data = load(JWS_PATH);
    let es256_key = jws_es256_group_key(&data);
    let stranger = SigningKey::generate().unwrap();
    let mut failures = Vec::new();
    let mut per_group: BTreeMap<String, usize> = BTreeMap::new();
    let mut divergences = BTreeMap::new();
    let mut run = 0;
    let mut es256_run = 0;
    for group in groups(&data) {
        assert_eq!(str_field(group, "type"), "JsonWebSignature");
        let comment = str_field(group, "comment");
        assert!(
            JWS_ALL_GROUPS.contains(&comment),
            "unclassified JWS group {comment:?}"
        );
        *per_group.entry(comment.to_owned()).or_default() += cases(group).len();

        if JWS_ES256_GROUPS.contains(&comment) {
            let public = group
                .get("public")
                .expect("ES256 groups carry a public key");
            let jwk = serde_json::to_string(public).unwrap();
            let key = PublicKey::from_jwk(&jwk);
            for case in cases(group) {
                run += 1;
                es256_run += 1;
                let id = tc_id(case);
                let jws = str_field(case, "jws");
                let expected = Expected::of(case);
                let outcome = match &key {
                    Err(e) => Err(format!("key refused: {e:?}")),
                    Ok(key) => key.verify_jws(jws).map_err(|e| format!("{e:?}")),
                };
                if !expected.admits(outcome.is_ok()) {
                    failures.push(format!(
                        "tcId {id} ({comment}/{}): Wycheproof says {expected:?}, keybound gave \
                         {outcome:?}",
                        str_field(case, "comment")
                    ));
                }
                if let Ok(payload) = &outcome {
                    let (_, payload_b64, _) = split3(jws);
                    if Some(payload) != b64url_decode_lenient(payload_b64).as_ref() {
                        failures.push(format!("tcId {id}: wrong payload {payload:?}"));
                    }
                }
            }
        } else {
            // keybound supports ES256 only: whatever the key, every case must be refused.
            let mut keys: Vec<(&str, PublicKey)> = Vec::new();
            for member in ["public", "private"] {
                if let Some(jwk) = group.get(member) {
                    if let Ok(key) = PublicKey::from_jwk(&serde_json::to_string(jwk).unwrap()) {
                        keys.push((member, key));
                    }
                }
            }
            keys.push(("a fresh ES256 key", stranger.public_key().clone()));
            keys.push(("the es256 group's key", es256_key.clone()));
            for case in cases(group) {
                run += 1;
                let id = tc_id(case);
                let jws = str_field(case, "jws");
                for (name, key) in &keys {
                    if let Ok(payload) = key.verify_jws(jws) {
                        failures.push(format!(
                            "tcId {id} ({comment}): non-ES256 JWS accepted with {name} \
                             (payload {} bytes)",
                            payload.len()
                        ));
                    }
                }
                // Our outcome is "invalid"; where Wycheproof says "valid" that is a divergence.
                if Expected::of(case) == Expected::Valid {
                    divergences.insert(id, comment.to_owned());
                }
            }
        }
    }
    assert_eq!(run, number_of_tests(&data), "every JWS case covered");
    assert_eq!(run, per_group.values().sum::<usize>());
    for name in JWS_ALL_GROUPS {
        assert!(
            per_group.get(name).is_some_and(|&n| n > 0),
            "no cases in JWS group {name:?}"
        );
    }
    assert!(es256_run > 0);
    eprintln!(
        "JWS: {run} cases, {es256_run} in ES256 groups, {} divergences, {} failures; per group: \
         {per_group:?}",
        divergences.len(),
        failures.len()
    );
    report("JWS", run, &failures);
    assert_divergences_match(JWS_FILE, &divergences);
}

// ---------------------------------------------------------------------------------------------
// c) The `base64` group's mutation classes, re-created on ES256
// ---------------------------------------------------------------------------------------------

/// The valid ES256 JWS of the JWS file's es256 group (tcId 18).
fn jws_tc18(data: &Value) -> String {
    let case = groups(data)
        .iter()
        .filter(|g| str_field(g, "comment") == "es256")
        .flat_map(cases)
        .find(|c| tc_id(c) == 18)
        .expect("tcId 18");
    assert_eq!(Expected::of(case), Expected::Valid);
    str_field(case, "jws").to_owned()
}

/// Spellings of a base64url segment that strict base64url (RFC 7515 §2) refuses: whitespace,
/// characters outside the URL-safe alphabet, padding.
fn corrupted(segment: &str) -> Vec<(String, String)> {
    let mid = segment.len() / 2;
    let (a, b) = segment.split_at(mid);
    let last = segment.len() - 1;
    let mut out = vec![
        ("4 spaces before".to_owned(), format!("    {segment}")),
        ("4 spaces after".to_owned(), format!("{segment}    ")),
        ("space inside".to_owned(), format!("{a} {b}")),
        ("newline inside".to_owned(), format!("{a}\n{b}")),
        ("CRLF inside".to_owned(), format!("{a}\r\n{b}")),
        ("tab inside".to_owned(), format!("{a}\t{b}")),
        ("'?' before".to_owned(), format!("?{segment}")),
        ("'?' after".to_owned(), format!("{segment}?")),
        ("'?' inside".to_owned(), format!("{a}?{b}")),
        (
            "'?' before the last character".to_owned(),
            format!("{}?{}", &segment[..last], &segment[last..]),
        ),
        (
            "first char replaced by '?'".to_owned(),
            format!("?{}", &segment[1..]),
        ),
        (
            "first 4 chars replaced by '????'".to_owned(),
            format!("????{}", &segment[4..]),
        ),
        ("'####' before".to_owned(), format!("####{segment}")),
        ("'####' after".to_owned(), format!("{segment}####")),
        ("'#' inside".to_owned(), format!("{a}#{b}")),
        (
            "char replaced by '#'".to_owned(),
            format!("{}#{}", &a[..a.len() - 1], b),
        ),
        ("'%' inside".to_owned(), format!("{a}%{b}")),
        ("non-ASCII inside".to_owned(), format!("{a}\u{e9}{b}")),
        ("'=' appended".to_owned(), format!("{segment}=")),
        ("'==' appended".to_owned(), format!("{segment}==")),
        ("'=' inside".to_owned(), format!("{a}={b}")),
    ];
    let pad = (4 - segment.len() % 4) % 4;
    if pad > 0 {
        out.push((
            "padded to a multiple of 4 with '='".to_owned(),
            format!("{segment}{}", "=".repeat(pad)),
        ));
    }
    if segment.contains('-') {
        out.push((
            "'-' spelled '+' (standard alphabet)".to_owned(),
            segment.replacen('-', "+", 1),
        ));
    }
    if segment.contains('_') {
        out.push((
            "'_' spelled '/' (standard alphabet)".to_owned(),
            segment.replacen('_', "/", 1),
        ));
    }
    out
}

#[test]
fn base64_edge_cases_on_es256() {
    let data = load(JWS_PATH);
    let key = jws_es256_group_key(&data);
    let jws = jws_tc18(&data);
    assert_eq!(
        key.verify_jws(&jws).as_deref(),
        Ok(&b"foo"[..]),
        "tcId 18 verifies"
    );
    let (h, p, s) = split3(&jws);
    assert_eq!(p, "Zm9v", "payload with no unused bits");

    // A fresh key signs texts exactly as spelled, so a refusal below can only come from
    // base64url strictness, never from the signature.
    let fresh = SigningKey::generate().unwrap();
    let fresh_pub = fresh.public_key();
    assert_eq!(
        fresh_pub.verify_jws(&sign_raw(&fresh, h, p)).as_deref(),
        Ok(&b"foo"[..])
    );

    let mut failures = Vec::new();
    let mut checked = 0;
    let mut expect_refused = |what: &str, text: &str, key: &PublicKey, want: Option<JoseError>| {
        checked += 1;
        let got = key.verify_jws(text);
        let ok = match want {
            Some(want) => got.as_ref().err() == Some(&want),
            None => got.is_err(),
        };
        if !ok {
            failures.push(format!("{what}: {text:?}: want {want:?}, got {got:?}"));
        }
    };

    for (what, bad) in corrupted(h) {
        // Wycheproof tcIds 365, 366, 372 (HS256) and their like.
        let text = format!("{bad}.{p}.{s}");
        expect_refused(
            &format!("header, {what} (tcId 18 signature)"),
            &text,
            &key,
            Some(JoseError::Base64),
        );
        let text = sign_raw(&fresh, &bad, p);
        expect_refused(
            &format!("header, {what} (signed as spelled)"),
            &text,
            fresh_pub,
            Some(JoseError::Base64),
        );
    }
    for (what, bad) in corrupted(p) {
        // tcIds 368-371, 373: with tcId 18's signature the signing input no longer matches...
        let text = format!("{h}.{bad}.{s}");
        expect_refused(
            &format!("payload, {what} (tcId 18 signature)"),
            &text,
            &key,
            None,
        );
        // ...and signed as spelled, only strict decoding of the payload refuses it.
        let text = sign_raw(&fresh, h, &bad);
        expect_refused(
            &format!("payload, {what} (signed as spelled)"),
            &text,
            fresh_pub,
            Some(JoseError::Base64),
        );
    }
    for (what, bad) in corrupted(s) {
        // tcIds 360-364, 367.
        let text = format!("{h}.{p}.{bad}");
        expect_refused(
            &format!("signature, {what}"),
            &text,
            &key,
            Some(JoseError::Base64),
        );
    }
    // Whitespace around the whole JWS and around the dots.
    for text in [
        format!(" {jws}"),
        format!("{jws} "),
        format!("{jws}\n"),
        format!("{h} .{p}.{s}"),
        format!("{h}. {p}.{s}"),
        format!("{h}.{p} .{s}"),
        format!("{h}.{p}. {s}"),
    ] {
        expect_refused("whitespace at a segment boundary", &text, &key, None);
    }

    // Unused trailing bits (tcIds 374, 375). The signature is 64 bytes: 86 characters, the
    // last carrying 2 unused bits. Each variant decodes leniently to the very same 64 bytes.
    let canonical_sig = b64url_decode_lenient(s).unwrap();
    assert_eq!(b64url(&canonical_sig), s);
    for bad in unused_bit_variants(s) {
        assert_eq!(b64url_decode_lenient(&bad).as_ref(), Some(&canonical_sig));
        let text = format!("{h}.{p}.{bad}");
        expect_refused(
            "signature with modified unused bits",
            &text,
            &key,
            Some(JoseError::Base64),
        );
    }
    // Payloads whose encodings end in unused bits, signed as spelled by the fresh key.
    for payload in [&b"Test"[..], b"foo!!", b"\x00", b"{}"] {
        let good = b64url(payload);
        let text = sign_raw(&fresh, h, &good);
        assert_eq!(
            fresh_pub.verify_jws(&text).as_deref(),
            Ok(payload),
            "canonical {good:?}"
        );
        for bad in unused_bit_variants(&good) {
            assert_eq!(b64url_decode_lenient(&bad).as_deref(), Some(payload));
            let text = sign_raw(&fresh, h, &bad);
            expect_refused(
                "payload with modified unused bits",
                &text,
                fresh_pub,
                Some(JoseError::Base64),
            );
        }
    }
    // tcId 374's payload exactly: "AB" (canonical spelling of [0] is "AA").
    let text = sign_raw(&fresh, h, "AB");
    expect_refused("payload \"AB\"", &text, fresh_pub, Some(JoseError::Base64));
    // A header whose encoding ends in unused bits: 25 bytes, 34 characters, 4 unused bits.
    let header = br#"{"alg":"ES256","kid":"k"}"#;
    let good = b64url(header);
    assert_eq!(good.len() % 4, 2);
    let text = sign_raw(&fresh, &good, p);
    assert_eq!(fresh_pub.verify_jws(&text).as_deref(), Ok(&b"foo"[..]));
    for bad in unused_bit_variants(&good) {
        assert_eq!(b64url_decode_lenient(&bad).as_deref(), Some(&header[..]));
        let text = sign_raw(&fresh, &bad, p);
        expect_refused(
            "header with modified unused bits",
            &text,
            fresh_pub,
            Some(JoseError::Base64),
        );
    }
    eprintln!(
        "base64url mutations on ES256: {checked} checked, {} failures",
        failures.len()
    );
    assert!(checked > 150, "only {checked} mutations checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} base64url mutations were not refused as expected:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Whitespace inside the JSON header is valid JSON (tcIds 376, 377): still verifies.
    for header in [
        r#"{ "alg" : "ES256" }"#,
        r#"{ "kid" : "hs256-key", "alg" : "ES256" }"#,
        "{\"kid\":\"k\",\n\t\"alg\":\"ES256\"}",
        " {\"alg\":\"ES256\"}\r\n",
    ] {
        let text = sign_raw(&fresh, &b64url(header.as_bytes()), &b64url(b"Test"));
        assert_eq!(
            fresh_pub.verify_jws(&text).as_deref(),
            Ok(&b"Test"[..]),
            "header {header:?} with JSON whitespace"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// d) JSON Web Key vectors
// ---------------------------------------------------------------------------------------------

#[test]
fn jwk_vectors() {
    let data = load(JWK_PATH);
    let control = PublicKey::from_jwk(CONTROL_EC_JWK).expect("control key");
    let mut failures = Vec::new();
    let mut divergences = BTreeMap::new();
    let mut run = 0;
    let (mut ec_run, mut other_run) = (0, 0);
    let mut ec_cases_seen = BTreeSet::new();
    for group in groups(&data) {
        assert_eq!(str_field(group, "type"), "JsonWebKey");
        let comment = str_field(group, "comment");
        let set = group
            .get("public")
            .or_else(|| group.get("private"))
            .expect("a key set");
        let keys = set["keys"].as_array().expect("a JWK set");
        assert!(!keys.is_empty(), "{comment}: empty key set");
        let wanted_error = JWK_EC_CASES
            .iter()
            .find(|(name, _)| *name == comment)
            .map(|(_, e)| *e);
        let is_ec = wanted_error.is_some() || keys.iter().any(|k| k["kty"] == "EC");
        let loaded: Vec<Result<PublicKey, KeyError>> = keys
            .iter()
            .map(|k| PublicKey::from_jwk(&serde_json::to_string(k).unwrap()))
            .collect();
        for case in cases(group) {
            run += 1;
            let id = tc_id(case);
            let jws = str_field(case, "jws");
            let expected = Expected::of(case);
            let accepted: Vec<usize> = loaded
                .iter()
                .enumerate()
                .filter(|(_, k)| k.as_ref().is_ok_and(|k| k.verify_jws(jws).is_ok()))
                .map(|(i, _)| i)
                .collect();
            if is_ec {
                ec_run += 1;
                // The set verifies the JWS if one of its keys loads and verifies it.
                if !expected.admits(!accepted.is_empty()) {
                    let outcomes: Vec<_> = loaded
                        .iter()
                        .map(|k| k.as_ref().map(|k| k.verify_jws(jws).map(|_| ())))
                        .collect();
                    failures.push(format!(
                        "tcId {id} ({comment}): Wycheproof says {expected:?}, keybound \
                         accepted with keys {accepted:?}; per key: {outcomes:?}"
                    ));
                }
                if let Some(want) = wanted_error {
                    ec_cases_seen.insert(comment);
                    for (i, got) in loaded.iter().enumerate() {
                        if got.as_ref().err() != Some(&want) {
                            failures.push(format!(
                                "tcId {id} ({comment}): key {i} should be refused with {want:?}, \
                                 from_jwk gave {got:?}: {}",
                                keys[i]
                            ));
                        }
                    }
                    // The JWS itself is sound: only the key's defect makes the case invalid.
                    if let Err(e) = control.verify_jws(jws) {
                        failures.push(format!("tcId {id} ({comment}): control key gave {e:?}"));
                    }
                }
            } else {
                other_run += 1;
                if !accepted.is_empty() {
                    failures.push(format!(
                        "tcId {id} ({comment}): a non-EC key set verified the JWS with keys \
                         {accepted:?}"
                    ));
                }
                if expected == Expected::Valid {
                    divergences.insert(id, comment.to_owned());
                }
            }
        }
    }
    assert_eq!(run, number_of_tests(&data), "every JWK case covered");
    assert!(ec_run > 0 && other_run > 0);
    assert_eq!(ec_cases_seen.len(), JWK_EC_CASES.len(), "EC cases present");
    eprintln!(
        "JWK: {run} cases ({ec_run} EC, {other_run} non-EC), {} divergences, {} failures",
        divergences.len(),
        failures.len()
    );
    report("JWK", run, &failures);
    assert_divergences_match(JWK_FILE, &divergences);
}

#[test]
fn known_divergences_file_is_well_formed() {
    let jws = known_divergences(JWS_FILE);
    let jwk = known_divergences(JWK_FILE);
    assert!(!jws.is_empty() && !jwk.is_empty());
    for comment in jws.values() {
        assert!(
            !JWS_ES256_GROUPS.contains(&comment.as_str()),
            "an ES256 group may not diverge: {comment}"
        );
    }
}

#[test]
fn helpers_agree_with_rfc_4648() {
    // RFC 4648 §10 test vectors, unpadded, plus the URL-safe characters.
    for (bytes, text) in [
        (&b""[..], ""),
        (b"f", "Zg"),
        (b"fo", "Zm8"),
        (b"foo", "Zm9v"),
        (b"foob", "Zm9vYg"),
        (b"fooba", "Zm9vYmE"),
        (b"foobar", "Zm9vYmFy"),
        (b"\xfb\xff", "-_8"),
    ] {
        assert_eq!(b64url(bytes), text);
        assert_eq!(b64url_decode_lenient(text).as_deref(), Some(bytes));
    }
    assert_eq!(unused_bit_variants("AA").len(), 15);
    assert_eq!(unused_bit_variants("AAA").len(), 3);
    assert_eq!(hex("00ff10"), [0, 255, 16]);
}
