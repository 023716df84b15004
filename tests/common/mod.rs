//! Helpers shared by the integration tests: hand-made proofs with arbitrary headers and claims.

#![allow(dead_code)]

use keybound::{SigningKey, TokenHash, UnixTime};

/// Unpadded base64url, written out here so the tests do not trust the crate's own encoder.
pub fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Signs `header.payload` with `key` (ES256) and returns the compact JWS.
pub fn sign_raw(key: &SigningKey, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let signature = key.sign_es256(input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

/// The public JWK members of `key` without braces, for splicing into headers.
pub fn jwk_of(key: &SigningKey) -> String {
    key.public_key().to_jwk()
}

/// A standard DPoP header for `key`.
pub fn header_for(key: &SigningKey) -> String {
    format!(
        r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#,
        jwk_of(key)
    )
}

pub const URL: &str = "https://api.example.com/orders";
pub const TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln";
pub const NOW: u64 = 1_700_000_000;

pub fn now() -> UnixTime {
    UnixTime::from_secs(NOW)
}

pub fn ath(token: &str) -> String {
    TokenHash::of(token).to_base64url()
}

/// Claims for a GET of [`URL`] with [`TOKEN`] at [`NOW`], with `jti`.
pub fn claims(jti: &str) -> String {
    format!(
        r#"{{"jti":"{jti}","htm":"GET","htu":"{URL}","iat":{NOW},"ath":"{}"}}"#,
        ath(TOKEN)
    )
}
