//! The keys of encrypted access tokens (RFC 7516, RFC 7518 §4.3, §4.6, RFC 8037 §3.2): a
//! resource server's private [`DecryptionKey`], and its public half, the [`EncryptionKey`] an
//! issuer encrypts tokens to (published with [`encryption_jwks`]).
//!
//! A key serves one algorithm only (RFC 8725 §3.1): its JWK must name it in `alg`, and the
//! algorithm must fit the key — the ECDH-ES family an EC P-256/P-384 or OKP X25519 key,
//! `RSA-OAEP-256` an RSA key of 2048–8192 bits. Keys are read strictly, like signature keys
//! (`src/jose/jwk.rs`): private members are never copied out of the caller's text, only decoded
//! into memory zeroized on drop.

use core::fmt;

use serde_json::Value;
use zeroize::Zeroizing;

use crate::error::{Error, JoseError, JweError, KeyError};
use crate::jose::json::{self, Object, SecretMembers};
use crate::jose::jwe::key_management::{KeyManagement, RecipientPrivateKey, RecipientPublicKey};
use crate::jose::jwe::{compact, decryption, nested};
use crate::jose::jwk::{self, PublicParts, MAX_RSA_BITS, MIN_RSA_BITS};
use crate::jose::key_type::EcCurve;
use crate::jose::secret::Secret;
use crate::jose::thumbprint::Thumbprint;
use crate::jose::{base64url, pem, signing_key};

/// Largest JWK text accepted (an RSA-8192 private JWK is about 6.3 KiB).
const MAX_JWK_LEN: usize = 16 * 1024;

/// RSA modulus size [`DecryptionKey::generate`] makes, in bits.
const RSA_GENERATION_BITS: usize = 2048;

/// The X25519 algorithm identifier in PKCS#8 (RFC 8410 §3).
const X25519_OID: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.3.101.110");

/// A curve for the ECDH-ES key management algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EcdhCurve {
    /// NIST P-256 (`kty: EC`, `crv: P-256`, RFC 7518 §6.2.1.1).
    P256,
    /// NIST P-384 (`kty: EC`, `crv: P-384`).
    P384,
    /// X25519 (`kty: OKP`, `crv: X25519`, RFC 8037 §2).
    X25519,
}

impl EcdhCurve {
    /// The JWK `crv` name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
            Self::X25519 => "X25519",
        }
    }
}

/// A resource server's private key for decrypting encrypted access tokens, with the one
/// [`KeyManagement`] algorithm it serves and an optional `kid`.
///
/// The secret is zeroized when the key is dropped and never printed: `Debug` shows the
/// algorithm, the `kid` and the key type only. Export it only through
/// [`to_jwk`](Self::to_jwk), which returns a [`Zeroizing`] string.
///
/// RSA decryption on the default backend uses the `rsa` crate, blinded but not constant-time
/// (RUSTSEC-2023-0071); with feature `aws-lc` it is aws-lc's, constant-time. Prefer the
/// ECDH-ES algorithms, or `aws-lc` for RSA.
pub struct DecryptionKey {
    inner: decryption::DecryptionKey,
}

/// The public half of a [`DecryptionKey`]: what an issuer encrypts access tokens to, with the
/// algorithm it must be used with and the recipient's `kid`.
#[derive(Clone)]
pub struct EncryptionKey {
    kid: Option<String>,
    alg: KeyManagement,
    key: RecipientPublicKey,
}

impl DecryptionKey {
    /// Generates a new key for `alg` from the operating system's random number generator: on
    /// `crv` for the ECDH-ES algorithms (required), RSA of 2048 bits for `RSA-OAEP-256` (`crv`
    /// must be `None`; generation takes a second or so).
    ///
    /// [`Error::InvalidArgument`]`("alg")` for the legacy `RSA-OAEP` (no new keys for it);
    /// [`Error::InvalidArgument`]`("crv")` when `crv` does not fit `alg`;
    /// [`Error::Randomness`] when the generator fails.
    pub fn generate(alg: KeyManagement, crv: Option<EcdhCurve>) -> Result<Self, Error> {
        use p256::elliptic_curve::Generate;
        let rng = &mut getrandom::SysRng;
        let key = match (alg, crv) {
            (KeyManagement::RsaOaep, _) => return Err(Error::InvalidArgument("alg")),
            (KeyManagement::RsaOaep256, None) => RecipientPrivateKey::Rsa(Box::new(
                rsa::PrivateKey::new(rng, RSA_GENERATION_BITS).map_err(|_| Error::Randomness)?,
            )),
            (KeyManagement::RsaOaep256, Some(_)) | (_, None) => {
                return Err(Error::InvalidArgument("crv"))
            }
            (_, Some(EcdhCurve::P256)) => RecipientPrivateKey::P256(
                p256::SecretKey::try_generate_from_rng(rng).map_err(|_| Error::Randomness)?,
            ),
            (_, Some(EcdhCurve::P384)) => RecipientPrivateKey::P384(
                p384::SecretKey::try_generate_from_rng(rng).map_err(|_| Error::Randomness)?,
            ),
            (_, Some(EcdhCurve::X25519)) => {
                let mut seed = Zeroizing::new([0u8; 32]);
                getrandom::fill(seed.as_mut()).map_err(|_| Error::Randomness)?;
                RecipientPrivateKey::X25519(x25519_dalek::StaticSecret::from(*seed))
            }
        };
        Ok(Self::new(key, alg, None))
    }

    fn new(key: RecipientPrivateKey, alg: KeyManagement, kid: Option<String>) -> Self {
        Self {
            inner: decryption::DecryptionKey { kid, alg, key },
        }
    }

    /// Reads a private JWK: EC P-256/P-384 (`x`, `y`, `d`), OKP X25519 (RFC 8037 §2: `x`, `d`,
    /// 32 bytes each) or RSA of 2048–8192 bits (`n`, `e`, `d`, `p`, `q`, `dp`, `dq`, `qi`;
    /// multi-prime keys refused), with `kid` optional.
    ///
    /// Refused, each with its [`KeyError`]: no `alg` ([`KeyError::MissingMember`]`("alg")`);
    /// an `alg` that is not `ECDH-ES`, `ECDH-ES+A128KW`, `ECDH-ES+A256KW` or `RSA-OAEP-256`, or
    /// does not fit the key ([`KeyError::WrongAlgorithm`]; the legacy `RSA-OAEP` is read only
    /// by [`legacy_rsa_oaep_from_jwk`](Self::legacy_rsa_oaep_from_jwk)); a `use` other than `enc`, or
    /// `key_ops` without `decrypt`/`unwrapKey` (RSA) or `deriveKey`/`deriveBits` (ECDH-ES)
    /// ([`KeyError::WrongUse`]); another `kty` or curve (P-521, Ed25519:
    /// [`KeyError::UnsupportedCurve`]); a private part that does not match the public members,
    /// or a private member written with JSON escapes ([`KeyError::InvalidPrivateKey`]); a
    /// public JWK ([`KeyError::MissingMember`]`("d")`).
    ///
    /// The private members are never copied out of `jwk` (only decoded, into memory zeroized
    /// on drop). Keep `jwk` itself in a [`Zeroizing`] string.
    pub fn from_jwk(jwk: &str) -> Result<Self, KeyError> {
        let key = Self::read_jwk(jwk)?;
        if key.algorithm() == KeyManagement::RsaOaep {
            return Err(KeyError::WrongAlgorithm);
        }
        Ok(key)
    }

