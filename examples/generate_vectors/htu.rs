//! `htu.json`: the `htu` normalisation table (RFC 9449 §4.3 step 9, RFC 3986 §6.2.2–6.2.3),
//! each pair exercised as a proof whose `htu` is `a`, verified for a request to `b`.

use crate::case::Case;
use crate::fixtures::{Fixtures, NOW};
use crate::jose::jkt_of;
use crate::json::{obj, J};
use crate::proof::{Cases, Meta, Outcome, Proof, Req, Verifier};

pub const DESCRIPTION: &str = "The htu rule: a proof's htu and the request URL are compared \
after RFC 3986 syntax-based (section 6.2.2) and scheme-based (section 6.2.3) normalisation, \
ignoring the request's query and fragment; an htu with a query or fragment part is invalid \
(RFC 9449 §4.2). Each pair (htu, url) is also a complete proof case: a GET of url \
with a proof whose htu is the given text; the proof is valid exactly when the two are equal.";

const NORMALISED: &str = "RFC 9449 §4.3 step 9; RFC 3986 §6.2.2, §6.2.3";

/// `(name, htu, url, rule)`: equal after normalisation.
const EQUAL: &[(&str, &str, &str, &str)] = &[
    (
        "identical",
        "https://server.example.com/token",
        "https://server.example.com/token",
        "identical text",
    ),
    (
        "scheme-case",
        "HTTPS://server.example.com/token",
        "https://server.example.com/token",
        "the scheme is case-insensitive (§6.2.2.1)",
    ),
    (
        "host-case",
        "https://Server.Example.COM/token",
        "https://server.example.com/token",
        "the host is case-insensitive (§6.2.2.1)",
    ),
    (
        "default-port-https",
        "https://server.example.com:443/token",
        "https://server.example.com/token",
        "port 443 is https's default (§6.2.3)",
    ),
    (
        "default-port-http",
        "http://server.example.com:80/token",
        "http://server.example.com/token",
        "port 80 is http's default (§6.2.3)",
    ),
    (
        "empty-port",
        "https://server.example.com:/token",
        "https://server.example.com/token",
        "an empty port is the default port (§6.2.3)",
    ),
    (
        "empty-path",
        "https://server.example.com",
        "https://server.example.com/",
        "an empty path is / for http(s) (§6.2.3)",
    ),
    (
        "empty-path-with-port",
        "https://server.example.com:443",
        "https://server.example.com/",
        "default port and empty path together",
    ),
    (
        "percent-hex-case",
        "https://server.example.com/a%2fb",
        "https://server.example.com/a%2Fb",
        "percent-encoding hex digits are case-insensitive (§6.2.2.1)",
    ),
    (
        "percent-hex-case-reserved",
        "https://server.example.com/x%3a",
        "https://server.example.com/x%3A",
        "the same for an encoded ':'",
    ),
    (
        "decode-unreserved-tilde",
        "https://server.example.com/%7Euser",
        "https://server.example.com/~user",
        "an encoded unreserved character is the character (§6.2.2.2)",
    ),
    (
        "decode-unreserved-tilde-lowercase",
        "https://server.example.com/%7euser",
        "https://server.example.com/~user",
        "the same with lower-case hex",
    ),
    (
        "decode-unreserved-letter",
        "https://server.example.com/%41pi",
        "https://server.example.com/Api",
        "%41 is the letter A (§6.2.2.2)",
    ),
    (
        "decode-unreserved-in-host",
        "https://%73erver.example.com/token",
        "https://server.example.com/token",
        "%73 in the host is the letter s",
    ),
    (
        "dot-segments",
        "https://server.example.com/a/./b/../c",
        "https://server.example.com/a/c",
        "dot segments are removed (§6.2.2.3, §5.2.4)",
    ),
    (
        "dot-segments-trailing",
        "https://server.example.com/a/b/..",
        "https://server.example.com/a/",
        "a final .. leaves a trailing slash (§5.2.4)",
    ),
    (
        "dot-segments-above-root",
        "https://server.example.com/../../token",
        "https://server.example.com/token",
        ".. above the root is dropped (§5.2.4)",
    ),
    (
        "encoded-dot-segments",
        "https://server.example.com/a/%2E%2E/token",
        "https://server.example.com/token",
        "%2E%2E decodes to .., then is removed (§6.2.2.2, §6.2.2.3)",
    ),
    (
        "url-query-ignored",
        "https://server.example.com/token",
        "https://server.example.com/token?page=2&q=a",
        "the request's query is ignored",
    ),
    (
        "ipv6-default-port",
        "https://[2001:db8::1]:443/token",
        "https://[2001:db8::1]/token",
        "IPv6 literal with the default port",
    ),
    (
        "ipv6-case",
        "https://[2001:DB8::1]/token",
        "https://[2001:db8::1]/token",
        "IPv6 literal hex digits are case-insensitive",
    ),
    (
        "combined",
        "HTTPS://Server.EXAMPLE.com:443/a/../%7Etoken",
        "https://server.example.com/~token?x",
        "scheme, host, port, dot segments, unreserved decoding and the request's query together",
    ),
];

