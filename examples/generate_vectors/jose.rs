//! JOSE building blocks written out here, independently of the library under test: base64url,
//! RFC 7638 thumbprints, `ath`, hand-made JSON members, compact JWS assembly, DER, HMAC.
//!
//! Keys and signatures come from `keys.rs` (the RustCrypto crates); nothing here calls the
//! library under test.

use sha2::{Digest, Sha256};

use crate::json::quote;
use crate::keys::{Alg, AnyKey, Key};

const URL_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const STD_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn encode_with(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Unpadded base64url (RFC 4648 §5, RFC 7515 §2).
pub fn b64(bytes: &[u8]) -> String {
    encode_with(bytes, URL_ALPHABET)
}

/// Unpadded base64 with the standard alphabet (`+`, `/`): not valid in a JWS.
pub fn b64_std(bytes: &[u8]) -> String {
    encode_with(bytes, STD_ALPHABET)
}

/// The index of a base64url character.
pub fn b64_index(c: char) -> usize {
    URL_ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .expect("not a base64url character")
}

/// Bytes of unpadded base64url text made by this generator or copied from an RFC (constants
/// only: panics on anything else).
pub fn b64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut n) = (0u32, 0);
    for c in text.chars() {
        acc = (acc << 6) | u32::try_from(b64_index(c)).expect("6 bits");
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push(u8::try_from((acc >> n) & 0xff).expect("byte"));
        }
    }
    out
}

/// The base64url character with index `i`.
pub fn b64_char(i: usize) -> char {
    char::from(URL_ALPHABET[i])
}

/// Bytes from a hex string (constants only).
pub fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A 32-byte array from hex.
pub fn hex32(text: &str) -> [u8; 32] {
    hex(text).try_into().expect("32 bytes")
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// `ath` (RFC 9449 §4.2): base64url of the SHA-256 of the ASCII access token.
pub fn ath(access_token: &str) -> String {
    b64(&sha256(access_token.as_bytes()))
}

/// The RFC 7638 thumbprint of an EC P-256 key: SHA-256 over the required members in
/// lexicographic order without whitespace.
pub fn thumbprint(x: &[u8], y: &[u8]) -> String {
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        b64(x),
        b64(y)
    );
    b64(&sha256(canonical.as_bytes()))
}

/// The RFC 7638 thumbprint of an EC key on `crv` (RFC 7638 §3.2: `crv`, `kty`, `x`, `y`).
pub fn ec_thumbprint(crv: &str, x: &[u8], y: &[u8]) -> String {
    let canonical = format!(
        r#"{{"crv":{},"kty":"EC","x":"{}","y":"{}"}}"#,
        quote(crv),
        b64(x),
        b64(y)
    );
    b64(&sha256(canonical.as_bytes()))
}

/// The RFC 7638 thumbprint of an OKP key (RFC 8037 §2: `crv`, `kty`, `x`).
pub fn okp_thumbprint(crv: &str, x: &[u8]) -> String {
    let canonical = format!(r#"{{"crv":{},"kty":"OKP","x":"{}"}}"#, quote(crv), b64(x));
    b64(&sha256(canonical.as_bytes()))
}

/// The RFC 7638 thumbprint of an RSA key (RFC 7638 §3.2: `e`, `kty`, `n`), from the base64url
/// texts of `n` and `e`.
pub fn rsa_thumbprint(n_b64: &str, e_b64: &str) -> String {
    let canonical = format!(r#"{{"e":"{e_b64}","kty":"RSA","n":"{n_b64}"}}"#);
    b64(&sha256(canonical.as_bytes()))
}

/// HMAC-SHA-256 (RFC 2104), for the algorithm-confusion case.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&sha256(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner: [u8; 32] = inner.finalize().into();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// The EMSA-PKCS1-v1_5 encoding of `message` with SHA-256 for a `k`-octet modulus
/// (RFC 8017 §9.2): `0x00 ‖ 0x01 ‖ 0xFF… ‖ 0x00 ‖ DigestInfo(SHA-256(message))`. Under a
/// public exponent of 1 it is its own RS256 signature.
pub fn emsa_pkcs1_v15_sha256(message: &[u8], k: usize) -> Vec<u8> {
    /// The DER DigestInfo prefix for SHA-256 (RFC 8017 §9.2, note 1).
    const PREFIX: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    let mut em = vec![0x00, 0x01];
    em.resize(k - PREFIX.len() - 32 - 1, 0xff);
    em.push(0x00);
    em.extend(PREFIX);
    em.extend(sha256(message));
    assert_eq!(em.len(), k);
    em
}

/// The DER `ECDSA-Sig-Value` (RFC 3279 §2.2.3) of a 64-byte `r ‖ s` signature.
pub fn der(signature: &[u8; 64]) -> Vec<u8> {
    fn integer(bytes: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
        if v.is_empty() || v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, u8::try_from(v.len()).expect("short")];
        out.extend(v);
        out
    }
    let mut body = integer(&signature[..32]);
    body.extend(integer(&signature[32..]));
    let mut out = vec![0x30, u8::try_from(body.len()).expect("short")];
    out.extend(body);
    out
}

/// `a − b` for 256-bit big-endian numbers with `a ≥ b`.
pub fn sub256(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = 0;
        if d < 0 {
            d += 256;
            borrow = 1;
        }
        out[i] = u8::try_from(d).expect("byte");
    }
    assert_eq!(borrow, 0, "sub256 underflow");
    out
}