    /// **Legacy opt-in.** Reads a private RSA JWK whose `alg` is `RSA-OAEP` (SHA-1, RFC 7518
    /// §4.3), under the rules of [`from_jwk`](Self::from_jwk): a guard holding the key
    /// decrypts tokens an authorization server encrypts with `RSA-OAEP` (some only offer it).
    /// Without such a key, every `RSA-OAEP` token is refused before any decryption work
    /// ([`JweError::Refused`](crate::JweError::Refused)`("RSA-OAEP")`). OAEP with SHA-1 has no
    /// known practical break, but SHA-1 is deprecated; prefer `RSA-OAEP-256` or ECDH-ES, and
    /// keybound itself never encrypts with `RSA-OAEP`.
    ///
    /// [`KeyError::WrongAlgorithm`] for any other `alg`.
    pub fn legacy_rsa_oaep_from_jwk(jwk: &str) -> Result<Self, KeyError> {
        let key = Self::read_jwk(jwk)?;
        if key.algorithm() != KeyManagement::RsaOaep {
            return Err(KeyError::WrongAlgorithm);
        }
        Ok(key)
    }

    /// A private JWK for any supported `alg`, the legacy one included.
    fn read_jwk(jwk: &str) -> Result<Self, KeyError> {
        let (object, secrets) = parse(jwk)?;
        let read = read_public(&object, Role::Decrypt)?;
        let private = jwk::read_private_members(&secrets, read.public.is_rsa_key())?;
        let key = match &read.parts {
            PublicParts::Ec { curve, .. } => {
                let d = base64url::decode_secret(private.d).map_err(invalid)?;
                if d.len() != curve.coordinate_len() {
                    return Err(KeyError::InvalidPrivateKey);
                }
                match curve {
                    EcCurve::P256 => {
                        RecipientPrivateKey::P256(p256::SecretKey::from_slice(&d).map_err(invalid)?)
                    }
                    EcCurve::P384 => {
                        RecipientPrivateKey::P384(p384::SecretKey::from_slice(&d).map_err(invalid)?)
                    }
                    EcCurve::P521 => return Err(KeyError::UnsupportedCurve),
                }
            }
            // X25519 is read as `Ed25519 { x }` parts (see `read_public`).
            PublicParts::Ed25519 { .. } => {
                let d = base64url::decode_secret(private.d).map_err(invalid)?;
                let mut seed = Zeroizing::new([0u8; 32]);
                if d.len() != seed.len() {
                    return Err(KeyError::InvalidPrivateKey);
                }
                seed.copy_from_slice(&d);
                RecipientPrivateKey::X25519(x25519_dalek::StaticSecret::from(*seed))
            }
            PublicParts::Rsa { .. } => {
                match signing_key::secret_from_members(&read.parts, &private)? {
                    Secret::Rsa(key) => RecipientPrivateKey::Rsa(key),
                    _ => return Err(KeyError::InvalidPrivateKey),
                }
            }
        };
        // d·G = (x, y); X25519(d, 9) = x; for RSA, n and e are the key's own by construction.
        if public_members(&public_of(&key)) != public_members(&read.public) {
            return Err(KeyError::InvalidPrivateKey);
        }
        Ok(Self::new(key, read.alg, read.kid))
    }

    /// Reads a PEM private key for `alg`: PKCS#8 (`BEGIN PRIVATE KEY`: EC P-256/P-384, X25519,
    /// RSA), SEC1 (`BEGIN EC PRIVATE KEY`: P-256/P-384) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    /// Encrypted keys are refused. The DER is decoded once, into memory zeroized on drop.
    ///
    /// [`KeyError::InvalidPem`] for anything else (P-521, Ed25519, …);
    /// [`KeyError::WrongAlgorithm`] when `alg` does not fit the key;
    /// [`KeyError::RsaModulusSize`] (and the other RSA limits of JWKs) for an RSA key outside
    /// 2048–8192 bits.
    ///
    /// Naming the legacy [`KeyManagement::RsaOaep`] here is its explicit opt-in, as
    /// [`legacy_rsa_oaep_from_jwk`](Self::legacy_rsa_oaep_from_jwk) is for JWKs.
    pub fn from_pem(pem: &str, alg: KeyManagement) -> Result<Self, KeyError> {
        let (label, der) = pem::private_der(pem)?;
        let key = match label {
            "PRIVATE KEY" => pkcs8_private(&der)?,
            "EC PRIVATE KEY" => {
                if let Ok(key) = p256::SecretKey::from_sec1_der(&der) {
                    RecipientPrivateKey::P256(key)
                } else if let Ok(key) = p384::SecretKey::from_sec1_der(&der) {
                    RecipientPrivateKey::P384(key)
                } else {
                    return Err(KeyError::InvalidPem);
                }
            }
            "RSA PRIVATE KEY" => {
                use rsa::pkcs1::DecodeRsaPrivateKey;
                let key =
                    rsa::PrivateKey::from_pkcs1_der(&der).map_err(|_| KeyError::InvalidPem)?;
                RecipientPrivateKey::Rsa(Box::new(key))
            }
            _ => return Err(KeyError::InvalidPem),
        };
        let public = public_of(&key);
        if let RecipientPublicKey::Rsa(rsa) = &public {
            let (n, e) = rsa_numbers(rsa);
            PublicParts::check_rsa_limits(&n, &e)?;
        }
        check_fit(alg, &public)?;
        Ok(Self::new(key, alg, None))
    }

    /// This key with `kid`, which tokens encrypted to it name in their header.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.inner.kid = Some(kid.into());
        self
    }

    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.inner.kid.as_deref()
    }

    /// The one algorithm this key decrypts.
    pub fn algorithm(&self) -> KeyManagement {
        self.inner.alg
    }

    /// The public half, with the same `kid` and algorithm: what issuers encrypt to.
    pub fn encryption_key(&self) -> EncryptionKey {
        EncryptionKey {
            kid: self.inner.kid.clone(),
            alg: self.inner.alg,
            key: public_of(&self.inner.key),
        }
    }

    /// The private JWK, with `kid` (if any), `use: enc`, `alg` and the private members, in
    /// memory that is zeroized on drop. Treat it as the secret it is.
    pub fn to_jwk(&self) -> Zeroizing<String> {
        let public = self.encryption_key().to_jwk();
        // Room for every private member up front: a reallocation would leave a copy of the
        // secret in freed memory (RSA: see `SigningKey::to_jwk`, 6 × the modulus bytes).
        let secret_room = match &self.inner.key {
            RecipientPrivateKey::Rsa(key) => {
                use rsa::traits::PublicKeyParts;
                6 * key.size()
            }
            _ => 128,
        };
        let mut out = Zeroizing::new(String::with_capacity(public.len() + secret_room));
        // `public` ends with `}`; continue the object before its closing brace.
        out.push_str(&public[..public.len() - 1]);
        let mut member =
            |name: &str, bytes: &[u8]| signing_key::push_secret_member(&mut out, name, bytes);
        match &self.inner.key {
            RecipientPrivateKey::P256(key) => member("d", &Zeroizing::new(key.to_bytes())),
            RecipientPrivateKey::P384(key) => member("d", &Zeroizing::new(key.to_bytes())),
            RecipientPrivateKey::X25519(key) => member("d", key.as_bytes()),
            RecipientPrivateKey::Rsa(key) => signing_key::push_rsa_private_members(&mut out, key),
        }
        out.push('}');
        out
    }

    /// The key as the JWE layer uses it, by value (the guard keeps a list of them).
    pub(crate) fn into_nested(self) -> decryption::DecryptionKey {
        self.inner
    }
}

impl fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptionKey")
            .field("alg", &self.inner.alg.as_str())
            .field("kid", &self.inner.kid)
            .field("key", &key_kind(&public_of(&self.inner.key)))
            .finish_non_exhaustive()
    }
}

