//! The token endpoint's DPoP check (RFC 9449 §5, §10).

use crate::error::{Error, ProofError};
use crate::jose::thumbprint::Thumbprint;
use crate::proof::replay::{AsyncReplayStore, MemoryReplayStore, ReplayStore};
use crate::proof::request::ProofRequest;
use crate::proof::verifier::{ProofVerifier, VerifiedProof};
use crate::secure_url;
use crate::time::UnixTime;

/// Checks the DPoP proof of token requests (RFC 9449 §5) and says which key to bind to.
///
/// The proof must be for `POST` to the token endpoint's public URL and carry no `ath`; with a
/// nonce engine on the verifier, a proof without a current nonce is answered with
/// `use_dpop_nonce` and a `DPoP-Nonce` header (§8). Every failure answers HTTP 400 at
/// [`Endpoint::Token`](crate::Endpoint::Token): `invalid_dpop_proof` or `use_dpop_nonce` (see
/// [`error_response`](crate::error_response)).
///
/// ```
/// use keybound::{Endpoint, ProofSigner, SigningKey, TokenEndpoint, UnixTime};
///
/// let endpoint = TokenEndpoint::new("https://as.example.com/token");
/// let client = ProofSigner::new(SigningKey::generate()?);
/// let now = UnixTime::now();
/// let proof = client.proof("POST", "https://as.example.com/token").sign(now)?;
/// let bind_to = endpoint.check(&[proof.as_str()], None, now)?.thumbprint();
/// assert_eq!(bind_to, client.thumbprint());
/// # Ok::<(), keybound::Error>(())
/// ```
#[derive(Debug)]
pub struct TokenEndpoint<R = MemoryReplayStore> {
    url: String,
    proofs: ProofVerifier<R>,
    insecure_http: bool,
}

impl TokenEndpoint {
    /// The token endpoint reached at `url` (its public URL), with a default [`ProofVerifier`].
    ///
    /// `url` must be `https` (or `http` on a loopback host): otherwise every check fails with
    /// [`Error::InsecureUrl`]`("token endpoint url")` — clients would be sending their
    /// credentials and proofs in the clear — unless [`allow_insecure_http`](Self::allow_insecure_http)
    /// says so.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            proofs: ProofVerifier::new(),
            insecure_http: false,
        }
    }
}

impl<R> TokenEndpoint<R> {
    /// Uses `proofs` (options, replay store, nonce engine).
    pub fn with_proof_verifier<R2>(self, proofs: ProofVerifier<R2>) -> TokenEndpoint<R2> {
        TokenEndpoint {
            url: self.url,
            proofs,
            insecure_http: self.insecure_http,
        }
    }

    /// Accepts an `http` URL on any host (tokens and proofs then travel in the clear: for test
    /// rigs only).
    pub fn allow_insecure_http(mut self) -> Self {
        self.insecure_http = true;
        self
    }

    /// The proof verifier (e.g. to issue or rotate nonces).
    pub fn proofs(&self) -> &ProofVerifier<R> {
        &self.proofs
    }

    /// Checks the token request's `DPoP` header values at `now` and records the proof in the
    /// replay store. `expected_jkt` is the `dpop_jkt` the authorization code (or PAR request)
    /// committed to (RFC 9449 §10): the proof must then be signed by exactly that key, else
    /// `invalid_dpop_proof`.
    ///
    /// Returns the verified proof; bind the new tokens to its
    /// [`thumbprint`](VerifiedProof::thumbprint).
    ///
    /// The proof is recorded before the client is authenticated, so anyone able to make a key
    /// can use replay-store capacity here (up to that key's share). When the endpoint
    /// authenticates clients, prefer [`precheck`](Self::precheck): check, authenticate, then
    /// [`register`](PendingProof::register).
    pub fn check(
        &self,
        dpop_headers: &[&str],
        expected_jkt: Option<&Thumbprint>,
        now: UnixTime,
    ) -> Result<VerifiedProof, Error>
    where
        R: ReplayStore,
    {
        let proof = self.check_stateless(dpop_headers, expected_jkt, now)?;
        self.proofs.register(&proof, now)?;
        Ok(proof)
    }

