//! Shared fixtures and input decoding for the keybound fuzz targets.
//!
//! Everything here is deterministic: the keys, the access token and the proofs below were made
//! once with the `keybound` CLI (`keygen`, `issue --now`, `proof --now`) and are hardcoded, so a
//! crashing input reproduces byte for byte. `fuzz/gen_seeds.py` reads the `pub const … = "…";`
//! string constants of this file to build the seed corpora: keep each on one line.
//!
//! **The private keys below are test fixtures, published on purpose. Never use them for
//! anything else.**

use std::sync::OnceLock;

use base64ct::{Base64UrlUnpadded, Encoding};
use keybound::{KeySet, ProofSigner, PublicKey, RequestGuard, SigningKey, TokenVerifier, UnixTime};

/// Separates the fields of a fuzz input. 0xFF never occurs in UTF-8, so every valid string can
/// still be expressed inside a field.
pub const SEP: u8 = 0xFF;

// --- Fixture keys (`keybound keygen`) -----------------------------------------------------

/// The access-token issuer's private key. Its thumbprint is the token's `kid`.
pub const ISSUER_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"X8oG6fcWkGukojHvGcLywA96OxONbUAaw-1xRFyPwig","y":"kJnuGj4iJ5435uxS-RRqBL3ZREi2qegeNAkpqpq_CwI","d":"sUMWNWZUBu5hg7IbE3ItUKDS0yX-W1G_yPeJYHMtmyI"}"#;
/// `keybound jwks --key issuer.jwk`.
pub const ISSUER_JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"X8oG6fcWkGukojHvGcLywA96OxONbUAaw-1xRFyPwig","y":"kJnuGj4iJ5435uxS-RRqBL3ZREi2qegeNAkpqpq_CwI","kid":"xKDRnNzMXW_GNRqAH4v4tM5i7nNqWVpsCx9zzr9NaF4","alg":"ES256","use":"sig"}]}"#;
/// The issuer key's RFC 7638 thumbprint (the token header's `kid`).
pub const ISSUER_KID: &str = "xKDRnNzMXW_GNRqAH4v4tM5i7nNqWVpsCx9zzr9NaF4";
/// The client's private DPoP key.
pub const CLIENT_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"onE5czzsuNzE6CmmgjWtzeg4HJJvfOVQL7p5hjNIWn4","y":"JPna8xdKaqtUuy7bIDrLzXDVj70KzDA8mC0wTMCpFjg","d":"e1sC_kDyOnxRwyqagAC8Tc0suq9TD2yBA9ivk44iCiM"}"#;
/// The client key's public JWK, as a proof header carries it.
pub const CLIENT_PUBLIC_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"onE5czzsuNzE6CmmgjWtzeg4HJJvfOVQL7p5hjNIWn4","y":"JPna8xdKaqtUuy7bIDrLzXDVj70KzDA8mC0wTMCpFjg"}"#;
/// The client key's thumbprint (the token's `cnf.jkt`).
pub const CLIENT_JKT: &str = "I_qM8BROQUUOvRyQMvKvuE58bIgLQ5q3BBBXacTcvxg";

// --- A valid protected-resource request at `NOW` ----------------------------------------------