impl EncryptionKey {
    /// Reads a public JWK: EC P-256/P-384 (`x`, `y`: a point on the curve), OKP X25519 (`x`,
    /// 32 bytes, not of low order) or RSA of 2048–8192 bits (`n`, `e`), with `kid` optional.
    ///
    /// The rules of [`DecryptionKey::from_jwk`] apply (`alg` required and fitting the key,
    /// `use` absent or `enc`), with `key_ops`, if present, holding `encrypt` or `wrapKey` (RSA)
    /// or one of those or `deriveKey`/`deriveBits` (ECDH-ES). Any private member (`d`, …) is
    /// refused: [`KeyError::PrivateKey`]. The legacy `RSA-OAEP` is refused
    /// ([`KeyError::WrongAlgorithm`]): keybound never encrypts with it.
    pub fn from_jwk(jwk: &str) -> Result<Self, KeyError> {
        let (object, secrets) = parse(jwk)?;
        if !secrets.is_empty() {
            return Err(KeyError::PrivateKey);
        }
        let read = read_public(&object, Role::Encrypt)?;
        if read.alg == KeyManagement::RsaOaep {
            return Err(KeyError::WrongAlgorithm);
        }
        Ok(Self {
            kid: read.kid,
            alg: read.alg,
            key: read.public,
        })
    }

