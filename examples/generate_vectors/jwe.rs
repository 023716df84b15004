//! `jwe.json`: encrypted access tokens (nested JWTs, RFC 7519 §5.2; JWE, RFC 7516/7518), each
//! a compact JWE and the recipient's private keys, decrypted to the inner compact JWS or
//! refused with an error code.
//!
//! The JWEs are assembled here from RustCrypto primitives (`p256`/`p384` ECDH, `x25519-dalek`,
//! `concat-kdf`, `aes-kw`, `aes-gcm`, `aes` + `cbc` + `hmac`, `rsa` OAEP) following RFC 7516
//! §5.1 and RFC 7518 §4.3, §4.6, §5 — never with keybound — and every random value (static
//! and ephemeral keys, content keys, IVs, OAEP seeds) comes from the seed's streams.

use aes_gcm::aead::{AeadInOut, KeyInit};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, Mac};
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::elliptic_curve::Generate;
use rsa::traits::PrivateKeyParts;

use crate::case::Case;
use crate::drbg::Drbg;
use crate::fixtures::{Fixtures, AUDIENCE, ISSUER, NOW, SUBJECT};
use crate::jose::{b64, compact};
use crate::json::{obj, quote, J};
use crate::keys::RsaKey;

pub const DESCRIPTION: &str = "Encrypted access tokens: nested JWTs (RFC 7519 §5.2), a signed \
at+jwt encrypted as a compact JWE (RFC 7516 §7.1) with asymmetric key management only: ECDH-ES, \
ECDH-ES+A128KW, ECDH-ES+A256KW on P-256, P-384 and X25519 (RFC 7518 §4.6, RFC 8037 §3.2) and \
RSA-OAEP-256 (RFC 7518 §4.3); content A128GCM, A256GCM, A128CBC-HS256, A256CBC-HS512 (§5). \
Each case gives the token and the recipient's private keys (JWK, each with its alg; a key serves \
that alg only, RFC 8725 §3.1); decrypting must give the inner compact JWS (not verified here), \
or fail with the error code: refused (a header the profile refuses before any decryption; \
member names what), malformed, too-large (over 16 KiB), no-key (no key for the token's kid and \
alg), decryption-failed (one opaque code for every cryptographic failure) or not-nested (the \
plaintext is not a compact JWS).";

const NESTED: &str = "RFC 7519 §5.2; RFC 7516 §5.2";
const PROFILE: &str = "this suite's profile (RFC 8725 §3.1, §3.2; RFC 7516 §11.5)";

/// A recipient's key pair.
enum Recipient<'a> {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    X25519(x25519_dalek::StaticSecret),
    Rsa(&'a RsaKey),
}

impl Recipient<'_> {
    /// The private JWK, with `kid` and `alg`.
    fn jwk(&self, kid: &str, alg: &str) -> J {
        let head = obj();
        let head = match self {
            Self::P256(key) => ec_members(
                head,
                "P-256",
                key.public_key().to_sec1_point(false).as_bytes(),
            )
            .set("d", b64(&key.to_bytes())),
            Self::P384(key) => ec_members(
                head,
                "P-384",
                key.public_key().to_sec1_point(false).as_bytes(),
            )
            .set("d", b64(&key.to_bytes())),
            Self::X25519(key) => head
                .set("kty", "OKP")
                .set("crv", "X25519")
                .set("x", b64(x25519_dalek::PublicKey::from(key).as_bytes()))
                .set("d", b64(key.as_bytes())),
            Self::Rsa(key) => {
                let secret = key.secret();
                let number = |n: &rsa::BoxedUint| b64(&n.to_be_bytes_trimmed_vartime());
                let primes = secret.primes();
                head.set("kty", "RSA")
                    .set("n", b64(key.n()))
                    .set("e", b64(key.e()))
                    .set("d", number(secret.d()))
                    .set("p", number(primes[0].as_ref()))
                    .set("q", number(primes[1].as_ref()))
                    .set("dp", number(secret.dp().expect("dp")))
                    .set("dq", number(secret.dq().expect("dq")))
                    .set("qi", number(&secret.crt_coefficient().expect("qi")))
            }
        };
        head.set("kid", kid)
            .set("use", "enc")
            .set("alg", alg)
            .done()
    }
}

