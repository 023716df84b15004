//! Working with an authorization server this crate did not build: its metadata (RFC 8414), a
//! key set that keeps itself current, and token introspection (RFC 7662).

#[cfg(feature = "reqwest")]
pub(crate) mod cache_control;
pub(crate) mod introspection;
pub(crate) mod introspection_cache;
pub(crate) mod introspection_response;
pub(crate) mod metadata;
#[cfg(feature = "reqwest")]
pub(crate) mod remote_key_set;
pub(crate) mod transport;
