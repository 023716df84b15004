//! `requests.json`: a resource server's decision on whole requests (RFC 9449 §7): the access
//! token (RFC 9068), the `Authorization` and `DPoP` headers, the binding (`cnf.jkt`), nonces
//! and replay, with the HTTP status and `error` code of the answer.

use crate::keys::{Alg, AnyKey, Key};

use crate::case::Case;
use crate::fixtures::{
    Fixtures, API_URL, AUDIENCE, CLIENT_ID, ISSUER, LEEWAY, MAX_AGE, NONCE, NOW, SCOPE, SUBJECT,
    TOKEN_LEEWAY, TOKEN_MAX_LIFETIME,
};
use crate::jose::{
    b64, compact_with, hmac_sha256, jkt_any, jkt_of, jwk_of, public_jwk, thumbprint, Members,
};
use crate::json::{obj, quote, J};
use crate::proof::{Cases, Meta, Proof};

pub const DESCRIPTION: &str = "Protected-resource requests (RFC 9449 section 7): a resource \
server configured as in input.resource (issuer, audience, the issuer's JWKS, proof window, \
optional required nonce) decides each request from its method, public URL and every \
Authorization and DPoP header value. Expected: authorized, or the HTTP status, the error code \
of the WWW-Authenticate challenge (null for none) and the DPoP-Nonce to send.";

/// Issued `iat` of the standard token (60 s before NOW) and its `exp` (240 s after NOW).
const TOKEN_IAT: u64 = NOW - 60;
const TOKEN_EXP: u64 = NOW + 240;

/// How the resource server is configured.
#[derive(Clone)]
struct Resource {
    jwks: String,
    nonce: Option<String>,
    /// The proof algorithms accepted; `None`: the default (all). Written only when set.
    proof_algs: Option<Vec<&'static str>>,
}

impl Resource {
    fn json(&self) -> J {
        obj()
            .set("issuer", ISSUER)
            .set("audience", AUDIENCE)
            .set("jwks", self.jwks.as_str())
            .set("token_leeway_secs", TOKEN_LEEWAY)
            .set("max_token_lifetime_secs", TOKEN_MAX_LIFETIME)
            .set("accept_bearer", false)
            .set(
                "proof",
                obj()
                    .set("max_age_secs", MAX_AGE)
                    .set("leeway_secs", LEEWAY)
                    .set("nonce", self.nonce.clone())
                    .opt("algs", self.proof_algs.clone())
                    .done(),
            )
            .done()
    }
}

/// One request to the resource.
#[derive(Clone)]
struct Request {
    method: String,
    url: String,
    authorization: Vec<String>,
    dpop: Vec<String>,
    now: u64,
}

impl Request {
    fn new(authorization: Vec<String>, dpop: Vec<String>) -> Self {
        Self {
            method: "GET".to_owned(),
            url: API_URL.to_owned(),
            authorization,
            dpop,
            now: NOW,
        }
    }

    fn json(&self) -> J {
        obj()
            .set("method", self.method.as_str())
            .set("url", self.url.as_str())
            .set("authorization", self.authorization.clone())
            .set("dpop", self.dpop.clone())
            .set("now", self.now)
            .done()
    }
}

/// The resource server's answer.
enum Answer {
    /// The request goes through, for this subject and key.
    Authorized { jkt: String },
    /// Refused: status, error code (None: a challenge without error), reason.
    Refused(u16, Option<&'static str>, &'static str),
    /// 401 `use_dpop_nonce` with the configured nonce.
    Nonce(&'static str),
}

impl Answer {
    fn token(reason: &'static str) -> Self {
        Self::Refused(401, Some("invalid_token"), reason)
    }

    fn proof(reason: &'static str) -> Self {
        Self::Refused(401, Some("invalid_dpop_proof"), reason)
    }

    fn request(reason: &'static str) -> Self {
        Self::Refused(400, Some("invalid_request"), reason)
    }

    fn json(&self, resource: &Resource) -> J {
        let base = obj();
        match self {
            Self::Authorized { jkt } => base
                .set("authorized", true)
                .set("status", J::Null)
                .set("error", J::Null)
                .set("reason", J::Null)
                .set("dpop_nonce", J::Null)
                .set("sub", SUBJECT)
                .set("client_id", CLIENT_ID)
                .set("jkt", jkt.as_str()),
            Self::Refused(status, error, reason) => base
                .set("authorized", false)
                .set("status", *status)
                .set("error", *error)
                .set("reason", *reason)
                .set("dpop_nonce", J::Null),
            Self::Nonce(reason) => base
                .set("authorized", false)
                .set("status", 401u16)
                .set("error", "use_dpop_nonce")
                .set("reason", *reason)
                .set("dpop_nonce", resource.nonce.clone()),
        }
        .done()
    }
}

/// A hand-made access token: header and claims as raw members, signed with `alg` by `key`.
#[derive(Clone)]
struct Token<'a> {
    key: AnyKey<'a>,
    alg: Alg,
    header: Members,
    claims: Members,
}

impl Token<'_> {
    fn text(&self) -> String {
        compact_with(self.key, self.alg, &self.header.text(), &self.claims.text())
    }

    fn header(mut self, f: impl FnOnce(Members) -> Members) -> Self {
        self.header = f(self.header);
        self
    }

    fn claims(mut self, f: impl FnOnce(Members) -> Members) -> Self {
        self.claims = f(self.claims);
        self
    }

    /// The decoded texts, for the informative `decoded` member.
    fn decoded(&self) -> J {
        obj()
            .set("token_header", self.header.text())
            .set("token_claims", self.claims.text())
            .done()
    }
}

