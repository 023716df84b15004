//! No private key material stays behind in freed memory: every block freed while a private
//! key is read (`SigningKey::from_jwk`, `SigningKey::from_pem`), exported (`to_jwk`) and
//! dropped is checked, as it is at the moment it is freed, for the key's private members: their
//! base64url text, their big-endian bytes (decoded JWK members, DER) and their little-endian
//! bytes (the limbs of big integers).
//!
//! One known gap, watched but tolerated: the `rsa` crate (0.10) and `crypto-bigint` (0.7) free
//! big-integer limbs holding `p`, `q` and `qi` without zeroizing them — arithmetic temporaries
//! while a key is built or exported (`precompute`, `validate`, `crt_coefficient`) and the
//! Montgomery parameters of `p` and `q` when the key is dropped. That memory belongs to those
//! crates; keybound cannot wipe it (see `SECURITY.md`). Every other form of every RSA member,
//! and every form of EC and Ed25519 keys, must be clean.

use std::sync::{Mutex, MutexGuard};

use base64ct::{Base64UrlUnpadded, Encoding};
use keybound::{Algorithm, SigningKey};
use keybound_alloc_probe as probe;
use zeroize::Zeroizing;

#[global_allocator]
static PROBE: probe::Probe = probe::Probe;

/// The probe is global: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn data(name: &str) -> Zeroizing<String> {
    let path = format!(
        "{}/../../tests/data/openssl/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    Zeroizing::new(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

/// The private members a JWK may carry, with the labels their three forms are watched under.
const MEMBERS: [(&str, [&str; 3]); 6] = [
    (
        "d",
        ["d (base64url)", "d (big-endian)", "d (little-endian)"],
    ),
    (
        "p",
        ["p (base64url)", "p (big-endian)", "p (little-endian)"],
    ),
    (
        "q",
        ["q (base64url)", "q (big-endian)", "q (little-endian)"],
    ),
    (
        "dp",
        ["dp (base64url)", "dp (big-endian)", "dp (little-endian)"],
    ),
    (
        "dq",
        ["dq (base64url)", "dq (big-endian)", "dq (little-endian)"],
    ),
    (
        "qi",
        ["qi (base64url)", "qi (big-endian)", "qi (little-endian)"],
    ),
];

/// The text of member `name` of a compact private JWK as `to_jwk` writes it (no escapes).
fn member<'a>(jwk: &'a str, name: &str) -> Option<&'a str> {
    let start = jwk.find(&format!("\"{name}\":\""))? + name.len() + 4;
    let len = jwk[start..].find('"')?;
    Some(&jwk[start..start + len])
}

/// Watches every private member of `jwk`; returns how many there were. The little-endian
/// form of RSA members is the `rsa` crate's known gap (module documentation).
fn watch_private_members(jwk: &str) -> usize {
    probe::unwatch_all();
    let rsa = jwk.contains(r#""kty":"RSA""#);
    let mut watched = 0;
    for (name, [text_label, be_label, le_label]) in MEMBERS {
        let Some(text) = member(jwk, name) else {
            continue;
        };
        let mut bytes = Zeroizing::new(Base64UrlUnpadded::decode_vec(text).unwrap());
        probe::watch(text_label, text.as_bytes());
        probe::watch(be_label, &bytes);
        bytes.reverse();
        if rsa {
            probe::watch_known_gap(le_label, &bytes);
        } else {
            probe::watch(le_label, &bytes);
        }
        watched += 1;
    }
    watched
}

/// One key of each type: generated (EC P-256, Ed25519) or read from the OpenSSL test files
/// (P-384, P-521, RSA 2048: generating RSA keys is slow).
fn keys() -> Vec<(&'static str, SigningKey)> {
    vec![
        ("P-256", SigningKey::generate_for(Algorithm::Es256).unwrap()),
        (
            "P-384",
            SigningKey::from_pem(&data("p384_pkcs8.pem")).unwrap(),
        ),
        (
            "P-521",
            SigningKey::from_pem(&data("p521_pkcs8.pem")).unwrap(),
        ),
        (
            "Ed25519",
            SigningKey::generate_for(Algorithm::Ed25519).unwrap(),
        ),
        (
            "RSA-2048",
            SigningKey::from_pem_with_algorithm(&data("rsa2048_pkcs8.pem"), Algorithm::Rs256)
                .unwrap(),
        ),
    ]
}

#[test]
fn the_probe_sees_plain_copies_and_passes_zeroized_ones() {
    let _serial = serial();
    let secret = Zeroizing::new(*b"0123456789abcdef0123456789abcdef-secret");
    probe::unwatch_all();
    probe::watch("secret", &secret[..]);

    let ((), report) = probe::armed(|| drop(secret.to_vec()));
    assert_eq!(report.total_hits, 1, "{report}");
    assert_eq!(report.hits[0].label, "secret");

    // A piece of the secret is enough.
    let ((), report) = probe::armed(|| {
        let mut text = String::from("prefix:");
        text.push_str(std::str::from_utf8(&secret[4..36]).unwrap());
        drop(text);
    });
    assert_eq!(report.total_hits, 1, "{report}");

    // A growing buffer leaves its old block behind: that block is checked too.
    let ((), report) = probe::armed(|| {
        let mut grown = Zeroizing::new(Vec::with_capacity(secret.len()));
        grown.extend_from_slice(&secret[..]);
        grown.push(b'!');
    });
    assert_eq!(report.total_hits, 1, "{report}");

    let ((), report) = probe::armed(|| drop(Zeroizing::new(secret.to_vec())));
    assert!(report.is_clean(), "{report}");
    assert!(report.checked_blocks >= 1);

    // A known gap is counted apart and does not fail the report.
    probe::unwatch_all();
    probe::watch_known_gap("tolerated", &secret[..]);
    let ((), report) = probe::armed(|| drop(secret.to_vec()));
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.known_gap_hits, 1, "{report}");
    assert!(report.hits[0].known_gap);
    probe::unwatch_all();
}

