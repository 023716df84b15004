//! Bound access tokens (RFC 9068 `at+jwt` with `cnf.jkt`, RFC 9449 §6.1): claims, keys,
//! issuing and verifying.

pub(crate) mod claims;
pub(crate) mod issuer;
pub(crate) mod issuer_keys;
pub(crate) mod key_set;
pub(crate) mod key_slot;
pub(crate) mod verifier;
