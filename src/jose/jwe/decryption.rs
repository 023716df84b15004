//! Decrypting a compact JWE (RFC 7516 §5.2) that passed the header policy: the key it names,
//! the content encryption key recovered with it, the content opened — with one opaque failure
//! for every cryptographic problem.

use zeroize::Zeroizing;

use crate::error::JweError;
use crate::jose::jwe::compact::CompactJwe;
use crate::jose::jwe::key_management::{random_key, KeyManagement, RecipientPrivateKey};

/// One decryption key: its `alg` (a key is used for one algorithm only, RFC 8725 §3.1), its
/// `kid`, and the private key.
pub(crate) struct DecryptionKey {
    pub(crate) kid: Option<String>,
    pub(crate) alg: KeyManagement,
    pub(crate) key: RecipientPrivateKey,
}

/// The plaintext of `jwe`, decrypted with the key among `keys` that it names (`kid`; without
/// one, the only key, if there is exactly one) and that is meant for its `alg`.
///
/// [`JweError::Refused`]`("RSA-OAEP")` when the token uses the legacy SHA-1 `RSA-OAEP` and no
/// key is enabled for it; [`JweError::NoKey`] when no key fits; every other failure is
/// [`JweError::DecryptionFailed`]. A failure to recover the content key does not stop the
/// work: a random key takes its place and the content decryption runs and fails as it would
/// for a wrong key (RFC 7516 §11.5), so neither the error nor the time tells a bad wrapped key
/// from a bad ciphertext.
pub(crate) fn decrypt<'k>(
    jwe: &CompactJwe<'_>,
    keys: impl IntoIterator<Item = &'k DecryptionKey, IntoIter: Clone>,
) -> Result<Zeroizing<Vec<u8>>, JweError> {
    let header = &jwe.header;
    let key = select(keys, header.kid.as_deref(), header.alg)?;
    let enc = header.enc;
    let recovered = header.alg.unwrap(
        &key.key,
        enc.as_str(),
        enc.key_len(),
        header.epk.as_ref(),
        &header.apu,
        &header.apv,
        &jwe.encrypted_key,
    );
    let (cek, unwrapped) = match recovered {
        Ok(cek) if cek.len() == enc.key_len() => (cek, true),
        Err(JweError::NoKey) => return Err(JweError::NoKey),
        _ => (random_key(enc.key_len())?, false),
    };
    let opened = enc.open(
        &cek,
        &jwe.iv,
        jwe.protected.as_bytes(),
        &jwe.ciphertext,
        &jwe.tag,
    );
    match opened {
        Ok(plaintext) if unwrapped => Ok(plaintext),
        _ => Err(JweError::DecryptionFailed),
    }
}

