//! The JWE unit tests' access to `tests/data/` (third-party vectors copied into the
//! repository) and the encodings those files use.

use serde_json::Value;

use crate::jose::base64url;

/// The text of `tests/data/{path}`.
pub(crate) fn text(path: &str) -> String {
    let file = format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// `tests/data/{path}` as JSON.
pub(crate) fn data(path: &str) -> Value {
    serde_json::from_str(&text(path)).unwrap()
}

/// Hex digits (whitespace ignored) as bytes.
pub(crate) fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd hex length");
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(core::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

/// Strict base64url (no padding) as bytes.
pub(crate) fn b64(text: &str) -> Vec<u8> {
    base64url::decode(text).unwrap()
}
