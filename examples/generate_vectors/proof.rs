//! Shared shapes of proof cases: the verifier, the request, the outcome, hand-made proofs.
//! Used by `proofs.json` and `htu.json`, whose cases run the same way.

use crate::keys::{Alg, AnyKey, Key};

use crate::case::Case;
use crate::fixtures::{Fixtures, LEEWAY, MAX_AGE, NOW};
use crate::jose::{ath, compact_with, public_jwk, Members};
use crate::json::{obj, J};

/// How the verifier of a case is configured.
#[derive(Clone)]
pub struct Verifier {
    pub max_age: u64,
    pub leeway: u64,
    /// The one nonce the server handed out and now requires, if any.
    pub nonce: Option<String>,
    /// The proof algorithms the verifier is configured to accept; `None`: the default (every
    /// algorithm the suite uses). Written only when set, so older cases are unchanged.
    pub algs: Option<Vec<&'static str>>,
}

impl Verifier {
    /// `iat` window 60 s old / 5 s leeway, no nonce.
    pub fn standard() -> Self {
        Self {
            max_age: MAX_AGE,
            leeway: LEEWAY,
            nonce: None,
            algs: None,
        }
    }

    pub fn with_nonce(nonce: &str) -> Self {
        Self {
            nonce: Some(nonce.to_owned()),
            ..Self::standard()
        }
    }

    pub fn window(max_age: u64, leeway: u64) -> Self {
        Self {
            max_age,
            leeway,
            ..Self::standard()
        }
    }

    /// The standard verifier accepting only `algs`.
    pub fn with_algs(algs: &[&'static str]) -> Self {
        Self {
            algs: Some(algs.to_vec()),
            ..Self::standard()
        }
    }

    pub fn json(&self) -> J {
        obj()
            .set("max_age_secs", self.max_age)
            .set("leeway_secs", self.leeway)
            .set("nonce", self.nonce.clone())
            .opt("algs", self.algs.clone())
            .done()
    }
}

/// One HTTP request as a proof verifier sees it.
#[derive(Clone)]
pub struct Req {
    pub method: String,
    pub url: String,
    /// Every `DPoP` header value, in order.
    pub dpop: Vec<String>,
    pub access_token: Option<String>,
    pub now: u64,
}

impl Req {
    pub fn new(method: &str, url: &str, dpop: Vec<String>) -> Self {
        Self {
            method: method.to_owned(),
            url: url.to_owned(),
            dpop,
            access_token: None,
            now: NOW,
        }
    }

    pub fn token(mut self, access_token: &str) -> Self {
        self.access_token = Some(access_token.to_owned());
        self
    }

    pub fn at(mut self, now: u64) -> Self {
        self.now = now;
        self
    }

    pub fn json(&self) -> J {
        obj()
            .set("method", self.method.as_str())
            .set("url", self.url.as_str())
            .set("dpop", self.dpop.clone())
            .set("access_token", self.access_token.clone())
            .set("now", self.now)
            .done()
    }
}

/// What the verifier must answer.
pub enum Outcome {
    /// Accepted; the proof key has this RFC 7638 thumbprint.
    Valid(String),
    /// `invalid_dpop_proof`; the reason (keybound's name for the failed check), `None` when the
    /// case does not pin which check fails.
    Invalid(Option<&'static str>),
    /// `use_dpop_nonce` with this reason; the answer carries the verifier's nonce.
    Nonce(&'static str),
}

impl Outcome {
    pub fn invalid(reason: &'static str) -> Self {
        Self::Invalid(Some(reason))
    }

    pub fn json(&self, verifier: &Verifier) -> J {
        let (valid, error, reason, jkt, nonce) = match self {
            Self::Valid(jkt) => (true, None, None, Some(jkt.clone()), None),
            Self::Invalid(reason) => (false, Some("invalid_dpop_proof"), *reason, None, None),
            Self::Nonce(reason) => (
                false,
                Some("use_dpop_nonce"),
                Some(*reason),
                None,
                verifier.nonce.clone(),
            ),
        };
        obj()
            .set("valid", valid)
            .set("error", error)
            .set("reason", reason)
            .set("jkt", jkt)
            .set("dpop_nonce", nonce)
            .done()
    }
}

/// A hand-made proof: header and claims as raw JSON members, signed by `key` with `alg`
/// (whatever the header says).
#[derive(Clone)]
pub struct Proof<'a> {
    pub key: AnyKey<'a>,
    pub alg: Alg,
    pub header: Members,
    pub claims: Members,
}

impl<'a> Proof<'a> {
    /// `{"typ":"dpop+jwt","alg":"ES256","jwk":…}` and `{"jti","htm","htu","iat"}`.
    pub fn new(key: &'a Key, jti: &str, method: &str, url: &str, iat: u64) -> Self {
        Self::with_key(AnyKey::P256(key), Alg::Es256, jti, method, url, iat)
    }

