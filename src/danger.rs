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
}