/// The P-256 field prime `p` (SEC 2 §2.4.2).
pub const P256_P: &str = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
/// The P-256 group order `n` (SEC 2 §2.4.2).
pub const P256_N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
/// The P-384 base point (SEC 2 §2.5.1): a valid point on the wrong curve.
pub const P384_GX: &str = "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7";
pub const P384_GY: &str = "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f";
/// Ed25519 public-key encodings (RFC 8032 §5.1.2: `y` little-endian, the sign of `x` in the
/// top bit) of small-order points: the identity `(0, 1)` and `(0, −1)` of order 2.
pub const ED25519_IDENTITY: &str =
    "0100000000000000000000000000000000000000000000000000000000000000";
pub const ED25519_ORDER_2: &str =
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";
/// `y = p + 1` with `p = 2^255 − 19`: a non-canonical encoding (of the identity) that
/// RFC 8032 §5.1.3 step 1 refuses (`y ≥ p`).
pub const ED25519_NON_CANONICAL_IDENTITY: &str =
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";
/// The Ed25519 group order `L = 2^252 + 27742317777372353535851937790883648493`
/// (RFC 8032 §5.1), little-endian as `S` is encoded.
pub const ED25519_L_LE: &str = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
/// The RSA public key of RFC 7638 §3.1 (from RFC 7517 Appendix A.1), `e` = AQAB; its
/// thumbprint is [`RFC7638_RSA_JKT`].
pub const RFC7638_RSA_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
/// The thumbprint of the RFC 7638 §3.1 example key, as RFC 7638 §3.1 gives it.
pub const RFC7638_RSA_JKT: &str = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
/// The Ed25519 public key of RFC 8037 Appendix A.2.
pub const RFC8037_ED25519_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
/// Its thumbprint, as RFC 8037 Appendix A.3 gives it.
pub const RFC8037_ED25519_JKT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

/// The members of a JSON object as raw JSON text (names as JSON string literals), in order,
/// duplicates allowed: proofs with any defect can be written exactly.
#[derive(Clone, Debug, Default)]
pub struct Members(Vec<(String, String)>);

impl Members {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to the raw JSON `value`, replacing the first member so named or appending.
    pub fn raw(mut self, name: &str, value: impl Into<String>) -> Self {
        let (name, value) = (quote(name), value.into());
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(member) => member.1 = value,
            None => self.0.push((name, value)),
        }
        self
    }

    /// Sets `name` to the JSON string `value`.
    pub fn str(self, name: &str, value: &str) -> Self {
        self.raw(name, quote(value))
    }

    /// Sets `name` to the JSON number `value`.
    pub fn num(self, name: &str, value: u64) -> Self {
        self.raw(name, value.to_string())
    }

    /// Appends `name` even if present (a duplicate member).
    pub fn push_raw(mut self, name: &str, value: impl Into<String>) -> Self {
        self.0.push((quote(name), value.into()));
        self
    }

    /// Appends a member whose name is written as the JSON string literal `literal` (for
    /// names spelled with escapes, such as `"\u0061lg"`).
    pub fn push_literal(mut self, literal: &str, value: impl Into<String>) -> Self {
        self.0.push((literal.to_owned(), value.into()));
        self
    }

    /// Removes every member named `name`.
    pub fn without(mut self, name: &str) -> Self {
        let name = quote(name);
        self.0.retain(|(n, _)| *n != name);
        self
    }

    /// The object text, without whitespace.
    pub fn text(&self) -> String {
        let members: Vec<String> = self.0.iter().map(|(n, v)| format!("{n}:{v}")).collect();
        format!("{{{}}}", members.join(","))
    }
}

