//! What the server knows about the request a proof arrived with.

use crate::jose::thumbprint::TokenHash;

/// The parts of an HTTP request a DPoP proof is checked against (RFC 9449 §4.3).
///
/// `url` is the request's URL as the server itself is reached from outside (its configured
/// public origin plus the request path), never derived from the request's `Host` header
/// without a policy that says so.
#[derive(Clone, Copy)]
pub struct ProofRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a str,
    pub(crate) dpop_headers: &'a [&'a str],
    pub(crate) access_token: Option<TokenHash>,
}

impl<'a> ProofRequest<'a> {
    /// A request with `method` (e.g. `"GET"`, compared case-sensitively with `htm`), its public
    /// `url`, and every `DPoP` header value it carried (none, one, or several — more than one
    /// is refused).
    pub fn new(method: &'a str, url: &'a str, dpop_headers: &'a [&'a str]) -> Self {
        Self {
            method,
            url,
            dpop_headers,
            access_token: None,
        }
    }

    /// The request presents `access_token` (RFC 9449 §7): the proof must carry its `ath`.
    pub fn with_access_token(self, access_token: &str) -> Self {
        self.with_access_token_hash(TokenHash::of(access_token))
    }

    /// Like [`with_access_token`](Self::with_access_token) with the hash already computed.
    pub fn with_access_token_hash(mut self, hash: TokenHash) -> Self {
        self.access_token = Some(hash);
        self
    }
}

impl core::fmt::Debug for ProofRequest<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ProofRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("dpop_headers", &self.dpop_headers.len())
            .field("access_token", &self.access_token)
            .finish()
    }
}
