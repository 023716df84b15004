//! Public keys of every supported type: the key a DPoP proof embeds, the keys an issuer's
//! JWKS publishes.

use core::fmt;

use crate::error::{JoseError, KeyError};
use crate::jose::algorithm::{Algorithm, AlgorithmSet};
use crate::jose::backend::VerifyKey;
use crate::jose::json::{self, Object};
use crate::jose::jwk::{self, KeyRole, PublicParts};
use crate::jose::key_fixes_algorithm;
use crate::jose::key_type::KeyType;
use crate::jose::thumbprint::Thumbprint;

/// Largest JWK text accepted by [`PublicKey::from_jwk`]; an 8192-bit RSA public JWK is under
/// 1.5 KiB.
const MAX_JWK_LEN: usize = 8192;

/// A validated public key: EC P-256/P-384/P-521, Ed25519 or RSA.
///
/// The key fixes the algorithm (RFC 8725 §3.1): [`allows`](Self::allows) says which `alg`
/// values it may verify — those that fit its type and, when the JWK named one, exactly that
/// `alg`. Points are on their curve, Ed25519 keys canonical and of large order, RSA moduli
/// 2048..=8192 bits with an odd exponent in [3, 2^32]. Equality compares the key, not the
/// `alg` it was published with.
#[derive(Clone)]
pub struct PublicKey {
    parts: PublicParts,
    key_type: KeyType,
    alg: Option<Algorithm>,
    key: VerifyKey,
    thumbprint: Thumbprint,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}

impl Eq for PublicKey {}

impl PublicKey {
    /// Reads a public JWK (RFC 7517), e.g. `{"kty":"EC","crv":"P-256","x":…,"y":…}`,
    /// `{"kty":"OKP","crv":"Ed25519","x":…}` or `{"kty":"RSA","n":…,"e":…}`.
    ///
    /// Refused: `oct` and unknown `kty`; curves other than P-256/P-384/P-521/Ed25519
    /// (X25519, Ed448, secp256k1); wrong-length coordinates; points off the curve;
    /// non-canonical or small-order Ed25519 keys; RSA outside the limits above or with
    /// leading zero octets; private members (`d`, …); `alg` that is not a supported signature
    /// algorithm fitting the key; `use` other than `sig`; `key_ops` without `verify`;
    /// duplicate member names.
    pub fn from_jwk(jwk: &str) -> Result<Self, KeyError> {
        if jwk.len() > MAX_JWK_LEN {
            return Err(KeyError::Malformed(JoseError::Json));
        }
        // A private JWK given by mistake is refused without copying its private members.
        let (object, secrets) = json::parse_object_with_secrets(
            jwk.as_bytes(),
            json::DEFAULT_MAX_DEPTH,
            &jwk::PRIVATE_MEMBERS,
        )
        .map_err(KeyError::Malformed)?;
        if !secrets.is_empty() {
            return Err(KeyError::PrivateKey);
        }
        Self::from_jwk_object(&object)
    }

