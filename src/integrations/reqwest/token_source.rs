//! [`TokenSource`]: an access token kept fresh — cached, renewed before it expires, one
//! renewal at a time, refresh tokens rotated and always used with the key they are bound to.

use std::sync::Arc;

use tokio::sync::Mutex;
use zeroize::Zeroizing;

use crate::client::client_auth::ClientAuth;
use crate::client::endpoints::AuthorizationServerEndpoints;
use crate::client::grant::Grant;
use crate::integrations::reqwest::client_error::ClientError;
use crate::integrations::reqwest::dpop_client::DpopClient;
use crate::integrations::reqwest::token_response::TokenResponse;
use crate::jose::jws_signer::JwsSigner;
use crate::jose::signing_key::SigningKey;
use crate::time::UnixTime;

/// When a [`TokenSource`] renews. Every default is written below with its reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenSourceOptions {
    /// How long before `expires_in` runs out a token is renewed, in seconds; never more than
    /// half the token's lifetime. Default **30**: a request started just before renewal still
    /// reaches the API with a valid token despite network delay and clock drift, and a
    /// 5-minute token is renewed after 4½ minutes, not every call.
    pub refresh_margin_secs: u64,
    /// The lifetime assumed when the server sends no `expires_in` (RFC 6749 §5.1 only
    /// recommends it), in seconds. Default **60**: short, so a token of unknown life is
    /// renewed early rather than used after it expired.
    pub default_lifetime_secs: u64,
}

impl TokenSourceOptions {
    /// The defaults described on each field.
    pub const fn new() -> Self {
        Self {
            refresh_margin_secs: 30,
            default_lifetime_secs: 60,
        }
    }

    /// Sets [`refresh_margin_secs`](Self::refresh_margin_secs).
    pub const fn with_refresh_margin_secs(mut self, secs: u64) -> Self {
        self.refresh_margin_secs = secs;
        self
    }

    /// Sets [`default_lifetime_secs`](Self::default_lifetime_secs).
    pub const fn with_default_lifetime_secs(mut self, secs: u64) -> Self {
        self.default_lifetime_secs = secs;
        self
    }
}

impl Default for TokenSourceOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// An access token kept fresh for one client at one authorization server.
///
/// [`access_token`](Self::access_token) answers from a cache until the token is within
/// [`refresh_margin_secs`](TokenSourceOptions::refresh_margin_secs) of expiring, then renews it:
/// with the refresh token when it has one (storing the new refresh token when the server
/// rotates it), otherwise — or when the server refuses the refresh token with `invalid_grant`
/// — with the source's grant (e.g. `client_credentials`). Callers arriving during a renewal
/// wait for it: concurrent calls make **one** token request, never several.
///
/// Every request goes through the same [`DpopClient`], so the refresh token is always
/// presented with a proof of the key it is bound to (RFC 9449 §5). Time comes from the
/// client's [`Clock`](crate::Clock) ([`DpopClient::with_clock`]).
///
/// A failed renewal returns its error (the token it could not renew is not handed out); the
/// next call tries again.
///
/// ```no_run
/// use std::sync::Arc;
/// use keybound::{AuthorizationServerEndpoints, ClientAuth, DpopClient, Grant, ProofSigner, SigningKey, TokenSource};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Arc::new(DpopClient::new(reqwest::Client::builder(), ProofSigner::new(SigningKey::generate()?))?);
/// let endpoints = AuthorizationServerEndpoints::new("https://as.example.com", "https://as.example.com/token")?;
/// let auth = ClientAuth::private_key_jwt("my-service", Arc::new(SigningKey::generate()?));
/// let tokens = TokenSource::new(client, endpoints, auth, Grant::client_credentials().with_scope("orders:read"));
/// // Any number of tasks may share `tokens`:
/// let request = reqwest::Client::new().get("https://api.example.com/orders").build()?;
/// let response = tokens.execute(request).await?;
/// # drop(response);
/// # Ok(())
/// # }
/// ```
pub struct TokenSource<K = SigningKey> {
    client: Arc<DpopClient<K>>,
    endpoints: AuthorizationServerEndpoints,
    auth: ClientAuth,
    grant: Option<Grant>,
    options: TokenSourceOptions,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    access: Option<Cached>,
    refresh_token: Option<Zeroizing<String>>,
}

struct Cached {
    token: Zeroizing<String>,
    /// When to renew: `expires_at` less the margin.
    renew_at: UnixTime,
}

impl<K: JwsSigner> TokenSource<K> {
    /// A source that gets its first token, and any token it cannot refresh, with `grant`
    /// (a repeatable grant: `client_credentials`, or a custom one; not `authorization_code`,
    /// whose code works once).
    pub fn new(
        client: Arc<DpopClient<K>>,
        endpoints: AuthorizationServerEndpoints,
        auth: ClientAuth,
        grant: Grant,
    ) -> Self {
        Self::with_state(client, endpoints, auth, Some(grant), State::default())
    }

