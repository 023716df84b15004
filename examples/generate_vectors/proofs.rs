//! `proofs.json`: every check of RFC 9449 §4.3, JOSE strictness on proofs, replay, and the
//! RFC 9449 examples. Each negative case breaks exactly one rule of an otherwise valid proof,
//! and hand-made defects are signed over the bytes actually sent, so that only the rule under
//! test can refuse the proof.

use serde_json::Value;

use crate::case::Case;
use crate::drbg::Drbg;
use crate::fixtures::{Fixtures, API_URL, LEEWAY, MAX_AGE, NONCE, NOW, OPAQUE_TOKEN, TOKEN_URL};
use crate::jose::{
    ath, b64, b64_index, b64_std, compact, compact_bytes, compact_with, der, ec_jwk, hex, hex32,
    hmac_sha256, jkt_of, jwk_of, non_canonical, padded, sha256, sign_input, sub256, Members,
    P256_N, P256_P, P384_GX, P384_GY, RFC7638_RSA_N, RFC8037_ED25519_X,
};
use crate::jose::{
    b64_decode, emsa_pkcs1_v15_sha256, jkt_any, okp_jwk, public_jwk, rsa_jwk, ED25519_IDENTITY,
    ED25519_L_LE, ED25519_NON_CANONICAL_IDENTITY, ED25519_ORDER_2,
};
use crate::json::quote;
use crate::keys::{Alg, AnyKey};
use crate::proof::{Cases, Meta, Outcome, Proof, Req, Verifier};

/// The RFC 9449 examples (Figure 1, §5 refresh, §7.1), as checked into the repository.
const RFC_EXAMPLES: &str = include_str!("../../tests/data/rfc/rfc9449_examples.json");

pub const DESCRIPTION: &str = "DPoP proofs (RFC 9449 section 4.3): one case per check, JOSE \
strictness on proofs, the iat window, replay sequences and the RFC 9449 examples. Run each \
request through a proof verifier configured as in input.verifier; error codes are those of a \
token endpoint (RFC 9449 section 5).";

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

struct Gen<'f> {
    c: Cases<'f>,
}

impl<'f> Gen<'f> {
    fn fx(&self) -> &'f Fixtures {
        self.c.fx
    }

    fn jti(&self, category: &str, name: &str) -> String {
        self.fx().jti(&self.c.id(category, name), 0)
    }

    /// A valid token-request proof by the client: POST to the token endpoint at NOW.
    fn tp(&self, category: &str, name: &str) -> Proof<'f> {
        Proof::new(
            &self.fx().client,
            &self.jti(category, name),
            "POST",
            TOKEN_URL,
            NOW,
        )
    }

    /// A valid resource proof by the client: GET of the API with `ath` of the opaque token.
    fn rp(&self, category: &str, name: &str) -> Proof<'f> {
        Proof::new(
            &self.fx().client,
            &self.jti(category, name),
            "GET",
            API_URL,
            NOW,
        )
        .ath(OPAQUE_TOKEN)
    }

    /// A valid token-request proof by `key` with `alg` (header `alg` and `jwk` to match).
    fn tp_with(&self, category: &str, name: &str, key: AnyKey<'f>, alg: Alg) -> Proof<'f> {
        Proof::with_key(key, alg, &self.jti(category, name), "POST", TOKEN_URL, NOW)
    }

    fn client_jkt(&self) -> String {
        jkt_of(&self.fx().client)
    }

    /// A token-endpoint request (POST, no access token) carrying `dpop`.
    fn token_request(dpop: Vec<String>) -> Req {
        Req::new("POST", TOKEN_URL, dpop)
    }

    /// A case whose DPoP header is `text`, sent to the token endpoint.
    fn token_case(&mut self, m: Meta, text: String, outcome: Outcome, decoded: Option<Proof<'_>>) {
        let decoded = decoded.map(|p| p.decoded());
        self.c.single(
            m,
            &Verifier::standard(),
            Self::token_request(vec![text]),
            outcome,
            decoded,
        );
    }

    /// A case with a hand-made token-endpoint proof.
    fn proof_case(&mut self, m: Meta, proof: Proof<'_>, outcome: Outcome) {
        let text = proof.text();
        self.token_case(m, text, outcome, Some(proof));
    }
}

/// Spaces inserted after the opening brace of `json` until `ok(encoded length)` holds.
fn pad_json(json: &str, ok: impl Fn(&str) -> bool) -> String {
    for n in 0..64 {
        let candidate = format!("{{{}{}", " ".repeat(n), &json[1..]);
        if ok(&b64(candidate.as_bytes())) {
            return candidate;
        }
    }
    panic!("no padding satisfies the condition");
}

pub fn cases(fx: &Fixtures) -> Vec<Case> {
    let mut g = Gen {
        c: Cases::new(fx, "proofs"),
    };
    baseline(&mut g);
    step1(&mut g);
    step2(&mut g);
    step3(&mut g);
    step4(&mut g);
    step5(&mut g);
    crit(&mut g);
    step6(&mut g);
    step7(&mut g);
    step8(&mut g);
    step9(&mut g);
    step10(&mut g);
    step11(&mut g);
    step12(&mut g);
    replay(&mut g);
    rfc_examples(&mut g);
    alg_confusion(&mut g);
    algorithms(&mut g);
    g.c.cases
}

