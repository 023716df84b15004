//! Verifying RFC 9068 access tokens: signature by a known key, `typ`, issuer, audience, times.

use std::sync::Arc;

use serde_json::Value;

use crate::error::{Error, JoseError, TokenError};
use crate::jose::algorithm::{Algorithm, AlgorithmSet};
use crate::jose::json;
use crate::jose::jwk::{MAX_RSA_BITS, MIN_RSA_BITS};
use crate::jose::jws;
use crate::jose::key_type::KeyType;
use crate::jose::thumbprint::Thumbprint;
use crate::secure_url;
use crate::time::UnixTime;
use crate::token::claims::AccessTokenClaims;
use crate::token::key_set::KeySet;
use crate::token::key_slot::{KeySlot, UnknownKidRefresh};

/// The verifier's default longest token lifetime (`exp − iat`): **5400** seconds (90 minutes),
/// so tokens of the authorization servers people run verify out of the box — Keycloak (5 min),
/// node-oidc-provider and Okta (1 h), Entra ID (60–90 min). The issuer in this crate keeps its
/// own default short (5 min, [`DEFAULT_TOKEN_LIFETIME_SECS`](crate::DEFAULT_TOKEN_LIFETIME_SECS)).
pub const DEFAULT_MAX_ACCEPTED_LIFETIME_SECS: u64 = 90 * 60;

/// Limits and clock tolerance for access-token verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenOptions {
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. Default **5**, the same as
    /// for proofs: tokens are short-lived, so minutes of leeway would be a large fraction of
    /// their life.
    pub leeway_secs: u64,
    /// Largest token accepted, in bytes, checked before decoding. Default **16384** (16 KiB):
    /// generous for claims, small enough to bound parsing.
    pub max_token_len: usize,
    /// Deepest JSON nesting accepted in the claims. Default **16**.
    pub max_json_depth: usize,
    /// Longest accepted token lifetime (`exp − iat`), in seconds. Default **5400**
    /// ([`DEFAULT_MAX_ACCEPTED_LIFETIME_SECS`]): 90 minutes, the longest default of common
    /// authorization servers (Entra ID). Revocations by key and subject are kept that long, so
    /// a longer-lived token could outlive them: if you raise it, revoke with an `until` at
    /// least as far out. Lower it to what your issuer really issues.
    pub max_lifetime_secs: u64,
    /// The token algorithms accepted from this issuer. Default: **all eleven** supported
    /// (ES256/384/512, Ed25519, EdDSA, RS256/384/512, PS256/384/512), each only with a key of
    /// the issuer's that fits it (and equals the key's JWK `alg` when it names one): RS256 is
    /// the default of most authorization servers, and the key fixes the algorithm, so a wide
    /// set adds no confusion. Narrow it to what the issuer uses.
    pub algorithms: AlgorithmSet,
    /// Largest RSA modulus of an issuer key, in bits. Default **4096**; at most **8192**
    /// ([`with_max_rsa_bits`](Self::with_max_rsa_bits) caps it). A token signed by a larger
    /// key is refused before its signature is checked.
    pub max_rsa_bits: usize,
}

impl TokenOptions {
    /// The defaults described on each field.
    pub const fn new() -> Self {
        Self {
            leeway_secs: 5,
            max_token_len: 16 * 1024,
            max_json_depth: 16,
            max_lifetime_secs: DEFAULT_MAX_ACCEPTED_LIFETIME_SECS,
            algorithms: AlgorithmSet::all(),
            max_rsa_bits: 4096,
        }
    }

    /// Sets [`algorithms`](Self::algorithms), e.g. `[Algorithm::Rs256]`.
    pub fn with_algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Sets [`max_rsa_bits`](Self::max_rsa_bits), clamped to 2048..=8192.
    pub const fn with_max_rsa_bits(mut self, bits: usize) -> Self {
        self.max_rsa_bits = if bits < MIN_RSA_BITS {
            MIN_RSA_BITS
        } else if bits > MAX_RSA_BITS {
            MAX_RSA_BITS
        } else {
            bits
        };
        self
    }

    /// Sets [`leeway_secs`](Self::leeway_secs).
    pub const fn with_leeway_secs(mut self, secs: u64) -> Self {
        self.leeway_secs = secs;
        self
    }

    /// Sets [`max_token_len`](Self::max_token_len).
    pub const fn with_max_token_len(mut self, bytes: usize) -> Self {
        self.max_token_len = bytes;
        self
    }