/// The fixed "current time" of the fixtures: 2026-01-01T00:00:00Z.
pub const NOW_SECS: u64 = 1_767_225_600;
/// The token's `iss`.
pub const ISS: &str = "https://as.example.com";
/// The token's `aud` (the resource server).
pub const AUD: &str = "https://api.example.com";
/// The resource request's method.
pub const RESOURCE_METHOD: &str = "GET";
/// The resource request's URL.
pub const RESOURCE_URL: &str = "https://api.example.com/orders?page=2";
/// `keybound issue --key issuer.jwk --iss https://as.example.com --aud https://api.example.com
/// --sub alice --jkt CLIENT_JKT --scope orders:read --client-id fuzz-client --now NOW_SECS`
/// (`iat` = NOW, `exp` = NOW + 300).
pub const TOKEN: &str = "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NiIsImtpZCI6InhLRFJuTnpNWFdfR05ScUFINHY0dE01aTduTnFXVnBzQ3g5enpyOU5hRjQifQ.eyJhdWQiOiJodHRwczovL2FwaS5leGFtcGxlLmNvbSIsImNsaWVudF9pZCI6ImZ1enotY2xpZW50IiwiY25mIjp7ImprdCI6IklfcU04QlJPUVVVT3ZSeVFNdkt2dUU1OGJJZ0xRNXEzQkJCWGFjVGN2eGcifSwiZXhwIjoxNzY3MjI1OTAwLCJpYXQiOjE3NjcyMjU2MDAsImlzcyI6Imh0dHBzOi8vYXMuZXhhbXBsZS5jb20iLCJqdGkiOiJ0MkY5dkxKOEJHNV9LVi15TTMtS1ZnIiwic2NvcGUiOiJvcmRlcnM6cmVhZCIsInN1YiI6ImFsaWNlIn0.pjLaeC3MxCqbSftqGJsUQQxSEQCFVyzigYLtg-eS8-Ia_t6tlgu9dXXOXVdJzifcAvqRyzYXE3Ec_zjHw3-6Xg";
/// `keybound proof --key client.jwk --method GET --url RESOURCE_URL --access-token TOKEN
/// --now NOW_SECS`.
pub const RESOURCE_PROOF: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwiY3J2IjoiUC0yNTYiLCJ4Ijoib25FNWN6enN1TnpFNkNtbWdqV3R6ZWc0SEpKdmZPVlFMN3A1aGpOSVduNCIsInkiOiJKUG5hOHhkS2FxdFV1eTdiSURyTHpYRFZqNzBLekRBOG1DMHdUTUNwRmpnIn19.eyJqdGkiOiJlOE11bnpsbF9BSXFLX25uazQ2bS1nIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9hcGkuZXhhbXBsZS5jb20vb3JkZXJzIiwiaWF0IjoxNzY3MjI1NjAwLCJhdGgiOiI4WENucE0xQTY2V1F2QTBYWGtDbXppbTY3bENiWkEtLVcxck5zbTFxUVlzIn0.45csTGmWAuKzf0PC2ezfL2Bp9T7Fe8vJmXDEzYbUSaSMZntUumEVuUEWXZ-qmaa917gZlFS2a1S81CTAYfYGeQ";
/// `keybound proof --key client.jwk --method POST --url https://as.example.com/token
/// --now NOW_SECS` (no `ath`).
pub const TOKEN_ENDPOINT_PROOF: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwiY3J2IjoiUC0yNTYiLCJ4Ijoib25FNWN6enN1TnpFNkNtbWdqV3R6ZWc0SEpKdmZPVlFMN3A1aGpOSVduNCIsInkiOiJKUG5hOHhkS2FxdFV1eTdiSURyTHpYRFZqNzBLekRBOG1DMHdUTUNwRmpnIn19.eyJqdGkiOiJKMDFZZEE3WXJNZWo1SFQzM3pSdGRRIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vYXMuZXhhbXBsZS5jb20vdG9rZW4iLCJpYXQiOjE3NjcyMjU2MDB9.sBSLP3I7TilHEtDI8ZYlT0AKAogiftQs53MhADJo6o7Qj9TCHUXOITeb2XYgvT58BJav2aIEr76IgxecCvWCyw";
/// The URL of [`TOKEN_ENDPOINT_PROOF`].
pub const TOKEN_ENDPOINT_URL: &str = "https://as.example.com/token";

// --- RFC 9449 §4.1 Figure 1 (tests/data/rfc/rfc9449_examples.json) ---------------------------

/// The RFC's token-request proof.
pub const RFC_PROOF: &str = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
/// Its method.
pub const RFC_METHOD: &str = "POST";
/// Its URL.
pub const RFC_URL: &str = "https://server.example.com/token";
/// Its `iat`, the time to verify it at.
pub const RFC_NOW_SECS: u64 = 1_562_262_616;
/// The RFC's example access token (§7.1).
pub const RFC_ACCESS_TOKEN: &str = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";

