//! Encrypted access tokens: `decrypt_nested_jwt` on arbitrary text with the four fixture
//! decryption keys (`keybound_fuzz::DECRYPTION_JWKS`: P-256 `ECDH-ES+A128KW`, X25519
//! `ECDH-ES`, P-384 `ECDH-ES+A256KW`, RSA-2048 `RSA-OAEP-256`, each with its `kid`), and a
//! mode that sends the text as the access token of a `RequestGuard` request with those keys.
//!
//! Input: `flags` byte, then the token (the rest, lossy UTF-8). `flags`: bit 0 = guard mode;
//! bits 1-4 pick the time of the guard mode (`keybound_fuzz::TIMES`; index 0 is the fixtures'
//! NOW); bits 5-7 pick the keys: 0 and 7 all four, 1-4 only that key (so a JWE without `kid`
//! can pick it), 5 none, 6 all four in reverse order.
//!
//! Properties: no panic; an accepted token is a five-segment compact JWE within the 16 KiB
//! limit, and what it decrypts to is a three-segment compact JWS (base64url and `.` only), the
//! same when decrypted again and whatever the order of the keys; the fixture
//! `ENCRYPTED_TOKEN` decrypts to `TOKEN` whenever its key is offered; every error is one of the
//! typed `JweError`s whose `Display` echoes nothing from the input (a `Refused` name is a fixed
//! one); the header policy comes before key selection (a `Malformed` / `TooLarge` / `Refused`
//! token is refused the same with no keys at all, and a token that passes the policy gets
//! `NoKey` without keys).
//!
//! Guard mode (a fresh proof by the fixture client key for `GET RESOURCE_URL` with this token's
//! `ath`, signed at the chosen time, and a stateless guard holding the selected keys): a
//! rejection for a JWE reason carries the error `decrypt_nested_jwt` gives; an authorized
//! encrypted token decrypts to a token that `TokenVerifier` accepts with the same claims, bound
//! to the client key; and such a token is authorized (the guard decrypts what
//! `decrypt_nested_jwt` decrypts).
#![no_main]

use std::sync::OnceLock;

use keybound::{
    decrypt_nested_jwt, DecryptionKey, Error, JweError, MemoryRevocationStore, RequestGuard,
    ResourceRequest, TokenError,
};
use keybound_fuzz::forgetful_store::ForgetfulStore;
use keybound_fuzz::{
    client_signer, decrypting_guard, decryption_keys, decryption_keys_reversed, pick_now,
    token_verifier, ENCRYPTED_TOKEN, RESOURCE_METHOD, RESOURCE_URL, TOKEN,
};
use libfuzzer_sys::fuzz_target;

/// The names `JweError::Refused` may carry (`src/jose/jwe/compact.rs`; `kid` is refused when
/// it is not a string, `serialization` for the JSON serialization).
const REFUSED_NAMES: [&str; 16] = [
    "RSA1_5",
    "RSA-OAEP",
    "dir",
    "A*KW",
    "A*GCMKW",
    "PBES2",
    "alg",
    "enc",
    "zip",
    "crit",
    "cty",
    "epk",
    "apu",
    "apv",
    "kid",
    "serialization",
];

/// The longest token `decrypt_nested_jwt` accepts (its documented 16 KiB).
const MAX_JWE_LEN: usize = 16 * 1024;

type Guard = RequestGuard<ForgetfulStore, MemoryRevocationStore>;

/// The key indices (into `DECRYPTION_JWKS`) of selection `bits & 7`.
fn selection(bits: u8) -> &'static [usize] {
    match bits & 7 {
        1 => &[0],
        2 => &[1],
        3 => &[2],
        4 => &[3],
        5 => &[],
        6 => &[3, 2, 1, 0],
        _ => &[0, 1, 2, 3],
    }
}

/// The parsed keys of selection `bits & 7` (slices of the fixture sets, no copies).
fn keys(bits: u8) -> &'static [DecryptionKey] {
    let all = decryption_keys();
    match bits & 7 {
        n @ 1..=4 => &all[usize::from(n - 1)..usize::from(n)],
        5 => &[],
        6 => decryption_keys_reversed(),
        _ => all,
    }
}

/// One stateless guard per selection, made once.
fn guard(bits: u8) -> &'static Guard {
    static GUARDS: OnceLock<Vec<Guard>> = OnceLock::new();
    &GUARDS.get_or_init(|| (0..8).map(|b| decrypting_guard(selection(b))).collect())
        [usize::from(bits & 7)]
}

fn check_error(error: JweError) {
    let text = error.to_string();
    let reason = error.reason();
    assert!(!reason.is_empty() && reason.bytes().all(|b| b == b'_' || b.is_ascii_lowercase()));
    match error {
        JweError::Refused(name) => {
            assert!(
                REFUSED_NAMES.contains(&name),
                "unexpected Refused name {name:?}"
            );
            assert_eq!(text, format!("{}: {name}", error.description()));
        }
        _ => assert_eq!(text, error.description()),
    }
}

