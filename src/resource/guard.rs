//! The resource-server request guard (RFC 9449 §7): token, proof, binding, revocation, replay.

use std::sync::Arc;

use crate::error::{Error, ProofError, TokenError};
use crate::jose::jwe::compact;
use crate::jose::jwe::decryption::DecryptionKey;
use crate::jose::thumbprint::{Thumbprint, TokenHash};
use crate::proof::replay::{AsyncReplayStore, MemoryReplayStore, ReplayStore};
use crate::proof::request::ProofRequest;
use crate::proof::verifier::{ProofVerifier, VerifiedProof};
use crate::remote_issuer::introspection::Introspector;
use crate::resource::authorization::{self, Scheme};
use crate::resource::challenge;
use crate::resource::scope_requirement::ScopeRequirement;
use crate::resource::token_cache::{TokenCache, DEFAULT_TOKEN_CACHE_CAPACITY};
use crate::resource::token_decryption::{SignedToken, TokenDecryption};
use crate::resource::trusted_issuers::TrustedIssuers;
use crate::revocation::{AsyncRevocationStore, MemoryRevocationStore, RevocationStore, Settled};
use crate::time::{Clock, UnixTime};
use crate::token::claims::AccessTokenClaims;
use crate::token::verifier::{TokenVerifier, VerifiedToken};

/// What the guard needs to know about a request.
///
/// `url` is the URL the client used, built from the server's configured public origin and the
/// request path — never from the `Host` header unless a trusted proxy policy says so. `Debug`
/// does not print the header values (they carry credentials).
#[derive(Clone, Copy)]
pub struct ResourceRequest<'a> {
    method: &'a str,
    url: &'a str,
    authorization: &'a [&'a str],
    dpop: &'a [&'a str],
}

impl<'a> ResourceRequest<'a> {
    /// A request with `method`, public `url`, every `Authorization` header value and every
    /// `DPoP` header value.
    pub fn new(
        method: &'a str,
        url: &'a str,
        authorization: &'a [&'a str],
        dpop: &'a [&'a str],
    ) -> Self {
        Self {
            method,
            url,
            authorization,
            dpop,
        }
    }
}

impl core::fmt::Debug for ResourceRequest<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResourceRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("authorization", &self.authorization.len())
            .field("dpop", &self.dpop.len())
            .finish()
    }
}

/// A request that passed every stateless check; revocation and replay remain.
struct Pending {
    claims: Arc<AccessTokenClaims>,
    scheme: Scheme,
    /// The checked, not yet registered, proof (`None` for an accepted bearer token).
    proof: Option<VerifiedProof>,
}

/// A failed check, with the token's claims when they were verified before the failure (a bad
/// proof, revocation, replay): the rejection reports who was refused.
struct Refused {
    error: Error,
    claims: Option<Arc<AccessTokenClaims>>,
}

impl From<Error> for Refused {
    fn from(error: Error) -> Self {
        Self {
            error,
            claims: None,
        }
    }
}

impl Refused {
    fn of(claims: &Arc<AccessTokenClaims>) -> impl FnOnce(Error) -> Self + '_ {
        move |error| Self {
            error,
            claims: Some(claims.clone()),
        }
    }
}

impl Pending {
    fn authorized(self) -> Authorized {
        Authorized {
            jkt: self.proof.as_ref().map(VerifiedProof::thumbprint),
            fresh_nonce: self
                .proof
                .as_ref()
                .and_then(|p| p.fresh_nonce().map(str::to_owned)),
            claims: self.claims,
            scheme: self.scheme,
        }
    }
}

/// A request that passed every check. Only [`RequestGuard::check`] makes one.
#[derive(Clone, Debug)]
#[must_use]
pub struct Authorized {
    claims: Arc<AccessTokenClaims>,
    scheme: Scheme,
    jkt: Option<Thumbprint>,
    fresh_nonce: Option<String>,
}

