//! JSON Web Keys (RFC 7517) for EC (RFC 7518 §6.2), OKP Ed25519 (RFC 8037 §2) and RSA
//! (RFC 7518 §6.3), read strictly.
//!
//! This file reads and writes the members; what the numbers mean (points on curves, RSA
//! moduli) is checked by the backend when the key is built.

use serde_json::Value;

use crate::error::KeyError;
use crate::jose::algorithm::Algorithm;
use crate::jose::base64url;
use crate::jose::json::{Object, SecretMembers};
use crate::jose::key_fixes_algorithm;
use crate::jose::key_type::{EcCurve, KeyType};
use crate::jose::weak_rsa_key;

/// JWK members that hold private key material for any key type (RFC 7518 §6.2.2, §6.3.2,
/// §6.4.1). None may appear where a public key belongs (RFC 9449 §4.3 step 7). Callers that
/// read a JWK the caller gave them set these aside unparsed
/// (`json::parse_object_with_secrets`).
pub(crate) const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Smallest RSA modulus any key may have, in bits (NIST SP 800-131A; RFC 7518 §3.3 asks for
/// at least 2048).
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// Largest RSA modulus any key may have, in bits. Verification cost grows with the square of
/// the size; callers narrow it further (proofs and, by default, tokens: 4096).
pub(crate) const MAX_RSA_BITS: usize = 8192;

/// Largest RSA public exponent accepted: 2^32 (RFC 8017 allows more, but every real key uses
/// 65537 and huge exponents make verification slow).
const MAX_RSA_EXPONENT: u64 = 1 << 32;

/// What the key will be used for, to check `key_ops` (RFC 7517 §4.3).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRole {
    Verify,
    Sign,
}

/// The public numbers of a key, validated for syntax and size (not yet for arithmetic).
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum PublicParts {
    /// An EC point: `x` and `y` each exactly the curve's coordinate length.
    Ec {
        curve: EcCurve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    /// An Ed25519 public key, 32 bytes.
    Ed25519 { x: [u8; 32] },
    /// An RSA modulus and exponent, big-endian without leading zero octets.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl PublicParts {
    /// The key's type and size.
    pub(crate) fn key_type(&self) -> KeyType {
        match self {
            Self::Ec { curve, .. } => KeyType::Ec(*curve),
            Self::Ed25519 { .. } => KeyType::Ed25519,
            Self::Rsa { n, .. } => KeyType::Rsa {
                modulus_bits: bit_length(n),
            },
        }
    }

    /// The public JWK with exactly the required members, in the order RFC 7518 lists them.
    pub(crate) fn to_json(&self) -> String {
        match self {
            Self::Ec { curve, x, y } => format!(
                r#"{{"kty":"EC","crv":"{}","x":"{}","y":"{}"}}"#,
                curve.as_str(),
                base64url::encode(x),
                base64url::encode(y)
            ),
            Self::Ed25519 { x } => format!(
                r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
                base64url::encode(x)
            ),
            Self::Rsa { n, e } => format!(
                r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#,
                base64url::encode(n),
                base64url::encode(e)
            ),
        }
    }

    /// The parts of an uncompressed SEC1 point `0x04 ‖ x ‖ y` on `curve`. A point of another
    /// length gives coordinates of the wrong length, which building the key refuses.
    pub(crate) fn from_sec1(curve: EcCurve, sec1: &[u8]) -> Self {
        let coordinates = sec1.get(1..).unwrap_or_default();
        let (x, y) = coordinates.split_at(curve.coordinate_len().min(coordinates.len()));
        Self::Ec {
            curve,
            x: x.to_vec(),
            y: y.to_vec(),
        }
    }

    /// Checks RSA sizes: modulus within [`MIN_RSA_BITS`, `MAX_RSA_BITS`], exponent odd and
    /// within [3, 2^32], no ROCA fingerprint (CVE-2017-15361).
    pub(crate) fn check_rsa_limits(n: &[u8], e: &[u8]) -> Result<(), KeyError> {
        let bits = bit_length(n);
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(KeyError::RsaModulusSize { bits });
        }
        if e.len() > 8 {
            return Err(KeyError::InvalidRsaExponent);
        }
        let exponent = e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        if !(3..=MAX_RSA_EXPONENT).contains(&exponent) || exponent % 2 == 0 {
            return Err(KeyError::InvalidRsaExponent);
        }
        if weak_rsa_key::has_roca_fingerprint(n) {
            return Err(KeyError::WeakRsaKey);
        }
        Ok(())
    }
}