/// `(name, htu, url, rule)`: different after normalisation.
const UNEQUAL: &[(&str, &str, &str, &str)] = &[
    ("trailing-slash", "https://server.example.com/token/", "https://server.example.com/token", "a trailing slash is significant"),
    ("trailing-dot-segment", "https://server.example.com/token/.", "https://server.example.com/token", "/token/. normalises to /token/, not /token"),
    ("empty-segment", "https://server.example.com/a//token", "https://server.example.com/a/token", "an empty path segment is significant"),
    ("encoded-slash", "https://server.example.com/a%2Ftoken", "https://server.example.com/a/token", "%2F is not a path separator (reserved, never decoded)"),
    ("path-case", "https://server.example.com/Token", "https://server.example.com/token", "the path is case-sensitive"),
    ("scheme", "http://server.example.com/token", "https://server.example.com/token", "http and https differ"),
    ("non-default-port", "https://server.example.com:8443/token", "https://server.example.com/token", "a non-default port is significant"),
    ("http-port-on-https", "https://server.example.com:80/token", "https://server.example.com/token", "80 is not https's default port"),
    ("https-port-on-http", "http://server.example.com:443/token", "https://server.example.com/token", "http on 443 is not https"),
    ("other-host", "https://other.example.com/token", "https://server.example.com/token", "another host"),
    ("host-suffix", "https://server.example.com.evil.example/token", "https://server.example.com/token", "a host with the expected host as prefix"),
    ("host-trailing-dot", "https://server.example.com./token", "https://server.example.com/token", "a fully qualified host with a trailing dot is a different name (no DNS-based normalisation)"),
    ("encoded-letter-case", "https://server.example.com/%41", "https://server.example.com/%61", "%41 is A and %61 is a: different letters"),
    ("space-vs-plus", "https://server.example.com/a%20b", "https://server.example.com/a+b", "%20 (space) is not +"),
    ("encoded-reserved-vs-literal", "https://server.example.com/a%3Ab", "https://server.example.com/a:b", "an encoded reserved character is not the character"),
    ("prefix-path", "https://server.example.com/token", "https://server.example.com/tokens", "a path that is a prefix of another"),
];

const NOT_A_URI: &str = "RFC 9449 §4.2 (htu: the HTTP URI of the request); RFC 3986 §3, §4.3";
const NO_QUERY: &str = "RFC 9449 §4.2 (htu: the HTTP target URI without query and fragment parts)";
const HTTP_URI: &str = "RFC 9110 §4.2.1, §4.2.4 (http(s) URIs: non-empty host, no userinfo)";

