//! JWE (RFC 7516, RFC 7518 §4–5) for encrypted access tokens: only asymmetric key management
//! and the four AEAD content encryptions, compact serialization only.
//!
//! - `compact.rs`: the compact serialization and the header policy (the refusals the text
//!   alone decides);
//! - `content_encryption.rs`: `A128GCM`, `A256GCM`, `A128CBC-HS256`, `A256CBC-HS512`;
//! - `decryption.rs`: a parsed JWE decrypted with the key it names (one opaque failure; the
//!   legacy `RSA-OAEP` only with a key enabled for it);
//! - `encryption_keys.rs`: the public key types (`DecryptionKey`, `EncryptionKey`) from JWK,
//!   PEM or generation;
//! - `key_management.rs`: `ECDH-ES`, `ECDH-ES+A128KW`, `ECDH-ES+A256KW` (P-256, P-384,
//!   X25519) with the Concat KDF, `RSA-OAEP-256`, and the legacy `RSA-OAEP` (decryption only);
//! - `nested.rs`: nested JWTs (RFC 7519 §5.2): encrypt a signed JWS, decrypt back to one
//!   (`cty: "JWT"` required).
//!
//! Users reach it through `RequestGuard::with_decryption_key` and
//! `TokenIssuer::with_encryption` (`src/resource/token_decryption.rs`, `src/token/issuer.rs`).

pub(crate) mod compact;
pub(crate) mod content_encryption;
pub(crate) mod decryption;
pub(crate) mod encryption_keys;
pub(crate) mod key_management;
pub(crate) mod nested;
pub(crate) mod primitives;
#[cfg(test)]
pub(crate) mod test_data;