/// A JWK read strictly: its public numbers and its own `alg` (if any).
pub(crate) struct ReadJwk {
    pub(crate) public: PublicParts,
    pub(crate) alg: Option<Algorithm>,
}

/// The private members' base64url text, still encoded, borrowed from the caller's JWK text
/// (never copied: see `json::parse_object_with_secrets`).
pub(crate) struct PrivateMembers<'a> {
    pub(crate) d: &'a str,
    /// RSA only: `p`, `q`, `dp`, `dq`, `qi`.
    pub(crate) rsa_crt: Option<[&'a str; 5]>,
}

/// Reads a JWK's public members. With `role == Verify` any private member is refused; with
/// `role == Sign` the private members are read separately ([`read_private`]) from the
/// members `json::parse_object_with_secrets` set aside.
///
/// Refused (each a typed [`KeyError`]): `kty` other than `EC`, `OKP`, `RSA` (so `oct` and
/// every symmetric key); curves other than P-256/P-384/P-521 and Ed25519 (so X25519, Ed448);
/// `alg` naming anything but a supported signature algorithm that fits the key; `use` other
/// than `sig`; `key_ops` without the operation; members of the wrong JSON type; coordinates of
/// the wrong length; RSA integers with leading zero octets or far too long to be a key (the
/// RSA size and exponent limits are [`PublicParts::check_rsa_limits`], applied when the key
/// is built).
pub(crate) fn read(jwk: &Object, role: KeyRole) -> Result<ReadJwk, KeyError> {
    if role == KeyRole::Verify && PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err(KeyError::PrivateKey);
    }
    let public = match required_str(jwk, "kty")? {
        "EC" => read_ec(jwk)?,
        "OKP" => read_okp(jwk)?,
        "RSA" => read_rsa(jwk)?,
        _ => return Err(KeyError::UnsupportedKeyType),
    };
    let alg = match optional_str(jwk, "alg")? {
        None => None,
        Some(name) => {
            let alg = Algorithm::from_name(name).ok_or(KeyError::WrongAlgorithm)?;
            key_fixes_algorithm::check_jwk_alg(public.key_type(), alg)?;
            Some(alg)
        }
    };
    if optional_str(jwk, "use")?.is_some_and(|u| u != "sig") {
        return Err(KeyError::WrongUse);
    }
    if let Some(ops) = jwk.get("key_ops") {
        let wanted = match role {
            KeyRole::Verify => "verify",
            KeyRole::Sign => "sign",
        };
        let ops = ops.as_array().ok_or(KeyError::InvalidMember("key_ops"))?;
        let mut allowed = false;
        for op in ops {
            let op = op.as_str().ok_or(KeyError::InvalidMember("key_ops"))?;
            allowed |= op == wanted;
        }
        if !allowed {
            return Err(KeyError::WrongUse);
        }
    }
    Ok(ReadJwk { public, alg })
}

/// The `kid` member: `None` when absent, an error when present but not a non-empty string.
pub(crate) fn kid(jwk: &Object) -> Result<Option<&str>, KeyError> {
    match optional_str(jwk, "kid")? {
        Some("") => Err(KeyError::InvalidMember("kid")),
        other => Ok(other),
    }
}

pub(crate) fn read_ec(jwk: &Object) -> Result<PublicParts, KeyError> {
    let curve = EcCurve::from_name(required_str(jwk, "crv")?).ok_or(KeyError::UnsupportedCurve)?;
    let len = curve.coordinate_len();
    Ok(PublicParts::Ec {
        curve,
        x: fixed_len(jwk, "x", len)?,
        y: fixed_len(jwk, "y", len)?,
    })
}