    /// The public JWK: the key's members, then `kid` (if any), `use: enc` and `alg`.
    pub fn to_jwk(&self) -> String {
        let mut out = String::from("{");
        out.push_str(&public_members(&self.key));
        if let Some(kid) = &self.kid {
            out.push_str(r#","kid":"#);
            // `Value`'s `Display` writes the string as escaped JSON, and cannot fail.
            out.push_str(&Value::from(kid.as_str()).to_string());
        }
        out.push_str(r#","use":"enc","alg":""#);
        out.push_str(self.alg.as_str());
        out.push_str("\"}");
        out
    }

    /// The recipient's `kid`, if any: put in the header of tokens encrypted to this key.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key (EC `crv`/`kty`/`x`/`y`, OKP
    /// `crv`/`kty`/`x`, RSA `e`/`kty`/`n`): a stable `kid` for it.
    pub fn thumbprint(&self) -> Thumbprint {
        use p256::elliptic_curve::sec1::ToSec1Point;
        let ec = |crv: &str, point: &[u8]| {
            let (x, y) = coordinates(point);
            Thumbprint::of_ec(crv, x, y)
        };
        match &self.key {
            RecipientPublicKey::P256(key) => ec("P-256", key.to_sec1_point(false).as_bytes()),
            RecipientPublicKey::P384(key) => ec("P-384", key.to_sec1_point(false).as_bytes()),
            RecipientPublicKey::X25519(key) => Thumbprint::of_okp("X25519", key.as_bytes()),
            RecipientPublicKey::Rsa(key) => {
                let (n, e) = rsa_numbers(key);
                Thumbprint::of_rsa(&n, &e)
            }
        }
    }

    /// The one algorithm tokens are encrypted to this key with.
    pub fn algorithm(&self) -> KeyManagement {
        self.alg
    }

    /// The key as the JWE layer uses it.
    pub(crate) fn recipient(&self) -> &RecipientPublicKey {
        &self.key
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("alg", &self.alg.as_str())
            .field("kid", &self.kid)
            .field("key", &key_kind(&self.key))
            .finish_non_exhaustive()
    }
}

/// The JWK Set `{"keys":[…]}` of `keys` (RFC 7517 §5), for a resource server to publish its
/// encryption keys.
pub fn encryption_jwks(keys: &[EncryptionKey]) -> String {
    let keys: Vec<String> = keys.iter().map(EncryptionKey::to_jwk).collect();
    format!(r#"{{"keys":[{}]}}"#, keys.join(","))
}

/// Decrypts the nested JWT `token` (a compact JWE of at most 16 KiB, the default
/// `TokenOptions::max_token_len`) with the key among `keys` it names by `kid` (without a
/// `kid`: the only key, if there is exactly one) and that serves its `alg`, and returns the
/// inner compact JWS **without verifying it** — for tools such as `keybound inspect`. The
/// guard does this itself ([`RequestGuard::with_decryption_key`]) and then verifies the
/// inner token; make no authorization decision on what this returns.
///
/// Every refusal of the header policy comes before any decryption work
/// ([`JweError::Refused`], [`JweError::Malformed`], [`JweError::TooLarge`]);
/// [`JweError::NoKey`] when no key fits; a wrong key, a tampered token or a bad tag is one
/// opaque [`JweError::DecryptionFailed`]; [`JweError::NotNested`] when the plaintext is not a
/// compact JWS.
///
/// [`RequestGuard::with_decryption_key`]: crate::RequestGuard::with_decryption_key
pub fn decrypt_nested_jwt(
    token: &str,
    keys: &[DecryptionKey],
) -> Result<Zeroizing<String>, JweError> {
    nested::decrypt(
        token,
        keys.iter().map(|key| &key.inner),
        compact::MAX_JWE_LEN,
    )
}

/// Which half of a key pair a JWK is read for, to check `key_ops` (RFC 7517 §4.3).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Encrypt,
    Decrypt,
}

/// A JWK's public members, read and validated.
struct ReadPublic {
    alg: KeyManagement,
    kid: Option<String>,
    /// The validated key.
    public: RecipientPublicKey,
    /// The numbers as read; X25519 keys are held as `Ed25519 { x }` (only the variant is
    /// looked at, to choose how to read `d`).
    parts: PublicParts,
}

/// The JWK text parsed strictly, its private members set aside unparsed.
fn parse(text: &str) -> Result<(Object, SecretMembers<'_>), KeyError> {
    if text.len() > MAX_JWK_LEN {
        return Err(KeyError::Malformed(JoseError::Json));
    }
    json::parse_object_with_secrets(
        text.as_bytes(),
        json::DEFAULT_MAX_DEPTH,
        &jwk::PRIVATE_MEMBERS,
    )
    .map_err(KeyError::Malformed)
}

/// The checks every encryption JWK gets: `alg`, `use`, `key_ops`, the key type and its public
/// numbers, the fit of `alg` and key, `kid`.
fn read_public(object: &Object, role: Role) -> Result<ReadPublic, KeyError> {
    let alg = KeyManagement::from_name(jwk::required_str(object, "alg")?)
        .ok_or(KeyError::WrongAlgorithm)?;
    if jwk::optional_str(object, "use")?.is_some_and(|u| u != "enc") {
        return Err(KeyError::WrongUse);
    }
    check_key_ops(object, alg, role)?;
    let (public, parts) = match jwk::required_str(object, "kty")? {
        "EC" => {
            let parts = jwk::read_ec(object)?;
            let PublicParts::Ec { curve, x, y } = &parts else {
                return Err(KeyError::UnsupportedKeyType);
            };
            let mut point = Vec::with_capacity(1 + x.len() + y.len());
            point.push(0x04);
            point.extend_from_slice(x);
            point.extend_from_slice(y);
            let public = match curve {
                EcCurve::P256 => RecipientPublicKey::P256(
                    p256::PublicKey::from_sec1_bytes(&point).map_err(|_| KeyError::InvalidPoint)?,
                ),
                EcCurve::P384 => RecipientPublicKey::P384(
                    p384::PublicKey::from_sec1_bytes(&point).map_err(|_| KeyError::InvalidPoint)?,
                ),
                EcCurve::P521 => return Err(KeyError::UnsupportedCurve),
            };
            (public, parts)
        }
        "OKP" => {
            if jwk::required_str(object, "crv")? != "X25519" {
                return Err(KeyError::UnsupportedCurve);
            }
            let x = base64url::decode_array::<32>(jwk::required_str(object, "x")?)
                .map_err(|_| KeyError::InvalidCoordinate)?;
            let public = x25519_dalek::PublicKey::from(x);
            if is_low_order(&public) {
                return Err(KeyError::InvalidPoint);
            }
            (
                RecipientPublicKey::X25519(public),
                PublicParts::Ed25519 { x },
            )
        }
        "RSA" => {
            let parts = jwk::read_rsa(object)?;
            let PublicParts::Rsa { n, e } = &parts else {
                return Err(KeyError::UnsupportedKeyType);
            };
            PublicParts::check_rsa_limits(n, e)?;
            let key = rsa::PublicKey::new_with_size_limits(
                rsa::BoxedUint::from_be_slice_vartime(n),
                rsa::BoxedUint::from_be_slice_vartime(e),
                MIN_RSA_BITS..=MAX_RSA_BITS,
            )
            .map_err(|_| KeyError::InvalidRsaKey)?;
            (RecipientPublicKey::Rsa(Box::new(key)), parts)
        }
        _ => return Err(KeyError::UnsupportedKeyType),
    };
    check_fit(alg, &public)?;
    let kid = jwk::kid(object)?.map(str::to_owned);
    Ok(ReadPublic {
        alg,
        kid,
        public,
        parts,
    })
}

/// `key_ops`, when present, must allow this half's operation for `alg` (RFC 7517 §4.3).
fn check_key_ops(object: &Object, alg: KeyManagement, role: Role) -> Result<(), KeyError> {
    let Some(ops) = object.get("key_ops") else {
        return Ok(());
    };
    let wanted: &[&str] = match (alg.is_rsa(), role) {
        (true, Role::Decrypt) => &["decrypt", "unwrapKey"],
        (true, Role::Encrypt) => &["encrypt", "wrapKey"],
        (false, Role::Decrypt) => &["deriveKey", "deriveBits"],
        (false, Role::Encrypt) => &["deriveKey", "deriveBits", "encrypt", "wrapKey"],
    };
    let ops = ops.as_array().ok_or(KeyError::InvalidMember("key_ops"))?;
    let mut allowed = false;
    for op in ops {
        let op = op.as_str().ok_or(KeyError::InvalidMember("key_ops"))?;
        allowed |= wanted.contains(&op);
    }
    if allowed {
        Ok(())
    } else {
        Err(KeyError::WrongUse)
    }
}

/// The ECDH-ES family needs an EC or X25519 key, `RSA-OAEP-256` (and `RSA-OAEP`) an RSA key.
fn check_fit(alg: KeyManagement, key: &RecipientPublicKey) -> Result<(), KeyError> {
    if alg.is_rsa() == matches!(key, RecipientPublicKey::Rsa(_)) {
        Ok(())
    } else {
        Err(KeyError::WrongAlgorithm)
    }
}

/// Whether an X25519 public key has small order: the shared secret with any (clamped, so
/// cofactor-clearing) scalar would be all zeros (RFC 7748 §6.1).
fn is_low_order(public: &x25519_dalek::PublicKey) -> bool {
    let probe = x25519_dalek::StaticSecret::from([1u8; 32]);
    !probe.diffie_hellman(public).was_contributory()
}

/// A PKCS#8 private key: P-256, P-384, X25519 or RSA.
fn pkcs8_private(der: &[u8]) -> Result<RecipientPrivateKey, KeyError> {
    use pkcs8::DecodePrivateKey;
    if let Ok(key) = p256::SecretKey::from_pkcs8_der(der) {
        return Ok(RecipientPrivateKey::P256(key));
    }
    if let Ok(key) = p384::SecretKey::from_pkcs8_der(der) {
        return Ok(RecipientPrivateKey::P384(key));
    }
    if let Ok(key) = rsa::PrivateKey::from_pkcs8_der(der) {
        return Ok(RecipientPrivateKey::Rsa(Box::new(key)));
    }
    let info = pkcs8::PrivateKeyInfoRef::try_from(der).map_err(|_| KeyError::InvalidPem)?;
    if info.algorithm.oid != X25519_OID || info.algorithm.parameters.is_some() {
        return Err(KeyError::InvalidPem);
    }
    // RFC 8410 §7: the private key is itself a DER OCTET STRING of 32 bytes.
    let [0x04, 0x20, bytes @ ..] = info.private_key.as_bytes() else {
        return Err(KeyError::InvalidPem);
    };
    let mut seed = Zeroizing::new([0u8; 32]);
    if bytes.len() != seed.len() {
        return Err(KeyError::InvalidPem);
    }
    seed.copy_from_slice(bytes);
    let secret = x25519_dalek::StaticSecret::from(*seed);
    if let Some(public) = info.public_key {
        let derived = x25519_dalek::PublicKey::from(&secret);
        if public.as_bytes() != Some(derived.as_bytes().as_slice()) {
            return Err(KeyError::InvalidPrivateKey);
        }
    }
    Ok(RecipientPrivateKey::X25519(secret))
}

/// The public half of a private key.
fn public_of(key: &RecipientPrivateKey) -> RecipientPublicKey {
    match key {
        RecipientPrivateKey::P256(key) => RecipientPublicKey::P256(key.public_key()),
        RecipientPrivateKey::P384(key) => RecipientPublicKey::P384(key.public_key()),
        RecipientPrivateKey::X25519(key) => {
            RecipientPublicKey::X25519(x25519_dalek::PublicKey::from(key))
        }
        RecipientPrivateKey::Rsa(key) => RecipientPublicKey::Rsa(Box::new(key.to_public_key())),
    }
}

/// RSA `n` and `e`, big-endian without leading zero octets.
fn rsa_numbers(key: &rsa::PublicKey) -> (Vec<u8>, Vec<u8>) {
    use rsa::traits::PublicKeyParts;
    (
        key.n().to_be_bytes_trimmed_vartime().into_vec(),
        key.e().to_be_bytes_trimmed_vartime().into_vec(),
    )
}

/// `x` and `y` of the uncompressed point `04 ‖ x ‖ y` (both of the curve's length).
fn coordinates(point: &[u8]) -> (&[u8], &[u8]) {
    let both = point.get(1..).unwrap_or_default();
    both.split_at(both.len() / 2)
}

/// The key's public JWK members, without braces, in the order RFC 7518 and RFC 8037 list them.
fn public_members(key: &RecipientPublicKey) -> String {
    use p256::elliptic_curve::sec1::ToSec1Point;
    let ec = |crv: &str, point: &[u8]| {
        let (x, y) = coordinates(point);
        format!(
            r#""kty":"EC","crv":"{crv}","x":"{}","y":"{}""#,
            base64url::encode(x),
            base64url::encode(y)
        )
    };
    match key {
        RecipientPublicKey::P256(key) => ec("P-256", key.to_sec1_point(false).as_bytes()),
        RecipientPublicKey::P384(key) => ec("P-384", key.to_sec1_point(false).as_bytes()),
        RecipientPublicKey::X25519(key) => format!(
            r#""kty":"OKP","crv":"X25519","x":"{}""#,
            base64url::encode(key.as_bytes())
        ),
        RecipientPublicKey::Rsa(key) => {
            let (n, e) = rsa_numbers(key);
            format!(
                r#""kty":"RSA","n":"{}","e":"{}""#,
                base64url::encode(&n),
                base64url::encode(&e)
            )
        }
    }
}

/// The key's type, for `Debug`.
fn key_kind(key: &RecipientPublicKey) -> &'static str {
    match key {
        RecipientPublicKey::P256(_) => "EC P-256",
        RecipientPublicKey::P384(_) => "EC P-384",
        RecipientPublicKey::X25519(_) => "OKP X25519",
        RecipientPublicKey::Rsa(_) => "RSA",
    }
}

/// Any decoding failure of a private member.
fn invalid<E>(_: E) -> KeyError {
    KeyError::InvalidPrivateKey
}

impl RecipientPublicKey {
    fn is_rsa_key(&self) -> bool {
        matches!(self, Self::Rsa(_))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use serde_json::{json, Map};

    use super::*;
    use crate::error::JweError;
    use crate::jose::algorithm::Algorithm;
    use crate::jose::jwe::content_encryption::ContentEncryption;
    use crate::jose::jwe::test_data::{data, text};
    use crate::jose::signing_key::SigningKey;

    /// A signed-looking compact JWS (the JWE layer never verifies it).
    const INNER: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

    const ECDH: [KeyManagement; 3] = [
        KeyManagement::EcdhEs,
        KeyManagement::EcdhEsA128Kw,
        KeyManagement::EcdhEsA256Kw,
    ];
    const CURVES: [EcdhCurve; 3] = [EcdhCurve::P256, EcdhCurve::P384, EcdhCurve::X25519];

    /// One RSA-OAEP-256 key for the whole suite (generation is slow), as its private JWK.
    fn rsa_jwk() -> &'static str {
        static JWK: OnceLock<Zeroizing<String>> = OnceLock::new();
        JWK.get_or_init(|| {
            DecryptionKey::generate(KeyManagement::RsaOaep256, None)
                .unwrap()
                .with_kid("rsa")
                .to_jwk()
        })
    }

