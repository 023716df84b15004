//! Every supported JWS algorithm end to end: proofs signed by an independent implementation
//! (RustCrypto used directly, never keybound's signer) verify; tokens of each algorithm verify
//! against a JWKS that also holds keys keybound cannot use; the key fixes the algorithm; the
//! policies narrow what is accepted and the challenges say so; size limits hold.

mod common;

use std::sync::OnceLock;

use common::{b64, now, parse_challenges, NOW, URL};
use keybound::{
    Algorithm, AlgorithmSet, Error, IssuerKeys, JoseError, KeyError, KeySet, KeyType, NonceEngine,
    ProofOptions, ProofRequest, ProofSigner, ProofVerifier, PublicKey, RequestGuard,
    ResourceRequest, SigningKey, TokenError, TokenIssuer, TokenOptions, TokenRequest,
    TokenVerifier, UnixTime,
};
use rsa::traits::PublicKeyParts;
use signature::Signer;

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";

/// A private key held by the independent signer, with its public JWK.
enum Independent {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
    Rsa(Box<rsa::PrivateKey>),
}

fn rsa_key(bits: usize) -> &'static rsa::PrivateKey {
    static K2048: OnceLock<rsa::PrivateKey> = OnceLock::new();
    static K3072: OnceLock<rsa::PrivateKey> = OnceLock::new();
    let cell = match bits {
        2048 => &K2048,
        3072 => &K3072,
        _ => unreachable!("test keys are 2048 or 3072 bits"),
    };
    cell.get_or_init(|| rsa::PrivateKey::new(&mut getrandom::SysRng, bits).unwrap())
}

impl Independent {
    fn for_alg(alg: Algorithm) -> Self {
        let seed = [alg as u8 + 1; 32];
        match alg {
            Algorithm::Es256 => Self::P256(p256::ecdsa::SigningKey::from_slice(&seed).unwrap()),
            Algorithm::Es384 => Self::P384(p384::ecdsa::SigningKey::from_slice(&[7; 48]).unwrap()),
            Algorithm::Es512 => {
                let mut d = [7u8; 66];
                d[0] = 1;
                Self::P521(p521::ecdsa::SigningKey::from_slice(&d).unwrap())
            }
            Algorithm::Ed25519 | Algorithm::EdDsa => {
                Self::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
            }
            Algorithm::Rs384 | Algorithm::Ps384 => Self::Rsa(Box::new(rsa_key(3072).clone())),
            _ => Self::Rsa(Box::new(rsa_key(2048).clone())),
        }
    }

    fn public_jwk(&self) -> String {
        let ec = |crv: &str, sec1: &[u8]| {
            let len = (sec1.len() - 1) / 2;
            format!(
                r#"{{"kty":"EC","crv":"{crv}","x":"{}","y":"{}"}}"#,
                b64(&sec1[1..1 + len]),
                b64(&sec1[1 + len..])
            )
        };
        match self {
            Self::P256(k) => ec("P-256", k.verifying_key().to_sec1_point(false).as_bytes()),
            Self::P384(k) => ec("P-384", k.verifying_key().to_sec1_point(false).as_bytes()),
            Self::P521(k) => ec("P-521", k.verifying_key().to_sec1_point(false).as_bytes()),
            Self::Ed25519(k) => format!(
                r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
                b64(k.verifying_key().as_bytes())
            ),
            Self::Rsa(k) => format!(
                r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#,
                b64(&k.n().to_be_bytes_trimmed_vartime()),
                b64(&k.e().to_be_bytes_trimmed_vartime())
            ),
        }
    }

    fn sign(&self, alg: Algorithm, message: &[u8]) -> Vec<u8> {
        use rsa::sha2::{Sha256, Sha384, Sha512};
        match self {
            Self::P256(k) => Signer::<p256::ecdsa::Signature>::sign(k, message).to_vec(),
            Self::P384(k) => Signer::<p384::ecdsa::Signature>::sign(k, message).to_vec(),
            Self::P521(k) => Signer::<p521::ecdsa::Signature>::sign(k, message).to_vec(),
            Self::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            Self::Rsa(k) => {
                let rng = &mut getrandom::SysRng;
                match alg {
                    Algorithm::Rs256 => k.pkcs1v15_sign_with_rng::<Sha256, _>(rng, message),
                    Algorithm::Rs384 => k.pkcs1v15_sign_with_rng::<Sha384, _>(rng, message),
                    Algorithm::Rs512 => k.pkcs1v15_sign_with_rng::<Sha512, _>(rng, message),
                    Algorithm::Ps256 => k.pss_sign_with_rng::<Sha256, _>(rng, message),
                    Algorithm::Ps384 => k.pss_sign_with_rng::<Sha384, _>(rng, message),
                    Algorithm::Ps512 => k.pss_sign_with_rng::<Sha512, _>(rng, message),
                    _ => unreachable!("not an RSA algorithm"),
                }
                .unwrap()
            }
        }
    }