#[test]
fn from_jwk_leaves_no_private_member_in_freed_memory() {
    let _serial = serial();
    let mut failures = Vec::new();
    for (name, key) in keys() {
        let jwk = key.to_jwk();
        let watched = watch_private_members(&jwk);
        assert_eq!(watched, if name.starts_with("RSA") { 6 } else { 1 });
        let (parsed, report) = probe::armed(|| {
            let parsed = SigningKey::from_jwk(&jwk).map(|k| k.thumbprint());
            // The key read is dropped inside the armed window.
            parsed
        });
        assert_eq!(parsed.unwrap(), key.thumbprint());
        if !report.is_clean() {
            failures.push(format!("{name}: SigningKey::from_jwk: {report}"));
        }
        probe::unwatch_all();
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn from_pem_leaves_no_private_member_in_freed_memory() {
    let _serial = serial();
    let mut failures = Vec::new();
    for (file, alg) in [
        ("p384_pkcs8.pem", None),
        ("p521_pkcs8.pem", None),
        ("p256_sec1_with_params.pem", None),
        ("ed25519_pkcs8.pem", None),
        ("rsa2048_pkcs8.pem", Some(Algorithm::Rs256)),
        ("rsa2048_pkcs1.pem", Some(Algorithm::Ps256)),
    ] {
        let pem = data(file);
        let read = |pem: &str| match alg {
            None => SigningKey::from_pem(pem),
            Some(alg) => SigningKey::from_pem_with_algorithm(pem, alg),
        };
        let key = read(&pem).unwrap();
        let jwk = key.to_jwk();
        watch_private_members(&jwk);
        let (parsed, report) = probe::armed(|| read(&pem).map(|k| k.thumbprint()));
        assert_eq!(parsed.unwrap(), key.thumbprint());
        if !report.is_clean() {
            failures.push(format!("{file}: SigningKey::from_pem: {report}"));
        }
        probe::unwatch_all();
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn to_jwk_leaves_no_private_member_in_freed_memory() {
    let _serial = serial();
    let mut failures = Vec::new();
    for (name, key) in keys() {
        watch_private_members(&key.to_jwk());
        let ((), report) = probe::armed(|| {
            let jwk = key.to_jwk();
            assert!(jwk.contains("\"d\":\""));
            drop(jwk);
        });
        if !report.is_clean() {
            failures.push(format!("{name}: SigningKey::to_jwk: {report}"));
        }
        probe::unwatch_all();
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn dropping_a_key_leaves_no_private_member_in_freed_memory() {
    let _serial = serial();
    let mut failures = Vec::new();
    for (name, key) in keys() {
        watch_private_members(&key.to_jwk());
        let ((), report) = probe::armed(|| drop(key));
        if !report.is_clean() {
            failures.push(format!("{name}: drop(SigningKey): {report}"));
        }
        probe::unwatch_all();
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn refused_private_keys_leave_no_private_member_in_freed_memory() {
    let _serial = serial();
    let mut failures = Vec::new();
    for (name, key) in keys() {
        let jwk = key.to_jwk();
        // The private key where a public key belongs; a private key that does not match its
        // public members; an escaped private member.
        let other = SigningKey::generate_for(Algorithm::Es256).unwrap();
        let other_public = other.public_key().to_jwk();
        let private = &jwk[jwk.find(r#","alg":"#).unwrap()..];
        let mut mismatched = Zeroizing::new(other_public[..other_public.len() - 1].to_owned());
        mismatched.push_str(private);
        let d = member(&jwk, "d").unwrap();
        // `d` with its first character written as an escape, the rest as it was.
        let escaped_d = format!("\\u{:04x}{}", u32::from(d.as_bytes()[0]), &d[1..]);
        let escaped = Zeroizing::new(jwk.replace(d, &escaped_d));
        watch_private_members(&jwk);
        let (results, report) = probe::armed(|| {
            [
                keybound::PublicKey::from_jwk(&jwk).is_err(),
                SigningKey::from_jwk(&mismatched).is_err(),
                SigningKey::from_jwk(&escaped).is_err(),
            ]
        });
        assert_eq!(results, [true; 3], "{name}");
        if !report.is_clean() {
            failures.push(format!("{name}: refused private JWKs: {report}"));
        }
        probe::unwatch_all();
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
