//! Keys in PEM, as people keep them: files made by OpenSSL (`tests/data/openssl/`, an
//! independent implementation) and by the RustCrypto encoders import, sign and verify; what is
//! not a usable signing key is refused with a typed error.

use std::sync::OnceLock;

use keybound::{
    Algorithm, AlgorithmSet, EcCurve, JoseError, KeyError, KeyType, PublicKey, SigningKey,
};

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/openssl/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bytes(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/openssl/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn rsa_key() -> &'static rsa::PrivateKey {
    static KEY: OnceLock<rsa::PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap())
}

/// OpenSSL's DER ECDSA signature in the JWS `r ‖ s` form, converted by the curve crates.
fn p1363(curve: EcCurve, der: &[u8]) -> Vec<u8> {
    match curve {
        EcCurve::P256 => p256::ecdsa::Signature::from_der(der).unwrap().to_vec(),
        EcCurve::P384 => p384::ecdsa::Signature::from_der(der).unwrap().to_vec(),
        _ => p521::ecdsa::Signature::from_der(der).unwrap().to_vec(),
    }
}

#[test]
fn openssl_private_keys_import_and_their_signatures_verify() {
    let message = bytes("message.txt");
    let all = AlgorithmSet::all();
    let cases = [
        (
            "p256_sec1_with_params.pem",
            "p256_spki.pem",
            Algorithm::Es256,
            "p256_es256.der",
        ),
        (
            "p384_pkcs8.pem",
            "p384_spki.pem",
            Algorithm::Es384,
            "p384_es384.der",
        ),
        (
            "p521_pkcs8.pem",
            "p521_spki.pem",
            Algorithm::Es512,
            "p521_es512.der",
        ),
        (
            "ed25519_pkcs8.pem",
            "ed25519_spki.pem",
            Algorithm::Ed25519,
            "ed25519.sig",
        ),
    ];
    for (private, public, alg, signature) in cases {
        let key = SigningKey::from_pem(&data(private)).unwrap_or_else(|e| panic!("{private}: {e}"));
        assert_eq!(key.algorithm(), alg, "{private}");
        let spki = PublicKey::from_pem(&data(public)).unwrap_or_else(|e| panic!("{public}: {e}"));
        assert_eq!(&spki, key.public_key(), "{public}");
        assert_eq!(spki.thumbprint(), key.thumbprint());
        let raw = bytes(signature);
        let signature = match key.key_type() {
            KeyType::Ec(curve) => {
                // The DER form itself is refused: JWS wants r ‖ s.
                assert_eq!(
                    spki.verify(alg, all, &message, &raw),
                    Err(JoseError::SignatureLength),
                    "{private}"
                );
                p1363(curve, &raw)
            }
            _ => raw,
        };
        assert_eq!(
            spki.verify(alg, all, &message, &signature),
            Ok(()),
            "{private}"
        );
        // And what keybound signs with the imported key verifies with OpenSSL's public key.
        let ours = key.sign(b"and back").unwrap();
        assert_eq!(
            spki.verify(alg, all, b"and back", &ours),
            Ok(()),
            "{private}"
        );
    }
}

#[test]
fn openssl_rsa_keys_in_every_form() {
    let message = bytes("message.txt");
    let all = AlgorithmSet::all();
    let pkcs8 = data("rsa2048_pkcs8.pem");
    let pkcs1 = data("rsa2048_pkcs1.pem");
    assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    // PEM names no algorithm, and an RSA key may sign RS* or PS*: it must be chosen.
    assert_eq!(
        SigningKey::from_pem(&pkcs8).unwrap_err(),
        KeyError::AlgorithmRequired
    );
    assert_eq!(
        SigningKey::from_pem(&pkcs1).unwrap_err(),
        KeyError::AlgorithmRequired
    );
    assert_eq!(
        SigningKey::from_pem_with_algorithm(&pkcs8, Algorithm::Es256).unwrap_err(),
        KeyError::WrongAlgorithm
    );
    let key = SigningKey::from_pem_with_algorithm(&pkcs8, Algorithm::Ps256).unwrap();
    let again = SigningKey::from_pem_with_algorithm(&pkcs1, Algorithm::Rs256).unwrap();
    assert_eq!(key.thumbprint(), again.thumbprint());
    assert_eq!(key.key_type(), KeyType::Rsa { modulus_bits: 2048 });
    for public in ["rsa2048_spki.pem", "rsa2048_pkcs1_public.pem"] {
        let public = PublicKey::from_pem(&data(public)).unwrap();
        assert_eq!(public.thumbprint(), key.thumbprint());
        assert_eq!(public.algorithm(), None);
        for (alg, signature) in [
            (Algorithm::Rs256, "rsa2048_rs256.sig"),
            (Algorithm::Rs512, "rsa2048_rs512.sig"),
            (Algorithm::Ps256, "rsa2048_ps256.sig"),
            (Algorithm::Ps384, "rsa2048_ps384.sig"),
        ] {
            let signature = bytes(signature);
            assert_eq!(
                public.verify(alg, all, &message, &signature),
                Ok(()),
                "{alg}"
            );
            // The same bytes under another RSA algorithm do not verify.
            let other = if alg == Algorithm::Rs256 {
                Algorithm::Ps256
            } else {
                Algorithm::Rs256
            };
            assert_eq!(
                public.verify(other, all, &message, &signature),
                Err(JoseError::InvalidSignature),
                "{alg} as {other}"
            );
        }
    }
}

