//! Access-token verification (`TokenVerifier::verify`), `PublicKey::verify_jws` and
//! `keybound::danger::decode_unverified` on arbitrary tokens.
//!
//! Input: `flags` byte, then the token. `flags`: bit 0 = signing mode; bits 1-4 pick the time
//! (`keybound_fuzz::TIMES`; index 0 is the fixtures' NOW).
//! - raw mode: the rest of the input (lossy UTF-8) is the token;
//! - signing mode: the rest is `header JSON 0xFF claims JSON`, base64url-encoded and signed
//!   with the fixture issuer key, so the `typ`/`kid`/claim/time checks behind the signature are
//!   reachable with fuzzer-chosen JSON.
//!
//! Properties: no panic; the fixture token verifies at NOW; a verified token also verifies with `verify_jws` under the issuer key,
//! decodes with `decode_unverified`, and its claims are the decoded ones (`iss` = the expected
//! issuer, `aud` holds the audience, `sub`, `jti`, `client_id`, header `kid`), with
//! `iat <= now + leeway`, `now - leeway < exp` and `exp - iat <= 3600`.
#![no_main]

use keybound::danger::decode_unverified;
use keybound::TokenOptions;
use keybound_fuzz::{
    field, fields, issuer_key, issuer_public_key, now as fixture_now, pick_now, sign_compact,
    token_verifier, AUD, ISS, TOKEN,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let now = pick_now(flags >> 1);
    let token = if flags & 1 != 0 {
        let f = fields(rest);
        sign_compact(
            issuer_key(),
            field(&f, 0, "").as_bytes(),
            field(&f, 1, "").as_bytes(),
        )
    } else {
        String::from_utf8_lossy(rest).into_owned()
    };

    let verified = token_verifier().verify(&token, now);
    let jws = issuer_public_key().verify_jws(&token);
    let decoded = decode_unverified(&token);

    match &verified {
        Ok(verified) => {
            let payload = jws.as_ref().expect("a verified token fails verify_jws");
            let decoded = decoded.as_ref().expect("a verified token fails decode_unverified");
            let claims = verified.claims();
            let str_claim = |name: &str| decoded.claims.get(name).and_then(|v| v.as_str());
            assert_eq!(claims.issuer(), ISS);
            assert_eq!(str_claim("iss"), Some(claims.issuer()));
            assert!(claims.audiences().iter().any(|a| a == AUD));
            assert_eq!(str_claim("sub"), Some(claims.subject()));
            assert_eq!(str_claim("jti"), Some(claims.jti()));
            assert_eq!(str_claim("client_id"), Some(claims.client_id()));
            assert_eq!(
                decoded.header.get("kid").and_then(|v| v.as_str()),
                Some(verified.kid())
            );
            let leeway = TokenOptions::new().leeway_secs;
            assert!(claims.issued_at() <= now.saturating_add(leeway));
            assert!(now.saturating_sub(leeway) < claims.expires_at());
            assert!(
                claims.expires_at().as_secs().saturating_sub(claims.issued_at().as_secs())
                    <= TokenOptions::new().max_lifetime_secs
            );
            assert!(!payload.is_empty());
            let _ = format!("{verified:?} {:?}", claims.to_json());
        }
        Err(error) => {
            assert!(
                !(token == TOKEN && now == fixture_now()),
                "the fixture token was refused at NOW: {error:?}"
            );
            let _ = format!("{error} {error:?}");
        }
    }
    if let Ok(decoded) = &decoded {
        let _ = format!("{decoded:?}");
    }
});