struct Gen<'f> {
    c: Cases<'f>,
    resource: Resource,
}

fn kid(key: &Key) -> String {
    thumbprint(key.x(), key.y())
}

impl<'f> Gen<'f> {
    fn fx(&self) -> &'f Fixtures {
        self.c.fx
    }

    /// The standard RFC 9068 token for the client, bound to its key, signed by the issuer.
    fn token(&self, name: &str) -> Token<'f> {
        let fx = self.fx();
        Token {
            key: AnyKey::P256(&fx.issuer),
            alg: Alg::Es256,
            header: Members::new()
                .str("typ", "at+jwt")
                .str("alg", "ES256")
                .str("kid", &kid(&fx.issuer)),
            claims: Members::new()
                .str("iss", ISSUER)
                .str("sub", SUBJECT)
                .str("aud", AUDIENCE)
                .num("exp", TOKEN_EXP)
                .num("iat", TOKEN_IAT)
                .str("jti", &fx.jti(&format!("requests/token/{name}"), 0))
                .str("client_id", CLIENT_ID)
                .str("scope", SCOPE)
                .raw("cnf", format!("{{\"jkt\":{}}}", quote(&jkt_of(&fx.client)))),
        }
    }

    /// A valid proof by `key` for a GET of the API presenting `token`.
    fn proof(&self, id_part: &str, key: &'f Key, token: &str) -> Proof<'f> {
        let id = self.c.id("proof", id_part);
        Proof::new(key, &self.fx().jti(&id, 0), "GET", API_URL, NOW).ath(token)
    }

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

    fn single(
        &mut self,
        m: Meta,
        resource: &Resource,
        request: Request,
        answer: Answer,
        decoded: Option<J>,
    ) {
        let input = obj()
            .set("resource", resource.json())
            .set("request", request.json())
            .done();
        let expected = answer.json(resource);
        self.c.push(m, "request", input, expected, decoded);
    }

    fn sequence(&mut self, m: Meta, resource: &Resource, steps: Vec<(Request, Answer)>) {
        let input = obj()
            .set("resource", resource.json())
            .set(
                "steps",
                J::Arr(steps.iter().map(|(r, _)| r.json()).collect()),
            )
            .done();
        let expected = obj()
            .set(
                "steps",
                J::Arr(steps.iter().map(|(_, a)| a.json(resource)).collect()),
            )
            .done();
        self.c.push(m, "request_sequence", input, expected, None);
    }

    /// A valid proof by `key` with `alg` for a GET of the API presenting `token`.
    fn proof_with(&self, id_part: &str, key: AnyKey<'f>, alg: Alg, token: &str) -> Proof<'f> {
        let id = self.c.id("proof", id_part);
        Proof::with_key(key, alg, &self.fx().jti(&id, 0), "GET", API_URL, NOW).ath(token)
    }

    /// A `request` case that also pins the `algs` of the DPoP challenge (`challenge_algs`).
    fn single_with_algs(
        &mut self,
        m: Meta,
        resource: &Resource,
        request: Request,
        answer: Answer,
        algs: &[&'static str],
        decoded: Option<J>,
    ) {
        let input = obj()
            .set("resource", resource.json())
            .set("request", request.json())
            .done();
        let expected = answer.json(resource).with("challenge_algs", algs.to_vec());
        self.c.push(m, "request", input, expected, decoded);
    }

    /// A DPoP request presenting `token` with a fresh client proof for it.
    fn dpop_request(&self, name: &str, token: &str) -> (Request, Proof<'f>) {
        let proof = self.proof(name, &self.fx().client, token);
        (
            Request::new(vec![format!("DPoP {token}")], vec![proof.text()]),
            proof,
        )
    }

    /// A case whose token is `token` (sent as `DPoP` with a valid proof).
    fn token_case(&mut self, m: Meta, token: &Token<'_>, answer: Answer) {
        let text = token.text();
        let (request, _) = self.dpop_request(&m.name.clone(), &text);
        let decoded = obj()
            .set("token_header", token.header.text())
            .set("token_claims", token.claims.text())
            .done();
        let resource = self.resource.clone();
        self.single(m, &resource, request, answer, Some(decoded));
    }
}

/// The issuer's JWKS: the signing key and a retired key, each with kid, alg and use.
fn jwks(fx: &Fixtures) -> String {
    let entry = |key: &Key| {
        jwk_of(key)
            .str("kid", &kid(key))
            .str("alg", "ES256")
            .str("use", "sig")
            .text()
    };
    format!(
        "{{\"keys\":[{},{}]}}",
        entry(&fx.issuer),
        entry(&fx.issuer2)
    )
}

pub fn cases(fx: &Fixtures) -> Vec<Case> {
    let mut g = Gen {
        c: Cases::new(fx, "requests"),
        resource: Resource {
            jwks: jwks(fx),
            nonce: None,
            proof_algs: None,
        },
    };
    baseline(&mut g);
    token(&mut g);
    binding(&mut g);
    authorization(&mut g);
    proof(&mut g);
    nonce(&mut g);
    replay(&mut g);
    algorithms(&mut g);
    g.c.cases
}

fn authorized(fx: &Fixtures) -> Answer {
    Answer::Authorized {
        jkt: jkt_of(&fx.client),
    }
}

fn baseline(g: &mut Gen<'_>) {
    const CAT: &str = "baseline";
    const REQ: &str = "RFC 9449 §7.1; RFC 9068 §4";
    let fx = g.fx();
    let t = g.token("valid");
    g.token_case(
        Gen::meta(
            CAT,
            "valid",
            REQ,
            true,
            "A bound access token with the DPoP scheme and a valid proof carrying its ath.",
        ),
        &t,
        authorized(fx),
    );
    let t = g
        .token("retired-key")
        .key_with(&fx.issuer2, &kid(&fx.issuer2));
    g.token_case(
        Gen::meta(
            CAT,
            "retired-key",
            REQ,
            true,
            "The token is signed by the second key of the JWKS (kid names it).",
        ),
        &t,
        authorized(fx),
    );
    let t = g.token("audience-list").claims(|c| {
        c.raw(
            "aud",
            format!("[\"https://other.example.com\",{}]", quote(AUDIENCE)),
        )
    });
    g.token_case(
        Gen::meta(
            CAT,
            "audience-list",
            "RFC 7519 §4.1.3; RFC 9068 §4",
            true,
            "aud is an array that includes this resource.",
        ),
        &t,
        authorized(fx),
    );
    let t = g
        .token("full-media-type")
        .header(|h| h.str("typ", "application/at+jwt"));
    g.token_case(
        Gen::meta(
            CAT,
            "full-media-type",
            "RFC 9068 §4 (typ at+jwt or application/at+jwt)",
            true,
            "The token's typ is application/at+jwt.",
        ),
        &t,
        authorized(fx),
    );
    let token = g.token("scheme-case").text();
    let proof = g.proof("scheme-case", &fx.client, &token);
    let resource = g.resource.clone();
    g.single(
        Gen::meta(
            CAT,
            "scheme-case",
            "RFC 9110 §11.1 (auth schemes are case-insensitive)",
            true,
            "The Authorization scheme written dpop.",
        ),
        &resource,
        Request::new(vec![format!("dpop {token}")], vec![proof.text()]),
        authorized(fx),
        Some(proof.decoded()),
    );
    let t = g
        .token("expiring-within-leeway")
        .claims(|c| c.num("iat", NOW - 300).num("exp", NOW - TOKEN_LEEWAY + 1));
    g.token_case(
        Gen::meta(
            CAT,
            "expiring-within-leeway",
            "RFC 7519 §4.1.4 (some small leeway); suite token leeway 5 s",
            false,
            "exp was 4 seconds ago, within the 5-second leeway.",
        ),
        &t,
        authorized(fx),
    );
}

impl<'a> Token<'a> {
    /// The same token signed by `key` under `kid`.
    fn key_with(mut self, key: &'a Key, kid: &str) -> Self {
        self.key = AnyKey::P256(key);
        self.alg = Alg::Es256;
        self.header = self.header.str("kid", kid);
        self
    }
}

fn token(g: &mut Gen<'_>) {
    const CAT: &str = "token";
    let fx = g.fx();
    let cases: Vec<(&str, &str, bool, &str, Token<'_>, &str)> = vec![
        ("expired", "RFC 7519 §4.1.4; RFC 9068 §4", true, "exp was 100 seconds ago.", g.token("expired").claims(|c| c.num("iat", NOW - 400).num("exp", NOW - 100)), "token_expired"),
        ("expired-at-leeway", "RFC 7519 §4.1.4; suite token leeway 5 s", false, "exp was exactly 5 seconds (the leeway) ago.", g.token("expired-at-leeway").claims(|c| c.num("iat", NOW - 300).num("exp", NOW - TOKEN_LEEWAY)), "token_expired"),
        ("not-yet-valid", "RFC 7519 §4.1.5", true, "nbf is 60 seconds ahead.", g.token("not-yet-valid").claims(|c| c.num("nbf", NOW + 60)), "token_not_yet_valid"),
        ("issued-in-future", "RFC 7519 §4.1.6; suite profile: iat beyond the leeway is refused", false, "iat is 60 seconds ahead.", g.token("issued-in-future").claims(|c| c.num("iat", NOW + 60).num("exp", NOW + 300)), "token_not_yet_valid"),
        ("lifetime-too-long", "suite profile: exp - iat at most 3600 s", false, "exp - iat is 3660 seconds.", g.token("lifetime-too-long").claims(|c| c.num("exp", TOKEN_IAT + 3660)), "token_lifetime_too_long"),
        ("wrong-issuer", "RFC 9068 §4 (iss MUST match the issuer)", true, "iss names another issuer.", g.token("wrong-issuer").claims(|c| c.str("iss", "https://evil.example.com")), "wrong_issuer"),
        ("issuer-trailing-slash", "RFC 9068 §4 (the issuer identifier MUST exactly match iss)", true, "iss is the issuer with a trailing slash.", g.token("issuer-trailing-slash").claims(|c| c.str("iss", &format!("{ISSUER}/"))), "wrong_issuer"),
        ("wrong-audience", "RFC 9068 §4 (aud MUST contain the resource)", true, "aud names another resource.", g.token("wrong-audience").claims(|c| c.str("aud", "https://other.example.com")), "wrong_audience"),
        ("unknown-kid", "RFC 9068 §4 (signature by the issuer's key)", true, "kid names no key of the JWKS.", g.token("unknown-kid").header(|h| h.str("kid", "no-such-key")), "unknown_kid"),
        ("missing-kid", "suite profile: tokens name their key with kid", false, "The token header has no kid.", g.token("missing-kid").header(|h| h.without("kid")), "missing_kid"),
        ("typ-jwt", "RFC 9068 §4 (typ MUST be at+jwt)", true, "typ is JWT instead of at+jwt.", g.token("typ-jwt").header(|h| h.str("typ", "JWT")), "wrong_token_typ"),
        ("typ-missing", "RFC 9068 §4 (typ MUST be at+jwt)", true, "The token header has no typ.", g.token("typ-missing").header(|h| h.without("typ")), "wrong_token_typ"),
        ("typ-dpop-proof", "RFC 9068 §4; RFC 8725 §3.11 (explicit typing)", true, "typ is dpop+jwt: a DPoP proof is not an access token.", g.token("typ-dpop-proof").header(|h| h.str("typ", "dpop+jwt")), "wrong_token_typ"),
        ("rogue-key", "RFC 9068 §4", true, "Signed by a key the issuer never published, under the issuer's kid.", {
            let t = g.token("rogue-key");
            Token { key: AnyKey::P256(&fx.rogue), ..t }
        }, "invalid_signature"),
        ("embedded-jwk-ignored", "RFC 9068 §4 (the key comes from the issuer's metadata); RFC 8725 §3.10", true, "Signed by an unpublished key that the token header embeds as jwk, under the issuer's kid: the embedded key must not be trusted.", {
            let t = g.token("embedded-jwk-ignored").header(|h| h.raw("jwk", jwk_of(&fx.rogue).text()));
            Token { key: AnyKey::P256(&fx.rogue), ..t }
        }, "invalid_signature"),
        ("kid-of-other-key", "RFC 9068 §4; RFC 7515 §4.1.4", true, "Signed by the issuer's first key but naming the second key's kid.", g.token("kid-of-other-key").header(|h| h.str("kid", &kid(&fx.issuer2))), "invalid_signature"),
        ("crit", "RFC 7515 §4.1.11", true, "The token header lists an unknown extension in crit.", g.token("crit").header(|h| h.raw("crit", "[\"x-ext\"]").str("x-ext", "v")), "unsupported_crit"),
        ("duplicate-claim", "RFC 7519 §4; RFC 8725 §3.5; suite profile: rejected", false, "The token names sub twice.", g.token("duplicate-claim").claims(|c| c.push_raw("sub", quote("mallory"))), "duplicate_json_member"),
        ("empty-subject", "RFC 9068 §2.2; suite profile: empty strings refused", false, "sub is the empty string.", g.token("empty-subject").claims(|c| c.str("sub", "")), "invalid_token_claim"),
        ("cnf-malformed-jkt", "RFC 9449 §6.1 (jkt: base64url SHA-256 thumbprint)", true, "cnf.jkt is not a base64url SHA-256 value.", g.token("cnf-malformed-jkt").claims(|c| c.raw("cnf", "{\"jkt\":\"not-a-thumbprint\"}")), "invalid_token_claim"),
        ("cnf-other-method", "RFC 7800 §3.1; suite profile: an unknown confirmation method is not treated as unbound", false, "cnf holds only x5t#S256, a confirmation method this resource cannot check.", g.token("cnf-other-method").claims(|c| c.raw("cnf", format!("{{\"x5t#S256\":{}}}", quote(&b64(&[7u8; 32]))))), "invalid_token_claim"),
    ];
    for (name, requirement, normative, description, token, reason) in cases {
        g.token_case(
            Gen::meta(CAT, name, requirement, normative, description),
            &token,
            Answer::token(reason),
        );
    }
    for claim in ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"] {
        let name = format!("missing-{claim}");
        let t = g.token(&name).claims(|c| c.without(claim));
        g.token_case(
            Gen::meta(
                CAT,
                &name,
                "RFC 9068 §2.2 (required claims)",
                true,
                &format!("The token has no {claim} claim."),
            ),
            &t,
            Answer::token("missing_token_claim"),
        );
    }
    let t = g.token("alg-none").header(|h| h.str("alg", "none"));
    let none = format!(
        "{}.{}.",
        b64(t.header.text().as_bytes()),
        b64(t.claims.text().as_bytes())
    );
    let hs = g.token("alg-hs256").header(|h| h.str("alg", "HS256"));
    let input = format!(
        "{}.{}",
        b64(hs.header.text().as_bytes()),
        b64(hs.claims.text().as_bytes())
    );
    let hs256 = format!(
        "{input}.{}",
        b64(&hmac_sha256(
            jwk_of(&fx.issuer).text().as_bytes(),
            input.as_bytes()
        ))
    );
    for (name, text, description) in [
        ("alg-none", none, "An unsigned token (alg none)."),
        (
            "alg-hs256",
            hs256,
            "alg HS256 with the issuer's public JWK text as the MAC key (algorithm confusion).",
        ),
    ] {
        let (request, _) = g.dpop_request(name, &text);
        let resource = g.resource.clone();
        g.single(
            Gen::meta(CAT, name, "RFC 9068 §4; RFC 8725 §3.1", true, description),
            &resource,
            request,
            Answer::token("unsupported_alg"),
            None,
        );
    }
    let garbage = "not-a-jwt";
    let (request, _) = g.dpop_request("not-a-jwt", garbage);
    let resource = g.resource.clone();
    g.single(
        Gen::meta(
            CAT,
            "not-a-jwt",
            "RFC 9068 §4",
            true,
            "The access token is a token68 string that is not a JWS.",
        ),
        &resource,
        request,
        Answer::token("malformed_jws"),
        None,
    );
}

fn binding(g: &mut Gen<'_>) {
    const CAT: &str = "binding";
    let fx = g.fx();
    let token = g.token("binding").text();
    let resource = g.resource.clone();
    let thief = g.proof("stolen-token", &fx.thief, &token);
    g.single(
        Gen::meta(CAT, "stolen-token", "RFC 9449 §7.1 (cnf.jkt MUST match the proof key's thumbprint); RFC 6750 §3.1", true, "The token is presented with a valid proof by another key (an attacker holding the stolen token)."),
        &resource,
        Request::new(vec![format!("DPoP {token}")], vec![thief.text()]),
        Answer::token("key_binding_mismatch"),
        Some(thief.decoded()),
    );
    g.single(
        Gen::meta(
            CAT,
            "bound-token-as-bearer",
            "RFC 9449 §7.2 (a DPoP-bound token MUST NOT be accepted as a bearer token)",
            true,
            "The bound token sent with the Bearer scheme and no proof.",
        ),
        &resource,
        Request::new(vec![format!("Bearer {token}")], vec![]),
        Answer::token("bound_token_as_bearer"),
        None,
    );
    let proof = g.proof("bound-token-as-bearer-with-proof", &fx.client, &token);
    g.single(
        Gen::meta(
            CAT,
            "bound-token-as-bearer-with-proof",
            "RFC 9449 §7.2",
            true,
            "The bound token sent with the Bearer scheme, even with a valid proof.",
        ),
        &resource,
        Request::new(vec![format!("Bearer {token}")], vec![proof.text()]),
        Answer::token("bound_token_as_bearer"),
        Some(proof.decoded()),
    );
    let unbound = g.token("unbound").claims(|c| c.without("cnf")).text();
    let proof = g.proof("unbound-as-dpop", &fx.client, &unbound);
    g.single(
        Gen::meta(
            CAT,
            "unbound-as-dpop",
            "RFC 9449 §7.1 (the DPoP scheme presents a DPoP-bound token)",
            true,
            "A token without cnf presented with the DPoP scheme and a valid proof.",
        ),
        &resource,
        Request::new(vec![format!("DPoP {unbound}")], vec![proof.text()]),
        Answer::token("token_not_bound"),
        Some(proof.decoded()),
    );
    g.single(
        Gen::meta(
            CAT,
            "unbound-as-bearer",
            "suite profile: this resource accepts DPoP only (accept_bearer false)",
            false,
            "A token without cnf sent with the Bearer scheme to a DPoP-only resource.",
        ),
        &resource,
        Request::new(vec![format!("Bearer {unbound}")], vec![]),
        Answer::token("bearer_not_accepted"),
        None,
    );
    let other = g.token("other-token").text();
    let proof = g.proof("ath-of-another-token", &fx.client, &other);
    g.single(
        Gen::meta(
            CAT,
            "ath-of-another-token",
            "RFC 9449 §4.3 step 12, §7.1",
            true,
            "The proof's ath is the hash of another token of the same client.",
        ),
        &resource,
        Request::new(vec![format!("DPoP {token}")], vec![proof.text()]),
        Answer::proof("ath_mismatch"),
        Some(proof.decoded()),
    );
    let proof = g
        .proof("proof-without-ath", &fx.client, &token)
        .claims(|c| c.without("ath"));
    g.single(
        Gen::meta(
            CAT,
            "proof-without-ath",
            "RFC 9449 §4.3 step 12, §7.1",
            true,
            "A proof without ath presented with the token.",
        ),
        &resource,
        Request::new(vec![format!("DPoP {token}")], vec![proof.text()]),
        Answer::proof("missing_ath"),
        Some(proof.decoded()),
    );
}

fn authorization(g: &mut Gen<'_>) {
    const CAT: &str = "authorization";
    const REQ: &str = "RFC 9449 §7.1, §7.2; RFC 6750 §3, §3.1";
    let fx = g.fx();
    let token = g.token("authorization").text();
    let proof = g.proof("authorization", &fx.client, &token).text();
    let resource = g.resource.clone();
    let cases: Vec<(&str, bool, &str, Vec<String>, Answer)> = vec![
        ("none", true, "No Authorization header: 401 with a challenge without error code.", vec![], Answer::Refused(401, None, "no_credentials")),
        ("basic-scheme", true, "Only a Basic credential, a scheme this resource does not use: 401 with a challenge without error code.", vec!["Basic dXNlcjpwYXNzd29yZA==".to_owned()], Answer::Refused(401, None, "no_credentials")),
        ("two-headers", true, "Two Authorization headers with the same DPoP credential.", vec![format!("DPoP {token}"), format!("DPoP {token}")], Answer::request("multiple_authorization")),
        ("dpop-and-bearer", true, "Two Authorization headers, DPoP and Bearer.", vec![format!("DPoP {token}"), format!("Bearer {token}")], Answer::request("multiple_authorization")),
        ("folded", true, "Two credentials folded into one field line.", vec![format!("DPoP {token}, Bearer {token}")], Answer::request("multiple_authorization")),
        ("scheme-only", true, "The DPoP scheme without a token.", vec!["DPoP".to_owned()], Answer::request("malformed_authorization")),
        ("two-tokens", true, "The DPoP scheme followed by two space-separated values.", vec![format!("DPoP {token} {token}")], Answer::request("malformed_authorization")),
        ("not-token68", true, "The token contains a character outside token68 ('\"').", vec![format!("DPoP {token}\"")], Answer::request("malformed_authorization")),
    ];
    for (name, normative, description, authz, answer) in cases {
        g.single(
            Gen::meta(CAT, name, REQ, normative, description),
            &resource,
            Request::new(authz, vec![proof.clone()]),
            answer,
            None,
        );
    }
}

fn proof(g: &mut Gen<'_>) {
    const CAT: &str = "proof";
    let fx = g.fx();
    let token = g.token("proof").text();
    let authz = vec![format!("DPoP {token}")];
    let resource = g.resource.clone();
    g.single(
        Gen::meta(
            CAT,
            "missing",
            "RFC 9449 §7.1 (a DPoP proof is required)",
            true,
            "The DPoP-scheme token without a DPoP header.",
        ),
        &resource,
        Request::new(authz.clone(), vec![]),
        Answer::proof("missing_proof"),
        None,
    );
    let a = g.proof("two-headers-a", &fx.client, &token).text();
    let b = g.proof("two-headers-b", &fx.client, &token).text();
    g.single(
        Gen::meta(
            CAT,
            "two-headers",
            "RFC 9449 §4.3 step 1; RFC 6750 §3.1 (invalid_request: a malformed request); suite profile: 400 invalid_request rather than 401 invalid_dpop_proof",
            false,
            "Two DPoP headers, each a valid proof.",
        ),
        &resource,
        Request::new(authz.clone(), vec![a, b]),
        Answer::request("multiple_proofs"),
        None,
    );
    let variants: Vec<(&str, &str, Proof<'_>, &str)> = vec![
        (
            "htm-mismatch",
            "The proof names POST for a GET request.",
            g.proof("htm-mismatch", &fx.client, &token)
                .claims(|c| c.str("htm", "POST")),
            "htm_mismatch",
        ),
        (
            "htu-mismatch",
            "The proof names another resource URL.",
            g.proof("htu-mismatch", &fx.client, &token)
                .claims(|c| c.str("htu", "https://api.example.com/admin")),
            "htu_mismatch",
        ),
        (
            "too-old",
            "The proof was made 120 seconds ago.",
            g.proof("too-old", &fx.client, &token)
                .claims(|c| c.num("iat", NOW - 120)),
            "iat_too_old",
        ),
        (
            "bad-signature",
            "The proof is signed by a key other than its jwk.",
            g.proof("bad-signature", &fx.client, &token)
                .signed_by(&fx.other),
            "invalid_signature",
        ),
        (
            "wrong-typ",
            "The proof's typ is JWT.",
            g.proof("wrong-typ", &fx.client, &token)
                .header(|h| h.str("typ", "JWT")),
            "wrong_typ",
        ),
    ];
    for (name, description, p, reason) in variants {
        g.single(
            Gen::meta(CAT, name, "RFC 9449 §4.3, §7.1", true, description),
            &resource,
            Request::new(authz.clone(), vec![p.text()]),
            Answer::proof(reason),
            Some(p.decoded()),
        );
    }
}

fn nonce(g: &mut Gen<'_>) {
    const CAT: &str = "nonce";
    const REQ: &str = "RFC 9449 §9 (resource server-provided nonce)";
    let fx = g.fx();
    let resource = Resource {
        nonce: Some(NONCE.to_owned()),
        ..g.resource.clone()
    };
    let token = g.token("nonce").text();
    let authz = vec![format!("DPoP {token}")];
    let missing = g.proof("nonce-missing", &fx.client, &token);
    g.single(Gen::meta(CAT, "missing", REQ, true, "The resource requires its nonce; the proof has none: 401 use_dpop_nonce with DPoP-Nonce."), &resource, Request::new(authz.clone(), vec![missing.text()]), Answer::Nonce("missing_nonce"), Some(missing.decoded()));
    let wrong = g
        .proof("nonce-wrong", &fx.client, &token)
        .claims(|c| c.str("nonce", "stale-nonce-value"));
    g.single(
        Gen::meta(CAT, "wrong", REQ, true, "The proof carries another nonce."),
        &resource,
        Request::new(authz.clone(), vec![wrong.text()]),
        Answer::Nonce("invalid_nonce"),
        Some(wrong.decoded()),
    );
    let right = g
        .proof("nonce-correct", &fx.client, &token)
        .claims(|c| c.str("nonce", NONCE));
    g.single(
        Gen::meta(
            CAT,
            "correct",
            REQ,
            true,
            "The proof carries the resource's nonce.",
        ),
        &resource,
        Request::new(authz.clone(), vec![right.text()]),
        authorized(fx),
        Some(right.decoded()),
    );
    let first = g.proof("nonce-retry-1", &fx.client, &token);
    let retry = g
        .proof("nonce-retry-2", &fx.client, &token)
        .claims(|c| c.str("nonce", NONCE));
    g.sequence(
        Gen::meta(CAT, "retry-with-nonce", "RFC 9449 §9, Figures 12–13", true, "The client's first request is refused with use_dpop_nonce and the nonce; it retries with a new proof carrying the nonce and is authorized."),
        &resource,
        vec![
            (Request::new(authz.clone(), vec![first.text()]), Answer::Nonce("missing_nonce")),
            (Request::new(authz, vec![retry.text()]), authorized(fx)),
        ],
    );
}

fn replay(g: &mut Gen<'_>) {
    const CAT: &str = "replay";
    const REQ: &str = "RFC 9449 §11.1";
    let fx = g.fx();
    let resource = g.resource.clone();
    let token = g.token("replay").text();
    let authz = vec![format!("DPoP {token}")];
    let p = g.proof("replay-1", &fx.client, &token).text();
    let fresh = g.proof("replay-2", &fx.client, &token).text();
    g.sequence(
        Gen::meta(CAT, "captured-request-replayed", REQ, true, "A captured request (token and proof) sent again is refused; the client's next request with a fresh proof is authorized."),
        &resource,
        vec![
            (Request::new(authz.clone(), vec![p.clone()]), authorized(fx)),
            (Request::new(authz.clone(), vec![p.clone()]).at(NOW + 10), Answer::proof("replayed")),
            (Request::new(authz.clone(), vec![fresh]).at(NOW + 10), authorized(fx)),
        ],
    );
    let thief = g.proof("replay-thief", &fx.thief, &token).text();
    let legit = g.proof("replay-legit", &fx.client, &token).text();
    g.sequence(
        Gen::meta(CAT, "thief-then-owner", REQ, true, "A thief's attempt with its own key fails on the binding; the owner's request is unaffected."),
        &resource,
        vec![
            (Request::new(authz.clone(), vec![thief]), Answer::token("key_binding_mismatch")),
            (Request::new(authz.clone(), vec![legit]), authorized(fx)),
        ],
    );
    let p = g.proof("replay-refused-first", &fx.client, &token).text();
    g.sequence(
        Gen::meta(CAT, "refused-request-does-not-consume-proof", "RFC 9449 §11.1; suite profile: a proof is recorded only when its request is authorized", false, "The proof's first use is refused (token sent as Bearer), so the proof is not recorded: with the DPoP scheme it is then accepted, and only then replayed."),
        &resource,
        vec![
            (Request::new(vec![format!("Bearer {token}")], vec![p.clone()]), Answer::token("bound_token_as_bearer")),
            (Request::new(authz.clone(), vec![p.clone()]), authorized(fx)),
            (Request::new(authz, vec![p]), Answer::proof("replayed")),
        ],
    );
}

impl Request {
    fn at(mut self, now: u64) -> Self {
        self.now = now;
        self
    }
}

impl<'a> Token<'a> {
    /// The same claims signed with `alg` by `key` under `kid` (the header names `alg`).
    fn signed_with(mut self, key: AnyKey<'a>, alg: Alg, kid: &str) -> Self {
        self.key = key;
        self.alg = alg;
        self.header = self.header.str("alg", alg.name()).str("kid", kid);
        self
    }

    /// The same token bound to the key with thumbprint `jkt`.
    fn bound_to(self, jkt: &str) -> Self {
        self.claims(|c| c.raw("cnf", format!("{{\"jkt\":{}}}", quote(jkt))))
    }
}

/// Tokens and proofs of the other algorithms, and a resource configured for fewer proof
/// algorithms.
fn algorithms(g: &mut Gen<'_>) {
    const CAT: &str = "algorithms";
    const OWN_ALG: &str = "RFC 7517 §4.4 (alg: the algorithm intended for the key); RFC 8725 §3.1 (each key used with exactly one algorithm); suite profile: a key is used only with the alg it declares";
    let fx = g.fx();
    let rs = AnyKey::Rsa(&fx.issuer_rs256);
    let ps = AnyKey::Rsa(&fx.issuer_ps256);
    let (rs_kid, ps_kid) = (jkt_any(rs), jkt_any(ps));
    let entry = |key: AnyKey<'_>, kid: &str, alg: Alg| {
        public_jwk(key)
            .str("kid", kid)
            .str("alg", alg.name())
            .str("use", "sig")
            .text()
    };
    let es = jwk_of(&fx.issuer)
        .str("kid", &kid(&fx.issuer))
        .str("alg", "ES256")
        .str("use", "sig")
        .text();
    let resource = Resource {
        jwks: format!(
            "{{\"keys\":[{es},{},{}]}}",
            entry(rs, &rs_kid, Alg::Rs256),
            entry(ps, &ps_kid, Alg::Ps256)
        ),
        nonce: None,
        proof_algs: None,
    };
    let client = jkt_of(&fx.client);
    let request = |g: &Gen<'_>, name: &str, token: &str| {
        let proof = g.proof(name, &fx.client, token);
        (
            Request::new(vec![format!("DPoP {token}")], vec![proof.text()]),
            proof.decoded(),
        )
    };
    let rs256 = g.token("rs256-token").signed_with(rs, Alg::Rs256, &rs_kid);
    let changed = {
        let text = rs256.text();
        let rest = text.split_once('.').expect("segments").1.to_owned();
        let header = rs256.header.clone().str("alg", "PS256");
        (format!("{}.{rest}", b64(header.text().as_bytes())), header)
    };
    let es256_rsa = {
        let t = g
            .token("es256-header-rsa-kid")
            .signed_with(rs, Alg::Rs256, &rs_kid);
        Token {
            header: t.header.clone().str("alg", "ES256"),
            ..t
        }
    };
    let tokens: Vec<(&str, &'static str, bool, &str, String, J, Answer)> = vec![
        (
            "rs256-token",
            "RFC 9068 §2.1 (RS256 MUST be supported), §4; RFC 7518 §3.3",
            true,
            "An access token signed with RS256 by the issuer's RSA key (JWK alg RS256), with an ES256 proof.",
            rs256.text(),
            rs256.decoded(),
            Answer::Authorized { jkt: client.clone() },
        ),
        (
            "ps256-token",
            "RFC 9068 §4; RFC 7518 §3.5",
            true,
            "An access token signed with PS256 by the issuer's second RSA key (JWK alg PS256), with an ES256 proof.",
            g.token("ps256-token").signed_with(ps, Alg::Ps256, &ps_kid).text(),
            g.token("ps256-token").signed_with(ps, Alg::Ps256, &ps_kid).decoded(),
            Answer::Authorized { jkt: client.clone() },
        ),
        (
            "rs256-token-header-changed-to-ps256",
            "RFC 8725 §3.1 (the key fixes the algorithm); RFC 7515 §5.2 (the header is signed)",
            true,
            "The RS256 token with its header's alg changed to PS256 after signing (payload and signature unchanged).",
            changed.0,
            Token { header: changed.1, ..rs256.clone() }.decoded(),
            Answer::token("alg_key_mismatch"),
        ),
        (
            "ps256-signature-by-rs256-key",
            OWN_ALG,
            false,
            "A token with alg PS256 and a valid PS256 signature by the RSA key whose JWK alg is RS256.",
            g.token("ps256-signature-by-rs256-key").signed_with(rs, Alg::Ps256, &rs_kid).text(),
            g.token("ps256-signature-by-rs256-key").signed_with(rs, Alg::Ps256, &rs_kid).decoded(),
            Answer::token("alg_key_mismatch"),
        ),
        (
            "es256-header-rsa-kid",
            "RFC 8725 §3.1 (the key fixes the algorithm); RFC 7518 §3.4 (ES256 needs a P-256 key)",
            true,
            "A token whose header says ES256 and names the RSA key, with a valid RS256 signature by that key.",
            es256_rsa.text(),
            es256_rsa.decoded(),
            Answer::token("alg_key_mismatch"),
        ),
    ];
    for (name, requirement, normative, description, token, decoded, answer) in tokens {
        let (req, _) = request(g, name, &token);
        g.single(
            Gen::meta(CAT, name, requirement, normative, description),
            &resource,
            req,
            answer,
            Some(decoded),
        );
    }

    // Proofs by the client's other keys, for tokens bound to them.
    let proofs: [(&str, AnyKey<'_>, Alg, &'static str); 2] = [
        (
            "rs256-proof",
            AnyKey::Rsa(&fx.client_rsa),
            Alg::Rs256,
            "RFC 9449 §4.3, §7.1; RFC 7518 §3.3",
        ),
        (
            "ed25519-proof",
            AnyKey::Ed25519(&fx.client_ed25519),
            Alg::Ed25519,
            "RFC 9449 §4.3, §7.1; RFC 9864 §2.2",
        ),
    ];
    for (name, key, alg, requirement) in proofs {
        let jkt = jkt_any(key);
        let token = g.token(name).bound_to(&jkt).text();
        let proof = g.proof_with(name, key, alg, &token);
        g.single(
            Gen::meta(CAT, name, requirement, true, &format!("An ES256 token bound to the client's {} key (cnf.jkt its RFC 7638 thumbprint), with a valid {} proof by it.", if alg == Alg::Rs256 { "RSA" } else { "Ed25519" }, alg.name())),
            &resource,
            Request::new(vec![format!("DPoP {token}")], vec![proof.text()]),
            Answer::Authorized { jkt },
            Some(proof.decoded()),
        );
    }

    // A resource that accepts ES256 and PS256 proofs only, and says so in its challenges.
    const NARROW: &[&str] = &["ES256", "PS256"];
    let narrow = Resource {
        proof_algs: Some(NARROW.to_vec()),
        ..resource.clone()
    };
    let ed = AnyKey::Ed25519(&fx.client_ed25519);
    let token = g
        .token("proof-alg-not-accepted")
        .bound_to(&jkt_any(ed))
        .text();
    let proof = g.proof_with("proof-alg-not-accepted", ed, Alg::Ed25519, &token);
    g.single_with_algs(
        Gen::meta(CAT, "proof-alg-not-accepted", "RFC 9449 §4.3 step 5 (acceptable per local policy: input.resource.proof.algs), §7.1 (algs)", true, "The resource accepts ES256 and PS256 proofs only; a valid Ed25519 proof is refused, and the challenge lists the two."),
        &narrow,
        Request::new(vec![format!("DPoP {token}")], vec![proof.text()]),
        Answer::proof("unsupported_alg"),
        NARROW,
        Some(proof.decoded()),
    );
    let rsa = AnyKey::Rsa(&fx.client_rsa);
    let token = g.token("proof-alg-accepted").bound_to(&jkt_any(rsa)).text();
    let proof = g.proof_with("proof-alg-accepted", rsa, Alg::Ps256, &token);
    g.single(
        Gen::meta(
            CAT,
            "proof-alg-accepted",
            "RFC 9449 §4.3 step 5, §7.1",
            true,
            "The same resource authorizes a valid PS256 proof.",
        ),
        &narrow,
        Request::new(vec![format!("DPoP {token}")], vec![proof.text()]),
        Answer::Authorized { jkt: jkt_any(rsa) },
        Some(proof.decoded()),
    );
    g.single_with_algs(
        Gen::meta(CAT, "challenge-lists-accepted-algs", "RFC 9449 §7.1 (algs: the JWS alg values accepted in proofs); RFC 6750 §3; suite profile: every DPoP challenge carries algs", false, "No Authorization header: 401 with a challenge without error code, whose algs lists exactly ES256 and PS256."),
        &narrow,
        Request::new(vec![], vec![]),
        Answer::Refused(401, None, "no_credentials"),
        NARROW,
        None,
    );

    // An issuer key above the resource's RSA size limit.
    let huge = AnyKey::Rsa(&fx.rsa_8192);
    let huge_kid = jkt_any(huge);
    let big = Resource {
        jwks: format!("{{\"keys\":[{es},{}]}}", entry(huge, &huge_kid, Alg::Rs256)),
        ..resource.clone()
    };
    let huge_token = g
        .token("issuer-key-too-large")
        .signed_with(huge, Alg::Rs256, &huge_kid);
    let token = huge_token.text();
    let (req, _) = request(g, "issuer-key-too-large", &token);
    g.single(
        Gen::meta(CAT, "issuer-key-too-large", "suite profile: issuer RSA keys of at most 4096 bits (verification cost grows with the key size)", false, "A valid RS256 token signed by an 8192-bit issuer key the JWKS publishes."),
        &big,
        req,
        Answer::token("issuer_key_too_large"),
        Some(huge_token.decoded()),
    );
}