#[test]
fn what_is_not_a_usable_signing_key_is_refused() {
    for (file, expected) in [
        ("x25519_pkcs8.pem", KeyError::InvalidPem),
        ("ed448_pkcs8.pem", KeyError::InvalidPem),
        ("p384_encrypted.pem", KeyError::InvalidPem),
        ("p384_spki.pem", KeyError::InvalidPem),
    ] {
        assert_eq!(
            SigningKey::from_pem(&data(file)).unwrap_err(),
            expected,
            "{file}"
        );
    }
    assert_eq!(
        SigningKey::from_pem_with_algorithm(&data("rsa1024_pkcs8.pem"), Algorithm::Rs256)
            .unwrap_err(),
        KeyError::RsaModulusSize { bits: 1024 }
    );
    for (file, expected) in [
        ("x25519_spki.pem", KeyError::InvalidPem),
        ("ed448_spki.pem", KeyError::InvalidPem),
        ("p384_pkcs8.pem", KeyError::InvalidPem),
    ] {
        assert_eq!(
            PublicKey::from_pem(&data(file)).unwrap_err(),
            expected,
            "{file}"
        );
    }
    for junk in [
        "",
        "not pem",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n",
        "-----BEGIN PRIVATE KEY-----\n@@@@\n-----END PRIVATE KEY-----\n",
    ] {
        assert_eq!(
            SigningKey::from_pem(junk).unwrap_err(),
            KeyError::InvalidPem,
            "{junk:?}"
        );
    }
    let huge = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        "A".repeat(20_000)
    );
    assert!(SigningKey::from_pem(&huge).is_err());
}

#[test]
fn rust_crypto_encodings_import() {
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let p256 = p256::ecdsa::SigningKey::from_slice(&[3; 32]).unwrap();
    let pem = p256.to_pkcs8_pem(LineEnding::LF).unwrap();
    let key = SigningKey::from_pem(&pem).unwrap();
    assert_eq!(key.algorithm(), Algorithm::Es256);
    let public_pem = p256
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let public = PublicKey::from_pem(&public_pem).unwrap();
    assert_eq!(&public, key.public_key());

    let ed = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let key = SigningKey::from_pem(&ed.to_pkcs8_pem(LineEnding::LF).unwrap()).unwrap();
    assert_eq!(key.algorithm(), Algorithm::Ed25519);
    assert_eq!(key.public_key().key_type(), KeyType::Ed25519);

    let rsa = rsa_key();
    let pkcs8 = rsa.to_pkcs8_pem(LineEnding::LF).unwrap();
    assert_eq!(
        SigningKey::from_pem(&pkcs8).unwrap_err(),
        KeyError::AlgorithmRequired
    );
    let key = SigningKey::from_pem_with_algorithm(&pkcs8, Algorithm::Ps256).unwrap();
    assert_eq!(key.algorithm(), Algorithm::Ps256);
    {
        use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
        let pkcs1 = rsa.to_pkcs1_pem(LineEnding::LF).unwrap();
        assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        let again = SigningKey::from_pem_with_algorithm(&pkcs1, Algorithm::Rs256).unwrap();
        assert_eq!(again.thumbprint(), key.thumbprint());
        let public = rsa.to_public_key().to_pkcs1_pem(LineEnding::LF).unwrap();
        assert_eq!(
            PublicKey::from_pem(&public).unwrap().thumbprint(),
            key.thumbprint()
        );
    }
    assert_eq!(
        SigningKey::from_pem(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
        )
        .unwrap_err(),
        KeyError::InvalidPem
    );
    assert_eq!(
        SigningKey::from_pem("not pem").unwrap_err(),
        KeyError::InvalidPem
    );
    // A public PEM is not a private key, and a 1024-bit RSA key is refused after decoding.
    assert_eq!(
        SigningKey::from_pem(&public_pem).unwrap_err(),
        KeyError::InvalidPem
    );
}

#[test]
fn pem_text_is_bounded_at_16_kib() {
    let pem = data("ed25519_pkcs8.pem");
    let padded = |len: usize| format!("{pem}{}", "\n".repeat(len - pem.len()));
    assert!(SigningKey::from_pem(&padded(16 * 1024)).is_ok());
    assert_eq!(
        SigningKey::from_pem(&padded(16 * 1024 + 1)).unwrap_err(),
        KeyError::Malformed(JoseError::Json)
    );
    let public = data("ed25519_spki.pem");
    let padded = format!("{public}{}", "\n".repeat(16 * 1024 + 1 - public.len()));
    assert_eq!(
        PublicKey::from_pem(&padded).unwrap_err(),
        KeyError::Malformed(JoseError::Json)
    );
}
