//! `jwk.json`: key validity on its own — public JWKs (RFC 7517) of every supported type (EC
//! P-256/P-384/P-521, RFC 7518 §6.2; RSA, §6.3; OKP Ed25519, RFC 8037 §2) with their RFC 7638
//! thumbprints, and JWK Sets (RFC 7517 §5) as a resource server reads an issuer's keys.

use crate::keys::{AnyKey, Key};
use serde_json::Value;

use crate::case::Case;
use crate::fixtures::Fixtures;
use crate::jose::{
    b64, b64_decode, b64_std, ec_jwk, ec_thumbprint, hex, hex32, jkt_any, jkt_of, jwk_of,
    non_canonical, okp_jwk, okp_thumbprint, public_jwk, rsa_jwk, rsa_thumbprint, sub256,
    thumbprint, Members, ED25519_IDENTITY, ED25519_NON_CANONICAL_IDENTITY, ED25519_ORDER_2, P256_P,
    P384_GX, P384_GY, RFC7638_RSA_JKT, RFC7638_RSA_N, RFC8037_ED25519_JKT, RFC8037_ED25519_X,
};
use crate::json::{obj, J};
use crate::proof::{Cases, Meta};

const RFC_EXAMPLES: &str = include_str!("../../tests/data/rfc/rfc9449_examples.json");

pub const DESCRIPTION: &str = "Key validity: public JWKs (EC P-256/P-384/P-521, RSA, OKP \
Ed25519) as they appear in a proof's jwk header or an issuer's JWKS (type jwk: accept or \
refuse, and the RFC 7638 thumbprint of an accepted key), and JWK Sets (type jwks: accept or \
refuse, the kid of every usable key and the entries left out as unusable).";

fn meta(
    category: &'static str,
    name: &str,
    requirement: &'static str,
    normative: bool,
    description: &str,
) -> Meta {
    Meta {
        category,
        name: name.to_owned(),
        requirement,
        normative,
        description: description.to_owned(),
    }
}

fn jwk_case(c: &mut Cases<'_>, m: Meta, jwk: String, outcome: Result<String, &'static str>) {
    let input = obj().set("jwk", jwk).done();
    let expected = match outcome {
        Ok(jkt) => obj()
            .set("valid", true)
            .set("reason", J::Null)
            .set("jkt", jkt),
        Err(reason) => obj()
            .set("valid", false)
            .set("reason", reason)
            .set("jkt", J::Null),
    }
    .done();
    c.push(m, "jwk", input, expected, None);
}

fn jwks_case(c: &mut Cases<'_>, m: Meta, jwks: String, outcome: Result<Vec<String>, &'static str>) {
    jwks_case_skipping(c, m, jwks, outcome, &[]);
}

/// A `jwks` case whose usable set leaves out the entries at `skipped` (written only when
/// there are some, so the cases from before `skipped` existed are unchanged).
fn jwks_case_skipping(
    c: &mut Cases<'_>,
    m: Meta,
    jwks: String,
    outcome: Result<Vec<String>, &'static str>,
    skipped: &[usize],
) {
    let input = obj().set("jwks", jwks).done();
    let expected = match outcome {
        Ok(kids) => obj()
            .set("valid", true)
            .set("reason", J::Null)
            .set("kids", kids)
            .opt("skipped", (!skipped.is_empty()).then(|| skipped.to_vec())),
        Err(reason) => {
            assert!(skipped.is_empty(), "a refused set skips nothing");
            obj()
                .set("valid", false)
                .set("reason", reason)
                .set("kids", J::Null)
        }
    }
    .done();
    c.push(m, "jwks", input, expected, None);
}

/// `y` with its lowest bit flipped, asserted not to be `p - y` (the only other valid `y`).
fn off_curve_y(y: &[u8; 32]) -> Vec<u8> {
    let mut out = y.to_vec();
    out[31] ^= 1;
    assert_ne!(out, sub256(&hex32(P256_P), y).to_vec());
    out
}

pub fn cases(fx: &Fixtures) -> Vec<Case> {
    let mut c = Cases::new(fx, "jwk");
    valid(&mut c, fx);
    invalid(&mut c, fx);
    sets(&mut c, fx);
    c.cases
}