    fn p256_jwk() -> Zeroizing<String> {
        DecryptionKey::generate(KeyManagement::EcdhEs, Some(EcdhCurve::P256))
            .unwrap()
            .with_kid("k1")
            .to_jwk()
    }

    fn x25519_jwk() -> Zeroizing<String> {
        DecryptionKey::generate(KeyManagement::EcdhEs, Some(EcdhCurve::X25519))
            .unwrap()
            .to_jwk()
    }

    /// `jwk` with `change` applied to its members.
    fn edit(jwk: &str, change: impl FnOnce(&mut Map<String, Value>)) -> String {
        let mut value: Value = serde_json::from_str(jwk).unwrap();
        change(value.as_object_mut().unwrap());
        value.to_string()
    }

    /// `jwk` without its private members.
    fn public(jwk: &str) -> String {
        edit(jwk, |m| {
            for name in jwk::PRIVATE_MEMBERS {
                m.remove(name);
            }
        })
    }

    /// `inner` encrypted to `to` and decrypted with `with`.
    fn through(to: &EncryptionKey, with: DecryptionKey) -> Result<Zeroizing<String>, JweError> {
        let token = nested::encrypt(
            INNER,
            to.recipient(),
            to.kid(),
            to.algorithm(),
            ContentEncryption::A256Gcm,
        )?;
        decrypt_nested_jwt(&token, &[with])
    }

    /// An encryption key's thumbprint is RFC 7638's over its required members: the same as a
    /// signature key's for the same EC or RSA numbers, and `{"crv":"X25519","kty":"OKP","x"}`
    /// for X25519.
    #[test]
    fn jwe_encryption_key_thumbprints() {
        use sha2::Digest;
        for jwk in [p256_jwk().to_string(), rsa_jwk().to_owned()] {
            let key = DecryptionKey::from_jwk(&jwk).unwrap().encryption_key();
            let signature_jwk = edit(&public(&jwk), |m| {
                for name in ["alg", "use", "kid"] {
                    m.remove(name);
                }
            });
            let expected = crate::PublicKey::from_jwk(&signature_jwk)
                .unwrap()
                .thumbprint();
            assert_eq!(key.thumbprint(), expected);
        }
        let x25519 = DecryptionKey::from_jwk(&x25519_jwk())
            .unwrap()
            .encryption_key();
        let public: Value = serde_json::from_str(&x25519.to_jwk()).unwrap();
        let members = format!(
            r#"{{"crv":"X25519","kty":"OKP","x":"{}"}}"#,
            public["x"].as_str().unwrap()
        );
        let digest: [u8; 32] = sha2::Sha256::digest(members.as_bytes()).into();
        assert_eq!(x25519.thumbprint(), Thumbprint::from_bytes(digest));
    }

