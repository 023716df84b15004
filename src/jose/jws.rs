//! Compact JWS (RFC 7515 §7.1) with the asymmetric algorithms of [`Algorithm`].

use serde_json::Value;

use crate::error::Error;
use crate::error::JoseError;
use crate::jose::algorithm::{Algorithm, AlgorithmSet};
use crate::jose::base64url;
use crate::jose::json::{self, Object};
use crate::jose::jws_signer::JwsSigner;
use crate::jose::public_key::PublicKey;
#[cfg(test)]
use crate::jose::signing_key::SigningKey;

/// A compact JWS whose header is strict JSON with a supported `alg` and no `crit`. The
/// signature is decoded but not yet verified.
pub(crate) struct Compact<'a> {
    signing_input: &'a str,
    payload_b64: &'a str,
    header: Object,
    alg: Algorithm,
    signature: Vec<u8>,
}

impl<'a> Compact<'a> {
    /// Splits and decodes `text`. `alg` is read here, before any cryptography runs: `none`,
    /// HS* and every name this crate does not implement are refused.
    pub(crate) fn parse(text: &'a str, max_depth: usize) -> Result<Self, JoseError> {
        let mut parts = text.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JoseError::SegmentCount);
        };
        let header = json::parse_object(&base64url::decode(header_b64)?, max_depth)?;
        let alg = match header.get("alg") {
            None => return Err(JoseError::MissingHeader("alg")),
            Some(Value::String(alg)) => {
                Algorithm::from_name(alg).ok_or(JoseError::UnsupportedAlgorithm)?
            }
            Some(_) => return Err(JoseError::InvalidHeader("alg")),
        };
        // RFC 7515 §4.1.11: a recipient that does not understand every extension listed in
        // `crit` must reject the JWS. This implementation understands none (and an empty list
        // is itself invalid), so any `crit` is refused. RFC 7797 `b64` only works with `crit`.
        if header.contains_key("crit") {
            return Err(JoseError::UnsupportedCritical);
        }
        if header.contains_key("b64") {
            return Err(JoseError::InvalidHeader("b64"));
        }
        let signature = base64url::decode(signature_b64)?;
        let signing_input = &text[..header_b64.len() + 1 + payload_b64.len()];
        Ok(Self {
            signing_input,
            payload_b64,
            header,
            alg,
            signature,
        })
    }

    pub(crate) fn header(&self) -> &Object {
        &self.header
    }

    /// The header's `alg`.
    pub(crate) fn algorithm(&self) -> Algorithm {
        self.alg
    }

    pub(crate) fn payload_b64(&self) -> &'a str {
        self.payload_b64
    }

    /// Verifies the signature over `header.payload` with `key`, after the alg/key rule: the
    /// header's `alg` must be in `allowed` and fit `key`.
    pub(crate) fn verify(&self, key: &PublicKey, allowed: AlgorithmSet) -> Result<(), JoseError> {
        key.verify(
            self.alg,
            allowed,
            self.signing_input.as_bytes(),
            &self.signature,
        )
    }
}

impl PublicKey {
    /// Verifies a compact JWS (RFC 7515 §7.1) signed by this key and returns its decoded
    /// payload. The header must be strict JSON naming an `alg` this key
    /// [`allows`](Self::allows), and no `crit`. The header is not otherwise interpreted: this
    /// is the general JWS primitive, not a DPoP proof or access-token check.
    pub fn verify_jws(&self, compact: &str) -> Result<Vec<u8>, JoseError> {
        let parsed = Compact::parse(compact, json::DEFAULT_MAX_DEPTH)?;
        parsed.verify(self, AlgorithmSet::all())?;
        base64url::decode(parsed.payload_b64())
    }
}

/// Whether a `typ` header value names the media type `application/<expected>`: media types are
/// case-insensitive and `typ` may omit the `application/` prefix (RFC 7515 §4.1.9).
pub(crate) fn typ_is(typ: &str, expected: &str) -> bool {
    let bare = match (typ.get(..12), typ.get(12..)) {
        (Some(prefix), Some(rest)) if prefix.eq_ignore_ascii_case("application/") => rest,
        _ => typ,
    };
    bare.eq_ignore_ascii_case(expected)
}

