//! Generates the conformance vectors in `vectors/` (see `vectors/README.md`).
//!
//! ```sh
//! cargo run --example generate_vectors                       # rewrite vectors/ with the default seed
//! cargo run --example generate_vectors -- --seed 7 --out /tmp/v
//! cargo run --example generate_vectors -- --check            # exit 1 if vectors/ is out of date
//! cargo run --example generate_vectors -- --rsa-keys         # print rsa_keys.rs afresh (~20 s)
//! ```
//!
//! Output is a pure function of the seed: no clock, no system randomness. Keys come from
//! SHA-256 in counter mode over the seed (`drbg.rs`), except the RSA keys, drawn once from it
//! and kept in `rsa_keys.rs`; ECDSA (RFC 6979), Ed25519 and RSA PKCS#1 v1.5 signatures are
//! deterministic, and PSS salts come from the seed too. Keys and signatures are made with the
//! RustCrypto crates directly (`keys.rs`), never with keybound, so the vectors do not depend on
//! the library under test. The case-building code lives in the modules so that
//! `tests/vectors.rs` can run it in-process and compare its output with the committed files
//! byte for byte.

mod case;
mod drbg;
mod fixtures;
mod htu;
mod jose;
mod json;
mod jwe;
mod jwk;
mod keys;
mod proof;
mod proofs;
mod requests;
mod rsa_keys;
mod suite;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str =
    "usage: generate_vectors [--seed N] [--out DIR] [--check] | generate_vectors --rsa-keys";

fn main() -> ExitCode {
    let mut seed = suite::DEFAULT_SEED;
    let mut out = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/vectors"));
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => match args.next().and_then(|s| s.parse().ok()) {
                Some(n) => seed = n,
                None => return usage("--seed needs an unsigned integer"),
            },
            "--out" => match args.next() {
                Some(dir) => out = PathBuf::from(dir),
                None => return usage("--out needs a directory"),
            },
            "--check" => check = true,
            "--rsa-keys" => {
                print!("{}", keys::rsa_keys_source());
                return ExitCode::SUCCESS;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    let files = suite::generate(seed);
    let mut stale = false;
    for (name, text) in &files {
        let path = out.join(name);
        if check {
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            if &current != text {
                eprintln!("{} is out of date", path.display());
                stale = true;
            }
            continue;
        }
        if let Err(e) = std::fs::create_dir_all(&out).and_then(|()| std::fs::write(&path, text)) {
            eprintln!("writing {}: {e}", path.display());
            return ExitCode::from(2);
        }
        let cases = text.matches("\n      \"id\": ").count();
        println!("{} ({cases} cases)", path.display());
    }
    if stale {
        eprintln!("regenerate with: cargo run --example generate_vectors -- --seed {seed}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("{problem}\n{USAGE}");
    ExitCode::from(2)
}