/// Times a fuzz input can pick from with 4 bits: the fixtures' instants and the edges of their
/// acceptance windows (proof: `[iat - 5, iat + 65]`; token: until `exp + 5`), plus extremes.
pub const TIMES: [u64; 16] = [
    NOW_SECS,
    NOW_SECS - 5,
    NOW_SECS - 6,
    NOW_SECS + 65,
    NOW_SECS + 66,
    NOW_SECS + 304,
    NOW_SECS + 305,
    RFC_NOW_SECS,
    1_562_262_618,
    1_562_265_296,
    0,
    1,
    u64::MAX,
    u64::MAX - 5,
    1 << 53,
    999_999_999_999_999,
];

/// The time selected by the low four bits of `bits`.
pub fn pick_now(bits: u8) -> UnixTime {
    UnixTime::from_secs(TIMES[usize::from(bits & 0x0F)])
}

/// The fixtures' "now".
pub fn now() -> UnixTime {
    UnixTime::from_secs(NOW_SECS)
}

/// Splits `data` on [`SEP`] into lossily decoded UTF-8 strings.
pub fn fields(data: &[u8]) -> Vec<String> {
    data.split(|b| *b == SEP)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect()
}

/// Field `i`, or `default` when the input has fewer fields.
pub fn field<'a>(fields: &'a [String], i: usize, default: &'a str) -> &'a str {
    fields.get(i).map_or(default, String::as_str)
}

/// The issuer's signing key (parsed once).
pub fn issuer_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::from_jwk(ISSUER_JWK).expect("ISSUER_JWK is a valid private JWK"))
}

/// The issuer's public key.
pub fn issuer_public_key() -> &'static PublicKey {
    issuer_key().public_key()
}

/// The client's signing key (parsed once).
pub fn client_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::from_jwk(CLIENT_JWK).expect("CLIENT_JWK is a valid private JWK"))
}

/// A proof signer for the client key (made once: key parsing and header encoding are not what
/// is being fuzzed).
pub fn client_signer() -> &'static ProofSigner {
    static SIGNER: OnceLock<ProofSigner> = OnceLock::new();
    SIGNER.get_or_init(|| {
        ProofSigner::new(SigningKey::from_jwk(CLIENT_JWK).expect("CLIENT_JWK is a valid private JWK"))
    })
}

/// The issuer's key set, `kid` = thumbprint.
pub fn issuer_key_set() -> KeySet {
    static SET: OnceLock<KeySet> = OnceLock::new();
    SET.get_or_init(|| {
        let set = KeySet::from_keys([issuer_public_key().clone()]);
        assert!(set.get(ISSUER_KID).is_some(), "ISSUER_KID is the issuer key's thumbprint");
        set
    })
    .clone()
}

/// A token verifier for [`ISS`] / [`AUD`] with the issuer's key set.
pub fn token_verifier() -> TokenVerifier {
    TokenVerifier::new(ISS, AUD, issuer_key_set())
}

/// A fresh request guard (empty replay store, revocation store and token cache).
pub fn guard() -> RequestGuard {
    RequestGuard::new(token_verifier())
}

/// Unpadded base64url.
pub fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// A compact JWS of arbitrary `header` and `payload` bytes, correctly signed by `key`: lets the
/// fuzzer reach the claim checks that sit behind the signature.
pub fn sign_compact(key: &SigningKey, header: &[u8], payload: &[u8]) -> String {
    let mut out = b64(header);
    out.push('.');
    out.push_str(&b64(payload));
    let signature = key.sign(out.as_bytes()).expect("in-memory keys sign");
    out.push('.');
    out.push_str(&b64(&signature));
    out
}

/// Whether a header value could be sent as is: no control characters (CR/LF injection) and no
/// DEL. Horizontal tab is allowed.
pub fn is_safe_header_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7F).contains(&b) || b >= 0x80)
}
