//! The compact JWE serialization (RFC 7516 §7.1) and the header policy: what is refused from
//! the text alone is refused here, before any key is touched or any decryption runs. Two rules
//! need more than the text and live where that is known, still before any decryption: the
//! nested-JWT `cty` (`nested.rs`) and the legacy `RSA-OAEP`, accepted only with a key enabled
//! for it (`decryption.rs`).

use serde_json::Value;

use crate::error::JweError;
use crate::jose::base64url;
use crate::jose::json::{self, Object};
use crate::jose::jwe::content_encryption::ContentEncryption;
use crate::jose::jwe::key_management::KeyManagement;

/// The longest compact JWE `decrypt_nested_jwt` accepts: 16 KiB, the default access-token
/// limit (`TokenOptions::max_token_len`; the guard passes its own).
pub(crate) const MAX_JWE_LEN: usize = 16 * 1024;

/// The longest protected header, encoded: 4 KiB (an `epk`, a `kid` and a few names fit in
/// well under 1 KiB).
const MAX_HEADER_LEN: usize = 4 * 1024;

/// The longest encrypted key, decoded: 1 024 bytes (RSA-8192's OAEP output).
const MAX_ENCRYPTED_KEY_LEN: usize = 1024;

/// The longest IV and tag, decoded: 16 and 32 bytes are the largest any supported `enc` uses.
const MAX_IV_LEN: usize = 16;
const MAX_TAG_LEN: usize = 32;

/// The longest `apu` / `apv`, decoded: 256 bytes (RFC 7518 §4.6.1.2/3 leave them unbounded;
/// they feed the KDF, and nothing legitimate needs more).
pub(crate) const MAX_PARTY_INFO_LEN: usize = 256;

/// JSON nesting allowed in the protected header: `epk` is one object deep.
const MAX_HEADER_DEPTH: usize = 4;

/// The header members this crate reads; any other member is ignored, except those refused
/// explicitly (`zip`, `crit`).
#[derive(Debug)]
pub(crate) struct JweHeader {
    pub(crate) alg: KeyManagement,
    pub(crate) enc: ContentEncryption,
    pub(crate) kid: Option<String>,
    /// `cty`, as sent (`nested.rs` requires `JWT`).
    pub(crate) cty: Option<String>,
    pub(crate) epk: Option<Value>,
    pub(crate) apu: Vec<u8>,
    pub(crate) apv: Vec<u8>,
}

/// A compact JWE split, decoded and checked against the policy; nothing decrypted yet.
#[derive(Debug)]
pub(crate) struct CompactJwe<'a> {
    /// The encoded protected header: its ASCII is the AAD (RFC 7516 §5.2 step 14).
    pub(crate) protected: &'a str,
    pub(crate) header: JweHeader,
    pub(crate) encrypted_key: Vec<u8>,
    pub(crate) iv: Vec<u8>,
    pub(crate) ciphertext: Vec<u8>,
    pub(crate) tag: Vec<u8>,
}

/// Whether `text` has the shape of a compact JWE (five segments) rather than a JWS (three).
pub(crate) fn looks_like_jwe(text: &str) -> bool {
    text.bytes().filter(|b| *b == b'.').count() == 4
}

