//! `ProofVerifier::verify` on arbitrary proofs, URLs and methods.
//!
//! Input: `flags` byte, then fields separated by 0xFF:
//!   0: the DPoP header value (lossy UTF-8) — or, in signing mode, the JOSE header JSON
//!   1: the request URL
//!   2: the request method
//!   3: the access token presented with the request (default: the RFC 9449 example token)
//!   4: signing mode only: the claims JSON
//! `flags`: bits 0-3 pick the time (`keybound_fuzz::TIMES`); bit 4 = signing mode (fields 0 and
//! 4 are base64url-encoded and signed with the fixture client key, so the claim checks behind
//! the signature are reachable); bit 5 = send the DPoP header twice.
//!
//! Every input is verified without and with the access token, each time by a fresh verifier.
//! Properties: no panic; the fixture request (`RESOURCE_PROOF` on `GET RESOURCE_URL` with
//! `TOKEN` at NOW) is accepted; an accepted proof has `htm` = the method and the thumbprint of its own
//! key; the very same request a second time is refused as a replay.
#![no_main]

use keybound::{Error, ProofError, ProofRequest, ProofVerifier};
use keybound_fuzz::{
    client_key, field, fields, now as fixture_now, pick_now, sign_compact, RESOURCE_PROOF,
    RESOURCE_URL, RFC_ACCESS_TOKEN, TOKEN,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let now = pick_now(flags);
    let f = fields(rest);
    let proof = if flags & 0x10 != 0 {
        sign_compact(
            client_key(),
            field(&f, 0, "").as_bytes(),
            field(&f, 4, "").as_bytes(),
        )
    } else {
        field(&f, 0, "").to_owned()
    };
    let url = field(&f, 1, "");
    let method = field(&f, 2, "");
    let token = field(&f, 3, RFC_ACCESS_TOKEN);

    let one = [proof.as_str()];
    let two = [proof.as_str(), proof.as_str()];
    let headers: &[&str] = if flags & 0x20 != 0 { &two } else { &one };

    // The fixture request itself must pass (checks the harness, not only the library).
    let known_good = proof == RESOURCE_PROOF
        && url == RESOURCE_URL
        && method == "GET"
        && token == TOKEN
        && headers.len() == 1
        && now == fixture_now();

    for with_token in [false, true] {
        let verifier = ProofVerifier::new();
        let mut request = ProofRequest::new(method, url, headers);
        if with_token {
            request = request.with_access_token(token);
        }
        match verifier.verify(&request, now) {
            Ok(verified) => {
                assert_eq!(verified.htm(), method, "accepted proof with another htm");
                assert_eq!(verified.thumbprint(), verified.public_key().thumbprint());
                assert!(verified.fresh_nonce().is_none(), "nonce without a nonce policy");
                match verifier.verify(&request, now) {
                    Err(Error::InvalidProof(ProofError::Replayed)) => {}
                    other => panic!("an accepted proof was not refused as a replay: {other:?}"),
                }
            }
            Err(error) => {
                assert!(
                    !(known_good && with_token),
                    "the fixture proof was refused: {error:?}"
                );
                // Exercise the formatting paths an application logs.
                let _ = format!("{error} {error:?}");
            }
        }
    }
});