/// Signs a compact JWS from the base64url-encoded header (which names `key.algorithm()`) and
/// the payload JSON. A signer whose algorithm does not fit its key is refused, and so is a
/// signature of the wrong length.
pub(crate) fn sign<K: JwsSigner + ?Sized>(
    header_b64: &str,
    payload_json: &[u8],
    key: &K,
) -> Result<String, Error> {
    let public = key.public_key();
    if !public.allows(key.algorithm()) {
        // The signer's `algorithm()` does not fit its `public_key()` (RFC 8725 §3.1).
        return Err(Error::InvalidArgument("signer"));
    }
    let payload_b64 = base64url::encode(payload_json);
    let mut out = String::with_capacity(header_b64.len() + payload_b64.len() + 1400);
    out.push_str(header_b64);
    out.push('.');
    out.push_str(&payload_b64);
    let signature = key.try_sign(out.as_bytes())?;
    if signature.len() != public.key_type().signature_len() {
        return Err(Error::Signer);
    }
    out.push('.');
    out.push_str(&base64url::encode(&signature));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64url::encode(s.as_bytes())
    }

    fn signed(header: &str, key: &SigningKey) -> String {
        sign(&b64(header), b"{}", key).unwrap()
    }

    #[test]
    fn sign_then_verify() {
        let key = SigningKey::generate().unwrap();
        let jws = signed(r#"{"alg":"ES256"}"#, &key);
        let parsed = Compact::parse(&jws, 8).unwrap();
        let all = AlgorithmSet::all();
        assert_eq!(parsed.verify(key.public_key(), all), Ok(()));
        assert_eq!(key.public_key().verify_jws(&jws).unwrap(), b"{}");
        let other = SigningKey::generate().unwrap();
        assert_eq!(
            parsed.verify(other.public_key(), all),
            Err(JoseError::InvalidSignature)
        );
        // The policy set is applied before the signature.
        assert_eq!(
            parsed.verify(key.public_key(), AlgorithmSet::only(Algorithm::Ps256)),
            Err(JoseError::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn refuses_none_hmac_and_unknown_algs_before_crypto() {
        let key = SigningKey::generate().unwrap();
        for alg in [
            "none", "NONE", "HS256", "HS384", "HS512", "es256", "ES256 ", "Ed448", "ES256K",
            "RSA-OAEP", "dir", "",
        ] {
            let jws = signed(&format!(r#"{{"alg":"{alg}"}}"#), &key);
            assert_eq!(
                Compact::parse(&jws, 8).err(),
                Some(JoseError::UnsupportedAlgorithm),
                "{alg}"
            );
        }
        let jws = signed(r#"{"typ":"JWT"}"#, &key);
        assert_eq!(
            Compact::parse(&jws, 8).err(),
            Some(JoseError::MissingHeader("alg"))
        );
        let jws = signed(r#"{"alg":["ES256"]}"#, &key);
        assert_eq!(
            Compact::parse(&jws, 8).err(),
            Some(JoseError::InvalidHeader("alg"))
        );
        // `alg: none` with an empty signature never reaches the signature step.
        let none = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64("{}"));
        assert_eq!(
            Compact::parse(&none, 8).err(),
            Some(JoseError::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn refuses_crit_and_b64() {
        let key = SigningKey::generate().unwrap();
        for header in [
            r#"{"alg":"ES256","crit":["exp"],"exp":1}"#,
            r#"{"alg":"ES256","crit":[]}"#,
            r#"{"alg":"ES256","crit":["b64"],"b64":false}"#,
        ] {
            let jws = signed(header, &key);
            assert_eq!(
                Compact::parse(&jws, 8).err(),
                Some(JoseError::UnsupportedCritical)
            );
        }
        let jws = signed(r#"{"alg":"ES256","b64":false}"#, &key);
        assert_eq!(
            Compact::parse(&jws, 8).err(),
            Some(JoseError::InvalidHeader("b64"))
        );
    }

    #[test]
    fn refuses_wrong_segment_counts() {
        let key = SigningKey::generate().unwrap();
        let jws = signed(r#"{"alg":"ES256"}"#, &key);
        for text in [
            String::new(),
            "a".into(),
            "a.b".into(),
            format!("{jws}."),
            format!("{jws}.x"),
            format!("{jws}.{jws}"),
        ] {
            assert_eq!(
                Compact::parse(&text, 8).err(),
                Some(JoseError::SegmentCount)
            );
        }
    }

    #[test]
    fn refuses_der_and_short_signatures() {
        let key = SigningKey::generate().unwrap();
        let all = AlgorithmSet::all();
        let jws = signed(r#"{"alg":"ES256"}"#, &key);
        let (input, sig) = jws.rsplit_once('.').unwrap();
        let raw = base64url::decode(sig).unwrap();
        // A DER encoding of the same (r, s).
        let mut der = vec![0x30, 0x44, 0x02, 0x20];
        der.extend_from_slice(&raw[..32]);
        der.extend_from_slice(&[0x02, 0x20]);
        der.extend_from_slice(&raw[32..]);
        for bad in [
            &der[..],
            &raw[..63],
            &[raw.as_slice(), &[0]].concat()[..],
            &[][..],
        ] {
            let text = format!("{input}.{}", base64url::encode(bad));
            let parsed = Compact::parse(&text, 8).unwrap();
            assert_eq!(
                parsed.verify(key.public_key(), all),
                Err(JoseError::SignatureLength)
            );
        }
        let padded = format!("{input}.{sig}=");
        assert_eq!(Compact::parse(&padded, 8).err(), Some(JoseError::Base64));
    }

    #[test]
    fn the_key_fixes_the_algorithm() {
        // A header naming another algorithm than the key's is refused before the signature
        // is looked at, even when the signature bytes are well-formed for that algorithm.
        let key = SigningKey::generate().unwrap();
        let all = AlgorithmSet::all();
        for alg in ["ES384", "ES512", "RS256", "PS256", "Ed25519", "EdDSA"] {
            let jws = signed(&format!(r#"{{"alg":"{alg}"}}"#), &key);
            let parsed = Compact::parse(&jws, 8).unwrap();
            assert_eq!(
                parsed.verify(key.public_key(), all),
                Err(JoseError::AlgorithmKeyMismatch),
                "{alg}"
            );
        }
    }

    #[test]
    fn a_signer_whose_algorithm_does_not_fit_is_refused() {
        struct Liar(SigningKey);
        impl JwsSigner for Liar {
            fn algorithm(&self) -> Algorithm {
                Algorithm::Rs256
            }
            fn public_key(&self) -> &PublicKey {
                self.0.public_key()
            }
            fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
                self.0.sign(message)
            }
        }
        let liar = Liar(SigningKey::generate().unwrap());
        assert!(matches!(
            sign(&b64(r#"{"alg":"RS256"}"#), b"{}", &liar),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn refuses_duplicate_header_members() {
        let key = SigningKey::generate().unwrap();
        let jws = signed(r#"{"alg":"ES256","alg":"ES256"}"#, &key);
        assert_eq!(
            Compact::parse(&jws, 8).err(),
            Some(JoseError::DuplicateMember)
        );
    }
}