impl<'a> CompactJwe<'a> {
    /// Splits, bounds, decodes and checks `text` (at most `max_len` bytes).
    ///
    /// Refused with [`JweError::Refused`], before any decryption: `RSA1_5`, `dir`, `A*KW`,
    /// `A*GCMKW`, `PBES2-*` and unknown `alg`; unknown `enc`; `zip`; any `crit`; a `cty` that
    /// is not a string; an ECDH-ES `alg` without an `epk` object, or an `epk` with RSA-OAEP;
    /// `apu`/`apv` over 256 bytes or not base64url.
    /// The JSON serialization (text starting with `{`) is refused as `Refused("serialization")`.
    pub(crate) fn parse(text: &'a str, max_len: usize) -> Result<Self, JweError> {
        if text.len() > max_len {
            return Err(JweError::TooLarge);
        }
        if text.trim_start().starts_with('{') {
            return Err(JweError::Refused("serialization"));
        }
        let mut parts = text.split('.');
        let (Some(protected), Some(key), Some(iv), Some(ciphertext), Some(tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(JweError::Malformed);
        };
        // Bounds on the encoded lengths first: nothing over them is decoded.
        let encoded_max = |decoded: usize| decoded.div_ceil(3) * 4;
        if protected.len() > MAX_HEADER_LEN
            || key.len() > encoded_max(MAX_ENCRYPTED_KEY_LEN)
            || iv.len() > encoded_max(MAX_IV_LEN)
            || tag.len() > encoded_max(MAX_TAG_LEN)
        {
            return Err(JweError::TooLarge);
        }
        let decode = |segment: &str| base64url::decode(segment).map_err(|_| JweError::Malformed);
        let header_bytes = decode(protected)?;
        let object =
            json::parse_object(&header_bytes, MAX_HEADER_DEPTH).map_err(|_| JweError::Malformed)?;
        let header = read_header(&object)?;
        Ok(Self {
            protected,
            header,
            encrypted_key: decode(key)?,
            iv: decode(iv)?,
            ciphertext: decode(ciphertext)?,
            tag: decode(tag)?,
        })
    }
}

/// The policy on the protected header (RFC 7516 §4.1, RFC 7518 §4.1, §5.1; RFC 8725 §3.1–3.2).
fn read_header(object: &Object) -> Result<JweHeader, JweError> {
    let text = |name: &'static str| match object.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.as_str())),
        Some(_) => Err(JweError::Refused(name)),
    };
    let alg_name = text("alg")?.ok_or(JweError::Refused("alg"))?;
    let alg = KeyManagement::from_name(alg_name).ok_or_else(|| refused_alg(alg_name))?;
    let enc_name = text("enc")?.ok_or(JweError::Refused("enc"))?;
    let enc = ContentEncryption::from_name(enc_name).ok_or(JweError::Refused("enc"))?;
    // Compression before encryption leaks plaintext through lengths (CRIME-style) and costs an
    // unbounded inflate: refused, whatever its value.
    if object.contains_key("zip") {
        return Err(JweError::Refused("zip"));
    }
    // RFC 7516 §4.1.13: no extension is understood, so any `crit` is refused.
    if object.contains_key("crit") {
        return Err(JweError::Refused("crit"));
    }
    let cty = text("cty")?.map(str::to_owned);
    let kid = text("kid")?.map(str::to_owned);
    let epk = object.get("epk").cloned();
    match (alg.is_rsa(), &epk) {
        (true, Some(_)) => return Err(JweError::Refused("epk")),
        (true, None) | (false, Some(Value::Object(_))) => {}
        (false, _) => return Err(JweError::Refused("epk")),
    }
    let party_info = |name: &'static str| -> Result<Vec<u8>, JweError> {
        match text(name)? {
            None => Ok(Vec::new()),
            Some(encoded) if encoded.len() > MAX_PARTY_INFO_LEN.div_ceil(3) * 4 => {
                Err(JweError::Refused(name))
            }
            Some(encoded) => base64url::decode(encoded)
                .ok()
                .filter(|bytes| bytes.len() <= MAX_PARTY_INFO_LEN)
                .ok_or(JweError::Refused(name)),
        }
    };
    Ok(JweHeader {
        alg,
        enc,
        kid,
        cty,
        epk,
        apu: party_info("apu")?,
        apv: party_info("apv")?,
    })
}

