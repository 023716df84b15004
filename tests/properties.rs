//! Property tests: round trips hold and no input makes the verifier panic.

mod common;

use common::*;
use keybound::{
    ProofRequest, ProofSigner, ProofVerifier, PublicKey, SigningKey, Thumbprint, UnixTime,
};
use proptest::prelude::*;

fn signer() -> &'static ProofSigner {
    use std::sync::OnceLock;
    static SIGNER: OnceLock<ProofSigner> = OnceLock::new();
    SIGNER.get_or_init(|| ProofSigner::new(SigningKey::generate().unwrap()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sign_then_verify_round_trips(
        method in "[A-Z]{1,10}",
        path in "(/[a-zA-Z0-9._~-]{0,12}){0,4}",
        token in proptest::option::of("[A-Za-z0-9._~+/-]{1,60}"),
        iat in 1_000_000u64..4_000_000_000,
    ) {
        let url = format!("https://api.example.com{path}");
        let now = UnixTime::from_secs(iat);
        let mut builder = signer().proof(&method, &url);
        if let Some(t) = &token {
            builder = builder.with_access_token(t);
        }
        let proof = builder.sign(now).unwrap();
        let headers = [proof.as_str()];
        let mut request = ProofRequest::new(&method, &url, &headers);
        if let Some(t) = &token {
            request = request.with_access_token(t);
        }
        let verified = ProofVerifier::new().verify(&request, now).unwrap();
        prop_assert_eq!(verified.thumbprint(), signer().thumbprint());
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,600}") {
        let headers = [text.as_str()];
        let _ = ProofVerifier::new().verify(&ProofRequest::new("GET", URL, &headers), now());
        let _ = PublicKey::from_jwk(&text);
        let _ = SigningKey::from_jwk(&text);
        let _ = text.parse::<Thumbprint>();
    }

    #[test]
    fn arbitrary_segments_never_panic(
        h in "[A-Za-z0-9_=+/-]{0,200}",
        p in "[A-Za-z0-9_=+/-]{0,200}",
        s in "[A-Za-z0-9_=+/-]{0,120}",
    ) {
        let text = format!("{h}.{p}.{s}");
        let headers = [text.as_str()];
        prop_assert!(ProofVerifier::new().verify(&ProofRequest::new("GET", URL, &headers), now()).is_err());
    }

    #[test]
    fn json_shaped_headers_never_panic(header in "\\{(\"[a-z]{1,4}\":(\"[a-zA-Z0-9+-]{0,10}\"|[0-9]{1,3}|\\{\\}|\\[\\]|null),?){0,6}\\}") {
        let k = SigningKey::generate().unwrap();
        let proof = sign_raw(&k, &header, &claims("p"));
        let headers = [proof.as_str()];
        prop_assert!(ProofVerifier::new()
            .verify(&ProofRequest::new("GET", URL, &headers).with_access_token(TOKEN), now())
            .is_err());
    }

    #[test]
    fn any_single_character_change_is_refused(index in 0usize..400, replacement in "[A-Za-z0-9_-]") {
        let proof = signer().proof("GET", URL).with_access_token(TOKEN).sign(now()).unwrap();
        let index = index % proof.len();
        let mut bytes = proof.clone().into_bytes();
        let new = replacement.as_bytes()[0];
        prop_assume!(bytes[index] != new && bytes[index] != b'.');
        bytes[index] = new;
        let mutated = String::from_utf8(bytes).unwrap();
        let headers = [mutated.as_str()];
        prop_assert!(ProofVerifier::new()
            .verify(&ProofRequest::new("GET", URL, &headers).with_access_token(TOKEN), now())
            .is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Every public entry point that reads untrusted text answers with a value or a typed
    /// error, never a panic.
    #[test]
    fn every_public_parser_survives_arbitrary_text(text in ".{0,400}", header_count in 0usize..3) {
        use keybound::{
            danger, IssuerKeys, KeySet, ParEndpoint, PublicUrlPolicy, RequestGuard, ResourceRequest,
            TokenEndpoint, TokenVerifier,
        };
        let _ = KeySet::from_jwks(&text);
        let _ = danger::decode_unverified(&text);
        let _ = PublicUrlPolicy::new(&text);
        let keys = IssuerKeys::generate().unwrap().key_set();
        let verifier = TokenVerifier::new("https://as", "api", keys);
        let _ = verifier.verify(&text, now());
        let headers: Vec<&str> = std::iter::repeat_n(text.as_str(), header_count).collect();
        let guard = RequestGuard::new(TokenVerifier::new("https://as", "api", KeySet::default()));
        let _ = guard.check(&ResourceRequest::new("GET", &text, &headers, &headers), now());
        let _ = guard.check(&ResourceRequest::new(&text, URL, &[&format!("DPoP {text}")], &headers), now());
        let _ = TokenEndpoint::new(URL).check(&headers, None, now());
        let _ = ParEndpoint::new(URL).check(Some(&text), &headers, now());
    }
}
