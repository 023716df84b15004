//! Project Wycheproof test vectors (tests/data/wycheproof, Apache-2.0) run through keybound's
//! public API, under whichever backend is compiled in (CI runs this file with and without
//! feature `aws-lc`, so both backends must give the same verdicts).
//!
//! - Signature primitives: every case of the ECDSA P-256/P-384/P-521 (P1363), Ed25519,
//!   RSASSA-PKCS1-v1_5 and RSASSA-PSS files. The key is written here as a JWK from the vector's
//!   raw key (uncompressed point, Ed25519 bytes, RSA modulus and exponent), read with
//!   `PublicKey::from_jwk`, and each signature is checked with `PublicKey::verify`.
//! - `json_web_signature_test.json`: every group through `PublicKey::verify_jws` with the
//!   group's own JWK, whatever its algorithm.
//! - `json_web_key_test.json`: every key set through `PublicKey::from_jwk` and through
//!   `KeySet::from_jwks` with a `kid` lookup, which must agree.
//! - The `base64` group uses HS256, so its mutation classes are re-created on ES256 JWSs.
//!
//! Verdicts: `valid` must verify and `invalid` must not. `acceptable` must not verify either:
//! keybound is strict, and the only such cases (one a PKCS#1 file) encode the DigestInfo
//! without its NULL parameter, which RFC 8017 §9.2 does not produce.
//!
//! Every case where keybound's verdict differs from Wycheproof's is listed in
//! `tests/data/wycheproof/KNOWN_DIVERGENCES.md` with the kind of refusal, and nothing else may
//! be: the test asserts the observed set equals the listed one for every file.

use std::collections::BTreeMap;

use keybound::{
    Algorithm, AlgorithmSet, JoseError, KeyError, KeySet, PublicKey, SigningKey, BACKEND,
};
use serde_json::Value;

const ECDSA_P256_FILE: &str = "ecdsa_secp256r1_sha256_p1363_test.json";
const ECDSA_P384_FILE: &str = "ecdsa_secp384r1_sha384_p1363_test.json";
const ECDSA_P521_FILE: &str = "ecdsa_secp521r1_sha512_p1363_test.json";
const ED25519_FILE: &str = "ed25519_test.json";
const JWS_FILE: &str = "json_web_signature_test.json";
const JWK_FILE: &str = "json_web_key_test.json";

/// The RSASSA-PKCS1-v1_5 files, each with its case counts (see [`Counts`]).
const RSA_PKCS1_FILES: [(&str, Counts); 6] = [
    ("rsa_signature_2048_sha256_test.json", (259, 9, 249, 1)),
    ("rsa_signature_2048_sha384_test.json", (258, 7, 250, 1)),
    ("rsa_signature_2048_sha512_test.json", (259, 8, 250, 1)),
    ("rsa_signature_3072_sha256_test.json", (259, 8, 250, 1)),
    ("rsa_signature_4096_sha256_test.json", (258, 7, 250, 1)),
    ("rsa_signature_4096_sha512_test.json", (259, 7, 251, 1)),
];

/// The RSASSA-PSS files. Each uses MGF1 with the message hash and a salt as long as the hash,
/// which is exactly PS256/PS384/PS512 (RFC 7518 §3.5); `pss_algorithm` checks it per group.
const RSA_PSS_FILES: [(&str, Counts); 4] = [
    ("rsa_pss_2048_sha256_mgf1_32_test.json", (108, 63, 45, 0)),
    ("rsa_pss_2048_sha384_mgf1_48_test.json", (141, 95, 46, 0)),
    ("rsa_pss_3072_sha256_mgf1_32_test.json", (108, 63, 45, 0)),
    ("rsa_pss_4096_sha512_mgf1_64_test.json", (179, 132, 47, 0)),
];

/// Cases in a file: (all, valid, invalid, acceptable).
type Counts = (usize, usize, usize, usize);

/// JWK members that hold private or symmetric key material (RFC 7518 §6).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The P-256 key behind the JWS `es256` group and the EC cases of the JWK file, with nothing
/// but the members keybound needs: the control that shows a refused case is refused because of
/// its key, not because its signature is bad.
const CONTROL_EC_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY","y":"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw"}"#;

// ---------------------------------------------------------------------------------------------
// Helpers: reading the files
// ---------------------------------------------------------------------------------------------