    /// A source that starts from `response` (e.g. of an `authorization_code` grant made with
    /// `client`), obtained now, and renews with its refresh token. Without a refresh token,
    /// renewal fails with [`ClientError::NoRefreshToken`].
    pub fn from_token_response(
        client: Arc<DpopClient<K>>,
        endpoints: AuthorizationServerEndpoints,
        auth: ClientAuth,
        response: TokenResponse,
    ) -> Self {
        let source = Self::with_state(client, endpoints, auth, None, State::default());
        let now = source.client.local_now();
        let mut state = State::default();
        source.store(&mut state, response, now);
        Self {
            state: Mutex::new(state),
            ..source
        }
    }

    fn with_state(
        client: Arc<DpopClient<K>>,
        endpoints: AuthorizationServerEndpoints,
        auth: ClientAuth,
        grant: Option<Grant>,
        state: State,
    ) -> Self {
        Self {
            client,
            endpoints,
            auth,
            grant,
            options: TokenSourceOptions::new(),
            state: Mutex::new(state),
        }
    }

    /// Replaces the options.
    pub fn with_options(mut self, options: TokenSourceOptions) -> Self {
        self.options = options;
        self
    }

    /// The client every request goes through.
    pub fn client(&self) -> &DpopClient<K> {
        &self.client
    }

    /// A valid access token: the cached one, or a renewed one when the cached one is within
    /// the margin of expiring (or there is none yet).
    ///
    /// Errors: those of [`DpopClient::token`]; [`ClientError::NoRefreshToken`] when the
    /// token needs renewing and there is neither a refresh token nor a grant.
    pub async fn access_token(&self) -> Result<Zeroizing<String>, ClientError> {
        let mut state = self.state.lock().await;
        let now = self.client.local_now();
        if let Some(cached) = state.access.as_ref().filter(|c| now < c.renew_at) {
            return Ok(cached.token.clone());
        }
        // The lock is held across the renewal: callers arriving now wait for it and then find
        // the new token (single flight).
        let response = self.renew(&mut state).await?;
        Ok(self.store(&mut state, response, now))
    }

    /// Forgets the access token (keeping the refresh token), e.g. after an API answered
    /// `invalid_token`: the next [`access_token`](Self::access_token) renews.
    pub async fn invalidate(&self) {
        self.state.lock().await.access = None;
    }

    /// Sends `request` through the client with a valid access token (see
    /// [`DpopClient::execute`]).
    pub async fn execute(
        &self,
        request: reqwest::Request,
    ) -> Result<reqwest::Response, ClientError> {
        let token = self.access_token().await?;
        self.client.execute(request, Some(&token)).await
    }

    async fn renew(&self, state: &mut State) -> Result<TokenResponse, ClientError> {
        if let Some(refresh_token) = state.refresh_token.clone() {
            let grant = Grant::refresh_token(refresh_token.as_str());
            match self.request(&grant).await {
                Ok(response) => return Ok(response),
                Err(ClientError::TokenEndpoint {
                    error: Some(code), ..
                }) if code == "invalid_grant" && self.grant.is_some() => {
                    // The refresh token is dead (expired, revoked, reused); start again.
                    state.refresh_token = None;
                }
                Err(ClientError::TokenEndpoint {
                    status,
                    error: Some(code),
                    error_description,
                    error_uri,
                }) if code == "invalid_grant" => {
                    state.refresh_token = None;
                    return Err(ClientError::TokenEndpoint {
                        status,
                        error: Some(code),
                        error_description,
                        error_uri,
                    });
                }
                Err(other) => return Err(other),
            }
        }
        match &self.grant {
            Some(grant) => self.request(grant).await,
            None => Err(ClientError::NoRefreshToken),
        }
    }

    async fn request(&self, grant: &Grant) -> Result<TokenResponse, ClientError> {
        self.client.token(&self.endpoints, &self.auth, grant).await
    }

    /// Caches `response`, requested at `requested_at`, keeps its refresh token if it rotated
    /// one (the old one stays otherwise, RFC 6749 §6), and returns the access token.
    fn store(
        &self,
        state: &mut State,
        response: TokenResponse,
        requested_at: UnixTime,
    ) -> Zeroizing<String> {
        let lifetime = response
            .expires_in
            .unwrap_or(self.options.default_lifetime_secs);
        let margin = self.options.refresh_margin_secs.min(lifetime / 2);
        let token = Zeroizing::new(response.access_token);
        state.access = Some(Cached {
            token: token.clone(),
            // Counted from when the request was sent: never later than the server's clock.
            renew_at: requested_at.saturating_add(lifetime - margin),
        });
        if let Some(rotated) = response.refresh_token {
            state.refresh_token = Some(Zeroizing::new(rotated));
        }
        token
    }
}

impl<K: JwsSigner> core::fmt::Debug for TokenSource<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenSource")
            .field("issuer", &self.endpoints.issuer())
            .field("auth", &self.auth)
            .field("grant", &self.grant)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_defaults() {
        let options = TokenSourceOptions::default();
        assert_eq!(options.refresh_margin_secs, 30);
        assert_eq!(options.default_lifetime_secs, 60);
        let options = options
            .with_refresh_margin_secs(5)
            .with_default_lifetime_secs(10);
        assert_eq!(
            (options.refresh_margin_secs, options.default_lifetime_secs),
            (5, 10)
        );
    }
}