    /// [`check`](Self::check) with an asynchronous replay store (Redis).
    pub async fn check_async(
        &self,
        dpop_headers: &[&str],
        expected_jkt: Option<&Thumbprint>,
        now: UnixTime,
    ) -> Result<VerifiedProof, Error>
    where
        R: AsyncReplayStore,
    {
        let proof = self.check_stateless(dpop_headers, expected_jkt, now)?;
        self.proofs.register_async(&proof, now).await?;
        Ok(proof)
    }

    /// Every check of [`check`](Self::check) except the replay registration: nothing is
    /// stored. Authenticate the client next (its secret, its `private_key_jwt` assertion, its
    /// mTLS certificate), and only then [`register`](PendingProof::register) the proof — so
    /// that a request from an unauthenticated client never takes replay-store capacity.
    /// A pending proof is not a verified one: it yields no thumbprint to bind tokens to
    /// until it is registered.
    ///
    /// ```
    /// use keybound::{ProofSigner, SigningKey, TokenEndpoint, UnixTime};
    ///
    /// let endpoint = TokenEndpoint::new("https://as.example.com/token");
    /// let client = ProofSigner::new(SigningKey::generate()?);
    /// let now = UnixTime::now();
    /// let proof = client.proof("POST", "https://as.example.com/token").sign(now)?;
    /// let pending = endpoint.precheck(&[proof.as_str()], None, now)?;
    /// // … authenticate the client here; on failure, answer invalid_client and stop …
    /// let bind_to = pending.register(&endpoint, now)?.thumbprint();
    /// assert_eq!(bind_to, client.thumbprint());
    /// # Ok::<(), keybound::Error>(())
    /// ```
    pub fn precheck(
        &self,
        dpop_headers: &[&str],
        expected_jkt: Option<&Thumbprint>,
        now: UnixTime,
    ) -> Result<PendingProof, Error> {
        self.check_stateless(dpop_headers, expected_jkt, now)
            .map(PendingProof)
    }

    fn check_stateless(
        &self,
        dpop_headers: &[&str],
        expected_jkt: Option<&Thumbprint>,
        now: UnixTime,
    ) -> Result<VerifiedProof, Error> {
        secure_url::refuse_plain_http(&self.url, self.insecure_http, "token endpoint url")?;
        let request = ProofRequest::new("POST", &self.url, dpop_headers);
        let proof = self.proofs.check(&request, now)?;
        if expected_jkt.is_some_and(|expected| *expected != proof.thumbprint()) {
            return Err(ProofError::UnexpectedKey.into());
        }
        Ok(proof)
    }
}

/// A token-request proof that passed every check but is not yet recorded in the replay store
/// (see [`TokenEndpoint::precheck`]). [`register`](Self::register) it once the client is
/// authenticated; dropping it stores nothing.
#[derive(Debug)]
#[must_use = "a pending proof is not accepted until it is registered"]
pub struct PendingProof(VerifiedProof);

impl PendingProof {
    /// Records the proof in `endpoint`'s replay store at `now` and returns it verified.
    ///
    /// Errors: [`ProofError::Replayed`] if it was seen before; [`Error::Store`] when the store
    /// refuses (full, unavailable, or this key over its share: HTTP 429).
    pub fn register<R: ReplayStore>(
        self,
        endpoint: &TokenEndpoint<R>,
        now: UnixTime,
    ) -> Result<VerifiedProof, Error> {
        endpoint.proofs.register(&self.0, now)?;
        Ok(self.0)
    }

    /// [`register`](Self::register) with an asynchronous replay store (Redis).
    pub async fn register_async<R: AsyncReplayStore>(
        self,
        endpoint: &TokenEndpoint<R>,
        now: UnixTime,
    ) -> Result<VerifiedProof, Error> {
        endpoint.proofs.register_async(&self.0, now).await?;
        Ok(self.0)
    }
}