fn is_policy_error(error: JweError) -> bool {
    matches!(
        error,
        JweError::Malformed | JweError::TooLarge | JweError::Refused(_)
    )
}

fn check_inner(token: &str, inner: &str) {
    assert_eq!(
        token.split('.').count(),
        5,
        "a token without five segments was decrypted"
    );
    assert!(
        token.len() <= MAX_JWE_LEN,
        "a token over 16 KiB was decrypted"
    );
    assert_eq!(
        inner.split('.').count(),
        3,
        "decrypted to a non-JWS: {inner:?}"
    );
    assert!(inner
        .bytes()
        .all(|b| b == b'.' || b == b'-' || b == b'_' || b.is_ascii_alphanumeric()));
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let token = String::from_utf8_lossy(rest);
    let token = token.as_ref();
    let key_bits = flags >> 5;
    let keys = keys(key_bits);

    let decrypted = decrypt_nested_jwt(token, keys);
    let decrypted = decrypted.as_deref().map(String::as_str).map_err(|e| *e);
    let without_keys = decrypt_nested_jwt(token, &[]).map(|_| ());
    match decrypted {
        Ok(inner) => {
            check_inner(token, inner);
            let again = decrypt_nested_jwt(token, keys).expect("decrypts once, not twice");
            assert_eq!(again.as_str(), inner);
            if keys.len() == decryption_keys().len() {
                let other_order = if key_bits & 7 == 6 {
                    decryption_keys()
                } else {
                    decryption_keys_reversed()
                };
                let other = decrypt_nested_jwt(token, other_order)
                    .expect("decrypts with the keys in one order only");
                assert_eq!(other.as_str(), inner);
            }
            assert_eq!(without_keys, Err(JweError::NoKey));
        }
        Err(error) => {
            check_error(error);
            assert!(
                !(token == ENCRYPTED_TOKEN && selection(key_bits).contains(&0)),
                "the fixture ENCRYPTED_TOKEN was refused: {error:?}"
            );
            if is_policy_error(error) {
                assert_eq!(
                    without_keys,
                    Err(error),
                    "policy refusal after key selection"
                );
            } else {
                assert_eq!(without_keys, Err(JweError::NoKey));
            }
        }
    }
    if token == ENCRYPTED_TOKEN {
        if let Ok(inner) = decrypted {
            assert_eq!(inner, TOKEN);
        }
    }
    if let Err(error) = without_keys {
        check_error(error);
    }

    if flags & 1 != 0 {
        check_guard(token, decrypted, key_bits, flags >> 1);
    }
});

/// Guard mode (see the module documentation).
fn check_guard(token: &str, decrypted: Result<&str, JweError>, key_bits: u8, time_bits: u8) {
    let now = pick_now(time_bits);
    let Ok(proof) = client_signer()
        .proof(RESOURCE_METHOD, RESOURCE_URL)
        .with_access_token(token)
        .sign(now)
    else {
        return;
    };
    let authorization = [format!("DPoP {token}")];
    let authorization = [authorization[0].as_str()];
    let dpop = [proof.as_str()];
    let request = ResourceRequest::new(RESOURCE_METHOD, RESOURCE_URL, &authorization, &dpop);
    let outcome = guard(key_bits).check(&request, now);
    // A token the header carries as it is: nothing for the `Authorization` parser to trim or
    // split, so the guard decrypts exactly `token`.
    let verbatim = !token.is_empty()
        && token
            .bytes()
            .all(|b| b == b'.' || b == b'-' || b == b'_' || b.is_ascii_alphanumeric());
    let encrypted = token.split('.').count() == 5;
    let inner_verified = decrypted
        .ok()
        .and_then(|inner| token_verifier().verify(inner, now).ok());

    match &outcome {
        Ok(authorized) => {
            assert_eq!(authorized.jkt(), Some(client_signer().thumbprint()));
            if encrypted {
                let verified = inner_verified.as_ref().expect(
                    "authorized an encrypted token that decrypt_nested_jwt + verify refuse",
                );
                let (a, v) = (authorized.claims(), verified.claims());
                assert_eq!(a.subject(), v.subject());
                assert_eq!(a.jti(), v.jti());
                assert_eq!(a.issuer(), v.issuer());
                assert_eq!(a.client_id(), v.client_id());
            }
        }
        Err(rejection) => {
            let error = rejection.error();
            if let (true, Error::InvalidToken(TokenError::Jwe(jwe))) = (verbatim, error) {
                assert_eq!(
                    decrypted.err(),
                    Some(*jwe),
                    "guard and decrypt_nested_jwt disagree"
                );
            }
            if let (true, true, Some(verified)) = (verbatim, encrypted, &inner_verified) {
                assert!(
                    verified.claims().jkt() != Some(client_signer().thumbprint()),
                    "the guard refused an encrypted token bound to the client that decrypts \
                     and verifies: {error:?}"
                );
            }
            let _ = format!("{error} {error:?}");
        }
    }
}