    /// A compact JWS of `header` (JSON) and `payload` (JSON).
    fn jws(&self, alg: Algorithm, header: &str, payload: &str) -> String {
        let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
        let signature = self.sign(alg, input.as_bytes());
        format!("{input}.{}", b64(&signature))
    }

    /// A DPoP proof for GET [`URL`] at [`NOW`], with `jti`, naming `header_alg`.
    fn proof(&self, header_alg: &str, sign_alg: Algorithm, jti: &str) -> String {
        let header = format!(
            r#"{{"typ":"dpop+jwt","alg":"{header_alg}","jwk":{}}}"#,
            self.public_jwk()
        );
        let claims = format!(r#"{{"jti":"{jti}","htm":"GET","htu":"{URL}","iat":{NOW}}}"#);
        self.jws(sign_alg, &header, &claims)
    }
}

fn verify(verifier: &ProofVerifier, proof: &str) -> Result<Algorithm, Error> {
    let headers = [proof];
    let request = ProofRequest::new("GET", URL, &headers);
    verifier.verify(&request, now()).map(|v| v.algorithm())
}

#[test]
fn independent_proofs_of_every_algorithm_verify() {
    let verifier = ProofVerifier::new();
    for alg in Algorithm::ALL {
        let signer = Independent::for_alg(alg);
        let proof = signer.proof(alg.as_str(), alg, &format!("ok-{alg}"));
        assert_eq!(verify(&verifier, &proof), Ok(alg), "{alg}");
        // The same proof again is a replay.
        assert!(verify(&verifier, &proof).is_err(), "{alg} replay");
        // One flipped signature bit is refused, opaquely.
        let tampered = signer.proof(alg.as_str(), alg, &format!("bad-{alg}"));
        let (input, signature) = tampered.rsplit_once('.').unwrap();
        let mut bytes = base64_decode(signature);
        let last = bytes.len() - 1;
        bytes[last / 2] ^= 0x01;
        let tampered = format!("{input}.{}", b64(&bytes));
        assert_eq!(
            verify(&verifier, &tampered),
            Err(Error::InvalidProof(keybound::ProofError::Jose(
                JoseError::InvalidSignature
            ))),
            "{alg} tampered"
        );
    }
}

#[test]
fn keybound_proofs_of_every_algorithm_verify_independently() {
    use signature::Verifier;
    for alg in Algorithm::ALL {
        let key = match alg {
            a if a.is_rsa() => SigningKey::generate_rsa(a, 2048).unwrap(),
            a => SigningKey::generate_for(a).unwrap(),
        };
        let proof = ProofSigner::new(key).proof("GET", URL).sign(now()).unwrap();
        let (input, signature) = proof.rsplit_once('.').unwrap();
        let header: serde_json::Value =
            serde_json::from_slice(&base64_decode(input.split('.').next().unwrap())).unwrap();
        assert_eq!(header["alg"], alg.as_str());
        let jwk = &header["jwk"];
        let signature = base64_decode(signature);
        let message = input.as_bytes();
        let field = |name: &str| base64_decode(jwk[name].as_str().unwrap());
        let ok = match alg {
            Algorithm::Es256 | Algorithm::Es384 | Algorithm::Es512 => {
                let mut sec1 = vec![4];
                sec1.extend(field("x"));
                sec1.extend(field("y"));
                match alg {
                    Algorithm::Es256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                        .unwrap()
                        .verify(
                            message,
                            &p256::ecdsa::Signature::from_slice(&signature).unwrap(),
                        )
                        .is_ok(),
                    Algorithm::Es384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                        .unwrap()
                        .verify(
                            message,
                            &p384::ecdsa::Signature::from_slice(&signature).unwrap(),
                        )
                        .is_ok(),
                    _ => p521::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                        .unwrap()
                        .verify(
                            message,
                            &p521::ecdsa::Signature::from_slice(&signature).unwrap(),
                        )
                        .is_ok(),
                }
            }
            Algorithm::Ed25519 | Algorithm::EdDsa => {
                let x: [u8; 32] = field("x").try_into().unwrap();
                let sig: [u8; 64] = signature.clone().try_into().unwrap();
                ed25519_dalek::VerifyingKey::from_bytes(&x)
                    .unwrap()
                    .verify_strict(message, &ed25519_dalek::Signature::from_bytes(&sig))
                    .is_ok()
            }
            _ => {
                use rsa::sha2::{Sha256, Sha384, Sha512};
                let key = rsa::PublicKey::new(
                    rsa::BoxedUint::from_be_slice_vartime(&field("n")),
                    rsa::BoxedUint::from_be_slice_vartime(&field("e")),
                )
                .unwrap();
                match alg {
                    Algorithm::Rs256 => key.pkcs1v15_verify::<Sha256>(message, &signature),
                    Algorithm::Rs384 => key.pkcs1v15_verify::<Sha384>(message, &signature),
                    Algorithm::Rs512 => key.pkcs1v15_verify::<Sha512>(message, &signature),
                    Algorithm::Ps256 => key.pss_verify::<Sha256>(message, &signature),
                    Algorithm::Ps384 => key.pss_verify::<Sha384>(message, &signature),
                    _ => key.pss_verify::<Sha512>(message, &signature),
                }
                .is_ok()
            }
        };
        assert!(ok, "{alg}: keybound's proof does not verify independently");
    }
}

#[test]
fn the_key_fixes_the_algorithm() {
    let verifier = ProofVerifier::new();
    // (key's algorithm, header alg that does not fit it)
    let cases = [
        (Algorithm::Es256, "ES384"),
        (Algorithm::Es256, "RS256"),
        (Algorithm::Es256, "EdDSA"),
        (Algorithm::Es384, "ES256"),
        (Algorithm::Es512, "ES384"),
        (Algorithm::Ed25519, "ES256"),
        (Algorithm::Rs256, "ES256"),
        (Algorithm::Rs256, "Ed25519"),
    ];
    for (i, (key_alg, header_alg)) in cases.into_iter().enumerate() {
        let signer = Independent::for_alg(key_alg);
        let proof = signer.proof(header_alg, key_alg, &format!("mismatch-{i}"));
        assert_eq!(
            verify(&verifier, &proof),
            Err(Error::InvalidProof(keybound::ProofError::Jose(
                JoseError::AlgorithmKeyMismatch
            ))),
            "{key_alg} key, header {header_alg}"
        );
    }
    // none and HMAC never get that far, whatever the key.
    for (i, alg) in ["none", "HS256", "HS384", "HS512"].into_iter().enumerate() {
        let signer = Independent::for_alg(Algorithm::Rs256);
        let proof = signer.proof(alg, Algorithm::Rs256, &format!("sym-{i}"));
        assert_eq!(
            verify(&verifier, &proof),
            Err(Error::InvalidProof(keybound::ProofError::Jose(
                JoseError::UnsupportedAlgorithm
            ))),
            "{alg}"
        );
    }
    // An oct key in the header is refused as a key (it is a private member `k`).
    let header = r#"{"typ":"dpop+jwt","alg":"HS256","jwk":{"kty":"oct","k":"c2VjcmV0"}}"#;
    let claims = format!(r#"{{"jti":"oct","htm":"GET","htu":"{URL}","iat":{NOW}}}"#);
    let proof = format!(
        "{}.{}.{}",
        b64(header.as_bytes()),
        b64(claims.as_bytes()),
        b64(b"x")
    );
    assert!(verify(&verifier, &proof).is_err());
}

#[test]
fn each_key_says_which_algorithms_it_allows() {
    let names = |key: &PublicKey| key.algorithms().to_names();
    let p256 = PublicKey::from_jwk(&Independent::for_alg(Algorithm::Es256).public_jwk()).unwrap();
    assert_eq!(names(&p256), "ES256");
    let p521 = PublicKey::from_jwk(&Independent::for_alg(Algorithm::Es512).public_jwk()).unwrap();
    assert_eq!(names(&p521), "ES512");
    let ed = PublicKey::from_jwk(&Independent::for_alg(Algorithm::Ed25519).public_jwk()).unwrap();
    assert_eq!(names(&ed), "Ed25519 EdDSA");
    let rsa_jwk = Independent::for_alg(Algorithm::Rs256).public_jwk();
    let rsa = PublicKey::from_jwk(&rsa_jwk).unwrap();
    assert_eq!(names(&rsa), "RS256 RS384 RS512 PS256 PS384 PS512");
    assert!(!rsa.allows(Algorithm::Es256));
    let pinned = format!(r#"{},"alg":"PS384"}}"#, &rsa_jwk[..rsa_jwk.len() - 1]);
    let pinned = PublicKey::from_jwk(&pinned).unwrap();
    assert_eq!(names(&pinned), "PS384");
    assert_eq!(pinned.algorithm(), Some(Algorithm::Ps384));
    assert!(pinned.allows(Algorithm::Ps384) && !pinned.allows(Algorithm::Ps256));
}

#[test]
fn a_jwk_alg_pins_the_header_alg() {
    let verifier = ProofVerifier::new();
    let signer = Independent::for_alg(Algorithm::Rs256);
    let pinned = |own: &str| {
        let jwk = signer.public_jwk();
        format!(r#"{},"alg":"{own}"}}"#, &jwk[..jwk.len() - 1])
    };
    let claims = |jti: &str| format!(r#"{{"jti":"{jti}","htm":"GET","htu":"{URL}","iat":{NOW}}}"#);
    let header = format!(
        r#"{{"typ":"dpop+jwt","alg":"PS256","jwk":{}}}"#,
        pinned("RS256")
    );
    let proof = signer.jws(Algorithm::Ps256, &header, &claims("pin-1"));
    assert_eq!(
        verify(&verifier, &proof),
        Err(Error::InvalidProof(keybound::ProofError::Jose(
            JoseError::AlgorithmKeyMismatch
        )))
    );
    let header = format!(
        r#"{{"typ":"dpop+jwt","alg":"PS256","jwk":{}}}"#,
        pinned("PS256")
    );
    let proof = signer.jws(Algorithm::Ps256, &header, &claims("pin-2"));
    assert_eq!(verify(&verifier, &proof), Ok(Algorithm::Ps256));
}

#[test]
fn proof_algorithms_can_be_narrowed_and_challenges_list_them() {
    let narrow = [Algorithm::Es256, Algorithm::Ps256];
    let options = ProofOptions::new().with_algorithms(narrow);
    assert_eq!(options.algorithms.to_names(), "ES256 PS256");
    let verifier = ProofVerifier::new().with_options(options);
    let ps = Independent::for_alg(Algorithm::Ps256);
    assert_eq!(
        verify(&verifier, &ps.proof("PS256", Algorithm::Ps256, "n-1")),
        Ok(Algorithm::Ps256)
    );
    for alg in [Algorithm::Rs256, Algorithm::Ed25519, Algorithm::Es384] {
        let signer = Independent::for_alg(alg);
        assert_eq!(
            verify(
                &verifier,
                &signer.proof(alg.as_str(), alg, &format!("n-{alg}"))
            ),
            Err(Error::InvalidProof(keybound::ProofError::Jose(
                JoseError::UnsupportedAlgorithm
            ))),
            "{alg}"
        );
    }

    // The algorithm is decided from the header, before the claims: a proof that can never pass
    // is refused as such, not for its claims, and a nonce-requiring server does not first
    // send its client away to fetch a nonce for it.
    let signer = Independent::for_alg(Algorithm::Rs256);
    let header = format!(
        r#"{{"typ":"dpop+jwt","alg":"RS256","jwk":{}}}"#,
        signer.public_jwk()
    );
    let no_claims = signer.jws(Algorithm::Rs256, &header, "{}");
    assert_eq!(
        verify(&verifier, &no_claims),
        Err(Error::InvalidProof(keybound::ProofError::Jose(
            JoseError::UnsupportedAlgorithm
        )))
    );
    let mismatch = format!(
        r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#,
        signer.public_jwk()
    );
    let no_claims = signer.jws(Algorithm::Rs256, &mismatch, "{}");
    assert_eq!(
        verify(&ProofVerifier::new(), &no_claims),
        Err(Error::InvalidProof(keybound::ProofError::Jose(
            JoseError::AlgorithmKeyMismatch
        )))
    );
    let nonces = ProofVerifier::new()
        .with_options(ProofOptions::new().with_algorithms(narrow))
        .with_nonces(NonceEngine::from_secret([7; 32]));
    let no_nonce = signer.proof("RS256", Algorithm::Rs256, "n-nonce");
    assert_eq!(
        verify(&nonces, &no_nonce),
        Err(Error::InvalidProof(keybound::ProofError::Jose(
            JoseError::UnsupportedAlgorithm
        )))
    );

    // The guard's challenges list exactly the configured set.
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_proof_verifier(
            ProofVerifier::new().with_options(ProofOptions::new().with_algorithms(narrow)),
        );
    let rejection = guard
        .check(&ResourceRequest::new("GET", URL, &[], &[]), now())
        .unwrap_err();
    let challenges = parse_challenges(rejection.www_authenticate());
    assert_eq!(challenges[0].param("algs"), Some("ES256 PS256"));
}

#[test]
fn proof_rsa_keys_are_2048_to_4096_bits() {
    let verifier = ProofVerifier::new();
    for (bits, accepted) in [
        (1024, false),
        (2047, false),
        (4096, true),
        (4104, false),
        (8192, false),
    ] {
        // A syntactically valid odd modulus of exactly `bits` bits; the size check comes
        // before any signature arithmetic, so no real key is needed.
        let mut n = vec![0xc3u8; bits / 8];
        n[0] = 0x80 | 0x41;
        *n.last_mut().unwrap() |= 1;
        if bits % 8 != 0 {
            n.insert(0, 1);
        }
        let jwk = format!(r#"{{"kty":"RSA","n":"{}","e":"AQAB"}}"#, b64(&n));
        let header = format!(r#"{{"typ":"dpop+jwt","alg":"RS256","jwk":{jwk}}}"#);
        let claims = format!(r#"{{"jti":"size-{bits}","htm":"GET","htu":"{URL}","iat":{NOW}}}"#);
        let proof = format!(
            "{}.{}.{}",
            b64(header.as_bytes()),
            b64(claims.as_bytes()),
            b64(&vec![1u8; n.len()])
        );
        let outcome = verify(&verifier, &proof);
        if accepted {
            // Size accepted: the (fake) signature is what fails.
            assert_eq!(
                outcome,
                Err(Error::InvalidProof(keybound::ProofError::Jose(
                    JoseError::InvalidSignature
                ))),
                "{bits}"
            );
        } else {
            assert!(
                matches!(
                    outcome,
                    Err(Error::InvalidProof(keybound::ProofError::InvalidKey(
                        KeyError::RsaModulusSize { .. }
                    )))
                ),
                "{bits}: {outcome:?}"
            );
        }
    }
}

/// A JWKS the way providers publish it: the issuer's signing key among an encryption key, an
/// X25519 key, an unknown key type and a 1024-bit RSA key.
fn crowded_jwks(signing: &PublicKey, kid: &str) -> String {
    let jwk = signing.to_jwk();
    let alg = signing
        .algorithm()
        .map(|a| format!(r#","alg":"{a}""#))
        .unwrap_or_default();
    let signing = format!(
        r#"{},"kid":"{kid}"{alg},"use":"sig"}}"#,
        &jwk[..jwk.len() - 1]
    );
    let enc = SigningKey::generate().unwrap().public_key().to_jwk();
    let enc = format!(
        r#"{},"kid":"enc-1","use":"enc","alg":"ECDH-ES"}}"#,
        &enc[..enc.len() - 1]
    );
    format!(
        r#"{{"keys":[{enc},{{"kty":"OKP","crv":"X25519","kid":"x1","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}},{{"kty":"ML-DSA","kid":"pq","pub":"AAAA"}},{{"kty":"RSA","kid":"old","n":"{}","e":"AQAB"}},{signing}]}}"#,
        b64(&[0xcbu8; 128])
    )
}

#[test]
fn tokens_of_every_algorithm_verify_against_a_crowded_jwks() {
    for alg in Algorithm::ALL {
        let key = match alg {
            a if a.is_rsa() => SigningKey::generate_rsa(a, 2048).unwrap(),
            a => SigningKey::generate_for(a).unwrap(),
        };
        let client = SigningKey::generate().unwrap();
        let issuer = TokenIssuer::new(ISS, IssuerKeys::new(key));
        let kid = issuer.keys().active_kid().to_string();
        let jwks = crowded_jwks(issuer.keys().active().public_key(), &kid);
        let set = KeySet::from_jwks(&jwks).unwrap();
        assert_eq!(set.len(), 1, "{alg}");
        let reasons: Vec<KeyError> = set.skipped().iter().map(|s| s.reason).collect();
        assert_eq!(
            reasons,
            [
                KeyError::WrongAlgorithm,
                KeyError::UnsupportedCurve,
                KeyError::UnsupportedKeyType,
                KeyError::RsaModulusSize { bits: 1024 },
            ],
            "{alg}"
        );
        let token = issuer
            .issue(
                &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
                now(),
            )
            .unwrap();
        let header: serde_json::Value = serde_json::from_slice(&base64_decode(
            token.access_token.split('.').next().unwrap(),
        ))
        .unwrap();
        assert_eq!(header["alg"], alg.as_str());

        let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, set));
        let proof = ProofSigner::new(client)
            .proof("GET", URL)
            .with_access_token(&token.access_token)
            .sign(now())
            .unwrap();
        let authorization = format!("DPoP {}", token.access_token);
        let authorized = guard
            .check(
                &ResourceRequest::new("GET", URL, &[&authorization], &[&proof]),
                now(),
            )
            .unwrap_or_else(|r| panic!("{alg}: {:?}", r.error()));
        assert_eq!(authorized.subject(), "alice");
    }
}

/// An issuer signing with a fresh RS256 key of `bits`, and one token it issued at [`NOW`].
fn rsa_issuer_and_token(bits: usize) -> (TokenIssuer, String) {
    let key = SigningKey::generate_rsa(Algorithm::Rs256, bits).unwrap();
    let client = SigningKey::generate().unwrap();
    let issuer = TokenIssuer::new(ISS, IssuerKeys::new(key));
    let token = issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
            now(),
        )
        .unwrap()
        .access_token;
    (issuer, token)
}

#[test]
fn token_algorithms_follow_the_policy_and_the_key() {
    let (issuer, token) = rsa_issuer_and_token(2048);
    let keys = issuer.keys().key_set();
    let at = UnixTime::from_secs(NOW);

    let only_es256 = TokenOptions::new().with_algorithms([Algorithm::Es256]);
    let narrow = TokenVerifier::new(ISS, AUD, keys.clone()).with_options(only_es256);
    assert_eq!(
        narrow.verify(&token, at).unwrap_err(),
        Error::InvalidToken(TokenError::Jose(JoseError::UnsupportedAlgorithm))
    );
    let wide = TokenVerifier::new(ISS, AUD, keys.clone());
    assert!(wide.verify(&token, at).is_ok());

    // The issuer's key is published for RS256: a PS256 header is refused before any
    // signature check, although PS256 fits an RSA key.
    let (_, rest) = token.split_once('.').unwrap();
    let forged_header = format!(
        r#"{{"typ":"at+jwt","alg":"PS256","kid":"{}"}}"#,
        issuer.keys().active_kid()
    );
    let forged = format!("{}.{rest}", b64(forged_header.as_bytes()));
    assert_eq!(
        wide.verify(&forged, at).unwrap_err(),
        Error::InvalidToken(TokenError::Jose(JoseError::AlgorithmKeyMismatch))
    );
}

#[test]
fn issuer_rsa_keys_above_the_limit_are_refused() {
    let (issuer, token) = rsa_issuer_and_token(3072);
    let at = UnixTime::from_secs(NOW);
    let small = TokenOptions::new().with_max_rsa_bits(2048);
    assert_eq!(small.max_rsa_bits, 2048);
    let verifier = TokenVerifier::new(ISS, AUD, issuer.keys().key_set()).with_options(small);
    assert_eq!(
        verifier.verify(&token, at).unwrap_err(),
        Error::InvalidToken(TokenError::KeyTooLarge { bits: 3072 })
    );
    assert_eq!(TokenOptions::new().max_rsa_bits, 4096);
    assert_eq!(
        TokenOptions::new().with_max_rsa_bits(100_000).max_rsa_bits,
        8192
    );
    assert!(TokenVerifier::new(ISS, AUD, issuer.keys().key_set())
        .verify(&token, at)
        .is_ok());
}

#[test]
fn published_jwks_carries_each_keys_alg() {
    let mut keys = IssuerKeys::new(SigningKey::generate_rsa(Algorithm::Ps384, 2048).unwrap());
    keys.rotate(SigningKey::generate_for(Algorithm::Ed25519).unwrap());
    keys.rotate(SigningKey::generate_for(Algorithm::Es512).unwrap());
    let jwks: serde_json::Value = serde_json::from_str(&keys.jwks()).unwrap();
    let algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            assert_eq!(k["use"], "sig");
            assert!(k.get("d").is_none());
            k["alg"].as_str().unwrap()
        })
        .collect();
    assert_eq!(algs, ["ES512", "PS384", "Ed25519"]);
    let set = KeySet::from_jwks(&keys.jwks()).unwrap();
    assert_eq!(set.len(), 3);
    assert!(set.skipped().is_empty());
    let ed = set.get(&keys.public_keys().nth(2).unwrap().thumbprint().to_string());
    assert_eq!(ed.map(PublicKey::key_type), Some(KeyType::Ed25519));
    assert_eq!(ed.and_then(PublicKey::algorithm), Some(Algorithm::Ed25519));
}

#[test]
fn ed25519_keys_must_be_canonical_and_of_large_order() {
    // The identity (small order) and a non-canonical encoding of y = p (≡ 0).
    let identity = {
        let mut y = [0u8; 32];
        y[0] = 1;
        y
    };
    let mut non_canonical = [0xffu8; 32];
    non_canonical[0] = 0xed;
    non_canonical[31] = 0x7f;
    for x in [identity, non_canonical, [0u8; 32]] {
        let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, b64(&x));
        assert_eq!(
            PublicKey::from_jwk(&jwk).unwrap_err(),
            KeyError::InvalidPoint,
            "{x:?}"
        );
    }
    let good = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let jwk = format!(
        r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
        b64(good.verifying_key().as_bytes())
    );
    assert!(PublicKey::from_jwk(&jwk).is_ok());
}

#[test]
fn ed25519_signatures_with_s_out_of_range_are_refused() {
    let signer = Independent::for_alg(Algorithm::Ed25519);
    let Independent::Ed25519(key) = &signer else {
        unreachable!()
    };
    let public = PublicKey::from_jwk(&signer.public_jwk()).unwrap();
    let mut signature = key.sign(b"m").to_bytes();
    assert!(public
        .verify(Algorithm::Ed25519, AlgorithmSet::all(), b"m", &signature)
        .is_ok());
    // S + L: the same signature in a non-canonical (malleable) form.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(signature[32 + i]) + u16::from(L[i]) + carry;
        signature[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(
        public.verify(Algorithm::Ed25519, AlgorithmSet::all(), b"m", &signature),
        Err(JoseError::InvalidSignature)
    );
}

#[test]
fn ed25519_signatures_with_a_small_order_r_are_refused() {
    // With R = the identity and S = k·a, the cofactorless equation [S]B = R + [k]A holds for
    // any message: only the strict rule (R of large order) refuses it.
    use curve25519_dalek::edwards::CompressedEdwardsY;
    use curve25519_dalek::Scalar;
    use sha2::{Digest, Sha512};
    let key = ed25519_dalek::SigningKey::from_bytes(&[11; 32]);
    let a = key.to_scalar();
    let public = key.verifying_key().to_bytes();
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert!(CompressedEdwardsY(identity).decompress().is_some());
    let message = b"any message at all";
    let k = Scalar::from_bytes_mod_order_wide(
        &Sha512::new()
            .chain_update(identity)
            .chain_update(public)
            .chain_update(message)
            .finalize()
            .into(),
    );
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&identity);
    signature[32..].copy_from_slice((k * a).as_bytes());
    // The equation really holds: ed25519-dalek's cofactorless, non-strict check accepts it.
    use signature::Verifier;
    assert!(key
        .verifying_key()
        .verify(message, &ed25519_dalek::Signature::from_bytes(&signature))
        .is_ok());
    let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, b64(&public));
    let ours = PublicKey::from_jwk(&jwk).unwrap();
    for alg in [Algorithm::Ed25519, Algorithm::EdDsa] {
        assert_eq!(
            ours.verify(alg, AlgorithmSet::all(), message, &signature),
            Err(JoseError::InvalidSignature)
        );
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::decode_vec(text).unwrap()
}
