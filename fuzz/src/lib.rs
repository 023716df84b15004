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
use keybound::{
    DecryptionKey, KeySet, MemoryRevocationStore, ProofSigner, ProofVerifier, PublicKey,
    RequestGuard, SigningKey, TokenVerifier, UnixTime,
};

/// The benchmarks' replay store that never remembers (`benches/support/forgetful_store.rs`),
/// for guards kept across fuzz runs: with it (and no token cache) a guard holds no state, so a
/// run's answer does not depend on the runs before it.
#[path = "../../benches/support/forgetful_store.rs"]
pub mod forgetful_store;
use forgetful_store::ForgetfulStore;

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

// --- Encrypted access tokens (nested JWTs) -----------------------------------------------------

/// The resource server's P-256 decryption key for `ECDH-ES+A128KW`. Made once with Python's
/// `cryptography` (random keys, exported as JWKs with a `kid`, `use: enc` and `alg`).
pub const JWE_P256_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"DZaXdLV9a5KdzlWiYN1-1Uk2nAdUtP3GqwyZmDjXkX4","y":"_8lAizOsmnXjSYX1u6V4rSs89LcWlHZoEcT6X08l96s","d":"9K8kS7fqyYl1rkcfpkOKlMVabmEcZrlBxneWBawu9Ro","kid":"fuzz-p256-a128kw","use":"enc","alg":"ECDH-ES+A128KW"}"#;
/// The X25519 decryption key for `ECDH-ES` (direct key agreement).
pub const JWE_X25519_JWK: &str = r#"{"kty":"OKP","crv":"X25519","x":"Q9_-_g4r1zsWRmhjSYVN0gi_WgvQ7mxN0HhiwqFoex4","d":"mHgDGzoZOs3UcI8cixGTNDk3sIWuwRiz90YmS4XokGQ","kid":"fuzz-x25519-ecdh-es","use":"enc","alg":"ECDH-ES"}"#;
/// The P-384 decryption key for `ECDH-ES+A256KW`.
pub const JWE_P384_JWK: &str = r#"{"kty":"EC","crv":"P-384","x":"NEwqPmr60jWo37BaAvCkQvx21-jRE-oDOCJOIe9E1WK4CRyZ4d_LOvEfneamd2wL","y":"WEP2FBv_LD4wcdaAhWyY5AMS_oXea2IaTAo9Jbeh5cFcQurOV1h6oq2jKNIwA2EA","d":"3ExgnKO9w-TY4_kr-RZ30rDWbUCPDIPaRnSIiuJjBly7xuq5WRLAsE1x6kylQpuY","kid":"fuzz-p384-a256kw","use":"enc","alg":"ECDH-ES+A256KW"}"#;
/// The RSA-2048 decryption key for `RSA-OAEP-256` (embedded: RSA generation is slow).
pub const JWE_RSA_JWK: &str = r#"{"kty":"RSA","n":"sIWSQQxRuBQKo_BqHseoJkdEl2X7j8xPRcNi-848Fk-qyK5MQbNDCkywqUjX0K06Dhtbb54ctcxT2Nlb2DDblXAx6EAH0jInvQ8ogiG8LtRm5EeqjjF86jJ6F7sKa1cK75GwMg669tHP8lRrHR_MFnvo_XEt-v_Nrzor-yX7k0rN6NblJyheysupI9Bj-xn48XAumwoowwLKgEAYGIJ3sc9VFT2Uc30Z5ndYhdhX_Evm0sEfh4xtC1b1UErC7HlLLI_60j-4GFwSvyW2t3fiVyz-eSbuYH8kk_l7NEkP10kDbCX8p_sfHmwiNW8M0INcioPpVLFTcmKchkF82B5zEQ","e":"AQAB","d":"Bd7TT9V8jD4iYnRW2yIxreA14EEUfiJByqSmUJB5wBYzLExbnd27z4ZgY6jYAIkaQqjXQB2Gf-dFLJOB8e0iCFS8XChw-iUP3EI6SyWbEAWhTFszyVnM-S7nj415WbuB0hjKvsdtoVK18y2qiEPr8h150J_ocw35xaeOGeKX_Lx0cYLFW4an-PT9IeWYVjXJXuXa14bQRveVW1FKZ9Dv9iSdzFfUFhZ89gBlJHXBj1Vyx7ofYVuzMK1nbR0iMSWFqrj5oF18UXAAX5CkvAH0IXOXtFlofUJgLNuZ5yER7GJzU1g0iCWsRcO9mxI40-xzjNJ0Pyzg4BCY9LuBMswVdw","p":"5Vg6YDp-OMNtk_coDWExC7s0-hdXbIDtx5k3i0hqfc4lYnBpVNPu0ceCWBdzxHpty-o9CUg3zmIib8fmEoTHJlUke9yKmbZFrbY1dj9FxWiuSVW_JJspqQI4DUaIR--VrO9vm-uX55hTqWc7zC2Oo3oZWqlUQr8bgYG8f3fSnkM","q":"xQmvgRJ8C-GM8CE8xyYj8JixhBszbw4fi2aEUyDdVPf5l2I3KBUubh6uKFNFn6dV9S8AlHVaE23Coj_MEzaSvur1wwuotI_53-NonHrvFj9lurlx6JV8T2-4D5UxW7tB6Ebar9x9AiV8F3Rsd2nlsPxyp2EOetSUkRVDC42aFhs","dp":"YJTyKHoZk7ABInHQJSpL7EPPQI6521DEUe0dLgO2DPrWVYk_YmDJzwA0zQI7V3-zY09mmtUV400CcY5-Pkg6UdNDRQIQQEE5QLld9EkbCdJWqz13_GN3fNwZXMXaOGkV4DkJCGGDnB1TBiEaVpbM3d1adgqfGGjAnZ5UEl4UjV8","dq":"pEdkBXhU5k8Cg_8iPmRlWKbmcl9_bZtX35D0yJ5BCyPI_FeN5yRp1rRLviFXjjolJ8wtbpm9JS_BNCd-zZIVnYomp50j5o-X5Pwkbzrr9h-bgKg2-ZUQ1OYvjwZz5ahl1fSlRjTOISkBokiWWqV3NS31pen8-Zod2Czi_lHsY3s","qi":"euBvHgqTyId3v2wvwGR1vYfTLvFT4CGRtq8DUBiiGWs7AfY5klveFdAh_S5LwRsbhn7ATiREsDiG-wBnEpn8kGij8WwcUfsLOIytX92t0N-cg7UesOUeamI8VbC4LxjCuCyMFDWsQ5qHncRyE6-3EiwmEOe9LbR18zfr39RQLug","kid":"fuzz-rsa-oaep-256","use":"enc","alg":"RSA-OAEP-256"}"#;
/// [`TOKEN`] encrypted to [`JWE_P256_JWK`] (`ECDH-ES+A128KW`, `A256GCM`, `cty: JWT`, the key's
/// `kid`): `fixture_jwe()` in `fuzz/gen_seeds.py`, which makes every value deterministically
/// and checks that this constant is still what it makes.
pub const ENCRYPTED_TOKEN: &str = "eyJhbGciOiJFQ0RILUVTK0ExMjhLVyIsImVuYyI6IkEyNTZHQ00iLCJjdHkiOiJKV1QiLCJraWQiOiJmdXp6LXAyNTYtYTEyOGt3IiwiZXBrIjp7Imt0eSI6IkVDIiwiY3J2IjoiUC0yNTYiLCJ4IjoibzlHRDc2WkVUXzlfd2VFTm9vZHFWX082eHhET0NBLXppYV85Qmp4aGFpNCIsInkiOiJZYUQ1dFZoWXpmbndoNnBlS1BuSWZndGh3NTZ2SVFWQk9xS3N1VE50eHRjIn19.o_k_qB9YiJ44XeZzBjtzDA4YezL3s7OlnEa_Iv1SCfyAX8IYg9_scw.mOJq5iU5APmvyC93.1DTFkgnWaQfMsnuvIppOBCAiy2jAorWXG_7fvv5DXBRNY_mmXOqKPp_FX5jE4hsayyv41pXD4O9CyrRa6cuxiKEbQ0Z6DZqUVB7HZDvAKMIbIuF4_83D7y50p4V-IRYOkF7qCHdRbQP71UzNA_F0vRqdbQO6a9loAOP8z4iQ9ThJbf0wLQJhDfWULzQ689jNBnM_mqoDXvj_iaiCf4E6irV_k7OmeaymFtKlsPm7SsQ1AYkv_UYKzLLpyVHS4Uab6ZSscfRJRYtDZKD0DMeSWL1nh8-M_LXmKUbJHMVl_JsPRnJ3lnkJXTXmN1U6zc4Kw9Q_pIWkg3FDDMzofs9Q0LTpicYtjCHZjg5PFfNOOvQO-Pid-Sw3fbXCBuQDE_6D4J6hqkrDUhkpEMnIb_BYjh0gY-Fq23W6cbz2IT94LgCMVLCMrkDwgBOv59JFuibafiYYkXmbkiqABiASdCWmpX-uF3olK-qcep72u1V2-S8Dqmp42BsKnZ5AP6SBJCVx9ZjsvUsaDIH1FNWLveVlaJtImZ3u61uOe5Dh3q0yVZRop25-4b7xctTmaM0iK3k4yFSdN-U-lC1IZAw-8o2DHbJ3jdR32g6W4kKvbdfeRYsaPE3dp5jOkqZAUebFFoyyXQaiEcPeG434bmytGUn-Z0TqTD_D47rhpF1rujPJ_6uW025KnLt92CFV-seRuPdMGiv1bO0.9GpePqMTlNmZrkH4ZFFwzA";

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