/// `(name, htu, normative, requirement, rule)`: not an absolute http(s) URI, so the proof is
/// invalid.
const INVALID: &[(&str, &str, bool, &str, &str)] = &[
    ("relative", "/token", true, NOT_A_URI, "a relative reference"),
    ("no-scheme", "server.example.com/token", true, NOT_A_URI, "no scheme"),
    ("other-scheme", "ftp://server.example.com/token", true, NOT_A_URI, "not http or https"),
    ("userinfo", "https://user@server.example.com/token", true, HTTP_URI, "user information in the authority (deprecated for http(s); recipients should treat it as an error)"),
    ("single-slash", "https:/server.example.com/token", true, HTTP_URI, "no authority"),
    ("empty-host", "https:///token", true, HTTP_URI, "an empty host"),
    ("port-out-of-range", "https://server.example.com:99999/token", false, "suite profile: a port must be at most 65535 (RFC 3986 allows any digits)", "port above 65535"),
    ("bad-percent", "https://server.example.com/%zz", true, NOT_A_URI, "a malformed percent-encoding"),
    ("truncated-percent", "https://server.example.com/%4", true, NOT_A_URI, "a truncated percent-encoding"),
    ("space", "https://server.example.com/a b", true, NOT_A_URI, "a space (not a URI character)"),
    ("non-ascii", "https://server.example.com/caf\u{e9}", true, NOT_A_URI, "a non-ASCII character (an IRI, not a URI)"),
    ("empty", "", true, NOT_A_URI, "the empty string"),
    ("query", "https://server.example.com/token?x=1", true, NO_QUERY, "a query part"),
    ("empty-query", "https://server.example.com/token?", true, NO_QUERY, "an empty query part"),
    ("fragment", "https://server.example.com/token#top", true, NO_QUERY, "a fragment part"),
    ("empty-fragment", "https://server.example.com/token#", true, NO_QUERY, "an empty fragment part"),
    ("query-and-fragment", "https://server.example.com/token?x=1#f", true, NO_QUERY, "a query and a fragment"),
];

/// One row of the table and what it must give.
struct Row<'a> {
    category: &'static str,
    requirement: &'static str,
    normative: bool,
    name: &'a str,
    htu: &'a str,
    url: &'a str,
    equal: bool,
    outcome: Outcome,
    description: String,
}

fn run(c: &mut Cases<'_>, row: Row<'_>) {
    let fx = c.fx;
    let id = c.id(row.category, row.name);
    let proof = Proof::new(&fx.client, &fx.jti(&id, 0), "GET", row.url, NOW)
        .claims(|m| m.str("htu", row.htu));
    let verifier = Verifier::standard();
    let request = Req::new("GET", row.url, vec![proof.text()]);
    let input = obj()
        .set("htu", row.htu)
        .set("url", row.url)
        .set("verifier", verifier.json())
        .set("request", request.json())
        .done();
    let mut expected = vec![("equal".to_owned(), J::Bool(row.equal))];
    if let J::Obj(members) = row.outcome.json(&verifier) {
        expected.extend(members);
    }
    c.push(
        Meta {
            category: row.category,
            name: row.name.to_owned(),
            requirement: row.requirement,
            normative: row.normative,
            description: row.description,
        },
        "htu",
        input,
        J::Obj(expected),
        Some(proof.decoded()),
    );
}

pub fn cases(fx: &Fixtures) -> Vec<Case> {
    let mut c = Cases::new(fx, "htu");
    let jkt = jkt_of(&fx.client);
    for (name, htu, url, rule) in EQUAL {
        let row = Row {
            category: "equal",
            requirement: NORMALISED,
            normative: true,
            name,
            htu,
            url,
            equal: true,
            outcome: Outcome::Valid(jkt.clone()),
            description: format!("Equal: {rule}."),
        };
        run(&mut c, row);
    }
    for (name, htu, url, rule) in UNEQUAL {
        let row = Row {
            category: "unequal",
            requirement: NORMALISED,
            normative: true,
            name,
            htu,
            url,
            equal: false,
            outcome: Outcome::invalid("htu_mismatch"),
            description: format!("Different: {rule}."),
        };
        run(&mut c, row);
    }
    for (name, htu, normative, requirement, rule) in INVALID {
        let row = Row {
            category: "invalid",
            requirement,
            normative: *normative,
            name,
            htu,
            url: "https://server.example.com/token",
            equal: false,
            outcome: Outcome::invalid("invalid_claim"),
            description: format!(
                "The htu is not an absolute http(s) URI without query and fragment: {rule}."
            ),
        };
        run(&mut c, row);
    }
    c.cases
}
