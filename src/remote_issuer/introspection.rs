//! An RFC 7662 introspection client for opaque access tokens, with a cache: a resource server
//! asks the authorization server once per token and period, not once per request.

use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::client::client_auth::ClientAuth;
use crate::client::form;
use crate::error::{Error, TokenError, UpstreamError};
use crate::jose::thumbprint::TokenHash;
use crate::remote_issuer::introspection_cache::{IntrospectionCache, Verdict};
use crate::remote_issuer::introspection_response::{self, Answer, Expectations};
use crate::remote_issuer::metadata::AuthorizationServerMetadata;
use crate::remote_issuer::transport::{HttpMethod, HttpTransport, OutgoingRequest};
use crate::secure_url;
use crate::time::UnixTime;
use crate::token::claims::AccessTokenClaims;

/// How an [`Introspector`] caches and limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntrospectionOptions {
    /// Longest time an active answer is reused, in seconds — never past the token's `exp`.
    /// Default **60**: a token revoked at the authorization server is refused here within a
    /// minute, and a busy client costs one introspection a minute.
    pub active_ttl_secs: u64,
    /// Time a refusal (inactive, wrong audience, expired…) is reused, in seconds. Default
    /// **5**: a flood of one bad token costs the authorization server little, and a token
    /// that was not yet known becomes usable quickly.
    pub refused_ttl_secs: u64,
    /// How long one introspection may take. Default **5 s**.
    pub timeout: Duration,
    /// Largest answer read, in bytes. Default **64 KiB**.
    pub max_response_len: usize,
    /// Most answers kept. Default **16 384**; 0 disables the cache.
    pub cache_capacity: usize,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. Default **5**.
    pub leeway_secs: u64,
}

impl IntrospectionOptions {
    /// The defaults described on each field.
    pub const fn new() -> Self {
        Self {
            active_ttl_secs: 60,
            refused_ttl_secs: 5,
            timeout: Duration::from_secs(5),
            max_response_len: 64 * 1024,
            cache_capacity: 1 << 14,
            leeway_secs: 5,
        }
    }

    /// Sets [`active_ttl_secs`](Self::active_ttl_secs) and
    /// [`refused_ttl_secs`](Self::refused_ttl_secs).
    pub const fn with_cache_ttls(mut self, active_secs: u64, refused_secs: u64) -> Self {
        self.active_ttl_secs = active_secs;
        self.refused_ttl_secs = refused_secs;
        self
    }

    /// Sets [`timeout`](Self::timeout).
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`cache_capacity`](Self::cache_capacity).
    pub const fn with_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }
}

impl Default for IntrospectionOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// Introspects opaque access tokens at an authorization server (RFC 7662) and checks the
/// answers for a DPoP resource server (RFC 9449 §6.2).
///
/// Give it to [`RequestGuard::with_introspection`](crate::RequestGuard::with_introspection):
/// a token that is not a compact JWS then goes to the introspection endpoint instead of local
/// verification. An answer must say `active: true`; name the issuer (when it names one) and
/// an accepted audience; carry an `exp` that has not passed; and, for a bound token, have
/// `token_type` `DPoP` and `cnf.jkt` — which the guard then compares with the proof's key, as
/// for JWTs. Active answers are cached by the token's SHA-256 for
/// [`active_ttl_secs`](IntrospectionOptions::active_ttl_secs), never past `exp`; refusals for
/// [`refused_ttl_secs`](IntrospectionOptions::refused_ttl_secs). When the endpoint cannot be
/// reached, or answers anything but a 200 JSON object, the request is refused with 503 (fail
/// closed) and nothing is cached.
pub struct Introspector {
    endpoint: String,
    issuer: String,
    audiences: Vec<String>,
    client_auth: Option<ClientAuth>,
    transport: Box<dyn HttpTransport>,
    cache: IntrospectionCache,
    options: IntrospectionOptions,
}

impl Introspector {
    /// Introspects at `endpoint` tokens of `issuer` meant for `audience`, through `transport`.
    /// Add the resource server's client credentials with
    /// [`with_client_auth`](Self::with_client_auth).
    ///
    /// Errors: [`UpstreamError::InsecureUrl`] unless `endpoint` is `https` (or `http` on a
    /// loopback host).
    pub fn new(
        endpoint: impl Into<String>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        transport: impl HttpTransport + 'static,
    ) -> Result<Self, UpstreamError> {
        let endpoint = endpoint.into();
        secure_url::check(&endpoint)?;
        let options = IntrospectionOptions::new();
        Ok(Self {
            endpoint,
            issuer: issuer.into(),
            audiences: vec![audience.into()],
            client_auth: None,
            transport: Box::new(transport),
            cache: IntrospectionCache::new(options.cache_capacity),
            options,
        })
    }

