//! A request with an RS256 access token and an ES256 proof, and guards that decide it with the
//! verified-token cache (warm) or without it (cold). Shared by `benches/algorithms.rs` and
//! `examples/algorithm_instruction_counts.rs`; each declares `forgetful_store` beside it.

// Each user takes the part it needs.
#![allow(dead_code)]

use keybound::{
    IssuerKeys, MemoryRevocationStore, ProofSigner, ProofVerifier, RequestGuard, ResourceRequest,
    SigningKey, TokenIssuer, TokenRequest, TokenVerifier, UnixTime,
};

use crate::forgetful_store::ForgetfulStore;

const ISS: &str = "https://as.example.com";
const AUD: &str = "https://api.example.com";

pub struct Rs256Request {
    pub issuer: TokenIssuer,
    pub token: String,
    pub proof: String,
    authorization: String,
    url: &'static str,
}

impl Rs256Request {
    /// A token signed by `issuer_key` (an RS256 key) bound to `client_key`, and the client's
    /// proof for GET `url` at `now`.
    pub fn new(
        issuer_key: SigningKey,
        client_key: SigningKey,
        url: &'static str,
        now: UnixTime,
    ) -> Self {
        let issuer = TokenIssuer::new(ISS, IssuerKeys::new(issuer_key));
        let client = ProofSigner::new(client_key);
        let token = issuer
            .issue(
                &TokenRequest::new("alice", AUD, "app", client.thumbprint()),
                now,
            )
            .expect("token")
            .access_token;
        let proof = client
            .proof("GET", url)
            .with_access_token(&token)
            .sign(now)
            .expect("proof");
        Self {
            authorization: format!("DPoP {token}"),
            issuer,
            token,
            proof,
            url,
        }
    }

    /// The request, borrowing its headers from `headers` (see [`Self::headers`]).
    pub fn request<'a>(&'a self, headers: &'a ([&'a str; 1], [&'a str; 1])) -> ResourceRequest<'a> {
        ResourceRequest::new("GET", self.url, &headers.0, &headers.1)
    }

    /// The `Authorization` and `DPoP` header values.
    pub fn headers(&self) -> ([&str; 1], [&str; 1]) {
        ([self.authorization.as_str()], [self.proof.as_str()])
    }

    /// A guard for this issuer that never remembers proofs, with a token cache of `capacity`
    /// (0: every request verifies the token's signature).
    pub fn guard(&self, capacity: usize) -> RequestGuard<ForgetfulStore, MemoryRevocationStore> {
        RequestGuard::new(TokenVerifier::new(ISS, AUD, self.issuer.keys().key_set()))
            .with_proof_verifier(ProofVerifier::with_replay_store(ForgetfulStore))
            .with_token_cache_capacity(capacity)
    }
}
