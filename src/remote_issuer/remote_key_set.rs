//! A JWKS fetched from an issuer's `jwks_uri` that keeps itself current: cached as long as
//! `Cache-Control` says (clamped), refreshed ahead of expiry, refetched — rate-limited — when a
//! token names an unknown `kid`, served stale for a bounded grace period when fetches fail,
//! then refused (503).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::UpstreamError;
use crate::remote_issuer::cache_control;
use crate::remote_issuer::metadata::AuthorizationServerMetadata;
use crate::remote_issuer::transport::{self, HttpTransport};
use crate::secure_url;
use crate::time::{Clock, UnixTime};
use crate::token::key_set::{KeySet, MAX_JWKS_LEN};
use crate::token::key_slot::{BoxFuture, KeySlot, UnknownKidRefresh};
use crate::token::verifier::TokenVerifier;

/// How a [`RemoteKeySet`] caches, refreshes and gives up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemoteKeySetOptions {
    /// Shortest time a fetched set is used before it is refetched, whatever `Cache-Control`
    /// says (`no-store`, `max-age=0`), in seconds. Default **60**: a provider that forbids
    /// caching must not turn into a fetch per request.
    pub min_ttl_secs: u64,
    /// Longest time a fetched set is used, whatever `Cache-Control` says, in seconds.
    /// Default **86 400** (one day): removed keys stop verifying within a day at worst.
    pub max_ttl_secs: u64,
    /// Time a set is used when the response has no usable `Cache-Control`, in seconds.
    /// Default **300** (five minutes).
    pub default_ttl_secs: u64,
    /// Least time between two refetches caused by tokens naming a `kid` the set does not hold,
    /// in seconds. Default **30**: a rotation is picked up at once, while a flood of made-up
    /// `kid`s costs the provider at most one request per 30 s.
    pub unknown_kid_interval_secs: u64,
    /// How long past its expiry the last good set keeps serving while refetches fail, in
    /// seconds. Default **900** (15 minutes); after it, tokens are refused with 503 (fail
    /// closed) until a fetch succeeds.
    pub stale_grace_secs: u64,
    /// Time after a failed fetch before [`keep_current`](RemoteKeySet::keep_current) retries,
    /// in seconds. Default **10**.
    pub retry_secs: u64,
    /// How long one fetch may take. Default **5 s**.
    pub timeout: Duration,
    /// Largest JWKS read, in bytes. Default **256 KiB** (the most [`KeySet::from_jwks`]
    /// reads).
    pub max_jwks_len: usize,
}

impl RemoteKeySetOptions {
    /// The defaults described on each field.
    pub const fn new() -> Self {
        Self {
            min_ttl_secs: 60,
            max_ttl_secs: 86_400,
            default_ttl_secs: 300,
            unknown_kid_interval_secs: 30,
            stale_grace_secs: 900,
            retry_secs: 10,
            timeout: Duration::from_secs(5),
            max_jwks_len: MAX_JWKS_LEN,
        }
    }

    /// Sets [`min_ttl_secs`](Self::min_ttl_secs) and [`max_ttl_secs`](Self::max_ttl_secs).
    pub const fn with_ttl_bounds(mut self, min_secs: u64, max_secs: u64) -> Self {
        self.min_ttl_secs = min_secs;
        self.max_ttl_secs = max_secs;
        self
    }

    /// Sets [`default_ttl_secs`](Self::default_ttl_secs).
    pub const fn with_default_ttl_secs(mut self, secs: u64) -> Self {
        self.default_ttl_secs = secs;
        self
    }

    /// Sets [`unknown_kid_interval_secs`](Self::unknown_kid_interval_secs).
    pub const fn with_unknown_kid_interval_secs(mut self, secs: u64) -> Self {
        self.unknown_kid_interval_secs = secs;
        self
    }

    /// Sets [`stale_grace_secs`](Self::stale_grace_secs).
    pub const fn with_stale_grace_secs(mut self, secs: u64) -> Self {
        self.stale_grace_secs = secs;
        self
    }

    /// Sets [`retry_secs`](Self::retry_secs).
    pub const fn with_retry_secs(mut self, secs: u64) -> Self {
        self.retry_secs = secs;
        self
    }

    /// Sets [`timeout`](Self::timeout).
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`max_jwks_len`](Self::max_jwks_len) (at most 256 KiB).
    pub const fn with_max_jwks_len(mut self, bytes: usize) -> Self {
        self.max_jwks_len = if bytes > MAX_JWKS_LEN {
            MAX_JWKS_LEN
        } else {
            bytes
        };
        self
    }
}

impl Default for RemoteKeySetOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// When to fetch next, and what happened last.
#[derive(Debug)]
struct Schedule {
    /// When the background refresh should fetch (three quarters into the set's lifetime).
    refresh_at: UnixTime,
    /// When the last unknown-`kid` refetch ran.
    last_unknown_kid_fetch: Option<UnixTime>,
    /// The last fetch's failure, cleared by a success.
    last_error: Option<UpstreamError>,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            refresh_at: UnixTime::from_secs(0),
            last_unknown_kid_fetch: None,
            last_error: None,
        }
    }
}

