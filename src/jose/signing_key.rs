//! Private keys that sign DPoP proofs and access tokens: EC P-256/P-384/P-521, Ed25519, RSA.

use core::fmt;

use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use crate::error::{Error, JoseError, KeyError};
use crate::jose::algorithm::Algorithm;
use crate::jose::backend::SignKey;
use crate::jose::json;
use crate::jose::jwk::{self, KeyRole, PrivateMembers, PublicParts};
use crate::jose::key_type::{EcCurve, KeyType};
use crate::jose::public_key::PublicKey;
use crate::jose::secret::Secret;
use crate::jose::thumbprint::Thumbprint;
use crate::jose::{base64url, key_fixes_algorithm, pem};

/// Largest private JWK text accepted by [`SigningKey::from_jwk`] (an RSA-4096 private JWK is
/// about 3.2 KiB).
const MAX_JWK_LEN: usize = 16 * 1024;

/// RSA modulus sizes [`SigningKey::generate_rsa`] makes.
pub const RSA_GENERATION_BITS: [usize; 3] = [2048, 3072, 4096];

/// A private key and the one algorithm it signs with.
///
/// The secret is zeroized when the key is dropped and never printed: `Debug` shows
/// `SigningKey { .. }`. Export it only through [`SigningKey::to_jwk`], which returns a
/// [`Zeroizing`] string.
///
/// RSA signing with the default (pure-Rust) backend is not constant-time
/// (RUSTSEC-2023-0071); servers that sign with RSA keys should enable the `aws-lc` feature.
pub struct SigningKey {
    secret: Secret,
    alg: Algorithm,
    public: PublicKey,
    backend: SignKey,
}

impl SigningKey {
    /// Generates a new ES256 (P-256) key from the operating system's random number generator.
    pub fn generate() -> Result<Self, Error> {
        Self::generate_for(Algorithm::Es256)
    }

