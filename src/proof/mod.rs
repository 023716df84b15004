//! DPoP proofs (RFC 9449 §4): signing (client), verification (server), the `htu` rule,
//! server nonces and replay protection.

pub(crate) mod htu;
pub(crate) mod key_quota;
pub(crate) mod nonce;
pub(crate) mod options;
pub(crate) mod replay;
pub(crate) mod request;
pub(crate) mod signer;
pub(crate) mod syntax;
pub(crate) mod verifier;
