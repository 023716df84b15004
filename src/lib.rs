#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod danger;
mod error;
mod integrations;
mod issuer;
mod jose;
mod observe;
mod proof;
mod resource;
mod revocation;
mod secure_url;
mod time;
mod token;

pub use error::{
    Endpoint, Error, ErrorCode, GrantError, JoseError, JweError, KeyError, NonceProblem,
    ProofError, RequestError, StoreError, TokenError, UpstreamError,
};
#[cfg(feature = "http")]
pub use integrations::authorization_server_http::{
    introspection_http_response, par_http_response, token_http_response,
};
#[cfg(feature = "http")]
pub use integrations::http::{DPOP, DPOP_NONCE};
#[cfg(feature = "redis")]
pub use integrations::redis::{
    refresh::RedisRefreshStore,
    replay::{RedisReplayStore, DEFAULT_REDIS_PER_KEY_LIMIT},
    revocation::RedisRevocationStore,
    RedisClusterStores, RedisConfig, RedisStores,
};
// --- client (issue 13): re-exports of src/client/ and src/integrations/reqwest/ ---
mod client;
pub use client::authorization_request::{AuthorizationRequest, PushedAuthorizationRequest};
pub use client::client_auth::{ClientAssertionOptions, ClientAuth};
pub use client::endpoints::AuthorizationServerEndpoints;
pub use client::grant::Grant;
pub use client::pkce::PkceVerifier;
#[cfg(feature = "reqwest")]
pub use integrations::reqwest::{
    ClientError, DpopClient, TokenResponse, TokenSource, TokenSourceOptions, MAX_RESPONSE_LEN,
};
#[cfg(feature = "reqwest-middleware")]
pub use integrations::reqwest_middleware::DpopClientMiddleware;
// --- end client ---
// --- remote issuer (issue 13): re-exports of src/remote_issuer/ ---
mod remote_issuer;
pub use remote_issuer::introspection::{IntrospectionOptions, Introspector};
pub use remote_issuer::metadata::{AuthorizationServerMetadata, MAX_METADATA_LEN};
#[cfg(feature = "reqwest")]
pub use remote_issuer::remote_key_set::{RemoteKeySet, RemoteKeySetOptions};
pub use remote_issuer::transport::{HttpMethod, HttpResponse, HttpTransport, OutgoingRequest};
// --- end remote issuer ---
#[cfg(feature = "actix")]
pub use integrations::actix::{DpopMiddleware, DpopMiddlewareService};
#[cfg(feature = "tower")]
pub use integrations::protected_resource_service::ProtectedResourceMetadataService;
#[cfg(feature = "tower")]
pub use integrations::tower::{DpopLayer, DpopService};
pub use issuer::introspection::{introspect, introspection_json};
pub use issuer::par_endpoint::ParEndpoint;
pub use issuer::refresh::{
    AsyncRefreshStore, FamilyId, MemoryRefreshStore, RefreshGrant, RefreshStore, RefreshTokenId,
    RefreshTokens, Rotation, DEFAULT_REFRESH_CAPACITY, DEFAULT_REFRESH_LIFETIME_SECS,
};
pub use issuer::responses::{error_response, token_response, ErrorResponse};
pub use issuer::token_endpoint::{PendingProof, TokenEndpoint};
pub use jose::algorithm::{Algorithm, AlgorithmSet, AlgorithmSetIter};
pub use jose::backend::key_tables::{KeyTableStats, KeyTables};
pub use jose::backend::BACKEND;
#[cfg(not(feature = "aws-lc"))]
#[doc(hidden)]
pub use jose::backend::{es256_build_table, es256_plain_and_table_verdicts};
pub use jose::jwe::content_encryption::ContentEncryption;
pub use jose::jwe::encryption_keys::{
    decrypt_nested_jwt, encryption_jwks, DecryptionKey, EcdhCurve, EncryptionKey,
};
pub use jose::jwe::key_management::KeyManagement;
pub use jose::jws_signer::JwsSigner;
pub use jose::key_type::{EcCurve, KeyType};
pub use jose::public_key::PublicKey;
pub use jose::signing_key::{SigningKey, RSA_GENERATION_BITS};
pub use jose::thumbprint::{Thumbprint, TokenHash};
pub use proof::htu::{check_htu, InvalidUrl};
pub use proof::nonce::NonceEngine;
pub use proof::options::ProofOptions;
pub use proof::replay::{
    AsyncReplayStore, Insertion, MemoryReplayStore, ReplayKey, ReplayStore, DEFAULT_PER_KEY_SHARE,
    DEFAULT_REPLAY_CAPACITY, MIN_PER_KEY_LIMIT,
};
pub use proof::request::ProofRequest;
pub use proof::signer::{ProofBuilder, ProofSigner};
pub use proof::verifier::{ProofVerifier, VerifiedProof};
pub use resource::authorization::Scheme;
pub use resource::guard::{Authorized, Rejection, RequestGuard, ResourceRequest};
pub use resource::protected_resource_metadata::ProtectedResourceMetadata;
pub use resource::public_url::{PublicUrlPolicy, TrustedProxy};
pub use resource::scope_requirement::ScopeRequirement;
pub use revocation::{
    AsyncRevocationStore, MemoryRevocationStore, Revocation, RevocationStore, Settled,
};
pub use secure_url::is_secure_url;
pub use time::{Clock, FixedClock, SystemClock, UnixTime};
pub use token::claims::AccessTokenClaims;
pub use token::issuer::{
    IssuedToken, TokenIssuer, TokenRequest, DEFAULT_TOKEN_LIFETIME_SECS, MAX_TOKEN_LIFETIME_SECS,
};
pub use token::issuer_keys::IssuerKeys;
pub use token::key_set::{jwks_json, KeySet, SkippedKey};
pub use token::verifier::{
    TokenOptions, TokenVerifier, VerifiedToken, DEFAULT_MAX_ACCEPTED_LIFETIME_SECS,
};
