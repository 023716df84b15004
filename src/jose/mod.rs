//! The JOSE layer: only what DPoP and bound access tokens need, done strictly.

pub(crate) mod base64url;
pub(crate) mod es256_backend;
pub(crate) mod es256_signer;
pub(crate) mod json;
pub(crate) mod jwk;
pub(crate) mod jws;
pub(crate) mod public_key;
pub(crate) mod signing_key;
pub(crate) mod thumbprint;