    /// Introspects at the metadata's `introspection_endpoint`, for its issuer.
    pub fn from_metadata(
        metadata: &AuthorizationServerMetadata,
        audience: impl Into<String>,
        transport: impl HttpTransport + 'static,
    ) -> Result<Self, UpstreamError> {
        let endpoint = metadata
            .introspection_endpoint()
            .ok_or(UpstreamError::MissingEndpoint("introspection_endpoint"))?;
        Self::new(endpoint, metadata.issuer(), audience, transport)
    }

    /// Authenticates to the endpoint as `client_auth` (RFC 7662 §2.1): any
    /// [`ClientAuth`] method — `client_secret_basic`, `client_secret_post`,
    /// `private_key_jwt` (a fresh assertion for every introspection, `aud` the issuer) or
    /// `none`.
    pub fn with_client_auth(mut self, client_auth: ClientAuth) -> Self {
        self.client_auth = Some(client_auth);
        self
    }

    /// Also accepts tokens whose `aud` names `audience`.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Replaces the options (and empties the cache).
    pub fn with_options(mut self, options: IntrospectionOptions) -> Self {
        self.cache = IntrospectionCache::new(options.cache_capacity);
        self.options = options;
        self
    }

    /// The issuer whose tokens this introspects.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The claims of `token` at `now`: from the cache, or from the endpoint.
    ///
    /// Errors: [`Error::InvalidToken`] — [`TokenError::Inactive`], a wrong issuer or audience,
    /// an expired token, a `token_type` that contradicts `cnf` — and [`Error::Upstream`] when
    /// the endpoint gave no usable answer.
    pub async fn introspect(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Result<Arc<AccessTokenClaims>, Error> {
        self.introspect_hashed(token, &TokenHash::of(token), now)
            .await
    }

    /// The cached verdict on the token whose hash is `hash`, if one is current at `now`.
    pub(crate) fn cached(&self, hash: &TokenHash, now: UnixTime) -> Option<Verdict> {
        self.cache.get(hash, now)
    }

    pub(crate) async fn introspect_hashed(
        &self,
        token: &str,
        hash: &TokenHash,
        now: UnixTime,
    ) -> Result<Arc<AccessTokenClaims>, Error> {
        if let Some(verdict) = self.cache.get(hash, now) {
            return verdict.map_err(Error::InvalidToken);
        }
        let answer = self.ask(token, hash, now).await;
        let (verdict, until) = match answer {
            Ok(Answer::Active(claims)) => {
                let until = claims
                    .expires_at()
                    .min(now.saturating_add(self.options.active_ttl_secs));
                (Ok(Arc::from(claims)), until)
            }
            Ok(Answer::Inactive) => (Err(TokenError::Inactive), self.refused_until(now)),
            Err(Error::InvalidToken(error)) => (Err(error), self.refused_until(now)),
            // Failures to get an answer are not verdicts on the token: never cached.
            Err(other) => return Err(other),
        };
        self.cache.insert(hash, verdict.clone(), until);
        verdict.map_err(Error::InvalidToken)
    }

    fn refused_until(&self, now: UnixTime) -> UnixTime {
        now.saturating_add(self.options.refused_ttl_secs)
    }

    /// One POST to the endpoint (RFC 7662 §2.1).
    async fn ask(&self, token: &str, hash: &TokenHash, now: UnixTime) -> Result<Answer, Error> {
        let credentials = match &self.client_auth {
            Some(client_auth) => Some(client_auth.apply(&self.issuer, now)?),
            None => None,
        };
        let mut params: Vec<(&str, &str)> =
            vec![("token", token), ("token_type_hint", "access_token")];
        let mut headers = vec![
            ("accept", "application/json"),
            ("content-type", "application/x-www-form-urlencoded"),
        ];
        if let Some(credentials) = &credentials {
            if let Some(authorization) = &credentials.authorization {
                headers.push(("authorization", authorization.as_str()));
            }
            params.extend(
                credentials
                    .form
                    .iter()
                    .map(|(name, value)| (*name, value.as_str())),
            );
        }
        let body = Zeroizing::new(form::encode(&params));
        let response = self
            .transport
            .send(OutgoingRequest {
                method: HttpMethod::Post,
                url: &self.endpoint,
                headers: &headers,
                body: body.as_bytes(),
                timeout: self.options.timeout,
                max_body: self.options.max_response_len,
            })
            .await?;
        if response.body.len() > self.options.max_response_len {
            return Err(UpstreamError::TooLarge.into());
        }
        if response.status != 200 {
            return Err(UpstreamError::Status(response.status).into());
        }
        introspection_response::read(
            &response.body,
            hash,
            &Expectations {
                issuer: &self.issuer,
                audiences: &self.audiences,
                leeway_secs: self.options.leeway_secs,
            },
            now,
        )
    }
}

impl core::fmt::Debug for Introspector {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let auth = self.client_auth.as_ref().map_or("none", ClientAuth::method);
        f.debug_struct("Introspector")
            .field("endpoint", &self.endpoint)
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("client_auth", &auth)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}