    /// Generates a new ES256 (P-256) key from `rng`.
    pub fn generate_with_rng<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        Self::generate_for_with_rng(Algorithm::Es256, rng)
    }

    /// Generates a new EC or Ed25519 key for `alg` (ES256/ES384/ES512, Ed25519, EdDSA). RSA
    /// keys need a size: use [`generate_rsa`](Self::generate_rsa).
    pub fn generate_for(alg: Algorithm) -> Result<Self, Error> {
        Self::generate_for_with_rng(alg, &mut getrandom::SysRng)
    }

    /// [`generate_for`](Self::generate_for) drawing from `rng`.
    pub fn generate_for_with_rng<R: TryCryptoRng + ?Sized>(
        alg: Algorithm,
        rng: &mut R,
    ) -> Result<Self, Error> {
        use p256::elliptic_curve::Generate;
        let secret = match alg {
            Algorithm::Es256 => Secret::P256(
                p256::ecdsa::SigningKey::try_generate_from_rng(rng)
                    .map_err(|_| Error::Randomness)?,
            ),
            Algorithm::Es384 => Secret::P384(
                p384::ecdsa::SigningKey::try_generate_from_rng(rng)
                    .map_err(|_| Error::Randomness)?,
            ),
            Algorithm::Es512 => Secret::P521(
                p521::ecdsa::SigningKey::try_generate_from_rng(rng)
                    .map_err(|_| Error::Randomness)?,
            ),
            Algorithm::Ed25519 | Algorithm::EdDsa => {
                let mut seed = Zeroizing::new([0u8; 32]);
                rng.try_fill_bytes(seed.as_mut())
                    .map_err(|_| Error::Randomness)?;
                Secret::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
            }
            _ => return Err(Error::InvalidArgument("alg")),
        };
        Ok(Self::from_secret(secret, alg)?)
    }

    /// Generates a new RSA key of `bits` (2048, 3072 or 4096) that signs with `alg` (RS* or
    /// PS*). Takes seconds, more for 4096 bits.
    pub fn generate_rsa(alg: Algorithm, bits: usize) -> Result<Self, Error> {
        Self::generate_rsa_with_rng(alg, bits, &mut getrandom::SysRng)
    }

    /// [`generate_rsa`](Self::generate_rsa) drawing from `rng`.
    pub fn generate_rsa_with_rng<R: TryCryptoRng + ?Sized>(
        alg: Algorithm,
        bits: usize,
        rng: &mut R,
    ) -> Result<Self, Error> {
        if !alg.is_rsa() {
            return Err(Error::InvalidArgument("alg"));
        }
        if !RSA_GENERATION_BITS.contains(&bits) {
            return Err(Error::InvalidArgument("bits"));
        }
        let key = rsa::PrivateKey::new(rng, bits).map_err(|_| Error::Randomness)?;
        Ok(Self::from_secret(Secret::Rsa(Box::new(key)), alg)?)
    }

    fn from_secret(secret: Secret, alg: Algorithm) -> Result<Self, KeyError> {
        let public = PublicKey::from_parts(secret.public_parts(), Some(alg))?;
        let backend = SignKey::new(&secret).ok_or(KeyError::InvalidPrivateKey)?;
        Ok(Self {
            secret,
            alg,
            public,
            backend,
        })
    }

    /// Reads a private JWK: EC (`d`), OKP Ed25519 (`d`, the 32-byte seed) or RSA (`d`, `p`,
    /// `q`, `dp`, `dq`, `qi`; multi-prime keys refused).
    ///
    /// The algorithm is the JWK's `alg`; without one, EC keys sign with their curve's ES*,
    /// Ed25519 keys with `Ed25519`, and RSA keys are refused
    /// ([`KeyError::AlgorithmRequired`]: use
    /// [`from_jwk_with_algorithm`](Self::from_jwk_with_algorithm)). The private part must
    /// match the public members; `use` (if present) must be `sig`, `key_ops` must include
    /// `sign`.
    ///
    /// The private members are never copied out of `jwk` (only decoded, into memory zeroized
    /// on drop), so a member written with JSON escapes is refused
    /// ([`KeyError::InvalidPrivateKey`]). Keep `jwk` itself in a [`Zeroizing`] string.
    pub fn from_jwk(jwk: &str) -> Result<Self, KeyError> {
        Self::read_jwk(jwk, None)
    }

    /// [`from_jwk`](Self::from_jwk) for a key that signs with `alg`, which must fit the key
    /// and equal the JWK's own `alg` if it has one.
    pub fn from_jwk_with_algorithm(jwk: &str, alg: Algorithm) -> Result<Self, KeyError> {
        Self::read_jwk(jwk, Some(alg))
    }

    fn read_jwk(jwk: &str, wanted: Option<Algorithm>) -> Result<Self, KeyError> {
        if jwk.len() > MAX_JWK_LEN {
            return Err(KeyError::Malformed(JoseError::Json));
        }
        // The private members stay in the caller's text: only borrowed, never copied, until
        // decoded into zeroizing buffers.
        let (object, secrets) = json::parse_object_with_secrets(
            jwk.as_bytes(),
            json::DEFAULT_MAX_DEPTH,
            &jwk::PRIVATE_MEMBERS,
        )
        .map_err(KeyError::Malformed)?;
        let read = jwk::read(&object, KeyRole::Sign)?;
        let private = jwk::read_private(&read.public, &secrets)?;
        let alg = choose_algorithm(read.public.key_type(), read.alg, wanted)?;
        let secret = secret_from_members(&read.public, &private)?;
        if secret.public_parts() != read.public {
            return Err(KeyError::InvalidPrivateKey);
        }
        Self::from_secret(secret, alg)
    }

    /// Reads a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`, any supported type), PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE KEY`). Encrypted keys are refused.
    /// The algorithm is chosen as for a JWK without `alg`: RSA keys need
    /// [`from_pem_with_algorithm`](Self::from_pem_with_algorithm). The DER is decoded once,
    /// into memory zeroized on drop.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        Self::read_pem(pem, None)
    }

    /// [`from_pem`](Self::from_pem) for a key that signs with `alg`, which must fit it.
    pub fn from_pem_with_algorithm(pem: &str, alg: Algorithm) -> Result<Self, KeyError> {
        Self::read_pem(pem, Some(alg))
    }

    fn read_pem(text: &str, wanted: Option<Algorithm>) -> Result<Self, KeyError> {
        let secret = pem::private_key(text)?;
        let alg = choose_algorithm(secret.public_parts().key_type(), None, wanted)?;
        Self::from_secret(secret, alg)
    }

    /// The private JWK, with `alg`, `use: sig` and the private members, in memory that is
    /// zeroized on drop. Treat it as the secret it is.
    pub fn to_jwk(&self) -> Zeroizing<String> {
        let public = self.public.to_jwk();
        // Room for every private member up front: a reallocation would leave a copy of the
        // secret in freed memory. RSA members add up to 3.5 × the modulus length in bytes
        // (d, then p, q, dp, dq, qi of half its length), 4.7 × in base64url; 6 × is ample.
        let secret_room = match self.public.key_type() {
            KeyType::Rsa { modulus_bits } => 6 * modulus_bits.div_ceil(8),
            _ => 128,
        };
        let mut out = Zeroizing::new(String::with_capacity(public.len() + 128 + secret_room));
        // `public` ends with `}`; continue the object before its closing brace.
        out.push_str(&public[..public.len() - 1]);
        out.push_str(r#","alg":""#);
        out.push_str(self.alg.as_str());
        out.push_str(r#"","use":"sig""#);
        let mut member = |name: &str, bytes: &[u8]| push_secret_member(&mut out, name, bytes);
        match &self.secret {
            Secret::P256(key) => member("d", &Zeroizing::new(key.to_bytes())),
            Secret::P384(key) => member("d", &Zeroizing::new(key.to_bytes())),
            Secret::P521(key) => member("d", &Zeroizing::new(key.to_bytes())),
            Secret::Ed25519(key) => member("d", key.as_bytes()),
            Secret::Rsa(key) => push_rsa_private_members(&mut out, key),
        }
        out.push('}');
        out
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key's type and size.
    pub fn key_type(&self) -> KeyType {
        self.public.key_type()
    }

    /// The public half, restricted to [`algorithm`](Self::algorithm).
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The RFC 7638 thumbprint of the public half.
    pub fn thumbprint(&self) -> Thumbprint {
        self.public.thumbprint()
    }

    /// Signs `message` with [`algorithm`](Self::algorithm) and returns the JWS signature
    /// (ECDSA `r ‖ s`, Ed25519 64 bytes, RSA the modulus length). With the default backend,
    /// ECDSA nonces are RFC 6979 deterministic; PSS salts come from the operating system.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let signature = self
            .backend
            .sign(&self.secret, self.alg, message)
            .ok_or(Error::Signer)?;
        if signature.len() != self.public.key_type().signature_len() {
            return Err(Error::Signer);
        }
        Ok(signature)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey { .. }")
    }
}

/// The algorithm a private key signs with: the caller's choice, else the JWK's `alg`, else the
/// key type's default. Both given must agree, and the choice must fit the key.
fn choose_algorithm(
    key_type: KeyType,
    jwk_alg: Option<Algorithm>,
    wanted: Option<Algorithm>,
) -> Result<Algorithm, KeyError> {
    let alg = match (wanted, jwk_alg) {
        (Some(wanted), Some(own)) if wanted != own => return Err(KeyError::WrongAlgorithm),
        (Some(alg), _) | (None, Some(alg)) => alg,
        (None, None) => key_type
            .default_algorithm()
            .ok_or(KeyError::AlgorithmRequired)?,
    };
    key_fixes_algorithm::check_jwk_alg(key_type, alg)?;
    Ok(alg)
}

/// Appends `,"name":"base64url(bytes)"` to a JWK being written (the secret text stays in `out`,
/// which the caller zeroizes).
pub(crate) fn push_secret_member(out: &mut String, name: &str, bytes: &[u8]) {
    let text = base64url::encode_secret(bytes);
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":\"");
    out.push_str(&text);
    out.push('"');
}