fn valid(c: &mut Cases<'_>, fx: &Fixtures) {
    const CAT: &str = "jwk-valid";
    let data: Value = serde_json::from_str(RFC_EXAMPLES).expect("RFC examples JSON");
    let field = |k: &str| data["public_jwk"][k].as_str().expect("member").to_owned();
    let rfc = Members::new()
        .str("kty", &field("kty"))
        .str("x", &field("x"))
        .str("y", &field("y"))
        .str("crv", &field("crv"));
    let rfc_jkt = data["jwk_thumbprint"]
        .as_str()
        .expect("thumbprint")
        .to_owned();
    jwk_case(
        c,
        meta(
            CAT,
            "rfc9449-example-key",
            "RFC 9449 §4.1 (Figure 1 key), §6.1; RFC 7638",
            true,
            "The public key of the RFC 9449 examples; its thumbprint is the RFC's.",
        ),
        rfc.text(),
        Ok(rfc_jkt),
    );
    let key = &fx.client;
    let jkt = jkt_of(key);
    jwk_case(
        c,
        meta(
            CAT,
            "generated-key",
            "RFC 7518 §6.2.1; RFC 7638 §3",
            true,
            "A P-256 public key with exactly kty, crv, x, y.",
        ),
        jwk_of(key).text(),
        Ok(jkt.clone()),
    );
    let (x, y) = (key.x(), key.y());
    let reordered = Members::new()
        .str("y", &b64(y))
        .str("crv", "P-256")
        .str("x", &b64(x))
        .str("kty", "EC");
    jwk_case(
        c,
        meta(
            CAT,
            "reordered-members",
            "RFC 7638 §3.3 (member order does not matter)",
            true,
            "The same key with its members in another order: same thumbprint.",
        ),
        reordered.text(),
        Ok(jkt.clone()),
    );
    let spaced = format!(
        "{{ \"kty\": \"EC\",\n  \"crv\": \"P-256\",\n  \"x\": \"{}\",\n  \"y\": \"{}\" }}",
        b64(x),
        b64(y)
    );
    jwk_case(
        c,
        meta(
            CAT,
            "whitespace",
            "RFC 7638 §3.3 (whitespace does not matter)",
            true,
            "The same key with whitespace between members: same thumbprint.",
        ),
        spaced,
        Ok(jkt.clone()),
    );
    let extra = jwk_of(key)
        .str("kid", "k-1")
        .str("alg", "ES256")
        .str("use", "sig")
        .raw("key_ops", "[\"verify\"]")
        .raw("ext", "true");
    jwk_case(
        c,
        meta(
            CAT,
            "optional-members",
            "RFC 7517 §4; RFC 7638 §3.2 (only required members are hashed)",
            true,
            "kid, alg ES256, use sig, key_ops [\"verify\"] and ext: the thumbprint is unchanged.",
        ),
        extra.text(),
        Ok(jkt),
    );
    for (name, k) in [("issuer-key", &fx.issuer), ("thief-key", &fx.thief)] {
        jwk_case(
            c,
            meta(
                CAT,
                name,
                "RFC 7518 §6.2.1; RFC 7638 §3",
                true,
                "Another generated P-256 public key.",
            ),
            jwk_of(k).text(),
            Ok(jkt_of(k)),
        );
    }
    // The thumbprints below are the ones the RFCs print; the generator's own computation must
    // agree with them.
    let rfc_rsa = Members::new()
        .str("kty", "RSA")
        .str("n", RFC7638_RSA_N)
        .str("e", "AQAB");
    assert_eq!(rsa_thumbprint(RFC7638_RSA_N, "AQAB"), RFC7638_RSA_JKT);
    jwk_case(
        c,
        meta(
            CAT,
            "rfc7638-rsa-key",
            "RFC 7518 §6.3.1; RFC 7638 §3.1 (the example key and its thumbprint)",
            true,
            "The RSA public key of RFC 7638 §3.1 (from RFC 7517 Appendix A.1); its thumbprint is the one RFC 7638 §3.1 gives.",
        ),
        rfc_rsa.text(),
        Ok(RFC7638_RSA_JKT.to_owned()),
    );
    assert_eq!(
        okp_thumbprint("Ed25519", &b64_decode(RFC8037_ED25519_X)),
        RFC8037_ED25519_JKT
    );
    jwk_case(
        c,
        meta(
            CAT,
            "rfc8037-ed25519-key",
            "RFC 8037 §2, Appendix A.2, A.3 (the example key and its thumbprint)",
            true,
            "The Ed25519 public key of RFC 8037 Appendix A.2; its thumbprint is the one of Appendix A.3.",
        ),
        okp_jwk("Ed25519", &b64_decode(RFC8037_ED25519_X)).text(),
        Ok(RFC8037_ED25519_JKT.to_owned()),
    );
    jwk_case(
        c,
        meta(
            CAT,
            "p384-base-point",
            "RFC 7518 §6.2.1; RFC 7638 §3",
            true,
            "A P-384 public key: the base point of SEC 2 §2.5.1.",
        ),
        Members::new()
            .str("kty", "EC")
            .str("crv", "P-384")
            .str("x", &b64(&hex(P384_GX)))
            .str("y", &b64(&hex(P384_GY)))
            .text(),
        Ok(ec_thumbprint("P-384", &hex(P384_GX), &hex(P384_GY))),
    );
    let generated: [(&str, &'static str, &str, AnyKey<'_>); 6] = [
        ("p384-key", "RFC 7518 §6.2.1; RFC 7638 §3", "A generated P-384 public key.", AnyKey::Ec(&fx.client_p384)),
        ("p521-key", "RFC 7518 §6.2.1; RFC 7638 §3", "A generated P-521 public key (66-byte coordinates).", AnyKey::Ec(&fx.client_p521)),
        ("ed25519-key", "RFC 8037 §2; RFC 7638 §3", "A generated Ed25519 public key.", AnyKey::Ed25519(&fx.client_ed25519)),
        ("rsa-2048-key", "RFC 7518 §6.3.1; RFC 7638 §3", "A 2048-bit RSA public key.", AnyKey::Rsa(&fx.client_rsa)),
        ("rsa-4096-key", "RFC 7518 §6.3.1; RFC 7638 §3", "A 4096-bit RSA public key.", AnyKey::Rsa(&fx.rsa_4096)),
        ("rsa-8192-key", "RFC 7518 §6.3.1; RFC 7638 §3", "An 8192-bit RSA public key (usable as an issuer key; proof keys are limited to 4096 bits, see proofs.json).", AnyKey::Rsa(&fx.rsa_8192)),
    ];
    for (name, requirement, description, key) in generated {
        jwk_case(
            c,
            meta(CAT, name, requirement, true, description),
            public_jwk(key).text(),
            Ok(jkt_any(key)),
        );
    }
    let rsa = AnyKey::Rsa(&fx.client_rsa);
    jwk_case(
        c,
        meta(
            CAT,
            "rsa-optional-members",
            "RFC 7517 §4; RFC 7638 §3.2 (only required members are hashed)",
            true,
            "An RSA key with kid, alg PS256, use sig and key_ops [\"verify\"]: the thumbprint is that of kty, n, e.",
        ),
        public_jwk(rsa)
            .str("kid", "rsa-1")
            .str("alg", "PS256")
            .str("use", "sig")
            .raw("key_ops", "[\"verify\"]")
            .text(),
        Ok(jkt_any(rsa)),
    );
    let ed = AnyKey::Ed25519(&fx.client_ed25519);
    let x = b64(fx.client_ed25519.x());
    jwk_case(
        c,
        meta(
            CAT,
            "ed25519-reordered-with-alg",
            "RFC 8037 §2, §3.1 (alg EdDSA); RFC 7638 §3.2, §3.3",
            true,
            "An Ed25519 key with its members in another order and alg EdDSA: the thumbprint is that of crv, kty, x.",
        ),
        Members::new()
            .str("x", &x)
            .str("alg", "EdDSA")
            .str("crv", "Ed25519")
            .str("kty", "OKP")
            .text(),
        Ok(jkt_any(ed)),
    );
}