fn ec_members(head: crate::json::Obj, crv: &str, point: &[u8]) -> crate::json::Obj {
    let (x, y) = point[1..].split_at((point.len() - 1) / 2);
    head.set("kty", "EC")
        .set("crv", crv)
        .set("x", b64(x))
        .set("y", b64(y))
}

/// The recipients of the cases, each from its own stream of the seed.
struct Recipients<'a> {
    p256: Recipient<'a>,
    p256_other: Recipient<'a>,
    p384: Recipient<'a>,
    x25519: Recipient<'a>,
    rsa: Recipient<'a>,
}

impl<'a> Recipients<'a> {
    fn new(fx: &'a Fixtures) -> Self {
        let stream = |name: &str| Drbg::new(fx.seed, &format!("key/jwe-{name}"));
        Self {
            p256: Recipient::P256(
                p256::SecretKey::try_generate_from_rng(&mut stream("p256")).expect("p256"),
            ),
            p256_other: Recipient::P256(
                p256::SecretKey::try_generate_from_rng(&mut stream("p256-other")).expect("p256"),
            ),
            p384: Recipient::P384(
                p384::SecretKey::try_generate_from_rng(&mut stream("p384")).expect("p384"),
            ),
            x25519: Recipient::X25519(x25519_dalek::StaticSecret::from(Drbg::bytes::<32>(
                fx.seed,
                "key/jwe-x25519",
            ))),
            rsa: Recipient::Rsa(&fx.client_rsa),
        }
    }
}

/// The content encryption key length of `enc`.
fn key_len(enc: &str) -> usize {
    match enc {
        "A128GCM" => 16,
        "A256GCM" | "A128CBC-HS256" => 32,
        "A256CBC-HS512" => 64,
        other => panic!("no enc {other}"),
    }
}

/// RFC 7518 §4.6.2: Concat KDF over SHA-256, `OtherInfo` = AlgorithmID ‖ PartyUInfo ‖
/// PartyVInfo (each length-prefixed) ‖ SuppPubInfo (the key length in bits).
fn concat_kdf(z: &[u8], algorithm_id: &str, apu: &[u8], apv: &[u8], len: usize) -> Vec<u8> {
    let mut other = Vec::new();
    for part in [algorithm_id.as_bytes(), apu, apv] {
        other.extend_from_slice(&u32::try_from(part.len()).expect("short").to_be_bytes());
        other.extend_from_slice(part);
    }
    other.extend_from_slice(&u32::try_from(len * 8).expect("short").to_be_bytes());
    let mut out = vec![0u8; len];
    concat_kdf::derive_key_into::<sha2_010::Sha256>(z, &other, &mut out).expect("kdf");
    out
}

/// How one JWE is made.
struct Spec<'r, 'a> {
    to: &'r Recipient<'a>,
    alg: &'static str,
    enc: &'static str,
    kid: Option<&'static str>,
    /// The `cty` member, if any.
    cty: Option<&'static str>,
    /// `apu` / `apv` (ECDH-ES only), raw.
    apu: &'static [u8],
    apv: &'static [u8],
    /// Raw JSON members appended to the protected header (`,"name":value…`).
    extra: &'static str,
    plaintext: String,
}