/// Appends the RSA private JWK members (`d`, `p`, `q`, `dp`, `dq`, `qi`: big-endian, no leading
/// zeros, RFC 7518 §6.3.2) of `key` to `out`; every intermediate is zeroized.
pub(crate) fn push_rsa_private_members(out: &mut String, key: &rsa::PrivateKey) {
    use rsa::traits::PrivateKeyParts;
    let mut number = |name: &str, n: &rsa::BoxedUint| {
        let bytes = secret_be_bytes(n);
        push_secret_member(out, name, trim_leading_zeros(&bytes));
    };
    number("d", key.d());
    if let (Some(p), Some(q)) = (key.primes().first(), key.primes().get(1)) {
        number("p", p.as_ref());
        number("q", q.as_ref());
    }
    if let Some(dp) = key.dp() {
        number("dp", dp);
    }
    if let Some(dq) = key.dq() {
        number("dq", dq);
    }
    if let Some(qi) = key.crt_coefficient().map(Zeroizing::new) {
        number("qi", &qi);
    }
}

/// The big-endian bytes of a secret number, in memory zeroized on drop. (`BoxedUint`'s own
/// `to_be_bytes_trimmed_vartime` frees an untrimmed copy without zeroizing it.)
pub(crate) fn secret_be_bytes(n: &rsa::BoxedUint) -> Zeroizing<Box<[u8]>> {
    Zeroizing::new(n.to_be_bytes())
}

