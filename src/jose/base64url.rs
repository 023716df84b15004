//! Strict base64url (RFC 4648 §5) without padding, as JWS requires (RFC 7515 §2).
//!
//! Padding, whitespace, characters outside the URL-safe alphabet and non-canonical trailing
//! bits are all refused (`base64ct` is strict and constant-time).

use base64ct::{Base64UrlUnpadded, Encoding};

use crate::error::JoseError;

/// Encodes `bytes` as unpadded base64url.
pub(crate) fn encode(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Decodes strict unpadded base64url.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, JoseError> {
    Base64UrlUnpadded::decode_vec(text).map_err(|_| JoseError::Base64)
}

/// Decodes strict unpadded base64url that must hold exactly `N` bytes.
pub(crate) fn decode_array<const N: usize>(text: &str) -> Result<[u8; N], JoseError> {
    // Check the length first so an oversized input is never decoded.
    if text.len() != Base64UrlUnpadded::encoded_len(&[0u8; N]) {
        return Err(JoseError::Base64);
    }
    let mut out = [0u8; N];
    let decoded = Base64UrlUnpadded::decode(text, &mut out).map_err(|_| JoseError::Base64)?;
    if decoded.len() != N {
        return Err(JoseError::Base64);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37) as u8).collect();
            let text = encode(&bytes);
            assert_eq!(decode(&text).unwrap(), bytes);
        }
    }

    #[test]
    fn refuses_padding_whitespace_and_foreign_alphabet() {
        assert!(decode("Zm9v").is_ok());
        assert_eq!(decode("Zm8="), Err(JoseError::Base64));
        assert_eq!(decode("Zm9v "), Err(JoseError::Base64));
        assert_eq!(decode(" Zm9v"), Err(JoseError::Base64));
        assert_eq!(decode("Zm\n9v"), Err(JoseError::Base64));
        assert_eq!(decode("+/+/"), Err(JoseError::Base64));
        assert_eq!(decode("Zm9v?"), Err(JoseError::Base64));
        // A single leftover character can never encode a byte.
        assert_eq!(decode("Zm9vY"), Err(JoseError::Base64));
    }

    #[test]
    fn refuses_non_canonical_trailing_bits() {
        // "AA" is the canonical encoding of [0]; "AB" sets unused low bits.
        assert_eq!(decode("AA").unwrap(), vec![0]);
        assert_eq!(decode("AB"), Err(JoseError::Base64));
        assert_eq!(decode("AAE").unwrap(), vec![0, 1]);
        assert_eq!(decode("AAF"), Err(JoseError::Base64));
    }

    #[test]
    fn fixed_length_decode() {
        let text = encode(&[7u8; 32]);
        assert_eq!(decode_array::<32>(&text).unwrap(), [7u8; 32]);
        assert_eq!(decode_array::<31>(&text), Err(JoseError::Base64));
        assert_eq!(
            decode_array::<32>(&encode(&[7u8; 31])),
            Err(JoseError::Base64)
        );
    }
}
