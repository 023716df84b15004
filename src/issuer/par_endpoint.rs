//! `dpop_jkt` at the pushed authorization request endpoint (RFC 9449 §10.1).

use crate::error::{Error, ProofError, RequestError};
use crate::jose::thumbprint::Thumbprint;
use crate::proof::replay::{MemoryReplayStore, ReplayStore};
use crate::proof::request::ProofRequest;
use crate::proof::verifier::ProofVerifier;
use crate::secure_url;
use crate::time::UnixTime;

/// Works out the key an authorization request commits to (RFC 9449 §10, §10.1): the
/// `dpop_jkt` parameter, or the key of a DPoP proof sent to the PAR endpoint, which "implies"
/// `dpop_jkt`. Both present and different → refused (`invalid_dpop_proof`). Store the result
/// with the authorization code and pass it to [`TokenEndpoint::check`](crate::TokenEndpoint::check).
#[derive(Debug)]
pub struct ParEndpoint<R = MemoryReplayStore> {
    url: String,
    proofs: ProofVerifier<R>,
    insecure_http: bool,
}

impl ParEndpoint {
    /// The PAR endpoint reached at `url` (its public URL), with a default [`ProofVerifier`].
    /// Like [`TokenEndpoint::new`](crate::TokenEndpoint::new), an `http` URL off loopback makes
    /// every check fail with [`Error::InsecureUrl`] unless
    /// [`allow_insecure_http`](Self::allow_insecure_http).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            proofs: ProofVerifier::new(),
            insecure_http: false,
        }
    }
}

impl<R: ReplayStore> ParEndpoint<R> {
    /// Uses `proofs` (options, replay store, nonce engine).
    pub fn with_proof_verifier<R2: ReplayStore>(
        self,
        proofs: ProofVerifier<R2>,
    ) -> ParEndpoint<R2> {
        ParEndpoint {
            url: self.url,
            proofs,
            insecure_http: self.insecure_http,
        }
    }

    /// Accepts an `http` URL on any host (for test rigs only).
    pub fn allow_insecure_http(mut self) -> Self {
        self.insecure_http = true;
        self
    }

    /// The thumbprint the authorization request commits to, if any. `dpop_jkt` is the form
    /// parameter's value; `dpop_headers` the request's `DPoP` header values (may be empty).
    pub fn check(
        &self,
        dpop_jkt: Option<&str>,
        dpop_headers: &[&str],
        now: UnixTime,
    ) -> Result<Option<Thumbprint>, Error> {
        secure_url::refuse_plain_http(&self.url, self.insecure_http, "par endpoint url")?;
        let declared = dpop_jkt
            .map(|text| Thumbprint::from_base64url(text).map_err(|_| RequestError::InvalidDpopJkt))
            .transpose()?;
        if dpop_headers.is_empty() {
            return Ok(declared);
        }
        let request = ProofRequest::new("POST", &self.url, dpop_headers);
        let proof = self.proofs.check(&request, now)?;
        if declared.is_some_and(|jkt| jkt != proof.thumbprint()) {
            return Err(ProofError::UnexpectedKey.into());
        }
        self.proofs.register(&proof, now)?;
        Ok(Some(proof.thumbprint()))
    }
}