/// `bytes` without its leading zero octets.
pub(crate) fn trim_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Any decoding failure of a private member.
fn invalid<E>(_: E) -> KeyError {
    KeyError::InvalidPrivateKey
}

/// Builds the secret from a private JWK's members.
pub(crate) fn secret_from_members(
    public: &PublicParts,
    private: &PrivateMembers<'_>,
) -> Result<Secret, KeyError> {
    match public {
        PublicParts::Ec { curve, .. } => {
            let d = base64url::decode_secret(private.d).map_err(invalid)?;
            if d.len() != curve.coordinate_len() {
                return Err(KeyError::InvalidPrivateKey);
            }
            Ok(match curve {
                EcCurve::P256 => {
                    Secret::P256(p256::ecdsa::SigningKey::from_slice(&d).map_err(invalid)?)
                }
                EcCurve::P384 => {
                    Secret::P384(p384::ecdsa::SigningKey::from_slice(&d).map_err(invalid)?)
                }
                EcCurve::P521 => {
                    Secret::P521(p521::ecdsa::SigningKey::from_slice(&d).map_err(invalid)?)
                }
            })
        }
        PublicParts::Ed25519 { .. } => {
            let seed = base64url::decode_secret(private.d).map_err(invalid)?;
            let seed: &[u8; 32] = seed
                .as_slice()
                .try_into()
                .map_err(|_| KeyError::InvalidPrivateKey)?;
            Ok(Secret::Ed25519(ed25519_dalek::SigningKey::from_bytes(seed)))
        }
        PublicParts::Rsa { n, e } => {
            use rsa::traits::PrivateKeyParts;
            use rsa::BoxedUint;
            let [p, q, dp, dq, qi] = private.rsa_crt.ok_or(KeyError::InvalidPrivateKey)?;
            let number = |text: &str| -> Result<Zeroizing<Vec<u8>>, KeyError> {
                let bytes = base64url::decode_secret(text).map_err(invalid)?;
                if bytes.is_empty() || bytes.len() > n.len() {
                    return Err(KeyError::InvalidPrivateKey);
                }
                Ok(bytes)
            };
            let (d, p, q) = (number(private.d)?, number(p)?, number(q)?);
            let key = rsa::PrivateKey::from_components(
                BoxedUint::from_be_slice_vartime(n),
                BoxedUint::from_be_slice_vartime(e),
                BoxedUint::from_be_slice_vartime(&d),
                vec![
                    BoxedUint::from_be_slice_vartime(&p),
                    BoxedUint::from_be_slice_vartime(&q),
                ],
            )
            .map_err(invalid)?;
            // The CRT values must be the key's own (RFC 7518 §6.3.2).
            let same = |given: &str, own: Option<&BoxedUint>| -> Result<bool, KeyError> {
                let given = number(given)?;
                Ok(own.is_some_and(|own| {
                    let own = secret_be_bytes(own);
                    trim_leading_zeros(&own) == trim_leading_zeros(&given)
                }))
            };
            let qinv = key.crt_coefficient().map(Zeroizing::new);
            if !(same(dp, key.dp())? && same(dq, key.dq())? && same(qi, qinv.as_deref())?) {
                return Err(KeyError::InvalidPrivateKey);
            }
            Ok(Secret::Rsa(Box::new(key)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::algorithm::AlgorithmSet;

    fn keys() -> Vec<SigningKey> {
        let mut keys: Vec<SigningKey> = [
            Algorithm::Es256,
            Algorithm::Es384,
            Algorithm::Es512,
            Algorithm::Ed25519,
            Algorithm::EdDsa,
        ]
        .into_iter()
        .map(|alg| SigningKey::generate_for(alg).unwrap())
        .collect();
        keys.push(SigningKey::generate_rsa(Algorithm::Ps256, 2048).unwrap());
        keys
    }

    #[test]
    fn debug_is_redacted() {
        for key in keys() {
            assert_eq!(format!("{key:?}"), "SigningKey { .. }");
            assert_eq!(format!("{key:#?}"), "SigningKey { .. }");
        }
    }

    #[test]
    fn private_jwk_round_trip_for_every_type() {
        for key in keys() {
            let jwk = key.to_jwk();
            assert!(jwk.contains(&format!(r#""alg":"{}","use":"sig""#, key.algorithm())));
            let again = SigningKey::from_jwk(&jwk).unwrap();
            assert_eq!(again.public_key(), key.public_key());
            assert_eq!(again.algorithm(), key.algorithm());
            let public = PublicKey::from_jwk(&key.public_key().to_jwk()).unwrap();
            assert_eq!(&public, key.public_key());
            assert_eq!(public.thumbprint(), key.thumbprint());
            // The private JWK is refused where a public key belongs.
            assert_eq!(PublicKey::from_jwk(&jwk), Err(KeyError::PrivateKey));
        }
    }

    #[test]
    fn signatures_verify_and_bind_message_for_every_type() {
        for key in keys() {
            let alg = key.algorithm();
            let all = AlgorithmSet::all();
            let sig = key.sign(b"hello").unwrap();
            assert_eq!(key.public_key().verify(alg, all, b"hello", &sig), Ok(()));
            assert_eq!(
                key.public_key().verify(alg, all, b"hellp", &sig),
                Err(JoseError::InvalidSignature)
            );
            assert_eq!(
                key.public_key().verify(alg, all, b"hello", &sig[1..]),
                Err(JoseError::SignatureLength)
            );
        }
    }

    #[test]
    fn rsa_without_alg_needs_one() {
        let key = SigningKey::generate_rsa(Algorithm::Rs256, 2048).unwrap();
        let jwk = key.to_jwk().replace(r#""alg":"RS256","#, "");
        assert_eq!(
            SigningKey::from_jwk(&jwk).err(),
            Some(KeyError::AlgorithmRequired)
        );
        let ps = SigningKey::from_jwk_with_algorithm(&jwk, Algorithm::Ps512).unwrap();
        assert_eq!(ps.algorithm(), Algorithm::Ps512);
        assert_eq!(
            SigningKey::from_jwk_with_algorithm(&jwk, Algorithm::Es256).err(),
            Some(KeyError::WrongAlgorithm)
        );
        assert_eq!(
            SigningKey::from_jwk_with_algorithm(&key.to_jwk(), Algorithm::Ps256).err(),
            Some(KeyError::WrongAlgorithm)
        );
        // Asking for the algorithm the JWK names is fine.
        let same = SigningKey::from_jwk_with_algorithm(&key.to_jwk(), Algorithm::Rs256).unwrap();
        assert_eq!(same.algorithm(), Algorithm::Rs256);
    }

    #[test]
    fn generation_refuses_what_does_not_fit() {
        assert_eq!(
            SigningKey::generate_for(Algorithm::Rs256).err(),
            Some(Error::InvalidArgument("alg"))
        );
        assert_eq!(
            SigningKey::generate_rsa(Algorithm::Es256, 2048).err(),
            Some(Error::InvalidArgument("alg"))
        );
        assert_eq!(
            SigningKey::generate_rsa(Algorithm::Rs256, 1024).err(),
            Some(Error::InvalidArgument("bits"))
        );
    }

    #[test]
    fn private_key_must_match_public_members() {
        for (a, b) in keys().into_iter().zip(keys()) {
            let a_jwk = a.to_jwk();
            let b_public = b.public_key().to_jwk();
            let private = &a_jwk[a_jwk.find(r#","alg":"#).unwrap()..];
            let mixed = format!("{}{}", &b_public[..b_public.len() - 1], private);
            assert_eq!(
                SigningKey::from_jwk(&mixed).err(),
                Some(KeyError::InvalidPrivateKey)
            );
        }
    }

    #[test]
    fn private_members_must_be_plain_strings() {
        let key = SigningKey::generate().unwrap();
        let jwk = key.to_jwk();
        let object = json::parse_object(jwk.as_bytes(), 8).unwrap();
        let d = object["d"].as_str().unwrap();
        // The same `d`, its first character written as a JSON escape: valid JSON, and the
        // same key to a lax reader, but unescaping would copy the secret.
        let first = d.chars().next().unwrap();
        let escaped = jwk.replace(d, &format!("\\u{:04x}{}", first as u32, &d[1..]));
        assert_eq!(
            SigningKey::from_jwk(&escaped).err(),
            Some(KeyError::InvalidPrivateKey)
        );
        let number = jwk.replace(&format!("\"{d}\""), "7");
        assert_eq!(
            SigningKey::from_jwk(&number).err(),
            Some(KeyError::InvalidMember("d"))
        );
        let twice = jwk.replace(r#""d":"#, &format!(r#""d":"{d}","d":"#));
        assert_eq!(
            SigningKey::from_jwk(&twice).err(),
            Some(KeyError::Malformed(JoseError::DuplicateMember))
        );
        let without = jwk.replace(&format!(r#","d":"{d}""#), "");
        assert_eq!(
            SigningKey::from_jwk(&without).err(),
            Some(KeyError::MissingMember("d"))
        );
        assert_eq!(PublicKey::from_jwk(&jwk).err(), Some(KeyError::PrivateKey));
        assert!(SigningKey::from_jwk(&jwk).is_ok());
    }

    #[test]
    fn rsa_crt_values_must_be_the_keys_own() {
        let key = SigningKey::generate_rsa(Algorithm::Rs256, 2048).unwrap();
        let jwk = key.to_jwk();
        let object = json::parse_object(jwk.as_bytes(), 8).unwrap();
        let dp = object["dp"].as_str().unwrap();
        let dq = object["dq"].as_str().unwrap();
        let swapped = jwk.replace(dp, "SWAP").replace(dq, dp).replace("SWAP", dq);
        assert_eq!(
            SigningKey::from_jwk(&swapped).err(),
            Some(KeyError::InvalidPrivateKey)
        );
        // Each CRT value is checked on its own: a wrong `qi` alone is refused too.
        let qi = object["qi"].as_str().unwrap();
        let wrong_qi = jwk.replace(qi, dp);
        assert_eq!(
            SigningKey::from_jwk(&wrong_qi).err(),
            Some(KeyError::InvalidPrivateKey)
        );
        assert!(SigningKey::from_jwk(&jwk).is_ok());
    }

    #[test]
    fn ec_private_scalar_out_of_range_is_refused() {
        let key = SigningKey::generate().unwrap();
        let public = key.public_key().to_jwk();
        for d in [[0u8; 32], [0xff; 32]] {
            let jwk = format!(
                r#"{},"d":"{}"}}"#,
                &public[..public.len() - 1],
                base64url::encode(&d)
            );
            assert_eq!(
                SigningKey::from_jwk(&jwk).err(),
                Some(KeyError::InvalidPrivateKey)
            );
        }
    }
}