    /// Sets [`max_json_depth`](Self::max_json_depth).
    pub const fn with_max_json_depth(mut self, depth: usize) -> Self {
        self.max_json_depth = depth;
        self
    }

    /// Sets [`max_lifetime_secs`](Self::max_lifetime_secs).
    pub const fn with_max_lifetime_secs(mut self, secs: u64) -> Self {
        self.max_lifetime_secs = secs;
        self
    }
}

impl Default for TokenOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// Verifies access tokens from one issuer for its audiences (RFC 9068 §4): `typ` `at+jwt`,
/// a signature by the key named by `kid` in the issuer's [`KeySet`] — fixed, or kept current
/// by a [`RemoteKeySet`](crate::RemoteKeySet) — with an `alg` that is accepted
/// ([`TokenOptions::algorithms`]) and fixed by that key, `iss`, `aud` (one of the accepted
/// audiences), `exp`, `nbf`, `iat`, and the required claims (`sub`, `client_id`, `jti`).
///
/// A [`VerifiedToken`] says the token is genuine and current; it does **not** say the presenter
/// holds the bound key. Protect resources with [`RequestGuard`](crate::RequestGuard), which adds
/// the proof, binding, revocation and replay checks.
pub struct TokenVerifier {
    issuer: String,
    audiences: Vec<String>,
    keys: Arc<KeySlot>,
    refresh: Option<Arc<dyn UnknownKidRefresh>>,
    options: TokenOptions,
    insecure_http: bool,
}

