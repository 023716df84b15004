//! EC P-256 public keys: the key a DPoP proof embeds and an issuer verifies tokens with.

use core::fmt;

use p256::ecdsa::VerifyingKey;

use crate::error::{JoseError, KeyError};
use crate::jose::es256_backend::VerifyKey;
use crate::jose::json::{self, Object};
use crate::jose::jwk::{self, KeyRole};
use crate::jose::thumbprint::Thumbprint;
use crate::jose::{base64url, jws};

/// Largest JWK text accepted by [`PublicKey::from_jwk`]; an EC public JWK is ~120 bytes.
const MAX_JWK_LEN: usize = 4096;

/// An EC P-256 public key, validated: both coordinates 32 bytes, the point on the curve.
///
/// The algorithm is fixed by the type: this key verifies ES256 (RFC 7518 §3.4) and nothing else.
#[derive(Clone)]
pub struct PublicKey {
    key: VerifyKey,
    x: [u8; 32],
    y: [u8; 32],
    thumbprint: Thumbprint,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.x == other.x && self.y == other.y
    }
}

impl Eq for PublicKey {}

impl PublicKey {
    /// Reads a public JWK (RFC 7517) such as `{"kty":"EC","crv":"P-256","x":…,"y":…}`.
    ///
    /// Refused: any other `kty` or `crv`, coordinates that are not exactly 32 bytes of strict
    /// base64url, points off the curve, private members (`d`, …), `alg` other than `ES256`,
    /// `use` other than `sig`, `key_ops` without `verify`, duplicate member names.
    pub fn from_jwk(jwk: &str) -> Result<Self, KeyError> {
        if jwk.len() > MAX_JWK_LEN {
            return Err(KeyError::Malformed(JoseError::Json));
        }
        let object = json::parse_object(jwk.as_bytes(), json::DEFAULT_MAX_DEPTH)
            .map_err(KeyError::Malformed)?;
        Self::from_jwk_object(&object)
    }

    /// Reads a public JWK that was already parsed as a strict JSON object.
    pub(crate) fn from_jwk_object(jwk: &Object) -> Result<Self, KeyError> {
        let ec = jwk::read_ec(jwk, KeyRole::Verify)?;
        Self::from_coordinates(ec.x, ec.y)
    }

    /// Builds the key from affine coordinates, checking the point is on the curve.
    pub(crate) fn from_coordinates(x: [u8; 32], y: [u8; 32]) -> Result<Self, KeyError> {
        let mut sec1 = [0u8; 65];
        sec1[0] = 0x04;
        sec1[1..33].copy_from_slice(&x);
        sec1[33..].copy_from_slice(&y);
        let key = VerifyKey::new(&sec1).ok_or(KeyError::InvalidPoint)?;
        Ok(Self {
            key,
            x,
            y,
            thumbprint: Thumbprint::of_p256(&x, &y),
        })
    }

    /// The public half of a freshly generated or imported secret key.
    pub(crate) fn from_verifying_key(point: &VerifyingKey) -> Result<Self, KeyError> {
        let encoded = point.to_sec1_point(false);
        let sec1: &[u8; 65] = encoded
            .as_bytes()
            .try_into()
            .map_err(|_| KeyError::InvalidPoint)?;
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        x.copy_from_slice(&sec1[1..33]);
        y.copy_from_slice(&sec1[33..65]);
        Self::from_coordinates(x, y)
    }

    /// `0x04 ‖ x ‖ y`.
    pub(crate) fn sec1(&self) -> [u8; 65] {
        let mut sec1 = [0u8; 65];
        sec1[0] = 0x04;
        sec1[1..33].copy_from_slice(&self.x);
        sec1[33..].copy_from_slice(&self.y);
        sec1
    }

    /// The RFC 7638 thumbprint (computed once, when the key was read).
    pub fn thumbprint(&self) -> Thumbprint {
        self.thumbprint
    }

    /// The public JWK with exactly the members `kty`, `crv`, `x`, `y`.
    pub fn to_jwk(&self) -> String {
        jwk::public_json(&self.x, &self.y)
    }

    /// The `x` coordinate, 32 big-endian bytes.
    pub fn x(&self) -> &[u8; 32] {
        &self.x
    }

    /// The `y` coordinate, 32 big-endian bytes.
    pub fn y(&self) -> &[u8; 32] {
        &self.y
    }

    /// Verifies an ES256 signature in JWS form: exactly 64 bytes `r ‖ s` (IEEE P1363,
    /// RFC 7518 §3.4) over `message` with SHA-256. DER signatures and any other length are
    /// refused; `r` and `s` must lie in `[1, n)`.
    pub fn verify_es256(&self, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        let bytes: &[u8; 64] = signature
            .try_into()
            .map_err(|_| JoseError::SignatureLength)?;
        self.key.verify(message, bytes)
    }

    /// Verifies a compact JWS (RFC 7515 §7.1) signed with ES256 by this key and returns its
    /// decoded payload. The header must be strict JSON naming `alg` `ES256` and no `crit`.
    /// The header is not otherwise interpreted: this is the general JWS primitive, not a DPoP
    /// proof or access-token check.
    pub fn verify_jws(&self, compact: &str) -> Result<Vec<u8>, JoseError> {
        let parsed = jws::Compact::parse(compact, json::DEFAULT_MAX_DEPTH)?;
        parsed.verify(self)?;
        base64url::decode(parsed.payload_b64())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("jkt", &self.thumbprint.to_base64url())
            .finish()
    }
}