impl Authorized {
    /// `sub`.
    pub fn subject(&self) -> &str {
        self.claims.subject()
    }

    /// `client_id`.
    pub fn client_id(&self) -> &str {
        self.claims.client_id()
    }

    /// The token's scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.claims.scopes()
    }

    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.claims.has_scope(scope)
    }

    /// Whether the token meets `required` (one scope, any of a set, all of a set).
    pub fn meets(&self, required: &ScopeRequirement) -> bool {
        required.is_met_by(&self.claims)
    }

    /// The thumbprint of the key the request proved possession of (`None` only for a bearer
    /// token, when the guard accepts those).
    pub fn jkt(&self) -> Option<Thumbprint> {
        self.jkt
    }

    /// The access token's `jti`.
    pub fn token_jti(&self) -> &str {
        self.claims.jti()
    }

    /// Every claim of the access token.
    pub fn claims(&self) -> &AccessTokenClaims {
        &self.claims
    }

    /// Every claim of the access token deserialized into `T`
    /// (see [`AccessTokenClaims::claims_as`]).
    pub fn claims_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        self.claims.claims_as()
    }

    /// The scheme the token was presented with.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// A new nonce to send in `DPoP-Nonce` with the response (RFC 9449 §8.2), when the proof's
    /// nonce is still accepted but no longer current.
    pub fn fresh_nonce(&self) -> Option<&str> {
        self.fresh_nonce.as_deref()
    }
}

/// A refused request and the exact HTTP answer for it. `Debug` shows the answer and the
/// diagnostic, and of the refused principal only whether it is known: the token's claims
/// (subject, e-mail, roles) stay out of logs that print rejections.
#[derive(Clone, PartialEq, Eq)]
#[must_use]
pub struct Rejection {
    error: Error,
    status: u16,
    www_authenticate: String,
    diagnostic: Option<String>,
    claims: Option<Arc<AccessTokenClaims>>,
}

impl Rejection {
    /// Why the request was refused (for logs and metrics; never send its `Display` text).
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// [`error`](Self::error)'s stable snake_case [`reason`](Error::reason): the label set for
    /// logs and metrics.
    pub fn reason(&self) -> &'static str {
        self.error.reason()
    }

    /// The `error` code of the challenge (`invalid_token`, `invalid_dpop_proof`, …); `None`
    /// for a bare challenge (no credentials, 503).
    pub fn error_code(&self) -> Option<crate::error::ErrorCode> {
        self.error.code(crate::error::Endpoint::Resource)
    }

    /// The HTTP status: 400, 401, 403, 429 (the proof's key is over its share of the replay
    /// store; see [`retry_after_secs`](Self::retry_after_secs)) or 503.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The `WWW-Authenticate` header value.
    pub fn www_authenticate(&self) -> &str {
        &self.www_authenticate
    }

    /// The `DPoP-Nonce` header value, when the client must retry with a nonce.
    pub fn dpop_nonce(&self) -> Option<&str> {
        self.error.dpop_nonce()
    }

    /// The `Retry-After` header value in seconds, on a 429.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.error.retry_after_secs()
    }

    /// Details for the server's own logs — **never send them to the client**. For an `htu`
    /// mismatch: the URL the server expected and the `htu` the proof named (escaped and
    /// truncated; the latter is attacker-controlled text).
    pub fn diagnostic(&self) -> Option<&str> {
        self.diagnostic.as_deref()
    }

    /// The access token's claims when it was verified before the refusal (a failed proof or
    /// binding, revocation, replay, missing scope): whose token was refused. `None` when the
    /// token itself failed or never got checked. They name the token's owner, not
    /// necessarily the sender: a stolen token refused for a foreign key names its victim.
    pub fn claims(&self) -> Option<&AccessTokenClaims> {
        self.claims.as_deref()
    }

    /// The same rejection, reporting `who` as the refused principal.
    #[cfg_attr(not(any(feature = "tower", feature = "actix")), allow(dead_code))]
    pub(crate) fn for_principal(mut self, who: &Authorized) -> Self {
        self.claims = Some(who.claims.clone());
        self
    }
}