fn read_okp(jwk: &Object) -> Result<PublicParts, KeyError> {
    if required_str(jwk, "crv")? != "Ed25519" {
        return Err(KeyError::UnsupportedCurve);
    }
    let x = base64url::decode_array::<32>(required_str(jwk, "x")?)
        .map_err(|_| KeyError::InvalidCoordinate)?;
    Ok(PublicParts::Ed25519 { x })
}

pub(crate) fn read_rsa(jwk: &Object) -> Result<PublicParts, KeyError> {
    let n_text = required_str(jwk, "n")?;
    // Refuse an oversized modulus before decoding it.
    if n_text.len() > MAX_RSA_BITS.div_ceil(6) + 1 {
        return Err(KeyError::RsaModulusSize {
            bits: n_text.len().saturating_mul(6),
        });
    }
    let n = unsigned(n_text, "n")?;
    let e_text = required_str(jwk, "e")?;
    if e_text.len() > 12 {
        return Err(KeyError::InvalidRsaExponent);
    }
    let e = unsigned(e_text, "e")?;
    // Sizes, exponent and ROCA are checked where every key is built, whatever its source
    // (`PublicKey::from_parts`).
    Ok(PublicParts::Rsa { n, e })
}

/// The private members of a key with public numbers `public`, from the members
/// `json::parse_object_with_secrets` set aside (parsed with [`PRIVATE_MEMBERS`]).
///
/// Each must be a JSON string written without escapes: base64url never needs one, and an
/// escaped secret would have to be copied to be unescaped.
pub(crate) fn read_private<'a>(
    public: &PublicParts,
    secrets: &SecretMembers<'a>,
) -> Result<PrivateMembers<'a>, KeyError> {
    read_private_members(secrets, matches!(public, PublicParts::Rsa { .. }))
}

/// [`read_private`] for any key type: `d` always, and for an RSA key (`rsa`) its CRT members.
pub(crate) fn read_private_members<'a>(
    secrets: &SecretMembers<'a>,
    rsa: bool,
) -> Result<PrivateMembers<'a>, KeyError> {
    let required = |name: &'static str| -> Result<&'a str, KeyError> {
        let (_, raw) = secrets
            .iter()
            .find(|(member, _)| *member == name)
            .ok_or(KeyError::MissingMember(name))?;
        let text = raw
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .ok_or(KeyError::InvalidMember(name))?;
        if text.contains('\\') {
            return Err(KeyError::InvalidPrivateKey);
        }
        Ok(text)
    };
    let d = required("d")?;
    let rsa_crt = if rsa {
        // Multi-prime keys (RFC 7518 §6.3.2.7) are not supported.
        if secrets.iter().any(|(member, _)| *member == "oth") {
            return Err(KeyError::InvalidPrivateKey);
        }
        Some([
            required("p")?,
            required("q")?,
            required("dp")?,
            required("dq")?,
            required("qi")?,
        ])
    } else {
        None
    };
    Ok(PrivateMembers { d, rsa_crt })
}

/// A base64url member that must decode to exactly `len` bytes.
fn fixed_len(jwk: &Object, name: &'static str, len: usize) -> Result<Vec<u8>, KeyError> {
    let text = required_str(jwk, name)?;
    if text.len() != (len * 4).div_ceil(3) {
        return Err(KeyError::InvalidCoordinate);
    }
    let bytes = base64url::decode(text).map_err(|_| KeyError::InvalidCoordinate)?;
    if bytes.len() != len {
        return Err(KeyError::InvalidCoordinate);
    }
    Ok(bytes)
}

/// A base64url unsigned integer (RFC 7518 §2 `Base64urlUInt`): at least one octet, no
/// leading zero octets (so that each key has exactly one JWK form and one thumbprint).
fn unsigned(text: &str, name: &'static str) -> Result<Vec<u8>, KeyError> {
    let bytes = base64url::decode(text).map_err(|_| KeyError::InvalidMember(name))?;
    match bytes.first() {
        None | Some(0) => Err(KeyError::InvalidMember(name)),
        Some(_) => Ok(bytes),
    }
}

