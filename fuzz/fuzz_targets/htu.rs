//! The `htu` normaliser (crate-private), reached through the public signing and verifying paths.
//!
//! Input: `flags` byte, then fields separated by 0xFF:
//!   0: URL A
//!   1: method (default `GET`)
//!   2: access token (used when flags bit 0 is set)
//!   3: nonce (used when flags bit 1 is set)
//!   4: URL B (the symmetry check, when flags bit 2 is set)
//!
//! Properties:
//! - round trip: if the client accepts to sign a proof for (method, A) — so A's `htu` is a URL
//!   the crate can normalise — then a fresh verifier (requiring the same nonce, presented the
//!   same token) accepts that proof on a request with the identical method and URL A, at the
//!   signing time, unless the proof exceeds the verifier's size limit; the accepted proof's
//!   `htm`, `htu` and key are the ones signed;
//! - symmetry: when A and B both sign, a proof for A verifies on URL B exactly when a proof for
//!   B verifies on URL A (the `htu` comparison is an equivalence);
//! - the RFC 9449 Figure 1 proof, verified against URL A (its method and time): no panic, and
//!   accepted for its own URL.
//!
//! The client key is parsed once (`keybound_fuzz::client_signer`): key handling is not what is
//! fuzzed here, and signing stays the only expensive step.
#![no_main]

use keybound::{ProofOptions, ProofRequest, ProofVerifier, UnixTime};
use keybound_fuzz::{
    client_signer, field, fields, now, RFC_METHOD, RFC_NOW_SECS, RFC_PROOF, RFC_URL,
};
use libfuzzer_sys::fuzz_target;

struct Case<'a> {
    method: &'a str,
    token: Option<&'a str>,
    nonce: Option<&'a str>,
}

impl Case<'_> {
    /// The client's proof for `url`, if the client accepts to sign it.
    fn sign(&self, url: &str, at: UnixTime) -> Option<String> {
        let mut builder = client_signer().proof(self.method, url);
        if let Some(token) = self.token {
            builder = builder.with_access_token(token);
        }
        if let Some(nonce) = self.nonce {
            builder = builder.with_nonce(nonce);
        }
        builder.sign(at).ok()
    }

    /// A fresh verifier's answer for `proof` on a request to `url`.
    fn verify(&self, proof: &str, url: &str, at: UnixTime) -> Result<keybound::VerifiedProof, keybound::Error> {
        let mut verifier = ProofVerifier::new();
        if let Some(nonce) = self.nonce {
            verifier = verifier
                .with_required_nonce(nonce)
                .expect("the client signed with this nonce, so the server must accept it");
        }
        let headers = [proof];
        let mut request = ProofRequest::new(self.method, url, &headers);
        if let Some(token) = self.token {
            request = request.with_access_token(token);
        }
        verifier.verify(&request, at)
    }
}

fn without_query_and_fragment(url: &str) -> &str {
    url.find(['?', '#']).map_or(url, |end| &url[..end])
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let f = fields(rest);
    let url_a = field(&f, 0, "");
    let case = Case {
        method: field(&f, 1, "GET"),
        token: (flags & 1 != 0).then(|| field(&f, 2, "")),
        nonce: (flags & 2 != 0).then(|| field(&f, 3, "")),
    };
    let at = now();
    let max_len = ProofOptions::new().max_proof_len;

    // A fixed valid proof against an arbitrary URL.
    {
        let headers = [RFC_PROOF];
        let request = ProofRequest::new(RFC_METHOD, url_a, &headers);
        let result = ProofVerifier::new().verify(&request, UnixTime::from_secs(RFC_NOW_SECS));
        if url_a == RFC_URL {
            assert!(result.is_ok(), "the RFC proof was refused for its own URL: {result:?}");
        }
    }

    // Round trip.
    let proof_a = case.sign(url_a, at);
    if let Some(proof) = &proof_a {
        if proof.len() <= max_len {
            match case.verify(proof, url_a, at) {
                Ok(verified) => {
                    assert_eq!(verified.htm(), case.method);
                    assert_eq!(verified.htu(), without_query_and_fragment(url_a));
                    assert_eq!(verified.thumbprint(), client_signer().thumbprint());
                }
                Err(error) => panic!(
                    "signed proof refused on the identical request: {error:?}\n method={:?} url={url_a:?} token={:?} nonce={:?}",
                    case.method, case.token, case.nonce
                ),
            }
        }
    }

    // Symmetry.
    if flags & 4 != 0 {
        let url_b = field(&f, 4, "");
        if let (Some(proof_a), Some(proof_b)) = (&proof_a, case.sign(url_b, at)) {
            if proof_a.len() <= max_len && proof_b.len() <= max_len {
                let a_on_b = case.verify(proof_a, url_b, at).is_ok();
                let b_on_a = case.verify(&proof_b, url_a, at).is_ok();
                assert_eq!(
                    a_on_b, b_on_a,
                    "htu comparison is not symmetric: A={url_a:?} B={url_b:?}"
                );
            }
        }
    }
});