    /// Reads a PEM public key: `BEGIN PUBLIC KEY` (SPKI, any supported type) or
    /// `BEGIN RSA PUBLIC KEY` (PKCS#1). The same limits as for a JWK apply.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        Self::from_parts(crate::jose::pem::public_key(pem)?, None)
    }

    /// Reads a public JWK that was already parsed as a strict JSON object.
    pub(crate) fn from_jwk_object(jwk: &Object) -> Result<Self, KeyError> {
        let read = jwk::read(jwk, KeyRole::Verify)?;
        Self::from_parts(read.public, read.alg)
    }

    /// Builds and validates the key from its public numbers.
    pub(crate) fn from_parts(parts: PublicParts, alg: Option<Algorithm>) -> Result<Self, KeyError> {
        let key_type = parts.key_type();
        if let Some(alg) = alg {
            key_fixes_algorithm::check_jwk_alg(key_type, alg)?;
        }
        let (key, thumbprint) = match &parts {
            PublicParts::Ec { curve, x, y } => {
                let mut sec1 = Vec::with_capacity(1 + x.len() + y.len());
                sec1.push(0x04);
                sec1.extend_from_slice(x);
                sec1.extend_from_slice(y);
                let key = VerifyKey::ec(*curve, &sec1).ok_or(KeyError::InvalidPoint)?;
                (key, Thumbprint::of_ec(curve.as_str(), x, y))
            }
            PublicParts::Ed25519 { x } => {
                let key = VerifyKey::ed25519(x).ok_or(KeyError::InvalidPoint)?;
                (key, Thumbprint::of_okp("Ed25519", x))
            }
            PublicParts::Rsa { n, e } => {
                PublicParts::check_rsa_limits(n, e)?;
                let key = VerifyKey::rsa(n, e).ok_or(KeyError::InvalidRsaKey)?;
                (key, Thumbprint::of_rsa(n, e))
            }
        };
        Ok(Self {
            parts,
            key_type,
            alg,
            key,
            thumbprint,
        })
    }

    /// The key's type and size.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The `alg` the key was published with (its JWK `alg` member), if any.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.alg
    }

    /// Whether this key may verify `alg` signatures: `alg` fits its type and equals its JWK
    /// `alg` when it has one.
    pub fn allows(&self, alg: Algorithm) -> bool {
        key_fixes_algorithm::check(alg, self.key_type, self.alg, AlgorithmSet::all()).is_ok()
    }

    /// The algorithms this key may verify, per [`allows`](Self::allows).
    pub fn algorithms(&self) -> AlgorithmSet {
        Algorithm::ALL
            .into_iter()
            .filter(|a| self.allows(*a))
            .collect()
    }

    /// The affine coordinates `(x, y)` of an EC key, big-endian, each the curve's full
    /// coordinate length; `None` for other key types.
    pub fn ec_coordinates(&self) -> Option<(&[u8], &[u8])> {
        match &self.parts {
            PublicParts::Ec { x, y, .. } => Some((x, y)),
            _ => None,
        }
    }

    /// The RFC 7638 thumbprint (computed once, when the key was read).
    pub fn thumbprint(&self) -> Thumbprint {
        self.thumbprint
    }

    /// The public JWK with exactly the required members (EC `kty`, `crv`, `x`, `y`; OKP
    /// `kty`, `crv`, `x`; RSA `kty`, `n`, `e`), without `alg`.
    pub fn to_jwk(&self) -> String {
        self.parts.to_json()
    }

    /// Verifies a JWS signature (RFC 7518 §3) over `message` with `alg`, allowed by `allowed`.
    ///
    /// The alg/key rule runs first, before any cryptography: `alg` must be in `allowed`
    /// ([`JoseError::UnsupportedAlgorithm`]) and fit this key
    /// ([`JoseError::AlgorithmKeyMismatch`]). The signature must then have exactly the length
    /// of the algorithm ([`JoseError::SignatureLength`]: ECDSA `r ‖ s` of 2×32/48/66 bytes,
    /// never DER; Ed25519 64 bytes; RSA the modulus length). A bad signature is one opaque
    /// [`JoseError::InvalidSignature`].
    pub fn verify(
        &self,
        alg: Algorithm,
        allowed: AlgorithmSet,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), JoseError> {
        key_fixes_algorithm::check(alg, self.key_type, self.alg, allowed)?;
        if signature.len() != self.key_type.signature_len() {
            return Err(JoseError::SignatureLength);
        }
        self.key.verify(alg, message, signature)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("PublicKey");
        s.field("type", &format_args!("{}", self.key_type));
        if let Some(alg) = self.alg {
            s.field("alg", &format_args!("{alg}"));
        }
        s.field("jkt", &format_args!("{}", self.thumbprint))
            .finish()
    }
}