impl core::fmt::Debug for Rejection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Rejection")
            .field("error", &self.error)
            .field("status", &self.status)
            .field("www_authenticate", &self.www_authenticate)
            .field("diagnostic", &self.diagnostic)
            .field("principal_known", &self.claims.is_some())
            .finish()
    }
}

/// `refused with HTTP 401: invalid access token: expired at …` — for the server's logs; the
/// text holds no token, proof or request data (see [`Rejection::diagnostic`] for that).
impl core::fmt::Display for Rejection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "refused with HTTP {}: {}", self.status, self.error)
    }
}

/// The cause is the [`Error`].
impl std::error::Error for Rejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// A rejection with a plain `DPoP` challenge (no realm, no Bearer), for code paths outside a
/// guard.
#[cfg_attr(not(any(feature = "axum", feature = "actix")), allow(dead_code))]
pub(crate) fn bare_rejection(error: Error) -> Rejection {
    Rejection {
        status: error.status(crate::error::Endpoint::Resource),
        www_authenticate: challenge::for_error(
            &error,
            None,
            challenge::ChallengeConfig {
                realm: None,
                accept_bearer: false,
                algs: crate::jose::algorithm::AlgorithmSet::all(),
                resource_metadata: None,
            },
            None,
        ),
        error,
        diagnostic: None,
        claims: None,
    }
}

/// `htu mismatch: expected "…", received "…"` for logs, both sides escaped and truncated.
fn htu_diagnostic(expected: &str, proofs: &[&str]) -> String {
    const MAX: usize = 256;
    let shorten = |text: &str| -> String { text.chars().take(MAX).collect() };
    let received = proofs
        .first()
        .and_then(|proof| crate::danger::decode_unverified(proof.trim()).ok())
        .and_then(|jwt| jwt.claims.get("htu").and_then(|v| v.as_str()).map(shorten));
    format!(
        "htu mismatch: expected {:?}, received {:?}",
        shorten(expected),
        received.as_deref().unwrap_or("(unreadable)")
    )
}

/// Decides protected-resource requests (RFC 9449 §7): one call with the method, the public URL,
/// the `Authorization` and `DPoP` header values answers [`Authorized`] or a [`Rejection`].
///
/// Checks, all of which must pass: exactly one `Authorization` header with the `DPoP` scheme;
/// the access token (RFC 9068: signature by a known key, `typ`, `iss`, `aud`, `exp`/`nbf`/`iat`
/// with leeway); the token is bound (`cnf.jkt`); the DPoP proof (every check of RFC 9449 §4.3,
/// `ath` included); the binding (`cnf.jkt` = the proof key's thumbprint); revocation; and
/// finally the proof's one-time use. Bearer tokens are refused unless enabled with
/// [`with_bearer_tokens`](Self::with_bearer_tokens), and a DPoP-bound token is refused under the
/// `Bearer` scheme either way (RFC 9449 §7.2).
///
/// Verified tokens are cached by their SHA-256, so a steady stream of requests pays one
/// signature verification each (the proof's); a cache hit never skips the other checks.
pub struct RequestGuard<R = MemoryReplayStore, V = MemoryRevocationStore> {
    issuers: TrustedIssuers,
    proofs: ProofVerifier<R>,
    revocation: V,
    cache: TokenCache,
    introspector: Option<Arc<Introspector>>,
    decryption: TokenDecryption,
    realm: Option<String>,
    resource_metadata: Option<String>,
    accept_bearer: bool,
}