    /// `{"typ":"dpop+jwt","alg":<alg>,"jwk":<key>}` and `{"jti","htm","htu","iat"}`, signed
    /// with `alg` by `key`.
    pub fn with_key(
        key: AnyKey<'a>,
        alg: Alg,
        jti: &str,
        method: &str,
        url: &str,
        iat: u64,
    ) -> Self {
        Self {
            key,
            alg,
            header: Members::new()
                .str("typ", "dpop+jwt")
                .str("alg", alg.name())
                .raw("jwk", public_jwk(key).text()),
            claims: Members::new()
                .str("jti", jti)
                .str("htm", method)
                .str("htu", url)
                .num("iat", iat),
        }
    }

    pub fn header(mut self, f: impl FnOnce(Members) -> Members) -> Self {
        self.header = f(self.header);
        self
    }

    pub fn claims(mut self, f: impl FnOnce(Members) -> Members) -> Self {
        self.claims = f(self.claims);
        self
    }

    /// Adds `ath` for `access_token`.
    pub fn ath(self, access_token: &str) -> Self {
        self.claims(|c| c.str("ath", &ath(access_token)))
    }

    /// Signed with ES256 by the P-256 `key` instead.
    pub fn signed_by(self, key: &'a Key) -> Self {
        self.signed_with(AnyKey::P256(key), Alg::Es256)
    }

    /// Signed with `alg` by `key` instead (the header is unchanged).
    pub fn signed_with(mut self, key: AnyKey<'a>, alg: Alg) -> Self {
        self.key = key;
        self.alg = alg;
        self
    }

    /// The signature of this proof's key and algorithm over `message`.
    pub fn signature(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(self.alg, message)
    }

    /// The compact JWS.
    pub fn text(&self) -> String {
        compact_with(self.key, self.alg, &self.header.text(), &self.claims.text())
    }

    /// The decoded texts, for the informative `decoded` member.
    pub fn decoded(&self) -> J {
        obj()
            .set("header", self.header.text())
            .set("claims", self.claims.text())
            .done()
    }
}

/// Collects proof cases of one file.
pub struct Cases<'f> {
    pub fx: &'f Fixtures,
    file: &'static str,
    pub cases: Vec<Case>,
}

/// The metadata every case has.
pub struct Meta {
    pub category: &'static str,
    pub name: String,
    pub requirement: &'static str,
    pub normative: bool,
    pub description: String,
}

impl<'f> Cases<'f> {
    pub fn new(fx: &'f Fixtures, file: &'static str) -> Self {
        Self {
            fx,
            file,
            cases: Vec::new(),
        }
    }

    pub fn id(&self, category: &str, name: &str) -> String {
        format!("{}/{category}/{name}", self.file)
    }

    /// A `proof` case: one request against a fresh verifier.
    pub fn single(
        &mut self,
        meta: Meta,
        verifier: &Verifier,
        request: Req,
        outcome: Outcome,
        decoded: Option<J>,
    ) {
        let input = obj()
            .set("verifier", verifier.json())
            .set("request", request.json())
            .done();
        self.push(meta, "proof", input, outcome.json(verifier), decoded);
    }

    /// A `proof_sequence` case: requests in order against one verifier (one replay store).
    pub fn sequence(
        &mut self,
        meta: Meta,
        verifier: &Verifier,
        steps: Vec<(Req, Outcome)>,
        decoded: Option<J>,
    ) {
        let requests: Vec<J> = steps.iter().map(|(r, _)| r.json()).collect();
        let outcomes: Vec<J> = steps.iter().map(|(_, o)| o.json(verifier)).collect();
        let input = obj()
            .set("verifier", verifier.json())
            .set("steps", J::Arr(requests))
            .done();
        let expected = obj().set("steps", J::Arr(outcomes)).done();
        self.push(meta, "proof_sequence", input, expected, decoded);
    }

    /// Appends a case of any kind.
    pub fn push(
        &mut self,
        meta: Meta,
        kind: &'static str,
        input: J,
        expected: J,
        decoded: Option<J>,
    ) {
        self.cases.push(Case {
            id: self.id(meta.category, &meta.name),
            kind,
            category: meta.category,
            requirement: meta.requirement,
            normative: meta.normative,
            description: meta.description,
            input,
            expected,
            decoded,
        });
    }
}
