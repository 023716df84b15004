//! The resource-server side (RFC 9449 §7): one call decides a request.

pub(crate) mod authorization;
pub(crate) mod challenge;
pub(crate) mod expiring_cache;
pub(crate) mod guard;
pub(crate) mod protected_resource_metadata;
pub(crate) mod public_url;
pub(crate) mod scope_requirement;
pub(crate) mod token_cache;
pub(crate) mod token_decryption;
pub(crate) mod trusted_issuers;