fn data_path(file: &str) -> String {
    format!(
        "{}/tests/data/wycheproof/{file}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn load(file: &str) -> Value {
    let path = data_path(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
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

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd-length hex {text:?}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// A big-endian integer without its leading zero octets: Wycheproof writes moduli as ASN.1
/// INTEGER contents (`00` before a high bit), JWK wants the minimal form (RFC 7518 §2).
fn minimal(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn bit_length(minimal: &[u8]) -> usize {
    minimal.first().map_or(0, |first| {
        minimal.len() * 8 - usize::try_from(first.leading_zeros()).unwrap()
    })
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

/// Strict base64url: the lenient decoding, kept only when it is the canonical spelling.
fn b64url_decode_strict(text: &str) -> Option<Vec<u8>> {
    b64url_decode_lenient(text).filter(|bytes| b64url(bytes) == text)
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

/// The header of a three-segment JWS whose header segment is canonical base64url of a JSON
/// object; `None` otherwise (such a JWS fails to parse before its `alg` is read).
fn strict_header(jws: &str) -> Option<serde_json::Map<String, Value>> {
    let mut parts = jws.split('.');
    let (Some(h), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    match serde_json::from_slice(&b64url_decode_strict(h)?).ok()? {
        Value::Object(header) => Some(header),
        _ => None,
    }
}

/// Signs `header_b64.payload_b64` exactly as given (no re-encoding) with `key`.
fn sign_raw(key: &SigningKey, header_b64: &str, payload_b64: &str) -> String {
    let input = format!("{header_b64}.{payload_b64}");
    let signature = key.sign(input.as_bytes()).expect("signing");
    format!("{input}.{}", b64url(&signature))
}

/// `jwk` without its private members: the public JWK of a private key, and for an `oct` key
/// what is left once its secret is taken away.
fn without_private_members(jwk: &Value) -> Value {
    let mut object = jwk.as_object().expect("a JWK object").clone();
    for member in PRIVATE_MEMBERS {
        object.remove(member);
    }
    Value::Object(object)
}

// ---------------------------------------------------------------------------------------------
// Verdicts, divergences and tallies
// ---------------------------------------------------------------------------------------------

/// Wycheproof's verdict for a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expected {
    Valid,
    Invalid,
    /// Wycheproof allows either outcome; keybound, being strict, must refuse.
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

    /// Whether keybound must accept the case.
    fn must_accept(self) -> bool {
        self == Self::Valid
    }
}

/// Why keybound refused a case.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Refusal {
    /// The key was refused (`PublicKey::from_jwk`, `KeySet::from_jwks`).
    Key(KeyError),
    /// The JWS or signature was refused.
    Jose(JoseError),
    /// The key set has no key under the JWS header's `kid`.
    UnknownKid,
}

impl Refusal {
    /// The kind written in KNOWN_DIVERGENCES.md: `key:`/`jws:` and the error's stable reason.
    fn kind(&self) -> String {
        match self {
            Self::Key(e) => format!("key:{}", e.reason()),
            Self::Jose(e) => format!("jws:{}", e.reason()),
            Self::UnknownKid => "unknown_kid".to_owned(),
        }
    }
}

/// keybound's outcome for a case.
type Outcome = Result<(), Refusal>;

/// The kind of a divergence in which keybound accepts what Wycheproof does not.
const ACCEPTED: &str = "accepted";

/// The run of one file: tallies, bugs found on the way, and divergences from Wycheproof.
struct Run {
    file: &'static str,
    cases: usize,
    valid: usize,
    invalid: usize,
    acceptable: usize,
    accepted: usize,
    groups: usize,
    refused_keys: usize,
    /// Groups whose own JWK (`publicKeyJwk`, `keyJwk`) was checked against ours.
    group_jwks: usize,
    /// tcId -> (group or case label, kind).
    divergences: BTreeMap<u64, (String, String)>,
    failures: Vec<String>,
}

impl Run {
    fn new(file: &'static str) -> Self {
        Self {
            file,
            cases: 0,
            valid: 0,
            invalid: 0,
            acceptable: 0,
            accepted: 0,
            groups: 0,
            refused_keys: 0,
            group_jwks: 0,
            divergences: BTreeMap::new(),
            failures: Vec::new(),
        }
    }

    /// Records keybound's `outcome` for `case`, labelled `label` in the divergence list.
    fn record(&mut self, case: &Value, label: &str, outcome: &Outcome) {
        self.cases += 1;
        let expected = Expected::of(case);
        match expected {
            Expected::Valid => self.valid += 1,
            Expected::Invalid => self.invalid += 1,
            Expected::Acceptable => self.acceptable += 1,
        }
        self.accepted += usize::from(outcome.is_ok());
        if outcome.is_ok() != expected.must_accept() {
            let kind = match outcome {
                Ok(()) => ACCEPTED.to_owned(),
                Err(refusal) => refusal.kind(),
            };
            let previous = self
                .divergences
                .insert(tc_id(case), (label.to_owned(), kind));
            assert!(previous.is_none(), "tcId {} recorded twice", tc_id(case));
        }
    }

    fn fail(&mut self, message: String) {
        self.failures.push(message);
    }

    /// Prints the tally and asserts: every case run, the expected counts, no failure, and
    /// exactly the divergences that KNOWN_DIVERGENCES.md lists for this file.
    fn finish(self, data: &Value, counts: Counts) {
        eprintln!(
            "{} [{BACKEND}]: {} cases ({} valid, {} invalid, {} acceptable) in {} groups, \
             {} keys refused, {} group JWKs checked, {} accepted, {} divergences, {} failures",
            self.file,
            self.cases,
            self.valid,
            self.invalid,
            self.acceptable,
            self.groups,
            self.refused_keys,
            self.group_jwks,
            self.accepted,
            self.divergences.len(),
            self.failures.len()
        );
        assert!(
            self.failures.is_empty(),
            "{}: {} failures:\n{}",
            self.file,
            self.failures.len(),
            self.failures.join("\n")
        );
        assert_eq!(
            self.cases,
            number_of_tests(data),
            "{}: numberOfTests",
            self.file
        );
        assert_eq!(self.groups, groups(data).len(), "{}: groups", self.file);
        assert_eq!(
            (self.cases, self.valid, self.invalid, self.acceptable),
            counts,
            "{}: (cases, valid, invalid, acceptable)",
            self.file
        );
        assert_divergences_match(self.file, &self.divergences);
    }
}

const DIVERGENCES_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/wycheproof/KNOWN_DIVERGENCES.md"
);

/// Every file this suite runs; a divergence may only name one of them.
fn all_files() -> Vec<&'static str> {
    let mut files = vec![
        ECDSA_P256_FILE,
        ECDSA_P384_FILE,
        ECDSA_P521_FILE,
        ED25519_FILE,
        JWS_FILE,
        JWK_FILE,
    ];
    files.extend(RSA_PKCS1_FILES.iter().map(|(f, _)| *f));
    files.extend(RSA_PSS_FILES.iter().map(|(f, _)| *f));
    files
}

/// Whether `kind` is a kind this test can observe.
fn is_known_kind(kind: &str) -> bool {
    kind == ACCEPTED
        || kind == "unknown_kid"
        || kind.strip_prefix("key:").is_some_and(|r| !r.is_empty())
        || kind.strip_prefix("jws:").is_some_and(|r| !r.is_empty())
}

/// `(file, tcId) -> (group, kind)` from KNOWN_DIVERGENCES.md: every table row whose first cell
/// names a `.json` file, with five cells: file, tcId, group, kind, reason.
fn known_divergences() -> BTreeMap<(String, u64), (String, String)> {
    let text = std::fs::read_to_string(DIVERGENCES_PATH).expect("reading KNOWN_DIVERGENCES.md");
    let files = all_files();
    let mut all = BTreeMap::new();
    for (line_no, line) in text.lines().enumerate() {
        let line_no = line_no + 1;
        if !line.trim_start().starts_with('|') {
            continue;
        }
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if !cells[0].ends_with(".json") {
            continue;
        }
        assert_eq!(
            cells.len(),
            5,
            "KNOWN_DIVERGENCES.md:{line_no}: want 5 cells: {line}"
        );
        assert!(
            files.contains(&cells[0]),
            "KNOWN_DIVERGENCES.md:{line_no}: unknown file {:?}",
            cells[0]
        );
        let id: u64 = cells[1]
            .parse()
            .unwrap_or_else(|_| panic!("KNOWN_DIVERGENCES.md:{line_no}: bad tcId {:?}", cells[1]));
        let kind = cells[3].trim_matches('`');
        assert!(
            is_known_kind(kind),
            "KNOWN_DIVERGENCES.md:{line_no}: unknown kind {kind:?}"
        );
        assert!(
            cells[4].len() > 10,
            "KNOWN_DIVERGENCES.md:{line_no}: a reason is required"
        );
        let previous = all.insert(
            (cells[0].to_owned(), id),
            (cells[2].to_owned(), kind.to_owned()),
        );
        assert!(
            previous.is_none(),
            "KNOWN_DIVERGENCES.md:{line_no}: {} tcId {id} listed twice",
            cells[0]
        );
    }
    all
}

fn assert_divergences_match(file: &str, observed: &BTreeMap<u64, (String, String)>) {
    let listed: BTreeMap<u64, (String, String)> = known_divergences()
        .into_iter()
        .filter(|((f, _), _)| f == file)
        .map(|((_, id), entry)| (id, entry))
        .collect();
    let describe = |(id, (group, kind)): (&u64, &(String, String))| {
        format!("| {file} | {id} | {group} | {kind} |")
    };
    let unlisted: Vec<_> = observed
        .iter()
        .filter(|(id, entry)| listed.get(id) != Some(entry))
        .map(describe)
        .collect();
    let stale: Vec<_> = listed
        .iter()
        .filter(|(id, entry)| observed.get(id) != Some(entry))
        .map(describe)
        .collect();
    assert!(
        unlisted.is_empty() && stale.is_empty(),
        "{file} [{BACKEND}]: divergences from Wycheproof differ from KNOWN_DIVERGENCES.md\n\
         observed but not listed:\n{}\nlisted but not observed:\n{}",
        unlisted.join("\n"),
        stale.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// a) Signature primitives through PublicKey::from_jwk and PublicKey::verify
// ---------------------------------------------------------------------------------------------

/// How a group of a signature file maps onto keybound.
struct GroupKey {
    /// The public key as a JWK, written from the vector's raw key.
    jwk: String,
    /// The algorithms to verify with; all must give the same verdict.
    algs: Vec<Algorithm>,
    /// Algorithms under which a `valid` signature must *not* verify with the same key (the
    /// other RSA padding with the same hash).
    wrong_primitives: Vec<Algorithm>,
}

/// Runs every case of a signature file: `group_key` maps a group to its key (and may check the
/// group's own JWK against it), every case's `msg`/`sig` goes through `PublicKey::verify`.
fn run_signature_file(
    file: &'static str,
    counts: Counts,
    group_key: impl Fn(&Value, &mut Run) -> GroupKey,
) {
    let data = load(file);
    let mut run = Run::new(file);
    let all = AlgorithmSet::all();
    for group in groups(&data) {
        run.groups += 1;
        let spec = group_key(group, &mut run);
        let key = PublicKey::from_jwk(&spec.jwk);
        if key.is_err() {
            run.refused_keys += 1;
        }
        for case in cases(group) {
            let id = tc_id(case);
            let label = str_field(case, "comment");
            let msg = hex(str_field(case, "msg"));
            let sig = hex(str_field(case, "sig"));
            let key = match &key {
                Ok(key) => key,
                Err(e) => {
                    // A refused key refuses every case of its group, with a typed error.
                    run.record(case, label, &Err(Refusal::Key(*e)));
                    continue;
                }
            };
            let outcomes: Vec<Outcome> = spec
                .algs
                .iter()
                .map(|alg| key.verify(*alg, all, &msg, &sig).map_err(Refusal::Jose))
                .collect();
            if outcomes.windows(2).any(|w| w[0] != w[1]) {
                run.fail(format!("tcId {id}: {:?} disagree: {outcomes:?}", spec.algs));
            }
            let outcome = &outcomes[0];
            run.record(case, label, outcome);
            if let Err(refusal) = outcome {
                // Only the length and the arithmetic may refuse here: the algorithm fits.
                let length_or_math = matches!(
                    refusal,
                    Refusal::Jose(JoseError::SignatureLength | JoseError::InvalidSignature)
                );
                if !length_or_math {
                    run.fail(format!(
                        "tcId {id}: refused before the signature: {refusal:?}"
                    ));
                }
            }
            if Expected::of(case) == Expected::Valid {
                for alg in &spec.wrong_primitives {
                    let got = key.verify(*alg, all, &msg, &sig);
                    if got != Err(JoseError::InvalidSignature) {
                        run.fail(format!("tcId {id}: verified as {alg} gave {got:?}"));
                    }
                }
                // The policy set is applied: without the algorithm, nothing verifies.
                let alg = spec.algs[0];
                let others: AlgorithmSet = all.iter().filter(|a| *a != alg).collect();
                let got = key.verify(alg, others, &msg, &sig);
                if got != Err(JoseError::UnsupportedAlgorithm) {
                    run.fail(format!("tcId {id}: {alg} outside the policy gave {got:?}"));
                }
            }
        }
    }
    assert!(run.group_jwks > 0, "{file}: no group JWK checked");
    run.finish(&data, counts);
}

/// Checks that a JWK Wycheproof gives for a group (`publicKeyJwk`, `keyJwk`) has the same
/// members as ours, that keybound reads it as the same key, and that its `alg`, if any, is one
/// of `algs` (so the hash-to-algorithm mapping here agrees with Wycheproof's).
fn check_group_jwk(group: &Value, ours: &str, members: &[&str], algs: &[Algorithm], run: &mut Run) {
    let Some(theirs) = group.get("publicKeyJwk").or_else(|| group.get("keyJwk")) else {
        return;
    };
    run.group_jwks += 1;
    let ours_value: Value = serde_json::from_str(ours).unwrap();
    for member in members {
        if theirs[*member] != ours_value[*member] {
            run.fail(format!(
                "group JWK member {member:?}: Wycheproof {} vs ours {}",
                theirs[*member], ours_value[*member]
            ));
        }
    }
    // Their JWK carries `kid` (and for RSA `alg`), which keybound must accept.
    let text = serde_json::to_string(theirs).unwrap();
    match (PublicKey::from_jwk(&text), PublicKey::from_jwk(ours)) {
        (Ok(a), Ok(b)) if a == b => {
            if let Some(alg) = a.algorithm() {
                if !algs.contains(&alg) {
                    run.fail(format!("group JWK {text} names {alg}, we verify {algs:?}"));
                }
            }
        }
        (Err(a), Err(b)) if a == b => {}
        (a, b) => run.fail(format!("group JWK {text} gave {a:?}, ours {b:?}")),
    }
}

/// A P1363 ECDSA group: the uncompressed point's coordinates as `x` and `y`.
fn ecdsa_group(
    curve: &'static str,
    crv: &'static str,
    sha: &'static str,
    alg: Algorithm,
) -> impl Fn(&Value, &mut Run) -> GroupKey {
    move |group, run| {
        assert_eq!(str_field(group, "type"), "EcdsaP1363Verify");
        assert_eq!(str_field(group, "sha"), sha);
        let public = &group["publicKey"];
        assert_eq!(str_field(public, "curve"), curve);
        let sec1 = hex(str_field(public, "uncompressed"));
        let len = (sec1.len() - 1) / 2;
        assert_eq!(sec1.len(), 1 + 2 * len, "uncompressed point length");
        assert_eq!(sec1[0], 4, "uncompressed point tag");
        let jwk = format!(
            r#"{{"kty":"EC","crv":"{crv}","x":"{}","y":"{}"}}"#,
            b64url(&sec1[1..=len]),
            b64url(&sec1[1 + len..])
        );
        check_group_jwk(group, &jwk, &["kty", "crv", "x", "y"], &[alg], run);
        GroupKey {
            jwk,
            algs: vec![alg],
            wrong_primitives: Vec::new(),
        }
    }
}

#[test]
fn ecdsa_p256_p1363() {
    let group = ecdsa_group("secp256r1", "P-256", "SHA-256", Algorithm::Es256);
    run_signature_file(ECDSA_P256_FILE, (262, 173, 89, 0), group);
}

#[test]
fn ecdsa_p384_p1363() {
    let group = ecdsa_group("secp384r1", "P-384", "SHA-384", Algorithm::Es384);
    run_signature_file(ECDSA_P384_FILE, (280, 193, 87, 0), group);
}

#[test]
fn ecdsa_p521_p1363() {
    let group = ecdsa_group("secp521r1", "P-521", "SHA-512", Algorithm::Es512);
    run_signature_file(ECDSA_P521_FILE, (318, 231, 87, 0), group);
}

#[test]
fn ed25519() {
    run_signature_file(ED25519_FILE, (151, 88, 63, 0), |group, run| {
        assert_eq!(str_field(group, "type"), "EddsaVerify");
        let public = &group["publicKey"];
        assert_eq!(str_field(public, "curve"), "edwards25519");
        let pk = hex(str_field(public, "pk"));
        assert_eq!(pk.len(), 32, "Ed25519 public key length");
        let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, b64url(&pk));
        // The key has no `alg`: both names of Ed25519 verify (RFC 8037 §3.1, RFC 9864).
        let algs = vec![Algorithm::Ed25519, Algorithm::EdDsa];
        check_group_jwk(group, &jwk, &["kty", "crv", "x"], &algs, run);
        GroupKey {
            jwk,
            algs,
            wrong_primitives: Vec::new(),
        }
    })
}

/// The RSA public key of a group as a JWK, `n` and `e` stripped of Wycheproof's leading zeros.
fn rsa_group_jwk(group: &Value, alg: Algorithm, run: &mut Run) -> String {
    let public = &group["publicKey"];
    let n = hex(str_field(public, "modulus"));
    let e = hex(str_field(public, "publicExponent"));
    let (n, e) = (minimal(&n), minimal(&e));
    assert_eq!(
        Some(bit_length(n) as u64),
        group["keySize"].as_u64(),
        "keySize"
    );
    let jwk = format!(r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#, b64url(n), b64url(e));
    check_group_jwk(group, &jwk, &["kty", "n", "e"], &[alg], run);
    jwk
}

/// The JWS algorithm of an RSASSA-PKCS1-v1_5 hash (RFC 7518 §3.3).
fn pkcs1_algorithm(sha: &str) -> Option<(Algorithm, Algorithm)> {
    match sha {
        "SHA-256" => Some((Algorithm::Rs256, Algorithm::Ps256)),
        "SHA-384" => Some((Algorithm::Rs384, Algorithm::Ps384)),
        "SHA-512" => Some((Algorithm::Rs512, Algorithm::Ps512)),
        _ => None,
    }
}

/// The JWS algorithm of RSASSA-PSS parameters: PS256/384/512 use MGF1 with the message hash and
/// a salt as long as the hash (RFC 7518 §3.5). Any other set is not a JWS algorithm.
fn pss_algorithm(sha: &str, mgf: &str, mgf_sha: &str, salt_len: u64) -> Option<Algorithm> {
    match (sha, mgf, mgf_sha, salt_len) {
        ("SHA-256", "MGF1", "SHA-256", 32) => Some(Algorithm::Ps256),
        ("SHA-384", "MGF1", "SHA-384", 48) => Some(Algorithm::Ps384),
        ("SHA-512", "MGF1", "SHA-512", 64) => Some(Algorithm::Ps512),
        _ => None,
    }
}

fn run_rsa_pkcs1_file(file: &'static str, counts: Counts) {
    run_signature_file(file, counts, |group, run| {
        assert_eq!(str_field(group, "type"), "RsassaPkcs1Verify");
        let sha = str_field(group, "sha");
        let (alg, pss) = pkcs1_algorithm(sha).unwrap_or_else(|| panic!("{file}: no RS* for {sha}"));
        GroupKey {
            jwk: rsa_group_jwk(group, alg, run),
            algs: vec![alg],
            wrong_primitives: vec![pss],
        }
    });
}

fn run_rsa_pss_file(file: &'static str, counts: Counts) {
    run_signature_file(file, counts, |group, run| {
        assert_eq!(str_field(group, "type"), "RsassaPssVerify");
        let (sha, mgf, mgf_sha) = (
            str_field(group, "sha"),
            str_field(group, "mgf"),
            str_field(group, "mgfSha"),
        );
        let salt_len = group["sLen"].as_u64().expect("sLen");
        let alg = pss_algorithm(sha, mgf, mgf_sha, salt_len).unwrap_or_else(|| {
            panic!("{file}: {sha} {mgf}({mgf_sha}) salt {salt_len} is not a PS* algorithm")
        });
        let rsa_pkcs1 = match alg {
            Algorithm::Ps256 => Algorithm::Rs256,
            Algorithm::Ps384 => Algorithm::Rs384,
            _ => Algorithm::Rs512,
        };
        GroupKey {
            jwk: rsa_group_jwk(group, alg, run),
            algs: vec![alg],
            wrong_primitives: vec![rsa_pkcs1],
        }
    });
}

#[test]
fn rsa_pkcs1_2048_sha256() {
    let (file, counts) = RSA_PKCS1_FILES[0];
    run_rsa_pkcs1_file(file, counts);
}

#[test]
fn rsa_pkcs1_2048_sha384() {
    let (file, counts) = RSA_PKCS1_FILES[1];
    run_rsa_pkcs1_file(file, counts);
}

#[test]
fn rsa_pkcs1_2048_sha512() {
    let (file, counts) = RSA_PKCS1_FILES[2];
    run_rsa_pkcs1_file(file, counts);
}

#[test]
fn rsa_pkcs1_3072_sha256() {
    let (file, counts) = RSA_PKCS1_FILES[3];
    run_rsa_pkcs1_file(file, counts);
}

#[test]
fn rsa_pkcs1_4096_sha256() {
    let (file, counts) = RSA_PKCS1_FILES[4];
    run_rsa_pkcs1_file(file, counts);
}

#[test]
fn rsa_pkcs1_4096_sha512() {
    let (file, counts) = RSA_PKCS1_FILES[5];
    run_rsa_pkcs1_file(file, counts);
}

#[test]
fn rsa_pss_2048_sha256_mgf1_32() {
    let (file, counts) = RSA_PSS_FILES[0];
    run_rsa_pss_file(file, counts);
}

#[test]
fn rsa_pss_2048_sha384_mgf1_48() {
    let (file, counts) = RSA_PSS_FILES[1];
    run_rsa_pss_file(file, counts);
}

#[test]
fn rsa_pss_3072_sha256_mgf1_32() {
    let (file, counts) = RSA_PSS_FILES[2];
    run_rsa_pss_file(file, counts);
}

#[test]
fn rsa_pss_4096_sha512_mgf1_64() {
    let (file, counts) = RSA_PSS_FILES[3];
    run_rsa_pss_file(file, counts);
}

#[test]
fn only_jws_parameter_sets_map_to_ps_algorithms() {
    assert_eq!(
        pss_algorithm("SHA-256", "MGF1", "SHA-256", 32),
        Some(Algorithm::Ps256)
    );
    assert_eq!(
        pss_algorithm("SHA-512", "MGF1", "SHA-512", 64),
        Some(Algorithm::Ps512)
    );
    for (sha, mgf, mgf_sha, salt) in [
        ("SHA-256", "MGF1", "SHA-256", 0),
        ("SHA-256", "MGF1", "SHA-256", 20),
        ("SHA-256", "MGF1", "SHA-1", 32),
        ("SHA-384", "MGF1", "SHA-256", 48),
        ("SHA-512", "MGF1", "SHA-512", 32),
        ("SHA-512/256", "MGF1", "SHA-512/256", 32),
        ("SHA-256", "SHAKE128", "SHA-256", 32),
    ] {
        assert_eq!(
            pss_algorithm(sha, mgf, mgf_sha, salt),
            None,
            "{sha} {mgf_sha} {salt}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// b) JSON Web Signature vectors through PublicKey::verify_jws
// ---------------------------------------------------------------------------------------------

/// The public JWK a JWS group is verified with: its `public` member, else its `private` one
/// without the private members (the HMAC groups have only a private `oct` key).
fn group_public_jwk(group: &Value) -> String {
    let jwk = match group.get("public") {
        Some(public) => public.clone(),
        None => without_private_members(&group["private"]),
    };
    serde_json::to_string(&jwk).unwrap()
}

/// Whether `jws` parses up to its `alg` and names one keybound does not implement (`none`,
/// HS*): such a JWS must be refused by every key, before any cryptography.
fn names_foreign_alg(jws: &str) -> bool {
    strict_header(jws).is_some_and(|header| match header.get("alg") {
        Some(Value::String(alg)) => Algorithm::from_name(alg).is_none(),
        _ => false,
    })
}

#[test]
fn jws_vectors() {
    let data = load(JWS_FILE);
    let mut run = Run::new(JWS_FILE);
    // Every key of the file that keybound reads, plus strangers: a JWS naming a foreign
    // algorithm must be refused by each of them.
    let mut every_key: Vec<(String, PublicKey)> = vec![
        (
            "a fresh ES256 key".to_owned(),
            SigningKey::generate().unwrap().public_key().clone(),
        ),
        (
            "a fresh Ed25519 key".to_owned(),
            SigningKey::generate_for(Algorithm::Ed25519)
                .unwrap()
                .public_key()
                .clone(),
        ),
    ];
    for group in groups(&data) {
        for member in ["public", "private"] {
            if let Some(jwk) = group.get(member) {
                let text = serde_json::to_string(&without_private_members(jwk)).unwrap();
                if let Ok(key) = PublicKey::from_jwk(&text) {
                    every_key.push((format!("{} {member}", group["comment"]), key));
                }
            }
        }
    }
    let mut foreign = 0;
    for group in groups(&data) {
        run.groups += 1;
        assert_eq!(str_field(group, "type"), "JsonWebSignature");
        let comment = str_field(group, "comment");
        let key = PublicKey::from_jwk(&group_public_jwk(group));
        if key.is_err() {
            run.refused_keys += 1;
        }
        for case in cases(group) {
            let id = tc_id(case);
            let jws = str_field(case, "jws");
            let outcome: Outcome = match &key {
                Err(e) => Err(Refusal::Key(*e)),
                Ok(key) => match key.verify_jws(jws) {
                    Ok(payload) => {
                        let (_, payload_b64, _) = split3(jws);
                        if Some(&payload) != b64url_decode_strict(payload_b64).as_ref() {
                            run.fail(format!("tcId {id}: wrong payload {payload:?}"));
                        }
                        Ok(())
                    }
                    Err(e) => Err(Refusal::Jose(e)),
                },
            };
            run.record(case, comment, &outcome);
            if names_foreign_alg(jws) {
                foreign += 1;
                for (name, key) in &every_key {
                    let got = key.verify_jws(jws);
                    if got.as_ref().err() != Some(&JoseError::UnsupportedAlgorithm) {
                        run.fail(format!(
                            "tcId {id} ({comment}): a foreign alg with {name} gave {:?}",
                            got.map(|p| p.len())
                        ));
                    }
                }
            }
        }
    }
    assert!(every_key.len() > 10, "keys read: {}", every_key.len());
    assert!(foreign > 30, "JWSs naming a foreign alg: {foreign}");
    eprintln!(
        "{JWS_FILE} [{BACKEND}]: {foreign} JWSs naming none/HS* refused by all {} keys",
        every_key.len()
    );
    run.finish(&data, (401, 46, 355, 0));
}

// ---------------------------------------------------------------------------------------------
// c) The `base64` group's mutation classes, re-created on ES256
// ---------------------------------------------------------------------------------------------

fn jws_es256_group_key(data: &Value) -> PublicKey {
    let group = groups(data)
        .iter()
        .find(|g| str_field(g, "comment") == "es256")
        .expect("es256 group");
    PublicKey::from_jwk(&serde_json::to_string(&group["public"]).unwrap())
        .expect("the es256 group's public key loads")
}

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
    let data = load(JWS_FILE);
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
        "base64url mutations on ES256 [{BACKEND}]: {checked} checked, {} failures",
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
// d) JSON Web Key vectors through PublicKey::from_jwk and KeySet::from_jwks
// ---------------------------------------------------------------------------------------------

/// The refusal `PublicKey::from_jwk` must give every key of these cases' sets, by tcId.
/// (Sets of `oct` keys, once their secret is removed, must all give `UnsupportedKeyType`.)
const JWK_KEY_ERRORS: [(u64, KeyError); 10] = [
    // An RSA key published for `RSA1_5` encryption (`alg` is checked before `use`).
    (6, KeyError::WrongAlgorithm),
    (7, KeyError::WeakRsaKey),
    (8, KeyError::RsaModulusSize { bits: 1024 }),
    (9, KeyError::InvalidRsaExponent),
    // `alg: ES521` (not a registered name) and `alg: ES224` on P-256 keys.
    (19, KeyError::WrongAlgorithm),
    (20, KeyError::WrongAlgorithm),
    (21, KeyError::WrongUse),
    (22, KeyError::InvalidPoint),
    // `crv: P-384` with 32-byte coordinates.
    (23, KeyError::InvalidCoordinate),
    // `kty: RSA` with EC members.
    (24, KeyError::MissingMember("n")),
];

/// tcIds whose keys are the P-256 key of `CONTROL_EC_JWK` with one defect: the control key
/// verifies their JWS, so the defect alone makes them invalid.
const JWK_EC_CONTROL_CASES: [u64; 6] = [19, 20, 21, 22, 23, 24];

/// keybound's outcome for a JWS against a key set read key by key: accepted if one key
/// verifies it, else the first key's refusal.
fn per_key_outcome(loaded: &[Result<PublicKey, KeyError>], jws: &str) -> Outcome {
    let mut first_refusal = None;
    for key in loaded {
        let refusal = match key {
            Err(e) => Refusal::Key(*e),
            Ok(key) => match key.verify_jws(jws) {
                Ok(_) => return Ok(()),
                Err(e) => Refusal::Jose(e),
            },
        };
        first_refusal.get_or_insert(refusal);
    }
    Err(first_refusal.expect("a non-empty key set"))
}

/// keybound's outcome for a JWS against a key set read as a JWKS: the key under the header's
/// `kid` verifies it.
fn key_set_outcome(set: &Result<KeySet, KeyError>, jws: &str) -> Outcome {
    let set = set.as_ref().map_err(|e| Refusal::Key(*e))?;
    let kid = strict_header(jws).and_then(|h| h.get("kid")?.as_str().map(str::to_owned));
    let key = kid
        .and_then(|kid| set.get(&kid))
        .ok_or(Refusal::UnknownKid)?;
    key.verify_jws(jws).map(drop).map_err(Refusal::Jose)
}

#[test]
fn jwk_vectors() {
    let data = load(JWK_FILE);
    let control = PublicKey::from_jwk(CONTROL_EC_JWK).expect("control key");
    let mut run = Run::new(JWK_FILE);
    let mut checked_errors = 0;
    let mut controlled = 0;
    for group in groups(&data) {
        run.groups += 1;
        assert_eq!(str_field(group, "type"), "JsonWebKey");
        let comment = str_field(group, "comment");
        let (set, is_private) = match group.get("public") {
            Some(set) => (set, false),
            None => (&group["private"], true),
        };
        let keys = set["keys"].as_array().expect("a JWK set");
        assert!(!keys.is_empty(), "{comment}: empty key set");
        let public_keys: Vec<Value> = keys.iter().map(without_private_members).collect();
        let loaded: Vec<Result<PublicKey, KeyError>> = public_keys
            .iter()
            .map(|k| PublicKey::from_jwk(&serde_json::to_string(k).unwrap()))
            .collect();
        run.refused_keys += loaded.iter().filter(|k| k.is_err()).count();
        let public_set = serde_json::json!({ "keys": public_keys }).to_string();
        let key_set = KeySet::from_jwks(&public_set);
        if is_private {
            // A JWKS holding private or secret members is refused as a whole.
            let got = KeySet::from_jwks(&serde_json::to_string(set).unwrap()).err();
            if got != Some(KeyError::PrivateKey) {
                run.fail(format!("{comment}: a private JWKS gave {got:?}"));
            }
        }
        for case in cases(group) {
            let id = tc_id(case);
            let jws = str_field(case, "jws");
            let per_key = per_key_outcome(&loaded, jws);
            let through_set = key_set_outcome(&key_set, jws);
            if per_key.is_ok() != through_set.is_ok() {
                run.fail(format!(
                    "tcId {id} ({comment}): per key {per_key:?}, through KeySet {through_set:?}"
                ));
            }
            run.record(case, comment, &per_key);

            let wanted = JWK_KEY_ERRORS
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, e)| *e);
            for (i, (jwk, got)) in public_keys.iter().zip(&loaded).enumerate() {
                let want = match (wanted, jwk["kty"].as_str()) {
                    (Some(want), _) => Some(want),
                    (None, Some("oct")) => Some(KeyError::UnsupportedKeyType),
                    (None, _) => None,
                };
                if let Some(want) = want {
                    checked_errors += 1;
                    if got.as_ref().err() != Some(&want) {
                        run.fail(format!(
                            "tcId {id} ({comment}): key {i} should be refused with {want:?}, \
                             from_jwk gave {got:?}"
                        ));
                    }
                }
            }
            if JWK_EC_CONTROL_CASES.contains(&id) {
                controlled += 1;
                // The JWS itself is sound: only the key's defect makes the case invalid.
                if let Err(e) = control.verify_jws(jws) {
                    run.fail(format!("tcId {id} ({comment}): control key gave {e:?}"));
                }
            }
        }
    }
    assert_eq!(controlled, JWK_EC_CONTROL_CASES.len());
    assert!(
        checked_errors >= JWK_KEY_ERRORS.len() + 10,
        "{checked_errors}"
    );
    run.finish(&data, (26, 5, 21, 0));
}

// ---------------------------------------------------------------------------------------------
// e) The divergence list and the helpers
// ---------------------------------------------------------------------------------------------

#[test]
fn known_divergences_file_is_well_formed() {
    let all = known_divergences();
    assert!(!all.is_empty());
    // The signature-primitive files and the JWS groups of implemented algorithms over keys
    // keybound reads have none: there keybound must give Wycheproof's result exactly.
    for ((file, id), (group, kind)) in &all {
        assert!(
            file == JWS_FILE || file == JWK_FILE,
            "{file} tcId {id}: a signature-primitive file may not diverge ({group}, {kind})"
        );
        let exact = [
            "es256",
            "SpecialCaseEs256",
            "rs256",
            "rs384",
            "rs512",
            "ps256",
            "ps384",
            "ps512",
            "rsa_encryption",
            "ec_key_for_encryption",
        ];
        assert!(
            !exact.contains(&group.as_str()),
            "{file} tcId {id}: group {group} may not diverge ({kind})"
        );
    }
}

/// The group and case of `id` in `data`.
fn find_case(data: &Value, id: u64) -> (&Value, &Value) {
    groups(data)
        .iter()
        .flat_map(|g| cases(g).iter().map(move |c| (g, c)))
        .find(|(_, c)| tc_id(c) == id)
        .unwrap_or_else(|| panic!("no tcId {id}"))
}

/// Each listed divergence is there for its stated reason only: an HMAC row names HS* with an
/// `oct` key (refused by every key, see `jws_vectors`), and an `alg` row verifies once the
/// group's JWK names the algorithm the JWS was made with.
#[test]
fn divergences_disappear_once_their_reason_is_removed() {
    let jws_data = load(JWS_FILE);
    let jwk_data = load(JWK_FILE);
    let mut checked = 0;
    for ((file, id), (group_comment, kind)) in known_divergences() {
        let data = if file == JWS_FILE {
            &jws_data
        } else {
            &jwk_data
        };
        let (group, case) = find_case(data, id);
        assert_eq!(
            str_field(group, "comment"),
            group_comment,
            "{file} tcId {id}"
        );
        assert_eq!(Expected::of(case), Expected::Valid, "{file} tcId {id}");
        let jws = str_field(case, "jws");
        // tcIds 372/373 insert `?` into a segment: read the header without it.
        let header_b64: String = jws
            .split('.')
            .next()
            .unwrap()
            .chars()
            .filter(|c| c.is_ascii() && b64url_value(*c as u8).is_some())
            .collect();
        let header: Value = b64url_decode_lenient(&header_b64)
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_else(|| panic!("{file} tcId {id}: unreadable header"));
        let header_alg = str_field(&header, "alg").to_owned();
        let jwks: Vec<Value> = if file == JWS_FILE {
            vec![serde_json::from_str(&group_public_jwk(group)).unwrap()]
        } else {
            let set = group.get("public").unwrap_or(&group["private"]);
            set["keys"].as_array().unwrap().clone()
        };
        match kind.as_str() {
            "key:unsupported_kty" => {
                assert!(
                    ["HS256", "HS384", "HS512"].contains(&header_alg.as_str()),
                    "{file} tcId {id}: {header_alg}"
                );
                assert!(jwks.iter().all(|k| k["kty"] == "oct"), "{file} tcId {id}");
            }
            "jws:alg_key_mismatch" | "key:wrong_jwk_alg" => {
                let [jwk] = &jwks[..] else {
                    panic!("{file} tcId {id}: one key expected");
                };
                let own = str_field(jwk, "alg");
                assert_ne!(own, header_alg, "{file} tcId {id}");
                if kind == "key:wrong_jwk_alg" {
                    assert_eq!(Algorithm::from_name(own), None, "{file} tcId {id}: {own}");
                }
                let mut fixed = jwk.clone();
                fixed["alg"] = Value::String(header_alg.clone());
                let key = PublicKey::from_jwk(&fixed.to_string())
                    .unwrap_or_else(|e| panic!("{file} tcId {id}: {e:?}"));
                assert!(
                    key.verify_jws(jws).is_ok(),
                    "{file} tcId {id} with {header_alg}"
                );
            }
            other => panic!("{file} tcId {id}: no check for kind {other}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 18);
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
        assert_eq!(b64url_decode_strict(text).as_deref(), Some(bytes));
    }
    assert_eq!(b64url_decode_strict("AB"), None);
    assert_eq!(b64url_decode_strict("A+"), None);
    assert_eq!(unused_bit_variants("AA").len(), 15);
    assert_eq!(unused_bit_variants("AAA").len(), 3);
    assert_eq!(hex("00ff10"), [0, 255, 16]);
    assert_eq!(minimal(&[0, 0, 1, 0]), [1, 0]);
    assert_eq!(minimal(&[0x80]), [0x80]);
    assert_eq!(bit_length(&[1, 0]), 9);
    assert_eq!(bit_length(&[0xff]), 8);
}