struct Inner {
    jwks_uri: String,
    transport: Box<dyn HttpTransport>,
    slot: Arc<KeySlot>,
    options: Mutex<RemoteKeySetOptions>,
    schedule: Mutex<Schedule>,
    /// Bumped by every successful fetch.
    generation: AtomicU64,
    /// Held while a fetch runs: concurrent callers wait for it instead of fetching again.
    fetching: tokio::sync::Mutex<()>,
}

/// An issuer's JWKS (RFC 7517 §5), fetched from its `jwks_uri` and kept current.
///
/// Give [`verifier`](Self::verifier) to a [`RequestGuard`](crate::RequestGuard): requests then
/// read the last fetched set — the same cost as a fixed [`KeySet`]. Keep it current with
/// [`keep_current`](Self::keep_current) running in the background:
///
/// - a set is used for the response's `Cache-Control: max-age`, clamped to
///   [`min_ttl_secs`](RemoteKeySetOptions::min_ttl_secs)..=[`max_ttl_secs`](RemoteKeySetOptions::max_ttl_secs),
///   and refetched three quarters into that time;
/// - a token naming a `kid` the set lacks makes [`RequestGuard::check_async`](crate::RequestGuard::check_async)
///   refetch at once — at most once per
///   [`unknown_kid_interval_secs`](RemoteKeySetOptions::unknown_kid_interval_secs), concurrent
///   requests waiting for the same fetch — and retry the token once: a rotation costs no
///   failed request. This bounded wait is the only network access in the request path;
/// - when fetches fail, the last good set keeps serving for
///   [`stale_grace_secs`](RemoteKeySetOptions::stale_grace_secs) past its expiry; then every
///   token is refused with 503 ([`UpstreamError::KeysExpired`]) until a fetch succeeds;
/// - keys that disappear from the set stop verifying at once, cached tokens included.
///
/// The JWKS is read by [`KeySet::from_jwks`]: keys it cannot use (encryption keys, unknown
/// types) are skipped, and a set holding a private key is refused whole.
///
/// ```no_run
/// # async fn run() -> Result<(), keybound::UpstreamError> {
/// use keybound::{AuthorizationServerMetadata, RemoteKeySet, RequestGuard, UnixTime};
///
/// let http = reqwest::Client::new();
/// let issuer = "https://login.example.com";
/// let metadata = AuthorizationServerMetadata::discover(issuer, &http).await?;
/// let keys = RemoteKeySet::from_metadata(&metadata, http)?;
/// keys.refresh(UnixTime::now()).await?; // the first set, before serving
/// let guard = RequestGuard::new(keys.verifier(issuer, "https://api.example.com"));
/// tokio::spawn(keys.clone().keep_current(std::sync::Arc::new(keybound::SystemClock)));
/// # let _ = guard; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RemoteKeySet {
    inner: Arc<Inner>,
}