/// What an unsupported `alg` is refused as: its family when it is a known-bad one.
fn refused_alg(name: &str) -> JweError {
    JweError::Refused(match name {
        "RSA1_5" => "RSA1_5",
        "dir" => "dir",
        "A128KW" | "A192KW" | "A256KW" => "A*KW",
        "A128GCMKW" | "A192GCMKW" | "A256GCMKW" => "A*GCMKW",
        _ if name.starts_with("PBES2-") => "PBES2",
        _ => "alg",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(json: &str) -> String {
        base64url::encode(json.as_bytes())
    }

    /// A JWE whose protected header is `json` and whose other segments are small placeholders.
    fn jwe(json: &str) -> String {
        format!(
            "{}.AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA",
            header(json)
        )
    }

    const EPK: &str = r#""epk":{"kty":"EC","crv":"P-256","x":"x","y":"y"}"#;

    fn parse(json: &str) -> Result<JweHeader, JweError> {
        CompactJwe::parse(&jwe(json), MAX_JWE_LEN).map(|jwe| jwe.header)
    }

    #[test]
    fn supported_headers_parse() {
        let parsed = parse(&format!(
            r#"{{"alg":"ECDH-ES+A256KW","enc":"A256GCM","cty":"JWT","kid":"k1",{EPK},"apu":"QWxpY2U","apv":"Qm9i"}}"#
        ))
        .unwrap();
        assert_eq!(parsed.alg, KeyManagement::EcdhEsA256Kw);
        assert_eq!(parsed.enc, ContentEncryption::A256Gcm);
        assert_eq!(parsed.kid.as_deref(), Some("k1"));
        assert_eq!(
            (parsed.apu.as_slice(), parsed.apv.as_slice()),
            (&b"Alice"[..], &b"Bob"[..])
        );
        let rsa = parse(r#"{"alg":"RSA-OAEP-256","enc":"A128CBC-HS256","cty":"jwt"}"#).unwrap();
        assert_eq!(rsa.alg, KeyManagement::RsaOaep256);
        assert!(rsa.epk.is_none());
        // The legacy SHA-1 RSA-OAEP parses; only a key enabled for it opens it (`decryption.rs`).
        let legacy = parse(r#"{"alg":"RSA-OAEP","enc":"A256GCM","cty":"JWT"}"#).unwrap();
        assert_eq!(legacy.alg, KeyManagement::RsaOaep);
        assert_eq!(
            parse(&format!(r#"{{"alg":"RSA-OAEP","enc":"A256GCM",{EPK}}}"#)).err(),
            Some(JweError::Refused("epk"))
        );
    }

    #[test]
    fn refused_algorithms_are_named() {
        for (alg, family) in [
            ("RSA1_5", "RSA1_5"),
            ("dir", "dir"),
            ("A128KW", "A*KW"),
            ("A256KW", "A*KW"),
            ("A128GCMKW", "A*GCMKW"),
            ("PBES2-HS256+A128KW", "PBES2"),
            ("PBES2-HS512+A256KW", "PBES2"),
            ("ECDH-ES+A192KW", "alg"),
            ("none", "alg"),
            ("ecdh-es", "alg"),
        ] {
            assert_eq!(
                parse(&format!(
                    r#"{{"alg":"{alg}","enc":"A256GCM","cty":"JWT",{EPK}}}"#
                ))
                .err(),
                Some(JweError::Refused(family)),
                "{alg}"
            );
        }
        for enc in ["A192GCM", "A192CBC-HS384", "a256gcm", ""] {
            assert_eq!(
                parse(&format!(
                    r#"{{"alg":"ECDH-ES","enc":"{enc}","cty":"JWT",{EPK}}}"#
                ))
                .err(),
                Some(JweError::Refused("enc")),
                "{enc}"
            );
        }
    }

    #[test]
    fn zip_crit_and_cty_are_policed() {
        let base = format!(r#""alg":"ECDH-ES","enc":"A256GCM",{EPK}"#);
        assert_eq!(
            parse(&format!(r#"{{{base},"cty":"JWT","zip":"DEF"}}"#)).err(),
            Some(JweError::Refused("zip"))
        );
        assert_eq!(
            parse(&format!(r#"{{{base},"cty":"JWT","crit":["exp"],"exp":1}}"#)).err(),
            Some(JweError::Refused("crit"))
        );
        assert_eq!(
            parse(&format!(r#"{{"cty":1,{base}}}"#)).err(),
            Some(JweError::Refused("cty"))
        );
        // The value itself is the nested-JWT rule's (`nested.rs`): read as sent.
        let json = parse(&format!(r#"{{"cty":"json",{base}}}"#)).unwrap();
        assert_eq!(json.cty.as_deref(), Some("json"));
        assert_eq!(parse(&format!("{{{base}}}")).unwrap().cty, None);
    }

    #[test]
    fn epk_and_party_info_are_policed() {
        assert_eq!(
            parse(r#"{"alg":"ECDH-ES","enc":"A256GCM","cty":"JWT"}"#).err(),
            Some(JweError::Refused("epk"))
        );
        assert_eq!(
            parse(r#"{"alg":"ECDH-ES","enc":"A256GCM","cty":"JWT","epk":"x"}"#).err(),
            Some(JweError::Refused("epk"))
        );
        assert_eq!(
            parse(&format!(
                r#"{{"alg":"RSA-OAEP-256","enc":"A256GCM","cty":"JWT",{EPK}}}"#
            ))
            .err(),
            Some(JweError::Refused("epk"))
        );
        let long = base64url::encode(&[7u8; MAX_PARTY_INFO_LEN + 1]);
        let fits = base64url::encode(&[7u8; MAX_PARTY_INFO_LEN]);
        for (name, value, expected) in [
            ("apu", long.as_str(), Err(JweError::Refused("apu"))),
            ("apv", long.as_str(), Err(JweError::Refused("apv"))),
            ("apu", "not base64url!", Err(JweError::Refused("apu"))),
            ("apv", fits.as_str(), Ok(())),
        ] {
            let json = format!(
                r#"{{"alg":"ECDH-ES","enc":"A256GCM","cty":"JWT",{EPK},"{name}":"{value}"}}"#
            );
            assert_eq!(parse(&json).map(|_| ()), expected, "{name}");
        }
    }

    #[test]
    fn shape_and_size_are_checked_before_decoding() {
        let ok = jwe(&format!(
            r#"{{"alg":"ECDH-ES","enc":"A256GCM","cty":"JWT",{EPK}}}"#
        ));
        assert!(CompactJwe::parse(&ok, MAX_JWE_LEN).is_ok());
        assert!(looks_like_jwe(&ok));
        assert!(!looks_like_jwe("a.b.c"));
        assert_eq!(
            CompactJwe::parse(&ok, ok.len() - 1).err(),
            Some(JweError::TooLarge)
        );
        assert_eq!(
            CompactJwe::parse("a.b.c", MAX_JWE_LEN).err(),
            Some(JweError::Malformed)
        );
        assert_eq!(
            CompactJwe::parse(&format!("{ok}.AAAA"), MAX_JWE_LEN).err(),
            Some(JweError::Malformed)
        );
        assert_eq!(
            CompactJwe::parse(r#"{"protected":"x","ciphertext":"y"}"#, MAX_JWE_LEN).err(),
            Some(JweError::Refused("serialization"))
        );
        // An oversized segment is refused by its encoded length.
        let mut parts: Vec<String> = ok.split('.').map(str::to_owned).collect();
        parts[1] = "A".repeat(2000);
        assert_eq!(
            CompactJwe::parse(&parts.join("."), MAX_JWE_LEN).err(),
            Some(JweError::TooLarge)
        );
        parts[1] = "AAAA".into();
        parts[4] = "A".repeat(64);
        assert_eq!(
            CompactJwe::parse(&parts.join("."), MAX_JWE_LEN).err(),
            Some(JweError::TooLarge)
        );
        // Strict base64url and a JSON object header.
        parts[4] = "AAAA=".into();
        assert_eq!(
            CompactJwe::parse(&parts.join("."), MAX_JWE_LEN).err(),
            Some(JweError::Malformed)
        );
        assert_eq!(
            CompactJwe::parse(&jwe("[1]"), MAX_JWE_LEN).err(),
            Some(JweError::Malformed)
        );
        // Duplicate members are refused by the strict JSON parser.
        assert_eq!(
            CompactJwe::parse(
                &jwe(r#"{"alg":"ECDH-ES","alg":"RSA-OAEP-256","enc":"A256GCM","cty":"JWT"}"#),
                MAX_JWE_LEN
            )
            .err(),
            Some(JweError::Malformed)
        );
    }
}