    /// The legacy SHA-1 `RSA-OAEP` needs its explicit opt-in: `from_jwk` and
    /// `EncryptionKey::from_jwk` refuse it, `legacy_rsa_oaep_from_jwk` reads only it, no key
    /// is generated for it, and keybound never encrypts with it.
    #[test]
    fn jwe_legacy_rsa_oaep_is_opt_in_and_decrypt_only() {
        let legacy = edit(rsa_jwk(), |m| {
            m.insert("alg".into(), Value::from("RSA-OAEP"));
        });
        assert_eq!(
            DecryptionKey::from_jwk(&legacy).err(),
            Some(KeyError::WrongAlgorithm)
        );
        let key = DecryptionKey::legacy_rsa_oaep_from_jwk(&legacy).unwrap();
        assert_eq!(key.algorithm(), KeyManagement::RsaOaep);
        assert_eq!(
            DecryptionKey::legacy_rsa_oaep_from_jwk(rsa_jwk()).err(),
            Some(KeyError::WrongAlgorithm)
        );
        assert_eq!(
            EncryptionKey::from_jwk(&public(&legacy)).err(),
            Some(KeyError::WrongAlgorithm)
        );
        assert_eq!(
            DecryptionKey::generate(KeyManagement::RsaOaep, None).err(),
            Some(Error::InvalidArgument("alg"))
        );
        let public_half = key.encryption_key();
        assert_eq!(
            nested::encrypt(
                INNER,
                public_half.recipient(),
                None,
                public_half.algorithm(),
                ContentEncryption::A256Gcm
            )
            .err(),
            Some(JweError::Refused("RSA-OAEP"))
        );
        // The PEM reader takes the algorithm from its caller: naming RSA-OAEP is the opt-in.
        let pem = text("openssl/rsa2048_pkcs8.pem");
        let from_pem = DecryptionKey::from_pem(&pem, KeyManagement::RsaOaep).unwrap();
        assert_eq!(from_pem.algorithm(), KeyManagement::RsaOaep);
        // Its JWK says RSA-OAEP and reads back only through the opt-in.
        let jwk = key.to_jwk();
        assert!(jwk.contains(r#""alg":"RSA-OAEP""#));
        assert!(DecryptionKey::legacy_rsa_oaep_from_jwk(&jwk).is_ok());
    }

    /// `decrypt_nested_jwt` picks the key the token names among several, and refuses a
    /// token no key fits.
    #[test]
    fn jwe_decrypt_nested_jwt_selects_by_kid() {
        let make = |kid: &str| {
            DecryptionKey::generate(KeyManagement::EcdhEsA128Kw, Some(EcdhCurve::P256))
                .unwrap()
                .with_kid(kid)
        };
        let (old, new, other) = (make("old"), make("new"), make("other"));
        let token = nested::encrypt(
            INNER,
            new.encryption_key().recipient(),
            Some("new"),
            KeyManagement::EcdhEsA128Kw,
            ContentEncryption::A128Gcm,
        )
        .unwrap();
        let keys = [old, new];
        assert_eq!(decrypt_nested_jwt(&token, &keys).unwrap().as_str(), INNER);
        assert_eq!(
            decrypt_nested_jwt(&token, &[other]).unwrap_err(),
            JweError::NoKey
        );
        assert_eq!(
            decrypt_nested_jwt(&token, &[]).unwrap_err(),
            JweError::NoKey
        );
    }

    #[test]
    fn jwe_generate_jwk_round_trip_for_every_algorithm_and_curve() {
        let mut generated = vec![DecryptionKey::from_jwk(rsa_jwk()).unwrap()];
        for alg in ECDH {
            for crv in CURVES {
                let key = DecryptionKey::generate(alg, Some(crv)).unwrap();
                generated.push(key.with_kid(format!("{}-{}", alg.as_str(), crv.as_str())));
            }
        }
        for key in generated {
            let jwk = key.to_jwk();
            let name = format!("{key:?}");
            assert!(
                jwk.contains(&format!(
                    r#""use":"enc","alg":"{}""#,
                    key.algorithm().as_str()
                )),
                "{name}"
            );
            let parsed = DecryptionKey::from_jwk(&jwk).unwrap();
            assert_eq!(parsed.to_jwk(), jwk, "{name}");
            assert_eq!(
                (parsed.kid(), parsed.algorithm()),
                (key.kid(), key.algorithm())
            );
            let encryption = key.encryption_key();
            // The public JWK is the private one without its private members.
            let as_value = |text: &str| serde_json::from_str::<Value>(text).unwrap();
            assert_eq!(
                as_value(&encryption.to_jwk()),
                as_value(&public(&jwk)),
                "{name}"
            );
            let reread = EncryptionKey::from_jwk(&encryption.to_jwk()).unwrap();
            assert_eq!(reread.to_jwk(), encryption.to_jwk(), "{name}");
            assert_eq!(through(&reread, parsed).unwrap().as_str(), INNER, "{name}");
            // Another key of the same algorithm and kid cannot open it.
            let other = match key.algorithm() {
                KeyManagement::RsaOaep256 => continue,
                alg => DecryptionKey::new(
                    RecipientPrivateKey::P256(p256::SecretKey::from_slice(&[7; 32]).unwrap()),
                    alg,
                    key.kid().map(str::to_owned),
                ),
            };
            assert!(through(&reread, other).is_err(), "{name}");
        }
    }

    #[test]
    fn jwe_generate_refuses_a_curve_that_does_not_fit() {
        assert_eq!(
            DecryptionKey::generate(KeyManagement::EcdhEs, None).err(),
            Some(Error::InvalidArgument("crv"))
        );
        assert_eq!(
            DecryptionKey::generate(KeyManagement::RsaOaep256, Some(EcdhCurve::P256)).err(),
            Some(Error::InvalidArgument("crv"))
        );
    }

    /// RFC 7520 §5.4 (P-384, ECDH-ES+A128KW) and §5.5 (P-256, ECDH-ES): the recipient keys
    /// have no `alg`, so they are refused as they are; with the example's `alg` they read, and
    /// recover the example's content encryption key.
    #[test]
    fn jwe_rfc7520_recipient_keys() {
        for (file, enc_len) in [
            ("5_4.key_agreement_with_key_wrapping_using_ecdh-es_and_aes-keywrap_with_aes-gcm.json", 16),
            ("5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json", 32),
        ] {
            let case = data(&format!("jose-cookbook/jwe/{file}"));
            let jwk = case["input"]["key"].to_string();
            assert_eq!(
                DecryptionKey::from_jwk(&jwk).err(),
                Some(KeyError::MissingMember("alg")),
                "{file}"
            );
            let with_alg = edit(&jwk, |m| {
                m.insert("alg".into(), case["input"]["alg"].clone());
            });
            let key = DecryptionKey::from_jwk(&with_alg).unwrap();
            assert_eq!(key.kid(), case["input"]["key"]["kid"].as_str(), "{file}");
            assert_eq!(Some(key.algorithm().as_str()), case["input"]["alg"].as_str());
            let protected = &case["encrypting_content"]["protected"];
            let encrypted_key = case["encrypting_key"]["encrypted_key"]
                .as_str()
                .map_or_else(Vec::new, |text| base64url::decode(text).unwrap());
            let cek = key
                .algorithm()
                .unwrap(
                    &key.inner.key,
                    protected["enc"].as_str().unwrap(),
                    enc_len,
                    Some(&protected["epk"]),
                    &[],
                    &[],
                    &encrypted_key,
                )
                .unwrap();
            let expected = case["encrypting_key"]["cek"]
                .as_str()
                .or(case["generated"]["cek"].as_str())
                .unwrap();
            assert_eq!(base64url::encode(&cek), expected, "{file}");
            // The public half reads as an encryption key, and only without `d`.
            let encryption = EncryptionKey::from_jwk(&public(&with_alg)).unwrap();
            assert_eq!(encryption.to_jwk(), key.encryption_key().to_jwk());
            assert_eq!(
                EncryptionKey::from_jwk(&with_alg).err(),
                Some(KeyError::PrivateKey)
            );
        }
    }

    /// The X25519 key of the CFRG curves examples (RFC 8037 §2 form, from the JOSE cookbook's
    /// `curve25519/ecdh-es.json`): no `alg`, so refused as it is; with it, it reads (its `x` is
    /// the public key of its `d`) and round-trips a nested JWT.
    #[test]
    fn jwe_rfc8037_x25519_key() {
        let case: Value = data("jose-cookbook/curve25519/ecdh-es.json");
        let jwk = case["input"]["key"].to_string();
        assert_eq!(
            DecryptionKey::from_jwk(&jwk).err(),
            Some(KeyError::MissingMember("alg"))
        );
        let with_alg = edit(&jwk, |m| {
            m.insert("alg".into(), case["input"]["alg"].clone());
        });
        let key = DecryptionKey::from_jwk(&with_alg).unwrap();
        assert_eq!(key.kid(), Some("Bob"));
        assert_eq!(key.algorithm(), KeyManagement::EcdhEs);
        let encryption = key.encryption_key();
        assert!(encryption
            .to_jwk()
            .contains(r#""x":"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08""#));
        assert_eq!(through(&encryption, key).unwrap().as_str(), INNER);
    }

    #[test]
    fn jwe_alg_is_required_and_must_fit() {
        let ec = p256_jwk();
        let rsa = rsa_jwk();
        let set = |jwk: &str, name: &str, value: Value| {
            let name = name.to_owned();
            edit(jwk, move |m| {
                m.insert(name, value);
            })
        };
        let no_alg = edit(&ec, |m| {
            m.remove("alg");
        });
        assert_eq!(
            DecryptionKey::from_jwk(&no_alg).err(),
            Some(KeyError::MissingMember("alg"))
        );
        assert_eq!(
            EncryptionKey::from_jwk(&public(&no_alg)).err(),
            Some(KeyError::MissingMember("alg"))
        );
        for alg in [
            "ES256", "RSA-OAEP", "RSA1_5", "dir", "A128KW", "ecdh-es", "none",
        ] {
            let jwk = set(&ec, "alg", json!(alg));
            assert_eq!(
                DecryptionKey::from_jwk(&jwk).err(),
                Some(KeyError::WrongAlgorithm),
                "{alg}"
            );
            assert_eq!(
                EncryptionKey::from_jwk(&public(&jwk)).err(),
                Some(KeyError::WrongAlgorithm),
                "{alg}"
            );
        }
        assert_eq!(
            DecryptionKey::from_jwk(&set(&ec, "alg", json!(1))).err(),
            Some(KeyError::InvalidMember("alg"))
        );
        // alg and key type must fit, both ways.
        for (jwk, alg) in [
            (ec.as_str(), "RSA-OAEP-256"),
            (x25519_jwk().as_str(), "RSA-OAEP-256"),
            (rsa, "ECDH-ES"),
            (rsa, "ECDH-ES+A256KW"),
        ] {
            let jwk = set(jwk, "alg", json!(alg));
            assert_eq!(
                DecryptionKey::from_jwk(&jwk).err(),
                Some(KeyError::WrongAlgorithm),
                "{alg}"
            );
            assert_eq!(
                EncryptionKey::from_jwk(&public(&jwk)).err(),
                Some(KeyError::WrongAlgorithm),
                "{alg}"
            );
        }
        // Every ECDH-ES variant fits an EC key.
        for alg in ECDH {
            assert!(DecryptionKey::from_jwk(&set(&ec, "alg", json!(alg.as_str()))).is_ok());
        }
    }

    #[test]
    fn jwe_use_and_key_ops() {
        let ec = p256_jwk();
        let rsa = rsa_jwk();
        let with = |jwk: &str, name: &str, value: Value| {
            let name = name.to_owned();
            edit(jwk, move |m| {
                m.insert(name, value);
            })
        };
        for jwk in [ec.as_str(), rsa] {
            let no_use = edit(jwk, |m| {
                m.remove("use");
            });
            assert!(DecryptionKey::from_jwk(&no_use).is_ok());
            assert!(EncryptionKey::from_jwk(&public(&no_use)).is_ok());
            for bad in ["sig", "ENC", ""] {
                let jwk = with(jwk, "use", json!(bad));
                assert_eq!(
                    DecryptionKey::from_jwk(&jwk).err(),
                    Some(KeyError::WrongUse),
                    "{bad}"
                );
                assert_eq!(
                    EncryptionKey::from_jwk(&public(&jwk)).err(),
                    Some(KeyError::WrongUse),
                    "{bad}"
                );
            }
        }
        // (key, key_ops, private half reads, public half reads)
        for (jwk, ops, private_ok, public_ok) in [
            (ec.as_str(), json!(["deriveKey"]), true, true),
            (ec.as_str(), json!(["deriveBits"]), true, true),
            (ec.as_str(), json!(["wrapKey"]), false, true),
            (ec.as_str(), json!(["decrypt"]), false, false),
            (ec.as_str(), json!(["sign", "verify"]), false, false),
            (ec.as_str(), json!([]), false, false),
            (rsa, json!(["decrypt"]), true, false),
            (rsa, json!(["unwrapKey"]), true, false),
            (rsa, json!(["encrypt", "wrapKey"]), false, true),
            (rsa, json!(["deriveKey"]), false, false),
            (rsa, json!(["sign"]), false, false),
        ] {
            let jwk = with(jwk, "key_ops", ops.clone());
            let expected = |ok: bool| if ok { None } else { Some(KeyError::WrongUse) };
            assert_eq!(
                DecryptionKey::from_jwk(&jwk).err(),
                expected(private_ok),
                "{ops}"
            );
            assert_eq!(
                EncryptionKey::from_jwk(&public(&jwk)).err(),
                expected(public_ok),
                "{ops}"
            );
        }
        for bad in [json!("decrypt"), json!([1])] {
            assert_eq!(
                DecryptionKey::from_jwk(&with(rsa, "key_ops", bad)).err(),
                Some(KeyError::InvalidMember("key_ops"))
            );
        }
    }

    #[test]
    fn jwe_key_types_and_curves() {
        let signing = |alg| {
            let jwk = SigningKey::generate_for(alg).unwrap().to_jwk();
            edit(&jwk, |m| {
                m.insert("alg".into(), json!("ECDH-ES"));
                m.insert("use".into(), json!("enc"));
            })
        };
        for jwk in [signing(Algorithm::Es512), signing(Algorithm::Ed25519)] {
            assert_eq!(
                DecryptionKey::from_jwk(&jwk).err(),
                Some(KeyError::UnsupportedCurve)
            );
            assert_eq!(
                EncryptionKey::from_jwk(&public(&jwk)).err(),
                Some(KeyError::UnsupportedCurve)
            );
        }
        let x = base64url::encode(&[9; 32]);
        for (jwk, error) in [
            (
                r#"{"kty":"oct","alg":"ECDH-ES","k":"c2VjcmV0"}"#.to_owned(),
                KeyError::PrivateKey,
            ),
            (
                r#"{"kty":"oct","alg":"ECDH-ES"}"#.to_owned(),
                KeyError::UnsupportedKeyType,
            ),
            (
                format!(r#"{{"kty":"OKP","crv":"X448","alg":"ECDH-ES","x":"{x}"}}"#),
                KeyError::UnsupportedCurve,
            ),
            (
                r#"{"kty":"OKP","crv":"X25519","alg":"ECDH-ES","x":"AAAA"}"#.to_owned(),
                KeyError::InvalidCoordinate,
            ),
            // A low-order X25519 point (all zeros): every shared secret would be zero.
            (
                format!(
                    r#"{{"kty":"OKP","crv":"X25519","alg":"ECDH-ES","x":"{}"}}"#,
                    base64url::encode(&[0; 32])
                ),
                KeyError::InvalidPoint,
            ),
        ] {
            assert_eq!(EncryptionKey::from_jwk(&jwk).err(), Some(error), "{jwk}");
        }
        // A point off the curve.
        let off_curve = edit(&public(&p256_jwk()), |m| {
            let y = m["y"].as_str().unwrap();
            let mut bytes = base64url::decode(y).unwrap();
            bytes[31] ^= 1;
            m.insert("y".into(), json!(base64url::encode(&bytes)));
        });
        assert_eq!(
            EncryptionKey::from_jwk(&off_curve).err(),
            Some(KeyError::InvalidPoint)
        );
    }

    #[test]
    fn jwe_rsa_size_limits() {
        let small = rsa::PrivateKey::new(&mut getrandom::SysRng, 1024).unwrap();
        let key = DecryptionKey::new(
            RecipientPrivateKey::Rsa(Box::new(small)),
            KeyManagement::RsaOaep256,
            None,
        );
        let jwk = key.to_jwk();
        assert_eq!(
            DecryptionKey::from_jwk(&jwk).err(),
            Some(KeyError::RsaModulusSize { bits: 1024 })
        );
        assert_eq!(
            EncryptionKey::from_jwk(&public(&jwk)).err(),
            Some(KeyError::RsaModulusSize { bits: 1024 })
        );
        assert_eq!(
            DecryptionKey::from_pem(
                &text("openssl/rsa1024_pkcs8.pem"),
                KeyManagement::RsaOaep256
            )
            .err(),
            Some(KeyError::RsaModulusSize { bits: 1024 })
        );
    }

    #[test]
    fn jwe_private_part_must_match_and_be_unescaped() {
        // A `d` from another key of the same type.
        let swap_d = |jwk: &str, other: &str| {
            let other: Value = serde_json::from_str(other).unwrap();
            edit(jwk, |m| {
                m.insert("d".into(), other["d"].clone());
            })
        };
        for (jwk, other) in [(p256_jwk(), p256_jwk()), (x25519_jwk(), x25519_jwk())] {
            assert_eq!(
                DecryptionKey::from_jwk(&swap_d(&jwk, &other)).err(),
                Some(KeyError::InvalidPrivateKey)
            );
        }
        // RSA: a CRT member that is not the key's own.
        let rsa = rsa_jwk();
        let parsed: Value = serde_json::from_str(rsa).unwrap();
        let wrong_dp = edit(rsa, |m| {
            m.insert("dp".into(), parsed["dq"].clone());
        });
        assert_eq!(
            DecryptionKey::from_jwk(&wrong_dp).err(),
            Some(KeyError::InvalidPrivateKey)
        );
        // `d` of the wrong length.
        let short = edit(&p256_jwk(), |m| {
            m.insert("d".into(), json!(base64url::encode(&[1; 31])));
        });
        assert_eq!(
            DecryptionKey::from_jwk(&short).err(),
            Some(KeyError::InvalidPrivateKey)
        );
        let short = edit(&x25519_jwk(), |m| {
            m.insert("d".into(), json!(base64url::encode(&[1; 31])));
        });
        assert_eq!(
            DecryptionKey::from_jwk(&short).err(),
            Some(KeyError::InvalidPrivateKey)
        );
        // A private member written with a JSON escape (`\u0041` is `A`).
        for jwk in [p256_jwk(), x25519_jwk()] {
            let at = jwk.find(r#""d":""#).unwrap() + 5;
            let c = jwk.as_bytes()[at];
            let escaped = format!("{}\\u{:04x}{}", &jwk[..at], c, &jwk[at + 1..]);
            assert_eq!(
                serde_json::from_str::<Value>(&escaped).unwrap(),
                serde_json::from_str::<Value>(&jwk).unwrap()
            );
            assert_eq!(
                DecryptionKey::from_jwk(&escaped).err(),
                Some(KeyError::InvalidPrivateKey)
            );
        }
        // A public JWK is no decryption key, a private one no encryption key.
        for jwk in [p256_jwk().as_str(), x25519_jwk().as_str(), rsa] {
            assert_eq!(
                DecryptionKey::from_jwk(&public(jwk)).err(),
                Some(KeyError::MissingMember("d"))
            );
            assert_eq!(
                EncryptionKey::from_jwk(jwk).err(),
                Some(KeyError::PrivateKey)
            );
        }
    }

    #[test]
    fn jwe_pem_keys() {
        use p256::pkcs8::EncodePrivateKey;
        let generated_p256 = p256::SecretKey::from_slice(&[3; 32])
            .unwrap()
            .to_pkcs8_pem(pkcs8::LineEnding::LF)
            .unwrap();
        let ecdh = KeyManagement::EcdhEsA256Kw;
        let rsa = KeyManagement::RsaOaep256;
        for (pem, alg, kind) in [
            (generated_p256.to_string(), ecdh, "EC P-256"),
            (text("openssl/p256_sec1_with_params.pem"), ecdh, "EC P-256"),
            (text("openssl/p384_pkcs8.pem"), ecdh, "EC P-384"),
            (text("openssl/x25519_pkcs8.pem"), ecdh, "OKP X25519"),
            (text("openssl/rsa2048_pkcs8.pem"), rsa, "RSA"),
            (text("openssl/rsa2048_pkcs1.pem"), rsa, "RSA"),
        ] {
            let key = DecryptionKey::from_pem(&pem, alg).unwrap().with_kid("pem");
            assert!(format!("{key:?}").contains(kind), "{kind}");
            let encryption = key.encryption_key();
            assert_eq!(through(&encryption, key).unwrap().as_str(), INNER, "{kind}");
            // The other family does not fit.
            let other = if alg == rsa { ecdh } else { rsa };
            assert_eq!(
                DecryptionKey::from_pem(&pem, other).err(),
                Some(KeyError::WrongAlgorithm),
                "{kind}"
            );
        }
        // The X25519 key's public half is the one openssl wrote.
        let spki = pkcs8::Document::from_pem(&text("openssl/x25519_spki.pem"))
            .unwrap()
            .1;
        let x = &spki.as_bytes()[spki.as_bytes().len() - 32..];
        let key = DecryptionKey::from_pem(&text("openssl/x25519_pkcs8.pem"), ecdh).unwrap();
        assert!(key
            .encryption_key()
            .to_jwk()
            .contains(&format!(r#""x":"{}""#, base64url::encode(x))));
        for file in [
            "openssl/ed25519_pkcs8.pem",
            "openssl/p521_pkcs8.pem",
            "openssl/ed448_pkcs8.pem",
            "openssl/p384_encrypted.pem",
            "openssl/p256_spki.pem",
        ] {
            assert_eq!(
                DecryptionKey::from_pem(&text(file), ecdh).err(),
                Some(KeyError::InvalidPem),
                "{file}"
            );
        }
    }

    /// A PKCS#8 v2 X25519 key (RFC 5958 `OneAsymmetricKey`) with its public key: read when the
    /// public key is the private key's, refused otherwise.
    #[test]
    fn jwe_pem_x25519_v2_public_key_must_match() {
        let seed = [5u8; 32];
        let own = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(seed));
        let pem = |public: &[u8; 32]| {
            let mut der = vec![
                0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65,
            ];
            der.extend_from_slice(&[0x6e, 0x04, 0x22, 0x04, 0x20]);
            der.extend_from_slice(&seed);
            der.extend_from_slice(&[0x81, 0x21, 0x00]);
            der.extend_from_slice(public);
            pkcs8::der::pem::encode_string("PRIVATE KEY", pkcs8::LineEnding::LF, &der).unwrap()
        };
        let alg = KeyManagement::EcdhEs;
        assert!(DecryptionKey::from_pem(&pem(own.as_bytes()), alg).is_ok());
        assert_eq!(
            DecryptionKey::from_pem(&pem(&[9; 32]), alg).err(),
            Some(KeyError::InvalidPrivateKey)
        );
    }

    #[test]
    fn jwe_debug_prints_no_secret() {
        let key = DecryptionKey::from_jwk(&p256_jwk()).unwrap();
        let jwk: Value = serde_json::from_str(&key.to_jwk()).unwrap();
        let d = jwk["d"].as_str().unwrap();
        for text in [format!("{key:?}"), format!("{key:#?}")] {
            assert!(!text.contains(d));
            assert!(!text.contains("\"d\""));
        }
        assert_eq!(
            format!("{key:?}"),
            r#"DecryptionKey { alg: "ECDH-ES", kid: Some("k1"), key: "EC P-256", .. }"#
        );
        assert_eq!(
            format!("{:?}", key.encryption_key()),
            r#"EncryptionKey { alg: "ECDH-ES", kid: Some("k1"), key: "EC P-256", .. }"#
        );
        let rsa = DecryptionKey::from_jwk(rsa_jwk()).unwrap();
        assert_eq!(
            format!("{rsa:?}"),
            r#"DecryptionKey { alg: "RSA-OAEP-256", kid: Some("rsa"), key: "RSA", .. }"#
        );
    }

    #[test]
    fn jwe_jwks_and_kids() {
        let quoted = DecryptionKey::generate(KeyManagement::EcdhEs, Some(EcdhCurve::X25519))
            .unwrap()
            .with_kid("a \"quoted\" kid");
        let plain = DecryptionKey::from_jwk(rsa_jwk()).unwrap();
        let keys = [quoted.encryption_key(), plain.encryption_key()];
        let set: Value = serde_json::from_str(&encryption_jwks(&keys)).unwrap();
        let listed = set["keys"].as_array().unwrap();
        assert_eq!(listed.len(), 2);
        for (value, key) in listed.iter().zip(&keys) {
            let read = EncryptionKey::from_jwk(&value.to_string()).unwrap();
            assert_eq!(read.kid(), key.kid());
            assert_eq!(read.algorithm(), key.algorithm());
            assert_eq!(value["use"], "enc");
        }
        assert_eq!(listed[0]["kid"], "a \"quoted\" kid");
        assert_eq!(encryption_jwks(&[]), r#"{"keys":[]}"#);
        // The private JWK keeps the kid too, and an empty kid is refused.
        assert_eq!(
            DecryptionKey::from_jwk(&quoted.to_jwk()).unwrap().kid(),
            Some("a \"quoted\" kid")
        );
        let empty = edit(&p256_jwk(), |m| {
            m.insert("kid".into(), json!(""));
        });
        assert_eq!(
            DecryptionKey::from_jwk(&empty).err(),
            Some(KeyError::InvalidMember("kid"))
        );
    }
}