/// A key whose base64url coordinate contains '-' or '_', for the standard-alphabet case.
fn key_with_url_chars(fx: &Fixtures) -> (&Key, bool) {
    for key in [
        &fx.client,
        &fx.thief,
        &fx.other,
        &fx.issuer,
        &fx.issuer2,
        &fx.rogue,
    ] {
        if b64(key.x()).contains(['-', '_']) {
            return (key, true);
        }
        if b64(key.y()).contains(['-', '_']) {
            return (key, false);
        }
    }
    panic!("no coordinate with '-' or '_'");
}

fn invalid(c: &mut Cases<'_>, fx: &Fixtures) {
    const CAT: &str = "jwk-invalid";
    const EC: &str = "RFC 7518 §6.2.1";
    let key = &fx.client;
    let (x, y) = (key.x(), key.y());
    let d = b64(&key.d());
    let (std_key, in_x) = key_with_url_chars(fx);
    let std_jwk = if in_x {
        jwk_of(std_key).str("x", &b64_std(std_key.x()))
    } else {
        jwk_of(std_key).str("y", &b64_std(std_key.y()))
    };
    let cases: Vec<(&str, &'static str, bool, &str, String, &'static str)> = vec![
        (
            "private-d",
            "RFC 9449 §4.3 step 7; RFC 7518 §6.2.2",
            true,
            "A private EC key (d present) where a public key belongs.",
            jwk_of(key).str("d", &d).text(),
            "private_key_in_jwk",
        ),
        (
            "oct-key",
            "RFC 7518 §6.4 (k is secret key material)",
            true,
            "A symmetric (oct) key: its k member is a secret.",
            Members::new()
                .str("kty", "oct")
                .str("k", &b64(&[42u8; 32]))
                .text(),
            "private_key_in_jwk",
        ),
        (
            "missing-kty",
            "RFC 7517 §4.1 (kty is required)",
            true,
            "No kty.",
            jwk_of(key).without("kty").text(),
            "missing_jwk_member",
        ),
        (
            "kty-lowercase",
            "RFC 7517 §4.1 (kty values are case-sensitive)",
            true,
            "kty is \"ec\".",
            jwk_of(key).str("kty", "ec").text(),
            "unsupported_kty",
        ),
        (
            "missing-crv",
            EC,
            true,
            "No crv.",
            jwk_of(key).without("crv").text(),
            "missing_jwk_member",
        ),
        (
            "secp256k1",
            EC,
            true,
            "crv secp256k1 (RFC 8812), not P-256.",
            jwk_of(key).str("crv", "secp256k1").text(),
            "unsupported_crv",
        ),
        (
            "crv-lowercase",
            EC,
            true,
            "crv is \"p-256\".",
            jwk_of(key).str("crv", "p-256").text(),
            "unsupported_crv",
        ),
        (
            "missing-x",
            EC,
            true,
            "No x.",
            jwk_of(key).without("x").text(),
            "missing_jwk_member",
        ),
        (
            "missing-y",
            EC,
            true,
            "No y.",
            jwk_of(key).without("y").text(),
            "missing_jwk_member",
        ),
        (
            "numeric-x",
            EC,
            true,
            "x is a number.",
            jwk_of(key).raw("x", "12345").text(),
            "invalid_jwk_member",
        ),
        (
            "short-x",
            "RFC 7518 §6.2.1.2 (the full coordinate size, 32 octets)",
            true,
            "x is 31 bytes (its first byte dropped).",
            ec_jwk(&x[1..], y).text(),
            "invalid_coordinate",
        ),
        (
            "long-x",
            "RFC 7518 §6.2.1.2",
            true,
            "x is 33 bytes (a leading zero byte).",
            ec_jwk(&[&[0u8][..], x].concat(), y).text(),
            "invalid_coordinate",
        ),
        (
            "padded-x",
            "RFC 7515 §2 (base64url without padding)",
            true,
            "x carries '=' padding.",
            jwk_of(key).str("x", &format!("{}=", b64(x))).text(),
            "invalid_coordinate",
        ),
        (
            "standard-alphabet",
            "RFC 7515 §2 (base64url alphabet)",
            true,
            "A coordinate written in the standard base64 alphabet ('+', '/').",
            std_jwk.text(),
            "invalid_coordinate",
        ),
        (
            "non-canonical-x",
            "RFC 4648 §3.5; suite profile: non-zero pad bits rejected",
            false,
            "The last character of x sets unused bits.",
            jwk_of(key).str("x", &non_canonical(&b64(x))).text(),
            "invalid_coordinate",
        ),
        (
            "off-curve",
            "RFC 7518 §6.2.1; SEC 1 §3.2.2.1 (public key validation)",
            true,
            "y with its lowest bit flipped: not on P-256.",
            ec_jwk(x, &off_curve_y(y)).text(),
            "invalid_point",
        ),
        (
            "zero-point",
            "SEC 1 §3.2.2.1",
            true,
            "x = y = 0.",
            ec_jwk(&[0u8; 32], &[0u8; 32]).text(),
            "invalid_point",
        ),
        (
            "x-equals-p",
            "SEC 1 §3.2.2.1 (coordinates in [0, p-1])",
            true,
            "x = p, not a field element.",
            ec_jwk(&hex(P256_P), y).text(),
            "invalid_point",
        ),
        (
            "alg-es384",
            "RFC 7517 §4.4; suite profile",
            false,
            "alg ES384 on a P-256 key.",
            jwk_of(key).str("alg", "ES384").text(),
            "wrong_jwk_alg",
        ),
        (
            "alg-none",
            "RFC 7517 §4.4; suite profile",
            false,
            "alg none.",
            jwk_of(key).str("alg", "none").text(),
            "wrong_jwk_alg",
        ),
        (
            "use-enc",
            "RFC 7517 §4.2; suite profile",
            false,
            "use enc: an encryption key.",
            jwk_of(key).str("use", "enc").text(),
            "wrong_jwk_use",
        ),
        (
            "key-ops-sign-only",
            "RFC 7517 §4.3; suite profile",
            false,
            "key_ops [\"sign\"] does not include verify.",
            jwk_of(key).raw("key_ops", "[\"sign\"]").text(),
            "wrong_jwk_use",
        ),
        (
            "key-ops-string",
            "RFC 7517 §4.3 (key_ops is an array)",
            true,
            "key_ops is the string verify.",
            jwk_of(key).str("key_ops", "verify").text(),
            "invalid_jwk_member",
        ),
        (
            "duplicate-member",
            "RFC 7517 §4 (member names MUST be unique); RFC 8725 §3.5",
            false,
            "x appears twice.",
            jwk_of(key)
                .push_raw("x", crate::json::quote(&b64(x)))
                .text(),
            "duplicate_json_member",
        ),
        (
            "not-an-object",
            "RFC 7517 §4 (a JWK is a JSON object)",
            true,
            "A JSON array holding the key.",
            format!("[{}]", jwk_of(key).text()),
            "json_not_object",
        ),
        (
            "not-json",
            "RFC 7517 §4",
            true,
            "Truncated JSON.",
            {
                let t = jwk_of(key).text();
                t[..t.len() - 2].to_owned()
            },
            "invalid_json",
        ),
    ];
    let cases = cases.into_iter().chain(other_types(fx));
    for (name, requirement, normative, description, jwk, reason) in cases {
        jwk_case(
            c,
            meta(CAT, name, requirement, normative, description),
            jwk,
            Err(reason),
        );
    }
}

