//! Optional integrations, each behind its cargo feature.

#[cfg(feature = "actix")]
pub(crate) mod actix;
#[cfg(feature = "http")]
pub(crate) mod authorization_server_http;
#[cfg(feature = "axum")]
pub(crate) mod axum;
#[cfg(any(feature = "tower", feature = "actix"))]
pub(crate) mod gate;
#[cfg(feature = "http")]
pub(crate) mod http;
#[cfg(feature = "tower")]
pub(crate) mod protected_resource_service;
#[cfg(feature = "redis")]
pub(crate) mod redis;
#[cfg(feature = "reqwest")]
pub(crate) mod reqwest;
#[cfg(feature = "reqwest-middleware")]
pub(crate) mod reqwest_middleware;
#[cfg(feature = "reqwest")]
pub(crate) mod reqwest_transport;
#[cfg(feature = "tower")]
pub(crate) mod tower;
