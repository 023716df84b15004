//! `jwk.json`: key validity on its own — EC P-256 public JWKs (RFC 7517, RFC 7518 §6.2) with
//! their RFC 7638 thumbprints, and JWK Sets (RFC 7517 §5) as a resource server reads an
//! issuer's keys.

use crate::keys::Key;
use serde_json::Value;

use crate::case::Case;
use crate::fixtures::Fixtures;
use crate::jose::{
    b64, b64_std, ec_jwk, hex, hex32, jkt_of, jwk_of, non_canonical, sub256, thumbprint, Members,
    P256_P, P384_GX, P384_GY, RFC7638_RSA_N, RFC8037_ED25519_X,
};
use crate::json::{obj, J};
use crate::proof::{Cases, Meta};

const RFC_EXAMPLES: &str = include_str!("../../tests/data/rfc/rfc9449_examples.json");

pub const DESCRIPTION: &str = "Key validity: EC P-256 public JWKs as they appear in a proof's \
jwk header or an issuer's JWKS (type jwk: accept or refuse, and the RFC 7638 thumbprint of an \
accepted key), and JWK Sets (type jwks: accept or refuse, and the kid of every usable key).";

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
    let input = obj().set("jwks", jwks).done();
    let expected = match outcome {
        Ok(kids) => obj()
            .set("valid", true)
            .set("reason", J::Null)
            .set("kids", kids),
        Err(reason) => obj()
            .set("valid", false)
            .set("reason", reason)
            .set("kids", J::Null),
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
            "rsa",
            "RFC 7518 §3.4 (ES256 uses P-256 keys)",
            true,
            "The RSA public key of RFC 7638 §3.1.",
            Members::new()
                .str("kty", "RSA")
                .str("n", RFC7638_RSA_N)
                .str("e", "AQAB")
                .text(),
            "unsupported_kty",
        ),
        (
            "okp-ed25519",
            "RFC 7518 §3.4",
            true,
            "The Ed25519 public key of RFC 8037 Appendix A.2.",
            Members::new()
                .str("kty", "OKP")
                .str("crv", "Ed25519")
                .str("x", RFC8037_ED25519_X)
                .text(),
            "unsupported_kty",
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
            "p384",
            EC,
            true,
            "A valid P-384 point (the P-384 base point).",
            Members::new()
                .str("kty", "EC")
                .str("crv", "P-384")
                .str("x", &b64(&hex(P384_GX)))
                .str("y", &b64(&hex(P384_GY)))
                .text(),
            "unsupported_crv",
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
    for (name, requirement, normative, description, jwk, reason) in cases {
        jwk_case(
            c,
            meta(CAT, name, requirement, normative, description),
            jwk,
            Err(reason),
        );
    }
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
            REQ,
            true,
            "An empty key list is a valid (useless) set.",
        ),
        set(&[]),
        Ok(vec![]),
    );
    jwks_case(c, meta(CAT, "key-without-kid", "RFC 7517 §4.5 (kid is optional); suite profile: such a key is found under its RFC 7638 thumbprint", false, "A key without kid."), set(&[jwk_of(a).text()]), Ok(vec![kid(a)]));
    let rsa = Members::new()
        .str("kty", "RSA")
        .str("kid", "rsa-1")
        .str("n", RFC7638_RSA_N)
        .str("e", "AQAB")
        .str("alg", "RS256")
        .str("use", "sig");
    jwks_case(c, meta(CAT, "refuses-unsupported-kty", "suite profile: a verification key set is ES256-only and an ambiguous or mixed set is refused as a whole (Wycheproof JWK 'MixedKeySet'/'Ambiguous'); RFC 7517 §5 lets a general-purpose JWKS consumer ignore such keys instead", false, "An RSA key next to a P-256 key: the whole set is refused."), set(&[rsa.text(), entry(a).text()]), Err("unsupported_kty"));
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
            "refuses-unsupported-curve",
            "suite profile: a verification key set is ES256-only and an ambiguous or mixed set is refused as a whole; RFC 7517 §5 lets a general-purpose JWKS consumer ignore such keys instead",
            false,
            "A P-384 key next to a P-256 key: the whole set is refused.",
        ),
        set(&[p384.text(), entry(a).text()]),
        Err("unsupported_crv"),
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
            "RFC 7517 §4.5 (kid is a string)",
            true,
            "kid is a number.",
        ),
        set(&[jwk_of(a).raw("kid", "7").text()]),
        Err("invalid_jwk_member"),
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
}