/// Invalid keys of the other types: RSA, OKP, P-384, P-521.
fn other_types(
    fx: &Fixtures,
) -> Vec<(
    &'static str,
    &'static str,
    bool,
    &'static str,
    String,
    &'static str,
)> {
    let rsa = &fx.client_rsa;
    let (n, e) = (rsa.n(), rsa.e());
    let ed_x = fx.client_ed25519.x();
    let p384 = &fx.client_p384;
    let p521 = &fx.client_p521;
    let mut long_n = vec![0xffu8; 1025];
    long_n[1024] = 0xfb;
    vec![
        (
            "rsa-1024",
            "RFC 7518 §3.3 (a key of size 2048 bits or larger MUST be used)",
            true,
            "A 1024-bit RSA public key.",
            public_jwk(AnyKey::Rsa(&fx.rsa_1024)).text(),
            "rsa_modulus_size",
        ),
        (
            "rsa-modulus-too-large",
            "suite profile: RSA moduli at most 8192 bits",
            false,
            "An 8200-bit modulus (an odd number, not a real key).",
            rsa_jwk(&long_n, e).text(),
            "rsa_modulus_size",
        ),
        (
            "rsa-e-1",
            "RFC 8017 §3.1 (3 <= e <= n - 1)",
            true,
            "The 2048-bit modulus with e = 1, under which every message is its own signature.",
            rsa_jwk(n, &[1]).text(),
            "invalid_rsa_exponent",
        ),
        (
            "rsa-e-even",
            "RFC 8017 §3.1 (GCD(e, λ(n)) = 1, so e is odd)",
            true,
            "The 2048-bit modulus with e = 65536.",
            rsa_jwk(n, &[1, 0, 0]).text(),
            "invalid_rsa_exponent",
        ),
        (
            "rsa-e-above-2-32",
            "RFC 8017 §3.1 (any e up to n - 1); suite profile: e at most 2^32",
            false,
            "The 2048-bit modulus with e = 2^32 + 1 (odd).",
            rsa_jwk(n, &[1, 0, 0, 0, 1]).text(),
            "invalid_rsa_exponent",
        ),
        (
            "rsa-n-leading-zero",
            "RFC 7518 §2 (Base64urlUInt: the minimum number of octets), §6.3.1.1; suite profile: a non-minimal encoding is refused (it would give the key a second thumbprint)",
            false,
            "The 2048-bit modulus encoded with a leading zero octet.",
            rsa_jwk(&[&[0u8][..], n].concat(), e).text(),
            "invalid_jwk_member",
        ),
        (
            "rsa-e-leading-zero",
            "RFC 7518 §2, §6.3.1.2; suite profile: a non-minimal encoding is refused",
            false,
            "e = 65537 encoded as AAEAAQ (a leading zero octet).",
            rsa_jwk(n, &[0, 1, 0, 1]).text(),
            "invalid_jwk_member",
        ),
        (
            "rsa-missing-e",
            "RFC 7518 §6.3.1 (n and e are required)",
            true,
            "No e.",
            rsa_jwk(n, e).without("e").text(),
            "missing_jwk_member",
        ),
        (
            "rsa-private-d",
            "RFC 9449 §4.3 step 7; RFC 7518 §6.3.2.1",
            true,
            "An RSA key with a d member where a public key belongs.",
            rsa_jwk(n, e).str("d", &b64(&[0x5a; 256])).text(),
            "private_key_in_jwk",
        ),
        (
            "rsa-alg-es256",
            "RFC 7517 §4.4; suite profile",
            false,
            "alg ES256 on an RSA key.",
            rsa_jwk(n, e).str("alg", "ES256").text(),
            "wrong_jwk_alg",
        ),
        (
            "x25519",
            "RFC 8037 §2, §3.2 (X25519 keys are for ECDH-ES key agreement, not signatures)",
            true,
            "An OKP key on X25519 (with the 32 bytes of an Ed25519 public key).",
            okp_jwk("X25519", ed_x).text(),
            "unsupported_crv",
        ),
        (
            "ed448",
            "RFC 8037 §2 (Ed448 is registered); suite profile: Ed448 is not supported",
            false,
            "An OKP key on Ed448 (57 bytes of x).",
            okp_jwk("Ed448", &[0x42; 57]).text(),
            "unsupported_crv",
        ),
        (
            "ed25519-identity",
            "RFC 8032 §5.1.7 (accepts it); suite profile: small-order keys are refused (with them a signature can be forged for any message)",
            false,
            "x encodes the identity point (0, 1), of order 1.",
            okp_jwk("Ed25519", &hex(ED25519_IDENTITY)).text(),
            "invalid_point",
        ),
        (
            "ed25519-order-2",
            "RFC 8032 §5.1.7; suite profile: small-order keys are refused",
            false,
            "x encodes the point (0, -1), of order 2.",
            okp_jwk("Ed25519", &hex(ED25519_ORDER_2)).text(),
            "invalid_point",
        ),
        (
            "ed25519-non-canonical",
            "RFC 8032 §5.1.3 step 1 (y >= p: decoding fails)",
            true,
            "x encodes y = p + 1, a non-canonical encoding.",
            okp_jwk("Ed25519", &hex(ED25519_NON_CANONICAL_IDENTITY)).text(),
            "invalid_point",
        ),
        (
            "ed25519-short-x",
            "RFC 8037 §2 (x is the 32-octet public key)",
            true,
            "x is 31 bytes.",
            okp_jwk("Ed25519", &ed_x[1..]).text(),
            "invalid_coordinate",
        ),
        (
            "ed25519-missing-crv",
            "RFC 8037 §2 (crv is required)",
            true,
            "No crv.",
            okp_jwk("Ed25519", ed_x).without("crv").text(),
            "missing_jwk_member",
        ),
        (
            "ed25519-alg-es256",
            "RFC 7517 §4.4; suite profile",
            false,
            "alg ES256 on an Ed25519 key.",
            okp_jwk("Ed25519", ed_x).str("alg", "ES256").text(),
            "wrong_jwk_alg",
        ),
        (
            "p384-off-curve",
            "RFC 7518 §6.2.1; SEC 1 §3.2.2.1",
            true,
            "A P-384 key with the lowest bit of y flipped: not on P-384.",
            ec_members("P-384", p384.x(), &flip_last_bit(p384.y())).text(),
            "invalid_point",
        ),
        (
            "p384-alg-es256",
            "RFC 7517 §4.4; suite profile",
            false,
            "alg ES256 on a P-384 key.",
            ec_members("P-384", p384.x(), p384.y()).str("alg", "ES256").text(),
            "wrong_jwk_alg",
        ),
        (
            "p521-short-x",
            "RFC 7518 §6.2.1.2 (the full coordinate size, 66 octets for P-521)",
            true,
            "A P-521 key whose x is 65 bytes (its first byte dropped).",
            ec_members("P-521", &p521.x()[1..], p521.y()).text(),
            "invalid_coordinate",
        ),
    ]
}

