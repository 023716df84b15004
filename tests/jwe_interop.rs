//! Encrypted access tokens against an independent JWE pipeline (issue 15): ECDH-ES+A256KW
//! with A256GCM and ECDH-ES (direct) on X25519 with A128GCM, assembled here from RustCrypto
//! primitives (`p256`/`x25519-dalek` ECDH, `concat-kdf`, `aes-kw`, `aes-gcm`) following RFC 7516
//! §5 and RFC 7518 §4.6 — none of keybound's JWE code. keybound's guard accepts what this
//! pipeline encrypts; this pipeline decrypts what keybound's issuer encrypts.

use aes_gcm::aead::{AeadInOut, KeyInit};
use base64ct::{Base64UrlUnpadded, Encoding};
use keybound::{
    ContentEncryption, DecryptionKey, EncryptionKey, IssuerKeys, ProofSigner, RequestGuard,
    ResourceRequest, SigningKey, TokenIssuer, TokenRequest, TokenVerifier, UnixTime,
};
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::elliptic_curve::Generate;
use serde_json::{json, Value};

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";
const URL: &str = "https://api.example.com/orders";

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(text).unwrap()
}

/// RFC 7518 §4.6.2: Concat KDF over SHA-256 with length-prefixed AlgorithmID, PartyUInfo,
/// PartyVInfo (empty here) and the key length in bits.
fn kdf(z: &[u8], algorithm_id: &str, len: usize) -> Vec<u8> {
    let mut other = Vec::new();
    for part in [algorithm_id.as_bytes(), b"", b""] {
        other.extend_from_slice(&(part.len() as u32).to_be_bytes());
        other.extend_from_slice(part);
    }
    other.extend_from_slice(&((len * 8) as u32).to_be_bytes());
    let mut out = vec![0u8; len];
    concat_kdf::derive_key_into::<sha2_010::Sha256>(z, &other, &mut out).unwrap();
    out
}

fn gcm_seal<C: AeadInOut + KeyInit>(
    cek: &[u8],
    iv: &[u8],
    aad: &[u8],
    msg: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    let cipher = C::new_from_slice(cek).unwrap();
    let nonce = aes_gcm::aead::Nonce::<C>::try_from(iv).unwrap();
    let mut buffer = msg.to_vec();
    let tag = cipher
        .encrypt_inout_detached(&nonce, aad, buffer.as_mut_slice().into())
        .unwrap();
    (buffer, tag.to_vec())
}

fn gcm_open<C: AeadInOut + KeyInit>(
    cek: &[u8],
    iv: &[u8],
    aad: &[u8],
    ct: &[u8],
    tag: &[u8],
) -> Vec<u8> {
    let cipher = C::new_from_slice(cek).unwrap();
    let nonce = aes_gcm::aead::Nonce::<C>::try_from(iv).unwrap();
    let tag = aes_gcm::aead::Tag::<C>::try_from(tag).unwrap();
    let mut buffer = ct.to_vec();
    cipher
        .decrypt_inout_detached(&nonce, aad, buffer.as_mut_slice().into(), &tag)
        .expect("the independent pipeline authenticates keybound's JWE");
    buffer
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).unwrap();
    bytes
}

/// A signed, DPoP-bound `at+jwt` for `client` (keybound signs; the encryption is the test's).
fn signed_token(issuer: &TokenIssuer, client: &ProofSigner) -> String {
    issuer
        .issue(
            &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
            UnixTime::now(),
        )
        .unwrap()
        .access_token
}

fn call(
    guard: &RequestGuard,
    client: &ProofSigner,
    token: &str,
) -> Result<keybound::Authorized, keybound::Rejection> {
    let now = UnixTime::now();
    let proof = client
        .proof("GET", URL)
        .with_access_token(token)
        .sign(now)
        .unwrap();
    let authorization = format!("DPoP {token}");
    let (authorization, dpop) = ([authorization.as_str()], [proof.as_str()]);
    guard.check(
        &ResourceRequest::new("GET", URL, &authorization, &dpop),
        now,
    )
}

struct P256Recipient {
    secret: p256::SecretKey,
}

impl P256Recipient {
    fn new() -> Self {
        Self {
            secret: p256::SecretKey::try_generate_from_rng(&mut getrandom::SysRng).unwrap(),
        }
    }

    fn public_jwk(&self) -> Value {
        let point = self.secret.public_key().to_sec1_point(false);
        json!({
            "kty": "EC", "crv": "P-256", "kid": "rs-1", "use": "enc", "alg": "ECDH-ES+A256KW",
            "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap()),
        })
    }

