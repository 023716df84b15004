//! Per-key precomputed tables for ES256 (issue 18): the table path gives exactly `p256`'s answer
//! on every Wycheproof P-256 case, on the RFC 9449 and RFC 7515 A.3 examples and on a
//! differential property test (random keys, messages and signatures, valid and mutated: bit
//! flips, `r` or `s` zero, `n`, `n − 1`, high-S, swapped, another message).
//! `KEYBOUND_DIFFERENTIAL_CASES` sets the property test's case count (2 000 by default; a long
//! run takes millions).
#![cfg(not(feature = "aws-lc"))]

use keybound::{es256_build_table, es256_plain_and_table_verdicts, KeyTables, PublicKey};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use proptest::prelude::*;
use serde_json::Value;

/// The P-256 group order `n`, big-endian.
const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// `n − k` for a small `k`, big-endian.
fn order_minus(k: u8) -> [u8; 32] {
    let mut value = ORDER;
    let (low, borrow) = value[31].overflowing_sub(k);
    value[31] = low;
    assert!(!borrow, "k too large for this helper");
    value
}

#[test]
fn every_wycheproof_p256_case_answers_alike_on_both_paths() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json"
    );
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (mut compared, mut accepted, mut unparsed) = (0, 0, 0);
    for group in data["testGroups"].as_array().unwrap() {
        let point = hex(group["publicKey"]["uncompressed"].as_str().unwrap());
        for case in group["tests"].as_array().unwrap() {
            let (message, signature) = (
                hex(case["msg"].as_str().unwrap()),
                hex(case["sig"].as_str().unwrap()),
            );
            let result = case["result"].as_str().unwrap();
            let id = &case["tcId"];
            match es256_plain_and_table_verdicts(&point, &message, &signature) {
                None => {
                    assert_ne!(
                        result, "valid",
                        "tcId {id}: a valid signature did not parse"
                    );
                    unparsed += 1;
                }
                Some((plain, table)) => {
                    assert_eq!(plain, table, "tcId {id}: the paths disagree");
                    match result {
                        "valid" => assert!(table, "tcId {id} refused"),
                        "invalid" => assert!(!table, "tcId {id} accepted"),
                        _ => {}
                    }
                    compared += 1;
                    accepted += usize::from(table);
                }
            }
        }
    }
    let total = data["numberOfTests"].as_u64().unwrap() as usize;
    assert_eq!(compared + unparsed, total);
    eprintln!("{compared} compared ({accepted} accepted), {unparsed} did not parse");
    // This file's counts: every parsed case compared, the valid ones accepted on both paths.
    assert_eq!((compared, accepted, unparsed), (191, 173, 71));
}

/// How a property-test signature is changed before both paths judge it.
#[derive(Clone, Copy, Debug)]
enum Mutation {
    None,
    FlipBit(usize),
    HighS,
    Swap,
    RZero,
    SZero,
    ROrder,
    SOrder,
    ROrderMinusOne,
    SOrderMinusOne,
    OtherMessage,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => Just(Mutation::None),
        4 => (0usize..512).prop_map(Mutation::FlipBit),
        2 => Just(Mutation::HighS),
        1 => Just(Mutation::Swap),
        1 => Just(Mutation::RZero),
        1 => Just(Mutation::SZero),
        1 => Just(Mutation::ROrder),
        1 => Just(Mutation::SOrder),
        1 => Just(Mutation::ROrderMinusOne),
        1 => Just(Mutation::SOrderMinusOne),
        1 => Just(Mutation::OtherMessage),
    ]
}

fn cases() -> u32 {
    std::env::var("KEYBOUND_DIFFERENTIAL_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn both_paths_agree_on_random_and_mutated_signatures(
        secret in any::<[u8; 32]>(),
        message in proptest::collection::vec(any::<u8>(), 0..96),
        mutation in mutation(),
    ) {
        let Ok(signer) = SigningKey::from_slice(&secret) else {
            return Ok(()); // not a scalar in [1, n): no key
        };
        let point = signer.verifying_key().to_sec1_point(false);
        let signature: Signature = signer.sign(&message);
        let mut bytes = signature.to_bytes().to_vec();
        let mut signed_over = message.clone();
        match mutation {
            Mutation::None => {}
            Mutation::FlipBit(bit) => bytes[bit / 8] ^= 1 << (bit % 8),
            Mutation::HighS => {
                let (r, s) = signature.split_scalars();
                bytes = Signature::from_scalars(*r, -*s).unwrap().to_bytes().to_vec();
            }
            Mutation::Swap => bytes.rotate_left(32),
            Mutation::RZero => bytes[..32].fill(0),
            Mutation::SZero => bytes[32..].fill(0),
            Mutation::ROrder => bytes[..32].copy_from_slice(&ORDER),
            Mutation::SOrder => bytes[32..].copy_from_slice(&ORDER),
            Mutation::ROrderMinusOne => bytes[..32].copy_from_slice(&order_minus(1)),
            Mutation::SOrderMinusOne => bytes[32..].copy_from_slice(&order_minus(1)),
            Mutation::OtherMessage => signed_over.push(0x2a),
        }
        let verdicts = es256_plain_and_table_verdicts(point.as_bytes(), &signed_over, &bytes);
        if let Some((plain, table)) = verdicts {
            prop_assert_eq!(plain, table, "{:?}", mutation);
            if matches!(mutation, Mutation::None | Mutation::HighS) {
                prop_assert!(table, "a valid signature refused ({:?})", mutation);
            }
        } else {
            // Only out-of-range scalars fail to parse.
            let out_of_range = matches!(
                mutation,
                Mutation::RZero | Mutation::SZero | Mutation::ROrder | Mutation::SOrder
                    | Mutation::FlipBit(_) | Mutation::Swap
            );
            prop_assert!(out_of_range, "{:?} did not parse", mutation);
        }
    }
}

