//! Requests to an authorization server: token requests for any [`Grant`] (RFC 6749 §4, RFC
//! 9449 §5), pushed authorization requests (RFC 9126, RFC 9449 §10.1) and authorization URLs,
//! each authenticated with a [`ClientAuth`] and retried once on `use_dpop_nonce` (RFC 9449 §8).

use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use zeroize::Zeroizing;

use crate::client::authorization_request::{AuthorizationRequest, PushedAuthorizationRequest};
use crate::client::client_auth::ClientAuth;
use crate::client::endpoints::AuthorizationServerEndpoints;
use crate::client::form;
use crate::client::grant::Grant;
use crate::error::Error;
use crate::integrations::http::DPOP_NONCE;
use crate::integrations::reqwest::client_error::{ClientError, ServerError};
use crate::integrations::reqwest::dpop_client::DpopClient;
use crate::integrations::reqwest::proof_session::{origin_of, Role};
use crate::integrations::reqwest::response_body::read_bounded;
use crate::integrations::reqwest::token_response::TokenResponse;
use crate::jose::jws_signer::JwsSigner;

/// How a request authenticates the client.
enum Authenticate<'a> {
    /// Not at all: the caller's parameters say everything (the raw
    /// [`DpopClient::request_token`]).
    Nothing,
    /// With `auth`, `aud` of an assertion being `issuer`. `with_client_id` also puts
    /// `client_id` in the form when the method does not (PAR requests name the client in
    /// the body, RFC 9126 §2.1).
    As {
        auth: &'a ClientAuth,
        issuer: &'a str,
        with_client_id: bool,
    },
}

impl<K: JwsSigner> DpopClient<K> {
    /// Requests a token at the token endpoint of `endpoints` for `grant`, authenticating with
    /// `auth` and proving possession of the key (RFC 9449 §5). Retries once on
    /// `use_dpop_nonce`, with a fresh proof and a fresh client assertion. Refuses a response
    /// whose `token_type` is not `DPoP`.
    ///
    /// Errors: [`ClientError::TokenEndpoint`] when the server refuses (its `error`, bounded
    /// and escaped `error_description`, `error_uri`); [`ClientError::NotDpopBound`];
    /// [`ClientError::MalformedResponse`]; [`ClientError::ResponseTooLarge`];
    /// [`ClientError::Request`] for a grant or client authentication that cannot be sent;
    /// [`ClientError::Http`], [`ClientError::Proof`]. A redirect is not followed: it is a
    /// [`ClientError::TokenEndpoint`] with its 3xx status.
    pub async fn token(
        &self,
        endpoints: &AuthorizationServerEndpoints,
        auth: &ClientAuth,
        grant: &Grant,
    ) -> Result<TokenResponse, ClientError> {
        let params = grant.params().map_err(ClientError::Request)?;
        let authenticate = Authenticate::As {
            auth,
            issuer: endpoints.issuer(),
            with_client_id: false,
        };
        self.token_exchange(endpoints.token_endpoint(), authenticate, &params)
            .await
    }

    /// Requests a token at `token_url` with the form `params` (e.g. `grant_type`, `code`,
    /// `code_verifier`, `client_id`, or `refresh_token`), proving possession of the key
    /// (RFC 9449 §5). Retries once on `use_dpop_nonce`. Refuses a response whose `token_type`
    /// is not `DPoP`. Prefer [`token`](Self::token), which adds client authentication.
    pub async fn request_token(
        &self,
        token_url: &str,
        params: &[(&str, &str)],
    ) -> Result<TokenResponse, ClientError> {
        self.token_exchange(token_url, Authenticate::Nothing, params)
            .await
    }

    async fn token_exchange(
        &self,
        url: &str,
        authenticate: Authenticate<'_>,
        params: &[(&str, &str)],
    ) -> Result<TokenResponse, ClientError> {
        let (status, body) = self.post_form(url, &authenticate, params).await?;
        if status == 200 {
            TokenResponse::from_json(status, &body)
        } else {
            Err(ServerError::from_body(&body).at_token_endpoint(status))
        }
    }

