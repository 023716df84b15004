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
    let signature = key.sign(input.as_bytes()).unwrap();
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

/// One parsed challenge of a `WWW-Authenticate` value.
#[derive(Debug, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A small strict parser for `WWW-Authenticate` (RFC 9110 §11.6.1): challenges separated by
/// commas, auth-params as `name="quoted"` or `name=token`. Panics on anything malformed, so a
/// test fails loudly if the crate emits an invalid header.
pub fn parse_challenges(value: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let bytes = value.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < bytes.len() && (bytes[*i] == b' ' || bytes[*i] == b'\t') {
            *i += 1;
        }
    };
    let token = |i: &mut usize| -> String {
        let start = *i;
        while *i < bytes.len()
            && (bytes[*i].is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&bytes[*i]))
        {
            *i += 1;
        }
        value[start..*i].to_owned()
    };
    while i < bytes.len() {
        skip_ws(&mut i);
        let name = token(&mut i);
        assert!(!name.is_empty(), "empty token in {value:?} at {i}");
        skip_ws(&mut i);
        if i < bytes.len() && bytes[i] == b'=' {
            // An auth-param of the current challenge.
            i += 1;
            skip_ws(&mut i);
            let v = if i < bytes.len() && bytes[i] == b'"' {
                i += 1;
                let start = i;
                while i < bytes.len() && bytes[i] != b'"' {
                    assert!(bytes[i] != b'\\', "escapes not expected in {value:?}");
                    i += 1;
                }
                assert!(i < bytes.len(), "unterminated quoted string in {value:?}");
                let v = value[start..i].to_owned();
                i += 1;
                v
            } else {
                token(&mut i)
            };
            let current = out.last_mut().expect("auth-param before any scheme");
            assert!(
                current.param(&name).is_none(),
                "duplicate parameter {name} in {value:?}"
            );
            current.params.push((name, v));
        } else {
            out.push(Challenge {
                scheme: name,
                params: Vec::new(),
            });
            // A scheme is followed by its first parameter, or a comma, or the end.
            skip_ws(&mut i);
            if i < bytes.len() && bytes[i] == b',' {
                i += 1;
            }
            continue;
        }
        skip_ws(&mut i);
        if i < bytes.len() {
            assert_eq!(bytes[i], b',', "expected a comma in {value:?} at {i}");
            i += 1;
        }
    }
    out
}
