//! Strict base64url (RFC 4648 §5) without padding, as JWS requires (RFC 7515 §2).
//!
//! Padding, whitespace, characters outside the URL-safe alphabet and non-canonical trailing
//! bits are all refused. Public data (headers, payloads, signatures, public keys) is decoded
//! with the `base64` crate, configured that strictly; private key members are decoded with
//! `base64ct`, which runs in constant time ([`decode_secret`]). Both refuse exactly the same
//! texts (`tests` below compare them on arbitrary input).

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use base64ct::{Base64UrlUnpadded, Encoding};
use zeroize::Zeroizing;

use crate::error::JoseError;

/// Unpadded base64url that refuses padding and non-canonical trailing bits.
const STRICT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Encodes `bytes` as unpadded base64url (constant time, so secrets may pass through).
pub(crate) fn encode(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Decodes strict unpadded base64url of public data.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, JoseError> {
    STRICT.decode(text).map_err(|_| JoseError::Base64)
}

/// Decodes strict unpadded base64url of public data that must hold exactly `N` bytes.
pub(crate) fn decode_array<const N: usize>(text: &str) -> Result<[u8; N], JoseError> {
    // Check the length first so an oversized input is never decoded.
    if text.len() != (N * 4).div_ceil(3) {
        return Err(JoseError::Base64);
    }
    decode(text)?.try_into().map_err(|_| JoseError::Base64)
}

/// Encodes secret `bytes` as unpadded base64url in constant time, into memory that is
/// zeroized on drop (allocated once, at its final size).
pub(crate) fn encode_secret(bytes: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(Base64UrlUnpadded::encode_string(bytes))
}

/// Decodes strict unpadded base64url of secret data in constant time, into memory that is
/// zeroized on drop — also when decoding fails half-way (`base64ct`'s own `decode_vec` would
/// free a partly decoded buffer as it is).
pub(crate) fn decode_secret(text: &str) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    let mut out = Zeroizing::new(vec![0u8; text.len() / 4 * 3 + 3]);
    let len = Base64UrlUnpadded::decode(text, &mut out)
        .map_err(|_| JoseError::Base64)?
        .len();
    // Shrinking in place: no reallocation, nothing left behind.
    out.truncate(len);
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

    /// The fast decoder for public data and the constant-time one for secrets accept and refuse
    /// exactly the same texts, with the same bytes.
    #[test]
    fn both_decoders_agree() {
        let alphabet = b"AQgw_-9zZa+/= \n.";
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 12) as usize;
            let text: String = (0..len)
                .map(|_| char::from(alphabet[(next() % alphabet.len() as u64) as usize]))
                .collect();
            let fast = decode(&text).ok();
            let constant_time = decode_secret(&text).ok().map(|v| v.to_vec());
            assert_eq!(fast, constant_time, "{text:?}");
        }
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 53 + 11) as u8).collect();
            let text = encode(&bytes);
            assert_eq!(decode(&text).unwrap(), bytes);
            assert_eq!(*decode_secret(&text).unwrap(), bytes);
        }
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