/// `kty`, `crv`, `x`, `y` of an EC key on `crv`.
fn ec_members(crv: &str, x: &[u8], y: &[u8]) -> Members {
    Members::new()
        .str("kty", "EC")
        .str("crv", crv)
        .str("x", &b64(x))
        .str("y", &b64(y))
}

/// `bytes` with the lowest bit of the last byte flipped.
fn flip_last_bit(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    *out.last_mut().expect("non-empty") ^= 1;
    out
}

fn sets(c: &mut Cases<'_>, fx: &Fixtures) {
    const CAT: &str = "jwks";
    const REQ: &str = "RFC 7517 §5";
    let kid = |k: &Key| thumbprint(k.x(), k.y());
    let entry = |k: &Key| {
        jwk_of(k)
            .str("kid", &kid(k))
            .str("alg", "ES256")
            .str("use", "sig")
    };
    let set = |entries: &[String]| format!("{{\"keys\":[{}]}}", entries.join(","));
    let (a, b) = (&fx.issuer, &fx.issuer2);
    jwks_case(
        c,
        meta(
            CAT,
            "two-keys",
            REQ,
            true,
            "Two P-256 keys with distinct kid.",
        ),
        set(&[entry(a).text(), entry(b).text()]),
        Ok(vec![kid(a), kid(b)]),
    );
    jwks_case(
        c,
        meta(
            CAT,
            "named-kids",
            REQ,
            true,
            "Keys named by arbitrary kid strings.",
        ),
        set(&[
            jwk_of(a).str("kid", "2024-01").text(),
            jwk_of(b).str("kid", "2024-02").text(),
        ]),
        Ok(vec!["2024-01".to_owned(), "2024-02".to_owned()]),
    );
    jwks_case(
        c,
        meta(
            CAT,
            "empty",
            "RFC 7517 §5 (an empty keys array is a valid JWK Set); suite profile: a verification key set without a usable signing key is refused",
            false,
            "An empty key list: a valid JWK Set that can verify nothing.",
        ),
        set(&[]),
        Err("no_usable_key"),
    );
    jwks_case(c, meta(CAT, "key-without-kid", "RFC 7517 §4.5 (kid is optional); suite profile: such a key is found under its RFC 7638 thumbprint", false, "A key without kid."), set(&[jwk_of(a).text()]), Ok(vec![kid(a)]));
    let rsa = Members::new()
        .str("kty", "RSA")
        .str("kid", "rsa-1")
        .str("n", RFC7638_RSA_N)
        .str("e", "AQAB")
        .str("alg", "RS256")
        .str("use", "sig");
    jwks_case(
        c,
        meta(
            CAT,
            "rsa-and-ec-keys",
            "RFC 7517 §5; RFC 7518 §6.2, §6.3",
            true,
            "An RSA key (the RFC 7638 §3.1 example, alg RS256) next to a P-256 key: both are usable.",
        ),
        set(&[rsa.text(), entry(a).text()]),
        Ok(vec!["rsa-1".to_owned(), kid(a)]),
    );
    let p384 = Members::new()
        .str("kty", "EC")
        .str("kid", "p384-1")
        .str("crv", "P-384")
        .str("x", &b64(&hex(P384_GX)))
        .str("y", &b64(&hex(P384_GY)));
    jwks_case(
        c,
        meta(
            CAT,
            "p384-and-p256-keys",
            "RFC 7517 §5; RFC 7518 §6.2",
            true,
            "A P-384 key next to a P-256 key: both are usable.",
        ),
        set(&[p384.text(), entry(a).text()]),
        Ok(vec!["p384-1".to_owned(), kid(a)]),
    );
    jwks_case(c, meta(CAT, "duplicate-kid", "RFC 7517 §4.5 (distinct kid values SHOULD be used); suite profile: an ambiguous set is refused", false, "Two different keys under the same kid."), set(&[jwk_of(a).str("kid", "same").text(), jwk_of(b).str("kid", "same").text()]), Err("duplicate_kid"));
    let d = b64(&a.d());
    jwks_case(c, meta(CAT, "private-key", "RFC 7517 §9.2 (private keys need protection); suite profile: a published set holding a private key is refused", false, "The issuer's key with its private scalar d."), set(&[entry(a).str("d", &d).text()]), Err("private_key_in_jwk"));
    jwks_case(
        c,
        meta(CAT, "missing-keys", REQ, true, "An object without keys."),
        "{\"kids\":[]}".to_owned(),
        Err("missing_jwk_member"),
    );
    jwks_case(
        c,
        meta(CAT, "keys-not-array", REQ, true, "keys is an object."),
        format!("{{\"keys\":{}}}", entry(a).text()),
        Err("missing_jwk_member"),
    );
    jwks_case(
        c,
        meta(CAT, "entry-not-object", REQ, true, "keys holds a string."),
        "{\"keys\":[\"key\"]}".to_owned(),
        Err("invalid_jwk_member"),
    );
    jwks_case(
        c,
        meta(
            CAT,
            "kid-not-string",
            "RFC 7517 §4.5 (kid is a string), §5 (SHOULD ignore JWKs with values out of the supported ranges); suite profile: a set without a usable signing key is refused",
            false,
            "The set's only key has a number as kid: that entry is ignored, which leaves no usable key.",
        ),
        set(&[jwk_of(a).raw("kid", "7").text()]),
        Err("no_usable_key"),
    );
    jwks_case(
        c,
        meta(
            CAT,
            "duplicate-member",
            "RFC 7517 §5; RFC 8725 §3.5; suite profile",
            false,
            "The set names keys twice.",
        ),
        format!("{{\"keys\":[],\"keys\":[{}]}}", entry(a).text()),
        Err("duplicate_json_member"),
    );
    mixed_sets(c, fx);
}

