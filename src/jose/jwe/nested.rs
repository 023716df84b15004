//! Nested JWTs (RFC 7519 §5.2, §11.2): a signed JWS encrypted to a recipient as a compact
//! JWE with `cty: "JWT"`, and back.

use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::error::JweError;
use crate::jose::jwe::compact::CompactJwe;
use crate::jose::jwe::content_encryption::ContentEncryption;
use crate::jose::jwe::decryption::{self, DecryptionKey};
use crate::jose::jwe::key_management::{KeyManagement, RecipientPublicKey};
use crate::jose::{base64url, jws};

/// Decrypts the nested JWT `text` (at most `max_len` bytes) with the key among `keys` that it
/// names (see [`decryption::decrypt`]) and returns the inner compact JWS, still to be
/// verified.
///
/// Before any decryption work, on top of the header policy (`compact.rs`): the header's `cty`
/// must say the content is a JWT, else [`JweError::Refused`]`("cty")` — see
/// [`names_a_jwt`]. After it: the plaintext must be a compact JWS (a JWE inside a JWE, or bare
/// JSON claims, are [`JweError::NotNested`]).
pub(crate) fn decrypt<'k>(
    text: &str,
    keys: impl IntoIterator<Item = &'k DecryptionKey, IntoIter: Clone>,
    max_len: usize,
) -> Result<Zeroizing<String>, JweError> {
    let jwe = CompactJwe::parse(text, max_len)?;
    if !jwe.header.cty.as_deref().is_some_and(names_a_jwt) {
        return Err(JweError::Refused("cty"));
    }
    inner_jws(decryption::decrypt(&jwe, keys)?)
}

/// Whether a `cty` names a JWT: `JWT`, as RFC 7519 §5.2 requires of nested JWTs, or `at+jwt`,
/// RFC 9068's access-token type, which node-oidc-provider puts in the `cty` of the encrypted
/// access tokens it issues. Media types compare case-insensitively and may omit
/// `application/` (RFC 7515 §4.1.10). Nothing else, and no missing `cty`, is a nested JWT.
fn names_a_jwt(cty: &str) -> bool {
    jws::typ_is(cty, "jwt") || jws::typ_is(cty, "at+jwt")
}

/// The plaintext as a compact JWS: UTF-8, three segments (a JWE inside a JWE has five; JSON
/// claims have none).
fn inner_jws(plaintext: Zeroizing<Vec<u8>>) -> Result<Zeroizing<String>, JweError> {
    let text = core::str::from_utf8(&plaintext).map_err(|_| JweError::NotNested)?;
    let segments = text.split('.').count();
    let charset_ok = text
        .bytes()
        .all(|b| b == b'.' || b == b'-' || b == b'_' || b.is_ascii_alphanumeric());
    if segments != 3 || !charset_ok {
        return Err(JweError::NotNested);
    }
    Ok(Zeroizing::new(text.to_owned()))
}