fn baseline(g: &mut Gen<'_>) {
    const CAT: &str = "baseline";
    const REQ: &str = "RFC 9449 §4.2, §4.3";
    let jkt = g.client_jkt();
    let p = g.tp(CAT, "token-request");
    g.proof_case(
        meta(
            CAT,
            "token-request",
            REQ,
            true,
            "A well-formed proof for a token request (POST, no access token) verifies.",
        ),
        p,
        Outcome::Valid(jkt.clone()),
    );
    let p = g.rp(CAT, "resource-request");
    let text = p.text();
    g.c.single(
        meta(CAT, "resource-request", REQ, true, "A well-formed proof for a protected-resource request with ath of the presented access token verifies."),
        &Verifier::standard(),
        Req::new("GET", API_URL, vec![text]).token(OPAQUE_TOKEN),
        Outcome::Valid(jkt.clone()),
        Some(p.decoded()),
    );
    let p = g.tp(CAT, "header-whitespace");
    let header = format!(
        "{{ \"typ\" : \"dpop+jwt\" ,\n \"alg\" : \"ES256\" ,\n \"jwk\" : {} }}",
        jwk_of(&g.fx().client).text()
    );
    let text = compact_with(p.key, p.alg, &header, &p.claims.text());
    g.token_case(
        meta(
            CAT,
            "header-whitespace",
            "RFC 7515 §5.2; RFC 8259 §2",
            true,
            "Insignificant whitespace in the JOSE header JSON is allowed.",
        ),
        text,
        Outcome::Valid(jkt.clone()),
        None,
    );
    let p = g.tp(CAT, "escaped-member-name").header(|_| {
        Members::new()
            .push_literal(r#""\u0074yp""#, quote("dpop+jwt"))
            .str("alg", "ES256")
            .raw("jwk", jwk_of(&g.fx().client).text())
    });
    g.proof_case(
        meta(
            CAT,
            "escaped-member-name",
            "RFC 8259 §7",
            true,
            "A header member name written with a JSON escape (\\u0074yp) is the name typ.",
        ),
        p,
        Outcome::Valid(jkt.clone()),
    );
    let p = g
        .tp(CAT, "unknown-header-parameter")
        .header(|h| h.str("kid", "client-key-1").str("x-vendor", "ignored"));
    g.proof_case(
        meta(CAT, "unknown-header-parameter", "RFC 7515 §4", true, "Header parameters the recipient does not understand, and that are not listed in crit, are ignored."),
        p,
        Outcome::Valid(jkt.clone()),
    );
    let p = g
        .tp(CAT, "extra-claims")
        .claims(|c| c.str("x-trace", "abc").raw("x-list", "[1,2,{\"a\":null}]"));
    g.proof_case(
        meta(
            CAT,
            "extra-claims",
            "RFC 9449 §4.2; RFC 7519 §4",
            true,
            "Additional claims are allowed and ignored.",
        ),
        p,
        Outcome::Valid(jkt.clone()),
    );
    let p = g
        .tp(CAT, "unicode-jti")
        .claims(|c| c.str("jti", "jti-\u{e9}\u{1f511}-0123456789abcdef"));
    g.proof_case(
        meta(
            CAT,
            "unicode-jti",
            "RFC 9449 §4.2; RFC 7519 §4.1.7",
            true,
            "jti is any string; non-ASCII characters are fine.",
        ),
        p,
        Outcome::Valid(jkt),
    );
}

fn step1(g: &mut Gen<'_>) {
    const CAT: &str = "step1-header";
    const REQ: &str = "RFC 9449 §4.3 step 1";
    g.c.single(
        meta(CAT, "missing", REQ, true, "No DPoP header at all."),
        &Verifier::standard(),
        Gen::token_request(vec![]),
        Outcome::invalid("missing_proof"),
        None,
    );
    g.c.single(
        meta(
            CAT,
            "empty-value",
            REQ,
            true,
            "A DPoP header with an empty value carries no proof.",
        ),
        &Verifier::standard(),
        Gen::token_request(vec![String::new()]),
        Outcome::invalid("missing_proof"),
        None,
    );
    let a = g.tp(CAT, "two-headers").text();
    let b = g
        .tp(CAT, "two-headers")
        .claims(|c| c.str("jti", &g.fx().jti("proofs/step1-header/two-headers", 1)))
        .text();
    g.c.single(
        meta(
            CAT,
            "two-headers",
            REQ,
            true,
            "Two DPoP headers, each a valid proof: not more than one is allowed.",
        ),
        &Verifier::standard(),
        Gen::token_request(vec![a.clone(), b.clone()]),
        Outcome::invalid("multiple_proofs"),
        None,
    );
    g.c.single(
        meta(
            CAT,
            "same-header-twice",
            REQ,
            true,
            "The same valid proof in two DPoP headers.",
        ),
        &Verifier::standard(),
        Gen::token_request(vec![a.clone(), a.clone()]),
        Outcome::invalid("multiple_proofs"),
        None,
    );
    g.c.single(
        meta(CAT, "folded-values", "RFC 9449 §4.3 step 1; RFC 9110 §5.3", true, "Two proofs folded into one field line with a comma (how an HTTP stack combines repeated headers)."),
        &Verifier::standard(),
        Gen::token_request(vec![format!("{a}, {b}")]),
        Outcome::invalid("multiple_proofs"),
        None,
    );
    let p = g.tp(CAT, "surrounding-whitespace");
    g.c.single(
        meta(CAT, "surrounding-whitespace", "RFC 9110 §5.5", true, "Leading and trailing whitespace is not part of a field value; the proof inside is valid."),
        &Verifier::standard(),
        Gen::token_request(vec![format!(" {}\t", p.text())]),
        Outcome::Valid(g.client_jkt()),
        Some(p.decoded()),
    );
    let p = g
        .tp(CAT, "too-large")
        .claims(|c| c.str("x-padding", &"A".repeat(8200)));
    g.proof_case(
        meta(
            CAT,
            "too-large",
            "suite profile: proofs are at most 8192 bytes",
            false,
            "A correctly signed proof larger than 8 KiB is refused before decoding.",
        ),
        p,
        Outcome::invalid("proof_too_large"),
    );
}

fn step2(g: &mut Gen<'_>) {
    const CAT: &str = "step2-jws";
    const REQ: &str = "RFC 9449 §4.3 step 2; RFC 7515 §7.1";
    const B64: &str = "RFC 9449 §4.3 step 2; RFC 7515 §2 (base64url without padding)";
    const JSON: &str = "RFC 9449 §4.3 step 2; RFC 7515 §5.2; RFC 8259";
    const DUP: &str =
        "RFC 7515 §4, RFC 7519 §4 (duplicate names: reject or keep the last); RFC 8725 §3.5";
    let fx = g.fx();
    let key = &fx.client;

    let p = g.tp(CAT, "two-segments");
    let text = p.text();
    let two = text.rsplit_once('.').expect("three segments").0.to_owned();
    g.token_case(
        meta(
            CAT,
            "two-segments",
            REQ,
            true,
            "Header and payload only, no signature segment.",
        ),
        two,
        Outcome::invalid("malformed_jws"),
        Some(p),
    );
    let p = g.tp(CAT, "four-segments");
    let four = format!("{}.{}", p.text(), b64(b"extra"));
    g.token_case(
        meta(
            CAT,
            "four-segments",
            REQ,
            true,
            "A valid proof followed by a fourth segment.",
        ),
        four,
        Outcome::invalid("malformed_jws"),
        Some(p),
    );
    let p = g.tp(CAT, "five-segments-jwe-shape");
    let text = p.text();
    let (input, sig) = text.rsplit_once('.').expect("three segments");
    let five = format!("{input}.{}.{sig}.{}", b64(b"iv-iv-iv-iv"), b64(b"tag"));
    g.token_case(
        meta(
            CAT,
            "five-segments-jwe-shape",
            REQ,
            true,
            "Five segments, the shape of a JWE compact serialization.",
        ),
        five,
        Outcome::invalid("malformed_jws"),
        Some(p),
    );

    let p = g.tp(CAT, "json-serialization");
    let text = p.text();
    let parts: Vec<&str> = text.split('.').collect();
    let json = format!(
        r#"{{"protected":"{}","payload":"{}","signature":"{}"}}"#,
        parts[0], parts[1], parts[2]
    );
    g.token_case(
        meta(CAT, "json-serialization", "RFC 9449 §4.2 (a JWT, hence the JWS Compact Serialization); RFC 7515 §7.2", true, "The valid proof in the flattened JWS JSON Serialization. It is not a compact JWS; its commas also make an HTTP recipient see several field values, so which check fires first is not pinned."),
        json,
        Outcome::Invalid(None),
        Some(p),
    );

    // Padding and alphabet: the signature always covers the bytes actually sent.
    let p = g.tp(CAT, "padded-header");
    let header = pad_json(&p.header.text(), |e| e.len() % 4 != 0);
    let text = sign_input(
        key,
        &format!(
            "{}.{}",
            padded(&b64(header.as_bytes())),
            b64(p.claims.text().as_bytes())
        ),
    );
    g.token_case(
        meta(
            CAT,
            "padded-header",
            B64,
            true,
            "The header segment carries '=' padding (and is signed that way).",
        ),
        text,
        Outcome::invalid("invalid_base64url"),
        None,
    );
    let p = g.tp(CAT, "padded-payload");
    let claims = pad_json(&p.claims.text(), |e| e.len() % 4 != 0);
    let text = sign_input(
        key,
        &format!(
            "{}.{}",
            b64(p.header.text().as_bytes()),
            padded(&b64(claims.as_bytes()))
        ),
    );
    g.token_case(
        meta(
            CAT,
            "padded-payload",
            B64,
            true,
            "The payload segment carries '=' padding (and is signed that way).",
        ),
        text,
        Outcome::invalid("invalid_base64url"),
        None,
    );
    let p = g.tp(CAT, "padded-signature");
    let text = format!("{}==", p.text());
    g.token_case(
        meta(
            CAT,
            "padded-signature",
            B64,
            true,
            "The 86-character signature segment with '==' padding.",
        ),
        text,
        Outcome::invalid("invalid_base64url"),
        Some(p),
    );
    let p = g.tp(CAT, "standard-alphabet");
    // Three '?' (0x3F) put six one-bits in a base64 group: '_' in base64url, '/' in base64.
    let header = p.header.clone().str("x-pad", "???").text();
    assert!(b64(header.as_bytes()).contains('_'));
    let input = format!(
        "{}.{}",
        b64_std(header.as_bytes()),
        b64(p.claims.text().as_bytes())
    );
    assert!(input.contains(['+', '/']));
    let text = sign_input(key, &input);
    g.token_case(
        meta(
            CAT,
            "standard-alphabet",
            B64,
            true,
            "The header segment uses the standard base64 alphabet ('+', '/') instead of base64url.",
        ),
        text,
        Outcome::invalid("invalid_base64url"),
        None,
    );
    let p = g.tp(CAT, "foreign-character");
    let text = p.text();
    let (h, rest) = text.split_once('.').expect("segments");
    let bad = format!("{}*{}.{rest}", &h[..10], &h[10..]);
    g.token_case(
        meta(
            CAT,
            "foreign-character",
            B64,
            true,
            "A '*' inside the header segment.",
        ),
        bad,
        Outcome::invalid("invalid_base64url"),
        Some(p),
    );
    let p = g.tp(CAT, "inner-whitespace");
    let text = p.text();
    let (h, rest) = text.split_once('.').expect("segments");
    let bad = format!("{h}. {rest}");
    g.token_case(
        meta(
            CAT,
            "inner-whitespace",
            B64,
            true,
            "A space at the start of the payload segment.",
        ),
        bad,
        Outcome::invalid("invalid_base64url"),
        Some(p),
    );
    let p = g.tp(CAT, "non-canonical-header");
    let header = pad_json(&p.header.text(), |e| e.len() % 4 != 0);
    let text = sign_input(
        key,
        &format!(
            "{}.{}",
            non_canonical(&b64(header.as_bytes())),
            b64(p.claims.text().as_bytes())
        ),
    );
    g.token_case(meta(CAT, "non-canonical-header", "RFC 4648 §3.5 (decoders MAY reject non-zero pad bits); suite profile: rejected", false, "The last character of the header segment sets unused bits; a lenient decoder would read the same bytes. Signed as sent."), text, Outcome::invalid("invalid_base64url"), None);
    let p = g.tp(CAT, "non-canonical-payload");
    let claims = pad_json(&p.claims.text(), |e| e.len() % 4 != 0);
    let text = sign_input(
        key,
        &format!(
            "{}.{}",
            b64(p.header.text().as_bytes()),
            non_canonical(&b64(claims.as_bytes()))
        ),
    );
    g.token_case(
        meta(
            CAT,
            "non-canonical-payload",
            "RFC 4648 §3.5; suite profile: rejected",
            false,
            "The last character of the payload segment sets unused bits. Signed as sent.",
        ),
        text,
        Outcome::invalid("invalid_base64url"),
        None,
    );
    let p = g.tp(CAT, "non-canonical-signature");
    let text = p.text();
    let (input, sig) = text.rsplit_once('.').expect("segments");
    let bad = format!("{input}.{}", non_canonical(sig));
    g.token_case(meta(CAT, "non-canonical-signature", "RFC 4648 §3.5; suite profile: rejected", false, "The last character of the signature segment sets unused bits; the decoded 64 bytes would be the valid signature."), bad, Outcome::invalid("invalid_base64url"), Some(p));

    // JSON.
    let p = g.tp(CAT, "header-not-utf8");
    let mut header = p.header.clone().str("x", "Z").text().into_bytes();
    let at = header.iter().rposition(|b| *b == b'Z').expect("marker");
    header[at] = 0xff;
    let text = compact_bytes(key, &header, p.claims.text().as_bytes());
    g.token_case(
        meta(
            CAT,
            "header-not-utf8",
            JSON,
            true,
            "The header contains the byte 0xFF inside a string: not UTF-8.",
        ),
        text,
        Outcome::invalid("invalid_json"),
        None,
    );
    let p = g.tp(CAT, "header-bom");
    let mut header = vec![0xef, 0xbb, 0xbf];
    header.extend(p.header.text().into_bytes());
    let text = compact_bytes(key, &header, p.claims.text().as_bytes());
    g.token_case(
        meta(
            CAT,
            "header-bom",
            "RFC 8259 §8.1 (parsers MAY ignore a BOM); suite profile: rejected",
            false,
            "The header JSON starts with a UTF-8 byte order mark.",
        ),
        text,
        Outcome::invalid("invalid_json"),
        None,
    );
    let p = g.tp(CAT, "header-array");
    let text = compact(key, &format!("[{}]", p.header.text()), &p.claims.text());
    g.token_case(
        meta(
            CAT,
            "header-array",
            JSON,
            true,
            "The header is a JSON array holding the header object.",
        ),
        text,
        Outcome::invalid("json_not_object"),
        None,
    );
    let p = g.tp(CAT, "payload-array");
    let text = compact(key, &p.header.text(), &format!("[{}]", p.claims.text()));
    g.token_case(
        meta(
            CAT,
            "payload-array",
            "RFC 9449 §4.3 step 2; RFC 7519 §7.2 step 10",
            true,
            "The claims are a JSON array holding the claims object.",
        ),
        text,
        Outcome::invalid("json_not_object"),
        None,
    );
    let p = g.tp(CAT, "empty-header");
    let text = sign_input(key, &format!(".{}", b64(p.claims.text().as_bytes())));
    g.token_case(
        meta(
            CAT,
            "empty-header",
            JSON,
            true,
            "An empty header segment (zero bytes are not a JSON object).",
        ),
        text,
        Outcome::invalid("invalid_json"),
        None,
    );
    let p = g.tp(CAT, "payload-trailing-data");
    let text = compact(key, &p.header.text(), &format!("{} {{}}", p.claims.text()));
    g.token_case(
        meta(
            CAT,
            "payload-trailing-data",
            JSON,
            true,
            "The payload is the claims object followed by a second JSON value.",
        ),
        text,
        Outcome::invalid("invalid_json"),
        None,
    );
    let p = g.tp(CAT, "payload-trailing-comma");
    let claims = p.claims.text();
    let text = compact(
        key,
        &p.header.text(),
        &format!("{},}}", &claims[..claims.len() - 1]),
    );
    g.token_case(
        meta(
            CAT,
            "payload-trailing-comma",
            JSON,
            true,
            "The claims object ends with a trailing comma.",
        ),
        text,
        Outcome::invalid("invalid_json"),
        None,
    );
    let p = g.tp(CAT, "payload-lone-surrogate");
    let text = compact(
        key,
        &p.header.text(),
        &p.claims.clone().raw("x", r#""\ud800""#).text(),
    );
    g.token_case(meta(CAT, "payload-lone-surrogate", "RFC 8259 §8.2; RFC 7519 §7.2", false, "A claim value with an unpaired UTF-16 surrogate escape (\\ud800), which is no Unicode string."), text, Outcome::invalid("invalid_json"), None);

    // Duplicate member names.
    let p = g
        .tp(CAT, "duplicate-header-member")
        .header(|h| h.push_raw("alg", quote("ES256")));
    g.proof_case(
        meta(
            CAT,
            "duplicate-header-member",
            DUP,
            false,
            "The header names alg twice, with the same value.",
        ),
        p,
        Outcome::invalid("duplicate_json_member"),
    );
    let p = g
        .tp(CAT, "duplicate-header-member-escaped")
        .header(|h| h.push_literal(r#""\u0061lg""#, quote("ES256")));
    g.proof_case(
        meta(
            CAT,
            "duplicate-header-member-escaped",
            DUP,
            false,
            "The header names alg twice, once written with an escape (\\u0061lg).",
        ),
        p,
        Outcome::invalid("duplicate_json_member"),
    );
    let p = g
        .tp(CAT, "duplicate-claim")
        .claims(|c| c.push_raw("htm", quote("POST")));
    g.proof_case(
        meta(
            CAT,
            "duplicate-claim",
            DUP,
            false,
            "The claims name htm twice, with the same value.",
        ),
        p,
        Outcome::invalid("duplicate_json_member"),
    );
    let p = g
        .tp(CAT, "duplicate-claim-conflicting")
        .claims(|c| c.str("htm", "GET").push_raw("htm", quote("POST")));
    g.proof_case(meta(CAT, "duplicate-claim-conflicting", DUP, false, "htm is GET then POST for a POST request: a parser keeping the last value would accept, one keeping the first would see a mismatch. Refused as ambiguous."), p, Outcome::invalid("duplicate_json_member"));
    let jwk = jwk_of(key).push_raw("x", quote(&b64(key.x())));
    let p = g
        .tp(CAT, "duplicate-jwk-member")
        .header(|h| h.raw("jwk", jwk.text()));
    g.proof_case(
        meta(
            CAT,
            "duplicate-jwk-member",
            DUP,
            false,
            "The jwk object names x twice.",
        ),
        p,
        Outcome::invalid("duplicate_json_member"),
    );
    let deep = format!("{}1{}", "{\"a\":".repeat(20), "}".repeat(20));
    let p = g
        .tp(CAT, "nesting-too-deep")
        .claims(|c| c.raw("x-deep", deep));
    g.proof_case(
        meta(
            CAT,
            "nesting-too-deep",
            "RFC 8259 §9 (parsers may limit nesting); suite profile: at most 8 levels",
            false,
            "A claim nests 20 objects deep.",
        ),
        p,
        Outcome::invalid("json_too_deep"),
    );
}

fn step3(g: &mut Gen<'_>) {
    const CAT: &str = "step3-claims";
    const REQ: &str = "RFC 9449 §4.3 step 3; §4.2";
    for claim in ["jti", "htm", "htu", "iat"] {
        let name = format!("missing-{claim}");
        let p = g.tp(CAT, &name).claims(|c| c.without(claim));
        g.proof_case(
            meta(
                CAT,
                &name,
                REQ,
                true,
                &format!("The required claim {claim} is absent."),
            ),
            p,
            Outcome::invalid("missing_claim"),
        );
    }
    let wrong: [(&str, &str, &str, &str); 5] = [
        (
            "jti-number",
            "jti",
            "12345678901234567890",
            "jti is a number, not a string.",
        ),
        (
            "htm-array",
            "htm",
            "[\"POST\"]",
            "htm is an array, not a string.",
        ),
        (
            "htu-object",
            "htu",
            "{\"url\":\"https://server.example.com/token\"}",
            "htu is an object, not a string.",
        ),
        (
            "iat-string",
            "iat",
            "\"1700000000\"",
            "iat is a string, not a NumericDate.",
        ),
        (
            "iat-boolean",
            "iat",
            "true",
            "iat is a boolean, not a NumericDate.",
        ),
    ];
    for (name, claim, value, description) in wrong {
        let p = g.tp(CAT, name).claims(|c| c.raw(claim, value));
        g.proof_case(
            meta(CAT, name, REQ, true, description),
            p,
            Outcome::invalid("invalid_claim"),
        );
    }
    let p = g.tp(CAT, "htu-relative").claims(|c| c.str("htu", "/token"));
    g.proof_case(
        meta(
            CAT,
            "htu-relative",
            "RFC 9449 §4.2 (htu: the HTTP target URI); RFC 3986 §4.3",
            true,
            "htu is a relative reference, not a URI.",
        ),
        p,
        Outcome::invalid("invalid_claim"),
    );
    let p = g.tp(CAT, "empty-jti").claims(|c| c.str("jti", ""));
    g.proof_case(
        meta(
            CAT,
            "empty-jti",
            "RFC 9449 §4.2 (jti: unique identifier, enough entropy); suite profile",
            false,
            "jti is the empty string.",
        ),
        p,
        Outcome::invalid("invalid_claim"),
    );
    let p = g
        .tp(CAT, "jti-too-long")
        .claims(|c| c.str("jti", &"j".repeat(257)));
    g.proof_case(
        meta(
            CAT,
            "jti-too-long",
            "suite profile: jti at most 256 bytes",
            false,
            "jti is 257 bytes long.",
        ),
        p,
        Outcome::invalid("jti_too_long"),
    );
    let p = g.tp(CAT, "negative-iat").claims(|c| c.raw("iat", "-1"));
    g.proof_case(
        meta(
            CAT,
            "negative-iat",
            "RFC 9449 §4.3 steps 3 and 11; suite profile",
            false,
            "iat is negative.",
        ),
        p,
        Outcome::invalid("invalid_claim"),
    );
    let p = g
        .tp(CAT, "fractional-iat")
        .claims(|c| c.raw("iat", format!("{}.5", NOW - 1)));
    g.proof_case(
        meta(
            CAT,
            "fractional-iat",
            "RFC 7519 §2 (NumericDate may be non-integer)",
            true,
            "iat = NOW - 0.5 s, written with a fraction.",
        ),
        p,
        Outcome::Valid(g.client_jkt()),
    );
}

fn step4(g: &mut Gen<'_>) {
    const CAT: &str = "step4-typ";
    const REQ: &str = "RFC 9449 §4.3 step 4";
    let p = g.tp(CAT, "missing").header(|h| h.without("typ"));
    g.proof_case(
        meta(CAT, "missing", REQ, true, "No typ header parameter."),
        p,
        Outcome::invalid("missing_header_parameter"),
    );
    for (name, typ) in [
        ("jwt", "JWT"),
        ("at-jwt", "at+jwt"),
        ("trailing-space", "dpop+jwt "),
        ("dpop", "dpop"),
    ] {
        let p = g.tp(CAT, name).header(|h| h.str("typ", typ));
        g.proof_case(
            meta(CAT, name, REQ, true, &format!("typ is {typ:?}.")),
            p,
            Outcome::invalid("wrong_typ"),
        );
    }
    let p = g.tp(CAT, "number").header(|h| h.raw("typ", "1"));
    g.proof_case(
        meta(CAT, "number", REQ, true, "typ is a number."),
        p,
        Outcome::invalid("wrong_typ"),
    );
    let jkt = g.client_jkt();
    let p = g
        .tp(CAT, "full-media-type")
        .header(|h| h.str("typ", "application/dpop+jwt"));
    g.proof_case(
        meta(
            CAT,
            "full-media-type",
            "RFC 9449 §4.3 step 4; RFC 7515 §4.1.9 (typ without '/' means application/…)",
            true,
            "typ is application/dpop+jwt, the same media type as dpop+jwt.",
        ),
        p,
        Outcome::Valid(jkt.clone()),
    );
    let p = g
        .tp(CAT, "media-type-case")
        .header(|h| h.str("typ", "DPoP+JWT"));
    g.proof_case(
        meta(
            CAT,
            "media-type-case",
            "RFC 9449 §4.3 step 4; RFC 7515 §4.1.9 (media types are case-insensitive)",
            true,
            "typ is DPoP+JWT.",
        ),
        p,
        Outcome::Valid(jkt),
    );
}

fn step5(g: &mut Gen<'_>) {
    const CAT: &str = "step5-alg";
    const REQ: &str = "RFC 9449 §4.3 step 5";
    let fx = g.fx();
    let p = g.tp(CAT, "none").header(|h| h.str("alg", "none"));
    let text = format!(
        "{}.{}.",
        b64(p.header.text().as_bytes()),
        b64(p.claims.text().as_bytes())
    );
    g.token_case(
        meta(CAT, "none", REQ, true, "alg none with an empty signature."),
        text,
        Outcome::invalid("unsupported_alg"),
        Some(p),
    );
    let p = g
        .tp(CAT, "hs256-public-key-as-secret")
        .header(|h| h.str("alg", "HS256"));
    let input = format!(
        "{}.{}",
        b64(p.header.text().as_bytes()),
        b64(p.claims.text().as_bytes())
    );
    let secret = jwk_of(&fx.client).text();
    let text = format!(
        "{input}.{}",
        b64(&hmac_sha256(secret.as_bytes(), input.as_bytes()))
    );
    g.token_case(meta(CAT, "hs256-public-key-as-secret", REQ, true, "alg HS256, MAC keyed with the text of the public jwk (algorithm confusion): symmetric algorithms are never acceptable."), text, Outcome::invalid("unsupported_alg"), Some(p));
    // A P-256 key fixes ES256 (RFC 8725 §3.1): a header naming any other supported algorithm
    // does not fit the key; a name that is not registered at all is not supported.
    const CASE: &str = "RFC 9449 §4.3 step 5; RFC 7515 §4.1.1 (alg values are case-sensitive)";
    for (name, alg, requirement, reason) in [
        ("rs256", "RS256", "RFC 9449 §4.3 steps 5–6; RFC 8725 §3.1 (the key fixes the algorithm); RFC 7518 §3.3 (RS256 needs an RSA key)", "alg_key_mismatch"),
        ("es384", "ES384", "RFC 9449 §4.3 steps 5–6; RFC 8725 §3.1 (the key fixes the algorithm); RFC 7518 §3.4 (ES384 is ECDSA on P-384)", "alg_key_mismatch"),
        ("eddsa", "EdDSA", "RFC 9449 §4.3 steps 5–6; RFC 8725 §3.1 (the key fixes the algorithm); RFC 8037 §3.1 (EdDSA needs an OKP key)", "alg_key_mismatch"),
        ("lowercase-es256", "es256", CASE, "unsupported_alg"),
        ("es256-trailing-space", "ES256 ", CASE, "unsupported_alg"),
    ] {
        let p = g.tp(CAT, name).header(|h| h.str("alg", alg));
        g.proof_case(
            meta(
                CAT,
                name,
                requirement,
                true,
                &format!("alg is {alg:?}; the signature is a valid ES256 signature by the jwk."),
            ),
            p,
            Outcome::invalid(reason),
        );
    }
    let p = g.tp(CAT, "missing").header(|h| h.without("alg"));
    g.proof_case(
        meta(
            CAT,
            "missing",
            "RFC 7515 §4.1.1 (alg is required)",
            true,
            "No alg header parameter.",
        ),
        p,
        Outcome::invalid("missing_header_parameter"),
    );
    let p = g.tp(CAT, "array").header(|h| h.raw("alg", "[\"ES256\"]"));
    g.proof_case(
        meta(
            CAT,
            "array",
            "RFC 7515 §4.1.1 (alg is a string)",
            true,
            "alg is an array holding ES256.",
        ),
        p,
        Outcome::invalid("invalid_header_parameter"),
    );

    // Local policy (input.verifier.algs): a verifier configured for ES256 and PS256 only.
    const POLICY: &str = "RFC 9449 §4.3 step 5 (acceptable per local policy: input.verifier.algs)";
    let narrow = Verifier::with_algs(&["ES256", "PS256"]);
    let ed = AnyKey::Ed25519(&fx.client_ed25519);
    let rsa = AnyKey::Rsa(&fx.client_rsa);
    for (name, key, alg, outcome, description) in [
        (
            "outside-configured-set",
            ed,
            Alg::Ed25519,
            Outcome::invalid("unsupported_alg"),
            "A valid Ed25519 proof for a verifier that accepts only ES256 and PS256.",
        ),
        (
            "inside-configured-set",
            rsa,
            Alg::Ps256,
            Outcome::Valid(jkt_any(rsa)),
            "A valid PS256 proof for a verifier that accepts only ES256 and PS256.",
        ),
    ] {
        let p = g.tp_with(CAT, name, key, alg);
        let text = p.text();
        g.c.single(
            meta(CAT, name, POLICY, true, description),
            &narrow,
            Gen::token_request(vec![text]),
            outcome,
            Some(p.decoded()),
        );
    }
}

fn crit(g: &mut Gen<'_>) {
    const CAT: &str = "crit";
    const REQ: &str = "RFC 7515 §4.1.11";
    let p = g
        .tp(CAT, "unknown-extension")
        .header(|h| h.raw("crit", "[\"x-ext\"]").str("x-ext", "v"));
    g.proof_case(
        meta(
            CAT,
            "unknown-extension",
            REQ,
            true,
            "crit lists an extension the recipient does not understand.",
        ),
        p,
        Outcome::invalid("unsupported_crit"),
    );
    let p = g
        .tp(CAT, "exp")
        .header(|h| h.raw("crit", "[\"exp\"]").num("exp", NOW + 60));
    g.proof_case(
        meta(
            CAT,
            "exp",
            REQ,
            true,
            "crit lists exp, an extension the recipient does not implement.",
        ),
        p,
        Outcome::invalid("unsupported_crit"),
    );
    let p = g.tp(CAT, "empty-list").header(|h| h.raw("crit", "[]"));
    g.proof_case(
        meta(
            CAT,
            "empty-list",
            "RFC 7515 §4.1.11 (producers MUST NOT use []); suite profile: rejected",
            false,
            "crit is the empty list.",
        ),
        p,
        Outcome::invalid("unsupported_crit"),
    );
    let p = g
        .tp(CAT, "not-a-list")
        .header(|h| h.str("crit", "x-ext").str("x-ext", "v"));
    g.proof_case(
        meta(
            CAT,
            "not-a-list",
            REQ,
            true,
            "crit is a string, not an array.",
        ),
        p,
        Outcome::invalid("unsupported_crit"),
    );
    let p = g
        .tp(CAT, "registered-name")
        .header(|h| h.raw("crit", "[\"alg\"]"));
    g.proof_case(meta(CAT, "registered-name", "RFC 7515 §4.1.11 (MAY reject crit naming registered parameters); suite profile: rejected", false, "crit lists alg, a parameter defined by RFC 7515."), p, Outcome::invalid("unsupported_crit"));
    let p = g
        .tp(CAT, "b64-false")
        .header(|h| h.raw("crit", "[\"b64\"]").raw("b64", "false"));
    g.proof_case(meta(CAT, "b64-false", "RFC 7797 §6; RFC 9449 §4.2 (the proof is a JWT, so its payload is encoded); suite profile", false, "crit [\"b64\"] with b64 false (unencoded payload)."), p, Outcome::invalid("unsupported_crit"));
    let p = g
        .tp(CAT, "b64-without-crit")
        .header(|h| h.raw("b64", "false"));
    g.proof_case(
        meta(
            CAT,
            "b64-without-crit",
            "RFC 7797 §6 (b64 MUST be listed in crit); suite profile",
            false,
            "b64 false without crit.",
        ),
        p,
        Outcome::invalid("invalid_header_parameter"),
    );
}

fn step6(g: &mut Gen<'_>) {
    const CAT: &str = "step6-signature";
    const REQ: &str = "RFC 9449 §4.3 step 6; RFC 7518 §3.4";
    let fx = g.fx();
    let p = g.tp(CAT, "other-key").signed_by(&fx.other);
    g.proof_case(
        meta(
            CAT,
            "other-key",
            REQ,
            true,
            "Signed by a key other than the one in jwk.",
        ),
        p,
        Outcome::invalid("invalid_signature"),
    );

    let p = g.tp(CAT, "tampered-payload");
    let text = p.text();
    let changed = p.claims.clone().str(
        "jti",
        &g.fx().jti("proofs/step6-signature/tampered-payload", 1),
    );
    let parts: Vec<&str> = text.split('.').collect();
    let bad = format!(
        "{}.{}.{}",
        parts[0],
        b64(changed.text().as_bytes()),
        parts[2]
    );
    g.token_case(
        meta(
            CAT,
            "tampered-payload",
            REQ,
            true,
            "A valid proof whose payload was replaced by one with another jti after signing.",
        ),
        bad,
        Outcome::invalid("invalid_signature"),
        Some(p),
    );
    let p = g.tp(CAT, "tampered-header");
    let text = p.text();
    let changed = p.header.clone().str("kid", "added-after-signing");
    let parts: Vec<&str> = text.split('.').collect();
    let bad = format!(
        "{}.{}.{}",
        b64(changed.text().as_bytes()),
        parts[1],
        parts[2]
    );
    g.token_case(
        meta(
            CAT,
            "tampered-header",
            REQ,
            true,
            "A valid proof whose header gained a kid after signing.",
        ),
        bad,
        Outcome::invalid("invalid_signature"),
        Some(p),
    );
    let p = g.tp(CAT, "signed-decoded-json");
    let sig = p.signature(format!("{}.{}", p.header.text(), p.claims.text()).as_bytes());
    let text = format!(
        "{}.{}.{}",
        b64(p.header.text().as_bytes()),
        b64(p.claims.text().as_bytes()),
        b64(&sig)
    );
    g.token_case(meta(CAT, "signed-decoded-json", "RFC 7515 §5.1 (the signing input is the base64url-encoded header and payload)", true, "The signature covers header JSON '.' payload JSON instead of their base64url encodings."), text, Outcome::invalid("invalid_signature"), Some(p));

    let p = g.tp(CAT, "zero-signature");
    let input = format!(
        "{}.{}",
        b64(p.header.text().as_bytes()),
        b64(p.claims.text().as_bytes())
    );
    g.token_case(
        meta(
            CAT,
            "zero-signature",
            REQ,
            true,
            "64 zero bytes (r = s = 0).",
        ),
        format!("{input}.{}", b64(&[0u8; 64])),
        Outcome::invalid("invalid_signature"),
        Some(p),
    );
    let p = g.tp(CAT, "r-equals-n");
    let text = p.text();
    let (input, sig) = text.rsplit_once('.').expect("segments");
    let mut raw = decode_sig(sig);
    raw[..32].copy_from_slice(&hex32(P256_N));
    g.token_case(
        meta(
            CAT,
            "r-equals-n",
            "RFC 7518 §3.4; SEC 1 §4.1.4 (r and s in [1, n-1])",
            true,
            "r replaced by the group order n.",
        ),
        format!("{input}.{}", b64(&raw)),
        Outcome::invalid("invalid_signature"),
        Some(p),
    );
    let p = g.tp(CAT, "high-s");
    let text = p.text();
    let (input, sig) = text.rsplit_once('.').expect("segments");
    let mut raw = decode_sig(sig);
    let s: [u8; 32] = raw[32..].try_into().expect("32");
    raw[32..].copy_from_slice(&sub256(&hex32(P256_N), &s));
    g.token_case(meta(CAT, "high-s", "RFC 7518 §3.4; SEC 1 §4.1.4 (ECDSA verification accepts s and n - s)", true, "The valid signature with s replaced by n - s: still a valid ECDSA signature (JWS has no low-s rule)."), format!("{input}.{}", b64(&raw)), Outcome::Valid(g.client_jkt()), Some(p));
    let p = g.tp(CAT, "der-encoded");
    let text = p.text();
    let (input, sig) = text.rsplit_once('.').expect("segments");
    let der = der(&decode_sig(sig));
    g.token_case(
        meta(
            CAT,
            "der-encoded",
            "RFC 7518 §3.4 (R ‖ S, 64 octets; not DER)",
            true,
            "The valid signature re-encoded as DER.",
        ),
        format!("{input}.{}", b64(&der)),
        Outcome::invalid("invalid_signature_length"),
        Some(p),
    );
    for (name, len, description) in [
        (
            "65-bytes",
            65usize,
            "The valid signature followed by a zero byte (65 bytes).",
        ),
        (
            "63-bytes",
            63,
            "The valid signature without its last byte (63 bytes).",
        ),
        ("empty", 0, "An empty signature segment with alg ES256."),
    ] {
        let p = g.tp(CAT, name);
        let text = p.text();
        let (input, sig) = text.rsplit_once('.').expect("segments");
        let mut raw = decode_sig(sig).to_vec();
        raw.resize(len, 0);
        g.token_case(
            meta(
                CAT,
                name,
                "RFC 7518 §3.4 (R ‖ S, 64 octets)",
                true,
                description,
            ),
            format!("{input}.{}", b64(&raw)),
            Outcome::invalid("invalid_signature_length"),
            Some(p),
        );
    }
}

/// Decodes a 64-byte signature segment made by this generator.
fn decode_sig(segment: &str) -> [u8; 64] {
    let bits: Vec<usize> = segment.chars().map(b64_index).collect();
    let mut out = Vec::with_capacity(64);
    let mut acc = 0u32;
    let mut n = 0;
    for v in bits {
        acc = (acc << 6) | u32::try_from(v).expect("6 bits");
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push(u8::try_from((acc >> n) & 0xff).expect("byte"));
        }
    }
    out.try_into().expect("64 bytes")
}

fn step7(g: &mut Gen<'_>) {
    const CAT: &str = "step7-jwk";
    const REQ: &str = "RFC 9449 §4.3 step 7; RFC 7518 §6.2";
    let fx = g.fx();
    let key = &fx.client;
    let (x, y) = (key.x().to_vec(), key.y().to_vec());
    let jkt = g.client_jkt();

    let p = g.tp(CAT, "missing").header(|h| h.without("jwk"));
    g.proof_case(
        meta(
            CAT,
            "missing",
            "RFC 9449 §4.2 (jwk is required)",
            true,
            "No jwk header parameter.",
        ),
        p,
        Outcome::invalid("missing_header_parameter"),
    );
    let p = g
        .tp(CAT, "kid-instead-of-jwk")
        .header(|h| h.without("jwk").str("kid", &jkt));
    g.proof_case(
        meta(
            CAT,
            "kid-instead-of-jwk",
            "RFC 9449 §4.2 (jwk is required)",
            true,
            "The key is named by kid (its thumbprint) instead of being embedded as jwk.",
        ),
        p,
        Outcome::invalid("missing_header_parameter"),
    );
    let p = g
        .tp(CAT, "string")
        .header(|h| h.str("jwk", &jwk_of(key).text()));
    g.proof_case(
        meta(
            CAT,
            "string",
            "RFC 7515 §4.1.3 (jwk is a JSON object)",
            true,
            "jwk is the JWK text as a JSON string.",
        ),
        p,
        Outcome::invalid("invalid_header_parameter"),
    );
    let d = b64(&key.d());
    let p = g
        .tp(CAT, "private-key")
        .header(|h| h.raw("jwk", jwk_of(key).str("d", &d).text()));
    g.proof_case(
        meta(
            CAT,
            "private-key",
            "RFC 9449 §4.3 step 7 (jwk does not contain a private key)",
            true,
            "jwk includes the private scalar d.",
        ),
        p,
        Outcome::invalid("private_key_in_jwk"),
    );

    // Keys of another type or curve are valid keys, but the header's ES256 needs a P-256 key.
    const MISMATCH: &str = "RFC 9449 §4.3 steps 5–6; RFC 8725 §3.1 (the key fixes the algorithm); RFC 7518 §3.4 (ES256 needs a P-256 key)";
    let other_keys: Vec<(&str, &str, Members)> = vec![
        (
            "rsa",
            "jwk is the RSA key of RFC 7638 §3.1; ES256 needs a P-256 key.",
            Members::new()
                .str("kty", "RSA")
                .str("n", RFC7638_RSA_N)
                .str("e", "AQAB"),
        ),
        (
            "okp-ed25519",
            "jwk is the Ed25519 key of RFC 8037 Appendix A.2; ES256 needs a P-256 key.",
            Members::new()
                .str("kty", "OKP")
                .str("crv", "Ed25519")
                .str("x", RFC8037_ED25519_X),
        ),
        (
            "p384",
            "jwk is a valid P-384 point (the P-384 base point); ES256 needs a P-256 key.",
            Members::new()
                .str("kty", "EC")
                .str("crv", "P-384")
                .str("x", &b64(&hex(P384_GX)))
                .str("y", &b64(&hex(P384_GY))),
        ),
    ];
    for (name, description, jwk) in other_keys {
        let p = g.tp(CAT, name).header(|h| h.raw("jwk", jwk.text()));
        g.proof_case(
            meta(CAT, name, MISMATCH, true, description),
            p,
            Outcome::invalid("alg_key_mismatch"),
        );
    }
    let bad_keys: Vec<(&str, bool, &str, Members)> = vec![
        (
            "crv-lowercase",
            true,
            "crv is \"p-256\" (JWA names are case-sensitive).",
            jwk_of(key).str("crv", "p-256"),
        ),
        (
            "off-curve",
            true,
            "y changed in its lowest bit: the point is not on P-256 (invalid-curve attacks).",
            ec_jwk(&x, &flip_low_bit(&y)),
        ),
        (
            "zero-point",
            true,
            "x = y = 0, not a point on P-256.",
            ec_jwk(&[0u8; 32], &[0u8; 32]),
        ),
        (
            "x-not-field-element",
            true,
            "x = p, the field prime (not a field element).",
            ec_jwk(&hex(P256_P), &y),
        ),
        (
            "short-x",
            true,
            "x is 31 bytes (RFC 7518 §6.2.1.2: the full 32-byte coordinate is required).",
            ec_jwk(&x[1..], &y),
        ),
        (
            "long-x",
            true,
            "x is 33 bytes (a leading zero byte).",
            ec_jwk(&[&[0u8][..], &x].concat(), &y),
        ),
        (
            "padded-x",
            true,
            "x carries '=' padding.",
            jwk_of(key).str("x", &format!("{}=", b64(&x))),
        ),
        ("missing-y", true, "y is absent.", jwk_of(key).without("y")),
        (
            "numeric-x",
            true,
            "x is a number.",
            jwk_of(key).raw("x", "1"),
        ),
        (
            "alg-es384",
            false,
            "jwk declares alg ES384 while the proof is ES256.",
            jwk_of(key).str("alg", "ES384"),
        ),
        (
            "use-enc",
            false,
            "jwk declares use enc (encryption), not sig.",
            jwk_of(key).str("use", "enc"),
        ),
        (
            "key-ops-sign-only",
            false,
            "jwk declares key_ops [\"sign\"], which does not allow verify.",
            jwk_of(key).raw("key_ops", "[\"sign\"]"),
        ),
    ];
    for (name, normative, description, jwk) in bad_keys {
        let p = g.tp(CAT, name).header(|h| h.raw("jwk", jwk.text()));
        let requirement = if normative {
            REQ
        } else {
            "RFC 7517 §4.2–4.4 (use, key_ops, alg); suite profile: a key declared for something else is refused"
        };
        g.proof_case(
            meta(CAT, name, requirement, normative, description),
            p,
            Outcome::invalid("invalid_jwk"),
        );
    }
    assert_ne!(flip_low_bit(&y), y);
    let p = g.tp(CAT, "extra-members").header(|h| {
        h.raw(
            "jwk",
            jwk_of(key)
                .str("kid", "k1")
                .str("alg", "ES256")
                .str("use", "sig")
                .raw("key_ops", "[\"verify\"]")
                .text(),
        )
    });
    g.proof_case(meta(CAT, "extra-members", "RFC 7517 §4; RFC 7638 §3.2 (only required members enter the thumbprint)", true, "jwk with kid, alg ES256, use sig and key_ops [\"verify\"]: valid; the thumbprint is unchanged."), p, Outcome::Valid(jkt.clone()));
    let reordered = Members::new()
        .str("y", &b64(&y))
        .str("x", &b64(&x))
        .str("crv", "P-256")
        .str("kty", "EC");
    let p = g
        .tp(CAT, "reordered-members")
        .header(|h| h.raw("jwk", reordered.text()));
    g.proof_case(
        meta(
            CAT,
            "reordered-members",
            "RFC 7638 §3",
            true,
            "jwk members in another order: same key, same thumbprint.",
        ),
        p,
        Outcome::Valid(jkt),
    );
    step7_other_keys(g);
}

/// Unusable proof keys of the other families. Each proof is signed so that, but for the key,
/// a verifier would accept it (or, where no valid signature can exist, says why).
fn step7_other_keys(g: &mut Gen<'_>) {
    const CAT: &str = "step7-jwk";
    let fx = g.fx();
    let rsa = &fx.client_rsa;
    let ed = &fx.client_ed25519;

    let p = g.tp(CAT, "oct-key").header(|h| {
        h.raw(
            "jwk",
            Members::new()
                .str("kty", "oct")
                .str("k", &b64(&[42u8; 32]))
                .text(),
        )
    });
    g.proof_case(
        meta(
            CAT,
            "oct-key",
            "RFC 9449 §4.3 step 7; RFC 7518 §6.4.1 (k is the secret key)",
            true,
            "jwk is a symmetric (oct) key with its secret k, on an otherwise valid ES256 proof.",
        ),
        p,
        Outcome::invalid("private_key_in_jwk"),
    );
    let p = g
        .tp_with(CAT, "x25519-key", AnyKey::Ed25519(ed), Alg::Ed25519)
        .header(|h| h.raw("jwk", okp_jwk("X25519", ed.x()).text()));
    g.proof_case(
        meta(CAT, "x25519-key", "RFC 9449 §4.3 steps 5–6; RFC 8037 §3.2 (X25519 keys are for ECDH-ES, not signatures)", true, "alg Ed25519 with a jwk on crv X25519 holding the 32 bytes of the Ed25519 key that signed the proof."),
        p,
        Outcome::invalid("invalid_jwk"),
    );
    let p = g.tp(CAT, "ed448-key").header(|h| {
        h.str("alg", "EdDSA")
            .raw("jwk", okp_jwk("Ed448", &[0x42; 57]).text())
    });
    let mut junk = [0u8; 114];
    Drbg::new(fx.seed, "junk/proofs/step7-jwk/ed448-key").fill(&mut junk);
    let text = format!(
        "{}.{}.{}",
        b64(p.header.text().as_bytes()),
        b64(p.claims.text().as_bytes()),
        b64(&junk)
    );
    g.token_case(
        meta(CAT, "ed448-key", "RFC 8037 §3.1 (EdDSA with Ed448 is registered); suite profile: Ed448 is not supported", false, "alg EdDSA with an Ed448 jwk (57 bytes of x) and 114 bytes of signature that are no Ed448 signature: refused for the key here; an implementation supporting Ed448 refuses the signature instead."),
        text,
        Outcome::invalid("invalid_jwk"),
        Some(p),
    );
    let p = g.tp_with(CAT, "rsa-1024-key", AnyKey::Rsa(&fx.rsa_1024), Alg::Rs256);
    g.proof_case(
        meta(
            CAT,
            "rsa-1024-key",
            "RFC 7518 §3.3 (a key of size 2048 bits or larger MUST be used)",
            true,
            "A valid RS256 proof by a 1024-bit RSA key.",
        ),
        p,
        Outcome::invalid("invalid_jwk"),
    );
    let p = g.tp_with(CAT, "rsa-8192-key", AnyKey::Rsa(&fx.rsa_8192), Alg::Rs256);
    g.proof_case(
        meta(CAT, "rsa-8192-key", "RFC 9449 §4.3 step 5 (acceptable per local policy); suite profile: proof keys at most 4096 bits (the client picks its key; verification cost grows with it)", false, "A valid RS256 proof by an 8192-bit RSA key."),
        p,
        Outcome::invalid("invalid_jwk"),
    );
    let p = g
        .tp_with(CAT, "rsa-e-1", AnyKey::Rsa(rsa), Alg::Rs256)
        .header(|h| h.raw("jwk", rsa_jwk(rsa.n(), &[1]).text()));
    let input = format!(
        "{}.{}",
        b64(p.header.text().as_bytes()),
        b64(p.claims.text().as_bytes())
    );
    let forged = emsa_pkcs1_v15_sha256(input.as_bytes(), rsa.n().len());
    g.token_case(
        meta(CAT, "rsa-e-1", "RFC 8017 §3.1 (3 <= e <= n - 1)", true, "jwk is the client's RSA modulus with e = 1; the signature is the EMSA-PKCS1-v1_5 encoding of the signing input itself, which satisfies s^e mod n = EM under e = 1: anyone can make it."),
        format!("{input}.{}", b64(&forged)),
        Outcome::invalid("invalid_jwk"),
        Some(p),
    );
    let p = g
        .tp_with(CAT, "rsa-e-even", AnyKey::Rsa(rsa), Alg::Rs256)
        .header(|h| h.raw("jwk", rsa_jwk(rsa.n(), &[1, 0, 0]).text()));
    g.proof_case(
        meta(CAT, "rsa-e-even", "RFC 8017 §3.1 (GCD(e, λ(n)) = 1, so e is odd)", true, "jwk is the client's RSA modulus with e = 65536; the signature is the client's RS256 signature (e = 65537)."),
        p,
        Outcome::invalid("invalid_jwk"),
    );
    let p = g
        .tp_with(CAT, "rsa-n-leading-zero", AnyKey::Rsa(rsa), Alg::Rs256)
        .header(|h| {
            h.raw(
                "jwk",
                rsa_jwk(&[&[0u8][..], rsa.n()].concat(), rsa.e()).text(),
            )
        });
    g.proof_case(
        meta(CAT, "rsa-n-leading-zero", "RFC 7518 §2 (Base64urlUInt: the minimum number of octets), §6.3.1.1; suite profile: refused (it would give the key a second thumbprint)", false, "jwk is the client's RSA key with a leading zero octet in n; the signature is valid for that modulus."),
        p,
        Outcome::invalid("invalid_jwk"),
    );
    for (name, x, requirement, normative, description) in [
        ("ed25519-small-order", ED25519_IDENTITY, "RFC 8032 §5.1.7 (whose equation this forgery satisfies); suite profile: small-order keys are refused", false, "jwk x encodes the identity point (order 1); the signature is R = the identity, S = 0, which satisfies the RFC 8032 verification equation for every message."),
        ("ed25519-non-canonical", ED25519_NON_CANONICAL_IDENTITY, "RFC 8032 §5.1.3 step 1 (y >= p: decoding fails)", true, "jwk x encodes y = p + 1 (a non-canonical encoding of the identity); the signature is R = the identity, S = 0."),
    ] {
        let p = g
            .tp_with(CAT, name, AnyKey::Ed25519(ed), Alg::Ed25519)
            .header(|h| h.raw("jwk", okp_jwk("Ed25519", &hex(x)).text()));
        let forged = [hex(ED25519_IDENTITY), vec![0u8; 32]].concat();
        let text = format!(
            "{}.{}.{}",
            b64(p.header.text().as_bytes()),
            b64(p.claims.text().as_bytes()),
            b64(&forged)
        );
        g.token_case(
            meta(CAT, name, requirement, normative, description),
            text,
            Outcome::invalid("invalid_jwk"),
            Some(p),
        );
    }
}

/// The alg/key rule (RFC 8725 §3.1): the header's `alg` must fit the `jwk` (its type, curve and
/// own `alg`), whatever the key could otherwise verify; symmetric algorithms never. Further
/// cases of this kind, with a P-256 key, are in `step5-alg` (`rs256`, `es384`, `eddsa`) and
/// `step7-jwk` (`rsa`, `okp-ed25519`, `p384`).
fn alg_confusion(g: &mut Gen<'_>) {
    const CAT: &str = "alg-confusion";
    const FIT: &str = "RFC 9449 §4.3 steps 5–6; RFC 8725 §3.1 (the key fixes the algorithm)";
    const OWN_ALG: &str = "RFC 7517 §4.4 (alg: the algorithm intended for the key); RFC 8725 §3.1 (each key used with exactly one algorithm); suite profile: a key is used only with the alg it declares";
    const SYMMETRIC: &str =
        "RFC 9449 §4.3 step 5 (an asymmetric algorithm, not none); RFC 8725 §3.1, §3.2";
    let fx = g.fx();
    let rsa = AnyKey::Rsa(&fx.client_rsa);
    let ed = AnyKey::Ed25519(&fx.client_ed25519);
    let p384 = AnyKey::Ec(&fx.client_p384);

    let mismatches: [(&str, &'static str, bool, &str, Proof<'_>); 5] = [
        ("es256-header-rsa-key", FIT, true, "alg ES256 with the client's RSA key as jwk and a valid RS256 signature by it: a verifier that took the algorithm from the key would accept.",
            g.tp_with(CAT, "es256-header-rsa-key", rsa, Alg::Rs256).header(|h| h.str("alg", "ES256"))),
        ("es256-header-ed25519-key", FIT, true, "alg ES256 with the client's Ed25519 key as jwk and a valid Ed25519 signature by it.",
            g.tp_with(CAT, "es256-header-ed25519-key", ed, Alg::Ed25519).header(|h| h.str("alg", "ES256"))),
        ("es512-header-p384-key", FIT, true, "alg ES512 with the client's P-384 key as jwk and a valid ES384 signature by it (ES512 is ECDSA on P-521, RFC 7518 §3.4).",
            g.tp_with(CAT, "es512-header-p384-key", p384, Alg::Es384).header(|h| h.str("alg", "ES512"))),
        ("ps256-header-rs256-jwk", OWN_ALG, false, "alg PS256 with a valid PS256 signature by the jwk, whose own alg is RS256.",
            g.tp_with(CAT, "ps256-header-rs256-jwk", rsa, Alg::Ps256).header(|h| h.raw("jwk", public_jwk(rsa).str("alg", "RS256").text()))),
        ("eddsa-header-ed25519-jwk", "RFC 9864 §2.2 (Ed25519 and EdDSA are distinct alg values); RFC 7517 §4.4; suite profile: a key is used only with the alg it declares", false, "alg EdDSA with a valid Ed25519 signature by the jwk, whose own alg is Ed25519.",
            g.tp_with(CAT, "eddsa-header-ed25519-jwk", ed, Alg::EdDsa).header(|h| h.raw("jwk", public_jwk(ed).str("alg", "Ed25519").text()))),
    ];
    for (name, requirement, normative, description, p) in mismatches {
        g.proof_case(
            meta(CAT, name, requirement, normative, description),
            p,
            Outcome::invalid("alg_key_mismatch"),
        );
    }

    let unsigned = |p: &Proof<'_>| {
        format!(
            "{}.{}",
            b64(p.header.text().as_bytes()),
            b64(p.claims.text().as_bytes())
        )
    };
    let p = g
        .tp_with(CAT, "hs256-rsa-public-key-as-secret", rsa, Alg::Rs256)
        .header(|h| h.str("alg", "HS256"));
    let input = unsigned(&p);
    let mac = hmac_sha256(public_jwk(rsa).text().as_bytes(), input.as_bytes());
    g.token_case(
        meta(CAT, "hs256-rsa-public-key-as-secret", SYMMETRIC, true, "alg HS256 with the client's RSA key as jwk, MAC keyed with the text of that public jwk (the classic RS256/HS256 confusion)."),
        format!("{input}.{}", b64(&mac)),
        Outcome::invalid("unsupported_alg"),
        Some(p),
    );
    let p = g
        .tp_with(CAT, "none-rsa-key", rsa, Alg::Rs256)
        .header(|h| h.str("alg", "none"));
    let text = format!("{}.", unsigned(&p));
    g.token_case(
        meta(
            CAT,
            "none-rsa-key",
            SYMMETRIC,
            true,
            "alg none with the client's RSA key as jwk and an empty signature.",
        ),
        text,
        Outcome::invalid("unsupported_alg"),
        Some(p),
    );
    let secret = Drbg::bytes::<32>(fx.seed, "secret/proofs/alg-confusion/hs256-oct-jwk");
    let p = g.tp(CAT, "hs256-oct-jwk").header(|h| {
        h.str("alg", "HS256").raw(
            "jwk",
            Members::new()
                .str("kty", "oct")
                .str("k", &b64(&secret))
                .text(),
        )
    });
    let input = unsigned(&p);
    let mac = hmac_sha256(&secret, input.as_bytes());
    g.token_case(
        meta(CAT, "hs256-oct-jwk", "RFC 9449 §4.3 step 5 (asymmetric algorithms only) and step 7 (no private key in jwk); RFC 8725 §3.1", true, "alg HS256 with a symmetric (oct) jwk carrying the MAC key k, MAC computed with it: it breaks two rules (a symmetric alg, a secret in jwk), so which check fires first is not pinned."),
        format!("{input}.{}", b64(&mac)),
        Outcome::Invalid(None),
        Some(p),
    );
}

/// The signature segment of `text` with `f` applied to its bytes.
fn resign(text: &str, f: impl FnOnce(&mut Vec<u8>)) -> String {
    let (input, sig) = text.rsplit_once('.').expect("segments");
    let mut raw = b64_decode(sig);
    f(&mut raw);
    format!("{input}.{}", b64(&raw))
}

/// Every algorithm besides ES256 (which the categories above cover): a valid proof and a
/// tampered one, and each algorithm's own pitfalls.
fn algorithms(g: &mut Gen<'_>) {
    let fx = g.fx();
    let rsa = AnyKey::Rsa(&fx.client_rsa);
    let ed = AnyKey::Ed25519(&fx.client_ed25519);
    let families: [(&'static str, Alg, AnyKey<'_>, &str, &'static str); 10] = [
        ("alg-es384", Alg::Es384, AnyKey::Ec(&fx.client_p384), "P-384", "RFC 9449 §4.3 steps 5–6; RFC 7518 §3.4 (ECDSA P-384 with SHA-384)"),
        ("alg-es512", Alg::Es512, AnyKey::Ec(&fx.client_p521), "P-521", "RFC 9449 §4.3 steps 5–6; RFC 7518 §3.4 (ECDSA P-521 with SHA-512)"),
        ("alg-ed25519", Alg::Ed25519, ed, "Ed25519", "RFC 9449 §4.3 steps 5–6; RFC 9864 §2.2 (Ed25519); RFC 8032 §5.1"),
        ("alg-eddsa", Alg::EdDsa, ed, "Ed25519", "RFC 9449 §4.3 steps 5–6; RFC 8037 §3.1 (EdDSA with an Ed25519 key); RFC 8032 §5.1"),
        ("alg-rs256", Alg::Rs256, rsa, "2048-bit RSA", "RFC 9449 §4.3 steps 5–6; RFC 7518 §3.3 (RSASSA-PKCS1-v1_5 with SHA-256)"),
        ("alg-rs384", Alg::Rs384, rsa, "2048-bit RSA", "RFC 9449 §4.3 steps 5–6; RFC 7518 §3.3 (RSASSA-PKCS1-v1_5 with SHA-384)"),
        ("alg-rs512", Alg::Rs512, rsa, "2048-bit RSA", "RFC 9449 §4.3 steps 5–6; RFC 7518 §3.3 (RSASSA-PKCS1-v1_5 with SHA-512)"),
        ("alg-ps256", Alg::Ps256, rsa, "2048-bit RSA", "RFC 9449 §4.3 steps 5–6; RFC 7518 §3.5 (RSASSA-PSS, SHA-256, MGF1 with SHA-256, 32-byte salt)"),
        ("alg-ps384", Alg::Ps384, rsa, "2048-bit RSA", "RFC 9449 §4.3 steps 5–6; RFC 7518 §3.5 (RSASSA-PSS, SHA-384, MGF1 with SHA-384, 48-byte salt)"),
        ("alg-ps512", Alg::Ps512, rsa, "2048-bit RSA", "RFC 9449 §4.3 steps 5–6; RFC 7518 §3.5 (RSASSA-PSS, SHA-512, MGF1 with SHA-512, 64-byte salt)"),
    ];
    for (cat, alg, key, key_name, requirement) in families {
        let name = alg.name();
        let p = g.tp_with(cat, "valid", key, alg);
        g.proof_case(
            meta(cat, "valid", requirement, true, &format!("A well-formed {name} proof by a {key_name} key verifies; jkt is the key's RFC 7638 thumbprint.")),
            p,
            Outcome::Valid(jkt_any(key)),
        );
        let p = g.tp_with(cat, "tampered-signature", key, alg);
        let text = resign(&p.text(), |sig| *sig.last_mut().expect("signature") ^= 1);
        g.token_case(
            meta(cat, "tampered-signature", requirement, true, &format!("A valid {name} proof with the lowest bit of its signature's last byte flipped.")),
            text,
            Outcome::invalid("invalid_signature"),
            Some(p),
        );
    }

    for (cat, alg, key, length) in [
        (
            "alg-es384",
            Alg::Es384,
            AnyKey::Ec(&fx.client_p384),
            "RFC 7518 §3.4 (R ‖ S: 96 octets for ES384)",
        ),
        (
            "alg-es512",
            Alg::Es512,
            AnyKey::Ec(&fx.client_p521),
            "RFC 7518 §3.4 (R ‖ S: 132 octets for ES512)",
        ),
    ] {
        let p = g.tp_with(cat, "signature-64-bytes", key, alg);
        let text = resign(&p.text(), |sig| sig.truncate(64));
        g.token_case(
            meta(
                cat,
                "signature-64-bytes",
                length,
                true,
                &format!(
                    "The first 64 bytes of a valid {} signature (the length of an ES256 one).",
                    alg.name()
                ),
            ),
            text,
            Outcome::invalid("invalid_signature_length"),
            Some(p),
        );
    }

    const ED: &str = "alg-ed25519";
    let p = g.tp_with(ED, "s-plus-l", ed, Alg::Ed25519);
    let text = resign(&p.text(), |sig| add_le(&mut sig[32..], &hex(ED25519_L_LE)));
    g.token_case(
        meta(ED, "s-plus-l", "RFC 8032 §5.1.7 step 1 (S must be in [0, L))", true, "A valid Ed25519 proof with S replaced by S + L: the same value modulo L, but not a canonical S (signature malleability)."),
        text,
        Outcome::invalid("invalid_signature"),
        Some(p),
    );

    for (name, r, description) in [
        ("small-order-r-identity", ED25519_IDENTITY, "R is the identity point and S = k·a (a the secret scalar): the verification equation [S]B = R + [k]A holds, but R has small order."),
        ("small-order-r-order-2", ED25519_ORDER_2, "R is the point (0, -1) of order 2 and S = k·a: only the cofactored equation [8][S]B = [8]R + [8][k]A holds."),
    ] {
        let p = g.tp_with(ED, name, ed, Alg::Ed25519);
        let input = format!(
            "{}.{}",
            b64(p.header.text().as_bytes()),
            b64(p.claims.text().as_bytes())
        );
        let r: [u8; 32] = hex(r).try_into().expect("32 bytes");
        let sig = fx.client_ed25519.sign_with_small_order_r(r, input.as_bytes());
        g.token_case(
            meta(ED, name, "RFC 8032 §5.1.7 (accepts it: either equation may be checked); suite profile: signatures whose R has small order are refused (strict verification)", false, description),
            format!("{input}.{}", b64(&sig)),
            Outcome::invalid("invalid_signature"),
            Some(p),
        );
    }

    const RS: &str = "alg-rs256";
    let p = g.tp_with(RS, "signature-one-byte-short", rsa, Alg::Rs256);
    let text = resign(&p.text(), |sig| {
        sig.pop();
    });
    g.token_case(
        meta(
            RS,
            "signature-one-byte-short",
            "RFC 7518 §3.3; RFC 8017 §8.2.2 step 1 (the signature is exactly k octets)",
            true,
            "A valid RS256 signature without its last byte (255 bytes for a 256-byte modulus).",
        ),
        text,
        Outcome::invalid("invalid_signature_length"),
        Some(p),
    );
    let p = g
        .tp_with(RS, "pss-signature", rsa, Alg::Rs256)
        .signed_with(rsa, Alg::Ps256);
    g.proof_case(
        meta(
            RS,
            "pss-signature",
            "RFC 7518 §3.3, §3.5 (RS256 and PS256 are different signature schemes)",
            true,
            "alg RS256 with a valid PS256 signature by the jwk.",
        ),
        p,
        Outcome::invalid("invalid_signature"),
    );
    let big = AnyKey::Rsa(&fx.rsa_4096);
    let p = g.tp_with(RS, "rsa-4096-key", big, Alg::Rs256);
    g.proof_case(
        meta(
            RS,
            "rsa-4096-key",
            "RFC 9449 §4.3 steps 5–6; RFC 7518 §3.3",
            true,
            "A valid RS256 proof by a 4096-bit RSA key (a 512-byte signature).",
        ),
        p,
        Outcome::Valid(jkt_any(big)),
    );
    let p = g
        .tp_with(RS, "jwk-with-alg", rsa, Alg::Rs256)
        .header(|h| h.raw("jwk", public_jwk(rsa).str("alg", "RS256").text()));
    g.proof_case(
        meta(RS, "jwk-with-alg", "RFC 7517 §4.4; RFC 7638 §3.2 (alg does not enter the thumbprint)", true, "A valid RS256 proof whose jwk declares alg RS256: accepted, with the thumbprint of kty, n, e."),
        p,
        Outcome::Valid(jkt_any(rsa)),
    );

    const PS: &str = "alg-ps256";
    let p = g
        .tp_with(PS, "pkcs1-signature", rsa, Alg::Ps256)
        .signed_with(rsa, Alg::Rs256);
    g.proof_case(
        meta(
            PS,
            "pkcs1-signature",
            "RFC 7518 §3.3, §3.5 (RS256 and PS256 are different signature schemes)",
            true,
            "alg PS256 with a valid RS256 (PKCS#1 v1.5) signature by the jwk.",
        ),
        p,
        Outcome::invalid("invalid_signature"),
    );
    let p = g.tp_with(PS, "salt-length-0", rsa, Alg::Ps256);
    let input = format!(
        "{}.{}",
        b64(p.header.text().as_bytes()),
        b64(p.claims.text().as_bytes())
    );
    let sig = fx.client_rsa.sign_pss256_with_salt_len(input.as_bytes(), 0);
    g.token_case(
        meta(
            PS,
            "salt-length-0",
            "RFC 7518 §3.5 (the salt is as long as the hash output: 32 bytes for PS256)",
            true,
            "An RSASSA-PSS signature with SHA-256 and MGF1-SHA-256 but an empty salt.",
        ),
        format!("{input}.{}", b64(&sig)),
        Outcome::invalid("invalid_signature"),
        Some(p),
    );
    let p = g.tp_with(PS, "resigned-same-proof", rsa, Alg::Ps256);
    let first = p.text();
    let input = first.rsplit_once('.').expect("segments").0;
    let again = format!(
        "{input}.{}",
        b64(&fx
            .client_rsa
            .sign_variant(Alg::Ps256, input.as_bytes(), "/again"))
    );
    assert_ne!(first, again, "PSS signatures are randomized");
    let post = |dpop: String| Req::new("POST", TOKEN_URL, vec![dpop]);
    g.c.sequence(
        meta(PS, "resigned-same-proof", "RFC 9449 §11.1; RFC 7518 §3.5 (PSS signatures are randomized)", true, "The same header and claims signed twice with PS256 (two salts, so two different signatures): the second is a replay, as the jti is the same."),
        &Verifier::standard(),
        vec![
            (post(first), Outcome::Valid(jkt_any(rsa))),
            (post(again), Outcome::invalid("replayed")),
        ],
        Some(p.decoded()),
    );
}

/// `a += b` for little-endian numbers of the same length (no overflow out of `a`).
fn add_le(a: &mut [u8], b: &[u8]) {
    let mut carry = 0u16;
    for (x, y) in a.iter_mut().zip(b) {
        let sum = u16::from(*x) + u16::from(*y) + carry;
        *x = u8::try_from(sum & 0xff).expect("byte");
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "add_le overflow");
}

/// The coordinate `y` with its lowest bit flipped. For a given `x` only `y` and `p - y` lie on
/// the curve, so the result is off the curve unless it equals `p - y` (asserted not to).
fn flip_low_bit(y: &[u8]) -> Vec<u8> {
    let mut out = y.to_vec();
    out[31] ^= 1;
    let y: [u8; 32] = y.try_into().expect("32 bytes");
    assert_ne!(out, sub256(&hex32(P256_P), &y).to_vec());
    out
}

fn step8(g: &mut Gen<'_>) {
    const CAT: &str = "step8-htm";
    const REQ: &str = "RFC 9449 §4.3 step 8; RFC 9110 §9.1 (methods are case-sensitive)";
    for (name, htm, description) in [
        ("other-method", "GET", "htm GET on a POST request."),
        ("lowercase", "post", "htm post on a POST request."),
        (
            "trailing-space",
            "POST ",
            "htm \"POST \" on a POST request.",
        ),
    ] {
        let p = g.tp(CAT, name).claims(|c| c.str("htm", htm));
        g.proof_case(
            meta(CAT, name, REQ, true, description),
            p,
            Outcome::invalid("htm_mismatch"),
        );
    }
}

fn step9(g: &mut Gen<'_>) {
    const CAT: &str = "step9-htu";
    const REQ: &str = "RFC 9449 §4.3 step 9 (see htu.json for the normalisation table)";
    for (name, htu, description) in [
        (
            "other-host",
            "https://evil.example.com/token",
            "htu names another host.",
        ),
        (
            "other-path",
            "https://server.example.com/authorize",
            "htu names another path.",
        ),
        (
            "other-scheme",
            "http://server.example.com/token",
            "htu uses http for an https request.",
        ),
    ] {
        let p = g.tp(CAT, name).claims(|c| c.str("htu", htu));
        g.proof_case(
            meta(CAT, name, REQ, true, description),
            p,
            Outcome::invalid("htu_mismatch"),
        );
    }
    let p = g.tp(CAT, "request-query-ignored");
    let text = p.text();
    g.c.single(
        meta(
            CAT,
            "request-query-ignored",
            "RFC 9449 §4.3 step 9 (ignoring query and fragment)",
            true,
            "The request URL has a query the htu does not: query parts are ignored.",
        ),
        &Verifier::standard(),
        Req::new("POST", &format!("{TOKEN_URL}?grant=1#top"), vec![text]),
        Outcome::Valid(g.client_jkt()),
        Some(p.decoded()),
    );
}

fn step10(g: &mut Gen<'_>) {
    const CAT: &str = "step10-nonce";
    const REQ: &str = "RFC 9449 §4.3 step 10; §8";
    let v = Verifier::with_nonce(NONCE);
    let cases: [(&str, Option<&str>, Outcome, &str); 4] = [
        ("missing", None, Outcome::Nonce("missing_nonce"), "The server requires its nonce; the proof has none. The answer carries the nonce (DPoP-Nonce)."),
        ("wrong", Some("eyJ7S_zG.eyJH0-Z.HX4w-7w"), Outcome::Nonce("invalid_nonce"), "The proof carries a nonce that is not the server's."),
        ("wrong-case", Some("EYJ7S_ZG.EYJH0-Z.HX4W-7V"), Outcome::Nonce("invalid_nonce"), "The server's nonce in another letter case: nonces are compared exactly."),
        ("correct", Some(NONCE), Outcome::Valid(g.client_jkt()), "The proof carries the server's nonce."),
    ];
    for (name, nonce, outcome, description) in cases {
        let p = g.tp(CAT, name);
        let p = match nonce {
            Some(n) => p.claims(|c| c.str("nonce", n)),
            None => p,
        };
        let text = p.text();
        g.c.single(
            meta(CAT, name, REQ, true, description),
            &v,
            Gen::token_request(vec![text]),
            outcome,
            Some(p.decoded()),
        );
    }
    let p = g.tp(CAT, "not-required").claims(|c| c.str("nonce", NONCE));
    g.proof_case(
        meta(
            CAT,
            "not-required",
            "RFC 9449 §8",
            true,
            "A nonce in the proof of a server that does not require one is ignored.",
        ),
        p,
        Outcome::Valid(g.client_jkt()),
    );
}

fn step11(g: &mut Gen<'_>) {
    const CAT: &str = "step11-iat";
    const REQ: &str =
        "RFC 9449 §4.3 step 11; §11.1. Suite window: now - max_age - leeway <= iat <= now + leeway";
    let jkt = g.client_jkt();
    let windows = [(MAX_AGE, LEEWAY), (300, 0)];
    for (max_age, leeway) in windows {
        let v = Verifier::window(max_age, leeway);
        let oldest = NOW - max_age - leeway;
        let newest = NOW + leeway;
        let points: [(&str, u64, Outcome); 5] = [
            ("oldest-accepted", oldest, Outcome::Valid(jkt.clone())),
            (
                "one-second-too-old",
                oldest - 1,
                Outcome::invalid("iat_too_old"),
            ),
            ("now", NOW, Outcome::Valid(jkt.clone())),
            ("newest-accepted", newest, Outcome::Valid(jkt.clone())),
            (
                "one-second-in-future",
                newest + 1,
                Outcome::invalid("iat_in_future"),
            ),
        ];
        for (point, iat, outcome) in points {
            let name = format!("window-{max_age}-{leeway}-{point}");
            let p = g.tp(CAT, &name).claims(|c| c.num("iat", iat));
            let text = p.text();
            let description =
                format!("max_age {max_age} s, leeway {leeway} s, now {NOW}, iat {iat}.");
            g.c.single(
                meta(CAT, &name, REQ, false, &description),
                &v,
                Gen::token_request(vec![text]),
                outcome,
                Some(p.decoded()),
            );
        }
    }
    let p = g.tp(CAT, "epoch").claims(|c| c.num("iat", 0));
    g.proof_case(
        meta(CAT, "epoch", REQ, true, "iat is 0 (1970)."),
        p,
        Outcome::invalid("iat_too_old"),
    );
    let p = g
        .tp(CAT, "one-day-ahead")
        .claims(|c| c.num("iat", NOW + 86_400));
    g.proof_case(
        meta(
            CAT,
            "one-day-ahead",
            REQ,
            true,
            "iat is a day in the future.",
        ),
        p,
        Outcome::invalid("iat_in_future"),
    );
}

fn step12(g: &mut Gen<'_>) {
    const CAT: &str = "step12-ath";
    const REQ: &str = "RFC 9449 §4.3 step 12; §4.2 (ath = base64url(SHA-256(access token)))";
    let single = |g: &mut Gen<'_>,
                  name: &str,
                  normative: bool,
                  description: &str,
                  p: Proof<'_>,
                  token: Option<&str>,
                  outcome: Outcome| {
        let text = p.text();
        let mut req = Req::new("GET", API_URL, vec![text]);
        if let Some(t) = token {
            req = req.token(t);
        }
        let requirement = if normative {
            REQ
        } else {
            "suite profile: ath only with an access token"
        };
        g.c.single(
            meta(CAT, name, requirement, normative, description),
            &Verifier::standard(),
            req,
            outcome,
            Some(p.decoded()),
        );
    };
    let p = g.rp(CAT, "matching");
    single(
        g,
        "matching",
        true,
        "ath is the hash of the presented token.",
        p,
        Some(OPAQUE_TOKEN),
        Outcome::Valid(g.client_jkt()),
    );
    let p = g.rp(CAT, "missing").claims(|c| c.without("ath"));
    single(
        g,
        "missing",
        true,
        "An access token is presented; the proof has no ath.",
        p,
        Some(OPAQUE_TOKEN),
        Outcome::invalid("missing_ath"),
    );
    let p = g
        .rp(CAT, "other-token")
        .claims(|c| c.str("ath", &ath("another-access-token")));
    single(
        g,
        "other-token",
        true,
        "ath is the hash of another token.",
        p,
        Some(OPAQUE_TOKEN),
        Outcome::invalid("ath_mismatch"),
    );
    let p = g
        .rp(CAT, "padded")
        .claims(|c| c.str("ath", &format!("{}=", ath(OPAQUE_TOKEN))));
    single(
        g,
        "padded",
        true,
        "ath is the right hash with '=' padding.",
        p,
        Some(OPAQUE_TOKEN),
        Outcome::invalid("ath_mismatch"),
    );
    let hex_hash: String = sha256(OPAQUE_TOKEN.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let p = g.rp(CAT, "hex").claims(|c| c.str("ath", &hex_hash));
    single(
        g,
        "hex",
        true,
        "ath is the right hash in hex instead of base64url.",
        p,
        Some(OPAQUE_TOKEN),
        Outcome::invalid("ath_mismatch"),
    );
    let p = g
        .rp(CAT, "hash-of-bearer-header")
        .claims(|c| c.str("ath", &ath(&format!("DPoP {OPAQUE_TOKEN}"))));
    single(
        g,
        "hash-of-bearer-header",
        true,
        "ath is the hash of the whole Authorization value (scheme included), not of the token.",
        p,
        Some(OPAQUE_TOKEN),
        Outcome::invalid("ath_mismatch"),
    );
    let p = g.rp(CAT, "number").claims(|c| c.raw("ath", "42"));
    single(
        g,
        "number",
        true,
        "ath is a number.",
        p,
        Some(OPAQUE_TOKEN),
        Outcome::invalid("invalid_claim"),
    );
    let p = g.rp(CAT, "without-token");
    single(
        g,
        "without-token",
        false,
        "The proof has ath but the request presents no access token.",
        p,
        None,
        Outcome::invalid("unexpected_ath"),
    );
}

fn replay(g: &mut Gen<'_>) {
    const CAT: &str = "replay";
    const REQ: &str = "RFC 9449 §11.1; §4.3 (jti)";
    let jkt = g.client_jkt();
    let v = Verifier::standard();
    let post = |dpop: String| Req::new("POST", TOKEN_URL, vec![dpop]);

    let p = g.tp(CAT, "same-proof-twice");
    let t = p.text();
    g.c.sequence(
        meta(
            CAT,
            "same-proof-twice",
            REQ,
            true,
            "A proof is accepted once; the same proof again is a replay.",
        ),
        &v,
        vec![
            (post(t.clone()), Outcome::Valid(jkt.clone())),
            (post(t), Outcome::invalid("replayed")),
        ],
        Some(p.decoded()),
    );

    let p = g.tp(CAT, "until-window-ends");
    let t = p.text();
    let end = NOW + MAX_AGE + LEEWAY;
    g.c.sequence(
        meta(CAT, "until-window-ends", REQ, false, "Replayed at the last second of its window the proof is still a replay; one second later it is too old."),
        &v,
        vec![
            (post(t.clone()), Outcome::Valid(jkt.clone())),
            (post(t.clone()).at(end), Outcome::invalid("replayed")),
            (post(t).at(end + 1), Outcome::invalid("iat_too_old")),
        ],
        Some(p.decoded()),
    );

    let p = g.tp(CAT, "refused-proof-not-consumed");
    let t = p.text();
    g.c.sequence(
        meta(CAT, "refused-proof-not-consumed", "RFC 9449 §11.1; suite profile: only accepted proofs are recorded", false, "A proof refused by another check (htm) is not recorded: sent then with the right method it is accepted, and only then replayed."),
        &v,
        vec![
            (Req::new("PUT", TOKEN_URL, vec![t.clone()]), Outcome::invalid("htm_mismatch")),
            (post(t.clone()), Outcome::Valid(jkt.clone())),
            (post(t), Outcome::invalid("replayed")),
        ],
        Some(p.decoded()),
    );

    let a = g.tp(CAT, "fresh-proofs");
    let b = g
        .tp(CAT, "fresh-proofs")
        .claims(|c| c.str("jti", &g.fx().jti("proofs/replay/fresh-proofs", 1)));
    g.c.sequence(
        meta(
            CAT,
            "fresh-proofs",
            REQ,
            true,
            "Two proofs of one key with different jti are both accepted.",
        ),
        &v,
        vec![
            (post(a.text()), Outcome::Valid(jkt.clone())),
            (post(b.text()), Outcome::Valid(jkt.clone())),
        ],
        Some(a.decoded()),
    );

    let p = g.tp(CAT, "same-jti-new-iat");
    let later = p.clone().claims(|c| c.num("iat", NOW + 1));
    g.c.sequence(
        meta(CAT, "same-jti-new-iat", REQ, true, "A second proof of the same key reusing the jti (with a later iat, so other bytes) within the window is a replay."),
        &v,
        vec![(post(p.text()), Outcome::Valid(jkt.clone())), (post(later.text()).at(NOW + 1), Outcome::invalid("replayed"))],
        Some(p.decoded()),
    );

    let p = g.tp(CAT, "malleated-signature");
    let t = p.text();
    let (input, sig) = t.rsplit_once('.').expect("segments");
    let mut raw = decode_sig(sig);
    let s: [u8; 32] = raw[32..].try_into().expect("32");
    raw[32..].copy_from_slice(&sub256(&hex32(P256_N), &s));
    let twin = format!("{input}.{}", b64(&raw));
    g.c.sequence(
        meta(CAT, "malleated-signature", REQ, true, "The same proof with s replaced by n - s (other bytes, same jti and key) is still a replay: replay detection must not key on the signature."),
        &v,
        vec![(post(t.clone()), Outcome::Valid(jkt.clone())), (post(twin), Outcome::invalid("replayed"))],
        Some(p.decoded()),
    );

    let p = g.tp(CAT, "whitespace-variant");
    let t = p.text();
    g.c.sequence(
        meta(
            CAT,
            "whitespace-variant",
            REQ,
            true,
            "The same proof with surrounding whitespace is the same proof.",
        ),
        &v,
        vec![
            (post(t.clone()), Outcome::Valid(jkt.clone())),
            (post(format!("  {t} ")), Outcome::invalid("replayed")),
        ],
        Some(p.decoded()),
    );
}

fn rfc_examples(g: &mut Gen<'_>) {
    const CAT: &str = "rfc-example";
    let data: Value = serde_json::from_str(RFC_EXAMPLES).expect("RFC examples JSON");
    let proofs = data["proofs"].as_array().expect("proofs");
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_else(|| panic!("{k}")).to_owned();
    let number = |v: &Value, k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k}"));
    let jkt = text(&data, "jwk_thumbprint");
    let request = |case: &Value| {
        let mut req = Req::new(
            &text(case, "method"),
            &text(case, "url"),
            vec![text(case, "proof")],
        )
        .at(number(case, "now"));
        if let Some(token) = case["access_token"].as_str() {
            req = req.token(token);
        }
        req
    };
    let names = [
        ("figure-1-token-request", "RFC 9449 §4.1 (Figure 1)"),
        ("section-5-refresh-request", "RFC 9449 §5"),
        ("section-7-1-resource-request", "RFC 9449 §7.1"),
    ];
    assert_eq!(proofs.len(), names.len());
    for (case, (name, requirement)) in proofs.iter().zip(names) {
        g.c.single(
            meta(
                CAT,
                name,
                requirement,
                true,
                &format!("{}, verified at its iat.", text(case, "name")),
            ),
            &Verifier::standard(),
            request(case),
            Outcome::Valid(jkt.clone()),
            None,
        );
    }
    g.c.sequence(
        meta(CAT, "token-then-refresh-same-jti", "RFC 9449 §4.1, §5, §11.1 (jti is tracked only within the acceptance window)", true, "The RFC's refresh proof reuses the token-request proof's jti 45 minutes later, long after the window: both are accepted by one verifier."),
        &Verifier::standard(),
        vec![(request(&proofs[0]), Outcome::Valid(jkt.clone())), (request(&proofs[1]), Outcome::Valid(jkt.clone()))],
        None,
    );
    let first = &proofs[0];
    g.c.sequence(
        meta(
            CAT,
            "figure-1-replayed-within-window",
            "RFC 9449 §11.1",
            true,
            "The Figure 1 proof sent twice at its iat: the second is a replay.",
        ),
        &Verifier::standard(),
        vec![
            (request(first), Outcome::Valid(jkt.clone())),
            (request(first), Outcome::invalid("replayed")),
        ],
        None,
    );
    let iat = number(first, "now");
    g.c.single(
        meta(
            CAT,
            "figure-1-too-old",
            "RFC 9449 §4.3 step 11 (suite window 60 + 5 s)",
            false,
            "The Figure 1 proof 66 seconds after its iat.",
        ),
        &Verifier::standard(),
        request(first).at(iat + MAX_AGE + LEEWAY + 1),
        Outcome::invalid("iat_too_old"),
        None,
    );
    g.c.single(
        meta(
            CAT,
            "figure-1-other-endpoint",
            "RFC 9449 §4.3 step 9",
            true,
            "The Figure 1 proof sent to another URL of the same server.",
        ),
        &Verifier::standard(),
        Req::new(
            "POST",
            "https://server.example.com/par",
            vec![text(first, "proof")],
        )
        .at(iat),
        Outcome::invalid("htu_mismatch"),
        None,
    );
    let resource = &proofs[2];
    g.c.single(
        meta(
            CAT,
            "section-7-1-other-token",
            "RFC 9449 §4.3 step 12",
            true,
            "The §7.1 proof presented with another access token.",
        ),
        &Verifier::standard(),
        request(resource).token("another-access-token"),
        Outcome::invalid("ath_mismatch"),
        None,
    );
}