/// The RFC 9449 example proofs through the public API, more often than it takes to admit their
/// key: verified through the key's table, a tampered one refused; with no memory for tables
/// none is built. One test, because the tables are process-wide.
#[test]
fn repeated_keys_verify_through_their_table_and_the_limit_holds() {
    let examples: Value =
        serde_json::from_str(include_str!("data/rfc/rfc9449_examples.json")).unwrap();
    let key = PublicKey::from_jwk(&examples["public_jwk"].to_string()).unwrap();
    let proofs: Vec<&str> = examples["proofs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["proof"].as_str().unwrap())
        .collect();
    let before = KeyTables::stats();
    for _ in 0..2 * KeyTables::admit_at() {
        for proof in &proofs {
            assert!(key.verify_jws(proof).is_ok());
        }
    }
    let after = KeyTables::stats();
    assert!(after.builds > before.builds, "{after:?}");
    assert!(
        after.hits >= before.hits + u64::from(KeyTables::admit_at()),
        "{after:?}"
    );
    assert!(after.tables >= 1 && after.bytes >= KeyTables::table_bytes());
    // Through the table now: a signature with one bit flipped is refused.
    let (input, signature) = proofs[0].rsplit_once('.').unwrap();
    let mut flipped = signature.as_bytes().to_vec();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{input}.{}", String::from_utf8(flipped).unwrap());
    let hits = KeyTables::stats().hits;
    assert!(key.verify_jws(&tampered).is_err());
    assert!(
        KeyTables::stats().hits > hits,
        "the tampered proof took the table path"
    );

    rfc7515_es256_example_verifies_through_the_table();

    // No memory: tables go, none is built, answers stay.
    KeyTables::set_memory_limit(0);
    assert_eq!(KeyTables::memory_limit(), 0);
    assert_eq!(KeyTables::stats().tables, 0);
    let builds = KeyTables::stats().builds;
    for _ in 0..2 * KeyTables::admit_at() {
        assert!(key.verify_jws(proofs[1]).is_ok());
    }
    assert!(key.verify_jws(&tampered).is_err());
    assert_eq!(KeyTables::stats().builds, builds);
    KeyTables::set_memory_limit(16 << 20);
    assert_eq!(KeyTables::memory_limit(), 16 << 20);
    assert_eq!(KeyTables::table_bytes(), 832 * 72);
}

/// The benchmarks' table build reports the size of one key's table, and refuses a point that
/// is not on the curve.
#[test]
fn a_built_table_has_the_size_of_one_keys_table() {
    let signer = SigningKey::from_slice(&[7; 32]).unwrap();
    let point = signer.verifying_key().to_sec1_point(false);
    assert_eq!(
        es256_build_table(point.as_bytes()),
        Some(KeyTables::table_bytes())
    );
    let mut off_curve = point.as_bytes().to_vec();
    off_curve[64] ^= 1;
    assert_eq!(es256_build_table(&off_curve), None);
}

/// RFC 7515 Appendix A.3 (ES256): its example JWS verifies through the key's table once the key
/// is admitted, and with one signature byte changed it is refused there. (The RFC 7520 cookbook's
/// ECDSA example is P-521, which has no tables.)
/// Called by the one test that changes the process-wide limit, before it does.
fn rfc7515_es256_example_verifies_through_the_table() {
    let key = PublicKey::from_jwk(
        r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
    )
    .unwrap();
    let jws = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
    for _ in 0..2 * KeyTables::admit_at() {
        assert!(key.verify_jws(jws).is_ok());
    }
    let tampered = jws.replace("DtEhU3", "DtEhU4");
    let hits = KeyTables::stats().hits;
    assert!(key.verify_jws(&tampered).is_err());
    assert!(
        KeyTables::stats().hits > hits,
        "the tampered JWS took the table path"
    );
}