    /// Pushes `request` to the pushed authorization request endpoint of `endpoints`
    /// ([RFC 9126 §2](https://www.rfc-editor.org/rfc/rfc9126#section-2)), authenticated
    /// with `auth`, with a DPoP proof (RFC 9449 §10.1) and `dpop_jkt` set to this client's key
    /// thumbprint, so the authorization code can only be redeemed with this key. Retries once
    /// on `use_dpop_nonce`. Send the browser to
    /// [`PushedAuthorizationRequest::authorization_url`] next.
    ///
    /// Errors: [`ClientError::Request`]`(`[`Error::InvalidArgument`]`("pushed_authorization_request_endpoint"))`
    /// when `endpoints` has none; [`ClientError::PushedAuthorizationEndpoint`] when the server
    /// refuses; [`ClientError::MalformedResponse`]; [`ClientError::ResponseTooLarge`];
    /// [`ClientError::Http`], [`ClientError::Proof`]. A redirect is not followed: it is a
    /// [`ClientError::PushedAuthorizationEndpoint`] with its 3xx status.
    ///
    /// ```no_run
    /// use keybound::{AuthorizationRequest, AuthorizationServerEndpoints, ClientAuth, DpopClient, Grant, PkceVerifier};
    ///
    /// # async fn run(client: DpopClient, endpoints: AuthorizationServerEndpoints) -> Result<(), Box<dyn std::error::Error>> {
    /// let auth = ClientAuth::none("my-app");
    /// let verifier = PkceVerifier::generate()?;
    /// let request = AuthorizationRequest::new("https://app.example/cb", &verifier).with_scope("openid");
    /// let pushed = client.push_authorization_request(&endpoints, &auth, &request).await?;
    /// let url = pushed.authorization_url(&endpoints, auth.client_id())?;
    /// // … redirect the browser to `url`; the callback brings `code` …
    /// # let code = String::new();
    /// let grant = Grant::authorization_code(code, "https://app.example/cb", &verifier);
    /// let token = client.token(&endpoints, &auth, &grant).await?;
    /// # drop((url, token));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn push_authorization_request(
        &self,
        endpoints: &AuthorizationServerEndpoints,
        auth: &ClientAuth,
        request: &AuthorizationRequest,
    ) -> Result<PushedAuthorizationRequest, ClientError> {
        let url = endpoints
            .pushed_authorization_request_endpoint()
            .ok_or(ClientError::Request(Error::InvalidArgument(
                "pushed_authorization_request_endpoint",
            )))?;
        let bound = request.clone().with_dpop_jkt(&self.signer().thumbprint());
        let params = bound.params().map_err(ClientError::Request)?;
        let authenticate = Authenticate::As {
            auth,
            issuer: endpoints.issuer(),
            with_client_id: true,
        };
        let (status, body) = self.post_form(url, &authenticate, &params).await?;
        match status {
            // RFC 9126 §2.2 says 201; some servers answer 200.
            200 | 201 => PushedAuthorizationRequest::from_json(&body)
                .ok_or(ClientError::MalformedResponse { status }),
            _ => Err(ServerError::from_body(&body).at_par_endpoint(status)),
        }
    }

    /// The front-channel authorization URL for `request` and `client_id`, with `dpop_jkt` set
    /// to this client's key thumbprint (RFC 9449 §10), for servers without PAR. See
    /// [`AuthorizationRequest::to_url`].
    pub fn authorization_url(
        &self,
        endpoints: &AuthorizationServerEndpoints,
        client_id: &str,
        request: &AuthorizationRequest,
    ) -> Result<String, Error> {
        request
            .clone()
            .with_dpop_jkt(&self.signer().thumbprint())
            .to_url(endpoints, client_id)
    }

    /// POSTs `params` (plus the client's credentials) as a form to `url` with a DPoP proof;
    /// when the server answers 400 `use_dpop_nonce` with a `DPoP-Nonce`, sends it **once**
    /// more with the new nonce, a fresh proof and fresh credentials (a new assertion `jti`).
    /// Returns the status and the bounded body of the last answer.
    async fn post_form(
        &self,
        url: &str,
        authenticate: &Authenticate<'_>,
        params: &[(&str, &str)],
    ) -> Result<(u16, Zeroizing<Vec<u8>>), ClientError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = self.form_request(url, authenticate, params)?;
            let origin = origin_of(request.url());
            let response = self
                .send_once(Role::AuthorizationServer, request, None)
                .await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = read_bounded(response, self.session.max_response_len).await?;
            let error = match status {
                400 => ServerError::from_body(&body).error,
                _ => None,
            };
            if matches!(
                error.as_deref(),
                Some("use_dpop_nonce" | "invalid_dpop_proof")
            ) {
                // A DPoP refusal from the origin called (RFC 9449 §5, §8): its `Date` counts.
                self.learn_skew(&origin, &headers);
            }
            let wants_nonce =
                headers.contains_key(DPOP_NONCE) && error.as_deref() == Some("use_dpop_nonce");
            if !wants_nonce || attempt == 2 {
                return Ok((status, body));
            }
        }
    }

    fn form_request(
        &self,
        url: &str,
        authenticate: &Authenticate<'_>,
        params: &[(&str, &str)],
    ) -> Result<reqwest::Request, ClientError> {
        let mut pairs: Vec<(&str, &str)> = params.to_vec();
        // An assertion's `iat` in the time of the server it goes to (an unparsable URL fails
        // below, when reqwest builds the request).
        let now = match reqwest::Url::parse(url) {
            Ok(parsed) => self.now_at(&origin_of(&parsed)),
            Err(_) => self.local_now(),
        };
        let credentials = match authenticate {
            Authenticate::Nothing => None,
            Authenticate::As { auth, issuer, .. } => {
                Some(auth.apply(issuer, now).map_err(ClientError::Request)?)
            }
        };
        if let (
            Some(credentials),
            Authenticate::As {
                auth,
                with_client_id,
                ..
            },
        ) = (&credentials, authenticate)
        {
            if *with_client_id && !credentials.form.iter().any(|(n, _)| *n == "client_id") {
                pairs.push(("client_id", auth.client_id()));
            }
            pairs.extend(credentials.form.iter().map(|(n, v)| (*n, v.as_str())));
        }
        // The body holds credentials; reqwest owns it once built (it cannot be zeroized).
        let mut request = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form::encode(&pairs))
            .build()?;
        if let Some(header) = credentials.as_ref().and_then(|c| c.authorization.as_ref()) {
            let mut value = HeaderValue::from_str(header)
                .map_err(|_| ClientError::Request(Error::InvalidArgument("client_id")))?;
            value.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        Ok(request)
    }
}