impl RequestGuard {
    /// A guard for tokens accepted by `tokens`, with a default [`ProofVerifier`] (in-memory
    /// replay store, no nonces) and an in-memory revocation store.
    pub fn new(tokens: TokenVerifier) -> Self {
        Self {
            issuers: TrustedIssuers::new(tokens),
            proofs: ProofVerifier::new(),
            revocation: MemoryRevocationStore::new(),
            cache: TokenCache::new(DEFAULT_TOKEN_CACHE_CAPACITY),
            introspector: None,
            decryption: TokenDecryption::default(),
            realm: None,
            resource_metadata: None,
            accept_bearer: false,
        }
    }
}

impl<R, V> RequestGuard<R, V> {
    /// Uses `proofs` (its options, replay store and nonce engine) for the DPoP proofs.
    pub fn with_proof_verifier<R2>(self, proofs: ProofVerifier<R2>) -> RequestGuard<R2, V> {
        RequestGuard {
            issuers: self.issuers,
            proofs,
            revocation: self.revocation,
            cache: self.cache,
            introspector: self.introspector,
            decryption: self.decryption,
            realm: self.realm,
            resource_metadata: self.resource_metadata,
            accept_bearer: self.accept_bearer,
        }
    }

    /// Uses `revocation` as the revocation store (share it with the issuer).
    pub fn with_revocation_store<V2>(self, revocation: V2) -> RequestGuard<R, V2> {
        RequestGuard {
            issuers: self.issuers,
            proofs: self.proofs,
            revocation,
            cache: self.cache,
            introspector: self.introspector,
            decryption: self.decryption,
            realm: self.realm,
            resource_metadata: self.resource_metadata,
            accept_bearer: self.accept_bearer,
        }
    }

    /// Adds `realm` to every challenge. Refused if it holds `"`, `\` or control characters.
    pub fn with_realm(mut self, realm: impl Into<String>) -> Result<Self, Error> {
        let realm = realm.into();
        if !challenge::is_quotable(&realm) {
            return Err(Error::InvalidArgument("realm"));
        }
        self.realm = Some(realm);
        Ok(self)
    }

    /// Names the URL of this resource's protected resource metadata (RFC 9728 §3) in every
    /// challenge, as `resource_metadata="…"` (RFC 9728 §5.1), so clients can discover which
    /// authorization servers to ask. Refused unless it is an `https` URL (or `http` on
    /// loopback) that can be quoted as is. See
    /// [`ProtectedResourceMetadata::url`](crate::ProtectedResourceMetadata::url).
    pub fn with_resource_metadata(mut self, url: impl Into<String>) -> Result<Self, Error> {
        let url = url.into();
        if !challenge::is_quotable(&url) || crate::secure_url::check(&url).is_err() {
            return Err(Error::InvalidArgument("resource_metadata"));
        }
        self.resource_metadata = Some(url);
        Ok(self)
    }

    /// Also accepts unbound tokens (no `cnf`) under the `Bearer` scheme, and answers with both
    /// challenges (RFC 9449 §7.2). Default: off — DPoP only. Bound tokens are never accepted as
    /// bearer tokens.
    pub fn with_bearer_tokens(mut self, accept: bool) -> Self {
        self.accept_bearer = accept;
        self
    }