/// Sets as providers publish them, with keys this profile cannot verify with: those are
/// ignored (RFC 7517 §5), the others are used.
fn mixed_sets(c: &mut Cases<'_>, fx: &Fixtures) {
    const CAT: &str = "jwks";
    const IGNORE: &str = "RFC 7517 §5 (implementations SHOULD ignore JWKs with a kty they do not understand, missing members or values out of the supported ranges), §4.2 (use)";
    let set = |entries: &[String]| format!("{{\"keys\":[{}]}}", entries.join(","));
    let a = &fx.issuer;
    let p256 = jwk_of(a)
        .str("kid", &thumbprint(a.x(), a.y()))
        .str("alg", "ES256")
        .str("use", "sig");
    let rsa = public_jwk(AnyKey::Rsa(&fx.issuer_rs256))
        .str("kid", "rsa-rs256")
        .str("alg", "RS256")
        .str("use", "sig");
    let ed = public_jwk(AnyKey::Ed25519(&fx.client_ed25519))
        .str("kid", "ed-1")
        .str("alg", "Ed25519")
        .str("use", "sig");
    let enc = jwk_of(&fx.issuer2).str("kid", "enc-1").str("use", "enc");
    let x25519 = okp_jwk("X25519", fx.client_ed25519.x())
        .str("kid", "x25519-1")
        .str("use", "enc");
    let unknown = Members::new()
        .str("kty", "AKP")
        .str("kid", "akp-1")
        .str("pub", &b64(&[7u8; 32]));
    let weak = public_jwk(AnyKey::Rsa(&fx.rsa_1024))
        .str("kid", "rsa-1024")
        .str("alg", "RS256");
    let off_curve = jwk_of(a)
        .str("kid", "bad-point")
        .str("y", &b64(&flip_last_bit(a.y())));
    let ed448 = okp_jwk("Ed448", &[0x42; 57]).str("kid", "ed448-1");
    jwks_case_skipping(
        c,
        meta(CAT, "mixed-set", IGNORE, true, "RSA, P-256 and Ed25519 signing keys next to an encryption key (use enc), an X25519 key, an unknown kty (AKP), a 1024-bit RSA key and a P-256 key off its curve: the last five are ignored, the first three are usable."),
        set(&[rsa.text(), p256.text(), ed.text(), enc.text(), x25519.text(), unknown.text(), weak.text(), off_curve.text()]),
        Ok(vec!["rsa-rs256".to_owned(), thumbprint(a.x(), a.y()), "ed-1".to_owned()]),
        &[3, 4, 5, 6, 7],
    );
    jwks_case(
        c,
        meta(CAT, "only-unusable-keys", "RFC 7517 §5 (unusable JWKs are ignored); suite profile: a set without a usable signing key is refused", false, "An encryption key, an X25519 key, a 1024-bit RSA key and an Ed448 key: nothing is left to verify with."),
        set(&[enc.text(), x25519.text(), weak.text(), ed448.text()]),
        Err("no_usable_key"),
    );
    jwks_case(
        c,
        meta(CAT, "duplicate-kid-across-types", "RFC 7517 §4.5 (distinct kid values SHOULD be used); suite profile: an ambiguous set is refused", false, "An RSA key and a P-256 key, both usable, under the same kid."),
        set(&[public_jwk(AnyKey::Rsa(&fx.issuer_rs256)).str("kid", "same").text(), jwk_of(a).str("kid", "same").text()]),
        Err("duplicate_kid"),
    );
    jwks_case_skipping(
        c,
        meta(CAT, "kid-shared-with-enc-key", "RFC 7517 §4.5 (distinct kid values SHOULD, not MUST, be used), §4.2 (use), §5", true, "An encryption key and a signing key under the same kid: the encryption key is ignored, so the kid names one verification key."),
        set(&[jwk_of(&fx.issuer2).str("kid", "k1").str("use", "enc").text(), jwk_of(a).str("kid", "k1").str("use", "sig").text()]),
        Ok(vec!["k1".to_owned()]),
        &[0],
    );
    jwks_case(
        c,
        meta(CAT, "rsa-and-okp-without-kid", "RFC 7517 §4.5 (kid is optional); suite profile: such a key is found under its RFC 7638 thumbprint", false, "An RSA key and an Ed25519 key without kid."),
        set(&[public_jwk(AnyKey::Rsa(&fx.issuer_rs256)).text(), public_jwk(AnyKey::Ed25519(&fx.client_ed25519)).text()]),
        Ok(vec![jkt_any(AnyKey::Rsa(&fx.issuer_rs256)), jkt_any(AnyKey::Ed25519(&fx.client_ed25519))]),
    );
    jwks_case(
        c,
        meta(CAT, "oct-key-in-set", "RFC 7518 §6.4 (k is secret key material); suite profile: a published set holding a secret is refused as a whole", false, "A symmetric (oct) key with its secret k next to a P-256 key."),
        set(&[Members::new().str("kty", "oct").str("kid", "hmac-1").str("k", &b64(&[42u8; 32])).text(), p256.text()]),
        Err("private_key_in_jwk"),
    );
}