    fn private_jwk(&self) -> String {
        let mut jwk = self.public_jwk();
        jwk["d"] = Value::from(b64(&self.secret.to_bytes()));
        jwk.to_string()
    }
}

/// ECDH-ES+A256KW / A256GCM to `recipient`, by hand.
fn independent_encrypt_p256(inner: &str, recipient: &p256::PublicKey) -> String {
    let ephemeral = p256::SecretKey::try_generate_from_rng(&mut getrandom::SysRng).unwrap();
    let z = p256::ecdh::diffie_hellman(ephemeral.to_nonzero_scalar(), recipient.as_affine());
    let kek = kdf(z.raw_secret_bytes(), "ECDH-ES+A256KW", 32);
    let cek: [u8; 32] = random();
    let mut wrapped = vec![0u8; 40];
    aes_kw::KwAes256::new_from_slice(&kek)
        .unwrap()
        .wrap_key(&cek, &mut wrapped)
        .unwrap();
    let point = ephemeral.public_key().to_sec1_point(false);
    let header = json!({
        "alg": "ECDH-ES+A256KW", "enc": "A256GCM", "cty": "JWT", "kid": "rs-1",
        "epk": {"kty": "EC", "crv": "P-256", "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())},
    });
    seal_a256gcm(&header, &wrapped, &cek, inner)
}

/// The compact JWE with protected header `header` and encrypted key `wrapped`, its content
/// `inner` sealed with A256GCM under `cek` and a random IV (RFC 7516 §5.1 steps 11–19).
fn seal_a256gcm(header: &Value, wrapped: &[u8], cek: &[u8], inner: &str) -> String {
    let protected = b64(header.to_string().as_bytes());
    let iv: [u8; 12] = random();
    let (ct, tag) =
        gcm_seal::<aes_gcm::Aes256Gcm>(cek, &iv, protected.as_bytes(), inner.as_bytes());
    format!(
        "{protected}.{}.{}.{}.{}",
        b64(wrapped),
        b64(&iv),
        b64(&ct),
        b64(&tag)
    )
}

#[test]
fn keybound_accepts_a_jwe_made_by_an_independent_pipeline() {
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let recipient = P256Recipient::new();
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let jwe = independent_encrypt_p256(
        &signed_token(&issuer, &client),
        &recipient.secret.public_key(),
    );
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_decryption_key(DecryptionKey::from_jwk(&recipient.private_jwk()).unwrap());
    let authorized = call(&guard, &client, &jwe).expect("keybound decrypts and verifies");
    assert_eq!(authorized.subject(), "alice");
    // The same JWE with its tag altered is refused.
    let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
    let mut tag = unb64(&parts[4]);
    tag[0] ^= 1;
    parts[4] = b64(&tag);
    assert_eq!(
        call(&guard, &client, &parts.join("."))
            .unwrap_err()
            .status(),
        401
    );
}

#[test]
fn an_independent_pipeline_decrypts_keybounds_jwe() {
    let recipient = P256Recipient::new();
    let encryption_key = EncryptionKey::from_jwk(&recipient.public_jwk().to_string()).unwrap();
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap()).with_encryption(
        AUD,
        &encryption_key,
        ContentEncryption::A256Gcm,
    );
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let jwe = signed_token(&issuer, &client);
    let parts: Vec<&str> = jwe.split('.').collect();
    assert_eq!(parts.len(), 5);
    let header: Value = serde_json::from_slice(&unb64(parts[0])).unwrap();
    assert_eq!(header["alg"], "ECDH-ES+A256KW");
    assert_eq!(header["enc"], "A256GCM");
    assert_eq!(header["cty"], "JWT");
    assert_eq!(header["kid"], "rs-1");
    let epk = &header["epk"];
    let mut sec1 = vec![4u8];
    sec1.extend(unb64(epk["x"].as_str().unwrap()));
    sec1.extend(unb64(epk["y"].as_str().unwrap()));
    let ephemeral = p256::PublicKey::from_sec1_bytes(&sec1).unwrap();
    let z = p256::ecdh::diffie_hellman(recipient.secret.to_nonzero_scalar(), ephemeral.as_affine());
    let kek = kdf(z.raw_secret_bytes(), "ECDH-ES+A256KW", 32);
    let wrapped = unb64(parts[1]);
    let mut cek = vec![0u8; wrapped.len() - 8];
    aes_kw::KwAes256::new_from_slice(&kek)
        .unwrap()
        .unwrap_key(&wrapped, &mut cek)
        .unwrap();
    let inner = gcm_open::<aes_gcm::Aes256Gcm>(
        &cek,
        &unb64(parts[2]),
        parts[0].as_bytes(),
        &unb64(parts[3]),
        &unb64(parts[4]),
    );
    let inner = String::from_utf8(inner).unwrap();
    // The plaintext is keybound's signed at+jwt: it verifies on its own.
    let verified = TokenVerifier::new(ISS, AUD, issuer.keys().key_set())
        .verify(&inner, UnixTime::now())
        .unwrap();
    assert_eq!(verified.claims().subject(), "alice");
}