    /// Sets the verified-token cache capacity (default 16 384; 0 disables the cache).
    pub fn with_token_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache = TokenCache::new(capacity);
        self
    }

    /// Also trusts the issuer of `tokens` (its own key set, algorithms, audiences and limits).
    /// The token's `iss` picks the issuer, and that issuer's keys must have signed it.
    /// Refused ([`Error::InvalidArgument`]) when that issuer is already trusted.
    pub fn with_issuer(mut self, tokens: TokenVerifier) -> Result<Self, Error> {
        self.issuers.push(tokens)?;
        Ok(self)
    }

    /// Decrypts encrypted access tokens (nested JWTs, RFC 7519 §5.2) with `key` before
    /// verifying the signed token inside as usual; call once per key (rotation: the token's
    /// `kid` picks). The DPoP `ath` stays the hash of the token as presented (RFC 9449 §4.2),
    /// and the verified-token cache is keyed on it, so a warm request decrypts nothing.
    pub fn with_decryption_key(self, key: crate::DecryptionKey) -> Self {
        self.with_decryption_key_parts(key.into_nested())
    }

    pub(crate) fn with_decryption_key_parts(mut self, key: DecryptionKey) -> Self {
        self.decryption.add(key);
        self
    }

    /// Refuses tokens that are not encrypted (`invalid_token`, [`TokenError::NotEncrypted`]):
    /// for a deployment whose authorization server encrypts every token. Off by default.
    pub fn requiring_encrypted_tokens(mut self) -> Self {
        self.decryption.require();
        self
    }

    /// Sends opaque tokens — anything that is not a compact JWS — to `introspector`
    /// (RFC 7662) instead of verifying them locally; JWTs are still verified with the
    /// issuers' keys. The answer's claims then go through the same binding, proof, revocation
    /// and replay checks. [`check_async`](Self::check_async) asks the endpoint (cache first);
    /// the synchronous [`check`](Self::check) answers from the introspection cache only and
    /// refuses a token it has no answer for with 503 ([`UpstreamError::IntrospectionNeedsAsync`](crate::UpstreamError::IntrospectionNeedsAsync)).
    pub fn with_introspection(mut self, introspector: Introspector) -> Self {
        self.introspector = Some(Arc::new(introspector));
        self
    }

    /// The first issuer's token verifier (to replace its key set).
    pub fn tokens(&self) -> &TokenVerifier {
        self.issuers.first()
    }

    /// Every trusted issuer's token verifier, the first one first.
    pub fn issuers(&self) -> &[TokenVerifier] {
        self.issuers.all()
    }

    /// The proof verifier.
    pub fn proofs(&self) -> &ProofVerifier<R> {
        &self.proofs
    }

    /// The revocation store (to revoke through this guard).
    pub fn revocation(&self) -> &V {
        &self.revocation
    }

    /// [`check`](Self::check) at the time `clock` reads.
    pub fn check_with_clock(
        &self,
        request: &ResourceRequest<'_>,
        clock: &dyn Clock,
    ) -> Result<Authorized, Rejection>
    where
        R: ReplayStore,
        V: RevocationStore,
    {
        self.check(request, clock.now())
    }

    /// Decides `request` at `now`.
    pub fn check(
        &self,
        request: &ResourceRequest<'_>,
        now: UnixTime,
    ) -> Result<Authorized, Rejection>
    where
        R: ReplayStore,
        V: RevocationStore,
    {
        let _span = crate::observe::enter_check(request.method);
        let credentials = match authorization::parse(request.authorization) {
            Ok(credentials) => credentials,
            Err(error) => {
                let rejection = self.reject_as(error, None);
                crate::observe::rejected(&rejection);
                return Err(rejection);
            }
        };
        let scheme = credentials.scheme;
        let result = self
            .prepare(request, credentials.token, scheme, now)
            .and_then(|pending| {
                let claims = pending.claims.clone();
                self.finish(pending, now).map_err(Refused::of(&claims))
            });
        self.answer(result, scheme, request)
    }

    /// Revocation and the proof's one-time use, with synchronous stores.
    fn finish(&self, pending: Pending, now: UnixTime) -> Result<Authorized, Error>
    where
        R: ReplayStore,
        V: RevocationStore,
    {
        if RevocationStore::is_revoked(&self.revocation, &pending.claims, now)? {
            return Err(TokenError::Revoked.into());
        }
        if let Some(proof) = &pending.proof {
            self.proofs.register(proof, now)?;
        }
        Ok(pending.authorized())
    }

    /// [`check`](Self::check) for stores with an asynchronous API (Redis). The stateless checks
    /// run inline — CPU only, about one or two signature verifications, no I/O — and the
    /// revocation lookup and replay registration are awaited, so the runtime is never blocked
    /// on the network.
    pub async fn check_async(
        &self,
        request: &ResourceRequest<'_>,
        now: UnixTime,
    ) -> Result<Authorized, Rejection>
    where
        R: AsyncReplayStore,
        V: AsyncRevocationStore,
    {
        crate::observe::in_check_span(request.method, self.check_async_unobserved(request, now))
            .await
    }

    async fn check_async_unobserved(
        &self,
        request: &ResourceRequest<'_>,
        now: UnixTime,
    ) -> Result<Authorized, Rejection>
    where
        R: AsyncReplayStore,
        V: AsyncRevocationStore,
    {
        let credentials = match authorization::parse(request.authorization) {
            Ok(credentials) => credentials,
            Err(error) => {
                let rejection = self.reject_as(error, None);
                crate::observe::rejected(&rejection);
                return Err(rejection);
            }
        };
        let scheme = credentials.scheme;
        let token = credentials.token;
        let hash = TokenHash::of(token);
        if let Some(introspector) = self.opaque_token_introspector(token) {
            let result = match self.introspectable(token) {
                Ok(()) => introspector.introspect_hashed(token, &hash, now).await,
                Err(error) => Err(error),
            };
            let result = match result
                .map_err(Refused::from)
                .and_then(|c| self.bind(request, c, hash, scheme, now))
            {
                Err(refused) => Err(refused),
                Ok(pending) => self.finish_async(pending, now).await,
            };
            return self.answer(result, scheme, request);
        }
        let verified = match self.verified_token(token, &hash, now) {
            // A `kid` the key set does not hold may be a key the issuer just rotated in: the
            // remote key set refetches (at most once per its interval) and the token gets one
            // more try.
            Err(Error::InvalidToken(TokenError::UnknownKey)) => {
                let signed = self.signed_token(token);
                let verifier = signed.and_then(|signed| self.issuers.for_token(signed.as_str()));
                match verifier {
                    Ok(verifier) if verifier.refresh_for_unknown_kid(now).await => {
                        self.verified_token(token, &hash, now)
                    }
                    _ => Err(TokenError::UnknownKey.into()),
                }
            }
            other => other,
        };
        let bound = verified
            .map_err(Refused::from)
            .and_then(|v| self.bind(request, v.shared_claims().clone(), hash, scheme, now));
        let result = match bound {
            Err(refused) => Err(refused),
            Ok(pending) => self.finish_async(pending, now).await,
        };
        self.answer(result, scheme, request)
    }

    /// Revocation and the proof's one-time use, with asynchronous stores.
    async fn finish_async(&self, pending: Pending, now: UnixTime) -> Result<Authorized, Refused>
    where
        R: AsyncReplayStore,
        V: AsyncRevocationStore,
    {
        match self.settle_async(&pending, now).await {
            Ok(()) => Ok(pending.authorized()),
            Err(error) => Err(Refused::of(&pending.claims)(error)),
        }
    }

    async fn settle_async(&self, pending: &Pending, now: UnixTime) -> Result<(), Error>
    where
        R: AsyncReplayStore,
        V: AsyncRevocationStore,
    {
        let Some(proof) = &pending.proof else {
            // An accepted bearer token: no proof to record.
            if AsyncRevocationStore::is_revoked(&self.revocation, &pending.claims, now).await? {
                return Err(TokenError::Revoked.into());
            }
            return Ok(());
        };
        let (key, expires_at) = self.proofs.replay_entry(proof);
        let replay = self.proofs.replay_store();
        let settled = self
            .revocation
            .check_and_register(&pending.claims, replay, &key, expires_at, now)
            .await?;
        match settled {
            Settled::Registered => Ok(()),
            Settled::Revoked => Err(TokenError::Revoked.into()),
            Settled::Replayed => Err(ProofError::Replayed.into()),
        }
    }

    /// The answer to a check: the principal, or the rejection (reported to the `tracing`
    /// subscriber, when the feature is on).
    fn answer(
        &self,
        result: Result<Authorized, Refused>,
        scheme: Scheme,
        request: &ResourceRequest<'_>,
    ) -> Result<Authorized, Rejection> {
        result.map_err(|refused| {
            let rejection = self.reject_for(refused, scheme, request);
            crate::observe::rejected(&rejection);
            rejection
        })
    }

    /// The rejection for `refused`, with the `htu` diagnostic when it applies.
    fn reject_for(
        &self,
        refused: Refused,
        scheme: Scheme,
        request: &ResourceRequest<'_>,
    ) -> Rejection {
        let htu_problem = matches!(
            refused.error,
            Error::InvalidProof(ProofError::UrlMismatch | ProofError::InvalidClaim("htu"))
        );
        let mut rejection = self.reject_as(refused.error, Some(scheme));
        rejection.claims = refused.claims;
        if htu_problem {
            rejection.diagnostic = Some(htu_diagnostic(request.url, request.dpop));
        }
        rejection
    }

    /// Every stateless check: credentials read, token verified (or cached), binding, proof.
    /// What is left — revocation and replay registration — needs the stores.
    fn prepare(
        &self,
        request: &ResourceRequest<'_>,
        token: &str,
        scheme: Scheme,
        now: UnixTime,
    ) -> Result<Pending, Refused> {
        let hash = TokenHash::of(token);
        if let Some(introspector) = self.opaque_token_introspector(token) {
            self.introspectable(token)?;
            let claims = match introspector.cached(&hash, now) {
                Some(verdict) => verdict.map_err(Error::from)?,
                None => {
                    let error = crate::error::UpstreamError::IntrospectionNeedsAsync;
                    return Err(Error::from(error).into());
                }
            };
            return self.bind(request, claims, hash, scheme, now);
        }
        let verified = self.verified_token(token, &hash, now)?;
        self.bind(request, verified.shared_claims().clone(), hash, scheme, now)
    }

    /// The introspector, when one is configured and `token` is not a compact JWS (nor a
    /// compact JWE this guard holds keys for).
    fn opaque_token_introspector(&self, token: &str) -> Option<&Introspector> {
        let introspector = self.introspector.as_deref()?;
        let local = token.split('.').count() == 3
            || (self.decryption.has_keys() && compact::looks_like_jwe(token));
        (!local).then_some(introspector)
    }

    /// The signed token to verify for the presented `token`: decrypted if it is a JWE (with
    /// no decryption key configured, an encrypted token is refused: `JweError::NoKey`).
    fn signed_token<'t>(&self, token: &'t str) -> Result<SignedToken<'t>, Error> {
        let max_len = self.issuers.first().options().max_token_len;
        self.decryption.signed(token, max_len)
    }

    /// An opaque token is sent to the authorization server only within the size limit.
    fn introspectable(&self, token: &str) -> Result<(), Error> {
        if token.len() > self.issuers.first().options().max_token_len {
            return Err(TokenError::TooLarge.into());
        }
        Ok(())
    }

    /// The checks after the token's own: scheme, binding and the proof.
    fn bind(
        &self,
        request: &ResourceRequest<'_>,
        claims: Arc<AccessTokenClaims>,
        hash: TokenHash,
        scheme: Scheme,
        now: UnixTime,
    ) -> Result<Pending, Refused> {
        match self.bound_proof(request, &claims, hash, scheme, now) {
            Ok(proof) => Ok(Pending {
                claims,
                scheme,
                proof,
            }),
            Err(error) => Err(Refused::of(&claims)(error)),
        }
    }

    /// The proof that binds the token to the request (`None` for an accepted bearer token).
    fn bound_proof(
        &self,
        request: &ResourceRequest<'_>,
        claims: &AccessTokenClaims,
        hash: TokenHash,
        scheme: Scheme,
        now: UnixTime,
    ) -> Result<Option<VerifiedProof>, Error> {
        let Some(jkt) = claims.jkt() else {
            // An unbound token: acceptable only as a bearer token, and only when enabled.
            return match scheme {
                Scheme::Dpop => Err(TokenError::NotBound.into()),
                Scheme::Bearer if !self.accept_bearer => Err(TokenError::BearerNotAccepted.into()),
                Scheme::Bearer => Ok(None),
            };
        };
        if scheme == Scheme::Bearer {
            return Err(TokenError::BoundTokenAsBearer.into());
        }

        let proof_request = ProofRequest::new(request.method, request.url, request.dpop)
            .with_access_token_hash(hash);
        let proof = self.proofs.check(&proof_request, now)?;
        if proof.thumbprint() != jkt {
            return Err(TokenError::KeyMismatch.into());
        }
        Ok(Some(proof))
    }

    /// The token from the cache (times and key still checked) or freshly verified.
    fn verified_token(
        &self,
        token: &str,
        hash: &TokenHash,
        now: UnixTime,
    ) -> Result<VerifiedToken, Error> {
        // Before the cache: a plain token cached earlier must not pass once encryption is
        // required.
        self.decryption.check_required(token)?;
        if let Some(cached) = self.cache.get(hash, now) {
            let verifier = self
                .issuers
                .by_issuer(cached.claims().issuer())
                .ok_or(TokenError::WrongIssuer)?;
            // The key that verified the token must still be the key its `kid` names: a key
            // removed, or replaced under the same `kid`, invalidates cached tokens.
            if verifier.key_thumbprint(cached.kid(), now)? != Some(cached.key()) {
                return Err(TokenError::UnknownKey.into());
            }
            verifier.check_times(cached.claims(), now)?;
            return Ok(cached);
        }
        let signed = self.signed_token(token)?;
        let signed = signed.as_str();
        let verified = self.issuers.for_token(signed)?.verify(signed, now)?;
        self.cache.insert(hash, &verified);
        Ok(verified)
    }

    /// The answer for `error`, with this guard's realm and challenges. Use it to answer errors
    /// found outside the guard in the same shape.
    pub fn reject(&self, error: Error) -> Rejection {
        self.reject_as(error, None)
    }

    /// A 403 `insufficient_scope` answer naming scopes that meet `required`.
    pub fn scope_not_met(&self, required: &ScopeRequirement) -> Rejection {
        self.insufficient_scope(&required.sufficient_scopes())
    }

    /// A 403 `insufficient_scope` answer naming the `scope` the resource needs
    /// (space-separated scope tokens; refused characters are dropped).
    pub fn insufficient_scope(&self, scope: &str) -> Rejection {
        let scope: String = scope
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .filter(|c| *c != '"' && *c != '\\')
            .collect();
        let error = Error::InsufficientScope;
        Rejection {
            status: error.status(crate::error::Endpoint::Resource),
            www_authenticate: challenge::for_error(
                &error,
                Some(Scheme::Dpop),
                self.challenge_config(),
                Some(&scope),
            ),
            error,
            diagnostic: None,
            claims: None,
        }
    }

    fn challenge_config(&self) -> challenge::ChallengeConfig<'_> {
        challenge::ChallengeConfig {
            realm: self.realm.as_deref(),
            accept_bearer: self.accept_bearer,
            algs: self.proofs.options().algorithms,
            resource_metadata: self.resource_metadata.as_deref(),
        }
    }

    fn reject_as(&self, error: Error, scheme: Option<Scheme>) -> Rejection {
        Rejection {
            status: error.status(crate::error::Endpoint::Resource),
            www_authenticate: challenge::for_error(&error, scheme, self.challenge_config(), None),
            error,
            diagnostic: None,
            claims: None,
        }
    }
}

impl<R, V> core::fmt::Debug for RequestGuard<R, V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RequestGuard")
            .field("issuers", &self.issuers.all())
            .field("proofs", &self.proofs)
            .field("realm", &self.realm)
            .field("accept_bearer", &self.accept_bearer)
            .finish_non_exhaustive()
    }
}