/// The JWKs of the four decryption keys, one per key-management family, in the order of
/// [`decryption_keys`].
pub const DECRYPTION_JWKS: [&str; 4] = [JWE_P256_JWK, JWE_X25519_JWK, JWE_P384_JWK, JWE_RSA_JWK];

fn parse_decryption_keys() -> Vec<DecryptionKey> {
    DECRYPTION_JWKS
        .iter()
        .map(|jwk| DecryptionKey::from_jwk(jwk).expect("the JWE_* fixtures are valid private JWKs"))
        .collect()
}

/// The four decryption keys (P-256 `ECDH-ES+A128KW`, X25519 `ECDH-ES`, P-384 `ECDH-ES+A256KW`,
/// RSA `RSA-OAEP-256`), each with its `kid`, parsed once.
pub fn decryption_keys() -> &'static [DecryptionKey] {
    static KEYS: OnceLock<Vec<DecryptionKey>> = OnceLock::new();
    KEYS.get_or_init(parse_decryption_keys)
}

/// The same keys in the reverse order (key selection must not depend on the order).
pub fn decryption_keys_reversed() -> &'static [DecryptionKey] {
    static KEYS: OnceLock<Vec<DecryptionKey>> = OnceLock::new();
    KEYS.get_or_init(|| parse_decryption_keys().into_iter().rev().collect())
}

/// A stateless guard (replay store that never remembers, token cache disabled) for the fixture
/// issuer, decrypting with `keys` (fresh copies parsed from [`DECRYPTION_JWKS`] by index).
pub fn decrypting_guard(keys: &[usize]) -> RequestGuard<ForgetfulStore, MemoryRevocationStore> {
    keys.iter().fold(
        RequestGuard::new(token_verifier())
            .with_proof_verifier(ProofVerifier::with_replay_store(ForgetfulStore))
            .with_token_cache_capacity(0),
        |guard, &i| {
            guard.with_decryption_key(
                DecryptionKey::from_jwk(DECRYPTION_JWKS[i]).expect("valid private JWK"),
            )
        },
    )
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