impl TokenVerifier {
    /// Tokens from `issuer` (exact match with `iss`) for `audience` (must appear in `aud`),
    /// signed by a key in `keys`.
    ///
    /// An `http` issuer on a host that is not loopback (RFC 8414 §2 and RFC 9068 §2.2 require
    /// `https`) makes [`verify`](Self::verify) fail with [`Error::InsecureUrl`]`("issuer")`
    /// (HTTP 500: a configuration error) unless [`allow_insecure_http`](Self::allow_insecure_http).
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, keys: KeySet) -> Self {
        Self::with_slot(issuer, audience, Arc::new(KeySlot::fixed(keys)), None)
    }

    pub(crate) fn with_slot(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        keys: Arc<KeySlot>,
        refresh: Option<Arc<dyn UnknownKidRefresh>>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            audiences: vec![audience.into()],
            keys,
            refresh,
            options: TokenOptions::new(),
            insecure_http: false,
        }
    }

    /// Accepts an `http` issuer on any host (for test rigs only).
    pub fn allow_insecure_http(mut self) -> Self {
        self.insecure_http = true;
        self
    }

    /// Also accepts tokens whose `aud` names `audience` (a resource server known under several
    /// names, e.g. an RFC 8707 resource URL and a logical name).
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// The `iss` this verifier accepts.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audiences this verifier accepts.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// Replaces the options.
    pub fn with_options(mut self, options: TokenOptions) -> Self {
        self.options = options;
        self
    }

    /// The options in force.
    pub fn options(&self) -> &TokenOptions {
        &self.options
    }

    /// Replaces the issuer's key set (e.g. after fetching a new JWKS), for good. Tokens signed
    /// by keys no longer in the set stop verifying, cached ones included. (A verifier built on
    /// a [`RemoteKeySet`](crate::RemoteKeySet) has its set replaced on every fetch.)
    pub fn set_keys(&self, keys: KeySet) {
        self.keys.replace(keys, UnixTime::from_secs(u64::MAX));
    }

    /// The thumbprint of the key `kid` names in the key set in force at `now`.
    pub(crate) fn key_thumbprint(
        &self,
        kid: &str,
        now: UnixTime,
    ) -> Result<Option<Thumbprint>, Error> {
        Ok(self.keys.current(now)?.get(kid).map(|key| key.thumbprint()))
    }

    /// Whether a token naming an unknown `kid` may be worth a second try: the key set's owner
    /// refetched it (at most once per its interval) and a newer set is in place.
    pub(crate) async fn refresh_for_unknown_kid(&self, now: UnixTime) -> bool {
        match &self.refresh {
            Some(refresh) => refresh.refresh_for_unknown_kid(now).await,
            None => false,
        }
    }

    /// Verifies `token` at `now`.
    ///
    /// Errors: [`Error::InvalidToken`] for a token that fails a check;
    /// [`Error::Upstream`] when the key set is not usable at all (a remote set not fetched yet,
    /// or past its grace period): the request should get a 503, not a 401.
    pub fn verify(&self, token: &str, now: UnixTime) -> Result<VerifiedToken, Error> {
        self.verify_inner(token, now)
    }

    fn verify_inner(&self, token: &str, now: UnixTime) -> Result<VerifiedToken, Error> {
        secure_url::refuse_plain_http(&self.issuer, self.insecure_http, "issuer")?;
        if token.len() > self.options.max_token_len {
            return Err(TokenError::TooLarge.into());
        }
        let parsed =
            jws::Compact::parse(token, self.options.max_json_depth).map_err(TokenError::Jose)?;
        match parsed.header().get("typ") {
            Some(Value::String(typ)) if jws::typ_is(typ, "at+jwt") => {}
            _ => return Err(TokenError::WrongType.into()),
        }
        let kid = match parsed.header().get("kid") {
            Some(Value::String(kid)) => kid.clone(),
            Some(_) => return Err(TokenError::Jose(JoseError::InvalidHeader("kid")).into()),
            None => return Err(TokenError::MissingKeyId.into()),
        };
        let keys = self.keys.current(now)?;
        let key = keys.get(&kid).ok_or(TokenError::UnknownKey)?;
        if let KeyType::Rsa { modulus_bits } = key.key_type() {
            if modulus_bits > self.options.max_rsa_bits {
                return Err(TokenError::KeyTooLarge { bits: modulus_bits }.into());
            }
        }
        parsed
            .verify(key, self.options.algorithms)
            .map_err(TokenError::Jose)?;

        let payload =
            crate::jose::base64url::decode(parsed.payload_b64()).map_err(TokenError::Jose)?;
        let object =
            json::parse_object(&payload, self.options.max_json_depth).map_err(TokenError::Jose)?;
        let claims = AccessTokenClaims::from_object(object)?;
        if claims.iss != self.issuer {
            return Err(TokenError::WrongIssuer.into());
        }
        if !self.accepts_audience(&claims.aud) {
            return Err(TokenError::WrongAudience.into());
        }
        if claims.exp.as_secs().saturating_sub(claims.iat.as_secs())
            > self.options.max_lifetime_secs
        {
            return Err(TokenError::LifetimeTooLong.into());
        }
        self.check_times(&claims, now)?;
        Ok(VerifiedToken {
            claims: Arc::new(claims),
            kid,
            key: key.thumbprint(),
        })
    }

    /// Whether `aud` names one of the accepted audiences.
    pub(crate) fn accepts_audience(&self, aud: &[String]) -> bool {
        aud.iter().any(|a| self.audiences.contains(a))
    }

    /// `exp`, `nbf` and `iat` against `now`, with leeway.
    pub(crate) fn check_times(
        &self,
        claims: &AccessTokenClaims,
        now: UnixTime,
    ) -> Result<(), TokenError> {
        let leeway = self.options.leeway_secs;
        if now.saturating_sub(leeway) >= claims.exp {
            return Err(TokenError::Expired {
                exp: claims.exp.as_secs(),
                now: now.as_secs(),
            });
        }
        for not_before in [claims.nbf, Some(claims.iat)].into_iter().flatten() {
            if not_before > now.saturating_add(leeway) {
                return Err(TokenError::NotYetValid {
                    nbf: not_before.as_secs(),
                    now: now.as_secs(),
                });
            }
        }
        Ok(())
    }
}

impl core::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("keys", &self.keys)
            .field("refreshes", &self.refresh.is_some())
            .field("options", &self.options)
            .finish()
    }
}

/// An access token whose signature, `typ`, issuer, audience and validity times were verified.
/// It does not by itself prove the presenter holds the bound key.
#[derive(Clone, Debug)]
#[must_use]
pub struct VerifiedToken {
    claims: Arc<AccessTokenClaims>,
    kid: String,
    key: Thumbprint,
}

impl VerifiedToken {
    /// The verified claims.
    pub fn claims(&self) -> &AccessTokenClaims {
        &self.claims
    }

    /// `cnf.jkt`, the key the token is bound to (`None` for a bearer token).
    pub fn jkt(&self) -> Option<Thumbprint> {
        self.claims.jkt
    }

    /// The `kid` of the key that signed the token.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn shared_claims(&self) -> &Arc<AccessTokenClaims> {
        &self.claims
    }

    /// The thumbprint of the key that verified the signature.
    pub(crate) fn key(&self) -> Thumbprint {
        self.key
    }

    pub(crate) fn from_cache(claims: Arc<AccessTokenClaims>, kid: String, key: Thumbprint) -> Self {
        Self { claims, kid, key }
    }
}
