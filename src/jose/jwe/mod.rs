//! JWE (RFC 7516, RFC 7518 §4–5) for encrypted access tokens: only asymmetric key management
//! and the four AEAD content encryptions, compact serialization only.
//!
//! - `compact.rs`: the compact serialization and the header policy (every refusal);
//! - `content_encryption.rs`: `A128GCM`, `A256GCM`, `A128CBC-HS256`, `A256CBC-HS512`;
//! - `encryption_keys.rs`: the public key types (`DecryptionKey`, `EncryptionKey`) from JWK,
//!   PEM or generation;
//! - `key_management.rs`: `ECDH-ES`, `ECDH-ES+A128KW`, `ECDH-ES+A256KW` (P-256, P-384,
//!   X25519) with the Concat KDF, and `RSA-OAEP-256`.
//!
//! Work in progress (issue 15): the compact parser, the header policy, keys and the guard and
//! issuer integration follow; nothing outside this module uses it yet.

#![allow(dead_code)]

pub(crate) mod compact;
pub(crate) mod content_encryption;
pub(crate) mod encryption_keys;
pub(crate) mod key_management;
pub(crate) mod nested;