/// The compact JWE of `spec`; the stream `jwe/<id>` supplies every random value.
fn encrypt(fx: &Fixtures, id: &str, spec: &Spec<'_, '_>) -> String {
    let mut rng = Drbg::new(fx.seed, &format!("jwe/{id}"));
    let cek_len = key_len(spec.enc);
    let mut random = |len: usize| {
        let mut bytes = vec![0u8; len];
        rng.fill(&mut bytes);
        bytes
    };
    let mut header = format!(r#"{{"alg":{},"enc":{}"#, quote(spec.alg), quote(spec.enc));
    if let Some(cty) = spec.cty {
        header.push_str(&format!(r#","cty":{}"#, quote(cty)));
    }
    if let Some(kid) = spec.kid {
        header.push_str(&format!(r#","kid":{}"#, quote(kid)));
    }
    if !spec.apu.is_empty() {
        header.push_str(&format!(
            r#","apu":"{}","apv":"{}""#,
            b64(spec.apu),
            b64(spec.apv)
        ));
    }
    header.push_str(spec.extra);
    let (cek, encrypted_key) = match spec.to {
        Recipient::Rsa(key) => {
            let cek = random(cek_len);
            let mut oaep_rng = Drbg::new(fx.seed, &format!("jwe/{id}/oaep"));
            let wrapped = key
                .secret()
                .to_public_key()
                .oaep_encrypt_with_rng::<rsa::sha2::Sha256, _>(&mut oaep_rng, &cek)
                .expect("OAEP");
            (cek, wrapped)
        }
        to => {
            let mut eph_rng = Drbg::new(fx.seed, &format!("jwe/{id}/epk"));
            let (z, epk) = agree(to, &mut eph_rng);
            header.push_str(&format!(r#","epk":{epk}"#));
            let (algorithm_id, kek_len) = match spec.alg {
                "ECDH-ES" => (spec.enc, cek_len),
                "ECDH-ES+A128KW" => (spec.alg, 16),
                "ECDH-ES+A256KW" => (spec.alg, 32),
                other => panic!("no alg {other}"),
            };
            let derived = concat_kdf(&z, algorithm_id, spec.apu, spec.apv, kek_len);
            if spec.alg == "ECDH-ES" {
                (derived, Vec::new())
            } else {
                let cek = random(cek_len);
                let mut wrapped = vec![0u8; cek_len + 8];
                if kek_len == 16 {
                    aes_kw::KwAes128::new_from_slice(&derived)
                        .expect("kek")
                        .wrap_key(&cek, &mut wrapped)
                } else {
                    aes_kw::KwAes256::new_from_slice(&derived)
                        .expect("kek")
                        .wrap_key(&cek, &mut wrapped)
                }
                .expect("wrap");
                (cek, wrapped)
            }
        }
    };
    header.push('}');
    let protected = b64(header.as_bytes());
    let iv = random(if spec.enc.ends_with("GCM") { 12 } else { 16 });
    let (ciphertext, tag) = seal(
        spec.enc,
        &cek,
        &iv,
        protected.as_bytes(),
        spec.plaintext.as_bytes(),
    );
    format!(
        "{protected}.{}.{}.{}.{}",
        b64(&encrypted_key),
        b64(&iv),
        b64(&ciphertext),
        b64(&tag)
    )
}

/// An ephemeral key on `to`'s curve from `rng`: the shared secret `Z` and the `epk` JSON.
fn agree(to: &Recipient<'_>, rng: &mut Drbg) -> (Vec<u8>, String) {
    let ec_epk = |crv: &str, point: &[u8]| {
        let (x, y) = point[1..].split_at((point.len() - 1) / 2);
        format!(
            r#"{{"kty":"EC","crv":"{crv}","x":"{}","y":"{}"}}"#,
            b64(x),
            b64(y)
        )
    };
    match to {
        Recipient::P256(key) => {
            let eph = p256::SecretKey::try_generate_from_rng(rng).expect("p256");
            let z =
                p256::ecdh::diffie_hellman(eph.to_nonzero_scalar(), key.public_key().as_affine());
            let epk = ec_epk("P-256", eph.public_key().to_sec1_point(false).as_bytes());
            (z.raw_secret_bytes().to_vec(), epk)
        }
        Recipient::P384(key) => {
            let eph = p384::SecretKey::try_generate_from_rng(rng).expect("p384");
            let z =
                p384::ecdh::diffie_hellman(eph.to_nonzero_scalar(), key.public_key().as_affine());
            let epk = ec_epk("P-384", eph.public_key().to_sec1_point(false).as_bytes());
            (z.raw_secret_bytes().to_vec(), epk)
        }
        Recipient::X25519(key) => {
            let mut seed = [0u8; 32];
            rng.fill(&mut seed);
            let eph = x25519_dalek::StaticSecret::from(seed);
            let z = eph.diffie_hellman(&x25519_dalek::PublicKey::from(key));
            let epk = format!(
                r#"{{"kty":"OKP","crv":"X25519","x":"{}"}}"#,
                b64(x25519_dalek::PublicKey::from(&eph).as_bytes())
            );
            (z.as_bytes().to_vec(), epk)
        }
        Recipient::Rsa(_) => unreachable!("RSA has no key agreement"),
    }
}

/// RFC 7518 §5.2.2 (AES-CBC-HMAC-SHA2) and §5.3 (AES-GCM): ciphertext and tag.
fn seal(enc: &str, cek: &[u8], iv: &[u8], aad: &[u8], plaintext: &[u8]) -> (Vec<u8>, Vec<u8>) {
    fn gcm<C: AeadInOut + KeyInit>(
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        msg: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let cipher = C::new_from_slice(cek).expect("key");
        let nonce = aes_gcm::aead::Nonce::<C>::try_from(iv).expect("iv");
        let mut buffer = msg.to_vec();
        let tag = cipher
            .encrypt_inout_detached(&nonce, aad, buffer.as_mut_slice().into())
            .expect("seal");
        (buffer, tag.to_vec())
    }
    fn cbc_hmac<E: KeyIvInit + BlockModeEncrypt, M: Mac + KeyInit>(
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        msg: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let (mac_key, enc_key) = cek.split_at(cek.len() / 2);
        let ciphertext = E::new_from_slices(enc_key, iv)
            .expect("key")
            .encrypt_padded_vec::<Pkcs7>(msg);
        let mut mac = <M as KeyInit>::new_from_slice(mac_key).expect("mac key");
        mac.update(aad);
        mac.update(iv);
        mac.update(&ciphertext);
        mac.update(&(u64::try_from(aad.len()).expect("short") * 8).to_be_bytes());
        let tag = mac.finalize().into_bytes()[..mac_key.len()].to_vec();
        (ciphertext, tag)
    }
    match enc {
        "A128GCM" => gcm::<aes_gcm::Aes128Gcm>(cek, iv, aad, plaintext),
        "A256GCM" => gcm::<aes_gcm::Aes256Gcm>(cek, iv, aad, plaintext),
        "A128CBC-HS256" => {
            cbc_hmac::<cbc::Encryptor<aes::Aes128>, Hmac<sha2::Sha256>>(cek, iv, aad, plaintext)
        }
        "A256CBC-HS512" => {
            cbc_hmac::<cbc::Encryptor<aes::Aes256>, Hmac<sha2::Sha512>>(cek, iv, aad, plaintext)
        }
        other => panic!("no enc {other}"),
    }
}

/// The signed `at+jwt` every valid case carries (the issuer's ES256 key; not verified here).
fn inner_token(fx: &Fixtures) -> String {
    let header = r#"{"alg":"ES256","typ":"at+jwt","kid":"issuer"}"#;
    let payload = format!(
        r#"{{"iss":{},"aud":{},"sub":{},"iat":{NOW},"exp":{}}}"#,
        quote(ISSUER),
        quote(AUDIENCE),
        quote(SUBJECT),
        NOW + 300
    );
    compact(&fx.issuer, header, &payload)
}

/// The JWE with one segment (0 = header … 4 = tag) changed: its first decoded byte flipped,
/// or for the header one member added (a header change must fail the AAD, not the policy).
fn tamper(jwe: &str, segment: usize) -> String {
    let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
    if segment == 0 {
        let header = crate::jose::b64_decode(&parts[0]);
        let mut text = String::from_utf8(header).expect("utf-8");
        text.pop();
        text.push_str(r#","x":1}"#);
        parts[0] = b64(text.as_bytes());
    } else {
        let mut bytes = crate::jose::b64_decode(&parts[segment]);
        bytes[0] ^= 1;
        parts[segment] = b64(&bytes);
    }
    parts.join(".")
}

/// A compact JWE with protected header `header` and fixed placeholder segments: for refusals
/// that the header alone decides.
fn with_header(header: &str) -> String {
    format!(
        "{}.{}.{}.{}.{}",
        b64(header.as_bytes()),
        b64(&[7u8; 40]),
        b64(&[1u8; 12]),
        b64(b"ciphertext"),
        b64(&[2u8; 16])
    )
}

struct Builder {
    cases: Vec<Case>,
}

impl Builder {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        category: &'static str,
        name: &str,
        normative: bool,
        requirement: &'static str,
        description: &str,
        token: String,
        keys: Vec<J>,
        expected: J,
    ) {
        let id = format!("jwe/{category}/{name}");
        self.cases.push(Case {
            id,
            kind: "jwe",
            category,
            requirement,
            normative,
            description: description.to_owned(),
            input: obj().set("token", token).set("keys", J::Arr(keys)).done(),
            expected,
            decoded: None,
        });
    }
}

fn valid(inner: &str) -> J {
    obj().set("valid", true).set("inner", inner).done()
}

fn invalid(error: &str) -> J {
    obj().set("valid", false).set("error", error).done()
}

fn refused(member: &str) -> J {
    obj()
        .set("valid", false)
        .set("error", "refused")
        .set("member", member)
        .done()
}

/// Every case of `jwe.json`.
pub fn cases(fx: &Fixtures) -> Vec<Case> {
    let r = Recipients::new(fx);
    let inner = inner_token(fx);
    let mut b = Builder { cases: Vec::new() };
    let spec = |to, alg, enc| Spec {
        to,
        alg,
        enc,
        kid: Some("rs-1"),
        cty: Some("JWT"),
        apu: b"",
        apv: b"",
        extra: "",
        plaintext: inner.clone(),
    };

    // Valid: every key management × curve, every content encryption.
    let valid_cases: [(&str, &Recipient<'_>, &str, &str); 10] = [
        ("ecdh-es-p256-a128gcm", &r.p256, "ECDH-ES", "A128GCM"),
        ("ecdh-es-p384-a256gcm", &r.p384, "ECDH-ES", "A256GCM"),
        (
            "ecdh-es-x25519-a128cbc-hs256",
            &r.x25519,
            "ECDH-ES",
            "A128CBC-HS256",
        ),
        (
            "ecdh-es-a128kw-p256-a256gcm",
            &r.p256,
            "ECDH-ES+A128KW",
            "A256GCM",
        ),
        (
            "ecdh-es-a128kw-x25519-a256cbc-hs512",
            &r.x25519,
            "ECDH-ES+A128KW",
            "A256CBC-HS512",
        ),
        (
            "ecdh-es-a256kw-p384-a128cbc-hs256",
            &r.p384,
            "ECDH-ES+A256KW",
            "A128CBC-HS256",
        ),
        (
            "ecdh-es-a256kw-p256-a256gcm",
            &r.p256,
            "ECDH-ES+A256KW",
            "A256GCM",
        ),
        (
            "ecdh-es-a256kw-x25519-a128gcm",
            &r.x25519,
            "ECDH-ES+A256KW",
            "A128GCM",
        ),
        ("rsa-oaep-256-a256gcm", &r.rsa, "RSA-OAEP-256", "A256GCM"),
        (
            "rsa-oaep-256-a256cbc-hs512",
            &r.rsa,
            "RSA-OAEP-256",
            "A256CBC-HS512",
        ),
    ];
    for (name, to, alg, enc) in valid_cases {
        let token = encrypt(fx, name, &spec(to, alg, enc));
        b.push(
            "valid",
            name,
            true,
            NESTED,
            &format!("{alg} with {enc}, cty JWT: decrypts to the inner JWS"),
            token,
            vec![to.jwk("rs-1", alg)],
            valid(&inner),
        );
    }
    let with_party_info = Spec {
        apu: b"Alice",
        apv: b"Bob",
        ..spec(&r.p256, "ECDH-ES", "A256GCM")
    };
    b.push(
        "valid",
        "ecdh-es-apu-apv",
        true,
        "RFC 7518 §4.6.1.2, §4.6.1.3, §4.6.2",
        "apu and apv feed the Concat KDF's PartyUInfo and PartyVInfo",
        encrypt(fx, "ecdh-es-apu-apv", &with_party_info),
        vec![r.p256.jwk("rs-1", "ECDH-ES")],
        valid(&inner),
    );
    for (name, cty) in [
        ("cty-lower-case", "jwt"),
        ("cty-at-jwt", "at+jwt"),
        ("cty-application-jwt", "application/JWT"),
    ] {
        let token = encrypt(
            fx,
            name,
            &Spec {
                cty: Some(cty),
                ..spec(&r.p256, "ECDH-ES+A128KW", "A128GCM")
            },
        );
        b.push(
            "valid",
            name,
            cty != "at+jwt",
            "RFC 7519 §5.2; RFC 7515 §4.1.10; RFC 9068 (at+jwt, as node-oidc-provider sends)",
            &format!("cty {cty:?} names a JWT (media types compare case-insensitively, application/ may be omitted)"),
            token,
            vec![r.p256.jwk("rs-1", "ECDH-ES+A128KW")],
            valid(&inner),
        );
    }

    // Key selection.
    let rotation = encrypt(
        fx,
        "rotation",
        &Spec {
            kid: Some("rs-2"),
            ..spec(&r.p256, "ECDH-ES", "A128GCM")
        },
    );
    b.push(
        "keys",
        "rotation-kid-selects",
        true,
        "RFC 7516 §4.1.6",
        "two keys: the token's kid names the second",
        rotation.clone(),
        vec![
            r.p256_other.jwk("rs-1", "ECDH-ES"),
            r.p256.jwk("rs-2", "ECDH-ES"),
        ],
        valid(&inner),
    );
    b.push(
        "keys",
        "unknown-kid",
        false,
        PROFILE,
        "the kid names no key held",
        rotation,
        vec![r.p256.jwk("rs-1", "ECDH-ES")],
        invalid("no-key"),
    );
    let no_kid = encrypt(
        fx,
        "no-kid",
        &Spec {
            kid: None,
            ..spec(&r.p256, "ECDH-ES", "A128GCM")
        },
    );
    b.push(
        "keys",
        "no-kid-one-key",
        true,
        NESTED,
        "no kid and one key: that key",
        no_kid.clone(),
        vec![r.p256.jwk("rs-1", "ECDH-ES")],
        valid(&inner),
    );
    b.push(
        "keys",
        "no-kid-two-keys",
        false,
        PROFILE,
        "no kid and two keys: ambiguous, refused rather than tried one by one",
        no_kid,
        vec![
            r.p256_other.jwk("rs-1", "ECDH-ES"),
            r.p256.jwk("rs-2", "ECDH-ES"),
        ],
        invalid("no-key"),
    );
    b.push(
        "keys",
        "key-for-another-alg",
        false,
        "RFC 8725 §3.1",
        "the named key is for ECDH-ES+A128KW, the token uses ECDH-ES",
        encrypt(
            fx,
            "key-for-another-alg",
            &spec(&r.p256, "ECDH-ES", "A128GCM"),
        ),
        vec![r.p256.jwk("rs-1", "ECDH-ES+A128KW")],
        invalid("no-key"),
    );

    // Tampering: one opaque failure whichever segment changed.
    let target = encrypt(
        fx,
        "tamper",
        &spec(&r.p256, "ECDH-ES+A256KW", "A128CBC-HS256"),
    );
    for (segment, name) in [
        (0, "header"),
        (1, "encrypted-key"),
        (2, "iv"),
        (3, "ciphertext"),
        (4, "tag"),
    ] {
        b.push(
            "tampering",
            name,
            true,
            "RFC 7516 §5.2 steps 10–16, §11.5",
            &format!("the {name} segment changed"),
            tamper(&target, segment),
            vec![r.p256.jwk("rs-1", "ECDH-ES+A256KW")],
            invalid("decryption-failed"),
        );
    }
    let gcm = encrypt(fx, "truncated-tag", &spec(&r.x25519, "ECDH-ES", "A256GCM"));
    let mut parts: Vec<String> = gcm.split('.').map(str::to_owned).collect();
    let tag = crate::jose::b64_decode(&parts[4]);
    parts[4] = b64(&tag[..12]);
    b.push(
        "tampering",
        "truncated-gcm-tag",
        true,
        "RFC 7518 §5.3 (the tag is 128 bits)",
        "an AES-GCM tag cut to 96 bits",
        parts.join("."),
        vec![r.x25519.jwk("rs-1", "ECDH-ES")],
        invalid("decryption-failed"),
    );

    // Refused before any decryption.
    let p256_key = || vec![r.p256.jwk("rs-1", "ECDH-ES")];
    for (name, header, member) in [
        (
            "rsa1-5",
            r#"{"alg":"RSA1_5","enc":"A128GCM","cty":"JWT"}"#,
            "RSA1_5",
        ),
        (
            "rsa-oaep-sha1",
            r#"{"alg":"RSA-OAEP","enc":"A128GCM","cty":"JWT"}"#,
            "RSA-OAEP",
        ),
        ("dir", r#"{"alg":"dir","enc":"A128GCM","cty":"JWT"}"#, "dir"),
        (
            "a128kw",
            r#"{"alg":"A128KW","enc":"A128GCM","cty":"JWT"}"#,
            "A*KW",
        ),
        (
            "a256gcmkw",
            r#"{"alg":"A256GCMKW","enc":"A128GCM","cty":"JWT","iv":"AAAAAAAAAAAAAAAA","tag":"AAAAAAAAAAAAAAAAAAAAAA"}"#,
            "A*GCMKW",
        ),
        (
            "pbes2",
            r#"{"alg":"PBES2-HS256+A128KW","enc":"A128GCM","cty":"JWT","p2s":"c2FsdA","p2c":100000000}"#,
            "PBES2",
        ),
        (
            "unknown-alg",
            r#"{"alg":"ECDH-ES+A192KW","enc":"A128GCM","cty":"JWT"}"#,
            "alg",
        ),
        (
            "none-alg",
            r#"{"alg":"none","enc":"A128GCM","cty":"JWT"}"#,
            "alg",
        ),
        (
            "unknown-enc",
            r#"{"alg":"ECDH-ES","enc":"A192GCM","cty":"JWT","epk":{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}}"#,
            "enc",
        ),
        (
            "zip",
            r#"{"alg":"ECDH-ES","enc":"A128GCM","cty":"JWT","zip":"DEF","epk":{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}}"#,
            "zip",
        ),
        (
            "crit",
            r#"{"alg":"ECDH-ES","enc":"A128GCM","cty":"JWT","crit":["exp"],"exp":1,"epk":{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}}"#,
            "crit",
        ),
        (
            "epk-missing",
            r#"{"alg":"ECDH-ES","enc":"A128GCM","cty":"JWT"}"#,
            "epk",
        ),
        (
            "epk-with-rsa",
            r#"{"alg":"RSA-OAEP-256","enc":"A128GCM","cty":"JWT","epk":{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}}"#,
            "epk",
        ),
    ] {
        b.push(
            "refused",
            name,
            false,
            PROFILE,
            &format!("refused from the header alone: {member}"),
            with_header(header),
            p256_key(),
            refused(member),
        );
    }
    let long_apu: &'static [u8] = &[b'a'; 300];
    let token = encrypt(
        fx,
        "apu-too-long",
        &Spec {
            apu: long_apu,
            apv: b"Bob",
            ..spec(&r.p256, "ECDH-ES", "A128GCM")
        },
    );
    b.push(
        "refused",
        "apu-too-long",
        false,
        PROFILE,
        "apu over 256 bytes",
        token,
        p256_key(),
        refused("apu"),
    );
    for (name, cty, member_present) in [
        ("cty-missing", None, false),
        ("cty-json", Some("json"), true),
    ] {
        let token = encrypt(
            fx,
            name,
            &Spec {
                cty,
                ..spec(&r.p256, "ECDH-ES", "A128GCM")
            },
        );
        let what = if member_present { "cty json" } else { "no cty" };
        b.push(
            "refused",
            name,
            true,
            "RFC 7519 §5.2 (a nested JWT MUST say cty JWT)",
            &format!("{what}: not a nested JWT"),
            token,
            p256_key(),
            refused("cty"),
        );
    }
    let flattened = format!(
        r#"{{"protected":"{}","iv":"AAAAAAAAAAAAAAAA","ciphertext":"AAAA","tag":"AAAAAAAAAAAAAAAAAAAAAA"}}"#,
        b64(br#"{"alg":"ECDH-ES","enc":"A128GCM","cty":"JWT"}"#)
    );
    b.push(
        "refused",
        "json-serialization",
        false,
        PROFILE,
        "the (flattened) JSON serialization: only compact tokens",
        flattened,
        p256_key(),
        refused("serialization"),
    );

    // Malformed or too large.
    let good = encrypt(fx, "shape", &spec(&r.p256, "ECDH-ES", "A128GCM"));
    let four: Vec<&str> = good.split('.').take(4).collect();
    b.push(
        "malformed",
        "four-segments",
        true,
        "RFC 7516 §7.1",
        "four segments",
        four.join("."),
        p256_key(),
        invalid("malformed"),
    );
    b.push(
        "malformed",
        "six-segments",
        true,
        "RFC 7516 §7.1",
        "six segments",
        format!("{good}.AAAA"),
        p256_key(),
        invalid("malformed"),
    );
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[2].push('=');
    b.push(
        "malformed",
        "padded-iv",
        true,
        "RFC 7515 §2 (base64url without padding)",
        "a padded segment",
        parts.join("."),
        p256_key(),
        invalid("malformed"),
    );
    let duplicate = encrypt(
        fx,
        "duplicate",
        &Spec {
            extra: r#","alg":"ECDH-ES""#,
            ..spec(&r.p256, "ECDH-ES", "A128GCM")
        },
    );
    b.push(
        "malformed",
        "duplicate-header-member",
        false,
        "RFC 7516 §4 (names unique; this profile refuses duplicates)",
        "alg appears twice in the protected header",
        duplicate,
        p256_key(),
        invalid("malformed"),
    );
    let huge = encrypt(
        fx,
        "huge",
        &Spec {
            plaintext: format!("{inner}{}", "A".repeat(17 * 1024)),
            ..spec(&r.p256, "ECDH-ES", "A128GCM")
        },
    );
    b.push(
        "malformed",
        "over-16-kib",
        false,
        PROFILE,
        "a token over 16 KiB",
        huge,
        p256_key(),
        invalid("too-large"),
    );

    // The ephemeral key.
    let off_curve = {
        let token = encrypt(fx, "off-curve", &spec(&r.p256, "ECDH-ES", "A128GCM"));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let header = String::from_utf8(crate::jose::b64_decode(&parts[0])).expect("utf-8");
        // y + 1 in its last byte: almost surely off the curve (checked by the decrypting side).
        let start = header.find(r#""y":""#).expect("y") + 5;
        let end = start + header[start..].find('"').expect("end");
        let mut y = crate::jose::b64_decode(&header[start..end]);
        let last = y.len() - 1;
        y[last] ^= 1;
        let header = format!("{}{}{}", &header[..start], b64(&y), &header[end..]);
        parts[0] = b64(header.as_bytes());
        parts.join(".")
    };
    b.push(
        "epk",
        "p256-point-off-curve",
        true,
        "RFC 7518 §4.6 (validate the epk); NIST SP 800-56A §5.6.2.3",
        "the epk is not on P-256 (an invalid-curve attack would recover the key); the header change also breaks the AAD, so this case checks only that the token is refused",
        off_curve,
        p256_key(),
        invalid("decryption-failed"),
    );
    // Encrypted with the key an implementation that skips the check would derive (Z = 0), so
    // only the check refuses it.
    let low_order = {
        let header = r#"{"alg":"ECDH-ES","enc":"A128GCM","cty":"JWT","kid":"rs-1","epk":{"kty":"OKP","crv":"X25519","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}"#;
        let protected = b64(header.as_bytes());
        let cek = concat_kdf(&[0u8; 32], "A128GCM", b"", b"", 16);
        let iv = Drbg::bytes::<12>(fx.seed, "jwe/x25519-low-order/iv");
        let (ciphertext, tag) = seal("A128GCM", &cek, &iv, protected.as_bytes(), inner.as_bytes());
        format!(
            "{protected}..{}.{}.{}",
            b64(&iv),
            b64(&ciphertext),
            b64(&tag)
        )
    };
    b.push(
        "epk",
        "x25519-low-order",
        true,
        "RFC 8037 §3.2; RFC 7748 §6.1 (all-zero shared secret)",
        "an X25519 epk of low order (u = 0): the shared secret is all zeros; the token is encrypted with the key Z = 0 gives, so only the check refuses it",
        low_order,
        vec![r.x25519.jwk("rs-1", "ECDH-ES")],
        invalid("decryption-failed"),
    );

    // Not nested.
    for (name, plaintext, what) in [
        (
            "json-claims",
            r#"{"sub":"alice"}"#.to_owned(),
            "bare JSON claims",
        ),
        (
            "jwe-inside",
            encrypt(fx, "inner-jwe", &spec(&r.p256, "ECDH-ES", "A128GCM")),
            "a JWE inside the JWE",
        ),
    ] {
        let token = encrypt(
            fx,
            name,
            &Spec {
                plaintext,
                ..spec(&r.p256, "ECDH-ES", "A128GCM")
            },
        );
        b.push(
            "not-nested",
            name,
            true,
            "RFC 7519 §5.2, §7.2 step 8",
            &format!("{what}: the content of a nested JWT is a signed JWT"),
            token,
            p256_key(),
            invalid("not-nested"),
        );
    }
    b.cases
}
