//! The per-key table path against `p256`'s own ES256 verification: the same verdict on every
//! input (issue 18).
//!
//! Input: `flags` byte, 32 bytes of key material, 64 bytes of signature material, then the
//! message. `flags` bit 0: sign the message with the key (a valid signature) and XOR the
//! signature material into it when bit 1 is set (flipped bits, zeroed halves, anything);
//! without bit 0 the signature material is the signature. Bit 2: use the key material with
//! the first 33 bytes of the message as a point (most do not parse) instead of a signing key.
//! Property: `es256_plain_and_table_verdicts` answers `(v, v)`, and a valid signature verifies.
#![no_main]

use keybound::es256_plain_and_table_verdicts;
use libfuzzer_sys::fuzz_target;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};

fuzz_target!(|data: &[u8]| {
    if data.len() < 97 {
        return;
    }
    let (flags, secret, material, message) = (data[0], &data[1..33], &data[33..97], &data[97..]);
    if flags & 4 != 0 {
        // An arbitrary point: x from the key material, y from the message.
        let mut sec1 = vec![0x04];
        sec1.extend_from_slice(secret);
        sec1.extend(message.iter().take(32));
        if let Some((plain, table)) = es256_plain_and_table_verdicts(&sec1, message, material) {
            assert_eq!(plain, table);
        }
        return;
    }
    let Ok(signer) = SigningKey::from_slice(secret) else {
        return;
    };
    let sec1 = signer.verifying_key().to_sec1_point(false);
    let mut signature = material.to_vec();
    if flags & 1 != 0 {
        let valid: Signature = signer.sign(message);
        signature = valid.to_bytes().to_vec();
        if flags & 2 != 0 {
            for (byte, mask) in signature.iter_mut().zip(material) {
                *byte ^= mask;
            }
        }
    }
    if let Some((plain, table)) = es256_plain_and_table_verdicts(sec1.as_bytes(), message, &signature) {
        assert_eq!(plain, table, "the table path disagrees with p256");
        if flags & 3 == 1 {
            assert!(table, "a valid signature was refused");
        }
    }
});