/// The key for `kid` and `alg`. The legacy `RSA-OAEP` is refused outright unless some key is
/// meant for it: only a key made for it explicitly can be.
fn select<'k>(
    keys: impl IntoIterator<Item = &'k DecryptionKey, IntoIter: Clone>,
    kid: Option<&str>,
    alg: KeyManagement,
) -> Result<&'k DecryptionKey, JweError> {
    let mut keys = keys.into_iter();
    if alg == KeyManagement::RsaOaep && !keys.clone().any(|k| k.alg == alg) {
        return Err(JweError::Refused("RSA-OAEP"));
    }
    let key = match kid {
        Some(kid) => keys.find(|k| k.kid.as_deref() == Some(kid)),
        None if keys.clone().count() == 1 => keys.next(),
        None => None,
    };
    key.filter(|k| k.alg == alg).ok_or(JweError::NoKey)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::jose::jwe::compact::MAX_JWE_LEN;
    use crate::jose::jwe::test_data::{data, hex};

    /// `text` parsed and decrypted with `keys` (no nested-JWT rule: any plaintext).
    fn open(text: &str, keys: &[DecryptionKey]) -> Result<Vec<u8>, JweError> {
        let jwe = CompactJwe::parse(text, MAX_JWE_LEN)?;
        decrypt(&jwe, keys).map(|plaintext| plaintext.to_vec())
    }

    /// The private JWK `jwk` as a decryption key, the legacy RSA-OAEP included.
    fn key(jwk: &Value) -> DecryptionKey {
        let text = jwk.to_string();
        let key = match jwk["alg"].as_str() {
            Some("RSA-OAEP") => crate::DecryptionKey::legacy_rsa_oaep_from_jwk(&text),
            _ => crate::DecryptionKey::from_jwk(&text),
        };
        key.unwrap_or_else(|e| panic!("{e}: {}", jwk["alg"]))
            .into_nested()
    }

    fn cookbook(name: &str) -> Value {
        data(&format!("jose-cookbook/jwe/{name}"))
    }

    /// RFC 7520 §5.2 (RSA-OAEP + A256GCM), §5.4 (ECDH-ES+A128KW, P-384, A128GCM) and §5.5
    /// (ECDH-ES, P-256, A128CBC-HS256) decrypt to the example's plaintext with the example's
    /// recipient key (given the example's `alg`); §5.2 only with a key enabled for the legacy
    /// RSA-OAEP: the same RSA key for RSA-OAEP-256 does not open it, nor does no key.
    #[test]
    fn rfc7520_examples_decrypt() {
        for file in [
            "5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json",
            "5_4.key_agreement_with_key_wrapping_using_ecdh-es_and_aes-keywrap_with_aes-gcm.json",
            "5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json",
        ] {
            let example = cookbook(file);
            let mut jwk = example["input"]["key"].clone();
            jwk["alg"] = example["input"]["alg"].clone();
            let compact = example["output"]["compact"].as_str().unwrap();
            let plaintext = open(compact, &[key(&jwk)]).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(
                plaintext,
                example["input"]["plaintext"].as_str().unwrap().as_bytes(),
                "{file}"
            );
        }
        let example = cookbook("5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json");
        let compact = example["output"]["compact"].as_str().unwrap();
        assert_eq!(open(compact, &[]), Err(JweError::Refused("RSA-OAEP")));
        let mut modern = example["input"]["key"].clone();
        modern["alg"] = Value::from("RSA-OAEP-256");
        assert_eq!(
            open(compact, &[key(&modern)]),
            Err(JweError::Refused("RSA-OAEP"))
        );
    }

    /// The RFC 7520 examples whose algorithms are refused are refused before any key is
    /// needed, each named by its family.
    #[test]
    fn rfc7520_examples_with_refused_algorithms_are_refused() {
        for (file, family) in [
            (
                "5_1.key_encryption_using_rsa_v15_and_aes-hmac-sha2.json",
                "RSA1_5",
            ),
            (
                "5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json",
                "RSA-OAEP",
            ),
            (
                "5_3.key_wrap_using_pbes2-aes-keywrap_with-aes-cbc-hmac-sha2.json",
                "PBES2",
            ),
            ("5_6.direct_encryption_using_aes-gcm.json", "dir"),
            (
                "5_7.key_wrap_using_aes-gcm_keywrap_with_aes-cbc-hmac-sha2.json",
                "A*GCMKW",
            ),
            ("5_8.key_wrap_using_aes-keywrap_with_aes-gcm.json", "A*KW"),
            ("5_9.compressed_content.json", "A*KW"),
        ] {
            let compact = cookbook(file)["output"]["compact"]
                .as_str()
                .unwrap()
                .to_owned();
            assert_eq!(
                open(&compact, &[]),
                Err(JweError::Refused(family)),
                "{file}"
            );
        }
    }

    /// Whether Wycheproof's key `alg` and the case's `enc` are supported here.
    fn supported(alg: &str, header: &Value) -> bool {
        let enc = header["enc"].as_str().unwrap_or("");
        KeyManagement::from_name(alg).is_some()
            && header["alg"].as_str() == Some(alg)
            && crate::ContentEncryption::from_name(enc).is_some()
    }

    fn protected_header(jwe: &str) -> Value {
        let first = jwe.split('.').next().unwrap_or("");
        crate::jose::base64url::decode(first)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or(Value::Null)
    }

    /// Wycheproof `json_web_encryption_test.json` and the JWE groups of
    /// `json_web_crypto_test.json`, through the JWE decryption path. A group whose key uses a
    /// supported `alg` (the legacy RSA-OAEP through its explicit opt-in): a valid case with a
    /// supported `enc` decrypts to its `pt`; a valid case with an unsupported `alg` or `enc`
    /// (A192GCM, A192CBC-HS384, ECDH-ES+A192KW, RSA1_5 with an OAEP key) is refused as such,
    /// before decryption; every invalid case fails. A group with a key this crate cannot hold
    /// (`oct` keys for `A*KW`, `A*GCMKW`, `dir`; `RSA1_5`): every case is refused by the
    /// header policy, without a key.
    #[test]
    fn wycheproof_json_web_encryption() {
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for file in ["json_web_encryption_test.json", "json_web_crypto_test.json"] {
            let suite = data(&format!("wycheproof/{file}"));
            for group in suite["testGroups"].as_array().unwrap() {
                let jwk = &group["private"];
                if jwk["use"] != "enc" {
                    continue; // json_web_crypto_test.json's JWS groups
                }
                let alg = jwk["alg"].as_str().unwrap();
                let keys: Vec<DecryptionKey> = match KeyManagement::from_name(alg) {
                    Some(_) => vec![key(jwk)],
                    None => Vec::new(),
                };
                for case in group["tests"].as_array().unwrap() {
                    let id = format!("{file} tcId {}", case["tcId"]);
                    // The JSON serialization cases hold an object.
                    let jwe = match &case["jwe"] {
                        Value::String(compact) => compact.clone(),
                        other => other.to_string(),
                    };
                    let got = open(&jwe, &keys);
                    let header = protected_header(&jwe);
                    match (case["result"].as_str().unwrap(), keys.is_empty()) {
                        ("valid", false) if supported(alg, &header) => {
                            let plaintext = got.unwrap_or_else(|e| panic!("{id}: {e}"));
                            if let Some(pt) = case["pt"].as_str() {
                                assert_eq!(plaintext, hex(pt), "{id}");
                            }
                            *counts.entry("decrypted").or_default() += 1;
                        }
                        ("valid", _) => {
                            assert!(matches!(got, Err(JweError::Refused(_))), "{id}: {got:?}");
                            *counts.entry("refused").or_default() += 1;
                        }
                        (_, true) => {
                            assert!(
                                matches!(
                                    got,
                                    Err(JweError::Refused(_)
                                        | JweError::Malformed
                                        | JweError::TooLarge)
                                ),
                                "{id}: {got:?}"
                            );
                            *counts.entry("refused").or_default() += 1;
                        }
                        _ => {
                            assert!(got.is_err(), "{id}: accepted");
                            *counts.entry("invalid").or_default() += 1;
                        }
                    }
                }
            }
        }
        // Every case was run: the 139 of the first file and the 34 JWE cases of the second.
        let expected = [("decrypted", 30), ("invalid", 49), ("refused", 94)];
        assert_eq!(counts, expected.into_iter().collect(), "{counts:?}");
    }
}
