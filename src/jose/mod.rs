//! The JOSE layer: only what DPoP and bound access tokens need, done strictly.
//!
//! - `algorithm.rs`: the `alg` names and policy sets; `key_type.rs`: `kty`, curves, sizes;
//! - `key_fixes_algorithm.rs`: the alg/key rule (RFC 8725 §3.1), the one place it lives;
//! - `jwk.rs`, `pem.rs`: reading keys; `public_key.rs`, `signing_key.rs`, `secret.rs`: keys;
//! - `jws.rs`: compact JWS; `jws_signer.rs`: the signing seam for HSM/KMS keys;
//! - `backend/`: the arithmetic, one file per primitive and backend;
//! - `base64url.rs`, `json.rs`: strict encodings; `thumbprint.rs`: RFC 7638 and `ath`;
//! - `weak_rsa_key.rs`: refusing RSA moduli with the ROCA fingerprint.

pub(crate) mod algorithm;
pub(crate) mod backend;
pub(crate) mod base64url;
pub(crate) mod json;
pub(crate) mod jwe;
pub(crate) mod jwk;
pub(crate) mod jws;
pub(crate) mod jws_signer;
pub(crate) mod key_fixes_algorithm;
pub(crate) mod key_type;
pub(crate) mod pem;
pub(crate) mod public_key;
pub(crate) mod secret;
pub(crate) mod signing_key;
pub(crate) mod thumbprint;
pub(crate) mod weak_rsa_key;