/// Encrypts the compact JWS `inner` to `recipient` with `alg` and `enc`, naming the recipient
/// key `kid` when given: a compact JWE with `cty: "JWT"`.
pub(crate) fn encrypt(
    inner: &str,
    recipient: &RecipientPublicKey,
    kid: Option<&str>,
    alg: KeyManagement,
    enc: ContentEncryption,
) -> Result<String, JweError> {
    let wrapped = alg.wrap(recipient, enc.as_str(), enc.key_len(), &[], &[])?;
    let mut header = json!({ "alg": alg.as_str(), "enc": enc.as_str(), "cty": "JWT" });
    if let Some(kid) = kid {
        header["kid"] = Value::from(kid);
    }
    if let Some(epk) = wrapped.epk {
        header["epk"] = epk;
    }
    let protected = base64url::encode(header.to_string().as_bytes());
    let mut iv = vec![0u8; enc.iv_len()];
    getrandom::fill(&mut iv).map_err(|_| JweError::DecryptionFailed)?;
    let sealed = enc.seal(&wrapped.cek, &iv, protected.as_bytes(), inner.as_bytes())?;
    Ok(format!(
        "{protected}.{}.{}.{}.{}",
        base64url::encode(&wrapped.encrypted_key),
        base64url::encode(&iv),
        base64url::encode(&sealed.ciphertext),
        base64url::encode(&sealed.tag),
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use p256::elliptic_curve::Generate;

    use super::*;
    use crate::jose::jwe::key_management::RecipientPrivateKey;

    /// A signed-looking compact JWS (the layer never verifies it: the token verifier does).
    const INNER: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

    fn rsa_key() -> &'static rsa::PrivateKey {
        static KEY: OnceLock<rsa::PrivateKey> = OnceLock::new();
        KEY.get_or_init(|| rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap())
    }

    /// One key pair per supported curve or type, for `alg`.
    fn pairs(alg: KeyManagement) -> Vec<(RecipientPrivateKey, RecipientPublicKey)> {
        if alg == KeyManagement::RsaOaep256 {
            let key = rsa_key().clone();
            let public = key.to_public_key();
            return vec![(
                RecipientPrivateKey::Rsa(Box::new(key)),
                RecipientPublicKey::Rsa(Box::new(public)),
            )];
        }
        let p256 = p256::SecretKey::try_generate_from_rng(&mut getrandom::SysRng).unwrap();
        let p384 = p384::SecretKey::try_generate_from_rng(&mut getrandom::SysRng).unwrap();
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).unwrap();
        let x25519 = x25519_dalek::StaticSecret::from(seed);
        vec![
            (
                RecipientPrivateKey::P256(p256.clone()),
                RecipientPublicKey::P256(p256.public_key()),
            ),
            (
                RecipientPrivateKey::P384(p384.clone()),
                RecipientPublicKey::P384(p384.public_key()),
            ),
            (
                RecipientPrivateKey::X25519(x25519.clone()),
                RecipientPublicKey::X25519(x25519_dalek::PublicKey::from(&x25519)),
            ),
        ]
    }

    const ALGS: [KeyManagement; 4] = [
        KeyManagement::EcdhEs,
        KeyManagement::EcdhEsA128Kw,
        KeyManagement::EcdhEsA256Kw,
        KeyManagement::RsaOaep256,
    ];
    const ENCS: [ContentEncryption; 4] = [
        ContentEncryption::A128Gcm,
        ContentEncryption::A256Gcm,
        ContentEncryption::A128CbcHs256,
        ContentEncryption::A256CbcHs512,
    ];

    fn only(alg: KeyManagement, key: RecipientPrivateKey) -> Vec<DecryptionKey> {
        vec![DecryptionKey {
            kid: Some("k1".into()),
            alg,
            key,
        }]
    }

    #[test]
    fn every_algorithm_and_curve_round_trips() {
        for alg in ALGS {
            for (private, public) in pairs(alg) {
                let keys = only(alg, private);
                for enc in ENCS {
                    let jwe = encrypt(INNER, &public, Some("k1"), alg, enc).unwrap();
                    assert_eq!(jwe.split('.').count(), 5);
                    let inner = decrypt(&jwe, &keys, crate::jose::jwe::compact::MAX_JWE_LEN)
                        .unwrap_or_else(|e| panic!("{alg:?} {enc:?}: {e}"));
                    assert_eq!(inner.as_str(), INNER);
                }
            }
        }
    }

    fn decrypt_default(jwe: &str, keys: &[DecryptionKey]) -> Result<Zeroizing<String>, JweError> {
        decrypt(jwe, keys, crate::jose::jwe::compact::MAX_JWE_LEN)
    }

    #[test]
    fn tampering_anywhere_is_one_opaque_failure() {
        for alg in [
            KeyManagement::EcdhEsA128Kw,
            KeyManagement::RsaOaep256,
            KeyManagement::EcdhEs,
        ] {
            let (private, public) = pairs(alg).remove(0);
            let keys = only(alg, private);
            for enc in [ContentEncryption::A256Gcm, ContentEncryption::A128CbcHs256] {
                let jwe = encrypt(INNER, &public, Some("k1"), alg, enc).unwrap();
                let parts: Vec<&str> = jwe.split('.').collect();
                // Every segment but the header (whose changes the policy may catch first),
                // with one byte flipped after decoding.
                for index in 1..5 {
                    let mut bytes = base64url::decode(parts[index]).unwrap();
                    if bytes.is_empty() {
                        continue; // direct ECDH-ES has no encrypted key
                    }
                    bytes[0] ^= 1;
                    let mut changed: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
                    changed[index] = base64url::encode(&bytes);
                    assert_eq!(
                        decrypt_default(&changed.join("."), &keys).err(),
                        Some(JweError::DecryptionFailed),
                        "{alg:?} {enc:?} segment {index}"
                    );
                }
                // The header is authenticated: a re-encoded header with an extra member fails.
                let mut header: Value =
                    serde_json::from_slice(&base64url::decode(parts[0]).unwrap()).unwrap();
                header["x"] = Value::from(1);
                let mut changed: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
                changed[0] = base64url::encode(header.to_string().as_bytes());
                assert_eq!(
                    decrypt_default(&changed.join("."), &keys).err(),
                    Some(JweError::DecryptionFailed)
                );
            }
        }
    }

    #[test]
    fn keys_are_chosen_by_kid_and_fixed_to_their_alg() {
        let (private, public) = pairs(KeyManagement::EcdhEsA256Kw).remove(0);
        let jwe = |kid| {
            encrypt(
                INNER,
                &public,
                kid,
                KeyManagement::EcdhEsA256Kw,
                ContentEncryption::A256Gcm,
            )
            .unwrap()
        };
        let keys = only(KeyManagement::EcdhEsA256Kw, private);
        assert!(decrypt_default(&jwe(Some("k1")), &keys).is_ok());
        // A single key also opens a token without `kid`.
        assert!(decrypt_default(&jwe(None), &keys).is_ok());
        assert_eq!(
            decrypt_default(&jwe(Some("k2")), &keys).err(),
            Some(JweError::NoKey)
        );
        assert_eq!(
            decrypt_default(&jwe(Some("k1")), &[]).err(),
            Some(JweError::NoKey)
        );
        // The key is meant for ECDH-ES+A256KW: a token asking for another alg does not get it.
        let (private, public) = pairs(KeyManagement::EcdhEs).remove(0);
        let keys = only(KeyManagement::EcdhEsA128Kw, private);
        let other = encrypt(
            INNER,
            &public,
            Some("k1"),
            KeyManagement::EcdhEs,
            ContentEncryption::A256Gcm,
        )
        .unwrap();
        assert_eq!(decrypt_default(&other, &keys).err(), Some(JweError::NoKey));
        // Two keys and no kid: ambiguous, refused rather than tried one by one.
        let (a, public_a) = pairs(KeyManagement::EcdhEs).remove(0);
        let (b, _) = pairs(KeyManagement::EcdhEs).remove(0);
        let keys = vec![
            DecryptionKey {
                kid: Some("a".into()),
                alg: KeyManagement::EcdhEs,
                key: a,
            },
            DecryptionKey {
                kid: Some("b".into()),
                alg: KeyManagement::EcdhEs,
                key: b,
            },
        ];
        let no_kid = encrypt(
            INNER,
            &public_a,
            None,
            KeyManagement::EcdhEs,
            ContentEncryption::A128Gcm,
        )
        .unwrap();
        assert_eq!(decrypt_default(&no_kid, &keys).err(), Some(JweError::NoKey));
        let named = encrypt(
            INNER,
            &public_a,
            Some("a"),
            KeyManagement::EcdhEs,
            ContentEncryption::A128Gcm,
        )
        .unwrap();
        assert!(decrypt_default(&named, &keys).is_ok());
    }

    #[test]
    fn only_a_signed_jws_may_be_inside() {
        let (private, public) = pairs(KeyManagement::EcdhEs).remove(0);
        let keys = only(KeyManagement::EcdhEs, private);
        let seal = |inner: &str| {
            encrypt(
                inner,
                &public,
                Some("k1"),
                KeyManagement::EcdhEs,
                ContentEncryption::A256Gcm,
            )
            .unwrap()
        };
        let inside = seal(INNER);
        for plaintext in [
            inside.as_str(),      // a JWE inside a JWE
            r#"{"sub":"alice"}"#, // bare claims
            "a.b",                // not three segments
            "a.b.c d",            // not base64url
        ] {
            assert_eq!(
                decrypt_default(&seal(plaintext), &keys).err(),
                Some(JweError::NotNested),
                "{plaintext}"
            );
        }
    }

    #[test]
    fn only_nested_jwts_are_decrypted() {
        let (private, public) = pairs(KeyManagement::EcdhEs).remove(0);
        let keys = only(KeyManagement::EcdhEs, private);
        let jwe = encrypt(
            INNER,
            &public,
            Some("k1"),
            KeyManagement::EcdhEs,
            ContentEncryption::A256Gcm,
        )
        .unwrap();
        let parts: Vec<&str> = jwe.split('.').collect();
        let header: Value = serde_json::from_slice(&base64url::decode(parts[0]).unwrap()).unwrap();
        // `cty` is compared case-insensitively (RFC 7515 §4.1.10)...
        let with_cty = |cty: Option<&str>| {
            let mut header = header.clone();
            match cty {
                Some(cty) => header["cty"] = Value::from(cty),
                None => {
                    header.as_object_mut().unwrap().remove("cty");
                }
            }
            let mut changed: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
            changed[0] = base64url::encode(header.to_string().as_bytes());
            changed.join(".")
        };
        // ... and refused before any decryption: a lower-case `jwt` passes the policy and then
        // fails only on the (re-encoded, so changed) AAD.
        assert_eq!(
            decrypt_default(&with_cty(Some("jwt")), &keys).err(),
            Some(JweError::DecryptionFailed)
        );
        // `at+jwt` (node-oidc-provider's encrypted access tokens) names a JWT too.
        for cty in ["application/JWT", "at+jwt", "application/at+JWT"] {
            assert_eq!(
                decrypt_default(&with_cty(Some(cty)), &keys).err(),
                Some(JweError::DecryptionFailed),
                "{cty}"
            );
        }
        for cty in [
            None,
            Some("json"),
            Some("JWS"),
            Some("jwt+json"),
            Some("text/jwt"),
            Some(""),
        ] {
            assert_eq!(
                decrypt_default(&with_cty(cty), &keys).err(),
                Some(JweError::Refused("cty")),
                "{cty:?}"
            );
        }
        assert!(decrypt_default(&jwe, &keys).is_ok());
    }

    /// RFC 7520 §6: a PS256-signed JWT encrypted with the legacy `RSA-OAEP` and `A128GCM`.
    /// Refused without a key enabled for `RSA-OAEP`; with one, the inner JWS is the
    /// example's, and it verifies with the example's signing key.
    #[test]
    fn rfc7520_section_6_nested_jwt() {
        use crate::jose::jwe::test_data::data;
        let example = data("jose-cookbook/6.nesting_signatures_and_encryption.json");
        let compact = example["encrypt"]["output"]["compact"].as_str().unwrap();
        assert_eq!(
            decrypt_default(compact, &[]).err(),
            Some(JweError::Refused("RSA-OAEP"))
        );
        let jwk = example["encrypt"]["input"]["key"].to_string();
        let key = crate::DecryptionKey::legacy_rsa_oaep_from_jwk(&jwk).unwrap();
        let inner = decrypt_default(compact, &[key.into_nested()]).unwrap();
        assert_eq!(
            inner.as_str(),
            example["encrypt"]["input"]["plaintext"].as_str().unwrap()
        );
        let mut signer = example["sign"]["input"]["key"].clone();
        for private in crate::jose::jwk::PRIVATE_MEMBERS {
            signer.as_object_mut().unwrap().remove(private);
        }
        let signer = crate::PublicKey::from_jwk(&signer.to_string()).unwrap();
        let payload = signer.verify_jws(&inner).unwrap();
        assert_eq!(
            payload,
            example["sign"]["input"]["payload"]
                .as_str()
                .unwrap()
                .as_bytes()
        );
    }
}
