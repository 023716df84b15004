//! The client side of OAuth with DPoP, independent of any HTTP library: how a client
//! authenticates ([`ClientAuth`](client_auth::ClientAuth)), what it asks for
//! ([`Grant`](grant::Grant), [`AuthorizationRequest`](authorization_request::AuthorizationRequest)
//! with PKCE), and where ([`AuthorizationServerEndpoints`](endpoints::AuthorizationServerEndpoints)).
//! The `reqwest` feature sends them (`integrations::reqwest`).

// Without `reqwest`, nothing in the crate sends these yet: the public builders are usable,
// the crate-internal senders (`ClientAuth::apply`, `Grant::params`, …) are not called.
#![cfg_attr(not(feature = "reqwest"), allow(dead_code))]

pub(crate) mod authorization_request;
pub(crate) mod client_auth;
pub(crate) mod endpoints;
pub(crate) mod form;
pub(crate) mod grant;
pub(crate) mod parameters;
pub(crate) mod pkce;