/// The public JWK members `kty`, `crv`, `x`, `y` of a P-256 key.
pub fn ec_jwk(x: &[u8], y: &[u8]) -> Members {
    Members::new()
        .str("kty", "EC")
        .str("crv", "P-256")
        .str("x", &b64(x))
        .str("y", &b64(y))
}

/// The public JWK members of `key`.
pub fn jwk_of(key: &Key) -> Members {
    ec_jwk(key.x(), key.y())
}

/// The RFC 7638 thumbprint of `key`, computed here.
pub fn jkt_of(key: &Key) -> String {
    thumbprint(key.x(), key.y())
}

/// The public JWK members `kty`, `crv`, `x` of an OKP key (RFC 8037 §2).
pub fn okp_jwk(crv: &str, x: &[u8]) -> Members {
    Members::new()
        .str("kty", "OKP")
        .str("crv", crv)
        .str("x", &b64(x))
}

/// The public JWK members `kty`, `n`, `e` of an RSA key (RFC 7518 §6.3.1).
pub fn rsa_jwk(n: &[u8], e: &[u8]) -> Members {
    Members::new()
        .str("kty", "RSA")
        .str("n", &b64(n))
        .str("e", &b64(e))
}

/// The public JWK members of any key, in the order its RFC lists them.
pub fn public_jwk(key: AnyKey<'_>) -> Members {
    match key {
        AnyKey::P256(k) => jwk_of(k),
        AnyKey::Ec(k) => Members::new()
            .str("kty", "EC")
            .str("crv", k.crv())
            .str("x", &b64(k.x()))
            .str("y", &b64(k.y())),
        AnyKey::Ed25519(k) => okp_jwk("Ed25519", k.x()),
        AnyKey::Rsa(k) => rsa_jwk(k.n(), k.e()),
    }
}

/// The RFC 7638 thumbprint of any key, computed here.
pub fn jkt_any(key: AnyKey<'_>) -> String {
    match key {
        AnyKey::P256(k) => jkt_of(k),
        AnyKey::Ec(k) => ec_thumbprint(k.crv(), k.x(), k.y()),
        AnyKey::Ed25519(k) => okp_thumbprint("Ed25519", k.x()),
        AnyKey::Rsa(k) => rsa_thumbprint(&b64(k.n()), &b64(k.e())),
    }
}

/// `signing_input.signature`: `alg` by `key` over the exact bytes of `signing_input`.
pub fn sign_input_with(key: AnyKey<'_>, alg: Alg, signing_input: &str) -> String {
    format!(
        "{signing_input}.{}",
        b64(&key.sign(alg, signing_input.as_bytes()))
    )
}

/// A compact JWS of `header` and `payload` (JSON text) signed with `alg` by `key`.
pub fn compact_with(key: AnyKey<'_>, alg: Alg, header: &str, payload: &str) -> String {
    sign_input_with(
        key,
        alg,
        &format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes())),
    )
}

/// `signing_input.signature`: ES256 over the exact bytes of `signing_input`.
pub fn sign_input(key: &Key, signing_input: &str) -> String {
    format!(
        "{signing_input}.{}",
        b64(&key.sign_es256(signing_input.as_bytes()))
    )
}

/// A compact JWS of `header` and `payload` (JSON text) signed with ES256 by `key`.
pub fn compact(key: &Key, header: &str, payload: &str) -> String {
    sign_input(
        key,
        &format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes())),
    )
}

/// A compact JWS of raw `header` and `payload` bytes (which need not be UTF-8 or JSON).
pub fn compact_bytes(key: &Key, header: &[u8], payload: &[u8]) -> String {
    sign_input(key, &format!("{}.{}", b64(header), b64(payload)))
}

/// `segment` with its last character changed to set an unused low bit (non-canonical).
pub fn non_canonical(segment: &str) -> String {
    assert_ne!(segment.len() % 4, 0, "segment has no unused bits");
    let last = segment.chars().last().expect("non-empty");
    let changed = b64_char(b64_index(last) | 1);
    assert_ne!(changed, last);
    format!("{}{changed}", &segment[..segment.len() - 1])
}

/// A segment padded with `=` to a multiple of four characters.
pub fn padded(segment: &str) -> String {
    let pad = (4 - segment.len() % 4) % 4;
    assert!(pad > 0, "segment needs no padding");
    format!("{segment}{}", "=".repeat(pad))
}
