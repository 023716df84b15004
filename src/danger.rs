//! **Danger: nothing in this module verifies anything.** Escape hatches for tools that must
//! look inside tokens they cannot or need not verify (debugging, the `keybound inspect`
//! command). Never make an authorization decision on what these functions return.

use serde_json::{Map, Value};

use crate::error::JoseError;
use crate::jose::{base64url, json};

/// Largest token [`decode_unverified`] accepts.
const MAX_LEN: usize = 64 * 1024;

/// The header and claims of a compact JWS/JWT, decoded and **not verified**.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct UnverifiedJwt {
    /// The JOSE header, as sent (any `alg`, even `none`).
    pub header: Map<String, Value>,
    /// The payload as a JSON object, as sent.
    pub claims: Map<String, Value>,
}

/// Decodes a compact JWT without checking its signature, algorithm or any claim.
///
/// The text must still be three strict base64url segments holding strict JSON objects (no
/// duplicate member names) — decoding is strict even where verification is skipped.
pub fn decode_unverified(token: &str) -> Result<UnverifiedJwt, JoseError> {
    if token.len() > MAX_LEN {
        return Err(JoseError::Json);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::SegmentCount);
    };
    base64url::decode(signature)?;
    Ok(UnverifiedJwt {
        header: json::parse_object(&base64url::decode(header)?, json::DEFAULT_MAX_DEPTH)?,
        claims: json::parse_object(&base64url::decode(payload)?, json::DEFAULT_MAX_DEPTH)?,
    })
}

/// Decodes the protected header of a compact JWE (five segments) without decrypting or
/// checking anything — not even whether its algorithms are supported. The header is read as
/// strictly as everywhere else (strict base64url, a JSON object without duplicate members,
/// bounded nesting); the other four segments must be base64url, each possibly empty.
///
/// To look at the content too, [`decrypt_nested_jwt`](crate::decrypt_nested_jwt) (which
/// decrypts, but verifies nothing inside).
pub fn decode_jwe_header_unverified(token: &str) -> Result<Map<String, Value>, JoseError> {
    if token.len() > MAX_LEN {
        return Err(JoseError::Json);
    }
    let segments: Vec<&str> = token.split('.').collect();
    let [header, rest @ ..] = segments.as_slice() else {
        return Err(JoseError::SegmentCount);
    };
    if rest.len() != 4 {
        return Err(JoseError::SegmentCount);
    }
    for segment in rest {
        base64url::decode(segment)?;
    }
    json::parse_object(&base64url::decode(header)?, json::DEFAULT_MAX_DEPTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_any_alg_strictly() {
        let none = format!(
            "{}.{}.",
            base64url::encode(br#"{"alg":"none"}"#),
            base64url::encode(br#"{"sub":"x"}"#)
        );
        let jwt = decode_unverified(&none).unwrap();
        assert_eq!(jwt.header["alg"], "none");
        assert_eq!(jwt.claims["sub"], "x");
        assert_eq!(decode_unverified("a.b"), Err(JoseError::SegmentCount));
        assert_eq!(decode_unverified("a=.b.c"), Err(JoseError::Base64));
        let dup = format!(
            "{}.{}.",
            base64url::encode(br#"{"alg":"none","alg":"x"}"#),
            base64url::encode(b"{}")
        );
        assert_eq!(decode_unverified(&dup), Err(JoseError::DuplicateMember));
    }

    #[test]
    fn decodes_a_jwe_header_strictly() {
        let header = base64url::encode(br#"{"alg":"RSA1_5","enc":"A128GCM"}"#);
        let jwe = format!("{header}..AAAA.AAAA.AAAA");
        let decoded = decode_jwe_header_unverified(&jwe).unwrap();
        assert_eq!(decoded["alg"], "RSA1_5");
        assert_eq!(
            decode_jwe_header_unverified(&format!("{header}.a.b.c")),
            Err(JoseError::SegmentCount)
        );
        assert_eq!(
            decode_jwe_header_unverified(&format!("{header}.a=.b.c.d")),
            Err(JoseError::Base64)
        );
        let dup = base64url::encode(br#"{"alg":"x","alg":"y"}"#);
        assert_eq!(
            decode_jwe_header_unverified(&format!("{dup}....")),
            Err(JoseError::DuplicateMember)
        );
        assert_eq!(
            decode_jwe_header_unverified(&"a".repeat(MAX_LEN + 1)),
            Err(JoseError::Json)
        );
    }
}
