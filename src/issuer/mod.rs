//! The authorization-server side: token-endpoint and PAR proof checks (RFC 9449 §5, §10),
//! token and error responses, bound refresh tokens, introspection (§6.2).

pub(crate) mod introspection;
pub(crate) mod par_endpoint;
pub(crate) mod refresh;
pub(crate) mod responses;
pub(crate) mod token_endpoint;