impl RemoteKeySet {
    /// A set fetched from `jwks_uri` through `transport` (e.g. a `reqwest::Client`), with the
    /// default [`RemoteKeySetOptions`]. Nothing is fetched yet.
    ///
    /// Errors: [`UpstreamError::InsecureUrl`] unless `jwks_uri` is `https` (or `http` on a
    /// loopback host).
    pub fn new(
        jwks_uri: impl Into<String>,
        transport: impl HttpTransport + 'static,
    ) -> Result<Self, UpstreamError> {
        let jwks_uri = jwks_uri.into();
        secure_url::check(&jwks_uri)?;
        Ok(Self {
            inner: Arc::new(Inner {
                jwks_uri,
                transport: Box::new(transport),
                slot: Arc::new(KeySlot::empty()),
                options: Mutex::new(RemoteKeySetOptions::new()),
                schedule: Mutex::new(Schedule::default()),
                generation: AtomicU64::new(0),
                fetching: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// The set at the metadata's `jwks_uri`.
    pub fn from_metadata(
        metadata: &AuthorizationServerMetadata,
        transport: impl HttpTransport + 'static,
    ) -> Result<Self, UpstreamError> {
        let jwks_uri = metadata
            .jwks_uri()
            .ok_or(UpstreamError::MissingEndpoint("jwks_uri"))?;
        Self::new(jwks_uri, transport)
    }

    /// Replaces the options (they apply from the next fetch on).
    pub fn with_options(self, options: RemoteKeySetOptions) -> Self {
        *lock(&self.inner.options) = options;
        self
    }

    /// The options in force.
    pub fn options(&self) -> RemoteKeySetOptions {
        *lock(&self.inner.options)
    }

    /// The URL the set is fetched from.
    pub fn jwks_uri(&self) -> &str {
        &self.inner.jwks_uri
    }

    /// A verifier of tokens from `issuer` for `audience`, reading this set.
    pub fn verifier(
        &self,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> TokenVerifier {
        let refresh: Arc<dyn UnknownKidRefresh> = self.inner.clone();
        TokenVerifier::with_slot(issuer, audience, self.inner.slot.clone(), Some(refresh))
    }

    /// The set in force at `now` (an error before the first fetch or past the grace period).
    pub fn current(&self, now: UnixTime) -> Result<Arc<KeySet>, UpstreamError> {
        self.inner.slot.current(now)
    }

    /// The last fetch's failure, if the last fetch failed.
    pub fn last_error(&self) -> Option<UpstreamError> {
        lock(&self.inner.schedule).last_error
    }

    /// When the background refresh fetches next.
    pub fn refresh_at(&self) -> UnixTime {
        lock(&self.inner.schedule).refresh_at
    }

    /// Fetches the set now (waiting for a fetch already running instead of starting another).
    /// On failure the set in force is kept (for its grace period).
    pub async fn refresh(&self, now: UnixTime) -> Result<(), UpstreamError> {
        let seen = self.inner.generation.load(Ordering::Acquire);
        let _fetching = self.inner.fetching.lock().await;
        if self.inner.generation.load(Ordering::Acquire) != seen {
            return Ok(()); // another caller fetched while this one waited
        }
        self.inner.fetch(now).await
    }

    /// Fetches the set if its refresh time has come.
    pub async fn refresh_if_due(&self, now: UnixTime) -> Result<(), UpstreamError> {
        if now >= self.refresh_at() {
            self.refresh(now).await
        } else {
            Ok(())
        }
    }

    /// Keeps the set current for ever: fetches when the refresh time comes, retries failures
    /// every [`retry_secs`](RemoteKeySetOptions::retry_secs). Spawn it on the runtime
    /// (`tokio::spawn(keys.clone().keep_current(clock))`); it never returns.
    pub async fn keep_current(self, clock: Arc<dyn Clock>) {
        loop {
            let now = clock.now();
            let wait = if self.last_error().is_some() {
                self.options().retry_secs
            } else {
                self.refresh_at().as_secs().saturating_sub(now.as_secs())
            };
            tokio::time::sleep(Duration::from_secs(wait.max(1))).await;
            // A failure is recorded in `last_error` and retried on the next turn.
            let _ = self.refresh_if_due(clock.now()).await;
        }
    }
}

impl Inner {
    /// One fetch; the caller holds `fetching`.
    async fn fetch(&self, now: UnixTime) -> Result<(), UpstreamError> {
        let options = *lock(&self.options);
        let result = async {
            let response = transport::get_json(
                self.transport.as_ref(),
                &self.jwks_uri,
                options.timeout,
                options.max_jwks_len,
            )
            .await?;
            let text =
                core::str::from_utf8(&response.body).map_err(|_| UpstreamError::Malformed)?;
            let keys = KeySet::from_jwks(text).map_err(UpstreamError::KeySet)?;
            let ttl = cache_control::freshness_secs(
                response.cache_control.as_deref(),
                options.min_ttl_secs,
                options.max_ttl_secs,
                options.default_ttl_secs,
            );
            Ok((keys, ttl))
        }
        .await;
        let mut schedule = lock(&self.schedule);
        match result {
            Ok((keys, ttl)) => {
                let expires = now.saturating_add(ttl);
                self.slot
                    .replace(keys, expires.saturating_add(options.stale_grace_secs));
                self.generation.fetch_add(1, Ordering::AcqRel);
                schedule.refresh_at = now.saturating_add(ttl - ttl / 4);
                schedule.last_error = None;
                Ok(())
            }
            Err(error) => {
                schedule.last_error = Some(error);
                Err(error)
            }
        }
    }
}

impl UnknownKidRefresh for Inner {
    fn refresh_for_unknown_kid(&self, now: UnixTime) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            let seen = self.generation.load(Ordering::Acquire);
            let _fetching = self.fetching.lock().await;
            if self.generation.load(Ordering::Acquire) != seen {
                return true; // a fetch finished while this request waited: try its set
            }
            {
                let interval = lock(&self.options).unknown_kid_interval_secs;
                let mut schedule = lock(&self.schedule);
                if let Some(last) = schedule.last_unknown_kid_fetch {
                    if now < last.saturating_add(interval) {
                        return false;
                    }
                }
                schedule.last_unknown_kid_fetch = Some(now);
            }
            self.fetch(now).await.is_ok()
        })
    }
}

impl core::fmt::Debug for RemoteKeySet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RemoteKeySet")
            .field("jwks_uri", &self.inner.jwks_uri)
            .field("keys", &self.inner.slot)
            .field("schedule", &*lock(&self.inner.schedule))
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
