//! The `reqwest` feature: a client that signs a fresh DPoP proof for every request, keeps the
//! latest nonce per origin and server role, retries once when a server asks for a nonce, and
//! talks to authorization servers (token requests, PAR, a self-renewing token source).

pub(crate) mod authorization_server;
pub(crate) mod client_error;
pub(crate) mod dpop_client;
pub(crate) mod per_origin;
pub(crate) mod proof_session;
pub(crate) mod response_body;
pub(crate) mod token_response;
pub(crate) mod token_source;

pub use client_error::ClientError;
pub use dpop_client::DpopClient;
pub use response_body::MAX_RESPONSE_LEN;
pub use token_response::TokenResponse;
pub use token_source::{TokenSource, TokenSourceOptions};