/// Bit length of a big-endian unsigned integer without leading zero octets.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.first() {
        None => 0,
        Some(first) => bytes.len() * 8 - first.leading_zeros() as usize,
    }
}

pub(crate) fn required_str<'a>(jwk: &'a Object, name: &'static str) -> Result<&'a str, KeyError> {
    optional_str(jwk, name)?.ok_or(KeyError::MissingMember(name))
}

pub(crate) fn optional_str<'a>(
    jwk: &'a Object,
    name: &'static str,
) -> Result<Option<&'a str>, KeyError> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(KeyError::InvalidMember(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::json;

    /// What a public JWK gives once the limits every key gets are applied.
    fn read_public(text: &str) -> Result<PublicParts, KeyError> {
        let object = json::parse_object(text.as_bytes(), 8).unwrap();
        let public = read(&object, KeyRole::Verify)?.public;
        if let PublicParts::Rsa { n, e } = &public {
            PublicParts::check_rsa_limits(n, e)?;
        }
        Ok(public)
    }

    fn rsa_jwk(n: &[u8], e: &[u8]) -> String {
        format!(
            r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#,
            base64url::encode(n),
            base64url::encode(e)
        )
    }

    fn modulus(bits: usize) -> Vec<u8> {
        let mut n = vec![0xa5u8; bits.div_ceil(8)];
        n[0] = 0xff >> ((8 - bits % 8) % 8);
        n[0] |= 0x80 >> ((8 - bits % 8) % 8);
        *n.last_mut().unwrap() |= 1;
        n
    }

    #[test]
    fn rsa_modulus_bounds() {
        assert_eq!(bit_length(&modulus(2048)), 2048);
        assert_eq!(bit_length(&modulus(2047)), 2047);
        assert!(read_public(&rsa_jwk(&modulus(2048), &[1, 0, 1])).is_ok());
        assert!(read_public(&rsa_jwk(&modulus(8192), &[1, 0, 1])).is_ok());
        assert_eq!(
            read_public(&rsa_jwk(&modulus(2047), &[1, 0, 1])).err(),
            Some(KeyError::RsaModulusSize { bits: 2047 })
        );
        assert_eq!(
            read_public(&rsa_jwk(&modulus(1024), &[1, 0, 1])).err(),
            Some(KeyError::RsaModulusSize { bits: 1024 })
        );
        assert!(matches!(
            read_public(&rsa_jwk(&modulus(8200), &[1, 0, 1])),
            Err(KeyError::RsaModulusSize { .. })
        ));
    }

    #[test]
    fn oversized_moduli_are_refused_before_decoding() {
        // 8192 bits take 1366 base64url characters; one more character may still be a modulus
        // a little over 8192 bits (decoded, then refused with its real size), two more are
        // refused unread, with the size the text implies.
        let decoded = |chars: usize| {
            let mut n = vec![0x5au8; chars * 6 / 8];
            n[0] = 0xff;
            let jwk = rsa_jwk(&n, &[1, 0, 1]);
            let object = json::parse_object(jwk.as_bytes(), 8).unwrap();
            (n.len(), read(&object, KeyRole::Verify).err())
        };
        let (bytes, error) = decoded(1367);
        assert_eq!(bytes, 1025);
        assert_eq!(error, None);
        assert_eq!(
            read_public(&rsa_jwk(&vec![0xffu8; 1025], &[1, 0, 1])).err(),
            Some(KeyError::RsaModulusSize { bits: 8200 })
        );
        let (_, error) = decoded(1368);
        assert_eq!(error, Some(KeyError::RsaModulusSize { bits: 1368 * 6 }));
    }

    #[test]
    fn rsa_exponent_rules() {
        let n = modulus(2048);
        for good in [&[3u8][..], &[1, 0, 1], &[0xff, 0xff, 0xff, 0xff]] {
            assert!(read_public(&rsa_jwk(&n, good)).is_ok(), "{good:?}");
        }
        for bad in [
            &[1u8][..],
            &[2],
            &[1, 0, 0],
            &[1, 0, 0, 0, 0],
            &[1, 0, 0, 0, 1],
            &[1, 0, 0, 0, 0, 0, 0, 0, 1],
            // Nine bytes whose low eight spell 65537: must not wrap around to it.
            &[1, 0, 0, 0, 0, 0, 1, 0, 1],
        ] {
            assert_eq!(
                read_public(&rsa_jwk(&n, bad)).err(),
                Some(KeyError::InvalidRsaExponent),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn rsa_integers_are_strict() {
        let n = modulus(2048);
        let mut padded = vec![0];
        padded.extend_from_slice(&n);
        assert_eq!(
            read_public(&rsa_jwk(&padded, &[1, 0, 1])).err(),
            Some(KeyError::InvalidMember("n"))
        );
        assert_eq!(
            read_public(&rsa_jwk(&n, &[0, 1, 0, 1])).err(),
            Some(KeyError::InvalidMember("e"))
        );
        let text = rsa_jwk(&n, &[1, 0, 1]).replace("AQAB", "AQAB=");
        assert_eq!(read_public(&text).err(), Some(KeyError::InvalidMember("e")));
        assert_eq!(
            read_public(r#"{"kty":"RSA","n":"","e":"AQAB"}"#).err(),
            Some(KeyError::InvalidMember("n"))
        );
    }

    #[test]
    fn key_types_and_curves() {
        for (jwk, error) in [
            (r#"{"kty":"oct","k":"c2VjcmV0"}"#, KeyError::PrivateKey),
            (r#"{"kty":"oct"}"#, KeyError::UnsupportedKeyType),
            (r#"{"kty":"ec"}"#, KeyError::UnsupportedKeyType),
            (
                r#"{"kty":"EC","crv":"secp256k1","x":"","y":""}"#,
                KeyError::UnsupportedCurve,
            ),
            (
                r#"{"kty":"OKP","crv":"X25519","x":""}"#,
                KeyError::UnsupportedCurve,
            ),
            (
                r#"{"kty":"OKP","crv":"Ed448","x":""}"#,
                KeyError::UnsupportedCurve,
            ),
            (
                r#"{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#,
                KeyError::InvalidCoordinate,
            ),
        ] {
            assert_eq!(read_public(jwk).err(), Some(error), "{jwk}");
        }
    }

    #[test]
    fn jwk_alg_must_be_a_fitting_signature_algorithm() {
        let x = base64url::encode(&[9u8; 32]);
        let okp = |alg: &str| format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}","alg":"{alg}"}}"#);
        assert!(read_public(&okp("Ed25519")).is_ok());
        assert!(read_public(&okp("EdDSA")).is_ok());
        for bad in ["ES256", "RS256", "HS256", "none", "ECDH-ES", "ed25519"] {
            assert_eq!(
                read_public(&okp(bad)).err(),
                Some(KeyError::WrongAlgorithm),
                "{bad}"
            );
        }
        let enc = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}","use":"enc"}}"#);
        assert_eq!(read_public(&enc).err(), Some(KeyError::WrongUse));
        let ops = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}","key_ops":["sign"]}}"#);
        assert_eq!(read_public(&ops).err(), Some(KeyError::WrongUse));
        for allowed in [
            r#"["verify"]"#,
            r#"["sign","verify"]"#,
            r#"["verify","sign"]"#,
        ] {
            let ops = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}","key_ops":{allowed}}}"#);
            assert!(read_public(&ops).is_ok(), "{allowed}");
        }
    }

    #[test]
    fn public_json_round_trips() {
        let parts = PublicParts::Rsa {
            n: modulus(2048),
            e: vec![1, 0, 1],
        };
        assert!(read_public(&parts.to_json()).unwrap() == parts);
        let parts = PublicParts::Ed25519 { x: [7; 32] };
        assert!(read_public(&parts.to_json()).unwrap() == parts);
        let parts = PublicParts::Ec {
            curve: EcCurve::P521,
            x: vec![1; 66],
            y: vec![2; 66],
        };
        assert!(read_public(&parts.to_json()).unwrap() == parts);
    }
}