#[test]
fn x25519_direct_agreement_interoperates() {
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let d: [u8; 32] = random();
    let secret = x25519_dalek::StaticSecret::from(d);
    let public = x25519_dalek::PublicKey::from(&secret);
    let jwk = json!({"kty": "OKP", "crv": "X25519", "kid": "x1", "alg": "ECDH-ES", "x": b64(public.as_bytes()), "d": b64(&d)});
    // Independent: ECDH-ES direct, the derived key is the A128GCM CEK (AlgorithmID = enc).
    let ephemeral = x25519_dalek::StaticSecret::from(random::<32>());
    let z = ephemeral.diffie_hellman(&public);
    let cek = kdf(z.as_bytes(), "A128GCM", 16);
    let header = json!({
        "alg": "ECDH-ES", "enc": "A128GCM", "cty": "JWT", "kid": "x1",
        "epk": {"kty": "OKP", "crv": "X25519", "x": b64(x25519_dalek::PublicKey::from(&ephemeral).as_bytes())},
    });
    let protected = b64(header.to_string().as_bytes());
    let iv: [u8; 12] = random();
    let token = signed_token(&issuer, &client);
    let (ct, tag) =
        gcm_seal::<aes_gcm::Aes128Gcm>(&cek, &iv, protected.as_bytes(), token.as_bytes());
    let jwe = format!("{protected}..{}.{}.{}", b64(&iv), b64(&ct), b64(&tag));
    let guard = RequestGuard::new(TokenVerifier::new(ISS, AUD, issuer.keys().key_set()))
        .with_decryption_key(DecryptionKey::from_jwk(&jwk.to_string()).unwrap());
    assert_eq!(call(&guard, &client, &jwe).unwrap().subject(), "alice");
}

/// RSA-OAEP (SHA-1, MGF1-SHA-1) / A256GCM to `recipient`, by hand with the `rsa` crate.
fn independent_encrypt_rsa_oaep_sha1(inner: &str, recipient: &rsa::PublicKey) -> String {
    let cek: [u8; 32] = random();
    let wrapped = recipient
        .oaep_encrypt_with_rng::<sha1::Sha1, _>(&mut getrandom::SysRng, &cek)
        .unwrap();
    let header = json!({ "alg": "RSA-OAEP", "enc": "A256GCM", "cty": "JWT" });
    seal_a256gcm(&header, &wrapped, &cek, inner)
}

/// The legacy RSA-OAEP (SHA-1) of an authorization server that offers nothing better: refused
/// by a guard whose key is for RSA-OAEP-256 (the same RSA key), accepted by one holding the key
/// enabled for RSA-OAEP explicitly.
#[test]
fn legacy_rsa_oaep_tokens_need_the_explicit_opt_in() {
    use rsa::pkcs8::DecodePrivateKey;
    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/openssl/rsa2048_pkcs8.pem"
    ))
    .unwrap();
    let public = rsa::PrivateKey::from_pkcs8_pem(&pem)
        .unwrap()
        .to_public_key();
    let issuer = TokenIssuer::new(ISS, IssuerKeys::generate().unwrap());
    let client = ProofSigner::new(SigningKey::generate().unwrap());
    let jwe = independent_encrypt_rsa_oaep_sha1(&signed_token(&issuer, &client), &public);
    let verifier = || TokenVerifier::new(ISS, AUD, issuer.keys().key_set());
    let modern = RequestGuard::new(verifier()).with_decryption_key(
        DecryptionKey::from_pem(&pem, keybound::KeyManagement::RsaOaep256).unwrap(),
    );
    let refused = call(&modern, &client, &jwe).unwrap_err();
    assert_eq!(refused.status(), 401);
    assert!(refused
        .www_authenticate()
        .contains(r#"error="invalid_token""#));
    assert!(matches!(
        refused.error(),
        keybound::Error::InvalidToken(keybound::TokenError::Jwe(keybound::JweError::Refused(
            "RSA-OAEP"
        )))
    ));
    let legacy = RequestGuard::new(verifier()).with_decryption_key(
        DecryptionKey::from_pem(&pem, keybound::KeyManagement::RsaOaep).unwrap(),
    );
    let authorized = call(&legacy, &client, &jwe).expect("decrypted with the opt-in key");
    assert_eq!(authorized.subject(), "alice");
}
